//! `anist isee`: one ISEE lookup (`indicatore`, `attestazione`), printed
//! for a person at a desk, and the resumable batch over a CSV of
//! applications (`batch`), against an in-process sandbox by default or the
//! INPS e-services of a configuration file.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anist_client::audit::{AuditError, AuditLog};
use anist_client::bulk::isee::{IseeBatch, IseeBatchSpec, IseeCounts, IseeSummary};
use anist_client::bulk::{BulkError, JobOutcome, Progress};
use anist_client::call::CallError;
use anist_client::clock::SystemClock;
use anist_client::config::{Config, ConfigError};
use anist_client::isee::{IseeAnswer, IseeClient, IseeError, IseeLookup, IseeQuery};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxError, SandboxHandle};
use anist_core::cf::AnyCodiceFiscale;
use anist_core::csvio::format_date_it;
use anist_core::isee::{
    Attestazione, ComponenteNucleo, Indicatore, IseeKind, IseeService, PrestazioneDaErogare,
};
use anist_core::{ErrorCode, ErrorKind, Sent};
use chrono::NaiveDate;

use crate::cli::caivano::{open_audit, Target};

/// The flavour asked on the command line (`--service`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Residenti (Comuni, their residents).
    Residenti,
    /// Operatori (an operator logged in with SPID / CIE).
    Operatori,
    /// The plain services (INPS client certificate).
    Plain,
    /// Riscontro (by DSU protocol).
    Riscontro,
    /// Nucleo Riscontro (indicatore and household, by DSU protocol).
    NucleoRiscontro,
}

impl Flavour {
    /// Parses `residenti`, `operatori`, `plain`, `riscontro`,
    /// `nucleo-riscontro`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "residenti" => Some(Flavour::Residenti),
            "operatori" => Some(Flavour::Operatori),
            "plain" => Some(Flavour::Plain),
            "riscontro" => Some(Flavour::Riscontro),
            "nucleo-riscontro" => Some(Flavour::NucleoRiscontro),
            _ => None,
        }
    }

    /// The e-service of this flavour answering an attestazione (`true`) or
    /// an indicatore.
    ///
    /// # Errors
    /// [`IseeCmdError::NoSuchService`] for the Riscontro flavours, which
    /// answer indicatori only.
    pub fn service(self, attestazione: bool) -> Result<IseeService, IseeCmdError> {
        Ok(match (self, attestazione) {
            (Flavour::Residenti, false) => IseeService::IndicatoreResidenti,
            (Flavour::Residenti, true) => IseeService::AttestazioneResidenti,
            (Flavour::Operatori, false) => IseeService::IndicatoreOperatori,
            (Flavour::Operatori, true) => IseeService::AttestazioneOperatori,
            (Flavour::Plain, false) => IseeService::Indicatore,
            (Flavour::Plain, true) => IseeService::Attestazione,
            (Flavour::Riscontro, false) => IseeService::IndicatoreRiscontro,
            (Flavour::NucleoRiscontro, false) => IseeService::IndicatoreNucleoRiscontro,
            (Flavour::Riscontro | Flavour::NucleoRiscontro, true) => {
                return Err(IseeCmdError::NoSuchService)
            }
        })
    }
}

/// Parses `--service`: a flavour (`residenti`, `operatori`, `plain`,
/// `riscontro`, `nucleo-riscontro`), the indicatore or attestazione
/// e-service of which `attestazione` chooses, or one e-service's own
/// identifier, as the batch writes it in its `servizio` column and the
/// bindings take it (`indicatore_residenti`, `attestazione_operatori`,
/// `indicatore`…; `-` and `_` alike). A named e-service must agree with
/// `attestazione` when `kind_fixed` (the command asks one kind).
///
/// # Errors
/// [`IseeCmdError::Usage`] for an unknown name or a service of the other
/// kind; [`IseeCmdError::NoSuchService`] for a Riscontro attestazione.
pub fn parse_service(
    name: &str,
    attestazione: bool,
    kind_fixed: bool,
) -> Result<IseeService, IseeCmdError> {
    if let Some(flavour) = Flavour::parse(name) {
        return flavour.service(attestazione);
    }
    let service = IseeService::parse(&name.trim().replace('-', "_")).ok_or_else(|| {
        IseeCmdError::Usage(format!(
            "--service {name:?} non è un servizio ISEE: usa residenti, operatori, plain, riscontro, nucleo-riscontro, o il nome del servizio ({})",
            IseeService::ALL.map(IseeService::as_str).join(", ")
        ))
    })?;
    if kind_fixed && service.returns_attestazione() != attestazione {
        let (wanted, command) = if service.returns_attestazione() {
            (
                "un'attestazione",
                "anist isee attestazione (o batch --attestazione)",
            )
        } else {
            (
                "un indicatore",
                "anist isee indicatore (o batch senza --attestazione)",
            )
        };
        return Err(IseeCmdError::Usage(format!(
            "--service {} risponde con {wanted}: usa {command}",
            service.as_str()
        )));
    }
    Ok(service)
}

/// Why an `anist isee` command failed. Every variant has a stable code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IseeCmdError {
    /// Riscontro services answer indicatori only.
    #[error("i servizi Riscontro rispondono solo con l'indicatore: usa `anist isee indicatore --service riscontro`, o un altro servizio per l'attestazione")]
    NoSuchService,
    /// A lookup argument is not valid.
    #[error("{0}")]
    Usage(String),
    /// A journal exists and `resume` was not asked.
    #[error("esiste già il giornale di questo lotto ({0}): ripeti il comando con --resume per continuarlo, oppure cancellalo per ricominciare da capo")]
    JournalExists(PathBuf),
    /// `resume` was asked and there is no journal.
    #[error("non c'è un giornale da riprendere in {0}: togli --resume per avviare il lotto (un lotto finito senza errori cancella il suo giornale, salvo --keep-journal)")]
    NothingToResume(PathBuf),
    /// The configuration could not be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The sandbox could not start.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The session could not be built.
    #[error(transparent)]
    Session(#[from] CallError),
    /// The audit trail could not be opened.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// INPS gave no answer.
    #[error(transparent)]
    Isee(#[from] IseeError),
    /// The batch failed.
    #[error(transparent)]
    Bulk(#[from] BulkError),
    /// The async runtime could not start.
    #[error("the async runtime could not start: {0}")]
    Runtime(String),
}

impl ErrorCode for IseeCmdError {
    fn code(&self) -> &'static str {
        match self {
            IseeCmdError::NoSuchService => "isee_no_such_service",
            IseeCmdError::Usage(_) => "isee_usage",
            IseeCmdError::JournalExists(_) => "isee_journal_exists",
            IseeCmdError::NothingToResume(_) => "isee_no_journal",
            IseeCmdError::Config(e) => e.code(),
            IseeCmdError::Sandbox(e) => e.code(),
            IseeCmdError::Session(e) => e.code(),
            IseeCmdError::Audit(e) => e.code(),
            IseeCmdError::Isee(e) => e.code(),
            IseeCmdError::Bulk(e) => e.code(),
            IseeCmdError::Runtime(_) => "isee_runtime",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            IseeCmdError::NoSuchService | IseeCmdError::Usage(_) => ErrorKind::InvalidArgument,
            IseeCmdError::JournalExists(_) | IseeCmdError::NothingToResume(_) => ErrorKind::Job,
            IseeCmdError::Config(e) => e.kind(),
            IseeCmdError::Sandbox(e) => e.kind(),
            IseeCmdError::Session(e) => e.kind(),
            IseeCmdError::Audit(e) => e.kind(),
            IseeCmdError::Isee(e) => e.kind(),
            IseeCmdError::Bulk(e) => e.kind(),
            IseeCmdError::Runtime(_) => ErrorKind::Local,
        }
    }

    fn request_sent(&self) -> Option<Sent> {
        self.wrapped().and_then(ErrorCode::request_sent)
    }

    fn retry_after(&self) -> Option<Duration> {
        self.wrapped().and_then(ErrorCode::retry_after)
    }
}

impl IseeCmdError {
    /// The error this one shows the code of, when it wraps one.
    fn wrapped(&self) -> Option<&dyn ErrorCode> {
        match self {
            IseeCmdError::Config(e) => Some(e),
            IseeCmdError::Sandbox(e) => Some(e),
            IseeCmdError::Session(e) => Some(e),
            IseeCmdError::Audit(e) => Some(e),
            IseeCmdError::Isee(e) => Some(e),
            IseeCmdError::Bulk(e) => Some(e),
            IseeCmdError::NoSuchService
            | IseeCmdError::Usage(_)
            | IseeCmdError::JournalExists(_)
            | IseeCmdError::NothingToResume(_)
            | IseeCmdError::Runtime(_) => None,
        }
    }
}

/// One lookup.
#[derive(Debug, Clone)]
pub struct LookupArgs {
    /// The e-service.
    pub service: IseeService,
    /// The question.
    pub query: IseeQuery,
    /// Where the call goes.
    pub target: Target,
    /// List the household's members in clear (default: masked).
    pub show_members: bool,
    /// The audit database the lookup is recorded in (its secret is
    /// `<audit>.key`).
    pub audit: PathBuf,
}

/// The audit trail at `path` (secret `<path>.key`).
fn open_audit_at(path: &std::path::Path) -> Result<AuditLog, AuditError> {
    AuditLog::open_beside(path)
}

fn runtime() -> Result<std::sync::Arc<tokio::runtime::Runtime>, IseeCmdError> {
    anist_client::blocking::runtime().map_err(|e| IseeCmdError::Runtime(e.to_string()))
}

/// The client of `target` (and the sandbox behind it, to shut down).
async fn client(target: &Target) -> Result<(IseeClient, Option<SandboxHandle>), IseeCmdError> {
    match target {
        Target::Sandbox { seed } => {
            let handle = Sandbox::start(SandboxConfig::with_default_client(*seed)?).await?;
            let client = handle.isee_client()?;
            Ok((client, Some(handle)))
        }
        Target::Config(path) => {
            let config = Config::load(path)?;
            let session = Arc::new(config.session(Arc::new(SystemClock))?);
            Ok((config.isee_client(session)?, None))
        }
    }
}

/// Asks INPS and renders the answer as text for a terminal.
///
/// # Errors
/// [`IseeCmdError`]; "no ISEE" is an answer, not an error.
pub fn lookup(args: &LookupArgs) -> Result<String, IseeCmdError> {
    // Opened before anything is asked: nothing is asked that is not recorded.
    let audit = open_audit_at(&args.audit)?;
    runtime()?.block_on(async {
        let (client, sandbox) = client(&args.target).await?;
        let client = client.with_audit(Arc::new(audit));
        let result = if args.service.returns_attestazione() {
            client
                .attestazione(args.service, &args.query)
                .await
                .map(|a| render(&a, |r| render_attestazione(r, args.show_members)))
        } else {
            client
                .indicatore(args.service, &args.query)
                .await
                .map(|a| render(&a, |r| render_indicatore(r, args.show_members)))
        };
        if let Some(h) = sandbox {
            h.shutdown().await;
        }
        Ok(result?)
    })
}

fn render<T>(answer: &IseeAnswer<T>, f: impl Fn(&T) -> String) -> String {
    let mut out = match answer {
        IseeAnswer::Found { record, .. } => f(record),
        IseeAnswer::NoIsee { description, .. } => format!(
            "Nessuna ISEE per la richiesta (DATI_NON_TROVATI){}\n",
            description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        ),
    };
    if let Some(id) = answer.id_richiesta() {
        let _ = writeln!(out, "IdRichiesta INPS:   {id}");
    }
    out
}

fn date(d: Option<NaiveDate>) -> String {
    d.map(format_date_it).unwrap_or_else(|| String::from("-"))
}

fn mask_name(name: Option<&str>) -> String {
    match name.and_then(|n| n.chars().next()) {
        Some(first) => format!("{first}***"),
        None => String::from("-"),
    }
}

fn members(out: &mut String, household: &[ComponenteNucleo], show: bool) {
    if household.is_empty() {
        return;
    }
    let _ = writeln!(out, "Nucleo familiare:   {} componenti", household.len());
    for m in household {
        let (cf, surname, name) = if show {
            (
                m.codice_fiscale.as_str().to_owned(),
                m.surname.clone().unwrap_or_else(|| String::from("-")),
                m.name.clone().unwrap_or_else(|| String::from("-")),
            )
        } else {
            (
                m.codice_fiscale.masked(),
                mask_name(m.surname.as_deref()),
                mask_name(m.name.as_deref()),
            )
        };
        let _ = writeln!(
            out,
            "  - {cf}  {surname} {name}  ({})",
            m.relationship.as_deref().unwrap_or("-")
        );
    }
    if !show {
        let _ = writeln!(
            out,
            "  (dati dei componenti mascherati: --show-members per vederli)"
        );
    }
}

/// The width of the labels of the screen output (`Protocollo DSU:     `).
const LABEL_WIDTH: usize = 20;
/// The width amounts are right-aligned in (`  13.646,56 €`).
const AMOUNT_WIDTH: usize = 14;

/// One `label: amount` line, the label padded and the amount right-aligned
/// so that the amounts of a screen line up on their decimal comma.
fn amount_line(out: &mut String, label: &str, amount: &dyn std::fmt::Display) {
    let _ = writeln!(
        out,
        "{:<LABEL_WIDTH$}{:>AMOUNT_WIDTH$}",
        format!("{label}:"),
        amount.to_string()
    );
}

/// An indicatore, as printed by `anist isee indicatore`.
pub fn render_indicatore(ind: &Indicatore, show_members: bool) -> String {
    let mut out = String::new();
    let kind = ind
        .kind
        .as_ref()
        .map_or_else(|| String::from("ISEE"), IseeKind::to_string);
    amount_line(&mut out, &kind, &ind.isee());
    let v = &ind.values;
    for (label, value) in [("ISE", v.ise), ("ISR", v.isr), ("ISP", v.isp)] {
        if let Some(value) = value {
            amount_line(&mut out, label, &value);
        }
    }
    if let Some(scala) = v.scala {
        let _ = writeln!(out, "Scala equivalenza:  {scala}");
    }
    let _ = writeln!(
        out,
        "Protocollo DSU:     {}",
        ind.protocollo_dsu
            .as_ref()
            .map_or_else(|| String::from("-"), ToString::to_string)
    );
    let _ = writeln!(out, "Presentata il:      {}", date(ind.presented_on));
    let _ = writeln!(out, "Valida fino al:     {}", date(ind.valid_until()));
    members(&mut out, &ind.household, show_members);
    out
}

/// An attestazione, as printed by `anist isee attestazione`.
pub fn render_attestazione(att: &Attestazione, show_members: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Protocollo DSU:     {}", att.protocollo_dsu);
    let _ = writeln!(
        out,
        "Presentata il:      {}",
        format_date_it(att.presented_on)
    );
    let _ = writeln!(
        out,
        "Valida fino al:     {}",
        format_date_it(att.valid_until())
    );
    if att.is_corrente() {
        let _ = writeln!(
            out,
            "ISEE corrente, valido fino al {}",
            date(att.corrente_expires_on())
        );
    }
    let _ = writeln!(out, "Indicatori:");
    let lines: Vec<(String, String)> = att
        .entries
        .iter()
        .map(|e| {
            let who = match (&e.beneficiary, show_members) {
                (Some(b), true) => format!(" per {}", b.codice_fiscale.as_str()),
                (Some(b), false) => format!(" per {}", b.codice_fiscale.masked()),
                (None, _) => String::new(),
            };
            let value = e
                .isee
                .map_or_else(|| String::from("non calcolabile"), |v| v.to_string());
            (format!("{}{who}:", e.kind), value)
        })
        .collect();
    // The amounts line up on their decimal comma.
    let width = lines
        .iter()
        .map(|(label, _)| label.chars().count() + 1)
        .max()
        .unwrap_or(0);
    for (label, value) in lines {
        let _ = writeln!(out, "  - {label:<width$}{value:>AMOUNT_WIDTH$}");
    }
    if att.has_omissioni_difformita() {
        let _ = writeln!(
            out,
            "Attenzione: la DSU riporta omissioni o difformità ({})",
            att.omissioni_difformita.len()
        );
    }
    members(&mut out, &att.household, show_members);
    out
}

/// What `anist isee batch` is asked to do.
#[derive(Debug, Clone)]
pub struct BatchArgs {
    /// The CSV of applications.
    pub input: PathBuf,
    /// The output CSV.
    pub output: PathBuf,
    /// The e-service.
    pub service: IseeService,
    /// The validity date of rows without one.
    pub valid_on: NaiveDate,
    /// The prestazione of rows without one.
    pub prestazione: Option<PrestazioneDaErogare>,
    /// `TipoIndicatore` of Indicatore services.
    pub kind: IseeKind,
    /// The codice fiscale column.
    pub column: Option<String>,
    /// The journal (default `<output>.journal`).
    pub journal: Option<PathBuf>,
    /// The audit database (default `anist-audit.sqlite` beside the output).
    pub audit: Option<PathBuf>,
    /// Continue an existing journal.
    pub resume: bool,
    /// Where the calls go.
    pub target: Target,
    /// Calls in flight (default 16).
    pub concurrency: Option<usize>,
    /// Keep the journal of a finished batch (by default a batch that ends
    /// with every row answered removes it).
    pub keep_journal: bool,
}

impl BatchArgs {
    /// The journal path.
    pub fn journal_path(&self) -> PathBuf {
        crate::cli::caivano::default_journal(self.journal.as_deref(), &self.output)
    }
}

/// Runs (or resumes) the batch, blocking.
///
/// # Errors
/// [`IseeCmdError`]; a batch paused by an exhausted quota is not an error.
pub fn run_batch(
    args: &BatchArgs,
    progress: impl Fn(&Progress<IseeCounts>) + Send + Sync,
) -> Result<JobOutcome<IseeSummary>, IseeCmdError> {
    // Before anything is created beside it (journal, audit trail).
    anist_client::bulk::check_output_dir(&args.output)?;
    let journal = args.journal_path();
    match (journal.exists(), args.resume) {
        (true, false) => return Err(IseeCmdError::JournalExists(journal)),
        (false, true) => return Err(IseeCmdError::NothingToResume(journal)),
        _ => {}
    }
    runtime()?.block_on(async {
        let mut spec = IseeBatchSpec::new(
            &args.input,
            &args.output,
            journal,
            args.service,
            args.valid_on,
        );
        spec.prestazione = args.prestazione;
        spec.kind = args.kind.clone();
        spec.cf_column = args.column.clone();
        if let Some(c) = args.concurrency {
            spec.options.concurrency = c.max(1);
        }
        spec.options.keep_journal = args.keep_journal;
        let audit = open_audit(args.audit.as_deref(), &args.output)?;
        let (client, sandbox) = client(&args.target).await?;
        let session = client.session();
        spec.options.audit_identity(session);
        let outcome = IseeBatch::new(spec)
            .run(&client, Some(&audit), progress)
            .await;
        if let Some(h) = sandbox {
            h.shutdown().await;
        }
        Ok(outcome?)
    })
}

/// Parses a codice fiscale argument.
///
/// # Errors
/// [`IseeCmdError::Usage`] naming the code's problem (never the code).
pub fn parse_cf(s: &str) -> Result<AnyCodiceFiscale, IseeCmdError> {
    AnyCodiceFiscale::parse(s).map_err(|e| {
        IseeCmdError::Usage(format!(
            "--cf non è un codice fiscale valido [{}]: {}",
            e.code(),
            e.messaggio()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let cases = [
            (IseeCmdError::NoSuchService, ErrorKind::InvalidArgument),
            (IseeCmdError::Usage("x".into()), ErrorKind::InvalidArgument),
            (IseeCmdError::JournalExists("j".into()), ErrorKind::Job),
            (IseeCmdError::NothingToResume("j".into()), ErrorKind::Job),
            (IseeCmdError::Runtime("x".into()), ErrorKind::Local),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{}", e.code());
            assert_eq!(e.request_sent(), None);
        }
    }
}
