//! `anist anpr massiva` end to end against the in-process sandbox
//! (`--seed`): one output row per input row (Italian Excel CSV), the
//! omitted subjects asked singly, the audit trail written, a job paused
//! (`--max-polls 1`: not processed yet, exit 3) resumed by the same
//! command without submitting again, usage errors (exit 2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use anist::core::synthetic::SyntheticPeople;
use chrono::NaiveDate;
use common::{anist, text};

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "anist-cli-anpr-massiva-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn input(dir: &std::path::Path, n: usize) -> PathBuf {
    let mut people = SyntheticPeople::new(
        11,
        NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2015, 12, 31).unwrap(),
    );
    let mut s = String::from("Cognome;Codice fiscale\n");
    for _ in 0..n {
        let p = people.next_person();
        s.push_str(&format!("X;{}\n", p.codice_fiscale.as_str()));
    }
    s.push_str("Y;SBAGLIATO\n");
    let path = dir.join("in.csv");
    std::fs::write(&path, s).unwrap();
    path
}

fn args<'a>(dir: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "anpr",
        "massiva",
        "--input",
        &format!("{dir}/in.csv"),
        "--out",
        &format!("{dir}/out.csv"),
        "--motivo",
        "prot. 5/2026",
        "--data",
        "30/11/2026",
        "--poll-seconds",
        "0",
        "--audit",
        &format!("{dir}/audit.sqlite"),
        "--ids",
        &format!("{dir}/ids.sqlite"),
        "--seed",
        "42",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run(a: &[String]) -> std::process::Output {
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    anist(&refs, b"")
}

#[test]
fn every_input_row_gets_one_output_row() {
    let dir = tempdir("rows");
    input(&dir, 120);
    let d = dir.to_str().unwrap();
    let out = run(&args(d, &["--json"]));
    let err = text(&out.stderr);
    // 0, or 4 when an ambiguous subject (EN131) stays an error row.
    assert!(matches!(out.status.code(), Some(0 | 4)), "{err}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["rows_total"], 121);
    assert_eq!(summary["rows_done"], 121);
    assert_eq!(summary["submits"], 1);
    assert!(summary["singles"].as_u64().unwrap() > 0, "{summary}");
    let csv = std::fs::read_to_string(dir.join("out.csv")).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 122);
    assert!(lines[0].contains("riga;identificativo;tipo_identificativo;esito;motivo;fonte;id_anpr"));
    assert!(lines.iter().any(|l| l.contains(";trovato;;massiva;")));
    assert!(lines
        .iter()
        .any(|l| l.contains(";SBAGLIATO;;identificativo non valido;cf_")));
    assert!(dir.join("audit.sqlite").exists());
    assert!(!dir.join("out.csv.journal").exists(), "removed when done");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_paused_job_resumes_with_the_same_command_without_submitting_again() {
    let dir = tempdir("resume");
    input(&dir, 30);
    let d = dir.to_str().unwrap();
    let out = run(&args(d, &["--max-polls", "1", "--json"]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("anpr_massive_not_ready"));
    assert!(dir.join("out.csv.journal").exists());
    assert!(!dir.join("out.csv").exists());
    // The same command resumes from the journal: it polls the journaled
    // id (the in-process sandbox of this new run does not know it and
    // answers 404, still not ready) and never submits again.
    let out = run(&args(d, &["--max-polls", "1", "--json"]));
    assert_eq!(out.status.code(), Some(3));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["submits"], 0, "{summary}");
    assert_eq!(summary["polls"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempdir("usage");
    input(&dir, 1);
    let d = dir.to_str().unwrap();
    let out = run(&args(d, &["--servizio", "famiglia"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("anpr_usage"));
    let _ = std::fs::remove_dir_all(&dir);
}
