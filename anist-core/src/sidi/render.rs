//! A plan as text for the clerk (Italian) and as CSV for Italian Excel.

use std::fmt::Write as _;
use std::io::Write;

use super::model::{mask, Entity, SyncField, TableKind};
use super::plan::{Action, ActionKind, Decision, DuplicateReason, Plan, Side};
use crate::csvio::{CsvError, CsvWriter, WriterOptions};

fn entity_it(e: Entity) -> &'static str {
    match e {
        Entity::Sede => "Sede",
        Entity::Classe => "Classe",
        Entity::Alunno => "Alunno",
    }
}

fn table_it(t: TableKind) -> &'static str {
    match t {
        TableKind::TempoScuola => "tempo scuola",
        TableKind::Indirizzo => "indirizzi di studio",
    }
}

fn decision_it(d: &Decision) -> String {
    match d {
        Decision::AcceptSidi => "accettare i dati SIDI".to_owned(),
        Decision::KeepAndFlag => "mantenere i dati locali e segnalare".to_owned(),
        Decision::Merge { keep } => format!("unire i duplicati nel record {keep}"),
        Decision::KeepLocalOnly => "tenere come solo locale".to_owned(),
        Decision::MarkNotForSidi => "segnare «Elemento SIDI: NO»".to_owned(),
    }
}

/// The state of an action in Italian: `automatica`, `da decidere`,
/// `decisa: …`, `segnalazione`.
fn state_it(a: &Action) -> String {
    if a.is_report() {
        "segnalazione".to_owned()
    } else if !a.needs_decision() {
        "automatica".to_owned()
    } else {
        match &a.decision {
            Some(d) => format!("decisa: {}", decision_it(d)),
            None => "da decidere".to_owned(),
        }
    }
}

/// One action in Italian, on one or more lines. With `show_personal`
/// false, codici fiscali and names are masked.
pub fn action_text_it(a: &Action, show_personal: bool) -> String {
    let shown = |field: SyncField, v: &str| {
        if field.is_personal() && !show_personal {
            mask(v)
        } else {
            v.to_owned()
        }
    };
    let key = if a.entity == Entity::Alunno {
        if a.key.len() == 16 || a.key.len() == 11 {
            shown(SyncField::CodiceFiscale, &a.key)
        } else {
            a.key.clone()
        }
    } else {
        a.key.clone()
    };
    let mut s = format!("[{}] {} {} — ", a.id, entity_it(a.entity), key);
    match &a.kind {
        ActionKind::UpdateCode {
            table,
            code,
            description,
            local,
        } => {
            let _ = write!(
                s,
                "tabella {}: codice {code} «{description}» (locale: {})",
                table_it(*table),
                local
                    .as_deref()
                    .map_or("assente".to_owned(), |l| format!("«{l}»"))
            );
        }
        ActionKind::Import { local_id, .. } => {
            let _ = write!(
                s,
                "presente solo su SIDI: da importare (id locale {local_id})"
            );
        }
        ActionKind::Align {
            local_id, changes, ..
        } => {
            let diffs: Vec<_> = changes.iter().filter(|c| !c.is_lock_only()).collect();
            let locks = changes.len() - diffs.len();
            let _ = write!(s, "record locale {local_id}: ");
            if diffs.is_empty() {
                let _ = write!(s, "dati uguali, {locks} campi da bloccare");
            } else {
                let _ = write!(s, "{} campi diversi", diffs.len());
                if locks > 0 {
                    let _ = write!(s, ", {locks} uguali da bloccare");
                }
                for c in diffs {
                    let _ = write!(
                        s,
                        "\n      {}: locale «{}» → SIDI «{}»{}",
                        c.field.label_it(),
                        c.local
                            .as_deref()
                            .map_or(String::new(), |v| shown(c.field, v)),
                        shown(c.field, &c.sidi),
                        if c.conflict {
                            " [CONFLITTO: dato locale, CF non validato dall'Agenzia delle Entrate]"
                        } else {
                            ""
                        }
                    );
                }
            }
        }
        ActionKind::LocalOnly { local_id } => {
            let _ = write!(
                s,
                "record locale {local_id} non presente su SIDI: verificare; tenere come solo \
                 locale o segnare «Elemento SIDI: NO»"
            );
        }
        ActionKind::Duplicate {
            local_ids, reason, ..
        } => {
            let why = match reason {
                DuplicateReason::SamePerson => "stessa persona in più record locali",
                DuplicateReason::ProvisionalReplaced => {
                    "codice provvisorio locale probabilmente sostituito su SIDI \
                     (stesso nome e data di nascita)"
                }
            };
            let _ = write!(
                s,
                "probabile duplicato ({why}): record locali {}",
                local_ids.join(", ")
            );
        }
        ActionKind::NotOnSidi { local_id } => {
            let _ = write!(
                s,
                "record locale {local_id} sconosciuto su SIDI: configurarlo su SIDI (Fase A) \
                 o verificare"
            );
        }
        ActionKind::UnknownClass { classe, missing_on } => {
            let side = match missing_on {
                Side::Sidi => "tra le classi SIDI",
                Side::Local => "né su SIDI né in locale",
            };
            let _ = write!(
                s,
                "classe {classe} non presente {side}: verificare la configurazione"
            );
        }
        ActionKind::UnknownCode { table, code } => {
            let _ = write!(
                s,
                "codice {code} sconosciuto nella tabella {}: mantenuto; aggiornare la tabella",
                table_it(*table)
            );
        }
        ActionKind::Incongruence {
            anno_nascita,
            anno_corso,
            anno_atteso,
        } => {
            let _ = write!(
                s,
                "incongruenza anno di nascita {anno_nascita} / anno di corso {anno_corso} \
                 (atteso intorno al {anno_atteso}): verificare"
            );
        }
    }
    let _ = write!(s, "\n      stato: {}", state_it(a));
    s
}

/// The whole plan in Italian: a summary line, then every action.
pub fn plan_text_it(plan: &Plan, show_personal: bool) -> String {
    let sum = plan.summary();
    let mut s = format!(
        "Confronto con SIDI {} (a.s. {}): {} azioni automatiche, {} da decidere, {} decise, {} \
         segnalazioni\n",
        plan.sync_id, plan.anno_scolastico, sum.automatic, sum.pending, sum.decided, sum.reports
    );
    for a in &plan.actions {
        s.push_str(&action_text_it(a, show_personal));
        s.push('\n');
    }
    s
}

/// The plan as CSV for Italian Excel (`;`, UTF-8 with BOM): one row per
/// field change, one row for every other action. Values are in clear: the
/// file is the point (create it 0600).
///
/// # Errors
/// [`CsvError`] when writing fails.
pub fn write_plan_csv<W: Write>(plan: &Plan, out: W) -> Result<(), CsvError> {
    let mut w = CsvWriter::new(out, WriterOptions::excel());
    w.write_row([
        "azione",
        "tipo",
        "entita",
        "chiave",
        "id_locale",
        "campo",
        "valore_locale",
        "valore_sidi",
        "conflitto",
        "stato",
    ])?;
    for a in &plan.actions {
        let state = state_it(a);
        let base = |local_id: &str, field: &str, l: &str, r: &str, conflict: bool| {
            [
                a.id.to_string(),
                a.kind_name().to_owned(),
                a.entity.as_str().to_owned(),
                a.key.clone(),
                local_id.to_owned(),
                field.to_owned(),
                l.to_owned(),
                r.to_owned(),
                if conflict { "sì" } else { "no" }.to_owned(),
                state.clone(),
            ]
        };
        match &a.kind {
            ActionKind::Align {
                local_id, changes, ..
            } => {
                for c in changes {
                    w.write_row(base(
                        local_id,
                        c.field.as_str(),
                        c.local.as_deref().unwrap_or(""),
                        &c.sidi,
                        c.conflict,
                    ))?;
                }
            }
            ActionKind::UpdateCode {
                table,
                code,
                description,
                local,
            } => w.write_row(base(
                "",
                table.as_str(),
                local.as_deref().unwrap_or(""),
                &format!("{code} {description}"),
                false,
            ))?,
            ActionKind::Import { local_id, .. }
            | ActionKind::LocalOnly { local_id }
            | ActionKind::NotOnSidi { local_id } => {
                w.write_row(base(local_id, "", "", "", false))?
            }
            ActionKind::Duplicate { local_ids, .. } => {
                w.write_row(base(&local_ids.join(" "), "", "", "", false))?;
            }
            ActionKind::UnknownClass { classe, .. } => {
                w.write_row(base("", "classe", "", classe, false))?;
            }
            ActionKind::UnknownCode { table, code } => {
                w.write_row(base("", table.as_str(), "", code, false))?;
            }
            ActionKind::Incongruence {
                anno_nascita,
                anno_corso,
                ..
            } => w.write_row(base(
                "",
                "anno_corso",
                &anno_nascita.to_string(),
                &anno_corso.to_string(),
                false,
            ))?,
        }
    }
    w.flush()
}
