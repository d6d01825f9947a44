//! The threading policy (docs/mail-flow.md) as a pure decision over what the store found: reply token first,
//! then Message-ID / In-Reply-To / References (JWZ: a known parent, or a sibling that shares an
//! unknown ancestor), then base subject, only for replies whose parents are unknown. Children that
//! arrived before their parent pull their threads into the parent's (a late parent joins them).

/// What the store found for one incoming message, each list in preference order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Candidates {
    /// The thread named by a verified reply token (`SPACE+TOKEN@DOMAIN`).
    pub by_token: Option<i64>,
    /// Threads of known parents, nearest parent first.
    pub by_parent: Vec<i64>,
    /// Threads of messages that reference the same (unknown) ancestors.
    pub by_sibling: Vec<i64>,
    /// Threads of messages that already name this message as an ancestor.
    pub by_child: Vec<i64>,
    /// The most recent thread with the same base subject (only looked up for replies).
    pub by_subject: Option<i64>,
}

/// Where the message goes, and which threads fold into that one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub thread: Target,
    /// Other threads that turned out to be the same conversation; merged into the target.
    pub merge: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Existing(i64),
    New,
}

pub fn assign(c: &Candidates) -> Assignment {
    let primary = c.by_token.or_else(|| c.by_parent.first().copied()).or_else(|| c.by_sibling.first().copied());
    let linked = c.by_parent.iter().chain(&c.by_sibling).chain(&c.by_child).copied();
    let target = primary.or_else(|| c.by_child.first().copied()).or(c.by_subject);
    let Some(target) = target else {
        return Assignment { thread: Target::New, merge: Vec::new() };
    };
    // A token names a thread on purpose; reference links from it are still the same conversation.
    let mut merge: Vec<i64> = Vec::new();
    for id in linked {
        if id != target && !merge.contains(&id) {
            merge.push(id);
        }
    }
    Assignment { thread: Target::Existing(target), merge }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: Candidates, thread: Target, merge: &[i64]) {
        assert_eq!(assign(&c), Assignment { thread, merge: merge.to_vec() }, "{c:?}");
    }

    #[test]
    fn policy() {
        use Target::*;
        check(Candidates::default(), New, &[]);
        check(Candidates { by_parent: vec![4], ..Default::default() }, Existing(4), &[]);
        check(Candidates { by_token: Some(9), by_parent: vec![4], ..Default::default() }, Existing(9), &[4]);
        check(Candidates { by_sibling: vec![5], ..Default::default() }, Existing(5), &[]);
        check(Candidates { by_child: vec![7, 8], ..Default::default() }, Existing(7), &[8]);
        check(Candidates { by_parent: vec![3], by_child: vec![7], ..Default::default() }, Existing(3), &[7]);
        check(Candidates { by_subject: Some(2), ..Default::default() }, Existing(2), &[]);
        // Subject never wins over a reference, and never merges.
        check(Candidates { by_child: vec![7], by_subject: Some(2), ..Default::default() }, Existing(7), &[]);
        check(Candidates { by_parent: vec![3, 3], by_sibling: vec![3, 6], ..Default::default() }, Existing(3), &[6]);
    }
}
