//! Guidance requests: submission, reading, editing, lifecycle actions.

pub mod input;
pub mod view;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::api::extract::{JsonBody, QueryParams};
use crate::api::pagination::{Page, PageRequest};
use crate::api::state::AppState;
use crate::auth::{Caller, ClientCaller};
use crate::domain::accounts::Role;
use crate::domain::lifecycle::Action;
use crate::domain::policy::Access;
use crate::error::ApiError;
use crate::store;
use crate::store::requests::{RequestFilter, Visibility};
use crate::workflows::audit_trail::Audited;
use crate::workflows::integrations;
use crate::workflows::requests::{self as workflow, Edit, Idempotency, Submission};

use crate::api::preconditions::{idempotency_key, if_match};
use crate::api::run::audited;
use crate::domain::accounts::CASE_ROLES;
use input::{AssignBody, EditRequest, RequestListQuery, SortOrder, SubmitRequest, TriageBody};
use view::{extras, listed, respond, view, GuidanceRequest, RequestSummary};

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
        let (submission, key, body_hash, settings) = (
            submission.clone(),
            key.clone(),
            body_hash.clone(),
            settings.clone(),
        );
        let (submitter, on_behalf_of) = (submitter.clone(), on_behalf_of.clone());
        let triage = state.triage.clone();
        let sla = state.sla.clone();
        state.db.write(move |conn| {
            let idem = key.as_deref().map(|key| Idempotency {
                key,
                body_hash: &body_hash,
            });
            let rules = workflow::Rules {
                requests: &settings,
                triage: &triage,
                sla: &sla,
            };
            let (row, replayed) = match &submitter {
                Submitter::Person(id) => workflow::submit(conn, id, &submission, idem, rules, now)?,
                Submitter::Client(client) => integrations::submit_for(
                    conn,
                    client,
                    on_behalf_of.as_deref(),
                    submission,
                    idem,
                    rules,
                    now,
                )?,
            };
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
