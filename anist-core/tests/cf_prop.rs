//! Property tests for the codice fiscale parser and encoder. All data is random.

use anist_core::cf::{
    checks, AnyCodiceFiscale, CfError, CodiceFiscale, MatchQuery, PersonData, PlacePart, Sex,
};
use anist_core::{place, ErrorCode};
use chrono::{Days, NaiveDate};
use proptest::prelude::*;

const CODES: &[&str] = CfError::CODES;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
}

fn arb_person_name() -> impl Strategy<Value = String> {
    // At least one letter; accents, apostrophes, blanks and foreign letters mixed in.
    ("[A-Za-z]", "[A-Za-zàèéìòùÀÈÉÌÒÙäöüßñçøÆ' -]{0,24}").prop_map(|(a, b)| format!("{a}{b}"))
}

fn arb_birth_date() -> impl Strategy<Value = NaiveDate> {
    // Within the last 99 years, so the default century policy must recover it.
    (1u64..36_000).prop_map(|d| today() - Days::new(d))
}

fn arb_place() -> impl Strategy<Value = &'static str> {
    let all = place::all();
    (0..all.len()).prop_map(move |i| all[i].code())
}

fn arb_valid_cf() -> impl Strategy<Value = CodiceFiscale> {
    (
        arb_person_name(),
        arb_person_name(),
        arb_birth_date(),
        any::<bool>(),
        arb_place(),
    )
        .prop_map(|(surname, name, birth_date, female, place)| {
            CodiceFiscale::encode(&PersonData {
                surname: &surname,
                name: &name,
                birth_date,
                sex: if female { Sex::Female } else { Sex::Male },
                place: PlacePart::Code(place),
                omocodia_level: 0,
            })
            .expect("encodable")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Every refusal has an Italian message for the clerk's screen, other
    /// than the English one, that never carries the whole input.
    #[test]
    fn every_refusal_has_an_italian_message_without_the_code(input in "[A-Z0-9]{11,16}") {
        if let Err(e) = AnyCodiceFiscale::parse(&input) {
            let m = e.messaggio();
            prop_assert!(!m.is_empty());
            prop_assert_ne!(&m, &e.to_string());
            prop_assert!(!m.contains(&input), "{}", m);
        }
    }

    #[test]
    fn encode_then_parse_round_trips(
        surname in arb_person_name(),
        name in arb_person_name(),
        birth_date in arb_birth_date(),
        female in any::<bool>(),
        place in arb_place(),
        level in 0u8..8,
    ) {
        let sex = if female { Sex::Female } else { Sex::Male };
        let cf = CodiceFiscale::encode(&PersonData {
            surname: &surname, name: &name, birth_date, sex,
            place: PlacePart::Code(place), omocodia_level: level,
        }).expect("encodable");
        let parsed = CodiceFiscale::parse(cf.as_str()).expect("parses");
        prop_assert_eq!(parsed, cf);
        prop_assert_eq!(parsed.omocodia_level(), level);
        prop_assert_eq!(parsed.sex(), sex);
        prop_assert_eq!(parsed.birth_date_relative_to(today()), Some(birth_date));
        let code = parsed.belfiore_code();
        prop_assert_eq!(code.as_str(), place);
        let report = parsed.matches(&MatchQuery {
            surname: Some(&surname), name: Some(&name), birth_date: Some(birth_date),
            sex: Some(sex), place: Some(place),
        });
        prop_assert!(report.all_matched(), "{:?}", report);
    }

    #[test]
    fn every_omocodia_variant_has_the_same_canonical_form(cf in arb_valid_cf(), mask in 0u8..128) {
        let v = cf.omocodic_variant(mask);
        let parsed = CodiceFiscale::parse(v.as_str()).expect("variant parses");
        prop_assert_eq!(parsed.canonical(), cf);
        prop_assert_eq!(parsed.omocodia_mask(), mask);
        prop_assert_eq!(parsed.birth_date_relative_to(today()), cf.birth_date_relative_to(today()));
    }

    /// Within the characters a position allows, the check-character tables are
    /// injective, so every single-character change of a valid code is caught.
    #[test]
    fn any_single_character_change_is_rejected(
        cf in arb_valid_cf(),
        mask in 0u8..128,
        pos in 0usize..16,
        ch in prop::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".to_vec()),
    ) {
        let original = cf.omocodic_variant(mask);
        let mut b = *original.as_bytes();
        prop_assume!(b[pos] != ch);
        b[pos] = ch;
        let result = CodiceFiscale::parse_bytes(&b);
        prop_assert!(result.is_err(), "changed code accepted");
        if checks::format(&b).is_ok() {
            prop_assert_eq!(result.unwrap_err().code(), "cf_check_char");
        }
    }

    #[test]
    fn arbitrary_input_never_panics(s in ".*") {
        for r in [CodiceFiscale::parse(&s).map(|_| ()), AnyCodiceFiscale::parse(&s).map(|_| ())] {
            if let Err(e) = r {
                prop_assert!(CODES.contains(&e.code()), "{}", e.code());
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..40)) {
        if let Err(e) = AnyCodiceFiscale::parse_bytes(&b) {
            prop_assert!(CODES.contains(&e.code()));
            prop_assert!(e.position().is_none_or(|p| (1..=16).contains(&p)));
        }
    }

    #[test]
    fn near_valid_input_never_panics(cf in arb_valid_cf(), junk in "[ a-z0-9\\-]{0,3}", at in 0usize..17) {
        let s = cf.as_str();
        let at = at.min(s.len());
        let mangled = format!("{}{junk}{}", &s[..at], &s[at..]).to_lowercase();
        match CodiceFiscale::parse(&mangled) {
            Ok(p) => prop_assert_eq!(p.as_str().len(), 16),
            Err(e) => prop_assert!(CODES.contains(&e.code())),
        }
    }
}
