//! The HTTP client every call of the crate is made with: timeouts, TLS
//! (rustls with the platform's trust store, a custom CA bundle added or
//! alone, a client certificate for mTLS; certificate verification cannot
//! be turned off), no redirects, and the rule that plain `http://` is for
//! loopback addresses only ([`transport_allowed`]).

use std::fmt;
use std::time::Duration;

/// Default connect timeout (§5).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout of a whole request (§5: a token request, 15 s; an
/// e-service call sets its own).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// The error and its sources, `: `-separated (never a key: the TLS
/// stack's messages name the problem, not the material).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// An HTTP client that cannot be built (a CA bundle or a client
/// certificate that is not usable, the TLS stack not starting): nothing can
/// be sent with it. The token request reports it as `voucher_not_sent`, an
/// e-service call as `call_not_sent`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ClientBuildError {
    /// What is wrong (never key material).
    pub reason: String,
}

/// How the HTTP client is built.
///
/// One set of options makes one client, so one TLS client identity: an
/// e-service that wants its own certificate (mTLS) gets its own
/// [`crate::call::Caller`] built with these options, sharing the voucher
/// cache with the others.
#[derive(Clone)]
pub struct HttpOptions {
    connect_timeout: Duration,
    timeout: Duration,
    ca_bundle: Option<Vec<u8>>,
    ca_bundle_only: bool,
    /// The client certificate chain and its key, PEM (key material: wiped
    /// on drop, never shown).
    identity: Option<zeroize::Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("ca_bundle", &self.ca_bundle.as_ref().map(Vec::len))
            .field("ca_bundle_only", &self.ca_bundle_only)
            .field("client_identity", &self.identity.is_some())
            .finish()
    }
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            ca_bundle: None,
            ca_bundle_only: false,
            identity: None,
        }
    }
}

impl HttpOptions {
    /// Sets the connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Sets the timeout of a whole request (connect, send, answer).
    #[must_use]
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Trusts the CA certificates of this PEM bundle too (e.g. a private
    /// CA such as the "Sogei Certification Authority Test" of ANPR's
    /// collaudo), besides the platform's.
    #[must_use]
    pub fn ca_bundle_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_bundle = Some(pem.into());
        self
    }

    /// Trusts only the CA bundle, not the platform's store.
    #[must_use]
    pub fn ca_bundle_only(mut self, only: bool) -> Self {
        self.ca_bundle_only = only;
        self
    }

    /// Presents this TLS client certificate (mTLS): `cert_chain_pem` holds
    /// the certificate first, then any intermediate CA certificates;
    /// `key_pem` its private key, unencrypted PEM (PKCS#8 `PRIVATE KEY`,
    /// PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY`). Read when the
    /// client is built ([`Self::build_client`]).
    #[must_use]
    pub fn client_identity_pem(
        mut self,
        cert_chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Self {
        let (cert, key) = (cert_chain_pem.as_ref(), key_pem.as_ref());
        let mut pem = zeroize::Zeroizing::new(Vec::with_capacity(cert.len() + key.len() + 1));
        pem.extend_from_slice(key);
        pem.push(b'\n');
        pem.extend_from_slice(cert);
        self.identity = Some(pem);
        self
    }

    /// Whether a TLS client certificate is set.
    pub fn has_client_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// Builds the HTTP client.
    ///
    /// # Errors
    /// [`ClientBuildError`] (nothing can be sent) if the CA bundle holds no readable
    /// certificate, the client certificate or its key cannot be read, or
    /// the TLS stack cannot start.
    pub fn build_client(&self) -> Result<reqwest::Client, ClientBuildError> {
        let mut b = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("anist/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &self.ca_bundle {
            let certs =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ClientBuildError {
                    reason: format!("the CA bundle is not readable PEM: {e}"),
                })?;
            if certs.is_empty() {
                return Err(ClientBuildError {
                    reason: "the CA bundle holds no certificate".into(),
                });
            }
            b = if self.ca_bundle_only {
                b.tls_certs_only(certs)
            } else {
                b.tls_certs_merge(certs)
            };
        }
        if let Some(pem) = &self.identity {
            let has = |label: &str| pem.windows(label.len()).any(|w| w == label.as_bytes());
            if !has("-----BEGIN CERTIFICATE-----") {
                return Err(ClientBuildError {
                    reason: "the client certificate chain holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
                });
            }
            if has("ENCRYPTED PRIVATE KEY") || has("Proc-Type: 4,ENCRYPTED") {
                return Err(ClientBuildError {
                    reason: "the client certificate's key is encrypted: give it decrypted (e.g. openssl pkcs8 -in key.pem -out plain.pem) and keep the file readable only by the service".into(),
                });
            }
            // reqwest's message names the problem, never the key.
            let identity = reqwest::Identity::from_pem(pem).map_err(|e| ClientBuildError {
                reason: format!(
                    "the client certificate or its private key is not usable PEM: {}",
                    error_chain(&e)
                ),
            })?;
            b = b.identity(identity);
        }
        b.build().map_err(|e| ClientBuildError {
            reason: format!("the HTTP client could not be built: {}", error_chain(&e)),
        })
    }
}

/// True for `https://…`, and for `http://` to a loopback host.
pub fn transport_allowed(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
