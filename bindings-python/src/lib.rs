//! The `anist._anist` extension module: thin PyO3 bindings over
//! `anist_core` and `anist_client`. The Python package `anist`
//! (`python/anist/`) re-exports it with typed stubs; exceptions live in
//! `anist/_errors.py` and are raised from here by their stable code.
//!
//! Types and errors are converted; logic is never re-implemented.

mod client;
mod core;
mod errors;
mod infanzia;
mod isee;
mod isee_batch;
mod rivestizione;
mod runtime;
mod sidi;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _anist(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<core::PyCodiceFiscale>()?;
    m.add_class::<core::PyIdAnpr>()?;
    m.add_class::<core::PyCodiceMeccanografico>()?;
    m.add_class::<core::PySchoolYear>()?;
    m.add_function(wrap_pyfunction!(core::is_valid_cf, m)?)?;
    m.add_function(wrap_pyfunction!(core::validate_cf_many, m)?)?;
    m.add_function(wrap_pyfunction!(core::obligation_status, m)?)?;
    m.add_function(wrap_pyfunction!(core::year_of_obligation, m)?)?;
    m.add_function(wrap_pyfunction!(core::expected_class, m)?)?;
    m.add_function(wrap_pyfunction!(core::synthetic_codes, m)?)?;
    m.add_function(wrap_pyfunction!(core::synthetic_people, m)?)?;
    m.add_function(wrap_pyfunction!(core::_panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(core::_runtime_pid, m)?)?;
    m.add_function(wrap_pyfunction!(core::_error_samples, m)?)?;
    m.add_class::<isee::PyIndicatore>()?;
    m.add_class::<isee::PyAttestazione>()?;
    m.add_class::<isee::PyEntry>()?;
    m.add_class::<isee::PyMember>()?;
    m.add_class::<isee::PyEligibility>()?;
    m.add_function(wrap_pyfunction!(isee::parse_indicatore, m)?)?;
    m.add_function(wrap_pyfunction!(isee::parse_attestazione, m)?)?;
    m.add_function(wrap_pyfunction!(isee::parse_indicatore_base64, m)?)?;
    m.add_function(wrap_pyfunction!(isee::parse_attestazione_base64, m)?)?;
    m.add_function(wrap_pyfunction!(isee::isee_kind, m)?)?;
    m.add_function(wrap_pyfunction!(isee::isee_eligibility, m)?)?;
    m.add_function(wrap_pyfunction!(sidi::sidi_diff, m)?)?;
    m.add_function(wrap_pyfunction!(sidi::sidi_plan_text, m)?)?;
    m.add_function(wrap_pyfunction!(sidi::sidi_decide, m)?)?;
    m.add_function(wrap_pyfunction!(sidi::sidi_apply, m)?)?;
    m.add_function(wrap_pyfunction!(sidi::sidi_locks, m)?)?;
    m.add_function(wrap_pyfunction!(sidi::sidi_edit, m)?)?;
    m.add_function(wrap_pyfunction!(sidi::sidi_sandbox, m)?)?;
    m.add_class::<infanzia::PyInfanziaForm>()?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<client::PySandbox>()?;
    m.add_class::<client::PyVerifica>()?;
    m.add_class::<client::PyFrequenza>()?;
    m.add_class::<client::PyProgress>()?;
    m.add_class::<client::PySummary>()?;
    m.add_class::<isee_batch::PyIseeSummary>()?;
    m.add_class::<rivestizione::PyRivestizione>()?;
    Ok(())
}
