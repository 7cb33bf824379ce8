//! `anist rivestizione` end to end on the sandbox: the demo (one TOP, one
//! ADMIN, two STANDARD users through a day), then the commands one by one
//! (setup, ente, add-user, submit from a file and typed, approve, reject,
//! worker, status, download, report), their refusals with stable codes,
//! private files and a verifiable audit trail. Synthetic people only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{anist, s, text};

fn tempdir(name: &str) -> std::path::PathBuf {
    common::tempdir("cli-rivestizione", name)
}

#[test]
fn the_demo_runs_a_day_and_prints_the_report() {
    let dir = tempdir("demo");
    let _ = std::fs::remove_dir_all(&dir);
    let out = anist(
        &["rivestizione", "demo", "--dir", s(&dir), "--soggetti", "12"],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    for line in [
        "anna.top registra l'ADMIN bruno.admin",
        "bruno.admin prova a nominare un altro ADMIN: rifiutato [rivestizione_denied]",
        "anna.top convalida la richiesta 1",
        "anna.top rifiuta la richiesta 3",
        "1 convalidate per silenzio assenso",
        "bruno.admin prova a scaricare i dati di carla: rifiutato [rivestizione_denied]",
        "comune  ente              utente      richieste",
        "catena verificata",
    ] {
        assert!(t.contains(line), "{line:?} missing:\n{t}");
    }
    let out = anist(
        &[
            "audit",
            "verify",
            "--db",
            s(&dir.join("anist-audit.sqlite")),
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Running it again in the same folder is refused, not mixed.
    let out = anist(&["rivestizione", "demo", "--dir", s(&dir)], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn each_command_as_a_clerk_uses_it() {
    let dir = tempdir("steps");
    let _ = std::fs::remove_dir_all(&dir);
    let d = s(&dir);
    let run = |args: &[&str]| {
        let mut all = vec!["rivestizione"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--dir", d]);
        anist(&all, b"")
    };
    let ok = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    let refused = |args: &[&str], code: &str| {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let e = text(&out.stderr);
        assert!(e.contains(&format!("[{code}]")), "{args:?}: {e}");
    };
    ok(&[
        "setup",
        "--user",
        "top",
        "--nome",
        "Anna",
        "--comune",
        "058091",
        "--convenzionati",
        "ROMA",
    ]);
    refused(
        &["setup", "--user", "x", "--nome", "X", "--comune", "058091"],
        "rivestizione_setup",
    );
    ok(&[
        "ente", "--user", "top", "--id", "vigili", "--nome", "Vigili", "--comune", "058091",
    ]);
    ok(&[
        "add-user",
        "--user",
        "top",
        "--id",
        "adm",
        "--nome",
        "Bruno",
        "--ruolo",
        "admin",
        "--ente",
        "vigili",
        "--dati",
        "generalita,residenza",
    ]);
    ok(&[
        "add-user",
        "--user",
        "adm",
        "--id",
        "s1",
        "--nome",
        "Carla",
        "--ruolo",
        "standard",
        "--ente",
        "vigili",
        "--dati",
        "generalita",
    ]);
    refused(
        &[
            "add-user",
            "--user",
            "adm",
            "--id",
            "s2",
            "--nome",
            "X",
            "--ruolo",
            "standard",
            "--ente",
            "vigili",
            "--dati",
            "generalita",
            "--ambito",
            "italia",
        ],
        "rivestizione_profile",
    );
    refused(
        &[
            "add-user", "--user", "s1", "--id", "s3", "--nome", "X", "--ruolo", "standard",
            "--ente", "vigili",
        ],
        "rivestizione_denied",
    );

    // A request file with a bad row, and a request typed.
    let csv = dir.join("richiesta.csv");
    let people = common::synthetic_codes(5);
    let mut body = String::from("tipo;identificativo\n");
    for cf in &people {
        body.push_str(&format!("CF;{cf}\n"));
    }
    body.push_str("CF;NONVALIDO\n");
    std::fs::write(&csv, body).unwrap();
    let t = ok(&[
        "submit",
        "--user",
        "s1",
        "--motivo",
        "verbale 1/2026",
        "--file",
        s(&csv),
    ]);
    assert!(t.contains("riga 7 scartata [cf_length]"), "{t}");
    assert!(t.contains("richiesta 1 inviata: 5 soggetti"), "{t}");
    let typed = format!("CF:{}", people[0]);
    ok(&[
        "submit",
        "--user",
        "s1",
        "--motivo",
        "verbale 2/2026",
        "--soggetto",
        &typed,
    ]);
    refused(
        &[
            "submit",
            "--user",
            "s1",
            "--motivo",
            "x",
            "--soggetto",
            &typed,
            "--dati",
            "residenza",
        ],
        "rivestizione_profile",
    );
    refused(
        &[
            "submit",
            "--user",
            "s1",
            "--motivo",
            " ",
            "--soggetto",
            &typed,
        ],
        "rivestizione_motivo",
    );
    refused(
        &["approve", "--user", "s1", "--richiesta", "1"],
        "rivestizione_denied",
    );
    ok(&["approve", "--user", "top", "--richiesta", "1"]);
    ok(&[
        "reject",
        "--user",
        "top",
        "--richiesta",
        "2",
        "--motivo",
        "duplicata",
    ]);
    refused(
        &["approve", "--user", "top", "--richiesta", "2"],
        "rivestizione_state",
    );
    let t = ok(&["worker", "--concorrenza", "2"]);
    assert!(
        t.contains("richieste completate: 1; soggetti chiesti ad ANPR: 5"),
        "{t}"
    );

    let t = ok(&["status", "--user", "s1"]);
    assert!(
        t.contains("richiesta 1: completata") && t.contains("richiesta 2: rifiutata"),
        "{t}"
    );
    let json = ok(&["status", "--user", "adm", "--richiesta", "1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["stato"], "done");
    assert_eq!(v[0]["righe_scartate"], 1);

    let out_csv = dir.join("esiti.csv");
    refused(
        &[
            "download",
            "--user",
            "adm",
            "--richiesta",
            "1",
            "--out",
            s(&out_csv),
        ],
        "rivestizione_denied",
    );
    ok(&[
        "download",
        "--user",
        "s1",
        "--richiesta",
        "1",
        "--out",
        s(&out_csv),
    ]);
    let body = std::fs::read_to_string(&out_csv).unwrap();
    assert!(
        body.starts_with("\u{feff}riga;tipo_identificativo;identificativo;esito"),
        "{body}"
    );
    assert_eq!(body.lines().count(), 6);
    assert!(
        !body.contains("residente_dal"),
        "a column outside the profile"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in [
            out_csv.clone(),
            dir.join("rivestizione.sqlite"),
            dir.join("files/rivestizione-1.csv"),
        ] {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
    }

    let report_csv = dir.join("rendiconto.csv");
    let t = ok(&["report", "--user", "top", "--csv", s(&report_csv)]);
    assert!(t.contains("vigili"), "{t}");
    assert!(std::fs::read_to_string(&report_csv)
        .unwrap()
        .starts_with("\u{feff}comune;ente;utente"));
    let t = ok(&["report", "--user", "top", "--comune", "015146"]);
    assert!(!t.contains("vigili"), "{t}");
    refused(&["report", "--user", "s1"], "rivestizione_denied");
    let out = anist(
        &[
            "audit",
            "verify",
            "--db",
            s(&dir.join("anist-audit.sqlite")),
        ],
        b"",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}
