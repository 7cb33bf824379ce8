//! The response file of a request and the report, as Italian Excel opens
//! them (`;`, BOM, dd/mm/yyyy).
//!
//! # The response file
//!
//! One row per subject asked, in the order of the request, with the
//! columns [`COLUMNS_BASE`]: `riga` (the line of the request file; empty
//! for a subject typed), `tipo_identificativo`, `identificativo`, `esito`
//! (`trovato`, `non trovato`, `più soggetti`, `fuori ambito`, `rifiutato da
//! ANPR`, `errore`), `codice_esito` (stable: `found`, `not_found`,
//! `ambiguous`, `out_of_scope`, `refused`, `error`), `motivo` (the error
//! code), `id_anpr`; then the columns of each data set the request asked,
//! and only those:
//!
//! - generalità: `codice_fiscale`, `cognome`, `nome`, `sesso`,
//!   `data_nascita`, `comune_nascita`;
//! - residenza: `indirizzo`, `cap`, `comune_residenza`,
//!   `codice_istat_comune`, `residente_dal`;
//! - famiglia: `famiglia` (each member as `codice fiscale cognome nome
//!   (legame)`, separated by ` | `).

use std::path::Path;

use anist_core::anpr::dati::DatoRichiesto;
use anist_core::csvio::{format_date_it, CsvWriter, WriterOptions};
use chrono::NaiveDate;

use super::store::{Outcome, RequestRecord, SubjectRecord};
use super::{ReportRow, WorkflowError};
use crate::bulk::output::AtomicCsv;

/// The columns every response file has.
pub const COLUMNS_BASE: [&str; 7] = [
    "riga",
    "tipo_identificativo",
    "identificativo",
    "esito",
    "codice_esito",
    "motivo",
    "id_anpr",
];

const GENERALITA: [&str; 6] = [
    "codice_fiscale",
    "cognome",
    "nome",
    "sesso",
    "data_nascita",
    "comune_nascita",
];

const RESIDENZA: [&str; 5] = [
    "indirizzo",
    "cap",
    "comune_residenza",
    "codice_istat_comune",
    "residente_dal",
];

fn date_it(iso: &str) -> String {
    NaiveDate::parse_from_str(iso, "%Y-%m-%d")
        .map(format_date_it)
        .unwrap_or_else(|_| iso.to_owned())
}

/// Writes the response file of `request` at `path` (whole, private).
///
/// # Errors
/// `rivestizione_file` when it cannot be written.
pub(crate) fn write_response(
    path: &Path,
    request: &RequestRecord,
    subjects: &[SubjectRecord],
) -> Result<(), WorkflowError> {
    let file_error = |e: crate::bulk::BulkError| WorkflowError::File {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let asked = &request.asked.data;
    let gen = asked.contains(&DatoRichiesto::Generalita);
    let res = asked.contains(&DatoRichiesto::Residenza);
    let fam = asked.contains(&DatoRichiesto::FamigliaConvivenza);
    let mut columns: Vec<&str> = COLUMNS_BASE.to_vec();
    if gen {
        columns.extend(GENERALITA);
    }
    if res {
        columns.extend(RESIDENZA);
    }
    if fam {
        columns.push("famiglia");
    }
    let mut w = AtomicCsv::create(path, &columns).map_err(file_error)?;
    for s in subjects {
        let (tipo, value) =
            s.id.map(|id| (id.kind().label().to_owned(), id.value().to_owned()))
                .unwrap_or_default();
        let o = s.outcome.as_ref();
        let outcome = o.map_or(Outcome::Error, |o| o.outcome);
        let data = o.and_then(|o| o.data.as_ref());
        let mut row = vec![
            if s.line == 0 {
                String::new()
            } else {
                s.line.to_string()
            },
            tipo,
            value,
            outcome.label().to_owned(),
            outcome.as_str().to_owned(),
            o.and_then(|o| o.code.clone()).unwrap_or_default(),
            data.map(|d| d.id_anpr.clone()).unwrap_or_default(),
        ];
        if gen {
            let mut g = data.and_then(|d| d.generalita.clone()).unwrap_or_default();
            g[4] = date_it(&g[4]);
            row.extend(g);
        }
        if res {
            let mut r = data.and_then(|d| d.residenza.clone()).unwrap_or_default();
            r[4] = date_it(&r[4]);
            row.extend(r);
        }
        if fam {
            row.push(
                data.map(|d| {
                    d.famiglia
                        .iter()
                        .map(|m| format!("{} {} {} ({})", m[0], m[1], m[2], m[3]))
                        .collect::<Vec<_>>()
                        .join(" | ")
                })
                .unwrap_or_default(),
            );
        }
        w.row(&row).map_err(file_error)?;
    }
    w.finish().map_err(file_error)
}

/// Writes `rows` as CSV for Italian Excel: `comune`, `ente`, `utente`, `richieste`,
/// `rifiutate`, `completate`, `non_riuscite`, `soggetti`, one column per
/// outcome (`trovati`, `non_trovati`, `piu_soggetti`, `fuori_ambito`,
/// `rifiutati_da_anpr`, `errori`), `tempo_medio_ore` (`1,5`).
///
/// # Errors
/// The writer's.
pub fn write_report_csv<W: std::io::Write>(
    rows: &[ReportRow],
    out: W,
) -> Result<(), anist_core::csvio::CsvError> {
    let mut w = CsvWriter::new(out, WriterOptions::excel());
    w.write_row([
        "comune",
        "ente",
        "utente",
        "richieste",
        "rifiutate",
        "completate",
        "non_riuscite",
        "soggetti",
        "trovati",
        "non_trovati",
        "piu_soggetti",
        "fuori_ambito",
        "rifiutati_da_anpr",
        "errori",
        "tempo_medio_ore",
    ])?;
    for r in rows {
        let mut f = vec![
            r.comune.clone(),
            r.ente.clone(),
            r.user.clone(),
            r.requests.to_string(),
            r.rejected.to_string(),
            r.done.to_string(),
            r.failed.to_string(),
            r.subjects.to_string(),
        ];
        f.extend(r.outcomes.iter().map(u64::to_string));
        f.push(
            r.mean_turnaround_seconds
                .map(|s| format!("{:.1}", s as f64 / 3600.0).replace('.', ","))
                .unwrap_or_default(),
        );
        w.write_row(&f)?;
    }
    w.flush()?;
    Ok(())
}
