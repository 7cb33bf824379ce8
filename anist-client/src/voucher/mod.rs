//! PDND vouchers: the client assertion that asks for one, the token request
//! and its answers, and the cache that reuses them.

pub mod assertion;
pub mod cache;
pub mod token;
