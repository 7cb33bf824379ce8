//! PDND vouchers: the client assertion that asks for one, the token request
//! and its answers, the cache that reuses them and the HTTP transport that
//! fetches them.

pub mod assertion;
pub mod cache;
pub mod http;
pub mod token;
