//! The codice fiscale error vocabulary.

use crate::error::{CodeSamples, ErrorCode, ErrorKind};
use crate::place::PlaceError;

/// Why a string is not a valid codice fiscale (or why one could not be encoded).
///
/// Every variant has a stable [`ErrorCode::code`]; positions are 1-based in
/// the normalised code (blanks and hyphens removed). Messages never contain
/// the whole code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CfError {
    /// Nothing left after removing blanks and hyphens.
    #[error("the codice fiscale is empty: expected 16 characters (or 11 digits)")]
    Empty,
    /// Wrong number of characters after normalisation.
    #[error(
        "a codice fiscale has 16 characters (or 11 digits), found {found}: \
         check for missing or extra characters"
    )]
    Length {
        /// The number of characters found after normalisation.
        found: usize,
    },
    /// A character that is not allowed at that position.
    #[error("character {ch:?} at position {pos} is not allowed there: expected {expected}")]
    Char {
        /// 1-based position.
        pos: u8,
        /// The offending character.
        ch: char,
        /// What the position accepts, in words.
        expected: &'static str,
    },
    /// Position 9 is not one of the month letters `ABCDEHLMPRST`.
    #[error("character {ch:?} at position 9 is not a month letter (A B C D E H L M P R S T)")]
    Month {
        /// The offending character.
        ch: char,
    },
    /// Positions 10-11 are not a day of that month (1-31 male, 41-71 female).
    #[error(
        "positions 10-11 give day {raw}, which is not a day of month {month} \
         (1-31 for men, 41-71 for women, within the month's length)"
    )]
    Day {
        /// The two-digit day field as written (after omocodia decoding).
        raw: u8,
        /// The month, 1-12.
        month: u8,
    },
    /// The check character (position 16) does not match the first 15.
    #[error(
        "check character should be {expected}, found {found}: \
         a character was probably mistyped"
    )]
    CheckChar {
        /// The check character computed from positions 1-15.
        expected: char,
        /// The character written at position 16.
        found: char,
    },
    /// Positions 12-15 are not a Belfiore code of any comune or foreign state.
    #[error(
        "positions 12-15 ({code}) are not the Belfiore code of any Italian comune or foreign state"
    )]
    PlaceUnknown {
        /// The (de-omocoded) Belfiore code.
        code: String,
    },
    /// An 11-digit code whose last digit does not match.
    #[error("the check digit of an 11-digit code should be {expected}, found {found}")]
    NumericCheckDigit {
        /// The computed check digit.
        expected: char,
        /// The digit written at position 11.
        found: char,
    },
    /// An 11-digit code whose progressive (digits 1-7) is not one that is ever issued.
    #[error("digits 1-7 of an 11-digit code are a progressive that is never issued for office {office:03}")]
    NumericProgressive {
        /// The office code (digits 8-10).
        office: u16,
    },
    /// An 11-digit code whose office code (digits 8-10) is not assigned.
    #[error("digits 8-10 of an 11-digit code ({office:03}) are not an office code in use")]
    NumericOffice {
        /// The office code (digits 8-10).
        office: u16,
    },
    /// Encoding: the surname or name has no letters left after transliteration.
    #[error("the {field} has no letters after transliteration: cannot build the code")]
    EncodeNoLetters {
        /// `"surname"` or `"name"`.
        field: &'static str,
    },
    /// Encoding: the birth year is outside what a codice fiscale can carry.
    #[error("birth year {year} is outside 1800-2199")]
    EncodeYear {
        /// The year given.
        year: i32,
    },
    /// Encoding: the place of birth could not be resolved.
    #[error("place of birth: {0}")]
    EncodePlace(#[from] PlaceError),
}

impl CfError {
    /// The message in Italian, for a clerk's screen (the `Display` message
    /// is the English one of the logs and the bindings). Never contains the
    /// whole code.
    pub fn messaggio(&self) -> String {
        match self {
            CfError::Empty => {
                "il codice fiscale è vuoto: servono 16 caratteri (o 11 cifre)".into()
            }
            CfError::Length { found } => format!(
                "un codice fiscale ha 16 caratteri (o 11 cifre), qui sono {found}: controllare caratteri mancanti o in più"
            ),
            CfError::Char { pos, ch, .. } => {
                format!("il carattere {ch:?} in posizione {pos} non è ammesso in quel punto")
            }
            CfError::Month { ch } => format!(
                "il carattere {ch:?} in posizione 9 non è una lettera del mese (A B C D E H L M P R S T)"
            ),
            CfError::Day { raw, month } => format!(
                "le posizioni 10-11 danno il giorno {raw}, che non è un giorno del mese {month} (1-31 per gli uomini, 41-71 per le donne)"
            ),
            CfError::CheckChar { expected, found } => format!(
                "il carattere di controllo dovrebbe essere {expected}, è {found}: probabilmente un carattere è stato digitato male"
            ),
            CfError::PlaceUnknown { code } => format!(
                "le posizioni 12-15 ({code}) non sono il codice catastale di un comune italiano o di uno stato estero"
            ),
            CfError::NumericCheckDigit { expected, found } => format!(
                "la cifra di controllo di un codice di 11 cifre dovrebbe essere {expected}, è {found}"
            ),
            CfError::NumericProgressive { office } => format!(
                "le cifre 1-7 di un codice di 11 cifre non sono un progressivo mai attribuito dall'ufficio {office:03}"
            ),
            CfError::NumericOffice { office } => format!(
                "le cifre 8-10 di un codice di 11 cifre ({office:03}) non sono un codice d'ufficio in uso"
            ),
            CfError::EncodeNoLetters { field } => format!(
                "{} senza lettere dopo la traslitterazione: il codice non si può calcolare",
                if *field == "surname" { "il cognome" } else { "il nome" }
            ),
            CfError::EncodeYear { year } => {
                format!("l'anno di nascita {year} è fuori dall'intervallo 1800-2199")
            }
            CfError::EncodePlace(e) => format!("luogo di nascita: {e}"),
        }
    }

    /// Every code a parse of a codice fiscale can give (encoding adds
    /// `cf_encode_*` and the `place_*` codes).
    pub const CODES: &'static [&'static str] = &[
        "cf_empty",
        "cf_length",
        "cf_char",
        "cf_month",
        "cf_day",
        "cf_check_char",
        "cf_place_unknown",
        "cf_numeric_check_digit",
        "cf_numeric_progressive",
        "cf_numeric_office",
    ];
}

impl ErrorCode for CfError {
    fn code(&self) -> &'static str {
        match self {
            CfError::Empty => "cf_empty",
            CfError::Length { .. } => "cf_length",
            CfError::Char { .. } => "cf_char",
            CfError::Month { .. } => "cf_month",
            CfError::Day { .. } => "cf_day",
            CfError::CheckChar { .. } => "cf_check_char",
            CfError::PlaceUnknown { .. } => "cf_place_unknown",
            CfError::NumericCheckDigit { .. } => "cf_numeric_check_digit",
            CfError::NumericProgressive { .. } => "cf_numeric_progressive",
            CfError::NumericOffice { .. } => "cf_numeric_office",
            CfError::EncodeNoLetters { .. } => "cf_encode_no_letters",
            CfError::EncodeYear { .. } => "cf_encode_year",
            CfError::EncodePlace(inner) => inner.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            CfError::Empty
            | CfError::Length { .. }
            | CfError::Char { .. }
            | CfError::Month { .. }
            | CfError::Day { .. }
            | CfError::CheckChar { .. }
            | CfError::PlaceUnknown { .. }
            | CfError::NumericCheckDigit { .. }
            | CfError::NumericProgressive { .. }
            | CfError::NumericOffice { .. }
            | CfError::EncodeNoLetters { .. }
            | CfError::EncodeYear { .. } => ErrorKind::InvalidCodiceFiscale,
            CfError::EncodePlace(inner) => inner.kind(),
        }
    }

    fn position(&self) -> Option<usize> {
        match self {
            CfError::Char { pos, .. } => Some(usize::from(*pos)),
            CfError::Month { .. } => Some(9),
            CfError::Day { .. } => Some(10),
            CfError::CheckChar { .. } => Some(16),
            CfError::PlaceUnknown { .. } => Some(12),
            CfError::NumericCheckDigit { .. } => Some(11),
            CfError::NumericProgressive { .. } => Some(1),
            CfError::NumericOffice { .. } => Some(8),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for CfError {
    fn samples() -> Vec<Self> {
        let mut out = vec![
            CfError::Empty,
            CfError::Length { found: 15 },
            CfError::Char {
                pos: 7,
                ch: 'X',
                expected: "a digit",
            },
            CfError::Month { ch: 'F' },
            CfError::Day { raw: 32, month: 1 },
            CfError::CheckChar {
                expected: 'U',
                found: 'V',
            },
            CfError::PlaceUnknown {
                code: "Z999".to_owned(),
            },
            CfError::NumericCheckDigit {
                expected: '3',
                found: '4',
            },
            CfError::NumericProgressive { office: 1 },
            CfError::NumericOffice { office: 999 },
            CfError::EncodeNoLetters { field: "surname" },
            CfError::EncodeYear { year: 1700 },
        ];
        // Every code of the place of birth that could not be resolved.
        out.extend(PlaceError::samples().into_iter().map(CfError::EncodePlace));
        out
    }
}
