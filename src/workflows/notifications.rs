//! Email notifications. Changes to requests write outbox rows here, in their
//! own transaction, so an email exists exactly when its cause does; the
//! mailer job delivers them. An email carries the reference, status,
//! priority, due time and a link, never case text.

use chrono::{NaiveDateTime, TimeZone};
use serde_json::{json, Value};

use crate::db::DbConnection;
use crate::domain::lifecycle::Action;
use crate::domain::notifications::{outbox_priority, EmailEvent};
use crate::domain::rota::Duty;
use crate::error::ApiError;
use crate::store;
use crate::store::outbox::{EmailRow, PENDING};
use crate::store::requests::RequestRow;
use crate::store::sla::{EventRow, NO_DEADLINE};

/// A time as people in the unit read it.
pub fn local_time(at: NaiveDateTime) -> String {
    chrono_tz::Europe::London
        .from_utc_datetime(&at)
        .format("%a %-d %b %Y, %H:%M (UK time)")
        .to_string()
}

/// What every email about `row` may say.
fn context(row: &RequestRow, extra: Value) -> Value {
    let mut context = json!({
        "request_id": row.id,
        "reference": row.reference,
        "status": row.status.as_str().replace('_', " "),
        "priority": row.priority,
        "due_at": (row.due_at != NO_DEADLINE).then(|| local_time(row.due_at)),
    });
    if let (Some(target), Some(extra)) = (context.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    context
}

/// Writes one email per recipient (each once, excluded people never).
pub fn enqueue(
    conn: &mut DbConnection,
    event: EmailEvent,
    row: &RequestRow,
    recipient_ids: &[String],
    extra: Value,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let mut ids = recipient_ids.to_vec();
    ids.sort();
    ids.dedup();
    let context = context(row, extra).to_string();
    for recipient in store::outbox::recipients(conn, &ids, &row.id)? {
        store::outbox::insert(
            conn,
            &EmailRow {
                id: store::new_id(),
                event: event.as_str().to_owned(),
                request_id: Some(row.id.clone()),
                recipient_id: Some(recipient.id),
                to_address: recipient.email,
                recipient_name: recipient.display_name,
                context: context.clone(),
                status: PENDING.to_owned(),
                attempts: 0,
                next_attempt_at: now,
                lease_until: None,
                leased_by: None,
                last_error: None,
                created_at: now,
                sent_at: None,
                priority: outbox_priority(event.is_safety_critical()),
            },
        )?;
    }
    Ok(())
}

/// Holders of `duties` now; if nobody holds one, every coordinator, so a
/// safety-critical email always has someone to go to.
fn on_duty_or_all_coordinators(
    conn: &mut DbConnection,
    duties: &[Duty],
    now: NaiveDateTime,
) -> Result<Vec<String>, ApiError> {
    let names: Vec<&str> = duties.iter().map(|d| d.as_str()).collect();
    let on_duty = store::outbox::on_duty_ids(conn, &names, now)?;
    if on_duty.is_empty() {
        Ok(store::outbox::coordinator_ids(conn, None)?)
    } else {
        Ok(on_duty)
    }
}

/// The assignee, or the team's coordinators while nobody holds the request.
fn holder_or_team_coordinators(
    conn: &mut DbConnection,
    row: &RequestRow,
) -> Result<Vec<String>, ApiError> {
    match &row.assignee_id {
        Some(assignee) => Ok(vec![assignee.clone()]),
        None => Ok(store::outbox::coordinator_ids(
            conn,
            row.team_id.as_deref(),
        )?),
    }
}

/// A new request: the requester is told it arrived.
pub fn request_received(
    conn: &mut DbConnection,
    row: &RequestRow,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    enqueue(
        conn,
        EmailEvent::RequestReceived,
        row,
        std::slice::from_ref(&row.requester_id),
        json!({}),
        now,
    )
}

/// Immediate risk: whoever holds an alert duty is told at once.
pub fn immediate_risk(
    conn: &mut DbConnection,
    row: &RequestRow,
    alert_duties: &[Duty],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let to = on_duty_or_all_coordinators(conn, alert_duties, now)?;
    enqueue(conn, EmailEvent::ImmediateRisk, row, &to, json!({}), now)
}

/// After a lifecycle action by `actor_id` (None: the system).
pub fn after_action(
    conn: &mut DbConnection,
    row: &RequestRow,
    action: Action,
    actor_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let (event, to) = match action {
        Action::Assign => match &row.assignee_id {
            // Claiming work for yourself needs no email.
            Some(assignee) if Some(assignee.as_str()) != actor_id => {
                (EmailEvent::RequestAssigned, vec![assignee.clone()])
            }
            _ => return Ok(()),
        },
        Action::RequestInformation => (
            EmailEvent::InformationRequested,
            vec![row.requester_id.clone()],
        ),
        Action::Resolve => (EmailEvent::RequestResolved, vec![row.requester_id.clone()]),
        _ => return Ok(()),
    };
    enqueue(conn, event, row, &to, json!({}), now)
}

/// A reply (never an internal note) goes to the other side.
pub fn reply_posted(
    conn: &mut DbConnection,
    row: &RequestRow,
    from_requester: bool,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let to = if from_requester {
        holder_or_team_coordinators(conn, row)?
    } else {
        vec![row.requester_id.clone()]
    };
    enqueue(conn, EmailEvent::ReplyPosted, row, &to, json!({}), now)
}

/// An SLA event just recorded: warnings to whoever holds the request,
/// breaches to the alert duties and the assignee, escalation steps to the
/// duty called (or the alert duties when nobody holds it).
pub fn sla_event(
    conn: &mut DbConnection,
    row: &RequestRow,
    event: &EventRow,
    alert_duties: &[Duty],
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let target = event.clock.replace('_', " ");
    let extra = json!({"level": event.level, "target": target, "duty": event.target});
    match event.kind.as_str() {
        "warning" => {
            let to = holder_or_team_coordinators(conn, row)?;
            enqueue(conn, EmailEvent::SlaWarning, row, &to, extra, now)
        }
        "breach" => {
            let mut to = on_duty_or_all_coordinators(conn, alert_duties, now)?;
            to.extend(row.assignee_id.clone());
            enqueue(conn, EmailEvent::SlaBreach, row, &to, extra, now)
        }
        _ => {
            let duty = event
                .target
                .as_deref()
                .unwrap_or(Duty::DutyCoordinator.as_str());
            let mut to = store::outbox::on_duty_ids(conn, &[duty], now)?;
            if to.is_empty() {
                to = on_duty_or_all_coordinators(conn, alert_duties, now)?;
            }
            let duty = duty.replace('_', " ");
            let extra = json!({"level": event.level, "duty": duty});
            enqueue(conn, EmailEvent::Escalation, row, &to, extra, now)
        }
    }
}
