//! Exact money and the scala di equivalenza: integers, never floating point.
//!
//! - [`Euro`]: a signed amount in cents (`i64`). Parsed from the machine form
//!   of the INPS documents ([`Euro::parse_decimal`]: `12345.67`, `12345,67`,
//!   `12345`) or from what people type ([`Euro::parse`], which also accepts
//!   thousands separators: `12.345,67`, `12,345.67`, `€ 1.500`). Printed the
//!   Italian way by `Display` (`12.345,67 €`) and in the machine form by
//!   [`Euro::machine`] (`12345.67`). Arithmetic is checked.
//! - [`Scala`]: the scala di equivalenza (`2.46`), kept in ten-thousandths.
//!
//! A value with more fraction digits than the type holds is rejected unless
//! the extra digits are zeros: nothing is ever rounded silently.
//!
//! Error messages never repeat the input: an amount may be somebody's ISEE.
//!
//! ```
//! use anist_core::isee::{Euro, Scala};
//!
//! let isee = Euro::parse_decimal("17443.8")?;
//! assert_eq!(isee.cents(), 1_744_380);
//! assert_eq!(isee.to_string(), "17.443,80 €");
//! assert_eq!(isee.machine().to_string(), "17443.80");
//! assert_eq!(Euro::parse("€ 17.443,80")?, isee);
//! let scala: Scala = "2,46".parse()?;
//! assert_eq!((scala.ten_thousandths(), scala.to_string()), (24_600, "2,46".to_string()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// Why a string is not an amount of money.
///
/// Codes: `euro_empty`, `euro_format`, `euro_precision`, `euro_overflow`.
/// Messages never contain the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EuroError {
    /// Nothing but blanks (and perhaps the `€` sign).
    #[error("the amount is empty")]
    Empty,
    /// A character that does not belong there, or a misplaced separator.
    #[error("the amount is not a number at character {pos}: expected {expected}")]
    Format {
        /// 1-based character position in the trimmed input.
        pos: usize,
        /// What was expected there, in words.
        expected: &'static str,
    },
    /// More than two fraction digits, and the extra ones are not zeros.
    #[error("the amount has more than two decimals (cents); it is not rounded")]
    Precision,
    /// The amount does not fit 64-bit cents.
    #[error("the amount is too large")]
    Overflow,
}

impl EuroError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &[
        "euro_empty",
        "euro_format",
        "euro_precision",
        "euro_overflow",
    ];
}

impl ErrorCode for EuroError {
    fn code(&self) -> &'static str {
        match self {
            EuroError::Empty => "euro_empty",
            EuroError::Format { .. } => "euro_format",
            EuroError::Precision => "euro_precision",
            EuroError::Overflow => "euro_overflow",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }

    fn position(&self) -> Option<usize> {
        match self {
            EuroError::Format { pos, .. } => Some(*pos),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for EuroError {
    fn samples() -> Vec<Self> {
        vec![
            EuroError::Empty,
            EuroError::Format {
                pos: 1,
                expected: "a digit",
            },
            EuroError::Precision,
            EuroError::Overflow,
        ]
    }
}

/// An exact amount of euro, in cents.
///
/// `Debug` shows the amount (`Euro(12345.67)`): an amount alone is not
/// personal data; the records that hold ISEE values redact them in their own
/// `Debug`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Euro(i64);

impl Euro {
    /// Zero euro.
    pub const ZERO: Euro = Euro(0);
    /// The largest amount.
    pub const MAX: Euro = Euro(i64::MAX);
    /// The smallest (most negative) amount.
    pub const MIN: Euro = Euro(i64::MIN);

    /// An amount from cents.
    pub const fn from_cents(cents: i64) -> Euro {
        Euro(cents)
    }

    /// An amount of whole euro; `None` if it does not fit.
    pub const fn from_euros(euros: i64) -> Option<Euro> {
        match euros.checked_mul(100) {
            Some(c) => Some(Euro(c)),
            None => None,
        }
    }

    /// The amount in cents.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: Euro) -> Option<Euro> {
        match self.0.checked_add(other.0) {
            Some(c) => Some(Euro(c)),
            None => None,
        }
    }

    /// `self - other`, or `None` on overflow.
    pub const fn checked_sub(self, other: Euro) -> Option<Euro> {
        match self.0.checked_sub(other.0) {
            Some(c) => Some(Euro(c)),
            None => None,
        }
    }

    /// `self × factor`, or `None` on overflow.
    pub const fn checked_mul(self, factor: i64) -> Option<Euro> {
        match self.0.checked_mul(factor) {
            Some(c) => Some(Euro(c)),
            None => None,
        }
    }

    /// `-self`, or `None` for [`Euro::MIN`].
    pub const fn checked_neg(self) -> Option<Euro> {
        match self.0.checked_neg() {
            Some(c) => Some(Euro(c)),
            None => None,
        }
    }

    /// The sum of the amounts, or `None` on overflow.
    ///
    /// ```
    /// use anist_core::isee::Euro;
    /// let parts = [Euro::from_cents(150), Euro::from_cents(250)];
    /// assert_eq!(Euro::checked_sum(parts), Some(Euro::from_cents(400)));
    /// assert_eq!(Euro::checked_sum([Euro::MAX, Euro::from_cents(1)]), None);
    /// ```
    pub fn checked_sum(amounts: impl IntoIterator<Item = Euro>) -> Option<Euro> {
        amounts
            .into_iter()
            .try_fold(Euro::ZERO, |acc, x| acc.checked_add(x))
    }

    /// Parses the machine form used by the INPS documents (an `xs:decimal`):
    /// optional sign, digits, optionally `.` or `,` and fraction digits.
    /// No thousands separators. Surrounding blanks are ignored. Fraction
    /// digits beyond the second must be zeros (`12.340` is accepted,
    /// `12.345` is not).
    ///
    /// ```
    /// use anist_core::isee::Euro;
    /// use anist_core::ErrorCode;
    /// assert_eq!(Euro::parse_decimal("12345.67")?.cents(), 1_234_567);
    /// assert_eq!(Euro::parse_decimal("12345,6")?.cents(), 1_234_560);
    /// assert_eq!(Euro::parse_decimal("12345")?.cents(), 1_234_500);
    /// assert_eq!(Euro::parse_decimal("-0.5")?.cents(), -50);
    /// assert_eq!(Euro::parse_decimal("12.345").unwrap_err().code(), "euro_precision");
    /// assert_eq!(Euro::parse_decimal("12.345,67").unwrap_err().code(), "euro_format");
    /// # Ok::<(), anist_core::isee::EuroError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`EuroError::Empty`], [`EuroError::Format`] (with the position of the
    /// first wrong character), [`EuroError::Precision`], [`EuroError::Overflow`].
    pub fn parse_decimal(input: &str) -> Result<Euro, EuroError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EuroError::Empty);
        }
        let (negative, body, offset) = split_sign(s);
        let mut int_part: &str = body;
        let mut frac_part: Option<&str> = None;
        if let Some(i) = body.find(['.', ',']) {
            int_part = &body[..i];
            frac_part = Some(&body[i + 1..]);
        }
        if let Some(bad) = first_non_digit(int_part) {
            return Err(format_err(offset + bad, "a digit"));
        }
        if let Some(frac) = frac_part {
            if let Some(bad) = first_non_digit(frac) {
                let pos = offset + int_part.chars().count() + 1 + bad;
                return Err(format_err(pos, "a digit"));
            }
            if int_part.is_empty() && frac.is_empty() {
                return Err(format_err(offset, "a digit"));
            }
        } else if int_part.is_empty() {
            return Err(format_err(offset + 1, "a digit"));
        }
        assemble(negative, int_part.bytes(), frac_part.unwrap_or(""))
    }

    /// Parses an amount as people write it: everything
    /// [`parse_decimal`](Self::parse_decimal) accepts, plus an optional `€`
    /// sign before or after, and thousands separators (`12.345,67`,
    /// `12,345.67`, `1.500`).
    ///
    /// Rules: when both `.` and `,` occur, the last one is the decimal
    /// separator and the other groups thousands; when one of them occurs
    /// several times it groups thousands; when it occurs once followed by
    /// exactly three digits after a group of one to three digits (not
    /// starting with `0`), it groups thousands (`1.500` is 1500 €, as an
    /// Italian reads it); otherwise it is the decimal separator. Thousands
    /// groups must have three digits.
    ///
    /// ```
    /// use anist_core::isee::Euro;
    /// assert_eq!(Euro::parse("12.345,67 €")?.cents(), 1_234_567);
    /// assert_eq!(Euro::parse("12,345.67")?.cents(), 1_234_567);
    /// assert_eq!(Euro::parse("€ 1.500")?.cents(), 150_000);
    /// assert_eq!(Euro::parse("1.234.567")?.cents(), 123_456_700);
    /// assert_eq!(Euro::parse("0,125").is_err(), true);
    /// assert_eq!(Euro::parse("25000,01")?.cents(), 2_500_001);
    /// # Ok::<(), anist_core::isee::EuroError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`parse_decimal`](Self::parse_decimal); misplaced or badly grouped
    /// separators are [`EuroError::Format`].
    pub fn parse(input: &str) -> Result<Euro, EuroError> {
        let trimmed = input.trim();
        // Strip a euro sign at either end; keep track of the characters
        // removed at the start so positions refer to the trimmed input.
        let (s, lead) = strip_euro_sign(trimmed);
        if s.is_empty() {
            return Err(EuroError::Empty);
        }
        let (negative, body, sign_len) = split_sign(s);
        let offset = lead + sign_len;
        if body.is_empty() {
            return Err(format_err(offset + 1, "a digit"));
        }
        let chars: Vec<char> = body.chars().collect();
        if let Some(i) = chars
            .iter()
            .position(|c| !(c.is_ascii_digit() || *c == '.' || *c == ','))
        {
            return Err(format_err(offset + i + 1, "a digit, '.' or ','"));
        }
        let dots = chars.iter().filter(|&&c| c == '.').count();
        let commas = chars.iter().filter(|&&c| c == ',').count();
        let last_sep = chars.iter().rposition(|&c| c == '.' || c == ',');
        let (decimal, thousands): (Option<char>, Option<char>) = match (dots, commas, last_sep) {
            (0, 0, _) | (_, _, None) => (None, None),
            (d, c, Some(i)) if d > 0 && c > 0 => {
                let dec = chars[i];
                let count_dec = if dec == '.' { d } else { c };
                if count_dec > 1 {
                    return Err(format_err(offset + i + 1, "a digit"));
                }
                (Some(dec), Some(if dec == '.' { ',' } else { '.' }))
            }
            (d, c, Some(i)) => {
                let sep = chars[i];
                if d + c > 1 {
                    (None, Some(sep))
                } else {
                    let before = &chars[..i];
                    let after = &chars[i + 1..];
                    let grouping = after.len() == 3
                        && (1..=3).contains(&before.len())
                        && before.first() != Some(&'0');
                    if grouping {
                        (None, Some(sep))
                    } else {
                        (Some(sep), None)
                    }
                }
            }
        };
        // Split integer and fraction parts.
        let (int_chars, frac_chars, frac_start) = match decimal {
            Some(dec) => {
                let i = chars.iter().rposition(|&c| c == dec).unwrap_or(chars.len());
                (&chars[..i], &chars[(i + 1).min(chars.len())..], i + 1)
            }
            None => (&chars[..], &chars[chars.len()..], chars.len()),
        };
        if int_chars.is_empty() && decimal.is_some() && frac_chars.is_empty() {
            return Err(format_err(offset + 1, "a digit"));
        }
        if decimal.is_some() && frac_chars.is_empty() {
            return Err(format_err(
                offset + frac_start + 1,
                "a digit after the decimal separator",
            ));
        }
        if let Some(i) = frac_chars.iter().position(|c| !c.is_ascii_digit()) {
            return Err(format_err(offset + frac_start + i + 1, "a digit"));
        }
        // Check thousands grouping: groups after the first have 3 digits,
        // the first has 1-3.
        let mut digits: Vec<u8> = Vec::with_capacity(int_chars.len());
        match thousands {
            Some(t) => {
                let mut group_len = 0usize;
                let mut first_group = true;
                for (i, &c) in int_chars.iter().enumerate() {
                    if c == t {
                        let ok = if first_group {
                            (1..=3).contains(&group_len)
                        } else {
                            group_len == 3
                        };
                        if !ok {
                            return Err(format_err(offset + i + 1, "groups of three digits"));
                        }
                        first_group = false;
                        group_len = 0;
                    } else if c.is_ascii_digit() {
                        group_len += 1;
                        digits.push(c as u8);
                    } else {
                        return Err(format_err(offset + i + 1, "a digit"));
                    }
                }
                if group_len != 3 {
                    let pos = offset + int_chars.len().max(1);
                    return Err(format_err(pos, "groups of three digits"));
                }
            }
            None => {
                for (i, &c) in int_chars.iter().enumerate() {
                    if !c.is_ascii_digit() {
                        return Err(format_err(offset + i + 1, "a digit"));
                    }
                    digits.push(c as u8);
                }
            }
        }
        let frac: String = frac_chars.iter().collect();
        assemble(negative, digits.into_iter(), &frac)
    }

    /// The machine form for files and XML: `12345.67`, `-0.50`.
    pub fn machine(self) -> MachineEuro {
        MachineEuro(self)
    }
}

/// The machine form of an [`Euro`] (`12345.67`), from [`Euro::machine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineEuro(Euro);

impl fmt::Display for MachineEuro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0 .0;
        let sign = if c < 0 { "-" } else { "" };
        let abs = c.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Display for Euro {
    /// Italian style: `12.345,67 €`, `-0,50 €`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let units = (abs / 100).to_string();
        let mut grouped = String::with_capacity(units.len() + units.len() / 3);
        for (i, ch) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        write!(f, "{sign}{grouped},{:02} €", abs % 100)
    }
}

impl fmt::Debug for Euro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Euro({})", self.machine())
    }
}

impl FromStr for Euro {
    type Err = EuroError;

    /// Same as [`Euro::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Euro::parse(s)
    }
}

fn format_err(pos: usize, expected: &'static str) -> EuroError {
    EuroError::Format {
        pos: pos.max(1),
        expected,
    }
}

/// `(negative, rest, characters consumed)`.
fn split_sign(s: &str) -> (bool, &str, usize) {
    if let Some(rest) = s.strip_prefix('-') {
        (true, rest, 1)
    } else if let Some(rest) = s.strip_prefix('+') {
        (false, rest, 1)
    } else {
        (false, s, 0)
    }
}

/// Removes one `€` at the start or at the end (with the blanks next to it).
/// Returns the rest and the number of characters removed at the start.
fn strip_euro_sign(s: &str) -> (&str, usize) {
    if let Some(rest) = s.strip_prefix('€') {
        let trimmed = rest.trim_start();
        let removed = 1 + rest.chars().count() - trimmed.chars().count();
        (trimmed.trim_end(), removed)
    } else if let Some(rest) = s.strip_suffix('€') {
        (rest.trim_end(), 0)
    } else {
        (s, 0)
    }
}

/// 1-based index of the first character that is not an ASCII digit.
fn first_non_digit(s: &str) -> Option<usize> {
    s.chars().position(|c| !c.is_ascii_digit()).map(|i| i + 1)
}

/// Builds the amount from validated ASCII digits.
fn assemble(
    negative: bool,
    int_digits: impl Iterator<Item = u8>,
    frac: &str,
) -> Result<Euro, EuroError> {
    let fb = frac.as_bytes();
    if fb.iter().skip(2).any(|&b| b != b'0') {
        return Err(EuroError::Precision);
    }
    // Accumulate in i128 so that i64::MIN (whose magnitude does not fit an
    // i64) can be parsed too.
    let mut cents: i128 = 0;
    for d in int_digits {
        cents = cents
            .checked_mul(10)
            .and_then(|v| v.checked_add(i128::from(d - b'0')))
            .filter(|v| *v <= i128::from(i64::MAX) + 1)
            .ok_or(EuroError::Overflow)?;
    }
    let tens = fb.first().map_or(0, |&b| i128::from(b - b'0'));
    let units = fb.get(1).map_or(0, |&b| i128::from(b - b'0'));
    cents = cents * 100 + tens * 10 + units;
    if negative {
        cents = -cents;
    }
    let cents = i64::try_from(cents).map_err(|_| EuroError::Overflow)?;
    Ok(Euro(cents))
}

/// Why a string is not a scala di equivalenza.
///
/// Codes: `scala_empty`, `scala_format`, `scala_precision`, `scala_range`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScalaError {
    /// Nothing but blanks.
    #[error("the scala di equivalenza is empty")]
    Empty,
    /// Not a decimal number (digits, optionally `.` or `,` and digits).
    #[error("the scala di equivalenza is not a number at character {pos}")]
    Format {
        /// 1-based character position in the trimmed input.
        pos: usize,
    },
    /// More than four fraction digits that are not zeros.
    #[error("the scala di equivalenza has more than four decimals")]
    Precision,
    /// Zero, or above [`Scala::MAX`].
    #[error("the scala di equivalenza must be above 0 and at most 100")]
    Range,
}

impl ScalaError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &[
        "scala_empty",
        "scala_format",
        "scala_precision",
        "scala_range",
    ];
}

impl ErrorCode for ScalaError {
    fn code(&self) -> &'static str {
        match self {
            ScalaError::Empty => "scala_empty",
            ScalaError::Format { .. } => "scala_format",
            ScalaError::Precision => "scala_precision",
            ScalaError::Range => "scala_range",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }

    fn position(&self) -> Option<usize> {
        match self {
            ScalaError::Format { pos } => Some(*pos),
            _ => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for ScalaError {
    fn samples() -> Vec<Self> {
        vec![
            ScalaError::Empty,
            ScalaError::Format { pos: 2 },
            ScalaError::Precision,
            ScalaError::Range,
        ]
    }
}

/// The scala di equivalenza (household equivalence scale, e.g. `2.46`),
/// exact in ten-thousandths.
///
/// The parameters of DPCM 159/2013 (1, 1.57, 2.04, 2.46, 2.85, +0.35 per
/// further member, and the maggiorazioni) have two decimals; four are kept
/// so that any value INPS writes fits without rounding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scala(u32);

impl Scala {
    /// The largest accepted value, 100 (far above any real scale).
    pub const MAX: Scala = Scala(1_000_000);

    /// A scale from ten-thousandths (`24_600` is 2.46); `None` for 0 or
    /// above [`Scala::MAX`].
    pub const fn from_ten_thousandths(v: u32) -> Option<Scala> {
        if v == 0 || v > Self::MAX.0 {
            None
        } else {
            Some(Scala(v))
        }
    }

    /// The value in ten-thousandths.
    pub const fn ten_thousandths(self) -> u32 {
        self.0
    }

    /// Parses `2.46`, `2,46`, `1`, with surrounding blanks.
    ///
    /// # Errors
    ///
    /// [`ScalaError::Empty`], [`ScalaError::Format`], [`ScalaError::Precision`]
    /// (non-zero digits beyond the fourth decimal), [`ScalaError::Range`].
    pub fn parse(input: &str) -> Result<Scala, ScalaError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ScalaError::Empty);
        }
        let (int_part, frac_part) = match s.find(['.', ',']) {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        if int_part.is_empty() {
            return Err(ScalaError::Format { pos: 1 });
        }
        if let Some(p) = first_non_digit(int_part) {
            return Err(ScalaError::Format { pos: p });
        }
        if let Some(p) = first_non_digit(frac_part) {
            return Err(ScalaError::Format {
                pos: int_part.len() + 1 + p,
            });
        }
        if s.len() > int_part.len() && frac_part.is_empty() {
            return Err(ScalaError::Format { pos: s.len() });
        }
        let fb = frac_part.as_bytes();
        if fb.iter().skip(4).any(|&b| b != b'0') {
            return Err(ScalaError::Precision);
        }
        let mut v: u64 = 0;
        for b in int_part.bytes() {
            v = v * 10 + u64::from(b - b'0');
            if v > 100 {
                return Err(ScalaError::Range);
            }
        }
        let mut frac: u64 = 0;
        for i in 0..4 {
            frac = frac * 10 + fb.get(i).map_or(0, |&b| u64::from(b - b'0'));
        }
        let total = v * 10_000 + frac;
        u32::try_from(total)
            .ok()
            .and_then(Scala::from_ten_thousandths)
            .ok_or(ScalaError::Range)
    }

    /// The machine form: `2.46`, `1.00`, `1.2345`.
    pub fn machine(self) -> MachineScala {
        MachineScala(self)
    }

    /// Integer part and the fraction digits to print (at least two, trailing
    /// zeros beyond the second dropped).
    fn parts(self) -> (u32, String) {
        let int = self.0 / 10_000;
        let mut frac = format!("{:04}", self.0 % 10_000);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        (int, frac)
    }
}

/// The machine form of a [`Scala`] (`2.46`), from [`Scala::machine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineScala(Scala);

impl fmt::Display for MachineScala {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = self.0.parts();
        write!(f, "{int}.{frac}")
    }
}

impl fmt::Display for Scala {
    /// Italian style: `2,46`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = self.parts();
        write!(f, "{int},{frac}")
    }
}

impl fmt::Debug for Scala {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scala({})", self.machine())
    }
}

impl FromStr for Scala {
    type Err = ScalaError;

    /// Same as [`Scala::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scala::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> i64 {
        match Euro::parse(s) {
            Ok(v) => v.cents(),
            Err(err) => panic!("{s:?} should parse: {err}"),
        }
    }

    fn d(s: &str) -> i64 {
        match Euro::parse_decimal(s) {
            Ok(v) => v.cents(),
            Err(err) => panic!("{s:?} should parse: {err}"),
        }
    }

    fn code(r: Result<Euro, EuroError>) -> &'static str {
        match r {
            Ok(v) => panic!("should not parse, got {v:?}"),
            Err(e) => e.code(),
        }
    }

    #[test]
    fn decimal_forms() {
        assert_eq!(d("12345.67"), 1_234_567);
        assert_eq!(d("12345,67"), 1_234_567);
        assert_eq!(d("12345"), 1_234_500);
        assert_eq!(d("0"), 0);
        assert_eq!(d("0.01"), 1);
        assert_eq!(d(" 17443.8 "), 1_744_380);
        assert_eq!(d("12.340"), 1_234);
        assert_eq!(d("5."), 500);
        assert_eq!(d(".5"), 50);
        assert_eq!(d("-1.5"), -150);
        assert_eq!(d("+1.5"), 150);
        assert_eq!(d("000123.40000"), 12_340);
    }

    #[test]
    fn decimal_rejects() {
        assert_eq!(code(Euro::parse_decimal("")), "euro_empty");
        assert_eq!(code(Euro::parse_decimal("   ")), "euro_empty");
        assert_eq!(code(Euro::parse_decimal("12.345")), "euro_precision");
        assert_eq!(code(Euro::parse_decimal("0.001")), "euro_precision");
        assert_eq!(code(Euro::parse_decimal("12.345,67")), "euro_format");
        assert_eq!(code(Euro::parse_decimal("1e3")), "euro_format");
        assert_eq!(code(Euro::parse_decimal("-")), "euro_format");
        assert_eq!(code(Euro::parse_decimal(".")), "euro_format");
        assert_eq!(code(Euro::parse_decimal("€ 5")), "euro_format");
        assert_eq!(code(Euro::parse_decimal("--5")), "euro_format");
        assert_eq!(code(Euro::parse_decimal("1 000")), "euro_format");
        assert_eq!(
            Euro::parse_decimal("12a"),
            Err(EuroError::Format {
                pos: 3,
                expected: "a digit"
            })
        );
        assert_eq!(
            Euro::parse_decimal("-12.3x").map_err(|e| e.position()),
            Err(Some(6))
        );
    }

    #[test]
    fn overflow() {
        assert_eq!(d("92233720368547758.07"), i64::MAX);
        assert_eq!(d("-92233720368547758.08"), i64::MIN);
        assert_eq!(
            code(Euro::parse_decimal("92233720368547758.08")),
            "euro_overflow"
        );
        assert_eq!(
            code(Euro::parse_decimal("99999999999999999999999")),
            "euro_overflow"
        );
        assert_eq!(code(Euro::parse("92.233.720.368.547.759")), "euro_overflow");
    }

    #[test]
    fn lenient_forms() {
        assert_eq!(e("12.345,67"), 1_234_567);
        assert_eq!(e("12,345.67"), 1_234_567);
        assert_eq!(e("1.234.567,89 €"), 123_456_789);
        assert_eq!(e("€1.500"), 150_000);
        assert_eq!(e("€ 1,5"), 150);
        assert_eq!(e("1.500,5"), 150_050);
        assert_eq!(e("-1.500,00"), -150_000);
        assert_eq!(e("1,234"), 123_400);
        assert_eq!(e("12345.67"), 1_234_567);
        assert_eq!(e("12345,6"), 1_234_560);
    }

    #[test]
    fn lenient_three_decimals_after_long_group_is_precision() {
        // "1234.567": the group before the separator has 4 digits, so the
        // separator is decimal and the third decimal is not zero.
        assert_eq!(code(Euro::parse("1234.567")), "euro_precision");
        assert_eq!(code(Euro::parse("0,125")), "euro_precision");
        assert_eq!(e("0,120"), 12);
    }

    #[test]
    fn lenient_rejects() {
        assert_eq!(code(Euro::parse("€")), "euro_empty");
        assert_eq!(code(Euro::parse("1.23.456")), "euro_format");
        assert_eq!(code(Euro::parse("12.34.567,00")), "euro_format");
        assert_eq!(code(Euro::parse("1.234,5,6")), "euro_format");
        assert_eq!(code(Euro::parse("1,234.5.6")), "euro_format");
        assert_eq!(code(Euro::parse("12,")), "euro_format");
        assert_eq!(code(Euro::parse("abc")), "euro_format");
        assert_eq!(code(Euro::parse("1.2345,00")), "euro_format");
        assert_eq!(code(Euro::parse("-")), "euro_format");
        assert_eq!(code(Euro::parse("5 € 5")), "euro_format");
    }

    #[test]
    fn display_italian_and_machine() {
        let cases = [
            (0, "0,00 €", "0.00"),
            (1, "0,01 €", "0.01"),
            (-50, "-0,50 €", "-0.50"),
            (99_999, "999,99 €", "999.99"),
            (100_000, "1.000,00 €", "1000.00"),
            (1_234_567, "12.345,67 €", "12345.67"),
            (123_456_789, "1.234.567,89 €", "1234567.89"),
            (
                i64::MAX,
                "92.233.720.368.547.758,07 €",
                "92233720368547758.07",
            ),
            (
                i64::MIN,
                "-92.233.720.368.547.758,08 €",
                "-92233720368547758.08",
            ),
        ];
        for (cents, it, machine) in cases {
            let v = Euro::from_cents(cents);
            assert_eq!(v.to_string(), it);
            assert_eq!(v.machine().to_string(), machine);
            assert_eq!(Euro::parse(it), Ok(v), "{it}");
            assert_eq!(Euro::parse_decimal(machine), Ok(v), "{machine}");
        }
        assert_eq!(format!("{:?}", Euro::from_cents(-5)), "Euro(-0.05)");
    }

    #[test]
    fn arithmetic_is_checked() {
        let a = Euro::from_cents(250);
        assert_eq!(a.checked_add(a), Some(Euro::from_cents(500)));
        assert_eq!(
            a.checked_sub(Euro::from_cents(300)),
            Some(Euro::from_cents(-50))
        );
        assert_eq!(a.checked_mul(3), Some(Euro::from_cents(750)));
        assert_eq!(Euro::MAX.checked_add(Euro::from_cents(1)), None);
        assert_eq!(Euro::MIN.checked_sub(Euro::from_cents(1)), None);
        assert_eq!(Euro::MAX.checked_mul(2), None);
        assert_eq!(Euro::MIN.checked_neg(), None);
        assert_eq!(a.checked_neg(), Some(Euro::from_cents(-250)));
        assert_eq!(Euro::from_euros(25_000), Some(Euro::from_cents(2_500_000)));
        assert_eq!(Euro::from_euros(i64::MAX), None);
        assert!(Euro::from_cents(-1).is_negative());
        assert!(!Euro::ZERO.is_negative());
    }

    #[test]
    fn error_messages_do_not_repeat_the_input() {
        for s in ["17443.8x", "12.345", "99999999999999999999999", "1.23.456"] {
            let e1 = Euro::parse_decimal(s).err().map(|e| e.to_string());
            let e2 = Euro::parse(s).err().map(|e| e.to_string());
            for msg in [e1, e2].into_iter().flatten() {
                assert!(!msg.contains(s), "{msg}");
                assert!(!msg.contains("17443"), "{msg}");
            }
        }
    }

    #[test]
    fn codes_are_listed() {
        for s in ["", "x", "0.001", "99999999999999999999999"] {
            if let Err(e) = Euro::parse(s) {
                assert!(EuroError::CODES.contains(&e.code()));
            }
        }
        for s in ["", "x", "1.00001", "0", "101"] {
            if let Err(e) = Scala::parse(s) {
                assert!(ScalaError::CODES.contains(&e.code()));
            }
        }
    }

    #[test]
    fn scala() {
        let s = |x: &str| Scala::parse(x).map(|v| v.ten_thousandths());
        assert_eq!(s("2.46"), Ok(24_600));
        assert_eq!(s("2,46"), Ok(24_600));
        assert_eq!(s(" 1 "), Ok(10_000));
        assert_eq!(s("1.5700"), Ok(15_700));
        assert_eq!(s("1.23456000"), Err(ScalaError::Precision));
        assert_eq!(s("1.2345"), Ok(12_345));
        assert_eq!(s("0"), Err(ScalaError::Range));
        assert_eq!(s("0.0000"), Err(ScalaError::Range));
        assert_eq!(s("100"), Ok(1_000_000));
        assert_eq!(s("100.0001"), Err(ScalaError::Range));
        assert_eq!(s("101"), Err(ScalaError::Range));
        assert_eq!(s("99999999999999999999"), Err(ScalaError::Range));
        assert_eq!(s(""), Err(ScalaError::Empty));
        assert_eq!(s(".5"), Err(ScalaError::Format { pos: 1 }));
        assert_eq!(s("2."), Err(ScalaError::Format { pos: 2 }));
        assert_eq!(s("2.4x"), Err(ScalaError::Format { pos: 4 }));
        assert_eq!(s("-2"), Err(ScalaError::Format { pos: 1 }));
        let v = Scala::parse("2.46").unwrap();
        assert_eq!(v.to_string(), "2,46");
        assert_eq!(v.machine().to_string(), "2.46");
        assert_eq!(format!("{v:?}"), "Scala(2.46)");
        let one = Scala::parse("1").unwrap();
        assert_eq!(
            (one.to_string(), one.machine().to_string()),
            ("1,00".into(), "1.00".into())
        );
        let fine = Scala::parse("1,2345").unwrap();
        assert_eq!(fine.machine().to_string(), "1.2345");
        assert_eq!(fine.to_string(), "1,2345");
        assert_eq!(
            "2.85".parse::<Scala>().map(|v| v.ten_thousandths()),
            Ok(28_500)
        );
        assert_eq!(Scala::from_ten_thousandths(0), None);
        assert_eq!(Scala::from_ten_thousandths(1_000_001), None);
    }
}
