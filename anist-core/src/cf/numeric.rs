//! The 11-digit numeric codice fiscale (domain.md §6.2): entities, partita
//! IVA, and provisional codes (also assigned to persons, e.g. foreigners
//! awaiting a 16-character code). Rules of the Agenzia delle Entrate's formal
//! check: Luhn check digit, progressive (digits 1-7), office (digits 8-10).

use std::fmt;

use super::error::CfError;
use super::normalize;

/// What an 11-digit code is, by its office code (digits 8-10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NumericKind {
    /// Office `000`: provisional code assigned d'ufficio (also to persons).
    Provisional,
    /// Offices 001-100, 120, 121, 888, 999 with progressive below 8000000:
    /// a partita IVA or the code of an entity (persona non fisica).
    PartitaIva,
    /// Offices 001-095 with progressive from 8000000: the code of an entity
    /// without partita IVA.
    EntityWithoutPartitaIva,
    /// Offices 151-245: provisional code from the former Intendenze di Finanza.
    ProvisionalIntendenza,
    /// Offices 301-766 and 900-950: provisional code from the former Uffici
    /// delle Imposte Dirette.
    ProvisionalImposteDirette,
}

impl NumericKind {
    /// Whether codes of this kind may belong to a natural person
    /// (provisional codes): such codes must never be rejected as "not a person".
    pub fn may_be_person(self) -> bool {
        matches!(
            self,
            NumericKind::Provisional
                | NumericKind::ProvisionalIntendenza
                | NumericKind::ProvisionalImposteDirette
        )
    }

    /// A stable snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            NumericKind::Provisional => "provisional",
            NumericKind::PartitaIva => "partita_iva",
            NumericKind::EntityWithoutPartitaIva => "entity_without_partita_iva",
            NumericKind::ProvisionalIntendenza => "provisional_intendenza",
            NumericKind::ProvisionalImposteDirette => "provisional_imposte_dirette",
        }
    }
}

/// A valid 11-digit codice fiscale.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodiceFiscaleNumerico([u8; 11]);

/// Luhn check digit of the first 10 digits (ASCII).
pub fn luhn_check_digit(first10: &[u8]) -> u8 {
    let mut sum = 0u32;
    for (i, &b) in first10.iter().take(10).enumerate() {
        let d = u32::from(b.wrapping_sub(b'0') % 10);
        sum += if i % 2 == 0 {
            d
        } else if d * 2 > 9 {
            d * 2 - 9
        } else {
            d * 2
        };
    }
    b'0' + ((10 - sum % 10) % 10) as u8
}

impl CodiceFiscaleNumerico {
    /// Parses an 11-digit code (blanks and hyphens dropped).
    ///
    /// ```
    /// use anist_core::cf::{CodiceFiscaleNumerico, NumericKind};
    /// // A provisional code of a person (office 000, progressive 1).
    /// let c = CodiceFiscaleNumerico::parse("00000010008").unwrap();
    /// assert_eq!(c.kind(), NumericKind::Provisional);
    /// assert!(c.kind().may_be_person());
    /// ```
    pub fn parse(input: &str) -> Result<Self, CfError> {
        let mut buf = [0u8; 16];
        let n = normalize(input.as_bytes(), &mut buf)?;
        if n != 11 {
            return Err(CfError::Length { found: n });
        }
        Self::from_normalized(&buf[..11])
    }

    pub(crate) fn from_normalized(b: &[u8]) -> Result<Self, CfError> {
        let Ok(arr) = <[u8; 11]>::try_from(b) else {
            return Err(CfError::Length { found: b.len() });
        };
        if let Some(i) = arr.iter().position(|c| !c.is_ascii_digit()) {
            return Err(CfError::Char {
                pos: i as u8 + 1,
                ch: char::from(arr[i]),
                expected: "a digit",
            });
        }
        let c = Self(arr);
        let (progressive, office) = (c.progressive(), c.office());
        if progressive == 0 {
            return Err(CfError::NumericProgressive { office });
        }
        let kind = classify(progressive, office)?;
        // Office 000 progressives 1-273960 were issued without a check digit.
        let unchecked = kind == NumericKind::Provisional && progressive <= 273_960;
        let expected = luhn_check_digit(&arr[..10]);
        if !unchecked && arr[10] != expected {
            return Err(CfError::NumericCheckDigit {
                expected: char::from(expected),
                found: char::from(arr[10]),
            });
        }
        Ok(c)
    }

    /// The code, 11 digits.
    pub fn as_str(&self) -> &str {
        crate::text::ascii_str(&self.0)
    }

    /// Digits 1-7.
    pub fn progressive(&self) -> u32 {
        self.0[..7]
            .iter()
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'))
    }

    /// Digits 8-10: the office that issued the code.
    pub fn office(&self) -> u16 {
        self.0[7..10]
            .iter()
            .fold(0u16, |acc, &b| acc * 10 + u16::from(b - b'0'))
    }

    /// The kind of code, by office.
    pub fn kind(&self) -> NumericKind {
        // Only classifiable codes are ever built.
        classify(self.progressive(), self.office()).unwrap_or(NumericKind::PartitaIva)
    }
}

fn classify(progressive: u32, office: u16) -> Result<NumericKind, CfError> {
    match office {
        0 => match progressive {
            1..=273_960 | 400_001..=1_072_479 | 1_500_001..=1_828_636 | 2_000_001..=2_054_095 => {
                Ok(NumericKind::Provisional)
            }
            _ => Err(CfError::NumericProgressive { office }),
        },
        1..=100 | 120 | 121 | 888 | 999 => {
            if progressive < 8_000_000 {
                Ok(NumericKind::PartitaIva)
            } else if office > 95 {
                Err(CfError::NumericOffice { office })
            } else {
                Ok(NumericKind::EntityWithoutPartitaIva)
            }
        }
        151..=245 => Ok(NumericKind::ProvisionalIntendenza),
        301..=766 | 900..=950 => Ok(NumericKind::ProvisionalImposteDirette),
        _ => Err(CfError::NumericOffice { office }),
    }
}

crate::text::impl_display_as_str!(CodiceFiscaleNumerico);

/// Masked: the progressive's last four digits are hidden (a provisional code
/// may identify a person).
impl CodiceFiscaleNumerico {
    /// The code with its 4th to 7th digits hidden (`123****8901`): what logs
    /// and screens may show.
    pub fn masked(&self) -> String {
        let mut m = self.0;
        m[3..7].copy_from_slice(b"****");
        String::from_utf8_lossy(&m).into_owned()
    }
}

impl fmt::Debug for CodiceFiscaleNumerico {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodiceFiscaleNumerico({})", self.masked())
    }
}
