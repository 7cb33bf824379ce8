//! The conformance suite of the shared job store: every test runs against
//! SQLite and against PostgreSQL (the server of `ANIST_TEST_PG_URL`,
//! which `scripts/test.sh` installs and starts; without it the PostgreSQL
//! half says it is skipped).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use super::sql;
use super::store::{JobStore, NewJob, Reservation, SharedRow};
use crate::bulk::attendance::journal::{AnyStored, Step, Stored};
use anist_core::attendance::{EsitoFrequenza, Verifica};

/// The backends, bare (no schema): SQLite, and PostgreSQL when a server is
/// configured.
#[allow(clippy::print_stderr)] // says when PostgreSQL is skipped
fn backends(name: &str) -> Vec<Box<dyn sql::Backend>> {
    let dir = std::env::temp_dir().join(format!("anist-shared-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut all: Vec<Box<dyn sql::Backend>> = vec![Box::new(
        sql::Sqlite::open(&dir.join("jobs.sqlite")).unwrap(),
    )];
    #[cfg(feature = "postgres")]
    match crate::pg::test_database(&format!("anist_shared_{name}")) {
        Some(db) => all.push(Box::new(sql::Postgres::new(std::sync::Arc::new(db)))),
        None => eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)"),
    }
    all
}

#[test]
fn a_store_of_the_first_schema_is_upgraded() {
    for db in backends("upgrade") {
        db.migrate(&super::store::SCHEMA[..1]).unwrap();
        let index = |db: &dyn sql::Backend| {
            let sql = if db.name() == "sqlite" {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'bulk_questions_pending'"
            } else {
                "SELECT indexname::text FROM pg_indexes WHERE indexname = 'bulk_questions_pending' \
                 AND schemaname = current_schema()"
            };
            db.one(sql, &[]).unwrap().len()
        };
        assert_eq!(index(db.as_ref()), 0, "{}", db.name());
        let store = JobStore::open(db).unwrap();
        assert_eq!(index(store.db()), 1, "{}: step 2 applied", store.backend());
        assert!(
            store
                .db()
                .one("SELECT rounds FROM bulk_questions LIMIT 1", &[])
                .is_ok(),
            "{}: step 3 applied",
            store.backend()
        );
        // Applied once: migrating again changes nothing and fails on nothing.
        store.db().migrate(super::store::SCHEMA).unwrap();
        assert_eq!(index(store.db()), 1);
    }
}

/// The store on SQLite, and on PostgreSQL when a server is configured.
#[allow(clippy::print_stderr)] // says when PostgreSQL is skipped
fn stores(name: &str) -> Vec<(JobStore, Vec<JobStore>)> {
    let dir = std::env::temp_dir().join(format!("anist-shared-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("jobs.sqlite");
    let open_sqlite = || JobStore::open(Box::new(sql::Sqlite::open(&path).unwrap())).unwrap();
    let mut all = vec![(open_sqlite(), vec![open_sqlite(), open_sqlite()])];
    #[cfg(feature = "postgres")]
    match crate::pg::test_schema_url(&format!("anist_shared_{name}")) {
        Some(url) => {
            let open = || {
                let db = crate::pg::Database::connect(&url, None).unwrap();
                JobStore::open(Box::new(sql::Postgres::new(std::sync::Arc::new(db)))).unwrap()
            };
            all.push((open(), vec![open(), open()]));
        }
        None => eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)"),
    }
    all
}

fn job() -> NewJob {
    NewJob {
        school_year: String::from("2025/2026"),
        id_anpr: false,
        output: String::from("/tmp/esiti.csv"),
        operator: String::from("op"),
    }
}

/// `n` rows asking keys `k0…`, every third one twice, plus one row decided
/// locally.
fn rows(n: usize) -> Vec<SharedRow> {
    let mut out = Vec::new();
    for i in 0..n {
        let key = format!("k{}", i - i % 3 * usize::from(i % 3 == 2));
        out.push(SharedRow {
            line: i as u64 + 2,
            given: key.clone(),
            key: Some(key),
            esito: None,
            motivo: None,
            note: Some(String::from("compulsory")),
        });
    }
    out.push(SharedRow {
        line: n as u64 + 2,
        given: String::from("XYZ"),
        key: None,
        esito: Some(String::from("invalid_code")),
        motivo: Some(String::from("cf_length")),
        note: None,
    });
    out
}

fn verify(frequentante: bool) -> String {
    let esito = if frequentante {
        EsitoFrequenza::Frequentante
    } else {
        EsitoFrequenza::NonFrequentante
    };
    AnyStored::Verify(Stored::Found(Verifica {
        frequentante,
        esito_frequenza: Some(esito),
    }))
    .json()
    .unwrap()
}

fn verify_not_found() -> String {
    AnyStored::Verify(Stored::NotFound).json().unwrap()
}

fn no_record() -> String {
    AnyStored::Ascertain(Stored::NotFound).json().unwrap()
}

#[test]
fn claims_are_disjoint_and_an_expired_lease_returns_to_the_pool() {
    for (s, others) in stores("claims") {
        let id = s.create_job(&job(), &rows(30)).unwrap();
        let j = s.job(id).unwrap().unwrap();
        assert_eq!(j.rows_total, 31, "{}", s.backend());
        assert_eq!(j.state, "running");
        let total = j.questions_total;
        let long = Duration::from_secs(60);
        let a = s.claim(id, Step::Verify, "a", 0, 8, long).unwrap();
        let b = others[0].claim(id, Step::Verify, "b", 0, 8, long).unwrap();
        assert_eq!(a.len(), 8);
        assert_eq!(b.len(), 8);
        assert!(
            a.iter().all(|x| b.iter().all(|y| y.id != x.id)),
            "{}",
            s.backend()
        );
        assert!(a.windows(2).all(|w| w[0].id < w[1].id), "ids ascending");
        // The rest, then nothing: every question is held.
        let c = others[1]
            .claim(id, Step::Verify, "c", 0, 100, long)
            .unwrap();
        assert_eq!((a.len() + b.len() + c.len()) as u64, total);
        assert!(others[1]
            .claim(id, Step::Verify, "c2", 0, 100, long)
            .unwrap()
            .is_empty());
        // A holder asks its own again (a resumed pass); b's expire.
        assert_eq!(
            s.claim(id, Step::Verify, "a", 0, 100, long).unwrap().len(),
            8
        );
        let short = others[0]
            .claim(id, Step::Verify, "b", 0, 100, Duration::from_millis(1))
            .unwrap();
        assert_eq!(short.len(), 8);
        std::thread::sleep(Duration::from_millis(20));
        let taken = others[1]
            .claim(id, Step::Verify, "d", 0, 100, long)
            .unwrap();
        assert_eq!(
            taken.iter().map(|p| p.id).collect::<Vec<_>>(),
            b.iter().map(|p| p.id).collect::<Vec<_>>(),
            "{}: the dead worker's batch, and only it",
            s.backend()
        );
    }
}

#[test]
fn an_answer_and_an_outcome_are_recorded_once() {
    for (s, others) in stores("once") {
        let id = s.create_job(&job(), &rows(3)).unwrap();
        let q = s
            .claim(id, Step::Verify, "a", 0, 10, Duration::from_secs(60))
            .unwrap();
        // "k0" stands for two rows (k0 and the repeated one).
        let k0 = q.iter().find(|p| p.key == "k0").unwrap().id;
        let first = s.store(id, k0, Step::Verify, &verify(true)).unwrap();
        assert_eq!(
            first,
            Some((String::from("compliant"), 2)),
            "{}",
            s.backend()
        );
        // A late duplicate of another worker: a different answer, ignored.
        let late = others[0]
            .store(id, k0, Step::Verify, &verify_not_found())
            .unwrap();
        assert_eq!(late, None);
        let counts = s.done_counts(id).unwrap();
        assert_eq!(counts.compliant, 2);
        assert_eq!(counts.invalid_code, 1);
        // Final questions are claimed no more.
        let again = s
            .claim(id, Step::Verify, "b", 0, 10, Duration::from_secs(60))
            .unwrap();
        assert!(again.iter().all(|p| p.id != k0));
        let mut seen = Vec::new();
        s.for_each_row(id, &mut |r| {
            seen.push((r.line, r.key, r.answers[0].clone()));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 4);
        assert_eq!(
            seen[0].2.as_deref(),
            Some(verify(true).as_str()),
            "first answer kept"
        );
        assert_eq!(seen[3].1, None, "the local row has no question");
    }
}

/// An answer and what it decides are written together or not at all: a
/// worker stopped in between (here: an answer the decision cannot read)
/// leaves the question as it was, claimable again. Written apart, the
/// answer stayed and no step could claim the question: the job never
/// finished.
#[test]
fn an_answer_is_stored_with_its_consequences_or_not_at_all() {
    for (s, _) in stores("atomic") {
        let id = s.create_job(&job(), &rows(1)).unwrap();
        let lease = Duration::from_millis(1);
        let q = s.claim(id, Step::Verify, "a", 0, 10, lease).unwrap();
        let k = q[0].id;
        let err = s.store(id, k, Step::Verify, "{\"not\":\"an answer\"}");
        assert!(err.is_err(), "{}", s.backend());
        std::thread::sleep(Duration::from_millis(5));
        let again = s.claim(id, Step::Verify, "b", 0, 10, lease).unwrap();
        assert_eq!(
            again.iter().map(|p| p.id).collect::<Vec<_>>(),
            vec![k],
            "{}: the question is claimable again",
            s.backend()
        );
        assert_eq!(
            s.store(id, k, Step::Verify, &verify(true)).unwrap(),
            Some((String::from("compliant"), 1))
        );
        assert_eq!(s.remaining(id).unwrap(), 0, "{}", s.backend());
    }
}

/// A question deferred after a transient failure is nobody's until the
/// delay passes, then anybody's; the rounds are counted and capped; a step
/// answered meanwhile is not deferred.
#[test]
fn a_deferred_question_returns_after_its_delay_for_a_few_rounds() {
    for (s, others) in stores("defer") {
        let id = s.create_job(&job(), &rows(1)).unwrap();
        let lease = Duration::from_secs(60);
        let delay = Duration::from_millis(150);
        let k = s.claim(id, Step::Verify, "a", 0, 10, lease).unwrap()[0].id;
        assert!(
            s.defer(id, k, Step::Verify, delay, 2).unwrap(),
            "{}",
            s.backend()
        );
        assert!(
            s.claim(id, Step::Verify, "a", 0, 10, lease)
                .unwrap()
                .is_empty(),
            "{}: not even its last holder's before the delay",
            s.backend()
        );
        std::thread::sleep(delay + Duration::from_millis(50));
        let again = others[0]
            .claim(id, Step::Verify, "b", 0, 10, lease)
            .unwrap();
        assert_eq!(again.len(), 1, "{}: anybody's after it", s.backend());
        assert!(s.defer(id, k, Step::Verify, Duration::ZERO, 2).unwrap());
        assert!(
            !s.defer(id, k, Step::Verify, Duration::ZERO, 2).unwrap(),
            "{}: two rounds at most",
            s.backend()
        );
        // Not final: the failure is then stored as the answer.
        assert_eq!(s.remaining(id).unwrap(), 1);

        // A step answered meanwhile (by another worker) is not deferred.
        let id = s.create_job(&job(), &rows(1)).unwrap();
        let k = s.claim(id, Step::Verify, "a", 0, 10, lease).unwrap()[0].id;
        assert_eq!(s.store(id, k, Step::Verify, &verify(false)).unwrap(), None);
        assert!(!s.defer(id, k, Step::Verify, delay, 2).unwrap());
        assert_eq!(
            s.claim(id, Step::AscCurrent, "a", 0, 10, lease)
                .unwrap()
                .len(),
            1,
            "{}: the next step is not held back",
            s.backend()
        );
    }
}

#[test]
fn not_attending_opens_the_ascertainments_then_the_output_is_taken_once() {
    for (s, others) in stores("output") {
        let id = s.create_job(&job(), &rows(1)).unwrap();
        let lease = Duration::from_secs(60);
        let q = s.claim(id, Step::Verify, "a", 0, 10, lease).unwrap();
        let k = q[0].id;
        assert_eq!(s.store(id, k, Step::Verify, &verify(false)).unwrap(), None);
        assert_eq!(s.remaining(id).unwrap(), 1);
        let cur = s.claim(id, Step::AscCurrent, "a", 0, 10, lease).unwrap();
        assert_eq!(cur.len(), 1, "{}", s.backend());
        assert_eq!(
            s.store(id, k, Step::AscCurrent, &no_record()).unwrap(),
            None
        );
        let finished = s.store(id, k, Step::AscPrevious, &no_record()).unwrap();
        assert!(finished.is_some());
        assert_eq!(s.remaining(id).unwrap(), 0);
        // One writer: the second is refused, and cannot finish.
        assert!(s.take_output(id, "a", lease).unwrap());
        assert!(!others[0].take_output(id, "b", lease).unwrap());
        assert!(!others[0].finish(id, "b", "{}", false).unwrap());
        assert!(s.has_rows(id).unwrap());
        assert!(s.finish(id, "a", r#"{"x":1}"#, false).unwrap());
        let j = s.job(id).unwrap().unwrap();
        assert_eq!(j.state, "done");
        assert_eq!(j.outcomes.as_deref(), Some(r#"{"x":1}"#));
        assert!(j.finished_ms.is_some());
        // The codes are forgotten once the output is written.
        assert!(!s.has_rows(id).unwrap(), "{}", s.backend());
        assert!(!s.take_output(id, "c", lease).unwrap(), "done is done");
    }
}

#[test]
fn a_dead_writer_s_output_is_taken_over() {
    for (s, others) in stores("writer") {
        let id = s.create_job(&job(), &rows(0)).unwrap();
        assert_eq!(s.remaining(id).unwrap(), 0);
        assert!(s.take_output(id, "a", Duration::from_millis(1)).unwrap());
        std::thread::sleep(Duration::from_millis(20));
        assert!(others[0]
            .take_output(id, "b", Duration::from_secs(60))
            .unwrap());
        assert!(!s.finish(id, "a", "{}", false).unwrap(), "{}", s.backend());
        assert!(others[0].finish(id, "b", "{}", false).unwrap());
    }
}

#[test]
fn the_budget_paces_every_worker_together_and_stops_at_the_quota() {
    for (s, others) in stores("budget") {
        // 20 calls a second: slots 50 ms apart, whoever asks.
        let mut waits = Vec::new();
        for i in 0..6 {
            let store = if i % 2 == 0 { &s } else { &others[0] };
            match store.reserve("verifica", 20.0, 1000).unwrap() {
                Reservation::After(w) => waits.push(w),
                Reservation::QuotaSpent => panic!("quota"),
            }
        }
        assert!(waits[0] < Duration::from_millis(10), "{waits:?}");
        assert!(
            waits[5] >= Duration::from_millis(200),
            "{}: {waits:?}",
            s.backend()
        );
        assert!(
            waits[5] <= Duration::from_millis(260),
            "{}: {waits:?}",
            s.backend()
        );
        assert!(waits.windows(2).all(|w| w[0] < w[1]), "{waits:?}");
        // Another e-service has its own budget.
        assert!(matches!(
            s.reserve("accertamento", 20.0, 1000).unwrap(),
            Reservation::After(w) if w < Duration::from_millis(10)
        ));
        // The daily quota: 3 calls, then spent, for every worker.
        for _ in 0..3 {
            assert!(matches!(
                s.reserve("quota", 1000.0, 3).unwrap(),
                Reservation::After(_)
            ));
        }
        assert_eq!(
            others[1].reserve("quota", 1000.0, 3).unwrap(),
            Reservation::QuotaSpent
        );
    }
}

#[test]
fn concurrent_claimers_never_share_a_question() {
    for (s, others) in stores("race") {
        let id = s.create_job(&job(), &rows(300)).unwrap();
        let total = s.job(id).unwrap().unwrap().questions_total as usize;
        let got: Vec<Vec<i64>> = std::thread::scope(|scope| {
            let handles: Vec<_> = std::iter::once(&s)
                .chain(others.iter())
                .enumerate()
                .map(|(n, store)| {
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        loop {
                            let batch = store
                                .claim(
                                    id,
                                    Step::Verify,
                                    &format!("w{n}"),
                                    0,
                                    7,
                                    Duration::from_secs(60),
                                )
                                .unwrap();
                            if batch.is_empty() {
                                return mine;
                            }
                            for p in batch {
                                // Answered at once, so that a claim of its
                                // own never returns it.
                                store.store(id, p.id, Step::Verify, &verify(true)).unwrap();
                                mine.push(p.id);
                            }
                        }
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut all: Vec<i64> = got.concat();
        all.sort_unstable();
        let n = all.len();
        all.dedup();
        assert_eq!(
            all.len(),
            n,
            "{}: a question was claimed twice",
            s.backend()
        );
        assert_eq!(n, total);
        assert_eq!(s.remaining(id).unwrap(), 0);
    }
}

/// A running job is cancelled once: its codes are forgotten at once, the
/// counts of what was decided stay, a late answer changes nothing and no
/// worker takes its output. A job being written, done or cancelled is
/// left as it is.
#[test]
fn a_running_job_is_cancelled_and_forgotten_once() {
    use super::store::Cancel;
    for (s, others) in stores("cancel") {
        let id = s.create_job(&job(), &rows(6)).unwrap();
        let lease = Duration::from_secs(60);
        let q = s.claim(id, Step::Verify, "a", 0, 10, lease).unwrap();
        let k0 = q.iter().find(|p| p.key == "k0").unwrap().id;
        assert!(s
            .store(id, k0, Step::Verify, &verify(true))
            .unwrap()
            .is_some());
        assert_eq!(
            others[0].cancel(id).unwrap(),
            Cancel::Cancelled,
            "{}",
            s.backend()
        );
        let j = s.job(id).unwrap().unwrap();
        assert_eq!(j.state, "cancelled");
        assert!(j.finished_ms.is_some());
        // What was decided before stays in the counts: k0's two rows and
        // the row decided locally.
        let counts: crate::bulk::OutcomeCounts =
            crate::bulk::journal::decode(j.outcomes.as_deref().unwrap()).unwrap();
        assert_eq!(
            (counts.compliant, counts.invalid_code, counts.total()),
            (2, 1, 3)
        );
        assert!(
            !s.has_rows(id).unwrap(),
            "{}: the codes are forgotten",
            s.backend()
        );
        assert_eq!(s.remaining(id).unwrap(), 0);
        // A worker that was still asking: its answer finds nothing, it
        // claims nothing and takes no output.
        let k1 = q.iter().find(|p| p.key == "k1").unwrap().id;
        assert_eq!(s.store(id, k1, Step::Verify, &verify(true)).unwrap(), None);
        assert!(s
            .claim(id, Step::Verify, "a", 0, 10, lease)
            .unwrap()
            .is_empty());
        assert!(!s.take_output(id, "a", lease).unwrap());
        // Once.
        assert_eq!(
            s.cancel(id).unwrap(),
            Cancel::NotRunning(String::from("cancelled"))
        );
        assert_eq!(s.cancel(id + 1000).unwrap(), Cancel::NoSuchJob);
        // A job whose output is being written is not cancelled.
        let w = s.create_job(&job(), &rows(0)).unwrap();
        assert!(s.take_output(w, "a", lease).unwrap());
        assert_eq!(
            others[1].cancel(w).unwrap(),
            Cancel::NotRunning(String::from("writing"))
        );
        assert!(s.has_rows(w).unwrap(), "{}: left as it was", s.backend());
        assert!(s.finish(w, "a", "{}", false).unwrap());
        assert_eq!(
            s.cancel(w).unwrap(),
            Cancel::NotRunning(String::from("done"))
        );
    }
}
