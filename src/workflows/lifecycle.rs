//! A request's lifecycle as every workflow meets it: who the caller is,
//! whether they may see the request (need-to-know, exclusions,
//! break-glass), whether the action is theirs and at the version they name,
//! and applying a lifecycle action with its transition, pause, audit row,
//! emails and webhooks. `requests` and `routing` both build on this.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::db::DbConnection;
use crate::domain::accounts::Role;
use crate::domain::integrations::WebhookEvent;
use crate::domain::lifecycle::{next_status, Action};
use crate::domain::policy::{self, Access, RequestFacts, Viewer};
use crate::error::ApiError;
use crate::store;
use crate::store::audit::Recorded;
use crate::store::requests::{RequestChanges, RequestRow};
use crate::workflows::audit_trail::Reader;

/// The caller as the policy sees them: id, role and teams.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: String,
    pub role: Role,
    pub team_ids: Vec<String>,
}

impl Actor {
    /// The caller's teams are all a workflow needs beyond what the access
    /// token and its session check gave: one query.
    pub fn load(conn: &mut DbConnection, user_id: &str, role: Role) -> Result<Actor, ApiError> {
        Ok(Actor {
            user_id: user_id.to_owned(),
            role,
            team_ids: store::teams::ids_of_member(conn, user_id)?,
        })
    }

    pub(super) fn viewer(&self) -> Viewer<'_> {
        Viewer {
            user_id: &self.user_id,
            role: self.role,
            team_ids: &self.team_ids,
        }
    }
}

/// A request with the caller's access to it.
pub struct Seen {
    pub row: RequestRow,
    pub access: Access,
    pub via_break_glass: bool,
}

impl Seen {
    pub(super) fn reader<'a>(&self, actor: &'a Actor) -> Reader<'a> {
        Reader {
            user_id: &actor.user_id,
            access: self.access,
            via_break_glass: self.via_break_glass,
        }
    }

    /// The same caller's view of the request after a change.
    pub(super) fn after(self, row: RequestRow) -> Seen {
        Seen { row, ..self }
    }
}

/// Loads a request the actor may see; anything else is 404, so a request's
/// existence is never revealed to someone outside it.
pub fn load_visible(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    now: NaiveDateTime,
) -> Result<Seen, ApiError> {
    let row = store::requests::find(conn, id)?.ok_or(ApiError::NotFound)?;
    let staff = actor.role.works_requests();
    let viewer_excluded = staff && store::access::is_excluded(conn, id, &actor.user_id)?;
    let mut facts = RequestFacts {
        requester_id: &row.requester_id,
        team_id: row.team_id.as_deref(),
        assignee_id: row.assignee_id.as_deref(),
        viewer_excluded,
        viewer_break_glass: false,
    };
    let normal = policy::in_normal_reach(&actor.viewer(), &facts);
    if staff && !normal && !viewer_excluded {
        facts.viewer_break_glass = store::access::has_live_grant(conn, id, &actor.user_id, now)?;
    }
    let access = policy::access(&actor.viewer(), &facts);
    if access == Access::None {
        return Err(ApiError::NotFound);
    }
    let via_break_glass = access == Access::Staff && !normal;
    Ok(Seen {
        row,
        access,
        via_break_glass,
    })
}

pub(super) fn check_version(row: &RequestRow, if_match: Option<i64>) -> Result<(), ApiError> {
    match if_match {
        Some(version) if version != i64::from(row.version) => {
            Err(ApiError::PreconditionFailed(format!(
                "the request is at version {}, not {version}; fetch it again and retry",
                row.version
            )))
        }
        _ => Ok(()),
    }
}

pub(super) fn refuse_unless(allowed: bool, action: Action) -> Result<(), ApiError> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "you may not {} this request",
            action.as_str().replace('_', " ")
        )))
    }
}

/// Seconds a pause lasted, to add to the request's paused total.
fn pause_seconds(row: &RequestRow, now: NaiveDateTime) -> i64 {
    row.paused_at
        .map_or(0, |since| (now - since).num_seconds().max(0))
}

/// The lifecycle effects of `action` on `row`, besides the status itself.
fn effects(row: &RequestRow, action: Action, now: NaiveDateTime, changes: &mut RequestChanges) {
    let ends_pause = row.paused_at.is_some()
        && matches!(
            action,
            Action::RequesterReply | Action::Resolve | Action::Withdraw
        );
    if ends_pause {
        changes.paused_at = Some(None);
        changes.paused_seconds = Some(row.paused_seconds + pause_seconds(row, now));
    }
    match action {
        Action::RequestInformation => changes.paused_at = Some(Some(now)),
        Action::Resolve => changes.resolved_at = Some(Some(now)),
        Action::Reopen => changes.resolved_at = Some(None),
        Action::Close => changes.closed_at = Some(Some(now)),
        Action::Withdraw => changes.withdrawn_at = Some(Some(now)),
        Action::Unassign => changes.assignee_id = Some(None),
        Action::Triage | Action::Assign | Action::RequesterReply => {}
    }
}

/// The answer when someone else changed the request between reading and
/// writing it.
pub(super) fn changed_since() -> ApiError {
    ApiError::PreconditionFailed(
        "the request has changed since you read it; fetch it again and retry".into(),
    )
}

/// Applies a lifecycle action with its extra field changes, recording the
/// transition, pauses and the audit row.
pub(super) fn apply_action(
    conn: &mut DbConnection,
    actor_id: Option<&str>,
    row: &RequestRow,
    action: Action,
    mut changes: RequestChanges,
    audit: serde_json::Value,
    now: NaiveDateTime,
) -> Result<(RequestRow, Recorded), ApiError> {
    let from = row.status;
    let to =
        next_status(from, action).map_err(|refused| ApiError::conflict(refused.to_string()))?;
    effects(row, action, now, &mut changes);
    changes.status = Some(to);
    let updated = store::requests::update_versioned(conn, &row.id, row.version, &changes, now)?
        .ok_or_else(changed_since)?;
    if action == Action::RequestInformation {
        store::requests::start_pause(conn, &row.id, now)?;
    } else if row.paused_at.is_some() && changes.paused_at == Some(None) {
        store::requests::end_pause(conn, &row.id, now)?;
    }
    if from != to {
        store::requests::record_transition(
            conn,
            &row.id,
            from.as_str(),
            to.as_str(),
            actor_id,
            now,
        )?;
    }
    let mut details = json!({"action": action.as_str(), "from": from.as_str(), "to": to.as_str()});
    if let (Some(target), Some(extra)) = (details.as_object_mut(), audit.as_object()) {
        target.extend(extra.clone());
    }
    let recorded = store::audit::append(
        conn,
        actor_id,
        "request.transition",
        Some(&row.id),
        details,
        now,
    )?;
    crate::workflows::notifications::after_action(conn, &updated, action, actor_id, now)?;
    if from != to {
        crate::workflows::webhooks::publish(
            conn,
            WebhookEvent::RequestStatusChanged,
            &updated,
            crate::workflows::webhooks::Detail {
                previous_status: Some(from.as_str().to_owned()),
                ..Default::default()
            },
            now,
        )?;
    }
    Ok((updated, recorded))
}

/// Loads a request for `action`: visible to the actor (else 404), the action
/// theirs to take (else 403), and at the version they name (else 412).
pub(super) fn load_for_action(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    action: Action,
    if_match: Option<i64>,
    now: NaiveDateTime,
) -> Result<Seen, ApiError> {
    let seen = load_visible(conn, actor, id, now)?;
    refuse_unless(
        policy::may(action, seen.access, &actor.viewer(), &facts_of(&seen.row)),
        action,
    )?;
    check_version(&seen.row, if_match)?;
    Ok(seen)
}

pub(super) fn facts_of(row: &RequestRow) -> RequestFacts<'_> {
    RequestFacts {
        requester_id: &row.requester_id,
        team_id: row.team_id.as_deref(),
        assignee_id: row.assignee_id.as_deref(),
        ..Default::default()
    }
}
