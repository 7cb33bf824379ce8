//! Codici fiscali: the 16-character code of a person (with omocodia) and the
//! 11-digit numeric code (entities, partita IVA, provisional codes of persons).
//!
//! [`CodiceFiscale::parse`] normalises its input (trim, upper-case, drop
//! inner blanks and hyphens) and runs four tiers of checks, each of which is
//! also callable alone from [`checks`]:
//!
//! 1. format per position ([`checks::format`]),
//! 2. check character ([`checks::check_char`]),
//! 3. calendar date ([`checks::date`]): month letter, day 1-31 / 41-71,
//!    month lengths, 29 February only when `yy` is a multiple of 4
//!    (`00` counts as 2000, a leap year),
//! 4. place ([`checks::place`]): the Belfiore code is known.
//!
//! Whether the place *existed at the birth date* is advisory, never a
//! rejection: see [`CodiceFiscale::place_finding`]. The Agenzia delle Entrate
//! has issued codes outside the windows recorded by ANPR.
//!
//! ```
//! use anist_core::cf::{CodiceFiscale, Sex};
//! use chrono::NaiveDate;
//!
//! let cf = CodiceFiscale::parse(" rssmra 80a41 h50mq ").unwrap();
//! assert_eq!(cf.sex(), Sex::Female);
//! assert_eq!(cf.omocodia_level(), 1);
//! assert_eq!(cf.canonical().as_str(), "RSSMRA80A41H501Y");
//! let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
//! assert_eq!(cf.birth_date_relative_to(today), NaiveDate::from_ymd_opt(1980, 1, 1));
//! ```

mod century;
pub mod checks;
mod encode;
mod error;
mod matching;
mod numeric;
pub(crate) mod tables;

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

pub use century::{CenturyPolicy, FixedPivot, MostRecentNotFuture};
pub use encode::{encode_name_part, encode_surname_part, PersonData, PlacePart};
pub use error::CfError;
pub use matching::{FieldMatch, MatchQuery, MatchReport};
pub use numeric::{luhn_check_digit, CodiceFiscaleNumerico, NumericKind};

use crate::place::{self, PlaceEra};
use tables::{DIGIT_POSITIONS_RTL, DIGIT_VALUE, MONTH_NUMBER, OMOCODE_LETTERS};

/// The sex encoded in a codice fiscale (day + 40 for women).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// Day written as 01-31.
    Male,
    /// Day written as 41-71.
    Female,
}

impl Sex {
    /// `"M"` or `"F"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
}

impl FromStr for Sex {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "M" | "m" => Ok(Sex::Male),
            "F" | "f" => Ok(Sex::Female),
            _ => Err(String::from("sex must be M or F")),
        }
    }
}

/// A Belfiore code (codice catastale): one letter and three digits, e.g.
/// `H501` (Roma) or `Z200` (Afghanistan), as read from a codice fiscale.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BelfioreCode([u8; 4]);

impl BelfioreCode {
    /// Parses `L999` (trimmed, case-insensitive). Does not check that the code
    /// is known: use [`BelfioreCode::eras`] or [`crate::place::is_known`].
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.trim().as_bytes();
        if b.len() != 4 || !b[0].is_ascii_alphabetic() || !b[1..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(Self([b[0].to_ascii_uppercase(), b[1], b[2], b[3]]))
    }

    /// The code as a string.
    pub fn as_str(&self) -> &str {
        crate::text::ascii_str(&self.0)
    }

    /// The four bytes.
    pub fn as_bytes(&self) -> &[u8; 4] {
        &self.0
    }

    /// Every recorded era of the place with this code (empty if unknown).
    pub fn eras(&self) -> &'static [PlaceEra] {
        place::eras(&self.0)
    }
}

impl fmt::Debug for BelfioreCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BelfioreCode({})", self.as_str())
    }
}

/// The advisory finding about the place of birth at the birth date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceFinding {
    /// An era of the place covers the birth date.
    ExistedAtBirth(&'static PlaceEra),
    /// The place is known but no recorded era covers the birth date. The code
    /// may still be genuine: report it as a warning (`cf_place_out_of_period`).
    OutOfPeriod,
    /// The birth date could not be resolved (e.g. 29 February of a non-leap
    /// century year) or the code is unknown to the table.
    Undetermined,
}

impl PlaceFinding {
    /// The stable warning code, if this finding is a warning.
    pub fn warning_code(&self) -> Option<&'static str> {
        match self {
            PlaceFinding::OutOfPeriod => Some("cf_place_out_of_period"),
            _ => None,
        }
    }
}

/// A valid 16-character codice fiscale of a person.
///
/// Only valid codes can be built: [`parse`](Self::parse) runs all four tiers
/// of checks. The value is 16 ASCII bytes and `Copy`. `Display` prints the full
/// code (writing output files is the point); `Debug` masks it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodiceFiscale([u8; 16]);

/// Normalises `input` into `buf`: drops ASCII blanks and hyphens, upper-cases
/// letters. Returns the number of characters (at most 16 are stored; the count
/// goes on so that the length error is accurate).
pub(crate) fn normalize(input: &[u8], buf: &mut [u8; 16]) -> Result<usize, CfError> {
    let mut n = 0usize;
    for (i, &b) in input.iter().enumerate() {
        match b {
            b' ' | b'\t' | b'\r' | b'\n' | b'-' | 0x0b | 0x0c => continue,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => {
                if n < 16 {
                    buf[n] = b.to_ascii_uppercase();
                }
                n += 1;
            }
            _ => {
                let ch = bad_char_at(input, i);
                let pos = u8::try_from(n + 1).unwrap_or(u8::MAX);
                return Err(CfError::Char {
                    pos,
                    ch,
                    expected: "a letter or a digit",
                });
            }
        }
    }
    match n {
        0 => Err(CfError::Empty),
        _ => Ok(n),
    }
}

/// The character starting at byte `i` of possibly invalid UTF-8.
fn bad_char_at(input: &[u8], i: usize) -> char {
    let end = (i + 4).min(input.len());
    let tail = input.get(i..end).unwrap_or(&[]);
    match std::str::from_utf8(tail) {
        Ok(s) => s.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER),
        Err(e) => std::str::from_utf8(&tail[..e.valid_up_to()])
            .ok()
            .and_then(|s| s.chars().next())
            .unwrap_or(char::REPLACEMENT_CHARACTER),
    }
}

impl CodiceFiscale {
    /// Parses and fully validates a codice fiscale (all four tiers).
    ///
    /// ```
    /// use anist_core::cf::CodiceFiscale;
    /// use anist_core::ErrorCode;
    /// assert!(CodiceFiscale::parse("RSSMRA80A01H501U").is_ok());
    /// let err = CodiceFiscale::parse("RSSMRA80A01H501X").unwrap_err();
    /// assert_eq!(err.code(), "cf_check_char");
    /// ```
    pub fn parse(input: &str) -> Result<Self, CfError> {
        Self::parse_bytes(input.as_bytes())
    }

    /// As [`parse`](Self::parse), from bytes that may not be UTF-8.
    pub fn parse_bytes(input: &[u8]) -> Result<Self, CfError> {
        let code = Self::parse_formal_bytes(input)?;
        checks::place(&code.0)?;
        Ok(code)
    }

    /// Tiers 1-3 only (format, check character, date), the formal
    /// correctness checked by the Agenzia delle Entrate's own program: accepts
    /// a Belfiore code that the compiled-in table does not know.
    pub fn parse_formal(input: &str) -> Result<Self, CfError> {
        Self::parse_formal_bytes(input.as_bytes())
    }

    fn parse_formal_bytes(input: &[u8]) -> Result<Self, CfError> {
        // Fast path: 16 bytes already in normal form (tier 1 admits only A-Z 0-9).
        let buf = match <[u8; 16]>::try_from(input) {
            Ok(arr) if checks::format_ok(&arr) => arr,
            _ => {
                let mut buf = [0u8; 16];
                let n = normalize(input, &mut buf)?;
                if n != 16 {
                    return Err(CfError::Length { found: n });
                }
                checks::format(&buf)?;
                buf
            }
        };
        checks::check_char(&buf)?;
        checks::date(&buf)?;
        Ok(Self(buf))
    }

    /// Whether `input` is a fully valid codice fiscale.
    pub fn is_valid(input: &str) -> bool {
        Self::parse(input).is_ok()
    }

    /// The code, 16 upper-case ASCII characters.
    pub fn as_str(&self) -> &str {
        crate::text::ascii_str(&self.0)
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    fn digit(&self, i: usize) -> u8 {
        DIGIT_VALUE[usize::from(self.0[i])]
    }

    /// The sex.
    pub fn sex(&self) -> Sex {
        if self.day_field() > 40 {
            Sex::Female
        } else {
            Sex::Male
        }
    }

    fn day_field(&self) -> u8 {
        self.digit(9) * 10 + self.digit(10)
    }

    /// Day of birth, 1-31.
    pub fn birth_day(&self) -> u8 {
        let d = self.day_field();
        if d > 40 {
            d - 40
        } else {
            d
        }
    }

    /// Month of birth, 1-12.
    pub fn birth_month(&self) -> u8 {
        MONTH_NUMBER[usize::from(self.0[8])]
    }

    /// The two-digit year of birth as written (omocodia decoded).
    pub fn birth_year_2digit(&self) -> u8 {
        self.digit(6) * 10 + self.digit(7)
    }

    /// The two years the code can stand for: 19yy and 20yy. The code does not
    /// carry the century; see [`birth_date`](Self::birth_date).
    pub fn possible_birth_years(&self) -> [i32; 2] {
        let yy = i32::from(self.birth_year_2digit());
        [1900 + yy, 2000 + yy]
    }

    /// The birth date with the century chosen by `policy`; `None` when the
    /// policy's century makes the date impossible (29 February 1900).
    pub fn birth_date(&self, policy: &impl CenturyPolicy) -> Option<NaiveDate> {
        let (yy, m, d) = (
            self.birth_year_2digit(),
            self.birth_month(),
            self.birth_day(),
        );
        let year = policy.year(yy, m, d)?;
        NaiveDate::from_ymd_opt(year, u32::from(m), u32::from(d))
    }

    /// The birth date in the most recent century that does not put it after
    /// `reference` (usually today): the default policy.
    pub fn birth_date_relative_to(&self, reference: NaiveDate) -> Option<NaiveDate> {
        self.birth_date(&MostRecentNotFuture::new(reference))
    }

    /// The Belfiore code of the place of birth (omocodia decoded).
    pub fn belfiore_code(&self) -> BelfioreCode {
        BelfioreCode(checks::belfiore_bytes(&self.0))
    }

    /// Bit mask of the digit positions written as omocodia letters: bit 0 is
    /// position 15 (the rightmost), bit 6 position 7.
    pub fn omocodia_mask(&self) -> u8 {
        let mut mask = 0u8;
        for (bit, &i) in DIGIT_POSITIONS_RTL.iter().enumerate() {
            if self.0[i].is_ascii_uppercase() {
                mask |= 1 << bit;
            }
        }
        mask
    }

    /// How many digit positions are written as letters (0-7).
    pub fn omocodia_level(&self) -> u8 {
        // At most 7 bits are set.
        self.omocodia_mask().count_ones() as u8
    }

    /// Whether any digit position is written as a letter.
    pub fn is_omocodic(&self) -> bool {
        self.omocodia_mask() != 0
    }

    /// The canonical (de-omocoded) form: every digit position as a digit,
    /// check character recomputed.
    pub fn canonical(&self) -> CodiceFiscale {
        self.omocodic_variant(0)
    }

    /// The variant with exactly the digit positions of `mask` written as
    /// letters (bit 0 = position 15 … bit 6 = position 7; higher bits ignored).
    /// All 128 variants of a valid code are valid and share the canonical form.
    pub fn omocodic_variant(&self, mask: u8) -> CodiceFiscale {
        let mut b = self.0;
        for (bit, &i) in DIGIT_POSITIONS_RTL.iter().enumerate() {
            let v = usize::from(DIGIT_VALUE[usize::from(b[i])]);
            b[i] = if mask & (1 << bit) != 0 {
                OMOCODE_LETTERS[v]
            } else {
                b'0' + v as u8
            };
        }
        b[15] = checks::compute_check_char(&b);
        CodiceFiscale(b)
    }

    /// The variant the Agenzia delle Entrate would issue at omocodia `level`
    /// (0-7): the `level` rightmost digit positions as letters.
    pub fn with_omocodia_level(&self, level: u8) -> CodiceFiscale {
        let level = level.min(7);
        self.omocodic_variant(((1u16 << level) - 1) as u8)
    }

    /// The advisory place finding: did the place of birth exist at the birth
    /// date (century chosen by `policy`)? Never a rejection.
    pub fn place_finding(&self, policy: &impl CenturyPolicy) -> PlaceFinding {
        let code = checks::belfiore_bytes(&self.0);
        let Some(date) = self.birth_date(policy) else {
            return PlaceFinding::Undetermined;
        };
        match place::at_date(&code, date) {
            Some(era) => PlaceFinding::ExistedAtBirth(era),
            None if place::is_known(&code) => PlaceFinding::OutOfPeriod,
            None => PlaceFinding::Undetermined,
        }
    }

    /// Fast form of [`place_finding`](Self::place_finding) for bulk checks:
    /// `true` unless the place is known and no era covers the birth date.
    pub fn place_plausible(&self, policy: &impl CenturyPolicy) -> bool {
        let (yy, m, d) = (
            self.birth_year_2digit(),
            self.birth_month(),
            self.birth_day(),
        );
        let Some(year) = policy.year(yy, m, d) else {
            return true;
        };
        let Ok(year) = u32::try_from(year) else {
            return true;
        };
        let ymd = year * 10_000 + u32::from(m) * 100 + u32::from(d);
        place::existed_on(&checks::belfiore_bytes(&self.0), ymd) != Some(false)
    }

    /// Compares the code with what is known of a person; see [`MatchQuery`].
    pub fn matches(&self, query: &MatchQuery<'_>) -> MatchReport {
        matching::compare(self, query)
    }

    /// Builds the code of a person; see [`PersonData`].
    ///
    /// ```
    /// use anist_core::cf::{CodiceFiscale, PersonData, PlacePart, Sex};
    /// use chrono::NaiveDate;
    /// let cf = CodiceFiscale::encode(&PersonData {
    ///     surname: "Rossi",
    ///     name: "Mario",
    ///     birth_date: NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
    ///     sex: Sex::Male,
    ///     place: PlacePart::Code("H501"),
    ///     omocodia_level: 0,
    /// })
    /// .unwrap();
    /// assert_eq!(cf.as_str(), "RSSMRA80A01H501U");
    /// ```
    pub fn encode(person: &PersonData<'_>) -> Result<CodiceFiscale, CfError> {
        encode::encode(person)
    }

    /// Builds a code from 16 bytes already known to be valid (crate-internal).
    pub(crate) fn from_valid_bytes(b: [u8; 16]) -> Self {
        Self(b)
    }
}

/// Masked: `CodiceFiscale(RSSMRA**A01H501*)`: no year, no check character.
impl CodiceFiscale {
    /// The code with the birth year and the check character hidden
    /// (`RSSMRA**A01H501*`): what logs and screens may show.
    pub fn masked(&self) -> String {
        let mut m = self.0;
        m[6] = b'*';
        m[7] = b'*';
        m[15] = b'*';
        String::from_utf8_lossy(&m).into_owned()
    }
}

impl fmt::Debug for CodiceFiscale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodiceFiscale({})", self.masked())
    }
}

crate::text::impl_parse_traits!(CodiceFiscale, CfError);
crate::text::impl_display_as_str!(BelfioreCode, CodiceFiscale, AnyCodiceFiscale);

impl AsRef<str> for CodiceFiscale {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Either kind of codice fiscale: what a registry column may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnyCodiceFiscale {
    /// The 16-character code of a person.
    Persona(CodiceFiscale),
    /// An 11-digit code: an entity, a partita IVA, or a provisional code
    /// (also of a person).
    Numerico(CodiceFiscaleNumerico),
}

impl AnyCodiceFiscale {
    /// Parses either form: 11 digits after normalisation are a numeric code,
    /// anything else must be a 16-character code.
    ///
    /// ```
    /// use anist_core::cf::AnyCodiceFiscale;
    /// assert!(matches!(AnyCodiceFiscale::parse("00000010008"), Ok(AnyCodiceFiscale::Numerico(_))));
    /// assert!(matches!(AnyCodiceFiscale::parse("RSSMRA80A01H501U"), Ok(AnyCodiceFiscale::Persona(_))));
    /// ```
    pub fn parse(input: &str) -> Result<Self, CfError> {
        Self::parse_bytes(input.as_bytes())
    }

    /// As [`parse`](Self::parse), from bytes that may not be UTF-8.
    pub fn parse_bytes(input: &[u8]) -> Result<Self, CfError> {
        let mut buf = [0u8; 16];
        let n = normalize(input, &mut buf)?;
        if n == 11 && buf[..11].iter().all(u8::is_ascii_digit) {
            return CodiceFiscaleNumerico::from_normalized(&buf[..11]).map(Self::Numerico);
        }
        CodiceFiscale::parse_bytes(input).map(Self::Persona)
    }

    /// The code as a string.
    pub fn as_str(&self) -> &str {
        match self {
            AnyCodiceFiscale::Persona(c) => c.as_str(),
            AnyCodiceFiscale::Numerico(c) => c.as_str(),
        }
    }

    /// The code masked as its kind masks it ([`CodiceFiscale::masked`],
    /// [`CodiceFiscaleNumerico::masked`]).
    pub fn masked(&self) -> String {
        match self {
            AnyCodiceFiscale::Persona(c) => c.masked(),
            AnyCodiceFiscale::Numerico(c) => c.masked(),
        }
    }
}
