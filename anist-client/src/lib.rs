//! PDND vouchers, ModI headers and e-service clients for anist.
//!
//! This crate speaks the protocols of PDND Interoperabilità and of the
//! e-services behind it (see the project's protocol reference):
//!
//! - [`keys`]: RSA keys in every form integrators keep them, the `kid`
//!   thumbprint, export and generation;
//! - [`env`](mod@env): environment presets (produzione, collaudo, attestazione,
//!   sandbox), all overridable;
//! - [`voucher`]: the client assertion, the token request and response,
//!   the single-flight voucher cache;
//! - [`preflight`]: offline diagnosis of a client assertion;
//! - [`modi`]: `Digest`, `Agid-JWT-Signature`, `Agid-JWT-TrackingEvidence`;
//! - [`session`]: a client identity with its e-services by name;
//! - [`config`]: the `anist.toml` file, environment overrides, offline
//!   checks, and the [`session::Session`] it describes;
//! - [`anist`]: the ANIST attendance services;
//! - [`isee`]: the INPS ISEE SOAP services;
//! - [`bulk`]: the resumable bulk attendance job (SQLite journal);
//! - [`sidi`]: SIDI synchronisation of a school's local database (store,
//!   interchange files, sandbox school);
//! - [`audit`]: the hash-chained audit trail of the calls made;
//! - [`infanzia`]: the Piemonte 0–3 survey form (SQLite store, CSV
//!   readers, exports);
//! - [`call`]: one JSON `POST` to an e-service through its gateway, with
//!   its ModI headers, the voucher cache and typed gateway errors;
//! - [`transport`]: the HTTP client options, the client-side rate limiter
//!   ([`ratelimit`]) and the one backoff, with who retries what;
//! - [`dpop`]: DPoP proofs (RFC 9449) for "voucher DPoP" e-services;
//! - [`jws`]: compact JWS signing and unverified decoding;
//! - [`clock`]: injected time;
//! - [`blocking`]: the process's one runtime (fork-aware) for blocking
//!   callers (the CLI, the Python module);
//! - [`ids`]: client and purpose ids;
//! - `sandbox` (feature `sandbox`): a faithful local PDND and GovWay-like
//!   e-service front on 127.0.0.1.
//!
//! Nothing here prints, and nothing shows a key, a token or a codice fiscale
//! in `Debug` output.
//!
//! # Start here
//!
//! A program needs a handful of types, re-exported at the root: a
//! [`Config`] read from `anist.toml` gives a [`Session`] (`Config::session`),
//! and the session the clients of the registries: [`AnistClient`],
//! [`IseeClient`], [`AnprClient`]; [`AuditLog`] is the trail every lookup
//! is recorded in; [`blocking`] runs them from synchronous code. Every error
//! implements [`ErrorCode`]: a stable code and an [`ErrorKind`] (ERRORS.md
//! lists them all).
//!
//! ```
//! use anist_client::{ErrorCode, ErrorKind};
//!
//! let e = anist_client::voucher::token::parse_token_response(503, [], b"").unwrap_err();
//! assert_eq!((e.code(), e.kind()), ("voucher_server_error", ErrorKind::ServerError));
//! ```

pub mod anist;
pub mod anpr;
pub mod audit;
pub mod blocking;
pub mod bulk;
pub mod call;
pub mod clock;
pub mod config;
pub mod dpop;
pub(crate) mod encoding;
pub mod env;
pub mod errors;
pub mod files;
pub mod ids;
pub mod infanzia;
pub mod isee;
pub mod jws;
pub mod keys;
pub mod modi;
#[cfg(feature = "postgres")]
pub mod pg;
pub mod preflight;
pub mod redact;
pub mod rivestizione;
pub(crate) mod rng;
#[cfg(feature = "sandbox")]
pub mod sandbox;
pub mod session;
pub mod sidi;
pub mod soap;
pub mod transport;
pub mod voucher;

/// The rate limiter (now in [`transport`]), at its old path.
pub use transport::ratelimit;

pub use anist::AnistClient;
pub use anist_core::{ErrorCode, ErrorKind, Sent};
pub use anpr::AnprClient;
pub use audit::AuditLog;
pub use config::Config;
pub use isee::IseeClient;
pub use session::Session;
