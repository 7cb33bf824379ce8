//! The resumable ISEE batch against an in-memory fake of the INPS
//! services: outcomes and output columns, de-duplication, local input
//! checks, retries, the quota pause and its resumption, the journal
//! mismatch check, the audit trail. Synthetic codes only.

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anist_client::audit::AuditLog;
use anist_client::bulk::isee::{
    esito_it, IseeBatch, IseeBatchSpec, IseeCounts, IseeSummary, COLUMNS,
};
use anist_client::bulk::{Counts, JobOutcome, Progress};
use anist_client::call::{CallError, GatewayProblem};
use anist_client::isee::{IseeAnswer, IseeError, IseeLookup, IseeQuery, Search};
use anist_core::cf::AnyCodiceFiscale;
use anist_core::cf::CodiceFiscale;
use anist_core::isee::{
    bonus_nido_applies, parse_attestazione, parse_indicatore, Attestazione, Esito, Indicatore,
    IseeService,
};
use anist_core::synthetic::SyntheticPeople;
use anist_core::ErrorCode;
use chrono::NaiveDate;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn people(seed: u64, n: usize) -> Vec<CodiceFiscale> {
    let mut p = SyntheticPeople::new(seed, date(2022, 1, 1), date(2025, 12, 31));
    (0..n).map(|_| p.next_person().codice_fiscale).collect()
}

/// What the fake answers for a code: a pure function of the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Found,
    NoIsee,
    Refused,
}

fn kind_of(cf: &str) -> Kind {
    let sum: u32 = cf.bytes().map(u32::from).sum();
    match sum % 10 {
        0 => Kind::NoIsee,
        1 => Kind::Refused,
        _ => Kind::Found,
    }
}

/// The ISEE (cents) the fake answers for a code.
fn isee_of(cf: &str) -> i64 {
    let sum: i64 = cf.bytes().map(i64::from).sum();
    (sum * 7919) % 6_000_000
}

fn euro(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[derive(Default)]
struct State {
    calls: AtomicUsize,
    quota_after: Mutex<Option<usize>>,
    offline: AtomicUsize,
    asked: Mutex<HashMap<String, usize>>,
    dates: Mutex<Vec<Option<NaiveDate>>>,
}

#[derive(Clone, Default)]
struct Fake {
    state: Arc<State>,
}

fn problem(status: u16, title: &str) -> Box<GatewayProblem> {
    Box::new(GatewayProblem {
        status,
        title: Some(title.to_owned()),
        govway_id: Some(String::from("gw-test-1")),
        ..GatewayProblem::default()
    })
}

impl Fake {
    fn answer<T>(
        &self,
        query: &IseeQuery,
        make: impl Fn(&str) -> T,
    ) -> Result<IseeAnswer<T>, IseeError> {
        let n = self.state.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(limit) = *self.state.quota_after.lock().unwrap() {
            if n >= limit {
                return Err(IseeError::Call(CallError::QuotaExceeded {
                    reset: None,
                    problem: problem(429, "LimitExceeded"),
                }));
            }
        }
        if self
            .state
            .offline
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
            .is_ok()
        {
            return Err(IseeError::Unavailable {
                esito: Esito::DatabaseOffline,
                description: None,
                attempts: 3,
            });
        }
        let cf = query.person().as_str().to_owned();
        *self
            .state
            .asked
            .lock()
            .unwrap()
            .entry(cf.clone())
            .or_default() += 1;
        if let Search::CodiceFiscale { data_validita, .. } = &query.search {
            self.state.dates.lock().unwrap().push(*data_validita);
        }
        let id = Some(format!("R{n}"));
        match kind_of(&cf) {
            Kind::Found => Ok(IseeAnswer::Found {
                record: make(&cf),
                id_richiesta: id,
            }),
            Kind::NoIsee => Ok(IseeAnswer::NoIsee {
                id_richiesta: id,
                description: None,
            }),
            Kind::Refused => Err(IseeError::Refused {
                esito: Esito::RichiestaInvalida,
                description: Some(String::from("richiesta non valida")),
                id_richiesta: id,
            }),
        }
    }
}

fn indicatore(cf: &str) -> Indicatore {
    let xml = format!(
        r#"<Indicatore xmlns="http://inps.it/ISEERiforma" TipoIndicatore="Minorenne" ISEE="{}" DataPresentazione="2026-01-12" ProtocolloDSU="INPS-ISEE-2026-00000042K-00"/>"#,
        euro(isee_of(cf))
    );
    parse_indicatore(xml.as_bytes()).unwrap()
}

fn attestazione(cf: &str) -> Attestazione {
    let xml = format!(
        r#"<EsitoAttestazione xmlns="http://inps.it/ISEERiforma"><Attestazione NumeroProtocolloDSU="INPS-ISEE-2026-00000042K-00" DataPresentazione="2026-02-01" CodiceFiscaleDichiarante="{cf}"><Ordinario><NucleoFamiliare><ComponenteNucleo RapportoConDichiarante="D" Cognome="X" Nome="Y" CodiceFiscale="{cf}"/></NucleoFamiliare><ISEEOrdinario><Valori ISEE="{}"/></ISEEOrdinario></Ordinario></Attestazione></EsitoAttestazione>"#,
        euro(isee_of(cf))
    );
    parse_attestazione(xml.as_bytes()).unwrap()
}

impl IseeLookup for Fake {
    async fn indicatore(
        &self,
        _service: IseeService,
        query: &IseeQuery,
    ) -> Result<IseeAnswer<Indicatore>, IseeError> {
        self.answer(query, indicatore)
    }

    async fn attestazione(
        &self,
        _service: IseeService,
        query: &IseeQuery,
    ) -> Result<IseeAnswer<Attestazione>, IseeError> {
        self.answer(query, attestazione)
    }
}

fn read_output(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("Excel BOM");
    let mut reader = anist_core::csvio::CsvReader::new(text.as_bytes()).unwrap();
    assert_eq!(reader.headers().names(), COLUMNS);
    reader.rows().map(|r| r.unwrap().to_vec()).collect()
}

fn spec(dir: &Path, service: IseeService) -> IseeBatchSpec {
    let mut s = IseeBatchSpec::new(
        dir.join("domande.csv"),
        dir.join("esiti.csv"),
        dir.join("domande.journal"),
        service,
        date(2026, 11, 23),
    );
    s.options.backoff_base = Duration::from_millis(1);
    s.options.backoff_cap = Duration::from_millis(5);
    s.options.concurrency = 4;
    // These tests resume finished batches: keep their journals.
    s.options.keep_journal = true;
    s
}

fn completed(o: JobOutcome<IseeSummary>) -> IseeSummary {
    match o {
        JobOutcome::Completed(s) => s,
        JobOutcome::Paused { reason, .. } => panic!("paused: {reason}"),
    }
}

/// 20 people, the first twice, an invalid code, a bad date and a bad
/// prestazione.
fn write_standard_input(path: &Path) -> Vec<CodiceFiscale> {
    let p = people(11, 20);
    let mut s = String::from("Cognome;Codice fiscale;Data validità;Prestazione\r\n");
    for (i, c) in p.iter().enumerate() {
        s.push_str(&format!("N{i};{};;\r\n", c.as_str()));
    }
    s.push_str(&format!("Dup;{};;\r\n", p[0].as_str()));
    s.push_str("Bad;RSSMRA80A01H501X;;\r\n");
    s.push_str(&format!("BadDate;{};31/02/2026;\r\n", p[1].as_str()));
    s.push_str(&format!("BadPrest;{};;Z1.00\r\n", p[2].as_str()));
    s.push_str(&format!("Date;{};01/03/2026;A1.07\r\n", p[3].as_str()));
    std::fs::write(path, s).unwrap();
    p
}

#[tokio::test]
async fn every_row_gets_its_outcome_and_the_isee_columns() {
    let dir = tempdir("outcomes");
    let p = write_standard_input(&dir.join("domande.csv"));
    let fake = Fake::default();
    let progress: Mutex<Vec<Progress<IseeCounts>>> = Mutex::new(Vec::new());
    let s = completed(
        IseeBatch::new(spec(&dir, IseeService::IndicatoreResidenti))
            .run(&fake, None, |pr| progress.lock().unwrap().push(pr.clone()))
            .await
            .unwrap(),
    );
    assert_eq!(s.rows_total, 25);
    assert_eq!(s.rows_done, 25);
    // 20 people + the row with its own date and prestazione.
    assert_eq!(s.distinct_questions, 21);
    assert_eq!(s.outcomes.invalid_input, 3);
    assert_eq!(s.outcomes.total(), 25);
    let last = progress.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.rows_done, 25);
    assert_eq!(last.outcomes, s.outcomes);

    let rows = read_output(&dir.join("esiti.csv"));
    assert_eq!(rows.len(), 25);
    for (i, c) in p.iter().enumerate() {
        let r = &rows[i];
        assert_eq!(r[0], (i + 2).to_string(), "riga");
        assert_eq!(r[1], c.as_str());
        assert_eq!(r[14], "indicatore_residenti");
        // Italian words for the clerk, the stable code beside them.
        assert_eq!(r[2], esito_it(&r[15]));
        match kind_of(c.as_str()) {
            Kind::Found => {
                assert_eq!(r[15], "found");
                assert_eq!(r[4], euro(isee_of(c.as_str())).replace('.', ","));
                assert_eq!(r[5], "minorenni");
                assert_eq!(r[6], "INPS-ISEE-2026-00000042K-00");
                assert_eq!(r[7], "12/01/2026");
                assert_eq!(r[8], "31/12/2026");
                assert_eq!(r[9], "si");
                let band = if isee_of(c.as_str()) <= 2_500_000 {
                    "3000,00"
                } else if isee_of(c.as_str()) <= 4_000_000 {
                    "2500,00"
                } else {
                    "1500,00"
                };
                let on = if i == 3 {
                    date(2026, 3, 1)
                } else {
                    date(2026, 11, 23)
                };
                let under_three = bonus_nido_applies(&AnyCodiceFiscale::Persona(*c), on);
                // Only children under three on the row's date get a band.
                assert_eq!(
                    r[12],
                    if under_three { band } else { "" },
                    "bonus nido band"
                );
                assert!(r[13].starts_with('R'), "id_richiesta");
            }
            Kind::NoIsee => {
                assert_eq!(r[15], "no_isee");
                assert_eq!(r[4], "");
            }
            Kind::Refused => {
                assert_eq!(r[15], "refused");
                assert_eq!(r[3], "isee_richiesta_invalida");
            }
        }
    }
    // The duplicate has its own row and the same answer; asked once.
    assert_eq!(rows[20][1], p[0].as_str());
    assert_eq!(rows[20][2..14], rows[0][2..14]);
    assert_eq!(fake.state.asked.lock().unwrap()[p[0].as_str()], 1);
    assert_eq!(rows[21][15], "invalid_input");
    assert!(rows[21][3].starts_with("cf_"), "{}", rows[21][3]);
    assert_eq!(rows[22][15], "invalid_input");
    assert!(rows[22][3].starts_with("csv_date_"), "{}", rows[22][3]);
    assert_eq!(rows[23][15], "invalid_input");
    assert!(
        rows[23][3].starts_with("isee_prestazione"),
        "{}",
        rows[23][3]
    );
    // The row's own date reached the service; the others got the default.
    let dates = fake.state.dates.lock().unwrap();
    assert!(dates.contains(&Some(date(2026, 3, 1))));
    assert_eq!(
        dates
            .iter()
            .filter(|d| **d == Some(date(2026, 11, 23)))
            .count(),
        20
    );
}

#[tokio::test]
async fn attestazioni_give_household_and_omissions_and_riscontro_needs_the_dsu() {
    let dir = tempdir("attestazione");
    let p = people(12, 6);
    let mut s = String::from("CF;protocollo_dsu\r\n");
    for c in &p {
        s.push_str(&format!("{};INPS-ISEE-2026-00000042K-00\r\n", c.as_str()));
    }
    std::fs::write(dir.join("domande.csv"), &s).unwrap();
    let fake = Fake::default();
    completed(
        IseeBatch::new(spec(&dir, IseeService::AttestazioneResidenti))
            .run(&fake, None, |_| {})
            .await
            .unwrap(),
    );
    for (r, c) in read_output(&dir.join("esiti.csv")).iter().zip(&p) {
        if kind_of(c.as_str()) == Kind::Found {
            assert_eq!(r[5], "ordinario");
            assert_eq!(r[10], "1", "componenti_nucleo");
            assert_eq!(r[11], "no", "omissioni_difformita");
            // No ISEE minorenni in the answer: the lowest band, for a
            // child under three on the batch's date only.
            let under_three =
                bonus_nido_applies(&AnyCodiceFiscale::Persona(*c), date(2026, 11, 23));
            assert_eq!(r[12], if under_three { "1500,00" } else { "" });
        }
    }

    // Riscontro: rows without a DSU protocol are not sent.
    let dir = tempdir("riscontro");
    s.push_str(&format!("{};\r\n", p[0].as_str()));
    std::fs::write(dir.join("domande.csv"), &s).unwrap();
    let fake = Fake::default();
    let sum = completed(
        IseeBatch::new(spec(&dir, IseeService::IndicatoreRiscontro))
            .run(&fake, None, |_| {})
            .await
            .unwrap(),
    );
    assert_eq!(sum.outcomes.invalid_input, 1);
    let rows = read_output(&dir.join("esiti.csv"));
    assert_eq!(rows[6][3], "isee_dsu_protocol_required");
    assert_eq!(fake.state.calls.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn inps_outages_are_retried_and_a_quota_pauses_until_a_later_run() {
    let dir = tempdir("quota");
    let p = write_standard_input(&dir.join("domande.csv"));
    let fake = Fake::default();
    fake.state.offline.store(2, Ordering::SeqCst);
    *fake.state.quota_after.lock().unwrap() = Some(10);
    let batch = IseeBatch::new(spec(&dir, IseeService::IndicatoreResidenti));
    let first = batch.run(&fake, None, |_| {}).await.unwrap();
    let JobOutcome::Paused { code, summary, .. } = first else {
        panic!("expected a pause");
    };
    assert_eq!(code, "gateway_quota_exceeded");
    assert!(summary.retries >= 2, "{summary:?}");
    assert!(summary.rows_done < 25);
    assert!(!dir.join("esiti.csv").exists());

    // The next day: the rest is asked, nothing twice.
    *fake.state.quota_after.lock().unwrap() = None;
    let s = completed(batch.run(&fake, None, |_| {}).await.unwrap());
    assert_eq!(s.rows_done, 25);
    for (i, c) in p.iter().enumerate() {
        // The fourth person has a second row with its own date: two questions.
        let questions = if i == 3 { 2 } else { 1 };
        assert_eq!(
            fake.state.asked.lock().unwrap()[c.as_str()],
            questions,
            "each question asked once"
        );
    }
    // Running a finished batch again asks nothing and gives the same bytes.
    let before = std::fs::read(dir.join("esiti.csv")).unwrap();
    let calls = fake.state.calls.load(Ordering::SeqCst);
    completed(batch.run(&fake, None, |_| {}).await.unwrap());
    assert_eq!(fake.state.calls.load(Ordering::SeqCst), calls);
    assert_eq!(std::fs::read(dir.join("esiti.csv")).unwrap(), before);
}

#[tokio::test]
async fn a_journal_of_another_batch_is_refused() {
    let dir = tempdir("mismatch");
    write_standard_input(&dir.join("domande.csv"));
    let fake = Fake::default();
    completed(
        IseeBatch::new(spec(&dir, IseeService::IndicatoreResidenti))
            .run(&fake, None, |_| {})
            .await
            .unwrap(),
    );
    let err = IseeBatch::new(spec(&dir, IseeService::Indicatore))
        .run(&fake, None, |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bulk_journal_mismatch");
    assert!(err.to_string().contains("servizio ISEE"), "{err}");
    // An attendance job's journal is not an ISEE journal.
    let mut other = spec(&dir, IseeService::IndicatoreResidenti);
    other.valid_on = date(2026, 1, 1);
    let err = IseeBatch::new(other)
        .run(&fake, None, |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("data di validità"), "{err}");
}

#[tokio::test]
async fn every_call_is_in_the_audit_trail_without_the_code() {
    let dir = tempdir("audit");
    let p = write_standard_input(&dir.join("domande.csv"));
    let audit = AuditLog::open(&dir.join("audit.db"), &dir.join("audit.key")).unwrap();
    let fake = Fake::default();
    let mut s = spec(&dir, IseeService::IndicatoreResidenti);
    s.options.operator = String::from("operatore-1");
    s.options.purpose = String::from("purpose-isee");
    completed(
        IseeBatch::new(s)
            .run(&fake, Some(&audit), |_| {})
            .await
            .unwrap(),
    );
    let rows = audit.rows(None, None).unwrap();
    assert_eq!(rows.len(), 21);
    assert_eq!(audit.verify().unwrap(), 21);
    for r in &rows {
        assert_eq!(r.eservice, "isee-indicatore-residenti");
        assert_eq!(r.operation, "indicatore");
        assert_eq!(r.purpose, "purpose-isee");
        assert!(["found", "no_isee", "isee_richiesta_invalida"].contains(&r.outcome.as_str()));
    }
    let text = std::fs::read(dir.join("audit.db")).unwrap();
    let needle = p[0].as_str().as_bytes();
    assert!(!text.windows(needle.len()).any(|w| w == needle));
}

#[tokio::test]
async fn transient_failures_are_asked_again_and_a_clean_end_removes_the_journal() {
    let dir = tempdir("transient");
    write_standard_input(&dir.join("domande.csv"));
    let journal = dir.join("domande.journal");
    let fake = Fake::default();
    // INPS's database is offline for every attempt of the first run.
    fake.state.offline.store(usize::MAX / 2, Ordering::SeqCst);
    let mut sp = spec(&dir, IseeService::IndicatoreResidenti);
    sp.options.keep_journal = false;
    sp.options.max_attempts = 2;
    let batch = IseeBatch::new(sp);
    let first = completed(batch.run(&fake, None, |_| {}).await.unwrap());
    assert_eq!(first.outcomes.error, 22, "{first:?}");
    assert_eq!(first.retry_rows, 22, "{first:?}");
    // Rows to ask again: the journal is kept for the resumption.
    assert!(journal.exists());
    let rows = read_output(&dir.join("esiti.csv"));
    assert_eq!(rows[0][15], "error");
    assert_eq!(rows[0][3], "isee_database_offline");

    // INPS is back: the failed questions are asked again (not the rows
    // decided locally), and the clean end removes the journal.
    fake.state.offline.store(0, Ordering::SeqCst);
    let calls = fake.state.calls.load(Ordering::SeqCst);
    let again = completed(batch.run(&fake, None, |_| {}).await.unwrap());
    assert_eq!(again.outcomes.error, 0, "{again:?}");
    assert_eq!(again.retry_rows, 0);
    assert_eq!(again.calls, 21);
    assert_eq!(fake.state.calls.load(Ordering::SeqCst), calls + 21);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = journal.clone().into_os_string();
        p.push(suffix);
        assert!(!Path::new(&p).exists(), "{suffix}");
    }
}

#[tokio::test]
async fn a_batch_that_cannot_start_leaves_no_journal() {
    let dir = tempdir("nostart");
    // No codice fiscale column.
    std::fs::write(dir.join("domande.csv"), "nome;cognome\r\nMario;Rossi\r\n").unwrap();
    let fake = Fake::default();
    let batch = IseeBatch::new(spec(&dir, IseeService::IndicatoreResidenti));
    let err = batch.run(&fake, None, |_| {}).await.unwrap_err();
    assert_eq!(err.code(), "bulk_column");
    assert!(!err.to_string().contains("ID ANPR"), "{err}");
    assert!(!dir.join("domande.journal").exists());
    assert!(!dir.join("domande.journal-wal").exists());
    // Only an ID ANPR column: INPS is asked by codice fiscale only, said so.
    std::fs::write(
        dir.join("domande.csv"),
        "id_anpr
AB12345CD
",
    )
    .unwrap();
    let err = IseeBatch::new(spec(&dir, IseeService::IndicatoreResidenti))
        .run(&fake, None, |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bulk_column");
    assert!(err.to_string().contains("solo per codice fiscale"), "{err}");
    assert!(!dir.join("domande.journal").exists());
    // The output in a directory that does not exist: said so, nothing made.
    write_standard_input(&dir.join("domande.csv"));
    let mut sp = spec(&dir, IseeService::IndicatoreResidenti);
    sp.output = dir.join("manca").join("esiti.csv");
    let err = IseeBatch::new(sp)
        .run(&fake, None, |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bulk_output_dir");
    assert!(err.to_string().contains("manca"), "{err}");
    assert!(!dir.join("domande.journal").exists());
    assert_eq!(fake.state.calls.load(Ordering::SeqCst), 0);
}

#[cfg(unix)]
#[tokio::test]
async fn output_journal_and_audit_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir("private");
    write_standard_input(&dir.join("domande.csv"));
    let audit = AuditLog::open(&dir.join("audit.db"), &dir.join("audit.key")).unwrap();
    let fake = Fake::default();
    completed(
        IseeBatch::new(spec(&dir, IseeService::IndicatoreResidenti))
            .run(&fake, Some(&audit), |_| {})
            .await
            .unwrap(),
    );
    let mut checked = 0;
    for name in [
        "esiti.csv",
        "domande.journal",
        "domande.journal-wal",
        "domande.journal-shm",
        "audit.db",
        "audit.db-wal",
        "audit.db-shm",
        "audit.key",
    ] {
        if let Ok(m) = std::fs::metadata(dir.join(name)) {
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{name}");
            checked += 1;
        }
    }
    assert!(checked >= 5, "{checked}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "anist-isee-batch-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Answers every question with the same indicatore (`xml`).
struct Fixed(String);

impl IseeLookup for Fixed {
    async fn indicatore(
        &self,
        _service: IseeService,
        _query: &IseeQuery,
    ) -> Result<IseeAnswer<Indicatore>, IseeError> {
        Ok(IseeAnswer::Found {
            record: parse_indicatore(self.0.as_bytes()).unwrap(),
            id_richiesta: None,
        })
    }

    async fn attestazione(
        &self,
        _service: IseeService,
        _query: &IseeQuery,
    ) -> Result<IseeAnswer<Attestazione>, IseeError> {
        Err(IseeError::OperatorRequired)
    }
}

/// An ISEE corrente presented in January is valid six months: on
/// 02/12/2026 the batch says `valida_fino_al` July and `valida_alla_data`
/// `no`; a 17-year-old gets no bonus nido band, a one-year-old does.
#[tokio::test]
async fn corrente_six_months_and_bonus_nido_under_three() {
    let dir = tempdir("corrente");
    // Born 1 January 2009 (17) and 1 January 2025 (1).
    std::fs::write(
        dir.join("domande.csv"),
        "Codice fiscale\r\nRSSMRA09A01H501L\r\nRSSMRA25A01H501L\r\n",
    )
    .unwrap();
    let mut sp = spec(&dir, IseeService::IndicatoreResidenti);
    sp.valid_on = date(2026, 12, 2);
    let fake = Fixed(String::from(
        r#"<Indicatore xmlns="http://inps.it/ISEERiforma" TipoIndicatore="Corrente" ISEE="9000.00" DataPresentazione="2026-01-15" ProtocolloDSU="INPS-ISEE-2026-00000042K-01"/>"#,
    ));
    completed(IseeBatch::new(sp).run(&fake, None, |_| {}).await.unwrap());
    let rows = read_output(&dir.join("esiti.csv"));
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r[2], "ISEE trovata");
        assert_eq!(r[15], "found");
        assert_eq!(r[5], "corrente");
        assert_eq!(r[7], "15/01/2026");
        assert_eq!(r[8], "15/07/2026", "six months, not 31/12/2026");
        assert_eq!(r[9], "no", "expired on 02/12/2026");
    }
    assert_eq!(rows[0][12], "", "a 17-year-old gets no bonus nido band");
    assert_eq!(rows[1][12], "1500,00");
}
