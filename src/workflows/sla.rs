//! Keeps each request's response-time facts current: deadlines after every
//! change, the events as warning points, deadlines and escalation steps pass
//! (recorded once, whoever records them first). The monitor that finds
//! requests whose next point has come is the SLA monitor job.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use crate::db::DbConnection;
use crate::domain::deadlines::{
    self, Assessment, ClockKind, Crossing, EventKind, Facts, Run, SlaState,
};
use crate::domain::integrations::WebhookEvent;
use crate::domain::requests::Priority;
use crate::domain::sla::SlaPolicies;
use crate::error::ApiError;
use crate::store;
use crate::store::requests::RequestRow;
use crate::store::sla::{EventRow, SlaRow, NO_DEADLINE};

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

fn naive(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

fn seconds(from: NaiveDateTime, to: NaiveDateTime) -> i64 {
    (to - from).num_seconds()
}

/// What a request's facts say at a moment: the response-time row to keep,
/// the points passed so far (each to be recorded once), and the earliest
/// running deadline for `requests.due_at`.
pub struct Computed {
    pub facts: SlaRow,
    pub crossings: Vec<Crossing>,
    pub due_at: NaiveDateTime,
}

/// A request's status history `(from, to, at)` and replies `(from the
/// requester, at, message id)`, both in order.
pub struct History<'a> {
    pub transitions: &'a [(String, String, NaiveDateTime)],
    pub replies: &'a [(bool, NaiveDateTime, String)],
}

/// Computes a request's response-time facts at `now` from its row, its
/// history and what was stored before. Pure; `None` before triage.
pub fn compute(
    policies: &SlaPolicies,
    row: &RequestRow,
    existing: Option<&SlaRow>,
    history: &History<'_>,
    now: NaiveDateTime,
) -> Result<Option<Computed>, ApiError> {
    let Some(priority) = row.priority else {
        return Ok(None);
    };
    let policy = policies.for_priority(priority);
    let status = row.status;
    let is_p1 = priority == Priority::P1;
    let ack_started_at = existing
        .and_then(|s| s.ack_started_at)
        .or_else(|| is_p1.then_some(now));
    let acknowledged_at = existing.and_then(|s| s.acknowledged_at);
    let transitions: Vec<_> = history
        .transitions
        .iter()
        .map(|(from, to, at)| (from.clone(), to.clone(), utc(*at)))
        .collect();
    let stops = deadlines::stops_from_transitions(&transitions);
    let replies: Vec<_> = history
        .replies
        .iter()
        .map(|(requester, at, id)| (*requester, utc(*at), id.clone()))
        .collect();
    let ended_at = if status.is_final() {
        row.closed_at.or(row.withdrawn_at)
    } else {
        None
    };
    let facts = Facts {
        created_at: utc(row.created_at),
        first_response_at: row.first_response_at.map(utc),
        resolved_at: row.resolved_at.map(utc),
        ended_at: ended_at.map(utc),
        next_response: deadlines::latest_next_response(row.first_response_at.map(utc), &replies),
        acknowledgement: ack_started_at.map(|since| (utc(since), acknowledged_at.map(utc))),
    };
    let rule = is_p1.then_some(&policies.acknowledgement);
    let runs = deadlines::runs(policy, rule, &facts);
    let Assessment {
        crossings,
        state,
        next_check,
        due: running_due,
    } = deadlines::assess(&runs, rule, &stops, utc(now));

    let run = |kind: ClockKind| runs.iter().find(|r| r.kind == kind);
    let due = |r: Option<&Run<'_>>| r.and_then(|r| r.due(&stops)).map(naive);
    let figures = |r: Option<&Run<'_>>, reached: Option<NaiveDateTime>| match (r, reached) {
        (Some(r), Some(at)) => (
            Some(r.counted(utc(at), &stops).num_seconds()),
            Some(seconds(row.created_at, at)),
            r.met(&stops),
        ),
        _ => (None, None, None),
    };
    let (fr_business, fr_wall, fr_met) =
        figures(run(ClockKind::FirstResponse), row.first_response_at);
    let (res_business, res_wall, res_met) = figures(run(ClockKind::Resolution), row.resolved_at);
    let next = run(ClockKind::NextResponse);
    let first_breach = crossings
        .iter()
        .filter(|c| c.kind == EventKind::Breach)
        .map(|c| naive(c.at))
        .min();
    let breached_at = existing
        .and_then(|s| s.breached_at)
        .into_iter()
        .chain(first_breach)
        .min();
    let state = if breached_at.is_some() {
        SlaState::Breached
    } else {
        state
    };
    let escalation_level = crossings
        .iter()
        .filter(|c| c.kind == EventKind::Escalation)
        .map(|c| c.level)
        .max()
        .unwrap_or(0);
    let facts = SlaRow {
        request_id: row.id.clone(),
        priority: priority.as_str().to_owned(),
        state: state.as_str().to_owned(),
        first_response_due_at: due(run(ClockKind::FirstResponse)),
        next_response_cycle: next.map(|r| r.cycle.clone()),
        next_response_started_at: next.map(|r| naive(r.start)),
        next_response_due_at: due(next.filter(|r| r.end.is_none())),
        resolution_due_at: due(run(ClockKind::Resolution)),
        first_response_business_seconds: fr_business,
        first_response_wall_seconds: fr_wall,
        first_response_met: fr_met,
        resolution_business_seconds: res_business,
        resolution_wall_seconds: res_wall,
        resolution_met: res_met,
        ack_started_at,
        ack_due_at: due(run(ClockKind::Acknowledgement)),
        acknowledged_at,
        acknowledged_by: existing.and_then(|s| s.acknowledged_by.clone()),
        acknowledgement_seconds: ack_started_at
            .zip(acknowledged_at)
            .map(|(since, at)| seconds(since, at)),
        escalation_level,
        breached_at,
        next_check_at: next_check.map(naive),
        updated_at: now,
    };
    Ok(Some(Computed {
        facts,
        crossings,
        due_at: running_due.map_or(NO_DEADLINE, naive),
    }))
}

/// An SLA event row for a point passed.
pub fn event_row(request_id: &str, crossing: &Crossing, now: NaiveDateTime) -> EventRow {
    EventRow {
        id: store::new_id(),
        request_id: request_id.to_owned(),
        clock: crossing.clock.as_str().to_owned(),
        cycle: crossing.cycle.clone(),
        kind: crossing.kind.as_str().to_owned(),
        level: crossing.level,
        target: crossing.target.clone(),
        due_at: naive(crossing.due_at),
        crossed_at: naive(crossing.at),
        recorded_at: now,
        // Its emails are queued in the same transaction.
        notified_at: Some(now),
    }
}

/// Recomputes a request's deadlines, figures and state from its stored facts
/// at `now`, and records every point passed that is not yet recorded.
/// Returns the events this call recorded, and leaves `row.due_at` current.
/// Untriaged requests have no policy.
pub fn refresh(
    conn: &mut DbConnection,
    policies: &SlaPolicies,
    row: &mut RequestRow,
    now: NaiveDateTime,
) -> Result<Vec<EventRow>, ApiError> {
    if row.priority.is_none() {
        store::sla::set_due_at(conn, &row.id, NO_DEADLINE)?;
        row.due_at = NO_DEADLINE;
        return Ok(Vec::new());
    }
    let existing = store::sla::find(conn, &row.id)?;
    let transitions = store::sla::transitions(conn, &row.id)?;
    let replies = store::sla::replies(conn, &row.id, &row.requester_id)?;
    let history = History {
        transitions: &transitions,
        replies: &replies,
    };
    let Some(computed) = compute(policies, row, existing.as_ref(), &history, now)? else {
        return Ok(Vec::new());
    };
    let mut recorded = Vec::new();
    for crossing in &computed.crossings {
        let event = event_row(&row.id, crossing, now);
        if store::sla::record_event(conn, &event)? {
            store::audit::append(
                conn,
                None,
                &format!("sla.{}", event.kind),
                Some(&row.id),
                json!({
                    "clock": event.clock,
                    "level": event.level,
                    "target": event.target,
                    "due_at": event.due_at,
                    "crossed_at": event.crossed_at,
                }),
                now,
            )?;
            recorded.push(event);
        }
    }
    store::sla::save(conn, &computed.facts)?;
    store::sla::set_due_at(conn, &row.id, computed.due_at)?;
    row.due_at = computed.due_at;
    for event in &recorded {
        crate::workflows::notifications::sla_event(conn, row, event, &policies.alert_duties, now)?;
        if event.kind == EventKind::Breach.as_str() {
            crate::workflows::webhooks::publish(
                conn,
                WebhookEvent::RequestSlaBreached,
                row,
                crate::workflows::webhooks::Detail {
                    clock: Some(event.clock.clone()),
                    due_at: Some(event.due_at.and_utc()),
                    ..Default::default()
                },
                now,
            )?;
        }
    }
    Ok(recorded)
}
