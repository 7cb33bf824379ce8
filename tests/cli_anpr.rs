//! `anist anpr cerca` end to end: against the in-process sandbox (`--seed`)
//! and through the configuration `anist sandbox` writes (PDND voucher,
//! ModI headers, the ANPR front). Italian screen text masked by default,
//! `--show-data` in clear, `--json`, exit codes, the audit trail and the
//! operation-id store written where asked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

fn tempdir(name: &str) -> std::path::PathBuf {
    common::tempdir("cli-anpr", name)
}

use std::path::Path;

use anist::cli::caivano::DEFAULT_SANDBOX_SEED;
use anist::cli::sandbox::CONFIG_FILE;
use anist::client::sandbox::anpr::{anpr_case, AnprCase};
use anist::core::cf::CodiceFiscale;
use anist::core::synthetic::SyntheticPeople;
use chrono::NaiveDate;
use common::{anist, text};

fn cf_with(case: AnprCase) -> CodiceFiscale {
    let mut people = SyntheticPeople::new(
        7,
        NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2015, 12, 31).unwrap(),
    );
    (0..5000)
        .map(|_| people.next_person().codice_fiscale)
        .find(|cf| anpr_case(DEFAULT_SANDBOX_SEED, cf) == case)
        .unwrap()
}

fn cerca(dir: &Path, extra: &[&str]) -> std::process::Output {
    let audit = dir.join("audit.sqlite");
    let ids = dir.join("ids.sqlite");
    let mut args = vec![
        "anpr",
        "cerca",
        "--audit",
        audit.to_str().unwrap(),
        "--ids",
        ids.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    anist(&args, b"")
}

#[test]
fn lookups_against_the_in_process_sandbox() {
    let dir = tempdir("seed");
    let cf = cf_with(AnprCase::Resident);
    let out = cerca(
        &dir,
        &[
            "--cf",
            cf.as_str(),
            "--motivo",
            "prot. 123",
            "--data",
            "30/11/2026",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("ANPR — generalità (C015)"), "{stdout}");
    assert!(stdout.contains("Soggetti trovati: 1"), "{stdout}");
    assert!(stdout.contains("EN148 (avviso)"), "{stdout}");
    assert!(!stdout.contains(cf.as_str()), "masked by default: {stdout}");
    assert!(stdout.contains("dati personali mascherati"));

    let out = cerca(
        &dir,
        &[
            "--cf",
            cf.as_str(),
            "--motivo",
            "prot. 123",
            "--servizio",
            "residenza",
            "--show-data",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains(cf.as_str()), "{stdout}");
    assert!(stdout.contains("Residenza:"), "{stdout}");

    // JSON, famiglia.
    let out = cerca(
        &dir,
        &[
            "--cf",
            cf.as_str(),
            "--motivo",
            "prot. 123",
            "--servizio",
            "famiglia",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["esito"], "trovato");
    assert_eq!(v["servizio"], "famiglia");
    assert!(!v["soggetti"].as_array().unwrap().is_empty());
    assert_eq!(v["avvisi"][0]["codice"], "EN148");

    // Not found: an answer (exit 0).
    let missing = cf_with(AnprCase::NotFound);
    let out = cerca(&dir, &["--cf", missing.as_str(), "--motivo", "prot. 9"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Nessun soggetto trovato"));

    // Omocodia: two subjects.
    let omo = cf_with(AnprCase::Omocodia);
    let out = cerca(&dir, &["--cf", omo.as_str(), "--motivo", "prot. 9"]);
    assert!(
        text(&out.stdout).contains("Soggetti trovati: 2"),
        "{}",
        text(&out.stdout)
    );

    // Ambiguous: exit 1 with the stable code.
    let amb = cf_with(AnprCase::Ambiguous);
    let out = cerca(&dir, &["--cf", amb.as_str(), "--motivo", "prot. 9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("[anpr_ambiguous]"),
        "{}",
        text(&out.stderr)
    );

    // Usage: no motivo, a bad ID ANPR.
    let out = cerca(&dir, &["--cf", cf.as_str(), "--motivo", " "]);
    assert_eq!(out.status.code(), Some(2));
    let out = cerca(&dir, &["--id-anpr", "AB12", "--motivo", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("[anpr_length]"));

    // The audit trail and the id store were written, 0600.
    for f in ["audit.sqlite", "ids.sqlite"] {
        let p = dir.join(f);
        assert!(p.is_file(), "{f}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_configuration_written_by_anist_sandbox_works_for_anpr() {
    let dir = tempdir("config");
    let (_sandbox, listening) = common::start_sandbox(&dir);
    assert!(listening.contains(CONFIG_FILE), "{listening}");
    let config = dir.join(CONFIG_FILE);
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(written.contains("[services.anpr-c030]"), "{written}");
    assert!(
        written.contains("/MinInternoPortaANPR/C030-servizioAccertamentoIdUnicoNazionale/v1"),
        "the audience has no -PDND"
    );
    let cf = cf_with(AnprCase::Resident);
    let out = cerca(
        &dir,
        &[
            "--config",
            config.to_str().unwrap(),
            "--cf",
            cf.as_str(),
            "--motivo",
            "prot. 1",
            "--servizio",
            "residenza",
            "--json",
            "--show-data",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["esito"], "trovato");
    assert_eq!(
        v["soggetti"][0]["generalita"]["codiceFiscale"]["codFiscale"],
        cf.as_str()
    );
    assert!(v["soggetti"][0]["residenza"][0]["indirizzo"]["comune"].is_object());
    let _ = std::fs::remove_dir_all(&dir);
}
