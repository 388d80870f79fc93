//! Synthetic data at scale, for benchmarks: teams, staff, practitioners and
//! requests over the last two years in every status, with their history,
//! messages, audit rows and response-time facts computed by the same rules as
//! the service. Nothing in it looks like a real person: names are numbered
//! roles, addresses end in `.invalid`, and texts are fixed placeholders.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Datelike, Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::db::schema::{
    audit_log, messages, reference_counters, request_sla, request_transitions, requests,
    sla_events, team_members, teams, user_skills, users,
};
use crate::db::{Db, DbConnection};
use crate::domain::accounts::Skill;
use crate::domain::accounts::{Organisation, Region, Role};
use crate::domain::lifecycle::Status;
use crate::domain::requests::{reference, Category, ContactMethod, Priority, Urgency};
use crate::domain::sla::SlaPolicies;
use crate::domain::triage::TriageConfig;
use crate::store::audit::AuditRow;
use crate::store::messages::MessageRow;
use crate::store::requests::{NewRequest, RequestRow, TransitionRow};
use crate::store::sla::{EventRow, SlaRow};
use crate::store::teams::TeamRow;
use crate::store::users::UserRow;
use crate::workflows::sla::{compute, event_row, History};

const SPECIALISTS: usize = 60;
const COORDINATORS: usize = 6;
const DAYS: i64 = 730;

/// The teams the triage rules name, in the order first named, each with the
/// skill its first rule asks for.
pub fn teams_of(triage: &TriageConfig) -> Vec<(String, Option<Skill>)> {
    let mut teams: Vec<(String, Option<Skill>)> = Vec::new();
    let named = triage
        .rules
        .iter()
        .map(|r| (&r.team, r.skill))
        .chain(std::iter::once((
            &triage.default.team,
            triage.default.skill,
        )));
    for (team, skill) in named {
        match teams
            .iter_mut()
            .find(|(name, _)| name.eq_ignore_ascii_case(team))
        {
            Some((_, known)) => *known = known.or(skill),
            None => teams.push((team.clone(), skill)),
        }
    }
    teams
}

/// How much to make.
pub struct Plan {
    pub requests: u64,
    /// The teams the triage rules route to, with the skill each one's rules
    /// ask for, so new requests submitted afterwards land in these teams.
    pub teams: Vec<(String, Option<Skill>)>,
    pub seed: u64,
    pub now: NaiveDateTime,
    /// Argon2 hash every synthetic account signs in with.
    pub password_hash: String,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub users: usize,
    pub requests: u64,
    pub messages: u64,
    pub transitions: u64,
    pub audit_rows: u64,
    pub seconds: f64,
}

/// A UUIDv7 for an instant, so ids sort as the rows were created.
fn id_at(at: NaiveDateTime, rng: &mut StdRng) -> String {
    let stamp = at.and_utc();
    let millis = u64::try_from(stamp.timestamp_millis()).unwrap_or_default();
    let mut random = [0u8; 10];
    rng.fill(&mut random);
    uuid::Builder::from_unix_timestamp_millis(millis, &random)
        .into_uuid()
        .to_string()
}

fn user(id: String, n: usize, role: Role, plan: &Plan) -> UserRow {
    let practitioner = role == Role::Practitioner;
    let name = role.as_str();
    UserRow {
        email: format!("{name}-{n:05}@synthetic.invalid"),
        display_name: format!("{} {n}", capitalise(name)),
        role,
        organisation: practitioner.then(|| {
            Organisation::ALL[n % Organisation::ALL.len()]
                .as_str()
                .to_owned()
        }),
        region: practitioner.then(|| Region::ALL[n % Region::ALL.len()].as_str().to_owned()),
        password_hash: plan.password_hash.clone(),
        active: true,
        available: role == Role::Specialist,
        max_open_requests: None,
        created_at: plan.now - Duration::days(DAYS + 1),
        updated_at: plan.now - Duration::days(DAYS + 1),
        password_change_required: false,
        id,
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The people and teams requests are spread over.
struct Cast {
    practitioners: Vec<(String, Organisation, Region)>,
    /// Per team, its specialists.
    teams: Vec<(String, Vec<String>)>,
}

fn cast(conn: &mut DbConnection, plan: &Plan, rng: &mut StdRng) -> anyhow::Result<(Cast, usize)> {
    let practitioner_count = usize::try_from(plan.requests / 200)
        .unwrap_or(5000)
        .clamp(10, 5000);
    let start = plan.now - Duration::days(DAYS + 1);
    let mut rows = Vec::new();
    let mut practitioners = Vec::new();
    for n in 0..practitioner_count {
        let row = user(id_at(start, rng), n, Role::Practitioner, plan);
        let organisation = Organisation::ALL[n % Organisation::ALL.len()];
        let region = Region::ALL[n % Region::ALL.len()];
        practitioners.push((row.id.clone(), organisation, region));
        rows.push(row);
    }
    let mut team_rows = Vec::new();
    let mut members = Vec::new();
    let mut team_list = Vec::new();
    let mut skills = Vec::new();
    for (t, (name, skill)) in plan.teams.iter().enumerate() {
        let team = TeamRow {
            id: id_at(start, rng),
            name_key: crate::store::teams::name_key(name),
            name: name.clone(),
            description: None,
            created_at: start,
        };
        let mut specialists = Vec::new();
        for n in (t..SPECIALISTS).step_by(plan.teams.len()) {
            let row = user(id_at(start, rng), n, Role::Specialist, plan);
            members.push((team.id.clone(), row.id.clone()));
            if let Some(skill) = skill {
                skills.push((row.id.clone(), skill.as_str()));
            }
            specialists.push(row.id.clone());
            rows.push(row);
        }
        team_list.push((team.id.clone(), specialists));
        team_rows.push(team);
    }
    for n in 0..COORDINATORS {
        let row = user(id_at(start, rng), n, Role::Coordinator, plan);
        for (team_id, _) in &team_list {
            members.push((team_id.clone(), row.id.clone()));
        }
        rows.push(row);
    }
    let count = rows.len();
    crate::db::insert_all!(conn, users::table, &rows);
    crate::db::insert_all!(conn, teams::table, &team_rows);
    for (team_id, user_id) in members {
        diesel::insert_into(team_members::table)
            .values((
                team_members::team_id.eq(team_id),
                team_members::user_id.eq(user_id),
            ))
            .execute(conn)?;
    }
    for (user_id, skill) in skills {
        diesel::insert_into(user_skills::table)
            .values((
                user_skills::user_id.eq(user_id),
                user_skills::skill.eq(skill),
            ))
            .execute(conn)?;
    }
    Ok((
        Cast {
            practitioners,
            teams: team_list,
        },
        count,
    ))
}

/// Everything one request brings.
#[derive(Default)]
struct Rows {
    requests: Vec<RequestRow>,
    transitions: Vec<TransitionRow>,
    messages: Vec<MessageRow>,
    audit: Vec<AuditRow>,
    sla: Vec<SlaRow>,
    events: Vec<EventRow>,
}

fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// Minutes drawn from a long-tailed spread between `low` and `high`.
fn minutes(rng: &mut StdRng, low: i64, high: i64) -> Duration {
    let u: f64 = rng.random();
    let span = (high - low).max(1) as f64;
    Duration::minutes(low + (span * u * u * u) as i64)
}

/// A time to reach a target: mostly well within it, about one in eight over.
fn against(rng: &mut StdRng, target: Duration) -> Duration {
    let u: f64 = rng.random();
    Duration::minutes(1 + (target.num_minutes() as f64 * u * u * 1.3) as i64)
}

struct Builder<'a> {
    plan: &'a Plan,
    policies: &'a SlaPolicies,
    cast: &'a Cast,
    rng: StdRng,
    counters: BTreeMap<i32, i64>,
    /// Requests made so far.
    made: u64,
}

impl Builder<'_> {
    fn audit(
        &mut self,
        rows: &mut Rows,
        at: NaiveDateTime,
        actor: Option<&str>,
        action: &str,
        request_id: &str,
        details: serde_json::Value,
    ) {
        rows.audit.push(AuditRow {
            id: id_at(at, &mut self.rng),
            at,
            actor_id: actor.map(str::to_owned),
            action: action.to_owned(),
            request_id: Some(request_id.to_owned()),
            details: details.to_string(),
        });
    }

    /// Creation times spread evenly over the two years and made in order, so
    /// each table grows at its end as it does in service, rather than by
    /// random inserts all over its indexes.
    fn created_at(&mut self) -> NaiveDateTime {
        let span = (DAYS * 24 * 60 * 60) as f64;
        let slot = span / self.plan.requests.max(1) as f64;
        let offset = (self.made as f64 + self.rng.random::<f64>()) * slot;
        self.made += 1;
        self.plan.now - Duration::days(DAYS) + Duration::seconds(offset as i64)
    }

    fn request(&mut self, rows: &mut Rows) -> anyhow::Result<()> {
        let now = self.plan.now;
        let created = self.created_at();
        let (requester, organisation, region) = self.cast.practitioners
            [self.rng.random_range(0..self.cast.practitioners.len())]
        .clone();
        let (team_id, specialists) =
            &self.cast.teams[self.rng.random_range(0..self.cast.teams.len())];
        let specialist = specialists[self.rng.random_range(0..specialists.len())].clone();
        let priority = match self.rng.random_range(0..100) {
            0..5 => Priority::P1,
            5..25 => Priority::P2,
            25..75 => Priority::P3,
            _ => Priority::P4,
        };
        let year = created.year();
        let sequence = self.counters.entry(year).or_default();
        *sequence += 1;
        let id = id_at(created, &mut self.rng);
        let mut row = RequestRow::from(NewRequest {
            id: id.clone(),
            reference: reference(year, *sequence),
            requester_id: requester.clone(),
            title: "Synthetic request".into(),
            description: "Synthetic description for load testing.".into(),
            category: pick(&mut self.rng, Category::ALL),
            urgency: pick(&mut self.rng, Urgency::ALL),
            organisation,
            region,
            local_reference: None,
            yp_age: Some(self.rng.random_range(10..18)),
            yp_age_band: None,
            yp_gender: None,
            yp_flags: String::new(),
            contact_method: ContactMethod::Email,
            contact_times: None,
            created_at: created,
        });
        self.audit(
            rows,
            created,
            Some(&requester),
            "request.created",
            &id,
            serde_json::json!({"reference": row.reference}),
        );
        let mut transitions: Vec<(String, String, NaiveDateTime)> = Vec::new();
        let mut replies: Vec<(bool, NaiveDateTime, String)> = Vec::new();
        let mut at = created;
        let mut step = |this: &mut Self,
                        rows: &mut Rows,
                        row: &mut RequestRow,
                        to: Status,
                        when: NaiveDateTime,
                        actor: Option<&str>| {
            let from = row.status.as_str();
            rows.transitions.push(TransitionRow {
                id: id_at(when, &mut this.rng),
                request_id: row.id.clone(),
                from_status: from.into(),
                to_status: to.as_str().into(),
                actor_id: actor.map(str::to_owned),
                at: when,
            });
            transitions.push((from.into(), to.as_str().into(), when));
            this.audit(
                rows,
                when,
                actor,
                "request.transition",
                &row.id.clone(),
                serde_json::json!({"from": from, "to": to.as_str()}),
            );
            row.status = to;
            row.updated_at = when;
            row.version += 1;
        };
        // Walk the lifecycle as far as time allows.
        at += minutes(&mut self.rng, 1, 60);
        if at < now && self.rng.random_range(0..100) < 99 {
            row.priority = Some(priority);
            row.team_id = Some(team_id.clone());
            row.triaged_at = Some(at);
            step(self, rows, &mut row, Status::Triaged, at, None);
            at += minutes(&mut self.rng, 1, 240);
            if at < now {
                row.assignee_id = Some(specialist.clone());
                row.assigned_at = Some(at);
                step(
                    self,
                    rows,
                    &mut row,
                    Status::Assigned,
                    at,
                    Some(&specialist),
                );
                let policy = self.policies.for_priority(priority);
                let (first_target, resolution_target) = (policy.first_response, policy.resolution);
                at = created
                    + against(&mut self.rng, first_target).max(at - created + Duration::minutes(1));
                if at < now {
                    row.first_response_at = Some(at);
                    let message = id_at(at, &mut self.rng);
                    rows.messages.push(MessageRow {
                        id: message.clone(),
                        request_id: id.clone(),
                        author_id: specialist.clone(),
                        kind: "reply".into(),
                        body: "Synthetic guidance.".into(),
                        created_at: at,
                    });
                    replies.push((false, at, message));
                    if self.rng.random_range(0..100) < 20 {
                        let paused = at + Duration::minutes(1);
                        step(
                            self,
                            rows,
                            &mut row,
                            Status::AwaitingRequester,
                            paused,
                            Some(&specialist),
                        );
                        at = paused + minutes(&mut self.rng, 30, 2 * 24 * 60);
                        if at < now {
                            let message = id_at(at, &mut self.rng);
                            rows.messages.push(MessageRow {
                                id: message.clone(),
                                request_id: id.clone(),
                                author_id: requester.clone(),
                                kind: "reply".into(),
                                body: "Synthetic answer.".into(),
                                created_at: at,
                            });
                            replies.push((true, at, message));
                            step(self, rows, &mut row, Status::Assigned, at, Some(&requester));
                        }
                    }
                    at = at.max(created + against(&mut self.rng, resolution_target));
                    if at < now && row.status == Status::Assigned {
                        row.resolved_at = Some(at);
                        step(
                            self,
                            rows,
                            &mut row,
                            Status::Resolved,
                            at,
                            Some(&specialist),
                        );
                        at += minutes(&mut self.rng, 60, 7 * 24 * 60);
                        if at < now {
                            row.closed_at = Some(at);
                            step(self, rows, &mut row, Status::Closed, at, Some(&requester));
                        }
                    }
                }
            }
        }
        let existing = (priority == Priority::P1 && row.triaged_at.is_some()).then(|| {
            let since = row.triaged_at.unwrap_or(created);
            SlaRow {
                ack_started_at: Some(since),
                acknowledged_at: Some(since + minutes(&mut self.rng, 1, 30)),
                acknowledged_by: Some(specialist.clone()),
                ..SlaRow::default()
            }
        });
        let history = History {
            transitions: &transitions,
            replies: &replies,
        };
        if let Some(computed) = compute(self.policies, &row, existing.as_ref(), &history, now)? {
            row.due_at = computed.due_at;
            for crossing in computed
                .crossings
                .iter()
                .filter(|c| c.kind == crate::domain::deadlines::EventKind::Breach)
            {
                rows.events
                    .push(event_row(&id, crossing, crossing.at.naive_utc()));
            }
            rows.sla.push(computed.facts);
        }
        rows.requests.push(row);
        Ok(())
    }
}

fn write(conn: &mut DbConnection, rows: &Rows) -> anyhow::Result<()> {
    crate::db::insert_all!(conn, requests::table, &rows.requests);
    crate::db::insert_all!(conn, request_transitions::table, &rows.transitions);
    crate::db::insert_all!(conn, messages::table, &rows.messages);
    crate::db::insert_all!(conn, audit_log::table, &rows.audit);
    crate::db::insert_all!(conn, request_sla::table, &rows.sla);
    crate::db::insert_all!(conn, sla_events::table, &rows.events);
    Ok(())
}

/// Fills an empty database. Refuses one that already holds requests, so
/// references never clash.
pub fn fill(db: &Db, policies: &SlaPolicies, plan: &Plan) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut conn = db.blocking_writer()?;
    let existing: i64 = requests::table.count().get_result(&mut *conn)?;
    if existing > 0 {
        anyhow::bail!(
            "the database already holds {existing} requests; synthetic data goes into an empty one"
        );
    }
    if let DbConnection::Sqlite(c) = &mut *conn {
        // A bulk load touches far more index pages than the default 2 MB cache holds.
        diesel::sql_query("PRAGMA cache_size = -262144").execute(c)?;
    }
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let (cast, users) = conn.transaction(|conn| cast(conn, plan, &mut rng))?;
    let mut builder = Builder {
        plan,
        policies,
        cast: &cast,
        rng,
        counters: BTreeMap::new(),
        made: 0,
    };
    let mut summary = Summary {
        users,
        ..Summary::default()
    };
    let mut left = plan.requests;
    while left > 0 {
        let size = left.min(5_000);
        let mut rows = Rows::default();
        for _ in 0..size {
            builder.request(&mut rows)?;
        }
        conn.transaction(|conn| write(conn, &rows))?;
        summary.requests += size;
        summary.messages += rows.messages.len() as u64;
        summary.transitions += rows.transitions.len() as u64;
        summary.audit_rows += rows.audit.len() as u64;
        left -= size;
    }
    conn.transaction(|conn| -> anyhow::Result<()> {
        for (year, last) in &builder.counters {
            diesel::insert_into(reference_counters::table)
                .values((
                    reference_counters::year.eq(*year),
                    reference_counters::last_value.eq(*last),
                ))
                .execute(conn)?;
        }
        Ok(())
    })?;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_are_those_the_triage_rules_name_with_their_skill() {
        let triage = TriageConfig::parse(
            r#"
            [[rule]]
            name = "a"
            when = { categories = ["trafficking"] }
            priority = "P2"
            team = "Duty"
            [[rule]]
            name = "b"
            when = { organisations = ["health"] }
            priority = "P3"
            team = "Health"
            skill = "health"
            [[rule]]
            name = "c"
            when = { organisations = ["education"] }
            priority = "P3"
            team = "health"
            [default]
            priority = "P3"
            team = "Duty"
            "#,
        )
        .unwrap();
        assert_eq!(
            teams_of(&triage),
            vec![
                ("Duty".to_owned(), None),
                ("Health".to_owned(), Some(Skill::Health))
            ]
        );
    }
}
