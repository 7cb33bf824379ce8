//! Bindings of `anist_core::isee`: the Indicatore and Attestazione records
//! (parsed from INPS's inner XML), money as `decimal.Decimal`, ISEE kinds
//! and the eligibility of an IPA category for each e-service.
//!
//! Records hold personal data: their `repr` shows none of it.

use anist_core::cf::AnyCodiceFiscale;
use anist_core::isee::{
    self, Attestazione, ComponenteNucleo, Eligibility, Euro, Indicatore, IpaCategory, IseeEntry,
    IseeKind, IseeService, Scala,
};
use chrono::NaiveDate;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::errors::{self, guard};

fn decimal_scaled<'py>(py: Python<'py>, units: i64, scale: i32) -> PyResult<Bound<'py, PyAny>> {
    py.import("decimal")?
        .getattr("Decimal")?
        .call1((units,))?
        .call_method1("scaleb", (-scale,))
}

/// Euro → `Decimal` with two decimals.
pub fn euro<'py>(py: Python<'py>, e: Euro) -> PyResult<Bound<'py, PyAny>> {
    decimal_scaled(py, e.cents(), 2)
}

fn opt_euro<'py>(py: Python<'py>, e: Option<Euro>) -> PyResult<Option<Bound<'py, PyAny>>> {
    e.map(|e| euro(py, e)).transpose()
}

fn scala<'py>(py: Python<'py>, s: Option<Scala>) -> PyResult<Option<Bound<'py, PyAny>>> {
    s.map(|s| decimal_scaled(py, i64::from(s.ten_thousandths()), 4))
        .transpose()
}

/// The bytes of a document given as `bytes` or `str`.
fn document(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(s) = data.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(
        "expected the document as bytes or str",
    ))
}

pub(crate) fn parse_cf_any(s: &str) -> PyResult<AnyCodiceFiscale> {
    AnyCodiceFiscale::parse(s).map_err(|e| errors::error(&e))
}

/// A member of the household (nucleo familiare).
#[pyclass(module = "anist._anist", name = "HouseholdMember", frozen)]
pub struct PyMember(ComponenteNucleo);

#[pymethods]
impl PyMember {
    /// The member's codice fiscale (16 characters or 11 digits).
    #[getter]
    fn codice_fiscale(&self) -> &str {
        self.0.codice_fiscale.as_str()
    }

    /// Surname, when sent.
    #[getter]
    fn surname(&self) -> Option<&str> {
        self.0.surname.as_deref()
    }

    /// Given name, when sent.
    #[getter]
    fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }

    /// Relationship to the dichiarante, as written by INPS.
    #[getter]
    fn relationship(&self) -> Option<&str> {
        self.0.relationship.as_deref()
    }

    /// Whether the member is the dichiarante.
    #[getter]
    fn is_dichiarante(&self) -> bool {
        self.0.is_dichiarante()
    }

    fn __repr__(&self) -> String {
        "HouseholdMember(…)".to_string()
    }
}

/// One indicator of an attestazione.
#[pyclass(module = "anist._anist", name = "IseeEntry", frozen)]
pub struct PyEntry(IseeEntry);

#[pymethods]
impl PyEntry {
    /// The kind (`ordinario`, `minorenni`…).
    #[getter]
    fn kind(&self) -> &str {
        self.0.kind.as_str()
    }

    /// The beneficiary's codice fiscale, for per-person kinds.
    #[getter]
    fn beneficiary(&self) -> Option<&str> {
        self.0
            .beneficiary
            .as_ref()
            .map(|b| b.codice_fiscale.as_str())
    }

    /// The ISEE, `None` when not computable.
    #[getter]
    fn isee<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_euro(py, self.0.isee)
    }

    /// The ISE, when given.
    #[getter]
    fn ise<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_euro(py, self.0.values.as_ref().and_then(|v| v.ise))
    }

    /// The scala di equivalenza, when given.
    #[getter]
    fn scala<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        scala(py, self.0.values.as_ref().and_then(|v| v.scala))
    }

    /// The date INPS issued the indicator, when given.
    #[getter]
    fn issued_on(&self) -> Option<NaiveDate> {
        self.0.issued_on
    }

    fn __repr__(&self) -> String {
        format!("IseeEntry(kind='{}')", self.0.kind.as_str())
    }
}

/// The answer of the Indicatore services.
#[pyclass(module = "anist._anist", name = "Indicatore", frozen)]
pub struct PyIndicatore(pub(crate) Indicatore);

#[pymethods]
impl PyIndicatore {
    /// The kind, when sent.
    #[getter]
    fn kind(&self) -> Option<&str> {
        self.0.kind.as_ref().map(IseeKind::as_str)
    }

    /// The ISEE.
    #[getter]
    fn isee<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        euro(py, self.0.isee())
    }

    /// The ISE, when sent.
    #[getter]
    fn ise<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_euro(py, self.0.values.ise)
    }

    /// The ISR, when sent.
    #[getter]
    fn isr<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_euro(py, self.0.values.isr)
    }

    /// The ISP, when sent.
    #[getter]
    fn isp<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_euro(py, self.0.values.isp)
    }

    /// The scala di equivalenza, when sent.
    #[getter]
    fn scala<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        scala(py, self.0.values.scala)
    }

    /// The DSU protocol (`INPS-ISEE-2025-00654321C-00`).
    #[getter]
    fn protocollo_dsu(&self) -> Option<String> {
        self.0.protocollo_dsu.map(|p| p.to_string())
    }

    /// The presentation date of the DSU.
    #[getter]
    fn presented_on(&self) -> Option<NaiveDate> {
        self.0.presented_on
    }

    /// The last day of validity of the DSU.
    #[getter]
    fn valid_until(&self) -> Option<NaiveDate> {
        self.0.valid_until()
    }

    /// Whether the DSU is valid on `date`.
    fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.0.is_valid_on(date)
    }

    /// The household, when the service returns it (Nucleo Riscontro).
    #[getter]
    fn household(&self) -> Vec<PyMember> {
        self.0.household.iter().cloned().map(PyMember).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Indicatore(kind={:?})",
            self.0.kind.as_ref().map(IseeKind::as_str)
        )
    }
}

/// The answer of the Attestazione services.
#[pyclass(module = "anist._anist", name = "Attestazione", frozen)]
pub struct PyAttestazione(pub(crate) Attestazione);

#[pymethods]
impl PyAttestazione {
    /// The dichiarante's codice fiscale.
    #[getter]
    fn dichiarante(&self) -> &str {
        self.0.dichiarante.as_str()
    }

    /// The DSU protocol.
    #[getter]
    fn protocollo_dsu(&self) -> String {
        self.0.protocollo_dsu.to_string()
    }

    /// The sender's protocol (e.g. the CAF's), when sent.
    #[getter]
    fn protocollo_mittente(&self) -> Option<&str> {
        self.0.protocollo_mittente.as_deref()
    }

    /// The presentation date of the DSU.
    #[getter]
    fn presented_on(&self) -> NaiveDate {
        self.0.presented_on
    }

    /// The last day of validity.
    #[getter]
    fn valid_until(&self) -> NaiveDate {
        self.0.valid_until()
    }

    /// Whether the attestazione is valid on `date`.
    fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.0.is_valid_on(date)
    }

    /// Whether it is an ISEE corrente.
    #[getter]
    fn is_corrente(&self) -> bool {
        self.0.is_corrente()
    }

    /// The ISEE of the household's main indicator (ordinario, or the
    /// corrente that replaces it).
    #[getter]
    fn isee<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_euro(py, self.0.isee())
    }

    /// The distinct kinds present, in document order.
    #[getter]
    fn kinds(&self) -> Vec<String> {
        self.0
            .kinds()
            .iter()
            .map(|k| k.as_str().to_string())
            .collect()
    }

    /// Every indicator, in document order.
    #[getter]
    fn entries(&self) -> Vec<PyEntry> {
        self.0.entries.iter().cloned().map(PyEntry).collect()
    }

    /// The household.
    #[getter]
    fn household(&self) -> Vec<PyMember> {
        self.0.household.iter().cloned().map(PyMember).collect()
    }

    /// Number of household members.
    #[getter]
    fn household_size(&self) -> usize {
        self.0.household_size()
    }

    /// Whether omissions or discrepancies are reported.
    #[getter]
    fn has_omissioni_difformita(&self) -> bool {
        self.0.has_omissioni_difformita()
    }

    /// The ISEE of `kind` for the person `codice_fiscale`, if any.
    fn isee_for<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        codice_fiscale: &str,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(|| {
            let cf = parse_cf_any(codice_fiscale)?;
            opt_euro(py, self.0.isee_for(&IseeKind::parse(kind), &cf))
        })
    }

    fn __repr__(&self) -> String {
        format!("Attestazione(protocollo_dsu='{}')", self.0.protocollo_dsu)
    }
}

/// A document the caller gave that is not a valid ISEE record: the same
/// `isee_xml_*` code as an unreadable INPS answer, but the caller's input
/// (`InvalidInput`), as ERRORS.md says.
fn xml_err(e: &isee::IseeXmlError) -> PyErr {
    errors::error_as(anist_core::ErrorKind::InvalidArgument, e)
}

/// Parses the inner XML of an Indicatore answer (`bytes` or `str`).
#[pyfunction]
pub fn parse_indicatore(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<PyIndicatore> {
    guard(|| {
        let bytes = document(data)?;
        py.detach(|| isee::parse_indicatore(&bytes))
            .map(PyIndicatore)
            .map_err(|e| xml_err(&e))
    })
}

/// Parses the inner XML of an Attestazione answer (`bytes` or `str`).
#[pyfunction]
pub fn parse_attestazione(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<PyAttestazione> {
    guard(|| {
        let bytes = document(data)?;
        py.detach(|| isee::parse_attestazione(&bytes))
            .map(PyAttestazione)
            .map_err(|e| xml_err(&e))
    })
}

/// As `parse_indicatore`, from the base64 text INPS sends.
#[pyfunction]
pub fn parse_indicatore_base64(text: &str) -> PyResult<PyIndicatore> {
    guard(|| {
        isee::parse_indicatore_base64(text)
            .map(PyIndicatore)
            .map_err(|e| xml_err(&e))
    })
}

/// As `parse_attestazione`, from the base64 text INPS sends.
#[pyfunction]
pub fn parse_attestazione_base64(text: &str) -> PyResult<PyAttestazione> {
    guard(|| {
        isee::parse_attestazione_base64(text)
            .map(PyAttestazione)
            .map_err(|e| xml_err(&e))
    })
}

/// The stable identifier of an ISEE kind name (`"ISEE minorenni"` →
/// `"minorenni"`; unknown names are returned trimmed).
#[pyfunction]
pub fn isee_kind(name: &str) -> String {
    IseeKind::parse(name).as_str().to_string()
}

/// Whether an IPA category may use an ISEE e-service.
#[pyclass(module = "anist._anist", name = "IseeEligibility", frozen)]
pub struct PyEligibility(Eligibility);

#[pymethods]
impl PyEligibility {
    /// Whether the service is open to the category.
    #[getter]
    fn allowed(&self) -> bool {
        self.0.is_allowed()
    }

    /// The requirement codes when allowed (`pdnd_adhesion`…).
    #[getter]
    fn requirements(&self) -> Vec<&'static str> {
        match &self.0 {
            Eligibility::Allowed { requirements } => {
                requirements.iter().map(|r| r.code()).collect()
            }
            Eligibility::Refused(_) => Vec::new(),
        }
    }

    /// The refusing rule's code, when refused.
    #[getter]
    fn rule(&self) -> Option<&'static str> {
        match &self.0 {
            Eligibility::Refused(n) => Some(n.rule.code()),
            Eligibility::Allowed { .. } => None,
        }
    }

    /// The refusal in words, when refused.
    #[getter]
    fn reason(&self) -> Option<String> {
        match &self.0 {
            Eligibility::Refused(n) => Some(n.to_string()),
            Eligibility::Allowed { .. } => None,
        }
    }

    /// Services open to the category instead, best first (when refused).
    #[getter]
    fn alternatives(&self) -> Vec<&'static str> {
        match &self.0 {
            Eligibility::Refused(n) => n.alternatives.iter().map(|s| s.as_str()).collect(),
            Eligibility::Allowed { .. } => Vec::new(),
        }
    }

    fn __repr__(&self) -> String {
        format!("IseeEligibility(allowed={})", self.0.is_allowed())
    }
}

fn unknown(what: &str, code: &'static str, value: &str, known: Vec<&'static str>) -> PyErr {
    errors::new(
        anist_core::ErrorKind::InvalidArgument,
        format!(
            "{value:?} is not an {what}: use one of {}",
            known.join(", ")
        ),
        code,
    )
}

/// Whether the IPA `category` (`comune`, `comune_capoluogo`, `asl`…) may
/// use the ISEE `service` (`indicatore_residenti`…).
#[pyfunction]
pub fn isee_eligibility(category: &str, service: &str) -> PyResult<PyEligibility> {
    guard(|| {
        let cat = IpaCategory::parse(category).ok_or_else(|| {
            unknown(
                "IPA category",
                "isee_unknown_category",
                category,
                IpaCategory::ALL.iter().map(|c| c.as_str()).collect(),
            )
        })?;
        let svc = IseeService::parse(service).ok_or_else(|| {
            unknown(
                "ISEE service",
                "isee_unknown_service",
                service,
                IseeService::ALL.iter().map(|s| s.as_str()).collect(),
            )
        })?;
        Ok(PyEligibility(isee::eligibility(cat, svc)))
    })
}
