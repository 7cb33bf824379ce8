//! The interface between the GovWay-like front and the e-service backends
//! behind it: [`ServiceBackend`], what the front hands a backend
//! ([`BackendContext`], [`Admission`], [`BackendCall`]) and what it gets
//! back ([`Reply`], [`Refusal`]).
//!
//! This module imports nothing else of the sandbox: the registry
//! ([`super::registry::Backend`]) holds backends as
//! `Arc<dyn ServiceBackend>`, the front dispatches through the trait, and
//! each backend, in its own folder, implements it and publishes its
//! e-services itself. Which backends a sandbox has, and the state each
//! keeps while it runs ([`BackendStates`]), is decided by the sandbox's
//! composition root.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::http::StatusCode;
use serde_json::{Map, Value};

use crate::rng::SplitMix64;

/// Locks `m`, going on if a panic poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a single update: a panic cannot leave the
    // data half-written.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What answers behind the front for one e-service, once the gateway has
/// let a call through (see [`super::registry::Front::backend`]).
///
/// The front calls, in this order: [`Self::operation_known`] (else `404
/// UndefinedOperation`), [`Self::admit`] (before the voucher: transport
/// checks), then — after the voucher, quota, rate and concurrency limits —
/// [`Self::unsigned_operation`] instead of INTEGRITY_REST_02 where it says
/// so, AUDIT_REST_02, the `jti` replay filter and injected faults, and
/// finally [`Self::serve`]. Every refusal, the front's or the backend's,
/// is answered as GovWay's problem, or by [`Self::refusal_reply`] when the
/// backend gives one (SOAP faults).
///
/// A backend is stateless: what it keeps while a sandbox runs lives in
/// that sandbox's [`BackendStates`], reached through [`BackendContext`].
pub trait ServiceBackend: Send + Sync + fmt::Debug {
    /// A short, stable name (the `backend` of a registry file, e.g.
    /// `anist-verifica`, `inps-v1`, `anpr-c030`): two backends with the
    /// same name are the same backend.
    fn name(&self) -> &str;

    /// Whether the backend offers `method` on `operation` (the path after
    /// `<erogatore>/<service>/<version>/`, empty for a call to the bare
    /// endpoint).
    fn operation_known(&self, method: &str, operation: &str) -> bool;

    /// A SOAP e-service (default false): the front verifies an
    /// `Agid-JWT-TrackingEvidence` whenever one is sent, even where the
    /// front does not require AUDIT_REST_02.
    fn is_soap(&self) -> bool {
        false
    }

    /// How this backend's e-service answers `refusal` when not with
    /// GovWay's RFC 7807 problem (the default, `None`): a SOAP e-service
    /// answers SOAP faults. `transaction` is the `GovWay-Transaction-ID`.
    /// The front adds its headers to the reply.
    fn refusal_reply(&self, refusal: &Refusal, transaction: &str) -> Option<Reply> {
        let _ = (refusal, transaction);
        None
    }

    /// Whether calls need the sandbox's client certificate (the TLS port),
    /// given the front's own setting ([`super::registry::Front::mtls`]).
    /// Default: no; a backend that honours the setting refuses the call in
    /// [`Self::admit`].
    fn requires_mtls(&self, states: &BackendStates, front_setting: bool) -> bool {
        let _ = (states, front_setting);
        false
    }

    /// Checks made before the voucher (default: none), e.g. the client
    /// certificate and the SOAP transport (`POST`, `Content-Type`,
    /// `SOAPAction`).
    ///
    /// # Errors
    /// The [`Refusal`] the front answers with.
    fn admit(&self, ctx: &BackendContext<'_>, call: &Admission<'_>) -> Result<(), Refusal> {
        let _ = (ctx, call);
        Ok(())
    }

    /// When `method` `operation` is published without INTEGRITY_REST_02 and
    /// GovWay refuses a call to it that carries an `Agid-JWT-Signature`
    /// (`400 InteroperabilityInvalidRequest`): the reason the sandbox gives
    /// for that refusal. Default: `None` (every operation follows the
    /// front's profile).
    fn unsigned_operation(&self, method: &str, operation: &str) -> Option<&'static str> {
        let _ = (method, operation);
        None
    }

    /// Serves a call the front let through.
    ///
    /// # Errors
    /// A [`Refusal`] the front answers as it answers its own (a SOAP
    /// fault, for a SOAP e-service).
    fn serve(&self, ctx: &BackendContext<'_>, call: &BackendCall<'_>) -> Result<Reply, Refusal>;
}

/// The refusal of a backend whose state the sandbox does not keep (its
/// composition root did not start it): GovWay's `500
/// InternalResponseError`.
pub(crate) fn missing_state(backend: &str) -> Refusal {
    Refusal::new(
        500,
        "InternalResponseError",
        "An internal error occurred while processing the response",
        format!("the sandbox keeps no state for the {backend} backend"),
    )
}

/// The states a running sandbox keeps for its backends, one per type
/// (populations, jobs, answers already given…). Made by the sandbox's
/// composition root when the sandbox starts; read by the backends through
/// [`BackendContext::state`].
#[derive(Default)]
pub struct BackendStates {
    states: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl BackendStates {
    /// Keeps `state`, replacing the one of the same type if any.
    pub fn insert<T: Any + Send + Sync>(&mut self, state: Arc<T>) {
        self.states.insert(TypeId::of::<T>(), state);
    }

    /// The state of type `T`, if the sandbox keeps one.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.states
            .get(&TypeId::of::<T>())
            .and_then(|s| s.downcast_ref::<T>())
    }
}

impl fmt::Debug for BackendStates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendStates")
            .field("states", &self.states.len())
            .finish()
    }
}

/// What a backend may use of the running sandbox: its backends' states,
/// its seeded ids and its clock.
pub struct BackendContext<'a> {
    states: &'a BackendStates,
    rng: &'a Mutex<SplitMix64>,
    now: i64,
}

impl<'a> BackendContext<'a> {
    pub(crate) fn new(states: &'a BackendStates, rng: &'a Mutex<SplitMix64>, now: i64) -> Self {
        Self { states, rng, now }
    }

    /// The sandbox's state of type `T` ([`BackendStates::get`]).
    pub fn state<T: Any + Send + Sync>(&self) -> Option<&'a T> {
        self.states.get::<T>()
    }

    /// Every state of the sandbox's backends.
    pub fn states(&self) -> &'a BackendStates {
        self.states
    }

    /// A random UUID from the sandbox's seeded generator.
    pub fn uuid(&self) -> String {
        lock(self.rng).uuid_v4()
    }

    /// The sandbox's now, Unix seconds (its clock, with any offset).
    pub fn now(&self) -> i64 {
        self.now
    }
}

impl fmt::Debug for BackendContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendContext")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

/// A call as the front has it before the voucher ([`ServiceBackend::admit`]).
#[non_exhaustive]
pub struct Admission<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path after `<erogatore>/<service>/<version>/` (may be empty).
    pub operation: &'a str,
    /// The first value of a request header, by lower-case name (`None`
    /// when absent or not visible ASCII).
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// Whether the call came on the TLS port with a client certificate.
    pub via_tls: bool,
    /// The front's client-certificate setting
    /// ([`super::registry::Front::requires_mtls`]).
    pub front_requires_mtls: bool,
}

impl fmt::Debug for Admission<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admission")
            .field("method", &self.method)
            .field("operation", &self.operation)
            .field("via_tls", &self.via_tls)
            .finish_non_exhaustive()
    }
}

/// A call the front let through ([`ServiceBackend::serve`]).
#[non_exhaustive]
pub struct BackendCall<'a> {
    /// The caller's PDND client (the voucher's `client_id`).
    pub client_id: &'a str,
    /// The HTTP method.
    pub method: &'a str,
    /// The path after `<erogatore>/<service>/<version>/` (may be empty).
    pub operation: &'a str,
    /// The `Host` header, if visible ASCII.
    pub host: Option<&'a str>,
    /// `<erogatore>/<service>/<version>` ([`super::registry::Front::path`]).
    pub front_path: &'a str,
    /// The first value of a request header, by lower-case name (`None`
    /// when absent or not visible ASCII).
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// The body as received.
    pub body: &'a [u8],
    /// The claims of the verified `Agid-JWT-TrackingEvidence`, if one was
    /// sent (and required or, on a SOAP e-service, sent anyway).
    pub evidence: Option<&'a Map<String, Value>>,
}

impl fmt::Debug for BackendCall<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendCall")
            .field("client_id", &self.client_id)
            .field("method", &self.method)
            .field("operation", &self.operation)
            .field("front_path", &self.front_path)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// What a backend answers; the front adds its own headers
/// (`GovWay-Transaction-ID`, the rate-limit ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A reply with this status, `Content-Type` and body.
    pub fn new(status: StatusCode, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Adds a header (a lower-case name; the value is kept to visible
    /// ASCII).
    #[must_use]
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A refusal: GovWay's status, title (error code) and generic detail, and
/// the sandbox's own reason (sent in `X-Sandbox-Reason`, unless empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub(crate) status: u16,
    pub(crate) title: &'static str,
    pub(crate) detail: &'static str,
    pub(crate) reason: String,
}

impl Refusal {
    /// A refusal with this status, title, detail and reason.
    pub fn new(
        status: u16,
        title: &'static str,
        detail: &'static str,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            status,
            title,
            detail,
            reason: reason.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// GovWay's title (error code), e.g. `LimitExceeded`.
    pub fn title(&self) -> &'static str {
        self.title
    }

    /// GovWay's generic detail.
    pub fn detail(&self) -> &'static str {
        self.detail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_by_type() {
        let mut s = BackendStates::default();
        assert!(s.get::<u32>().is_none());
        s.insert(Arc::new(7u32));
        s.insert(Arc::new(String::from("x")));
        assert_eq!(s.get::<u32>(), Some(&7));
        assert_eq!(s.get::<String>().map(String::as_str), Some("x"));
        s.insert(Arc::new(8u32));
        assert_eq!(s.get::<u32>(), Some(&8));
        let rng = Mutex::new(SplitMix64::new(1));
        let ctx = BackendContext::new(&s, &rng, 42);
        assert_eq!(ctx.state::<u32>(), Some(&8));
        assert_eq!(ctx.now(), 42);
        assert_ne!(ctx.uuid(), ctx.uuid());
    }
}
