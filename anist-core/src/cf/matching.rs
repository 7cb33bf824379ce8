//! Comparing a codice fiscale with what is known about a person.

use chrono::{Datelike, NaiveDate};

use super::encode::{encode_name_part, encode_surname_part};
use super::{BelfioreCode, CodiceFiscale, Sex};
use crate::place;

/// The outcome of comparing one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldMatch {
    /// The code agrees with the value given.
    Matched,
    /// The code disagrees with the value given.
    Mismatched,
    /// No value was given, or it could not be compared (e.g. a place name that
    /// is ambiguous or unknown).
    Unknown,
}

impl FieldMatch {
    /// `"matched"`, `"mismatched"` or `"unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldMatch::Matched => "matched",
            FieldMatch::Mismatched => "mismatched",
            FieldMatch::Unknown => "unknown",
        }
    }

    fn from_bool(ok: bool) -> Self {
        if ok {
            FieldMatch::Matched
        } else {
            FieldMatch::Mismatched
        }
    }
}

/// What is known about the person; leave a field `None` when it is not.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct MatchQuery<'a> {
    /// Surname.
    pub surname: Option<&'a str>,
    /// Given name.
    pub name: Option<&'a str>,
    /// Date of birth (compared on the two-digit year, month and day).
    pub birth_date: Option<NaiveDate>,
    /// Sex.
    pub sex: Option<Sex>,
    /// Place of birth: a Belfiore code (`H501`) or a name (`Roma`,
    /// `Calliano (AT)`), resolved at the birth date when one is given.
    pub place: Option<&'a str>,
}

/// Masked: says only which fields are present.
impl std::fmt::Debug for MatchQuery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchQuery")
            .field("surname", &self.surname.is_some())
            .field("name", &self.name.is_some())
            .field("birth_date", &self.birth_date.is_some())
            .field("sex", &self.sex)
            .field("place", &self.place.is_some())
            .finish()
    }
}

/// Field-by-field result of [`CodiceFiscale::matches`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MatchReport {
    /// Positions 1-3 against the surname.
    pub surname: FieldMatch,
    /// Positions 4-6 against the name.
    pub name: FieldMatch,
    /// Positions 7-11 (year, month, day) against the birth date.
    pub birth_date: FieldMatch,
    /// Positions 10-11 against the sex.
    pub sex: FieldMatch,
    /// Positions 12-15 against the place.
    pub place: FieldMatch,
}

impl MatchReport {
    /// No field mismatched (unknown fields are allowed).
    pub fn no_mismatch(&self) -> bool {
        self.fields()
            .iter()
            .all(|(_, m)| *m != FieldMatch::Mismatched)
    }

    /// Every field was given and matched.
    pub fn all_matched(&self) -> bool {
        self.fields().iter().all(|(_, m)| *m == FieldMatch::Matched)
    }

    /// The fields with their names, in code order.
    pub fn fields(&self) -> [(&'static str, FieldMatch); 5] {
        [
            ("surname", self.surname),
            ("name", self.name),
            ("birth_date", self.birth_date),
            ("sex", self.sex),
            ("place", self.place),
        ]
    }
}

fn compare_opt<T>(value: Option<T>, f: impl FnOnce(T) -> FieldMatch) -> FieldMatch {
    value.map_or(FieldMatch::Unknown, f)
}

pub(super) fn compare(cf: &CodiceFiscale, q: &MatchQuery<'_>) -> MatchReport {
    let b = cf.as_bytes();
    let surname = compare_opt(q.surname, |s| match encode_surname_part(s) {
        Some(p) => FieldMatch::from_bool(p == b[..3]),
        None => FieldMatch::Unknown,
    });
    let name = compare_opt(q.name, |s| match encode_name_part(s) {
        Some(p) => FieldMatch::from_bool(p == b[3..6]),
        None => FieldMatch::Unknown,
    });
    let birth_date = compare_opt(q.birth_date, |d| {
        FieldMatch::from_bool(
            (d.year().rem_euclid(100)) as u8 == cf.birth_year_2digit()
                && d.month() as u8 == cf.birth_month()
                && d.day() as u8 == cf.birth_day(),
        )
    });
    let sex = compare_opt(q.sex, |s| FieldMatch::from_bool(s == cf.sex()));
    let place = compare_opt(q.place, |p| {
        let code = cf.belfiore_code();
        if let Some(given) = BelfioreCode::parse(p) {
            return FieldMatch::from_bool(given == code);
        }
        match place::find_by_name(p, q.birth_date) {
            Ok(era) => FieldMatch::from_bool(era.code() == code.as_str()),
            Err(_) => FieldMatch::Unknown,
        }
    });
    MatchReport {
        surname,
        name,
        birth_date,
        sex,
        place,
    }
}
