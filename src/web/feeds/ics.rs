//! An iCalendar stream (RFC 5545) written as text: a VCALENDAR with PRODID and VERSION, VTODO and
//! VEVENT components, times in UTC (`…Z`), TEXT values escaped (§3.3.11), lines folded at 75
//! octets and ended by CRLF (§3.1). Pure.

use chrono::{DateTime, Utc};

/// One content line's value: text (escaped), or a UTC date-time, or a URI (as is).
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Time(DateTime<Utc>),
    Uri(String),
}

#[derive(Debug, Clone)]
pub struct Component {
    /// `VTODO` or `VEVENT`.
    pub kind: &'static str,
    pub properties: Vec<(&'static str, Value)>,
}

/// The calendar: `name` for X-WR-CALNAME (the name calendar apps show), then the components.
pub fn render(name: &str, components: &[Component]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, &format!("PRODID:-//docket//docket {}//EN", env!("CARGO_PKG_VERSION")));
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    for c in components {
        line(&mut out, &format!("BEGIN:{}", c.kind));
        for (prop, value) in &c.properties {
            let value = match value {
                Value::Text(s) => text(s),
                Value::Time(t) => utc(*t),
                Value::Uri(u) => u.chars().filter(|c| !c.is_control()).collect(),
            };
            line(&mut out, &format!("{prop}:{value}"));
        }
        line(&mut out, &format!("END:{}", c.kind));
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// A DATE-TIME in UTC form (§3.3.5 FORM #2).
pub fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (§3.3.11): backslash, semicolon, comma and newlines escaped, other controls dropped.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded (§3.1): no line longer than 75 octets, continuation lines
/// start with a space, never splitting a UTF-8 character; every line ends with CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn escapes_text_values() {
        assert_eq!(text("a,b;c\\d\ne\r\nf\u{7}"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn folds_long_lines_at_75_octets_without_splitting_characters() {
        let t = Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap();
        let summary = "Größe ".repeat(30);
        let cal = render(
            "ann",
            &[Component { kind: "VTODO", properties: vec![("SUMMARY", Value::Text(summary.clone())), ("DUE", Value::Time(t))] }],
        );
        assert!(cal.ends_with("END:VCALENDAR\r\n"));
        for l in cal.split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l:?}", l.len());
            assert!(!l.contains('\n') && !l.contains('\r'));
        }
        assert!(cal.contains("DUE:20261124T090000Z\r\n"));
        let unfolded = cal.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", summary)), "{unfolded}");
    }
}
