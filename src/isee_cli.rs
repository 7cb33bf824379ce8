//! The `anist isee` subcommands: arguments and printing. The work is in
//! `anist::cli::isee`.

use std::path::PathBuf;
use std::process::ExitCode;

use anist::cli::caivano::{Target, DEFAULT_SANDBOX_SEED};
use anist::cli::isee::{self, BatchArgs, IseeCmdError, LookupArgs};
use anist::client::bulk::isee::{esito_it, IseeSummary};
use anist::client::bulk::JobOutcome;
use anist::client::isee::IseeQuery;
use anist_core::csvio::parse_date_it;
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{IseeKind, IseeService, PrestazioneDaErogare, ServiceFamily, StatoDomanda};
use anist_core::ErrorCode;
use chrono::NaiveDate;
use clap::Subcommand;

use super::{
    finished, print_json, progress_bar, seconds_it, today, ProgressMode, EXIT_PAUSED, EXIT_USAGE,
};

#[derive(Subcommand)]
pub(crate) enum IseeCommand {
    /// The ISEE value of a person (the Indicatore services).
    Indicatore(LookupCli),
    /// The whole attestazione: household, every indicator, omissions.
    Attestazione(LookupCli),
    /// A CSV of applications in, one ISEE outcome per row out (journaled,
    /// resumable with --resume; exit status 3 when a quota pauses it).
    Batch(BatchCli),
}

#[derive(clap::Args)]
pub(crate) struct Where {
    /// The configuration file: call PDND and INPS.
    #[arg(long, conflicts_with = "seed")]
    config: Option<PathBuf>,
    /// Seed of the in-process sandbox (the default without --config).
    #[arg(long)]
    seed: Option<u64>,
    /// The e-service: a flavour (residenti, operatori, plain, riscontro,
    /// nucleo-riscontro), or the service's own name as the batch writes it
    /// in its `servizio` column (indicatore_residenti,
    /// attestazione_residenti, indicatore_operatori, attestazione_operatori,
    /// indicatore_riscontro, indicatore_nucleo_riscontro, indicatore,
    /// attestazione).
    #[arg(long, default_value = "residenti")]
    service: String,
    /// TipoIndicatore of the Indicatore services: ordinario, minorenni,
    /// universitario, sociosanitario, dottorato, residenziale.
    #[arg(long, default_value = "ordinario")]
    tipo: String,
    /// The benefit to be granted (PrestazioneDaErogare, e.g. A1.07).
    #[arg(long)]
    prestazione: Option<String>,
}

impl Where {
    fn target(&self) -> Target {
        match &self.config {
            Some(p) => Target::Config(p.clone()),
            None => Target::Sandbox {
                seed: self.seed.unwrap_or(DEFAULT_SANDBOX_SEED),
            },
        }
    }

    /// The e-service `--service` names (see [`isee::parse_service`]).
    fn service(&self, attestazione: bool, kind_fixed: bool) -> Result<IseeService, IseeCmdError> {
        isee::parse_service(&self.service, attestazione, kind_fixed)
    }

    fn prestazione(&self) -> Result<Option<PrestazioneDaErogare>, IseeCmdError> {
        self.prestazione
            .as_deref()
            .map(|p| {
                PrestazioneDaErogare::parse(p)
                    .map_err(|e| IseeCmdError::Usage(format!("--prestazione [{}]: {e}", e.code())))
            })
            .transpose()
    }
}

#[derive(clap::Args)]
pub(crate) struct LookupCli {
    /// The person's codice fiscale (the beneficiary, with --dsu).
    #[arg(long)]
    cf: String,
    /// The DSU protocol (INPS-ISEE-YYYY-NNNNNNNNL-NN): required by the
    /// Riscontro services.
    #[arg(long)]
    dsu: Option<String>,
    /// The date the ISEE must be valid on (default: today).
    #[arg(long)]
    data: Option<String>,
    /// The ente's application number.
    #[arg(long)]
    protocollo_domanda: Option<String>,
    /// The state of the application: da-erogare, erogata.
    #[arg(long)]
    stato: Option<String>,
    /// List the household's codici fiscali and names in clear.
    #[arg(long)]
    show_members: bool,
    /// The audit database every lookup is recorded in (its secret is
    /// <audit>.key).
    #[arg(long, default_value = "anist-audit.sqlite")]
    audit: PathBuf,
    #[command(flatten)]
    at: Where,
}

#[derive(clap::Args)]
pub(crate) struct BatchCli {
    /// The CSV of applications (codice fiscale; optional data_validita,
    /// prestazione, protocollo_domanda, protocollo_dsu, stato_domanda).
    #[arg(long)]
    input: PathBuf,
    /// The output CSV (one row per input row, Excel-friendly).
    #[arg(long)]
    out: PathBuf,
    /// The date the ISEE must be valid on, for rows without one (default: today).
    #[arg(long)]
    data: Option<String>,
    /// Ask the attestazione services (household, omissions) instead of the
    /// indicatore ones.
    #[arg(long)]
    attestazione: bool,
    /// The codice fiscale column (header name or alias).
    #[arg(long)]
    column: Option<String>,
    /// The journal (default: <out>.journal).
    #[arg(long)]
    journal: Option<PathBuf>,
    /// The audit database (default: anist-audit.sqlite beside the output).
    #[arg(long)]
    audit: Option<PathBuf>,
    /// Continue the batch of an existing journal (rows that failed for a
    /// transient reason are asked again).
    #[arg(long)]
    resume: bool,
    /// Keep the journal when the batch ends with every row answered (by
    /// default it is removed: it holds the codes asked).
    #[arg(long)]
    keep_journal: bool,
    /// Calls in flight.
    #[arg(long)]
    concurrency: Option<usize>,
    /// Print the summary as JSON on standard output.
    #[arg(long)]
    json: bool,
    /// No progress and no summary on standard error.
    #[arg(long, short)]
    quiet: bool,
    /// Progress display: a bar on a terminal (auto), a line per report (lines), none.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    progress: ProgressMode,
    #[command(flatten)]
    at: Where,
}

fn parse_date(s: Option<&str>) -> Result<NaiveDate, IseeCmdError> {
    match s {
        None => Ok(today()),
        Some(s) => parse_date_it(s)
            .map_err(|e| IseeCmdError::Usage(format!("--data {s:?} [{}]: {e}", e.code()))),
    }
}

fn lookup_args(cli: &LookupCli, attestazione: bool) -> Result<LookupArgs, IseeCmdError> {
    let service = cli.at.service(attestazione, true)?;
    if service.family() == ServiceFamily::Riscontro && cli.dsu.is_none() {
        return Err(IseeCmdError::Usage(String::from(
            "the Riscontro services check the DSU protocol: add --dsu INPS-ISEE-YYYY-NNNNNNNNL-NN",
        )));
    }
    let cf = isee::parse_cf(&cli.cf)?;
    let mut query = match &cli.dsu {
        Some(dsu) => {
            let dsu = DsuProtocol::parse(dsu)
                .map_err(|e| IseeCmdError::Usage(format!("--dsu [{}]: {e}", e.code())))?;
            IseeQuery::by_dsu(dsu, cf)
        }
        None => IseeQuery::by_cf(cf).valid_on(parse_date(cli.data.as_deref())?),
    };
    query = query.kind(IseeKind::parse(&cli.at.tipo));
    if let Some(p) = cli.at.prestazione()? {
        query = query.prestazione(p);
    }
    if let Some(p) = &cli.protocollo_domanda {
        query = query.protocollo_domanda(p);
    }
    if let Some(s) = &cli.stato {
        let stato = StatoDomanda::parse(&s.replace('-', " ")).ok_or_else(|| {
            IseeCmdError::Usage(format!("--stato {s:?} is not da-erogare or erogata"))
        })?;
        query = query.stato(stato);
    }
    Ok(LookupArgs {
        service,
        query,
        target: cli.at.target(),
        show_members: cli.show_members,
        audit: cli.audit.clone(),
    })
}

fn fail(e: &IseeCmdError) -> ExitCode {
    eprintln!("errore [{}]: {e}", e.code());
    match e {
        IseeCmdError::Usage(_) | IseeCmdError::NoSuchService => ExitCode::from(EXIT_USAGE),
        _ => ExitCode::FAILURE,
    }
}

pub(crate) fn run(cmd: IseeCommand) -> ExitCode {
    match cmd {
        IseeCommand::Indicatore(cli) => run_lookup(&cli, false),
        IseeCommand::Attestazione(cli) => run_lookup(&cli, true),
        IseeCommand::Batch(cli) => run_batch(cli),
    }
}

fn run_lookup(cli: &LookupCli, attestazione: bool) -> ExitCode {
    match lookup_args(cli, attestazione).and_then(|a| isee::lookup(&a)) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn batch_args(cli: &BatchCli) -> Result<BatchArgs, IseeCmdError> {
    Ok(BatchArgs {
        input: cli.input.clone(),
        output: cli.out.clone(),
        service: cli.at.service(cli.attestazione, cli.attestazione)?,
        valid_on: parse_date(cli.data.as_deref())?,
        prestazione: cli.at.prestazione()?,
        kind: IseeKind::parse(&cli.at.tipo),
        column: cli.column.clone(),
        journal: cli.journal.clone(),
        audit: cli.audit.clone(),
        resume: cli.resume,
        target: cli.at.target(),
        concurrency: cli.concurrency,
        keep_journal: cli.keep_journal,
    })
}

fn run_batch(cli: BatchCli) -> ExitCode {
    let args = match batch_args(&cli) {
        Ok(a) => a,
        Err(e) => return fail(&e),
    };
    let mode = if cli.quiet {
        ProgressMode::None
    } else {
        cli.progress
    };
    let bar = progress_bar(mode);
    let outcome = isee::run_batch(&args, |p| {
        if let Some(b) = &bar {
            b.set_length(p.rows_total);
            b.set_position(p.rows_done);
            b.set_message(format!("{:.0} rows/s  found {}", p.rate, p.outcomes.found));
        } else if mode == ProgressMode::Lines {
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
        Ok(JobOutcome::Completed(s)) => {
            report(&s, cli.json, cli.quiet);
            if !cli.quiet {
                eprintln!("esiti scritti in {}", args.output.display());
            }
            finished(s.outcomes.error, s.retry_rows, &args.journal_path())
        }
        Ok(JobOutcome::Paused {
            reason,
            code,
            summary,
        }) => {
            report(&summary, cli.json, cli.quiet);
            eprintln!(
                "in pausa [{code}]: {reason}; le risposte già avute sono conservate in {}: ripeti lo stesso comando con --resume più tardi",
                args.journal_path().display()
            );
            ExitCode::from(EXIT_PAUSED)
        }
        Err(e) => fail(&e),
    }
}

fn report(s: &IseeSummary, json: bool, quiet: bool) {
    if json {
        print_json(s);
        return;
    }
    if quiet {
        return;
    }
    let o = &s.outcomes;
    eprintln!(
        "{} righe ({} domande distinte) in {} s",
        s.rows_total,
        s.distinct_questions,
        seconds_it(s.duration_seconds)
    );
    // The labels are the `esito` words of the output CSV.
    for (code, n, what) in [
        ("found", o.found, "INPS ha risposto con l'ISEE"),
        ("no_isee", o.no_isee, "INPS non ha un'ISEE per la domanda"),
        (
            "refused",
            o.refused,
            "INPS ha rifiutato la domanda: vedi motivo",
        ),
        (
            "invalid_input",
            o.invalid_input,
            "dati della riga errati: mai inviata",
        ),
        ("error", o.error, "nessuna risposta: vedi la colonna motivo"),
    ] {
        let label = esito_it(code);
        eprintln!("  {label:<17} {n:>7}  {what:<42} [{code}]");
    }
    eprintln!("chiamate: {}; {} ripetute", s.calls, s.retries);
}
