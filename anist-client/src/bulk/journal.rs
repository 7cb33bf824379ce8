//! The journal every bulk job keeps: one SQLite file (WAL) holding the
//! job's parameters, every input row, every distinct question with its
//! answers and its final outcome. Every state change is one transaction,
//! committed before the job counts it.
//!
//! The tables every job has:
//!
//! - `meta(key, value)`: the format tag, the job's parameters, `ingested`;
//! - `rows(seq, line, given, question, esito, motivo, note)`: one per input
//!   row, in input order; `esito`/`motivo` when the row was decided
//!   locally, else `question` names the question it asks;
//! - `questions(id, key, rows_count, final_esito, …)`: one per distinct
//!   question (`key` is the job's normalised text of it), with the job's
//!   own answer columns ([`Layout::question_columns`]).
//!
//! A job adds its own tables ([`Layout::tables`]) and decides how its
//! answers make an outcome (the attendance job with anist-core's
//! `decide_row`, the ISEE batch with `isee::batch::RowOutcome`).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anist_core::csvio::{CsvReader, ReadOutcome, Row};
use anist_core::ErrorCode;
use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::engine::{is_transient, Counts};
use super::input::input_error;
use super::BulkError;

/// Rows per ingestion transaction.
const CHUNK: usize = 10_000;

/// What makes a job's journal its own.
pub(crate) struct Layout {
    /// The format tag (bumped when the job's schema changes incompatibly).
    pub(crate) format: &'static str,
    /// The job's columns of `questions`, each line `name TYPE,` (may be
    /// empty).
    pub(crate) question_columns: &'static str,
    /// The job's own tables (`CREATE TABLE IF NOT EXISTS …;`, may be empty).
    pub(crate) tables: &'static str,
    /// The answer columns of `questions` (JSON): a transient failure in any
    /// of them is asked again by the next run.
    pub(crate) answer_columns: &'static [&'static str],
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

/// One input row, ready to journal: decided locally (`esito` set) or a
/// question to ask (`ask` set: the question's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowRecord {
    pub(crate) line: u64,
    pub(crate) given: String,
    pub(crate) ask: Option<String>,
    pub(crate) esito: Option<&'static str>,
    pub(crate) motivo: Option<String>,
    /// A job's extra column of the row (the attendance job's `obbligo`).
    pub(crate) note: Option<&'static str>,
}

impl RowRecord {
    /// A row decided locally.
    pub(crate) fn decided(line: u64, given: String, esito: &'static str, motivo: String) -> Self {
        Self {
            line,
            given,
            ask: None,
            esito: Some(esito),
            motivo: Some(motivo),
            note: None,
        }
    }

    /// A row that asks `key`.
    pub(crate) fn asking(line: u64, given: String, key: String) -> Self {
        Self {
            line,
            given,
            ask: Some(key),
            esito: None,
            motivo: None,
            note: None,
        }
    }
}

/// A question still to ask.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) id: i64,
    pub(crate) key: String,
}

/// A question that became final: its outcome and how many rows it stands for.
pub(crate) type Finished = (String, u64);

/// One row of the output, as journaled: the row, its question's key and
/// answer columns (in [`Layout::answer_columns`] order; empty for a row
/// decided locally).
pub(crate) struct OutputRow {
    pub(crate) line: u64,
    pub(crate) given: String,
    pub(crate) esito: Option<String>,
    pub(crate) motivo: Option<String>,
    pub(crate) note: Option<String>,
    pub(crate) key: Option<String>,
    pub(crate) answers: Vec<Option<String>>,
}

/// A job's view of the journal: the generic operations (through `Deref`)
/// and the job's own, in an `impl JobJournal<TheJob>` of the job's module.
pub(crate) struct JobJournal<K> {
    journal: Journal,
    job: std::marker::PhantomData<K>,
}

impl<K> JobJournal<K> {
    /// The job's view of `journal`.
    pub(crate) fn new(journal: Journal) -> Self {
        Self {
            journal,
            job: std::marker::PhantomData,
        }
    }
}

impl<K> std::ops::Deref for JobJournal<K> {
    type Target = Journal;
    fn deref(&self) -> &Journal {
        &self.journal
    }
}

impl<K> std::ops::DerefMut for JobJournal<K> {
    fn deref_mut(&mut self) -> &mut Journal {
        &mut self.journal
    }
}

/// A job's journal.
pub(crate) struct Journal {
    conn: Connection,
    layout: &'static Layout,
}

fn journal_error(what: &str, e: impl std::fmt::Display) -> BulkError {
    BulkError::Journal {
        reason: format!("{what}: {e}"),
    }
}

impl Journal {
    /// Opens (or creates, private) the journal in WAL mode with the core
    /// tables and the job's, and records `params` under the layout's
    /// format tag, or checks them against those recorded.
    ///
    /// # Errors
    /// [`BulkError::JournalMismatch`] when a compared parameter differs;
    /// [`BulkError::Journal`] when the file is another kind of journal or
    /// SQLite fails.
    pub(crate) fn open(
        path: &Path,
        layout: &'static Layout,
        params: &[Param<'_>],
    ) -> Result<Self, BulkError> {
        // Durable across process crashes (a power cut may lose the last
        // transactions: they are then asked again).
        let conn = crate::files::open_private_sqlite(path)
            .map_err(|reason| BulkError::Journal { reason })?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
        )?;
        let journal = Self { conn, layout };
        // The format first: another kind of journal is refused untouched.
        let format = journal.meta("format")?;
        if format.as_deref().is_some_and(|f| f != layout.format) {
            return Err(BulkError::Journal {
                reason: String::from(
                    "the file is the journal of another kind of job or another version of anist, or not a journal",
                ),
            });
        }
        journal.conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS rows (
                 seq INTEGER PRIMARY KEY,
                 line INTEGER NOT NULL,
                 given TEXT NOT NULL,
                 question INTEGER,
                 esito TEXT,
                 motivo TEXT,
                 note TEXT
             );
             CREATE TABLE IF NOT EXISTS questions (
                 id INTEGER PRIMARY KEY,
                 key TEXT NOT NULL UNIQUE,
                 rows_count INTEGER NOT NULL DEFAULT 0,
                 {}
                 final_esito TEXT
             );
             {}",
            layout.question_columns, layout.tables
        ))?;
        if format.is_none() {
            let tx = journal.conn.unchecked_transaction()?;
            let all = std::iter::once(("format", layout.format))
                .chain(params.iter().map(|p| (p.key, p.value)));
            for (k, v) in all {
                tx.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
                    params![k, v],
                )?;
            }
            tx.commit()?;
        } else {
            for p in params {
                if let Some(what) = p.what {
                    if journal.meta(p.key)?.unwrap_or_default() != p.value {
                        return Err(BulkError::JournalMismatch { what });
                    }
                }
            }
        }
        Ok(journal)
    }

    /// A `meta` value.
    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>, BulkError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Records a `meta` value.
    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<(), BulkError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        Ok(())
    }

    /// Whether the input was read completely.
    pub(crate) fn is_ingested(&self) -> Result<bool, BulkError> {
        Ok(self.meta("ingested")?.as_deref() == Some("1"))
    }

    /// Reads the rest of the input into the journal, `first` (rows the
    /// caller read already, e.g. a header that is a code) then every
    /// record of `reader` through `classify`, in chunks; an unreadable
    /// record is an `error` row with its `csv_*` code. Marks the ingestion
    /// complete at the end. A partial ingestion is forgotten first (nothing
    /// is asked before the ingestion completes).
    pub(crate) fn ingest(
        &mut self,
        path: &Path,
        reader: &mut CsvReader<BufReader<File>>,
        first: Vec<RowRecord>,
        mut classify: impl FnMut(&Row) -> Result<RowRecord, BulkError>,
    ) -> Result<(), BulkError> {
        self.conn
            .execute_batch("BEGIN; DELETE FROM rows; DELETE FROM questions; COMMIT;")?;
        let mut tx = self.conn.transaction()?;
        let mut in_chunk = 0usize;
        for row in &first {
            push_row(&tx, row)?;
            in_chunk += 1;
        }
        let mut row = Row::new();
        loop {
            let record = match reader.read_row(&mut row) {
                Ok(ReadOutcome::Row) => classify(&row)?,
                Ok(ReadOutcome::Bad(e)) => RowRecord::decided(
                    e.line().unwrap_or(0),
                    String::new(),
                    "error",
                    e.code().to_owned(),
                ),
                Ok(ReadOutcome::End) => break,
                Err(e) => return Err(input_error(path, e)),
            };
            push_row(&tx, &record)?;
            in_chunk += 1;
            if in_chunk >= CHUNK {
                tx.commit()?;
                tx = self.conn.transaction()?;
                in_chunk = 0;
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('ingested', '1')",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Rows, distinct questions.
    pub(crate) fn totals(&self) -> Result<(u64, u64), BulkError> {
        let rows: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM rows", [], |r| r.get(0))?;
        let questions: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM questions", [], |r| r.get(0))?;
        Ok((rows.unsigned_abs(), questions.unsigned_abs()))
    }

    /// Final outcomes so far (rows decided locally plus rows of final
    /// questions).
    pub(crate) fn done_counts<C: Counts>(&self) -> Result<C, BulkError> {
        let mut counts = C::default();
        let mut stmt = self.conn.prepare(
            "SELECT esito, COUNT(*) FROM rows WHERE esito IS NOT NULL GROUP BY esito \
             UNION ALL \
             SELECT final_esito, SUM(rows_count) FROM questions WHERE final_esito IS NOT NULL GROUP BY final_esito",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let esito: String = r.get(0)?;
            let n: i64 = r.get(1)?;
            counts.add(&esito, n.unsigned_abs());
        }
        Ok(counts)
    }

    /// Up to `limit` questions matching the SQL `condition` (on
    /// `questions`), with ids above `after`, in id order.
    pub(crate) fn pending_where(
        &self,
        condition: &str,
        extra: &[&dyn rusqlite::ToSql],
        after: i64,
        limit: usize,
    ) -> Result<Vec<Pending>, BulkError> {
        let sql = format!(
            "SELECT id, key FROM questions WHERE ({condition}) AND id > ?1 ORDER BY id LIMIT ?2"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut all: Vec<&dyn rusqlite::ToSql> = vec![&after, &limit];
        all.extend_from_slice(extra);
        let rows = stmt.query_map(all.as_slice(), |r| {
            Ok(Pending {
                id: r.get(0)?,
                key: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The rows whose question ended in a transient failure
    /// ([`is_transient`]) in any answer column; with `reopen`, those
    /// answers are forgotten (one transaction) so that the run asks them
    /// again.
    pub(crate) fn transient_failures(&mut self, reopen: bool) -> Result<u64, BulkError> {
        let columns = self.layout.answer_columns;
        if columns.is_empty() {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        let mut rows = 0u64;
        {
            let mut stmt = tx.prepare(&format!(
                "SELECT id, rows_count, {} FROM questions WHERE final_esito = 'error'",
                columns.join(", ")
            ))?;
            let found = stmt
                .query_map([], |r| {
                    let answers = (0..columns.len())
                        .map(|i| r.get::<_, Option<String>>(i + 2))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, answers))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (id, count, answers) in found {
                let mut transient = false;
                for (column, answer) in columns.iter().zip(answers) {
                    if answer
                        .as_deref()
                        .and_then(failure_code)
                        .is_some_and(|c| is_transient(&c))
                    {
                        transient = true;
                        if reopen {
                            tx.execute(
                                &format!(
                                    "UPDATE questions SET {column} = NULL, final_esito = NULL WHERE id = ?1"
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

    /// Every row in input order with its question's answers, to `each`.
    pub(crate) fn for_each_row(
        &self,
        mut each: impl FnMut(OutputRow) -> Result<(), BulkError>,
    ) -> Result<(), BulkError> {
        let columns = self.layout.answer_columns;
        let answers: String = columns.iter().map(|c| format!(", q.{c}")).collect();
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.line, r.given, r.esito, r.motivo, r.note, q.key{answers} \
             FROM rows r LEFT JOIN questions q ON q.id = r.question ORDER BY r.seq"
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let line: i64 = r.get(0)?;
            each(OutputRow {
                line: line.unsigned_abs(),
                given: r.get(1)?,
                esito: r.get(2)?,
                motivo: r.get(3)?,
                note: r.get(4)?,
                key: r.get(5)?,
                answers: (0..columns.len())
                    .map(|i| r.get(i + 6))
                    .collect::<Result<_, _>>()?,
            })?;
        }
        Ok(())
    }

    /// A transaction on the journal.
    pub(crate) fn transaction(&mut self) -> Result<Transaction<'_>, BulkError> {
        Ok(self.conn.transaction()?)
    }

    /// The connection, for the job's own statements.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Writes `json` as the answer in `column` of question `id` if that
/// answer is still missing (a late duplicate never overwrites an answer);
/// whether it was written.
pub(crate) fn store_answer(
    tx: &Transaction<'_>,
    id: i64,
    column: &str,
    json: &str,
) -> Result<bool, BulkError> {
    let sql = format!("UPDATE questions SET {column} = ?1 WHERE id = ?2 AND {column} IS NULL");
    Ok(tx.execute(&sql, params![json, id])? > 0)
}

/// Marks question `id` final with `esito`; the rows it stands for.
pub(crate) fn set_final(tx: &Transaction<'_>, id: i64, esito: &str) -> Result<u64, BulkError> {
    let rows: i64 = tx.query_row(
        "UPDATE questions SET final_esito = ?1 WHERE id = ?2 RETURNING rows_count",
        params![esito, id],
        |r| r.get(0),
    )?;
    Ok(rows.unsigned_abs())
}

/// Encodes an answer for the journal.
pub(crate) fn encode<T: serde::Serialize>(answer: &T) -> Result<String, BulkError> {
    serde_json::to_string(answer).map_err(|e| journal_error("cannot encode an answer", e))
}

/// Reads a journaled answer (or question) back.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, BulkError> {
    serde_json::from_str(json)
        .map_err(|e| journal_error("the journal is damaged: an entry cannot be read", e))
}

/// The error code of a journaled failure: every job journals a failure as
/// `{"failed": {"code": …}}`.
fn failure_code(json: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.get("failed")?.get("code")?.as_str().map(str::to_owned)
}

fn push_row(tx: &Transaction<'_>, row: &RowRecord) -> Result<(), BulkError> {
    let question: Option<i64> = match &row.ask {
        Some(key) => Some(
            tx.prepare_cached(
                "INSERT INTO questions(key, rows_count) VALUES (?1, 1) \
                 ON CONFLICT(key) DO UPDATE SET rows_count = rows_count + 1 RETURNING id",
            )?
            .query_row([key], |r| r.get(0))?,
        ),
        None => None,
    };
    tx.prepare_cached(
        "INSERT INTO rows(line, given, question, esito, motivo, note) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        i64::try_from(row.line).unwrap_or(i64::MAX),
        row.given,
        question,
        row.esito,
        row.motivo,
        row.note,
    ])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use anist_core::csvio::ReaderBuilder;

    static LAYOUT: Layout = Layout {
        format: "anist-test-journal-1",
        question_columns: "answer TEXT,",
        tables: "",
        answer_columns: &["answer"],
    };

    /// A fresh directory of its own for a test.
    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("anist-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn open(dir: &Path, input: &str) -> (Journal, std::path::PathBuf) {
        let path = dir.join("in.csv");
        std::fs::write(&path, input).unwrap();
        let j = Journal::open(
            &dir.join("j.sqlite"),
            &LAYOUT,
            &[Param {
                key: "p",
                value: "1",
                what: Some("parametro"),
            }],
        )
        .unwrap();
        (j, path)
    }

    fn reader(path: &Path) -> CsvReader<BufReader<File>> {
        ReaderBuilder::new()
            .strict(false)
            .from_reader(BufReader::new(File::open(path).unwrap()))
            .unwrap()
    }

    #[test]
    fn rows_share_questions_and_count_once_final() {
        let dir = scratch("share");
        let (mut j, input) = open(&dir, "k\na\nb\na\n\n");
        let mut r = reader(&input);
        j.ingest(&input, &mut r, vec![], |row| {
            let k = row.get(0).unwrap_or("").to_owned();
            Ok(if k.is_empty() {
                RowRecord::decided(row.line(), k, "invalid", "empty".into())
            } else {
                RowRecord::asking(row.line(), k.clone(), k)
            })
        })
        .unwrap();
        assert!(j.is_ingested().unwrap());
        assert_eq!(j.totals().unwrap().1, 2);
        let pending = j.pending_where("answer IS NULL", &[], 0, 10).unwrap();
        assert_eq!(pending.len(), 2);
        let a = pending.iter().find(|p| p.key == "a").unwrap().id;
        let tx = j.transaction().unwrap();
        assert!(
            store_answer(&tx, a, "answer", r#"{"failed":{"code":"gateway_timeout"}}"#).unwrap()
        );
        assert!(!store_answer(&tx, a, "answer", "{}").unwrap());
        assert_eq!(set_final(&tx, a, "error").unwrap(), 2);
        tx.commit().unwrap();
        // A transient failure is counted, then reopened.
        assert_eq!(j.transient_failures(false).unwrap(), 2);
        assert_eq!(j.transient_failures(true).unwrap(), 2);
        assert_eq!(j.transient_failures(false).unwrap(), 0);
        assert_eq!(
            j.pending_where("answer IS NULL", &[], 0, 10).unwrap().len(),
            2
        );
        let mut seen = Vec::new();
        j.for_each_row(|r| {
            seen.push((r.line, r.key, r.esito));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 3, "the empty line is skipped by the reader");
        assert_eq!(seen[0], (2, Some("a".into()), None));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn another_job_s_parameters_are_refused() {
        let dir = scratch("params");
        drop(open(&dir, "k\n"));
        let again = Journal::open(
            &dir.join("j.sqlite"),
            &LAYOUT,
            &[Param {
                key: "p",
                value: "2",
                what: Some("parametro"),
            }],
        );
        assert!(matches!(
            again,
            Err(BulkError::JournalMismatch { what: "parametro" })
        ));
        static OTHER: Layout = Layout {
            format: "anist-other-journal-1",
            question_columns: "",
            tables: "CREATE TABLE IF NOT EXISTS other (x TEXT);",
            answer_columns: &[],
        };
        assert!(matches!(
            Journal::open(&dir.join("j.sqlite"), &OTHER, &[]),
            Err(BulkError::Journal { .. })
        ));
        // Refused untouched: its own tables only.
        let conn = Connection::open(dir.join("j.sqlite")).unwrap();
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 3);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
