//! End-to-end tests of `anist caivano`, `anist demo` and `anist audit`
//! against the in-process sandbox (127.0.0.1 only; synthetic people only).
#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{anist, text};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anist-caivano-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The first `rows` data rows of the demo sample (Windows-1252, `;`).
fn sample(dir: &Path, rows: usize) -> PathBuf {
    let bytes = anist::cli::caivano::DEMO_SAMPLE;
    let mut end = 0;
    for _ in 0..=rows {
        match bytes[end..].iter().position(|&b| b == b'\n') {
            Some(i) => end += i + 1,
            None => {
                end = bytes.len();
                break;
            }
        }
    }
    let path = dir.join("anagrafe.csv");
    std::fs::write(&path, &bytes[..end]).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Output rows by their `riga` (input line), checking none is repeated.
fn rows_of(output: &Path) -> Vec<String> {
    let body = std::fs::read_to_string(output).unwrap();
    let body = body.trim_start_matches('\u{feff}');
    let mut lines = body.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("riga"), "{header}");
    let rows: Vec<String> = lines.map(str::to_string).collect();
    let mut seen = HashSet::new();
    for r in &rows {
        let riga = r.split([',', ';']).next().unwrap().to_string();
        assert!(seen.insert(riga.clone()), "row {riga} appears twice");
    }
    rows
}

fn summary(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| panic!("{e}: {}", text(stdout)))
}

#[test]
fn demo_checks_every_row_of_the_sample_once() {
    let dir = temp_dir("demo");
    let out = anist(
        &[
            "demo",
            "--dir",
            s(&dir),
            "--json",
            "--quiet",
            "--school-year",
            "2025/2026",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sum = summary(&out.stdout);
    assert_eq!(sum["rows_total"], 5000);
    assert_eq!(sum["rows_done"], 5000);
    let o = &sum["outcomes"];
    let total: u64 = [
        "compliant",
        "to_be_checked",
        "not_in_anist",
        "not_obliged",
        "invalid_code",
        "error",
    ]
    .iter()
    .map(|k| o[*k].as_u64().unwrap())
    .sum();
    assert_eq!(total, 5000);
    // The generator writes 3 invalid codes every 250 rows.
    assert_eq!(o["invalid_code"], 60);
    assert_eq!(o["error"], 0, "{sum}");
    for k in ["compliant", "to_be_checked", "not_in_anist", "not_obliged"] {
        assert!(o[k].as_u64().unwrap() > 0, "no {k}: {sum}");
    }
    // Mostly attending, as the sandbox population is.
    assert!(o["compliant"].as_u64().unwrap() > 5 * o["to_be_checked"].as_u64().unwrap());
    let rows = rows_of(&dir.join("esiti.csv"));
    assert_eq!(rows.len(), 5000);
    // The clerk reads Italian values; the stable code is beside them.
    let header = std::fs::read_to_string(dir.join("esiti.csv")).unwrap();
    let header = header
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(
        header.starts_with("riga;codice_fiscale;esito;codice_esito;motivo;obbligo;frequentante;esito_frequenza;descrizione_esito_frequenza;"),
        "{header}"
    );
    assert!(header.contains(";percorso_studi;"), "{header}");
    let fields: Vec<Vec<&str>> = rows.iter().map(|r| r.split(';').collect()).collect();
    for f in &fields {
        let label = anist_core::attendance::outcome_label(f[3]);
        assert_eq!(f[2], label, "{f:?}");
        assert!(["si", "no", ""].contains(&f[6]), "{f:?}");
    }
    assert!(fields.iter().any(|f| f[2] == "in regola"));
    assert!(fields.iter().any(|f| f[2] == "non soggetto all'obbligo"));
    // "Not attending" this year: last year's school is shown when ANIST
    // has it (not for a first class of primaria, nor a newcomer).
    let not_attending: Vec<&Vec<&str>> = fields
        .iter()
        .filter(|f| f[3] == "to_be_checked" && f[7] == "2")
        .collect();
    assert!(!not_attending.is_empty());
    let with_school = not_attending.iter().filter(|f| !f[9].is_empty()).count();
    assert!(
        with_school * 10 >= not_attending.len() * 7,
        "{with_school} of {} not attending rows show a school",
        not_attending.len()
    );
    for f in not_attending.iter().filter(|f| !f[9].is_empty()) {
        assert_eq!(f[8], "Non Frequentante", "{f:?}");
        assert_eq!(f[15], "2024/2025", "{f:?}");
        assert!(!f[13].is_empty(), "{f:?}");
    }
    // The massive services were used.
    assert!(
        sum["calls"]["massive_submit"].as_u64().unwrap() >= 1,
        "{sum}"
    );

    // Every call is in the audit trail, which verifies.
    let db = dir.join("anist-audit.sqlite");
    let v = anist(&["audit", "verify", "--db", s(&db)], b"");
    assert_eq!(v.status.code(), Some(0), "{}", text(&v.stderr));
    assert!(
        text(&v.stdout).starts_with("intact: "),
        "{}",
        text(&v.stdout)
    );
    let e = anist(&["audit", "export", "--db", s(&db)], b"");
    assert_eq!(e.status.code(), Some(0));
    let csv = text(&e.stdout);
    assert!(csv.lines().count() > 1);
    // Each call is recorded under its own e-service's purpose.
    let mut eservices = HashSet::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (purpose, eservice) = (f[3], f[4]);
        let expected = anist::client::sandbox::anist::ANIST_ESERVICES
            .iter()
            .find(|s| s.session_name == eservice)
            .unwrap_or_else(|| panic!("unknown e-service {eservice}"))
            .purpose;
        assert_eq!(purpose, expected, "{line}");
        eservices.insert(eservice.to_string());
    }
    assert!(eservices.len() >= 2, "{eservices:?}");
    // Subjects are keyed hashes: no codice fiscale of the sample is in the export.
    let input = std::fs::read(dir.join("anagrafe.csv")).unwrap();
    let first_cf = text(&input)
        .lines()
        .nth(1)
        .unwrap()
        .split(';')
        .nth(4)
        .unwrap()
        .to_string();
    assert_eq!(first_cf.len(), 16);
    assert!(!csv.contains(&first_cf));
}

#[test]
fn single_calls_give_the_same_output_as_massive_ones() {
    let dir = temp_dir("single");
    let input = sample(&dir, 400);
    let massive = dir.join("massive.csv");
    let single = dir.join("single.csv");
    let a = anist(
        &[
            "caivano",
            "--input",
            s(&input),
            "--out",
            s(&massive),
            "--school-year",
            "2025/2026",
            "--quiet",
        ],
        b"",
    );
    assert_eq!(a.status.code(), Some(0), "{}", text(&a.stderr));
    let b = anist(
        &[
            "caivano",
            "--input",
            s(&input),
            "--out",
            s(&single),
            "--school-year",
            "2025/2026",
            "--quiet",
            "--no-massive",
            "--json",
        ],
        b"",
    );
    assert_eq!(b.status.code(), Some(0), "{}", text(&b.stderr));
    assert_eq!(summary(&b.stdout)["calls"]["massive_submit"], 0);
    assert_eq!(
        std::fs::read(&massive).unwrap(),
        std::fs::read(&single).unwrap()
    );
    assert_eq!(rows_of(&single).len(), 400);
}

#[test]
fn an_existing_journal_needs_resume_and_resume_needs_a_journal() {
    let dir = temp_dir("journal");
    let input = sample(&dir, 50);
    let output = dir.join("esiti.csv");
    let args = [
        "caivano",
        "--input",
        s(&input),
        "--out",
        s(&output),
        "--school-year",
        "2025/2026",
        "--quiet",
    ];
    let r = anist(&[&args[..], &["--resume"]].concat(), b"");
    assert_eq!(r.status.code(), Some(1));
    assert!(
        text(&r.stderr).contains("caivano_no_journal"),
        "{}",
        text(&r.stderr)
    );
    let keep = [&args[..], &["--keep-journal"]].concat();
    assert_eq!(anist(&keep, b"").status.code(), Some(0));
    let first = std::fs::read(&output).unwrap();
    let r = anist(&args, b"");
    assert_eq!(r.status.code(), Some(1));
    assert!(text(&r.stderr).contains("--resume"), "{}", text(&r.stderr));
    assert!(
        text(&r.stderr).contains("caivano_journal_exists"),
        "{}",
        text(&r.stderr)
    );
    // Resuming a finished job rewrites the same output without asking again.
    std::fs::remove_file(&output).unwrap();
    let r = anist(&[&args[..], &["--resume", "--json"]].concat(), b"");
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    let sum = summary(&r.stdout);
    assert_eq!(sum["calls"]["verify"], 0, "{sum}");
    assert_eq!(sum["calls"]["massive_submit"], 0, "{sum}");
    assert_eq!(std::fs::read(&output).unwrap(), first);
    // That run had no --keep-journal: the finished job's journal is gone,
    // and the same command starts afresh.
    assert!(!dir.join("esiti.csv.journal").exists());
    assert_eq!(anist(&args, b"").status.code(), Some(0));
    assert!(!dir.join("esiti.csv.journal").exists());
}

/// Kills the job with SIGKILL at five points of its progress, resumes it
/// each time, and compares the final output with an uninterrupted run.
#[cfg(unix)]
#[test]
fn sigkill_at_five_points_then_resume_gives_the_uninterrupted_output() {
    let dir = temp_dir("kill");
    let input = sample(&dir, 1200);
    let reference = dir.join("reference.csv");
    let r = anist(
        &[
            "caivano",
            "--input",
            s(&input),
            "--out",
            s(&reference),
            "--school-year",
            "2025/2026",
            "--quiet",
            "--no-massive",
            "--audit",
            s(&dir.join("ref-audit.sqlite")),
        ],
        b"",
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));

    let output = dir.join("esiti.csv");
    let audit = dir.join("audit.sqlite");
    let run = |resume: bool, kill_at: Option<u64>| -> Option<(u64, u64)> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_anist"));
        cmd.args([
            "caivano",
            "--input",
            s(&input),
            "--out",
            s(&output),
            "--school-year",
            "2025/2026",
            "--no-massive",
            "--concurrency",
            "2",
            "--progress",
            "lines",
            "--audit",
            s(&audit),
        ]);
        if resume {
            cmd.arg("--resume");
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = None;
        for line in stderr.lines() {
            let line = line.unwrap();
            let Some(rest) = line.strip_prefix("progress: ") else {
                continue;
            };
            let done: u64 = rest.split('/').next().unwrap().parse().unwrap();
            let total: u64 = rest
                .split('/')
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            first.get_or_insert(done);
            if let Some(k) = kill_at {
                if done >= k && done < total {
                    child.kill().unwrap(); // SIGKILL
                    child.wait().unwrap();
                    return Some((done, total));
                }
            }
        }
        let status = child.wait().unwrap();
        assert!(kill_at.is_none() || status.success(), "{status:?}");
        None
    };
    // Where the job stands once the local decisions are made: learn it from a
    // first run killed at its first progress report.
    let (start, total) = run(false, Some(0)).expect("killed at the first report");
    let span = total - start;
    let mut kills = 1;
    for k in 1..=5u64 {
        if run(true, Some(start + span * k / 6)).is_some() {
            kills += 1;
        }
    }
    assert!(kills >= 5, "the job ended before five kills ({kills})");
    assert!(run(true, None).is_none());
    assert_eq!(
        std::fs::read(&output).unwrap(),
        std::fs::read(&reference).unwrap()
    );
    assert_eq!(rows_of(&output).len(), 1200);

    // Nothing journaled was asked again: repeated questions are at most
    // the calls in flight when each kill came (concurrency 2).
    let e = anist(&["audit", "export", "--db", s(&audit)], b"");
    let csv = text(&e.stdout);
    let mut seen = HashSet::new();
    let mut repeated = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (operation, subject) = (f[5], f[6]);
        if operation.starts_with("verify") && !seen.insert(subject.to_string()) {
            repeated += 1;
        }
    }
    assert!(!seen.is_empty());
    assert!(
        repeated <= 2 * kills,
        "{repeated} verifications repeated over {kills} kills"
    );
    let v = anist(&["audit", "verify", "--db", s(&audit)], b"");
    assert_eq!(v.status.code(), Some(0), "{}", text(&v.stdout));
}

#[test]
fn a_tampered_audit_trail_is_detected() {
    let dir = temp_dir("tamper");
    let input = sample(&dir, 30);
    let audit = dir.join("audit.sqlite");
    let r = anist(
        &[
            "caivano",
            "--input",
            s(&input),
            "--out",
            s(&dir.join("o.csv")),
            "--school-year",
            "2025/2026",
            "--quiet",
            "--audit",
            s(&audit),
        ],
        b"",
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    // Flip a byte of the database file inside the rows' pages is fragile;
    // instead, edit a row through SQLite itself.
    let conn = rusqlite::Connection::open(&audit).unwrap();
    let changed = conn
        .execute(
            "UPDATE audit SET outcome = outcome || 'x' WHERE id = (SELECT MIN(id) + 1 FROM audit)",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(conn);
    let v = anist(&["audit", "verify", "--db", s(&audit)], b"");
    assert_eq!(v.status.code(), Some(1), "{}", text(&v.stdout));
    assert!(
        text(&v.stdout).contains("TAMPERED [audit_tampered]"),
        "{}",
        text(&v.stdout)
    );
}
