//! The record pages: decisions (`/decisions`, `/d/D-n`), tasks (`/tasks`), proposals
//! (`/proposals`), asks (`/asks`), meeting notes (`/n/N-n`) and goals (`/g/SLUG`), each showing only the viewer's spaces (anything else is
//! 404), every time in the viewer's zone. This file holds what they share: the routes, the zone,
//! times for templates, the filter parsing.

mod asks;
mod decisions;
mod goals;
mod items;
mod tasks;

use super::{Viewer, WebError};
use crate::app::App;
use axum::Router;
use axum::routing::get;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// Most rows one list shows (filters narrow it).
pub const PAGE_ROWS: i64 = 200;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/decisions", get(decisions::list))
        .route("/d/{id}", get(decisions::one))
        .route("/tasks", get(tasks::list))
        .route("/proposals", get(tasks::proposals))
        .route("/asks", get(asks::list))
        .route("/n/{id}", get(asks::notes))
        .route("/g/{slug}", get(goals::one))
}

/// The viewer's time zone: their member setting, else `server.timezone`.
pub async fn zone(app: &App, viewer: &Viewer) -> Result<Tz, WebError> {
    let tz = app.store.member_time_zone(&viewer.email).await?;
    Ok(crate::space::zone(tz.as_deref(), app.config.server.timezone))
}

/// A time as a page shows it: RFC 3339 UTC for `<time datetime>`, and text in the viewer's zone.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub iso: String,
    pub text: String,
}

impl Stamp {
    pub fn new(at: DateTime<Utc>, tz: Tz) -> Stamp {
        Stamp {
            iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            text: at.with_timezone(&tz).format("%a %-d %b %Y %H:%M %Z").to_string(),
        }
    }
}

/// Items read space by space, newest (highest `D-n`/`P-n`/`A-n` number) first, cut to
/// [`PAGE_ROWS`]; and whether the cut left older ones out.
pub fn newest<T>(mut views: Vec<T>, id: impl Fn(&T) -> &str) -> (Vec<T>, bool) {
    let number = |id: &str| crate::store::items::ItemKind::parse_ref(id).map_or(0, |(_, n)| n);
    views.sort_by_key(|v| std::cmp::Reverse(number(id(v))));
    let more = views.len() as i64 >= PAGE_ROWS;
    views.truncate(PAGE_ROWS as usize);
    (views, more)
}

/// A query parameter as given, blank meaning absent (a form's "any" choice sends `name=`).
pub fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The start of day `s` (`YYYY-MM-DD`) in `tz`, as a unix second; `end` gives the next day's start.
pub fn day_start(name: &str, s: &str, tz: Tz, end: bool) -> Result<i64, WebError> {
    let bad = || WebError::BadRequest(format!("{name}: '{s}' is not a date; write it as 2026-11-24"));
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())?;
    let day = if end { day.succ_opt().ok_or_else(bad)? } else { day };
    let midnight = day.and_hms_opt(0, 0, 0).ok_or_else(bad)?;
    // A zone that skips midnight (a DST change) starts the day at its first instant.
    tz.from_local_datetime(&midnight).earliest().map(|t| t.timestamp()).ok_or_else(bad)
}

/// The space a filter names, if the viewer may see it (another space is 404, as if absent).
pub fn space_filter(viewer: &Viewer, slug: Option<&str>) -> Result<Vec<i64>, WebError> {
    match slug {
        None => Ok(viewer.spaces.iter().map(|s| s.id).collect()),
        Some(slug) => viewer.space(slug).map(|s| vec![s.id]).ok_or(WebError::NotFound),
    }
}

/// A `<select>` choice: its value, its label, whether it is the current one.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, current: Option<&str>) -> Choice {
        let value = value.into();
        let selected = current == Some(value.as_str());
        Choice { value, label: label.into(), selected }
    }
}

/// The viewer's spaces as filter choices (the first is "all").
pub fn space_choices(viewer: &Viewer, current: Option<&str>) -> Vec<Choice> {
    let mut out = vec![Choice::new("", "All my spaces", current.or(Some("")))];
    out.extend(viewer.spaces.iter().map(|s| Choice::new(s.slug.clone(), format!("{} ({})", s.name, s.slug), current)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_start_at_local_midnight() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(day_start("from", "2026-11-24", chrono_tz::UTC, false).unwrap(), 1_795_478_400);
        assert_eq!(day_start("from", "2026-11-24", berlin, false).unwrap(), 1_795_478_400 - 3600);
        assert_eq!(day_start("to", "2026-11-24", chrono_tz::UTC, true).unwrap(), 1_795_478_400 + 86_400);
        assert!(matches!(day_start("to", "24.11.2026", berlin, true), Err(WebError::BadRequest(m)) if m.contains("2026-11-24")));
    }

    #[test]
    fn stamps_carry_utc_and_local_text() {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 16, 0, 0).unwrap();
        let s = Stamp::new(at, chrono_tz::Europe::Berlin);
        assert_eq!(s.iso, "2026-11-27T16:00:00Z");
        assert_eq!(s.text, "Fri 27 Nov 2026 17:00 CET");
    }

    #[test]
    fn blank_parameters_are_absent() {
        assert_eq!(given(&Some("  ".into())), None);
        assert_eq!(given(&Some(" eng ".into())), Some("eng"));
        assert_eq!(given(&None), None);
    }
}
