//! Spaces and members as validated values (docs/mail-flow.md): slugs, handles, addresses, zones, delivery modes
//! and digest schedules are checked here once, so the store only ever sees good ones; and a
//! member's zone and local times as a reader expects them.

use crate::config::{self, Weekdays};
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpaceError {
    #[error("'{0}' is not a valid space slug: use lower-case letters, digits and '-', starting with a letter or digit")]
    BadSlug(String),
    #[error("'{0}' is not a valid email address")]
    BadEmail(String),
    #[error("'{0}' is not a valid handle: use letters, digits, '.', '_' or '-'")]
    BadHandle(String),
    #[error("{0}")]
    BadSetting(String),
}

/// `[a-z0-9][a-z0-9-]*`, at most 64 characters. `docket` is the commands address, so it is taken.
pub fn slug(s: &str) -> Result<String, SpaceError> {
    let ok = s.len() <= 64
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s != "docket";
    if ok { Ok(s.to_string()) } else { Err(SpaceError::BadSlug(s.to_string())) }
}

/// An email address (checked with lettre's RFC 5321 parser), lower-cased.
pub fn email(s: &str) -> Result<String, SpaceError> {
    let s = s.trim();
    s.parse::<lettre::Address>().map(|a| a.to_string().to_ascii_lowercase()).map_err(|_| SpaceError::BadEmail(s.to_string()))
}

pub fn handle(s: &str) -> Result<String, SpaceError> {
    let s = s.trim_start_matches('@');
    let ok = !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok { Ok(s.to_lowercase()) } else { Err(SpaceError::BadHandle(s.to_string())) }
}

/// The default handle of an address: its local part, cleaned.
pub fn default_handle(email: &str) -> String {
    let local = email.split('@').next().unwrap_or(email).split('+').next().unwrap_or_default();
    let cleaned: String = local.chars().filter(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
    if cleaned.is_empty() { "member".into() } else { cleaned.to_lowercase() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Each,
    Digest,
    Mentions,
}

impl Delivery {
    pub fn parse(s: &str) -> Result<Self, SpaceError> {
        match s {
            "each" => Ok(Delivery::Each),
            "digest" => Ok(Delivery::Digest),
            "mentions" => Ok(Delivery::Mentions),
            _ => Err(SpaceError::BadSetting(format!("delivery must be each, digest or mentions, not '{s}'"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Each => "each",
            Delivery::Digest => "digest",
            Delivery::Mentions => "mentions",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Result<Self, SpaceError> {
        match s {
            "member" => Ok(Role::Member),
            "admin" => Ok(Role::Admin),
            _ => Err(SpaceError::BadSetting(format!("role must be member or admin, not '{s}'"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
        }
    }
}

/// Member settings as given on the command line: each `None` means "leave as is" (or the default).
#[derive(Debug, Clone, Default)]
pub struct MemberSettings {
    pub handle: Option<String>,
    pub tz: Option<chrono_tz::Tz>,
    pub delivery: Option<Delivery>,
    pub digest_time: Option<NaiveTime>,
    pub digest_days: Option<Weekdays>,
    pub role: Option<Role>,
    /// Working hours (`--hours 09:00-17:00`).
    pub hours: Option<crate::hours::Hours>,
}

impl MemberSettings {
    /// Validates raw flag values; every bad value is reported, not just the first.
    pub fn parse(
        handle: Option<&str>,
        tz: Option<&str>,
        delivery: Option<&str>,
        digest_time: Option<&str>,
        digest_days: Option<&str>,
        role: Option<&str>,
        hours: Option<&str>,
    ) -> Result<Self, SpaceError> {
        let mut errors = Vec::new();
        fn keep<T>(errors: &mut Vec<String>, r: Result<T, String>) -> Option<T> {
            r.map_err(|e| errors.push(e)).ok()
        }
        let settings = MemberSettings {
            handle: handle.and_then(|h| keep(&mut errors, self::handle(h).map_err(|e| e.to_string()))),
            tz: tz.and_then(|t| keep(&mut errors, config::time_zone(t))),
            delivery: delivery.and_then(|d| keep(&mut errors, Delivery::parse(d).map_err(|e| e.to_string()))),
            digest_time: digest_time.and_then(|t| keep(&mut errors, config::time_of_day(t).map_err(|e| format!("--digest-time: {e}")))),
            digest_days: digest_days.and_then(|d| keep(&mut errors, Weekdays::parse(d).map_err(|e| format!("--digest-days: {e}")))),
            role: role.and_then(|r| keep(&mut errors, Role::parse(r).map_err(|e| e.to_string()))),
            hours: hours.and_then(|h| keep(&mut errors, crate::hours::Hours::parse(h).map_err(|e| format!("--hours: {e}")))),
        };
        if errors.is_empty() { Ok(settings) } else { Err(SpaceError::BadSetting(errors.join("; "))) }
    }
}

/// A member's zone: their setting when it names a known zone, else the server's.
pub fn zone(member_tz: Option<&str>, default: Tz) -> Tz {
    member_tz.and_then(|t| t.parse::<Tz>().ok()).unwrap_or(default)
}

/// A time as a reader in `tz` expects it: `Fri 27 Nov 17:00 CET`.
pub fn local_time(at: i64, tz: Tz) -> String {
    match DateTime::<Utc>::from_timestamp(at, 0) {
        Some(t) => tz.from_utc_datetime(&t.naive_utc()).format("%a %-d %b %H:%M %Z").to_string(),
        None => at.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn local_times_follow_the_zone() {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 16, 0, 0).unwrap().timestamp();
        assert_eq!(local_time(at, chrono_tz::Europe::Berlin), "Fri 27 Nov 17:00 CET");
        assert_eq!(local_time(at, chrono_tz::Pacific::Auckland), "Sat 28 Nov 05:00 NZDT");
        assert_eq!(zone(Some("Mars/Base"), chrono_tz::UTC), chrono_tz::UTC);
    }

    #[test]
    fn slugs() {
        for good in ["eng", "team-1", "0day"] {
            assert!(slug(good).is_ok(), "{good}");
        }
        for bad in ["", "Eng", "-x", "a_b", "a b", "docket", "ü"] {
            assert!(slug(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_and_handles() {
        assert_eq!(email(" Alice@Example.ORG ").unwrap(), "alice@example.org");
        assert!(email("not an address").is_err());
        assert!(email("a@").is_err());
        assert_eq!(handle("@Bob").unwrap(), "bob");
        assert!(handle("bob smith").is_err());
        assert_eq!(default_handle("jane.doe+x@example.org"), "jane.doe");
    }

    #[test]
    fn settings_report_every_problem() {
        let err = MemberSettings::parse(None, Some("Mars/Base"), Some("sometimes"), Some("8am"), None, None, Some("9-5")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Mars/Base") && text.contains("sometimes") && text.contains("8am"), "{text}");
        assert!(text.contains("--hours") && text.contains("09:00-17:00"), "{text}");
        let ok = MemberSettings::parse(
            Some("al"),
            Some("Pacific/Auckland"),
            Some("digest"),
            Some("07:30"),
            Some("mon-fri"),
            None,
            Some("08:30-16:30"),
        )
        .unwrap();
        assert_eq!(ok.tz, Some(chrono_tz::Pacific::Auckland));
        assert_eq!(ok.hours.map(|h| h.to_string()).as_deref(), Some("08:30-16:30"));
    }
}
