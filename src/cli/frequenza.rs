//! `anist frequenza`: the Portale Enti lookups of ANIST from the command
//! line (notice 000 of the MIM, "Portale Enti"), for a clerk at a desk:
//!
//! - **verifica**: attending or not (`Frequentante` / `Non frequentante`),
//!   by codice fiscale or ID ANPR, optionally at one school (codice
//!   meccanografico);
//! - **accertamento**: the detailed record (allegato 2 of D.M. 234/2023:
//!   istituto, plesso, percorso di studi, anno di corso, esito);
//! - **stato**: the last status in the current or the previous school year.
//!
//! Each one single (one code) or massive (a CSV in, one output row per
//! input row, like the Portale's CSV). Calls go to an in-process sandbox
//! by default, or to the e-services of a configuration file, like
//! `anist caivano`; every lookup is recorded in the audit trail
//! ([`crate::cli::caivano::open_audit`]).

use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anist_client::anist::{
    AnistClient, AnistError, Answer, AttendanceService, Query, Subject, YearSelector, ACCERTAMENTO,
    VERIFICA,
};
use anist_client::audit::{AuditError, AuditLog};
use anist_client::bulk::{code_column, CodeColumn, CodeKind};
use anist_client::call::CallError;
use anist_client::clock::SystemClock;
use anist_client::config::{Config, ConfigError};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxError, SandboxHandle};
use anist_core::anpr::{IdAnpr, ID_ANPR_LEN};
use anist_core::attendance::{si_no, EsitoFrequenza, Frequenza, Verifica};
use anist_core::cf::CodiceFiscale;
use anist_core::csvio::{
    Aliases, CsvError, CsvWriter, ReadOutcome, ReaderBuilder, Row, WriterOptions,
};
use anist_core::meccanografico::CodiceMeccanografico;
use anist_core::school::SchoolYear;
use anist_core::{ErrorCode, ErrorKind, Sent};
use serde::Serialize;

use crate::cli::caivano::{open_audit, Target};

/// Which Portale Enti service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Verifica della frequenza: attending or not.
    Verifica,
    /// Accertamento della frequenza: the detailed record.
    Accertamento,
    /// The last status in the current (`previous: false`) or the previous
    /// school year.
    Stato {
        /// The previous school year.
        previous: bool,
    },
}

impl Service {
    /// The session name of the e-service that answers it.
    pub fn eservice(self) -> &'static str {
        match self {
            Service::Verifica => VERIFICA,
            Service::Accertamento | Service::Stato { .. } => ACCERTAMENTO,
        }
    }

    /// The operation's name in the audit trail.
    pub fn operation(self) -> &'static str {
        match self {
            Service::Verifica => "verify",
            Service::Accertamento => "ascertain",
            Service::Stato { previous: false } => "last_status_current_year",
            Service::Stato { previous: true } => "last_status_previous_year",
        }
    }
}

/// Why an `anist frequenza` command failed. Every variant has a stable code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrequenzaError {
    /// An argument is not valid (a code, a school, a year).
    #[error("{0}")]
    Usage(String),
    /// The configuration could not be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The sandbox could not start.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The session could not be built.
    #[error(transparent)]
    Session(#[from] CallError),
    /// The audit trail could not be opened or written: nothing is asked
    /// that is not recorded.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// ANIST gave no answer to a single lookup.
    #[error(transparent)]
    Anist(#[from] AnistError),
    /// The input could not be read.
    #[error("il file {path} non si può leggere: {reason}: controllare il percorso")]
    Input {
        /// The input file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The input is not a CSV the reader accepts.
    #[error("il file non è un CSV leggibile ({code}): {source}", code = .0.code(), source = .0)]
    Csv(CsvError),
    /// No column of codes.
    #[error("{0}")]
    Column(String),
    /// The output could not be written.
    #[error("il file {path} non si può scrivere: {reason}: controllare che la cartella esista e sia scrivibile")]
    Output {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The async runtime could not start.
    #[error("il motore asincrono non è partito: {0}")]
    Runtime(String),
}

impl ErrorCode for FrequenzaError {
    fn code(&self) -> &'static str {
        match self {
            FrequenzaError::Usage(_) => "frequenza_usage",
            FrequenzaError::Config(e) => e.code(),
            FrequenzaError::Sandbox(e) => e.code(),
            FrequenzaError::Session(e) => e.code(),
            FrequenzaError::Audit(e) => e.code(),
            FrequenzaError::Anist(e) => e.code(),
            FrequenzaError::Input { .. } => "frequenza_input",
            FrequenzaError::Csv(_) => "frequenza_csv",
            FrequenzaError::Column(_) => "frequenza_column",
            FrequenzaError::Output { .. } => "frequenza_output",
            FrequenzaError::Runtime(_) => "frequenza_runtime",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            FrequenzaError::Usage(_)
            | FrequenzaError::Input { .. }
            | FrequenzaError::Csv(_)
            | FrequenzaError::Column(_) => ErrorKind::InvalidArgument,
            FrequenzaError::Config(e) => e.kind(),
            FrequenzaError::Sandbox(e) => e.kind(),
            FrequenzaError::Session(e) => e.kind(),
            FrequenzaError::Audit(e) => e.kind(),
            FrequenzaError::Anist(e) => e.kind(),
            FrequenzaError::Output { .. } | FrequenzaError::Runtime(_) => ErrorKind::Local,
        }
    }

    fn request_sent(&self) -> Option<Sent> {
        self.wrapped().and_then(ErrorCode::request_sent)
    }

    fn retry_after(&self) -> Option<Duration> {
        self.wrapped().and_then(ErrorCode::retry_after)
    }
}

impl FrequenzaError {
    /// The error this one shows the code of, when it wraps one.
    fn wrapped(&self) -> Option<&dyn ErrorCode> {
        match self {
            FrequenzaError::Config(e) => Some(e),
            FrequenzaError::Sandbox(e) => Some(e),
            FrequenzaError::Session(e) => Some(e),
            FrequenzaError::Audit(e) => Some(e),
            FrequenzaError::Anist(e) => Some(e),
            FrequenzaError::Usage(_)
            | FrequenzaError::Input { .. }
            | FrequenzaError::Csv(_)
            | FrequenzaError::Column(_)
            | FrequenzaError::Output { .. }
            | FrequenzaError::Runtime(_) => None,
        }
    }
}

/// What every lookup shares.
#[derive(Debug, Clone)]
pub struct FrequenzaArgs {
    /// Which service.
    pub service: Service,
    /// Where the calls go.
    pub target: Target,
    /// Only at this school (verifica and accertamento).
    pub school: Option<CodiceMeccanografico>,
    /// This school year instead of the current one (verifica and
    /// accertamento); a sandbox then treats it as its current year.
    pub year: Option<SchoolYear>,
    /// The audit database (default: `anist-audit.sqlite` beside the
    /// output, or in the current directory for a single lookup).
    pub audit: Option<PathBuf>,
}

impl FrequenzaArgs {
    fn query(&self, subject: Subject) -> Query {
        let year = match (self.service, self.year) {
            (Service::Stato { previous: true }, _) => YearSelector::Previous,
            (Service::Stato { previous: false }, _) | (_, None) => YearSelector::Current,
            (_, Some(y)) => YearSelector::Explicit(y),
        };
        let school = match self.service {
            Service::Stato { .. } => None,
            _ => self.school,
        };
        Query {
            subject,
            school,
            year,
        }
    }
}

/// Reads a codice fiscale (16 characters) or an ID ANPR (9).
///
/// # Errors
/// [`FrequenzaError::Usage`] naming the error code.
pub fn parse_subject(text: &str, id_anpr: bool) -> Result<Subject, FrequenzaError> {
    if id_anpr {
        IdAnpr::parse(text)
            .map(Subject::IdAnpr)
            .map_err(|e| FrequenzaError::Usage(format!("--id-anpr [{}]: {e}", e.code())))
    } else {
        CodiceFiscale::parse(text)
            .map(Subject::CodiceFiscale)
            .map_err(|e| FrequenzaError::Usage(format!("--cf [{}]: {}", e.code(), e.messaggio())))
    }
}

/// The answer of one lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A verification.
    Verifica(Answer<Verifica>),
    /// A detailed record (accertamento, last status).
    Record(Answer<Frequenza>),
}

fn runtime() -> Result<std::sync::Arc<tokio::runtime::Runtime>, FrequenzaError> {
    anist_client::blocking::runtime().map_err(|e| FrequenzaError::Runtime(e.to_string()))
}

/// The audited client of `target`, and the sandbox behind it (to shut
/// down).
struct Connected {
    client: AnistClient,
    sandbox: Option<SandboxHandle>,
}

/// The client of `args.target`, recording every lookup in `audit`.
async fn connect(args: &FrequenzaArgs, audit: AuditLog) -> Result<Connected, FrequenzaError> {
    let (session, sandbox) = match &args.target {
        Target::Sandbox { seed } => {
            let mut config = SandboxConfig::with_default_client(*seed)?;
            if let Some(y) = args.year {
                config = config.current_school_year(y);
            }
            let handle = Sandbox::start(config).await?;
            (handle.session()?, Some(handle))
        }
        Target::Config(path) => (Config::load(path)?.session(Arc::new(SystemClock))?, None),
    };
    Ok(Connected {
        client: AnistClient::new(Arc::new(session)).with_audit(Arc::new(audit)),
        sandbox,
    })
}

async fn ask(client: &AnistClient, service: Service, query: Query) -> Result<Outcome, AnistError> {
    match service {
        Service::Verifica => client.verify(&query).await.map(Outcome::Verifica),
        _ => client.ascertain(&query).await.map(Outcome::Record),
    }
}

/// One lookup about `subject`, recorded in the audit trail.
///
/// # Errors
/// [`FrequenzaError`]; "no data" is an answer, not an error.
pub fn single(args: &FrequenzaArgs, subject: Subject) -> Result<Outcome, FrequenzaError> {
    let audit = open_audit(args.audit.as_deref(), Path::new("anist-audit.sqlite"))?;
    runtime()?.block_on(async {
        let c = connect(args, audit).await?;
        let result = ask(&c.client, args.service, args.query(subject)).await;
        if let Some(h) = c.sandbox {
            h.shutdown().await;
        }
        Ok(result?)
    })
}

fn label(esito: Option<EsitoFrequenza>) -> String {
    esito.map(|e| e.to_string()).unwrap_or_default()
}

fn code(esito: Option<EsitoFrequenza>) -> String {
    esito.map(|e| e.code().to_string()).unwrap_or_default()
}

/// The Portale's word for a verification: `Frequentante` / `Non
/// frequentante`.
pub fn frequenza_label(attending: bool) -> &'static str {
    if attending {
        "Frequentante"
    } else {
        "Non frequentante"
    }
}

/// The answer as text for a terminal, in Italian.
pub fn render(service: Service, outcome: &Outcome) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    match outcome {
        Outcome::Verifica(Answer::Found(v)) => {
            let _ = writeln!(out, "{}", frequenza_label(v.frequentante));
            if let Some(e) = v.esito_frequenza {
                let _ = writeln!(out, "Esito frequenza:      {} ({e})", e.code());
            }
        }
        Outcome::Record(Answer::Found(f)) => {
            let title = match service {
                Service::Stato { previous: true } => {
                    "Ultimo stato della frequenza, anno scolastico precedente"
                }
                Service::Stato { previous: false } => {
                    "Ultimo stato della frequenza, anno scolastico in corso"
                }
                _ => "Accertamento della frequenza",
            };
            let _ = writeln!(out, "{title}");
            let line = |out: &mut String, name: &str, value: Option<String>| {
                if let Some(v) = value.filter(|v| !v.is_empty()) {
                    let _ = writeln!(out, "{name:<22}{v}");
                }
            };
            line(
                &mut out,
                "Frequenza:",
                f.is_attending().map(|a| frequenza_label(a).to_string()),
            );
            line(
                &mut out,
                "Esito frequenza:",
                f.esito_frequenza.map(|e| format!("{} ({e})", e.code())),
            );
            line(
                &mut out,
                "Anno scolastico:",
                f.anno_scolastico.map(|y| y.to_string()),
            );
            let school = |code: &Option<String>, name: &Option<String>| {
                let parts: Vec<&str> = [code, name]
                    .into_iter()
                    .filter_map(|s| s.as_deref())
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" - "))
            };
            line(
                &mut out,
                "Istituto:",
                school(&f.codice_istituto_principale, &f.deno_istituto_principale),
            );
            line(
                &mut out,
                "Plesso:",
                school(&f.codice_meccanografico, &f.denominazione_plesso),
            );
            line(&mut out, "Percorso di studi:", f.percorso_studi.clone());
            line(
                &mut out,
                "Anno di corso:",
                f.anno_corso.map(|a| a.to_string()),
            );
        }
        Outcome::Verifica(Answer::NotFound) | Outcome::Record(Answer::NotFound) => {
            let _ = writeln!(
                out,
                "Nessun dato in ANIST per il codice indicato (non è un esito di mancata frequenza)"
            );
        }
    }
    out
}

/// The answer as JSON (stable English keys and codes).
#[derive(Debug, Clone, Serialize)]
pub struct JsonAnswer<'a> {
    /// `verify`, `ascertain`, `last_status_current_year`, `last_status_previous_year`.
    pub operation: &'static str,
    /// Whether ANIST has data.
    pub found: bool,
    /// The verification, when asked and found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verifica: Option<&'a Verifica>,
    /// The record, when asked and found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<&'a Frequenza>,
}

/// The JSON form of an answer.
pub fn json(service: Service, outcome: &Outcome) -> JsonAnswer<'_> {
    let (verifica, record) = match outcome {
        Outcome::Verifica(Answer::Found(v)) => (Some(v), None),
        Outcome::Record(Answer::Found(f)) => (None, Some(f)),
        _ => (None, None),
    };
    JsonAnswer {
        operation: service.operation(),
        found: verifica.is_some() || record.is_some(),
        verifica,
        record,
    }
}

// ---- Massive -----------------------------------------------------------

/// The output columns of a massive verification.
pub const VERIFICA_COLUMNS: [&str; 7] = [
    "riga",
    "codice",
    "frequenza",
    "codice_esito",
    "esito_frequenza",
    "descrizione_esito_frequenza",
    "motivo",
];

/// The output columns of a massive accertamento or last status.
pub const RECORD_COLUMNS: [&str; 15] = [
    "riga",
    "codice",
    "frequenza",
    "codice_esito",
    "esito_frequenza",
    "descrizione_esito_frequenza",
    "motivo",
    "anno_scolastico",
    "frequentante",
    "codice_istituto",
    "denominazione_istituto",
    "codice_plesso",
    "denominazione_plesso",
    "percorso_studi",
    "anno_corso",
];

/// Rows per outcome of a massive lookup (`codice_esito`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MassiveSummary {
    /// Rows in the input.
    pub rows_total: u64,
    /// `attending`: Frequentante.
    pub attending: u64,
    /// `not_attending`: Non frequentante.
    pub not_attending: u64,
    /// `not_in_anist`: ANIST has no data.
    pub not_in_anist: u64,
    /// `invalid_code`: never sent.
    pub invalid_code: u64,
    /// `error`: no answer (see `motivo`).
    pub error: u64,
}

fn subject_of(text: &str, kind: CodeKind) -> Result<Subject, &'static str> {
    let compact = text.chars().filter(|c| !c.is_whitespace()).count();
    let id = match kind {
        CodeKind::IdAnpr => true,
        CodeKind::Cf => false,
        CodeKind::Auto => compact == ID_ANPR_LEN,
    };
    if id {
        IdAnpr::parse(text)
            .map(Subject::IdAnpr)
            .map_err(|e| e.code())
    } else {
        CodiceFiscale::parse(text)
            .map(Subject::CodiceFiscale)
            .map_err(|e| e.code())
    }
}

/// One input row: its line, the code as written, and the subject or why
/// it is not asked.
struct InputRow {
    line: u64,
    given: String,
    subject: Result<Subject, &'static str>,
}

fn read_input(path: &Path, column: Option<&str>) -> Result<Vec<InputRow>, FrequenzaError> {
    let input_error = |e: &dyn std::fmt::Display| FrequenzaError::Input {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let file = File::open(path).map_err(|e| input_error(&e))?;
    let aliases = Aliases::new();
    let mut reader = ReaderBuilder::new()
        .strict(false)
        .aliases(aliases.clone())
        .from_reader(BufReader::new(file))
        .map_err(|e| match e {
            CsvError::Io(io) => input_error(&io),
            other => FrequenzaError::Csv(other),
        })?;
    let headers = reader.headers().clone();
    // The same column choice as the bulk jobs (`anist caivano`, `anist isee
    // batch`), with the same Italian messages.
    let CodeColumn {
        index,
        kind,
        fallback,
    } = code_column(&headers, &aliases, column)
        .map_err(|e| FrequenzaError::Column(e.to_string()))?;
    let mut rows = Vec::new();
    // A list of codes without a header: the "header" is the first code.
    if kind == CodeKind::Auto {
        if let Some(first) = headers.names().first() {
            if let Ok(s) = subject_of(first, kind) {
                rows.push(InputRow {
                    line: reader.header_line(),
                    given: first.clone(),
                    subject: Ok(s),
                });
            }
        }
    }
    let mut row = Row::new();
    loop {
        match reader.read_row(&mut row) {
            Ok(ReadOutcome::Row) => {
                let mut given = row.get(index).unwrap_or("").trim().to_string();
                let mut row_kind = kind;
                // A row without a codice fiscale is asked about by its ID
                // ANPR, when the input has both columns.
                if given.is_empty() {
                    if let Some(id) = fallback.and_then(|j| row.get(j)) {
                        given = id.trim().to_string();
                        row_kind = CodeKind::IdAnpr;
                    }
                }
                rows.push(InputRow {
                    line: row.line(),
                    subject: subject_of(&given, row_kind),
                    given,
                });
            }
            Ok(ReadOutcome::Bad(e)) => rows.push(InputRow {
                line: e.line().unwrap_or(0),
                given: String::new(),
                subject: Err(e.code()),
            }),
            Ok(ReadOutcome::End) => break,
            Err(e) => return Err(input_error(&e)),
        }
    }
    Ok(rows)
}

/// Creates (or truncates) `path` for writing, 0600 on Unix whatever the
/// umask or the mode of an existing file (it holds personal data).
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

/// The output fields of one row, from its answer.
fn row_fields(
    service: Service,
    row: &InputRow,
    result: Option<&Result<Outcome, AnistError>>,
    summary: &mut MassiveSummary,
) -> Vec<String> {
    let (frequenza, codice, esito, motivo, rec): (
        &str,
        &str,
        Option<EsitoFrequenza>,
        String,
        Option<&Frequenza>,
    ) = match (&row.subject, result) {
        (Err(why), _) => (
            "Codice non valido",
            "invalid_code",
            None,
            why.to_string(),
            None,
        ),
        (Ok(_), None) => ("Errore", "error", None, String::from("not_asked"), None),
        (Ok(_), Some(Err(e))) => ("Errore", "error", None, e.code().to_string(), None),
        (Ok(_), Some(Ok(o))) => match o {
            Outcome::Verifica(Answer::Found(v)) => {
                let attending = v
                    .esito_frequenza
                    .map_or(v.frequentante, EsitoFrequenza::is_attending);
                (
                    frequenza_label(attending),
                    if attending {
                        "attending"
                    } else {
                        "not_attending"
                    },
                    v.esito_frequenza,
                    String::new(),
                    None,
                )
            }
            Outcome::Record(Answer::Found(f)) => {
                let attending = f.is_attending().unwrap_or(false);
                (
                    frequenza_label(attending),
                    if attending {
                        "attending"
                    } else {
                        "not_attending"
                    },
                    f.esito_frequenza,
                    String::new(),
                    Some(f),
                )
            }
            _ => (
                "Non presente in ANIST",
                "not_in_anist",
                None,
                String::new(),
                None,
            ),
        },
    };
    match codice {
        "attending" => summary.attending += 1,
        "not_attending" => summary.not_attending += 1,
        "not_in_anist" => summary.not_in_anist += 1,
        "invalid_code" => summary.invalid_code += 1,
        _ => summary.error += 1,
    }
    let mut fields = vec![
        row.line.to_string(),
        row.given.clone(),
        frequenza.to_string(),
        codice.to_string(),
        code(esito),
        label(esito),
        motivo,
    ];
    if service != Service::Verifica {
        let opt = |s: Option<&Option<String>>| s.and_then(Clone::clone).unwrap_or_default();
        fields.extend([
            rec.and_then(|f| f.anno_scolastico)
                .map(|y| y.to_string())
                .unwrap_or_default(),
            rec.and_then(|f| f.frequentante)
                .map(|a| si_no(a).to_string())
                .unwrap_or_default(),
            opt(rec.map(|f| &f.codice_istituto_principale)),
            opt(rec.map(|f| &f.deno_istituto_principale)),
            opt(rec.map(|f| &f.codice_meccanografico)),
            opt(rec.map(|f| &f.denominazione_plesso)),
            opt(rec.map(|f| &f.percorso_studi)),
            rec.and_then(|f| f.anno_corso)
                .map(|a| a.to_string())
                .unwrap_or_default(),
        ]);
    }
    fields
}

/// Calls in flight at once in a massive lookup.
const IN_FLIGHT: usize = 16;

/// A massive lookup: every row of `input` (the codice fiscale or ID ANPR
/// column, found by header or named by `column`) asked once, one output
/// row per input row in `output` (Excel-friendly CSV, created 0600), every
/// call recorded in the audit trail.
///
/// # Errors
/// [`FrequenzaError`] when the job cannot run; a failed call is a row
/// with `codice_esito` `error` and its code in `motivo`.
pub fn massive(
    args: &FrequenzaArgs,
    input: &Path,
    output: &Path,
    column: Option<&str>,
) -> Result<MassiveSummary, FrequenzaError> {
    let rows = read_input(input, column)?;
    let output_error = |e: &dyn std::fmt::Display| FrequenzaError::Output {
        path: output.to_owned(),
        reason: e.to_string(),
    };
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(output_error(&"la cartella non esiste"));
        }
    }
    let audit = open_audit(args.audit.as_deref(), output)?;
    let results = runtime()?.block_on(async {
        let c = connect(args, audit).await?;
        let mut results: Vec<Option<Result<Outcome, AnistError>>> = vec![None; rows.len()];
        let asked: Vec<(usize, Subject)> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.subject.ok().map(|s| (i, s)))
            .collect();
        let mut failure = None;
        for window in asked.chunks(IN_FLIGHT) {
            let mut set = tokio::task::JoinSet::new();
            for (i, subject) in window {
                let client = c.client.clone();
                let query = args.query(*subject);
                let service = args.service;
                let i = *i;
                set.spawn(async move { (i, ask(&client, service, query).await) });
            }
            while let Some(done) = set.join_next().await {
                let Ok((i, result)) = done else {
                    continue;
                };
                // A lookup the audit trail could not record stops the job.
                if let Err(e @ AnistError::Audit { .. }) = &result {
                    failure = Some(e.clone());
                }
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(result);
                }
            }
            if failure.is_some() {
                break;
            }
        }
        if let Some(h) = c.sandbox {
            h.shutdown().await;
        }
        match failure {
            Some(e) => Err(FrequenzaError::Anist(e)),
            None => Ok(results),
        }
    })?;
    let file = create_private(output).map_err(|e| output_error(&e))?;
    let mut w = CsvWriter::new(BufWriter::new(file), WriterOptions::excel());
    let mut summary = MassiveSummary {
        rows_total: rows.len() as u64,
        ..MassiveSummary::default()
    };
    let mut columns: Vec<&str> = if args.service == Service::Verifica {
        VERIFICA_COLUMNS.to_vec()
    } else {
        RECORD_COLUMNS.to_vec()
    };
    let all_ids = !rows.is_empty()
        && rows
            .iter()
            .all(|r| matches!(r.subject, Ok(Subject::IdAnpr(_))));
    let all_cf = rows
        .iter()
        .all(|r| !matches!(r.subject, Ok(Subject::IdAnpr(_))));
    columns[1] = if all_ids {
        "id_anpr"
    } else if all_cf {
        "codice_fiscale"
    } else {
        "codice_fiscale_o_id_anpr"
    };
    w.write_row(&columns).map_err(|e| output_error(&e))?;
    for (row, result) in rows.iter().zip(&results) {
        let fields = row_fields(args.service, row, result.as_ref(), &mut summary);
        w.write_row(&fields).map_err(|e| output_error(&e))?;
    }
    let mut inner = w.into_inner().map_err(|e| output_error(&e))?;
    inner.flush().map_err(|e| output_error(&e))?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn input(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("anist-frequenza-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn kinds() {
        let io = CsvError::Io(std::io::Error::other("x"));
        let cases = [
            (
                FrequenzaError::Usage("x".into()),
                ErrorKind::InvalidArgument,
            ),
            (FrequenzaError::Csv(io), ErrorKind::InvalidArgument),
            (
                FrequenzaError::Column("x".into()),
                ErrorKind::InvalidArgument,
            ),
            (
                FrequenzaError::Output {
                    path: "o.csv".into(),
                    reason: "full".into(),
                },
                ErrorKind::Local,
            ),
            (FrequenzaError::Runtime("x".into()), ErrorKind::Local),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{}", e.code());
        }
    }

    #[test]
    fn the_code_column_is_chosen_as_in_the_bulk_jobs() {
        // No recognised column: the bulk jobs' Italian message.
        let path = input("none.csv", "Nome;Classe\nMario;1A\n");
        let e = read_input(&path, None).map(|_| ()).unwrap_err();
        assert_eq!(e.code(), "frequenza_column");
        assert!(
            e.to_string().contains("indica la colonna con --column"),
            "{e}"
        );
        let e = read_input(&path, Some("Alunno")).map(|_| ()).unwrap_err();
        assert!(e.to_string().contains("l'input non ha la colonna"), "{e}");
        // Both columns: a row without a codice fiscale is asked by its ID ANPR.
        let path = input(
            "both.csv",
            "Codice fiscale;ID ANPR\nRSSMRA80A01H501U;\n;AF41450AS\n",
        );
        let rows = read_input(&path, None).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(matches!(rows[0].subject, Ok(Subject::CodiceFiscale(_))));
        assert!(matches!(rows[1].subject, Ok(Subject::IdAnpr(_))));
        assert_eq!(rows[1].given, "AF41450AS");
        std::fs::remove_dir_all(path.parent().unwrap()).ok();
    }

    #[test]
    fn subjects_by_kind() {
        assert!(matches!(
            subject_of("AF41450AS", CodeKind::Auto),
            Ok(Subject::IdAnpr(_))
        ));
        assert!(matches!(
            subject_of("rssmra80a01h501u", CodeKind::Auto),
            Ok(Subject::CodiceFiscale(_))
        ));
        assert_eq!(
            subject_of("RSSMRA80A01H501U", CodeKind::IdAnpr),
            Err("anpr_length")
        );
        assert_eq!(subject_of("AF41450AS", CodeKind::Cf), Err("cf_length"));
    }

    #[test]
    fn queries_follow_the_service() {
        let cf = CodiceFiscale::parse("RSSMRA80A01H501U").unwrap();
        let school = CodiceMeccanografico::parse("RMIC81500N").ok();
        let year = SchoolYear::starting(2024).ok();
        let mut args = FrequenzaArgs {
            service: Service::Verifica,
            target: Target::Sandbox { seed: 1 },
            school,
            year,
            audit: None,
        };
        let q = args.query(Subject::CodiceFiscale(cf));
        assert_eq!(q.school, school);
        assert_eq!(q.year, YearSelector::Explicit(year.unwrap()));
        args.service = Service::Stato { previous: true };
        let q = args.query(Subject::CodiceFiscale(cf));
        assert_eq!(q.school, None);
        assert_eq!(q.year, YearSelector::Previous);
    }
}
