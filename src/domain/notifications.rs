//! Email notifications: which events send mail, and which of them are
//! safety-critical (never switched off by anyone).

use super::text_enum;

text_enum!(
    /// Something that sends an email.
    EmailEvent {
        RequestReceived => "request_received",
        RequestAssigned => "request_assigned",
        ReplyPosted => "reply_posted",
        InformationRequested => "information_requested",
        RequestResolved => "request_resolved",
        SlaWarning => "sla_warning",
        SlaBreach => "sla_breach",
        ImmediateRisk => "immediate_risk",
        Escalation => "escalation",
    }
);

/// Outbox claim order, lowest first: what protects a child is claimed
/// before any routine row, however long the backlog.
pub const SAFETY_CRITICAL_FIRST: i32 = 0;
pub const ROUTINE: i32 = 1;

pub fn outbox_priority(safety_critical: bool) -> i32 {
    if safety_critical {
        SAFETY_CRITICAL_FIRST
    } else {
        ROUTINE
    }
}

impl EmailEvent {
    /// Immediate risk, escalation and missed deadlines reach people however
    /// they have set their preferences or the unit its configuration.
    pub fn is_safety_critical(self) -> bool {
        matches!(
            self,
            EmailEvent::ImmediateRisk | EmailEvent::Escalation | EmailEvent::SlaBreach
        )
    }
}

/// Seconds to wait before delivery attempt `attempt` (1 = the first retry):
/// doubling from `base`, at most `max`, then `jitter` (0 to 1) takes off up
/// to a quarter so many workers retrying at once spread out.
pub fn retry_delay_seconds(attempt: u32, base: i64, max: i64, jitter: f64) -> i64 {
    let doubled = base.saturating_mul(1_i64 << attempt.saturating_sub(1).min(30));
    let capped = doubled.min(max).max(1);
    let spread = (capped as f64 * 0.25 * jitter.clamp(0.0, 1.0)) as i64;
    (capped - spread).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safety_critical_events_are_the_three_that_protect_a_child() {
        let critical: Vec<_> = EmailEvent::ALL
            .iter()
            .filter(|e| e.is_safety_critical())
            .map(|e| e.as_str())
            .collect();
        assert_eq!(critical, ["sla_breach", "immediate_risk", "escalation"]);
    }

    #[test]
    fn safety_critical_emails_are_claimed_before_routine_ones() {
        assert!(outbox_priority(true) < outbox_priority(false));
        assert_eq!(
            outbox_priority(EmailEvent::ImmediateRisk.is_safety_critical()),
            SAFETY_CRITICAL_FIRST
        );
        assert_eq!(
            outbox_priority(EmailEvent::RequestReceived.is_safety_critical()),
            ROUTINE
        );
    }

    #[test]
    fn retries_back_off_doubling_up_to_the_cap_with_jitter_taking_off_at_most_a_quarter() {
        assert_eq!(retry_delay_seconds(1, 30, 3600, 0.0), 30);
        assert_eq!(retry_delay_seconds(2, 30, 3600, 0.0), 60);
        assert_eq!(retry_delay_seconds(5, 30, 3600, 0.0), 480);
        assert_eq!(retry_delay_seconds(10, 30, 3600, 0.0), 3600);
        assert_eq!(retry_delay_seconds(60, 30, 3600, 0.0), 3600);
        assert_eq!(retry_delay_seconds(1, 40, 3600, 1.0), 30);
        assert!((45..=60).contains(&retry_delay_seconds(2, 30, 3600, 0.5)));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn retry_delays_stay_between_one_second_and_the_cap_and_never_shrink_with_attempts(
                attempt in 1u32..80,
                base in 1i64..100_000,
                max in 1i64..1_000_000,
                jitter in 0.0f64..=1.0,
            ) {
                let delay = retry_delay_seconds(attempt, base, max, jitter);
                prop_assert!((1..=max).contains(&delay), "{}", delay);
                prop_assert!(retry_delay_seconds(attempt + 1, base, max, 0.0) >= retry_delay_seconds(attempt, base, max, 0.0));
                prop_assert!(delay * 4 >= retry_delay_seconds(attempt, base, max, 0.0) * 3);
            }
        }
    }
}
