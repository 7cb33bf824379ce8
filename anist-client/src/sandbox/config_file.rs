//! The `anist.toml` that calls a running sandbox, and the files it names:
//! one writer for `anist sandbox` (the CLI) and `Sandbox.write_config`
//! (Python).
//!
//! The folder gets the client key ([`KEY_FILE`]), the synthetic operator's
//! placeholder SPID assertion ([`ASSERTION_FILE`], the `assertion_file` of
//! `[operator]`), and, when the sandbox has its TLS port, the sandbox CA
//! ([`CA_FILE`], `ca_bundle`) and the client certificate issued for the
//! client key ([`MTLS_CERT_FILE`]; with the key it is the `mtls_cert` /
//! `mtls_key` of the services that want it). Every file is written 0600:
//! the configuration names the operator's codice fiscale.

use std::path::{Path, PathBuf};

use anist_core::{CodeSamples, ErrorCode, ErrorKind};

use super::anist::SANDBOX_OPERATOR_LOCATION;
use super::anpr::soap::{SANDBOX_ISTAT, SANDBOX_OPERATOR};
use super::inps::{INPS_ESERVICES, SANDBOX_INPS_USER_ID};
use super::SandboxHandle;
use crate::config::{Config, ConfigError};
use crate::files::write_private;

/// The file name of the sandbox client's key in the sandbox folder.
pub const KEY_FILE: &str = "sandbox-client.pem";
/// The file name of the configuration written in the sandbox folder.
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

/// Why the sandbox's configuration could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigFileError {
    /// A file could not be written (code `sandbox_dir`).
    #[error("the sandbox folder {path} could not be written: {reason}: check that it is writable")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The sandbox has no client key to write (started without
    /// `SandboxConfig::with_default_client` or `with_client_key`).
    #[error("the sandbox has no client key: start it with a default client")]
    NoClientKey,
    /// The text does not parse back (a bug).
    #[error(transparent)]
    Config(#[from] ConfigError),
}

impl ErrorCode for ConfigFileError {
    fn code(&self) -> &'static str {
        match self {
            ConfigFileError::Write { .. } => "sandbox_dir",
            ConfigFileError::NoClientKey => "sandbox_no_client_key",
            ConfigFileError::Config(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            ConfigFileError::Write { .. } | ConfigFileError::NoClientKey => ErrorKind::Sandbox,
            ConfigFileError::Config(e) => e.kind(),
        }
    }
}

#[doc(hidden)]
impl CodeSamples for ConfigFileError {
    fn samples() -> Vec<Self> {
        let mut v = vec![
            ConfigFileError::Write {
                path: PathBuf::from("sandbox"),
                reason: "permission denied".into(),
            },
            ConfigFileError::NoClientKey,
        ];
        v.extend(
            ConfigError::samples()
                .into_iter()
                .map(ConfigFileError::Config),
        );
        v
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ConfigFileError> {
    write_private(path, bytes).map_err(|e| ConfigFileError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The `anist.toml` text that calls the running sandbox's e-services with
/// the files of [`write_support_files`] (named relative to the
/// configuration). `written_by` names the writer in the first comment.
///
/// The operator of `[operator]` is the sandbox's synthetic ISEE operator
/// ([`SandboxHandle::isee_operator`]: a synthetic codice fiscale, SPID
/// level 2), so that the ISEE Operatori services work; the ANIST services
/// send the same identity in their TrackingEvidence.
///
/// # Errors
/// [`ConfigFileError::Config`] if the result does not parse back (a bug).
pub fn config_text(handle: &SandboxHandle, written_by: &str) -> Result<String, ConfigFileError> {
    let endpoints = handle.endpoints();
    let client_id = handle
        .client_id()
        .map(|c| c.as_str().to_string())
        .unwrap_or_default();
    let tls = has_tls_files(handle);
    let operator = handle.isee_operator();
    let mut text = format!(
        "# Written by {written_by}: the local sandbox at {base}.\n\
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
         loa = \"{loa}\"\n\
         assertion_file = \"{ASSERTION_FILE}\"\n",
        cf = operator.codice_fiscale.as_str(),
        loa = operator.loa.as_str(),
    ));
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
    // What is written must be what `Config::load` reads.
    Config::from_toml_str(&text)?;
    Ok(text)
}

/// Whether the sandbox has a TLS port and a client certificate (so that
/// [`write_support_files`] writes the TLS files).
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

/// Writes the files [`config_text`] names, other than the client key, into
/// `dir`: [`ASSERTION_FILE`], and with the TLS port [`CA_FILE`] and
/// [`MTLS_CERT_FILE`] (regenerated at every start).
///
/// # Errors
/// [`ConfigFileError::Write`] if a file cannot be written.
pub fn write_support_files(dir: &Path, handle: &SandboxHandle) -> Result<(), ConfigFileError> {
    let assertion = handle
        .isee_operator()
        .assertion
        .map(|a| a.as_bytes().to_vec())
        .unwrap_or_default();
    write(&dir.join(ASSERTION_FILE), &assertion)?;
    let (Some(ca), Some((cert, _key))) = (handle.ca_pem(), handle.client_identity_pem()) else {
        return Ok(());
    };
    write(&dir.join(CA_FILE), ca.as_bytes())?;
    write(&dir.join(MTLS_CERT_FILE), cert.as_bytes())
}

/// Writes `text` to `dir/anist.toml` (mode 0600) and returns its path.
///
/// # Errors
/// [`ConfigFileError::Write`] if it cannot be written.
pub fn write_config(dir: &Path, text: &str) -> Result<PathBuf, ConfigFileError> {
    let path = dir.join(CONFIG_FILE);
    write(&path, text.as_bytes())?;
    Ok(path)
}

/// Everything at once into `dir` (created if missing): the sandbox's
/// client key ([`KEY_FILE`]), the support files and the configuration.
/// Returns the configuration's path.
///
/// # Errors
/// [`ConfigFileError`].
pub fn write_all(
    dir: &Path,
    handle: &SandboxHandle,
    written_by: &str,
) -> Result<PathBuf, ConfigFileError> {
    std::fs::create_dir_all(dir).map_err(|e| ConfigFileError::Write {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let key = handle.client_key().ok_or(ConfigFileError::NoClientKey)?;
    let pem = key.to_pkcs8_pem().map_err(|e| ConfigFileError::Write {
        path: dir.join(KEY_FILE),
        reason: e.to_string(),
    })?;
    write(&dir.join(KEY_FILE), pem.as_bytes())?;
    write_support_files(dir, handle)?;
    write_config(dir, &config_text(handle, written_by)?)
}
