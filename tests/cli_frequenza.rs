//! End-to-end tests of `anist frequenza` (the Portale Enti lookups)
//! against the in-process sandbox (127.0.0.1 only; synthetic people only),
//! and of the ID ANPR column in `anist caivano`.
#![allow(clippy::unwrap_used)] // test helpers: a failure is the test failing

mod common;

use std::path::{Path, PathBuf};

use anist::client::sandbox::anist::{Expected, Population};
use anist_core::attendance::EsitoFrequenza;
use anist_core::school::SchoolYear;
use common::{anist, text};

const SEED: u64 = 42;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anist-frequenza-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn year() -> SchoolYear {
    SchoolYear::starting(2025).unwrap()
}

/// The population `anist frequenza --anno 2025/2026` answers from.
fn population() -> Population {
    Population::new(SEED, year(), 500)
}

fn pupil_with(p: &Population, esito: EsitoFrequenza) -> usize {
    p.pupils()
        .iter()
        .position(|x| p.expected(&x.codice_fiscale, year()).esito() == Some(esito))
        .unwrap()
}

fn json(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| panic!("{e}: {}", text(stdout)))
}

fn audit_rows(db: &Path) -> usize {
    let v = anist(&["audit", "verify", "--db", s(db)], b"");
    assert_eq!(v.status.code(), Some(0), "{}", text(&v.stdout));
    let e = anist(&["audit", "export", "--db", s(db)], b"");
    text(&e.stdout).lines().count() - 1
}

#[test]
fn single_verification_by_cf_and_by_id_anpr_is_audited() {
    let dir = temp_dir("single");
    let audit = dir.join("audit.sqlite");
    let p = population();
    for (esito, word) in [
        (EsitoFrequenza::Frequentante, "Frequentante"),
        (EsitoFrequenza::NonFrequentante, "Non frequentante"),
    ] {
        let pupil = &p.pupils()[pupil_with(&p, esito)];
        for (flag, code) in [
            ("--cf", pupil.codice_fiscale.as_str()),
            ("--id-anpr", pupil.id_anpr.as_str()),
        ] {
            let out = anist(
                &[
                    "frequenza",
                    "verifica",
                    flag,
                    code,
                    "--anno",
                    "2025/2026",
                    "--audit",
                    s(&audit),
                ],
                b"",
            );
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            let first = text(&out.stdout).lines().next().unwrap().to_string();
            assert_eq!(first, word, "{flag}");
        }
    }
    assert_eq!(audit_rows(&audit), 4);
    // The audit trail holds keyed hashes, never the code.
    let e = anist(&["audit", "export", "--db", s(&audit)], b"");
    let csv = text(&e.stdout);
    assert!(csv.contains("anist-verifica"), "{csv}");
    assert!(!csv.contains(p.pupils()[0].codice_fiscale.as_str()));
}

#[test]
fn an_unknown_school_says_why() {
    let dir = temp_dir("school");
    let p = population();
    let pupil = &p.pupils()[pupil_with(&p, EsitoFrequenza::Frequentante)];
    let out = anist(
        &[
            "frequenza",
            "verifica",
            "--cf",
            pupil.codice_fiscale.as_str(),
            "--scuola",
            "ZZIC00000X",
            "--anno",
            "2025/2026",
            "--audit",
            s(&dir.join("a.sqlite")),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("anist_request_rejected"), "{err}");
    assert!(err.contains("codiceMeccanografico non censito"), "{err}");
    // Its own school answers Frequentante.
    let school = p
        .expected(&pupil.codice_fiscale, year())
        .record()
        .unwrap()
        .codice_meccanografico
        .clone()
        .unwrap();
    let out = anist(
        &[
            "frequenza",
            "verifica",
            "--cf",
            pupil.codice_fiscale.as_str(),
            "--scuola",
            &school,
            "--anno",
            "2025/2026",
            "--audit",
            s(&dir.join("a.sqlite")),
            "--json",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out.stdout);
    assert_eq!(v["operation"], "verify");
    assert_eq!(v["verifica"]["frequentante"], true);
}

#[test]
fn ascertainment_and_last_status_of_the_previous_year() {
    let dir = temp_dir("record");
    let audit = dir.join("a.sqlite");
    let p = population();
    let pupil = &p.pupils()[pupil_with(&p, EsitoFrequenza::Frequentante)];
    let cf = pupil.codice_fiscale.as_str();
    let out = anist(
        &[
            "frequenza",
            "accertamento",
            "--cf",
            cf,
            "--anno",
            "2025/2026",
            "--audit",
            s(&audit),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let screen = text(&out.stdout);
    let record = p.expected(&pupil.codice_fiscale, year());
    let record = record.record().unwrap();
    assert!(screen.contains("Accertamento della frequenza"), "{screen}");
    assert!(
        screen.contains(record.codice_istituto_principale.as_deref().unwrap()),
        "{screen}"
    );
    assert!(
        screen.contains(record.percorso_studi.as_deref().unwrap()),
        "{screen}"
    );
    assert!(screen.contains("Frequentante"), "{screen}");

    // The last status of the previous school year (the sandbox's current
    // year is today's: "previous" is the one before it).
    let today = chrono::Utc::now().date_naive();
    let current = SchoolYear::containing(today);
    let now = Population::new(SEED, current, 500);
    let known = now
        .pupils()
        .iter()
        .find(|x| now.expected(&x.codice_fiscale, current.previous()) != Expected::NotInAnist)
        .unwrap();
    let out = anist(
        &[
            "frequenza",
            "stato",
            "--precedente",
            "--cf",
            known.codice_fiscale.as_str(),
            "--audit",
            s(&audit),
            "--json",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out.stdout);
    assert_eq!(v["operation"], "last_status_previous_year");
    assert_eq!(v["found"], true);
    assert_eq!(
        v["record"]["annoScolastico"],
        serde_json::to_value(current.previous()).unwrap()
    );
    assert_eq!(audit_rows(&audit), 2);
}

#[test]
fn massive_lookups_give_one_row_per_input_row() {
    let dir = temp_dir("massive");
    let p = population();
    let pupils = &p.pupils()[..30];
    let mut input = String::from("Cognome;Codice fiscale\r\n");
    for (i, x) in pupils.iter().enumerate() {
        input.push_str(&format!("Alunno{i};{}\r\n", x.codice_fiscale.as_str()));
    }
    input.push_str("Errato;RSSMRA80A01H501X\r\n");
    let src = dir.join("alunni.csv");
    std::fs::write(&src, input).unwrap();
    let audit = dir.join("audit.sqlite");
    let out_csv = dir.join("verifica.csv");
    let out = anist(
        &[
            "frequenza",
            "verifica",
            "--input",
            s(&src),
            "--out",
            s(&out_csv),
            "--anno",
            "2025/2026",
            "--audit",
            s(&audit),
            "--json",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sum = json(&out.stdout);
    assert_eq!(sum["rows_total"], 31);
    assert_eq!(sum["invalid_code"], 1);
    assert_eq!(sum["error"], 0);
    let body = std::fs::read_to_string(&out_csv).unwrap();
    let body = body.strip_prefix('\u{feff}').expect("Excel BOM");
    let mut lines = body.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("riga;codice_fiscale;frequenza;codice_esito"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(';').collect()).collect();
    assert_eq!(rows.len(), 31);
    for (row, x) in rows.iter().zip(pupils) {
        assert_eq!(row[1], x.codice_fiscale.as_str());
        let expected = p.expected(&x.codice_fiscale, year());
        let word = match expected.verifica() {
            Some(v) if v.frequentante => "Frequentante",
            Some(_) => "Non frequentante",
            None => "Non presente in ANIST",
        };
        assert_eq!(row[2], word, "{row:?}");
    }
    assert_eq!(rows[30][3], "invalid_code");
    assert_eq!(rows[30][6], "cf_check_char");
    // Every call (the 30 valid codes) is audited.
    assert_eq!(audit_rows(&audit), 30);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out_csv).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // An ID ANPR column: the detailed records.
    let mut input = String::from("ID ANPR\r\n");
    for x in &pupils[..10] {
        input.push_str(&format!("{}\r\n", x.id_anpr.as_str()));
    }
    let src = dir.join("ids.csv");
    std::fs::write(&src, input).unwrap();
    let out_csv = dir.join("accertamento.csv");
    let out = anist(
        &[
            "frequenza",
            "accertamento",
            "--input",
            s(&src),
            "--out",
            s(&out_csv),
            "--anno",
            "2025/2026",
            "--audit",
            s(&audit),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let body = std::fs::read_to_string(&out_csv).unwrap();
    let body = body.trim_start_matches('\u{feff}');
    let mut lines = body.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("riga;id_anpr;"), "{header}");
    assert!(header.contains("percorso_studi"), "{header}");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(';').collect()).collect();
    assert_eq!(rows.len(), 10);
    for (row, x) in rows.iter().zip(pupils) {
        assert_eq!(row[1], x.id_anpr.as_str());
        if let Some(f) = p.expected(&x.codice_fiscale, year()).record() {
            assert_eq!(
                row[9],
                f.codice_istituto_principale.as_deref().unwrap_or("")
            );
            assert_eq!(row[13], f.percorso_studi.as_deref().unwrap_or(""));
        }
    }

    // An output in a folder that does not exist says so.
    let out = anist(
        &[
            "frequenza",
            "verifica",
            "--input",
            s(&src),
            "--out",
            s(&dir.join("missing").join("o.csv")),
            "--audit",
            s(&audit),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("frequenza_output"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn caivano_reads_an_id_anpr_column_as_id_anpr() {
    let dir = temp_dir("caivano-id");
    let p = population();
    let mut input = String::from("id_anpr\r\n");
    for x in &p.pupils()[..20] {
        input.push_str(&format!("{}\r\n", x.id_anpr.as_str()));
    }
    let src = dir.join("ids.csv");
    std::fs::write(&src, input).unwrap();
    let out_csv = dir.join("esiti.csv");
    let out = anist(
        &[
            "caivano",
            "--input",
            s(&src),
            "--out",
            s(&out_csv),
            "--school-year",
            "2025/2026",
            "--quiet",
            "--json",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sum = json(&out.stdout);
    assert_eq!(sum["outcomes"]["invalid_code"], 0, "{sum}");
    assert_eq!(sum["outcomes"]["error"], 0, "{sum}");
    let body = std::fs::read_to_string(&out_csv).unwrap();
    assert!(!body.contains("cf_length"), "{body}");
    let body = body.trim_start_matches('\u{feff}');
    assert!(
        body.starts_with("riga;id_anpr;esito;codice_esito"),
        "{body}"
    );
    for (line, x) in body.lines().skip(1).zip(&p.pupils()[..20]) {
        let f: Vec<&str> = line.split(';').collect();
        let expected = match p.expected(&x.codice_fiscale, year()).esito() {
            Some(e) if e.is_attending() => "compliant",
            Some(_) => "to_be_checked",
            None => "not_in_anist",
        };
        assert_eq!(f[3], expected, "{line}");
    }
}

#[test]
fn csv_inspect_checks_an_id_anpr_column_as_id_anpr() {
    let dir = temp_dir("inspect");
    let src = dir.join("ids.csv");
    std::fs::write(
        &src,
        "Nome;ID ANPR\r\nA;AF41450AS\r\nB;RSSMRA80A01H501U\r\n",
    )
    .unwrap();
    for extra in [&[][..], &["--column", "ID ANPR"][..]] {
        let out = anist(&[&["csv", "inspect", s(&src)][..], extra].concat(), b"");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let report = text(&out.stdout);
        assert!(
            report.contains("ID ANPR (column 2 \"ID ANPR\"): 1 valid, 1 invalid"),
            "{report}"
        );
        assert!(report.contains("anpr_length"), "{report}");
        assert!(!report.contains("cf_length"), "{report}");
    }
}

#[test]
fn ascertainment_and_this_year_s_last_status_by_id_anpr() {
    let dir = temp_dir("by-id");
    let audit = dir.join("a.sqlite");
    let p = population();
    let pupil = &p.pupils()[pupil_with(&p, EsitoFrequenza::Frequentante)];
    let out = anist(
        &[
            "frequenza",
            "accertamento",
            "--id-anpr",
            pupil.id_anpr.as_str(),
            "--anno",
            "2025/2026",
            "--audit",
            s(&audit),
            "--json",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out.stdout);
    let expected = p.expected(&pupil.codice_fiscale, year());
    let record = expected.record().unwrap();
    assert_eq!(v["found"], true);
    assert_eq!(
        v["record"]["codiceIstitutoPrincipale"].as_str(),
        record.codice_istituto_principale.as_deref()
    );

    // This year's last status (the sandbox's year is today's).
    let current = SchoolYear::containing(chrono::Utc::now().date_naive());
    let now = Population::new(SEED, current, 500);
    let known = now
        .pupils()
        .iter()
        .find(|x| now.expected(&x.codice_fiscale, current).record().is_some())
        .unwrap();
    let out = anist(
        &[
            "frequenza",
            "stato",
            "--id-anpr",
            known.id_anpr.as_str(),
            "--audit",
            s(&audit),
            "--json",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = json(&out.stdout);
    assert_eq!(v["operation"], "last_status_current_year");
    assert_eq!(v["found"], true);
    assert_eq!(
        v["record"]["annoScolastico"],
        serde_json::to_value(current).unwrap()
    );
    assert_eq!(audit_rows(&audit), 2);
}

#[test]
fn common_errors_speak_italian_with_the_stable_code() {
    let dir = temp_dir("errors");
    let missing = dir.join("nope.csv");
    let out = anist(
        &[
            "frequenza",
            "verifica",
            "--input",
            s(&missing),
            "--out",
            s(&dir.join("v.csv")),
        ],
        b"",
    );
    assert_ne!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("errore [frequenza_input]"), "{err}");
    assert!(err.contains("non si può leggere"), "{err}");

    let input = dir.join("in.csv");
    std::fs::write(&input, "codice_fiscale\nRSSMRA80A01H501U\n").unwrap();
    let out = anist(
        &[
            "frequenza",
            "verifica",
            "--input",
            s(&input),
            "--out",
            s(&dir.join("absent").join("v.csv")),
        ],
        b"",
    );
    assert_ne!(out.status.code(), Some(0));
    let err = text(&out.stderr);
    assert!(err.contains("errore [frequenza_output]"), "{err}");
    assert!(err.contains("la cartella non esiste"), "{err}");

    let out = anist(
        &[
            "frequenza",
            "verifica",
            "--cf",
            "RSSMRA80A01H501U",
            "--scuola",
            "RM",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("errore ["),
        "{}",
        text(&out.stderr)
    );
    // A mistyped codice fiscale: what is wrong, in Italian, never the code.
    let out = anist(&["frequenza", "verifica", "--cf", "RSSMRA80A01H501X"], b"");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("errore [frequenza_usage]: --cf [cf_check_char]"),
        "{err}"
    );
    assert!(
        err.contains("il carattere di controllo dovrebbe essere U"),
        "{err}"
    );
    assert!(!err.contains("RSSMRA80A01H501X"), "{err}");
}
