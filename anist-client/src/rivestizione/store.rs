//! Where the rivestizione workflow keeps its state: a trait, so that the
//! embedded SQLite file (the default, [`SqliteStore`]) and a shared
//! database can both hold it. Every method is one transaction; state
//! changes are compare-and-set, so that two actors never make one change
//! twice (two TOP users deciding, the silent assent and a TOP, two workers
//! starting a request) and a late answer never overwrites one recorded.

use std::path::Path;

use anist_core::rivestizione::{
    Approval, Profile, Role, State, SubjectId, SubjectKind, SubjectRow,
};
use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// An ente, ufficio or organismo fruitore served by the installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ente {
    /// A short stable id (`anagrafe`, `polizia-locale`).
    pub id: String,
    /// Its name.
    pub nome: String,
    /// The ISTAT code of its Comune (6 digits).
    pub comune: String,
}

/// A user of the module. The name is an operator's, kept for the reports.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The login id.
    pub id: String,
    /// The name shown in reports.
    pub nome: String,
    /// The role.
    pub role: Role,
    /// The ente the user belongs to.
    pub ente: String,
    /// Whether the user may act.
    pub active: bool,
    /// What the user may obtain.
    pub profile: Profile,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("ente", &self.ente)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

/// The Anagrafe's choices for the installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// How requests are approved.
    pub approval: Approval,
    /// Days a completed request's files are kept before they are purged.
    pub retention_days: u32,
    /// The Comuni served, the own and the convenzionati (the residents a
    /// profile of scope `convenzionati` may ask about): each by its ISTAT
    /// code (`001272`) or its name as ANPR writes it (`TORINO`, any case).
    pub comuni: Vec<String>,
}

impl Default for Settings {
    /// Manual approval, files kept 30 days, no Comune yet.
    fn default() -> Self {
        Self {
            approval: Approval::Manual,
            retention_days: 30,
            comuni: Vec::new(),
        }
    }
}

/// A request as submitted.
#[derive(Debug, Clone)]
pub struct NewRequest<'a> {
    /// Who submits it.
    pub owner: &'a str,
    /// Their ente.
    pub ente: &'a str,
    /// The `motivoRichiesta` (checked).
    pub motivo: &'a str,
    /// What it asks (within the owner's profile).
    pub asked: &'a Profile,
    /// When (seconds since the epoch).
    pub at: i64,
    /// Rows of the file that were not valid (reported, never sent).
    pub bad_rows: u64,
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    /// Its number.
    pub id: i64,
    /// Who submitted it.
    pub owner: String,
    /// Their ente.
    pub ente: String,
    /// The `motivoRichiesta`.
    pub motivo: String,
    /// What it asks.
    pub asked: Profile,
    /// Where it stands.
    pub state: State,
    /// When it was submitted (seconds since the epoch).
    pub submitted_at: i64,
    /// When it was approved or rejected.
    pub decided_at: Option<i64>,
    /// Who approved or rejected it (`silent_assent` for the silent assent).
    pub decided_by: Option<String>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// When the worker first took it.
    pub started_at: Option<i64>,
    /// When it was done or failed.
    pub finished_at: Option<i64>,
    /// Subjects asked.
    pub subjects: u64,
    /// Subjects with their outcome.
    pub answered: u64,
    /// Rows of the file not sent.
    pub bad_rows: u64,
    /// Why it failed (a stable code).
    pub error: Option<String>,
    /// The response file's name (in the module's files directory).
    pub file: Option<String>,
    /// When the files are purged.
    pub expires_at: Option<i64>,
}

/// The outcome of one subject of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// ANPR has the subject: its data are in the file.
    Found,
    /// ANPR has no such subject.
    NotFound,
    /// The identifier matches several subjects (a document shared, an
    /// omocodia): nothing returned; ask by codice fiscale or ID ANPR.
    Ambiguous,
    /// The subject is not a resident of the Comuni the profile allows.
    OutOfScope,
    /// ANPR refused the question (its code in `codice`).
    Refused,
    /// No answer after the retries.
    Error,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 6] = [
        Outcome::Found,
        Outcome::NotFound,
        Outcome::Ambiguous,
        Outcome::OutOfScope,
        Outcome::Refused,
        Outcome::Error,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Found => "found",
            Outcome::NotFound => "not_found",
            Outcome::Ambiguous => "ambiguous",
            Outcome::OutOfScope => "out_of_scope",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
        }
    }

    /// Reads a stable name back.
    pub fn parse(s: &str) -> Option<Self> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The clerk's words (the file's `esito`).
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Found => "trovato",
            Outcome::NotFound => "non trovato",
            Outcome::Ambiguous => "più soggetti",
            Outcome::OutOfScope => "fuori ambito",
            Outcome::Refused => "rifiutato da ANPR",
            Outcome::Error => "errore",
        }
    }
}

/// The data of a subject found, by section of Tabella 16 (only the
/// sections the request asked are kept).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectData {
    /// The ID ANPR.
    pub id_anpr: String,
    /// Generalità: codice fiscale, cognome, nome, sesso, data di nascita
    /// (ISO), comune di nascita.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generalita: Option<[String; 6]>,
    /// Residenza: indirizzo, CAP, comune, codice ISTAT del comune, data di
    /// decorrenza (ISO).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residenza: Option<[String; 5]>,
    /// Famiglia: each member's codice fiscale, cognome, nome, legame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub famiglia: Vec<[String; 4]>,
}

/// What a subject's lookup gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectOutcome {
    /// The outcome.
    pub outcome: Outcome,
    /// The stable code of a refusal or an error.
    pub code: Option<String>,
    /// The data, when found.
    pub data: Option<SubjectData>,
}

/// A subject of a request as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SubjectRecord {
    /// Its position in the request (0-based).
    pub pos: i64,
    /// Its line in the request file (0: typed).
    pub line: u64,
    /// Its identifier (`None` once the request's data were purged).
    pub id: Option<SubjectId>,
    /// Who issued its document.
    pub rilascio: Option<String>,
    /// What its lookup gave, once asked.
    pub outcome: Option<SubjectOutcome>,
}

impl std::fmt::Debug for SubjectRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectRecord")
            .field("pos", &self.pos)
            .field("id", &self.id)
            .field("outcome", &self.outcome.as_ref().map(|o| o.outcome))
            .finish_non_exhaustive()
    }
}

/// The columns a state change sets besides the state.
#[derive(Debug, Clone, Default)]
pub struct StateUpdate<'a> {
    /// When (seconds since the epoch).
    pub at: i64,
    /// Who decided (approve, reject, silent assent).
    pub by: Option<&'a str>,
    /// A rejection's reason.
    pub reason: Option<&'a str>,
    /// A failure's code.
    pub error: Option<&'a str>,
    /// The response file's name (complete).
    pub file: Option<&'a str>,
    /// When the files are purged (complete).
    pub expires_at: Option<i64>,
}

/// The store could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("l'archivio della rivestizione non si può usare ({reason}): controlla il percorso, i permessi e lo spazio libero")]
pub struct StoreError {
    /// What the database said.
    pub reason: String,
}

impl ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        "rivestizione_store"
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::Local
    }
}

#[doc(hidden)]
impl CodeSamples for StoreError {
    fn samples() -> Vec<Self> {
        vec![StoreError {
            reason: "database is locked".into(),
        }]
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError {
            reason: e.to_string(),
        }
    }
}

pub(super) fn json_error(e: serde_json::Error) -> StoreError {
    StoreError {
        reason: format!("a stored value cannot be read: {e}"),
    }
}

/// Where the workflow's state lives. Implementations keep each method one
/// transaction.
pub trait Store: Send + Sync {
    /// The installation's settings (`None`: not configured yet).
    fn settings(&self) -> Result<Option<Settings>, StoreError>;
    /// Records the settings.
    fn save_settings(&self, settings: &Settings) -> Result<(), StoreError>;
    /// Records an ente (replacing one with its id).
    fn save_ente(&self, ente: &Ente) -> Result<(), StoreError>;
    /// The ente with `id`.
    fn ente(&self, id: &str) -> Result<Option<Ente>, StoreError>;
    /// Every ente.
    fn enti(&self) -> Result<Vec<Ente>, StoreError>;
    /// Records a new user; `false` when the id is taken.
    fn insert_user(&self, user: &User) -> Result<bool, StoreError>;
    /// Replaces a user's role, ente, state and profile.
    fn update_user(&self, user: &User) -> Result<(), StoreError>;
    /// The user with `id`.
    fn user(&self, id: &str) -> Result<Option<User>, StoreError>;
    /// Every user.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Records a request and its subjects (state `awaiting_approval`);
    /// its number.
    fn insert_request(
        &self,
        request: &NewRequest<'_>,
        subjects: &[SubjectRow],
    ) -> Result<i64, StoreError>;
    /// The request with `id`.
    fn request(&self, id: i64) -> Result<Option<RequestRecord>, StoreError>;
    /// Every request, oldest first.
    fn requests(&self) -> Result<Vec<RequestRecord>, StoreError>;
    /// Moves request `id` from `from` to `to` with `update`, if it is still
    /// in `from`: `false` when another actor moved it first.
    fn set_state(
        &self,
        id: i64,
        from: State,
        to: State,
        update: &StateUpdate<'_>,
    ) -> Result<bool, StoreError>;
    /// Up to `limit` subjects of request `id` not yet answered, with a
    /// position above `after`, in order.
    fn pending_subjects(
        &self,
        id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<SubjectRecord>, StoreError>;
    /// Records a subject's outcome if it has none yet (`false`: it had).
    fn record_outcome(
        &self,
        id: i64,
        pos: i64,
        outcome: &SubjectOutcome,
    ) -> Result<bool, StoreError>;
    /// Every subject of request `id`, in order.
    fn subjects(&self, id: i64) -> Result<Vec<SubjectRecord>, StoreError>;
    /// Forgets the personal data of request `id` (identifiers and data;
    /// outcomes and codes stay for the reports).
    fn forget_subjects(&self, id: i64) -> Result<(), StoreError>;
}

/// The embedded store: one SQLite file (WAL, created 0600).
pub struct SqliteStore {
    conn: std::sync::Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

const FORMAT: &str = "anist-rivestizione-1";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS enti (id TEXT PRIMARY KEY, nome TEXT NOT NULL, comune TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    nome TEXT NOT NULL,
    role TEXT NOT NULL,
    ente TEXT NOT NULL,
    active INTEGER NOT NULL,
    profile TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    ente TEXT NOT NULL,
    motivo TEXT NOT NULL,
    asked TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    decided_at INTEGER,
    decided_by TEXT,
    reason TEXT,
    started_at INTEGER,
    finished_at INTEGER,
    subjects INTEGER NOT NULL,
    bad_rows INTEGER NOT NULL,
    error TEXT,
    file TEXT,
    expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS subjects (
    request INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    line INTEGER NOT NULL,
    kind TEXT,
    value TEXT,
    rilascio TEXT,
    outcome TEXT,
    code TEXT,
    data TEXT,
    PRIMARY KEY (request, pos)
);
";

impl SqliteStore {
    /// Opens (or creates, private) the store at `path`.
    ///
    /// # Errors
    /// [`StoreError`] when the file cannot be created or is not a store of
    /// this version.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn =
            crate::files::open_private_sqlite(path).map_err(|reason| StoreError { reason })?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )?;
        let format: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match format.as_deref() {
            None => {
                conn.execute_batch(SCHEMA)?;
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('format', ?1)",
                    [FORMAT],
                )?;
            }
            Some(FORMAT) => {}
            Some(_) => {
                return Err(StoreError {
                    reason: String::from(
                        "the file is not a rivestizione store of this version of anist",
                    ),
                })
            }
        }
        Ok(Self {
            conn: std::sync::Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn user_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<(User, String, String)> {
    let role: String = r.get(2)?;
    let profile: String = r.get(5)?;
    Ok((
        User {
            id: r.get(0)?,
            nome: r.get(1)?,
            role: Role::Standard,
            ente: r.get(3)?,
            active: r.get::<_, i64>(4)? != 0,
            profile: Profile::none(),
        },
        role,
        profile,
    ))
}

pub(super) fn finish_user(
    (mut u, role, profile): (User, String, String),
) -> Result<User, StoreError> {
    u.role = Role::parse(&role).ok_or_else(|| StoreError {
        reason: format!("a stored role is not known: {role}"),
    })?;
    u.profile = serde_json::from_str(&profile).map_err(json_error)?;
    Ok(u)
}

const REQUEST_COLUMNS: &str = "id, owner, ente, motivo, asked, state, submitted_at, decided_at, \
     decided_by, reason, started_at, finished_at, subjects, bad_rows, error, file, expires_at, \
     (SELECT COUNT(*) FROM subjects s WHERE s.request = requests.id AND s.outcome IS NOT NULL)";

pub(super) type RawRequest = (RequestRecord, String, String);

fn request_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRequest> {
    let u = |i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.unsigned_abs()) };
    Ok((
        RequestRecord {
            id: r.get(0)?,
            owner: r.get(1)?,
            ente: r.get(2)?,
            motivo: r.get(3)?,
            asked: Profile::none(),
            state: State::AwaitingApproval,
            submitted_at: r.get(6)?,
            decided_at: r.get(7)?,
            decided_by: r.get(8)?,
            reason: r.get(9)?,
            started_at: r.get(10)?,
            finished_at: r.get(11)?,
            subjects: u(12)?,
            bad_rows: u(13)?,
            error: r.get(14)?,
            file: r.get(15)?,
            expires_at: r.get(16)?,
            answered: u(17)?,
        },
        r.get(4)?,
        r.get(5)?,
    ))
}

pub(super) fn finish_request(
    (mut q, asked, state): RawRequest,
) -> Result<RequestRecord, StoreError> {
    q.asked = serde_json::from_str(&asked).map_err(json_error)?;
    q.state = State::parse(&state).ok_or_else(|| StoreError {
        reason: format!("a stored state is not known: {state}"),
    })?;
    Ok(q)
}

pub(super) type RawSubject = (
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    [Option<String>; 3],
);

fn subject_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawSubject> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        [r.get(5)?, r.get(6)?, r.get(7)?],
    ))
}

pub(super) fn finish_subject(
    (pos, line, kind, value, rilascio, [outcome, code, data]): RawSubject,
) -> Result<SubjectRecord, StoreError> {
    let damaged = || StoreError {
        reason: String::from("a stored subject cannot be read"),
    };
    let id = match (kind, value) {
        (Some(k), Some(v)) if !v.is_empty() => {
            let kind = SubjectKind::ALL
                .into_iter()
                .find(|x| x.as_str() == k)
                .ok_or_else(damaged)?;
            Some(SubjectId::parse(kind, &v).map_err(|_| damaged())?)
        }
        _ => None,
    };
    let outcome = match outcome {
        None => None,
        Some(o) => Some(SubjectOutcome {
            outcome: Outcome::parse(&o).ok_or_else(damaged)?,
            code,
            data: data
                .map(|d| serde_json::from_str(&d))
                .transpose()
                .map_err(json_error)?,
        }),
    };
    Ok(SubjectRecord {
        pos,
        line: line.unsigned_abs(),
        id,
        rilascio,
        outcome,
    })
}

const SUBJECT_COLUMNS: &str = "pos, line, kind, value, rilascio, outcome, code, data";

impl Store for SqliteStore {
    fn settings(&self) -> Result<Option<Settings>, StoreError> {
        let v: Option<String> = self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = 'settings'", [], |r| {
                r.get(0)
            })
            .optional()?;
        v.map(|v| serde_json::from_str(&v).map_err(json_error))
            .transpose()
    }

    fn save_settings(&self, settings: &Settings) -> Result<(), StoreError> {
        let json = serde_json::to_string(settings).map_err(json_error)?;
        self.conn().execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('settings', ?1)",
            [json],
        )?;
        Ok(())
    }

    fn save_ente(&self, ente: &Ente) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT OR REPLACE INTO enti(id, nome, comune) VALUES (?1, ?2, ?3)",
            params![ente.id, ente.nome, ente.comune],
        )?;
        Ok(())
    }

    fn ente(&self, id: &str) -> Result<Option<Ente>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, nome, comune FROM enti WHERE id = ?1",
                [id],
                |r| {
                    Ok(Ente {
                        id: r.get(0)?,
                        nome: r.get(1)?,
                        comune: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    fn enti(&self) -> Result<Vec<Ente>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT id, nome, comune FROM enti ORDER BY id")?;
        let v = st
            .query_map([], |r| {
                Ok(Ente {
                    id: r.get(0)?,
                    nome: r.get(1)?,
                    comune: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(v)
    }

    fn insert_user(&self, user: &User) -> Result<bool, StoreError> {
        let profile = serde_json::to_string(&user.profile).map_err(json_error)?;
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO users(id, nome, role, ente, active, profile) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                user.id,
                user.nome,
                user.role.as_str(),
                user.ente,
                i64::from(user.active),
                profile
            ],
        )?;
        Ok(n == 1)
    }

    fn update_user(&self, user: &User) -> Result<(), StoreError> {
        let profile = serde_json::to_string(&user.profile).map_err(json_error)?;
        self.conn().execute(
            "UPDATE users SET nome = ?2, role = ?3, ente = ?4, active = ?5, profile = ?6 WHERE id = ?1",
            params![
                user.id,
                user.nome,
                user.role.as_str(),
                user.ente,
                i64::from(user.active),
                profile
            ],
        )?;
        Ok(())
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let raw = self
            .conn()
            .query_row(
                "SELECT id, nome, role, ente, active, profile FROM users WHERE id = ?1",
                [id],
                user_of,
            )
            .optional()?;
        raw.map(finish_user).transpose()
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let conn = self.conn();
        let mut st =
            conn.prepare("SELECT id, nome, role, ente, active, profile FROM users ORDER BY id")?;
        let raw = st.query_map([], user_of)?.collect::<Result<Vec<_>, _>>()?;
        raw.into_iter().map(finish_user).collect()
    }

    fn insert_request(
        &self,
        request: &NewRequest<'_>,
        subjects: &[SubjectRow],
    ) -> Result<i64, StoreError> {
        let asked = serde_json::to_string(request.asked).map_err(json_error)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO requests(owner, ente, motivo, asked, state, submitted_at, subjects, bad_rows) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                request.owner,
                request.ente,
                request.motivo,
                asked,
                State::AwaitingApproval.as_str(),
                request.at,
                i64::try_from(subjects.len()).unwrap_or(i64::MAX),
                i64::try_from(request.bad_rows).unwrap_or(i64::MAX),
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut st = tx.prepare(
                "INSERT INTO subjects(request, pos, line, kind, value, rilascio) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (pos, s) in subjects.iter().enumerate() {
                st.execute(params![
                    id,
                    i64::try_from(pos).unwrap_or(i64::MAX),
                    i64::try_from(s.line).unwrap_or(i64::MAX),
                    s.id.kind().as_str(),
                    s.id.value(),
                    s.rilascio,
                ])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    fn request(&self, id: i64) -> Result<Option<RequestRecord>, StoreError> {
        let raw = self
            .conn()
            .query_row(
                &format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?1"),
                [id],
                request_of,
            )
            .optional()?;
        raw.map(finish_request).transpose()
    }

    fn requests(&self) -> Result<Vec<RequestRecord>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {REQUEST_COLUMNS} FROM requests ORDER BY id"
        ))?;
        let raw = st
            .query_map([], request_of)?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter().map(finish_request).collect()
    }

    fn set_state(
        &self,
        id: i64,
        from: State,
        to: State,
        u: &StateUpdate<'_>,
    ) -> Result<bool, StoreError> {
        let (from, to) = (from.as_str(), to.as_str());
        let conn = self.conn();
        let n = match to {
            "approved" | "rejected" => conn.execute(
                "UPDATE requests SET state = ?3, decided_at = ?4, decided_by = ?5, reason = ?6 \
                 WHERE id = ?1 AND state = ?2",
                params![id, from, to, u.at, u.by, u.reason],
            )?,
            "processing" => conn.execute(
                "UPDATE requests SET state = ?3, started_at = COALESCE(started_at, ?4) \
                 WHERE id = ?1 AND state = ?2",
                params![id, from, to, u.at],
            )?,
            "done" => conn.execute(
                "UPDATE requests SET state = ?3, finished_at = ?4, file = ?5, expires_at = ?6 \
                 WHERE id = ?1 AND state = ?2",
                params![id, from, to, u.at, u.file, u.expires_at],
            )?,
            "failed" => conn.execute(
                "UPDATE requests SET state = ?3, finished_at = ?4, error = ?5 \
                 WHERE id = ?1 AND state = ?2",
                params![id, from, to, u.at, u.error],
            )?,
            _ => conn.execute(
                "UPDATE requests SET state = ?3 WHERE id = ?1 AND state = ?2",
                params![id, from, to],
            )?,
        };
        Ok(n == 1)
    }

    fn pending_subjects(
        &self,
        id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<SubjectRecord>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects \
             WHERE request = ?1 AND pos > ?2 AND outcome IS NULL ORDER BY pos LIMIT ?3"
        ))?;
        let raw = st
            .query_map(
                params![id, after, i64::try_from(limit).unwrap_or(i64::MAX)],
                subject_of,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter().map(finish_subject).collect()
    }

    fn record_outcome(&self, id: i64, pos: i64, o: &SubjectOutcome) -> Result<bool, StoreError> {
        let data = o
            .data
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(json_error)?;
        let n = self.conn().execute(
            "UPDATE subjects SET outcome = ?3, code = ?4, data = ?5 \
             WHERE request = ?1 AND pos = ?2 AND outcome IS NULL",
            params![id, pos, o.outcome.as_str(), o.code, data],
        )?;
        Ok(n == 1)
    }

    fn subjects(&self, id: i64) -> Result<Vec<SubjectRecord>, StoreError> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE request = ?1 ORDER BY pos"
        ))?;
        let raw = st
            .query_map([id], subject_of)?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter().map(finish_subject).collect()
    }

    fn forget_subjects(&self, id: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE subjects SET kind = NULL, value = NULL, rilascio = NULL, data = NULL \
             WHERE request = ?1",
            [id],
        )?;
        Ok(())
    }
}
