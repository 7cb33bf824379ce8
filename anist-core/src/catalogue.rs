//! Every error of anist-core, by sample: one value of every variant of
//! every error type ([`crate::CodeSamples`]), gathered for the agreement
//! test of the bindings (ERRORS.md; anist-client adds its own). Not part of
//! the supported API.

use crate::{CodeSamples, ErrorCode};

/// Every sample of every error type of anist-core, for the agreement test
/// of the bindings: each code anist-core produces, with its kind. Not part
/// of the supported API.
#[doc(hidden)]
pub fn catalogue() -> Vec<Box<dyn ErrorCode>> {
    catalogue_by_type()
        .into_iter()
        .flat_map(|(_, samples)| samples)
        .collect()
}

/// The samples of every error type of anist-core, each with the type's
/// name (without its path).
fn catalogue_by_type() -> Vec<(&'static str, Vec<Box<dyn ErrorCode>>)> {
    fn of<E: CodeSamples + 'static>() -> (&'static str, Vec<Box<dyn ErrorCode>>) {
        let path = std::any::type_name::<E>();
        let name = path.rsplit("::").next().unwrap_or(path);
        let samples = E::samples()
            .into_iter()
            .map(|e| Box::new(e) as Box<dyn ErrorCode>)
            .collect();
        (name, samples)
    }
    vec![
        of::<crate::anpr::AnprError>(),
        of::<crate::anpr::dati::DatoRichiestoError>(),
        of::<crate::anpr::esito::E002Error>(),
        of::<crate::anpr::massive::MassiveError>(),
        of::<crate::anpr::soap3002::Soap3002Error>(),
        of::<crate::cf::CfError>(),
        of::<crate::csvio::CsvError>(),
        of::<crate::csvio::DateError>(),
        of::<crate::documents::DocError>(),
        of::<crate::dsu::DsuError>(),
        of::<crate::infanzia::InfanziaError>(),
        of::<crate::isee::EuroError>(),
        of::<crate::isee::IseeXmlError>(),
        of::<crate::isee::NotEligible>(),
        of::<crate::isee::PrestazioneError>(),
        of::<crate::isee::ScalaError>(),
        of::<crate::meccanografico::MeccError>(),
        of::<crate::place::PlaceError>(),
        of::<crate::rivestizione::RivestizioneError>(),
        of::<crate::school::SchoolYearError>(),
        of::<crate::sidi::SidiError>(),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::ErrorKind;

    /// Whether `s` is a snake-case code: `[a-z][a-z0-9_]*`.
    fn is_code(s: &str) -> bool {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c.is_ascii_lowercase())
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    #[test]
    fn the_catalogue_has_snake_case_codes_each_of_one_kind() {
        let catalogue = catalogue();
        assert!(!catalogue.is_empty());
        let mut kinds: BTreeMap<&str, ErrorKind> = BTreeMap::new();
        for e in &catalogue {
            let code = e.code();
            assert!(is_code(code), "{code:?} ({e:?})");
            let kind = *kinds.entry(code).or_insert_with(|| e.kind());
            assert_eq!(kind, e.kind(), "{code} has two kinds");
        }
    }

    fn ident(c: u8) -> bool {
        c.is_ascii_alphanumeric() || c == b'_'
    }

    /// `src` with comments and the insides of string and char literals
    /// blanked (same offsets), and each string literal with the offset of
    /// its opening quote.
    fn blank(src: &str) -> (Vec<u8>, Vec<(usize, &str)>) {
        let b = src.as_bytes();
        let mut out = b.to_vec();
        let mut literals = Vec::new();
        fn fill(out: &mut [u8], from: usize, to: usize) {
            out[from..to].iter_mut().for_each(|c| *c = b' ');
        }
        let mut i = 0;
        while i < b.len() {
            let prev_ident = i > 0 && ident(b[i - 1]);
            let raw_start =
                b[i] == b'r' && (!prev_ident || (b[i - 1] == b'b' && (i < 2 || !ident(b[i - 2]))));
            if b[i..].starts_with(b"//") {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |n| i + n);
                fill(&mut out, i, end);
                i = end;
            } else if b[i..].starts_with(b"/*") {
                let (mut j, mut depth) = (i + 2, 1);
                while j < b.len() && depth > 0 {
                    if b[j..].starts_with(b"/*") {
                        depth += 1;
                        j += 2;
                    } else if b[j..].starts_with(b"*/") {
                        depth -= 1;
                        j += 2;
                    } else {
                        j += 1;
                    }
                }
                fill(&mut out, i, j);
                i = j;
            } else if raw_start && matches!(b.get(i + 1), Some(b'"' | b'#')) {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                let quote = i + 1 + hashes;
                if b.get(quote) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let mut close = vec![b'"'];
                close.extend(std::iter::repeat_n(b'#', hashes));
                let end = b[quote + 1..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map_or(b.len(), |n| quote + 1 + n);
                literals.push((quote, &src[quote + 1..end]));
                fill(&mut out, quote + 1, end);
                i = end + close.len();
            } else if b[i] == b'"' {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                literals.push((i, &src[i + 1..j.min(b.len())]));
                fill(&mut out, i + 1, j.min(b.len()));
                i = j + 1;
            } else if b[i] == b'\'' {
                // A char literal, or a lifetime (left as it is).
                let end = if b.get(i + 1) == Some(&b'\\') {
                    b[i + 3..]
                        .iter()
                        .position(|&c| c == b'\'')
                        .map(|n| i + 3 + n)
                } else {
                    src[i + 1..]
                        .chars()
                        .next()
                        .map(|c| i + 1 + c.len_utf8())
                        .filter(|&j| b.get(j) == Some(&b'\''))
                };
                match end {
                    Some(j) => {
                        fill(&mut out, i + 1, j);
                        i = j + 1;
                    }
                    None => i += 1,
                }
            } else {
                i += 1;
            }
        }
        (out, literals)
    }

    /// The offset of the `}` closing the `{` at `open`.
    fn closing(b: &[u8], open: usize) -> usize {
        let mut depth = 0usize;
        for (i, &c) in b.iter().enumerate().skip(open) {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
        panic!("unbalanced braces");
    }

    fn find(b: &[u8], needle: &[u8], from: usize) -> Option<usize> {
        b[from..]
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|n| from + n)
    }

    fn ident_at(b: &[u8], from: usize) -> &str {
        let len = b[from..].iter().take_while(|&&c| ident(c)).count();
        std::str::from_utf8(&b[from..from + len]).unwrap()
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// What the source says of an error type: the codes its `fn code`
    /// returns as literals (or through a constant list), and the variants
    /// it names.
    #[derive(Default, Debug)]
    struct Source {
        codes: BTreeSet<String>,
        variants: BTreeSet<String>,
    }

    /// Adds what `src` (the text of `file`) says of each type it implements
    /// `ErrorCode` for.
    fn scan(src: &str, file: &str, out: &mut BTreeMap<String, Source>) {
        let (b, literals) = blank(src);
        let codes_in = |from: usize, to: usize, into: &mut BTreeSet<String>| {
            for &(at, lit) in &literals {
                if (from..to).contains(&at) && is_code(lit) {
                    into.insert(lit.to_owned());
                }
            }
        };
        let mut at = 0;
        while let Some(hit) = find(&b, b"ErrorCode for ", at) {
            at = hit + 1;
            let line_start = b[..hit]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |n| n + 1);
            if find(&b[line_start..hit], b"impl", 0).is_none() {
                continue;
            }
            let name = ident_at(&b, hit + "ErrorCode for ".len()).to_owned();
            let open = find(&b, b"{", hit).unwrap();
            let close = closing(&b, open);
            let code_fn = find(&b[..close], b"fn code(", open)
                .unwrap_or_else(|| panic!("{name}: no fn code in {file}"));
            let body_open = find(&b, b"{", code_fn).unwrap();
            let body_close = closing(&b, body_open);
            let source = out.entry(name.clone()).or_default();
            codes_in(body_open, body_close, &mut source.codes);
            let body = &b[body_open..body_close];
            let mut i = 0;
            while i < body.len() {
                if !ident(body[i]) || (i > 0 && ident(body[i - 1])) {
                    i += 1;
                    continue;
                }
                let word = ident_at(body, i);
                let after = i + word.len();
                let is_const = word.len() > 1
                    && word.as_bytes()[0].is_ascii_uppercase()
                    && word
                        .bytes()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
                if is_const {
                    // A code list: the literals of its definition.
                    let def = find(&b, format!("const {word}:").as_bytes(), 0)
                        .unwrap_or_else(|| panic!("{name}: {word} is not defined in {file}"));
                    let end = find(&b, b";", def).unwrap();
                    codes_in(def, end, &mut source.codes);
                } else if (word == name || word == "Self") && body[after..].starts_with(b"::") {
                    let variant = ident_at(body, after + 2);
                    if variant.bytes().any(|c| c.is_ascii_lowercase()) {
                        source.variants.insert(variant.to_owned());
                    }
                }
                i = after;
            }
        }
    }

    /// Every `impl ErrorCode for X` of anist-core's sources, by `X`.
    fn sources() -> BTreeMap<String, Source> {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut out = BTreeMap::new();
        for file in files {
            let src = std::fs::read_to_string(&file).unwrap();
            scan(&src, &file.display().to_string(), &mut out);
        }
        out
    }

    #[test]
    fn the_scan_reads_code_lists_and_skips_comments_and_literals() {
        const SNIPPET: &str = r##"
// impl ErrorCode for Commented { fn code(&self) -> &'static str { "not_me" } }
impl Demo {
    const CODES: &'static [&'static str] = &["demo_one", "demo_two"];
}
impl crate::ErrorCode for Demo {
    fn code(&self) -> &'static str {
        match self {
            Demo::Listed(i) => Self::CODES[*i],
            Self::Plain { .. } => "demo_plain", /* "not_me" } */
            Demo::Brace => {
                let _ = ('{', r#"}"#, "\"}");
                "demo_brace"
            }
        }
    }

    fn position(&self) -> Option<usize> {
        let _ = "not_me";
        None
    }
}
"##;
        let mut out = BTreeMap::new();
        scan(SNIPPET, "snippet", &mut out);
        assert_eq!(out.keys().collect::<Vec<_>>(), ["Demo"]);
        let demo = &out["Demo"];
        let codes: Vec<&str> = demo.codes.iter().map(String::as_str).collect();
        assert_eq!(codes, ["demo_brace", "demo_one", "demo_plain", "demo_two"]);
        let variants: Vec<&str> = demo.variants.iter().map(String::as_str).collect();
        assert_eq!(variants, ["Brace", "Listed", "Plain"]);
    }

    #[test]
    fn the_catalogue_has_every_code_and_every_variant_of_the_sources() {
        let sources = sources();
        let by_type = catalogue_by_type();
        let sampled: BTreeSet<&str> = by_type.iter().map(|(name, _)| *name).collect();
        let declared: BTreeSet<&str> = sources.keys().map(String::as_str).collect();
        assert_eq!(
            sampled, declared,
            "error types in the catalogue vs the sources"
        );
        let mut all_sampled = BTreeSet::new();
        for (name, samples) in &by_type {
            let source = &sources[*name];
            let codes: BTreeSet<String> = samples.iter().map(|e| e.code().to_owned()).collect();
            let missing: Vec<_> = source.codes.difference(&codes).collect();
            assert!(missing.is_empty(), "{name}: no sample for {missing:?}");
            let debugs: Vec<String> = samples.iter().map(|e| format!("{e:?}")).collect();
            for variant in &source.variants {
                let found = debugs.iter().any(|d| {
                    d.strip_prefix(variant.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['(', ' ']))
                });
                assert!(found, "{name}::{variant} has no sample");
            }
            all_sampled.extend(codes);
        }
        let all_declared: BTreeSet<String> = sources
            .values()
            .flat_map(|s| s.codes.iter().cloned())
            .collect();
        assert_eq!(all_sampled, all_declared);
        // The scan itself works: a code list, a delegating variant, many variants.
        assert!(sources["CfError"].variants.contains("EncodePlace"));
        assert!(sources["InfanziaError"]
            .codes
            .contains("infanzia_act_older"));
        assert!(all_declared.len() > 50, "{}", all_declared.len());
    }
}
