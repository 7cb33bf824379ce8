//! Bindings of the Piemonte 0–3 survey (`anist_core::infanzia`,
//! `anist_client::infanzia`): the form SERVIZI 03 built from the registry
//! CSV, the attendance registers, declarations, averages, the check, the
//! life cycle with the window, exports. Outcomes and problems come back as
//! plain `dict`s (from the same JSON the CLI exports).

use anist_client::infanzia::{
    form_from_json, form_json, form_to_json, read_registers, read_registry, summary_text,
    write_form_csv, FormStore,
};
use anist_core::infanzia::{
    AuthorisationAct, AveragingMethod, Declaration, Form, FormState, InfanziaError, Service,
    ServiceType, SurveyConfig,
};
use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::errors::{guard, infanzia as error, infanzia_file as file_error};

/// The bytes of a file given as `bytes` or `str`.
fn data_bytes(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "expected the CSV as bytes or str",
    ))
}

/// A row left out by a reader: (line, code, message).
type RowError = (u64, String, String);

/// JSON text as Python objects (`json.loads`).
fn loads(py: Python<'_>, text: String) -> PyResult<Py<PyAny>> {
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// The form SERVIZI 03 of one Comune for one survey year.
///
/// Built from the registry CSV the Region preloads (`from_registry_csv`),
/// or read back from JSON (`from_json`) or a database file (`load`).
#[pyclass(module = "anist._anist", name = "InfanziaForm")]
pub struct PyInfanziaForm(Form);

fn survey(year: i32) -> PyResult<SurveyConfig> {
    SurveyConfig::for_year(year).ok_or_else(|| {
        error(&InfanziaError::Config {
            detail: format!("no built-in survey dates for {year}"),
        })
    })
}

#[pymethods]
impl PyInfanziaForm {
    /// A new draft from the services registry CSV (bytes or str, any
    /// encoding and delimiter the tolerant reader knows). Rows that cannot
    /// be read are listed in `registry_errors`.
    #[staticmethod]
    #[pyo3(signature = (comune, data, year = 2026))]
    fn from_registry_csv(
        comune: &str,
        data: &Bound<'_, PyAny>,
        year: i32,
    ) -> PyResult<(Self, Vec<RowError>)> {
        let bytes = data_bytes(data)?;
        guard(|| {
            let config = survey(year)?;
            let read = read_registry(&bytes[..]).map_err(|e| file_error(&e))?;
            let errors = read
                .errors
                .iter()
                .map(|e| (e.line, e.code.clone(), e.message.clone()))
                .collect();
            Ok((Self(Form::new(comune, config, read.services)), errors))
        })
    }

    /// A form from its JSON (`to_json`).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        guard(|| form_from_json(text).map(Self).map_err(|e| file_error(&e)))
    }

    /// The form kept in a database file (`save`).
    #[staticmethod]
    fn load(path: std::path::PathBuf) -> PyResult<Self> {
        guard(|| {
            let store = FormStore::open(&path).map_err(|e| file_error(&e))?;
            store.require().map(Self).map_err(|e| file_error(&e))
        })
    }

    /// Saves the form into a database file (created with mode 0600).
    #[pyo3(signature = (path, action = "save"))]
    fn save(&self, path: std::path::PathBuf, action: &str) -> PyResult<()> {
        guard(|| {
            let store = FormStore::open(&path).map_err(|e| file_error(&e))?;
            store.save(&self.0, action).map_err(|e| file_error(&e))
        })
    }

    /// The form as JSON text.
    fn to_json(&self) -> String {
        form_to_json(&self.0)
    }

    /// The Comune.
    #[getter]
    fn comune(&self) -> &str {
        &self.0.comune
    }

    /// The survey year.
    #[getter]
    fn year(&self) -> i32 {
        self.0.survey.year
    }

    /// `BOZZA`, `INVIATO`, `VALIDATO` or `RIFIUTATO`.
    #[getter]
    fn state(&self) -> &'static str {
        self.0.state.code()
    }

    /// The Region's correction notes when `RIFIUTATO`.
    #[getter]
    fn notes(&self) -> Option<&str> {
        match &self.0.state {
            FormState::Rifiutato { notes } => Some(notes),
            _ => None,
        }
    }

    /// The services' identifiers, in registry order.
    #[getter]
    fn services(&self) -> Vec<String> {
        self.0
            .services
            .iter()
            .map(|e| e.service.id.clone())
            .collect()
    }

    /// The averaging method: `monthly` (default) or `daily`.
    #[getter]
    fn method(&self) -> &'static str {
        self.0.method.code()
    }

    /// Sets the averaging method (`monthly` or `daily`).
    #[setter]
    fn set_method(&mut self, method: &str) -> PyResult<()> {
        let m = AveragingMethod::parse(method).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err("method is 'monthly' or 'daily'")
        })?;
        self.0.set_method(m).map_err(|e| error(&e))
    }

    /// Reads attendance registers (CSV of counts or of presences) into the
    /// form. Returns `{"rows": int, "errors": [(line, code, message)],
    /// "unknown_services": [id]}`.
    fn import_registers(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let bytes = data_bytes(data)?;
        let (rows, errors, unknown) = guard(|| {
            let read = read_registers(&bytes[..]).map_err(|e| file_error(&e))?;
            let unknown = read.apply(&mut self.0).map_err(|e| error(&e))?;
            let errors: Vec<RowError> = read
                .errors
                .into_iter()
                .map(|e| (e.line, e.code, e.message))
                .collect();
            Ok((read.rows, errors, unknown))
        })?;
        let d = pyo3::types::PyDict::new(py);
        d.set_item("rows", rows)?;
        d.set_item("errors", errors)?;
        d.set_item("unknown_services", unknown)?;
        Ok(d.into_any().unbind())
    }

    /// Adds a service missing from the Region's list ("AGGIUNGI
    /// SERVIZIO"): only if authorised (`act_reference`, `act_date`) and
    /// active at the survey's start (`activation`). `kind`: asilo nido,
    /// micro-nido, sezione primavera, nido in famiglia, centro di custodia
    /// oraria (any usual spelling).
    #[pyo3(signature = (id, kind, name, capacity, act_reference, act_date, *, activation = None, address = "", manager = ""))]
    #[allow(clippy::too_many_arguments)] // the registry's fields, by keyword
    fn add_service(
        &mut self,
        id: &str,
        kind: &str,
        name: &str,
        capacity: u32,
        act_reference: &str,
        act_date: NaiveDate,
        activation: Option<NaiveDate>,
        address: &str,
        manager: &str,
    ) -> PyResult<()> {
        guard(|| {
            let service = Service {
                id: id.to_owned(),
                kind: ServiceType::parse(kind).map_err(|e| error(&e))?,
                name: name.to_owned(),
                address: address.to_owned(),
                manager: manager.to_owned(),
                capacity,
                authorisation: AuthorisationAct {
                    reference: act_reference.to_owned(),
                    date: act_date,
                },
                activation,
                first_authorisation: None,
                added_by_comune: true,
            };
            self.0.add_service(service).map_err(|e| error(&e))
        })
    }

    /// Updates a service of the list as its latest authorisation act says
    /// (`act_reference`, `act_date`: mandatory, never older than the one
    /// recorded); the other arguments, when given, replace the recorded
    /// values. Returns the fields changed (`kind`, `name`, `address`,
    /// `manager`, `capacity`, `authorisation`, `activation`).
    #[pyo3(signature = (id, act_reference, act_date, *, kind = None, name = None, capacity = None, activation = None, address = None, manager = None))]
    #[allow(clippy::too_many_arguments)] // the registry's fields, by keyword
    fn update_service(
        &mut self,
        id: &str,
        act_reference: &str,
        act_date: NaiveDate,
        kind: Option<&str>,
        name: Option<&str>,
        capacity: Option<u32>,
        activation: Option<NaiveDate>,
        address: Option<&str>,
        manager: Option<&str>,
    ) -> PyResult<Vec<String>> {
        guard(|| {
            let Some(entry) = self.0.entry(id) else {
                return Err(error(&InfanziaError::UnknownService {
                    service: id.trim().chars().take(40).collect(),
                }));
            };
            let mut s = entry.service.clone();
            if let Some(k) = kind {
                s.kind = ServiceType::parse(k).map_err(|e| error(&e))?;
            }
            if let Some(n) = name {
                n.clone_into(&mut s.name);
            }
            if let Some(c) = capacity {
                s.capacity = c;
            }
            if let Some(a) = activation {
                s.activation = Some(a);
            }
            if let Some(a) = address {
                a.clone_into(&mut s.address);
            }
            if let Some(m) = manager {
                m.clone_into(&mut s.manager);
            }
            s.authorisation = AuthorisationAct {
                reference: act_reference.to_owned(),
                date: act_date,
            };
            self.0.update_service(s).map_err(|e| error(&e))
        })
    }

    /// Declares a service `CESSATO` (detail: the act of cessation),
    /// `SOSPESO` or `NON RAGGIUNTO` (detail: the mandatory reason); `None`
    /// withdraws the declaration.
    #[pyo3(signature = (service, kind, detail = ""))]
    fn declare(&mut self, service: &str, kind: Option<&str>, detail: &str) -> PyResult<()> {
        guard(|| {
            let d = kind
                .map(|k| Declaration::parse(k, detail))
                .transpose()
                .map_err(|e| error(&e))?;
            self.0.declare(service, d).map_err(|e| error(&e))
        })
    }

    /// Every service's outcome: `{"service", "outcome": "average" |
    /// "declared" | "missing" | "not_active", "detail"}`.
    fn outcomes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        loads(py, form_json(&self.0)["outcomes"].to_string())
    }

    /// Every problem that stops sending: `{"code", "service"?, "message"}`.
    fn check(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        loads(py, form_json(&self.0)["problems"].to_string())
    }

    /// Sends the form at `now` (an aware `datetime`): inside the window,
    /// with no problem. Raises `InfanziaError` (`infanzia_window_not_open`,
    /// `infanzia_window_closed`, `infanzia_check_failed` with `.problems`,
    /// `infanzia_invalid_transition`).
    fn send(&mut self, now: DateTime<Utc>) -> PyResult<()> {
        guard(|| self.0.send(now).map_err(|e| error(&e)))
    }

    /// The Region validates the sent form.
    fn validate(&mut self, now: DateTime<Utc>) -> PyResult<()> {
        guard(|| self.0.validate(now).map_err(|e| error(&e)))
    }

    /// The Region refuses the sent form with correction notes (mandatory).
    fn reject(&mut self, notes: &str, now: DateTime<Utc>) -> PyResult<()> {
        guard(|| self.0.reject(notes, now).map_err(|e| error(&e)))
    }

    /// `not_yet_open`, `open` or `closed` at `now`.
    fn window_status(&self, now: DateTime<Utc>) -> &'static str {
        self.0.survey.window_status(now).code()
    }

    /// The form as CSV for Italian Excel (`;`, UTF-8 with BOM).
    fn export_csv<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = guard(|| write_form_csv(&self.0, Vec::new()).map_err(|e| file_error(&e)))?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// The form, its outcomes and its problems as JSON text.
    fn export_json(&self) -> String {
        form_json(&self.0).to_string()
    }

    /// A printable summary, in Italian.
    fn summary(&self) -> String {
        summary_text(&self.0)
    }

    fn __repr__(&self) -> String {
        format!(
            "InfanziaForm(year={}, state={:?}, services={})",
            self.0.survey.year,
            self.0.state.code(),
            self.0.services.len()
        )
    }
}
