//! Deadline reminders (docs/mail-flow.md): before a task's due time (`reminders.before`), at it, then overdue
//! every `reminders.overdue_every` up to `reminders.overdue_max` times. Pure: given open tasks and
//! `now`, the one reminder each task is owed. Only the latest stage that has come is sent (a
//! server that was down sends one reminder, not a backlog); each stage is keyed by task, due time
//! and stage, so a rescheduled task is reminded afresh and no stage ever goes out twice.

use crate::config::Reminders;
use crate::store::items::TaskRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Before,
    Due,
    /// The n-th overdue reminder, from 1.
    Overdue(u64),
}

impl Stage {
    pub fn key(self) -> String {
        match self {
            Stage::Before => "before".into(),
            Stage::Due => "due".into(),
            Stage::Overdue(n) => format!("overdue{n}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub task: TaskRow,
    pub stage: Stage,
    /// When this stage came due.
    pub at: i64,
    /// Owner, else whoever created the task.
    pub recipient: String,
    pub key: String,
}

/// How far back `due` looks: a task whose last stage is older than this is left alone.
pub fn horizon(cfg: &Reminders) -> i64 {
    secs(cfg.overdue_every) * i64::try_from(cfg.overdue_max).unwrap_or(i64::MAX / 4).min(10_000) + 7 * 86_400
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

/// The stages of a task due at `due`, in time order.
pub fn stages(due: i64, cfg: &Reminders) -> Vec<(Stage, i64)> {
    let mut out = vec![(Stage::Before, due - secs(cfg.before)), (Stage::Due, due)];
    let every = secs(cfg.overdue_every).max(60);
    for n in 1..=cfg.overdue_max.min(1000) {
        out.push((Stage::Overdue(n), due + every * i64::try_from(n).unwrap_or(0)));
    }
    out
}

pub fn due(tasks: &[TaskRow], cfg: &Reminders, now: i64) -> Vec<Reminder> {
    let mut out = Vec::new();
    for task in tasks {
        let (Some(due), Some(recipient)) = (task.due, task.owner.clone().or_else(|| task.created_by.clone())) else { continue };
        // Stages before the task existed are not owed (a task made an hour before its due time
        // gets no "due tomorrow" note); the latest stage that has come is.
        let latest = stages(due, cfg).into_iter().rev().find(|(_, at)| *at <= now && *at >= task.created_at);
        if let Some((stage, at)) = latest {
            let key = format!("reminder:{}:{}:{}:{}", task.id, due, stage.key(), recipient);
            out.push(Reminder { task: task.clone(), stage, at, recipient, key });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cfg() -> Reminders {
        Reminders {
            before: Duration::from_secs(86_400),
            default_due_time: chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            overdue_every: Duration::from_secs(86_400),
            overdue_max: 2,
        }
    }

    fn task(id: i64, due: Option<i64>, owner: Option<&str>, created_at: i64) -> TaskRow {
        TaskRow {
            id,
            space_id: 1,
            thread_id: 1,
            title: "t".into(),
            owner: owner.map(Into::into),
            due,
            status: crate::store::states::TaskStatus::Open,
            created_by: Some("maker@x.org".into()),
            created_at,
        }
    }

    #[test]
    fn one_stage_at_a_time() {
        const D: i64 = 10 * 86_400;
        let check = |now: i64, want: Option<Stage>| {
            let got = due(&[task(1, Some(D), Some("o@x.org"), 0)], &cfg(), now);
            assert_eq!(got.first().map(|r| r.stage), want, "now = {now}");
        };
        check(D - 86_401, None);
        check(D - 86_400, Some(Stage::Before));
        check(D - 1, Some(Stage::Before));
        check(D, Some(Stage::Due));
        check(D + 86_400, Some(Stage::Overdue(1)));
        check(D + 3 * 86_400, Some(Stage::Overdue(2)));
        check(D + 30 * 86_400, Some(Stage::Overdue(2)));
    }

    #[test]
    fn keys_recipients_and_late_tasks() {
        const D: i64 = 10 * 86_400;
        let r = due(&[task(3, Some(D), None, 0)], &cfg(), D);
        assert_eq!((r[0].recipient.as_str(), r[0].key.as_str()), ("maker@x.org", "reminder:3:864000:due:maker@x.org"));
        // Made an hour before it is due: no "before" reminder, the "due" one comes.
        assert!(due(&[task(4, Some(D), Some("o@x.org"), D - 3600)], &cfg(), D - 1800).is_empty());
        assert_eq!(due(&[task(4, Some(D), Some("o@x.org"), D - 3600)], &cfg(), D)[0].stage, Stage::Due);
        assert!(due(&[task(5, None, Some("o@x.org"), 0)], &cfg(), D).is_empty());
    }
}
