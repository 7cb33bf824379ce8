//! The Piemonte 0–3 survey ("SERVIZI 03 – anagrafica e frequentanti",
//! notice 004): the Comune's registry of early-childhood services, its
//! declarations, the average attendance of each service, the form's life
//! cycle and the submission window. Pure logic: every instant is passed in
//! (UTC) and converted to Rome time here ([`rome_to_utc`]).
//!
//! - [`ServiceType`] (asilo nido, micro-nido, sezione primavera, nido in
//!   famiglia, centro di custodia oraria), [`Service`] with its
//!   [`AuthorisationAct`].
//! - [`Declaration`]: CESSATO (with the act of cessation), SOSPESO, NON
//!   RAGGIUNTO (with a mandatory, non-empty reason).
//! - [`SurveyConfig`]: the year's dates as data
//!   ([`SurveyConfig::piemonte_2026`]); [`SurveyConfig::attendance_period`]
//!   applies the notice's three rules ([`PeriodRule`]);
//!   [`SurveyConfig::check_window`] says when the window opens or closed.
//! - [`average_attendance`] with an [`AveragingMethod`] (default: monthly,
//!   domain.md Unknown 12) over raw [`AttendanceCount`]s, which are kept.
//! - [`Form`]: BOZZA → INVIATO → VALIDATO | RIFIUTATO (with notes, editable)
//!   → INVIATO again; [`Form::check`] returns every [`Problem`] at once.
//!
//! ```
//! use anist_core::infanzia::{
//!     act, Declaration, Form, Service, ServiceType, SurveyConfig, AttendanceCount, CountUnit,
//! };
//! use chrono::{NaiveDate, TimeZone, Utc};
//!
//! let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
//! let nido = Service {
//!     id: "TO-001".into(),
//!     kind: ServiceType::AsiloNido,
//!     name: "Nido Girasole".into(),
//!     address: "Via dei Tigli 1".into(),
//!     manager: "Comune".into(),
//!     capacity: 40,
//!     authorisation: act("Det. 1/2019", day(2019, 9, 1)),
//!     activation: None,
//!     first_authorisation: None,
//!     added_by_comune: false,
//! };
//! let mut form = Form::new("Comune di Esempio", SurveyConfig::piemonte_2026(), vec![nido]);
//! let counts: Vec<_> = (3..=12)
//!     .map(|m| AttendanceCount { unit: CountUnit::month(2025, m).unwrap(), children: 30 })
//!     .collect();
//! form.record_counts("TO-001", &counts)?;
//! assert!(form.check().is_empty());
//!
//! // 27 April 2026, 11:59 in Rome (CEST, UTC+2) is 09:59 UTC: not yet open.
//! let err = form.send(Utc.with_ymd_and_hms(2026, 4, 27, 9, 59, 0).unwrap()).unwrap_err();
//! assert_eq!(anist_core::ErrorCode::code(&err), "infanzia_window_not_open");
//! form.send(Utc.with_ymd_and_hms(2026, 4, 27, 10, 0, 0).unwrap())?;
//! assert_eq!(form.state.code(), "INVIATO");
//!
//! // NON RAGGIUNTO needs a reason.
//! assert!(Declaration::non_raggiunto("  ").is_err());
//! # Ok::<(), anist_core::infanzia::InfanziaError>(())
//! ```
//!
//! Error codes ([`InfanziaError`]): `infanzia_service_type`,
//! `infanzia_declaration_kind`, `infanzia_reason_missing`,
//! `infanzia_cessation_act_missing`, `infanzia_notes_missing`,
//! `infanzia_count_unit`, `infanzia_config`, `infanzia_window_not_open`,
//! `infanzia_window_closed`, `infanzia_not_active`, `infanzia_not_editable`,
//! `infanzia_invalid_transition`, `infanzia_check_failed`,
//! `infanzia_unknown_service`, `infanzia_duplicate_service`,
//! `infanzia_act_reference_missing`, `infanzia_act_older`. Problem codes of
//! the check: [`Problem::CODES`].

use chrono::{Datelike, NaiveDate, NaiveDateTime, Weekday};

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

mod average;
mod form;
mod rome;
mod serde_time;
mod service;
mod survey;

pub use average::{
    average_attendance, AttendanceCount, AverageAttendance, AveragingMethod, CountUnit,
};
pub use form::{
    act, Form, FormState, Problem, RegistryChange, ServiceEntry, ServiceOutcome, Transition,
};
pub use rome::{rome_dst_bounds, rome_offset_hours, rome_to_utc, utc_to_rome};
pub use service::{AuthorisationAct, Declaration, Service, ServiceType};
pub use survey::{AttendancePeriod, PeriodRule, SurveyConfig, WindowStatus};

/// A Rome wall-clock time in Italian: `lunedì 27/04/2026 alle 12:00`.
pub fn format_rome_it(t: NaiveDateTime) -> String {
    let day = match t.weekday() {
        Weekday::Mon => "lunedì",
        Weekday::Tue => "martedì",
        Weekday::Wed => "mercoledì",
        Weekday::Thu => "giovedì",
        Weekday::Fri => "venerdì",
        Weekday::Sat => "sabato",
        Weekday::Sun => "domenica",
    };
    format!("{day} {} alle {}", t.format("%d/%m/%Y"), t.format("%H:%M"))
}

fn it(d: &NaiveDate) -> String {
    crate::csvio::format_date_it(*d)
}

fn problems_text(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why an operation on the 0–3 survey form was refused. Messages are in
/// Italian and say what to do; they never carry children's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InfanziaError {
    /// Not one of the five service types.
    #[error("tipologia di servizio {found:?} non riconosciuta: usare asilo nido, micro-nido, sezione primavera, nido in famiglia o centro di custodia oraria")]
    ServiceType {
        /// What was written (at most 40 characters).
        found: String,
    },
    /// Not CESSATO, SOSPESO or NON RAGGIUNTO.
    #[error("dichiarazione {found:?} non riconosciuta: usare CESSATO, SOSPESO o NON RAGGIUNTO")]
    DeclarationKind {
        /// What was written (at most 40 characters).
        found: String,
    },
    /// NON RAGGIUNTO without a reason.
    #[error("la dichiarazione NON RAGGIUNTO richiede obbligatoriamente la motivazione: indicarla")]
    ReasonMissing,
    /// CESSATO without the act of cessation.
    #[error(
        "la dichiarazione CESSATO richiede il riferimento del provvedimento formale di cessazione"
    )]
    CessationActMissing,
    /// A refusal without the Region's correction notes.
    #[error("il rifiuto richiede le indicazioni di correzione per il Comune")]
    NotesMissing,
    /// Not a month (`mm/yyyy`) or a day (`dd/mm/yyyy`).
    #[error(
        "periodo {found:?} non valido: scrivere il mese come mm/aaaa o il giorno come gg/mm/aaaa"
    )]
    CountUnit {
        /// What was written (at most 20 characters).
        found: String,
    },
    /// A survey configuration whose dates are not in order.
    #[error("configurazione della rilevazione non valida: {detail}")]
    Config {
        /// What is wrong.
        detail: String,
    },
    /// Sending before the window opens.
    #[error("la finestra di invio non è ancora aperta: apre {} (ora di Roma); ora sono le {}", format_rome_it(*opens), now_rome.format("%H:%M del %d/%m/%Y"))]
    WindowNotOpen {
        /// When it opens (Rome time).
        opens: NaiveDateTime,
        /// The Rome time of the attempt.
        now_rome: NaiveDateTime,
    },
    /// Sending after the window closed.
    #[error("la finestra di invio è chiusa: si è chiusa {} (ora di Roma); ora sono le {}. Contattare l'ufficio regionale", format_rome_it(*closed), now_rome.format("%H:%M del %d/%m/%Y"))]
    WindowClosed {
        /// When it closed (Rome time).
        closed: NaiveDateTime,
        /// The Rome time of the attempt.
        now_rome: NaiveDateTime,
    },
    /// A service not authorised and active at the survey start.
    #[error("il servizio {service} è autorizzato e attivo solo dal {}, dopo l'avvio della rilevazione ({}): non può essere inserito, o va dichiarato", it(since), it(survey_start))]
    NotActive {
        /// The service's identifier.
        service: String,
        /// Since when it is authorised and active.
        since: NaiveDate,
        /// The survey's start date.
        survey_start: NaiveDate,
    },
    /// Editing a form that is INVIATO or VALIDATO.
    #[error("il modulo è {state}: non è modificabile (lo è in BOZZA o RIFIUTATO)")]
    NotEditable {
        /// The state's code.
        state: &'static str,
    },
    /// A change of state the life cycle does not allow.
    #[error("passaggio di stato non consentito: da {from} a {to}")]
    InvalidTransition {
        /// The current state's code.
        from: &'static str,
        /// The state asked for.
        to: &'static str,
    },
    /// The form has problems: every one is listed.
    #[error("il modulo non può essere inviato, {} problemi da correggere: {}", problems.len(), problems_text(problems))]
    CheckFailed {
        /// Every problem found.
        problems: Vec<Problem>,
    },
    /// No service with that identifier.
    #[error("nessun servizio con identificativo {service:?} nel modulo")]
    UnknownService {
        /// The identifier asked for (at most 40 characters).
        service: String,
    },
    /// A service added with an identifier already present (or empty).
    #[error("identificativo di servizio {service:?} vuoto o già presente: sceglierne un altro")]
    DuplicateService {
        /// The identifier (at most 40 characters).
        service: String,
    },
    /// A registry change or an added service without the reference of its
    /// authorisation act.
    #[error("ogni modifica deve corrispondere al provvedimento di autorizzazione più recente: indicarne il riferimento")]
    ActReferenceMissing,
    /// A change citing an act older than the recorded one.
    #[error("il provvedimento indicato è precedente a quello registrato (del {}): usare il provvedimento più recente", it(recorded))]
    ActOlder {
        /// The date of the recorded act.
        recorded: NaiveDate,
    },
}

impl InfanziaError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &[
        "infanzia_service_type",
        "infanzia_declaration_kind",
        "infanzia_reason_missing",
        "infanzia_cessation_act_missing",
        "infanzia_notes_missing",
        "infanzia_count_unit",
        "infanzia_config",
        "infanzia_window_not_open",
        "infanzia_window_closed",
        "infanzia_not_active",
        "infanzia_not_editable",
        "infanzia_invalid_transition",
        "infanzia_check_failed",
        "infanzia_unknown_service",
        "infanzia_duplicate_service",
        "infanzia_act_reference_missing",
        "infanzia_act_older",
    ];

    /// The problems of a [`InfanziaError::CheckFailed`] (empty otherwise).
    pub fn problems(&self) -> &[Problem] {
        match self {
            InfanziaError::CheckFailed { problems } => problems,
            _ => &[],
        }
    }
}

impl ErrorCode for InfanziaError {
    fn code(&self) -> &'static str {
        match self {
            InfanziaError::ServiceType { .. } => "infanzia_service_type",
            InfanziaError::DeclarationKind { .. } => "infanzia_declaration_kind",
            InfanziaError::ReasonMissing => "infanzia_reason_missing",
            InfanziaError::CessationActMissing => "infanzia_cessation_act_missing",
            InfanziaError::NotesMissing => "infanzia_notes_missing",
            InfanziaError::CountUnit { .. } => "infanzia_count_unit",
            InfanziaError::Config { .. } => "infanzia_config",
            InfanziaError::WindowNotOpen { .. } => "infanzia_window_not_open",
            InfanziaError::WindowClosed { .. } => "infanzia_window_closed",
            InfanziaError::NotActive { .. } => "infanzia_not_active",
            InfanziaError::NotEditable { .. } => "infanzia_not_editable",
            InfanziaError::InvalidTransition { .. } => "infanzia_invalid_transition",
            InfanziaError::CheckFailed { .. } => "infanzia_check_failed",
            InfanziaError::UnknownService { .. } => "infanzia_unknown_service",
            InfanziaError::DuplicateService { .. } => "infanzia_duplicate_service",
            InfanziaError::ActReferenceMissing => "infanzia_act_reference_missing",
            InfanziaError::ActOlder { .. } => "infanzia_act_older",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            InfanziaError::ServiceType { .. }
            | InfanziaError::DeclarationKind { .. }
            | InfanziaError::ReasonMissing
            | InfanziaError::CessationActMissing
            | InfanziaError::NotesMissing
            | InfanziaError::CountUnit { .. }
            | InfanziaError::Config { .. }
            | InfanziaError::ActReferenceMissing => ErrorKind::InfanziaInvalid,
            InfanziaError::WindowNotOpen { .. } | InfanziaError::WindowClosed { .. } => {
                ErrorKind::InfanziaWindow
            }
            InfanziaError::CheckFailed { .. } => ErrorKind::InfanziaCheck,
            InfanziaError::NotActive { .. }
            | InfanziaError::NotEditable { .. }
            | InfanziaError::InvalidTransition { .. }
            | InfanziaError::UnknownService { .. }
            | InfanziaError::DuplicateService { .. }
            | InfanziaError::ActOlder { .. } => ErrorKind::Infanzia,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for InfanziaError {
    fn samples() -> Vec<Self> {
        let day = NaiveDate::default();
        let time = NaiveDateTime::default();
        vec![
            InfanziaError::ServiceType {
                found: "ludoteca".to_owned(),
            },
            InfanziaError::DeclarationKind {
                found: "CHIUSO".to_owned(),
            },
            InfanziaError::ReasonMissing,
            InfanziaError::CessationActMissing,
            InfanziaError::NotesMissing,
            InfanziaError::CountUnit {
                found: "2026".to_owned(),
            },
            InfanziaError::Config {
                detail: "the window closes before it opens".to_owned(),
            },
            InfanziaError::WindowNotOpen {
                opens: time,
                now_rome: time,
            },
            InfanziaError::WindowClosed {
                closed: time,
                now_rome: time,
            },
            InfanziaError::NotActive {
                service: "S1".to_owned(),
                since: day,
                survey_start: day,
            },
            InfanziaError::NotEditable { state: "INVIATO" },
            InfanziaError::InvalidTransition {
                from: "BOZZA",
                to: "VALIDATO",
            },
            InfanziaError::CheckFailed {
                problems: vec![Problem {
                    code: "no_services".to_owned(),
                    service: None,
                    message: "il modulo non ha servizi".to_owned(),
                }],
            },
            InfanziaError::UnknownService {
                service: "S9".to_owned(),
            },
            InfanziaError::DuplicateService {
                service: "S1".to_owned(),
            },
            InfanziaError::ActReferenceMissing,
            InfanziaError::ActOlder { recorded: day },
        ]
    }
}

#[cfg(test)]
mod tests;
