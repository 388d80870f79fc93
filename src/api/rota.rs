//! The duty rota: who is on call when. Coordinators set it; staff read it.
//! Acknowledgement and escalation of immediate-risk requests go by it.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{JsonBody, QueryParams};
use crate::api::pagination::{parse_time_key, time_key, Page, PageRequest};
use crate::api::state::AppState;
use crate::auth::Caller;
use crate::domain::accounts::Role;
use crate::domain::rota::{shift_problem, Duty};
use crate::error::ApiError;
use crate::store;
use crate::store::sla::ShiftRow;

/// One person on one duty for a span of time.
#[derive(Debug, Serialize, ToSchema)]
pub struct Shift {
    pub id: String,
    pub user_id: String,
    pub duty: Duty,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl Shift {
    fn from_row(row: ShiftRow) -> Result<Shift, ApiError> {
        Ok(Shift {
            duty: Duty::parse(&row.duty)
                .ok_or_else(|| ApiError::internal("a stored shift has an unknown duty"))?,
            id: row.id,
            user_id: row.user_id,
            starts_at: row.starts_at.and_utc(),
            ends_at: row.ends_at.and_utc(),
            created_by: row.created_by,
            created_at: row.created_at.and_utc(),
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShift {
    /// A specialist for `on_call_specialist`; a coordinator otherwise.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub user_id: String,
    pub duty: Duty,
    pub starts_at: DateTime<Utc>,
    /// After `starts_at`; a shift lasts at most 31 days.
    pub ends_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RotaQuery {
    /// Shifts still running at or after this instant (default: now).
    pub from: Option<DateTime<Utc>>,
    /// Shifts starting before this instant (default: a week after `from`).
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

const ROTA_READERS: &[Role] = &[Role::Specialist, Role::Coordinator, Role::Admin];
const ROTA_WRITERS: &[Role] = &[Role::Coordinator];

#[utoipa::path(
    get, path = "/api/v1/rota", tag = "rota",
    operation_id = "list_rota_shifts",
    summary = "List duty rota shifts",
    description = "Specialists, coordinators and admins. Shifts overlapping the span, by start: who is on duty or on call for immediate-risk alerts and escalation.",
    params(RotaQuery),
    responses((status = 200, description = "Shifts overlapping the span, by start", body = Page<Shift>)),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<RotaQuery>,
) -> Result<web::Json<Page<Shift>>, ApiError> {
    caller.require(ROTA_READERS)?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let after = parse_time_key(page.after.as_deref())?;
    let from = query
        .from
        .map_or_else(|| state.clock.now(), |t| t.naive_utc());
    let to = match query.to {
        Some(to) => to.naive_utc(),
        None => from
            .checked_add_signed(Duration::days(7))
            .ok_or_else(|| ApiError::bad_query("from", "too far in the future"))?,
    };
    if to <= from {
        return Err(ApiError::bad_query("to", "must be after from"));
    }
    let rows = state
        .db
        .read(move |conn| {
            let rows = store::sla::shifts(conn, from, to, after.as_ref(), page.fetch())?;
            Ok(page.page_by(rows, |row| time_key(row.starts_at, &row.id)))
        })
        .await?;
    let items = rows
        .items
        .into_iter()
        .map(Shift::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(Page {
        items,
        next_cursor: rows.next_cursor,
    }))
}

#[utoipa::path(
    post, path = "/api/v1/rota", tag = "rota",
    operation_id = "add_rota_shift",
    summary = "Add a rota shift",
    description = "Coordinators only. Puts a specialist or coordinator on the duty rota for a span; immediate-risk alerts and escalations go to whoever is on duty. 422 for a span that ends before it starts or a user of the wrong role.",
    request_body = NewShift,
    responses(
        (status = 201, description = "Added to the rota", body = Shift,
         headers(("Location" = String, description = "URL of the shift"))),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: JsonBody<NewShift>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ROTA_WRITERS)?;
    let body = body.into_inner()?;
    let (starts_at, ends_at) = (body.starts_at.naive_utc(), body.ends_at.naive_utc());
    if let Some((field, message)) = shift_problem(starts_at, ends_at) {
        return Err(ApiError::field(field, message));
    }
    let now = state.clock.now();
    let row = ShiftRow {
        id: store::new_id(),
        user_id: body.user_id,
        duty: body.duty.as_str().to_owned(),
        starts_at,
        ends_at,
        created_by: caller.user_id.clone(),
        created_at: now,
    };
    let duty = body.duty;
    let saved = row.clone();
    state
        .db
        .write(move |conn| {
            let user = store::users::find(conn, &row.user_id)?
                .filter(|u| u.active)
                .ok_or_else(|| ApiError::field("user_id", "no active user with this id"))?;
            let role = user.role;
            if !duty.may_be_held_by(role) {
                return Err(ApiError::field(
                    "user_id",
                    format!("a {role} cannot hold the duty {duty}"),
                ));
            }
            store::sla::insert_shift(conn, &row)?;
            Ok(store::audit::append(
                conn,
                Some(&row.created_by),
                "rota.shift_added",
                None,
                json!({"shift_id": row.id, "user_id": row.user_id, "duty": row.duty,
                       "starts_at": row.starts_at, "ends_at": row.ends_at}),
                now,
            )?)
        })
        .await?;
    let shift = Shift::from_row(saved)?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/rota/{}", shift.id)))
        .json(shift))
}

#[utoipa::path(
    delete, path = "/api/v1/rota/{id}", tag = "rota",
    operation_id = "remove_rota_shift",
    summary = "Remove a rota shift",
    description = "Coordinators only. Takes a shift off the rota.",
    params(("id" = String, Path, description = "Shift id")),
    responses((status = 204, description = "Removed from the rota")),
    security(("bearer" = []))
)]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ROTA_WRITERS)?;
    let id = id.into_inner();
    let actor = caller.user_id.clone();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let shift = store::sla::find_shift(conn, &id)?.ok_or(ApiError::NotFound)?;
            store::sla::delete_shift(conn, &id)?;
            Ok(store::audit::append(
                conn,
                Some(&actor),
                "rota.shift_removed",
                None,
                json!({"shift_id": shift.id, "user_id": shift.user_id, "duty": shift.duty}),
                now,
            )?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
