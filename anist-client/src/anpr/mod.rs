//! The ANPR E002 e-services over PDND (reference §1.1–§1.2): C030 (codice
//! fiscale → ID ANPR), C015 (accertamento generalità, the C001/C029
//! consultation shape), C020 (residenza) and C021 (stato di famiglia), each
//! `POST <url>/anpr-service-e002` with Bearer + INTEGRITY_REST_02 +
//! AUDIT_REST_02 (the session's service profile; the audience is the
//! e-service's without `-PDND`, set as `audience` in the configuration).
//!
//! - [`codec`]: one codec per e-service, over the wire types of
//!   [`anist_core::anpr::e002`];
//! - [`OperationIds`]: `idOperazioneClient` digits-only, strictly
//!   increasing and persisted across runs and processes (SQLite, 0600);
//! - [`AnprClient`]: the default flow by codice fiscale (C030 → ID ANPR →
//!   the service by ID ANPR), every call audited when an audit trail is
//!   given, warnings (e.g. `EN148`) returned to the caller.
//!
//! "Not found" is an outcome ([`Esito::NonTrovato`]), never an error;
//! several subjects (omocodia) are all returned.
//!
//! The massive e-services (submit, poll, download) are in [`massive`]; the
//! resumable job over a CSV in [`crate::bulk::anpr_massiva`]. The Comune's
//! SOAP 3002 channel (search by document, not PDND) is in [`soap`].

use anist_core::anpr::e002::{CasoUso, ErroreAnomalia};
use anist_core::anpr::esito::{E002Error, Esito};
use anist_core::anpr::IdAnpr;
use anist_core::cf::CodiceFiscale;
use anist_core::{CodeSamples, ErrorCode, ErrorKind};

use crate::call::CallError;

mod client;
pub mod codec;
mod ids;
pub mod massive;
pub mod soap;

pub use client::AnprClient;
pub use ids::OperationIds;

/// Session service name of C030 (accertamento id unico nazionale).
pub const C030: &str = "anpr-c030";
/// Session service name of C015 (accertamento generalità).
pub const C015: &str = "anpr-c015";
/// Session service name of C020 (accertamento residenza).
pub const C020: &str = "anpr-c020";
/// Session service name of C021 (accertamento stato di famiglia).
pub const C021: &str = "anpr-c021";

/// What to ask ANPR about a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Servizio {
    /// Only the ID ANPR (C030; by codice fiscale).
    IdAnpr,
    /// The generalità (C015).
    Generalita,
    /// The residence (C020).
    Residenza,
    /// The family (C021): one subject per member.
    Famiglia,
}

impl Servizio {
    /// The session service name of its e-service.
    pub fn session_name(self) -> &'static str {
        match self {
            Servizio::IdAnpr => C030,
            Servizio::Generalita => C015,
            Servizio::Residenza => C020,
            Servizio::Famiglia => C021,
        }
    }

    /// Its `casoUso`.
    pub fn caso_uso(self) -> CasoUso {
        match self {
            Servizio::IdAnpr => CasoUso::C030,
            Servizio::Generalita => CasoUso::C015,
            Servizio::Residenza => CasoUso::C020,
            Servizio::Famiglia => CasoUso::C021,
        }
    }

    /// The stable name (`id-anpr`, `generalita`, `residenza`, `famiglia`).
    pub fn as_str(self) -> &'static str {
        match self {
            Servizio::IdAnpr => "id-anpr",
            Servizio::Generalita => "generalita",
            Servizio::Residenza => "residenza",
            Servizio::Famiglia => "famiglia",
        }
    }
}

/// Whom a lookup is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Soggetto {
    /// By codice fiscale: C030 first, then the service by ID ANPR.
    CodiceFiscale(CodiceFiscale),
    /// By ID ANPR: the service directly.
    IdAnpr(IdAnpr),
}

/// One lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Richiesta {
    /// Whom.
    pub soggetto: Soggetto,
    /// What.
    pub servizio: Servizio,
    /// `motivoRichiesta`: the reference of the file (mandatory).
    pub motivo: String,
    /// `dataRiferimentoRichiesta`; today when `None`.
    pub data: Option<chrono::NaiveDate>,
}

/// The answer to a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Risposta {
    /// What ANPR answered (subjects, or not found).
    pub esito: Esito,
    /// The ID ANPR(s) the service was asked with (from C030 when by
    /// codice fiscale).
    pub id_anpr: Vec<IdAnpr>,
    /// Every warning of every call (C030's `EN148` included), deduplicated.
    pub avvisi: Vec<ErroreAnomalia>,
}

impl Risposta {
    /// The answer as JSON, in full (for programs: the Python and C
    /// bindings; the CLI masks it unless asked): `esito` (`trovato` /
    /// `non_trovato`), `servizio`, `id_anpr`, `avvisi` (`codice`, `tipo`,
    /// `testo`), `soggetti` (ANPR's own blocks and field names, plus
    /// `deceduto`).
    pub fn to_json(&self, servizio: Servizio) -> serde_json::Value {
        use serde_json::{json, Value};
        let soggetti: Vec<Value> = self
            .esito
            .soggetti()
            .iter()
            .map(|s| {
                let mut v = serde_json::to_value(&s.dati).unwrap_or(Value::Null);
                if let Value::Object(map) = &mut v {
                    map.insert("deceduto".into(), Value::Bool(s.deceduto()));
                }
                v
            })
            .collect();
        json!({
            "esito": match self.esito {
                Esito::Trovato { .. } => "trovato",
                Esito::NonTrovato { .. } => "non_trovato",
            },
            "servizio": servizio.as_str(),
            "id_anpr": self.id_anpr.iter().map(IdAnpr::as_str).collect::<Vec<_>>(),
            "avvisi": self
                .avvisi
                .iter()
                .map(|a| json!({"codice": a.codice(), "tipo": a.tipo_errore_anomalia, "testo": a.testo()}))
                .collect::<Vec<_>>(),
            "soggetti": soggetti,
        })
    }
}

/// Why an ANPR lookup got no answer. Every variant has a stable
/// [`ErrorCode::code`]; messages carry no codice fiscale.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnprClientError {
    /// The call failed (see [`CallError`]).
    #[error(transparent)]
    Call(#[from] CallError),
    /// ANPR's answer is an error, or the request is invalid (see [`E002Error`]).
    #[error(transparent)]
    Anpr(#[from] E002Error),
    /// The store of the operation ids cannot be used.
    #[error("the store of the ANPR operation ids cannot be used ({reason}): check that its folder is writable and the file is not damaged")]
    OperationIds {
        /// What happened.
        reason: String,
    },
    /// The audit trail refused the row: the lookup is not reported done.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
}

impl ErrorCode for AnprClientError {
    fn code(&self) -> &'static str {
        match self {
            AnprClientError::Call(e) => e.code(),
            AnprClientError::Anpr(e) => e.code(),
            AnprClientError::OperationIds { .. } => "anpr_operation_ids",
            AnprClientError::Audit(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            AnprClientError::Call(e) => e.kind(),
            AnprClientError::Anpr(e) => e.kind(),
            AnprClientError::OperationIds { .. } => ErrorKind::Local,
            AnprClientError::Audit(e) => e.kind(),
        }
    }

    fn request_sent(&self) -> Option<anist_core::Sent> {
        match self {
            AnprClientError::Call(e) => e.request_sent(),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            AnprClientError::Call(e) => ErrorCode::retry_after(e),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for AnprClientError {
    fn samples() -> Vec<Self> {
        let mut v: Vec<AnprClientError> = CallError::samples()
            .into_iter()
            .map(AnprClientError::Call)
            .collect();
        // E002Error's own samples are in anist-core.
        v.push(AnprClientError::Anpr(E002Error::MotivoMissing));
        v.push(AnprClientError::OperationIds {
            reason: "permission denied".into(),
        });
        v.extend(
            crate::audit::AuditError::samples()
                .into_iter()
                .map(AnprClientError::Audit),
        );
        v
    }
}
