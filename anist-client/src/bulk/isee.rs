//! The resumable ISEE batch: a CSV of applications (domande) in, one ISEE
//! outcome per input row out, every answer journaled in SQLite before it
//! is counted. The same machinery as the attendance job
//! ([`super::BulkJob`]): journal, resume, quota pause, retries, progress,
//! audit trail.
//!
//! # Input
//!
//! Read with anist-core's tolerant reader. Columns, by header (folded:
//! case, spaces and accents do not matter):
//!
//! - the codice fiscale (any alias the reader knows, e.g. `Codice fiscale`,
//!   `CF`, or the one named by [`IseeBatchSpec::cf_column`]), required;
//! - `data_validita`: the date the ISEE must be valid on (default
//!   [`IseeBatchSpec::valid_on`]); Italian or ISO dates;
//! - `prestazione` (or `prestazione_da_erogare`): the benefit code `A1.07`…
//!   (default [`IseeBatchSpec::prestazione`]);
//! - `protocollo_domanda`: the ente's application number;
//! - `protocollo_dsu`: the DSU protocol, required by the Riscontro
//!   services (then the lookup is by DSU protocol and beneficiary);
//! - `stato_domanda`: `Da Erogare` or `Erogata`.
//!
//! A row whose fields are not valid is `invalid_input` with the field's
//! stable error code, and is never sent. Identical questions are asked once.
//!
//! # Output columns
//!
//! `riga` (the input line), `codice_fiscale` (as written), `esito` (in
//! Italian: `ISEE trovata`, `nessuna ISEE`, `rifiutata da INPS`, `riga non
//! valida`, `errore`; the stable code is in `codice_esito`), `motivo` (the
//! error code, or INPS's `Esito` for refusals), `isee` (euro, comma
//! decimals: `12345,67`), `tipo_isee`, `protocollo_dsu`,
//! `data_presentazione`, `valida_fino_al` (31 December of the DSU's year;
//! for an ISEE corrente six months from its modulo sostitutivo, when
//! earlier), `valida_alla_data` (`si`/`no`: valid on the row's date),
//! `componenti_nucleo`, `omissioni_difformita` (`si`/`no`, attestazioni
//! only), `bonus_nido_max_annuo` (the derived example column: the yearly
//! maximum of the bonus asilo nido, from the ISEE minorenni when the answer
//! has one, the lowest band otherwise; empty unless the row's person is a
//! child under three on the row's date, the birth date read from the
//! codice fiscale), `id_richiesta` (INPS's request id), `servizio` (the
//! e-service, as `--service` takes it), `codice_esito` (`found`, `no_isee`,
//! `refused`, `invalid_input`, `error`: stable, for programs).
//!
//! The journal keeps only these output fields of each answer (never the
//! household's names or the whole document). It holds economic data of
//! people: keep it, like the output, where only the office may read it.
//!
//! ```no_run
//! # async fn demo<S: anist_client::isee::IseeLookup>(svc: &S) -> Result<(), anist_client::bulk::BulkError> {
//! use anist_client::bulk::isee::{IseeBatch, IseeBatchSpec};
//! use anist_client::bulk::JobOutcome;
//! use anist_core::isee::IseeService;
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
//! let spec = IseeBatchSpec::new("domande.csv", "esiti.csv", "domande.journal",
//!     IseeService::IndicatoreResidenti, today);
//! match IseeBatch::new(spec).run(svc, None, |p| eprintln!("{}/{}", p.rows_done, p.rows_total)).await? {
//!     JobOutcome::Completed(s) => println!("{} found", s.outcomes.found),
//!     JobOutcome::Paused { reason, .. } => println!("paused: {reason}; run again later"),
//! }
//! # Ok(()) }
//! ```

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anist_core::cf::AnyCodiceFiscale;
use anist_core::csvio::{
    format_date_it, parse_date_it, Aliases, CsvReader, Field, ReadOutcome, ReaderBuilder, Row,
};
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{
    bonus_nido_applies, bonus_nido_max_annual, Attestazione, Euro, Indicatore, IseeKind,
    IseeService, PrestazioneDaErogare, ServiceFamily, StatoDomanda,
};
use anist_core::ErrorCode;
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::engine::{bump, pump, AskTask, Asked, CallFailure, Counts, Pause, Retrier, Tracker};
use super::input::{hash_file, input_error};
use super::journal::{open_db, Param};
use super::output::AtomicCsv;
use super::{BulkError, JobOptions, JobOutcome, Progress};
use crate::audit::{AuditError, AuditLog};
use crate::isee::{session_name, IseeAnswer, IseeError, IseeLookup, IseeQuery};

const FORMAT: &str = "anist-isee-journal-1";
/// Rows per ingestion transaction.
const CHUNK: usize = 10_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    seq INTEGER PRIMARY KEY,
    line INTEGER NOT NULL,
    given TEXT NOT NULL,
    question INTEGER,
    esito TEXT,
    motivo TEXT
);
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    rows_count INTEGER NOT NULL DEFAULT 0,
    answer TEXT,
    final_esito TEXT
);
";

/// The output's header.
pub const COLUMNS: [&str; 16] = [
    "riga",
    "codice_fiscale",
    "esito",
    "motivo",
    "isee",
    "tipo_isee",
    "protocollo_dsu",
    "data_presentazione",
    "valida_fino_al",
    "valida_alla_data",
    "componenti_nucleo",
    "omissioni_difformita",
    "bonus_nido_max_annuo",
    "id_richiesta",
    "servizio",
    "codice_esito",
];

/// The `esito` column's Italian words for each outcome's stable code (the
/// code itself is in the `codice_esito` column).
pub fn esito_it(code: &str) -> &'static str {
    match code {
        "found" => "ISEE trovata",
        "no_isee" => "nessuna ISEE",
        "refused" => "rifiutata da INPS",
        "invalid_input" => "riga non valida",
        _ => "errore",
    }
}

/// What an ISEE batch works on, and how.
#[derive(Debug, Clone)]
pub struct IseeBatchSpec {
    /// The CSV of applications.
    pub input: PathBuf,
    /// Where the output CSV is written (replaced at the end).
    pub output: PathBuf,
    /// The journal (created if missing, resumed otherwise).
    pub journal: PathBuf,
    /// The INPS e-service asked.
    pub service: IseeService,
    /// The date the ISEE must be valid on, for rows without `data_validita`.
    pub valid_on: NaiveDate,
    /// The benefit, for rows without `prestazione`.
    pub prestazione: Option<PrestazioneDaErogare>,
    /// `TipoIndicatore` asked of the Indicatore services (default ordinario).
    pub kind: IseeKind,
    /// The codice fiscale column, by header name or alias; `None` finds it
    /// through the built-in aliases.
    pub cf_column: Option<String>,
    /// Operational options (concurrency, retries, audit identity; they may
    /// change when resuming). `use_massive` and `batch_size` do not apply.
    pub options: JobOptions,
}

impl IseeBatchSpec {
    /// A batch with the default options.
    pub fn new(
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        journal: impl Into<PathBuf>,
        service: IseeService,
        valid_on: NaiveDate,
    ) -> Self {
        Self {
            input: input.into(),
            output: output.into(),
            journal: journal.into(),
            service,
            valid_on,
            prestazione: None,
            kind: IseeKind::Ordinario,
            cf_column: None,
            options: JobOptions::default(),
        }
    }
}

/// Rows per outcome of an ISEE batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IseeCounts {
    /// `found`: INPS answered with the ISEE.
    pub found: u64,
    /// `no_isee`: INPS has no ISEE for the question.
    pub no_isee: u64,
    /// `refused`: INPS refused the question (`RICHIESTA_INVALIDA`,
    /// `RISCONTRO_NON_VALIDO`) or the ente may not use the service.
    pub refused: u64,
    /// `invalid_input`: the row cannot be asked.
    pub invalid_input: u64,
    /// `error`: no answer after the retries.
    pub error: u64,
}

impl Counts for IseeCounts {
    fn add(&mut self, esito: &str, n: u64) {
        let slot = match esito {
            "found" => &mut self.found,
            "no_isee" => &mut self.no_isee,
            "refused" => &mut self.refused,
            "invalid_input" => &mut self.invalid_input,
            _ => &mut self.error,
        };
        *slot += n;
    }

    fn total(&self) -> u64 {
        self.found + self.no_isee + self.refused + self.invalid_input + self.error
    }
}

/// What an ISEE batch did. `Serialize` for a JSON summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IseeSummary {
    /// Rows in the input.
    pub rows_total: u64,
    /// Rows with their final outcome.
    pub rows_done: u64,
    /// Distinct questions (each asked once).
    pub distinct_questions: u64,
    /// Rows per outcome.
    pub outcomes: IseeCounts,
    /// Calls made by this run (retries included).
    pub calls: u64,
    /// Retries made by this run.
    pub retries: u64,
    /// Duration of this run, in seconds.
    pub duration_seconds: f64,
    /// Rows of [`IseeCounts::error`] whose failure was transient (the
    /// network, a timeout, a 5xx, the token refused, INPS's database
    /// offline…): running the batch again on its journal (which is then
    /// kept) asks them again.
    pub retry_rows: u64,
}

/// A resumable ISEE batch. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct IseeBatch {
    spec: IseeBatchSpec,
}

/// One question, as journaled (its JSON is the de-duplication key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Question {
    cf: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dsu: Option<String>,
    date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    prestazione: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protocollo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stato: Option<String>,
}

impl Question {
    fn query(&self, kind: &IseeKind) -> Result<IseeQuery, BulkError> {
        let corrupt = || BulkError::Journal {
            reason: String::from("the journal is damaged: a journaled question is not valid"),
        };
        let cf = AnyCodiceFiscale::parse(&self.cf).map_err(|_| corrupt())?;
        let date = parse_iso(&self.date).ok_or_else(corrupt)?;
        let mut q = match &self.dsu {
            Some(dsu) => IseeQuery::by_dsu(DsuProtocol::parse(dsu).map_err(|_| corrupt())?, cf),
            None => IseeQuery::by_cf(cf).valid_on(date),
        };
        q = q.kind(kind.clone());
        if let Some(p) = &self.prestazione {
            q = q.prestazione(PrestazioneDaErogare::parse(p).map_err(|_| corrupt())?);
        }
        if let Some(p) = &self.protocollo {
            q = q.protocollo_domanda(p);
        }
        if let Some(s) = &self.stato {
            q = q.stato(StatoDomanda::parse(s).ok_or_else(corrupt)?);
        }
        Ok(q)
    }
}

/// The output fields of a found ISEE (what the journal keeps).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Fields {
    isee_cents: i64,
    kind: String,
    protocollo_dsu: Option<String>,
    /// ISO dates.
    presented_on: Option<String>,
    valid_until: Option<String>,
    household: Option<u64>,
    omissioni: Option<bool>,
    bonus_nido_cents: i64,
}

/// An answer as journaled (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stored {
    Found {
        fields: Fields,
        id_richiesta: Option<String>,
    },
    NoIsee {
        id_richiesta: Option<String>,
    },
    Refused {
        code: String,
        id_richiesta: Option<String>,
    },
    Failed {
        code: String,
    },
}

impl Stored {
    fn esito(&self) -> &'static str {
        match self {
            Stored::Found { .. } => "found",
            Stored::NoIsee { .. } => "no_isee",
            Stored::Refused { .. } => "refused",
            Stored::Failed { .. } => "error",
        }
    }
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_iso(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

fn indicatore_fields(ind: &Indicatore) -> Fields {
    let minorenni = (ind.kind.as_ref() == Some(&IseeKind::Minorenni)).then(|| ind.isee());
    Fields {
        isee_cents: ind.isee().cents(),
        kind: ind
            .kind
            .as_ref()
            .map(|k| k.as_str().to_owned())
            .unwrap_or_default(),
        protocollo_dsu: ind.protocollo_dsu.as_ref().map(|p| p.to_string()),
        presented_on: ind.presented_on.map(iso),
        valid_until: ind.valid_until().map(iso),
        household: (!ind.household.is_empty()).then_some(ind.household.len() as u64),
        omissioni: None,
        bonus_nido_cents: bonus_nido_max_annual(minorenni).cents(),
    }
}

fn attestazione_fields(att: &Attestazione, person: &AnyCodiceFiscale) -> Fields {
    let minorenni = att.isee_for(&IseeKind::Minorenni, person).or_else(|| {
        att.entries_of(&IseeKind::Minorenni)
            .find_map(|e| e.values)
            .map(|v| v.isee)
    });
    let headline = att.headline();
    Fields {
        isee_cents: att.isee().map_or(0, Euro::cents),
        kind: headline
            .map(|e| e.kind.as_str().to_owned())
            .unwrap_or_default(),
        protocollo_dsu: Some(att.protocollo_dsu.to_string()),
        presented_on: Some(iso(att.presented_on)),
        valid_until: Some(iso(att.valid_until())),
        household: Some(att.household_size() as u64),
        omissioni: Some(att.has_omissioni_difformita()),
        bonus_nido_cents: bonus_nido_max_annual(minorenni).cents(),
    }
}

fn stored<T>(r: &Result<IseeAnswer<T>, IseeError>, fields: impl Fn(&T) -> Fields) -> Stored {
    match r {
        Ok(IseeAnswer::Found {
            record,
            id_richiesta,
        }) => Stored::Found {
            fields: fields(record),
            id_richiesta: id_richiesta.clone(),
        },
        Ok(IseeAnswer::NoIsee { id_richiesta, .. }) => Stored::NoIsee {
            id_richiesta: id_richiesta.clone(),
        },
        Err(e @ (IseeError::Refused { .. } | IseeError::NotEligible(_))) => Stored::Refused {
            code: e.code().to_owned(),
            id_richiesta: match e {
                IseeError::Refused { id_richiesta, .. } => id_richiesta.clone(),
                _ => None,
            },
        },
        Err(e) => Stored::Failed {
            code: e.code().to_owned(),
        },
    }
}

fn answer_outcome<T>(a: &IseeAnswer<T>) -> &'static str {
    match a {
        IseeAnswer::Found { .. } => "found",
        IseeAnswer::NoIsee { .. } => "no_isee",
    }
}

/// A row as read: decided locally, or a question.
enum Local {
    Decided(&'static str, String),
    Ask(Question),
}

/// The optional columns of the input.
struct Columns {
    cf: usize,
    date: Option<usize>,
    prestazione: Option<usize>,
    protocollo: Option<usize>,
    dsu: Option<usize>,
    stato: Option<usize>,
}

fn classify(spec: &IseeBatchSpec, cols: &Columns, row: &Row) -> (String, Local) {
    let get = |i: Option<usize>| {
        i.and_then(|i| row.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let given = row.get(cols.cf).unwrap_or("").to_owned();
    let invalid = |code: &str| (given.clone(), Local::Decided("invalid_input", code.into()));
    let cf = match AnyCodiceFiscale::parse(&given) {
        Ok(cf) => cf,
        Err(e) => return invalid(e.code()),
    };
    let date = match get(cols.date).map(parse_date_it) {
        None => spec.valid_on,
        Some(Ok(d)) => d,
        Some(Err(e)) => return invalid(e.code()),
    };
    let prestazione = match get(cols.prestazione).map(PrestazioneDaErogare::parse) {
        None => spec.prestazione,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => return invalid(e.code()),
    };
    let protocollo = get(cols.protocollo).map(str::to_owned);
    if protocollo.as_ref().is_some_and(|p| p.chars().count() > 256) {
        return invalid("isee_protocollo_domanda_too_long");
    }
    let dsu = match get(cols.dsu).map(DsuProtocol::parse) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => return invalid(e.code()),
    };
    let riscontro = spec.service.family() == ServiceFamily::Riscontro;
    if riscontro && dsu.is_none() {
        return invalid("isee_dsu_protocol_required");
    }
    let stato = match get(cols.stato) {
        None => None,
        Some(s) => match StatoDomanda::parse(s) {
            Some(s) => Some(s),
            None => return invalid("isee_stato_domanda"),
        },
    };
    let q = Question {
        cf: cf.as_str().to_owned(),
        // The DSU protocol is the lookup key of the Riscontro services only.
        dsu: dsu.filter(|_| riscontro).map(|d| d.to_string()),
        date: iso(date),
        prestazione: prestazione.map(|p| p.code().to_owned()),
        protocollo,
        stato: stato.map(|s| s.as_str().to_owned()),
    };
    (given, Local::Ask(q))
}

struct Journal {
    conn: Connection,
}

impl Journal {
    fn open(spec: &IseeBatchSpec) -> Result<Self, BulkError> {
        let input_path = spec.input.display().to_string();
        let sha = hash_file(&spec.input)?;
        let date = spec.valid_on.to_string();
        let prestazione = spec
            .prestazione
            .map(|p| p.code().to_owned())
            .unwrap_or_default();
        let column = spec.cf_column.clone().unwrap_or_default();
        let conn = open_db(
            &spec.journal,
            SCHEMA,
            FORMAT,
            &[
                Param {
                    key: "input_path",
                    value: &input_path,
                    what: None,
                },
                Param {
                    key: "input_sha256",
                    value: &sha,
                    what: Some("file di input"),
                },
                Param {
                    key: "service",
                    value: spec.service.as_str(),
                    what: Some("servizio ISEE"),
                },
                Param {
                    key: "valid_on",
                    value: &date,
                    what: Some("data di validità"),
                },
                Param {
                    key: "prestazione",
                    value: &prestazione,
                    what: Some("prestazione"),
                },
                Param {
                    key: "kind",
                    value: spec.kind.as_str(),
                    what: Some("tipo di ISEE"),
                },
                Param {
                    key: "cf_column",
                    value: &column,
                    what: Some("colonna del codice fiscale"),
                },
            ],
        )?;
        Ok(Self { conn })
    }

    fn is_ingested(&self) -> Result<bool, BulkError> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'ingested'", [], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(v.as_deref() == Some("1"))
    }

    fn ingest(&mut self, spec: &IseeBatchSpec) -> Result<(), BulkError> {
        let path = &spec.input;
        self.conn
            .execute_batch("BEGIN; DELETE FROM rows; DELETE FROM questions; COMMIT;")?;
        let file = File::open(path).map_err(|e| input_error(path, e))?;
        let aliases = Aliases::new();
        let mut reader: CsvReader<BufReader<File>> = ReaderBuilder::new()
            .strict(false)
            .aliases(aliases.clone())
            .from_reader(BufReader::new(file))
            .map_err(|e| match e {
                anist_core::csvio::CsvError::Io(io) => input_error(path, io),
                other => BulkError::Csv(other),
            })?;
        let headers = reader.headers().clone();
        let cf = match &spec.cf_column {
            Some(name) => headers
                .find(name, &aliases)
                .ok_or_else(|| BulkError::no_such_column(name))?,
            None => headers.index(Field::CodiceFiscale).ok_or_else(|| {
                BulkError::no_cf_column_for_inps(headers.index(Field::IdAnpr).is_some())
            })?,
        };
        let any = |names: &[&str]| names.iter().find_map(|n| headers.find(n, &aliases));
        let cols = Columns {
            cf,
            date: any(&["data_validita", "data validità", "data"]),
            prestazione: any(&["prestazione", "prestazione_da_erogare"]),
            protocollo: any(&["protocollo_domanda", "protocollo"]),
            dsu: any(&["protocollo_dsu", "dsu"]),
            stato: any(&["stato_domanda", "stato"]),
        };
        let mut row = Row::new();
        let mut tx = self.conn.transaction()?;
        let mut in_chunk = 0usize;
        loop {
            let (line, given, local) = match reader.read_row(&mut row) {
                Ok(ReadOutcome::Row) => {
                    let (given, local) = classify(spec, &cols, &row);
                    (row.line(), given, local)
                }
                Ok(ReadOutcome::Bad(e)) => (
                    e.line().unwrap_or(0),
                    String::new(),
                    Local::Decided("error", e.code().to_owned()),
                ),
                Ok(ReadOutcome::End) => break,
                Err(e) => return Err(input_error(path, e)),
            };
            match local {
                Local::Decided(esito, motivo) => {
                    tx.execute(
                        "INSERT INTO rows(line, given, esito, motivo) VALUES (?1, ?2, ?3, ?4)",
                        params![line as i64, given, esito, motivo],
                    )?;
                }
                Local::Ask(q) => {
                    let key = serde_json::to_string(&q).map_err(|e| BulkError::Journal {
                        reason: format!("cannot encode a question: {e}"),
                    })?;
                    let id: i64 = tx.query_row(
                        "INSERT INTO questions(key, rows_count) VALUES (?1, 1) \
                         ON CONFLICT(key) DO UPDATE SET rows_count = rows_count + 1 \
                         RETURNING id",
                        [&key],
                        |r| r.get(0),
                    )?;
                    tx.execute(
                        "INSERT INTO rows(line, given, question) VALUES (?1, ?2, ?3)",
                        params![line as i64, given, id],
                    )?;
                }
            }
            in_chunk += 1;
            if in_chunk >= CHUNK {
                tx.commit()?;
                tx = self.conn.transaction()?;
                in_chunk = 0;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('ingested', '1')",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn totals(&self) -> Result<(u64, u64), BulkError> {
        let rows: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM rows", [], |r| r.get(0))?;
        let questions: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM questions", [], |r| r.get(0))?;
        Ok((rows.unsigned_abs(), questions.unsigned_abs()))
    }

    fn done_counts(&self) -> Result<IseeCounts, BulkError> {
        let mut counts = IseeCounts::default();
        let mut stmt = self.conn.prepare(
            "SELECT esito, COUNT(*) FROM rows WHERE esito IS NOT NULL GROUP BY esito \
             UNION ALL \
             SELECT final_esito, SUM(rows_count) FROM questions WHERE final_esito IS NOT NULL GROUP BY final_esito",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let esito: String = r.get(0)?;
            let n: i64 = r.get(1)?;
            counts.add(&esito, n.unsigned_abs());
        }
        Ok(counts)
    }

    fn pending(&self, after: i64, limit: usize) -> Result<Vec<(i64, Question)>, BulkError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, key FROM questions WHERE answer IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![after, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, key) = row?;
            let q = serde_json::from_str(&key).map_err(|e| BulkError::Journal {
                reason: format!("a question in the journal cannot be read: {e}"),
            })?;
            out.push((id, q));
        }
        Ok(out)
    }

    /// The rows whose question failed for a transient reason
    /// ([`is_transient`](super::engine::is_transient)); with `reopen`,
    /// those answers are forgotten (one transaction) so that the run asks
    /// them again.
    fn transient_failures(&mut self, reopen: bool) -> Result<u64, BulkError> {
        let tx = self.conn.transaction()?;
        let mut rows = 0u64;
        {
            let mut stmt = tx.prepare(
                "SELECT id, rows_count, answer FROM questions WHERE final_esito = 'error'",
            )?;
            let found = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (id, count, answer) in found {
                let transient = answer
                    .as_deref()
                    .and_then(|a| serde_json::from_str::<Stored>(a).ok())
                    .is_some_and(|s| matches!(s, Stored::Failed { code } if super::engine::is_transient(&code)));
                if transient {
                    rows += count.unsigned_abs();
                    if reopen {
                        tx.execute(
                            "UPDATE questions SET answer = NULL, final_esito = NULL WHERE id = ?1",
                            [id],
                        )?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(rows)
    }

    /// Journals an answer; returns its outcome and the rows it stands for.
    fn store(&self, id: i64, answer: &Stored) -> Result<(&'static str, u64), BulkError> {
        let json = serde_json::to_string(answer).map_err(|e| BulkError::Journal {
            reason: format!("cannot encode an answer: {e}"),
        })?;
        let esito = answer.esito();
        let rows: i64 = self.conn.query_row(
            "UPDATE questions SET answer = ?1, final_esito = ?2 WHERE id = ?3 RETURNING rows_count",
            params![json, esito, id],
            |r| r.get(0),
        )?;
        Ok((esito, rows.unsigned_abs()))
    }

    fn write_output(
        &self,
        path: &Path,
        service: IseeService,
        valid_on: NaiveDate,
    ) -> Result<IseeCounts, BulkError> {
        let mut w = AtomicCsv::create(path, &COLUMNS)?;
        let mut counts = IseeCounts::default();
        let mut stmt = self.conn.prepare(
            "SELECT r.line, r.given, r.esito, r.motivo, q.answer, q.key \
             FROM rows r LEFT JOIN questions q ON q.id = r.question ORDER BY r.seq",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let line: i64 = r.get(0)?;
            let given: String = r.get(1)?;
            let esito: Option<String> = r.get(2)?;
            let motivo: Option<String> = r.get(3)?;
            let answer: Option<String> = r.get(4)?;
            let key: Option<String> = r.get(5)?;
            let mut f = vec![String::new(); COLUMNS.len()];
            f[0] = line.to_string();
            f[1] = given;
            f[14] = service.as_str().to_owned();
            match (esito, answer) {
                (Some(esito), _) => {
                    f[2] = esito;
                    f[3] = motivo.unwrap_or_default();
                }
                (None, Some(answer)) => {
                    let stored: Stored =
                        serde_json::from_str(&answer).map_err(|e| BulkError::Journal {
                            reason: format!("an answer in the journal cannot be read: {e}"),
                        })?;
                    let question = key.and_then(|k| serde_json::from_str::<Question>(&k).ok());
                    let date = question
                        .as_ref()
                        .and_then(|q| parse_iso(&q.date))
                        .unwrap_or(valid_on);
                    let person = question.and_then(|q| AnyCodiceFiscale::parse(&q.cf).ok());
                    f[2] = stored.esito().to_owned();
                    answer_fields(&stored, date, person.as_ref(), &mut f);
                }
                (None, None) => {
                    return Err(BulkError::Journal {
                        reason: String::from("the journal is damaged: a row has no answer"),
                    })
                }
            }
            counts.add(&f[2], 1);
            f[15] = esito_it(&f[2]).to_owned();
            f.swap(2, 15);
            w.row(&f)?;
        }
        w.finish()?;
        Ok(counts)
    }
}

fn yes_no(b: bool) -> String {
    String::from(if b { "si" } else { "no" })
}

fn euro_csv(cents: i64) -> String {
    // `12345,67`: comma decimals, no thousands separator (Excel, Italian
    // locale).
    Euro::from_cents(cents)
        .machine()
        .to_string()
        .replace('.', ",")
}

fn answer_fields(
    stored: &Stored,
    date: NaiveDate,
    person: Option<&AnyCodiceFiscale>,
    f: &mut [String],
) {
    match stored {
        Stored::Found {
            fields,
            id_richiesta,
        } => {
            f[4] = euro_csv(fields.isee_cents);
            f[5] = fields.kind.clone();
            f[6] = fields.protocollo_dsu.clone().unwrap_or_default();
            let presented = fields.presented_on.as_deref().and_then(parse_iso);
            let until = fields.valid_until.as_deref().and_then(parse_iso);
            f[7] = presented.map(format_date_it).unwrap_or_default();
            f[8] = until.map(format_date_it).unwrap_or_default();
            f[9] = match (presented, until) {
                (Some(from), Some(to)) => yes_no(from <= date && date <= to),
                _ => String::new(),
            };
            f[10] = fields.household.map(|n| n.to_string()).unwrap_or_default();
            f[11] = fields.omissioni.map(yes_no).unwrap_or_default();
            // Only for a child under three on the row's date (also for
            // answers journaled before this rule).
            if person.is_some_and(|p| bonus_nido_applies(p, date)) {
                f[12] = euro_csv(fields.bonus_nido_cents);
            }
            f[13] = id_richiesta.clone().unwrap_or_default();
        }
        Stored::NoIsee { id_richiesta } => {
            f[13] = id_richiesta.clone().unwrap_or_default();
        }
        Stored::Refused { code, id_richiesta } => {
            f[3] = code.clone();
            f[13] = id_richiesta.clone().unwrap_or_default();
        }
        Stored::Failed { code } => f[3] = code.clone(),
    }
}

async fn ask<S: IseeLookup>(
    r: &Retrier<'_>,
    calls: &AtomicU64,
    svc: &S,
    service: IseeService,
    id: i64,
    query: IseeQuery,
) -> Result<Asked<Stored>, AuditError> {
    let eservice = session_name(service);
    let person = *query.person();
    let subject = Some(person.as_str());
    let (stored, quota) = if service.returns_attestazione() {
        let res = r
            .retrying(
                || {
                    bump(calls);
                    svc.attestazione(service, &query)
                },
                |res| r.record_result(eservice, "attestazione", subject, None, res, answer_outcome),
            )
            .await?;
        let quota = res
            .as_ref()
            .err()
            .filter(|e| CallFailure::is_quota_exceeded(*e))
            .map(Pause::of);
        (stored(&res, |a| attestazione_fields(a, &person)), quota)
    } else {
        let res = r
            .retrying(
                || {
                    bump(calls);
                    svc.indicatore(service, &query)
                },
                |res| r.record_result(eservice, "indicatore", subject, None, res, answer_outcome),
            )
            .await?;
        let quota = res
            .as_ref()
            .err()
            .filter(|e| CallFailure::is_quota_exceeded(*e))
            .map(Pause::of);
        (stored(&res, indicatore_fields), quota)
    };
    Ok(match quota {
        Some(p) => Asked::Quota(p),
        None => Asked::Answer(id, stored),
    })
}

impl IseeBatch {
    /// A batch. Nothing is read or written until [`run`](Self::run).
    pub fn new(spec: IseeBatchSpec) -> Self {
        Self { spec }
    }

    /// The batch's specification.
    pub fn spec(&self) -> &IseeBatchSpec {
        &self.spec
    }

    /// Runs the batch, or resumes it when its journal exists (a journal
    /// made for other input bytes, another service, date, prestazione, kind
    /// or column is refused with `bulk_journal_mismatch`), asks what is
    /// not yet answered, concurrently, and writes the output. An exhausted
    /// quota pauses it ([`JobOutcome::Paused`]): run it again later.
    ///
    /// Every call is recorded in `audit` when given. `progress` is called
    /// at most every [`JobOptions::progress_interval`] and once at the end.
    ///
    /// # Errors
    /// [`BulkError`] when the input, the journal, the output or the audit
    /// trail cannot be used; a failed question is an `error` row, not an
    /// `Err`.
    pub async fn run<S, P>(
        &self,
        svc: &S,
        audit: Option<&AuditLog>,
        progress: P,
    ) -> Result<JobOutcome<IseeSummary>, BulkError>
    where
        S: IseeLookup,
        P: Fn(&Progress<IseeCounts>) + Send + Sync,
    {
        let spec = &self.spec;
        let start = Instant::now();
        super::check_output_dir(&spec.output)?;
        let mut journal = super::fresh_or_removed(&spec.journal, || {
            let mut journal = Journal::open(spec)?;
            if !journal.is_ingested()? {
                journal.ingest(spec)?;
            }
            Ok(journal)
        })?;
        // What failed for a transient reason is asked again.
        journal.transient_failures(true)?;
        let (total, distinct) = journal.totals()?;
        let counts = journal.done_counts()?;
        let mut tracker = Tracker::new(&progress, spec.options.progress_interval, total, counts);
        tracker.start = start;
        tracker.tick(false);
        let retrier = Retrier::new(&spec.options, audit, svc.clock());
        let calls = AtomicU64::new(0);
        let pause = pump(
            &mut journal,
            spec.options.concurrency,
            Journal::pending,
            |id, q: Question| {
                let query = q.query(&spec.kind)?;
                Ok(
                    Box::pin(ask(&retrier, &calls, svc, spec.service, id, query))
                        as AskTask<'_, Stored>,
                )
            },
            // Committed before it is counted.
            |j, id, answer| {
                let (esito, rows) = j.store(id, &answer)?;
                tracker.finished(esito, rows);
                Ok(())
            },
        )
        .await?;
        let summary = |tracker: &Tracker<'_, IseeCounts, P>, outcomes: IseeCounts| IseeSummary {
            rows_total: total,
            rows_done: outcomes.total(),
            distinct_questions: distinct,
            outcomes,
            calls: calls.load(Ordering::Relaxed),
            retries: retrier.retries.load(Ordering::Relaxed),
            duration_seconds: tracker.start.elapsed().as_secs_f64(),
            retry_rows: 0,
        };
        if let Some(p) = pause {
            tracker.tick(true);
            return Ok(JobOutcome::Paused {
                reason: p.reason,
                code: p.code,
                summary: summary(&tracker, tracker.counts),
            });
        }
        let outcomes = journal.write_output(&spec.output, spec.service, spec.valid_on)?;
        let retry_rows = journal.transient_failures(false)?;
        tracker.counts = outcomes;
        tracker.done = outcomes.total();
        tracker.tick(true);
        let done = IseeSummary {
            retry_rows,
            ..summary(&tracker, outcomes)
        };
        drop(journal);
        super::retire_journal(&spec.journal, spec.options.keep_journal, retry_rows)?;
        Ok(JobOutcome::Completed(done))
    }
}
