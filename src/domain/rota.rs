//! The duty rota: who is on call when, for acknowledgement and escalation of
//! immediate-risk requests.

use chrono::{Duration, NaiveDateTime};

use super::accounts::Role;
use super::text_enum;

text_enum!(
    /// A duty someone can be on the rota for.
    Duty {
        OnCallSpecialist => "on_call_specialist",
        DutyCoordinator => "duty_coordinator",
        UnitLead => "unit_lead",
    }
);

/// A shift may last at most this long.
pub const MAX_SHIFT_DAYS: i64 = 31;

impl Duty {
    /// Who may hold the duty: specialists take calls, coordinators run the
    /// duty desk and lead the unit.
    pub fn may_be_held_by(self, role: Role) -> bool {
        match self {
            Duty::OnCallSpecialist => role == Role::Specialist,
            Duty::DutyCoordinator | Duty::UnitLead => role == Role::Coordinator,
        }
    }
}

/// Checks a shift's span: it ends after it starts and lasts at most
/// [`MAX_SHIFT_DAYS`]. Returns the field at fault and why.
pub fn shift_problem(
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
) -> Option<(&'static str, String)> {
    if ends_at <= starts_at {
        return Some(("ends_at", "must be after starts_at".into()));
    }
    if ends_at - starts_at > Duration::days(MAX_SHIFT_DAYS) {
        return Some((
            "ends_at",
            format!("a shift lasts at most {MAX_SHIFT_DAYS} days"),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(hours: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + hours * 3600, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn each_duty_goes_to_its_role_only() {
        assert!(Duty::OnCallSpecialist.may_be_held_by(Role::Specialist));
        assert!(!Duty::OnCallSpecialist.may_be_held_by(Role::Coordinator));
        assert!(Duty::DutyCoordinator.may_be_held_by(Role::Coordinator));
        assert!(!Duty::UnitLead.may_be_held_by(Role::Practitioner));
        assert!(!Duty::UnitLead.may_be_held_by(Role::Admin));
    }

    #[test]
    fn a_shift_must_end_after_it_starts_and_not_run_on_for_weeks() {
        assert_eq!(shift_problem(t(0), t(8)), None);
        assert_eq!(shift_problem(t(8), t(8)).map(|p| p.0), Some("ends_at"));
        assert_eq!(shift_problem(t(8), t(0)).map(|p| p.0), Some("ends_at"));
        assert!(shift_problem(t(0), t(24 * 32)).is_some());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn a_shift_is_accepted_exactly_when_it_runs_forwards_for_at_most_the_limit(
                start in -1_000_000i64..1_000_000,
                length in -100i64..(24 * (MAX_SHIFT_DAYS + 3)),
            ) {
                let problem = shift_problem(t(start), t(start + length));
                prop_assert_eq!(problem.is_none(), (1..=24 * MAX_SHIFT_DAYS).contains(&length));
                if let Some((field, _)) = problem {
                    prop_assert_eq!(field, "ends_at");
                }
            }
        }
    }
}
