//! What a guidance request is made of: its categories, urgency, priority,
//! the young person described without names, and the contact preference.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text_enum;

text_enum!(
    /// The kind of exploitation the case is about.
    Category {
        ChildSexualExploitation => "child_sexual_exploitation",
        ChildCriminalExploitation => "child_criminal_exploitation",
        Trafficking => "trafficking",
        ModernSlavery => "modern_slavery",
        OnlineExploitation => "online_exploitation",
        Other => "other",
    }
);

text_enum!(
    /// The practitioner's own assessment of how urgent the case is.
    Urgency {
        ImmediateRisk => "immediate_risk",
        High => "high",
        Standard => "standard",
        AdviceOnly => "advice_only",
    }
);

text_enum!(
    /// The unit's priority, set at triage: P1 is the most urgent.
    Priority as UPPERCASE {
        P1 => "P1",
        P2 => "P2",
        P3 => "P3",
        P4 => "P4",
    }
);

text_enum!(
    Gender {
        Female => "female",
        Male => "male",
        NonBinary => "non_binary",
        Other => "other",
        NotKnown => "not_known",
    }
);

text_enum!(
    /// Circumstances of the young person that change the response.
    YoungPersonFlag {
        MissingFromHome => "missing_from_home",
        MissingFromCare => "missing_from_care",
        LookedAfter => "looked_after",
        CareLeaver => "care_leaver",
        SpecialEducationalNeeds => "special_educational_needs",
        NotInEducation => "not_in_education",
        KnownToYouthJustice => "known_to_youth_justice",
    }
);

text_enum!(
    ContactMethod {
        Email => "email",
        Phone => "phone",
        VideoCall => "video_call",
    }
);

text_enum!(
    /// A reply is seen by the requester; an internal note by unit staff only.
    MessageKind {
        Reply => "reply",
        InternalNote => "internal_note",
    }
);

/// An age band, for when the exact age is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AgeBand {
    #[serde(rename = "under_10")]
    Under10,
    #[serde(rename = "10_to_12")]
    From10To12,
    #[serde(rename = "13_to_15")]
    From13To15,
    #[serde(rename = "16_to_17")]
    From16To17,
    #[serde(rename = "18_to_25")]
    From18To25,
}

impl AgeBand {
    pub const ALL: &'static [AgeBand] = &[
        AgeBand::Under10,
        AgeBand::From10To12,
        AgeBand::From13To15,
        AgeBand::From16To17,
        AgeBand::From18To25,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Under10 => "under_10",
            AgeBand::From10To12 => "10_to_12",
            AgeBand::From13To15 => "13_to_15",
            AgeBand::From16To17 => "16_to_17",
            AgeBand::From18To25 => "18_to_25",
        }
    }

    pub fn parse(text: &str) -> Option<AgeBand> {
        AgeBand::ALL.iter().copied().find(|b| b.as_str() == text)
    }
}

/// Oldest age the unit's remit covers (young adults in transition).
pub const MAX_AGE: i32 = 25;

/// Stored form of the flag list: sorted, unique, comma-separated names.
pub fn flags_to_text(flags: &[YoungPersonFlag]) -> String {
    let mut flags = flags.to_vec();
    flags.sort();
    flags.dedup();
    flags
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn flags_from_text(text: &str) -> Option<Vec<YoungPersonFlag>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(YoungPersonFlag::parse)
        .collect()
}

/// Exactly one of an age or an age band describes the young person.
pub fn age_problem(age: Option<i32>, band: Option<AgeBand>) -> Option<(&'static str, String)> {
    match (age, band) {
        (None, None) => Some(("young_person.age", "give an age or an age_band".into())),
        (Some(_), Some(_)) => Some((
            "young_person.age_band",
            "give an age or an age_band, not both".into(),
        )),
        (Some(age), None) if !(0..=MAX_AGE).contains(&age) => Some((
            "young_person.age",
            format!("must be between 0 and {MAX_AGE}"),
        )),
        _ => None,
    }
}

/// A human reference, unique per year: `NRU-2026-000123`.
pub fn reference(year: i32, sequence: i64) -> String {
    format!("NRU-{year}-{sequence:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_zero_padded_per_year() {
        assert_eq!(reference(2026, 123), "NRU-2026-000123");
        assert_eq!(reference(2027, 1_234_567), "NRU-2027-1234567");
    }

    #[test]
    fn flags_store_sorted_and_unique_and_read_back() {
        let text = flags_to_text(&[
            YoungPersonFlag::LookedAfter,
            YoungPersonFlag::MissingFromHome,
            YoungPersonFlag::LookedAfter,
        ]);
        assert_eq!(text, "missing_from_home,looked_after");
        assert_eq!(
            flags_from_text(&text),
            Some(vec![
                YoungPersonFlag::MissingFromHome,
                YoungPersonFlag::LookedAfter
            ])
        );
        assert_eq!(flags_from_text(""), Some(vec![]));
        assert_eq!(flags_from_text("bogus"), None);
    }

    #[test]
    fn the_young_person_needs_exactly_one_age_description() {
        assert!(age_problem(None, None).is_some());
        assert!(age_problem(Some(14), Some(AgeBand::From13To15)).is_some());
        assert!(age_problem(Some(26), None).is_some());
        assert!(age_problem(Some(-1), None).is_some());
        assert!(age_problem(Some(14), None).is_none());
        assert!(age_problem(None, Some(AgeBand::Under10)).is_none());
    }

    #[test]
    fn wire_names_are_the_stored_names() {
        for band in AgeBand::ALL {
            assert_eq!(
                serde_json::to_value(band).unwrap(),
                serde_json::json!(band.as_str())
            );
        }
        assert_eq!(
            serde_json::to_value(Priority::P1).unwrap(),
            serde_json::json!("P1")
        );
        for category in Category::ALL {
            assert_eq!(
                serde_json::to_value(category).unwrap(),
                serde_json::json!(category.as_str())
            );
        }
        for flag in YoungPersonFlag::ALL {
            assert_eq!(
                serde_json::to_value(flag).unwrap(),
                serde_json::json!(flag.as_str())
            );
        }
    }

    #[test]
    fn openapi_names_are_the_stored_names() {
        use utoipa::PartialSchema;
        let priority = serde_json::to_value(Priority::schema()).unwrap();
        assert_eq!(
            priority["enum"],
            serde_json::json!(["P1", "P2", "P3", "P4"])
        );
        let band = serde_json::to_value(AgeBand::schema()).unwrap();
        let names: Vec<&str> = AgeBand::ALL.iter().map(|b| b.as_str()).collect();
        assert_eq!(band["enum"], serde_json::json!(names));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn flag() -> impl Strategy<Value = YoungPersonFlag> {
            prop::sample::select(YoungPersonFlag::ALL)
        }

        fn age_band() -> impl Strategy<Value = Option<AgeBand>> {
            prop::option::of(prop::sample::select(AgeBand::ALL))
        }

        proptest! {
            #[test]
            fn stored_flags_read_back_sorted_and_unique(flags in prop::collection::vec(flag(), 0..12)) {
                let text = flags_to_text(&flags);
                let read = flags_from_text(&text).expect("stored flags read back");
                let mut expected = flags.clone();
                expected.sort();
                expected.dedup();
                prop_assert_eq!(&read, &expected);
                prop_assert_eq!(flags_to_text(&read), text);
            }

            #[test]
            fn flag_text_reads_only_when_every_part_is_a_flag(
                parts in prop::collection::vec(
                    prop_oneof![flag().prop_map(|f| f.as_str().to_owned()), "[a-z_ ]{0,12}"],
                    0..5,
                ),
            ) {
                let text = parts.join(",");
                let all_known = parts
                    .iter()
                    .all(|p| p.is_empty() || YoungPersonFlag::parse(p).is_some());
                prop_assert_eq!(flags_from_text(&text).is_some(), all_known);
            }

            #[test]
            fn a_young_person_is_accepted_with_exactly_one_age_in_range(
                age in prop::option::of(-5i32..40),
                band in age_band(),
            ) {
                let acceptable = match (age, band) {
                    (Some(age), None) => (0..=MAX_AGE).contains(&age),
                    (None, Some(_)) => true,
                    _ => false,
                };
                let problem = age_problem(age, band);
                prop_assert_eq!(problem.is_none(), acceptable);
                if let Some((field, _)) = problem {
                    prop_assert!(field.starts_with("young_person."));
                }
            }

            #[test]
            fn references_of_different_years_or_sequences_differ(
                a in (2000i32..2200, 0i64..10_000_000),
                b in (2000i32..2200, 0i64..10_000_000),
            ) {
                prop_assert_eq!(reference(a.0, a.1) == reference(b.0, b.1), a == b);
            }
        }
    }
}
