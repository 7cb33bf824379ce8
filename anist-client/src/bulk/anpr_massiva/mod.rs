//! The resumable ANPR massive job: a CSV of codici fiscali or ID ANPR in,
//! one row per input row out, over the massive e-services
//! ([`crate::anpr::massive`]) with the single lookups
//! ([`crate::anpr::AnprClient`]) as follow-up.
//!
//! 1. **Reads the input** (the column found by [`super::code_column`]: a
//!    codice fiscale or ID ANPR header, or a header-less list); an invalid
//!    code is `invalid_code` and never sent. The same code on several rows
//!    is asked once.
//! 2. **Submits** one massive request per kind of identifier
//!    (`tipoRicerca` 1 codici fiscali, 2 ID ANPR) and **journals its
//!    resource id at once**: a job interrupted after the submit resumes by
//!    polling that id, never submitting again. ANPR accepts one pending
//!    request per service: when it refuses the submit
//!    (`anpr_massive_pending`) the job pauses ([`JobOutcome::Paused`]).
//! 3. **Polls** until ready ([`MassivaSpec::max_polls`] polls
//!    [`JobOptions::poll_interval`] apart, then it pauses: run it again),
//!    **reconciles** what came back with what was sent
//!    ([`riconcilia`]): found, explicitly not found, or omitted.
//!    A download that failed (`500`) leaves every identifier of the request
//!    to be asked singly.
//! 4. **Asks singly** every omitted identifier (ANPR omits the not-found
//!    and returns incomplete sets): found or not found for good.
//! 5. **Writes the output** from the journal (Italian Excel CSV: `;`, BOM):
//!    `riga`, `identificativo` (as written), `tipo_identificativo`
//!    (`codice fiscale` / `ID ANPR`), `esito` (`trovato`, `non trovato`,
//!    `identificativo non valido`, `errore`), `motivo` (the error code),
//!    `fonte` (`massiva` / `singola`), `id_anpr`, `codice_fiscale`,
//!    `cognome`, `nome`, `data_nascita` (dd/mm/yyyy), `comune_residenza`,
//!    `indirizzo_residenza`, `codice_esito` (`found`, `not_found`,
//!    `invalid_code`, `error`: stable, for programs).
//!
//! Every identifier is audited once for the massive outcome (operation
//! `massivo`, outcome `trovato` / `non_trovato` / `da_richiedere`), and
//! each single follow-up call is audited by [`crate::anpr::AnprClient`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anist_core::anpr::e002::DatiSoggetto;
use anist_core::anpr::esito::Esito;
use anist_core::anpr::massive::{riconcilia, EsitoMassivo, TipoRicerca};
use anist_core::anpr::IdAnpr;
use anist_core::cf::CodiceFiscale;
use anist_core::csvio::Aliases;
use anist_core::ErrorCode;
use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::engine::is_transient;
use super::input::{code_column, hash_file, open_input, CodeKind};
use super::journal::{Journal, Layout, Param, RowRecord};
use super::output::AtomicCsv;
use super::{BulkError, JobOptions, JobOutcome, Progress};
use crate::anpr::massive::{MassivaError, MassiveClient, ServizioMassivo, Stato};
use crate::anpr::{AnprClient, Richiesta, Soggetto};
use crate::audit::{AuditEntry, AuditLog};

/// The massive job's part of the journal: a question is an identifier
/// (its normalised text), with its `tipoRicerca` (`1` codice fiscale, `2`
/// ID ANPR), the massive request it went in, its state (`trovato`,
/// `non_trovato`, `da_richiedere`, `errore`), the source of the answer and
/// the extract of the data; the massive requests submitted.
static LAYOUT: Layout = Layout {
    format: "anist-anpr-massiva-journal-2",
    question_columns: "tipo TEXT, batch INTEGER, stato TEXT, fonte TEXT, motivo TEXT, dati TEXT,",
    tables: "
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    tipo TEXT NOT NULL,
    anpr_id TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
",
    // Its failures are asked again by the single lookups (`singles`).
    answer_columns: &[],
};

/// The output's header.
pub const COLUMNS: [&str; 14] = [
    "riga",
    "identificativo",
    "tipo_identificativo",
    "esito",
    "motivo",
    "fonte",
    "id_anpr",
    "codice_fiscale",
    "cognome",
    "nome",
    "data_nascita",
    "comune_residenza",
    "indirizzo_residenza",
    "codice_esito",
];

/// The `esito` column's Italian words for each stable code.
pub fn esito_it(code: &str) -> &'static str {
    match code {
        "found" => "trovato",
        "not_found" => "non trovato",
        "invalid_code" => "identificativo non valido",
        _ => "errore",
    }
}

/// What a massive job works on.
#[derive(Debug, Clone)]
pub struct MassivaSpec {
    /// The CSV of identifiers.
    pub input: PathBuf,
    /// The output CSV (replaced at the end).
    pub output: PathBuf,
    /// The journal (created if missing, resumed otherwise).
    pub journal: PathBuf,
    /// What is asked.
    pub servizio: ServizioMassivo,
    /// `motivoRichiesta` (mandatory).
    pub motivo: String,
    /// `dataRiferimentoRichiesta`.
    pub data: NaiveDate,
    /// The code column, by header name or alias (`None`: found by alias).
    pub column: Option<String>,
    /// Polls of one run before it pauses (default 720: an hour at 5 s).
    pub max_polls: u32,
    /// Operational options (`poll_interval`, `operator`, `purpose`,
    /// `keep_journal` are used).
    pub options: JobOptions,
}

impl MassivaSpec {
    /// A job with the default options.
    pub fn new(
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        journal: impl Into<PathBuf>,
        servizio: ServizioMassivo,
        motivo: &str,
        data: NaiveDate,
    ) -> Self {
        Self {
            input: input.into(),
            output: output.into(),
            journal: journal.into(),
            servizio,
            motivo: motivo.to_string(),
            data,
            column: None,
            max_polls: 720,
            options: JobOptions::default(),
        }
    }
}

/// Rows per outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MassivaCounts {
    /// `found`.
    pub found: u64,
    /// `not_found`.
    pub not_found: u64,
    /// `invalid_code`.
    pub invalid_code: u64,
    /// `error`.
    pub error: u64,
}

impl MassivaCounts {
    fn add(&mut self, code: &str) {
        match code {
            "found" => self.found += 1,
            "not_found" => self.not_found += 1,
            "invalid_code" => self.invalid_code += 1,
            _ => self.error += 1,
        }
    }

    /// All rows counted.
    pub fn total(&self) -> u64 {
        self.found + self.not_found + self.invalid_code + self.error
    }
}

/// What a massive job did. `Serialize` for a JSON summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MassivaSummary {
    /// Rows in the input.
    pub rows_total: u64,
    /// Rows with their final outcome.
    pub rows_done: u64,
    /// Distinct valid identifiers.
    pub distinct: u64,
    /// Rows per outcome.
    pub outcomes: MassivaCounts,
    /// Massive submits of this run.
    pub submits: u64,
    /// Polls of this run.
    pub polls: u64,
    /// Identifiers asked singly by this run (omitted by the download).
    pub singles: u64,
    /// Duration of this run, in seconds.
    pub duration_seconds: f64,
}

/// What the journal keeps of a found subject (the output's fields only;
/// no `Debug`: it holds personal data).
#[derive(Clone, Default, Serialize, Deserialize)]
struct Estratto {
    id_anpr: String,
    cf: String,
    cognome: String,
    nome: String,
    nascita: String,
    comune: String,
    indirizzo: String,
}

fn estratto(d: &DatiSoggetto) -> Estratto {
    let g = d.generalita.as_ref();
    let s = |o: Option<&String>| o.cloned().unwrap_or_default();
    let res = d.residenza.first().and_then(|r| r.indirizzo.as_ref());
    let indirizzo = res
        .map(|i| {
            let top = i.toponimo.as_ref();
            let parts = [
                top.and_then(|t| t.specie.clone()),
                top.and_then(|t| t.denominazione_toponimo.clone()),
                i.numero_civico.as_ref().and_then(|n| n.numero.clone()),
            ];
            parts.into_iter().flatten().collect::<Vec<_>>().join(" ")
        })
        .unwrap_or_default();
    Estratto {
        id_anpr: s(d.id_anpr().map(str::to_string).as_ref()),
        cf: s(g.and_then(|g| g.cf()).map(str::to_string).as_ref()),
        cognome: s(g.and_then(|g| g.cognome.as_ref())),
        nome: s(g.and_then(|g| g.nome.as_ref())),
        nascita: g
            .and_then(|g| g.data_nascita.as_deref())
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .map(anist_core::csvio::format_date_it)
            .unwrap_or_default(),
        comune: s(res
            .and_then(|i| i.comune.as_ref())
            .and_then(|c| c.nome_comune.as_ref())),
        indirizzo,
    }
}

fn join(ests: &[Estratto], f: impl Fn(&Estratto) -> &str) -> String {
    let mut v: Vec<&str> = Vec::new();
    for e in ests {
        let x = f(e);
        if !x.is_empty() && !v.contains(&x) {
            v.push(x);
        }
    }
    v.join(" | ")
}

/// The resumable massive job.
#[derive(Debug, Clone)]
pub struct MassivaJob {
    spec: MassivaSpec,
}

struct Run<'a> {
    journal: Journal,
    spec: &'a MassivaSpec,
    audit: Option<&'a AuditLog>,
    submits: AtomicU64,
    polls: AtomicU64,
    singles: AtomicU64,
}

fn journal_err(e: impl std::fmt::Display) -> BulkError {
    BulkError::Journal {
        reason: e.to_string(),
    }
}

impl Run<'_> {
    fn ingest(&mut self) -> Result<(), BulkError> {
        if !self.journal.is_ingested()? {
            self.read_input()?;
        }
        // The tipoRicerca of each identifier, from its normalised length
        // (idempotent: also after a crash right after the ingestion).
        self.journal.conn().execute(
            "UPDATE questions SET tipo = CASE WHEN length(key) = ?1 THEN '2' ELSE '1' END \
             WHERE tipo IS NULL",
            [anist_core::anpr::ID_ANPR_LEN as i64],
        )?;
        Ok(())
    }

    fn read_input(&mut self) -> Result<(), BulkError> {
        let path = &self.spec.input;
        let aliases = Aliases::new();
        let mut reader = open_input(path, &aliases)?;
        let headers = reader.headers().clone();
        let col = code_column(&headers, &aliases, self.spec.column.as_deref())?;
        let record = |line: u64, given: &str, kind: CodeKind| -> RowRecord {
            match classify(given, kind) {
                (Some(key), _, _) => RowRecord::asking(line, given.to_owned(), key),
                (None, _, err) => {
                    RowRecord::decided(line, given.to_owned(), "invalid_code", err.to_owned())
                }
            }
        };
        let mut first = Vec::new();
        if col.kind == CodeKind::Auto && self.spec.column.is_none() {
            if let Some(code) = headers.names().first() {
                if classify(code, CodeKind::Auto).0.is_some() {
                    first.push(record(reader.header_line(), code, col.kind));
                }
            }
        }
        self.journal.ingest(path, &mut reader, first, |row| {
            let given = row.get(col.index).unwrap_or("");
            Ok(match col.fallback.and_then(|i| row.get(i)) {
                Some(id) if given.trim().is_empty() && !id.trim().is_empty() => {
                    record(row.line(), id, CodeKind::IdAnpr)
                }
                _ => record(row.line(), given, col.kind),
            })
        })
    }

    fn audit_one(&self, subject: &str, outcome: &str) -> Result<(), BulkError> {
        if let Some(log) = self.audit {
            let name = self.spec.servizio.session_name();
            log.record(&AuditEntry {
                operator: &self.spec.options.operator,
                purpose: self
                    .spec
                    .options
                    .purposes
                    .get(name)
                    .unwrap_or(&self.spec.options.purpose),
                eservice: name,
                operation: "massivo",
                subject: Some(subject),
                outcome,
                correlation_id: None,
                govway_id: None,
            })?;
        }
        Ok(())
    }

    /// Submits (or resumes) and reconciles the massive request of `tipo`.
    async fn massive(
        &mut self,
        client: &MassiveClient,
        tipo: TipoRicerca,
    ) -> Result<Option<(String, &'static str)>, BulkError> {
        let t = tipo.as_str();
        let servizio = self.spec.servizio;
        let open: Option<(i64, String)> = self
            .journal
            .conn()
            .query_row(
                "SELECT id, anpr_id FROM batches WHERE tipo = ?1 AND done = 0",
                [t],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (batch, anpr_id) = match open {
            Some(b) => b,
            None => {
                let ids: Vec<String> = {
                    let mut st = self.journal.conn().prepare(
                        "SELECT key FROM questions WHERE tipo = ?1 AND stato IS NULL ORDER BY key",
                    )?;
                    let v = st
                        .query_map([t], |r| r.get(0))?
                        .collect::<Result<Vec<String>, _>>()?;
                    v
                };
                if ids.is_empty() {
                    return Ok(None);
                }
                self.submits.fetch_add(1, Ordering::Relaxed);
                let anpr_id = match client
                    .submit(servizio, tipo, &ids, self.spec.data, &self.spec.motivo)
                    .await
                {
                    Ok(id) => id,
                    Err(e) => return Ok(Some((e.to_string(), e.code()))),
                };
                // Journaled before anything else: a resumed run polls it.
                let tx = self.journal.transaction()?;
                tx.execute(
                    "INSERT INTO batches(tipo, anpr_id) VALUES (?1, ?2)",
                    params![t, anpr_id],
                )?;
                let batch = tx.last_insert_rowid();
                tx.execute(
                    "UPDATE questions SET batch = ?1 WHERE tipo = ?2 AND stato IS NULL",
                    params![batch, t],
                )?;
                tx.commit()?;
                (batch, anpr_id)
            }
        };
        let mut ready = None;
        for n in 0..self.spec.max_polls.max(1) {
            if n > 0 {
                tokio::time::sleep(self.spec.options.poll_interval).await;
            }
            self.polls.fetch_add(1, Ordering::Relaxed);
            match client.poll(servizio, &anpr_id).await {
                Ok(Stato::InAttesa) => continue,
                Ok(Stato::Pronto(els)) => {
                    ready = Some(els);
                    break;
                }
                Err(MassivaError::Failed { .. }) => {
                    ready = Some(Vec::new());
                    break;
                }
                Err(e) if e.call().is_some_and(crate::call::CallError::is_retryable) => continue,
                Err(e) => return Ok(Some((e.to_string(), e.code()))),
            }
        }
        let Some(els) = ready else {
            return Ok(Some((
                "la richiesta massiva non è ancora elaborata da ANPR: rilancia lo stesso comando più tardi (riprende dal giornale)".into(),
                "anpr_massive_not_ready",
            )));
        };
        let sent: Vec<String> = {
            let mut st = self.journal.conn().prepare(
                "SELECT key FROM questions WHERE batch = ?1 AND stato IS NULL ORDER BY key",
            )?;
            let v = st
                .query_map([batch], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            v
        };
        let outcomes = riconcilia(tipo, &sent, &els);
        for (key, o) in sent.iter().zip(&outcomes) {
            self.audit_one(key, o.code())?;
        }
        let tx = self.journal.transaction()?;
        for (key, o) in sent.iter().zip(outcomes) {
            let (stato, dati) = match o {
                EsitoMassivo::Trovato(v) => {
                    let e: Vec<Estratto> = v.iter().map(estratto).collect();
                    ("trovato", serde_json::to_string(&e).map_err(journal_err)?)
                }
                EsitoMassivo::NonTrovato => ("non_trovato", String::new()),
                EsitoMassivo::DaRichiedere => ("da_richiedere", String::new()),
            };
            tx.execute(
                "UPDATE questions SET stato = ?1, fonte = 'massiva', dati = ?2 WHERE key = ?3",
                params![stato, dati, key],
            )?;
        }
        tx.execute("UPDATE batches SET done = 1 WHERE id = ?1", [batch])?;
        tx.commit()?;
        Ok(None)
    }

    /// Asks singly every identifier omitted by the download (or failed before).
    async fn singles(&mut self, single: &AnprClient) -> Result<(), BulkError> {
        let todo: Vec<(String, String, Option<String>)> = {
            let mut st = self.journal.conn().prepare(
                "SELECT key, tipo, motivo FROM questions WHERE stato IN ('da_richiedere', 'errore') ORDER BY key",
            )?;
            let v = st
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            v
        };
        for (key, tipo, motivo) in todo {
            // An error about the person (e.g. anpr_ambiguous) stays; a
            // transient one (network, 5xx, token…) is asked again.
            if motivo
                .as_deref()
                .is_some_and(|m| !m.is_empty() && !is_transient(m))
            {
                continue;
            }
            let soggetto = if tipo == "2" {
                IdAnpr::parse(&key).ok().map(Soggetto::IdAnpr)
            } else {
                CodiceFiscale::parse(&key).ok().map(Soggetto::CodiceFiscale)
            };
            let Some(soggetto) = soggetto else { continue };
            let mut servizio = self.spec.servizio.singolo();
            if matches!(soggetto, Soggetto::IdAnpr(_)) && servizio == crate::anpr::Servizio::IdAnpr
            {
                // C030 is by codice fiscale: check the ID ANPR with C015.
                servizio = crate::anpr::Servizio::Generalita;
            }
            let req = Richiesta {
                soggetto,
                servizio,
                motivo: self.spec.motivo.clone(),
                data: Some(self.spec.data),
            };
            self.singles.fetch_add(1, Ordering::Relaxed);
            let (stato, motivo, dati) = match single.cerca(&req).await {
                Ok(r) => match r.esito {
                    Esito::Trovato { soggetti, .. } => {
                        let mut e: Vec<Estratto> =
                            soggetti.iter().map(|s| estratto(&s.dati)).collect();
                        for (x, id) in e.iter_mut().zip(&r.id_anpr) {
                            if x.id_anpr.is_empty() {
                                x.id_anpr = id.as_str().to_string();
                            }
                        }
                        if let Soggetto::CodiceFiscale(cf) = soggetto {
                            for x in &mut e {
                                if x.cf.is_empty() {
                                    x.cf = cf.as_str().to_string();
                                }
                            }
                        }
                        (
                            "trovato",
                            String::new(),
                            serde_json::to_string(&e).map_err(journal_err)?,
                        )
                    }
                    Esito::NonTrovato { .. } => ("non_trovato", String::new(), String::new()),
                },
                Err(crate::anpr::AnprClientError::Audit(e)) => return Err(e.into()),
                Err(e) => ("errore", e.code().to_string(), String::new()),
            };
            self.journal.conn().execute(
                "UPDATE questions SET stato = ?1, fonte = 'singola', motivo = ?2, dati = ?3 WHERE key = ?4",
                params![stato, motivo, dati, key],
            )?;
        }
        Ok(())
    }

    /// Identifiers whose single lookup failed for a transient reason.
    fn transient_errors(&self) -> Result<u64, BulkError> {
        let mut st = self
            .journal
            .conn()
            .prepare("SELECT motivo FROM questions WHERE stato = 'errore'")?;
        let codes = st
            .query_map([], |r| r.get::<_, Option<String>>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(codes
            .iter()
            .filter(|c| c.as_deref().is_some_and(is_transient))
            .count() as u64)
    }

    fn counts(&self) -> Result<(u64, u64, MassivaCounts), BulkError> {
        let mut c = MassivaCounts::default();
        let mut total = 0u64;
        let mut done = 0u64;
        let mut st = self.journal.conn().prepare(
            "SELECT r.esito, i.stato FROM rows r LEFT JOIN questions i ON i.id = r.question",
        )?;
        let mut q = st.query([])?;
        while let Some(r) = q.next()? {
            total += 1;
            let esito: Option<String> = r.get(0)?;
            let stato: Option<String> = r.get(1)?;
            if let Some(code) = final_code(esito.as_deref(), stato.as_deref()) {
                done += 1;
                c.add(code);
            }
        }
        Ok((total, done, c))
    }

    fn write_output(&self) -> Result<(), BulkError> {
        let mut out = AtomicCsv::create(&self.spec.output, &COLUMNS)?;
        let mut st = self.journal.conn().prepare(
            "SELECT r.line, r.given, r.esito, r.motivo, i.tipo, i.stato, i.fonte, i.motivo, i.dati \
             FROM rows r LEFT JOIN questions i ON i.id = r.question ORDER BY r.seq",
        )?;
        let mut q = st.query([])?;
        while let Some(r) = q.next()? {
            let line: i64 = r.get(0)?;
            let given: String = r.get(1)?;
            let esito: Option<String> = r.get(2)?;
            let motivo: Option<String> = r.get(3)?;
            let tipo: Option<String> = r.get(4)?;
            let stato: Option<String> = r.get(5)?;
            let fonte: Option<String> = r.get(6)?;
            let imotivo: Option<String> = r.get(7)?;
            let dati: Option<String> = r.get(8)?;
            let code = final_code(esito.as_deref(), stato.as_deref()).unwrap_or("error");
            let ests: Vec<Estratto> = dati
                .as_deref()
                .filter(|d| !d.is_empty())
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default();
            let tipo_it = match tipo.as_deref() {
                Some("2") => "ID ANPR",
                Some(_) => "codice fiscale",
                None => "",
            };
            let motivo = motivo
                .or(imotivo)
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| {
                    if code == "error" {
                        "anpr_massive_not_done".into()
                    } else {
                        String::new()
                    }
                });
            let fonte = match (code, fonte.as_deref()) {
                ("found" | "not_found", Some(f)) => f.to_string(),
                _ => String::new(),
            };
            out.row(&[
                line.to_string(),
                given,
                tipo_it.to_string(),
                esito_it(code).to_string(),
                motivo,
                fonte,
                join(&ests, |e| &e.id_anpr),
                join(&ests, |e| &e.cf),
                join(&ests, |e| &e.cognome),
                join(&ests, |e| &e.nome),
                join(&ests, |e| &e.nascita),
                join(&ests, |e| &e.comune),
                join(&ests, |e| &e.indirizzo),
                code.to_string(),
            ])?;
        }
        out.finish()
    }
}

fn final_code(esito: Option<&str>, stato: Option<&str>) -> Option<&'static str> {
    match (esito, stato) {
        (Some("invalid_code"), _) => Some("invalid_code"),
        (Some(_), _) => Some("error"),
        (None, Some("trovato")) => Some("found"),
        (None, Some("non_trovato")) => Some("not_found"),
        (None, Some("errore")) => Some("error"),
        _ => None,
    }
}

/// `(key, tipo, error code)`: the canonical identifier and its
/// `tipoRicerca`, or the error code of an invalid one.
fn classify(given: &str, kind: CodeKind) -> (Option<String>, &'static str, &'static str) {
    let g = given.trim();
    let as_id = |g: &str| match IdAnpr::parse(g) {
        Ok(id) => (Some(id.as_str().to_string()), "2", ""),
        Err(e) => (None, "2", e.code()),
    };
    let as_cf = |g: &str| match CodiceFiscale::parse(g) {
        Ok(cf) => (Some(cf.as_str().to_string()), "1", ""),
        Err(e) => (None, "1", e.code()),
    };
    match kind {
        CodeKind::IdAnpr => as_id(g),
        CodeKind::Cf => as_cf(g),
        CodeKind::Auto if g.chars().count() == anist_core::anpr::ID_ANPR_LEN => as_id(g),
        CodeKind::Auto => as_cf(g),
    }
}

impl MassivaJob {
    /// A job for `spec`.
    pub fn new(spec: MassivaSpec) -> Self {
        Self { spec }
    }

    /// The job's specification.
    pub fn spec(&self) -> &MassivaSpec {
        &self.spec
    }

    /// Runs (or resumes) the job: see the module doc. `audit` records one
    /// row per identifier for the massive outcome.
    ///
    /// # Errors
    /// [`BulkError`] when the input, the journal, the output or the audit
    /// trail cannot be used; ANPR's refusals pause the job instead
    /// ([`JobOutcome::Paused`] with their code).
    pub async fn run<P: Fn(&Progress<MassivaCounts>)>(
        &self,
        massive: &MassiveClient,
        single: &AnprClient,
        audit: Option<&AuditLog>,
        progress: P,
    ) -> Result<JobOutcome<MassivaSummary>, BulkError> {
        let started = Instant::now();
        let spec = &self.spec;
        super::check_output_dir(&spec.output)?;
        let sha = hash_file(&spec.input)?;
        let data = anist_core::anpr::e002::iso_date(spec.data);
        let journal = super::fresh_or_removed(&spec.journal, || {
            Journal::open(
                &spec.journal,
                &LAYOUT,
                &[
                    Param {
                        key: "input_sha256",
                        value: &sha,
                        what: Some("file di input"),
                    },
                    Param {
                        key: "servizio",
                        value: spec.servizio.as_str(),
                        what: Some("servizio ANPR"),
                    },
                    Param {
                        key: "data",
                        value: &data,
                        what: Some("data di riferimento"),
                    },
                    Param {
                        key: "column",
                        value: spec.column.as_deref().unwrap_or(""),
                        what: Some("colonna dell'identificativo"),
                    },
                ],
            )
        })?;
        let mut run = Run {
            journal,
            spec,
            audit,
            submits: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            singles: AtomicU64::new(0),
        };
        run.ingest()?;
        let report = |run: &Run<'_>| -> Result<(), BulkError> {
            let (total, done, outcomes) = run.counts()?;
            let secs = started.elapsed().as_secs_f64();
            progress(&Progress {
                rows_done: done,
                rows_total: total,
                outcomes,
                rate: if secs > 0.0 { done as f64 / secs } else { 0.0 },
                eta: None,
            });
            Ok(())
        };
        report(&run)?;
        let summary = |run: &Run<'_>| -> Result<MassivaSummary, BulkError> {
            let (total, done, outcomes) = run.counts()?;
            let (_, distinct) = run.journal.totals()?;
            Ok(MassivaSummary {
                rows_total: total,
                rows_done: done,
                distinct,
                outcomes,
                submits: run.submits.load(Ordering::Relaxed),
                polls: run.polls.load(Ordering::Relaxed),
                singles: run.singles.load(Ordering::Relaxed),
                duration_seconds: started.elapsed().as_secs_f64(),
            })
        };
        for tipo in [TipoRicerca::CodiceFiscale, TipoRicerca::IdAnpr] {
            if let Some((reason, code)) = run.massive(massive, tipo).await? {
                report(&run)?;
                return Ok(JobOutcome::Paused {
                    reason,
                    code,
                    summary: summary(&run)?,
                });
            }
            report(&run)?;
        }
        run.singles(single).await?;
        report(&run)?;
        run.write_output()?;
        let s = summary(&run)?;
        let pending = run.transient_errors()?;
        let Run { journal, .. } = run;
        drop(journal);
        if !spec.options.keep_journal && pending == 0 {
            // Best effort: the output is written; a leftover journal only
            // makes a re-run reuse it.
            let _ = crate::files::remove_sqlite(&spec.journal);
        }
        Ok(JobOutcome::Completed(s))
    }
}
