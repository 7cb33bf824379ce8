//! SIDI synchronisation around the pure engine of [`anist_core::sidi`]:
//!
//! - [`store`]: the [`LocalStore`] trait a school-software vendor
//!   implements over their own database, [`apply_plan`] (one atomic
//!   commit), and [`SqliteStore`] (file created 0600, WAL, one transaction
//!   per apply) for the CLI, the tests and small schools;
//! - [`interchange`]: the SIDI side as a file (documented JSON and CSV
//!   layouts; the real SIDI download format is not public, so this is the
//!   one module to swap);
//! - [`sandbox`]: a deterministic synthetic school and a local database
//!   drifted from it in every way the comparison handles.
//!
//! ```
//! use anist_client::sidi::{apply_plan, sandbox, LocalStore, SqliteStore};
//! use anist_core::sidi::{self, Decision};
//!
//! let school = sandbox::generate(7, 120, 2026);
//! let mut store = SqliteStore::in_memory()?;
//! store.commit(&anist_client::sidi::full_changeset(&school.local))?;
//! let mut plan = sidi::diff(&store.load()?, &school.sidi);
//! assert!(!plan.pending().is_empty());
//! // Automatic mode: apply what needs no decision, leave the rest pending.
//! let report = apply_plan(&mut store, &plan)?;
//! assert_eq!(report.pending, plan.pending());
//! // Guided mode: decide (here: accept SIDI / keep local-only), apply again.
//! sidi::decide_with(&mut plan, |a| match a.kind_name() {
//!     "local_only" => Some(Decision::KeepLocalOnly),
//!     _ => Some(Decision::AcceptSidi),
//! });
//! apply_plan(&mut store, &plan)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod interchange;
pub mod sandbox;
pub mod store;

pub use interchange::{read_any, read_csv, read_json, InterchangeError, ReadSnapshot, RowProblem};
pub use store::{apply_plan, full_changeset, LocalStore, SqliteStore, StoreError};

use std::path::{Path, PathBuf};

use anist_core::sidi::{self as core_sidi, ApplyReport, Plan};
use anist_core::{CodeSamples, ErrorCode, ErrorKind};

/// Why a file-level SIDI operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The SIDI interchange file.
    #[error(transparent)]
    Interchange(#[from] InterchangeError),
    /// The local store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file cannot be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A plan is not the JSON `anist sidi diff --json` writes.
    #[error("il piano non è leggibile ({reason}): rigenerarlo con `anist sidi diff`")]
    Plan {
        /// What serde found.
        reason: String,
    },
    /// The local database does not exist.
    #[error(
        "la base dati locale {path} non esiste: crearla dal gestionale o con `anist sidi demo`"
    )]
    NoDatabase {
        /// The file.
        path: PathBuf,
    },
}

impl ErrorCode for SyncError {
    fn code(&self) -> &'static str {
        match self {
            SyncError::Interchange(e) => e.code(),
            SyncError::Store(e) => e.code(),
            SyncError::Io { .. } => "sidi_io",
            SyncError::Plan { .. } => "sidi_plan",
            SyncError::NoDatabase { .. } => "sidi_no_database",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            SyncError::Interchange(e) => e.kind(),
            SyncError::Store(e) => e.kind(),
            SyncError::Io { .. } | SyncError::Plan { .. } | SyncError::NoDatabase { .. } => {
                ErrorKind::Sidi
            }
        }
    }
}

#[doc(hidden)]
impl CodeSamples for SyncError {
    fn samples() -> Vec<Self> {
        let mut v: Vec<SyncError> = InterchangeError::samples()
            .into_iter()
            .map(SyncError::Interchange)
            .collect();
        v.extend(StoreError::samples().into_iter().map(SyncError::Store));
        v.extend([
            SyncError::Io {
                path: PathBuf::from("sidi.json"),
                reason: "not found".into(),
            },
            SyncError::Plan {
                reason: "expected an object".into(),
            },
            SyncError::NoDatabase {
                path: PathBuf::from("scuola.db"),
            },
        ]);
        v
    }
}

impl SyncError {
    fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        SyncError::Io {
            path: path.to_owned(),
            reason: e.to_string(),
        }
    }
}

/// Opens an existing SQLite local database.
///
/// # Errors
/// [`SyncError::NoDatabase`], [`SyncError::Store`].
pub fn open_existing(db: &Path) -> Result<SqliteStore, SyncError> {
    if !db.exists() {
        return Err(SyncError::NoDatabase {
            path: db.to_owned(),
        });
    }
    Ok(SqliteStore::open(db)?)
}

/// Reads a SIDI interchange file (JSON or CSV layout).
///
/// # Errors
/// [`SyncError::Io`], [`SyncError::Interchange`].
pub fn read_file(path: &Path) -> Result<ReadSnapshot, SyncError> {
    let bytes = std::fs::read(path).map_err(|e| SyncError::io(path, e))?;
    Ok(read_any(&bytes)?)
}

/// Compares a SIDI file with a SQLite local database: the plan and the
/// rows of the file that were skipped.
///
/// # Errors
/// [`SyncError`].
pub fn diff_files(db: &Path, sidi: &Path) -> Result<(Plan, Vec<RowProblem>), SyncError> {
    let read = read_file(sidi)?;
    let store = open_existing(db)?;
    Ok((
        core_sidi::diff(&store.load()?, &read.snapshot),
        read.problems,
    ))
}

/// Parses a plan saved as JSON.
///
/// # Errors
/// [`SyncError::Plan`].
pub fn parse_plan(json: &[u8]) -> Result<Plan, SyncError> {
    serde_json::from_slice(json).map_err(|e| SyncError::Plan {
        reason: e.to_string(),
    })
}

/// Applies a plan to a SQLite local database, in one transaction.
///
/// # Errors
/// [`SyncError`]; then nothing was written.
pub fn apply_to_db(db: &Path, plan: &Plan) -> Result<ApplyReport, SyncError> {
    let mut store = open_existing(db)?;
    Ok(apply_plan(&mut store, plan)?)
}

/// Creates (or truncates) a file with mode 0600 whatever the umask.
///
/// # Errors
/// [`SyncError::Io`].
pub fn create_private(path: &Path) -> Result<std::fs::File, SyncError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path).map_err(|e| SyncError::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| SyncError::io(path, e))?;
    }
    Ok(file)
}

/// The files [`write_demo`] writes.
#[derive(Debug, Clone)]
pub struct DemoFiles {
    /// SIDI's side, JSON layout.
    pub sidi_json: PathBuf,
    /// SIDI's side, CSV layout.
    pub sidi_csv: PathBuf,
    /// The local database (SQLite).
    pub db: PathBuf,
    /// Pupils on SIDI.
    pub sidi_pupils: usize,
    /// Pupils in the local database.
    pub local_pupils: usize,
}

/// Writes a sandbox school into `dir` (created if missing): `sidi.json`,
/// `sidi.csv` and `locale.sqlite` (replaced), all 0600.
///
/// # Errors
/// [`SyncError`].
pub fn write_demo(
    dir: &Path,
    seed: u64,
    pupils: usize,
    start_year: u16,
) -> Result<DemoFiles, SyncError> {
    std::fs::create_dir_all(dir).map_err(|e| SyncError::io(dir, e))?;
    let school = sandbox::generate(seed, pupils, start_year);
    let sidi_json = dir.join("sidi.json");
    let f = create_private(&sidi_json)?;
    interchange::write_json(&school.sidi, std::io::BufWriter::new(f))
        .map_err(|e| SyncError::io(&sidi_json, e))?;
    let sidi_csv = dir.join("sidi.csv");
    let f = create_private(&sidi_csv)?;
    interchange::write_csv(&school.sidi, std::io::BufWriter::new(f))
        .map_err(|e| SyncError::io(&sidi_csv, e))?;
    let db = dir.join("locale.sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| SyncError::io(&p, e))?;
        }
    }
    let mut store = SqliteStore::open(&db)?;
    store.commit(&full_changeset(&school.local))?;
    Ok(DemoFiles {
        sidi_json,
        sidi_csv,
        db,
        sidi_pupils: school.sidi.alunni.len(),
        local_pupils: school.local.alunni.len(),
    })
}

/// A plan as JSON text (what [`parse_plan`] reads back).
pub fn plan_to_json(plan: &Plan) -> String {
    // A plan holds strings, numbers, maps with string keys: always
    // serialisable; the fallback is never taken.
    serde_json::to_string(plan).unwrap_or_default()
}
