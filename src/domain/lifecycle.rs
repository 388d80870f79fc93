//! The request lifecycle: an explicit state machine. Every change of status
//! goes through [`next_status`]; anything it does not list is refused.

use super::text_enum;

text_enum!(
    Status {
        New => "new",
        Triaged => "triaged",
        Assigned => "assigned",
        AwaitingRequester => "awaiting_requester",
        Resolved => "resolved",
        Closed => "closed",
        Withdrawn => "withdrawn",
    }
);

text_enum!(
    /// Something that moves a request from one status to another.
    Action {
        Triage => "triage",
        Assign => "assign",
        Unassign => "unassign",
        RequestInformation => "request_information",
        RequesterReply => "requester_reply",
        Resolve => "resolve",
        Reopen => "reopen",
        Close => "close",
        Withdraw => "withdraw",
    }
);

impl Status {
    /// Open requests still need the unit's work.
    pub fn is_open(self) -> bool {
        !matches!(self, Status::Resolved | Status::Closed | Status::Withdrawn)
    }

    /// Closed and withdrawn requests take no more messages or changes.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Closed | Status::Withdrawn)
    }
}

/// A refused transition, for a 409 that says from what to what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub from: Status,
    pub action: Action,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a request that is {} cannot take the action {}",
            self.from, self.action
        )
    }
}

/// The status `action` leads to from `from`, or a refusal.
pub fn next_status(from: Status, action: Action) -> Result<Status, Refused> {
    use Action as A;
    use Status as S;
    let to = match (from, action) {
        (S::New | S::Triaged, A::Triage) => S::Triaged,
        (S::Triaged | S::Assigned, A::Assign) => S::Assigned,
        (S::Assigned, A::Unassign) => S::Triaged,
        (S::Assigned, A::RequestInformation) => S::AwaitingRequester,
        (S::AwaitingRequester, A::RequesterReply) => S::Assigned,
        (S::Assigned | S::AwaitingRequester, A::Resolve) => S::Resolved,
        (S::Resolved, A::Reopen) => S::Assigned,
        (S::Resolved, A::Close) => S::Closed,
        (S::New | S::Triaged | S::Assigned | S::AwaitingRequester, A::Withdraw) => S::Withdrawn,
        _ => return Err(Refused { from, action }),
    };
    Ok(to)
}

/// Whether a resolved request may still be reopened: only within the window.
pub fn within_reopen_window(
    resolved_at: chrono::NaiveDateTime,
    now: chrono::NaiveDateTime,
    window: chrono::Duration,
) -> bool {
    now - resolved_at <= window
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Status as S;

    /// Every allowed transition; everything else must be refused.
    const ALLOWED: &[(Status, Action, Status)] = &[
        (S::New, A::Triage, S::Triaged),
        (S::Triaged, A::Triage, S::Triaged),
        (S::Triaged, A::Assign, S::Assigned),
        (S::Assigned, A::Assign, S::Assigned),
        (S::Assigned, A::Unassign, S::Triaged),
        (S::Assigned, A::RequestInformation, S::AwaitingRequester),
        (S::AwaitingRequester, A::RequesterReply, S::Assigned),
        (S::Assigned, A::Resolve, S::Resolved),
        (S::AwaitingRequester, A::Resolve, S::Resolved),
        (S::Resolved, A::Reopen, S::Assigned),
        (S::Resolved, A::Close, S::Closed),
        (S::New, A::Withdraw, S::Withdrawn),
        (S::Triaged, A::Withdraw, S::Withdrawn),
        (S::Assigned, A::Withdraw, S::Withdrawn),
        (S::AwaitingRequester, A::Withdraw, S::Withdrawn),
    ];

    #[test]
    fn every_listed_transition_is_allowed_and_every_other_refused() {
        for from in Status::ALL {
            for action in Action::ALL {
                let expected = ALLOWED
                    .iter()
                    .find(|(f, a, _)| f == from && a == action)
                    .map(|(_, _, to)| *to);
                match expected {
                    Some(to) => {
                        assert_eq!(next_status(*from, *action), Ok(to), "{from} + {action}")
                    }
                    None => assert_eq!(
                        next_status(*from, *action),
                        Err(Refused {
                            from: *from,
                            action: *action
                        }),
                        "{from} + {action} should be refused"
                    ),
                }
            }
        }
    }

    #[test]
    fn closed_and_withdrawn_requests_accept_nothing() {
        for action in Action::ALL {
            assert!(next_status(S::Closed, *action).is_err());
            assert!(next_status(S::Withdrawn, *action).is_err());
        }
    }

    #[test]
    fn a_refusal_says_from_what_and_which_action() {
        let refused = next_status(S::New, A::Resolve).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "a request that is new cannot take the action resolve"
        );
    }

    #[test]
    fn reopen_window_is_inclusive() {
        let t0 = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let window = chrono::Duration::days(14);
        assert!(within_reopen_window(t0, t0 + window, window));
        assert!(!within_reopen_window(
            t0,
            t0 + window + chrono::Duration::seconds(1),
            window
        ));
    }
}
