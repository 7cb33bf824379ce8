//! `anist isee` end to end: against a running `anist sandbox` through the
//! configuration it writes (mTLS services, the Residenti ones, the
//! Operatori ones with the written operator), and the batch on the
//! in-process sandbox (output rows, `--resume` rules, exit codes), with
//! household members masked unless `--show-members`. Synthetic codes
//! only, 127.0.0.1 only.

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

fn tempdir(name: &str) -> std::path::PathBuf {
    common::tempdir("cli-isee", name)
}

use std::path::Path;

use anist::cli::caivano::DEFAULT_SANDBOX_SEED;
use anist::cli::sandbox::{ASSERTION_FILE, CA_FILE, CONFIG_FILE, MTLS_CERT_FILE};
use anist::client::sandbox::inps::{IseeExpected, IseePopulation, CALLING_COMUNE};
use anist::core::cf::AnyCodiceFiscale;
use chrono::NaiveDate;
use common::{anist, text};

const DATA: &str = "15/06/2026";

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
}

fn population() -> IseePopulation {
    IseePopulation::new(DEFAULT_SANDBOX_SEED, CALLING_COMUNE)
}

fn resident(e: &IseeExpected) -> bool {
    e.household().is_some_and(|h| h.resides_in(CALLING_COMUNE))
}

/// A code with an ISEE whose household resides in the calling Comune and
/// has at least two members (so that the attestazione lists others).
fn found_code(pop: &IseePopulation) -> AnyCodiceFiscale {
    pop.sample(500)
        .into_iter()
        .map(AnyCodiceFiscale::Persona)
        .find(|cf| {
            let e = pop.expected(cf, date());
            resident(&e) && e.household().unwrap().attestazione.household.len() >= 2
        })
        .expect("a resident code")
}

#[test]
fn the_configuration_written_by_anist_sandbox_works_for_isee() {
    let dir = tempdir("sandbox");
    let (_sandbox, listening) = common::start_sandbox(&dir);
    assert!(listening.contains(CONFIG_FILE), "{listening}");
    for f in [CONFIG_FILE, CA_FILE, MTLS_CERT_FILE, ASSERTION_FILE] {
        assert!(dir.join(f).is_file(), "{f} written");
    }
    let config = dir.join(CONFIG_FILE);
    let config = config.to_str().unwrap();
    // Every lookup is audited (here, not in the working directory).
    let audit_db = dir.join("audit.sqlite");
    let audit = audit_db.to_str().unwrap();
    let written = std::fs::read_to_string(dir.join(CONFIG_FILE)).unwrap();
    assert!(
        written.contains("ca_bundle = \"sandbox-ca.pem\""),
        "{written}"
    );
    assert!(written.contains("[inps]"));
    assert!(written.contains("ipa_category = \"comune_capoluogo\""));
    assert!(written.contains("loa = \"LoA3\""));

    // The offline check passes.
    let out = anist(&["config", "check", "--config", config], b"");
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("isee_operator"));

    let pop = population();
    let cf = found_code(&pop);
    let household = pop.expected(&cf, date()).household().unwrap().clone();
    let isee = household.attestazione.isee().unwrap().to_string();
    let dsu = household.attestazione.protocollo_dsu.to_string();

    // plain (mTLS), residenti (no certificate), operatori (mTLS, the
    // written operator and assertion file).
    for service in ["plain", "residenti", "operatori"] {
        let out = anist(
            &[
                "isee",
                "indicatore",
                "--config",
                config,
                "--audit",
                audit,
                "--cf",
                cf.as_str(),
                "--service",
                service,
                "--data",
                DATA,
            ],
            b"",
        );
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{service}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(stdout.contains(&isee), "{service}: {isee} in {stdout}");
        assert!(stdout.contains(&dsu), "{service}: {stdout}");
    }
    // Riscontro (mTLS), by DSU protocol.
    let out = anist(
        &[
            "isee",
            "indicatore",
            "--config",
            config,
            "--audit",
            audit,
            "--cf",
            cf.as_str(),
            "--service",
            "riscontro",
            "--dsu",
            &dsu,
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&isee));

    // The operator matters to the Operatori services only: a level below
    // SPID 2 (LoA2) fails them with isee_operator_invalid, never the
    // Residenti ones (it failed every service with config_invalid).
    let low = dir.join("low.toml");
    std::fs::write(&low, written.replace("loa = \"LoA3\"", "loa = \"LoA2\"")).unwrap();
    let low = low.to_str().unwrap();
    let out = anist(&["config", "check", "--config", low], b"");
    assert!(
        text(&out.stdout).contains("operator.loa"),
        "{}",
        text(&out.stdout)
    );
    let ask = |service: &str| {
        anist(
            &[
                "isee",
                "indicatore",
                "--config",
                low,
                "--audit",
                audit,
                "--cf",
                cf.as_str(),
                "--service",
                service,
                "--data",
                DATA,
            ],
            b"",
        )
    };
    let out = ask("residenti");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&isee));
    let out = ask("operatori");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("isee_operator_invalid"),
        "{}",
        text(&out.stderr)
    );

    // The attestazione masks the household unless --show-members.
    let others: Vec<&str> = household
        .attestazione
        .household
        .iter()
        .map(|m| m.codice_fiscale.as_str())
        .collect();
    let args = [
        "isee",
        "attestazione",
        "--config",
        config,
        "--audit",
        audit,
        "--cf",
        cf.as_str(),
        "--service",
        "plain",
        "--data",
        DATA,
    ];
    let out = anist(&args, b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let masked = text(&out.stdout);
    assert!(masked.contains(&isee), "{masked}");
    assert!(masked.contains("--show-members"), "{masked}");
    for m in &others {
        assert!(!masked.contains(m), "a member in clear: {masked}");
        assert!(masked.contains(&m[..6]), "the masked member: {masked}");
    }
    let mut shown = args.to_vec();
    shown.push("--show-members");
    let out = anist(&shown, b"");
    assert!(out.status.success());
    let clear = text(&out.stdout);
    for m in &others {
        assert!(clear.contains(m), "{clear}");
    }
    // Each of the eight lookups wrote its audit row, about a keyed hash:
    // the refused Operatori attempt too, with its error code as outcome.
    let e = anist(&["audit", "export", "--db", audit], b"");
    assert!(e.status.success(), "{}", text(&e.stderr));
    let csv = text(&e.stdout);
    assert_eq!(csv.lines().count(), 1 + 8, "{csv}");
    assert_eq!(
        csv.lines()
            .filter(|l| l.contains(",isee_operator_invalid,"))
            .count(),
        1,
        "{csv}"
    );
    assert!(csv.contains("isee-indicatore-residenti"), "{csv}");
    assert!(csv.contains("isee-attestazione"), "{csv}");
    assert!(!csv.contains(cf.as_str()), "{csv}");
    std::fs::remove_dir_all(&dir).ok();
}

fn read_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("Excel BOM");
    let mut reader = anist::core::csvio::CsvReader::new(text.as_bytes()).unwrap();
    reader.rows().map(|r| r.unwrap().to_vec()).collect()
}

#[test]
fn the_batch_on_the_default_sandbox() {
    let dir = tempdir("batch");
    let pop = population();
    let codes: Vec<AnyCodiceFiscale> = pop
        .sample(12)
        .into_iter()
        .map(AnyCodiceFiscale::Persona)
        .collect();
    let mut csv = String::from("codice_fiscale\r\n");
    for c in &codes {
        csv.push_str(c.as_str());
        csv.push_str("\r\n");
    }
    let input = dir.join("domande.csv");
    let output = dir.join("esiti.csv");
    std::fs::write(&input, csv).unwrap();
    let (input, output) = (input.to_str().unwrap(), output.to_str().unwrap());
    let batch = |extra: &[&str]| {
        let mut args = vec![
            "isee",
            "batch",
            "--input",
            input,
            "--out",
            output,
            "--data",
            DATA,
            "--progress",
            "none",
        ];
        args.extend_from_slice(extra);
        anist(&args, b"")
    };

    // --resume without a journal: refused, nothing written.
    let out = batch(&["--resume"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("isee_no_journal"));
    assert!(!Path::new(output).exists());

    let out = batch(&["--keep-journal"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = text(&out.stderr);
    assert!(summary.contains("12 righe"), "{summary}");
    assert!(summary.contains("ISEE trovata"), "{summary}");
    // The summary prints no codice fiscale.
    for c in &codes {
        assert!(!summary.contains(c.as_str()));
        assert!(!text(&out.stdout).contains(c.as_str()));
    }
    let rows = read_rows(Path::new(output));
    assert_eq!(rows.len(), codes.len());
    for (r, c) in rows.iter().zip(&codes) {
        assert_eq!(r[1], c.as_str());
        let e = pop.expected(c, date());
        if resident(&e) {
            let ind = e
                .household()
                .unwrap()
                .indicatore(c, &anist::core::isee::IseeKind::Ordinario)
                .unwrap();
            assert_eq!(r[15], "found", "{r:?}");
            assert_eq!(r[2], "ISEE trovata", "{r:?}");
            assert_eq!(r[4], ind.isee().machine().to_string().replace('.', ","));
        } else {
            assert_eq!(r[15], "no_isee", "{r:?}");
            assert_eq!(r[2], "nessuna ISEE", "{r:?}");
        }
    }
    assert!(rows.iter().any(|r| r[15] == "found"));

    // Again without --resume: the journal is there, refused.
    let out = batch(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("isee_journal_exists"));
    // With --resume: the finished batch completes again, same rows.
    let out = batch(&["--resume", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rows_total"], 12);
    assert_eq!(read_rows(Path::new(output)), rows);
    // Finished without --keep-journal: the journal (and its side files) is gone.
    let journal = format!("{output}.journal");
    for suffix in ["", "-wal", "-shm"] {
        assert!(
            !Path::new(&format!("{journal}{suffix}")).exists(),
            "{suffix}"
        );
    }

    // A usage error: exit 2.
    let out = batch(&["--service", "nessuno"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

/// The screen output of an ISEE corrente presented in January says one
/// date, six months on, on both lines (was "Valida fino al 31/12/2026" and
/// one line below "valido fino al 15/07/2026").
#[test]
fn screen_output_of_a_corrente_agrees_on_its_expiry() {
    let xml = r#"<EsitoAttestazione xmlns="http://inps.it/ISEERiforma"><Attestazione NumeroProtocolloDSU="INPS-ISEE-2026-00000042K-01" DataPresentazione="2026-01-10" CodiceFiscaleDichiarante="RSSMRA80A01H501U"><Ordinario Corrente="true" DataPresentazioneModuloSostitutivo="2026-01-15"><NucleoFamiliare><ComponenteNucleo RapportoConDichiarante="D" Cognome="X" Nome="Y" CodiceFiscale="RSSMRA80A01H501U"/></NucleoFamiliare><ISEEOrdinario><Valori ISEE="8000.00"/></ISEEOrdinario></Ordinario></Attestazione></EsitoAttestazione>"#;
    let att = anist::core::isee::parse_attestazione(xml.as_bytes()).unwrap();
    let out = anist::cli::isee::render_attestazione(&att, false);
    assert!(out.contains("15/07/2026"), "{out}");
    assert!(!out.contains("31/12/2026"), "{out}");
    let ind = anist::core::isee::parse_indicatore(
        br#"<Indicatore xmlns="http://inps.it/ISEERiforma" TipoIndicatore="Corrente" ISEE="8000.00" DataPresentazione="2026-01-15"/>"#,
    )
    .unwrap();
    let out = anist::cli::isee::render_indicatore(&ind, false);
    assert!(out.contains("15/07/2026"), "{out}");
    assert!(!out.contains("31/12/2026"), "{out}");
}
