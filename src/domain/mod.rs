//! Pure rules over plain data: no database, no HTTP.

pub mod accounts;
pub mod assignment;
pub mod calendar;
pub mod deadlines;
pub mod integrations;
pub mod lifecycle;
pub mod notifications;
pub mod policy;
pub mod requests;
pub mod retention;
pub mod rota;
pub mod sla;
pub mod stats;
pub mod throttle;
pub mod triage;
pub mod webhook_signature;

/// Declares an enum stored as text: serde and OpenAPI use the same snake_case
/// names as the database column, and reading an unknown name is an error
/// rather than a silent default.
macro_rules! text_enum {
    // The serde rule is written out in each arm: utoipa does not read renames
    // that arrive through macro fragments. Unit tests hold the JSON and
    // OpenAPI names equal to the stored ones.
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }
        $crate::domain::text_enum!(@impl $name { $($variant => $text),+ });
    };
    ($(#[$meta:meta])* $name:ident as UPPERCASE { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "UPPERCASE")]
        pub enum $name { $($variant),+ }
        $crate::domain::text_enum!(@impl $name { $($variant => $text),+ });
    };
    (@impl $name:ident { $($variant:ident => $text:literal),+ }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde::{de::DeserializeOwned, Serialize};

    use super::accounts::{Organisation, Region, Role, Skill};
    use super::deadlines::{ClockKind, EventKind, SlaState};
    use super::integrations::{Scope, WebhookEvent};
    use super::lifecycle::{Action, Status};
    use super::notifications::EmailEvent;
    use super::requests::{
        AgeBand, Category, ContactMethod, Gender, MessageKind, Priority, Urgency, YoungPersonFlag,
    };
    use super::rota::Duty;

    /// Every stored name of every text vocabulary, so one type's name is also
    /// tried against the others ("health" is an organisation and a skill).
    fn all_names() -> Vec<&'static str> {
        fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<&'static str> {
            all.iter().map(|v| as_str(*v)).collect()
        }
        [
            names(Role::ALL, Role::as_str),
            names(Organisation::ALL, Organisation::as_str),
            names(Region::ALL, Region::as_str),
            names(Skill::ALL, Skill::as_str),
            names(Category::ALL, Category::as_str),
            names(Urgency::ALL, Urgency::as_str),
            names(Priority::ALL, Priority::as_str),
            names(Gender::ALL, Gender::as_str),
            names(YoungPersonFlag::ALL, YoungPersonFlag::as_str),
            names(ContactMethod::ALL, ContactMethod::as_str),
            names(MessageKind::ALL, MessageKind::as_str),
            names(AgeBand::ALL, AgeBand::as_str),
            names(Status::ALL, Status::as_str),
            names(Action::ALL, Action::as_str),
            names(ClockKind::ALL, ClockKind::as_str),
            names(SlaState::ALL, SlaState::as_str),
            names(EventKind::ALL, EventKind::as_str),
            names(EmailEvent::ALL, EmailEvent::as_str),
            names(Duty::ALL, Duty::as_str),
            names(&Scope::ALL, Scope::as_str),
            names(&WebhookEvent::ALL, WebhookEvent::as_str),
        ]
        .concat()
    }

    /// Arbitrary text, and near misses of real names: another case, padding,
    /// a character more or less.
    fn name_like() -> impl Strategy<Value = String> {
        let near_miss = (prop::sample::select(all_names()), 0..6u8, any::<char>()).prop_map(
            |(name, how, c)| match how {
                0 => name.to_owned(),
                1 => name.to_uppercase(),
                2 => format!(" {name}"),
                3 => format!("{name}{c}"),
                4 => name[..name.len() - 1].to_owned(),
                _ => name.replace('_', "-"),
            },
        );
        prop_oneof![any::<String>(), near_miss]
    }

    /// A vocabulary reads back every name it writes, reads nothing but its
    /// own exact names, and JSON reads exactly what `parse` reads.
    fn check_vocabulary<T>(
        all: &[T],
        parse: fn(&str) -> Option<T>,
        as_str: fn(T) -> &'static str,
        text: &str,
    ) -> Result<(), TestCaseError>
    where
        T: Copy + PartialEq + std::fmt::Debug + Serialize + DeserializeOwned,
    {
        for value in all {
            prop_assert_eq!(parse(as_str(*value)), Some(*value));
            prop_assert_eq!(
                serde_json::to_value(value).unwrap(),
                serde_json::json!(as_str(*value))
            );
        }
        match parse(text) {
            Some(value) => prop_assert_eq!(as_str(value), text),
            None => prop_assert!(all.iter().all(|v| as_str(*v) != text)),
        }
        prop_assert_eq!(
            serde_json::from_value::<T>(serde_json::json!(text)).ok(),
            parse(text)
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn every_vocabulary_reads_exactly_the_names_it_writes(text in name_like()) {
            check_vocabulary(Role::ALL, Role::parse, Role::as_str, &text)?;
            check_vocabulary(Organisation::ALL, Organisation::parse, Organisation::as_str, &text)?;
            check_vocabulary(Region::ALL, Region::parse, Region::as_str, &text)?;
            check_vocabulary(Skill::ALL, Skill::parse, Skill::as_str, &text)?;
            check_vocabulary(Category::ALL, Category::parse, Category::as_str, &text)?;
            check_vocabulary(Urgency::ALL, Urgency::parse, Urgency::as_str, &text)?;
            check_vocabulary(Priority::ALL, Priority::parse, Priority::as_str, &text)?;
            check_vocabulary(Gender::ALL, Gender::parse, Gender::as_str, &text)?;
            check_vocabulary(YoungPersonFlag::ALL, YoungPersonFlag::parse, YoungPersonFlag::as_str, &text)?;
            check_vocabulary(ContactMethod::ALL, ContactMethod::parse, ContactMethod::as_str, &text)?;
            check_vocabulary(MessageKind::ALL, MessageKind::parse, MessageKind::as_str, &text)?;
            check_vocabulary(AgeBand::ALL, AgeBand::parse, AgeBand::as_str, &text)?;
            check_vocabulary(Status::ALL, Status::parse, Status::as_str, &text)?;
            check_vocabulary(Action::ALL, Action::parse, Action::as_str, &text)?;
            check_vocabulary(ClockKind::ALL, ClockKind::parse, ClockKind::as_str, &text)?;
            check_vocabulary(SlaState::ALL, SlaState::parse, SlaState::as_str, &text)?;
            check_vocabulary(EventKind::ALL, EventKind::parse, EventKind::as_str, &text)?;
            check_vocabulary(EmailEvent::ALL, EmailEvent::parse, EmailEvent::as_str, &text)?;
            check_vocabulary(Duty::ALL, Duty::parse, Duty::as_str, &text)?;
            check_vocabulary(&Scope::ALL, Scope::parse, Scope::as_str, &text)?;
            check_vocabulary(&WebhookEvent::ALL, WebhookEvent::parse, WebhookEvent::as_str, &text)?;
        }
    }
}
