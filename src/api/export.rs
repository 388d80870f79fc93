//! Subject access: everything held about one request, for an admin to
//! answer a request for a person's data. The one admin path to case
//! content, so every export goes on the audit trail before it is answered.

use actix_web::web;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::api::conversation::Message;
use crate::api::oversight::{AuditEntry, BreakGlassGrant};
use crate::api::queue::TriageDecision;
use crate::api::requests::view::{extras, GuidanceRequest};
use crate::api::run::audited;
use crate::api::sla::SlaEvent;
use crate::api::state::AppState;
use crate::auth::Caller;
use crate::domain::accounts::Role;
use crate::domain::lifecycle::Status;
use crate::error::ApiError;
use crate::store;
use crate::store::audit::{AuditFilter, AuditRow};
use crate::store::requests::TransitionRow;
use crate::workflows::audit_trail::Audited;

/// A change of status, with who made it and when.
#[derive(Debug, Serialize, ToSchema)]
pub struct Transition {
    pub id: String,
    pub from: Status,
    pub to: Status,
    /// None when the service made it.
    pub actor_id: Option<String>,
    pub at: DateTime<Utc>,
}

impl Transition {
    fn from_row(row: TransitionRow) -> Result<Transition, ApiError> {
        let parse = |s: &str| {
            Status::parse(s).ok_or_else(|| {
                ApiError::internal(format!("transition {} has an unknown status", row.id))
            })
        };
        Ok(Transition {
            from: parse(&row.from_status)?,
            to: parse(&row.to_status)?,
            at: row.at.and_utc(),
            id: row.id,
            actor_id: row.actor_id,
        })
    }
}

/// One request with everything recorded about it, oldest first in each list.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestExport {
    pub exported_at: DateTime<Utc>,
    /// Every field, with the response-time targets and milestones; after
    /// retention the free text reads `[redacted]` (see `redacted_at`).
    pub request: GuidanceRequest,
    /// Replies and internal notes.
    pub messages: Vec<Message>,
    /// Every change of status (assignment, pauses, resolution, closing).
    pub transitions: Vec<Transition>,
    pub triage_decisions: Vec<TriageDecision>,
    /// Warning points, missed deadlines and escalation steps.
    pub sla_events: Vec<SlaEvent>,
    /// Staff excluded from the request.
    pub excluded_user_ids: Vec<String>,
    pub break_glass_grants: Vec<BreakGlassGrant>,
    /// The full audit trail of the request, details included (this export
    /// is recorded after it is read, as `request.exported`).
    pub audit: Vec<AuditEntry>,
}

/// Every row of a keyset-paged store query, a page at a time.
fn every_page<T>(
    mut page: impl FnMut(Option<&str>, i64) -> Result<Vec<T>, ApiError>,
    id: fn(&T) -> &str,
) -> Result<Vec<T>, ApiError> {
    const PAGE: i64 = 500;
    let mut rows: Vec<T> = Vec::new();
    loop {
        let after = rows.last().map(|r| id(r).to_owned());
        let next = page(after.as_deref(), PAGE)?;
        let last = i64::try_from(next.len()).unwrap_or(PAGE) < PAGE;
        rows.extend(next);
        if last {
            return Ok(rows);
        }
    }
}

#[utoipa::path(
    get, path = "/api/v1/admin/requests/{id}/export", tag = "retention",
    operation_id = "export_request",
    summary = "Export a request (subject access)",
    description = "Admins only; the one admin path to case content. Everything held about a request, for a subject access request; the export is itself audited before the answer.",
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, description = "The request with all its fields, messages (internal notes too), \
        transitions, triage decisions, SLA events, exclusions, break-glass grants and audit trail, \
        for a subject access request; the export is audited", body = RequestExport)),
    security(("bearer" = []))
)]
pub async fn export_request(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<web::Json<RequestExport>, ApiError> {
    caller.require(&[Role::Admin])?;
    let now = state.clock.now();
    let id = id.into_inner();
    let export = audited(&state, &caller, false, move |conn, actor| {
        let row = store::requests::find(conn, &id)?.ok_or(ApiError::NotFound)?;
        let messages = every_page(
            |after, limit| Ok(store::messages::list(conn, &id, None, after, limit)?),
            |m| &m.id,
        )?;
        let transitions = every_page(
            |after, limit| Ok(store::requests::transitions(conn, &id, after, limit)?),
            |t| &t.id,
        )?;
        let filter = AuditFilter {
            request_id: Some(id.clone()),
            ..Default::default()
        };
        let audit = every_page(
            |after, limit| Ok(store::audit::list(conn, &filter, after, limit)?),
            |a| &a.id,
        )?;
        let record = AuditRow::new(
            Some(&actor.user_id),
            "request.exported",
            Some(&id),
            json!({"reference": row.reference}),
            now,
        );
        let export = RequestExport {
            exported_at: now.and_utc(),
            messages: messages
                .into_iter()
                .map(Message::from_row)
                .collect::<Result<_, _>>()?,
            transitions: transitions
                .into_iter()
                .map(Transition::from_row)
                .collect::<Result<_, _>>()?,
            triage_decisions: store::triage::history(conn, &id)?
                .into_iter()
                .map(TriageDecision::from)
                .collect(),
            sla_events: store::sla::events_of(conn, &id)?
                .into_iter()
                .map(SlaEvent::from_row)
                .collect::<Result<_, _>>()?,
            excluded_user_ids: store::access::excluded_users(conn, &id)?,
            break_glass_grants: store::access::grants_of_request(conn, &id)?
                .into_iter()
                .map(BreakGlassGrant::from)
                .collect(),
            audit: audit
                .into_iter()
                .map(|row| AuditEntry::from_row(row, true))
                .collect(),
            request: {
                let extras = extras(conn, &row, None)?;
                GuidanceRequest::from_row(row, extras)?
            },
        };
        Ok(Audited::with_row(export, record))
    })
    .await?;
    Ok(web::Json(export.into_inner()))
}
