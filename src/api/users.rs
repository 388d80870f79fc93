//! Users administration (admin only) and the shared user representation.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{double_option, JsonBody, QueryParams};
use crate::api::pagination::{Page, PageRequest};
use crate::api::state::AppState;
use crate::api::uuid_id;
use crate::api::{hash_password, not_blank};
use crate::auth::Caller;
use crate::domain::accounts::{password_problem, Organisation, Region, Role, Skill};
use crate::error::ApiError;
use crate::store::users::{UserFilter, UserRecord};
use crate::workflows::accounts::{self, AccountChanges, NewAccount};

/// A person with access to the service.
#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: String,
    #[schema(format = Email)]
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Practitioners only.
    pub organisation: Option<Organisation>,
    /// Practitioners only.
    pub region: Option<Region>,
    /// Disabled accounts cannot sign in.
    pub active: bool,
    /// Specialists and coordinators: whether they take new work now.
    pub available: bool,
    /// Specialists and coordinators: most open requests they hold at once.
    pub max_open_requests: Option<i32>,
    pub skills: Vec<Skill>,
    pub team_ids: Vec<String>,
    /// An administrator set the password and the person must change it
    /// (`POST /api/v1/me/password`) before anything else: until then only
    /// `GET /api/v1/me`, that change, `/auth/refresh` and `/auth/logout` are
    /// open to them; everything else answers 403
    /// `/problems/password-change-required`.
    pub password_change_required: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<UserRecord> for User {
    type Error = ApiError;

    fn try_from(record: UserRecord) -> Result<User, ApiError> {
        let row = record.row;
        let corrupt =
            |what: &str| ApiError::internal(format!("user {} has an unknown {what}", row.id));
        Ok(User {
            role: row.role,
            organisation: row
                .organisation
                .as_deref()
                .map(|o| Organisation::parse(o).ok_or_else(|| corrupt("organisation")))
                .transpose()?,
            region: row
                .region
                .as_deref()
                .map(|r| Region::parse(r).ok_or_else(|| corrupt("region")))
                .transpose()?,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            active: row.active,
            available: row.available,
            max_open_requests: row.max_open_requests,
            skills: record.skills,
            team_ids: record.team_ids,
            password_change_required: row.password_change_required,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[validate(email(message = "must be a valid email address"), length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    #[validate(length(min = 1, max = 120), custom(function = "not_blank"))]
    // Not blank, and no control characters or line separators: names reach
    // email headers (`display_name_problem`).
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u2028\u2029]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F\u2028\u2029]*$"
    )]
    pub display_name: String,
    pub role: Role,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256, pattern = r"\S")]
    pub password: String,
    /// Required for practitioners; refused for other roles.
    pub organisation: Option<Organisation>,
    /// Required for practitioners; refused for other roles.
    pub region: Option<Region>,
    /// Specialists and coordinators only.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub skills: Vec<Skill>,
    /// Specialists and coordinators only; each must name an existing team.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub team_ids: Vec<String>,
    /// Specialists and coordinators only.
    #[serde(default)]
    pub available: bool,
    /// Specialists and coordinators only.
    #[validate(range(min = 1, max = 500))]
    #[schema(minimum = 1, maximum = 500)]
    pub max_open_requests: Option<i32>,
    /// The password is a one-time one: the person must change it at their
    /// first sign-in before they can do anything else. Default false.
    #[serde(default)]
    pub password_change_required: bool,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[validate(length(min = 1, max = 120), custom(function = "not_blank"))]
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1F\x7F-\x9F\u2028\u2029]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F\u2028\u2029]*$"
    )]
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Organisation>)]
    pub organisation: Option<Option<Organisation>>,
    /// null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Region>)]
    pub region: Option<Option<Region>>,
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub skills: Option<Vec<Skill>>,
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub team_ids: Option<Vec<String>>,
    pub available: Option<bool>,
    /// null clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 1, max = 500))]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 500)]
    pub max_open_requests: Option<Option<i32>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPassword {
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256, pattern = r"\S")]
    pub password: String,
    /// The password is a one-time one: the person must change it at their
    /// next sign-in before they can do anything else. Default false, which
    /// also lifts an earlier requirement.
    #[serde(default)]
    pub password_change_required: bool,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    pub role: Option<Role>,
    /// Members of this team.
    #[validate(custom(function = "uuid_id"))]
    pub team_id: Option<String>,
    pub active: Option<bool>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

pub(crate) fn to_users(page: Page<UserRecord>) -> Result<Page<User>, ApiError> {
    let items = page
        .items
        .into_iter()
        .map(User::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}

/// The password rules, reported against `field`.
pub(crate) fn check_password(field: &str, password: &str) -> Result<(), ApiError> {
    match password_problem(password) {
        Some(problem) => Err(ApiError::field(field, problem)),
        None => Ok(()),
    }
}

#[utoipa::path(
    post, path = "/api/v1/users", tag = "users",
    operation_id = "create_user",
    summary = "Create a user",
    description = "Admins only. Creates a practitioner, specialist, coordinator or admin account with an initial password. With `password_change_required: true` it is a one-time password: the person signs in with it and must change it (`POST /api/v1/me/password`) before anything else. 409 if the email is taken; 422 names each invalid field.",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = User,
         headers(("Location" = String, description = "URL of the new user"))),
        (status = 409, description = "The email is taken", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let body = body.into_inner()?;
    check_password("password", &body.password)?;
    let hash = hash_password(body.password).await?;
    let account = NewAccount {
        email: body.email,
        display_name: body.display_name,
        role: body.role,
        organisation: body.organisation,
        region: body.region,
        skills: body.skills,
        team_ids: body.team_ids,
        available: body.available,
        max_open_requests: body.max_open_requests,
        password_change_required: body.password_change_required,
    };
    let now = state.clock.now();
    let record = state
        .db
        .write(move |conn| accounts::create(conn, &account, hash, now))
        .await?;
    let user = User::try_from(record)?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)))
        .json(user))
}

#[utoipa::path(
    get, path = "/api/v1/users", tag = "users",
    operation_id = "list_users",
    summary = "List users",
    description = "Admins only. Users, filterable by role, team and whether active.",
    params(UserListQuery),
    responses((status = 200, description = "A page of users", body = Page<User>)),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<UserListQuery>,
) -> Result<web::Json<Page<User>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = UserFilter {
        role: query.role,
        team_id: query.team_id,
        active: query.active,
    };
    let records = state
        .db
        .read(move |conn| {
            let rows =
                crate::store::users::list(conn, &filter, page.after.as_deref(), page.fetch())?;
            let rows = page.page(rows, |r| &r.id);
            let records = crate::store::users::with_profiles(conn, rows.items)?;
            Ok(Page {
                items: records,
                next_cursor: rows.next_cursor,
            })
        })
        .await?;
    Ok(web::Json(to_users(records)?))
}

#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "users",
    operation_id = "get_user",
    summary = "Get a user",
    description = "Admins only. One user account.",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "The user", body = User)),
    security(("bearer" = []))
)]
pub async fn read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<User>, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = id.into_inner();
    let record = state
        .db
        .read(move |conn| Ok(crate::store::users::load_record(conn, &id)?))
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(web::Json(User::try_from(record)?))
}

#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "users",
    operation_id = "update_user",
    summary = "Update a user",
    description = "Admins only. Changes the fields sent; absent fields stay. 409 if it would demote yourself or the last admin.",
    params(("id" = String, Path, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "The updated user", body = User),
        (status = 409, description = "Would demote yourself or the last admin", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<UpdateUser>,
) -> Result<web::Json<User>, ApiError> {
    caller.require(&[Role::Admin])?;
    let body = body.into_inner()?;
    let changes = AccountChanges {
        display_name: body.display_name,
        role: body.role,
        organisation: body.organisation,
        region: body.region,
        skills: body.skills,
        team_ids: body.team_ids,
        available: body.available,
        max_open_requests: body.max_open_requests,
    };
    let id = id.into_inner();
    let now = state.clock.now();
    let record = state
        .db
        .write(move |conn| accounts::update(conn, &caller.user_id, &id, &changes, now))
        .await?;
    Ok(web::Json(User::try_from(record)?))
}

async fn set_active(
    state: web::Data<AppState>,
    caller: Caller,
    id: String,
    active: bool,
) -> Result<web::Json<User>, ApiError> {
    caller.require(&[Role::Admin])?;
    let now = state.clock.now();
    let record = state
        .db
        .write(move |conn| accounts::set_active(conn, &caller.user_id, &id, active, now))
        .await?;
    Ok(web::Json(User::try_from(record)?))
}

#[utoipa::path(
    post, path = "/api/v1/users/{id}/disable", tag = "users",
    operation_id = "disable_user",
    summary = "Disable a user",
    description = "Admins only. The user can no longer sign in and every session of theirs ends at once. 409 for yourself or the last admin.",
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "Disabled; every session of the user has ended", body = User),
        (status = 409, description = "Would disable yourself or the last admin", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn disable(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<User>, ApiError> {
    set_active(state, caller, id.into_inner(), false).await
}

#[utoipa::path(
    post, path = "/api/v1/users/{id}/enable", tag = "users",
    operation_id = "enable_user",
    summary = "Enable a user",
    description = "Admins only. Lets a disabled user sign in again.",
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, description = "Enabled", body = User)),
    security(("bearer" = []))
)]
pub async fn enable(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<User>, ApiError> {
    set_active(state, caller, id.into_inner(), true).await
}

#[utoipa::path(
    put, path = "/api/v1/users/{id}/password", tag = "users",
    operation_id = "set_user_password",
    summary = "Set a user's password",
    description = "Admins only. Sets a new password for someone else and ends all their sessions. With `password_change_required: true` it is a one-time password: the person must change it (`POST /api/v1/me/password`) before anything else at their next sign-in; without it (false), any such requirement is lifted. Your own password is changed at /api/v1/me/password (409 here).",
    params(("id" = String, Path, description = "User id")),
    request_body = SetPassword,
    responses(
        (status = 204, description = "Password set; every session of the user has ended"),
        (status = 409, description = "Your own password is changed at /api/v1/me/password", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set_password(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<SetPassword>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let body = body.into_inner()?;
    let id = id.into_inner();
    if id == caller.user_id {
        // This would end the admin's own session; /me/password keeps it and checks the current password.
        return Err(ApiError::conflict(
            "change your own password at /api/v1/me/password",
        ));
    }
    check_password("password", &body.password)?;
    let change_required = body.password_change_required;
    let hash = hash_password(body.password).await?;
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            crate::store::users::find(conn, &id)?.ok_or(ApiError::NotFound)?;
            accounts::set_password_hash(conn, &id, hash, change_required, None, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
