//! The worker: approves by silent assent, processes approved requests (not
//! in real time), writes their response files, purges them when their
//! retention time is over. Each subject's outcome is committed before the
//! next is counted: a worker killed mid-request resumes it and asks only
//! the subjects without an outcome. Two workers never both start one
//! approved request (the state change is compare-and-set), but a request
//! left `processing` is resumed by whichever pass comes next: run one
//! worker per store (several workers on one job need the leases of the
//! shared database, issue #19).

use std::sync::Arc;
use std::time::Duration;

use anist_core::rivestizione::{transition, Event, State};
use serde::Serialize;

use super::lookup::SubjectLookup;
use super::output::write_response;
use super::store::{Outcome, RequestRecord, StateUpdate, SubjectOutcome, SubjectRecord};
use super::{Rivestizione, WorkflowError};
use crate::audit::AuditEntry;
use crate::bulk::engine::{is_transient, InFlight, Task};
use crate::transport::Backoff;

/// The audit trail's operator for what the worker does on its own.
pub const WORKER_OPERATOR: &str = "sistema";

/// What one pass of the worker did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorkerReport {
    /// Requests approved by silent assent.
    pub assented: u64,
    /// Requests completed.
    pub completed: Vec<i64>,
    /// Subjects asked about.
    pub subjects: u64,
    /// Requests whose files were purged.
    pub purged: u64,
}

/// Processes the requests of a [`Rivestizione`] through a [`SubjectLookup`].
#[derive(Clone)]
pub struct Worker {
    riv: Rivestizione,
    lookup: Arc<dyn SubjectLookup>,
    concurrency: usize,
    attempts: u32,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker asking at most `concurrency` subjects at once, each up to
    /// three times when its failure is transient.
    pub fn new(riv: Rivestizione, lookup: Arc<dyn SubjectLookup>, concurrency: usize) -> Self {
        Self {
            riv,
            lookup,
            concurrency: concurrency.max(1),
            attempts: 3,
        }
    }

    fn record(
        &self,
        operation: &str,
        request: i64,
        subject: Option<&str>,
        outcome: &str,
    ) -> Result<(), WorkflowError> {
        let id = request.to_string();
        self.riv.audit().record(&AuditEntry {
            operator: WORKER_OPERATOR,
            purpose: "worker",
            eservice: super::AUDIT_ESERVICE,
            operation,
            subject,
            outcome,
            correlation_id: Some(&id),
            govway_id: None,
        })?;
        Ok(())
    }

    /// One pass: silent assent, every approved (or interrupted) request
    /// processed, expired files purged.
    ///
    /// # Errors
    /// The store's, the trail's, the response file's: the request being
    /// processed stays `processing` and the next pass resumes it.
    pub async fn run_once(&self) -> Result<WorkerReport, WorkflowError> {
        let settings = self.riv.settings()?;
        let store = self.riv.store().clone();
        let now = self.riv.clock().now();
        let mut report = WorkerReport::default();
        for r in store.requests()? {
            if r.state == State::AwaitingApproval {
                let submitted =
                    chrono::DateTime::from_timestamp(r.submitted_at, 0).unwrap_or_default();
                let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
                if settings.approval.assents(submitted, at) {
                    let to = transition(r.state, Event::SilentAssent)?;
                    let update = StateUpdate {
                        at: now,
                        by: Some("silent_assent"),
                        ..StateUpdate::default()
                    };
                    if store.set_state(r.id, r.state, to, &update)? {
                        self.record("silent_assent", r.id, None, "ok")?;
                        report.assented += 1;
                    }
                }
            }
        }
        for r in store.requests()? {
            if matches!(r.state, State::Approved | State::Processing) {
                if r.state == State::Approved {
                    let update = StateUpdate {
                        at: self.riv.clock().now(),
                        ..StateUpdate::default()
                    };
                    let to = transition(r.state, Event::Start)?;
                    if !store.set_state(r.id, r.state, to, &update)? {
                        continue;
                    }
                    self.record("start", r.id, None, "ok")?;
                }
                report.subjects += self.process(&r, &settings.comuni).await?;
                self.complete(&r, settings.retention_days)?;
                report.completed.push(r.id);
            }
        }
        let now = self.riv.clock().now();
        for r in store.requests()? {
            if r.state == State::Done && r.expires_at.is_some_and(|e| e <= now) {
                if let Some(f) = &r.file {
                    let path = self.riv.files_dir().join(f);
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(WorkflowError::File {
                                path,
                                reason: e.to_string(),
                            })
                        }
                    }
                }
                store.forget_subjects(r.id)?;
                let to = transition(r.state, Event::Purge)?;
                let update = StateUpdate {
                    at: now,
                    ..StateUpdate::default()
                };
                if store.set_state(r.id, r.state, to, &update)? {
                    self.record("purge", r.id, None, "ok")?;
                    report.purged += 1;
                }
            }
        }
        Ok(report)
    }

    /// Asks every subject of `r` without an outcome, `concurrency` at a
    /// time; each outcome committed and audited as it comes.
    async fn process(&self, r: &RequestRecord, comuni: &[String]) -> Result<u64, WorkflowError> {
        let store = self.riv.store().clone();
        let mut asked = 0u64;
        let mut after = -1i64;
        // A chance to resolve them in bulk first (the massive e-services).
        let all = store.pending_subjects(r.id, after, usize::MAX)?;
        self.lookup.prepare(r, &all).await;
        drop(all);
        loop {
            let batch = store.pending_subjects(r.id, after, 512)?;
            let Some(last) = batch.last() else {
                break;
            };
            after = last.pos;
            let mut inflight: InFlight<'_, (i64, Option<String>, SubjectOutcome)> = InFlight::new();
            let mut queue = batch.iter();
            loop {
                while inflight.len() < self.concurrency {
                    let Some(s) = queue.next() else { break };
                    inflight.tasks.push(self.ask(r, s, comuni));
                }
                let Some((pos, subject, outcome)) = inflight.next().await else {
                    break;
                };
                if store.record_outcome(r.id, pos, &outcome)? {
                    self.record("lookup", r.id, subject.as_deref(), outcome.outcome.as_str())?;
                }
                asked += 1;
            }
        }
        Ok(asked)
    }

    /// One subject, asked again (up to the attempts) while its failure is
    /// transient.
    fn ask<'a>(
        &'a self,
        r: &'a RequestRecord,
        s: &'a SubjectRecord,
        comuni: &'a [String],
    ) -> Task<'a, (i64, Option<String>, SubjectOutcome)> {
        Box::pin(async move {
            let backoff = Backoff {
                max_attempts: self.attempts,
                base: Duration::from_millis(200),
                ..Backoff::default()
            };
            let mut attempt = 1;
            loop {
                let o = self.lookup.lookup(r, s, comuni).await;
                let transient =
                    o.outcome == Outcome::Error && o.code.as_deref().is_some_and(is_transient);
                let delay = if transient {
                    backoff.delay(attempt, None, &mut |max| max / 2)
                } else {
                    None
                };
                match delay {
                    Some(d) => self.riv.clock().sleep(d).await,
                    None => {
                        let subject = s.id.map(|id| id.value().to_owned());
                        return (s.pos, subject, enforce(r, comuni, o));
                    }
                }
                attempt += 1;
            }
        })
    }

    /// Writes the response file of `r` and marks it done.
    fn complete(&self, r: &RequestRecord, retention_days: u32) -> Result<(), WorkflowError> {
        let store = self.riv.store();
        let subjects = store.subjects(r.id)?;
        let dir = self.riv.files_dir();
        crate::files::create_private_dir(dir).map_err(|e| WorkflowError::File {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
        let name = format!("rivestizione-{}.csv", r.id);
        write_response(&dir.join(&name), r, &subjects)?;
        let now = self.riv.clock().now();
        let update = StateUpdate {
            at: now,
            file: Some(&name),
            expires_at: Some(now + i64::from(retention_days) * 86_400),
            ..StateUpdate::default()
        };
        let to = transition(State::Processing, Event::Complete)?;
        if store.set_state(r.id, State::Processing, to, &update)? {
            self.record("complete", r.id, None, "ok")?;
        }
        Ok(())
    }
}

/// The request's limits on what a lookup gave, whatever the lookup: a
/// subject found outside the Comuni served is `out_of_scope` (no data)
/// when the scope is the convenzionati, and only the data sets the
/// request asked are kept.
pub(crate) fn enforce(
    r: &RequestRecord,
    comuni: &[String],
    mut o: SubjectOutcome,
) -> SubjectOutcome {
    use anist_core::anpr::dati::DatoRichiesto;
    use anist_core::rivestizione::Scope;
    let Some(data) = o.data.as_mut() else {
        return o;
    };
    if r.asked.scope == Scope::Convenzionati {
        let served = data.residenza.as_ref().is_some_and(|res| {
            comuni.iter().any(|c| {
                let c = c.trim();
                (!res[3].is_empty() && c == res[3])
                    || (!res[2].is_empty() && c.eq_ignore_ascii_case(res[2].trim()))
            })
        });
        if !served {
            return SubjectOutcome {
                outcome: Outcome::OutOfScope,
                code: None,
                data: None,
            };
        }
    }
    let asked = &r.asked.data;
    if !asked.contains(&DatoRichiesto::Generalita) {
        data.generalita = None;
    }
    if !asked.contains(&DatoRichiesto::Residenza) {
        data.residenza = None;
    }
    if !asked.contains(&DatoRichiesto::FamigliaConvivenza) {
        data.famiglia.clear();
    }
    o
}
