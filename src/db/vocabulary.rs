//! The vocabulary enums of `domain` as stored: a text column holding the
//! value's `as_str()`, read back with its `parse`, on both backends (and
//! through `MultiBackend`). Here rather than in `domain`, which stays free
//! of diesel. A stored value outside the vocabulary is a deserialization
//! error, a corrupt row, never a silent default.

use diesel::deserialize::{self, FromSql};
use diesel::dsl::AsExprOf;
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::Sqlite;

use super::MultiBackend;
use crate::domain::accounts::{Organisation, Region, Role};
use crate::domain::lifecycle::Status;
use crate::domain::requests::{AgeBand, Category, ContactMethod, Gender, Priority, Urgency};

/// Reads a stored value of a vocabulary.
fn parsed<T>(text: String, parse: fn(&str) -> Option<T>, what: &str) -> deserialize::Result<T> {
    parse(&text).ok_or_else(|| format!("{text:?} is not a {what}").into())
}

macro_rules! stored_as_text {
    ($($vocabulary:ty => $what:literal),+ $(,)?) => {$(
        impl FromSql<Text, MultiBackend> for $vocabulary {
            fn from_sql(
                bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                parsed(bytes.from_sql::<String, Text>()?, <$vocabulary>::parse, $what)
            }
        }

        impl FromSql<Text, Pg> for $vocabulary {
            fn from_sql(bytes: <Pg as diesel::backend::Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                parsed(<String as FromSql<Text, Pg>>::from_sql(bytes)?, <$vocabulary>::parse, $what)
            }
        }

        impl FromSql<Text, Sqlite> for $vocabulary {
            fn from_sql(
                bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                parsed(<String as FromSql<Text, Sqlite>>::from_sql(bytes)?, <$vocabulary>::parse, $what)
            }
        }

        // What `#[derive(FromSqlRow)]` writes: a column of it is a row field.
        impl<DB: diesel::backend::Backend> diesel::deserialize::Queryable<Text, DB> for $vocabulary
        where
            Self: FromSql<Text, DB>,
        {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }

        impl<DB: diesel::backend::Backend> ToSql<Text, DB> for $vocabulary
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <str as ToSql<Text, DB>>::to_sql(self.as_str(), out)
            }
        }

        impl<DB: diesel::backend::Backend> ToSql<Nullable<Text>, DB> for $vocabulary
        where
            Self: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                <Self as ToSql<Text, DB>>::to_sql(self, out)
            }
        }

        impl AsExpression<Text> for $vocabulary {
            type Expression = AsExprOf<&'static str, Text>;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Text> for &$vocabulary {
            type Expression = AsExprOf<&'static str, Text>;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Nullable<Text>> for $vocabulary {
            type Expression = AsExprOf<&'static str, Nullable<Text>>;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Nullable<Text>> for &$vocabulary {
            type Expression = AsExprOf<&'static str, Nullable<Text>>;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.as_str())
            }
        }
    )+};
}

stored_as_text!(
    Role => "role",
    Status => "status",
    Category => "category",
    Urgency => "urgency",
    Priority => "priority",
    Organisation => "organisation",
    Region => "region",
    AgeBand => "age band",
    Gender => "gender",
    ContactMethod => "contact method",
);

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    use super::*;
    use crate::db::DbConnection;

    /// Reads `value` back as a stored role, through `MultiBackend`.
    fn stored(value: &'static str) -> QueryResult<Role> {
        let mut conn = DbConnection::establish(":memory:").expect("in-memory SQLite");
        diesel::select(value.into_sql::<Text>()).get_result(&mut conn)
    }

    #[test]
    fn a_stored_role_reads_back_as_its_role_and_an_unknown_one_is_a_corrupt_row() {
        for role in Role::ALL {
            assert_eq!(stored(role.as_str()).unwrap(), *role);
        }
        let error = format!("{:?}", stored("wizard").unwrap_err());
        assert!(
            error.contains("wizard") && error.contains("is not a role"),
            "{error}"
        );
    }
}
