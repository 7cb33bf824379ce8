//! ISEE rules through the public API: bonus nido bands, DSU validity,
//! benefit codes, kinds.

// Test helpers outside #[test] functions unwrap too: a panic is a failing test.
#![allow(clippy::unwrap_used)]

use anist_core::cf::AnyCodiceFiscale;
use anist_core::isee::{
    bonus_nido_applies, bonus_nido_for, bonus_nido_max_annual, corrente_valid_until,
    dsu_valid_until, parse_attestazione, parse_indicatore, Euro, IseeKind, PrestazioneDaErogare,
    BONUS_NIDO_FIRST_BAND_LIMIT, BONUS_NIDO_SECOND_BAND_LIMIT,
};
use anist_core::ErrorCode;
use chrono::NaiveDate;
use proptest::prelude::*;

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

fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}

/// An ISEE corrente presented in January is valid until July (six months
/// from the modulo sostitutivo), not until the DSU's 31 December: the
/// validity of the record, its `is_valid_on` and its expiry agree.
#[test]
fn isee_corrente_is_valid_six_months() {
    assert_eq!(corrente_valid_until(d(2026, 1, 15)), d(2026, 7, 15));
    assert_eq!(corrente_valid_until(d(2026, 8, 31)), d(2027, 2, 28));
    // An attestazione without DataScadenzaDSUCorrente: six months from the
    // modulo sostitutivo.
    let xml = r#"<EsitoAttestazione xmlns="http://inps.it/ISEERiforma"><Attestazione NumeroProtocolloDSU="INPS-ISEE-2026-00000042K-01" DataPresentazione="2026-01-10" CodiceFiscaleDichiarante="RSSMRA80A01H501U"><Ordinario Corrente="true" DataPresentazioneModuloSostitutivo="2026-01-15"><NucleoFamiliare><ComponenteNucleo RapportoConDichiarante="D" Cognome="X" Nome="Y" CodiceFiscale="RSSMRA80A01H501U"/></NucleoFamiliare><ISEEOrdinario><Valori ISEE="8000.00"/></ISEEOrdinario></Ordinario></Attestazione></EsitoAttestazione>"#;
    let a = parse_attestazione(xml.as_bytes()).unwrap();
    assert!(a.is_corrente());
    assert_eq!(a.dsu_valid_until(), d(2026, 12, 31));
    assert_eq!(a.corrente_expires_on(), Some(d(2026, 7, 15)));
    assert_eq!(a.valid_until(), d(2026, 7, 15));
    assert!(a.is_valid_on(d(2026, 7, 15)));
    assert!(!a.is_valid_on(d(2026, 7, 16)));
    assert!(!a.is_valid_on(d(2026, 12, 2)));
    // An indicatore of kind Corrente: six months from the DSU when INPS
    // gives no expiry, its DataScadenzaDSUCorrente otherwise.
    let ind = |extra: &str| {
        parse_indicatore(format!(r#"<Indicatore xmlns="http://inps.it/ISEERiforma" TipoIndicatore="Corrente" ISEE="8000.00" DataPresentazione="2026-01-12"{extra}/>"#).as_bytes()).unwrap()
    };
    let i = ind("");
    assert!(i.is_corrente());
    assert_eq!(i.valid_until(), Some(d(2026, 7, 12)));
    assert!(!i.is_valid_on(d(2026, 12, 2)));
    let i = ind(r#" DataScadenzaDSUCorrente="2026-08-01""#);
    assert_eq!(i.corrente_valid_until, Some(d(2026, 8, 1)));
    assert_eq!(i.valid_until(), Some(d(2026, 8, 1)));
    assert!(i.is_valid_on(d(2026, 8, 1)));
    assert!(!i.is_valid_on(d(2026, 8, 2)));
    // Never beyond the DSU's year.
    let i = ind(r#" DataScadenzaDSUCorrente="2027-03-01""#);
    assert_eq!(i.valid_until(), Some(d(2026, 12, 31)));
    // An ordinario is untouched.
    let o = parse_indicatore(br#"<Indicatore xmlns="http://inps.it/ISEERiforma" TipoIndicatore="Ordinario" ISEE="8000.00" DataPresentazione="2026-01-12"/>"#).unwrap();
    assert_eq!(o.corrente_expires_on(), None);
    assert_eq!(o.valid_until(), Some(d(2026, 12, 31)));
}

#[test]
fn bonus_nido_only_under_three() {
    let on = d(2026, 12, 2);
    // Born 1 January 2009: 17 years old.
    let teen = AnyCodiceFiscale::parse("RSSMRA09A01H501L").unwrap();
    assert!(!bonus_nido_applies(&teen, on));
    assert_eq!(bonus_nido_for(&teen, on, Some(Euro::from_cents(1))), None);
    // Born 1 January 2025: under three.
    let baby = AnyCodiceFiscale::parse("RSSMRA25A01H501L").unwrap();
    assert!(bonus_nido_applies(&baby, on));
    assert_eq!(
        bonus_nido_for(&baby, on, None).map(|e| e.to_string()),
        Some("1.500,00 €".to_string())
    );
}

proptest! {
    /// The corrente never outlives its DSU nor six months, and
    /// `is_valid_on` is exactly the window [presented, valid_until].
    #[test]
    fn corrente_window(days in 0u64..3000, modulo_after in 0u64..60, probe in 0u64..500) {
        let presented = d(2020, 1, 1) + chrono::Days::new(days);
        let modulo = presented + chrono::Days::new(modulo_after);
        let xml = format!(
            r#"<EsitoAttestazione xmlns="http://inps.it/ISEERiforma"><Attestazione NumeroProtocolloDSU="INPS-ISEE-2026-00000042K-01" DataPresentazione="{presented}" CodiceFiscaleDichiarante="RSSMRA80A01H501U"><Ordinario Corrente="true" DataPresentazioneModuloSostitutivo="{modulo}"><NucleoFamiliare><ComponenteNucleo RapportoConDichiarante="D" Cognome="X" Nome="Y" CodiceFiscale="RSSMRA80A01H501U"/></NucleoFamiliare><ISEEOrdinario><Valori ISEE="1.00"/></ISEEOrdinario></Ordinario></Attestazione></EsitoAttestazione>"#
        );
        let a = parse_attestazione(xml.as_bytes()).unwrap();
        let until = a.valid_until();
        prop_assert!(until <= dsu_valid_until(presented));
        prop_assert!(until <= corrente_valid_until(modulo));
        let date = presented + chrono::Days::new(probe);
        prop_assert_eq!(a.is_valid_on(date), date <= until);
    }
}
