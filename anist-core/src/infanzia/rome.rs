//! Europe/Rome civil time without a time-zone database.
//!
//! Italy follows the EU summer-time rule (Directive 2000/84/EC): CET
//! (UTC+1) all year, CEST (UTC+2) from the last Sunday of March at 01:00 UTC
//! to the last Sunday of October at 01:00 UTC. The rule has been the same
//! since 1996 and is all the survey windows need; dates before 1996 follow it
//! too (they are never a survey window). The one function below is the whole
//! rule, so that a change of law is a change here.
//!
//! ```
//! use anist_core::infanzia::{rome_offset_hours, rome_to_utc};
//! use chrono::{NaiveDate, TimeZone, Utc};
//!
//! // 27 April 2026 is summer time: 12:00 in Rome is 10:00 UTC.
//! let noon = NaiveDate::from_ymd_opt(2026, 4, 27).unwrap().and_hms_opt(12, 0, 0).unwrap();
//! assert_eq!(rome_to_utc(noon), Utc.with_ymd_and_hms(2026, 4, 27, 10, 0, 0).unwrap());
//! // 15 January is winter time: UTC+1.
//! assert_eq!(rome_offset_hours(Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()), 1);
//! ```

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};

/// The last Sunday of `month` (3 or 10) in `year`.
fn last_sunday(year: i32, month: u32) -> NaiveDate {
    // The 31st exists in March and October; step back to a Sunday.
    let mut d = NaiveDate::from_ymd_opt(year, month, 31).unwrap_or(NaiveDate::MIN);
    while d.weekday() != Weekday::Sun {
        d = d.pred_opt().unwrap_or(NaiveDate::MIN);
    }
    d
}

/// The UTC instants summer time starts and ends in `year` (both at 01:00
/// UTC on the last Sunday of March and of October).
pub fn rome_dst_bounds(year: i32) -> (DateTime<Utc>, DateTime<Utc>) {
    let at_one = |d: NaiveDate| {
        Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)) + Duration::hours(1)
    };
    (at_one(last_sunday(year, 3)), at_one(last_sunday(year, 10)))
}

/// The offset of Rome's civil time from UTC at `instant`, in hours: 2 in
/// summer time (CEST), 1 otherwise (CET).
pub fn rome_offset_hours(instant: DateTime<Utc>) -> i64 {
    let (start, end) = rome_dst_bounds(instant.year());
    if instant >= start && instant < end {
        2
    } else {
        1
    }
}

/// Rome's wall-clock time at `instant`.
pub fn utc_to_rome(instant: DateTime<Utc>) -> NaiveDateTime {
    instant.naive_utc() + Duration::hours(rome_offset_hours(instant))
}

/// The UTC instant of a Rome wall-clock time.
///
/// A time that does not exist (02:00–02:59 on the day summer time starts)
/// is read as winter time, i.e. it lands one hour later on the clock; a time
/// that happens twice (02:00–02:59 on the day it ends) is the first of the
/// two (summer time).
pub fn rome_to_utc(local: NaiveDateTime) -> DateTime<Utc> {
    // Summer time first: right when the instant it gives is in summer time.
    let summer = Utc.from_utc_datetime(&(local - Duration::hours(2)));
    if rome_offset_hours(summer) == 2 {
        return summer;
    }
    Utc.from_utc_datetime(&(local - Duration::hours(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap()
    }

    fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn dst_bounds_known_years() {
        // Published dates of the change (EU): 2025: 30 Mar / 26 Oct; 2026:
        // 29 Mar / 25 Oct; 2027: 28 Mar / 31 Oct.
        assert_eq!(
            rome_dst_bounds(2025),
            (utc(2025, 3, 30, 1, 0), utc(2025, 10, 26, 1, 0))
        );
        assert_eq!(
            rome_dst_bounds(2026),
            (utc(2026, 3, 29, 1, 0), utc(2026, 10, 25, 1, 0))
        );
        assert_eq!(
            rome_dst_bounds(2027),
            (utc(2027, 3, 28, 1, 0), utc(2027, 10, 31, 1, 0))
        );
    }

    #[test]
    fn offsets_around_the_changes() {
        assert_eq!(rome_offset_hours(utc(2026, 3, 29, 0, 59)), 1);
        assert_eq!(rome_offset_hours(utc(2026, 3, 29, 1, 0)), 2);
        assert_eq!(rome_offset_hours(utc(2026, 10, 25, 0, 59)), 2);
        assert_eq!(rome_offset_hours(utc(2026, 10, 25, 1, 0)), 1);
        assert_eq!(
            utc_to_rome(utc(2026, 3, 29, 1, 0)),
            local(2026, 3, 29, 3, 0)
        );
        assert_eq!(
            utc_to_rome(utc(2026, 5, 18, 10, 0)),
            local(2026, 5, 18, 12, 0)
        );
        assert_eq!(
            utc_to_rome(utc(2026, 12, 1, 11, 0)),
            local(2026, 12, 1, 12, 0)
        );
    }

    #[test]
    fn local_to_utc_gap_and_overlap() {
        assert_eq!(
            rome_to_utc(local(2026, 4, 27, 12, 0)),
            utc(2026, 4, 27, 10, 0)
        );
        assert_eq!(
            rome_to_utc(local(2026, 5, 18, 11, 59)),
            utc(2026, 5, 18, 9, 59)
        );
        assert_eq!(
            rome_to_utc(local(2026, 1, 10, 12, 0)),
            utc(2026, 1, 10, 11, 0)
        );
        // 02:30 does not exist on 29 March 2026: read as winter time.
        assert_eq!(
            rome_to_utc(local(2026, 3, 29, 2, 30)),
            utc(2026, 3, 29, 1, 30)
        );
        // 02:30 happens twice on 25 October 2026: the first one (CEST).
        assert_eq!(
            rome_to_utc(local(2026, 10, 25, 2, 30)),
            utc(2026, 10, 25, 0, 30)
        );
    }

    proptest! {
        #[test]
        fn round_trip_from_utc(secs in 946_684_800i64..4_102_444_800i64) {
            let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            let l = utc_to_rome(t);
            let off = rome_offset_hours(t);
            prop_assert!(off == 1 || off == 2);
            // Every local time read back gives the instant, except the
            // second pass of the repeated hour in October.
            let back = rome_to_utc(l);
            prop_assert!(back == t || back == t - Duration::hours(1));
            prop_assert_eq!(utc_to_rome(back), l);
        }
    }
}
