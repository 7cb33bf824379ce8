//! ANPR's *Tabella 16 — dati richiesti*: the data sets a request may ask
//! for (codes 1..30, italia/anpr `src/tab/tab_dati_richiesti.rst`), so that
//! a profile can name them.
//!
//! ```
//! use anist_core::anpr::dati::DatoRichiesto;
//!
//! let d = DatoRichiesto::from_code(10).unwrap();
//! assert_eq!(d, DatoRichiesto::Residenza);
//! assert_eq!(d.label(), "residenza");
//! assert_eq!(d.code(), 10);
//! assert_eq!("famigliaConvivenza".parse::<DatoRichiesto>(), Ok(DatoRichiesto::FamigliaConvivenza));
//! assert_eq!(DatoRichiesto::from_code(31), None);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One row of *Tabella 16 — dati richiesti*. Serialised as its code (`"10"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DatoRichiesto {
    /// 1 — scheda individuale completa.
    SchedaCompleta,
    /// 2 — generalità.
    Generalita,
    /// 3 — stato civile.
    StatoCivile,
    /// 4 — attributi del soggetto.
    AttributiSoggetto,
    /// 5 — atto di nascita.
    AttoNascita,
    /// 6 — cittadinanza.
    Cittadinanza,
    /// 7 — altra cittadinanza.
    AltraCittadinanza,
    /// 8 — paternità.
    Paternita,
    /// 9 — maternità.
    Maternita,
    /// 10 — residenza.
    Residenza,
    /// 11 — dati traslitterati.
    DatiTraslitterati,
    /// 12 — tutore / intestatario.
    TutoreIntestatario,
    /// 13 — matrimonio.
    Matrimonio,
    /// 14 — vedovanza.
    Vedovanza,
    /// 15 — annullamento del matrimonio.
    AnnullamentoMatrimonio,
    /// 16 — carta d'identità.
    CartaIdentita,
    /// 17 — permesso di soggiorno.
    PermessoSoggiorno,
    /// 18 — lista elettorale.
    ListaElettorale,
    /// 19 — lista di leva.
    ListaLeva,
    /// 20 — censimento.
    Censimento,
    /// 21 — legame con il soggetto.
    LegameSoggetto,
    /// 22 — famiglia / convivenza.
    FamigliaConvivenza,
    /// 23 — altri dati.
    AltriDati,
    /// 24 — autoveicoli.
    Autoveicoli,
    /// 25 — domicilio digitale.
    DomicilioDigitale,
    /// 26 — dati di iscrizione.
    DatiIscrizione,
    /// 27 — dati di cancellazione.
    DatiCancellazione,
    /// 28 — dati del decesso.
    DatiDecesso,
    /// 29 — provenienza.
    Provenienza,
    /// 30 — destinazione.
    Destinazione,
}

/// (value, code, wire name, Italian label), in code order.
const TABLE: [(DatoRichiesto, u8, &str, &str); 30] = [
    (
        DatoRichiesto::SchedaCompleta,
        1,
        "schedaCompleta",
        "scheda individuale completa",
    ),
    (DatoRichiesto::Generalita, 2, "generalita", "generalità"),
    (DatoRichiesto::StatoCivile, 3, "statoCivile", "stato civile"),
    (
        DatoRichiesto::AttributiSoggetto,
        4,
        "attributiSoggetto",
        "attributi del soggetto",
    ),
    (
        DatoRichiesto::AttoNascita,
        5,
        "attoNascita",
        "atto di nascita",
    ),
    (
        DatoRichiesto::Cittadinanza,
        6,
        "cittadinanza",
        "cittadinanza",
    ),
    (
        DatoRichiesto::AltraCittadinanza,
        7,
        "altraCittadinanza",
        "altra cittadinanza",
    ),
    (DatoRichiesto::Paternita, 8, "paternita", "paternità"),
    (DatoRichiesto::Maternita, 9, "maternita", "maternità"),
    (DatoRichiesto::Residenza, 10, "residenza", "residenza"),
    (
        DatoRichiesto::DatiTraslitterati,
        11,
        "datiTraslitterati",
        "dati traslitterati",
    ),
    (
        DatoRichiesto::TutoreIntestatario,
        12,
        "tutoreIntestatario",
        "tutore / intestatario",
    ),
    (DatoRichiesto::Matrimonio, 13, "matrimonio", "matrimonio"),
    (DatoRichiesto::Vedovanza, 14, "vedovanza", "vedovanza"),
    (
        DatoRichiesto::AnnullamentoMatrimonio,
        15,
        "annullamentoMatrimonio",
        "annullamento del matrimonio",
    ),
    (
        DatoRichiesto::CartaIdentita,
        16,
        "cartaIdentita",
        "carta d'identità",
    ),
    (
        DatoRichiesto::PermessoSoggiorno,
        17,
        "permessoSoggiorno",
        "permesso di soggiorno",
    ),
    (
        DatoRichiesto::ListaElettorale,
        18,
        "listaElettorale",
        "lista elettorale",
    ),
    (DatoRichiesto::ListaLeva, 19, "listaLeva", "lista di leva"),
    (DatoRichiesto::Censimento, 20, "censimento", "censimento"),
    (
        DatoRichiesto::LegameSoggetto,
        21,
        "legameSoggetto",
        "legame con il soggetto",
    ),
    (
        DatoRichiesto::FamigliaConvivenza,
        22,
        "famigliaConvivenza",
        "famiglia / convivenza",
    ),
    (DatoRichiesto::AltriDati, 23, "altriDati", "altri dati"),
    (DatoRichiesto::Autoveicoli, 24, "autoveicoli", "autoveicoli"),
    (
        DatoRichiesto::DomicilioDigitale,
        25,
        "domicilioDigitale",
        "domicilio digitale",
    ),
    (
        DatoRichiesto::DatiIscrizione,
        26,
        "datiIscrizione",
        "dati di iscrizione",
    ),
    (
        DatoRichiesto::DatiCancellazione,
        27,
        "datiCancellazione",
        "dati di cancellazione",
    ),
    (
        DatoRichiesto::DatiDecesso,
        28,
        "datiDecesso",
        "dati del decesso",
    ),
    (DatoRichiesto::Provenienza, 29, "provenienza", "provenienza"),
    (
        DatoRichiesto::Destinazione,
        30,
        "destinazione",
        "destinazione",
    ),
];

impl DatoRichiesto {
    /// Every row, in code order.
    pub const ALL: [DatoRichiesto; 30] = {
        let mut out = [DatoRichiesto::SchedaCompleta; 30];
        let mut i = 0;
        while i < 30 {
            out[i] = TABLE[i].0;
            i += 1;
        }
        out
    };

    fn row(self) -> &'static (DatoRichiesto, u8, &'static str, &'static str) {
        // The table is in declaration order, so the discriminant indexes it.
        &TABLE[self as usize]
    }

    /// The code of Tabella 16 (1..=30).
    pub fn code(self) -> u8 {
        self.row().1
    }

    /// The row with `code`, if 1..=30.
    pub fn from_code(code: u8) -> Option<Self> {
        let i = usize::from(code).checked_sub(1)?;
        TABLE.get(i).map(|r| r.0)
    }

    /// The name of the data block in ANPR's vocabulary (`residenza`,
    /// `famigliaConvivenza`…), as a profile may write it.
    pub fn name(self) -> &'static str {
        self.row().2
    }

    /// The Italian label for clerks.
    pub fn label(self) -> &'static str {
        self.row().3
    }
}

impl fmt::Display for DatoRichiesto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a text is not a row of Tabella 16.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a row of ANPR's Tabella 16 (dati richiesti): write a code 1-30 or a name such as `residenza`")]
pub struct DatoRichiestoError;

impl crate::ErrorCode for DatoRichiestoError {
    fn code(&self) -> &'static str {
        "anpr_dato_richiesto"
    }

    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::InvalidArgument
    }
}

#[doc(hidden)]
impl crate::CodeSamples for DatoRichiestoError {
    fn samples() -> Vec<Self> {
        vec![DatoRichiestoError]
    }
}

impl FromStr for DatoRichiesto {
    type Err = DatoRichiestoError;

    /// A code (`"10"`) or a name (`"residenza"`, case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(code) = s.parse::<u8>() {
            return Self::from_code(code).ok_or(DatoRichiestoError);
        }
        TABLE
            .iter()
            .find(|r| r.2.eq_ignore_ascii_case(s))
            .map(|r| r.0)
            .ok_or(DatoRichiestoError)
    }
}

impl Serialize for DatoRichiesto {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.code().to_string())
    }
}

impl<'de> Deserialize<'de> for DatoRichiesto {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table_is_in_code_order() {
        for (i, d) in DatoRichiesto::ALL.iter().enumerate() {
            assert_eq!(usize::from(d.code()), i + 1);
            assert_eq!(DatoRichiesto::from_code(d.code()), Some(*d));
            assert_eq!(d.name().parse::<DatoRichiesto>(), Ok(*d));
        }
        assert_eq!(DatoRichiesto::from_code(0), None);
        assert_eq!(DatoRichiesto::CartaIdentita.label(), "carta d'identità");
        assert_eq!(DatoRichiesto::DatiDecesso.code(), 28);
    }

    proptest! {
        #[test]
        fn codes_round_trip(code in 0u8..=255) {
            match DatoRichiesto::from_code(code) {
                Some(d) => {
                    prop_assert_eq!(d.code(), code);
                    prop_assert_eq!(code.to_string().parse::<DatoRichiesto>(), Ok(d));
                    let json = serde_json::to_string(&d).unwrap();
                    prop_assert_eq!(serde_json::from_str::<DatoRichiesto>(&json).unwrap(), d);
                }
                None => prop_assert!(!(1..=30).contains(&code)),
            }
        }

        #[test]
        fn parse_never_panics(s in ".{0,24}") {
            let _ = s.parse::<DatoRichiesto>();
        }
    }
}
