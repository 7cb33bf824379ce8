//! `anist anpr massiva`: the ANPR massive e-services over PDND for a CSV of
//! codici fiscali or ID ANPR ([`anist_client::bulk::anpr_massiva`]): one
//! massive request per kind of identifier, polled until ready, reconciled
//! with what was sent, the omitted identifiers asked again singly; one
//! output row per input row (Italian Excel CSV). Calls go to an in-process
//! sandbox unless `--config` names a configuration file; every identifier
//! is recorded in the audit trail.
//!
//! Resumable: the job is journaled (`--journal`, default `<out>.journal`);
//! running the same command again continues where it stopped (a crash
//! after the submit polls the journaled request, never submits again).
//!
//! Exit status (as `anist caivano`): 0 done, 4 done with error rows, 3
//! paused (ANPR has a request pending, or it is not processed yet: run the
//! same command later), 1 the job could not run, 2 usage errors.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anist_client::anpr::massive::{MassiveClient, ServizioMassivo};
use anist_client::anpr::{AnprClient, OperationIds};
use anist_client::bulk::anpr_massiva::{MassivaJob, MassivaSpec, MassivaSummary};
use anist_client::bulk::JobOutcome;
use anist_client::clock::SystemClock;
use anist_client::config::Config;
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_core::csvio::parse_date_it;
use anist_core::ErrorCode;
use chrono::NaiveDate;

use crate::cli::anpr_common::AnprTarget;
use crate::cli::caivano::DEFAULT_SANDBOX_SEED;

const EXIT_USAGE: u8 = 2;
const EXIT_PAUSED: u8 = 3;
const EXIT_ERROR_ROWS: u8 = 4;

/// `anist anpr massiva`.
#[derive(clap::Args, Debug)]
pub struct MassivaArgs {
    /// The CSV of identifiers (a "Codice fiscale" or "ID ANPR" column, or a
    /// list without header).
    #[arg(long)]
    pub input: PathBuf,
    /// The output CSV (one row per input row).
    #[arg(long)]
    pub out: PathBuf,
    /// The reference of the file (protocollo, fascicolo): mandatory, sent
    /// as motivoRichiesta.
    #[arg(long)]
    pub motivo: String,
    /// What to ask: id-anpr (C030 massivo) or residenza (C020 massivo).
    #[arg(long, default_value = "id-anpr")]
    pub servizio: String,
    /// The column of the identifiers, by header name (default: found by alias).
    #[arg(long)]
    pub column: Option<String>,
    /// The reference date (dd/mm/yyyy; default: today).
    #[arg(long)]
    pub data: Option<String>,
    /// The journal (default: the --out file + ".journal"); the same command with the same
    /// journal resumes the job.
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Seconds between two polls of the massive request (default 5).
    #[arg(long, default_value_t = 5.0)]
    pub poll_seconds: f64,
    /// Polls of one run before it pauses (default 720).
    #[arg(long, default_value_t = 720)]
    pub max_polls: u32,
    /// Keep the journal of a finished job.
    #[arg(long)]
    pub keep_journal: bool,
    /// Print the summary as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    /// Where the calls go, and the audit trail and id store they use.
    #[command(flatten)]
    pub target: AnprTarget,
}

fn journal_of(args: &MassivaArgs) -> PathBuf {
    args.journal.clone().unwrap_or_else(|| {
        let mut p = args.out.as_os_str().to_owned();
        p.push(".journal");
        PathBuf::from(p)
    })
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("errore [anpr_usage]: {msg}");
    ExitCode::from(EXIT_USAGE)
}

fn report(s: &MassivaSummary, json: bool) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
    } else {
        eprintln!(
            "righe {}/{}: trovati {}, non trovati {}, identificativi non validi {}, errori {} (richieste massive {}, interrogazioni {}, richieste singole {}, {:.1} s)",
            s.rows_done,
            s.rows_total,
            s.outcomes.found,
            s.outcomes.not_found,
            s.outcomes.invalid_code,
            s.outcomes.error,
            s.submits,
            s.polls,
            s.singles,
            s.duration_seconds
        );
    }
}

/// Runs `anist anpr massiva`.
pub fn run(args: &MassivaArgs) -> ExitCode {
    let Some(servizio) = ServizioMassivo::parse(args.servizio.trim()) else {
        return usage(&format!(
            "--servizio {:?}: scegli id-anpr o residenza",
            args.servizio
        ));
    };
    if args.motivo.trim().is_empty() {
        return usage(
            "--motivo è obbligatorio: indica il riferimento della pratica (es. \"prot. 123\")",
        );
    }
    if !(args.poll_seconds.is_finite() && args.poll_seconds >= 0.0) {
        return usage("--poll-seconds: un numero di secondi non negativo");
    }
    let data = match &args.data {
        None => chrono::Utc::now().date_naive(),
        Some(d) => match parse_date_it(d) {
            Ok(d) => d,
            Err(_) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => d,
                Err(_) => return usage("--data: una data gg/mm/aaaa"),
            },
        },
    };
    let audit = match args.target.open_audit() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            return ExitCode::FAILURE;
        }
    };
    let ids = match OperationIds::open(&args.target.ids) {
        Ok(i) => Arc::new(i),
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            return ExitCode::FAILURE;
        }
    };
    let mut spec = MassivaSpec::new(
        &args.input,
        &args.out,
        journal_of(args),
        servizio,
        &args.motivo,
        data,
    );
    spec.column = args.column.clone();
    spec.max_polls = args.max_polls;
    spec.options.poll_interval = Duration::from_secs_f64(args.poll_seconds);
    spec.options.keep_journal = args.keep_journal;
    let rt = match anist_client::blocking::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("errore [anpr_runtime]: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<_, (String, &'static str)> = rt.block_on(async {
        let (session, sandbox): (_, Option<SandboxHandle>) = match &args.target.config {
            None => {
                let seed = args.target.seed.unwrap_or(DEFAULT_SANDBOX_SEED);
                let cfg = SandboxConfig::with_default_client(seed)
                    .map_err(|e| (e.to_string(), e.code()))?;
                let h = Sandbox::start(cfg)
                    .await
                    .map_err(|e| (e.to_string(), e.code()))?;
                let s = h.session().map_err(|e| (e.to_string(), e.code()))?;
                (s, Some(h))
            }
            Some(path) => {
                let config = Config::load(path).map_err(|e| (e.to_string(), e.code()))?;
                let s = config
                    .session(Arc::new(SystemClock))
                    .map_err(|e| (e.to_string(), e.code()))?;
                (s, None)
            }
        };
        let session = Arc::new(session);
        let audit = Arc::new(audit);
        let massive = MassiveClient::new(Arc::clone(&session), Arc::clone(&ids));
        let single = AnprClient::new(session, ids).with_audit(Arc::clone(&audit));
        let out = MassivaJob::new(spec)
            .run(&massive, &single, Some(&audit), |_| {})
            .await;
        if let Some(h) = sandbox {
            let requests = h.token_requests();
            h.shutdown().await;
            eprintln!("sandbox: richieste di token {requests}");
        }
        out.map_err(|e| (e.to_string(), e.code()))
    });
    match result {
        Ok(JobOutcome::Completed(s)) => {
            report(&s, args.json);
            eprintln!("esiti scritti in {}", args.out.display());
            if s.outcomes.error > 0 {
                eprintln!(
                    "attenzione [bulk_error_rows]: {} righe senza risposta: vedi la colonna motivo; ripeti lo stesso comando per chiedere di nuovo quelle rimaste in errore",
                    s.outcomes.error
                );
                ExitCode::from(EXIT_ERROR_ROWS)
            } else {
                ExitCode::SUCCESS
            }
        }
        Ok(JobOutcome::Paused {
            reason,
            code,
            summary,
        }) => {
            report(&summary, args.json);
            eprintln!(
                "in pausa [{code}]: {reason}; il lavoro è conservato in {}: ripeti lo stesso comando più tardi",
                journal_of(args).display()
            );
            ExitCode::from(EXIT_PAUSED)
        }
        Err((msg, code)) => {
            eprintln!("errore [{code}]: {msg}");
            ExitCode::FAILURE
        }
    }
}
