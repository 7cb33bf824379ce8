//! The `anist keys` jobs: create the RSA key pair to register on PDND, and
//! show the public key and `kid` of an existing one.
//!
//! ```no_run
//! use anist::cli::keys::{generate_key_file, describe_key_file};
//! let created = generate_key_file("client-key.pem".as_ref(), 2048).unwrap();
//! let again = describe_key_file("client-key.pem".as_ref(), None).unwrap();
//! assert_eq!(created.kid, again.kid);
//! ```

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

use anist_client::keys::{KeyError, PrivateKey, RsaBits};
use anist_core::ErrorCode;

/// What to upload to PDND for a key: never the private part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySummary {
    /// The RFC 7638 thumbprint PDND shows as the key's `kid` (43 characters).
    pub kid: String,
    /// The modulus size in bits.
    pub bits: usize,
    /// The public key, PEM (SubjectPublicKeyInfo): the text to upload to PDND.
    pub public_pem: String,
}

/// Errors of the key jobs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyJobError {
    /// Reading, parsing, generating or encoding the key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The output file exists: keys are never overwritten.
    #[error("{path} exists: choose another file name (an existing key is never overwritten)")]
    Exists {
        /// The path given.
        path: String,
    },
    /// Writing the file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The path given.
        path: String,
        /// The I/O error.
        source: io::Error,
    },
}

impl KeyJobError {
    /// A stable code for scripts (the key codes of `anist_client::keys`, or
    /// `key_exists`, `key_write`).
    pub fn code(&self) -> &'static str {
        match self {
            KeyJobError::Key(e) => e.code(),
            KeyJobError::Exists { .. } => "key_exists",
            KeyJobError::Write { .. } => "key_write",
        }
    }
}

fn summary(key: &PrivateKey) -> KeySummary {
    KeySummary {
        kid: key.kid().as_str().to_owned(),
        bits: key.bits(),
        public_pem: key.public_key().to_pem(),
    }
}

/// Generates an RSA key of `bits` (2048, 3072 or 4096) and writes it, PEM
/// PKCS#8, to `path`, created with mode 0600 on Unix. Refuses to overwrite.
pub fn generate_key_file(path: &Path, bits: usize) -> Result<KeySummary, KeyJobError> {
    let key = PrivateKey::generate(RsaBits::from_bits(bits)?)?;
    let pem = key.to_pkcs8_pem()?;
    let shown = path.display().to_string();
    let mut file =
        anist_client::files::open_private(path, OpenOptions::new().write(true).create_new(true))
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => KeyJobError::Exists {
                    path: shown.clone(),
                },
                _ => KeyJobError::Write {
                    path: shown.clone(),
                    source: e,
                },
            })?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyJobError::Write {
            path: shown,
            source,
        })?;
    Ok(summary(&key))
}

/// Reads a private key (PEM PKCS#1 / PKCS#8, encrypted PKCS#8 with
/// `password`, DER or JWK) and describes its public part.
pub fn describe_key_file(path: &Path, password: Option<&[u8]>) -> Result<KeySummary, KeyJobError> {
    Ok(summary(&PrivateKey::from_file(path, password)?))
}
