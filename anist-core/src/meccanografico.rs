//! The codice meccanografico, the 10-character code of an Italian school
//! (istituto or plesso) assigned by the Ministero dell'Istruzione e del Merito.
//!
//! ```text
//! PP TT NNNNN C
//! │  │  │     └─ check character
//! │  │  └─ 5-character progressive (digits, sometimes letters)
//! │  └─ type code (letters, or digit + letter for paritarie: 1A, 1E, 1M)
//! └─ province (sigla automobilistica, plus a few special ones such as TB)
//! ```
//!
//! Two tiers of checks, as everywhere in this crate:
//!
//! 1. [`CodiceMeccanografico::parse`] checks the structure,
//!    `^[A-Z]{2}[A-Z0-9]{2}[A-Z0-9]{5}[A-Z0-9]$`, and is the only thing that
//!    can reject a code;
//! 2. [`CodiceMeccanografico::check_status`] recomputes the check character
//!    with an algorithm we **reverse-engineered** from the MIM open data (no
//!    official specification is public). It reproduces all the digit-only
//!    codes we have seen but is known not to apply to some families, so its
//!    result is a separate, non-fatal [`CheckStatus`]: a mismatch is a warning,
//!    never a parse error.
//!
//! A school code is not personal data, so [`Debug`] shows it in full.
//!
//! ```
//! use anist_core::meccanografico::{CheckStatus, CodiceMeccanografico, SchoolKind, SchoolRole};
//!
//! let code = CodiceMeccanografico::parse(" peic828004 ")?;
//! assert_eq!(code.as_str(), "PEIC828004");
//! assert_eq!(code.province(), "PE");
//! assert_eq!(code.school_kind(), SchoolKind::IstitutoComprensivo);
//! assert_eq!(code.role(), SchoolRole::Istituto);
//! assert_eq!(code.check_status(), CheckStatus::Valid);
//! # Ok::<(), anist_core::meccanografico::MeccError>(())
//! ```

use std::fmt;

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// Number of characters of a codice meccanografico, check character included.
pub const MECCANOGRAFICO_LEN: usize = 10;

/// The 23 characters the check character can take, in value order 1..=23.
const CHECK_ALPHABET: &[u8; 23] = b"123456789ABCDEGLNPQRTVX";

/// Weights of positions 1–4 and again 5–8.
const WEIGHTS: [i64; 4] = [3, 9, 27, 81];

/// Why a string is not a structurally valid codice meccanografico.
///
/// Codes: `mecc_empty`, `mecc_length`, `mecc_char`. A wrong check character
/// is *not* an error: see [`CodiceMeccanografico::check_status`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MeccError {
    /// The input is empty or only blanks.
    #[error("the codice meccanografico is empty: enter the 10-character school code")]
    Empty,
    /// The trimmed input does not have 10 characters.
    #[error(
        "a codice meccanografico has 10 characters, found {0}: check that it was copied \
         completely and without spaces inside"
    )]
    Length(usize),
    /// A character not allowed at its position.
    #[error(
        "character {ch:?} at position {pos} is not allowed: {}",
        if *pos <= 2 {
            "positions 1-2 are the province letters A-Z"
        } else {
            "positions 3-10 are letters A-Z or digits 0-9"
        }
    )]
    Char {
        /// 1-based position in the normalised (trimmed) input.
        pos: usize,
        /// The offending character.
        ch: char,
    },
}

impl MeccError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &["mecc_empty", "mecc_length", "mecc_char"];
}

impl ErrorCode for MeccError {
    fn code(&self) -> &'static str {
        match self {
            MeccError::Empty => "mecc_empty",
            MeccError::Length(_) => "mecc_length",
            MeccError::Char { .. } => "mecc_char",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidMeccanografico
    }

    fn position(&self) -> Option<usize> {
        match self {
            MeccError::Char { pos, .. } => Some(*pos),
            MeccError::Empty | MeccError::Length(_) => None,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for MeccError {
    fn samples() -> Vec<Self> {
        vec![
            MeccError::Empty,
            MeccError::Length(9),
            MeccError::Char { pos: 1, ch: '1' },
        ]
    }
}

/// Result of recomputing the check character (tier 2, advisory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckStatus {
    /// The check character matches the reverse-engineered algorithm.
    Valid,
    /// The algorithm applies but gives another character. Report it as a
    /// warning (probable typo), never reject the code for it: the algorithm
    /// is not official.
    Mismatch {
        /// The character the algorithm computes.
        expected: char,
        /// The character found in position 10.
        found: char,
    },
    /// The algorithm is known not to apply to this code, or cannot be computed:
    /// Valle d'Aosta codes (`AO…`), paritarie whose progressive ends in `500`
    /// and contains a letter (e.g. `AG1A0U500V`), and codes with `J`, `W` or
    /// `Y` in the first 4 characters (no known value).
    NotApplicable,
}

/// Which kind of liceo a `P…`/`SD` type code denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LiceoKind {
    /// `PS` — liceo scientifico.
    Scientifico,
    /// `PC` — liceo classico.
    Classico,
    /// `PM` — istituto magistrale / liceo delle scienze umane.
    ScienzeUmane,
    /// `PL` — liceo linguistico.
    Linguistico,
    /// `SD` — istituto d'arte / liceo artistico.
    Artistico,
}

/// Which kind of istituto tecnico a `T…` type code denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TecnicoKind {
    /// `TD` — tecnico commerciale (settore economico).
    Economico,
    /// `TF` — tecnico industriale (settore tecnologico).
    Tecnologico,
    /// `TL` — tecnico per geometri (costruzioni, ambiente e territorio).
    Geometri,
    /// `TA` — tecnico agrario.
    Agrario,
    /// `TE` — tecnico per le attività sociali.
    AttivitaSociali,
}

/// Which kind of istituto professionale an `R…` type code denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProfessionaleKind {
    /// `RH` — alberghiero (servizi per l'enogastronomia).
    Alberghiero,
    /// `RC` — servizi commerciali e turistici.
    ServiziCommerciali,
    /// `RI` — industria e artigianato.
    IndustriaArtigianato,
    /// `RF` — servizi sociali.
    ServiziSociali,
    /// `RA` — agricoltura e ambiente.
    Agricoltura,
    /// `RR`, `RS`, `RV`, `RE` — other professionali (regional, alberghiero…);
    /// [`CodiceMeccanografico::type_code`] tells them apart.
    Altro,
}

/// The kind of school, from the type code (characters 3–4).
///
/// Licei, tecnici and professionali are one variant each with a sub-kind, so
/// that "is it a liceo?" is a single `matches!`. The mapping follows the type
/// codes observed in the MIM open data; a code not in the table is
/// [`SchoolKind::Other`] with its two characters.
///
/// Secondaria II grado *paritarie* keep the statale-style letters (`PS`, `TD`…),
/// so a `Liceo` may be statale or paritaria; only infanzia, primaria and
/// secondaria I grado paritarie have their own codes (`1A`, `1E`, `1M`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchoolKind {
    /// `AA` — scuola dell'infanzia (statale).
    Infanzia,
    /// `EE` — scuola primaria (statale).
    Primaria,
    /// `MM` — scuola secondaria di I grado (statale).
    SecondariaPrimoGrado,
    /// `IC` — istituto comprensivo.
    IstitutoComprensivo,
    /// `IS` — istituto (d'istruzione secondaria) superiore.
    IstitutoSuperiore,
    /// `CT` — centro territoriale / CPIA (istruzione degli adulti).
    Cpia,
    /// `PS`, `PC`, `PM`, `PL`, `SD` — liceo.
    Liceo(LiceoKind),
    /// `TD`, `TF`, `TL`, `TA`, `TE` — istituto tecnico.
    Tecnico(TecnicoKind),
    /// `RH`, `RC`, `RI`, `RF`, `RA`, `RR`, `RS`, `RV`, `RE` — istituto professionale.
    Professionale(ProfessionaleKind),
    /// `TN`, `TH`, `TB`, `PQ`, `SL` — other secondaria II grado (seen mostly in
    /// non-statale schools; the exact meaning is not documented).
    SecondoGradoAltro,
    /// `IP` — istituto or plesso of the autonomous provinces (Trentino, Aosta).
    ProvinciaAutonoma,
    /// `1A` — scuola dell'infanzia paritaria (non statale).
    ParitariaInfanzia,
    /// `1E` — scuola primaria paritaria (non statale).
    ParitariaPrimaria,
    /// `1M` — scuola secondaria di I grado paritaria (non statale).
    ParitariaSecondariaPrimoGrado,
    /// Any other type code, as its two characters.
    Other([char; 2]),
}

/// Whether a code can denote an istituto (sede di direttivo) or a plesso,
/// judging from the type code alone.
///
/// - `IC`, `IS`, `CT` are [`SchoolRole::Istituto`]: these codes are given to
///   the istituto (the sede di direttivo) itself;
/// - `AA`, `EE`, `MM` are [`SchoolRole::Plesso`]: single schools belonging to
///   an istituto;
/// - everything else (licei, tecnici, professionali, `IP`, paritarie, unknown
///   codes) is [`SchoolRole::Either`]: e.g. a liceo can be an autonomous
///   istituto or a plesso of an `IS`.
///
/// This is a hint from the code's shape. The authority is the open-data
/// column `CODICEISTITUTORIFERIMENTO`: a school is a plesso when its code
/// differs from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchoolRole {
    /// The code denotes an istituto (sede di direttivo).
    Istituto,
    /// The code denotes a plesso of an istituto.
    Plesso,
    /// The type code allows both.
    Either,
}

/// A structurally valid codice meccanografico (10 upper-case ASCII characters).
///
/// Construct it with [`CodiceMeccanografico::parse`] (or [`FromStr`](std::str::FromStr) /
/// [`TryFrom<&str>`]). The check character is not enforced; ask
/// [`CodiceMeccanografico::check_status`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodiceMeccanografico([u8; MECCANOGRAFICO_LEN]);

impl CodiceMeccanografico {
    /// Parses a codice meccanografico (structure only).
    ///
    /// Normalisation: surrounding blanks are trimmed and letters are
    /// upper-cased; blanks *inside* are not removed. The result must match
    /// `^[A-Z]{2}[A-Z0-9]{2}[A-Z0-9]{5}[A-Z0-9]$`.
    ///
    /// # Errors
    ///
    /// [`MeccError::Empty`] for an empty or blank input, [`MeccError::Length`]
    /// when the trimmed input does not have 10 characters, [`MeccError::Char`]
    /// for the first character not allowed at its position.
    ///
    /// ```
    /// use anist_core::meccanografico::CodiceMeccanografico;
    /// use anist_core::ErrorCode;
    ///
    /// assert!(CodiceMeccanografico::parse("bs1a23800x").is_ok());
    /// let err = CodiceMeccanografico::parse("1SIC82300Q").unwrap_err();
    /// assert_eq!((err.code(), err.position()), ("mecc_char", Some(1)));
    /// ```
    pub fn parse(input: &str) -> Result<Self, MeccError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(MeccError::Empty);
        }
        let count = trimmed.chars().count();
        if count != MECCANOGRAFICO_LEN {
            return Err(MeccError::Length(count));
        }
        let mut out = [0u8; MECCANOGRAFICO_LEN];
        for (i, (slot, ch)) in out.iter_mut().zip(trimmed.chars()).enumerate() {
            let up = ch.to_ascii_uppercase();
            let ok = if i < 2 {
                up.is_ascii_uppercase()
            } else {
                up.is_ascii_uppercase() || up.is_ascii_digit()
            };
            if !ok {
                return Err(MeccError::Char { pos: i + 1, ch });
            }
            // `up` is ASCII here, so the cast is lossless.
            *slot = up as u8;
        }
        Ok(CodiceMeccanografico(out))
    }

    /// The code as a string slice.
    pub fn as_str(&self) -> &str {
        crate::text::ascii_str(&self.0)
    }

    /// The province part, characters 1–2 (e.g. `RM`; `TB` for the
    /// German-language schools of Bolzano).
    pub fn province(&self) -> &str {
        crate::text::ascii_str(&self.0[..2])
    }

    /// The type code, characters 3–4 (e.g. `IC`, `EE`, `1A`).
    pub fn type_code(&self) -> &str {
        crate::text::ascii_str(&self.0[2..4])
    }

    /// The progressive, characters 5–9.
    pub fn progressive(&self) -> &str {
        crate::text::ascii_str(&self.0[4..9])
    }

    /// The check character, character 10.
    pub fn check_char(&self) -> char {
        char::from(self.0[9])
    }

    /// The kind of school the type code denotes; see [`SchoolKind`].
    pub fn school_kind(&self) -> SchoolKind {
        use LiceoKind as L;
        use ProfessionaleKind as P;
        use TecnicoKind as T;
        match [self.0[2], self.0[3]] {
            [b'A', b'A'] => SchoolKind::Infanzia,
            [b'E', b'E'] => SchoolKind::Primaria,
            [b'M', b'M'] => SchoolKind::SecondariaPrimoGrado,
            [b'I', b'C'] => SchoolKind::IstitutoComprensivo,
            [b'I', b'S'] => SchoolKind::IstitutoSuperiore,
            [b'C', b'T'] => SchoolKind::Cpia,
            [b'P', b'S'] => SchoolKind::Liceo(L::Scientifico),
            [b'P', b'C'] => SchoolKind::Liceo(L::Classico),
            [b'P', b'M'] => SchoolKind::Liceo(L::ScienzeUmane),
            [b'P', b'L'] => SchoolKind::Liceo(L::Linguistico),
            [b'S', b'D'] => SchoolKind::Liceo(L::Artistico),
            [b'T', b'D'] => SchoolKind::Tecnico(T::Economico),
            [b'T', b'F'] => SchoolKind::Tecnico(T::Tecnologico),
            [b'T', b'L'] => SchoolKind::Tecnico(T::Geometri),
            [b'T', b'A'] => SchoolKind::Tecnico(T::Agrario),
            [b'T', b'E'] => SchoolKind::Tecnico(T::AttivitaSociali),
            [b'R', b'H'] => SchoolKind::Professionale(P::Alberghiero),
            [b'R', b'C'] => SchoolKind::Professionale(P::ServiziCommerciali),
            [b'R', b'I'] => SchoolKind::Professionale(P::IndustriaArtigianato),
            [b'R', b'F'] => SchoolKind::Professionale(P::ServiziSociali),
            [b'R', b'A'] => SchoolKind::Professionale(P::Agricoltura),
            [b'R', b'R' | b'S' | b'V' | b'E'] => SchoolKind::Professionale(P::Altro),
            [b'T', b'N' | b'H' | b'B'] | [b'P', b'Q'] | [b'S', b'L'] => {
                SchoolKind::SecondoGradoAltro
            }
            [b'I', b'P'] => SchoolKind::ProvinciaAutonoma,
            [b'1', b'A'] => SchoolKind::ParitariaInfanzia,
            [b'1', b'E'] => SchoolKind::ParitariaPrimaria,
            [b'1', b'M'] => SchoolKind::ParitariaSecondariaPrimoGrado,
            [a, b] => SchoolKind::Other([char::from(a), char::from(b)]),
        }
    }

    /// Whether the type code itself says "paritaria": `1A`, `1E` or `1M`.
    ///
    /// `false` does not mean statale: secondaria II grado paritarie use the
    /// statale-style type codes and can only be told apart from the registry.
    pub fn is_paritaria_by_code(&self) -> bool {
        matches!([self.0[2], self.0[3]], [b'1', b'A' | b'E' | b'M'])
    }

    /// Whether the code denotes an istituto, a plesso, or may be either; see
    /// [`SchoolRole`] for the rule.
    pub fn role(&self) -> SchoolRole {
        match [self.0[2], self.0[3]] {
            [b'I', b'C'] | [b'I', b'S'] | [b'C', b'T'] => SchoolRole::Istituto,
            [b'A', b'A'] | [b'E', b'E'] | [b'M', b'M'] => SchoolRole::Plesso,
            _ => SchoolRole::Either,
        }
    }

    /// Recomputes the check character with the reverse-engineered algorithm
    /// (see [`compute_check_char`]) and compares it with character 10.
    ///
    /// [`CheckStatus::NotApplicable`] for the families the algorithm is known
    /// not to cover:
    ///
    /// - Valle d'Aosta codes, province `AO` (about 5% match);
    /// - progressives ending in `500` **that contain a letter** (paritarie such
    ///   as `AG1A0U500V`, `RM1ACA500O`, `SATFH8500N`: 2.7% match, and their
    ///   check character uses a wider alphabet);
    /// - codes with `J`, `W` or `Y` in the first 4 characters (no known value).
    ///
    /// Digit-only progressives ending in `500` *are* checked: 89% of them
    /// match, and real codes such as `RMPC10500A` and `BS1A23800X` do. So
    /// `RMIC81500X` gives `Mismatch { expected: 'N', found: 'X' }`.
    ///
    /// ```
    /// use anist_core::meccanografico::{CheckStatus, CodiceMeccanografico};
    ///
    /// let ok = CodiceMeccanografico::parse("RMPC10500A")?;
    /// assert_eq!(ok.check_status(), CheckStatus::Valid);
    /// let typo = CodiceMeccanografico::parse("RMIC81500X")?;
    /// assert_eq!(typo.check_status(), CheckStatus::Mismatch { expected: 'N', found: 'X' });
    /// let aosta = CodiceMeccanografico::parse("AO1A008020")?;
    /// assert_eq!(aosta.check_status(), CheckStatus::NotApplicable);
    /// # Ok::<(), anist_core::meccanografico::MeccError>(())
    /// ```
    pub fn check_status(&self) -> CheckStatus {
        if self.province() == "AO" {
            return CheckStatus::NotApplicable;
        }
        let progressive = &self.0[4..9];
        if progressive.ends_with(b"500") && progressive.iter().any(u8::is_ascii_uppercase) {
            return CheckStatus::NotApplicable;
        }
        let [c1, c2, c3, c4, c5, c6, c7, c8, c9, found] = self.0;
        match compute_check_char(&[c1, c2, c3, c4, c5, c6, c7, c8, c9]) {
            None => CheckStatus::NotApplicable,
            Some(expected) if expected == char::from(found) => CheckStatus::Valid,
            Some(expected) => CheckStatus::Mismatch {
                expected,
                found: char::from(found),
            },
        }
    }
}

/// Computes the check character of a codice meccanografico from its first 9
/// characters, with the algorithm reverse-engineered from the MIM open data
/// (**not official**).
///
/// ```text
/// V (positions 1-4 and the check character):
///   '0'..'9' -> 0..9, A=10 B=11 C=12 D=13 E=14 G=15 L=16 N=17 P=18 Q=19 R=20
///   T=21 V=22 X=23 F=24 H=25 I=26 M=27 O=28 S=29 U=30 Z=32 K=33 (J, W, Y unknown)
/// T (positions 5-9): digits as is; A..I -> 1..9, J..R -> 1..9, S..Z -> 2..9
///
/// s = T(c9) - Σ_{i=1..8} w_i · v_i   with w = 3, 9, 27, 81, 3, 9, 27, 81
///     and v_i = V(c_i) for i <= 4, T(c_i) for i >= 5
/// r = s mod 23 (non-negative), 23 if 0
/// check = "123456789ABCDEGLNPQRTVX"[r - 1]
/// ```
///
/// Returns `None` when a byte is not an upper-case ASCII letter or digit, or
/// when one of the first 4 characters is `J`, `W` or `Y`. It applies no
/// "family" rule: [`CodiceMeccanografico::check_status`] decides when the
/// result is meaningful (e.g. not for `AO…` codes). Meant for generating test
/// codes (the sandbox) and for `check_status`.
///
/// ```
/// use anist_core::meccanografico::compute_check_char;
///
/// assert_eq!(compute_check_char(b"RMEE22103"), Some('X'));
/// assert_eq!(compute_check_char(b"RMIC81500"), Some('N'));
/// assert_eq!(compute_check_char(b"JMIC81500"), None);
/// ```
pub fn compute_check_char(first9: &[u8; 9]) -> Option<char> {
    let mut s: i64 = transliterate(first9[8])?;
    for (i, &b) in first9[..8].iter().enumerate() {
        let v = if i < 4 {
            prefix_value(b)?
        } else {
            transliterate(b)?
        };
        s -= WEIGHTS[i % 4] * v;
    }
    let r = s.rem_euclid(23);
    let r = if r == 0 { 23 } else { r };
    // `r` is in 1..=23, so the index is in bounds.
    let idx = usize::try_from(r - 1).ok()?;
    CHECK_ALPHABET.get(idx).map(|&b| char::from(b))
}

/// The value table V of the first 4 characters.
fn prefix_value(b: u8) -> Option<i64> {
    let v = match b {
        b'0'..=b'9' => i64::from(b - b'0'),
        b'A' => 10,
        b'B' => 11,
        b'C' => 12,
        b'D' => 13,
        b'E' => 14,
        b'G' => 15,
        b'L' => 16,
        b'N' => 17,
        b'P' => 18,
        b'Q' => 19,
        b'R' => 20,
        b'T' => 21,
        b'V' => 22,
        b'X' => 23,
        b'F' => 24,
        b'H' => 25,
        b'I' => 26,
        b'M' => 27,
        b'O' => 28,
        b'S' => 29,
        b'U' => 30,
        b'Z' => 32,
        b'K' => 33,
        _ => return None,
    };
    Some(v)
}

/// The EBCDIC-style transliteration T of the progressive's characters.
fn transliterate(b: u8) -> Option<i64> {
    let v = match b {
        b'0'..=b'9' => b - b'0',
        b'A'..=b'I' => b - b'A' + 1,
        b'J'..=b'R' => b - b'J' + 1,
        b'S'..=b'Z' => b - b'S' + 2,
        _ => return None,
    };
    Some(i64::from(v))
}

crate::text::impl_display_as_str!(CodiceMeccanografico);

impl fmt::Debug for CodiceMeccanografico {
    /// Prints `CodiceMeccanografico("RMEE22103X")`: a school code is not
    /// personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CodiceMeccanografico")
            .field(&self.as_str())
            .finish()
    }
}

crate::text::impl_parse_traits!(CodiceMeccanografico, MeccError);

#[cfg(test)]
mod tests {
    use super::*;

    /// The 19 real codes of domain.md §3.2.
    const VECTORS: [&str; 19] = [
        "RMEE220012",
        "RMEE22103X",
        "RMEE221041",
        "PEIC828004",
        "AGEE00300D",
        "AGIC82400C",
        "TBIC82300Q",
        "TNIS00800D",
        "CAPS006016",
        "VEPS07000G",
        "BITF00401D",
        "TNCT70100B",
        "NAAA82202Q",
        "MOEE80601N",
        "BS1A23800X",
        "RMPC10500A",
        "FGRH100008",
        "CTEE8BN02R",
        "RMAA8C401X",
    ];

    fn code(s: &str) -> CodiceMeccanografico {
        match CodiceMeccanografico::parse(s) {
            Ok(v) => v,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn err(s: &str) -> MeccError {
        match CodiceMeccanografico::parse(s) {
            Ok(v) => panic!("{s:?} should not parse, got {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn all_domain_vectors_are_valid() {
        for v in VECTORS {
            assert_eq!(code(v).check_status(), CheckStatus::Valid, "{v}");
            let [a, b, c, d, e, f, g, h, i, _] = code(v).0;
            let expected = v.chars().last();
            assert_eq!(compute_check_char(&[a, b, c, d, e, f, g, h, i]), expected);
        }
    }

    #[test]
    fn rmic81500x_is_a_mismatch() {
        // Digit-only progressive ending in 500: checked (documented rule).
        assert_eq!(
            code("RMIC81500X").check_status(),
            CheckStatus::Mismatch {
                expected: 'N',
                found: 'X'
            }
        );
        assert_eq!(code("RMIC81500N").check_status(), CheckStatus::Valid);
    }

    #[test]
    fn changed_check_char_is_a_mismatch() {
        assert_eq!(
            code("PEIC828005").check_status(),
            CheckStatus::Mismatch {
                expected: '4',
                found: '5'
            }
        );
        // Check characters outside the 23-symbol alphabet are mismatches too.
        assert_eq!(
            code("AGEE003000").check_status(),
            CheckStatus::Mismatch {
                expected: 'D',
                found: '0'
            }
        );
    }

    #[test]
    fn not_applicable_families() {
        assert_eq!(
            code("AO1A008020").check_status(),
            CheckStatus::NotApplicable
        );
        assert_eq!(
            code("AO1A60101X").check_status(),
            CheckStatus::NotApplicable
        );
        assert_eq!(
            code("AG1A0U500V").check_status(),
            CheckStatus::NotApplicable
        );
        assert_eq!(
            code("RM1ACA500O").check_status(),
            CheckStatus::NotApplicable
        );
        assert_eq!(
            code("SATFH8500N").check_status(),
            CheckStatus::NotApplicable
        );
        assert_eq!(
            code("JMIC81500N").check_status(),
            CheckStatus::NotApplicable
        );
        assert_eq!(
            code("RWIC81500N").check_status(),
            CheckStatus::NotApplicable
        );
        assert_eq!(
            code("RMIY81500N").check_status(),
            CheckStatus::NotApplicable
        );
        // J/W/Y in the progressive have a transliteration: computable.
        assert_ne!(
            code("RMEEJWY01X").check_status(),
            CheckStatus::NotApplicable
        );
        // A letter in the progressive not ending in 500 is checked (CTEE8BN02R).
        assert_eq!(code("CTEE8BN02R").check_status(), CheckStatus::Valid);
    }

    #[test]
    fn compute_rejects_bad_bytes() {
        assert_eq!(compute_check_char(b"rmee22103"), None);
        assert_eq!(compute_check_char(b"RMEE2210 "), None);
        assert_eq!(compute_check_char(b"RMEE2210-"), None);
        assert_eq!(compute_check_char(b"RMEW22103"), None);
    }

    #[test]
    fn compute_covers_every_residue() {
        // Every one of the 23 check symbols is reachable.
        let mut seen = std::collections::BTreeSet::new();
        for p in 0u8..=99 {
            for c9 in b'0'..=b'9' {
                let first9 = [
                    b'R',
                    b'M',
                    b'E',
                    b'E',
                    b'0' + p / 10,
                    b'0',
                    b'0',
                    b'0' + p % 10,
                    c9,
                ];
                if let Some(c) = compute_check_char(&first9) {
                    seen.insert(c);
                }
            }
        }
        let all: std::collections::BTreeSet<char> =
            CHECK_ALPHABET.iter().map(|&b| char::from(b)).collect();
        assert_eq!(seen, all);
    }

    #[test]
    fn parse_normalises() {
        assert_eq!(code("  rmee22103x\n").as_str(), "RMEE22103X");
        assert_eq!(code("bs1a23800x"), code("BS1A23800X"));
        assert_eq!(
            "peic828004".parse::<CodiceMeccanografico>(),
            Ok(code("PEIC828004"))
        );
        assert_eq!(
            CodiceMeccanografico::try_from("PEIC828004"),
            Ok(code("PEIC828004"))
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(err(""), MeccError::Empty);
        assert_eq!(err(" \t"), MeccError::Empty);
        assert_eq!(err("RMEE22103"), MeccError::Length(9));
        assert_eq!(err("RMEE 22103X"), MeccError::Length(11));
        assert_eq!(err("1MEE22103X"), MeccError::Char { pos: 1, ch: '1' });
        assert_eq!(err("R1EE22103X"), MeccError::Char { pos: 2, ch: '1' });
        assert_eq!(err("RMEE2210 X"), MeccError::Char { pos: 9, ch: ' ' });
        assert_eq!(err("RMEE22103-"), MeccError::Char { pos: 10, ch: '-' });
        assert_eq!(err("RMÈE22103X"), MeccError::Char { pos: 3, ch: 'È' });
        let e = err("RMEE2210-X");
        assert_eq!((e.code(), e.position()), ("mecc_char", Some(9)));
        assert_eq!(err("").code(), "mecc_empty");
        assert_eq!(err("AB").code(), "mecc_length");
        assert_eq!(err("AB").position(), None);
        assert!(err("1MEE22103X").to_string().contains("province"));
        for e in [err(""), err("AB"), err("RMEE2210-X")] {
            assert!(MeccError::CODES.contains(&e.code()));
        }
    }

    #[test]
    fn accessors() {
        let c = code("RMEE22103X");
        assert_eq!(c.province(), "RM");
        assert_eq!(c.type_code(), "EE");
        assert_eq!(c.progressive(), "22103");
        assert_eq!(c.check_char(), 'X');
        assert_eq!(c.to_string(), "RMEE22103X");
        assert_eq!(format!("{c:?}"), "CodiceMeccanografico(\"RMEE22103X\")");
    }

    #[test]
    fn school_kinds_and_roles() {
        use SchoolKind as K;
        let cases: &[(&str, SchoolKind, SchoolRole)] = &[
            ("NAAA82202Q", K::Infanzia, SchoolRole::Plesso),
            ("RMEE22103X", K::Primaria, SchoolRole::Plesso),
            ("RMMM00000X", K::SecondariaPrimoGrado, SchoolRole::Plesso),
            ("PEIC828004", K::IstitutoComprensivo, SchoolRole::Istituto),
            ("TNIS00800D", K::IstitutoSuperiore, SchoolRole::Istituto),
            ("TNCT70100B", K::Cpia, SchoolRole::Istituto),
            (
                "CAPS006016",
                K::Liceo(LiceoKind::Scientifico),
                SchoolRole::Either,
            ),
            (
                "RMPC10500A",
                K::Liceo(LiceoKind::Classico),
                SchoolRole::Either,
            ),
            (
                "RMPM00000X",
                K::Liceo(LiceoKind::ScienzeUmane),
                SchoolRole::Either,
            ),
            (
                "RMPL00000X",
                K::Liceo(LiceoKind::Linguistico),
                SchoolRole::Either,
            ),
            (
                "RMSD00000X",
                K::Liceo(LiceoKind::Artistico),
                SchoolRole::Either,
            ),
            (
                "RMTD00000X",
                K::Tecnico(TecnicoKind::Economico),
                SchoolRole::Either,
            ),
            (
                "BITF00401D",
                K::Tecnico(TecnicoKind::Tecnologico),
                SchoolRole::Either,
            ),
            (
                "RMTL00000X",
                K::Tecnico(TecnicoKind::Geometri),
                SchoolRole::Either,
            ),
            (
                "RMTA00000X",
                K::Tecnico(TecnicoKind::Agrario),
                SchoolRole::Either,
            ),
            (
                "RMTE00000X",
                K::Tecnico(TecnicoKind::AttivitaSociali),
                SchoolRole::Either,
            ),
            (
                "FGRH100008",
                K::Professionale(ProfessionaleKind::Alberghiero),
                SchoolRole::Either,
            ),
            (
                "RMRC00000X",
                K::Professionale(ProfessionaleKind::ServiziCommerciali),
                SchoolRole::Either,
            ),
            (
                "RMRI00000X",
                K::Professionale(ProfessionaleKind::IndustriaArtigianato),
                SchoolRole::Either,
            ),
            (
                "RMRF00000X",
                K::Professionale(ProfessionaleKind::ServiziSociali),
                SchoolRole::Either,
            ),
            (
                "RMRA00000X",
                K::Professionale(ProfessionaleKind::Agricoltura),
                SchoolRole::Either,
            ),
            (
                "RMRR00000X",
                K::Professionale(ProfessionaleKind::Altro),
                SchoolRole::Either,
            ),
            (
                "RMRS00000X",
                K::Professionale(ProfessionaleKind::Altro),
                SchoolRole::Either,
            ),
            (
                "RMRV00000X",
                K::Professionale(ProfessionaleKind::Altro),
                SchoolRole::Either,
            ),
            (
                "RMRE00000X",
                K::Professionale(ProfessionaleKind::Altro),
                SchoolRole::Either,
            ),
            ("RMTN00000X", K::SecondoGradoAltro, SchoolRole::Either),
            ("RMTH00000X", K::SecondoGradoAltro, SchoolRole::Either),
            ("RMTB00000X", K::SecondoGradoAltro, SchoolRole::Either),
            ("RMPQ00000X", K::SecondoGradoAltro, SchoolRole::Either),
            ("RMSL00000X", K::SecondoGradoAltro, SchoolRole::Either),
            ("TNIP00000X", K::ProvinciaAutonoma, SchoolRole::Either),
            ("AG1A0U500V", K::ParitariaInfanzia, SchoolRole::Either),
            ("RM1E00000X", K::ParitariaPrimaria, SchoolRole::Either),
            (
                "RM1M00000X",
                K::ParitariaSecondariaPrimoGrado,
                SchoolRole::Either,
            ),
            ("RMZZ00000X", K::Other(['Z', 'Z']), SchoolRole::Either),
            ("RM9Q00000X", K::Other(['9', 'Q']), SchoolRole::Either),
        ];
        for (s, kind, role) in cases {
            let c = code(s);
            assert_eq!(c.school_kind(), *kind, "{s}");
            assert_eq!(c.role(), *role, "{s}");
        }
    }

    #[test]
    fn paritaria_by_code() {
        assert!(code("AG1A0U500V").is_paritaria_by_code());
        assert!(code("RM1E00000X").is_paritaria_by_code());
        assert!(code("RM1M00000X").is_paritaria_by_code());
        assert!(!code("RM1B00000X").is_paritaria_by_code());
        assert!(!code("RMPS00000X").is_paritaria_by_code());
        assert!(!code("RMAA00000X").is_paritaria_by_code());
    }
}
