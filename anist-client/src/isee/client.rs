//! [`IseeClient`]: the INPS ISEE SOAP services over a [`Session`].
//!
//! One call: local checks (the service's family, eligibility of the ente's
//! IPA category, the Riscontro search, field limits, the operator), then
//! `POST <service url>/<Operation>` (the legacy v1 endpoint: the URL
//! itself) with the SOAP envelope, `SOAPAction`, the `INPS-Identity-*`
//! headers and the voucher; for the Operatori services also the operator's
//! `Agid-JWT-TrackingEvidence` and SPID/CIE assertion. `DATABASE_OFFLINE`
//! and `ERRORE_INTERNO` are asked again ([`Backoff::inps_outage`]).

use std::fmt;
use std::sync::{Arc, Mutex};

use anist_core::cf::CodiceFiscale;
use anist_core::isee::{
    check_eligibility, parse_attestazione_base64, parse_indicatore_base64, Attestazione, Esito,
    Indicatore, IpaCategory, IseeService, ServiceFamily,
};
use base64::Engine as _;
use zeroize::Zeroizing;

use super::soap::{self, HeaderElement, XmlEsito, CONTENT_TYPE, MAX_PROTOCOLLO_DOMANDA};
use super::{
    session_name, IseeAnswer, IseeError, IseeLookup, IseeQuery, Search, DEFAULT_CODICE_UFFICIO,
    IDENTITY_NAMESPACE, LEGACY_V1, SOAP_ACTION_PREFIX,
};
use crate::audit::{AuditLog, LookupCall};
use crate::call::Body;
use crate::modi::AuditContext;
use crate::rng::SplitMix64;
use crate::session::Session;
use crate::transport::{budget, Backoff};
use anist_core::ErrorCode;

/// The HTTP header of [`HttpHeaderCarrier::default`] (a placeholder,
/// assumption U13: confirm it with the e-service's technical attachment).
pub const DEFAULT_ASSERTION_HEADER: &str = "INPS-Identity-Assertion";
/// The SOAP header element of [`SoapHeaderCarrier::default`] (namespace
/// [`IDENTITY_NAMESPACE`]; a placeholder, assumption U13).
pub const DEFAULT_ASSERTION_ELEMENT: &str = "Assertion";

/// The ente asking: its IPA category (eligibility) and the `Identity` it
/// sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IseeEnte {
    /// The ente's category in the IPA catalogue.
    pub category: IpaCategory,
    /// `Identity/UserId` and `INPS-Identity-UserId`: the ente's codice
    /// fiscale (the Operatori services send the operator's instead).
    pub user_id: String,
    /// `Identity/CodiceUfficio` and `INPS-Identity-CodiceUfficio` (default
    /// [`DEFAULT_CODICE_UFFICIO`]).
    pub codice_ufficio: String,
}

impl IseeEnte {
    /// An ente of `category` whose codice fiscale is `user_id`, office
    /// [`DEFAULT_CODICE_UFFICIO`].
    pub fn new(category: IpaCategory, user_id: &str) -> Self {
        Self {
            category,
            user_id: user_id.trim().to_string(),
            codice_ufficio: DEFAULT_CODICE_UFFICIO.to_string(),
        }
    }
}

/// The operator's level of assurance (LoA, ISO/IEC 29115 as used by AgID,
/// PDND and ModI), the `LoA` claim of the TrackingEvidence.
///
/// One enum for the spellings found in the wild ([`Loa::parse`]):
///
/// | Level | Spellings | SPID / CIE |
/// |---|---|---|
/// | [`Loa::Low`] | `LoA2`, `low`, `SpidL1`, `CieL1` | SPID level 1, CIE level 1 |
/// | [`Loa::Substantial`] | `LoA3`, `substantial`, `SpidL2`, `CieL2`, `CIE3` (CIE 3.0), `CIE` | SPID level 2, CIE level 2 |
/// | [`Loa::High`] | `LoA4`, `high`, `SpidL3`, `CieL3` | SPID level 3, CIE level 3 |
///
/// The INPS Operatori services (INPS message 3269/2025: "SPID almeno di
/// livello 2 o CIE 3.0") need [`Loa::Substantial`] or [`Loa::High`]
/// ([`Loa::is_enough_for_operatori`]); no other ISEE service needs an
/// operator, and an operator that does not do for Operatori never stops
/// the others.
///
/// ```
/// use anist_client::isee::Loa;
/// assert_eq!(Loa::parse("LoA3"), Some(Loa::Substantial));
/// assert_eq!(Loa::parse("SpidL2"), Some(Loa::Substantial));
/// assert_eq!(Loa::parse("https://www.spid.gov.it/SpidL3"), Some(Loa::High));
/// assert_eq!(Loa::parse("LoA2"), Some(Loa::Low));
/// assert!(!Loa::Low.is_enough_for_operatori());
/// assert_eq!(Loa::Substantial.as_str(), "LoA3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Loa {
    /// LoA2: SPID level 1, CIE level 1 (not enough for the Operatori
    /// services).
    Low,
    /// LoA3: SPID level 2, CIE level 2 (and a CIE 3.0 login).
    Substantial,
    /// LoA4: SPID level 3, CIE level 3.
    High,
}

impl Loa {
    /// The PDND/ModI spelling sent in the `LoA` claim: `LoA2`, `LoA3`,
    /// `LoA4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Loa::Low => "LoA2",
            Loa::Substantial => "LoA3",
            Loa::High => "LoA4",
        }
    }

    /// Parses any spelling of the table above, ignoring case, blanks,
    /// `_`, `-`, `.` and a leading SPID URL (`https://www.spid.gov.it/`):
    /// `LoA3`, `SPID_L2`, `spid-l3`, `CIE 3.0`, `substantial`. `None` for
    /// anything else (`LoA1` included: no ISEE service takes it).
    pub fn parse(s: &str) -> Option<Loa> {
        let t = s.trim();
        let t = t
            .rsplit_once('/')
            .filter(|_| t.contains("spid.gov.it"))
            .map_or(t, |(_, last)| last);
        let key: String = t
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "loa2" | "low" | "spidl1" | "spid1" | "ciel1" | "cie1" => Some(Loa::Low),
            "loa3" | "substantial" | "significant" | "spidl2" | "spid2" | "ciel2" | "cie2"
            | "cie3" | "cie30" | "cie" => Some(Loa::Substantial),
            "loa4" | "high" | "spidl3" | "spid3" | "ciel3" => Some(Loa::High),
            _ => None,
        }
    }

    /// Whether the level does for the Operatori services (SPID level 2 at
    /// least, or CIE): [`Loa::Substantial`] or [`Loa::High`].
    pub fn is_enough_for_operatori(self) -> bool {
        self >= Loa::Substantial
    }
}

impl fmt::Display for Loa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The raw SPID/CIE assertion of the operator's login (SAML response or
/// OIDC id_token, as the identity provider issued it). Wiped from memory
/// when dropped; `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretAssertion(Zeroizing<Vec<u8>>);

impl SecretAssertion {
    /// Wraps the assertion bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretAssertion(<{} bytes>)", self.0.len())
    }
}

/// The operator of the Operatori services (assumption U13): their codice
/// fiscale goes in `Identity/UserId`, `INPS-Identity-UserId` and the
/// TrackingEvidence `userID`, their level in its `LoA`, and their
/// assertion through the client's [`AssertionCarrier`]. `Debug` masks the
/// codice fiscale and hides the assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorIdentity {
    /// The operator's codice fiscale.
    pub codice_fiscale: CodiceFiscale,
    /// The level of the login.
    pub loa: Loa,
    /// The login's assertion, when the e-service wants it.
    pub assertion: Option<SecretAssertion>,
}

/// How the operator's assertion travels to INPS (assumption U13: nothing
/// public says how; confirm with the e-service's technical attachment and
/// pick or write the carrier that matches).
pub trait AssertionCarrier: Send + Sync + fmt::Debug {
    /// HTTP headers carrying `assertion`.
    fn http_headers(&self, assertion: &[u8]) -> Vec<(String, String)> {
        let _ = assertion;
        Vec::new()
    }

    /// SOAP header elements (after `Identity`) carrying `assertion`.
    fn soap_headers(&self, assertion: &[u8]) -> Vec<HeaderElement> {
        let _ = assertion;
        Vec::new()
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The assertion, base64, in an HTTP header (default
/// [`DEFAULT_ASSERTION_HEADER`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHeaderCarrier {
    /// The header name.
    pub name: String,
}

impl Default for HttpHeaderCarrier {
    fn default() -> Self {
        Self {
            name: DEFAULT_ASSERTION_HEADER.to_string(),
        }
    }
}

impl AssertionCarrier for HttpHeaderCarrier {
    fn http_headers(&self, assertion: &[u8]) -> Vec<(String, String)> {
        vec![(self.name.clone(), b64(assertion))]
    }
}

/// The assertion, base64, in a SOAP header element (default
/// `<h:Assertion xmlns:h="http://inps.it/">`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoapHeaderCarrier {
    /// The element's namespace.
    pub namespace: String,
    /// The element's local name.
    pub name: String,
}

impl Default for SoapHeaderCarrier {
    fn default() -> Self {
        Self {
            namespace: IDENTITY_NAMESPACE.to_string(),
            name: DEFAULT_ASSERTION_ELEMENT.to_string(),
        }
    }
}

impl AssertionCarrier for SoapHeaderCarrier {
    fn soap_headers(&self, assertion: &[u8]) -> Vec<HeaderElement> {
        vec![HeaderElement {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            text: b64(assertion),
        }]
    }
}

/// The assertion is not sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoCarrier;

impl AssertionCarrier for NoCarrier {}

/// The INPS ISEE services through a [`Session`] whose e-services are named
/// by [`session_name`] (and [`LEGACY_V1`]). Cheap to clone.
///
/// ```no_run
/// use std::sync::Arc;
/// use anist_client::isee::client::{IseeClient, IseeEnte};
/// use anist_client::isee::{IseeAnswer, IseeLookup, IseeQuery};
/// use anist_client::session::Session;
/// use anist_core::cf::AnyCodiceFiscale;
/// use anist_core::isee::{IpaCategory, IseeService};
///
/// # async fn run(session: Arc<Session>) -> Result<(), Box<dyn std::error::Error>> {
/// let isee = IseeClient::new(session, IseeEnte::new(IpaCategory::Comune, "00000010008"));
/// let query = IseeQuery::by_cf(AnyCodiceFiscale::parse("RSSMRA80A01H501U")?);
/// match isee.indicatore(IseeService::IndicatoreResidenti, &query).await? {
///     IseeAnswer::Found { record, .. } => assert!(record.isee().cents() >= 0),
///     IseeAnswer::NoIsee { .. } => {}
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct IseeClient {
    session: Arc<Session>,
    ente: IseeEnte,
    operator: Option<OperatorIdentity>,
    /// Why the configured operator cannot ask the Operatori services (the
    /// other services are unaffected).
    operator_problem: Option<String>,
    carrier: Arc<dyn AssertionCarrier>,
    retry: Backoff,
    legacy_v1: bool,
    rng: Arc<Mutex<SplitMix64>>,
    /// Where each lookup is recorded, when set.
    audit: Option<Arc<AuditLog>>,
}

impl fmt::Debug for IseeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IseeClient")
            .field("session", &self.session)
            .field("category", &self.ente.category)
            .field("operator", &self.operator)
            .field("carrier", &self.carrier)
            .field("retry", &self.retry)
            .field("legacy_v1", &self.legacy_v1)
            .finish_non_exhaustive()
    }
}

/// What one question got, before the record is parsed.
enum Outcome {
    Found {
        xml: Option<XmlEsito>,
        id: Option<String>,
    },
    NoIsee {
        id: Option<String>,
        description: Option<String>,
    },
}

impl IseeClient {
    /// A client for `ente` over `session`: no operator, the assertion (if
    /// any) in [`HttpHeaderCarrier::default`], [`Backoff::inps_outage`],
    /// the v2 endpoints.
    pub fn new(session: Arc<Session>, ente: IseeEnte) -> Self {
        Self {
            session,
            ente,
            operator: None,
            operator_problem: None,
            carrier: Arc::new(HttpHeaderCarrier::default()),
            retry: Backoff::inps_outage(),
            legacy_v1: false,
            rng: Arc::new(Mutex::new(SplitMix64::from_entropy())),
            audit: None,
        }
    }

    /// Records every lookup in `audit`: who, under which purpose, which
    /// e-service, about whom (a keyed hash), with which outcome (`found`,
    /// `no_isee` or the error code), INPS's `IdRichiesta`. A lookup whose
    /// row cannot be written fails with [`IseeError::Audit`]. A batch
    /// records its own rows: give it a client without a trail.
    #[must_use]
    pub fn with_audit(mut self, audit: Arc<AuditLog>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Records a lookup's outcome when an audit trail is set.
    fn audited<T>(
        &self,
        service: IseeService,
        query: &IseeQuery,
        result: Result<IseeAnswer<T>, IseeError>,
    ) -> Result<IseeAnswer<T>, IseeError> {
        let Some(audit) = &self.audit else {
            return result;
        };
        let (outcome, govway) = match &result {
            Ok(IseeAnswer::Found { .. }) => ("found", None),
            Ok(IseeAnswer::NoIsee { .. }) => ("no_isee", None),
            Err(IseeError::Call(c)) => (c.code(), c.govway_id()),
            Err(e) => (e.code(), None),
        };
        audit.record_lookup(
            &self.session,
            &LookupCall {
                eservice: session_name(service),
                operation: if service.returns_attestazione() {
                    "attestazione"
                } else {
                    "indicatore"
                },
                subject: query.person().as_str(),
                outcome,
                correlation_id: result.as_ref().ok().and_then(IseeAnswer::id_richiesta),
                govway_id: govway,
            },
        )?;
        result
    }

    /// Asks the Operatori services on behalf of `operator`.
    #[must_use]
    pub fn operator(mut self, operator: OperatorIdentity) -> Self {
        self.operator = Some(operator);
        self.operator_problem = None;
        self
    }

    /// Records why the configured operator cannot be used (e.g. an
    /// unreadable assertion, a codice fiscale that is not one): the
    /// Operatori services then fail with [`IseeError::OperatorInvalid`]
    /// and this `reason`, nothing sent; the other services, which need no
    /// operator, are unaffected.
    #[must_use]
    pub fn operator_unusable(mut self, reason: impl Into<String>) -> Self {
        self.operator = None;
        self.operator_problem = Some(reason.into());
        self
    }

    /// Sends the operator's assertion with `carrier`.
    #[must_use]
    pub fn assertion_carrier(mut self, carrier: impl AssertionCarrier + 'static) -> Self {
        self.carrier = Arc::new(carrier);
        self
    }

    /// Asks `DATABASE_OFFLINE` / `ERRORE_INTERNO` again by `policy`.
    #[must_use]
    pub fn retry_policy(mut self, policy: Backoff) -> Self {
        if let Some(seed) = policy.seed {
            self.rng = Arc::new(Mutex::new(SplitMix64::new(seed)));
        }
        self.retry = policy;
        self
    }

    /// Sends the plain Indicatore / Attestazione questions to the legacy
    /// v1 endpoint ([`LEGACY_V1`]: one URL, the operation chosen by
    /// `SOAPAction`) instead of the v2 ones.
    #[must_use]
    pub fn legacy_v1(mut self, on: bool) -> Self {
        self.legacy_v1 = on;
        self
    }

    /// The session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The ente.
    pub fn ente(&self) -> &IseeEnte {
        &self.ente
    }

    /// The local checks: nothing is sent when one fails.
    fn check(
        &self,
        service: IseeService,
        query: &IseeQuery,
        attestazione: bool,
    ) -> Result<(), IseeError> {
        if service.returns_attestazione() != attestazione {
            return Err(IseeError::InvalidRequest {
                reason: if attestazione {
                    format!(
                        "{} returns an indicatore: call indicatore()",
                        service.name_it()
                    )
                } else {
                    format!(
                        "{} returns an attestazione: call attestazione()",
                        service.name_it()
                    )
                },
            });
        }
        check_eligibility(self.ente.category, service)?;
        if service.family() == ServiceFamily::Riscontro
            && !matches!(query.search, Search::ProtocolloDsu { .. })
        {
            return Err(IseeError::InvalidRequest {
                reason: format!(
                    "{} checks the DSU protocol: search with IseeQuery::by_dsu (protocollo DSU and beneficiary)",
                    service.name_it()
                ),
            });
        }
        if query
            .domanda
            .protocollo_domanda
            .as_ref()
            .is_some_and(|p| p.chars().count() > MAX_PROTOCOLLO_DOMANDA)
        {
            return Err(IseeError::InvalidRequest {
                reason: format!(
                    "the ente's application protocol (ProtocolloDomandaEnteErogatore) is longer than {MAX_PROTOCOLLO_DOMANDA} characters: shorten it"
                ),
            });
        }
        if !attestazione && query.kind.tipo_indicatore().is_none() {
            return Err(IseeError::InvalidRequest {
                reason: format!(
                    "the {} cannot be asked of the Indicatore services (TipoIndicatore is Ordinario, Minorenne, Universitario, SocioSanitario, Dottorato or Residenziale)",
                    query.kind
                ),
            });
        }
        if service.family() == ServiceFamily::Operatori {
            match (&self.operator, &self.operator_problem) {
                (None, Some(reason)) => {
                    return Err(IseeError::OperatorInvalid {
                        reason: reason.clone(),
                    })
                }
                (None, None) => return Err(IseeError::OperatorRequired),
                (Some(op), _) if !op.loa.is_enough_for_operatori() => {
                    return Err(IseeError::OperatorInvalid {
                        reason: format!(
                            "the operator's level of assurance is {}: the Operatori services need SPID level 2 at least (LoA3) or CIE",
                            op.loa
                        ),
                    })
                }
                (Some(_), _) => {}
            }
        }
        Ok(())
    }

    async fn ask(
        &self,
        service: IseeService,
        query: &IseeQuery,
        attestazione: bool,
    ) -> Result<Outcome, IseeError> {
        self.check(service, query, attestazione)?;
        let legacy = self.legacy_v1
            && matches!(service, IseeService::Indicatore | IseeService::Attestazione);
        let name = if legacy {
            LEGACY_V1
        } else {
            session_name(service)
        };
        let profile = self.session.lookup(name)?.profile();
        let (operation, path, action) = if legacy {
            let op = service.operation().to_string();
            let action = format!("{SOAP_ACTION_PREFIX}{op}");
            (op, String::new(), action)
        } else {
            let op = profile
                .operation_name()
                .unwrap_or(service.operation())
                .to_string();
            let action = profile
                .soap_action_value()
                .map_or_else(|| format!("{SOAP_ACTION_PREFIX}{op}"), str::to_string);
            (op.clone(), op, action)
        };
        let operator = self
            .operator
            .as_ref()
            .filter(|_| service.family() == ServiceFamily::Operatori);
        let user_id = operator.map_or(self.ente.user_id.as_str(), |o| o.codice_fiscale.as_str());
        let assertion = operator.and_then(|o| o.assertion.as_ref());
        let request = soap::Request {
            operation,
            user_id: user_id.to_string(),
            codice_ufficio: self.ente.codice_ufficio.clone(),
            tipo_indicatore: (!attestazione)
                .then(|| query.kind.tipo_indicatore())
                .flatten()
                .map(str::to_string),
            search: query.search.clone(),
            domanda: query.domanda.clone(),
            headers: assertion
                .map(|a| self.carrier.soap_headers(a.as_bytes()))
                .unwrap_or_default(),
        };
        let envelope = Zeroizing::new(soap::write_request(&request));
        let quoted = format!("\"{action}\"");
        let extra = assertion
            .map(|a| self.carrier.http_headers(a.as_bytes()))
            .unwrap_or_default();
        let mut headers: Vec<(&str, &str)> = vec![
            ("SOAPAction", quoted.as_str()),
            ("INPS-Identity-UserId", user_id),
            (
                "INPS-Identity-CodiceUfficio",
                self.ente.codice_ufficio.as_str(),
            ),
        ];
        headers.extend(extra.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let audit = match operator {
            Some(o) => Some(
                AuditContext::new(o.codice_fiscale.as_str(), self.ente.user_id.as_str())
                    .map_err(|e| IseeError::InvalidRequest {
                        reason: format!("the operator's TrackingEvidence cannot be made: {e}; set the ente's user_id"),
                    })?
                    .with_loa(o.loa.as_str()),
            ),
            None => None,
        };
        let body = Body::new(&envelope, CONTENT_TYPE).accept("text/xml");
        // INPS's outages, the throttling and the token request share one
        // retry budget (transport::budget).
        budget::scoped(self.retry.max_attempts, async {
            let mut n = 0;
            loop {
                n += 1;
                let resp = self
                    .session
                    .post(name, &path, &body, &headers, audit.as_ref())
                    .await?;
                let answer =
                    soap::parse_response(resp.body()).map_err(|e| IseeError::Unexpected {
                        status: resp.status(),
                        reason: e.to_string(),
                    })?;
                match answer.esito {
                    Esito::Ok => {
                        return Ok(Outcome::Found {
                            xml: answer.xml_esito,
                            id: answer.id_richiesta,
                        })
                    }
                    Esito::DatiNonTrovati => {
                        return Ok(Outcome::NoIsee {
                            id: answer.id_richiesta,
                            description: answer.descrizione,
                        })
                    }
                    Esito::RichiestaInvalida | Esito::RiscontroNonValido => {
                        return Err(IseeError::Refused {
                            esito: answer.esito,
                            description: answer.descrizione,
                            id_richiesta: answer.id_richiesta,
                        })
                    }
                    Esito::DatabaseOffline | Esito::ErroreInterno => {
                        let delay = {
                            let mut rng = self
                                .rng
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            self.retry
                                .delay(n, None, &mut |max| rng.up_to(max))
                                .filter(|_| budget::spend())
                        };
                        let Some(delay) = delay else {
                            return Err(IseeError::Unavailable {
                                esito: answer.esito,
                                description: answer.descrizione,
                                attempts: n,
                            });
                        };
                        self.session.clock().sleep(delay).await;
                    }
                    other => {
                        return Err(IseeError::UnknownEsito {
                            esito: other.as_str().chars().take(64).collect(),
                        })
                    }
                }
            }
        })
        .await
    }
}

fn missing(element: &str) -> IseeError {
    IseeError::Unexpected {
        status: 200,
        reason: format!("the answer is OK but has no {element}"),
    }
}

impl IseeClient {
    async fn ask_indicatore(
        &self,
        service: IseeService,
        query: &IseeQuery,
    ) -> Result<IseeAnswer<Indicatore>, IseeError> {
        match self.ask(service, query, false).await? {
            Outcome::Found {
                xml: Some(XmlEsito::Indicatore(text)),
                id,
            } => Ok(IseeAnswer::Found {
                record: parse_indicatore_base64(&text)?,
                id_richiesta: id,
            }),
            Outcome::Found { .. } => Err(missing("XmlEsitoIndicatore")),
            Outcome::NoIsee { id, description } => Ok(IseeAnswer::NoIsee {
                id_richiesta: id,
                description,
            }),
        }
    }

    async fn ask_attestazione(
        &self,
        service: IseeService,
        query: &IseeQuery,
    ) -> Result<IseeAnswer<Attestazione>, IseeError> {
        match self.ask(service, query, true).await? {
            Outcome::Found {
                xml: Some(XmlEsito::Attestazione(text)),
                id,
            } => Ok(IseeAnswer::Found {
                record: parse_attestazione_base64(&text)?,
                id_richiesta: id,
            }),
            Outcome::Found { .. } => Err(missing("XmlEsitoAttestazione")),
            Outcome::NoIsee { id, description } => Ok(IseeAnswer::NoIsee {
                id_richiesta: id,
                description,
            }),
        }
    }
}

/// Every lookup, answered or failed (an unreadable record too), goes to
/// the audit trail when one is set.
impl IseeLookup for IseeClient {
    fn clock(&self) -> &dyn crate::clock::Clock {
        self.session.clock()
    }

    async fn indicatore(
        &self,
        service: IseeService,
        query: &IseeQuery,
    ) -> Result<IseeAnswer<Indicatore>, IseeError> {
        let result = self.ask_indicatore(service, query).await;
        self.audited(service, query, result)
    }

    async fn attestazione(
        &self,
        service: IseeService,
        query: &IseeQuery,
    ) -> Result<IseeAnswer<Attestazione>, IseeError> {
        let result = self.ask_attestazione(service, query).await;
        self.audited(service, query, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn inps_outages_are_asked_again_three_times_up_to_ten_seconds_apart() {
        let p = Backoff::inps_outage();
        let mut top = |max: u64| max;
        assert_eq!(p.delay(1, None, &mut top), Some(Duration::from_millis(500)));
        assert_eq!(p.delay(2, None, &mut top), Some(Duration::from_secs(1)));
        assert_eq!(p.delay(3, None, &mut top), None);
        assert_eq!(
            p.attempts(40).delay(39, None, &mut top),
            Some(Duration::from_secs(10))
        );
    }

    #[test]
    fn loa_names() {
        for l in [Loa::Low, Loa::Substantial, Loa::High] {
            assert_eq!(Loa::parse(l.as_str()), Some(l));
            assert_eq!(Loa::parse(&l.to_string()), Some(l));
        }
        assert_eq!(Loa::parse("SPID_L2"), Some(Loa::Substantial));
        assert_eq!(Loa::parse("LoA3"), Some(Loa::Substantial));
        assert_eq!(Loa::parse("LoA4"), Some(Loa::High));
        assert_eq!(Loa::parse("loa2"), Some(Loa::Low));
        assert_eq!(Loa::parse("SpidL3"), Some(Loa::High));
        assert_eq!(Loa::parse("CIE 3.0"), Some(Loa::Substantial));
        assert_eq!(Loa::parse("CieL3"), Some(Loa::High));
        assert_eq!(
            Loa::parse("https://www.spid.gov.it/SpidL2"),
            Some(Loa::Substantial)
        );
        assert_eq!(Loa::parse("LoA1"), None);
        assert_eq!(Loa::parse("operatore"), None);
        assert!(Loa::High.is_enough_for_operatori());
        assert!(Loa::Substantial.is_enough_for_operatori());
        assert!(!Loa::Low.is_enough_for_operatori());
    }

    #[test]
    fn carriers_and_secret_debug() {
        let a = SecretAssertion::new(b"<saml>x</saml>".to_vec());
        assert_eq!(format!("{a:?}"), "SecretAssertion(<14 bytes>)");
        let h = HttpHeaderCarrier::default().http_headers(a.as_bytes());
        assert_eq!(h[0].0, DEFAULT_ASSERTION_HEADER);
        assert_eq!(h[0].1, b64(b"<saml>x</saml>"));
        assert!(HttpHeaderCarrier::default()
            .soap_headers(a.as_bytes())
            .is_empty());
        let s = SoapHeaderCarrier::default().soap_headers(a.as_bytes());
        assert_eq!(s[0].name, DEFAULT_ASSERTION_ELEMENT);
        assert!(NoCarrier.http_headers(a.as_bytes()).is_empty());
        assert!(NoCarrier.soap_headers(a.as_bytes()).is_empty());
    }
}
