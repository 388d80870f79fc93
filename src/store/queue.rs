//! The specialists' queue: candidates for auto-assignment, queue listings
//! and the atomic "claim next".

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{request_exclusions, requests, team_members, user_skills, users};
use crate::db::DbConnection;
use crate::domain::accounts::{Role, Skill};
use crate::domain::assignment::Candidate;
use crate::domain::lifecycle::Status;
use crate::store::access::excluded_ids;
use crate::store::requests::RequestRow;

/// Statuses in which a request counts against its assignee's load.
pub const HELD: [Status; 2] = [Status::Assigned, Status::AwaitingRequester];
/// Statuses a queue shows.
pub const QUEUED: [Status; 3] = [Status::Triaged, Status::Assigned, Status::AwaitingRequester];

fn names(statuses: &[Status]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

pub fn open_count(conn: &mut DbConnection, user_id: &str) -> QueryResult<i64> {
    requests::table
        .filter(requests::assignee_id.eq(user_id))
        .filter(requests::status.eq_any(names(&HELD)))
        .count()
        .get_result(conn)
}

/// Active specialists of a team, as auto-assignment sees them for `request_id`.
pub fn candidates(
    conn: &mut DbConnection,
    team_id: &str,
    request_id: &str,
) -> QueryResult<Vec<Candidate>> {
    let members: Vec<(String, bool, Option<i32>, Option<NaiveDateTime>)> = users::table
        .inner_join(team_members::table)
        .filter(team_members::team_id.eq(team_id))
        .filter(users::active.eq(true))
        .filter(users::role.eq(Role::Specialist.as_str()))
        .select((
            users::id,
            users::available,
            users::max_open_requests,
            users::last_assigned_at,
        ))
        .order(users::id.asc())
        .load(conn)?;
    let excluded: Vec<String> = request_exclusions::table
        .filter(request_exclusions::request_id.eq(request_id))
        .select(request_exclusions::user_id)
        .load(conn)?;
    let mut out = Vec::with_capacity(members.len());
    for (user_id, available, limit, last_assigned_at) in members {
        let skills: Vec<String> = user_skills::table
            .filter(user_skills::user_id.eq(&user_id))
            .select(user_skills::skill)
            .load(conn)?;
        out.push(Candidate {
            open_requests: open_count(conn, &user_id)?,
            excluded: excluded.contains(&user_id),
            skills: skills.iter().filter_map(|s| Skill::parse(s)).collect(),
            user_id,
            available,
            limit,
            last_assigned_at,
        });
    }
    Ok(out)
}

pub fn mark_assigned(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(users::table.find(user_id))
        .set(users::last_assigned_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Position in a queue, for cursors: the running deadline, priority, then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueueKey {
    pub due_at: NaiveDateTime,
    pub priority: String,
    pub id: String,
}

impl QueueKey {
    pub fn of(row: &RequestRow) -> QueueKey {
        QueueKey {
            due_at: row.due_at,
            priority: row
                .priority
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            id: row.id.clone(),
        }
    }

    pub fn encode(&self) -> String {
        format!(
            "{}|{}|{}",
            self.due_at.and_utc().timestamp_micros(),
            self.priority,
            self.id
        )
    }

    pub fn decode(text: &str) -> Option<QueueKey> {
        let mut parts = text.splitn(3, '|');
        let micros: i64 = parts.next()?.parse().ok()?;
        let priority = parts.next()?.to_owned();
        let id = parts.next()?.to_owned();
        let due_at = chrono::DateTime::from_timestamp_micros(micros)?.naive_utc();
        Some(QueueKey {
            due_at,
            priority,
            id,
        })
    }
}

/// Whose queue to show.
pub enum QueueScope {
    /// A specialist: their teams' unassigned requests and their own.
    Specialist {
        user_id: String,
        team_ids: Vec<String>,
    },
    /// A coordinator looking at one team: everything queued there except
    /// requests they are excluded from.
    TeamFor { team_id: String, viewer: String },
    /// The whole team queue, for the system's own rebalancing.
    Team(String),
}

/// A page of a queue in working order (see `domain::assignment::queue_order`).
pub fn list(
    conn: &mut DbConnection,
    scope: &QueueScope,
    priority: Option<&str>,
    after: Option<&QueueKey>,
    limit: i64,
) -> QueryResult<Vec<RequestRow>> {
    // Queued requests of the scope's status filter, from `after`, in order.
    macro_rules! queued {
        () => {{
            let mut query = requests::table.select(RequestRow::as_select()).into_boxed();
            if let Some(priority) = priority {
                query = query.filter(requests::priority.eq(priority.to_owned()));
            }
            if let Some(key) = after {
                let p = key.priority.clone();
                query = query.filter(
                    requests::due_at
                        .gt(key.due_at)
                        .or(requests::due_at
                            .eq(key.due_at)
                            .and(requests::priority.gt(p.clone())))
                        .or(requests::due_at
                            .eq(key.due_at)
                            .and(requests::priority.eq(p))
                            .and(requests::id.gt(key.id.clone()))),
                );
            }
            query.order((
                requests::due_at.asc(),
                requests::priority.asc(),
                requests::id.asc(),
            ))
        }};
    }
    match scope {
        QueueScope::Specialist { user_id, team_ids } => {
            // The lifecycle gives every assigned or awaiting request an
            // assignee and no triaged one, so the queue is each team's
            // triaged requests plus the caller's held ones. Each team's part
            // is one ordered range of `requests_queue_idx`, read only as far
            // as the page: a page costs the same however long the backlog
            // (one query over all queued statuses had to read and sort every
            // waiting request). The caller's own are few.
            let mut rows = Vec::new();
            for team_id in team_ids {
                rows.extend(
                    queued!()
                        .filter(requests::team_id.eq(team_id.clone()))
                        .filter(requests::status.eq(Status::Triaged.as_str()))
                        .filter(requests::assignee_id.is_null())
                        .filter(requests::id.ne_all(excluded_ids(user_id)))
                        .limit(limit)
                        .load(conn)?,
                );
            }
            rows.extend(
                queued!()
                    .filter(requests::assignee_id.eq(user_id.clone()))
                    .filter(requests::status.eq_any(names(&HELD)))
                    .filter(requests::team_id.eq_any(team_ids.clone()))
                    .filter(requests::id.ne_all(excluded_ids(user_id)))
                    .limit(limit)
                    .load(conn)?,
            );
            rows.sort_by_cached_key(QueueKey::of);
            rows.dedup_by(|a, b| a.id == b.id);
            rows.truncate(usize::try_from(limit).unwrap_or(0));
            Ok(rows)
        }
        QueueScope::TeamFor { team_id, viewer } => Ok(queued!()
            .filter(requests::status.eq_any(names(&QUEUED)))
            .filter(requests::team_id.eq(team_id.clone()))
            .filter(requests::id.ne_all(excluded_ids(viewer)))
            .limit(limit)
            .load(conn)?),
        QueueScope::Team(team_id) => Ok(queued!()
            .filter(requests::status.eq_any(names(&QUEUED)))
            .filter(requests::team_id.eq(team_id.clone()))
            .limit(limit)
            .load(conn)?),
    }
}

/// Locks and returns the id of the top unassigned request in `team_ids` that
/// `user_id` may take, in queue order. On PostgreSQL the row is locked
/// `FOR UPDATE SKIP LOCKED`, so concurrent callers each get a different
/// request; SQLite has no row locks and needs none, as all writes already
/// run one at a time through the single writer.
pub fn lock_next(
    conn: &mut DbConnection,
    user_id: &str,
    team_ids: &[String],
) -> QueryResult<Option<String>> {
    let next = requests::table
        .filter(requests::status.eq(Status::Triaged.as_str()))
        .filter(requests::assignee_id.is_null())
        .filter(requests::team_id.eq_any(team_ids))
        .filter(requests::id.ne_all(excluded_ids(user_id)))
        .order((
            requests::due_at.asc(),
            requests::priority.asc(),
            requests::id.asc(),
        ))
        .select(requests::id)
        .limit(1);
    let found = match conn {
        DbConnection::Postgresql(c) => next.for_update().skip_locked().get_result::<String>(c),
        DbConnection::Sqlite(c) => next.get_result::<String>(c),
    };
    found.optional()
}

/// Per team: counts by priority and status, and the oldest unassigned request's creation time.
pub struct TeamSummaryRow {
    pub counts: Vec<(Option<String>, String, i64)>,
    pub oldest_unassigned: Option<NaiveDateTime>,
}

/// A team's summary as `viewer` may see it: without the requests they are
/// excluded from.
pub fn team_summary(
    conn: &mut DbConnection,
    team_id: &str,
    viewer: &str,
) -> QueryResult<TeamSummaryRow> {
    let counts: Vec<(Option<String>, String, i64)> = requests::table
        .filter(requests::team_id.eq(team_id))
        .filter(requests::id.ne_all(excluded_ids(viewer)))
        .filter(requests::status.eq_any(names(&QUEUED)))
        .group_by((requests::priority, requests::status))
        .select((
            requests::priority,
            requests::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)?;
    let oldest_unassigned: Option<NaiveDateTime> = requests::table
        .filter(requests::team_id.eq(team_id))
        .filter(requests::id.ne_all(excluded_ids(viewer)))
        .filter(requests::status.eq(Status::Triaged.as_str()))
        .filter(requests::assignee_id.is_null())
        .select(diesel::dsl::min(requests::created_at))
        .first(conn)?;
    Ok(TeamSummaryRow {
        counts,
        oldest_unassigned,
    })
}
