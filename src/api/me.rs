//! The signed-in person's own account.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::api::auth::client_address;
use crate::api::extract::JsonBody;
use crate::api::hash_password;
use crate::api::state::AppState;
use crate::api::users::{check_password, User};
use crate::auth::{password, Caller, OwnAccountCaller};
use crate::domain::accounts::{normalise_email, Role};
use crate::error::ApiError;
use crate::store;
use crate::workflows::accounts::{self, AccountChanges};
use crate::workflows::sessions::Attempt;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAvailability {
    /// Whether you take new work now.
    pub available: bool,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[validate(length(min = 1, max = 256))]
    #[schema(min_length = 1, max_length = 256)]
    pub current_password: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256, pattern = r"\S")]
    pub new_password: String,
}

async fn load(state: &AppState, user_id: String) -> Result<User, ApiError> {
    let record = state
        .db
        .read(move |conn| Ok(store::users::load_record(conn, &user_id)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    User::try_from(record)
}

#[utoipa::path(
    get, path = "/api/v1/me", tag = "me",
    operation_id = "get_my_account",
    summary = "Get your own account",
    description = "Any signed-in person, also one who must change their password first. Your account: role, teams, skills, for specialists availability and load limit, and `password_change_required`: while it is true, an administrator set your password and everything but this, `POST /api/v1/me/password`, `/auth/refresh` and `/auth/logout` answers 403 `/problems/password-change-required`.",
    responses((status = 200, description = "Your account", body = User)),
    security(("bearer" = []))
)]
pub async fn me(
    state: web::Data<AppState>,
    OwnAccountCaller(caller): OwnAccountCaller,
) -> Result<web::Json<User>, ApiError> {
    Ok(web::Json(load(&state, caller.user_id).await?))
}

#[utoipa::path(
    put, path = "/api/v1/me/availability", tag = "me",
    operation_id = "set_my_availability",
    summary = "Set your availability",
    description = "Specialists and coordinators. Whether you are available for automatic assignment; unavailable staff are passed over but keep what they hold.",
    request_body = SetAvailability,
    responses((status = 200, description = "Your account, updated", body = User)),
    security(("bearer" = []))
)]
pub async fn set_availability(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<SetAvailability>,
) -> Result<web::Json<User>, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Specialist, Role::Coordinator])?;
    let body = body.into_inner()?;
    let changes = AccountChanges {
        available: Some(body.available),
        ..Default::default()
    };
    let triage = state.triage.clone();
    let record = state
        .db
        .write(move |conn| {
            let record = accounts::update(conn, &caller.user_id, &caller.user_id, &changes, now)?;
            // Someone free again may take work that was waiting in a least-loaded team.
            if record.row.available {
                for team_id in &record.team_ids {
                    crate::workflows::routing::rebalance_team(conn, team_id, &triage, now)?;
                }
            }
            Ok(record)
        })
        .await?;
    Ok(web::Json(User::try_from(record)?))
}

#[utoipa::path(
    post, path = "/api/v1/me/password", tag = "me",
    operation_id = "change_my_password",
    summary = "Change your password",
    description = "Any signed-in person, with the current password, also one who must change their password first. The new one must meet the password rules (422); your other sessions end, and `password_change_required` is cleared, which opens the rest of the API to this session. A wrong current password is refused and repeated failures are throttled.",
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; your other sessions have ended and no password change is required any more"),
        (status = 429, description = "Too many wrong current passwords for this account; wrong ones count with failed sign-ins",
         body = crate::error::Problem, content_type = "application/problem+json",
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("bearer" = []))
)]
pub async fn change_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    OwnAccountCaller(caller): OwnAccountCaller,
    body: JsonBody<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner()?;
    check_password("new_password", &body.new_password)?;
    let user_id = caller.user_id.clone();
    let user = state
        .db
        .read(move |conn| Ok(store::users::find(conn, &user_id)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    // The same budget as signing in: a stolen access token gets no more
    // guesses at the password here than at the sign-in form.
    let address = client_address(&state, &req);
    let attempt = Attempt::begin(
        &state.db,
        &state.settings.auth,
        &normalise_email(&user.email),
        &address,
        state.clock.now(),
    )
    .await?;
    let (current, stored) = (body.current_password, user.password_hash);
    let matches = web::block(move || password::verify(&current, &stored))
        .await
        .map_err(ApiError::internal)?;
    if !matches {
        return Err(ApiError::field(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = hash_password(body.new_password).await?;
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            attempt.succeeded(conn)?;
            accounts::set_password_hash(
                conn,
                &caller.user_id,
                hash,
                false,
                Some(&caller.session_id),
                now,
            )
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
