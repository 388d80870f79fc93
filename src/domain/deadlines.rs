//! Response-time clocks over a request's stored facts: when each target falls
//! due, which warning points and deadlines have been crossed, and the figures
//! reports keep. Time counts under the policy's calendar, minus the spans the
//! clock is stopped (awaiting the requester, or resolved before a reopen).

use chrono::{DateTime, Duration, Utc};

use super::calendar::Calendar;
use super::sla::{Acknowledgement, Policy};
use super::text_enum;

text_enum!(
    /// A target a request is measured against.
    ClockKind {
        FirstResponse => "first_response",
        NextResponse => "next_response",
        Resolution => "resolution",
        Acknowledgement => "acknowledgement",
    }
);

text_enum!(
    /// Where a request stands against its targets.
    SlaState {
        Ok => "ok",
        AtRisk => "at_risk",
        Breached => "breached",
    }
);

text_enum!(
    /// What an SLA event records.
    EventKind {
        Warning => "warning",
        Breach => "breach",
        Escalation => "escalation",
    }
);

/// A span in which no time counts; `None` end means it has not ended yet.
pub type Stop = (DateTime<Utc>, Option<DateTime<Utc>>);

/// Counted time in `[start, until)`: calendar time minus the stops.
pub fn elapsed(
    calendar: &Calendar,
    start: DateTime<Utc>,
    until: DateTime<Utc>,
    stops: &[Stop],
) -> Duration {
    let mut total = calendar.duration_between(start, until);
    for (from, to) in stops {
        let from = (*from).max(start);
        let to = to.unwrap_or(until).min(until);
        total -= calendar.duration_between(from, to);
    }
    total
}

/// The instant at which `budget` of counted time has passed since `start`;
/// `None` while a stop that began before then is still open. `stops` must be
/// in order and not overlap.
pub fn instant_after(
    calendar: &Calendar,
    start: DateTime<Utc>,
    budget: Duration,
    stops: &[Stop],
) -> Option<DateTime<Utc>> {
    let mut from = start;
    let mut left = budget;
    for (stop_from, stop_to) in stops {
        if stop_to.is_some_and(|to| to <= from) {
            continue;
        }
        let stop_from = (*stop_from).max(from);
        let available = calendar.duration_between(from, stop_from);
        if left <= available {
            return calendar.deadline(from, left);
        }
        left -= available;
        from = (*stop_to)?.max(from);
    }
    calendar.deadline(from, left)
}

/// One clock of a request: when it started, what it aims at, and when it
/// ended (the response was given, the request resolved or ended).
#[derive(Debug, Clone)]
pub struct Run<'a> {
    pub kind: ClockKind,
    /// Tells apart the clocks of one kind: the requester message that started
    /// a next-response clock; empty for the others.
    pub cycle: String,
    pub start: DateTime<Utc>,
    pub target: Duration,
    pub end: Option<DateTime<Utc>>,
    pub calendar: &'a Calendar,
    /// Whether stops count (the acknowledgement clock never stops).
    pub stoppable: bool,
    /// Percentages of the target at which to warn; 100 is the deadline.
    pub warn_at_percent: &'a [u8],
}

/// A warning point or deadline a clock has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crossing {
    pub clock: ClockKind,
    pub cycle: String,
    pub kind: EventKind,
    /// The percentage of the target, or the escalation step.
    pub level: i32,
    /// The duty called at an escalation step.
    pub target: Option<String>,
    pub due_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

fn share(target: Duration, percent: u8) -> Duration {
    Duration::milliseconds(target.num_milliseconds() * i64::from(percent) / 100)
}

impl Run<'_> {
    /// The stops that apply to this clock. Once it has ended, later stops do
    /// not, and one still open at the end is closed there, so an ended
    /// clock's deadline is where it would have fallen had it kept running.
    fn stops(&self, stops: &[Stop]) -> Vec<Stop> {
        if !self.stoppable {
            return Vec::new();
        }
        match self.end {
            None => stops.to_vec(),
            Some(end) => stops
                .iter()
                .filter(|(from, _)| *from < end)
                .map(|(from, to)| (*from, Some(to.map_or(end, |to| to.min(end)))))
                .collect(),
        }
    }

    /// When the clock reaches `percent` of its target, if it can.
    fn point(&self, percent: u8, stops: &[Stop]) -> Option<DateTime<Utc>> {
        instant_after(
            self.calendar,
            self.start,
            share(self.target, percent),
            &self.stops(stops),
        )
    }

    pub fn due(&self, stops: &[Stop]) -> Option<DateTime<Utc>> {
        self.point(100, stops)
    }

    /// Counted time from start to `until`.
    pub fn counted(&self, until: DateTime<Utc>, stops: &[Stop]) -> Duration {
        elapsed(self.calendar, self.start, until, &self.stops(stops))
    }

    /// Still running at `now`: not ended and not inside a stop.
    pub fn running(&self, now: DateTime<Utc>, stops: &[Stop]) -> bool {
        self.end.is_none_or(|end| end > now)
            && !self
                .stops(stops)
                .iter()
                .any(|(from, to)| *from <= now && to.is_none_or(|to| to > now))
    }

    /// Whether the clock ended within its target: counted time at the end no
    /// more than the target. `None` while it runs.
    pub fn met(&self, stops: &[Stop]) -> Option<bool> {
        self.end.map(|end| self.counted(end, stops) <= self.target)
    }

    fn levels(&self) -> impl Iterator<Item = u8> + '_ {
        self.warn_at_percent
            .iter()
            .copied()
            .chain(std::iter::once(100))
    }
}

/// The clocks a request runs under its policy.
#[derive(Debug, Clone)]
pub struct Facts {
    pub created_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    /// Set while the request is resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Set once the request is closed or withdrawn: every clock ends.
    pub ended_at: Option<DateTime<Utc>>,
    /// The latest next-response clock: starting message id, start, and the
    /// staff reply that ended it.
    pub next_response: Option<(String, DateTime<Utc>, Option<DateTime<Utc>>)>,
    /// When the request became P1 and when (if) someone acknowledged it.
    pub acknowledgement: Option<(DateTime<Utc>, Option<DateTime<Utc>>)>,
}

fn earliest(times: impl IntoIterator<Item = Option<DateTime<Utc>>>) -> Option<DateTime<Utc>> {
    times.into_iter().flatten().min()
}

/// The clocks of a request under `policy`; the acknowledgement clock runs
/// for P1 requests only (`ack` is then the configured rule).
pub fn runs<'a>(
    policy: &'a Policy,
    ack: Option<&'a Acknowledgement>,
    facts: &Facts,
) -> Vec<Run<'a>> {
    let finished = |end: Option<DateTime<Utc>>| earliest([end, facts.resolved_at, facts.ended_at]);
    let mut runs = vec![
        Run {
            kind: ClockKind::FirstResponse,
            cycle: String::new(),
            start: facts.created_at,
            target: policy.first_response,
            end: finished(facts.first_response_at),
            calendar: &policy.calendar,
            stoppable: true,
            warn_at_percent: &policy.warn_at_percent,
        },
        Run {
            kind: ClockKind::Resolution,
            cycle: String::new(),
            start: facts.created_at,
            target: policy.resolution,
            end: finished(None),
            calendar: &policy.calendar,
            stoppable: true,
            warn_at_percent: &policy.warn_at_percent,
        },
    ];
    if let Some((cycle, start, end)) = &facts.next_response {
        runs.push(Run {
            kind: ClockKind::NextResponse,
            cycle: cycle.clone(),
            start: *start,
            target: policy.next_response,
            end: finished(*end),
            calendar: &policy.calendar,
            stoppable: true,
            warn_at_percent: &policy.warn_at_percent,
        });
    }
    if let (Some(rule), Some((since, acknowledged))) = (ack, facts.acknowledgement) {
        runs.push(Run {
            kind: ClockKind::Acknowledgement,
            cycle: String::new(),
            start: since,
            target: rule.within,
            end: finished(acknowledged),
            calendar: &Calendar::AlwaysOn,
            stoppable: false,
            warn_at_percent: &[],
        });
    }
    runs
}

/// What a request's clocks say at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Every point passed so far (the store records each once).
    pub crossings: Vec<Crossing>,
    pub state: SlaState,
    /// The next instant a point will be passed, for the monitor.
    pub next_check: Option<DateTime<Utc>>,
    /// The earliest deadline of a running response or resolution clock.
    pub due: Option<DateTime<Utc>>,
}

/// Escalation step `n` (from 1) falls `within + (n - 1) * step` after the start.
fn escalation_points(run: &Run<'_>, rule: &Acknowledgement) -> Vec<(i32, String, DateTime<Utc>)> {
    rule.chain
        .iter()
        .enumerate()
        .map(|(n, duty)| {
            let steps = i32::try_from(n).unwrap_or(i32::MAX);
            (
                steps + 1,
                duty.clone(),
                run.start + run.target + rule.step * steps,
            )
        })
        .collect()
}

pub fn assess(
    runs: &[Run<'_>],
    ack: Option<&Acknowledgement>,
    stops: &[Stop],
    now: DateTime<Utc>,
) -> Assessment {
    let mut crossings = Vec::new();
    let mut next_check: Option<DateTime<Utc>> = None;
    let mut at_risk = false;
    let mut breached = false;
    let mut due: Option<DateTime<Utc>> = None;
    for run in runs {
        let until = run.end.map_or(now, |end| end.min(now));
        let Some(deadline) = run.due(stops) else {
            continue;
        };
        let running = run.running(now, stops);
        let mut points: Vec<(EventKind, i32, Option<String>, DateTime<Utc>)> = Vec::new();
        if run.kind == ClockKind::Acknowledgement {
            if let Some(rule) = ack {
                for (step, duty, at) in escalation_points(run, rule) {
                    points.push((EventKind::Escalation, step, Some(duty), at));
                }
            }
        } else {
            for percent in run.levels() {
                if let Some(at) = run.point(percent, stops) {
                    let kind = if percent == 100 {
                        EventKind::Breach
                    } else {
                        EventKind::Warning
                    };
                    points.push((kind, i32::from(percent), None, at));
                }
            }
            if running {
                due = earliest([due, Some(deadline)]);
            }
        }
        for (kind, level, target, at) in points {
            if at <= until {
                match kind {
                    EventKind::Breach => breached = true,
                    EventKind::Warning if running => at_risk = true,
                    _ => {}
                }
                crossings.push(Crossing {
                    clock: run.kind,
                    cycle: run.cycle.clone(),
                    kind,
                    level,
                    target,
                    due_at: deadline,
                    at,
                });
            } else if running {
                next_check = earliest([next_check, Some(at)]);
            }
        }
    }
    let state = if breached {
        SlaState::Breached
    } else if at_risk {
        SlaState::AtRisk
    } else {
        SlaState::Ok
    };
    Assessment {
        crossings,
        state,
        next_check,
        due,
    }
}

/// The latest next-response clock from a request's replies in order
/// (`true` = from the requester): it starts at the first requester reply after
/// the first response (or after the staff reply that ended the one before)
/// and ends at the next staff reply.
pub fn latest_next_response(
    first_response_at: Option<DateTime<Utc>>,
    replies: &[(bool, DateTime<Utc>, String)],
) -> Option<(String, DateTime<Utc>, Option<DateTime<Utc>>)> {
    let first = first_response_at?;
    let mut cycle: Option<(String, DateTime<Utc>, Option<DateTime<Utc>>)> = None;
    for (from_requester, at, id) in replies.iter().filter(|(_, at, _)| *at >= first) {
        match (&mut cycle, from_requester) {
            (Some((_, _, None)), true) => {}
            (_, true) => cycle = Some((id.clone(), *at, None)),
            (Some((_, _, end @ None)), false) => *end = Some(*at),
            (_, false) => {}
        }
    }
    cycle
}

/// Stops from a request's status history in order, `(from, to, at)`: time
/// counts neither while it awaits the requester nor while it is resolved.
pub fn stops_from_transitions(transitions: &[(String, String, DateTime<Utc>)]) -> Vec<Stop> {
    const STOPPED: [&str; 2] = ["awaiting_requester", "resolved"];
    let mut stops: Vec<Stop> = Vec::new();
    for (from, to, at) in transitions {
        let leaves = STOPPED.contains(&from.as_str()) && !STOPPED.contains(&to.as_str());
        let enters = STOPPED.contains(&to.as_str()) && !STOPPED.contains(&from.as_str());
        if enters {
            stops.push((*at, None));
        } else if leaves {
            if let Some((_, end @ None)) = stops.last_mut() {
                *end = Some(*at);
            }
        }
    }
    stops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::BusinessHours;
    use chrono::{NaiveDate, NaiveTime, TimeZone, Weekday};
    use std::collections::{BTreeSet, HashSet};

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        // Monday 2 November 2026 (GMT, so London time is UTC).
        Utc.with_ymd_and_hms(2026, 11, 2, h, m, 0).unwrap()
    }

    fn office() -> Calendar {
        let days: HashSet<Weekday> = [
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]
        .into();
        Calendar::Business(
            BusinessHours::new(
                chrono_tz::Europe::London,
                days,
                NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
                BTreeSet::<NaiveDate>::new(),
            )
            .unwrap(),
        )
    }

    fn policy(calendar: Calendar) -> Policy {
        Policy {
            calendar,
            first_response: Duration::minutes(60),
            next_response: Duration::minutes(120),
            resolution: Duration::minutes(480),
            warn_at_percent: vec![50, 80],
        }
    }

    fn facts() -> Facts {
        Facts {
            created_at: at(10, 0),
            first_response_at: None,
            resolved_at: None,
            ended_at: None,
            next_response: None,
            acknowledgement: None,
        }
    }

    #[test]
    fn a_stop_moves_the_deadline_by_its_counted_length() {
        let cal = Calendar::AlwaysOn;
        let stops = [(at(10, 20), Some(at(10, 50)))];
        assert_eq!(
            instant_after(&cal, at(10, 0), Duration::minutes(60), &stops),
            Some(at(11, 30))
        );
        assert_eq!(
            elapsed(&cal, at(10, 0), at(11, 30), &stops),
            Duration::minutes(60)
        );
    }

    #[test]
    fn an_open_stop_leaves_the_deadline_unknown_unless_already_reached() {
        let cal = Calendar::AlwaysOn;
        let open = [(at(10, 20), None)];
        assert_eq!(
            instant_after(&cal, at(10, 0), Duration::minutes(60), &open),
            None
        );
        assert_eq!(
            instant_after(&cal, at(10, 0), Duration::minutes(15), &open),
            Some(at(10, 15))
        );
    }

    #[test]
    fn a_stop_outside_business_hours_changes_nothing() {
        let cal = office();
        let evening = [(at(18, 0), Some(at(20, 0)))];
        assert_eq!(
            instant_after(&cal, at(16, 0), Duration::minutes(120), &evening),
            Some(Utc.with_ymd_and_hms(2026, 11, 3, 10, 0, 0).unwrap())
        );
    }

    #[test]
    fn stops_before_the_start_are_ignored() {
        let cal = Calendar::AlwaysOn;
        let stops = [(at(8, 0), Some(at(9, 0)))];
        assert_eq!(
            instant_after(&cal, at(10, 0), Duration::minutes(30), &stops),
            Some(at(10, 30))
        );
        assert_eq!(
            elapsed(&cal, at(10, 0), at(10, 30), &stops),
            Duration::minutes(30)
        );
    }

    #[test]
    fn warnings_then_the_breach_are_crossed_in_turn() {
        let p = policy(Calendar::AlwaysOn);
        let f = facts();
        let runs = runs(&p, None, &f);
        let early = assess(&runs, None, &[], at(10, 20));
        assert_eq!(early.state, SlaState::Ok);
        assert!(early.crossings.is_empty());
        assert_eq!(early.next_check, Some(at(10, 30)), "50% of 60 minutes");
        assert_eq!(early.due, Some(at(11, 0)));

        let warned = assess(&runs, None, &[], at(10, 50));
        assert_eq!(warned.state, SlaState::AtRisk);
        let levels: Vec<_> = warned.crossings.iter().map(|c| c.level).collect();
        assert_eq!(levels, vec![50, 80]);
        assert_eq!(warned.crossings[1].at, at(10, 48));
        assert_eq!(warned.next_check, Some(at(11, 0)));

        let late = assess(&runs, None, &[], at(11, 0));
        assert_eq!(late.state, SlaState::Breached);
        assert_eq!(late.crossings[2].kind, EventKind::Breach);
        assert_eq!(late.crossings[2].due_at, at(11, 0));
    }

    #[test]
    fn a_response_in_time_stops_the_first_response_clock_and_clears_the_risk() {
        let p = policy(Calendar::AlwaysOn);
        let f = Facts {
            first_response_at: Some(at(10, 40)),
            ..facts()
        };
        let runs = runs(&p, None, &f);
        let later = assess(&runs, None, &[], at(11, 30));
        let first: Vec<_> = later
            .crossings
            .iter()
            .filter(|c| c.clock == ClockKind::FirstResponse)
            .map(|c| c.level)
            .collect();
        assert_eq!(first, vec![50], "crossed 50% before replying, never 80%");
        assert_eq!(
            later.state,
            SlaState::Ok,
            "a warning on a stopped clock is no risk"
        );
        assert_eq!(later.due, Some(at(18, 0)), "resolution is what is left");
    }

    #[test]
    fn a_paused_request_has_no_running_deadline_and_nothing_to_check() {
        let p = policy(Calendar::AlwaysOn);
        let runs = runs(&p, None, &facts());
        let stops = [(at(10, 10), None)];
        let paused = assess(&runs, None, &stops, at(15, 0));
        assert_eq!(paused.due, None);
        assert_eq!(paused.next_check, None);
        assert_eq!(paused.state, SlaState::Ok);
    }

    #[test]
    fn a_clock_ended_during_a_stop_keeps_a_deadline_and_is_judged_on_counted_time() {
        let p = policy(office());
        // Resolved on a Sunday evening while awaiting the requester.
        let sunday = Utc.with_ymd_and_hms(2026, 11, 8, 20, 0, 0).unwrap();
        let f = Facts {
            resolved_at: Some(sunday),
            ..facts()
        };
        let stops = [(at(11, 0), Some(sunday)), (sunday, None)];
        let runs = runs(&p, None, &f);
        let resolution = runs
            .iter()
            .find(|r| r.kind == ClockKind::Resolution)
            .unwrap();
        assert_eq!(resolution.counted(sunday, &stops), Duration::minutes(60));
        assert_eq!(resolution.met(&stops), Some(true));
        assert!(
            resolution.due(&stops).is_some(),
            "the deadline had it kept running"
        );
        assert!(!resolution.running(at(12, 0), &stops));
    }

    #[test]
    fn a_next_response_clock_starts_at_the_requester_message() {
        let p = policy(Calendar::AlwaysOn);
        let f = Facts {
            first_response_at: Some(at(10, 10)),
            next_response: Some(("m2".into(), at(12, 0), None)),
            ..facts()
        };
        let runs = runs(&p, None, &f);
        let now = assess(&runs, None, &[], at(13, 0));
        assert_eq!(now.due, Some(at(14, 0)), "120 minutes after the message");
        assert_eq!(now.crossings.len(), 1);
        assert_eq!(now.crossings[0].clock, ClockKind::NextResponse);
        assert_eq!(now.crossings[0].cycle, "m2");
    }

    #[test]
    fn the_latest_next_response_cycle_follows_the_conversation() {
        let m = |requester: bool, minute: u32, id: &str| (requester, at(11, minute), id.to_owned());
        let replies = vec![
            m(true, 0, "before-first-response"),
            m(false, 5, "first"),
            m(true, 10, "a"),
            m(true, 12, "b"),
            m(false, 20, "answer"),
            m(true, 30, "c"),
        ];
        assert_eq!(latest_next_response(None, &replies), None);
        assert_eq!(
            latest_next_response(Some(at(11, 5)), &replies),
            Some(("c".into(), at(11, 30), None))
        );
        assert_eq!(
            latest_next_response(Some(at(11, 5)), &replies[..5]),
            Some(("a".into(), at(11, 10), Some(at(11, 20)))),
            "the second requester message does not restart the clock"
        );
    }

    #[test]
    fn stops_come_from_awaiting_the_requester_and_from_resolution() {
        let t = |from: &str, to: &str, h: u32| (from.to_owned(), to.to_owned(), at(h, 0));
        let history = vec![
            t("new", "triaged", 10),
            t("triaged", "assigned", 11),
            t("assigned", "awaiting_requester", 12),
            t("awaiting_requester", "resolved", 13),
            t("resolved", "assigned", 14),
            t("assigned", "resolved", 15),
        ];
        assert_eq!(
            stops_from_transitions(&history),
            vec![(at(12, 0), Some(at(14, 0))), (at(15, 0), None)]
        );
    }

    #[test]
    fn acknowledgement_escalates_one_step_at_a_time() {
        let p = policy(Calendar::AlwaysOn);
        let rule = Acknowledgement {
            within: Duration::minutes(15),
            step: Duration::minutes(10),
            chain: vec!["on_call_specialist".into(), "duty_coordinator".into()],
        };
        let f = Facts {
            acknowledgement: Some((at(10, 0), None)),
            ..facts()
        };
        let runs = runs(&p, Some(&rule), &f);
        let steps = |now| {
            assess(&runs, Some(&rule), &[], now)
                .crossings
                .into_iter()
                .filter(|c| c.kind == EventKind::Escalation)
                .map(|c| (c.level, c.target.unwrap_or_default(), c.at))
                .collect::<Vec<_>>()
        };
        assert!(steps(at(10, 14)).is_empty());
        assert_eq!(
            steps(at(10, 15)),
            vec![(1, "on_call_specialist".into(), at(10, 15))]
        );
        assert_eq!(steps(at(10, 30)).len(), 2);
        let acknowledged = Facts {
            acknowledgement: Some((at(10, 0), Some(at(10, 20)))),
            ..facts()
        };
        let runs = super::runs(&p, Some(&rule), &acknowledged);
        let after = assess(&runs, Some(&rule), &[], at(12, 0));
        let escalations = after
            .crossings
            .iter()
            .filter(|c| c.kind == EventKind::Escalation)
            .count();
        assert_eq!(escalations, 1, "acknowledged before the second step");
    }

    #[test]
    fn business_hours_deadlines_skip_the_night() {
        let p = policy(office());
        let f = Facts {
            created_at: at(16, 30),
            ..facts()
        };
        let runs = runs(&p, None, &f);
        let a = assess(&runs, None, &[], at(16, 45));
        assert_eq!(
            a.due,
            Some(Utc.with_ymd_and_hms(2026, 11, 3, 9, 30, 0).unwrap())
        );
        assert_eq!(
            a.next_check,
            Some(at(17, 0)),
            "50% is reached at closing time"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Closed stops in order, without overlaps, as minute offsets from
        /// `at(0, 0)`: each is a gap after the one before, then a length.
        fn stops() -> impl Strategy<Value = Vec<Stop>> {
            prop::collection::vec((0i64..600, 1i64..600), 0..4).prop_map(|spans| {
                let mut from = at(0, 0);
                spans
                    .into_iter()
                    .map(|(gap, length)| {
                        let start = from + Duration::minutes(gap);
                        from = start + Duration::minutes(length);
                        (start, Some(from))
                    })
                    .collect()
            })
        }

        fn calendar() -> impl Strategy<Value = Calendar> {
            prop_oneof![Just(Calendar::AlwaysOn), Just(office())]
        }

        proptest! {
            /// With stops, the counted time from a start to its deadline is
            /// the budget, and a minute less falls short of it.
            #[test]
            fn counted_time_to_the_deadline_is_the_budget(
                cal in calendar(),
                stops in stops(),
                start in 0i64..(3 * 24 * 60),
                budget in 1i64..(3 * 24 * 60),
            ) {
                let start = at(0, 0) + Duration::minutes(start);
                let budget = Duration::minutes(budget);
                let due = instant_after(&cal, start, budget, &stops).expect("every stop is closed");
                prop_assert_eq!(elapsed(&cal, start, due, &stops), budget);
                prop_assert!(elapsed(&cal, start, due - Duration::minutes(1), &stops) < budget);
            }

            /// Stopping the clock never brings a deadline forward.
            #[test]
            fn stops_never_bring_a_deadline_forward(
                cal in calendar(),
                stops in stops(),
                budget in 1i64..(3 * 24 * 60),
            ) {
                let budget = Duration::minutes(budget);
                let without = instant_after(&cal, at(0, 0), budget, &[]).expect("a deadline");
                let with = instant_after(&cal, at(0, 0), budget, &stops).expect("every stop is closed");
                prop_assert!(with >= without);
            }

            /// Whatever the moment and the stops, a running clock's points lie
            /// ahead (`next_check` after now) and every crossing lies behind.
            #[test]
            fn crossings_lie_behind_and_the_next_check_ahead(
                stops in stops(),
                now in 0i64..(3 * 24 * 60),
                first_response in prop::option::of(0i64..(3 * 24 * 60)),
            ) {
                let p = policy(office());
                let f = Facts {
                    created_at: at(0, 0),
                    first_response_at: first_response.map(|m| at(0, 0) + Duration::minutes(m)),
                    ..facts()
                };
                let now = at(0, 0) + Duration::minutes(now);
                let runs = runs(&p, None, &f);
                let assessment = assess(&runs, None, &stops, now);
                prop_assert!(assessment.crossings.iter().all(|c| c.at <= now));
                prop_assert!(assessment.next_check.is_none_or(|t| t > now));
                let breached = assessment.crossings.iter().any(|c| c.kind == EventKind::Breach);
                prop_assert_eq!(assessment.state == SlaState::Breached, breached);
            }

            /// Stops read from any status history are in order and do not
            /// overlap, and only the last may be open.
            #[test]
            fn stops_from_any_history_are_ordered_and_disjoint(
                statuses in prop::collection::vec(prop::sample::select(crate::domain::lifecycle::Status::ALL), 1..12),
            ) {
                let history: Vec<_> = statuses
                    .windows(2)
                    .enumerate()
                    .map(|(i, w)| (w[0].to_string(), w[1].to_string(), at(0, 0) + Duration::minutes(i as i64 * 10)))
                    .collect();
                let stops = stops_from_transitions(&history);
                for pair in stops.windows(2) {
                    let end = pair[0].1.expect("only the last stop may be open");
                    prop_assert!(pair[0].0 < end && end <= pair[1].0);
                }
            }
        }
    }
}
