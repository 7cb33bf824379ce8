//! The job's journal: one SQLite file (WAL) holding the job's parameters,
//! every input row, every distinct code with each answer received, and the
//! massive jobs submitted. Every state change is one transaction, committed
//! before the job counts it.

use std::path::Path;

use anist_core::anpr::{IdAnpr, ID_ANPR_LEN};
use anist_core::attendance::{decide_row, Frequenza, Lookup, RowDecision, Verifica};
use anist_core::cf::CodiceFiscale;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

use super::{BulkError, OutcomeCounts};
use crate::anist::Subject;

/// Whom an input row asks about: a codice fiscale or an ID ANPR,
/// journaled as its normalised text ([`Self::as_str`]: 16 or 9
/// characters, so the two never collide) and read back by [`Self::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AskKey {
    /// By codice fiscale.
    Cf(CodiceFiscale),
    /// By ID ANPR (no birth date: the obligation is not decided locally).
    Id(IdAnpr),
}

impl AskKey {
    /// The journaled text.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            AskKey::Cf(cf) => cf.as_str(),
            AskKey::Id(id) => id.as_str(),
        }
    }

    /// Reads a journaled text back.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        if text.len() == ID_ANPR_LEN {
            IdAnpr::parse(text).ok().map(AskKey::Id)
        } else {
            CodiceFiscale::parse(text).ok().map(AskKey::Cf)
        }
    }

    /// The ANIST subject.
    pub(crate) fn subject(self) -> Subject {
        match self {
            AskKey::Cf(cf) => Subject::CodiceFiscale(cf),
            AskKey::Id(id) => Subject::IdAnpr(id),
        }
    }
}

/// One input row as journaled: either decided locally (`esito` set) or to
/// be asked about (`ask` set).
#[derive(Debug, Clone)]
pub(crate) struct LocalRow {
    pub(crate) line: u64,
    pub(crate) given: String,
    pub(crate) ask: Option<AskKey>,
    pub(crate) esito: Option<&'static str>,
    pub(crate) motivo: Option<String>,
    pub(crate) obbligo: Option<&'static str>,
}

/// Bumped when the schema changes incompatibly.
const FORMAT: &str = "anist-bulk-journal-1";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    seq INTEGER PRIMARY KEY,
    line INTEGER NOT NULL,
    given TEXT NOT NULL,
    subject INTEGER,
    esito TEXT,
    motivo TEXT,
    obbligo TEXT
);
CREATE TABLE IF NOT EXISTS subjects (
    id INTEGER PRIMARY KEY,
    cf TEXT NOT NULL UNIQUE,
    rows_count INTEGER NOT NULL DEFAULT 0,
    verify TEXT,
    need_asc INTEGER NOT NULL DEFAULT 0,
    asc_cur TEXT,
    asc_prev TEXT,
    final_esito TEXT
);
CREATE TABLE IF NOT EXISTS massive (
    id INTEGER PRIMARY KEY,
    step TEXT NOT NULL,
    job_id TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS massive_members (
    job INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    subject INTEGER NOT NULL,
    PRIMARY KEY (job, pos)
);
";

/// Which answer of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Verification, the job's year.
    Verify,
    /// Ascertainment, the job's year.
    AscCurrent,
    /// Ascertainment, the previous year.
    AscPrevious,
}

impl Step {
    fn column(self) -> &'static str {
        match self {
            Step::Verify => "verify",
            Step::AscCurrent => "asc_cur",
            Step::AscPrevious => "asc_prev",
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        self.column()
    }

    /// The operation's name in the audit trail.
    pub(crate) fn operation(self) -> &'static str {
        match self {
            Step::Verify => "verify",
            Step::AscCurrent => "ascertain_current_year",
            Step::AscPrevious => "ascertain_previous_year",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "verify" => Some(Step::Verify),
            "asc_cur" => Some(Step::AscCurrent),
            "asc_prev" => Some(Step::AscPrevious),
            _ => None,
        }
    }

    /// Subjects that still need this step.
    fn pending_condition(self) -> &'static str {
        match self {
            Step::Verify => "verify IS NULL",
            Step::AscCurrent => "need_asc = 1 AND asc_cur IS NULL",
            Step::AscPrevious => "need_asc = 1 AND asc_prev IS NULL",
        }
    }
}

/// An answer as journaled (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Stored<T> {
    Found(T),
    NotFound,
    Failed { code: String, message: String },
}

/// [`decide_row`] of the journaled answers of a code (the rule itself is
/// anist-core's, next to `compliance_outcome`).
pub(crate) fn decide(
    verify: Option<Stored<Verifica>>,
    cur: Option<Stored<Frequenza>>,
    prev: Option<Stored<Frequenza>>,
) -> RowDecision {
    decide_row(
        verify.map(Stored::into_lookup),
        cur.map(Stored::into_lookup),
        prev.map(Stored::into_lookup),
    )
}

impl<T> Stored<T> {
    pub(crate) fn into_lookup(self) -> Lookup<T> {
        match self {
            Stored::Found(t) => Lookup::Found(t),
            Stored::NotFound => Lookup::NotFound,
            Stored::Failed { code, message } => Lookup::Failed { code, message },
        }
    }
}

/// An answer of either kind, ready to journal.
#[derive(Debug, Clone)]
pub(crate) enum AnyStored {
    Verify(Stored<Verifica>),
    Ascertain(Stored<Frequenza>),
}

impl AnyStored {
    fn json(&self) -> Result<String, BulkError> {
        let r = match self {
            AnyStored::Verify(s) => serde_json::to_string(s),
            AnyStored::Ascertain(s) => serde_json::to_string(s),
        };
        r.map_err(|e| BulkError::Journal {
            reason: format!("cannot encode an answer: {e}"),
        })
    }

    /// A failure of either kind.
    pub(crate) fn failed(step: Step, code: &str, message: &str) -> Self {
        let f = || (code.to_owned(), message.to_owned());
        match step {
            Step::Verify => {
                let (code, message) = f();
                AnyStored::Verify(Stored::Failed { code, message })
            }
            _ => {
                let (code, message) = f();
                AnyStored::Ascertain(Stored::Failed { code, message })
            }
        }
    }
}

pub(crate) fn decode<T: for<'de> Deserialize<'de>>(
    json: Option<&str>,
) -> Result<Option<Stored<T>>, BulkError> {
    json.map(|j| {
        serde_json::from_str(j).map_err(|e| BulkError::Journal {
            reason: format!("an answer in the journal cannot be read: {e}"),
        })
    })
    .transpose()
}

/// The parameters that make a job what it is: resuming with others is
/// refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) input_path: String,
    pub(crate) input_sha256: String,
    pub(crate) school_year: String,
    pub(crate) cf_column: String,
}

/// A subject to ask about.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) id: i64,
    pub(crate) cf: String,
}

/// A massive job journaled and not finished.
#[derive(Debug, Clone)]
pub(crate) struct OpenJob {
    pub(crate) id: i64,
    pub(crate) step: Step,
    pub(crate) job_id: String,
    pub(crate) members: Vec<Pending>,
}

/// A subject that became final: its outcome and how many rows it stands for.
pub(crate) type Finished = (String, u64);

pub(crate) struct Journal {
    conn: Connection,
}

/// One parameter of a job, journaled when the job starts and compared
/// when it resumes.
pub(crate) struct Param<'a> {
    /// The `meta` key.
    pub(crate) key: &'static str,
    /// The value of this run.
    pub(crate) value: &'a str,
    /// What the user is told differs (`None`: recorded, not compared).
    pub(crate) what: Option<&'static str>,
}

/// Opens (or creates) a journal database with `schema`, in WAL mode, and
/// records `params` under the format tag `format`, or checks them against
/// those recorded.
pub(crate) fn open_db(
    path: &Path,
    schema: &str,
    format: &str,
    params: &[Param<'_>],
) -> Result<Connection, BulkError> {
    let private = |e: std::io::Error| BulkError::Journal {
        reason: format!("cannot create it private (mode 0600): {e}"),
    };
    crate::files::prepare_private_sqlite(path).map_err(private)?;
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    crate::files::prepare_private_sqlite(path).map_err(private)?;
    // Durable across process crashes in WAL mode (not across power cuts:
    // the last transactions are then asked again).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(schema)?;
    let meta = |key: &str| -> Result<Option<String>, BulkError> {
        Ok(conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    };
    match meta("format")? {
        None => {
            let tx = conn.unchecked_transaction()?;
            let all = std::iter::once(("format", format))
                .chain(params.iter().map(|p| (p.key, p.value)));
            for (k, v) in all {
                tx.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
                    params![k, v],
                )?;
            }
            tx.commit()?;
        }
        Some(f) if f == format => {
            for p in params {
                if let Some(what) = p.what {
                    if meta(p.key)?.unwrap_or_default() != p.value {
                        return Err(BulkError::JournalMismatch { what });
                    }
                }
            }
        }
        Some(_) => {
            return Err(BulkError::Journal {
                reason: String::from(
                    "the file is the journal of another kind of job or another version of anist, or not a journal",
                ),
            })
        }
    }
    Ok(conn)
}

impl Journal {
    /// Opens or creates the journal and checks (or records) the parameters.
    pub(crate) fn open(path: &Path, wanted: &Params) -> Result<Self, BulkError> {
        let conn = open_db(
            path,
            SCHEMA,
            FORMAT,
            &[
                Param {
                    key: "input_path",
                    value: &wanted.input_path,
                    what: None,
                },
                Param {
                    key: "input_sha256",
                    value: &wanted.input_sha256,
                    what: Some("file di input"),
                },
                Param {
                    key: "school_year",
                    value: &wanted.school_year,
                    what: Some("anno scolastico"),
                },
                Param {
                    key: "cf_column",
                    value: &wanted.cf_column,
                    what: Some("colonna del codice fiscale"),
                },
            ],
        )?;
        Ok(Self { conn })
    }

    fn meta(&self, key: &str) -> Result<Option<String>, BulkError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub(crate) fn is_ingested(&self) -> Result<bool, BulkError> {
        Ok(self.meta("ingested")?.as_deref() == Some("1"))
    }

    /// Forgets a partial ingestion (nothing has been asked before the
    /// ingestion completes).
    pub(crate) fn reset_ingest(&self) -> Result<(), BulkError> {
        self.conn
            .execute_batch("BEGIN; DELETE FROM rows; DELETE FROM subjects; COMMIT;")?;
        Ok(())
    }

    /// Starts an ingestion chunk.
    pub(crate) fn ingest_chunk(&mut self) -> Result<IngestChunk<'_>, BulkError> {
        Ok(IngestChunk {
            tx: self.conn.transaction()?,
        })
    }

    /// Marks the ingestion complete.
    pub(crate) fn set_ingested(&self) -> Result<(), BulkError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('ingested', '1')",
            [],
        )?;
        Ok(())
    }

    /// Rows, distinct codes.
    pub(crate) fn totals(&self) -> Result<(u64, u64), BulkError> {
        let rows: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM rows", [], |r| r.get(0))?;
        let subjects: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM subjects", [], |r| r.get(0))?;
        Ok((rows.max(0) as u64, subjects.max(0) as u64))
    }

    /// Final outcomes so far (rows decided locally plus rows of final codes).
    pub(crate) fn done_counts(&self) -> Result<OutcomeCounts, BulkError> {
        let mut counts = OutcomeCounts::default();
        let mut stmt = self.conn.prepare(
            "SELECT esito, COUNT(*) FROM rows WHERE esito IS NOT NULL GROUP BY esito \
             UNION ALL \
             SELECT final_esito, SUM(rows_count) FROM subjects WHERE final_esito IS NOT NULL GROUP BY final_esito",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let esito: String = r.get(0)?;
            let n: i64 = r.get(1)?;
            counts.add(&esito, n.max(0) as u64);
        }
        Ok(counts)
    }

    /// Up to `limit` subjects needing `step`, with ids above `after`, in id order.
    pub(crate) fn pending(
        &self,
        step: Step,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Pending>, BulkError> {
        let sql = format!(
            "SELECT id, cf FROM subjects WHERE {} AND id > ?1 \
             AND id NOT IN (SELECT m.subject FROM massive_members m JOIN massive j ON j.id = m.job \
                            WHERE j.done = 0 AND j.step = ?3) \
             ORDER BY id LIMIT ?2",
            step.pending_condition()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![after, limit, step.as_str()], |r| {
            Ok(Pending {
                id: r.get(0)?,
                cf: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Journals one answer and returns the outcome if the subject became
    /// final. One transaction.
    pub(crate) fn store(
        &mut self,
        subject: i64,
        step: Step,
        answer: &AnyStored,
    ) -> Result<Option<Finished>, BulkError> {
        let tx = self.conn.transaction()?;
        let finished = store_in(&tx, subject, step, answer)?;
        tx.commit()?;
        Ok(finished)
    }

    /// Journals a submitted massive job and its members. One transaction.
    pub(crate) fn add_job(
        &mut self,
        step: Step,
        job_id: &str,
        members: &[Pending],
    ) -> Result<i64, BulkError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO massive(step, job_id) VALUES (?1, ?2)",
            params![step.as_str(), job_id],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt =
                tx.prepare("INSERT INTO massive_members(job, pos, subject) VALUES (?1, ?2, ?3)")?;
            for (pos, m) in members.iter().enumerate() {
                stmt.execute(params![id, pos as i64, m.id])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// The massive jobs journaled and not finished, oldest first.
    pub(crate) fn open_jobs(&self) -> Result<Vec<OpenJob>, BulkError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, step, job_id FROM massive WHERE done = 0 ORDER BY id")?;
        let jobs = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(jobs.len());
        let mut members = self.conn.prepare(
            "SELECT s.id, s.cf FROM massive_members m JOIN subjects s ON s.id = m.subject \
             WHERE m.job = ?1 ORDER BY m.pos",
        )?;
        for (id, step, job_id) in jobs {
            let step = Step::parse(&step).ok_or_else(|| BulkError::Journal {
                reason: String::from("a massive job of an unknown kind is in the journal"),
            })?;
            let list = members
                .query_map([id], |r| {
                    Ok(Pending {
                        id: r.get(0)?,
                        cf: r.get(1)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            out.push(OpenJob {
                id,
                step,
                job_id,
                members: list,
            });
        }
        Ok(out)
    }

    /// Journals the answers of a massive job and closes it (if there is
    /// one). One transaction.
    pub(crate) fn finish_job(
        &mut self,
        job: Option<i64>,
        step: Step,
        answers: &[(i64, AnyStored)],
    ) -> Result<Vec<Finished>, BulkError> {
        let tx = self.conn.transaction()?;
        let mut finished = Vec::new();
        for (subject, answer) in answers {
            if let Some(f) = store_in(&tx, *subject, step, answer)? {
                finished.push(f);
            }
        }
        if let Some(job) = job {
            tx.execute("UPDATE massive SET done = 1 WHERE id = ?1", [job])?;
        }
        tx.commit()?;
        Ok(finished)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The rows whose code ended in a transient failure
    /// ([`is_transient`](super::engine::is_transient)); with `reopen`,
    /// those answers are forgotten (one transaction) so that the run asks
    /// them again.
    pub(crate) fn transient_failures(&mut self, reopen: bool) -> Result<u64, BulkError> {
        let tx = self.conn.transaction()?;
        let mut rows = 0u64;
        {
            let mut stmt = tx.prepare(
                "SELECT id, rows_count, verify, asc_cur, asc_prev FROM subjects \
                 WHERE final_esito = 'error'",
            )?;
            let found = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        [
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, Option<String>>(4)?,
                        ],
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (id, count, answers) in found {
                let mut transient = false;
                for (step, answer) in [Step::Verify, Step::AscCurrent, Step::AscPrevious]
                    .into_iter()
                    .zip(answers)
                {
                    let code = answer
                        .as_deref()
                        .map(serde_json::from_str::<serde_json::Value>)
                        .and_then(Result::ok)
                        .and_then(|v| v["failed"]["code"].as_str().map(str::to_owned));
                    if code.as_deref().is_some_and(super::engine::is_transient) {
                        transient = true;
                        if reopen {
                            tx.execute(
                                &format!(
                                    "UPDATE subjects SET {col} = NULL, final_esito = NULL WHERE id = ?1",
                                    col = step.column()
                                ),
                                [id],
                            )?;
                        }
                    }
                }
                if transient {
                    rows += count.unsigned_abs();
                }
            }
        }
        tx.commit()?;
        Ok(rows)
    }
}

fn store_in(
    tx: &Transaction<'_>,
    subject: i64,
    step: Step,
    answer: &AnyStored,
) -> Result<Option<Finished>, BulkError> {
    let json = answer.json()?;
    // Only a step still missing is written: a late duplicate never
    // overwrites an answer.
    let sql = format!(
        "UPDATE subjects SET {col} = ?1 WHERE id = ?2 AND {col} IS NULL",
        col = step.column()
    );
    tx.execute(&sql, params![json, subject])?;
    let (verify, cur, prev, rows_count, already): (
        Option<String>,
        Option<String>,
        Option<String>,
        i64,
        Option<String>,
    ) = tx.query_row(
        "SELECT verify, asc_cur, asc_prev, rows_count, final_esito FROM subjects WHERE id = ?1",
        [subject],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    if already.is_some() {
        return Ok(None);
    }
    let decision = decide(
        decode(verify.as_deref())?,
        decode(cur.as_deref())?,
        decode(prev.as_deref())?,
    );
    if decision.need_ascertain {
        tx.execute("UPDATE subjects SET need_asc = 1 WHERE id = ?1", [subject])?;
    }
    match decision.outcome {
        Some(outcome) => {
            let esito = outcome.as_str();
            tx.execute(
                "UPDATE subjects SET final_esito = ?1 WHERE id = ?2",
                params![esito, subject],
            )?;
            Ok(Some((esito.to_owned(), rows_count.max(0) as u64)))
        }
        None => Ok(None),
    }
}

/// One transaction of the ingestion.
pub(crate) struct IngestChunk<'a> {
    tx: Transaction<'a>,
}

impl IngestChunk<'_> {
    /// Records one input row.
    pub(crate) fn push(&self, row: &LocalRow) -> Result<(), BulkError> {
        let subject: Option<i64> = match &row.ask {
            Some(cf) => Some(
                self.tx
                    .prepare_cached(
                        "INSERT INTO subjects(cf, rows_count) VALUES (?1, 1) \
                         ON CONFLICT(cf) DO UPDATE SET rows_count = rows_count + 1 RETURNING id",
                    )?
                    .query_row([cf.as_str()], |r| r.get(0))?,
            ),
            None => None,
        };
        self.tx
            .prepare_cached(
                "INSERT INTO rows(line, given, subject, esito, motivo, obbligo) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                i64::try_from(row.line).unwrap_or(i64::MAX),
                row.given,
                subject,
                row.esito,
                row.motivo,
                row.obbligo,
            ])?;
        Ok(())
    }

    pub(crate) fn commit(self) -> Result<(), BulkError> {
        self.tx.commit()?;
        Ok(())
    }
}
