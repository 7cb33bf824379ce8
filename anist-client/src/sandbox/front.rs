//! The GovWay-like front over HTTP: routes `/govway/rest/in/<erogatore>/
//! <service>/v1/<operation>` to the e-service published there, runs the
//! checks of [`super::gateway`], keeps the state they need (daily quota
//! per client, calls in flight, `jti` replay filter), injects faults and
//! answers with the backend or with GovWay's RFC 7807 problem (§4).
//!
//! The front names no backend: it asks the e-service's
//! [`super::registry::Backend`] what it offers and hands it the call
//! through [`ServiceBackend`](super::backend::ServiceBackend).
//!
//! Every response carries `GovWay-Transaction-ID`; errors add
//! `GovWay-Transaction-ErrorType` (= the title), and `Retry-After` when a
//! retry is allowed. The quota adds `X-RateLimit-Limit`,
//! `X-RateLimit-Remaining`, `X-RateLimit-Reset` (seconds to the next
//! window); the concurrency limit adds
//! `GovWay-RateLimit-ConcurrentRequest-Limit/-Remaining`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde_json::{json, Value};

use super::backend::{Admission, BackendCall, BackendContext, Reply};
use super::gateway::{self, Caller, GwRefusal, Request, Rules, Windows};
use super::registry::{Backend, EService};
use super::tls::ViaTls;
use super::{header_text, lock, Fault, Inner, Route};

/// Seconds in a quota window (a calendar day, UTC, of the sandbox clock).
const DAY: i64 = 86_400;

/// The front's mutable state.
#[derive(Default)]
pub(super) struct FrontState {
    pub(super) requests: AtomicU64,
    pub(super) backend_calls: AtomicU64,
    /// (e-service, client, day) → calls counted.
    quota: Mutex<HashMap<(String, String, i64), u64>>,
    /// e-service → calls in flight.
    in_flight: Mutex<HashMap<String, u32>>,
    /// (e-service, jti) → the signature's exp.
    jtis: Mutex<HashMap<(String, String), i64>>,
    /// e-service → (start of the current one-second window, calls in it).
    rate: Mutex<HashMap<String, (std::time::Instant, u32)>>,
    /// 429 answers given (throttling and quota).
    pub(super) throttled: AtomicU64,
}

/// Releases a concurrency slot when the call ends (however it ends).
struct Slot<'a> {
    state: &'a FrontState,
    eservice: String,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(n) = lock(&self.state.in_flight).get_mut(&self.eservice) {
            *n = n.saturating_sub(1);
        }
    }
}

/// The answer being built: status, body, headers.
struct Answer {
    transaction: String,
    headers: Vec<(&'static str, String)>,
    /// The e-service's backend, once known: it may answer refusals its
    /// own way (a SOAP e-service: SOAP faults, §4.2).
    backend: Backend,
}

impl Answer {
    fn problem(mut self, r: &GwRefusal) -> Response {
        if let Backend::Service(b) = &self.backend {
            if let Some(reply) = b.refusal_reply(r, &self.transaction) {
                self.headers
                    .push(("govway-transaction-errortype", r.title.to_string()));
                if !r.reason.is_empty() {
                    self.headers.push(("x-sandbox-reason", r.reason.clone()));
                }
                return self.reply(reply);
            }
        }
        let body = json!({
            "type": format!("https://govway.org/handling-errors/{}/{}.html", r.status, r.title),
            "title": r.title,
            "status": r.status,
            "detail": r.detail,
            "govway_id": self.transaction,
        });
        self.headers
            .push(("govway-transaction-errortype", r.title.to_string()));
        if !r.reason.is_empty() {
            self.headers.push(("x-sandbox-reason", r.reason.clone()));
        }
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.finish(status, "application/problem+json", body.to_string())
    }

    /// The backend's reply, with the front's headers.
    fn reply(mut self, reply: Reply) -> Response {
        self.headers.extend(reply.headers);
        self.finish(reply.status, reply.content_type, reply.body)
    }

    fn finish(
        self,
        status: StatusCode,
        content_type: &'static str,
        body: impl Into<axum::body::Body>,
    ) -> Response {
        let mut resp = (status, body.into()).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        h.insert(
            HeaderName::from_static("govway-transaction-id"),
            header_text(&self.transaction),
        );
        for (name, value) in &self.headers {
            h.insert(HeaderName::from_static(name), header_text(value));
        }
        resp
    }
}

fn refusal(status: u16, title: &'static str, detail: &'static str, reason: &str) -> GwRefusal {
    GwRefusal {
        status,
        title,
        detail,
        reason: reason.to_string(),
    }
}

/// GovWay's problem for an injected status.
fn status_fault(status: u16) -> GwRefusal {
    if status == 401 {
        return refusal(
            401,
            "TokenAuthenticationFailed",
            "Invalid token",
            "injected fault",
        );
    }
    let (title, detail) = match status {
        500 => (
            "InternalResponseError",
            "An internal error occurred while processing the response",
        ),
        502 => (
            "BadResponse",
            "Invalid response received from the API Implementation",
        ),
        504 => (
            "EndpointReadTimeout",
            "Read timed out while invoking the API Implementation",
        ),
        _ => (
            "APIUnavailable",
            "The API Implementation is temporary unavailable",
        ),
    };
    let status = if (500..=599).contains(&status) {
        status
    } else {
        503
    };
    refusal(status, title, detail, "injected fault")
}

fn too_many(retry_after: Option<u32>, reason: &str) -> (GwRefusal, Vec<(&'static str, String)>) {
    let r = refusal(429, "TooManyRequests", "Too many requests detected", reason);
    let headers = retry_after
        .map(|s| vec![("retry-after", s.to_string())])
        .unwrap_or_default();
    (r, headers)
}

pub(super) async fn handle(
    state: State<Arc<Inner>>,
    path: Path<(String, String, String, String)>,
    tls: Option<Extension<ViaTls>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inner = Arc::clone(&state.0);
    let response = handle_call(state, path, tls.is_some(), method, headers, body).await;
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        inner.front.throttled.fetch_add(1, Ordering::SeqCst);
    }
    response
}

/// As [`handle`], for a path without an operation
/// (`<erogatore>/<service>/<version>`: the legacy INPS v1 endpoint).
pub(super) async fn handle_endpoint(
    state: State<Arc<Inner>>,
    Path((erogatore, service, version)): Path<(String, String, String)>,
    tls: Option<Extension<ViaTls>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let inner = Arc::clone(&state.0);
    let path = Path((erogatore, service, version, String::new()));
    let response = handle_call(state, path, tls.is_some(), method, headers, body).await;
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        inner.front.throttled.fetch_add(1, Ordering::SeqCst);
    }
    response
}

async fn handle_call(
    State(inner): State<Arc<Inner>>,
    Path((erogatore, service, version, operation)): Path<(String, String, String, String)>,
    via_tls: bool,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let st = &inner.front;
    st.requests.fetch_add(1, Ordering::SeqCst);
    let mut answer = Answer {
        transaction: inner.uuid(),
        headers: Vec::new(),
        backend: Backend::Echo,
    };
    let path = format!("{erogatore}/{service}/{version}");
    let Some(eservice) = inner.registry.eservice_by_front_path(&path) else {
        return answer.problem(&refusal(
            404,
            "UnknownAPI",
            "The requested API is not known",
            "no e-service is published at this path",
        ));
    };
    let Some(front) = eservice.descriptor().front_profile() else {
        return answer.problem(&refusal(
            404,
            "UnknownAPI",
            "The requested API is not known",
            "",
        ));
    };
    let backend = front.backend_kind();
    answer.backend = backend.clone();
    if !gateway::operation_known(front, method.as_str(), &operation) {
        return answer.problem(&refusal(
            404,
            "UndefinedOperation",
            "The requested operation is not defined by the API",
            "the backend has no such method and operation",
        ));
    }
    let header_of = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let now = inner.clock.now();
    // The backend's checks before the voucher (SOAP: the client
    // certificate, then POST, Content-Type and SOAPAction).
    if let Backend::Service(b) = &backend {
        let ctx = BackendContext::new(&inner.backends, &inner.rng, now);
        let admission = Admission {
            method: method.as_str(),
            operation: &operation,
            header: &header_of,
            via_tls,
            front_requires_mtls: front.requires_mtls(),
        };
        if let Err(r) = b.admit(&ctx, &admission) {
            return answer.problem(&r);
        }
    }
    let fault = inner.next_fault(&Route::Front(path.clone()));
    let received: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let req = Request {
        headers: &received,
        body: &body,
    };
    let rules = Rules {
        registry: &inner.registry,
        voucher_key: inner.key.public_key(),
        voucher_kid: &inner.voucher_kid,
        issuer: &inner.issuer,
        now,
        windows: Windows {
            iat_max_age: inner.gateway.iat_max_age,
            future_tolerance: inner.gateway.future_tolerance,
            audit_max_age: inner.gateway.audit_max_age,
            digest_case_sensitive: inner.gateway.digest_case_sensitive,
        },
    };
    let caller = match gateway::authenticate(&rules, eservice, &req) {
        Ok(c) => c,
        Err(r) => return answer.problem(&r),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let scheme = if via_tls { "https" } else { "http" };
    let htu = if operation.is_empty() {
        format!("{scheme}://{host}/govway/rest/in/{path}")
    } else {
        format!("{scheme}://{host}/govway/rest/in/{path}/{operation}")
    };
    if let Err(r) = super::dpop::front(&received, method.as_str(), &htu, now, &inner.dpop_jtis) {
        return answer.problem(&r);
    }

    // Daily quota per client (every identified call counts, refused or not).
    let limit = eservice.descriptor().daily_call_limit();
    let day = now.div_euclid(DAY);
    let count = {
        let mut q = lock(&st.quota);
        q.retain(|(_, _, d), _| *d >= day);
        let n = q
            .entry((
                eservice.id().to_string(),
                caller.client.id().to_string(),
                day,
            ))
            .or_insert(0);
        *n = n.saturating_add(1);
        *n
    };
    answer
        .headers
        .push(("x-ratelimit-limit", limit.to_string()));
    answer.headers.push((
        "x-ratelimit-remaining",
        limit.saturating_sub(count).to_string(),
    ));
    answer
        .headers
        .push(("x-ratelimit-reset", ((day + 1) * DAY - now).to_string()));
    if count > limit {
        return answer.problem(&refusal(
            429,
            "LimitExceeded",
            "Limit exceeded detected",
            "the client's daily quota on this e-service is exhausted",
        ));
    }

    // Rate policy: calls per second on the e-service.
    let per_second = front.rate_limit();
    if per_second > 0 {
        let over = {
            let mut windows = lock(&st.rate);
            let now = std::time::Instant::now();
            let w = windows.entry(eservice.id().to_string()).or_insert((now, 0));
            if now.duration_since(w.0) >= std::time::Duration::from_secs(1) {
                *w = (now, 0);
            }
            w.1 = w.1.saturating_add(1);
            w.1 > per_second
        };
        if over {
            let (r, h) = too_many(
                Some(1),
                "more calls per second than the e-service's rate policy",
            );
            answer.headers.extend(h);
            return answer.problem(&r);
        }
    }

    // Concurrency.
    let max = front.concurrency_limit();
    let _slot = if max > 0 {
        let taken = {
            let mut f = lock(&st.in_flight);
            let n = f.entry(eservice.id().to_string()).or_insert(0);
            if *n >= max {
                None
            } else {
                *n += 1;
                Some(*n)
            }
        };
        answer
            .headers
            .push(("govway-ratelimit-concurrentrequest-limit", max.to_string()));
        answer.headers.push((
            "govway-ratelimit-concurrentrequest-remaining",
            max.saturating_sub(taken.unwrap_or(max)).to_string(),
        ));
        if taken.is_none() {
            let (r, h) = too_many(
                Some(inner.gateway.throttle_retry_after),
                "too many calls in flight on this e-service",
            );
            answer.headers.extend(h);
            return answer.problem(&r);
        }
        Some(Slot {
            state: st,
            eservice: eservice.id().to_string(),
        })
    } else {
        None
    };

    // ModI. An operation published without INTEGRITY_REST_02 (ANPR's GET
    // /status) must carry no Agid-JWT-Signature (GovWay refuses it,
    // reference §1.2).
    let unsigned = match &backend {
        Backend::Service(b) => b.unsigned_operation(method.as_str(), &operation),
        Backend::Echo => None,
    };
    let signature = if let Some(why) = unsigned {
        if req.header("agid-jwt-signature").is_some() {
            return answer.problem(&refusal(
                400,
                "InteroperabilityInvalidRequest",
                "Invalid request",
                why,
            ));
        }
        None
    } else if front.has_integrity() {
        match gateway::integrity(&rules, eservice, &caller, &req) {
            Ok(s) => Some(s),
            Err(r) => return answer.problem(&r),
        }
    } else {
        None
    };
    // AUDIT_REST_02: required when the front applies it; on a SOAP front
    // verified when sent (the INPS Operatori services read its claims).
    let evidence = if front.has_audit()
        || (backend.is_soap() && req.header("agid-jwt-trackingevidence").is_some())
    {
        match gateway::audit(&rules, eservice, front, &caller, &req) {
            Ok(claims) => Some(claims),
            Err(r) => return answer.problem(&r),
        }
    } else {
        None
    };
    if let Some((jti, exp)) = signature {
        let mut seen = lock(&st.jtis);
        seen.retain(|_, e| *e > now);
        let key = (eservice.id().to_string(), jti);
        if seen.contains_key(&key) {
            return answer.problem(&refusal(
                409,
                "Conflict",
                "A request with the same identifier was already received",
                "the Agid-JWT-Signature jti was already used",
            ));
        }
        seen.insert(key, exp);
    }

    // Faults, then the backend.
    match fault {
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::Status(s)) => return answer.problem(&status_fault(s)),
        Some(Fault::InternalError) => return answer.problem(&status_fault(500)),
        Some(Fault::TooManyRequests { retry_after }) => {
            let (r, h) = too_many(retry_after, "injected fault");
            answer.headers.extend(h);
            return answer.problem(&r);
        }
        Some(Fault::RateLimited) => {
            let (r, h) = too_many(None, "injected fault");
            answer.headers.extend(h);
            return answer.problem(&r);
        }
        Some(Fault::LimitExceeded) => {
            return answer.problem(&refusal(
                429,
                "LimitExceeded",
                "Limit exceeded detected",
                "injected fault",
            ))
        }
        Some(Fault::DropConnection) => return super::faults::dropped(),
        None => {}
    }
    st.backend_calls.fetch_add(1, Ordering::SeqCst);
    let Backend::Service(service) = &backend else {
        return echo(answer, eservice, &caller, &body);
    };
    let ctx = BackendContext::new(&inner.backends, &inner.rng, now);
    let front_path = front.path();
    let call = BackendCall {
        client_id: caller.client.id(),
        method: method.as_str(),
        operation: &operation,
        host: headers.get(header::HOST).and_then(|v| v.to_str().ok()),
        front_path: &front_path,
        header: &header_of,
        body: &body,
        evidence: evidence.as_ref(),
    };
    match service.serve(&ctx, &call) {
        Ok(reply) => answer.reply(reply),
        Err(r) => answer.problem(&r),
    }
}

/// The built-in echo backend.
fn echo(answer: Answer, eservice: &EService, caller: &Caller<'_>, body: &[u8]) -> Response {
    let Ok(received) = serde_json::from_slice::<Value>(body) else {
        return answer.problem(&refusal(
            400,
            "InvalidRequestContent",
            "Request content not conform to API specification: the body is not JSON",
            "the echo operation takes a JSON body",
        ));
    };
    let out = json!({
        "received": received,
        "caller": {
            "clientId": caller.client.id(),
            "purposeId": caller.purpose_id,
            "eserviceId": eservice.id(),
        },
    });
    answer.finish(StatusCode::OK, "application/json", out.to_string())
}
