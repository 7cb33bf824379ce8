//! The sandbox registry from a TOML file: the example file
//! (`examples/sandbox-registry.toml`) builds exactly
//! `Registry::default_builder`; `pem_file` paths are relative to the file;
//! bad files are refused naming the line and the field.
#![cfg(feature = "sandbox")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use anist_client::ids::PurposeId;
use anist_client::keys::PublicKey;
use anist_client::sandbox::registry::{
    Registry, State, DEFAULT_CONSUMER, ECHO_ESERVICE, ECHO_PURPOSE,
};
use anist_client::sandbox::registry_file::RegistryFileError;
use anist_core::ErrorCode;

const PUBLIC_PEM: &str = include_str!("data/test-only-rsa2048-public.pem");

fn example_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/sandbox-registry.toml")
}

fn example() -> String {
    std::fs::read_to_string(example_path()).unwrap()
}

fn default_registry() -> Registry {
    Registry::default_builder(PublicKey::from_pem(PUBLIC_PEM).unwrap())
        .build()
        .unwrap()
}

/// The example with the first `from` (in the echo e-service, which comes
/// first) replaced by `to`, and the 1-based line where it is.
fn edited(from: &str, to: &str) -> (String, usize) {
    let text = example();
    assert!(text.contains(from), "{from}");
    let at = text.find(from).unwrap();
    let line = text[..at].matches('\n').count() + 1;
    (text.replacen(from, to, 1), line)
}

fn refused(text: &str) -> RegistryFileError {
    Registry::from_toml_str(text).unwrap_err()
}

#[test]
fn the_example_is_the_default_population() {
    assert_eq!(
        Registry::from_file(example_path()).unwrap(),
        default_registry()
    );
    assert_eq!(
        Registry::from_toml_str(&example()).unwrap(),
        default_registry()
    );
}

#[test]
fn pem_files_are_relative_to_the_registry_file() {
    let dir = std::env::temp_dir().join(format!("anist-registry-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("client-public.pem"), PUBLIC_PEM).unwrap();
    let start = example().find("[[client.keys]]").unwrap();
    let text = format!(
        "{}[[client.keys]]\npem_file = \"client-public.pem\"\n",
        &example()[..start]
    );
    std::fs::write(dir.join("registry.toml"), &text).unwrap();
    assert_eq!(
        Registry::from_file(dir.join("registry.toml")).unwrap(),
        default_registry()
    );
    // From a string, the path is relative to the current directory.
    let e = refused(&text);
    assert_eq!(e.code(), "sandbox_registry_file_field");
    assert!(e.to_string().contains("could not be read"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn states_and_options_are_read() {
    let (text, _) = edited(
        "[[purpose]]\nid = \"e0c0f0f0-3c4d-4e5f-8a6b-7c8d9e0f1a2b\"\neservice = \"e0c0e0c0-1a2b-4c3d-8e4f-5a6b7c8d9e0f\"\nconsumer = \"6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11\"\nstate = \"active\"",
        "[[purpose]]\nid = \"e0c0f0f0-3c4d-4e5f-8a6b-7c8d9e0f1a2b\"\neservice = \"e0c0e0c0-1a2b-4c3d-8e4f-5a6b7c8d9e0f\"\nconsumer = \"6a1c4a0e-0d0b-4c38-9a47-3c4a1f0c2b11\"\nstate = \"inactive\"",
    );
    let text = text
        .replace("max_concurrency = 10", "max_concurrency = 0")
        .replace("voucher_lifespan = 600", "voucher_lifespan = 3600");
    let r = Registry::from_toml_str(&text).unwrap();
    let p = r.purpose(&PurposeId::parse(ECHO_PURPOSE).unwrap()).unwrap();
    assert_eq!(p.current_state(), State::Inactive);
    let d = r.eservice(ECHO_ESERVICE).unwrap().descriptor();
    assert_eq!(d.lifespan(), 3600);
    assert_eq!(d.front_profile().unwrap().concurrency_limit(), 0);
    assert_eq!(
        r.agreement(ECHO_ESERVICE, DEFAULT_CONSUMER)
            .unwrap()
            .current_state(),
        State::Active
    );
    assert_ne!(r, default_registry());
}

/// A syntax or shape error on `line` whose message contains `words`.
fn assert_syntax(e: &RegistryFileError, line: usize, words: &str) {
    assert_eq!(e.code(), "sandbox_registry_file_syntax", "{e}");
    match e {
        RegistryFileError::Syntax { line: l, message } => {
            assert_eq!(*l, Some(line), "{e}");
            assert!(message.contains(words), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains(&format!("line {line}")), "{e}");
}

#[test]
fn unknown_fields_are_named_with_their_line() {
    let (text, line) = edited("voucher_lifespan = 600", "lifespan = 600");
    assert_syntax(&refused(&text), line, "unknown field `lifespan`");
    let (text, line) = edited("backend = \"echo\"", "backend = \"echo\"\nbakend = 1");
    assert_syntax(&refused(&text), line + 1, "unknown field `bakend`");
}

#[test]
fn wrong_types_and_values_are_named_with_their_line() {
    let (text, line) = edited("daily_calls = 1000", "daily_calls = \"many\"");
    assert_syntax(&refused(&text), line, "invalid type");
    let (text, line) = edited(
        "state = \"active\"\n\n# Published",
        "state = \"paused\"\n\n# Published",
    );
    assert_syntax(&refused(&text), line, "unknown variant `paused`");
    let (text, line) = edited("backend = \"echo\"", "backend = \"anpr\"");
    assert_syntax(&refused(&text), line, "unknown variant `anpr`");
}

#[test]
fn missing_fields_and_broken_toml_are_reported() {
    let (text, _) = edited("name = \"Comune di Prova (sandbox)\"\n", "");
    let e = refused(&text);
    assert_eq!(e.code(), "sandbox_registry_file_syntax");
    assert!(e.to_string().contains("missing field `name`"), "{e}");
    let (text, line) = edited("[[agreement]]", "[[agreement]");
    let e = refused(&text);
    assert_eq!(e.code(), "sandbox_registry_file_syntax");
    assert!(e.to_string().contains(&format!("line {line}")), "{e}");
}

#[test]
fn keys_are_checked_with_their_line_and_field() {
    let (text, _) = edited("/QIDAQAB", "/QID!QAB");
    let line = text
        .find("[[client.keys]]")
        .map(|at| text[..at].matches('\n').count() + 1);
    let line = line.unwrap();
    let e = refused(&text);
    assert_eq!(e.code(), "sandbox_registry_file_field");
    match &e {
        RegistryFileError::Field { line: l, field, .. } => {
            assert_eq!(*l, line, "{e}");
            assert_eq!(field, "client[0].keys[0]");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("anist keys show"), "{e}");
    let (text, _) = edited(
        "[[client.keys]]\npem = \"\"\"",
        "[[client.keys]]\npem_file = \"x.pem\"\npem = \"\"\"",
    );
    let e = refused(&text);
    assert!(e.to_string().contains("exactly one of pem"), "{e}");
}

#[test]
fn empty_audiences_and_bad_references_are_refused() {
    let (text, line) = edited(
        "audiences = [\"https://sandbox.anist.invalid/govway/rest/in/AnistSandbox/echo/v1\"]",
        "audiences = []",
    );
    let e = refused(&text);
    assert_eq!(e.code(), "sandbox_registry_file_field");
    assert!(e.to_string().contains(&format!("line {line}")), "{e}");
    assert!(
        e.to_string().contains("eservice[0].descriptor.audiences"),
        "{e}"
    );
    // A purpose on an e-service the file does not define.
    let (text, _) = edited(
        "[[purpose]]\nid = \"e0c0f0f0-3c4d-4e5f-8a6b-7c8d9e0f1a2b\"\neservice = \"e0c0e0c0-1a2b-4c3d-8e4f-5a6b7c8d9e0f\"",
        "[[purpose]]\nid = \"e0c0f0f0-3c4d-4e5f-8a6b-7c8d9e0f1a2b\"\neservice = \"11111111-1a2b-4c3d-8e4f-5a6b7c8d9e0f\"",
    );
    let e = refused(&text);
    assert_eq!(e.code(), "sandbox_registry_dangling", "{e}");
    assert!(e
        .to_string()
        .contains("11111111-1a2b-4c3d-8e4f-5a6b7c8d9e0f"));
    let (text, _) = edited("voucher_lifespan = 600", "voucher_lifespan = 10");
    assert_eq!(refused(&text).code(), "sandbox_registry_lifespan");
}

#[test]
fn an_unreadable_file_says_so() {
    let e = Registry::from_file("/nonexistent/anist/registry.toml").unwrap_err();
    assert_eq!(e.code(), "sandbox_registry_file_read");
    assert!(e.to_string().contains("/nonexistent/anist/registry.toml"));
}
