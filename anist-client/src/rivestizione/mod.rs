//! The ANPR *rivestizione* workflow (notice 002): a Comune's Anagrafe and
//! the enti it serves register and profile users, submit requests about
//! subjects, approve them (explicitly, or by silent assent), a worker asks
//! ANPR, the requester downloads the response file, and everything is
//! reported and audited ("chi ha fatto cosa e quando").
//!
//! - [`Rivestizione`]: the actions of the users, each authorised by
//!   anist-core's [`authorize`] against the actor's role, ente and profile
//!   and recorded in the hash-chained audit trail (refusals too);
//! - [`Store`]: where the state lives ([`SqliteStore`] by default;
//!   `PgStore`, feature `postgres`, in a database shared by several hosts);
//! - [`Worker`]: approves by silent assent, processes approved requests
//!   through a [`SubjectLookup`] ([`AnprLookup`] on the ANPR clients), writes
//!   the response files and purges them after the retention time.
//!
//! The audit trail records, for each action: the user (`operator`), the
//! role (`purpose`), `eservice` = `rivestizione`, the action (`operation`:
//! `setup`, `configure`, `add_ente`, `register_user`, `set_profile`,
//! `submit`, `approve`, `reject`, `silent_assent`, `view`, `download`,
//! `report`, `start`, `lookup`, `complete`, `fail`, `purge`), the outcome
//! (`ok`, `denied`, or the lookup's outcome) and the request's number
//! (`correlation_id`); a subject looked up is recorded as a keyed hash.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use anist_client::audit::AuditLog;
//! use anist_client::clock::SystemClock;
//! use anist_client::rivestizione::{Ente, Rivestizione, Settings, SqliteStore, User};
//! use anist_core::anpr::dati::DatoRichiesto;
//! use anist_core::rivestizione::{read_subjects, Profile, Role, Scope};
//!
//! let dir = std::env::temp_dir().join(format!("anist-doc-riv-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let store = Arc::new(SqliteStore::open(&dir.join("riv.sqlite"))?);
//! let audit = Arc::new(AuditLog::open(&dir.join("audit.sqlite"), &dir.join("audit.key"))?);
//! let riv = Rivestizione::new(store, audit, Arc::new(SystemClock), dir.join("files"));
//! let anagrafe = Ente { id: "anagrafe".into(), nome: "Anagrafe".into(), comune: "058091".into() };
//! riv.setup(Settings { comuni: vec!["058091".into()], ..Settings::default() }, anagrafe, "top", "Anna")?;
//! let clerk_profile = Profile::new([DatoRichiesto::Generalita], Scope::Convenzionati);
//! riv.register_user("top", User { id: "u1".into(), nome: "Ugo".into(), role: Role::Standard,
//!     ente: "anagrafe".into(), active: true, profile: clerk_profile })?;
//! let file = read_subjects("codice_fiscale\nRSSMRA80A01H501U\n".as_bytes())?;
//! let id = riv.submit("u1", "prot. 12/2026", None, file)?;
//! riv.approve("top", id)?;
//! assert_eq!(riv.request("u1", id)?.state.as_str(), "approved");
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```

mod lookup;
mod output;
#[cfg(feature = "postgres")]
mod pg_store;
mod store;
mod worker;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use anist_core::anpr::dati::DatoRichiesto;
use anist_core::rivestizione::{
    authorize, check_motivo, transition, Action, Actor, Event, Profile, RivestizioneError, Role,
    Scope, State, SubjectFile,
};
use anist_core::{CodeSamples, ErrorCode, ErrorKind};

pub use lookup::{AnprLookup, SubjectLookup};
pub use output::{write_report_csv, COLUMNS_BASE};
#[cfg(feature = "postgres")]
pub use pg_store::PgStore;
pub use store::{
    Ente, NewRequest, Outcome, RequestRecord, Settings, SqliteStore, StateUpdate, Store,
    StoreError, SubjectData, SubjectOutcome, SubjectRecord, User,
};
pub use worker::{Worker, WorkerReport};

use crate::audit::{AuditEntry, AuditError, AuditLog};
use crate::clock::Clock;

/// The `eservice` of the module's audit rows.
pub const AUDIT_ESERVICE: &str = "rivestizione";

/// The files of a module's folder ([`Rivestizione::open_dir`]), the same
/// for the CLI, Python and C.
pub mod layout {
    /// The store.
    pub const STORE: &str = "rivestizione.sqlite";
    /// The audit trail (its secret `<file>.key` beside it).
    pub const AUDIT: &str = "anist-audit.sqlite";
    /// The response files.
    pub const FILES: &str = "files";
    /// The ANPR operation ids (PDND): one store per folder, so that the
    /// ids of every surface increase together.
    pub const ANPR_IDS: &str = "anist-anpr-ids.sqlite";
    /// The ANPR operation ids of the Comune's SOAP channel.
    pub const ANPR_SOAP_IDS: &str = "anist-anpr-soap-ids.sqlite";
}

/// The data sets of Tabella 16 the worker can obtain from ANPR: a request
/// asks only these (`SchedaCompleta` asks all of them).
pub const DELIVERABLE: [DatoRichiesto; 3] = [
    DatoRichiesto::Generalita,
    DatoRichiesto::Residenza,
    DatoRichiesto::FamigliaConvivenza,
];

/// Why a rivestizione action failed. Codes are stable; messages in Italian
/// say what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// A rule refused it (role, profile, state, input).
    #[error(transparent)]
    Rule(#[from] RivestizioneError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit trail failed: nothing is done that is not recorded.
    #[error("l'operazione non è stata fatta perché il registro di audit non funziona: {0}")]
    Audit(#[from] AuditError),
    /// No such user.
    #[error("l'utente {0:?} non esiste: controlla l'identificativo, o fallo registrare")]
    NoSuchUser(String),
    /// The user id is taken.
    #[error("l'utente {0:?} esiste già: scegli un altro identificativo")]
    UserExists(String),
    /// No such ente.
    #[error("l'ente {0:?} non esiste: l'Anagrafe lo aggiunge con add-ente")]
    NoSuchEnte(String),
    /// No such request.
    #[error("la richiesta {0} non esiste")]
    NoSuchRequest(i64),
    /// The module is not set up, or is set up already.
    #[error("{0}")]
    Setup(&'static str),
    /// A data set the worker cannot obtain.
    #[error("il dato {0} non si può ottenere da ANPR con questo modulo: chiedi generalità, residenza o famiglia")]
    NotDeliverable(&'static str),
    /// The request is not done: nothing to download yet, or any more.
    #[error("la richiesta {id} è {state}: il file si scarica quando è completata, entro il tempo di conservazione")]
    NotReady {
        /// The request.
        id: i64,
        /// Its state, in Italian.
        state: &'static str,
    },
    /// A response file could not be written or read.
    #[error("il file di risposta {path} non si può usare: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl ErrorCode for WorkflowError {
    fn code(&self) -> &'static str {
        match self {
            WorkflowError::Rule(e) => e.code(),
            WorkflowError::Store(e) => e.code(),
            WorkflowError::Audit(e) => e.code(),
            WorkflowError::NoSuchUser(_) => "rivestizione_no_user",
            WorkflowError::UserExists(_) => "rivestizione_user_exists",
            WorkflowError::NoSuchEnte(_) => "rivestizione_no_ente",
            WorkflowError::NoSuchRequest(_) => "rivestizione_no_request",
            WorkflowError::Setup(_) => "rivestizione_setup",
            WorkflowError::NotDeliverable(_) => "rivestizione_not_deliverable",
            WorkflowError::NotReady { .. } => "rivestizione_not_ready",
            WorkflowError::File { .. } => "rivestizione_file",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            WorkflowError::Rule(e) => e.kind(),
            WorkflowError::Store(e) => e.kind(),
            WorkflowError::Audit(e) => e.kind(),
            WorkflowError::NoSuchUser(_)
            | WorkflowError::UserExists(_)
            | WorkflowError::NoSuchEnte(_)
            | WorkflowError::NoSuchRequest(_)
            | WorkflowError::NotDeliverable(_) => ErrorKind::InvalidArgument,
            WorkflowError::Setup(_) => ErrorKind::Config,
            WorkflowError::NotReady { .. } => ErrorKind::Rivestizione,
            WorkflowError::File { .. } => ErrorKind::Local,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for WorkflowError {
    fn samples() -> Vec<Self> {
        vec![
            WorkflowError::Rule(RivestizioneError::Motivo),
            WorkflowError::Store(StoreError {
                reason: "locked".into(),
            }),
            WorkflowError::Audit(AuditError::Storage {
                reason: "locked".into(),
            }),
            WorkflowError::NoSuchUser("u".into()),
            WorkflowError::UserExists("u".into()),
            WorkflowError::NoSuchEnte("e".into()),
            WorkflowError::NoSuchRequest(1),
            WorkflowError::Setup("x"),
            WorkflowError::NotDeliverable("stato civile"),
            WorkflowError::NotReady {
                id: 1,
                state: "in attesa di convalida",
            },
            WorkflowError::File {
                path: PathBuf::from("r.csv"),
                reason: "x".into(),
            },
        ]
    }
}

/// The workflow's actions. Cheap to clone (shared store and trail).
#[derive(Clone)]
pub struct Rivestizione {
    store: Arc<dyn Store>,
    audit: Arc<AuditLog>,
    clock: Arc<dyn Clock>,
    files: PathBuf,
}

impl std::fmt::Debug for Rivestizione {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rivestizione")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// What the monitoring roles see: one line per user of the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReportRow {
    /// The ISTAT code of the ente's Comune.
    pub comune: String,
    /// The ente.
    pub ente: String,
    /// The user.
    pub user: String,
    /// Requests submitted.
    pub requests: u64,
    /// Of which rejected.
    pub rejected: u64,
    /// Of which completed (done or expired).
    pub done: u64,
    /// Of which failed.
    pub failed: u64,
    /// Subjects asked.
    pub subjects: u64,
    /// Subjects per outcome, in [`Outcome::ALL`] order.
    pub outcomes: [u64; 6],
    /// Mean time from submission to completion, in seconds (completed
    /// requests only).
    pub mean_turnaround_seconds: Option<u64>,
}

impl Rivestizione {
    /// The workflow on `store`, recording in `audit`, timed by `clock`, with
    /// the response files in `files` (created private when needed).
    pub fn new(
        store: Arc<dyn Store>,
        audit: Arc<AuditLog>,
        clock: Arc<dyn Clock>,
        files: PathBuf,
    ) -> Self {
        Self {
            store,
            audit,
            clock,
            files,
        }
    }

    /// The module kept in the folder `dir` (created private when missing):
    /// its store, audit trail and response files as [`layout`] names them.
    ///
    /// # Errors
    /// `rivestizione_file` (the folder), `rivestizione_store`, `audit_*`.
    pub fn open_dir(dir: &std::path::Path, clock: Arc<dyn Clock>) -> Result<Self, WorkflowError> {
        crate::files::create_private_dir(dir).map_err(|e| WorkflowError::File {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
        let store = SqliteStore::open(&dir.join(layout::STORE))?;
        let audit = AuditLog::open_beside_with_clock(&dir.join(layout::AUDIT), clock.clone())?;
        Ok(Self::new(
            Arc::new(store),
            Arc::new(audit),
            clock,
            dir.join(layout::FILES),
        ))
    }

    /// The module with its store and audit trail in a PostgreSQL database
    /// (schemas created or upgraded), shared by every host; the response
    /// files in `files`. `audit_key` is the trail's secret, the same file
    /// on every host.
    ///
    /// # Errors
    /// `rivestizione_store`, `audit_*`.
    #[cfg(feature = "postgres")]
    pub fn open_postgres(
        db: Arc<crate::pg::Database>,
        audit_key: &std::path::Path,
        files: PathBuf,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, WorkflowError> {
        let store = PgStore::open(Arc::clone(&db))?;
        let audit = AuditLog::open_postgres(db, audit_key, clock.clone())?;
        Ok(Self::new(Arc::new(store), Arc::new(audit), clock, files))
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The audit trail.
    pub fn audit(&self) -> &Arc<AuditLog> {
        &self.audit
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The directory of the response files.
    pub fn files_dir(&self) -> &std::path::Path {
        &self.files
    }

    fn record(
        &self,
        user: &str,
        role: &str,
        operation: &str,
        request: Option<i64>,
        outcome: &str,
    ) -> Result<(), AuditError> {
        let id = request.map(|r| r.to_string());
        self.audit.record(&AuditEntry {
            operator: user,
            purpose: role,
            eservice: AUDIT_ESERVICE,
            operation,
            subject: None,
            outcome,
            correlation_id: id.as_deref(),
            govway_id: None,
        })?;
        Ok(())
    }

    /// The acting user.
    fn actor(&self, id: &str) -> Result<User, WorkflowError> {
        self.store
            .user(id)?
            .ok_or_else(|| WorkflowError::NoSuchUser(id.chars().take(64).collect()))
    }

    /// Authorises `action` for `user` and records the refusal when it is
    /// refused.
    fn allow(
        &self,
        user: &User,
        action: &Action<'_>,
        request: Option<i64>,
    ) -> Result<(), WorkflowError> {
        let actor = Actor {
            user: &user.id,
            role: user.role,
            ente: &user.ente,
            active: user.active,
            profile: &user.profile,
        };
        match authorize(&actor, action) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.record(
                    &user.id,
                    user.role.as_str(),
                    action.as_str(),
                    request,
                    "denied",
                )?;
                Err(e.into())
            }
        }
    }

    /// The installation's settings.
    ///
    /// # Errors
    /// `rivestizione_setup` before [`Self::setup`].
    pub fn settings(&self) -> Result<Settings, WorkflowError> {
        self.store.settings()?.ok_or(WorkflowError::Setup(
            "il modulo non è ancora configurato: l'Anagrafe lo configura con setup",
        ))
    }

    /// Sets the module up: its settings, the Anagrafe's ente and the first
    /// TOP user (`top_id`, named `top_name`), who may obtain everything in
    /// all Italy. Only once, before any user exists.
    ///
    /// # Errors
    /// `rivestizione_setup` when a user exists already; the store's and
    /// the trail's.
    pub fn setup(
        &self,
        settings: Settings,
        anagrafe: Ente,
        top_id: &str,
        top_name: &str,
    ) -> Result<(), WorkflowError> {
        if !self.store.users()?.is_empty() {
            return Err(WorkflowError::Setup(
                "il modulo è già configurato: le impostazioni le cambia un utente TOP con configure",
            ));
        }
        let top = User {
            id: top_id.to_owned(),
            nome: top_name.to_owned(),
            role: Role::Top,
            ente: anagrafe.id.clone(),
            active: true,
            profile: Profile::new([DatoRichiesto::SchedaCompleta], Scope::Italia),
        };
        self.record(&top.id, Role::Top.as_str(), "setup", None, "ok")?;
        self.store.save_settings(&settings)?;
        self.store.save_ente(&anagrafe)?;
        if !self.store.insert_user(&top)? {
            return Err(WorkflowError::UserExists(top.id));
        }
        Ok(())
    }

    /// Changes the settings (TOP).
    ///
    /// # Errors
    /// `rivestizione_denied`; the store's and the trail's.
    pub fn configure(&self, actor: &str, settings: Settings) -> Result<(), WorkflowError> {
        let user = self.actor(actor)?;
        self.allow(&user, &Action::Configure, None)?;
        self.record(&user.id, user.role.as_str(), "configure", None, "ok")?;
        self.store.save_settings(&settings)?;
        Ok(())
    }

    /// Adds (or renames) an ente fruitore (TOP).
    ///
    /// # Errors
    /// `rivestizione_denied`; the store's and the trail's.
    pub fn add_ente(&self, actor: &str, ente: Ente) -> Result<(), WorkflowError> {
        let user = self.actor(actor)?;
        self.allow(&user, &Action::Configure, None)?;
        self.record(&user.id, user.role.as_str(), "add_ente", None, "ok")?;
        self.store.save_ente(&ente)?;
        Ok(())
    }

    /// Registers `user` (TOP: any; ADMIN: a STANDARD user of its own ente,
    /// within its own profile).
    ///
    /// # Errors
    /// `rivestizione_denied`, `rivestizione_profile`,
    /// `rivestizione_no_ente`, `rivestizione_user_exists`.
    pub fn register_user(&self, actor: &str, user: User) -> Result<(), WorkflowError> {
        let me = self.actor(actor)?;
        self.allow(
            &me,
            &Action::RegisterUser {
                ente: &user.ente,
                role: user.role,
            },
            None,
        )?;
        self.allow(
            &me,
            &Action::SetProfile {
                user: &user.id,
                ente: &user.ente,
                role: user.role,
                profile: &user.profile,
            },
            None,
        )?;
        if self.store.ente(&user.ente)?.is_none() {
            return Err(WorkflowError::NoSuchEnte(
                user.ente.chars().take(64).collect(),
            ));
        }
        self.record(&me.id, me.role.as_str(), "register_user", None, "ok")?;
        if !self.store.insert_user(&user)? {
            return Err(WorkflowError::UserExists(user.id));
        }
        Ok(())
    }

    /// Gives `user` a new profile, and enables or disables them (TOP: any;
    /// ADMIN: its ente's STANDARD users, within its own profile).
    ///
    /// # Errors
    /// `rivestizione_denied`, `rivestizione_profile`, `rivestizione_no_user`.
    pub fn set_profile(
        &self,
        actor: &str,
        user: &str,
        profile: Profile,
        active: bool,
    ) -> Result<(), WorkflowError> {
        let me = self.actor(actor)?;
        let target = self.actor(user)?;
        self.allow(
            &me,
            &Action::SetProfile {
                user: &target.id,
                ente: &target.ente,
                role: target.role,
                profile: &profile,
            },
            None,
        )?;
        self.record(&me.id, me.role.as_str(), "set_profile", None, "ok")?;
        self.store.update_user(&User {
            profile,
            active,
            ..target
        })?;
        Ok(())
    }

    /// Submits a request (STANDARD): the subjects of `file` (its bad rows
    /// are counted, never sent), with the `motivo` ANPR requires, asking
    /// the data sets `asked` (default: the user's whole profile, restricted
    /// to what the worker can obtain) in the user's scope. Returns the
    /// request's number.
    ///
    /// # Errors
    /// `rivestizione_motivo`, `rivestizione_empty`, `rivestizione_denied`,
    /// `rivestizione_profile`, `rivestizione_not_deliverable`.
    pub fn submit(
        &self,
        actor: &str,
        motivo: &str,
        asked: Option<BTreeSet<DatoRichiesto>>,
        file: SubjectFile,
    ) -> Result<i64, WorkflowError> {
        let me = self.actor(actor)?;
        let motivo = check_motivo(motivo)?;
        let asked = match asked {
            Some(data) => deliverable(
                &Profile {
                    data,
                    scope: me.profile.scope,
                },
                false,
            )?,
            None => deliverable(&me.profile, true)?,
        };
        self.allow(&me, &Action::Submit { asked: &asked }, None)?;
        if file.subjects.is_empty() {
            return Err(RivestizioneError::Empty.into());
        }
        let id = self.store.insert_request(
            &NewRequest {
                owner: &me.id,
                ente: &me.ente,
                motivo,
                asked: &asked,
                at: self.clock.now(),
                bad_rows: file.bad.len() as u64,
            },
            &file.subjects,
        )?;
        self.record(&me.id, me.role.as_str(), "submit", Some(id), "ok")?;
        Ok(id)
    }

    fn decide(
        &self,
        actor: &str,
        id: i64,
        event: Event,
        reason: Option<&str>,
    ) -> Result<(), WorkflowError> {
        let me = self.actor(actor)?;
        self.allow(&me, &Action::Decide, Some(id))?;
        let req = self
            .store
            .request(id)?
            .ok_or(WorkflowError::NoSuchRequest(id))?;
        let to = transition(req.state, event)?;
        let update = StateUpdate {
            at: self.clock.now(),
            by: Some(&me.id),
            reason,
            ..StateUpdate::default()
        };
        if !self.store.set_state(id, req.state, to, &update)? {
            // Someone else moved it first (the silent assent, another TOP).
            let now = self.store.request(id)?.map_or(req.state, |r| r.state);
            return Err(RivestizioneError::State {
                state: now.as_str(),
                event: event.as_str(),
            }
            .into());
        }
        self.record(&me.id, me.role.as_str(), event.as_str(), Some(id), "ok")?;
        Ok(())
    }

    /// Approves request `id` (TOP): the worker will process it.
    ///
    /// # Errors
    /// `rivestizione_denied`, `rivestizione_state`, `rivestizione_no_request`.
    pub fn approve(&self, actor: &str, id: i64) -> Result<(), WorkflowError> {
        self.decide(actor, id, Event::Approve, None)
    }

    /// Rejects request `id` (TOP) with `reason`: nothing reaches ANPR.
    ///
    /// # Errors
    /// `rivestizione_denied`, `rivestizione_state`, `rivestizione_motivo`
    /// (an empty reason).
    pub fn reject(&self, actor: &str, id: i64, reason: &str) -> Result<(), WorkflowError> {
        let reason = check_motivo(reason)?;
        self.decide(actor, id, Event::Reject, Some(reason))
    }

    /// Request `id`, if `actor` may see it (TOP: all; ADMIN: its ente's;
    /// STANDARD: its own).
    ///
    /// # Errors
    /// `rivestizione_denied`, `rivestizione_no_request`.
    pub fn request(&self, actor: &str, id: i64) -> Result<RequestRecord, WorkflowError> {
        let me = self.actor(actor)?;
        let req = self
            .store
            .request(id)?
            .ok_or(WorkflowError::NoSuchRequest(id))?;
        self.allow(
            &me,
            &Action::View {
                owner: &req.owner,
                ente: &req.ente,
            },
            Some(id),
        )?;
        Ok(req)
    }

    /// The requests `actor` may see, oldest first.
    ///
    /// # Errors
    /// `rivestizione_no_user`; the store's.
    pub fn requests(&self, actor: &str) -> Result<Vec<RequestRecord>, WorkflowError> {
        let me = self.actor(actor)?;
        let profile = me.profile.clone();
        let a = Actor {
            user: &me.id,
            role: me.role,
            ente: &me.ente,
            active: me.active,
            profile: &profile,
        };
        Ok(self
            .store
            .requests()?
            .into_iter()
            .filter(|r| {
                authorize(
                    &a,
                    &Action::View {
                        owner: &r.owner,
                        ente: &r.ente,
                    },
                )
                .is_ok()
            })
            .collect())
    }

    /// The response file of request `id` (its requester only, once done),
    /// recorded as downloaded.
    ///
    /// # Errors
    /// `rivestizione_denied`, `rivestizione_not_ready`.
    pub fn download(&self, actor: &str, id: i64) -> Result<PathBuf, WorkflowError> {
        let me = self.actor(actor)?;
        let req = self
            .store
            .request(id)?
            .ok_or(WorkflowError::NoSuchRequest(id))?;
        self.allow(&me, &Action::Download { owner: &req.owner }, Some(id))?;
        let file = match (req.state, &req.file) {
            (State::Done, Some(f)) => self.files.join(f),
            _ => {
                return Err(WorkflowError::NotReady {
                    id,
                    state: req.state.label(),
                })
            }
        };
        self.record(&me.id, me.role.as_str(), "download", Some(id), "ok")?;
        Ok(file)
    }

    /// The report of `ente` (or of every ente: `None`) over the requests
    /// submitted in `[from, to)` (seconds since the epoch; `None`: open),
    /// one row per user (TOP: any ente; ADMIN: its own).
    ///
    /// # Errors
    /// `rivestizione_denied`; the store's.
    pub fn report(
        &self,
        actor: &str,
        ente: Option<&str>,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<Vec<ReportRow>, WorkflowError> {
        let me = self.actor(actor)?;
        self.allow(&me, &Action::Report { ente }, None)?;
        self.record(&me.id, me.role.as_str(), "report", None, "ok")?;
        let comuni: std::collections::BTreeMap<String, String> = self
            .store
            .enti()?
            .into_iter()
            .map(|e| (e.id, e.comune))
            .collect();
        let mut rows: std::collections::BTreeMap<(String, String), (ReportRow, u64, u64)> =
            std::collections::BTreeMap::new();
        for r in self.store.requests()? {
            if ente.is_some_and(|e| e != r.ente)
                || from.is_some_and(|f| r.submitted_at < f)
                || to.is_some_and(|t| r.submitted_at >= t)
            {
                continue;
            }
            let (row, sum, n) = rows
                .entry((r.ente.clone(), r.owner.clone()))
                .or_insert_with(|| {
                    (
                        ReportRow {
                            comune: comuni.get(&r.ente).cloned().unwrap_or_default(),
                            ente: r.ente.clone(),
                            user: r.owner.clone(),
                            ..ReportRow::default()
                        },
                        0,
                        0,
                    )
                });
            row.requests += 1;
            row.subjects += r.subjects;
            match r.state {
                State::Rejected => row.rejected += 1,
                State::Failed => row.failed += 1,
                State::Done | State::Expired => {
                    row.done += 1;
                    if let Some(f) = r.finished_at {
                        *sum += (f - r.submitted_at).unsigned_abs();
                        *n += 1;
                    }
                }
                _ => {}
            }
            for s in self.store.subjects(r.id)? {
                if let Some(o) = s.outcome {
                    if let Some(i) = Outcome::ALL.iter().position(|x| *x == o.outcome) {
                        row.outcomes[i] += 1;
                    }
                }
            }
        }
        Ok(rows
            .into_values()
            .map(|(mut row, sum, n)| {
                row.mean_turnaround_seconds = (n > 0).then(|| sum / n);
                row
            })
            .collect())
    }
}

/// `asked` restricted to what the worker can obtain: `SchedaCompleta`
/// becomes every deliverable set. With `lenient` (the user's whole profile
/// by default), other sets are dropped; otherwise they are refused.
fn deliverable(asked: &Profile, lenient: bool) -> Result<Profile, WorkflowError> {
    let mut data = BTreeSet::new();
    for d in &asked.data {
        if *d == DatoRichiesto::SchedaCompleta {
            data.extend(DELIVERABLE);
        } else if DELIVERABLE.contains(d) {
            data.insert(*d);
        } else if !lenient {
            return Err(WorkflowError::NotDeliverable(d.label()));
        }
    }
    let p = Profile {
        data,
        scope: asked.scope,
    };
    if p.data.is_empty() {
        return Err(RivestizioneError::ProfileExceeded {
            what: String::from("nessun dato ottenibile (generalità, residenza o famiglia)"),
        }
        .into());
    }
    Ok(p)
}

#[cfg(test)]
mod tests;
