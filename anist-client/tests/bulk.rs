//! The bulk attendance job against an in-memory fake of the ANIST
//! services: outcomes, de-duplication, interruption and resumption at many
//! points, quota pause, retries, the massive path, the input check.
//! Synthetic codes only.

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anist_client::anist::{
    AnistError, Answer, AttendanceService, JobId, JobStatus, Query, RowAnswer, Subject,
    YearSelector,
};
use anist_client::audit::AuditLog;
use anist_client::bulk::{BulkJob, JobOptions, JobOutcome, JobSpec, Progress, Summary};
use anist_client::call::{CallError, GatewayProblem};
use anist_client::transport::budget;
use anist_core::attendance::{EsitoFrequenza, Frequenza, Verifica};
use anist_core::cf::{luhn_check_digit, CodiceFiscale};
use anist_core::school::SchoolYear;
use anist_core::synthetic::SyntheticPeople;
use anist_core::ErrorCode;
use chrono::NaiveDate;

fn year() -> SchoolYear {
    SchoolYear::starting(2025).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Synthetic children in compulsory education in 2025/26 (born 2010-2018).
fn minors(seed: u64, n: usize) -> Vec<CodiceFiscale> {
    let mut people = SyntheticPeople::new(seed, date(2010, 1, 1), date(2018, 12, 31));
    (0..n)
        .map(|_| people.next_person().codice_fiscale)
        .collect()
}

fn adult(seed: u64) -> CodiceFiscale {
    SyntheticPeople::new(seed, date(1970, 1, 1), date(1990, 12, 31))
        .next_person()
        .codice_fiscale
}

// ---------------------------------------------------------------------------
// The fake service.

/// What the fake answers for a code: a pure function of the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Attending,
    NotAttending,
    NotFound,
    NoLonger,
}

fn kind_of(cf: &str) -> Kind {
    let sum: u32 = cf.bytes().map(u32::from).sum();
    match sum % 5 {
        0 | 1 => Kind::Attending,
        2 => Kind::NotAttending,
        3 => Kind::NotFound,
        _ => Kind::NoLonger,
    }
}

fn cf_of(q: &Query) -> String {
    match q.subject {
        Subject::CodiceFiscale(cf) => cf.as_str().to_owned(),
        Subject::IdAnpr(id) => id.as_str().to_owned(),
    }
}

fn year_of(q: &Query) -> String {
    match q.year {
        YearSelector::Explicit(y) => y.to_string(),
        other => panic!("the job asks explicit years, not {other:?}"),
    }
}

fn verify_answer(cf: &str) -> Answer<Verifica> {
    match kind_of(cf) {
        Kind::Attending => Answer::Found(Verifica {
            frequentante: true,
            esito_frequenza: Some(EsitoFrequenza::Frequentante),
        }),
        Kind::NotAttending => Answer::Found(Verifica {
            frequentante: false,
            esito_frequenza: Some(EsitoFrequenza::NonFrequentante),
        }),
        Kind::NoLonger => Answer::Found(Verifica {
            frequentante: false,
            esito_frequenza: Some(EsitoFrequenza::NonPiuFrequentante),
        }),
        Kind::NotFound => Answer::NotFound,
    }
}

fn record(esito: EsitoFrequenza, school: &str) -> Frequenza {
    Frequenza {
        frequentante: Some(esito.is_attending()),
        codice_istituto_principale: Some(String::from("RMIC81500N")),
        deno_istituto_principale: Some(format!("IC {school}; \"Roma\"")),
        codice_meccanografico: Some(String::from("RMEE81501P")),
        denominazione_plesso: Some(String::from("Plesso è bello")),
        anno_corso: Some(3),
        esito_frequenza: Some(esito),
        ..Frequenza::default()
    }
}

fn ascertain_answer(cf: &str, year: &str) -> Answer<Frequenza> {
    let current = year == "2025/2026";
    match (kind_of(cf), current) {
        (Kind::NotAttending, true) => {
            Answer::Found(record(EsitoFrequenza::NonFrequentante, "Corrente"))
        }
        (Kind::NotAttending, false) => {
            Answer::Found(record(EsitoFrequenza::Frequentante, "Precedente"))
        }
        (Kind::NoLonger, true) => Answer::NotFound,
        (Kind::NoLonger, false) => {
            Answer::Found(record(EsitoFrequenza::NonPiuFrequentante, "Vecchio"))
        }
        _ => Answer::NotFound,
    }
}

type Key = (&'static str, String, String);

#[derive(Debug)]
struct FakeJob {
    verify: bool,
    queries: Vec<Query>,
    polls_left: u32,
}

/// Deterministic outcomes, injectable failures, quota, a hang point and
/// counters; shared across the runs of one test.
#[derive(Default)]
struct FakeState {
    /// Calls started (every operation).
    calls: AtomicUsize,
    /// From this many calls on, every call hangs forever (the test drops
    /// the job: an interruption).
    hang_after: AtomicUsize,
    /// From this many calls on, every call answers "quota exhausted".
    quota_after: AtomicUsize,
    /// Questions asked, by (operation, code, year).
    asked: Mutex<HashMap<Key, u32>>,
    /// Questions answered (a result returned to the job).
    answered: Mutex<HashMap<Key, u32>>,
    /// Errors to give before answering, per code.
    failures: Mutex<HashMap<String, Vec<AnistError>>>,
    /// Massive jobs.
    jobs: Mutex<HashMap<String, FakeJob>>,
    submits: AtomicUsize,
    polls: AtomicUsize,
    fetches: AtomicUsize,
    delay: Mutex<Duration>,
    /// Retries each call makes below the job (as the token request or the
    /// throttling would), from the call's budget.
    lower_retries: AtomicUsize,
    /// Those the budget allowed.
    lower_spent: AtomicUsize,
}

#[derive(Clone)]
struct Fake {
    state: Arc<FakeState>,
    massive: bool,
    polls_until_done: u32,
}

impl Fake {
    fn new() -> Self {
        let state = FakeState::default();
        state.hang_after.store(usize::MAX, Ordering::SeqCst);
        state.quota_after.store(usize::MAX, Ordering::SeqCst);
        Self {
            state: Arc::new(state),
            massive: false,
            polls_until_done: 0,
        }
    }

    fn massive(mut self, polls_until_done: u32) -> Self {
        self.massive = true;
        self.polls_until_done = polls_until_done;
        self
    }

    fn hang_after(&self, n: usize) {
        self.state.hang_after.store(n, Ordering::SeqCst);
    }

    fn quota_after(&self, n: usize) {
        self.state.quota_after.store(n, Ordering::SeqCst);
    }

    fn fail(&self, cf: &CodiceFiscale, errors: Vec<AnistError>) {
        self.state
            .failures
            .lock()
            .unwrap()
            .insert(cf.as_str().to_owned(), errors);
    }

    fn calls(&self) -> usize {
        self.state.calls.load(Ordering::SeqCst)
    }

    fn answered(&self) -> HashMap<Key, u32> {
        self.state.answered.lock().unwrap().clone()
    }

    fn asked(&self) -> HashMap<Key, u32> {
        self.state.asked.lock().unwrap().clone()
    }

    /// Counts a call; hangs or refuses it as configured.
    async fn enter(&self) -> Result<(), AnistError> {
        let n = self.state.calls.fetch_add(1, Ordering::SeqCst);
        for _ in 0..self.state.lower_retries.load(Ordering::SeqCst) {
            if budget::spend() {
                self.state.lower_spent.fetch_add(1, Ordering::SeqCst);
            }
        }
        let delay = *self.state.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if n >= self.state.hang_after.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if n >= self.state.quota_after.load(Ordering::SeqCst) {
            return Err(quota());
        }
        Ok(())
    }

    fn injected(&self, cf: &str) -> Option<AnistError> {
        let mut f = self.state.failures.lock().unwrap();
        let list = f.get_mut(cf)?;
        if list.is_empty() {
            None
        } else {
            Some(list.remove(0))
        }
    }

    fn count(&self, map: &Mutex<HashMap<Key, u32>>, key: &Key) {
        *map.lock().unwrap().entry(key.clone()).or_default() += 1;
    }
}

fn problem(status: u16, title: &str) -> Box<GatewayProblem> {
    Box::new(GatewayProblem {
        status,
        title: Some(title.to_owned()),
        govway_id: Some(String::from("gw-test-1")),
        ..GatewayProblem::default()
    })
}

fn quota() -> AnistError {
    AnistError::Call(CallError::QuotaExceeded {
        reset: None,
        problem: problem(429, "LimitExceeded"),
    })
}

fn unavailable() -> AnistError {
    AnistError::Call(CallError::Server {
        problem: problem(503, "ServiceUnavailable"),
    })
}

fn refused() -> AnistError {
    AnistError::Call(CallError::Refused {
        problem: problem(403, "AuthorizationDeny"),
    })
}

impl AttendanceService for Fake {
    async fn verify(&self, query: &Query) -> Result<Answer<Verifica>, AnistError> {
        let key: Key = ("verify", cf_of(query), year_of(query));
        self.count(&self.state.asked, &key);
        self.enter().await?;
        if let Some(e) = self.injected(&key.1) {
            return Err(e);
        }
        self.count(&self.state.answered, &key);
        Ok(verify_answer(&key.1))
    }

    async fn ascertain(&self, query: &Query) -> Result<Answer<Frequenza>, AnistError> {
        let key: Key = ("ascertain", cf_of(query), year_of(query));
        self.count(&self.state.asked, &key);
        self.enter().await?;
        if let Some(e) = self.injected(&key.1) {
            return Err(e);
        }
        self.count(&self.state.answered, &key);
        Ok(ascertain_answer(&key.1, &key.2))
    }

    fn has_massive(&self) -> bool {
        self.massive
    }

    async fn submit_verify(&self, queries: &[Query]) -> Result<JobId, AnistError> {
        self.submit(true, queries).await
    }

    async fn submit_ascertain(&self, queries: &[Query]) -> Result<JobId, AnistError> {
        self.submit(false, queries).await
    }

    async fn poll(&self, job: &JobId) -> Result<JobStatus, AnistError> {
        self.enter().await?;
        self.state.polls.fetch_add(1, Ordering::SeqCst);
        let mut jobs = self.state.jobs.lock().unwrap();
        let j = jobs.get_mut(&job.0).expect("a job the fake issued");
        if j.polls_left == 0 {
            Ok(JobStatus::Done)
        } else {
            j.polls_left -= 1;
            Ok(JobStatus::Processing)
        }
    }

    async fn fetch_verify(&self, job: &JobId) -> Result<Vec<RowAnswer<Verifica>>, AnistError> {
        let queries = self.fetch(true, job).await?;
        Ok(queries
            .iter()
            .map(|q| {
                let key: Key = ("verify", cf_of(q), year_of(q));
                self.count(&self.state.answered, &key);
                Ok(verify_answer(&key.1))
            })
            .collect())
    }

    async fn fetch_ascertain(&self, job: &JobId) -> Result<Vec<RowAnswer<Frequenza>>, AnistError> {
        let queries = self.fetch(false, job).await?;
        Ok(queries
            .iter()
            .map(|q| {
                let key: Key = ("ascertain", cf_of(q), year_of(q));
                self.count(&self.state.answered, &key);
                Ok(ascertain_answer(&key.1, &key.2))
            })
            .collect())
    }
}

impl Fake {
    async fn submit(&self, verify: bool, queries: &[Query]) -> Result<JobId, AnistError> {
        let op = if verify { "verify" } else { "ascertain" };
        for q in queries {
            self.count(&self.state.asked, &(op, cf_of(q), year_of(q)));
        }
        self.enter().await?;
        let n = self.state.submits.fetch_add(1, Ordering::SeqCst);
        let id = format!("job-{n}");
        self.state.jobs.lock().unwrap().insert(
            id.clone(),
            FakeJob {
                verify,
                queries: queries.to_vec(),
                polls_left: self.polls_until_done,
            },
        );
        Ok(JobId(id))
    }

    async fn fetch(&self, verify: bool, job: &JobId) -> Result<Vec<Query>, AnistError> {
        self.enter().await?;
        self.state.fetches.fetch_add(1, Ordering::SeqCst);
        let jobs = self.state.jobs.lock().unwrap();
        let j = jobs.get(&job.0).expect("a job the fake issued");
        assert_eq!(j.verify, verify, "fetched with the wrong kind");
        assert_eq!(j.polls_left, 0, "fetched before done");
        Ok(j.queries.clone())
    }
}

// ---------------------------------------------------------------------------
// Helpers.

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "anist-bulk-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fast_options() -> JobOptions {
    JobOptions {
        concurrency: 4,
        batch_size: 7,
        poll_interval: Duration::from_millis(1),
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(5),
        operator: String::from("op-test"),
        purpose: String::from("purpose-test"),
        // These tests resume finished jobs: keep their journals.
        keep_journal: true,
        ..JobOptions::default()
    }
}

fn spec(dir: &Dir, input: &Path, journal: &str, output: &str) -> JobSpec {
    let mut s = JobSpec::new(input, dir.path(output), dir.path(journal), year());
    s.options = fast_options();
    s
}

async fn run_to_end(job: &BulkJob, svc: &Fake) -> Summary {
    match job.run(svc, None, |_: &Progress| {}).await.unwrap() {
        JobOutcome::Completed(s) => s,
        other => panic!("not completed: {other:?}"),
    }
}

/// A `;` file with a name column and the codes, UTF-8.
fn write_input(path: &Path, codes: &[String]) {
    let mut s = String::from("Cognome;Codice fiscale alunno\r\n");
    for (i, c) in codes.iter().enumerate() {
        s.push_str(&format!("Alunno{i};{c}\r\n"));
    }
    std::fs::write(path, s).unwrap();
}

fn read_output(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("Excel BOM");
    let mut reader = anist_core::csvio::CsvReader::new(text.as_bytes()).unwrap();
    assert_eq!(reader.headers().names()[0], "riga");
    reader.rows().map(|r| r.unwrap().to_vec()).collect()
}

/// A standard input: 30 minors with duplicates, plus adults and invalids.
fn standard_codes() -> Vec<String> {
    let kids = minors(7, 30);
    let mut codes: Vec<String> = kids.iter().map(|c| c.as_str().to_owned()).collect();
    codes.push(kids[0].as_str().to_owned());
    codes.push(kids[5].as_str().to_lowercase());
    codes.push(adult(3).as_str().to_owned());
    codes.push(String::from("RSSMRA80A01H501X"));
    codes
}

fn assert_no_repeated_answers(fake: &Fake) {
    for (key, n) in fake.answered() {
        assert_eq!(n, 1, "{}/{} answered {n} times", key.0, key.2);
    }
}

// ---------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn mixed_input_gives_one_row_per_input_row_with_the_right_outcomes() {
    let dir = Dir::new("mixed");
    let kids = minors(1, 12);
    let grown = adult(2);
    let iva = {
        let mut s = String::from("0000001001");
        s.push(char::from(luhn_check_digit(s.as_bytes())));
        s
    };
    let lines = [
        format!("Rossi;{}", kids[0].as_str()),
        String::new(), // blank line: not a row
        format!("Bianchi;{}", grown.as_str()),
        String::from("Verdi;RSSMRA80A01H501X"),
        format!("Neri;{}", kids[0].as_str()), // duplicate
        String::from("Gialli;00000010008"),   // 11-digit provisional code
        format!("Ditta;{iva}"),               // a partita IVA
        String::from("Vuoto;"),
        format!("Blu;  {}  ", kids[1].as_str().to_lowercase()), // same as kids[1] below
        format!("Viola;{}", kids[1].as_str()),
    ];
    let mut text = String::from("Cognome;CF\r\n");
    for l in &lines {
        text.push_str(l);
        text.push_str("\r\n");
    }
    for k in &kids[2..] {
        text.push_str(&format!("X;{}\r\n", k.as_str()));
    }
    let input = dir.path("in.csv");
    std::fs::write(&input, &text).unwrap();

    let fake = Fake::new();
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    let summary = run_to_end(&job, &fake).await;
    let out = read_output(&dir.path("out.csv"));

    // Every row once, in order; the blank line (line 3) is not a row.
    let rows_expected = lines.len() - 1 + kids.len() - 2;
    assert_eq!(out.len(), rows_expected);
    assert_eq!(summary.rows_total, rows_expected as u64);
    let lines_seen: Vec<u64> = out.iter().map(|r| r[0].parse().unwrap()).collect();
    let mut sorted = lines_seen.clone();
    sorted.sort_unstable();
    assert_eq!(lines_seen, sorted);
    assert_eq!(lines_seen[0], 2);
    assert_eq!(lines_seen[1], 4);
    assert!(out.iter().all(|r| r.len() == 16));

    let by_line = |l: u64| out.iter().find(|r| r[0] == l.to_string()).unwrap();
    // Italian values for the clerk, the stable code beside them.
    assert_eq!(by_line(4)[2], "non soggetto all'obbligo");
    assert_eq!(by_line(4)[3], "not_obliged");
    assert_eq!(by_line(4)[5], "oltre l'obbligo");
    assert_eq!(by_line(5)[2], "codice non valido");
    assert_eq!(by_line(5)[3], "invalid_code");
    assert_eq!(by_line(5)[4], "cf_check_char");
    assert_eq!(by_line(7)[2], "errore");
    assert_eq!(by_line(7)[3], "error");
    assert_eq!(by_line(7)[4], "bulk_numeric_code");
    assert_eq!(by_line(8)[3], "invalid_code");
    assert_eq!(by_line(8)[4], "bulk_not_a_person");
    assert_eq!(by_line(9)[3], "invalid_code");
    assert_eq!(by_line(9)[4], "cf_empty");
    // The code as written is kept.
    assert_eq!(
        by_line(10)[1],
        format!("  {}  ", kids[1].as_str().to_lowercase())
    );
    // Duplicates share the outcome.
    assert_eq!(by_line(2)[2..], by_line(6)[2..]);
    assert_eq!(by_line(10)[2..], by_line(11)[2..]);

    // Each asked row's outcome is the fake's.
    for row in &out {
        let Ok(cf) = CodiceFiscale::parse(&row[1]) else {
            continue;
        };
        if row[3] == "not_obliged" {
            continue;
        }
        assert_eq!(row[5], "obbligo di istruzione");
        let expected = match kind_of(cf.as_str()) {
            Kind::Attending => "compliant",
            Kind::NotAttending | Kind::NoLonger => "to_be_checked",
            Kind::NotFound => "not_in_anist",
        };
        assert_eq!(row[3], expected, "line {}", row[0]);
        assert_eq!(
            row[2],
            anist_core::attendance::outcome_label(expected),
            "line {}",
            row[0]
        );
        match kind_of(cf.as_str()) {
            Kind::NotAttending => {
                // The job's year's record, with the verification.
                assert_eq!(row[4], "non frequenta");
                assert_eq!(row[6], "no");
                assert_eq!(row[7], "2");
                assert_eq!(row[8], "Non Frequentante");
                assert_eq!(row[10], "IC Corrente; \"Roma\"");
                assert_eq!(row[12], "Plesso è bello");
                assert_eq!(row[14], "3");
                assert_eq!(row[15], "2025/2026");
            }
            Kind::NoLonger => {
                // No record this year: last year's is shown.
                assert_eq!(row[4], "non frequenta più");
                assert_eq!(row[10], "IC Vecchio; \"Roma\"");
                assert_eq!(row[15], "2024/2025");
            }
            Kind::Attending => {
                assert_eq!(row[6], "si");
                assert_eq!(row[10], "");
            }
            Kind::NotFound => assert_eq!(row[6], ""),
        }
    }

    // Summary counts match the file; each distinct code asked once.
    let mut from_file = anist_client::bulk::OutcomeCounts::default();
    for r in &out {
        from_file.add(&r[3], 1);
    }
    assert_eq!(summary.outcomes, from_file);
    assert_eq!(summary.outcomes.total(), rows_expected as u64);
    assert_eq!(summary.outcomes.not_obliged, 1);
    assert_eq!(summary.outcomes.invalid_code, 3);
    assert_eq!(summary.outcomes.error, 1);
    assert_eq!(summary.distinct_codes, kids.len() as u64);
    assert_eq!(summary.calls.verify, kids.len() as u64);
    let not_attending = kids
        .iter()
        .filter(|k| matches!(kind_of(k.as_str()), Kind::NotAttending | Kind::NoLonger))
        .count() as u64;
    assert_eq!(summary.calls.ascertain, 2 * not_attending);
    assert_no_repeated_answers(&fake);
    // Both years were ascertained for those not attending.
    let asked = fake.asked();
    for k in &kids {
        let prev = (
            "ascertain",
            k.as_str().to_owned(),
            String::from("2024/2025"),
        );
        let wanted = matches!(kind_of(k.as_str()), Kind::NotAttending | Kind::NoLonger);
        assert_eq!(asked.contains_key(&prev), wanted);
    }

    // Running again on the finished journal asks nothing and gives the
    // same bytes.
    let first = std::fs::read(dir.path("out.csv")).unwrap();
    let before = fake.calls();
    let again = run_to_end(&job, &fake).await;
    assert_eq!(fake.calls(), before);
    assert_eq!(again.calls.verify, 0);
    assert_eq!(std::fs::read(dir.path("out.csv")).unwrap(), first);
}

#[tokio::test]
async fn an_id_anpr_column_is_asked_by_id_anpr() {
    let dir = Dir::new("id-anpr");
    let ids = ["AF41450AS", "BC12345XY", "ZZ00001AA", "QW98765ER"];
    // Only an ID ANPR column: read as ID ANPR, never as codici fiscali.
    let mut text = String::from("id_anpr\r\n");
    for id in ids {
        text.push_str(&format!("{id}\r\n"));
    }
    text.push_str("AF4145\r\n");
    let input = dir.path("ids.csv");
    std::fs::write(&input, &text).unwrap();
    let fake = Fake::new();
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    let summary = run_to_end(&job, &fake).await;
    let header = std::fs::read_to_string(dir.path("out.csv")).unwrap();
    assert!(
        header.starts_with("\u{feff}riga;id_anpr;esito;"),
        "{header}"
    );
    let out = read_output(&dir.path("out.csv"));
    assert_eq!(out.len(), 5);
    assert_eq!(summary.outcomes.invalid_code, 1);
    assert_eq!(out[4][3], "invalid_code");
    assert_eq!(out[4][4], "anpr_length");
    for (row, id) in out.iter().zip(ids) {
        assert_eq!(row[1], id);
        let expected = match kind_of(id) {
            Kind::Attending => "compliant",
            Kind::NotAttending | Kind::NoLonger => "to_be_checked",
            Kind::NotFound => "not_in_anist",
        };
        assert_eq!(row[3], expected, "{id}");
        // No birth date in an ID ANPR: the obligation is not decided locally.
        assert_eq!(row[5], "");
    }
    let asked = fake.asked();
    for id in ids {
        let key = ("verify", id.to_owned(), String::from("2025/2026"));
        assert!(asked.contains_key(&key), "{id} not asked by ID ANPR");
    }

    // Both columns: the codice fiscale, and the ID ANPR where it is empty.
    let kid = minors(21, 1)[0];
    let text = format!("CF;ID ANPR\r\n{};AF41450AS\r\n;BC12345XY\r\n", kid.as_str());
    let input = dir.path("both.csv");
    std::fs::write(&input, &text).unwrap();
    let fake = Fake::new();
    let job = BulkJob::new(spec(&dir, &input, "j2.sqlite", "out2.csv"));
    run_to_end(&job, &fake).await;
    let out = read_output(&dir.path("out2.csv"));
    assert_eq!(out[0][1], kid.as_str());
    assert_eq!(out[1][1], "BC12345XY");
    let asked = fake.asked();
    let year = String::from("2025/2026");
    assert!(asked.contains_key(&("verify", kid.as_str().to_owned(), year.clone())));
    assert!(asked.contains_key(&("verify", String::from("BC12345XY"), year.clone())));
    assert!(!asked.contains_key(&("verify", String::from("AF41450AS"), year)));
}

#[tokio::test]
async fn a_list_of_codes_without_header_is_read() {
    let dir = Dir::new("list");
    let kids = minors(11, 3);
    let input = dir.path("list.txt");
    std::fs::write(
        &input,
        kids.iter()
            .map(|k| format!("{}\n", k.as_str()))
            .collect::<String>(),
    )
    .unwrap();
    let fake = Fake::new();
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    let summary = run_to_end(&job, &fake).await;
    assert_eq!(summary.rows_total, 3);
    let out = read_output(&dir.path("out.csv"));
    assert_eq!(out[0][0], "1");
    assert_eq!(out[0][1], kids[0].as_str());
}

/// The output of an uninterrupted run of `codes`.
async fn reference_output(dir: &Dir, input: &Path, massive: bool) -> Vec<u8> {
    let fake = if massive {
        Fake::new().massive(1)
    } else {
        Fake::new()
    };
    let job = BulkJob::new(spec(dir, input, "ref.sqlite", "ref.csv"));
    run_to_end(&job, &fake).await;
    assert_no_repeated_answers(&fake);
    std::fs::read(dir.path("ref.csv")).unwrap()
}

/// Runs until the fake hangs after `n` calls, drops the job (as a crash
/// would), then resumes with a working fake.
async fn interrupted_then_resumed(dir: &Dir, input: &Path, fake: &Fake, n: usize, tag: &str) {
    let journal = format!("{tag}.sqlite");
    let output = format!("{tag}.csv");
    let job = BulkJob::new(spec(dir, input, &journal, &output));
    fake.hang_after(fake.calls() + n);
    let r = tokio::time::timeout(
        Duration::from_millis(300),
        job.run(fake, None, |_: &Progress| {}),
    )
    .await;
    assert!(r.is_err(), "the job was expected to hang after {n} calls");
    assert!(!dir.path(&output).exists(), "no output before the end");
    fake.hang_after(usize::MAX);
    let job = BulkJob::new(spec(dir, input, &journal, &output));
    run_to_end(&job, fake).await;
}

#[tokio::test]
async fn interrupted_anywhere_and_resumed_gives_identical_output_without_asking_twice() {
    let dir = Dir::new("crash");
    let input = dir.path("in.csv");
    write_input(&input, &standard_codes());
    let reference = reference_output(&dir, &input, false).await;

    for (i, n) in [0usize, 1, 3, 8, 17, 26, 33].into_iter().enumerate() {
        let fake = Fake::new();
        let tag = format!("crash{i}");
        interrupted_then_resumed(&dir, &input, &fake, n, &tag).await;
        assert_eq!(
            std::fs::read(dir.path(&format!("{tag}.csv"))).unwrap(),
            reference,
            "interrupted after {n} calls"
        );
        // What was answered before the interruption was not asked again;
        // only the calls left hanging were.
        assert_no_repeated_answers(&fake);
        let repeated = fake.asked().values().filter(|&&v| v > 1).count();
        assert!(
            repeated <= 4,
            "{repeated} questions asked twice (concurrency 4)"
        );
    }
}

#[tokio::test]
async fn interrupted_twice_in_a_row_still_converges() {
    let dir = Dir::new("crash2");
    let input = dir.path("in.csv");
    write_input(&input, &standard_codes());
    let reference = reference_output(&dir, &input, false).await;
    let fake = Fake::new();
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    for n in [2usize, 5, 9] {
        fake.hang_after(fake.calls() + n);
        let r = tokio::time::timeout(
            Duration::from_millis(300),
            job.run(&fake, None, |_: &Progress| {}),
        )
        .await;
        assert!(r.is_err());
    }
    fake.hang_after(usize::MAX);
    run_to_end(&job, &fake).await;
    assert_eq!(std::fs::read(dir.path("out.csv")).unwrap(), reference);
    assert_no_repeated_answers(&fake);
}

#[tokio::test]
async fn quota_pauses_the_job_and_resume_completes_it() {
    let dir = Dir::new("quota");
    let input = dir.path("in.csv");
    write_input(&input, &standard_codes());
    let reference = reference_output(&dir, &input, false).await;

    let fake = Fake::new();
    fake.quota_after(10);
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    let outcome = job.run(&fake, None, |_: &Progress| {}).await.unwrap();
    let JobOutcome::Paused { code, summary, .. } = outcome else {
        panic!("expected a pause, got {outcome:?}");
    };
    assert_eq!(code, "gateway_quota_exceeded");
    assert!(summary.rows_done < summary.rows_total);
    assert!(!dir.path("out.csv").exists());
    // Nothing further is sent once the quota is hit: at most the calls
    // already in flight (concurrency 4).
    assert!(fake.calls() <= 10 + 4, "{} calls", fake.calls());

    // Still exhausted: pauses again at once, having answered nothing new.
    let answered = fake.answered().len();
    let again = job.run(&fake, None, |_: &Progress| {}).await.unwrap();
    assert!(matches!(again, JobOutcome::Paused { .. }));
    assert_eq!(fake.answered().len(), answered);

    // The quota resets.
    fake.quota_after(usize::MAX);
    run_to_end(&job, &fake).await;
    assert_eq!(std::fs::read(dir.path("out.csv")).unwrap(), reference);
    assert_no_repeated_answers(&fake);
}

#[tokio::test]
async fn the_layers_below_spend_the_row_s_retry_budget() {
    let dir = Dir::new("budget");
    let kid = minors(23, 40)
        .into_iter()
        .find(|k| kind_of(k.as_str()) == Kind::Attending)
        .unwrap();
    let input = dir.path("in.csv");
    write_input(&input, &[kid.as_str().to_owned()]);
    let fake = Fake::new();
    fake.fail(&kid, vec![unavailable(); 10]);
    // Each call retries twice below the job (a token request, say).
    fake.state.lower_retries.store(2, Ordering::SeqCst);
    let mut s = spec(&dir, &input, "j.sqlite", "out.csv");
    s.options.max_attempts = 4;
    let summary = match BulkJob::new(s)
        .run(&fake, None, |_: &Progress| {})
        .await
        .unwrap()
    {
        JobOutcome::Completed(s) => s,
        other => panic!("{other:?}"),
    };
    // Four attempts in all for the row, every layer together: the first
    // call's two retries below, one retry of the job, and the second call
    // finds the budget spent (without one budget: 4 calls × 2 more).
    assert_eq!(summary.calls.verify, 2);
    assert_eq!(summary.retries, 1);
    assert_eq!(fake.state.lower_spent.load(Ordering::SeqCst), 2);
    assert_eq!(summary.outcomes.error, 1);
}

/// `n` attending minors of `seed` and an input file (`in.csv`) of them.
fn attending_input(dir: &Dir, seed: u64, n: usize) -> (Vec<CodiceFiscale>, PathBuf) {
    let kids: Vec<CodiceFiscale> = minors(seed, 20 * n)
        .into_iter()
        .filter(|k| kind_of(k.as_str()) == Kind::Attending)
        .take(n)
        .collect();
    assert_eq!(kids.len(), n);
    let input = dir.path("in.csv");
    let codes: Vec<String> = kids.iter().map(|k| k.as_str().to_owned()).collect();
    write_input(&input, &codes);
    (kids, input)
}

#[tokio::test]
async fn retryable_errors_are_retried_and_final_ones_become_error_rows() {
    let dir = Dir::new("retry");
    let (kids, input) = attending_input(&dir, 21, 3);
    let fake = Fake::new();
    // Two 503s, then an answer.
    fake.fail(&kids[0], vec![unavailable(), unavailable()]);
    // Always 503: the attempts run out.
    fake.fail(&kids[1], vec![unavailable(); 10]);
    // A refusal is final at once.
    fake.fail(&kids[2], vec![refused()]);

    let audit_dir = Dir::new("retry-audit");
    let audit = AuditLog::open(&audit_dir.path("a.sqlite"), &audit_dir.path("a.key")).unwrap();
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    let summary = match job
        .run(&fake, Some(&audit), |_: &Progress| {})
        .await
        .unwrap()
    {
        JobOutcome::Completed(s) => s,
        other => panic!("{other:?}"),
    };
    let out = read_output(&dir.path("out.csv"));
    assert_eq!(out[0][3], "compliant");
    assert_eq!(out[1][3], "error");
    assert_eq!(out[1][4], "gateway_server_error");
    assert_eq!(out[2][3], "error");
    assert_eq!(out[2][4], "gateway_refused");
    // 2 retries for the first, 3 for the second (4 attempts), none for the refusal.
    assert_eq!(summary.retries, 5);
    assert_eq!(summary.calls.verify, 3 + 4 + 1);
    assert_eq!(summary.outcomes.error, 2);

    // Every attempt is in the audit trail, keyed, with the gateway id.
    let rows = audit.rows(None, None).unwrap();
    assert_eq!(rows.len(), 8);
    assert_eq!(audit.verify().unwrap(), 8);
    let h1 = audit.subject_hash(kids[1].as_str());
    let about_1: Vec<_> = rows
        .iter()
        .filter(|r| r.subject.as_deref() == Some(&h1))
        .collect();
    assert_eq!(about_1.len(), 4);
    assert!(about_1.iter().all(|r| r.outcome == "gateway_server_error"
        && r.govway_id.as_deref() == Some("gw-test-1")
        && r.operator == "op-test"
        && r.purpose == "purpose-test"
        && r.eservice == "anist-verifica"));
    assert!(rows.iter().all(|r| !r
        .subject
        .as_deref()
        .unwrap_or("")
        .contains(kids[0].as_str())));
    let h0 = audit.subject_hash(kids[0].as_str());
    let last_0 = rows
        .iter()
        .rfind(|r| r.subject.as_deref() == Some(&h0))
        .unwrap();
    assert_eq!(last_0.outcome, "found");
}

#[tokio::test]
async fn massive_path_gives_the_same_output_as_single_calls() {
    let dir = Dir::new("massive");
    let input = dir.path("in.csv");
    write_input(&input, &standard_codes());
    let single = reference_output(&dir, &input, false).await;

    let fake = Fake::new().massive(2);
    let job = BulkJob::new(spec(&dir, &input, "m.sqlite", "m.csv"));
    let summary = run_to_end(&job, &fake).await;
    assert_eq!(std::fs::read(dir.path("m.csv")).unwrap(), single);
    assert_eq!(summary.calls.verify, 0);
    assert_eq!(summary.calls.ascertain, 0);
    // 30 distinct obliged codes in batches of 7: 5 verification jobs, then
    // ascertainment jobs for both years.
    let submits = fake.state.submits.load(Ordering::SeqCst) as u64;
    assert_eq!(summary.calls.massive_submit, submits);
    assert!(submits >= 5 + 2);
    assert_eq!(summary.calls.massive_fetch, submits);
    assert_eq!(summary.calls.massive_poll, submits * 3);
    assert_no_repeated_answers(&fake);
}

#[tokio::test]
async fn massive_job_resumed_between_submit_and_fetch_is_polled_not_resubmitted() {
    let dir = Dir::new("massive-resume");
    let input = dir.path("in.csv");
    write_input(&input, &standard_codes());
    let reference = reference_output(&dir, &input, true).await;

    // Calls: submit, poll, poll(done), fetch, submit, poll… Hanging at
    // several points: after a submit (before its poll), between polls,
    // before a fetch.
    for (i, n) in [1usize, 2, 3, 5, 9].into_iter().enumerate() {
        let fake = Fake::new().massive(1);
        let tag = format!("m{i}");
        let journal = format!("{tag}.sqlite");
        let output = format!("{tag}.csv");
        fake.hang_after(n);
        let job = BulkJob::new(spec(&dir, &input, &journal, &output));
        let r = tokio::time::timeout(
            Duration::from_millis(300),
            job.run(&fake, None, |_: &Progress| {}),
        )
        .await;
        assert!(r.is_err());
        let submitted_before = fake.state.submits.load(Ordering::SeqCst);
        fake.hang_after(usize::MAX);
        run_to_end(&job, &fake).await;
        assert_eq!(
            std::fs::read(dir.path(&output)).unwrap(),
            reference,
            "hang after {n}"
        );
        assert_no_repeated_answers(&fake);
        // Every job submitted before the interruption was fetched, none
        // was submitted twice: each code was submitted once per step.
        let asked = fake.asked();
        assert!(
            asked.values().all(|&v| v == 1),
            "hang after {n}: a code was submitted twice"
        );
        assert!(submitted_before >= 1);
    }
}

#[tokio::test]
async fn massive_quota_pause_keeps_the_job_and_resumes_it() {
    let dir = Dir::new("massive-quota");
    let input = dir.path("in.csv");
    write_input(&input, &standard_codes());
    let reference = reference_output(&dir, &input, true).await;
    let fake = Fake::new().massive(1);
    fake.quota_after(2); // submit, poll, then quota on the next poll
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    let outcome = job.run(&fake, None, |_: &Progress| {}).await.unwrap();
    assert!(matches!(
        outcome,
        JobOutcome::Paused {
            code: "gateway_quota_exceeded",
            ..
        }
    ));
    assert_eq!(fake.state.submits.load(Ordering::SeqCst), 1);
    fake.quota_after(usize::MAX);
    run_to_end(&job, &fake).await;
    assert_eq!(std::fs::read(dir.path("out.csv")).unwrap(), reference);
    assert!(fake.asked().values().all(|&v| v == 1));
}

#[tokio::test]
async fn resuming_with_another_input_is_refused() {
    let dir = Dir::new("mismatch");
    let input = dir.path("in.csv");
    write_input(&input, &standard_codes());
    let fake = Fake::new();
    fake.quota_after(3);
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    assert!(matches!(
        job.run(&fake, None, |_: &Progress| {}).await.unwrap(),
        JobOutcome::Paused { .. }
    ));
    let mut codes = standard_codes();
    codes.pop();
    write_input(&input, &codes);
    let err = job.run(&fake, None, |_: &Progress| {}).await.unwrap_err();
    assert_eq!(err.code(), "bulk_journal_mismatch");
    assert!(err.to_string().contains("file di input"), "{err}");

    // Another school year on the same journal is refused too.
    write_input(&input, &standard_codes());
    let mut other = spec(&dir, &input, "j.sqlite", "out.csv");
    other.school_year = SchoolYear::starting(2024).unwrap();
    let err = BulkJob::new(other)
        .run(&fake, None, |_: &Progress| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bulk_journal_mismatch");
    assert!(err.to_string().contains("anno scolastico"), "{err}");
}

#[tokio::test]
async fn a_missing_column_is_a_clear_error() {
    let dir = Dir::new("column");
    let input = dir.path("in.csv");
    std::fs::write(&input, "Cognome;Nome\r\nRossi;Ada\r\n").unwrap();
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    let err = job
        .run(&Fake::new(), None, |_: &Progress| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bulk_column");
    // Named explicitly, it is found.
    let mut named = spec(&dir, &input, "j2.sqlite", "out.csv");
    named.cf_column = Some(String::from("nome"));
    let summary = run_to_end(&BulkJob::new(named), &Fake::new()).await;
    assert_eq!(summary.outcomes.invalid_code, 1);
}

#[tokio::test]
async fn progress_is_reported_with_the_final_counts() {
    let dir = Dir::new("progress");
    let input = dir.path("in.csv");
    write_input(&input, &standard_codes());
    let fake = Fake::new();
    *fake.state.delay.lock().unwrap() = Duration::from_millis(2);
    let seen: Mutex<Vec<Progress>> = Mutex::new(Vec::new());
    let job = BulkJob::new(spec(&dir, &input, "j.sqlite", "out.csv"));
    let outcome = job
        .run(&fake, None, |p: &Progress| {
            seen.lock().unwrap().push(p.clone())
        })
        .await
        .unwrap();
    let JobOutcome::Completed(summary) = outcome else {
        panic!()
    };
    let seen = seen.into_inner().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last.rows_done, last.rows_total);
    assert_eq!(last.rows_total, summary.rows_total);
    assert_eq!(last.outcomes, summary.outcomes);
    assert_eq!(last.eta, Some(Duration::ZERO));
    // Throttled: far fewer reports than rows.
    assert!(seen.len() < summary.rows_total as usize);
    assert!(seen.windows(2).all(|w| w[0].rows_done <= w[1].rows_done));
    // The summary serialises for --json.
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["rows_total"], summary.rows_total);
    assert!(json["outcomes"]["compliant"].is_u64());
}

/// A fake without counters, for volume: every code attends.
struct Light;

impl AttendanceService for Light {
    async fn verify(&self, _: &Query) -> Result<Answer<Verifica>, AnistError> {
        Ok(verify_answer("A"))
    }
    async fn ascertain(&self, _: &Query) -> Result<Answer<Frequenza>, AnistError> {
        Ok(Answer::NotFound)
    }
    fn has_massive(&self) -> bool {
        true
    }
    async fn submit_verify(&self, q: &[Query]) -> Result<JobId, AnistError> {
        Ok(JobId(q.len().to_string()))
    }
    async fn submit_ascertain(&self, q: &[Query]) -> Result<JobId, AnistError> {
        Ok(JobId(q.len().to_string()))
    }
    async fn poll(&self, _: &JobId) -> Result<JobStatus, AnistError> {
        Ok(JobStatus::Done)
    }
    async fn fetch_verify(&self, job: &JobId) -> Result<Vec<RowAnswer<Verifica>>, AnistError> {
        let n: usize = job.0.parse().unwrap();
        Ok((0..n)
            .map(|_| {
                Ok(Answer::Found(Verifica {
                    frequentante: true,
                    esito_frequenza: None,
                }))
            })
            .collect())
    }
    async fn fetch_ascertain(&self, job: &JobId) -> Result<Vec<RowAnswer<Frequenza>>, AnistError> {
        let n: usize = job.0.parse().unwrap();
        Ok((0..n).map(|_| Ok(Answer::NotFound)).collect())
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Memory stays bounded by the windows, not by the input: run with
/// `cargo test -p anist-client --test bulk -- --ignored` (1M rows: ~47 s and
/// 11 MiB peak RSS in a debug build)
/// (set ANIST_BULK_ROWS for another size; default 1,000,000).
#[tokio::test]
#[ignore = "volume: about a minute in a debug build"]
async fn a_large_input_runs_in_bounded_memory() {
    let rows: usize = std::env::var("ANIST_BULK_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = Dir::new("volume");
    let input = dir.path("in.csv");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        writeln!(w, "Codice fiscale").unwrap();
        let mut people = SyntheticPeople::new(99, date(2010, 1, 1), date(2018, 12, 31));
        for _ in 0..rows {
            writeln!(w, "{}", people.next_person().codice_fiscale.as_str()).unwrap();
        }
    }
    let before = peak_rss_kib();
    let mut s = spec(&dir, &input, "j.sqlite", "out.csv");
    s.options.batch_size = 1000;
    let started = std::time::Instant::now();
    let summary = match BulkJob::new(s)
        .run(&Light, None, |_: &Progress| {})
        .await
        .unwrap()
    {
        JobOutcome::Completed(s) => s,
        other => panic!("{other:?}"),
    };
    let peak = peak_rss_kib();
    println!(
        "{rows} rows in {:.1} s; peak RSS {} MiB (before the job {} MiB)",
        started.elapsed().as_secs_f64(),
        peak / 1024,
        before / 1024
    );
    assert_eq!(summary.rows_total, rows as u64);
    assert_eq!(
        summary.outcomes.compliant + summary.outcomes.not_obliged,
        rows as u64
    );
    assert!(peak < 200 * 1024, "peak RSS {} MiB", peak / 1024);
}

#[test]
fn the_job_future_is_send_so_it_can_be_spawned() {
    fn assert_send<T: Send>(_: &T) {}
    let dir = Dir::new("send");
    let job = BulkJob::new(spec(&dir, &dir.path("in.csv"), "j.sqlite", "out.csv"));
    let fake = Fake::new();
    let audit = AuditLog::open(&dir.path("a.sqlite"), &dir.path("a.key")).unwrap();
    let fut = job.run(&fake, Some(&audit), |_: &Progress| {});
    assert_send(&fut);
}

// ---------------------------------------------------------------------------
// Shared jobs (#19): several workers on one job in one database.

mod shared {
    use super::*;
    use anist_client::bulk::shared::{Budget, SharedJobs, WorkerOptions};

    /// The databases to run on: a SQLite file, and PostgreSQL when the
    /// test server is configured. Each opener gives a new connection.
    type Opener = Box<dyn Fn() -> SharedJobs>;

    #[allow(clippy::print_stderr)] // says when PostgreSQL is skipped
    fn backends(dir: &Dir, name: &str) -> Vec<(&'static str, Opener)> {
        let path = dir.path(&format!("{name}.sqlite"));
        let mut all: Vec<(&'static str, Opener)> = vec![(
            "sqlite",
            Box::new(move || SharedJobs::open_sqlite(&path).unwrap()),
        )];
        #[cfg(feature = "postgres")]
        {
            if let Some(url) = anist_client::pg::test_schema_url(&format!("anist_bulk_{name}")) {
                all.push((
                    "postgres",
                    Box::new(move || {
                        let db = anist_client::pg::Database::connect(&url, None).unwrap();
                        SharedJobs::open_postgres(Arc::new(db)).unwrap()
                    }),
                ));
            } else {
                eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)");
            }
        }
        all
    }

    fn worker(name: &str) -> WorkerOptions {
        WorkerOptions {
            worker: name.to_owned(),
            lease: Duration::from_millis(300),
            claim: 5,
            defer_rounds: 3,
            defer_delay: Duration::from_millis(20),
            // A finished job forgets its codes.
            job: JobOptions {
                keep_journal: false,
                ..fast_options()
            },
            budget: None,
            once: true,
            idle: Duration::from_millis(10),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_workers_one_killed_mid_batch_give_the_local_job_s_output() {
        let dir = Dir::new("shared");
        let input = dir.path("in.csv");
        let mut codes = standard_codes();
        codes.extend(minors(11, 90).iter().map(|c| c.as_str().to_owned()));
        write_input(&input, &codes);
        let reference = reference_output(&dir, &input, false).await;

        for (backend, open) in backends(&dir, "three") {
            let output = format!("shared-{backend}.csv");
            let id = open()
                .submit(&spec(&dir, &input, "unused.sqlite", &output))
                .unwrap();
            let status = open().status(id).unwrap().unwrap();
            assert_eq!(status.state, "running");
            assert_eq!(status.rows_total, codes.len() as u64);

            // Worker 1 answers a few questions, then hangs holding its
            // batch, and is killed (its future dropped).
            let doomed = Fake::new();
            doomed.hang_after(12);
            let w1 = open();
            let killed = tokio::time::timeout(
                Duration::from_millis(150),
                w1.work(&doomed, None, &worker("w1")),
            )
            .await;
            assert!(killed.is_err(), "{backend}: worker 1 was meant to hang");
            drop(w1);
            let before = open().status(id).unwrap().unwrap();
            assert!(before.rows_done < before.rows_total, "{backend}");

            // Workers 2 and 3 share the rest, w1's batch once its lease
            // expires.
            let fake = Fake::new();
            // Calls take a while, as real ones do: both workers get a share.
            *fake.state.delay.lock().unwrap() = Duration::from_millis(2);
            let (w2, w3) = (open(), open());
            let (o2, o3) = (worker("w2"), worker("w3"));
            let (r2, r3) = tokio::join!(w2.work(&fake, None, &o2), w3.work(&fake, None, &o3));
            let (r2, r3) = (r2.unwrap(), r3.unwrap());
            assert_eq!(
                r2.outputs_written.len() + r3.outputs_written.len(),
                1,
                "{backend}: output once"
            );
            assert!(
                r2.rows_decided > 0 && r3.rows_decided > 0,
                "{backend}: both worked: {r2:?} {r3:?}"
            );

            assert_eq!(
                std::fs::read(dir.path(&output)).unwrap(),
                reference,
                "{backend}: the shared output differs from the local job's"
            );
            // Nothing the dead worker had answered was asked again, and the
            // live ones asked nothing twice.
            assert_no_repeated_answers(&fake);
            for key in doomed.answered().keys() {
                assert!(!fake.answered().contains_key(key), "{backend}: asked again");
            }
            let done = open().status(id).unwrap().unwrap();
            assert_eq!(done.state, "done");
            assert_eq!(done.rows_done, done.rows_total);
            // The codes are forgotten once the output is written; the
            // counts stay.
            let e = open().write_output(id, &dir.path("again.csv")).unwrap_err();
            assert_eq!(e.code(), "bulk_journal");
        }
    }

    /// A question whose calls failed for a transient reason to the last
    /// attempt goes back to the pool and is asked again later: a flapping
    /// service does not make an error row (nor a row decided without its
    /// record). Past the rounds, the failure is the answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transient_failure_to_the_last_attempt_is_asked_again_later() {
        let dir = Dir::new("shared-defer");
        let (kids, input) = attending_input(&dir, 31, 2);
        let reference = reference_output(&dir, &input, false).await;
        assert!(!String::from_utf8_lossy(&reference).contains(";error;"));
        for (backend, open) in backends(&dir, "defer") {
            // Two rounds of four attempts fail; the third round answers.
            let output = format!("defer-{backend}.csv");
            open()
                .submit(&spec(&dir, &input, "u.sqlite", &output))
                .unwrap();
            let fake = Fake::new();
            fake.fail(&kids[0], vec![unavailable(); 9]);
            let report = open().work(&fake, None, &worker("wf")).await.unwrap();
            assert_eq!(report.deferred, 2, "{backend}: {report:?}");
            assert_eq!(
                std::fs::read(dir.path(&output)).unwrap(),
                reference,
                "{backend}: the flapping service left a trace"
            );

            // Failing through every round (1 + 3, of four attempts each):
            // an error row, with the code of the failure.
            let output = format!("spent-{backend}.csv");
            let id = open()
                .submit(&spec(&dir, &input, "u.sqlite", &output))
                .unwrap();
            let fake = Fake::new();
            fake.fail(&kids[1], vec![unavailable(); 100]);
            let report = open().work(&fake, None, &worker("wg")).await.unwrap();
            assert_eq!(report.deferred, 3, "{backend}: {report:?}");
            let status = open().status(id).unwrap().unwrap();
            assert_eq!(status.state, "done");
            assert_eq!(status.outcomes.error, 1, "{backend}");
            let text = std::fs::read_to_string(dir.path(&output)).unwrap();
            let line = text.lines().find(|l| l.contains(kids[1].as_str())).unwrap();
            assert!(line.contains(";error;"), "{backend}: {line}");
            assert_eq!(
                fake.calls(),
                16 + 1,
                "{backend}: four rounds of four attempts, and the other kid's one call"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_spent_shared_quota_pauses_every_worker_and_keeps_the_job() {
        let dir = Dir::new("shared-quota");
        let input = dir.path("in.csv");
        write_input(&input, &standard_codes());
        for (backend, open) in backends(&dir, "quota") {
            let id = open()
                .submit(&spec(&dir, &input, "u.sqlite", "q.csv"))
                .unwrap();
            let fake = Fake::new();
            let report = open().work(&fake, None, &budgeted("wq")).await.unwrap();
            assert_eq!(
                report.paused.as_deref(),
                Some("gateway_quota_exceeded"),
                "{backend}"
            );
            // To the last call of the quota, never above it.
            let sent = fake.calls();
            assert_eq!(sent, 10, "{backend}: the quota is every worker's");
            let other = open().work(&fake, None, &budgeted("wq2")).await.unwrap();
            assert_eq!(other.paused.as_deref(), Some("gateway_quota_exceeded"));
            assert_eq!(
                fake.calls(),
                sent,
                "{backend}: the second worker sent nothing"
            );
            let status = open().status(id).unwrap().unwrap();
            assert_eq!(status.state, "running");
            assert!(!dir.path("q.csv").exists());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_daily_quota_without_a_rate_is_spent_to_the_last_call() {
        let dir = Dir::new("shared-daily");
        let input = dir.path("in.csv");
        write_input(&input, &standard_codes());
        for (backend, open) in backends(&dir, "daily") {
            open()
                .submit(&spec(&dir, &input, "u.sqlite", "d.csv"))
                .unwrap();
            let fake = Fake::new();
            let mut w = worker("wd");
            w.budget = Some(Budget {
                per_second: 0.0,
                daily: 13,
            });
            let report = open().work(&fake, None, &w).await.unwrap();
            assert_eq!(report.paused.as_deref(), Some("gateway_quota_exceeded"));
            assert_eq!(fake.calls(), 13, "{backend}: no slot lost without a rate");
        }
    }

    /// A worker with a budget of 10 calls a day.
    fn budgeted(name: &str) -> WorkerOptions {
        let mut w = worker(name);
        w.budget = Some(Budget {
            per_second: 1000.0,
            daily: 10,
        });
        w
    }
}
