//! The audit trail: chaining, tamper detection (edit, deletion in the
//! middle and at the end, forged insertion, head), keyed subjects, the
//! secret file, export by time range. Synthetic codes only.

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use anist_client::audit::{AuditEntry, AuditError, AuditLog, Tampering};
use anist_client::clock::ManualClock;
use anist_core::ErrorCode;
use rusqlite::Connection;

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "anist-audit-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    fn db(&self) -> PathBuf {
        self.0.join("audit.sqlite")
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

/// A log with `n` rows, one hour apart from T0.
fn filled(dir: &Dir, n: usize) -> (AuditLog, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    let log = AuditLog::open_with_clock(&dir.db(), &dir.secret(), clock.clone()).unwrap();
    for i in 0..n {
        log.record(&AuditEntry {
            operator: "op-1",
            purpose: "purpose-1",
            eservice: "anist-verifica",
            operation: "verify",
            subject: Some(CF[i % CF.len()]),
            outcome: if i % 2 == 0 { "found" } else { "not_found" },
            correlation_id: None,
            govway_id: (i % 3 == 0).then_some("gw-1"),
        })
        .unwrap();
        clock.advance(3600);
    }
    (log, clock)
}

fn tampering(log: &AuditLog) -> Tampering {
    match log.verify() {
        Err(AuditError::Tampered(t)) => t,
        other => panic!("tampering not detected: {other:?}"),
    }
}

fn sql(dir: &Dir, statement: &str) {
    Connection::open(dir.db())
        .unwrap()
        .execute_batch(statement)
        .unwrap();
}

#[test]
fn an_untouched_trail_verifies_and_stores_no_code() {
    let dir = Dir::new("ok");
    let (log, _) = filled(&dir, 6);
    assert_eq!(log.verify().unwrap(), 6);
    let rows = log.rows(None, None).unwrap();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0].when, "2026-01-01T00:00:00Z");
    assert_eq!(rows[1].when, "2026-01-01T01:00:00Z");
    assert_eq!(rows[0].prev_hash, "0".repeat(64));
    assert_eq!(rows[1].prev_hash, rows[0].hash);
    assert_eq!(rows[0].govway_id.as_deref(), Some("gw-1"));
    assert_eq!(log.head().unwrap().last_hash, rows[5].hash);
    // No code in the database file, only keyed hashes.
    drop(log);
    let conn = Connection::open(dir.db()).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE subject LIKE '%RSSMRA%' OR length(subject) != 64",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
    let bytes = std::fs::read(dir.db()).unwrap();
    assert!(!bytes
        .windows(16)
        .any(|w| CF.iter().any(|c| w == c.as_bytes())));
    // Reopened, it still verifies and goes on.
    let log = AuditLog::open(&dir.db(), &dir.secret()).unwrap();
    assert_eq!(log.verify().unwrap(), 6);
}

#[test]
fn an_edited_field_is_detected_at_its_row() {
    let dir = Dir::new("edit");
    let (log, _) = filled(&dir, 6);
    sql(&dir, "UPDATE audit SET outcome = 'found' WHERE id = 4");
    assert_eq!(tampering(&log), Tampering::Edited { id: 4 });
    let err = log.verify().unwrap_err();
    assert_eq!(err.code(), "audit_tampered");
    assert!(err.to_string().contains("row 4"), "{err}");
}

#[test]
fn a_replaced_hash_is_detected() {
    let dir = Dir::new("rehash");
    let (log, _) = filled(&dir, 5);
    sql(&dir, "UPDATE audit SET hash = prev_hash WHERE id = 2");
    assert_eq!(tampering(&log), Tampering::Edited { id: 2 });
}

#[test]
fn a_row_replaced_by_a_well_hashed_forgery_breaks_the_chain_after_it() {
    // A second trail, same secret and clock, whose row 2 says otherwise:
    // its row 2 is self-consistent and links to the same row 1.
    let dir = Dir::new("forgery");
    let (log, _) = filled(&dir, 4);
    let other = dir.0.join("other.sqlite");
    {
        let clock = Arc::new(ManualClock::new(T0));
        let forger = AuditLog::open_with_clock(&other, &dir.secret(), clock.clone()).unwrap();
        for (i, outcome) in ["found", "found"].into_iter().enumerate() {
            forger
                .record(&AuditEntry {
                    operator: "op-1",
                    purpose: "purpose-1",
                    eservice: "anist-verifica",
                    operation: "verify",
                    subject: Some(CF[i]),
                    outcome,
                    correlation_id: None,
                    govway_id: (i == 0).then_some("gw-1"),
                })
                .unwrap();
            clock.advance(3600);
        }
        assert_eq!(forger.verify().unwrap(), 2);
    }
    sql(
        &dir,
        &format!(
            "ATTACH '{}' AS o; DELETE FROM audit WHERE id = 2; \
             INSERT INTO audit SELECT * FROM o.audit WHERE id = 2;",
            other.display()
        ),
    );
    assert_eq!(tampering(&log), Tampering::ChainBroken { id: 3 });
}

#[test]
fn a_row_deleted_in_the_middle_is_detected() {
    let dir = Dir::new("delete");
    let (log, _) = filled(&dir, 6);
    sql(&dir, "DELETE FROM audit WHERE id = 3");
    assert_eq!(tampering(&log), Tampering::Deleted { id: 3 });
}

#[test]
fn the_last_row_deleted_is_detected() {
    let dir = Dir::new("delete-last");
    let (log, _) = filled(&dir, 6);
    sql(&dir, "DELETE FROM audit WHERE id = 6");
    assert_eq!(tampering(&log), Tampering::Deleted { id: 6 });
    // Rewinding the head as well does not help without the secret.
    sql(
        &dir,
        "UPDATE audit_head SET count = 5, last_id = 5, last_hash = (SELECT hash FROM audit WHERE id = 5)",
    );
    assert_eq!(tampering(&log), Tampering::Head);
    // Nor does deleting the head.
    sql(&dir, "DELETE FROM audit_head");
    assert_eq!(tampering(&log), Tampering::Head);
}

#[test]
fn a_forged_row_is_detected() {
    let dir = Dir::new("insert");
    let (log, _) = filled(&dir, 4);
    // Appended after the head, chained like a real one.
    sql(
        &dir,
        "INSERT INTO audit (id, at_unix, at, operator, purpose, eservice, operation, subject, outcome, prev_hash, hash) \
         SELECT 5, at_unix, at, operator, purpose, eservice, operation, subject, outcome, hash, hash FROM audit WHERE id = 4",
    );
    assert_eq!(tampering(&log), Tampering::Inserted { id: 5 });

    // In a gap left by a deletion: the chain breaks at the forged row.
    let dir = Dir::new("insert-gap");
    let (log, _) = filled(&dir, 4);
    sql(
        &dir,
        "DELETE FROM audit WHERE id = 2; \
         INSERT INTO audit (id, at_unix, at, operator, purpose, eservice, operation, subject, outcome, prev_hash, hash) \
         SELECT 2, at_unix, at, 'intruder', purpose, eservice, operation, subject, outcome, hash, hash FROM audit WHERE id = 1",
    );
    assert_eq!(tampering(&log), Tampering::Edited { id: 2 });
}

#[test]
fn subjects_are_keyed_by_the_installation_secret() {
    let a = Dir::new("key-a");
    let b = Dir::new("key-b");
    let (log_a, _) = filled(&a, 1);
    let (log_b, _) = filled(&b, 1);
    // Same code, different secret: different subject.
    let ra = log_a.rows(None, None).unwrap();
    let rb = log_b.rows(None, None).unwrap();
    assert_ne!(ra[0].subject, rb[0].subject);
    assert_eq!(
        ra[0].subject.as_deref(),
        Some(log_a.subject_hash(CF[0]).as_str())
    );
    // Normalised: blanks and case do not matter.
    assert_eq!(
        log_a.subject_hash(CF[0]),
        log_a.subject_hash(&format!(" {} ", CF[0].to_lowercase()))
    );
    assert_ne!(log_a.subject_hash(CF[0]), log_a.subject_hash(CF[1]));

    // The secret is 32 bytes, private to its owner, and reused.
    let secret = std::fs::read(a.secret()).unwrap();
    assert_eq!(secret.len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(a.secret()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(log_a);
    // A secret (and a database) left readable by others, by an older
    // version or a copy, is narrowed to 0600 when opened again.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [a.secret(), a.db()] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let again = AuditLog::open(&a.db(), &a.secret()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for p in [a.secret(), a.db()] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", p.display());
        }
    }
    assert_eq!(again.subject_hash(CF[0]), ra[0].subject.clone().unwrap());
    assert_eq!(std::fs::read(a.secret()).unwrap(), secret);

    // Opened with the wrong secret, the head no longer authenticates.
    drop(again);
    let wrong = AuditLog::open(&a.db(), &b.secret()).unwrap();
    assert_eq!(tampering(&wrong), Tampering::Head);

    // A damaged secret file is refused, not replaced.
    std::fs::write(a.secret(), b"short").unwrap();
    let err = AuditLog::open(&a.db(), &a.secret()).unwrap_err();
    assert_eq!(err.code(), "audit_secret");
    assert!(!format!("{err:?}").contains("short"));
}

#[test]
fn export_writes_the_rows_of_a_time_range() {
    let dir = Dir::new("export");
    let (log, clock) = filled(&dir, 30); // one an hour from 2026-01-01T00:00Z
    clock.advance(86_400 * 3);
    let mut out = Vec::new();
    let n = log
        .export_csv(
            Some("2026-01-01T05:00:00Z"),
            Some("2026-01-01T09:30:00+00:00"),
            &mut out,
        )
        .unwrap();
    assert_eq!(n, 5); // 05:00 … 09:00
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6);
    assert!(
        lines[0].starts_with("id,when,operator,purpose,eservice,operation,subject_hmac,outcome")
    );
    assert!(lines[1].starts_with("6,2026-01-01T05:00:00Z,op-1,"));
    assert!(lines[5].starts_with("10,2026-01-01T09:00:00Z,"));
    assert!(!text.contains(CF[0]));

    // Date bounds are whole days, inclusive: 2026-01-02 holds 24..29 (6 rows).
    let mut out = Vec::new();
    assert_eq!(
        log.export_csv(Some("2026-01-02"), Some("2026-01-02"), &mut out)
            .unwrap(),
        6
    );
    // Open bounds.
    assert_eq!(log.export_csv(None, None, Vec::new()).unwrap(), 30);
    assert_eq!(
        log.export_csv(Some("2026-01-02"), None, Vec::new())
            .unwrap(),
        6
    );
    // A bad bound.
    let err = log.export_csv(Some("ieri"), None, Vec::new()).unwrap_err();
    assert_eq!(err.code(), "audit_range");
}
