//! Who people are: roles, organisations, regions, skills, and the rules that
//! say which profile fields fit which role.

use super::text_enum;

text_enum!(
    /// What a signed-in person may do (see the roles table in the README).
    Role {
        Practitioner => "practitioner",
        Specialist => "specialist",
        Coordinator => "coordinator",
        Admin => "admin",
    }
);

impl Role {
    /// Staff of the unit who work requests.
    pub fn works_requests(self) -> bool {
        matches!(self, Role::Specialist | Role::Coordinator)
    }
}

text_enum!(
    /// The kind of organisation a practitioner works for.
    Organisation {
        Police => "police",
        SocialCare => "social_care",
        Health => "health",
        Education => "education",
        Voluntary => "voluntary",
        Other => "other",
    }
);

text_enum!(
    /// UK regions, used for routing and reporting.
    Region {
        NorthEast => "north_east",
        NorthWest => "north_west",
        YorkshireAndTheHumber => "yorkshire_and_the_humber",
        EastMidlands => "east_midlands",
        WestMidlands => "west_midlands",
        EastOfEngland => "east_of_england",
        London => "london",
        SouthEast => "south_east",
        SouthWest => "south_west",
        Wales => "wales",
        Scotland => "scotland",
        NorthernIreland => "northern_ireland",
    }
);

text_enum!(
    /// A specialist's area of expertise.
    Skill {
        CrimeAndJustice => "crime_and_justice",
        Health => "health",
        EducationAndCommunities => "education_and_communities",
        TransitionsToAdulthood => "transitions_to_adulthood",
    }
);

/// The role-dependent part of a profile, as it would stand after a change.
#[derive(Debug, Clone, Default)]
pub struct ProfileShape {
    pub has_organisation: bool,
    pub has_region: bool,
    pub has_skills: bool,
    pub has_teams: bool,
    pub has_load_limit: bool,
    pub available: bool,
}

/// Which fields are wrong for the role: practitioners need an organisation and
/// region; specialist profile fields belong to staff who work requests.
/// Returns `(field, message)` pairs.
pub fn profile_problems(role: Role, shape: &ProfileShape) -> Vec<(&'static str, String)> {
    let mut problems = Vec::new();
    if role == Role::Practitioner {
        if !shape.has_organisation {
            problems.push(("organisation", "required for a practitioner".to_owned()));
        }
        if !shape.has_region {
            problems.push(("region", "required for a practitioner".to_owned()));
        }
    } else {
        if shape.has_organisation {
            problems.push((
                "organisation",
                format!("only practitioners have one, not a {role}"),
            ));
        }
        if shape.has_region {
            problems.push((
                "region",
                format!("only practitioners have one, not a {role}"),
            ));
        }
    }
    if !role.works_requests() {
        let staff_only = [
            ("skills", shape.has_skills),
            ("team_ids", shape.has_teams),
            ("max_open_requests", shape.has_load_limit),
            ("available", shape.available),
        ];
        for (field, present) in staff_only {
            if present {
                problems.push((
                    field,
                    format!("only specialists and coordinators have this, not a {role}"),
                ));
            }
        }
    }
    problems
}

/// Emails compare case-insensitively; this is the stored, compared form.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// What is wrong with a display name, if anything: it goes into email
/// headers, where a line break would start a new header (and breaks the
/// mail library), so control characters and line separators are refused.
pub fn display_name_problem(name: &str) -> Option<String> {
    let breaks_lines = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    name.chars()
        .any(breaks_lines)
        .then(|| "must not contain control characters such as line breaks".to_owned())
}

/// Password rules beyond hashing: a minimum length counted in characters and
/// an upper bound that keeps hashing cheap to refuse.
pub fn password_problem(password: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Some(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Some(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    if password.trim().is_empty() {
        return Some("must not be blank".to_owned());
    }
    None
}

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Roles that deal with case content; admins run the system and see none.
pub const CASE_ROLES: &[Role] = &[Role::Practitioner, Role::Specialist, Role::Coordinator];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_enums_round_trip_and_refuse_unknown_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(*role));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Region::parse("london"), Some(Region::London));
        assert_eq!(Skill::parse("cooking"), None);
    }

    fn assert_wire_names_match_stored_names<T: serde::Serialize + std::fmt::Display>(all: &[T]) {
        for value in all {
            assert_eq!(
                serde_json::to_value(value).unwrap(),
                serde_json::json!(value.to_string())
            );
        }
    }

    #[test]
    fn json_names_are_the_stored_names() {
        assert_wire_names_match_stored_names(Role::ALL);
        assert_wire_names_match_stored_names(Organisation::ALL);
        assert_wire_names_match_stored_names(Region::ALL);
        assert_wire_names_match_stored_names(Skill::ALL);
    }

    #[test]
    fn openapi_names_are_the_stored_names() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(Region::schema()).unwrap();
        let names: Vec<String> = Region::ALL.iter().map(|r| r.to_string()).collect();
        assert_eq!(schema["enum"], serde_json::json!(names));
    }

    #[test]
    fn practitioner_needs_organisation_and_region() {
        let problems = profile_problems(Role::Practitioner, &ProfileShape::default());
        let fields: Vec<_> = problems.iter().map(|p| p.0).collect();
        assert_eq!(fields, vec!["organisation", "region"]);
    }

    #[test]
    fn practitioner_cannot_have_staff_fields() {
        let shape = ProfileShape {
            has_organisation: true,
            has_region: true,
            has_skills: true,
            has_teams: true,
            has_load_limit: true,
            available: true,
        };
        let fields: Vec<_> = profile_problems(Role::Practitioner, &shape)
            .iter()
            .map(|p| p.0)
            .collect();
        assert_eq!(
            fields,
            vec!["skills", "team_ids", "max_open_requests", "available"]
        );
    }

    #[test]
    fn specialist_may_have_staff_fields_but_no_organisation() {
        let shape = ProfileShape {
            has_skills: true,
            has_teams: true,
            has_load_limit: true,
            available: true,
            ..Default::default()
        };
        assert!(profile_problems(Role::Specialist, &shape).is_empty());
        let with_org = ProfileShape {
            has_organisation: true,
            ..shape
        };
        assert_eq!(
            profile_problems(Role::Specialist, &with_org)[0].0,
            "organisation"
        );
    }

    #[test]
    fn admin_has_no_profile_fields() {
        assert!(profile_problems(Role::Admin, &ProfileShape::default()).is_empty());
    }

    #[test]
    fn emails_compare_case_insensitively() {
        assert_eq!(normalise_email("  Alice@Example.ORG "), "alice@example.org");
    }

    #[test]
    fn display_names_with_control_characters_or_line_breaks_are_refused() {
        for bad in [
            "Eve\r\nBcc: attacker@evil.example",
            "Eve\nSmith",
            "Eve\rSmith",
            "Tab\tbed",
            "Bell\u{7}",
            "Nul\u{0}",
            "Del\u{7f}",
            "Next line\u{85}",
            "Line\u{2028}separator",
        ] {
            assert!(display_name_problem(bad).is_some(), "{bad:?}");
        }
        for good in [
            "Eve Smith",
            "Zoë O'Brien-Ngũgĩ",
            "李小龍",
            "Dr. A. B. (Duty)",
        ] {
            assert_eq!(display_name_problem(good), None, "{good:?}");
        }
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(password_problem("short").is_some());
        assert!(password_problem("ééééééééééé").is_some());
        assert!(password_problem("éééééééééééé").is_none());
        assert!(password_problem(&"a".repeat(MAX_PASSWORD_CHARS + 1)).is_some());
        assert!(password_problem(&" ".repeat(12)).is_some());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn email_normalisation_is_idempotent_and_trimmed(email in any::<String>()) {
                let once = normalise_email(&email);
                prop_assert_eq!(normalise_email(&once), once.clone());
                prop_assert_eq!(once.trim(), once.as_str());
            }

            #[test]
            fn emails_differing_only_in_ascii_case_or_padding_compare_equal(
                email in "[ -~]{0,40}",
                pad in "[ \t\n]{0,3}",
            ) {
                prop_assert_eq!(
                    normalise_email(&format!("{pad}{}{pad}", email.to_ascii_uppercase())),
                    normalise_email(&email)
                );
            }

            #[test]
            fn a_password_is_refused_exactly_when_its_length_or_blankness_is_wrong(
                password in prop_oneof![any::<String>(), "\\PC{10,14}", "[ \t]{12,14}", "\\PC{250,260}"],
            ) {
                let chars = password.chars().count();
                let acceptable = (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars)
                    && !password.trim().is_empty();
                prop_assert_eq!(password_problem(&password).is_none(), acceptable);
            }
        }
    }
}
