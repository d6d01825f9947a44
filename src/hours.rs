//! Working hours, for "no fake async" (docs/mail-flow.md): a member's `HH:MM-HH:MM` on their digest
//! days in their zone, how many of those hours lie between a message and a due or closing time
//! (real elapsed time, DST-correct), and the receipt warnings for the people a deadline leaves
//! fewer than `notify.min_response_hours`. Pure.

use crate::config::{Config, Weekdays};
use crate::notify::digest::Schedule;
use crate::parse::tags::{Item, Kind};
use crate::record::{Context, find_member};
use crate::store::spaces::Member;
use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Deadlines further out than this are counted only this far (plenty of hours for anyone).
const HORIZON: i64 = 400 * 86_400;

/// A working day's hours: `09:00-17:00`, start before end, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Hours {
    pub fn parse(s: &str) -> Result<Hours, String> {
        let bad = || format!("expected working hours like 09:00-17:00, got '{s}'");
        let (a, b) = s.trim().split_once('-').ok_or_else(bad)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| bad());
        let (start, end) = (time(a)?, time(b)?);
        if start >= end {
            return Err(format!("working hours must start before they end, like 09:00-17:00, got '{s}'"));
        }
        Ok(Hours { start, end })
    }

    /// The default `notify.working_hours`.
    pub fn nine_to_five() -> Hours {
        Hours { start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(), end: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default() }
    }
}

impl std::fmt::Display for Hours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.start.format("%H:%M"), self.end.format("%H:%M"))
    }
}

/// When one member works: their hours on their digest days in their zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    pub tz: Tz,
    pub days: Weekdays,
    pub hours: Hours,
}

impl Week {
    /// Zone and days as the member's digests have them (`Schedule::of`); hours from the member,
    /// else `notify.working_hours`.
    pub fn of(member: &Member, config: &Config) -> Week {
        let schedule = Schedule::of(member, config);
        let hours = member.hours.as_deref().and_then(|h| Hours::parse(h).ok()).unwrap_or(config.notify.working_hours);
        Week { tz: schedule.tz, days: schedule.days, hours }
    }

    /// Working seconds in `[from, to)` (unix seconds): each working day's window is the real
    /// time between its local start and end, so a DST change shortens or lengthens only the
    /// windows it falls inside.
    pub fn seconds_between(&self, from: i64, to: i64) -> i64 {
        let (Some(a), Some(b)) = (self.local_date(from), self.local_date(to)) else { return 0 };
        if to <= from {
            return 0;
        }
        let mut total = 0;
        let mut day = a;
        while day <= b {
            if self.days.contains(day.weekday())
                && let (Some(start), Some(end)) = (self.instant(day, self.hours.start, false), self.instant(day, self.hours.end, true))
            {
                total += (end.min(to) - start.max(from)).max(0);
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
        total
    }

    /// Whole working hours in `[from, to)`, rounded down.
    pub fn hours_between(&self, from: i64, to: i64) -> i64 {
        self.seconds_between(from, to) / 3600
    }

    fn local_date(&self, at: i64) -> Option<NaiveDate> {
        DateTime::<Utc>::from_timestamp(at, 0).map(|t| t.with_timezone(&self.tz).date_naive())
    }

    /// The instant of local `time` on `date`: in a DST gap the first valid time after it; in a
    /// repeated hour the first of the two for a start, the second for an end (the whole window).
    fn instant(&self, date: NaiveDate, time: NaiveTime, end: bool) -> Option<i64> {
        let local = date.and_time(time);
        let at = match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t,
            LocalResult::Ambiguous(first, second) => {
                if end {
                    second
                } else {
                    first
                }
            }
            LocalResult::None => (1..=180).find_map(|m| self.tz.from_local_datetime(&(local + Duration::minutes(m))).earliest())?,
        };
        Some(at.timestamp())
    }
}

/// The city of a zone as a reader says it: `America/Los_Angeles` → `Los Angeles`.
pub fn city(tz: Tz) -> String {
    tz.name().rsplit('/').next().unwrap_or(tz.name()).replace('_', " ")
}

/// `{verb} Tue 10:00 CET leaves @kenji (Tokyo) 0 working hours`, one per member (by address) whom
/// `deadline` leaves fewer than `notify.min_response_hours` working hours from `now`; the time is
/// shown in `sender_tz`. Pass the members the deadline addresses, without the sender. Nothing for
/// a deadline already past (the task is recorded as overdue) or `min_response_hours = 0`.
pub fn shortfall_warnings(verb: &str, deadline: i64, now: i64, members: &[&Member], sender_tz: Tz, config: &Config) -> Vec<String> {
    let need = i64::try_from(config.notify.min_response_hours).unwrap_or(i64::MAX).saturating_mul(3600);
    if deadline <= now || need == 0 {
        return Vec::new();
    }
    let Some(when) = DateTime::<Utc>::from_timestamp(deadline, 0).map(|t| t.with_timezone(&sender_tz).format("%a %H:%M %Z").to_string())
    else {
        return Vec::new();
    };
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for m in members {
        if seen.contains(&m.email.as_str()) {
            continue;
        }
        seen.push(&m.email);
        let week = Week::of(m, config);
        let got = week.seconds_between(now, deadline.min(now.saturating_add(HORIZON)));
        if got < need {
            let hours = got / 3600;
            let unit = if hours == 1 { "hour" } else { "hours" };
            out.push(format!("{verb} {when} leaves @{} ({}) {hours} working {unit}", m.handle, city(week.tz)));
        }
    }
    out
}

/// A message's deadlines checked against the people they address.
#[derive(Debug, Clone, Copy)]
pub struct Check<'a> {
    pub members: &'a [Member],
    /// The sender's address: never warned about their own deadlines.
    pub sender: Option<&'a str>,
    /// Where the sender reads times: the warning shows the deadline in it.
    pub sender_tz: Tz,
    /// The message's date (unix seconds).
    pub now: i64,
    pub config: &'a Config,
}

impl<'a> Check<'a> {
    /// For a message being recorded; the sender reads times in their member zone, else the server's.
    pub fn of(ctx: &Context<'a>) -> Check<'a> {
        Check {
            members: ctx.members,
            sender: ctx.sender,
            sender_tz: sender_zone(ctx.members, ctx.sender, ctx.config),
            now: ctx.at,
            config: ctx.config,
        }
    }

    /// A new task's due time against its owner; a new proposal's closing time against every
    /// member but the proposer.
    pub fn item(&self, item: &Item) -> Vec<String> {
        match item.kind {
            Kind::Task => {
                let owner = item.owner.as_deref().and_then(|o| find_member(self.members, o)).map(|m| m.email.as_str());
                self.task(owner, item.due.map(|d| d.timestamp()))
            }
            Kind::Proposal => {
                let Some(closes) = item.closes_at else { return Vec::new() };
                let addressed: Vec<&Member> = self.members.iter().filter(|m| Some(m.email.as_str()) != self.sender).collect();
                shortfall_warnings("Closes", closes.timestamp(), self.now, &addressed, self.sender_tz, self.config)
            }
            // An ask addresses the members it names, else everyone but the asker.
            Kind::Ask => {
                let Some(closes) = item.closes_at else { return Vec::new() };
                let named: Vec<&Member> = item.asked_of.iter().filter_map(|w| find_member(self.members, w)).collect();
                let addressed: Vec<&Member> = if item.asked_of.is_empty() { self.members.iter().collect() } else { named };
                let addressed: Vec<&Member> = addressed.into_iter().filter(|m| Some(m.email.as_str()) != self.sender).collect();
                shortfall_warnings("By", closes.timestamp(), self.now, &addressed, self.sender_tz, self.config)
            }
            _ => Vec::new(),
        }
    }

    /// A task's (new) due time against its (new) owner, by address.
    pub fn task(&self, owner: Option<&str>, due: Option<i64>) -> Vec<String> {
        let (Some(owner), Some(due)) = (owner, due) else { return Vec::new() };
        let addressed: Vec<&Member> = self.members.iter().filter(|m| m.email == owner && Some(owner) != self.sender).collect();
        shortfall_warnings("Due", due, self.now, &addressed, self.sender_tz, self.config)
    }
}

/// The sender's zone: their member setting, else the server's.
pub fn sender_zone(members: &[Member], sender: Option<&str>, config: &Config) -> Tz {
    let tz = members.iter().find(|m| Some(m.email.as_str()) == sender).and_then(|m| m.tz.as_deref());
    crate::space::zone(tz, config.server.timezone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Europe};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp()
    }

    fn week(tz: Tz, hours: &str, days: &str) -> Week {
        Week { tz, days: Weekdays::parse(days).unwrap(), hours: Hours::parse(hours).unwrap() }
    }

    fn config() -> Config {
        let mut c = Config::load_with_env(None, Default::default()).unwrap();
        c.server.timezone = Europe::Berlin;
        c
    }

    fn member(handle: &str, tz: Option<&str>) -> Member {
        Member {
            id: 1,
            space_id: 1,
            email: format!("{handle}@x.org"),
            handle: handle.into(),
            tz: tz.map(str::to_string),
            delivery: "each".into(),
            digest_time: None,
            digest_days: None,
            role: "member".into(),
            created_at: 0,
            hours: None,
        }
    }

    #[test]
    fn hours_parse_and_print() {
        assert_eq!(Hours::parse(" 08:30-16:45 ").unwrap().to_string(), "08:30-16:45");
        assert_eq!(Hours::parse("09:00 - 17:00").unwrap(), Hours::nine_to_five());
        for bad in ["9-5", "09:00", "17:00-09:00", "09:00-09:00", "25:00-26:00", "", "09:00-17:00-18:00"] {
            let err = Hours::parse(bad).unwrap_err();
            assert!(err.contains("09:00-17:00"), "{bad}: {err}");
        }
    }

    #[test]
    fn berlin_los_angeles_and_tokyo_days() {
        let nine = "09:00-17:00";
        // Tue 2026-11-24 09:00 UTC = 10:00 Berlin, 01:00 Los Angeles, 18:00 Tokyo.
        let now = utc(2026, 11, 24, 9, 0);
        let berlin = week(Europe::Berlin, nine, "mon-fri");
        assert_eq!(berlin.hours_between(now, utc(2026, 11, 24, 16, 0)), 7, "10:00 to 17:00 Berlin");
        assert_eq!(berlin.hours_between(now, utc(2026, 11, 25, 16, 0)), 15, "the rest of today and all of tomorrow");
        let la = week(America::Los_Angeles, nine, "mon-fri");
        assert_eq!(la.hours_between(now, utc(2026, 11, 24, 16, 0)), 0, "08:00 in Los Angeles: not started");
        assert_eq!(la.hours_between(now, utc(2026, 11, 24, 19, 30)), 2, "until 11:30 PST: 2.5 h, rounded down");
        let tokyo = week(Asia::Tokyo, nine, "mon-fri");
        assert_eq!(tokyo.hours_between(now, utc(2026, 11, 25, 1, 0)), 1, "Wed 09:00-10:00 JST");
        assert_eq!(tokyo.seconds_between(now, now), 0);
        assert_eq!(tokyo.seconds_between(now, now - 3600), 0, "backwards is nothing");
    }

    #[test]
    fn weekends_count_nothing_on_either_side() {
        let nine = "09:00-17:00";
        // Fri 2026-11-27 18:00 Berlin (17:00 UTC) to Mon 10:00 Berlin: one hour, Monday's first.
        let berlin = week(Europe::Berlin, nine, "mon-fri");
        assert_eq!(berlin.hours_between(utc(2026, 11, 27, 17, 0), utc(2026, 11, 30, 9, 0)), 1);
        // Fri 16:00 Berlin (15:00 UTC) to Sat noon: Friday's last hour only.
        assert_eq!(berlin.hours_between(utc(2026, 11, 27, 15, 0), utc(2026, 11, 28, 11, 0)), 1);
        // Tokyo's Friday evening is over when Berlin's Friday afternoon starts: to Mon 10:00 JST = 1 h.
        let tokyo = week(Asia::Tokyo, nine, "mon-fri");
        assert_eq!(tokyo.hours_between(utc(2026, 11, 27, 13, 0), utc(2026, 11, 30, 1, 0)), 1);
        // A member who works weekends gets them.
        let daily = week(Asia::Tokyo, nine, "daily");
        assert_eq!(daily.hours_between(utc(2026, 11, 27, 13, 0), utc(2026, 11, 30, 1, 0)), 17);
    }

    #[test]
    fn dst_changes_count_real_time() {
        // A 09:00-17:00 day on the change is 8 real hours (Berlin falls back on Sun 2026-10-25).
        let berlin = week(Europe::Berlin, "09:00-17:00", "daily");
        assert_eq!(berlin.seconds_between(utc(2026, 10, 24, 0, 0), utc(2026, 10, 26, 0, 0)), 16 * 3600);
        // Los Angeles falls back Sun 2026-11-01: 09:00 PST is 17:00 UTC, no longer 16:00.
        let la = week(America::Los_Angeles, "09:00-17:00", "daily");
        assert_eq!(la.seconds_between(utc(2026, 11, 1, 16, 0), utc(2026, 11, 1, 18, 0)), 3600);
        assert_eq!(la.hours_between(utc(2026, 10, 31, 0, 0), utc(2026, 11, 3, 1, 0)), 24);
        // ...and springs forward Sun 2027-03-14: 09:00 PDT is 16:00 UTC.
        assert_eq!(la.seconds_between(utc(2027, 3, 14, 15, 0), utc(2027, 3, 14, 17, 0)), 3600);
        // Windows around the night's change count real time: 01:00-05:00 is 3 h across the
        // spring-forward gap (Berlin 2027-03-28) and 5 h across the repeated hour (2026-10-25).
        let night = week(Europe::Berlin, "01:00-05:00", "daily");
        assert_eq!(night.seconds_between(utc(2027, 3, 27, 12, 0), utc(2027, 3, 28, 12, 0)), 3 * 3600);
        assert_eq!(night.seconds_between(utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 12, 0)), 5 * 3600);
        // A window starting in the gap starts when the clock reaches a real time (03:00 CEST).
        let gap = week(Europe::Berlin, "02:30-04:00", "daily");
        assert_eq!(gap.seconds_between(utc(2027, 3, 27, 12, 0), utc(2027, 3, 28, 12, 0)), 3600);
    }

    #[test]
    fn warnings_name_who_where_and_how_many_hours() {
        let config = config();
        let kenji = member("kenji", Some("Asia/Tokyo"));
        let ana = member("ana", Some("America/Los_Angeles"));
        let bob = member("bob", None);
        // Sent Tue 2026-11-24 09:30 Berlin (17:30 in Tokyo); due Tue 10:00 Berlin (18:00 in Tokyo).
        let now = utc(2026, 11, 24, 8, 30);
        let due = utc(2026, 11, 24, 9, 0);
        let got = shortfall_warnings("Due", due, now, &[&kenji], Europe::Berlin, &config);
        assert_eq!(got, ["Due Tue 10:00 CET leaves @kenji (Tokyo) 0 working hours"]);
        let closes = utc(2026, 11, 24, 19, 0); // Tue 20:00 CET = 11:00 PST
        let got = shortfall_warnings("Closes", closes, now, &[&ana, &bob, &ana], Europe::Berlin, &config);
        assert_eq!(got, ["Closes Tue 20:00 CET leaves @ana (Los Angeles) 2 working hours"], "bob (server zone) has 8 h; ana once");
        // Shown in the sender's zone; a past deadline and a setting of 0 warn about nothing.
        let got = shortfall_warnings("Due", closes, now, &[&ana], America::Los_Angeles, &config);
        assert_eq!(got, ["Due Tue 11:00 PST leaves @ana (Los Angeles) 2 working hours"]);
        assert!(shortfall_warnings("Due", now - 60, now, &[&kenji], Europe::Berlin, &config).is_empty());
        let mut off = config.clone();
        off.notify.min_response_hours = 0;
        assert!(shortfall_warnings("Due", due, now, &[&kenji], Europe::Berlin, &off).is_empty());
        // One hour is singular; a member's own hours beat the default.
        let early = Member { hours: Some("07:00-09:30".into()), ..member("eve", Some("Europe/Berlin")) };
        assert_eq!(
            shortfall_warnings("Due", utc(2026, 11, 24, 7, 0), utc(2026, 11, 23, 17, 0), &[&early], Europe::Berlin, &config),
            ["Due Tue 08:00 CET leaves @eve (Berlin) 1 working hour"]
        );
    }

    #[test]
    fn checks_skip_the_sender_and_address_the_right_people() {
        let config = config();
        let members = vec![member("ana", Some("America/Los_Angeles")), member("kenji", Some("Asia/Tokyo"))];
        let check = Check {
            members: &members,
            sender: Some("ana@x.org"),
            sender_tz: Europe::Berlin,
            now: utc(2026, 11, 27, 9, 0),
            config: &config,
        };
        // Sent Fri 10:00 Berlin (18:00 in Tokyo), due Fri 18:00 Berlin (Sat 02:00 in Tokyo).
        let due = Some(utc(2026, 11, 27, 17, 0));
        assert_eq!(check.task(Some("kenji@x.org"), due), ["Due Fri 18:00 CET leaves @kenji (Tokyo) 0 working hours"]);
        assert!(check.task(Some("ana@x.org"), due).is_empty(), "the sender's own task");
        assert!(
            check.task(Some("zed@x.org"), due).is_empty()
                && check.task(None, due).is_empty()
                && check.task(Some("kenji@x.org"), None).is_empty()
        );
        assert_eq!(sender_zone(&members, Some("kenji@x.org"), &config), Asia::Tokyo);
        assert_eq!(sender_zone(&members, None, &config), Europe::Berlin);
        assert_eq!(city(America::Los_Angeles), "Los Angeles");
        assert_eq!(city(chrono_tz::UTC), "UTC");
    }
}
