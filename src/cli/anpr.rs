//! `anist anpr cerca`: one ANPR E002 lookup over PDND (C030 → ID ANPR →
//! C015 generalità / C020 residenza / C021 famiglia), by codice fiscale or
//! ID ANPR, printed in Italian (personal data masked unless
//! `--show-data`) or as JSON. Calls go to an in-process sandbox unless
//! `--config` names a configuration file; every call is recorded in the
//! audit trail; the `idOperazioneClient` sequence is kept in `--ids`.
//!
//! Exit status: 0 answered (found or not found), 1 ANPR refused or the
//! call failed, 2 usage.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anist_client::anpr::{
    AnprClient, AnprClientError, OperationIds, Richiesta, Risposta, Servizio, Soggetto,
};
use anist_client::audit::AuditError;
use anist_client::call::CallError;
use anist_client::clock::SystemClock;
use anist_client::config::{Config, ConfigError};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxError, SandboxHandle};
use anist_core::anpr::e002::{Comune, DatiSoggetto};
use anist_core::anpr::esito::{Esito, Soggetto as SoggettoAnpr};
use anist_core::anpr::IdAnpr;
use anist_core::cf::CodiceFiscale;
use anist_core::csvio::parse_date_it;
use anist_core::{ErrorCode, ErrorKind, Sent};
use serde_json::{json, Value};

pub use crate::cli::anpr_common::AnprTarget;
use crate::cli::anpr_common::{date_it, line, mask};
use crate::cli::caivano::{Target, DEFAULT_SANDBOX_SEED};

const EXIT_USAGE: u8 = 2;

/// `anist anpr …`.
#[derive(clap::Subcommand)]
pub enum AnprCommand {
    /// One lookup by codice fiscale (C030 first, then the service by ID
    /// ANPR) or by ID ANPR.
    Cerca(CercaArgs),
    /// Search by identity document (carta d'identità, permesso di
    /// soggiorno, passaporto) through the Comune's ANPR SOAP channel
    /// (service 3002, not PDND).
    Documento(crate::cli::anpr_documento::DocumentoArgs),
    /// A CSV of codici fiscali or ID ANPR through the massive e-services
    /// (C030 / C020 massivo), omitted subjects asked again singly.
    Massiva(crate::cli::anpr_massiva::MassivaArgs),
}

/// `anist anpr cerca`.
#[derive(clap::Args, Debug)]
pub struct CercaArgs {
    /// The person's codice fiscale.
    #[arg(long, conflicts_with = "id_anpr", required_unless_present = "id_anpr")]
    pub cf: Option<String>,
    /// The person's ID ANPR (9 letters and digits).
    #[arg(long)]
    pub id_anpr: Option<String>,
    /// What to ask: generalita (C015), residenza (C020), famiglia (C021),
    /// id-anpr (C030 only, by codice fiscale).
    #[arg(long, default_value = "generalita")]
    pub servizio: String,
    /// The reference of the file the lookup is for (protocollo, fascicolo):
    /// mandatory, sent as motivoRichiesta.
    #[arg(long)]
    pub motivo: String,
    /// The reference date (dd/mm/yyyy; default: today).
    #[arg(long)]
    pub data: Option<String>,
    /// Print codici fiscali, names, dates and addresses in clear.
    #[arg(long)]
    pub show_data: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Where the calls go, and the audit trail and id store they use.
    #[command(flatten)]
    pub target: AnprTarget,
}

/// Why `anist anpr` failed. Every variant has a stable code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnprCmdError {
    /// An argument is not valid.
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
    /// The audit trail could not be opened.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// ANPR gave no answer.
    #[error(transparent)]
    Anpr(#[from] AnprClientError),
    /// The async runtime could not start.
    #[error("the async runtime could not start: {0}")]
    Runtime(String),
}

impl ErrorCode for AnprCmdError {
    fn code(&self) -> &'static str {
        match self {
            AnprCmdError::Usage(_) => "anpr_usage",
            AnprCmdError::Config(e) => e.code(),
            AnprCmdError::Sandbox(e) => e.code(),
            AnprCmdError::Session(e) => e.code(),
            AnprCmdError::Audit(e) => e.code(),
            AnprCmdError::Anpr(e) => e.code(),
            AnprCmdError::Runtime(_) => "anpr_runtime",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            AnprCmdError::Usage(_) => ErrorKind::InvalidArgument,
            AnprCmdError::Config(e) => e.kind(),
            AnprCmdError::Sandbox(e) => e.kind(),
            AnprCmdError::Session(e) => e.kind(),
            AnprCmdError::Audit(e) => e.kind(),
            AnprCmdError::Anpr(e) => e.kind(),
            AnprCmdError::Runtime(_) => ErrorKind::Local,
        }
    }

    fn request_sent(&self) -> Option<Sent> {
        self.wrapped().and_then(ErrorCode::request_sent)
    }

    fn retry_after(&self) -> Option<Duration> {
        self.wrapped().and_then(ErrorCode::retry_after)
    }
}

impl AnprCmdError {
    /// The error this one shows the code of, when it wraps one.
    fn wrapped(&self) -> Option<&dyn ErrorCode> {
        match self {
            AnprCmdError::Config(e) => Some(e),
            AnprCmdError::Sandbox(e) => Some(e),
            AnprCmdError::Session(e) => Some(e),
            AnprCmdError::Audit(e) => Some(e),
            AnprCmdError::Anpr(e) => Some(e),
            AnprCmdError::Usage(_) | AnprCmdError::Runtime(_) => None,
        }
    }
}

/// Runs `anist anpr …`, printing the answer.
pub fn run(cmd: AnprCommand) -> ExitCode {
    match cmd {
        AnprCommand::Cerca(args) => match cerca(&args) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("errore [{}]: {e}", e.code());
                match e {
                    AnprCmdError::Usage(_)
                    | AnprCmdError::Anpr(AnprClientError::Anpr(
                        anist_core::anpr::esito::E002Error::MotivoMissing,
                    )) => ExitCode::from(EXIT_USAGE),
                    _ => ExitCode::FAILURE,
                }
            }
        },
        AnprCommand::Documento(args) => crate::cli::anpr_documento::run(&args),
        AnprCommand::Massiva(args) => crate::cli::anpr_massiva::run(&args),
    }
}

fn parse_servizio(s: &str) -> Result<Servizio, AnprCmdError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "generalita" | "generalità" | "c015" => Ok(Servizio::Generalita),
        "residenza" | "c020" => Ok(Servizio::Residenza),
        "famiglia" | "stato-famiglia" | "c021" => Ok(Servizio::Famiglia),
        "id-anpr" | "id" | "c030" => Ok(Servizio::IdAnpr),
        other => Err(AnprCmdError::Usage(format!(
            "--servizio {other:?}: scegli generalita, residenza, famiglia o id-anpr"
        ))),
    }
}

/// The lookup `args` describe.
///
/// # Errors
/// [`AnprCmdError::Usage`].
pub fn richiesta(args: &CercaArgs) -> Result<Richiesta, AnprCmdError> {
    let soggetto =
        match (&args.cf, &args.id_anpr) {
            (Some(cf), None) => Soggetto::CodiceFiscale(CodiceFiscale::parse(cf).map_err(|e| {
                AnprCmdError::Usage(format!("--cf [{}]: {}", e.code(), e.messaggio()))
            })?),
            (None, Some(id)) => Soggetto::IdAnpr(
                IdAnpr::parse(id)
                    .map_err(|e| AnprCmdError::Usage(format!("--id-anpr [{}]: {e}", e.code())))?,
            ),
            _ => {
                return Err(AnprCmdError::Usage(
                    "indica --cf oppure --id-anpr (uno dei due)".into(),
                ))
            }
        };
    let servizio = parse_servizio(&args.servizio)?;
    if servizio == Servizio::IdAnpr && matches!(soggetto, Soggetto::IdAnpr(_)) {
        return Err(AnprCmdError::Usage(
            "--servizio id-anpr cerca l'ID ANPR di un codice fiscale: usa --cf".into(),
        ));
    }
    if args.motivo.trim().is_empty() {
        return Err(AnprCmdError::Usage(
            "--motivo è obbligatorio: indica il riferimento della pratica (es. \"prot. 123\")"
                .into(),
        ));
    }
    let data = args
        .data
        .as_deref()
        .map(|d| {
            parse_date_it(d)
                .map_err(|e| AnprCmdError::Usage(format!("--data {d:?} [{}]: {e}", e.code())))
        })
        .transpose()?;
    Ok(Richiesta {
        soggetto,
        servizio,
        motivo: args.motivo.clone(),
        data,
    })
}

fn target(args: &CercaArgs) -> Target {
    match &args.target.config {
        Some(p) => Target::Config(p.clone()),
        None => Target::Sandbox {
            seed: args.target.seed.unwrap_or(DEFAULT_SANDBOX_SEED),
        },
    }
}

/// Asks ANPR and renders the answer (text or JSON).
///
/// # Errors
/// [`AnprCmdError`]; "not found" is an answer, not an error.
pub fn cerca(args: &CercaArgs) -> Result<String, AnprCmdError> {
    let richiesta = richiesta(args)?;
    // Opened before anything is asked: nothing is asked that is not recorded.
    let audit = Arc::new(args.target.open_audit()?);
    let ids = Arc::new(OperationIds::open(&args.target.ids)?);
    let rt = anist_client::blocking::runtime().map_err(|e| AnprCmdError::Runtime(e.to_string()))?;
    rt.block_on(async {
        let (session, sandbox): (_, Option<SandboxHandle>) = match target(args) {
            Target::Sandbox { seed } => {
                let handle = Sandbox::start(SandboxConfig::with_default_client(seed)?).await?;
                (handle.session()?, Some(handle))
            }
            Target::Config(path) => {
                let config = Config::load(&path)?;
                (config.session(Arc::new(SystemClock))?, None)
            }
        };
        let client = AnprClient::new(Arc::new(session), ids).with_audit(audit);
        let result = client.cerca(&richiesta).await;
        if let Some(h) = sandbox {
            h.shutdown().await;
        }
        let risposta = result?;
        Ok(if args.json {
            let mut s = render_json(&richiesta, &risposta, args.show_data).to_string();
            s.push('\n');
            s
        } else {
            render_text(&richiesta, &risposta, args.show_data)
        })
    })
}

fn comune_it(c: &Comune) -> String {
    let name = c
        .nome_comune
        .as_deref()
        .or(c.descrizione_localita.as_deref())
        .unwrap_or("?");
    match &c.sigla_provincia_istat {
        Some(p) => format!("{name} ({p})"),
        None => name.to_string(),
    }
}

fn servizio_it(s: Servizio) -> &'static str {
    match s {
        Servizio::IdAnpr => "identificativo unico nazionale (C030)",
        Servizio::Generalita => "generalità (C015)",
        Servizio::Residenza => "residenza (C020)",
        Servizio::Famiglia => "stato di famiglia (C021)",
        _ => "servizio",
    }
}

fn legame_it(code: &str) -> &'static str {
    match code {
        "1" => "intestatario scheda",
        "2" => "coniuge",
        "3" => "figlio/a",
        _ => "altro componente",
    }
}

fn soggetto_text(out: &mut String, n: usize, s: &SoggettoAnpr, show: bool) {
    let _ = writeln!(out, "Soggetto {n}");
    let d: &DatiSoggetto = &s.dati;
    if let Some(id) = d.id_anpr() {
        line(out, "ID ANPR:", &mask(id, show));
    }
    if let Some(g) = &d.generalita {
        if let Some(cf) = g.cf() {
            line(out, "Codice fiscale:", &mask(cf, show));
        }
        let cognome = g
            .cognome
            .as_deref()
            .map(|c| mask(c, show))
            .unwrap_or_default();
        let nome = g.nome.as_deref().map(|c| mask(c, show)).unwrap_or_default();
        line(out, "Cognome e nome:", format!("{cognome} {nome}").trim());
        if let Some(sesso) = &g.sesso {
            line(out, "Sesso:", sesso);
        }
        if let Some(dn) = &g.data_nascita {
            line(out, "Data di nascita:", &date_it(dn, show));
        }
        if let Some(c) = g.luogo_nascita.as_ref().and_then(|l| l.comune.as_ref()) {
            line(out, "Luogo di nascita:", &comune_it(c));
        }
    }
    if let Some(dec) = &d.dati_decesso {
        let when = dec
            .data_evento
            .as_deref()
            .map(|x| date_it(x, show))
            .unwrap_or_default();
        line(out, "Deceduto:", format!("sì {when}").trim());
    }
    for r in &d.residenza {
        let mut text = String::new();
        if let Some(i) = &r.indirizzo {
            if show {
                if let Some(t) = &i.toponimo {
                    let _ = write!(
                        text,
                        "{} {} ",
                        t.specie.as_deref().unwrap_or(""),
                        t.denominazione_toponimo.as_deref().unwrap_or("")
                    );
                }
                if let Some(n) = i.numero_civico.as_ref().and_then(|n| n.numero.as_deref()) {
                    let _ = write!(text, "{n}, ");
                }
                if let Some(cap) = &i.cap {
                    let _ = write!(text, "{cap} ");
                }
            }
            if let Some(c) = &i.comune {
                text.push_str(&comune_it(c));
            }
        } else if r.localita_estera.is_some() {
            text.push_str("all'estero");
        }
        if let Some(dal) = &r.data_decorrenza_residenza {
            let _ = write!(text, " dal {}", date_it(dal, show));
        }
        line(out, "Residenza:", text.trim());
    }
    if let Some(l) = &d.legame_soggetto {
        if let Some(code) = &l.codice_legame {
            line(out, "Legame:", &format!("{code} {}", legame_it(code)));
        }
    }
    for i in &d.info_soggetto_ente {
        let chiave = i.chiave.as_deref().unwrap_or("informazione");
        let valore = i.valore.map(|v| v.label()).unwrap_or("-");
        line(out, &format!("{chiave}:"), valore);
    }
}

/// The answer as text for a terminal, in Italian.
pub fn render_text(richiesta: &Richiesta, risposta: &Risposta, show: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "ANPR — {}", servizio_it(richiesta.servizio));
    match &risposta.esito {
        Esito::NonTrovato { .. } => {
            let _ = writeln!(
                out,
                "Nessun soggetto trovato in ANPR (EN122): il soggetto non risulta registrato alla data di riferimento."
            );
        }
        Esito::Trovato { soggetti, .. } => {
            let what = if richiesta.servizio == Servizio::Famiglia {
                "Componenti della famiglia"
            } else {
                "Soggetti trovati"
            };
            let _ = writeln!(out, "{what}: {}", soggetti.len());
            if soggetti.len() > 1 && richiesta.servizio != Servizio::Famiglia {
                let _ = writeln!(
                    out,
                    "Attenzione: ANPR restituisce più soggetti (omocodia): verificare quale è quello della pratica."
                );
            }
            for (i, s) in soggetti.iter().enumerate() {
                soggetto_text(&mut out, i + 1, s, show);
            }
        }
    }
    if !risposta.avvisi.is_empty() {
        let _ = writeln!(out, "Avvisi di ANPR:");
        for a in &risposta.avvisi {
            let tipo = if a.is_warning() { "avviso" } else { "anomalia" };
            let _ = writeln!(out, "  {} ({tipo}): {}", a.codice(), a.testo());
        }
    }
    if !show {
        let _ = writeln!(out, "(dati personali mascherati: --show-data per vederli)");
    }
    out
}

/// The answer as JSON: `esito` (`trovato` / `non_trovato`), `servizio`,
/// `id_anpr`, `avvisi`, `soggetti` (ANPR's own blocks and names, masked
/// unless `show`).
pub fn render_json(richiesta: &Richiesta, risposta: &Risposta, show: bool) -> Value {
    let soggetti: Vec<Value> = risposta
        .esito
        .soggetti()
        .iter()
        .map(|s| {
            if show {
                serde_json::to_value(&s.dati).unwrap_or(Value::Null)
            } else {
                let g = s.dati.generalita.as_ref();
                json!({
                    "idANPR": s.dati.id_anpr().map(|x| mask(x, false)),
                    "codiceFiscale": g.and_then(|g| g.cf()).map(|x| mask(x, false)),
                    "cognome": g.and_then(|g| g.cognome.as_deref()).map(|x| mask(x, false)),
                    "nome": g.and_then(|g| g.nome.as_deref()).map(|x| mask(x, false)),
                    "deceduto": s.deceduto(),
                    "residenze": s.dati.residenza.len(),
                    "codiceLegame": s.dati.legame_soggetto.as_ref().and_then(|l| l.codice_legame.clone()),
                })
            }
        })
        .collect();
    json!({
        "esito": match risposta.esito { Esito::Trovato { .. } => "trovato", Esito::NonTrovato { .. } => "non_trovato" },
        "servizio": richiesta.servizio.as_str(),
        "id_anpr": risposta.id_anpr.iter().map(|i| mask(i.as_str(), show)).collect::<Vec<_>>(),
        "avvisi": risposta.avvisi.iter().map(|a| json!({"codice": a.codice(), "tipo": a.tipo_errore_anomalia, "testo": a.testo()})).collect::<Vec<_>>(),
        "soggetti": soggetti,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let usage = AnprCmdError::Usage("x".into());
        assert_eq!(usage.kind(), ErrorKind::InvalidArgument);
        assert_eq!(AnprCmdError::Runtime("x".into()).kind(), ErrorKind::Local);
        // A wrapped error says its own kind.
        let inner = AnprClientError::Anpr(anist_core::anpr::esito::E002Error::MotivoMissing);
        let expected = (inner.kind(), inner.request_sent());
        let e = AnprCmdError::Anpr(inner);
        assert_eq!((e.kind(), e.request_sent()), expected);
    }
}
