//! The completed form out: CSV for Italian Excel (`;`, UTF-8 with BOM,
//! CRLF, `dd/mm/yyyy`, `1.234,56`), JSON for programs, and a printable
//! text summary.

use std::fmt::Write as _;
use std::io::Write;

use anist_core::csvio::{format_date_it, CsvWriter, WriterOptions};
use anist_core::infanzia::{format_rome_it, Form, FormState, ServiceOutcome};
use anist_core::ErrorCode;
use serde_json::{json, Value};

use super::InfanziaFileError;

/// `1234` hundredths → `12,34`, with `.` between thousands.
fn hundredths_it(h: u64) -> String {
    let int = (h / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{grouped},{:02}", h % 100)
}

const HEADER: [&str; 21] = [
    "Codice servizio",
    "Tipologia",
    "Denominazione",
    "Indirizzo",
    "Gestore",
    "Posti",
    "Provvedimento di autorizzazione",
    "Data provvedimento",
    "Data prima autorizzazione",
    "Data attivazione",
    "Aggiunto dal Comune",
    "Dichiarazione",
    "Motivazione o provvedimento",
    "Periodo dal",
    "Periodo al",
    "Regola del periodo",
    "Metodo",
    "Mesi o giorni conteggiati",
    "Totale conteggi",
    "Media frequentanti",
    "Media (due decimali)",
];

/// Writes the form as CSV for Italian Excel: one row per service.
///
/// # Errors
///
/// [`InfanziaFileError::Write`].
pub fn write_form_csv<W: Write>(form: &Form, out: W) -> Result<W, InfanziaFileError> {
    let werr = |e: anist_core::csvio::CsvError| InfanziaFileError::Write {
        reason: format!("[{}] {e}", e.code()),
    };
    let mut w = CsvWriter::new(out, WriterOptions::excel());
    w.write_row(HEADER).map_err(werr)?;
    for e in &form.services {
        let s = &e.service;
        let mut row: Vec<String> = vec![
            s.id.clone(),
            s.kind.label().to_owned(),
            s.name.clone(),
            s.address.clone(),
            s.manager.clone(),
            s.capacity.to_string(),
            s.authorisation.reference.clone(),
            format_date_it(s.authorisation.date),
            s.first_authorisation
                .map(format_date_it)
                .unwrap_or_default(),
            s.activation.map(format_date_it).unwrap_or_default(),
            if s.added_by_comune { "sì" } else { "no" }.to_owned(),
        ];
        match form.outcome(e) {
            ServiceOutcome::Declared(d) => {
                row.extend([d.label().to_owned(), d.detail().to_owned()]);
                row.extend(std::iter::repeat_n(String::new(), 8));
            }
            ServiceOutcome::Average(a) => {
                row.extend([String::new(), String::new()]);
                row.extend([
                    format_date_it(a.period.start),
                    format_date_it(a.period.end),
                    a.period.rule.label().to_owned(),
                    a.method.code().to_owned(),
                    a.units.to_string(),
                    a.total.to_string(),
                    a.average.to_string(),
                    hundredths_it(a.average_hundredths),
                ]);
            }
            ServiceOutcome::Missing | ServiceOutcome::NotActive(_) => {
                row.extend([String::from("DA COMPLETARE"), String::new()]);
                row.extend(std::iter::repeat_n(String::new(), 8));
            }
        }
        w.write_row(&row).map_err(werr)?;
    }
    w.into_inner().map_err(werr)
}

/// The form as JSON: the stored form (services, declarations, raw counts,
/// history, survey dates) plus, per service, the computed outcome, and the
/// problems of the check.
pub fn form_json(form: &Form) -> Value {
    let outcomes: Vec<Value> = form
        .services
        .iter()
        .map(|e| {
            let (kind, value) = match form.outcome(e) {
                ServiceOutcome::Declared(d) => (
                    "declared",
                    json!({ "declaration": d.code(), "detail": d.detail() }),
                ),
                ServiceOutcome::Average(a) => {
                    ("average", serde_json::to_value(a).unwrap_or(Value::Null))
                }
                ServiceOutcome::Missing => ("missing", Value::Null),
                ServiceOutcome::NotActive(err) => (
                    "not_active",
                    json!({ "code": err.code(), "message": err.to_string() }),
                ),
            };
            json!({ "service": e.service.id, "outcome": kind, "detail": value })
        })
        .collect();
    json!({
        "form": serde_json::to_value(form).unwrap_or(Value::Null),
        "outcomes": outcomes,
        "problems": form.check(),
    })
}

/// The stored form as JSON text (what [`form_from_json`] reads back).
pub fn form_to_json(form: &Form) -> String {
    serde_json::to_string(form).unwrap_or_default()
}

/// Reads a form written by [`form_to_json`], or the whole export of
/// [`form_json`] (its `form` member), and checks its survey dates.
///
/// # Errors
///
/// [`InfanziaFileError::Json`].
pub fn form_from_json(text: &str) -> Result<Form, InfanziaFileError> {
    #[derive(serde::Deserialize)]
    struct Export {
        form: Form,
    }
    let form: Form = match serde_json::from_str::<Form>(text) {
        Ok(f) => f,
        Err(e) => match serde_json::from_str::<Export>(text) {
            Ok(x) => x.form,
            Err(_) => {
                return Err(InfanziaFileError::Json {
                    reason: e.to_string(),
                })
            }
        },
    };
    form.survey.validate()?;
    Ok(form)
}

/// A printable summary of the form, in Italian.
pub fn summary_text(form: &Form) -> String {
    let mut s = String::new();
    let c = &form.survey;
    let _ = writeln!(
        s,
        "RILEVAZIONE SERVIZI EDUCATIVI 0-3 – ANNUALITÀ {}",
        c.year
    );
    let _ = writeln!(s, "Scheda SERVIZI 03 – anagrafica e frequentanti");
    let _ = writeln!(s, "Comune: {}", form.comune);
    let _ = writeln!(s, "Stato: {}", form.state.label());
    if let FormState::Rifiutato { notes } = &form.state {
        let _ = writeln!(s, "Indicazioni di correzione della Regione: {notes}");
    }
    let _ = writeln!(
        s,
        "Periodo di riferimento: {} – {}; avvio della rilevazione: {}",
        format_date_it(c.reference_start),
        format_date_it(c.reference_end),
        format_date_it(c.survey_start)
    );
    let _ = writeln!(
        s,
        "Finestra di invio: da {} a {} (ora di Roma)",
        format_rome_it(c.window_opens),
        format_rome_it(c.window_closes)
    );
    let _ = writeln!(
        s,
        "Metodo della media: {}",
        match form.method {
            anist_core::infanzia::AveragingMethod::Monthly =>
                "mensile (bambini frequentanti almeno un giorno nel mese, media sui mesi di apertura, arrotondata)",
            anist_core::infanzia::AveragingMethod::Daily =>
                "giornaliero (bambini presenti per giorno di apertura, arrotondata)",
        }
    );
    let _ = writeln!(s);
    for (i, e) in form.services.iter().enumerate() {
        let sv = &e.service;
        let _ = writeln!(
            s,
            "{}. [{}] {} – {}",
            i + 1,
            sv.id,
            sv.name,
            sv.kind.label()
        );
        let _ = writeln!(
            s,
            "   {}; gestore: {}; posti: {}",
            if sv.address.is_empty() {
                "indirizzo non indicato"
            } else {
                &sv.address
            },
            if sv.manager.is_empty() {
                "non indicato"
            } else {
                &sv.manager
            },
            sv.capacity
        );
        let _ = writeln!(
            s,
            "   autorizzazione: {} del {}{}{}{}",
            if sv.authorisation.reference.is_empty() {
                "(riferimento mancante)"
            } else {
                &sv.authorisation.reference
            },
            format_date_it(sv.authorisation.date),
            sv.first_authorisation
                .map(|a| format!("; autorizzato dal {}", format_date_it(a)))
                .unwrap_or_default(),
            sv.activation
                .map(|a| format!("; attivo dal {}", format_date_it(a)))
                .unwrap_or_default(),
            if sv.added_by_comune {
                "; aggiunto dal Comune"
            } else {
                ""
            }
        );
        match form.outcome(e) {
            ServiceOutcome::Declared(d) => {
                let _ = writeln!(
                    s,
                    "   DICHIARAZIONE: {}{}",
                    d.label(),
                    if d.detail().is_empty() {
                        String::new()
                    } else {
                        format!(" – {}", d.detail())
                    }
                );
            }
            ServiceOutcome::Average(a) => {
                let _ = writeln!(
                    s,
                    "   MEDIA FREQUENTANTI: {} ({}) su {} {} dal {} al {} ({})",
                    a.average,
                    hundredths_it(a.average_hundredths),
                    a.units,
                    match a.method {
                        anist_core::infanzia::AveragingMethod::Monthly => "mesi",
                        anist_core::infanzia::AveragingMethod::Daily => "giorni",
                    },
                    format_date_it(a.period.start),
                    format_date_it(a.period.end),
                    a.period.rule.label()
                );
            }
            ServiceOutcome::Missing => {
                let _ = writeln!(
                    s,
                    "   DA COMPLETARE: nessun dato di frequenza e nessuna dichiarazione"
                );
            }
            ServiceOutcome::NotActive(err) => {
                let _ = writeln!(s, "   NON ATTIVO: {err}");
            }
        }
    }
    let problems = form.check();
    let _ = writeln!(s);
    if problems.is_empty() {
        let _ = writeln!(
            s,
            "Controlli: nessun problema, il modulo può essere inviato."
        );
    } else {
        let _ = writeln!(
            s,
            "Controlli: {} problemi da correggere prima dell'invio:",
            problems.len()
        );
        for p in &problems {
            let _ = writeln!(s, " - {p}");
        }
    }
    if !form.history.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "Cronologia:");
        for t in &form.history {
            let _ = writeln!(
                s,
                " - {} → {} il {} (ora di Roma){}",
                t.from,
                t.to,
                anist_core::infanzia::utc_to_rome(t.at).format("%d/%m/%Y %H:%M"),
                t.notes
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn numbers_in_italian() {
        assert_eq!(hundredths_it(0), "0,00");
        assert_eq!(hundredths_it(2036), "20,36");
        assert_eq!(hundredths_it(123_456_789), "1.234.567,89");
    }
}
