//! The sandbox's default client ([`DEFAULT_CLIENT`]): its key, the
//! e-services it may call on every backend of the default registry, and a
//! ready [`Session`] and [`IseeClient`] for it. Part of the composition
//! root ([`super::services`]): it names the backends' e-services.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anist_core::isee::{IpaCategory, ServiceFamily};
use anist_core::synthetic::SyntheticPeople;
use chrono::NaiveDate;

use super::anist::{ANIST_ESERVICES, ECHO, SANDBOX_OPERATOR, SANDBOX_OPERATOR_LOCATION};
use super::anpr::massive::ANPR_MASSIVE_ESERVICES;
use super::anpr::ANPR_ESERVICES;
use super::inps::{assertion, InpsBackend, INPS_ESERVICES, SANDBOX_INPS_USER_ID};
use super::registry::{DEFAULT_CLIENT, ECHO_AUDIENCE, ECHO_ESERVICE, ECHO_PURPOSE};
use super::SandboxHandle;
use crate::call::{CallError, Caller, ServiceProfile, DEFAULT_CALL_TIMEOUT};
use crate::env::Environment;
use crate::ids::{ClientId, PurposeId};
use crate::isee::{IseeClient, IseeEnte, Loa, OperatorIdentity, SecretAssertion};
use crate::keys::PrivateKey;
use crate::modi::AuditContext;
use crate::session::{Service, Session, SessionBuilder};
use crate::transport::HttpOptions;
use crate::voucher::http::HttpTokenFetcher;

/// The seed of the synthetic operator of [`SandboxHandle::isee_client`].
const SANDBOX_OPERATOR_SEED: u64 = 0x15ee;

impl SandboxHandle {
    /// The default client's private key, when the sandbox was configured
    /// with [`SandboxConfig::with_default_client`](super::SandboxConfig::with_default_client) (to write a
    /// configuration file for the same client).
    pub fn client_key(&self) -> Option<Arc<PrivateKey>> {
        self.inner.client_key.clone()
    }

    /// The default client's id ([`DEFAULT_CLIENT`]; `None` cannot happen).
    pub fn client_id(&self) -> Option<ClientId> {
        ClientId::parse(DEFAULT_CLIENT).ok()
    }

    /// The e-services the default client may call, by session name: the
    /// four ANIST ones and [`ECHO`], each with its front URL, audience
    /// (AUDIT_REST_02 and INTEGRITY_REST_02) and purpose; and the nine
    /// INPS ISEE ones ([`crate::isee::session_name`],
    /// [`crate::isee::LEGACY_V1`]) without INTEGRITY_REST_02, with
    /// AUDIT_REST_02 only for the Operatori services, those requiring the
    /// client certificate at [`SandboxHandle::tls_base_url`]. Those missing
    /// from the registry are left out. [`Self::session`] gives the mTLS
    /// ones their own caller.
    pub fn services(&self) -> Vec<(String, Service)> {
        let mut out = Vec::new();
        let all = ANIST_ESERVICES
            .iter()
            .map(|s| (s.session_name, s.eservice, s.audience, s.purpose))
            .chain([(ECHO, ECHO_ESERVICE, ECHO_AUDIENCE, ECHO_PURPOSE)])
            .chain(
                ANPR_ESERVICES
                    .iter()
                    .map(|s| (s.session_name, s.eservice, s.audience, s.purpose)),
            )
            .chain(
                ANPR_MASSIVE_ESERVICES
                    .iter()
                    .map(|s| (s.session_name, s.eservice, s.audience, s.purpose)),
            );
        for (name, eservice, audience, purpose) in all {
            let (Some(url), Ok(purpose)) = (self.front_url(eservice), PurposeId::parse(purpose))
            else {
                continue;
            };
            let profile = ServiceProfile::new(&url, audience).audit(true);
            out.push((name.to_string(), Service::new(profile, purpose)));
        }
        for s in INPS_ESERVICES {
            let (Some(url), Ok(purpose)) = (self.inps_url(s.eservice), PurposeId::parse(s.purpose))
            else {
                continue;
            };
            let operatori = matches!(
                s.backend,
                InpsBackend::Service(x)
                    if x.family() == ServiceFamily::Operatori
            );
            let profile = ServiceProfile::new(&url, s.audience)
                .integrity(false)
                .audit(operatori);
            out.push((s.session_name.to_string(), Service::new(profile, purpose)));
        }
        out
    }

    /// The URL of an INPS e-service for the client: on the TLS port when
    /// it requires the client certificate (`None` if there is none).
    fn inps_url(&self, eservice: &str) -> Option<String> {
        let plain = self.front_url(eservice)?;
        if !self.inps_requires_mtls(eservice) {
            return Some(plain);
        }
        let tls = self.tls_base_url()?;
        Some(plain.replacen(self.base_url(), tls, 1))
    }

    /// A ready session for the default client: vouchers from this
    /// sandbox (on its clock), ModI signed with the client key, the
    /// operator [`SANDBOX_OPERATOR`] at [`SANDBOX_OPERATOR_LOCATION`], and
    /// [`Self::services`] by name.
    ///
    /// # Errors
    /// [`CallError::NotSent`] if the sandbox has no default client key
    /// (not made with [`SandboxConfig::with_default_client`](super::SandboxConfig::with_default_client)), or the HTTP
    /// client cannot be built.
    pub fn session(&self) -> Result<Session, CallError> {
        self.session_with(|caller| caller)
    }

    /// As [`Self::session`], with the caller adjusted by `adjust` (e.g. a
    /// rate limiter, [`Caller::rate_limiter`]) and e-service calls timing
    /// out after `timeout`.
    ///
    /// # Errors
    /// As [`Self::session`].
    pub fn session_with_timeout(
        &self,
        timeout: Duration,
        adjust: impl FnOnce(Caller<HttpTokenFetcher>) -> Caller<HttpTokenFetcher>,
    ) -> Result<Session, CallError> {
        self.build_session(Some(timeout), adjust)
    }

    /// As [`Self::session`], with the caller adjusted by `adjust`.
    ///
    /// # Errors
    /// As [`Self::session`].
    pub fn session_with(
        &self,
        adjust: impl FnOnce(Caller<HttpTokenFetcher>) -> Caller<HttpTokenFetcher>,
    ) -> Result<Session, CallError> {
        self.build_session(None, adjust)
    }

    fn build_session(
        &self,
        timeout: Option<Duration>,
        adjust: impl FnOnce(Caller<HttpTokenFetcher>) -> Caller<HttpTokenFetcher>,
    ) -> Result<Session, CallError> {
        let Some(key) = self.client_key() else {
            return Err(CallError::NotSent {
                reason: "this sandbox has no default client key: start it with SandboxConfig::with_default_client".into(),
            });
        };
        let client = self.client_id().ok_or_else(|| CallError::NotSent {
            reason: "the default client id is not a UUID".into(),
        })?;
        let operator =
            AuditContext::new(SANDBOX_OPERATOR, SANDBOX_OPERATOR_LOCATION).map_err(|e| {
                CallError::NotSent {
                    reason: e.to_string(),
                }
            })?;
        let calls = HttpOptions::default().timeout(timeout.unwrap_or(DEFAULT_CALL_TIMEOUT));
        let mut builder = SessionBuilder::new(
            Environment::Sandbox,
            self.endpoints().clone(),
            client,
            key,
            Arc::clone(&self.inner.clock),
        )
        .operator(operator)
        // The sandbox's current school year is the session's: "previous"
        // is the year before it, whatever the machine's date.
        .current_school_year(self.population().current_year());
        // The services that need the client certificate get their own
        // caller, presenting it and trusting the sandbox CA, sharing the
        // voucher cache.
        let mtls = match (self.ca_pem(), self.client_identity_pem()) {
            (Some(ca), Some((cert, key_pem))) => Some(
                calls
                    .clone()
                    .ca_bundle_pem(ca.as_bytes().to_vec())
                    .ca_bundle_only(true)
                    .client_identity_pem(cert, key_pem),
            ),
            _ => None,
        };
        let mtls_services: HashSet<&str> = INPS_ESERVICES
            .iter()
            .filter(|s| self.inps_requires_mtls(s.eservice))
            .map(|s| s.session_name)
            .collect();
        builder = builder.call_options(calls);
        for (name, service) in self.services() {
            builder = match &mtls {
                Some(options) if mtls_services.contains(name.as_str()) => {
                    builder.service_with_options(&name, service, options.clone())
                }
                _ => builder.service(&name, service),
            };
        }
        builder.build_with(adjust)
    }

    /// The synthetic operator [`Self::isee_client`] calls the Operatori
    /// services as: a synthetic codice fiscale, SPID level 2 (`LoA3`), and
    /// a synthetic SAML assertion the sandbox accepts
    /// ([`assertion::synthetic_saml_assertion`]; a malformed one is refused,
    /// see [`assertion`]).
    pub fn isee_operator(&self) -> OperatorIdentity {
        let from = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let to = NaiveDate::from_ymd_opt(1990, 12, 31).unwrap_or_default();
        let codice_fiscale = SyntheticPeople::new(SANDBOX_OPERATOR_SEED, from, to)
            .next_person()
            .codice_fiscale;
        OperatorIdentity {
            codice_fiscale,
            loa: Loa::Substantial,
            assertion: Some(SecretAssertion::new(
                assertion::synthetic_saml_assertion(codice_fiscale.as_str()).into_bytes(),
            )),
        }
    }

    /// A ready INPS ISEE client for the default client ([`Self::session`]):
    /// the ente is the sandbox's calling Comune (Roma, a capoluogo:
    /// [`IpaCategory::ComuneCapoluogo`], user id [`SANDBOX_INPS_USER_ID`]),
    /// and the operator of the Operatori services is
    /// [`Self::isee_operator`].
    ///
    /// # Errors
    /// As [`Self::session`].
    pub fn isee_client(&self) -> Result<IseeClient, CallError> {
        let session = Arc::new(self.session()?);
        Ok(IseeClient::new(
            session,
            IseeEnte::new(IpaCategory::ComuneCapoluogo, SANDBOX_INPS_USER_ID),
        )
        .operator(self.isee_operator()))
    }
}
