//! The resumable ISEE batch: a CSV of applications (domande) in, one ISEE
//! outcome per input row out, every answer journaled in SQLite before it
//! is counted. The same machinery as the attendance job
//! ([`super::BulkJob`]): journal, resume, quota pause, retries, progress,
//! audit trail.
//!
//! # Input
//!
//! Read with anist-core's tolerant reader. Columns, by header (folded:
//! case, spaces and accents do not matter):
//!
//! - the codice fiscale (any alias the reader knows, e.g. `Codice fiscale`,
//!   `CF`, or the one named by [`IseeBatchSpec::cf_column`]), required;
//! - `data_validita`: the date the ISEE must be valid on (default
//!   [`IseeBatchSpec::valid_on`]); Italian or ISO dates;
//! - `prestazione` (or `prestazione_da_erogare`): the benefit code `A1.07`…
//!   (default [`IseeBatchSpec::prestazione`]);
//! - `protocollo_domanda`: the ente's application number;
//! - `protocollo_dsu`: the DSU protocol, required by the Riscontro
//!   services (then the lookup is by DSU protocol and beneficiary);
//! - `stato_domanda`: `Da Erogare` or `Erogata`.
//!
//! A row whose fields are not valid is `invalid_input` with the field's
//! stable error code, and is never sent. Identical questions are asked once.
//!
//! # Output columns
//!
//! `riga` (the input line), `codice_fiscale` (as written), `esito` (in
//! Italian: `ISEE trovata`, `nessuna ISEE`, `rifiutata da INPS`, `riga non
//! valida`, `errore`; the stable code is in `codice_esito`), `motivo` (the
//! error code, or INPS's `Esito` for refusals), `isee` (euro, comma
//! decimals: `12345,67`), `tipo_isee`, `protocollo_dsu`,
//! `data_presentazione`, `valida_fino_al` (31 December of the DSU's year;
//! for an ISEE corrente six months from its modulo sostitutivo, when
//! earlier), `valida_alla_data` (`si`/`no`: valid on the row's date),
//! `componenti_nucleo`, `omissioni_difformita` (`si`/`no`, attestazioni
//! only), `bonus_nido_max_annuo` (the derived example column: the yearly
//! maximum of the bonus asilo nido, from the ISEE minorenni when the answer
//! has one, the lowest band otherwise; empty unless the row's person is a
//! child under three on the row's date, the birth date read from the
//! codice fiscale), `id_richiesta` (INPS's request id), `servizio` (the
//! e-service, as `--service` takes it), `codice_esito` (`found`, `no_isee`,
//! `refused`, `invalid_input`, `error`: stable, for programs).
//!
//! The journal keeps only these output fields of each answer (never the
//! household's names or the whole document). It holds economic data of
//! people: keep it, like the output, where only the office may read it.
//!
//! ```no_run
//! # async fn demo<S: anist_client::isee::IseeLookup>(svc: &S) -> Result<(), anist_client::bulk::BulkError> {
//! use anist_client::bulk::isee::{IseeBatch, IseeBatchSpec};
//! use anist_client::bulk::JobOutcome;
//! use anist_core::isee::IseeService;
//! let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
//! let spec = IseeBatchSpec::new("domande.csv", "esiti.csv", "domande.journal",
//!     IseeService::IndicatoreResidenti, today);
//! match IseeBatch::new(spec).run(svc, None, |p| eprintln!("{}/{}", p.rows_done, p.rows_total)).await? {
//!     JobOutcome::Completed(s) => println!("{} found", s.outcomes.found),
//!     JobOutcome::Paused { reason, .. } => println!("paused: {reason}; run again later"),
//! }
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anist_core::isee::{IseeKind, IseeService, PrestazioneDaErogare, RowOutcome};
use chrono::NaiveDate;
use serde::Serialize;

use super::engine::{bump, pump, AskTask, Asked, Counts, Pause, Retrier, Tracker};
use super::{BulkError, JobOptions, JobOutcome, Progress};
use crate::audit::{AuditError, AuditLog};
use crate::isee::{session_name, IseeLookup, IseeQuery};
use journal::{
    answer_outcome, attestazione_fields, indicatore_fields, stored, Journal, Question, Stored,
};
use output::write_output;
pub use output::{esito_it, COLUMNS};

mod journal;
mod output;

/// What an ISEE batch works on, and how.
#[derive(Debug, Clone)]
pub struct IseeBatchSpec {
    /// The CSV of applications.
    pub input: PathBuf,
    /// Where the output CSV is written (replaced at the end).
    pub output: PathBuf,
    /// The journal (created if missing, resumed otherwise).
    pub journal: PathBuf,
    /// The INPS e-service asked.
    pub service: IseeService,
    /// The date the ISEE must be valid on, for rows without `data_validita`.
    pub valid_on: NaiveDate,
    /// The benefit, for rows without `prestazione`.
    pub prestazione: Option<PrestazioneDaErogare>,
    /// `TipoIndicatore` asked of the Indicatore services (default ordinario).
    pub kind: IseeKind,
    /// The codice fiscale column, by header name or alias; `None` finds it
    /// through the built-in aliases.
    pub cf_column: Option<String>,
    /// Operational options (concurrency, retries, audit identity; they may
    /// change when resuming). `use_massive` and `batch_size` do not apply.
    pub options: JobOptions,
}

impl IseeBatchSpec {
    /// A batch with the default options.
    pub fn new(
        input: impl Into<PathBuf>,
        output: impl Into<PathBuf>,
        journal: impl Into<PathBuf>,
        service: IseeService,
        valid_on: NaiveDate,
    ) -> Self {
        Self {
            input: input.into(),
            output: output.into(),
            journal: journal.into(),
            service,
            valid_on,
            prestazione: None,
            kind: IseeKind::Ordinario,
            cf_column: None,
            options: JobOptions::default(),
        }
    }
}

/// Rows per outcome of an ISEE batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IseeCounts {
    /// `found`: INPS answered with the ISEE.
    pub found: u64,
    /// `no_isee`: INPS has no ISEE for the question.
    pub no_isee: u64,
    /// `refused`: INPS refused the question (`RICHIESTA_INVALIDA`,
    /// `RISCONTRO_NON_VALIDO`) or the ente may not use the service.
    pub refused: u64,
    /// `invalid_input`: the row cannot be asked.
    pub invalid_input: u64,
    /// `error`: no answer after the retries.
    pub error: u64,
}

impl Counts for IseeCounts {
    fn add(&mut self, esito: &str, n: u64) {
        let slot = match RowOutcome::from_code(esito) {
            RowOutcome::Found => &mut self.found,
            RowOutcome::NoIsee => &mut self.no_isee,
            RowOutcome::Refused => &mut self.refused,
            RowOutcome::InvalidInput => &mut self.invalid_input,
            RowOutcome::Error => &mut self.error,
        };
        *slot += n;
    }

    fn total(&self) -> u64 {
        self.found + self.no_isee + self.refused + self.invalid_input + self.error
    }
}

/// What an ISEE batch did. `Serialize` for a JSON summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IseeSummary {
    /// Rows in the input.
    pub rows_total: u64,
    /// Rows with their final outcome.
    pub rows_done: u64,
    /// Distinct questions (each asked once).
    pub distinct_questions: u64,
    /// Rows per outcome.
    pub outcomes: IseeCounts,
    /// Calls made by this run (retries included).
    pub calls: u64,
    /// Retries made by this run.
    pub retries: u64,
    /// Duration of this run, in seconds.
    pub duration_seconds: f64,
    /// Rows of [`IseeCounts::error`] whose failure was transient (the
    /// network, a timeout, a 5xx, the token refused, INPS's database
    /// offline…): running the batch again on its journal (which is then
    /// kept) asks them again.
    pub retry_rows: u64,
}

/// A resumable ISEE batch. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct IseeBatch {
    spec: IseeBatchSpec,
}

async fn ask<S: IseeLookup>(
    r: &Retrier<'_>,
    calls: &AtomicU64,
    svc: &S,
    service: IseeService,
    id: i64,
    query: IseeQuery,
) -> Result<Asked<Stored>, AuditError> {
    let eservice = session_name(service);
    let person = *query.person();
    let subject = Some(person.as_str());
    let (stored, quota) = if service.returns_attestazione() {
        let res = r
            .retrying(
                || {
                    bump(calls);
                    svc.attestazione(service, &query)
                },
                |res| r.record_result(eservice, "attestazione", subject, None, res, answer_outcome),
            )
            .await?;
        (
            stored(&res, |a| attestazione_fields(a, &person)),
            Pause::of_result(&res),
        )
    } else {
        let res = r
            .retrying(
                || {
                    bump(calls);
                    svc.indicatore(service, &query)
                },
                |res| r.record_result(eservice, "indicatore", subject, None, res, answer_outcome),
            )
            .await?;
        (stored(&res, indicatore_fields), Pause::of_result(&res))
    };
    Ok(match quota {
        Some(p) => Asked::Quota(p),
        None => Asked::Answer(id, stored),
    })
}

impl IseeBatch {
    /// A batch. Nothing is read or written until [`run`](Self::run).
    pub fn new(spec: IseeBatchSpec) -> Self {
        Self { spec }
    }

    /// The batch's specification.
    pub fn spec(&self) -> &IseeBatchSpec {
        &self.spec
    }

    /// Runs the batch, or resumes it when its journal exists (a journal
    /// made for other input bytes, another service, date, prestazione, kind
    /// or column is refused with `bulk_journal_mismatch`), asks what is
    /// not yet answered, concurrently, and writes the output. An exhausted
    /// quota pauses it ([`JobOutcome::Paused`]): run it again later.
    ///
    /// Every call is recorded in `audit` when given. `progress` is called
    /// at most every [`JobOptions::progress_interval`] and once at the end.
    ///
    /// # Errors
    /// [`BulkError`] when the input, the journal, the output or the audit
    /// trail cannot be used; a failed question is an `error` row, not an
    /// `Err`.
    pub async fn run<S, P>(
        &self,
        svc: &S,
        audit: Option<&AuditLog>,
        progress: P,
    ) -> Result<JobOutcome<IseeSummary>, BulkError>
    where
        S: IseeLookup,
        P: Fn(&Progress<IseeCounts>) + Send + Sync,
    {
        let spec = &self.spec;
        let start = Instant::now();
        super::check_output_dir(&spec.output)?;
        let mut journal = super::fresh_or_removed(&spec.journal, || {
            let mut journal = Journal::open(spec)?;
            if !journal.is_ingested()? {
                journal.read_input(spec)?;
            }
            Ok(journal)
        })?;
        // What failed for a transient reason is asked again.
        journal.transient_failures(true)?;
        let (total, distinct) = journal.totals()?;
        let counts = journal.done_counts()?;
        let mut tracker = Tracker::new(&progress, spec.options.progress_interval, total, counts);
        tracker.start = start;
        tracker.tick(false);
        let retrier = Retrier::new(&spec.options, audit, svc.clock());
        let calls = AtomicU64::new(0);
        let pause = pump(
            &mut journal,
            spec.options.concurrency,
            Journal::pending,
            |id, q: Question| {
                let query = q.query(&spec.kind)?;
                Ok(
                    Box::pin(ask(&retrier, &calls, svc, spec.service, id, query))
                        as AskTask<'_, Stored>,
                )
            },
            // Committed before it is counted.
            |j, id, answer| {
                let (outcome, rows) = j.store(id, &answer)?;
                tracker.finished(outcome.as_str(), rows);
                Ok(())
            },
        )
        .await?;
        let summary = |tracker: &Tracker<'_, IseeCounts, P>, outcomes: IseeCounts| IseeSummary {
            rows_total: total,
            rows_done: outcomes.total(),
            distinct_questions: distinct,
            outcomes,
            calls: calls.load(Ordering::Relaxed),
            retries: retrier.retries.load(Ordering::Relaxed),
            duration_seconds: tracker.start.elapsed().as_secs_f64(),
            retry_rows: 0,
        };
        if let Some(p) = pause {
            tracker.tick(true);
            return Ok(JobOutcome::Paused {
                reason: p.reason,
                code: p.code,
                summary: summary(&tracker, tracker.counts),
            });
        }
        let outcomes = write_output(&journal, &spec.output, spec.service, spec.valid_on)?;
        let retry_rows = journal.transient_failures(false)?;
        tracker.counts = outcomes;
        tracker.done = outcomes.total();
        tracker.tick(true);
        let done = IseeSummary {
            retry_rows,
            ..summary(&tracker, outcomes)
        };
        drop(journal);
        super::retire_journal(&spec.journal, spec.options.keep_journal, retry_rows)?;
        Ok(JobOutcome::Completed(done))
    }
}
