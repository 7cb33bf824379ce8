//! Dates as Italian administrations write them.

use chrono::{Datelike, NaiveDate};

use super::DateError;

/// Parses a date in one of the forms found in Italian PA files:
///
/// - day first: `dd/mm/yyyy` and `d/m/yyyy` (Italian Excel), also with `-` or
///   `.` as separator (`01-02-2020`, `1.2.2020`);
/// - year first: `yyyy-mm-dd` (ISO, machine exports), also with `/` or `.`
///   and one-digit month or day;
/// - either, followed by a time of day (`T` or a blank, then `hh:mm`,
///   `hh:mm:ss` or `hh:mm:ss.fff`) as database exports write midnight
///   timestamps: the time is checked for shape and ignored.
///
/// Surrounding blanks are ignored. The year has four digits; two-digit years
/// (`01/02/80`) are ambiguous and rejected. Both separators must be the same.
///
/// Errors: [`DateError::Format`] (`csv_date`) for anything else, empty input
/// included; [`DateError::Nonexistent`] (`csv_date_nonexistent`) for a
/// well-formed day that does not exist (`31/02/2020`, `00/01/2020`).
///
/// ```
/// use anist_core::csvio::parse_date_it;
/// use anist_core::ErrorCode;
/// use chrono::NaiveDate;
/// let d = NaiveDate::from_ymd_opt(2020, 2, 1).unwrap();
/// assert_eq!(parse_date_it("01/02/2020"), Ok(d));
/// assert_eq!(parse_date_it("1/2/2020"), Ok(d));
/// assert_eq!(parse_date_it("2020-02-01"), Ok(d));
/// assert_eq!(parse_date_it("2020-02-01 00:00:00"), Ok(d));
/// assert_eq!(parse_date_it("31/02/2020").unwrap_err().code(), "csv_date_nonexistent");
/// assert_eq!(parse_date_it("01/02/20").unwrap_err().code(), "csv_date");
/// ```
pub fn parse_date_it(input: &str) -> Result<NaiveDate, DateError> {
    let s = input.trim().as_bytes();
    let (a, la, rest) = number(s);
    let (&sep, rest) = rest.split_first().ok_or(DateError::Format)?;
    if !matches!(sep, b'/' | b'-' | b'.') {
        return Err(DateError::Format);
    }
    let (b, lb, rest) = number(rest);
    let rest = rest.strip_prefix(&[sep]).ok_or(DateError::Format)?;
    let (c, lc, rest) = number(rest);
    if !time_ok(rest) {
        return Err(DateError::Format);
    }
    let (year, month, day) = match (la, lb, lc) {
        (1..=2, 1..=2, 4) => (c, b, a),
        (4, 1..=2, 1..=2) => (a, b, c),
        _ => return Err(DateError::Format),
    };
    let year = i32::try_from(year).map_err(|_| DateError::Format)?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or(DateError::Nonexistent)
}

/// Leading ASCII digits (at most 5 are read): value, count, rest.
fn number(s: &[u8]) -> (u32, usize, &[u8]) {
    let n = s.iter().take(5).take_while(|b| b.is_ascii_digit()).count();
    let value = s[..n]
        .iter()
        .fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'));
    (value, n, &s[n..])
}

/// Nothing, or a time of day `[T ]hh:mm[:ss[.f+]]` (checked for shape only).
fn time_ok(rest: &[u8]) -> bool {
    let Some((&first, rest)) = rest.split_first() else {
        return true;
    };
    if first != b'T' && first != b' ' {
        return false;
    }
    let rest = rest.trim_ascii_start();
    let two = |s: &[u8], max: u32| -> Option<usize> {
        let (v, n, _) = number(s);
        (n == 2 && v <= max).then_some(2)
    };
    let (hour, hh, rest) = number(rest);
    if !(1..=2).contains(&hh) || hour > 23 {
        return false;
    }
    let Some(rest) = rest.strip_prefix(b":") else {
        return false;
    };
    let Some(n) = two(rest, 59) else {
        return false;
    };
    let rest = &rest[n..];
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix(b":") else {
        return false;
    };
    let Some(n) = two(rest, 60) else {
        return false;
    };
    match &rest[n..] {
        [] => true,
        [b'.', frac @ ..] => !frac.is_empty() && frac.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// Formats a date as `dd/mm/yyyy` (Italian Excel). Years outside 0..=9999
/// are written as chrono writes them, with a sign.
///
/// ```
/// use anist_core::csvio::format_date_it;
/// use chrono::NaiveDate;
/// assert_eq!(format_date_it(NaiveDate::from_ymd_opt(2008, 4, 5).unwrap()), "05/04/2008");
/// ```
pub fn format_date_it(date: NaiveDate) -> String {
    let y = date.year();
    if (0..=9999).contains(&y) {
        format!("{:02}/{:02}/{:04}", date.day(), date.month(), y)
    } else {
        format!("{:02}/{:02}/{:+}", date.day(), date.month(), y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn accepted_forms() {
        for s in [
            "05/04/2008",
            "5/4/2008",
            "05/4/2008",
            "5/04/2008",
            " 05/04/2008 ",
            "05-04-2008",
            "05.04.2008",
            "2008-04-05",
            "2008-4-5",
            "2008/04/05",
            "2008.04.05",
            "2008-04-05T00:00:00",
            "2008-04-05 00:00",
            "05/04/2008 00:00:00",
            "2008-04-05T13:45:10.123",
        ] {
            assert_eq!(parse_date_it(s), Ok(d(2008, 4, 5)), "{s:?}");
        }
    }

    #[test]
    fn rejected_forms() {
        for s in [
            "",
            "   ",
            "05/04/08",
            "05/04/200",
            "05/04/20080",
            "005/04/2008",
            "05/04-2008",
            "05 04 2008",
            "5 aprile 2008",
            "2008-04-05Z",
            "2008-04-05T25:00",
            "2008-04-05T00",
            "2008-04-05 00:00:",
            "2008-04-05 00:00:00.",
            "05/04/2008x",
            "+5/04/2008",
            "٠٥/٠٤/٢٠٠٨",
        ] {
            assert_eq!(parse_date_it(s), Err(DateError::Format), "{s:?}");
        }
    }

    #[test]
    fn nonexistent_days() {
        for s in [
            "31/02/2020",
            "29/02/2019",
            "00/01/2020",
            "01/00/2020",
            "01/13/2020",
            "2020-02-30",
        ] {
            assert_eq!(parse_date_it(s), Err(DateError::Nonexistent), "{s:?}");
        }
        assert_eq!(parse_date_it("29/02/2020"), Ok(d(2020, 2, 29)));
    }

    #[test]
    fn format() {
        assert_eq!(format_date_it(d(2008, 4, 5)), "05/04/2008");
        assert_eq!(format_date_it(d(998, 12, 31)), "31/12/0998");
        assert_eq!(
            parse_date_it(&format_date_it(d(998, 12, 31))),
            Ok(d(998, 12, 31))
        );
    }
}
