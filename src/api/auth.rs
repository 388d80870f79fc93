//! Sign-in, token refresh (rotating, with re-use detection) and sign-out.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::api::browser_session as browser;
use crate::api::extract::JsonBody;
use crate::api::state::AppState;
use crate::auth::{password, secrets};
use crate::domain::accounts::normalise_email;
use crate::error::ApiError;
use crate::store;
use crate::workflows::sessions::{self, Account, Attempt, NewRefreshToken, Refreshed};

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254))]
    #[schema(min_length = 1, max_length = 254)]
    pub email: String,
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub password: String,
    /// Where the refresh token goes: `body` (the default) or `cookie`.
    #[serde(default)]
    pub session: SessionMode,
}

/// How a client keeps its refresh token.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionMode {
    /// In the answer's body, for clients that store it themselves.
    #[default]
    Body,
    /// In an `HttpOnly` cookie that scripts cannot read: for a web page.
    Cookie,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Required unless the browser sends the session cookie.
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512, nullable = false)]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Single use: exchange it at /auth/refresh for a new pair. Absent when
    /// the session is kept in the cookie (it is in the cookie instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub refresh_token: Option<String>,
    /// Cookie sessions only: seconds without activity after which the web
    /// client signs its user out (`auth.idle_timeout_seconds`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub idle_timeout_seconds: Option<i64>,
    /// An administrator set this account's password: change it at
    /// `POST /api/v1/me/password` first. Until then this access token opens
    /// only `GET /api/v1/me` and that change (refresh and sign-out take the
    /// refresh token as usual); everything else answers 403
    /// `/problems/password-change-required`. As on `GET /api/v1/me`.
    pub password_change_required: bool,
}

const BAD_CREDENTIALS: &str = "the email or password is not correct";

const BAD_REFRESH: &str = "the refresh token is invalid, expired or already used";

/// The caller's address as the rate limits see it (through trusted proxies).
pub(crate) fn client_address(state: &AppState, req: &HttpRequest) -> String {
    state
        .limits
        .client_address(req)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// The answer to a sign-in or refresh: the refresh token in the body, or in
/// the cookie (and the idle timeout the web client applies) for a browser.
fn tokens(
    state: &AppState,
    account: &Account,
    session_id: &str,
    refresh_token: String,
    mode: SessionMode,
) -> Result<HttpResponse, ApiError> {
    let auth = &state.settings.auth;
    let access_token = state
        .keys
        .issue(
            &account.user_id,
            account.role.as_str(),
            session_id,
            chrono::Utc::now(),
        )
        .map_err(ApiError::internal)?;
    let mut response = HttpResponse::Ok();
    let (refresh_token, idle_timeout_seconds) = match mode {
        SessionMode::Body => (Some(refresh_token), None),
        SessionMode::Cookie => {
            browser::set_refresh_cookie(
                &mut response,
                &refresh_token,
                auth.refresh_token_ttl_seconds,
            );
            (None, Some(auth.idle_timeout_seconds))
        }
    };
    Ok(response.json(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.keys.ttl_seconds,
        refresh_token,
        idle_timeout_seconds,
        password_change_required: account.password_change_required,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/auth/login", tag = "auth",
    operation_id = "sign_in",
    summary = "Sign in with email and password",
    description = "Public. Exchanges a person's email and password for a short-lived JWT access token and a refresh token that starts a session. A wrong password, an unknown email and a disabled account all answer the same 401. When the answer says `password_change_required: true`, an administrator set the password: the client must have its user change it (`POST /api/v1/me/password`) before anything but `GET /api/v1/me`, refresh and sign-out, which answer 403 `/problems/password-change-required` until then. Repeated failures for the account or from the address are throttled with 429 and Retry-After.\n\n\
Browser mode: a web page sends `\"session\": \"cookie\"` (a body field, so the choice is explicit in the request that starts the session and needs no other parameter). The refresh token is then left out of the body and set in a cookie scripts cannot read: `__Secure-nru-refresh`, `HttpOnly; Secure; SameSite=Strict`, `Max-Age` the refresh token's lifetime, set twice with `Path=/api/v1/auth/refresh` and `Path=/api/v1/auth/logout` so only those two endpoints receive it. The page keeps the access token in memory only and refreshes with the cookie. The answer also carries `idle_timeout_seconds`: the page signs its user out after that long without activity (warning first); the server's own bound is the refresh token, which expires `auth.refresh_token_ttl_seconds` after the last refresh.",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in. In browser mode the refresh token is in the cookie, not the body", body = TokenResponse,
         headers(("Set-Cookie" = String, description = "Browser mode only: the refresh token cookie, once for each of its two paths"))),
        (status = 401, description = "Wrong email or password, or a disabled account (indistinguishable)",
         body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts for this account or address",
         body = crate::error::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let email_key = normalise_email(&body.email);
    let address = client_address(&state, &req);
    let auth = &state.settings.auth;
    let attempt = Attempt::begin(&state.db, auth, &email_key, &address, state.clock.now()).await?;
    let user = state
        .db
        .read(move |conn| Ok(store::users::find_by_email(conn, &email_key)?))
        .await?;
    let candidate = body.password;
    // Every branch pays for one hash check, so timing does not reveal whether the email exists.
    let verified = web::block(move || match user {
        Some(user) => {
            let matches = password::verify(&candidate, &user.password_hash);
            (matches && user.active).then_some(user)
        }
        None => {
            password::verify_against_dummy(&candidate);
            None
        }
    })
    .await
    .map_err(ApiError::internal)?;
    let Some(user) = verified else {
        return Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()));
    };
    let refresh_token = secrets::generate();
    let refresh_digest = secrets::digest(&refresh_token);
    let refresh_ttl = Duration::seconds(auth.refresh_token_ttl_seconds);
    let user_id = user.id.clone();
    let now = state.clock.now();
    let session_id = state
        .db
        .write(move |conn| {
            let refresh = NewRefreshToken {
                digest: &refresh_digest,
                ttl: refresh_ttl,
            };
            sessions::start(conn, &attempt, &user_id, refresh, now)
        })
        .await?;
    tracing::info!(user_id = %user.id, "signed in");
    let account = Account {
        user_id: user.id,
        role: user.role,
        password_change_required: user.password_change_required,
    };
    tokens(&state, &account, &session_id, refresh_token, body.session)
}
#[utoipa::path(
    post, path = "/api/v1/auth/refresh", tag = "auth",
    operation_id = "refresh_session",
    summary = "Exchange a refresh token for new tokens",
    description = "Public (the refresh token is the credential). Returns a new access token and a new refresh token; the one sent is spent. Presenting a spent refresh token again is treated as theft and ends the whole session (401).\n\n\
Browser mode: a page that signed in with `\"session\": \"cookie\"` sends the JSON body `{}` (a JSON body, so another site's form cannot send it) and the browser adds the `__Secure-nru-refresh` cookie. The new refresh token replaces it in the cookie and stays out of the body, and the answer repeats `idle_timeout_seconds`. A cookie is accepted only from this service's pages: `Origin` must be `server.public_origin` or one of `server.cors_allowed_origins` (or, without `Origin`, `Sec-Fetch-Site` must be `same-origin`), and `Sec-Fetch-Site: cross-site` is refused; otherwise 403. A body token wins over the cookie. Pages in several tabs must take turns to refresh: two refreshes with the same cookie look like theft and end the session.",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access token and a new refresh token (in the cookie when the cookie was sent); the one sent is spent", body = TokenResponse,
         headers(("Set-Cookie" = String, description = "When the cookie was sent: the new refresh token, once for each of the cookie's two paths"))),
        (status = 401, description = "No refresh token, or an invalid, expired or re-used one; re-use ends the whole session",
         body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The session cookie came from a page that is not this service's (`Origin` or `Sec-Fetch-Site`)",
         body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn refresh_tokens(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let token = browser::presented(&req, body.refresh_token, &state.settings.server)?;
    // The answer goes back the way the token came.
    let mode = match token {
        browser::Presented::Body(_) => SessionMode::Body,
        browser::Presented::Cookie(_) => SessionMode::Cookie,
    };
    let presented = secrets::digest(token.token());
    let next_token = secrets::generate();
    let next_digest = secrets::digest(&next_token);
    let refresh_ttl = Duration::seconds(state.settings.auth.refresh_token_ttl_seconds);
    let now = state.clock.now();
    let outcome = state
        .db
        .write(move |conn| {
            let next = NewRefreshToken {
                digest: &next_digest,
                ttl: refresh_ttl,
            };
            sessions::rotate(conn, &presented, next, now)
        })
        .await?;
    match outcome {
        Refreshed::Rotated {
            account,
            session_id,
        } => tokens(&state, &account, &session_id, next_token, mode),
        Refreshed::Refused => Err(ApiError::Unauthorized(BAD_REFRESH.into())),
    }
}

#[utoipa::path(
    post, path = "/api/v1/auth/logout", tag = "auth",
    operation_id = "sign_out",
    summary = "End a session",
    description = "Public (the refresh token is the credential). Ends the session the refresh token belongs to: its refresh and access tokens stop working at once. An unknown or spent token also gets 204, so the answer reveals nothing.\n\n\
Browser mode: the page sends the JSON body `{}` and the browser adds the `__Secure-nru-refresh` cookie, checked as at /auth/refresh (`Origin` or `Sec-Fetch-Site`; 403 otherwise). Every 204 clears the cookie (`Max-Age=0` on both its paths), whichever way the token came.",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The session has ended: its refresh and access tokens no longer work. \
            An unknown token is accepted too, so the answer reveals nothing.",
         headers(("Set-Cookie" = String, description = "Clears the refresh token cookie on both its paths"))),
        (status = 401, description = "No refresh token: neither in the body nor in the cookie",
         body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The session cookie came from a page that is not this service's (`Origin` or `Sec-Fetch-Site`)",
         body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: JsonBody<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    let token = browser::presented(&req, body.refresh_token, &state.settings.server)?;
    let presented = secrets::digest(token.token());
    let now = state.clock.now();
    state
        .db
        .write(move |conn| sessions::end(conn, &presented, now))
        .await?;
    // Whichever way the token came, a browser holding the cookie drops it.
    let mut response = HttpResponse::NoContent();
    browser::clear_refresh_cookie(&mut response);
    Ok(response.finish())
}
