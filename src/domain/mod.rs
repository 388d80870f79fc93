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
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;
