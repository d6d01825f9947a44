//! The docs/cli.md JSON views of items (decisions, tasks, proposals) and the planner reads of them
//! (asks and notes: `asks.rs`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

use super::{DecisionRow, ItemKind, PROPOSAL_COLUMNS, ProposalRow, TaskRow};
use crate::store::filter::Filter;
use crate::store::read::to_utc;
use crate::store::states::{DecisionSource, DecisionStatus, ProposalStatus, TaskStatus};
use crate::store::{Store, StoreError};

/// The filter "in the space with this slug" on table alias `t`, as a lookup the planner starts
/// from (so the item table's space index is used).
pub(super) fn space_is(t: &str) -> String {
    format!("{t}.space_id = (SELECT id FROM spaces WHERE slug = ?)")
}

/// The statement of [`Store::decisions`] and what it binds.
fn decision_list(space: Option<&str>, thread_id: Option<i64>, limit: Option<i64>) -> (String, Filter) {
    let mut f = Filter::default().when(&space_is("d"), space).when("d.thread_id = ?", thread_id);
    let limit = f.arg(limit.unwrap_or(i64::MAX));
    (format!("{DECISION_SELECT}{} ORDER BY {DECISION_ORDER} LIMIT {limit}", f.sql()), f)
}

/// Decisions newest first (the order `decisions_by_time` walks).
pub(super) const DECISION_ORDER: &str = "d.decided_at DESC, d.id DESC";

/// Open tasks due before a time.
pub(super) const OVERDUE: &str = "(t.status = 'open' AND t.due IS NOT NULL AND t.due < ?)";

/// Tasks with a due date first, soonest first.
pub(super) const TASK_ORDER: &str = "CASE WHEN t.due IS NULL THEN 1 ELSE 0 END, t.due, t.id";

/// docs/cli.md JSON decision.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub id: String,
    pub text: String,
    pub space: String,
    pub thread_id: i64,
    pub message_id: Option<String>,
    pub author: Option<String>,
    pub decided_at: DateTime<Utc>,
    pub goal: Option<String>,
    pub tasks: Vec<String>,
    pub source: DecisionSource,
    pub status: DecisionStatus,
    /// The decision this one replaced.
    pub supersedes: Option<String>,
    /// The meeting notes it was recorded in.
    pub notes: Option<String>,
    /// The decision that replaced this one (not in the JSON; the pages show it).
    #[serde(skip)]
    pub superseded_by: Option<String>,
}

/// docs/cli.md JSON task.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub id: String,
    pub title: String,
    pub space: String,
    pub owner: Option<String>,
    pub watchers: Vec<String>,
    pub due: Option<DateTime<Utc>>,
    pub status: TaskStatus,
    pub thread_id: i64,
    pub message_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub decision: Option<String>,
    pub goal: Option<String>,
    /// The meeting notes it was recorded in.
    pub notes: Option<String>,
}

/// docs/cli.md JSON proposal.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalView {
    pub id: String,
    pub text: String,
    pub closes_at: Option<DateTime<Utc>>,
    pub status: ProposalStatus,
    pub objections: Vec<ObjectionView>,
    pub decision: Option<String>,
    #[serde(skip)]
    pub space: String,
    #[serde(skip)]
    pub thread_id: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectionView {
    pub by: Option<String>,
    pub at: DateTime<Utc>,
    pub text: String,
}

/// Filters for `docket tasks`.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub space: Option<String>,
    pub owner: Option<String>,
    pub status: Option<TaskStatus>,
    /// Only open tasks due before this time.
    pub overdue_at: Option<i64>,
    pub thread_id: Option<i64>,
    pub limit: Option<i64>,
}

/// A decision row with what its view joins in: the space slug, the Message-ID, the goal slug.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct DecisionRecord {
    #[sqlx(flatten)]
    row: DecisionRow,
    space: String,
    message_id: Option<String>,
    goal: Option<String>,
    #[sqlx(try_from = "String")]
    status: DecisionStatus,
    supersedes_id: Option<i64>,
    notes_id: Option<i64>,
    superseded_by: Option<i64>,
}

/// The columns and joins a [`DecisionRecord`] is read with (`d` decisions, `s` spaces, `g` goals).
pub(super) const DECISION_SELECT: &str = "SELECT d.id, d.space_id, d.thread_id, d.text, d.author, d.decided_at, d.source, s.slug AS space, m.message_id, g.slug AS goal, \
     d.status, d.supersedes_id, d.notes_id, (SELECT MIN(n.id) FROM decisions n WHERE n.supersedes_id = d.id) AS superseded_by \
     FROM decisions d JOIN spaces s ON s.id = d.space_id LEFT JOIN messages m ON m.id = d.message_id \
     LEFT JOIN goals g ON g.id = d.goal_id";

/// A task row with what its view joins in, and its watchers and completion time.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct TaskRecord {
    #[sqlx(flatten)]
    row: TaskRow,
    space: String,
    watchers: String,
    message_id: Option<String>,
    done_at: Option<i64>,
    goal: Option<String>,
    notes_id: Option<i64>,
}

/// The columns and joins a [`TaskRecord`] is read with (`t` tasks, `s` spaces, `g` goals).
pub(super) const TASK_SELECT: &str = "SELECT t.id, t.space_id, t.thread_id, t.title, t.owner, t.due, t.status, t.created_by, t.created_at, \
     s.slug AS space, t.watchers, m.message_id, t.done_at, g.slug AS goal, t.notes_id \
     FROM tasks t JOIN spaces s ON s.id = t.space_id LEFT JOIN messages m ON m.id = t.message_id \
     LEFT JOIN goals g ON g.id = t.goal_id";

/// A proposal row with its space slug.
#[derive(Debug, sqlx::FromRow)]
struct ProposalRecord {
    #[sqlx(flatten)]
    row: ProposalRow,
    space: String,
}

impl Store {
    /// Decisions, newest first; one space, one thread, or all.
    pub async fn decisions(
        &self,
        space: Option<&str>,
        thread_id: Option<i64>,
        limit: Option<i64>,
    ) -> Result<Vec<DecisionView>, StoreError> {
        let (sql, f) = decision_list(space, thread_id, limit);
        let rows: Vec<DecisionRecord> = f.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?;
        self.decision_views(rows).await
    }

    /// The views of decision records (their linked tasks read for all of them at once).
    pub(super) async fn decision_views(&self, rows: Vec<DecisionRecord>) -> Result<Vec<DecisionView>, StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.row.id).collect();
        let mut links = self.linked_many(ItemKind::Decision, &ids, ItemKind::Task).await?;
        let mut out = Vec::with_capacity(rows.len());
        for DecisionRecord { row, space, message_id, goal, status, supersedes_id, notes_id, superseded_by } in rows {
            let tasks = links.remove(&row.id).unwrap_or_default();
            out.push(DecisionView {
                id: ItemKind::Decision.label(row.id),
                text: row.text,
                space,
                thread_id: row.thread_id,
                message_id,
                author: row.author,
                decided_at: to_utc(row.decided_at),
                goal,
                tasks: tasks.into_iter().map(|t| ItemKind::Task.label(t)).collect(),
                source: row.source,
                status,
                supersedes: supersedes_id.map(|d| ItemKind::Decision.label(d)),
                notes: notes_id.map(|n| ItemKind::Notes.label(n)),
                superseded_by: superseded_by.map(|d| ItemKind::Decision.label(d)),
            });
        }
        Ok(out)
    }

    pub async fn tasks(&self, f: &TaskFilter) -> Result<Vec<TaskView>, StoreError> {
        let mut w = Filter::default()
            .when(&space_is("t"), f.space.as_deref())
            .when("t.owner = ?", f.owner.as_deref())
            .when("t.status = ?", f.status.map(TaskStatus::as_str))
            .when(OVERDUE, f.overdue_at)
            .when("t.thread_id = ?", f.thread_id);
        let limit = w.arg(f.limit.unwrap_or(i64::MAX));
        let sql = format!("{TASK_SELECT}{} ORDER BY {TASK_ORDER} LIMIT {limit}", w.sql());
        let rows: Vec<TaskRecord> = w.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?;
        self.task_views(rows).await
    }

    /// The views of task records (the decision each is linked to read for all of them at once).
    pub(super) async fn task_views(&self, rows: Vec<TaskRecord>) -> Result<Vec<TaskView>, StoreError> {
        let ids: Vec<i64> = rows.iter().map(|r| r.row.id).collect();
        let mut links = self.linked_many(ItemKind::Task, &ids, ItemKind::Decision).await?;
        let mut out = Vec::with_capacity(rows.len());
        for TaskRecord { row, space, watchers, message_id, done_at, goal, notes_id } in rows {
            let decision = links.remove(&row.id).and_then(|d| d.into_iter().next());
            out.push(TaskView {
                id: ItemKind::Task.label(row.id),
                title: row.title,
                space,
                owner: row.owner,
                watchers: serde_json::from_str(&watchers).unwrap_or_default(),
                due: row.due.map(to_utc),
                status: row.status,
                thread_id: row.thread_id,
                message_id,
                created_by: row.created_by,
                created_at: to_utc(row.created_at),
                done_at: done_at.map(to_utc),
                decision: decision.map(|d| ItemKind::Decision.label(d)),
                goal,
                notes: notes_id.map(|n| ItemKind::Notes.label(n)),
            });
        }
        Ok(out)
    }

    pub async fn proposals(
        &self,
        space: Option<&str>,
        status: Option<ProposalStatus>,
        limit: Option<i64>,
    ) -> Result<Vec<ProposalView>, StoreError> {
        self.proposals_by(Filter::default().when(&space_is("p"), space).when("p.status = ?", status.map(ProposalStatus::as_str)), limit)
            .await
    }

    /// The proposals made in one thread, newest first.
    pub async fn thread_proposals(&self, thread_id: i64) -> Result<Vec<ProposalView>, StoreError> {
        self.proposals_by(Filter::default().when("p.thread_id = ?", Some(thread_id)), None).await
    }

    async fn proposals_by(&self, mut f: Filter, limit: Option<i64>) -> Result<Vec<ProposalView>, StoreError> {
        let limit = f.arg(limit.unwrap_or(i64::MAX));
        let sql = format!(
            "SELECT p.id, p.space_id, p.thread_id, p.text, p.author, p.closes_at, p.status, p.goal_id, p.message_id, p.decision_id, \
             s.slug AS space FROM proposals p JOIN spaces s ON s.id = p.space_id{} ORDER BY p.id DESC LIMIT {limit}",
            f.sql()
        );
        let rows: Vec<ProposalRecord> = f.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for ProposalRecord { row, space } in rows {
            let objections: Vec<(Option<String>, i64, String)> =
                sqlx::query_as("SELECT by_addr, at, text FROM objections WHERE proposal_id = $1 ORDER BY at, id")
                    .bind(row.id)
                    .fetch_all(&self.pool)
                    .await?;
            out.push(ProposalView {
                id: ItemKind::Proposal.label(row.id),
                text: row.text,
                closes_at: row.closes_at.map(to_utc),
                status: row.status,
                objections: objections.into_iter().map(|(by, at, text)| ObjectionView { by, at: to_utc(at), text }).collect(),
                decision: row.decision_id.map(|d| ItemKind::Decision.label(d)),
                space,
                thread_id: row.thread_id,
            });
        }
        Ok(out)
    }

    /// Per item of `ids` (of `kind`): the ids of the `want` items linked to it, in id order. Two
    /// queries (one per end of a link) in pages of ids, whatever the number of items.
    async fn linked_many(&self, kind: ItemKind, ids: &[i64], want: ItemKind) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
        let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
        for page in ids.chunks(500) {
            // Integers we hold, so inlining them is safe.
            let list = page.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT a_id, b_id FROM item_links WHERE a_kind = $1 AND b_kind = $2 AND a_id IN ({list}) \
                 UNION SELECT b_id, a_id FROM item_links WHERE b_kind = $1 AND a_kind = $2 AND b_id IN ({list}) ORDER BY 1, 2"
            );
            let rows: Vec<(i64, i64)> = sqlx::query_as(&sql).bind(kind.prefix()).bind(want.prefix()).fetch_all(&self.pool).await?;
            for (item, other) in rows {
                out.entry(item).or_default().push(other);
            }
        }
        Ok(out)
    }

    /// Open proposals whose closing time has come, with their standing objection counts.
    pub async fn proposals_closing(&self, now: i64) -> Result<Vec<(ProposalRow, i64)>, StoreError> {
        let sql = format!(
            "SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE status = 'open' AND closes_at IS NOT NULL AND closes_at <= $1 ORDER BY closes_at, id"
        );
        let rows: Vec<ProposalRow> = sqlx::query_as(&sql).bind(now).fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM objections WHERE proposal_id = $1").bind(row.id).fetch_one(&self.pool).await?;
            out.push((row, n));
        }
        Ok(out)
    }

    /// Per thread: its decision ids, task ids, and when its last decision was made.
    pub async fn thread_items(&self, thread_id: i64) -> Result<(Vec<String>, Vec<String>, Option<i64>), StoreError> {
        let decisions: Vec<(i64, i64)> = sqlx::query_as("SELECT id, decided_at FROM decisions WHERE thread_id = $1 ORDER BY id")
            .bind(thread_id)
            .fetch_all(&self.pool)
            .await?;
        let tasks: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM tasks WHERE thread_id = $1 ORDER BY id").bind(thread_id).fetch_all(&self.pool).await?;
        let last = decisions.iter().map(|(_, at)| *at).max();
        Ok((
            decisions.into_iter().map(|(id, _)| ItemKind::Decision.label(id)).collect(),
            tasks.into_iter().map(|(id,)| ItemKind::Task.label(id)).collect(),
            last,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLite's plan for a statement, one detail line per step.
    async fn plan(store: &Store, sql: &str, f: Filter) -> Vec<String> {
        let rows: Vec<(i64, i64, i64, String)> =
            f.bind(sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))).fetch_all(&store.pool).await.unwrap();
        rows.into_iter().map(|(_, _, _, detail)| detail).collect()
    }

    #[tokio::test]
    async fn a_threads_decisions_and_a_spaces_list_are_read_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite:{}?mode=rwc", dir.path().join("d.db").display())).await.unwrap();
        let (sql, f) = decision_list(None, Some(7), None);
        let steps = plan(&store, &sql, f).await;
        assert!(steps.iter().any(|s| s.contains("USING INDEX decisions_by_thread")), "{steps:?}");
        assert!(!steps.iter().any(|s| s == "SCAN d"), "a thread's decisions scanned the table: {steps:?}");
        let (sql, f) = decision_list(Some("eng"), None, Some(50));
        let steps = plan(&store, &sql, f).await;
        assert!(!steps.iter().any(|s| s == "SCAN d"), "a space's decisions scanned the table: {steps:?}");
    }
}
