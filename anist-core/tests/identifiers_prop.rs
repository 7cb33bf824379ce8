//! Property tests for the identifier parsers: ID ANPR, codice meccanografico,
//! identity-document numbers, DSU protocol.

use anist_core::anpr::{luhn36_check_char, IdAnpr};
use anist_core::documents::{DocumentKind, DocumentNumber};
use anist_core::dsu::DsuProtocol;
use anist_core::meccanografico::{compute_check_char, CheckStatus, CodiceMeccanografico};
use anist_core::ErrorCode;
use proptest::prelude::*;

const ANPR_CODES: &[&str] = &["anpr_empty", "anpr_length", "anpr_char"];
const MECC_CODES: &[&str] = &["mecc_empty", "mecc_length", "mecc_char"];
const DOC_CODES: &[&str] = &["doc_empty", "doc_length", "doc_format"];
const DSU_CODES: &[&str] = &["dsu_empty", "dsu_format", "dsu_year"];

const ALNUM: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Any input a user or a file could throw at a parser: arbitrary unicode,
/// arbitrary bytes decoded lossily, and near-misses of each format.
fn any_input() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(any::<u8>(), 0..48)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        "[ \t]{0,2}[A-Za-z0-9 ]{0,12}[ \t]{0,2}",
        "[A-Za-z0-9]{9,10}",
        "[A-Z]{2}[A-Z0-9]{2}[A-Z0-9]{5}[A-Z0-9]",
        "(?i)inps-isee-[0-9]{4}-[0-9]{8}[a-z]-[0-9]{2}",
        "[INPSE0-9A-Z-]{20,30}",
        "[0-9A-Za-z./ -]{0,24}",
    ]
}

/// Asserts that `err` carries a documented code and a sensible position.
fn assert_error<E: ErrorCode>(err: &E, codes: &[&str], input: &str) {
    assert!(
        codes.contains(&err.code()),
        "undocumented code {:?}",
        err.code()
    );
    if let Some(pos) = err.position() {
        assert!(pos >= 1, "positions are 1-based");
        assert!(
            pos <= input.trim().chars().count(),
            "position {pos} beyond the input"
        );
    }
    assert!(!err.to_string().is_empty());
}

/// The first 9 characters of a code the check algorithm covers: no J, W, Y in
/// the first 4 characters (no known value), not `AO…`, not a paritaria
/// progressive `xx500` with letters.
fn mecc_first9() -> impl Strategy<Value = [u8; 9]> {
    ("[A-IK-VXZ]{2}", "[0-9A-IK-VXZ]{2}", "[A-Z0-9]{5}")
        .prop_filter("AO codes are not covered by the algorithm", |(p, _, _)| {
            p != "AO"
        })
        .prop_filter(
            "paritarie xx500 with letters are not covered",
            |(_, _, n)| !(n.ends_with("500") && n.bytes().any(|b| b.is_ascii_uppercase())),
        )
        .prop_map(|(p, t, n)| {
            let mut out = [0u8; 9];
            for (slot, b) in out
                .iter_mut()
                .zip(p.bytes().chain(t.bytes()).chain(n.bytes()))
            {
                *slot = b;
            }
            out
        })
}

fn alnum_char() -> impl Strategy<Value = u8> {
    proptest::sample::select(ALNUM.to_vec())
}

/// Lower-cases the input and surrounds it with blanks.
fn messy(s: &str, left: &str, right: &str) -> String {
    format!("{left}{}{right}", s.to_lowercase())
}

fn valid_document() -> impl Strategy<Value = (DocumentKind, String)> {
    prop_oneof![
        "C[A-Z][0-9]{5}[A-Z]{2}".prop_map(|s| (DocumentKind::Cie3, s)),
        "[0-9]{7}[A-Z]{2}".prop_map(|s| (DocumentKind::Cie2, s)),
        "[A-Z]{2}[0-9]{7}".prop_map(|s| (DocumentKind::CartaIdentitaCartacea, s)),
        "[A-Z]{2}[0-9]{7}".prop_map(|s| (DocumentKind::Passaporto, s)),
        "[0-9A-Z]([0-9A-Z./ -]{0,18}[0-9A-Z./-])?"
            .prop_map(|s| (DocumentKind::PermessoSoggiorno, s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // ---------------------------------------------------------------- ID ANPR

    #[test]
    fn anpr_never_panics(input in any_input()) {
        match IdAnpr::parse(&input) {
            Ok(id) => {
                let s = id.to_string();
                prop_assert_eq!(s.len(), 9);
                prop_assert!(s.bytes().all(|b| ALNUM.contains(&b)));
                prop_assert_eq!(IdAnpr::parse(&s), Ok(id));
                let _ = id.probable_check_ok();
                let dbg = format!("{id:?}");
                prop_assert!(!dbg.contains(&s[2..7]));
            }
            Err(e) => assert_error(&e, ANPR_CODES, &input),
        }
    }

    #[test]
    fn anpr_luhn_generated_ids_pass(payload in "[A-Z0-9]{8}", left in "[ \t]{0,3}", right in "[ \t]{0,3}") {
        let mut p = [0u8; 8];
        p.copy_from_slice(payload.as_bytes());
        let check = luhn36_check_char(&p);
        prop_assert!(check.is_some());
        let check = char::from(check.unwrap_or(b'?'));
        let text = format!("{payload}{check}");
        let id = IdAnpr::parse(&text);
        prop_assert!(id.is_ok());
        let id = id.unwrap_or_else(|e| panic!("{e}"));
        prop_assert!(id.probable_check_ok());
        prop_assert_eq!(id.to_string(), text.clone());
        prop_assert_eq!(IdAnpr::parse(&id.to_string()), Ok(id));
        prop_assert_eq!(IdAnpr::parse(&messy(&text, &left, &right)), Ok(id));
        // Inner blanks are dropped too.
        let spaced = format!("{} {} {}", &text[..3], &text[3..6], &text[6..]);
        prop_assert_eq!(IdAnpr::parse(&spaced), Ok(id));
    }

    #[test]
    fn anpr_luhn_detects_single_substitutions(payload in "[A-Z0-9]{8}", idx in 0usize..9, new in alnum_char()) {
        let mut p = [0u8; 8];
        p.copy_from_slice(payload.as_bytes());
        let check = luhn36_check_char(&p).unwrap_or(b'?');
        let mut bytes = [0u8; 9];
        bytes[..8].copy_from_slice(&p);
        bytes[8] = check;
        prop_assume!(bytes[idx] != new);
        bytes[idx] = new;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let id = IdAnpr::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        prop_assert!(!id.probable_check_ok(), "substitution at {} not detected", idx);
    }

    // ------------------------------------------------------ codice meccanografico

    #[test]
    fn mecc_never_panics(input in any_input()) {
        match CodiceMeccanografico::parse(&input) {
            Ok(code) => {
                let s = code.to_string();
                prop_assert_eq!(s.len(), 10);
                prop_assert_eq!(CodiceMeccanografico::parse(&s), Ok(code));
                prop_assert_eq!(code.province(), &s[..2]);
                prop_assert_eq!(code.type_code(), &s[2..4]);
                let _ = code.school_kind();
                let _ = code.role();
                let _ = code.is_paritaria_by_code();
                match code.check_status() {
                    CheckStatus::Valid => {
                        let mut first9 = [0u8; 9];
                        first9.copy_from_slice(&s.as_bytes()[..9]);
                        prop_assert_eq!(compute_check_char(&first9), Some(code.check_char()));
                    }
                    CheckStatus::Mismatch { expected, found } => {
                        prop_assert_ne!(expected, found);
                        prop_assert_eq!(found, code.check_char());
                        prop_assert!("123456789ABCDEGLNPQRTVX".contains(expected));
                    }
                    CheckStatus::NotApplicable => {}
                }
            }
            Err(e) => assert_error(&e, MECC_CODES, &input),
        }
    }

    #[test]
    fn mecc_generated_codes_are_valid(first9 in mecc_first9(), left in "[ \t]{0,3}", right in "[ \t]{0,3}") {
        let check = compute_check_char(&first9);
        prop_assert!(check.is_some());
        let check = check.unwrap_or('?');
        prop_assert!("123456789ABCDEGLNPQRTVX".contains(check));
        let text = format!("{}{check}", String::from_utf8_lossy(&first9));
        let code = CodiceMeccanografico::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(code.check_status(), CheckStatus::Valid);
        prop_assert_eq!(code.to_string(), text.clone());
        prop_assert_eq!(CodiceMeccanografico::parse(&code.to_string()), Ok(code));
        prop_assert_eq!(CodiceMeccanografico::parse(&messy(&text, &left, &right)), Ok(code));
    }

    #[test]
    fn mecc_changed_check_char_is_a_mismatch(first9 in mecc_first9(), new in alnum_char()) {
        let check = compute_check_char(&first9).unwrap_or('?');
        let new = char::from(new);
        prop_assume!(new != check);
        let text = format!("{}{new}", String::from_utf8_lossy(&first9));
        let code = CodiceMeccanografico::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(code.check_status(), CheckStatus::Mismatch { expected: check, found: new });
    }

    #[test]
    fn mecc_aosta_is_never_checked(rest in "[A-Z0-9]{8}") {
        let code = CodiceMeccanografico::parse(&format!("AO{rest}")).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(code.check_status(), CheckStatus::NotApplicable);
    }

    // ------------------------------------------------------------- documents

    #[test]
    fn documents_never_panic(input in any_input()) {
        let kinds = DocumentNumber::classify(&input);
        for kind in DocumentKind::ALL {
            match DocumentNumber::parse(kind, &input) {
                Ok(n) => {
                    prop_assert!(kinds.contains(kind));
                    prop_assert_eq!(n.kind(), kind);
                    let s = n.to_string();
                    prop_assert!(!s.is_empty() && s.len() <= 20);
                    prop_assert_eq!(DocumentNumber::parse(kind, &s), Ok(n));
                    if s.len() >= 5 {
                        let dbg = format!("{n:?}");
                        prop_assert!(!dbg.contains(&s));
                    }
                }
                Err(e) => {
                    prop_assert!(!kinds.contains(kind));
                    assert_error(&e, DOC_CODES, &input);
                }
            }
        }
    }

    #[test]
    fn documents_valid_round_trip((kind, text) in valid_document(), left in "[ \t]{0,3}", right in "[ \t]{0,3}") {
        let n = DocumentNumber::parse(kind, &text).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(n.to_string(), text.clone());
        prop_assert_eq!(DocumentNumber::parse(kind, &n.to_string()), Ok(n));
        prop_assert_eq!(DocumentNumber::parse(kind, &messy(&text, &left, &right)), Ok(n));
        prop_assert!(DocumentNumber::classify(&text).contains(kind));
        if kind == DocumentKind::CartaIdentitaCartacea {
            let spaced = format!("{} {}", &text[..2], &text[2..]);
            prop_assert_eq!(DocumentNumber::parse(kind, &spaced), Ok(n));
        }
        if matches!(kind, DocumentKind::CartaIdentitaCartacea | DocumentKind::Passaporto) {
            let kinds = DocumentNumber::classify(&text);
            prop_assert!(kinds.contains(DocumentKind::CartaIdentitaCartacea));
            prop_assert!(kinds.contains(DocumentKind::Passaporto));
        }
    }

    // ------------------------------------------------------------------- DSU

    #[test]
    fn dsu_never_panics(input in any_input()) {
        match DsuProtocol::parse(&input) {
            Ok(p) => {
                let s = p.to_string();
                prop_assert_eq!(s.len(), 27);
                prop_assert_eq!(DsuProtocol::parse(&s), Ok(p));
                prop_assert!((DsuProtocol::MIN_YEAR..=DsuProtocol::MAX_YEAR).contains(&p.year()));
            }
            Err(e) => assert_error(&e, DSU_CODES, &input),
        }
    }

    #[test]
    fn dsu_valid_round_trip(
        year in DsuProtocol::MIN_YEAR..=DsuProtocol::MAX_YEAR,
        progressive in 0u32..100_000_000,
        letter in proptest::char::range('A', 'Z'),
        version in 0u8..=99,
        left in "[ \t]{0,3}",
        right in "[ \t]{0,3}",
    ) {
        let text = format!("INPS-ISEE-{year:04}-{progressive:08}{letter}-{version:02}");
        let p = DsuProtocol::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        prop_assert_eq!(p.year(), year);
        prop_assert_eq!(p.progressive(), progressive);
        prop_assert_eq!(p.letter(), letter);
        prop_assert_eq!(p.version(), version);
        prop_assert_eq!(p.to_string(), text.clone());
        prop_assert_eq!(DsuProtocol::parse(&p.to_string()), Ok(p));
        prop_assert_eq!(DsuProtocol::parse(&messy(&text, &left, &right)), Ok(p));
        let v = p.with_version(version.wrapping_add(1) % 100).unwrap_or_else(|| panic!("version"));
        prop_assert_eq!(v.year(), year);
        prop_assert_eq!(v.progressive(), progressive);
        let dbg = format!("{p:?}");
        let full = format!("{progressive:08}");
        prop_assert!(!dbg.contains(&full));
    }

    #[test]
    fn dsu_year_out_of_range(year in 0u16..=9999, rest in "[0-9]{8}[A-Z]-[0-9]{2}") {
        prop_assume!(!(DsuProtocol::MIN_YEAR..=DsuProtocol::MAX_YEAR).contains(&year));
        let text = format!("INPS-ISEE-{year:04}-{rest}");
        let e = DsuProtocol::parse(&text).err();
        prop_assert_eq!(e.as_ref().map(|e| e.code()), Some("dsu_year"));
    }

    #[test]
    fn dsu_single_wrong_char_points_at_it(
        progressive in 0u32..100_000_000,
        idx in 0usize..27,
        new in proptest::char::range('!', '~'),
    ) {
        let text = format!("INPS-ISEE-2020-{progressive:08}W-00");
        let mut chars: Vec<char> = text.chars().collect();
        let old = chars[idx];
        let still_fits = match old {
            '0'..='9' => new.is_ascii_digit(),
            'W' if idx == 23 => new.is_ascii_alphabetic(),
            c => new.eq_ignore_ascii_case(&c),
        };
        prop_assume!(!still_fits);
        chars[idx] = new;
        let broken: String = chars.into_iter().collect();
        let e = DsuProtocol::parse(&broken).err();
        prop_assert_eq!(e.as_ref().map(|e| e.code()), Some("dsu_format"));
        prop_assert_eq!(e.as_ref().and_then(|e| e.position()), Some(idx + 1));
    }
}
