//! What the sandbox's PDND knows: tenants (enti), their clients and keys,
//! e-services with their descriptor, agreements (*richieste di fruizione*)
//! and purposes (*finalità*), each with its state (protocol reference §10).
//!
//! Built in code; every reference is checked by [`RegistryBuilder::build`].
//!
//! ```
//! use anist_client::keys::{PrivateKey, RsaBits};
//! use anist_client::sandbox::registry::{Agreement, Client, Descriptor, EService, Purpose, Registry, Tenant};
//!
//! let key = PrivateKey::generate(RsaBits::Rsa2048)?;
//! let registry = Registry::builder()
//!     .tenant(Tenant::new("6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11", "Comune di Prova"))
//!     .tenant(Tenant::new("0f1e2d3c-4b5a-4697-8877-665544332211", "Ministero"))
//!     .eservice(EService::new(
//!         "5e7a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b",
//!         "0f1e2d3c-4b5a-4697-8877-665544332211",
//!         Descriptor::new("d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6", "https://sandbox.anist.invalid/anist/frequenze/v1")
//!             .voucher_lifespan(600),
//!     ))
//!     .agreement(Agreement::new("5e7a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b", "6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11"))
//!     .purpose(Purpose::new(
//!         "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e",
//!         "5e7a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b",
//!         "6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11",
//!     ))
//!     .client(
//!         Client::new("c9b73ff4-e203-4580-911b-689514d350c2", "6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11")
//!             .key(key.public_key().clone())
//!             .purpose("ffe23164-4b19-4ac4-8ee3-2a259dc2b81e"),
//!     )
//!     .build()?;
//! assert_eq!(registry.clients().len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use anist_core::{CodeSamples, ErrorCode, ErrorKind};

pub use super::backend::ServiceBackend;

use crate::ids::{is_uuid, ClientId, PurposeId};
use crate::keys::{PublicKey, MIN_RSA_BITS};

/// The state of a purpose, an agreement or a descriptor. Only `Active`
/// ones let a voucher be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum State {
    /// Usable.
    #[default]
    Active,
    /// Suspended, archived, waiting for approval…: PDND refuses vouchers.
    Inactive,
}

/// An organization (ente): consumer, producer or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    id: String,
    name: String,
}

impl Tenant {
    /// A tenant with this UUID and display name.
    pub fn new(id: &str, name: &str) -> Self {
        Self {
            id: id.to_ascii_lowercase(),
            name: name.to_string(),
        }
    }

    /// The tenant's UUID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The published version of an e-service that vouchers are issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    id: String,
    audiences: Vec<String>,
    voucher_lifespan: i64,
    daily_calls: u64,
    state: State,
    async_exchange: bool,
    front: Option<Front>,
}

/// Smallest `voucherLifespan` PDND's catalogue allows, seconds.
pub const MIN_VOUCHER_LIFESPAN: i64 = 60;
/// Largest `voucherLifespan` PDND's catalogue allows, seconds.
pub const MAX_VOUCHER_LIFESPAN: i64 = 86_400;

impl Descriptor {
    /// A descriptor with this UUID and one audience (the voucher `aud`),
    /// active, vouchers living 600 s, 1,000 calls a day per client.
    pub fn new(id: &str, audience: &str) -> Self {
        Self {
            id: id.to_ascii_lowercase(),
            audiences: vec![audience.to_string()],
            voucher_lifespan: 600,
            daily_calls: 1000,
            state: State::Active,
            async_exchange: false,
            front: None,
        }
    }

    /// Publishes the e-service on the sandbox's GovWay-like front with this
    /// profile (without one the e-service gets vouchers but no calls).
    #[must_use]
    pub fn front(mut self, front: Front) -> Self {
        self.front = Some(front);
        self
    }

    /// The gateway profile, if the e-service is published on the front.
    pub fn front_profile(&self) -> Option<&Front> {
        self.front.as_ref()
    }

    /// Adds another audience (vouchers then carry them comma-joined).
    #[must_use]
    pub fn audience(mut self, audience: &str) -> Self {
        self.audiences.push(audience.to_string());
        self
    }

    /// Sets the voucher lifetime, seconds (60..=86400, checked by build).
    #[must_use]
    pub fn voucher_lifespan(mut self, seconds: i64) -> Self {
        self.voucher_lifespan = seconds;
        self
    }

    /// Sets the daily call quota per client (the gateway enforces it).
    #[must_use]
    pub fn daily_calls(mut self, calls: u64) -> Self {
        self.daily_calls = calls;
        self
    }

    /// Sets the state.
    #[must_use]
    pub fn state(mut self, state: State) -> Self {
        self.state = state;
        self
    }

    /// Marks the e-service as asynchronous-exchange only: the plain token
    /// endpoint refuses it (`asyncExchangeNotAllowed`).
    #[must_use]
    pub fn async_exchange(mut self, on: bool) -> Self {
        self.async_exchange = on;
        self
    }

    /// The descriptor's UUID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The audiences, in order.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The voucher `aud`: the audiences joined with commas, as PDND does.
    pub fn voucher_audience(&self) -> String {
        self.audiences.join(",")
    }

    /// Voucher lifetime, seconds.
    pub fn lifespan(&self) -> i64 {
        self.voucher_lifespan
    }

    /// Daily call quota per client.
    pub fn daily_call_limit(&self) -> u64 {
        self.daily_calls
    }

    /// The state.
    pub fn current_state(&self) -> State {
        self.state
    }

    /// Whether the e-service only accepts asynchronous exchanges.
    pub fn is_async_only(&self) -> bool {
        self.async_exchange
    }
}

/// What answers behind the front once the gateway has let a call through.
///
/// The registry knows no backend: besides the built-in echo, a backend is
/// any [`ServiceBackend`], which publishes its e-services itself (the
/// sandbox's own: ANIST, INPS ISEE, ANPR).
/// Two backends are equal when they have the same
/// [`ServiceBackend::name`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Backend {
    /// `POST …/echo`: answers `{"received": <the JSON body>, "caller":
    /// {"clientId", "purposeId", "eserviceId"}}` (no personal data).
    #[default]
    Echo,
    /// An e-service backend.
    Service(Arc<dyn ServiceBackend>),
}

impl Backend {
    /// `backend` behind the front.
    pub fn service(backend: impl ServiceBackend + 'static) -> Self {
        Backend::Service(Arc::new(backend))
    }

    /// The backend's name: `echo`, or [`ServiceBackend::name`].
    pub fn name(&self) -> &str {
        match self {
            Backend::Echo => "echo",
            Backend::Service(b) => b.name(),
        }
    }

    /// Whether the front answers SOAP faults (a SOAP backend, e.g. INPS's;
    /// [`ServiceBackend::is_soap`]).
    pub fn is_soap(&self) -> bool {
        match self {
            Backend::Echo => false,
            Backend::Service(b) => b.is_soap(),
        }
    }

    /// Whether the backend offers `method` on `operation`
    /// ([`ServiceBackend::operation_known`]; the echo backend: `POST echo`).
    pub fn operation_known(&self, method: &str, operation: &str) -> bool {
        match self {
            Backend::Echo => method == "POST" && operation == "echo",
            Backend::Service(b) => b.operation_known(method, operation),
        }
    }
}

impl PartialEq for Backend {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Backend {}

/// How the GovWay-like front publishes an e-service (protocol reference
/// §3, §4, §10.2): its path, the ModI patterns it enforces, its
/// concurrency limit and the backend behind it. The daily quota is the
/// descriptor's [`Descriptor::daily_calls`].
///
/// Calls go to `/govway/rest/in/<erogatore>/<service>/v1/<operation>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Front {
    erogatore: String,
    service: String,
    version: String,
    mtls: bool,
    integrity: bool,
    audit: bool,
    max_concurrency: u32,
    max_rate: u32,
    audit_claims: Vec<String>,
    backend: Backend,
}

/// Default of [`Front::max_concurrency`].
pub const DEFAULT_MAX_CONCURRENCY: u32 = 10;

impl Front {
    /// An e-service published as `<erogatore>/<service>/v1` (see
    /// [`Self::version`]), with
    /// INTEGRITY_REST_02 on, AUDIT_REST_02 off, at most
    /// [`DEFAULT_MAX_CONCURRENCY`] calls in flight, the echo backend, and
    /// the LG default TrackingEvidence claims `userID` and `userLocation`
    /// required when AUDIT_REST_02 is on.
    pub fn new(erogatore: &str, service: &str) -> Self {
        Self {
            erogatore: erogatore.to_string(),
            service: service.to_string(),
            version: "v1".to_string(),
            mtls: false,
            integrity: true,
            audit: false,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            max_rate: 0,
            audit_claims: vec!["userID".into(), "userLocation".into()],
            backend: Backend::Echo,
        }
    }

    /// Enforces INTEGRITY_REST_02 (`Digest` + `Agid-JWT-Signature`).
    #[must_use]
    pub fn integrity(mut self, on: bool) -> Self {
        self.integrity = on;
        self
    }

    /// Enforces AUDIT_REST_02 (`Agid-JWT-TrackingEvidence` bound to the
    /// voucher's `digest`).
    #[must_use]
    pub fn audit(mut self, on: bool) -> Self {
        self.audit = on;
        self
    }

    /// At most this many calls in flight on the e-service; more get `429
    /// TooManyRequests` with `Retry-After` (0: no limit).
    #[must_use]
    pub fn max_concurrency(mut self, calls: u32) -> Self {
        self.max_concurrency = calls;
        self
    }

    /// At most this many calls per second (a one-second window, monotonic
    /// clock) on the e-service; more get `429 TooManyRequests` with
    /// `Retry-After: 1` (0, the default: no limit). GovWay's rate-limiting
    /// policy of an erogatore that throttles its consumers.
    #[must_use]
    pub fn max_rate(mut self, calls_per_second: u32) -> Self {
        self.max_rate = calls_per_second;
        self
    }

    /// The rate limit, calls per second (0: none).
    pub fn rate_limit(&self) -> u32 {
        self.max_rate
    }

    /// The TrackingEvidence claims required besides `iss`, `aud`, `jti`,
    /// `iat` and `exp` (default `userID`, `userLocation`).
    #[must_use]
    pub fn audit_claims(mut self, claims: &[&str]) -> Self {
        self.audit_claims = claims.iter().map(|c| (*c).to_string()).collect();
        self
    }

    /// The backend behind the front.
    #[must_use]
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// `<erogatore>/<service>/<version>`: the path after `/govway/rest/in/`.
    pub fn path(&self) -> String {
        format!("{}/{}/{}", self.erogatore, self.service, self.version)
    }

    /// The version segment of the path (default `v1`; the INPS services
    /// use `v2`).
    #[must_use]
    pub fn version(mut self, version: &str) -> Self {
        self.version = version.to_string();
        self
    }

    /// Reachable only on the sandbox's TLS port with a client certificate
    /// issued by the sandbox CA (default off); on the plain port the front
    /// answers `403`.
    #[must_use]
    pub fn mtls(mut self, required: bool) -> Self {
        self.mtls = required;
        self
    }

    /// Whether a client certificate is required.
    pub fn requires_mtls(&self) -> bool {
        self.mtls
    }

    /// Whether INTEGRITY_REST_02 is enforced.
    pub fn has_integrity(&self) -> bool {
        self.integrity
    }

    /// Whether AUDIT_REST_02 is enforced.
    pub fn has_audit(&self) -> bool {
        self.audit
    }

    /// The concurrency limit (0: none).
    pub fn concurrency_limit(&self) -> u32 {
        self.max_concurrency
    }

    /// The required TrackingEvidence claims besides the standard ones.
    pub fn required_audit_claims(&self) -> &[String] {
        &self.audit_claims
    }

    /// The backend.
    pub fn backend_kind(&self) -> Backend {
        self.backend.clone()
    }
}

fn path_segment_ok(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// An e-service, its producer and its current descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EService {
    id: String,
    producer: String,
    descriptor: Descriptor,
}

impl EService {
    /// The e-service `id` offered by tenant `producer`.
    pub fn new(id: &str, producer: &str, descriptor: Descriptor) -> Self {
        Self {
            id: id.to_ascii_lowercase(),
            producer: producer.to_ascii_lowercase(),
            descriptor,
        }
    }

    /// The e-service UUID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The producer tenant's UUID.
    pub fn producer(&self) -> &str {
        &self.producer
    }

    /// The current descriptor.
    pub fn descriptor(&self) -> &Descriptor {
        &self.descriptor
    }
}

/// A consumer's agreement (*richiesta di fruizione*) to use an e-service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    eservice: String,
    consumer: String,
    state: State,
}

impl Agreement {
    /// An active agreement of tenant `consumer` on `eservice`.
    pub fn new(eservice: &str, consumer: &str) -> Self {
        Self {
            eservice: eservice.to_ascii_lowercase(),
            consumer: consumer.to_ascii_lowercase(),
            state: State::Active,
        }
    }

    /// Sets the state.
    #[must_use]
    pub fn state(mut self, state: State) -> Self {
        self.state = state;
        self
    }

    /// The e-service UUID.
    pub fn eservice(&self) -> &str {
        &self.eservice
    }

    /// The consumer tenant's UUID.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The state.
    pub fn current_state(&self) -> State {
        self.state
    }
}

/// A purpose (*finalità*) of a consumer on an e-service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose {
    id: String,
    eservice: String,
    consumer: String,
    state: State,
}

impl Purpose {
    /// An active purpose `id` of tenant `consumer` on `eservice`.
    pub fn new(id: &str, eservice: &str, consumer: &str) -> Self {
        Self {
            id: id.to_ascii_lowercase(),
            eservice: eservice.to_ascii_lowercase(),
            consumer: consumer.to_ascii_lowercase(),
            state: State::Active,
        }
    }

    /// Sets the state.
    #[must_use]
    pub fn state(mut self, state: State) -> Self {
        self.state = state;
        self
    }

    /// The purpose UUID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The e-service UUID.
    pub fn eservice(&self) -> &str {
        &self.eservice
    }

    /// The consumer tenant's UUID.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The state.
    pub fn current_state(&self) -> State {
        self.state
    }
}

/// A client e-service of a consumer tenant: its public keys and the
/// purposes it is associated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    id: String,
    consumer: String,
    keys: Vec<PublicKey>,
    purposes: Vec<String>,
}

impl Client {
    /// Client `id` of tenant `consumer`, without keys or purposes yet.
    pub fn new(id: &str, consumer: &str) -> Self {
        Self {
            id: id.to_ascii_lowercase(),
            consumer: consumer.to_ascii_lowercase(),
            keys: Vec::new(),
            purposes: Vec::new(),
        }
    }

    /// Uploads a public key (its `kid` is its thumbprint).
    #[must_use]
    pub fn key(mut self, key: PublicKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Associates the client with a purpose.
    #[must_use]
    pub fn purpose(mut self, purpose: &str) -> Self {
        self.purposes.push(purpose.to_ascii_lowercase());
        self
    }

    /// The client UUID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The consumer tenant's UUID.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The uploaded keys.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// The associated purposes.
    pub fn purposes(&self) -> &[String] {
        &self.purposes
    }

    /// The key with this `kid`.
    pub fn key_by_kid(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.kid().as_str() == kid)
    }
}

/// A registry that refers to something it does not define, or holds a
/// value PDND would not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// An id is not a UUID.
    #[error("sandbox registry: the {what} id {id:?} is not a UUID")]
    NotUuid {
        /// What kind of id.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// Two entries share an id.
    #[error("sandbox registry: the {what} {id} is defined twice")]
    Duplicate {
        /// What kind of entry.
        what: &'static str,
        /// The id.
        id: String,
    },
    /// A reference to an undefined entry.
    #[error("sandbox registry: {from} refers to the {what} {id}, which is not defined")]
    Dangling {
        /// The referring entry.
        from: String,
        /// What kind of entry is missing.
        what: &'static str,
        /// The missing id.
        id: String,
    },
    /// A descriptor's voucher lifespan is outside 60..=86400 s.
    #[error("sandbox registry: voucher lifespan {seconds} s is outside PDND's 60..=86400")]
    Lifespan {
        /// The refused lifespan.
        seconds: i64,
    },
    /// A descriptor without audience.
    #[error("sandbox registry: descriptor {id} has an empty audience")]
    Audience {
        /// The descriptor id.
        id: String,
    },
    /// A key PDND would not accept on upload (under 2048 bits).
    #[error("sandbox registry: client {client} has a {bits}-bit key; PDND accepts RSA of at least 2048 bits")]
    KeyTooSmall {
        /// The client id.
        client: String,
        /// The key size.
        bits: usize,
    },
    /// A front path that is not `<segment>/<segment>` of letters, digits,
    /// `-`, `_`, `.`, or that two e-services share.
    #[error(
        "sandbox registry: e-service {eservice} has an unusable or duplicate front path {path:?}"
    )]
    FrontPath {
        /// The e-service id.
        eservice: String,
        /// The path.
        path: String,
    },
    /// A purpose associated with a client of another tenant.
    #[error("sandbox registry: client {client} belongs to another tenant than purpose {purpose}")]
    PurposeOfAnotherTenant {
        /// The client id.
        client: String,
        /// The purpose id.
        purpose: String,
    },
}

impl ErrorCode for RegistryError {
    fn code(&self) -> &'static str {
        match self {
            RegistryError::NotUuid { .. } => "sandbox_registry_not_uuid",
            RegistryError::Duplicate { .. } => "sandbox_registry_duplicate",
            RegistryError::Dangling { .. } => "sandbox_registry_dangling",
            RegistryError::Lifespan { .. } => "sandbox_registry_lifespan",
            RegistryError::Audience { .. } => "sandbox_registry_audience",
            RegistryError::KeyTooSmall { .. } => "sandbox_registry_key_too_small",
            RegistryError::PurposeOfAnotherTenant { .. } => "sandbox_registry_purpose_tenant",
            RegistryError::FrontPath { .. } => "sandbox_registry_front_path",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::Sandbox
    }
}

#[doc(hidden)]
impl CodeSamples for RegistryError {
    fn samples() -> Vec<Self> {
        vec![
            RegistryError::NotUuid {
                what: "client",
                id: "client-1".into(),
            },
            RegistryError::Duplicate {
                what: "tenant",
                id: "6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11".into(),
            },
            RegistryError::Dangling {
                from: "purpose e0c0f0f0-3c4d-4e5f-8a6b-7c8d9e0f1a2b".into(),
                what: "e-service",
                id: "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e".into(),
            },
            RegistryError::Lifespan { seconds: 10 },
            RegistryError::Audience {
                id: "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e".into(),
            },
            RegistryError::KeyTooSmall {
                client: "c9b73ff4-e203-4580-911b-689514d350c2".into(),
                bits: 1024,
            },
            RegistryError::FrontPath {
                eservice: "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e".into(),
                path: "a/b/c".into(),
            },
            RegistryError::PurposeOfAnotherTenant {
                client: "c9b73ff4-e203-4580-911b-689514d350c2".into(),
                purpose: "e0c0f0f0-3c4d-4e5f-8a6b-7c8d9e0f1a2b".into(),
            },
        ]
    }
}

/// Collects the entries of a [`Registry`].
#[derive(Debug, Clone, Default)]
pub struct RegistryBuilder {
    tenants: Vec<Tenant>,
    eservices: Vec<EService>,
    agreements: Vec<Agreement>,
    purposes: Vec<Purpose>,
    clients: Vec<Client>,
}

impl RegistryBuilder {
    /// Adds a tenant.
    #[must_use]
    pub fn tenant(mut self, t: Tenant) -> Self {
        self.tenants.push(t);
        self
    }

    /// Adds an e-service.
    #[must_use]
    pub fn eservice(mut self, e: EService) -> Self {
        self.eservices.push(e);
        self
    }

    /// Adds an agreement.
    #[must_use]
    pub fn agreement(mut self, a: Agreement) -> Self {
        self.agreements.push(a);
        self
    }

    /// Adds a purpose.
    #[must_use]
    pub fn purpose(mut self, p: Purpose) -> Self {
        self.purposes.push(p);
        self
    }

    /// Adds a client.
    #[must_use]
    pub fn client(mut self, c: Client) -> Self {
        self.clients.push(c);
        self
    }

    /// Checks every id and reference.
    ///
    /// # Errors
    /// [`RegistryError`] for the first problem found.
    pub fn build(self) -> Result<Registry, RegistryError> {
        fn uuid(what: &'static str, id: &str) -> Result<(), RegistryError> {
            if is_uuid(id) {
                Ok(())
            } else {
                Err(RegistryError::NotUuid {
                    what,
                    id: id.to_string(),
                })
            }
        }
        fn index<T>(
            what: &'static str,
            items: Vec<T>,
            id: impl Fn(&T) -> &str,
        ) -> Result<HashMap<String, T>, RegistryError> {
            let mut map = HashMap::with_capacity(items.len());
            for item in items {
                let key = id(&item).to_string();
                uuid(what, &key)?;
                if map.contains_key(&key) {
                    return Err(RegistryError::Duplicate { what, id: key });
                }
                map.insert(key, item);
            }
            Ok(map)
        }
        let dangling = |from: String, what: &'static str, id: &str| RegistryError::Dangling {
            from,
            what,
            id: id.to_string(),
        };
        let tenants = index("tenant", self.tenants, |t| &t.id)?;
        let eservices = index("e-service", self.eservices, |e| &e.id)?;
        let purposes = index("purpose", self.purposes, |p| &p.id)?;
        let clients = index("client", self.clients, |c| &c.id)?;
        let mut fronts = std::collections::HashSet::new();
        for e in eservices.values() {
            if let Some(f) = &e.descriptor.front {
                let path = f.path();
                if !path_segment_ok(&f.erogatore)
                    || !path_segment_ok(&f.service)
                    || !path_segment_ok(&f.version)
                    || !fronts.insert(path.clone())
                {
                    return Err(RegistryError::FrontPath {
                        eservice: e.id.clone(),
                        path,
                    });
                }
            }
        }
        for e in eservices.values() {
            uuid("descriptor", &e.descriptor.id)?;
            if !tenants.contains_key(&e.producer) {
                return Err(dangling(
                    format!("e-service {}", e.id),
                    "tenant",
                    &e.producer,
                ));
            }
            let span = e.descriptor.voucher_lifespan;
            if !(MIN_VOUCHER_LIFESPAN..=MAX_VOUCHER_LIFESPAN).contains(&span) {
                return Err(RegistryError::Lifespan { seconds: span });
            }
            if e.descriptor.audiences.iter().any(|a| a.trim().is_empty()) {
                return Err(RegistryError::Audience {
                    id: e.descriptor.id.clone(),
                });
            }
        }
        let mut agreements = HashMap::new();
        for a in self.agreements {
            let from = format!("agreement on {}", a.eservice);
            if !eservices.contains_key(&a.eservice) {
                return Err(dangling(from, "e-service", &a.eservice));
            }
            if !tenants.contains_key(&a.consumer) {
                return Err(dangling(from, "tenant", &a.consumer));
            }
            let key = (a.eservice.clone(), a.consumer.clone());
            if agreements.contains_key(&key) {
                return Err(RegistryError::Duplicate {
                    what: "agreement",
                    id: format!("{} / {}", a.eservice, a.consumer),
                });
            }
            agreements.insert(key, a);
        }
        for p in purposes.values() {
            let from = format!("purpose {}", p.id);
            if !eservices.contains_key(&p.eservice) {
                return Err(dangling(from, "e-service", &p.eservice));
            }
            if !tenants.contains_key(&p.consumer) {
                return Err(dangling(from, "tenant", &p.consumer));
            }
        }
        for c in clients.values() {
            let from = format!("client {}", c.id);
            if !tenants.contains_key(&c.consumer) {
                return Err(dangling(from, "tenant", &c.consumer));
            }
            for k in &c.keys {
                if k.bits() < MIN_RSA_BITS {
                    return Err(RegistryError::KeyTooSmall {
                        client: c.id.clone(),
                        bits: k.bits(),
                    });
                }
            }
            for p in &c.purposes {
                let Some(purpose) = purposes.get(p) else {
                    return Err(dangling(from, "purpose", p));
                };
                if purpose.consumer != c.consumer {
                    return Err(RegistryError::PurposeOfAnotherTenant {
                        client: c.id.clone(),
                        purpose: p.clone(),
                    });
                }
            }
        }
        Ok(Registry {
            tenants,
            eservices,
            agreements,
            purposes,
            clients,
        })
    }
}

/// The sandbox's PDND state. Immutable once built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    tenants: HashMap<String, Tenant>,
    eservices: HashMap<String, EService>,
    agreements: HashMap<(String, String), Agreement>,
    purposes: HashMap<String, Purpose>,
    clients: HashMap<String, Client>,
}

/// What the key lookup of §2.4 step 4 finds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyEntry<'a> {
    pub(crate) client: &'a Client,
    pub(crate) key: &'a PublicKey,
}

impl Registry {
    /// An empty builder.
    pub fn builder() -> RegistryBuilder {
        RegistryBuilder::default()
    }

    /// The tenant with this id.
    pub fn tenant(&self, id: &str) -> Option<&Tenant> {
        self.tenants.get(id)
    }

    /// The e-service with this id.
    pub fn eservice(&self, id: &str) -> Option<&EService> {
        self.eservices.get(id)
    }

    /// The purpose with this id.
    pub fn purpose(&self, id: &PurposeId) -> Option<&Purpose> {
        self.purposes.get(id.as_str())
    }

    /// The client with this id.
    pub fn client(&self, id: &ClientId) -> Option<&Client> {
        self.clients.get(id.as_str())
    }

    /// Every client.
    pub fn clients(&self) -> Vec<&Client> {
        self.clients.values().collect()
    }

    /// The agreement of `consumer` on `eservice`.
    pub fn agreement(&self, eservice: &str, consumer: &str) -> Option<&Agreement> {
        self.agreements
            .get(&(eservice.to_string(), consumer.to_string()))
    }

    /// The e-service whose descriptor has `audience` among its audiences.
    pub fn eservice_by_audience(&self, audience: &str) -> Option<&EService> {
        self.eservices
            .values()
            .find(|e| e.descriptor.audiences.iter().any(|a| a == audience))
    }

    /// The e-service published on the front at `path`
    /// (`<erogatore>/<service>/v1`).
    pub fn eservice_by_front_path(&self, path: &str) -> Option<&EService> {
        self.eservices.values().find(|e| {
            e.descriptor
                .front
                .as_ref()
                .is_some_and(|f| f.path() == path)
        })
    }

    /// Every e-service.
    pub fn eservices(&self) -> Vec<&EService> {
        self.eservices.values().collect()
    }

    /// The public key with `kid` uploaded on any client, and its client.
    pub fn key_by_kid(&self, kid: &str) -> Option<(&Client, &PublicKey)> {
        self.clients
            .values()
            .find_map(|c| c.key_by_kid(kid).map(|k| (c, k)))
    }

    /// §2.4 step 4: the key entry for (`client_id`, `kid`, `purposeId`),
    /// or for (`client_id`, `kid`) without purpose. The ids are compared
    /// as sent (PDND's table keys are lower-case).
    pub(crate) fn key_entry(
        &self,
        client_id: &str,
        kid: &str,
        purpose_id: Option<&str>,
    ) -> Option<KeyEntry<'_>> {
        let client = self.clients.get(client_id)?;
        let key = client.key_by_kid(kid)?;
        if let Some(p) = purpose_id {
            if !client.purposes.iter().any(|x| x == p) {
                return None;
            }
        }
        Some(KeyEntry { client, key })
    }

    pub(crate) fn purpose_by_str(&self, id: &str) -> Option<&Purpose> {
        self.purposes.get(id)
    }
}

/// The default population's consumer tenant (a Comune).
pub const DEFAULT_CONSUMER: &str = "6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11";
/// The default population's producer tenant (the sandbox erogatore).
pub const DEFAULT_PRODUCER: &str = "0f1e2d3c-4b5a-4697-8877-665544332211";
/// The default population's client e-service.
pub const DEFAULT_CLIENT: &str = "c9b73ff4-e203-4580-911b-689514d350c2";
/// The echo e-service.
pub const ECHO_ESERVICE: &str = "e0c0e0c0-1a2b-4c3d-8e4f-5a6b7c8d9e0f";
/// The echo e-service's descriptor.
pub const ECHO_DESCRIPTOR: &str = "e0c0d0d0-2b3c-4d4e-9f5a-6b7c8d9e0f1a";
/// The default client's purpose on the echo e-service.
pub const ECHO_PURPOSE: &str = "e0c0f0f0-3c4d-4e5f-8a6b-7c8d9e0f1a2b";
/// The echo e-service's erogatore segment on the front.
pub const ECHO_EROGATORE: &str = "AnistSandbox";
/// The echo e-service's service segment on the front.
pub const ECHO_SERVICE: &str = "echo";
/// The echo e-service's audience: the voucher `aud` and the `aud` of its
/// ModI tokens (assumption U5), shaped like ANPR's.
pub const ECHO_AUDIENCE: &str = "https://sandbox.anist.invalid/govway/rest/in/AnistSandbox/echo/v1";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{PrivateKey, RsaBits};

    const T: &str = "6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11";
    const E: &str = "5e7a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b";
    const D: &str = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6";
    const P: &str = "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e";
    const C: &str = "c9b73ff4-e203-4580-911b-689514d350c2";

    fn base() -> RegistryBuilder {
        Registry::builder()
            .tenant(Tenant::new(T, "Comune"))
            .eservice(EService::new(
                E,
                T,
                Descriptor::new(D, "aud-1").audience("aud-2"),
            ))
            .agreement(Agreement::new(E, T))
            .purpose(Purpose::new(P, E, T))
    }

    #[test]
    fn builds_and_looks_up() {
        let key = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
        let kid = key.kid().as_str().to_string();
        let r = base()
            .client(Client::new(C, T).key(key.public_key().clone()).purpose(P))
            .build()
            .unwrap();
        assert!(r.key_entry(C, &kid, Some(P)).is_some());
        assert!(r.key_entry(C, &kid, None).is_some());
        assert!(r.key_entry(C, &kid, Some(E)).is_none());
        assert!(r.key_entry(C, "x", Some(P)).is_none());
        assert!(r.key_entry(P, &kid, Some(P)).is_none());
        assert_eq!(
            r.eservice(E).unwrap().descriptor().voucher_audience(),
            "aud-1,aud-2"
        );
        assert_eq!(r.eservice_by_audience("aud-2").unwrap().id(), E);
        assert_eq!(r.agreement(E, T).unwrap().current_state(), State::Active);
        assert_eq!(r.key_by_kid(&kid).unwrap().0.id(), C);
    }

    #[test]
    fn refuses_bad_references() {
        let e = base()
            .client(Client::new(C, T).purpose(E))
            .build()
            .unwrap_err();
        assert_eq!(e.code(), "sandbox_registry_dangling");
        let e = base().tenant(Tenant::new(T, "again")).build().unwrap_err();
        assert_eq!(e.code(), "sandbox_registry_duplicate");
        let e = base().tenant(Tenant::new("nope", "x")).build().unwrap_err();
        assert_eq!(e.code(), "sandbox_registry_not_uuid");
        let e = Registry::builder()
            .tenant(Tenant::new(T, "x"))
            .eservice(EService::new(
                E,
                T,
                Descriptor::new(D, "a").voucher_lifespan(59),
            ))
            .build()
            .unwrap_err();
        assert_eq!(e, RegistryError::Lifespan { seconds: 59 });
        let e = base().agreement(Agreement::new(E, T)).build().unwrap_err();
        assert_eq!(e.code(), "sandbox_registry_duplicate");
    }
}
