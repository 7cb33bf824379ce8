//! The offline diagnosis of a configuration ([`Config::check`], `anist
//! config check`): every [`Check`] of a [`Report`].

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::clock::ManualClock;
use crate::env::{Environment, PdndEndpoints};
use crate::ids::{ClientId, PurposeId};
use crate::keys::{KeyError, PrivateKey, MIN_RSA_BITS};
use crate::modi::{AuditContext, ModiSigner};
use crate::preflight::{diagnose, Expectations, Severity};
use crate::voucher::assertion::{AssertionBuilder, AssertionError};

use super::connect::isee_service_of;
use super::{
    process_env, validate, Config, ConfigError, Lookup, ServiceConfig, VoucherKind,
    DEFAULT_KEY_PASSWORD_ENV, MAX_USER_LOCATION,
};

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
        match validate::client_id(&self.client_id) {
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
            Err(reason) => {
                r.push(
                    "client_id_uuid",
                    Status::Fail,
                    "client_id",
                    reason,
                    "Copy the client id (a UUID) from the PDND back office: Client e-service → your client.",
                );
                None
            }
        }
    }

    fn check_endpoints(&self, r: &mut Report) -> PdndEndpoints {
        let e = self.endpoints();
        for (field, url) in [("token_url", e.token_url()), ("jwks_url", e.jwks_url())] {
            match validate::transport(url) {
                Ok(()) => r.ok("url_https", field, url.to_string()),
                Err(e) => r.push("url_https", Status::Fail, field, e.detail(), e.fix()),
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
        match validate::transport(&s.url) {
            Ok(()) => r.ok("service_url_https", field("url"), s.url.clone()),
            Err(e) => r.push(
                "service_url_https",
                Status::Fail,
                field("url"),
                e.detail(),
                e.fix(),
            ),
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
