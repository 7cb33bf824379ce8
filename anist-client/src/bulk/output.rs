//! The outcome of a code from its journaled answers, and the output file.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anist_core::attendance::{
    compliance_outcome, ComplianceOutcome, EsitoFrequenza, Frequenza, Lookup, MinorCheck, Verifica,
};
use anist_core::csvio::{CsvWriter, WriterOptions};
use anist_core::school::SchoolYear;

use super::journal::{decode, Journal, Stored};
use super::{BulkError, OutcomeCounts};

/// The output's header.
pub(crate) const COLUMNS: [&str; 13] = [
    "riga",
    "codice_fiscale",
    "esito",
    "motivo",
    "obbligo",
    "frequentante",
    "esito_frequenza",
    "codice_istituto",
    "denominazione_istituto",
    "codice_plesso",
    "denominazione_plesso",
    "anno_corso",
    "anno_scolastico_record",
];

/// Where a code stands, from its answers.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    /// The verification says "not attending": ascertain both years.
    pub(crate) need_ascertain: bool,
    /// The outcome, once every needed answer is in.
    pub(crate) outcome: Option<ComplianceOutcome>,
    /// The record to show, and whether it is the previous year's.
    pub(crate) shown: Option<(Frequenza, bool)>,
    /// The verification, when found.
    pub(crate) verifica: Option<Verifica>,
}

fn attending(v: &Verifica) -> bool {
    v.esito_frequenza
        .map_or(v.frequentante, EsitoFrequenza::is_attending)
}

/// Combines the journaled answers of a code: verification first; the two
/// ascertainments only when it says "not attending"; the job's year's
/// record decides with the verification (`compliance_outcome`), the
/// previous year's is shown when the job's year has none.
pub(crate) fn decide(
    verify: Option<Stored<Verifica>>,
    cur: Option<Stored<Frequenza>>,
    prev: Option<Stored<Frequenza>>,
) -> Decision {
    let mut d = Decision {
        need_ascertain: false,
        outcome: None,
        shown: None,
        verifica: None,
    };
    let Some(verify) = verify else {
        return d;
    };
    let verification = verify.into_lookup();
    if let Lookup::Found(v) = &verification {
        d.verifica = Some(v.clone());
        d.need_ascertain = !attending(v);
    }
    let record = if d.need_ascertain {
        let (Some(cur), Some(prev)) = (cur, prev) else {
            return d;
        };
        let prev = prev.into_lookup();
        let cur = cur.into_lookup();
        d.shown = match (&cur, prev) {
            (Lookup::Found(f), _) => Some((f.clone(), false)),
            (_, Lookup::Found(f)) => Some((f, true)),
            _ => None,
        };
        cur
    } else {
        Lookup::NotAsked
    };
    d.outcome = Some(compliance_outcome(&MinorCheck {
        code_validity: Ok(()),
        obligation: None,
        verification,
        record,
    }));
    d
}

fn motivo(outcome: &ComplianceOutcome) -> String {
    match outcome {
        ComplianceOutcome::ToBeChecked { reason, .. } => reason.code().to_owned(),
        ComplianceOutcome::Error { code, .. } | ComplianceOutcome::InvalidCode { code } => {
            code.clone()
        }
        _ => String::new(),
    }
}

/// The fields of an asked row after `obbligo`: `frequentante` …
/// `anno_scolastico_record`.
struct AskedFields {
    esito: &'static str,
    motivo: String,
    rest: [String; 8],
}

fn asked_fields(d: &Decision, year: SchoolYear) -> Result<AskedFields, BulkError> {
    let outcome = d.outcome.as_ref().ok_or_else(|| BulkError::Journal {
        reason: String::from("a code has no outcome at the end of the job"),
    })?;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    let verified_esito = d.verifica.as_ref().and_then(|v| v.esito_frequenza);
    let frequentante = d
        .verifica
        .as_ref()
        .map(|v| v.frequentante.to_string())
        .unwrap_or_default();
    let code = |e: Option<EsitoFrequenza>| e.map(|e| e.code().to_string()).unwrap_or_default();
    let rest = match &d.shown {
        Some((f, previous)) => {
            let y = f
                .anno_scolastico
                .unwrap_or(if *previous { year.previous() } else { year });
            [
                frequentante,
                code(f.esito_frequenza.or(verified_esito)),
                opt(&f.codice_istituto_principale),
                opt(&f.deno_istituto_principale),
                opt(&f.codice_meccanografico),
                opt(&f.denominazione_plesso),
                f.anno_corso.map(|a| a.to_string()).unwrap_or_default(),
                y.to_string(),
            ]
        }
        None => {
            let mut rest: [String; 8] = Default::default();
            rest[0] = frequentante;
            rest[1] = code(verified_esito);
            rest
        }
    };
    Ok(AskedFields {
        esito: outcome.as_str(),
        motivo: motivo(outcome),
        rest,
    })
}

fn output_error(path: &Path, e: impl std::fmt::Display) -> BulkError {
    BulkError::Output {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

/// An Excel-friendly CSV written to `<path>.partial`, renamed into place
/// (after an fsync) by [`AtomicCsv::finish`]: a reader never sees half a
/// file.
pub(crate) struct AtomicCsv {
    tmp: PathBuf,
    path: PathBuf,
    w: CsvWriter<BufWriter<File>>,
}

impl AtomicCsv {
    /// Starts the file with its header row.
    pub(crate) fn create(path: &Path, columns: &[&str]) -> Result<Self, BulkError> {
        let mut name = path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        name.push(".partial");
        let tmp = path.with_file_name(name);
        let file = crate::files::create_private(&tmp).map_err(|e| output_error(&tmp, e))?;
        let mut w = CsvWriter::new(BufWriter::new(file), WriterOptions::excel());
        w.write_row(columns).map_err(|e| output_error(&tmp, e))?;
        Ok(Self {
            tmp,
            path: path.to_owned(),
            w,
        })
    }

    /// One row.
    pub(crate) fn row<S: AsRef<str>>(&mut self, fields: &[S]) -> Result<(), BulkError> {
        self.w
            .write_row(fields)
            .map_err(|e| output_error(&self.tmp, e))
    }

    /// Flushes, syncs and renames the file into place.
    pub(crate) fn finish(self) -> Result<(), BulkError> {
        let tmp = self.tmp;
        let mut inner = self.w.into_inner().map_err(|e| output_error(&tmp, e))?;
        inner.flush().map_err(|e| output_error(&tmp, e))?;
        let file = inner
            .into_inner()
            .map_err(|e| output_error(&tmp, e.error()))?;
        file.sync_all().map_err(|e| output_error(&tmp, e))?;
        drop(file);
        fs::rename(&tmp, &self.path).map_err(|e| output_error(&self.path, e))
    }
}

/// Writes the output from the journal (every row in input order) to a
/// temporary file renamed into place; returns the counts per outcome.
pub(crate) fn write_output(
    journal: &Journal,
    path: &Path,
    year: SchoolYear,
) -> Result<OutcomeCounts, BulkError> {
    let mut w = AtomicCsv::create(path, &COLUMNS)?;
    let mut counts = OutcomeCounts::default();
    let mut stmt = journal.conn().prepare(
        "SELECT r.line, r.given, r.esito, r.motivo, r.obbligo, s.verify, s.asc_cur, s.asc_prev \
         FROM rows r LEFT JOIN subjects s ON s.id = r.subject ORDER BY r.seq",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let line: i64 = r.get(0)?;
        let given: String = r.get(1)?;
        let esito: Option<String> = r.get(2)?;
        let motivo_local: Option<String> = r.get(3)?;
        let obbligo: Option<String> = r.get(4)?;
        let mut fields: Vec<String> = Vec::with_capacity(COLUMNS.len());
        fields.push(line.to_string());
        fields.push(given);
        match esito {
            Some(esito) => {
                counts.add(&esito, 1);
                fields.push(esito);
                fields.push(motivo_local.unwrap_or_default());
                fields.push(obbligo.unwrap_or_default());
                fields.extend(std::iter::repeat_n(String::new(), 8));
            }
            None => {
                let verify: Option<String> = r.get(5)?;
                let cur: Option<String> = r.get(6)?;
                let prev: Option<String> = r.get(7)?;
                let d = decide(
                    decode(verify.as_deref())?,
                    decode(cur.as_deref())?,
                    decode(prev.as_deref())?,
                );
                let f = asked_fields(&d, year)?;
                counts.add(f.esito, 1);
                fields.push(f.esito.to_owned());
                fields.push(f.motivo);
                fields.push(obbligo.unwrap_or_default());
                fields.extend(f.rest);
            }
        }
        w.row(&fields)?;
    }
    w.finish()?;
    Ok(counts)
}
