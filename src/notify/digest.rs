//! Digests (docs/mail-flow.md): each member at their local `digest.time` on their digest days (member
//! setting, else `[digest]`), in their own zone and DST-correct. Pure: which slot is due (the
//! latest scheduled time that has come and was not considered yet — a server that was down sends
//! one digest, never a backlog; a new member's first is at their next time) and what goes in it
//! (nothing → no mail).

use crate::config::{Config, Weekdays};
use crate::store::items::{DecisionRow, ProposalRow, TaskRow};
use crate::store::outbound::ActiveThread;
use crate::store::spaces::Member;
use crate::store::states::ProposalStatus;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Proposals closing within this window are listed.
pub const PROPOSALS_WITHIN: i64 = 48 * 3600;
/// A task due within this window counts as "due" (something to send about).
pub const DUE_WITHIN: i64 = 24 * 3600;

/// When one member gets digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub tz: Tz,
    pub time: NaiveTime,
    pub days: Weekdays,
}

impl Schedule {
    pub fn of(member: &Member, config: &Config) -> Schedule {
        Schedule {
            tz: super::zone(member.tz.as_deref(), config.server.timezone),
            time: member.digest_time.as_deref().and_then(|t| crate::config::time_of_day(t).ok()).unwrap_or(config.digest.time),
            days: member.digest_days.as_deref().and_then(|d| Weekdays::parse(d).ok()).unwrap_or(config.digest.days),
        }
    }

    /// The instant of `time` on local `date`: in a DST gap the first valid time after it, in a
    /// repeated hour the first of the two.
    fn on(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        let local = date.and_time(self.time);
        let at = match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t,
            LocalResult::Ambiguous(first, _) => first,
            LocalResult::None => (1..=4).find_map(|h| self.tz.from_local_datetime(&(local + Duration::minutes(30 * h))).earliest())?,
        };
        Some(at.with_timezone(&Utc))
    }

    /// The latest scheduled instant at or before `now`.
    pub fn latest(&self, now: i64) -> Option<i64> {
        let today = self.tz.from_utc_datetime(&DateTime::<Utc>::from_timestamp(now, 0)?.naive_utc()).date_naive();
        (0..=8)
            .filter_map(|back| today.checked_sub_days(chrono::Days::new(back)))
            .filter(|d| self.days.contains(chrono::Datelike::weekday(d)))
            .filter_map(|d| self.on(d))
            .map(|t| t.timestamp())
            .find(|t| *t <= now)
    }

    /// The first scheduled instant after `now`.
    pub fn next(&self, now: i64) -> Option<i64> {
        let today = self.tz.from_utc_datetime(&DateTime::<Utc>::from_timestamp(now, 0)?.naive_utc()).date_naive();
        (0..=8)
            .filter_map(|ahead| today.checked_add_days(chrono::Days::new(ahead)))
            .filter(|d| self.days.contains(chrono::Datelike::weekday(d)))
            .filter_map(|d| self.on(d))
            .map(|t| t.timestamp())
            .find(|t| *t > now)
    }
}

/// A digest that is due: the slot it is for, and since when things count as new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub slot: i64,
    pub since: i64,
}

/// What was recorded about a member's last digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Last {
    /// The slot it was for.
    pub slot: i64,
    /// When it was built: what became known later is new for the next one.
    pub at: i64,
}

/// Whether `member` is owed a digest at `now`, given their last one.
pub fn due(member: &Member, schedule: &Schedule, last: Option<Last>, now: i64) -> Option<Due> {
    let slot = schedule.latest(now)?;
    if slot <= member.created_at || last.is_some_and(|l| l.slot >= slot) {
        return None;
    }
    // Since is exclusive: a new member's digest includes what happened in the second they joined.
    Some(Due { slot, since: last.map_or(member.created_at - 1, |l| l.at) })
}

/// What the store holds for one member's digest.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub decisions: Vec<DecisionRow>,
    /// The member's open tasks.
    pub tasks: Vec<TaskRow>,
    /// Proposals of the space, open and closing within `PROPOSALS_WITHIN`.
    pub proposals: Vec<ProposalRow>,
    /// Looping threads of the space: (thread id, subject, rounds).
    pub looping: Vec<(i64, String, i64)>,
    /// Threads of the space with messages since the last digest.
    pub active: Vec<ActiveThread>,
}

/// A digest's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub decisions: Vec<DecisionRow>,
    pub overdue: Vec<TaskRow>,
    pub open: Vec<TaskRow>,
    pub proposals: Vec<ProposalRow>,
    pub looping: Vec<(i64, String, i64)>,
    pub active: Vec<ActiveThread>,
}

/// The digest, or None when nothing happened since the last one and nothing of theirs is due or
/// overdue (docs/mail-flow.md). `force` builds it anyway (the `digest` command, `--preview`).
pub fn build(input: Input, now: i64, force: bool) -> Option<Digest> {
    let (overdue, open): (Vec<TaskRow>, Vec<TaskRow>) = input.tasks.into_iter().partition(|t| t.due.is_some_and(|d| d <= now));
    let proposals: Vec<ProposalRow> = input
        .proposals
        .into_iter()
        .filter(|p| p.status == ProposalStatus::Open && p.closes_at.is_some_and(|c| c > now && c <= now + PROPOSALS_WITHIN))
        .collect();
    let due_soon = open.iter().any(|t| t.due.is_some_and(|d| d <= now + DUE_WITHIN));
    let something = !input.decisions.is_empty() || !input.active.is_empty() || !proposals.is_empty() || !overdue.is_empty() || due_soon;
    (something || force).then_some(Digest {
        decisions: input.decisions,
        overdue,
        open,
        proposals,
        looping: input.looping,
        active: input.active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn member(tz: &str, created_at: i64) -> Member {
        Member {
            id: 1,
            space_id: 1,
            email: "m@x.org".into(),
            handle: "m".into(),
            tz: Some(tz.into()),
            delivery: "each".into(),
            digest_time: None,
            digest_days: None,
            role: "member".into(),
            created_at,
            hours: None,
        }
    }

    fn schedule(tz: Tz, hm: (u32, u32), days: &str) -> Schedule {
        Schedule { tz, time: NaiveTime::from_hms_opt(hm.0, hm.1, 0).unwrap(), days: Weekdays::parse(days).unwrap() }
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp()
    }

    #[test]
    fn local_eight_oclock_across_dst() {
        let la = schedule(chrono_tz::America::Los_Angeles, (8, 0), "daily");
        // 2026-11-01: LA falls back from PDT (UTC-7) to PST (UTC-8).
        assert_eq!(la.latest(utc(2026, 10, 31, 15, 30)), Some(utc(2026, 10, 31, 15, 0)));
        assert_eq!(la.next(utc(2026, 10, 31, 15, 30)), Some(utc(2026, 11, 1, 16, 0)));
        let akl = schedule(chrono_tz::Pacific::Auckland, (8, 0), "mon-fri");
        // Mon 2026-11-30 08:00 NZDT = Sun 19:00 UTC.
        assert_eq!(akl.next(utc(2026, 11, 28, 0, 0)), Some(utc(2026, 11, 29, 19, 0)));
        // A time inside the spring-forward gap (Berlin 2027-03-28 02:30) moves to after it.
        let gap = schedule(chrono_tz::Europe::Berlin, (2, 30), "daily");
        assert_eq!(gap.next(utc(2027, 3, 28, 0, 0)), Some(utc(2027, 3, 28, 1, 0)));
        // In the repeated hour (Berlin 2026-10-25 02:30 happens twice) the first one counts.
        assert_eq!(gap.next(utc(2026, 10, 24, 23, 0)), Some(utc(2026, 10, 25, 0, 30)));
    }

    #[test]
    fn one_digest_per_slot_and_none_for_new_members() {
        let s = schedule(chrono_tz::UTC, (8, 0), "mon-fri");
        let mon8 = utc(2026, 11, 30, 8, 0);
        let m = member("UTC", mon8 - 3600);
        assert_eq!(due(&m, &s, None, mon8 - 1), None, "before the time");
        assert_eq!(due(&m, &s, None, mon8), Some(Due { slot: mon8, since: mon8 - 3601 }));
        let built = |slot: i64, at: i64| Some(Last { slot, at });
        assert_eq!(due(&m, &s, built(mon8, mon8 + 40), mon8 + 600), None, "already considered");
        // A late run at 08:00:40 makes 08:00:40, not 08:00, the start of the next digest.
        assert_eq!(due(&m, &s, built(mon8, mon8 + 40), mon8 + 86_400), Some(Due { slot: mon8 + 86_400, since: mon8 + 40 }));
        // Down from Monday 07:00 to Thursday 12:00: one digest, for Thursday's slot.
        let thu8 = utc(2026, 12, 3, 8, 0);
        assert_eq!(due(&m, &s, built(mon8 - 86_400 * 3, mon8 - 86_400 * 3), thu8 + 4 * 3600).map(|d| d.slot), Some(thu8));
        // Joined after Monday's time: nothing until Tuesday's.
        let late = member("UTC", mon8 + 60);
        assert_eq!(due(&late, &s, None, mon8 + 3600), None);
        assert_eq!(due(&late, &s, None, mon8 + 86_400).map(|d| d.slot), Some(mon8 + 86_400));
        // Weekend: Friday's slot is the latest on Sunday.
        let fri8 = utc(2026, 12, 4, 8, 0);
        assert_eq!(s.latest(utc(2026, 12, 6, 20, 0)), Some(fri8));
    }

    #[test]
    fn empty_digests_are_not_sent() {
        let now = utc(2026, 11, 30, 8, 0);
        assert!(build(Input::default(), now, false).is_none());
        assert!(build(Input::default(), now, true).is_some());
        let task = |due: Option<i64>| TaskRow {
            id: 1,
            space_id: 1,
            thread_id: 1,
            title: "t".into(),
            owner: None,
            due,
            status: crate::store::states::TaskStatus::Open,
            created_by: None,
            created_at: 0,
        };
        assert!(build(Input { tasks: vec![task(None)], ..Default::default() }, now, false).is_none(), "open, not due");
        assert!(build(Input { tasks: vec![task(Some(now + 3 * 86_400))], ..Default::default() }, now, false).is_none());
        let d = build(Input { tasks: vec![task(Some(now - 1)), task(Some(now + 3600))], ..Default::default() }, now, false).unwrap();
        assert_eq!((d.overdue.len(), d.open.len()), (1, 1));
    }
}
