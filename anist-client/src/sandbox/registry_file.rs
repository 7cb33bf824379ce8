//! The sandbox registry from a TOML file: tenants, e-services with their
//! descriptor and front profile, agreements, purposes and clients with
//! their public keys (a PEM file, or the PEM inline). Example:
//! `examples/sandbox-registry.toml` (the default population).
//!
//! ```toml
//! [[tenant]]
//! id = "6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11"
//! name = "Comune di Prova"
//!
//! [[eservice]]
//! id = "e0c0e0c0-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
//! producer = "0f1e2d3c-4b5a-4697-8877-665544332211"
//! [eservice.descriptor]
//! id = "e0c0d0d0-2b3c-4d4e-9f5a-6b7c8d9e0f1a"
//! audiences = ["https://sandbox.anist.invalid/govway/rest/in/AnistSandbox/echo/v1"]
//! voucher_lifespan = 600      # seconds, 60..=86400 (default 600)
//! daily_calls = 1000          # per client (default 1000)
//! state = "active"            # or "inactive" (default active)
//! [eservice.descriptor.front] # optional: published on the GovWay-like front
//! erogatore = "AnistSandbox"
//! service = "echo"
//! integrity = true            # INTEGRITY_REST_02 (default true)
//! audit = true                # AUDIT_REST_02 (default false)
//! max_concurrency = 10        # 0: no limit (default 10)
//! # version = "v2"            # path segment (default "v1")
//! # mtls = true               # only on the TLS port, with the client certificate (default false)
//! # backend = "inps-indicatore-residenti"  # echo (default), anist-verifica, …,
//! #   inps-indicatore-operatori, inps-attestazione-operatori,
//! #   inps-indicatore-residenti, inps-attestazione-residenti,
//! #   inps-indicatore-riscontro, inps-indicatore-nucleo-riscontro,
//! #   inps-indicatore, inps-attestazione, inps-v1 (SOAP: faults, bare 429),
//! #   anpr-c030, anpr-c015, anpr-c020, anpr-c021 (ANPR E002),
//! #   anpr-c030-massivo, anpr-c020-massivo (ANPR massive)
//!
//! [[client]]
//! id = "c9b73ff4-e203-4580-911b-689514d350c2"
//! consumer = "6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11"
//! purposes = ["e0c0f0f0-3c4d-4e5f-8a6b-7c8d9e0f1a2b"]
//! keys = [{ pem_file = "client-public.pem" }]   # or { pem = "-----BEGIN PUBLIC KEY-----…" }
//! ```
//!
//! Plus `[[agreement]]` (`eservice`, `consumer`, `state`) and `[[purpose]]`
//! (`id`, `eservice`, `consumer`, `state`). Unknown fields are errors.
//! Errors give the line and the field; references are then checked as by
//! [`RegistryBuilder::build`].

use std::path::{Path, PathBuf};

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use serde::Deserialize;
use toml::Spanned;

use super::registry::{
    Agreement, Backend, Client, Descriptor, EService, Front, Purpose, Registry, RegistryBuilder,
    RegistryError, State, Tenant,
};
use crate::keys::PublicKey;

/// Why a registry file was not loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryFileError {
    /// The file could not be read.
    #[error("the sandbox registry file {path} could not be read ({kind}): check the path and its permissions")]
    Read {
        /// The path.
        path: String,
        /// The I/O error kind.
        kind: std::io::ErrorKind,
    },
    /// Not TOML, or not the registry's shape (unknown or missing field,
    /// wrong type).
    #[error("sandbox registry file{}: {message}", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Syntax {
        /// The line (1-based), when known.
        line: Option<usize>,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A field whose value cannot be used.
    #[error("sandbox registry file, line {line}, {field}: {message}")]
    Field {
        /// The line (1-based).
        line: usize,
        /// The field, e.g. `client[0].keys[1]`.
        field: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The entries do not hold together (dangling reference, duplicate id,
    /// lifespan out of range…).
    #[error(transparent)]
    Invalid(#[from] RegistryError),
}

impl ErrorCode for RegistryFileError {
    fn code(&self) -> &'static str {
        match self {
            RegistryFileError::Read { .. } => "sandbox_registry_file_read",
            RegistryFileError::Syntax { .. } => "sandbox_registry_file_syntax",
            RegistryFileError::Field { .. } => "sandbox_registry_file_field",
            RegistryFileError::Invalid(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            RegistryFileError::Read { .. }
            | RegistryFileError::Syntax { .. }
            | RegistryFileError::Field { .. } => ErrorKind::Sandbox,
            RegistryFileError::Invalid(e) => e.kind(),
        }
    }
}

#[doc(hidden)]
impl CodeSamples for RegistryFileError {
    fn samples() -> Vec<Self> {
        let mut v = vec![
            RegistryFileError::Read {
                path: "registry.toml".into(),
                kind: std::io::ErrorKind::NotFound,
            },
            RegistryFileError::Syntax {
                line: Some(1),
                message: "unknown field `tenants`".into(),
            },
            RegistryFileError::Field {
                line: 3,
                field: "client[0].keys[0]".into(),
                message: "not a PEM public key".into(),
            },
        ];
        v.extend(
            RegistryError::samples()
                .into_iter()
                .map(RegistryFileError::Invalid),
        );
        v
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    tenant: Vec<TenantSpec>,
    #[serde(default)]
    eservice: Vec<EServiceSpec>,
    #[serde(default)]
    agreement: Vec<AgreementSpec>,
    #[serde(default)]
    purpose: Vec<PurposeSpec>,
    #[serde(default)]
    client: Vec<ClientSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantSpec {
    id: String,
    name: String,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum StateSpec {
    Active,
    Inactive,
}

impl From<StateSpec> for State {
    fn from(s: StateSpec) -> Self {
        match s {
            StateSpec::Active => State::Active,
            StateSpec::Inactive => State::Inactive,
        }
    }
}

/// A backend by its name (`echo`, `anist-verifica`, …: the sandbox's
/// catalogue, [`super::services`]).
struct BackendSpec(Backend);

impl<'de> Deserialize<'de> for BackendSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        super::services::backend_named(&name)
            .map(BackendSpec)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, super::services::BACKEND_NAMES))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EServiceSpec {
    id: String,
    producer: String,
    descriptor: DescriptorSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DescriptorSpec {
    id: String,
    audiences: Spanned<Vec<String>>,
    voucher_lifespan: Option<i64>,
    daily_calls: Option<u64>,
    state: Option<StateSpec>,
    async_exchange: Option<bool>,
    front: Option<FrontSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontSpec {
    erogatore: String,
    service: String,
    version: Option<String>,
    mtls: Option<bool>,
    integrity: Option<bool>,
    audit: Option<bool>,
    max_concurrency: Option<u32>,
    audit_claims: Option<Vec<String>>,
    backend: Option<BackendSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgreementSpec {
    eservice: String,
    consumer: String,
    state: Option<StateSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PurposeSpec {
    id: String,
    eservice: String,
    consumer: String,
    state: Option<StateSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientSpec {
    id: String,
    consumer: String,
    #[serde(default)]
    purposes: Vec<String>,
    #[serde(default)]
    keys: Vec<Spanned<KeySpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySpec {
    pem: Option<String>,
    pem_file: Option<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

impl Registry {
    /// Reads a registry from TOML text; `pem_file` paths are relative to
    /// the current directory.
    ///
    /// # Errors
    /// [`RegistryFileError`] naming the line and field.
    pub fn from_toml_str(text: &str) -> Result<Self, RegistryFileError> {
        from_toml(text, None)
    }

    /// Reads a registry from a TOML file; `pem_file` paths are relative to
    /// the file's directory.
    ///
    /// # Errors
    /// [`RegistryFileError`] naming the line and field.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, RegistryFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| RegistryFileError::Read {
            path: path.display().to_string(),
            kind: e.kind(),
        })?;
        from_toml(&text, path.parent())
    }
}

fn from_toml(text: &str, base: Option<&Path>) -> Result<Registry, RegistryFileError> {
    let spec: FileSpec = toml::from_str(text).map_err(|e| RegistryFileError::Syntax {
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let mut b: RegistryBuilder = Registry::builder();
    for t in &spec.tenant {
        b = b.tenant(Tenant::new(&t.id, &t.name));
    }
    for (i, e) in spec.eservice.iter().enumerate() {
        let d = &e.descriptor;
        let audiences = d.audiences.get_ref();
        let Some((first, rest)) = audiences.split_first() else {
            return Err(RegistryFileError::Field {
                line: line_of(text, d.audiences.span().start),
                field: format!("eservice[{i}].descriptor.audiences"),
                message: "give at least one audience (the voucher aud)".into(),
            });
        };
        let mut desc = Descriptor::new(&d.id, first);
        for a in rest {
            desc = desc.audience(a);
        }
        if let Some(s) = d.voucher_lifespan {
            desc = desc.voucher_lifespan(s);
        }
        if let Some(n) = d.daily_calls {
            desc = desc.daily_calls(n);
        }
        if let Some(s) = d.state {
            desc = desc.state(s.into());
        }
        if let Some(a) = d.async_exchange {
            desc = desc.async_exchange(a);
        }
        if let Some(f) = &d.front {
            let mut front = Front::new(&f.erogatore, &f.service);
            if let Some(v) = &f.version {
                front = front.version(v);
            }
            if let Some(on) = f.mtls {
                front = front.mtls(on);
            }
            if let Some(on) = f.integrity {
                front = front.integrity(on);
            }
            if let Some(on) = f.audit {
                front = front.audit(on);
            }
            if let Some(n) = f.max_concurrency {
                front = front.max_concurrency(n);
            }
            if let Some(claims) = &f.audit_claims {
                let claims: Vec<&str> = claims.iter().map(String::as_str).collect();
                front = front.audit_claims(&claims);
            }
            if let Some(BackendSpec(b)) = &f.backend {
                front = front.backend(b.clone());
            }
            desc = desc.front(front);
        }
        b = b.eservice(EService::new(&e.id, &e.producer, desc));
    }
    for a in &spec.agreement {
        let mut ag = Agreement::new(&a.eservice, &a.consumer);
        if let Some(s) = a.state {
            ag = ag.state(s.into());
        }
        b = b.agreement(ag);
    }
    for p in &spec.purpose {
        let mut pu = Purpose::new(&p.id, &p.eservice, &p.consumer);
        if let Some(s) = p.state {
            pu = pu.state(s.into());
        }
        b = b.purpose(pu);
    }
    for (i, c) in spec.client.iter().enumerate() {
        let mut client = Client::new(&c.id, &c.consumer);
        for (k, key) in c.keys.iter().enumerate() {
            let line = line_of(text, key.span().start);
            let field = format!("client[{i}].keys[{k}]");
            client = client.key(load_key(key.get_ref(), base, line, &field)?);
        }
        for p in &c.purposes {
            client = client.purpose(p);
        }
        b = b.client(client);
    }
    Ok(b.build()?)
}

fn load_key(
    spec: &KeySpec,
    base: Option<&Path>,
    line: usize,
    field: &str,
) -> Result<PublicKey, RegistryFileError> {
    let err = |message: String| RegistryFileError::Field {
        line,
        field: field.to_string(),
        message,
    };
    let pem = match (&spec.pem, &spec.pem_file) {
        (Some(pem), None) => pem.clone(),
        (None, Some(file)) => {
            let path = match base {
                Some(dir) if Path::new(file).is_relative() => dir.join(file),
                _ => PathBuf::from(file),
            };
            std::fs::read_to_string(&path).map_err(|e| {
                err(format!(
                    "the public key file {} could not be read ({})",
                    path.display(),
                    e.kind()
                ))
            })?
        }
        _ => {
            return Err(err(
                "give exactly one of pem (the PEM text) and pem_file (a path)".into(),
            ))
        }
    };
    PublicKey::from_pem(&pem).map_err(|e| {
        err(format!(
            "not a public key PEM ({e}): give the PUBLIC KEY printed by `anist keys show`"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
            let _ = Registry::from_toml_str(&text);
        }

        #[test]
        fn arbitrary_tables_never_panic(
            id in "[0-9a-f-]{0,40}",
            n in any::<i64>(),
            state in "[a-z]{0,10}",
        ) {
            let text = format!(
                "[[eservice]]\nid = \"{id}\"\nproducer = \"{id}\"\n[eservice.descriptor]\nid = \"{id}\"\naudiences = [\"a\"]\nvoucher_lifespan = {n}\nstate = \"{state}\"\n"
            );
            prop_assert!(Registry::from_toml_str(&text).is_err());
        }
    }

    #[test]
    fn lines_count_from_one() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 99), 3);
    }
}
