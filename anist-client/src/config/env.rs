//! The environment-variable overrides ([`Config::apply_env`]; the table of
//! variables is in the [module documentation](super)).

use std::path::PathBuf;

use crate::env::Environment;

use super::{Config, ConfigError, InpsConfig, Lookup, OperatorConfig, ServiceConfig, VoucherKind};

/// The process environment as a lookup for [`Config::apply_env`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Config {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names() {
        assert_eq!(service_env_name("anist-verifica"), "ANIST_VERIFICA");
        assert_eq!(service_env_name("Echo.v1"), "ECHO_V1");
    }
}
