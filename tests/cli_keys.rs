//! `anist keys new` / `anist keys show` end to end. Keys are generated here or
//! are the published test-only keys of anist-client/tests/data.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

fn anist(args: &[&str], password: Option<&str>) -> Output {
    common::anist_with(args, b"", password)
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn kid_of(text: &str) -> &str {
    text.lines()
        .find_map(|l| l.strip_prefix("kid:  "))
        .expect("a kid line")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anist-keys-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("anist-client/tests/data")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn new_writes_a_private_key_0600_and_prints_the_public_part() {
    let dir = temp_dir("new");
    let key = dir.join("client.pem");
    let key_s = key.display().to_string();
    let o = anist(&["keys", "new", "--out", &key_s], None);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let printed = out(&o);
    assert_eq!(kid_of(&printed).len(), 43);
    assert!(printed.contains("bits: 2048"));
    assert!(printed.contains("-----BEGIN PUBLIC KEY-----"));
    assert!(!printed.contains("PRIVATE"));
    let written = std::fs::read_to_string(&key).expect("key file");
    assert!(written.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // show reads it back with the same kid.
    let shown = anist(&["keys", "show", &key_s], None);
    assert_eq!(kid_of(&out(&shown)), kid_of(&printed));
    // Never overwritten.
    let again = anist(&["keys", "new", "--out", &key_s], None);
    assert_eq!(again.status.code(), Some(2));
    assert!(err(&again).contains("key_exists"));
    assert_eq!(std::fs::read_to_string(&key).expect("key file"), written);
    // Unsupported size.
    let small = dir.join("small.pem").display().to_string();
    let o = anist(&["keys", "new", "--bits", "1024", "--out", &small], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("key_size_unsupported"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn show_reads_every_container_and_the_password_from_the_environment() {
    let expected = std::fs::read_to_string(data("test-only-rsa2048.kid")).expect("kid file");
    for file in ["test-only-rsa2048-pkcs1.pem", "test-only-rsa2048-pkcs8.der"] {
        let o = anist(&["keys", "show", &data(file)], None);
        assert_eq!(kid_of(&out(&o)), expected.trim(), "{file}");
    }
    let enc = data("test-only-rsa2048-pkcs8-encrypted.pem");
    let o = anist(&["keys", "show", &enc], Some("test-only-password"));
    assert_eq!(kid_of(&out(&o)), expected.trim());
    let o = anist(&["keys", "show", &enc], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("key_password_missing"), "{}", err(&o));
    let o = anist(&["keys", "show", &enc], Some("wrong"));
    assert!(err(&o).contains("key_password"), "{}", err(&o));
    let o = anist(
        &["keys", "show", &data("test-only-rsa1024-pkcs8.pem")],
        None,
    );
    assert!(err(&o).contains("key_too_small"), "{}", err(&o));
}
