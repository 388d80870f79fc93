use diesel::prelude::*;

use crate::db::schema::{team_members, teams};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = teams)]
pub struct TeamRow {
    pub id: String,
    pub name: String,
    pub name_key: String,
    pub description: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Inserts the team unless its name is taken; returns whether it did.
pub fn insert(conn: &mut DbConnection, row: &TeamRow) -> QueryResult<bool> {
    let taken: i64 = teams::table
        .filter(teams::name_key.eq(&row.name_key))
        .count()
        .get_result(conn)?;
    if taken > 0 {
        return Ok(false);
    }
    diesel::insert_into(teams::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<TeamRow>> {
    teams::table
        .find(id)
        .select(TeamRow::as_select())
        .first(conn)
        .optional()
}

/// A team by name, compared without regard to case.
pub fn find_by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<TeamRow>> {
    teams::table
        .filter(teams::name_key.eq(name_key(name)))
        .select(TeamRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConnection, after: Option<&str>, limit: i64) -> QueryResult<Vec<TeamRow>> {
    let mut query = teams::table
        .select(TeamRow::as_select())
        .order(teams::id.asc())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(teams::id.gt(after.to_owned()));
    }
    query.limit(limit).load(conn)
}

/// Ids of the given teams that do not exist.
pub fn missing(conn: &mut DbConnection, ids: &[String]) -> QueryResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<String> = teams::table
        .filter(teams::id.eq_any(ids))
        .select(teams::id)
        .load(conn)?;
    Ok(ids
        .iter()
        .filter(|id| !found.contains(id))
        .cloned()
        .collect())
}

pub fn member_ids(conn: &mut DbConnection, team_id: &str) -> QueryResult<Vec<String>> {
    team_members::table
        .filter(team_members::team_id.eq(team_id))
        .select(team_members::user_id)
        .order(team_members::user_id.asc())
        .load(conn)
}

/// The teams a user belongs to, in id order.
pub fn ids_of_member(conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<String>> {
    team_members::table
        .filter(team_members::user_id.eq(user_id))
        .select(team_members::team_id)
        .order(team_members::team_id.asc())
        .load(conn)
}
