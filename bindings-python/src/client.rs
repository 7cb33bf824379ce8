//! Bindings of `anist_client`: the blocking [`PyClient`] over a session
//! (from a configuration file or from a sandbox), the ANIST calls, the bulk
//! attendance job with a Python progress callback, and the in-process
//! [`PySandbox`].
//!
//! Every network call goes through [`PyClient::run`]: the future runs on
//! the shared runtime with the GIL released, Ctrl-C cancels it, and its
//! error is mapped to the Python exceptions. A new e-service (the INPS ISEE
//! calls) is one more method on `PyClient` built the same way: make the
//! future from `self.inner`, pass it to `run`, convert the answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anist_client::anist::{
    AnistClient, AnistError, Answer, AttendanceService, Query, Subject, YearSelector,
};
use anist_client::anpr::massive::{MassiveClient, ServizioMassivo};
use anist_client::anpr::{AnprClient, OperationIds, Richiesta, Servizio, Soggetto as AnprSoggetto};
use anist_client::audit::{AuditLog, DEFAULT_FILE};
use anist_client::bulk::anpr_massiva::{MassivaCounts, MassivaJob, MassivaSpec};
use anist_client::bulk::isee::{IseeBatch, IseeBatchSpec};
use anist_client::bulk::{
    BulkJob, JobOptions, JobOutcome, JobSpec, OutcomeCounts, Progress, Summary,
};
use anist_client::clock::SystemClock;
use anist_client::config::Config;
use anist_client::isee::{IseeAnswer, IseeClient, IseeError, IseeLookup, IseeQuery};
use anist_client::sandbox::anist::{Expected, ANIST_EROGATORE, ANIST_ESERVICES};
use anist_client::sandbox::{Fault, Route, Sandbox, SandboxConfig, SandboxHandle};
use anist_client::session::Session;
use anist_core::anpr::IdAnpr;
use anist_core::attendance::{EsitoFrequenza, Frequenza, Verifica};
use anist_core::cf::{AnyCodiceFiscale, CodiceFiscale};
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{IseeKind, IseeService, PrestazioneDaErogare};
use anist_core::meccanografico::CodiceMeccanografico;
use anist_core::school::SchoolYear;
use anist_core::ErrorKind;
use chrono::NaiveDate;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::core::{today, PyCodiceFiscale, PyCodiceMeccanografico, PyIdAnpr, PySchoolYear};
use crate::errors::{self, guard};
use crate::isee::{parse_cf_any, PyAttestazione, PyIndicatore};
use crate::runtime::{block_on, block_on_with};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn bad_argument(message: String, code: &'static str) -> PyErr {
    errors::new(ErrorKind::InvalidArgument, message, code)
}

/// The answer of the verification service.
#[pyclass(module = "anist._anist", name = "Verifica", frozen, get_all)]
pub struct PyVerifica {
    /// Whether the pupil attends.
    frequentante: bool,
    /// The `esitoFrequenza` code, when sent.
    esito: Option<i64>,
    /// The Italian label of the esito, when sent.
    esito_label: Option<&'static str>,
}

#[pymethods]
impl PyVerifica {
    fn __repr__(&self) -> String {
        format!(
            "Verifica(frequentante={}, esito={:?})",
            if self.frequentante { "True" } else { "False" },
            self.esito
        )
    }
}

impl From<Verifica> for PyVerifica {
    fn from(v: Verifica) -> Self {
        Self {
            frequentante: v.frequentante,
            esito: v.esito_frequenza.map(EsitoFrequenza::code),
            esito_label: v.esito_frequenza.map(EsitoFrequenza::label),
        }
    }
}

/// The detailed attendance record (accertamento).
#[pyclass(module = "anist._anist", name = "Frequenza", frozen)]
pub struct PyFrequenza(Frequenza);

#[pymethods]
impl PyFrequenza {
    /// Whether the record says the pupil attends (esito first, then the flag).
    #[getter]
    fn attending(&self) -> Option<bool> {
        self.0.is_attending()
    }

    /// The `esitoFrequenza` code, when sent.
    #[getter]
    fn esito(&self) -> Option<i64> {
        self.0.esito_frequenza.map(EsitoFrequenza::code)
    }

    /// The Italian label of the esito, when sent.
    #[getter]
    fn esito_label(&self) -> Option<&'static str> {
        self.0.esito_frequenza.map(EsitoFrequenza::label)
    }

    /// The istituto principale's code, if well formed.
    #[getter]
    fn istituto(&self) -> Option<PyCodiceMeccanografico> {
        self.0.istituto().map(PyCodiceMeccanografico)
    }

    /// The istituto principale's name.
    #[getter]
    fn istituto_name(&self) -> Option<&str> {
        self.0.deno_istituto_principale.as_deref()
    }

    /// The plesso's code, if well formed.
    #[getter]
    fn plesso(&self) -> Option<PyCodiceMeccanografico> {
        self.0.plesso().map(PyCodiceMeccanografico)
    }

    /// The plesso's name.
    #[getter]
    fn plesso_name(&self) -> Option<&str> {
        self.0.denominazione_plesso.as_deref()
    }

    /// The percorso di studi.
    #[getter]
    fn percorso_studi(&self) -> Option<&str> {
        self.0.percorso_studi.as_deref()
    }

    /// The anno di corso (class year).
    #[getter]
    fn anno_corso(&self) -> Option<u8> {
        self.0.anno_corso
    }

    /// The school year of the record, when sent.
    #[getter]
    fn school_year(&self) -> Option<PySchoolYear> {
        self.0.anno_scolastico.map(PySchoolYear)
    }

    fn __repr__(&self) -> String {
        format!(
            "Frequenza(esito={:?}, plesso={:?})",
            self.0.esito_frequenza.map(EsitoFrequenza::code),
            self.0.codice_meccanografico
        )
    }
}

/// The progress of a bulk job, as given to the callback.
#[pyclass(module = "anist._anist", name = "Progress", frozen, get_all)]
pub struct PyProgress {
    /// Rows with a final outcome.
    rows_done: u64,
    /// Rows of the input.
    rows_total: u64,
    /// Rows per second so far in this run.
    rate: f64,
    /// Estimated seconds left, when known.
    eta: Option<f64>,
    /// Outcome → rows so far.
    outcomes: BTreeMap<&'static str, u64>,
}

#[pymethods]
impl PyProgress {
    fn __repr__(&self) -> String {
        format!("Progress({}/{})", self.rows_done, self.rows_total)
    }
}

fn outcome_map(o: &OutcomeCounts) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("compliant", o.compliant),
        ("to_be_checked", o.to_be_checked),
        ("not_in_anist", o.not_in_anist),
        ("not_obliged", o.not_obliged),
        ("invalid_code", o.invalid_code),
        ("error", o.error),
    ])
}

/// What a bulk job did.
#[pyclass(module = "anist._anist", name = "BulkSummary", frozen, get_all)]
pub struct PySummary {
    /// Rows of the input.
    rows_total: u64,
    /// Rows with a final outcome.
    rows_done: u64,
    /// Distinct valid codes.
    distinct_codes: u64,
    /// Outcome → rows.
    outcomes: BTreeMap<&'static str, u64>,
    /// Calls by kind (`verify`, `ascertain`, `massive_submit`…).
    calls: BTreeMap<&'static str, u64>,
    /// Retried calls.
    retries: u64,
    /// Seconds the run took.
    duration_seconds: f64,
    /// Whether the job paused (e.g. an exhausted quota): run it again to resume.
    paused: bool,
    /// The stable code of the pause, when paused.
    pause_code: Option<&'static str>,
    /// Why it paused, when paused.
    pause_reason: Option<String>,
    /// Error rows whose failure was transient: run the job again (its
    /// journal is kept) to ask them again.
    retry_rows: u64,
}

#[pymethods]
impl PySummary {
    fn __repr__(&self) -> String {
        format!(
            "BulkSummary(rows_done={}, rows_total={}, paused={})",
            self.rows_done,
            self.rows_total,
            if self.paused { "True" } else { "False" }
        )
    }
}

fn summary(s: Summary, pause: Option<(&'static str, String)>) -> PySummary {
    PySummary {
        rows_total: s.rows_total,
        rows_done: s.rows_done,
        distinct_codes: s.distinct_codes,
        outcomes: outcome_map(&s.outcomes),
        calls: BTreeMap::from([
            ("verify", s.calls.verify),
            ("ascertain", s.calls.ascertain),
            ("massive_submit", s.calls.massive_submit),
            ("massive_poll", s.calls.massive_poll),
            ("massive_fetch", s.calls.massive_fetch),
        ]),
        retries: s.retries,
        duration_seconds: s.duration_seconds,
        paused: pause.is_some(),
        pause_code: pause.as_ref().map(|p| p.0),
        pause_reason: pause.map(|p| p.1),
        retry_rows: s.retry_rows,
    }
}

/// The arguments of the `isee_*` methods.
#[derive(Clone, Copy)]
struct IseeArgs<'a> {
    service: &'a str,
    codice_fiscale: &'a str,
    date: Option<NaiveDate>,
    dsu: Option<&'a str>,
    prestazione: Option<&'a str>,
    kind: Option<&'a str>,
    protocollo_domanda: Option<&'a str>,
}

/// An ISEE lookup in flight.
type IseeFuture<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<IseeAnswer<T>, IseeError>> + Send>>;

/// What a client holds.
struct Inner {
    anist: AnistClient,
    /// The INPS ISEE client, when the session has an ente for it (the
    /// sandbox's, or the `[inps]` section of the configuration).
    isee: Option<IseeClient>,
    /// The configuration it came from (for the pre-flight diagnosis).
    config: Option<Config>,
    /// Whether it talks to an in-process sandbox (shorter job polling).
    sandbox: bool,
    /// Where the single lookups are recorded (`None`: the caller opted
    /// out with `no_audit=True`), and the trail once opened.
    audit: Option<PathBuf>,
    trail: Mutex<Option<Arc<AuditLog>>>,
}

impl Inner {
    /// The audit trail of the single lookups, opened at the first one
    /// (`None` when the caller opted out).
    fn trail(&self) -> PyResult<Option<Arc<AuditLog>>> {
        let Some(path) = &self.audit else {
            return Ok(None);
        };
        let mut trail = lock(&self.trail);
        if let Some(t) = trail.as_ref() {
            return Ok(Some(Arc::clone(t)));
        }
        let opened = Arc::new(AuditLog::open_beside(path).map_err(|e| errors::error(&e))?);
        *trail = Some(Arc::clone(&opened));
        Ok(Some(opened))
    }

    /// The ANIST client of the single lookups (audited unless opted out).
    fn anist_audited(&self) -> PyResult<AnistClient> {
        Ok(match self.trail()? {
            Some(t) => self.anist.clone().with_audit(t),
            None => self.anist.clone(),
        })
    }
}

/// The audit trail of a client's single lookups: `audit`, or
/// `anist-audit.sqlite` in the working directory; none with `no_audit`.
fn audit_choice(audit: Option<PathBuf>, no_audit: bool) -> PyResult<Option<PathBuf>> {
    audit_choice_or(audit, no_audit, || PathBuf::from(DEFAULT_FILE))
}

/// `audit`, or `default()`; none with `no_audit` (both at once is refused
/// with `bulk_audit_choice`).
fn audit_choice_or(
    audit: Option<PathBuf>,
    no_audit: bool,
    default: impl FnOnce() -> PathBuf,
) -> PyResult<Option<PathBuf>> {
    match (audit, no_audit) {
        (Some(_), true) => Err(bad_argument(
            "audit and no_audit=True contradict each other: give one".into(),
            "bulk_audit_choice",
        )),
        (_, true) => Ok(None),
        (a, false) => Ok(Some(a.unwrap_or_else(default))),
    }
}

/// A blocking client of the e-services of one session.
#[pyclass(module = "anist._anist", name = "Client", frozen)]
pub struct PyClient {
    inner: Arc<Inner>,
}

impl PyClient {
    /// The client's session (for the ANPR clients of other modules).
    pub(crate) fn session(&self) -> Arc<Session> {
        Arc::clone(self.inner.anist.session())
    }

    fn new(
        session: Arc<Session>,
        isee: Option<IseeClient>,
        config: Option<Config>,
        sandbox: bool,
        audit: Option<PathBuf>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                anist: AnistClient::new(session),
                isee,
                config,
                sandbox,
                audit,
                trail: Mutex::new(None),
            }),
        }
    }

    /// Runs an ISEE lookup with the GIL released and maps its error.
    fn run_isee<T, F>(&self, py: Python<'_>, fut: F) -> PyResult<T>
    where
        F: std::future::Future<Output = Result<T, IseeError>> + Send,
        T: Send,
    {
        block_on(py, fut)?.map_err(|e| errors::isee(&e, self.inner.config.as_ref()))
    }

    /// The body of the `isee_*` methods: the question from `a`, asked
    /// with `ask` (GIL released); `None` when INPS has no ISEE.
    fn isee_lookup<T: Send + 'static>(
        &self,
        py: Python<'_>,
        a: &IseeArgs<'_>,
        ask: impl FnOnce(IseeClient, IseeService, IseeQuery) -> IseeFuture<T>,
    ) -> PyResult<Option<T>> {
        let (client, service, q) = self.isee_question(a)?;
        Ok(match self.run_isee(py, ask(client, service, q))? {
            IseeAnswer::Found { record, .. } => Some(record),
            IseeAnswer::NoIsee { .. } => None,
        })
    }

    /// The ISEE service and question of the `isee_*` methods.
    fn isee_question(&self, a: &IseeArgs<'_>) -> PyResult<(IseeClient, IseeService, IseeQuery)> {
        let IseeArgs {
            service,
            codice_fiscale,
            date,
            dsu,
            prestazione,
            kind,
            protocollo_domanda,
        } = *a;
        let Some(mut client) = self.inner.isee.clone() else {
            return Err(errors::new(
                ErrorKind::Config,
                String::from("this client has no INPS ISEE ente: add an [inps] section (ipa_category, user_id) to the configuration"),
                "isee_not_configured",
            ));
        };
        let service = IseeService::parse(service).ok_or_else(|| {
            bad_argument(
                format!(
                    "{service:?} is not an ISEE service: use one of {}",
                    IseeService::ALL.map(IseeService::as_str).join(", ")
                ),
                "isee_unknown_service",
            )
        })?;
        let cf = parse_cf_any(codice_fiscale)?;
        let mut q = match dsu {
            Some(d) => IseeQuery::by_dsu(DsuProtocol::parse(d).map_err(|e| errors::error(&e))?, cf),
            None => IseeQuery::by_cf(cf).valid_on(date.unwrap_or_else(today)),
        };
        if let Some(k) = kind {
            q = q.kind(IseeKind::parse(k));
        }
        if let Some(p) = prestazione {
            q = q.prestazione(PrestazioneDaErogare::parse(p).map_err(|e| errors::error(&e))?);
        }
        if let Some(p) = protocollo_domanda {
            q = q.protocollo_domanda(p);
        }
        if let Some(t) = self.inner.trail()? {
            client = client.with_audit(t);
        }
        Ok((client, service, q))
    }

    /// Runs an e-service future with the GIL released and maps its error.
    fn run<T, F>(&self, py: Python<'_>, fut: F) -> PyResult<T>
    where
        F: std::future::Future<Output = Result<T, AnistError>> + Send,
        T: Send,
    {
        block_on(py, fut)?.map_err(|e| errors::anist(&e, self.inner.config.as_ref()))
    }
}

fn subject(value: &Bound<'_, PyAny>) -> PyResult<Subject> {
    if let Ok(cf) = value.cast::<PyCodiceFiscale>().map(|v| *v.get()) {
        return Ok(Subject::CodiceFiscale(cf.0));
    }
    if let Ok(id) = value.cast::<PyIdAnpr>().map(|v| *v.get()) {
        return Ok(Subject::IdAnpr(id.0));
    }
    let s = value.cast::<PyString>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("expected a CodiceFiscale, an IdAnpr or a str")
    })?;
    let s = s.to_cow()?;
    CodiceFiscale::parse(&s)
        .map(Subject::CodiceFiscale)
        .map_err(|e| errors::error(&e))
}

fn year(value: Option<&Bound<'_, PyAny>>) -> PyResult<YearSelector> {
    let Some(value) = value else {
        return Ok(YearSelector::Current);
    };
    if value.is_none() {
        return Ok(YearSelector::Current);
    }
    if let Ok(y) = value.cast::<PySchoolYear>().map(|v| *v.get()) {
        return Ok(YearSelector::Explicit(y.0));
    }
    let s: String = value.extract()?;
    match s.trim() {
        "current" => Ok(YearSelector::Current),
        "previous" => Ok(YearSelector::Previous),
        other => SchoolYear::parse(other)
            .map(YearSelector::Explicit)
            .map_err(|e| errors::error(&e)),
    }
}

fn school(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<CodiceMeccanografico>> {
    let Some(value) = value else {
        return Ok(None);
    };
    if value.is_none() {
        return Ok(None);
    }
    if let Ok(c) = value.cast::<PyCodiceMeccanografico>().map(|v| *v.get()) {
        return Ok(Some(c.0));
    }
    let s: String = value.extract()?;
    CodiceMeccanografico::parse(&s)
        .map(Some)
        .map_err(|e| errors::error(&e))
}

fn query(
    who: &Bound<'_, PyAny>,
    year_sel: Option<&Bound<'_, PyAny>>,
    school_sel: Option<&Bound<'_, PyAny>>,
) -> PyResult<Query> {
    Ok(Query {
        subject: subject(who)?,
        school: school(school_sel)?,
        year: year(year_sel)?,
    })
}

fn school_year_arg(value: &Bound<'_, PyAny>) -> PyResult<SchoolYear> {
    if let Ok(y) = value.cast::<PySchoolYear>().map(|v| *v.get()) {
        return Ok(y.0);
    }
    let s: String = value.extract()?;
    SchoolYear::parse(&s).map_err(|e| errors::error(&e))
}

#[pymethods]
impl PyClient {
    /// A client for the e-services of a configuration file (`anist.toml`);
    /// key passwords come from the environment as for the CLI. Every
    /// single lookup is recorded in the audit trail `audit` (default
    /// `anist-audit.sqlite` in the working directory, opened at the first
    /// lookup; its secret `<audit>.key`); `no_audit=True` opts out.
    #[staticmethod]
    #[pyo3(signature = (path, *, audit = None, no_audit = false))]
    fn from_config(path: PathBuf, audit: Option<PathBuf>, no_audit: bool) -> PyResult<Self> {
        guard(|| {
            let audit = audit_choice(audit, no_audit)?;
            let config = Config::load(&path).map_err(|e| errors::error(&e))?;
            let session = config
                .session(Arc::new(SystemClock))
                .map_err(|e| errors::error(&e))?;
            let session = Arc::new(session);
            let isee = match config.inps {
                Some(_) => Some(
                    config
                        .isee_client(Arc::clone(&session))
                        .map_err(|e| errors::error(&e))?,
                ),
                None => None,
            };
            Ok(Self::new(session, isee, Some(config), false, audit))
        })
    }

    /// The e-service names of the session.
    #[getter]
    fn services(&self) -> Vec<String> {
        self.inner
            .anist
            .session()
            .service_names()
            .map(str::to_string)
            .collect()
    }

    /// The environment (`produzione`, `collaudo`, `sandbox`…).
    #[getter]
    fn environment(&self) -> String {
        self.inner.anist.session().environment().to_string()
    }

    /// ANIST verification: does the pupil attend? `None` when ANIST has
    /// no data (an answer, not an error). `year` is `None`/`"current"`,
    /// `"previous"`, a `SchoolYear` or its text; `school` filters by
    /// codice meccanografico.
    #[pyo3(signature = (subject, *, year = None, school = None))]
    fn verify(
        &self,
        py: Python<'_>,
        subject: &Bound<'_, PyAny>,
        year: Option<&Bound<'_, PyAny>>,
        school: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<PyVerifica>> {
        guard(|| {
            let q = query(subject, year, school)?;
            let client = self.inner.anist_audited()?;
            let answer = self.run(py, async move { client.verify(&q).await })?;
            Ok(match answer {
                Answer::Found(v) => Some(v.into()),
                Answer::NotFound => None,
            })
        })
    }

    /// ANIST accertamento: the detailed attendance record, `None` when
    /// ANIST has no data. Arguments as for `verify`.
    #[pyo3(signature = (subject, *, year = None, school = None))]
    fn ascertain(
        &self,
        py: Python<'_>,
        subject: &Bound<'_, PyAny>,
        year: Option<&Bound<'_, PyAny>>,
        school: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<PyFrequenza>> {
        guard(|| {
            let q = query(subject, year, school)?;
            let client = self.inner.anist_audited()?;
            let answer = self.run(py, async move { client.ascertain(&q).await })?;
            Ok(match answer {
                Answer::Found(f) => Some(PyFrequenza(f)),
                Answer::NotFound => None,
            })
        })
    }

    /// INPS ISEE, an Indicatore service (`service`: `indicatore_residenti`,
    /// `indicatore_operatori`, `indicatore`, `indicatore_riscontro`,
    /// `indicatore_nucleo_riscontro`): the `Indicatore`, or `None` when
    /// INPS has no ISEE (`DATI_NON_TROVATI`, an answer). By codice fiscale
    /// valid on `date` (default today), or by DSU protocol (`dsu`, the
    /// Riscontro services). Eligibility is checked before anything is sent.
    #[pyo3(signature = (codice_fiscale, *, service = "indicatore_residenti", date = None, dsu = None, prestazione = None, kind = None, protocollo_domanda = None))]
    #[allow(clippy::too_many_arguments)]
    fn isee_indicatore(
        &self,
        py: Python<'_>,
        codice_fiscale: &str,
        service: &str,
        date: Option<NaiveDate>,
        dsu: Option<&str>,
        prestazione: Option<&str>,
        kind: Option<&str>,
        protocollo_domanda: Option<&str>,
    ) -> PyResult<Option<PyIndicatore>> {
        let a = IseeArgs {
            service,
            codice_fiscale,
            date,
            dsu,
            prestazione,
            kind,
            protocollo_domanda,
        };
        guard(|| {
            let record = self.isee_lookup(py, &a, |c, service, q| {
                Box::pin(async move { c.indicatore(service, &q).await })
            })?;
            Ok(record.map(PyIndicatore))
        })
    }

    /// INPS ISEE, an Attestazione service (`attestazione_residenti`,
    /// `attestazione_operatori`, `attestazione`): the `Attestazione`, or
    /// `None` when INPS has no ISEE. Arguments as for `isee_indicatore`.
    #[pyo3(signature = (codice_fiscale, *, service = "attestazione_residenti", date = None, dsu = None, prestazione = None, kind = None, protocollo_domanda = None))]
    #[allow(clippy::too_many_arguments)]
    fn isee_attestazione(
        &self,
        py: Python<'_>,
        codice_fiscale: &str,
        service: &str,
        date: Option<NaiveDate>,
        dsu: Option<&str>,
        prestazione: Option<&str>,
        kind: Option<&str>,
        protocollo_domanda: Option<&str>,
    ) -> PyResult<Option<PyAttestazione>> {
        let a = IseeArgs {
            service,
            codice_fiscale,
            date,
            dsu,
            prestazione,
            kind,
            protocollo_domanda,
        };
        guard(|| {
            let record = self.isee_lookup(py, &a, |c, service, q| {
                Box::pin(async move { c.attestazione(service, &q).await })
            })?;
            Ok(record.map(PyAttestazione))
        })
    }

    /// Runs (or resumes, when `journal` exists) the bulk attendance job of
    /// a municipal CSV: validates locally, asks ANIST, writes `output`.
    /// `progress(p)` is called with a `Progress` as the job goes; an
    /// exception raised by it (or Ctrl-C) stops the job, which can be
    /// resumed from its journal.
    ///
    /// Every call is recorded in the audit trail `audit` (default:
    /// `anist-audit.sqlite` beside `output`); `no_audit=True` opts out,
    /// explicitly. A job that ends with every row answered removes its
    /// journal unless `keep_journal=True`; one with `retry_rows` keeps it,
    /// and running it again asks those rows again.
    #[pyo3(signature = (input, output, school_year, *, journal = None, column = None, concurrency = None, use_massive = true, audit = None, no_audit = false, keep_journal = false, progress = None))]
    #[allow(clippy::too_many_arguments)]
    fn run_bulk(
        &self,
        py: Python<'_>,
        input: PathBuf,
        output: PathBuf,
        school_year: &Bound<'_, PyAny>,
        journal: Option<PathBuf>,
        column: Option<String>,
        concurrency: Option<usize>,
        use_massive: bool,
        audit: Option<PathBuf>,
        no_audit: bool,
        keep_journal: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<PySummary> {
        guard(|| {
            let year = school_year_arg(school_year)?;
            let mut spec = JobSpec::new(&input, &output, journal_of(&output, journal), year);
            spec.cf_column = column;
            spec.options.use_massive = use_massive;
            spec.options.keep_journal = keep_journal;
            self.job_options(&mut spec.options, self.inner.anist.session(), concurrency);
            if self.inner.sandbox {
                spec.options.poll_interval = Duration::from_millis(100);
            }
            let (_, audit) = job_audit(&output, audit, no_audit)?;
            let job = BulkJob::new(spec);
            let inner = Arc::clone(&self.inner);
            let outcome = run_job(py, progress, outcome_map, move |report| async move {
                job.run(&inner.anist, audit.as_ref(), report).await
            })?;
            match outcome.map_err(|e| errors::error(&e))? {
                JobOutcome::Completed(s) => Ok(summary(s, None)),
                JobOutcome::Paused {
                    reason,
                    code,
                    summary: s,
                } => Ok(summary(s, Some((code, reason)))),
            }
        })
    }

    /// Runs (or resumes, when `journal` exists) the ISEE batch of a CSV of
    /// applications (the job of `anist isee batch`): one INPS question per
    /// distinct row of `input` to `service` (`indicatore_residenti`…),
    /// valid on the row's `data_validita` or `date` (default today), one
    /// outcome per row in `output`. `progress(p)` is called with a
    /// `Progress` (outcomes `found`, `no_isee`, `refused`,
    /// `invalid_input`, `error`); an exception raised by it (or Ctrl-C)
    /// stops the batch, which can be resumed from its journal.
    ///
    /// Every call is recorded in the audit trail: `audit` (default
    /// `anist-audit.sqlite` beside the output, its secret `<audit>.key`);
    /// only `no_audit=True` runs without one.
    #[pyo3(signature = (input, output, *, service = "indicatore_residenti", date = None, prestazione = None, kind = None, journal = None, column = None, concurrency = None, audit = None, no_audit = false, progress = None))]
    #[allow(clippy::too_many_arguments)]
    fn run_isee_batch(
        &self,
        py: Python<'_>,
        input: PathBuf,
        output: PathBuf,
        service: &str,
        date: Option<NaiveDate>,
        prestazione: Option<&str>,
        kind: Option<&str>,
        journal: Option<PathBuf>,
        column: Option<String>,
        concurrency: Option<usize>,
        audit: Option<PathBuf>,
        no_audit: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<crate::isee_batch::PyIseeSummary> {
        guard(|| {
            let Some(client) = self.inner.isee.clone() else {
                return Err(errors::new(
                    ErrorKind::Config,
                    String::from("this client has no INPS ISEE ente: add an [inps] section (ipa_category, user_id) to the configuration"),
                    "isee_not_configured",
                ));
            };
            let service = IseeService::parse(service).ok_or_else(|| {
                bad_argument(
                    format!(
                        "{service:?} is not an ISEE service: use one of {}",
                        IseeService::ALL.map(IseeService::as_str).join(", ")
                    ),
                    "isee_unknown_service",
                )
            })?;
            let mut spec = IseeBatchSpec::new(
                &input,
                &output,
                journal_of(&output, journal),
                service,
                date.unwrap_or_else(today),
            );
            if let Some(p) = prestazione {
                spec.prestazione =
                    Some(PrestazioneDaErogare::parse(p).map_err(|e| errors::error(&e))?);
            }
            if let Some(k) = kind {
                spec.kind = IseeKind::parse(k);
            }
            spec.cf_column = column;
            self.job_options(&mut spec.options, client.session(), concurrency);
            let (audit_path, audit) = job_audit(&output, audit, no_audit)?;
            let batch = IseeBatch::new(spec);
            let outcome = run_job(
                py,
                progress,
                crate::isee_batch::outcome_map,
                move |report| async move { batch.run(&client, audit.as_ref(), report).await },
            )?;
            match outcome.map_err(|e| errors::error(&e))? {
                JobOutcome::Completed(s) => Ok(crate::isee_batch::summary(s, None, audit_path)),
                JobOutcome::Paused {
                    reason,
                    code,
                    summary: s,
                } => Ok(crate::isee_batch::summary(
                    s,
                    Some((code, reason)),
                    audit_path,
                )),
            }
        })
    }

    /// Looks a person up in ANPR (E002 over PDND) and returns the answer
    /// as a dict: `esito` (`"trovato"` / `"non_trovato"`: not found is an
    /// answer, never an exception), `servizio`, `id_anpr`, `avvisi` (ANPR's
    /// warnings, e.g. `EN148`), `soggetti` (every subject, with ANPR's own
    /// blocks and field names: `generalita`, `residenza`, … and
    /// `deceduto`).
    ///
    /// Give `codice_fiscale` (C030 first, then the service by ID ANPR) or
    /// `id_anpr`; `servizio` is `generalita` (C015), `residenza` (C020),
    /// `famiglia` (C021) or `id-anpr` (C030 only, by codice fiscale);
    /// `motivo` (mandatory) is the reference of the file the lookup is for;
    /// `date` the reference date (default today). Every call is recorded
    /// in the audit trail `audit` (default `anist-audit.sqlite`, its
    /// secret `<audit>.key`); `ids` is the store of the operation ids
    /// shared by every program of the ente (default
    /// `anist-anpr-ids.sqlite`).
    #[pyo3(signature = (*, motivo, codice_fiscale = None, id_anpr = None, servizio = "generalita", date = None, audit = None, ids = None))]
    #[allow(clippy::too_many_arguments)]
    fn anpr_cerca(
        &self,
        py: Python<'_>,
        motivo: &str,
        codice_fiscale: Option<&str>,
        id_anpr: Option<&str>,
        servizio: &str,
        date: Option<NaiveDate>,
        audit: Option<PathBuf>,
        ids: Option<PathBuf>,
    ) -> PyResult<Py<PyAny>> {
        guard(|| {
            let soggetto = match (codice_fiscale, id_anpr) {
                (Some(cf), None) => AnprSoggetto::CodiceFiscale(
                    CodiceFiscale::parse(cf).map_err(|e| errors::error(&e))?,
                ),
                (None, Some(id)) => {
                    AnprSoggetto::IdAnpr(IdAnpr::parse(id).map_err(|e| errors::error(&e))?)
                }
                _ => {
                    return Err(bad_argument(
                        "give one of codice_fiscale or id_anpr".into(),
                        "anpr_usage",
                    ))
                }
            };
            let servizio = [
                Servizio::Generalita,
                Servizio::Residenza,
                Servizio::Famiglia,
                Servizio::IdAnpr,
            ]
            .into_iter()
            .find(|s| s.as_str() == servizio)
            .ok_or_else(|| {
                bad_argument(
                    format!("{servizio:?} is not an ANPR service: use generalita, residenza, famiglia or id-anpr"),
                    "anpr_usage",
                )
            })?;
            if servizio == Servizio::IdAnpr && matches!(soggetto, AnprSoggetto::IdAnpr(_)) {
                return Err(bad_argument(
                    "servizio=\"id-anpr\" looks up the ID ANPR of a codice fiscale: give codice_fiscale".into(),
                    "anpr_usage",
                ));
            }
            let richiesta = Richiesta {
                soggetto,
                servizio,
                motivo: motivo.to_string(),
                data: date,
            };
            let config = self.inner.config.as_ref();
            let ids =
                OperationIds::open(&ids.unwrap_or_else(|| PathBuf::from("anist-anpr-ids.sqlite")))
                    .map_err(|e| errors::anpr(&e, config))?;
            // `audit`, else the client's trail; an ANPR lookup is always
            // recorded, at the default path if the client opted out.
            let open = |path: &Path| {
                AuditLog::open_beside(path)
                    .map(Arc::new)
                    .map_err(|e| errors::error(&e))
            };
            let trail = match audit {
                Some(a) => open(&a)?,
                None => match self.inner.trail()? {
                    Some(t) => t,
                    None => open(Path::new(DEFAULT_FILE))?,
                },
            };
            let client = AnprClient::new(Arc::clone(self.inner.anist.session()), Arc::new(ids))
                .with_audit(trail);
            let risposta = block_on(py, async move { client.cerca(&richiesta).await })?
                .map_err(|e| errors::anpr(&e, config))?;
            let json = risposta.to_json(servizio).to_string();
            Ok(py.import("json")?.call_method1("loads", (json,))?.unbind())
        })
    }

    /// Runs (or resumes, when `journal` exists) the ANPR massive job of a
    /// CSV of codici fiscali or ID ANPR (the job of `anist anpr massiva`):
    /// one massive request to `servizio` (`id-anpr`: C030 massivo;
    /// `residenza`: C020 massivo), polled until ANPR's file is ready, the
    /// subjects it omitted asked again singly, one outcome per input row in
    /// `output` (`found`, `not_found`, `invalid_code`, `error`). Returns the
    /// summary as a dict (`rows_total`, `rows_done`, `distinct`, `outcomes`,
    /// `submits`, `polls`, `singles`, `duration_seconds`, and `paused` with
    /// `pause_code` / `pause_reason` when ANPR has a request pending or the
    /// file is not ready after `max_polls`: run it again later on the same
    /// journal). `progress(p)` is called with a `Progress`.
    ///
    /// Every identifier is recorded in the audit trail `audit` (default
    /// `anist-audit.sqlite` beside the output); the operation ids in `ids`
    /// (default `anist-anpr-ids.sqlite`).
    #[pyo3(signature = (input, output, *, motivo, servizio = "id-anpr", date = None, journal = None, column = None, max_polls = 720, poll_seconds = None, audit = None, ids = None, keep_journal = false, progress = None))]
    #[allow(clippy::too_many_arguments)]
    fn run_anpr_massiva(
        &self,
        py: Python<'_>,
        input: PathBuf,
        output: PathBuf,
        motivo: &str,
        servizio: &str,
        date: Option<NaiveDate>,
        journal: Option<PathBuf>,
        column: Option<String>,
        max_polls: u32,
        poll_seconds: Option<f64>,
        audit: Option<PathBuf>,
        ids: Option<PathBuf>,
        keep_journal: bool,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        guard(|| {
            let Some(servizio) = ServizioMassivo::parse(servizio) else {
                return Err(bad_argument(
                    format!(
                        "{servizio:?} is not an ANPR massive service: use id-anpr or residenza"
                    ),
                    "anpr_usage",
                ));
            };
            if motivo.trim().is_empty() {
                return Err(bad_argument(
                    "motivo is mandatory: the reference of the file (e.g. \"prot. 123\")".into(),
                    "anpr_motivo_missing",
                ));
            }
            let mut spec = MassivaSpec::new(
                &input,
                &output,
                journal_of(&output, journal),
                servizio,
                motivo,
                date.unwrap_or_else(today),
            );
            spec.column = column;
            spec.max_polls = max_polls;
            spec.options.keep_journal = keep_journal;
            self.job_options(&mut spec.options, self.inner.anist.session(), None);
            spec.options.poll_interval = match poll_seconds {
                Some(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s),
                Some(_) => {
                    return Err(bad_argument(
                        "poll_seconds: a non-negative number of seconds".into(),
                        "anpr_usage",
                    ))
                }
                None if self.inner.sandbox => Duration::from_millis(100),
                None => Duration::from_secs(5),
            };
            let config = self.inner.config.as_ref();
            let ids = Arc::new(
                OperationIds::open(&ids.unwrap_or_else(|| PathBuf::from("anist-anpr-ids.sqlite")))
                    .map_err(|e| errors::anpr(&e, config))?,
            );
            let (_, audit) = job_audit(&output, audit, false)?;
            let audit = audit.map(Arc::new);
            let session = Arc::clone(self.inner.anist.session());
            let massive = MassiveClient::new(Arc::clone(&session), Arc::clone(&ids));
            let mut single = AnprClient::new(session, ids);
            if let Some(a) = &audit {
                single = single.with_audit(Arc::clone(a));
            }
            let job = MassivaJob::new(spec);
            let outcome = run_job(py, progress, massiva_outcomes, move |report| async move {
                job.run(&massive, &single, audit.as_deref(), report).await
            })?;
            let (summary, pause) = match outcome.map_err(|e| errors::error(&e))? {
                JobOutcome::Completed(s) => (s, None),
                JobOutcome::Paused {
                    reason,
                    code,
                    summary,
                } => (summary, Some((code, reason))),
            };
            let mut value = serde_json::to_value(&summary)
                .map_err(|e| errors::new(ErrorKind::Local, e.to_string(), "anpr_summary"))?;
            if let serde_json::Value::Object(map) = &mut value {
                map.insert("paused".into(), pause.is_some().into());
                map.insert("pause_code".into(), pause.as_ref().map(|p| p.0).into());
                map.insert("pause_reason".into(), pause.map(|p| p.1).into());
            }
            Ok(py
                .import("json")?
                .call_method1("loads", (value.to_string(),))?
                .unbind())
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(environment='{}', services={:?})",
            self.environment(),
            self.services()
        )
    }
}

impl PyClient {
    /// The options every job of this client shares: the concurrency
    /// (`concurrency`, else the configuration's `limits.concurrency`), the
    /// operator and the purposes of `session` (for the audit trail).
    fn job_options(&self, options: &mut JobOptions, session: &Session, concurrency: Option<usize>) {
        if let Some(c) = concurrency {
            options.concurrency = c.max(1);
        } else if let Some(c) = self
            .inner
            .config
            .as_ref()
            .and_then(|c| c.limits.concurrency)
        {
            options.concurrency = usize::try_from(c).unwrap_or(1).max(1);
        }
        options.audit_identity(session);
    }
}

/// Outcome → rows, for the ANPR massive job.
fn massiva_outcomes(o: &MassivaCounts) -> BTreeMap<&'static str, u64> {
    BTreeMap::from([
        ("found", o.found),
        ("not_found", o.not_found),
        ("invalid_code", o.invalid_code),
        ("error", o.error),
    ])
}

/// The journal of a job: `journal`, else `<output>.journal`.
fn journal_of(output: &Path, journal: Option<PathBuf>) -> PathBuf {
    journal.unwrap_or_else(|| {
        let mut p = output.to_path_buf().into_os_string();
        p.push(".journal");
        PathBuf::from(p)
    })
}

/// The audit trail of a job, on unless opted out explicitly: `audit`, else
/// `anist-audit.sqlite` beside the output (its secret `<audit>.key`).
fn job_audit(
    output: &Path,
    audit: Option<PathBuf>,
    no_audit: bool,
) -> PyResult<(Option<PathBuf>, Option<AuditLog>)> {
    let Some(db) = audit_choice_or(audit, no_audit, || {
        crate::isee_batch::audit_path(None, output)
    })?
    else {
        return Ok((None, None));
    };
    let log = AuditLog::open_beside(&db).map_err(|e| errors::error(&e))?;
    Ok((Some(db), Some(log)))
}

/// A job's progress reporter, handed to the job's `run`.
type Report<C> = Box<dyn Fn(&Progress<C>) + Send + Sync>;

/// Runs the job made by `job` (given its progress reporter) with the GIL
/// released, calling the Python `progress(p)` callback with a `Progress`
/// whose outcomes come from `outcomes`. An exception raised by the
/// callback (or Ctrl-C) stops the job; it can be resumed from its journal.
fn run_job<C, T, Fut>(
    py: Python<'_>,
    progress: Option<Py<PyAny>>,
    outcomes: fn(&C) -> BTreeMap<&'static str, u64>,
    job: impl FnOnce(Report<C>) -> Fut,
) -> PyResult<T>
where
    C: 'static,
    Fut: std::future::Future<Output = T> + Send,
    T: Send,
{
    let failure: Arc<Mutex<Option<PyErr>>> = Arc::default();
    let report: Report<C> = {
        let failure = Arc::clone(&failure);
        Box::new(move |p: &Progress<C>| {
            let Some(cb) = progress.as_ref() else {
                return;
            };
            if lock(&failure).is_some() {
                return;
            }
            Python::attach(|py| {
                let value = PyProgress {
                    rows_done: p.rows_done,
                    rows_total: p.rows_total,
                    rate: p.rate,
                    eta: p.eta.map(|d| d.as_secs_f64()),
                    outcomes: outcomes(&p.outcomes),
                };
                if let Err(e) = cb.call1(py, (value,)) {
                    *lock(&failure) = Some(e);
                }
            });
        })
    };
    let outcome = block_on_with(py, job(report), |_| match lock(&failure).take() {
        Some(e) => Err(e),
        None => Ok(()),
    })?;
    if let Some(e) = lock(&failure).take() {
        return Err(e);
    }
    Ok(outcome)
}

/// A local PDND + GovWay + ANIST stand-in on 127.0.0.1 with a synthetic
/// population. `with Sandbox() as client:` gives a ready `Client`.
#[pyclass(module = "anist._anist", name = "Sandbox")]
pub struct PySandbox {
    seed: u64,
    school_year: SchoolYear,
    population: Option<usize>,
    /// The audit trail of its client's single lookups.
    audit: Option<PathBuf>,
    handle: Mutex<Option<SandboxHandle>>,
    client: Mutex<Option<Py<PyClient>>>,
}

impl PySandbox {
    /// A session of the running sandbox's default client (for the ANPR
    /// clients of other modules, e.g. the rivestizione worker).
    pub(crate) fn session(&self) -> PyResult<Arc<Session>> {
        self.with_handle(|h| {
            h.session()
                .map(Arc::new)
                .map_err(|e| errors::call(&e, None))
        })
    }

    fn with_handle<T>(&self, f: impl FnOnce(&SandboxHandle) -> PyResult<T>) -> PyResult<T> {
        let guard = lock(&self.handle);
        match guard.as_ref() {
            Some(h) => f(h),
            None => Err(errors::new(
                ErrorKind::Sandbox,
                "the sandbox is not running: call start() or use it in a `with` block".into(),
                "sandbox_not_running",
            )),
        }
    }
}

fn fault_of(
    name: &str,
    retry_after: Option<u32>,
    status: Option<u16>,
    delay: Option<f64>,
) -> PyResult<Fault> {
    Ok(match name {
        "delay" => Fault::Delay(Duration::from_secs_f64(delay.unwrap_or(1.0).max(0.0))),
        "rate_limited" => Fault::RateLimited,
        "internal_error" => Fault::InternalError,
        "status" => Fault::Status(status.unwrap_or(503)),
        "too_many_requests" => Fault::TooManyRequests { retry_after },
        "limit_exceeded" => Fault::LimitExceeded,
        "drop_connection" => Fault::DropConnection,
        other => {
            return Err(bad_argument(
                format!(
                    "{other:?} is not a fault: use delay, rate_limited, internal_error, status, \
                     too_many_requests, limit_exceeded or drop_connection"
                ),
                "sandbox_unknown_fault",
            ))
        }
    })
}

#[pymethods]
impl PySandbox {
    /// A sandbox (not started yet) with `seed`; `school_year` is the
    /// sandbox's current year (default: today's); `population` the number
    /// of pupils it lists. Its client records every single lookup in the
    /// audit trail `audit` (default `anist-audit.sqlite` in the working
    /// directory, opened at the first lookup); `no_audit=True` opts out.
    #[new]
    #[pyo3(signature = (seed = 42, *, school_year = None, population = None, audit = None, no_audit = false))]
    fn new(
        seed: u64,
        school_year: Option<&Bound<'_, PyAny>>,
        population: Option<usize>,
        audit: Option<PathBuf>,
        no_audit: bool,
    ) -> PyResult<Self> {
        let audit = audit_choice(audit, no_audit)?;
        let school_year = match school_year {
            Some(y) if !y.is_none() => school_year_arg(y)?,
            _ => SchoolYear::containing(today()),
        };
        Ok(Self {
            seed,
            school_year,
            population,
            audit,
            handle: Mutex::new(None),
            client: Mutex::new(None),
        })
    }

    /// Starts the sandbox (once) and returns its client.
    fn start(&self, py: Python<'_>) -> PyResult<Py<PyClient>> {
        guard(|| {
            if let Some(c) = lock(&self.client).as_ref() {
                return Ok(c.clone_ref(py));
            }
            let mut config = SandboxConfig::with_default_client(self.seed)
                .map_err(|e| errors::error(&e))?
                .current_school_year(self.school_year);
            if let Some(n) = self.population {
                config = config.population_size(n);
            }
            let handle = block_on(py, Sandbox::start(config))?.map_err(|e| errors::error(&e))?;
            let isee = handle.isee_client().map_err(|e| errors::call(&e, None))?;
            let session = Arc::clone(isee.session());
            let client = Py::new(
                py,
                PyClient::new(session, Some(isee), None, true, self.audit.clone()),
            )?;
            *lock(&self.handle) = Some(handle);
            *lock(&self.client) = Some(client.clone_ref(py));
            Ok(client)
        })
    }

    /// Stops the sandbox (waits for requests in flight, at most 5 s).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| {
            let handle = lock(&self.handle).take();
            *lock(&self.client) = None;
            if let Some(h) = handle {
                block_on(py, h.shutdown())?;
            }
            Ok(())
        })
    }

    fn __enter__(&self, py: Python<'_>) -> PyResult<Py<PyClient>> {
        self.start(py)
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    /// The sandbox's base URL (`http://127.0.0.1:<port>`).
    #[getter]
    fn base_url(&self) -> PyResult<String> {
        self.with_handle(|h| Ok(h.base_url().to_string()))
    }

    /// The sandbox's current school year.
    #[getter]
    fn school_year(&self) -> PySchoolYear {
        PySchoolYear(self.school_year)
    }

    /// Token requests received so far.
    #[getter]
    fn token_requests(&self) -> PyResult<u64> {
        self.with_handle(|h| Ok(h.token_requests()))
    }

    /// Calls that reached an e-service backend so far.
    #[getter]
    fn backend_calls(&self) -> PyResult<u64> {
        self.with_handle(|h| Ok(h.backend_calls()))
    }

    /// The codici fiscali of the first `n` pupils of the population
    /// (synthetic; all of school age).
    #[pyo3(signature = (n = None))]
    fn pupils(&self, n: Option<usize>) -> PyResult<Vec<String>> {
        self.with_handle(|h| {
            let pupils = h.population().pupils();
            let n = n.unwrap_or(pupils.len()).min(pupils.len());
            Ok(pupils[..n]
                .iter()
                .map(|p| p.codice_fiscale.as_str().to_string())
                .collect())
        })
    }

    /// `n` synthetic codici fiscali of the sandbox's ISEE population that
    /// have (`with_isee=True`) or have not an ISEE valid today, and whose
    /// household resides in the sandbox's Comune (so the Residenti services
    /// answer for them).
    #[pyo3(signature = (n, *, with_isee = true))]
    fn isee_people(&self, n: usize, with_isee: bool) -> PyResult<Vec<String>> {
        self.with_handle(|h| {
            let population = h.isee_population();
            let today = today();
            Ok(population
                .sample(n.saturating_mul(20).max(200))
                .into_iter()
                .filter(|cf| {
                    let any = AnyCodiceFiscale::Persona(*cf);
                    match population.expected(&any, today).household() {
                        Some(hh) => with_isee && hh.resides_in(population.comune()),
                        None => !with_isee,
                    }
                })
                .take(n)
                .map(|cf| cf.as_str().to_string())
                .collect())
        })
    }

    /// What ANIST knows of `codice_fiscale` in `year` (default: the
    /// sandbox's current year): the esito code, or `None` for no data.
    #[pyo3(signature = (codice_fiscale, year = None))]
    fn expected_esito(
        &self,
        codice_fiscale: &str,
        year: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Option<i64>> {
        let cf = CodiceFiscale::parse(codice_fiscale).map_err(|e| errors::error(&e))?;
        let year = match year {
            Some(y) if !y.is_none() => school_year_arg(y)?,
            _ => self.school_year,
        };
        self.with_handle(|h| {
            Ok(match h.population().expected(&cf, year) {
                Expected::NotInAnist => None,
                Expected::Record(f) => f.esito_frequenza.map(EsitoFrequenza::code),
            })
        })
    }

    /// Queues a fault for the next request to `service` (a session name
    /// such as `"anist-verifica"`), or to the token endpoint when `service`
    /// is `None`. Faults: `delay` (`delay` seconds), `rate_limited`,
    /// `internal_error`, `status` (`status`), `too_many_requests`
    /// (`retry_after` seconds), `limit_exceeded`, `drop_connection`.
    #[pyo3(signature = (fault, *, service = None, retry_after = None, status = None, delay = None))]
    fn inject_fault(
        &self,
        fault: &str,
        service: Option<&str>,
        retry_after: Option<u32>,
        status: Option<u16>,
        delay: Option<f64>,
    ) -> PyResult<()> {
        let fault = fault_of(fault, retry_after, status, delay)?;
        let route = match service {
            None => Route::Token,
            Some(name) => {
                let e = ANIST_ESERVICES
                    .iter()
                    .find(|e| e.session_name == name)
                    .ok_or_else(|| {
                        bad_argument(
                            format!("{name:?} is not an e-service of the sandbox: use anist-verifica, anist-accertamento, anist-verifica-massiva or anist-accertamento-massivo"),
                            "sandbox_unknown_service",
                        )
                    })?;
                Route::Front(format!("{ANIST_EROGATORE}/{}/v1", e.service))
            }
        };
        self.with_handle(|h| {
            h.inject_at(route, fault);
            Ok(())
        })
    }

    /// Moves the sandbox's clock by `seconds` (e.g. to make the client's
    /// assertions look expired).
    fn set_clock_offset(&self, seconds: i64) -> PyResult<()> {
        self.with_handle(|h| {
            h.set_clock_offset(seconds);
            Ok(())
        })
    }

    /// Writes the sandbox client's key (`sandbox-client.pem`, mode 0600)
    /// and an `anist.toml` that calls this sandbox into `directory`;
    /// returns the configuration's path (for `Client.from_config`).
    fn write_config(&self, directory: PathBuf) -> PyResult<String> {
        guard(|| {
            self.with_handle(|h| write_config(h, &directory))
                .map(|p| p.to_string_lossy().into_owned())
        })
    }

    fn __repr__(&self) -> String {
        let running = lock(&self.handle).is_some();
        format!(
            "Sandbox(seed={}, running={})",
            self.seed,
            if running { "True" } else { "False" }
        )
    }
}

fn write_config(h: &SandboxHandle, dir: &Path) -> PyResult<PathBuf> {
    anist_client::sandbox::config_file::write_all(dir, h, "anist.Sandbox.write_config")
        .map_err(|e| errors::error(&e))
}
