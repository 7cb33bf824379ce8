//! Identity-document numbers, as used to look a person up in ANPR
//! (rivestizione, accertamenti by document).
//!
//! None of these numbers carries a check digit (the MRZ does, the printed
//! number does not), so validation is about *shape* only:
//!
//! | kind | shape | example |
//! |---|---|---|
//! | [`DocumentKind::Cie3`] | `C` + letter + 5 digits + 2 letters (strict) | `CA00000AA` |
//! | [`DocumentKind::Cie2`] | 7 digits + 2 letters | `1234567AA` |
//! | [`DocumentKind::CartaIdentitaCartacea`] | 2 letters + 7 digits (`AA 1234567` accepted) | `AA1234567` |
//! | [`DocumentKind::Passaporto`] | 2 letters + 7 digits | `YA1234567` |
//! | [`DocumentKind::PermessoSoggiorno`] | 1–20 of `0-9 A-Z - . / space` (ANPR XSD) | `I12345678` |
//!
//! A document number identifies a person, so [`Debug`] masks it.
//!
//! ```
//! use anist_core::documents::{DocumentKind, DocumentNumber};
//!
//! let n = DocumentNumber::parse(DocumentKind::CartaIdentitaCartacea, "aa 1234567")?;
//! assert_eq!(n.as_str(), "AA1234567");
//! assert_eq!(format!("{n:?}"), "DocumentNumber(CartaIdentitaCartacea, AA*****67)");
//!
//! let kinds = DocumentNumber::classify("YA1234567");
//! assert!(kinds.contains(DocumentKind::Passaporto));
//! assert!(kinds.contains(DocumentKind::CartaIdentitaCartacea));
//! assert!(!kinds.contains(DocumentKind::Cie3));
//! # Ok::<(), anist_core::documents::DocError>(())
//! ```

use std::fmt;

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// Maximum length of a stored document number (the permesso di soggiorno
/// limit of the ANPR XSD).
pub const DOCUMENT_MAX_LEN: usize = 20;

/// The kinds of identity document ANPR lookups accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DocumentKind {
    /// Carta d'identità elettronica 3.0 (since 2016), "numero unico nazionale".
    Cie3,
    /// Carta d'identità elettronica 2.0 (2004–2016).
    Cie2,
    /// Carta d'identità cartacea (paper card).
    CartaIdentitaCartacea,
    /// Passaporto italiano.
    Passaporto,
    /// Permesso di soggiorno.
    PermessoSoggiorno,
}

impl DocumentKind {
    /// Every kind, in declaration order (the order [`DocumentKinds::iter`] uses).
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::Cie3,
        DocumentKind::Cie2,
        DocumentKind::CartaIdentitaCartacea,
        DocumentKind::Passaporto,
        DocumentKind::PermessoSoggiorno,
    ];

    /// A stable snake-case identifier for files and bindings: `cie3`, `cie2`,
    /// `carta_identita_cartacea`, `passaporto`, `permesso_soggiorno`.
    pub fn id(self) -> &'static str {
        match self {
            DocumentKind::Cie3 => "cie3",
            DocumentKind::Cie2 => "cie2",
            DocumentKind::CartaIdentitaCartacea => "carta_identita_cartacea",
            DocumentKind::Passaporto => "passaporto",
            DocumentKind::PermessoSoggiorno => "permesso_soggiorno",
        }
    }

    /// A human description of the expected shape, used in error messages.
    pub fn shape(self) -> &'static str {
        match self {
            DocumentKind::Cie3 => "C, a letter, 5 digits and 2 letters (e.g. CA00000AA)",
            DocumentKind::Cie2 => "7 digits and 2 letters (e.g. 1234567AA)",
            DocumentKind::CartaIdentitaCartacea => "2 letters and 7 digits (e.g. AA1234567)",
            DocumentKind::Passaporto => "2 letters and 7 digits (e.g. YA1234567)",
            DocumentKind::PermessoSoggiorno => "1 to 20 letters, digits, spaces, '-', '.' or '/'",
        }
    }

    /// Bit of this kind in a [`DocumentKinds`] set.
    fn bit(self) -> u8 {
        match self {
            DocumentKind::Cie3 => 1,
            DocumentKind::Cie2 => 1 << 1,
            DocumentKind::CartaIdentitaCartacea => 1 << 2,
            DocumentKind::Passaporto => 1 << 3,
            DocumentKind::PermessoSoggiorno => 1 << 4,
        }
    }

    /// The per-position pattern of the fixed-length kinds (`None` for the
    /// permesso di soggiorno, whose length varies).
    fn pattern(self) -> Option<&'static [Class; 9]> {
        use Class::{Digit as D, Letter as L};
        const CIE3: [Class; 9] = [Class::Exact(b'C'), L, D, D, D, D, D, L, L];
        const CIE2: [Class; 9] = [D, D, D, D, D, D, D, L, L];
        const LETTERS_DIGITS: [Class; 9] = [L, L, D, D, D, D, D, D, D];
        match self {
            DocumentKind::Cie3 => Some(&CIE3),
            DocumentKind::Cie2 => Some(&CIE2),
            DocumentKind::CartaIdentitaCartacea | DocumentKind::Passaporto => Some(&LETTERS_DIGITS),
            DocumentKind::PermessoSoggiorno => None,
        }
    }
}

impl fmt::Display for DocumentKind {
    /// The Italian name, e.g. `CIE 3.0`, `passaporto`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DocumentKind::Cie3 => "CIE 3.0",
            DocumentKind::Cie2 => "CIE 2.0",
            DocumentKind::CartaIdentitaCartacea => "carta d'identità cartacea",
            DocumentKind::Passaporto => "passaporto",
            DocumentKind::PermessoSoggiorno => "permesso di soggiorno",
        })
    }
}

/// A character class in a fixed-length document pattern.
#[derive(Clone, Copy)]
enum Class {
    Letter,
    Digit,
    Exact(u8),
}

impl Class {
    fn matches(self, b: u8) -> bool {
        match self {
            Class::Letter => b.is_ascii_uppercase(),
            Class::Digit => b.is_ascii_digit(),
            Class::Exact(e) => b == e,
        }
    }
}

/// A set of [`DocumentKind`]s, as returned by [`DocumentNumber::classify`].
///
/// A small bitset: `Copy`, no allocation. Iteration follows
/// [`DocumentKind::ALL`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DocumentKinds(u8);

impl DocumentKinds {
    /// The empty set.
    pub const fn empty() -> Self {
        DocumentKinds(0)
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: DocumentKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// Adds `kind` to the set.
    pub fn insert(&mut self, kind: DocumentKind) {
        self.0 |= kind.bit();
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of kinds in the set.
    pub fn len(self) -> usize {
        self.iter().count()
    }

    /// The kinds in the set, in [`DocumentKind::ALL`] order.
    pub fn iter(self) -> DocumentKindsIter {
        DocumentKindsIter { set: self, next: 0 }
    }

    /// The raw bits (bit 0 = CIE 3.0, 1 = CIE 2.0, 2 = carta cartacea,
    /// 3 = passaporto, 4 = permesso di soggiorno), for the C binding.
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl fmt::Debug for DocumentKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl IntoIterator for DocumentKinds {
    type Item = DocumentKind;
    type IntoIter = DocumentKindsIter;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Iterator over a [`DocumentKinds`] set, in [`DocumentKind::ALL`] order.
#[derive(Debug, Clone)]
pub struct DocumentKindsIter {
    set: DocumentKinds,
    next: usize,
}

impl Iterator for DocumentKindsIter {
    type Item = DocumentKind;

    fn next(&mut self) -> Option<DocumentKind> {
        while let Some(&kind) = DocumentKind::ALL.get(self.next) {
            self.next += 1;
            if self.set.contains(kind) {
                return Some(kind);
            }
        }
        None
    }
}

impl FromIterator<DocumentKind> for DocumentKinds {
    fn from_iter<I: IntoIterator<Item = DocumentKind>>(iter: I) -> Self {
        let mut set = DocumentKinds::empty();
        for k in iter {
            set.insert(k);
        }
        set
    }
}

/// Why a string is not a well-formed number for the given document kind.
///
/// Codes: `doc_empty`, `doc_length`, `doc_format`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocError {
    /// The input is empty or only blanks.
    #[error("the {0} number is empty: enter the number printed on the document")]
    Empty(DocumentKind),
    /// The normalised input has the wrong number of characters.
    #[error(
        "a {kind} number is {}, found {found} characters: check that it was copied completely",
        kind.shape()
    )]
    Length {
        /// The kind the input was parsed as.
        kind: DocumentKind,
        /// Number of characters found (after normalisation).
        found: usize,
    },
    /// A character does not fit the shape of the kind at its position.
    #[error(
        "character {ch:?} at position {pos} does not fit a {kind} number, which is {}: \
         check the document type and the number",
        kind.shape()
    )]
    Format {
        /// The kind the input was parsed as.
        kind: DocumentKind,
        /// 1-based position in the normalised input.
        pos: usize,
        /// The offending character.
        ch: char,
    },
}

impl DocError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &["doc_empty", "doc_length", "doc_format"];
}

impl ErrorCode for DocError {
    fn code(&self) -> &'static str {
        match self {
            DocError::Empty(_) => "doc_empty",
            DocError::Length { .. } => "doc_length",
            DocError::Format { .. } => "doc_format",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }

    fn position(&self) -> Option<usize> {
        match self {
            DocError::Format { pos, .. } => Some(*pos),
            DocError::Empty(_) | DocError::Length { .. } => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for DocError {
    fn samples() -> Vec<Self> {
        vec![
            DocError::Empty(DocumentKind::Cie3),
            DocError::Length {
                kind: DocumentKind::Cie3,
                found: 8,
            },
            DocError::Format {
                kind: DocumentKind::Cie3,
                pos: 1,
                ch: '1',
            },
        ]
    }
}

/// A document number whose shape fits its [`DocumentKind`].
///
/// Stored upper-case, without surrounding blanks (and, for the paper card,
/// without inner blanks); at most [`DOCUMENT_MAX_LEN`] ASCII characters, so
/// the value is `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentNumber {
    kind: DocumentKind,
    len: u8,
    buf: [u8; DOCUMENT_MAX_LEN],
}

impl DocumentNumber {
    /// Parses the number of a document of the given kind.
    ///
    /// Normalisation: surrounding blanks are trimmed and letters are
    /// upper-cased. For [`DocumentKind::CartaIdentitaCartacea`] blanks inside
    /// are dropped too (`AA 1234567` is common); for
    /// [`DocumentKind::PermessoSoggiorno`] inner spaces are kept (the ANPR
    /// XSD allows them); for the other kinds an inner blank is a format error.
    ///
    /// # Errors
    ///
    /// [`DocError::Empty`] for an empty or blank input, [`DocError::Length`]
    /// for the wrong number of characters, [`DocError::Format`] for the first
    /// character that does not fit the shape (see [`DocumentKind::shape`]).
    ///
    /// ```
    /// use anist_core::documents::{DocumentKind, DocumentNumber};
    /// use anist_core::ErrorCode;
    ///
    /// let cie = DocumentNumber::parse(DocumentKind::Cie3, " ca00000aa ")?;
    /// assert_eq!(cie.to_string(), "CA00000AA");
    ///
    /// let err = DocumentNumber::parse(DocumentKind::Cie3, "DA00000AA").unwrap_err();
    /// assert_eq!((err.code(), err.position()), ("doc_format", Some(1)));
    /// # Ok::<(), anist_core::documents::DocError>(())
    /// ```
    pub fn parse(kind: DocumentKind, input: &str) -> Result<Self, DocError> {
        let trimmed = input.trim();
        let drop_inner = kind == DocumentKind::CartaIdentitaCartacea;
        let chars = trimmed
            .chars()
            .filter(move |c| !(drop_inner && c.is_whitespace()));
        let count = chars.clone().count();
        if count == 0 {
            return Err(DocError::Empty(kind));
        }
        let pattern = kind.pattern();
        let length_ok = match pattern {
            Some(p) => count == p.len(),
            None => count <= DOCUMENT_MAX_LEN,
        };
        if !length_ok {
            return Err(DocError::Length { kind, found: count });
        }
        let mut buf = [0u8; DOCUMENT_MAX_LEN];
        for (i, (slot, ch)) in buf.iter_mut().zip(chars).enumerate() {
            let up = ch.to_ascii_uppercase();
            let ok = up.is_ascii()
                && match pattern {
                    // `up` is ASCII, so the cast is lossless.
                    Some(p) => p.get(i).is_some_and(|class| class.matches(up as u8)),
                    None => up.is_ascii_uppercase() || up.is_ascii_digit() || "-./ ".contains(up),
                };
            if !ok {
                return Err(DocError::Format {
                    kind,
                    pos: i + 1,
                    ch,
                });
            }
            *slot = up as u8;
        }
        // `count <= DOCUMENT_MAX_LEN` (20), so it fits a u8.
        let len = u8::try_from(count).unwrap_or(u8::MAX);
        Ok(DocumentNumber { kind, len, buf })
    }

    /// The kinds whose shape `input` fits (each tried with [`Self::parse`]).
    ///
    /// Paper card and passport share a shape, so both are listed for
    /// `AA1234567`. The permesso di soggiorno shape is so loose that it is
    /// listed for almost any short alphanumeric input: treat it as the
    /// fallback when nothing more specific matches.
    ///
    /// ```
    /// use anist_core::documents::{DocumentKind, DocumentNumber};
    ///
    /// let kinds: Vec<DocumentKind> = DocumentNumber::classify("1234567AA").into_iter().collect();
    /// assert_eq!(kinds, [DocumentKind::Cie2, DocumentKind::PermessoSoggiorno]);
    /// assert!(DocumentNumber::classify("").is_empty());
    /// ```
    pub fn classify(input: &str) -> DocumentKinds {
        DocumentKind::ALL
            .into_iter()
            .filter(|&k| DocumentNumber::parse(k, input).is_ok())
            .collect()
    }

    /// The document kind.
    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The normalised number.
    pub fn as_str(&self) -> &str {
        let bytes = self.buf.get(..usize::from(self.len)).unwrap_or_default();
        // Only ASCII is ever stored, so this never fails; the fallback exists
        // only to avoid a panic path.
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl fmt::Display for DocumentNumber {
    /// Prints the full normalised number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for DocumentNumber {
    /// Prints a masked number, e.g. `DocumentNumber(Cie3, CA*****AA)`: first
    /// and last 2 characters for numbers of 8 characters or more, all masked
    /// for shorter ones.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_str();
        let n = s.len();
        write!(f, "DocumentNumber({:?}, ", self.kind)?;
        if n >= 8 {
            let head = s.get(..2).unwrap_or_default();
            let tail = s.get(n - 2..).unwrap_or_default();
            write!(f, "{head}{:*<width$}{tail})", "", width = n - 4)
        } else {
            write!(f, "{:*<n$})", "")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocumentKind as K;

    fn doc(kind: DocumentKind, s: &str) -> DocumentNumber {
        match DocumentNumber::parse(kind, s) {
            Ok(v) => v,
            Err(e) => panic!("{s:?} should parse as {kind:?}: {e}"),
        }
    }

    fn err(kind: DocumentKind, s: &str) -> DocError {
        match DocumentNumber::parse(kind, s) {
            Ok(v) => panic!("{s:?} should not parse as {kind:?}, got {v:?}"),
            Err(e) => e,
        }
    }

    fn kinds(s: &str) -> Vec<DocumentKind> {
        DocumentNumber::classify(s).into_iter().collect()
    }

    #[test]
    fn cie3() {
        assert_eq!(doc(K::Cie3, "CA00000AA").as_str(), "CA00000AA");
        assert_eq!(doc(K::Cie3, " cz12345zz ").as_str(), "CZ12345ZZ");
        assert_eq!(
            err(K::Cie3, "DA00000AA"),
            DocError::Format {
                kind: K::Cie3,
                pos: 1,
                ch: 'D'
            }
        );
        assert_eq!(
            err(K::Cie3, "C000000AA"),
            DocError::Format {
                kind: K::Cie3,
                pos: 2,
                ch: '0'
            }
        );
        assert_eq!(
            err(K::Cie3, "CA0000AAA"),
            DocError::Format {
                kind: K::Cie3,
                pos: 7,
                ch: 'A'
            }
        );
        assert_eq!(
            err(K::Cie3, "CA00000A1"),
            DocError::Format {
                kind: K::Cie3,
                pos: 9,
                ch: '1'
            }
        );
        assert_eq!(
            err(K::Cie3, "CA 00000AA"),
            DocError::Length {
                kind: K::Cie3,
                found: 10
            }
        );
        assert_eq!(
            err(K::Cie3, "CA0000 AA"),
            DocError::Format {
                kind: K::Cie3,
                pos: 7,
                ch: ' '
            }
        );
        assert_eq!(
            err(K::Cie3, "CA00000A"),
            DocError::Length {
                kind: K::Cie3,
                found: 8
            }
        );
    }

    #[test]
    fn cie2() {
        assert_eq!(doc(K::Cie2, "1234567aa").as_str(), "1234567AA");
        assert_eq!(
            err(K::Cie2, "123456AAA"),
            DocError::Format {
                kind: K::Cie2,
                pos: 7,
                ch: 'A'
            }
        );
        assert_eq!(
            err(K::Cie2, "12345678A"),
            DocError::Format {
                kind: K::Cie2,
                pos: 8,
                ch: '8'
            }
        );
    }

    #[test]
    fn paper_card_drops_inner_blanks() {
        assert_eq!(
            doc(K::CartaIdentitaCartacea, "AA 1234567").as_str(),
            "AA1234567"
        );
        assert_eq!(
            doc(K::CartaIdentitaCartacea, " aa1234567 ").as_str(),
            "AA1234567"
        );
        assert_eq!(
            err(K::CartaIdentitaCartacea, "A11234567"),
            DocError::Format {
                kind: K::CartaIdentitaCartacea,
                pos: 2,
                ch: '1'
            }
        );
        assert_eq!(
            err(K::CartaIdentitaCartacea, "AA 123456"),
            DocError::Length {
                kind: K::CartaIdentitaCartacea,
                found: 8
            }
        );
    }

    #[test]
    fn passport() {
        assert_eq!(doc(K::Passaporto, "ya1234567").as_str(), "YA1234567");
        assert_eq!(
            err(K::Passaporto, "YA 1234567"),
            DocError::Length {
                kind: K::Passaporto,
                found: 10
            }
        );
        assert_eq!(
            err(K::Passaporto, "YA123456Z"),
            DocError::Format {
                kind: K::Passaporto,
                pos: 9,
                ch: 'Z'
            }
        );
    }

    #[test]
    fn permesso() {
        assert_eq!(
            doc(K::PermessoSoggiorno, " i12345678 ").as_str(),
            "I12345678"
        );
        assert_eq!(
            doc(K::PermessoSoggiorno, "ab-12.3/4 5").as_str(),
            "AB-12.3/4 5"
        );
        assert_eq!(doc(K::PermessoSoggiorno, "1").as_str(), "1");
        assert_eq!(
            doc(K::PermessoSoggiorno, "12345678901234567890")
                .as_str()
                .len(),
            20
        );
        assert_eq!(
            err(K::PermessoSoggiorno, "123456789012345678901"),
            DocError::Length {
                kind: K::PermessoSoggiorno,
                found: 21
            }
        );
        assert_eq!(
            err(K::PermessoSoggiorno, "AB_12"),
            DocError::Format {
                kind: K::PermessoSoggiorno,
                pos: 3,
                ch: '_'
            }
        );
        assert_eq!(
            err(K::PermessoSoggiorno, "AB\t12"),
            DocError::Format {
                kind: K::PermessoSoggiorno,
                pos: 3,
                ch: '\t'
            }
        );
        assert_eq!(
            err(K::PermessoSoggiorno, "ÄB12"),
            DocError::Format {
                kind: K::PermessoSoggiorno,
                pos: 1,
                ch: 'Ä'
            }
        );
    }

    #[test]
    fn empty_and_codes() {
        for k in DocumentKind::ALL {
            assert_eq!(err(k, ""), DocError::Empty(k));
            assert_eq!(err(k, "  \n"), DocError::Empty(k));
            assert_eq!(err(k, "").code(), "doc_empty");
        }
        let e = err(K::Cie3, "CA00000A");
        assert_eq!((e.code(), e.position()), ("doc_length", None));
        let e = err(K::Cie3, "CA00000A1");
        assert_eq!((e.code(), e.position()), ("doc_format", Some(9)));
        for e in [err(K::Cie2, ""), e, err(K::Cie3, "X")] {
            assert!(DocError::CODES.contains(&e.code()));
        }
    }

    #[test]
    fn messages_do_not_echo_the_input() {
        let e = err(K::Passaporto, "XB765432Z");
        assert!(!e.to_string().contains("XB765432"));
        assert!(e.to_string().contains("passaporto"));
    }

    #[test]
    fn classify_lists_every_matching_kind() {
        assert_eq!(kinds("CA00000AA"), [K::Cie3, K::PermessoSoggiorno]);
        assert_eq!(kinds("1234567AA"), [K::Cie2, K::PermessoSoggiorno]);
        assert_eq!(
            kinds("AA1234567"),
            [
                K::CartaIdentitaCartacea,
                K::Passaporto,
                K::PermessoSoggiorno
            ]
        );
        assert_eq!(
            kinds("AA 1234567"),
            [K::CartaIdentitaCartacea, K::PermessoSoggiorno]
        );
        assert_eq!(kinds("X/1"), [K::PermessoSoggiorno]);
        assert!(kinds("").is_empty());
        assert!(kinds("no_underscores").is_empty());
        let set = DocumentNumber::classify("AA1234567");
        assert_eq!(set.len(), 3);
        assert_eq!(set.bits(), 0b11100);
        assert!(!set.is_empty());
        assert_eq!(
            format!("{set:?}"),
            "{CartaIdentitaCartacea, Passaporto, PermessoSoggiorno}"
        );
    }

    #[test]
    fn debug_is_masked_display_is_full() {
        let n = doc(K::Cie3, "CA12345AA");
        assert_eq!(n.to_string(), "CA12345AA");
        assert_eq!(format!("{n:?}"), "DocumentNumber(Cie3, CA*****AA)");
        let p = doc(K::PermessoSoggiorno, "X12");
        assert_eq!(format!("{p:?}"), "DocumentNumber(PermessoSoggiorno, ***)");
        let p = doc(K::PermessoSoggiorno, "AB12345678901234XY");
        assert_eq!(
            format!("{p:?}"),
            "DocumentNumber(PermessoSoggiorno, AB**************XY)"
        );
        assert_eq!(n.kind(), K::Cie3);
    }

    #[test]
    fn kind_ids_and_names() {
        let ids: Vec<&str> = DocumentKind::ALL.iter().map(|k| k.id()).collect();
        assert_eq!(
            ids,
            [
                "cie3",
                "cie2",
                "carta_identita_cartacea",
                "passaporto",
                "permesso_soggiorno"
            ]
        );
        assert_eq!(K::Cie3.to_string(), "CIE 3.0");
        assert_eq!(K::PermessoSoggiorno.to_string(), "permesso di soggiorno");
    }
}
