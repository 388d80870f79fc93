use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{team_members, user_skills, users};
use crate::db::DbConnection;
use crate::domain::accounts::{Role, Skill};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub organisation: Option<String>,
    pub region: Option<String>,
    pub password_hash: String,
    pub active: bool,
    pub available: bool,
    pub max_open_requests: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// An admin set the password and the person must change it before
    /// anything but their own account (`auth::Caller`).
    pub password_change_required: bool,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub organisation: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub available: Option<bool>,
    pub max_open_requests: Option<Option<i32>>,
    pub active: Option<bool>,
    pub password_hash: Option<String>,
    pub password_change_required: Option<bool>,
    pub updated_at: Option<NaiveDateTime>,
}

/// A user with the staff profile parts that live in their own tables.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub row: UserRow,
    pub skills: Vec<Skill>,
    pub team_ids: Vec<String>,
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub team_id: Option<String>,
    pub active: Option<bool>,
}

/// Inserts the user unless the email is taken; returns whether it did.
pub fn insert(conn: &mut DbConnection, row: &UserRow) -> QueryResult<bool> {
    if find_by_email(conn, &row.email)?.is_some() {
        return Ok(false);
    }
    diesel::insert_into(users::table)
        .values(row)
        .execute(conn)?;
    Ok(true)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Like [`find`], and on PostgreSQL locks the row until the transaction
/// ends, so checks and changes of one person's load run one at a time; on
/// SQLite the single writer already runs write transactions one at a time.
pub fn find_locked(conn: &mut DbConnection, id: &str) -> QueryResult<Option<UserRow>> {
    match conn {
        DbConnection::Postgresql(c) => Ok(users::table
            .find(id)
            .select(UserRow::as_select())
            .for_update()
            .first(c)
            .optional()?),
        DbConnection::Sqlite(_) => find(conn, id),
    }
}

pub fn find_by_email(conn: &mut DbConnection, email_key: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email_key))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn load_record(conn: &mut DbConnection, id: &str) -> QueryResult<Option<UserRecord>> {
    let Some(row) = find(conn, id)? else {
        return Ok(None);
    };
    Ok(with_profiles(conn, vec![row])?.pop())
}

/// Attaches skills and team memberships to rows, two queries for any number of users.
pub fn with_profiles(conn: &mut DbConnection, rows: Vec<UserRow>) -> QueryResult<Vec<UserRecord>> {
    let ids: Vec<&String> = rows.iter().map(|r| &r.id).collect();
    let mut skills: HashMap<String, Vec<Skill>> = HashMap::new();
    let skill_rows: Vec<(String, String)> = user_skills::table
        .filter(user_skills::user_id.eq_any(&ids))
        .select((user_skills::user_id, user_skills::skill))
        .load(conn)?;
    for (user_id, skill) in skill_rows {
        let skill = Skill::parse(&skill)
            .ok_or_else(|| super::corrupt(format!("unknown skill stored for {user_id}")))?;
        skills.entry(user_id).or_default().push(skill);
    }
    let mut teams: HashMap<String, Vec<String>> = HashMap::new();
    let team_rows: Vec<(String, String)> = team_members::table
        .filter(team_members::user_id.eq_any(&ids))
        .select((team_members::user_id, team_members::team_id))
        .load(conn)?;
    for (user_id, team_id) in team_rows {
        teams.entry(user_id).or_default().push(team_id);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut skills = skills.remove(&row.id).unwrap_or_default();
            skills.sort();
            let mut team_ids = teams.remove(&row.id).unwrap_or_default();
            team_ids.sort();
            UserRecord {
                row,
                skills,
                team_ids,
            }
        })
        .collect())
}

pub fn list(
    conn: &mut DbConnection,
    filter: &UserFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table
        .select(UserRow::as_select())
        .order(users::id.asc())
        .into_boxed();
    if let Some(role) = filter.role {
        query = query.filter(users::role.eq(role.as_str()));
    }
    if let Some(active) = filter.active {
        query = query.filter(users::active.eq(active));
    }
    if let Some(team_id) = &filter.team_id {
        let members = team_members::table
            .filter(team_members::team_id.eq(team_id.clone()))
            .select(team_members::user_id);
        query = query.filter(users::id.eq_any(members));
    }
    if let Some(after) = after {
        query = query.filter(users::id.gt(after.to_owned()));
    }
    query.limit(limit).load(conn)
}

pub fn update(conn: &mut DbConnection, id: &str, changes: &UserChanges) -> QueryResult<()> {
    let updated = diesel::update(users::table.find(id))
        .set(changes)
        .execute(conn)?;
    if updated == 0 {
        return Err(diesel::result::Error::NotFound);
    }
    Ok(())
}

pub fn replace_skills(conn: &mut DbConnection, user_id: &str, skills: &[Skill]) -> QueryResult<()> {
    diesel::delete(user_skills::table.filter(user_skills::user_id.eq(user_id))).execute(conn)?;
    for skill in skills {
        diesel::insert_into(user_skills::table)
            .values((
                user_skills::user_id.eq(user_id),
                user_skills::skill.eq(skill.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn replace_teams(
    conn: &mut DbConnection,
    user_id: &str,
    team_ids: &[String],
) -> QueryResult<()> {
    diesel::delete(team_members::table.filter(team_members::user_id.eq(user_id))).execute(conn)?;
    for team_id in team_ids {
        diesel::insert_into(team_members::table)
            .values((
                team_members::team_id.eq(team_id),
                team_members::user_id.eq(user_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn count_active_admins(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        .count()
        .get_result(conn)
}
