//! The attendance job's journal: the [generic journal](crate::bulk) with
//! one answer column per step of a code (verification, the two
//! ascertainments) and the massive jobs submitted.

use std::path::Path;

use anist_core::anpr::{IdAnpr, ID_ANPR_LEN};
use anist_core::attendance::{decide_row, Frequenza, Lookup, RowDecision, Verifica};
use anist_core::cf::CodiceFiscale;
use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};

use super::super::journal::{
    self as core, encode, set_final, store_answer, Layout, Param, Pending, RowRecord,
};
use crate::anist::Subject;
use crate::bulk::BulkError;

pub(crate) use super::super::journal::Finished;

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

impl From<LocalRow> for RowRecord {
    fn from(r: LocalRow) -> Self {
        RowRecord {
            line: r.line,
            given: r.given,
            ask: r.ask.map(|k| k.as_str().to_owned()),
            esito: r.esito,
            motivo: r.motivo,
            note: r.obbligo,
        }
    }
}

/// The attendance job's part of the journal: a question is a code (its
/// key the [`AskKey`] text), with one answer column per step; the massive
/// jobs submitted and their members.
static LAYOUT: Layout = Layout {
    format: "anist-bulk-journal-2",
    question_columns:
        "verify TEXT, need_asc INTEGER NOT NULL DEFAULT 0, asc_cur TEXT, asc_prev TEXT,",
    tables: "
CREATE TABLE IF NOT EXISTS massive (
    id INTEGER PRIMARY KEY,
    step TEXT NOT NULL,
    job_id TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS massive_members (
    job INTEGER NOT NULL,
    pos INTEGER NOT NULL,
    question INTEGER NOT NULL,
    PRIMARY KEY (job, pos)
);
",
    answer_columns: &["verify", "asc_cur", "asc_prev"],
};

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
    pub(crate) fn column(self) -> &'static str {
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
    pub(crate) fn pending_condition(self) -> &'static str {
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

/// [`decide`] of the journaled texts of a code's answers.
pub(crate) fn decide_journaled(
    verify: Option<&str>,
    cur: Option<&str>,
    prev: Option<&str>,
) -> Result<RowDecision, BulkError> {
    Ok(decide(
        verify.map(core::decode).transpose()?,
        cur.map(core::decode).transpose()?,
        prev.map(core::decode).transpose()?,
    ))
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
    pub(crate) fn json(&self) -> Result<String, BulkError> {
        match self {
            AnyStored::Verify(s) => encode(s),
            AnyStored::Ascertain(s) => encode(s),
        }
    }

    /// Whether this is a failure that may go otherwise when asked again
    /// later ([`is_transient`](crate::bulk::engine::is_transient)).
    pub(crate) fn is_transient_failure(&self) -> bool {
        match self {
            AnyStored::Verify(Stored::Failed { code, .. })
            | AnyStored::Ascertain(Stored::Failed { code, .. }) => {
                crate::bulk::engine::is_transient(code)
            }
            _ => false,
        }
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

/// The parameters that make a job what it is: resuming with others is
/// refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) input_path: String,
    pub(crate) input_sha256: String,
    pub(crate) school_year: String,
    pub(crate) cf_column: String,
}

/// A massive job journaled and not finished.
#[derive(Debug, Clone)]
pub(crate) struct OpenJob {
    pub(crate) id: i64,
    pub(crate) step: Step,
    pub(crate) job_id: String,
    pub(crate) members: Vec<Pending>,
}

/// The attendance job's journal (the generic one's operations through `Deref`).
pub(crate) type Journal = core::JobJournal<Attendance>;

/// Marks the attendance job's view of the journal.
pub(crate) enum Attendance {}

impl core::JobJournal<Attendance> {
    /// Opens or creates the journal and checks (or records) the parameters.
    pub(crate) fn open(path: &Path, wanted: &Params) -> Result<Self, BulkError> {
        core::Journal::open(
            path,
            &LAYOUT,
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
        )
        .map(core::JobJournal::new)
    }

    /// Up to `limit` codes needing `step`, with ids above `after`, in id
    /// order (not those in a massive job still open for that step).
    pub(crate) fn pending(
        &self,
        step: Step,
        after: i64,
        limit: usize,
    ) -> Result<Vec<Pending>, BulkError> {
        let condition = format!(
            "{} AND id NOT IN (SELECT m.question FROM massive_members m JOIN massive j ON j.id = m.job \
             WHERE j.done = 0 AND j.step = ?3)",
            step.pending_condition()
        );
        self.pending_where(&condition, &[&step.as_str()], after, limit)
    }

    /// Journals one answer and returns the outcome if the code became
    /// final. One transaction.
    pub(crate) fn store(
        &mut self,
        question: i64,
        step: Step,
        answer: &AnyStored,
    ) -> Result<Option<Finished>, BulkError> {
        let tx = self.transaction()?;
        let finished = store_in(&tx, question, step, answer)?;
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
        let tx = self.transaction()?;
        tx.execute(
            "INSERT INTO massive(step, job_id) VALUES (?1, ?2)",
            params![step.as_str(), job_id],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt =
                tx.prepare("INSERT INTO massive_members(job, pos, question) VALUES (?1, ?2, ?3)")?;
            for (pos, m) in members.iter().enumerate() {
                stmt.execute(params![id, pos as i64, m.id])?;
            }
        }
        tx.commit()?;
        Ok(id)
    }

    /// The massive jobs journaled and not finished, oldest first.
    pub(crate) fn open_jobs(&self) -> Result<Vec<OpenJob>, BulkError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, step, job_id FROM massive WHERE done = 0 ORDER BY id")?;
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
        let mut members = conn.prepare(
            "SELECT q.id, q.key FROM massive_members m JOIN questions q ON q.id = m.question \
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
                        key: r.get(1)?,
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
        let tx = self.transaction()?;
        let mut finished = Vec::new();
        for (question, answer) in answers {
            if let Some(f) = store_in(&tx, *question, step, answer)? {
                finished.push(f);
            }
        }
        if let Some(job) = job {
            tx.execute("UPDATE massive SET done = 1 WHERE id = ?1", [job])?;
        }
        tx.commit()?;
        Ok(finished)
    }
}

fn store_in(
    tx: &Transaction<'_>,
    question: i64,
    step: Step,
    answer: &AnyStored,
) -> Result<Option<Finished>, BulkError> {
    store_answer(tx, question, step.column(), &answer.json()?)?;
    let (verify, cur, prev, already): (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = tx.query_row(
        "SELECT verify, asc_cur, asc_prev, final_esito FROM questions WHERE id = ?1",
        [question],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    if already.is_some() {
        return Ok(None);
    }
    let decision = decide_journaled(verify.as_deref(), cur.as_deref(), prev.as_deref())?;
    if decision.need_ascertain {
        tx.execute(
            "UPDATE questions SET need_asc = 1 WHERE id = ?1",
            [question],
        )?;
    }
    match decision.outcome {
        Some(outcome) => {
            let esito = outcome.as_str();
            let rows = set_final(tx, question, esito)?;
            Ok(Some((esito.to_owned(), rows)))
        }
        None => Ok(None),
    }
}
