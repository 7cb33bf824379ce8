//! Average attendance ("media dei frequentanti") from the raw counts of the
//! attendance registers.
//!
//! The notice does not say how the average is computed. The default,
//! [`AveragingMethod::Monthly`], is the project's documented assumption
//! (reference/domain.md, Unknown 12): for each calendar month of the
//! period, the number of children enrolled who attended at least one day;
//! the average over the months the service was open (the months with a
//! count; a month with no row is a month the service was closed, e.g.
//! August), rounded half-up to an integer. [`AveragingMethod::Daily`] is the
//! alternative: the mean of the children present on each open day. The raw
//! counts are kept with the form, so the method can be changed and the
//! average recomputed.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::survey::AttendancePeriod;
use super::InfanziaError;

/// The unit a raw count is for: a calendar month or a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CountUnit {
    /// A calendar month: children enrolled who attended at least one day.
    Month {
        /// Year.
        year: i32,
        /// Month, 1–12.
        month: u32,
    },
    /// A day: children present.
    Day(NaiveDate),
}

impl CountUnit {
    /// A month, if `month` is 1–12.
    pub fn month(year: i32, month: u32) -> Option<Self> {
        (1..=12)
            .contains(&month)
            .then_some(CountUnit::Month { year, month })
    }

    /// Reads `mm/yyyy`, `m/yyyy`, `yyyy-mm` (a month) or any date
    /// [`parse_date_it`](crate::csvio::parse_date_it) accepts (a day).
    ///
    /// # Errors
    ///
    /// [`InfanziaError::CountUnit`].
    pub fn parse(input: &str) -> Result<Self, InfanziaError> {
        let s = input.trim();
        let bad = || InfanziaError::CountUnit {
            found: s.chars().take(20).collect(),
        };
        let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
        if parts.len() == 2
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            let (y, m) = if parts[0].len() == 4 {
                (parts[0], parts[1])
            } else {
                (parts[1], parts[0])
            };
            if y.len() != 4 || m.len() > 2 {
                return Err(bad());
            }
            let year: i32 = y.parse().map_err(|_| bad())?;
            let month: u32 = m.parse().map_err(|_| bad())?;
            return CountUnit::month(year, month).ok_or_else(bad);
        }
        crate::csvio::parse_date_it(s)
            .map(CountUnit::Day)
            .map_err(|_| bad())
    }

    /// Whether the unit falls in `period` (a month when any of its days
    /// does).
    pub fn in_period(&self, period: &AttendancePeriod) -> bool {
        match *self {
            CountUnit::Day(d) => period.contains(d),
            CountUnit::Month { year, month } => {
                let key = year * 12 + month as i32;
                let k = |d: NaiveDate| d.year() * 12 + d.month() as i32;
                k(period.start) <= key && key <= k(period.end)
            }
        }
    }
}

impl fmt::Display for CountUnit {
    /// `mm/yyyy` or `dd/mm/yyyy`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CountUnit::Month { year, month } => write!(f, "{month:02}/{year:04}"),
            CountUnit::Day(d) => f.write_str(&crate::csvio::format_date_it(*d)),
        }
    }
}

impl Serialize for CountUnit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            CountUnit::Month { year, month } => s.serialize_str(&format!("{year:04}-{month:02}")),
            CountUnit::Day(d) => s.serialize_str(&d.format("%Y-%m-%d").to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for CountUnit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CountUnit::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One raw count of an attendance register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceCount {
    /// The month or day.
    pub unit: CountUnit,
    /// The number of children (attending in the month, or present that
    /// day).
    pub children: u32,
}

/// How the average is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AveragingMethod {
    /// The default (domain.md Unknown 12): the monthly counts in the period,
    /// averaged over the months with a count, rounded half-up.
    #[default]
    Monthly,
    /// The daily counts in the period, averaged over the days with a count
    /// (the days the service was open), rounded half-up.
    Daily,
}

impl AveragingMethod {
    /// `monthly` or `daily`.
    pub fn code(self) -> &'static str {
        match self {
            AveragingMethod::Monthly => "monthly",
            AveragingMethod::Daily => "daily",
        }
    }

    /// Reads `monthly` / `mensile` or `daily` / `giornaliera`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "monthly" | "mensile" | "mese" => Some(AveragingMethod::Monthly),
            "daily" | "giornaliera" | "giornaliero" | "giorno" => Some(AveragingMethod::Daily),
            _ => None,
        }
    }

    fn takes(self, unit: &CountUnit) -> bool {
        matches!(
            (self, unit),
            (AveragingMethod::Monthly, CountUnit::Month { .. })
                | (AveragingMethod::Daily, CountUnit::Day(_))
        )
    }
}

/// A computed average, with what it was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AverageAttendance {
    /// The method.
    pub method: AveragingMethod,
    /// The period.
    pub period: AttendancePeriod,
    /// How many months (or days) had a count in the period.
    pub units: u32,
    /// The sum of those counts.
    pub total: u64,
    /// The average, rounded half-up to an integer: the figure on the form.
    pub average: u64,
    /// The average in hundredths, rounded half-up (for the summary: 12,35).
    pub average_hundredths: u64,
    /// Counts of the method's unit left out because they fall outside the
    /// period.
    pub outside_period: u32,
}

/// `num / den` rounded half-up (`den` > 0).
fn div_half_up(num: u64, den: u64) -> u64 {
    (num.saturating_mul(2).saturating_add(den)) / den.saturating_mul(2)
}

/// The average of `counts` over `period` by `method`; `None` when no count
/// of the method's unit falls in the period. When a unit has several
/// counts, the last one wins (a re-imported register replaces).
pub fn average_attendance(
    period: &AttendancePeriod,
    counts: &[AttendanceCount],
    method: AveragingMethod,
) -> Option<AverageAttendance> {
    let mut by_unit: BTreeMap<CountUnit, u32> = BTreeMap::new();
    let mut outside = BTreeMap::new();
    for c in counts.iter().filter(|c| method.takes(&c.unit)) {
        if c.unit.in_period(period) {
            by_unit.insert(c.unit, c.children);
        } else {
            outside.insert(c.unit, ());
        }
    }
    if by_unit.is_empty() {
        return None;
    }
    let units = by_unit.len() as u64;
    let total: u64 = by_unit.values().map(|&n| u64::from(n)).sum();
    Some(AverageAttendance {
        method,
        period: *period,
        units: u32::try_from(units).unwrap_or(u32::MAX),
        total,
        average: div_half_up(total, units),
        average_hundredths: div_half_up(total.saturating_mul(100), units),
        outside_period: u32::try_from(outside.len()).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infanzia::PeriodRule;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn reference() -> AttendancePeriod {
        AttendancePeriod {
            start: d(2025, 3, 3),
            end: d(2026, 2, 27),
            rule: PeriodRule::Reference,
        }
    }

    fn month(y: i32, m: u32, n: u32) -> AttendanceCount {
        AttendanceCount {
            unit: CountUnit::month(y, m).unwrap(),
            children: n,
        }
    }

    #[test]
    fn monthly_average_rounds_half_up_and_skips_closed_months() {
        // March 2025 – February 2026 without August (closed): 11 months.
        let mut counts: Vec<_> = (3..=12)
            .filter(|&m| m != 8)
            .map(|m| month(2025, m, 20))
            .collect();
        counts.push(month(2026, 1, 21));
        counts.push(month(2026, 2, 23));
        // Outside the period: ignored, counted.
        counts.push(month(2025, 2, 99));
        counts.push(month(2026, 3, 99));
        let a = average_attendance(&reference(), &counts, AveragingMethod::Monthly).unwrap();
        assert_eq!(a.units, 11);
        assert_eq!(a.total, 9 * 20 + 21 + 23);
        // 224 / 11 = 20.36…
        assert_eq!(a.average, 20);
        assert_eq!(a.average_hundredths, 2036);
        assert_eq!(a.outside_period, 2);
        // Daily method: no daily counts.
        assert!(average_attendance(&reference(), &counts, AveragingMethod::Daily).is_none());
    }

    #[test]
    fn half_up_at_exactly_half() {
        let counts = [month(2025, 3, 10), month(2025, 4, 11)];
        let a = average_attendance(&reference(), &counts, AveragingMethod::Monthly).unwrap();
        assert_eq!(a.average, 11);
        assert_eq!(a.average_hundredths, 1050);
    }

    #[test]
    fn later_count_replaces() {
        let counts = [month(2025, 3, 10), month(2025, 3, 14)];
        let a = average_attendance(&reference(), &counts, AveragingMethod::Monthly).unwrap();
        assert_eq!((a.units, a.total), (1, 14));
    }

    #[test]
    fn daily_average_over_open_days() {
        let counts = [
            AttendanceCount {
                unit: CountUnit::Day(d(2025, 3, 3)),
                children: 10,
            },
            AttendanceCount {
                unit: CountUnit::Day(d(2025, 3, 4)),
                children: 13,
            },
            AttendanceCount {
                unit: CountUnit::Day(d(2025, 3, 2)),
                children: 40,
            },
            month(2025, 3, 99),
        ];
        let a = average_attendance(&reference(), &counts, AveragingMethod::Daily).unwrap();
        assert_eq!(
            (a.units, a.total, a.average, a.average_hundredths),
            (2, 23, 12, 1150)
        );
        assert_eq!(a.outside_period, 1);
    }

    #[test]
    fn unit_parsing() {
        assert_eq!(
            CountUnit::parse("03/2025").unwrap(),
            CountUnit::month(2025, 3).unwrap()
        );
        assert_eq!(
            CountUnit::parse("3/2025").unwrap(),
            CountUnit::month(2025, 3).unwrap()
        );
        assert_eq!(
            CountUnit::parse("2025-03").unwrap(),
            CountUnit::month(2025, 3).unwrap()
        );
        assert_eq!(
            CountUnit::parse("04/03/2025").unwrap(),
            CountUnit::Day(d(2025, 3, 4))
        );
        assert_eq!(
            CountUnit::parse("2025-03-04").unwrap(),
            CountUnit::Day(d(2025, 3, 4))
        );
        for bad in [
            "",
            "13/2025",
            "00/2025",
            "marzo",
            "2025",
            "3/25",
            "31/02/2025",
        ] {
            assert!(CountUnit::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn average_is_between_min_and_max(ns in proptest::collection::vec(0u32..500, 1..12)) {
            let counts: Vec<_> = ns.iter().enumerate().map(|(i, &n)| {
                let m = 3 + i as u32;
                if m <= 12 { month(2025, m, n) } else { month(2026, m - 12, n) }
            }).collect();
            let a = average_attendance(&reference(), &counts, AveragingMethod::Monthly).unwrap();
            let min = u64::from(*ns.iter().min().unwrap());
            let max = u64::from(*ns.iter().max().unwrap());
            prop_assert!(min <= a.average && a.average <= max);
            prop_assert_eq!(a.units as usize, ns.len());
            // Rounding agrees with f64 within the half-up rule.
            let exact = a.total as f64 / f64::from(a.units);
            prop_assert!((a.average as f64 - exact).abs() <= 0.5);
            prop_assert!((a.average_hundredths as f64 / 100.0 - exact).abs() <= 0.005 + 1e-9);
        }

        #[test]
        fn unit_round_trips(y in 2000i32..2100, m in 1u32..=12, day in 1u32..=28) {
            let mu = CountUnit::month(y, m).unwrap();
            prop_assert_eq!(CountUnit::parse(&mu.to_string()).unwrap(), mu);
            let du = CountUnit::Day(d(y, m, day));
            prop_assert_eq!(CountUnit::parse(&du.to_string()).unwrap(), du);
        }

        #[test]
        fn unit_parse_never_panics(s in "\\PC{0,16}") {
            let _ = CountUnit::parse(&s);
        }
    }
}
