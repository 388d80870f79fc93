//! Guidance requests: submission, reading, editing, lifecycle actions.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::api::extract::{double_option, not_null, JsonBody, QueryParams};
use crate::api::not_blank;
use crate::api::pagination::{Page, PageRequest};
use crate::api::sla::SlaView;
use crate::api::state::AppState;
use crate::api::uuid_id;
use crate::auth::{Caller, ClientCaller};
use crate::db::DbConnection;
use crate::domain::accounts::{Organisation, Region, Role};
use crate::domain::deadlines::SlaState;
use crate::domain::lifecycle::{Action, Status};
use crate::domain::policy::Access;
use crate::domain::requests::{
    flags_from_text, AgeBand, Category, ContactMethod, Gender, Priority, Urgency, YoungPersonFlag,
};
use crate::error::ApiError;
use crate::store;
use crate::store::requests::{RequestFilter, RequestRow, Visibility};
use crate::store::sla::{SlaRow, NO_DEADLINE};
use crate::workflows::audit_trail::{Audited, Shown};
use crate::workflows::lifecycle::{Actor, Seen};
use crate::workflows::requests::{self as workflow, Edit, Idempotency, Submission};

/// Roles that deal with case content; admins run the system and see none.
pub(crate) const CASE_ROLES: &[Role] = &[Role::Practitioner, Role::Specialist, Role::Coordinator];

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
            status: parse(&row, "status", &row.status, Status::parse)?,
            category: parse(&row, "category", &row.category, Category::parse)?,
            urgency: parse(&row, "urgency", &row.urgency, Urgency::parse)?,
            priority: parse_opt(&row, "priority", row.priority.as_deref(), Priority::parse)?,
            region: parse(&row, "region", &row.region, Region::parse)?,
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
            status: parse(&row, "status", &row.status, Status::parse)?,
            category: parse(&row, "category", &row.category, Category::parse)?,
            urgency: parse(&row, "urgency", &row.urgency, Urgency::parse)?,
            priority: parse_opt(&row, "priority", row.priority.as_deref(), Priority::parse)?,
            organisation: parse(&row, "organisation", &row.organisation, Organisation::parse)?,
            region: parse(&row, "region", &row.region, Region::parse)?,
            young_person: YoungPerson {
                age: row.yp_age,
                age_band: parse_opt(&row, "age band", row.yp_age_band.as_deref(), AgeBand::parse)?,
                gender: parse_opt(&row, "gender", row.yp_gender.as_deref(), Gender::parse)?,
                flags: flags_from_text(&row.yp_flags).ok_or_else(|| corrupt(&row, "flag"))?,
            },
            contact: Contact {
                method: parse(
                    &row,
                    "contact method",
                    &row.contact_method,
                    ContactMethod::parse,
                )?,
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

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct YoungPersonInput {
    /// Give an age or an age band, not both. No names, ever.
    #[validate(range(min = 0, max = 25))]
    #[schema(minimum = 0, maximum = 25)]
    pub age: Option<i32>,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
    #[serde(default)]
    #[validate(length(max = 7))]
    #[schema(max_items = 7)]
    pub flags: Vec<YoungPersonFlag>,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub method: ContactMethod,
    /// When you can be reached, e.g. "weekdays 9-5".
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub times: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitRequest {
    #[validate(length(min = 3, max = 200), custom(function = "not_blank"))]
    #[schema(min_length = 3, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// The case, described without names.
    #[validate(length(min = 10, max = 20000), custom(function = "not_blank"))]
    #[schema(min_length = 10, max_length = 20000, pattern = r"\S")]
    pub description: String,
    pub category: Category,
    pub urgency: Urgency,
    /// Defaults to your profile's organisation.
    pub organisation: Option<Organisation>,
    /// Defaults to your profile's region.
    pub region: Option<Region>,
    /// Your own system's case reference.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub local_reference: Option<String>,
    #[validate(nested)]
    pub young_person: YoungPersonInput,
    #[validate(nested)]
    pub contact: ContactInput,
    /// API clients only (`POST /client/requests`): the email of the
    /// practitioner of the client's organisation the request is for.
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub on_behalf_of: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditYoungPerson {
    #[serde(default, deserialize_with = "double_option")]
    #[validate(range(min = 0, max = 25))]
    #[schema(value_type = Option<i32>, minimum = 0, maximum = 25)]
    pub age: Option<Option<i32>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<AgeBand>)]
    pub age_band: Option<Option<AgeBand>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Gender>)]
    pub gender: Option<Option<Gender>>,
    #[validate(length(max = 7))]
    #[schema(max_items = 7)]
    pub flags: Option<Vec<YoungPersonFlag>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditContact {
    pub method: Option<ContactMethod>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(max = 200))]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub times: Option<Option<String>>,
}

/// Fields to change; absent fields stay, `null` clears an optional one
/// (`title` and `description` are not optional: `null` there is a 422).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    #[serde(default, deserialize_with = "not_null")]
    #[validate(length(min = 3, max = 200), custom(function = "not_blank"))]
    #[schema(value_type = String, required = false, min_length = 3, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "not_null")]
    #[validate(length(min = 10, max = 20000), custom(function = "not_blank"))]
    #[schema(value_type = String, required = false, min_length = 10, max_length = 20000, pattern = r"\S")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub local_reference: Option<Option<String>>,
    #[validate(nested)]
    pub young_person: Option<EditYoungPerson>,
    #[validate(nested)]
    pub contact: Option<EditContact>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    Newest,
    Oldest,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestListQuery {
    pub status: Option<Status>,
    pub category: Option<Category>,
    pub priority: Option<Priority>,
    pub urgency: Option<Urgency>,
    #[validate(custom(function = "uuid_id"))]
    pub team_id: Option<String>,
    #[validate(custom(function = "uuid_id"))]
    pub assignee_id: Option<String>,
    pub region: Option<Region>,
    /// Exact reference, e.g. NRU-2026-000123.
    pub reference: Option<String>,
    /// Created at or after this instant (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this instant (RFC 3339).
    pub created_to: Option<DateTime<Utc>>,
    /// Where the request stands against its response-time targets:
    /// `breached`, `at_risk` or `ok`.
    pub sla: Option<SlaState>,
    /// `newest` (default) or `oldest` first.
    pub sort: Option<SortOrder>,
    /// Page size, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// Runs `f` as the caller: staff work is written (their reads are audited),
/// a requester's reads are not.
pub(crate) async fn as_actor<T, F>(
    state: &AppState,
    caller: &Caller,
    write: bool,
    f: F,
) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection, &Actor) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let (user_id, role) = (caller.user_id.clone(), caller.role);
    let work = move |conn: &mut DbConnection| {
        let actor = Actor::load(conn, &user_id, role)?;
        f(conn, &actor)
    };
    if write {
        state.db.write(work).await
    } else {
        state.db.read(work).await
    }
}

/// Runs a workflow as the caller (`write`: in one transaction, else on a
/// reader connection) and reveals what it hands out once the audit row of
/// showing it is committed.
pub(crate) async fn audited<T, F>(
    state: &AppState,
    caller: &Caller,
    write: bool,
    f: F,
) -> Result<Shown<T>, ApiError>
where
    F: FnOnce(&mut DbConnection, &Actor) -> Result<Audited<T>, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let shown = as_actor(state, caller, write, f).await?;
    state.audit.reveal(shown).await
}

/// A request as its reader sees it: the row and the extras their access shows.
pub(crate) fn view(conn: &mut DbConnection, seen: Seen) -> Result<(RequestRow, Extras), ApiError> {
    let extras = extras_visible(conn, &seen.row, seen.access)?;
    Ok((seen.row, extras))
}

pub(crate) fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The version named by `If-Match`, if any (`*` matches any version). A
/// number too large to be a version is kept as one that matches nothing.
pub(crate) fn if_match(req: &HttpRequest) -> Result<Option<i64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    // Bare digits are read as the quoted ETag they stand for.
    let unquoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or(Some(text));
    match unquoted {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Some(digits.parse::<i64>().unwrap_or(i64::MAX)))
        }
        _ => Err(ApiError::BadRequest {
            detail: "If-Match must be an ETag from this API, such as \"3\"".into(),
            errors: vec![crate::error::FieldError::new(
                "If-Match",
                "not an ETag from this API",
            )],
        }),
    }
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

const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default();
    if text.is_empty() || text.len() > 255 || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadRequest {
            detail: "Idempotency-Key must be 1 to 255 visible ASCII characters".into(),
            errors: vec![crate::error::FieldError::new(
                IDEMPOTENCY_KEY,
                "1 to 255 visible ASCII characters",
            )],
        });
    }
    Ok(Some(text.to_owned()))
}

#[utoipa::path(
    post, path = "/api/v1/requests", tag = "requests",
    operation_id = "submit_request",
    summary = "Submit a guidance request",
    description = "Practitioners only. Submits a request about a live case (never a young person's name); it is given a reference, triaged by the rules into a team's queue and, for immediate risk, alerts the on-duty coordinators at once. Send an `Idempotency-Key` to retry safely. 422 names each invalid field.",
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = r"^[!-~]{1,255}$",
            description = "Repeat a submission safely: the same key and body return the first result")),
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "Submitted (or, for a repeated Idempotency-Key, the first result)", body = GuidanceRequest,
         headers(("Location" = String, description = "URL of the request"), ("ETag" = String, description = "The version, for If-Match"))),
    ),
    security(("bearer" = []))
)]
pub async fn submit(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: JsonBody<SubmitRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Practitioner])?;
    let body = body.into_inner()?;
    if body.on_behalf_of.is_some() {
        return Err(ApiError::field(
            "on_behalf_of",
            "only API clients submit on behalf of a practitioner",
        ));
    }
    create(&state, Submitter::Person(caller.user_id), &req, body).await
}

/// Who submits: a practitioner for themselves, or an API client for one of
/// its organisation's practitioners (named in `on_behalf_of`).
#[derive(Clone)]
pub(crate) enum Submitter {
    Person(String),
    Client(ClientCaller),
}

/// A submission, with its Idempotency-Key, answered as the requester sees
/// it; shared by `POST /requests` and `POST /client/requests`.
pub(crate) async fn create(
    state: &web::Data<AppState>,
    submitter: Submitter,
    req: &HttpRequest,
    body: SubmitRequest,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let key = idempotency_key(req)?;
    let body_hash = Sha256::digest(serde_json::to_vec(&body).map_err(ApiError::internal)?)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let on_behalf_of = body.on_behalf_of;
    let submission = Submission {
        title: body.title,
        description: body.description,
        category: body.category,
        urgency: body.urgency,
        organisation: body.organisation,
        region: body.region,
        local_reference: body.local_reference,
        age: body.young_person.age,
        age_band: body.young_person.age_band,
        gender: body.young_person.gender,
        flags: body.young_person.flags,
        contact_method: body.contact.method,
        contact_times: body.contact.times,
    };
    let settings = state.settings.requests.clone();
    let attempt = || {
        let (mut submission, key, body_hash, settings) = (
            submission.clone(),
            key.clone(),
            body_hash.clone(),
            settings.clone(),
        );
        let (submitter, on_behalf_of) = (submitter.clone(), on_behalf_of.clone());
        let triage = state.triage.clone();
        let sla = state.sla.clone();
        state.db.write(move |conn| {
            let requester = match &submitter {
                Submitter::Person(id) => id.clone(),
                Submitter::Client(client) => crate::workflows::integrations::requester_for(
                    conn,
                    client,
                    on_behalf_of.as_deref(),
                    &mut submission,
                )?,
            };
            let idem = key.as_deref().map(|key| Idempotency {
                key,
                body_hash: &body_hash,
            });
            let (row, replayed) = workflow::submit(
                conn,
                &requester,
                &submission,
                idem,
                workflow::Rules {
                    requests: &settings,
                    triage: &triage,
                    sla: &sla,
                },
                now,
            )?;
            if let Submitter::Client(client) = &submitter {
                crate::workflows::integrations::after_submit(
                    conn,
                    &client.client_id,
                    &row,
                    replayed,
                    now,
                )?;
            }
            // A replay may come after the conversation began.
            let count = extras(conn, &row, workflow::visible_kind(Access::Requester))?;
            Ok((row, replayed, count))
        })
    };
    // Two identical submissions racing on one key: the loser's insert of the
    // key conflicts and rolls back; on retry it finds and returns the winner's.
    let (row, replayed, count) = match attempt().await {
        Err(ApiError::Conflict(_)) if key.is_some() => attempt().await?,
        other => other?,
    };
    let location = match submitter {
        Submitter::Person(_) => format!("/api/v1/requests/{}", row.id),
        Submitter::Client(_) => format!("/api/v1/client/requests/{}", row.id),
    };
    let mut builder = HttpResponse::Created();
    builder.insert_header((header::LOCATION, location));
    if replayed {
        builder.insert_header(("Idempotency-Replayed", "true"));
    }
    let shown = state
        .audit
        .reveal(Audited::requesters_own((row, count)))
        .await?;
    respond(builder, shown)
}

#[utoipa::path(
    get, path = "/api/v1/requests", tag = "requests",
    operation_id = "list_requests",
    summary = "List requests you may see",
    description = "Practitioners see their own requests; specialists those of their teams and those assigned to them; coordinators all, except any they are excluded from. Filters narrow the list; staff list views are audited.",
    params(RequestListQuery),
    responses((status = 200, description = "Requests you may see", body = Page<RequestSummary>)),
    security(("bearer" = []))
)]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryParams<RequestListQuery>,
) -> Result<web::Json<Page<RequestSummary>>, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let query = query.into_inner()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filter = RequestFilter {
        status: query.status.map(|v| v.as_str().to_owned()),
        category: query.category.map(|v| v.as_str().to_owned()),
        priority: query.priority.map(|v| v.as_str().to_owned()),
        urgency: query.urgency.map(|v| v.as_str().to_owned()),
        team_id: query.team_id,
        assignee_id: query.assignee_id,
        region: query.region.map(|v| v.as_str().to_owned()),
        reference: query.reference,
        created_from: query.created_from.map(|t| t.naive_utc()),
        created_to: query.created_to.map(|t| t.naive_utc()),
        sla_state: query.sla.map(|v| v.as_str().to_owned()),
        newest_first: !matches!(query.sort, Some(SortOrder::Oldest)),
    };
    let rows = audited(&state, &caller, false, move |conn, actor| {
        let visibility = match actor.role {
            Role::Practitioner => Visibility::Requester(actor.user_id.clone()),
            Role::Coordinator => Visibility::Coordinator(actor.user_id.clone()),
            _ => Visibility::Specialist {
                user_id: actor.user_id.clone(),
                team_ids: actor.team_ids.clone(),
                now,
            },
        };
        let rows = store::requests::list(
            conn,
            &visibility,
            &filter,
            page.after.as_deref(),
            page.fetch(),
        )?;
        listed(
            conn,
            actor,
            "requests.listed",
            page.page(rows, |r| &r.id),
            now,
        )
    })
    .await?;
    Ok(web::Json(rows.into_inner()))
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

#[utoipa::path(
    get, path = "/api/v1/requests/{id}", tag = "requests",
    operation_id = "get_request",
    summary = "Get a request",
    description = "Its requester and staff within reach (need-to-know). Staff reads are recorded in the audit trail before the answer. 404 for a request you may not see, so its existence is never revealed. The ETag is the version to send as If-Match.",
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, description = "The request; staff reads are audited", body = GuidanceRequest,
               headers(("ETag" = String, description = "The version, for If-Match")))),
    security(("bearer" = []))
)]
pub async fn read(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let id = id.into_inner();
    let shown = audited(&state, &caller, false, move |conn, actor| {
        workflow::read(conn, actor, &id, "request.read", now)?.try_map(|seen| view(conn, seen))
    })
    .await?;
    respond(HttpResponse::Ok(), shown)
}

#[utoipa::path(
    patch, path = "/api/v1/requests/{id}", tag = "requests",
    operation_id = "edit_request",
    summary = "Edit a request",
    description = "Its requester while open, or a coordinator until closed. Absent fields stay; `null` clears an optional field and is refused (422) for `title` and `description`. Requires If-Match (428 without it, 412 if the request changed since).",
    params(
        ("id" = String, Path, description = "Request id"),
        ("If-Match" = String, Header, pattern = r#"^("[0-9]+"|[0-9]+)$"#, description = "The ETag you last read; required"),
    ),
    request_body = EditRequest,
    responses(
        (status = 200, description = "Edited", body = GuidanceRequest, headers(("ETag" = String, description = "The new version"))),
        (status = 412, description = "Changed since you read it", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is required", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn edit(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonBody<EditRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let version = if_match(&req)?;
    let body = body.into_inner()?;
    let young = body.young_person;
    let contact = body.contact;
    let edit = Edit {
        title: body.title,
        description: body.description,
        local_reference: body.local_reference,
        age: young.as_ref().and_then(|y| y.age),
        age_band: young.as_ref().and_then(|y| y.age_band),
        gender: young.as_ref().and_then(|y| y.gender),
        flags: young.and_then(|y| y.flags),
        contact_method: contact.as_ref().and_then(|c| c.method),
        contact_times: contact.and_then(|c| c.times),
    };
    let id = id.into_inner();
    let shown = audited(&state, &caller, true, move |conn, actor| {
        workflow::edit(conn, actor, &id, &edit, version, now)?.try_map(|seen| view(conn, seen))
    })
    .await?;
    respond(HttpResponse::Ok(), shown)
}

async fn run_action(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: String,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let version = if_match(&req)?;
    let settings = state.settings.requests.clone();
    let (triage, sla) = (state.triage.clone(), state.sla.clone());
    let shown = audited(&state, &caller, true, move |conn, actor| {
        let rules = workflow::Rules {
            requests: &settings,
            triage: &triage,
            sla: &sla,
        };
        workflow::act(conn, actor, &id, action, version, rules, now)?
            .try_map(|seen| view(conn, seen))
    })
    .await?;
    respond(HttpResponse::Ok(), shown)
}

macro_rules! action_endpoint {
    ($name:ident, $path:literal, $action:expr, $doc:literal, $operation_id:literal, $summary:literal, $description:literal) => {
        #[utoipa::path(
            post, path = $path, tag = "requests",
            operation_id = $operation_id, summary = $summary, description = $description,
            params(
                ("id" = String, Path, description = "Request id"),
                ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^("[0-9]+"|[0-9]+)$"#, description = "Refuse with 412 if the request changed since this ETag"),
            ),
            responses(
                (status = 200, description = $doc, body = GuidanceRequest, headers(("ETag" = String, description = "The new version"))),
                (status = 409, description = "Not allowed from the request's current status", body = crate::error::Problem, content_type = "application/problem+json"),
                (status = 412, description = "Changed since the If-Match ETag", body = crate::error::Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        pub async fn $name(state: web::Data<AppState>, caller: Caller, req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
            run_action(state, caller, req, id.into_inner(), $action).await
        }
    };
}

action_endpoint!(
    withdraw,
    "/api/v1/requests/{id}/withdraw",
    Action::Withdraw,
    "Withdrawn by the requester",
    "withdraw_request",
    "Withdraw a request",
    "Its requester only, before resolution. 409 from a status that does not allow it; 412 on a stale If-Match."
);
action_endpoint!(
    resolve,
    "/api/v1/requests/{id}/resolve",
    Action::Resolve,
    "Resolved by the assignee or a coordinator",
    "resolve_request",
    "Resolve a request",
    "Its assignee or a coordinator. The resolution clock stops; the requester is emailed. 409 from a status that does not allow it; 412 on a stale If-Match."
);
action_endpoint!(
    reopen,
    "/api/v1/requests/{id}/reopen",
    Action::Reopen,
    "Reopened within the configured window",
    "reopen_request",
    "Reopen a resolved request",
    "Its requester, its assignee or a coordinator, within the configured reopen window. 409 outside it or from another status; 412 on a stale If-Match."
);
action_endpoint!(
    close,
    "/api/v1/requests/{id}/close",
    Action::Close,
    "Closed: the requester confirms it is resolved, or a coordinator closes it",
    "close_request",
    "Close a request",
    "Its requester (confirming it is resolved) or a coordinator. 409 from a status that does not allow it; 412 on a stale If-Match."
);
action_endpoint!(
    request_information,
    "/api/v1/requests/{id}/request-information",
    Action::RequestInformation,
    "Awaiting the requester; the response clock pauses until they reply",
    "request_information",
    "Ask the requester for information",
    "Its assignee or a coordinator. The request awaits the requester and the response clock pauses until they reply. 409 from a status that does not allow it; 412 on a stale If-Match."
);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageBody {
    pub priority: Priority,
    pub team_id: String,
    /// Corrects the submitted category.
    pub category: Option<Category>,
    /// Why, for the triage history (re-triage keeps every decision).
    #[validate(length(min = 1, max = 500), custom(function = "not_blank"))]
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// An active specialist in the request's team.
    pub assignee_id: String,
}

#[utoipa::path(
    post, path = "/api/v1/requests/{id}/triage", tag = "requests",
    operation_id = "triage_request",
    summary = "Triage or re-triage a request",
    description = "Coordinators only. Sets the priority and team (and may correct the category), recording the decision and its reason in the triage history. 409 if the request's status does not allow it; 412 on a stale If-Match.",
    params(
        ("id" = String, Path, description = "Request id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^("[0-9]+"|[0-9]+)$"#, description = "Refuse with 412 if the request changed since this ETag"),
    ),
    request_body = TriageBody,
    responses(
        (status = 200, description = "Triaged into a team's queue", body = GuidanceRequest, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "Not allowed from the request's current status", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match ETag", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn triage(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonBody<TriageBody>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let version = if_match(&req)?;
    let body = body.into_inner()?;
    let id = id.into_inner();
    let sla = state.sla.clone();
    let shown = audited(&state, &caller, true, move |conn, actor| {
        workflow::triage(
            conn,
            actor,
            &id,
            &workflow::TriageChoice {
                priority: body.priority,
                team_id: &body.team_id,
                category: body.category,
                reason: body.reason.as_deref(),
            },
            version,
            &sla,
            now,
        )?
        .try_map(|seen| view(conn, seen))
    })
    .await?;
    respond(HttpResponse::Ok(), shown)
}

#[utoipa::path(
    post, path = "/api/v1/requests/{id}/assign", tag = "requests",
    operation_id = "assign_request",
    summary = "Assign a request to a specialist",
    description = "Coordinators only. Hands the request to an active specialist of its team, who is emailed. 409 if the status does not allow it or the specialist is excluded; 412 on a stale If-Match.",
    params(
        ("id" = String, Path, description = "Request id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^("[0-9]+"|[0-9]+)$"#, description = "Refuse with 412 if the request changed since this ETag"),
    ),
    request_body = AssignBody,
    responses(
        (status = 200, description = "Assigned", body = GuidanceRequest, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "Not allowed from the request's current status", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match ETag", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn assign(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonBody<AssignBody>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let version = if_match(&req)?;
    let body = body.into_inner()?;
    let id = id.into_inner();
    let shown = audited(&state, &caller, true, move |conn, actor| {
        workflow::assign(conn, actor, &id, &body.assignee_id, version, now)?
            .try_map(|seen| view(conn, seen))
    })
    .await?;
    respond(HttpResponse::Ok(), shown)
}

#[utoipa::path(
    post, path = "/api/v1/requests/{id}/unassign", tag = "requests",
    operation_id = "unassign_request",
    summary = "Put a request back in its team's queue",
    description = "Coordinators only. Takes the request from its assignee back to the team's queue. 409 if it is not assigned; 412 on a stale If-Match.",
    params(
        ("id" = String, Path, description = "Request id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^("[0-9]+"|[0-9]+)$"#, description = "Refuse with 412 if the request changed since this ETag"),
    ),
    responses(
        (status = 200, description = "Back in the team's queue", body = GuidanceRequest, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "Not allowed from the request's current status", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since the If-Match ETag", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn unassign(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    caller.require(CASE_ROLES)?;
    let version = if_match(&req)?;
    let id = id.into_inner();
    let shown = audited(&state, &caller, true, move |conn, actor| {
        workflow::unassign(conn, actor, &id, version, now)?.try_map(|seen| view(conn, seen))
    })
    .await?;
    respond(HttpResponse::Ok(), shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;
    use actix_web::test::TestRequest;
    use proptest::prelude::*;

    fn with_header(name: &str, value: HeaderValue) -> HttpRequest {
        TestRequest::default()
            .insert_header((name, value))
            .to_http_request()
    }

    /// Header values as clients send them: any bytes a header may carry.
    fn header_value() -> impl Strategy<Value = HeaderValue> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..300),
            "\"?[0-9]{0,22}\"?".prop_map(String::into_bytes),
        ]
        .prop_filter_map("not a header value", |bytes| {
            HeaderValue::from_bytes(&bytes).ok()
        })
    }

    proptest! {
        /// Every ETag this API sends reads back as its version.
        #[test]
        fn etags_read_back_as_their_version(version in 0i32..=i32::MAX) {
            let req = with_header("If-Match", HeaderValue::from_str(&etag(version)).unwrap());
            prop_assert_eq!(if_match(&req).unwrap(), Some(i64::from(version)));
        }

        /// Any If-Match is read as a version or refused naming the header,
        /// never a panic; what is read is the digits it carries.
        #[test]
        fn any_if_match_is_a_version_or_refused_by_name(value in header_value()) {
            let text = value.to_str().map(str::trim).unwrap_or_default().to_owned();
            match if_match(&with_header("If-Match", value)) {
                Ok(None) => prop_assert_eq!(text, "*"),
                Ok(Some(version)) => {
                    prop_assert!(version >= 0);
                    prop_assert!(text.trim_matches('"').bytes().all(|b| b.is_ascii_digit()));
                }
                Err(ApiError::BadRequest { errors, .. }) => prop_assert_eq!(&errors[0].field, "If-Match"),
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }

        /// An Idempotency-Key is taken exactly when it is 1 to 255 visible
        /// ASCII characters, and taken unchanged.
        #[test]
        fn idempotency_keys_are_one_to_255_visible_ascii_characters(value in prop_oneof![header_value(), "[!-~]{250,260}".prop_map(|s| HeaderValue::from_str(&s).unwrap())]) {
            let bytes = value.as_bytes().to_vec();
            let valid = (1..=255).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic);
            match idempotency_key(&with_header(IDEMPOTENCY_KEY, value)) {
                Ok(key) => {
                    prop_assert!(valid);
                    prop_assert_eq!(key.map(String::into_bytes), Some(bytes));
                }
                Err(ApiError::BadRequest { errors, .. }) => {
                    prop_assert!(!valid);
                    prop_assert_eq!(&errors[0].field, IDEMPOTENCY_KEY);
                }
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
