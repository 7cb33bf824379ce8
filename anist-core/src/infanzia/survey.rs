//! The survey's dates, per year, as data; the submission window; the
//! attendance period of each service.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::rome::{rome_to_utc, utc_to_rome};
use super::serde_time;
use super::service::Service;
use super::InfanziaError;

/// The dates of one year's survey. Every date is inclusive; the window
/// times are Rome wall-clock times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyConfig {
    /// The survey year ("annualità"), e.g. 2026.
    pub year: i32,
    /// First day of the reference period of the averages (3 March 2025).
    #[serde(with = "serde_time::date")]
    pub reference_start: NaiveDate,
    /// Last day of the reference period (27 February 2026).
    #[serde(with = "serde_time::date")]
    pub reference_end: NaiveDate,
    /// The survey's start date (27 April 2026): the declarations are as of
    /// this day, and services that started operating after the reference
    /// period average up to it.
    #[serde(with = "serde_time::date")]
    pub survey_start: NaiveDate,
    /// When sending opens, Rome time (27 April 2026 12:00).
    #[serde(with = "serde_time::local")]
    pub window_opens: NaiveDateTime,
    /// When sending closes, Rome time (18 May 2026 12:00); from this minute
    /// on the form can no longer be sent.
    #[serde(with = "serde_time::local")]
    pub window_closes: NaiveDateTime,
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl SurveyConfig {
    /// The 2026 survey, from the Region's notice: reference period 3 March
    /// 2025 – 27 February 2026, survey start 27 April 2026, window 27 April
    /// 2026 12:00 → 18 May 2026 12:00 (Europe/Rome).
    pub fn piemonte_2026() -> Self {
        SurveyConfig {
            year: 2026,
            reference_start: ymd(2025, 3, 3),
            reference_end: ymd(2026, 2, 27),
            survey_start: ymd(2026, 4, 27),
            window_opens: ymd(2026, 4, 27).and_hms_opt(12, 0, 0).unwrap_or_default(),
            window_closes: ymd(2026, 5, 18).and_hms_opt(12, 0, 0).unwrap_or_default(),
        }
    }

    /// The built-in configuration of `year` (2026 only so far; other years
    /// are data: deserialize this type, e.g. from JSON with dates
    /// `YYYY-MM-DD` and window times `YYYY-MM-DDTHH:MM`, then
    /// [`validate`](Self::validate) it).
    pub fn for_year(year: i32) -> Option<Self> {
        (year == 2026).then(Self::piemonte_2026)
    }

    /// Checks that the dates are in order: reference start ≤ reference end
    /// < survey start, window opens < window closes.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::Config`].
    pub fn validate(&self) -> Result<(), InfanziaError> {
        let bad = |detail: &str| {
            Err(InfanziaError::Config {
                detail: detail.to_owned(),
            })
        };
        if self.reference_start > self.reference_end {
            return bad("reference_start is after reference_end");
        }
        if self.reference_end >= self.survey_start {
            return bad("reference_end is not before survey_start");
        }
        if self.window_opens >= self.window_closes {
            return bad("window_opens is not before window_closes");
        }
        Ok(())
    }

    /// The UTC instant the window opens.
    pub fn opens_utc(&self) -> DateTime<Utc> {
        rome_to_utc(self.window_opens)
    }

    /// The UTC instant the window closes.
    pub fn closes_utc(&self) -> DateTime<Utc> {
        rome_to_utc(self.window_closes)
    }

    /// Where `now` stands with respect to the submission window.
    pub fn window_status(&self, now: DateTime<Utc>) -> WindowStatus {
        if now < self.opens_utc() {
            WindowStatus::NotYetOpen {
                opens: self.window_opens,
            }
        } else if now >= self.closes_utc() {
            WindowStatus::Closed {
                closed: self.window_closes,
            }
        } else {
            WindowStatus::Open {
                closes: self.window_closes,
            }
        }
    }

    /// `Ok` when the form may be sent at `now`.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::WindowNotOpen`] (saying when it opens) or
    /// [`InfanziaError::WindowClosed`] (saying when it closed), with the
    /// Rome time of `now`.
    pub fn check_window(&self, now: DateTime<Utc>) -> Result<(), InfanziaError> {
        let now_rome = utc_to_rome(now);
        match self.window_status(now) {
            WindowStatus::Open { .. } => Ok(()),
            WindowStatus::NotYetOpen { opens } => {
                Err(InfanziaError::WindowNotOpen { opens, now_rome })
            }
            WindowStatus::Closed { closed } => {
                Err(InfanziaError::WindowClosed { closed, now_rome })
            }
        }
    }

    /// The period over which `service`'s average attendance is taken.
    ///
    /// Let `since` be [`Service::operating_since`] (the later of the
    /// authorisation and activation dates):
    ///
    /// - `since` ≤ reference start: the whole reference period
    ///   ([`PeriodRule::Reference`]);
    /// - reference start < `since` ≤ reference end: from `since` to the
    ///   reference end ([`PeriodRule::FromAuthorisation`]);
    /// - reference end < `since` ≤ survey start (the February–April gap):
    ///   from `since` to the survey start ([`PeriodRule::FromActivation`]).
    ///
    /// # Errors
    ///
    /// [`InfanziaError::NotActive`] when `since` is after the survey start:
    /// the service was not operating at the survey's start date.
    pub fn attendance_period(&self, service: &Service) -> Result<AttendancePeriod, InfanziaError> {
        let since = service.operating_since();
        let (start, end, rule) = if since <= self.reference_start {
            (
                self.reference_start,
                self.reference_end,
                PeriodRule::Reference,
            )
        } else if since <= self.reference_end {
            (since, self.reference_end, PeriodRule::FromAuthorisation)
        } else if since <= self.survey_start {
            (since, self.survey_start, PeriodRule::FromActivation)
        } else {
            return Err(InfanziaError::NotActive {
                service: service.id.clone(),
                since,
                survey_start: self.survey_start,
            });
        };
        Ok(AttendancePeriod { start, end, rule })
    }
}

/// Where an instant stands with respect to the submission window (times in
/// Rome wall-clock time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowStatus {
    /// Before the opening.
    NotYetOpen {
        /// When it opens.
        opens: NaiveDateTime,
    },
    /// Open.
    Open {
        /// When it closes.
        closes: NaiveDateTime,
    },
    /// Closed.
    Closed {
        /// When it closed.
        closed: NaiveDateTime,
    },
}

impl WindowStatus {
    /// `not_yet_open`, `open`, `closed`.
    pub fn code(&self) -> &'static str {
        match self {
            WindowStatus::NotYetOpen { .. } => "not_yet_open",
            WindowStatus::Open { .. } => "open",
            WindowStatus::Closed { .. } => "closed",
        }
    }
}

/// Which rule of the notice set a service's attendance period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodRule {
    /// Operating since the reference start: the whole reference period.
    Reference,
    /// Authorised and active after the reference start: from that date to
    /// the reference end.
    FromAuthorisation,
    /// Active between the reference end and the survey start: from the
    /// activation to the survey start.
    FromActivation,
}

impl PeriodRule {
    /// The stable code: `reference`, `from_authorisation`,
    /// `from_activation`.
    pub fn code(self) -> &'static str {
        match self {
            PeriodRule::Reference => "reference",
            PeriodRule::FromAuthorisation => "from_authorisation",
            PeriodRule::FromActivation => "from_activation",
        }
    }

    /// In Italian, for the printed summary.
    pub fn label(self) -> &'static str {
        match self {
            PeriodRule::Reference => "intero periodo di riferimento",
            PeriodRule::FromAuthorisation => "dalla data di autorizzazione",
            PeriodRule::FromActivation => "dalla data di attivazione all'avvio della rilevazione",
        }
    }
}

/// The days (inclusive) a service's average is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendancePeriod {
    /// First day.
    #[serde(with = "serde_time::date")]
    pub start: NaiveDate,
    /// Last day.
    #[serde(with = "serde_time::date")]
    pub end: NaiveDate,
    /// The rule that set it.
    pub rule: PeriodRule,
}

impl AttendancePeriod {
    /// Whether `day` is in the period.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }
}
