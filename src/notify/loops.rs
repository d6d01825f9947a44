//! Loop alerts (docs/mail-flow.md): a thread with more than `threads.loop_rounds` rounds since its last
//! decision (a round = a message whose author differs from the previous message's) gets one
//! notice suggesting a call, with the open question and the participants; again only after a new
//! decision. Pure: the key names the thread and its last decision.

use crate::store::outbound::{LoopDecision, ThreadMessage};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopAlert {
    pub thread_id: i64,
    pub space_id: i64,
    pub subject: String,
    /// The decision the rounds are counted from (0: none yet); part of the key.
    pub decision_id: i64,
    pub rounds: i64,
    pub participants: Vec<String>,
    /// What the thread is stuck on: the last line that asks something (ends in `?`, or an
    /// `#ask`/`#propose`) of the last message since that decision that asks, else the subject.
    pub question: String,
    /// Message-IDs of the thread, oldest first (for In-Reply-To/References).
    pub message_ids: Vec<String>,
}

impl LoopAlert {
    pub fn key(&self, recipient: &str) -> String {
        format!("loop:{}:{}:{}", self.thread_id, self.decision_id, recipient)
    }
}

/// Loop alerts for threads given as their messages (by thread, then arrival) and decisions.
pub fn due(messages: &[ThreadMessage], decisions: &[LoopDecision], loop_rounds: i64) -> Vec<LoopAlert> {
    let mut out = Vec::new();
    for thread in messages.chunk_by(|a, b| a.thread_id == b.thread_id) {
        let Some(first) = thread.first() else { continue };
        let last_decision = decisions.iter().filter(|d| d.thread_id == first.thread_id).max_by_key(|d| (d.known_at, d.id));
        if let Some(alert) = check(thread, last_decision, loop_rounds) {
            out.push(alert);
        }
    }
    out
}

/// Whether a message arrived after a decision: after the decision's own message, or after the
/// closing of an adopted proposal. Arrival, never the sender's Date header (issue 12).
fn after(m: &ThreadMessage, decision: Option<&LoopDecision>) -> bool {
    match decision {
        None => true,
        Some(LoopDecision { message: Some(id), known_at, .. }) => (m.arrived, m.id) > (*known_at, *id),
        Some(LoopDecision { known_at, .. }) => m.arrived > *known_at,
    }
}

/// One thread's messages in arrival order.
pub fn check(thread: &[ThreadMessage], last_decision: Option<&LoopDecision>, loop_rounds: i64) -> Option<LoopAlert> {
    let first = thread.first()?;
    let mut previous: Option<&str> = None;
    let mut rounds = 0;
    let mut participants: Vec<String> = Vec::new();
    for m in thread {
        let from = m.from_addr.as_deref().unwrap_or("");
        if previous.is_some_and(|p| p != from) && after(m, last_decision) {
            rounds += 1;
        }
        previous = Some(from);
        if !from.is_empty() && !participants.iter().any(|p| p == from) {
            participants.push(from.to_string());
        }
    }
    if rounds <= loop_rounds {
        return None;
    }
    let question = thread
        .iter()
        .rev()
        .filter(|m| after(m, last_decision))
        .find_map(|m| m.visible_text.lines().rev().map(str::trim).find(|l| asks(l)))
        .map(|q| shorten(q, 200))
        .unwrap_or_else(|| first.subject.clone());
    Some(LoopAlert {
        thread_id: first.thread_id,
        space_id: first.space_id,
        subject: first.subject.clone(),
        decision_id: last_decision.map_or(0, |d| d.id),
        rounds,
        participants,
        question,
        message_ids: thread.iter().filter_map(|m| m.message_id.clone()).collect(),
    })
}

/// A line that asks something: a question, or an `#ask` / `#propose` tag (docs/tags.md); never a quote.
fn asks(line: &str) -> bool {
    if line.starts_with('>') {
        return false;
    }
    let word = line.trim_start_matches(['-', '*', '•', ' ']).split([' ', ':']).next().unwrap_or("").to_ascii_lowercase();
    line.ends_with('?')
        || matches!(word.as_str(), "#ask" | "#propose" | "#proposal")
        || (line.contains(':') && matches!(word.as_str(), "ask" | "proposal"))
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(thread: i64, from: &str, date: i64, text: &str) -> ThreadMessage {
        ThreadMessage {
            id: date,
            arrived: date,
            thread_id: thread,
            space_id: 1,
            subject: "Cache".into(),
            message_id: Some(format!("{thread}.{date}@x")),
            from_addr: Some(from.into()),
            date,
            visible_text: text.into(),
        }
    }

    #[test]
    fn rounds_since_the_last_decision() {
        let talk = [
            msg(1, "a", 1, "Redis?"),
            msg(1, "b", 2, "No"),
            msg(1, "b", 3, "really"),
            msg(1, "a", 4, "Why not?"),
            msg(1, "c", 5, "Should we use memcached?\n> Why not?"),
            msg(1, "a", 6, "Hm."),
        ];
        let alerts = due(&talk, &[], 3);
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!((a.rounds, a.decision_id, a.question.as_str()), (4, 0, "Should we use memcached?"));
        assert_eq!(a.participants, ["a", "b", "c"]);
        assert_eq!(a.key("a"), "loop:1:0:a");
        assert!(due(&talk[..5], &[], 3).is_empty(), "3 rounds are not more than 3");
        let decided = LoopDecision { id: 7, thread_id: 1, message: Some(4), known_at: 4 };
        assert!(due(&talk, std::slice::from_ref(&decided), 3).is_empty(), "only 2 rounds since D-7");
        let more = [&talk[..], &[msg(1, "b", 7, ""), msg(1, "a", 8, ""), msg(1, "b", 9, "")]].concat();
        let again = due(&more, &[decided], 3);
        assert_eq!((again[0].decision_id, again[0].rounds), (7, 5));
        assert!(due(&[msg(2, "a", 1, ""), msg(2, "a", 2, "")], &[], 0).is_empty());
    }

    /// Issue 12: the question is the last ask (a `?` or an `#ask`/`#propose`), not the latest line.
    #[test]
    fn the_open_question_is_the_last_ask() {
        let check = |texts: &[&str], want: &str| {
            let talk: Vec<ThreadMessage> = texts.iter().enumerate().map(|(i, t)| msg(1, ["a", "b"][i % 2], i as i64 + 1, t)).collect();
            assert_eq!(due(&talk, &[], 2)[0].question, want, "{texts:?}");
        };
        check(&["Redis?", "No", "#ask @a benchmark memcached by friday", "Hm.", "ok"], "#ask @a benchmark memcached by friday");
        check(&["Redis?", "- #propose Use Redis by friday", "Hm.", "ok"], "- #propose Use Redis by friday");
        check(&["Redis?", "Ask: can you measure it", "no", "> Why?"], "Ask: can you measure it");
        check(&["a", "b", "c", "d"], "Cache");
    }
}
