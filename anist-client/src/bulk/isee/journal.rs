//! The ISEE batch's journal: a question is the JSON of what is asked
//! ([`Question`]), with one answer column; the row's outcome is
//! anist-core's [`RowOutcome`] of that answer.

use anist_core::cf::AnyCodiceFiscale;
use anist_core::csvio::{parse_date_it, Aliases, Field, Row};
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{
    bonus_nido_max_annual, Attestazione, Euro, Indicatore, IseeKind, PrestazioneDaErogare,
    RowOutcome, ServiceFamily, StatoDomanda,
};
use anist_core::ErrorCode;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::IseeBatchSpec;
use crate::bulk::input::{hash_file, open_input};
use crate::bulk::journal::{
    self as core, decode, encode, set_final, store_answer, Layout, Param, Pending, RowRecord,
};
use crate::bulk::BulkError;
use crate::isee::{IseeAnswer, IseeError, IseeQuery};

static LAYOUT: Layout = Layout {
    format: "anist-isee-journal-2",
    question_columns: "answer TEXT,",
    tables: "",
    answer_columns: &["answer"],
};

/// One question, as journaled (its JSON is the de-duplication key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Question {
    pub(crate) cf: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) dsu: Option<String>,
    pub(crate) date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) prestazione: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) protocollo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stato: Option<String>,
}

impl Question {
    pub(crate) fn query(&self, kind: &IseeKind) -> Result<IseeQuery, BulkError> {
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
pub(crate) struct Fields {
    pub(crate) isee_cents: i64,
    pub(crate) kind: String,
    pub(crate) protocollo_dsu: Option<String>,
    /// ISO dates.
    pub(crate) presented_on: Option<String>,
    pub(crate) valid_until: Option<String>,
    pub(crate) household: Option<u64>,
    pub(crate) omissioni: Option<bool>,
    pub(crate) bonus_nido_cents: i64,
}

/// An answer as journaled (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Stored {
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
    /// The row's outcome.
    pub(crate) fn outcome(&self) -> RowOutcome {
        match self {
            Stored::Found { .. } => RowOutcome::of_answer(true),
            Stored::NoIsee { .. } => RowOutcome::of_answer(false),
            Stored::Refused { .. } => RowOutcome::Refused,
            Stored::Failed { .. } => RowOutcome::Error,
        }
    }
}

pub(crate) fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_iso(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub(crate) fn indicatore_fields(ind: &Indicatore) -> Fields {
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

pub(crate) fn attestazione_fields(att: &Attestazione, person: &AnyCodiceFiscale) -> Fields {
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

pub(crate) fn stored<T>(
    r: &Result<IseeAnswer<T>, IseeError>,
    fields: impl Fn(&T) -> Fields,
) -> Stored {
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
        Err(e) => match RowOutcome::of_failure(e.kind()) {
            RowOutcome::Refused => Stored::Refused {
                code: e.code().to_owned(),
                id_richiesta: match e {
                    IseeError::Refused { id_richiesta, .. } => id_richiesta.clone(),
                    _ => None,
                },
            },
            _ => Stored::Failed {
                code: e.code().to_owned(),
            },
        },
    }
}

/// The audit trail's outcome of an answer.
pub(crate) fn answer_outcome<T>(a: &IseeAnswer<T>) -> &'static str {
    RowOutcome::of_answer(matches!(a, IseeAnswer::Found { .. })).as_str()
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

fn classify(spec: &IseeBatchSpec, cols: &Columns, row: &Row) -> Result<RowRecord, BulkError> {
    let get = |i: Option<usize>| {
        i.and_then(|i| row.get(i))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let given = row.get(cols.cf).unwrap_or("").to_owned();
    let line = row.line();
    let invalid = |code: &str| {
        Ok(RowRecord::decided(
            line,
            given.clone(),
            RowOutcome::InvalidInput.as_str(),
            code.into(),
        ))
    };
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
    let key = serde_json::to_string(&q).map_err(|e| BulkError::Journal {
        reason: format!("cannot encode a question: {e}"),
    })?;
    Ok(RowRecord::asking(line, given, key))
}

/// The ISEE batch's journal (the generic one's operations through `Deref`).
pub(crate) type Journal = core::JobJournal<IseeBatch>;

/// Marks the ISEE batch's view of the journal.
pub(crate) enum IseeBatch {}

impl core::JobJournal<IseeBatch> {
    /// Opens or creates the batch's journal and checks (or records) its
    /// parameters.
    pub(crate) fn open(spec: &IseeBatchSpec) -> Result<Self, BulkError> {
        let input_path = spec.input.display().to_string();
        let sha = hash_file(&spec.input)?;
        let date = spec.valid_on.to_string();
        let prestazione = spec
            .prestazione
            .map(|p| p.code().to_owned())
            .unwrap_or_default();
        let column = spec.cf_column.clone().unwrap_or_default();
        core::Journal::open(
            &spec.journal,
            &LAYOUT,
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
        )
        .map(core::JobJournal::new)
    }

    /// Reads the input into the journal: the codice fiscale column (named,
    /// or found by alias; INPS is asked by codice fiscale only) and the
    /// optional columns of the module documentation.
    pub(crate) fn read_input(&mut self, spec: &IseeBatchSpec) -> Result<(), BulkError> {
        let path = &spec.input;
        let aliases = Aliases::new();
        let mut reader = open_input(path, &aliases)?;
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
        self.ingest(path, &mut reader, Vec::new(), |row| {
            classify(spec, &cols, row)
        })
    }

    /// Up to `limit` questions not yet answered, with ids above `after`.
    pub(crate) fn pending(
        &self,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Question)>, BulkError> {
        self.pending_where("answer IS NULL", &[], after, limit)?
            .into_iter()
            .map(|Pending { id, key }| Ok((id, decode(&key)?)))
            .collect()
    }

    /// Journals an answer (one transaction); returns its outcome and the
    /// rows it stands for.
    pub(crate) fn store(
        &mut self,
        id: i64,
        answer: &Stored,
    ) -> Result<(RowOutcome, u64), BulkError> {
        let outcome = answer.outcome();
        let tx = self.transaction()?;
        let rows = if store_answer(&tx, id, "answer", &encode(answer)?)? {
            set_final(&tx, id, outcome.as_str())?
        } else {
            0
        };
        tx.commit()?;
        Ok((outcome, rows))
    }
}
