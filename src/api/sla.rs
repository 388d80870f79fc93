//! Response times on one request: the view of its targets, its SLA events,
//! and acknowledging an immediate-risk request.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::api::requests::view::{respond, view};
use crate::api::run::audited;
use crate::api::state::AppState;
use crate::auth::Caller;
use crate::domain::accounts::Role;
use crate::domain::deadlines::{ClockKind, EventKind, SlaState};
use crate::domain::policy::Access;
use crate::domain::requests::Priority;
use crate::domain::rota::Duty;
use crate::error::ApiError;
use crate::store;
use crate::store::sla::{EventRow, SlaRow};
use crate::workflows::audit_trail::Audited;
use crate::workflows::lifecycle;
use crate::workflows::requests as workflow;

fn utc(t: Option<chrono::NaiveDateTime>) -> Option<DateTime<Utc>> {
    t.map(|t| t.and_utc())
}

fn corrupt(what: &str) -> ApiError {
    ApiError::internal(format!("stored SLA facts hold an unknown {what}"))
}

/// Acknowledgement of an immediate-risk (P1) request.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgementView {
    /// When it must be acknowledged by.
    pub due_at: Option<DateTime<Utc>>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    /// Seconds from becoming P1 to acknowledgement.
    pub seconds: Option<i64>,
    /// How many steps of the escalation chain have been called (0: none).
    pub escalation_level: i32,
}

/// A request's response-time targets under its priority's policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaView {
    /// The priority whose policy applies.
    pub priority: Priority,
    pub state: SlaState,
    pub first_response_due_at: Option<DateTime<Utc>>,
    /// Due after the requester's latest message, until staff reply.
    pub next_response_due_at: Option<DateTime<Utc>>,
    pub resolution_due_at: Option<DateTime<Utc>>,
    /// Whether the first response came in time (once it came).
    pub first_response_met: Option<bool>,
    /// Whether resolution came in time (once resolved).
    pub resolution_met: Option<bool>,
    /// When the first target was missed.
    pub breached_at: Option<DateTime<Utc>>,
    /// For P1 requests only.
    pub acknowledgement: Option<AcknowledgementView>,
}

impl SlaView {
    pub(crate) fn from_row(row: SlaRow) -> Result<SlaView, ApiError> {
        let acknowledgement = row.ack_started_at.map(|_| AcknowledgementView {
            due_at: utc(row.ack_due_at),
            acknowledged_at: utc(row.acknowledged_at),
            acknowledged_by: row.acknowledged_by.clone(),
            seconds: row.acknowledgement_seconds,
            escalation_level: row.escalation_level,
        });
        Ok(SlaView {
            priority: Priority::parse(&row.priority).ok_or_else(|| corrupt("priority"))?,
            state: SlaState::parse(&row.state).ok_or_else(|| corrupt("state"))?,
            first_response_due_at: utc(row.first_response_due_at),
            next_response_due_at: utc(row.next_response_due_at),
            resolution_due_at: utc(row.resolution_due_at),
            first_response_met: row.first_response_met,
            resolution_met: row.resolution_met,
            breached_at: utc(row.breached_at),
            acknowledgement,
        })
    }
}

/// A warning point, deadline or escalation step a request passed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaEvent {
    pub id: String,
    pub request_id: String,
    pub clock: ClockKind,
    pub kind: EventKind,
    /// Percentage of the target (100 = the deadline), or the escalation step.
    pub level: i32,
    /// The duty called at an escalation step.
    pub target: Option<Duty>,
    pub due_at: DateTime<Utc>,
    /// When the point was passed.
    pub crossed_at: DateTime<Utc>,
    /// When the monitor (or a change to the request) recorded it.
    pub recorded_at: DateTime<Utc>,
}

impl SlaEvent {
    pub(crate) fn from_row(row: EventRow) -> Result<SlaEvent, ApiError> {
        Ok(SlaEvent {
            clock: ClockKind::parse(&row.clock).ok_or_else(|| corrupt("clock"))?,
            kind: EventKind::parse(&row.kind).ok_or_else(|| corrupt("event kind"))?,
            target: row
                .target
                .as_deref()
                .map(|t| Duty::parse(t).ok_or_else(|| corrupt("duty")))
                .transpose()?,
            id: row.id,
            request_id: row.request_id,
            level: row.level,
            due_at: row.due_at.and_utc(),
            crossed_at: row.crossed_at.and_utc(),
            recorded_at: row.recorded_at.and_utc(),
        })
    }
}

#[utoipa::path(
    get, path = "/api/v1/requests/{id}/sla-events", tag = "response times",
    operation_id = "list_sla_events",
    summary = "List a request's SLA events",
    description = "Specialists and coordinators within reach. Warnings, breaches and escalations recorded for the request, oldest first.",
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, description = "The request's SLA events, oldest first", body = Vec<SlaEvent>)),
    security(("bearer" = []))
)]
pub async fn events(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<Vec<SlaEvent>>, ApiError> {
    caller.require(&[Role::Specialist, Role::Coordinator])?;
    let now = state.clock.now();
    let id = id.into_inner();
    let rows = audited(&state, &caller, false, move |conn, actor| {
        workflow::read(conn, actor, &id, "sla_events.read", now)?
            .try_map(|_| Ok(store::sla::events_of(conn, &id)?))
    })
    .await?
    .into_inner();
    Ok(web::Json(
        rows.into_iter()
            .map(SlaEvent::from_row)
            .collect::<Result<_, _>>()?,
    ))
}

/// Duties whose holders may acknowledge any P1 request while on shift.
const ACKNOWLEDGING_DUTIES: [Duty; 2] = [Duty::DutyCoordinator, Duty::UnitLead];

#[utoipa::path(
    post, path = "/api/v1/requests/{id}/acknowledge", tag = "response times",
    operation_id = "acknowledge_request",
    summary = "Acknowledge an immediate-risk request",
    description = "The assignee or a coordinator on duty (403 for others). Records that an immediate-risk (P1) alert was seen, which stops its escalation. 409 for a request that is not P1 or is already acknowledged.",
    params(("id" = String, Path, description = "Request id")),
    responses(
        (status = 200, description = "Acknowledged; escalation stops", body = crate::api::requests::view::GuidanceRequest),
        (status = 409, description = "Not a P1 request, or already acknowledged", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn acknowledge(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Specialist, Role::Coordinator])?;
    let now = state.clock.now();
    let id = id.into_inner();
    let sla = state.sla.clone();
    let shown = audited(&state, &caller, true, move |conn, actor| {
        let seen = lifecycle::load_visible(conn, actor, &id, now)?;
        if seen.access != Access::Staff {
            return Err(ApiError::NotFound);
        }
        let assignee = seen.row.assignee_id.as_deref() == Some(actor.user_id.as_str());
        let duties: Vec<&str> = ACKNOWLEDGING_DUTIES.iter().map(|d| d.as_str()).collect();
        let on_duty = actor.role == Role::Coordinator
            && store::sla::on_duty(conn, &actor.user_id, &duties, now)?;
        if !assignee && !on_duty {
            return Err(ApiError::forbidden(
                "only the assignee or a coordinator on duty may acknowledge",
            ));
        }
        let needs_it = store::sla::find(conn, &id)?
            .is_some_and(|f| f.ack_started_at.is_some() && seen.row.priority == Some(Priority::P1));
        if !needs_it {
            return Err(ApiError::conflict(
                "only an immediate-risk (P1) request needs acknowledging",
            ));
        }
        if !store::sla::acknowledge(conn, &id, &actor.user_id, now)? {
            return Err(ApiError::conflict("the request is already acknowledged"));
        }
        let recorded = store::audit::append(
            conn,
            Some(&actor.user_id),
            "request.acknowledged",
            Some(&id),
            json!({"as": if assignee { "assignee" } else { "coordinator on duty" }}),
            now,
        )?;
        let mut row = seen.row;
        crate::workflows::sla::refresh(conn, &sla, &mut row, now)?;
        let seen = lifecycle::Seen { row, ..seen };
        Ok(Audited::recorded(view(conn, seen)?, recorded))
    })
    .await?;
    respond(HttpResponse::Ok(), shown)
}
