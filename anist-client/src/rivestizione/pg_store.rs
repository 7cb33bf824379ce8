//! The rivestizione store on PostgreSQL (feature `postgres`, issue #19):
//! the same [`Store`] as the embedded SQLite file, in a database shared by
//! the workers of several hosts.
//!
//! Its tables are prefixed `riv_`, beside those of the other components in
//! the same database; the schema is made and upgraded by
//! [`Database::migrate`] (component `rivestizione`). Every method is one
//! transaction (one statement, or an explicit transaction for a request
//! and its subjects); state changes and outcomes are compare-and-set
//! (`UPDATE … WHERE state = $from`, `… AND outcome IS NULL`), which
//! PostgreSQL re-checks on the row it waited for: of two actors on two
//! connections, exactly one wins. Names are ordered byte by byte
//! (`COLLATE "C"`), as SQLite does, whatever the database's collation.

use std::sync::Arc;

use anist_core::rivestizione::{Profile, Role, State, SubjectRow};
use anist_core::ErrorCode;
use tokio_postgres::Row;

use super::store::{
    finish_request, finish_subject, finish_user, json_error, Ente, NewRequest, RawRequest,
    RawSubject, RequestRecord, Settings, StateUpdate, Store, StoreError, SubjectOutcome,
    SubjectRecord, User,
};
use crate::pg::{block_on, Database, PgError};

/// The component whose schema version [`Database::migrate`] keeps.
const COMPONENT: &str = "rivestizione";

/// The first schema: the tables of the SQLite store, prefixed.
const STEP1: &str = "
CREATE TABLE riv_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE riv_enti (id TEXT PRIMARY KEY, nome TEXT NOT NULL, comune TEXT NOT NULL);
CREATE TABLE riv_users (
    id TEXT PRIMARY KEY,
    nome TEXT NOT NULL,
    role TEXT NOT NULL,
    ente TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    profile TEXT NOT NULL
);
CREATE TABLE riv_requests (
    id BIGSERIAL PRIMARY KEY,
    owner TEXT NOT NULL,
    ente TEXT NOT NULL,
    motivo TEXT NOT NULL,
    asked TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by TEXT,
    reason TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    subjects BIGINT NOT NULL,
    bad_rows BIGINT NOT NULL,
    error TEXT,
    file TEXT,
    expires_at BIGINT
);
CREATE TABLE riv_subjects (
    request BIGINT NOT NULL REFERENCES riv_requests(id),
    pos BIGINT NOT NULL,
    line BIGINT NOT NULL,
    kind TEXT,
    value TEXT,
    rilascio TEXT,
    outcome TEXT,
    code TEXT,
    data TEXT,
    PRIMARY KEY (request, pos)
);
CREATE INDEX riv_subjects_pending ON riv_subjects (request, pos) WHERE outcome IS NULL;
";

/// The store in a PostgreSQL database ([`Database`]), shared by the
/// workers and the users of several hosts.
pub struct PgStore {
    db: Arc<Database>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("database", &self.db.host())
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// The store in `db`, its tables made or brought up to date first.
    ///
    /// # Errors
    /// [`StoreError`] when the schema cannot be made, or the database's is
    /// newer than this anist knows.
    pub fn open(db: Arc<Database>) -> Result<Self, StoreError> {
        db.migrate(COMPONENT, &[STEP1]).map_err(pg_store_error)?;
        Ok(Self { db })
    }

    /// The database.
    pub fn database(&self) -> &Arc<Database> {
        &self.db
    }

    /// The rows of `sql` (prepared once per connection).
    fn rows(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let c = self.db.lock();
        block_on(async {
            let stmt = self.db.statement(&*c, sql).await?;
            c.query(&stmt, params).await
        })
    }

    /// The row of `sql`, if any (prepared once per connection).
    fn row(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<Row>, tokio_postgres::Error> {
        let c = self.db.lock();
        block_on(async {
            let stmt = self.db.statement(&*c, sql).await?;
            c.query_opt(&stmt, params).await
        })
    }

    /// Runs `sql` (prepared once per connection); the rows it changed.
    fn exec(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error> {
        let c = self.db.lock();
        block_on(async {
            let stmt = self.db.statement(&*c, sql).await?;
            c.execute(&stmt, params).await
        })
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError {
            reason: crate::pg::safe_reason(&e),
        }
    }
}

fn pg_store_error(e: PgError) -> StoreError {
    StoreError {
        reason: format!("{}: {e}", e.code()),
    }
}

fn ente_of(r: &Row) -> Result<Ente, StoreError> {
    Ok(Ente {
        id: r.try_get(0)?,
        nome: r.try_get(1)?,
        comune: r.try_get(2)?,
    })
}

const USER_COLUMNS: &str = "id, nome, role, ente, active, profile";

fn user_of(r: &Row) -> Result<User, StoreError> {
    finish_user((
        User {
            id: r.try_get(0)?,
            nome: r.try_get(1)?,
            role: Role::Standard,
            ente: r.try_get(3)?,
            active: r.try_get(4)?,
            profile: Profile::none(),
        },
        r.try_get(2)?,
        r.try_get(5)?,
    ))
}

const REQUEST_COLUMNS: &str = "id, owner, ente, motivo, asked, state, submitted_at, decided_at, \
     decided_by, reason, started_at, finished_at, subjects, bad_rows, error, file, expires_at, \
     (SELECT COUNT(*) FROM riv_subjects s \
      WHERE s.request = riv_requests.id AND s.outcome IS NOT NULL)";

fn request_of(r: &Row) -> Result<RequestRecord, StoreError> {
    let u = |i: usize| -> Result<u64, tokio_postgres::Error> {
        Ok(r.try_get::<_, i64>(i)?.unsigned_abs())
    };
    let raw: RawRequest = (
        RequestRecord {
            id: r.try_get(0)?,
            owner: r.try_get(1)?,
            ente: r.try_get(2)?,
            motivo: r.try_get(3)?,
            asked: Profile::none(),
            state: State::AwaitingApproval,
            submitted_at: r.try_get(6)?,
            decided_at: r.try_get(7)?,
            decided_by: r.try_get(8)?,
            reason: r.try_get(9)?,
            started_at: r.try_get(10)?,
            finished_at: r.try_get(11)?,
            subjects: u(12)?,
            bad_rows: u(13)?,
            error: r.try_get(14)?,
            file: r.try_get(15)?,
            expires_at: r.try_get(16)?,
            answered: u(17)?,
        },
        r.try_get(4)?,
        r.try_get(5)?,
    );
    finish_request(raw)
}

const SUBJECT_COLUMNS: &str = "pos, line, kind, value, rilascio, outcome, code, data";

fn subject_of(r: &Row) -> Result<SubjectRecord, StoreError> {
    let raw: RawSubject = (
        r.try_get(0)?,
        r.try_get(1)?,
        r.try_get(2)?,
        r.try_get(3)?,
        r.try_get(4)?,
        [r.try_get(5)?, r.try_get(6)?, r.try_get(7)?],
    );
    finish_subject(raw)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Store for PgStore {
    fn settings(&self) -> Result<Option<Settings>, StoreError> {
        let row = self.row("SELECT value FROM riv_meta WHERE key = 'settings'", &[])?;
        row.map(|r| {
            let v: String = r.try_get(0)?;
            serde_json::from_str(&v).map_err(json_error)
        })
        .transpose()
    }

    fn save_settings(&self, settings: &Settings) -> Result<(), StoreError> {
        let json = serde_json::to_string(settings).map_err(json_error)?;
        self.exec(
            "INSERT INTO riv_meta(key, value) VALUES ('settings', $1) \
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&json],
        )?;
        Ok(())
    }

    fn save_ente(&self, ente: &Ente) -> Result<(), StoreError> {
        self.exec(
            "INSERT INTO riv_enti(id, nome, comune) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET nome = EXCLUDED.nome, comune = EXCLUDED.comune",
            &[&ente.id, &ente.nome, &ente.comune],
        )?;
        Ok(())
    }

    fn ente(&self, id: &str) -> Result<Option<Ente>, StoreError> {
        let row = self.row(
            "SELECT id, nome, comune FROM riv_enti WHERE id = $1",
            &[&id],
        )?;
        row.as_ref().map(ente_of).transpose()
    }

    fn enti(&self) -> Result<Vec<Ente>, StoreError> {
        let rows = self.rows(
            "SELECT id, nome, comune FROM riv_enti ORDER BY id COLLATE \"C\"",
            &[],
        )?;
        rows.iter().map(ente_of).collect()
    }

    fn insert_user(&self, user: &User) -> Result<bool, StoreError> {
        let profile = serde_json::to_string(&user.profile).map_err(json_error)?;
        let n = self.exec(
            "INSERT INTO riv_users(id, nome, role, ente, active, profile) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
            &[
                &user.id,
                &user.nome,
                &user.role.as_str(),
                &user.ente,
                &user.active,
                &profile,
            ],
        )?;
        Ok(n == 1)
    }

    fn update_user(&self, user: &User) -> Result<(), StoreError> {
        let profile = serde_json::to_string(&user.profile).map_err(json_error)?;
        self.exec(
            "UPDATE riv_users SET nome = $2, role = $3, ente = $4, active = $5, profile = $6 \
             WHERE id = $1",
            &[
                &user.id,
                &user.nome,
                &user.role.as_str(),
                &user.ente,
                &user.active,
                &profile,
            ],
        )?;
        Ok(())
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = self.row(
            &format!("SELECT {USER_COLUMNS} FROM riv_users WHERE id = $1"),
            &[&id],
        )?;
        row.as_ref().map(user_of).transpose()
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = self.rows(
            &format!("SELECT {USER_COLUMNS} FROM riv_users ORDER BY id COLLATE \"C\""),
            &[],
        )?;
        rows.iter().map(user_of).collect()
    }

    fn insert_request(
        &self,
        request: &NewRequest<'_>,
        subjects: &[SubjectRow],
    ) -> Result<i64, StoreError> {
        let asked = serde_json::to_string(request.asked).map_err(json_error)?;
        let total = count(subjects.len());
        let bad_rows = i64::try_from(request.bad_rows).unwrap_or(i64::MAX);
        // The subjects as columns: one statement, whatever their number.
        let pos: Vec<i64> = (0..subjects.len()).map(count).collect();
        let lines: Vec<i64> = subjects
            .iter()
            .map(|s| i64::try_from(s.line).unwrap_or(i64::MAX))
            .collect();
        let kinds: Vec<&str> = subjects.iter().map(|s| s.id.kind().as_str()).collect();
        let values: Vec<&str> = subjects.iter().map(|s| s.id.value()).collect();
        let rilasci: Vec<Option<&str>> = subjects.iter().map(|s| s.rilascio.as_deref()).collect();
        let mut c = self.db.lock();
        block_on(async {
            let tx = c.transaction().await?;
            let id: i64 = tx
                .query_one(
                    "INSERT INTO riv_requests(owner, ente, motivo, asked, state, submitted_at, \
                     subjects, bad_rows) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    &[
                        &request.owner,
                        &request.ente,
                        &request.motivo,
                        &asked,
                        &State::AwaitingApproval.as_str(),
                        &request.at,
                        &total,
                        &bad_rows,
                    ],
                )
                .await?
                .try_get(0)?;
            if !subjects.is_empty() {
                tx.execute(
                    "INSERT INTO riv_subjects(request, pos, line, kind, value, rilascio) \
                     SELECT $1, t.pos, t.line, t.kind, t.value, t.rilascio \
                     FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], $6::TEXT[]) \
                     AS t(pos, line, kind, value, rilascio)",
                    &[&id, &pos, &lines, &kinds, &values, &rilasci],
                )
                .await?;
            }
            tx.commit().await?;
            Ok::<i64, StoreError>(id)
        })
    }

    fn request(&self, id: i64) -> Result<Option<RequestRecord>, StoreError> {
        let row = self.row(
            &format!("SELECT {REQUEST_COLUMNS} FROM riv_requests WHERE id = $1"),
            &[&id],
        )?;
        row.as_ref().map(request_of).transpose()
    }

    fn requests(&self) -> Result<Vec<RequestRecord>, StoreError> {
        let rows = self.rows(
            &format!("SELECT {REQUEST_COLUMNS} FROM riv_requests ORDER BY id"),
            &[],
        )?;
        rows.iter().map(request_of).collect()
    }

    fn set_state(
        &self,
        id: i64,
        from: State,
        to: State,
        u: &StateUpdate<'_>,
    ) -> Result<bool, StoreError> {
        let (from, to) = (from.as_str(), to.as_str());
        let c = self.db.lock();
        let n = block_on(async {
            match to {
                "approved" | "rejected" => {
                    c.execute(
                        "UPDATE riv_requests SET state = $3, decided_at = $4, decided_by = $5, \
                         reason = $6 WHERE id = $1 AND state = $2",
                        &[&id, &from, &to, &u.at, &u.by, &u.reason],
                    )
                    .await
                }
                "processing" => {
                    c.execute(
                        "UPDATE riv_requests SET state = $3, \
                         started_at = COALESCE(started_at, $4) WHERE id = $1 AND state = $2",
                        &[&id, &from, &to, &u.at],
                    )
                    .await
                }
                "done" => {
                    c.execute(
                        "UPDATE riv_requests SET state = $3, finished_at = $4, file = $5, \
                         expires_at = $6 WHERE id = $1 AND state = $2",
                        &[&id, &from, &to, &u.at, &u.file, &u.expires_at],
                    )
                    .await
                }
                "failed" => {
                    c.execute(
                        "UPDATE riv_requests SET state = $3, finished_at = $4, error = $5 \
                         WHERE id = $1 AND state = $2",
                        &[&id, &from, &to, &u.at, &u.error],
                    )
                    .await
                }
                _ => {
                    c.execute(
                        "UPDATE riv_requests SET state = $3 WHERE id = $1 AND state = $2",
                        &[&id, &from, &to],
                    )
                    .await
                }
            }
        })?;
        Ok(n == 1)
    }

    fn pending_subjects(
        &self,
        id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<SubjectRecord>, StoreError> {
        let rows = self.rows(
            &format!(
                "SELECT {SUBJECT_COLUMNS} FROM riv_subjects \
                 WHERE request = $1 AND pos > $2 AND outcome IS NULL ORDER BY pos LIMIT $3"
            ),
            &[&id, &after, &count(limit)],
        )?;
        rows.iter().map(subject_of).collect()
    }

    fn record_outcome(&self, id: i64, pos: i64, o: &SubjectOutcome) -> Result<bool, StoreError> {
        let data = o
            .data
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(json_error)?;
        let n = self.exec(
            "UPDATE riv_subjects SET outcome = $3, code = $4, data = $5 \
             WHERE request = $1 AND pos = $2 AND outcome IS NULL",
            &[&id, &pos, &o.outcome.as_str(), &o.code, &data],
        )?;
        Ok(n == 1)
    }

    fn subjects(&self, id: i64) -> Result<Vec<SubjectRecord>, StoreError> {
        let rows = self.rows(
            &format!("SELECT {SUBJECT_COLUMNS} FROM riv_subjects WHERE request = $1 ORDER BY pos"),
            &[&id],
        )?;
        rows.iter().map(subject_of).collect()
    }

    fn forget_subjects(&self, id: i64) -> Result<(), StoreError> {
        self.exec(
            "UPDATE riv_subjects SET kind = NULL, value = NULL, rilascio = NULL, data = NULL \
             WHERE request = $1",
            &[&id],
        )?;
        Ok(())
    }
}
