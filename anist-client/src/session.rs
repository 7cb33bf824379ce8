//! A ready-to-use client: one PDND client identity, its vouchers, and the
//! e-services it may call by name.
//!
//! A [`Session`] ties a [`Caller`] (HTTP, ModI signing, the shared voucher
//! cache) to the facts a call needs besides its body: the environment,
//! the client id and key id, the purpose of each e-service, and the
//! operator identity that AUDIT_REST_02 e-services want in the
//! `Agid-JWT-TrackingEvidence`. E-service clients (ANIST, INPS, ANPR) call
//! [`Session::post_json`] and [`Session::get`] with a service name such as
//! [`crate::anist::VERIFICA`]; nothing else of the protocol leaks to them.
//!
//! A session comes from a configuration file, or from the sandbox, which
//! builds one that works against it; both assemble it with the one
//! [`SessionBuilder`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::call::{Body, CallError, CallResponse, Caller, ServiceProfile};
use crate::clock::Clock;
use crate::env::{Environment, PdndEndpoints};
use crate::ids::{ClientId, PurposeId};
use crate::keys::{Kid, PrivateKey};
use crate::modi::{AuditContext, ModiSigner};
use crate::transport::ratelimit::RateLimiter;
use crate::transport::HttpOptions;
use crate::voucher::cache::{VoucherCache, VoucherKey};
use crate::voucher::http::HttpTokenFetcher;

/// One e-service the session may call: how to reach it and on which purpose.
#[derive(Debug, Clone)]
pub struct Service {
    profile: ServiceProfile,
    purpose: PurposeId,
    caller: Option<Arc<Caller<HttpTokenFetcher>>>,
}

/// Equal when profile and purpose are equal and both use the session's
/// caller, or the same own caller.
impl PartialEq for Service {
    fn eq(&self, other: &Self) -> bool {
        self.profile == other.profile
            && self.purpose == other.purpose
            && match (&self.caller, &other.caller) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            }
    }
}

impl Eq for Service {}

impl Service {
    /// An e-service reached through `profile`, called on `purpose`, with
    /// the session's caller.
    pub fn new(profile: ServiceProfile, purpose: PurposeId) -> Self {
        Self {
            profile,
            purpose,
            caller: None,
        }
    }

    /// Calls this e-service with its own caller, e.g. one presenting a
    /// client certificate (mTLS) that other e-services must not see. Make
    /// it share the session's voucher cache.
    #[must_use]
    pub fn with_caller(mut self, caller: Arc<Caller<HttpTokenFetcher>>) -> Self {
        self.caller = Some(caller);
        self
    }

    /// How it is reached.
    pub fn profile(&self) -> &ServiceProfile {
        &self.profile
    }

    /// The purpose (finalità) its vouchers are requested for.
    pub fn purpose(&self) -> &PurposeId {
        &self.purpose
    }
}

/// A client identity with its configured e-services. Share it behind an
/// `Arc`: every task then shares one voucher cache.
pub struct Session {
    caller: Caller<HttpTokenFetcher>,
    environment: Environment,
    client_id: ClientId,
    kid: Kid,
    operator: Option<AuditContext>,
    services: BTreeMap<String, Service>,
    school_year: Option<anist_core::school::SchoolYear>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("environment", &self.environment)
            .field("client_id", &self.client_id)
            .field("kid", &self.kid)
            .field("operator", &self.operator)
            .field("services", &self.services.keys().collect::<Vec<_>>())
            .field("school_year", &self.school_year)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session without e-services; add them with [`Self::service`].
    /// `kid` is the key id of the key that signs the client assertion.
    pub fn new(
        caller: Caller<HttpTokenFetcher>,
        environment: Environment,
        client_id: ClientId,
        kid: Kid,
    ) -> Self {
        Self {
            caller,
            environment,
            client_id,
            kid,
            operator: None,
            services: BTreeMap::new(),
            school_year: None,
        }
    }

    /// The school year the e-services treat as current, when it is not the
    /// one of today's date (a sandbox started for a given year): the
    /// "previous" school year of a question is then the year before it.
    #[must_use]
    pub fn current_school_year(mut self, year: anist_core::school::SchoolYear) -> Self {
        self.school_year = Some(year);
        self
    }

    /// The school year set by [`Self::current_school_year`], if any.
    pub fn school_year(&self) -> Option<anist_core::school::SchoolYear> {
        self.school_year
    }

    /// Adds (or replaces) the e-service called `name`.
    #[must_use]
    pub fn service(mut self, name: &str, service: Service) -> Self {
        self.services.insert(name.to_string(), service);
        self
    }

    /// The operator on whose behalf calls are made (the TrackingEvidence
    /// of AUDIT_REST_02 e-services).
    #[must_use]
    pub fn operator(mut self, operator: AuditContext) -> Self {
        self.operator = Some(operator);
        self
    }

    /// The environment.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The PDND client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The operator, when set.
    pub fn operator_context(&self) -> Option<&AuditContext> {
        self.operator.as_ref()
    }

    /// The operator's user id, as the audit trail records it (empty when
    /// no operator is set).
    pub fn operator_id(&self) -> String {
        self.operator
            .as_ref()
            .map(|o| o.user_id().to_string())
            .unwrap_or_default()
    }

    /// Each e-service's purpose id, by session name (what the audit trail
    /// records beside each call).
    pub fn purposes(&self) -> std::collections::BTreeMap<String, String> {
        self.services
            .iter()
            .map(|(name, s)| (name.clone(), s.purpose().as_str().to_string()))
            .collect()
    }

    /// The clock of the session's calls (signatures, voucher reuse, the
    /// waits between retries).
    pub fn clock(&self) -> &dyn crate::clock::Clock {
        self.caller.clock()
    }

    /// The caller (HTTP, ModI, voucher cache).
    pub fn caller(&self) -> &Caller<HttpTokenFetcher> {
        &self.caller
    }

    /// Whether an e-service called `name` is configured.
    pub fn has_service(&self, name: &str) -> bool {
        self.services.contains_key(name)
    }

    /// The names of the configured e-services.
    pub fn service_names(&self) -> impl Iterator<Item = &str> {
        self.services.keys().map(String::as_str)
    }

    /// The e-service called `name`.
    ///
    /// # Errors
    /// [`CallError::NotSent`] naming the missing service and how to add it.
    pub fn lookup(&self, name: &str) -> Result<&Service, CallError> {
        self.services.get(name).ok_or_else(|| CallError::NotSent {
            reason: format!(
                "the e-service `{name}` is not configured: add a [services.{name}] section (url, audience, purpose) to the configuration"
            ),
        })
    }

    /// The voucher key of calls to `service` (with the operator's
    /// TrackingEvidence when the service applies AUDIT_REST_02).
    ///
    /// # Errors
    /// [`CallError::NotSent`] if the service applies AUDIT_REST_02 and no
    /// operator is set.
    pub fn voucher_key(&self, service: &Service) -> Result<VoucherKey, CallError> {
        self.voucher_key_for(service, None)
    }

    /// As [`Self::voucher_key`], with `operator` (when given) instead of
    /// the session's operator, and its TrackingEvidence whatever the
    /// profile says.
    ///
    /// # Errors
    /// As [`Self::voucher_key`].
    pub fn voucher_key_for(
        &self,
        service: &Service,
        operator: Option<&AuditContext>,
    ) -> Result<VoucherKey, CallError> {
        let mut key = VoucherKey::new(
            self.environment,
            self.client_id.clone(),
            self.kid.clone(),
            service.purpose.clone(),
        );
        if service.profile.has_dpop() {
            key = key.with_dpop();
        }
        if let Some(operator) = operator {
            return Ok(key.with_tracking_evidence(operator, service.profile.audience()));
        }
        if !service.profile.has_audit() {
            return Ok(key);
        }
        let Some(operator) = &self.operator else {
            return Err(CallError::NotSent {
                reason: "this e-service applies AUDIT_REST_02: set the operator (user id and location) in the configuration's [operator] section".into(),
            });
        };
        Ok(key.with_tracking_evidence(operator, service.profile.audience()))
    }

    /// `POST` `body` (exact JSON bytes) to `operation` of the e-service
    /// called `name` ([`Caller::post_json`]).
    ///
    /// # Errors
    /// [`CallError`], saying what happened to the call.
    pub async fn post_json(
        &self,
        name: &str,
        operation: &str,
        body: &[u8],
    ) -> Result<CallResponse, CallError> {
        let service = self.lookup(name)?;
        let key = self.voucher_key(service)?;
        let caller = service.caller.as_deref().unwrap_or(&self.caller);
        caller
            .post_json(&service.profile, &key, operation, body)
            .await
    }

    /// `POST` `body` (any media type) with the extra `headers` to
    /// `operation` of the e-service called `name` ([`Caller::post`]; an
    /// empty `operation` posts to the service URL itself). With
    /// `operator`, the call carries that operator's
    /// `Agid-JWT-TrackingEvidence` (AUDIT_REST_02) whatever the service's
    /// profile says, and its voucher is bound to it (e.g. the INPS ISEE
    /// Operatori services, one operator per call); without, the session's
    /// rules apply.
    ///
    /// # Errors
    /// [`CallError`], saying what happened to the call.
    pub async fn post(
        &self,
        name: &str,
        operation: &str,
        body: &Body<'_>,
        headers: &[(&str, &str)],
        operator: Option<&AuditContext>,
    ) -> Result<CallResponse, CallError> {
        let service = self.lookup(name)?;
        let key = self.voucher_key_for(service, operator)?;
        let caller = service.caller.as_deref().unwrap_or(&self.caller);
        if operator.is_some() && !service.profile.has_audit() {
            let profile = service.profile.clone().audit(true);
            return caller.post(&profile, &key, operation, body, headers).await;
        }
        caller
            .post(&service.profile, &key, operation, body, headers)
            .await
    }

    /// `GET` `path` of the e-service called `name` ([`Caller::get`]).
    ///
    /// # Errors
    /// [`CallError`], saying what happened to the call.
    pub async fn get(&self, name: &str, path: &str) -> Result<CallResponse, CallError> {
        let service = self.lookup(name)?;
        let key = self.voucher_key(service)?;
        let caller = service.caller.as_deref().unwrap_or(&self.caller);
        caller.get(&service.profile, &key, path).await
    }
}

/// The one way a [`Session`] is assembled: the configuration file
/// ([`crate::config::Config::session`]) and the sandbox both describe
/// their session with it, so that the token fetcher, the voucher cache,
/// the ModI signer, the callers (one per TLS client identity, sharing the
/// cache and the rate budget), the operator and the e-services are put
/// together in one place.
pub struct SessionBuilder {
    environment: Environment,
    endpoints: PdndEndpoints,
    client_id: ClientId,
    key: Arc<PrivateKey>,
    clock: Arc<dyn Clock>,
    modi_key: Option<Arc<PrivateKey>>,
    dpop: bool,
    token_options: HttpOptions,
    call_options: HttpOptions,
    limiter: Option<Arc<RateLimiter>>,
    operator: Option<AuditContext>,
    school_year: Option<anist_core::school::SchoolYear>,
    services: Vec<(String, Service, Option<HttpOptions>)>,
}

impl fmt::Debug for SessionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionBuilder")
            .field("environment", &self.environment)
            .field("client_id", &self.client_id)
            .field("kid", self.key.kid())
            .field("dpop", &self.dpop)
            .field(
                "services",
                &self.services.iter().map(|s| &s.0).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl SessionBuilder {
    /// A session of `client_id` in `environment`, asking `endpoints` for
    /// vouchers with assertions signed by `key`, timed by `clock`; default
    /// HTTP options (the token request's and the calls' timeouts of §5).
    pub fn new(
        environment: Environment,
        endpoints: PdndEndpoints,
        client_id: ClientId,
        key: Arc<PrivateKey>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            environment,
            endpoints,
            client_id,
            key,
            clock,
            modi_key: None,
            dpop: false,
            token_options: HttpOptions::default(),
            call_options: HttpOptions::default().timeout(crate::call::DEFAULT_CALL_TIMEOUT),
            limiter: None,
            operator: None,
            school_year: None,
            services: Vec::new(),
        }
    }

    /// Signs the ModI headers (and the TrackingEvidence) with this key
    /// instead of the client assertion's.
    #[must_use]
    pub fn modi_key(mut self, key: Arc<PrivateKey>) -> Self {
        self.modi_key = Some(key);
        self
    }

    /// Asks for DPoP vouchers and proves them with the client key.
    #[must_use]
    pub fn dpop(mut self, on: bool) -> Self {
        self.dpop = on;
        self
    }

    /// The HTTP options of the token request.
    #[must_use]
    pub fn token_options(mut self, options: HttpOptions) -> Self {
        self.token_options = options;
        self
    }

    /// The HTTP options of the e-service calls.
    #[must_use]
    pub fn call_options(mut self, options: HttpOptions) -> Self {
        self.call_options = options;
        self
    }

    /// The client-side rate budget every call of the session takes from
    /// (retries and every caller included).
    #[must_use]
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// The operator on whose behalf calls are made.
    #[must_use]
    pub fn operator(mut self, operator: AuditContext) -> Self {
        self.operator = Some(operator);
        self
    }

    /// The school year the e-services treat as current
    /// ([`Session::current_school_year`]).
    #[must_use]
    pub fn current_school_year(mut self, year: anist_core::school::SchoolYear) -> Self {
        self.school_year = Some(year);
        self
    }

    /// Adds the e-service called `name`, reached with the session's caller.
    #[must_use]
    pub fn service(mut self, name: &str, service: Service) -> Self {
        self.services.push((name.to_string(), service, None));
        self
    }

    /// Adds the e-service called `name`, reached with a caller of its own
    /// built with `options` (e.g. presenting a client certificate that
    /// other e-services must not see), sharing the voucher cache and the
    /// rate budget.
    #[must_use]
    pub fn service_with_options(
        mut self,
        name: &str,
        service: Service,
        options: HttpOptions,
    ) -> Self {
        self.services
            .push((name.to_string(), service, Some(options)));
        self
    }

    /// The session.
    ///
    /// # Errors
    /// [`CallError::NotSent`] or [`CallError::Voucher`] when an HTTP
    /// client cannot be built (a CA bundle or a client certificate that is
    /// not usable, a token URL that is not `https://`).
    pub fn build(self) -> Result<Session, CallError> {
        self.build_with(|caller| caller)
    }

    /// As [`Self::build`], with the session's main caller changed by
    /// `adjust` once made (e.g. a test's throttling policy).
    ///
    /// # Errors
    /// As [`Self::build`].
    pub fn build_with(
        self,
        adjust: impl FnOnce(Caller<HttpTokenFetcher>) -> Caller<HttpTokenFetcher>,
    ) -> Result<Session, CallError> {
        let Self {
            environment,
            endpoints,
            client_id,
            key,
            clock,
            modi_key,
            dpop,
            token_options,
            call_options,
            limiter,
            operator,
            school_year,
            services,
        } = self;
        let mut fetcher = HttpTokenFetcher::with_options(
            endpoints,
            Arc::clone(&key),
            Arc::clone(&clock),
            &token_options,
        )?;
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
        let make_caller = |options: &HttpOptions| -> Result<Caller<HttpTokenFetcher>, CallError> {
            let mut caller = Caller::with_options(
                Arc::clone(&cache),
                signer.clone(),
                Arc::clone(&clock),
                options,
            )?;
            if let Some(l) = &limiter {
                caller = caller.rate_limiter(Arc::clone(l));
            }
            if dpop {
                caller = caller.dpop_key(Arc::clone(&key));
            }
            Ok(caller)
        };
        let caller = adjust(make_caller(&call_options)?);
        let mut session = Session::new(caller, environment, client_id, key.kid().clone());
        for (name, service, own) in services {
            let service = match own {
                Some(options) => service.with_caller(Arc::new(make_caller(&options)?)),
                None => service,
            };
            session = session.service(&name, service);
        }
        if let Some(op) = operator {
            session = session.operator(op);
        }
        if let Some(year) = school_year {
            session = session.current_school_year(year);
        }
        Ok(session)
    }
}
