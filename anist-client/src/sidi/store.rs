//! The local database the engine aligns: a trait a school-software vendor
//! implements over their own database, and a SQLite implementation for the
//! CLI, the tests and small schools.

use std::path::{Path, PathBuf};

use anist_core::sidi::{
    self, ApplyReport, Change, ChangeSet, Entity, LocalRecord, LocalSchool, Plan, Provenance,
    SidiError, SidiMark, SyncField, TableKind, Tracked,
};
use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use rusqlite::{params, Connection};

/// Why the local store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The engine refused (a locked field, an unknown record…).
    #[error(transparent)]
    Sidi(#[from] SidiError),
    /// The database failed.
    #[error("la base dati locale non risponde ({0}): controllare il file e riprovare")]
    Database(#[from] rusqlite::Error),
    /// The database file cannot be created.
    #[error("impossibile creare la base dati locale {path}: {reason}")]
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The database holds a value the engine does not know.
    #[error("la base dati locale contiene un valore non riconosciuto ({what}): non è una base dati anist sidi o è di un'altra versione")]
    Corrupt {
        /// What.
        what: String,
    },
    /// The apply was interrupted (nothing was written).
    #[error("l'allineamento è stato interrotto: nessuna modifica è stata scritta, ripetere la sincronizzazione")]
    Interrupted,
}

impl ErrorCode for StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::Sidi(e) => e.code(),
            StoreError::Database(_) => "sidi_store",
            StoreError::Create { .. } => "sidi_store_create",
            StoreError::Corrupt { .. } => "sidi_store_corrupt",
            StoreError::Interrupted => "sidi_store_interrupted",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Sidi(e) => e.kind(),
            StoreError::Database(_)
            | StoreError::Create { .. }
            | StoreError::Corrupt { .. }
            | StoreError::Interrupted => ErrorKind::Sidi,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for StoreError {
    fn samples() -> Vec<Self> {
        vec![
            // SidiError's own samples are in anist-core.
            StoreError::Sidi(SidiError::NoSuchAction { id: 1 }),
            StoreError::Database(rusqlite::Error::InvalidQuery),
            StoreError::Create {
                path: PathBuf::from("scuola.db"),
                reason: "permission denied".into(),
            },
            StoreError::Corrupt {
                what: "stato_frequenza".into(),
            },
            StoreError::Interrupted,
        ]
    }
}

/// What the engine needs from a school's local database. `commit` must be
/// atomic: every change of the set, or none.
pub trait LocalStore {
    /// The whole school as the engine sees it.
    ///
    /// # Errors
    /// The store's.
    fn load(&self) -> Result<LocalSchool, StoreError>;

    /// Writes a change set, all or nothing.
    ///
    /// # Errors
    /// The store's; nothing is written then.
    fn commit(&mut self, changes: &ChangeSet) -> Result<(), StoreError>;

    /// A local edit of one synchronisable field, refused on locked fields.
    ///
    /// # Errors
    /// [`SidiError::Locked`] ("modificare su SIDI e sincronizzare di
    /// nuovo"), [`SidiError::NoSuchRecord`], or the store's.
    fn edit(
        &mut self,
        entity: Entity,
        id: &str,
        field: SyncField,
        value: &str,
    ) -> Result<(), StoreError> {
        let mut school = self.load()?;
        school.edit(entity, id, field, value)?;
        let record = school
            .records(entity)
            .get(id)
            .cloned()
            .ok_or(SidiError::NoSuchRecord { entity })?;
        self.commit(&ChangeSet {
            changes: vec![Change::Upsert {
                entity,
                id: id.to_owned(),
                record,
            }],
        })
    }
}

/// Compares, then carries out a plan on a store in one commit: the
/// synced fields are overwritten and locked; pending actions are left.
///
/// # Errors
/// The store's; then nothing was written.
pub fn apply_plan<S: LocalStore + ?Sized>(
    store: &mut S,
    plan: &Plan,
) -> Result<ApplyReport, StoreError> {
    let local = store.load()?;
    let (set, report) = sidi::changes(&local, plan);
    if !set.is_empty() {
        store.commit(&set)?;
    }
    Ok(report)
}

/// The change set that writes a whole school (to seed a store).
pub fn full_changeset(school: &LocalSchool) -> ChangeSet {
    let mut changes = Vec::new();
    for entity in [Entity::Sede, Entity::Classe, Entity::Alunno] {
        for (id, record) in school.records(entity) {
            changes.push(Change::Upsert {
                entity,
                id: id.clone(),
                record: record.clone(),
            });
        }
    }
    for table in [TableKind::TempoScuola, TableKind::Indirizzo] {
        for (code, description) in school.codes.table(table) {
            changes.push(Change::Code {
                table,
                code: code.clone(),
                description: description.clone(),
            });
        }
    }
    ChangeSet { changes }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS record(
  entity TEXT NOT NULL, id TEXT NOT NULL, mark TEXT, flag TEXT,
  PRIMARY KEY(entity, id));
CREATE TABLE IF NOT EXISTS field(
  entity TEXT NOT NULL, id TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
  sync_id TEXT, locked INTEGER NOT NULL,
  PRIMARY KEY(entity, id, field));
CREATE TABLE IF NOT EXISTS local_field(
  entity TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY(entity, id, name));
CREATE TABLE IF NOT EXISTS code(
  tbl TEXT NOT NULL, code TEXT NOT NULL, description TEXT NOT NULL,
  PRIMARY KEY(tbl, code));
";

/// The SQLite local store: one file (created 0600), WAL, every commit in
/// one transaction.
pub struct SqliteStore {
    conn: Connection,
    fail_after: Option<usize>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn create_private(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| StoreError::Create {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(())
}

fn mark_str(m: Option<SidiMark>) -> Option<&'static str> {
    m.map(|m| match m {
        SidiMark::LocalOnly => "local_only",
        SidiMark::NotForSidi => "not_for_sidi",
    })
}

impl SqliteStore {
    /// Opens (or creates, mode 0600) the database at `path`.
    ///
    /// # Errors
    /// [`StoreError::Create`], [`StoreError::Database`].
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        create_private(path)?;
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn,
            fail_after: None,
        })
    }

    /// An in-memory database (tests, one-shot comparisons).
    ///
    /// # Errors
    /// [`StoreError::Database`].
    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn,
            fail_after: None,
        })
    }

    /// Fault injection for tests: the next commits stop with
    /// [`StoreError::Interrupted`] after writing `n` changes inside their
    /// transaction (which is then rolled back). `None` switches it off.
    #[doc(hidden)]
    pub fn fail_after(&mut self, n: Option<usize>) {
        self.fail_after = n;
    }
}

impl LocalStore for SqliteStore {
    fn load(&self) -> Result<LocalSchool, StoreError> {
        let mut school = LocalSchool::default();
        let mut stmt = self
            .conn
            .prepare("SELECT entity, id, mark, flag FROM record")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        for row in rows {
            let (entity, id, mark, flag) = row?;
            let entity = Entity::parse(&entity).ok_or_else(|| StoreError::Corrupt {
                what: format!("entity {entity:?}"),
            })?;
            let mark = match mark.as_deref() {
                None => None,
                Some("local_only") => Some(SidiMark::LocalOnly),
                Some("not_for_sidi") => Some(SidiMark::NotForSidi),
                Some(other) => {
                    return Err(StoreError::Corrupt {
                        what: format!("mark {other:?}"),
                    })
                }
            };
            school.records_mut(entity).insert(
                id,
                LocalRecord {
                    mark,
                    flag,
                    ..LocalRecord::default()
                },
            );
        }
        let mut stmt = self
            .conn
            .prepare("SELECT entity, id, field, value, sync_id, locked FROM field")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        for row in rows {
            let (entity, id, field, value, sync_id, locked) = row?;
            let (Some(entity), Some(field)) = (Entity::parse(&entity), SyncField::parse(&field))
            else {
                return Err(StoreError::Corrupt {
                    what: format!("field {field:?} of {entity:?}"),
                });
            };
            let provenance = match sync_id {
                None => Provenance::Local,
                Some(sync_id) => Provenance::Sidi { sync_id },
            };
            if let Some(rec) = school.records_mut(entity).get_mut(&id) {
                rec.fields.insert(
                    field,
                    Tracked {
                        value,
                        provenance,
                        locked,
                    },
                );
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT entity, id, name, value FROM local_field")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        for row in rows {
            let (entity, id, name, value) = row?;
            if let Some(rec) =
                Entity::parse(&entity).and_then(|e| school.records_mut(e).get_mut(&id))
            {
                rec.local_only.insert(name, value);
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT tbl, code, description FROM code")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (tbl, code, description) = row?;
            let table = TableKind::parse(&tbl).ok_or_else(|| StoreError::Corrupt {
                what: format!("table {tbl:?}"),
            })?;
            school.codes.table_mut(table).insert(code, description);
        }
        Ok(school)
    }

    fn commit(&mut self, changes: &ChangeSet) -> Result<(), StoreError> {
        let fail_after = self.fail_after;
        let tx = self.conn.transaction()?;
        for (n, change) in changes.changes.iter().enumerate() {
            if fail_after == Some(n) {
                // Dropping `tx` rolls every write back.
                return Err(StoreError::Interrupted);
            }
            match change {
                Change::Upsert { entity, id, record } => {
                    let e = entity.as_str();
                    delete_record(&tx, e, id)?;
                    tx.execute(
                        "INSERT INTO record(entity, id, mark, flag) VALUES (?1, ?2, ?3, ?4)",
                        params![e, id, mark_str(record.mark), record.flag],
                    )?;
                    for (field, t) in &record.fields {
                        let sync_id = match &t.provenance {
                            Provenance::Local => None,
                            Provenance::Sidi { sync_id } => Some(sync_id.as_str()),
                        };
                        tx.execute(
                            "INSERT INTO field(entity, id, field, value, sync_id, locked) \
                             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                            params![e, id, field.as_str(), t.value, sync_id, t.locked],
                        )?;
                    }
                    for (name, value) in &record.local_only {
                        tx.execute(
                            "INSERT INTO local_field(entity, id, name, value) VALUES (?1, ?2, ?3, ?4)",
                            params![e, id, name, value],
                        )?;
                    }
                }
                Change::Delete { entity, id } => delete_record(&tx, entity.as_str(), id)?,
                Change::Code {
                    table,
                    code,
                    description,
                } => {
                    tx.execute(
                        "INSERT OR REPLACE INTO code(tbl, code, description) VALUES (?1, ?2, ?3)",
                        params![table.as_str(), code, description],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}

fn delete_record(tx: &rusqlite::Transaction<'_>, entity: &str, id: &str) -> rusqlite::Result<()> {
    for table in ["record", "field", "local_field"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE entity = ?1 AND id = ?2"),
            params![entity, id],
        )?;
    }
    Ok(())
}
