//! Files that hold personal data: output CSVs, job journals, the audit
//! database (with its SQLite `-wal` / `-shm` side files), configurations
//! naming the operator. They are created readable and writable by their
//! owner only (mode 0600 on Unix) whatever the process umask, and a file
//! that already existed with wider permissions is narrowed when it is
//! opened again.
//!
//! Everything in the workspace that writes such a file goes through
//! [`open_private`] (or the helpers built on it): one rule, one place.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! let dir = std::env::temp_dir().join(format!("anist-doc-files-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("esiti.csv");
//! anist_client::files::write_private(&path, b"riga;esito\r\n")?;
//! #[cfg(unix)]
//! {
//!     use std::os::unix::fs::PermissionsExt;
//!     assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
//! }
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The SQLite side files of a database in WAL mode (and the rollback
/// journal), by suffix.
pub const SQLITE_SIDE_SUFFIXES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Opens `path` with `options`; a file it creates gets mode 0600, and the
/// file opened (created or not) is narrowed to 0600, so that neither the
/// umask nor an older, wider file leaves it readable by others.
///
/// # Errors
/// The I/O error of the open or of the permission change.
pub fn open_private(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    restrict(&file)?;
    Ok(file)
}

/// Creates (or truncates) `path` for writing, mode 0600.
///
/// # Errors
/// As [`open_private`].
pub fn create_private(path: &Path) -> io::Result<File> {
    open_private(
        path,
        OpenOptions::new().write(true).create(true).truncate(true),
    )
}

/// Writes `bytes` to `path` (created or replaced), mode 0600.
///
/// # Errors
/// As [`open_private`], or the write's.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = create_private(path)?;
    file.write_all(bytes)?;
    file.flush()
}

/// Creates `dir` (and its parents) if missing; the directory itself is
/// made mode 0700 (owner only) whatever the umask.
///
/// # Errors
/// The creation's or the permission change's.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Narrows an open file to mode 0600 (nothing on other systems).
fn restrict(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 || mode & 0o600 != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Opens the SQLite database `db` private ([`prepare_private_sqlite`]
/// before and after), in WAL mode with `synchronous = NORMAL` (durable
/// across a crash of the process; a power cut may lose the last
/// transactions) and a 10 s busy timeout: how the crate opens its journals,
/// stores and audit trail.
///
/// # Errors
/// The permission change's (`cannot create it private …`) or SQLite's, as
/// text for the caller's own error.
pub(crate) fn open_private_sqlite(db: &Path) -> Result<rusqlite::Connection, String> {
    let private = |e: io::Error| format!("cannot create it private (mode 0600): {e}");
    let sqlite = |e: rusqlite::Error| e.to_string();
    prepare_private_sqlite(db).map_err(private)?;
    let conn = rusqlite::Connection::open(db).map_err(sqlite)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sqlite)?;
    prepare_private_sqlite(db).map_err(private)?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(sqlite)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sqlite)?;
    Ok(conn)
}

/// The side files of the SQLite database `db` (`<db>-wal`, `<db>-shm`,
/// `<db>-journal`).
pub fn sqlite_side_files(db: &Path) -> Vec<PathBuf> {
    SQLITE_SIDE_SUFFIXES
        .iter()
        .map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        })
        .collect()
}

/// Prepares the SQLite database `db` before SQLite opens it: creates it
/// empty with mode 0600 when missing (SQLite then creates its `-wal` and
/// `-shm` files with the database's mode), and narrows an existing one and
/// its existing side files to 0600. Call it again after the open (and the
/// switch to WAL mode) to cover side files left by older versions.
///
/// # Errors
/// The I/O error of a creation or a permission change.
pub fn prepare_private_sqlite(db: &Path) -> io::Result<()> {
    open_private(db, OpenOptions::new().read(true).write(true).create(true))?;
    for side in sqlite_side_files(db) {
        match OpenOptions::new().read(true).write(true).open(&side) {
            Ok(file) => restrict(&file)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Removes the SQLite database `db` and its side files (those missing are
/// not an error).
///
/// # Errors
/// The first I/O error other than "not found".
pub fn remove_sqlite(db: &Path) -> io::Result<()> {
    for path in std::iter::once(db.to_path_buf()).chain(sqlite_side_files(db)) {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}
