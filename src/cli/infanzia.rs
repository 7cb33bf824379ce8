//! `anist infanzia`: the Piemonte 0–3 survey form ("SERVIZI 03") from the
//! command line — import the services registry and the attendance
//! registers, declare, compute, check, send (inside the window), follow its
//! state, simulate the Region's validation or refusal, export; `demo` runs
//! the whole life cycle on a bundled synthetic Comune. Screen text is in
//! Italian; the form lives in a SQLite file (mode 0600).
// The CLI's own output: this module is the `anist infanzia` command.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anist_client::infanzia::{
    form_json, read_registers, read_registry, summary_text, write_form_csv, FormStore,
    InfanziaFileError,
};
use anist_core::csvio::{format_date_it, parse_date_it};
use anist_core::infanzia::{
    format_rome_it, rome_to_utc, utc_to_rome, AuthorisationAct, AveragingMethod, Declaration, Form,
    Service, ServiceOutcome, ServiceType, SurveyConfig, WindowStatus,
};
use anist_core::ErrorCode;
use chrono::{DateTime, NaiveDateTime, Utc};
use clap::Subcommand;

/// The demo's registry (synthetic services of a synthetic Comune).
pub const DEMO_REGISTRY: &str = include_str!("../../examples/data/infanzia/servizi.csv");
/// The demo's attendance registers (synthetic monthly counts).
pub const DEMO_REGISTERS: &str = include_str!("../../examples/data/infanzia/registri.csv");
/// The demo's Comune.
pub const DEMO_COMUNE: &str = "Comune di Borgo Esempio (dati sintetici)";

/// Exit status when the form or a rule refused the operation.
const EXIT_REFUSED: u8 = 1;
/// Exit status for usage and I/O errors.
const EXIT_USAGE: u8 = 2;

/// Where the form is kept.
#[derive(clap::Args, Debug, Clone)]
pub struct DbArg {
    /// The form's database (SQLite, created with mode 0600).
    #[arg(long, default_value = "servizi03.db")]
    db: PathBuf,
}

/// The instant of an operation.
#[derive(clap::Args, Debug, Clone)]
pub struct NowArg {
    /// The instant to use instead of the clock (for tests and simulations):
    /// RFC 3339 (`2026-04-27T10:00:00Z`) or Rome time `2026-04-27T12:00`.
    #[arg(long)]
    now: Option<String>,
}

/// The `anist infanzia` subcommands.
// The flattened `db` / `now` fields are documented on DbArg and NowArg.
#[allow(missing_docs)]
#[derive(Subcommand, Debug)]
pub enum InfanziaCommand {
    /// Import the services registry (CSV): creates the form, or updates it
    /// (changed services must cite their latest authorisation act; new ones
    /// are added only if authorised and active).
    ImportRegistry {
        #[command(flatten)]
        db: DbArg,
        /// The registry CSV (codice; tipologia; denominazione; indirizzo;
        /// gestore; posti; provvedimento; data provvedimento; data
        /// attivazione).
        #[arg(long)]
        file: PathBuf,
        /// The Comune (for a new form).
        #[arg(long, default_value = "Comune")]
        comune: String,
        /// Survey year of a new form (built-in: 2026).
        #[arg(long, default_value_t = 2026)]
        year: i32,
        /// A JSON file with the survey's dates (for a year not built in).
        #[arg(long)]
        survey: Option<PathBuf>,
    },
    /// Add a service missing from the Region's list ("AGGIUNGI SERVIZIO"):
    /// only if authorised and active.
    AddService {
        #[command(flatten)]
        db: DbArg,
        /// Identifier.
        #[arg(long)]
        id: String,
        /// Type: asilo-nido, micro-nido, sezione-primavera, nido-in-famiglia,
        /// centro-custodia-oraria.
        #[arg(long)]
        tipo: String,
        /// Name.
        #[arg(long)]
        nome: String,
        /// Address.
        #[arg(long, default_value = "")]
        indirizzo: String,
        /// Manager.
        #[arg(long, default_value = "")]
        gestore: String,
        /// Authorised capacity (posti).
        #[arg(long)]
        posti: u32,
        /// Reference of the authorisation act.
        #[arg(long)]
        provvedimento: String,
        /// Date of the authorisation act (dd/mm/yyyy).
        #[arg(long)]
        data_provvedimento: String,
        /// Activation date (dd/mm/yyyy).
        #[arg(long)]
        data_attivazione: Option<String>,
    },
    /// Import attendance registers (CSV of monthly/daily counts, or of
    /// presences of children, which are counted and not kept).
    ImportRegisters {
        #[command(flatten)]
        db: DbArg,
        /// The registers CSV.
        #[arg(long)]
        file: PathBuf,
    },
    /// Declare a service CESSATO, SOSPESO or NON RAGGIUNTO (or --clear).
    Declare {
        #[command(flatten)]
        db: DbArg,
        /// The service's identifier.
        #[arg(long)]
        service: String,
        /// cessato, sospeso, non-raggiunto.
        #[arg(long, required_unless_present = "clear")]
        tipo: Option<String>,
        /// The reason (mandatory for NON RAGGIUNTO), the act of cessation
        /// (mandatory for CESSATO) or a note (SOSPESO).
        #[arg(long, default_value = "")]
        motivo: String,
        /// Withdraw the declaration.
        #[arg(long)]
        clear: bool,
    },
    /// Compute the average attendance of every service and print it.
    Compute {
        #[command(flatten)]
        db: DbArg,
        /// monthly (default, documented assumption) or daily.
        #[arg(long)]
        method: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List every problem that stops sending (exit status 1 if any).
    Check {
        #[command(flatten)]
        db: DbArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Send the form for validation (inside the window, with no problem).
    Send {
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        now: NowArg,
    },
    /// The form's state, the window and the history.
    Status {
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        now: NowArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Simulate the Region: validate the sent form.
    Validate {
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        now: NowArg,
    },
    /// Simulate the Region: refuse the sent form with correction notes.
    Reject {
        #[command(flatten)]
        db: DbArg,
        #[command(flatten)]
        now: NowArg,
        /// The correction notes (mandatory).
        #[arg(long)]
        notes: String,
    },
    /// Export the form: CSV (Italian Excel), JSON, printable summary. With
    /// no file named, the summary is printed.
    Export {
        #[command(flatten)]
        db: DbArg,
        /// CSV file.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// JSON file.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Text summary file.
        #[arg(long)]
        summary: Option<PathBuf>,
    },
    /// The whole life cycle on a bundled synthetic Comune, written into
    /// --dir: import, declare, compute, check, send, refusal, correction,
    /// re-send, validation, export.
    Demo {
        /// Where to write the form and the exports.
        #[arg(long, default_value = "anist-infanzia-demo")]
        dir: PathBuf,
    },
}

/// Why a command failed: the code and the message, and whether it is a
/// refusal (exit 1) or a usage / I/O error (exit 2).
#[derive(Debug)]
struct Failure {
    code: String,
    message: String,
    refused: bool,
}

impl From<InfanziaFileError> for Failure {
    fn from(e: InfanziaFileError) -> Self {
        let refused = matches!(e, InfanziaFileError::Form(_));
        Failure {
            code: e.code().to_owned(),
            message: e.to_string(),
            refused,
        }
    }
}

impl From<anist_core::infanzia::InfanziaError> for Failure {
    fn from(e: anist_core::infanzia::InfanziaError) -> Self {
        let problems: Vec<String> = e.problems().iter().map(|p| format!("  - {p}")).collect();
        let message = if problems.is_empty() {
            e.to_string()
        } else {
            format!(
                "il modulo non può essere inviato, {} problemi da correggere:\n{}",
                problems.len(),
                problems.join("\n")
            )
        };
        Failure {
            code: e.code().to_owned(),
            message,
            refused: true,
        }
    }
}

fn usage(code: &str, message: impl Into<String>) -> Failure {
    Failure {
        code: code.to_owned(),
        message: message.into(),
        refused: false,
    }
}

/// Reads `--now`: RFC 3339, or a Rome wall-clock time; the clock if absent.
pub fn parse_now(now: Option<&str>) -> Result<DateTime<Utc>, String> {
    let Some(s) = now.map(str::trim) else {
        return Ok(Utc::now());
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(l) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(rome_to_utc(l));
        }
    }
    Err(format!(
        "--now {s:?}: scrivere 2026-04-27T10:00:00Z (UTC) oppure 2026-04-27T12:00 (ora di Roma)"
    ))
}

fn now_of(a: &NowArg) -> Result<DateTime<Utc>, Failure> {
    parse_now(a.now.as_deref()).map_err(|m| usage("infanzia_usage", m))
}

/// Writes `bytes` to `path`, created or truncated with mode 0600.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| usage("infanzia_write", format!("{}: {e}", path.display())))
}

fn open_file(path: &Path) -> Result<std::fs::File, Failure> {
    std::fs::File::open(path).map_err(|e| usage("infanzia_io", format!("{}: {e}", path.display())))
}

/// Runs one `anist infanzia` command; prints to standard output and
/// errors to standard error.
pub fn run(cmd: InfanziaCommand) -> ExitCode {
    match execute(cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("errore [{}]: {}", f.code, f.message);
            ExitCode::from(if f.refused { EXIT_REFUSED } else { EXIT_USAGE })
        }
    }
}

fn with_form(
    db: &DbArg,
    action: &str,
    f: impl FnOnce(&mut Form) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let store = FormStore::open(&db.db)?;
    let mut form = store.require()?;
    f(&mut form)?;
    store.save(&form, action)?;
    Ok(())
}

fn execute(cmd: InfanziaCommand) -> Result<(), Failure> {
    match cmd {
        InfanziaCommand::ImportRegistry {
            db,
            file,
            comune,
            year,
            survey,
        } => import_registry(&db.db, &file, &comune, year, survey.as_deref()),
        InfanziaCommand::AddService {
            db,
            id,
            tipo,
            nome,
            indirizzo,
            gestore,
            posti,
            provvedimento,
            data_provvedimento,
            data_attivazione,
        } => {
            let date = |s: &str, what: &str| {
                parse_date_it(s).map_err(|e| {
                    usage(
                        e.code(),
                        format!("{what} {s:?} non valida: scrivere gg/mm/aaaa"),
                    )
                })
            };
            let service = Service {
                id,
                kind: ServiceType::parse(&tipo)?,
                name: nome,
                address: indirizzo,
                manager: gestore,
                capacity: posti,
                authorisation: AuthorisationAct {
                    reference: provvedimento,
                    date: date(&data_provvedimento, "--data-provvedimento")?,
                },
                activation: data_attivazione
                    .as_deref()
                    .map(|s| date(s, "--data-attivazione"))
                    .transpose()?,
                first_authorisation: None,
                added_by_comune: true,
            };
            let id = service.id.clone();
            with_form(&db, "add-service", |form| Ok(form.add_service(service)?))?;
            println!("servizio {id} aggiunto all'elenco.");
            Ok(())
        }
        InfanziaCommand::ImportRegisters { db, file } => {
            let read = read_registers(open_file(&file)?)?;
            with_form(&db, "import-registers", |form| {
                let unknown = read.apply(form)?;
                println!(
                    "registri: {} righe lette, {} servizi, {} righe scartate.",
                    read.rows,
                    read.counts.len() - unknown.len(),
                    read.errors.len()
                );
                for e in &read.errors {
                    println!("  riga {}: [{}] {}", e.line, e.code, e.message);
                }
                for id in unknown {
                    println!("  servizio {id} non presente nel modulo: conteggi ignorati");
                }
                Ok(())
            })
        }
        InfanziaCommand::Declare {
            db,
            service,
            tipo,
            motivo,
            clear,
        } => {
            let decl = match (clear, tipo) {
                (true, _) => None,
                (false, Some(t)) => Some(Declaration::parse(&t, &motivo)?),
                (false, None) => return Err(usage("infanzia_usage", "indicare --tipo o --clear")),
            };
            let label = decl.as_ref().map(|d| d.label()).unwrap_or("nessuna");
            with_form(&db, "declare", |form| {
                Ok(form.declare(&service, decl.clone())?)
            })?;
            println!("servizio {service}: dichiarazione {label}.");
            Ok(())
        }
        InfanziaCommand::Compute { db, method, json } => {
            let store = FormStore::open(&db.db)?;
            let mut form = store.require()?;
            if let Some(m) = method {
                let m = AveragingMethod::parse(&m).ok_or_else(|| {
                    usage(
                        "infanzia_usage",
                        format!("--method {m:?}: usare monthly o daily"),
                    )
                })?;
                form.set_method(m)?;
                store.save(&form, "method")?;
                // The method is the form's from now on: say so.
                eprintln!(
                    "metodo di calcolo della media salvato nel modulo: {} (vale anche per check e send)",
                    match m {
                        AveragingMethod::Monthly => "mensile",
                        AveragingMethod::Daily => "giornaliero",
                    }
                );
            }
            if json {
                let v = form_json(&form);
                println!(
                    "{}",
                    serde_json::to_string_pretty(&v["outcomes"]).unwrap_or_default()
                );
            } else {
                print_averages(&form);
            }
            Ok(())
        }
        InfanziaCommand::Check { db, json } => {
            let form = FormStore::open(&db.db)?.require()?;
            let problems = form.check();
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&problems).unwrap_or_default()
                );
            } else if problems.is_empty() {
                println!("nessun problema: il modulo può essere inviato.");
            } else {
                println!("{} problemi da correggere:", problems.len());
                for p in &problems {
                    println!("  - {p}");
                }
            }
            if problems.is_empty() {
                Ok(())
            } else {
                Err(Failure {
                    code: "infanzia_check_failed".into(),
                    message: format!("{} problemi da correggere prima dell'invio", problems.len()),
                    refused: true,
                })
            }
        }
        InfanziaCommand::Send { db, now } => {
            let now = now_of(&now)?;
            with_form(&db, "send", |form| Ok(form.send(now)?))?;
            println!(
                "modulo INVIATO in validazione il {} (ora di Roma).",
                utc_to_rome(now).format("%d/%m/%Y alle %H:%M")
            );
            Ok(())
        }
        InfanziaCommand::Validate { db, now } => {
            let now = now_of(&now)?;
            with_form(&db, "validate", |form| Ok(form.validate(now)?))?;
            println!("modulo VALIDATO dalla Regione.");
            Ok(())
        }
        InfanziaCommand::Reject { db, now, notes } => {
            let now = now_of(&now)?;
            with_form(&db, "reject", |form| Ok(form.reject(&notes, now)?))?;
            println!("modulo RIFIUTATO: torna modificabile; correggere e inviare di nuovo.");
            Ok(())
        }
        InfanziaCommand::Status { db, now, json } => {
            let now = now_of(&now)?;
            let form = FormStore::open(&db.db)?.require()?;
            print_status(&form, now, json);
            Ok(())
        }
        InfanziaCommand::Export {
            db,
            csv,
            json,
            summary,
        } => {
            let form = FormStore::open(&db.db)?.require()?;
            export(&form, csv.as_deref(), json.as_deref(), summary.as_deref())
        }
        InfanziaCommand::Demo { dir } => demo(&dir),
    }
}

fn import_registry(
    db: &Path,
    file: &Path,
    comune: &str,
    year: i32,
    survey: Option<&Path>,
) -> Result<(), Failure> {
    let read = read_registry(open_file(file)?)?;
    let store = FormStore::open(db)?;
    let mut added = 0;
    let mut updated = 0;
    let form = match store.load()? {
        None => {
            let config = match survey {
                Some(p) => {
                    let text = std::fs::read_to_string(p)
                        .map_err(|e| usage("infanzia_io", format!("{}: {e}", p.display())))?;
                    let c: SurveyConfig = serde_json::from_str(&text).map_err(|e| {
                        usage("infanzia_config", format!("{}: {e}", p.display()))
                    })?;
                    c.validate()?;
                    c
                }
                None => SurveyConfig::for_year(year).ok_or_else(|| {
                    usage(
                        "infanzia_config",
                        format!("nessuna configurazione incorporata per il {year}: indicare --survey FILE.json"),
                    )
                })?,
            };
            added = read.services.len();
            Form::new(comune, config, read.services)
        }
        Some(mut form) => {
            for s in read.services {
                if form.entry(&s.id).is_some() {
                    if !form.update_service(s)?.is_empty() {
                        updated += 1;
                    }
                } else {
                    form.add_service(s)?;
                    added += 1;
                }
            }
            form
        }
    };
    store.save(&form, "import-registry")?;
    println!(
        "elenco servizi: {added} aggiunti, {updated} aggiornati, {} righe scartate; modulo {} in {}.",
        read.errors.len(),
        form.state.code(),
        db.display()
    );
    for e in &read.errors {
        println!("  riga {}: [{}] {}", e.line, e.code, e.message);
    }
    Ok(())
}

fn print_averages(form: &Form) {
    println!(
        "medie dei frequentanti (metodo {}):",
        match form.method {
            AveragingMethod::Monthly => "mensile",
            AveragingMethod::Daily => "giornaliero",
        }
    );
    for e in &form.services {
        let s = &e.service;
        let what = match form.outcome(e) {
            ServiceOutcome::Declared(d) => format!("{} (nessuna media)", d.label()),
            ServiceOutcome::Average(a) => format!(
                "media {} su {} {} dal {} al {} ({})",
                a.average,
                a.units,
                match a.method {
                    AveragingMethod::Monthly => "mesi",
                    AveragingMethod::Daily => "giorni",
                },
                format_date_it(a.period.start),
                format_date_it(a.period.end),
                a.period.rule.label()
            ),
            ServiceOutcome::Missing => "DA COMPLETARE: nessun conteggio nel periodo".to_owned(),
            ServiceOutcome::NotActive(err) => format!("NON ATTIVO: {err}"),
        };
        println!("  {:<10} {:<34} {what}", s.id, s.name);
    }
}

fn print_status(form: &Form, now: DateTime<Utc>, json: bool) {
    let status = form.survey.window_status(now);
    if json {
        let v = serde_json::json!({
            "comune": form.comune,
            "year": form.survey.year,
            "state": form.state.code(),
            "notes": match &form.state { anist_core::infanzia::FormState::Rifiutato { notes } => Some(notes), _ => None },
            "window": status.code(),
            "problems": form.check().len(),
            "history": form.history,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    println!("{} – rilevazione {}", form.comune, form.survey.year);
    println!("stato: {}", form.state.label());
    if let anist_core::infanzia::FormState::Rifiutato { notes } = &form.state {
        println!("indicazioni di correzione: {notes}");
    }
    match status {
        WindowStatus::NotYetOpen { opens } => {
            println!(
                "finestra di invio: non ancora aperta, apre {} (ora di Roma)",
                format_rome_it(opens)
            );
        }
        WindowStatus::Open { closes } => {
            println!(
                "finestra di invio: aperta, chiude {} (ora di Roma)",
                format_rome_it(closes)
            );
        }
        WindowStatus::Closed { closed } => {
            println!(
                "finestra di invio: chiusa {} (ora di Roma)",
                format_rome_it(closed)
            );
        }
    }
    let problems = form.check().len();
    println!(
        "servizi: {}; problemi da correggere: {problems}",
        form.services.len()
    );
    for t in &form.history {
        println!(
            "  {} → {} il {}{}",
            t.from,
            t.to,
            utc_to_rome(t.at).format("%d/%m/%Y %H:%M"),
            t.notes
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        );
    }
}

fn export(
    form: &Form,
    csv: Option<&Path>,
    json: Option<&Path>,
    summary: Option<&Path>,
) -> Result<(), Failure> {
    if let Some(p) = csv {
        let bytes = write_form_csv(form, Vec::new())?;
        write_private(p, &bytes)?;
        println!("CSV scritto in {}", p.display());
    }
    if let Some(p) = json {
        let text = serde_json::to_string_pretty(&form_json(form)).unwrap_or_default();
        write_private(p, text.as_bytes())?;
        println!("JSON scritto in {}", p.display());
    }
    if let Some(p) = summary {
        write_private(p, summary_text(form).as_bytes())?;
        println!("riepilogo scritto in {}", p.display());
    }
    if csv.is_none() && json.is_none() && summary.is_none() {
        print!("{}", summary_text(form));
    }
    Ok(())
}

fn step(title: &str) {
    println!();
    println!("== {title}");
}

fn at(s: &str) -> Result<DateTime<Utc>, Failure> {
    parse_now(Some(s)).map_err(|m| usage("infanzia_usage", m))
}

fn demo(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| usage("infanzia_io", format!("{}: {e}", dir.display())))?;
    let db = dir.join("servizi03.db");
    let _ = std::fs::remove_file(&db);
    let registry = dir.join("servizi.csv");
    let registers = dir.join("registri.csv");
    write_private(&registry, DEMO_REGISTRY.as_bytes())?;
    write_private(&registers, DEMO_REGISTERS.as_bytes())?;
    let db_arg = DbArg { db: db.clone() };

    step("1. elenco dei servizi precaricato dalla Regione");
    import_registry(&db, &registry, DEMO_COMUNE, 2026, None)?;
    step("2. registri delle presenze (conteggi mensili)");
    execute(InfanziaCommand::ImportRegisters {
        db: db_arg.clone(),
        file: registers.clone(),
    })?;
    step("3. controllo prima delle dichiarazioni");
    if let Err(f) = execute(InfanziaCommand::Check {
        db: db_arg.clone(),
        json: false,
    }) {
        println!("(atteso) [{}] {}", f.code, f.message);
    }
    step("4. dichiarazioni");
    let declare = |service: &str, tipo: &str, motivo: &str| {
        execute(InfanziaCommand::Declare {
            db: db_arg.clone(),
            service: service.into(),
            tipo: Some(tipo.into()),
            motivo: motivo.into(),
            clear: false,
        })
    };
    declare(
        "TO-0103",
        "sospeso",
        "sezione non attivata nell'anno educativo 2025/26",
    )?;
    if let Err(f) = declare("TO-0104", "non-raggiunto", "") {
        println!("(atteso) [{}] {}", f.code, f.message);
    }
    declare(
        "TO-0104",
        "non-raggiunto",
        "il gestore non è interessato alla contribuzione pubblica",
    )?;
    declare("TO-0106", "cessato", "Det. 201/2025 del 30/12/2025")?;
    step("5. medie dei frequentanti");
    execute(InfanziaCommand::Compute {
        db: db_arg.clone(),
        method: None,
        json: false,
    })?;
    step("6. invio prima dell'apertura: lunedì 27/04/2026 alle 11:59 (ora di Roma)");
    let store = FormStore::open(&db)?;
    let mut form = store.require()?;
    if let Err(e) = form.send(at("2026-04-27T11:59")?) {
        println!("(atteso) [{}] {e}", e.code());
    }
    step("7. invio alle 12:00 di lunedì 27/04/2026");
    form.send(at("2026-04-27T12:00")?)?;
    store.save(&form, "send")?;
    println!("stato: {}", form.state.label());
    step("8. la Regione rifiuta con indicazioni di correzione");
    form.reject(
        "TO-0102: i posti autorizzati sono 22 secondo la Det. 61/2025",
        at("2026-05-05T09:30")?,
    )?;
    store.save(&form, "reject")?;
    println!("stato: {}", form.state.label());
    step("9. correzione conforme al provvedimento più recente e nuovo invio");
    if let Some(e) = form.entry("TO-0102") {
        let mut s = e.service.clone();
        s.capacity = 22;
        s.authorisation = AuthorisationAct {
            reference: "Det. 61/2025".into(),
            date: parse_date_it("20/11/2025").map_err(|e| usage(e.code(), e.to_string()))?,
        };
        let fields = form.update_service(s)?;
        let fields: Vec<&str> = fields.iter().map(|f| field_it(f)).collect();
        println!(
            "TO-0102 aggiornato ({}) secondo Det. 61/2025",
            fields.join(", ")
        );
    }
    form.send(at("2026-05-06T10:00")?)?;
    store.save(&form, "send")?;
    println!("stato: {}", form.state.label());
    step("10. la Regione valida");
    form.validate(at("2026-05-12T15:00")?)?;
    store.save(&form, "validate")?;
    println!("stato: {}", form.state.label());
    step("11. dopo la chiusura: lunedì 18/05/2026 alle 12:00");
    match form.survey.check_window(at("2026-05-18T12:00")?) {
        Err(e) => println!("[{}] {e}", e.code()),
        Ok(()) => println!("finestra aperta"),
    }
    step("12. esportazione");
    export(
        &form,
        Some(&dir.join("servizi03.csv")),
        Some(&dir.join("servizi03.json")),
        Some(&dir.join("servizi03.txt")),
    )?;
    println!();
    print!("{}", summary_text(&form));
    Ok(())
}

/// The Italian name of a registry field changed by an update (the codes of
/// `Form::update_service`).
fn field_it(code: &str) -> &str {
    match code {
        "kind" => "tipo",
        "name" => "denominazione",
        "address" => "indirizzo",
        "manager" => "gestore",
        "capacity" => "posti",
        "authorisation" => "provvedimento",
        "activation" => "data di attivazione",
        "first_authorisation" => "prima autorizzazione",
        other => other,
    }
}
