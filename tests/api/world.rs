//! The world the API tests act in: the people, teams and API clients they
//! make through the API, the two set-ups most tests start from (a `Unit`:
//! one team with its staff and practitioners; a `Desk`: two teams under
//! routing rules), the request a practitioner submits, and the helpers on
//! them that more than one test file uses. A helper that only one file's
//! tests need stays in that file (an `impl Unit` block there).
//!
//! The harness underneath (servers, databases, `Reply`) is `helpers.rs`.

use chrono::{NaiveDate, NaiveDateTime};
use nru_helpdesk::config::{EmailTransport, Settings, SmtpSecurity};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::smtp::SmtpServer;

impl TestApp {
    /// Creates a user through the API as admin; returns its JSON.
    pub async fn create_user(&self, admin: &str, body: Value) -> Value {
        self.post("/api/v1/users", Some(admin), body)
            .await
            .created()
            .body
    }

    /// Creates a team as admin; returns its id.
    pub async fn create_team(&self, admin: &str, name: &str) -> String {
        self.post("/api/v1/teams", Some(admin), json!({"name": name}))
            .await
            .created()
            .id()
    }

    /// A signed-in user of `role` with a valid profile; returns (id, access token).
    pub async fn user_of_role(&self, admin: &str, role: &str, email: &str) -> (String, String) {
        let mut body = json!({"email": email, "display_name": format!("Test {role}"), "role": role, "password": PASSWORD});
        if role == "practitioner" {
            body["organisation"] = json!("health");
            body["region"] = json!("wales");
        }
        let user = self.create_user(admin, body).await;
        let (token, _) = self.sign_in(email, PASSWORD).await;
        (user.id(), token)
    }

    /// A new API client; returns (id, secret).
    pub async fn api_client(
        &self,
        admin: &str,
        organisation: &str,
        scopes: &[&str],
    ) -> (String, String) {
        let reply = self
            .post(
                "/api/v1/admin/api-clients",
                Some(admin),
                json!({"name": format!("{organisation} case system"), "organisation": organisation, "scopes": scopes}),
            )
            .await.created();
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        (reply.body["client"].id(), reply.string("client_secret"))
    }

    /// An access token for the API client (the client-credentials grant).
    pub async fn client_token(&self, id: &str, secret: &str) -> String {
        self.token_form(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ],
            None,
        )
        .await
        .ok()
        .string("access_token")
    }

    /// A form POSTed to the OAuth token endpoint, with HTTP Basic
    /// credentials when given.
    pub async fn token_form(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
        let mut request = self
            .client
            .post(format!("{}/api/v1/auth/token", self.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form)
                    .finish(),
            );
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        read(request.send().await.unwrap()).await
    }
}

/// A unit with one team, a specialist in it, one outside it, a coordinator
/// and two practitioners.
pub struct Unit {
    pub app: TestApp,
    pub admin: String,
    pub team: String,
    pub specialist_id: String,
    pub specialist: String,
    pub outsider_id: String,
    pub outsider: String,
    pub coordinator_id: String,
    pub coordinator: String,
    pub practitioner_id: String,
    pub practitioner: String,
    pub other_practitioner: String,
}

/// A fresh unit on a fresh app.
pub async fn unit() -> Unit {
    unit_on(spawn_app().await).await
}

/// The same unit, served by `app`.
pub async fn unit_on(app: TestApp) -> Unit {
    let admin = app.admin_token().await;
    let team = app.create_team(&admin, "Crime and justice").await;
    let other_team = app.create_team(&admin, "Health").await;
    let mut staff = Vec::new();
    for (email, role, team_id) in [
        ("sam@unit.test", "specialist", &team),
        ("ash@unit.test", "specialist", &other_team),
        ("cat@unit.test", "coordinator", &team),
    ] {
        let user = app
            .create_user(
                &admin,
                json!({"email": email, "display_name": email, "role": role, "password": PASSWORD,
                       "team_ids": [team_id], "available": true}),
            )
            .await;
        let (token, _) = app.sign_in(email, PASSWORD).await;
        staff.push((user.id(), token));
    }
    let (practitioner_id, practitioner) = app
        .user_of_role(&admin, "practitioner", "pat@police.test")
        .await;
    let (_, other_practitioner) = app
        .user_of_role(&admin, "practitioner", "kim@school.test")
        .await;
    let mut staff = staff.into_iter();
    let (specialist_id, specialist) = staff.next().unwrap();
    let (outsider_id, outsider) = staff.next().unwrap();
    let (coordinator_id, coordinator) = staff.next().unwrap();
    Unit {
        app,
        admin,
        team,
        specialist_id,
        specialist,
        outsider_id,
        outsider,
        coordinator_id,
        coordinator,
        practitioner_id,
        practitioner,
        other_practitioner,
    }
}

/// The request a practitioner submits.
pub fn submission() -> Value {
    json!({
        "title": "Concern about county lines recruitment",
        "description": "A 15-year-old is being groomed to carry drugs between two towns.",
        "category": "child_criminal_exploitation",
        "urgency": "high",
        "local_reference": "POL-123",
        "young_person": {"age": 15, "gender": "male", "flags": ["missing_from_home"]},
        "contact": {"method": "phone", "times": "weekdays 9-5"}
    })
}

impl Unit {
    pub async fn submit(&self) -> Value {
        self.app
            .post("/api/v1/requests", Some(&self.practitioner), submission())
            .await
            .created()
            .body
    }

    /// A submitted request triaged at `priority` into the team, unassigned.
    pub async fn triaged(&self, priority: &str) -> String {
        let id = self.submit().await.id();
        self.app
            .post(
                &format!("/api/v1/requests/{id}/triage"),
                Some(&self.coordinator),
                json!({"priority": priority, "team_id": self.team}),
            )
            .await
            .ok();
        id
    }

    /// A submitted request triaged (P2) into the team and assigned to the specialist.
    pub async fn assigned(&self) -> String {
        let id = self.triaged("P2").await;
        self.app
            .post(
                &format!("/api/v1/requests/{id}/assign"),
                Some(&self.coordinator),
                json!({"assignee_id": self.specialist_id}),
            )
            .await
            .ok();
        id
    }

    /// The request as the coordinator reads it.
    pub async fn detail(&self, id: &str) -> Value {
        self.app
            .get(&format!("/api/v1/requests/{id}"), Some(&self.coordinator))
            .await
            .ok()
            .body
    }

    pub async fn act(&self, id: &str, action: &str, token: &str) -> Reply {
        self.app
            .post(
                &format!("/api/v1/requests/{id}/{action}"),
                Some(token),
                json!({}),
            )
            .await
    }

    pub async fn message(&self, id: &str, token: &str, kind: &str, body: &str) -> Reply {
        self.app
            .post(
                &format!("/api/v1/requests/{id}/messages"),
                Some(token),
                json!({"kind": kind, "body": body}),
            )
            .await
    }

    /// The request's audit trail as a coordinator reads it (with case attributes).
    pub async fn audit_actions(&self, id: &str) -> Vec<(String, Value)> {
        self.app
            .get(
                &format!("/api/v1/requests/{id}/audit?limit=100"),
                Some(&self.coordinator),
            )
            .await
            .ok()
            .items()
            .into_iter()
            .map(|e| (e["action"].as_str().unwrap().to_owned(), e))
            .collect()
    }

    /// The response-times report as the coordinator reads it.
    pub async fn report(&self, query: &str) -> Value {
        self.app
            .get(
                &format!("/api/v1/reports/response-times?{query}"),
                Some(&self.coordinator),
            )
            .await
            .ok()
            .body
    }

    /// The emails in the outbox with `status`, as the admin lists them.
    pub async fn outbox(&self, status: &str) -> Vec<Value> {
        self.app
            .get(
                &format!("/api/v1/admin/outbox?status={status}&limit=100"),
                Some(&self.admin),
            )
            .await
            .ok()
            .items()
    }
}

pub fn year() -> i32 {
    use chrono::Datelike;
    chrono::Utc::now().year()
}

/// Monday 30 November 2026, 15:00 in London (GMT, so also UTC).
pub fn monday_1500() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 30)
        .unwrap()
        .and_hms_opt(15, 0, 0)
        .unwrap()
}

/// Email through `smtp` (tests/api/smtp.rs), with links to a test web
/// address; the response-time monitor (under tests/fixtures/sla-walk.toml)
/// runs only when a test ticks it.
pub fn send_to(settings: &mut Settings, smtp: &SmtpServer) {
    settings.email.transport = EmailTransport::Smtp;
    settings.email.smtp.host = "127.0.0.1".into();
    settings.email.smtp.port = smtp.port;
    settings.email.smtp.security = SmtpSecurity::None;
    settings.email.smtp.timeout_seconds = 5;
    settings.email.web_base_url = "https://helpdesk.test".into();
    settings.sla.policies_file = fixture("sla-walk.toml");
    settings.sla.monitor_interval_seconds = 24 * 3600;
}

/// The `Desk`'s routing rules: immediate risk to Duty (manual), criminal
/// exploitation to Crime (least loaded, needing the crime skill), the rest
/// to Duty.
pub const RULES: &str = r#"
[[rule]]
name = "immediate risk"
when = { urgencies = ["immediate_risk"] }
priority = "P1"
team = "Duty"

[[rule]]
name = "criminal exploitation"
when = { categories = ["child_criminal_exploitation"] }
priority = "P2"
team = "Crime"
skill = "crime_and_justice"

[default]
priority = "P3"
team = "Duty"

[teams.Crime]
assignment = "least_loaded"
"#;

/// Two teams, Duty and Crime, under [`RULES`], with a coordinator of both
/// and a practitioner.
pub struct Desk {
    pub app: TestApp,
    pub admin: String,
    pub duty: String,
    pub crime: String,
    pub coordinator: String,
    pub practitioner: String,
    _rules: tempfile::TempDir,
}

pub async fn desk() -> Desk {
    let rules = tempfile::tempdir().unwrap();
    let path = rules.path().join("triage.toml");
    std::fs::write(&path, RULES).unwrap();
    let app = spawn_app_with(|s| s.triage.rules_file = path.display().to_string()).await;
    let admin = app.admin_token().await;
    let duty = app.create_team(&admin, "Duty").await;
    let crime = app.create_team(&admin, "Crime").await;
    let coordinator = staff(
        &app,
        &admin,
        "cat@unit.test",
        "coordinator",
        &[&duty, &crime],
        &[],
        None,
        true,
    )
    .await
    .1;
    let (_, practitioner) = app
        .user_of_role(&admin, "practitioner", "pat@police.test")
        .await;
    Desk {
        app,
        admin,
        duty,
        crime,
        coordinator,
        practitioner,
        _rules: rules,
    }
}

/// A staff member; returns (id, access token).
#[allow(clippy::too_many_arguments)]
pub async fn staff(
    app: &TestApp,
    admin: &str,
    email: &str,
    role: &str,
    teams: &[&str],
    skills: &[&str],
    limit: Option<i32>,
    available: bool,
) -> (String, String) {
    let user = app
        .create_user(
            admin,
            json!({"email": email, "display_name": email, "role": role, "password": PASSWORD,
                   "team_ids": teams, "skills": skills, "available": available, "max_open_requests": limit}),
        )
        .await;
    (user.id(), app.sign_in(email, PASSWORD).await.0)
}

impl Desk {
    pub async fn submit(&self, category: &str, urgency: &str) -> Value {
        let mut body = submission();
        body["category"] = json!(category);
        body["urgency"] = json!(urgency);
        body["young_person"]["flags"] = json!([]);
        self.app
            .post("/api/v1/requests", Some(&self.practitioner), body)
            .await
            .created()
            .body
    }

    pub async fn specialist(&self, email: &str, team: &str) -> (String, String) {
        staff(
            &self.app,
            &self.admin,
            email,
            "specialist",
            &[team],
            &["crime_and_justice"],
            None,
            true,
        )
        .await
    }
}
