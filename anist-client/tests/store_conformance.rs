//! One conformance suite for the rivestizione [`Store`]: every check runs
//! on the embedded [`SqliteStore`] (in a temporary folder) and on the
//! [`PgStore`] of the shared backend (a schema of its own on the server of
//! `ANIST_TEST_PG_URL`; without it the PostgreSQL half says "skipped" and
//! passes). Each check is a module with two tests, `sqlite` and
//! `postgres`, so that a difference between the two shows by name.
//!
//! The checks: settings, enti, users, requests and their subjects, the
//! compare-and-set state changes, the paging of the pending subjects, the
//! outcomes recorded once, the personal data forgotten, several handles
//! (connections) racing on one store, and the whole workflow (setup,
//! submit, approve, worker, download, purge) over each store.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Barrier};

use anist_client::audit::AuditLog;
use anist_client::clock::ManualClock;
use anist_client::pg::{test_database, test_schema_url, Database};
use anist_client::rivestizione::{
    Ente, NewRequest, Outcome, PgStore, RequestRecord, Rivestizione, Settings, SqliteStore,
    StateUpdate, Store, SubjectData, SubjectLookup, SubjectOutcome, SubjectRecord, User, Worker,
};
use anist_client::ErrorCode;
use anist_core::anpr::dati::DatoRichiesto;
use anist_core::rivestizione::{
    read_subjects, Approval, Profile, Role, Scope, State, SubjectFile, SubjectKind,
};
use anist_core::synthetic::SyntheticPeople;
use chrono::NaiveDate;

const T0: i64 = 1_796_000_000;
const TORINO: &str = "001272";
const MILANO: &str = "015146";

/// A store under test, and a way to open another handle on the same data
/// (another SQLite connection, another PostgreSQL connection), for the
/// races.
struct Fixture {
    store: Arc<dyn Store>,
    reopen: Box<dyn Fn() -> Arc<dyn Store> + Send + Sync>,
    dir: Dir,
}

/// A temporary folder, removed with the test.
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(backend: &str, check: &str) -> Dir {
    let d = std::env::temp_dir().join(format!(
        "anist-conf-riv-{backend}-{check}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn sqlite(check: &str) -> Fixture {
    let dir = dir("sqlite", check);
    let path = dir.0.join("riv.sqlite");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let reopen =
        Box::new(move || -> Arc<dyn Store> { Arc::new(SqliteStore::open(&path).unwrap()) });
    Fixture { store, reopen, dir }
}

fn postgres(check: &str) -> Option<Fixture> {
    let schema = format!("anist_conf_riv_{check}");
    assert!(schema.len() <= 63, "a PostgreSQL name has 63 bytes at most");
    let url = test_schema_url(&schema)?;
    let db = Arc::new(Database::connect(&url, None).unwrap());
    let store: Arc<dyn Store> = Arc::new(PgStore::open(db).unwrap());
    let reopen = Box::new(move || -> Arc<dyn Store> {
        let db = Database::connect(&url, None).unwrap();
        Arc::new(PgStore::open(Arc::new(db)).unwrap())
    });
    Some(Fixture {
        store,
        reopen,
        dir: dir("pg", check),
    })
}

/// Each check as a module with a test per backend. `store` checks take
/// `&dyn Store`; `fixture` checks take the whole [`Fixture`].
macro_rules! conformance {
    (store: $($check:ident),* ; fixture: $($fcheck:ident),* $(;)?) => {
        $(
            mod $check {
                #[test]
                fn sqlite() {
                    let f = super::sqlite(stringify!($check));
                    super::$check(&*f.store);
                }

                #[test]
                fn postgres() {
                    let Some(f) = super::postgres(stringify!($check)) else {
                        eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)");
                        return;
                    };
                    super::$check(&*f.store);
                }
            }
        )*
        $(
            mod $fcheck {
                #[test]
                fn sqlite() {
                    super::$fcheck(&super::sqlite(stringify!($fcheck)));
                }

                #[test]
                fn postgres() {
                    let Some(f) = super::postgres(stringify!($fcheck)) else {
                        eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)");
                        return;
                    };
                    super::$fcheck(&f);
                }
            }
        )*
    };
}

conformance! {
    store:
        settings_round_trip,
        ente_replace_and_order,
        users_insert_once_and_update,
        requests_order_and_fields,
        set_state_is_compare_and_set,
        pending_subjects_paging,
        record_outcome_once,
        subjects_in_order,
        forget_subjects_keeps_outcomes;
    fixture:
        concurrent_handles_one_winner,
        workflow_end_to_end;
}

// ---------------------------------------------------------------- helpers

fn ente(id: &str, nome: &str, comune: &str) -> Ente {
    Ente {
        id: id.into(),
        nome: nome.into(),
        comune: comune.into(),
    }
}

fn user(id: &str, role: Role, ente: &str, p: Profile) -> User {
    User {
        id: id.into(),
        nome: format!("Operatore {id}"),
        role,
        ente: ente.into(),
        active: true,
        profile: p,
    }
}

fn generalita() -> Profile {
    Profile::new([DatoRichiesto::Generalita], Scope::Convenzionati)
}

fn everything() -> Profile {
    Profile::new(
        [
            DatoRichiesto::Generalita,
            DatoRichiesto::Residenza,
            DatoRichiesto::FamigliaConvivenza,
        ],
        Scope::Italia,
    )
}

/// `n` synthetic codici fiscali (seeded), then one passport issued by a
/// questura, then a row that is not valid.
fn subject_file(seed: u64, n: usize) -> SubjectFile {
    let from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2015, 12, 31).unwrap();
    let mut people = SyntheticPeople::new(seed, from, to);
    let mut csv = String::from("tipo;identificativo;rilascio\n");
    for _ in 0..n {
        csv.push_str(&format!(
            "CF;{};\n",
            people.next_person().codice_fiscale.as_str()
        ));
    }
    csv.push_str("PASSAPORTO;YA1234567;QUESTURA DI ROMA\n");
    csv.push_str("CF;NONVALIDO;\n");
    let file = read_subjects(csv.as_bytes()).unwrap();
    assert_eq!(file.subjects.len(), n + 1);
    assert_eq!(file.bad.len(), 1);
    file
}

/// Records a request of `file` by `owner` at `at`.
fn insert(store: &dyn Store, owner: &str, at: i64, asked: &Profile, file: &SubjectFile) -> i64 {
    store
        .insert_request(
            &NewRequest {
                owner,
                ente: "polizia",
                motivo: "prot. 7/2026",
                asked,
                at,
                bad_rows: file.bad.len() as u64,
            },
            &file.subjects,
        )
        .unwrap()
}

fn found(cf: &str, comune: &str) -> SubjectOutcome {
    SubjectOutcome {
        outcome: Outcome::Found,
        code: None,
        data: Some(SubjectData {
            id_anpr: String::from("AB12345CD"),
            generalita: Some([
                cf.into(),
                "ROSSI".into(),
                "MARIA".into(),
                "F".into(),
                "2012-05-04".into(),
                "TORINO".into(),
            ]),
            residenza: Some([
                "VIA ROMA 1".into(),
                "10100".into(),
                "TORINO".into(),
                comune.into(),
                "2015-01-01".into(),
            ]),
            famiglia: vec![[
                cf.into(),
                "ROSSI".into(),
                "MARIA".into(),
                "intestatario".into(),
            ]],
        }),
    }
}

fn refused(code: &str) -> SubjectOutcome {
    SubjectOutcome {
        outcome: Outcome::Refused,
        code: Some(code.into()),
        data: None,
    }
}

fn positions(v: &[SubjectRecord]) -> Vec<i64> {
    v.iter().map(|s| s.pos).collect()
}

// ----------------------------------------------------------------- checks

fn settings_round_trip(store: &dyn Store) {
    assert_eq!(store.settings().unwrap(), None, "not configured yet");
    let first = Settings {
        approval: Approval::Manual,
        retention_days: 7,
        comuni: vec![TORINO.into(), "MONCALIERI".into()],
    };
    store.save_settings(&first).unwrap();
    assert_eq!(store.settings().unwrap(), Some(first));
    let second = Settings {
        approval: Approval::SilentAssent {
            after_seconds: 86_400,
        },
        retention_days: 30,
        comuni: vec![],
    };
    store.save_settings(&second).unwrap();
    assert_eq!(store.settings().unwrap(), Some(second), "replaced");
}

fn ente_replace_and_order(store: &dyn Store) {
    assert_eq!(store.ente("polizia").unwrap(), None);
    assert!(store.enti().unwrap().is_empty());
    store
        .save_ente(&ente("polizia", "Polizia locale", TORINO))
        .unwrap();
    assert_eq!(
        store.ente("polizia").unwrap(),
        Some(ente("polizia", "Polizia locale", TORINO))
    );
    // The same id again: replaced, not added.
    store
        .save_ente(&ente("polizia", "Polizia municipale", MILANO))
        .unwrap();
    assert_eq!(
        store.ente("polizia").unwrap(),
        Some(ente("polizia", "Polizia municipale", MILANO))
    );
    for id in ["tributi", "Anagrafe", "b-ufficio", "Zeta", "àccento"] {
        store.save_ente(&ente(id, "x", TORINO)).unwrap();
    }
    // Ordered by id byte by byte (upper case before lower case, non-ASCII
    // last), whatever the database's collation.
    let ids: Vec<String> = store.enti().unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        [
            "Anagrafe",
            "Zeta",
            "b-ufficio",
            "polizia",
            "tributi",
            "àccento"
        ]
    );
    assert_eq!(
        store.ente("Polizia").unwrap(),
        None,
        "ids are case-sensitive"
    );
}

fn users_insert_once_and_update(store: &dyn Store) {
    assert_eq!(store.user("s1").unwrap(), None);
    let s1 = user("s1", Role::Standard, "polizia", generalita());
    assert!(store.insert_user(&s1).unwrap());
    assert_eq!(store.user("s1").unwrap(), Some(s1.clone()));
    // The id is taken: false, and the user stays as it was.
    let other = User {
        nome: "Altro".into(),
        role: Role::Top,
        ..s1.clone()
    };
    assert!(!store.insert_user(&other).unwrap());
    assert_eq!(store.user("s1").unwrap(), Some(s1.clone()));
    // Replaced: name, role, ente, state, profile.
    let changed = User {
        id: "s1".into(),
        nome: "Ugo Bianchi".into(),
        role: Role::Admin,
        ente: "tributi".into(),
        active: false,
        profile: everything(),
    };
    store.update_user(&changed).unwrap();
    assert_eq!(store.user("s1").unwrap(), Some(changed.clone()));
    // Updating a user that does not exist adds nobody.
    store
        .update_user(&user("ghost", Role::Standard, "polizia", generalita()))
        .unwrap();
    assert_eq!(store.user("ghost").unwrap(), None);
    for id in ["top", "Adm", "s10"] {
        assert!(store
            .insert_user(&user(id, Role::Top, "anagrafe", everything()))
            .unwrap());
    }
    let ids: Vec<String> = store.users().unwrap().into_iter().map(|u| u.id).collect();
    assert_eq!(ids, ["Adm", "s1", "s10", "top"]);
    assert_eq!(store.users().unwrap()[1], changed);
}

fn requests_order_and_fields(store: &dyn Store) {
    assert!(store.requests().unwrap().is_empty());
    assert_eq!(store.request(1).unwrap(), None);
    let asked = generalita();
    let file = subject_file(1, 3);
    let a = insert(store, "s1", T0, &asked, &file);
    let b = insert(store, "s2", T0 - 100, &everything(), &subject_file(2, 1));
    let c = insert(store, "s1", T0 + 5, &asked, &file);
    assert!(a >= 1 && a < b && b < c, "{a} {b} {c}: increasing numbers");
    let all = store.requests().unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        [a, b, c],
        "oldest first, by number (not by time)"
    );
    let r = store.request(a).unwrap().unwrap();
    assert_eq!(
        r,
        RequestRecord {
            id: a,
            owner: "s1".into(),
            ente: "polizia".into(),
            motivo: "prot. 7/2026".into(),
            asked: asked.clone(),
            state: State::AwaitingApproval,
            submitted_at: T0,
            decided_at: None,
            decided_by: None,
            reason: None,
            started_at: None,
            finished_at: None,
            subjects: 4,
            answered: 0,
            bad_rows: 1,
            error: None,
            file: None,
            expires_at: None,
        }
    );
    assert_eq!(all[0], r, "one record, whichever way it is read");
    assert_eq!(all[1].asked, everything());
    assert_eq!(all[1].subjects, 2);
    assert_eq!(store.request(c + 1000).unwrap(), None);
    // A request with no subject is recorded too (the workflow refuses it
    // before; the store does not care).
    let empty = SubjectFile {
        subjects: vec![],
        bad: vec![],
    };
    let d = insert(store, "s3", T0, &asked, &empty);
    assert!(d > c);
    assert!(store.subjects(d).unwrap().is_empty());
    assert_eq!(store.request(d).unwrap().unwrap().subjects, 0);
}

fn set_state_is_compare_and_set(store: &dyn Store) {
    let file = subject_file(3, 1);
    let id = insert(store, "s1", T0, &generalita(), &file);
    let other = insert(store, "s1", T0, &generalita(), &file);
    let by = |at: i64, who: &'static str| StateUpdate {
        at,
        by: Some(who),
        ..StateUpdate::default()
    };
    // The first decision wins; the second mover gets false and changes
    // nothing.
    assert!(store
        .set_state(
            id,
            State::AwaitingApproval,
            State::Approved,
            &by(T0 + 1, "top")
        )
        .unwrap());
    assert!(!store
        .set_state(
            id,
            State::AwaitingApproval,
            State::Approved,
            &by(T0 + 2, "top2")
        )
        .unwrap());
    let rejected = StateUpdate {
        at: T0 + 3,
        by: Some("silent_assent"),
        reason: Some("troppo tardi"),
        ..StateUpdate::default()
    };
    assert!(!store
        .set_state(id, State::AwaitingApproval, State::Rejected, &rejected)
        .unwrap());
    let r = store.request(id).unwrap().unwrap();
    assert_eq!(r.state, State::Approved);
    assert_eq!(r.decided_at, Some(T0 + 1));
    assert_eq!(r.decided_by.as_deref(), Some("top"));
    assert_eq!(r.reason, None);
    // The other request was not touched.
    assert_eq!(
        store.request(other).unwrap().unwrap().state,
        State::AwaitingApproval
    );
    // Rejected, with its reason.
    assert!(store
        .set_state(other, State::AwaitingApproval, State::Rejected, &rejected)
        .unwrap());
    let o = store.request(other).unwrap().unwrap();
    assert_eq!(o.state, State::Rejected);
    assert_eq!(o.reason.as_deref(), Some("troppo tardi"));
    assert_eq!(o.decided_by.as_deref(), Some("silent_assent"));
    // Started once: a resumed request keeps its first start.
    let at = |at: i64| StateUpdate {
        at,
        ..StateUpdate::default()
    };
    assert!(store
        .set_state(id, State::Approved, State::Processing, &at(T0 + 10))
        .unwrap());
    assert!(!store
        .set_state(id, State::Approved, State::Processing, &at(T0 + 11))
        .unwrap());
    assert!(store
        .set_state(id, State::Processing, State::Processing, &at(T0 + 12))
        .unwrap());
    assert_eq!(
        store.request(id).unwrap().unwrap().started_at,
        Some(T0 + 10)
    );
    // Done: its file and its expiry.
    let done = StateUpdate {
        at: T0 + 20,
        file: Some("rivestizione-1.csv"),
        expires_at: Some(T0 + 20 + 86_400),
        ..StateUpdate::default()
    };
    assert!(!store
        .set_state(id, State::Approved, State::Done, &done)
        .unwrap());
    assert!(store
        .set_state(id, State::Processing, State::Done, &done)
        .unwrap());
    let r = store.request(id).unwrap().unwrap();
    assert_eq!(r.state, State::Done);
    assert_eq!(r.finished_at, Some(T0 + 20));
    assert_eq!(r.file.as_deref(), Some("rivestizione-1.csv"));
    assert_eq!(r.expires_at, Some(T0 + 20 + 86_400));
    assert_eq!(r.error, None);
    // Expired: only the state changes.
    assert!(store
        .set_state(id, State::Done, State::Expired, &at(T0 + 99))
        .unwrap());
    let e = store.request(id).unwrap().unwrap();
    assert_eq!(e.state, State::Expired);
    assert_eq!(e.finished_at, Some(T0 + 20));
    assert_eq!(e.file.as_deref(), Some("rivestizione-1.csv"));
    // Failed, with its code.
    let third = insert(store, "s1", T0, &generalita(), &file);
    assert!(store
        .set_state(
            third,
            State::AwaitingApproval,
            State::Approved,
            &by(T0, "top")
        )
        .unwrap());
    assert!(store
        .set_state(third, State::Approved, State::Processing, &at(T0 + 1))
        .unwrap());
    let failed = StateUpdate {
        at: T0 + 2,
        error: Some("rivestizione_file"),
        ..StateUpdate::default()
    };
    assert!(store
        .set_state(third, State::Processing, State::Failed, &failed)
        .unwrap());
    let f = store.request(third).unwrap().unwrap();
    assert_eq!(f.state, State::Failed);
    assert_eq!(f.error.as_deref(), Some("rivestizione_file"));
    assert_eq!(f.finished_at, Some(T0 + 2));
    assert_eq!(f.file, None);
    // No such request: false.
    assert!(!store
        .set_state(
            third + 1000,
            State::AwaitingApproval,
            State::Approved,
            &by(T0, "top")
        )
        .unwrap());
}

fn pending_subjects_paging(store: &dyn Store) {
    let file = subject_file(4, 9); // 10 subjects, positions 0..=9
    let id = insert(store, "s1", T0, &generalita(), &file);
    let neighbour = insert(store, "s1", T0, &generalita(), &file);
    assert_eq!(
        positions(&store.pending_subjects(id, -1, usize::MAX).unwrap()),
        (0..10).collect::<Vec<_>>()
    );
    for pos in [2, 5] {
        assert!(store
            .record_outcome(id, pos, &refused("anpr_EN122"))
            .unwrap());
    }
    let page = |after, limit| positions(&store.pending_subjects(id, after, limit).unwrap());
    assert_eq!(page(-1, 3), [0, 1, 3]);
    assert_eq!(page(3, 3), [4, 6, 7]);
    assert_eq!(page(7, 100), [8, 9]);
    assert_eq!(page(9, 10), Vec::<i64>::new());
    assert_eq!(page(-1, 0), Vec::<i64>::new());
    assert_eq!(page(4, 1), [6]);
    // The records are whole: identifier, line, issuer, no outcome.
    let first = &store.pending_subjects(id, -1, 1).unwrap()[0];
    assert_eq!(first.line, 2, "the header is line 1");
    assert_eq!(first.id, Some(file.subjects[0].id));
    assert_eq!(first.outcome, None);
    let passport = &store.pending_subjects(id, 8, 1).unwrap()[0];
    assert_eq!(passport.pos, 9);
    assert_eq!(passport.id.unwrap().kind(), SubjectKind::Passaporto);
    assert_eq!(passport.rilascio.as_deref(), Some("QUESTURA DI ROMA"));
    // The other request's subjects are its own.
    assert_eq!(
        store.pending_subjects(neighbour, -1, 100).unwrap().len(),
        10
    );
    assert!(store
        .pending_subjects(neighbour + 1000, -1, 100)
        .unwrap()
        .is_empty());
}

fn record_outcome_once(store: &dyn Store) {
    let file = subject_file(5, 2);
    let id = insert(store, "s1", T0, &everything(), &file);
    let cf = file.subjects[0].id.value().to_owned();
    let first = found(&cf, TORINO);
    assert!(store.record_outcome(id, 0, &first).unwrap());
    // A late or second answer never overwrites the first.
    assert!(!store.record_outcome(id, 0, &refused("anpr_EN122")).unwrap());
    assert!(!store.record_outcome(id, 0, &found(&cf, MILANO)).unwrap());
    assert!(store.record_outcome(id, 1, &refused("anpr_EN122")).unwrap());
    let error = SubjectOutcome {
        outcome: Outcome::Error,
        code: Some("anpr_timeout".into()),
        data: None,
    };
    assert!(store.record_outcome(id, 2, &error).unwrap());
    assert!(
        !store.record_outcome(id, 3, &error).unwrap(),
        "no such position"
    );
    assert!(
        !store.record_outcome(id + 1000, 0, &error).unwrap(),
        "no such request"
    );
    let s = store.subjects(id).unwrap();
    assert_eq!(s[0].outcome, Some(first), "the first outcome, data and all");
    assert_eq!(s[1].outcome, Some(refused("anpr_EN122")));
    assert_eq!(s[2].outcome, Some(error));
    assert_eq!(store.request(id).unwrap().unwrap().answered, 3);
    assert!(store.pending_subjects(id, -1, 10).unwrap().is_empty());
}

fn subjects_in_order(store: &dyn Store) {
    let file = subject_file(6, 40);
    let id = insert(store, "s1", T0, &generalita(), &file);
    // Answered out of order.
    for pos in [39, 3, 17, 0] {
        assert!(store.record_outcome(id, pos, &refused("x")).unwrap());
    }
    let s = store.subjects(id).unwrap();
    assert_eq!(positions(&s), (0..41).collect::<Vec<_>>());
    for (rec, row) in s.iter().zip(&file.subjects) {
        assert_eq!(rec.id, Some(row.id));
        assert_eq!(rec.line, row.line);
        assert_eq!(rec.rilascio, row.rilascio);
        let answered = [39, 3, 17, 0].contains(&rec.pos);
        assert_eq!(rec.outcome.is_some(), answered, "{}", rec.pos);
    }
    assert!(store.subjects(id + 1000).unwrap().is_empty());
}

fn forget_subjects_keeps_outcomes(store: &dyn Store) {
    let file = subject_file(7, 3);
    let id = insert(store, "s1", T0, &everything(), &file);
    let kept = insert(store, "s1", T0, &everything(), &file);
    let cf = file.subjects[0].id.value().to_owned();
    assert!(store.record_outcome(id, 0, &found(&cf, TORINO)).unwrap());
    assert!(store.record_outcome(id, 1, &refused("anpr_EN122")).unwrap());
    assert!(store.record_outcome(kept, 0, &found(&cf, TORINO)).unwrap());
    store.forget_subjects(id).unwrap();
    let s = store.subjects(id).unwrap();
    assert_eq!(s.len(), 4);
    for rec in &s {
        assert_eq!(rec.id, None, "identifier forgotten");
        assert_eq!(rec.rilascio, None, "issuer forgotten");
        assert!(
            rec.outcome.as_ref().is_none_or(|o| o.data.is_none()),
            "data forgotten"
        );
    }
    assert_eq!(s[0].line, 2, "lines stay");
    // Outcomes and codes stay, for the reports.
    assert_eq!(s[0].outcome.as_ref().unwrap().outcome, Outcome::Found);
    assert_eq!(s[1].outcome, Some(refused("anpr_EN122")));
    assert_eq!(s[2].outcome, None);
    assert_eq!(store.request(id).unwrap().unwrap().answered, 2);
    // Another request keeps its own.
    let k = store.subjects(kept).unwrap();
    assert_eq!(k[0].id, Some(file.subjects[0].id));
    assert_eq!(k[0].outcome, Some(found(&cf, TORINO)));
    assert_eq!(k[3].rilascio.as_deref(), Some("QUESTURA DI ROMA"));
    // Twice is harmless.
    store.forget_subjects(id).unwrap();
    assert_eq!(store.subjects(id).unwrap(), s);
}

/// Four handles (connections) on one store, racing: every subject gets
/// exactly one outcome, one state change wins, one user is inserted.
fn concurrent_handles_one_winner(f: &Fixture) {
    const N: i64 = 60;
    const THREADS: usize = 4;
    let file = subject_file(8, usize::try_from(N).unwrap() - 1);
    let id = insert(&*f.store, "s1", T0, &generalita(), &file);
    let handles: Vec<Arc<dyn Store>> = (0..THREADS).map(|_| (f.reopen)()).collect();
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = handles
        .into_iter()
        .enumerate()
        .map(|(t, store)| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let code = format!("t{t}");
                barrier.wait();
                let mut won = Vec::new();
                // Each thread in its own order, so that they meet.
                let order: Vec<i64> = if t % 2 == 0 {
                    (0..N).collect()
                } else {
                    (0..N).rev().collect()
                };
                for pos in order {
                    if store.record_outcome(id, pos, &refused(&code)).unwrap() {
                        won.push(pos);
                    }
                }
                barrier.wait();
                let approved = store
                    .set_state(
                        id,
                        State::AwaitingApproval,
                        State::Approved,
                        &StateUpdate {
                            at: T0,
                            by: Some(&code),
                            ..StateUpdate::default()
                        },
                    )
                    .unwrap();
                barrier.wait();
                let inserted = store
                    .insert_user(&user("same", Role::Standard, "polizia", generalita()))
                    .unwrap();
                (code, won, approved, inserted)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let mut all = HashSet::new();
    for (_, won, _, _) in &results {
        for pos in won {
            assert!(all.insert(*pos), "subject {pos} recorded twice");
        }
    }
    assert_eq!(all.len(), usize::try_from(N).unwrap(), "every subject once");
    let subjects = f.store.subjects(id).unwrap();
    for s in &subjects {
        let o = s.outcome.as_ref().expect("an outcome");
        let (code, ..) = results
            .iter()
            .find(|(_, won, ..)| won.contains(&s.pos))
            .unwrap();
        assert_eq!(
            o.code.as_deref(),
            Some(code.as_str()),
            "the winner's outcome"
        );
    }
    let r = f.store.request(id).unwrap().unwrap();
    assert_eq!(r.answered, u64::try_from(N).unwrap());
    let approvers: Vec<_> = results.iter().filter(|(.., a, _)| *a).collect();
    assert_eq!(approvers.len(), 1, "one state change wins");
    assert_eq!(r.decided_by.as_deref(), Some(approvers[0].0.as_str()));
    assert_eq!(
        results.iter().filter(|(.., i)| *i).count(),
        1,
        "one insert wins"
    );
    assert_eq!(f.store.users().unwrap().len(), 1);
}

/// What the fake ANPR answers for a code: a pure function of it.
fn fate(value: &str) -> u32 {
    value.bytes().map(u32::from).sum::<u32>() % 3
}

/// ANPR, faked: not found, found in Torino or found in Milano, by the
/// code; a document is refused.
struct FakeLookup;

impl SubjectLookup for FakeLookup {
    fn lookup<'a>(
        &'a self,
        _request: &'a RequestRecord,
        subject: &'a SubjectRecord,
        _comuni: &'a [String],
    ) -> Pin<Box<dyn Future<Output = SubjectOutcome> + Send + 'a>> {
        Box::pin(async move { expected(subject.id.as_ref().unwrap().value()) })
    }
}

fn expected(value: &str) -> SubjectOutcome {
    if !value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        || value.len() != 16
    {
        return refused("anpr_EN460");
    }
    match fate(value) {
        0 => SubjectOutcome {
            outcome: Outcome::NotFound,
            code: None,
            data: None,
        },
        1 => found(value, TORINO),
        _ => found(value, MILANO),
    }
}

/// The workflow over the store: setup, users, submit, approve, one worker
/// pass with a fake ANPR, download, then the purge after the retention.
fn workflow_end_to_end(f: &Fixture) {
    let clock = Arc::new(ManualClock::new(T0));
    let audit = Arc::new(
        AuditLog::open_with_clock(
            &f.dir.0.join("audit.sqlite"),
            &f.dir.0.join("audit.key"),
            clock.clone(),
        )
        .unwrap(),
    );
    let riv = Rivestizione::new(
        Arc::clone(&f.store),
        audit,
        clock.clone(),
        f.dir.0.join("files"),
    );
    riv.setup(
        Settings {
            approval: Approval::Manual,
            retention_days: 2,
            comuni: vec![TORINO.into()],
        },
        ente("anagrafe", "Anagrafe", TORINO),
        "top",
        "Anna",
    )
    .unwrap();
    riv.add_ente("top", ente("polizia", "Polizia locale", TORINO))
        .unwrap();
    riv.register_user("top", user("t1", Role::Standard, "polizia", everything()))
        .unwrap();
    riv.register_user("top", user("s1", Role::Standard, "polizia", generalita()))
        .unwrap();
    let file = subject_file(9, 24);
    let values: Vec<String> = file
        .subjects
        .iter()
        .map(|s| s.id.value().to_owned())
        .collect();
    let wide = riv
        .submit("t1", "prot. 1/2026", None, file.clone())
        .unwrap();
    let local = riv.submit("s1", "prot. 2/2026", None, file).unwrap();
    riv.approve("top", wide).unwrap();
    riv.approve("top", local).unwrap();
    assert_eq!(
        riv.approve("top", wide).unwrap_err().code(),
        "rivestizione_state",
        "approved once"
    );
    clock.advance(60);
    let worker = Worker::new(riv.clone(), Arc::new(FakeLookup), 4);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(worker.run_once()).unwrap();
    assert_eq!(report.completed, [wide, local]);
    assert_eq!(report.subjects, 2 * 25);

    // The store: every subject answered once, as the fake ANPR said (the
    // convenzionati scope makes Milano's residents out of scope).
    for (id, convenzionati) in [(wide, false), (local, true)] {
        let r = f.store.request(id).unwrap().unwrap();
        assert_eq!(r.state, State::Done);
        assert_eq!((r.subjects, r.answered), (25, 25));
        assert_eq!(r.started_at, Some(T0 + 60));
        assert_eq!(r.file.as_deref(), Some(&*format!("rivestizione-{id}.csv")));
        for (s, v) in f.store.subjects(id).unwrap().iter().zip(&values) {
            let mut want = expected(v);
            if convenzionati
                && want
                    .data
                    .as_ref()
                    .is_some_and(|d| d.residenza.as_ref().unwrap()[3] == MILANO)
            {
                want = SubjectOutcome {
                    outcome: Outcome::OutOfScope,
                    code: None,
                    data: None,
                };
            }
            let got = s.outcome.as_ref().unwrap();
            assert_eq!(got.outcome, want.outcome, "{id} {}", s.pos);
            assert_eq!(got.code, want.code);
        }
    }
    // A second pass has nothing left to do.
    let again = rt.block_on(worker.run_once()).unwrap();
    assert!(again.completed.is_empty());
    assert_eq!(again.subjects, 0);

    // The response file: one row per subject, the outcomes above.
    assert_eq!(
        riv.download("s1", wide).unwrap_err().code(),
        "rivestizione_denied",
        "only the requester downloads"
    );
    let path = riv.download("t1", wide).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<Vec<&str>> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split(';').collect())
        .collect();
    let col = |name: &str| rows[0].iter().position(|h| *h == name).unwrap();
    assert_eq!(rows.len(), 1 + 25);
    let mut counts = [0usize; 3];
    for (row, v) in rows[1..].iter().zip(&values) {
        let want = expected(v);
        assert_eq!(row[col("identificativo")], v.as_str());
        assert_eq!(row[col("codice_esito")], want.outcome.as_str());
        match want.outcome {
            Outcome::Found => {
                counts[0] += 1;
                assert_eq!(row[col("codice_fiscale")], v.as_str());
            }
            Outcome::NotFound => counts[1] += 1,
            _ => counts[2] += 1,
        }
    }
    assert!(
        counts.iter().all(|n| *n > 0),
        "every outcome met: {counts:?}"
    );

    // After the retention: purged, the identifiers forgotten, the
    // outcomes kept.
    clock.advance(3 * 86_400);
    let purge = rt.block_on(worker.run_once()).unwrap();
    assert_eq!(purge.purged, 2);
    assert!(!path.exists());
    for id in [wide, local] {
        assert_eq!(f.store.request(id).unwrap().unwrap().state, State::Expired);
        for s in f.store.subjects(id).unwrap() {
            assert_eq!(s.id, None);
            assert!(s.outcome.unwrap().data.is_none());
        }
    }
    assert!(riv.audit().verify().unwrap() > 0);
}

/// PostgreSQL only: a refused statement becomes `rivestizione_store` with
/// the SQLSTATE and never the value (PostgreSQL's text refuses NUL, which
/// SQLite keeps); a schema newer than this anist is refused at open.
#[test]
fn postgres_errors_carry_no_data() {
    let Some(db) = test_database("anist_conf_riv_errors") else {
        eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)");
        return;
    };
    let db = Arc::new(db);
    let store = PgStore::open(Arc::clone(&db)).unwrap();
    let secret = "RSSMRA80A01H501U";
    let e = store
        .insert_user(&user(
            &format!("{secret}\0"),
            Role::Standard,
            "polizia",
            generalita(),
        ))
        .unwrap_err();
    assert_eq!(e.code(), "rivestizione_store");
    assert!(e.reason.contains("22021"), "{e}");
    assert!(!e.to_string().contains(secret), "{e}");
    assert!(store.users().unwrap().is_empty());
    // Opened again: the schema is there, nothing is applied twice.
    PgStore::open(Arc::clone(&db)).unwrap();
    {
        let c = db.lock();
        anist_client::pg::block_on(c.execute(
            "UPDATE anist_schema SET version = 9 WHERE component = 'rivestizione'",
            &[],
        ))
        .unwrap();
    }
    let e = PgStore::open(db).unwrap_err();
    assert!(e.reason.contains("pg_schema_newer"), "{e}");
}
