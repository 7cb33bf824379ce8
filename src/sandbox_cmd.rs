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

use anist_client::config::{Config, ConfigError};
use anist_client::keys::{KeyError, PrivateKey};
use anist_client::sandbox::anist::SANDBOX_OPERATOR_LOCATION;
use anist_client::sandbox::anpr_soap::{SANDBOX_ISTAT, SANDBOX_OPERATOR};
use anist_client::sandbox::inps::{INPS_ESERVICES, SANDBOX_INPS_USER_ID};
use anist_client::sandbox::{SandboxConfig, SandboxError, SandboxHandle};
use anist_core::ErrorCode;

use crate::keys::{generate_key_file, KeyJobError};

/// The file name of the sandbox client's key in the sandbox directory.
pub const KEY_FILE: &str = "sandbox-client.pem";
/// The file name of the configuration written in the sandbox directory.
pub const CONFIG_FILE: &str = "anist.toml";
/// The sandbox CA certificate (PEM), written at every start: the
/// configuration's `ca_bundle`.
pub const CA_FILE: &str = "sandbox-ca.pem";
/// The client certificate (PEM) issued by the sandbox CA for the client
/// key, written at every start: the `mtls_cert` of the INPS services that
/// want it (their `mtls_key` is [`KEY_FILE`]).
pub const MTLS_CERT_FILE: &str = "client-mtls.pem";
/// The synthetic operator's placeholder SPID assertion: the
/// `assertion_file` of `[operator]` (the ISEE Operatori services).
pub const ASSERTION_FILE: &str = "sandbox-operator-assertion.xml";
/// The IPA category of the sandbox's calling ente (Roma).
pub const SANDBOX_IPA_CATEGORY: &str = "comune_capoluogo";

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
/// the files of `dir` (written relative to the configuration: the client
/// key and, with TLS, those of [`write_isee_files`]).
///
/// The operator of `[operator]` is the sandbox's synthetic ISEE operator
/// (`SandboxHandle::isee_operator`: a synthetic codice fiscale, SPID level
/// 2), so that the ISEE Operatori services work; the ANIST services send
/// the same identity in their TrackingEvidence.
///
/// # Errors
/// [`SandboxCmdError::Config`] if the result does not parse back (a bug).
pub fn config_text(handle: &SandboxHandle) -> Result<String, SandboxCmdError> {
    let endpoints = handle.endpoints();
    let client_id = handle
        .client_id()
        .map(|c| c.as_str().to_string())
        .unwrap_or_default();
    let tls = has_tls_files(handle);
    let operator = handle.isee_operator();
    let mut text = format!(
        "# Written by `anist sandbox`: the local sandbox at {base}.\n\
         # Check it with `anist config check --config <this file>`.\n\
         environment = \"sandbox\"\n\
         token_url = \"{token}\"\n\
         jwks_url = \"{jwks}\"\n\
         client_id = \"{client_id}\"\n\
         key = \"{KEY_FILE}\"\n",
        base = handle.base_url(),
        token = endpoints.token_url(),
        jwks = endpoints.jwks_url(),
    );
    if tls {
        text.push_str(&format!(
            "# The sandbox CA (regenerated at every start) for its TLS port.\n\
             ca_bundle = \"{CA_FILE}\"\n"
        ));
    }
    text.push_str(&format!(
        "\n# The synthetic operator: a synthetic codice fiscale, SPID level 2 (LoA3)\n\
         # and a synthetic SAML assertion (only the ISEE Operatori services need them).\n\
         [operator]\n\
         user_id = \"{cf}\"\n\
         user_location = \"{SANDBOX_OPERATOR_LOCATION}\"\n\
         loa = \"{loa}\"\n",
        cf = operator.codice_fiscale.as_str(),
        loa = operator.loa.as_str(),
    ));
    // The Operatori services need the assertion, not the TLS port.
    text.push_str(&format!("assertion_file = \"{ASSERTION_FILE}\"\n"));
    text.push_str(&format!(
        "\n# The ente asking the INPS ISEE services (Roma, a capoluogo).\n\
         [inps]\n\
         ipa_category = \"{SANDBOX_IPA_CATEGORY}\"\n\
         user_id = \"{SANDBOX_INPS_USER_ID}\"\n"
    ));
    if let (true, Some(url)) = (tls, handle.anpr_soap_url()) {
        // The Comune's ANPR SOAP channel (search by document): the same
        // client certificate, the sandbox Comune and operator.
        text.push_str(&format!(
            "\n# The Comune's ANPR SOAP channel (service 3002, search by document).\n\
             [anpr_soap]\n\
             url = \"{url}\"\n\
             operator_id = \"{SANDBOX_OPERATOR}\"\n\
             codice_istat = \"{SANDBOX_ISTAT}\"\n\
             cert = \"{MTLS_CERT_FILE}\"\n\
             key = \"{KEY_FILE}\"\n\
             ca = \"{CA_FILE}\"\n"
        ));
    }
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
        if tls && needs_client_certificate(handle, &name) {
            text.push_str(&format!(
                "mtls_cert = \"{MTLS_CERT_FILE}\"\nmtls_key = \"{KEY_FILE}\"\n"
            ));
        }
    }
    // What is printed must be what `anist caivano --config` reads.
    Config::from_toml_str(&text)?;
    Ok(text)
}

/// Whether the sandbox has a TLS port and a client certificate (so that
/// [`write_isee_files`] writes the TLS files).
fn has_tls_files(handle: &SandboxHandle) -> bool {
    handle.ca_pem().is_some() && handle.client_identity_pem().is_some()
}

/// Whether the session service `name` is an INPS service that wants the
/// client certificate.
fn needs_client_certificate(handle: &SandboxHandle, name: &str) -> bool {
    INPS_ESERVICES
        .iter()
        .any(|s| s.session_name == name && handle.inps_requires_mtls(s.eservice))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), SandboxCmdError> {
    anist_client::files::write_private(path, bytes).map_err(|e| SandboxCmdError::Dir {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Writes the files the ISEE services of [`config_text`] read into `dir`:
/// [`CA_FILE`], [`MTLS_CERT_FILE`] and [`ASSERTION_FILE`] (nothing
/// without the TLS port). The client certificate's key is the client key
/// ([`KEY_FILE`], already there).
///
/// # Errors
/// [`SandboxCmdError::Dir`] if a file cannot be written.
pub fn write_isee_files(dir: &Path, handle: &SandboxHandle) -> Result<(), SandboxCmdError> {
    let assertion = handle
        .isee_operator()
        .assertion
        .map(|a| a.as_bytes().to_vec())
        .unwrap_or_default();
    write_file(&dir.join(ASSERTION_FILE), &assertion)?;
    let (Some(ca), Some((cert, _key))) = (handle.ca_pem(), handle.client_identity_pem()) else {
        return Ok(());
    };
    write_file(&dir.join(CA_FILE), ca.as_bytes())?;
    write_file(&dir.join(MTLS_CERT_FILE), cert.as_bytes())
}

/// Writes [`config_text`] to `dir/anist.toml` and returns its path.
///
/// # Errors
/// [`SandboxCmdError`] if it cannot be written.
pub fn write_config(dir: &Path, text: &str) -> Result<PathBuf, SandboxCmdError> {
    let path = dir.join(CONFIG_FILE);
    // It names the operator (a codice fiscale): private, mode 0600.
    anist_client::files::write_private(&path, text.as_bytes()).map_err(|e| {
        SandboxCmdError::Dir {
            path: path.clone(),
            reason: e.to_string(),
        }
    })?;
    Ok(path)
}
