//! Sign-in sessions: throttled attempts, a session started with its first
//! refresh token, refresh tokens rotated with re-use detection (a spent
//! token presented again ends the whole session), and sign-out. The HTTP
//! layer reads credentials and cookies and issues access tokens; what is
//! stored, and when a session ends, is decided here.

use chrono::{Duration, NaiveDateTime};

use crate::config::AuthSettings;
use crate::db::{Db, DbConnection};
use crate::domain::throttle::{retry_after, ThrottlePolicy};
use crate::error::ApiError;
use crate::store;

/// A sign-in attempt (or API client secret, or current password) counted
/// as a failure from before its secret is checked until [`Attempt::succeeded`].
pub struct Attempt {
    id: String,
}

impl Attempt {
    /// Checks the throttles for an account (an email, or an API client's
    /// `client:<id>`) and an address, and reserves the attempt in the same
    /// transaction: 429 with `Retry-After` while one of them has failed too
    /// often within the window. Concurrent callers take turns here, so a
    /// burst gets no more tries than the limits allow.
    pub async fn begin(
        db: &Db,
        auth: &AuthSettings,
        key: &str,
        address: &str,
        now: NaiveDateTime,
    ) -> Result<Attempt, ApiError> {
        let policy = ThrottlePolicy {
            max_failures_per_account_address: auth.login_max_failures_per_account_address,
            max_failures_per_account: auth.login_max_failures_per_account,
            max_failures_per_address: auth.login_max_failures_per_address,
            window: Duration::seconds(auth.login_window_seconds),
        };
        let (key, address) = (key.to_owned(), address.to_owned());
        let id = db
            .write(move |conn| {
                store::login_attempts::lock(conn, &key, &address)?;
                let failures =
                    store::login_attempts::failures(conn, &key, &address, now - policy.window)?;
                if let Some(retry_after_seconds) = retry_after(&policy, now, &failures) {
                    return Err(ApiError::TooManyRequests {
                        retry_after_seconds,
                    });
                }
                Ok(store::login_attempts::reserve(conn, &key, &address, now)?)
            })
            .await?;
        Ok(Attempt { id })
    }

    /// The secret was right: the attempt no longer counts, nor do the
    /// account's failures before it. Runs in the caller's transaction.
    pub fn succeeded(&self, conn: &mut DbConnection) -> Result<(), ApiError> {
        Ok(store::login_attempts::mark_succeeded(conn, &self.id)?)
    }
}

/// A refresh token as stored: its digest and how long it lives.
pub struct NewRefreshToken<'a> {
    pub digest: &'a str,
    pub ttl: Duration,
}

/// Starts a session for a person whose password was right, with its first
/// refresh token; returns the session id.
pub fn start(
    conn: &mut DbConnection,
    attempt: &Attempt,
    user_id: &str,
    refresh: NewRefreshToken<'_>,
    now: NaiveDateTime,
) -> Result<String, ApiError> {
    attempt.succeeded(conn)?;
    let session_id = store::new_id();
    store::sessions::create(conn, &session_id, user_id, now)?;
    store::sessions::add_refresh_token(conn, &session_id, refresh.digest, now, now + refresh.ttl)?;
    Ok(session_id)
}

/// Who a sign-in or refresh is for, as stored now.
pub struct Account {
    pub user_id: String,
    pub role: crate::domain::accounts::Role,
    pub password_change_required: bool,
}

/// What a refresh found; a re-use is reported only after the revocation it
/// causes has been committed.
pub enum Refreshed {
    Rotated {
        account: Account,
        session_id: String,
    },
    Refused,
}

/// Spends the refresh token whose digest is `presented` and adds `next` to
/// its session. A token spent before ends the whole session (someone holds
/// a copy); an unknown, expired or revoked one, or a disabled account, is
/// refused.
pub fn rotate(
    conn: &mut DbConnection,
    presented: &str,
    next: NewRefreshToken<'_>,
    now: NaiveDateTime,
) -> Result<Refreshed, ApiError> {
    let Some(found) = store::sessions::find_refresh(conn, presented)? else {
        return Ok(Refreshed::Refused);
    };
    let session_id = found.token.session_id.clone();
    if found.session_revoked {
        return Ok(Refreshed::Refused);
    }
    if !store::sessions::spend_refresh(conn, &found.token.id, now)? {
        tracing::warn!(session_id = %session_id, "refresh token re-used; session revoked");
        store::sessions::revoke(conn, &session_id, "refresh token re-used", now)?;
        return Ok(Refreshed::Refused);
    }
    if found.token.expires_at <= now {
        return Ok(Refreshed::Refused);
    }
    let Some(live) = store::sessions::live_account(conn, &found.user_id, &session_id)? else {
        return Ok(Refreshed::Refused);
    };
    store::sessions::add_refresh_token(conn, &session_id, next.digest, now, now + next.ttl)?;
    Ok(Refreshed::Rotated {
        account: Account {
            user_id: found.user_id,
            role: live.role,
            password_change_required: live.password_change_required,
        },
        session_id,
    })
}

/// Ends the session the refresh token whose digest is `presented` belongs
/// to, if there is one (an unknown token changes nothing).
pub fn end(conn: &mut DbConnection, presented: &str, now: NaiveDateTime) -> Result<(), ApiError> {
    if let Some(found) = store::sessions::find_refresh(conn, presented)? {
        store::sessions::revoke(conn, &found.token.session_id, "signed out", now)?;
    }
    Ok(())
}
