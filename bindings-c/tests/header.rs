//! The checked-in `include/anist.h` is exactly what cbindgen generates
//! from the sources, and no two names of the API differ only by case
//! (Pascal, the other consumer, is case-insensitive).

use std::collections::HashMap;
use std::path::PathBuf;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn checked_in_header_is_up_to_date() {
    let path = crate_dir().join("include/anist.h");
    let fresh = generate();
    if std::env::var_os("ANIST_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write the header");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "bindings-c/include/anist.h is out of date: run `ANIST_BLESS=1 cargo test -p anist-c --test header` and commit it"
    );
}

/// Every identifier the header declares: defines, types, functions.
fn declared_names(header: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in header.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("#define ") {
            if let Some(name) = rest.split_whitespace().next() {
                if name != "ANIST_H" {
                    names.push(name.to_string());
                }
            }
        } else if let Some(rest) = line.strip_prefix("typedef struct ") {
            if let Some(name) = rest.split_whitespace().next() {
                names.push(name.trim_end_matches(';').to_string());
            }
        } else if line.starts_with("typedef ") && line.contains("(*") {
            if let Some(start) = line.find("(*") {
                let name: String = line[start + 2..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        } else if let Some(paren) = line.find('(') {
            if !line.starts_with("//") && !line.starts_with('*') && !line.starts_with("/*") {
                let head = &line[..paren];
                if let Some(name) = head.split_whitespace().last() {
                    let name = name.trim_start_matches('*');
                    if name.starts_with("anist_") {
                        names.push(name.to_string());
                    }
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[test]
fn no_two_names_differ_only_by_case() {
    let header = generate();
    let names = declared_names(&header);
    assert!(names.iter().any(|n| n == "anist_get_abi_version"));
    assert!(names.iter().any(|n| n == "ANIST_VERSION_MAJOR"));
    assert!(names.iter().any(|n| n == "AnistClient"));
    assert!(names.iter().any(|n| n == "anist_cf_validate"));
    let mut seen: HashMap<String, &str> = HashMap::new();
    for name in &names {
        if let Some(other) = seen.insert(name.to_lowercase(), name) {
            panic!("{other} and {name} differ only by case: Pascal cannot tell them apart");
        }
    }
}

#[test]
fn every_function_is_prefixed_and_every_status_is_named() {
    let header = generate();
    let names = declared_names(&header);
    for name in &names {
        assert!(
            name.starts_with("anist_") || name.starts_with("ANIST_") || name.starts_with("Anist"),
            "{name} is not in the anist namespace"
        );
    }
    for status in [
        "ANIST_OK",
        "ANIST_ERR_NULL_ARGUMENT",
        "ANIST_ERR_PANIC",
        "ANIST_ERR_INVALID_CF",
        "ANIST_ERR_QUOTA_EXCEEDED",
        "ANIST_ERR_NOT_ELIGIBLE",
    ] {
        assert!(names.iter().any(|n| n == status), "{status} missing");
    }
}
