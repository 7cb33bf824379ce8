//! `anist sandbox`: the local PDND, GovWay-like front and ANIST e-services
//! on 127.0.0.1, with a configuration file that works against them.
//!
//! The sandbox's client key is kept in the chosen directory
//! (`sandbox-client.pem`, mode 0600, created once) so that the written
//! `anist.toml` stays valid across restarts on the same port.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anist_client::config::{Config, ConfigError};
use anist_client::keys::{KeyError, PrivateKey};
use anist_client::sandbox::anist::{SANDBOX_OPERATOR, SANDBOX_OPERATOR_LOCATION};
use anist_client::sandbox::{SandboxConfig, SandboxError, SandboxHandle};
use anist_core::ErrorCode;

use crate::keys::{generate_key_file, KeyJobError};

/// The file name of the sandbox client's key in the sandbox directory.
pub const KEY_FILE: &str = "sandbox-client.pem";
/// The file name of the configuration written in the sandbox directory.
pub const CONFIG_FILE: &str = "anist.toml";

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
/// the key file of `dir` (written relative to the configuration).
///
/// # Errors
/// [`SandboxCmdError::Config`] if the result does not parse back (a bug).
pub fn config_text(handle: &SandboxHandle) -> Result<String, SandboxCmdError> {
    let endpoints = handle.endpoints();
    let client_id = handle
        .client_id()
        .map(|c| c.as_str().to_string())
        .unwrap_or_default();
    let mut text = format!(
        "# Written by `anist sandbox`: the local sandbox at {base}.\n\
         # Check it with `anist config check --config <this file>`.\n\
         environment = \"sandbox\"\n\
         token_url = \"{token}\"\n\
         jwks_url = \"{jwks}\"\n\
         client_id = \"{client_id}\"\n\
         key = \"{KEY_FILE}\"\n\n\
         [operator]\n\
         user_id = \"{SANDBOX_OPERATOR}\"\n\
         user_location = \"{SANDBOX_OPERATOR_LOCATION}\"\n",
        base = handle.base_url(),
        token = endpoints.token_url(),
        jwks = endpoints.jwks_url(),
    );
    for (name, service) in handle.services() {
        let p = service.profile();
        text.push_str(&format!(
            "\n[services.{name}]\nurl = \"{}\"\naudience = \"{}\"\npurpose = \"{}\"\nintegrity = {}\naudit = {}\n",
            p.url(),
            p.audience(),
            service.purpose().as_str(),
            p.has_integrity(),
            p.has_audit(),
        ));
    }
    // What is printed must be what `anist caivano --config` reads.
    Config::from_toml_str(&text)?;
    Ok(text)
}

/// Writes [`config_text`] to `dir/anist.toml` and returns its path.
///
/// # Errors
/// [`SandboxCmdError`] if it cannot be written.
pub fn write_config(dir: &Path, text: &str) -> Result<PathBuf, SandboxCmdError> {
    let path = dir.join(CONFIG_FILE);
    std::fs::write(&path, text).map_err(|e| SandboxCmdError::Dir {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(path)
}
