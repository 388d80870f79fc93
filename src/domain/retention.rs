//! Retention: when a finished request's free text is due to be redacted,
//! and what reads in its place. Statistics (status, priority, category,
//! organisation, region, team, times, response-time facts) are kept.

use chrono::{Duration, NaiveDateTime};

use super::lifecycle::Status;

/// What redacted free text reads as.
pub const REDACTED: &str = "[redacted]";

/// How long finished requests keep their free text.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    /// Days after a request finished that its text is redacted.
    pub redact_after_days: i64,
    /// Days a resolved request may still be reopened: it finishes when
    /// they have passed, closed or not.
    pub reopen_window_days: i64,
}

impl Period {
    /// Requests that finished at or before this instant are due at `now`.
    pub fn cutoff(&self, now: NaiveDateTime) -> NaiveDateTime {
        now - Duration::days(self.redact_after_days)
    }

    /// Resolved requests whose resolution is at or before this instant are
    /// due at `now`: they finished a reopen window after it.
    pub fn resolved_cutoff(&self, now: NaiveDateTime) -> NaiveDateTime {
        self.cutoff(now) - Duration::days(self.reopen_window_days)
    }
}

/// The facts of a request that decide whether it is due.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    pub status: Status,
    pub closed_at: Option<NaiveDateTime>,
    pub withdrawn_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub redacted_at: Option<NaiveDateTime>,
}

impl Finished {
    /// When the request stopped taking changes: closed, withdrawn, or
    /// resolved and past the reopen window (closing is not required, so a
    /// resolved request nobody closes does not keep its text for ever).
    /// Open requests have no such time.
    pub fn finished_at(&self, period: &Period) -> Option<NaiveDateTime> {
        match self.status {
            Status::Closed => self.closed_at,
            Status::Withdrawn => self.withdrawn_at,
            Status::Resolved => self
                .resolved_at
                .map(|at| at + Duration::days(period.reopen_window_days)),
            _ => None,
        }
    }
}

/// Whether a request's free text is due for redaction at `now`: finished
/// at least the period ago and not redacted yet.
pub fn is_due(request: &Finished, now: NaiveDateTime, period: &Period) -> bool {
    request.redacted_at.is_none()
        && request
            .finished_at(period)
            .is_some_and(|at| at <= period.cutoff(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc()
    }

    fn period(redact_after_days: i64) -> Period {
        Period {
            redact_after_days,
            reopen_window_days: 14,
        }
    }

    fn finished(status: Status, at: NaiveDateTime) -> Finished {
        Finished {
            status,
            closed_at: (status == Status::Closed).then_some(at),
            withdrawn_at: (status == Status::Withdrawn).then_some(at),
            resolved_at: (status == Status::Resolved).then_some(at),
            redacted_at: None,
        }
    }

    #[test]
    fn a_closed_request_is_due_once_the_period_has_passed_inclusive() {
        let closed = finished(Status::Closed, t0());
        let days = Duration::days(730);
        assert!(!is_due(&closed, t0(), &period(730)));
        assert!(!is_due(
            &closed,
            t0() + days - Duration::seconds(1),
            &period(730)
        ));
        assert!(is_due(&closed, t0() + days, &period(730)));
        assert!(is_due(
            &closed,
            t0() + days + Duration::days(1),
            &period(730)
        ));
    }

    #[test]
    fn a_withdrawn_request_counts_from_its_withdrawal() {
        let withdrawn = finished(Status::Withdrawn, t0());
        assert!(!is_due(&withdrawn, t0() + Duration::days(29), &period(30)));
        assert!(is_due(&withdrawn, t0() + Duration::days(30), &period(30)));
    }

    #[test]
    fn a_resolved_request_counts_from_the_end_of_its_reopen_window() {
        let resolved = finished(Status::Resolved, t0());
        assert_eq!(
            resolved.finished_at(&period(30)),
            Some(t0() + Duration::days(14))
        );
        assert!(!is_due(&resolved, t0() + Duration::days(43), &period(30)));
        assert!(is_due(&resolved, t0() + Duration::days(44), &period(30)));
        let at = t0() + Duration::days(44);
        assert_eq!(period(30).resolved_cutoff(at), t0());
    }

    #[test]
    fn open_requests_are_never_due_whatever_times_they_carry() {
        let long_after = t0() + Duration::days(10_000);
        for status in Status::ALL
            .iter()
            .filter(|s| !s.is_final() && **s != Status::Resolved)
        {
            let mut request = finished(*status, t0());
            // A reopened request keeps its old resolution time; stray
            // times never finish an open request.
            request.closed_at = Some(t0());
            request.withdrawn_at = Some(t0());
            request.resolved_at = Some(t0());
            assert!(!is_due(&request, long_after, &period(1)), "{status}");
            assert_eq!(request.finished_at(&period(1)), None, "{status}");
        }
    }

    #[test]
    fn a_redacted_request_is_not_due_again() {
        let mut closed = finished(Status::Closed, t0());
        closed.redacted_at = Some(t0() + Duration::days(731));
        assert!(!is_due(&closed, t0() + Duration::days(2000), &period(730)));
    }

    #[test]
    fn the_cutoff_is_the_period_before_now() {
        assert_eq!(period(730).cutoff(t0()), t0() - Duration::days(730));
    }
}
