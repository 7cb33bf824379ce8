//! The sandbox's TLS port: at start a CA, a server certificate for
//! `localhost` / `127.0.0.1` and, when the default client key is known, a
//! client certificate for that key (the same key pair serves PDND and
//! mTLS, assumption U14) are generated with rcgen; the port requires a
//! client certificate issued by the sandbox CA (`WebPkiClientVerifier`).

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use zeroize::Zeroizing;

use super::SandboxError;
use crate::keys::PrivateKey;

/// The generated certificates and the server configuration.
pub(super) struct TlsMaterial {
    pub(super) ca_pem: String,
    pub(super) server: Arc<rustls::ServerConfig>,
    /// The client certificate (PEM) and its key (PKCS#8 PEM).
    pub(super) client: Option<(String, Zeroizing<String>)>,
}

fn err(what: &str, e: impl std::fmt::Display) -> SandboxError {
    SandboxError::Tls {
        reason: format!("{what}: {e}"),
    }
}

/// The default client's RSA public key, for rcgen.
struct RsaSpki {
    /// The `subjectPublicKey` bits (the PKCS#1 `RSAPublicKey`).
    key: Vec<u8>,
}

impl rcgen::PublicKeyData for RsaSpki {
    fn der_bytes(&self) -> &[u8] {
        &self.key
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

fn named(cn: &str) -> rcgen::DistinguishedName {
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(rcgen::DnType::OrganizationName, "anist sandbox");
    dn.push(rcgen::DnType::CommonName, cn);
    dn
}

/// Generates the CA, the server certificate and (for `client_key`) the
/// client certificate.
pub(super) fn generate(client_key: Option<&PrivateKey>) -> Result<TlsMaterial, SandboxError> {
    let ca_key = rcgen::KeyPair::generate().map_err(|e| err("CA key", e))?;
    let mut ca_params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| err("CA parameters", e))?;
    ca_params.distinguished_name = named("anist sandbox CA (test only)");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key)
        .map_err(|e| err("CA certificate", e))?;

    let server_key = rcgen::KeyPair::generate().map_err(|e| err("server key", e))?;
    let mut server_params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .map_err(|e| err("server parameters", e))?;
    server_params.distinguished_name = named("localhost");
    server_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server_params
        .signed_by(&server_key, &ca)
        .map_err(|e| err("server certificate", e))?;

    let client = match client_key {
        None => None,
        Some(key) => {
            let spki_der = key.public_key().to_der();
            let spki = spki::SubjectPublicKeyInfoRef::try_from(spki_der.as_slice())
                .map_err(|e| err("client public key", e))?;
            let rsa = RsaSpki {
                key: spki.subject_public_key.raw_bytes().to_vec(),
            };
            let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
                .map_err(|e| err("client parameters", e))?;
            params.distinguished_name = named("anist sandbox client");
            params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
            let cert = params
                .signed_by(&rsa, &ca)
                .map_err(|e| err("client certificate", e))?;
            let key_pem = key.to_pkcs8_pem().map_err(|e| err("client key", e))?;
            Some((cert.pem(), key_pem))
        }
    };

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca.der().clone())
        .map_err(|e| err("CA store", e))?;
    let verifier =
        WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .build()
            .map_err(|e| err("client verifier", e))?;
    let server_key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err("TLS versions", e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(server_cert.der().to_vec())],
            server_key_der,
        )
        .map_err(|e| err("server configuration", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        ca_pem: ca.pem(),
        server: Arc::new(config),
        client,
    })
}

/// Marks the requests that arrived on the TLS port (with a client
/// certificate the CA issued).
#[derive(Debug, Clone, Copy)]
pub(super) struct ViaTls;

/// A listener whose connections have completed the TLS handshake
/// (handshakes run in their own tasks; failed ones are dropped).
pub(super) struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub(super) fn new(
        tcp: TcpListener,
        config: Arc<rustls::ServerConfig>,
    ) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = tcp.accept().await else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let acceptor = acceptor.clone();
                let conn_tx = tx.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await;
                    if let Ok(Ok(tls)) = handshake {
                        let _ = conn_tx.send((tls, peer)).await;
                    }
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(Self { rx, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
