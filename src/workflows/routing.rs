//! Getting work to people: triage of new requests by the rules, automatic
//! assignment, and claiming from the queue. Each function runs inside the
//! caller's transaction.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::DbConnection;
use crate::domain::accounts::{Role, Skill};
use crate::domain::assignment::least_loaded;
use crate::domain::lifecycle::{Action, Status};
use crate::domain::requests::{Priority, Urgency};
use crate::domain::triage::{AssignmentMode, Decision, TriageConfig};
use crate::error::ApiError;
use crate::store::audit::Recorded;
use crate::store::requests::{RequestChanges, RequestRow};
use crate::store::triage::DecisionRow;
use crate::store::{self, queue};
use crate::workflows::audit_trail::Audited;
use crate::workflows::lifecycle::{apply_action, load_visible, Actor, Seen};

/// A P1 or immediate-risk request needs the duty coordinators at once.
pub fn is_immediate_risk(row: &RequestRow) -> bool {
    row.urgency == Urgency::ImmediateRisk || row.priority == Some(Priority::P1)
}

pub const IMMEDIATE_RISK_EVENT: &str = "immediate_risk";

/// Records a triage decision (by the rules when `actor_id` is None).
pub fn record_decision(
    conn: &mut DbConnection,
    row: &RequestRow,
    rule: Option<&str>,
    reason: &str,
    skill: Option<Skill>,
    actor_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    Ok(store::triage::record(
        conn,
        &DecisionRow {
            id: store::new_id(),
            request_id: row.id.clone(),
            rule: rule.map(str::to_owned),
            reason: reason.to_owned(),
            priority: row.priority.map(|p| p.as_str().to_owned()),
            team_id: row.team_id.clone(),
            skill: skill.map(|s| s.as_str().to_owned()),
            actor_id: actor_id.map(str::to_owned),
            decided_at: now,
        },
    )?)
}

/// Triages a just-submitted request by the rules. A rule naming a missing
/// team leaves the request `new` for a coordinator, with the reason
/// recorded. Also answers whether its team hands out work automatically,
/// in which case the caller goes on to [`auto_assign`].
pub fn triage_new(
    conn: &mut DbConnection,
    row: RequestRow,
    decision: &Decision,
    triage: &TriageConfig,
    now: NaiveDateTime,
) -> Result<(RequestRow, bool), ApiError> {
    let team = store::teams::find_by_name(conn, &decision.team)?;
    let row = match &team {
        Some(team) => {
            let changes = RequestChanges {
                priority: Some(Some(decision.priority)),
                team_id: Some(Some(team.id.clone())),
                triaged_at: Some(Some(now)),
                ..Default::default()
            };
            let audit = json!({"rule": decision.rule, "reason": decision.reason,
                               "priority": decision.priority.as_str(), "team_id": team.id});
            let (triaged, _) = apply_action(conn, None, &row, Action::Triage, changes, audit, now)?;
            record_decision(
                conn,
                &triaged,
                Some(&decision.rule),
                &decision.reason,
                decision.skill,
                None,
                now,
            )?;
            triaged
        }
        None => {
            let reason = format!(
                "{}; but team \"{}\" does not exist, so a coordinator must triage it",
                decision.reason, decision.team
            );
            record_decision(
                conn,
                &row,
                Some(&decision.rule),
                &reason,
                decision.skill,
                None,
                now,
            )?;
            store::audit::append(
                conn,
                None,
                "request.triage_skipped",
                Some(&row.id),
                json!({"rule": decision.rule, "reason": reason}),
                now,
            )?;
            row
        }
    };
    if is_immediate_risk(&row) {
        store::triage::raise_safety_event(conn, &row.id, IMMEDIATE_RISK_EVENT, now)?;
    }
    let hand_out =
        team.is_some_and(|team| triage.assignment_mode(&team.name) == AssignmentMode::LeastLoaded);
    Ok((row, hand_out))
}

/// Assigns a triaged, unassigned request to the least-loaded fitting
/// specialist of its team, if any (never `skip_user`). Returns the request
/// as it now stands.
pub fn auto_assign(
    conn: &mut DbConnection,
    row: RequestRow,
    skill: Option<Skill>,
    skip_user: Option<&str>,
    now: NaiveDateTime,
) -> Result<RequestRow, ApiError> {
    let (Some(team_id), None, Status::Triaged) =
        (row.team_id.clone(), row.assignee_id.as_ref(), row.status)
    else {
        return Ok(row);
    };
    let mut candidates = queue::candidates(conn, &team_id, &row.id)?;
    candidates.retain(|c| Some(c.user_id.as_str()) != skip_user);
    let assignee = loop {
        let Some(chosen) = least_loaded(&candidates, skill) else {
            return Ok(row);
        };
        let chosen = chosen.user_id.clone();
        // Loads were read without locks: another transaction (a claim, a
        // hand-on) may have given the chosen person work since. Counted
        // again under their lock, as a claim counts, or the next one tried.
        if at_limit(conn, &chosen)?.is_none() {
            break chosen;
        }
        candidates.retain(|c| c.user_id != chosen);
    };
    let changes = RequestChanges {
        assignee_id: Some(Some(assignee.clone())),
        assigned_at: Some(Some(row.assigned_at.unwrap_or(now))),
        ..Default::default()
    };
    let audit = json!({"assignee_id": {"from": null, "to": assignee}, "by": "least_loaded"});
    let (assigned, _) = apply_action(conn, None, &row, Action::Assign, changes, audit, now)?;
    queue::mark_assigned(conn, &assignee, now)?;
    Ok(assigned)
}

fn skill_for(conn: &mut DbConnection, request_id: &str) -> Result<Option<Skill>, ApiError> {
    Ok(store::triage::needed_skill(conn, request_id)?
        .as_deref()
        .and_then(Skill::parse))
}

/// Hands out a least-loaded team's waiting requests, in queue order, while
/// someone fits.
pub fn rebalance_team(
    conn: &mut DbConnection,
    team_id: &str,
    triage: &TriageConfig,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let Some(team) = store::teams::find(conn, team_id)? else {
        return Ok(());
    };
    if triage.assignment_mode(&team.name) != AssignmentMode::LeastLoaded {
        return Ok(());
    }
    let scope = queue::QueueScope::Team(team_id.to_owned());
    let mut after: Option<queue::QueueKey> = None;
    loop {
        let page = queue::list(conn, &scope, None, after.as_ref(), 200)?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = Some(queue::QueueKey::of(last));
        for row in page
            .into_iter()
            .filter(|r| r.assignee_id.is_none() && r.status == Status::Triaged)
        {
            let skill = skill_for(conn, &row.id)?;
            auto_assign(conn, row, skill, None, now)?;
        }
    }
}

fn require_specialist(actor: &Actor) -> Result<(), ApiError> {
    if actor.role == Role::Specialist {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "only specialists claim work from the queue",
        ))
    }
}

/// Locks the caller's own row first, so concurrent claims by one person
/// count their load one after another and the limit holds.
fn refuse_over_limit(conn: &mut DbConnection, actor: &Actor) -> Result<(), ApiError> {
    match at_limit(conn, &actor.user_id)? {
        Some(limit) => Err(ApiError::conflict(format!(
            "you already hold {limit} open requests, your limit"
        ))),
        None => Ok(()),
    }
}

/// The person's limit if they hold that many open requests already. Their
/// row stays locked (PostgreSQL) until the transaction ends, so whoever
/// counts next waits for this transaction's change: every path that hands
/// someone work (claims, least-loaded assignment) counts here.
fn at_limit(conn: &mut DbConnection, user_id: &str) -> Result<Option<i32>, ApiError> {
    let user = store::users::find_locked(conn, user_id)?.ok_or(ApiError::NotFound)?;
    match user.max_open_requests {
        Some(limit) if queue::open_count(conn, user_id)? >= i64::from(limit) => Ok(Some(limit)),
        _ => Ok(None),
    }
}

fn take(
    conn: &mut DbConnection,
    actor: &Actor,
    row: &RequestRow,
    how: &str,
    now: NaiveDateTime,
) -> Result<Audited<RequestRow>, ApiError> {
    let changes = RequestChanges {
        assignee_id: Some(Some(actor.user_id.clone())),
        assigned_at: Some(Some(row.assigned_at.unwrap_or(now))),
        ..Default::default()
    };
    let audit = json!({"assignee_id": {"from": null, "to": actor.user_id}, "by": how});
    let (taken, recorded) = apply_action(
        conn,
        Some(&actor.user_id),
        row,
        Action::Assign,
        changes,
        audit,
        now,
    )?;
    queue::mark_assigned(conn, &actor.user_id, now)?;
    Ok(Audited::recorded(taken, recorded))
}

/// A specialist takes a request from their team's queue.
pub fn claim(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    now: NaiveDateTime,
) -> Result<Audited<RequestRow>, ApiError> {
    require_specialist(actor)?;
    let seen = load_visible(conn, actor, id, now)?;
    let in_team = seen
        .row
        .team_id
        .as_ref()
        .is_some_and(|t| actor.team_ids.contains(t));
    if !in_team {
        return Err(ApiError::forbidden(
            "you can claim only requests of your teams",
        ));
    }
    if already_holds(&seen.row, actor)? {
        // Claiming again changes nothing but shows the request: a read.
        let reader = seen.reader(actor);
        return Ok(Audited::read(seen.row, &reader, "request.read", id, now));
    }
    refuse_over_limit(conn, actor)?;
    match take(conn, actor, &seen.row, "claim", now) {
        Err(ApiError::PreconditionFailed(_)) => lost_race(conn, actor, &seen, id, now),
        taken => taken,
    }
}

/// Whether `actor` holds the request already; a conflict if someone else does.
fn already_holds(row: &RequestRow, actor: &Actor) -> Result<bool, ApiError> {
    match row.assignee_id.as_deref() {
        Some(holder) if holder == actor.user_id => Ok(true),
        Some(_) => Err(ApiError::conflict("someone else holds this request")),
        None => Ok(false),
    }
}

/// A claim whose versioned update found the request changed since it was
/// read: another claimer (or another change) got there first. The caller
/// sent no `If-Match`, so this is a 409 saying someone holds it now, not a 412.
fn lost_race(
    conn: &mut DbConnection,
    actor: &Actor,
    seen: &Seen,
    id: &str,
    now: NaiveDateTime,
) -> Result<Audited<RequestRow>, ApiError> {
    let row = store::requests::find(conn, id)?.ok_or(ApiError::NotFound)?;
    if already_holds(&row, actor)? {
        return Ok(Audited::read(
            row,
            &seen.reader(actor),
            "request.read",
            id,
            now,
        ));
    }
    Err(ApiError::conflict(
        "the request changed while you claimed it; fetch it again and retry",
    ))
}

/// Takes the top request of the caller's queue, or None when it is empty.
/// Exactly one caller gets each request, however many ask at once.
pub fn claim_next(
    conn: &mut DbConnection,
    actor: &Actor,
    now: NaiveDateTime,
) -> Result<Option<Audited<RequestRow>>, ApiError> {
    require_specialist(actor)?;
    refuse_over_limit(conn, actor)?;
    let Some(id) = queue::lock_next(conn, &actor.user_id, &actor.team_ids)? else {
        return Ok(None);
    };
    let row = store::requests::find(conn, &id)?.ok_or(ApiError::NotFound)?;
    take(conn, actor, &row, "claim_next", now).map(Some)
}

/// The assignee (or a coordinator) puts a request back in the queue; a
/// least-loaded team hands it straight to someone else. The release's audit
/// row is the caller's.
pub fn release(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    triage: &TriageConfig,
    now: NaiveDateTime,
) -> Result<Recorded, ApiError> {
    let seen = load_visible(conn, actor, id, now)?;
    let holder = seen.row.assignee_id.clone();
    let allowed =
        actor.role == Role::Coordinator || holder.as_deref() == Some(actor.user_id.as_str());
    if !allowed {
        return Err(ApiError::forbidden(
            "only the assignee or a coordinator releases a request",
        ));
    }
    let audit = json!({"assignee_id": {"from": holder, "to": null}, "by": "release"});
    let (released, recorded) = apply_action(
        conn,
        Some(&actor.user_id),
        &seen.row,
        Action::Unassign,
        RequestChanges::default(),
        audit,
        now,
    )?;
    let Some(team) = released
        .team_id
        .clone()
        .map(|t| store::teams::find(conn, &t))
        .transpose()?
        .flatten()
    else {
        return Ok(recorded);
    };
    if triage.assignment_mode(&team.name) == AssignmentMode::LeastLoaded {
        let skill = skill_for(conn, &released.id)?;
        auto_assign(conn, released, skill, holder.as_deref(), now)?;
    }
    Ok(recorded)
}
