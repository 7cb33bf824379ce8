//! The audit trail: who (operator), on which purpose, asked which e-service
//! what, when, with which outcome. Append-only and hash-chained, in a
//! SQLite file by default or, with the feature `postgres`, in the shared
//! PostgreSQL database (`AuditLog::open_postgres`), where workers of
//! several hosts append to one chain at once. Both keep the same rows,
//! hashes and head, and report the same errors.
//!
//! Each row stores a keyed hash of the subject (HMAC-SHA-256 with a
//! per-installation secret over the normalised code), never the code
//! itself: the trail can be shown to an auditor without disclosing whom
//! the Comune asked about, and the Comune, holding the secret, can still
//! answer "was this person looked up?" ([`AuditLog::subject_hash`]).
//!
//! # Tamper evidence, and its limits
//!
//! - Every row carries `prev_hash` (the previous row's `hash`) and `hash`,
//!   SHA-256 over a length-prefixed encoding of its fields and `prev_hash`.
//!   Editing a field, deleting a row in the middle (ids are consecutive)
//!   or splicing a row in breaks the chain at that row.
//! - A head record (separate table: row count, last id, last hash) is
//!   authenticated with an HMAC under the installation secret and updated
//!   in the same transaction as every insert. It detects the deletion of
//!   the last rows and forged rows appended after the head, and, since an
//!   attacker without the secret cannot recompute it, a chain rewritten
//!   from start to end.
//! - Limits: whoever holds both the database and the secret file can
//!   rewrite the whole trail undetectably; deleting the database (or the
//!   head and every row) leaves an empty, valid trail. Keep the secret
//!   readable only by the service account, back the database up, and
//!   anchor the head elsewhere from time to time ([`AuditLog::head`]).
//!
//! ```no_run
//! use anist_client::audit::{AuditEntry, AuditLog};
//! let log = AuditLog::open("audit.sqlite".as_ref(), "audit.secret".as_ref()).unwrap();
//! log.record(&AuditEntry {
//!     operator: "mario.rossi",
//!     purpose: "7b1f0e6c-purpose",
//!     eservice: "anist-verifica",
//!     operation: "verify",
//!     subject: Some("RSSMRA80A01H501U"),
//!     outcome: "found",
//!     correlation_id: None,
//!     govway_id: None,
//! }).unwrap();
//! assert_eq!(log.verify().unwrap(), 1);
//! ```

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anist_core::csvio::{CsvError, CsvWriter, WriterOptions};
use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use aws_lc_rs::{digest, hmac};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use crate::clock::{Clock, SystemClock};
use crate::encoding::{hex_lower, random_fill};

const SECRET_LEN: usize = 32;
const ROW_TAG: &[u8] = b"anist-audit-row-v1";
const HEAD_TAG: &[u8] = b"anist-audit-head-v1";
const SUBJECT_TAG: &[u8] = b"anist-audit-subject-v1";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What went wrong with the audit trail. Every variant has a stable
/// [`ErrorCode::code`]; no message carries a secret or a codice fiscale.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The database could not be opened, read or written.
    #[error("the audit database could not be used ({reason}): check the path, its permissions and the free space")]
    Storage {
        /// What SQLite or PostgreSQL said (no personal data).
        reason: String,
    },
    /// The secret file could not be created or read, or is not 32 bytes.
    #[error("the audit secret {path} could not be used: {reason}")]
    Secret {
        /// The secret file.
        path: PathBuf,
        /// What is wrong (never its content).
        reason: String,
    },
    /// The trail was altered: see [`Tampering`].
    #[error("the audit trail was altered: {0}; restore it from a backup and investigate")]
    Tampered(Tampering),
    /// A bound of an export range is neither an RFC 3339 instant nor a date.
    #[error("{bound:?} is not a time: write 2026-01-31 or 2026-01-31T08:00:00Z")]
    Range {
        /// The bound as given.
        bound: String,
    },
    /// Writing the export failed.
    #[error("the audit export could not be written: {0}")]
    Export(#[from] CsvError),
}

impl ErrorCode for AuditError {
    fn code(&self) -> &'static str {
        match self {
            AuditError::Storage { .. } => "audit_storage",
            AuditError::Secret { .. } => "audit_secret",
            AuditError::Tampered(_) => "audit_tampered",
            AuditError::Range { .. } => "audit_range",
            AuditError::Export(_) => "audit_export",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::Audit
    }
}

#[doc(hidden)]
impl CodeSamples for AuditError {
    fn samples() -> Vec<Self> {
        vec![
            AuditError::Storage {
                reason: "database is locked".into(),
            },
            AuditError::Secret {
                path: PathBuf::from("audit.secret"),
                reason: "not 32 bytes".into(),
            },
            AuditError::Tampered(Tampering::Head),
            AuditError::Range {
                bound: "ieri".into(),
            },
            AuditError::Export(CsvError::Io(io::Error::other("disk full"))),
        ]
    }
}

impl From<rusqlite::Error> for AuditError {
    fn from(e: rusqlite::Error) -> Self {
        AuditError::Storage {
            reason: e.to_string(),
        }
    }
}

/// How the trail was found altered, naming the first row concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tampering {
    /// The row's content no longer matches its hash: it was edited.
    Edited {
        /// The row.
        id: i64,
    },
    /// The row's `prev_hash` is not the previous row's hash: the row before
    /// it was replaced, or this row was spliced in.
    ChainBroken {
        /// The row.
        id: i64,
    },
    /// The row with this id is missing (ids are consecutive from 1).
    Deleted {
        /// The missing row.
        id: i64,
    },
    /// The row is not covered by the head record: it was added outside
    /// [`AuditLog::record`].
    Inserted {
        /// The row.
        id: i64,
    },
    /// The head record is missing, or its authentication code is wrong.
    Head,
}

impl Tampering {
    /// The row named, if any.
    pub fn row(&self) -> Option<i64> {
        match self {
            Tampering::Edited { id }
            | Tampering::ChainBroken { id }
            | Tampering::Deleted { id }
            | Tampering::Inserted { id } => Some(*id),
            Tampering::Head => None,
        }
    }
}

impl fmt::Display for Tampering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tampering::Edited { id } => write!(f, "row {id} was edited"),
            Tampering::ChainBroken { id } => {
                write!(
                    f,
                    "the chain breaks at row {id} (a row was replaced or inserted before it)"
                )
            }
            Tampering::Deleted { id } => write!(f, "row {id} was deleted"),
            Tampering::Inserted { id } => write!(f, "row {id} was inserted outside the audit log"),
            Tampering::Head => f.write_str("the head record is missing or forged"),
        }
    }
}

/// The audit database's file name when none is given: in the working
/// directory for single lookups, beside the output for jobs (its secret
/// at `<file>.key`).
pub const DEFAULT_FILE: &str = "anist-audit.sqlite";

/// One call to record. `subject` is the code asked about (codice fiscale or
/// ID ANPR); it is stored only as a keyed hash.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditEntry<'a> {
    /// Who asked (the operator's user id).
    pub operator: &'a str,
    /// The PDND purpose (finalità) id the call was made under.
    pub purpose: &'a str,
    /// The e-service (session name, e.g. `anist-verifica`).
    pub eservice: &'a str,
    /// The operation (e.g. `verify`, `submit_verify`, `poll`).
    pub operation: &'a str,
    /// The code asked about, if the call was about one person.
    pub subject: Option<&'a str>,
    /// The outcome: `found`, `not_found`, or a stable error code.
    pub outcome: &'a str,
    /// PDND's correlation id, when known.
    pub correlation_id: Option<&'a str>,
    /// GovWay's transaction id, when known.
    pub govway_id: Option<&'a str>,
}

/// One call about one person, for [`AuditLog::record_lookup`] (the
/// operator and the purpose come from the session).
#[derive(Debug, Clone, Copy)]
pub struct LookupCall<'a> {
    /// The e-service (session name, e.g. `anist-verifica`).
    pub eservice: &'a str,
    /// The operation (e.g. `verify`, `indicatore`).
    pub operation: &'a str,
    /// The code asked about (stored only as a keyed hash).
    pub subject: &'a str,
    /// `found`, `not_found`, `no_isee` or a stable error code.
    pub outcome: &'a str,
    /// The service's correlation id, when known.
    pub correlation_id: Option<&'a str>,
    /// GovWay's transaction id, when known.
    pub govway_id: Option<&'a str>,
}

/// One stored row, as [`AuditLog::rows`] and the export give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Consecutive from 1.
    pub id: i64,
    /// UTC, RFC 3339 (`2026-01-31T08:00:00Z`).
    pub when: String,
    /// Operator.
    pub operator: String,
    /// Purpose id.
    pub purpose: String,
    /// E-service.
    pub eservice: String,
    /// Operation.
    pub operation: String,
    /// HMAC-SHA-256 of the subject, lower-case hex.
    pub subject: Option<String>,
    /// Outcome code.
    pub outcome: String,
    /// Correlation id.
    pub correlation_id: Option<String>,
    /// GovWay id.
    pub govway_id: Option<String>,
    /// The previous row's hash (64 zeros for the first row).
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

/// The head record: how many rows the trail has and the last hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditHead {
    /// Rows recorded.
    pub count: i64,
    /// The last row's id (0 when empty).
    pub last_id: i64,
    /// The last row's hash.
    pub last_hash: String,
}

/// The audit trail. Cheap to share across tasks (`&AuditLog` is `Sync`).
pub struct AuditLog {
    backend: Backend,
    secret: Zeroizing<[u8; SECRET_LEN]>,
    clock: Arc<dyn Clock>,
}

/// Where the rows are kept.
enum Backend {
    /// One SQLite file (the default).
    Sqlite(Mutex<Connection>),
    /// The shared PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(Arc<crate::pg::Database>),
}

/// Shows neither the secret nor the rows.
impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at_unix INTEGER NOT NULL,
    at TEXT NOT NULL,
    operator TEXT NOT NULL,
    purpose TEXT NOT NULL,
    eservice TEXT NOT NULL,
    operation TEXT NOT NULL,
    subject TEXT,
    outcome TEXT NOT NULL,
    correlation_id TEXT,
    govway_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at_unix);
CREATE TABLE IF NOT EXISTS audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    count INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    mac TEXT NOT NULL
);
";

fn put(buf: &mut Vec<u8>, field: Option<&str>) {
    match field {
        None => buf.push(0),
        Some(s) => {
            buf.push(1);
            buf.extend_from_slice(&(s.len() as u64).to_be_bytes());
            buf.extend_from_slice(s.as_bytes());
        }
    }
}

/// SHA-256 over the canonical encoding of a row: a tag, the id, then each
/// field as presence byte + big-endian u64 length + UTF-8 bytes.
fn row_hash(row: &AuditRow) -> String {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(ROW_TAG);
    buf.extend_from_slice(&row.id.to_be_bytes());
    for f in [
        Some(row.when.as_str()),
        Some(row.operator.as_str()),
        Some(row.purpose.as_str()),
        Some(row.eservice.as_str()),
        Some(row.operation.as_str()),
        row.subject.as_deref(),
        Some(row.outcome.as_str()),
        row.correlation_id.as_deref(),
        row.govway_id.as_deref(),
        Some(row.prev_hash.as_str()),
    ] {
        put(&mut buf, f);
    }
    hex_lower(digest::digest(&digest::SHA256, &buf).as_ref())
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        id: r.get(0)?,
        when: r.get(1)?,
        operator: r.get(2)?,
        purpose: r.get(3)?,
        eservice: r.get(4)?,
        operation: r.get(5)?,
        subject: r.get(6)?,
        outcome: r.get(7)?,
        correlation_id: r.get(8)?,
        govway_id: r.get(9)?,
        prev_hash: r.get(10)?,
        hash: r.get(11)?,
    })
}

const COLUMNS: &str = "id, at, operator, purpose, eservice, operation, subject, outcome, \
                       correlation_id, govway_id, prev_hash, hash";

fn secret_error(path: &Path, reason: impl Into<String>) -> AuditError {
    AuditError::Secret {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Reads the secret, creating it (32 random bytes, mode 0600) if missing.
fn load_secret(path: &Path) -> Result<Zeroizing<[u8; SECRET_LEN]>, AuditError> {
    let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
    match crate::files::open_private(path, fs::OpenOptions::new().write(true).create_new(true)) {
        Ok(mut file) => {
            random_fill(secret.as_mut())
                .map_err(|_| secret_error(path, "the system random generator failed"))?;
            file.write_all(secret.as_ref())
                .and_then(|()| file.sync_all())
                .map_err(|e| secret_error(path, format!("cannot write it: {e}")))?;
            return Ok(secret);
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(secret_error(path, format!("cannot create it: {e}"))),
    }
    // An existing secret left wider by an older version or a copy is
    // narrowed to 0600 too.
    let mut file = crate::files::open_private(path, fs::OpenOptions::new().read(true))
        .map_err(|e| secret_error(path, format!("cannot read it: {e}")))?;
    let mut content = Zeroizing::new(Vec::with_capacity(SECRET_LEN + 1));
    Read::by_ref(&mut file)
        .take(SECRET_LEN as u64 + 1)
        .read_to_end(&mut content)
        .map_err(|e| secret_error(path, format!("cannot read it: {e}")))?;
    if content.len() != SECRET_LEN {
        return Err(secret_error(
            path,
            format!(
                "it holds {} bytes instead of {SECRET_LEN}: restore the original file",
                content.len()
            ),
        ));
    }
    secret.copy_from_slice(&content);
    Ok(secret)
}

/// An export bound: RFC 3339 instant, or a date (the start of the day for
/// `from`, its end for `to`), as Unix seconds.
fn parse_bound(bound: &str, end_of_day: bool) -> Result<i64, AuditError> {
    let b = bound.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(b) {
        return Ok(t.timestamp());
    }
    let date = NaiveDate::parse_from_str(b, "%Y-%m-%d").map_err(|_| AuditError::Range {
        bound: bound.chars().take(64).collect(),
    })?;
    let start = date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
    let start = start.ok_or_else(|| AuditError::Range {
        bound: bound.chars().take(64).collect(),
    })?;
    Ok(if end_of_day { start + 86_399 } else { start })
}

/// The first (and so far only) PostgreSQL schema step of the trail: the
/// same columns as the SQLite file, ids as `BIGINT`.
#[cfg(feature = "postgres")]
const PG_STEP1: &str = "
CREATE TABLE audit (
    id BIGINT PRIMARY KEY,
    at_unix BIGINT NOT NULL,
    at TEXT NOT NULL,
    operator TEXT NOT NULL,
    purpose TEXT NOT NULL,
    eservice TEXT NOT NULL,
    operation TEXT NOT NULL,
    subject TEXT,
    outcome TEXT NOT NULL,
    correlation_id TEXT,
    govway_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_at ON audit(at_unix);
CREATE TABLE audit_head (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    count BIGINT NOT NULL,
    last_id BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    mac TEXT NOT NULL
);
";

/// Rows fetched at a time from PostgreSQL by `verify` and the export.
#[cfg(feature = "postgres")]
const PG_BATCH: i32 = 500;

/// A PostgreSQL failure as [`AuditError::Storage`]: the server's message
/// and SQLSTATE only (its `DETAIL`, which may quote values, is left out).
#[cfg(feature = "postgres")]
fn pg_error(e: tokio_postgres::Error) -> AuditError {
    AuditError::Storage {
        reason: match crate::pg::PgError::from(e) {
            crate::pg::PgError::Query { reason } => reason,
            other => other.to_string(),
        },
    }
}

#[cfg(feature = "postgres")]
fn pg_read_row(r: &tokio_postgres::Row) -> Result<AuditRow, AuditError> {
    Ok(AuditRow {
        id: r.try_get(0).map_err(pg_error)?,
        when: r.try_get(1).map_err(pg_error)?,
        operator: r.try_get(2).map_err(pg_error)?,
        purpose: r.try_get(3).map_err(pg_error)?,
        eservice: r.try_get(4).map_err(pg_error)?,
        operation: r.try_get(5).map_err(pg_error)?,
        subject: r.try_get(6).map_err(pg_error)?,
        outcome: r.try_get(7).map_err(pg_error)?,
        correlation_id: r.try_get(8).map_err(pg_error)?,
        govway_id: r.try_get(9).map_err(pg_error)?,
        prev_hash: r.try_get(10).map_err(pg_error)?,
        hash: r.try_get(11).map_err(pg_error)?,
    })
}

fn lock_sqlite(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves SQLite consistent (the
    // transaction rolls back): keep using the connection.
    conn.lock().unwrap_or_else(|p| p.into_inner())
}

/// The walk of [`AuditLog::verify`], fed the rows in id order by either
/// backend, so both judge a trail alike.
struct ChainCheck {
    head: AuditHead,
    expected_id: i64,
    prev_hash: String,
    n: u64,
}

impl ChainCheck {
    fn new(head: AuditHead) -> Self {
        Self {
            head,
            expected_id: 1,
            prev_hash: GENESIS.to_owned(),
            n: 0,
        }
    }

    fn push(&mut self, row: AuditRow) -> Result<(), AuditError> {
        let tampered = |t| Err(AuditError::Tampered(t));
        if row.id > self.head.last_id {
            return tampered(Tampering::Inserted { id: row.id });
        }
        if row.id != self.expected_id {
            return tampered(Tampering::Deleted {
                id: self.expected_id,
            });
        }
        if row_hash(&row) != row.hash {
            return tampered(Tampering::Edited { id: row.id });
        }
        if row.prev_hash != self.prev_hash {
            return tampered(Tampering::ChainBroken { id: row.id });
        }
        self.prev_hash = row.hash;
        self.expected_id += 1;
        self.n += 1;
        Ok(())
    }

    fn finish(self) -> Result<u64, AuditError> {
        if self.expected_id <= self.head.last_id {
            return Err(AuditError::Tampered(Tampering::Deleted {
                id: self.expected_id,
            }));
        }
        if self.prev_hash != self.head.last_hash
            || i64::try_from(self.n).ok() != Some(self.head.count)
        {
            // Rows consistent among themselves but not with the head: the
            // last row was replaced.
            return Err(AuditError::Tampered(Tampering::Edited {
                id: self.head.last_id,
            }));
        }
        Ok(self.n)
    }
}

impl AuditLog {
    /// Opens (creating if needed) the trail at `db_path`, with the
    /// installation secret at `secret_path` (created, 32 random bytes, mode
    /// 0600, if missing), on the system clock.
    pub fn open(db_path: &Path, secret_path: &Path) -> Result<Self, AuditError> {
        Self::open_with_clock(db_path, secret_path, Arc::new(SystemClock))
    }

    /// Opens the trail at `db_path` with its secret beside it, at
    /// `<db_path>.key`: the layout every surface (CLI, Python, C) uses.
    pub fn open_beside(db_path: &Path) -> Result<Self, AuditError> {
        Self::open_beside_with_clock(db_path, Arc::new(SystemClock))
    }

    /// As [`open_beside`](Self::open_beside), with the clock that dates
    /// the rows.
    pub fn open_beside_with_clock(
        db_path: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuditError> {
        let mut secret = db_path.as_os_str().to_owned();
        secret.push(".key");
        Self::open_with_clock(db_path, Path::new(&secret), clock)
    }

    /// Records one call about one person made through `session`: the
    /// operator and the e-service's purpose are read from the session.
    /// `outcome` is `found`, `not_found`, `no_isee` or a stable error code.
    pub fn record_lookup(
        &self,
        session: &crate::session::Session,
        call: &LookupCall<'_>,
    ) -> Result<i64, AuditError> {
        let operator = session.operator_id();
        let purpose = session
            .lookup(call.eservice)
            .map(|s| s.purpose().as_str().to_string())
            .unwrap_or_default();
        self.record(&AuditEntry {
            operator: &operator,
            purpose: &purpose,
            eservice: call.eservice,
            operation: call.operation,
            subject: Some(call.subject),
            outcome: call.outcome,
            correlation_id: call.correlation_id,
            govway_id: call.govway_id,
        })
    }

    /// As [`open`](Self::open), with the clock that dates the rows.
    pub fn open_with_clock(
        db_path: &Path,
        secret_path: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuditError> {
        let secret = load_secret(secret_path)?;
        let conn = crate::files::open_private_sqlite(db_path)
            .map_err(|reason| AuditError::Storage { reason })?;
        conn.execute_batch(SCHEMA)?;
        let genesis_mac = head_mac(&secret, 0, 0, GENESIS);
        {
            let has_head: bool = conn
                .query_row("SELECT COUNT(*) FROM audit_head", [], |r| {
                    r.get::<_, i64>(0)
                })
                .map(|n| n > 0)?;
            let rows: i64 = conn.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))?;
            // A new trail gets its head; an existing trail without one is
            // reported by verify(), not silently repaired.
            if !has_head && rows == 0 {
                conn.execute(
                    "INSERT INTO audit_head(one, count, last_id, last_hash, mac) VALUES (1, 0, 0, ?1, ?2)",
                    params![GENESIS, genesis_mac],
                )?;
            }
        }
        Ok(Self {
            backend: Backend::Sqlite(Mutex::new(conn)),
            secret,
            clock,
        })
    }

    /// Opens the trail kept in the shared PostgreSQL database `db`
    /// (feature `postgres`), bringing its tables (`audit`, `audit_head`)
    /// to this version's schema. `secret_path` is the installation secret,
    /// as for [`open`](Self::open) (created, 32 random bytes, mode 0600, if
    /// missing): every host writing to the same trail must hold a copy of
    /// the same file, or the head no longer authenticates and subjects
    /// hash differently. `clock` dates the rows.
    ///
    /// Rows, hashes, the head's code and the errors are those of the
    /// SQLite trail. Any number of processes, on any number of hosts, may
    /// append at once: each [`record`](Self::record) locks the head row
    /// for its transaction, so the chain stays single and its ids
    /// consecutive.
    ///
    /// # Errors
    /// [`AuditError::Secret`]; [`AuditError::Storage`] when the schema
    /// cannot be made (its reason names a schema newer than this anist).
    #[cfg(feature = "postgres")]
    pub fn open_postgres(
        db: Arc<crate::pg::Database>,
        secret_path: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuditError> {
        use crate::pg::block_on;
        let secret = load_secret(secret_path)?;
        db.migrate("audit", &[PG_STEP1])
            .map_err(|e| AuditError::Storage {
                reason: e.to_string(),
            })?;
        let genesis_mac = head_mac(&secret, 0, 0, GENESIS);
        {
            let c = db.lock();
            // A new trail gets its head (once, however many hosts open it
            // at the same time); an existing trail without one is
            // reported by verify(), not silently repaired.
            block_on(c.execute(
                "INSERT INTO audit_head(one, count, last_id, last_hash, mac) \
                 SELECT 1, 0, 0, $1::TEXT, $2::TEXT WHERE NOT EXISTS (SELECT 1 FROM audit) \
                 ON CONFLICT (one) DO NOTHING",
                &[&GENESIS, &genesis_mac],
            ))
            .map_err(pg_error)?;
        }
        Ok(Self {
            backend: Backend::Postgres(db),
            secret,
            clock,
        })
    }

    fn hmac_hex(&self, tag: &[u8], data: &[u8]) -> String {
        hmac_hex(&self.secret, tag, data)
    }

    fn head_mac(&self, count: i64, last_id: i64, last_hash: &str) -> String {
        head_mac(&self.secret, count, last_id, last_hash)
    }

    /// The keyed hash stored for `subject`: HMAC-SHA-256 under the
    /// installation secret of the code normalised (blanks dropped,
    /// upper-case), lower-case hex. The same code always gives the same
    /// value on one installation, and an unrelated one elsewhere.
    pub fn subject_hash(&self, subject: &str) -> String {
        let canonical: String = subject
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect();
        self.hmac_hex(SUBJECT_TAG, canonical.as_bytes())
    }

    /// Appends one row (and moves the head on, in the same transaction).
    /// Returns the row's id.
    pub fn record(&self, entry: &AuditEntry<'_>) -> Result<i64, AuditError> {
        let now = self.clock.now();
        let when = DateTime::<Utc>::from_timestamp(now, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(SecondsFormat::Secs, true);
        let subject = entry.subject.map(|s| self.subject_hash(s));
        // The row following the head (count, last_id, last_hash), and the
        // head's code after it.
        let next = |count: i64, last_id: i64, last_hash: String| {
            let mut row = AuditRow {
                id: last_id + 1,
                when,
                operator: entry.operator.to_owned(),
                purpose: entry.purpose.to_owned(),
                eservice: entry.eservice.to_owned(),
                operation: entry.operation.to_owned(),
                subject,
                outcome: entry.outcome.to_owned(),
                correlation_id: entry.correlation_id.map(str::to_owned),
                govway_id: entry.govway_id.map(str::to_owned),
                prev_hash: last_hash,
                hash: String::new(),
            };
            row.hash = row_hash(&row);
            let mac = self.head_mac(count + 1, row.id, &row.hash);
            (row, mac)
        };
        match &self.backend {
            Backend::Sqlite(conn) => {
                let mut conn = lock_sqlite(conn);
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let head: Option<(i64, i64, String)> = tx
                    .query_row(
                        "SELECT count, last_id, last_hash FROM audit_head WHERE one = 1",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()?;
                let Some((count, last_id, last_hash)) = head else {
                    return Err(AuditError::Tampered(Tampering::Head));
                };
                let (row, mac) = next(count, last_id, last_hash);
                tx.execute(
                    "INSERT INTO audit(id, at_unix, at, operator, purpose, eservice, operation, subject, \
                     outcome, correlation_id, govway_id, prev_hash, hash) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    params![
                        row.id,
                        now,
                        row.when,
                        row.operator,
                        row.purpose,
                        row.eservice,
                        row.operation,
                        row.subject,
                        row.outcome,
                        row.correlation_id,
                        row.govway_id,
                        row.prev_hash,
                        row.hash
                    ],
                )?;
                tx.execute(
                    "UPDATE audit_head SET count = ?1, last_id = ?2, last_hash = ?3, mac = ?4 WHERE one = 1",
                    params![count + 1, row.id, row.hash, mac],
                )?;
                tx.commit()?;
                Ok(row.id)
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => {
                let mut c = db.lock();
                crate::pg::block_on(async {
                    let tx = c.transaction().await.map_err(pg_error)?;
                    // The head row's lock orders the writers of every host:
                    // the next one reads the head this one leaves. Three
                    // round trips hold it: the head, the row with the new
                    // head, the commit.
                    let select = db
                        .statement(
                            &tx,
                            "SELECT count, last_id, last_hash FROM audit_head WHERE one = 1 FOR UPDATE",
                        )
                        .await
                        .map_err(pg_error)?;
                    let head = tx.query_opt(&select, &[]).await.map_err(pg_error)?;
                    // Dropping the transaction rolls it back.
                    let Some(head) = head else {
                        return Err(AuditError::Tampered(Tampering::Head));
                    };
                    let count: i64 = head.try_get(0).map_err(pg_error)?;
                    let (row, mac) = next(
                        count,
                        head.try_get(1).map_err(pg_error)?,
                        head.try_get(2).map_err(pg_error)?,
                    );
                    let append = db
                        .statement(
                            &tx,
                            "WITH appended AS (\
                               INSERT INTO audit(id, at_unix, at, operator, purpose, eservice, operation, \
                               subject, outcome, correlation_id, govway_id, prev_hash, hash) \
                               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id) \
                             UPDATE audit_head SET count = $14, last_id = (SELECT id FROM appended), \
                             last_hash = $13, mac = $15 WHERE one = 1",
                        )
                        .await
                        .map_err(pg_error)?;
                    tx.execute(
                        &append,
                        &[
                            &row.id,
                            &now,
                            &row.when,
                            &row.operator,
                            &row.purpose,
                            &row.eservice,
                            &row.operation,
                            &row.subject,
                            &row.outcome,
                            &row.correlation_id,
                            &row.govway_id,
                            &row.prev_hash,
                            &row.hash,
                            &(count + 1),
                            &mac,
                        ],
                    )
                    .await
                    .map_err(pg_error)?;
                    tx.commit().await.map_err(pg_error)?;
                    Ok(row.id)
                })
            }
        }
    }

    /// The head record, authenticated: `Err(Tampered(Head))` if it is
    /// missing or its code is wrong. Write `last_hash` down elsewhere from
    /// time to time to anchor the trail.
    pub fn head(&self) -> Result<AuditHead, AuditError> {
        match &self.backend {
            Backend::Sqlite(conn) => self.head_sqlite(&lock_sqlite(conn)),
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => {
                let c = db.lock();
                crate::pg::block_on(self.head_pg(&*c))
            }
        }
    }

    fn head_sqlite(&self, conn: &Connection) -> Result<AuditHead, AuditError> {
        let head: Option<(i64, i64, String, String)> = conn
            .query_row(
                "SELECT count, last_id, last_hash, mac FROM audit_head WHERE one = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        self.check_head(head)
    }

    #[cfg(feature = "postgres")]
    async fn head_pg<C: tokio_postgres::GenericClient + Sync>(
        &self,
        c: &C,
    ) -> Result<AuditHead, AuditError> {
        let head = c
            .query_opt(
                "SELECT count, last_id, last_hash, mac FROM audit_head WHERE one = 1",
                &[],
            )
            .await
            .map_err(pg_error)?;
        let head = match head {
            Some(r) => Some((
                r.try_get(0).map_err(pg_error)?,
                r.try_get(1).map_err(pg_error)?,
                r.try_get(2).map_err(pg_error)?,
                r.try_get(3).map_err(pg_error)?,
            )),
            None => None,
        };
        self.check_head(head)
    }

    /// The head as read (count, last id, last hash, code), authenticated.
    fn check_head(
        &self,
        head: Option<(i64, i64, String, String)>,
    ) -> Result<AuditHead, AuditError> {
        let Some((count, last_id, last_hash, mac)) = head else {
            return Err(AuditError::Tampered(Tampering::Head));
        };
        let expected = self.head_mac(count, last_id, &last_hash);
        if !constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
            return Err(AuditError::Tampered(Tampering::Head));
        }
        Ok(AuditHead {
            count,
            last_id,
            last_hash,
        })
    }

    /// Checks the whole trail: the head, then every row in id order (ids
    /// consecutive from 1, each hash, each link). Returns the number of
    /// rows, or [`AuditError::Tampered`] naming the first row concerned.
    ///
    /// On PostgreSQL the head and the rows are read from one snapshot, so
    /// a trail being appended to by other hosts verifies as it stood at
    /// that instant.
    pub fn verify(&self) -> Result<u64, AuditError> {
        match &self.backend {
            Backend::Sqlite(conn) => {
                let conn = lock_sqlite(conn);
                let mut check = ChainCheck::new(self.head_sqlite(&conn)?);
                let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit ORDER BY id"))?;
                let mut rows = stmt.query([])?;
                while let Some(r) = rows.next()? {
                    check.push(read_row(r)?)?;
                }
                check.finish()
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => {
                let mut c = db.lock();
                crate::pg::block_on(async {
                    let tx = c
                        .build_transaction()
                        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                        .read_only(true)
                        .start()
                        .await
                        .map_err(pg_error)?;
                    let mut check = ChainCheck::new(self.head_pg(&tx).await?);
                    let portal = tx
                        .bind(&format!("SELECT {COLUMNS} FROM audit ORDER BY id"), &[])
                        .await
                        .map_err(pg_error)?;
                    loop {
                        let batch = tx.query_portal(&portal, PG_BATCH).await.map_err(pg_error)?;
                        for r in &batch {
                            check.push(pg_read_row(r)?)?;
                        }
                        if batch.len() < PG_BATCH as usize {
                            break;
                        }
                    }
                    let n = check.finish()?;
                    tx.commit().await.map_err(pg_error)?;
                    Ok(n)
                })
            }
        }
    }

    /// The rows recorded between `from` and `to` (inclusive), in id order.
    /// Each bound is an RFC 3339 instant or a date `YYYY-MM-DD` (from its
    /// first second, to its last, UTC); `None` leaves that side open.
    pub fn rows(&self, from: Option<&str>, to: Option<&str>) -> Result<Vec<AuditRow>, AuditError> {
        let mut out = Vec::new();
        self.each_row(from, to, |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }

    fn each_row(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        mut f: impl FnMut(AuditRow) -> Result<(), AuditError>,
    ) -> Result<(), AuditError> {
        let lo = from.map(|b| parse_bound(b, false)).transpose()?;
        let hi = to.map(|b| parse_bound(b, true)).transpose()?;
        let (lo, hi) = (lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX));
        match &self.backend {
            Backend::Sqlite(conn) => {
                let conn = lock_sqlite(conn);
                let mut stmt = conn.prepare(&format!(
                    "SELECT {COLUMNS} FROM audit WHERE at_unix >= ?1 AND at_unix <= ?2 ORDER BY id"
                ))?;
                let mut rows = stmt.query(params![lo, hi])?;
                while let Some(r) = rows.next()? {
                    f(read_row(r)?)?;
                }
                Ok(())
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(db) => {
                let mut c = db.lock();
                crate::pg::block_on(async {
                    let tx = c
                        .build_transaction()
                        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                        .read_only(true)
                        .start()
                        .await
                        .map_err(pg_error)?;
                    let portal = tx
                        .bind(
                            &format!(
                                "SELECT {COLUMNS} FROM audit \
                                 WHERE at_unix >= $1 AND at_unix <= $2 ORDER BY id"
                            ),
                            &[&lo, &hi],
                        )
                        .await
                        .map_err(pg_error)?;
                    loop {
                        let batch = tx.query_portal(&portal, PG_BATCH).await.map_err(pg_error)?;
                        for r in &batch {
                            f(pg_read_row(r)?)?;
                        }
                        if batch.len() < PG_BATCH as usize {
                            break;
                        }
                    }
                    tx.commit().await.map_err(pg_error)
                })
            }
        }
    }

    /// Writes the rows between `from` and `to` (as in [`rows`](Self::rows))
    /// as CSV (`,`, UTF-8, LF, header row) to `out`. Returns the number of
    /// rows written. The subject column holds the keyed hash only.
    pub fn export_csv<W: Write>(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        out: W,
    ) -> Result<u64, AuditError> {
        let mut w = CsvWriter::new(out, WriterOptions::machine());
        w.write_row([
            "id",
            "when",
            "operator",
            "purpose",
            "eservice",
            "operation",
            "subject_hmac",
            "outcome",
            "correlation_id",
            "govway_id",
            "prev_hash",
            "hash",
        ])?;
        let mut n = 0u64;
        self.each_row(from, to, |row| {
            let id = row.id.to_string();
            w.write_row([
                id.as_str(),
                &row.when,
                &row.operator,
                &row.purpose,
                &row.eservice,
                &row.operation,
                row.subject.as_deref().unwrap_or(""),
                &row.outcome,
                row.correlation_id.as_deref().unwrap_or(""),
                row.govway_id.as_deref().unwrap_or(""),
                &row.prev_hash,
                &row.hash,
            ])?;
            n += 1;
            Ok(())
        })?;
        w.flush()?;
        Ok(n)
    }
}

fn hmac_hex(secret: &[u8; SECRET_LEN], tag: &[u8], data: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_ref());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(tag);
    ctx.update(data);
    hex_lower(ctx.sign().as_ref())
}

/// The head's authentication code: HMAC over count, last id, last hash.
fn head_mac(secret: &[u8; SECRET_LEN], count: i64, last_id: i64, last_hash: &str) -> String {
    let mut buf = Vec::with_capacity(96);
    buf.extend_from_slice(&count.to_be_bytes());
    buf.extend_from_slice(&last_id.to_be_bytes());
    buf.extend_from_slice(last_hash.as_bytes());
    hmac_hex(secret, HEAD_TAG, &buf)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounds_are_instants_or_whole_days() {
        assert_eq!(
            parse_bound("2026-01-01T00:00:00Z", false).unwrap(),
            1_767_225_600
        );
        assert_eq!(
            parse_bound("2026-01-01T01:00:00+01:00", true).unwrap(),
            1_767_225_600
        );
        assert_eq!(parse_bound("2026-01-01", false).unwrap(), 1_767_225_600);
        assert_eq!(
            parse_bound(" 2026-01-01 ", true).unwrap(),
            1_767_225_600 + 86_399
        );
        assert_eq!(
            parse_bound("01/01/2026", false).unwrap_err().code(),
            "audit_range"
        );
    }

    proptest! {
        #[test]
        fn bounds_never_panic(s in "\\PC{0,40}") {
            let _ = parse_bound(&s, false);
            let _ = parse_bound(&s, true);
        }

        /// The row encoding is injective on field boundaries: moving text
        /// from one field to the next changes the hash.
        #[test]
        fn moving_text_between_fields_changes_the_hash(a in "[a-z]{0,8}", b in "[a-z]{1,8}") {
            let row = |operator: String, purpose: String| AuditRow {
                id: 1,
                when: String::from("2026-01-01T00:00:00Z"),
                operator,
                purpose,
                eservice: String::from("e"),
                operation: String::from("o"),
                subject: None,
                outcome: String::from("found"),
                correlation_id: None,
                govway_id: None,
                prev_hash: String::from(GENESIS),
                hash: String::new(),
            };
            let one = row(format!("{a}{b}"), String::new());
            let two = row(a.clone(), b.clone());
            prop_assert_ne!(row_hash(&one), row_hash(&two));
        }
    }
}
