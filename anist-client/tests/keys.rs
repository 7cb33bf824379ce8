//! Key loading, thumbprints, export and generation, against OpenSSL-made
//! test-only keys in tests/data.

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use anist_client::keys::{KeyError, PrivateKey, PublicKey, RsaBits};
use anist_core::ErrorCode;

const PASSWORD: &[u8] = b"test-only-password";

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn text(name: &str) -> String {
    String::from_utf8(data(name)).unwrap()
}

fn expected_kid() -> String {
    text("test-only-rsa2048.kid").trim().to_string()
}

#[test]
fn every_container_of_the_same_key_gives_the_same_kid() {
    let kid = expected_kid();
    let loaded = [
        PrivateKey::from_pem(&text("test-only-rsa2048-pkcs1.pem"), None).unwrap(),
        PrivateKey::from_pem(&text("test-only-rsa2048-pkcs8.pem"), None).unwrap(),
        PrivateKey::from_pem(
            &text("test-only-rsa2048-pkcs8-encrypted.pem"),
            Some(PASSWORD),
        )
        .unwrap(),
        PrivateKey::from_pem(
            &text("test-only-rsa2048-pkcs8-encrypted-sha1.pem"),
            Some(PASSWORD),
        )
        .unwrap(),
        PrivateKey::from_der(&data("test-only-rsa2048-pkcs1.der"), None).unwrap(),
        PrivateKey::from_der(&data("test-only-rsa2048-pkcs8.der"), None).unwrap(),
        PrivateKey::from_der(
            &data("test-only-rsa2048-pkcs8-encrypted.der"),
            Some(PASSWORD),
        )
        .unwrap(),
        PrivateKey::from_jwk(&text("test-only-rsa2048-private.jwk")).unwrap(),
    ];
    for key in &loaded {
        assert_eq!(key.kid().as_str(), kid);
        assert_eq!(key.bits(), 2048);
    }
    let public = PublicKey::from_pem(&text("test-only-rsa2048-public.pem")).unwrap();
    assert_eq!(public.kid().as_str(), kid);
    let public1 = PublicKey::from_pem(&text("test-only-rsa2048-public-pkcs1.pem")).unwrap();
    assert_eq!(public1, public);
    assert_eq!(
        PublicKey::from_jwk(&text("test-only-rsa2048-private.jwk")).unwrap(),
        public
    );
}

#[test]
fn scrypt_encrypted_key_loads() {
    let key = PrivateKey::from_pem(
        &text("test-only-rsa2048-pkcs8-encrypted-scrypt.pem"),
        Some(PASSWORD),
    )
    .unwrap();
    assert_eq!(key.kid().as_str(), expected_kid());
}

#[test]
fn detection_by_content() {
    let kid = expected_kid();
    for (file, pw) in [
        ("test-only-rsa2048-pkcs1.pem", None),
        ("test-only-rsa2048-pkcs8.der", None),
        ("test-only-rsa2048-pkcs1.der", None),
        ("test-only-rsa2048-private.jwk", None),
        ("test-only-rsa2048-pkcs8-encrypted.der", Some(PASSWORD)),
    ] {
        let key = PrivateKey::from_bytes(&data(file), pw).unwrap();
        assert_eq!(key.kid().as_str(), kid, "{file}");
        let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
        assert_eq!(
            PrivateKey::from_file(&path, pw).unwrap().kid().as_str(),
            kid
        );
    }
}

#[test]
fn pem_with_surrounding_text_and_crlf() {
    let pem = text("test-only-rsa2048-pkcs8.pem").replace('\n', "\r\n");
    let noisy = format!(
        "Bag Attributes\n    localKeyID: 01\n{}{}",
        text("test-only-certificate.pem"),
        pem
    );
    let key = PrivateKey::from_pem(&noisy, None).unwrap();
    assert_eq!(key.kid().as_str(), expected_kid());
}

#[test]
fn encrypted_key_without_password() {
    let e = PrivateKey::from_pem(&text("test-only-rsa2048-pkcs8-encrypted.pem"), None).unwrap_err();
    assert_eq!(e, KeyError::PasswordMissing);
    assert_eq!(e.code(), "key_password_missing");
    let e = PrivateKey::from_der(&data("test-only-rsa2048-pkcs8-encrypted.der"), None).unwrap_err();
    assert_eq!(e.code(), "key_password_missing");
}

#[test]
fn encrypted_key_wrong_password() {
    for wrong in [&b"wrong"[..], b"", b"test-only-passwor"] {
        let e = PrivateKey::from_pem(&text("test-only-rsa2048-pkcs8-encrypted.pem"), Some(wrong))
            .unwrap_err();
        assert_eq!(e.code(), "key_password", "{e}");
    }
}

#[test]
fn password_ignored_for_plain_keys() {
    let key = PrivateKey::from_pem(&text("test-only-rsa2048-pkcs8.pem"), Some(b"x")).unwrap();
    assert_eq!(key.kid().as_str(), expected_kid());
}

#[test]
fn small_keys_are_refused_with_a_clear_message() {
    let e = PrivateKey::from_pem(&text("test-only-rsa1024-pkcs8.pem"), None).unwrap_err();
    assert_eq!(e, KeyError::TooSmall { bits: 1024 });
    assert_eq!(e.code(), "key_too_small");
    let msg = e.to_string();
    assert!(msg.contains("1024") && msg.contains("2048"), "{msg}");
    // A public key loads (for diagnosis) and tells its size.
    let public = PublicKey::from_pem(&text("test-only-rsa1024-public.pem")).unwrap();
    assert_eq!(public.bits(), 1024);
}

#[test]
fn non_rsa_and_wrong_kinds() {
    let e = PrivateKey::from_pem(&text("test-only-ec-p256.pem"), None).unwrap_err();
    assert_eq!(e.code(), "key_not_rsa", "{e}");
    let e = PrivateKey::from_pem(&text("test-only-rsa2048-public.pem"), None).unwrap_err();
    assert_eq!(e.code(), "key_format");
    let e = PrivateKey::from_pem(&text("test-only-certificate.pem"), None).unwrap_err();
    assert_eq!(e.code(), "key_format");
    let e = PublicKey::from_pem(&text("test-only-certificate.pem")).unwrap_err();
    assert!(e.to_string().contains("x509 -pubkey"), "{e}");
    let e = PublicKey::from_pem(&text("test-only-rsa2048-pkcs8.pem")).unwrap_err();
    assert_eq!(e.code(), "key_format");
    let e = PrivateKey::from_pem(
        &text("test-only-rsa2048-legacy-encrypted.pem"),
        Some(PASSWORD),
    )
    .unwrap_err();
    assert_eq!(e.code(), "key_format");
    assert!(e.to_string().contains("openssl pkcs8 -topk8"), "{e}");
    let e = PrivateKey::from_pem(
        &text("test-only-rsa2048-pkcs8-encrypted-pbes1.pem"),
        Some(PASSWORD),
    )
    .unwrap_err();
    assert_eq!(e.code(), "key_format", "{e}");
    let pubder = PublicKey::from_pem(&text("test-only-rsa2048-public.pem"))
        .unwrap()
        .to_der();
    let e = PrivateKey::from_der(&pubder, None).unwrap_err();
    assert_eq!(e.code(), "key_format");
}

#[test]
fn unreadable_inputs() {
    for bad in [&b""[..], b"hello", b"\x00\x01\x02", b"-----BEGIN"] {
        let e = PrivateKey::from_bytes(bad, None).unwrap_err();
        assert!(
            matches!(e.code(), "key_unreadable" | "key_format"),
            "{:?} -> {e}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        PrivateKey::from_bytes(b"{not json", None)
            .unwrap_err()
            .code(),
        "key_unreadable"
    );
    let e = PrivateKey::from_file("/nonexistent/anist/key.pem", None).unwrap_err();
    assert_eq!(e.code(), "key_io");
}

#[test]
fn jwk_errors() {
    let jwk: serde_json::Value =
        serde_json::from_str(&text("test-only-rsa2048-private.jwk")).unwrap();
    let mut public_only = jwk.clone();
    for m in ["d", "p", "q", "dp", "dq", "qi"] {
        public_only.as_object_mut().unwrap().remove(m);
    }
    let e = PrivateKey::from_jwk(&public_only.to_string()).unwrap_err();
    assert_eq!(e.code(), "key_format");
    assert!(e.to_string().contains("no private part"));

    let mut no_crt = jwk.clone();
    no_crt.as_object_mut().unwrap().remove("qi");
    assert_eq!(
        PrivateKey::from_jwk(&no_crt.to_string())
            .unwrap_err()
            .code(),
        "key_format"
    );

    let mut ec = jwk.clone();
    ec["kty"] = "EC".into();
    assert_eq!(
        PrivateKey::from_jwk(&ec.to_string()).unwrap_err().code(),
        "key_not_rsa"
    );

    let mut bad_b64 = jwk.clone();
    bad_b64["n"] = "not base64url!".into();
    assert_eq!(
        PrivateKey::from_jwk(&bad_b64.to_string())
            .unwrap_err()
            .code(),
        "key_format"
    );

    let mut inconsistent = jwk.clone();
    inconsistent["d"] = inconsistent["dp"].clone();
    assert_eq!(
        PrivateKey::from_jwk(&inconsistent.to_string())
            .unwrap_err()
            .code(),
        "key_invalid"
    );

    let set = serde_json::json!({ "keys": [jwk.clone()] });
    assert_eq!(
        PrivateKey::from_jwk(&set.to_string())
            .unwrap()
            .kid()
            .as_str(),
        expected_kid()
    );
    let two = serde_json::json!({ "keys": [jwk.clone(), jwk] });
    assert_eq!(
        PrivateKey::from_jwk(&two.to_string()).unwrap_err().code(),
        "key_format"
    );
    assert_eq!(
        PrivateKey::from_jwk("[1,2]").unwrap_err().code(),
        "key_format"
    );
}

#[test]
fn debug_never_shows_key_material() {
    let key = PrivateKey::from_pem(&text("test-only-rsa2048-pkcs8.pem"), None).unwrap();
    let dbg = format!("{key:?} {:?}", key.public_key());
    assert!(dbg.contains(&expected_kid()));
    let jwk: serde_json::Value =
        serde_json::from_str(&text("test-only-rsa2048-private.jwk")).unwrap();
    for m in ["n", "d", "p", "q"] {
        let v = jwk[m].as_str().unwrap();
        assert!(!dbg.contains(&v[..16]), "Debug leaks {m}");
    }
    assert!(!dbg.contains("MII"));
}

#[test]
fn public_exports_round_trip() {
    let key = PrivateKey::from_pem(&text("test-only-rsa2048-pkcs1.pem"), None).unwrap();
    let public = key.public_key();
    // The SPKI PEM is byte-identical to OpenSSL's.
    assert_eq!(public.to_pem(), text("test-only-rsa2048-public.pem"));
    assert_eq!(PublicKey::from_pem(&public.to_pem()).unwrap(), *public);
    assert_eq!(PublicKey::from_der(&public.to_der()).unwrap(), *public);
    let jwk: serde_json::Value = serde_json::from_str(&public.to_jwk()).unwrap();
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["e"], "AQAB");
    assert_eq!(jwk["kid"], expected_kid());
    assert_eq!(jwk["alg"], "RS256");
    assert!(jwk.get("d").is_none());
    assert_eq!(PublicKey::from_jwk(&public.to_jwk()).unwrap(), *public);
}

#[test]
fn private_export_round_trips() {
    let key = PrivateKey::from_pem(&text("test-only-rsa2048-pkcs1.pem"), None).unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert_eq!(PrivateKey::from_pem(&pem, None).unwrap().kid(), key.kid());
}

#[test]
#[ignore = "600,000 PBKDF2 rounds take ~10 s in debug builds; the unit test covers the format with fewer rounds"]
fn encrypted_export_round_trips() {
    let key = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
    let pem = key.to_encrypted_pkcs8_pem(b"s3cret").unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    assert_eq!(
        PrivateKey::from_pem(&pem, Some(b"s3cret")).unwrap().kid(),
        key.kid()
    );
}

#[test]
fn generation_sizes() {
    let k = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
    assert_eq!(k.bits(), 2048);
    let k2 = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
    assert_ne!(k.kid(), k2.kid());
    let k3 = PrivateKey::generate(RsaBits::Rsa3072).unwrap();
    assert_eq!(k3.bits(), 3072);
    assert_eq!(RsaBits::from_bits(4096).unwrap().bits(), 4096);
    assert_eq!(
        RsaBits::from_bits(1024).unwrap_err().code(),
        "key_size_unsupported"
    );
}

#[test]
#[ignore = "4096-bit generation takes seconds in debug builds; run with --ignored"]
fn generation_4096() {
    assert_eq!(PrivateKey::generate(RsaBits::Rsa4096).unwrap().bits(), 4096);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = PrivateKey::from_bytes(&bytes, None);
            let _ = PrivateKey::from_der(&bytes, Some(b"pw"));
            let _ = PublicKey::from_der(&bytes);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
            let _ = PrivateKey::from_jwk(&s);
            let _ = PublicKey::from_jwk(&s);
            let _ = PrivateKey::from_pem(&s, None);
            let _ = PublicKey::from_pem(&s);
        }

        #[test]
        fn jwk_shaped_json_never_panics(
            kty in prop_oneof![Just("RSA".to_string()), "[A-Z]{0,3}"],
            n in "[A-Za-z0-9_-]{0,80}",
            e in "[A-Za-z0-9_=+/-]{0,8}",
            d in proptest::option::of("[A-Za-z0-9_-]{0,40}"),
            extra in proptest::option::of(any::<i64>()),
        ) {
            let mut v = serde_json::json!({ "kty": kty, "n": n, "e": e });
            if let Some(d) = d {
                for m in ["d", "p", "q", "dp", "dq", "qi"] {
                    v[m] = d.clone().into();
                }
            }
            if let Some(x) = extra {
                v["oth"] = x.into();
            }
            let _ = PrivateKey::from_jwk(&v.to_string());
            let _ = PublicKey::from_jwk(&v.to_string());
        }

        #[test]
        fn pem_wrapped_garbage_never_panics(
            label in prop_oneof![
                Just("PRIVATE KEY"), Just("RSA PRIVATE KEY"), Just("ENCRYPTED PRIVATE KEY"),
                Just("PUBLIC KEY"), Just("RSA PUBLIC KEY"), Just("X")
            ],
            body in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let pem = format!(
                "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
                base64_std(&body)
            );
            let _ = PrivateKey::from_pem(&pem, Some(b"pw"));
            let _ = PublicKey::from_pem(&pem);
        }
    }

    fn base64_std(bytes: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for c in bytes.chunks(3) {
            let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= c.len() {
                    s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    }
}
