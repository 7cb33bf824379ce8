//! Writing the inner XML documents of the INPS ISEE answers: the inverse of
//! [`parse_indicatore`](super::parse_indicatore) and
//! [`parse_attestazione`](super::parse_attestazione).
//!
//! The documents are UTF-8, in the namespace [`ISEE_NAMESPACE`], with the
//! element and attribute names the parsers read; amounts in the machine
//! form with two fraction digits ([`Euro::machine`](super::Euro::machine)),
//! the scala di equivalenza as [`Scala::machine`](super::Scala::machine),
//! dates `YYYY-MM-DD`, flags `true` / `false`. Attribute values are escaped
//! (`& < > "` and tab, line feed, carriage return as character references);
//! characters XML 1.0 cannot carry are dropped.
//!
//! For a record the parser produced, `parse(write(r))` equals `r` except
//! `raw_xml`. The element a value is written in follows from the data
//! (kind, beneficiary, [`Calcolo`], nucleo ristretto), not from
//! [`IseeEntry::section`], which the parser derives back from it. What
//! cannot be told apart on the wire does not round-trip: an `Ordinario`
//! entry of an ISEE corrente attestazione (outside the nucleo ristretto)
//! reads back as `Corrente`, an
//! [`IseeKind::Other`] entry needs values, a beneficiary's `isee` missing
//! while its values are present reads back as the values' ISEE.
//!
//! Used by the sandbox's INPS backend; useful for fixtures.
//!
//! ```
//! use anist_core::isee::{parse_indicatore, write_indicatore, Euro, IseeKind, IseeValues};
//! let ind = parse_indicatore(br#"<Indicatore xmlns="http://inps.it/ISEERiforma"
//!     TipoIndicatore="Minorenne" ISEE="24999.99" DataPresentazione="2026-01-12"/>"#)?;
//! let xml = write_indicatore(&ind);
//! assert!(xml.contains(r#"ISEE="24999.99""#));
//! let again = parse_indicatore(xml.as_bytes())?;
//! assert_eq!(again.values, ind.values);
//! assert_eq!(again.kind, Some(IseeKind::Minorenni));
//! # Ok::<(), anist_core::isee::IseeXmlError>(())
//! ```

use std::fmt::Display;

use chrono::{Datelike, NaiveDate};

use super::kind::IseeKind;
use super::record::{
    Attestazione, Calcolo, ComponenteNucleo, Indicatore, IseeEntry, IseeValues, Ricerca,
    RicercaKind,
};

/// The namespace of the inner documents.
pub const ISEE_NAMESPACE: &str = "http://inps.it/ISEERiforma";

const DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Attributes being collected for one element.
#[derive(Default)]
struct Attrs(Vec<(&'static str, String)>);

impl Attrs {
    fn set(&mut self, name: &'static str, value: impl Display) -> &mut Self {
        self.0.push((name, value.to_string()));
        self
    }

    fn opt<T: Display>(&mut self, name: &'static str, value: Option<T>) -> &mut Self {
        if let Some(v) = value {
            self.set(name, v);
        }
        self
    }

    fn text(&mut self, name: &'static str, value: Option<&str>) -> &mut Self {
        self.opt(name, value)
    }

    fn date(&mut self, name: &'static str, value: Option<NaiveDate>) -> &mut Self {
        // Written by hand rather than with `format("%Y-%m-%d")`: the same
        // text, and the optimised chrono formatter reads its (absent) time
        // fields in a branch-free select that valgrind reports as a use of
        // uninitialised memory, in every C program run against the sandbox.
        self.opt(
            name,
            value.map(|d| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())),
        )
    }
}

/// The document being written.
struct Out(String);

impl Out {
    fn start(&mut self, name: &str, attrs: &Attrs, empty: bool) {
        self.0.push('<');
        self.0.push_str(name);
        for (k, v) in &attrs.0 {
            self.0.push(' ');
            self.0.push_str(k);
            self.0.push_str("=\"");
            escape_into(&mut self.0, v);
            self.0.push('"');
        }
        self.0.push_str(if empty { "/>" } else { ">" });
    }

    fn end(&mut self, name: &str) {
        self.0.push_str("</");
        self.0.push_str(name);
        self.0.push('>');
    }
}

/// Escapes an attribute value (double-quoted).
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

/// Characters XML 1.0 allows in content (`Char` production).
fn is_xml_char(c: char) -> bool {
    matches!(c,
        '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn valori(out: &mut Out, v: &IseeValues) {
    let mut a = Attrs::default();
    a.opt("ISE", v.ise.map(|e| e.machine()))
        .opt("ScalaEquivalenza", v.scala.map(|s| s.machine()))
        .set("ISEE", v.isee.machine())
        .opt("ISR", v.isr.map(|e| e.machine()))
        .opt("ISP", v.isp.map(|e| e.machine()));
    out.start("Valori", &a, true);
}

fn componente(out: &mut Out, m: &ComponenteNucleo) {
    let mut a = Attrs::default();
    a.text("RapportoConDichiarante", m.relationship.as_deref())
        .text("Cognome", m.surname.as_deref())
        .text("Nome", m.name.as_deref())
        .set("CodiceFiscale", m.codice_fiscale.as_str())
        .opt("FlagAssenzaReddito", m.flag_assenza_reddito);
    out.start("ComponenteNucleo", &a, true);
}

fn nucleo(out: &mut Out, members: &[ComponenteNucleo]) {
    out.start("NucleoFamiliare", &Attrs::default(), members.is_empty());
    if !members.is_empty() {
        for m in members {
            componente(out, m);
        }
        out.end("NucleoFamiliare");
    }
}

fn ricerca(out: &mut Out, r: &Ricerca) {
    let (name, cf_attr) = match r.kind {
        RicercaKind::CodiceFiscale => ("RicercaCF", "CodiceFiscale"),
        RicercaKind::ProtocolloDsu => ("RicercaProtDSU", "CodiceFiscaleBeneficiario"),
        RicercaKind::ProtocolloMittente => ("RicercaProtMittente", "CodiceFiscaleBeneficiario"),
    };
    let mut a = Attrs::default();
    a.opt("ProtocolloDSU", r.protocollo_dsu.as_ref())
        .text("ProtocolloMittente", r.protocollo_mittente.as_deref())
        .opt(cf_attr, r.codice_fiscale.as_ref())
        .date("DataValidita", r.data_validita)
        .text("PrestazioneDaErogare", r.prestazione_da_erogare.as_deref())
        .text(
            "ProtocolloDomandaEnteErogatore",
            r.protocollo_domanda.as_deref(),
        )
        .text("StatodomandaPrestazione", r.stato_domanda.as_deref());
    out.start(name, &a, true);
}

/// The `TipoIndicatore` text that reads back as `kind`.
fn tipo_indicatore(kind: &IseeKind) -> &str {
    match kind {
        IseeKind::Corrente => "Corrente",
        IseeKind::Ristretto => "Ristretto",
        IseeKind::Other(name) => name,
        k => k.tipo_indicatore().unwrap_or("Ordinario"),
    }
}

/// Writes an indicatore (`Indicatore` root): the values and DSU as
/// attributes, the echoed request (`RicercaCF`, …) and the household
/// (`NucleoFamiliare`, Nucleo Riscontro) as children.
///
/// `parse_indicatore(write_indicatore(i).as_bytes())` equals `i` except
/// `raw_xml` (for kinds that are not [`IseeKind::Other`] with a known name).
pub fn write_indicatore(ind: &Indicatore) -> String {
    let mut out = Out(String::with_capacity(512));
    out.0.push_str(DECLARATION);
    let mut a = Attrs::default();
    a.set("xmlns", ISEE_NAMESPACE)
        .opt("TipoIndicatore", ind.kind.as_ref().map(tipo_indicatore));
    let v = &ind.values;
    a.opt("ISE", v.ise.map(|e| e.machine()))
        .opt("ScalaEquivalenza", v.scala.map(|s| s.machine()))
        .set("ISEE", v.isee.machine())
        .opt("ISR", v.isr.map(|e| e.machine()))
        .opt("ISP", v.isp.map(|e| e.machine()))
        .opt("ProtocolloDSU", ind.protocollo_dsu.as_ref())
        .date("DataPresentazione", ind.presented_on)
        .date("DataScadenzaDSUCorrente", ind.corrente_valid_until);
    let empty = ind.ricerca.is_none() && ind.household.is_empty();
    out.start("Indicatore", &a, empty);
    if !empty {
        if let Some(r) = &ind.ricerca {
            ricerca(&mut out, r);
        }
        if !ind.household.is_empty() {
            nucleo(&mut out, &ind.household);
        }
        out.end("Indicatore");
    }
    out.0
}

/// The section element of a kind (`ISEEOrdinario`, `ISEEMin`, …).
fn section_name(kind: &IseeKind, ristretto: bool, corrente: bool) -> String {
    match kind {
        IseeKind::Ordinario => "ISEEOrdinario",
        IseeKind::Corrente if corrente && !ristretto => "ISEEOrdinario",
        IseeKind::Corrente => "ISEECorrente",
        IseeKind::Minorenni => "ISEEMin",
        IseeKind::Universitario => "ISEEUni",
        IseeKind::SocioSanitario => "ISEESocioSan",
        IseeKind::SocioSanitarioResidenziale if ristretto => "ISEESocioSanResRistretto",
        IseeKind::SocioSanitarioResidenziale => "ISEESocioSanRes",
        IseeKind::Ristretto => "ISEERistretto",
        IseeKind::Dottorato => "ISEEDottorato",
        IseeKind::Other(name) => {
            let clean: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            return if clean.starts_with("ISEE") {
                clean
            } else {
                format!("ISEE{clean}")
            };
        }
    }
    .to_string()
}

/// The element of a per-person indicator.
fn beneficiary_name(kind: &IseeKind) -> &'static str {
    match kind {
        IseeKind::Minorenni => "ComponenteMinorenne",
        IseeKind::Universitario => "StudenteUniversitario",
        IseeKind::SocioSanitarioResidenziale => "BeneficiarioSocioSanRes",
        _ => "Beneficiario",
    }
}

/// The sub-section telling how an indicator was obtained (`None` for
/// [`Calcolo::Proprio`]).
fn calcolo_name(kind: &IseeKind, calcolo: &Calcolo) -> Option<String> {
    let stem = match kind {
        IseeKind::Minorenni => "ISEEMin",
        IseeKind::Universitario => "ISEEUni",
        IseeKind::SocioSanitarioResidenziale => "ISEESocioSanRes",
        IseeKind::Ordinario | IseeKind::Corrente => "ISEEOrd",
        _ => "ISEE",
    };
    Some(match calcolo {
        Calcolo::Proprio => return None,
        Calcolo::UgualeOrdinario => "ISEEOrd".to_string(),
        Calcolo::NonCalcolabile => "ISEENonCalcolabile".to_string(),
        Calcolo::StudenteAttratto => "ISEEUniStudAttratto".to_string(),
        Calcolo::ComponenteAttratta => format!("{stem}Attr"),
        Calcolo::ComponenteAggiuntiva => format!("{stem}Agg"),
    })
}

/// The element name [`write_attestazione`] uses for `entry` (what the
/// parser puts back in [`IseeEntry::section`]), given whether the
/// attestazione is an ISEE corrente.
pub fn entry_section(entry: &IseeEntry, corrente: bool) -> String {
    let inner = calcolo_name(&entry.kind, &entry.calcolo);
    match &entry.beneficiary {
        None => {
            inner.unwrap_or_else(|| section_name(&entry.kind, entry.nucleo_ristretto, corrente))
        }
        Some(_) => match (inner, entry.values.is_some()) {
            (Some(inner), true) => inner,
            _ => beneficiary_name(&entry.kind).to_string(),
        },
    }
}

fn entry(out: &mut Out, e: &IseeEntry, corrente: bool) {
    let section = section_name(&e.kind, e.nucleo_ristretto, corrente);
    let inner = calcolo_name(&e.kind, &e.calcolo);
    match &e.beneficiary {
        None => {
            let mut a = Attrs::default();
            match &inner {
                None => {
                    a.date("DataRilascio", e.issued_on);
                    out.start(&section, &a, false);
                    if let Some(v) = &e.values {
                        valori(out, v);
                    }
                }
                Some(inner) => {
                    out.start(&section, &a, false);
                    a.date("DataRilascio", e.issued_on);
                    out.start(inner, &a, false);
                    if let Some(v) = &e.values {
                        valori(out, v);
                    }
                    out.end(inner);
                }
            }
            out.end(&section);
        }
        Some(b) => {
            out.start(&section, &Attrs::default(), false);
            let name = beneficiary_name(&e.kind);
            let mut a = Attrs::default();
            a.set("CodiceFiscale", b.codice_fiscale.as_str())
                .text("Cognome", b.surname.as_deref())
                .text("Nome", b.name.as_deref())
                .opt("ISEE", e.isee.map(|v| v.machine()));
            let issued_inside = inner.is_some() && e.values.is_some();
            if !issued_inside {
                a.date("DataRilascio", e.issued_on);
            }
            out.start(name, &a, false);
            match &inner {
                None => {
                    if let Some(v) = &e.values {
                        valori(out, v);
                    }
                }
                Some(inner) => {
                    let mut ia = Attrs::default();
                    if issued_inside {
                        ia.date("DataRilascio", e.issued_on);
                    }
                    match &e.values {
                        Some(v) => {
                            out.start(inner, &ia, false);
                            valori(out, v);
                            out.end(inner);
                        }
                        None => out.start(inner, &ia, true),
                    }
                }
            }
            out.end(name);
            out.end(&section);
        }
    }
}

/// Writes an attestazione (`EsitoAttestazione` root, with `Attestazione`
/// and the echoed `Ricerca`): the DSU, `Ordinario` with the household and
/// the household's and beneficiaries' indicators, `Ridotto` with the
/// nucleo ristretto and its indicators, `OmissioneDifformita`,
/// `Variazione`.
///
/// `parse_attestazione(write_attestazione(a).as_bytes())` equals `a` except
/// `raw_xml`, within the limits of the module documentation.
pub fn write_attestazione(att: &Attestazione) -> String {
    let mut out = Out(String::with_capacity(2048));
    out.0.push_str(DECLARATION);
    let mut root = Attrs::default();
    root.set("xmlns", ISEE_NAMESPACE);
    out.start("EsitoAttestazione", &root, false);

    let mut a = Attrs::default();
    a.set("NumeroProtocolloDSU", att.protocollo_dsu)
        .text("ProtocolloMittente", att.protocollo_mittente.as_deref())
        .date("DataPresentazione", Some(att.presented_on))
        .date("DataValidita", att.data_validita)
        .date("DataScadenzaDSUCorrente", att.corrente_valid_until)
        .set("CodiceFiscaleDichiarante", att.dichiarante.as_str());
    out.start("Attestazione", &a, false);

    let corrente = att.corrente.is_some();
    let mut o = Attrs::default();
    if let Some(c) = &att.corrente {
        o.set("Corrente", "true")
            .date("DataPresentazioneModuloSostitutivo", c.modulo_presented_on)
            .text(
                "ProtocolloDSUModuloSostitutivo",
                c.modulo_protocol.as_deref(),
            );
    }
    out.start("Ordinario", &o, false);
    nucleo(&mut out, &att.household);
    for e in att.entries.iter().filter(|e| !e.nucleo_ristretto) {
        entry(&mut out, e, corrente);
    }
    out.end("Ordinario");

    let ristretto: Vec<&IseeEntry> = att.entries.iter().filter(|e| e.nucleo_ristretto).collect();
    if !ristretto.is_empty() || !att.nucleo_ristretto.is_empty() {
        out.start("Ridotto", &Attrs::default(), false);
        if !att.nucleo_ristretto.is_empty() {
            out.start("NucleoRistretto", &Attrs::default(), false);
            for m in &att.nucleo_ristretto {
                let mut a = Attrs::default();
                a.set("CodiceFiscale", m.codice_fiscale.as_str())
                    .text("Cognome", m.surname.as_deref())
                    .text("Nome", m.name.as_deref())
                    .text("RelazioneConBeneficiario", m.relationship.as_deref());
                out.start("ComponenteNucleoRistretto", &a, true);
            }
            out.end("NucleoRistretto");
        }
        for e in ristretto {
            entry(&mut out, e, corrente);
        }
        out.end("Ridotto");
    }

    for od in &att.omissioni_difformita {
        let mut a = Attrs::default();
        a.opt("CodiceFiscale", od.codice_fiscale.as_ref())
            .text("TipoOmissioneDifformita", od.tipo.as_deref())
            .date("DataControlloAE", od.data_controllo_ae);
        let empty = od.rapporti.is_empty() && !od.reddito_ae;
        out.start("OmissioneDifformita", &a, empty);
        if !empty {
            for r in &od.rapporti {
                let mut ra = Attrs::default();
                ra.text("TipoRapporto", r.tipo.as_deref())
                    .text("Identificativo", r.identificativo.as_deref())
                    .text("CodiceFiscale", r.codice_fiscale_operatore.as_deref())
                    .text("DescrizioneOperatoreFinanziario", r.operatore.as_deref())
                    .date("DataInizio", r.data_inizio)
                    .date("DataFine", r.data_fine)
                    .opt("Saldo3112", r.saldo_31_12.map(|e| e.machine()))
                    .opt("Valore", r.valore.map(|e| e.machine()))
                    .opt("ConsistenzaMedia", r.consistenza_media.map(|e| e.machine()));
                out.start("Rapporto", &ra, true);
            }
            if od.reddito_ae {
                out.start("RedditoAE", &Attrs::default(), true);
            }
            out.end("OmissioneDifformita");
        }
    }

    if let Some(v) = &att.variazione {
        let mut a = Attrs::default();
        a.text("Tipovariazione", v.tipo.as_deref())
            .date("DataVariazione", v.data)
            .opt(
                "NumeroProtocolloDSUVariata",
                v.protocollo_dsu_variata.as_ref(),
            );
        out.start("Variazione", &a, v.discordanze.is_empty());
        if !v.discordanze.is_empty() {
            for d in &v.discordanze {
                let mut da = Attrs::default();
                da.text("CDDiscordanza", d.codice.as_deref())
                    .text("TipologiaDiscordanza", d.tipologia.as_deref())
                    .text("SpecificaDiscordanza", d.specifica.as_deref());
                out.start("DiscordanzeContestazione", &da, true);
            }
            out.end("Variazione");
        }
    }
    out.end("Attestazione");

    if let Some(r) = &att.ricerca {
        out.start("Ricerca", &Attrs::default(), false);
        ricerca(&mut out, r);
        out.end("Ricerca");
    }
    out.end("EsitoAttestazione");
    out.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cf::AnyCodiceFiscale;
    use crate::dsu::DsuProtocol;
    use crate::isee::record::{
        Beneficiario, ComponenteNucleoRistretto, Corrente, Discordanza, OmissioneDifformita,
        Rapporto, Variazione,
    };
    use crate::isee::{parse_attestazione, parse_indicatore, Euro, Scala};
    use crate::synthetic::{SplitMix64, SyntheticPeople};
    use proptest::prelude::*;

    const TEXTS: &[&str] = &[
        "ROSSI",
        "D'Ambrosi & figli",
        "<tag> \"quoted\"",
        "Nuñez\tOrtu",
        "a\nb\rc",
        "Zoë",
        "x]]>y",
    ];

    struct Gen {
        rng: SplitMix64,
        people: SyntheticPeople,
    }

    impl Gen {
        fn new(seed: u64) -> Self {
            let from = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap();
            let to = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
            Self {
                rng: SplitMix64::new(seed),
                people: SyntheticPeople::new(seed ^ 0x5eed, from, to),
            }
        }
        fn coin(&mut self) -> bool {
            self.rng.below(2) == 0
        }
        fn text(&mut self) -> Option<String> {
            self.coin()
                .then(|| self.rng.pick(TEXTS).copied().unwrap_or("x").to_string())
        }
        fn cf(&mut self) -> AnyCodiceFiscale {
            if self.rng.below(10) == 0 {
                AnyCodiceFiscale::parse("00000010008").unwrap()
            } else {
                AnyCodiceFiscale::Persona(self.people.next_person().codice_fiscale)
            }
        }
        fn date(&mut self) -> NaiveDate {
            NaiveDate::from_ymd_opt(2015, 1, 1).unwrap() + chrono::Days::new(self.rng.below(4000))
        }
        fn odate(&mut self) -> Option<NaiveDate> {
            self.coin().then(|| self.date())
        }
        fn euro(&mut self) -> Euro {
            let c = i64::try_from(self.rng.below(50_000_000)).unwrap();
            Euro::from_cents(if self.rng.below(20) == 0 { -c } else { c })
        }
        fn oeuro(&mut self) -> Option<Euro> {
            self.coin().then(|| self.euro())
        }
        fn dsu(&mut self) -> DsuProtocol {
            let s = format!(
                "INPS-ISEE-{}-{:08}{}-{:02}",
                2015 + self.rng.below(12),
                self.rng.below(100_000_000),
                char::from(b'A' + u8::try_from(self.rng.below(26)).unwrap()),
                self.rng.below(3)
            );
            DsuProtocol::parse(&s).unwrap()
        }
        fn values(&mut self) -> IseeValues {
            IseeValues {
                isee: self.euro(),
                ise: self.oeuro(),
                isr: self.oeuro(),
                isp: self.oeuro(),
                // A scala is never zero: 1..=60_000 ten-thousandths.
                scala: self.coin().then(|| {
                    Scala::from_ten_thousandths(1 + u32::try_from(self.rng.below(60_000)).unwrap())
                        .unwrap()
                }),
            }
        }
        fn kind(&mut self) -> IseeKind {
            let all = [
                IseeKind::Ordinario,
                IseeKind::Corrente,
                IseeKind::Minorenni,
                IseeKind::Universitario,
                IseeKind::SocioSanitario,
                IseeKind::SocioSanitarioResidenziale,
                IseeKind::Ristretto,
                IseeKind::Dottorato,
                IseeKind::Other("ISEEFamiglia".into()),
            ];
            self.rng.pick(&all).cloned().unwrap()
        }
        fn calcolo(&mut self) -> Calcolo {
            let all = [
                Calcolo::Proprio,
                Calcolo::UgualeOrdinario,
                Calcolo::ComponenteAttratta,
                Calcolo::ComponenteAggiuntiva,
                Calcolo::StudenteAttratto,
                Calcolo::NonCalcolabile,
            ];
            self.rng.pick(&all).cloned().unwrap()
        }
        fn ricerca(&mut self) -> Ricerca {
            let kind = [
                RicercaKind::CodiceFiscale,
                RicercaKind::ProtocolloDsu,
                RicercaKind::ProtocolloMittente,
            ][usize::try_from(self.rng.below(3)).unwrap()];
            Ricerca {
                kind,
                codice_fiscale: self.coin().then(|| self.cf()),
                data_validita: self.odate(),
                prestazione_da_erogare: self.coin().then(|| "A1.07".to_string()),
                protocollo_domanda: self.text(),
                stato_domanda: self.coin().then(|| "Da Erogare".to_string()),
                protocollo_dsu: self.coin().then(|| self.dsu()),
                protocollo_mittente: self.text(),
            }
        }
        fn member(&mut self) -> ComponenteNucleo {
            ComponenteNucleo {
                codice_fiscale: self.cf(),
                surname: self.text(),
                name: self.text(),
                relationship: self.coin().then(|| "FC".to_string()),
                flag_assenza_reddito: self.coin().then(|| self.coin()),
            }
        }
        fn entry(&mut self, corrente: bool, ristretto: bool) -> IseeEntry {
            let mut kind = self.kind();
            if corrente && !ristretto && kind == IseeKind::Ordinario {
                kind = IseeKind::Corrente;
            }
            let per_person = !matches!(kind, IseeKind::Other(_)) && self.rng.below(3) == 0;
            let calcolo = self.calcolo();
            let mut e = if per_person {
                let values = self.coin().then(|| self.values());
                let isee = match (&calcolo, values) {
                    (Calcolo::NonCalcolabile, _) => None,
                    (_, Some(v)) => Some(v.isee),
                    (_, None) => Some(self.euro()),
                };
                IseeEntry {
                    kind,
                    beneficiary: Some(Beneficiario {
                        codice_fiscale: self.cf(),
                        surname: self.text(),
                        name: self.text(),
                    }),
                    isee,
                    values,
                    issued_on: self.odate(),
                    calcolo,
                    nucleo_ristretto: ristretto,
                    section: String::new(),
                }
            } else {
                let values = self.values();
                IseeEntry {
                    kind,
                    beneficiary: None,
                    isee: Some(values.isee),
                    values: Some(values),
                    issued_on: self.odate(),
                    calcolo,
                    nucleo_ristretto: ristretto,
                    section: String::new(),
                }
            };
            e.section = entry_section(&e, corrente);
            e
        }
        fn attestazione(&mut self) -> Attestazione {
            let corrente = (self.rng.below(4) == 0).then(|| Corrente {
                modulo_presented_on: self.odate(),
                modulo_protocol: self.text(),
            });
            let is_corrente = corrente.is_some();
            let mut entries: Vec<IseeEntry> = (0..=self.rng.below(4))
                .map(|_| self.entry(is_corrente, false))
                .collect();
            entries.extend((0..self.rng.below(3)).map(|_| self.entry(is_corrente, true)));
            Attestazione {
                dichiarante: self.cf(),
                protocollo_dsu: self.dsu(),
                protocollo_mittente: self.text(),
                presented_on: self.date(),
                data_validita: self.odate(),
                corrente_valid_until: self.odate(),
                corrente,
                household: (0..=self.rng.below(5)).map(|_| self.member()).collect(),
                nucleo_ristretto: (0..self.rng.below(3))
                    .map(|_| ComponenteNucleoRistretto {
                        codice_fiscale: self.cf(),
                        surname: self.text(),
                        name: self.text(),
                        relationship: self.text(),
                    })
                    .collect(),
                entries,
                omissioni_difformita: (0..self.rng.below(3))
                    .map(|_| OmissioneDifformita {
                        codice_fiscale: self.coin().then(|| self.cf()),
                        tipo: Some("OMISSIONE".to_string()),
                        data_controllo_ae: self.odate(),
                        rapporti: (0..self.rng.below(3))
                            .map(|_| Rapporto {
                                tipo: self.text(),
                                identificativo: self.text(),
                                codice_fiscale_operatore: self.text(),
                                operatore: self.text(),
                                data_inizio: self.odate(),
                                data_fine: self.odate(),
                                saldo_31_12: self.oeuro(),
                                valore: self.oeuro(),
                                consistenza_media: self.oeuro(),
                            })
                            .collect(),
                        reddito_ae: self.coin(),
                    })
                    .collect(),
                variazione: self.coin().then(|| Variazione {
                    tipo: self.text(),
                    data: self.odate(),
                    protocollo_dsu_variata: self.coin().then(|| self.dsu()),
                    discordanze: (0..self.rng.below(3))
                        .map(|_| Discordanza {
                            codice: self.text(),
                            tipologia: self.text(),
                            specifica: self.text(),
                        })
                        .collect(),
                }),
                ricerca: self.coin().then(|| self.ricerca()),
                raw_xml: String::new(),
            }
        }
        fn indicatore(&mut self) -> Indicatore {
            Indicatore {
                kind: self.coin().then(|| self.kind()),
                values: self.values(),
                protocollo_dsu: self.coin().then(|| self.dsu()),
                presented_on: self.odate(),
                corrente_valid_until: self.odate(),
                ricerca: self.coin().then(|| self.ricerca()),
                household: (0..self.rng.below(4)).map(|_| self.member()).collect(),
                raw_xml: String::new(),
            }
        }
    }

    fn attestazione_round_trip(seed: u64) -> Result<(), TestCaseError> {
        let att = Gen::new(seed).attestazione();
        let xml = write_attestazione(&att);
        let mut back = parse_attestazione(xml.as_bytes())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
        prop_assert_eq!(&back.raw_xml, &xml);
        back.raw_xml = String::new();
        prop_assert_eq!(back, att);
        Ok(())
    }

    /// CI found this seed: the generator drew a zero scala, which no
    /// attestazione carries (`Scala::from_ten_thousandths(0)` is `None`).
    #[test]
    fn attestazione_round_trips_with_the_seed_ci_found() {
        attestazione_round_trip(13_444_996_429_831_298_618).unwrap();
    }

    proptest! {
        #[test]
        fn attestazione_round_trips(seed in any::<u64>()) {
            attestazione_round_trip(seed)?;
        }

        #[test]
        fn indicatore_round_trips(seed in any::<u64>()) {
            let ind = Gen::new(seed).indicatore();
            let xml = write_indicatore(&ind);
            let mut back = parse_indicatore(xml.as_bytes())
                .map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
            back.raw_xml = String::new();
            prop_assert_eq!(back, ind);
        }
    }

    #[test]
    fn escapes_and_formats() {
        let mut g = Gen::new(1);
        let mut ind = g.indicatore();
        ind.values.isee = Euro::from_cents(1_234_500);
        ind.values.scala = Scala::from_ten_thousandths(24_600);
        ind.household = vec![ComponenteNucleo {
            surname: Some("A&B <\"c\">\u{1}".into()),
            ..g.member()
        }];
        let xml = write_indicatore(&ind);
        assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Indicatore xmlns="http://inps.it/ISEERiforma""#));
        assert!(xml.contains(r#"ISEE="12345.00""#));
        assert!(xml.contains(r#"ScalaEquivalenza="2.46""#));
        assert!(xml.contains(r#"Cognome="A&amp;B &lt;&quot;c&quot;&gt;""#));
        let back = parse_indicatore(xml.as_bytes()).unwrap();
        assert_eq!(back.household[0].surname.as_deref(), Some("A&B <\"c\">"));
    }
}
