//! Where a case stands in processing, and the only ways it may move on.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseState {
    /// Submitted and routed, nobody works on it yet.
    Received,
    InProgress,
    /// A request for information is open; the citizen's reply brings it back.
    AwaitingCitizen,
    Approved,
    Rejected,
    Closed,
}

impl CaseState {
    pub const ALL: [CaseState; 6] = [
        CaseState::Received,
        CaseState::InProgress,
        CaseState::AwaitingCitizen,
        CaseState::Approved,
        CaseState::Rejected,
        CaseState::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Received => "received",
            CaseState::InProgress => "in_progress",
            CaseState::AwaitingCitizen => "awaiting_citizen",
            CaseState::Approved => "approved",
            CaseState::Rejected => "rejected",
            CaseState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Still being worked on (not decided or closed).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CaseState::Received | CaseState::InProgress | CaseState::AwaitingCitizen
        )
    }

    /// The allowed transitions. Decisions (approve, reject) are made with a decision notice,
    /// requests for information by sending one; the state form offers only what is left.
    pub fn can_become(self, to: CaseState) -> bool {
        use CaseState::*;
        matches!(
            (self, to),
            (Received, InProgress)
                | (Received, AwaitingCitizen)
                | (Received, Rejected)
                | (InProgress, AwaitingCitizen)
                | (InProgress, Approved)
                | (InProgress, Rejected)
                | (AwaitingCitizen, InProgress)
                | (AwaitingCitizen, Approved)
                | (AwaitingCitizen, Rejected)
                | (Approved, Closed)
                | (Rejected, Closed)
                | (Closed, InProgress)
        )
    }

    /// Transitions a caseworker makes with the plain state form (no message needed).
    pub fn manual_targets(self) -> Vec<CaseState> {
        use CaseState::*;
        [InProgress, Closed]
            .into_iter()
            .filter(|t| self.can_become(*t))
            .collect()
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::CaseState::{self, *};
    use proptest::prelude::*;

    #[test]
    fn names_round_trip() {
        for s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.as_str()), Some(s));
        }
        assert_eq!(CaseState::parse("deleted"), None);
    }

    #[test]
    fn decisions_need_the_case_in_hand() {
        assert!(!Received.can_become(Approved), "approve unseen cases");
        assert!(InProgress.can_become(Approved));
        assert!(!Approved.can_become(Rejected), "a decision is not flipped");
        assert!(!Closed.can_become(Approved));
        assert_eq!(Received.manual_targets(), vec![InProgress]);
        assert_eq!(Approved.manual_targets(), vec![Closed]);
    }

    proptest! {
        #[test]
        fn no_state_moves_to_itself_or_back_to_received(a in 0usize..6, b in 0usize..6) {
            let (from, to) = (CaseState::ALL[a], CaseState::ALL[b]);
            if from.can_become(to) {
                prop_assert_ne!(from, to);
                prop_assert_ne!(to, Received);
            }
            // A closed case can only be reopened.
            if from == Closed && from.can_become(to) {
                prop_assert_eq!(to, InProgress);
            }
        }
    }
}
