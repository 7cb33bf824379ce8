//! ISEE rules through the public API: bonus nido bands, DSU validity,
//! benefit codes, kinds.

// Test helpers outside #[test] functions unwrap too: a panic is a failing test.
#![allow(clippy::unwrap_used)]

use anist_core::isee::{
    bonus_nido_max_annual, dsu_valid_until, Euro, IseeKind, PrestazioneDaErogare,
    BONUS_NIDO_FIRST_BAND_LIMIT, BONUS_NIDO_SECOND_BAND_LIMIT,
};
use anist_core::ErrorCode;
use chrono::NaiveDate;

fn bonus(isee: Option<&str>) -> String {
    bonus_nido_max_annual(isee.map(|s| Euro::parse(s).unwrap())).to_string()
}

#[test]
fn bonus_nido_bands_at_the_boundaries() {
    assert_eq!(bonus(Some("0")), "3.000,00 €");
    assert_eq!(bonus(Some("24.999,99")), "3.000,00 €");
    assert_eq!(bonus(Some("25.000,00")), "3.000,00 €");
    assert_eq!(bonus(Some("25.000,01")), "2.500,00 €");
    assert_eq!(bonus(Some("40.000,00")), "2.500,00 €");
    assert_eq!(bonus(Some("40.000,01")), "1.500,00 €");
    assert_eq!(bonus(Some("1.000.000")), "1.500,00 €");
    assert_eq!(bonus(None), "1.500,00 €");
    assert_eq!(
        BONUS_NIDO_FIRST_BAND_LIMIT.machine().to_string(),
        "25000.00"
    );
    assert_eq!(
        BONUS_NIDO_SECOND_BAND_LIMIT.machine().to_string(),
        "40000.00"
    );
}

#[test]
fn dsu_validity_is_the_calendar_year_from_2020() {
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    for (presented, until) in [
        (d(2020, 1, 1), d(2020, 12, 31)),
        (d(2024, 2, 29), d(2024, 12, 31)),
        (d(2026, 12, 31), d(2026, 12, 31)),
        (d(2019, 9, 1), d(2019, 12, 31)),
        (d(2019, 3, 1), d(2019, 8, 31)),
        (d(2017, 6, 1), d(2018, 1, 15)),
    ] {
        assert_eq!(dsu_valid_until(presented), until, "{presented}");
    }
}

#[test]
fn prestazioni_table() {
    let p = PrestazioneDaErogare::parse("A1.07").unwrap();
    assert_eq!(
        p.description(),
        "Contributi e integrazioni a rette per asili nido"
    );
    for code in [
        "A1.01", "A1.20", "A2.01", "A2.12", "A3.01", "A3.03", "Z9.99",
    ] {
        assert_eq!(PrestazioneDaErogare::parse(code).unwrap().code(), code);
    }
    for code in ["A1.00", "A1.21", "A2.13", "A3.04", "Z9.98", "A4.01"] {
        let e = PrestazioneDaErogare::parse(code).unwrap_err();
        assert_eq!(e.code(), "isee_prestazione_unknown", "{code}");
    }
    for code in ["", "A1", "A1-07", "1A.07", "A1.07.", "A 1.07"] {
        let e = PrestazioneDaErogare::parse(code).unwrap_err();
        assert_eq!(e.code(), "isee_prestazione_format", "{code}");
    }
}

#[test]
fn kinds_keep_unknown_names() {
    assert_eq!(IseeKind::parse("Dottorato"), IseeKind::Dottorato);
    assert_eq!(
        IseeKind::parse("ISEE Nuovo"),
        IseeKind::Other("ISEE Nuovo".into())
    );
    assert_eq!(IseeKind::Other("ISEE Nuovo".into()).as_str(), "ISEE Nuovo");
}
