//! Account changes shared by the API, the CLI, bootstrap and the demo seed:
//! each checks the profile against the role and writes it in the caller's
//! transaction.

use chrono::NaiveDateTime;

use crate::db::DbConnection;
use crate::domain::accounts::{
    display_name_problem, normalise_email, profile_problems, Organisation, ProfileShape, Region,
    Role, Skill,
};
use crate::error::{ApiError, FieldError};
use crate::store::users::{UserChanges, UserRecord, UserRow};
use crate::store::{self, teams};

/// Everything needed to create an account except the password, which is hashed beforehand.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub organisation: Option<Organisation>,
    pub region: Option<Region>,
    pub skills: Vec<Skill>,
    pub team_ids: Vec<String>,
    pub available: bool,
    pub max_open_requests: Option<i32>,
    /// The password is one an admin chose: the person must change it at
    /// their first sign-in. Never set by the CLI, bootstrap or demo seed.
    pub password_change_required: bool,
}

/// A partial update; `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct AccountChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub organisation: Option<Option<Organisation>>,
    pub region: Option<Option<Region>>,
    pub skills: Option<Vec<Skill>>,
    pub team_ids: Option<Vec<String>>,
    pub available: Option<bool>,
    pub max_open_requests: Option<Option<i32>>,
}

/// Checks the profile against the role and, when it is being set, the
/// display name (it ends up in email headers), naming every bad field.
/// Every way of creating or renaming someone (API, CLI, bootstrap, demo
/// seed) comes through here.
fn check_profile(
    role: Role,
    shape: &ProfileShape,
    display_name: Option<&str>,
) -> Result<(), ApiError> {
    let mut problems = profile_problems(role, shape);
    if let Some(problem) = display_name.and_then(display_name_problem) {
        problems.insert(0, ("display_name", problem));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(ApiError::Validation(
        problems
            .into_iter()
            .map(|(f, m)| FieldError::new(f, m))
            .collect(),
    ))
}

fn check_teams_exist(conn: &mut DbConnection, team_ids: &[String]) -> Result<(), ApiError> {
    let missing = teams::missing(conn, team_ids)?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::field(
            "team_ids",
            format!("no such team: {}", missing.join(", ")),
        ))
    }
}

fn dedup<T: Ord + Clone>(items: &[T]) -> Vec<T> {
    let mut out = items.to_vec();
    out.sort();
    out.dedup();
    out
}

pub fn create(
    conn: &mut DbConnection,
    account: &NewAccount,
    password_hash: String,
    now: NaiveDateTime,
) -> Result<UserRecord, ApiError> {
    check_profile(
        account.role,
        &ProfileShape {
            has_organisation: account.organisation.is_some(),
            has_region: account.region.is_some(),
            has_skills: !account.skills.is_empty(),
            has_teams: !account.team_ids.is_empty(),
            has_load_limit: account.max_open_requests.is_some(),
            available: account.available,
        },
        Some(&account.display_name),
    )?;
    let team_ids = dedup(&account.team_ids);
    check_teams_exist(conn, &team_ids)?;
    let row = UserRow {
        id: store::new_id(),
        email: normalise_email(&account.email),
        display_name: account.display_name.trim().to_owned(),
        role: account.role,
        organisation: account.organisation.map(|o| o.as_str().to_owned()),
        region: account.region.map(|r| r.as_str().to_owned()),
        password_hash,
        active: true,
        available: account.available,
        max_open_requests: account.max_open_requests,
        created_at: now,
        updated_at: now,
        password_change_required: account.password_change_required,
    };
    if !store::users::insert(conn, &row)? {
        return Err(ApiError::conflict("a user with this email already exists"));
    }
    store::users::replace_skills(conn, &row.id, &dedup(&account.skills))?;
    store::users::replace_teams(conn, &row.id, &team_ids)?;
    store::users::load_record(conn, &row.id)?.ok_or(ApiError::NotFound)
}

/// Applies `changes` by `actor_id`; an admin may not demote themself, and the
/// last active admin may not be demoted.
pub fn update(
    conn: &mut DbConnection,
    actor_id: &str,
    id: &str,
    changes: &AccountChanges,
    now: NaiveDateTime,
) -> Result<UserRecord, ApiError> {
    let current = store::users::load_record(conn, id)?.ok_or(ApiError::NotFound)?;
    let current_role = current.row.role;
    let role = changes.role.unwrap_or(current_role);
    if role != current_role && current_role == Role::Admin {
        if actor_id == id {
            return Err(ApiError::conflict("you cannot change your own role"));
        }
        guard_last_admin(conn)?;
    }
    let organisation = changes.organisation.unwrap_or_else(|| {
        current
            .row
            .organisation
            .as_deref()
            .and_then(Organisation::parse)
    });
    let region = changes
        .region
        .unwrap_or_else(|| current.row.region.as_deref().and_then(Region::parse));
    let skills = changes
        .skills
        .as_deref()
        .map(dedup)
        .unwrap_or(current.skills.clone());
    let team_ids = changes
        .team_ids
        .as_deref()
        .map(dedup)
        .unwrap_or(current.team_ids.clone());
    let available = changes.available.unwrap_or(current.row.available);
    let max_open_requests = changes
        .max_open_requests
        .unwrap_or(current.row.max_open_requests);
    check_profile(
        role,
        &ProfileShape {
            has_organisation: organisation.is_some(),
            has_region: region.is_some(),
            has_skills: !skills.is_empty(),
            has_teams: !team_ids.is_empty(),
            has_load_limit: max_open_requests.is_some(),
            available,
        },
        changes.display_name.as_deref(),
    )?;
    if changes.team_ids.is_some() {
        check_teams_exist(conn, &team_ids)?;
        store::users::replace_teams(conn, id, &team_ids)?;
    }
    if changes.skills.is_some() {
        store::users::replace_skills(conn, id, &skills)?;
    }
    store::users::update(
        conn,
        id,
        &UserChanges {
            display_name: changes.display_name.as_deref().map(|n| n.trim().to_owned()),
            role: changes.role,
            organisation: changes
                .organisation
                .map(|o| o.map(|o| o.as_str().to_owned())),
            region: changes.region.map(|r| r.map(|r| r.as_str().to_owned())),
            available: changes.available,
            max_open_requests: changes.max_open_requests,
            updated_at: Some(now),
            ..Default::default()
        },
    )?;
    store::users::load_record(conn, id)?.ok_or(ApiError::NotFound)
}

fn guard_last_admin(conn: &mut DbConnection) -> Result<(), ApiError> {
    if store::users::count_active_admins(conn)? <= 1 {
        return Err(ApiError::conflict("this is the last active admin account"));
    }
    Ok(())
}

/// Enables or disables an account; disabling ends all its sessions at once.
pub fn set_active(
    conn: &mut DbConnection,
    actor_id: &str,
    id: &str,
    active: bool,
    now: NaiveDateTime,
) -> Result<UserRecord, ApiError> {
    let current = store::users::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if !active && current.active {
        if actor_id == id {
            return Err(ApiError::conflict("you cannot disable your own account"));
        }
        if current.role == Role::Admin {
            guard_last_admin(conn)?;
        }
    }
    store::users::update(
        conn,
        id,
        &UserChanges {
            active: Some(active),
            updated_at: Some(now),
            ..Default::default()
        },
    )?;
    if !active {
        store::sessions::revoke_all_for_user_except(conn, id, None, "account disabled", now)?;
    }
    store::users::load_record(conn, id)?.ok_or(ApiError::NotFound)
}

/// Replaces a password hash, with whether the person must change it before
/// anything else (true only for one an admin chose for them); every session
/// but `keep_session` ends.
pub fn set_password_hash(
    conn: &mut DbConnection,
    id: &str,
    password_hash: String,
    change_required: bool,
    keep_session: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    store::users::update(
        conn,
        id,
        &UserChanges {
            password_hash: Some(password_hash),
            password_change_required: Some(change_required),
            updated_at: Some(now),
            ..Default::default()
        },
    )?;
    Ok(store::sessions::revoke_all_for_user_except(
        conn,
        id,
        keep_session,
        "password changed",
        now,
    )?)
}
