//! Calendars that say which time counts towards a response target: every
//! hour (`24x7`), or business hours in a time zone with bank holidays.
//! All instants are UTC; local rules are applied day by day in the zone, so
//! clock changes (BST) shift the UTC hours of a working day, never its length.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// Days searched before giving up on a deadline (a calendar with working
/// time always finds one far sooner).
const SEARCH_DAYS: i64 = 3660;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    pub zone: Tz,
    pub days: HashSet<Weekday>,
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub holidays: BTreeSet<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Calendar {
    AlwaysOn,
    Business(BusinessHours),
}

impl BusinessHours {
    pub fn new(
        zone: Tz,
        days: HashSet<Weekday>,
        opens: NaiveTime,
        closes: NaiveTime,
        holidays: BTreeSet<NaiveDate>,
    ) -> Result<BusinessHours, String> {
        if days.is_empty() {
            return Err("a business calendar needs at least one working day".into());
        }
        if opens >= closes {
            return Err(format!(
                "opening time {opens} must be before closing time {closes}"
            ));
        }
        Ok(BusinessHours {
            zone,
            days,
            opens,
            closes,
            holidays,
        })
    }

    /// The working window of a local date in UTC, if it is a working day.
    fn window(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.days.contains(&date.weekday()) || self.holidays.contains(&date) {
            return None;
        }
        // Local opening hours never fall in a clock-change gap in the zones we
        // serve; `earliest` still gives a definite instant if one ever did.
        let at = |time: NaiveTime| {
            self.zone
                .from_local_datetime(&date.and_time(time))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        };
        Some((at(self.opens)?, at(self.closes)?))
    }

    fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.zone).date_naive()
    }
}

impl Calendar {
    /// Working time in `[start, end)`; zero when `end` is not after `start`.
    pub fn duration_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Duration {
        if end <= start {
            return Duration::zero();
        }
        match self {
            Calendar::AlwaysOn => end - start,
            Calendar::Business(hours) => {
                let mut total = Duration::zero();
                let mut date = hours.local_date(start);
                let last = hours.local_date(end);
                while date <= last {
                    if let Some((opens, closes)) = hours.window(date) {
                        let from = opens.max(start);
                        let to = closes.min(end);
                        if to > from {
                            total += to - from;
                        }
                    }
                    match date.succ_opt() {
                        Some(next) => date = next,
                        None => break,
                    }
                }
                total
            }
        }
    }

    /// The earliest instant by which `budget` of working time has passed
    /// since `start`; `None` only if no working time exists for years.
    pub fn deadline(&self, start: DateTime<Utc>, budget: Duration) -> Option<DateTime<Utc>> {
        if budget <= Duration::zero() {
            return Some(start);
        }
        match self {
            Calendar::AlwaysOn => Some(start + budget),
            Calendar::Business(hours) => {
                let mut left = budget;
                let mut date = hours.local_date(start);
                for _ in 0..SEARCH_DAYS {
                    if let Some((opens, closes)) = hours.window(date) {
                        let from = opens.max(start);
                        if closes > from {
                            let available = closes - from;
                            if left <= available {
                                return Some(from + left);
                            }
                            left -= available;
                        }
                    }
                    date = date.succ_opt()?;
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use chrono_tz::Europe::London;

    fn london_office(holidays: &[NaiveDate]) -> Calendar {
        let days = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
        .into_iter()
        .collect();
        Calendar::Business(
            BusinessHours::new(
                London,
                days,
                NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
                holidays.iter().copied().collect(),
            )
            .unwrap(),
        )
    }

    /// A London wall-clock time as a UTC instant.
    fn london(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        London
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn always_on_counts_every_second() {
        let start = london(2026, 3, 28, 12, 0);
        let end = london(2026, 3, 30, 12, 0);
        assert_eq!(
            Calendar::AlwaysOn.duration_between(start, end),
            Duration::hours(47),
            "the clocks went forward"
        );
        assert_eq!(
            Calendar::AlwaysOn.deadline(start, Duration::hours(4)),
            Some(start + Duration::hours(4))
        );
    }

    #[test]
    fn within_one_working_day() {
        let cal = london_office(&[]);
        // Wednesday 2 December 2026, 10:00 → 14:30
        assert_eq!(
            cal.duration_between(london(2026, 12, 2, 10, 0), london(2026, 12, 2, 14, 30)),
            Duration::minutes(270)
        );
        assert_eq!(
            cal.deadline(london(2026, 12, 2, 10, 0), Duration::hours(4)),
            Some(london(2026, 12, 2, 14, 0))
        );
    }

    #[test]
    fn a_request_outside_hours_starts_counting_at_opening() {
        let cal = london_office(&[]);
        // Submitted Tuesday 20:00: a 2-hour target falls due Wednesday 11:00.
        assert_eq!(
            cal.deadline(london(2026, 12, 1, 20, 0), Duration::hours(2)),
            Some(london(2026, 12, 2, 11, 0))
        );
        // Submitted 07:30: nothing counts until 09:00.
        assert_eq!(
            cal.duration_between(london(2026, 12, 2, 7, 30), london(2026, 12, 2, 9, 30)),
            Duration::minutes(30)
        );
    }

    #[test]
    fn weekends_do_not_count() {
        let cal = london_office(&[]);
        // Friday 4 December 16:00 + 3 hours: 1 hour Friday, 2 hours Monday.
        assert_eq!(
            cal.deadline(london(2026, 12, 4, 16, 0), Duration::hours(3)),
            Some(london(2026, 12, 7, 11, 0))
        );
        assert_eq!(
            cal.duration_between(london(2026, 12, 4, 16, 0), london(2026, 12, 7, 11, 0)),
            Duration::hours(3)
        );
        assert_eq!(
            cal.duration_between(london(2026, 12, 5, 10, 0), london(2026, 12, 6, 16, 0)),
            Duration::zero()
        );
    }

    #[test]
    fn bank_holidays_do_not_count() {
        // Christmas Day and Boxing Day (substitute Monday 28 December) 2026.
        let cal = london_office(&[date(2026, 12, 25), date(2026, 12, 28)]);
        // Thursday 24 December 16:00 + 2 hours: 1 hour Thursday, then Tuesday 29th.
        assert_eq!(
            cal.deadline(london(2026, 12, 24, 16, 0), Duration::hours(2)),
            Some(london(2026, 12, 29, 10, 0))
        );
    }

    #[test]
    fn the_spring_clock_change_keeps_working_days_whole() {
        let cal = london_office(&[]);
        // Clocks go forward on Sunday 29 March 2026: Friday 16:00 GMT + 2h → Monday 10:00 BST (09:00 UTC).
        let due = cal
            .deadline(london(2026, 3, 27, 16, 0), Duration::hours(2))
            .unwrap();
        assert_eq!(due, london(2026, 3, 30, 10, 0));
        assert_eq!(due.hour(), 9, "10:00 BST is 09:00 UTC");
        assert_eq!(
            cal.duration_between(london(2026, 3, 27, 9, 0), london(2026, 3, 30, 17, 0)),
            Duration::hours(16)
        );
    }

    #[test]
    fn the_autumn_clock_change_keeps_working_days_whole() {
        let cal = london_office(&[]);
        // Clocks go back on Sunday 25 October 2026.
        let due = cal
            .deadline(london(2026, 10, 23, 16, 30), Duration::hours(1))
            .unwrap();
        assert_eq!(due, london(2026, 10, 26, 9, 30));
        assert_eq!(
            cal.duration_between(london(2026, 10, 23, 9, 0), london(2026, 10, 26, 17, 0)),
            Duration::hours(16)
        );
    }

    #[test]
    fn a_calendar_needs_working_time() {
        let none = HashSet::new();
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let five = NaiveTime::from_hms_opt(17, 0, 0).unwrap();
        assert!(BusinessHours::new(London, none, nine, five, BTreeSet::new()).is_err());
        let weekdays: HashSet<Weekday> = [Weekday::Mon].into_iter().collect();
        assert!(BusinessHours::new(London, weekdays, five, nine, BTreeSet::new()).is_err());
    }

    #[test]
    fn zero_budget_is_due_at_once_and_empty_spans_are_zero() {
        let cal = london_office(&[]);
        let t = london(2026, 12, 5, 3, 0);
        assert_eq!(cal.deadline(t, Duration::zero()), Some(t));
        assert_eq!(
            cal.duration_between(t, t - Duration::hours(1)),
            Duration::zero()
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// `deadline` and `duration_between` agree: the working time from
            /// a start to its deadline is exactly the budget, and the deadline
            /// is the earliest such instant.
            #[test]
            fn deadline_and_duration_agree(start_minutes in 0i64..(2 * 365 * 24 * 60), budget_minutes in 1i64..(60 * 24 * 10)) {
                let cal = london_office(&[date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1), date(2027, 4, 2)]);
                let start = london(2026, 1, 1, 0, 0) + Duration::minutes(start_minutes);
                let budget = Duration::minutes(budget_minutes);
                let due = cal.deadline(start, budget).expect("a deadline exists");
                prop_assert_eq!(cal.duration_between(start, due), budget);
                prop_assert!(cal.duration_between(start, due - Duration::minutes(1)) < budget);
            }
        }
    }
}
