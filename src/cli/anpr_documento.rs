//! `anist anpr documento`: resolve an identity document to the subject
//! (codice fiscale, ID ANPR) through the Comune's ANPR SOAP channel,
//! service 3002 (mTLS with the Comune's ANPR certificate, an anagrafe
//! operator id: `[anpr_soap]` of the configuration). PDND cannot search by
//! document: this is the only way.
//!
//! Without `--config` the search goes to an in-process sandbox. Personal
//! data are masked unless `--show-data`. Every call is recorded in the
//! audit trail; `idOperazioneComune` comes from the `--ids` store shared
//! with `anist anpr cerca`.
//!
//! Exit status (as `cerca`): 0 answered (found or not found), 1 ANPR
//! refused or the call failed, 2 usage (incomplete criteria included:
//! `EHR41` / `EHR67` / `EHR68`, refused before any call).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anist_client::anpr::soap::{
    AnprSoapClient, AnprSoapError, AnprSoapSettings, RicercaDocumento, RispostaDocumento,
};
use anist_client::anpr::OperationIds;
use anist_client::audit::AuditError;
use anist_client::config::{Config, ConfigError};
use anist_client::sandbox::anpr_soap::{SANDBOX_ISTAT, SANDBOX_OPERATOR};
use anist_client::sandbox::{Sandbox, SandboxConfig, SandboxError};
use anist_core::anpr::soap3002::{Documento, Esito3002, Soap3002Error, Soggetto3002};
use anist_core::csvio::parse_date_it;
use anist_core::{ErrorCode, ErrorKind, Sent};
use serde_json::{json, Value};

use crate::cli::anpr_common::{date_it, line, mask, AnprTarget};
use crate::cli::caivano::DEFAULT_SANDBOX_SEED;

const EXIT_USAGE: u8 = 2;

/// `anist anpr documento`.
#[derive(clap::Args, Debug)]
pub struct DocumentoArgs {
    /// Carta d'identità number (CIE `CA00000AA` or paper `AA1234567`).
    #[arg(long, conflicts_with_all = ["permesso", "passaporto"])]
    pub carta: Option<String>,
    /// The codice ISTAT (6 digits) of the comune that issued the carta.
    #[arg(long, requires = "carta")]
    pub comune_rilascio: Option<String>,
    /// The code of the consulate that issued the carta.
    #[arg(long, requires = "carta")]
    pub consolato: Option<String>,
    /// Permesso di soggiorno number (with --questura).
    #[arg(long, conflicts_with = "passaporto")]
    pub permesso: Option<String>,
    /// The questura that issued the permesso di soggiorno.
    #[arg(long)]
    pub questura: Option<String>,
    /// A foreigner's passport number.
    #[arg(long)]
    pub passaporto: Option<String>,
    /// Search all of Italy (default: the Comune's residents only).
    #[arg(long)]
    pub nazionale: bool,
    /// The reference of the file (protocollo, fascicolo): mandatory,
    /// recorded in the audit trail.
    #[arg(long)]
    pub motivo: String,
    /// The reference date (dd/mm/yyyy; default: today).
    #[arg(long)]
    pub data: Option<String>,
    /// Print codici fiscali, names, dates, addresses and document numbers
    /// in clear.
    #[arg(long)]
    pub show_data: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Where the calls go, and the audit trail and id store they use.
    #[command(flatten)]
    pub target: AnprTarget,
}

/// Why `anist anpr documento` failed. Every variant has a stable code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnprDocCmdError {
    /// An argument is not valid.
    #[error("{0}")]
    Usage(String),
    /// The configuration could not be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The sandbox could not start.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The audit trail could not be opened.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// ANPR gave no answer, or the criteria are incomplete.
    #[error(transparent)]
    Soap(#[from] AnprSoapError),
    /// The async runtime could not start.
    #[error("the async runtime could not start: {0}")]
    Runtime(String),
}

impl ErrorCode for AnprDocCmdError {
    fn code(&self) -> &'static str {
        match self {
            AnprDocCmdError::Usage(_) => "anpr_usage",
            AnprDocCmdError::Config(e) => e.code(),
            AnprDocCmdError::Sandbox(e) => e.code(),
            AnprDocCmdError::Audit(e) => e.code(),
            AnprDocCmdError::Soap(e) => e.code(),
            AnprDocCmdError::Runtime(_) => "anpr_runtime",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            AnprDocCmdError::Usage(_) => ErrorKind::InvalidArgument,
            AnprDocCmdError::Config(e) => e.kind(),
            AnprDocCmdError::Sandbox(e) => e.kind(),
            AnprDocCmdError::Audit(e) => e.kind(),
            AnprDocCmdError::Soap(e) => e.kind(),
            AnprDocCmdError::Runtime(_) => ErrorKind::Local,
        }
    }

    fn request_sent(&self) -> Option<Sent> {
        self.wrapped().and_then(ErrorCode::request_sent)
    }

    fn retry_after(&self) -> Option<Duration> {
        self.wrapped().and_then(ErrorCode::retry_after)
    }
}

impl AnprDocCmdError {
    /// The error this one shows the code of, when it wraps one.
    fn wrapped(&self) -> Option<&dyn ErrorCode> {
        match self {
            AnprDocCmdError::Config(e) => Some(e),
            AnprDocCmdError::Sandbox(e) => Some(e),
            AnprDocCmdError::Audit(e) => Some(e),
            AnprDocCmdError::Soap(e) => Some(e),
            AnprDocCmdError::Usage(_) | AnprDocCmdError::Runtime(_) => None,
        }
    }
}

/// Runs `anist anpr documento`, printing the answer.
pub fn run(args: &DocumentoArgs) -> ExitCode {
    match documento(args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("errore [{}]: {e}", e.code());
            match e {
                AnprDocCmdError::Usage(_)
                | AnprDocCmdError::Soap(AnprSoapError::Anpr(
                    Soap3002Error::Ehr41
                    | Soap3002Error::Ehr67
                    | Soap3002Error::Ehr68
                    | Soap3002Error::InvalidField { .. },
                )) => ExitCode::from(EXIT_USAGE),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

/// The document `args` describe (not yet validated: the client applies
/// the EHR41 / EHR67 / EHR68 rules).
///
/// # Errors
/// [`AnprDocCmdError::Usage`] when no document is given.
pub fn documento_of(args: &DocumentoArgs) -> Result<Documento, AnprDocCmdError> {
    if let Some(n) = &args.carta {
        return Ok(Documento::carta(
            n,
            args.comune_rilascio.as_deref(),
            args.consolato.as_deref(),
        ));
    }
    if let Some(p) = &args.passaporto {
        if args.questura.is_some() {
            return Err(AnprDocCmdError::Usage(
                "--questura va con --permesso, non con --passaporto".into(),
            ));
        }
        return Ok(Documento::passaporto(p));
    }
    if args.permesso.is_some() || args.questura.is_some() {
        return Ok(Documento::permesso(
            args.permesso.as_deref(),
            args.questura.as_deref(),
        ));
    }
    Err(AnprDocCmdError::Usage(
        "indica un documento: --carta N (--comune-rilascio ISTAT | --consolato C), --permesso N --questura Q, oppure --passaporto N".into(),
    ))
}

/// Searches ANPR by document and renders the answer.
///
/// # Errors
/// [`AnprDocCmdError`]; "not found" is an answer, not an error.
pub fn documento(args: &DocumentoArgs) -> Result<String, AnprDocCmdError> {
    let doc = documento_of(args)?;
    if args.motivo.trim().is_empty() {
        return Err(AnprDocCmdError::Usage(
            "--motivo è obbligatorio: indica il riferimento della pratica (es. \"prot. 123\")"
                .into(),
        ));
    }
    // Incomplete criteria are refused before anything is opened or asked.
    doc.validate().map_err(AnprSoapError::from)?;
    let data = match args.data.as_deref() {
        Some(d) => parse_date_it(d)
            .map_err(|e| AnprDocCmdError::Usage(format!("--data {d:?} [{}]: {e}", e.code())))?,
        None => chrono::Local::now().date_naive(),
    };
    let ricerca = RicercaDocumento {
        documento: doc,
        nazionale: args.nazionale,
        motivo: args.motivo.clone(),
        data,
    };
    let audit = Arc::new(args.target.open_audit()?);
    let ids = OperationIds::open(&args.target.ids).map_err(AnprSoapError::from)?;
    let rt =
        anist_client::blocking::runtime().map_err(|e| AnprDocCmdError::Runtime(e.to_string()))?;
    rt.block_on(async {
        let (settings, sandbox) = match &args.target.config {
            Some(path) => (Config::load(path)?.anpr_soap_settings()?, None),
            None => {
                let seed = args.target.seed.unwrap_or(DEFAULT_SANDBOX_SEED);
                let h = Sandbox::start(SandboxConfig::with_default_client(seed)?).await?;
                let mut s = AnprSoapSettings::new(
                    &h.anpr_soap_url().unwrap_or_default(),
                    SANDBOX_OPERATOR,
                    SANDBOX_ISTAT,
                );
                s.ca_pem = h.ca_pem().map(|c| c.as_bytes().to_vec());
                if let Some((c, k)) = h.client_identity_pem() {
                    s = s.client_identity(c.as_bytes(), k.as_bytes());
                }
                (s, Some(h))
            }
        };
        let result = async {
            let client = AnprSoapClient::new(settings, ids)?.audited(audit);
            client
                .cerca(&ricerca, chrono::Local::now().naive_local())
                .await
        }
        .await;
        if let Some(h) = sandbox {
            h.shutdown().await;
        }
        let risposta = result?;
        Ok(if args.json {
            let mut s = render_json(&ricerca, &risposta, args.show_data).to_string();
            s.push('\n');
            s
        } else {
            render_text(&ricerca, &risposta, args.show_data)
        })
    })
}

fn kind_it(d: &Documento) -> &'static str {
    match d.kind() {
        "carta" => "carta d'identità",
        "passaporto" => "passaporto",
        _ => "permesso di soggiorno",
    }
}

fn soggetto_text(out: &mut String, n: usize, s: &Soggetto3002, show: bool) {
    let _ = writeln!(out, "Soggetto {n}");
    if let Some(id) = &s.id_anpr {
        line(out, "ID ANPR:", &mask(id, show));
    }
    if let Some(cf) = &s.codice_fiscale {
        line(out, "Codice fiscale:", &mask(cf, show));
    }
    let cognome = s
        .cognome
        .as_deref()
        .map(|c| mask(c, show))
        .unwrap_or_default();
    let nome = s.nome.as_deref().map(|c| mask(c, show)).unwrap_or_default();
    line(out, "Cognome e nome:", format!("{cognome} {nome}").trim());
    if let Some(dn) = &s.data_nascita {
        line(out, "Data di nascita:", &date_it(dn, show));
    }
    for r in &s.residenze {
        let mut text = String::new();
        if show {
            let _ = write!(
                text,
                "{} {} {}, {} ",
                r.specie.as_deref().unwrap_or(""),
                r.toponimo.as_deref().unwrap_or(""),
                r.civico.as_deref().unwrap_or(""),
                r.cap.as_deref().unwrap_or("")
            );
        }
        text.push_str(r.comune_nome.as_deref().unwrap_or("?"));
        if let Some(p) = &r.provincia {
            let _ = write!(text, " ({p})");
        }
        line(out, "Residenza:", text.trim());
    }
    for c in &s.carte_identita {
        let da = c
            .comune_rilascio
            .as_deref()
            .map(|x| format!("comune ISTAT {x}"))
            .or_else(|| {
                c.consolato_rilascio
                    .as_deref()
                    .map(|x| format!("consolato {x}"))
            })
            .unwrap_or_default();
        line(
            out,
            "Carta d'identità:",
            format!("{} {da}", mask(&c.numero, show)).trim(),
        );
    }
    for p in &s.permessi_soggiorno {
        if let Some(n) = &p.numero_soggiorno {
            let q = p.questura_rilascio.as_deref().unwrap_or("");
            line(
                out,
                "Permesso soggiorno:",
                format!("{} questura {q}", mask(n, show)).trim(),
            );
        }
        if let Some(n) = &p.numero_passaporto {
            line(out, "Passaporto:", &mask(n, show));
        }
    }
}

/// The answer as text for a terminal, in Italian.
pub fn render_text(r: &RicercaDocumento, risposta: &RispostaDocumento, show: bool) -> String {
    let mut out = String::new();
    let ambito = if r.nazionale {
        "tutta Italia"
    } else {
        "solo residenti del Comune"
    };
    let _ = writeln!(
        out,
        "ANPR — ricerca per {} (servizio 3002, {ambito})",
        kind_it(&r.documento)
    );
    match &risposta.esito {
        Esito3002::NonTrovato { codice } => {
            let _ = writeln!(
                out,
                "Nessun soggetto trovato in ANPR ({codice}): il documento non risulta associato a nessun soggetto{}.",
                if r.nazionale { "" } else { " residente nel Comune (provare con --nazionale)" }
            );
        }
        Esito3002::Trovati(soggetti) => {
            let _ = writeln!(out, "Soggetti trovati: {}", soggetti.len());
            if soggetti.len() > 1 {
                let _ = writeln!(
                    out,
                    "Attenzione: più soggetti con questo documento: verificare quale è quello della pratica."
                );
            }
            for (i, s) in soggetti.iter().enumerate() {
                soggetto_text(&mut out, i + 1, s, show);
            }
        }
        _ => {}
    }
    for a in &risposta.avvisi {
        let _ = writeln!(out, "Avviso di ANPR {}: {}", a.codice(), a.testo());
    }
    if !show {
        let _ = writeln!(out, "(dati personali mascherati: --show-data per vederli)");
    }
    out
}

/// The answer as JSON: `esito` (`trovato` / `non_trovato`), `documento`,
/// `nazionale`, `id_operazione`, `soggetti` (masked unless `show`).
pub fn render_json(r: &RicercaDocumento, risposta: &RispostaDocumento, show: bool) -> Value {
    let (esito, soggetti) = match &risposta.esito {
        Esito3002::Trovati(s) => ("trovato", s.as_slice()),
        _ => ("non_trovato", &[][..]),
    };
    let m = |x: &Option<String>| x.as_deref().map(|v| mask(v, show));
    json!({
        "esito": esito,
        "documento": r.documento.kind(),
        "nazionale": r.nazionale,
        "id_operazione": risposta.id_operazione,
        "codice": match &risposta.esito { Esito3002::NonTrovato { codice } => Some(codice.clone()), _ => None },
        "avvisi": risposta.avvisi.iter().map(|a| json!({"codice": a.codice(), "testo": a.testo()})).collect::<Vec<_>>(),
        "soggetti": soggetti.iter().map(|s| json!({
            "idANPR": m(&s.id_anpr),
            "codiceFiscale": m(&s.codice_fiscale),
            "cognome": m(&s.cognome),
            "nome": m(&s.nome),
            "dataNascita": m(&s.data_nascita),
            "comuneResidenza": s.residenze.first().and_then(|x| x.comune_istat.clone()),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        let usage = AnprDocCmdError::Usage("x".into());
        assert_eq!(usage.kind(), ErrorKind::InvalidArgument);
        assert_eq!(
            AnprDocCmdError::Runtime("x".into()).kind(),
            ErrorKind::Local
        );
        // A wrapped error says its own kind.
        let inner = AnprSoapError::Anpr(Soap3002Error::Ehr41);
        let expected = (inner.kind(), inner.request_sent());
        let e = AnprDocCmdError::Soap(inner);
        assert_eq!((e.kind(), e.request_sent()), expected);
    }
}
