//! The eight INPS ISEE e-services over SOAP 1.1 (protocol reference §7,
//! U11–U15; INPS message 3269/2025): Indicatore / Attestazione in the
//! Operatori, Residenti and plain flavours, Indicatore Riscontro and
//! Indicatore Nucleo Riscontro, and the legacy v1 endpoint.
//!
//! Callers use the [`IseeLookup`] trait with an [`IseeQuery`]; the answer
//! is an [`IseeAnswer`]: the record (parsed by `anist_core::isee`) or "no
//! ISEE" (`DATI_NON_TROVATI`, not an error). Refusals, INPS outages,
//! gateway faults and quota are typed [`IseeError`]s, never "no ISEE".
//!
//! Eligibility (who may use which service, `anist_core::isee::eligibility`)
//! is checked before anything is sent.
//!
//! The real client is [`client::IseeClient`], over a
//! [`crate::session::Session`] whose e-services are named by
//! [`session_name`] (and [`LEGACY_V1`]); [`soap`] writes and reads the
//! envelopes. On the wire (protocol reference §7, U11–U15):
//!
//! - `POST <service url>/<Operation>` (the legacy v1 endpoint: its URL,
//!   the operation chosen by `SOAPAction`), `Content-Type: text/xml;
//!   charset=utf-8`, `SOAPAction: "<ns>/ISvcConsultazione/<Operation>"`,
//!   `Authorization: Bearer <voucher>`, `INPS-Identity-UserId` and
//!   `INPS-Identity-CodiceUfficio` (also in the `inps:Identity` SOAP
//!   header). Operation name and `SOAPAction` are configurable per service
//!   (`operation`, `soap_action`). Configure the INPS services with
//!   `integrity = false` (plain Bearer, no `Agid-JWT-Signature`).
//! - Operatori (assumption U13): the operator's codice fiscale replaces
//!   the ente's as `UserId`; an `Agid-JWT-TrackingEvidence` with `userID`
//!   the operator and `LoA` `LoA3`/`LoA4` ([`Loa`]: SPID level 2 or 3, CIE;
//!   only these services need an operator); the raw SPID/CIE
//!   assertion through a pluggable [`client::AssertionCarrier`] (default:
//!   base64 in the HTTP header `INPS-Identity-Assertion`, a placeholder to
//!   confirm with the e-service's technical attachment).
//! - `Esito`: `OK` → [`IseeAnswer::Found`]; `DATI_NON_TROVATI` →
//!   [`IseeAnswer::NoIsee`]; `RICHIESTA_INVALIDA`, `RISCONTRO_NON_VALIDO`
//!   → [`IseeError::Refused`]; `DATABASE_OFFLINE`, `ERRORE_INTERNO` →
//!   asked again ([`crate::transport::Backoff::inps_outage`]), then
//!   [`IseeError::Unavailable`]. SOAP faults become [`CallError`]s with
//!   GovWay's `govway_id` and title; a bare 429 is a quota.
//! - mTLS: only the plain services (d) want the INPS client certificate
//!   ([`mtls_by_default`]; `mtls_cert` / `mtls_key` of the service):
//!   Residenti and Riscontro go without, Operatori use the operator's
//!   SPID/CIE assertion.
//!
//! ```no_run
//! use std::sync::Arc;
//! use anist_client::isee::client::{IseeClient, IseeEnte};
//! use anist_client::isee::{IseeAnswer, IseeLookup, IseeQuery};
//! use anist_client::session::Session;
//! use anist_core::cf::AnyCodiceFiscale;
//! use anist_core::isee::{IpaCategory, IseeService};
//!
//! # async fn run(session: Arc<Session>) -> Result<(), Box<dyn std::error::Error>> {
//! // A Comune asks the Indicatore Residenti service.
//! let isee = IseeClient::new(session, IseeEnte::new(IpaCategory::Comune, "00000010008"));
//! let cf = AnyCodiceFiscale::parse("RSSMRA80A01H501U")?;
//! match isee.indicatore(IseeService::IndicatoreResidenti, &IseeQuery::by_cf(cf)).await {
//!     Ok(IseeAnswer::Found { record, id_richiesta }) => {
//!         let _euro = record.isee();
//!         let _quote_to_inps = id_richiesta;
//!     }
//!     Ok(IseeAnswer::NoIsee { .. }) => { /* INPS has no ISEE for them */ }
//!     Err(e) if e.is_quota_exceeded() => { /* try again tomorrow */ }
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;

use anist_core::cf::AnyCodiceFiscale;
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{
    Attestazione, Esito, Indicatore, IseeKind, IseeService, IseeXmlError, NotEligible,
    PrestazioneDaErogare, StatoDomanda,
};
use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use chrono::NaiveDate;

use crate::call::CallError;

pub mod client;
pub mod soap;

pub use client::{
    AssertionCarrier, HttpHeaderCarrier, IseeClient, IseeEnte, Loa, NoCarrier, OperatorIdentity,
    SecretAssertion, SoapHeaderCarrier,
};

/// The namespace of the SOAP messages (`con:` in the reference).
pub const NAMESPACE: &str = "http://inps.it/ConsultazioneISEE";
/// The `SOAPAction` of operation `Op` is this prefix followed by `Op`
/// (quoted on the wire).
pub const SOAP_ACTION_PREFIX: &str = "http://inps.it/ConsultazioneISEE/ISvcConsultazione/";
/// The namespace of the `Identity` SOAP header element.
pub const IDENTITY_NAMESPACE: &str = "http://inps.it/";
/// The default `CodiceUfficio` of the `Identity` header.
pub const DEFAULT_CODICE_UFFICIO: &str = "001";
/// The session service name of the legacy v1 endpoint ("Consultazione
/// ISEE - v1"): one URL for both operations, chosen by `SOAPAction`.
pub const LEGACY_V1: &str = "isee-v1";

/// The session service name of `service`: `isee-` followed by
/// [`IseeService::as_str`] with `-` for `_` (e.g.
/// `isee-indicatore-residenti`).
pub fn session_name(service: IseeService) -> &'static str {
    match service {
        IseeService::IndicatoreOperatori => "isee-indicatore-operatori",
        IseeService::AttestazioneOperatori => "isee-attestazione-operatori",
        IseeService::IndicatoreResidenti => "isee-indicatore-residenti",
        IseeService::AttestazioneResidenti => "isee-attestazione-residenti",
        IseeService::IndicatoreRiscontro => "isee-indicatore-riscontro",
        IseeService::IndicatoreNucleoRiscontro => "isee-indicatore-nucleo-riscontro",
        IseeService::Indicatore => "isee-indicatore",
        IseeService::Attestazione => "isee-attestazione",
    }
}

/// Whether INPS wants its client certificate (mTLS) on `service` (INPS
/// message 3269/2025): only the plain services (d), Consultazione
/// Indicatore ISEE / Attestazione ISEE (and the legacy v1 endpoint, the
/// same services). Residenti (b) and Riscontro (c) go "senza necessità di
/// possedere il certificato digitale di autenticazione client"; the
/// Operatori services (a) authenticate the operator with their SPID/CIE
/// assertion instead. A certificate configured on another service is still
/// presented (`mtls_cert` / `mtls_key` of the service).
pub fn mtls_by_default(service: IseeService) -> bool {
    matches!(service, IseeService::Indicatore | IseeService::Attestazione)
}

/// How the ISEE is looked up (the `request` choice of the SOAP message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Search {
    /// `RicercaCF`: by the person's codice fiscale, on a date (`None`: the
    /// date of the call).
    CodiceFiscale {
        /// The person.
        codice_fiscale: AnyCodiceFiscale,
        /// `DataValidita`.
        data_validita: Option<NaiveDate>,
    },
    /// `RicercaProtDSU`: by DSU protocol and beneficiary (the Riscontro
    /// services; a mismatch is `RISCONTRO_NON_VALIDO`).
    ProtocolloDsu {
        /// `ProtocolloDSU`.
        protocollo_dsu: DsuProtocol,
        /// `CodiceFiscaleBeneficiario`.
        beneficiario: AnyCodiceFiscale,
    },
    /// `RicercaProtMittente`: by the sender's (CAF's) protocol and
    /// beneficiary.
    ProtocolloMittente {
        /// `ProtocolloMittente`.
        protocollo_mittente: String,
        /// `CodiceFiscaleBeneficiario`.
        beneficiario: AnyCodiceFiscale,
    },
}

/// The ente's application the ISEE is asked for (the optional business
/// fields of every search).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Domanda {
    /// `PrestazioneDaErogare`.
    pub prestazione: Option<PrestazioneDaErogare>,
    /// `ProtocolloDomandaEnteErogatore` (at most 256 characters).
    pub protocollo_domanda: Option<String>,
    /// `StatodomandaPrestazione`.
    pub stato: Option<StatoDomanda>,
}

/// One ISEE question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IseeQuery {
    /// `TipoIndicatore` of the Indicatore services (default ordinario).
    pub kind: IseeKind,
    /// How the ISEE is looked up.
    pub search: Search,
    /// The application it is asked for.
    pub domanda: Domanda,
}

impl IseeQuery {
    /// By codice fiscale, on the date of the call, ISEE ordinario.
    pub fn by_cf(codice_fiscale: AnyCodiceFiscale) -> Self {
        Self::new(Search::CodiceFiscale {
            codice_fiscale,
            data_validita: None,
        })
    }

    /// By DSU protocol and beneficiary (Riscontro).
    pub fn by_dsu(protocollo_dsu: DsuProtocol, beneficiario: AnyCodiceFiscale) -> Self {
        Self::new(Search::ProtocolloDsu {
            protocollo_dsu,
            beneficiario,
        })
    }

    /// By the sender's protocol and beneficiary.
    pub fn by_mittente(protocollo_mittente: &str, beneficiario: AnyCodiceFiscale) -> Self {
        Self::new(Search::ProtocolloMittente {
            protocollo_mittente: protocollo_mittente.to_string(),
            beneficiario,
        })
    }

    fn new(search: Search) -> Self {
        Self {
            kind: IseeKind::Ordinario,
            search,
            domanda: Domanda::default(),
        }
    }

    /// The ISEE valid on `date` (`DataValidita`; only for searches by
    /// codice fiscale, ignored otherwise).
    #[must_use]
    pub fn valid_on(mut self, date: NaiveDate) -> Self {
        if let Search::CodiceFiscale { data_validita, .. } = &mut self.search {
            *data_validita = Some(date);
        }
        self
    }

    /// The kind of indicator asked of the Indicatore services.
    #[must_use]
    pub fn kind(mut self, kind: IseeKind) -> Self {
        self.kind = kind;
        self
    }

    /// The benefit to be granted.
    #[must_use]
    pub fn prestazione(mut self, prestazione: PrestazioneDaErogare) -> Self {
        self.domanda.prestazione = Some(prestazione);
        self
    }

    /// The ente's own application number.
    #[must_use]
    pub fn protocollo_domanda(mut self, protocollo: &str) -> Self {
        self.domanda.protocollo_domanda = Some(protocollo.to_string());
        self
    }

    /// The state of the application.
    #[must_use]
    pub fn stato(mut self, stato: StatoDomanda) -> Self {
        self.domanda.stato = Some(stato);
        self
    }

    /// The person the question is about (the codice fiscale or the
    /// beneficiary).
    pub fn person(&self) -> &AnyCodiceFiscale {
        match &self.search {
            Search::CodiceFiscale { codice_fiscale, .. } => codice_fiscale,
            Search::ProtocolloDsu { beneficiario, .. }
            | Search::ProtocolloMittente { beneficiario, .. } => beneficiario,
        }
    }
}

/// What INPS answered to one question.
#[derive(Clone, PartialEq, Eq)]
pub enum IseeAnswer<T> {
    /// `Esito` `OK`: the record.
    Found {
        /// The record.
        record: T,
        /// `IdRichiesta`, INPS's id of the request (quote it to INPS).
        id_richiesta: Option<String>,
    },
    /// `DATI_NON_TROVATI`: INPS has no ISEE for the question (an answer, not
    /// an error).
    NoIsee {
        /// `IdRichiesta`.
        id_richiesta: Option<String>,
        /// `DescrizioneErrore`, if given.
        description: Option<String>,
    },
}

impl<T> fmt::Debug for IseeAnswer<T>
where
    T: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IseeAnswer::Found {
                record,
                id_richiesta,
            } => f
                .debug_struct("Found")
                .field("record", record)
                .field("id_richiesta", id_richiesta)
                .finish(),
            IseeAnswer::NoIsee {
                id_richiesta,
                description,
            } => f
                .debug_struct("NoIsee")
                .field("id_richiesta", id_richiesta)
                .field("description", description)
                .finish(),
        }
    }
}

impl<T> IseeAnswer<T> {
    /// The record, if found.
    pub fn record(&self) -> Option<&T> {
        match self {
            IseeAnswer::Found { record, .. } => Some(record),
            IseeAnswer::NoIsee { .. } => None,
        }
    }

    /// `IdRichiesta`, if given.
    pub fn id_richiesta(&self) -> Option<&str> {
        match self {
            IseeAnswer::Found { id_richiesta, .. } | IseeAnswer::NoIsee { id_richiesta, .. } => {
                id_richiesta.as_deref()
            }
        }
    }
}

/// Why an ISEE question got no answer. Every variant has a stable
/// [`ErrorCode::code`]; messages carry no codice fiscale.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IseeError {
    /// The ente's IPA category may not use the service (checked locally,
    /// nothing sent): the message names the rule and what to use instead.
    #[error(transparent)]
    NotEligible(#[from] NotEligible),
    /// The question cannot be sent as is (nothing sent).
    #[error("the ISEE request is not valid: {reason}")]
    InvalidRequest {
        /// What to fix.
        reason: String,
    },
    /// INPS refused the question: `RICHIESTA_INVALIDA` or
    /// `RISCONTRO_NON_VALIDO` (the DSU protocol does not match the person).
    #[error("INPS refused the ISEE request ({esito}): {}", .description.as_deref().unwrap_or("no description given"))]
    Refused {
        /// The `Esito`.
        esito: Esito,
        /// `DescrizioneErrore`, as INPS wrote it.
        description: Option<String>,
        /// `IdRichiesta`.
        id_richiesta: Option<String>,
    },
    /// INPS stayed unavailable (`DATABASE_OFFLINE`, `ERRORE_INTERNO`) after
    /// the retries: try again later.
    #[error("INPS is unavailable ({esito}) after {attempts} attempts: try again later")]
    Unavailable {
        /// The last `Esito`.
        esito: Esito,
        /// `DescrizioneErrore` of the last answer.
        description: Option<String>,
        /// How many times the question was sent.
        attempts: u32,
    },
    /// An `Esito` this client does not know.
    #[error("INPS answered an unknown Esito `{esito}`")]
    UnknownEsito {
        /// The value, as found.
        esito: String,
    },
    /// The call failed: voucher, transport, gateway fault (SOAP fault with
    /// RFC 7807 details: `govway_id`, title), quota (a bare 429),
    /// throttling. See [`CallError`].
    #[error(transparent)]
    Call(#[from] CallError),
    /// The SOAP answer cannot be read.
    #[error("INPS answered something that cannot be read (status {status}): {reason}")]
    Unexpected {
        /// HTTP status.
        status: u16,
        /// What is wrong.
        reason: String,
    },
    /// The inner ISEE document of an `OK` answer cannot be read.
    #[error("the ISEE document in the INPS answer cannot be read: {0}")]
    Record(#[from] IseeXmlError),
    /// An Operatori service was asked without an operator identity.
    #[error("the Operatori ISEE services need the operator's identity: set the operator (codice fiscale, SPID level 2 or CIE) before calling")]
    OperatorRequired,
    /// An Operatori service was asked and the configured operator cannot
    /// be used (nothing sent; the other ISEE services need no operator).
    #[error("the operator configured for the Operatori ISEE services cannot be used: {reason}")]
    OperatorInvalid {
        /// What to fix, naming the field (never the operator's code).
        reason: String,
    },
    /// The audit trail could not record the lookup: its answer is not
    /// given.
    #[error("{message}")]
    Audit {
        /// The audit error's stable code (`audit_*`).
        code: &'static str,
        /// Its message (what to do next).
        message: String,
    },
}

impl From<crate::audit::AuditError> for IseeError {
    fn from(e: crate::audit::AuditError) -> Self {
        IseeError::Audit {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl ErrorCode for IseeError {
    fn code(&self) -> &'static str {
        match self {
            IseeError::NotEligible(e) => e.code(),
            IseeError::InvalidRequest { .. } => "isee_invalid_request",
            IseeError::Refused { esito, .. } => match esito {
                Esito::RiscontroNonValido => "isee_riscontro_non_valido",
                _ => "isee_richiesta_invalida",
            },
            IseeError::Unavailable { esito, .. } => match esito {
                Esito::DatabaseOffline => "isee_database_offline",
                _ => "isee_errore_interno",
            },
            IseeError::UnknownEsito { .. } => "isee_unknown_esito",
            IseeError::Call(e) => e.code(),
            IseeError::Unexpected { .. } => "isee_unexpected_answer",
            IseeError::Record(e) => e.code(),
            IseeError::OperatorRequired => "isee_operator_required",
            IseeError::OperatorInvalid { .. } => "isee_operator_invalid",
            IseeError::Audit { code, .. } => code,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            IseeError::NotEligible(e) => e.kind(),
            IseeError::InvalidRequest { .. }
            | IseeError::OperatorRequired
            | IseeError::OperatorInvalid { .. } => ErrorKind::IseeInvalidRequest,
            IseeError::Refused { .. } => ErrorKind::IseeRefused,
            IseeError::Unavailable { .. } => ErrorKind::IseeUnavailable,
            IseeError::UnknownEsito { .. } | IseeError::Unexpected { .. } => {
                ErrorKind::UnexpectedAnswer
            }
            IseeError::Call(e) => e.kind(),
            IseeError::Record(e) => e.kind(),
            IseeError::Audit { .. } => ErrorKind::Audit,
        }
    }

    fn request_sent(&self) -> Option<anist_core::Sent> {
        match self {
            IseeError::Call(e) => e.request_sent(),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            IseeError::Call(e) => ErrorCode::retry_after(e),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for IseeError {
    fn samples() -> Vec<Self> {
        let mut v = vec![
            IseeError::NotEligible(NotEligible {
                category: anist_core::isee::IpaCategory::Comune,
                service: IseeService::Indicatore,
                rule: anist_core::isee::EligibilityRule::PlainOnlyCapoluoghi,
                alternatives: vec![IseeService::IndicatoreResidenti],
            }),
            IseeError::InvalidRequest {
                reason: "the DSU protocol is missing".into(),
            },
            IseeError::Refused {
                esito: Esito::RichiestaInvalida,
                description: None,
                id_richiesta: None,
            },
            IseeError::Refused {
                esito: Esito::RiscontroNonValido,
                description: None,
                id_richiesta: None,
            },
            IseeError::Unavailable {
                esito: Esito::DatabaseOffline,
                description: None,
                attempts: 3,
            },
            IseeError::Unavailable {
                esito: Esito::ErroreInterno,
                description: None,
                attempts: 3,
            },
            IseeError::UnknownEsito {
                esito: "FORSE".into(),
            },
            IseeError::Unexpected {
                status: 200,
                reason: "no Esito".into(),
            },
            IseeError::Record(IseeXmlError::TooLarge {
                size: usize::MAX,
                limit: anist_core::isee::MAX_XML_BYTES,
            }),
            IseeError::OperatorRequired,
            IseeError::OperatorInvalid {
                reason: "operator.user_id is not a codice fiscale".into(),
            },
        ];
        v.extend(CallError::samples().into_iter().map(IseeError::Call));
        v.extend(
            crate::audit::AuditError::samples()
                .into_iter()
                .map(IseeError::from),
        );
        v
    }
}

impl IseeError {
    /// Whether the daily quota is exhausted (a bulk job pauses).
    pub fn is_quota_exceeded(&self) -> bool {
        matches!(self, IseeError::Call(CallError::QuotaExceeded { .. }))
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            IseeError::Call(e) => e.is_retryable(),
            IseeError::Unavailable { .. } => true,
            _ => false,
        }
    }
}

/// The INPS ISEE services. Implemented over a [`crate::session::Session`]
/// by the real client, and by fakes in tests.
pub trait IseeLookup: Send + Sync {
    /// The clock a job waits between its retries by (the session's for
    /// the real client; the system's, on tokio's timer, by default).
    fn clock(&self) -> &dyn crate::clock::Clock {
        &crate::clock::SystemClock
    }

    /// An Indicatore service (`IndicatoreOperatori`, `IndicatoreResidenti`,
    /// `IndicatoreRiscontro`, `IndicatoreNucleoRiscontro`, `Indicatore`).
    fn indicatore(
        &self,
        service: IseeService,
        query: &IseeQuery,
    ) -> impl Future<Output = Result<IseeAnswer<Indicatore>, IseeError>> + Send;

    /// An Attestazione service (`AttestazioneOperatori`,
    /// `AttestazioneResidenti`, `Attestazione`).
    fn attestazione(
        &self,
        service: IseeService,
        query: &IseeQuery,
    ) -> impl Future<Output = Result<IseeAnswer<Attestazione>, IseeError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_are_distinct_and_follow_the_service_ids() {
        let mut seen = std::collections::BTreeSet::new();
        for s in IseeService::ALL {
            let name = session_name(s);
            assert_eq!(name, format!("isee-{}", s.as_str().replace('_', "-")));
            assert!(seen.insert(name));
        }
        assert!(!seen.contains(LEGACY_V1));
    }

    #[test]
    fn mtls_only_for_the_plain_services() {
        assert!(mtls_by_default(IseeService::Indicatore));
        assert!(mtls_by_default(IseeService::Attestazione));
        for s in [
            IseeService::IndicatoreOperatori,
            IseeService::AttestazioneOperatori,
            IseeService::IndicatoreResidenti,
            IseeService::AttestazioneResidenti,
            IseeService::IndicatoreRiscontro,
            IseeService::IndicatoreNucleoRiscontro,
        ] {
            assert!(!mtls_by_default(s), "{s:?}");
        }
    }
}
