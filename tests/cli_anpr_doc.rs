//! `anist anpr documento` end to end: against the in-process sandbox
//! (default seed) and through the `[anpr_soap]` section `anist sandbox`
//! writes (mTLS with the client certificate it writes). Italian screen
//! text masked by default, `--show-data`, `--json`, not found, exit codes
//! (2 for incomplete criteria: EHR41 / EHR67 / EHR68).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anist::cli::caivano::DEFAULT_SANDBOX_SEED;
use anist::cli::sandbox::CONFIG_FILE;
use anist::client::sandbox::anpr_soap::{DocumentiSandbox, SANDBOX_ISTAT};
use anist::client::sandbox::{Sandbox, SandboxConfig};
use anist::core::cf::CodiceFiscale;
use common::{anist, text};

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "anist-cli-anpr-doc-{name}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct RunningSandbox {
    child: Child,
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sandbox(dir: &Path) -> RunningSandbox {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anist"))
        .args(["sandbox", "--port", "0", "--dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn anist sandbox");
    let stderr = child.stderr.take().unwrap();
    let running = RunningSandbox { child };
    let mut lines = BufReader::new(stderr).lines();
    loop {
        let line = lines
            .next()
            .expect("anist sandbox stopped before writing its configuration")
            .unwrap();
        if line.starts_with("sandbox listening on") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    running
}

/// A resident of the sandbox Comune with a carta issued by it, and a
/// foreigner with a permesso and a passport (default seed, today).
fn people() -> (
    (CodiceFiscale, DocumentiSandbox),
    (CodiceFiscale, DocumentiSandbox),
) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let h = Sandbox::start(SandboxConfig::with_default_client(DEFAULT_SANDBOX_SEED).unwrap())
            .await
            .unwrap();
        let today = chrono::Local::now().date_naive();
        let all: Vec<_> = h
            .anpr_soap_people()
            .into_iter()
            .filter_map(|cf| h.anpr_documenti(&cf, today).map(|d| (cf, d)))
            .collect();
        let carta = all
            .iter()
            .find(|(_, d)| {
                d.residenza_istat == SANDBOX_ISTAT
                    && d.carta.as_ref().is_some_and(|c| c.1.is_some())
            })
            .cloned()
            .unwrap();
        let permesso = all
            .iter()
            .find(|(_, d)| d.permesso.is_some())
            .cloned()
            .unwrap();
        h.shutdown().await;
        (carta, permesso)
    })
}

fn documento(dir: &Path, extra: &[&str]) -> std::process::Output {
    let audit = dir.join("audit.sqlite");
    let ids = dir.join("ids.sqlite");
    let mut args = vec![
        "anpr",
        "documento",
        "--audit",
        audit.to_str().unwrap(),
        "--ids",
        ids.to_str().unwrap(),
        "--motivo",
        "prot. 55/2026",
    ];
    args.extend_from_slice(extra);
    anist(&args, b"")
}

#[test]
fn documents_against_the_in_process_sandbox() {
    let dir = tempdir("seed");
    let ((cf, d), (cf2, d2)) = people();
    let (numero, comune, _) = d.carta.unwrap();
    let comune = comune.unwrap();

    let out = documento(&dir, &["--carta", &numero, "--comune-rilascio", &comune]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("ricerca per carta d'identità"), "{stdout}");
    assert!(stdout.contains("Soggetti trovati: 1"), "{stdout}");
    assert!(!stdout.contains(cf.as_str()), "masked: {stdout}");
    assert!(!stdout.contains(&numero), "masked: {stdout}");
    assert!(stdout.contains("dati personali mascherati"));

    let out = documento(
        &dir,
        &[
            "--carta",
            &numero,
            "--comune-rilascio",
            &comune,
            "--show-data",
        ],
    );
    assert!(
        text(&out.stdout).contains(cf.as_str()),
        "{}",
        text(&out.stdout)
    );

    // Permesso + questura, and the passport, nationally, as JSON.
    let (permesso, questura) = d2.permesso.unwrap();
    let out = documento(
        &dir,
        &[
            "--permesso",
            &permesso,
            "--questura",
            &questura,
            "--nazionale",
            "--json",
            "--show-data",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["esito"], "trovato");
    assert_eq!(v["documento"], "permesso");
    assert_eq!(v["soggetti"][0]["codiceFiscale"], cf2.as_str());
    let pass = d2.passaporto.unwrap();
    let out = documento(&dir, &["--passaporto", &pass, "--nazionale", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["esito"], "trovato");
    assert_eq!(v["documento"], "passaporto");

    // Not found: an answer (exit 0).
    let out = documento(
        &dir,
        &["--carta", "CZ99999ZZ", "--comune-rilascio", SANDBOX_ISTAT],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Nessun soggetto trovato in ANPR (EN122)"));

    // Incomplete criteria: exit 2 with ANPR's rule as the code.
    for (args, code) in [
        (vec!["--carta", "CA00000AA"], "[anpr_soap_ehr41]"),
        (vec!["--permesso", "I12345678"], "[anpr_soap_ehr68]"),
        (vec!["--questura", "TORINO"], "[anpr_soap_ehr68]"),
        (vec![], "[anpr_usage]"),
    ] {
        let out = documento(&dir, &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(code), "{}", text(&out.stderr));
    }
}

#[test]
fn the_configuration_written_by_anist_sandbox_has_anpr_soap() {
    let dir = tempdir("config");
    let _sandbox = start_sandbox(&dir);
    let config = dir.join(CONFIG_FILE);
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("[anpr_soap]"), "{written}");
    let out = anist(
        &["config", "check", "--config", config.to_str().unwrap()],
        b"",
    );
    assert!(
        text(&out.stdout).contains("anpr_soap"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let ((cf, d), _) = people();
    let (numero, comune, _) = d.carta.unwrap();
    let out = documento(
        &dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--carta",
            &numero,
            "--comune-rilascio",
            comune.as_deref().unwrap(),
            "--show-data",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(cf.as_str()),
        "{}",
        text(&out.stdout)
    );
}
