//! The form kept in one SQLite file, created with mode 0600: the form as
//! JSON (one row, replaced in a transaction) and a log of what was done.

use std::path::{Path, PathBuf};

use anist_core::infanzia::Form;
use rusqlite::{params, Connection, OptionalExtension};

use super::InfanziaFileError;

const FORMAT: &str = "anist-infanzia-form-1";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS form (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY,
    action TEXT NOT NULL,
    state TEXT NOT NULL
);
";

/// The form's database.
#[derive(Debug)]
pub struct FormStore {
    conn: Connection,
    path: PathBuf,
}

fn store_error(path: &Path, e: impl std::fmt::Display) -> InfanziaFileError {
    InfanziaFileError::Store {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// Creates `path` with mode 0600 if it does not exist, and tightens it to
/// 0600 if it does (whatever the umask).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

impl FormStore {
    /// Opens the database at `path`, creating it (mode 0600) if missing.
    ///
    /// # Errors
    ///
    /// [`InfanziaFileError::Store`], also when the file is another kind of
    /// database.
    pub fn open(path: &Path) -> Result<Self, InfanziaFileError> {
        create_private(path).map_err(|e| store_error(path, e))?;
        let conn = Connection::open(path).map_err(|e| store_error(path, e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .and_then(|()| conn.execute_batch(SCHEMA))
            .map_err(|e| store_error(path, e))?;
        let format: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'format'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| store_error(path, e))?;
        match format {
            None => {
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('format', ?1)",
                    [FORMAT],
                )
                .map_err(|e| store_error(path, e))?;
            }
            Some(f) if f == FORMAT => {}
            Some(_) => {
                return Err(store_error(
                    path,
                    "il file non è un archivio del modulo SERVIZI 03 di questa versione di anist",
                ))
            }
        }
        Ok(FormStore {
            conn,
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The form, if one was saved.
    ///
    /// # Errors
    ///
    /// [`InfanziaFileError::Store`] (unreadable or corrupt).
    pub fn load(&self) -> Result<Option<Form>, InfanziaFileError> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT json FROM form WHERE id = 1", [], |r| r.get(0))
            .optional()
            .map_err(|e| store_error(&self.path, e))?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| store_error(&self.path, e)))
            .transpose()
    }

    /// The form, or [`InfanziaFileError::NoForm`].
    ///
    /// # Errors
    ///
    /// [`InfanziaFileError::NoForm`], [`InfanziaFileError::Store`].
    pub fn require(&self) -> Result<Form, InfanziaFileError> {
        self.load()?.ok_or_else(|| InfanziaFileError::NoForm {
            path: self.path.clone(),
        })
    }

    /// Saves the form (replacing the previous one) and logs `action`, in
    /// one transaction.
    ///
    /// # Errors
    ///
    /// [`InfanziaFileError::Store`].
    pub fn save(&self, form: &Form, action: &str) -> Result<(), InfanziaFileError> {
        let json = serde_json::to_string(form).map_err(|e| store_error(&self.path, e))?;
        let tx = self
            .conn
            .unchecked_transaction()
            .map_err(|e| store_error(&self.path, e))?;
        tx.execute(
            "INSERT OR REPLACE INTO form(id, json) VALUES (1, ?1)",
            params![json],
        )
        .and_then(|_| {
            tx.execute(
                "INSERT INTO log(action, state) VALUES (?1, ?2)",
                params![action, form.state.code()],
            )
        })
        .map_err(|e| store_error(&self.path, e))?;
        tx.commit().map_err(|e| store_error(&self.path, e))
    }

    /// The actions logged, oldest first: `(action, state after)`.
    ///
    /// # Errors
    ///
    /// [`InfanziaFileError::Store`].
    pub fn log(&self) -> Result<Vec<(String, String)>, InfanziaFileError> {
        let mut stmt = self
            .conn
            .prepare("SELECT action, state FROM log ORDER BY seq")
            .map_err(|e| store_error(&self.path, e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| store_error(&self.path, e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| store_error(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use anist_core::infanzia::SurveyConfig;

    #[test]
    fn created_private_and_round_trips() {
        let dir = std::env::temp_dir().join(format!("anist-infanzia-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.db");
        let _ = std::fs::remove_file(&path);
        let store = FormStore::open(&path).unwrap();
        assert!(store.load().unwrap().is_none());
        let missing = store.require().unwrap_err();
        assert_eq!(anist_core::ErrorCode::code(&missing), "infanzia_no_form");
        assert!(missing.to_string().contains("import-registry"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let form = Form::new("Comune di Prova", SurveyConfig::piemonte_2026(), vec![]);
        store.save(&form, "create").unwrap();
        drop(store);
        let store = FormStore::open(&path).unwrap();
        assert_eq!(store.load().unwrap(), Some(form));
        assert_eq!(
            store.log().unwrap(),
            [("create".to_owned(), "BOZZA".to_owned())]
        );
        // Not a form database.
        let other = dir.join("other.db");
        let _ = std::fs::remove_file(&other);
        {
            let c = Connection::open(&other).unwrap();
            c.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('format','x');").unwrap();
        }
        assert!(FormStore::open(&other).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
