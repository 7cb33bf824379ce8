//! The sandbox (feature `sandbox`): a faithful local stand-in for PDND's
//! authorization server on 127.0.0.1, started in-process.
//!
//! It rejects exactly what PDND rejects, with the same status codes and
//! bodies (protocol reference §2.4–§2.7): every functional refusal is the
//! opaque `400 015-0008`, form errors are `400 007-9999`, the per-tenant rate
//! limiter answers `429 007-10004`. Unlike PDND it says why, in the
//! [`REASON_HEADER`] response header (PDND's internal error name and
//! detail), so that tests and developers need no back-office debug tool.
//!
//! Routes: `POST /token.oauth2`, `GET /.well-known/jwks.json` (the
//! voucher-signing key, with a UUID `kid` like PDND's), `GET /keys/{kid}`
//! (a client key uploaded in the registry, as a JWK, for gateways that
//! verify ModI tokens), `GET /status`.
//!
//! Randomness is seeded ([`SandboxConfig::seed`]): voucher `jti`s,
//! `correlationId`s and the signing key's `kid` repeat from run to run.
//! The signing key itself is generated at start unless one is given
//! ([`SandboxConfig::signing_key`]).
//!
//! ```
//! use anist_client::sandbox::{Sandbox, SandboxConfig};
//! use anist_client::sandbox::registry::Registry;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let registry = Registry::builder().build()?;
//! let sandbox = Sandbox::start(SandboxConfig::new(registry)).await?;
//! assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(sandbox.endpoints().token_url(), format!("{}/token.oauth2", sandbox.base_url()));
//! sandbox.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

// The layers, each importing only the ones above it:
// - `backend` (the front/backend interface), `registry` (PDND's state; it
//   holds backends as `dyn ServiceBackend`), `gateway` and `front` (the
//   GovWay-like front), `auth`, `dpop`: they name no backend;
// - the backends, each in its folder (`anist`, `inps`, `anpr`): they
//   implement `ServiceBackend` and publish their e-services themselves,
//   importing only the layer above (and the backends whose data they
//   answer from: ANPR reads the ANIST and ISEE populations);
// - the composition root, `services` (which backends the sandbox has, the
//   default registry, their states and knobs) and `session` (the default
//   client), with `config_file` and `registry_file`.
pub mod anist;
pub mod anpr;
mod auth;
pub mod backend;
pub mod config_file;
mod dpop;
pub mod faults;
mod front;
mod gateway;
pub mod inps;
pub mod registry;
pub mod registry_file;
mod services;
mod session;
mod tls;

// The ANPR backends live in `anpr/` (E002 in `anpr`, the massive services in
// `anpr::massive`, the SOAP 3002 endpoint in `anpr::soap`); their old paths
// `sandbox::anpr_massive` and `sandbox::anpr_soap` keep working.
pub use self::anpr::massive as anpr_massive;
pub use self::anpr::soap as anpr_soap;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::env::{PdndEndpoints, SANDBOX_ASSERTION_AUDIENCE, SANDBOX_VOUCHER_ISSUER};
use crate::jws::sign_rs256;
use crate::keys::{KeyError, PrivateKey, PublicKey, RsaBits};
use crate::rng::SplitMix64;

use self::auth::{Accepted, Reason, Refusal, Rules};
use self::backend::{lock, BackendStates};
use self::registry::Registry;

/// The response header carrying the internal reason of a refusal
/// (`<pdndErrorName>: <detail>`, several joined with ` | `). PDND itself
/// never says why.
pub const REASON_HEADER: &str = "X-Sandbox-Reason";

/// The local default of PDND's rate limiter: 10 requests per tenant per
/// 1000 ms (assumption U1 of the protocol reference).
pub const DEFAULT_RATE_LIMIT: RateLimitConfig = RateLimitConfig {
    max_requests: 10,
    interval_ms: 1000,
};

/// The per-tenant rate limiter of the token endpoint. Its windows are
/// measured on the monotonic clock, not on [`SandboxConfig::clock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Requests allowed per interval (`X-Rate-Limit-Limit`).
    pub max_requests: u32,
    /// The interval, milliseconds (`X-Rate-Limit-Interval`).
    pub interval_ms: u64,
}

/// A fault the sandbox injects into the next request of a [`Route`].
///
/// On the token route: `Delay` before handling; `RateLimited`,
/// `TooManyRequests` and `LimitExceeded` answer as the rate limiter does
/// (429 `007-10004`), `InternalError` and `Status` as PDND's 500 — the
/// last three only if the request is valid.
///
/// On a front route, once the call has passed every check (and counted
/// against the quota): `Delay` holds the call (and its concurrency slot)
/// before the backend; the others answer instead of the backend with
/// GovWay's problem for that status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long before handling the request.
    Delay(Duration),
    /// If the request is valid, refuse it as the rate limiter does (429).
    RateLimited,
    /// If the request is valid, fail with PDND's 500 (audit pipeline down).
    InternalError,
    /// An error status from the front: 401 `TokenAuthenticationFailed`
    /// (a voucher the gateway no longer accepts), 500
    /// `InternalResponseError`, 502 `BadResponse`, 503 `APIUnavailable`,
    /// 504 `EndpointReadTimeout`; another 5xx is `APIUnavailable` with that
    /// status, anything else 503 `APIUnavailable`.
    Status(u16),
    /// 429 `TooManyRequests`, with `Retry-After` in seconds if given.
    TooManyRequests {
        /// The `Retry-After` value, seconds.
        retry_after: Option<u32>,
    },
    /// 429 `LimitExceeded` (quota), without `Retry-After`.
    LimitExceeded,
    /// The connection is closed before the answer is complete (a `200`
    /// whose body breaks off): the client sees a network error. On the
    /// token route it applies before any check, on a front route after
    /// them.
    DropConnection,
}

/// Where a fault is injected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `POST /token.oauth2`.
    Token,
    /// An e-service on the front, by its path `<erogatore>/<service>/v1`
    /// ([`registry::Front::path`]).
    Front(String),
}

/// Knobs of the GovWay-like front (protocol reference §3.5, U4, U6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayConfig {
    /// `Agid-JWT-Signature` `iat` not older than this, seconds (default 300).
    pub iat_max_age: i64,
    /// Any `iat` at most this far in the future, seconds (default 5, i.e.
    /// GovWay's 5000 ms).
    pub future_tolerance: i64,
    /// `Agid-JWT-TrackingEvidence` `iat` not older than this, seconds
    /// (default 300, assumption U4).
    pub audit_max_age: i64,
    /// Compare the voucher's `digest.value` with the evidence's hash
    /// case-sensitively (default false, assumption U6).
    pub digest_case_sensitive: bool,
    /// `Retry-After` of `429 TooManyRequests` from the concurrency limit,
    /// seconds (default 1).
    pub throttle_retry_after: u32,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            iat_max_age: 300,
            future_tolerance: 5,
            audit_max_age: 300,
            digest_case_sensitive: false,
            throttle_retry_after: 1,
        }
    }
}

/// How to start a sandbox.
#[derive(Clone)]
pub struct SandboxConfig {
    port: u16,
    registry: Registry,
    clock: Arc<dyn Clock>,
    seed: u64,
    signing_key: Option<Arc<PrivateKey>>,
    rate_limit: RateLimitConfig,
    strict: bool,
    gateway: GatewayConfig,
    tls: bool,
    client_key: Option<Arc<PrivateKey>>,
    backends: services::BackendConfig,
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("port", &self.port)
            .field("seed", &self.seed)
            .field("rate_limit", &self.rate_limit)
            .field("strict", &self.strict)
            .field("gateway", &self.gateway)
            .field("tls", &self.tls)
            .field("client_key", &self.client_key.as_ref().map(|k| k.kid()))
            .field("backends", &self.backends)
            .finish_non_exhaustive()
    }
}

impl SandboxConfig {
    /// A sandbox serving `registry` on an ephemeral port of 127.0.0.1, on
    /// the system clock, seed 0, strict claims, the default rate limit.
    pub fn new(registry: Registry) -> Self {
        Self {
            port: 0,
            registry,
            clock: Arc::new(SystemClock),
            seed: 0,
            signing_key: None,
            rate_limit: DEFAULT_RATE_LIMIT,
            strict: true,
            gateway: GatewayConfig::default(),
            tls: true,
            client_key: None,
            backends: services::BackendConfig::default(),
        }
    }

    /// Whether to open the TLS port (default on): the sandbox CA, server
    /// and client certificates are generated at start.
    #[must_use]
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }

    /// Sets the front's time windows and throttling answer.
    #[must_use]
    pub fn gateway(mut self, gateway: GatewayConfig) -> Self {
        self.gateway = gateway;
        self
    }

    /// Listens on this port of 127.0.0.1 (0: any free port).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Reads time from `clock` (assertion expiry, voucher `iat`).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Seeds the ids the sandbox makes up.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Signs vouchers with this key instead of a freshly generated one.
    #[must_use]
    pub fn signing_key(mut self, key: Arc<PrivateKey>) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// Sets the per-tenant rate limit.
    #[must_use]
    pub fn rate_limit(mut self, max_requests: u32, interval_ms: u64) -> Self {
        self.rate_limit = RateLimitConfig {
            max_requests,
            interval_ms,
        };
        self
    }

    /// Strict claims (PDND's behaviour since July 2025; on by default):
    /// off accepts extra header members and claims, and checks `nbf`.
    #[must_use]
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }
}

/// Why the sandbox did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The port could not be bound.
    #[error("the sandbox could not listen on 127.0.0.1:{port}: {kind}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The I/O error kind.
        kind: std::io::ErrorKind,
    },
    /// The signing key could not be generated.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The TLS certificates or configuration could not be made.
    #[error("the sandbox's TLS port could not be set up ({reason}); start it without TLS (SandboxConfig::tls(false)) to go on")]
    Tls {
        /// What failed.
        reason: String,
    },
}

impl ErrorCode for SandboxError {
    fn code(&self) -> &'static str {
        match self {
            SandboxError::Bind { .. } => "sandbox_bind",
            SandboxError::Key(k) => k.code(),
            SandboxError::Tls { .. } => "sandbox_tls",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            SandboxError::Bind { .. } | SandboxError::Tls { .. } => ErrorKind::Sandbox,
            SandboxError::Key(k) => k.kind(),
        }
    }
}

#[doc(hidden)]
impl CodeSamples for SandboxError {
    fn samples() -> Vec<Self> {
        let mut v = vec![
            SandboxError::Bind {
                port: 8443,
                kind: std::io::ErrorKind::AddrInUse,
            },
            SandboxError::Tls {
                reason: "the certificate could not be made".into(),
            },
        ];
        v.extend(KeyError::samples().into_iter().map(SandboxError::Key));
        v
    }
}

/// The sandbox's namespace: [`Sandbox::start`].
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// Starts the sandbox on the current tokio runtime and returns once it
    /// accepts connections.
    ///
    /// # Errors
    /// [`SandboxError`] if the port is taken or the key cannot be generated.
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        let key = match config.signing_key {
            Some(k) => k,
            None => Arc::new(PrivateKey::generate(RsaBits::Rsa2048)?),
        };
        let mut rng = SplitMix64::new(config.seed);
        let voucher_kid = rng.uuid_v4();
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), config.port);
        let listener =
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| SandboxError::Bind {
                    port: config.port,
                    kind: e.kind(),
                })?;
        let local = listener.local_addr().map_err(|e| SandboxError::Bind {
            port: config.port,
            kind: e.kind(),
        })?;
        let base_url = format!("http://{local}");
        let endpoints = PdndEndpoints::sandbox_at(&base_url);
        let tls_material = if config.tls {
            Some(tls::generate(config.client_key.as_deref())?)
        } else {
            None
        };
        let tls_listener = match &tls_material {
            Some(m) => {
                let tcp = tokio::net::TcpListener::bind(SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::LOCALHOST),
                    0,
                ))
                .await
                .map_err(|e| SandboxError::Bind {
                    port: 0,
                    kind: e.kind(),
                })?;
                Some(
                    tls::TlsListener::new(tcp, Arc::clone(&m.server)).map_err(|e| {
                        SandboxError::Bind {
                            port: 0,
                            kind: e.kind(),
                        }
                    })?,
                )
            }
            None => None,
        };
        let tls_base_url = tls_listener.as_ref().map(|l| {
            let port = axum::serve::Listener::local_addr(l)
                .map(|a| a.port())
                .unwrap_or_default();
            format!("https://localhost:{port}")
        });
        let (backends, services) =
            services::start(config.backends, config.seed, config.clock.as_ref());
        let rated = faults::RateFaults::new(config.seed);
        let token_url = endpoints.token_url().to_string();
        let inner = Arc::new(Inner {
            registry: config.registry,
            clock: rated.clock(config.clock),
            key,
            voucher_kid,
            issuer: SANDBOX_VOUCHER_ISSUER.to_string(),
            audiences: vec![SANDBOX_ASSERTION_AUDIENCE.to_string()],
            strict: config.strict,
            rate: config.rate_limit,
            rng: Mutex::new(rng),
            windows: Mutex::new(HashMap::new()),
            faults: Mutex::new(HashMap::new()),
            token_requests: AtomicU64::new(0),
            vouchers_issued: AtomicU64::new(0),
            gateway: config.gateway,
            front: front::FrontState::default(),
            backends,
            services,
            client_key: config.client_key,
            rated,
            token_url,
            dpop_jtis: dpop::JtiCache::default(),
        });
        let router = Router::new()
            .route("/token.oauth2", post(token))
            .route(
                "/govway/rest/in/{erogatore}/{service}/{version}/{*operation}",
                any(front::handle),
            )
            .route(
                "/govway/rest/in/{erogatore}/{service}/{version}",
                any(front::handle_endpoint),
            )
            .route("/.well-known/jwks.json", get(jwks))
            .route("/keys/{kid}", get(client_key))
            .route("/status", get(status))
            .merge(services::routes())
            .with_state(Arc::clone(&inner));
        let (tx, rx) = oneshot::channel::<()>();
        let (tls_stop, tls_rx) = oneshot::channel::<()>();
        let tls_task = tls_listener.map(|l| {
            let router = router.clone().layer(axum::Extension(tls::ViaTls));
            tokio::spawn(async move {
                let _ = axum::serve(l, router)
                    .with_graceful_shutdown(async {
                        let _ = tls_rx.await;
                    })
                    .await;
            })
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            let _ = tls_stop.send(());
            if let Some(t) = tls_task {
                let abort = t.abort_handle();
                if tokio::time::timeout(Duration::from_secs(5), t)
                    .await
                    .is_err()
                {
                    abort.abort();
                }
            }
        });
        let (ca_pem, client_identity) = match tls_material {
            Some(m) => (Some(m.ca_pem), m.client),
            None => (None, None),
        };
        Ok(SandboxHandle {
            tls_base_url,
            ca_pem,
            client_identity,
            base_url,
            endpoints,
            inner,
            stop: Some(tx),
            task: Some(task),
        })
    }
}

/// A running sandbox. Dropping it stops the server (without waiting);
/// [`SandboxHandle::shutdown`] stops it and waits.
pub struct SandboxHandle {
    base_url: String,
    tls_base_url: Option<String>,
    ca_pem: Option<String>,
    client_identity: Option<(String, zeroize::Zeroizing<String>)>,
    endpoints: PdndEndpoints,
    inner: Arc<Inner>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("base_url", &self.base_url)
            .field("token_requests", &self.token_requests())
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `https://localhost:<port>`: the same routes on the TLS port, which
    /// requires a client certificate issued by the sandbox CA
    /// ([`Self::ca_pem`], [`Self::client_identity_pem`]). `None` when
    /// started without TLS.
    pub fn tls_base_url(&self) -> Option<&str> {
        self.tls_base_url.as_deref()
    }

    /// The sandbox CA certificate (PEM), generated at start: trust it
    /// (`HttpOptions::ca_bundle_pem`) to reach [`Self::tls_base_url`].
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The default client's TLS identity: its certificate (issued by the
    /// sandbox CA for the client's own public key, U14) and its private
    /// key, PEM, for `HttpOptions::client_identity_pem`. `None` without
    /// TLS or without a default client key.
    pub fn client_identity_pem(&self) -> Option<(&str, &str)> {
        self.client_identity
            .as_ref()
            .map(|(cert, key)| (cert.as_str(), key.as_str()))
    }

    /// The PDND endpoints to give a client: token URL, assertion audience,
    /// voucher issuer and JWKS of this sandbox.
    pub fn endpoints(&self) -> &PdndEndpoints {
        &self.endpoints
    }

    /// How many `POST /token.oauth2` requests arrived, valid or not.
    pub fn token_requests(&self) -> u64 {
        self.inner.token_requests.load(Ordering::SeqCst)
    }

    /// How many vouchers were issued.
    pub fn vouchers_issued(&self) -> u64 {
        self.inner.vouchers_issued.load(Ordering::SeqCst)
    }

    /// Queues a fault for the next token request (faults apply in order,
    /// one per request).
    pub fn inject(&self, fault: Fault) {
        self.inject_at(Route::Token, fault);
    }

    /// Queues a fault for the next request of `route` (faults apply in
    /// order, one per request of that route).
    pub fn inject_at(&self, route: Route, fault: Fault) {
        lock(&self.inner.faults)
            .entry(route)
            .or_default()
            .push_back(fault);
    }

    /// Draws a fault from `rates` for every request of `route` that has
    /// no queued fault (see [`faults`]); the sequence restarts from the
    /// sandbox seed. `None` stops drawing.
    ///
    /// # Errors
    /// [`faults::FaultRatesError`] if the rates are not probabilities
    /// adding up to at most 1.
    pub fn fault_rates(
        &self,
        route: Route,
        rates: Option<faults::FaultRates>,
    ) -> Result<(), faults::FaultRatesError> {
        if let Some(r) = &rates {
            r.validate()?;
        }
        self.inner.rated.set(route, rates);
        Ok(())
    }

    /// Shifts the sandbox's notion of now by `seconds` (negative: into the
    /// past) from its configured clock: voucher `iat`/`exp`, assertion
    /// expiry and the front's time windows and quota days are judged
    /// against the skewed clock. 0 removes the skew.
    pub fn set_clock_offset(&self, seconds: i64) {
        self.inner.rated.set_offset(seconds);
    }

    /// The front URL of an e-service of the registry
    /// (`<base>/govway/rest/in/<erogatore>/<service>/v1`), if published.
    pub fn front_url(&self, eservice_id: &str) -> Option<String> {
        let e = self.inner.registry.eservice(eservice_id)?;
        let f = e.descriptor().front_profile()?;
        Some(format!("{}/govway/rest/in/{}", self.base_url, f.path()))
    }

    /// How many requests reached the front, valid or not.
    pub fn front_requests(&self) -> u64 {
        self.inner.front.requests.load(Ordering::SeqCst)
    }

    /// How many `429` answers the front gave (throttling: concurrency, rate
    /// policy, injected; and quota).
    pub fn front_throttled(&self) -> u64 {
        self.inner.front.throttled.load(Ordering::SeqCst)
    }

    /// How many calls the front let through to a backend.
    pub fn backend_calls(&self) -> u64 {
        self.inner.front.backend_calls.load(Ordering::SeqCst)
    }

    /// The `kid` (a UUID) of the key that signs vouchers.
    pub fn voucher_kid(&self) -> &str {
        &self.inner.voucher_kid
    }

    /// The public key that verifies vouchers.
    pub fn voucher_public_key(&self) -> &PublicKey {
        self.inner.key.public_key()
    }

    /// The registry served.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Stops accepting connections, lets requests in flight finish (at most
    /// 5 s) and returns.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

struct Inner {
    registry: Registry,
    clock: Arc<dyn Clock>,
    key: Arc<PrivateKey>,
    voucher_kid: String,
    issuer: String,
    audiences: Vec<String>,
    strict: bool,
    rate: RateLimitConfig,
    rng: Mutex<SplitMix64>,
    windows: Mutex<HashMap<String, Window>>,
    faults: Mutex<HashMap<Route, VecDeque<Fault>>>,
    token_requests: AtomicU64,
    vouchers_issued: AtomicU64,
    gateway: GatewayConfig,
    front: front::FrontState,
    /// The backends' states, by type, for the front to hand them.
    backends: BackendStates,
    /// The same states, typed, for the handle's methods.
    services: services::Started,
    /// The default client's key ([`SandboxConfig::with_client_registry`]).
    client_key: Option<Arc<PrivateKey>>,
    rated: faults::RateFaults,
    /// This sandbox's token URL: the `htu` of DPoP proofs.
    token_url: String,
    /// DPoP proof `jti`s seen (token endpoint and front).
    dpop_jtis: dpop::JtiCache,
}

/// A fixed window of the rate limiter (rate-limiter-flexible's model: the
/// window starts at the first request and lasts the interval).
struct Window {
    start: Instant,
    count: u32,
}

impl Inner {
    fn uuid(&self) -> String {
        lock(&self.rng).uuid_v4()
    }

    /// The next fault queued for `route`, else one drawn from its rates.
    fn next_fault(&self, route: &Route) -> Option<Fault> {
        let queued = lock(&self.faults)
            .get_mut(route)
            .and_then(VecDeque::pop_front);
        queued.or_else(|| self.rated.draw(route))
    }

    /// Counts a request for `tenant`; `Ok(remaining)` or `Err(())` when over.
    fn consume(&self, tenant: &str) -> Result<u32, ()> {
        let mut windows = lock(&self.windows);
        let now = Instant::now();
        let interval = Duration::from_millis(self.rate.interval_ms);
        let w = windows.entry(tenant.to_string()).or_insert(Window {
            start: now,
            count: 0,
        });
        if now.duration_since(w.start) >= interval {
            w.start = now;
            w.count = 0;
        }
        w.count = w.count.saturating_add(1);
        if w.count > self.rate.max_requests {
            Err(())
        } else {
            Ok(self.rate.max_requests - w.count)
        }
    }

    fn rate_headers(&self, remaining: u32) -> [(&'static str, String); 3] {
        [
            ("x-rate-limit-limit", self.rate.max_requests.to_string()),
            ("x-rate-limit-remaining", remaining.to_string()),
            ("x-rate-limit-interval", self.rate.interval_ms.to_string()),
        ]
    }

    fn sign_voucher(&self, acc: &Accepted<'_>) -> Result<(String, i64), KeyError> {
        let iat = self.clock.now();
        let lifespan = acc.descriptor.lifespan();
        let header = json!({
            "alg": "RS256",
            "use": "sig",
            "typ": "at+jwt",
            "kid": self.voucher_kid,
        });
        let mut payload = json!({
            "jti": self.uuid(),
            "iss": self.issuer,
            "aud": acc.descriptor.voucher_audience(),
            "client_id": acc.client.id(),
            "sub": acc.client.id(),
            "iat": iat,
            "nbf": iat,
            "exp": iat.saturating_add(lifespan),
            "purposeId": acc.purpose_id,
            "producerId": acc.eservice.producer(),
            "consumerId": acc.client.consumer(),
            "eserviceId": acc.eservice.id(),
            "descriptorId": acc.descriptor.id(),
        });
        if let (Some(d), Some(obj)) = (&acc.digest, payload.as_object_mut()) {
            obj.insert("digest".into(), d.clone());
        }
        if let (Some(jkt), Some(obj)) = (&acc.dpop_jkt, payload.as_object_mut()) {
            obj.insert("cnf".into(), json!({ "jkt": jkt }));
        }
        let jws = sign_rs256(&header, &payload, &self.key)?;
        Ok((jws.into_string(), lifespan))
    }
}

/// Keeps a header value to visible ASCII, at most 2000 bytes.
fn header_text(s: &str) -> HeaderValue {
    let clean: String = s
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .take(2000)
        .collect();
    HeaderValue::from_str(&clean).unwrap_or_else(|_| HeaderValue::from_static("?"))
}

fn json_response(
    status: StatusCode,
    body: &Value,
    headers: &[(&'static str, String)],
    reasons: &[Reason],
) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    for (name, value) in headers {
        h.insert(HeaderName::from_static(name), header_text(value));
    }
    if !reasons.is_empty() {
        let text = reasons
            .iter()
            .map(|r| format!("{}: {}", r.code, r.detail))
            .collect::<Vec<_>>()
            .join(" | ");
        h.insert(
            HeaderName::from_static("x-sandbox-reason"),
            header_text(&text),
        );
    }
    resp
}

fn refused(inner: &Inner, refusal: &Refusal) -> Response {
    let body = match refusal {
        Refusal::Schema(reasons) => json!({
            "type": "about:blank",
            "title": "Bad request",
            "status": 400,
            "detail": "Incorrect value for body",
            "correlationId": inner.uuid(),
            // One entry per problem, as PagoPA's validator answers.
            "errors": reasons
                .iter()
                .map(|r| json!({ "code": "007-9999", "detail": r.detail }))
                .collect::<Vec<_>>(),
        }),
        Refusal::Opaque(_) => json!({
            "title": "The request contains bad syntax or cannot be fulfilled.",
            "type": "about:blank",
            "status": 400,
            "detail": "Bad request",
            "errors": [{
                "code": "015-0008",
                "detail": "Unable to generate a token for the given request",
            }],
            "correlationId": inner.uuid(),
        }),
    };
    json_response(StatusCode::BAD_REQUEST, &body, &[], refusal.reasons())
}

fn too_many(inner: &Inner, tenant: &str, forced: bool) -> Response {
    let detail = format!("Requests limit exceeded for organization {tenant}");
    let body = json!({
        "type": "about:blank",
        "title": "Too Many Requests",
        "status": 429,
        "detail": detail,
        "correlationId": inner.uuid(),
        "errors": [{ "code": "007-10004", "detail": detail }],
    });
    let why = if forced {
        "injected fault"
    } else {
        "the tenant's requests exceed the limit in this interval"
    };
    json_response(
        StatusCode::TOO_MANY_REQUESTS,
        &body,
        &inner.rate_headers(0),
        &[Reason {
            code: "tooManyRequests",
            detail: why.to_string(),
        }],
    )
}

fn internal_error(inner: &Inner, why: &str) -> Response {
    let body = json!({
        "title": "The request couldn't be fulfilled due to an internal error",
        "type": "internalServerError",
        "status": 500,
        "detail": "Internal server error",
        "errors": [{
            "code": "015-0000",
            "detail": "Unable to generate a token for the given request due to an internal error",
        }],
        "correlationId": inner.uuid(),
    });
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &body,
        &[],
        &[Reason {
            code: "internalError",
            detail: why.to_string(),
        }],
    )
}

async fn token(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    inner.token_requests.fetch_add(1, Ordering::SeqCst);
    let fault = inner.next_fault(&Route::Token);
    match fault {
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::DropConnection) => return faults::dropped(),
        _ => {}
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let rules = Rules {
        audiences: &inner.audiences,
        strict: inner.strict,
    };
    let now = inner.clock.now();
    // The DPoP proof is checked here, its outcome reported at step 1.
    let proofs: Vec<&str> = headers
        .get_all("dpop")
        .iter()
        .map(|v| v.to_str().unwrap_or(","))
        .collect();
    let proof = match proofs.as_slice() {
        [] => None,
        [one] => Some(dpop::verify(one, "POST", &inner.token_url, now, None)),
        _ => Some(dpop::verify(",", "POST", &inner.token_url, now, None)),
    };
    let validate = || match &proof {
        Some(Ok(p)) => Ok(p.jkt.clone()),
        Some(Err(e)) => Err(Reason {
            code: e.code,
            detail: e.detail.clone(),
        }),
        None => Err(Reason {
            code: "dpopProofValidationFailed",
            detail: "no proof".into(),
        }),
    };
    let dpop_check: Option<&dyn Fn() -> Result<String, Reason>> = match proof {
        Some(_) => Some(&validate),
        None => None,
    };
    let accepted = match auth::check(
        &inner.registry,
        &rules,
        now,
        content_type,
        dpop_check,
        &body,
    ) {
        Ok(a) => a,
        Err(refusal) => return refused(&inner, &refusal),
    };
    // 7. Rate limit per consumer tenant (valid requests only).
    let tenant = accepted.client.consumer();
    if matches!(
        fault,
        Some(Fault::RateLimited | Fault::TooManyRequests { .. } | Fault::LimitExceeded)
    ) {
        return too_many(&inner, tenant, true);
    }
    let remaining = match inner.consume(tenant) {
        Ok(r) => r,
        Err(()) => return too_many(&inner, tenant, false),
    };
    if matches!(fault, Some(Fault::InternalError | Fault::Status(_))) {
        return internal_error(&inner, "injected fault");
    }
    // 8. The DPoP proof's jti is fresh.
    if let Some(Ok(p)) = &proof {
        if !inner.dpop_jtis.fresh(p, now) {
            return refused(
                &inner,
                &Refusal::Opaque(vec![Reason {
                    code: "dpopProofJtiAlreadyUsed",
                    detail: "the DPoP proof jti was already used".into(),
                }]),
            );
        }
    }
    // 9. Sign.
    let (token, lifespan) = match inner.sign_voucher(&accepted) {
        Ok(t) => t,
        Err(_) => return internal_error(&inner, "signing the voucher failed"),
    };
    inner.vouchers_issued.fetch_add(1, Ordering::SeqCst);
    let body = json!({
        "access_token": token,
        "token_type": if accepted.dpop_jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": lifespan,
    });
    json_response(StatusCode::OK, &body, &inner.rate_headers(remaining), &[])
}

fn jwk_with_kid(key: &PublicKey, kid: &str) -> Value {
    let mut jwk: Value = serde_json::from_str(&key.to_jwk()).unwrap_or(Value::Null);
    if let Some(o) = jwk.as_object_mut() {
        o.insert("kid".into(), Value::String(kid.to_string()));
    }
    jwk
}

async fn jwks(State(inner): State<Arc<Inner>>) -> Response {
    let body = json!({ "keys": [jwk_with_kid(inner.key.public_key(), &inner.voucher_kid)] });
    json_response(StatusCode::OK, &body, &[], &[])
}

async fn client_key(State(inner): State<Arc<Inner>>, Path(kid): Path<String>) -> Response {
    match inner.registry.key_by_kid(&kid) {
        Some((_, key)) => json_response(StatusCode::OK, &jwk_with_kid(key, &kid), &[], &[]),
        None => {
            let body = json!({
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": format!("Key with kid {} not found", header_text(&kid).to_str().unwrap_or("?")),
                "correlationId": inner.uuid(),
                "errors": [],
            });
            json_response(
                StatusCode::NOT_FOUND,
                &body,
                &[],
                &[Reason {
                    code: "keyNotFound",
                    detail: "no client in the registry has a key with this kid".into(),
                }],
            )
        }
    }
}

async fn status() -> Response {
    json_response(StatusCode::OK, &json!({ "status": "OK" }), &[], &[])
}
