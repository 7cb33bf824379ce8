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

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::call::ServiceProfile;
use crate::env::{Environment, PdndEndpoints};
use crate::keys::KeyError;
use crate::modi::AuditContext;

mod checks;
mod connect;
mod env;
mod load;
mod validate;

pub use checks::{Check, Report, Status};
pub use env::{process_env, service_env_name};

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

    fn kind(&self) -> ErrorKind {
        ErrorKind::Config
    }
}

#[doc(hidden)]
impl CodeSamples for ConfigError {
    fn samples() -> Vec<Self> {
        let file = || DEFAULT_CONFIG_FILE.to_string();
        vec![
            ConfigError::Read {
                file: file(),
                kind: std::io::ErrorKind::NotFound,
            },
            ConfigError::Parse {
                file: file(),
                location: Some("line 1, column 1".into()),
                message: "expected a table".into(),
            },
            ConfigError::Invalid {
                file: file(),
                field: "client_id".into(),
                reason: "is not a UUID".into(),
            },
            ConfigError::Env {
                var: "ANIST_CLIENT_ID".into(),
                reason: "is not a UUID".into(),
            },
            ConfigError::Key {
                file: file(),
                field: "key".into(),
                path: "client.pem".into(),
                source: KeyError::PasswordMissing,
            },
            ConfigError::Http {
                file: file(),
                reason: "ca_bundle is not PEM".into(),
            },
            ConfigError::Serialize {
                reason: "unsupported value".into(),
            },
        ]
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

/// `[database]`: the database several workers share (#19): the journals
/// of shared jobs and the audit trail. Without it everything stays in
/// the embedded SQLite files of one machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user@host:5432/anist?sslmode=require` (certificate and
    /// host name verified), or the path of a SQLite file shared by the
    /// processes of one host (relative to this file's directory).
    pub url: String,
    /// The variable holding the database password (never in the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// CA certificates (PEM) the database's certificate is verified
    /// against, instead of the platform's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    /// The audit trail's secret (32 random bytes, created 0600 when
    /// missing): the same file on every host of the database (default
    /// `anist-audit.key` beside this file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_key: Option<PathBuf>,
    /// How long a worker holds the questions it claimed (default 60 s):
    /// a dead worker's batch returns to the others after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u64>,
}

impl DatabaseConfig {
    /// Whether the URL names a PostgreSQL database (else a SQLite file).
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
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
    /// The database several workers share, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseConfig>,
    #[serde(skip)]
    origin: Option<PathBuf>,
}

/// How variables are read: [`process_env`], or a map in tests.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

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
            database: None,
            origin: None,
        }
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
}
