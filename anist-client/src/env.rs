//! PDND environments and their endpoints (protocol reference §1.1).
//!
//! The presets are PDND's published values; PDND's back office is the
//! authority and "values may change", so every endpoint can be overridden.
//!
//! ```
//! use anist_client::env::{Environment, PdndEndpoints};
//!
//! let collaudo = Environment::Collaudo.endpoints();
//! assert_eq!(collaudo.assertion_audience(), "auth.uat.interop.pagopa.it/client-assertion");
//!
//! let sandbox = PdndEndpoints::sandbox_at("http://127.0.0.1:40123");
//! assert_eq!(sandbox.token_url(), "http://127.0.0.1:40123/token.oauth2");
//! ```

use std::fmt;

/// A PDND environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Environment {
    /// Production (*produzione*).
    Produzione,
    /// UAT (*collaudo*), where e-services are tested before production.
    Collaudo,
    /// *Attestazione*, the certification environment.
    Attestazione,
    /// The local stand-in shipped with anist (loopback only, synthetic data).
    Sandbox,
}

impl Environment {
    /// Every environment, production first.
    pub const ALL: [Environment; 4] = [
        Environment::Produzione,
        Environment::Collaudo,
        Environment::Attestazione,
        Environment::Sandbox,
    ];

    /// The stable lower-case name (`produzione`, `collaudo`, `attestazione`,
    /// `sandbox`), as written in configuration files.
    pub fn name(self) -> &'static str {
        match self {
            Environment::Produzione => "produzione",
            Environment::Collaudo => "collaudo",
            Environment::Attestazione => "attestazione",
            Environment::Sandbox => "sandbox",
        }
    }

    /// The environment with this name (case-insensitive; `prod`, `uat` and
    /// `att` are accepted too).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "produzione" | "prod" | "production" => Some(Environment::Produzione),
            "collaudo" | "uat" => Some(Environment::Collaudo),
            "attestazione" | "att" => Some(Environment::Attestazione),
            "sandbox" => Some(Environment::Sandbox),
            _ => None,
        }
    }

    /// The preset endpoints of this environment.
    pub fn endpoints(self) -> PdndEndpoints {
        let (token_url, audience, issuer, jwks) = match self {
            Environment::Produzione => (
                "https://auth.interop.pagopa.it/token.oauth2",
                "auth.interop.pagopa.it/client-assertion",
                "interop.pagopa.it",
                "https://interop.pagopa.it/.well-known/jwks.json",
            ),
            Environment::Collaudo => (
                "https://auth.uat.interop.pagopa.it/token.oauth2",
                "auth.uat.interop.pagopa.it/client-assertion",
                "uat.interop.pagopa.it",
                "https://uat.interop.pagopa.it/.well-known/jwks.json",
            ),
            // Issuer and JWKS host are assumption U3 of the reference.
            Environment::Attestazione => (
                "https://auth.att.interop.pagopa.it/token.oauth2",
                "auth.att.interop.pagopa.it/client-assertion",
                "att.interop.pagopa.it",
                "https://att.interop.pagopa.it/.well-known/jwks.json",
            ),
            Environment::Sandbox => {
                return PdndEndpoints::sandbox_at(SANDBOX_DEFAULT_BASE);
            }
        };
        PdndEndpoints {
            environment: self,
            token_url: token_url.into(),
            assertion_audience: audience.into(),
            voucher_issuer: issuer.into(),
            jwks_url: jwks.into(),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the sandbox listens unless told otherwise.
pub const SANDBOX_DEFAULT_BASE: &str = "http://127.0.0.1:48080";

/// The sandbox's client-assertion audience. Like PDND's, it has no scheme;
/// the `.invalid` top-level domain (RFC 2606) never resolves, so an assertion
/// made for the sandbox is useless anywhere else.
pub const SANDBOX_ASSERTION_AUDIENCE: &str = "sandbox.anist.invalid/client-assertion";

/// The `iss` of vouchers signed by the sandbox.
pub const SANDBOX_VOUCHER_ISSUER: &str = "sandbox.anist.invalid";

/// The PDND endpoints of one environment: where to ask for vouchers, the
/// audience to put in client assertions, who signs vouchers and where their
/// keys are published.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PdndEndpoints {
    environment: Environment,
    token_url: String,
    assertion_audience: String,
    voucher_issuer: String,
    jwks_url: String,
}

impl PdndEndpoints {
    /// The sandbox's endpoints at `base_url` (e.g. `http://127.0.0.1:40123`,
    /// for a sandbox started on an ephemeral port). Audience and issuer stay
    /// [`SANDBOX_ASSERTION_AUDIENCE`] and [`SANDBOX_VOUCHER_ISSUER`].
    pub fn sandbox_at(base_url: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        PdndEndpoints {
            environment: Environment::Sandbox,
            token_url: format!("{base}/token.oauth2"),
            assertion_audience: SANDBOX_ASSERTION_AUDIENCE.into(),
            voucher_issuer: SANDBOX_VOUCHER_ISSUER.into(),
            jwks_url: format!("{base}/.well-known/jwks.json"),
        }
    }

    /// The environment these endpoints belong to.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// `POST` here to get a voucher.
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The `aud` of client assertions (no scheme).
    pub fn assertion_audience(&self) -> &str {
        &self.assertion_audience
    }

    /// The `iss` of the vouchers PDND signs.
    pub fn voucher_issuer(&self) -> &str {
        &self.voucher_issuer
    }

    /// Where the keys that sign vouchers are published.
    pub fn jwks_url(&self) -> &str {
        &self.jwks_url
    }

    /// Overrides the token endpoint.
    #[must_use]
    pub fn with_token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// Overrides the client-assertion audience.
    #[must_use]
    pub fn with_assertion_audience(mut self, audience: impl Into<String>) -> Self {
        self.assertion_audience = audience.into();
        self
    }

    /// Overrides the voucher issuer.
    #[must_use]
    pub fn with_voucher_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.voucher_issuer = issuer.into();
        self
    }

    /// Overrides the JWKS URL.
    #[must_use]
    pub fn with_jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = url.into();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_match_the_reference() {
        let p = Environment::Produzione.endpoints();
        assert_eq!(p.token_url(), "https://auth.interop.pagopa.it/token.oauth2");
        assert_eq!(
            p.assertion_audience(),
            "auth.interop.pagopa.it/client-assertion"
        );
        assert_eq!(p.voucher_issuer(), "interop.pagopa.it");
        assert_eq!(
            p.jwks_url(),
            "https://interop.pagopa.it/.well-known/jwks.json"
        );
        let a = Environment::Attestazione.endpoints();
        assert_eq!(
            a.token_url(),
            "https://auth.att.interop.pagopa.it/token.oauth2"
        );
        assert_eq!(a.voucher_issuer(), "att.interop.pagopa.it");
        let c = Environment::Collaudo.endpoints();
        assert_eq!(c.voucher_issuer(), "uat.interop.pagopa.it");
        for env in Environment::ALL {
            let e = env.endpoints();
            assert_eq!(e.environment(), env);
            assert!(!e.assertion_audience().contains("://"));
            assert!(e.assertion_audience().ends_with("/client-assertion"));
            assert_eq!(Environment::from_name(env.name()), Some(env));
        }
        assert_eq!(Environment::from_name(" UAT "), Some(Environment::Collaudo));
        assert_eq!(Environment::from_name("staging"), None);
    }

    #[test]
    fn overrides() {
        let e = Environment::Collaudo
            .endpoints()
            .with_token_url("https://proxy.example/token.oauth2")
            .with_assertion_audience("x/client-assertion")
            .with_voucher_issuer("x")
            .with_jwks_url("https://x/jwks");
        assert_eq!(e.token_url(), "https://proxy.example/token.oauth2");
        assert_eq!(e.assertion_audience(), "x/client-assertion");
        assert_eq!(e.voucher_issuer(), "x");
        assert_eq!(e.jwks_url(), "https://x/jwks");
        assert_eq!(e.environment(), Environment::Collaudo);
        let s = PdndEndpoints::sandbox_at("http://127.0.0.1:1/");
        assert_eq!(s.jwks_url(), "http://127.0.0.1:1/.well-known/jwks.json");
        assert_eq!(
            Environment::Sandbox.endpoints().token_url(),
            "http://127.0.0.1:48080/token.oauth2"
        );
    }
}
