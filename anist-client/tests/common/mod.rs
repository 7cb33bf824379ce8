//! Test keys shared by the integration tests: RSA-2048 keys generated once
//! per test binary (generation is the slow part of every sandbox test).
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};

use anist_client::keys::{PrivateKey, RsaBits};

/// The `n`-th of four keys (0..4), generated on first use.
pub fn key(n: usize) -> Arc<PrivateKey> {
    static KEYS: OnceLock<Vec<Arc<PrivateKey>>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| {
        (0..4)
            .map(|_| Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap()))
            .collect()
    });
    Arc::clone(&keys[n])
}

/// The client's key (uploaded to the sandbox's registry).
pub fn client_key() -> Arc<PrivateKey> {
    key(0)
}

/// A key never uploaded (in DPoP tests: the proof key).
pub fn stranger_key() -> Arc<PrivateKey> {
    key(1)
}

/// The sandbox's voucher-signing key.
pub fn sandbox_key() -> Arc<PrivateKey> {
    key(2)
}

/// The key of another client of the same tenant.
pub fn other_client_key() -> Arc<PrivateKey> {
    key(3)
}

/// A new empty folder under the system's temporary folder (left behind:
/// the OS cleans it).
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let p = std::env::temp_dir().join(format!("anist-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&p).unwrap();
    p
}
