#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anist_core::anpr::dati::DatoRichiesto;
use anist_core::rivestizione::{read_subjects, Approval, Profile, Role, Scope, State, SubjectFile};
use anist_core::synthetic::SyntheticPeople;
use anist_core::ErrorCode;
use chrono::NaiveDate;

use super::lookup::LookupTask;
use super::*;
use crate::audit::AuditLog;
use crate::clock::ManualClock;

const T0: i64 = 1_796_000_000;
const TORINO: &str = "001272";
const MILANO: &str = "015146";

/// What the fake ANPR answers for a code: a pure function of it.
fn fate(value: &str) -> u32 {
    value.bytes().map(u32::from).sum::<u32>() % 4
}

#[derive(Default)]
struct Fake {
    asked: Mutex<HashMap<String, u32>>,
    calls: AtomicUsize,
    hang_after: AtomicUsize,
}

impl Fake {
    fn new() -> Arc<Self> {
        let f = Fake::default();
        f.hang_after.store(usize::MAX, Ordering::SeqCst);
        Arc::new(f)
    }
}

impl SubjectLookup for Fake {
    fn lookup<'a>(
        &'a self,
        _request: &'a RequestRecord,
        subject: &'a SubjectRecord,
        _comuni: &'a [String],
    ) -> LookupTask<'a> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n >= self.hang_after.load(Ordering::SeqCst) {
                std::future::pending::<()>().await;
            }
            let v = subject.id.unwrap().value().to_owned();
            *self.asked.lock().unwrap().entry(v.clone()).or_default() += 1;
            let comune = match fate(&v) {
                0 => {
                    return SubjectOutcome {
                        outcome: Outcome::NotFound,
                        code: None,
                        data: None,
                    }
                }
                2 => MILANO,
                _ => TORINO,
            };
            // Everything, whatever was asked: the worker keeps what was.
            SubjectOutcome {
                outcome: Outcome::Found,
                code: None,
                data: Some(SubjectData {
                    id_anpr: String::from("AB12345CD"),
                    generalita: Some([
                        v.clone(),
                        "ROSSI".into(),
                        "MARIA".into(),
                        "F".into(),
                        "2012-05-04".into(),
                        "TORINO".into(),
                    ]),
                    residenza: Some([
                        "VIA ROMA 1".into(),
                        "10100".into(),
                        "X".into(),
                        comune.into(),
                        "2015-01-01".into(),
                    ]),
                    famiglia: vec![[v, "ROSSI".into(), "MARIA".into(), "intestatario".into()]],
                }),
            }
        })
    }
}

struct World {
    riv: Rivestizione,
    clock: Arc<ManualClock>,
    dir: PathBuf,
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn profile(data: &[DatoRichiesto], scope: Scope) -> Profile {
    Profile::new(data.iter().copied(), scope)
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

fn ente(id: &str, comune: &str) -> Ente {
    Ente {
        id: id.into(),
        nome: id.to_uppercase(),
        comune: comune.into(),
    }
}

/// One Comune (Torino) with the Anagrafe (TOP `top`), the polizia locale
/// (ADMIN `adm`, STANDARD `s1` with generalità only, `s2` with generalità
/// and residenza) and the tributi office (STANDARD `t1`, everything, all
/// Italy).
fn world(name: &str, approval: Approval) -> World {
    let dir = std::env::temp_dir().join(format!("anist-riv-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let store = Arc::new(SqliteStore::open(&dir.join("riv.sqlite")).unwrap());
    let audit = Arc::new(
        AuditLog::open_with_clock(
            &dir.join("audit.sqlite"),
            &dir.join("audit.key"),
            clock.clone(),
        )
        .unwrap(),
    );
    let riv = Rivestizione::new(store, audit, clock.clone(), dir.join("files"));
    let all = profile(&[DatoRichiesto::SchedaCompleta], Scope::Italia);
    riv.setup(
        Settings {
            approval,
            retention_days: 30,
            comuni: vec![TORINO.into()],
        },
        ente("anagrafe", TORINO),
        "top",
        "Anna",
    )
    .unwrap();
    riv.add_ente("top", ente("polizia", TORINO)).unwrap();
    riv.add_ente("top", ente("tributi", TORINO)).unwrap();
    let gr = profile(
        &[DatoRichiesto::Generalita, DatoRichiesto::Residenza],
        Scope::Convenzionati,
    );
    riv.register_user("top", user("adm", Role::Admin, "polizia", gr.clone()))
        .unwrap();
    let g = profile(&[DatoRichiesto::Generalita], Scope::Convenzionati);
    riv.register_user("adm", user("s1", Role::Standard, "polizia", g))
        .unwrap();
    riv.register_user("adm", user("s2", Role::Standard, "polizia", gr))
        .unwrap();
    riv.register_user("top", user("t1", Role::Standard, "tributi", all))
        .unwrap();
    World { riv, clock, dir }
}

fn subjects(seed: u64, n: usize) -> SubjectFile {
    let from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2015, 12, 31).unwrap();
    let mut people = SyntheticPeople::new(seed, from, to);
    let mut csv = String::from("tipo;identificativo\n");
    for _ in 0..n {
        csv.push_str(&format!(
            "CF;{}\n",
            people.next_person().codice_fiscale.as_str()
        ));
    }
    csv.push_str("CF;NONVALIDO\n");
    read_subjects(csv.as_bytes()).unwrap()
}

fn worker(w: &World, lookup: Arc<Fake>) -> Worker {
    Worker::new(w.riv.clone(), lookup, 4)
}

fn code<T: std::fmt::Debug>(r: Result<T, WorkflowError>) -> &'static str {
    r.unwrap_err().code()
}

fn csv_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    text.trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split(';').map(str::to_owned).collect())
        .collect()
}

#[test]
fn every_role_action_is_authorised_and_refusals_are_audited() {
    let w = world("roles", Approval::Manual);
    let riv = &w.riv;
    let any = profile(&[DatoRichiesto::Generalita], Scope::Convenzionati);
    // Registering and profiling.
    assert_eq!(
        code(riv.register_user("adm", user("a2", Role::Admin, "polizia", any.clone()))),
        "rivestizione_denied"
    );
    assert_eq!(
        code(riv.register_user("adm", user("x", Role::Standard, "tributi", any.clone()))),
        "rivestizione_denied"
    );
    let wide = profile(&[DatoRichiesto::Generalita], Scope::Italia);
    assert_eq!(
        code(riv.register_user("adm", user("x", Role::Standard, "polizia", wide.clone()))),
        "rivestizione_profile"
    );
    assert_eq!(
        code(riv.register_user("s1", user("x", Role::Standard, "polizia", any.clone()))),
        "rivestizione_denied"
    );
    assert_eq!(
        code(riv.register_user("top", user("s1", Role::Standard, "polizia", any.clone()))),
        "rivestizione_user_exists"
    );
    assert_eq!(
        code(riv.register_user("top", user("x", Role::Standard, "nessuno", any.clone()))),
        "rivestizione_no_ente"
    );
    assert_eq!(
        code(riv.set_profile("adm", "t1", any.clone(), true)),
        "rivestizione_denied"
    );
    riv.set_profile("adm", "s1", any.clone(), true).unwrap();
    assert_eq!(
        code(riv.set_profile("s1", "s2", any.clone(), true)),
        "rivestizione_denied"
    );
    // Submitting: STANDARD only.
    assert_eq!(
        code(riv.submit("top", "prot. 1", None, subjects(1, 2))),
        "rivestizione_denied"
    );
    assert_eq!(
        code(riv.submit("adm", "prot. 1", None, subjects(1, 2))),
        "rivestizione_denied"
    );
    let r1 = riv.submit("s1", "prot. 1", None, subjects(1, 2)).unwrap();
    let rt = riv.submit("t1", "prot. 2", None, subjects(2, 2)).unwrap();
    // Deciding: TOP only.
    assert_eq!(code(riv.approve("s1", r1)), "rivestizione_denied");
    assert_eq!(code(riv.approve("adm", r1)), "rivestizione_denied");
    assert_eq!(
        code(riv.configure("adm", Settings::default())),
        "rivestizione_denied"
    );
    // Seeing: TOP all, ADMIN its ente's, STANDARD its own.
    assert_eq!(riv.requests("top").unwrap().len(), 2);
    assert_eq!(riv.requests("adm").unwrap().len(), 1);
    assert_eq!(riv.requests("s1").unwrap().len(), 1);
    assert_eq!(riv.requests("s2").unwrap().len(), 0);
    assert_eq!(code(riv.request("s2", r1)), "rivestizione_denied");
    assert_eq!(code(riv.request("adm", rt)), "rivestizione_denied");
    riv.request("adm", r1).unwrap();
    // Downloading: the requester only.
    assert_eq!(code(riv.download("top", r1)), "rivestizione_denied");
    assert_eq!(code(riv.download("s1", r1)), "rivestizione_not_ready");
    // Reports: TOP all, ADMIN its ente, STANDARD none.
    assert_eq!(
        code(riv.report("s1", Some("polizia"), None, None)),
        "rivestizione_denied"
    );
    assert_eq!(
        code(riv.report("adm", None, None, None)),
        "rivestizione_denied"
    );
    assert_eq!(
        code(riv.report("adm", Some("tributi"), None, None)),
        "rivestizione_denied"
    );
    assert_eq!(
        riv.report("adm", Some("polizia"), None, None)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(riv.report("top", None, None, None).unwrap().len(), 2);
    // A disabled user can do nothing.
    riv.set_profile("top", "s1", any, false).unwrap();
    assert_eq!(code(riv.request("s1", r1)), "rivestizione_denied");
    assert_eq!(code(riv.requests("nobody")), "rivestizione_no_user");

    // Every refusal is in the trail, and the trail verifies.
    let rows = riv.audit().rows(None, None).unwrap();
    let denied = rows.iter().filter(|r| r.outcome == "denied").count();
    assert_eq!(denied, 18, "{rows:#?}");
    assert_eq!(riv.audit().verify().unwrap(), rows.len() as u64);
}

#[tokio::test]
async fn silent_assent_approves_after_the_delay_only() {
    let w = world("assent", Approval::silent_assent(Duration::from_secs(3600)));
    let id = w
        .riv
        .submit("s2", "verbale 7/2026", None, subjects(3, 6))
        .unwrap();
    let fake = Fake::new();
    let wk = worker(&w, fake.clone());
    w.clock.advance(3599);
    let rep = wk.run_once().await.unwrap();
    assert_eq!(rep.assented, 0);
    assert_eq!(
        fake.calls.load(Ordering::SeqCst),
        0,
        "nothing reaches ANPR before approval"
    );
    assert_eq!(
        w.riv.request("s2", id).unwrap().state,
        State::AwaitingApproval
    );
    w.clock.advance(1);
    let rep = wk.run_once().await.unwrap();
    assert_eq!((rep.assented, rep.completed.clone()), (1, vec![id]));
    let r = w.riv.request("s2", id).unwrap();
    assert_eq!(r.state, State::Done);
    assert_eq!(r.decided_by.as_deref(), Some("silent_assent"));
    assert_eq!((r.subjects, r.answered, r.bad_rows), (6, 6, 1));
    // A TOP may still decide before the delay: a second request rejected.
    let id2 = w
        .riv
        .submit("s2", "verbale 8/2026", None, subjects(4, 2))
        .unwrap();
    w.riv.reject("top", id2, "fuori competenza").unwrap();
    w.clock.advance(7200);
    assert_eq!(wk.run_once().await.unwrap().assented, 0);
    assert_eq!(w.riv.request("s2", id2).unwrap().state, State::Rejected);
}

#[tokio::test]
async fn a_rejected_request_reaches_nobody() {
    let w = world("reject", Approval::Manual);
    let id = w.riv.submit("s1", "prot. 9", None, subjects(5, 4)).unwrap();
    assert_eq!(code(w.riv.reject("top", id, " ")), "rivestizione_motivo");
    w.riv.reject("top", id, "motivo non pertinente").unwrap();
    let fake = Fake::new();
    worker(&w, fake.clone()).run_once().await.unwrap();
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
    let r = w.riv.request("s1", id).unwrap();
    assert_eq!(r.state, State::Rejected);
    assert_eq!(r.reason.as_deref(), Some("motivo non pertinente"));
    assert_eq!(code(w.riv.approve("top", id)), "rivestizione_state");
    // Manual approval: nothing happens until a TOP approves.
    let id2 = w
        .riv
        .submit("s1", "prot. 10", None, subjects(6, 2))
        .unwrap();
    w.clock.advance(86_400 * 10);
    worker(&w, fake.clone()).run_once().await.unwrap();
    assert_eq!(
        w.riv.request("s1", id2).unwrap().state,
        State::AwaitingApproval
    );
    assert_eq!(
        code(w.riv.submit("s1", "", None, subjects(6, 2))),
        "rivestizione_motivo"
    );
    let empty = read_subjects("tipo;identificativo\nCF;X\n".as_bytes()).unwrap();
    assert_eq!(
        code(w.riv.submit("s1", "p", None, empty)),
        "rivestizione_empty"
    );
}

#[tokio::test]
async fn a_request_never_returns_more_than_its_profile_and_scope() {
    let w = world("limits", Approval::Manual);
    let res = [DatoRichiesto::Residenza].into();
    assert_eq!(
        code(w.riv.submit("s1", "p", Some(res), subjects(7, 2))),
        "rivestizione_profile"
    );
    let civ = [DatoRichiesto::StatoCivile].into();
    assert_eq!(
        code(w.riv.submit("t1", "p", Some(civ), subjects(7, 2))),
        "rivestizione_not_deliverable"
    );
    let n = 40;
    let s1 = w.riv.submit("s1", "p", None, subjects(8, n)).unwrap();
    let t1 = w.riv.submit("t1", "p", None, subjects(8, n)).unwrap();
    w.riv.approve("top", s1).unwrap();
    w.riv.approve("top", t1).unwrap();
    worker(&w, Fake::new()).run_once().await.unwrap();

    // s1: generalità only, residents of Torino only.
    let rows = csv_rows(&w.riv.download("s1", s1).unwrap());
    assert_eq!(
        rows[0],
        [
            "riga",
            "tipo_identificativo",
            "identificativo",
            "esito",
            "codice_esito",
            "motivo",
            "id_anpr",
            "codice_fiscale",
            "cognome",
            "nome",
            "sesso",
            "data_nascita",
            "comune_nascita"
        ]
    );
    assert_eq!(rows.len(), n + 1, "one row per subject");
    let mut by_fate = [0usize; 4];
    for r in &rows[1..] {
        let f = fate(&r[2]) as usize;
        by_fate[f] += 1;
        let expected = ["not_found", "found", "out_of_scope", "found"][f];
        assert_eq!(r[4], expected, "{r:?}");
        if expected != "found" {
            assert!(r[6..].iter().all(String::is_empty), "{r:?}");
        } else {
            assert_eq!(r[11], "04/05/2012");
        }
    }
    assert!(by_fate.iter().all(|n| *n > 0), "{by_fate:?}");

    // t1: everything deliverable, all of Italy: Milano's residents found.
    let rows = csv_rows(&w.riv.download("t1", t1).unwrap());
    assert_eq!(rows[0].len(), 7 + 6 + 5 + 1);
    assert!(
        rows[0].contains(&"residente_dal".to_owned()) && rows[0].contains(&"famiglia".to_owned())
    );
    for r in &rows[1..] {
        let f = fate(&r[2]);
        assert_eq!(r[4], if f == 0 { "not_found" } else { "found" });
    }
}

#[tokio::test]
async fn a_killed_worker_resumes_without_asking_again() {
    let w = world("crash", Approval::Manual);
    let n = 60;
    let id = w.riv.submit("t1", "p", None, subjects(9, n)).unwrap();
    w.riv.approve("top", id).unwrap();
    let fake = Fake::new();
    fake.hang_after.store(25, Ordering::SeqCst);
    let first = worker(&w, fake.clone());
    let run = first.run_once();
    assert!(tokio::time::timeout(Duration::from_millis(500), run)
        .await
        .is_err());
    let r = w.riv.request("t1", id).unwrap();
    assert_eq!(r.state, State::Processing);
    let before: Vec<_> = w.riv.store().subjects(id).unwrap();
    let answered: Vec<String> = before
        .iter()
        .filter(|s| s.outcome.is_some())
        .map(|s| s.id.unwrap().value().to_owned())
        .collect();
    assert!(
        answered.len() >= 20 && answered.len() <= 25,
        "{}",
        answered.len()
    );

    fake.hang_after.store(usize::MAX, Ordering::SeqCst);
    let rep = worker(&w, fake.clone()).run_once().await.unwrap();
    assert_eq!(rep.completed, vec![id]);
    let after = w.riv.store().subjects(id).unwrap();
    assert_eq!(after.len(), n);
    assert!(
        after.iter().all(|s| s.outcome.is_some()),
        "every subject one outcome"
    );
    let asked = fake.asked.lock().unwrap();
    for a in &answered {
        assert_eq!(asked[a], 1, "answered before the crash, asked again");
    }
    assert!(
        asked.values().all(|c| *c == 1),
        "each subject answered once"
    );
    let rows = csv_rows(&w.riv.download("t1", id).unwrap());
    assert_eq!(rows.len(), n + 1);
}

#[tokio::test]
async fn files_are_private_downloaded_by_their_owner_and_purged() {
    let w = world("purge", Approval::Manual);
    let id = w.riv.submit("s2", "p", None, subjects(10, 5)).unwrap();
    w.riv.approve("top", id).unwrap();
    worker(&w, Fake::new()).run_once().await.unwrap();
    let path = w.riv.download("s2", id).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let store_mode = std::fs::metadata(w.dir.join("riv.sqlite"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(store_mode & 0o777, 0o600);
    }
    assert_eq!(code(w.riv.download("s1", id)), "rivestizione_denied");
    w.clock.advance(30 * 86_400 - 1);
    assert_eq!(worker(&w, Fake::new()).run_once().await.unwrap().purged, 0);
    w.clock.advance(1);
    assert_eq!(worker(&w, Fake::new()).run_once().await.unwrap().purged, 1);
    assert!(!path.exists());
    assert_eq!(w.riv.request("s2", id).unwrap().state, State::Expired);
    assert!(w
        .riv
        .store()
        .subjects(id)
        .unwrap()
        .iter()
        .all(|s| s.id.is_none()));
    assert_eq!(code(w.riv.download("s2", id)), "rivestizione_not_ready");
    // The report still counts it.
    let rep = w.riv.report("top", Some("polizia"), None, None).unwrap();
    assert_eq!((rep[0].requests, rep[0].done, rep[0].subjects), (1, 1, 5));
}

#[tokio::test]
async fn the_trail_says_who_did_what_when() {
    let w = world("trail", Approval::silent_assent(Duration::from_secs(60)));
    let a = w.riv.submit("s2", "p", None, subjects(11, 3)).unwrap();
    let b = w.riv.submit("s2", "p", None, subjects(12, 3)).unwrap();
    w.riv.approve("top", a).unwrap();
    w.riv.reject("top", b, "no").unwrap();
    let c = w.riv.submit("s2", "p", None, subjects(13, 3)).unwrap();
    w.clock.advance(60);
    worker(&w, Fake::new()).run_once().await.unwrap();
    w.riv.download("s2", a).unwrap();
    let report = w.riv.report("top", None, None, None).unwrap();
    let mut csv = Vec::new();
    write_report_csv(&report, &mut csv).unwrap();
    assert!(String::from_utf8(csv)
        .unwrap()
        .starts_with("\u{feff}comune;ente;utente;richieste"));
    assert!(report.iter().all(|r| r.comune == TORINO));
    w.clock.advance(31 * 86_400);
    worker(&w, Fake::new()).run_once().await.unwrap();

    let rows = w.riv.audit().rows(None, None).unwrap();
    let ops: std::collections::BTreeSet<&str> = rows.iter().map(|r| r.operation.as_str()).collect();
    for op in [
        "setup",
        "add_ente",
        "register_user",
        "submit",
        "approve",
        "reject",
        "silent_assent",
        "start",
        "lookup",
        "complete",
        "download",
        "report",
        "purge",
    ] {
        assert!(ops.contains(op), "{op} missing: {ops:?}");
    }
    // Which request, by whom, with the role.
    assert!(rows.iter().any(|r| r.operation == "approve"
        && r.operator == "top"
        && r.purpose == "top"
        && r.correlation_id.as_deref() == Some(&a.to_string())));
    assert!(rows
        .iter()
        .any(|r| r.operation == "silent_assent"
            && r.correlation_id.as_deref() == Some(&c.to_string())));
    // Subjects only as keyed hashes.
    let lookups: Vec<_> = rows.iter().filter(|r| r.operation == "lookup").collect();
    assert_eq!(lookups.len(), 6);
    assert!(lookups
        .iter()
        .all(|r| r.subject.as_ref().is_some_and(|s| s.len() == 64)));
    assert_eq!(w.riv.audit().verify().unwrap(), rows.len() as u64);
}
