//! `anist sandbox`: the local PDND, GovWay-like front and ANIST e-services
//! on 127.0.0.1, with a configuration file that works against them.
//!
//! The sandbox's client key is kept in the chosen directory
//! (`sandbox-client.pem`, mode 0600, created once) so that the written
//! `anist.toml` stays valid across restarts on the same port.
//!
//! For the INPS ISEE services the directory also gets, at every start
//! (`anist_client::sandbox::config_file::write_support_files`): the
//! sandbox CA (`sandbox-ca.pem`, trusted with `ca_bundle`), the client certificate issued for the client key
//! (`client-mtls.pem`; with `sandbox-client.pem` it is the `mtls_cert` /
//! `mtls_key` of the services that want the client certificate) and the
//! synthetic operator's placeholder SPID assertion
//! (`sandbox-operator-assertion.xml`, the `assertion_file` of
//! `[operator]`). The configuration names them, with an `[inps]` section.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anist_client::keys::{KeyError, PrivateKey};
use anist_client::sandbox::config_file::ConfigFileError;
use anist_client::sandbox::{SandboxConfig, SandboxError};
use anist_core::{ErrorCode, ErrorKind};

use crate::cli::keys::{generate_key_file, KeyJobError};

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
    /// The configuration or a file it names could not be written.
    #[error(transparent)]
    ConfigFile(#[from] ConfigFileError),
}

impl ErrorCode for SandboxCmdError {
    fn code(&self) -> &'static str {
        match self {
            SandboxCmdError::Dir { .. } => "sandbox_dir",
            SandboxCmdError::KeyFile(e) => e.code(),
            SandboxCmdError::Key(e) => e.code(),
            SandboxCmdError::Sandbox(e) => e.code(),
            SandboxCmdError::ConfigFile(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            SandboxCmdError::Dir { .. } => ErrorKind::Sandbox,
            SandboxCmdError::KeyFile(KeyJobError::Key(e)) | SandboxCmdError::Key(e) => e.kind(),
            SandboxCmdError::KeyFile(KeyJobError::Exists { .. } | KeyJobError::Write { .. }) => {
                ErrorKind::Config
            }
            SandboxCmdError::Sandbox(e) => e.kind(),
            SandboxCmdError::ConfigFile(e) => e.kind(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let dir = SandboxCmdError::Dir {
            path: PathBuf::from("x"),
            reason: "denied".into(),
        };
        assert_eq!(dir.kind(), ErrorKind::Sandbox);
        let exists = SandboxCmdError::KeyFile(KeyJobError::Exists {
            path: "k.pem".into(),
        });
        assert_eq!(
            (exists.code(), exists.kind()),
            ("key_exists", ErrorKind::Config)
        );
        let write = SandboxCmdError::KeyFile(KeyJobError::Write {
            path: "k.pem".into(),
            source: std::io::Error::other("full"),
        });
        assert_eq!(write.kind(), ErrorKind::Config);
        let key = SandboxCmdError::Key(KeyError::Password);
        assert_eq!(key.kind(), KeyError::Password.kind());
    }
}
