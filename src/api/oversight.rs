//! Need-to-know controls and their records: exclusions, break-glass access,
//! and the audit trail.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::conversation::PageQuery;
use crate::api::extract::{JsonBody, QueryParams};
use crate::api::not_blank;
use crate::api::pagination::{Page, PageRequest};
use crate::api::run::as_actor;
use crate::api::state::AppState;
use crate::api::uuid_id;
use crate::auth::Caller;
use crate::domain::accounts::Role;
use crate::error::ApiError;
use crate::store;
use crate::store::access::GrantRow;
use crate::store::audit::{AuditFilter, AuditRow};
use crate::workflows::lifecycle;
use crate::workflows::requests as workflow;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExclusionBody {
    /// A specialist or coordinator who must not see this request.
    pub user_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Exclusions {
    pub user_ids: Vec<String>,
}

#[utoipa::path(
    get, path = "/api/v1/requests/{id}/exclusions", tag = "need-to-know",
    operation_id = "list_exclusions",
    summary = "List staff excluded from a request",
    description = "Coordinators only. Who is excluded from the request (conflict of interest); they get 404 for it everywhere.",
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, description = "Staff excluded from this request", body = Exclusions)),
    security(("bearer" = []))
)]
pub async fn exclusions(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<Exclusions>, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Coordinator])?;
    let id = id.into_inner();
    let user_ids = as_actor(&state, &caller, false, move |conn, actor| {
        lifecycle::load_visible(conn, actor, &id, now)?;
        Ok(store::access::excluded_users(conn, &id)?)
    })
    .await?;
    Ok(web::Json(Exclusions { user_ids }))
}

#[utoipa::path(
    post, path = "/api/v1/requests/{id}/exclusions", tag = "need-to-know",
    operation_id = "add_exclusion",
    summary = "Exclude a member of staff from a request",
    description = "Coordinators only. From now on the person gets 404 for the request everywhere and receives no email about it. 409 if they hold the request (unassign it first).",
    params(("id" = String, Path, description = "Request id")),
    request_body = ExclusionBody,
    responses(
        (status = 204, description = "Excluded: they now get 404 for this request everywhere"),
        (status = 409, description = "They hold the request", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn exclude(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<ExclusionBody>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Coordinator])?;
    let body = body.into_inner()?;
    let id = id.into_inner();
    as_actor(&state, &caller, true, move |conn, actor| {
        workflow::exclude(conn, actor, &id, &body.user_id, now)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    delete, path = "/api/v1/requests/{id}/exclusions/{user_id}", tag = "need-to-know",
    operation_id = "remove_exclusion",
    summary = "Lift an exclusion",
    description = "Coordinators only. The person may see the request again if it is within their reach.",
    params(("id" = String, Path, description = "Request id"), ("user_id" = String, Path, description = "The excluded user")),
    responses((status = 204, description = "No longer excluded")),
    security(("bearer" = []))
)]
pub async fn include(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Coordinator])?;
    let (id, user_id) = path.into_inner();
    as_actor(&state, &caller, true, move |conn, actor| {
        workflow::remove_exclusion(conn, actor, &id, &user_id, now)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassBody {
    /// Why you need this request now; coordinators review every grant.
    #[validate(length(min = 10, max = 500), custom(function = "not_blank"))]
    #[schema(min_length = 10, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassGrant {
    pub id: String,
    pub request_id: String,
    pub user_id: String,
    pub reason: String,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl From<GrantRow> for BreakGlassGrant {
    fn from(row: GrantRow) -> BreakGlassGrant {
        BreakGlassGrant {
            id: row.id,
            request_id: row.request_id,
            user_id: row.user_id,
            reason: row.reason,
            granted_at: row.granted_at.and_utc(),
            expires_at: row.expires_at.and_utc(),
        }
    }
}

#[utoipa::path(
    post, path = "/api/v1/requests/{id}/break-glass", tag = "need-to-know",
    operation_id = "grant_break_glass_access",
    summary = "Open a request outside your reach (break-glass)",
    description = "Specialists only, with a stated reason. Grants time-limited access to a request outside your teams; the grant is audited and reported to coordinators. Never for a request you are excluded from (404). 409 if it is already within your reach.",
    params(("id" = String, Path, description = "Request id")),
    request_body = BreakGlassBody,
    responses(
        (status = 201, description = "Time-limited access granted, audited and reported to coordinators", body = BreakGlassGrant),
        (status = 409, description = "The request is already within your reach", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn break_glass(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: JsonBody<BreakGlassBody>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Specialist])?;
    let body = body.into_inner()?;
    let id = id.into_inner();
    let settings = state.settings.requests.clone();
    let grant = as_actor(&state, &caller, true, move |conn, actor| {
        workflow::break_glass(conn, actor, &id, &body.reason, &settings, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(BreakGlassGrant::from(grant)))
}

#[utoipa::path(
    get, path = "/api/v1/break-glass", tag = "need-to-know",
    operation_id = "list_break_glass_grants",
    summary = "List break-glass grants",
    description = "Coordinators only. Every break-glass grant with its reason, newest first, for review.",
    params(PageQuery),
    responses((status = 200, description = "Break-glass grants, newest first, for review", body = Page<BreakGlassGrant>)),
    security(("bearer" = []))
)]
pub async fn grants(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<PageQuery>,
) -> Result<web::Json<Page<BreakGlassGrant>>, ApiError> {
    caller.require(&[Role::Coordinator])?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let reviewer = caller.user_id.clone();
    let rows = state
        .db
        .read(move |conn| {
            let rows = store::access::grants(conn, &reviewer, page.after.as_deref(), page.fetch())?;
            Ok(page.page(rows, |g| &g.id))
        })
        .await?;
    Ok(web::Json(rows.map(BreakGlassGrant::from)))
}

/// One audit record. `details` never holds free text from a request.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    #[schema(example = "request.read")]
    pub action: String,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Detail keys an admin may read: who, what, when and which ids, but no
/// case attributes (category, the young person, triage reasons). Admins run
/// the system; case content stays with the staff who work it.
const ADMIN_DETAIL_KEYS: &[&str] = &[
    "action",
    "from",
    "to",
    "rule",
    "priority",
    "team_id",
    "assignee_id",
    "by",
    "user_id",
    "grant_id",
    "expires_at",
    "message_id",
    "kind",
    "via_break_glass",
    "fields",
    "reference",
    "request_ids",
];

fn for_admin(details: serde_json::Value) -> serde_json::Value {
    match details {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter(|(key, _)| ADMIN_DETAIL_KEYS.contains(&key.as_str()))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        _ => serde_json::Value::Null,
    }
}

impl AuditEntry {
    /// `case_access`: the reader may see case attributes (a coordinator);
    /// otherwise details are cut to [`ADMIN_DETAIL_KEYS`].
    pub(crate) fn from_row(row: AuditRow, case_access: bool) -> AuditEntry {
        let details = serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null);
        AuditEntry {
            details: if case_access {
                details
            } else {
                for_admin(details)
            },
            id: row.id,
            at: row.at.and_utc(),
            actor_id: row.actor_id,
            action: row.action,
            request_id: row.request_id,
        }
    }
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[validate(custom(function = "uuid_id"))]
    pub request_id: Option<String>,
    #[validate(custom(function = "uuid_id"))]
    pub actor_id: Option<String>,
    /// e.g. `request.read`, `request.transition`, `message.created`.
    pub action: Option<String>,
    /// At or after this instant (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Before this instant (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

async fn audit_page(
    state: &AppState,
    filter: AuditFilter,
    page: PageRequest,
    case_access: bool,
) -> Result<Page<AuditEntry>, ApiError> {
    let rows = state
        .db
        .read(move |conn| {
            let rows = store::audit::list(conn, &filter, page.after.as_deref(), page.fetch())?;
            Ok(page.page(rows, |r| &r.id))
        })
        .await?;
    Ok(rows.map(|row| AuditEntry::from_row(row, case_access)))
}

#[utoipa::path(
    get, path = "/api/v1/requests/{id}/audit", tag = "audit",
    operation_id = "list_request_audit",
    summary = "Read a request's audit trail",
    description = "Coordinators (full details) and admins (ids, names and statuses only). Every change to and every staff read of the request, oldest first.",
    params(("id" = String, Path, description = "Request id"), PageQuery),
    responses((status = 200, description = "Everything done to and every staff read of this request, oldest first", body = Page<AuditEntry>)),
    security(("bearer" = []))
)]
pub async fn request_audit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    query: QueryParams<PageQuery>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Coordinator, Role::Admin])?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let id = id.into_inner();
    let check = id.clone();
    // Coordinators go through need-to-know (an exclusion hides it); admins see the trail, not the case.
    as_actor(&state, &caller, false, move |conn, actor| {
        if actor.role == Role::Admin {
            store::requests::find(conn, &check)?
                .ok_or(ApiError::NotFound)
                .map(drop)
        } else {
            lifecycle::load_visible(conn, actor, &check, now).map(drop)
        }
    })
    .await?;
    let filter = AuditFilter {
        request_id: Some(id),
        ..Default::default()
    };
    let case_access = caller.role == Role::Coordinator;
    Ok(web::Json(
        audit_page(&state, filter, page, case_access).await?,
    ))
}

#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    operation_id = "list_audit_log",
    summary = "Read the audit log",
    description = "Admins only. The append-only audit log, oldest first, filterable; details carry ids and names, never case content.",
    params(AuditQuery),
    responses((status = 200, description = "The audit log, oldest first; details carry ids and names, never case attributes", body = Page<AuditEntry>)),
    security(("bearer" = []))
)]
pub async fn audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<AuditQuery>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = AuditFilter {
        request_id: query.request_id,
        actor_id: query.actor_id,
        action: query.action,
        from: query.from.map(|t| t.naive_utc()),
        to: query.to.map(|t| t.naive_utc()),
    };
    Ok(web::Json(audit_page(&state, filter, page, false).await?))
}
