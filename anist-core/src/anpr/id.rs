//! The ID ANPR (*Identificativo Unico Nazionale*), the 9-character identifier
//! that ANPR assigns to every resident.
//!
//! The official rules (DM Interno 3 marzo 2023) say the identifier is
//! alphanumeric, 9 characters long, and that the last character is a check
//! character computed "with the Luhn algorithm"; the technical specification
//! that would say *which* Luhn variant has not been published. So:
//!
//! - [`IdAnpr::parse`] validates the structure only: exactly 9 characters out of
//!   `A-Z` and `0-9` (the PDND pattern `^[A-Z0-9]{9}$`), after normalisation;
//! - [`IdAnpr::probable_check_ok`] runs the *unofficial* Luhn mod 36 that
//!   matches the public samples. It is advisory: a `false` is a reason to
//!   double-check the value, never a reason to reject it.
//!
//! An ID ANPR identifies a person, so [`Debug`] masks it; [`Display`](fmt::Display)
//! prints it in full because writing output files is the point.
//!
//! ```
//! use anist_core::anpr::IdAnpr;
//!
//! let id = IdAnpr::parse(" af41450as ")?;
//! assert_eq!(id.as_str(), "AF41450AS");
//! assert_eq!(format!("{id:?}"), "IdAnpr(AF*****AS)");
//! assert!(id.probable_check_ok());
//! # Ok::<(), anist_core::anpr::AnprError>(())
//! ```

use std::fmt;

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// Number of characters of an ID ANPR, check character included.
pub const ID_ANPR_LEN: usize = 9;

/// The alphabet of the (probable) Luhn mod 36: `0-9` are 0..9, `A-Z` are 10..35.
const LUHN36_ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Why a string is not a well-formed ID ANPR.
///
/// Codes: `anpr_empty`, `anpr_length`, `anpr_char`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnprError {
    /// The input is empty or only blanks.
    #[error("the ID ANPR is empty: enter the 9 letters and digits of the identifier")]
    Empty,
    /// After removing blanks the input does not have 9 characters.
    #[error(
        "an ID ANPR has 9 letters or digits, found {0}: check that it was copied completely \
         and without extra characters"
    )]
    Length(usize),
    /// A character other than a letter `A-Z` or a digit.
    #[error(
        "character {ch:?} at position {pos} is not allowed: an ID ANPR contains only \
         letters A-Z and digits 0-9"
    )]
    Char {
        /// 1-based position in the normalised input (blanks removed).
        pos: usize,
        /// The offending character.
        ch: char,
    },
}

impl AnprError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &["anpr_empty", "anpr_length", "anpr_char"];
}

impl ErrorCode for AnprError {
    fn code(&self) -> &'static str {
        match self {
            AnprError::Empty => "anpr_empty",
            AnprError::Length(_) => "anpr_length",
            AnprError::Char { .. } => "anpr_char",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidIdAnpr
    }

    fn position(&self) -> Option<usize> {
        match self {
            AnprError::Char { pos, .. } => Some(*pos),
            AnprError::Empty | AnprError::Length(_) => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for AnprError {
    fn samples() -> Vec<Self> {
        vec![
            AnprError::Empty,
            AnprError::Length(8),
            AnprError::Char { pos: 3, ch: '-' },
        ]
    }
}

/// A structurally valid ID ANPR: 9 upper-case ASCII letters or digits.
///
/// Construct it with [`IdAnpr::parse`] (or [`FromStr`](std::str::FromStr) / [`TryFrom<&str>`]).
/// The check character is *not* enforced; see [`IdAnpr::probable_check_ok`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdAnpr([u8; ID_ANPR_LEN]);

impl IdAnpr {
    /// Parses an ID ANPR.
    ///
    /// Normalisation: surrounding blanks are trimmed, blanks inside are
    /// dropped (`"AF 414 50AS"` is accepted), letters are upper-cased. The
    /// result must be exactly 9 characters out of `A-Z0-9`.
    ///
    /// # Errors
    ///
    /// [`AnprError::Empty`] for an empty or blank input,
    /// [`AnprError::Length`] when there are not 9 non-blank characters,
    /// [`AnprError::Char`] for the first character that is not a letter or
    /// a digit (position counted without blanks).
    ///
    /// ```
    /// use anist_core::anpr::{AnprError, IdAnpr};
    /// use anist_core::ErrorCode;
    ///
    /// assert_eq!(IdAnpr::parse("FL4 6721 JJ")?.to_string(), "FL46721JJ");
    /// assert_eq!(IdAnpr::parse("FL46721J").unwrap_err().code(), "anpr_length");
    /// let err = IdAnpr::parse("FL46-21JJ").unwrap_err();
    /// assert_eq!((err.code(), err.position()), ("anpr_char", Some(5)));
    /// # Ok::<(), AnprError>(())
    /// ```
    pub fn parse(input: &str) -> Result<Self, AnprError> {
        let chars = input.chars().filter(|c| !c.is_whitespace());
        let count = chars.clone().count();
        if count == 0 {
            return Err(AnprError::Empty);
        }
        if count != ID_ANPR_LEN {
            return Err(AnprError::Length(count));
        }
        let mut out = [0u8; ID_ANPR_LEN];
        for (i, (slot, ch)) in out.iter_mut().zip(chars).enumerate() {
            let up = ch.to_ascii_uppercase();
            if !up.is_ascii_alphanumeric() {
                return Err(AnprError::Char { pos: i + 1, ch });
            }
            // `up` is ASCII here, so the cast is lossless.
            *slot = up as u8;
        }
        Ok(IdAnpr(out))
    }

    /// The identifier as a string slice (9 upper-case ASCII characters).
    pub fn as_str(&self) -> &str {
        crate::text::ascii_str(&self.0)
    }

    /// The identifier as bytes (9 upper-case ASCII letters or digits).
    pub fn as_bytes(&self) -> &[u8; ID_ANPR_LEN] {
        &self.0
    }

    /// Whether the last character matches the *probable* check character.
    ///
    /// ADVISORY ONLY. The official algorithm is unpublished; this is the
    /// Luhn mod 36 described in [`luhn36_check_char`], which matches the
    /// public samples `FL46721JJ` and `AF41450AS`. A `false` must never be
    /// used to reject an ID ANPR — at most to ask the user to double-check it.
    ///
    /// ```
    /// use anist_core::anpr::IdAnpr;
    ///
    /// assert!(IdAnpr::parse("FL46721JJ")?.probable_check_ok());
    /// // The ANPR XML example placeholder does not pass, and is still a valid ID ANPR.
    /// assert!(!IdAnpr::parse("AA12345AA")?.probable_check_ok());
    /// # Ok::<(), anist_core::anpr::AnprError>(())
    /// ```
    pub fn probable_check_ok(&self) -> bool {
        let [p0, p1, p2, p3, p4, p5, p6, p7, last] = self.0;
        luhn36_check_char(&[p0, p1, p2, p3, p4, p5, p6, p7]) == Some(last)
    }
}

/// Computes the *probable* (unofficial) check character of an ID ANPR from
/// its first 8 characters, as an upper-case ASCII byte.
///
/// Luhn mod 36 over the alphabet `0-9A-Z` (values 0..35): starting from the
/// rightmost payload character and moving left, multiply the values
/// alternately by 2 and 1 (the rightmost by 2), reduce each product `q` to
/// `q / 36 + q % 36`, add them up; the check value is `(36 - sum % 36) % 36`.
/// Luhn mod N detects every single-character substitution.
///
/// Returns `None` when a payload byte is not an upper-case ASCII letter or a
/// digit. Meant for generating test identifiers (e.g. the sandbox) and for
/// [`IdAnpr::probable_check_ok`]; see there for why it is only advisory.
///
/// ```
/// use anist_core::anpr::luhn36_check_char;
///
/// assert_eq!(luhn36_check_char(b"AF41450A"), Some(b'S'));
/// assert_eq!(luhn36_check_char(b"af41450a"), None);
/// ```
pub fn luhn36_check_char(payload: &[u8; 8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, &b) in payload.iter().rev().enumerate() {
        let value = luhn36_value(b)?;
        let q = if i % 2 == 0 { value * 2 } else { value };
        sum += q / 36 + q % 36;
    }
    let check = (36 - sum % 36) % 36;
    LUHN36_ALPHABET.get(check as usize).copied()
}

/// Value of an upper-case alphanumeric ASCII byte in the Luhn mod 36 alphabet.
fn luhn36_value(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
        _ => None,
    }
}

crate::text::impl_display_as_str!(IdAnpr);
crate::text::impl_parse_traits!(IdAnpr, AnprError);

impl fmt::Debug for IdAnpr {
    /// Prints a masked identifier, e.g. `IdAnpr(AF*****AS)`: it identifies a
    /// person and must not end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_str();
        let head = s.get(..2).unwrap_or_default();
        let tail = s.get(ID_ANPR_LEN - 2..).unwrap_or_default();
        write!(f, "IdAnpr({head}*****{tail})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> IdAnpr {
        match IdAnpr::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn err(s: &str) -> AnprError {
        match IdAnpr::parse(s) {
            Ok(v) => panic!("{s:?} should not parse, got {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_and_normalises() {
        assert_eq!(id("FL46721JJ").as_str(), "FL46721JJ");
        assert_eq!(id("  fl46721jj\t").as_str(), "FL46721JJ");
        assert_eq!(id("FL 467 21 JJ").as_str(), "FL46721JJ");
        assert_eq!(id("000000000").as_str(), "000000000");
        assert_eq!(id("ZZZZZZZZZ").as_bytes(), b"ZZZZZZZZZ");
    }

    #[test]
    fn errors_have_codes_and_positions() {
        assert_eq!(err(""), AnprError::Empty);
        assert_eq!(err("  \t "), AnprError::Empty);
        assert_eq!(err("FL46721J"), AnprError::Length(8));
        assert_eq!(err("FL46721JJX"), AnprError::Length(10));
        assert_eq!(err("FL4672_JJ"), AnprError::Char { pos: 7, ch: '_' });
        assert_eq!(err("F L4672_JJ"), AnprError::Char { pos: 7, ch: '_' });
        assert_eq!(err("ÀL46721JJ"), AnprError::Char { pos: 1, ch: 'À' });
        assert_eq!(err("").code(), "anpr_empty");
        assert_eq!(err("A").code(), "anpr_length");
        assert_eq!(err("A").position(), None);
        let e = err("FL46721J-");
        assert_eq!((e.code(), e.position()), ("anpr_char", Some(9)));
        for e in [err(""), err("A"), err("FL46721J-")] {
            assert!(AnprError::CODES.contains(&e.code()));
        }
    }

    #[test]
    fn error_messages_do_not_echo_the_input() {
        let e = err("FL46721JJ1");
        assert!(!e.to_string().contains("FL46721JJ"));
        let e = err("FL46721J-");
        assert!(!e.to_string().contains("FL46721J"));
    }

    #[test]
    fn display_full_debug_masked() {
        let v = id("AF41450AS");
        assert_eq!(v.to_string(), "AF41450AS");
        assert_eq!(format!("{v:?}"), "IdAnpr(AF*****AS)");
        assert!(!format!("{v:?}").contains("41450"));
    }

    #[test]
    fn conversions() {
        assert_eq!("fl46721jj".parse::<IdAnpr>(), Ok(id("FL46721JJ")));
        assert_eq!(IdAnpr::try_from("FL46721JJ"), Ok(id("FL46721JJ")));
        assert_eq!(IdAnpr::try_from("x"), Err(AnprError::Length(1)));
    }

    #[test]
    fn probable_check_vectors() {
        assert!(id("FL46721JJ").probable_check_ok());
        assert!(id("AF41450AS").probable_check_ok());
        assert!(!id("AA12345AA").probable_check_ok());
        assert!(!id("FL46721JK").probable_check_ok());
        assert!(!id("AF41450AT").probable_check_ok());
    }

    #[test]
    fn luhn36_vectors() {
        assert_eq!(luhn36_check_char(b"FL46721J"), Some(b'J'));
        assert_eq!(luhn36_check_char(b"AF41450A"), Some(b'S'));
        assert_eq!(luhn36_check_char(b"AA12345A"), Some(b'1'));
        assert_eq!(luhn36_check_char(b"00000000"), Some(b'0'));
        // Rightmost payload char doubled: 'Z' = 35 -> 70 -> 1 + 34 = 35 -> check 1.
        assert_eq!(luhn36_check_char(b"0000000Z"), Some(b'1'));
        // Second from the right is not doubled: 35 -> check 1.
        assert_eq!(luhn36_check_char(b"000000Z0"), Some(b'1'));
        // 'I' = 18 doubled -> 36 -> 1 + 0 = 1 -> check Z (35).
        assert_eq!(luhn36_check_char(b"0000000I"), Some(b'Z'));
        assert_eq!(luhn36_check_char(b"0000000a"), None);
        assert_eq!(luhn36_check_char(b"000-0000"), None);
    }
}
