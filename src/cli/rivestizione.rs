//! `anist rivestizione`: the ANPR rivestizione workflow (notice 002) for a
//! Comune's Anagrafe and the enti it serves. Every command acts as a user
//! (`--user`) and is authorised against that user's role, ente and
//! profile, and recorded in the audit trail (`anist audit verify` checks
//! it). The state is in `--dir` (default `anist-rivestizione`):
//! `rivestizione.sqlite`, `anist-audit.sqlite`, the response files in
//! `files/`, the ANPR operation ids.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anist_client::anpr::massive::{MassiveClient, C030_MASSIVO};
use anist_client::anpr::soap::{AnprSoapClient, AnprSoapSettings};
use anist_client::anpr::{AnprClient, OperationIds};
use anist_client::audit::{AuditError, AuditLog};
use anist_client::clock::{Clock, ManualClock, SystemClock};
use anist_client::config::Config;
use anist_client::rivestizione::{
    layout, write_report_csv, AnprLookup, Ente, ReportRow, RequestRecord, Rivestizione, Settings,
    User, Worker, WorkflowError,
};
use anist_client::sandbox::anpr_soap::{SANDBOX_ISTAT, SANDBOX_OPERATOR};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use anist_core::anpr::dati::DatoRichiesto;
use anist_core::csvio::parse_date_it;
use anist_core::rivestizione::{
    read_subjects, Approval, Profile, RivestizioneError, Role, Scope, SubjectFile, SubjectId,
    SubjectKind, SubjectRow,
};
use anist_core::synthetic::SyntheticPeople;
use anist_core::{ErrorCode, ErrorKind};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use clap::{Args, Subcommand};

use crate::cli::caivano::DEFAULT_SANDBOX_SEED;

/// Exit status for usage and I/O errors.
const EXIT_USAGE: u8 = 2;

/// Rome's ISTAT code: the sandbox's Comune in the demo.
const ROMA: &str = "058091";

/// Where the module keeps its state.
#[derive(Args, Debug, Clone)]
pub struct Place {
    /// The module's folder: its store, audit trail, response files and
    /// ANPR operation ids (created private).
    #[arg(long, default_value = "anist-rivestizione", global = true)]
    pub dir: PathBuf,
    /// A configuration whose `[database]` is PostgreSQL: the store and the
    /// audit trail are kept there, shared by every host (the folder keeps
    /// the response files and the ANPR operation ids).
    #[arg(long, global = true)]
    pub database: Option<PathBuf>,
}

/// Who acts.
#[derive(Args, Debug, Clone)]
pub struct As {
    /// The acting user's id.
    #[arg(long)]
    pub user: String,
}

/// A profile on the command line.
#[derive(Args, Debug, Clone)]
pub struct ProfileArgs {
    /// The data sets of Tabella 16 (codes or names, comma separated):
    /// generalita, residenza, famigliaConvivenza, or 1 for the whole record.
    #[arg(long, default_value = "generalita")]
    pub dati: String,
    /// Whose residents: convenzionati (the Comuni served) or italia.
    #[arg(long, default_value = "convenzionati")]
    pub ambito: String,
}

/// The `anist rivestizione` subcommands.
#[derive(Subcommand, Debug)]
pub enum RivestizioneCommand {
    /// Set the module up (once): the Anagrafe's ente, the first TOP user,
    /// the Comuni served and the approval policy.
    Setup {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// The first TOP user's id.
        #[arg(long)]
        user: String,
        /// Their name.
        #[arg(long)]
        nome: String,
        /// The Anagrafe's ente id.
        #[arg(long, default_value = "anagrafe")]
        ente: String,
        /// The Comune's ISTAT code.
        #[arg(long)]
        comune: String,
        /// Other Comuni served (convenzionati), ISTAT codes or names, comma
        /// separated.
        #[arg(long, default_value = "")]
        convenzionati: String,
        /// Approve by silent assent after this many hours (default: a TOP
        /// user approves each request).
        #[arg(long)]
        silenzio_assenso_ore: Option<u64>,
        /// Days a completed request's files are kept.
        #[arg(long, default_value_t = 30)]
        conservazione_giorni: u32,
    },
    /// Add an ente, ufficio or organismo fruitore (TOP).
    Ente {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// Who acts.
        #[command(flatten)]
        who: As,
        /// The ente's id.
        #[arg(long)]
        id: String,
        /// Its name.
        #[arg(long)]
        nome: String,
        /// Its Comune's ISTAT code.
        #[arg(long)]
        comune: String,
    },
    /// Register a user (TOP: any; ADMIN: STANDARD users of its ente).
    AddUser {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// Who acts.
        #[command(flatten)]
        who: As,
        /// The new user's id.
        #[arg(long)]
        id: String,
        /// Their name.
        #[arg(long)]
        nome: String,
        /// top, admin or standard.
        #[arg(long)]
        ruolo: String,
        /// Their ente.
        #[arg(long)]
        ente: String,
        /// Their profile.
        #[command(flatten)]
        profile: ProfileArgs,
    },
    /// Change a user's profile, or disable them.
    Profile {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// Who acts.
        #[command(flatten)]
        who: As,
        /// The user changed.
        #[arg(long)]
        id: String,
        /// Their new profile.
        #[command(flatten)]
        profile: ProfileArgs,
        /// Disable the user.
        #[arg(long)]
        disabilita: bool,
    },
    /// Submit a request (STANDARD): subjects from a file (tipo;identificativo,
    /// or a codice fiscale column) or typed with --soggetto TIPO:VALORE.
    Submit {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// Who acts.
        #[command(flatten)]
        who: As,
        /// The reference of the practice (protocollo, fascicolo, verbale…).
        #[arg(long)]
        motivo: String,
        /// The request file.
        #[arg(long, conflicts_with = "soggetto")]
        file: Option<PathBuf>,
        /// A subject typed: CF:…, ID_ANPR:…, CI:…, PS:…, PASSAPORTO:….
        #[arg(long)]
        soggetto: Vec<String>,
        /// The data sets asked (default: the whole profile).
        #[arg(long)]
        dati: Option<String>,
    },
    /// Approve a request (TOP).
    Approve {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// Who acts.
        #[command(flatten)]
        who: As,
        /// The request's number.
        #[arg(long)]
        richiesta: i64,
    },
    /// Reject a request with a reason (TOP).
    Reject {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// Who acts.
        #[command(flatten)]
        who: As,
        /// The request's number.
        #[arg(long)]
        richiesta: i64,
        /// Why.
        #[arg(long)]
        motivo: String,
    },
    /// The state of one request, or of every request the user may see.
    Status {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// Who acts.
        #[command(flatten)]
        who: As,
        /// The request's number (default: all).
        #[arg(long)]
        richiesta: Option<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Copy a completed request's response file (its requester only).
    Download {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// Who acts.
        #[command(flatten)]
        who: As,
        /// The request's number.
        #[arg(long)]
        richiesta: i64,
        /// Where to write it (created 0600).
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the worker once: silent assent, approved requests processed,
    /// expired files purged. On the in-process sandbox unless --config.
    Worker {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// The configuration file (PDND; `[anpr_soap]` for documents).
        #[arg(long, conflicts_with = "seed")]
        config: Option<PathBuf>,
        /// Seed of the in-process sandbox.
        #[arg(long)]
        seed: Option<u64>,
        /// Subjects asked at once.
        #[arg(long, default_value_t = 8)]
        concorrenza: usize,
    },
    /// Statistics per user (TOP: every ente, or --ente; ADMIN: its ente).
    Report {
        /// The folder.
        #[command(flatten)]
        place: Place,
        /// Who acts.
        #[command(flatten)]
        who: As,
        /// Only this ente.
        #[arg(long)]
        ente: Option<String>,
        /// Only the enti of this Comune (ISTAT code).
        #[arg(long)]
        comune: Option<String>,
        /// From this day (dd/mm/yyyy).
        #[arg(long)]
        dal: Option<String>,
        /// Up to this day included (dd/mm/yyyy).
        #[arg(long)]
        al: Option<String>,
        /// Also write it as CSV for Excel (created 0600).
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A day of a Comune on the sandbox: one TOP, one ADMIN and two
    /// STANDARD users, requests submitted, approved, rejected, approved by
    /// silent assent, processed, downloaded; then the report.
    Demo {
        /// The folder (a fresh one in the temporary directory by default).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The sandbox's seed.
        #[arg(long, default_value_t = DEFAULT_SANDBOX_SEED)]
        seed: u64,
        /// Subjects of the largest request.
        #[arg(long, default_value_t = 40)]
        soggetti: usize,
    },
}

/// Why an `anist rivestizione` command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RivestizioneCmdError {
    /// The workflow refused or failed.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// A rule refused the input.
    #[error(transparent)]
    Rule(#[from] RivestizioneError),
    /// The audit trail cannot be opened.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("il file {path} non si può usare: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The sandbox, the configuration or the ANPR clients could not start.
    #[error("{message}")]
    Setup {
        /// Their code.
        code: &'static str,
        /// Their kind.
        kind: ErrorKind,
        /// Their message.
        message: String,
    },
}

impl ErrorCode for RivestizioneCmdError {
    fn code(&self) -> &'static str {
        match self {
            RivestizioneCmdError::Workflow(e) => e.code(),
            RivestizioneCmdError::Rule(e) => e.code(),
            RivestizioneCmdError::Audit(e) => e.code(),
            RivestizioneCmdError::Usage(_) => "cli_usage",
            RivestizioneCmdError::Io { .. } => "cli_io",
            RivestizioneCmdError::Setup { code, .. } => code,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            RivestizioneCmdError::Workflow(e) => e.kind(),
            RivestizioneCmdError::Rule(e) => e.kind(),
            RivestizioneCmdError::Audit(e) => e.kind(),
            RivestizioneCmdError::Usage(_) => ErrorKind::InvalidArgument,
            RivestizioneCmdError::Io { .. } => ErrorKind::Local,
            RivestizioneCmdError::Setup { kind, .. } => *kind,
        }
    }
}

fn setup_error(e: &dyn ErrorCode) -> RivestizioneCmdError {
    RivestizioneCmdError::Setup {
        code: e.code(),
        kind: e.kind(),
        message: e.to_string(),
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> RivestizioneCmdError + '_ {
    move |e| RivestizioneCmdError::Io {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

type Result<T> = std::result::Result<T, RivestizioneCmdError>;

/// The module of `place`, on `clock`: in its folder, or with its store
/// and audit trail in the PostgreSQL database of `--database`.
fn open(place: &Place, clock: Arc<dyn Clock>) -> Result<Rivestizione> {
    let Some(path) = &place.database else {
        return Ok(Rivestizione::open_dir(&place.dir, clock)?);
    };
    let config = Config::load(path).map_err(|e| setup_error(&e))?;
    // The folder still keeps the response files and the operation ids.
    anist_client::files::create_private_dir(&place.dir).map_err(io_error(&place.dir))?;
    match crate::cli::shared::postgres(&config).map_err(|e| setup_error(&e))? {
        Some((db, key)) => Ok(Rivestizione::open_postgres(
            db,
            &key,
            place.dir.join(layout::FILES),
            clock,
        )?),
        None => Err(RivestizioneCmdError::Usage(format!(
            "il [database] di {} non è PostgreSQL: senza --database il modulo resta nella cartella {}",
            path.display(),
            place.dir.display()
        ))),
    }
}

fn profile(args: &ProfileArgs) -> Result<Profile> {
    let data = Profile::parse_data(&args.dati)?;
    let scope = Scope::parse(&args.ambito).ok_or_else(|| {
        RivestizioneCmdError::Usage(format!(
            "ambito {:?} sconosciuto: scrivi convenzionati o italia",
            args.ambito
        ))
    })?;
    Ok(Profile { data, scope })
}

fn role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| {
        RivestizioneCmdError::Usage(format!(
            "ruolo {s:?} sconosciuto: scrivi top, admin o standard"
        ))
    })
}

/// `TIPO:VALORE` subjects typed at the terminal.
fn typed(subjects: &[String]) -> Result<SubjectFile> {
    let mut file = SubjectFile::default();
    for s in subjects {
        let (kind, value) = s.split_once(':').ok_or_else(|| {
            RivestizioneCmdError::Usage(format!(
                "soggetto {:?}: scrivi TIPO:VALORE, per esempio CF:RSSMRA80A01H501U",
                s.chars().take(4).collect::<String>()
            ))
        })?;
        let kind = SubjectKind::parse(kind).ok_or_else(|| RivestizioneError::SubjectKind {
            given: kind.chars().take(40).collect(),
        })?;
        let id = SubjectId::parse(kind, value)?;
        if !file.subjects.iter().any(|x| x.id == id) {
            file.subjects.push(SubjectRow::typed(id));
        }
    }
    Ok(file)
}

fn when(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|d| {
            d.with_timezone(&chrono::Local)
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

fn status_line(r: &RequestRecord) -> String {
    let mut s = format!(
        "richiesta {}: {} — {} di {}, ente {}, {} soggetti",
        r.id,
        r.state.label(),
        r.owner,
        when(r.submitted_at),
        r.ente,
        r.subjects
    );
    if r.state.as_str() == "processing" {
        s.push_str(&format!(" ({} elaborati)", r.answered));
    }
    match r.bad_rows {
        0 => {}
        1 => s.push_str(", 1 riga scartata"),
        n => s.push_str(&format!(", {n} righe scartate")),
    }
    if let Some(by) = &r.decided_by {
        s.push_str(&format!(", decisa da {by}"));
    }
    if let Some(reason) = &r.reason {
        s.push_str(&format!(", motivo del rifiuto: {reason}"));
    }
    if let Some(e) = &r.error {
        s.push_str(&format!(", errore {e}"));
    }
    s
}

fn status_json(r: &RequestRecord) -> serde_json::Value {
    serde_json::json!({
        "richiesta": r.id,
        "stato": r.state.as_str(),
        "descrizione_stato": r.state.label(),
        "utente": r.owner,
        "ente": r.ente,
        "soggetti": r.subjects,
        "elaborati": r.answered,
        "righe_scartate": r.bad_rows,
        "inviata": r.submitted_at,
        "decisa_da": r.decided_by,
        "motivo_rifiuto": r.reason,
        "errore": r.error,
        "dati": r.asked.data.iter().map(|d| d.name()).collect::<Vec<_>>(),
        "ambito": r.asked.scope.as_str(),
    })
}

fn report_text(rows: &[ReportRow]) -> String {
    let mut out = String::from(
        "comune  ente              utente      richieste  rifiutate  completate  soggetti  trovati  non trovati  fuori ambito  altri esiti\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{:<7} {:<17} {:<11} {:>9}  {:>9}  {:>10}  {:>8}  {:>7}  {:>11}  {:>12}  {:>11}\n",
            r.comune,
            r.ente,
            r.user,
            r.requests,
            r.rejected,
            r.done,
            r.subjects,
            r.outcomes[0],
            r.outcomes[1],
            r.outcomes[3],
            r.outcomes[2] + r.outcomes[4] + r.outcomes[5],
        ));
    }
    out
}

fn day_start(text: &str, what: &str) -> Result<i64> {
    let d: NaiveDate = parse_date_it(text)
        .map_err(|e| RivestizioneCmdError::Usage(format!("{what} {text:?}: {e}")))?;
    Ok(chrono::Local
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map_or(0, |t| t.timestamp()))
}

/// The ANPR clients of the worker: the in-process sandbox, or PDND and
/// the Comune's SOAP channel of a configuration.
async fn lookup(
    dir: &Path,
    config: Option<&Path>,
    seed: u64,
    audit: Arc<AuditLog>,
) -> Result<(AnprLookup, Option<SandboxHandle>)> {
    let ids =
        Arc::new(OperationIds::open(&dir.join(layout::ANPR_IDS)).map_err(|e| setup_error(&e))?);
    let soap_ids =
        OperationIds::open(&dir.join(layout::ANPR_SOAP_IDS)).map_err(|e| setup_error(&e))?;
    match config {
        Some(path) => {
            let config = Config::load(path).map_err(|e| setup_error(&e))?;
            let session = config
                .session(Arc::new(SystemClock))
                .map_err(|e| setup_error(&e))?;
            let session = Arc::new(session);
            let massive = session
                .lookup(C030_MASSIVO)
                .is_ok()
                .then(|| MassiveClient::new(Arc::clone(&session), Arc::clone(&ids)));
            let client = AnprClient::new(session, ids);
            // Documents only when the configuration has the SOAP channel.
            let soap = match config.anpr_soap_settings() {
                Ok(s) => {
                    let istat = s.codice_istat.clone();
                    let c = AnprSoapClient::new(s, soap_ids)
                        .map_err(|e| setup_error(&e))?
                        .audited(audit);
                    Some((c, istat))
                }
                Err(_) => None,
            };
            let istat = soap.as_ref().map(|s| s.1.clone()).unwrap_or_default();
            let lookup = AnprLookup::new(client, soap.map(|s| s.0), &istat);
            Ok((with_massive(lookup, massive), None))
        }
        None => {
            let cfg = SandboxConfig::with_default_client(seed).map_err(|e| setup_error(&e))?;
            let h = Sandbox::start(cfg).await.map_err(|e| setup_error(&e))?;
            let session = Arc::new(h.session().map_err(|e| setup_error(&e))?);
            let massive = MassiveClient::new(Arc::clone(&session), Arc::clone(&ids));
            let client = AnprClient::new(session, ids);
            let mut s = AnprSoapSettings::new(
                &h.anpr_soap_url().unwrap_or_default(),
                SANDBOX_OPERATOR,
                SANDBOX_ISTAT,
            );
            s.ca_pem = h.ca_pem().map(|c| c.as_bytes().to_vec());
            if let Some((c, k)) = h.client_identity_pem() {
                s = s.client_identity(c.as_bytes(), k.as_bytes());
            }
            let soap = AnprSoapClient::new(s, soap_ids)
                .map_err(|e| setup_error(&e))?
                .audited(audit);
            let lookup = AnprLookup::new(client, Some(soap), SANDBOX_ISTAT);
            Ok((with_massive(lookup, Some(massive)), Some(h)))
        }
    }
}

/// The massive C030 step for requests of at least 100 codici fiscali,
/// when the e-service is configured: its download polled every 5 s for up
/// to 10 minutes, then the rest asked singly.
fn with_massive(lookup: AnprLookup, massive: Option<MassiveClient>) -> AnprLookup {
    match massive {
        Some(m) => lookup.with_massive(m, 100, Duration::from_secs(5), 120),
        None => lookup,
    }
}

fn run_worker(
    place: &Place,
    config: Option<&Path>,
    seed: u64,
    concurrency: usize,
) -> Result<String> {
    let dir = &place.dir;
    let riv = open(place, Arc::new(SystemClock))?;
    let rt = anist_client::blocking::runtime().map_err(|e| setup_error(&e))?;
    rt.block_on(async {
        let (lookup, sandbox) = lookup(dir, config, seed, riv.audit().clone()).await?;
        let result = Worker::new(riv, Arc::new(lookup), concurrency)
            .run_once()
            .await;
        if let Some(h) = sandbox {
            h.shutdown().await;
        }
        let r = result?;
        Ok(format!(
            "convalidate per silenzio assenso: {}; richieste completate: {}; soggetti chiesti ad ANPR: {}; richieste scadute e cancellate: {}\n",
            r.assented,
            r.completed.len(),
            r.subjects,
            r.purged
        ))
    })
}

fn run_inner(cmd: RivestizioneCommand) -> Result<String> {
    let system: Arc<dyn Clock> = Arc::new(SystemClock);
    match cmd {
        RivestizioneCommand::Setup {
            place,
            user,
            nome,
            ente,
            comune,
            convenzionati,
            silenzio_assenso_ore,
            conservazione_giorni,
        } => {
            let riv = open(&place, system)?;
            let mut comuni = vec![comune.clone()];
            comuni.extend(
                convenzionati
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            let approval = silenzio_assenso_ore.map_or(Approval::Manual, |h| {
                Approval::silent_assent(Duration::from_secs(h * 3600))
            });
            riv.setup(
                Settings {
                    approval,
                    retention_days: conservazione_giorni,
                    comuni,
                },
                Ente {
                    id: ente,
                    nome: String::from("Anagrafe"),
                    comune,
                },
                &user,
                &nome,
            )?;
            Ok(format!(
                "modulo configurato in {}: utente TOP {user}\n",
                place.dir.display()
            ))
        }
        RivestizioneCommand::Ente {
            place,
            who,
            id,
            nome,
            comune,
        } => {
            open(&place, system)?.add_ente(
                &who.user,
                Ente {
                    id: id.clone(),
                    nome,
                    comune,
                },
            )?;
            Ok(format!("ente {id} registrato\n"))
        }
        RivestizioneCommand::AddUser {
            place,
            who,
            id,
            nome,
            ruolo,
            ente,
            profile: p,
        } => {
            let user = User {
                id: id.clone(),
                nome,
                role: role(&ruolo)?,
                ente,
                active: true,
                profile: profile(&p)?,
            };
            open(&place, system)?.register_user(&who.user, user)?;
            Ok(format!("utente {id} registrato\n"))
        }
        RivestizioneCommand::Profile {
            place,
            who,
            id,
            profile: p,
            disabilita,
        } => {
            open(&place, system)?.set_profile(&who.user, &id, profile(&p)?, !disabilita)?;
            Ok(format!(
                "profilo di {id} aggiornato{}\n",
                if disabilita {
                    " (utente disabilitato)"
                } else {
                    ""
                }
            ))
        }
        RivestizioneCommand::Submit {
            place,
            who,
            motivo,
            file,
            soggetto,
            dati,
        } => {
            let subjects = match &file {
                Some(path) => {
                    let bytes = std::fs::read(path).map_err(io_error(path))?;
                    read_subjects(bytes.as_slice())?
                }
                None => typed(&soggetto)?,
            };
            let riv = open(&place, system)?;
            let asked = dati.as_deref().map(Profile::parse_data).transpose()?;
            let mut out = String::new();
            for b in &subjects.bad {
                out.push_str(&format!(
                    "riga {} scartata [{}]: {}\n",
                    b.line, b.code, b.message
                ));
            }
            let n = subjects.subjects.len();
            let id = riv.submit(&who.user, &motivo, asked, subjects)?;
            out.push_str(&format!(
                "richiesta {id} inviata: {n} soggetti; è in attesa di convalida\n"
            ));
            Ok(out)
        }
        RivestizioneCommand::Approve {
            place,
            who,
            richiesta,
        } => {
            open(&place, system)?.approve(&who.user, richiesta)?;
            Ok(format!("richiesta {richiesta} convalidata\n"))
        }
        RivestizioneCommand::Reject {
            place,
            who,
            richiesta,
            motivo,
        } => {
            open(&place, system)?.reject(&who.user, richiesta, &motivo)?;
            Ok(format!("richiesta {richiesta} rifiutata\n"))
        }
        RivestizioneCommand::Status {
            place,
            who,
            richiesta,
            json,
        } => {
            let riv = open(&place, system)?;
            let list = match richiesta {
                Some(id) => vec![riv.request(&who.user, id)?],
                None => riv.requests(&who.user)?,
            };
            Ok(if json {
                let v: Vec<_> = list.iter().map(status_json).collect();
                format!("{}\n", serde_json::Value::Array(v))
            } else if list.is_empty() {
                String::from("nessuna richiesta\n")
            } else {
                list.iter().map(|r| status_line(r) + "\n").collect()
            })
        }
        RivestizioneCommand::Download {
            place,
            who,
            richiesta,
            out,
        } => {
            let path = open(&place, system)?.download(&who.user, richiesta)?;
            let bytes = std::fs::read(&path).map_err(io_error(&path))?;
            anist_client::files::write_private(&out, &bytes).map_err(io_error(&out))?;
            Ok(format!(
                "file della richiesta {richiesta} scritto in {}\n",
                out.display()
            ))
        }
        RivestizioneCommand::Worker {
            place,
            config,
            seed,
            concorrenza,
        } => run_worker(
            &place,
            config.as_deref(),
            seed.unwrap_or(DEFAULT_SANDBOX_SEED),
            concorrenza,
        ),
        RivestizioneCommand::Report {
            place,
            who,
            ente,
            comune,
            dal,
            al,
            csv,
            json,
        } => {
            let from = dal.as_deref().map(|d| day_start(d, "dal")).transpose()?;
            let to = al
                .as_deref()
                .map(|d| day_start(d, "al").map(|t| t + 86_400))
                .transpose()?;
            let mut rows = open(&place, system)?.report(&who.user, ente.as_deref(), from, to)?;
            if let Some(c) = &comune {
                rows.retain(|r| r.comune == *c);
            }
            if let Some(path) = &csv {
                let mut buf = Vec::new();
                write_report_csv(&rows, &mut buf)
                    .map_err(|e| RivestizioneCmdError::Usage(e.to_string()))?;
                anist_client::files::write_private(path, &buf).map_err(io_error(path))?;
            }
            Ok(if json {
                format!("{}\n", serde_json::to_string(&rows).unwrap_or_default())
            } else {
                report_text(&rows)
            })
        }
        RivestizioneCommand::Demo {
            dir,
            seed,
            soggetti,
        } => demo(dir, seed, soggetti),
    }
}

/// A day of requests on the sandbox, on a clock the demo moves itself.
fn demo(dir: Option<PathBuf>, seed: u64, n: usize) -> Result<String> {
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("anist-rivestizione-demo-{}", std::process::id()))
    });
    if dir.join(layout::STORE).exists() {
        return Err(RivestizioneCmdError::Usage(format!(
            "{} contiene già un modulo: scegli un'altra cartella con --dir",
            dir.display()
        )));
    }
    let today = chrono::Local::now().date_naive();
    let start = chrono::Local
        .from_local_datetime(&today.and_hms_opt(8, 0, 0).unwrap_or_default())
        .earliest()
        .map_or(0, |t| t.timestamp());
    let clock = Arc::new(ManualClock::new(start));
    let riv = Rivestizione::open_dir(&dir, clock.clone())?;
    let mut out = String::new();
    let at = |out: &mut String, clock: &ManualClock, text: String| {
        let t = DateTime::<Utc>::from_timestamp(clock.now(), 0)
            .map(|d| d.with_timezone(&chrono::Local).format("%H:%M").to_string())
            .unwrap_or_default();
        out.push_str(&format!("{t}  {text}\n"));
    };
    let gr = Profile::new(
        [DatoRichiesto::Generalita, DatoRichiesto::Residenza],
        Scope::Convenzionati,
    );
    let g = Profile::new([DatoRichiesto::Generalita], Scope::Convenzionati);
    riv.setup(
        Settings {
            approval: Approval::silent_assent(Duration::from_secs(2 * 3600)),
            retention_days: 30,
            // The sandbox's Comune is Rome (its residents' answers name it).
            comuni: vec![ROMA.into(), "ROMA".into()],
        },
        Ente {
            id: "anagrafe".into(),
            nome: "Anagrafe".into(),
            comune: ROMA.into(),
        },
        "anna.top",
        "Anna (Anagrafe)",
    )?;
    at(&mut out, &clock, "l'Anagrafe configura il modulo: TOP anna.top, silenzio assenso dopo 2 ore, file conservati 30 giorni".into());
    for (id, nome) in [
        ("polizia-locale", "Polizia locale"),
        ("tributi", "Ufficio tributi"),
    ] {
        riv.add_ente(
            "anna.top",
            Ente {
                id: id.into(),
                nome: nome.into(),
                comune: ROMA.into(),
            },
        )?;
    }
    riv.register_user(
        "anna.top",
        User {
            id: "bruno.admin".into(),
            nome: "Bruno (Polizia locale)".into(),
            role: Role::Admin,
            ente: "polizia-locale".into(),
            active: true,
            profile: gr.clone(),
        },
    )?;
    at(
        &mut out,
        &clock,
        "anna.top registra l'ADMIN bruno.admin per la polizia locale".into(),
    );
    riv.register_user(
        "bruno.admin",
        User {
            id: "carla".into(),
            nome: "Carla (Polizia locale)".into(),
            role: Role::Standard,
            ente: "polizia-locale".into(),
            active: true,
            profile: g,
        },
    )?;
    at(
        &mut out,
        &clock,
        "bruno.admin registra carla (STANDARD, generalità dei residenti)".into(),
    );
    riv.register_user(
        "anna.top",
        User {
            id: "dario".into(),
            nome: "Dario (Tributi)".into(),
            role: Role::Standard,
            ente: "tributi".into(),
            active: true,
            profile: Profile::new(
                [
                    DatoRichiesto::Generalita,
                    DatoRichiesto::Residenza,
                    DatoRichiesto::FamigliaConvivenza,
                ],
                Scope::Italia,
            ),
        },
    )?;
    at(&mut out, &clock, "anna.top registra dario (STANDARD tributi, generalità, residenza e famiglia in tutta Italia)".into());
    if let Err(e) = riv.register_user(
        "bruno.admin",
        User {
            id: "ezio".into(),
            nome: "Ezio".into(),
            role: Role::Admin,
            ente: "polizia-locale".into(),
            active: true,
            profile: gr,
        },
    ) {
        at(
            &mut out,
            &clock,
            format!(
                "bruno.admin prova a nominare un altro ADMIN: rifiutato [{}]",
                e.code()
            ),
        );
    }

    // The requests of the morning.
    let from = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(2015, 12, 31).unwrap_or_default();
    let mut people = SyntheticPeople::new(seed, from, to);
    let mut file = |k: usize| {
        let mut csv = String::from("tipo;identificativo\n");
        for _ in 0..k {
            csv.push_str(&format!(
                "CF;{}\n",
                people.next_person().codice_fiscale.as_str()
            ));
        }
        csv.push_str("CF;RSSMRA80A01H50\n");
        read_subjects(csv.as_bytes())
    };
    clock.advance(3600);
    let r1 = riv.submit("carla", "verbale 118/2026", None, file(n)?)?;
    at(
        &mut out,
        &clock,
        format!("carla invia la richiesta {r1}: {n} codici fiscali (1 riga non valida scartata)"),
    );
    clock.advance(600);
    let r2 = riv.submit("dario", "accertamento TARI 2026/77", None, file(n / 2)?)?;
    at(
        &mut out,
        &clock,
        format!("dario invia la richiesta {r2}: {} codici fiscali", n / 2),
    );
    clock.advance(300);
    let r3 = riv.submit("dario", "prova", None, file(3)?)?;
    at(
        &mut out,
        &clock,
        format!("dario invia la richiesta {r3}: 3 codici fiscali"),
    );
    if let Err(e) = riv.approve("carla", r1) {
        at(
            &mut out,
            &clock,
            format!(
                "carla prova a convalidare la propria richiesta: rifiutato [{}]",
                e.code()
            ),
        );
    }
    clock.advance(1800);
    riv.approve("anna.top", r1)?;
    at(
        &mut out,
        &clock,
        format!("anna.top convalida la richiesta {r1}"),
    );
    riv.reject(
        "anna.top",
        r3,
        "motivo non indicato: serve il numero di pratica",
    )?;
    at(
        &mut out,
        &clock,
        format!("anna.top rifiuta la richiesta {r3} (motivo non indicato)"),
    );

    // The worker runs on the sandbox through the day.
    let rt = anist_client::blocking::runtime().map_err(|e| setup_error(&e))?;
    let ids_dir = dir.clone();
    let work = |clock: &ManualClock, out: &mut String| -> Result<()> {
        let riv = riv.clone();
        let report = rt.block_on(async {
            let (lookup, sandbox) = lookup(&ids_dir, None, seed, riv.audit().clone()).await?;
            let r = Worker::new(riv, Arc::new(lookup), 8).run_once().await;
            if let Some(h) = sandbox {
                h.shutdown().await;
            }
            r.map_err(RivestizioneCmdError::from)
        })?;
        at(
            out,
            clock,
            format!(
                "il worker gira: {} convalidate per silenzio assenso, {} completate, {} soggetti chiesti ad ANPR",
                report.assented,
                report.completed.len(),
                report.subjects
            ),
        );
        Ok(())
    };
    clock.advance(600);
    work(&clock, &mut out)?;
    for r in riv.requests("anna.top")? {
        at(&mut out, &clock, status_line(&r));
    }
    clock.advance(2 * 3600);
    work(&clock, &mut out)?;
    let path = riv.download("carla", r1)?;
    at(
        &mut out,
        &clock,
        format!(
            "carla scarica il file della richiesta {r1}: {}",
            path.display()
        ),
    );
    let path = riv.download("dario", r2)?;
    at(
        &mut out,
        &clock,
        format!(
            "dario scarica il file della richiesta {r2}: {}",
            path.display()
        ),
    );
    if let Err(e) = riv.download("bruno.admin", r1) {
        at(
            &mut out,
            &clock,
            format!(
                "bruno.admin prova a scaricare i dati di carla: rifiutato [{}]",
                e.code()
            ),
        );
    }
    clock.advance(3600);
    let own = riv.report("bruno.admin", Some("polizia-locale"), None, None)?;
    at(
        &mut out,
        &clock,
        format!(
            "bruno.admin consulta il rendiconto della polizia locale: {} richieste",
            own.iter().map(|r| r.requests).sum::<u64>()
        ),
    );
    let rows = riv.report("anna.top", None, None, None)?;
    at(
        &mut out,
        &clock,
        "anna.top consulta il rendiconto di tutti gli enti:".into(),
    );
    out.push('\n');
    out.push_str(&report_text(&rows));
    let n = riv.audit().verify()?;
    out.push_str(&format!(
        "\nregistro di audit: {n} righe, catena verificata (anist audit verify --db {})\n",
        dir.join(layout::AUDIT).display()
    ));
    out.push_str(&format!("cartella della demo: {}\n", dir.display()));
    Ok(out)
}

/// Runs an `anist rivestizione` command: exit status 0 done, 1 refused or
/// failed, 2 usage and I/O errors.
pub fn run(cmd: RivestizioneCommand) -> ExitCode {
    match run_inner(cmd) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            match e {
                RivestizioneCmdError::Usage(_) | RivestizioneCmdError::Io { .. } => {
                    ExitCode::from(EXIT_USAGE)
                }
                _ => ExitCode::FAILURE,
            }
        }
    }
}
