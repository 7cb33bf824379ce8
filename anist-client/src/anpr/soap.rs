//! The Comune's ANPR SOAP channel, service 3002: search by identity
//! document (carta d'identità, permesso di soggiorno, passaporto of a
//! foreigner), over mTLS with the Comune's ANPR client certificate and an
//! anagrafe operator's user id (reference §1.4). This is **not** PDND: the
//! E002 e-services cannot search by document, and [`AnprSoapClient`] is
//! the only way `anist` resolves a document to a subject (codice fiscale /
//! ID ANPR).
//!
//! The request is validated before any call (`EHR41` / `EHR67` / `EHR68`
//! rules, [`anist_core::anpr::soap3002`]); `idOperazioneComune` comes from
//! the same persisted, increasing store as the E002 `idOperazioneClient`
//! ([`super::OperationIds`]). "Not found" (`EN122`) is an outcome.

use std::time::Duration;

use anist_core::anpr::e002::{ErroreAnomalia, IdOperazioneClient};
use anist_core::anpr::soap3002::{
    envelope, parse_risposta, Documento, Esito3002, Richiesta3002, Soap3002Error, Testata3002,
};
use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use chrono::NaiveDateTime;

use crate::audit::{AuditEntry, AuditLog};
use crate::voucher::http::HttpOptions;

use super::OperationIds;

/// The `SOAPAction` of service 3002.
pub const SOAP_ACTION_3002: &str = "http://sogei.it/ANPR/3000consultazione/3002";

/// How to reach the Comune's ANPR SOAP services.
#[derive(Clone)]
pub struct AnprSoapSettings {
    /// The 3000 services' endpoint URL (https).
    pub endpoint: String,
    /// The anagrafe operator's ANPR user id.
    pub operatore: String,
    /// The Comune's codice ISTAT (6 digits): `codMittente`.
    pub codice_istat: String,
    /// `tipoInvio` (`DEFINITIVO`; `PROVA` on ANPR's test environment).
    pub tipo_invio: String,
    /// The client certificate chain (PEM) and its unencrypted key (PEM).
    pub identity_pem: Option<(Vec<u8>, zeroize::Zeroizing<Vec<u8>>)>,
    /// CA certificates (PEM) to trust for the endpoint, in addition to the
    /// system roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Timeout of one call.
    pub timeout: Duration,
}

impl std::fmt::Debug for AnprSoapSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnprSoapSettings")
            .field("endpoint", &self.endpoint)
            .field("codice_istat", &self.codice_istat)
            .field("identity", &self.identity_pem.is_some())
            .field("ca", &self.ca_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl AnprSoapSettings {
    /// Settings for `endpoint`, the operator and the Comune; no client
    /// certificate yet (ANPR refuses the handshake without one).
    pub fn new(endpoint: &str, operatore: &str, codice_istat: &str) -> Self {
        Self {
            endpoint: endpoint.to_string(),
            operatore: operatore.to_string(),
            codice_istat: codice_istat.to_string(),
            tipo_invio: "DEFINITIVO".to_string(),
            identity_pem: None,
            ca_pem: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// Sets the client certificate chain and its key (PEM).
    #[must_use]
    pub fn client_identity(mut self, cert_pem: &[u8], key_pem: &[u8]) -> Self {
        self.identity_pem = Some((cert_pem.to_vec(), zeroize::Zeroizing::new(key_pem.to_vec())));
        self
    }
}

/// Why a search by document got no answer. Codes: those of
/// [`Soap3002Error`], `anpr_soap_http` (network, TLS — a missing or
/// refused client certificate included — or an HTTP status without a SOAP
/// answer), `anpr_soap_config`, `anpr_operation_ids`, and the audit's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnprSoapError {
    /// The request is invalid or ANPR answered with an error.
    #[error(transparent)]
    Anpr(#[from] Soap3002Error),
    /// The call failed.
    #[error("la chiamata al servizio SOAP ANPR non è riuscita ({reason}): controllare l'indirizzo, il certificato client del Comune e la rete")]
    Http {
        /// What happened (never a document number).
        reason: String,
    },
    /// The settings cannot be used.
    #[error("la configurazione del canale SOAP ANPR non è utilizzabile ({reason}): correggere la sezione [anpr_soap]")]
    Config {
        /// What is wrong.
        reason: String,
    },
    /// The store of the operation ids failed.
    #[error(transparent)]
    Ids(#[from] super::AnprClientError),
    /// The audit trail refused the row.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
}

impl ErrorCode for AnprSoapError {
    fn code(&self) -> &'static str {
        match self {
            AnprSoapError::Anpr(e) => e.code(),
            AnprSoapError::Http { .. } => "anpr_soap_http",
            AnprSoapError::Config { .. } => "anpr_soap_config",
            AnprSoapError::Ids(e) => e.code(),
            AnprSoapError::Audit(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            AnprSoapError::Anpr(e) => e.kind(),
            AnprSoapError::Http { .. } => ErrorKind::Network,
            AnprSoapError::Config { .. } => ErrorKind::Config,
            AnprSoapError::Ids(e) => e.kind(),
            AnprSoapError::Audit(e) => e.kind(),
        }
    }

    fn request_sent(&self) -> Option<anist_core::Sent> {
        match self {
            AnprSoapError::Ids(e) => e.request_sent(),
            _ => None,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            AnprSoapError::Ids(e) => e.retry_after(),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for AnprSoapError {
    fn samples() -> Vec<Self> {
        // Soap3002Error's own samples are in anist-core.
        let mut v = vec![
            AnprSoapError::Anpr(Soap3002Error::Ehr41),
            AnprSoapError::Http {
                reason: "the TLS handshake failed".into(),
            },
            AnprSoapError::Config {
                reason: "endpoint is not https".into(),
            },
        ];
        v.extend(
            super::AnprClientError::samples()
                .into_iter()
                .map(AnprSoapError::Ids),
        );
        v.extend(
            crate::audit::AuditError::samples()
                .into_iter()
                .map(AnprSoapError::Audit),
        );
        v
    }
}

/// One search by document.
#[derive(Debug, Clone)]
pub struct RicercaDocumento {
    /// The document.
    pub documento: Documento,
    /// `ricercaNazionale`: all of Italy (`true`) or the Comune's residents.
    pub nazionale: bool,
    /// Why (for the audit trail; ANPR's 3002 has no such field).
    pub motivo: String,
    /// `dataRiferimentoRichiesta`.
    pub data: chrono::NaiveDate,
}

/// The answer to a search by document.
#[derive(Debug, Clone)]
pub struct RispostaDocumento {
    /// The subjects found (with codice fiscale and ID ANPR), or not found.
    pub esito: Esito3002,
    /// ANPR's warnings.
    pub avvisi: Vec<ErroreAnomalia>,
    /// `idOperazioneComune` sent.
    pub id_operazione: String,
}

/// The SOAP 3002 client.
pub struct AnprSoapClient {
    http: reqwest::Client,
    settings: AnprSoapSettings,
    ids: OperationIds,
    audit: Option<std::sync::Arc<AuditLog>>,
}

impl std::fmt::Debug for AnprSoapClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnprSoapClient")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AnprSoapClient {
    /// A client with its HTTP stack (mTLS when a client certificate is set).
    ///
    /// # Errors
    /// [`AnprSoapError::Config`] if the endpoint, the ISTAT code, the
    /// operator or the certificates cannot be used.
    pub fn new(settings: AnprSoapSettings, ids: OperationIds) -> Result<Self, AnprSoapError> {
        let config = |reason: &str| AnprSoapError::Config {
            reason: reason.to_string(),
        };
        if !settings.endpoint.starts_with("https://") {
            return Err(config("l'indirizzo deve essere https://"));
        }
        if settings.codice_istat.len() != 6
            || !settings.codice_istat.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(config("il codice ISTAT del Comune deve avere 6 cifre"));
        }
        if settings.operatore.trim().is_empty() {
            return Err(config("manca l'identificativo dell'operatore d'anagrafe"));
        }
        let mut options = HttpOptions::default().timeout(settings.timeout);
        if let Some(ca) = &settings.ca_pem {
            options = options.ca_bundle_pem(ca.clone());
        }
        if let Some((cert, key)) = &settings.identity_pem {
            options = options.client_identity_pem(cert, key.as_slice());
        }
        let http = options.build_client().map_err(|e| AnprSoapError::Config {
            reason: e.to_string(),
        })?;
        Ok(Self {
            http,
            settings,
            ids,
            audit: None,
        })
    }

    /// Audits every call in `trail`.
    #[must_use]
    pub fn audited(mut self, trail: std::sync::Arc<AuditLog>) -> Self {
        self.audit = Some(trail);
        self
    }

    /// Builds the request for `r` at `now` (with the next operation id).
    ///
    /// # Errors
    /// The validation errors (`EHR41`, `EHR67`, `EHR68`, shapes) and the
    /// store's.
    pub fn richiesta(
        &self,
        r: &RicercaDocumento,
        now: NaiveDateTime,
    ) -> Result<Richiesta3002, AnprSoapError> {
        // Validate the document before taking an operation id.
        r.documento.validate()?;
        let millis = u64::try_from(now.and_utc().timestamp_millis()).unwrap_or(0);
        let id: IdOperazioneClient = self.ids.next(millis)?;
        let mut testata = Testata3002::new(
            id,
            &self.settings.codice_istat,
            &now.format("%Y-%m-%dT%H:%M:%S").to_string(),
        );
        testata.tipo_invio = self.settings.tipo_invio.clone();
        let mut req = Richiesta3002::new(
            testata,
            r.documento.clone(),
            &anist_core::anpr::e002::iso_date(r.data),
        );
        req.ricerca_nazionale = r.nazionale;
        req.validate()?;
        Ok(req)
    }

    /// Searches ANPR by document.
    ///
    /// # Errors
    /// [`AnprSoapError`]: invalid request (before any call), network/TLS,
    /// ANPR's error answers, the audit trail.
    pub async fn cerca(
        &self,
        r: &RicercaDocumento,
        now: NaiveDateTime,
    ) -> Result<RispostaDocumento, AnprSoapError> {
        let req = self.richiesta(r, now)?;
        let body = envelope(&req, &self.settings.operatore);
        let id = req.testata.id_operazione_comune.as_str().to_string();
        let result = self.send(body).await;
        let outcome = match &result {
            Ok((Esito3002::Trovati(s), _)) => format!("found:{}", s.len()),
            Ok((Esito3002::NonTrovato { codice }, _)) => format!("not_found:{codice}"),
            Ok(_) => "found".to_string(),
            Err(e) => e.code().to_string(),
        };
        if let Some(trail) = &self.audit {
            trail.record(&AuditEntry {
                operator: &self.settings.operatore,
                purpose: &r.motivo,
                eservice: "anpr-soap-3002",
                operation: r.documento.kind(),
                subject: Some(r.documento.numero()),
                outcome: &outcome,
                correlation_id: Some(&id),
                govway_id: None,
            })?;
        }
        let (esito, avvisi) = result?;
        Ok(RispostaDocumento {
            esito,
            avvisi,
            id_operazione: id,
        })
    }

    async fn send(&self, body: String) -> Result<(Esito3002, Vec<ErroreAnomalia>), AnprSoapError> {
        let resp = self
            .http
            .post(&self.settings.endpoint)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", SOAP_ACTION_3002)
            .body(body)
            .send()
            .await
            .map_err(|e| AnprSoapError::Http {
                reason: error_chain(&e),
            })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| AnprSoapError::Http {
            reason: error_chain(&e),
        })?;
        match parse_risposta(&bytes) {
            Ok(r) => Ok(r.esito()?),
            Err(Soap3002Error::Xml { .. }) if !status.is_success() => Err(AnprSoapError::Http {
                reason: format!("HTTP {}", status.as_u16()),
            }),
            Err(e) => Err(e.into()),
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}
