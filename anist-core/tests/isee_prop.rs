//! Property tests: money round trips, and the XML parsers never panic on
//! arbitrary or damaged input.

// Test helpers outside #[test] functions unwrap too: a panic is a failing test.
#![allow(clippy::unwrap_used)]

use anist_core::isee::{
    decode_base64, parse_attestazione, parse_indicatore, Euro, IseeXmlError, Scala,
};
use anist_core::ErrorCode;
use proptest::prelude::*;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/isee/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const SAMPLES: [&str; 6] = [
    "indicatore_ordinario_utf8.xml",
    "indicatore_nucleo_riscontro.xml",
    "attestazione_minorenni_latin1.xml",
    "attestazione_corrente.xml",
    "attestazione_unknown_elements.xml",
    "attestazione_ridotto.xml",
];

fn check(r: Result<impl Sized, IseeXmlError>) {
    if let Err(e) = r {
        assert!(IseeXmlError::CODES.contains(&e.code()), "{e:?}");
        let _ = e.to_string();
    }
}

/// A damage to a document.
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Replace(usize, u8),
}

fn apply(doc: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut v = doc.to_vec();
    for e in edits {
        match e {
            Edit::Insert(at, bytes) => {
                let at = at % (v.len() + 1);
                v.splice(at..at, bytes.iter().copied());
            }
            Edit::Delete(at, len) => {
                if !v.is_empty() {
                    let at = at % v.len();
                    let end = (at + len).min(v.len());
                    v.drain(at..end);
                }
            }
            Edit::Replace(at, b) => {
                if !v.is_empty() {
                    let at = at % v.len();
                    v[at] = *b;
                }
            }
        }
    }
    v
}

fn markup_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b'<'),
        Just(b'>'),
        Just(b'"'),
        Just(b'&'),
        Just(b'/'),
        Just(b'='),
        Just(b'?'),
        Just(b'!'),
        Just(b';'),
        Just(b'#'),
        any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), prop::collection::vec(markup_byte(), 1..6))
            .prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), 1usize..40).prop_map(|(a, l)| Edit::Delete(a, l)),
        (any::<usize>(), markup_byte()).prop_map(|(a, b)| Edit::Replace(a, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn euro_display_round_trip(cents in any::<i64>()) {
        let v = Euro::from_cents(cents);
        prop_assert_eq!(Euro::parse(&v.to_string()), Ok(v));
        prop_assert_eq!(Euro::parse_decimal(&v.machine().to_string()), Ok(v));
        prop_assert_eq!(Euro::parse(&v.machine().to_string()), Ok(v));
        prop_assert_eq!(v.machine().to_string().replace('.', ",").parse::<Euro>(), Ok(v));
    }

    #[test]
    fn euro_parse_never_panics(s in "\\PC{0,30}") {
        let _ = Euro::parse(&s);
        let _ = Euro::parse_decimal(&s);
        let _ = Scala::parse(&s);
    }

    #[test]
    fn euro_parse_of_numbers(euros in 0u64..1_000_000_000_000, cents in 0u8..100, neg in any::<bool>()) {
        let sign = if neg { "-" } else { "" };
        let s = format!("{sign}{euros}.{cents:02}");
        let expected = i64::try_from(euros).unwrap() * 100 + i64::from(cents);
        let expected = if neg { -expected } else { expected };
        prop_assert_eq!(Euro::parse_decimal(&s).map(Euro::cents), Ok(expected));
        prop_assert_eq!(Euro::parse_decimal(&s.replace('.', ",")).map(Euro::cents), Ok(expected));
    }

    #[test]
    fn checked_arithmetic_matches_i128(a in any::<i64>(), b in any::<i64>()) {
        let (x, y) = (Euro::from_cents(a), Euro::from_cents(b));
        let sum = i128::from(a) + i128::from(b);
        prop_assert_eq!(x.checked_add(y).map(Euro::cents).map(i128::from), i64::try_from(sum).ok().map(i128::from));
        let diff = i128::from(a) - i128::from(b);
        prop_assert_eq!(x.checked_sub(y).map(Euro::cents).map(i128::from), i64::try_from(diff).ok().map(i128::from));
    }

    #[test]
    fn scala_round_trip(v in 1u32..=1_000_000) {
        let s = Scala::from_ten_thousandths(v).unwrap();
        prop_assert_eq!(Scala::parse(&s.to_string()), Ok(s));
        prop_assert_eq!(Scala::parse(&s.machine().to_string()), Ok(s));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(parse_attestazione(&bytes));
        check(parse_indicatore(&bytes));
    }

    #[test]
    fn arbitrary_markup_never_panics(bytes in prop::collection::vec(markup_byte(), 0..256)) {
        let mut doc = b"<?xml version=\"1.0\"?><EsitoAttestazione>".to_vec();
        doc.extend_from_slice(&bytes);
        check(parse_attestazione(&doc));
        check(parse_indicatore(&bytes));
    }

    #[test]
    fn damaged_samples_never_panic(which in 0usize..SAMPLES.len(), edits in prop::collection::vec(edit(), 1..6)) {
        let doc = sample(SAMPLES[which]);
        let damaged = apply(&doc, &edits);
        check(parse_attestazione(&damaged));
        check(parse_indicatore(&damaged));
    }

    #[test]
    fn base64_never_panics(s in "[A-Za-z0-9+/= \\n*]{0,64}") {
        if let Err(e) = decode_base64(&s) {
            prop_assert_eq!(e.code(), "isee_base64");
        }
    }
}
