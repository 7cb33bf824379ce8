//! [`OperationIds`]: the `idOperazioneClient` store.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anist_core::anpr::e002::IdOperazioneClient;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::AnprClientError;

/// The last `idOperazioneClient` sent, in a small SQLite file (created
/// 0600): each [`Self::next`] reads it, computes the next one
/// ([`IdOperazioneClient::next`]: the time in milliseconds, or last + 1)
/// and writes it back in one `IMMEDIATE` transaction, so that two
/// processes sharing the file never send the same id and ids strictly
/// increase across runs (ANPR answers a reused id with the earlier answer).
pub struct OperationIds {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl fmt::Debug for OperationIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperationIds")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn state(e: impl fmt::Display) -> AnprClientError {
    AnprClientError::OperationIds {
        reason: e.to_string(),
    }
}

impl OperationIds {
    /// Opens (creating if needed) the store at `path`.
    ///
    /// # Errors
    /// [`AnprClientError::OperationIds`].
    pub fn open(path: &Path) -> Result<Self, AnprClientError> {
        crate::files::prepare_private_sqlite(path).map_err(state)?;
        let conn = Connection::open(path).map_err(state)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(state)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS anpr_operation_id (one INTEGER PRIMARY KEY CHECK (one = 1), last TEXT NOT NULL);",
        )
        .map_err(state)?;
        crate::files::prepare_private_sqlite(path).map_err(state)?;
        Ok(Self {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last id handed out (0 when none).
    ///
    /// # Errors
    /// [`AnprClientError::OperationIds`].
    pub fn last(&self) -> Result<u64, AnprClientError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        read_last(&conn)
    }

    /// The next id, `> ` every id handed out before from this file.
    ///
    /// # Errors
    /// [`AnprClientError::OperationIds`].
    pub fn next(&self, now_millis: u64) -> Result<IdOperazioneClient, AnprClientError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(state)?;
        let last = read_last(&tx)?;
        let next = IdOperazioneClient::next(last, now_millis);
        tx.execute(
            "INSERT INTO anpr_operation_id(one, last) VALUES (1, ?1) ON CONFLICT(one) DO UPDATE SET last = excluded.last",
            [next.to_string()],
        )
        .map_err(state)?;
        tx.commit().map_err(state)?;
        Ok(IdOperazioneClient::from_number(next))
    }
}

fn read_last(conn: &Connection) -> Result<u64, AnprClientError> {
    let last: Option<String> = conn
        .query_row(
            "SELECT last FROM anpr_operation_id WHERE one = 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(state)?;
    match last {
        None => Ok(0),
        Some(s) => s
            .parse()
            .map_err(|_| state("the stored last id is not a number")),
    }
}
