//! The ANPR *rivestizione* workflow ([`anist_client::rivestizione`]) from
//! Python: `anist.Rivestizione`, opened on a directory, with the actions
//! of its users (set up, register, submit, approve / reject, status,
//! download) and one pass of the worker on the ANPR clients of a sandbox
//! or of a `Client`.
//!
//! Every action is authorised and audited by anist-client; a refusal is
//! raised as `DeniedError` (`rivestizione_denied`, `rivestizione_profile`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use anist_client::anpr::{AnprClient, OperationIds};
use anist_client::clock::SystemClock;
use anist_client::rivestizione::{
    layout, AnprLookup, Ente, RequestRecord, Rivestizione, Settings, User, Worker,
};
use anist_client::session::Session;
use anist_core::anpr::dati::DatoRichiesto;
use anist_core::rivestizione::{read_subjects, Approval, Profile, Role, Scope};
use anist_core::ErrorKind;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::client::{PyClient, PySandbox};
use crate::errors::{self, guard};
use crate::runtime::block_on;

fn bad_argument(message: String) -> PyErr {
    errors::new(ErrorKind::InvalidArgument, message, "invalid_argument")
}

/// Tabella-16 data sets by name or code (`["generalita", "residenza"]`).
fn data_of(names: &[String]) -> PyResult<BTreeSet<DatoRichiesto>> {
    let mut data = BTreeSet::new();
    for name in names {
        data.extend(Profile::parse_data(name).map_err(|e| errors::error(&e))?);
    }
    Ok(data)
}

fn scope_of(scope: &str) -> PyResult<Scope> {
    Scope::parse(scope).ok_or_else(|| {
        bad_argument(format!(
            "scope {:?}: use \"convenzionati\" or \"italia\"",
            scope.chars().take(40).collect::<String>()
        ))
    })
}

/// `"manual"`, or the seconds of the silent assent.
fn approval_of(approval: &Bound<'_, PyAny>) -> PyResult<Approval> {
    if let Ok(s) = approval.cast::<PyString>() {
        if s.to_cow()?.trim().eq_ignore_ascii_case("manual") {
            return Ok(Approval::Manual);
        }
    } else if !approval.is_instance_of::<pyo3::types::PyBool>() {
        if let Ok(seconds) = approval.extract::<u64>() {
            return Ok(Approval::SilentAssent {
                after_seconds: seconds,
            });
        }
    }
    Err(bad_argument(
        "approval: \"manual\", or the seconds after which a request is approved by silent assent (an int >= 0)".into(),
    ))
}

/// The text of a request file: `str` or `bytes`.
fn subjects_bytes(subjects: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = subjects.cast::<PyBytes>() {
        Ok(b.as_bytes().to_vec())
    } else if let Ok(s) = subjects.cast::<PyString>() {
        Ok(s.to_cow()?.as_bytes().to_vec())
    } else {
        Err(bad_argument(
            "subjects: the text (str) or the bytes of a request file (CSV)".into(),
        ))
    }
}

/// A request's status as a dict (no subject's data: counts only).
fn status_dict<'py>(py: Python<'py>, r: &RequestRecord) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", r.id)?;
    d.set_item("state", r.state.as_str())?;
    d.set_item("state_label", r.state.label())?;
    d.set_item("owner", &r.owner)?;
    d.set_item("ente", &r.ente)?;
    d.set_item("subjects", r.subjects)?;
    d.set_item("answered", r.answered)?;
    d.set_item("bad_rows", r.bad_rows)?;
    d.set_item("submitted_at", r.submitted_at)?;
    d.set_item("decided_by", r.decided_by.as_deref())?;
    d.set_item("reason", r.reason.as_deref())?;
    d.set_item("error", r.error.as_deref())?;
    d.set_item("file", r.file.as_deref())?;
    Ok(d)
}

/// The rivestizione workflow on a directory: its store
/// (`rivestizione.sqlite`), its audit trail (`anist-audit.sqlite`, secret
/// `anist-audit.sqlite.key`) and its response files (`files/`).
#[pyclass(module = "anist._anist", name = "Rivestizione", frozen)]
pub struct PyRivestizione {
    riv: Rivestizione,
    dir: PathBuf,
}

#[pymethods]
impl PyRivestizione {
    /// Opens (creating it when needed) the workflow in `path`.
    #[new]
    fn new(path: PathBuf) -> PyResult<Self> {
        guard(|| {
            let riv = Rivestizione::open_dir(&path, Arc::new(SystemClock))
                .map_err(|e| errors::error(&e))?;
            Ok(Self { riv, dir: path })
        })
    }

    /// Sets the module up, once: the Anagrafe's ente (`ente_id`,
    /// `ente_name`, the ISTAT code `comune`), the Comuni served (`comuni`:
    /// ISTAT codes or names), the approval (`"manual"`, or the seconds of
    /// the silent assent), the retention of the files, and the first TOP
    /// user (every data set, all Italy).
    #[pyo3(signature = (top_user, top_name, ente_id, ente_name, comune, comuni, approval = None, retention_days = 30))]
    #[allow(clippy::too_many_arguments)]
    fn setup(
        &self,
        top_user: &str,
        top_name: &str,
        ente_id: &str,
        ente_name: &str,
        comune: &str,
        comuni: Vec<String>,
        approval: Option<&Bound<'_, PyAny>>,
        retention_days: u32,
    ) -> PyResult<()> {
        guard(|| {
            let approval = match approval {
                Some(a) if !a.is_none() => approval_of(a)?,
                _ => Approval::Manual,
            };
            let settings = Settings {
                approval,
                retention_days,
                comuni,
            };
            let ente = Ente {
                id: ente_id.to_owned(),
                nome: ente_name.to_owned(),
                comune: comune.to_owned(),
            };
            self.riv
                .setup(settings, ente, top_user, top_name)
                .map_err(|e| errors::error(&e))
        })
    }

    /// Adds (or renames) an ente fruitore (TOP).
    fn add_ente(&self, actor: &str, ente_id: &str, ente_name: &str, comune: &str) -> PyResult<()> {
        guard(|| {
            let ente = Ente {
                id: ente_id.to_owned(),
                nome: ente_name.to_owned(),
                comune: comune.to_owned(),
            };
            self.riv
                .add_ente(actor, ente)
                .map_err(|e| errors::error(&e))
        })
    }

    /// Registers `user` (named `name`) with `role` (`top`, `admin`,
    /// `standard`) in `ente`, with the profile of `data` (Tabella-16 names
    /// or codes) and `scope` (`convenzionati` or `italia`).
    #[pyo3(signature = (actor, user, name, role, ente, data, scope = "convenzionati"))]
    #[allow(clippy::too_many_arguments)]
    fn register_user(
        &self,
        actor: &str,
        user: &str,
        name: &str,
        role: &str,
        ente: &str,
        data: Vec<String>,
        scope: &str,
    ) -> PyResult<()> {
        guard(|| {
            let role = Role::parse(role).ok_or_else(|| {
                bad_argument(format!(
                    "role {:?}: use \"top\", \"admin\" or \"standard\"",
                    role.chars().take(40).collect::<String>()
                ))
            })?;
            let profile = Profile {
                data: data_of(&data)?,
                scope: scope_of(scope)?,
            };
            let user = User {
                id: user.to_owned(),
                nome: name.to_owned(),
                role,
                ente: ente.to_owned(),
                active: true,
                profile,
            };
            self.riv
                .register_user(actor, user)
                .map_err(|e| errors::error(&e))
        })
    }

    /// Submits a request (STANDARD) about the subjects of a request file
    /// (`subjects`: its text or bytes, CSV with `tipo;identificativo` or a
    /// `codice_fiscale` column), with `motivo` (the reference of the
    /// practice), asking `asked` (Tabella-16 names; default: the user's
    /// whole profile) within the user's scope. Returns its number.
    #[pyo3(signature = (user, motivo, subjects, asked = None))]
    fn submit(
        &self,
        user: &str,
        motivo: &str,
        subjects: &Bound<'_, PyAny>,
        asked: Option<Vec<String>>,
    ) -> PyResult<i64> {
        guard(|| {
            let bytes = subjects_bytes(subjects)?;
            let file = read_subjects(bytes.as_slice()).map_err(|e| errors::error(&e))?;
            let asked = asked.as_deref().map(data_of).transpose()?;
            self.riv
                .submit(user, motivo, asked, file)
                .map_err(|e| errors::error(&e))
        })
    }

    /// Approves request `request_id` (TOP).
    fn approve(&self, actor: &str, request_id: i64) -> PyResult<()> {
        guard(|| {
            self.riv
                .approve(actor, request_id)
                .map_err(|e| errors::error(&e))
        })
    }

    /// Rejects request `request_id` (TOP) with `reason`.
    fn reject(&self, actor: &str, request_id: i64, reason: &str) -> PyResult<()> {
        guard(|| {
            self.riv
                .reject(actor, request_id, reason)
                .map_err(|e| errors::error(&e))
        })
    }

    /// The status of request `request_id`, if `user` may see it: a dict
    /// with `id`, `state`, `state_label`, `owner`, `ente`, `subjects`,
    /// `answered`, `bad_rows`, `submitted_at` (seconds since the epoch),
    /// `decided_by`, `reason`, `error`, `file`.
    fn status<'py>(
        &self,
        py: Python<'py>,
        user: &str,
        request_id: i64,
    ) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let r = self
                .riv
                .request(user, request_id)
                .map_err(|e| errors::error(&e))?;
            status_dict(py, &r)
        })
    }

    /// The statuses of the requests `user` may see, oldest first.
    fn requests<'py>(&self, py: Python<'py>, user: &str) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let list = PyList::empty(py);
            for r in self.riv.requests(user).map_err(|e| errors::error(&e))? {
                list.append(status_dict(py, &r)?)?;
            }
            Ok(list)
        })
    }

    /// The path of the response file of request `request_id` (its
    /// requester only, once done); recorded as downloaded.
    fn download(&self, user: &str, request_id: i64) -> PyResult<String> {
        guard(|| {
            let path = self
                .riv
                .download(user, request_id)
                .map_err(|e| errors::error(&e))?;
            Ok(path.to_string_lossy().into_owned())
        })
    }

    /// One pass of the worker (silent assent, every approved request asked
    /// to ANPR, old files purged) on the ANPR clients of `source` (a
    /// started `Sandbox`, or a `Client`), `concurrency` subjects at once.
    /// Runs with the GIL released. Returns `assented`, `completed` (the
    /// numbers of the requests done), `subjects`, `purged`.
    #[pyo3(signature = (source, concurrency = 4))]
    fn run_worker(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        concurrency: usize,
    ) -> PyResult<Py<PyAny>> {
        guard(|| {
            let session = session_of(source)?;
            let ids = OperationIds::open(&self.dir.join(layout::ANPR_IDS))
                .map_err(|e| errors::error(&e))?;
            let client = AnprClient::new(session, Arc::new(ids));
            let comune = self.comune()?;
            let lookup = Arc::new(AnprLookup::new(client, None, &comune));
            let worker = Worker::new(self.riv.clone(), lookup, concurrency);
            let report = block_on(py, async move { worker.run_once().await })?
                .map_err(|e| errors::error(&e))?;
            let json = serde_json::to_string(&report)
                .map_err(|e| errors::new(ErrorKind::Local, e.to_string(), "rivestizione_file"))?;
            Ok(py.import("json")?.call_method1("loads", (json,))?.unbind())
        })
    }

    /// The directory.
    #[getter]
    fn path(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    fn __repr__(&self) -> String {
        format!("Rivestizione({:?})", self.dir.display().to_string())
    }
}

impl PyRivestizione {
    /// The ISTAT code an identity card without its issuer is taken from:
    /// the Anagrafe's (the TOP users' ente), else the first Comune served.
    fn comune(&self) -> PyResult<String> {
        let store = self.riv.store();
        let users = store.users().map_err(|e| errors::error(&e))?;
        if let Some(top) = users.iter().find(|u| u.role == Role::Top) {
            if let Some(e) = store.ente(&top.ente).map_err(|e| errors::error(&e))? {
                return Ok(e.comune);
            }
        }
        let settings = self.riv.settings().map_err(|e| errors::error(&e))?;
        Ok(settings.comuni.into_iter().next().unwrap_or_default())
    }
}

/// The session of a `Sandbox` (started) or of a `Client`.
fn session_of(source: &Bound<'_, PyAny>) -> PyResult<Arc<Session>> {
    if let Ok(sandbox) = source.cast::<PySandbox>() {
        sandbox.borrow().session()
    } else if let Ok(client) = source.cast::<PyClient>() {
        Ok(client.borrow().session())
    } else {
        Err(bad_argument(
            "source: an anist.Sandbox (started) or an anist.Client".into(),
        ))
    }
}
