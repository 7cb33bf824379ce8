//! The `anist.toml` configuration file: one PDND client identity, its
//! keys, the operator on whose behalf calls are made, and the e-services it
//! calls, with environment-variable overrides, an offline
//! [`Config::check`] (`anist config check`) and [`Config::session`].
//!
//! ```toml
//! environment = "collaudo"          # produzione | collaudo | attestazione | sandbox
//! client_id = "c9b73ff4-e203-4580-911b-689514d350c2"
//! key = "keys/client.pem"           # relative to this file's directory
//! # key_password_env = "ANIST_KEY_PASSWORD"   (the default)
//! # modi_key = "keys/modi.pem"      # optional separate ModI signing key
//! # ca_bundle = "certs/ca.pem"      # extra trusted CAs (PEM)
//! # token_url, assertion_audience, voucher_issuer, jwks_url override the preset
//!
//! [operator]                        # the Agid-JWT-TrackingEvidence identity
//! user_id = "operatore-42"
//! user_location = "c_h501"
//! loa = "LoA3"
//!
//! [services.anist-verifica]
//! url = "https://modipa-val.istruzione.it/govway/rest/in/MIM-INTRA-PDND/verificaFrequenze/v1"
//! purpose = "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e"
//! audit = true
//!
//! [inps]                            # the ente asking the INPS ISEE services
//! ipa_category = "comune"           # IpaCategory::as_str
//! user_id = "00000010008"           # the ente's codice fiscale
//! # codice_ufficio = "001"
//!
//! [services.isee-indicatore-residenti]
//! url = "https://api.inps.it/pdnd/soap/ConsultazioneISEE/v2"
//! purpose = "0f7a5c1e-2b8d-4c3e-9a6f-1d2e3f4a5b6c"
//! integrity = false                 # INPS: plain Bearer voucher
//! # operation = "ConsultazioneIndicatoreResidenti"   (the default, U11)
//! # soap_action = "http://inps.it/ConsultazioneISEE/ISvcConsultazione/ConsultazioneIndicatoreResidenti"
//! # mtls_cert / mtls_key: the INPS client certificate, needed only by
//! # the plain Indicatore / Attestazione services (isee::mtls_by_default)
//! ```
//!
//! For the ISEE Operatori services (only them), `[operator]` names the
//! operator: `user_id` their codice fiscale, `loa` `LoA3` or `LoA4` (the
//! PDND/ModI spelling; `SpidL2`, `SpidL3`, `CIE` are read too: see
//! [`crate::isee::Loa`]), and
//! where their SPID/CIE assertion is read from, never inline:
//! `assertion_file` (a path) or `assertion_env` (an environment variable
//! name). [`Config::isee_client`] builds the ISEE client.
//!
//! # Environment overrides
//!
//! [`Config::apply_env`] reads, through a lookup function (the process
//! environment in [`Config::load`]):
//!
//! | Variable | Field |
//! |---|---|
//! | `ANIST_ENVIRONMENT`, `ANIST_CLIENT_ID`, `ANIST_KEY`, `ANIST_KEY_PASSWORD_ENV`, `ANIST_MODI_KEY`, `ANIST_MODI_KEY_PASSWORD_ENV`, `ANIST_CA_BUNDLE` | the top-level field of the same name |
//! | `ANIST_TOKEN_URL`, `ANIST_ASSERTION_AUDIENCE`, `ANIST_VOUCHER_ISSUER`, `ANIST_JWKS_URL` | the endpoint overrides |
//! | `ANIST_OPERATOR_USER_ID`, `ANIST_OPERATOR_USER_LOCATION`, `ANIST_OPERATOR_LOA`, `ANIST_OPERATOR_ASSERTION_FILE`, `ANIST_OPERATOR_ASSERTION_ENV` | `[operator]` |
//! | `ANIST_INPS_IPA_CATEGORY`, `ANIST_INPS_USER_ID`, `ANIST_INPS_CODICE_UFFICIO` | `[inps]` |
//! | `ANIST_LIMITS_RATE_PER_SECOND`, `ANIST_LIMITS_CONCURRENCY`, `ANIST_LIMITS_DAILY_CALLS` | `[limits]` |
//! | `ANIST_SERVICES__<NAME>__<FIELD>` | `<field>` of `[services.<name>]` |
//!
//! `<NAME>` is the service name in upper case with `-` written `_`
//! (`anist-verifica` → `ANIST_SERVICES__ANIST_VERIFICA__PURPOSE`);
//! `<FIELD>` is the field name in upper case (`URL`, `AUDIENCE`,
//! `PURPOSE`, `INTEGRITY`, `AUDIT`, `CONTENT_ENCODING`, `TIMEOUT_MS`,
//! `VOUCHER`, `MTLS_CERT`, `MTLS_KEY`, `OPERATION`, `SOAP_ACTION`). Service overrides apply to the
//! services the file declares. An empty variable is ignored.
//!
//! Relative paths (keys, CA bundle, mTLS files), from the file or from the
//! environment, resolve against the directory of the configuration file
//! (against the current directory for a configuration not read from a
//! file).
//!
//! ```no_run
//! use std::sync::Arc;
//! use anist_client::clock::SystemClock;
//! use anist_client::config::Config;
//!
//! let config = Config::load("anist.toml")?;
//! let report = config.check(1_764_000_000);
//! assert!(report.passed());
//! let session = config.session(Arc::new(SystemClock))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anist_core::cf::CodiceFiscale;
use anist_core::isee::{IpaCategory, IseeService, ServiceFamily};
use anist_core::ErrorCode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::call::{Caller, ServiceProfile, DEFAULT_CALL_TIMEOUT};
use crate::clock::{Clock, ManualClock};
use crate::env::{Environment, PdndEndpoints};
use crate::ids::{ClientId, PurposeId};
use crate::isee::client::{IseeClient, IseeEnte, Loa, OperatorIdentity, SecretAssertion};
use crate::keys::{KeyError, PrivateKey, MIN_RSA_BITS};
use crate::modi::{AuditContext, ModiSigner};
use crate::preflight::{diagnose, Expectations, Severity};
use crate::session::{Service, Session};
use crate::voucher::assertion::{AssertionBuilder, AssertionError};
use crate::voucher::cache::VoucherCache;
use crate::voucher::http::{transport_allowed, HttpOptions, HttpTokenFetcher};

/// The environment variable holding the key password unless
/// `key_password_env` names another.
pub const DEFAULT_KEY_PASSWORD_ENV: &str = "ANIST_KEY_PASSWORD";

/// The default configuration file name.
pub const DEFAULT_CONFIG_FILE: &str = "anist.toml";

/// Longest `userLocation` ANPR accepts (protocol reference §3.3).
pub const MAX_USER_LOCATION: usize = 20;

/// Why a configuration could not be read or used. Every variant has a
/// stable `config_*` [`ErrorCode::code`]; messages name the file and the
/// field, never a key, a password or an operator id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration {file}: {kind}; check the path (or pass --config / set ANIST_CONFIG)")]
    Read {
        /// The file.
        file: String,
        /// The I/O error kind.
        kind: std::io::ErrorKind,
    },
    /// The file is not valid TOML for this schema (syntax, a misspelt or
    /// unknown field, a value of the wrong type).
    #[error("{file}{}: {message}; fix the file (see examples/anist.toml for every field)", .location.as_deref().map(|l| format!(" ({l})")).unwrap_or_default())]
    Parse {
        /// The file.
        file: String,
        /// Line, column and table, when known.
        location: Option<String>,
        /// The parser's message (names the field; never quotes the line).
        message: String,
    },
    /// A field has a value that cannot be used.
    #[error("{file}: `{field}` {reason}")]
    Invalid {
        /// The file (or the environment variable that set the value).
        file: String,
        /// The field, e.g. `services.anist-verifica.purpose`.
        field: String,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// An environment override could not be applied.
    #[error("the environment variable {var} {reason}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong and what to write instead.
        reason: String,
    },
    /// A key file could not be loaded.
    #[error("{file}: the key `{field}` ({path}) could not be loaded: {source}")]
    Key {
        /// The configuration file.
        file: String,
        /// `key` or `modi_key`.
        field: String,
        /// The resolved key path.
        path: String,
        /// Why.
        source: KeyError,
    },
    /// The HTTP clients could not be built (CA bundle, TLS).
    #[error("{file}: the HTTP client could not be built: {reason}")]
    Http {
        /// The configuration file.
        file: String,
        /// Why (names `ca_bundle` when it is the cause).
        reason: String,
    },
    /// The configuration could not be written as TOML.
    #[error("the configuration could not be written as TOML: {reason}")]
    Serialize {
        /// Why.
        reason: String,
    },
}

impl ErrorCode for ConfigError {
    fn code(&self) -> &'static str {
        match self {
            ConfigError::Read { .. } => "config_read",
            ConfigError::Parse { .. } => "config_parse",
            ConfigError::Invalid { .. } => "config_invalid",
            ConfigError::Env { .. } => "config_env",
            ConfigError::Key { .. } => "config_key",
            ConfigError::Http { .. } => "config_http",
            ConfigError::Serialize { .. } => "config_serialize",
        }
    }
}

/// How vouchers are presented to an e-service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VoucherKind {
    /// `Authorization: Bearer <voucher>` (the default).
    #[default]
    Bearer,
    /// DPoP-bound vouchers (RFC 9449): the token request and every call
    /// carry a DPoP proof signed with the client key.
    Dpop,
}

impl VoucherKind {
    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "bearer" => Some(VoucherKind::Bearer),
            "dpop" => Some(VoucherKind::Dpop),
            _ => None,
        }
    }
}

/// `[operator]`: the person on whose behalf calls are made, for the
/// `Agid-JWT-TrackingEvidence` of AUDIT_REST_02 e-services. `Debug` hides
/// the user id (often a codice fiscale).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// Claim `userID`.
    pub user_id: String,
    /// Claim `userLocation` (e.g. the codice IPA of the ente; ANPR accepts
    /// at most 20 characters).
    pub user_location: String,
    /// Claim `LoA`, when set (ISEE Operatori: `LoA3` or `LoA4`, see
    /// [`crate::isee::Loa`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loa: Option<String>,
    /// ISEE Operatori: the file holding the operator's SPID/CIE assertion
    /// (relative to the configuration file's directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_file: Option<PathBuf>,
    /// ISEE Operatori: the environment variable holding the operator's
    /// SPID/CIE assertion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_env: Option<String>,
}

impl fmt::Debug for OperatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorConfig")
            .field(
                "user_id",
                &format_args!("<{} chars>", self.user_id.chars().count()),
            )
            .field("user_location", &self.user_location)
            .field("loa", &self.loa)
            .field("assertion_file", &self.assertion_file)
            .field("assertion_env", &self.assertion_env)
            .finish()
    }
}

impl OperatorConfig {
    /// The audit context of these fields.
    ///
    /// # Errors
    /// [`crate::modi::ModiError`] when a field is blank.
    pub fn audit_context(&self) -> Result<AuditContext, crate::modi::ModiError> {
        let c = AuditContext::new(self.user_id.trim(), self.user_location.trim())?;
        Ok(match self.loa.as_deref().map(str::trim) {
            Some(loa) if !loa.is_empty() => c.with_loa(loa),
            _ => c,
        })
    }
}

/// `[services.<name>]`: one e-service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// The gateway URL, up to and including the version
    /// (`https://…/govway/rest/in/<erogatore>/<servizio>/v1`).
    pub url: String,
    /// The voucher and ModI audience (default: `url`, assumption U5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The purpose (finalità) UUID the vouchers are asked for.
    pub purpose: String,
    /// INTEGRITY_REST_02 (`Digest` + `Agid-JWT-Signature`), default on.
    #[serde(default = "yes")]
    pub integrity: bool,
    /// AUDIT_REST_02 (`Agid-JWT-TrackingEvidence`), default off; needs
    /// `[operator]`.
    #[serde(default)]
    pub audit: bool,
    /// `Content-Encoding` to send and sign (e.g. `UTF-8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    /// Timeout of one call, milliseconds (default 30 000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// `bearer` (default) or `dpop` (RFC 9449 proofs with the client key).
    #[serde(default)]
    pub voucher: VoucherKind,
    /// Client certificate chain (PEM) for mTLS with this e-service: the
    /// service then gets its own connection pool presenting it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM, unencrypted) for mTLS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtls_key: Option<PathBuf>,
    /// SOAP e-services (INPS ISEE): the operation name, when not the
    /// client's default (assumption U11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// SOAP e-services (INPS ISEE): the whole `SOAPAction`, when not
    /// `<namespace>/ISvcConsultazione/<operation>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soap_action: Option<String>,
}

fn yes() -> bool {
    true
}

impl ServiceConfig {
    /// A service at `url` on `purpose`, with the defaults.
    pub fn new(url: &str, purpose: &str) -> Self {
        Self {
            url: url.to_string(),
            audience: None,
            purpose: purpose.to_string(),
            integrity: true,
            audit: false,
            content_encoding: None,
            timeout_ms: None,
            voucher: VoucherKind::Bearer,
            mtls_cert: None,
            mtls_key: None,
            operation: None,
            soap_action: None,
        }
    }

    /// The audience: `audience`, or `url` without a trailing `/`.
    pub fn effective_audience(&self) -> &str {
        self.audience
            .as_deref()
            .unwrap_or_else(|| self.url.trim_end_matches('/'))
    }

    /// The call profile of this service.
    pub fn profile(&self) -> ServiceProfile {
        ServiceProfile::new(&self.url, self.effective_audience())
            .integrity(self.integrity)
            .audit(self.audit)
            .content_encoding(self.content_encoding.as_deref())
            .dpop(self.voucher == VoucherKind::Dpop)
            .operation(self.operation.as_deref())
            .soap_action(self.soap_action.as_deref())
    }
}

/// `[inps]`: the ente asking the INPS ISEE services.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InpsConfig {
    /// The ente's IPA category (`comune`, `comune_capoluogo`, `asl`…, see
    /// `anist_core::isee::IpaCategory::as_str`): decides which ISEE
    /// services it may use.
    pub ipa_category: String,
    /// `INPS-Identity-UserId`: the ente's codice fiscale.
    pub user_id: String,
    /// `INPS-Identity-CodiceUfficio` (default `001`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_ufficio: Option<String>,
}

/// `[anpr_soap]`: the Comune's ANPR SOAP channel (service 3002, search by
/// document), over mTLS with the Comune's ANPR client certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnprSoapConfig {
    /// The 3000 services' endpoint (`https://…/AnprService3000`).
    pub url: String,
    /// The anagrafe operator's ANPR user id.
    pub operator_id: String,
    /// The Comune's codice ISTAT (6 digits).
    pub codice_istat: String,
    /// The Comune's ANPR client certificate (PEM chain).
    pub cert: PathBuf,
    /// Its private key (unencrypted PEM, readable only by the service).
    pub key: PathBuf,
    /// CA certificates (PEM) to trust for `url`, besides the system roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<PathBuf>,
    /// `tipoInvio` (default `DEFINITIVO`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tipo_invio: Option<String>,
}

/// `[limits]`: the client-side budget.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Calls per second, at most: a client-side rate limiter shared by
    /// every call of the session (burst 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<u32>,
    /// Calls in flight, at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Calls per day, at most (the erogatore's quota).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_calls: Option<u64>,
}

impl LimitsConfig {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

fn ser_env<S: Serializer>(env: &Environment, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(env.name())
}

fn de_env<'de, D: Deserializer<'de>>(d: D) -> Result<Environment, D::Error> {
    let name = String::deserialize(d)?;
    Environment::from_name(&name).ok_or_else(|| {
        serde::de::Error::custom(
            "environment must be one of produzione, collaudo, attestazione, sandbox",
        )
    })
}

/// The whole `anist.toml`. Unknown fields are refused with their name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The PDND environment.
    #[serde(serialize_with = "ser_env", deserialize_with = "de_env")]
    pub environment: Environment,
    /// Overrides the preset token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// Overrides the preset client-assertion audience (no scheme).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion_audience: Option<String>,
    /// Overrides the preset voucher issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher_issuer: Option<String>,
    /// Overrides the preset JWKS URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_url: Option<String>,
    /// The PDND client id (UUID).
    pub client_id: String,
    /// The private key that signs client assertions (and, without
    /// `modi_key`, the ModI tokens).
    pub key: PathBuf,
    /// The environment variable holding the key password (default
    /// [`DEFAULT_KEY_PASSWORD_ENV`]); the password itself is never in
    /// the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_password_env: Option<String>,
    /// A separate ModI signing key (assumption U18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modi_key: Option<PathBuf>,
    /// The environment variable holding the ModI key password (default:
    /// the one of `key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modi_key_password_env: Option<String>,
    /// Extra trusted CA certificates (PEM bundle).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    /// The operator identity (AUDIT_REST_02).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<OperatorConfig>,
    /// The client-side budget.
    #[serde(default, skip_serializing_if = "LimitsConfig::is_empty")]
    pub limits: LimitsConfig,
    /// The ente of the INPS ISEE services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inps: Option<InpsConfig>,
    /// The Comune's ANPR SOAP channel (search by document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anpr_soap: Option<AnprSoapConfig>,
    /// The e-services, by session name (e.g. [`crate::anist::VERIFICA`]).
    #[serde(default)]
    pub services: BTreeMap<String, ServiceConfig>,
    #[serde(skip)]
    origin: Option<PathBuf>,
}

/// Line and column (1-based) of byte `offset` in `text`, and the last
/// table header before it.
fn locate(text: &str, offset: usize) -> String {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let table = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .and_then(|l| l.split(']').next())
        .map(|l| l.trim_start_matches('['));
    match table {
        Some(t) => format!("line {line}, column {col}, in [{t}]"),
        None => format!("line {line}, column {col}"),
    }
}

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment as a lookup for [`Config::apply_env`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Config {
    /// A configuration with no service, operator nor override.
    pub fn new(environment: Environment, client_id: &str, key: impl Into<PathBuf>) -> Self {
        Self {
            environment,
            token_url: None,
            assertion_audience: None,
            voucher_issuer: None,
            jwks_url: None,
            client_id: client_id.to_string(),
            key: key.into(),
            key_password_env: None,
            modi_key: None,
            modi_key_password_env: None,
            ca_bundle: None,
            operator: None,
            limits: LimitsConfig::default(),
            inps: None,
            anpr_soap: None,
            services: BTreeMap::new(),
            origin: None,
        }
    }

    /// Parses TOML text (relative paths then resolve against the current
    /// directory).
    ///
    /// # Errors
    /// [`ConfigError::Parse`] naming the line and the field.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse_named(text, "the configuration")
    }

    fn parse_named(text: &str, file: &str) -> Result<Self, ConfigError> {
        toml::from_str::<Config>(text).map_err(|e| ConfigError::Parse {
            file: file.to_string(),
            location: e.span().map(|s| locate(text, s.start)),
            message: e.message().trim().to_string(),
        })
    }

    /// Reads and parses a file; relative paths in it resolve against its
    /// directory. Environment overrides are not applied ([`Self::load`]
    /// does).
    ///
    /// # Errors
    /// [`ConfigError::Read`], [`ConfigError::Parse`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: file.clone(),
            kind: e.kind(),
        })?;
        let mut config = Self::parse_named(&text, &file)?;
        config.origin = Some(path.to_path_buf());
        Ok(config)
    }

    /// [`Self::from_file`], then [`Self::apply_env`] with the process
    /// environment.
    ///
    /// # Errors
    /// As both.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let mut config = Self::from_file(path)?;
        config.apply_env(&process_env)?;
        Ok(config)
    }

    /// The file this configuration was read from, if any.
    pub fn origin(&self) -> Option<&Path> {
        self.origin.as_deref()
    }

    /// Sets the file relative paths resolve against (and errors name).
    #[must_use]
    pub fn with_origin(mut self, path: impl Into<PathBuf>) -> Self {
        self.origin = Some(path.into());
        self
    }

    fn file(&self) -> String {
        self.origin.as_ref().map_or_else(
            || "the configuration".to_string(),
            |p| p.display().to_string(),
        )
    }

    /// `path` resolved against the configuration file's directory.
    pub fn resolve_path(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            return path.to_path_buf();
        }
        match self.origin.as_deref().and_then(Path::parent) {
            Some(dir) => dir.join(path),
            None => path.to_path_buf(),
        }
    }

    /// The configuration as TOML (reads back equal with
    /// [`Self::from_toml_str`]).
    ///
    /// # Errors
    /// [`ConfigError::Serialize`].
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Serialize {
            reason: e.to_string(),
        })
    }

    /// Applies the environment overrides (see the module documentation),
    /// reading variables through `lookup`.
    ///
    /// # Errors
    /// [`ConfigError::Env`] naming the variable with an unusable value.
    pub fn apply_env(&mut self, lookup: Lookup<'_>) -> Result<(), ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("ANIST_ENVIRONMENT") {
            self.environment = Environment::from_name(&v).ok_or_else(|| ConfigError::Env {
                var: "ANIST_ENVIRONMENT".into(),
                reason: "must be one of produzione, collaudo, attestazione, sandbox".into(),
            })?;
        }
        let strings: [(&str, &mut Option<String>); 6] = [
            ("ANIST_TOKEN_URL", &mut self.token_url),
            ("ANIST_ASSERTION_AUDIENCE", &mut self.assertion_audience),
            ("ANIST_VOUCHER_ISSUER", &mut self.voucher_issuer),
            ("ANIST_JWKS_URL", &mut self.jwks_url),
            ("ANIST_KEY_PASSWORD_ENV", &mut self.key_password_env),
            (
                "ANIST_MODI_KEY_PASSWORD_ENV",
                &mut self.modi_key_password_env,
            ),
        ];
        for (var, field) in strings {
            if let Some(v) = get(var) {
                *field = Some(v.trim().to_string());
            }
        }
        if let Some(v) = get("ANIST_CLIENT_ID") {
            self.client_id = v.trim().to_string();
        }
        if let Some(v) = get("ANIST_KEY") {
            self.key = PathBuf::from(v.trim());
        }
        if let Some(v) = get("ANIST_MODI_KEY") {
            self.modi_key = Some(PathBuf::from(v.trim()));
        }
        if let Some(v) = get("ANIST_CA_BUNDLE") {
            self.ca_bundle = Some(PathBuf::from(v.trim()));
        }
        let user_id = get("ANIST_OPERATOR_USER_ID");
        let location = get("ANIST_OPERATOR_USER_LOCATION");
        let loa = get("ANIST_OPERATOR_LOA");
        let assertion_file = get("ANIST_OPERATOR_ASSERTION_FILE");
        let assertion_env = get("ANIST_OPERATOR_ASSERTION_ENV");
        if assertion_file.is_some() || assertion_env.is_some() {
            let op = self.operator.get_or_insert_with(OperatorConfig::default);
            if let Some(v) = assertion_file {
                op.assertion_file = Some(PathBuf::from(v.trim()));
            }
            if let Some(v) = assertion_env {
                op.assertion_env = Some(v.trim().to_string());
            }
        }
        let category = get("ANIST_INPS_IPA_CATEGORY");
        let inps_user = get("ANIST_INPS_USER_ID");
        let ufficio = get("ANIST_INPS_CODICE_UFFICIO");
        if category.is_some() || inps_user.is_some() || ufficio.is_some() {
            let inps = self.inps.get_or_insert_with(InpsConfig::default);
            if let Some(v) = category {
                inps.ipa_category = v.trim().to_string();
            }
            if let Some(v) = inps_user {
                inps.user_id = v.trim().to_string();
            }
            if let Some(v) = ufficio {
                inps.codice_ufficio = Some(v.trim().to_string());
            }
        }
        if user_id.is_some() || location.is_some() || loa.is_some() {
            let op = self.operator.get_or_insert_with(OperatorConfig::default);
            if let Some(v) = user_id {
                op.user_id = v.trim().to_string();
            }
            if let Some(v) = location {
                op.user_location = v.trim().to_string();
            }
            if let Some(v) = loa {
                op.loa = Some(v.trim().to_string());
            }
        }
        if let Some(v) = get("ANIST_LIMITS_RATE_PER_SECOND") {
            self.limits.rate_per_second = Some(number("ANIST_LIMITS_RATE_PER_SECOND", &v)?);
        }
        if let Some(v) = get("ANIST_LIMITS_CONCURRENCY") {
            self.limits.concurrency = Some(number("ANIST_LIMITS_CONCURRENCY", &v)?);
        }
        if let Some(v) = get("ANIST_LIMITS_DAILY_CALLS") {
            self.limits.daily_calls = Some(number("ANIST_LIMITS_DAILY_CALLS", &v)?);
        }
        for (name, service) in &mut self.services {
            apply_service_env(name, service, &get)?;
        }
        Ok(())
    }
}

/// The variable-name form of a service name: upper case, `-` and `.` as `_`.
pub fn service_env_name(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '-' | '.' | ' ' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

fn number<T: std::str::FromStr>(var: &str, value: &str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Env {
        var: var.to_string(),
        reason: "must be a whole non-negative number".into(),
    })
}

fn boolean(var: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Env {
            var: var.to_string(),
            reason: "must be true or false".into(),
        }),
    }
}

fn apply_service_env(
    name: &str,
    s: &mut ServiceConfig,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    let prefix = format!("ANIST_SERVICES__{}__", service_env_name(name));
    let var = |field: &str| format!("{prefix}{field}");
    let value = |field: &str| get(&var(field)).map(|v| v.trim().to_string());
    if let Some(v) = value("URL") {
        s.url = v;
    }
    if let Some(v) = value("AUDIENCE") {
        s.audience = Some(v);
    }
    if let Some(v) = value("PURPOSE") {
        s.purpose = v;
    }
    if let Some(v) = value("INTEGRITY") {
        s.integrity = boolean(&var("INTEGRITY"), &v)?;
    }
    if let Some(v) = value("AUDIT") {
        s.audit = boolean(&var("AUDIT"), &v)?;
    }
    if let Some(v) = value("CONTENT_ENCODING") {
        s.content_encoding = Some(v);
    }
    if let Some(v) = value("TIMEOUT_MS") {
        s.timeout_ms = Some(number(&var("TIMEOUT_MS"), &v)?);
    }
    if let Some(v) = value("VOUCHER") {
        s.voucher = VoucherKind::parse(&v).ok_or_else(|| ConfigError::Env {
            var: var("VOUCHER"),
            reason: "must be bearer or dpop".into(),
        })?;
    }
    if let Some(v) = value("MTLS_CERT") {
        s.mtls_cert = Some(PathBuf::from(v));
    }
    if let Some(v) = value("MTLS_KEY") {
        s.mtls_key = Some(PathBuf::from(v));
    }
    if let Some(v) = value("OPERATION") {
        s.operation = Some(v);
    }
    if let Some(v) = value("SOAP_ACTION") {
        s.soap_action = Some(v);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Session

impl Config {
    /// The PDND endpoints: the environment's preset with the overrides.
    pub fn endpoints(&self) -> PdndEndpoints {
        let mut e = self.environment.endpoints();
        if let Some(v) = &self.token_url {
            e = e.with_token_url(v.trim());
        }
        if let Some(v) = &self.assertion_audience {
            e = e.with_assertion_audience(v.trim());
        }
        if let Some(v) = &self.voucher_issuer {
            e = e.with_voucher_issuer(v.trim());
        }
        if let Some(v) = &self.jwks_url {
            e = e.with_jwks_url(v.trim());
        }
        e
    }

    fn invalid(&self, field: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.file(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn password(&self, var: Option<&str>, lookup: Lookup<'_>) -> Option<Vec<u8>> {
        let name = var.map_or(DEFAULT_KEY_PASSWORD_ENV, str::trim);
        lookup(name).map(String::into_bytes)
    }

    /// Loads `key` with its password (from the variable `key_password_env`
    /// names, read through `lookup`).
    ///
    /// # Errors
    /// [`ConfigError::Key`].
    pub fn load_key(&self, lookup: Lookup<'_>) -> Result<PrivateKey, ConfigError> {
        let password = self.password(self.key_password_env.as_deref(), lookup);
        self.load_key_file("key", &self.key, password.as_deref())
    }

    /// Loads `modi_key`, if set.
    ///
    /// # Errors
    /// [`ConfigError::Key`].
    pub fn load_modi_key(&self, lookup: Lookup<'_>) -> Result<Option<PrivateKey>, ConfigError> {
        let Some(path) = &self.modi_key else {
            return Ok(None);
        };
        let var = self
            .modi_key_password_env
            .as_deref()
            .or(self.key_password_env.as_deref());
        let password = self.password(var, lookup);
        self.load_key_file("modi_key", path, password.as_deref())
            .map(Some)
    }

    fn load_key_file(
        &self,
        field: &str,
        path: &Path,
        password: Option<&[u8]>,
    ) -> Result<PrivateKey, ConfigError> {
        let resolved = self.resolve_path(path);
        PrivateKey::from_file(&resolved, password).map_err(|source| ConfigError::Key {
            file: self.file(),
            field: field.to_string(),
            path: resolved.display().to_string(),
            source,
        })
    }

    fn http_options(&self, timeout: Option<Duration>) -> Result<HttpOptions, ConfigError> {
        let mut options = HttpOptions::default();
        if let Some(t) = timeout {
            options = options.timeout(t);
        }
        if let Some(path) = &self.ca_bundle {
            let resolved = self.resolve_path(path);
            let pem = std::fs::read(&resolved).map_err(|e| {
                self.invalid(
                    "ca_bundle",
                    format!(
                        "names {}, which cannot be read ({}): fix the path",
                        resolved.display(),
                        e.kind()
                    ),
                )
            })?;
            options = options.ca_bundle_pem(pem);
        }
        Ok(options)
    }

    /// A ready session with the process environment's key passwords
    /// ([`Self::session_with_env`]).
    ///
    /// # Errors
    /// As [`Self::session_with_env`].
    pub fn session(&self, clock: Arc<dyn Clock>) -> Result<Session, ConfigError> {
        self.session_with_env(clock, &process_env)
    }

    /// Loads the keys, builds the token fetcher, the voucher cache, the
    /// caller and a [`Session`] with every service and the operator. The
    /// caller's timeout is the longest `timeout_ms` of the services
    /// (default 30 s). Key passwords are read through `lookup`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the field: ids that are not UUIDs, URLs that
    /// are not `https://` (plain `http://` only to loopback), an AUDIT
    /// service without `[operator]`, keys that do not load, a CA bundle
    /// that cannot be read.
    pub fn session_with_env(
        &self,
        clock: Arc<dyn Clock>,
        lookup: Lookup<'_>,
    ) -> Result<Session, ConfigError> {
        let client_id = ClientId::parse(&self.client_id)
            .map_err(|e| self.invalid("client_id", e.to_string()))?;
        let endpoints = self.endpoints();
        if !transport_allowed(endpoints.token_url()) {
            return Err(self.invalid(
                "token_url",
                "must be https:// (plain http:// only to 127.0.0.1 or localhost)",
            ));
        }
        let operator = match &self.operator {
            Some(op) => Some(op.audit_context().map_err(|e| {
                self.invalid("operator", format!("{e}: fill user_id and user_location"))
            })?),
            None => None,
        };
        let mut services = Vec::new();
        for (name, s) in &self.services {
            let field = |f: &str| format!("services.{name}.{f}");
            let purpose = PurposeId::parse(&s.purpose)
                .map_err(|e| self.invalid(field("purpose"), e.to_string()))?;
            if !transport_allowed(&s.url) {
                return Err(self.invalid(
                    field("url"),
                    "must be https:// (plain http:// only to 127.0.0.1 or localhost)",
                ));
            }
            if s.audit && operator.is_none() {
                return Err(self.invalid(
                    field("audit"),
                    "is on but there is no [operator] section: add user_id and user_location",
                ));
            }
            services.push((name.clone(), Service::new(s.profile(), purpose)));
        }
        let key = Arc::new(self.load_key(lookup)?);
        let dpop = self
            .services
            .values()
            .any(|s| s.voucher == VoucherKind::Dpop);
        let modi_key = self.load_modi_key(lookup)?.map(Arc::new);
        let http_error = |reason: String| ConfigError::Http {
            file: self.file(),
            reason,
        };
        let mut fetcher = HttpTokenFetcher::with_options(
            endpoints,
            Arc::clone(&key),
            Arc::clone(&clock),
            &self.http_options(None)?,
        )
        .map_err(|e| http_error(e.to_string()))?;
        if let Some(m) = &modi_key {
            fetcher = fetcher.modi_key(Arc::clone(m));
        }
        if dpop {
            fetcher = fetcher.dpop_key(Arc::clone(&key));
        }
        let cache = Arc::new(VoucherCache::new(fetcher, Arc::clone(&clock)));
        let signer = ModiSigner::new(
            client_id.clone(),
            Arc::clone(modi_key.as_ref().unwrap_or(&key)),
        );
        let timeout = self
            .services
            .values()
            .filter_map(|s| s.timeout_ms)
            .max()
            .map_or(DEFAULT_CALL_TIMEOUT, Duration::from_millis);
        // The client-side budget: every call of the session (retries too,
        // every caller) takes a token, so that the erogatore's rate policy
        // is not hit.
        let limiter = match self.limits.rate_per_second.filter(|r| *r > 0) {
            Some(rate) => Some(Arc::new(
                crate::ratelimit::RateLimiter::new(f64::from(rate), 1)
                    .map_err(|e| http_error(e.to_string()))?,
            )),
            None => None,
        };
        let make_caller = |options: &HttpOptions| -> Result<Caller<HttpTokenFetcher>, ConfigError> {
            let mut caller = Caller::with_options(
                Arc::clone(&cache),
                signer.clone(),
                Arc::clone(&clock),
                options,
            )
            .map_err(|e| http_error(e.to_string()))?;
            if let Some(l) = &limiter {
                caller = caller.rate_limiter(Arc::clone(l));
            }
            if dpop {
                caller = caller.dpop_key(Arc::clone(&key));
            }
            Ok(caller)
        };
        let options = self.http_options(Some(timeout))?;
        let caller = make_caller(&options)?;
        // A service with a client certificate gets its own caller (mTLS
        // identity), sharing the voucher cache and the budget.
        let mut services = services;
        for (name, service) in &mut services {
            let Some(s) = self.services.get(name.as_str()) else {
                continue;
            };
            if let (Some(cert), Some(key_path)) = (&s.mtls_cert, &s.mtls_key) {
                let read = |f: &str, p: &std::path::Path| {
                    let resolved = self.resolve_path(p);
                    std::fs::read(&resolved).map_err(|e| {
                        self.invalid(
                            format!("services.{name}.{f}"),
                            format!(
                                "names {}, which cannot be read ({}): fix the path",
                                resolved.display(),
                                e.kind()
                            ),
                        )
                    })
                };
                let with_identity = options
                    .clone()
                    .client_identity_pem(read("mtls_cert", cert)?, read("mtls_key", key_path)?);
                *service = service
                    .clone()
                    .with_caller(Arc::new(make_caller(&with_identity)?));
            }
        }
        let mut session = Session::new(caller, self.environment, client_id, key.kid().clone());
        for (name, service) in services {
            session = session.service(&name, service);
        }
        if let Some(op) = operator {
            session = session.operator(op);
        }
        Ok(session)
    }
}

// ---------------------------------------------------------------------------
// INPS ISEE

/// The ISEE service a session name stands for ([`crate::isee::LEGACY_V1`]
/// counts as the plain Indicatore).
fn isee_service_of(name: &str) -> Option<IseeService> {
    if name == crate::isee::LEGACY_V1 {
        return Some(IseeService::Indicatore);
    }
    IseeService::ALL
        .into_iter()
        .find(|s| crate::isee::session_name(*s) == name)
}

impl Config {
    /// Whether any configured e-service is an INPS ISEE one.
    fn has_isee(&self) -> bool {
        self.services.keys().any(|n| isee_service_of(n).is_some())
    }

    /// Whether any configured e-service is an ISEE Operatori one.
    fn has_isee_operatori(&self) -> bool {
        self.services
            .keys()
            .filter_map(|n| isee_service_of(n))
            .any(|s| s.family() == ServiceFamily::Operatori)
    }

    /// The ente of `[inps]`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the field: `[inps]` missing, an
    /// unknown `ipa_category`, an empty `user_id`.
    pub fn isee_ente(&self) -> Result<IseeEnte, ConfigError> {
        let Some(inps) = &self.inps else {
            return Err(self.invalid(
                "inps",
                "is missing: add an [inps] section with ipa_category and user_id (the ente's codice fiscale)",
            ));
        };
        let category = IpaCategory::parse(&inps.ipa_category).ok_or_else(|| {
            self.invalid(
                "inps.ipa_category",
                format!(
                    "is not an IPA category: write one of {}",
                    IpaCategory::ALL.map(IpaCategory::as_str).join(", ")
                ),
            )
        })?;
        if inps.user_id.trim().is_empty() {
            return Err(self.invalid("inps.user_id", "is empty: write the ente's codice fiscale"));
        }
        let mut ente = IseeEnte::new(category, &inps.user_id);
        if let Some(u) = inps.codice_ufficio.as_deref().map(str::trim) {
            if !u.is_empty() {
                ente.codice_ufficio = u.to_string();
            }
        }
        Ok(ente)
    }

    /// The operator of the ISEE Operatori services, from `[operator]`
    /// (`user_id` a codice fiscale, `loa` a [`Loa`], the assertion read
    /// from `assertion_file` or the variable `assertion_env` names, through
    /// `lookup`); `None` without `[operator]`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the field that cannot be used.
    pub fn isee_operator(
        &self,
        lookup: Lookup<'_>,
    ) -> Result<Option<OperatorIdentity>, ConfigError> {
        let Some(op) = &self.operator else {
            return Ok(None);
        };
        let codice_fiscale = CodiceFiscale::parse(op.user_id.trim()).map_err(|e| {
            self.invalid(
                "operator.user_id",
                format!("is not a codice fiscale ({}): the ISEE Operatori services need the operator's codice fiscale", e.code()),
            )
        })?;
        let loa = op.loa.as_deref().and_then(Loa::parse).ok_or_else(|| {
            self.invalid(
                "operator.loa",
                "is not a level of assurance: write LoA3 or LoA4 (also SpidL2, SpidL3, CIE) for the ISEE Operatori services",
            )
        })?;
        if !loa.is_enough_for_operatori() {
            return Err(self.invalid(
                "operator.loa",
                format!("is {loa}: the ISEE Operatori services need SPID level 2 at least (LoA3) or CIE"),
            ));
        }
        let assertion = match (&op.assertion_file, &op.assertion_env) {
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    "operator.assertion_file",
                    "and assertion_env are both set: keep one",
                ))
            }
            (Some(path), None) => {
                let resolved = self.resolve_path(path);
                let bytes = std::fs::read(&resolved).map_err(|e| {
                    self.invalid(
                        "operator.assertion_file",
                        format!(
                            "names {}, which cannot be read ({}): fix the path",
                            resolved.display(),
                            e.kind()
                        ),
                    )
                })?;
                Some(SecretAssertion::new(bytes))
            }
            (None, Some(var)) => {
                let value = lookup(var.trim()).filter(|v| !v.trim().is_empty());
                let value = value.ok_or_else(|| {
                    self.invalid(
                        "operator.assertion_env",
                        format!(
                            "names {}, which is not set: put the operator's assertion in it",
                            var.trim()
                        ),
                    )
                })?;
                Some(SecretAssertion::new(value.into_bytes()))
            }
            (None, None) => None,
        };
        Ok(Some(OperatorIdentity {
            codice_fiscale,
            loa,
            assertion,
        }))
    }

    /// [`Self::isee_client_with_env`] with the process environment.
    ///
    /// # Errors
    /// As [`Self::isee_client_with_env`].
    pub fn isee_client(&self, session: Arc<Session>) -> Result<IseeClient, ConfigError> {
        self.isee_client_with_env(session, &process_env)
    }

    /// The INPS ISEE client of this configuration over `session` (made by
    /// [`Self::session`]): the ente of `[inps]`, and the operator of
    /// `[operator]` when an ISEE Operatori service is configured (its
    /// assertion read through `lookup` when it comes from a variable). An
    /// operator that cannot be used ([`Self::isee_operator`] fails) makes
    /// only the Operatori calls fail (`isee_operator_invalid`).
    ///
    /// # Errors
    /// As [`Self::isee_ente`].
    pub fn isee_client_with_env(
        &self,
        session: Arc<Session>,
        lookup: Lookup<'_>,
    ) -> Result<IseeClient, ConfigError> {
        let mut client = IseeClient::new(session, self.isee_ente()?);
        if self.has_isee_operatori() {
            // Only the Operatori services need the operator: a problem
            // with it fails those calls, never the Residenti, Riscontro or
            // plain ones.
            match self.isee_operator(lookup) {
                Ok(Some(op)) => client = client.operator(op),
                Ok(None) => {}
                Err(e) => client = client.operator_unusable(e.to_string()),
            }
        }
        Ok(client)
    }

    /// The settings of the ANPR SOAP 3002 client from `[anpr_soap]`
    /// (certificate, key and CA read from their files).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the field: `[anpr_soap]` missing, a
    /// non-https `url`, an ISTAT code that is not 6 digits, an empty
    /// operator, a file that cannot be read.
    pub fn anpr_soap_settings(&self) -> Result<crate::anpr::soap::AnprSoapSettings, ConfigError> {
        let Some(c) = &self.anpr_soap else {
            return Err(self.invalid(
                "anpr_soap",
                "is missing: add an [anpr_soap] section with url, operator_id, codice_istat, cert and key",
            ));
        };
        if !c.url.starts_with("https://") {
            return Err(self.invalid("anpr_soap.url", "must start with https://"));
        }
        if c.codice_istat.len() != 6 || !c.codice_istat.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.invalid(
                "anpr_soap.codice_istat",
                "must be the Comune's 6-digit ISTAT code (e.g. 001272)",
            ));
        }
        if c.operator_id.trim().is_empty() {
            return Err(self.invalid(
                "anpr_soap.operator_id",
                "is empty: write the anagrafe operator's ANPR user id",
            ));
        }
        let read = |field: &str, path: &Path| {
            std::fs::read(self.resolve_path(path)).map_err(|e| {
                self.invalid(
                    format!("anpr_soap.{field}"),
                    format!("cannot be read ({}): check the path", e.kind()),
                )
            })
        };
        let cert = read("cert", &c.cert)?;
        let key = zeroize::Zeroizing::new(read("key", &c.key)?);
        let mut s =
            crate::anpr::soap::AnprSoapSettings::new(&c.url, c.operator_id.trim(), &c.codice_istat);
        s.identity_pem = Some((cert, key));
        if let Some(ca) = &c.ca {
            s.ca_pem = Some(read("ca", ca)?);
        }
        if let Some(t) = c.tipo_invio.as_deref().map(str::trim) {
            if !t.is_empty() {
                s.tipo_invio = t.to_string();
            }
        }
        Ok(s)
    }

    fn check_anpr_soap(&self, r: &mut Report) {
        if self.anpr_soap.is_none() {
            return;
        }
        match self.anpr_soap_settings() {
            Ok(s) => r.ok(
                "anpr_soap",
                "anpr_soap",
                format!("Comune {} via {}", s.codice_istat, s.endpoint),
            ),
            Err(e) => r.push(
                "anpr_soap",
                Status::Fail,
                "anpr_soap",
                e.to_string(),
                "Fix [anpr_soap]: https url, operator_id, 6-digit codice_istat, readable cert and key (the Comune's ANPR client certificate).",
            ),
        }
    }

    fn check_isee(&self, r: &mut Report, lookup: Lookup<'_>) {
        if !self.has_isee() {
            return;
        }
        let ente = match self.isee_ente() {
            Ok(e) => {
                r.ok(
                    "inps_ente",
                    "inps",
                    format!("IPA category {}", e.category.as_str()),
                );
                Some(e)
            }
            Err(e) => {
                r.push(
                    "inps_ente",
                    Status::Fail,
                    "inps",
                    e.to_string(),
                    "Add [inps] with ipa_category (comune, comune_capoluogo, regione_provincia_autonoma, asl, universita…) and user_id (the ente's codice fiscale).",
                );
                None
            }
        };
        for (name, s) in &self.services {
            let Some(service) = isee_service_of(name) else {
                continue;
            };
            let subject = format!("services.{name}");
            if let Some(ente) = &ente {
                if let Err(e) = anist_core::isee::check_eligibility(ente.category, service) {
                    r.push(
                        "isee_eligibility",
                        Status::Fail,
                        subject.clone(),
                        e.to_string(),
                        "Remove the service, or fix inps.ipa_category: INPS refuses it to this category.",
                    );
                }
            }
            if s.integrity {
                r.push(
                    "isee_integrity",
                    Status::Warn,
                    format!("{subject}.integrity"),
                    "INTEGRITY_REST_02 is on; the INPS ISEE services take a plain Bearer voucher",
                    "Set integrity = false for the INPS ISEE services.",
                );
            }
            if crate::isee::mtls_by_default(service)
                && (s.mtls_cert.is_none() || s.mtls_key.is_none())
            {
                r.push(
                    "isee_mtls",
                    Status::Warn,
                    format!("{subject}.mtls_cert"),
                    "this ISEE service wants the INPS client certificate (mTLS) and none is set",
                    "Set mtls_cert and mtls_key to the certificate INPS issued to the ente: the plain Indicatore / Attestazione services need it (INPS message 3269/2025); Residenti and Riscontro go without, Operatori use the operator's SPID/CIE assertion.",
                );
            }
        }
        if self.has_isee_operatori() {
            match self.isee_operator(lookup) {
                Ok(Some(op)) => r.ok(
                    "isee_operator",
                    "operator",
                    format!(
                        "operator with LoA {}{}",
                        op.loa,
                        if op.assertion.is_some() {
                            ", assertion readable"
                        } else {
                            ", no assertion"
                        }
                    ),
                ),
                Ok(None) => r.push(
                    "isee_operator",
                    Status::Fail,
                    "operator",
                    "an ISEE Operatori service is configured but there is no [operator]",
                    "Add [operator] with user_id (the operator's codice fiscale), user_location, loa (LoA3 or LoA4; SpidL2, SpidL3, CIE too) and assertion_file or assertion_env.",
                ),
                Err(e) => r.push(
                    "isee_operator",
                    Status::Fail,
                    "operator",
                    e.to_string(),
                    "Only the ISEE Operatori services need the operator: their codice fiscale in user_id, loa LoA3 or LoA4 (SPID level 2 or 3, CIE), and a readable assertion. The other ISEE services are not affected.",
                ),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Check

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Passed.
    Ok,
    /// Accepted, but fragile or not yet supported.
    Warn,
    /// Would fail: fix it before calling.
    Fail,
}

impl Status {
    /// `ok`, `warn`, `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One check of [`Config::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    rule: String,
    status: Status,
    subject: String,
    detail: String,
    fix: String,
}

impl Check {
    /// The rule's stable snake-case code (`client_id_uuid`,
    /// `service_url_https`…; pre-flight rules are `preflight_<rule>`).
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The outcome.
    pub fn status(&self) -> Status {
        self.status
    }

    /// What was checked: a field (`client_id`, `services.<name>.url`) or a
    /// service.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// What was found (never a key, a password, a token or an operator id).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// What to do (empty when passed).
    pub fn fix(&self) -> &str {
        &self.fix
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<4} {} [{}]: {}",
            self.status.as_str(),
            self.rule,
            self.subject,
            self.detail
        )?;
        if self.status != Status::Ok && !self.fix.is_empty() {
            write!(f, "\n     fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// The result of [`Config::check`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    checks: Vec<Check>,
}

impl Report {
    /// Every check, in order.
    pub fn checks(&self) -> &[Check] {
        &self.checks
    }

    /// True when no check failed (warnings allowed).
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Fail)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == Status::Fail)
    }

    /// True when `rule` failed.
    pub fn failed(&self, rule: &str) -> bool {
        self.failures().any(|c| c.rule == rule)
    }

    /// The status of the first check of `rule`, if it ran.
    pub fn status_of(&self, rule: &str) -> Option<Status> {
        self.checks
            .iter()
            .find(|c| c.rule == rule)
            .map(|c| c.status)
    }

    /// A report of one failed check: the configuration could not be read
    /// as TOML or its environment overrides are unusable.
    pub fn from_error(error: &ConfigError) -> Self {
        let (rule, fix) = match error {
            ConfigError::Env { .. } => (
                "config_env",
                "Fix or unset the environment variable named.",
            ),
            _ => (
                "config_parse",
                "Fix the line named: check the spelling of the field (every field is listed in examples/anist.toml) and the quoting of strings.",
            ),
        };
        let mut r = Self::default();
        r.push(rule, Status::Fail, "file", error.to_string(), fix);
        r
    }

    fn push(
        &mut self,
        rule: &str,
        status: Status,
        subject: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.checks.push(Check {
            rule: rule.to_string(),
            status,
            subject: subject.into(),
            detail: detail.into(),
            fix: fix.into(),
        });
    }

    fn ok(&mut self, rule: &str, subject: impl Into<String>, detail: impl Into<String>) {
        self.push(rule, Status::Ok, subject, detail, "");
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            writeln!(f, "{c}")?;
        }
        let failed = self.failures().count();
        let warned = self
            .checks
            .iter()
            .filter(|c| c.status == Status::Warn)
            .count();
        write!(
            f,
            "{} checks: {} passed, {warned} warnings, {failed} failed",
            self.checks.len(),
            self.checks.len() - failed - warned
        )
    }
}

/// The ids of the example configuration (`00000000-0000-…`).
fn is_placeholder(uuid: &str) -> bool {
    uuid.starts_with("00000000-0000-")
}

const HTTPS_FIX: &str = "Use the https:// URL (plain http:// is accepted only to 127.0.0.1 or localhost, i.e. the sandbox).";

impl Config {
    /// [`Self::check_with_env`] with the process environment's key
    /// passwords.
    pub fn check(&self, now: i64) -> Report {
        self.check_with_env(now, &process_env)
    }

    /// Offline checks, at Unix time `now`, with key passwords read through
    /// `lookup`: ids, URLs, audiences, keys, CA bundle, operator, services,
    /// then the pre-flight diagnosis ([`crate::preflight::diagnose`], every
    /// rule) of a client assertion signed with the configured key for each
    /// service's purpose (with the TrackingEvidence digest for AUDIT
    /// services). Nothing is sent.
    pub fn check_with_env(&self, now: i64, lookup: Lookup<'_>) -> Report {
        let mut r = Report::default();
        r.ok(
            "config_parse",
            "file",
            format!("{} parses ({})", self.file(), self.environment),
        );
        let client_id = self.check_client_id(&mut r);
        let endpoints = self.check_endpoints(&mut r);
        let key = self.check_keys(&mut r, lookup);
        self.check_ca_bundle(&mut r);
        let operator = self.check_operator(&mut r);
        self.check_limits(&mut r);
        self.check_isee(&mut r, lookup);
        self.check_anpr_soap(&mut r);
        if self.services.is_empty() {
            r.push(
                "services_present",
                Status::Fail,
                "services",
                "no [services.<name>] section",
                "Add a [services.<name>] section (url, purpose) for each e-service to call, e.g. [services.anist-verifica].",
            );
        }
        for (name, s) in &self.services {
            let purpose = self.check_service(&mut r, name, s, operator.is_some());
            if let (Some(client_id), Some(purpose), Some((key, modi_key))) =
                (&client_id, purpose, &key)
            {
                let evidence = if s.audit {
                    operator.as_ref().map(|op| (op, s.effective_audience()))
                } else {
                    None
                };
                self.check_preflight(
                    &mut r,
                    name,
                    &endpoints,
                    client_id,
                    &purpose,
                    (key, modi_key.as_ref().unwrap_or(key)),
                    evidence,
                    now,
                );
            }
        }
        r
    }

    fn check_client_id(&self, r: &mut Report) -> Option<ClientId> {
        match ClientId::parse(&self.client_id) {
            Ok(id) if is_placeholder(id.as_str()) => {
                r.push(
                    "client_id_uuid",
                    Status::Fail,
                    "client_id",
                    format!("{id} is a placeholder"),
                    "Replace it with the client id (a UUID) shown in the PDND back office: Client e-service → your client.",
                );
                None
            }
            Ok(id) => {
                r.ok("client_id_uuid", "client_id", format!("client id {id}"));
                Some(id)
            }
            Err(e) => {
                r.push(
                    "client_id_uuid",
                    Status::Fail,
                    "client_id",
                    e.to_string(),
                    "Copy the client id (a UUID) from the PDND back office: Client e-service → your client.",
                );
                None
            }
        }
    }

    fn check_endpoints(&self, r: &mut Report) -> PdndEndpoints {
        let e = self.endpoints();
        for (field, url) in [("token_url", e.token_url()), ("jwks_url", e.jwks_url())] {
            if transport_allowed(url) {
                r.ok("url_https", field, url.to_string());
            } else {
                r.push(
                    "url_https",
                    Status::Fail,
                    field,
                    format!("{url} is not https://"),
                    HTTPS_FIX,
                );
            }
        }
        let aud = e.assertion_audience();
        if aud.contains("://") {
            r.push(
                "assertion_audience_scheme",
                Status::Fail,
                "assertion_audience",
                format!("{aud} has a scheme"),
                "PDND's client-assertion audience has no scheme: write it as auth.uat.interop.pagopa.it/client-assertion, not https://….",
            );
        } else if aud.trim().is_empty() || aud.contains(char::is_whitespace) {
            r.push(
                "assertion_audience_scheme",
                Status::Fail,
                "assertion_audience",
                "the audience is empty or contains blanks",
                "Remove assertion_audience to use the environment's preset.",
            );
        } else {
            r.ok(
                "assertion_audience_scheme",
                "assertion_audience",
                aud.to_string(),
            );
        }
        let preset = self.environment.endpoints();
        let other = Environment::ALL
            .iter()
            .find(|env| **env != self.environment && env.endpoints().assertion_audience() == aud);
        if let Some(other) = other {
            r.push(
                "assertion_audience_environment",
                Status::Fail,
                "assertion_audience",
                format!("{aud} is the {other} audience; environment is {}", self.environment),
                "Each environment has its own token URL, audience, client and keys: remove assertion_audience, or set environment to the one the client belongs to.",
            );
        } else if aud != preset.assertion_audience() {
            r.push(
                "assertion_audience_environment",
                Status::Warn,
                "assertion_audience",
                format!(
                    "{aud} overrides the {} preset {}",
                    self.environment,
                    preset.assertion_audience()
                ),
                "Keep the override only if the PDND back office shows this audience.",
            );
        } else {
            r.ok(
                "assertion_audience_environment",
                "assertion_audience",
                format!("the {} audience", self.environment),
            );
        }
        e
    }

    fn check_keys(
        &self,
        r: &mut Report,
        lookup: Lookup<'_>,
    ) -> Option<(Arc<PrivateKey>, Option<Arc<PrivateKey>>)> {
        let key = self.check_one_key(r, "key", || self.load_key(lookup));
        let modi = match &self.modi_key {
            None => None,
            Some(_) => {
                let k = self.check_one_key(r, "modi_key", || {
                    self.load_modi_key(lookup)
                        .and_then(|k| k.ok_or_else(|| self.invalid("modi_key", "is not set")))
                });
                // A ModI key that does not load must not fall back silently.
                Some(Arc::new(k?))
            }
        };
        key.map(|k| (Arc::new(k), modi))
    }

    fn check_one_key(
        &self,
        r: &mut Report,
        field: &str,
        load: impl FnOnce() -> Result<PrivateKey, ConfigError>,
    ) -> Option<PrivateKey> {
        match load() {
            Ok(k) => {
                r.ok(
                    "key_loads",
                    field,
                    format!(
                        "{} loads",
                        self.resolve_path(self.key_path(field)).display()
                    ),
                );
                if k.bits() >= MIN_RSA_BITS {
                    r.ok(
                        "key_size",
                        field,
                        format!("RSA {} bits, kid {}", k.bits(), k.kid()),
                    );
                } else {
                    r.push(
                        "key_size",
                        Status::Fail,
                        field,
                        format!("RSA {} bits", k.bits()),
                        crate::preflight::Rule::KeyTooSmall.fix(),
                    );
                }
                Some(k)
            }
            Err(ConfigError::Key {
                source: KeyError::TooSmall { bits },
                ..
            }) => {
                r.push(
                    "key_size",
                    Status::Fail,
                    field,
                    format!("RSA {bits} bits; PDND requires at least {MIN_RSA_BITS}"),
                    crate::preflight::Rule::KeyTooSmall.fix(),
                );
                None
            }
            Err(e) => {
                let fix = match &e {
                    ConfigError::Key {
                        source: KeyError::PasswordMissing | KeyError::Password,
                        ..
                    } => format!(
                        "Put the key's password in the environment variable {} (never in the file).",
                        self.password_var(field)
                    ),
                    ConfigError::Key {
                        source: KeyError::Io { .. },
                        ..
                    } => format!(
                        "Fix `{field}`: relative paths resolve against the configuration file's directory; `anist keys new --out FILE` creates a key."
                    ),
                    _ => "Use an RSA private key (PEM PKCS#1 / PKCS#8, encrypted PKCS#8, DER or JWK) of at least 2048 bits.".to_string(),
                };
                r.push("key_loads", Status::Fail, field, e.to_string(), fix);
                None
            }
        }
    }

    fn key_path(&self, field: &str) -> &Path {
        match (field, &self.modi_key) {
            ("modi_key", Some(p)) => p,
            _ => &self.key,
        }
    }

    fn password_var(&self, field: &str) -> String {
        let var = match field {
            "modi_key" => self
                .modi_key_password_env
                .as_deref()
                .or(self.key_password_env.as_deref()),
            _ => self.key_password_env.as_deref(),
        };
        var.unwrap_or(DEFAULT_KEY_PASSWORD_ENV).to_string()
    }

    fn check_ca_bundle(&self, r: &mut Report) {
        let Some(path) = &self.ca_bundle else {
            return;
        };
        let resolved = self.resolve_path(path);
        let fix = "Point ca_bundle to a PEM file of CA certificates (-----BEGIN CERTIFICATE-----), e.g. the erogatore's test CA.";
        match std::fs::read(&resolved) {
            Err(e) => r.push(
                "ca_bundle",
                Status::Fail,
                "ca_bundle",
                format!("{} cannot be read ({})", resolved.display(), e.kind()),
                fix,
            ),
            Ok(pem) => match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certs) if !certs.is_empty() => r.ok(
                    "ca_bundle",
                    "ca_bundle",
                    format!("{} certificates in {}", certs.len(), resolved.display()),
                ),
                _ => r.push(
                    "ca_bundle",
                    Status::Fail,
                    "ca_bundle",
                    format!("{} holds no PEM certificate", resolved.display()),
                    fix,
                ),
            },
        }
    }

    fn check_operator(&self, r: &mut Report) -> Option<AuditContext> {
        let op = self.operator.as_ref()?;
        match op.audit_context() {
            Ok(c) => {
                let len = c.user_location().chars().count();
                if len > MAX_USER_LOCATION {
                    r.push(
                        "operator_fields",
                        Status::Warn,
                        "operator.user_location",
                        format!("{len} characters; ANPR accepts at most {MAX_USER_LOCATION}"),
                        "Use a short location, e.g. the codice IPA of the ente.",
                    );
                } else {
                    r.ok(
                        "operator_fields",
                        "operator",
                        format!(
                            "user_id set ({} characters), user_location {}",
                            c.user_id().chars().count(),
                            c.user_location()
                        ),
                    );
                }
                Some(c)
            }
            Err(e) => {
                r.push(
                    "operator_fields",
                    Status::Fail,
                    "operator",
                    e.to_string(),
                    "Fill user_id (who is asking) and user_location (the office, e.g. the codice IPA) in [operator].",
                );
                None
            }
        }
    }

    fn check_limits(&self, r: &mut Report) {
        let l = &self.limits;
        for (field, zero) in [
            ("limits.rate_per_second", l.rate_per_second == Some(0)),
            ("limits.concurrency", l.concurrency == Some(0)),
            ("limits.daily_calls", l.daily_calls == Some(0)),
        ] {
            if zero {
                r.push(
                    "limits_positive",
                    Status::Fail,
                    field,
                    "is 0: no call could ever be made",
                    "Remove the limit or set it to at least 1.",
                );
            }
        }
    }

    /// Checks one service; returns its purpose when it is a UUID.
    fn check_service(
        &self,
        r: &mut Report,
        name: &str,
        s: &ServiceConfig,
        has_operator: bool,
    ) -> Option<PurposeId> {
        let field = |f: &str| format!("services.{name}.{f}");
        if transport_allowed(&s.url) {
            r.ok("service_url_https", field("url"), s.url.clone());
        } else {
            r.push(
                "service_url_https",
                Status::Fail,
                field("url"),
                format!("{} is not https://", s.url),
                HTTPS_FIX,
            );
        }
        let aud = s.effective_audience();
        if aud.trim().is_empty() || aud.contains(char::is_whitespace) {
            r.push(
                "service_audience",
                Status::Fail,
                field("audience"),
                "the audience is empty or contains blanks",
                "Set audience to the e-service audience shown in its PDND descriptor, or remove it to use the url.",
            );
        } else {
            r.ok("service_audience", field("audience"), aud.to_string());
        }
        let purpose = match PurposeId::parse(&s.purpose) {
            Ok(p) if is_placeholder(p.as_str()) => {
                r.push(
                    "purpose_uuid",
                    Status::Fail,
                    field("purpose"),
                    format!("{p} is a placeholder"),
                    "Replace it with the purpose id (finalità, a UUID) of this e-service shown in the PDND back office.",
                );
                None
            }
            Ok(p) => {
                r.ok("purpose_uuid", field("purpose"), format!("purpose {p}"));
                Some(p)
            }
            Err(e) => {
                r.push(
                    "purpose_uuid",
                    Status::Fail,
                    field("purpose"),
                    e.to_string(),
                    "Copy the purpose id (finalità, a UUID) of this e-service from the PDND back office.",
                );
                None
            }
        };
        if s.audit {
            if has_operator {
                r.ok(
                    "audit_operator",
                    field("audit"),
                    "AUDIT_REST_02 with the [operator] identity",
                );
            } else {
                r.push(
                    "audit_operator",
                    Status::Fail,
                    field("audit"),
                    "AUDIT_REST_02 is on but there is no usable [operator]",
                    "Add [operator] with user_id and user_location (and loa): the Agid-JWT-TrackingEvidence names who is asking.",
                );
            }
        }
        if s.timeout_ms == Some(0) {
            r.push(
                "service_timeout",
                Status::Fail,
                field("timeout_ms"),
                "is 0",
                "Remove timeout_ms (default 30000) or set a positive number of milliseconds.",
            );
        }
        if s.voucher == VoucherKind::Dpop {
            r.ok(
                "service_voucher",
                field("voucher"),
                "DPoP: token request and calls carry proofs signed with the client key",
            );
        }
        match (&s.mtls_cert, &s.mtls_key) {
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => r.push(
                "service_mtls",
                Status::Fail,
                field("mtls_cert"),
                "only one of mtls_cert and mtls_key is set",
                "Set both mtls_cert (PEM certificate) and mtls_key (PEM private key), or neither.",
            ),
            (Some(cert), Some(key)) => {
                let missing: Vec<String> = [cert, key]
                    .into_iter()
                    .map(|p| self.resolve_path(p))
                    .filter(|p| !p.is_file())
                    .map(|p| p.display().to_string())
                    .collect();
                if missing.is_empty() {
                    r.ok(
                        "service_mtls",
                        field("mtls_cert"),
                        "certificate and key files exist",
                    );
                } else {
                    r.push(
                        "service_mtls",
                        Status::Fail,
                        field("mtls_cert"),
                        format!("not found: {}", missing.join(", ")),
                        "Fix the paths (relative paths resolve against the configuration file's directory).",
                    );
                }
            }
        }
        purpose
    }

    #[allow(clippy::too_many_arguments)]
    fn check_preflight(
        &self,
        r: &mut Report,
        name: &str,
        endpoints: &PdndEndpoints,
        client_id: &ClientId,
        purpose: &PurposeId,
        (key, modi_key): (&Arc<PrivateKey>, &Arc<PrivateKey>),
        evidence: Option<(&AuditContext, &str)>,
        now: i64,
    ) {
        let subject = format!("services.{name}");
        let clock = ManualClock::new(now);
        let mut builder = AssertionBuilder::new(client_id.clone(), purpose.clone(), endpoints);
        let mut expect = Expectations::new(endpoints.clone())
            .client_id(client_id.clone())
            .purpose_id(purpose.clone())
            .public_key(key.public_key().clone());
        if let Some((context, audience)) = evidence {
            let signer = ModiSigner::new(client_id.clone(), Arc::clone(modi_key));
            match signer.tracking_evidence(context, purpose, audience, &clock) {
                Ok(te) => {
                    builder = builder.digest(te.digest().clone());
                    expect = expect.tracking_evidence(te.jws().as_str());
                }
                Err(e) => {
                    r.push(
                        "preflight_tracking_evidence",
                        Status::Fail,
                        subject,
                        format!("the TrackingEvidence could not be signed: {e}"),
                        "Check the service audience and the [operator] fields.",
                    );
                    return;
                }
            }
        }
        let assertion = match builder.build(key, &clock) {
            Ok(a) => a,
            Err(e) => {
                let (rule, fix) = match e {
                    AssertionError::Audience { .. } => (
                        "preflight_aud_scheme",
                        crate::preflight::Rule::AudScheme.fix(),
                    ),
                    _ => (
                        "preflight_assertion",
                        "Check the key and the assertion audience.",
                    ),
                };
                r.push(rule, Status::Fail, subject, e.to_string(), fix);
                return;
            }
        };
        let report = diagnose(assertion.jws().as_str(), &expect, &clock);
        if report.findings().is_empty() {
            r.ok(
                "preflight",
                subject.clone(),
                format!(
                    "a client assertion for purpose {purpose}{} passes every pre-flight rule",
                    if evidence.is_some() {
                        " with its TrackingEvidence digest"
                    } else {
                        ""
                    }
                ),
            );
        }
        for f in report.findings() {
            let status = match f.severity() {
                Severity::Refused => Status::Fail,
                Severity::Warning => Status::Warn,
            };
            r.push(
                &format!("preflight_{}", f.rule().code()),
                status,
                subject.clone(),
                f.detail().to_string(),
                f.fix(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_names_line_and_table() {
        let text = "a = 1\n[services.x]\nurl = 2\n";
        let at = text.find("url").unwrap_or_default();
        assert_eq!(locate(text, at), "line 3, column 1, in [services.x]");
        assert_eq!(locate(text, 0), "line 1, column 1");
    }

    #[test]
    fn env_names() {
        assert_eq!(service_env_name("anist-verifica"), "ANIST_VERIFICA");
        assert_eq!(service_env_name("Echo.v1"), "ECHO_V1");
    }
}
