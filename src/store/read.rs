//! The read side: threads and messages in the JSON shapes of docs/cli.md.

use super::{Store, StoreError};
use crate::parse::reply::RemovedKind;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// docs/cli.md JSON thread.
#[derive(Debug, Clone, Serialize)]
pub struct ThreadView {
    pub id: i64,
    pub space: String,
    pub subject: String,
    pub started_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub message_count: i64,
    pub participants: Vec<String>,
    pub rounds: i64,
    pub status: super::states::ThreadStatus,
    pub decisions: Vec<String>,
    pub tasks: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageView>>,
}

/// docs/cli.md JSON message inside `thread ID`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    pub id: i64,
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub date: DateTime<Utc>,
    pub subject: String,
    pub visible_text: String,
    /// What the visible text left out (quote, attribution, signature, footer, forward), in order.
    /// Not part of the `--json` shape (docs/cli.md); the text view and the web view show it.
    #[serde(skip)]
    pub removed: Vec<crate::parse::reply::Removed>,
    pub attachments: Vec<AttachmentView>,
    #[serde(skip)]
    pub from_name: Option<String>,
    #[serde(skip)]
    pub flags: Vec<String>,
}

impl MessageView {
    /// What the visible text left out, in a few words: "attribution, quote (5 lines)".
    pub fn removed_summary(&self) -> String {
        let mut kinds: Vec<&str> = Vec::new();
        for r in &self.removed {
            let k = match r.kind {
                RemovedKind::Quote => "quote",
                RemovedKind::Attribution => "attribution",
                RemovedKind::Forwarded => "forward",
                RemovedKind::Signature => "signature",
                RemovedKind::Footer => "footer",
            };
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        }
        let lines: usize = self.removed.iter().map(|r| r.text.lines().count()).sum();
        format!("{} ({lines} {})", kinds.join(", "), if lines == 1 { "line" } else { "lines" })
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttachmentView {
    #[serde(skip)]
    pub message_id: i64,
    pub filename: Option<String>,
    pub content_type: String,
    pub size: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct ThreadRow {
    id: i64,
    space: String,
    subject: String,
    started_at: i64,
    last_activity_at: i64,
}

#[derive(Debug, sqlx::FromRow)]
struct MessageRow {
    id: i64,
    message_id: Option<String>,
    from_addr: Option<String>,
    from_name: Option<String>,
    date: i64,
    subject: String,
    visible_text: String,
    flags: String,
    removed: String,
}

const THREAD_SELECT: &str =
    "SELECT t.id, s.slug AS space, t.subject, t.started_at, t.last_activity_at FROM threads t JOIN spaces s ON s.id = t.space_id";
const MESSAGE_SELECT: &str = "SELECT id, message_id, from_addr, from_name, date, subject, visible_text, flags, removed FROM messages";

/// Thread statistics derived from its messages in date order.
#[derive(Debug, Default)]
struct Stats {
    count: i64,
    participants: Vec<String>,
    rounds: i64,
    last_author: Option<String>,
    /// Dates of the messages that were rounds.
    round_dates: Vec<i64>,
}

impl Stats {
    /// A round is a message whose author differs from the previous message's (docs/mail-flow.md).
    fn add(&mut self, from: Option<&str>, date: i64) {
        self.count += 1;
        let from = from.unwrap_or("").to_string();
        if let Some(last) = &self.last_author
            && *last != from
        {
            self.rounds += 1;
            self.round_dates.push(date);
        }
        if !from.is_empty() && !self.participants.contains(&from) {
            self.participants.push(from.clone());
        }
        self.last_author = Some(from);
    }

    /// Rounds after the last decision (all of them when there is none).
    fn rounds_since(&self, decided_at: Option<i64>) -> i64 {
        match decided_at {
            Some(at) => self.round_dates.iter().filter(|d| **d > at).count() as i64,
            None => self.rounds,
        }
    }
}

/// docs/mail-flow.md: looping when more than `loop_rounds` rounds since the last decision; decided when it
/// has a decision and is not looping again.
pub fn thread_status(rounds_since_decision: i64, has_decision: bool, loop_rounds: i64) -> super::states::ThreadStatus {
    use super::states::ThreadStatus;
    if rounds_since_decision > loop_rounds {
        ThreadStatus::Looping
    } else if has_decision {
        ThreadStatus::Decided
    } else {
        ThreadStatus::Open
    }
}

impl Store {
    /// Threads, most recently active first; all spaces or one.
    pub async fn threads(&self, space: Option<&str>, limit: Option<i64>, loop_rounds: i64) -> Result<Vec<ThreadView>, StoreError> {
        let limit = limit.unwrap_or(i64::MAX);
        let rows: Vec<ThreadRow> = match space {
            Some(slug) => {
                let sql = format!("{THREAD_SELECT} WHERE s.slug = $1 ORDER BY t.last_activity_at DESC, t.id DESC LIMIT $2");
                sqlx::query_as(&sql).bind(slug).bind(limit).fetch_all(&self.pool).await?
            }
            None => {
                let sql = format!("{THREAD_SELECT} ORDER BY t.last_activity_at DESC, t.id DESC LIMIT $1");
                sqlx::query_as(&sql).bind(limit).fetch_all(&self.pool).await?
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(500) {
            let ids: Vec<i64> = chunk.iter().map(|r| r.id).collect();
            let authors: Vec<(i64, Option<String>, i64)> = self
                .by_thread_ids("SELECT thread_id, from_addr, date FROM messages WHERE thread_id IN", &ids, "ORDER BY thread_id, date, id")
                .await?;
            for row in chunk {
                let mut stats = Stats::default();
                for (_, from, date) in authors.iter().filter(|(t, _, _)| *t == row.id) {
                    stats.add(from.as_deref(), *date);
                }
                let items = self.thread_items(row.id).await?;
                out.push(view(row, stats, items, loop_rounds, None));
            }
        }
        Ok(out)
    }

    /// One thread with its messages (oldest first) and their attachments.
    pub async fn thread(&self, id: i64, loop_rounds: i64) -> Result<ThreadView, StoreError> {
        let sql = format!("{THREAD_SELECT} WHERE t.id = $1");
        let row: ThreadRow = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no thread {id} (list them with `docket threads`)")))?;
        let sql = format!("{MESSAGE_SELECT} WHERE thread_id = $1 ORDER BY date, id");
        let messages: Vec<MessageRow> = sqlx::query_as(&sql).bind(id).fetch_all(&self.pool).await?;
        let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
        let attachments: Vec<AttachmentView> = self
            .by_thread_ids("SELECT message_id, filename, content_type, size FROM attachments WHERE message_id IN", &ids, "ORDER BY id")
            .await?;
        let mut stats = Stats::default();
        let views = messages
            .into_iter()
            .map(|m| {
                stats.add(m.from_addr.as_deref(), m.date);
                MessageView {
                    id: m.id,
                    message_id: m.message_id,
                    from: m.from_addr,
                    date: to_utc(m.date),
                    subject: m.subject,
                    visible_text: m.visible_text,
                    removed: serde_json::from_str(&m.removed).unwrap_or_default(),
                    attachments: attachments.iter().filter(|a| a.message_id == m.id).cloned().collect(),
                    from_name: m.from_name,
                    flags: serde_json::from_str(&m.flags).unwrap_or_default(),
                }
            })
            .collect();
        let items = self.thread_items(id).await?;
        Ok(view(&row, stats, items, loop_rounds, Some(views)))
    }

    async fn by_thread_ids<T>(&self, prefix: &str, ids: &[i64], suffix: &str) -> Result<Vec<T>, StoreError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        // The ids are integers we produced, so inlining them is safe.
        let sql = format!("{prefix} ({}) {suffix}", list.join(", "));
        Ok(sqlx::query_as(&sql).fetch_all(&self.pool).await?)
    }

    /// Counts for `docket check`: spaces, members, threads, messages, and deliveries by state.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let mut out = Vec::new();
        for table in ["spaces", "members", "threads", "messages"] {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let (n,): (i64,) = sqlx::query_as(&sql).fetch_one(&self.pool).await?;
            out.push((table.to_string(), n));
        }
        let states: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM inbound GROUP BY state ORDER BY state").fetch_all(&self.pool).await?;
        out.extend(states.into_iter().map(|(s, n)| (format!("inbound {s}"), n)));
        Ok(out)
    }
}

fn view(
    row: &ThreadRow,
    stats: Stats,
    items: (Vec<String>, Vec<String>, Option<i64>),
    loop_rounds: i64,
    messages: Option<Vec<MessageView>>,
) -> ThreadView {
    let (decisions, tasks, decided_at) = items;
    let status = thread_status(stats.rounds_since(decided_at), !decisions.is_empty(), loop_rounds);
    ThreadView {
        id: row.id,
        space: row.space.clone(),
        subject: row.subject.clone(),
        started_at: to_utc(row.started_at),
        last_activity_at: to_utc(row.last_activity_at),
        message_count: stats.count,
        participants: stats.participants,
        rounds: stats.rounds,
        status,
        decisions,
        tasks,
        messages,
    }
}

pub fn to_utc(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}
