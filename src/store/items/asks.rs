//! Asks (`A-n`) and meeting notes (`N-n`), and decisions that supersede others: what `record` and
//! `tick` write, the docs/cli.md JSON views, and the reads the ask planner needs.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::views::space_is;
use super::{Change, ItemKind, Origin};
use crate::store::filter::Filter;
use crate::store::messages::Tx;
use crate::store::read::to_utc;
use crate::store::states::{AskStatus, DecisionStatus, ProposalStatus};
use crate::store::{Store, StoreError};

/// An ask row, for `record` (answers), the closing step of `tick` and the ask planner.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AskRow {
    pub id: i64,
    pub space_id: i64,
    pub thread_id: i64,
    pub message_id: Option<i64>,
    pub text: String,
    pub asked_by: Option<String>,
    pub created_at: i64,
    pub closes_at: Option<i64>,
    pub default_action: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: AskStatus,
    pub answered_by: Option<String>,
    pub answered_at: Option<i64>,
    pub decision_id: Option<i64>,
    pub goal_id: Option<i64>,
    pub notes_id: Option<i64>,
}

const ASK_COLUMNS: &str = "a.id, a.space_id, a.thread_id, a.message_id, a.text, a.asked_by, a.created_at, a.closes_at, a.default_action, \
     a.status, a.answered_by, a.answered_at, a.decision_id, a.goal_id, a.notes_id";

/// An ask with the members it names (empty: the whole space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub row: AskRow,
    pub asked_of: Vec<String>,
}

impl Ask {
    /// Whether the ask is of `email`: it names them, or names nobody and was not asked by them.
    pub fn is_of(&self, email: &str) -> bool {
        if self.asked_of.is_empty() { self.row.asked_by.as_deref() != Some(email) } else { self.asked_of.iter().any(|e| e == email) }
    }
}

/// docs/cli.md JSON ask.
#[derive(Debug, Clone, Serialize)]
pub struct AskView {
    pub id: String,
    pub text: String,
    pub space: String,
    pub thread_id: i64,
    pub message_id: Option<String>,
    pub asked_by: Option<String>,
    pub asked_of: Vec<String>,
    pub closes_at: Option<DateTime<Utc>>,
    pub default: Option<String>,
    pub status: AskStatus,
    pub answered_by: Option<String>,
    pub decision: Option<String>,
}

/// docs/cli.md JSON notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotesView {
    pub id: String,
    pub title: String,
    pub space: String,
    pub thread_id: i64,
    pub message_id: Option<String>,
    pub author: Option<String>,
    pub date: DateTime<Utc>,
    pub items: Vec<String>,
    /// When docket learnt of them (the later of their date and their arrival), for digests.
    #[serde(skip)]
    pub known: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct AskRecord {
    #[sqlx(flatten)]
    row: AskRow,
    space: String,
    message: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct NotesRecord {
    id: i64,
    title: String,
    space: String,
    thread_id: i64,
    message_id: Option<String>,
    author: Option<String>,
    created_at: i64,
    known: i64,
}

/// Which notes to read (all filters optional).
#[derive(Debug, Default)]
struct NotesWhere<'a> {
    space: Option<&'a str>,
    space_id: Option<i64>,
    /// Known (sent and arrived) after this unix second.
    since: Option<i64>,
    /// Known at or before this unix second.
    until: Option<i64>,
    id: Option<i64>,
    limit: Option<i64>,
}

impl Tx {
    pub async fn insert_notes(&mut self, o: &Origin<'_>, title: &str) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO notes (space_id, thread_id, message_id, title, author, created_at, goal_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(o.space_id)
        .bind(o.thread_id)
        .bind(o.message_id)
        .bind(title)
        .bind(o.author)
        .bind(o.at)
        .bind(o.goal_id)
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    /// A new open ask of `asked_of` (member addresses; empty: the whole space).
    pub async fn insert_ask(
        &mut self,
        o: &Origin<'_>,
        text: &str,
        asked_of: &[String],
        closes_at: Option<i64>,
        default: Option<&str>,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO asks (space_id, thread_id, message_id, text, asked_by, created_at, closes_at, default_action, status, goal_id, notes_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10) RETURNING id",
        )
        .bind(o.space_id)
        .bind(o.thread_id)
        .bind(o.message_id)
        .bind(text)
        .bind(o.author)
        .bind(o.at)
        .bind(closes_at)
        .bind(default)
        .bind(o.goal_id)
        .bind(o.notes_id)
        .fetch_one(self.conn())
        .await?;
        for email in asked_of {
            sqlx::query("INSERT INTO ask_members (ask_id, email) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(id)
                .bind(email)
                .execute(self.conn())
                .await?;
        }
        Ok(id)
    }

    /// The open asks of a thread with their members, oldest first (a reply may answer them).
    pub async fn open_asks_in(&mut self, thread_id: i64) -> Result<Vec<Ask>, StoreError> {
        let sql = format!("SELECT {ASK_COLUMNS} FROM asks a WHERE a.thread_id = $1 AND a.status = 'open' ORDER BY a.id");
        let rows: Vec<AskRow> = sqlx::query_as(&sql).bind(thread_id).fetch_all(self.conn()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let members: Vec<(String,)> = sqlx::query_as("SELECT email FROM ask_members WHERE ask_id = $1 ORDER BY email")
                .bind(row.id)
                .fetch_all(self.conn())
                .await?;
            out.push(Ask { row, asked_of: members.into_iter().map(|(e,)| e).collect() });
        }
        Ok(out)
    }

    pub async fn ask(&mut self, id: i64) -> Result<Option<AskRow>, StoreError> {
        let sql = format!("SELECT {ASK_COLUMNS} FROM asks a WHERE a.id = $1");
        Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?)
    }

    /// Closes an open ask: answered by `by`, defaulted into `decision_id`, or expired. Returns
    /// whether it was still open (a second close changes nothing).
    pub async fn close_ask(
        &mut self,
        id: i64,
        status: AskStatus,
        by: Option<&str>,
        decision_id: Option<i64>,
        change: &Change<'_>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE asks SET status = $1, answered_by = $2, answered_at = $3, decision_id = $4 WHERE id = $5 AND status = 'open'",
        )
        .bind(status.as_str())
        .bind(by)
        .bind(change.at)
        .bind(decision_id)
        .bind(id)
        .execute(self.conn())
        .await?
        .rows_affected();
        if done == 0 {
            return Ok(false);
        }
        self.record_history((ItemKind::Ask, id), "status", Some(AskStatus::Open.as_str()), Some(status.as_str()), change).await?;
        Ok(true)
    }

    /// Marks the decision an ask's default became (decisions.ask_id).
    pub async fn set_decision_ask(&mut self, decision_id: i64, ask_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE decisions SET ask_id = $1 WHERE id = $2").bind(ask_id).bind(decision_id).execute(self.conn()).await?;
        Ok(())
    }

    /// A decision's status, if it exists.
    pub async fn decision_status(&mut self, id: i64) -> Result<Option<DecisionStatus>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT status FROM decisions WHERE id = $1").bind(id).fetch_optional(self.conn()).await?;
        Ok(row.map(|(s,)| s.parse::<DecisionStatus>()).transpose()?)
    }

    /// `new` supersedes `old`: old's status becomes superseded (its history is kept) and new
    /// names it.
    pub async fn supersede(&mut self, old: i64, new: i64, change: &Change<'_>) -> Result<(), StoreError> {
        sqlx::query("UPDATE decisions SET status = 'superseded' WHERE id = $1").bind(old).execute(self.conn()).await?;
        sqlx::query("UPDATE decisions SET supersedes_id = $1 WHERE id = $2").bind(old).bind(new).execute(self.conn()).await?;
        let (standing, superseded) = (DecisionStatus::Standing.as_str(), DecisionStatus::Superseded.as_str());
        self.record_history((ItemKind::Decision, old), "status", Some(standing), Some(superseded), change).await?;
        self.link((ItemKind::Decision, old), (ItemKind::Decision, new)).await
    }

    /// The open tasks linked to a decision (listed for review when it is superseded).
    pub async fn open_tasks_of_decision(&mut self, decision_id: i64) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT t.id FROM tasks t JOIN item_links l ON \
             ((l.a_kind = 'D' AND l.a_id = $1 AND l.b_kind = 'T' AND l.b_id = t.id) OR (l.b_kind = 'D' AND l.b_id = $1 AND l.a_kind = 'T' AND l.a_id = t.id)) \
             WHERE t.status = 'open' ORDER BY t.id",
        )
        .bind(decision_id)
        .fetch_all(self.conn())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The proposer takes back an open proposal.
    pub async fn withdraw_proposal(&mut self, id: i64, change: &Change<'_>) -> Result<(), StoreError> {
        sqlx::query("UPDATE proposals SET status = 'withdrawn' WHERE id = $1 AND status = 'open'").bind(id).execute(self.conn()).await?;
        let (open, withdrawn) = (ProposalStatus::Open.as_str(), ProposalStatus::Withdrawn.as_str());
        self.record_history((ItemKind::Proposal, id), "status", Some(open), Some(withdrawn), change).await
    }

    /// The newest open proposal of `author` in a thread (the default target of `#withdraw`).
    pub async fn open_proposal_of(&mut self, thread_id: i64, author: &str) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM proposals WHERE thread_id = $1 AND author = $2 AND status = 'open' ORDER BY id DESC LIMIT 1")
                .bind(thread_id)
                .bind(author)
                .fetch_optional(self.conn())
                .await?;
        Ok(row.map(|(id,)| id))
    }
}

impl Store {
    /// Asks, newest first; one space and/or one status, or all.
    pub async fn asks(&self, space: Option<&str>, status: Option<AskStatus>, limit: Option<i64>) -> Result<Vec<AskView>, StoreError> {
        let mut f = Filter::default().when(&space_is("a"), space).when("a.status = ?", status.map(AskStatus::as_str));
        let limit = f.arg(limit.unwrap_or(i64::MAX));
        let sql = format!(
            "SELECT {ASK_COLUMNS}, s.slug AS space, m.message_id AS message FROM asks a JOIN spaces s ON s.id = a.space_id \
             LEFT JOIN messages m ON m.id = a.message_id{} ORDER BY a.id DESC LIMIT {limit}",
            f.sql()
        );
        let rows: Vec<AskRecord> = f.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for AskRecord { row, space, message } in rows {
            let asked_of = self.ask_members(row.id).await?;
            out.push(AskView {
                id: ItemKind::Ask.label(row.id),
                text: row.text,
                space,
                thread_id: row.thread_id,
                message_id: message,
                asked_by: row.asked_by,
                asked_of,
                closes_at: row.closes_at.map(to_utc),
                default: row.default_action,
                status: row.status,
                answered_by: row.answered_by,
                decision: row.decision_id.map(|d| ItemKind::Decision.label(d)),
            });
        }
        Ok(out)
    }

    /// The addresses an ask names, in order.
    pub async fn ask_members(&self, id: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT email FROM ask_members WHERE ask_id = $1 ORDER BY email").bind(id).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(e,)| e).collect())
    }

    /// Open asks whose closing time has come (the closing step of `tick`).
    pub async fn asks_closing(&self, now: i64) -> Result<Vec<AskRow>, StoreError> {
        let sql = format!(
            "SELECT {ASK_COLUMNS} FROM asks a WHERE a.status = 'open' AND a.closes_at IS NOT NULL AND a.closes_at <= $1 \
             ORDER BY a.closes_at, a.id"
        );
        Ok(sqlx::query_as(&sql).bind(now).fetch_all(&self.pool).await?)
    }

    /// Asks closing (or closed) between two times, with their members, for the reminder and
    /// outcome mail.
    pub async fn asks_closing_between(&self, from: i64, to: i64) -> Result<Vec<Ask>, StoreError> {
        let sql = format!(
            "SELECT {ASK_COLUMNS} FROM asks a WHERE a.closes_at IS NOT NULL AND a.closes_at > $1 AND a.closes_at <= $2 \
             ORDER BY a.closes_at, a.id"
        );
        let rows: Vec<AskRow> = sqlx::query_as(&sql).bind(from).bind(to).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let asked_of = self.ask_members(row.id).await?;
            out.push(Ask { row, asked_of });
        }
        Ok(out)
    }

    /// Open asks of a space with their members (a digest lists those waiting for the member).
    pub async fn open_asks_of_space(&self, space_id: i64) -> Result<Vec<Ask>, StoreError> {
        let sql = format!("SELECT {ASK_COLUMNS} FROM asks a WHERE a.space_id = $1 AND a.status = 'open' ORDER BY a.closes_at, a.id");
        let rows: Vec<AskRow> = sqlx::query_as(&sql).bind(space_id).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let asked_of = self.ask_members(row.id).await?;
            out.push(Ask { row, asked_of });
        }
        Ok(out)
    }

    /// Meeting notes, newest first, with the items each created.
    pub async fn notes(&self, space: Option<&str>, since: Option<i64>, limit: Option<i64>) -> Result<Vec<NotesView>, StoreError> {
        self.notes_where(NotesWhere { space, since, limit, ..Default::default() }).await
    }

    /// One set of notes by id.
    pub async fn notes_by_id(&self, id: i64) -> Result<Option<NotesView>, StoreError> {
        Ok(self.notes_where(NotesWhere { id: Some(id), limit: Some(1), ..Default::default() }).await?.into_iter().next())
    }

    /// The notes of a space sent in `(after, until]`, oldest first (a digest's "New meeting notes").
    pub async fn notes_of_space(&self, space_id: i64, after: i64, until: i64) -> Result<Vec<NotesView>, StoreError> {
        let mut notes =
            self.notes_where(NotesWhere { space_id: Some(space_id), since: Some(after), until: Some(until), ..Default::default() }).await?;
        notes.reverse();
        Ok(notes)
    }

    async fn notes_where(&self, w: NotesWhere<'_>) -> Result<Vec<NotesView>, StoreError> {
        let NotesWhere { space, space_id, since, until, id, limit } = w;
        let rows: Vec<NotesRecord> = sqlx::query_as(
            "SELECT id, title, space, thread_id, message_id, author, created_at, known FROM (\
               SELECT n.id, n.title, s.slug AS space, n.space_id, n.thread_id, m.message_id, n.author, n.created_at, \
                 CASE WHEN i.received_at IS NOT NULL AND i.received_at > n.created_at THEN i.received_at ELSE n.created_at END AS known \
               FROM notes n JOIN spaces s ON s.id = n.space_id LEFT JOIN messages m ON m.id = n.message_id \
               LEFT JOIN inbound i ON i.id = m.inbound_id) k \
             WHERE ($1 IS NULL OR space = $1) AND ($2 IS NULL OR known > $2) AND ($3 IS NULL OR id = $3) \
             AND ($4 IS NULL OR space_id = $4) AND ($5 IS NULL OR known <= $5) ORDER BY id DESC LIMIT $6",
        )
        .bind(space)
        .bind(since)
        .bind(id)
        .bind(space_id)
        .bind(until)
        .bind(limit.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for n in rows {
            out.push(NotesView {
                id: ItemKind::Notes.label(n.id),
                items: self.notes_items(n.id).await?,
                title: n.title,
                space: n.space,
                thread_id: n.thread_id,
                message_id: n.message_id,
                author: n.author,
                date: to_utc(n.created_at),
                known: n.known,
            });
        }
        Ok(out)
    }

    /// The items a set of notes created: decisions, tasks, proposals and asks, in that order.
    async fn notes_items(&self, notes_id: i64) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        for kind in [ItemKind::Decision, ItemKind::Task, ItemKind::Proposal, ItemKind::Ask] {
            let sql = format!("SELECT id FROM {} WHERE notes_id = $1 ORDER BY id", kind.table());
            let rows: Vec<(i64,)> = sqlx::query_as(&sql).bind(notes_id).fetch_all(&self.pool).await?;
            out.extend(rows.into_iter().map(|(id,)| kind.label(id)));
        }
        Ok(out)
    }
}
