//! Sign-in throttling: how long a caller must wait after too many failures.

use chrono::{Duration, NaiveDateTime};

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub max_failures_per_account: i64,
    pub max_failures_per_address: i64,
    pub window: Duration,
}

/// Seconds to wait before another attempt is allowed, or `None` when it is.
///
/// Each list holds the failure times (ascending) that still count: inside the
/// window and, for an account, after its last successful sign-in. Once `max`
/// failures are inside the window, the caller waits until the oldest of the
/// most recent `max` ages out.
pub fn retry_after(
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
    account_failures: &[NaiveDateTime],
    address_failures: &[NaiveDateTime],
) -> Option<u64> {
    let wait = |failures: &[NaiveDateTime], max: i64| -> Option<i64> {
        let max = usize::try_from(max).ok()?;
        if max == 0 || failures.len() < max {
            return None;
        }
        let oldest_counted = failures[failures.len() - max];
        let free_at = oldest_counted + policy.window;
        // Round up so a client that waits exactly this long is let in.
        let millis = (free_at - now).num_milliseconds();
        (millis > 0).then(|| (millis + 999) / 1000)
    };
    let account = wait(account_failures, policy.max_failures_per_account);
    let address = wait(address_failures, policy.max_failures_per_address);
    account.max(address).map(|s| s.max(1) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(seconds: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("valid date")
            + Duration::seconds(seconds)
    }

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures_per_account: 3,
            max_failures_per_address: 5,
            window: Duration::seconds(600),
        }
    }

    #[test]
    fn below_the_limit_is_allowed() {
        assert_eq!(retry_after(&policy(), at(10), &[at(1), at(2)], &[]), None);
    }

    #[test]
    fn at_the_account_limit_waits_until_the_oldest_counted_failure_ages_out() {
        let failures = [at(100), at(200), at(300)];
        assert_eq!(retry_after(&policy(), at(300), &failures, &[]), Some(400));
        assert_eq!(retry_after(&policy(), at(699), &failures, &[]), Some(1));
        assert_eq!(retry_after(&policy(), at(700), &failures, &[]), None);
    }

    #[test]
    fn only_the_most_recent_failures_set_the_wait() {
        let failures = [at(0), at(100), at(200), at(300)];
        assert_eq!(retry_after(&policy(), at(300), &failures, &[]), Some(400));
    }

    #[test]
    fn the_address_limit_applies_across_accounts() {
        let failures = [at(10), at(20), at(30), at(40), at(50)];
        assert_eq!(retry_after(&policy(), at(50), &[], &failures), Some(560));
    }

    #[test]
    fn the_longer_of_the_two_waits_wins() {
        let account = [at(100), at(200), at(300)];
        let address = [at(0), at(10), at(20), at(30), at(300)];
        assert_eq!(
            retry_after(&policy(), at(300), &account, &address),
            Some(400)
        );
    }
}
