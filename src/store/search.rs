//! What the search index reads: new row ids per table (its watermarks), the rows to index by id,
//! and the current thread and subject of hits (threads merge after indexing).

use super::{Store, StoreError};

/// A table the index follows by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Messages,
    Decisions,
    Tasks,
    History,
}

impl Feed {
    fn table(self) -> &'static str {
        match self {
            Feed::Messages => "messages",
            Feed::Decisions => "decisions",
            Feed::Tasks => "tasks",
            Feed::History => "item_history",
        }
    }
}

/// One message, decision or task as the index sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchRow {
    pub id: i64,
    pub space: String,
    pub thread_id: i64,
    /// The Message-ID header (of the message, or the message an item came from).
    pub message_id: Option<String>,
    pub from_addr: Option<String>,
    pub from_name: Option<String>,
    pub date: i64,
    /// The message subject, or the thread subject for an item.
    pub subject: String,
    /// Visible text, decision text or task title.
    pub body: String,
    pub status: Option<String>,
    pub goal: Option<String>,
}

/// Where a hit lives now.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HitPlace {
    pub id: i64,
    pub thread_id: i64,
    pub subject: String,
}

/// A message's body as the index reads it: its first 256 Ki characters of visible text. However
/// large the mail, what the indexer holds and tokenises per message stays small (a 40 MiB body took
/// about 4 times its size to index whole, outside `smtp.memory_budget`).
const MESSAGE_ROWS: &str = "SELECT m.id, s.slug AS space, m.thread_id, m.message_id, m.from_addr, m.from_name, m.date, m.subject, \
     substr(m.visible_text, 1, 262144) AS body, CAST(NULL AS TEXT) AS status, CAST(NULL AS TEXT) AS goal \
     FROM messages m JOIN spaces s ON s.id = m.space_id WHERE m.id IN";
const DECISION_ROWS: &str = "SELECT d.id, s.slug AS space, d.thread_id, m.message_id, d.author AS from_addr, \
     CAST(NULL AS TEXT) AS from_name, d.decided_at AS date, COALESCE(th.subject, '') AS subject, d.text AS body, \
     CAST(NULL AS TEXT) AS status, g.slug AS goal \
     FROM decisions d JOIN spaces s ON s.id = d.space_id LEFT JOIN messages m ON m.id = d.message_id \
     LEFT JOIN threads th ON th.id = d.thread_id LEFT JOIN goals g ON g.id = d.goal_id WHERE d.id IN";
const TASK_ROWS: &str = "SELECT k.id, s.slug AS space, k.thread_id, m.message_id, k.created_by AS from_addr, \
     k.owner AS from_name, k.created_at AS date, COALESCE(th.subject, '') AS subject, k.title AS body, \
     k.status AS status, g.slug AS goal \
     FROM tasks k JOIN spaces s ON s.id = k.space_id LEFT JOIN messages m ON m.id = k.message_id \
     LEFT JOIN threads th ON th.id = k.thread_id LEFT JOIN goals g ON g.id = k.goal_id WHERE k.id IN";

/// `(1, 2, 3)`: the ids are integers, so inlining them is safe.
fn id_list(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("({})", list.join(", "))
}

impl Store {
    /// Ids above `after`, ascending, at most `limit`.
    pub async fn ids_after(&self, feed: Feed, after: i64, limit: i64) -> Result<Vec<i64>, StoreError> {
        let sql = format!("SELECT id FROM {} WHERE id > $1 ORDER BY id LIMIT $2", feed.table());
        let rows: Vec<(i64,)> = sqlx::query_as(&sql).bind(after).bind(limit).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The largest id of a table (0 when empty).
    pub async fn max_id(&self, feed: Feed) -> Result<i64, StoreError> {
        let sql = format!("SELECT COALESCE(MAX(id), 0) FROM {}", feed.table());
        let (n,): (i64,) = sqlx::query_as(&sql).fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Rows of messages, decisions and tasks (for a progress bar's total).
    pub async fn searchable_count(&self) -> Result<u64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT (SELECT COUNT(*) FROM messages) + (SELECT COUNT(*) FROM decisions) + (SELECT COUNT(*) FROM tasks)")
                .fetch_one(&self.pool)
                .await?;
        Ok(n.max(0) as u64)
    }

    /// Rows to index, by id (`Feed::History` has none: see `history_items`).
    pub async fn search_rows(&self, feed: Feed, ids: &[i64]) -> Result<Vec<SearchRow>, StoreError> {
        let prefix = match feed {
            Feed::Messages => MESSAGE_ROWS,
            Feed::Decisions => DECISION_ROWS,
            Feed::Tasks => TASK_ROWS,
            Feed::History => return Ok(Vec::new()),
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{prefix} {}", id_list(ids));
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// The items (`D`/`T`/`P` prefix, id) that history rows changed.
    pub async fn history_items(&self, ids: &[i64]) -> Result<Vec<(String, i64)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT DISTINCT kind, item_id FROM item_history WHERE id IN {}", id_list(ids));
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// Current thread (and thread subject) of messages, decisions or tasks.
    pub async fn hit_places(&self, feed: Feed, ids: &[i64]) -> Result<Vec<HitPlace>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let table = feed.table();
        let subject = if feed == Feed::Messages { "x.subject" } else { "COALESCE(th.subject, '')" };
        let sql = format!(
            "SELECT x.id, x.thread_id, {subject} AS subject FROM {table} x LEFT JOIN threads th ON th.id = x.thread_id WHERE x.id IN {}",
            id_list(ids)
        );
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }
}
