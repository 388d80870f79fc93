//! Calendars that say which time counts towards a response target: every
//! hour (`24x7`), or business hours in a time zone with bank holidays.
//! All instants are UTC; local rules are applied day by day in the zone, so
//! clock changes (BST) shift the UTC hours of a working day, never its length.

use std::collections::{BTreeSet, HashSet};

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Utc, Weekday,
};
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
        Some((
            self.instant(date.and_time(self.opens)),
            self.instant(date.and_time(self.closes)),
        ))
    }

    /// When the zone's clocks show `local`. A time the autumn change repeats
    /// is its first occurrence; a time the spring change skips is read with
    /// the offset in force before the change (as RFC 5545 does), so a day
    /// whose hours start or end in the skipped hour still has working time.
    fn instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        match self.zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => {
                // A day earlier is before the change in every zone.
                let before = self
                    .zone
                    .offset_from_utc_datetime(&(local - Duration::days(1)))
                    .fix();
                (local - Duration::seconds(i64::from(before.local_minus_utc()))).and_utc()
            }
        }
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
    fn hours_opening_in_the_skipped_hour_still_count_on_the_spring_change_day() {
        let every_day = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
            Weekday::Sun,
        ];
        let night_shift = Calendar::Business(
            BusinessHours::new(
                London,
                every_day.into_iter().collect(),
                NaiveTime::from_hms_opt(1, 30, 0).unwrap(),
                NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                BTreeSet::new(),
            )
            .unwrap(),
        );
        // 01:30 does not exist on Sunday 29 March 2026: it is read as 01:30
        // GMT, which is 02:30 BST, so the day opens then and counts 6.5 hours.
        let opens = Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap();
        assert_eq!(
            night_shift.duration_between(london(2026, 3, 29, 0, 0), london(2026, 3, 30, 0, 0)),
            Duration::minutes(390)
        );
        assert_eq!(
            night_shift.deadline(london(2026, 3, 29, 0, 0), Duration::hours(1)),
            Some(opens + Duration::hours(1))
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

            /// An office deadline falls on a working day, after opening and
            /// no later than closing, whatever the season.
            #[test]
            fn office_deadlines_fall_in_working_hours(start_minutes in 0i64..(2 * 365 * 24 * 60), budget_minutes in 1i64..(60 * 24 * 20)) {
                let holidays = [date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)];
                let cal = london_office(&holidays);
                let due = cal
                    .deadline(london(2026, 1, 1, 0, 0) + Duration::minutes(start_minutes), Duration::minutes(budget_minutes))
                    .expect("a deadline exists")
                    .with_timezone(&London);
                prop_assert!(due.weekday().number_from_monday() <= 5, "{}", due);
                prop_assert!(!holidays.contains(&due.date_naive()), "{}", due);
                let minutes = due.hour() * 60 + due.minute();
                prop_assert!((9 * 60 + 1..=17 * 60).contains(&minutes), "{}", due);
            }

            /// Across clock changes in any year, an office day counts eight
            /// hours and a weekend day none.
            #[test]
            fn office_days_around_clock_changes_count_eight_hours(year in 1980i32..2100, autumn in any::<bool>(), offset in -3i64..=3) {
                let day = clock_change(year, autumn) + Duration::days(offset);
                let counted = london_office(&[]).duration_between(midnight(day), midnight(day + Duration::days(1)));
                let expected = if day.weekday().number_from_monday() <= 5 { Duration::hours(8) } else { Duration::zero() };
                prop_assert_eq!(counted, expected);
            }

            /// On the clock-change days of any year, a day whose hours start
            /// or end in the skipped or repeated hour keeps its working time,
            /// give or take the hour; the days either side keep it exactly.
            #[test]
            fn working_days_keep_their_hours_across_clock_changes(cal in any_hours(), year in 1980i32..2100, autumn in any::<bool>()) {
                let span = cal.closes - cal.opens;
                let change = clock_change(year, autumn);
                for offset in -1..=1 {
                    let day = change + Duration::days(offset);
                    let counted = Calendar::Business(cal.clone()).duration_between(midnight(day), midnight(day + Duration::days(1)));
                    if !cal.days.contains(&day.weekday()) {
                        prop_assert_eq!(counted, Duration::zero());
                    } else if offset != 0 {
                        prop_assert_eq!(counted, span, "{}", day);
                    } else {
                        prop_assert!(counted >= span - Duration::hours(1) && counted <= span + Duration::hours(1), "{}: {}", day, counted);
                        prop_assert!(counted > Duration::zero(), "{} has no working time", day);
                    }
                }
            }

            /// For any business calendar: the minute before a deadline is
            /// working time, the working time up to it is the budget, a later
            /// start or a larger budget never gives an earlier deadline, and
            /// adding `a` then `b` is adding `a + b`.
            #[test]
            fn deadlines_add_up_and_never_move_earlier(
                cal in any_hours(),
                start in any_start(),
                later_by in 0i64..(3 * 24 * 60),
                a in 1i64..(5 * 24 * 60),
                b in 1i64..(5 * 24 * 60),
            ) {
                let cal = Calendar::Business(cal);
                let (a, b) = (Duration::minutes(a), Duration::minutes(b));
                let due = cal.deadline(start, a).expect("a deadline exists");
                prop_assert_eq!(cal.duration_between(due - Duration::minutes(1), due), Duration::minutes(1));
                prop_assert_eq!(cal.duration_between(start, due), a);
                prop_assert!(cal.deadline(start + Duration::minutes(later_by), a).expect("exists") >= due);
                prop_assert!(cal.deadline(start, a + b).expect("exists") > due);
                prop_assert_eq!(cal.deadline(due, b), cal.deadline(start, a + b));
            }

            /// Working time over two spans one after the other is the working
            /// time over both, and never more than the wall-clock time.
            #[test]
            fn working_time_of_adjacent_spans_adds_up(
                cal in any_hours(),
                start in any_start(),
                first in 0i64..(10 * 24 * 60),
                second in 0i64..(10 * 24 * 60),
            ) {
                let cal = Calendar::Business(cal);
                let middle = start + Duration::minutes(first);
                let end = middle + Duration::minutes(second);
                let whole = cal.duration_between(start, end);
                prop_assert_eq!(whole, cal.duration_between(start, middle) + cal.duration_between(middle, end));
                prop_assert!(whole <= end - start);
            }
        }

        /// The Sunday the clocks change in the UK: the last in March, or in October.
        fn clock_change(year: i32, autumn: bool) -> NaiveDate {
            let month_after = if autumn { 11 } else { 4 };
            let last = date(year, month_after, 1) - Duration::days(1);
            last - Duration::days(i64::from(last.weekday().num_days_from_sunday()))
        }

        fn midnight(day: NaiveDate) -> DateTime<Utc> {
            London
                .from_local_datetime(&day.and_time(NaiveTime::MIN))
                .single()
                .expect("midnight exists in London")
                .with_timezone(&Utc)
        }

        /// Quarter hours of the day, often within the hour the clocks change.
        fn quarter_hour() -> impl Strategy<Value = u32> {
            prop_oneof![0u32..96, 4u32..8].prop_map(|q| q * 15)
        }

        /// London business hours on any days, opening and closing at any
        /// quarter hour at least two hours apart, with a bank holiday or two.
        fn any_hours() -> impl Strategy<Value = BusinessHours> {
            let all_days = vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
                Weekday::Sat,
                Weekday::Sun,
            ];
            (
                prop::sample::subsequence(all_days, 1..=7),
                quarter_hour(),
                quarter_hour(),
                prop::collection::btree_set(0i64..730, 0..3),
            )
                .prop_filter("at least two hours open", |(_, a, b, _)| {
                    a.abs_diff(*b) >= 120
                })
                .prop_map(|(days, a, b, holidays)| {
                    let time =
                        |m: u32| NaiveTime::from_hms_opt(m / 60, m % 60, 0).expect("a time of day");
                    BusinessHours::new(
                        London,
                        days.into_iter().collect(),
                        time(a.min(b)),
                        time(a.max(b)),
                        holidays
                            .into_iter()
                            .map(|d| date(2026, 1, 1) + Duration::days(d))
                            .collect(),
                    )
                    .expect("valid hours")
                })
        }

        /// A start in 2026 or 2027, on the minute, often near a clock change.
        fn any_start() -> impl Strategy<Value = DateTime<Utc>> {
            let near_change = (
                any::<bool>(),
                any::<bool>(),
                -(3 * 24 * 60)..(3 * 24 * 60i64),
            )
                .prop_map(|(second_year, autumn, minutes)| {
                    midnight(clock_change(2026 + i32::from(second_year), autumn))
                        + Duration::minutes(minutes)
                });
            prop_oneof![
                (0i64..(2 * 365 * 24 * 60))
                    .prop_map(|m| london(2026, 1, 1, 0, 0) + Duration::minutes(m)),
                near_change,
            ]
        }
    }
}
