//! First-start admin account and the demo seed.

use chrono::NaiveDateTime;
use diesel::Connection;
use rand::distr::{Alphanumeric, SampleString};

use crate::auth::password;
use crate::config::BootstrapSettings;
use crate::db::{Db, DbConnection};
use crate::domain::accounts::{password_problem, Organisation, Region, Role, Skill};
use crate::error::ApiError;
use crate::store::{self, teams::TeamRow};
use crate::workflows::accounts::{self, NewAccount};

/// A random password for generated accounts: 20 alphanumerics, ~119 bits.
pub fn generate_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

fn admin_exists(conn: &mut DbConnection) -> Result<bool, ApiError> {
    use diesel::prelude::*;
    let count: i64 = crate::db::schema::users::table
        .filter(crate::db::schema::users::role.eq(Role::Admin.as_str()))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

/// Creates the first admin when there is none (at `now`): with the
/// configured password, or with a generated one printed once to the console.
pub fn ensure_admin(
    db: &Db,
    settings: &BootstrapSettings,
    now: NaiveDateTime,
) -> anyhow::Result<()> {
    let mut conn = db.blocking_writer()?;
    if admin_exists(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))? {
        return Ok(());
    }
    let email = settings.admin_email.trim();
    if email.is_empty() || !email.contains('@') {
        anyhow::bail!("bootstrap.admin_email: must be an email address to create the first admin");
    }
    let configured = settings.admin_password.expose();
    let (secret, generated) = if configured.is_empty() {
        (generate_password(), true)
    } else {
        if let Some(problem) = password_problem(configured) {
            anyhow::bail!("bootstrap.admin_password: {problem}");
        }
        (configured.to_owned(), false)
    };
    let hash = password::hash(&secret)?;
    let account = NewAccount {
        email: email.to_owned(),
        display_name: "Administrator".to_owned(),
        role: Role::Admin,
        organisation: None,
        region: None,
        skills: Vec::new(),
        team_ids: Vec::new(),
        available: false,
        max_open_requests: None,
        password_change_required: false,
    };
    let created = conn.transaction(|conn| accounts::create(conn, &account, hash, now));
    if let Err(e) = created {
        // Another replica starting at the same moment may have made it.
        if admin_exists(&mut conn).map_err(|e| anyhow::anyhow!("{e}"))? {
            return Ok(());
        }
        anyhow::bail!("creating the first admin: {e}");
    }
    tracing::info!("first admin account created");
    if generated {
        println!("\n  First start: an admin account was created.\n    email:    {email}\n    password: {secret}\n  It is shown only this once; sign in and change it (POST /api/v1/me/password).\n");
    }
    Ok(())
}

/// One account of each role, a duty team and a team per area of expertise
/// (the names `config/triage.toml` routes to), for trying every flow,
/// created at `now`.
pub fn seed_demo(db: &Db, now: NaiveDateTime) -> anyhow::Result<Vec<(Role, String, String)>> {
    let mut conn = db.blocking_writer()?;
    let secret = generate_password();
    let hash = password::hash(&secret)?;
    let accounts = conn
        .transaction(|conn| {
            if store::users::find_by_email(conn, "specialist@nru.local")?.is_some() {
                return Err(ApiError::conflict("the demo data is already present"));
            }
            let mut team_ids = Vec::new();
            for (name, description) in [
                (
                    "Duty",
                    "Immediate risk and missing young people: the duty desk",
                ),
                ("Crime and justice", "Policing, courts and youth justice"),
                (
                    "Health",
                    "Health services and safeguarding in health settings",
                ),
                (
                    "Education and communities",
                    "Schools, colleges and community settings",
                ),
                (
                    "Transitions to adulthood",
                    "Young people moving to adult services",
                ),
            ] {
                let row = TeamRow {
                    id: store::new_id(),
                    name: name.to_owned(),
                    name_key: store::teams::name_key(name),
                    description: Some(description.to_owned()),
                    created_at: now,
                };
                if !store::teams::insert(conn, &row)? {
                    return Err(ApiError::conflict(format!("team {name} already exists")));
                }
                team_ids.push(row.id);
            }
            let people = [
                NewAccount {
                    email: "practitioner@nru.local".into(),
                    display_name: "Pat Practitioner".into(),
                    role: Role::Practitioner,
                    organisation: Some(Organisation::Police),
                    region: Some(Region::London),
                    skills: Vec::new(),
                    team_ids: Vec::new(),
                    available: false,
                    max_open_requests: None,
                    password_change_required: false,
                },
                NewAccount {
                    email: "specialist@nru.local".into(),
                    display_name: "Sam Specialist".into(),
                    role: Role::Specialist,
                    organisation: None,
                    region: None,
                    skills: vec![Skill::CrimeAndJustice, Skill::TransitionsToAdulthood],
                    team_ids: vec![team_ids[1].clone(), team_ids[4].clone()],
                    available: true,
                    max_open_requests: Some(10),
                    password_change_required: false,
                },
                NewAccount {
                    email: "coordinator@nru.local".into(),
                    display_name: "Chris Coordinator".into(),
                    role: Role::Coordinator,
                    organisation: None,
                    region: None,
                    skills: vec![Skill::Health],
                    team_ids: team_ids.clone(),
                    available: true,
                    max_open_requests: Some(5),
                    password_change_required: false,
                },
            ];
            for person in &people {
                accounts::create(conn, person, hash.clone(), now)?;
            }
            Ok(people
                .into_iter()
                .map(|p| (p.role, p.email))
                .collect::<Vec<_>>())
        })
        .map_err(|e| anyhow::anyhow!("demo seed: {e}"))?;
    Ok(accounts
        .into_iter()
        .map(|(role, email)| (role, email, secret.clone()))
        .collect())
}
