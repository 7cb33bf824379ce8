//! The voucher cache: one voucher per (environment, client, key, purpose,
//! audit context), shared by every task, fetched once (single-flight),
//! reused until shortly before it expires, dropped when an e-service
//! refuses it (protocol reference §2.10).
//!
//! The cache does not know how to get a voucher: a [`TokenFetcher`] does
//! (the HTTP transport, the sandbox, or a fake in tests).
//!
//! ```
//! use std::sync::Arc;
//! use anist_client::clock::ManualClock;
//! use anist_client::env::Environment;
//! use anist_client::ids::{ClientId, PurposeId};
//! use anist_client::keys::{PrivateKey, RsaBits};
//! use anist_client::voucher::cache::{FetchedVoucher, TokenFetcher, VoucherCache, VoucherKey};
//! use anist_client::voucher::token::{parse_token_response, FetchError};
//!
//! struct Fixed;
//! impl TokenFetcher for Fixed {
//!     type Error = FetchError;
//!     async fn fetch(&self, _key: &VoucherKey) -> Result<FetchedVoucher, FetchError> {
//!         let r = parse_token_response(200, [], br#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":600}"#)?;
//!         Ok(FetchedVoucher::new(r.voucher))
//!     }
//! }
//!
//! # tokio_test_block_on(async {
//! let cache = VoucherCache::new(Fixed, Arc::new(ManualClock::new(1_764_000_000)));
//! let key = VoucherKey::new(
//!     Environment::Sandbox,
//!     ClientId::parse("c9b73ff4-e203-4580-911b-689514d350c2").unwrap(),
//!     PrivateKey::generate(RsaBits::Rsa2048).unwrap().kid().clone(),
//!     PurposeId::parse("ffe23164-4b19-4ac4-8ee3-2a259dc2b81e").unwrap(),
//! );
//! let v = cache.get(&key).await.unwrap();
//! assert_eq!(v.voucher().expires_in(), 600);
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::watch;

use crate::clock::Clock;
use crate::encoding::hex_lower;
use crate::env::Environment;
use crate::ids::{ClientId, PurposeId};
use crate::keys::Kid;
use crate::modi::{AuditContext, TrackingEvidence};
use crate::voucher::token::Voucher;

/// Default margin before a voucher's expiry at which it is renewed, seconds.
pub const DEFAULT_RENEW_MARGIN: i64 = 60;
/// Default maximum age of a TrackingEvidence (and so of its voucher),
/// seconds (assumption U4 of the protocol reference).
pub const DEFAULT_AUDIT_MAX_AGE: i64 = 240;

/// What a fetcher needs to build the TrackingEvidence of an AUDIT_REST_02
/// voucher: who asks, and the e-service audience the evidence names.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EvidenceSpec {
    context: AuditContext,
    audience: String,
}

impl EvidenceSpec {
    /// The audit context (claims `userID`, `userLocation`, `LoA`).
    pub fn context(&self) -> &AuditContext {
        &self.context
    }

    /// The evidence's `aud` (by default the e-service's voucher audience).
    pub fn audience(&self) -> &str {
        &self.audience
    }
}

impl fmt::Debug for EvidenceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvidenceSpec")
            .field("context", &self.context)
            .field("audience", &self.audience)
            .finish()
    }
}

/// What identifies a reusable voucher.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct VoucherKey {
    environment: Environment,
    client_id: ClientId,
    kid: Kid,
    purpose_id: PurposeId,
    audit: Option<[u8; 32]>,
    evidence: Option<Arc<EvidenceSpec>>,
    dpop: bool,
}

impl VoucherKey {
    /// A key without audit context (no AUDIT_REST_02).
    pub fn new(
        environment: Environment,
        client_id: ClientId,
        kid: Kid,
        purpose_id: PurposeId,
    ) -> Self {
        Self {
            environment,
            client_id,
            kid,
            purpose_id,
            audit: None,
            evidence: None,
            dpop: false,
        }
    }

    /// The same key for a DPoP voucher (RFC 9449): the fetcher sends a
    /// proof with the token request, and the voucher is bound to the
    /// fetcher's DPoP key (`cnf.jkt`). A Bearer and a DPoP voucher for the
    /// same purpose are different cache entries.
    #[must_use]
    pub fn with_dpop(mut self) -> Self {
        self.dpop = true;
        self
    }

    /// Whether the voucher is a DPoP voucher.
    pub fn is_dpop(&self) -> bool {
        self.dpop
    }

    /// The same key for calls made on behalf of `context`: a different user,
    /// location or LoA needs a different voucher. Only a fingerprint of the
    /// context is kept.
    #[must_use]
    pub fn with_audit(mut self, context: &AuditContext) -> Self {
        self.audit = Some(context.fingerprint());
        self
    }

    /// The same key for AUDIT_REST_02 calls on behalf of `context` to the
    /// e-service whose audience is `audience`: the fetcher signs a
    /// TrackingEvidence for them, binds the voucher to it (the assertion's
    /// `digest`) and returns both. Unlike [`Self::with_audit`], the key
    /// keeps the context, since the fetcher must sign it; its `Debug`
    /// still hides the user id.
    #[must_use]
    pub fn with_tracking_evidence(mut self, context: &AuditContext, audience: &str) -> Self {
        self.audit = Some(context.fingerprint());
        self.evidence = Some(Arc::new(EvidenceSpec {
            context: context.clone(),
            audience: audience.to_string(),
        }));
        self
    }

    /// What the TrackingEvidence is built from, when the key was made by
    /// [`Self::with_tracking_evidence`].
    pub fn evidence(&self) -> Option<&EvidenceSpec> {
        self.evidence.as_deref()
    }

    /// The environment.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The `kid` of the key that signs the assertion.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }

    /// The purpose.
    pub fn purpose_id(&self) -> &PurposeId {
        &self.purpose_id
    }

    /// Whether the voucher is bound to an audit context.
    pub fn has_audit_context(&self) -> bool {
        self.audit.is_some()
    }
}

impl fmt::Debug for VoucherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VoucherKey")
            .field("environment", &self.environment)
            .field("client_id", &self.client_id)
            .field("kid", &self.kid)
            .field("purpose_id", &self.purpose_id)
            .field("audit", &self.audit.map(|a| hex_lower(&a[..6])))
            .field(
                "evidence_audience",
                &self.evidence.as_ref().map(|e| e.audience.as_str()),
            )
            .field("dpop", &self.dpop)
            .finish()
    }
}

/// What a fetcher returns: the voucher and, for AUDIT_REST_02, the
/// TrackingEvidence its assertion's digest binds (to send with every call).
#[derive(Debug, Clone)]
pub struct FetchedVoucher {
    voucher: Voucher,
    tracking_evidence: Option<TrackingEvidence>,
}

impl FetchedVoucher {
    /// A voucher without TrackingEvidence.
    pub fn new(voucher: Voucher) -> Self {
        Self {
            voucher,
            tracking_evidence: None,
        }
    }

    /// The voucher.
    pub fn voucher(&self) -> &Voucher {
        &self.voucher
    }

    /// The TrackingEvidence the voucher is bound to, if any.
    pub fn tracking_evidence(&self) -> Option<&TrackingEvidence> {
        self.tracking_evidence.as_ref()
    }

    /// A voucher bound to `evidence`.
    pub fn with_tracking_evidence(voucher: Voucher, evidence: TrackingEvidence) -> Self {
        Self {
            voucher,
            tracking_evidence: Some(evidence),
        }
    }
}

/// Gets a new voucher for a key (builds the TrackingEvidence and the
/// assertion, asks PDND).
pub trait TokenFetcher: Send + Sync {
    /// The failure, shared with every caller waiting for the same fetch.
    type Error: Clone + Send + Sync + 'static;

    /// Asks for a new voucher.
    fn fetch(
        &self,
        key: &VoucherKey,
    ) -> impl Future<Output = Result<FetchedVoucher, Self::Error>> + Send;
}

/// A cached voucher and when it stops being reused.
#[derive(Debug)]
pub struct CachedVoucher {
    fetched: FetchedVoucher,
    fetched_at: i64,
    reuse_until: i64,
    generation: u64,
}

impl CachedVoucher {
    /// The voucher.
    pub fn voucher(&self) -> &Voucher {
        &self.fetched.voucher
    }

    /// The TrackingEvidence to send with it, if any.
    pub fn tracking_evidence(&self) -> Option<&TrackingEvidence> {
        self.fetched.tracking_evidence.as_ref()
    }

    /// When it was received (clock seconds).
    pub fn fetched_at(&self) -> i64 {
        self.fetched_at
    }

    /// From this instant (clock seconds) the cache fetches a new one.
    pub fn reuse_until(&self) -> i64 {
        self.reuse_until
    }
}

/// How long vouchers are reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Renew this many seconds before the voucher expires.
    pub renew_margin: i64,
    /// With an audit context, renew when the TrackingEvidence is this old.
    pub audit_max_age: i64,
}

impl Default for CachePolicy {
    fn default() -> Self {
        Self {
            renew_margin: DEFAULT_RENEW_MARGIN,
            audit_max_age: DEFAULT_AUDIT_MAX_AGE,
        }
    }
}

impl CachePolicy {
    /// When a voucher received at `now` stops being reused.
    ///
    /// The voucher's own lifetime (`exp - iat`) is counted from the moment
    /// it was received on this machine's clock, less the margin: when the
    /// clocks agree this is the voucher's `exp - margin`, and a skewed clock
    /// (PDND's collaudo once issued vouchers already "expired") neither
    /// forces a fetch per call nor keeps an expired voucher. A voucher living
    /// no longer than the margin is reused for half its life.
    fn reuse_until(&self, fetched: &FetchedVoucher, now: i64, audited: bool) -> i64 {
        let lifetime = fetched.voucher.lifetime().max(0);
        let mut until = if lifetime > self.renew_margin {
            now.saturating_add(lifetime - self.renew_margin)
        } else {
            now.saturating_add(lifetime / 2)
        };
        if audited || fetched.tracking_evidence.is_some() {
            let te_iat = fetched
                .tracking_evidence
                .as_ref()
                .map_or(now, TrackingEvidence::iat)
                .min(now);
            until = until.min(te_iat.saturating_add(self.audit_max_age));
        }
        until
    }
}

type Shared<E> = Option<Result<Arc<CachedVoucher>, E>>;

enum Step<E> {
    Wait(watch::Receiver<Shared<E>>),
    Fetch(u64, watch::Sender<Shared<E>>),
}

enum Slot<E> {
    Ready(Arc<CachedVoucher>),
    Pending {
        generation: u64,
        rx: watch::Receiver<Shared<E>>,
    },
}

struct Slots<E> {
    map: HashMap<VoucherKey, Slot<E>>,
    next_generation: u64,
}

/// A shared voucher cache with single-flight fetching per key.
pub struct VoucherCache<F: TokenFetcher> {
    fetcher: F,
    clock: Arc<dyn Clock>,
    policy: CachePolicy,
    slots: Mutex<Slots<F::Error>>,
}

impl<F: TokenFetcher> fmt::Debug for VoucherCache<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VoucherCache")
            .field("policy", &self.policy)
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

/// Removes a pending slot if the fetching future is dropped before it
/// finishes, so that a waiter takes over.
struct PendingGuard<'a, F: TokenFetcher> {
    cache: &'a VoucherCache<F>,
    key: &'a VoucherKey,
    generation: u64,
    armed: bool,
}

impl<F: TokenFetcher> Drop for PendingGuard<'_, F> {
    fn drop(&mut self) {
        if self.armed {
            let mut slots = self.cache.lock();
            if matches!(
                slots.map.get(self.key),
                Some(Slot::Pending { generation, .. }) if *generation == self.generation
            ) {
                slots.map.remove(self.key);
            }
        }
    }
}

impl<F: TokenFetcher> VoucherCache<F> {
    /// A cache using `fetcher`, timed by `clock`, with the default policy.
    pub fn new(fetcher: F, clock: Arc<dyn Clock>) -> Self {
        Self::with_policy(fetcher, clock, CachePolicy::default())
    }

    /// A cache with an explicit policy.
    pub fn with_policy(fetcher: F, clock: Arc<dyn Clock>, policy: CachePolicy) -> Self {
        Self {
            fetcher,
            clock,
            policy,
            slots: Mutex::new(Slots {
                map: HashMap::new(),
                next_generation: 1,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slots<F::Error>> {
        // The map stays consistent even if a holder panicked: every update
        // is a single insert or remove.
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The fetcher.
    pub fn fetcher(&self) -> &F {
        &self.fetcher
    }

    /// A voucher for `key`: the cached one while it is reusable, otherwise a
    /// new one. Concurrent callers for the same key share one fetch and its
    /// outcome, error included.
    ///
    /// # Errors
    /// The fetcher's error.
    pub async fn get(&self, key: &VoucherKey) -> Result<Arc<CachedVoucher>, F::Error> {
        loop {
            let step = {
                let mut slots = self.lock();
                let now = self.clock.now();
                match slots.map.get(key) {
                    Some(Slot::Ready(v)) if now < v.reuse_until => return Ok(Arc::clone(v)),
                    Some(Slot::Pending { rx, .. }) => Step::Wait(rx.clone()),
                    _ => {
                        let generation = slots.next_generation;
                        slots.next_generation += 1;
                        let (tx, rx) = watch::channel(None);
                        slots
                            .map
                            .insert(key.clone(), Slot::Pending { generation, rx });
                        Step::Fetch(generation, tx)
                    }
                }
            };
            let (generation, tx) = match step {
                Step::Fetch(generation, tx) => (generation, tx),
                Step::Wait(mut rx) => {
                    let shared = match rx.wait_for(Option::is_some).await {
                        Ok(shared) => shared.as_ref().cloned(),
                        // The fetching caller was dropped: take over.
                        Err(_) => None,
                    };
                    match shared {
                        Some(result) => return result,
                        None => continue,
                    }
                }
            };
            let mut guard = PendingGuard {
                cache: self,
                key,
                generation,
                armed: true,
            };
            let outcome = self.fetcher.fetch(key).await;
            let result = outcome.map(|fetched| {
                let now = self.clock.now();
                let reuse_until = self
                    .policy
                    .reuse_until(&fetched, now, key.has_audit_context());
                Arc::new(CachedVoucher {
                    fetched,
                    fetched_at: now,
                    reuse_until,
                    generation,
                })
            });
            {
                let mut slots = self.lock();
                let ours = matches!(
                    slots.map.get(key),
                    Some(Slot::Pending { generation: g, .. }) if *g == generation
                );
                if ours {
                    match &result {
                        Ok(v) => {
                            slots.map.insert(key.clone(), Slot::Ready(Arc::clone(v)));
                        }
                        Err(_) => {
                            slots.map.remove(key);
                        }
                    }
                }
                guard.armed = false;
            }
            // Waiters may have gone; a closed channel is fine.
            let _ = tx.send(Some(result.clone()));
            return result;
        }
    }

    /// Drops `rejected` from the cache because an e-service refused it
    /// (401 `TokenExpired`, `TokenAuthenticationFailed`…), so the next
    /// [`Self::get`] fetches a new voucher. Returns false, and keeps the
    /// entry, when the cache already holds a newer voucher (another task
    /// renewed it).
    pub fn invalidate(&self, key: &VoucherKey, rejected: &CachedVoucher) -> bool {
        let mut slots = self.lock();
        let same = matches!(
            slots.map.get(key),
            Some(Slot::Ready(v)) if v.generation == rejected.generation
        );
        if same {
            slots.map.remove(key);
        }
        same
    }

    /// Drops every cached voucher (in-flight fetches complete normally).
    pub fn clear(&self) {
        self.lock()
            .map
            .retain(|_, slot| matches!(slot, Slot::Pending { .. }));
    }

    /// How many keys have a voucher or a fetch in flight.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// True when nothing is cached or in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
