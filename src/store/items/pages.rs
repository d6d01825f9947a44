//! Item reads for the web record pages: decisions and tasks of a set of spaces (a viewer's),
//! filtered by goal, date, owner and status in SQL with a limit; goals by slug; task owners.

use super::views::{DECISION_ORDER, DECISION_SELECT, DecisionRecord, OVERDUE, TASK_ORDER, TASK_SELECT, TaskRecord};
use super::{DecisionView, TaskView};
use crate::store::filter::Filter;
use crate::store::states::TaskStatus;
use crate::store::{Store, StoreError};

/// Which decisions a page lists, newest first.
#[derive(Debug, Clone, Default)]
pub struct DecisionQuery {
    /// Only these spaces (none: nothing).
    pub space_ids: Vec<i64>,
    pub goal: Option<String>,
    /// One decision (`D-n`).
    pub id: Option<i64>,
    /// Decided at or after this unix second.
    pub from: Option<i64>,
    /// Decided before this unix second.
    pub until: Option<i64>,
    /// Only those recorded in these meeting notes (`N-n`).
    pub notes_id: Option<i64>,
    pub limit: i64,
}

/// Which tasks a page lists: those with a due time first, soonest first.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// Only these spaces (none: nothing).
    pub space_ids: Vec<i64>,
    pub goal: Option<String>,
    pub owner: Option<String>,
    pub status: Option<TaskStatus>,
    /// Only open tasks due before this time.
    pub overdue_at: Option<i64>,
    /// Only those recorded in these meeting notes (`N-n`).
    pub notes_id: Option<i64>,
    pub limit: i64,
}

/// A goal (`#goal SLUG [TITLE]`), with its space's slug.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Goal {
    pub id: i64,
    pub space_id: i64,
    pub space: String,
    pub slug: String,
    pub title: Option<String>,
    pub created_at: i64,
}

/// `a, b, c` for an `IN (…)` list of ids we hold (integers, so inlining them is safe).
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

impl Store {
    pub async fn decisions_where(&self, q: &DecisionQuery) -> Result<Vec<DecisionView>, StoreError> {
        if q.space_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut f = Filter::default()
            .always(format!("d.space_id IN ({})", id_list(&q.space_ids)))
            .when("g.slug = ?", q.goal.as_deref())
            .when("d.id = ?", q.id)
            .when("d.decided_at >= ?", q.from)
            .when("d.decided_at < ?", q.until)
            .when("d.notes_id = ?", q.notes_id);
        let limit = f.arg(q.limit);
        let sql = format!("{DECISION_SELECT}{} ORDER BY {DECISION_ORDER} LIMIT {limit}", f.sql());
        let rows: Vec<DecisionRecord> = f.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?;
        self.decision_views(rows).await
    }

    pub async fn tasks_where(&self, q: &TaskQuery) -> Result<Vec<TaskView>, StoreError> {
        if q.space_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut f = Filter::default()
            .always(format!("t.space_id IN ({})", id_list(&q.space_ids)))
            .when("g.slug = ?", q.goal.as_deref())
            .when("t.owner = ?", q.owner.as_deref())
            .when("t.status = ?", q.status.map(TaskStatus::as_str))
            .when(OVERDUE, q.overdue_at)
            .when("t.notes_id = ?", q.notes_id);
        let limit = f.arg(q.limit);
        let sql = format!("{TASK_SELECT}{} ORDER BY {TASK_ORDER} LIMIT {limit}", f.sql());
        let rows: Vec<TaskRecord> = f.bind(sqlx::query_as(&sql)).fetch_all(&self.pool).await?;
        self.task_views(rows).await
    }

    /// The goals named `slug` in these spaces (one per space at most).
    pub async fn goals_named(&self, slug: &str, space_ids: &[i64]) -> Result<Vec<Goal>, StoreError> {
        if space_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT g.id, g.space_id, s.slug AS space, g.slug, g.title, g.created_at FROM goals g JOIN spaces s ON s.id = g.space_id \
             WHERE g.slug = $1 AND g.space_id IN ({}) ORDER BY s.slug",
            id_list(space_ids)
        );
        Ok(sqlx::query_as(&sql).bind(slug).fetch_all(&self.pool).await?)
    }

    /// Every goal of these spaces, by slug (for a filter's choices).
    pub async fn goals_of(&self, space_ids: &[i64]) -> Result<Vec<Goal>, StoreError> {
        if space_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT g.id, g.space_id, s.slug AS space, g.slug, g.title, g.created_at FROM goals g JOIN spaces s ON s.id = g.space_id \
             WHERE g.space_id IN ({}) ORDER BY g.slug, s.slug LIMIT 500",
            id_list(space_ids)
        );
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// The owners of tasks in these spaces, sorted (for a filter's choices).
    pub async fn task_owners(&self, space_ids: &[i64]) -> Result<Vec<String>, StoreError> {
        if space_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT owner FROM tasks WHERE owner IS NOT NULL AND space_id IN ({}) ORDER BY owner LIMIT 500",
            id_list(space_ids)
        );
        let rows: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(o,)| o).collect())
    }

    /// The subjects of these threads, by id.
    pub async fn thread_subjects(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let sql = format!("SELECT id, subject FROM threads WHERE id IN ({})", id_list(&ids));
        let rows: Vec<(i64, String)> = sqlx::query_as(&sql).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().collect())
    }

    /// The time zone a member set in any of their spaces (the first that has one).
    pub async fn member_time_zone(&self, email: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT tz FROM members WHERE email = $1 AND tz IS NOT NULL ORDER BY id LIMIT 1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(tz,)| tz))
    }
}
