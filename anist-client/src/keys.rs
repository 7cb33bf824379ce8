//! RSA keys for PDND: loading, the `kid`, export and generation.
//!
//! PDND accepts one kind of key for client assertions and ModI tokens: RSA of
//! at least 2048 bits, uploaded as a PEM `PUBLIC KEY` (SPKI). The `kid` that
//! PDND assigns to an uploaded key is its RFC 7638 JWK thumbprint, so it is
//! computed here from the key itself and never configured by hand.
//!
//! Private keys load from:
//!
//! | input | method |
//! |---|---|
//! | PEM `RSA PRIVATE KEY` (PKCS#1) | [`PrivateKey::from_pem`] |
//! | PEM `PRIVATE KEY` (PKCS#8) | [`PrivateKey::from_pem`] |
//! | PEM `ENCRYPTED PRIVATE KEY` (PKCS#8, PBES2) + password | [`PrivateKey::from_pem`] |
//! | DER, PKCS#1 or PKCS#8 (plain or encrypted) | [`PrivateKey::from_der`] |
//! | JWK (private, with the CRT members) | [`PrivateKey::from_jwk`] |
//! | any of the above, detected | [`PrivateKey::from_bytes`], [`PrivateKey::from_file`] |
//!
//! The password is always passed in by the caller; this library never prompts
//! (the CLI reads it from an environment variable).
//!
//! ```
//! use anist_client::keys::{PrivateKey, RsaBits};
//!
//! let key = PrivateKey::generate(RsaBits::Rsa2048)?;
//! assert_eq!(key.kid().as_str().len(), 43);
//! let pem = key.public_key().to_pem();
//! assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
//! // Debug never shows key material.
//! assert!(!format!("{key:?}").contains("PRIVATE"));
//! # Ok::<(), anist_client::keys::KeyError>(())
//! ```
//!
//! Signing, verification and generation use aws-lc-rs (constant-time RSA);
//! the containers are parsed by RustCrypto's `pkcs1`, `pkcs8` and `spki`.

use std::fmt;
use std::path::Path;

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeyPairComponents, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use pkcs1::der::{self, Decode as _};
use zeroize::Zeroizing;

use crate::encoding::{b64url, b64url_decode, random_fill, sha256};

/// The smallest RSA modulus PDND accepts, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// The largest RSA modulus this library signs with, in bits.
pub const MAX_RSA_BITS: usize = 8192;

/// PBKDF2-HMAC-SHA256 iterations used when this library encrypts a key
/// (OWASP 2023 recommendation).
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Why a key could not be loaded, generated or used.
///
/// Messages never contain key material or passwords.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The input is neither PEM, DER nor JWK.
    #[error("the key is not readable as PEM, DER or JWK: {reason}")]
    Unreadable {
        /// What was found instead.
        reason: String,
    },
    /// The container was recognised but its content is not a usable RSA
    /// private (or public) key.
    #[error("the key file is not in a supported form: {reason}")]
    Format {
        /// What is wrong, and how to convert it when possible.
        reason: String,
    },
    /// The key is not an RSA key (PDND accepts only RSA).
    #[error("PDND accepts only RSA keys; this is {found}")]
    NotRsa {
        /// The kind of key found (e.g. "an EC key").
        found: String,
    },
    /// The key is encrypted and no password was given.
    #[error("the private key is encrypted: pass its password (the CLI reads it from the environment variable named in its help)")]
    PasswordMissing,
    /// The password does not decrypt the key.
    #[error("the password does not decrypt this private key (or the file is corrupted)")]
    Password,
    /// The RSA modulus is shorter than PDND's minimum.
    #[error("the RSA key has {bits} bits; PDND requires at least {MIN_RSA_BITS}: generate a new key (anist keys generate) and upload its public part")]
    TooSmall {
        /// The key's modulus size in bits.
        bits: usize,
    },
    /// The RSA modulus is longer than this library supports.
    #[error("the RSA key has {bits} bits; at most {MAX_RSA_BITS} are supported")]
    TooLarge {
        /// The key's modulus size in bits.
        bits: usize,
    },
    /// The key parsed but its numbers are inconsistent (e.g. a corrupted
    /// private exponent).
    #[error("the RSA key is invalid: {reason}")]
    Invalid {
        /// The cryptographic library's reason.
        reason: String,
    },
    /// Generation was asked for a size other than 2048, 3072 or 4096 bits.
    #[error("keys can be generated with 2048, 3072 or 4096 bits, not {bits}")]
    UnsupportedSize {
        /// The size asked for.
        bits: usize,
    },
    /// The key file could not be read.
    #[error("the key file could not be read: {kind}")]
    Io {
        /// The I/O error kind (the path is the caller's to report).
        kind: std::io::ErrorKind,
    },
    /// Signing, generation or the random generator failed inside the
    /// cryptographic library.
    #[error("the cryptographic library failed while {during}")]
    Crypto {
        /// The operation that failed.
        during: &'static str,
    },
}

impl ErrorCode for KeyError {
    fn code(&self) -> &'static str {
        match self {
            KeyError::Unreadable { .. } => "key_unreadable",
            KeyError::Format { .. } => "key_format",
            KeyError::NotRsa { .. } => "key_not_rsa",
            KeyError::PasswordMissing => "key_password_missing",
            KeyError::Password => "key_password",
            KeyError::TooSmall { .. } => "key_too_small",
            KeyError::TooLarge { .. } => "key_too_large",
            KeyError::Invalid { .. } => "key_invalid",
            KeyError::UnsupportedSize { .. } => "key_size_unsupported",
            KeyError::Io { .. } => "key_io",
            KeyError::Crypto { .. } => "key_crypto",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::Config
    }
}

#[doc(hidden)]
impl CodeSamples for KeyError {
    fn samples() -> Vec<Self> {
        vec![
            KeyError::Unreadable {
                reason: "neither PEM nor DER".into(),
            },
            KeyError::Format {
                reason: "not a private key".into(),
            },
            KeyError::NotRsa {
                found: "an EC key".into(),
            },
            KeyError::PasswordMissing,
            KeyError::Password,
            KeyError::TooSmall { bits: 1024 },
            KeyError::TooLarge { bits: 32768 },
            KeyError::Invalid {
                reason: "inconsistent".into(),
            },
            KeyError::UnsupportedSize { bits: 1024 },
            KeyError::Io {
                kind: std::io::ErrorKind::NotFound,
            },
            KeyError::Crypto { during: "signing" },
        ]
    }
}

fn format_err(reason: impl Into<String>) -> KeyError {
    KeyError::Format {
        reason: reason.into(),
    }
}

/// The `kid` PDND gives a key: its RFC 7638 JWK thumbprint (base64url of
/// the SHA-256 of `{"e":…,"kty":"RSA","n":…}`), always 43 characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kid(String);

impl Kid {
    /// The thumbprint text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `text` has the shape PDND accepts for a `kid`
    /// (`^[a-zA-Z0-9_-]{43}$`).
    pub fn is_well_formed(text: &str) -> bool {
        text.len() == 43
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kid({})", self.0)
    }
}

/// Sizes [`PrivateKey::generate`] can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RsaBits {
    /// 2048 bits: PDND's minimum, and what its manual shows.
    Rsa2048,
    /// 3072 bits.
    Rsa3072,
    /// 4096 bits.
    Rsa4096,
}

impl RsaBits {
    /// The size in bits.
    pub fn bits(self) -> usize {
        match self {
            RsaBits::Rsa2048 => 2048,
            RsaBits::Rsa3072 => 3072,
            RsaBits::Rsa4096 => 4096,
        }
    }

    /// The size for a number of bits (2048, 3072 or 4096).
    ///
    /// # Errors
    /// [`KeyError::UnsupportedSize`] for any other number.
    pub fn from_bits(bits: usize) -> Result<Self, KeyError> {
        match bits {
            2048 => Ok(RsaBits::Rsa2048),
            3072 => Ok(RsaBits::Rsa3072),
            4096 => Ok(RsaBits::Rsa4096),
            _ => Err(KeyError::UnsupportedSize { bits }),
        }
    }
}

/// An RSA public key: what is uploaded to PDND, and what verifies signatures.
///
/// Loading a public key does not refuse small keys (so that the pre-flight
/// diagnosis can say *why* PDND would refuse one); [`PublicKey::bits`] tells
/// the size.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// Modulus, big-endian, no leading zeros.
    n: Vec<u8>,
    /// Public exponent, big-endian, no leading zeros.
    e: Vec<u8>,
    kid: Kid,
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

fn bit_len(n: &[u8]) -> usize {
    match n.first() {
        None => 0,
        Some(&top) => (n.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

impl PublicKey {
    fn from_components(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let n = strip_zeros(n).to_vec();
        let e = strip_zeros(e).to_vec();
        if n.is_empty() || e.is_empty() {
            return Err(format_err("the RSA modulus or exponent is zero"));
        }
        let canonical = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            b64url(&e),
            b64url(&n)
        );
        let kid = Kid(b64url(&sha256(canonical.as_bytes())));
        Ok(Self { n, e, kid })
    }

    /// Loads a PEM public key: `PUBLIC KEY` (SPKI, what PDND wants) or
    /// `RSA PUBLIC KEY` (PKCS#1).
    ///
    /// # Errors
    /// [`KeyError::Unreadable`] if no PEM block is found, [`KeyError::Format`]
    /// for certificates, private keys and malformed content,
    /// [`KeyError::NotRsa`] for other algorithms.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let blocks = pem_blocks(pem);
        let Some(block) = blocks.first() else {
            return Err(KeyError::Unreadable {
                reason: "no -----BEGIN …----- line".into(),
            });
        };
        match block.label {
            "PUBLIC KEY" => Self::from_spki_der(&decode_pem_block(block)?),
            "RSA PUBLIC KEY" => Self::from_pkcs1_der(&decode_pem_block(block)?),
            "CERTIFICATE" => Err(format_err(
                "this is a certificate; PDND wants the bare public key: openssl x509 -pubkey -noout -in cert.pem",
            )),
            l if l.ends_with("PRIVATE KEY") => Err(format_err(
                "this is a private key; load it with PrivateKey and take its public_key()",
            )),
            other => Err(format_err(format!("unexpected PEM label {other:?}"))),
        }
    }

    /// Loads a DER public key, SPKI or PKCS#1.
    ///
    /// # Errors
    /// As [`PublicKey::from_pem`].
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        Self::from_spki_der(der).or_else(|spki_err| match Self::from_pkcs1_der(der) {
            Ok(k) => Ok(k),
            Err(_) => Err(spki_err),
        })
    }

    fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| format_err(format!("not an SPKI public key ({e})")))?;
        if spki.algorithm.oid != pkcs1::ALGORITHM_OID {
            return Err(KeyError::NotRsa {
                found: format!("a key with algorithm {}", spki.algorithm.oid),
            });
        }
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| format_err("SPKI bit string is not byte-aligned"))?;
        Self::from_pkcs1_der(bits)
    }

    fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let k = pkcs1::RsaPublicKeyRef::from_der(der)
            .map_err(|e| format_err(format!("not a PKCS#1 RSA public key ({e})")))?;
        Self::from_components(k.modulus.as_bytes(), k.public_exponent.as_bytes())
    }

    /// Loads a public JWK (`kty` `RSA`, `n`, `e`; other members are ignored,
    /// private members included).
    ///
    /// # Errors
    /// [`KeyError::Unreadable`] if the text is not JSON, [`KeyError::Format`]
    /// if members are missing or not base64url, [`KeyError::NotRsa`] for
    /// other key types.
    pub fn from_jwk(json: &str) -> Result<Self, KeyError> {
        let obj = jwk_object(json)?;
        let n = jwk_member(&obj, "n")?;
        let e = jwk_member(&obj, "e")?;
        Self::from_components(&n, &e)
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        bit_len(&self.n)
    }

    /// The RFC 7638 thumbprint, which is the `kid` PDND assigns to this key.
    pub fn kid(&self) -> &Kid {
        &self.kid
    }

    /// DER SubjectPublicKeyInfo.
    pub fn to_der(&self) -> Vec<u8> {
        // Hand-rolled: SEQUENCE { AlgorithmIdentifier rsaEncryption NULL,
        // BIT STRING { RSAPublicKey } }. Encoding cannot fail for
        // in-memory integers, so no error path is exposed.
        let rsa = der_seq(&[der_uint(&self.n), der_uint(&self.e)]);
        let alg = [
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
            0x00,
        ];
        let mut bit_string = vec![0u8];
        bit_string.extend_from_slice(&rsa);
        der_seq(&[alg.to_vec(), der_tlv(0x03, &bit_string)])
    }

    /// PEM `PUBLIC KEY` (SPKI): the text to upload on PDND.
    pub fn to_pem(&self) -> String {
        pem_encode("PUBLIC KEY", &self.to_der())
    }

    /// The public JWK: `{"kty":"RSA","n":…,"e":…,"kid":…,"alg":"RS256","use":"sig"}`.
    pub fn to_jwk(&self) -> String {
        serde_json::json!({
            "kty": "RSA",
            "n": b64url(&self.n),
            "e": b64url(&self.e),
            "kid": self.kid.as_str(),
            "alg": "RS256",
            "use": "sig",
        })
        .to_string()
    }

    /// Verifies an RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature.
    /// Always false for keys under 2048 bits.
    pub fn verify_rs256(&self, message: &[u8], signature: &[u8]) -> bool {
        PublicKeyComponents {
            n: self.n.as_slice(),
            e: self.e.as_slice(),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
        .is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid.as_str())
            .field("bits", &self.bits())
            .finish()
    }
}

/// An RSA private key that signs client assertions and ModI tokens.
///
/// Always at least 2048 bits. `Debug` prints only the `kid` and the size.
pub struct PrivateKey {
    pair: KeyPair,
    public: PublicKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("kid", &self.public.kid.as_str())
            .field("bits", &self.public.bits())
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Generates a new key.
    ///
    /// # Errors
    /// [`KeyError::Crypto`] if the system's random generator fails.
    pub fn generate(bits: RsaBits) -> Result<Self, KeyError> {
        let size = match bits {
            RsaBits::Rsa2048 => KeySize::Rsa2048,
            RsaBits::Rsa3072 => KeySize::Rsa3072,
            RsaBits::Rsa4096 => KeySize::Rsa4096,
        };
        let pair = KeyPair::generate(size).map_err(|_| KeyError::Crypto {
            during: "generating a key",
        })?;
        let pkcs8 = pair.as_der().map_err(|_| KeyError::Crypto {
            during: "encoding a generated key",
        })?;
        Self::from_pkcs8_plain(pkcs8.as_ref())
    }

    /// Loads a key from a file in any supported format (see the module
    /// documentation).
    ///
    /// # Errors
    /// [`KeyError::Io`] if the file cannot be read, otherwise as
    /// [`PrivateKey::from_bytes`].
    pub fn from_file(path: impl AsRef<Path>, password: Option<&[u8]>) -> Result<Self, KeyError> {
        let bytes = Zeroizing::new(
            std::fs::read(path.as_ref()).map_err(|e| KeyError::Io { kind: e.kind() })?,
        );
        Self::from_bytes(&bytes, password)
    }

    /// Loads a key from bytes, detecting PEM, JWK (JSON) or DER.
    ///
    /// # Errors
    /// See [`KeyError`]: `key_unreadable` when the format is not recognised,
    /// `key_password_missing` / `key_password` for encrypted keys,
    /// `key_too_small` under 2048 bits, `key_not_rsa`, `key_format`.
    pub fn from_bytes(bytes: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        let trimmed = strip_bom_and_space(bytes);
        if trimmed.first() == Some(&b'{') {
            let text = std::str::from_utf8(trimmed).map_err(|_| KeyError::Unreadable {
                reason: "JSON that is not UTF-8".into(),
            })?;
            return Self::from_jwk(text);
        }
        if contains(trimmed, b"-----BEGIN") {
            let text = std::str::from_utf8(trimmed).map_err(|_| KeyError::Unreadable {
                reason: "PEM text that is not UTF-8".into(),
            })?;
            return Self::from_pem(text, password);
        }
        if trimmed.first() == Some(&0x30) {
            return Self::from_der(bytes, password);
        }
        Err(KeyError::Unreadable {
            reason: "expected a PEM block (-----BEGIN …), a JSON JWK or DER".into(),
        })
    }

    /// Loads a PEM private key: `RSA PRIVATE KEY` (PKCS#1), `PRIVATE KEY`
    /// (PKCS#8) or `ENCRYPTED PRIVATE KEY` (PKCS#8 with PBES2; needs
    /// `password`). Text around the block (e.g. "Bag Attributes") and other
    /// blocks (e.g. a certificate) are ignored; the first private-key block
    /// is used.
    ///
    /// # Errors
    /// See [`PrivateKey::from_bytes`].
    pub fn from_pem(pem: &str, password: Option<&[u8]>) -> Result<Self, KeyError> {
        let blocks = pem_blocks(pem);
        let Some(block) = blocks
            .iter()
            .find(|b| b.label.ends_with("PRIVATE KEY"))
            .or_else(|| blocks.first())
        else {
            return Err(KeyError::Unreadable {
                reason: "no -----BEGIN …----- line".into(),
            });
        };
        match block.label {
            "RSA PRIVATE KEY" => {
                if block.text.contains("Proc-Type:") {
                    return Err(format_err(
                        "legacy OpenSSL-encrypted PEM (Proc-Type: 4,ENCRYPTED) is not supported; convert it: openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem -out key.pem",
                    ));
                }
                let der = decode_pem_block(block)?;
                Self::from_pkcs1(&der)
            }
            "PRIVATE KEY" => Self::from_pkcs8_plain(&decode_pem_block(block)?),
            "ENCRYPTED PRIVATE KEY" => {
                Self::from_pkcs8_encrypted(&decode_pem_block(block)?, password)
            }
            "EC PRIVATE KEY" => Err(KeyError::NotRsa {
                found: "an EC key".into(),
            }),
            "OPENSSH PRIVATE KEY" => Err(format_err(
                "this is an OpenSSH key; PDND needs a PEM RSA key: ssh-keygen -p -m PKCS8 -f key (on a copy)",
            )),
            "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => Err(format_err(format!(
                "this is a {}, not a private key",
                block.label.to_ascii_lowercase()
            ))),
            other => Err(format_err(format!("unexpected PEM label {other:?}"))),
        }
    }

    /// Loads a DER private key: PKCS#8 (plain or encrypted) or PKCS#1.
    ///
    /// # Errors
    /// See [`PrivateKey::from_bytes`].
    pub fn from_der(der: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        if pkcs8::PrivateKeyInfoRef::from_der(der).is_ok() {
            return Self::from_pkcs8_plain(der);
        }
        if pkcs1::RsaPrivateKeyRef::from_der(der).is_ok() {
            return Self::from_pkcs1(der);
        }
        if pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).is_ok() {
            return Self::from_pkcs8_encrypted(der, password);
        }
        if spki::SubjectPublicKeyInfoRef::from_der(der).is_ok()
            || pkcs1::RsaPublicKeyRef::from_der(der).is_ok()
        {
            return Err(format_err("this is a public key, not a private key"));
        }
        Err(KeyError::Unreadable {
            reason: "DER that is neither PKCS#8 nor PKCS#1".into(),
        })
    }

    /// Loads a private JWK: `kty` `RSA` with `n`, `e`, `d`, `p`, `q`, `dp`,
    /// `dq`, `qi`. A JWK set (`{"keys":[…]}`) holding exactly one key is
    /// accepted too.
    ///
    /// # Errors
    /// See [`PrivateKey::from_bytes`].
    pub fn from_jwk(json: &str) -> Result<Self, KeyError> {
        let obj = jwk_object(json)?;
        if obj.contains_key("oth") {
            return Err(format_err(
                "multi-prime RSA keys (JWK \"oth\") are not supported",
            ));
        }
        let n = jwk_member(&obj, "n")?;
        let e = jwk_member(&obj, "e")?;
        if !obj.contains_key("d") {
            return Err(format_err(
                "this JWK has no private part (\"d\"); a private key is needed",
            ));
        }
        let private: Vec<Zeroizing<Vec<u8>>> = ["d", "p", "q", "dp", "dq", "qi"]
            .iter()
            .map(|m| jwk_member(&obj, m).map(Zeroizing::new))
            .collect::<Result<_, _>>()?;
        let public = PublicKey::from_components(&n, &e)?;
        check_size(public.bits())?;
        let [d, p, q, dp, dq, qi] = private.as_slice() else {
            return Err(format_err("incomplete JWK"));
        };
        let components = KeyPairComponents {
            public_key: PublicKeyComponents {
                n: public.n.as_slice(),
                e: public.e.as_slice(),
            },
            d: d.as_slice(),
            p: p.as_slice(),
            q: q.as_slice(),
            dP: dp.as_slice(),
            dQ: dq.as_slice(),
            qInv: qi.as_slice(),
        };
        let pair = KeyPair::from_components(&components).map_err(|e| KeyError::Invalid {
            reason: e.description_().to_string(),
        })?;
        Ok(Self { pair, public })
    }

    fn from_pkcs8_encrypted(der: &[u8], password: Option<&[u8]>) -> Result<Self, KeyError> {
        let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der)
            .map_err(|e| format_err(format!("malformed encrypted PKCS#8 ({e})")))?;
        let Some(password) = password else {
            return Err(KeyError::PasswordMissing);
        };
        let plain = info.decrypt(password).map_err(|e| match e {
            pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed)
            | pkcs8::Error::Asn1(_) => KeyError::Password,
            pkcs8::Error::EncryptedPrivateKey(
                pkcs8::pkcs5::Error::NoPbes1CryptSupport
                | pkcs8::pkcs5::Error::UnsupportedAlgorithm { .. }
                | pkcs8::pkcs5::Error::AlgorithmParametersInvalid { .. },
            ) => format_err(
                "the key's encryption scheme is not supported (PBES1 or an unusual cipher); re-encrypt it: openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem -out key.pem",
            ),
            other => format_err(format!("encrypted PKCS#8 could not be decrypted ({other})")),
        })?;
        // A wrong password passes the padding check about once in 256 tries
        // and then yields garbage: report that as a wrong password too.
        match Self::from_pkcs8_plain(plain.as_bytes()) {
            Err(KeyError::Format { .. }) => Err(KeyError::Password),
            other => other,
        }
    }

    fn from_pkcs8_plain(der: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der)
            .map_err(|e| format_err(format!("malformed PKCS#8 ({e})")))?;
        if info.algorithm.oid != pkcs1::ALGORITHM_OID {
            let found = match info.algorithm.oid.to_string().as_str() {
                "1.2.840.10045.2.1" => "an EC key".to_string(),
                "1.3.101.112" => "an Ed25519 key".to_string(),
                "1.2.840.113549.1.1.10" => "an RSA-PSS-only key".to_string(),
                oid => format!("a key with algorithm {oid}"),
            };
            return Err(KeyError::NotRsa { found });
        }
        Self::from_pkcs1(info.private_key.as_bytes())
    }

    fn from_pkcs1(der: &[u8]) -> Result<Self, KeyError> {
        let parsed = pkcs1::RsaPrivateKeyRef::from_der(der)
            .map_err(|e| format_err(format!("malformed PKCS#1 RSA private key ({e})")))?;
        if parsed.other_prime_infos.is_some() {
            return Err(format_err("multi-prime RSA keys are not supported"));
        }
        let public = PublicKey::from_components(
            parsed.modulus.as_bytes(),
            parsed.public_exponent.as_bytes(),
        )?;
        check_size(public.bits())?;
        let pair = KeyPair::from_der(der).map_err(|e| KeyError::Invalid {
            reason: e.description_().to_string(),
        })?;
        Ok(Self { pair, public })
    }

    /// The public half: what to upload on PDND.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The `kid` (RFC 7638 thumbprint) of this key.
    pub fn kid(&self) -> &Kid {
        &self.public.kid
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.public.bits()
    }

    /// Signs `message` with RS256 (RSASSA-PKCS1-v1_5, SHA-256).
    pub(crate) fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
            .map_err(|_| KeyError::Crypto { during: "signing" })?;
        Ok(sig)
    }

    /// The private key as unencrypted PEM `PRIVATE KEY` (PKCS#8). Store it
    /// with care; prefer [`PrivateKey::to_encrypted_pkcs8_pem`].
    ///
    /// # Errors
    /// [`KeyError::Crypto`] if the cryptographic library cannot encode the key.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let der = self.pair.as_der().map_err(|_| KeyError::Crypto {
            during: "encoding the key",
        })?;
        Ok(Zeroizing::new(pem_encode("PRIVATE KEY", der.as_ref())))
    }

    /// The private key as PEM `ENCRYPTED PRIVATE KEY` (PKCS#8, PBES2 with
    /// PBKDF2-HMAC-SHA256, [`PBKDF2_ITERATIONS`] rounds, AES-256-CBC), the
    /// form OpenSSL 3 writes and reads.
    ///
    /// # Errors
    /// [`KeyError::Crypto`] if the random generator or the encryption fails.
    pub fn to_encrypted_pkcs8_pem(&self, password: &[u8]) -> Result<Zeroizing<String>, KeyError> {
        self.to_encrypted_pkcs8_pem_with(password, PBKDF2_ITERATIONS)
    }

    pub(crate) fn to_encrypted_pkcs8_pem_with(
        &self,
        password: &[u8],
        iterations: u32,
    ) -> Result<Zeroizing<String>, KeyError> {
        let der = self.pair.as_der().map_err(|_| KeyError::Crypto {
            during: "encoding the key",
        })?;
        let info =
            pkcs8::PrivateKeyInfoRef::from_der(der.as_ref()).map_err(|_| KeyError::Crypto {
                during: "encoding the key",
            })?;
        let mut salt = [0u8; 16];
        let mut iv = [0u8; 16];
        random_fill(&mut salt)
            .and_then(|()| random_fill(&mut iv))
            .map_err(|_| KeyError::Crypto {
                during: "drawing random salt",
            })?;
        let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
            iterations, &salt, iv,
        )
        .map_err(|_| KeyError::Crypto {
            during: "setting up encryption",
        })?;
        let doc = info
            .encrypt_with_params(params, password)
            .map_err(|_| KeyError::Crypto {
                during: "encrypting the key",
            })?;
        Ok(Zeroizing::new(pem_encode(
            "ENCRYPTED PRIVATE KEY",
            doc.as_bytes(),
        )))
    }
}

fn check_size(bits: usize) -> Result<(), KeyError> {
    if bits < MIN_RSA_BITS {
        Err(KeyError::TooSmall { bits })
    } else if bits > MAX_RSA_BITS {
        Err(KeyError::TooLarge { bits })
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// PEM

struct PemBlock<'a> {
    label: &'a str,
    /// From the BEGIN line to the end of the END line.
    text: &'a str,
}

/// Finds `-----BEGIN X-----` … `-----END X-----` blocks, ignoring any text
/// around them.
fn pem_blocks(text: &str) -> Vec<PemBlock<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else {
            break;
        };
        let block_end = start + end + end_marker.len();
        out.push(PemBlock {
            label,
            text: &text[offset + start..offset + block_end],
        });
        offset += block_end;
        rest = &rest[block_end..];
    }
    out
}

fn decode_pem_block(block: &PemBlock<'_>) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    // RFC 7468 is strict about line endings and trailing blanks; normalise.
    let mut clean = String::with_capacity(block.text.len() + 1);
    for line in block.text.lines() {
        clean.push_str(line.trim());
        clean.push('\n');
    }
    let clean = Zeroizing::new(clean);
    der::pem::decode_vec(clean.as_bytes())
        .map(|(_, der)| Zeroizing::new(der))
        .map_err(|e| format_err(format!("the {} PEM block is malformed ({e})", block.label)))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    // base64 lines of 64 characters, LF, as OpenSSL writes them.
    let b64 = crate::encoding::b64std(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(&String::from_utf8_lossy(chunk));
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

fn strip_bom_and_space(bytes: &[u8]) -> &[u8] {
    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------
// JWK

fn jwk_object(json: &str) -> Result<serde_json::Map<String, serde_json::Value>, KeyError> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| KeyError::Unreadable {
            reason: format!("not JSON (line {}, column {})", e.line(), e.column()),
        })?;
    let serde_json::Value::Object(mut obj) = value else {
        return Err(format_err("a JWK is a JSON object"));
    };
    if let Some(keys) = obj.get_mut("keys") {
        let serde_json::Value::Array(keys) = keys.take() else {
            return Err(format_err("\"keys\" of a JWK set must be an array"));
        };
        let count = keys.len();
        let mut keys = keys.into_iter();
        return match (keys.next(), count) {
            (Some(serde_json::Value::Object(one)), 1) => check_kty(one),
            _ => Err(format_err(format!(
                "a JWK set with {count} keys; pass exactly one key"
            ))),
        };
    }
    check_kty(obj)
}

fn check_kty(
    obj: serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Map<String, serde_json::Value>, KeyError> {
    match obj.get("kty").and_then(serde_json::Value::as_str) {
        Some("RSA") => Ok(obj),
        Some(other) => Err(KeyError::NotRsa {
            found: format!("a JWK of type {other:?}"),
        }),
        None => Err(format_err("the JWK has no \"kty\" member")),
    }
}

fn jwk_member(
    obj: &serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Result<Vec<u8>, KeyError> {
    let text = obj
        .get(name)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| format_err(format!("the JWK lacks the string member {name:?}")))?;
    b64url_decode(text)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| format_err(format!("the JWK member {name:?} is not base64url")))
}

// ---------------------------------------------------------------------------
// Minimal DER writer for SPKI export.

fn der_len(len: usize) -> Vec<u8> {
    if len < 0x80 {
        // Fits in one byte by the branch condition.
        vec![u8::try_from(len).unwrap_or(0)]
    } else {
        let bytes = len.to_be_bytes();
        let first = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        let significant = &bytes[first..];
        let mut out = vec![0x80 | u8::try_from(significant.len()).unwrap_or(0)];
        out.extend_from_slice(significant);
        out
    }
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend(der_len(content.len()));
    out.extend_from_slice(content);
    out
}

fn der_uint(be: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(be.len() + 1);
    if be.first().is_some_and(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(be);
    der_tlv(0x02, &content)
}

fn der_seq(items: &[Vec<u8>]) -> Vec<u8> {
    der_tlv(0x30, &items.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_thumbprint_example() {
        // RFC 7638 section 3.1.
        let jwk = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#;
        let k = PublicKey::from_jwk(jwk).unwrap();
        assert_eq!(
            k.kid().as_str(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert_eq!(k.bits(), 2048);
        assert!(Kid::is_well_formed(k.kid().as_str()));
    }

    #[test]
    fn kid_shape() {
        assert!(!Kid::is_well_formed(
            "ZmYxZGE2YjQtMzY2Yy00NWI5LThjNGItMDJmYmQyZGIyZmZh"
        ));
        assert!(!Kid::is_well_formed(
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X="
        ));
    }

    #[test]
    fn der_length_forms() {
        assert_eq!(der_len(5), vec![5]);
        assert_eq!(der_len(0x80), vec![0x81, 0x80]);
        assert_eq!(der_len(0x1234), vec![0x82, 0x12, 0x34]);
    }

    #[test]
    fn encrypted_export_is_readable_by_the_loader() {
        let key = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
        let pem = key.to_encrypted_pkcs8_pem_with(b"s3cret", 1000).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        assert_eq!(
            PrivateKey::from_pem(&pem, Some(b"s3cret")).unwrap().kid(),
            key.kid()
        );
        assert_eq!(
            PrivateKey::from_pem(&pem, Some(b"other")).unwrap_err(),
            KeyError::Password
        );
    }

    #[test]
    fn bit_length() {
        assert_eq!(bit_len(&[]), 0);
        assert_eq!(bit_len(&[1]), 1);
        assert_eq!(bit_len(&[0x80, 0]), 16);
    }
}
