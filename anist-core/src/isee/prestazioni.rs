//! `PrestazioneDaErogare`: the benefit an ente asks an ISEE for, coded as in
//! the Casellario dell'assistenza (`A1.01` … `A3.03`, `Z9.99`), and the
//! state of the application (`StatodomandaPrestazione`).

use std::fmt;
use std::str::FromStr;

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// What a position of the code must hold: a description and a test.
type Slot = (&'static str, fn(u8) -> bool);

/// Every code with its Italian description, in code order.
const TABLE: [(&str, &str); 36] = [
    ("A1.01", "Assegno per il nucleo familiare erogato dai Comuni"),
    ("A1.02", "Assegno di maternità erogato dai Comuni"),
    ("A1.03", "Carta acquisti"),
    ("A1.04", "Contributi economici a integrazione del reddito familiare"),
    ("A1.05", "Contributi economici per alloggio"),
    ("A1.06", "Buoni spesa o buoni pasto"),
    ("A1.07", "Contributi e integrazioni a rette per asili nido"),
    (
        "A1.08",
        "Contributi e integrazioni a rette per servizi integrativi o innovativi per la prima infanzia",
    ),
    ("A1.09", "Contributi economici per i servizi scolastici"),
    (
        "A1.10",
        "Contributi economici per cure o prestazioni sociali a rilevanza sanitaria",
    ),
    (
        "A1.11",
        "Assegnazioni economiche per il sostegno della domiciliarità e dell'autonomia personale",
    ),
    ("A1.12", "Contributi e integrazioni a rette per accesso a centri diurni"),
    (
        "A1.13",
        "Contributi e integrazioni a rette per accesso ai servizi semi-residenziali",
    ),
    (
        "A1.14",
        "Contributi e integrazioni a rette per accesso a servizi residenziali",
    ),
    ("A1.15", "Contributi per servizi alla persona"),
    ("A1.16", "Contributi economici per servizio trasporto e mobilità"),
    (
        "A1.17",
        "Contributi economici erogati a titolo di prestito / prestiti d'onore",
    ),
    ("A1.18", "Contributi economici per l'inserimento lavorativo"),
    ("A1.19", "Borse di studio"),
    ("A1.20", "Buono vacanze"),
    ("A2.01", "Mensa sociale"),
    ("A2.02", "Sostegno socio-educativo territoriale o domiciliare"),
    ("A2.03", "Prestazioni del diritto allo studio universitario"),
    ("A2.04", "Agevolazioni per tasse universitarie"),
    (
        "A2.05",
        "Agevolazioni per i servizi di pubblica utilità (telefono, luce, gas)",
    ),
    ("A2.06", "Agevolazioni tributarie comunali (nettezza urbana, ecc.)"),
    ("A2.07", "Assistenza domiciliare socio-assistenziale"),
    (
        "A2.08",
        "A.D.I. - Assistenza domiciliare integrata con servizi sanitari",
    ),
    ("A2.09", "Supporto all'inserimento lavorativo"),
    ("A2.10", "Servizi integrativi per la prima infanzia"),
    ("A2.11", "Sostegno socio-educativo scolastico"),
    ("A2.12", "Mensa scolastica"),
    ("A3.01", "Strutture semiresidenziali"),
    ("A3.02", "Strutture residenziali"),
    ("A3.03", "Asilo nido"),
    ("Z9.99", "Altro"),
];

/// Why a string is not a known `PrestazioneDaErogare` code.
///
/// Codes: `isee_prestazione_format` (not shaped like `A1.07`),
/// `isee_prestazione_unknown` (well-formed but not in the table).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrestazioneError {
    /// Not a letter, a digit, `.` and two digits (e.g. `A1.07`).
    #[error(
        "character {pos} of the prestazione code should be {expected}: \
         codes look like A1.07"
    )]
    Format {
        /// 1-based position in the trimmed input (one past the end when the
        /// code is too short).
        pos: usize,
        /// What the position should hold.
        expected: &'static str,
    },
    /// Well-formed, but not one of the codes of the Casellario table.
    #[error(
        "{code} is not a PrestazioneDaErogare code: known codes are \
         A1.01-A1.20, A2.01-A2.12, A3.01-A3.03 and Z9.99"
    )]
    Unknown {
        /// The normalised code.
        code: String,
    },
}

impl PrestazioneError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] =
        &["isee_prestazione_format", "isee_prestazione_unknown"];
}

impl ErrorCode for PrestazioneError {
    fn code(&self) -> &'static str {
        match self {
            PrestazioneError::Format { .. } => "isee_prestazione_format",
            PrestazioneError::Unknown { .. } => "isee_prestazione_unknown",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }

    fn position(&self) -> Option<usize> {
        match self {
            PrestazioneError::Format { pos, .. } => Some(*pos),
            PrestazioneError::Unknown { .. } => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for PrestazioneError {
    fn samples() -> Vec<Self> {
        vec![
            PrestazioneError::Format {
                pos: 3,
                expected: "a dot",
            },
            PrestazioneError::Unknown {
                code: "A1.21".to_owned(),
            },
        ]
    }
}

/// A benefit code of the Casellario dell'assistenza, sent as
/// `PrestazioneDaErogare` in every ISEE request.
///
/// ```
/// use anist_core::isee::PrestazioneDaErogare;
/// use anist_core::ErrorCode;
///
/// let p = PrestazioneDaErogare::parse(" a1.07 ")?;
/// assert_eq!(p, PrestazioneDaErogare::CONTRIBUTI_RETTE_ASILI_NIDO);
/// assert_eq!(p.code(), "A1.07");
/// assert_eq!(p.description(), "Contributi e integrazioni a rette per asili nido");
/// assert_eq!(PrestazioneDaErogare::parse("A1.21").unwrap_err().code(), "isee_prestazione_unknown");
/// assert_eq!(PrestazioneDaErogare::parse("A107").unwrap_err().code(), "isee_prestazione_format");
/// assert_eq!(PrestazioneDaErogare::all().count(), 36);
/// # Ok::<(), anist_core::isee::PrestazioneError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrestazioneDaErogare(u8);

impl PrestazioneDaErogare {
    /// A1.07 Contributi e integrazioni a rette per asili nido.
    pub const CONTRIBUTI_RETTE_ASILI_NIDO: Self = Self(6);
    /// A1.08 Contributi e integrazioni a rette per servizi integrativi o
    /// innovativi per la prima infanzia.
    pub const CONTRIBUTI_SERVIZI_PRIMA_INFANZIA: Self = Self(7);
    /// A1.09 Contributi economici per i servizi scolastici.
    pub const CONTRIBUTI_SERVIZI_SCOLASTICI: Self = Self(8);
    /// A1.19 Borse di studio.
    pub const BORSE_DI_STUDIO: Self = Self(18);
    /// A2.10 Servizi integrativi per la prima infanzia.
    pub const SERVIZI_INTEGRATIVI_PRIMA_INFANZIA: Self = Self(29);
    /// A2.12 Mensa scolastica.
    pub const MENSA_SCOLASTICA: Self = Self(31);
    /// A3.03 Asilo nido.
    pub const ASILO_NIDO: Self = Self(34);
    /// Z9.99 Altro.
    pub const ALTRO: Self = Self(35);

    /// Parses a code: surrounding blanks are trimmed and letters
    /// upper-cased; the result must be a letter, a digit, `.`, two digits,
    /// and one of the 36 codes of the table.
    ///
    /// # Errors
    ///
    /// [`PrestazioneError::Format`] at the first character that does not fit
    /// the shape; [`PrestazioneError::Unknown`] for a well-formed code that is
    /// not in the table.
    pub fn parse(input: &str) -> Result<Self, PrestazioneError> {
        let s = input.trim();
        let mut buf = [0u8; 5];
        let shape: [Slot; 5] = [
            ("a letter", |b| b.is_ascii_uppercase()),
            ("a digit", |b| b.is_ascii_digit()),
            ("'.'", |b| b == b'.'),
            ("a digit", |b| b.is_ascii_digit()),
            ("a digit", |b| b.is_ascii_digit()),
        ];
        let mut n = 0;
        for (i, ch) in s.chars().enumerate() {
            let Some(((expected, ok), out)) = shape.get(i).zip(buf.get_mut(i)) else {
                return Err(PrestazioneError::Format {
                    pos: i + 1,
                    expected: "the end of the code",
                });
            };
            let up = ch.to_ascii_uppercase();
            let byte = u8::try_from(up).ok().filter(|b| b.is_ascii() && ok(*b));
            match byte {
                Some(b) => *out = b,
                None => {
                    return Err(PrestazioneError::Format {
                        pos: i + 1,
                        expected,
                    })
                }
            }
            n = i + 1;
        }
        if n < 5 {
            let expected = shape.get(n).map_or("a digit", |(e, _)| e);
            return Err(PrestazioneError::Format {
                pos: n + 1,
                expected,
            });
        }
        let code = std::str::from_utf8(&buf).unwrap_or("");
        TABLE
            .iter()
            .position(|(c, _)| *c == code)
            .and_then(|i| u8::try_from(i).ok())
            .map(PrestazioneDaErogare)
            .ok_or_else(|| PrestazioneError::Unknown {
                code: code.to_string(),
            })
    }

    /// The code, e.g. `A1.07`.
    pub fn code(self) -> &'static str {
        TABLE.get(usize::from(self.0)).map_or("Z9.99", |(c, _)| c)
    }

    /// The Italian description of the benefit.
    pub fn description(self) -> &'static str {
        TABLE.get(usize::from(self.0)).map_or("Altro", |(_, d)| d)
    }

    /// Every code, in table order.
    pub fn all() -> impl Iterator<Item = PrestazioneDaErogare> {
        (0..TABLE.len()).filter_map(|i| u8::try_from(i).ok().map(PrestazioneDaErogare))
    }
}

impl fmt::Display for PrestazioneDaErogare {
    /// The code, e.g. `A1.07`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for PrestazioneDaErogare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrestazioneDaErogare({})", self.code())
    }
}

impl FromStr for PrestazioneDaErogare {
    type Err = PrestazioneError;

    /// Same as [`PrestazioneDaErogare::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The state of the application the ISEE is asked for
/// (`StatodomandaPrestazione`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatoDomanda {
    /// `Da Erogare`: the benefit is yet to be granted.
    DaErogare,
    /// `Erogata`: the benefit has been granted (checks after the fact).
    Erogata,
}

impl StatoDomanda {
    /// The wire value: `Da Erogare` or `Erogata`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatoDomanda::DaErogare => "Da Erogare",
            StatoDomanda::Erogata => "Erogata",
        }
    }

    /// Parses the wire value, ignoring case, blanks and `_`/`-`
    /// (`da erogare`, `DA_EROGARE`); `None` for anything else.
    pub fn parse(input: &str) -> Option<StatoDomanda> {
        let key: String = input
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match key.as_str() {
            "daerogare" => Some(StatoDomanda::DaErogare),
            "erogata" => Some(StatoDomanda::Erogata),
            _ => None,
        }
    }
}

impl fmt::Display for StatoDomanda {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PrestazioneDaErogare {
        match PrestazioneDaErogare::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn table_is_complete_and_sorted() {
        let codes: Vec<&str> = PrestazioneDaErogare::all().map(|p| p.code()).collect();
        let mut expected = Vec::new();
        for i in 1..=20 {
            expected.push(format!("A1.{i:02}"));
        }
        for i in 1..=12 {
            expected.push(format!("A2.{i:02}"));
        }
        for i in 1..=3 {
            expected.push(format!("A3.{i:02}"));
        }
        expected.push("Z9.99".into());
        assert_eq!(codes, expected);
        for x in PrestazioneDaErogare::all() {
            assert_eq!(p(x.code()), x);
            assert!(!x.description().is_empty());
            assert_eq!(x.to_string(), x.code());
        }
    }

    #[test]
    fn named_constants() {
        assert_eq!(
            PrestazioneDaErogare::CONTRIBUTI_RETTE_ASILI_NIDO.code(),
            "A1.07"
        );
        assert_eq!(
            PrestazioneDaErogare::CONTRIBUTI_SERVIZI_PRIMA_INFANZIA.code(),
            "A1.08"
        );
        assert_eq!(
            PrestazioneDaErogare::CONTRIBUTI_SERVIZI_SCOLASTICI.code(),
            "A1.09"
        );
        assert_eq!(PrestazioneDaErogare::BORSE_DI_STUDIO.code(), "A1.19");
        assert_eq!(
            PrestazioneDaErogare::SERVIZI_INTEGRATIVI_PRIMA_INFANZIA.code(),
            "A2.10"
        );
        assert_eq!(PrestazioneDaErogare::MENSA_SCOLASTICA.code(), "A2.12");
        assert_eq!(PrestazioneDaErogare::ASILO_NIDO.code(), "A3.03");
        assert_eq!(PrestazioneDaErogare::ASILO_NIDO.description(), "Asilo nido");
        assert_eq!(PrestazioneDaErogare::ALTRO.code(), "Z9.99");
        assert_eq!(
            format!("{:?}", PrestazioneDaErogare::MENSA_SCOLASTICA),
            "PrestazioneDaErogare(A2.12)"
        );
    }

    #[test]
    fn parse_normalises() {
        assert_eq!(
            p("a1.07"),
            PrestazioneDaErogare::CONTRIBUTI_RETTE_ASILI_NIDO
        );
        assert_eq!(p("\tA3.03 "), PrestazioneDaErogare::ASILO_NIDO);
        assert_eq!("z9.99".parse(), Ok(PrestazioneDaErogare::ALTRO));
    }

    #[test]
    fn parse_errors() {
        let err = |s: &str| match PrestazioneDaErogare::parse(s) {
            Ok(v) => panic!("{s:?} parsed as {v:?}"),
            Err(e) => e,
        };
        assert_eq!(
            err("A1.21"),
            PrestazioneError::Unknown {
                code: "A1.21".into()
            }
        );
        assert_eq!(err("A1.21").code(), "isee_prestazione_unknown");
        assert_eq!(err("A2.13").code(), "isee_prestazione_unknown");
        assert_eq!(err("A3.00").code(), "isee_prestazione_unknown");
        assert_eq!(err("Z9.98").code(), "isee_prestazione_unknown");
        assert_eq!(err("B1.01").code(), "isee_prestazione_unknown");
        let e = err("A107");
        assert_eq!(
            (e.code(), e.position()),
            ("isee_prestazione_format", Some(3))
        );
        assert_eq!(err("").position(), Some(1));
        assert_eq!(err("A1.0").position(), Some(5));
        assert_eq!(err("A1.071").position(), Some(6));
        assert_eq!(err("11.07").position(), Some(1));
        assert_eq!(err("A1,07").position(), Some(3));
        assert_eq!(err("À1.07").position(), Some(1));
        assert!(err("A1.21").to_string().contains("A1.21"));
    }

    #[test]
    fn stato_domanda() {
        assert_eq!(
            StatoDomanda::parse("Da Erogare"),
            Some(StatoDomanda::DaErogare)
        );
        assert_eq!(
            StatoDomanda::parse("DA_EROGARE"),
            Some(StatoDomanda::DaErogare)
        );
        assert_eq!(StatoDomanda::parse("erogata"), Some(StatoDomanda::Erogata));
        assert_eq!(StatoDomanda::parse("Erogato"), None);
        assert_eq!(StatoDomanda::DaErogare.to_string(), "Da Erogare");
        assert_eq!(StatoDomanda::Erogata.as_str(), "Erogata");
    }
}
