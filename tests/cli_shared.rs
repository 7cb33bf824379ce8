//! Shared jobs from the command line (#19), against `anist sandbox`:
//! `anist caivano --config F --detach` submits to the configuration's
//! `[database]`, two `anist worker --config F --once` processes share the
//! job, `anist jobs` follows it, the output is the local job's byte for
//! byte and `anist audit verify --config` checks the shared trail; on a
//! SQLite `[database]` and on PostgreSQL (the server of
//! `ANIST_TEST_PG_URL`, which `scripts/test.sh` starts). Then rivestizione
//! with its store and trail on PostgreSQL. Synthetic people only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{anist, s, start_sandbox, text};

fn tempdir(name: &str) -> PathBuf {
    common::tempdir("cli-shared", name)
}

/// The sandbox's configuration with a `[database]` at `url`.
fn with_database(dir: &Path, url: &str) -> PathBuf {
    let config = dir.join("anist.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[database]\nurl = \"{url}\"\naudit_key = \"audit.key\"\nlease_seconds = 5\n"
    ));
    std::fs::write(&config, text).unwrap();
    config
}

fn input(dir: &Path) -> PathBuf {
    let path = dir.join("minori.csv");
    let mut body = String::from("Cognome;Codice fiscale\n");
    for (i, cf) in common::synthetic_codes(60).iter().enumerate() {
        body.push_str(&format!("Alunno{i};{cf}\n"));
    }
    body.push_str("Errato;RSSMRA80A01H501X\n");
    std::fs::write(&path, body).unwrap();
    path
}

/// `anist caivano --detach`: the job's number, which it also says.
fn submit(config: &str, input: &Path, out: &Path, backend: &str) -> i64 {
    let args = [
        "caivano",
        "--config",
        config,
        "--detach",
        "--input",
        s(input),
        "--out",
        s(out),
    ];
    let out = anist(&args, b"");
    assert!(out.status.success(), "{backend}: {}", text(&out.stderr));
    let id: i64 = text(&out.stdout).trim().parse().unwrap();
    assert!(text(&out.stderr).contains(&format!("lavoro {id} inviato")));
    id
}

fn shared_job_on(dir: &Path, url: &str, backend: &str) {
    let config = with_database(dir, url);
    let c = s(&config);
    let input = input(dir);
    let local = dir.join("locale.csv");
    let shared = dir.join("condiviso.csv");
    // The reference: the same job, local, through the same sandbox.
    let out = anist(
        &[
            "caivano",
            "--config",
            c,
            "--input",
            s(&input),
            "--out",
            s(&local),
            "--quiet",
            "--no-massive",
        ],
        b"",
    );
    assert!(out.status.success(), "{backend}: {}", text(&out.stderr));

    let id = submit(c, &input, &shared, backend);
    assert!(!shared.exists(), "nothing is asked at submission");
    let out = anist(&["jobs", "--config", c, "--id", &id.to_string()], b"");
    let line = text(&out.stdout);
    assert!(
        line.starts_with(&format!("lavoro {id}: in corso, ")) && line.contains(" di 61 righe"),
        "{backend}: {line}"
    );

    // Two workers at once.
    let bin = env!("CARGO_BIN_EXE_anist");
    let workers: Vec<_> = (0..2)
        .map(|n| {
            Command::new(bin)
                .args(["worker", "--config", c, "--once", "--json", "--name"])
                .arg(format!("w{n}"))
                .output()
        })
        .collect();
    let mut written = 0;
    for w in workers {
        let w = w.unwrap();
        assert!(w.status.success(), "{backend}: {}", text(&w.stderr));
        let report: serde_json::Value = serde_json::from_slice(&w.stdout).unwrap();
        written += report["outputs_written"].as_array().unwrap().len();
    }
    assert_eq!(written, 1, "{backend}: the output is written once");
    assert_eq!(
        std::fs::read(&shared).unwrap(),
        std::fs::read(&local).unwrap(),
        "{backend}: the shared output is the local job's"
    );
    let out = anist(&["jobs", "--config", c, "--json"], b"");
    assert!(out.status.success());
    let jobs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs[0]["state"], "done", "{backend}");
    assert_eq!(jobs[0]["rows_done"], 61);
    let trail_rows = verified_rows(c, backend);

    // A job submitted by mistake is cancelled before any worker takes it:
    // its codes go at once, no worker asks anything of it, no output is
    // written, and the trail says who cancelled it.
    let wrong = dir.join("sbagliato.csv");
    let id = submit(c, &input, &wrong, backend).to_string();
    let out = anist(&["jobs", "--config", c, "--id", &id, "--json"], b"");
    let jobs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Rows decided at submission (adults, the invalid code).
    let decided = jobs[0]["rows_done"].as_u64().unwrap();
    assert!(decided > 1 && decided < 61, "{backend}: {decided}");
    let out = anist(&["jobs", "--config", c, "--annulla", &id], b"");
    assert!(out.status.success(), "{backend}: {}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.starts_with(&format!("lavoro {id}: annullato, {decided} di 61 righe ")),
        "{backend}: {said}"
    );
    assert!(said.contains("cancellati dal database"), "{said}");
    assert_eq!(
        verified_rows(c, backend),
        trail_rows + 1,
        "{backend}: audited"
    );
    let out = anist(&["jobs", "--config", c, "--cancel", &id], b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("[shared_job_not_running]")
            && text(&out.stderr).contains("(annullato)"),
        "{backend}: {}",
        text(&out.stderr)
    );
    let w = anist(&["worker", "--config", c, "--once", "--json"], b"");
    assert!(w.status.success(), "{backend}: {}", text(&w.stderr));
    let report: serde_json::Value = serde_json::from_slice(&w.stdout).unwrap();
    assert_eq!(report["calls"], 0, "{backend}: nothing asked");
    assert!(report["outputs_written"].as_array().unwrap().is_empty());
    assert!(!wrong.exists(), "{backend}: no output");
    let out = anist(&["jobs", "--config", c, "--id", &id, "--json"], b"");
    let jobs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs[0]["state"], "cancelled", "{backend}");
    // The rows decided before stay counted.
    assert_eq!(jobs[0]["rows_done"], decided);

    // A job that does not exist (a configuration without `[database]`:
    // `without_a_database_section_the_commands_say_what_to_add`).
    let out = anist(&["jobs", "--config", c, "--id", "999"], b"");
    assert!(text(&out.stderr).contains("[shared_no_such_job]"));
}

/// The rows of the configuration's shared trail, verified.
fn verified_rows(config: &str, backend: &str) -> u64 {
    let out = anist(&["audit", "verify", "--config", config], b"");
    assert!(out.status.success(), "{backend}: {}", text(&out.stderr));
    let verified = text(&out.stdout);
    verified
        .strip_prefix("intact: ")
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{backend}: {verified}"))
}

#[test]
fn a_detached_job_shared_by_two_workers_gives_the_local_output_on_sqlite() {
    let dir = tempdir("sqlite");
    let _sandbox = start_sandbox(&dir);
    shared_job_on(&dir, "lavori.sqlite", "sqlite");
    // The shared store is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("lavori.sqlite"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_detached_job_shared_by_two_workers_gives_the_local_output_on_postgres() {
    let Some(url) = anist::client::pg::test_schema_url("anist_cli_shared") else {
        eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)");
        return;
    };
    let dir = tempdir("postgres");
    let _sandbox = start_sandbox(&dir);
    shared_job_on(&dir, &url, "postgres");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_a_database_section_the_commands_say_what_to_add() {
    let dir = tempdir("nodb");
    let config = dir.join("anist.toml");
    std::fs::write(
        &config,
        "environment = \"sandbox\"\nclient_id = \"c\"\nkey = \"k.pem\"\n",
    )
    .unwrap();
    for args in [
        vec!["jobs", "--config", s(&config)],
        vec!["worker", "--config", s(&config), "--once"],
    ] {
        let out = anist(&args, b"");
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains("[shared_no_database]"),
            "{}",
            text(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rivestizione_keeps_its_store_and_trail_in_postgres() {
    let Some(url) = anist::client::pg::test_schema_url("anist_cli_riv") else {
        eprintln!("skipped: no PostgreSQL (ANIST_TEST_PG_URL)");
        return;
    };
    let dir = tempdir("riv");
    let config = dir.join("db.toml");
    std::fs::write(
        &config,
        format!(
            "environment = \"sandbox\"\nclient_id = \"c\"\nkey = \"k.pem\"\n\n[database]\nurl = \"{url}\"\naudit_key = \"audit.key\"\n"
        ),
    )
    .unwrap();
    let place = dir.join("cartella");
    let run = |args: &[&str]| {
        let mut all = vec!["rivestizione"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--dir", s(&place), "--database", s(&config)]);
        let out = anist(&all, b"");
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    run(&[
        "setup", "--user", "top", "--nome", "Anna", "--comune", "058091",
    ]);
    run(&[
        "ente", "--user", "top", "--id", "vigili", "--nome", "Vigili", "--comune", "058091",
    ]);
    run(&[
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
        "generalita",
    ]);
    run(&[
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
    let people = common::synthetic_codes(3);
    let typed = format!("CF:{}", people[0]);
    let t = run(&[
        "submit",
        "--user",
        "s1",
        "--motivo",
        "verbale 1/2026",
        "--soggetto",
        &typed,
    ]);
    assert!(t.contains("richiesta 1 inviata"), "{t}");
    run(&["approve", "--user", "top", "--richiesta", "1"]);
    run(&["worker"]);
    let t = run(&["status", "--user", "s1", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&t).unwrap();
    assert_eq!(status[0]["stato"], "done", "{t}");
    assert_eq!(status[0]["elaborati"], 1, "{t}");
    run(&[
        "download",
        "--user",
        "s1",
        "--richiesta",
        "1",
        "--out",
        s(&dir.join("esiti.csv")),
    ]);
    // The store is in the database, not in the folder.
    use anist::client::rivestizione::layout;
    assert!(place.is_dir(), "the folder keeps the response files");
    assert!(!place.join(layout::STORE).exists());
    assert!(!place.join(layout::AUDIT).exists());
    // The trail in the database holds what was done (setup to download).
    let rows = verified_rows(s(&config), "postgres");
    assert!(rows >= 8, "{rows} rows");
    let _ = std::fs::remove_dir_all(&dir);
}
