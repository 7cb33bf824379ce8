//! The shared job store: jobs, their rows and their questions, claimed in
//! batches with leases, answered once; the one set of rules of both
//! backends ([`super::sql`]).

use std::time::Duration;

use super::sql::{damaged, Backend, Tx, Value};
use crate::bulk::attendance::journal::{decide_journaled, Step};
use crate::bulk::attendance::OutcomeCounts;
use crate::bulk::journal::{Finished, OutputRow, Pending};
use crate::bulk::BulkError;

/// The schema, one step per version (never edited once released: a change
/// is a new step).
pub(crate) const SCHEMA: &[&str] = &[
    "
CREATE TABLE IF NOT EXISTS bulk_jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    school_year TEXT NOT NULL,
    id_anpr BIGINT NOT NULL,
    output TEXT NOT NULL,
    operator TEXT NOT NULL,
    state TEXT NOT NULL,
    rows_total BIGINT NOT NULL,
    questions_total BIGINT NOT NULL,
    submitted_ms BIGINT NOT NULL,
    finished_ms BIGINT,
    writer TEXT,
    writer_until BIGINT,
    outcomes TEXT
);
CREATE TABLE IF NOT EXISTS bulk_rows (
    job BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    line BIGINT NOT NULL,
    given TEXT NOT NULL,
    question BIGINT,
    esito TEXT,
    motivo TEXT,
    note TEXT,
    PRIMARY KEY (job, seq)
);
CREATE TABLE IF NOT EXISTS bulk_questions (
    job BIGINT NOT NULL,
    id BIGINT NOT NULL,
    key TEXT NOT NULL,
    rows_count BIGINT NOT NULL,
    verify TEXT,
    need_asc BIGINT NOT NULL DEFAULT 0,
    asc_cur TEXT,
    asc_prev TEXT,
    final_esito TEXT,
    lease_owner TEXT,
    lease_until BIGINT,
    PRIMARY KEY (job, id)
);
CREATE TABLE IF NOT EXISTS bulk_budget (
    eservice TEXT PRIMARY KEY,
    tat_us BIGINT NOT NULL,
    day BIGINT NOT NULL,
    used BIGINT NOT NULL
);
",
    "
-- The questions still to decide, in id order: a claim reads only these,
-- from its cursor, and stops at its batch (not every question of the job).
CREATE INDEX IF NOT EXISTS bulk_questions_pending ON bulk_questions (job, id)
    WHERE final_esito IS NULL;
",
    "
-- The rounds a question went back to the pool after its calls failed for a
-- transient reason to the last attempt (SharedJobs::work: asked again later,
-- by any worker, up to a few rounds, before the failure is its answer).
ALTER TABLE bulk_questions ADD COLUMN rounds BIGINT NOT NULL DEFAULT 0;
",
];

/// One input row of a job, as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SharedRow {
    pub(crate) line: u64,
    pub(crate) given: String,
    /// The question's key (a normalised code), for a row to ask.
    pub(crate) key: Option<String>,
    pub(crate) esito: Option<String>,
    pub(crate) motivo: Option<String>,
    pub(crate) note: Option<String>,
}

/// What a job is, as submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewJob {
    pub(crate) school_year: String,
    pub(crate) id_anpr: bool,
    pub(crate) output: String,
    pub(crate) operator: String,
}

/// A job as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobRecord {
    pub(crate) id: i64,
    pub(crate) school_year: String,
    pub(crate) id_anpr: bool,
    pub(crate) output: String,
    pub(crate) operator: String,
    pub(crate) state: String,
    pub(crate) rows_total: u64,
    pub(crate) questions_total: u64,
    pub(crate) submitted_ms: i64,
    pub(crate) finished_ms: Option<i64>,
    /// The counts per outcome (JSON), once done.
    pub(crate) outcomes: Option<String>,
}

/// How a reservation of the shared rate budget went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reservation {
    /// Send the call after this wait.
    After(Duration),
    /// The daily quota of the e-service is spent.
    QuotaSpent,
}

/// How a cancellation went ([`JobStore::cancel`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// The job was running and is now cancelled.
    Cancelled,
    /// The job is in this state (`writing`, `done`, `cancelled`): left
    /// as it is.
    NotRunning(String),
    /// There is no such job.
    NoSuchJob,
}

/// Rows inserted per statement at submission.
const INSERT_BATCH: usize = 500;

/// Rows read per statement for the output.
const OUTPUT_PAGE: i64 = 10_000;

fn u(v: i64) -> u64 {
    v.unsigned_abs()
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The store of shared jobs on a backend.
pub(crate) struct JobStore {
    db: Box<dyn Backend>,
    /// The e-services whose budget row exists.
    budgets: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl JobStore {
    /// The store on `db`, its schema created or upgraded.
    pub(crate) fn open(db: Box<dyn Backend>) -> Result<Self, BulkError> {
        db.migrate(SCHEMA)?;
        Ok(Self {
            db,
            budgets: Default::default(),
        })
    }

    /// The backend's name.
    pub(crate) fn backend(&self) -> &'static str {
        self.db.name()
    }

    /// The backend itself, for the tests' own statements.
    #[cfg(test)]
    pub(crate) fn db(&self) -> &dyn Backend {
        self.db.as_ref()
    }

    fn tx<R>(
        &self,
        mut work: impl FnMut(&mut dyn Tx) -> Result<R, BulkError>,
    ) -> Result<R, BulkError> {
        let mut out = None;
        self.db.transaction(&mut |tx| {
            out = Some(work(tx)?);
            Ok(())
        })?;
        out.ok_or_else(|| damaged("a transaction gave no result"))
    }

    /// Records a job with its rows (in input order) and one question per
    /// distinct key; its id. One transaction: a job is there whole or not
    /// at all.
    pub(crate) fn create_job(&self, job: &NewJob, rows: &[SharedRow]) -> Result<i64, BulkError> {
        // Questions numbered 1.. in order of first appearance.
        let mut ids: std::collections::HashMap<&str, (i64, i64)> = Default::default();
        let mut order: Vec<&str> = Vec::new();
        for r in rows {
            if let Some(k) = r.key.as_deref() {
                let next = ids.len() as i64 + 1;
                let e = ids.entry(k).or_insert_with(|| {
                    order.push(k);
                    (next, 0)
                });
                e.1 += 1;
            }
        }
        let job_id = self.tx(|tx| {
            let found = tx.query(
                "INSERT INTO bulk_jobs(kind, school_year, id_anpr, output, operator, state, \
                 rows_total, questions_total, submitted_ms) \
                 VALUES ('caivano', $1, $2, $3, $4, 'running', $5, $6, {now_ms}) RETURNING id",
                &[
                    job.school_year.as_str().into(),
                    i64::from(job.id_anpr).into(),
                    job.output.as_str().into(),
                    job.operator.as_str().into(),
                    (rows.len() as i64).into(),
                    (order.len() as i64).into(),
                ],
            )?;
            let id = found
                .first()
                .and_then(|r| r.first())
                .ok_or_else(|| damaged("no job id"))?
                .int()?;
            for (n, chunk) in rows.chunks(INSERT_BATCH).enumerate() {
                let mut sql = String::from(
                    "INSERT INTO bulk_rows(job, seq, line, given, question, esito, motivo, note) VALUES ",
                );
                let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * 8);
                for (k, r) in chunk.iter().enumerate() {
                    let b = params.len();
                    if k > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!(
                        "(${},${},${},${},${},${},${},${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6,
                        b + 7,
                        b + 8
                    ));
                    let seq = (n * INSERT_BATCH + k + 1) as i64;
                    let question = r.key.as_deref().and_then(|key| ids.get(key)).map(|q| q.0);
                    params.extend([
                        id.into(),
                        seq.into(),
                        i(r.line).into(),
                        r.given.as_str().into(),
                        question.into(),
                        r.esito.as_deref().into(),
                        r.motivo.as_deref().into(),
                        r.note.as_deref().into(),
                    ]);
                }
                tx.exec(&sql, &params)?;
            }
            for chunk in order.chunks(INSERT_BATCH) {
                let mut sql =
                    String::from("INSERT INTO bulk_questions(job, id, key, rows_count) VALUES ");
                let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * 4);
                for (k, key) in chunk.iter().enumerate() {
                    let b = params.len();
                    if k > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("(${},${},${},${})", b + 1, b + 2, b + 3, b + 4));
                    let (qid, count) = ids.get(key).copied().unwrap_or_default();
                    params.extend([id.into(), qid.into(), (*key).into(), count.into()]);
                }
                tx.exec(&sql, &params)?;
            }
            Ok(id)
        })?;
        // The planner's figures for the new rows: without them a claim
        // may sort every question of the job at each batch.
        self.db.one("ANALYZE bulk_questions", &[])?;
        Ok(job_id)
    }

    fn job_from(row: Vec<Value>) -> Result<JobRecord, BulkError> {
        let mut it = row.into_iter();
        let mut next = || it.next().ok_or_else(|| damaged("a job row is short"));
        Ok(JobRecord {
            id: next()?.int()?,
            school_year: next()?.text()?,
            id_anpr: next()?.int()? != 0,
            output: next()?.text()?,
            operator: next()?.text()?,
            state: next()?.text()?,
            rows_total: u(next()?.int()?),
            questions_total: u(next()?.int()?),
            submitted_ms: next()?.int()?,
            finished_ms: next()?.opt_int(),
            outcomes: next()?.opt_text(),
        })
    }

    const JOB_COLUMNS: &'static str = "id, school_year, id_anpr, output, operator, state, \
         rows_total, questions_total, submitted_ms, finished_ms, outcomes";

    /// The job `id`.
    pub(crate) fn job(&self, id: i64) -> Result<Option<JobRecord>, BulkError> {
        let rows = self.db.one(
            &format!("SELECT {} FROM bulk_jobs WHERE id = $1", Self::JOB_COLUMNS),
            &[id.into()],
        )?;
        rows.into_iter().next().map(Self::job_from).transpose()
    }

    /// Every job, oldest first.
    pub(crate) fn jobs(&self) -> Result<Vec<JobRecord>, BulkError> {
        let rows = self.db.one(
            &format!("SELECT {} FROM bulk_jobs ORDER BY id", Self::JOB_COLUMNS),
            &[],
        )?;
        rows.into_iter().map(Self::job_from).collect()
    }

    /// Claims up to `limit` questions of `job` needing `step`, with ids
    /// above `after`, for `worker` until `lease` from now: those nobody
    /// holds or whose lease expired (a worker that died). Ids ascending.
    pub(crate) fn claim(
        &self,
        job: i64,
        step: Step,
        worker: &str,
        after: i64,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Pending>, BulkError> {
        let sql = format!(
            "UPDATE bulk_questions SET lease_owner = $3, lease_until = {{now_ms}} + $4 \
             WHERE job = $1 AND id IN (\
               SELECT id FROM bulk_questions WHERE job = $1 AND id > $2 \
               AND final_esito IS NULL AND ({}) \
               AND (lease_until IS NULL OR lease_until < {{now_ms}} OR lease_owner = $3) \
               ORDER BY id LIMIT $5 {{skip_locked}}) \
             RETURNING id, key",
            step.pending_condition()
        );
        let rows = self.db.one(
            &sql,
            &[
                job.into(),
                after.into(),
                worker.into(),
                ms(lease).into(),
                (limit as i64).into(),
            ],
        )?;
        let mut out = rows
            .into_iter()
            .map(|r| {
                let mut it = r.into_iter();
                let id = it.next().ok_or_else(|| damaged("short claim"))?.int()?;
                let key = it.next().ok_or_else(|| damaged("short claim"))?.text()?;
                Ok(Pending { id, key })
            })
            .collect::<Result<Vec<_>, BulkError>>()?;
        out.sort_by_key(|p| p.id);
        Ok(out)
    }

    /// Records the answer `json` of `step` for question `question` of
    /// `job` if it has none yet (a late duplicate of another worker never
    /// overwrites it), and its outcome when it became final (once).
    pub(crate) fn store(
        &self,
        job: i64,
        question: i64,
        step: Step,
        json: &str,
    ) -> Result<Option<Finished>, BulkError> {
        let column = step.column();
        // One transaction: the answer if there is none yet (the row stays
        // locked until the commit, so another worker's answer to another
        // step waits and then sees this one), then what it decides. A
        // worker killed in between leaves nothing half done: an answer
        // whose consequences were never written would leave the question
        // claimable by no step, and the job unfinished for ever.
        self.tx(|tx| {
            let found = tx.query(
                &format!(
                    "UPDATE bulk_questions SET {column} = COALESCE({column}, $3) \
                     WHERE job = $1 AND id = $2 \
                     RETURNING verify, asc_cur, asc_prev, final_esito"
                ),
                &[job.into(), question.into(), json.into()],
            )?;
            // No such question: the job was finished (and its questions
            // forgotten) while this answer, a late duplicate, was on its way.
            let Some(found) = found.into_iter().next() else {
                return Ok(None);
            };
            let mut it = found.into_iter();
            let mut next = || it.next().map(Value::opt_text).unwrap_or_default();
            let (verify, cur, prev, already) = (next(), next(), next(), next());
            if already.is_some() {
                return Ok(None);
            }
            let decision = decide_journaled(verify.as_deref(), cur.as_deref(), prev.as_deref())?;
            if decision.need_ascertain {
                tx.exec(
                    "UPDATE bulk_questions SET need_asc = 1 WHERE job = $1 AND id = $2 AND need_asc = 0",
                    &[job.into(), question.into()],
                )?;
            }
            let Some(outcome) = decision.outcome else {
                return Ok(None);
            };
            let esito = outcome.as_str();
            let rows = tx.query(
                "UPDATE bulk_questions SET final_esito = $3, lease_owner = NULL, lease_until = NULL \
                 WHERE job = $1 AND id = $2 AND final_esito IS NULL RETURNING rows_count",
                &[job.into(), question.into(), esito.into()],
            )?;
            Ok(match rows.into_iter().next() {
                Some(r) => Some((
                    esito.to_owned(),
                    u(r.first().ok_or_else(|| damaged("short update"))?.int()?),
                )),
                None => None,
            })
        })
    }

    /// Gives question `question` of `job` back to the pool for `step`,
    /// to be claimed by any worker after `delay`, when its calls failed
    /// for a transient reason and fewer than `rounds` rounds went so;
    /// whether it did. `false` (the failure is then the answer): the
    /// rounds are spent, or the step was answered meanwhile, or the
    /// question is final.
    pub(crate) fn defer(
        &self,
        job: i64,
        question: i64,
        step: Step,
        delay: Duration,
        rounds: u32,
    ) -> Result<bool, BulkError> {
        let rows = self.db.one(
            &format!(
                "UPDATE bulk_questions SET rounds = rounds + 1, lease_owner = NULL, \
                 lease_until = {{now_ms}} + $3 \
                 WHERE job = $1 AND id = $2 AND final_esito IS NULL AND {} IS NULL \
                 AND rounds < $4 RETURNING id",
                step.column()
            ),
            &[
                job.into(),
                question.into(),
                ms(delay).into(),
                i64::from(rounds).into(),
            ],
        )?;
        Ok(!rows.is_empty())
    }

    /// Questions of `job` without their final outcome.
    pub(crate) fn remaining(&self, job: i64) -> Result<u64, BulkError> {
        let rows = self.db.one(
            "SELECT COUNT(*) FROM bulk_questions WHERE job = $1 AND final_esito IS NULL",
            &[job.into()],
        )?;
        Ok(u(rows
            .first()
            .and_then(|r| r.first())
            .ok_or_else(|| damaged("no count"))?
            .int()?))
    }

    /// Whether `job` still has its rows (they are forgotten once its
    /// output is written, unless kept).
    pub(crate) fn has_rows(&self, job: i64) -> Result<bool, BulkError> {
        let rows = self.db.one(
            "SELECT seq FROM bulk_rows WHERE job = $1 LIMIT 1",
            &[job.into()],
        )?;
        Ok(!rows.is_empty())
    }

    /// Rows of `job` per final outcome so far: (outcome, rows).
    const COUNTS: &'static str = "SELECT esito, COUNT(*) FROM bulk_rows \
         WHERE job = $1 AND esito IS NOT NULL GROUP BY esito \
         UNION ALL \
         SELECT final_esito, CAST(SUM(rows_count) AS BIGINT) FROM bulk_questions \
         WHERE job = $1 AND final_esito IS NOT NULL GROUP BY final_esito";

    /// Final outcomes of `job` so far.
    pub(crate) fn done_counts(&self, job: i64) -> Result<OutcomeCounts, BulkError> {
        Self::counts_of(self.db.one(Self::COUNTS, &[job.into()])?)
    }

    fn counts_of(rows: Vec<Vec<Value>>) -> Result<OutcomeCounts, BulkError> {
        let mut counts = OutcomeCounts::default();
        for r in rows {
            let mut it = r.into_iter();
            let esito = it.next().ok_or_else(|| damaged("short count"))?.text()?;
            let n = it.next().and_then(|v| v.opt_int()).map_or(0, u);
            counts.add(&esito, n);
        }
        Ok(counts)
    }

    /// Every row of `job` in input order with its question's answers.
    pub(crate) fn for_each_row(
        &self,
        job: i64,
        each: &mut dyn FnMut(OutputRow) -> Result<(), BulkError>,
    ) -> Result<(), BulkError> {
        let mut after = 0i64;
        loop {
            let page = self.db.one(
                "SELECT r.seq, r.line, r.given, r.esito, r.motivo, r.note, \
                 q.key, q.verify, q.asc_cur, q.asc_prev \
                 FROM bulk_rows r LEFT JOIN bulk_questions q ON q.job = r.job AND q.id = r.question \
                 WHERE r.job = $1 AND r.seq > $2 ORDER BY r.seq LIMIT $3",
                &[job.into(), after.into(), OUTPUT_PAGE.into()],
            )?;
            if page.is_empty() {
                return Ok(());
            }
            for r in page {
                let mut it = r.into_iter();
                let mut next = || it.next().ok_or_else(|| damaged("a short row"));
                after = next()?.int()?;
                let line = u(next()?.int()?);
                let given = next()?.text()?;
                let esito = next()?.opt_text();
                let motivo = next()?.opt_text();
                let note = next()?.opt_text();
                let key = next()?.opt_text();
                let answers = vec![next()?.opt_text(), next()?.opt_text(), next()?.opt_text()];
                each(OutputRow {
                    line,
                    given,
                    esito,
                    motivo,
                    note,
                    key,
                    answers,
                })?;
            }
        }
    }

    /// Takes the writing of `job`'s output for `worker` (for `lease`): the
    /// job is running (or its writer's lease expired); `false` when
    /// another worker has it or it is done.
    pub(crate) fn take_output(
        &self,
        job: i64,
        worker: &str,
        lease: Duration,
    ) -> Result<bool, BulkError> {
        let taken = self.db.one(
            "UPDATE bulk_jobs SET state = 'writing', writer = $2, writer_until = {now_ms} + $3 \
             WHERE id = $1 AND (state = 'running' OR (state = 'writing' AND writer_until < {now_ms})) \
             RETURNING id",
            &[job.into(), worker.into(), ms(lease).into()],
        )?;
        Ok(taken.len() == 1)
    }

    /// Marks `job` done with its `outcomes` (JSON) once `worker` wrote the
    /// output, and forgets its rows and questions (the codes asked) unless
    /// `keep`; `false` when `worker` no longer held the writing.
    pub(crate) fn finish(
        &self,
        job: i64,
        worker: &str,
        outcomes: &str,
        keep: bool,
    ) -> Result<bool, BulkError> {
        self.tx(|tx| {
            let n = tx.exec(
                "UPDATE bulk_jobs SET state = 'done', finished_ms = {now_ms}, outcomes = $3, \
                 writer = NULL, writer_until = NULL \
                 WHERE id = $1 AND state = 'writing' AND writer = $2",
                &[job.into(), worker.into(), outcomes.into()],
            )?;
            if n == 1 && !keep {
                tx.exec("DELETE FROM bulk_rows WHERE job = $1", &[job.into()])?;
                tx.exec("DELETE FROM bulk_questions WHERE job = $1", &[job.into()])?;
            }
            Ok(n == 1)
        })
    }

    /// Cancels `job` if it is running: marks it `cancelled` with the
    /// counts of the rows decided so far, and forgets its rows and
    /// questions (the codes asked), in one transaction. A worker's late
    /// answer then finds no question and changes nothing, and no worker
    /// takes its output (that needs a running job).
    pub(crate) fn cancel(&self, job: i64) -> Result<Cancel, BulkError> {
        self.tx(|tx| {
            let found = tx.query(
                "UPDATE bulk_jobs SET state = 'cancelled', finished_ms = {now_ms} \
                 WHERE id = $1 AND state = 'running' RETURNING id",
                &[job.into()],
            )?;
            if found.is_empty() {
                let state = tx.query("SELECT state FROM bulk_jobs WHERE id = $1", &[job.into()])?;
                return Ok(
                    match state.into_iter().next().and_then(|r| r.into_iter().next()) {
                        Some(state) => Cancel::NotRunning(state.text()?),
                        None => Cancel::NoSuchJob,
                    },
                );
            }
            let counts = Self::counts_of(tx.query(Self::COUNTS, &[job.into()])?)?;
            tx.exec(
                "UPDATE bulk_jobs SET outcomes = $2 WHERE id = $1",
                &[
                    job.into(),
                    crate::bulk::journal::encode(&counts)?.as_str().into(),
                ],
            )?;
            tx.exec("DELETE FROM bulk_rows WHERE job = $1", &[job.into()])?;
            tx.exec("DELETE FROM bulk_questions WHERE job = $1", &[job.into()])?;
            Ok(Cancel::Cancelled)
        })
    }

    /// Reserves one call on `eservice` in the shared budget of `per_second`
    /// calls (evenly paced: GCRA with a burst of one) and `daily` calls a
    /// day (UTC): how long to wait before sending it. One statement, so
    /// concurrent workers on any host get distinct slots.
    pub(crate) fn reserve(
        &self,
        eservice: &str,
        per_second: f64,
        daily: u64,
    ) -> Result<Reservation, BulkError> {
        let interval_us = if per_second > 0.0 {
            (1_000_000.0 / per_second).round().max(1.0) as i64
        } else {
            0
        };
        let known = self
            .budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(eservice);
        if !known {
            self.db.one(
                "INSERT INTO bulk_budget(eservice, tat_us, day, used) VALUES ($1, 0, 0, 0) \
                 ON CONFLICT (eservice) DO NOTHING RETURNING eservice",
                &[eservice.into()],
            )?;
            self.budgets
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(eservice.to_owned());
        }
        let rows = self.db.one(
            "UPDATE bulk_budget SET \
               used = CASE WHEN day = {now_us} / 86400000000 THEN used + 1 ELSE 1 END, \
               day = {now_us} / 86400000000, \
               tat_us = (CASE WHEN tat_us > {now_us} THEN tat_us ELSE {now_us} END) \
                 + CAST($2 AS BIGINT) \
             WHERE eservice = $1 \
               AND (day <> {now_us} / 86400000000 OR used < CAST($3 AS BIGINT)) \
             RETURNING tat_us - CAST($2 AS BIGINT) - {now_us}",
            &[eservice.into(), interval_us.into(), i(daily).into()],
        )?;
        Ok(match rows.into_iter().next() {
            Some(r) => {
                let wait = r.first().ok_or_else(|| damaged("short budget"))?.int()?;
                Reservation::After(Duration::from_micros(wait.max(0).unsigned_abs()))
            }
            None => Reservation::QuotaSpent,
        })
    }
}
