//! Lazy consensus (SPEC §2): an open proposal whose closing time has come becomes a decision
//! (source "proposal") when nobody objected, or is blocked when somebody did. Pure.

/// An open proposal as the planner needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenProposal {
    pub id: i64,
    pub closes_at: Option<i64>,
    pub objections: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Adopt(i64),
    Block(i64),
}

/// The proposals to close at `now`, in closing order. Proposals without a closing time never close
/// by themselves.
pub fn due(open: &[OpenProposal], now: i64) -> Vec<Outcome> {
    let mut closing: Vec<&OpenProposal> = open.iter().filter(|p| p.closes_at.is_some_and(|at| at <= now)).collect();
    closing.sort_by_key(|p| (p.closes_at, p.id));
    closing.into_iter().map(|p| if p.objections > 0 { Outcome::Block(p.id) } else { Outcome::Adopt(p.id) }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(id: i64, closes_at: Option<i64>, objections: i64) -> OpenProposal {
        OpenProposal { id, closes_at, objections }
    }

    #[test]
    fn closing() {
        let open = [p(1, Some(100), 0), p(2, Some(50), 1), p(3, Some(200), 0), p(4, None, 0), p(5, Some(100), 2)];
        assert_eq!(due(&open, 99), vec![Outcome::Block(2)]);
        assert_eq!(due(&open, 100), vec![Outcome::Block(2), Outcome::Adopt(1), Outcome::Block(5)]);
        assert_eq!(due(&open, i64::MAX).len(), 4, "no closing time, never closes");
        assert!(due(&[], 0).is_empty());
    }
}
