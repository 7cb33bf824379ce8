//! School years, obligation status and cycles.

use anist_core::meccanografico::CodiceMeccanografico;
use anist_core::school::{
    expected_class, obligation_status, ObligationStatus, SchoolCycle, SchoolYear,
};
use anist_core::ErrorCode;
use chrono::NaiveDate;
use proptest::prelude::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

#[test]
fn parse_every_form() {
    for s in ["2025/2026", "2025/26", "202526", " 2025-2026 ", "2025-26"] {
        let y = SchoolYear::parse(s).expect(s);
        assert_eq!(y.to_string(), "2025/2026");
        assert_eq!((y.start_year(), y.end_year()), (2025, 2026));
    }
    assert_eq!(
        SchoolYear::parse("1999/00").expect("century").to_string(),
        "1999/2000"
    );
    assert_eq!(
        SchoolYear::parse("2025/2026").expect("ok").compact(),
        "202526"
    );
}

#[test]
fn parse_errors() {
    let code = |s| SchoolYear::parse(s).unwrap_err().code();
    assert_eq!(code("2025/2027"), "school_year_not_consecutive");
    assert_eq!(code("2025/25"), "school_year_not_consecutive");
    assert_eq!(code("25/26"), "school_year_format");
    assert_eq!(code(""), "school_year_format");
    assert_eq!(code("2025"), "school_year_format");
    assert_eq!(code("20252026"), "school_year_format");
    assert_eq!(code("abcd/efgh"), "school_year_format");
    assert_eq!(code("1850/1851"), "school_year_range");
}

#[test]
fn boundaries_are_1_september_and_31_august() {
    let y = SchoolYear::starting(2025).expect("ok");
    assert_eq!(y.first_day(), d(2025, 9, 1));
    assert_eq!(y.last_day(), d(2026, 8, 31));
    assert_eq!(SchoolYear::containing(d(2025, 9, 1)), y);
    assert_eq!(SchoolYear::containing(d(2026, 8, 31)), y);
    assert_eq!(SchoolYear::containing(d(2025, 8, 31)), y.previous());
    assert_eq!(SchoolYear::containing(d(2026, 9, 1)), y.next());
    assert!(y.contains(d(2026, 1, 15)) && !y.contains(d(2026, 9, 1)));
    assert_eq!(y.previous().to_string(), "2024/2025");
    assert_eq!(y.next().to_string(), "2026/2027");
}

#[test]
fn obligation_cohorts() {
    let y = SchoolYear::starting(2026).expect("ok"); // a.s. 2026/27
    use ObligationStatus::*;
    // Obliged: born 1 Jan - 31 Dec 2020 (first year) ... 2011 (tenth year).
    assert_eq!(
        obligation_status(d(2020, 1, 1), y),
        Compulsory {
            year_of_obligation: 1
        }
    );
    assert_eq!(
        obligation_status(d(2020, 12, 31), y),
        Compulsory {
            year_of_obligation: 1
        }
    );
    assert_eq!(
        obligation_status(d(2011, 1, 1), y),
        Compulsory {
            year_of_obligation: 10
        }
    );
    // Anticipatari: turn 6 between 1 January and 30 April 2027.
    assert_eq!(
        obligation_status(d(2021, 1, 1), y),
        NotYetObliged {
            may_enrol_early: true
        }
    );
    assert_eq!(
        obligation_status(d(2021, 4, 30), y),
        NotYetObliged {
            may_enrol_early: true
        }
    );
    assert_eq!(
        obligation_status(d(2021, 5, 1), y),
        NotYetObliged {
            may_enrol_early: false
        }
    );
    assert_eq!(
        obligation_status(d(2023, 2, 1), y),
        NotYetObliged {
            may_enrol_early: false
        }
    );
    // After ten years: diritto-dovere for two more, then beyond.
    assert_eq!(obligation_status(d(2010, 12, 31), y), DirittoDovere);
    assert_eq!(obligation_status(d(2009, 1, 1), y), DirittoDovere);
    assert_eq!(obligation_status(d(2008, 12, 31), y), Beyond);
    assert!(obligation_status(d(2015, 6, 1), y).is_compulsory());
    assert!(!DirittoDovere.is_compulsory());
    assert_eq!(DirittoDovere.as_str(), "diritto_dovere");
}

#[test]
fn expected_classes() {
    let y = SchoolYear::starting(2026).expect("ok");
    assert_eq!(
        expected_class(d(2023, 5, 1), y),
        Some((SchoolCycle::Infanzia, 1))
    );
    assert_eq!(
        expected_class(d(2020, 5, 1), y),
        Some((SchoolCycle::Primaria, 1))
    );
    assert_eq!(
        expected_class(d(2016, 5, 1), y),
        Some((SchoolCycle::Primaria, 5))
    );
    assert_eq!(
        expected_class(d(2015, 5, 1), y),
        Some((SchoolCycle::SecondariaPrimoGrado, 1))
    );
    assert_eq!(
        expected_class(d(2012, 5, 1), y),
        Some((SchoolCycle::SecondariaSecondoGrado, 1))
    );
    assert_eq!(
        expected_class(d(2008, 5, 1), y),
        Some((SchoolCycle::SecondariaSecondoGrado, 5))
    );
    assert_eq!(expected_class(d(2007, 5, 1), y), None);
    assert_eq!(expected_class(d(2024, 5, 1), y), None);
}

#[test]
fn cycles_from_school_codes() {
    let cycles = |c: &str| SchoolCycle::of_school(&CodiceMeccanografico::parse(c).expect(c));
    assert_eq!(cycles("NAAA82202Q"), &[SchoolCycle::Infanzia]);
    assert_eq!(cycles("RMEE220012"), &[SchoolCycle::Primaria]);
    assert_eq!(
        cycles("PEIC828004"),
        &[
            SchoolCycle::Infanzia,
            SchoolCycle::Primaria,
            SchoolCycle::SecondariaPrimoGrado
        ]
    );
    assert_eq!(cycles("TNIS00800D"), &[SchoolCycle::SecondariaSecondoGrado]);
    assert_eq!(cycles("CAPS006016"), &[SchoolCycle::SecondariaSecondoGrado]);
    assert_eq!(cycles("BITF00401D"), &[SchoolCycle::SecondariaSecondoGrado]);
    assert_eq!(cycles("FGRH100008"), &[SchoolCycle::SecondariaSecondoGrado]);
    assert_eq!(cycles("TNCT70100B"), &[SchoolCycle::Cpia]);
    assert_eq!(cycles("BS1A23800X"), &[SchoolCycle::Infanzia]);
    assert_eq!(SchoolCycle::Primaria.classes(), 5);
    assert_eq!(
        SchoolCycle::SecondariaPrimoGrado.as_str(),
        "secondaria_primo_grado"
    );
}

#[test]
fn serde_as_string_in_any_form() {
    let y: SchoolYear = serde_json::from_str("\"2025/26\"").expect("ok");
    assert_eq!(serde_json::to_string(&y).expect("ok"), "\"2025/2026\"");
    assert!(serde_json::from_str::<SchoolYear>("\"2025/2027\"").is_err());
}

proptest! {
    #[test]
    fn display_parse_round_trip(start in 1900u16..=2999) {
        let y = SchoolYear::starting(start).unwrap();
        prop_assert_eq!(SchoolYear::parse(&y.to_string()).unwrap(), y);
        prop_assert_eq!(SchoolYear::parse(&y.compact()).unwrap(), y);
        let short = format!("{}/{:02}", start, (start + 1) % 100);
        prop_assert_eq!(SchoolYear::parse(&short).unwrap(), y);
    }

    #[test]
    fn containing_contains(days in 0i64..60_000) {
        let date = d(1902, 1, 1) + chrono::Duration::days(days);
        let y = SchoolYear::containing(date);
        prop_assert!(y.contains(date));
        prop_assert!(!y.previous().contains(date) && !y.next().contains(date));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in ".*") {
        if let Err(e) = SchoolYear::parse(&s) {
            prop_assert!(e.code().starts_with("school_year_"));
        }
    }

    /// Each birth cohort is compulsory for exactly ten consecutive school years.
    #[test]
    fn ten_years_of_obligation(year in 1950i32..2030, month in 1u32..=12) {
        let birth = d(year, month, 1);
        let obliged: Vec<u16> = (1940u16..2060)
            .filter(|s| obligation_status(birth, SchoolYear::starting(*s).unwrap()).is_compulsory())
            .collect();
        prop_assert_eq!(obliged.len(), 10);
        prop_assert_eq!(i32::from(obliged[0]), year + 6);
        prop_assert!(obliged.windows(2).all(|w| w[1] == w[0] + 1));
    }
}
