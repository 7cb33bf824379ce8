//! mTLS: a TLS server started by the test on 127.0.0.1 requires a client
//! certificate issued by its CA. The client built from
//! `HttpOptions::client_identity_pem` is let in; without an identity, or
//! with a certificate from another CA, the handshake is refused. With the
//! sandbox as PDND, two `Caller`s sharing one voucher cache call two
//! services with different identities.
//!
//! Certificates: `tests/data/mtls/` (test-only, generated with OpenSSL;
//! see `tests/data/README.md`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anist_client::voucher::http::{FetchError, HttpOptions};
use anist_core::ErrorCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const CA: &[u8] = include_bytes!("data/mtls/test-only-ca.pem");
const SERVER: &[u8] = include_bytes!("data/mtls/test-only-server.pem");
const SERVER_KEY: &[u8] = include_bytes!("data/mtls/test-only-server-key.pem");
const CLIENT: &[u8] = include_bytes!("data/mtls/test-only-client.pem");
const CLIENT_KEY: &[u8] = include_bytes!("data/mtls/test-only-client-key.pem");
const STRANGER: &[u8] = include_bytes!("data/mtls/test-only-stranger.pem");
const STRANGER_KEY: &[u8] = include_bytes!("data/mtls/test-only-stranger-key.pem");

/// A TLS server requiring a client certificate from the test CA; answers
/// every request with 200 and a small JSON body, then closes. Returns its
/// base URL (`https://localhost:<port>`) and the count of accepted
/// handshakes.
async fn mtls_server() -> (String, Arc<AtomicU64>) {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CA).unwrap())
        .unwrap();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(SERVER).unwrap()],
            PrivateKeyDer::from_pem_slice(SERVER_KEY).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let body = br#"{"mtls":true}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(body).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://localhost:{port}"), accepted)
}

fn options() -> HttpOptions {
    HttpOptions::default()
        .timeout(Duration::from_secs(10))
        .ca_bundle_pem(CA)
        .ca_bundle_only(true)
}

#[tokio::test]
async fn the_identity_is_let_in_and_its_absence_refused() {
    let (url, accepted) = mtls_server().await;
    // With the client certificate.
    let with = options().client_identity_pem(CLIENT, CLIENT_KEY);
    assert!(with.has_client_identity());
    let http = with.build_client().unwrap();
    let r = http.get(format!("{url}/x")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), r#"{"mtls":true}"#);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    // Without: the server refuses the handshake.
    let http = options().build_client().unwrap();
    assert!(http.get(format!("{url}/x")).send().await.is_err());
    // With a certificate from another CA: refused too.
    let http = options()
        .client_identity_pem(STRANGER, STRANGER_KEY)
        .build_client()
        .unwrap();
    assert!(http.get(format!("{url}/x")).send().await.is_err());
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[test]
fn unusable_identities_are_reported_without_the_key() {
    // No certificate.
    let e = options()
        .client_identity_pem(b"", CLIENT_KEY)
        .build_client()
        .unwrap_err();
    assert_eq!(FetchError::from(e.clone()).code(), "voucher_not_sent");
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
    // An encrypted key: a hint to decrypt it.
    let encrypted =
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let e = options()
        .client_identity_pem(CLIENT, encrypted)
        .build_client()
        .unwrap_err();
    assert!(e.to_string().contains("encrypted"), "{e}");
    // No key at all.
    let e = options()
        .client_identity_pem(CLIENT, b"")
        .build_client()
        .unwrap_err();
    assert_eq!(FetchError::from(e.clone()).code(), "voucher_not_sent");
    let key_text = std::str::from_utf8(CLIENT_KEY).unwrap();
    let key_line = key_text.lines().nth(1).unwrap();
    assert!(!e.to_string().contains(key_line));
    assert!(!format!("{e:?}").contains(key_line));
    // Debug of the options never shows the key.
    let o = options().client_identity_pem(CLIENT, CLIENT_KEY);
    let debug = format!("{o:?}");
    assert!(debug.contains("client_identity: true"), "{debug}");
    assert!(!debug.contains(key_line));
}

/// Two services, two identities, one voucher cache.
#[cfg(feature = "sandbox")]
#[tokio::test]
async fn two_services_with_different_identities_share_the_voucher_cache() {
    use anist_client::call::{Caller, ServiceProfile};
    use anist_client::clock::ManualClock;
    use anist_client::env::Environment;
    use anist_client::ids::{ClientId, PurposeId};
    use anist_client::keys::{PrivateKey, RsaBits};
    use anist_client::modi::ModiSigner;
    use anist_client::sandbox::registry::{Registry, DEFAULT_CLIENT, ECHO_PURPOSE};
    use anist_client::sandbox::{Sandbox, SandboxConfig};
    use anist_client::voucher::cache::{VoucherCache, VoucherKey};
    use anist_client::voucher::http::HttpTokenFetcher;

    let key = Arc::new(PrivateKey::generate(RsaBits::Rsa2048).unwrap());
    let clock = Arc::new(ManualClock::new(1_764_000_000));
    let registry = Registry::default_builder(key.public_key().clone())
        .build()
        .unwrap();
    let sandbox = Sandbox::start(SandboxConfig::new(registry).clock(clock.clone()))
        .await
        .unwrap();
    let fetcher =
        HttpTokenFetcher::new(sandbox.endpoints().clone(), key.clone(), clock.clone()).unwrap();
    let cache = Arc::new(VoucherCache::new(fetcher, clock.clone()));
    let client = ClientId::parse(DEFAULT_CLIENT).unwrap();
    let signer = || ModiSigner::new(client.clone(), key.clone());
    let with_identity = Caller::with_options(
        Arc::clone(&cache),
        signer(),
        clock.clone(),
        &options().client_identity_pem(CLIENT, CLIENT_KEY),
    )
    .unwrap();
    let without = Caller::with_options(Arc::clone(&cache), signer(), clock, &options()).unwrap();
    let (url, accepted) = mtls_server().await;
    let profile = ServiceProfile::new(&format!("{url}/Ente/servizio/v1"), "aud");
    let vkey = VoucherKey::new(
        Environment::Sandbox,
        client.clone(),
        key.kid().clone(),
        PurposeId::parse(ECHO_PURPOSE).unwrap(),
    );
    let r = with_identity.get(&profile, &vkey, "stato").await.unwrap();
    assert_eq!(r.status(), 200);
    let e = without.get(&profile, &vkey, "stato").await.unwrap_err();
    assert_eq!(e.code(), "gateway_network", "{e}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert_eq!(sandbox.vouchers_issued(), 1);
    sandbox.shutdown().await;
}
