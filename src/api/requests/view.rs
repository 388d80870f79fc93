//! A guidance request as its reader sees it: the views the API renders
//! (a whole request, a summary in a list) built from a stored row and the
//! extras the reader's access shows.

use crate::api::pagination::Page;
use crate::api::preconditions::etag;
use crate::api::sla::SlaView;
use crate::db::DbConnection;
use crate::domain::accounts::{Organisation, Region};
use crate::domain::deadlines::SlaState;
use crate::domain::lifecycle::Status;
use crate::domain::policy::Access;
use crate::domain::requests::{
    flags_from_text, AgeBand, Category, ContactMethod, Gender, Priority, Urgency, YoungPersonFlag,
};
use crate::error::ApiError;
use crate::store;
use crate::store::requests::RequestRow;
use crate::store::sla::{SlaRow, NO_DEADLINE};
use crate::workflows::audit_trail::{Audited, Shown};
use crate::workflows::lifecycle::{Actor, Seen};
use crate::workflows::requests::{self as workflow};
use actix_web::http::header;
use actix_web::{HttpResponse, HttpResponseBuilder};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct YoungPerson {
    pub age: Option<i32>,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
    pub flags: Vec<YoungPersonFlag>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    pub method: ContactMethod,
    pub times: Option<String>,
}

/// When each milestone was reached (UTC).
#[derive(Debug, Serialize, ToSchema)]
pub struct Milestones {
    pub triaged_at: Option<DateTime<Utc>>,
    pub assigned_at: Option<DateTime<Utc>>,
    /// The first reply from staff.
    pub first_response_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

/// A guidance request as its reader may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GuidanceRequest {
    pub id: String,
    #[schema(example = "NRU-2026-000123")]
    pub reference: String,
    pub status: Status,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub urgency: Urgency,
    pub priority: Option<Priority>,
    pub organisation: Organisation,
    pub region: Region,
    pub local_reference: Option<String>,
    pub young_person: YoungPerson,
    pub contact: Contact,
    pub requester_id: String,
    pub team_id: Option<String>,
    pub assignee_id: Option<String>,
    /// Sent back in `If-Match` to change the request.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub milestones: Milestones,
    /// Waiting for the requester: the response clock is paused.
    pub paused: bool,
    /// Total time spent paused, in seconds, excluding a pause still running.
    pub paused_seconds: i64,
    /// Messages you can see on this request.
    pub message_count: i64,
    /// Immediate risk (urgency) or P1: needs attention now.
    pub immediate_risk: bool,
    /// The earliest running response-time deadline; none before triage,
    /// while paused and once every target is met.
    pub due_at: Option<DateTime<Utc>>,
    /// Response-time targets and where the request stands (after triage).
    pub sla: Option<SlaView>,
    /// When retention redacted its free text (title, description, messages,
    /// the young person and contact times now read `[redacted]` or null).
    pub redacted_at: Option<DateTime<Utc>>,
}

/// A request in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestSummary {
    pub id: String,
    pub reference: String,
    pub status: Status,
    pub title: String,
    pub category: Category,
    pub urgency: Urgency,
    pub priority: Option<Priority>,
    pub region: Region,
    pub team_id: Option<String>,
    pub assignee_id: Option<String>,
    /// Immediate risk (urgency) or P1: needs attention now.
    pub immediate_risk: bool,
    /// The earliest running response-time deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// Where the request stands against its targets (after triage).
    pub sla_state: Option<SlaState>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `requests.due_at` with the "no deadline" stand-in read as none.
fn running_due(row: &RequestRow) -> Option<DateTime<Utc>> {
    (row.due_at != NO_DEADLINE).then(|| row.due_at.and_utc())
}

fn corrupt(row: &RequestRow, what: &str) -> ApiError {
    ApiError::internal(format!("request {} has an unknown {what}", row.id))
}

fn parse<T>(
    row: &RequestRow,
    what: &str,
    text: &str,
    f: fn(&str) -> Option<T>,
) -> Result<T, ApiError> {
    f(text).ok_or_else(|| corrupt(row, what))
}

fn parse_opt<T>(
    row: &RequestRow,
    what: &str,
    text: Option<&str>,
    f: fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    text.map(|t| parse(row, what, t, f)).transpose()
}

impl RequestSummary {
    pub(crate) fn from_row(
        row: RequestRow,
        sla_state: Option<&str>,
    ) -> Result<RequestSummary, ApiError> {
        Ok(RequestSummary {
            immediate_risk: crate::workflows::routing::is_immediate_risk(&row),
            due_at: running_due(&row),
            sla_state: parse_opt(&row, "SLA state", sla_state, SlaState::parse)?,
            status: row.status,
            category: row.category,
            urgency: row.urgency,
            priority: row.priority,
            region: row.region,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            id: row.id,
            reference: row.reference,
            title: row.title,
            team_id: row.team_id,
            assignee_id: row.assignee_id,
        })
    }
}

impl GuidanceRequest {
    pub(crate) fn from_row(row: RequestRow, extras: Extras) -> Result<GuidanceRequest, ApiError> {
        let utc = |t: Option<chrono::NaiveDateTime>| t.map(|t| t.and_utc());
        Ok(GuidanceRequest {
            immediate_risk: crate::workflows::routing::is_immediate_risk(&row),
            due_at: running_due(&row),
            sla: extras.sla.map(SlaView::from_row).transpose()?,
            message_count: extras.message_count,
            status: row.status,
            category: row.category,
            urgency: row.urgency,
            priority: row.priority,
            organisation: row.organisation,
            region: row.region,
            young_person: YoungPerson {
                age: row.yp_age,
                age_band: row.yp_age_band,
                gender: row.yp_gender,
                flags: flags_from_text(&row.yp_flags).ok_or_else(|| corrupt(&row, "flag"))?,
            },
            contact: Contact {
                method: row.contact_method,
                times: row.contact_times.clone(),
            },
            milestones: Milestones {
                triaged_at: utc(row.triaged_at),
                assigned_at: utc(row.assigned_at),
                first_response_at: utc(row.first_response_at),
                resolved_at: utc(row.resolved_at),
                closed_at: utc(row.closed_at),
                withdrawn_at: utc(row.withdrawn_at),
            },
            paused: row.paused_at.is_some(),
            paused_seconds: row.paused_seconds,
            redacted_at: utc(row.redacted_at),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            id: row.id,
            reference: row.reference,
            title: row.title,
            description: row.description,
            local_reference: row.local_reference,
            requester_id: row.requester_id,
            team_id: row.team_id,
            assignee_id: row.assignee_id,
            version: row.version,
        })
    }
}

/// A request as its reader sees it: the row and the extras their access shows.
pub(crate) fn view(conn: &mut DbConnection, seen: Seen) -> Result<(RequestRow, Extras), ApiError> {
    let extras = extras_visible(conn, &seen.row, seen.access)?;
    Ok((seen.row, extras))
}

/// Renders a request; only a revealed one, so its reading is on the trail.
pub(crate) fn respond(
    mut builder: HttpResponseBuilder,
    shown: Shown<(RequestRow, Extras)>,
) -> Result<HttpResponse, ApiError> {
    let (row, extras) = shown.into_inner();
    builder.insert_header((header::ETAG, etag(row.version)));
    Ok(builder.json(GuidanceRequest::from_row(row, extras)?))
}

/// What a request's view shows besides the row: the messages its reader can
/// see and the response-time facts.
pub(crate) struct Extras {
    message_count: i64,
    sla: Option<SlaRow>,
}

/// The extras for a reader who sees messages of `kind` (`None`: all).
pub(crate) fn extras(
    conn: &mut DbConnection,
    row: &RequestRow,
    kind: Option<&str>,
) -> Result<Extras, ApiError> {
    Ok(Extras {
        message_count: store::messages::count(conn, &row.id, kind)?,
        sla: store::sla::find(conn, &row.id)?,
    })
}

pub(crate) fn extras_visible(
    conn: &mut DbConnection,
    row: &RequestRow,
    access: Access,
) -> Result<Extras, ApiError> {
    extras(conn, row, workflow::visible_kind(access))
}

/// A page of requests as summaries, audited as one row naming them all when
/// staff read it at `now` (`what`: which list).
pub(crate) fn listed(
    conn: &mut DbConnection,
    actor: &Actor,
    what: &str,
    page: Page<RequestRow>,
    now: chrono::NaiveDateTime,
) -> Result<Audited<Page<RequestSummary>>, ApiError> {
    let shown = page.items.iter().map(|r| r.id.clone()).collect();
    let staff = actor.role.works_requests();
    Ok(Audited::page(
        summaries(conn, page)?,
        &actor.user_id,
        staff,
        what,
        shown,
        now,
    ))
}

/// A page of rows as summaries, with their SLA states read in one query.
pub(crate) fn summaries(
    conn: &mut DbConnection,
    page: Page<RequestRow>,
) -> Result<Page<RequestSummary>, ApiError> {
    let ids: Vec<&str> = page.items.iter().map(|r| r.id.as_str()).collect();
    let states = store::sla::states(conn, &ids)?;
    let items = page
        .items
        .into_iter()
        .map(|row| {
            let state = states.get(&row.id).map(String::as_str);
            RequestSummary::from_row(row, state)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        items,
        next_cursor: page.next_cursor,
    })
}
