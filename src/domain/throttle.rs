//! Sign-in throttling: how long a caller must wait after too many failures.
//!
//! Three limits apply at once. Failures for an account from one address are
//! held tightly, so a guesser is stopped early without locking the owner out
//! from their own address; the whole account has a higher ceiling, against
//! guessing spread over many addresses; and an address has its own limit
//! across accounts, against one source trying many.

use chrono::{Duration, NaiveDateTime};

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub max_failures_per_account_address: i64,
    pub max_failures_per_account: i64,
    pub max_failures_per_address: i64,
    pub window: Duration,
}

/// Failure times (ascending) that still count: inside the window and, for
/// an account, after its last success.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failures {
    /// The account's failures from the caller's address.
    pub account_address: Vec<NaiveDateTime>,
    /// The account's failures from anywhere.
    pub account: Vec<NaiveDateTime>,
    /// The address's failures for any account.
    pub address: Vec<NaiveDateTime>,
}

/// Seconds to wait before another attempt is allowed, or `None` when it is.
///
/// Once `max` failures of a list are inside the window, the caller waits
/// until the oldest of the most recent `max` ages out; the longest wait wins.
pub fn retry_after(
    policy: &ThrottlePolicy,
    now: NaiveDateTime,
    failures: &Failures,
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
    [
        wait(
            &failures.account_address,
            policy.max_failures_per_account_address,
        ),
        wait(&failures.account, policy.max_failures_per_account),
        wait(&failures.address, policy.max_failures_per_address),
    ]
    .into_iter()
    .flatten()
    .max()
    .map(|s| s.max(1) as u64)
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
            max_failures_per_account_address: 3,
            max_failures_per_account: 6,
            max_failures_per_address: 5,
            window: Duration::seconds(600),
        }
    }

    fn from_one_address(times: &[NaiveDateTime]) -> Failures {
        Failures {
            account_address: times.to_vec(),
            account: times.to_vec(),
            address: times.to_vec(),
        }
    }

    #[test]
    fn below_the_limit_is_allowed() {
        let failures = from_one_address(&[at(1), at(2)]);
        assert_eq!(retry_after(&policy(), at(10), &failures), None);
    }

    #[test]
    fn at_the_account_and_address_limit_waits_until_the_oldest_counted_failure_ages_out() {
        let failures = from_one_address(&[at(100), at(200), at(300)]);
        assert_eq!(retry_after(&policy(), at(300), &failures), Some(400));
        assert_eq!(retry_after(&policy(), at(699), &failures), Some(1));
        assert_eq!(retry_after(&policy(), at(700), &failures), None);
    }

    #[test]
    fn only_the_most_recent_failures_set_the_wait() {
        let failures = from_one_address(&[at(0), at(100), at(200), at(300)]);
        assert_eq!(retry_after(&policy(), at(300), &failures), Some(400));
    }

    #[test]
    fn failures_from_other_addresses_leave_this_address_free_below_the_account_ceiling() {
        let failures = Failures {
            account: vec![at(10), at(20), at(30), at(40), at(50)],
            ..Failures::default()
        };
        assert_eq!(retry_after(&policy(), at(60), &failures), None);
    }

    #[test]
    fn the_account_ceiling_holds_across_addresses() {
        let failures = Failures {
            account: vec![at(10), at(20), at(30), at(40), at(50), at(60)],
            ..Failures::default()
        };
        assert_eq!(retry_after(&policy(), at(60), &failures), Some(550));
    }

    #[test]
    fn the_address_limit_applies_across_accounts() {
        let failures = Failures {
            address: vec![at(10), at(20), at(30), at(40), at(50)],
            ..Failures::default()
        };
        assert_eq!(retry_after(&policy(), at(50), &failures), Some(560));
    }

    #[test]
    fn the_longest_wait_wins() {
        let failures = Failures {
            account_address: vec![at(100), at(200), at(300)],
            account: vec![at(100), at(200), at(300)],
            address: vec![at(0), at(10), at(20), at(30), at(300)],
        };
        assert_eq!(retry_after(&policy(), at(300), &failures), Some(400));
    }
}
