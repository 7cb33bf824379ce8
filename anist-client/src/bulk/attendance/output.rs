//! The attendance job's output: the outcome of a code from its journaled
//! answers, one line per input row.

use std::path::Path;

use anist_core::attendance::{
    check_reason_label, outcome_label, si_no, ComplianceOutcome, RowDecision,
};
use anist_core::school::{obligation_label, SchoolYear};

use super::journal::{decide_journaled, Journal};
use super::OutcomeCounts;
use crate::bulk::journal::OutputRow;
use crate::bulk::output::AtomicCsv;
use crate::bulk::BulkError;

/// The output's header (the second column is `id_anpr` instead when the
/// input's codes are ID ANPR: [`SUBJECT_META`]).
pub(crate) const COLUMNS: [&str; 16] = [
    "riga",
    "codice_fiscale",
    "esito",
    "codice_esito",
    "motivo",
    "obbligo",
    "frequentante",
    "esito_frequenza",
    "descrizione_esito_frequenza",
    "codice_istituto",
    "denominazione_istituto",
    "codice_plesso",
    "denominazione_plesso",
    "percorso_studi",
    "anno_corso",
    "anno_scolastico_record",
];

/// The journal `meta` key naming the input's code column kind
/// (`codice_fiscale` or `id_anpr`), written at ingestion.
pub(crate) const SUBJECT_META: &str = "subject_column";

/// `motivo`: the Italian label of a check reason, or the stable code of
/// an error or an invalid code.
fn motivo(outcome: &ComplianceOutcome) -> String {
    match outcome {
        ComplianceOutcome::ToBeChecked { reason, .. } => check_reason_label(reason.code())
            .unwrap_or(reason.code())
            .to_owned(),
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
    rest: [String; 10],
}

fn asked_fields(d: &RowDecision, year: SchoolYear) -> Result<AskedFields, BulkError> {
    let outcome = d.outcome.as_ref().ok_or_else(|| BulkError::Journal {
        reason: String::from("a code has no outcome at the end of the job"),
    })?;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    // The esito of the job's year: its record's, else the verification's.
    let esito = d
        .current
        .as_ref()
        .and_then(|f| f.esito_frequenza)
        .or_else(|| d.verifica.as_ref().and_then(|v| v.esito_frequenza));
    let frequentante = d
        .verifica
        .as_ref()
        .map(|v| si_no(v.frequentante).to_owned())
        .unwrap_or_default();
    let code = esito.map(|e| e.code().to_string()).unwrap_or_default();
    let label = esito.map(|e| e.to_string()).unwrap_or_default();
    let rest = match &d.shown {
        Some((f, previous)) => {
            let y = f
                .anno_scolastico
                .unwrap_or(if *previous { year.previous() } else { year });
            [
                frequentante,
                code,
                label,
                opt(&f.codice_istituto_principale),
                opt(&f.deno_istituto_principale),
                opt(&f.codice_meccanografico),
                opt(&f.denominazione_plesso),
                opt(&f.percorso_studi),
                f.anno_corso.map(|a| a.to_string()).unwrap_or_default(),
                y.to_string(),
            ]
        }
        None => {
            let mut rest: [String; 10] = Default::default();
            rest[0] = frequentante;
            rest[1] = code;
            rest[2] = label;
            rest
        }
    };
    Ok(AskedFields {
        esito: outcome.as_str(),
        motivo: motivo(outcome),
        rest,
    })
}

/// The `obbligo` column: the Italian label of a journaled status code.
fn obbligo_label(code: Option<String>) -> String {
    code.map(|c| obligation_label(&c).map_or(c.clone(), str::to_owned))
        .unwrap_or_default()
}

/// Writes the output from the journal (every row in input order) to a
/// temporary file renamed into place; returns the counts per outcome.
/// `esito` is the Italian label, `codice_esito` the stable code.
pub(crate) fn write_output(
    journal: &Journal,
    path: &Path,
    year: SchoolYear,
) -> Result<OutcomeCounts, BulkError> {
    let id_anpr = journal.meta(SUBJECT_META)?.as_deref() == Some("id_anpr");
    write_rows(path, year, id_anpr, |each| journal.for_each_row(each))
}

/// Writes the output of the rows `rows` gives (every row in input order,
/// to the callback it is handed) to a temporary file renamed into place;
/// `id_anpr`: the input's codes are ID ANPR. The one writer of a local
/// job and of a shared one, so the same answers give the same bytes.
pub(crate) fn write_rows(
    path: &Path,
    year: SchoolYear,
    id_anpr: bool,
    rows: impl FnOnce(&mut dyn FnMut(OutputRow) -> Result<(), BulkError>) -> Result<(), BulkError>,
) -> Result<OutcomeCounts, BulkError> {
    let mut columns = COLUMNS;
    if id_anpr {
        columns[1] = "id_anpr";
    }
    let mut w = AtomicCsv::create(path, &columns)?;
    let mut counts = OutcomeCounts::default();
    rows(&mut |r: OutputRow| {
        let mut fields: Vec<String> = Vec::with_capacity(COLUMNS.len());
        fields.push(r.line.to_string());
        fields.push(r.given);
        match r.esito {
            Some(esito) => {
                counts.add(&esito, 1);
                fields.push(outcome_label(&esito).to_owned());
                fields.push(esito);
                fields.push(r.motivo.unwrap_or_default());
                fields.push(obbligo_label(r.note));
                fields.extend(std::iter::repeat_n(String::new(), 10));
            }
            None => {
                let answer = |i: usize| r.answers.get(i).and_then(Option::as_deref);
                let d = decide_journaled(answer(0), answer(1), answer(2))?;
                let f = asked_fields(&d, year)?;
                counts.add(f.esito, 1);
                fields.push(outcome_label(f.esito).to_owned());
                fields.push(f.esito.to_owned());
                fields.push(f.motivo);
                fields.push(obbligo_label(r.note));
                fields.extend(f.rest);
            }
        }
        w.row(&fields)
    })?;
    w.finish()?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::journal::{decide, Stored};
    use super::*;
    use anist_core::attendance::{shown_record, EsitoFrequenza, Frequenza, Verifica};

    fn record(esito: i64, school: Option<&str>, year: u16) -> Frequenza {
        Frequenza {
            frequentante: Some(EsitoFrequenza::from_code(esito).is_attending()),
            esito_frequenza: Some(EsitoFrequenza::from_code(esito)),
            codice_istituto_principale: school.map(str::to_owned),
            percorso_studi: school.map(|_| String::from("SCUOLA PRIMARIA")),
            anno_scolastico: SchoolYear::starting(year).ok(),
            ..Frequenza::default()
        }
    }

    #[test]
    fn not_attending_this_year_shows_last_years_school() {
        let cur = record(2, None, 2025);
        let prev = record(1, Some("RMIC81500N"), 2024);
        let d = decide(
            Some(Stored::Found(Verifica {
                frequentante: false,
                esito_frequenza: Some(EsitoFrequenza::NonFrequentante),
            })),
            Some(Stored::Found(cur.clone())),
            Some(Stored::Found(prev.clone())),
        );
        assert_eq!(d.outcome.as_ref().unwrap().as_str(), "to_be_checked");
        assert_eq!(d.shown, Some((prev.clone(), true)));
        let f = asked_fields(&d, SchoolYear::starting(2025).unwrap()).unwrap();
        assert_eq!(f.motivo, "non frequenta");
        // The esito is this year's; the school and percorso last year's.
        assert_eq!(f.rest[0], "no");
        assert_eq!(f.rest[1], "2");
        assert_eq!(f.rest[2], "Non Frequentante");
        assert_eq!(f.rest[3], "RMIC81500N");
        assert_eq!(f.rest[7], "SCUOLA PRIMARIA");
        assert_eq!(f.rest[9], "2024/2025");
        // A record of this year naming the school left is shown itself.
        let left = record(4, Some("RMIC81500N"), 2025);
        assert_eq!(
            shown_record(Some(&left), Some(&prev)),
            Some((left.clone(), false))
        );
        // No previous record: this year's, even without a school.
        assert_eq!(shown_record(Some(&cur), None), Some((cur, false)));
        assert_eq!(shown_record(None, None), None);
    }
}
