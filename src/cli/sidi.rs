//! `anist sidi`: the SIDI synchronisation of a school's local database
//! (MIUR nota 924/2012). `diff` compares a SIDI download with the local
//! database and shows the plan (text, `--json`, `--csv`); `sync` applies
//! it, `--auto` (what needs no decision) or `--guided` (decisions from a
//! file or asked on the terminal); `locks` lists the fields SIDI owns;
//! `edit` changes a field locally (refused on locked fields); `demo`
//! writes a sandbox school to try it all.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anist_client::sidi::{
    apply_plan, create_private, diff_files, open_existing, parse_plan, write_demo, LocalStore,
    StoreError, SyncError,
};
use anist_core::sidi::{
    self, action_text_it, plan_text_it, write_plan_csv, Action, ActionKind, Decision, Entity, Plan,
    SidiError, SyncField,
};
use anist_core::{ErrorCode, ErrorKind};
use clap::Subcommand;
use serde::Deserialize;

/// Exit status for usage and I/O errors.
const EXIT_USAGE: u8 = 2;
/// Exit status of `sync` when actions are left waiting for a decision.
pub const EXIT_PENDING: u8 = 4;

/// The `anist sidi` subcommands.
#[derive(Subcommand)]
pub enum SidiCommand {
    /// Compare a SIDI download (JSON or CSV interchange file) with the local
    /// database and show the plan.
    Diff {
        /// The local database (SQLite).
        #[arg(long)]
        db: PathBuf,
        /// The SIDI download (JSON or CSV layout).
        #[arg(long)]
        sidi: PathBuf,
        /// Print the plan as JSON (reviewable, saveable, appliable with `sync --plan`).
        #[arg(long)]
        json: bool,
        /// Also write the plan as CSV for Excel to this file (created 0600).
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        /// Save the plan as JSON to this file (created 0600).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Show codici fiscali and names in clear on screen.
        #[arg(long)]
        in_chiaro: bool,
    },
    /// Apply a plan: --auto applies what needs no decision and leaves the
    /// rest pending (exit status 4); --guided takes the decisions from
    /// --decisions or asks them on the terminal.
    Sync {
        /// The local database (SQLite).
        #[arg(long)]
        db: PathBuf,
        /// The SIDI download to compare with now.
        #[arg(long, conflicts_with = "plan", required_unless_present = "plan")]
        sidi: Option<PathBuf>,
        /// A plan saved by `diff --out` (with or without decisions).
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Automatic mode.
        #[arg(long, conflicts_with = "guided", required_unless_present = "guided")]
        auto: bool,
        /// Guided mode.
        #[arg(long)]
        guided: bool,
        /// Decisions as JSON: `[{"action": 12, "decision": "accept_sidi"},
        /// {"action": 13, "decision": "merge", "keep": "A00042"}]`.
        #[arg(long, requires = "guided")]
        decisions: Option<PathBuf>,
        /// Show codici fiscali and names in clear in the prompts.
        #[arg(long)]
        in_chiaro: bool,
    },
    /// List the fields synchronised from SIDI (locked against local edits).
    Locks {
        /// The local database (SQLite).
        #[arg(long)]
        db: PathBuf,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change one field of a local record (refused on locked fields).
    Edit {
        /// The local database (SQLite).
        #[arg(long)]
        db: PathBuf,
        /// sede, classe or alunno.
        #[arg(long)]
        entity: String,
        /// The local record id.
        #[arg(long)]
        id: String,
        /// The field (cognome, nome, classe, …).
        #[arg(long)]
        field: String,
        /// The new value.
        #[arg(long)]
        value: String,
    },
    /// Write a sandbox school to try it: sidi.json, sidi.csv (SIDI's side)
    /// and locale.sqlite (a local database that drifted from it).
    Demo {
        /// The folder to write into.
        #[arg(long, default_value = "anist-sidi-demo")]
        dir: PathBuf,
        /// The seed (same seed, same school).
        #[arg(long, default_value_t = 17)]
        seed: u64,
        /// Pupils on SIDI.
        #[arg(long, default_value_t = 400)]
        alunni: usize,
        /// First year of the school year.
        #[arg(long, default_value_t = 2026)]
        anno: u16,
    },
}

/// Why an `anist sidi` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SidiCmdError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The SIDI file, the plan or the local database.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The local store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine.
    #[error(transparent)]
    Sidi(#[from] SidiError),
    /// A plan or decisions file is not valid JSON.
    #[error("{path} non è un piano o un file di decisioni valido: {reason}")]
    PlanFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl ErrorCode for SidiCmdError {
    fn code(&self) -> &'static str {
        match self {
            SidiCmdError::Usage(_) => "usage",
            SidiCmdError::Io { .. } => "io",
            SidiCmdError::Sync(e) => e.code(),
            SidiCmdError::Store(e) => e.code(),
            SidiCmdError::Sidi(e) => e.code(),
            SidiCmdError::PlanFile { .. } => "sidi_plan_file",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            SidiCmdError::Usage(_) => ErrorKind::InvalidArgument,
            SidiCmdError::Io { .. } => ErrorKind::Local,
            SidiCmdError::Sync(e) => e.kind(),
            SidiCmdError::Store(e) => e.kind(),
            SidiCmdError::Sidi(e) => e.kind(),
            SidiCmdError::PlanFile { .. } => ErrorKind::Sidi,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SidiCmdError + '_ {
    move |source| SidiCmdError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Compares and reports the skipped rows of the SIDI file on stderr.
fn diff_reporting(db: &Path, sidi_file: &Path) -> Result<Plan, SidiCmdError> {
    let (plan, problems) = diff_files(db, sidi_file)?;
    for p in &problems {
        eprintln!(
            "{}: riga {} scartata [{}]",
            sidi_file.display(),
            p.line,
            p.code
        );
    }
    Ok(plan)
}

fn write_json_file(path: &Path, value: &impl serde::Serialize) -> Result<(), SidiCmdError> {
    let mut f = create_private(path)?;
    serde_json::to_writer_pretty(&mut f, value)
        .map_err(io::Error::other)
        .and_then(|()| f.write_all(b"\n"))
        .map_err(io_err(path))
}

fn read_plan(path: &Path) -> Result<Plan, SidiCmdError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    Ok(parse_plan(&bytes)?)
}

/// One entry of a decisions file.
#[derive(Debug, Deserialize)]
pub struct DecisionEntry {
    /// The action's number.
    pub action: usize,
    /// The decision.
    #[serde(flatten)]
    pub decision: Decision,
}

fn read_decisions(path: &Path) -> Result<Vec<DecisionEntry>, SidiCmdError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    serde_json::from_slice(&bytes).map_err(|e| SidiCmdError::PlanFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// The choices offered for an action waiting for a decision.
fn choices(a: &Action) -> Vec<(&'static str, Decision)> {
    match &a.kind {
        ActionKind::Align { .. } => vec![
            ("accettare i dati SIDI", Decision::AcceptSidi),
            ("mantenere i dati locali e segnalare", Decision::KeepAndFlag),
        ],
        ActionKind::LocalOnly { .. } => vec![
            ("tenere come solo locale", Decision::KeepLocalOnly),
            ("segnare «Elemento SIDI: NO»", Decision::MarkNotForSidi),
        ],
        ActionKind::Duplicate { local_ids, .. } => {
            let mut v: Vec<(&'static str, Decision)> = local_ids
                .iter()
                .map(|id| ("unire nel record", Decision::Merge { keep: id.clone() }))
                .collect();
            v.push(("tenere separati e segnalare", Decision::KeepAndFlag));
            v
        }
        _ => Vec::new(),
    }
}

/// Asks each pending decision on the terminal; an empty answer leaves the
/// action pending, `q` stops asking.
fn prompt_decisions(plan: &mut Plan, show: bool) -> Result<(), SidiCmdError> {
    let stdin = io::stdin();
    let mut lines = stdin.lock().lines();
    let pending = plan.pending();
    let total = pending.len();
    for (n, id) in pending.into_iter().enumerate() {
        let Some(action) = plan.action(id).cloned() else {
            continue;
        };
        println!("\n({}/{total}) {}", n + 1, action_text_it(&action, show));
        let options = choices(&action);
        for (i, (label, d)) in options.iter().enumerate() {
            match d {
                Decision::Merge { keep } => println!("  {}) {label} {keep}", i + 1),
                _ => println!("  {}) {label}", i + 1),
            }
        }
        print!("Scelta (invio = rimandare, q = fine): ");
        io::stdout().flush().map_err(io_err(Path::new("stdout")))?;
        let Some(line) = lines.next() else { break };
        let line = line.map_err(io_err(Path::new("stdin")))?;
        let answer = line.trim();
        if answer.eq_ignore_ascii_case("q") {
            break;
        }
        if let Some(d) = answer
            .parse::<usize>()
            .ok()
            .and_then(|k| k.checked_sub(1))
            .and_then(|k| options.get(k))
        {
            plan.decide(id, d.1.clone())?;
        }
    }
    Ok(())
}

fn print_report(report: &sidi::ApplyReport) {
    println!(
        "Allineamento eseguito: {} azioni applicate, {} record scritti, {} record uniti e rimossi, {} codici aggiornati.",
        report.applied, report.records_written, report.records_removed, report.codes_written
    );
    if !report.stale.is_empty() {
        println!(
            "{} azioni non più applicabili (record locali cambiati): ripetere il confronto.",
            report.stale.len()
        );
    }
    if !report.pending.is_empty() {
        println!(
            "{} azioni attendono una decisione (n. {}): `anist sidi sync --guided`.",
            report.pending.len(),
            report
                .pending
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

fn run_inner(cmd: SidiCommand) -> Result<ExitCode, SidiCmdError> {
    match cmd {
        SidiCommand::Diff {
            db,
            sidi: file,
            json,
            csv,
            out,
            in_chiaro,
        } => {
            let plan = diff_reporting(&db, &file)?;
            if let Some(path) = &csv {
                let f = create_private(path)?;
                write_plan_csv(&plan, io::BufWriter::new(f)).map_err(|e| SidiCmdError::Io {
                    path: path.display().to_string(),
                    source: io::Error::other(e.to_string()),
                })?;
                eprintln!("scritto {}", path.display());
            }
            if let Some(path) = &out {
                write_json_file(path, &plan)?;
                eprintln!("piano salvato in {}", path.display());
            }
            if json {
                let text = serde_json::to_string_pretty(&plan).map_err(|e| SidiCmdError::Io {
                    path: "stdout".into(),
                    source: io::Error::other(e),
                })?;
                println!("{text}");
            } else {
                print!("{}", plan_text_it(&plan, in_chiaro));
            }
            Ok(ExitCode::SUCCESS)
        }
        SidiCommand::Sync {
            db,
            sidi: file,
            plan: plan_file,
            auto,
            guided,
            decisions,
            in_chiaro,
        } => {
            let mut plan = match (&file, &plan_file) {
                (Some(f), _) => diff_reporting(&db, f)?,
                (None, Some(p)) => read_plan(p)?,
                (None, None) => {
                    return Err(SidiCmdError::Usage("--sidi o --plan".to_owned()));
                }
            };
            if guided && !auto {
                match &decisions {
                    Some(path) => {
                        for d in read_decisions(path)? {
                            plan.decide(d.action, d.decision)?;
                        }
                    }
                    None if io::stdin().is_terminal() => prompt_decisions(&mut plan, in_chiaro)?,
                    None => {
                        return Err(SidiCmdError::Usage(
                            "--guided senza terminale: indicare le decisioni con --decisions FILE"
                                .to_owned(),
                        ))
                    }
                }
            }
            let mut store = open_existing(&db)?;
            let report = apply_plan(&mut store, &plan)?;
            print_report(&report);
            Ok(if report.pending.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_PENDING)
            })
        }
        SidiCommand::Locks { db, json } => {
            let store = open_existing(&db)?;
            let school = store.load()?;
            let locks = school.locks();
            if json {
                let v: Vec<_> = locks
                    .iter()
                    .map(|(e, id, f, s)| {
                        serde_json::json!({"entity": e, "id": id, "field": f, "sync_id": s})
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(v));
            } else {
                let mut per: std::collections::BTreeMap<(Entity, &str), Vec<&str>> =
                    std::collections::BTreeMap::new();
                for (e, id, f, _) in &locks {
                    per.entry((*e, id)).or_default().push(f.as_str());
                }
                println!(
                    "{} campi bloccati (gestiti su SIDI) in {} record:",
                    locks.len(),
                    per.len()
                );
                for ((e, id), fields) in per {
                    println!("  {e} {id}: {}", fields.join(", "));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        SidiCommand::Edit {
            db,
            entity,
            id,
            field,
            value,
        } => {
            let entity = Entity::parse(&entity).ok_or_else(|| {
                SidiCmdError::Usage(format!("--entity {entity:?}: sede, classe o alunno"))
            })?;
            let field = SyncField::parse(&field).ok_or_else(|| {
                SidiCmdError::Usage(format!("--field {field:?}: campo sconosciuto"))
            })?;
            let mut store = open_existing(&db)?;
            store.edit(entity, &id, field, &value)?;
            println!("{entity} {id}: {} modificato.", field.label_it());
            Ok(ExitCode::SUCCESS)
        }
        SidiCommand::Demo {
            dir,
            seed,
            alunni,
            anno,
        } => {
            let files = write_demo(&dir, seed, alunni, anno)?;
            let (json, csv, db) = (&files.sidi_json, &files.sidi_csv, &files.db);
            println!(
                "Scuola di prova (sintetica) in {}: {} alunni su SIDI, {} in locale.",
                dir.display(),
                files.sidi_pupils,
                files.local_pupils
            );
            println!("  SIDI: {} e {}", json.display(), csv.display());
            println!("  base dati locale: {}", db.display());
            println!("Provare:");
            println!(
                "  anist sidi diff --db {} --sidi {}",
                db.display(),
                json.display()
            );
            println!(
                "  anist sidi sync --db {} --sidi {} --auto",
                db.display(),
                json.display()
            );
            println!(
                "  anist sidi sync --db {} --sidi {} --guided",
                db.display(),
                json.display()
            );
            println!("  anist sidi locks --db {}", db.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs an `anist sidi` command: exit status 0 done, 4 decisions pending
/// (`sync`), 1 refused (a locked field, a bad file), 2 usage and I/O errors.
pub fn run(cmd: SidiCommand) -> ExitCode {
    match run_inner(cmd) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            match e {
                SidiCmdError::Usage(_) | SidiCmdError::Io { .. } => ExitCode::from(EXIT_USAGE),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let cases = [
            (SidiCmdError::Usage("x".into()), ErrorKind::InvalidArgument),
            (
                io_err(Path::new("x"))(io::Error::other("full")),
                ErrorKind::Local,
            ),
            (
                SidiCmdError::PlanFile {
                    path: "p.json".into(),
                    reason: "not JSON".into(),
                },
                ErrorKind::Sidi,
            ),
            (
                SidiCmdError::Sidi(SidiError::Locked {
                    field: SyncField::Cognome,
                }),
                ErrorKind::SidiLocked,
            ),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{}", e.code());
        }
    }
}
