//! Tolerant readers of the services registry and of the attendance
//! registers, over [`anist_core::csvio`] (any encoding, delimiter and BOM
//! it knows; header names matched by synonyms, case and accents ignored).
//! A bad row is reported with its line and a stable code, and reading goes
//! on.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use anist_core::csvio::{
    fold_header, parse_date_it, CsvError, Headers, ReadOutcome, ReaderBuilder, Row,
};
use anist_core::infanzia::{
    AttendanceCount, AuthorisationAct, CountUnit, Form, InfanziaError, Service, ServiceType,
};
use anist_core::ErrorCode;
use chrono::Datelike;
use serde::Serialize;

use super::InfanziaFileError;

/// A row that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The 1-based line of the file.
    pub line: u64,
    /// A stable code: a `csv_*` code, `infanzia_service_type`,
    /// `infanzia_count_unit`, `registry_id_missing`, `registry_date`,
    /// `registry_capacity`, `register_service_missing`, `register_count`.
    pub code: String,
    /// What is wrong, in Italian (never a child's identifier).
    pub message: String,
}

fn key(s: &str) -> String {
    fold_header(s)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// The column whose folded name is one of `names` (folded the same way).
fn column(headers: &Headers, names: &[&str]) -> Option<usize> {
    let wanted: Vec<String> = names.iter().map(|n| key(n)).collect();
    headers
        .names()
        .iter()
        .position(|h| wanted.contains(&key(h)))
}

fn csv_fatal(e: &CsvError) -> InfanziaFileError {
    InfanziaFileError::Csv {
        code: e.code(),
        reason: e.to_string(),
    }
}

/// A `gg/mm/aaaa` date of the registry; else the row problem's message,
/// naming `what`.
fn registry_date(text: &str, what: &str) -> Result<chrono::NaiveDate, String> {
    parse_date_it(text)
        .map_err(|e| format!("{what} non valida ({}): scrivere gg/mm/aaaa", e.code()))
}

/// An optional [`registry_date`] (an empty cell is none).
fn optional_date(text: &str, what: &str) -> Result<Option<chrono::NaiveDate>, String> {
    if text.is_empty() {
        Ok(None)
    } else {
        registry_date(text, what).map(Some)
    }
}

fn field(row: &Row, col: Option<usize>) -> &str {
    col.and_then(|c| row.get(c)).map(str::trim).unwrap_or("")
}

const ID: &[&str] = &[
    "codice",
    "id",
    "identificativo",
    "codice servizio",
    "id servizio",
    "codice regionale",
    "servizio",
];
const KIND: &[&str] = &["tipologia", "tipo", "tipologia servizio", "tipo servizio"];
const NAME: &[&str] = &[
    "denominazione",
    "nome",
    "nome servizio",
    "denominazione servizio",
];
const ADDRESS: &[&str] = &["indirizzo", "sede", "indirizzo sede"];
const MANAGER: &[&str] = &["gestore", "ente gestore", "soggetto gestore", "titolare"];
const CAPACITY: &[&str] = &[
    "posti",
    "capienza",
    "posti autorizzati",
    "capacita",
    "ricettivita",
];
const ACT: &[&str] = &[
    "provvedimento",
    "atto",
    "autorizzazione",
    "provvedimento autorizzazione",
    "riferimento provvedimento",
    "estremi autorizzazione",
    "atto autorizzazione",
];
const ACT_DATE: &[&str] = &["data provvedimento", "data autorizzazione", "data atto"];
const FIRST: &[&str] = &[
    "data prima autorizzazione",
    "prima autorizzazione",
    "autorizzato dal",
];
const ACTIVATION: &[&str] = &[
    "data attivazione",
    "attivazione",
    "data avvio",
    "attivo dal",
];

/// What [`read_registry`] found.
#[derive(Debug, Clone, Default)]
pub struct RegistryRead {
    /// The services, in file order.
    pub services: Vec<Service>,
    /// The rows left out, with why.
    pub errors: Vec<RowProblem>,
}

/// Reads the services registry (the list the Region preloads, or the
/// Comune's own): columns `codice`, `tipologia`, `denominazione`,
/// `indirizzo`, `gestore`, `posti`, `provvedimento`, `data provvedimento`,
/// `data attivazione`, `data prima autorizzazione` (or synonyms; the first two, `denominazione` and
/// `data provvedimento` are required).
///
/// # Errors
///
/// [`InfanziaFileError::Csv`] when the file cannot be read at all,
/// [`InfanziaFileError::MissingColumn`].
pub fn read_registry<R: Read>(input: R) -> Result<RegistryRead, InfanziaFileError> {
    let mut reader = ReaderBuilder::new()
        .strict(false)
        .from_reader(input)
        .map_err(|e| csv_fatal(&e))?;
    let h = reader.headers();
    let need = |names: &[&str], wanted: &'static str| {
        column(h, names).ok_or(InfanziaFileError::MissingColumn { wanted })
    };
    let c_id = need(ID, "codice")?;
    let c_kind = need(KIND, "tipologia")?;
    let c_name = need(NAME, "denominazione")?;
    let c_act_date = need(ACT_DATE, "data provvedimento")?;
    let c_address = column(h, ADDRESS);
    let c_manager = column(h, MANAGER);
    let c_capacity = column(h, CAPACITY);
    let c_act = column(h, ACT);
    let c_activation = column(h, ACTIVATION);
    let c_first = column(h, FIRST);
    let mut out = RegistryRead::default();
    let mut row = Row::new();
    loop {
        match reader.read_row(&mut row).map_err(|e| csv_fatal(&e))? {
            ReadOutcome::End => break,
            ReadOutcome::Bad(e) => out.errors.push(RowProblem {
                line: e.line().unwrap_or(0),
                code: e.code().to_owned(),
                message: e.to_string(),
            }),
            ReadOutcome::Row => {
                let line = row.line();
                let mut bad = |code: &str, message: String| {
                    out.errors.push(RowProblem {
                        line,
                        code: code.to_owned(),
                        message,
                    });
                };
                let id = field(&row, Some(c_id));
                if id.is_empty() {
                    bad("registry_id_missing", "manca il codice del servizio".into());
                    continue;
                }
                let kind = match ServiceType::parse(field(&row, Some(c_kind))) {
                    Ok(k) => k,
                    Err(e) => {
                        bad(e.code(), e.to_string());
                        continue;
                    }
                };
                let dates = registry_date(field(&row, Some(c_act_date)), "data del provvedimento")
                    .and_then(|act| {
                        let activation =
                            optional_date(field(&row, c_activation), "data di attivazione")?;
                        let first =
                            optional_date(field(&row, c_first), "data della prima autorizzazione")?;
                        Ok((act, activation, first))
                    });
                let (act_date, activation, first_authorisation) = match dates {
                    Ok(d) => d,
                    Err(message) => {
                        bad("registry_date", message);
                        continue;
                    }
                };
                let capacity = match field(&row, c_capacity) {
                    "" => 0,
                    s => match s.parse::<u32>() {
                        Ok(n) => n,
                        Err(_) => {
                            bad(
                                "registry_capacity",
                                "posti non validi: scrivere un numero intero".into(),
                            );
                            continue;
                        }
                    },
                };
                out.services.push(Service {
                    id: id.to_owned(),
                    kind,
                    name: field(&row, Some(c_name)).to_owned(),
                    address: field(&row, c_address).to_owned(),
                    manager: field(&row, c_manager).to_owned(),
                    capacity,
                    authorisation: AuthorisationAct {
                        reference: field(&row, c_act).to_owned(),
                        date: act_date,
                    },
                    activation,
                    first_authorisation,
                    added_by_comune: false,
                });
            }
        }
    }
    Ok(out)
}

const SERVICE: &[&str] = &["servizio", "codice servizio", "id servizio", "codice", "id"];
const PERIOD: &[&str] = &["mese", "periodo", "data", "giorno", "data presenza"];
const COUNT: &[&str] = &[
    "frequentanti",
    "bambini",
    "numero bambini",
    "n bambini",
    "presenti",
    "iscritti frequentanti",
    "numero",
];
const CHILD: &[&str] = &[
    "bambino",
    "bambina",
    "codice fiscale",
    "codice fiscale bambino",
    "cf",
    "cf bambino",
    "alunno",
    "id bambino",
];

/// What [`read_registers`] found: raw counts per service.
#[derive(Debug, Clone, Default)]
pub struct RegisterRead {
    /// The counts of each service (by its identifier).
    pub counts: BTreeMap<String, Vec<AttendanceCount>>,
    /// The rows left out, with why.
    pub errors: Vec<RowProblem>,
    /// Rows used.
    pub rows: u64,
}

impl RegisterRead {
    /// Records the counts on the form (a month or day already there is
    /// replaced). Returns the identifiers of the services not on the form
    /// (their counts are not recorded).
    ///
    /// # Errors
    ///
    /// [`InfanziaError::NotEditable`] when the form is not editable.
    pub fn apply(&self, form: &mut Form) -> Result<Vec<String>, InfanziaError> {
        let mut unknown = Vec::new();
        for (id, counts) in &self.counts {
            if form.entry(id).is_none() {
                unknown.push(id.clone());
                continue;
            }
            form.record_counts(id, counts)?;
        }
        Ok(unknown)
    }
}

/// Reads attendance registers, in either of two shapes:
///
/// - **counts**: `servizio; mese (mm/aaaa) or data (gg/mm/aaaa);
///   frequentanti` — one row per service and month (children attending at
///   least one day) or day (children present);
/// - **presences**: `servizio; data; bambino` (a code or a name of the
///   child) — one row per child present on a day; the reader counts the
///   distinct children of each day and of each month. The children's
///   identifiers are only counted, never kept or reported.
///
/// # Errors
///
/// [`InfanziaFileError::Csv`], [`InfanziaFileError::MissingColumn`].
pub fn read_registers<R: Read>(input: R) -> Result<RegisterRead, InfanziaFileError> {
    let mut reader = ReaderBuilder::new()
        .strict(false)
        .from_reader(input)
        .map_err(|e| csv_fatal(&e))?;
    let h = reader.headers();
    let c_service =
        column(h, SERVICE).ok_or(InfanziaFileError::MissingColumn { wanted: "servizio" })?;
    let c_period = column(h, PERIOD).ok_or(InfanziaFileError::MissingColumn { wanted: "mese" })?;
    let c_count = column(h, COUNT);
    let c_child = column(h, CHILD);
    if c_count.is_none() && c_child.is_none() {
        return Err(InfanziaFileError::MissingColumn {
            wanted: "frequentanti",
        });
    }
    let mut out = RegisterRead::default();
    // Presence mode: distinct children per (service, unit).
    let mut seen: BTreeMap<(String, CountUnit), BTreeSet<String>> = BTreeMap::new();
    let mut row = Row::new();
    loop {
        match reader.read_row(&mut row).map_err(|e| csv_fatal(&e))? {
            ReadOutcome::End => break,
            ReadOutcome::Bad(e) => out.errors.push(RowProblem {
                line: e.line().unwrap_or(0),
                code: e.code().to_owned(),
                message: e.to_string(),
            }),
            ReadOutcome::Row => {
                let line = row.line();
                let mut bad = |code: &str, message: String| {
                    out.errors.push(RowProblem {
                        line,
                        code: code.to_owned(),
                        message,
                    });
                };
                let service = field(&row, Some(c_service));
                if service.is_empty() {
                    bad(
                        "register_service_missing",
                        "manca il codice del servizio".into(),
                    );
                    continue;
                }
                let unit = match CountUnit::parse(field(&row, Some(c_period))) {
                    Ok(u) => u,
                    Err(e) => {
                        bad(e.code(), e.to_string());
                        continue;
                    }
                };
                if let Some(c) = c_count {
                    let text = field(&row, Some(c));
                    match text.parse::<u32>() {
                        Ok(n) => {
                            out.counts
                                .entry(service.to_owned())
                                .or_default()
                                .push(AttendanceCount { unit, children: n });
                            out.rows += 1;
                        }
                        Err(_) => bad(
                            "register_count",
                            "numero di frequentanti non valido: scrivere un numero intero".into(),
                        ),
                    }
                    continue;
                }
                let child = field(&row, c_child).to_uppercase();
                if child.is_empty() {
                    bad("register_count", "manca il bambino della presenza".into());
                    continue;
                }
                let month = match unit {
                    CountUnit::Day(d) => {
                        seen.entry((service.to_owned(), unit))
                            .or_default()
                            .insert(child.clone());
                        CountUnit::month(d.year(), d.month())
                    }
                    m => Some(m),
                };
                if let Some(m) = month {
                    seen.entry((service.to_owned(), m))
                        .or_default()
                        .insert(child);
                }
                out.rows += 1;
            }
        }
    }
    for ((service, unit), children) in seen {
        out.counts
            .entry(service)
            .or_default()
            .push(AttendanceCount {
                unit,
                children: u32::try_from(children.len()).unwrap_or(u32::MAX),
            });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn registry_in_excel_1252_with_synonyms_and_bad_rows() {
        let data = b"sep=;\r\nID servizio;Tipo;Nome;Sede;Ente gestore;Capienza;Atto;Data autorizzazione;Data avvio\r\n\
            S1;Asilo nido;Nido Aquilone;Via Po 1;Comune;40;Det. 1/2018;01/09/2018;\r\n\
            S2;ludoteca;X;;;;;01/01/2020;\r\n\
            ;Micro-nido;Y;;;;;01/01/2020;\r\n\
            S3;Micro nido;Pi\xf9 Piccoli;Via Roma 3;Coop;ventuno;Det. 2;01/01/2020;\r\n\
            S4;Sezione primavera;Primavera;Via Roma 4;Scuola;20;Det. 3;31/02/2020;\r\n\
            S5;Nido in famiglia;Casa;Via Roma 5;Sig.ra Esempio;5;Det. 4;2025-10-01;2025-11-03\r\n";
        let r = read_registry(&data[..]).unwrap();
        let ids: Vec<_> = r.services.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["S1", "S5"]);
        assert_eq!(r.services[0].capacity, 40);
        assert_eq!(r.services[1].activation.unwrap().to_string(), "2025-11-03");
        let codes: Vec<_> = r.errors.iter().map(|e| (e.line, e.code.as_str())).collect();
        assert_eq!(
            codes,
            [
                (4, "infanzia_service_type"),
                (5, "registry_id_missing"),
                (6, "registry_capacity"),
                (7, "registry_date"),
            ]
        );
    }

    #[test]
    fn registry_missing_column() {
        let e = read_registry(&b"Codice;Nome\nS1;X\n"[..]).unwrap_err();
        assert_eq!(e.code(), "infanzia_missing_column");
        assert_eq!(read_registry(&b""[..]).unwrap_err().code(), "infanzia_csv");
    }

    #[test]
    fn registers_counts_shape() {
        let data = "Servizio,Mese,Frequentanti\nS1,03/2025,10\nS1,2025-04,12\nS2,13/2025,1\nS2,04/2025,molti\n,04/2025,3\n";
        let r = read_registers(data.as_bytes()).unwrap();
        assert_eq!(r.rows, 2);
        assert_eq!(r.counts["S1"].len(), 2);
        let codes: Vec<_> = r.errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "infanzia_count_unit",
                "register_count",
                "register_service_missing"
            ]
        );
    }

    #[test]
    fn registers_presence_shape_counts_distinct_children() {
        let data = "servizio;data;bambino\n\
            S1;03/03/2025;AAA\nS1;03/03/2025;BBB\nS1;03/03/2025;aaa\n\
            S1;04/03/2025;AAA\nS1;01/04/2025;CCC\n";
        let r = read_registers(data.as_bytes()).unwrap();
        let c = &r.counts["S1"];
        let get = |u: &str| {
            c.iter()
                .find(|x| x.unit == CountUnit::parse(u).unwrap())
                .unwrap()
                .children
        };
        assert_eq!(get("03/03/2025"), 2);
        assert_eq!(get("04/03/2025"), 1);
        assert_eq!(get("03/2025"), 2);
        assert_eq!(get("04/2025"), 1);
        assert_eq!(r.rows, 5);
        // No child identifier leaks into the errors or Debug.
        assert!(!format!("{r:?}").contains("AAA"));
    }

    proptest! {
        #[test]
        fn registry_reader_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = read_registry(&data[..]);
            let _ = read_registers(&data[..]);
        }

        #[test]
        fn counts_round_trip(rows in proptest::collection::vec((0u8..5, 1u32..=12, 0u32..200), 0..30)) {
            let mut text = String::from("servizio;mese;frequentanti\r\n");
            for (s, m, n) in &rows {
                text.push_str(&format!("S{s};{m:02}/2025;{n}\r\n"));
            }
            let r = read_registers(text.as_bytes()).unwrap();
            prop_assert!(r.errors.is_empty());
            prop_assert_eq!(r.rows as usize, rows.len());
            let total: usize = r.counts.values().map(Vec::len).sum();
            prop_assert_eq!(total, rows.len());
        }
    }
}
