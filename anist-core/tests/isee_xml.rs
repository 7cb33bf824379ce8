//! The INPS ISEE documents: synthetic samples parsed to exact values, and
//! malformed documents giving the expected error codes.

// Test helpers outside #[test] functions unwrap too: a panic is a failing test.
#![allow(clippy::unwrap_used)]

use anist_core::cf::{AnyCodiceFiscale, CodiceFiscale};
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{
    bonus_nido_max_annual, parse_attestazione, parse_attestazione_base64, parse_indicatore,
    parse_indicatore_base64, Attestazione, Beneficiario, Calcolo, ComponenteNucleo, Euro,
    Indicatore, IseeEntry, IseeKind, IseeValues, IseeXmlError, PrestazioneDaErogare, Rapporto,
    RicercaKind, Scala, StatoDomanda,
};
use anist_core::ErrorCode;
use chrono::NaiveDate;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/isee/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cf(s: &str) -> AnyCodiceFiscale {
    AnyCodiceFiscale::Persona(CodiceFiscale::parse(s).unwrap())
}

fn eur(s: &str) -> Euro {
    Euro::parse_decimal(s).unwrap()
}

fn scala(s: &str) -> Scala {
    Scala::parse(s).unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn dsu(s: &str) -> DsuProtocol {
    DsuProtocol::parse(s).unwrap()
}

fn values(isee: &str, ise: &str, scala_: &str, isr: &str, isp: &str) -> IseeValues {
    IseeValues {
        isee: eur(isee),
        ise: Some(eur(ise)),
        isr: Some(eur(isr)),
        isp: Some(eur(isp)),
        scala: Some(scala(scala_)),
    }
}

fn member(
    code: &str,
    surname: &str,
    name: &str,
    rel: &str,
    flag: Option<bool>,
) -> ComponenteNucleo {
    ComponenteNucleo {
        codice_fiscale: cf(code),
        surname: Some(surname.into()),
        name: Some(name.into()),
        relationship: Some(rel.into()),
        flag_assenza_reddito: flag,
    }
}

fn beneficiary(code: &str, surname: &str, name: &str) -> Option<Beneficiario> {
    Some(Beneficiario {
        codice_fiscale: cf(code),
        surname: Some(surname.into()),
        name: Some(name.into()),
    })
}

fn att(name: &str) -> Attestazione {
    match parse_attestazione(&sample(name)) {
        Ok(a) => a,
        Err(e) => panic!("{name}: {e} ({})", e.code()),
    }
}

fn ind(name: &str) -> Indicatore {
    match parse_indicatore(&sample(name)) {
        Ok(a) => a,
        Err(e) => panic!("{name}: {e} ({})", e.code()),
    }
}

fn att_err(bytes: &[u8]) -> IseeXmlError {
    match parse_attestazione(bytes) {
        Ok(a) => panic!("should not parse: {a:?}"),
        Err(e) => e,
    }
}

fn ind_err(bytes: &[u8]) -> IseeXmlError {
    match parse_indicatore(bytes) {
        Ok(a) => panic!("should not parse: {a:?}"),
        Err(e) => e,
    }
}

/// Replaces the first occurrence of `from` (which must be there).
fn edit(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let f = from.as_bytes();
    let i = bytes
        .windows(f.len())
        .position(|w| w == f)
        .unwrap_or_else(|| panic!("{from:?} not in sample"));
    let mut out = bytes[..i].to_vec();
    out.extend_from_slice(to.as_bytes());
    out.extend_from_slice(&bytes[i + f.len()..]);
    out
}

#[test]
fn indicatore_ordinario_utf8() {
    let i = ind("indicatore_ordinario_utf8.xml");
    assert_eq!(i.kind, Some(IseeKind::Ordinario));
    assert_eq!(
        i.values,
        values("15000.00", "30600.00", "2.04", "25000.00", "28000.00")
    );
    assert_eq!(i.isee().cents(), 1_500_000);
    assert_eq!(i.protocollo_dsu, Some(dsu("INPS-ISEE-2025-00654321C-00")));
    assert_eq!(i.presented_on, Some(d(2025, 3, 18)));
    assert!(i.household.is_empty());
    let r = i.ricerca.as_ref().unwrap();
    assert_eq!(r.kind, RicercaKind::CodiceFiscale);
    assert_eq!(r.codice_fiscale, Some(cf("SPSDRA79S02L219B")));
    assert_eq!(r.data_validita, Some(d(2025, 6, 30)));
    assert_eq!(
        r.prestazione(),
        Some(PrestazioneDaErogare::MENSA_SCOLASTICA)
    );
    assert_eq!(
        r.protocollo_domanda.as_deref(),
        Some("Mensa – Città 2025/17")
    );
    assert_eq!(r.stato_domanda(), Some(StatoDomanda::DaErogare));
    assert_eq!(r.protocollo_dsu, None);
    // Validity: from presentation to 31 December of the same year.
    assert_eq!(i.valid_until(), Some(d(2025, 12, 31)));
    assert!(!i.is_valid_on(d(2025, 3, 17)));
    assert!(i.is_valid_on(d(2025, 3, 18)));
    assert!(i.is_valid_on(d(2025, 12, 31)));
    assert!(!i.is_valid_on(d(2026, 1, 1)));
    assert!(i.raw_xml.starts_with("<?xml"));
    assert!(i.raw_xml.contains("Città"));
}

#[test]
fn attestazione_latin1_with_minorenni_and_an_omission() {
    let bytes = sample("attestazione_minorenni_latin1.xml");
    // The accented surname is one Latin-1 byte, not UTF-8.
    assert!(bytes.windows(4).any(|w| w == b"CAR\xd9"));
    assert!(std::str::from_utf8(&bytes).is_err());
    let a = att("attestazione_minorenni_latin1.xml");

    assert_eq!(a.dichiarante, cf("BLLNMO87L45F205A"));
    assert_eq!(a.protocollo_dsu, dsu("INPS-ISEE-2025-00123456B-00"));
    assert_eq!(
        a.protocollo_mittente.as_deref(),
        Some("CAF00000-TST001-2025-N0000001")
    );
    assert_eq!(a.presented_on, d(2025, 2, 3));
    assert_eq!(a.data_validita, Some(d(2025, 12, 31)));
    assert_eq!(a.corrente_valid_until, None);
    assert_eq!(a.corrente, None);
    assert!(!a.is_corrente());

    assert_eq!(
        a.household,
        vec![
            member("BLLNMO87L45F205A", "BELLOMO", "NOEMI", "D", Some(false)),
            member("BLLZOE09E60F205A", "BELLOMO", "ZOË", "F", Some(true)),
            member("CRANCL23P14A794E", "CARÙ", "NICOLÒ", "F", Some(true)),
            member("PLLLRI44B68A794O", "PELLEGRINI", "ILARIA", "P", None),
        ]
    );
    assert_eq!(a.household_size(), 4);
    assert!(a.household[0].is_dichiarante());
    assert!(!a.household[1].is_dichiarante());
    assert!(a.nucleo_ristretto.is_empty());

    let expected = vec![
        IseeEntry {
            kind: IseeKind::Ordinario,
            beneficiary: None,
            isee: Some(eur("15507.52")),
            values: Some(values(
                "15507.52", "41250.00", "2.66", "33000.00", "41250.00",
            )),
            issued_on: Some(d(2025, 2, 5)),
            calcolo: Calcolo::Proprio,
            nucleo_ristretto: false,
            section: "ISEEOrdinario".into(),
        },
        IseeEntry {
            kind: IseeKind::Minorenni,
            beneficiary: beneficiary("BLLZOE09E60F205A", "BELLOMO", "ZOË"),
            isee: Some(eur("15507.52")),
            values: None,
            issued_on: None,
            calcolo: Calcolo::UgualeOrdinario,
            nucleo_ristretto: false,
            section: "ComponenteMinorenne".into(),
        },
        IseeEntry {
            kind: IseeKind::Minorenni,
            beneficiary: beneficiary("CRANCL23P14A794E", "CARÙ", "NICOLÒ"),
            isee: Some(eur("24987.40")),
            values: Some(values(
                "24987.40", "71213.09", "2.85", "58000.00", "66065.45",
            )),
            issued_on: Some(d(2025, 2, 5)),
            calcolo: Calcolo::ComponenteAggiuntiva,
            nucleo_ristretto: false,
            section: "ISEEMinAgg".into(),
        },
        IseeEntry {
            kind: IseeKind::SocioSanitarioResidenziale,
            beneficiary: beneficiary("PLLLRI44B68A794O", "PELLEGRINI", "ILARIA"),
            isee: Some(eur("9876.54")),
            values: Some(values("9876.54", "9876.54", "1.00", "8000.00", "9382.70")),
            issued_on: Some(d(2025, 2, 6)),
            calcolo: Calcolo::Proprio,
            nucleo_ristretto: false,
            section: "ISEESocioSanRes".into(),
        },
    ];
    assert_eq!(a.entries, expected);
    assert_eq!(
        a.kinds(),
        vec![
            IseeKind::Ordinario,
            IseeKind::Minorenni,
            IseeKind::SocioSanitarioResidenziale
        ]
    );
    assert_eq!(a.isee(), Some(eur("15507.52")));
    let nicolo = cf("CRANCL23P14A794E");
    assert_eq!(
        a.isee_for(&IseeKind::Minorenni, &nicolo),
        Some(eur("24987.40"))
    );
    assert_eq!(
        a.isee_for(&IseeKind::Minorenni, &cf("BLLZOE09E60F205A")),
        Some(eur("15507.52"))
    );
    assert_eq!(
        a.isee_for(&IseeKind::Ordinario, &nicolo),
        Some(eur("15507.52"))
    );
    // Not a member: nothing.
    assert_eq!(
        a.isee_for(&IseeKind::Ordinario, &cf("SPSDRA79S02L219B")),
        None
    );
    assert_eq!(a.isee_for(&IseeKind::Universitario, &nicolo), None);
    assert_eq!(
        bonus_nido_max_annual(a.isee_for(&IseeKind::Minorenni, &nicolo)).cents(),
        300_000
    );

    assert!(a.has_omissioni_difformita());
    assert_eq!(a.omissioni_difformita.len(), 1);
    let o = &a.omissioni_difformita[0];
    assert_eq!(o.codice_fiscale, Some(cf("BLLNMO87L45F205A")));
    assert_eq!(o.tipo.as_deref(), Some("OMISSIONE"));
    assert_eq!(o.data_controllo_ae, Some(d(2025, 2, 4)));
    assert!(!o.reddito_ae);
    assert_eq!(
        o.rapporti,
        vec![Rapporto {
            tipo: Some("01".into()),
            identificativo: Some("IT00X0000000000000000000001".into()),
            codice_fiscale_operatore: Some("00000010008".into()),
            operatore: Some("BANCA DI PROVA".into()),
            data_inizio: None,
            data_fine: None,
            saldo_31_12: Some(eur("1250.00")),
            valore: None,
            consistenza_media: Some(eur("980.50")),
        }]
    );
    assert_eq!(a.variazione, None);

    let r = a.ricerca.as_ref().unwrap();
    assert_eq!(r.kind, RicercaKind::CodiceFiscale);
    assert_eq!(r.codice_fiscale, Some(nicolo));
    assert_eq!(
        r.prestazione(),
        Some(PrestazioneDaErogare::CONTRIBUTI_RETTE_ASILI_NIDO)
    );
    assert_eq!(r.protocollo_domanda.as_deref(), Some("NIDO-2025-0042"));

    assert_eq!(a.valid_until(), d(2025, 12, 31));
    assert!(a.is_valid_on(d(2025, 10, 1)));
    assert!(!a.is_valid_on(d(2025, 2, 2)));
    assert!(!a.is_valid_on(d(2026, 1, 1)));
    // The raw document is kept, decoded.
    assert!(a.raw_xml.contains("CARÙ"));
}

#[test]
fn attestazione_corrente() {
    let a = att("attestazione_corrente.xml");
    assert!(a.is_corrente());
    let c = a.corrente.as_ref().unwrap();
    assert_eq!(c.modulo_presented_on, Some(d(2025, 6, 10)));
    assert_eq!(
        c.modulo_protocol.as_deref(),
        Some("INPS-ISEE-2025-00777777Q-00")
    );
    assert_eq!(a.corrente_valid_until, Some(d(2025, 12, 9)));
    assert_eq!(a.protocollo_dsu.version(), 1);
    let h = a.headline().unwrap();
    assert_eq!(h.kind, IseeKind::Corrente);
    assert_eq!(
        h.values,
        Some(values("7796.18", "12240.00", "1.57", "11000.00", "6200.00"))
    );
    assert_eq!(a.kinds(), vec![IseeKind::Corrente, IseeKind::Minorenni]);
    assert_eq!(a.isee(), Some(eur("7796.18")));
    // ISEEOrd with no ISEE attribute: the minor gets the household value.
    let elia = cf("GLLLEI15D03F839V");
    let m = a.entries_of(&IseeKind::Minorenni).next().unwrap();
    assert_eq!(m.calcolo, Calcolo::UgualeOrdinario);
    assert_eq!(m.isee, Some(eur("7796.18")));
    assert_eq!(
        a.isee_for(&IseeKind::Minorenni, &elia),
        Some(eur("7796.18"))
    );
    assert_eq!(a.isee_for(&IseeKind::Ordinario, &elia), None);
    assert_eq!(a.isee_for(&IseeKind::Corrente, &elia), Some(eur("7796.18")));
    // Valid while both the DSU and the ISEE corrente are.
    assert!(a.is_valid_on(d(2025, 12, 9)));
    assert!(!a.is_valid_on(d(2025, 12, 10)));
    assert!(!a.is_valid_on(d(2025, 1, 13)));

    let v = a.variazione.as_ref().unwrap();
    assert_eq!(v.tipo.as_deref(), Some("R"));
    assert_eq!(v.data, Some(d(2025, 3, 2)));
    assert_eq!(
        v.protocollo_dsu_variata,
        Some(dsu("INPS-ISEE-2025-00234567D-00"))
    );
    assert_eq!(v.discordanze.len(), 1);
    assert_eq!(v.discordanze[0].codice.as_deref(), Some("D01"));
    assert_eq!(
        v.discordanze[0].tipologia.as_deref(),
        Some("PATRIMONIO MOBILIARE")
    );
    assert_eq!(
        v.discordanze[0].specifica.as_deref(),
        Some("saldo contestato & documentato")
    );
    assert!(!a.has_omissioni_difformita());

    let r = a.ricerca.as_ref().unwrap();
    assert_eq!(r.kind, RicercaKind::ProtocolloDsu);
    assert_eq!(r.protocollo_dsu, Some(a.protocollo_dsu));
    assert_eq!(r.codice_fiscale, Some(elia));
    assert_eq!(
        r.prestazione(),
        Some(PrestazioneDaErogare::CONTRIBUTI_SERVIZI_SCOLASTICI)
    );
    assert_eq!(r.stato_domanda(), Some(StatoDomanda::Erogata));
    assert_eq!(r.data_validita, None);
}

#[test]
fn unknown_elements_are_ignored() {
    let a = att("attestazione_unknown_elements.xml");
    assert_eq!(a.dichiarante, cf("NRDRST75H30G273E"));
    assert_eq!(a.presented_on, d(2024, 9, 30));
    assert_eq!(a.data_validita, None);
    // No DataValidita: the rule gives 31 December of the presentation year.
    assert_eq!(a.valid_until(), d(2024, 12, 31));
    assert_eq!(
        a.household,
        vec![
            member("NRDRST75H30G273E", "NARDELLI", "ORESTE", "D", Some(false)),
            member("NRDSVV78R51G273A", "NARDELLI", "SVEVA", "C", None),
            member("NRDLDR04T01G273T", "NARDELLI", "LEANDRO", "FC", Some(true)),
        ]
    );
    // Comma decimals in the machine form.
    assert_eq!(
        a.headline().and_then(|e| e.values),
        Some(values(
            "25490.20", "52000.00", "2.04", "40000.00", "60000.00"
        ))
    );
    assert_eq!(
        a.kinds(),
        vec![
            IseeKind::Ordinario,
            IseeKind::Other("ISEEFamiglia".into()),
            IseeKind::Universitario
        ]
    );
    let fam = a
        .entries_of(&IseeKind::Other("ISEEFamiglia".into()))
        .next()
        .unwrap();
    assert_eq!(fam.isee, Some(eur("21000.00")));
    assert_eq!(
        fam.values,
        Some(IseeValues {
            isee: eur("21000.00"),
            ise: None,
            isr: None,
            isp: None,
            scala: None
        })
    );
    let leandro = cf("NRDLDR04T01G273T");
    let uni = a.entries_of(&IseeKind::Universitario).next().unwrap();
    assert_eq!(
        uni.beneficiary,
        beneficiary("NRDLDR04T01G273T", "NARDELLI", "LEANDRO")
    );
    assert_eq!(uni.calcolo, Calcolo::ComponenteAttratta);
    assert_eq!(uni.section, "ISEEUniAttr");
    assert_eq!(uni.issued_on, Some(d(2024, 10, 3)));
    assert_eq!(
        a.isee_for(&IseeKind::Universitario, &leandro),
        Some(eur("24796.75"))
    );
    assert_eq!(a.entries.len(), 3);
    let r = a.ricerca.as_ref().unwrap();
    assert_eq!(r.prestazione_da_erogare.as_deref(), Some("A2.03"));
    assert!(a.raw_xml.contains("<non è markup>"));
}

#[test]
fn ridotto() {
    let a = att("attestazione_ridotto.xml");
    assert_eq!(a.nucleo_ristretto.len(), 1);
    assert_eq!(a.nucleo_ristretto[0].codice_fiscale, cf("TVRFPP82A09D612D"));
    assert_eq!(a.nucleo_ristretto[0].relationship.as_deref(), Some("B"));
    assert_eq!(a.kinds(), vec![IseeKind::Ordinario, IseeKind::Ristretto]);
    let r = a.entries_of(&IseeKind::Ristretto).next().unwrap();
    assert!(r.nucleo_ristretto);
    assert_eq!(r.isee, Some(eur("14000.00")));
    assert_eq!(r.issued_on, Some(d(2026, 1, 22)));
    assert_eq!(a.isee(), Some(eur("23529.41")));
    let filippo = cf("TVRFPP82A09D612D");
    assert_eq!(
        a.isee_for(&IseeKind::Ristretto, &filippo),
        Some(eur("14000.00"))
    );
    assert_eq!(
        a.isee_for(&IseeKind::Ordinario, &filippo),
        Some(eur("23529.41"))
    );
    assert_eq!(a.ricerca, None);
    assert!(a.is_valid_on(d(2026, 11, 23)));
}

#[test]
fn indicatore_nucleo_riscontro() {
    let i = ind("indicatore_nucleo_riscontro.xml");
    assert_eq!(i.kind, Some(IseeKind::Minorenni));
    assert_eq!(i.isee(), eur("25000.01"));
    assert_eq!(i.values.ise, None);
    assert_eq!(i.household.len(), 2);
    assert_eq!(i.household[1].codice_fiscale, cf("RBNVIO19B14H501S"));
    let r = i.ricerca.as_ref().unwrap();
    assert_eq!(r.kind, RicercaKind::ProtocolloDsu);
    assert_eq!(r.codice_fiscale, Some(cf("RBNVIO19B14H501S")));
    assert_eq!(r.prestazione(), Some(PrestazioneDaErogare::ASILO_NIDO));
    assert_eq!(bonus_nido_max_annual(Some(i.isee())).cents(), 250_000);
}

#[test]
fn base64_wrapped() {
    let b64 = base64(&sample("attestazione_minorenni_latin1.xml"));
    let a = parse_attestazione_base64(&b64).unwrap();
    assert_eq!(a, att("attestazione_minorenni_latin1.xml"));
    // With MIME-style line breaks.
    let wrapped: String = b64
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
        .collect();
    assert_eq!(parse_attestazione_base64(&wrapped).unwrap(), a);
    let b64 = base64(&sample("indicatore_ordinario_utf8.xml"));
    assert_eq!(
        parse_indicatore_base64(&b64).unwrap(),
        ind("indicatore_ordinario_utf8.xml")
    );
    let e = parse_indicatore_base64("PEluZGljYXRvcmU*").unwrap_err();
    assert_eq!((e.code(), e.position()), ("isee_base64", Some(16)));
}

/// A test-side base64 encoder.
fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn utf8_with_bom_and_utf16() {
    let xml = sample("attestazione_corrente.xml");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&xml);
    let a = parse_attestazione(&bom).unwrap();
    assert_eq!(a.entries, att("attestazione_corrente.xml").entries);
    // UTF-16LE with BOM, declaration changed to UTF-16.
    let text = String::from_utf8(xml).unwrap().replace("UTF-8", "UTF-16");
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let b = parse_attestazione(&utf16).unwrap();
    assert_eq!(b.entries, a.entries);
    // A UTF-8 BOM with an ISO-8859-1 declaration is contradictory.
    let latin = sample("attestazione_minorenni_latin1.xml");
    let mut bad = b"\xEF\xBB\xBF".to_vec();
    bad.extend_from_slice(&latin);
    assert_eq!(att_err(&bad).code(), "isee_xml_encoding");
}

#[test]
fn no_declaration_means_utf8() {
    let i = ind("indicatore_nucleo_riscontro.xml");
    assert_eq!(i.household[0].surname.as_deref(), Some("URBINATI"));
    // Latin-1 bytes without a declaration are not UTF-8.
    let latin = b"<Indicatore ISEE=\"1\" Nota=\"Cant\xf9\"/>";
    let e = ind_err(latin);
    assert_eq!((e.code(), e.position()), ("isee_xml_encoding", Some(32)));
}

// ---------------------------------------------------------------------------
// Malformed documents
// ---------------------------------------------------------------------------

#[test]
fn truncated() {
    let xml = sample("attestazione_minorenni_latin1.xml");
    for cut in [xml.len() - 2, xml.len() - 25, xml.len() / 2, 200, 60, 1] {
        let e = att_err(&xml[..cut]);
        assert_eq!(e.code(), "isee_xml_malformed", "cut at {cut}: {e}");
        assert!(e.position().is_some());
    }
    assert_eq!(att_err(b"").code(), "isee_xml_malformed");
    assert_eq!(att_err(b"  \n").code(), "isee_xml_malformed");
    let e = ind_err(&sample("indicatore_ordinario_utf8.xml")[..300]);
    assert_eq!(e.code(), "isee_xml_malformed");
}

#[test]
fn wrong_root() {
    let e = att_err(&sample("indicatore_ordinario_utf8.xml"));
    assert_eq!(e.code(), "isee_xml_wrong_root");
    assert_eq!(e.element(), Some("Indicatore"));
    assert_eq!(
        e,
        IseeXmlError::WrongRoot {
            expected: "EsitoAttestazione",
            found: "Indicatore".into(),
            pos: 125
        }
    );
    let e = ind_err(&sample("attestazione_corrente.xml"));
    assert_eq!(e.code(), "isee_xml_wrong_root");
    assert_eq!(e.element(), Some("EsitoAttestazione"));
    let e = att_err(b"<soap:Envelope xmlns:soap=\"x\"><Attestazione/></soap:Envelope>");
    assert_eq!(e.element(), Some("Envelope"));
}

#[test]
fn bad_number() {
    let xml = sample("attestazione_minorenni_latin1.xml");
    let bad = edit(&xml, "ISEE=\"15507.52\" ISR", "ISEE=\"15.507,52\" ISR");
    let e = att_err(&bad);
    assert_eq!(e.code(), "isee_xml_bad_value");
    assert_eq!((e.element(), e.attribute()), (Some("Valori"), Some("ISEE")));
    assert!(matches!(
        e,
        IseeXmlError::BadValue {
            cause: Some("euro_format"),
            ..
        }
    ));
    // The message names the place, never the value.
    let msg = e.to_string();
    assert!(msg.contains("Valori") && msg.contains("ISEE"), "{msg}");
    assert!(!msg.contains("507"), "{msg}");
    // The position points at the <Valori> element in the input bytes.
    let pos = e.position().unwrap();
    assert_eq!(&bad[pos - 1..pos - 1 + 7], b"<Valori");

    let bad = edit(&xml, "ISEE=\"24987.40\">", "ISEE=\"24987.405\">");
    let e = att_err(&bad);
    assert_eq!(e.element(), Some("ComponenteMinorenne"));
    assert!(matches!(
        e,
        IseeXmlError::BadValue {
            cause: Some("euro_precision"),
            ..
        }
    ));

    let bad = edit(
        &xml,
        "ScalaEquivalenza=\"2.66\"",
        "ScalaEquivalenza=\"due\"",
    );
    let e = att_err(&bad);
    assert_eq!(e.attribute(), Some("ScalaEquivalenza"));
    let bad = edit(
        &xml,
        "DataPresentazione=\"2025-02-03\"",
        "DataPresentazione=\"03/02/2025\"",
    );
    assert_eq!(att_err(&bad).attribute(), Some("DataPresentazione"));
    let bad = edit(
        &xml,
        "FlagAssenzaReddito=\"true\"",
        "FlagAssenzaReddito=\"forse\"",
    );
    assert_eq!(att_err(&bad).attribute(), Some("FlagAssenzaReddito"));
    let bad = edit(
        &xml,
        "NumeroProtocolloDSU=\"INPS-ISEE-2025-00123456B-00\"",
        "NumeroProtocolloDSU=\"INPS-ISEE-2025-0012345B-00\"",
    );
    let e = att_err(&bad);
    assert!(matches!(
        e,
        IseeXmlError::BadValue {
            cause: Some("dsu_format"),
            ..
        }
    ));
    let ixml = sample("indicatore_ordinario_utf8.xml");
    let e = ind_err(&edit(&ixml, "ISEE=\"15000.00\"", "ISEE=\"1.5e4\""));
    assert_eq!(
        (e.code(), e.element(), e.attribute()),
        ("isee_xml_bad_value", Some("Indicatore"), Some("ISEE"))
    );
}

#[test]
fn bad_codice_fiscale_is_reported_without_the_code() {
    let xml = sample("attestazione_minorenni_latin1.xml");
    // Wrong check character on a member.
    let bad = edit(
        &xml,
        "CodiceFiscale=\"PLLLRI44B68A794O\"/>",
        "CodiceFiscale=\"PLLLRI44B68A794X\"/>",
    );
    let e = att_err(&bad);
    assert_eq!(e.code(), "isee_xml_bad_value");
    assert_eq!(
        (e.element(), e.attribute()),
        (Some("ComponenteNucleo"), Some("CodiceFiscale"))
    );
    assert!(matches!(
        e,
        IseeXmlError::BadValue {
            cause: Some("cf_check_char"),
            ..
        }
    ));
    let msg = e.to_string();
    assert!(!msg.contains("PLLLRI"), "{msg}");
    assert!(!format!("{e:?}").contains("PLLLRI"));
}

#[test]
fn missing_required_attribute() {
    let xml = sample("attestazione_minorenni_latin1.xml");
    let bad = edit(&xml, " CodiceFiscaleDichiarante=\"BLLNMO87L45F205A\"", "");
    let e = att_err(&bad);
    assert_eq!(e.code(), "isee_xml_missing_attribute");
    assert_eq!(
        (e.element(), e.attribute()),
        (Some("Attestazione"), Some("CodiceFiscaleDichiarante"))
    );
    // Blank counts as missing.
    let bad = edit(
        &xml,
        "DataPresentazione=\"2025-02-03\"",
        "DataPresentazione=\"  \"",
    );
    assert_eq!(att_err(&bad).code(), "isee_xml_missing_attribute");
    let bad = edit(
        &xml,
        "ISE=\"9876.54\" ScalaEquivalenza=\"1.00\" ISEE=\"9876.54\"",
        "ISE=\"9876.54\" ScalaEquivalenza=\"1.00\"",
    );
    let e = att_err(&bad);
    assert_eq!(
        (e.code(), e.element(), e.attribute()),
        ("isee_xml_missing_attribute", Some("Valori"), Some("ISEE"))
    );
    let ixml = sample("indicatore_ordinario_utf8.xml");
    let e = ind_err(&edit(&ixml, " ISEE=\"15000.00\"", ""));
    assert_eq!(
        (e.code(), e.attribute()),
        ("isee_xml_missing_attribute", Some("ISEE"))
    );
}

#[test]
fn missing_and_duplicate_elements() {
    let e = att_err(br#"<EsitoAttestazione><Ricerca/></EsitoAttestazione>"#);
    assert_eq!(e.code(), "isee_xml_missing_element");
    assert_eq!(e.element(), Some("Attestazione"));
    let head = r#"<Attestazione CodiceFiscaleDichiarante="RSSMRA80A01H501U" NumeroProtocolloDSU="INPS-ISEE-2025-00000001A-00" DataPresentazione="2025-01-20">"#;
    let e = att_err(format!("{head}</Attestazione>").as_bytes());
    assert_eq!(
        (e.code(), e.element()),
        ("isee_xml_missing_element", Some("Ordinario"))
    );
    let e = att_err(format!("{head}<Ordinario/></Attestazione>").as_bytes());
    assert_eq!(e.element(), Some("NucleoFamiliare"));
    let e = att_err(
        format!("{head}<Ordinario><NucleoFamiliare/></Ordinario></Attestazione>").as_bytes(),
    );
    assert_eq!(
        (e.code(), e.element()),
        ("isee_xml_missing_element", Some("ISEEOrdinario"))
    );
    let e = att_err(
        format!(
            "{head}<Ordinario><NucleoFamiliare/><ISEEOrdinario><Valori ISEE=\"1\"/><Valori ISEE=\"2\"/></ISEEOrdinario></Ordinario></Attestazione>"
        )
        .as_bytes(),
    );
    assert_eq!(
        (e.code(), e.element()),
        ("isee_xml_duplicate", Some("Valori"))
    );
    let ok = att_err(
        format!(
            "{head}<Ordinario><NucleoFamiliare/><ISEEOrdinario><Valori ISEE=\"1\"/></ISEEOrdinario></Ordinario><Ordinario/></Attestazione>"
        )
        .as_bytes(),
    );
    assert_eq!(
        (ok.code(), ok.element()),
        ("isee_xml_duplicate", Some("Ordinario"))
    );
    // A minimal bare Attestazione is fine.
    let a = parse_attestazione(
        format!("{head}<Ordinario><NucleoFamiliare/><ISEEOrdinario><Valori ISEE=\"1\"/></ISEEOrdinario></Ordinario></Attestazione>").as_bytes(),
    )
    .unwrap();
    assert_eq!(a.isee(), Some(Euro::from_cents(100)));
    assert_eq!(a.ricerca, None);
}

#[test]
fn bad_encoding() {
    // Declared UTF-8, Latin-1 bytes inside.
    let xml = sample("attestazione_minorenni_latin1.xml");
    let bad = edit(&xml, "encoding=\"ISO-8859-1\"", "encoding=\"UTF-8\"");
    let e = att_err(&bad);
    assert_eq!(e.code(), "isee_xml_encoding");
    let pos = e.position().unwrap();
    assert_eq!(bad[pos - 1], 0xCB, "the Ë of ZOË");
    // Unknown encoding label.
    let bad = edit(&xml, "encoding=\"ISO-8859-1\"", "encoding=\"X-KLINGON\"");
    let e = att_err(&bad);
    assert_eq!(e.code(), "isee_xml_encoding");
    assert!(
        matches!(e, IseeXmlError::UnsupportedEncoding { ref declared } if declared == "X-KLINGON")
    );
    // UTF-16 declared but no byte order mark.
    let bad = edit(&xml, "encoding=\"ISO-8859-1\"", "encoding=\"UTF-16\"");
    assert_eq!(att_err(&bad).code(), "isee_xml_encoding");
    // Other single-byte encodings are fine.
    let ok = edit(&xml, "encoding=\"ISO-8859-1\"", "encoding=\"windows-1252\"");
    assert_eq!(
        parse_attestazione(&ok).unwrap().household[2]
            .surname
            .as_deref(),
        Some("CARÙ")
    );
    let ok = edit(&xml, "encoding=\"ISO-8859-1\"", "encoding=\"latin1\"");
    assert!(parse_attestazione(&ok).is_ok());
}

#[test]
fn malformed_markup() {
    let cases: &[&[u8]] = &[
        b"<Indicatore ISEE=\"1\">",
        b"<Indicatore ISEE=\"1\"></Attestazione>",
        b"<Indicatore ISEE=\"1\" ISEE=\"2\"/>",
        b"<Indicatore ISEE=1/>",
        b"<Indicatore ISEE=\"&bogus;\"/>",
        b"<Indicatore ISEE=\"1\"/><Indicatore ISEE=\"2\"/>",
        b"testo<Indicatore ISEE=\"1\"/>",
        b"<Indicatore ISEE=\"1\">&bogus;</Indicatore>",
        b"<Indicatore ISEE=\"1\"><!-- never closed </Indicatore>",
        b"</Indicatore>",
        b"<",
        b"<Indicatore ISEE=\"1\"",
    ];
    for c in cases {
        let e = ind_err(c);
        assert_eq!(
            e.code(),
            "isee_xml_malformed",
            "{:?}: {e}",
            String::from_utf8_lossy(c)
        );
        assert!(IseeXmlError::CODES.contains(&e.code()));
    }
}

#[test]
fn entities_and_character_references_are_expanded() {
    let xml = br#"<Indicatore ISEE="1" TipoIndicatore="Minorenn&#101;"><RicercaCF ProtocolloDomandaEnteErogatore="A &amp; B &lt;&#x43;&gt;"/></Indicatore>"#;
    let i = parse_indicatore(xml).unwrap();
    assert_eq!(i.kind, Some(IseeKind::Minorenni));
    assert_eq!(
        i.ricerca.unwrap().protocollo_domanda.as_deref(),
        Some("A & B <C>")
    );
}

#[test]
fn limits() {
    let deep = format!(
        "<Indicatore ISEE=\"1\">{}{}</Indicatore>",
        "<a>".repeat(40),
        "</a>".repeat(40)
    );
    let e = ind_err(deep.as_bytes());
    assert_eq!(e.code(), "isee_xml_limit");
    let huge = vec![b' '; anist_core::isee::MAX_XML_BYTES + 1];
    assert!(matches!(ind_err(&huge), IseeXmlError::TooLarge { .. }));
    let many = format!(
        "<Indicatore ISEE=\"1\">{}</Indicatore>",
        "<a/>".repeat(anist_core::isee::MAX_ELEMENTS)
    );
    let e = ind_err(many.as_bytes());
    assert!(matches!(e, IseeXmlError::TooManyElements { .. }), "{e:?}");
    assert_eq!(e.code(), "isee_xml_limit");
    // One element fewer is fine.
    let enough = format!(
        "<Indicatore ISEE=\"1\">{}</Indicatore>",
        "<a/>".repeat(anist_core::isee::MAX_ELEMENTS - 1)
    );
    assert!(parse_indicatore(enough.as_bytes()).is_ok());
}

#[test]
fn debug_redacts_personal_data() {
    for (name, secrets) in [
        (
            "attestazione_minorenni_latin1.xml",
            &[
                "BLLNMO87L45F205A",
                "BELLOMO",
                "NOEMI",
                "CAR",
                "15507",
                "24987",
                "9876",
                "1250",
                "IT00X",
            ][..],
        ),
        (
            "attestazione_corrente.xml",
            &["GLLMRT90A65F839C", "GALLUZZO", "7796", "12240"][..],
        ),
        (
            "attestazione_unknown_elements.xml",
            &["NARDELLI", "25490", "2.04", "2,04"][..],
        ),
    ] {
        let a = att(name);
        let dbg = format!("{a:?}");
        let alt = format!("{a:#?}");
        for s in secrets {
            assert!(!dbg.contains(s), "{name}: {s} in {dbg}");
            assert!(!alt.contains(s), "{name}: {s}");
        }
        assert!(dbg.contains("<redacted>"));
        // The masked code is there.
        assert!(dbg.contains("CodiceFiscale("));
    }
    let i = ind("indicatore_ordinario_utf8.xml");
    let dbg = format!("{i:?}");
    for s in ["SPSDRA79S02L219B", "15000", "30600", "2.04"] {
        assert!(!dbg.contains(s), "{s} in {dbg}");
    }
    assert!(dbg.contains("SPSDRA**S02L219*"), "{dbg}");
}

#[test]
fn error_messages_carry_no_personal_data() {
    let xml = sample("attestazione_minorenni_latin1.xml");
    // Break the document in many places; no message may contain a code, a
    // surname or an amount of the sample.
    let secrets = [
        "BLLNMO87L45F205A",
        "CRANCL23P14A794E",
        "BELLOMO",
        "PELLEGRINI",
        "15507",
        "24987",
    ];
    for cut in (0..xml.len()).step_by(7) {
        let mut v = xml.clone();
        v[cut] = b'"';
        if let Err(e) = parse_attestazione(&v) {
            let msg = format!("{e} {e:?}");
            for s in secrets {
                assert!(!msg.contains(s), "{msg}");
            }
        }
    }
}
