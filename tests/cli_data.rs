//! Personal data and failures that must not stick, end to end: files with
//! personal data are 0600 whatever the umask, finished journals are
//! removed, a job that cannot start leaves nothing, transient failures are
//! asked again on `--resume` (exit status 4 until then), every ISEE lookup
//! is audited, and the `-v` log never carries a code or a token.
//! Synthetic codes only (the demo sample), 127.0.0.1 only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

fn temp_dir(name: &str) -> std::path::PathBuf {
    common::tempdir("data", name)
}

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{anist, s, text};

/// The first `rows` data rows of the demo sample (synthetic people), and
/// their codici fiscali.
fn sample(dir: &Path, rows: usize) -> (PathBuf, Vec<String>) {
    let bytes = anist::cli::caivano::DEMO_SAMPLE;
    let text = encoding_rs::WINDOWS_1252.decode(bytes).0;
    let lines: Vec<&str> = text.lines().take(rows + 1).collect();
    let codes = lines[1..]
        .iter()
        .map(|l| l.split(';').nth(4).unwrap().to_string())
        .filter(|c| anist::core::cf::CodiceFiscale::is_valid(c))
        .collect();
    let path = dir.join("anagrafe.csv");
    std::fs::write(&path, lines.join("\r\n") + "\r\n").unwrap();
    (path, codes)
}

/// Runs `anist` under `sh -c 'umask U; exec anist …'`.
fn anist_umask(umask: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_anist"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

/// Every file of `dir` named in `names` that exists is 0600; returns how
/// many exist.
#[cfg(unix)]
fn private(dir: &Path, names: &[&str]) -> usize {
    let mut n = 0;
    for name in names {
        if let Some(m) = mode(&dir.join(name)) {
            assert_eq!(m, 0o600, "{name} is {m:o}");
            n += 1;
        }
    }
    n
}

#[cfg(unix)]
#[test]
fn files_with_personal_data_are_private_whatever_the_umask() {
    for umask in ["022", "000"] {
        let dir = temp_dir(&format!("umask{umask}"));
        let (input, codes) = sample(&dir, 30);
        let out = dir.join("esiti.csv");
        let r = anist_umask(
            umask,
            &[
                "caivano",
                "--input",
                s(&input),
                "--out",
                s(&out),
                "--school-year",
                "2025/2026",
                "--quiet",
                "--keep-journal",
            ],
        );
        assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
        let n = private(
            &dir,
            &[
                "esiti.csv",
                "esiti.csv.journal",
                "esiti.csv.journal-wal",
                "esiti.csv.journal-shm",
                "anist-audit.sqlite",
                "anist-audit.sqlite-wal",
                "anist-audit.sqlite-shm",
                "anist-audit.sqlite.key",
            ],
        );
        assert!(n >= 4, "{n} files");

        // The ISEE batch's output and journal, the single lookup's audit trail.
        let mut csv = String::from("codice_fiscale\r\n");
        for c in codes.iter().take(5) {
            csv.push_str(c);
            csv.push_str("\r\n");
        }
        std::fs::write(dir.join("domande.csv"), csv).unwrap();
        let r = anist_umask(
            umask,
            &[
                "isee",
                "batch",
                "--input",
                s(&dir.join("domande.csv")),
                "--out",
                s(&dir.join("isee.csv")),
                "--progress",
                "none",
                "--keep-journal",
            ],
        );
        assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
        assert!(private(&dir, &["isee.csv", "isee.csv.journal"]) == 2);
        let r = anist_umask(
            umask,
            &[
                "isee",
                "indicatore",
                "--cf",
                &codes[0],
                "--audit",
                s(&dir.join("lookup.sqlite")),
            ],
        );
        assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
        assert!(private(&dir, &["lookup.sqlite", "lookup.sqlite.key"]) == 2);

        // cf check --out, for Excel.
        let r = anist_umask(
            umask,
            &[
                "cf",
                "check",
                s(&input),
                "--column",
                "codice fiscale",
                "--out",
                s(&dir.join("check.csv")),
                "--quiet",
            ],
        );
        assert!(
            r.status.code().is_some_and(|c| c <= 1),
            "{}",
            text(&r.stderr)
        );
        assert!(private(&dir, &["check.csv"]) == 1);

        // The configuration `anist sandbox` writes names the operator.
        let sandbox = start_sandbox(umask, &dir.join("sandbox"), 0);
        assert!(private(&dir.join("sandbox"), &["anist.toml", "sandbox-client.pem"]) == 2);
        drop(sandbox);
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn cf_check_out_opens_in_excel() {
    let dir = temp_dir("cfcheck");
    let (input, codes) = sample(&dir, 5);
    let out = dir.join("check.csv");
    let r = anist(
        &[
            "cf",
            "check",
            s(&input),
            "--column",
            "codice fiscale",
            "--out",
            s(&out),
            "--today",
            "2026-11-23",
        ],
        b"",
    );
    assert!(
        r.status.code().is_some_and(|c| c <= 1),
        "{}",
        text(&r.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let body = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = body.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("input;valid;normalized;error;birth_date"));
    let first = lines.next().unwrap();
    let f: Vec<&str> = first.split(';').collect();
    assert_eq!(f.len(), 10, "{first}");
    assert_eq!(f[0], codes[0]);
    // dd/mm/yyyy
    assert_eq!(f[4].len(), 10, "{first}");
    assert_eq!(&f[4][2..3], "/", "{first}");
    // Standard output stays plain CSV for scripts.
    let r = anist(&["cf", "check", "--quiet"], codes[0].as_bytes());
    assert!(text(&r.stdout).starts_with("input,valid,"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_job_that_cannot_start_leaves_no_journal_and_out_needs_its_directory() {
    let dir = temp_dir("nostart");
    // No codice fiscale column.
    let input = dir.join("anagrafe.csv");
    std::fs::write(&input, "nome;cognome\r\nMario;Rossi\r\n").unwrap();
    let out = dir.join("esiti.csv");
    let args = [
        "caivano",
        "--input",
        s(&input),
        "--out",
        s(&out),
        "--school-year",
        "2025/2026",
        "--quiet",
    ];
    let r = anist(&args, b"");
    assert_eq!(r.status.code(), Some(1), "{}", text(&r.stderr));
    assert!(
        text(&r.stderr).contains("bulk_column"),
        "{}",
        text(&r.stderr)
    );
    for suffix in ["", "-wal", "-shm"] {
        assert!(!dir.join(format!("esiti.csv.journal{suffix}")).exists());
    }
    // The corrected file runs: no journal refuses it.
    let (fixed, _) = sample(&dir, 10);
    assert_eq!(fixed, input);
    let r = anist(&args, b"");
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));

    // --out in a directory that does not exist: said so, nothing created.
    let missing = dir.join("manca");
    let r = anist(
        &[
            "caivano",
            "--input",
            s(&input),
            "--out",
            s(&missing.join("esiti.csv")),
            "--quiet",
        ],
        b"",
    );
    assert_eq!(r.status.code(), Some(1));
    let err = text(&r.stderr);
    assert!(err.contains("bulk_output_dir"), "{err}");
    assert!(err.contains("manca"), "{err}");
    assert!(!err.contains("audit_secret"), "{err}");
    assert!(!missing.exists());
    let r = anist(
        &[
            "isee",
            "batch",
            "--input",
            s(&input),
            "--out",
            s(&missing.join("isee.csv")),
            "--progress",
            "none",
        ],
        b"",
    );
    assert_eq!(r.status.code(), Some(1));
    assert!(
        text(&r.stderr).contains("bulk_output_dir"),
        "{}",
        text(&r.stderr)
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// `anist sandbox` under `umask`, as a child process (killed when dropped).
fn start_sandbox(umask: &str, dir: &Path, port: u16) -> common::RunningSandbox {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_anist"))
        .args(["sandbox", "--port", &port.to_string(), "--dir", s(dir)]);
    common::spawn_sandbox(cmd).0
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn rows_failed_while_pdnd_was_down_are_asked_again_on_resume() {
    let dir = temp_dir("down");
    let (input, codes) = sample(&dir, 20);
    let port = free_port();
    let sdir = dir.join("sandbox");
    // Write the configuration, then stop the sandbox: PDND is "down".
    drop(start_sandbox("022", &sdir, port));
    let config = sdir.join("anist.toml");
    let out = dir.join("esiti.csv");
    let journal = dir.join("esiti.csv.journal");
    let args = [
        "caivano",
        "--config",
        s(&config),
        "--input",
        s(&input),
        "--out",
        s(&out),
        "--no-massive",
        "--progress",
        "none",
    ];
    let r = anist(&[&["-vv"], &args[..], &["--json"]].concat(), b"");
    let err = text(&r.stderr);
    assert_eq!(r.status.code(), Some(4), "{err}");
    assert!(err.contains("--resume"), "{err}");
    let sum: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert!(sum["outcomes"]["error"].as_u64().unwrap() > 0, "{sum}");
    assert_eq!(sum["retry_rows"], sum["outcomes"]["error"], "{sum}");
    assert!(journal.exists(), "kept for the resumption");
    // -vv says why (the token request failed), never a code of the input.
    assert!(err.contains("anist::voucher"), "{err}");
    assert!(err.contains("voucher_"), "{err}");
    for c in &codes {
        assert!(!err.contains(c.as_str()), "a codice fiscale in the log");
    }
    // The ISEE batch too: error rows, exit 4, its journal kept.
    let isee_out = dir.join("isee.csv");
    let isee_args = [
        "isee",
        "batch",
        "--config",
        s(&config),
        "--input",
        s(&input),
        "--out",
        s(&isee_out),
        "--progress",
        "none",
        "--json",
    ];
    let r = anist(&isee_args, b"");
    assert_eq!(r.status.code(), Some(4), "{}", text(&r.stderr));
    assert!(dir.join("isee.csv.journal").exists());

    // PDND is back (same port, same key): --resume asks the rows again.
    let _sandbox = start_sandbox("022", &sdir, port);
    let r = anist(&[&isee_args[..], &["--resume"]].concat(), b"");
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    let sum: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(sum["outcomes"]["error"], 0, "{sum}");
    assert!(!dir.join("isee.csv.journal").exists());
    // A single lookup through the same configuration.
    let r = anist(
        &[
            "frequenza",
            "verifica",
            "--config",
            s(&config),
            "--cf",
            codes[0].as_str(),
            "--audit",
            s(&dir.join("lookups.sqlite")),
            "--json",
        ],
        b"",
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["operation"], "verify");
    let r = anist(
        &[&["-vvv"], &args[..], &["--resume", "--json"]].concat(),
        b"",
    );
    let err = text(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{err}");
    let sum: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(sum["outcomes"]["error"], 0, "{sum}");
    assert!(sum["calls"]["verify"].as_u64().unwrap() > 0, "{sum}");
    assert!(!journal.exists(), "a clean end removes the journal");
    // The verbose log of a working run: no code, no token.
    assert!(err.contains("anist::call"), "{err}");
    for c in &codes {
        assert!(!err.contains(c.as_str()), "a codice fiscale in the log");
    }
    assert!(!err.contains("eyJ"), "a token in the log: {err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn single_isee_lookups_are_audited_and_take_the_batch_spelling() {
    let dir = temp_dir("lookup");
    let (_, codes) = sample(&dir, 3);
    let db = dir.join("audit.sqlite");
    for service in ["residenti", "indicatore_residenti", "indicatore-residenti"] {
        let r = anist(
            &[
                "isee",
                "indicatore",
                "--cf",
                &codes[0],
                "--service",
                service,
                "--audit",
                s(&db),
            ],
            b"",
        );
        assert_eq!(r.status.code(), Some(0), "{service}: {}", text(&r.stderr));
    }
    let r = anist(
        &[
            "isee",
            "attestazione",
            "--cf",
            &codes[0],
            "--service",
            "attestazione_residenti",
            "--audit",
            s(&db),
        ],
        b"",
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r.stderr));
    // The other kind's service is refused, in Italian, with its code.
    let r = anist(
        &[
            "isee",
            "indicatore",
            "--cf",
            &codes[0],
            "--service",
            "attestazione_residenti",
            "--audit",
            s(&db),
        ],
        b"",
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(
        text(&r.stderr).contains("errore [isee_usage]"),
        "{}",
        text(&r.stderr)
    );

    let e = anist(&["audit", "export", "--db", s(&db)], b"");
    let csv = text(&e.stdout);
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert_eq!(
        rows.iter()
            .filter(|r| r.contains("isee-indicatore-residenti,indicatore"))
            .count(),
        3,
        "{csv}"
    );
    assert!(
        rows[3].contains("isee-attestazione-residenti,attestazione"),
        "{csv}"
    );
    assert!(!csv.contains(&codes[0]), "subjects are keyed hashes");
    let v = anist(&["audit", "verify", "--db", s(&db)], b"");
    assert_eq!(v.status.code(), Some(0));
    std::fs::remove_dir_all(&dir).ok();
}
