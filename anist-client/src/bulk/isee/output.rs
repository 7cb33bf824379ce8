//! The ISEE batch's output.

use std::path::Path;

use anist_core::cf::AnyCodiceFiscale;
use anist_core::csvio::format_date_it;
use anist_core::isee::{bonus_nido_applies, Euro, IseeService, RowOutcome};
use chrono::NaiveDate;

use super::journal::{parse_iso, Journal, Question, Stored};
use super::IseeCounts;
use crate::bulk::journal::decode;
use crate::bulk::output::AtomicCsv;
use crate::bulk::{BulkError, Counts};

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
/// code itself is in the `codice_esito` column): [`RowOutcome::label_it`].
pub fn esito_it(code: &str) -> &'static str {
    RowOutcome::from_code(code).label_it()
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

pub(crate) fn answer_fields(
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

/// Writes the output from the journal (every row in input order) to a
/// temporary file renamed into place; returns the counts per outcome.
pub(crate) fn write_output(
    journal: &Journal,
    path: &Path,
    service: IseeService,
    valid_on: NaiveDate,
) -> Result<IseeCounts, BulkError> {
    let mut w = AtomicCsv::create(path, &COLUMNS)?;
    let mut counts = IseeCounts::default();
    journal.for_each_row(|r| {
        let mut f = vec![String::new(); COLUMNS.len()];
        f[0] = r.line.to_string();
        f[1] = r.given;
        f[14] = service.as_str().to_owned();
        let answer = r.answers.into_iter().next().flatten();
        match (r.esito, answer) {
            (Some(esito), _) => {
                f[2] = esito;
                f[3] = r.motivo.unwrap_or_default();
            }
            (None, Some(answer)) => {
                let stored: Stored = decode(&answer)?;
                let question = r.key.and_then(|k| decode::<Question>(&k).ok());
                let date = question
                    .as_ref()
                    .and_then(|q| parse_iso(&q.date))
                    .unwrap_or(valid_on);
                let person = question.and_then(|q| AnyCodiceFiscale::parse(&q.cf).ok());
                f[2] = stored.outcome().as_str().to_owned();
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
        w.row(&f)
    })?;
    w.finish()?;
    Ok(counts)
}
