//! The few statements a shared job store runs, on either backend: SQLite
//! (one host, several processes) or PostgreSQL (several hosts). The store
//! is written once over [`Backend`]; each backend only runs a statement
//! and maps its values, so both keep exactly the same rules.
//!
//! Statements are written with PostgreSQL's `$n` placeholders (SQLite
//! reads them as `?n`) and two markers: `{now_ms}`, the database's clock in
//! milliseconds (one clock for every host's leases; `{now_us}` in
//! microseconds), and `{skip_locked}`,
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite's writers are serialised
//! by its own lock, so a claim is already exclusive there).

use std::path::Path;
use std::sync::Mutex;

use crate::bulk::BulkError;

/// A value bound to or read from a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Int(i64),
    Text(String),
    /// A NULL integer.
    NullInt,
    /// A NULL text.
    NullText,
}

impl Value {
    pub(crate) fn int(&self) -> Result<i64, BulkError> {
        match self {
            Value::Int(i) => Ok(*i),
            _ => Err(damaged("an integer was expected")),
        }
    }

    pub(crate) fn opt_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(crate) fn text(self) -> Result<String, BulkError> {
        match self {
            Value::Text(t) => Ok(t),
            _ => Err(damaged("a text was expected")),
        }
    }

    pub(crate) fn opt_text(self) -> Option<String> {
        match self {
            Value::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<Option<&str>> for Value {
    fn from(s: Option<&str>) -> Self {
        s.map_or(Value::NullText, Value::from)
    }
}

impl From<Option<i64>> for Value {
    fn from(i: Option<i64>) -> Self {
        i.map_or(Value::NullInt, Value::Int)
    }
}

pub(crate) fn damaged(what: &str) -> BulkError {
    BulkError::Journal {
        reason: format!("the shared job store is damaged: {what}"),
    }
}

fn storage(what: &str, e: impl std::fmt::Display) -> BulkError {
    BulkError::Journal {
        reason: format!("{what}: {e}"),
    }
}

/// Runs statements inside one transaction.
pub(crate) trait Tx {
    /// Runs `sql`; the rows it changed.
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, BulkError>;
    /// Runs `sql`; its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, BulkError>;
}

/// A database the store runs on.
pub(crate) trait Backend: Send + Sync {
    /// The backend's name (`sqlite`, `postgres`).
    fn name(&self) -> &'static str;
    /// Creates or upgrades the schema: `steps` in order, each once.
    fn migrate(&self, steps: &[&str]) -> Result<(), BulkError>;
    /// Runs `work` in one transaction, committed when it returns `Ok`.
    fn transaction(
        &self,
        work: &mut dyn FnMut(&mut dyn Tx) -> Result<(), BulkError>,
    ) -> Result<(), BulkError>;
    /// Runs one statement on its own (atomic by itself); its rows.
    fn one(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, BulkError>;
}

/// Writes a statement for `backend`.
pub(crate) fn dialect(sql: &str, postgres: bool) -> String {
    if postgres {
        sql.replace(
            "{now_ms}",
            "(extract(epoch FROM clock_timestamp()) * 1000)::bigint",
        )
        .replace(
            "{now_us}",
            "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint",
        )
        .replace("{skip_locked}", "FOR UPDATE SKIP LOCKED")
    } else {
        sql.replace("{now_ms}", "CAST(unixepoch('subsec') * 1000 AS INTEGER)")
            .replace("{now_us}", "CAST(unixepoch('subsec') * 1000000 AS INTEGER)")
            .replace("{skip_locked}", "")
            .replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY")
            .replace('$', "?")
    }
}

/// The SQLite backend: one file (0600, WAL), for several processes of one
/// host.
pub(crate) struct Sqlite {
    conn: Mutex<rusqlite::Connection>,
}

impl Sqlite {
    pub(crate) fn open(path: &Path) -> Result<Self, BulkError> {
        let conn = crate::files::open_private_sqlite(path)
            .map_err(|reason| BulkError::Journal { reason })?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

fn to_sqlite(v: &Value) -> rusqlite::types::Value {
    match v {
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Text(t) => rusqlite::types::Value::Text(t.clone()),
        Value::NullInt | Value::NullText => rusqlite::types::Value::Null,
    }
}

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, BulkError> {
        let sql = dialect(sql, false);
        let params: Vec<rusqlite::types::Value> = params.iter().map(to_sqlite).collect();
        let n = self
            .0
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, BulkError> {
        sqlite_query(self.0, sql, params)
    }
}

fn sqlite_query(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Vec<Value>>, BulkError> {
    use rusqlite::types::ValueRef;
    let sql = dialect(sql, false);
    let params: Vec<rusqlite::types::Value> = params.iter().map(to_sqlite).collect();
    let mut stmt = conn.prepare_cached(&sql)?;
    let width = stmt.column_count();
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        (0..width)
            .map(|i| match r.get_ref(i)? {
                ValueRef::Integer(n) => Ok(Value::Int(n)),
                ValueRef::Text(t) => Ok(Value::Text(String::from_utf8_lossy(t).into_owned())),
                ValueRef::Null => Ok(Value::NullText),
                // The store's columns are integers and texts only.
                other => Err(rusqlite::Error::InvalidColumnType(
                    i,
                    String::new(),
                    other.data_type(),
                )),
            })
            .collect::<rusqlite::Result<Vec<Value>>>()
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

impl Backend for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn migrate(&self, steps: &[&str]) -> Result<(), BulkError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = steps.len() as i64;
        if version > known {
            return Err(storage(
                "the shared job store",
                format!("its schema version {version} is newer than this anist's ({known}): update anist"),
            ));
        }
        for step in steps.iter().skip(usize::try_from(version).unwrap_or(0)) {
            tx.execute_batch(&dialect(step, false))?;
        }
        tx.pragma_update(None, "user_version", known)?;
        tx.commit()?;
        Ok(())
    }

    fn transaction(
        &self,
        work: &mut dyn FnMut(&mut dyn Tx) -> Result<(), BulkError>,
    ) -> Result<(), BulkError> {
        let mut conn = self.lock();
        // Immediate: the write lock first, so two processes' claims never
        // interleave (and never deadlock upgrading a read lock).
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        work(&mut SqliteTx(&tx))?;
        tx.commit()?;
        Ok(())
    }

    fn one(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, BulkError> {
        sqlite_query(&self.lock(), sql, params)
    }
}

/// The PostgreSQL backend: the shared database of several hosts.
#[cfg(feature = "postgres")]
pub(crate) struct Postgres {
    db: std::sync::Arc<crate::pg::Database>,
}

#[cfg(feature = "postgres")]
impl Postgres {
    pub(crate) fn new(db: std::sync::Arc<crate::pg::Database>) -> Self {
        Self { db }
    }
}

#[cfg(feature = "postgres")]
struct PgTx<'a, 'b> {
    db: &'a crate::pg::Database,
    tx: &'a tokio_postgres::Transaction<'b>,
}

#[cfg(feature = "postgres")]
fn pg_error(e: tokio_postgres::Error) -> BulkError {
    let e = crate::pg::PgError::from(e);
    storage("the shared database", e)
}

#[cfg(feature = "postgres")]
type PgParam<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// Runs `f` with `params` as the driver takes them.
#[cfg(feature = "postgres")]
fn with_pg_params<R>(params: &[Value], f: impl FnOnce(&[PgParam<'_>]) -> R) -> R {
    let boxed: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> = params
        .iter()
        .map(|v| -> Box<dyn tokio_postgres::types::ToSql + Sync + Send> {
            match v {
                Value::Int(i) => Box::new(*i),
                Value::Text(t) => Box::new(t.clone()),
                Value::NullInt => Box::new(None::<i64>),
                Value::NullText => Box::new(None::<String>),
            }
        })
        .collect();
    let refs: Vec<PgParam<'_>> = boxed.iter().map(|b| b.as_ref() as PgParam<'_>).collect();
    f(&refs)
}

/// Runs `sql` (prepared once per connection) on `c`; its rows.
#[cfg(feature = "postgres")]
fn pg_query<C: tokio_postgres::GenericClient + Sync>(
    db: &crate::pg::Database,
    c: &C,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Vec<Value>>, BulkError> {
    use tokio_postgres::types::Type;
    let sql = dialect(sql, true);
    let rows = with_pg_params(params, |refs| {
        crate::pg::block_on(async {
            let stmt = db.statement(c, &sql).await?;
            c.query(&stmt, refs).await
        })
    })
    .map_err(pg_error)?;
    rows.iter()
        .map(|r| {
            (0..r.len())
                .map(|i| {
                    let ty = r.columns()[i].type_();
                    Ok(if *ty == Type::INT8 {
                        r.try_get::<_, Option<i64>>(i)
                            .map_err(pg_error)?
                            .map_or(Value::NullInt, Value::Int)
                    } else if *ty == Type::INT4 {
                        r.try_get::<_, Option<i32>>(i)
                            .map_err(pg_error)?
                            .map_or(Value::NullInt, |v| Value::Int(i64::from(v)))
                    } else if *ty == Type::TEXT || *ty == Type::VARCHAR {
                        r.try_get::<_, Option<String>>(i)
                            .map_err(pg_error)?
                            .map_or(Value::NullText, Value::Text)
                    } else {
                        return Err(damaged("a column of an unexpected type"));
                    })
                })
                .collect()
        })
        .collect()
}

#[cfg(feature = "postgres")]
impl Tx for PgTx<'_, '_> {
    fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, BulkError> {
        let sql = dialect(sql, true);
        with_pg_params(params, |refs| {
            crate::pg::block_on(async {
                let stmt = self.db.statement(self.tx, &sql).await?;
                self.tx.execute(&stmt, refs).await
            })
        })
        .map_err(pg_error)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, BulkError> {
        pg_query(self.db, self.tx, sql, params)
    }
}

#[cfg(feature = "postgres")]
impl Backend for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn migrate(&self, steps: &[&str]) -> Result<(), BulkError> {
        let steps: Vec<String> = steps.iter().map(|s| dialect(s, true)).collect();
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        self.db
            .migrate("bulk", &steps)
            .map_err(|e| storage("the shared database", e))
    }

    fn transaction(
        &self,
        work: &mut dyn FnMut(&mut dyn Tx) -> Result<(), BulkError>,
    ) -> Result<(), BulkError> {
        let mut client = self.db.lock();
        let tx = crate::pg::block_on(client.transaction()).map_err(pg_error)?;
        work(&mut PgTx {
            db: &self.db,
            tx: &tx,
        })?;
        crate::pg::block_on(tx.commit()).map_err(pg_error)
    }

    fn one(&self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, BulkError> {
        let client = self.db.lock();
        pg_query(&self.db, &*client, sql, params)
    }
}
