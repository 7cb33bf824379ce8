//! `anist config check` end to end, on configurations written next to the
//! published test-only keys of anist-client/tests/data (password
//! `test-only-password`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

const PASSWORD: &str = "test-only-password";
const OPERATOR_ID: &str = "operatore-riservato-9";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("anist-client/tests/data")
        .join(name)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anist-config-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes `anist.toml` in a fresh directory with a copy of `key` as
/// `keys/client.pem` (a relative path), and `purpose` for the service.
fn write_config(name: &str, key: &str, purpose: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::create_dir_all(dir.join("keys")).expect("keys dir");
    std::fs::copy(data(key), dir.join("keys/client.pem")).expect("copy key");
    let file = dir.join("anist.toml");
    std::fs::write(
        &file,
        format!(
            r#"environment = "collaudo"
client_id = "c9b73ff4-e203-4580-911b-689514d350c2"
key = "keys/client.pem"

[operator]
user_id = "{OPERATOR_ID}"
user_location = "c_h501"

[services.anist-verifica]
url = "https://modipa-val.istruzione.it/govway/rest/in/MIM-INTRA-PDND/frequenze/v1"
purpose = "{purpose}"
audit = true
"#
        ),
    )
    .expect("write config");
    file
}

fn check(file: &Path, password: Option<&str>) -> Output {
    common::anist_with(
        &[
            "config",
            "check",
            "--config",
            file.to_str().expect("utf-8 path"),
        ],
        b"",
        password,
    )
}

fn out(o: &Output) -> String {
    common::text(&o.stdout)
}

#[test]
fn a_good_configuration_passes() {
    let file = write_config(
        "good",
        "test-only-rsa2048-pkcs8.pem",
        "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e",
    );
    let o = check(&file, None);
    let text = out(&o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}{}",
        common::text(&o.stderr)
    );
    assert!(text.contains("ok   key_size"), "{text}");
    assert!(text.contains("hsKvlQNC8klZuDu1dh0IqOmSXPFPHypZaunWVvr3q7w"));
    assert!(
        text.contains("ok   preflight [services.anist-verifica]"),
        "{text}"
    );
    assert!(text.contains("0 failed"), "{text}");
    assert!(!text.contains("fail "), "{text}");
    assert!(!text.contains(OPERATOR_ID), "{text}");
    assert!(!text.contains("PRIVATE KEY"));
}

#[test]
fn an_encrypted_key_needs_its_password() {
    let file = write_config(
        "encrypted",
        "test-only-rsa2048-pkcs8-encrypted.pem",
        "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e",
    );
    let o = check(&file, None);
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("fail key_loads [key]"), "{text}");
    assert!(text.contains("ANIST_KEY_PASSWORD"), "{text}");
    let o = check(&file, Some(PASSWORD));
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    assert!(!out(&o).contains(PASSWORD));
}

#[test]
fn a_bad_configuration_fails_naming_the_rule() {
    let file = write_config("bad", "test-only-rsa2048-pkcs8.pem", "la-mia-finalita");
    let o = check(&file, None);
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains("fail purpose_uuid [services.anist-verifica.purpose]"),
        "{text}"
    );
    assert!(text.contains("fix: "), "{text}");
    assert!(text.contains("1 failed"), "{text}");
    // A key too small for PDND.
    let file = write_config(
        "small",
        "test-only-rsa1024-pkcs8.pem",
        "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e",
    );
    let o = check(&file, None);
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("fail key_size"), "{}", out(&o));
}

#[test]
fn a_misspelt_field_is_named() {
    let file = write_config(
        "typo",
        "test-only-rsa2048-pkcs8.pem",
        "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e",
    );
    let text = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, text.replace("audit = true", "audti = true")).expect("write");
    let o = check(&file, None);
    let text = out(&o);
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(text.contains("fail config_parse"), "{text}");
    assert!(text.contains("audti"), "{text}");
    assert!(text.contains("[services.anist-verifica]"), "{text}");
}

#[test]
fn environment_overrides_apply() {
    let file = write_config("env", "test-only-rsa2048-pkcs8.pem", "la-mia-finalita");
    let o = Command::new(env!("CARGO_BIN_EXE_anist"))
        .args(["config", "check"])
        .env_remove("ANIST_KEY_PASSWORD")
        .env("ANIST_CONFIG", &file)
        .env(
            "ANIST_SERVICES__ANIST_VERIFICA__PURPOSE",
            "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e",
        )
        .output()
        .expect("run anist");
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = Command::new(env!("CARGO_BIN_EXE_anist"))
        .args(["config", "check"])
        .env("ANIST_CONFIG", &file)
        .env("ANIST_ENVIRONMENT", "staging")
        .output()
        .expect("run anist");
    assert_eq!(o.status.code(), Some(1));
    assert!(out(&o).contains("fail config_env"), "{}", out(&o));
    assert!(out(&o).contains("ANIST_ENVIRONMENT"));
}

#[test]
fn an_unreadable_file_is_a_usage_error() {
    let dir = temp_dir("missing");
    let o = check(&dir.join("nope.toml"), None);
    assert_eq!(o.status.code(), Some(2));
    let err = common::text(&o.stderr);
    assert!(err.contains("config_read"), "{err}");
    assert!(err.contains("nope.toml"), "{err}");
    // The default is ./anist.toml.
    let o = Command::new(env!("CARGO_BIN_EXE_anist"))
        .args(["config", "check"])
        .env_remove("ANIST_CONFIG")
        .current_dir(&dir)
        .output()
        .expect("run anist");
    assert_eq!(o.status.code(), Some(2));
    assert!(common::text(&o.stderr).contains("anist.toml"));
    // A usage error.
    let o = common::anist(&["config", "check", "--nope"], b"");
    assert_eq!(o.status.code(), Some(2));
}
