//! Triage rules: the first rule whose conditions all hold sets a request's
//! priority and team, and says why; a default catches the rest.

use serde::Deserialize;

use super::accounts::{Organisation, Region, Skill};
use super::requests::{Category, Priority, Urgency, YoungPersonFlag};

/// How a team's new work is handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentMode {
    /// Stays in the team's queue until someone claims or is assigned it.
    #[default]
    Manual,
    /// To the available specialist with the needed skill and the fewest open requests.
    LeastLoaded,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub urgencies: Vec<Urgency>,
    #[serde(default)]
    pub regions: Vec<Region>,
    #[serde(default)]
    pub organisations: Vec<Organisation>,
    /// Any of these flags on the young person.
    #[serde(default)]
    pub flags: Vec<YoungPersonFlag>,
    /// Any of these words or phrases in the title or description (case-insensitive).
    #[serde(default)]
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default)]
    pub when: Conditions,
    pub priority: Priority,
    /// Team name, as created through the API.
    pub team: String,
    /// The skill an auto-assigned specialist must have.
    pub skill: Option<Skill>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultOutcome {
    pub priority: Priority,
    pub team: String,
    pub skill: Option<Skill>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamPolicy {
    #[serde(default)]
    pub assignment: AssignmentMode,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageConfig {
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
    pub default: DefaultOutcome,
    /// Per team name; teams not listed are `manual`.
    #[serde(default)]
    pub teams: std::collections::BTreeMap<String, TeamPolicy>,
}

/// What triage needs to know about a request.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub category: Category,
    pub urgency: Urgency,
    pub region: Region,
    pub organisation: Organisation,
    pub flags: &'a [YoungPersonFlag],
    pub title: &'a str,
    pub description: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The rule that matched, or `default`.
    pub rule: String,
    pub priority: Priority,
    pub team: String,
    pub skill: Option<Skill>,
    pub reason: String,
}

impl TriageConfig {
    pub fn parse(text: &str) -> Result<TriageConfig, String> {
        let config: TriageConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), String> {
        let mut names = std::collections::HashSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let at = format!("rule[{index}]");
            if rule.name.trim().is_empty() {
                return Err(format!("{at}.name: must not be empty"));
            }
            if !names.insert(rule.name.as_str()) {
                return Err(format!("{at}.name: \"{}\" is used twice", rule.name));
            }
            if rule.team.trim().is_empty() {
                return Err(format!("{at}.team: must name a team"));
            }
            if rule.when.keywords.iter().any(|k| k.trim().is_empty()) {
                return Err(format!("{at}.when.keywords: must not hold empty words"));
            }
        }
        if self.default.team.trim().is_empty() {
            return Err("default.team: must name a team".into());
        }
        Ok(())
    }

    pub fn assignment_mode(&self, team_name: &str) -> AssignmentMode {
        self.teams
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(team_name))
            .map(|(_, policy)| policy.assignment)
            .unwrap_or_default()
    }

    /// The first matching rule's outcome, or the default.
    pub fn decide(&self, facts: &Facts<'_>) -> Decision {
        for rule in &self.rules {
            if let Some(reasons) = matches(&rule.when, facts) {
                let reason = if reasons.is_empty() {
                    format!("rule \"{}\" matches every request", rule.name)
                } else {
                    format!("rule \"{}\": {}", rule.name, reasons.join("; "))
                };
                return Decision {
                    rule: rule.name.clone(),
                    priority: rule.priority,
                    team: rule.team.clone(),
                    skill: rule.skill,
                    reason,
                };
            }
        }
        Decision {
            rule: "default".into(),
            priority: self.default.priority,
            team: self.default.team.clone(),
            skill: self.default.skill,
            reason: "no rule matched; the default applies".into(),
        }
    }
}

/// `Some(reasons)` when every stated condition holds; an unstated one holds.
fn matches(when: &Conditions, facts: &Facts<'_>) -> Option<Vec<String>> {
    let mut reasons = Vec::new();
    let mut check = |list_empty: bool, holds: bool, reason: String| -> bool {
        if list_empty {
            return true;
        }
        if holds {
            reasons.push(reason);
        }
        holds
    };
    let ok = check(
        when.categories.is_empty(),
        when.categories.contains(&facts.category),
        format!("category is {}", facts.category),
    ) && check(
        when.urgencies.is_empty(),
        when.urgencies.contains(&facts.urgency),
        format!("urgency is {}", facts.urgency),
    ) && check(
        when.regions.is_empty(),
        when.regions.contains(&facts.region),
        format!("region is {}", facts.region),
    ) && check(
        when.organisations.is_empty(),
        when.organisations.contains(&facts.organisation),
        format!("organisation is {}", facts.organisation),
    ) && {
        let flag = when.flags.iter().find(|f| facts.flags.contains(f));
        check(
            when.flags.is_empty(),
            flag.is_some(),
            flag.map(|f| format!("young person is {f}"))
                .unwrap_or_default(),
        )
    } && {
        let text = format!("{} {}", facts.title, facts.description).to_lowercase();
        let word = when
            .keywords
            .iter()
            .find(|k| text.contains(&k.to_lowercase()));
        check(
            when.keywords.is_empty(),
            word.is_some(),
            word.map(|w| format!("mentions \"{w}\""))
                .unwrap_or_default(),
        )
    };
    ok.then_some(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"
        [[rule]]
        name = "immediate risk"
        when = { urgencies = ["immediate_risk"] }
        priority = "P1"
        team = "Duty"

        [[rule]]
        name = "missing and exploited"
        when = { categories = ["child_sexual_exploitation"], flags = ["missing_from_care", "missing_from_home"] }
        priority = "P2"
        team = "Health"
        skill = "health"

        [[rule]]
        name = "county lines words"
        when = { keywords = ["County Lines", "trap house"] }
        priority = "P2"
        team = "Crime and justice"
        skill = "crime_and_justice"

        [default]
        priority = "P3"
        team = "Duty"

        [teams."Crime and justice"]
        assignment = "least_loaded"
    "#;

    fn facts<'a>(flags: &'a [YoungPersonFlag], title: &'a str) -> Facts<'a> {
        Facts {
            category: Category::ChildSexualExploitation,
            urgency: Urgency::Standard,
            region: Region::London,
            organisation: Organisation::Police,
            flags,
            title,
            description: "nothing notable",
        }
    }

    #[test]
    fn the_first_matching_rule_wins_and_says_why() {
        let config = TriageConfig::parse(RULES).unwrap();
        let flags = [YoungPersonFlag::MissingFromCare];
        let mut f = facts(&flags, "county lines concern");
        f.urgency = Urgency::ImmediateRisk;
        let decision = config.decide(&f);
        assert_eq!(decision.rule, "immediate risk");
        assert_eq!(decision.priority, Priority::P1);
        assert_eq!(
            decision.reason,
            "rule \"immediate risk\": urgency is immediate_risk"
        );
    }

    #[test]
    fn every_condition_of_a_rule_must_hold() {
        let config = TriageConfig::parse(RULES).unwrap();
        let decision = config.decide(&facts(&[YoungPersonFlag::MissingFromCare], "help"));
        assert_eq!(decision.rule, "missing and exploited");
        assert_eq!(decision.skill, Some(Skill::Health));
        assert!(decision
            .reason
            .contains("category is child_sexual_exploitation"));
        assert!(decision
            .reason
            .contains("young person is missing_from_care"));
        let no_flag = config.decide(&facts(&[], "help"));
        assert_eq!(no_flag.rule, "default");
    }

    #[test]
    fn keywords_match_without_regard_to_case() {
        let config = TriageConfig::parse(RULES).unwrap();
        let decision = config.decide(&facts(&[], "Worried about a TRAP HOUSE nearby"));
        assert_eq!(decision.rule, "county lines words");
        assert_eq!(
            decision.reason,
            "rule \"county lines words\": mentions \"trap house\""
        );
    }

    #[test]
    fn nothing_matching_falls_to_the_default() {
        let config = TriageConfig::parse(RULES).unwrap();
        let decision = config.decide(&facts(&[], "a question"));
        assert_eq!(decision.team, "Duty");
        assert_eq!(decision.priority, Priority::P3);
        assert_eq!(decision.reason, "no rule matched; the default applies");
    }

    #[test]
    fn assignment_modes_default_to_manual() {
        let config = TriageConfig::parse(RULES).unwrap();
        assert_eq!(
            config.assignment_mode("crime and justice"),
            AssignmentMode::LeastLoaded
        );
        assert_eq!(config.assignment_mode("Duty"), AssignmentMode::Manual);
    }

    #[test]
    fn bad_files_are_refused_with_the_place_named() {
        let unknown_priority = RULES.replace("priority = \"P1\"", "priority = \"P9\"");
        assert!(TriageConfig::parse(&unknown_priority)
            .unwrap_err()
            .contains("P9"));
        let twice = RULES.replace("name = \"county lines words\"", "name = \"immediate risk\"");
        assert!(TriageConfig::parse(&twice)
            .unwrap_err()
            .contains("rule[2].name"));
        let empty_word = RULES.replace("\"trap house\"", "\" \"");
        assert!(TriageConfig::parse(&empty_word)
            .unwrap_err()
            .contains("keywords"));
        let typo = RULES.replace("urgencies = [", "urgency = [");
        assert!(TriageConfig::parse(&typo).is_err());
        assert!(
            TriageConfig::parse("[[rule]]\nname = \"x\"").is_err(),
            "a default is required"
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_text_is_parsed_or_refused_without_panicking(text in any::<String>()) {
                let _ = TriageConfig::parse(&text);
            }

            /// A keyword is found in any mix of case, anywhere in the title.
            #[test]
            fn keywords_match_whatever_their_case(
                before in "[a-z ]{0,20}",
                after in "[a-z ]{0,20}",
                upper in prop::collection::vec(any::<bool>(), 12),
            ) {
                let config = TriageConfig::parse(RULES).unwrap();
                let keyword: String = "county lines"
                    .chars()
                    .zip(upper)
                    .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                    .collect();
                let title = format!("{before}{keyword}{after}");
                prop_assert_eq!(config.decide(&facts(&[], &title)).rule, "county lines words");
            }

            /// The decision is a rule of the file or the default, with the
            /// priority and team that rule sets.
            #[test]
            fn a_decision_is_a_listed_rule_or_the_default(
                title in "\\PC{0,40}",
                flags in prop::collection::vec(prop::sample::select(YoungPersonFlag::ALL), 0..3),
            ) {
                let config = TriageConfig::parse(RULES).unwrap();
                let decision = config.decide(&facts(&flags, &title));
                match config.rules.iter().find(|r| r.name == decision.rule) {
                    Some(rule) => {
                        prop_assert_eq!(decision.priority, rule.priority);
                        prop_assert_eq!(&decision.team, &rule.team);
                    }
                    None => {
                        prop_assert_eq!(decision.rule.as_str(), "default");
                        prop_assert_eq!(decision.priority, config.default.priority);
                    }
                }
            }
        }
    }
}
