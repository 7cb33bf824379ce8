//! Integration tests of the Belfiore place table through the public API.

// Wrapped in a module so that `cargo test place` selects these tests.
mod place_api {
    use anist_core::place::{self, PlaceEra, PlaceError, PlaceKind};
    use anist_core::ErrorCode;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn code_bytes(era: &PlaceEra) -> [u8; 4] {
        era.code().as_bytes().try_into().unwrap_or([0; 4])
    }

    #[test]
    fn roma_and_afghanistan() {
        let roma = place::latest(b"H501");
        assert_eq!(roma.map(PlaceEra::name), Some("ROMA"));
        assert_eq!(roma.map(PlaceEra::province), Some("RM"));
        assert_eq!(roma.map(PlaceEra::kind), Some(PlaceKind::Comune));
        assert_eq!(roma.and_then(PlaceEra::valid_to), None);
        assert!(place::is_known(b"H501"));
        assert_eq!(place::existed_on(b"H501", 20100517), Some(true));

        let afg = place::latest(b"Z200");
        assert_eq!(afg.map(PlaceEra::name), Some("AFGHANISTAN"));
        assert_eq!(afg.map(PlaceEra::province), Some("EE"));
        assert_eq!(afg.map(PlaceEra::kind), Some(PlaceKind::ForeignState));
    }

    #[test]
    fn eras_and_dates() {
        // A001: ABANO (PD) until 1924-11-13, then ABANO TERME.
        let eras = place::eras(b"A001");
        assert_eq!(eras.len(), 2);
        assert_eq!(eras[0].name(), "ABANO");
        assert_eq!(eras[0].valid_to(), Some(date(1924, 11, 13)));
        assert_eq!(eras[1].name(), "ABANO TERME");
        assert_eq!(eras[1].valid_from(), Some(date(1924, 11, 14)));
        assert_eq!(
            place::at_date(b"A001", date(1910, 1, 1)).map(PlaceEra::name),
            Some("ABANO")
        );
        assert_eq!(
            place::at_date(b"A001", date(2010, 1, 1)).map(PlaceEra::name),
            Some("ABANO TERME")
        );

        // Suppressed: Abbadia Alpina (TO), merged into Pinerolo after 1928-12-05.
        assert_eq!(place::existed_on(b"A003", 19281205), Some(true));
        assert_eq!(place::existed_on(b"A003", 19500101), Some(false));
        assert_eq!(
            place::latest(b"A003").and_then(PlaceEra::valid_to),
            Some(date(1928, 12, 5))
        );

        // Instituted later: Fiumicino (RM) since 1992-04-04.
        assert_eq!(place::existed_on(b"M297", 19750301), Some(false));
        assert_eq!(place::existed_on(b"M297", 19950301), Some(true));

        // Ceased foreign states.
        assert_eq!(place::existed_on(b"Z118", 19800101), Some(true)); // Jugoslavia
        assert_eq!(place::existed_on(b"Z118", 20100101), Some(false));
        assert_eq!(place::existed_on(b"Z135", 19800101), Some(true)); // URSS
        assert_eq!(place::existed_on(b"Z105", 19800101), Some(true)); // Cecoslovacchia
        assert_eq!(place::existed_on(b"Z111", 19800101), Some(true)); // DDR
        assert_eq!(place::existed_on(b"Z160", 20200101), Some(true)); // Kosovo
    }

    #[test]
    fn malformed_input_is_unknown() {
        for code in [
            b"H000",
            b"1234",
            b"h501",
            b"H5O1",
            b" 501",
            b"\0\0\0\0",
            b"\xc3\xa001",
        ] {
            assert!(!place::is_known(code), "{code:?}");
            assert!(place::eras(code).is_empty());
            assert_eq!(place::existed_on(code, 20000101), None);
            assert_eq!(place::at_date(code, date(2000, 1, 1)), None);
            assert_eq!(place::latest(code), None);
        }
    }

    #[test]
    fn counts() {
        let current_comuni = place::all()
            .iter()
            .filter(|e| e.kind() == PlaceKind::Comune && e.is_current())
            .count();
        assert!(current_comuni > 7800, "{current_comuni}");
        let mut foreign: Vec<&str> = place::all()
            .iter()
            .filter(|e| e.kind() == PlaceKind::ForeignState)
            .map(PlaceEra::code)
            .collect();
        foreign.dedup();
        assert!(foreign.len() > 200, "{}", foreign.len());
    }

    #[test]
    fn every_era_is_found_by_its_code() {
        for era in place::all() {
            let code = code_bytes(era);
            assert!(place::is_known(&code), "{era:?}");
            assert!(place::eras(&code).contains(era), "{era:?}");
            assert!(place::latest(&code).is_some());
        }
    }

    #[test]
    fn find_by_name() {
        let code = |q: &str| place::find_by_name(q, None).map(PlaceEra::code);
        assert_eq!(code("roma"), Ok("H501"));
        assert_eq!(code("Forlì"), Ok("D704"));
        assert_eq!(code("FORLI"), Ok("D704"));
        assert_eq!(code("Sant'Angelo Lodigiano"), Ok("I274"));
        assert_eq!(code("SANT ANGELO   LODIGIANO"), Ok("I274"));
        assert_eq!(code("FRANCIA"), Ok("Z110"));
        assert_eq!(code("bozen"), Ok("A952"));

        let err = place::find_by_name("SAN TEODORO", None);
        assert!(matches!(err, Err(PlaceError::Ambiguous { .. })), "{err:?}");
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("(ME)") && msg.contains("(SS)"), "{msg}");
        assert_eq!(code("San Teodoro (ME)"), Ok("I328"));

        let y2000 = Some(date(2000, 1, 1));
        let err = place::find_by_name("CALLIANO", y2000);
        assert_eq!(
            err.as_ref().err().map(ErrorCode::code),
            Some("place_ambiguous")
        );
        assert_eq!(
            place::find_by_name("Calliano (AT)", y2000).map(PlaceEra::province),
            Ok("AT")
        );

        let err = place::find_by_name("Nowhere", None);
        assert_eq!(
            err.as_ref().err().map(ErrorCode::code),
            Some("place_unknown")
        );
    }

    proptest! {
        #[test]
        fn lookups_agree_on_any_bytes(code in any::<[u8; 4]>(), ymd in real_ymd(1, 3000)) {
            check_agreement(&code, ymd)?;
        }

        #[test]
        fn lookups_agree_on_well_formed_codes(
            code in "[A-Z][0-9]{3}",
            ymd in real_ymd(1800, 2100),
        ) {
            let bytes: [u8; 4] = code.as_bytes().try_into().unwrap_or([0; 4]);
            check_agreement(&bytes, ymd)?;
        }

        /// A number that packs no date (`20051232`) gets an answer, never a
        /// panic; which answer is not specified (`existed_on` takes the
        /// packing of a real date; a run of 3,000 cases found `I428` on
        /// `20051232`, inside the hull of two eras that meet from 31/12/2005
        /// to 01/01/2006).
        #[test]
        fn any_number_is_answered(code in "[A-Z][0-9]{3}", ymd in any::<u32>()) {
            let bytes: [u8; 4] = code.as_bytes().try_into().unwrap_or([0; 4]);
            prop_assert_eq!(place::existed_on(&bytes, ymd).is_some(), place::is_known(&bytes));
        }

        #[test]
        fn find_by_name_never_panics(query in any::<String>(), days in proptest::option::of(-200_000i64..200_000)) {
            let day = days.and_then(|d| date(1970, 1, 1).checked_add_signed(chrono::TimeDelta::days(d)));
            let _ = place::find_by_name(&query, day);
        }

        #[test]
        fn find_by_name_never_panics_on_province_like_input(
            query in "[ -~àèìòù]{0,30}(\\([a-zA-Z]{0,3}\\))?[ )(]{0,2}",
        ) {
            match place::find_by_name(&query, None) {
                Ok(era) => prop_assert!(!era.name().is_empty()),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }

        #[test]
        fn any_era_is_found_by_code_and_date(i in 0usize..100_000) {
            let all = place::all();
            let era = &all[i % all.len()];
            let code = code_bytes(era);
            prop_assert!(place::eras(&code).contains(era));
            let day = era.valid_from().or_else(|| era.valid_to()).unwrap_or(date(2000, 1, 1));
            prop_assert!(era.contains(day));
            prop_assert_eq!(place::existed_on(&code, place::date_to_ymd(day)), Some(true));
            prop_assert!(place::at_date(&code, day).is_some());
        }
    }

    /// The packing ([`place::date_to_ymd`]) of a real date in
    /// `from_year..to_year`: the numbers `existed_on` is defined on.
    fn real_ymd(from_year: i32, to_year: i32) -> impl Strategy<Value = u32> {
        let first = date(from_year, 1, 1);
        let days = (date(to_year, 1, 1) - first).num_days();
        (0..days).prop_map(move |d| place::date_to_ymd(first + chrono::TimeDelta::days(d)))
    }

    fn check_agreement(code: &[u8; 4], ymd: u32) -> Result<(), TestCaseError> {
        let eras = place::eras(code);
        let known = place::is_known(code);
        prop_assert_eq!(known, !eras.is_empty());
        match place::existed_on(code, ymd) {
            None => prop_assert!(!known),
            Some(existed) => {
                prop_assert!(known);
                prop_assert_eq!(existed, eras.iter().any(|e| e.contains_ymd(ymd)));
            }
        }
        for era in eras {
            prop_assert_eq!(era.code().as_bytes(), &code[..]);
        }
        prop_assert!(eras
            .windows(2)
            .all(|w| w[0].valid_from() <= w[1].valid_from()));
        prop_assert_eq!(place::latest(code), eras.last());
        Ok(())
    }
}

/// `existed_on` answers from a per-code hull when the eras leave no gap; it
/// must agree with walking the eras, at every era boundary of every code.
#[test]
fn existed_on_agrees_with_the_eras_at_every_boundary() {
    use anist_core::place;
    use chrono::{Days, NaiveDate};
    let ymd = |d: NaiveDate| place::date_to_ymd(d);
    let mut checked = 0usize;
    let mut gapped_false = 0usize;
    for era in place::all() {
        let code: &[u8; 4] = era.code().as_bytes().try_into().expect("4 bytes");
        let eras = place::eras(code);
        let mut dates = vec![18000101, 19000101, 19460602, 20260101, 99991231];
        for e in eras {
            for d in [e.valid_from(), e.valid_to()].into_iter().flatten() {
                dates.push(ymd(d));
                dates.extend(d.checked_sub_days(Days::new(1)).map(ymd));
                dates.extend(d.checked_add_days(Days::new(1)).map(ymd));
            }
        }
        for d in dates {
            let slow = eras.iter().any(|e| e.contains_ymd(d));
            assert_eq!(
                place::existed_on(code, d),
                Some(slow),
                "{} at {d}",
                era.code()
            );
            checked += 1;
            gapped_false += usize::from(!slow);
        }
    }
    assert!(
        checked > 100_000 && gapped_false > 1000,
        "{checked} {gapped_false}"
    );
}
