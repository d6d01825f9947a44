//! Digests (docs/mail-flow.md): each member at their local `digest.time` on their digest days (member
//! setting, else `[digest]`), in their own zone and DST-correct. Pure: which slot is due (the
//! latest scheduled time that has come and was not considered yet — a server that was down sends
//! one digest, never a backlog; a new member's first is at their next time), what goes in it
//! (nothing → no mail), and how a thread and a decision are shown: who wrote, the first lines of
//! what they newly wrote (visible text, never quoted lines), the member's reply address as a
//! `mailto:` link, a decision's one line of context.

use crate::config::{Config, Weekdays};
use crate::store::items::{Ask, DecisionRow, NotesView, ProposalRow, TaskRow};
use crate::store::outbound::{DigestDecision, DigestMessage};
use crate::store::spaces::Member;
use crate::store::states::{AskStatus, ProposalStatus};
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Proposals closing within this window are listed.
pub const PROPOSALS_WITHIN: i64 = 48 * 3600;
/// A task due within this window counts as "due" (something to send about).
pub const DUE_WITHIN: i64 = 24 * 3600;
/// An excerpt shows at most this many lines …
pub const EXCERPT_LINES: usize = 3;
/// … and about this many characters, cut on a word.
pub const EXCERPT_CHARS: usize = 240;
/// A decision's line of context is cut on a word at about this many characters.
pub const CONTEXT_CHARS: usize = 120;
/// Excerpts shown per thread: its latest new messages; the earlier ones are counted.
pub const EXCERPTS_PER_THREAD: usize = 5;

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

/// What the store holds for one member's digest. One field per section, so a new section is a
/// new field (tests build it with `..Default::default()`).
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// New decisions of the space, each with its line of context.
    pub decisions: Vec<DecisionNews>,
    /// The member's open tasks.
    pub tasks: Vec<TaskRow>,
    /// Proposals of the space, open and closing within `PROPOSALS_WITHIN`.
    pub proposals: Vec<ProposalRow>,
    /// Looping threads of the space: (thread id, subject, rounds).
    pub looping: Vec<(i64, String, i64)>,
    /// Threads of the space with messages since the last digest ([`threads`]).
    pub active: Vec<ThreadNews>,
    /// Open asks waiting for the member's answer.
    pub asks: Vec<Ask>,
    /// Meeting notes sent since the last digest.
    pub notes: Vec<NotesView>,
}

/// A digest's content, one field per section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digest {
    pub decisions: Vec<DecisionNews>,
    pub overdue: Vec<TaskRow>,
    pub open: Vec<TaskRow>,
    pub proposals: Vec<ProposalRow>,
    pub looping: Vec<(i64, String, i64)>,
    pub active: Vec<ThreadNews>,
    pub asks: Vec<Ask>,
    pub notes: Vec<NotesView>,
}

/// Whether an open ask waits for `email`'s answer: it names them, or names nobody and was not
/// asked by them.
pub fn waits_for(ask: &Ask, email: &str) -> bool {
    ask.row.status == AskStatus::Open && ask.is_of(email)
}

/// A new decision and its one line of context: the thread's subject and the first line of the
/// message that recorded it (just the subject when no message did, as for an adopted proposal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionNews {
    pub decision: DecisionRow,
    /// When it became known (the digest's `since` is compared with this).
    pub known: i64,
    pub context: String,
}

impl DecisionNews {
    pub fn of(row: DigestDecision) -> DecisionNews {
        let line = row.message_start.as_deref().and_then(first_line).filter(|l| *l != row.decision.text);
        let context = match line {
            Some(line) => format!("in “{}”: {line}", row.subject),
            None => format!("in “{}”", row.subject),
        };
        DecisionNews { decision: row.decision, known: row.known, context }
    }
}

/// A new message as digests show it: where, when it arrived, who wrote it (a member's `@handle`,
/// else the sender's name, else their address) and its excerpt ([`excerpt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub thread_id: i64,
    pub subject: String,
    pub arrived: i64,
    pub who: String,
    pub excerpt: Vec<String>,
}

impl NewMessage {
    /// `handle_of` names a sender who is a member of the space (their handle, from their address).
    pub fn of(row: DigestMessage, handle_of: impl Fn(&str) -> Option<String>) -> NewMessage {
        let addr = row.from_addr.as_deref().unwrap_or_default();
        let handle = if addr.is_empty() { None } else { handle_of(addr) };
        let who = match (handle, row.from_name.as_deref().map(str::trim).filter(|n| !n.is_empty())) {
            (Some(h), _) => format!("@{h}"),
            (None, Some(name)) => name.to_string(),
            (None, None) if !addr.is_empty() => addr.to_string(),
            (None, None) => "someone".to_string(),
        };
        NewMessage { thread_id: row.thread_id, subject: row.subject, arrived: row.arrived, who, excerpt: excerpt(&row.text_start) }
    }
}

/// An active thread in a digest: how many new messages, who wrote them (in order, each once), and
/// the excerpts of the latest [`EXCERPTS_PER_THREAD`] of them, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadNews {
    pub id: i64,
    pub subject: String,
    pub new_messages: usize,
    pub writers: Vec<String>,
    /// (who, excerpt lines) per shown message.
    pub excerpts: Vec<(String, Vec<String>)>,
    /// New messages whose excerpt is not shown: older than the shown ones, or with no text of
    /// their own (only quotes).
    pub unshown: usize,
}

/// The threads with messages that arrived after `since`, busiest first (then by id). `messages`
/// are in arrival order.
pub fn threads(messages: &[NewMessage], since: i64) -> Vec<ThreadNews> {
    let mut out: Vec<ThreadNews> = Vec::new();
    let mut by_id: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for m in messages.iter().filter(|m| m.arrived > since) {
        let i = *by_id.entry(m.thread_id).or_insert_with(|| {
            out.push(ThreadNews { id: m.thread_id, subject: m.subject.clone(), ..Default::default() });
            out.len() - 1
        });
        let t = &mut out[i];
        t.new_messages += 1;
        if !t.writers.contains(&m.who) {
            t.writers.push(m.who.clone());
        }
        if !m.excerpt.is_empty() {
            t.excerpts.push((m.who.clone(), m.excerpt.clone()));
        }
    }
    for t in &mut out {
        let older = t.excerpts.len().saturating_sub(EXCERPTS_PER_THREAD);
        t.excerpts.drain(..older);
        t.unshown = t.new_messages - t.excerpts.len();
    }
    out.sort_by(|a, b| b.new_messages.cmp(&a.new_messages).then(a.id.cmp(&b.id)));
    out
}

/// Lines a digest does not show of a visible text: blank ones and quotes (`>`; the intake
/// removes quoted blocks, this keeps an inline one out too).
fn shown(line: &&str) -> bool {
    let l = line.trim();
    !l.is_empty() && !l.starts_with('>')
}

/// The first lines of a visible text: at most [`EXCERPT_LINES`] non-blank lines that are not
/// quotes, at most about [`EXCERPT_CHARS`] characters in all, cut on a word; `…` marks a cut.
/// Stops at a signature separator (`-- `).
pub fn excerpt(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut budget = EXCERPT_CHARS;
    for line in text.lines().take_while(|l| l.trim_end() != "--").filter(shown).map(clean) {
        let n = line.chars().count();
        if out.len() == EXCERPT_LINES || (n > budget && budget < EXCERPT_CHARS / 10) {
            if let Some(last) = out.last_mut() {
                last.push_str(" …");
            }
            return out;
        }
        if n > budget {
            out.push(cut(&line, budget));
            return out;
        }
        budget -= n;
        out.push(line);
    }
    out
}

/// The first line of a message worth showing beside a decision: not blank, not a quote, not a tag
/// line (`#decision …`: the decision itself), cut on a word at [`CONTEXT_CHARS`].
pub fn first_line(text: &str) -> Option<String> {
    let line = text.lines().take_while(|l| l.trim_end() != "--").filter(shown).map(clean).find(|l| !l.starts_with('#'))?;
    Some(if line.chars().count() > CONTEXT_CHARS { cut(&line, CONTEXT_CHARS) } else { line })
}

/// A line trimmed, control characters (tabs too) made spaces.
fn clean(line: &str) -> String {
    line.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The longest prefix of `line` of at most `max` characters that ends on a word, and `…`; a
/// first word longer than `max` is cut inside it.
fn cut(line: &str, max: usize) -> String {
    let prefix: String = line.chars().take(max).collect();
    let at_word = line.chars().nth(max).is_some_and(char::is_whitespace);
    let kept = if at_word {
        prefix.trim_end()
    } else {
        match prefix.rfind(char::is_whitespace) {
            Some(i) if !prefix[..i].trim().is_empty() => prefix[..i].trim_end(),
            _ => prefix.as_str(),
        }
    };
    format!("{kept} …")
}

/// `mailto:ADDRESS?subject=Re:%20SUBJECT` (RFC 6068): answering it lands in the thread the
/// address is for. The subject is percent-encoded as UTF-8; an existing `Re:` is not repeated.
pub fn mailto(address: &str, subject: &str) -> String {
    let s = subject.trim();
    let s = match s.get(..3) {
        Some(re) if re.eq_ignore_ascii_case("re:") => s[3..].trim_start(),
        _ => s,
    };
    let mut encoded = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("mailto:{address}?subject=Re:%20{encoded}")
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
    let due_soon = open.iter().any(|t| t.due.is_some_and(|d| d <= now + DUE_WITHIN))
        || input.asks.iter().any(|a| a.row.closes_at.is_some_and(|c| c <= now + DUE_WITHIN));
    let news = !input.decisions.is_empty() || !input.active.is_empty() || !input.notes.is_empty();
    let something = news || !proposals.is_empty() || !overdue.is_empty() || due_soon;
    (something || force).then_some(Digest {
        decisions: input.decisions,
        overdue,
        open,
        proposals,
        looping: input.looping,
        active: input.active,
        asks: input.asks,
        notes: input.notes,
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

    #[test]
    fn excerpts_are_the_first_lines_cut_on_a_word() {
        let check = |text: &str, want: &[&str]| assert_eq!(excerpt(text), want, "{text:?}");
        check("", &[]);
        check("Short.\n", &["Short."]);
        check("\n\n  One.\n\nTwo.\r\nThree.\n", &["One.", "Two.", "Three."]);
        check("One.\nTwo.\nThree.\nFour.\n", &["One.", "Two.", "Three. …"]);
        // Quoted lines are never shown, wherever they are; a signature ends the excerpt.
        check("> quoted\nMine.\n> more quoted\nAlso mine.\n", &["Mine.", "Also mine."]);
        check("Hi.\n-- \nAlice, Example Corp\n", &["Hi."]);
        check("a\tb\u{7}c\n", &["a b c"]);
        // About 240 characters in all, cut on a word.
        let word = "word ".repeat(60);
        let got = excerpt(&word);
        assert_eq!(got.len(), 1);
        assert!(got[0].ends_with("word …") && got[0].chars().count() <= EXCERPT_CHARS + 2, "{got:?}");
        let long = format!("First line.\n{}", "lorem ipsum ".repeat(40));
        let got = excerpt(&long);
        assert_eq!(got[0], "First line.");
        assert!(got[1].ends_with("ipsum …") || got[1].ends_with("lorem …"), "{got:?}");
        assert!(got.iter().map(|l| l.chars().count()).sum::<usize>() <= EXCERPT_CHARS + 2, "{got:?}");
        // Exactly at a word end: nothing of the next word; one endless word: cut inside it.
        assert_eq!(cut("abc def", 3), "abc …");
        assert_eq!(cut("abc def", 5), "abc …");
        assert_eq!(cut(&"x".repeat(300), 4), "xxxx …");
        assert_eq!(cut("ünïcödé wörds", 9), "ünïcödé …");
        // Little budget left after long lines: the last shown line is marked, not a stub added.
        let full = format!("{}\nmore text here\n", "a ".repeat(115).trim_end());
        assert_eq!(excerpt(&full).len(), 1, "{:?}", excerpt(&full));
        assert!(excerpt(&full)[0].ends_with(" …"));
    }

    #[test]
    fn decision_context_and_mailto() {
        let check = |text: &str, want: Option<&str>| assert_eq!(first_line(text).as_deref(), want, "{text:?}");
        check("#decision Ship it\n", None);
        check("\n> earlier\nWe talked it over.\n#decision Ship it\n", Some("We talked it over."));
        assert!(first_line(&"long ".repeat(50)).unwrap().chars().count() <= CONTEXT_CHARS + 2);
        assert_eq!(mailto("eng+tok@docket.test", "Budget Q1"), "mailto:eng+tok@docket.test?subject=Re:%20Budget%20Q1");
        assert_eq!(mailto("eng+tok@docket.test", "RE: a&b=ü?"), "mailto:eng+tok@docket.test?subject=Re:%20a%26b%3D%C3%BC%3F");
    }

    #[test]
    fn threads_list_writers_once_in_order_and_the_latest_excerpts() {
        let msg = |thread_id: i64, arrived: i64, who: &str, text: &str| NewMessage {
            thread_id,
            subject: format!("Thread {thread_id}"),
            arrived,
            who: who.into(),
            excerpt: excerpt(text),
        };
        let mut messages = vec![msg(1, 10, "@alice", "old"), msg(2, 11, "@bob", "Two."), msg(1, 12, "@bob", "> only a quote")];
        messages.extend((0..7).map(|n| msg(1, 13 + n, if n % 2 == 0 { "@alice" } else { "Carol" }, &format!("Reply {n}."))));
        let got = threads(&messages, 10);
        assert_eq!(got.iter().map(|t| (t.id, t.new_messages)).collect::<Vec<_>>(), [(1, 8), (2, 1)], "busiest first");
        assert_eq!(got[0].writers, ["@bob", "@alice", "Carol"], "the message before `since` is not new");
        let shown: Vec<&str> = got[0].excerpts.iter().map(|(_, l)| l[0].as_str()).collect();
        assert_eq!(shown, ["Reply 2.", "Reply 3.", "Reply 4.", "Reply 5.", "Reply 6."]);
        assert_eq!(got[0].unshown, 3);
        assert!(threads(&messages, 100).is_empty());
    }

    #[test]
    fn decisions_and_messages_as_digests_name_them() {
        let decision = |start: Option<&str>| {
            let row = DecisionRow {
                id: 3,
                space_id: 1,
                thread_id: 2,
                text: "Ship it".into(),
                author: None,
                decided_at: 5,
                source: crate::store::states::DecisionSource::Tag,
            };
            DecisionNews::of(DigestDecision { decision: row, known: 6, subject: "Launch".into(), message_start: start.map(Into::into) })
        };
        assert_eq!(decision(Some("Ready?\n#decision Ship it\n")).context, "in “Launch”: Ready?");
        assert_eq!(decision(Some("#decision Ship it\n")).context, "in “Launch”");
        assert_eq!(decision(None).context, "in “Launch”", "an adopted proposal: no message");
        let message = |from: Option<&str>, name: Option<&str>| {
            let row = DigestMessage {
                id: 1,
                arrived: 1,
                thread_id: 2,
                subject: "Launch".into(),
                from_addr: from.map(Into::into),
                from_name: name.map(Into::into),
                text_start: "Hi.\n> quoted\n".into(),
            };
            NewMessage::of(row, |a| (a == "bob@x.org").then(|| "bob".to_string()))
        };
        assert_eq!(message(Some("bob@x.org"), Some("Bob B")).who, "@bob");
        assert_eq!(message(Some("eve@y.org"), Some(" Eve ")).who, "Eve");
        assert_eq!(message(Some("eve@y.org"), None).who, "eve@y.org");
        assert_eq!(message(None, None).who, "someone");
        assert_eq!(message(None, None).excerpt, ["Hi."]);
    }
}
