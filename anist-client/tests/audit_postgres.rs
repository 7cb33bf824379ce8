//! The audit trail on PostgreSQL (#19): the same checks run on the SQLite
//! file and on a PostgreSQL schema of the test server (chaining, keyed
//! subjects, tampering, the head's code, ranges and the export, the same
//! rows for the same input), then several writers with connections of
//! their own appending at once to one trail. Without `ANIST_TEST_PG_URL`
//! only the SQLite half runs. Synthetic codes only.

#![cfg(feature = "postgres")]
// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};

use anist_client::audit::{AuditEntry, AuditError, AuditLog, Tampering};
use anist_client::clock::{ManualClock, SystemClock};
use anist_client::pg::{block_on, test_database, test_schema_url, Database};
use anist_core::ErrorCode;
use rusqlite::Connection;

/// Says that the PostgreSQL half of a test did not run.
#[allow(clippy::print_stderr)]
fn skipped() {
    eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)");
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "anist-audit-pg-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    fn secret(&self) -> PathBuf {
        self.0.join("audit.secret")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const CF: [&str; 3] = ["RSSMRA80A01H501U", "BNCNCL80A01H501K", "NRDGUO80A01H501Q"];

/// 2026-01-01T00:00:00Z
const T0: i64 = 1_767_225_600;

/// Where a trail under test keeps its rows, for statements behind its
/// back.
enum Store {
    Sqlite(PathBuf),
    Postgres(Arc<Database>),
}

/// A trail under test: the log, its clock, its storage.
struct Trail {
    log: AuditLog,
    clock: Arc<ManualClock>,
    store: Store,
}

impl Trail {
    fn sqlite(dir: &Dir) -> Self {
        let db = dir.0.join("audit.sqlite");
        let clock = Arc::new(ManualClock::new(T0));
        let log = AuditLog::open_with_clock(&db, &dir.secret(), clock.clone()).unwrap();
        Self {
            log,
            clock,
            store: Store::Sqlite(db),
        }
    }

    /// `None` without a test server.
    fn postgres(schema: &str, dir: &Dir) -> Option<Self> {
        let db = Arc::new(test_database(schema)?);
        let clock = Arc::new(ManualClock::new(T0));
        let log = AuditLog::open_postgres(db.clone(), &dir.secret(), clock.clone()).unwrap();
        Some(Self {
            log,
            clock,
            store: Store::Postgres(db),
        })
    }

    /// The same trail opened again (another process, or another host),
    /// with the secret at `secret`.
    fn reopen(&self, secret: &Path) -> Result<AuditLog, AuditError> {
        match &self.store {
            Store::Sqlite(db) => AuditLog::open_with_clock(db, secret, self.clock.clone()),
            Store::Postgres(db) => AuditLog::open_postgres(db.clone(), secret, self.clock.clone()),
        }
    }

    fn sql(&self, statement: &str) {
        match &self.store {
            Store::Sqlite(db) => Connection::open(db)
                .unwrap()
                .execute_batch(statement)
                .unwrap(),
            Store::Postgres(db) => {
                let c = db.lock();
                block_on(c.batch_execute(statement)).unwrap();
            }
        }
    }

    fn count(&self, query: &str) -> i64 {
        match &self.store {
            Store::Sqlite(db) => Connection::open(db)
                .unwrap()
                .query_row(query, [], |r| r.get(0))
                .unwrap(),
            Store::Postgres(db) => {
                let c = db.lock();
                block_on(c.query_one(query, &[])).unwrap().get(0)
            }
        }
    }

    fn backend(&self) -> &'static str {
        match self.store {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Appends `n` rows, one hour apart.
    fn fill(&self, n: usize) {
        for i in 0..n {
            self.log
                .record(&AuditEntry {
                    operator: "op-1",
                    purpose: "purpose-1",
                    eservice: "anist-verifica",
                    operation: "verify",
                    subject: Some(CF[i % CF.len()]),
                    outcome: if i % 2 == 0 { "found" } else { "not_found" },
                    correlation_id: (i % 2 == 1).then_some("corr-1"),
                    govway_id: (i % 3 == 0).then_some("gw-1"),
                })
                .unwrap();
            self.clock.advance(3600);
        }
    }
}

/// Runs `check` on a fresh SQLite trail, then on a fresh PostgreSQL one
/// in schema `schema` (skipped, with a note, without a server).
fn on_both(schema: &str, check: impl Fn(&Trail, &Dir)) {
    let dir = Dir::new(schema);
    check(&Trail::sqlite(&dir), &dir);
    let dir = Dir::new(schema);
    match Trail::postgres(schema, &dir) {
        Some(trail) => check(&trail, &dir),
        None => skipped(),
    }
}

fn tampering(log: &AuditLog, backend: &str) -> Tampering {
    match log.verify() {
        Err(AuditError::Tampered(t)) => t,
        other => panic!("{backend}: tampering not detected: {other:?}"),
    }
}

#[test]
fn records_chain_verify_and_store_no_code() {
    on_both("anist_audit_record", |t, dir| {
        let b = t.backend();
        t.fill(6);
        assert_eq!(t.log.verify().unwrap(), 6, "{b}");
        let rows = t.log.rows(None, None).unwrap();
        assert_eq!(rows.len(), 6, "{b}");
        assert_eq!(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(rows[0].when, "2026-01-01T00:00:00Z", "{b}");
        assert_eq!(rows[1].when, "2026-01-01T01:00:00Z", "{b}");
        assert_eq!(rows[0].prev_hash, "0".repeat(64), "{b}");
        for pair in rows.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash, "{b}");
        }
        assert_eq!(rows[0].govway_id.as_deref(), Some("gw-1"), "{b}");
        assert_eq!(rows[0].correlation_id, None, "{b}");
        assert_eq!(rows[1].correlation_id.as_deref(), Some("corr-1"), "{b}");
        assert_eq!(
            rows[0].subject.as_deref(),
            Some(t.log.subject_hash(CF[0]).as_str()),
            "{b}"
        );
        let head = t.log.head().unwrap();
        assert_eq!(
            (head.count, head.last_id, head.last_hash.as_str()),
            (6, 6, rows[5].hash.as_str()),
            "{b}"
        );
        // Only keyed hashes are stored, never a code.
        assert_eq!(
            t.count(
                "SELECT COUNT(*) FROM audit WHERE subject LIKE '%RSSMRA%' OR length(subject) != 64"
            ),
            0,
            "{b}"
        );
        // Opened again (another process), it verifies and goes on.
        let again = t.reopen(&dir.secret()).unwrap();
        assert_eq!(again.verify().unwrap(), 6, "{b}");
        let id = again
            .record(&AuditEntry {
                operator: "op-2",
                outcome: "found",
                ..AuditEntry::default()
            })
            .unwrap();
        assert_eq!(id, 7, "{b}");
        assert_eq!(t.log.verify().unwrap(), 7, "{b}");
        assert_eq!(t.log.rows(None, None).unwrap()[6].subject, None, "{b}");
    });
}

#[test]
fn both_backends_write_the_same_rows_and_head() {
    // Same secret, same clock, same calls: byte-identical rows and head,
    // so a trail can move from one backend to the other and still verify.
    let dir = Dir::new("same");
    let Some(pg) = Trail::postgres("anist_audit_same", &dir) else {
        skipped();
        return;
    };
    let lite = Trail::sqlite(&dir);
    pg.fill(5);
    lite.fill(5);
    let rows = pg.log.rows(None, None).unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows, lite.log.rows(None, None).unwrap());
    assert_eq!(pg.log.head().unwrap(), lite.log.head().unwrap());
    // The head's code too.
    let mac = |t: &Trail| match &t.store {
        Store::Sqlite(db) => Connection::open(db)
            .unwrap()
            .query_row("SELECT mac FROM audit_head", [], |r| r.get::<_, String>(0))
            .unwrap(),
        Store::Postgres(db) => {
            let c = db.lock();
            block_on(c.query_one("SELECT mac FROM audit_head", &[]))
                .unwrap()
                .get(0)
        }
    };
    assert_eq!(mac(&pg), mac(&lite));
}

#[test]
fn an_edited_outcome_is_detected_at_its_row() {
    on_both("anist_audit_edit", |t, _| {
        let b = t.backend();
        t.fill(6);
        t.sql("UPDATE audit SET outcome = 'found' WHERE id = 4");
        assert_eq!(tampering(&t.log, b), Tampering::Edited { id: 4 }, "{b}");
        let err = t.log.verify().unwrap_err();
        assert_eq!(err.code(), "audit_tampered", "{b}");
        assert!(err.to_string().contains("row 4"), "{b}: {err}");
    });
}

#[test]
fn deleted_and_forged_rows_are_detected() {
    on_both("anist_audit_rows", |t, _| {
        let b = t.backend();
        t.fill(6);
        // Appended behind the log's back, chained like a real one.
        t.sql(
            "INSERT INTO audit (id, at_unix, at, operator, purpose, eservice, operation, subject, outcome, prev_hash, hash) \
             SELECT 7, at_unix, at, operator, purpose, eservice, operation, subject, outcome, hash, hash FROM audit WHERE id = 6",
        );
        assert_eq!(tampering(&t.log, b), Tampering::Inserted { id: 7 }, "{b}");
        t.sql("DELETE FROM audit WHERE id = 7");
        assert_eq!(t.log.verify().unwrap(), 6, "{b}");
        t.sql("DELETE FROM audit WHERE id = 3");
        assert_eq!(tampering(&t.log, b), Tampering::Deleted { id: 3 }, "{b}");
    });
}

#[test]
fn a_head_whose_code_does_not_match_is_detected() {
    on_both("anist_audit_head", |t, dir| {
        let b = t.backend();
        t.fill(6);
        // The last row deleted and the head rewound to match: the code no
        // longer authenticates it.
        t.sql("DELETE FROM audit WHERE id = 6");
        assert_eq!(tampering(&t.log, b), Tampering::Deleted { id: 6 }, "{b}");
        t.sql(
            "UPDATE audit_head SET count = 5, last_id = 5, last_hash = (SELECT hash FROM audit WHERE id = 5)",
        );
        assert_eq!(tampering(&t.log, b), Tampering::Head, "{b}");
        assert_eq!(t.log.head().unwrap_err().code(), "audit_tampered", "{b}");
        assert_eq!(t.log.verify().unwrap_err().code(), "audit_tampered", "{b}");

        // The head deleted: neither verify nor a new record nor opening
        // again repairs it silently.
        t.sql("DELETE FROM audit_head");
        assert_eq!(tampering(&t.log, b), Tampering::Head, "{b}");
        let err = t
            .log
            .record(&AuditEntry {
                operator: "op-1",
                outcome: "found",
                ..AuditEntry::default()
            })
            .unwrap_err();
        assert!(
            matches!(err, AuditError::Tampered(Tampering::Head)),
            "{b}: {err:?}"
        );
        assert_eq!(t.count("SELECT COUNT(*) FROM audit"), 5, "{b}");
        let again = t.reopen(&dir.secret()).unwrap();
        assert_eq!(tampering(&again, b), Tampering::Head, "{b}");
    });
}

#[test]
fn another_secret_does_not_authenticate_the_head() {
    on_both("anist_audit_secret", |t, dir| {
        let b = t.backend();
        t.fill(2);
        let other = t.reopen(&dir.0.join("other.secret")).unwrap();
        assert_eq!(tampering(&other, b), Tampering::Head, "{b}");
        assert_ne!(other.subject_hash(CF[0]), t.log.subject_hash(CF[0]), "{b}");
        // A damaged secret file is refused, not replaced.
        std::fs::write(dir.secret(), b"short").unwrap();
        let err = t.reopen(&dir.secret()).unwrap_err();
        assert_eq!(err.code(), "audit_secret", "{b}");
        assert_eq!(t.log.verify().unwrap(), 2, "{b}");
    });
}

#[test]
fn rows_and_export_of_a_time_range() {
    on_both("anist_audit_export", |t, _| {
        let b = t.backend();
        t.fill(30); // one an hour from 2026-01-01T00:00Z
        let rows = t
            .log
            .rows(
                Some("2026-01-01T05:00:00Z"),
                Some("2026-01-01T09:30:00+00:00"),
            )
            .unwrap();
        assert_eq!(
            rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [6, 7, 8, 9, 10],
            "{b}"
        );
        assert_eq!(rows[0].when, "2026-01-01T05:00:00Z", "{b}");

        let mut out = Vec::new();
        let n = t
            .log
            .export_csv(
                Some("2026-01-01T05:00:00Z"),
                Some("2026-01-01T09:30:00+00:00"),
                &mut out,
            )
            .unwrap();
        assert_eq!(n, 5, "{b}");
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6, "{b}");
        assert_eq!(
            lines[0],
            "id,when,operator,purpose,eservice,operation,subject_hmac,outcome,correlation_id,govway_id,prev_hash,hash",
            "{b}"
        );
        assert!(
            lines[1].starts_with("6,2026-01-01T05:00:00Z,op-1,purpose-1,anist-verifica,verify,"),
            "{b}: {}",
            lines[1]
        );
        assert!(lines[1].ends_with(&rows[0].hash), "{b}");
        assert!(lines[5].starts_with("10,2026-01-01T09:00:00Z,"), "{b}");
        assert!(!CF.iter().any(|cf| text.contains(cf)), "{b}");

        // Whole days, inclusive: 2026-01-02 holds rows 25..=30.
        let day = t.log.rows(Some("2026-01-02"), Some("2026-01-02")).unwrap();
        assert_eq!(day.first().map(|r| r.id), Some(25), "{b}");
        assert_eq!(day.len(), 6, "{b}");
        assert_eq!(
            t.log
                .export_csv(Some("2026-01-02"), None, Vec::new())
                .unwrap(),
            6,
            "{b}"
        );
        assert_eq!(t.log.export_csv(None, None, Vec::new()).unwrap(), 30, "{b}");
        assert_eq!(t.log.rows(None, Some("2025-12-31")).unwrap(), [], "{b}");
        let err = t
            .log
            .export_csv(Some("ieri"), None, Vec::new())
            .unwrap_err();
        assert_eq!(err.code(), "audit_range", "{b}");
    });
}

#[test]
fn concurrent_writers_on_postgres_keep_one_chain() {
    const WRITERS: usize = 4;
    const EACH: usize = 250;
    let schema = "anist_audit_concurrent";
    let Some(url) = test_schema_url(schema) else {
        skipped();
        return;
    };
    let first = Database::connect(&url, None).unwrap();
    let dir = Dir::new("concurrent");
    // The secret every host holds a copy of.
    std::fs::write(dir.secret(), [7u8; 32]).unwrap();
    let start = Arc::new(Barrier::new(WRITERS));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let url = url.clone();
            let secret = dir.secret();
            let start = start.clone();
            std::thread::spawn(move || {
                // Each writer a process of its own: its connection, its
                // log, opened (schema and head made) at the same time as
                // the others.
                let db = Arc::new(Database::connect(&url, None).unwrap());
                start.wait();
                let log = AuditLog::open_postgres(db, &secret, Arc::new(SystemClock)).unwrap();
                let operator = format!("writer-{w}");
                (0..EACH)
                    .map(|i| {
                        log.record(&AuditEntry {
                            operator: &operator,
                            purpose: "purpose-1",
                            eservice: "anist-verifica",
                            operation: "verify",
                            subject: Some(CF[i % CF.len()]),
                            outcome: "found",
                            correlation_id: None,
                            govway_id: None,
                        })
                        .unwrap()
                    })
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let mut ids: Vec<i64> = Vec::new();
    for w in writers {
        let mine = w.join().unwrap();
        assert!(mine.windows(2).all(|p| p[0] < p[1]), "{mine:?}");
        ids.extend(mine);
    }
    ids.sort_unstable();
    let total = i64::try_from(WRITERS * EACH).unwrap();
    assert_eq!(ids, (1..=total).collect::<Vec<_>>());

    // `anist audit verify` afterwards, from yet another connection.
    let log =
        AuditLog::open_postgres(Arc::new(first), &dir.secret(), Arc::new(SystemClock)).unwrap();
    assert_eq!(log.verify().unwrap(), u64::try_from(total).unwrap());
    let head = log.head().unwrap();
    assert_eq!((head.count, head.last_id), (total, total));
    let rows = log.rows(None, None).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    assert_eq!(rows[0].prev_hash, "0".repeat(64));
    for pair in rows.windows(2) {
        assert_eq!(pair[1].prev_hash, pair[0].hash);
    }
    for w in 0..WRITERS {
        let operator = format!("writer-{w}");
        assert_eq!(rows.iter().filter(|r| r.operator == operator).count(), EACH);
    }
    assert_eq!(head.last_hash, rows[rows.len() - 1].hash);
}
