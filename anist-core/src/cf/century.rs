//! Century policies: a codice fiscale carries only two digits of the year.

use chrono::{Datelike, NaiveDate};

/// Chooses the four-digit birth year for a two-digit year and the birth
/// month and day (1-based). `None` means "cannot tell".
pub trait CenturyPolicy {
    /// The four-digit year for `yy` (0-99), `month` (1-12) and `day` (1-31).
    fn year(&self, yy: u8, month: u8, day: u8) -> Option<i32>;
}

/// The default policy: the most recent century that does not put the birth
/// after the reference date (usually today, passed in by the caller).
///
/// ```
/// use anist_core::cf::{CenturyPolicy, MostRecentNotFuture};
/// use chrono::NaiveDate;
/// let p = MostRecentNotFuture::new(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
/// assert_eq!(p.year(20, 3, 1), Some(2020)); // a school child, not 1920
/// assert_eq!(p.year(26, 12, 1), Some(1926)); // 2026-12-01 would be in the future
/// assert_eq!(p.year(26, 11, 23), Some(2026)); // born today
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MostRecentNotFuture {
    reference: NaiveDate,
    // Pre-computed from `reference`: this runs once per code in bulk checks.
    year: i32,
    century: i32,
    month_day: (u8, u8),
}

impl MostRecentNotFuture {
    /// A policy relative to `reference`.
    pub fn new(reference: NaiveDate) -> Self {
        Self {
            reference,
            year: reference.year(),
            century: reference.year().div_euclid(100) * 100,
            month_day: (reference.month() as u8, reference.day() as u8),
        }
    }

    /// The reference date.
    pub fn reference(&self) -> NaiveDate {
        self.reference
    }
}

impl CenturyPolicy for MostRecentNotFuture {
    #[inline]
    fn year(&self, yy: u8, month: u8, day: u8) -> Option<i32> {
        let candidate = self.century + i32::from(yy);
        let later = (month, day) > self.month_day;
        if candidate > self.year || (candidate == self.year && later) {
            Some(candidate - 100)
        } else {
            Some(candidate)
        }
    }
}

/// A fixed pivot: two-digit years up to `pivot` are 20yy, later ones 19yy.
/// Useful for reproducible batch runs that must not depend on today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedPivot {
    /// The last two-digit year read as 20yy.
    pub pivot: u8,
}

impl CenturyPolicy for FixedPivot {
    fn year(&self, yy: u8, _month: u8, _day: u8) -> Option<i32> {
        Some(if yy <= self.pivot { 2000 } else { 1900 } + i32::from(yy))
    }
}
