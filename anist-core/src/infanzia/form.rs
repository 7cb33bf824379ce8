//! The form "SERVIZI 03": its services, declarations and raw counts, its
//! life cycle (BOZZA → INVIATO → VALIDATO | RIFIUTATO → re-sent) and the
//! check that lists every problem at once.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::average::{average_attendance, AttendanceCount, AverageAttendance, AveragingMethod};
use super::serde_time;
use super::service::{AuthorisationAct, Declaration, Service};
use super::survey::SurveyConfig;
use super::InfanziaError;

/// The state of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FormState {
    /// Being filled in (editable).
    Bozza,
    /// Sent for validation (not editable).
    Inviato,
    /// Validated by the Region (final).
    Validato,
    /// Refused by the Region, with its correction notes: editable again,
    /// then sent again.
    Rifiutato {
        /// The Region's correction notes.
        notes: String,
    },
}

impl FormState {
    /// `BOZZA`, `INVIATO`, `VALIDATO`, `RIFIUTATO`.
    pub fn code(&self) -> &'static str {
        match self {
            FormState::Bozza => "BOZZA",
            FormState::Inviato => "INVIATO",
            FormState::Validato => "VALIDATO",
            FormState::Rifiutato { .. } => "RIFIUTATO",
        }
    }

    /// Italian description for the screen.
    pub fn label(&self) -> &'static str {
        match self {
            FormState::Bozza => "BOZZA (in compilazione)",
            FormState::Inviato => "INVIATO in validazione",
            FormState::Validato => "VALIDATO dalla Regione",
            FormState::Rifiutato { .. } => "RIFIUTATO (modificabile, da inviare di nuovo)",
        }
    }

    /// Whether the Comune may change the form: BOZZA and RIFIUTATO.
    pub fn is_editable(&self) -> bool {
        matches!(self, FormState::Bozza | FormState::Rifiutato { .. })
    }
}

impl fmt::Display for FormState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One change of state, kept in the form's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// State before (code).
    pub from: String,
    /// State after (code).
    pub to: String,
    /// When (UTC).
    #[serde(with = "serde_time::instant")]
    pub at: DateTime<Utc>,
    /// The Region's notes of a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A change to a service's registry data, with the act it matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryChange {
    /// The reference of the authorisation act the change matches.
    pub act: String,
    /// The fields changed (`name`, `address`, `manager`, `capacity`,
    /// `kind`, `activation`, `authorisation`).
    pub fields: Vec<String>,
}

/// A service on the form, with what the Comune said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    /// The registry data.
    pub service: Service,
    /// CESSATO / SOSPESO / NON RAGGIUNTO, if declared.
    #[serde(default)]
    pub declaration: Option<Declaration>,
    /// The raw counts of its attendance registers.
    #[serde(default)]
    pub counts: Vec<AttendanceCount>,
    /// Registry changes made by the Comune.
    #[serde(default)]
    pub changes: Vec<RegistryChange>,
}

/// What the form says of one service once computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceOutcome {
    /// Declared CESSATO / SOSPESO / NON RAGGIUNTO: no average.
    Declared(Declaration),
    /// The average attendance.
    Average(AverageAttendance),
    /// Not declared and no count in its period.
    Missing,
    /// Not operating at the survey start (the error says since when).
    NotActive(InfanziaError),
}

/// A problem found by [`Form::check`]: a stable code, the service it is
/// about (if any), and an Italian message saying what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The stable code (see [`Problem::CODES`]).
    pub code: String,
    /// The service's identifier, when the problem is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// What is wrong and what to do, in Italian.
    pub message: String,
}

impl Problem {
    /// Every code [`Form::check`] can return.
    pub const CODES: &'static [&'static str] = &[
        "no_services",
        "duplicate_service",
        "name_missing",
        "act_reference_missing",
        "activation_before_authorisation",
        "capacity_missing",
        "capacity_out_of_range",
        "not_active",
        "reason_missing",
        "non_raggiunto_not_active",
        "cessation_act_missing",
        "attendance_missing",
    ];

    fn new(code: &'static str, service: Option<&str>, message: String) -> Self {
        Problem {
            code: code.to_owned(),
            service: service.map(str::to_owned),
            message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.service {
            Some(s) => write!(f, "[{}] servizio {s}: {}", self.code, self.message),
            None => write!(f, "[{}] {}", self.code, self.message),
        }
    }
}

/// The form "SERVIZI 03 – anagrafica e frequentanti" of one Comune for one
/// survey year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    /// The Comune (name or ISTAT code).
    pub comune: String,
    /// The survey's dates.
    pub survey: SurveyConfig,
    /// How averages are computed.
    #[serde(default)]
    pub method: AveragingMethod,
    /// The state.
    pub state: FormState,
    /// The services, in registry order.
    pub services: Vec<ServiceEntry>,
    /// Every change of state.
    #[serde(default)]
    pub history: Vec<Transition>,
}

impl Form {
    /// A new draft with the services the Region preloaded.
    pub fn new(comune: &str, survey: SurveyConfig, preloaded: Vec<Service>) -> Self {
        Form {
            comune: comune.trim().to_owned(),
            survey,
            method: AveragingMethod::default(),
            state: FormState::Bozza,
            services: preloaded
                .into_iter()
                .map(|service| ServiceEntry {
                    service,
                    declaration: None,
                    counts: Vec::new(),
                    changes: Vec::new(),
                })
                .collect(),
            history: Vec::new(),
        }
    }

    fn editable(&self) -> Result<(), InfanziaError> {
        if self.state.is_editable() {
            Ok(())
        } else {
            Err(InfanziaError::NotEditable {
                state: self.state.code(),
            })
        }
    }

    /// The service with identifier `id`.
    pub fn entry(&self, id: &str) -> Option<&ServiceEntry> {
        self.services.iter().find(|e| e.service.id == id.trim())
    }

    fn entry_mut(&mut self, id: &str) -> Result<&mut ServiceEntry, InfanziaError> {
        self.services
            .iter_mut()
            .find(|e| e.service.id == id.trim())
            .ok_or_else(|| InfanziaError::UnknownService {
                service: id.trim().chars().take(40).collect(),
            })
    }

    /// Adds a service missing from the preloaded list ("AGGIUNGI
    /// SERVIZIO"): only if authorised (an act with a reference) and active
    /// at the survey start.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::NotEditable`], [`InfanziaError::DuplicateService`],
    /// [`InfanziaError::ActReferenceMissing`], [`InfanziaError::NotActive`].
    pub fn add_service(&mut self, mut service: Service) -> Result<(), InfanziaError> {
        self.editable()?;
        service.id = service.id.trim().to_owned();
        if service.id.is_empty() || self.entry(&service.id).is_some() {
            return Err(InfanziaError::DuplicateService {
                service: service.id.chars().take(40).collect(),
            });
        }
        if service.authorisation.reference.trim().is_empty() {
            return Err(InfanziaError::ActReferenceMissing);
        }
        self.survey.attendance_period(&service)?;
        service.added_by_comune = true;
        self.services.push(ServiceEntry {
            service,
            declaration: None,
            counts: Vec::new(),
            changes: Vec::new(),
        });
        Ok(())
    }

    /// Updates a service's registry data. Every change must match the
    /// latest authorisation act: `updated.authorisation` must have a
    /// reference and must not be older than the recorded one. The change
    /// and the act's reference are recorded.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::NotEditable`], [`InfanziaError::UnknownService`],
    /// [`InfanziaError::ActReferenceMissing`], [`InfanziaError::ActOlder`].
    pub fn update_service(&mut self, updated: Service) -> Result<Vec<String>, InfanziaError> {
        self.editable()?;
        if updated.authorisation.reference.trim().is_empty() {
            return Err(InfanziaError::ActReferenceMissing);
        }
        let entry = self.entry_mut(&updated.id)?;
        let old = &entry.service;
        if updated.authorisation.date < old.authorisation.date {
            return Err(InfanziaError::ActOlder {
                recorded: old.authorisation.date,
            });
        }
        let mut fields = Vec::new();
        let mut diff = |name: &str, changed: bool| {
            if changed {
                fields.push(name.to_owned());
            }
        };
        diff("kind", old.kind != updated.kind);
        diff("name", old.name != updated.name);
        diff("address", old.address != updated.address);
        diff("manager", old.manager != updated.manager);
        diff("capacity", old.capacity != updated.capacity);
        diff("authorisation", old.authorisation != updated.authorisation);
        diff("activation", old.activation != updated.activation);
        diff(
            "first_authorisation",
            updated.first_authorisation.is_some()
                && updated.first_authorisation != old.first_authorisation,
        );
        if !fields.is_empty() {
            let added = old.added_by_comune;
            // A newer act keeps the date of the first authorisation (the
            // attendance period runs from it, not from the latest act).
            let first = updated.first_authorisation.or(Some(old.authorised_since()));
            let act = updated.authorisation.reference.trim().to_owned();
            entry.service = Service {
                added_by_comune: added,
                first_authorisation: first.filter(|&f| f != updated.authorisation.date),
                ..updated
            };
            entry.changes.push(RegistryChange {
                act,
                fields: fields.clone(),
            });
        }
        Ok(fields)
    }

    /// Declares a service CESSATO / SOSPESO / NON RAGGIUNTO, or (with
    /// `None`) withdraws the declaration.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::NotEditable`], [`InfanziaError::UnknownService`].
    pub fn declare(
        &mut self,
        id: &str,
        declaration: Option<Declaration>,
    ) -> Result<(), InfanziaError> {
        self.editable()?;
        self.entry_mut(id)?.declaration = declaration;
        Ok(())
    }

    /// Records a service's raw counts; a count for a month or day already
    /// recorded replaces it.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::NotEditable`], [`InfanziaError::UnknownService`].
    pub fn record_counts(
        &mut self,
        id: &str,
        counts: &[AttendanceCount],
    ) -> Result<(), InfanziaError> {
        self.editable()?;
        let entry = self.entry_mut(id)?;
        for c in counts {
            match entry.counts.iter_mut().find(|o| o.unit == c.unit) {
                Some(o) => o.children = c.children,
                None => entry.counts.push(*c),
            }
        }
        entry.counts.sort_by_key(|c| c.unit);
        Ok(())
    }

    /// Sets the averaging method.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::NotEditable`].
    pub fn set_method(&mut self, method: AveragingMethod) -> Result<(), InfanziaError> {
        self.editable()?;
        self.method = method;
        Ok(())
    }

    /// What the form says of `entry`: its declaration, or its average by
    /// the form's method.
    pub fn outcome(&self, entry: &ServiceEntry) -> ServiceOutcome {
        if let Some(d) = &entry.declaration {
            return ServiceOutcome::Declared(d.clone());
        }
        match self.survey.attendance_period(&entry.service) {
            Err(e) => ServiceOutcome::NotActive(e),
            Ok(p) => match average_attendance(&p, &entry.counts, self.method) {
                Some(a) => ServiceOutcome::Average(a),
                None => ServiceOutcome::Missing,
            },
        }
    }

    /// Every problem that stops the form from being sent, all at once, in
    /// registry order. Empty when the form can be sent.
    pub fn check(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        if self.services.is_empty() {
            out.push(Problem::new(
                "no_services",
                None,
                "il modulo non contiene servizi: importare l'elenco precaricato dalla Regione"
                    .into(),
            ));
        }
        let mut seen = BTreeSet::new();
        for e in &self.services {
            let s = &e.service;
            let id = Some(s.id.as_str());
            if !seen.insert(s.id.as_str()) {
                out.push(Problem::new(
                    "duplicate_service",
                    id,
                    "identificativo presente più volte: lasciarne una sola riga".into(),
                ));
            }
            if s.name.trim().is_empty() {
                out.push(Problem::new(
                    "name_missing",
                    id,
                    "manca la denominazione: completarla come nel provvedimento di autorizzazione"
                        .into(),
                ));
            }
            if s.authorisation.reference.trim().is_empty() {
                out.push(Problem::new(
                    "act_reference_missing",
                    id,
                    "manca il riferimento del provvedimento di autorizzazione più recente".into(),
                ));
            }
            if let Some(a) = s.activation {
                if a < s.authorised_since() {
                    out.push(Problem::new(
                        "activation_before_authorisation",
                        id,
                        format!(
                            "data di attivazione {} precedente all'autorizzazione del {}: correggere le date",
                            crate::csvio::format_date_it(a),
                            crate::csvio::format_date_it(s.authorised_since())
                        ),
                    ));
                }
            }
            if s.capacity == 0 {
                out.push(Problem::new(
                    "capacity_missing",
                    id,
                    "manca la capienza autorizzata (posti)".into(),
                ));
            } else if let Some((lo, hi)) = s.kind.capacity_range() {
                if s.capacity < lo || s.capacity > hi {
                    out.push(Problem::new(
                        "capacity_out_of_range",
                        id,
                        format!(
                            "capienza {} fuori dai limiti della tipologia {} ({lo}–{hi} posti): verificare tipologia e provvedimento",
                            s.capacity,
                            s.kind.label()
                        ),
                    ));
                }
            }
            match &e.declaration {
                Some(Declaration::NonRaggiunto { reason }) => {
                    if reason.trim().is_empty() {
                        out.push(Problem::new(
                            "reason_missing",
                            id,
                            "NON RAGGIUNTO senza motivazione: la motivazione è obbligatoria".into(),
                        ));
                    }
                    // NON RAGGIUNTO is for a service authorised and active
                    // as of the survey's start date.
                    let start = self.survey.survey_start;
                    if s.operating_since() > start {
                        out.push(Problem::new(
                            "non_raggiunto_not_active",
                            id,
                            format!(
                                "NON RAGGIUNTO vale per un servizio autorizzato e attivo al {}: verificare le date di autorizzazione e di attivazione, oppure dichiarare SOSPESO o CESSATO",
                                crate::csvio::format_date_it(start)
                            ),
                        ));
                    }
                }
                Some(Declaration::Cessato { act }) if act.trim().is_empty() => {
                    out.push(Problem::new(
                        "cessation_act_missing",
                        id,
                        "CESSATO senza il riferimento del provvedimento di cessazione".into(),
                    ));
                }
                Some(_) => {}
                None => match self.outcome(e) {
                    ServiceOutcome::NotActive(err) => {
                        out.push(Problem::new("not_active", id, err.to_string()));
                    }
                    ServiceOutcome::Missing => {
                        out.push(Problem::new(
                            "attendance_missing",
                            id,
                            format!(
                                "nessun conteggio {} di frequenza nel periodo: importare i registri oppure dichiarare CESSATO, SOSPESO o NON RAGGIUNTO",
                                match self.method {
                                    AveragingMethod::Monthly => "mensile",
                                    AveragingMethod::Daily => "giornaliero",
                                }
                            ),
                        ));
                    }
                    ServiceOutcome::Declared(_) | ServiceOutcome::Average(_) => {}
                },
            }
        }
        out
    }

    fn transition(&mut self, to: FormState, at: DateTime<Utc>, notes: Option<String>) {
        self.history.push(Transition {
            from: self.state.code().to_owned(),
            to: to.code().to_owned(),
            at,
            notes,
        });
        self.state = to;
    }

    /// Sends the form for validation at `now`: allowed from BOZZA or
    /// RIFIUTATO, inside the window, with no problem.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::InvalidTransition`]; [`InfanziaError::WindowNotOpen`]
    /// / [`InfanziaError::WindowClosed`]; [`InfanziaError::CheckFailed`]
    /// with every problem.
    pub fn send(&mut self, now: DateTime<Utc>) -> Result<(), InfanziaError> {
        if !self.state.is_editable() {
            return Err(InfanziaError::InvalidTransition {
                from: self.state.code(),
                to: "INVIATO",
            });
        }
        self.survey.check_window(now)?;
        let problems = self.check();
        if !problems.is_empty() {
            return Err(InfanziaError::CheckFailed { problems });
        }
        self.transition(FormState::Inviato, now, None);
        Ok(())
    }

    /// The Region validates the form (INVIATO → VALIDATO).
    ///
    /// # Errors
    ///
    /// [`InfanziaError::InvalidTransition`].
    pub fn validate(&mut self, now: DateTime<Utc>) -> Result<(), InfanziaError> {
        if self.state != FormState::Inviato {
            return Err(InfanziaError::InvalidTransition {
                from: self.state.code(),
                to: "VALIDATO",
            });
        }
        self.transition(FormState::Validato, now, None);
        Ok(())
    }

    /// The Region refuses the form with correction notes (INVIATO →
    /// RIFIUTATO); the Comune can then edit it and send it again.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::InvalidTransition`], [`InfanziaError::NotesMissing`].
    pub fn reject(&mut self, notes: &str, now: DateTime<Utc>) -> Result<(), InfanziaError> {
        if self.state != FormState::Inviato {
            return Err(InfanziaError::InvalidTransition {
                from: self.state.code(),
                to: "RIFIUTATO",
            });
        }
        let notes = notes.trim();
        if notes.is_empty() {
            return Err(InfanziaError::NotesMissing);
        }
        self.transition(
            FormState::Rifiutato {
                notes: notes.to_owned(),
            },
            now,
            Some(notes.to_owned()),
        );
        Ok(())
    }
}

/// A new authorisation act.
pub fn act(reference: &str, date: chrono::NaiveDate) -> AuthorisationAct {
    AuthorisationAct {
        reference: reference.trim().to_owned(),
        date,
    }
}
