//! The specialists' queue: listing, a per-team summary, and claiming work.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::QueryParams;
use crate::api::pagination::{Page, PageRequest};
use crate::api::requests::view::{extras, listed, respond, view, RequestSummary};
use crate::api::run::{as_actor, audited};
use crate::api::state::AppState;
use crate::api::uuid_id;
use crate::auth::Caller;
use crate::domain::accounts::Role;
use crate::domain::lifecycle::Status;
use crate::domain::requests::Priority;
use crate::error::ApiError;
use crate::store;
use crate::store::queue::{QueueKey, QueueScope};
use crate::store::triage::DecisionRow;
use crate::workflows::audit_trail::Audited;
use crate::workflows::routing;

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Required for coordinators (any team); specialists may narrow to one of theirs.
    #[validate(custom(function = "uuid_id"))]
    pub team_id: Option<String>,
    pub priority: Option<Priority>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/queue", tag = "queue",
    operation_id = "list_queue",
    summary = "List your queue",
    description = "Specialists (their teams' unassigned requests and their own) and coordinators (any team's). Ordered by the earliest running deadline, then priority, then age. Audited as a staff list view.",
    params(QueueQuery),
    responses((status = 200, description = "Requests to work, most urgent priority first, then oldest: \
        for a specialist their teams' unassigned requests and their own", body = Page<RequestSummary>)),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<QueueQuery>,
) -> Result<web::Json<Page<RequestSummary>>, ApiError> {
    caller.require(&[Role::Specialist, Role::Coordinator])?;
    let query = query.into_inner()?;
    let now = state.clock.now();
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let after = page
        .after
        .as_deref()
        .map(|c| {
            QueueKey::decode(c)
                .ok_or_else(|| ApiError::bad_query("cursor", "not a cursor returned by this list"))
        })
        .transpose()?;
    let rows = audited(&state, &caller, false, move |conn, actor| {
        let scope = match (actor.role, query.team_id) {
            (Role::Coordinator, Some(team_id)) => QueueScope::TeamFor {
                team_id,
                viewer: actor.user_id.clone(),
            },
            (Role::Coordinator, None) => {
                return Err(ApiError::bad_query("team_id", "required for coordinators"))
            }
            (_, Some(team_id)) if !actor.team_ids.contains(&team_id) => {
                return Err(ApiError::forbidden("that is not one of your teams"))
            }
            (_, team) => QueueScope::Specialist {
                user_id: actor.user_id.clone(),
                team_ids: team.map_or_else(|| actor.team_ids.clone(), |t| vec![t]),
            },
        };
        let priority = query.priority.map(Priority::as_str);
        let rows = store::queue::list(conn, &scope, priority, after.as_ref(), page.fetch())?;
        let page = page.page_by(rows, |r| QueueKey::of(r).encode());
        listed(conn, actor, "queue.listed", page, now)
    })
    .await?;
    Ok(web::Json(rows.into_inner()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCount {
    pub priority: Option<Priority>,
    pub status: Status,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamQueue {
    pub team_id: String,
    pub team_name: String,
    pub counts: Vec<QueueCount>,
    /// Seconds since the oldest unassigned request was submitted; null when none waits.
    pub oldest_unassigned_seconds: Option<i64>,
}

#[utoipa::path(
    get, path = "/api/v1/queue/summary", tag = "queue",
    operation_id = "get_queue_summary",
    summary = "Summarise every team's queue",
    description = "Coordinators only. Per team: counts by priority and status and the age of the oldest unassigned request, leaving out requests you are excluded from.",
    responses((status = 200, description = "Every team's queue: counts by priority and status, oldest unassigned age", body = Vec<TeamQueue>)),
    security(("bearer" = []))
)]
pub async fn summary(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<Vec<TeamQueue>>, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Coordinator])?;
    let viewer = caller.user_id.clone();
    let teams = state
        .db
        .read(move |conn| {
            let mut out = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let teams = store::teams::list(conn, after.as_deref(), 100)?;
                for team in &teams {
                    let summary = store::queue::team_summary(conn, &team.id, &viewer)?;
                    let counts = summary
                        .counts
                        .into_iter()
                        .map(|(priority, status, count)| {
                            Ok(QueueCount {
                                priority: priority.as_deref().and_then(Priority::parse),
                                status: Status::parse(&status).ok_or_else(|| {
                                    ApiError::internal("stored status is unknown")
                                })?,
                                count,
                            })
                        })
                        .collect::<Result<Vec<_>, ApiError>>()?;
                    out.push(TeamQueue {
                        team_id: team.id.clone(),
                        team_name: team.name.clone(),
                        counts,
                        oldest_unassigned_seconds: summary
                            .oldest_unassigned
                            .map(|t| (now - t).num_seconds()),
                    });
                }
                match teams.last() {
                    Some(last) if teams.len() == 100 => after = Some(last.id.clone()),
                    _ => break,
                }
            }
            Ok(out)
        })
        .await?;
    Ok(web::Json(teams))
}

#[utoipa::path(
    post, path = "/api/v1/queue/claim-next", tag = "queue",
    operation_id = "claim_next_request",
    summary = "Claim the top request of your queue",
    description = "Specialists only. Hands the top request of your queue to you, to exactly one caller even when many ask at once. 204 when nothing waits; 409 at your open-request limit.",
    responses(
        (status = 200, description = "The top request of your queue, now yours", body = crate::api::requests::view::GuidanceRequest,
         headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 204, description = "Nothing waiting"),
        (status = 409, description = "You are at your open-request limit", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn claim_next(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Specialist])?;
    let taken = as_actor(&state, &caller, true, move |conn, actor| {
        routing::claim_next(conn, actor, now)?
            .map(|taken| taken.try_map(|row| with_extras(conn, row)))
            .transpose()
    })
    .await?;
    match taken {
        Some(taken) => respond(HttpResponse::Ok(), state.audit.reveal(taken).await?),
        None => Ok(HttpResponse::NoContent().finish()),
    }
}

#[utoipa::path(
    post, path = "/api/v1/requests/{id}/claim", tag = "queue",
    operation_id = "claim_request",
    summary = "Claim a request",
    description = "Specialists only. Takes a request from your team's queue. 409 if someone else holds it, it is not in a queue, or you are at your open-request limit.",
    params(("id" = String, Path, description = "Request id")),
    responses(
        (status = 200, description = "Now yours", body = crate::api::requests::view::GuidanceRequest,
         headers(("ETag" = String, description = "The version, for If-Match"))),
        (status = 409, description = "Someone else holds it, it is not in a queue, or you are at your limit",
         body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn claim(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Specialist])?;
    let id = id.into_inner();
    let shown = audited(&state, &caller, true, move |conn, actor| {
        routing::claim(conn, actor, &id, now)?.try_map(|row| with_extras(conn, row))
    })
    .await?;
    respond(HttpResponse::Ok(), shown)
}

#[utoipa::path(
    post, path = "/api/v1/requests/{id}/release", tag = "queue",
    operation_id = "release_request",
    summary = "Release a request",
    description = "Its assignee or a coordinator. Returns the request to its team's queue (or hands it on, where the team assigns automatically). 409 if nobody holds it.",
    params(("id" = String, Path, description = "Request id")),
    responses(
        (status = 200, description = "Back in the team's queue (or handed on, where the team assigns automatically)",
         body = crate::api::requests::view::GuidanceRequest, headers(("ETag" = String, description = "The new version"))),
        (status = 204, description = "Released; the request is no longer within your reach"),
        (status = 409, description = "Not held by anyone", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn release(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Specialist, Role::Coordinator])?;
    let id = id.into_inner();
    let triage = state.triage.clone();
    let released = audited(&state, &caller, true, move |conn, actor| {
        let recorded = routing::release(conn, actor, &id, &triage, now)?;
        // Releasing can take the request out of the caller's reach (say, a
        // former team member): answer with it only if they still see it.
        let shown = match crate::workflows::lifecycle::load_visible(conn, actor, &id, now) {
            Ok(seen) => Some(view(conn, seen)?),
            Err(ApiError::NotFound) => None,
            Err(other) => return Err(other),
        };
        Ok(Audited::recorded(shown, recorded))
    })
    .await?;
    match released.transpose() {
        Some(shown) => respond(HttpResponse::Ok(), shown),
        None => Ok(HttpResponse::NoContent().finish()),
    }
}

/// One triage decision: by the rules (`actor_id` null) or by a coordinator.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriageDecision {
    pub id: String,
    /// The rule that matched, for decisions by the rules.
    pub rule: Option<String>,
    pub reason: String,
    pub priority: Option<Priority>,
    pub team_id: Option<String>,
    pub skill: Option<crate::domain::accounts::Skill>,
    pub actor_id: Option<String>,
    pub decided_at: chrono::DateTime<chrono::Utc>,
}

impl From<DecisionRow> for TriageDecision {
    fn from(row: DecisionRow) -> TriageDecision {
        TriageDecision {
            priority: row.priority.as_deref().and_then(Priority::parse),
            skill: row
                .skill
                .as_deref()
                .and_then(crate::domain::accounts::Skill::parse),
            decided_at: row.decided_at.and_utc(),
            id: row.id,
            rule: row.rule,
            reason: row.reason,
            team_id: row.team_id,
            actor_id: row.actor_id,
        }
    }
}

#[utoipa::path(
    get, path = "/api/v1/requests/{id}/triage", tag = "queue",
    operation_id = "list_triage_decisions",
    summary = "List a request's triage decisions",
    description = "Specialists and coordinators within reach. Every triage decision, oldest first, with the rule that matched or the coordinator's reason. Audited.",
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, description = "Every triage decision on the request, oldest first, with its reason", body = Vec<TriageDecision>)),
    security(("bearer" = []))
)]
pub async fn triage_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<Vec<TriageDecision>>, ApiError> {
    let now = state.clock.now();
    caller.require(&[Role::Specialist, Role::Coordinator])?;
    let id = id.into_inner();
    let rows = audited(&state, &caller, false, move |conn, actor| {
        crate::workflows::requests::read(conn, actor, &id, "triage.read", now)?
            .try_map(|_| Ok(store::triage::history(conn, &id)?))
    })
    .await?;
    Ok(web::Json(
        rows.into_inner()
            .into_iter()
            .map(TriageDecision::from)
            .collect(),
    ))
}

/// A request a specialist now holds, with the extras staff see.
fn with_extras(
    conn: &mut crate::db::DbConnection,
    row: crate::store::requests::RequestRow,
) -> Result<
    (
        crate::store::requests::RequestRow,
        crate::api::requests::view::Extras,
    ),
    ApiError,
> {
    let extras = extras(conn, &row, None)?;
    Ok((row, extras))
}
