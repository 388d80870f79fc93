//! Response-time policies: per priority, the targets, the calendar that
//! counts time towards them, and the points at which to warn.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{Duration, NaiveDate, NaiveTime, Weekday};
use serde::Deserialize;

use super::calendar::{BusinessHours, Calendar};
use super::requests::Priority;
use super::rota::Duty;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    /// `always` (24x7) or `business`.
    kind: String,
    zone: Option<String>,
    days: Option<Vec<String>>,
    opens: Option<String>,
    closes: Option<String>,
    /// Bank holidays as quoted ISO dates: "2026-12-25".
    #[serde(default)]
    holidays: Vec<NaiveDate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    calendar: String,
    first_response_minutes: i64,
    next_response_minutes: i64,
    resolution_minutes: i64,
    /// Percentages of a target at which to warn, e.g. [50, 80].
    #[serde(default)]
    warn_at_percent: Vec<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAcknowledgement {
    within_minutes: i64,
    step_minutes: i64,
    chain: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    duties: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSla {
    calendars: BTreeMap<String, RawCalendar>,
    policies: BTreeMap<String, RawPolicy>,
    acknowledgement: RawAcknowledgement,
    alerts: RawAlerts,
}

/// How fast an immediate-risk (P1) request must be acknowledged, and whom
/// to call, step by step, until someone does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub within: Duration,
    pub step: Duration,
    /// Duty names, in the order they are called.
    pub chain: Vec<String>,
}

/// The policy for one priority.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub calendar: Calendar,
    pub first_response: Duration,
    pub next_response: Duration,
    pub resolution: Duration,
    pub warn_at_percent: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct SlaPolicies {
    policies: BTreeMap<Priority, Policy>,
    pub acknowledgement: Acknowledgement,
    /// Duties whose holders are told at once of immediate risk and missed
    /// deadlines.
    pub alert_duties: Vec<Duty>,
}

/// A year of targets is the most a policy may set.
const MAX_TARGET_MINUTES: i64 = 366 * 24 * 60;

fn weekday(name: &str) -> Option<Weekday> {
    name.to_ascii_lowercase().parse::<Weekday>().ok()
}

fn time(key: &str, text: Option<&str>) -> Result<NaiveTime, String> {
    let text = text.ok_or_else(|| format!("{key}: required for a business calendar"))?;
    NaiveTime::parse_from_str(text, "%H:%M")
        .map_err(|_| format!("{key}: \"{text}\" is not a time like 09:00"))
}

fn calendar(name: &str, raw: &RawCalendar) -> Result<Calendar, String> {
    let at = format!("calendars.{name}");
    match raw.kind.as_str() {
        "always" => Ok(Calendar::AlwaysOn),
        "business" => {
            let zone_name = raw
                .zone
                .as_deref()
                .ok_or_else(|| format!("{at}.zone: required for a business calendar"))?;
            let zone = zone_name
                .parse::<chrono_tz::Tz>()
                .map_err(|_| format!("{at}.zone: \"{zone_name}\" is not a time zone"))?;
            let names = raw
                .days
                .as_ref()
                .ok_or_else(|| format!("{at}.days: required for a business calendar"))?;
            let days = names
                .iter()
                .map(|d| weekday(d).ok_or_else(|| format!("{at}.days: \"{d}\" is not a day")))
                .collect::<Result<HashSet<_>, _>>()?;
            let opens = time(&format!("{at}.opens"), raw.opens.as_deref())?;
            let closes = time(&format!("{at}.closes"), raw.closes.as_deref())?;
            let holidays: BTreeSet<NaiveDate> = raw.holidays.iter().copied().collect();
            BusinessHours::new(zone, days, opens, closes, holidays)
                .map(Calendar::Business)
                .map_err(|e| format!("{at}: {e}"))
        }
        other => Err(format!(
            "{at}.kind: \"{other}\" is neither \"always\" nor \"business\""
        )),
    }
}

fn acknowledgement(raw: &RawAcknowledgement) -> Result<Acknowledgement, String> {
    let minutes = |name: &str, value: i64| {
        if (1..=MAX_TARGET_MINUTES).contains(&value) {
            Ok(Duration::minutes(value))
        } else {
            Err(format!(
                "acknowledgement.{name}: must be between 1 and {MAX_TARGET_MINUTES} minutes"
            ))
        }
    };
    if raw.chain.is_empty() {
        return Err("acknowledgement.chain: name at least one duty to escalate to".into());
    }
    if let Some(unknown) = raw.chain.iter().find(|d| Duty::parse(d).is_none()) {
        return Err(format!(
            "acknowledgement.chain: \"{unknown}\" is not a duty ({})",
            Duty::ALL
                .iter()
                .map(|d| d.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Acknowledgement {
        within: minutes("within_minutes", raw.within_minutes)?,
        step: minutes("step_minutes", raw.step_minutes)?,
        chain: raw.chain.clone(),
    })
}

impl SlaPolicies {
    /// Parses and checks a policy file: every priority has a policy, every
    /// policy names a known calendar, targets are positive and warnings are
    /// percentages below 100. Errors name the key.
    pub fn parse(text: &str) -> Result<SlaPolicies, String> {
        let raw: RawSla = toml::from_str(text).map_err(|e| e.to_string())?;
        let calendars = raw
            .calendars
            .iter()
            .map(|(name, c)| calendar(name, c).map(|c| (name.clone(), c)))
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let mut policies = BTreeMap::new();
        for (key, policy) in &raw.policies {
            let at = format!("policies.{key}");
            let priority = Priority::parse(key)
                .ok_or_else(|| format!("{at}: \"{key}\" is not a priority (P1 to P4)"))?;
            let calendar = calendars.get(&policy.calendar).cloned().ok_or_else(|| {
                format!("{at}.calendar: no calendar named \"{}\"", policy.calendar)
            })?;
            let target = |name: &str, minutes: i64| {
                if (1..=MAX_TARGET_MINUTES).contains(&minutes) {
                    Ok(Duration::minutes(minutes))
                } else {
                    Err(format!(
                        "{at}.{name}: must be between 1 and {MAX_TARGET_MINUTES} minutes"
                    ))
                }
            };
            let mut warn_at_percent = policy.warn_at_percent.clone();
            if warn_at_percent.iter().any(|p| *p == 0 || *p >= 100) {
                return Err(format!(
                    "{at}.warn_at_percent: each must be between 1 and 99"
                ));
            }
            warn_at_percent.sort_unstable();
            warn_at_percent.dedup();
            policies.insert(
                priority,
                Policy {
                    calendar,
                    first_response: target(
                        "first_response_minutes",
                        policy.first_response_minutes,
                    )?,
                    next_response: target("next_response_minutes", policy.next_response_minutes)?,
                    resolution: target("resolution_minutes", policy.resolution_minutes)?,
                    warn_at_percent,
                },
            );
        }
        if let Some(missing) = Priority::ALL.iter().find(|p| !policies.contains_key(p)) {
            return Err(format!("policies.{missing}: every priority needs a policy"));
        }
        let acknowledgement = acknowledgement(&raw.acknowledgement)?;
        let alert_duties = raw
            .alerts
            .duties
            .iter()
            .map(|d| Duty::parse(d).ok_or_else(|| format!("alerts.duties: \"{d}\" is not a duty")))
            .collect::<Result<Vec<_>, _>>()?;
        if alert_duties.is_empty() {
            return Err("alerts.duties: name at least one duty to alert".into());
        }
        Ok(SlaPolicies {
            policies,
            acknowledgement,
            alert_duties,
        })
    }

    pub fn for_priority(&self, priority: Priority) -> &Policy {
        // `parse` guarantees an entry per priority.
        &self.policies[&priority]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
        [calendars.always]
        kind = "always"

        [calendars.office]
        kind = "business"
        zone = "Europe/London"
        days = ["mon", "tue", "wed", "thu", "fri"]
        opens = "09:00"
        closes = "17:30"
        holidays = ["2026-12-25", "2026-12-28"]

        [policies.P1]
        calendar = "always"
        first_response_minutes = 30
        next_response_minutes = 60
        resolution_minutes = 1440
        warn_at_percent = [80, 50]

        [policies.P2]
        calendar = "office"
        first_response_minutes = 240
        next_response_minutes = 480
        resolution_minutes = 4800

        [policies.P3]
        calendar = "office"
        first_response_minutes = 960
        next_response_minutes = 960
        resolution_minutes = 9600

        [policies.P4]
        calendar = "office"
        first_response_minutes = 2400
        next_response_minutes = 2400
        resolution_minutes = 19200

        [acknowledgement]
        within_minutes = 15
        step_minutes = 10
        chain = ["on_call_specialist", "duty_coordinator", "unit_lead"]

        [alerts]
        duties = ["duty_coordinator"]
    "#;

    #[test]
    fn a_complete_file_gives_a_policy_per_priority() {
        let sla = SlaPolicies::parse(EXAMPLE).unwrap();
        let p1 = sla.for_priority(Priority::P1);
        assert_eq!(p1.calendar, Calendar::AlwaysOn);
        assert_eq!(p1.first_response, Duration::minutes(30));
        assert_eq!(p1.warn_at_percent, vec![50, 80], "sorted");
        let Calendar::Business(hours) = &sla.for_priority(Priority::P2).calendar else {
            panic!("P2 counts office hours");
        };
        assert_eq!(hours.closes, NaiveTime::from_hms_opt(17, 30, 0).unwrap());
        assert!(hours
            .holidays
            .contains(&NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()));
        assert_eq!(hours.days.len(), 5);
        assert_eq!(sla.acknowledgement.within, Duration::minutes(15));
        assert_eq!(sla.acknowledgement.chain.len(), 3);
    }

    #[test]
    fn mistakes_are_refused_with_the_key_named() {
        let cases = [
            (
                EXAMPLE.replace("[policies.P4]", "[policies.P9]"),
                "policies.P9",
            ),
            (
                EXAMPLE.replace("calendar = \"always\"", "calendar = \"weekends\""),
                "policies.P1.calendar",
            ),
            (
                EXAMPLE.replace("first_response_minutes = 30", "first_response_minutes = 0"),
                "policies.P1.first_response_minutes",
            ),
            (
                EXAMPLE.replace("warn_at_percent = [80, 50]", "warn_at_percent = [100]"),
                "policies.P1.warn_at_percent",
            ),
            (
                EXAMPLE.replace("Europe/London", "Europe/Atlantis"),
                "calendars.office.zone",
            ),
            (
                EXAMPLE.replace("\"fri\"", "\"friyay\""),
                "calendars.office.days",
            ),
            (
                EXAMPLE.replace("opens = \"09:00\"", "opens = \"9am\""),
                "calendars.office.opens",
            ),
            (
                EXAMPLE.replace("closes = \"17:30\"", "closes = \"08:00\""),
                "calendars.office",
            ),
            (
                EXAMPLE.replace("kind = \"always\"", "kind = \"sometimes\""),
                "calendars.always.kind",
            ),
            (
                EXAMPLE.replace("\"unit_lead\"", "\"caretaker\""),
                "acknowledgement.chain",
            ),
            (
                EXAMPLE.replace("step_minutes = 10", "step_minutes = 0"),
                "acknowledgement.step_minutes",
            ),
            (
                EXAMPLE.replace("duties = [\"duty_coordinator\"]", "duties = [\"janitor\"]"),
                "alerts.duties",
            ),
            (
                EXAMPLE.replace("duties = [\"duty_coordinator\"]", "duties = []"),
                "alerts.duties",
            ),
        ];
        for (text, key) in cases {
            let error = SlaPolicies::parse(&text).unwrap_err();
            assert!(error.contains(key), "expected {key} in: {error}");
        }
        let (before, after) = EXAMPLE.split_once("[policies.P4]").unwrap();
        let missing = format!(
            "{before}{}",
            &after[after.find("[acknowledgement]").unwrap()..]
        );
        assert!(SlaPolicies::parse(&missing)
            .unwrap_err()
            .contains("policies.P4"));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_text_is_parsed_or_refused_without_panicking(text in any::<String>()) {
                let _ = SlaPolicies::parse(&text);
            }

            /// A target is accepted exactly when it is from one minute to a
            /// year, and a refusal names the key.
            #[test]
            fn targets_are_accepted_exactly_within_their_range(minutes in prop_oneof![any::<i64>(), -2i64..3, (MAX_TARGET_MINUTES - 2)..(MAX_TARGET_MINUTES + 2)]) {
                let text = EXAMPLE.replace("resolution_minutes = 4800", &format!("resolution_minutes = {minutes}"));
                match SlaPolicies::parse(&text) {
                    Ok(sla) => {
                        prop_assert!((1..=MAX_TARGET_MINUTES).contains(&minutes));
                        prop_assert_eq!(sla.for_priority(Priority::P2).resolution, Duration::minutes(minutes));
                    }
                    Err(error) => {
                        prop_assert!(!(1..=MAX_TARGET_MINUTES).contains(&minutes));
                        prop_assert!(error.contains("policies.P2.resolution_minutes"), "{}", error);
                    }
                }
            }

            /// Warning points are kept sorted and unique, and refused unless
            /// every one is a percentage from 1 to 99.
            #[test]
            fn warning_points_are_sorted_unique_percentages(points in prop::collection::vec(any::<u8>(), 0..6)) {
                let list = points.iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
                let text = EXAMPLE.replace("warn_at_percent = [80, 50]", &format!("warn_at_percent = [{list}]"));
                let valid = points.iter().all(|p| (1..100).contains(p));
                match SlaPolicies::parse(&text) {
                    Ok(sla) => {
                        prop_assert!(valid);
                        let kept = &sla.for_priority(Priority::P1).warn_at_percent;
                        prop_assert!(kept.windows(2).all(|w| w[0] < w[1]));
                        prop_assert!(points.iter().all(|p| kept.contains(p)));
                    }
                    Err(error) => {
                        prop_assert!(!valid);
                        prop_assert!(error.contains("policies.P1.warn_at_percent"), "{}", error);
                    }
                }
            }

            /// Opening times read back in any valid hour and minute, and
            /// anything else is refused by key.
            #[test]
            fn opening_times_are_hours_and_minutes(opens in prop_oneof!["[0-2][0-9]:[0-5][0-9]", "\\PC{0,6}"]) {
                let text = EXAMPLE.replace("opens = \"09:00\"", &format!("opens = {}", toml::Value::String(opens.clone())));
                let expected = NaiveTime::parse_from_str(&opens, "%H:%M").ok();
                match SlaPolicies::parse(&text) {
                    Ok(sla) => {
                        let Calendar::Business(hours) = &sla.for_priority(Priority::P2).calendar else {
                            panic!("P2 counts office hours");
                        };
                        prop_assert_eq!(Some(hours.opens), expected);
                    }
                    Err(error) => prop_assert!(error.contains("calendars.office"), "{}", error),
                }
            }

            #[test]
            fn day_names_are_read_in_any_case(day in prop::sample::select(vec!["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), upper in prop::collection::vec(any::<bool>(), 3)) {
                let mixed: String = day
                    .chars()
                    .zip(upper)
                    .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                    .collect();
                prop_assert_eq!(weekday(&mixed), weekday(day));
                prop_assert!(weekday(day).is_some());
            }
        }
    }
}
