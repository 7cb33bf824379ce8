//! The protocol number INPS gives a DSU (Dichiarazione Sostitutiva Unica, the
//! declaration behind an ISEE): `INPS-ISEE-YYYY-NNNNNNNNL-VV`.
//!
//! - `YYYY`: year of presentation;
//! - `NNNNNNNN`: 8-digit progressive;
//! - `L`: a letter, probably a check letter, but its algorithm is unknown (simple
//!   mod-23/26 rules do not fit), so it is **not** validated;
//! - `VV`: version, `00` for the original DSU, incremented by each
//!   rettifica/integrazione.
//!
//! ```
//! use anist_core::dsu::DsuProtocol;
//!
//! let p = DsuProtocol::parse(" inps-isee-2015-01480722d-00 ")?;
//! assert_eq!(p.to_string(), "INPS-ISEE-2015-01480722D-00");
//! assert_eq!((p.year(), p.progressive(), p.letter(), p.version()), (2015, 1_480_722, 'D', 0));
//! assert_eq!(format!("{p:?}"), "DsuProtocol(INPS-ISEE-2015-01****22D-00)");
//! # Ok::<(), anist_core::dsu::DsuError>(())
//! ```

use std::fmt;

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// Number of characters of a DSU protocol.
pub const DSU_LEN: usize = 27;

/// What each position of `INPS-ISEE-YYYY-NNNNNNNNL-VV` holds.
#[derive(Clone, Copy)]
enum Slot {
    Exact(u8),
    Digit,
    Letter,
}

const TEMPLATE: [Slot; DSU_LEN] = {
    use Slot::{Digit as D, Exact as E, Letter as L};
    [
        E(b'I'),
        E(b'N'),
        E(b'P'),
        E(b'S'),
        E(b'-'),
        E(b'I'),
        E(b'S'),
        E(b'E'),
        E(b'E'),
        E(b'-'),
        D,
        D,
        D,
        D,
        E(b'-'),
        D,
        D,
        D,
        D,
        D,
        D,
        D,
        D,
        L,
        E(b'-'),
        D,
        D,
    ]
};

/// Why a string is not a well-formed DSU protocol number.
///
/// Codes: `dsu_empty`, `dsu_format`, `dsu_year`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsuError {
    /// The input is empty or only blanks.
    #[error(
        "the DSU protocol is empty: enter it as printed on the attestazione, \
         e.g. INPS-ISEE-2024-01234567A-00"
    )]
    Empty,
    /// A character that does not fit `INPS-ISEE-YYYY-NNNNNNNNL-VV`, or an
    /// extra character after position 27. Code `dsu_format`.
    #[error(
        "character {ch:?} at position {pos} should be {expected}: a DSU protocol looks like \
         INPS-ISEE-2024-01234567A-00"
    )]
    Format {
        /// 1-based position in the normalised (trimmed) input.
        pos: usize,
        /// The offending character.
        ch: char,
        /// What the position should hold.
        expected: &'static str,
    },
    /// The input is a correct beginning of a protocol but stops early. Code
    /// `dsu_format` (no position: the missing character is after the end).
    #[error(
        "the DSU protocol is incomplete: {found} characters instead of 27, \
         it should look like INPS-ISEE-2024-01234567A-00"
    )]
    Truncated {
        /// Number of characters found.
        found: usize,
    },
    /// The year is outside [`DsuProtocol::MIN_YEAR`]..=[`DsuProtocol::MAX_YEAR`].
    #[error(
        "year {year} is not possible in a DSU protocol: the ISEE reform DSUs start in 2015; \
         check the four digits after INPS-ISEE-"
    )]
    Year {
        /// The year found.
        year: u16,
    },
}

impl DsuError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &["dsu_empty", "dsu_format", "dsu_year"];
}

impl ErrorCode for DsuError {
    fn code(&self) -> &'static str {
        match self {
            DsuError::Empty => "dsu_empty",
            DsuError::Format { .. } | DsuError::Truncated { .. } => "dsu_format",
            DsuError::Year { .. } => "dsu_year",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }

    fn position(&self) -> Option<usize> {
        match self {
            DsuError::Format { pos, .. } => Some(*pos),
            // The year spans characters 11-14, not one character: no position
            // (the message says where to look).
            DsuError::Empty | DsuError::Truncated { .. } | DsuError::Year { .. } => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for DsuError {
    fn samples() -> Vec<Self> {
        vec![
            DsuError::Empty,
            DsuError::Format {
                pos: 1,
                ch: 'X',
                expected: "I",
            },
            DsuError::Truncated { found: 20 },
            DsuError::Year { year: 2014 },
        ]
    }
}

/// A well-formed DSU protocol number, `INPS-ISEE-YYYY-NNNNNNNNL-VV`.
///
/// Stored as its parts (`Copy`, 8 bytes). Ordered by year, progressive,
/// letter, version.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DsuProtocol {
    year: u16,
    progressive: u32,
    letter: u8,
    version: u8,
}

impl DsuProtocol {
    /// Earliest accepted year: DSUs of the reformed ISEE (DPCM 159/2013)
    /// exist since 1 January 2015.
    pub const MIN_YEAR: u16 = 2015;

    /// Latest accepted year. A fixed, generous bound: core logic never reads
    /// the clock, so "not in the future" is for the caller to check against
    /// its own `today` (compare with [`DsuProtocol::year`]).
    pub const MAX_YEAR: u16 = 2099;

    /// Parses a DSU protocol number.
    ///
    /// Normalisation: surrounding blanks are trimmed, letters upper-cased.
    /// The result must match `^INPS-ISEE-\d{4}-\d{8}[A-Z]-\d{2}$` with a year in
    /// [`Self::MIN_YEAR`]`..=`[`Self::MAX_YEAR`]. The letter after the
    /// progressive is not checked (its algorithm is unknown).
    ///
    /// # Errors
    ///
    /// [`DsuError::Empty`] for an empty or blank input; [`DsuError::Format`]
    /// at the first character that does not fit (or the first extra character
    /// after position 27); [`DsuError::Truncated`] when the input is a correct
    /// but incomplete protocol; [`DsuError::Year`] for a year out of range.
    ///
    /// ```
    /// use anist_core::dsu::DsuProtocol;
    /// use anist_core::ErrorCode;
    ///
    /// let err = DsuProtocol::parse("INPS-ISEE-2020-0059738W-00").unwrap_err();
    /// assert_eq!((err.code(), err.position()), ("dsu_format", Some(23)));
    /// let err = DsuProtocol::parse("INPS-ISEE-2014-01480722D-00").unwrap_err();
    /// assert_eq!(err.code(), "dsu_year");
    /// ```
    pub fn parse(input: &str) -> Result<Self, DsuError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(DsuError::Empty);
        }
        let mut buf = [0u8; DSU_LEN];
        let mut count = 0;
        for (i, ch) in trimmed.chars().enumerate() {
            let up = ch.to_ascii_uppercase();
            let Some((slot, out)) = TEMPLATE.get(i).zip(buf.get_mut(i)) else {
                return Err(DsuError::Format {
                    pos: i + 1,
                    ch,
                    expected: "the end of the protocol (it has 27 characters)",
                });
            };
            let (ok, expected) = match *slot {
                Slot::Exact(b) => (up == char::from(b), exact_description(b)),
                Slot::Digit => (up.is_ascii_digit(), "a digit"),
                Slot::Letter => (up.is_ascii_uppercase(), "a letter A-Z"),
            };
            if !ok {
                return Err(DsuError::Format {
                    pos: i + 1,
                    ch,
                    expected,
                });
            }
            // `up` matched an ASCII class, so the cast is lossless.
            *out = up as u8;
            count = i + 1;
        }
        if count < DSU_LEN {
            return Err(DsuError::Truncated { found: count });
        }
        let year = digits(&buf[10..14]);
        let year = u16::try_from(year).unwrap_or(u16::MAX);
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(DsuError::Year { year });
        }
        let version = u8::try_from(digits(&buf[25..27])).unwrap_or(u8::MAX);
        Ok(DsuProtocol {
            year,
            progressive: digits(&buf[15..23]),
            letter: buf[23],
            version,
        })
    }

    /// Year of presentation of the DSU.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The 8-digit progressive, as a number (`01480722` is `1_480_722`).
    pub fn progressive(&self) -> u32 {
        self.progressive
    }

    /// The letter after the progressive (not validated: its algorithm is unknown).
    pub fn letter(&self) -> char {
        char::from(self.letter)
    }

    /// The version: 0 for the original DSU, incremented by each rettifica.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// The same protocol with another version, e.g. to refer to a rettifica.
    ///
    /// Returns `None` for a version above 99 (the version has two digits).
    ///
    /// ```
    /// use anist_core::dsu::DsuProtocol;
    ///
    /// let p = DsuProtocol::parse("INPS-ISEE-2016-05005492G-00")?;
    /// let r = p.with_version(1).ok_or("bad version")?;
    /// assert_eq!(r.to_string(), "INPS-ISEE-2016-05005492G-01");
    /// assert_eq!(p.with_version(100), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_version(self, version: u8) -> Option<Self> {
        (version <= 99).then_some(DsuProtocol { version, ..self })
    }
}

/// Value of a run of ASCII digits (at most 8, so it fits a `u32`).
fn digits(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0u32, |acc, &b| acc * 10 + u32::from(b.wrapping_sub(b'0')))
}

/// Description of a literal character of the template, for error messages.
fn exact_description(b: u8) -> &'static str {
    match b {
        b'-' => "'-'",
        b'I' => "'I' (of INPS-ISEE-)",
        b'N' => "'N' (of INPS-ISEE-)",
        b'P' => "'P' (of INPS-ISEE-)",
        b'S' => "'S' (of INPS-ISEE-)",
        b'E' => "'E' (of INPS-ISEE-)",
        _ => "the next character of INPS-ISEE-",
    }
}

impl fmt::Display for DsuProtocol {
    /// The canonical form, e.g. `INPS-ISEE-2015-01480722D-00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "INPS-ISEE-{:04}-{:08}{}-{:02}",
            self.year,
            self.progressive,
            char::from(self.letter),
            self.version
        )
    }
}

impl fmt::Debug for DsuProtocol {
    /// The protocol with the middle 4 digits of the progressive masked, e.g.
    /// `DsuProtocol(INPS-ISEE-2015-01****22D-00)`: with the year it points at
    /// one household's declaration, so logs get only a recognisable hint.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DsuProtocol(INPS-ISEE-{:04}-{:02}****{:02}{}-{:02})",
            self.year,
            self.progressive / 1_000_000,
            self.progressive % 100,
            char::from(self.letter),
            self.version
        )
    }
}

crate::text::impl_parse_traits!(DsuProtocol, DsuError);

#[cfg(test)]
mod tests {
    use super::*;

    fn dsu(s: &str) -> DsuProtocol {
        match DsuProtocol::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn err(s: &str) -> DsuError {
        match DsuProtocol::parse(s) {
            Ok(v) => panic!("{s:?} should not parse, got {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn real_examples() {
        for s in [
            "INPS-ISEE-2015-01480722D-00",
            "INPS-ISEE-2016-05005492G-00",
            "INPS-ISEE-2020-00597381W-00",
        ] {
            assert_eq!(dsu(s).to_string(), s);
        }
        let p = dsu("INPS-ISEE-2020-00597381W-00");
        assert_eq!(p.year(), 2020);
        assert_eq!(p.progressive(), 597_381);
        assert_eq!(p.letter(), 'W');
        assert_eq!(p.version(), 0);
    }

    #[test]
    fn normalises() {
        let p = dsu("  inps-isee-2016-05005492g-07\t");
        assert_eq!(p.to_string(), "INPS-ISEE-2016-05005492G-07");
        assert_eq!(p.version(), 7);
        assert_eq!("INPS-ISEE-2016-05005492G-07".parse::<DsuProtocol>(), Ok(p));
        assert_eq!(DsuProtocol::try_from("INPS-ISEE-2016-05005492G-07"), Ok(p));
    }

    #[test]
    fn extremes() {
        let p = dsu("INPS-ISEE-2099-99999999Z-99");
        assert_eq!(
            (p.year(), p.progressive(), p.version()),
            (2099, 99_999_999, 99)
        );
        let p = dsu("INPS-ISEE-2015-00000000A-00");
        assert_eq!(p.to_string(), "INPS-ISEE-2015-00000000A-00");
    }

    #[test]
    fn format_errors_point_at_the_first_wrong_char() {
        assert_eq!(err(""), DsuError::Empty);
        assert_eq!(err("   "), DsuError::Empty);
        let e = err("INPS_ISEE-2015-01480722D-00");
        assert_eq!((e.code(), e.position()), ("dsu_format", Some(5)));
        let e = err("INPS-ISEE-2O15-01480722D-00");
        assert_eq!(e.position(), Some(12));
        let e = err("INPS-ISEE-2015-014807221-00");
        assert_eq!(e.position(), Some(24));
        assert!(e.to_string().contains("a letter"));
        let e = err("INPS-ISEE-2015-01480722D-0X");
        assert_eq!(e.position(), Some(27));
        let e = err("INPS-ISEE-2015-01480722D-000");
        assert_eq!(
            e,
            DsuError::Format {
                pos: 28,
                ch: '0',
                expected: "the end of the protocol (it has 27 characters)"
            }
        );
        let e = err("INPS-ISEE-2015-01480722D-0");
        assert_eq!(e, DsuError::Truncated { found: 26 });
        assert_eq!((e.code(), e.position()), ("dsu_format", None));
        assert_eq!(err("INPS").code(), "dsu_format");
        let e = err("ÌNPS-ISEE-2015-01480722D-00");
        assert_eq!(e.position(), Some(1));
        let e = err("INPS ISEE 2015 01480722D 00");
        assert_eq!(e.position(), Some(5));
    }

    #[test]
    fn year_range() {
        let e = err("INPS-ISEE-2014-01480722D-00");
        assert_eq!(e, DsuError::Year { year: 2014 });
        assert_eq!((e.code(), e.position()), ("dsu_year", None));
        assert_eq!(
            err("INPS-ISEE-0000-01480722D-00"),
            DsuError::Year { year: 0 }
        );
        assert_eq!(
            err("INPS-ISEE-2100-01480722D-00"),
            DsuError::Year { year: 2100 }
        );
        assert_eq!(
            err("INPS-ISEE-9999-01480722D-00"),
            DsuError::Year { year: 9999 }
        );
    }

    #[test]
    fn codes_are_documented() {
        for e in [err(""), err("X"), err("INPS-ISEE-2014-01480722D-00")] {
            assert!(DsuError::CODES.contains(&e.code()));
        }
    }

    #[test]
    fn with_version() {
        let p = dsu("INPS-ISEE-2015-01480722D-00");
        assert_eq!(p.with_version(3).map(|v| v.version()), Some(3));
        assert_eq!(
            p.with_version(99).map(|v| v.to_string()),
            Some("INPS-ISEE-2015-01480722D-99".to_string())
        );
        assert_eq!(p.with_version(100), None);
        assert_eq!(p.with_version(255), None);
    }

    #[test]
    fn debug_masks_the_progressive() {
        let p = dsu("INPS-ISEE-2015-01480722D-00");
        let d = format!("{p:?}");
        assert_eq!(d, "DsuProtocol(INPS-ISEE-2015-01****22D-00)");
        assert!(!d.contains("4807"));
        let p = dsu("INPS-ISEE-2020-00597381W-03");
        assert_eq!(format!("{p:?}"), "DsuProtocol(INPS-ISEE-2020-00****81W-03)");
    }

    #[test]
    fn ordering() {
        let a = dsu("INPS-ISEE-2015-01480722D-00");
        let b = dsu("INPS-ISEE-2015-01480722D-01");
        let c = dsu("INPS-ISEE-2016-00000001A-00");
        assert!(a < b && b < c);
    }
}
