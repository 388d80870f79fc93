//! Need-to-know: who may see a request, and who may act on it.

use super::accounts::Role;
use super::lifecycle::Action;

/// The person asking.
#[derive(Debug, Clone)]
pub struct Viewer<'a> {
    pub user_id: &'a str,
    pub role: Role,
    pub team_ids: &'a [String],
}

/// What the policy needs to know about one request and this viewer.
#[derive(Debug, Clone, Default)]
pub struct RequestFacts<'a> {
    pub requester_id: &'a str,
    pub team_id: Option<&'a str>,
    pub assignee_id: Option<&'a str>,
    /// The viewer is excluded from this request (conflict of interest).
    pub viewer_excluded: bool,
    /// The viewer holds a live break-glass grant for this request.
    pub viewer_break_glass: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The practitioner who submitted it: replies only, never internal notes.
    Requester,
    /// Unit staff: the whole request, internal notes included.
    Staff,
    /// Nothing: answered as 404, so existence is not revealed.
    None,
}

/// Staff reach without break-glass: coordinators see everything; specialists
/// see their teams' requests and those assigned to them.
pub fn in_normal_reach(viewer: &Viewer<'_>, facts: &RequestFacts<'_>) -> bool {
    match viewer.role {
        Role::Coordinator => true,
        Role::Specialist => {
            facts.assignee_id == Some(viewer.user_id)
                || facts
                    .team_id
                    .is_some_and(|team| viewer.team_ids.iter().any(|t| t == team))
        }
        Role::Practitioner | Role::Admin => false,
    }
}

pub fn access(viewer: &Viewer<'_>, facts: &RequestFacts<'_>) -> Access {
    match viewer.role {
        Role::Practitioner if facts.requester_id == viewer.user_id => Access::Requester,
        // Admins run the system; they need no case content.
        Role::Practitioner | Role::Admin => Access::None,
        Role::Specialist | Role::Coordinator => {
            if facts.viewer_excluded {
                Access::None
            } else if in_normal_reach(viewer, facts) || facts.viewer_break_glass {
                Access::Staff
            } else {
                Access::None
            }
        }
    }
}

/// Whether a viewer with `access` may take `action`.
pub fn may(action: Action, access: Access, viewer: &Viewer<'_>, facts: &RequestFacts<'_>) -> bool {
    let coordinator = access == Access::Staff && viewer.role == Role::Coordinator;
    let assignee = access == Access::Staff && facts.assignee_id == Some(viewer.user_id);
    match action {
        Action::Withdraw | Action::RequesterReply => access == Access::Requester,
        Action::Close => access == Access::Requester || coordinator,
        Action::Reopen => access == Access::Requester || coordinator || assignee,
        Action::Resolve | Action::RequestInformation => coordinator || assignee,
        Action::Triage | Action::Assign | Action::Unassign => coordinator,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn teams(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn facts() -> RequestFacts<'static> {
        RequestFacts {
            requester_id: "pat",
            team_id: Some("health"),
            assignee_id: Some("sam"),
            ..Default::default()
        }
    }

    #[test]
    fn practitioners_see_only_their_own_requests() {
        let none: Vec<String> = vec![];
        let pat = Viewer {
            user_id: "pat",
            role: Role::Practitioner,
            team_ids: &none,
        };
        let other = Viewer {
            user_id: "kim",
            role: Role::Practitioner,
            team_ids: &none,
        };
        assert_eq!(access(&pat, &facts()), Access::Requester);
        assert_eq!(access(&other, &facts()), Access::None);
    }

    #[test]
    fn specialists_see_their_teams_and_their_assignments_only() {
        let health = teams(&["health"]);
        let crime = teams(&["crime"]);
        let in_team = Viewer {
            user_id: "lee",
            role: Role::Specialist,
            team_ids: &health,
        };
        let assignee = Viewer {
            user_id: "sam",
            role: Role::Specialist,
            team_ids: &crime,
        };
        let outsider = Viewer {
            user_id: "ash",
            role: Role::Specialist,
            team_ids: &crime,
        };
        assert_eq!(access(&in_team, &facts()), Access::Staff);
        assert_eq!(access(&assignee, &facts()), Access::Staff);
        assert_eq!(access(&outsider, &facts()), Access::None);
        let glass = RequestFacts {
            viewer_break_glass: true,
            ..facts()
        };
        assert_eq!(access(&outsider, &glass), Access::Staff);
    }

    #[test]
    fn exclusion_beats_every_other_route_in() {
        let health = teams(&["health"]);
        let excluded = RequestFacts {
            viewer_excluded: true,
            viewer_break_glass: true,
            ..facts()
        };
        for role in [Role::Specialist, Role::Coordinator] {
            let viewer = Viewer {
                user_id: "sam",
                role,
                team_ids: &health,
            };
            assert_eq!(access(&viewer, &excluded), Access::None, "{role}");
        }
    }

    #[test]
    fn coordinators_see_all_and_admins_see_no_case_content() {
        let none: Vec<String> = vec![];
        let coordinator = Viewer {
            user_id: "cat",
            role: Role::Coordinator,
            team_ids: &none,
        };
        let admin = Viewer {
            user_id: "root",
            role: Role::Admin,
            team_ids: &none,
        };
        assert_eq!(access(&coordinator, &facts()), Access::Staff);
        assert_eq!(access(&admin, &facts()), Access::None);
    }

    #[test]
    fn actions_follow_roles() {
        let none: Vec<String> = vec![];
        let health = teams(&["health"]);
        let pat = Viewer {
            user_id: "pat",
            role: Role::Practitioner,
            team_ids: &none,
        };
        let sam = Viewer {
            user_id: "sam",
            role: Role::Specialist,
            team_ids: &health,
        };
        let lee = Viewer {
            user_id: "lee",
            role: Role::Specialist,
            team_ids: &health,
        };
        let cat = Viewer {
            user_id: "cat",
            role: Role::Coordinator,
            team_ids: &none,
        };
        let f = facts();
        assert!(may(Action::Withdraw, Access::Requester, &pat, &f));
        assert!(!may(Action::Withdraw, Access::Staff, &cat, &f));
        assert!(
            may(Action::Resolve, Access::Staff, &sam, &f),
            "the assignee resolves"
        );
        assert!(
            !may(Action::Resolve, Access::Staff, &lee, &f),
            "a teammate who is not the assignee does not"
        );
        assert!(may(Action::Resolve, Access::Staff, &cat, &f));
        assert!(!may(Action::Resolve, Access::Requester, &pat, &f));
        assert!(may(Action::Close, Access::Requester, &pat, &f));
        assert!(may(Action::Close, Access::Staff, &cat, &f));
        assert!(!may(Action::Close, Access::Staff, &sam, &f));
        assert!(may(Action::Assign, Access::Staff, &cat, &f));
        assert!(!may(Action::Assign, Access::Staff, &sam, &f));
        assert!(may(Action::Reopen, Access::Requester, &pat, &f));
        assert!(may(Action::Reopen, Access::Staff, &sam, &f));
        assert!(!may(Action::Reopen, Access::Staff, &lee, &f));
    }
}
