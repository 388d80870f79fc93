//! Guidance-request workflows. Each function runs inside the caller's
//! transaction: it checks need-to-know, applies the lifecycle rules, writes
//! the change, its transition and its audit row together.

use chrono::{Datelike, Duration, NaiveDateTime};
use serde_json::json;

use crate::config::RequestSettings;
use crate::db::DbConnection;
use crate::domain::accounts::{Organisation, Region, Role};
use crate::domain::integrations::WebhookEvent;
use crate::domain::lifecycle::{within_reopen_window, Action, Status};
use crate::domain::policy::{self, Access};
use crate::domain::requests::{
    age_problem, flags_to_text, reference, AgeBand, Category, ContactMethod, Gender, MessageKind,
    Priority, Urgency, YoungPersonFlag,
};
use crate::domain::sla::SlaPolicies;
use crate::domain::triage::{Facts as TriageFacts, TriageConfig};
use crate::error::{ApiError, FieldError};
use crate::store::audit::AuditRow;
use crate::store::messages::MessageRow;
use crate::store::requests::{NewRequest, RequestChanges, RequestRow};
use crate::store::{self, access::GrantRow};
use crate::workflows::audit_trail::Audited;
use crate::workflows::lifecycle::{
    apply_action, changed_since, check_version, facts_of, load_for_action, load_visible, Actor,
    Seen,
};

/// Loads a request to show it (`what`: e.g. `request.read`); a staff read
/// is revealed only once its audit row is committed.
pub fn read(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    what: &str,
    now: NaiveDateTime,
) -> Result<Audited<Seen>, ApiError> {
    let seen = load_visible(conn, actor, id, now)?;
    let reader = seen.reader(actor);
    Ok(Audited::read(seen, &reader, what, id, now))
}

/// Withdraw, resolve, reopen, close or request information.
pub fn act(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    action: Action,
    if_match: Option<i64>,
    rules: Rules<'_>,
    now: NaiveDateTime,
) -> Result<Audited<Seen>, ApiError> {
    let settings = rules.requests;
    let seen = load_for_action(conn, actor, id, action, if_match, now)?;
    if action == Action::Reopen {
        let window = Duration::days(settings.reopen_window_days);
        if let Some(resolved_at) = seen.row.resolved_at {
            if !within_reopen_window(resolved_at, now, window) {
                return Err(ApiError::conflict(format!(
                    "the reopen window of {} days after resolution has passed",
                    settings.reopen_window_days
                )));
            }
        }
    }
    let (mut row, recorded) = apply_action(
        conn,
        Some(&actor.user_id),
        &seen.row,
        action,
        RequestChanges::default(),
        json!({}),
        now,
    )?;
    crate::workflows::sla::refresh(conn, rules.sla, &mut row, now)?;
    // None of these actions moves the request out of the caller's reach.
    Ok(Audited::recorded(seen.after(row), recorded))
}

/// The configured rules changes to requests follow.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub requests: &'a RequestSettings,
    pub triage: &'a TriageConfig,
    pub sla: &'a SlaPolicies,
}

/// A coordinator's triage decision.
pub struct TriageChoice<'a> {
    pub priority: Priority,
    pub team_id: &'a str,
    /// A corrected category, if the submitted one was wrong.
    pub category: Option<Category>,
    pub reason: Option<&'a str>,
}

/// Sets priority and team (coordinators); re-triage keeps history in
/// `triage_decisions`, the transitions and the audit trail.
pub fn triage(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    choice: &TriageChoice<'_>,
    if_match: Option<i64>,
    sla: &SlaPolicies,
    now: NaiveDateTime,
) -> Result<Audited<Seen>, ApiError> {
    let TriageChoice {
        priority,
        team_id,
        category,
        reason,
    } = *choice;
    let seen = load_for_action(conn, actor, id, Action::Triage, if_match, now)?;
    if store::teams::find(conn, team_id)?.is_none() {
        return Err(ApiError::field("team_id", "no such team"));
    }
    let changes = RequestChanges {
        priority: Some(Some(priority)),
        team_id: Some(Some(team_id.to_owned())),
        category,
        triaged_at: Some(Some(seen.row.triaged_at.unwrap_or(now))),
        ..Default::default()
    };
    let audit = json!({
        "priority": {"from": seen.row.priority, "to": priority.as_str()},
        "team_id": {"from": seen.row.team_id, "to": team_id},
        "category": {"from": seen.row.category, "to": category.map_or(seen.row.category.as_str(), |c| c.as_str())},
    });
    let was_urgent = crate::workflows::routing::is_immediate_risk(&seen.row);
    let (mut triaged, recorded) = apply_action(
        conn,
        Some(&actor.user_id),
        &seen.row,
        Action::Triage,
        changes,
        audit,
        now,
    )?;
    let reason = reason.map_or_else(
        || "triaged by a coordinator".to_owned(),
        |r| r.trim().to_owned(),
    );
    let skill = store::triage::needed_skill(conn, id)?
        .as_deref()
        .and_then(crate::domain::accounts::Skill::parse);
    crate::workflows::routing::record_decision(
        conn,
        &triaged,
        None,
        &reason,
        skill,
        Some(&actor.user_id),
        now,
    )?;
    crate::workflows::sla::refresh(conn, sla, &mut triaged, now)?;
    if !was_urgent && crate::workflows::routing::is_immediate_risk(&triaged) {
        store::triage::raise_safety_event(
            conn,
            id,
            crate::workflows::routing::IMMEDIATE_RISK_EVENT,
            now,
        )?;
        crate::workflows::notifications::immediate_risk(conn, &triaged, &sla.alert_duties, now)?;
    }
    Ok(Audited::recorded(seen.after(triaged), recorded))
}

/// Assigns to an active specialist of the request's team (coordinators).
pub fn assign(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    assignee_id: &str,
    if_match: Option<i64>,
    now: NaiveDateTime,
) -> Result<Audited<Seen>, ApiError> {
    let seen = load_for_action(conn, actor, id, Action::Assign, if_match, now)?;
    let assignee = store::users::load_record(conn, assignee_id)?
        .ok_or_else(|| ApiError::field("assignee_id", "no such user"))?;
    let fits = assignee.row.active
        && assignee.row.role == Role::Specialist
        && seen
            .row
            .team_id
            .as_ref()
            .is_some_and(|team| assignee.team_ids.contains(team));
    if !fits {
        return Err(ApiError::field(
            "assignee_id",
            "must be an active specialist in the request's team",
        ));
    }
    if store::access::is_excluded(conn, id, assignee_id)? {
        return Err(ApiError::field(
            "assignee_id",
            "this person is excluded from the request",
        ));
    }
    let changes = RequestChanges {
        assignee_id: Some(Some(assignee_id.to_owned())),
        assigned_at: Some(Some(seen.row.assigned_at.unwrap_or(now))),
        ..Default::default()
    };
    let audit = json!({"assignee_id": {"from": seen.row.assignee_id, "to": assignee_id}});
    let (assigned, recorded) = apply_action(
        conn,
        Some(&actor.user_id),
        &seen.row,
        Action::Assign,
        changes,
        audit,
        now,
    )?;
    store::queue::mark_assigned(conn, assignee_id, now)?;
    Ok(Audited::recorded(seen.after(assigned), recorded))
}

pub fn unassign(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    if_match: Option<i64>,
    now: NaiveDateTime,
) -> Result<Audited<Seen>, ApiError> {
    let seen = load_for_action(conn, actor, id, Action::Unassign, if_match, now)?;
    let audit = json!({"assignee_id": {"from": seen.row.assignee_id, "to": null}});
    let (row, recorded) = apply_action(
        conn,
        Some(&actor.user_id),
        &seen.row,
        Action::Unassign,
        RequestChanges::default(),
        audit,
        now,
    )?;
    Ok(Audited::recorded(seen.after(row), recorded))
}

/// What a practitioner submits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Submission {
    pub title: String,
    pub description: String,
    pub category: Category,
    pub urgency: Urgency,
    pub organisation: Option<Organisation>,
    pub region: Option<Region>,
    pub local_reference: Option<String>,
    pub age: Option<i32>,
    pub age_band: Option<AgeBand>,
    pub gender: Option<Gender>,
    pub flags: Vec<YoungPersonFlag>,
    pub contact_method: ContactMethod,
    pub contact_times: Option<String>,
}

pub struct Idempotency<'a> {
    pub key: &'a str,
    pub body_hash: &'a str,
}

/// Creates a request, or with a known Idempotency-Key returns the first
/// result (`true` = replayed). The same key with another body is refused.
pub fn submit(
    conn: &mut DbConnection,
    requester_id: &str,
    submission: &Submission,
    idempotency: Option<Idempotency<'_>>,
    rules: Rules<'_>,
    now: NaiveDateTime,
) -> Result<(RequestRow, bool), ApiError> {
    let Rules {
        requests: settings,
        triage,
        sla,
    } = rules;
    if let Some(idem) = &idempotency {
        if let Some(stored) = store::idempotency::find_live(conn, requester_id, idem.key, now)? {
            if stored.body_hash != idem.body_hash {
                return Err(ApiError::field(
                    "Idempotency-Key",
                    "this key was already used with a different body",
                ));
            }
            let row = store::requests::find(conn, &stored.request_id)?.ok_or(ApiError::NotFound)?;
            return Ok((row, true));
        }
    }
    if let Some((field, message)) = age_problem(submission.age, submission.age_band) {
        return Err(ApiError::Validation(vec![FieldError::new(field, message)]));
    }
    let requester = store::users::find(conn, requester_id)?.ok_or(ApiError::NotFound)?;
    let organisation = submission
        .organisation
        .or(requester
            .organisation
            .as_deref()
            .and_then(Organisation::parse))
        .ok_or_else(|| ApiError::field("organisation", "required: your profile has none"))?;
    let region = submission
        .region
        .or(requester.region.as_deref().and_then(Region::parse))
        .ok_or_else(|| ApiError::field("region", "required: your profile has none"))?;
    // The year's reference counter stays locked from the moment it is taken
    // until commit, so the request is stored with its id as a stand-in and
    // takes its reference after triage and deadlines: concurrent submissions
    // wait for each other only over the statements that carry the reference
    // (the audit entry, an automatic assignment's email, the emails).
    let id = store::new_id();
    let row = RequestRow::from(NewRequest {
        reference: id.clone(),
        id,
        requester_id: requester_id.to_owned(),
        title: submission.title.trim().to_owned(),
        description: submission.description.trim().to_owned(),
        category: submission.category,
        urgency: submission.urgency,
        organisation,
        region,
        local_reference: submission
            .local_reference
            .as_ref()
            .map(|r| r.trim().to_owned()),
        yp_age: submission.age,
        yp_age_band: submission.age_band,
        yp_gender: submission.gender,
        yp_flags: flags_to_text(&submission.flags),
        contact_method: submission.contact_method,
        contact_times: submission
            .contact_times
            .as_ref()
            .map(|t| t.trim().to_owned()),
        created_at: now,
    });
    store::requests::insert(conn, &row)?;
    // Made now so that it comes first in the request's trail.
    let mut created = AuditRow::new(
        Some(requester_id),
        "request.created",
        Some(&row.id),
        json!({}),
        now,
    );
    if let Some(idem) = &idempotency {
        let expires = now + Duration::seconds(settings.idempotency_key_ttl_seconds);
        store::idempotency::insert(
            conn,
            requester_id,
            idem.key,
            idem.body_hash,
            &row.id,
            now,
            expires,
        )?;
    }
    let decision = triage.decide(&TriageFacts {
        category: submission.category,
        urgency: submission.urgency,
        region: row.region,
        organisation: row.organisation,
        flags: &submission.flags,
        title: &row.title,
        description: &row.description,
    });
    let (mut row, hand_out) =
        crate::workflows::routing::triage_new(conn, row, &decision, triage, now)?;
    // Deadlines do not depend on who holds the request, so this can come
    // before the assignment.
    crate::workflows::sla::refresh(conn, sla, &mut row, now)?;
    let year = now.year();
    row.reference = reference(year, store::requests::next_reference_number(conn, year)?);
    store::requests::set_reference(conn, &row.id, &row.reference)?;
    created.details =
        json!({"reference": row.reference, "category": row.category, "urgency": row.urgency})
            .to_string();
    store::audit::insert(conn, std::slice::from_ref(&created))?;
    let row = if hand_out {
        crate::workflows::routing::auto_assign(conn, row, decision.skill, None, now)?
    } else {
        row
    };
    crate::workflows::notifications::request_received(conn, &row, now)?;
    if crate::workflows::routing::is_immediate_risk(&row) {
        crate::workflows::notifications::immediate_risk(conn, &row, &sla.alert_duties, now)?;
    }
    Ok((row, false))
}

/// Editable fields; `Some(None)` clears an optional one.
#[derive(Debug, Default, Clone)]
pub struct Edit {
    pub title: Option<String>,
    pub description: Option<String>,
    pub local_reference: Option<Option<String>>,
    pub age: Option<Option<i32>>,
    pub age_band: Option<Option<AgeBand>>,
    pub gender: Option<Option<Gender>>,
    pub flags: Option<Vec<YoungPersonFlag>>,
    pub contact_method: Option<ContactMethod>,
    pub contact_times: Option<Option<String>>,
}

/// Edits by the requester (while open) or a coordinator (until closed).
/// Free text changes are audited by name only, never by value.
pub fn edit(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    edit: &Edit,
    version: Option<i64>,
    now: NaiveDateTime,
) -> Result<Audited<Seen>, ApiError> {
    let seen = load_visible(conn, actor, id, now)?;
    let version = version.ok_or_else(|| {
        ApiError::PreconditionRequired(
            "send If-Match with the ETag you last read, so edits cannot overwrite each other"
                .into(),
        )
    })?;
    let status = seen.row.status;
    let allowed = match seen.access {
        Access::Requester => status.is_open(),
        Access::Staff => actor.role == Role::Coordinator && !status.is_final(),
        Access::None => false,
    };
    if !allowed {
        return Err(ApiError::forbidden(format!(
            "a {status} request cannot be edited by you"
        )));
    }
    check_version(&seen.row, Some(version))?;
    let row = &seen.row;
    let age = edit.age.unwrap_or(row.yp_age);
    let band = match edit.age_band {
        Some(band) => band,
        None => row.yp_age_band,
    };
    if let Some((field, message)) = age_problem(age, band) {
        return Err(ApiError::Validation(vec![FieldError::new(field, message)]));
    }
    let mut changed: Vec<&str> = Vec::new();
    let mut values = serde_json::Map::new();
    let mut note =
        |name: &'static str, from: serde_json::Value, to: serde_json::Value, free_text: bool| {
            if from != to {
                changed.push(name);
                if !free_text {
                    values.insert(name.to_owned(), json!({"from": from, "to": to}));
                }
            }
        };
    let trimmed = |s: &String| s.trim().to_owned();
    let changes = RequestChanges {
        title: edit.title.as_ref().map(trimmed),
        description: edit.description.as_ref().map(trimmed),
        local_reference: edit
            .local_reference
            .as_ref()
            .map(|r| r.as_ref().map(trimmed)),
        yp_age: edit.age,
        yp_age_band: edit.age_band,
        yp_gender: edit.gender,
        yp_flags: edit.flags.as_deref().map(flags_to_text),
        contact_method: edit.contact_method,
        contact_times: edit.contact_times.as_ref().map(|t| t.as_ref().map(trimmed)),
        ..Default::default()
    };
    if let Some(v) = &changes.title {
        note("title", json!(row.title), json!(v), true);
    }
    if let Some(v) = &changes.description {
        note("description", json!(row.description), json!(v), true);
    }
    if let Some(v) = &changes.local_reference {
        note(
            "local_reference",
            json!(row.local_reference),
            json!(v),
            true,
        );
    }
    if let Some(v) = &changes.contact_times {
        note("contact_times", json!(row.contact_times), json!(v), true);
    }
    if let Some(v) = changes.yp_age {
        note("young_person.age", json!(row.yp_age), json!(v), false);
    }
    if let Some(v) = &changes.yp_age_band {
        note(
            "young_person.age_band",
            json!(row.yp_age_band),
            json!(v),
            false,
        );
    }
    if let Some(v) = &changes.yp_gender {
        note("young_person.gender", json!(row.yp_gender), json!(v), false);
    }
    if let Some(v) = &changes.yp_flags {
        note("young_person.flags", json!(row.yp_flags), json!(v), false);
    }
    if let Some(v) = &changes.contact_method {
        note("contact.method", json!(row.contact_method), json!(v), false);
    }
    if changed.is_empty() {
        // Nothing changed, but the caller is shown the request all the same.
        let reader = seen.reader(actor);
        return Ok(Audited::read(seen, &reader, "request.read", id, now));
    }
    let updated = store::requests::update_versioned(conn, id, row.version, &changes, now)?
        .ok_or_else(changed_since)?;
    let recorded = store::audit::append(
        conn,
        Some(&actor.user_id),
        "request.updated",
        Some(id),
        json!({"fields": changed, "changes": values}),
        now,
    )?;
    Ok(Audited::recorded(seen.after(updated), recorded))
}

/// Posts a reply or an internal note. A requester's reply while the unit
/// awaits them resumes the request; the first staff reply is the first response.
pub fn post_message(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    kind: MessageKind,
    body: &str,
    sla: &SlaPolicies,
    now: NaiveDateTime,
) -> Result<(MessageRow, RequestRow), ApiError> {
    let seen = load_visible(conn, actor, id, now)?;
    let status = seen.row.status;
    let mut row = seen.row.clone();
    match seen.access {
        Access::Requester => {
            if kind == MessageKind::InternalNote {
                return Err(ApiError::forbidden("internal notes are for unit staff"));
            }
            if !status.is_open() {
                return Err(ApiError::conflict(format!(
                    "a {status} request takes no more replies"
                )));
            }
            if status == Status::AwaitingRequester {
                (row, _) = apply_action(
                    conn,
                    Some(&actor.user_id),
                    &seen.row,
                    Action::RequesterReply,
                    RequestChanges::default(),
                    json!({}),
                    now,
                )?;
            }
        }
        Access::Staff => {
            if status.is_final() {
                return Err(ApiError::conflict(format!(
                    "a {status} request takes no more messages"
                )));
            }
            if kind == MessageKind::Reply && row.first_response_at.is_none() {
                let changes = RequestChanges {
                    first_response_at: Some(Some(now)),
                    ..Default::default()
                };
                row = store::requests::update_versioned(conn, id, row.version, &changes, now)?
                    .ok_or_else(changed_since)?;
            }
        }
        Access::None => return Err(ApiError::NotFound),
    }
    let message = MessageRow {
        id: store::new_id(),
        request_id: id.to_owned(),
        author_id: actor.user_id.clone(),
        kind: kind.as_str().to_owned(),
        body: body.trim().to_owned(),
        created_at: now,
    };
    store::messages::insert(conn, &message)?;
    store::audit::append(
        conn,
        Some(&actor.user_id),
        "message.created",
        Some(id),
        json!({"message_id": message.id, "kind": message.kind}),
        now,
    )?;
    crate::workflows::sla::refresh(conn, sla, &mut row, now)?;
    if kind == MessageKind::Reply {
        crate::workflows::notifications::reply_posted(
            conn,
            &row,
            seen.access == Access::Requester,
            now,
        )?;
        crate::workflows::webhooks::publish(
            conn,
            WebhookEvent::MessageCreated,
            &row,
            crate::workflows::webhooks::Detail {
                message_id: Some(message.id.clone()),
                from: Some(if seen.access == Access::Requester {
                    crate::workflows::webhooks::ReplyAuthor::Requester
                } else {
                    crate::workflows::webhooks::ReplyAuthor::Unit
                }),
                ..Default::default()
            },
            now,
        )?;
    }
    Ok((message, row))
}

/// The message kinds a viewer may see: requesters never see internal notes.
pub fn visible_kind(access: Access) -> Option<&'static str> {
    match access {
        Access::Requester => Some(MessageKind::Reply.as_str()),
        _ => None,
    }
}

/// Grants a specialist time-limited access to a request outside their reach.
pub fn break_glass(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    reason: &str,
    settings: &RequestSettings,
    now: NaiveDateTime,
) -> Result<GrantRow, ApiError> {
    if actor.role != Role::Specialist {
        return Err(ApiError::forbidden(
            "break-glass is for specialists; coordinators already see every request",
        ));
    }
    let row = store::requests::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if store::access::is_excluded(conn, id, &actor.user_id)? {
        return Err(ApiError::NotFound);
    }
    if policy::in_normal_reach(&actor.viewer(), &facts_of(&row)) {
        return Err(ApiError::conflict(
            "this request is already within your reach",
        ));
    }
    let grant = GrantRow {
        id: store::new_id(),
        request_id: id.to_owned(),
        user_id: actor.user_id.clone(),
        reason: reason.trim().to_owned(),
        granted_at: now,
        expires_at: now + Duration::minutes(settings.break_glass_minutes),
    };
    store::access::grant(conn, &grant)?;
    tracing::warn!(user_id = %actor.user_id, request_id = %id, "break-glass access granted");
    store::audit::append(
        conn,
        Some(&actor.user_id),
        "break_glass.granted",
        Some(id),
        json!({"grant_id": grant.id, "expires_at": grant.expires_at.and_utc()}),
        now,
    )?;
    Ok(grant)
}

/// Excludes a member of staff from a request (coordinators).
pub fn exclude(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let seen = load_visible(conn, actor, id, now)?;
    if actor.role != Role::Coordinator {
        return Err(ApiError::forbidden(
            "only coordinators exclude staff from a request",
        ));
    }
    let user = store::users::find(conn, user_id)?
        .ok_or_else(|| ApiError::field("user_id", "no such user"))?;
    if !user.role.works_requests() {
        return Err(ApiError::field(
            "user_id",
            "only specialists and coordinators can be excluded",
        ));
    }
    if user_id == actor.user_id {
        return Err(ApiError::field("user_id", "you cannot exclude yourself"));
    }
    if seen.row.assignee_id.as_deref() == Some(user_id) {
        return Err(ApiError::conflict(
            "this person holds the request: assign it to someone else first",
        ));
    }
    // Touch the request's version, so an assignment racing this exclusion
    // fails its version check instead of handing the request to them.
    store::requests::update_versioned(conn, id, seen.row.version, &RequestChanges::default(), now)?
        .ok_or_else(changed_since)?;
    if store::access::exclude(conn, id, user_id, &actor.user_id, now)? {
        store::audit::append(
            conn,
            Some(&actor.user_id),
            "request.exclusion_added",
            Some(id),
            json!({"user_id": user_id}),
            now,
        )?;
    }
    Ok(())
}

pub fn remove_exclusion(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    load_visible(conn, actor, id, now)?;
    if actor.role != Role::Coordinator {
        return Err(ApiError::forbidden("only coordinators manage exclusions"));
    }
    if !store::access::remove_exclusion(conn, id, user_id)? {
        return Err(ApiError::NotFound);
    }
    store::audit::append(
        conn,
        Some(&actor.user_id),
        "request.exclusion_removed",
        Some(id),
        json!({"user_id": user_id}),
        now,
    )?;
    Ok(())
}
