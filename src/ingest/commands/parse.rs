//! What a mail to the commands address (docs/mail-flow.md) asks for: the first non-empty,
//! unquoted line of its visible text, else its subject. Pure.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Tasks,
    Decisions,
    Search(String),
    Digest,
    Mute(Scope),
    Unmute(Scope),
    /// No more mail from a space (all of them when none is named and the sender has one).
    Unsubscribe(Option<String>),
    Unknown(String),
}

/// What `mute`/`unmute` applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Thread(i64),
    /// A space by slug; None = the sender's only space.
    Space(Option<String>),
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Help => "help",
            Command::Tasks => "tasks",
            Command::Decisions => "decisions",
            Command::Search(_) => "search",
            Command::Digest => "digest",
            Command::Mute(_) => "mute",
            Command::Unmute(_) => "unmute",
            Command::Unsubscribe(_) => "unsubscribe",
            Command::Unknown(_) => "unknown",
        }
    }
}

/// What was asked, as `command_mail.command` records it: the command in the words it is written
/// with (`mute thread 12`, `search cache`), `unknown: …` for what docket did not understand.
impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scope = |s: &Scope| match s {
            Scope::Thread(id) => format!(" thread {id}"),
            Scope::Space(Some(slug)) => format!(" {slug}"),
            Scope::Space(None) => String::new(),
        };
        match self {
            Command::Search(query) => write!(f, "search {query}"),
            Command::Mute(s) => write!(f, "mute{}", scope(s)),
            Command::Unmute(s) => write!(f, "unmute{}", scope(s)),
            Command::Unsubscribe(Some(slug)) => write!(f, "unsubscribe {slug}"),
            Command::Unknown(what) => write!(f, "unknown: {what}"),
            c => f.write_str(c.name()),
        }
    }
}

/// The command a mail asks for: the first non-empty, unquoted line of its visible text, else
/// its subject without Re:/Fwd: prefixes.
pub fn parse(subject: &str, visible_text: &str) -> Command {
    let body = visible_text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('>'));
    let from_body = body.map(parse_line);
    match from_body {
        Some(c) if !matches!(c, Command::Unknown(_)) => c,
        _ => {
            let base = crate::thread::base_subject(subject).display;
            match parse_line(base.trim()) {
                Command::Unknown(_) => from_body.unwrap_or(Command::Help),
                c => c,
            }
        }
    }
}

fn parse_line(line: &str) -> Command {
    let mut words = line.split_whitespace();
    let verb = words.next().unwrap_or("").trim_end_matches([':', '.', '!']).to_ascii_lowercase();
    let rest: Vec<&str> = words.collect();
    let scope = |rest: &[&str]| -> Option<Scope> {
        match rest {
            [] => Some(Scope::Space(None)),
            ["thread", id] => id.trim_start_matches('#').parse().ok().map(Scope::Thread),
            [id] if id.trim_start_matches('#').parse::<i64>().is_ok() => id.trim_start_matches('#').parse().ok().map(Scope::Thread),
            ["space", slug] | [slug] => Some(Scope::Space(Some(slug.to_ascii_lowercase()))),
            _ => None,
        }
    };
    match verb.as_str() {
        "help" | "?" => Command::Help,
        "tasks" | "todo" => Command::Tasks,
        "decisions" => Command::Decisions,
        "search" if !rest.is_empty() => Command::Search(rest.join(" ")),
        "digest" => Command::Digest,
        "mute" => scope(&rest).map_or_else(|| Command::Unknown(line.into()), Command::Mute),
        "unmute" => scope(&rest).map_or_else(|| Command::Unknown(line.into()), Command::Unmute),
        "unsubscribe" => Command::Unsubscribe(rest.first().map(|s| s.to_ascii_lowercase())),
        _ => Command::Unknown(line.chars().take(80).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_from_body_or_subject() {
        let check = |subject: &str, body: &str, want: Command| assert_eq!(parse(subject, body), want, "{subject:?} {body:?}");
        check("", "help", Command::Help);
        check("tasks", "", Command::Tasks);
        check("Re: decisions", "\n\n", Command::Decisions);
        check("", "Search: cache invalidation\n", Command::Search("cache invalidation".into()));
        check("", "mute thread 12", Command::Mute(Scope::Thread(12)));
        check("", "mute #12", Command::Mute(Scope::Thread(12)));
        check("", "mute eng", Command::Mute(Scope::Space(Some("eng".into()))));
        check("", "unmute", Command::Unmute(Scope::Space(None)));
        check("unsubscribe eng", "", Command::Unsubscribe(Some("eng".into())));
        check("hello", "please help me", Command::Unknown("please help me".into()));
        check("digest", "Sent from my phone", Command::Digest);
        check("", "", Command::Help);
    }

    #[test]
    fn a_recorded_command_reads_back_as_itself() {
        for c in [
            Command::Help,
            Command::Tasks,
            Command::Decisions,
            Command::Search("cache invalidation".into()),
            Command::Digest,
            Command::Mute(Scope::Thread(12)),
            Command::Mute(Scope::Space(Some("eng".into()))),
            Command::Unmute(Scope::Space(None)),
            Command::Unsubscribe(Some("eng".into())),
            Command::Unsubscribe(None),
        ] {
            assert_eq!(parse("", &c.to_string()), c, "{c}");
        }
        assert_eq!(Command::Unknown("please help".into()).to_string(), "unknown: please help");
    }
}
