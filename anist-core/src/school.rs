//! School years, compulsory education and school cycles.
//!
//! The anno scolastico runs from 1 September to 31 August (D.Lgs. 297/1994
//! art. 74). Compulsory education (obbligo di istruzione, L. 296/2006 art. 1
//! c. 622) lasts ten years, from 6 to 16; the diritto-dovere all'istruzione e
//! formazione goes on to 18 (D.Lgs. 76/2005). Children who turn 6 by
//! 31 December of the school year's first year must enrol in the first class
//! of primaria; those who turn 6 by the following 30 April may (anticipatari)
//! (DPR 89/2009 art. 4).
//!
//! ```
//! use anist_core::school::{obligation_status, ObligationStatus, SchoolYear};
//! use chrono::NaiveDate;
//!
//! let year: SchoolYear = "2025/26".parse().unwrap();
//! assert_eq!(year.to_string(), "2025/2026");
//! let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
//! assert_eq!(SchoolYear::containing(today).to_string(), "2026/2027");
//! let born = NaiveDate::from_ymd_opt(2015, 3, 10).unwrap();
//! assert_eq!(obligation_status(born, year), ObligationStatus::Compulsory { year_of_obligation: 5 });
//! ```

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::error::{CodeSamples, ErrorCode, ErrorKind};
use crate::meccanografico::{CodiceMeccanografico, SchoolKind};

/// An anno scolastico, e.g. 2025/2026 (1 September 2025 – 31 August 2026).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchoolYear {
    start: u16,
}

/// Why a string is not a school year.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchoolYearError {
    /// Not one of the accepted forms.
    #[error(
        "a school year is written 2025/2026, 2025/26, 2025-2026 or 202526; \
         found a value in none of these forms"
    )]
    Format,
    /// The second year is not the year after the first.
    #[error(
        "the second year of a school year must follow the first: {start}/{start_plus_one} expected"
    )]
    NotConsecutive {
        /// The first year as written.
        start: u16,
        /// The year that should follow it.
        start_plus_one: u16,
    },
    /// The first year is outside 1900-2999.
    #[error("the school year {start}/… is outside 1900-2999")]
    OutOfRange {
        /// The first year as written.
        start: u16,
    },
}

impl ErrorCode for SchoolYearError {
    fn code(&self) -> &'static str {
        match self {
            SchoolYearError::Format => "school_year_format",
            SchoolYearError::NotConsecutive { .. } => "school_year_not_consecutive",
            SchoolYearError::OutOfRange { .. } => "school_year_range",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidSchoolYear
    }
}

#[doc(hidden)]
impl CodeSamples for SchoolYearError {
    fn samples() -> Vec<Self> {
        vec![
            SchoolYearError::Format,
            SchoolYearError::NotConsecutive {
                start: 2025,
                start_plus_one: 2026,
            },
            SchoolYearError::OutOfRange { start: 1800 },
        ]
    }
}

fn digits(s: &[u8]) -> Option<u16> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u16, |acc, &b| {
        acc.checked_mul(10)?.checked_add(u16::from(b - b'0'))
    })
}

impl SchoolYear {
    /// The school year starting on 1 September of `start_year` (1900-2999).
    pub fn starting(start_year: u16) -> Result<Self, SchoolYearError> {
        if (1900..=2999).contains(&start_year) {
            Ok(Self { start: start_year })
        } else {
            Err(SchoolYearError::OutOfRange { start: start_year })
        }
    }

    /// Parses `2025/2026`, `2025/26`, `2025-2026`, `2025-26` or `202526`
    /// (surrounding blanks ignored).
    pub fn parse(input: &str) -> Result<Self, SchoolYearError> {
        let s = input.trim().as_bytes();
        let (first, second) = match s.iter().position(|&b| b == b'/' || b == b'-') {
            Some(i) => (&s[..i], &s[i + 1..]),
            None if s.len() == 6 => (&s[..4], &s[4..]),
            None => return Err(SchoolYearError::Format),
        };
        if first.len() != 4 || !(second.len() == 2 || second.len() == 4) {
            return Err(SchoolYearError::Format);
        }
        let start = digits(first).ok_or(SchoolYearError::Format)?;
        let end = digits(second).ok_or(SchoolYearError::Format)?;
        let expected = start + 1;
        let matches = if second.len() == 2 {
            end == expected % 100
        } else {
            end == expected
        };
        if !matches {
            return Err(SchoolYearError::NotConsecutive {
                start,
                start_plus_one: expected,
            });
        }
        Self::starting(start)
    }

    /// The school year a date falls in: from 1 September to 31 August.
    pub fn containing(date: NaiveDate) -> Self {
        let start = if date.month() >= 9 {
            date.year()
        } else {
            date.year() - 1
        };
        Self {
            start: start.clamp(1900, 2999) as u16,
        }
    }

    /// The first calendar year (2025 for 2025/2026).
    pub fn start_year(self) -> u16 {
        self.start
    }

    /// The second calendar year (2026 for 2025/2026).
    pub fn end_year(self) -> u16 {
        self.start + 1
    }

    /// 1 September of the first year.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(i32::from(self.start), 9, 1).unwrap_or_default()
    }

    /// 31 August of the second year.
    pub fn last_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(i32::from(self.start) + 1, 8, 31).unwrap_or_default()
    }

    /// Whether `date` falls within the school year.
    pub fn contains(self, date: NaiveDate) -> bool {
        self.first_day() <= date && date <= self.last_day()
    }

    /// The school year before (saturating at 1900/1901).
    pub fn previous(self) -> Self {
        Self {
            start: self.start.saturating_sub(1).max(1900),
        }
    }

    /// The school year after (saturating at 2999/3000).
    pub fn next(self) -> Self {
        Self {
            start: (self.start + 1).min(2999),
        }
    }

    /// The six-digit form of MIM open data: `202526`.
    pub fn compact(self) -> String {
        format!("{}{:02}", self.start, (self.start + 1) % 100)
    }
}

impl fmt::Display for SchoolYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.start, self.start + 1)
    }
}

impl fmt::Debug for SchoolYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SchoolYear({self})")
    }
}

crate::text::impl_parse_traits!(SchoolYear, SchoolYearError);

impl serde::Serialize for SchoolYear {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SchoolYear {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Where a person stands with respect to compulsory education in a school
/// year, by birth date alone.
///
/// This is a **screening filter**, not a legal finding: the ten years of
/// obligation can end earlier or later than the birth cohort says (repeated
/// years, anticipatari who started at five, pupils who obtained a qualifica,
/// pupils with disabilities), and the diritto-dovere ends earlier for those
/// holding a qualifica. Use it to choose whom to ask ANIST about, and let the
/// Comune judge each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObligationStatus {
    /// Too young for the obligation this school year (including infanzia age).
    NotYetObliged {
        /// Turns 6 between 1 January and 30 April of the school year's second
        /// calendar year: may enrol in primaria early (anticipatario).
        may_enrol_early: bool,
    },
    /// Within the ten years of compulsory education (from the school year in
    /// which the child turns 6 by 31 December, for ten school years).
    Compulsory {
        /// 1 for the school year of the first class of primaria, … 10 for the last.
        year_of_obligation: u8,
    },
    /// After the ten years, within the diritto-dovere (up to 18).
    DirittoDovere,
    /// Beyond every obligation.
    Beyond,
}

impl ObligationStatus {
    /// Whether the obligation of istruzione applies (the Comune's check of
    /// art. 12 DL 123/2023 is about these).
    pub fn is_compulsory(self) -> bool {
        matches!(self, ObligationStatus::Compulsory { .. })
    }

    /// A stable snake-case name: `not_yet_obliged`, `compulsory`,
    /// `diritto_dovere`, `beyond`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObligationStatus::NotYetObliged { .. } => "not_yet_obliged",
            ObligationStatus::Compulsory { .. } => "compulsory",
            ObligationStatus::DirittoDovere => "diritto_dovere",
            ObligationStatus::Beyond => "beyond",
        }
    }

    /// The Italian label a clerk reads: see [`obligation_label`].
    pub fn label(self) -> &'static str {
        obligation_label(self.as_str()).unwrap_or("")
    }
}

/// The Italian label of an [`ObligationStatus::as_str`] code:
/// `not_yet_obliged` → `non ancora in obbligo`, `compulsory` → `obbligo di
/// istruzione`, `diritto_dovere` → `diritto-dovere`, `beyond` → `oltre
/// l'obbligo`; `None` for another text.
///
/// ```
/// use anist_core::school::obligation_label;
/// assert_eq!(obligation_label("compulsory"), Some("obbligo di istruzione"));
/// ```
pub fn obligation_label(code: &str) -> Option<&'static str> {
    match code {
        "not_yet_obliged" => Some("non ancora in obbligo"),
        "compulsory" => Some("obbligo di istruzione"),
        "diritto_dovere" => Some("diritto-dovere"),
        "beyond" => Some("oltre l'obbligo"),
        _ => None,
    }
}

/// The obligation status of a person born on `birth` during `year` (see
/// [`ObligationStatus`] for the limits of this rule).
///
/// ```
/// use anist_core::school::{obligation_status, ObligationStatus, SchoolYear};
/// use chrono::NaiveDate;
/// let year = SchoolYear::starting(2026).unwrap();
/// let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// // Born in 2020: first class of primaria in 2026/27.
/// assert_eq!(obligation_status(d(2020, 12, 31), year), ObligationStatus::Compulsory { year_of_obligation: 1 });
/// // Born January-April 2021: may enrol early (anticipatario).
/// assert_eq!(obligation_status(d(2021, 4, 30), year), ObligationStatus::NotYetObliged { may_enrol_early: true });
/// assert_eq!(obligation_status(d(2021, 5, 1), year), ObligationStatus::NotYetObliged { may_enrol_early: false });
/// ```
pub fn obligation_status(birth: NaiveDate, year: SchoolYear) -> ObligationStatus {
    // Cohort offset: how many years after the birth year the school year starts.
    let offset = i32::from(year.start_year()) - birth.year();
    match offset {
        i32::MIN..=5 => ObligationStatus::NotYetObliged {
            may_enrol_early: offset == 5 && birth.month() <= 4,
        },
        6..=15 => ObligationStatus::Compulsory {
            year_of_obligation: (offset - 5) as u8,
        },
        16..=17 => ObligationStatus::DirittoDovere,
        _ => ObligationStatus::Beyond,
    }
}

/// The cycles of the Italian school system as ANS / ANIST know them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SchoolCycle {
    /// Scuola dell'infanzia (3-5, not compulsory).
    Infanzia,
    /// Scuola primaria (classes 1-5).
    Primaria,
    /// Scuola secondaria di I grado (classes 1-3).
    SecondariaPrimoGrado,
    /// Scuola secondaria di II grado (classes 1-5: licei, tecnici, professionali).
    SecondariaSecondoGrado,
    /// Centro provinciale per l'istruzione degli adulti.
    Cpia,
}

impl SchoolCycle {
    /// A stable snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SchoolCycle::Infanzia => "infanzia",
            SchoolCycle::Primaria => "primaria",
            SchoolCycle::SecondariaPrimoGrado => "secondaria_primo_grado",
            SchoolCycle::SecondariaSecondoGrado => "secondaria_secondo_grado",
            SchoolCycle::Cpia => "cpia",
        }
    }

    /// The number of classes (anni di corso) of the cycle; CPIA courses vary (0).
    pub fn classes(self) -> u8 {
        match self {
            SchoolCycle::Infanzia => 3,
            SchoolCycle::Primaria | SchoolCycle::SecondariaSecondoGrado => 5,
            SchoolCycle::SecondariaPrimoGrado => 3,
            SchoolCycle::Cpia => 0,
        }
    }

    /// The cycles a school of this kind may run. An istituto comprensivo runs
    /// infanzia, primaria and secondaria I grado; an istituto superiore runs
    /// secondaria II grado; the autonomous provinces' `IP` code and unknown
    /// types give an empty list (cannot tell).
    pub fn of_school_kind(kind: &SchoolKind) -> &'static [SchoolCycle] {
        use SchoolCycle::*;
        match kind {
            SchoolKind::Infanzia | SchoolKind::ParitariaInfanzia => &[Infanzia],
            SchoolKind::Primaria | SchoolKind::ParitariaPrimaria => &[Primaria],
            SchoolKind::SecondariaPrimoGrado | SchoolKind::ParitariaSecondariaPrimoGrado => {
                &[SecondariaPrimoGrado]
            }
            SchoolKind::IstitutoComprensivo => &[Infanzia, Primaria, SecondariaPrimoGrado],
            SchoolKind::IstitutoSuperiore
            | SchoolKind::Liceo(_)
            | SchoolKind::Tecnico(_)
            | SchoolKind::Professionale(_)
            | SchoolKind::SecondoGradoAltro => &[SecondariaSecondoGrado],
            SchoolKind::Cpia => &[Cpia],
            _ => &[],
        }
    }

    /// The cycles of a school, from its codice meccanografico's type code.
    pub fn of_school(code: &CodiceMeccanografico) -> &'static [SchoolCycle] {
        Self::of_school_kind(&code.school_kind())
    }
}

/// The regular cycle and class (anno di corso) of a pupil born on `birth`
/// during `year`, assuming enrolment with their cohort and no repeated year:
/// infanzia at 3-5, primaria 1-5 at 6-10, secondaria I grado 1-3 at 11-13,
/// secondaria II grado 1-5 at 14-18 (age reached by 31 December). `None`
/// outside those ages. A screening aid: compare it with the anno di corso
/// ANIST reports.
pub fn expected_class(birth: NaiveDate, year: SchoolYear) -> Option<(SchoolCycle, u8)> {
    let offset = i32::from(year.start_year()) - birth.year();
    let (cycle, class) = match offset {
        3..=5 => (SchoolCycle::Infanzia, offset - 2),
        6..=10 => (SchoolCycle::Primaria, offset - 5),
        11..=13 => (SchoolCycle::SecondariaPrimoGrado, offset - 10),
        14..=18 => (SchoolCycle::SecondariaSecondoGrado, offset - 13),
        _ => return None,
    };
    Some((cycle, class as u8))
}
