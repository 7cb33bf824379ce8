//! Every error of this crate, by sample.
//!
//! Each error type of anist-client implements [`ErrorCode`] (a stable code
//! and the [`ErrorKind`](anist_core::ErrorKind) it belongs to) and
//! [`CodeSamples`] (one value of every variant). [`catalogue`] gathers
//! those samples, with anist-core's, so that the bindings can check, code
//! by code, that every error the workspace produces surfaces as its kind
//! says. It is not part of the supported API.

use anist_core::{CodeSamples, ErrorCode};

fn boxed<E: CodeSamples + 'static>() -> impl Iterator<Item = Box<dyn ErrorCode>> {
    E::samples()
        .into_iter()
        .map(|e| Box::new(e) as Box<dyn ErrorCode>)
}

/// A sample of every variant of every error type of anist-client (and of
/// anist-core), boxed. Not part of the supported API.
#[doc(hidden)]
pub fn catalogue() -> Vec<Box<dyn ErrorCode>> {
    let mut all: Vec<Box<dyn ErrorCode>> = anist_core::catalogue::catalogue();
    all.extend(boxed::<crate::anist::AnistError>());
    all.extend(boxed::<crate::anpr::AnprClientError>());
    all.extend(boxed::<crate::anpr::massive::MassivaError>());
    all.extend(boxed::<crate::anpr::soap::AnprSoapError>());
    all.extend(boxed::<crate::audit::AuditError>());
    all.extend(boxed::<crate::blocking::RuntimeError>());
    all.extend(boxed::<crate::bulk::BulkError>());
    all.extend(boxed::<crate::call::CallError>());
    all.extend(boxed::<crate::config::ConfigError>());
    all.extend(boxed::<crate::dpop::DpopError>());
    all.extend(boxed::<crate::ids::IdError>());
    all.extend(boxed::<crate::infanzia::InfanziaFileError>());
    all.extend(boxed::<crate::isee::IseeError>());
    all.extend(boxed::<crate::isee::soap::SoapError>());
    all.extend(boxed::<crate::jws::JwsFormatError>());
    all.extend(boxed::<crate::keys::KeyError>());
    all.extend(boxed::<crate::modi::ModiError>());
    #[cfg(feature = "postgres")]
    all.extend(boxed::<crate::pg::PgError>());
    all.extend(boxed::<crate::ratelimit::RateLimiterError>());
    all.extend(boxed::<crate::rivestizione::StoreError>());
    all.extend(boxed::<crate::rivestizione::WorkflowError>());
    all.extend(boxed::<crate::sidi::InterchangeError>());
    all.extend(boxed::<crate::sidi::StoreError>());
    all.extend(boxed::<crate::sidi::SyncError>());
    all.extend(boxed::<crate::voucher::assertion::AssertionError>());
    all.extend(boxed::<crate::voucher::token::FetchError>());
    #[cfg(feature = "sandbox")]
    {
        all.extend(boxed::<crate::sandbox::SandboxError>());
        all.extend(boxed::<crate::sandbox::config_file::ConfigFileError>());
        all.extend(boxed::<crate::sandbox::faults::FaultRatesError>());
        all.extend(boxed::<crate::sandbox::registry::RegistryError>());
        all.extend(boxed::<crate::sandbox::registry_file::RegistryFileError>());
    }
    all
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::catalogue;

    /// Every `.rs` file under `dir`, as paths relative to `root` with `/`.
    fn rust_files(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                rust_files(root, &path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let rel = path.strip_prefix(root).unwrap();
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push((rel.join("/"), path));
            }
        }
    }

    /// One token of interest of Rust source: a brace or a string literal.
    #[derive(Debug, PartialEq)]
    enum Token {
        Open(usize),
        Close(usize),
        Str(String),
    }

    /// The braces and the string literals of `text`, skipping comments and
    /// character literals (lifetimes are left alone).
    fn tokens(text: &str) -> Vec<Token> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    i += 2;
                    while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                        i += 1;
                    }
                    i += 2;
                }
                b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                    && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
                {
                    // A raw string r"…" or r#"…"#.
                    let mut j = i + 1;
                    let mut hashes = 0;
                    while b.get(j) == Some(&b'#') {
                        hashes += 1;
                        j += 1;
                    }
                    if b.get(j) != Some(&b'"') {
                        i += 1;
                        continue;
                    }
                    let start = j + 1;
                    let mut k = start;
                    loop {
                        if k >= b.len() {
                            break;
                        }
                        if b[k] == b'"' && b[k + 1..].iter().take(hashes).all(|&c| c == b'#') {
                            break;
                        }
                        k += 1;
                    }
                    out.push(Token::Str(text[start..k.min(b.len())].to_string()));
                    i = k + 1 + hashes;
                }
                b'"' => {
                    let start = i + 1;
                    let mut k = start;
                    while k < b.len() && b[k] != b'"' {
                        k += if b[k] == b'\\' { 2 } else { 1 };
                    }
                    out.push(Token::Str(text[start..k.min(b.len())].to_string()));
                    i = k + 1;
                }
                b'\'' => {
                    // 'x', '\n', '\u{…}'; anything else is a lifetime.
                    if b.get(i + 1) == Some(&b'\\') {
                        let mut k = i + 2;
                        while k < b.len() && b[k] != b'\'' {
                            k += 1;
                        }
                        i = k + 1;
                    } else if let Some(c) = text[i + 1..].chars().next() {
                        if text[i + 1 + c.len_utf8()..].starts_with('\'') {
                            i += 2 + c.len_utf8();
                        } else {
                            i += 1;
                        }
                    } else {
                        i += 1;
                    }
                }
                b'{' => {
                    out.push(Token::Open(i));
                    i += 1;
                }
                b'}' => {
                    out.push(Token::Close(i));
                    i += 1;
                }
                _ => i += 1,
            }
        }
        out
    }

    /// The tokens from the brace at `tokens[open]` to its closing brace.
    fn block(tokens: &[Token], open: usize) -> &[Token] {
        let mut depth = 0usize;
        for (k, t) in tokens.iter().enumerate().skip(open) {
            match t {
                Token::Open(_) => depth += 1,
                Token::Close(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return &tokens[open..=k];
                    }
                }
                Token::Str(_) => {}
            }
        }
        panic!("unbalanced braces");
    }

    fn is_code(s: &str) -> bool {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    /// The `snake_case` string literals of the `fn code` body of every
    /// `impl … ErrorCode for …` block of `text`.
    fn literal_codes(text: &str) -> BTreeSet<String> {
        let mut codes = BTreeSet::new();
        let mut line_start = 0;
        for line in text.split_inclusive('\n') {
            let at = line_start;
            line_start += line.len();
            let t = line.trim_start();
            if !(t.starts_with("impl") && t.contains("ErrorCode for ")) {
                continue;
            }
            let toks = tokens(&text[at..]);
            let open = toks
                .iter()
                .position(|t| matches!(t, Token::Open(_)))
                .unwrap();
            let impl_block = block(&toks, open);
            // The impl's text, to find `fn code` in it.
            let (Token::Open(from), Token::Close(to)) =
                (&impl_block[0], &impl_block[impl_block.len() - 1])
            else {
                unreachable!()
            };
            let impl_text = &text[at + from..at + to];
            let fn_at = impl_text
                .find("fn code(")
                .unwrap_or_else(|| panic!("no fn code in {}", t.trim_end()));
            let body_toks = tokens(&impl_text[fn_at..]);
            let first = body_toks
                .iter()
                .position(|t| matches!(t, Token::Open(_)))
                .unwrap();
            for tok in block(&body_toks, first) {
                if let Token::Str(s) = tok {
                    if is_code(s) {
                        codes.insert(s.clone());
                    }
                }
            }
        }
        codes
    }

    /// The literal codes of the files under `dir` that `keep` accepts
    /// (given their path relative to `dir`).
    fn codes_under(dir: &Path, keep: impl Fn(&str) -> bool) -> BTreeSet<String> {
        let mut files = Vec::new();
        rust_files(dir, dir, &mut files);
        assert!(!files.is_empty(), "{}", dir.display());
        let mut codes = BTreeSet::new();
        for (rel, path) in files {
            if keep(&rel) {
                let text = std::fs::read_to_string(&path).unwrap();
                codes.extend(literal_codes(&text));
            }
        }
        codes
    }

    #[test]
    fn the_scanner_reads_code_bodies_only() {
        let text = r#"
impl ErrorCode for X {
    fn code(&self) -> &'static str {
        // "not_this" {
        match self {
            X::A => "x_a",
            X::B { c: '{' } => "x_b",
            X::C(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        let _ = "not_a_code";
        ErrorKind::Local
    }
}
impl anist_core::ErrorCode for Y {
    fn code(&self) -> &'static str {
        "y"
    }
}
fn f() { "Not a code"; }
"#;
        let found: Vec<String> = literal_codes(text).into_iter().collect();
        assert_eq!(found, ["x_a", "x_b", "y"]);
    }

    #[test]
    fn the_catalogue_has_a_sample_of_every_code() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        // The sandbox's errors exist with its feature only. This file's
        // test text spells impls that are not.
        let built = |rel: &str| {
            rel != "errors.rs" && (cfg!(feature = "sandbox") || !rel.starts_with("sandbox/"))
        };
        let own = codes_under(&src, built);
        assert!(own.contains("gateway_refused") && own.contains("runtime_start"));

        // The codes the variants wrapping an error of anist-core give: the
        // wrapped error's.
        let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../anist-core/src");
        let foreign = codes_under(&core, |_| true);
        assert!(foreign.contains("cf_check_char"));

        let samples = catalogue();
        let sampled: BTreeSet<String> = samples.iter().map(|e| e.code().to_string()).collect();
        let missing: Vec<&String> = own.difference(&sampled).collect();
        assert!(
            missing.is_empty(),
            "codes of anist-client without a sample (add one to the CodeSamples of their type): {missing:?}"
        );
        let unknown: Vec<&String> = sampled
            .iter()
            .filter(|c| !own.contains(*c) && !foreign.contains(*c))
            .collect();
        assert!(
            unknown.is_empty(),
            "sampled codes that no `fn code` of anist-client or anist-core spells: {unknown:?}"
        );
    }

    #[test]
    fn samples_of_one_code_have_one_kind() {
        let mut kinds: BTreeMap<&'static str, BTreeSet<&'static str>> = BTreeMap::new();
        for e in catalogue() {
            kinds.entry(e.code()).or_default().insert(e.kind().as_str());
        }
        let split: Vec<_> = kinds.iter().filter(|(_, k)| k.len() > 1).collect();
        assert!(split.is_empty(), "codes with several kinds: {split:?}");
    }
}
