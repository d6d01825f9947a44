//! Item rows: goals, decisions, tasks, proposals, objections, asks, notes, their links and change
//! history. `write` holds what `record` writes inside a message's transaction; `views` the
//! docs/cli.md JSON views read back (and the planner reads of items); `asks` the asks, notes and
//! supersede chains.

mod asks;
mod pages;
mod views;
mod write;

use super::states::{DecisionSource, ProposalStatus, TaskStatus};
pub use asks::{Ask, AskRow, AskView, NotesView};
pub use pages::{DecisionQuery, Goal, TaskQuery};
pub use views::{DecisionView, ObjectionView, ProposalView, TaskFilter, TaskView};

/// An item reference like `T-4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Decision,
    Task,
    Proposal,
    Ask,
    Notes,
}

impl ItemKind {
    pub fn prefix(self) -> &'static str {
        match self {
            ItemKind::Decision => "D",
            ItemKind::Task => "T",
            ItemKind::Proposal => "P",
            ItemKind::Ask => "A",
            ItemKind::Notes => "N",
        }
    }

    pub fn table(self) -> &'static str {
        match self {
            ItemKind::Decision => "decisions",
            ItemKind::Task => "tasks",
            ItemKind::Proposal => "proposals",
            ItemKind::Ask => "asks",
            ItemKind::Notes => "notes",
        }
    }

    /// `T-4` → (Task, 4). Case-insensitive.
    pub fn parse_ref(s: &str) -> Option<(ItemKind, i64)> {
        let (prefix, n) = s.trim().split_once('-')?;
        let kind = match prefix.to_ascii_uppercase().as_str() {
            "D" => ItemKind::Decision,
            "T" => ItemKind::Task,
            "P" => ItemKind::Proposal,
            "A" => ItemKind::Ask,
            "N" => ItemKind::Notes,
            _ => return None,
        };
        n.parse::<i64>().ok().filter(|n| *n > 0).map(|n| (kind, n))
    }

    pub fn label(self, id: i64) -> String {
        format!("{}-{id}", self.prefix())
    }
}

/// Who changed what, from which message.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub by: Option<&'a str>,
    pub message_id: i64,
    pub at: i64,
}

/// A task row: what `record` reads back to change it, and what the reminder and digest planners
/// read (the docs/cli.md JSON shape is [`TaskView`]).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TaskRow {
    pub id: i64,
    pub space_id: i64,
    pub thread_id: i64,
    pub title: String,
    pub owner: Option<String>,
    pub due: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: TaskStatus,
    pub created_by: Option<String>,
    pub created_at: i64,
}

/// A decision row, for loop resets and digests (the docs/cli.md JSON shape is [`DecisionView`]).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DecisionRow {
    pub id: i64,
    pub space_id: i64,
    pub thread_id: i64,
    pub text: String,
    pub author: Option<String>,
    pub decided_at: i64,
    #[sqlx(try_from = "String")]
    pub source: DecisionSource,
}

/// A proposal row, for lazy consensus and for the notice and digest planners (the docs/cli.md JSON
/// shape is [`ProposalView`]).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProposalRow {
    pub id: i64,
    pub space_id: i64,
    pub thread_id: i64,
    pub text: String,
    pub author: Option<String>,
    pub closes_at: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: ProposalStatus,
    pub goal_id: Option<i64>,
    pub message_id: Option<i64>,
    pub decision_id: Option<i64>,
}

/// Where a new item lives.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub space_id: i64,
    pub thread_id: i64,
    pub message_id: Option<i64>,
    pub author: Option<&'a str>,
    pub at: i64,
    pub goal_id: Option<i64>,
    /// The meeting notes the item was recorded in.
    pub notes_id: Option<i64>,
}

pub(crate) const TASK_COLUMNS: &str = "id, space_id, thread_id, title, owner, due, status, created_by, created_at";
pub(crate) const PROPOSAL_COLUMNS: &str = "id, space_id, thread_id, text, author, closes_at, status, goal_id, message_id, decision_id";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskField {
    Owner,
    Due,
    Status,
    DoneAt,
}

impl TaskField {
    pub(super) fn column(self) -> &'static str {
        match self {
            TaskField::Owner => "owner",
            TaskField::Due => "due",
            TaskField::Status => "status",
            TaskField::DoneAt => "done_at",
        }
    }
}
