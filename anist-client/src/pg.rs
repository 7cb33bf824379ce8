//! PostgreSQL, the shared backend (feature `postgres`): one database for
//! the journals of shared jobs, the audit trail and the rivestizione store
//! of several workers on several hosts. SQLite stays the embedded default.
//!
//! # Connection
//!
//! [`Database::connect`] takes a libpq-style URL
//! (`postgres://user:password@host:5432/anist?sslmode=require`). With
//! `sslmode=require` (or `verify-full`, the same here) the server's
//! certificate **and host name are verified**, against the platform's
//! roots or the given CA bundle (stricter than libpq's `require`, which
//! checks neither: a worker sends children's codes, so an unverified
//! server is never accepted). `sslmode=disable` is for a database on the
//! same host (a Unix socket or 127.0.0.1); `prefer` and `allow` are
//! refused (`pg_sslmode`), since they fall back to plain text silently.
//!
//! The connection's I/O runs on a thread of its own; the stores call it
//! synchronously, like their SQLite twins, so the same trait serves both
//! (each call waits for its answer; nothing is kept in flight).
//!
//! # Migrations
//!
//! Each component (`bulk`, `audit`, `rivestizione`) has a list of schema
//! steps; [`Database::migrate`] applies the missing ones in one
//! transaction under an advisory lock, so workers starting at once do not
//! race, and records the version reached in `anist_schema`. A database
//! whose version is newer than this anist knows is refused
//! (`pg_schema_newer`), never downgraded.

use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use tokio_postgres::Client;

/// Why the database could not be used. Messages name the host, never the
/// password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The URL is not a PostgreSQL connection URL.
    #[error("l'indirizzo del database PostgreSQL non è valido ({reason}): scrivilo come postgres://utente@host:5432/database?sslmode=require")]
    Url {
        /// What the parser said (no password).
        reason: String,
    },
    /// `sslmode` is `prefer` or `allow`, which may fall back to plain text.
    #[error("sslmode={mode} può ripiegare su una connessione in chiaro: usa sslmode=require (certificato e nome verificati) o, per un database sullo stesso host, sslmode=disable")]
    SslMode {
        /// The mode given.
        mode: String,
    },
    /// The CA bundle could not be read.
    #[error("il bundle di CA {path} per il database non si può leggere: {reason}")]
    CaBundle {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The server could not be reached, refused the login or the TLS
    /// handshake.
    #[error("il database PostgreSQL {host} non risponde o rifiuta la connessione ({reason}): controlla l'indirizzo, la rete, le credenziali e il certificato")]
    Connect {
        /// Host and database (no credentials).
        host: String,
        /// What the driver said.
        reason: String,
    },
    /// A statement failed.
    #[error("il database PostgreSQL ha rifiutato un'operazione: {reason}")]
    Query {
        /// What the server said.
        reason: String,
    },
    /// The database's schema is newer than this version of anist.
    #[error("lo schema {component} del database è alla versione {found}, più recente di quella che questo anist conosce ({known}): aggiorna anist su questo host")]
    SchemaNewer {
        /// The component (`bulk`, `audit`, `rivestizione`).
        component: String,
        /// The version in the database.
        found: i32,
        /// The newest this anist knows.
        known: i32,
    },
}

impl ErrorCode for PgError {
    fn code(&self) -> &'static str {
        match self {
            PgError::Url { .. } => "pg_url",
            PgError::SslMode { .. } => "pg_sslmode",
            PgError::CaBundle { .. } => "pg_ca_bundle",
            PgError::Connect { .. } => "pg_connect",
            PgError::Query { .. } => "pg_query",
            PgError::SchemaNewer { .. } => "pg_schema_newer",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            PgError::Connect { .. } => ErrorKind::Network,
            PgError::Query { .. } => ErrorKind::Job,
            _ => ErrorKind::Config,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for PgError {
    fn samples() -> Vec<Self> {
        vec![
            PgError::Url {
                reason: "invalid connection string".into(),
            },
            PgError::SslMode {
                mode: "prefer".into(),
            },
            PgError::CaBundle {
                path: "ca.pem".into(),
                reason: "not found".into(),
            },
            PgError::Connect {
                host: "db.example:5432/anist".into(),
                reason: "connection refused".into(),
            },
            PgError::Query {
                reason: "deadlock detected".into(),
            },
            PgError::SchemaNewer {
                component: "bulk".into(),
                found: 9,
                known: 1,
            },
        ]
    }
}

impl From<tokio_postgres::Error> for PgError {
    fn from(e: tokio_postgres::Error) -> Self {
        PgError::Query {
            reason: safe_reason(&e),
        }
    }
}

/// A reason without data: the SQLSTATE and the table or constraint the
/// server names, never its message (which may quote a value).
pub(crate) fn safe_reason(e: &tokio_postgres::Error) -> String {
    let Some(db) = e.as_db_error() else {
        if e.is_closed() {
            return String::from("the connection to PostgreSQL is closed");
        }
        // The driver's own errors (I/O, a type or row-count mismatch)
        // name parameters and columns by index, never their values.
        return format!("PostgreSQL: {e}");
    };
    let code = db.code().code();
    let what = match code.get(..2) {
        Some("08") => "connection failure",
        Some("22") => "a value is not valid for its column",
        Some("23") => "a constraint is violated",
        Some("40") => "the transaction was rolled back (serialization failure or deadlock)",
        Some("42") => "the schema does not match (a table or a column is missing)",
        Some("53") => "the server is out of resources",
        Some("57") => "the server stopped the statement",
        _ => "the statement was refused",
    };
    let mut r = format!("PostgreSQL {code}: {what}");
    if let Some(t) = db.table() {
        r.push_str(&format!(", table {t}"));
    }
    if let Some(c) = db.constraint() {
        r.push_str(&format!(", constraint {c}"));
    }
    r
}

/// Runs `future` to completion on the calling thread. The futures of a
/// [`Client`] only wait on channels to the connection's own thread, so
/// this is safe from a tokio task as from any thread: it blocks the
/// caller as a SQLite statement would.
pub fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(out) => return out,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// One connection to the shared database. Cheap to share behind an
/// [`Arc`]; statements of several threads are serialised on it.
pub struct Database {
    client: Mutex<Client>,
    /// Statements prepared on this connection, by text: a statement is
    /// parsed once, then each call is one round trip.
    statements: Mutex<std::collections::HashMap<String, tokio_postgres::Statement>>,
    host: String,
    /// Dropping it stops the connection's thread.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

/// What `sslmode` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    Off,
    Verified,
}

/// Splits `sslmode` off `url` (tokio-postgres knows only disable / prefer /
/// require, and its `require` verifies nothing by itself).
fn tls_mode(url: &str) -> Result<(String, Tls), PgError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), Tls::Off));
    };
    let mut mode = Tls::Off;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("sslmode", m)) => {
                mode = match m {
                    "disable" => Tls::Off,
                    "require" | "verify-ca" | "verify-full" => Tls::Verified,
                    other => {
                        return Err(PgError::SslMode {
                            mode: other.to_owned(),
                        })
                    }
                }
            }
            _ => kept.push(pair),
        }
    }
    let base = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((base, mode))
}

/// The host and database of `config`, for messages.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_default();
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}/{}", config.get_dbname().unwrap_or_default())
}

fn tls_config(ca_bundle: Option<&Path>) -> Result<rustls::ClientConfig, PgError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| PgError::Url {
            reason: e.to_string(),
        })?;
    match ca_bundle {
        Some(path) => {
            let bad = |reason: String| PgError::CaBundle {
                path: path.display().to_string(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
                let cert: rustls::pki_types::CertificateDer<'static> =
                    cert.map_err(|e| bad(e.to_string()))?;
                roots.add(cert).map_err(|e| bad(e.to_string()))?;
            }
            if roots.is_empty() {
                return Err(bad(String::from("no certificate in the file")));
            }
            Ok(builder.with_root_certificates(roots).with_no_client_auth())
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            Ok(builder
                .with_platform_verifier()
                .map_err(|e| PgError::Url {
                    reason: e.to_string(),
                })?
                .with_no_client_auth())
        }
    }
}

impl Database {
    /// Connects to `url` (see the [module documentation](self) for
    /// `sslmode`); `ca_bundle` replaces the platform's roots for TLS.
    ///
    /// # Errors
    /// [`PgError::Url`], [`PgError::SslMode`], [`PgError::CaBundle`],
    /// [`PgError::Connect`].
    pub fn connect(url: &str, ca_bundle: Option<&Path>) -> Result<Self, PgError> {
        Self::connect_with(url, None, ca_bundle)
    }

    /// [`Self::connect`] with the password given apart (read from the
    /// variable `[database] password_env` names, never from a file).
    ///
    /// # Errors
    /// As [`Self::connect`].
    pub fn connect_with(
        url: &str,
        password: Option<&str>,
        ca_bundle: Option<&Path>,
    ) -> Result<Self, PgError> {
        let (url, tls) = tls_mode(url)?;
        let mut config: tokio_postgres::Config =
            url.parse()
                .map_err(|e: tokio_postgres::Error| PgError::Url {
                    reason: e.to_string(),
                })?;
        if let Some(p) = password {
            config.password(p);
        }
        let host = describe(&config);
        let rustls_config = match tls {
            Tls::Verified => Some(tls_config(ca_bundle)?),
            Tls::Off => None,
        };
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let failed = |reason: String| PgError::Connect {
            host: host.clone(),
            reason,
        };
        std::thread::Builder::new()
            .name(String::from("anist-postgres"))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                rt.block_on(async move {
                    let connected = match rustls_config {
                        Some(c) => {
                            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(c);
                            config
                                .connect(tls)
                                .await
                                .map(|(client, conn)| (client, tokio::spawn(conn)))
                        }
                        None => config
                            .connect(tokio_postgres::NoTls)
                            .await
                            .map(|(client, conn)| (client, tokio::spawn(conn))),
                    };
                    match connected {
                        Ok((client, _conn)) => {
                            let _ = ready_tx.send(Ok(client));
                            // The connection task runs until the
                            // Database is dropped (or the server goes).
                            let _ = stop_rx.await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                        }
                    }
                });
            })
            .map_err(|e| failed(e.to_string()))?;
        let client = ready_rx
            .recv()
            .map_err(|e| failed(e.to_string()))?
            .map_err(failed)?;
        Ok(Self {
            client: Mutex::new(client),
            statements: Mutex::new(std::collections::HashMap::new()),
            host,
            _stop: stop_tx,
        })
    }

    /// Host, port and database name (no credentials), for messages.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The connection, for one call or one transaction (with
    /// [`block_on`]); other threads wait for it.
    pub fn lock(&self) -> MutexGuard<'_, Client> {
        self.client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The statement `sql`, prepared once on this connection through `c`
    /// (the locked client or a transaction of it), then reused.
    ///
    /// # Errors
    /// The server's, when `sql` does not prepare.
    pub async fn statement<C: tokio_postgres::GenericClient>(
        &self,
        c: &C,
        sql: &str,
    ) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
        let cached = self
            .statements
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(sql)
            .cloned();
        if let Some(s) = cached {
            return Ok(s);
        }
        let prepared = c.prepare(sql).await?;
        self.statements
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(sql.to_owned(), prepared.clone());
        Ok(prepared)
    }

    /// Brings `component`'s schema to `steps.len()`: applies the steps not
    /// yet applied, in order, in one transaction under an advisory lock
    /// (concurrent starts wait, then find the schema ready).
    ///
    /// # Errors
    /// [`PgError::SchemaNewer`] when the database is ahead of `steps`;
    /// [`PgError::Query`] when a step fails (nothing of it stays).
    pub fn migrate(&self, component: &str, steps: &[&str]) -> Result<(), PgError> {
        let known = i32::try_from(steps.len()).unwrap_or(i32::MAX);
        let mut client = self.lock();
        block_on(async {
            let tx = client.transaction().await?;
            // One lock for every component: creating anist_schema itself
            // must not race either.
            tx.execute("SELECT pg_advisory_xact_lock(74207319)", &[])
                .await?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS anist_schema (
                     component TEXT PRIMARY KEY,
                     version INTEGER NOT NULL
                 )",
            )
            .await?;
            let found: i32 = tx
                .query_opt(
                    "SELECT version FROM anist_schema WHERE component = $1",
                    &[&component],
                )
                .await?
                .map(|r| r.get(0))
                .unwrap_or(0);
            if found > known {
                return Err(PgError::SchemaNewer {
                    component: component.to_owned(),
                    found,
                    known,
                });
            }
            let from = usize::try_from(found).unwrap_or(0);
            for step in steps.iter().skip(from) {
                tx.batch_execute(step).await?;
            }
            tx.execute(
                "INSERT INTO anist_schema(component, version) VALUES ($1, $2) \
                 ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version",
                &[&component, &known],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

/// The PostgreSQL URL the tests use, from `ANIST_TEST_PG_URL` (set by
/// `scripts/test.sh`, which installs and starts a server); `None` when
/// unset.
#[doc(hidden)]
pub fn test_url() -> Option<String> {
    std::env::var("ANIST_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// `url` with every statement in `schema` (its `search_path`).
pub fn in_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-csearch_path%3D{schema}")
}

/// Makes `schema` afresh on the server of `url` (dropped first if it
/// exists, with all it holds); the URL whose statements run in it. For
/// tests and measurements, never for a database in use.
///
/// # Errors
/// [`PgError::Url`] for a schema name that is not lower-case letters,
/// digits and `_`; the connection's and the server's.
#[doc(hidden)]
pub fn fresh_schema(url: &str, schema: &str) -> Result<String, PgError> {
    if schema.is_empty()
        || !schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(PgError::Url {
            reason: format!("{schema:?} is not a plain schema name"),
        });
    }
    let admin = Database::connect(url, None)?;
    let c = admin.lock();
    block_on(c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    )))?;
    Ok(in_schema(url, schema))
}

/// A schema of one's own for a test on the server of [`test_url`]
/// ([`fresh_schema`]); the URL that uses it, `None` when no server is
/// configured.
///
/// # Panics
/// When the server cannot be reached or the schema not made: the test
/// fails.
#[doc(hidden)]
#[allow(clippy::expect_used)]
pub fn test_schema_url(schema: &str) -> Option<String> {
    let url = test_url()?;
    Some(fresh_schema(&url, schema).expect("a schema on the test PostgreSQL server"))
}

/// A database of one's own for a test: a connection to a fresh schema
/// ([`test_schema_url`]); `None` when no server is configured.
///
/// # Panics
/// As [`test_schema_url`].
#[doc(hidden)]
#[allow(clippy::expect_used)]
pub fn test_database(schema: &str) -> Option<Database> {
    let url = test_schema_url(schema)?;
    Some(Database::connect(&url, None).expect("the test schema"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::print_stderr)]

    use super::*;

    #[test]
    fn sslmode_is_taken_off_the_url_and_lax_modes_are_refused() {
        assert_eq!(
            tls_mode("postgres://a@h/db?sslmode=require&application_name=x").unwrap(),
            (
                String::from("postgres://a@h/db?application_name=x"),
                Tls::Verified
            )
        );
        assert_eq!(
            tls_mode("postgres://a@h/db?sslmode=disable").unwrap(),
            (String::from("postgres://a@h/db"), Tls::Off)
        );
        assert_eq!(tls_mode("postgres://a@h/db").unwrap().1, Tls::Off);
        for lax in ["prefer", "allow"] {
            let e = tls_mode(&format!("postgres://a@h/db?sslmode={lax}")).unwrap_err();
            assert_eq!(e.code(), "pg_sslmode");
        }
    }

    #[test]
    fn a_bad_url_or_an_unreachable_server_has_its_code_and_no_password() {
        let e = Database::connect("not a url at all ===", None).unwrap_err();
        assert_eq!(e.code(), "pg_url");
        // Port 1 on loopback: refused at once.
        let e = Database::connect("postgres://u:s3cret@127.0.0.1:1/db", None).unwrap_err();
        assert_eq!(e.code(), "pg_connect");
        assert!(!e.to_string().contains("s3cret"), "{e}");
        assert!(e.to_string().contains("127.0.0.1:1/db"), "{e}");
    }

    #[test]
    fn tls_is_verified_against_the_ca_and_the_host_name() {
        let (Some(url), Ok(ca)) = (test_url(), std::env::var("ANIST_TEST_PG_CA")) else {
            eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL, ANIST_TEST_PG_CA)");
            return;
        };
        let ca = std::path::PathBuf::from(ca);
        let tls = url.replace("sslmode=disable", "sslmode=require");
        // The server's CA: connected, and the session is encrypted.
        let db = Database::connect(&tls, Some(&ca)).unwrap();
        let c = db.lock();
        let ssl: bool = block_on(c.query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        ))
        .unwrap()
        .get(0);
        assert!(ssl, "the session is not encrypted");
        drop(c);
        // The platform's roots do not know the test CA: refused.
        let e = Database::connect(&tls, None).unwrap_err();
        assert_eq!(e.code(), "pg_connect", "{e}");
        // The certificate names 127.0.0.1, not localhost: refused.
        let e = Database::connect(&tls.replace("127.0.0.1", "localhost"), Some(&ca)).unwrap_err();
        assert_eq!(e.code(), "pg_connect", "{e}");
        // A CA file without a certificate is a configuration error.
        let empty = std::env::temp_dir().join(format!("anist-empty-ca-{}.pem", std::process::id()));
        std::fs::write(&empty, "").unwrap();
        let e = Database::connect(&tls, Some(&empty)).unwrap_err();
        assert_eq!(e.code(), "pg_ca_bundle");
        let _ = std::fs::remove_file(&empty);
    }

    proptest::proptest! {
        /// Whatever the URL, `sslmode` is taken off it (tokio-postgres
        /// never sees a mode of ours) and a mode is decided or refused,
        /// never guessed.
        #[test]
        fn sslmode_never_reaches_the_driver(
            base in "postgres://[a-z]{1,8}@[a-z0-9.]{1,12}/[a-z]{1,8}",
            pairs in proptest::collection::vec(("k_[a-z_]{0,10}", "[a-z0-9-]{0,10}"), 0..4),
            mode in proptest::option::of("disable|require|verify-ca|verify-full|prefer|allow|x"),
        ) {
            let mut query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            if let Some(m) = &mode {
                query.push(format!("sslmode={m}"));
            }
            let url = if query.is_empty() { base.clone() } else { format!("{base}?{}", query.join("&")) };
            match tls_mode(&url) {
                Ok((rest, tls)) => {
                    proptest::prop_assert!(!rest.contains("sslmode="));
                    proptest::prop_assert!(rest.starts_with(&base));
                    let verified = matches!(mode.as_deref(), Some("require" | "verify-ca" | "verify-full"));
                    proptest::prop_assert_eq!(tls == Tls::Verified, verified);
                }
                Err(e) => {
                    proptest::prop_assert_eq!(e.code(), "pg_sslmode");
                    proptest::prop_assert!(matches!(mode.as_deref(), Some("prefer" | "allow" | "x")));
                }
            }
        }
    }

    #[test]
    fn block_on_runs_a_future_on_a_plain_thread() {
        assert_eq!(block_on(async { 41 + 1 }), 42);
    }

    #[test]
    fn migrations_apply_once_and_refuse_a_newer_schema() {
        let Some(db) = test_database("anist_test_pg_migrate") else {
            eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)");
            return;
        };
        let component = "test";
        let table = "anist_test_migrate";
        let steps = [format!("CREATE TABLE {table} (x INTEGER)")];
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        db.migrate(component, &steps).unwrap();
        // Applied once: a second run does not create the table again.
        db.migrate(component, &steps).unwrap();
        let e = db.migrate(component, &[]).unwrap_err();
        assert_eq!(e.code(), "pg_schema_newer");
        let c = db.lock();
        let tables: i64 = block_on(c.query_one(
            "SELECT COUNT(*) FROM pg_tables WHERE tablename = $1 AND schemaname = current_schema()",
            &[&table],
        ))
        .unwrap()
        .get(0);
        assert_eq!(tables, 1, "the step ran in the test's own schema");
    }
}
