//! Sign-in sessions and their rotating refresh tokens (one family per session).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::accounts::Role;

use crate::db::schema::{refresh_tokens, sessions, users};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshRow {
    pub id: String,
    pub session_id: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub fn create(
    conn: &mut DbConnection,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(id),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn add_refresh_token(
    conn: &mut DbConnection,
    session_id: &str,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(super::new_id()),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::created_at.eq(now),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A refresh token with its session's owner and whether the session is revoked.
pub struct RefreshLookup {
    pub token: RefreshRow,
    pub user_id: String,
    pub session_revoked: bool,
}

pub fn find_refresh(
    conn: &mut DbConnection,
    token_hash: &str,
) -> QueryResult<Option<RefreshLookup>> {
    let found: Option<(RefreshRow, String, Option<NaiveDateTime>)> = refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((
            RefreshRow::as_select(),
            sessions::user_id,
            sessions::revoked_at,
        ))
        .first(conn)
        .optional()?;
    Ok(found.map(|(token, user_id, revoked_at)| RefreshLookup {
        token,
        user_id,
        session_revoked: revoked_at.is_some(),
    }))
}

/// Marks a token used if nobody has yet; false means it was already spent
/// (re-use, or a concurrent refresh that won the race).
pub fn spend_refresh(
    conn: &mut DbConnection,
    token_id: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let updated = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(token_id))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(updated == 1)
}

pub fn revoke(
    conn: &mut DbConnection,
    session_id: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(now),
        sessions::revoked_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(())
}

/// Ends every live session of a user, except `keep` (the caller's own, say).
pub fn revoke_all_for_user_except(
    conn: &mut DbConnection,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let mut target = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .select(sessions::id)
        .into_boxed();
    if let Some(keep) = keep {
        target = target.filter(sessions::id.ne(keep.to_owned()));
    }
    let ids: Vec<String> = target.load(conn)?;
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(sessions::table.filter(sessions::id.eq_any(&ids)))
        .set((
            sessions::revoked_at.eq(now),
            sessions::revoked_reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(())
}

/// What a live session's account may do now, read on every call.
#[derive(Debug, Clone, Queryable)]
pub struct LiveAccount {
    /// The role as stored now.
    pub role: Role,
    /// The account must change a password an admin set before anything else.
    pub password_change_required: bool,
}

/// The account of an active user whose session is live, or `None`.
pub fn live_account(
    conn: &mut DbConnection,
    user_id: &str,
    session_id: &str,
) -> QueryResult<Option<LiveAccount>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(users::active.eq(true))
        .select((users::role, users::password_change_required))
        .first(conn)
        .optional()
}

/// Forgets refresh tokens that expired before `now` (spent ones are kept
/// until then, so a replayed token is still recognised); returns how many.
pub fn forget_expired_refresh_tokens(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(now))).execute(conn)
}
