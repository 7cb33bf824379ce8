//! What a configuration builds: the keys, the [`Session`]
//! ([`Config::session`]), the INPS ISEE client ([`Config::isee_client`])
//! and the ANPR SOAP settings ([`Config::anpr_soap_settings`]).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anist_core::cf::CodiceFiscale;
use anist_core::isee::{IpaCategory, IseeService, ServiceFamily};
use anist_core::ErrorCode;

use crate::call::DEFAULT_CALL_TIMEOUT;
use crate::clock::Clock;
use crate::ids::PurposeId;
use crate::isee::client::{IseeClient, IseeEnte, Loa, OperatorIdentity, SecretAssertion};
use crate::keys::PrivateKey;
use crate::session::{Service, Session, SessionBuilder};
use crate::transport::HttpOptions;

use super::{
    process_env, validate, Config, ConfigError, Lookup, VoucherKind, DEFAULT_KEY_PASSWORD_ENV,
};

impl Config {
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
        let client_id = validate::client_id(&self.client_id)
            .map_err(|reason| self.invalid("client_id", reason))?;
        let endpoints = self.endpoints();
        validate::transport(endpoints.token_url())
            .map_err(|e| self.invalid("token_url", e.reason()))?;
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
            validate::transport(&s.url).map_err(|e| self.invalid(field("url"), e.reason()))?;
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
        let timeout = self
            .services
            .values()
            .filter_map(|s| s.timeout_ms)
            .max()
            .map_or(DEFAULT_CALL_TIMEOUT, Duration::from_millis);
        let options = self.http_options(Some(timeout))?;
        let mut builder = SessionBuilder::new(self.environment, endpoints, client_id, key, clock)
            .token_options(self.http_options(None)?)
            .call_options(options.clone())
            .dpop(dpop);
        if let Some(m) = modi_key {
            builder = builder.modi_key(m);
        }
        // The client-side budget: every call of the session (retries too,
        // every caller) takes a token, so that the erogatore's rate policy
        // is not hit.
        if let Some(rate) = self.limits.rate_per_second.filter(|r| *r > 0) {
            builder = builder.rate_limiter(Arc::new(
                crate::ratelimit::RateLimiter::new(f64::from(rate), 1)
                    .map_err(|e| http_error(e.to_string()))?,
            ));
        }
        // A service with a client certificate gets its own caller (mTLS
        // identity), sharing the voucher cache and the budget.
        for (name, service) in services {
            let Some(s) = self.services.get(name.as_str()) else {
                continue;
            };
            builder = match (&s.mtls_cert, &s.mtls_key) {
                (Some(cert), Some(key_path)) => {
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
                    builder.service_with_options(&name, service, with_identity)
                }
                _ => builder.service(&name, service),
            };
        }
        if let Some(op) = operator {
            builder = builder.operator(op);
        }
        let session = builder.build().map_err(|e| http_error(e.to_string()))?;
        Ok(session)
    }
}

// ---------------------------------------------------------------------------
// INPS ISEE

/// The ISEE service a session name stands for ([`crate::isee::LEGACY_V1`]
/// counts as the plain Indicatore).
pub(super) fn isee_service_of(name: &str) -> Option<IseeService> {
    if name == crate::isee::LEGACY_V1 {
        return Some(IseeService::Indicatore);
    }
    IseeService::ALL
        .into_iter()
        .find(|s| crate::isee::session_name(*s) == name)
}

impl Config {
    /// Whether any configured e-service is an INPS ISEE one.
    pub(super) fn has_isee(&self) -> bool {
        self.services.keys().any(|n| isee_service_of(n).is_some())
    }

    /// Whether any configured e-service is an ISEE Operatori one.
    pub(super) fn has_isee_operatori(&self) -> bool {
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
}
