//! Unit vectors for the codice fiscale rules. All codes are synthetic.

use anist_core::cf::{
    checks, AnyCodiceFiscale, CfError, CodiceFiscale, CodiceFiscaleNumerico, FieldMatch,
    FixedPivot, MatchQuery, MostRecentNotFuture, NumericKind, PersonData, PlaceFinding, PlacePart,
    Sex,
};
use anist_core::ErrorCode;
use chrono::NaiveDate;

/// Appends the right check character to 15 characters.
fn with_check(first15: &str) -> String {
    let mut b = [b'A'; 16];
    b[..15].copy_from_slice(first15.as_bytes());
    let c = checks::compute_check_char(&b);
    format!("{first15}{}", char::from(c))
}

fn code_of(input: &str) -> &'static str {
    match CodiceFiscale::parse(input) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

const TODAY: fn() -> NaiveDate = || date(2026, 11, 23);

#[test]
fn well_known_synthetic_code_is_valid() {
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").expect("valid");
    assert_eq!(cf.as_str(), "RSSMRA80A01H501U");
    assert_eq!(cf.sex(), Sex::Male);
    assert_eq!((cf.birth_day(), cf.birth_month()), (1, 1));
    assert_eq!(cf.birth_year_2digit(), 80);
    assert_eq!(cf.belfiore_code().as_str(), "H501");
    assert_eq!(cf.omocodia_level(), 0);
    assert_eq!(cf.canonical(), cf);
}

#[test]
fn lower_case_blanks_and_hyphens_are_normalised() {
    for input in [
        "rssmra80a01h501u",
        "  RSSMRA80A01H501U\t",
        "RSS MRA 80A01 H501U",
        "rss-mra-80a01-h501u",
        "RSSMRA80A01H501U\r\n",
    ] {
        let cf = CodiceFiscale::parse(input).expect(input);
        assert_eq!(cf.as_str(), "RSSMRA80A01H501U");
    }
}

#[test]
fn leap_days() {
    // 29 Feb 2000: yy = 00 is read as 2000, a leap year.
    assert_eq!(code_of(&with_check("RSSMRA00B29H501")), "ok");
    // 29 Feb 2001 does not exist.
    assert_eq!(code_of(&with_check("RSSMRA01B29H501")), "cf_day");
    // 29 Feb 2004 / 1904, female.
    assert_eq!(code_of(&with_check("RSSMRA04B69H501")), "ok");
    assert_eq!(code_of(&with_check("RSSMRA01B28H501")), "ok");
}

#[test]
fn impossible_days_are_rejected() {
    let err = CodiceFiscale::parse(&with_check("RSSMRA80D31H501")).unwrap_err();
    assert_eq!(err, CfError::Day { raw: 31, month: 4 });
    assert_eq!(err.position(), Some(10));
    assert_eq!(code_of(&with_check("RSSMRA80A99H501")), "cf_day");
    assert_eq!(code_of(&with_check("RSSMRA80A00H501")), "cf_day");
    assert_eq!(code_of(&with_check("RSSMRA80A32H501")), "cf_day");
    assert_eq!(code_of(&with_check("RSSMRA80A40H501")), "cf_day");
    assert_eq!(code_of(&with_check("RSSMRA80A72H501")), "cf_day");
    assert_eq!(code_of(&with_check("RSSMRA80D71H501")), "cf_day");
}

#[test]
fn female_days() {
    let cf = CodiceFiscale::parse(&with_check("RSSMRA80A71H501")).expect("31 January, female");
    assert_eq!(cf.sex(), Sex::Female);
    assert_eq!(cf.birth_day(), 31);
    assert_eq!(code_of(&with_check("RSSMRA80A41H501")), "ok");
}

#[test]
fn month_letters() {
    for (i, m) in "ABCDEHLMPRST".chars().enumerate() {
        let cf = CodiceFiscale::parse(&with_check(&format!("RSSMRA80{m}01H501"))).expect("month");
        assert_eq!(usize::from(cf.birth_month()), i + 1);
    }
    for m in "FGIJKNOQUVWXYZ".chars() {
        let err = CodiceFiscale::parse(&with_check(&format!("RSSMRA80{m}01H501"))).unwrap_err();
        assert_eq!(err.code(), "cf_month", "{m}");
        assert_eq!(err.position(), Some(9));
    }
}

#[test]
fn lengths_and_characters() {
    assert_eq!(code_of(""), "cf_empty");
    assert_eq!(code_of("   - "), "cf_empty");
    assert_eq!(
        CodiceFiscale::parse("RSSMRA80A01H501").unwrap_err(),
        CfError::Length { found: 15 }
    );
    assert_eq!(
        CodiceFiscale::parse("RSSMRA80A01H501UU").unwrap_err(),
        CfError::Length { found: 17 }
    );
    let err = CodiceFiscale::parse("RSSMRA80A01H5.1U").unwrap_err();
    assert_eq!((err.code(), err.position()), ("cf_char", Some(14)));
    let err = CodiceFiscale::parse("RSSMRÀ80A01H501U").unwrap_err();
    assert!(
        matches!(
            err,
            CfError::Char {
                pos: 6,
                ch: 'À',
                ..
            }
        ),
        "{err:?}"
    );
    let err = CodiceFiscale::parse("RSS1RA80A01H501U").unwrap_err();
    assert_eq!((err.code(), err.position()), ("cf_char", Some(4)));
    // 'W' is not an omocodia letter.
    let err = CodiceFiscale::parse("RSSMRA8WA01H501U").unwrap_err();
    assert_eq!((err.code(), err.position()), ("cf_char", Some(8)));
    // Bytes that are not UTF-8 give an error, not a panic.
    assert!(CodiceFiscale::parse_bytes(b"RSSMRA80A01H50\xff\xfe").is_err());
}

#[test]
fn check_character() {
    let err = CodiceFiscale::parse("RSSMRA80A01H501X").unwrap_err();
    assert_eq!(
        err,
        CfError::CheckChar {
            expected: 'U',
            found: 'X'
        }
    );
    assert_eq!(err.position(), Some(16));
    assert!(err.to_string().contains("should be U"));
}

#[test]
fn unknown_place_is_rejected_but_formal_parse_accepts_it() {
    let s = with_check("RSSMRA80A01Z999");
    let err = CodiceFiscale::parse(&s).unwrap_err();
    assert_eq!((err.code(), err.position()), ("cf_place_unknown", Some(12)));
    assert!(CodiceFiscale::parse_formal(&s).is_ok());
    let err = CodiceFiscale::parse(&with_check("RSSMRA80A01H000")).unwrap_err();
    assert_eq!(err.code(), "cf_place_unknown");
}

#[test]
fn omocodia_every_subset_including_non_right_to_left() {
    let base = CodiceFiscale::parse("RSSMRA80A01H501U").expect("valid");
    for mask in 0u8..128 {
        let v = base.omocodic_variant(mask);
        let parsed = CodiceFiscale::parse(v.as_str()).expect("variant parses");
        assert_eq!(parsed.omocodia_mask(), mask);
        assert_eq!(parsed.omocodia_level() as u32, mask.count_ones());
        assert_eq!(parsed.canonical(), base);
        assert_eq!(parsed.belfiore_code().as_str(), "H501");
        assert_eq!(parsed.birth_year_2digit(), 80);
    }
    // Only position 7 substituted (not right-to-left).
    let only_first = base.omocodic_variant(0b100_0000);
    assert_eq!(&only_first.as_str()[6..8], "U0");
    // All seven substituted.
    let all = base.omocodic_variant(0x7f);
    assert_eq!(&all.as_str()[..15], "RSSMRAULALMHRLM");
    assert_eq!(all.omocodia_level(), 7);
    // Level n = the n rightmost positions, as the Agenzia issues them.
    assert_eq!(&base.with_omocodia_level(1).as_str()[11..15], "H50M");
    assert_eq!(&base.with_omocodia_level(3).as_str()[11..15], "HRLM");
}

#[test]
fn century_resolution() {
    let today = TODAY();
    // A school child born in 2020: 2020s, not 1920s.
    let child = CodiceFiscale::parse(&with_check("RSSMRA20C15H501")).expect("valid");
    assert_eq!(child.birth_date_relative_to(today), Some(date(2020, 3, 15)));
    assert_eq!(child.possible_birth_years(), [1920, 2020]);
    // Born later this year than today: must be last century.
    let old = CodiceFiscale::parse(&with_check("RSSMRA26T01H501")).expect("valid");
    assert_eq!(old.birth_date_relative_to(today), Some(date(1926, 12, 1)));
    // A pluggable policy.
    assert_eq!(
        child.birth_date(&FixedPivot { pivot: 10 }),
        Some(date(1920, 3, 15))
    );
    // 29 Feb 00 with a reference before 2000: 1900-02-29 does not exist.
    let leap = CodiceFiscale::parse(&with_check("RSSMRA00B29H501")).expect("valid");
    assert_eq!(
        leap.birth_date(&MostRecentNotFuture::new(date(1999, 1, 1))),
        None
    );
    assert_eq!(leap.birth_date_relative_to(today), Some(date(2000, 2, 29)));
}

#[test]
fn place_finding_is_advisory() {
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").expect("valid");
    let policy = MostRecentNotFuture::new(TODAY());
    match cf.place_finding(&policy) {
        PlaceFinding::ExistedAtBirth(era) => assert_eq!(era.code(), "H501"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(cf.place_plausible(&policy));
    assert_eq!(cf.place_finding(&policy).warning_code(), None);
    assert_eq!(
        PlaceFinding::OutOfPeriod.warning_code(),
        Some("cf_place_out_of_period")
    );
}

#[test]
fn debug_is_masked_display_is_full() {
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U").expect("valid");
    assert_eq!(format!("{cf:?}"), "CodiceFiscale(RSSMRA**A01H501*)");
    assert_eq!(cf.to_string(), "RSSMRA80A01H501U");
    let err = CodiceFiscale::parse("RSSMRA80A01H501X").unwrap_err();
    assert!(!err.to_string().contains("RSSMRA80A01H501"));
}

#[test]
fn encode_rules() {
    let person = |surname, name, y, m, d, sex| PersonData {
        surname,
        name,
        birth_date: date(y, m, d),
        sex,
        place: PlacePart::Code("H501"),
        omocodia_level: 0,
    };
    let cf = CodiceFiscale::encode(&person("Rossi", "Mario", 1980, 1, 1, Sex::Male)).expect("ok");
    assert_eq!(cf.as_str(), "RSSMRA80A01H501U");
    // Four or more consonants in the name: 1st, 3rd and 4th.
    let cf = CodiceFiscale::encode(&person("Bianchi", "Gianfranco", 1975, 6, 30, Sex::Male))
        .expect("ok");
    assert_eq!(&cf.as_str()[..11], "BNCGFR75H30");
    // Short names and surnames are padded with X; women get day + 40.
    let cf = CodiceFiscale::encode(&person("Fo", "Al", 2011, 12, 3, Sex::Female)).expect("ok");
    assert_eq!(&cf.as_str()[..11], "FOXLAX11T43");
    // Accents, apostrophes, spaces, foreign letters.
    let cf = CodiceFiscale::encode(&person("D'Àngelo Nuñez", "Zoë", 2019, 9, 9, Sex::Female))
        .expect("ok");
    assert_eq!(&cf.as_str()[..6], "DNGZOE");
    let cf = CodiceFiscale::encode(&person("Müller-Strauß", "Øyvind", 2019, 9, 9, Sex::Male))
        .expect("ok");
    assert_eq!(&cf.as_str()[..6], "MLLYND"); // Y is a consonant: Y V N D -> Y N D
                                             // Omocodia level.
    let mut p = person("Rossi", "Mario", 1980, 1, 1, Sex::Male);
    p.omocodia_level = 2;
    let cf = CodiceFiscale::encode(&p).expect("ok");
    assert_eq!(cf.omocodia_level(), 2);
    assert_eq!(cf.canonical().as_str(), "RSSMRA80A01H501U");
    // Place by name.
    p.place = PlacePart::Name("roma");
    p.omocodia_level = 0;
    assert_eq!(
        CodiceFiscale::encode(&p).expect("ok").as_str(),
        "RSSMRA80A01H501U"
    );
    // Errors.
    let err = CodiceFiscale::encode(&person("'- ", "Mario", 1980, 1, 1, Sex::Male)).unwrap_err();
    assert_eq!(err.code(), "cf_encode_no_letters");
    p.place = PlacePart::Code("Z999");
    assert_eq!(
        CodiceFiscale::encode(&p).unwrap_err().code(),
        "cf_place_unknown"
    );
}

#[test]
fn matching_reports_each_field() {
    let cf = CodiceFiscale::parse("RSSMRA80A01H501U")
        .expect("valid")
        .with_omocodia_level(4);
    let full = MatchQuery {
        surname: Some("Rossi"),
        name: Some("Mario"),
        birth_date: Some(date(1980, 1, 1)),
        sex: Some(Sex::Male),
        place: Some("H501"),
    };
    let r = cf.matches(&full);
    assert!(r.all_matched(), "{r:?}");
    let r = cf.matches(&MatchQuery {
        surname: Some("Verdi"),
        birth_date: Some(date(1980, 1, 2)),
        sex: Some(Sex::Female),
        place: Some("Roma"),
        ..MatchQuery::default()
    });
    assert_eq!(r.surname, FieldMatch::Mismatched);
    assert_eq!(r.name, FieldMatch::Unknown);
    assert_eq!(r.birth_date, FieldMatch::Mismatched);
    assert_eq!(r.sex, FieldMatch::Mismatched);
    assert_eq!(r.place, FieldMatch::Matched);
    assert!(!r.no_mismatch());
    assert!(!r.all_matched());
    let r = cf.matches(&MatchQuery {
        place: Some("F205"),
        ..MatchQuery::default()
    });
    assert_eq!(r.place, FieldMatch::Mismatched);
    assert!(!r.no_mismatch());
}

/// A synthetic 11-digit code with a valid Luhn check digit.
fn numeric(first10: &str) -> String {
    let c = anist_core::cf::luhn_check_digit(first10.as_bytes());
    format!("{first10}{}", char::from(c))
}

#[test]
fn eleven_digit_codes() {
    // Provisional code of a person (office 000), with check digit.
    let p = CodiceFiscaleNumerico::parse(&numeric("0400001000")).expect("provisional");
    assert_eq!(p.kind(), NumericKind::Provisional);
    assert!(p.kind().may_be_person());
    // Early provisional range: no check digit.
    assert!(CodiceFiscaleNumerico::parse("00000010003").is_ok());
    // Partita IVA (office 001-100), entity without IVA.
    assert_eq!(
        CodiceFiscaleNumerico::parse(&numeric("1234567058"))
            .expect("p.iva")
            .kind(),
        NumericKind::PartitaIva
    );
    assert_eq!(
        CodiceFiscaleNumerico::parse(&numeric("8012345058"))
            .expect("entity")
            .kind(),
        NumericKind::EntityWithoutPartitaIva
    );
    assert_eq!(
        CodiceFiscaleNumerico::parse(&numeric("1234567200"))
            .expect("intendenza")
            .kind(),
        NumericKind::ProvisionalIntendenza
    );
    assert_eq!(
        CodiceFiscaleNumerico::parse(&numeric("1234567301"))
            .expect("imposte dirette")
            .kind(),
        NumericKind::ProvisionalImposteDirette
    );
    // Errors.
    let bad = numeric("1234567058");
    let wrong = format!("{}{}", &bad[..10], (bad.as_bytes()[10] - b'0' + 1) % 10);
    assert_eq!(
        CodiceFiscaleNumerico::parse(&wrong).unwrap_err().code(),
        "cf_numeric_check_digit"
    );
    assert_eq!(
        CodiceFiscaleNumerico::parse(&numeric("0000000058"))
            .unwrap_err()
            .code(),
        "cf_numeric_progressive"
    );
    assert_eq!(
        CodiceFiscaleNumerico::parse(&numeric("0300000000"))
            .unwrap_err()
            .code(),
        "cf_numeric_progressive"
    );
    assert_eq!(
        CodiceFiscaleNumerico::parse(&numeric("1234567800"))
            .unwrap_err()
            .code(),
        "cf_numeric_office"
    );
    assert_eq!(
        CodiceFiscaleNumerico::parse(&numeric("8012345099"))
            .unwrap_err()
            .code(),
        "cf_numeric_office"
    );
    // Through the either-kind parser, with blanks.
    let any = AnyCodiceFiscale::parse(&format!(" {} ", numeric("0400001000"))).expect("ok");
    assert!(matches!(any, AnyCodiceFiscale::Numerico(_)));
    let debug = format!("{p:?}");
    assert!(debug.contains("****"), "{debug}");
}

#[test]
fn every_error_code_is_stable_and_distinct() {
    let errors = [
        CodiceFiscale::parse("").unwrap_err(),
        CodiceFiscale::parse("ABC").unwrap_err(),
        CodiceFiscale::parse("RSS1RA80A01H501U").unwrap_err(),
        CodiceFiscale::parse("RSSMRA80Z01H501U").unwrap_err(),
        CodiceFiscale::parse(&with_check("RSSMRA80A99H501")).unwrap_err(),
        CodiceFiscale::parse("RSSMRA80A01H501X").unwrap_err(),
        CodiceFiscale::parse(&with_check("RSSMRA80A01Z999")).unwrap_err(),
    ];
    let codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
    assert_eq!(codes, CfError::CODES[..7]);
}
