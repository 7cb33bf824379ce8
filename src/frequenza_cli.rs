//! The `anist frequenza` subcommands (the Portale Enti lookups of ANIST):
//! arguments and printing. The work is in `anist::cli::frequenza`.

use std::path::PathBuf;
use std::process::ExitCode;

use anist::cli::caivano::{Target, DEFAULT_SANDBOX_SEED};
use anist::cli::frequenza::{self, FrequenzaArgs, FrequenzaError, Service};
use anist_core::meccanografico::CodiceMeccanografico;
use anist_core::school::SchoolYear;
use anist_core::ErrorCode;
use clap::Subcommand;

use super::{print_json, EXIT_USAGE};

#[derive(Subcommand)]
pub(crate) enum FrequenzaCommand {
    /// Verifica della frequenza: Frequentante / Non frequentante, by
    /// codice fiscale or ID ANPR, optionally at one school (--scuola).
    Verifica {
        #[command(flatten)]
        who: Who,
        /// Only at this school (codice meccanografico of the istituto or plesso).
        #[arg(long, value_name = "CODICE_MECCANOGRAFICO")]
        scuola: Option<String>,
        /// This school year instead of the current one.
        #[arg(long, value_name = "YYYY/YYYY")]
        anno: Option<SchoolYear>,
    },
    /// Accertamento della frequenza: the detailed record (istituto,
    /// plesso, percorso di studi, anno di corso, esito).
    Accertamento {
        #[command(flatten)]
        who: Who,
        /// Only at this school (codice meccanografico of the istituto or plesso).
        #[arg(long, value_name = "CODICE_MECCANOGRAFICO")]
        scuola: Option<String>,
        /// This school year instead of the current one.
        #[arg(long, value_name = "YYYY/YYYY")]
        anno: Option<SchoolYear>,
    },
    /// The last attendance status in the current school year, or in the
    /// previous one with --precedente.
    Stato {
        #[command(flatten)]
        who: Who,
        /// The previous school year.
        #[arg(long)]
        precedente: bool,
    },
}

#[derive(clap::Args)]
pub(crate) struct Who {
    /// One codice fiscale.
    #[arg(long, conflicts_with_all = ["id_anpr", "input"])]
    cf: Option<String>,
    /// One ID ANPR.
    #[arg(long, conflicts_with = "input")]
    id_anpr: Option<String>,
    /// A CSV of codici fiscali or ID ANPR (massive lookup; needs --out).
    #[arg(long, requires = "out")]
    input: Option<PathBuf>,
    /// The output CSV of a massive lookup (one row per input row).
    #[arg(long, requires = "input")]
    out: Option<PathBuf>,
    /// The column of the codes (header name or alias; found by alias if omitted).
    #[arg(long, requires = "input")]
    column: Option<String>,
    /// The configuration file: call PDND and the real e-services.
    #[arg(long, conflicts_with = "seed")]
    config: Option<PathBuf>,
    /// Seed of the in-process sandbox (the default without --config).
    #[arg(long)]
    seed: Option<u64>,
    /// The audit database (default: anist-audit.sqlite beside the output,
    /// or in the current directory).
    #[arg(long)]
    audit: Option<PathBuf>,
    /// Print the answer (or the massive summary) as JSON on standard output.
    #[arg(long)]
    json: bool,
}

fn fail(e: &FrequenzaError) -> ExitCode {
    eprintln!("errore [{}]: {e}", e.code());
    match e {
        FrequenzaError::Usage(_) | FrequenzaError::Column(_) | FrequenzaError::Csv(_) => {
            ExitCode::from(EXIT_USAGE)
        }
        _ => ExitCode::FAILURE,
    }
}

pub(crate) fn run(cmd: FrequenzaCommand) -> ExitCode {
    let (service, who, scuola, anno) = match cmd {
        FrequenzaCommand::Verifica { who, scuola, anno } => (Service::Verifica, who, scuola, anno),
        FrequenzaCommand::Accertamento { who, scuola, anno } => {
            (Service::Accertamento, who, scuola, anno)
        }
        FrequenzaCommand::Stato { who, precedente } => (
            Service::Stato {
                previous: precedente,
            },
            who,
            None,
            None,
        ),
    };
    let school = match scuola
        .as_deref()
        .map(CodiceMeccanografico::parse)
        .transpose()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("errore [{}]: --scuola: {e}", e.code());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let target = match &who.config {
        Some(p) => Target::Config(p.clone()),
        None => Target::Sandbox {
            seed: who.seed.unwrap_or(DEFAULT_SANDBOX_SEED),
        },
    };
    let args = FrequenzaArgs {
        service,
        target,
        school,
        year: anno,
        audit: who.audit.clone(),
    };
    if let (Some(input), Some(out)) = (&who.input, &who.out) {
        return match frequenza::massive(&args, input, out, who.column.as_deref()) {
            Ok(s) => {
                if who.json {
                    print_json(&s);
                } else {
                    eprintln!(
                        "{} righe: {} frequentanti, {} non frequentanti, {} non presenti in ANIST, {} codici non validi, {} errori",
                        s.rows_total, s.attending, s.not_attending, s.not_in_anist, s.invalid_code, s.error
                    );
                    eprintln!("scritto {}", out.display());
                }
                if s.error == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => fail(&e),
        };
    }
    let subject = match (&who.cf, &who.id_anpr) {
        (Some(cf), _) => frequenza::parse_subject(cf, false),
        (None, Some(id)) => frequenza::parse_subject(id, true),
        (None, None) => Err(FrequenzaError::Usage(String::from(
            "give --cf, --id-anpr, or --input with --out",
        ))),
    };
    match subject.and_then(|s| frequenza::single(&args, s)) {
        Ok(outcome) => {
            if who.json {
                print_json(&frequenza::json(service, &outcome));
            } else {
                print!("{}", frequenza::render(service, &outcome));
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}
