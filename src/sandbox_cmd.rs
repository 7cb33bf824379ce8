//! `anist sandbox`: the local PDND, GovWay-like front and ANIST e-services
//! on 127.0.0.1, with a configuration file that works against them.
//!
//! The sandbox's client key is kept in the chosen directory
//! (`sandbox-client.pem`, mode 0600, created once) so that the written
//! `anist.toml` stays valid across restarts on the same port.
//!
//! For the INPS ISEE services the directory also gets, at every start
//! ([`write_isee_files`]): the sandbox CA (`sandbox-ca.pem`, trusted with
//! `ca_bundle`), the client certificate issued for the client key
//! (`client-mtls.pem`; with `sandbox-client.pem` it is the `mtls_cert` /
//! `mtls_key` of the services that want the client certificate) and the
//! synthetic operator's placeholder SPID assertion
//! (`sandbox-operator-assertion.xml`, the `assertion_file` of
//! `[operator]`). The configuration names them, with an `[inps]` section.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anist_client::config::ConfigError;
use anist_client::keys::{KeyError, PrivateKey};
use anist_client::sandbox::config_file::{self, ConfigFileError};
use anist_client::sandbox::{SandboxConfig, SandboxError, SandboxHandle};
use anist_core::ErrorCode;

use crate::keys::{generate_key_file, KeyJobError};

pub use anist_client::sandbox::config_file::{
    ASSERTION_FILE, CA_FILE, CONFIG_FILE, KEY_FILE, MTLS_CERT_FILE, SANDBOX_IPA_CATEGORY,
};

/// Why the sandbox could not be prepared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxCmdError {
    /// The directory could not be created or written.
    #[error("the sandbox directory {path} could not be written: {reason}")]
    Dir {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The client key could not be created or read.
    #[error(transparent)]
    KeyFile(#[from] KeyJobError),
    /// The client key could not be read.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The sandbox could not start.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The configuration could not be written.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl ErrorCode for SandboxCmdError {
    fn code(&self) -> &'static str {
        match self {
            SandboxCmdError::Dir { .. } => "sandbox_dir",
            SandboxCmdError::KeyFile(e) => e.code(),
            SandboxCmdError::Key(e) => e.code(),
            SandboxCmdError::Sandbox(e) => e.code(),
            SandboxCmdError::Config(e) => e.code(),
        }
    }
}

/// The sandbox client's key in `dir`, created on first use.
///
/// # Errors
/// [`SandboxCmdError`] if the directory or the key cannot be written or read.
pub fn client_key(dir: &Path) -> Result<Arc<PrivateKey>, SandboxCmdError> {
    std::fs::create_dir_all(dir).map_err(|e| SandboxCmdError::Dir {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let path = dir.join(KEY_FILE);
    if !path.exists() {
        generate_key_file(&path, 2048)?;
    }
    Ok(Arc::new(PrivateKey::from_file(&path, None)?))
}

/// The sandbox configuration for `dir`'s client key, seed `seed`, on `port`.
///
/// # Errors
/// As [`client_key`].
pub fn sandbox_config(dir: &Path, seed: u64, port: u16) -> Result<SandboxConfig, SandboxCmdError> {
    Ok(SandboxConfig::with_client_key(seed, client_key(dir)?)?.port(port))
}

/// The `anist.toml` text that calls the running sandbox's e-services with
/// the files of `dir` ([`anist_client::sandbox::config_file::config_text`]).
///
/// # Errors
/// [`SandboxCmdError::Config`] if the result does not parse back (a bug).
pub fn config_text(handle: &SandboxHandle) -> Result<String, SandboxCmdError> {
    Ok(config_file::config_text(handle, "`anist sandbox`")?)
}

/// Writes the files the configuration names, other than the client key
/// ([`config_file::write_support_files`]).
///
/// # Errors
/// [`SandboxCmdError::Dir`] if a file cannot be written.
pub fn write_isee_files(dir: &Path, handle: &SandboxHandle) -> Result<(), SandboxCmdError> {
    Ok(config_file::write_support_files(dir, handle)?)
}

/// Writes [`config_text`] to `dir/anist.toml` (mode 0600) and returns its
/// path.
///
/// # Errors
/// [`SandboxCmdError`] if it cannot be written.
pub fn write_config(dir: &Path, text: &str) -> Result<PathBuf, SandboxCmdError> {
    Ok(config_file::write_config(dir, text)?)
}

impl From<ConfigFileError> for SandboxCmdError {
    fn from(e: ConfigFileError) -> Self {
        match e {
            ConfigFileError::Config(c) => SandboxCmdError::Config(c),
            ConfigFileError::Write { path, reason } => SandboxCmdError::Dir { path, reason },
            other => SandboxCmdError::Dir {
                path: PathBuf::new(),
                reason: other.to_string(),
            },
        }
    }
}
