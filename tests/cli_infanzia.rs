//! `anist infanzia` end to end: the bundled demo, and the life cycle step
//! by step on the bundled synthetic Comune (import, check, declarations,
//! the window edges in Rome summer time, refusal, re-send, validation,
//! exports). Synthetic data only; no network.

// Test helpers may unwrap: a panic there is a failing test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

fn tempdir(name: &str) -> std::path::PathBuf {
    common::tempdir("cli-infanzia", name)
}

use std::path::Path;

use common::{anist, text};

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/data/infanzia")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Runs `anist infanzia <args> --db <db>`; returns (exit code, stdout, stderr).
fn inf(db: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["infanzia"];
    all.extend_from_slice(args);
    let db = db.to_string_lossy().into_owned();
    all.extend_from_slice(&["--db", &db]);
    let out = anist(&all, b"");
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

#[test]
fn demo_runs_the_whole_life_cycle() {
    let dir = tempdir("demo");
    let out = anist(&["infanzia", "demo", "--dir", dir.to_str().unwrap()], b"");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("[infanzia_window_not_open]"), "{stdout}");
    assert!(stdout.contains("[infanzia_reason_missing]"), "{stdout}");
    assert!(stdout.contains("Stato: VALIDATO dalla Regione"), "{stdout}");
    assert!(stdout.contains("RIFIUTATO → INVIATO"), "{stdout}");
    assert!(
        stdout.contains("TO-0102 aggiornato (posti, provvedimento)"),
        "{stdout}"
    );
    let csv = std::fs::read(dir.join("servizi03.csv")).unwrap();
    assert!(csv.starts_with(b"\xEF\xBB\xBFCodice servizio;Tipologia;"));
    let csv = String::from_utf8(csv).unwrap();
    assert!(
        csv.contains("TO-0101;Asilo nido;Nido Il Girasole;"),
        "{csv}"
    );
    assert!(
        csv.contains(";NON RAGGIUNTO;il gestore non è interessato"),
        "{csv}"
    );
    assert!(csv.contains("\r\n"));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("servizi03.json")).unwrap()).unwrap();
    assert_eq!(json["form"]["state"]["state"], "VALIDATO");
    assert_eq!(json["problems"].as_array().unwrap().len(), 0);
    assert_eq!(json["outcomes"][0]["outcome"], "average");
    assert_eq!(json["outcomes"][0]["detail"]["average"], 44);
    #[cfg(unix)]
    for f in [
        "servizi03.db",
        "servizi03.csv",
        "servizi03.json",
        "servizi03.txt",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn step_by_step_with_window_edges_refusal_and_resend() {
    let dir = tempdir("steps");
    let db = dir.join("form.db");

    // No form yet.
    let (code, _, err) = inf(&db, &["status"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("[infanzia_no_form]"), "{err}");

    let reg = data("servizi.csv");
    let (code, out, err) = inf(
        &db,
        &[
            "import-registry",
            "--file",
            &reg,
            "--comune",
            "Comune di Prova",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("6 aggiunti"), "{out}");
    let regs = data("registri.csv");
    let (code, out, _) = inf(&db, &["import-registers", "--file", &regs]);
    assert_eq!(code, 0);
    assert!(out.contains("24 righe lette"), "{out}");
    // The method is saved in the form, and the screen says so.
    let (code, out, err) = inf(&db, &["compute", "--method", "monthly"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("salvato nel modulo: mensile"), "{err}");

    // Every problem at once, exit 1.
    let (code, out, err) = inf(&db, &["check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("2 problemi"), "{out}");
    assert!(out.contains("TO-0103") && out.contains("TO-0104"), "{out}");
    let (_, out, _) = inf(&db, &["check", "--json"]);
    let problems: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(problems[0]["code"], "attendance_missing");

    // NON RAGGIUNTO needs its reason.
    let (code, _, err) = inf(
        &db,
        &["declare", "--service", "TO-0104", "--tipo", "non-raggiunto"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("[infanzia_reason_missing]"), "{err}");
    let (code, _, err) = inf(
        &db,
        &[
            "declare",
            "--service",
            "TO-0104",
            "--tipo",
            "non-raggiunto",
            "--motivo",
            "nessun accordo scritto col Comune",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = inf(
        &db,
        &["declare", "--service", "TO-0103", "--tipo", "sospeso"],
    );
    assert_eq!(code, 0);
    let (code, _, err) = inf(
        &db,
        &["declare", "--service", "TO-9999", "--tipo", "sospeso"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("[infanzia_unknown_service]"), "{err}");
    let (code, out, _) = inf(&db, &["check"]);
    assert_eq!(code, 0, "{out}");

    let (code, out, _) = inf(&db, &["compute", "--json"]);
    assert_eq!(code, 0);
    let outcomes: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(outcomes[4]["detail"]["period"]["rule"], "from_activation");
    assert_eq!(
        outcomes[1]["detail"]["period"]["rule"],
        "from_authorisation"
    );

    // 27 April 2026 is CEST: 11:59 Rome = 09:59 UTC refused, 12:00 accepted.
    let (code, _, err) = inf(&db, &["send", "--now", "2026-04-27T09:59:00Z"]);
    assert_eq!(code, 1);
    assert!(err.contains("[infanzia_window_not_open]"), "{err}");
    assert!(err.contains("apre lunedì 27/04/2026 alle 12:00"), "{err}");
    let (code, out, err) = inf(&db, &["send", "--now", "2026-04-27T10:00:00Z"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("27/04/2026 alle 12:00"), "{out}");

    // Not editable while sent.
    let (code, _, err) = inf(&db, &["declare", "--service", "TO-0103", "--clear"]);
    assert_eq!(code, 1);
    assert!(err.contains("[infanzia_not_editable]"), "{err}");

    // The Region refuses (notes required), the Comune re-sends.
    let (code, _, err) = inf(
        &db,
        &["reject", "--notes", "  ", "--now", "2026-05-04T10:00"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("[infanzia_notes_missing]"), "{err}");
    let (code, _, _) = inf(
        &db,
        &[
            "reject",
            "--notes",
            "verificare i posti di TO-0102",
            "--now",
            "2026-05-04T10:00",
        ],
    );
    assert_eq!(code, 0);
    let (_, out, _) = inf(&db, &["status", "--json", "--now", "2026-05-04T10:05"]);
    let st: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["state"], "RIFIUTATO");
    assert_eq!(st["notes"], "verificare i posti di TO-0102");
    assert_eq!(st["window"], "open");

    // 18 May 2026 12:00 Rome time (10:00 UTC): closed; 11:59 still open.
    let (code, _, err) = inf(&db, &["send", "--now", "2026-05-18T12:00"]);
    assert_eq!(code, 1);
    assert!(err.contains("[infanzia_window_closed]"), "{err}");
    assert!(
        err.contains("si è chiusa lunedì 18/05/2026 alle 12:00"),
        "{err}"
    );
    let (code, _, err) = inf(&db, &["send", "--now", "2026-05-18T09:59:00Z"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, _) = inf(&db, &["validate", "--now", "2026-05-20T09:00"]);
    assert_eq!(code, 0);
    let (code, out, _) = inf(&db, &["status", "--now", "2026-05-20T09:00"]);
    assert_eq!(code, 0);
    assert!(out.contains("VALIDATO"), "{out}");
    assert!(out.contains("finestra di invio: chiusa"), "{out}");
    assert!(out.contains("RIFIUTATO → INVIATO"), "{out}");

    // Exports.
    let csv = dir.join("out.csv");
    let (code, _, err) = inf(&db, &["export", "--csv", csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let body = std::fs::read_to_string(&csv).unwrap();
    assert!(
        body.contains("TO-0104;Nido in famiglia;Casa Coccole"),
        "{body}"
    );
    let (code, out, _) = inf(&db, &["export"]);
    assert_eq!(code, 0);
    assert!(out.contains("Comune: Comune di Prova"), "{out}");
    #[cfg(unix)]
    {
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&csv), 0o600);
    }
    // A bad --now is a usage error.
    let (code, _, err) = inf(&db, &["send", "--now", "domani"]);
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
