//! The `anist` command-line tool.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anist::cli::caivano::{CaivanoArgs, Target};
use anist::cli::cf::{check_csv_column, check_lines, CheckOptions};
use anist::cli::csv::{inspect, InspectOptions};
use anist::cli::paths::Platform;
use anist::client::bulk::{JobOutcome, Summary};
use anist::client::config::process_env;
use anist_core::cf::{
    AnyCodiceFiscale, CodiceFiscale, MostRecentNotFuture, PersonData, PlaceFinding, PlacePart, Sex,
};
use anist_core::school::SchoolYear;
use anist_core::ErrorCode;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};

mod frequenza_cli;
mod isee_cli;

/// Exit status for usage and I/O errors (clap uses 2 for usage errors too).
const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "anist",
    version,
    about = "Italian school, welfare and population registries over PDND"
)]
struct Cli {
    /// Log why calls and token requests fail on standard error (-v info,
    /// -vv debug, -vvv trace; RUST_LOG=anist::call=debug refines it). Log
    /// lines never carry a full codice fiscale, a name, a key or a token.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Codici fiscali: check, decode, encode.
    #[command(subcommand)]
    Cf(CfCommand),
    /// CSV files: inspect.
    #[command(subcommand)]
    Csv(CsvCommand),
    /// RSA keys for PDND: create, show the public key and kid.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The configuration file (anist.toml): check it offline.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// The school-attendance check of resident minors (art. 12 DL 123/2023):
    /// every row of a municipal CSV gets its outcome from ANIST.
    ///
    /// Calls go to an in-process sandbox unless --config names a
    /// configuration file. The job is journaled (<out>.journal): after a
    /// crash, a kill or an exhausted quota, run the same command with
    /// --resume. A job that ends with every row answered removes its
    /// journal (--keep-journal keeps it). Exit status: 0 done, 4 done with
    /// error rows (those failed for a transient reason are asked again by
    /// --resume), 3 paused (quota: resume later), 1 the job could not run,
    /// 2 usage errors.
    Caivano(CaivanoCli),
    /// Start a sandbox, run `caivano` on the bundled synthetic sample (5,000
    /// residents, Windows-1252) and print the summary. Writes into
    /// ./anist-demo/ (on Windows %APPDATA%\anist\demo\; or --dir).
    Demo {
        /// Where to write the sample, the output, the journal and the audit
        /// trail [default: anist-demo; on Windows %APPDATA%\anist\demo].
        #[arg(long)]
        dir: Option<PathBuf>,
        /// School year checked (default: the current one).
        #[arg(long, value_name = "YYYY/YYYY")]
        school_year: Option<SchoolYear>,
        /// Print the summary as JSON on standard output.
        #[arg(long)]
        json: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// INPS ISEE: one lookup (indicatore, attestazione) or a resumable batch
    /// over a CSV of applications. Calls go to an in-process sandbox unless
    /// --config names a configuration file.
    #[command(subcommand)]
    Isee(isee_cli::IseeCommand),
    /// ANPR: one lookup by codice fiscale or ID ANPR over PDND (cerca: C030
    /// → ID ANPR → generalità, residenza or famiglia), a CSV through the
    /// massive e-services (massiva), a search by identity document through
    /// the Comune's SOAP channel (documento). Calls go to an in-process
    /// sandbox unless --config names a configuration file; every lookup is
    /// audited.
    #[command(subcommand)]
    Anpr(anist::cli::anpr::AnprCommand),
    /// SIDI synchronisation of a school's local database: compare (diff),
    /// align automatically or guided (sync), list the locked fields (locks);
    /// `anist sidi demo` writes a sandbox school to try it.
    #[command(subcommand)]
    Sidi(anist::cli::sidi::SidiCommand),
    /// ANPR rivestizione (notice 002): users by role (TOP, ADMIN,
    /// STANDARD) and profile, requests by codice fiscale, ID ANPR or
    /// document, approval (explicit or silent assent), the worker, status,
    /// download, reports; every action audited. `anist rivestizione demo`
    /// runs a day of a Comune on the sandbox.
    #[command(subcommand)]
    Rivestizione(anist::cli::rivestizione::RivestizioneCommand),
    /// ANIST Portale Enti lookups: verifica, accertamento, stato (last
    /// status, current or previous school year), by codice fiscale or ID
    /// ANPR, single (--cf / --id-anpr) or massive (--input FILE --out
    /// FILE). Calls go to an in-process sandbox unless --config names a
    /// configuration file; every lookup is audited. Exit status: 0, 1 a
    /// call failed (massive: some rows are `error`), 2 usage errors.
    #[command(subcommand)]
    Frequenza(frequenza_cli::FrequenzaCommand),
    /// The Piemonte 0–3 survey (form SERVIZI 03): import the services and
    /// the attendance registers, declare, compute, check, send inside the
    /// window, follow the state, export; `demo` shows the whole life cycle.
    #[command(subcommand)]
    Infanzia(anist::cli::infanzia::InfanziaCommand),
    /// The audit trail of the calls made: verify the hash chain, export.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Work on the shared jobs of the configuration's `[database]`
    /// (PostgreSQL or a SQLite file): claims questions in batches with
    /// leases, asks them within the ente's shared budget (`[limits]`), and
    /// writes the output of each job it completes. Start as many as wanted,
    /// on any host. Jobs are submitted with `anist caivano --config F
    /// --detach`.
    Worker {
        /// The configuration file (its `[database]`, `[limits]` and e-services).
        #[arg(long)]
        config: PathBuf,
        /// Stop when no job is left (by default wait for new ones).
        #[arg(long)]
        once: bool,
        /// Single calls in flight (default: `[limits]` concurrency, else 16).
        #[arg(long)]
        concurrency: Option<usize>,
        /// The worker's name in the leases (default: the host name); the
        /// process id is appended.
        #[arg(long)]
        name: Option<String>,
        /// Print what the worker did as JSON on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Where the shared jobs of the configuration's `[database]` stand, from
    /// any host; `--cancel N` cancels a running job.
    Jobs {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
        /// One job (default: all).
        #[arg(long, conflicts_with = "cancel")]
        id: Option<i64>,
        /// Cancel this running job (a wrong file, a job no longer wanted):
        /// its codes are removed from the database at once, no worker asks
        /// anything more of it and no output is written; recorded in the
        /// audit trail.
        #[arg(long, alias = "annulla", value_name = "ID")]
        cancel: Option<i64>,
        /// JSON on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Start the local sandbox (PDND, GovWay-like front, ANIST e-services)
    /// on 127.0.0.1 and write a configuration that uses it; runs until Ctrl-C.
    Sandbox {
        /// Port (0: any free port).
        #[arg(long, default_value_t = 48080)]
        port: u16,
        /// Directory for the client key and anist.toml [default:
        /// anist-sandbox; on Windows %APPDATA%\anist\sandbox].
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Seed of the synthetic population and the ids.
        #[arg(long, default_value_t = anist::cli::caivano::DEFAULT_SANDBOX_SEED)]
        seed: u64,
    },
}

#[derive(clap::Args)]
struct CaivanoCli {
    /// The municipal CSV (any encoding and delimiter the tolerant reader knows).
    #[arg(long)]
    input: PathBuf,
    /// School year checked (default: the current one).
    #[arg(long, value_name = "YYYY/YYYY")]
    school_year: Option<SchoolYear>,
    /// The output CSV (one row per input row, Excel-friendly).
    #[arg(long)]
    out: PathBuf,
    /// The codice fiscale column (header name or alias; found by alias if omitted).
    #[arg(long)]
    column: Option<String>,
    /// The configuration file: call PDND and the real e-services.
    #[arg(long, conflicts_with_all = ["sandbox", "seed"])]
    config: Option<PathBuf>,
    /// Call an in-process sandbox (the default without --config).
    #[arg(long)]
    sandbox: bool,
    /// Seed of the sandbox.
    #[arg(long)]
    seed: Option<u64>,
    /// The journal (default: <out>.journal).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// The audit database (default: anist-audit.sqlite beside the output).
    #[arg(long)]
    audit: Option<PathBuf>,
    /// Continue the job of an existing journal (rows that failed for a
    /// transient reason are asked again).
    #[arg(long)]
    resume: bool,
    /// Keep the journal when the job ends with every row answered (by
    /// default it is removed: it holds the codes asked).
    #[arg(long)]
    keep_journal: bool,
    /// Single calls in flight.
    #[arg(long)]
    concurrency: Option<usize>,
    /// Never use the massive services (single calls only).
    #[arg(long)]
    no_massive: bool,
    /// Print the summary as JSON on standard output.
    #[arg(long)]
    json: bool,
    /// No progress and no summary on standard error.
    #[arg(long, short)]
    quiet: bool,
    /// Progress display: a bar on a terminal (auto), a line per report (lines), none.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    progress: ProgressMode,
    /// Submit the job to the shared database of --config (`[database]`) and
    /// return at once with its number: `anist worker` processes ask it,
    /// `anist jobs` follows it from any host.
    #[arg(long, requires = "config", conflicts_with_all = ["resume", "journal", "audit", "keep_journal", "no_massive", "concurrency"])]
    detach: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProgressMode {
    Auto,
    Bar,
    Lines,
    None,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check that no row was edited, inserted or deleted. Exit status: 0
    /// intact, 1 tampered (the first row concerned is named), 2 unreadable.
    Verify {
        /// The audit database.
        #[arg(long, default_value = "anist-audit.sqlite")]
        db: PathBuf,
        /// Verify the shared trail of this configuration's `[database]`
        /// instead.
        #[arg(long, conflicts_with = "db")]
        config: Option<PathBuf>,
    },
    /// Write the rows of a time range as CSV (subjects are keyed hashes, never codes).
    Export {
        /// The audit database.
        #[arg(long, default_value = "anist-audit.sqlite")]
        db: PathBuf,
        /// From this instant or date (RFC 3339 or YYYY-MM-DD), inclusive.
        #[arg(long)]
        from: Option<String>,
        /// Up to this instant or date, inclusive.
        #[arg(long)]
        to: Option<String>,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check the configuration offline: ids, URLs, audiences, keys, operator,
    /// services, and the pre-flight diagnosis of a client assertion signed
    /// with the configured key for each purpose. Nothing is sent.
    ///
    /// Prints one `ok`/`warn`/`fail` line per check with its rule and fix.
    /// Exit status: 0 if every check passes, 1 if one fails, 2 on usage
    /// errors or an unreadable file.
    Check {
        /// The configuration file (default: $ANIST_CONFIG, else ./anist.toml;
        /// on Windows, without one there, %APPDATA%\anist\anist.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// The environment variable holding the password of an encrypted key.
const KEY_PASSWORD_ENV: &str = "ANIST_KEY_PASSWORD";

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key pair: the private key goes to --out (mode 0600, never
    /// overwritten); the public key PEM to upload to PDND and its kid are printed.
    New {
        /// Modulus size: 2048, 3072 or 4096.
        #[arg(long, default_value_t = 2048)]
        bits: usize,
        /// Where to write the private key (PEM PKCS#8).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key PEM and the kid of a private key (PEM, DER or JWK;
    /// the password of an encrypted key is read from ANIST_KEY_PASSWORD).
    Show {
        /// The private key file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum CsvCommand {
    /// Describe a CSV file: encoding, delimiter, header mapping, rows, bad
    /// rows, invalid codici fiscali and birth dates by error code.
    ///
    /// Prints counts, header names and error codes only, never a field value.
    /// Exit status: 0, or 2 on usage or I/O errors (or a file that cannot be
    /// read as CSV at all: empty, UTF-16).
    Inspect {
        /// The CSV file; `-` reads standard input.
        file: PathBuf,
        /// Check the codici fiscali of this column (header name or alias)
        /// instead of the one mapped to codice_fiscale.
        #[arg(long)]
        column: Option<String>,
    },
}

#[derive(Subcommand)]
enum CfCommand {
    /// Validate codes (one per line, or a CSV column) and write a CSV report to stdout.
    ///
    /// On standard output the report is plain CSV (`,`, ISO dates) for
    /// scripts and pipes; --out FILE writes it for Italian Excel (BOM, `;`,
    /// dd/mm/yyyy), readable by its owner only.
    ///
    /// Exit status: 0 if every code is valid, 1 if any is invalid, 2 on usage or I/O errors.
    Check {
        /// Input file; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        /// Write the report to this file, for Excel (mode 0600), instead of
        /// standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Read this column of a CSV file with a header (delimiter sniffed) instead of one code per line.
        #[arg(long)]
        column: Option<String>,
        /// Reference date for the century of two-digit birth years (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
        /// Do not print the summary line on standard error.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Decode one code: sex, birth date, place, omocodia.
    Decode {
        /// The codice fiscale (16 characters or 11 digits).
        code: String,
        /// Reference date for the century of the birth year (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<NaiveDate>,
        /// Print the canonical (de-omocoded) code in full; by default it is
        /// masked like in logs (`RSSMRA**A01H501*`).
        #[arg(long)]
        show_canonical: bool,
    },
    /// Build the code of a person.
    Encode {
        /// Surname(s).
        #[arg(long)]
        surname: String,
        /// Given name(s).
        #[arg(long)]
        name: String,
        /// Date of birth.
        #[arg(long, value_name = "YYYY-MM-DD")]
        born: NaiveDate,
        /// M or F.
        #[arg(long)]
        sex: Sex,
        /// Belfiore code (H501) or place name ("Roma", "Calliano (AT)", "Francia").
        #[arg(long)]
        place: String,
        /// Omocodia level 0-7.
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=7))]
        omocodia: u8,
    },
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    anist::cli::logging::init(cli.verbose);
    match cli.command {
        Command::Cf(cmd) => run_cf(cmd),
        Command::Csv(cmd) => run_csv(cmd),
        Command::Keys(cmd) => run_keys(cmd),
        Command::Config(ConfigCommand::Check { config }) => config_check(config),
        Command::Caivano(cmd) => run_caivano(cmd),
        Command::Demo {
            dir,
            school_year,
            json,
            quiet,
        } => run_demo(
            &dir.unwrap_or_else(|| anist::cli::paths::demo_dir(Platform::CURRENT, &process_env)),
            school_year,
            json,
            quiet,
        ),
        Command::Isee(cmd) => isee_cli::run(cmd),
        Command::Anpr(cmd) => anist::cli::anpr::run(cmd),
        Command::Sidi(cmd) => anist::cli::sidi::run(cmd),
        Command::Rivestizione(cmd) => anist::cli::rivestizione::run(cmd),
        Command::Frequenza(cmd) => frequenza_cli::run(cmd),
        Command::Infanzia(cmd) => anist::cli::infanzia::run(cmd),
        Command::Audit(AuditCommand::Verify {
            config: Some(config),
            ..
        }) => verify_shared_audit(&config),
        Command::Audit(cmd) => run_audit(cmd),
        Command::Worker {
            config,
            once,
            concurrency,
            name,
            json,
        } => run_worker(
            &anist::cli::shared::WorkerArgs {
                config,
                once,
                concurrency,
                name,
            },
            json,
        ),
        Command::Jobs {
            config,
            cancel: Some(job),
            json,
            ..
        } => cancel_job(&config, job, json),
        Command::Jobs {
            config, id, json, ..
        } => run_jobs(&config, id, json),
        Command::Sandbox { port, dir, seed } => run_sandbox(
            port,
            &dir.unwrap_or_else(|| anist::cli::paths::sandbox_dir(Platform::CURRENT, &process_env)),
            seed,
        ),
    }
}

/// Exit status of a job paused by an exhausted quota.
const EXIT_PAUSED: u8 = 3;
/// Exit status of a job that finished with error rows (no answer): those
/// that failed for a transient reason are asked again with --resume.
const EXIT_ERROR_ROWS: u8 = 4;

/// A number of seconds the Italian way (`3,2`).
fn seconds_it(s: f64) -> String {
    format!("{s:.1}").replace('.', ",")
}

/// What a finished job says about its error rows, and its exit status.
fn finished(error_rows: u64, retry_rows: u64, journal: &std::path::Path) -> ExitCode {
    if error_rows == 0 {
        return ExitCode::SUCCESS;
    }
    if retry_rows > 0 {
        eprintln!(
            "attenzione [bulk_error_rows]: {error_rows} righe senza risposta, {retry_rows} per un errore temporaneo (rete, tempo scaduto, errore 5xx, token rifiutato): il giornale {} è conservato; ripeti lo stesso comando con --resume per chiederle di nuovo",
            journal.display()
        );
    } else {
        eprintln!(
            "attenzione [bulk_error_rows]: {error_rows} righe senza risposta: vedi la colonna motivo"
        );
    }
    ExitCode::from(EXIT_ERROR_ROWS)
}

fn run_caivano(cmd: CaivanoCli) -> ExitCode {
    if cmd.detach {
        let Some(config) = &cmd.config else {
            return ExitCode::from(EXIT_USAGE);
        };
        let year = cmd
            .school_year
            .unwrap_or_else(|| SchoolYear::containing(today()));
        return match anist::cli::shared::submit(config, &cmd.input, &cmd.out, year, cmd.column) {
            Ok(id) => {
                if cmd.json {
                    println!("{{\"job\": {id}}}");
                } else {
                    println!("{id}");
                }
                if !cmd.quiet {
                    eprintln!(
                        "lavoro {id} inviato al database condiviso: lo eseguono i processi `anist worker --config {}`; `anist jobs --config {} --id {id}` dice a che punto è",
                        config.display(),
                        config.display()
                    );
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("errore [{}]: {e}", e.code());
                ExitCode::from(EXIT_USAGE)
            }
        };
    }
    let target = match cmd.config {
        Some(path) => Target::Config(path),
        None => Target::Sandbox {
            seed: cmd
                .seed
                .unwrap_or(anist::cli::caivano::DEFAULT_SANDBOX_SEED),
        },
    };
    let args = CaivanoArgs {
        input: cmd.input,
        output: cmd.out,
        school_year: cmd
            .school_year
            .unwrap_or_else(|| SchoolYear::containing(today())),
        column: cmd.column,
        journal: cmd.journal,
        audit: cmd.audit,
        resume: cmd.resume,
        target,
        concurrency: cmd.concurrency,
        no_massive: cmd.no_massive,
        keep_journal: cmd.keep_journal,
    };
    let mode = if cmd.quiet {
        ProgressMode::None
    } else {
        cmd.progress
    };
    job(&args, mode, cmd.json, cmd.quiet)
}

fn run_demo(
    dir: &std::path::Path,
    school_year: Option<SchoolYear>,
    json: bool,
    quiet: bool,
) -> ExitCode {
    let year = school_year.unwrap_or_else(|| SchoolYear::containing(today()));
    let args = CaivanoArgs {
        input: dir.join("anagrafe.csv"),
        output: dir.join("esiti.csv"),
        school_year: year,
        column: None,
        journal: None,
        audit: Some(dir.join("anist-audit.sqlite")),
        resume: false,
        target: Target::Sandbox {
            seed: anist::cli::caivano::DEFAULT_SANDBOX_SEED,
        },
        concurrency: None,
        no_massive: false,
        keep_journal: false,
    };
    // A demo starts afresh every time: no journal (nor its SQLite side files).
    let journal = args.journal_path().into_os_string();
    let prepared = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&args.input, anist::cli::caivano::DEMO_SAMPLE))
        .and_then(|()| {
            for suffix in ["", "-wal", "-shm"] {
                let mut stale = journal.clone();
                stale.push(suffix);
                match std::fs::remove_file(stale) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            Ok(())
        });
    if let Err(e) = prepared {
        eprintln!(
            "errore [demo_dir]: {} could not be prepared: {e}",
            dir.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    if !quiet {
        eprintln!(
            "anist demo: sandbox on 127.0.0.1, {} synthetic residents, school year {year}",
            anist::cli::caivano::DEMO_ROWS
        );
    }
    let mode = if quiet {
        ProgressMode::None
    } else {
        ProgressMode::Auto
    };
    job(&args, mode, json, false)
}

fn job(args: &CaivanoArgs, mode: ProgressMode, json: bool, quiet: bool) -> ExitCode {
    let bar = progress_bar(mode);
    let lines = mode == ProgressMode::Lines;
    let outcome = anist::cli::caivano::run(args, |p| {
        if let Some(b) = &bar {
            b.set_length(p.rows_total);
            b.set_position(p.rows_done);
            b.set_message(format!(
                "{:.0} righe/s  da verificare {}  fine tra {}",
                p.rate,
                p.outcomes.to_be_checked,
                p.eta
                    .map_or_else(|| "-".to_string(), |d| format!("{}s", d.as_secs())),
            ));
        } else if lines {
            eprintln!(
                "progress: {}/{} rows, {:.0} rows/s",
                p.rows_done, p.rows_total, p.rate
            );
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match outcome {
        Ok(JobOutcome::Completed(summary)) => {
            report(&summary, json, quiet);
            if !quiet {
                eprintln!("esiti scritti in {}", args.output.display());
            }
            finished(
                summary.outcomes.error,
                summary.retry_rows,
                &args.journal_path(),
            )
        }
        Ok(JobOutcome::Paused {
            reason,
            code,
            summary,
        }) => {
            report(&summary, json, quiet);
            eprintln!(
                "in pausa [{code}]: {reason}; le risposte già avute sono conservate in {}: ripeti lo stesso comando con --resume più tardi",
                args.journal_path().display()
            );
            ExitCode::from(EXIT_PAUSED)
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

/// The progress bar of a job, when `mode` asks for one (`auto`: when
/// standard error is a terminal).
fn progress_bar(mode: ProgressMode) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    let on = match mode {
        ProgressMode::Bar => true,
        ProgressMode::Auto => io::stderr().is_terminal(),
        ProgressMode::Lines | ProgressMode::None => false,
    };
    on.then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    })
}

/// Prints a job's summary as JSON on standard output.
fn print_json(summary: &impl serde::Serialize) {
    match serde_json::to_string_pretty(summary) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("errore [summary_json]: {e}"),
    }
}

fn report(summary: &Summary, json: bool, quiet: bool) {
    if json {
        print_json(summary);
        return;
    }
    if quiet {
        return;
    }
    let o = &summary.outcomes;
    eprintln!(
        "{} righe ({} codici distinti) in {} s",
        summary.rows_total,
        summary.distinct_codes,
        seconds_it(summary.duration_seconds)
    );
    for (label, n, what, code) in [
        ("in regola", o.compliant, "frequenta la scuola", "compliant"),
        (
            "da verificare",
            o.to_be_checked,
            "per ANIST non frequenta: da approfondire",
            "to_be_checked",
        ),
        (
            "non presente in ANIST",
            o.not_in_anist,
            "sconosciuto ad ANIST",
            "not_in_anist",
        ),
        (
            "non soggetto all'obbligo",
            o.not_obliged,
            "fuori dall'obbligo scolastico nell'anno",
            "not_obliged",
        ),
        (
            "codice non valido",
            o.invalid_code,
            "codice fiscale non valido: mai inviato",
            "invalid_code",
        ),
        (
            "errore",
            o.error,
            "nessuna risposta: vedi la colonna motivo",
            "error",
        ),
    ] {
        eprintln!("  {label:<24} {n:>7}  {what:<42} [{code}]");
    }
    let c = &summary.calls;
    eprintln!(
        "chiamate: {} verifiche, {} accertamenti, {} lavori massivi ({} controlli di stato); {} ripetute",
        c.verify, c.ascertain, c.massive_submit, c.massive_poll, summary.retries
    );
}

fn run_worker(args: &anist::cli::shared::WorkerArgs, json: bool) -> ExitCode {
    match anist::cli::shared::work(args) {
        Ok(report) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                );
            } else {
                eprintln!(
                    "worker: {} righe decise, {} chiamate ({} ripetute), {} domande rimesse in coda dopo un errore temporaneo, esiti scritti: {:?}",
                    report.rows_decided,
                    report.calls,
                    report.retries,
                    report.deferred,
                    report.outputs_written
                );
            }
            match report.paused {
                Some(code) => {
                    eprintln!("attenzione [{code}]: la quota giornaliera dell'ente è esaurita: il lavoro resta nel database; avvia di nuovo i worker quando la quota si rinnova");
                    ExitCode::from(EXIT_PAUSED)
                }
                None => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

fn run_jobs(config: &std::path::Path, id: Option<i64>, json: bool) -> ExitCode {
    match anist::cli::shared::status(config, id) {
        Ok(list) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).unwrap_or_default()
                );
            } else if list.is_empty() {
                println!("nessun lavoro nel database");
            } else {
                for s in &list {
                    println!("{}", anist::cli::shared::render(s));
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn cancel_job(config: &std::path::Path, id: i64, json: bool) -> ExitCode {
    match anist::cli::shared::cancel(config, id) {
        Ok(status) => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&status).unwrap_or_default()
                );
            } else {
                println!("{}", anist::cli::shared::render(&status));
                println!(
                    "i codici del lavoro {id} sono stati cancellati dal database; nessun esito sarà scritto"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn verify_shared_audit(config: &std::path::Path) -> ExitCode {
    use anist::cli::shared::SharedCmdError;
    use anist::client::audit::AuditError;
    match anist::cli::shared::verify_audit(config) {
        Ok(n) => {
            println!("intact: {n} rows, hash chain verified");
            ExitCode::SUCCESS
        }
        Err(SharedCmdError::Audit(e @ AuditError::Tampered(_))) => {
            println!("TAMPERED [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_audit(cmd: AuditCommand) -> ExitCode {
    use anist::client::audit::{AuditError, AuditLog};
    let db = match &cmd {
        AuditCommand::Verify { db, .. } | AuditCommand::Export { db, .. } => db.clone(),
    };
    if !db.exists() {
        eprintln!(
            "errore [audit_missing]: there is no audit database at {}: give its path with --db",
            db.display()
        );
        return ExitCode::from(EXIT_USAGE);
    }
    let log = match AuditLog::open_beside(&db) {
        Ok(log) => log,
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match cmd {
        AuditCommand::Verify { .. } => match log.verify() {
            Ok(n) => {
                println!("intact: {n} rows, hash chain verified");
                ExitCode::SUCCESS
            }
            Err(e @ AuditError::Tampered(_)) => {
                println!("TAMPERED [{}]: {e}", e.code());
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("errore [{}]: {e}", e.code());
                ExitCode::from(EXIT_USAGE)
            }
        },
        AuditCommand::Export { from, to, out, .. } => {
            let result = match &out {
                Some(path) => anist::client::files::create_private(path)
                    .map_err(|e| format!("{} could not be created: {e}", path.display()))
                    .and_then(|f| {
                        log.export_csv(from.as_deref(), to.as_deref(), io::BufWriter::new(f))
                            .map_err(|e| format!("[{}] {e}", e.code()))
                    }),
                None => log
                    .export_csv(from.as_deref(), to.as_deref(), io::stdout().lock())
                    .map_err(|e| format!("[{}] {e}", e.code())),
            };
            match result {
                Ok(n) => {
                    eprintln!("{n} rows exported");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(EXIT_USAGE)
                }
            }
        }
    }
}

fn run_sandbox(port: u16, dir: &std::path::Path, seed: u64) -> ExitCode {
    use anist::cli::sandbox::sandbox_config;
    use anist::client::sandbox::config_file::{config_text, write_config, write_support_files};
    let runtime = match anist_client::blocking::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("errore [sandbox_runtime]: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result: Result<(), anist::cli::sandbox::SandboxCmdError> = runtime.block_on(async {
        let handle = anist::client::sandbox::Sandbox::start(sandbox_config(dir, seed, port)?).await?;
        write_support_files(dir, &handle)?;
        let text = config_text(&handle, "`anist sandbox`")?;
        let path = write_config(dir, &text)?;
        // The path, not the text: the file holds the operator's codice
        // fiscale (synthetic, but nothing here prints a full code).
        println!("{}", path.display());
        eprintln!(
            "sandbox listening on {}; configuration written to {}\ntry: anist caivano --config {} --input FILE --out esiti.csv\n     anist isee indicatore --config {} --cf CODICE_FISCALE\nCtrl-C stops it.",
            handle.base_url(),
            path.display(),
            path.display(),
            path.display()
        );
        let _ = tokio::signal::ctrl_c().await;
        handle.shutdown().await;
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

fn config_check(config: Option<PathBuf>) -> ExitCode {
    use anist::cli::config::{check_file, config_path, exit_code, render};
    use anist::client::clock::{Clock, SystemClock};
    let path = config_path(config, &process_env);
    match check_file(&path, &process_env, SystemClock.now()) {
        Ok(report) => {
            print!("{}", render(&path, &report));
            ExitCode::from(exit_code(&report))
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_keys(cmd: KeysCommand) -> ExitCode {
    let result = match cmd {
        KeysCommand::New { bits, out } => {
            anist::cli::keys::generate_key_file(&out, bits).inspect(|_| {
                eprintln!("private key written to {} (keep it secret)", out.display());
            })
        }
        KeysCommand::Show { file } => {
            let password = std::env::var_os(KEY_PASSWORD_ENV).map(|p| p.into_encoded_bytes());
            anist::cli::keys::describe_key_file(&file, password.as_deref())
        }
    };
    match result {
        Ok(s) => {
            println!("kid:  {}", s.kid);
            println!("bits: {}", s.bits);
            print!("{}", s.public_pem);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_csv(cmd: CsvCommand) -> ExitCode {
    match cmd {
        CsvCommand::Inspect { file, column } => csv_inspect(file, column),
    }
}

fn csv_inspect(file: PathBuf, column: Option<String>) -> ExitCode {
    let input = match open_input(Some(file)) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut opts = InspectOptions::new();
    opts.column = column;
    match inspect(input, &opts) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            if e.code() == "csv_missing_column" {
                eprintln!("run `anist csv inspect FILE` without --column to see the columns");
            }
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run_cf(cmd: CfCommand) -> ExitCode {
    match cmd {
        CfCommand::Check {
            file,
            out,
            column,
            today: reference,
            quiet,
        } => cf_check(file, out, column, reference.unwrap_or_else(today), quiet),
        CfCommand::Decode {
            code,
            today: reference,
            show_canonical,
        } => cf_decode(&code, reference.unwrap_or_else(today), show_canonical),
        CfCommand::Encode {
            surname,
            name,
            born,
            sex,
            place,
            omocodia,
        } => cf_encode(&surname, &name, born, sex, &place, omocodia),
    }
}

fn open_input(file: Option<PathBuf>) -> io::Result<Box<dyn Read>> {
    match file {
        None => Ok(Box::new(io::stdin().lock())),
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(io::stdin().lock())),
        Some(p) => File::open(&p)
            .map(|f| Box::new(f) as Box<dyn Read>)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot open {}: {e}", p.display()))),
    }
}

fn cf_check(
    file: Option<PathBuf>,
    out: Option<PathBuf>,
    column: Option<String>,
    reference: NaiveDate,
    quiet: bool,
) -> ExitCode {
    let input = match open_input(file) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut opts = CheckOptions::new(reference);
    let output: Box<dyn io::Write> = match &out {
        None => Box::new(io::stdout().lock()),
        Some(path) => match anist::client::files::create_private(path) {
            Ok(f) => {
                opts.excel = true;
                Box::new(io::BufWriter::new(f))
            }
            Err(e) => {
                eprintln!("errore [io]: {} non si può creare: {e}", path.display());
                return ExitCode::from(EXIT_USAGE);
            }
        },
    };
    let result = match column {
        Some(col) => check_csv_column(input, output, &col, &opts),
        None => check_lines(input, output, &opts),
    };
    match result {
        Ok(s) => {
            if !quiet {
                eprintln!(
                    "controllati {} codici: {} validi ({} con avvisi), {} non validi",
                    s.valid + s.invalid,
                    s.valid,
                    s.with_warnings,
                    s.invalid
                );
            }
            if s.invalid == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn cf_decode(code: &str, reference: NaiveDate, show_canonical: bool) -> ExitCode {
    let cf = match AnyCodiceFiscale::parse(code) {
        Ok(AnyCodiceFiscale::Persona(cf)) => cf,
        Ok(AnyCodiceFiscale::Numerico(n)) => {
            println!("kind:           {}", n.kind().as_str());
            println!("may be person:  {}", n.kind().may_be_person());
            println!("office:         {:03}", n.office());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("non valido [{}]: {}", e.code(), e.messaggio());
            return ExitCode::from(1);
        }
    };
    let policy = MostRecentNotFuture::new(reference);
    let birth = cf
        .birth_date(&policy)
        .map_or_else(|| String::from("?"), |d| d.to_string());
    let [y1, y2] = cf.possible_birth_years();
    let canonical = cf.canonical();
    if show_canonical {
        println!("canonical:      {canonical}");
    } else {
        println!("canonical:      {}", canonical.masked());
    }
    println!("omocodia level: {}", cf.omocodia_level());
    println!("sex:            {}", cf.sex().as_str());
    println!("birth date:     {birth} (possible years {y1} or {y2})");
    let code = cf.belfiore_code();
    match cf.place_finding(&policy) {
        PlaceFinding::ExistedAtBirth(era) => {
            println!("place:          {code} {} ({})", era.name(), era.province())
        }
        PlaceFinding::OutOfPeriod | PlaceFinding::Undetermined => {
            let name = anist_core::place::latest(code.as_bytes())
                .map_or_else(String::new, |e| format!(" {} ({})", e.name(), e.province()));
            println!("place:          {code}{name}");
            println!("warning:        cf_place_out_of_period: no recorded era of {code} covers the birth date (advisory: the code may still be genuine)");
        }
    }
    ExitCode::SUCCESS
}

fn cf_encode(
    surname: &str,
    name: &str,
    born: NaiveDate,
    sex: Sex,
    place: &str,
    omocodia: u8,
) -> ExitCode {
    let place = if anist_core::cf::BelfioreCode::parse(place).is_some() {
        PlacePart::Code(place)
    } else {
        PlacePart::Name(place)
    };
    match CodiceFiscale::encode(&PersonData {
        surname,
        name,
        birth_date: born,
        sex,
        place,
        omocodia_level: omocodia,
    }) {
        Ok(cf) => {
            println!("{cf}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot encode [{}]: {e}", e.code());
            ExitCode::from(1)
        }
    }
}
