//! Retention: when a finished request's free text is due to be redacted,
//! and what reads in its place. Statistics (status, priority, category,
//! organisation, region, team, times, response-time facts) are kept.

use chrono::{Duration, NaiveDateTime};

use super::lifecycle::Status;

/// What redacted free text reads as.
pub const REDACTED: &str = "[redacted]";

/// The facts of a request that decide whether it is due.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    pub status: Status,
    pub closed_at: Option<NaiveDateTime>,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub redacted_at: Option<NaiveDateTime>,
}

impl Finished {
    /// When the request stopped taking changes: closed or withdrawn. Open
    /// and resolved requests (which may still be reopened) have no such time.
    pub fn finished_at(&self) -> Option<NaiveDateTime> {
        match self.status {
            Status::Closed => self.closed_at,
            Status::Withdrawn => self.withdrawn_at,
            _ => None,
        }
    }
}

/// Requests that finished at or before this instant are due at `now`.
pub fn cutoff(now: NaiveDateTime, redact_after_days: i64) -> NaiveDateTime {
    now - Duration::days(redact_after_days)
}

/// Whether a request's free text is due for redaction at `now`: finished
/// at least `redact_after_days` ago and not redacted yet.
pub fn is_due(request: &Finished, now: NaiveDateTime, redact_after_days: i64) -> bool {
    request.redacted_at.is_none()
        && request
            .finished_at()
            .is_some_and(|at| at <= cutoff(now, redact_after_days))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc()
    }

    fn finished(status: Status, at: NaiveDateTime) -> Finished {
        Finished {
            status,
            closed_at: (status == Status::Closed).then_some(at),
            withdrawn_at: (status == Status::Withdrawn).then_some(at),
            redacted_at: None,
        }
    }

    #[test]
    fn a_closed_request_is_due_once_the_period_has_passed_inclusive() {
        let closed = finished(Status::Closed, t0());
        let period = Duration::days(730);
        assert!(!is_due(&closed, t0(), 730));
        assert!(!is_due(&closed, t0() + period - Duration::seconds(1), 730));
        assert!(is_due(&closed, t0() + period, 730));
        assert!(is_due(&closed, t0() + period + Duration::days(1), 730));
    }

    #[test]
    fn a_withdrawn_request_counts_from_its_withdrawal() {
        let withdrawn = finished(Status::Withdrawn, t0());
        assert!(!is_due(&withdrawn, t0() + Duration::days(29), 30));
        assert!(is_due(&withdrawn, t0() + Duration::days(30), 30));
    }

    #[test]
    fn open_and_resolved_requests_are_never_due() {
        let long_after = t0() + Duration::days(10_000);
        for status in Status::ALL.iter().filter(|s| !s.is_final()) {
            let mut request = finished(*status, t0());
            // Even with stray times set, only a final status finishes a request.
            request.closed_at = Some(t0());
            request.withdrawn_at = Some(t0());
            assert!(!is_due(&request, long_after, 1), "{status}");
            assert_eq!(request.finished_at(), None, "{status}");
        }
    }

    #[test]
    fn a_redacted_request_is_not_due_again() {
        let mut closed = finished(Status::Closed, t0());
        closed.redacted_at = Some(t0() + Duration::days(731));
        assert!(!is_due(&closed, t0() + Duration::days(2000), 730));
    }

    #[test]
    fn the_cutoff_is_the_period_before_now() {
        assert_eq!(cutoff(t0(), 730), t0() - Duration::days(730));
    }
}
