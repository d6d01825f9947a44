//! The state machines of stored rows (and the one other enum column, a decision's source): one
//! enum each, stored as the same lower-case strings as before (no schema change). Each has one
//! `as_str` that `Display`, `FromStr`, `Serialize` and the row decoding
//! (`#[sqlx(try_from = "String")]`) all go through, so the compiler checks every transition and
//! no state crosses a module as a string.

/// A stored state that is none of its machine's states.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a {machine} state")]
pub struct UnknownState {
    pub machine: &'static str,
    pub value: String,
}

impl From<UnknownState> for super::StoreError {
    fn from(e: UnknownState) -> Self {
        super::StoreError::Query(sqlx::Error::Decode(Box::new(e)))
    }
}

macro_rules! states {
    ($(#[$meta:meta])* $name:ident ($machine:literal) { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every state, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // `pad`, so width and alignment (`{:<9}`) apply as they do to a string.
                f.pad(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownState;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownState { machine: $machine, value: s.to_owned() }),
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = UnknownState;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

states! {
    /// `inbound.state`: received → processing → stored | failed; quarantined (sender policy) →
    /// received when released.
    InboundState ("delivery") {
        Received = "received",
        Processing = "processing",
        Stored = "stored",
        Failed = "failed",
        Quarantined = "quarantined",
    }
}

states! {
    /// `tasks.status`: open → done | cancelled → open (reopen).
    TaskStatus ("task") {
        Open = "open",
        Done = "done",
        Cancelled = "cancelled",
    }
}

states! {
    /// `proposals.status`: open → adopted (it became a decision) | blocked (objected to) |
    /// withdrawn (`#withdraw` by its proposer).
    ProposalStatus ("proposal") {
        Open = "open",
        Adopted = "adopted",
        Blocked = "blocked",
        Withdrawn = "withdrawn",
    }
}

states! {
    /// `outbound.state`: queued → sending (claimed) → sent | queued (retry) | failed.
    OutboundState ("outbound mail") {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        Failed = "failed",
    }
}

states! {
    /// `command_mail.state`: received (stored, not decided) → pending (the intake ran the command;
    /// a reply is owed) | ignored → answered; pending again when its answer could not be rendered.
    CommandState ("command mail") {
        Received = "received",
        Pending = "pending",
        Answered = "answered",
        Ignored = "ignored",
    }
}

states! {
    /// `decisions.source`: where a decision came from (not a state machine; stored the same way).
    DecisionSource ("decision source") {
        /// A `#decision` tag.
        Tag = "tag",
        /// A `[decision]` subject.
        Subject = "subject",
        /// An adopted proposal (lazy consensus).
        Proposal = "proposal",
        /// An ask's `default:` applied when nobody answered in time.
        Default = "default",
    }
}

states! {
    /// `decisions.status`: standing → superseded (a later `#decision … supersedes D-n`).
    DecisionStatus ("decision") {
        Standing = "standing",
        Superseded = "superseded",
    }
}

states! {
    /// `asks.status`: open → answered (an asked member replied) | defaulted (its default became a
    /// decision at the closing time) | expired (closed without an answer or a default).
    AskStatus ("ask") {
        Open = "open",
        Answered = "answered",
        Defaulted = "defaulted",
        Expired = "expired",
    }
}

states! {
    /// A thread's status (docs/cli.md), derived from its rounds and decisions, never stored.
    ThreadStatus ("thread") {
        Open = "open",
        Decided = "decided",
        Looping = "looping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr<Err = UnknownState>,
    {
        for s in all {
            assert_eq!(s.to_string().parse::<T>(), Ok(*s));
        }
    }

    #[test]
    fn every_state_reads_back_what_it_writes() {
        round_trip(InboundState::ALL);
        round_trip(TaskStatus::ALL);
        round_trip(ProposalStatus::ALL);
        round_trip(OutboundState::ALL);
        round_trip(CommandState::ALL);
        round_trip(DecisionSource::ALL);
        round_trip(ThreadStatus::ALL);
        round_trip(DecisionStatus::ALL);
        round_trip(AskStatus::ALL);
    }

    #[test]
    fn stored_spellings_are_unchanged() {
        let spelled: Vec<&str> = TaskStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(spelled, ["open", "done", "cancelled"]);
        let spelled: Vec<&str> = ProposalStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(spelled, ["open", "adopted", "blocked", "withdrawn"]);
        let spelled: Vec<&str> = OutboundState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(spelled, ["queued", "sending", "sent", "failed"]);
        let spelled: Vec<&str> = CommandState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(spelled, ["received", "pending", "answered", "ignored"]);
        let spelled: Vec<&str> = InboundState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(spelled, ["received", "processing", "stored", "failed", "quarantined"]);
        let spelled: Vec<&str> = DecisionSource::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(spelled, ["tag", "subject", "proposal", "default"]);
    }

    /// `state = 'x'`, `status = 'x'` and `source = 'x'` in SQL text: (column, value).
    fn sql_literals(text: &str) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for column in ["state", "status", "source"] {
            let needle = format!("{column} = '");
            let mut rest = text;
            while let Some(i) = rest.find(&needle) {
                let after = &rest[i + needle.len()..];
                let end = after.find('\'').unwrap_or(after.len());
                out.push((column, &after[..end]));
                rest = &after[end..];
            }
        }
        out
    }

    /// Whether a literal compared with a column is one of that column's spellings.
    fn known(column: &str, value: &str) -> bool {
        let spellings: Vec<&str> = match column {
            "state" => InboundState::ALL
                .iter()
                .map(|s| s.as_str())
                .chain(OutboundState::ALL.iter().map(|s| s.as_str()))
                .chain(CommandState::ALL.iter().map(|s| s.as_str()))
                .collect(),
            "status" => TaskStatus::ALL
                .iter()
                .map(|s| s.as_str())
                .chain(ProposalStatus::ALL.iter().map(|s| s.as_str()))
                .chain(DecisionStatus::ALL.iter().map(|s| s.as_str()))
                .chain(AskStatus::ALL.iter().map(|s| s.as_str()))
                .collect(),
            _ => DecisionSource::ALL.iter().map(|s| s.as_str()).collect(),
        };
        spellings.contains(&value)
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn sql_literals_are_found_and_checked() {
        let sql = "UPDATE outbound SET state = 'sent' WHERE state = 'sendng' AND status = 'open' OR source = 'tag'";
        let found = sql_literals(sql);
        assert_eq!(found, [("state", "sent"), ("state", "sendng"), ("status", "open"), ("source", "tag")]);
        let unknown: Vec<_> = found.into_iter().filter(|(c, v)| !known(c, v)).collect();
        assert_eq!(unknown, [("state", "sendng")]);
    }

    /// The SQL in src/ compares state columns with the enums' spellings only (a typo in a query
    /// is otherwise a query that silently matches nothing).
    #[test]
    fn sql_in_the_sources_uses_only_known_states() {
        let mut files = Vec::new();
        rust_files(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        assert!(files.len() > 20, "found the sources");
        let mut seen = 0;
        let mut unknown = Vec::new();
        for file in files.iter().filter(|f| !f.ends_with("store/states.rs")) {
            let text = std::fs::read_to_string(file).unwrap();
            for (column, value) in sql_literals(&text) {
                seen += 1;
                if !known(column, value) {
                    unknown.push(format!("{}: {column} = '{value}'", file.display()));
                }
            }
        }
        assert!(seen > 10, "found the queries ({seen})");
        assert!(unknown.is_empty(), "{unknown:#?}");
    }

    #[test]
    fn unknown_states_are_errors_and_display_pads() {
        assert_eq!("closed".parse::<TaskStatus>(), Err(UnknownState { machine: "task", value: "closed".into() }));
        assert_eq!(format!("[{:<6}]", TaskStatus::Done), "[done  ]");
        assert_eq!(serde_json::to_string(&ProposalStatus::Adopted).ok().as_deref(), Some("\"adopted\""));
    }
}
