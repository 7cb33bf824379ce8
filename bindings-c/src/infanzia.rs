//! The Piemonte 0–3 survey for C: the attendance period of a service, the
//! average of raw counts, the submission window, and — on a form saved as
//! JSON by the CLI or Python — the check (every problem) and the computed
//! CSV.

use std::ffi::c_char;

use anist_client::infanzia::{form_from_json, write_form_csv};
use anist_core::infanzia::{
    average_attendance, AttendanceCount, AttendancePeriod, AveragingMethod, CountUnit, PeriodRule,
    Service, ServiceType, SurveyConfig, WindowStatus,
};
use chrono::{DateTime, NaiveDate};

use crate::error::{guard, Failure};
use crate::ids::parse_date;
use crate::strings::{arg_str, c_string, fixed, opt_str, out_ptr, write_out};

/// `rule`: the whole reference period (authorised and active on or before
/// its first day).
pub const ANIST_INFANZIA_RULE_REFERENCE: i32 = 1;
/// `rule`: from the authorisation (authorised and active during the
/// reference period) to its last day.
pub const ANIST_INFANZIA_RULE_FROM_AUTHORISATION: i32 = 2;
/// `rule`: from the activation (between the reference period's end and the
/// survey start) to the survey start.
pub const ANIST_INFANZIA_RULE_FROM_ACTIVATION: i32 = 3;

/// `method`: monthly counts (children attending at least one day in the
/// month), averaged over the months with a count (the default).
pub const ANIST_INFANZIA_METHOD_MONTHLY: i32 = 0;
/// `method`: daily counts (children present), averaged over the days with
/// a count.
pub const ANIST_INFANZIA_METHOD_DAILY: i32 = 1;

/// Window status: not yet open.
pub const ANIST_INFANZIA_WINDOW_NOT_YET_OPEN: i32 = 0;
/// Window status: open (the form may be sent).
pub const ANIST_INFANZIA_WINDOW_OPEN: i32 = 1;
/// Window status: closed.
pub const ANIST_INFANZIA_WINDOW_CLOSED: i32 = 2;

/// The days a service's average is taken over.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AnistInfanziaPeriod {
    /// First day, `YYYY-MM-DD`, NUL-terminated.
    pub start: [c_char; 11],
    /// Last day, `YYYY-MM-DD`, NUL-terminated.
    pub end: [c_char; 11],
    /// One of the `ANIST_INFANZIA_RULE_*` values.
    pub rule: i32,
}

/// One raw count of an attendance register.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct AnistInfanziaCount {
    /// Year.
    pub year: i32,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month, or 0 for a count of the whole month.
    pub day: u32,
    /// Children (attending in the month, or present that day).
    pub children: u32,
}

/// An average attendance.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct AnistInfanziaAverage {
    /// The average rounded half-up: the figure on the form.
    pub average: u64,
    /// The average in hundredths, rounded half-up (1235 is 12,35).
    pub average_hundredths: u64,
    /// Months (or days) with a count in the period.
    pub units: u32,
    /// Counts of the method's unit outside the period (left out).
    pub outside_period: u32,
    /// The sum of the counts used.
    pub total: u64,
}

fn survey(year: i32) -> Result<SurveyConfig, Failure> {
    SurveyConfig::for_year(year).ok_or_else(|| {
        Failure::of(&anist_core::infanzia::InfanziaError::Config {
            detail: format!("no built-in survey dates for {year} (2026 is built in)"),
        })
    })
}

fn iso(d: NaiveDate) -> [c_char; 11] {
    fixed(&d.format("%Y-%m-%d").to_string())
}

/// The attendance period of a service of the `year` survey (2026):
/// `authorised` and `activation` (NULL: same as `authorised`) are
/// `YYYY-MM-DD`. Fails with code `infanzia_not_active` (status
/// `ANIST_ERR_INFANZIA`) for a service that started after the survey start.
#[no_mangle]
pub extern "C" fn anist_infanzia_period(
    year: i32,
    authorised: *const c_char,
    activation: *const c_char,
    out: *mut AnistInfanziaPeriod,
) -> i32 {
    guard(|| {
        out_ptr(out, "out")?;
        let config = survey(year)?;
        let auth = parse_date(arg_str(authorised, "authorised")?, "authorised")?;
        let act = opt_str(activation, "activation")?
            .map(|s| parse_date(s, "activation"))
            .transpose()?;
        let service = Service {
            id: String::from("-"),
            kind: ServiceType::AsiloNido,
            name: String::new(),
            address: String::new(),
            manager: String::new(),
            capacity: 0,
            authorisation: anist_core::infanzia::act("-", auth),
            first_authorisation: None,
            activation: act,
            added_by_comune: false,
        };
        let p = config
            .attendance_period(&service)
            .map_err(|e| Failure::of(&e))?;
        write_out(
            out,
            AnistInfanziaPeriod {
                start: iso(p.start),
                end: iso(p.end),
                rule: match p.rule {
                    PeriodRule::Reference => ANIST_INFANZIA_RULE_REFERENCE,
                    PeriodRule::FromAuthorisation => ANIST_INFANZIA_RULE_FROM_AUTHORISATION,
                    PeriodRule::FromActivation => ANIST_INFANZIA_RULE_FROM_ACTIVATION,
                },
            },
        );
        Ok(())
    })
}

/// The `n` records at `counts` (NULL only when `n` is 0, checked by the
/// caller).
fn count_slice<'a>(counts: *const AnistInfanziaCount, n: usize) -> &'a [AnistInfanziaCount] {
    if n == 0 || counts.is_null() {
        return &[];
    }
    // SAFETY: the caller of the exported function promises `counts` points
    // to `n` readable records, valid during the call.
    unsafe { std::slice::from_raw_parts(counts, n) }
}

/// The average of `n` raw counts over the period `start`..=`end`
/// (`YYYY-MM-DD`) by `method` (`ANIST_INFANZIA_METHOD_*`). When a month or
/// day has several counts the last wins. No count of the method's unit in
/// the period fails with code `infanzia_no_counts`.
#[no_mangle]
pub extern "C" fn anist_infanzia_average(
    counts: *const AnistInfanziaCount,
    n: usize,
    start: *const c_char,
    end: *const c_char,
    method: i32,
    out: *mut AnistInfanziaAverage,
) -> i32 {
    guard(|| {
        out_ptr(out, "out")?;
        if counts.is_null() && n > 0 {
            return Err(Failure::null("counts"));
        }
        let method = match method {
            ANIST_INFANZIA_METHOD_MONTHLY => AveragingMethod::Monthly,
            ANIST_INFANZIA_METHOD_DAILY => AveragingMethod::Daily,
            _ => {
                return Err(Failure::invalid(
                    "method",
                    "use ANIST_INFANZIA_METHOD_MONTHLY or _DAILY",
                ))
            }
        };
        let period = AttendancePeriod {
            start: parse_date(arg_str(start, "start")?, "start")?,
            end: parse_date(arg_str(end, "end")?, "end")?,
            rule: PeriodRule::Reference,
        };
        let raw = count_slice(counts, n);
        let mut list = Vec::with_capacity(raw.len());
        for (i, c) in raw.iter().enumerate() {
            let unit = if c.day == 0 {
                CountUnit::month(c.year, c.month)
            } else {
                NaiveDate::from_ymd_opt(c.year, c.month, c.day).map(CountUnit::Day)
            }
            .ok_or_else(|| {
                Failure::invalid("counts", format!("record {i} is not a valid month or day"))
            })?;
            list.push(AttendanceCount {
                unit,
                children: c.children,
            });
        }
        let a = average_attendance(&period, &list, method).ok_or_else(|| {
            Failure::new(
                anist_core::ErrorKind::Infanzia,
                "infanzia_no_counts",
                "no count of the method's unit falls in the period: import the registers or declare the service",
            )
        })?;
        write_out(
            out,
            AnistInfanziaAverage {
                average: a.average,
                average_hundredths: a.average_hundredths,
                units: a.units,
                outside_period: a.outside_period,
                total: a.total,
            },
        );
        Ok(())
    })
}

/// Where `now_unix` (seconds since 1970, UTC) stands with respect to the
/// `year` survey's submission window (12:00 Europe/Rome on both edges):
/// writes one of the `ANIST_INFANZIA_WINDOW_*` values.
#[no_mangle]
pub extern "C" fn anist_infanzia_window(year: i32, now_unix: i64, out_status: *mut i32) -> i32 {
    guard(|| {
        out_ptr(out_status, "out_status")?;
        let config = survey(year)?;
        let now = DateTime::from_timestamp(now_unix, 0)
            .ok_or_else(|| Failure::invalid("now_unix", "out of range"))?;
        let status = match config.window_status(now) {
            WindowStatus::NotYetOpen { .. } => ANIST_INFANZIA_WINDOW_NOT_YET_OPEN,
            WindowStatus::Open { .. } => ANIST_INFANZIA_WINDOW_OPEN,
            WindowStatus::Closed { .. } => ANIST_INFANZIA_WINDOW_CLOSED,
        };
        write_out(out_status, status);
        Ok(())
    })
}

/// Checks a form given as JSON (what `anist infanzia export --json` writes,
/// or Python's `InfanziaForm.to_json()`): writes the number of problems
/// and, in `out_report` (free it with `anist_string_free`), one line per
/// problem, `code<TAB>service<TAB>message` (empty when none).
#[no_mangle]
pub extern "C" fn anist_infanzia_check(
    form_json: *const c_char,
    out_problems: *mut u32,
    out_report: *mut *mut c_char,
) -> i32 {
    guard(|| {
        out_ptr(out_problems, "out_problems")?;
        out_ptr(out_report, "out_report")?;
        let form = form_from_json(arg_str(form_json, "form_json")?).map_err(|e| Failure::of(&e))?;
        let problems = form.check();
        let report: String = problems
            .iter()
            .map(|p| {
                format!(
                    "{}\t{}\t{}\n",
                    p.code,
                    p.service.as_deref().unwrap_or(""),
                    p.message
                )
            })
            .collect();
        write_out(
            out_problems,
            u32::try_from(problems.len()).unwrap_or(u32::MAX),
        );
        write_out(out_report, c_string(&report));
        Ok(())
    })
}

/// Computes a form given as JSON (as for [`anist_infanzia_check`]) and
/// writes its CSV for Italian Excel (one row per service, with the
/// declaration or the average) into `out_csv` (free it with
/// `anist_string_free`).
#[no_mangle]
pub extern "C" fn anist_infanzia_compute_csv(
    form_json: *const c_char,
    out_csv: *mut *mut c_char,
) -> i32 {
    guard(|| {
        out_ptr(out_csv, "out_csv")?;
        let form = form_from_json(arg_str(form_json, "form_json")?).map_err(|e| Failure::of(&e))?;
        let bytes = write_form_csv(&form, Vec::new()).map_err(|e| Failure::of(&e))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Failure::invalid("form_json", "the CSV is not UTF-8"))?;
        write_out(out_csv, c_string(&text));
        Ok(())
    })
}
