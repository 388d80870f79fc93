//! Retention and subject access: the free text of long-finished requests
//! is redacted (by the job and by `nru-helpdesk redact`) while statistics
//! and the audit trail stay, each request once however many runs; admins
//! export one request whole. The service's clock is a manual one the
//! tests move.

use base64::Engine;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use nru_helpdesk::config::Settings;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::world::{submission, unit_on, Unit};

const MARKER: &str = "[redacted]";
const NOTE: &str = "Internal: the school has raised this twice before.";
const REPLY: &str = "Please call the county lines coordinator today.";

/// Monday 8 January 2024, 10:00 UTC.
fn start() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 1, 8)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

/// A unit whose clock stands at `at`; retention and the response-time
/// monitor run only when a test ticks them.
async fn unit_at(at: NaiveDateTime, customise: impl FnOnce(&mut Settings)) -> Unit {
    let app = spawn_app_at(at, |s| {
        s.retention.interval_seconds = 7 * 24 * 3600;
        s.sla.monitor_interval_seconds = 24 * 3600;
        customise(s);
    })
    .await;
    unit_on(app).await
}

impl Unit {
    /// An assigned request with an internal note and a reply, resolved by
    /// the specialist and closed by the practitioner.
    async fn closed(&self) -> String {
        let id = self.assigned().await;
        for (kind, body) in [("internal_note", NOTE), ("reply", REPLY)] {
            self.message(&id, &self.specialist, kind, body)
                .await
                .created();
        }
        for (action, token) in [("resolve", &self.specialist), ("close", &self.practitioner)] {
            let done = self.act(&id, action, token).await;
            assert_eq!(done.status, StatusCode::OK, "{action}: {}", done.body);
        }
        id
    }

    /// Resolved by the specialist and never closed.
    async fn resolved(&self) -> String {
        let id = self.assigned().await;
        self.act(&id, "resolve", &self.specialist).await.ok();
        id
    }

    async fn withdrawn(&self) -> String {
        let id = self.submit().await.id();
        self.act(&id, "withdraw", &self.practitioner).await.ok();
        id
    }

    fn advance(&self, by: Duration) {
        self.app.clock.advance(by);
    }

    async fn bodies(&self, id: &str) -> Vec<String> {
        self.app
            .get(
                &format!("/api/v1/requests/{id}/messages?limit=100"),
                Some(&self.coordinator),
            )
            .await
            .ok()
            .items()
            .iter()
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn redaction_rows(&self, id: &str) -> Vec<Value> {
        self.audit_actions(id)
            .await
            .into_iter()
            .filter(|(action, _)| action == "request.redacted")
            .map(|(_, entry)| entry)
            .collect()
    }

    async fn redact(&self) -> Vec<String> {
        let mut ids = self.app.retention.tick().await.expect("retention runs");
        ids.sort();
        ids
    }

    async fn export(&self, id: &str, token: Option<&str>) -> Reply {
        self.app
            .get(&format!("/api/v1/admin/requests/{id}/export"), token)
            .await
    }
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// The request's free text as submitted (tests/api/world.rs `submission`).
fn assert_intact(detail: &Value) {
    let submitted = submission();
    assert_eq!(detail["title"], submitted["title"]);
    assert_eq!(detail["description"], submitted["description"]);
    assert_eq!(detail["local_reference"], "POL-123");
    assert_eq!(detail["young_person"]["age"], 15);
    assert_eq!(detail["redacted_at"], Value::Null);
}

#[tokio::test]
async fn requests_finished_longer_ago_than_the_period_are_redacted_and_the_rest_untouched() {
    let unit = unit_at(start(), |_| {}).await;
    let closed = unit.closed().await;
    let withdrawn = unit.withdrawn().await;
    let resolved = unit.resolved().await;
    let open = unit.assigned().await;
    let before = unit.detail(&closed).await;
    let messages_before = unit.detail(&closed).await["message_count"].clone();

    // Closed 400 days later: 330 days short of the period at the end.
    unit.advance(Duration::days(400));
    let recent = unit.closed().await;

    // Not yet: a day short of the period.
    unit.advance(Duration::days(329));
    assert!(unit.redact().await.is_empty());

    unit.advance(Duration::days(1));
    let report_query = "from=2024-01-08&to=2025-02-10&group_by=category";
    let report_before = unit.report(report_query).await["groups"].clone();
    assert_eq!(
        unit.redact().await,
        sorted(vec![closed.clone(), withdrawn.clone()])
    );

    let after = unit.detail(&closed).await;
    assert_eq!(after["title"], MARKER);
    assert_eq!(after["description"], MARKER);
    assert_eq!(after["local_reference"], Value::Null);
    assert_eq!(
        after["young_person"],
        json!({"age": null, "age_band": null, "gender": null, "flags": []})
    );
    assert_eq!(after["contact"]["times"], Value::Null);
    assert!(after["redacted_at"].is_string(), "{after}");
    // Statistics stay as they were.
    for kept in [
        "reference",
        "status",
        "category",
        "urgency",
        "priority",
        "organisation",
        "region",
        "team_id",
        "assignee_id",
        "requester_id",
        "created_at",
        "updated_at",
        "milestones",
        "paused_seconds",
        "sla",
    ] {
        assert_eq!(after[kept], before[kept], "{kept}");
    }
    assert_eq!(after["contact"]["method"], before["contact"]["method"]);
    assert_eq!(after["message_count"], messages_before);
    assert_eq!(unit.bodies(&closed).await, [MARKER, MARKER]);
    let triage = unit
        .app
        .get(
            &format!("/api/v1/requests/{closed}/triage"),
            Some(&unit.coordinator),
        )
        .await;
    assert!(triage
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["reason"] == MARKER));
    assert_eq!(unit.detail(&withdrawn).await["title"], MARKER);
    assert_eq!(unit.report(report_query).await["groups"], report_before);

    // One audit row, by the service, with no case text in it.
    let rows = unit.redaction_rows(&closed).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["actor_id"], Value::Null);
    assert_eq!(rows[0]["details"]["messages"], 2);
    let text = rows[0].to_string();
    assert!(
        !text.contains("county lines") && !text.contains("POL-123"),
        "{text}"
    );
    // Everything done before redaction is still on the trail.
    let actions: Vec<String> = unit
        .audit_actions(&closed)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert!(
        actions.contains(&"request.created".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"request.transition".to_owned()),
        "{actions:?}"
    );

    // The open request and the recently closed one keep their text.
    assert_intact(&unit.detail(&open).await);
    assert_intact(&unit.detail(&recent).await);
    assert_eq!(unit.bodies(&recent).await, [NOTE, REPLY]);

    // Running again changes nothing and audits nothing more.
    assert!(unit.redact().await.is_empty());
    assert_eq!(unit.redaction_rows(&closed).await.len(), 1);

    // Resolved and never closed: finished when the 14-day reopen window
    // ended, so due that much later.
    assert_intact(&unit.detail(&resolved).await);
    unit.advance(Duration::days(14));
    assert_eq!(unit.redact().await, vec![resolved.clone()]);
    assert_eq!(unit.detail(&resolved).await["title"], MARKER);

    // The recent one's turn comes when its own period has passed.
    unit.advance(Duration::days(386));
    assert_eq!(unit.redact().await, vec![recent.clone()]);
    assert_eq!(unit.detail(&recent).await["title"], MARKER);
    assert_intact(&unit.detail(&open).await);
}

#[tokio::test]
async fn concurrent_runs_redact_each_request_once_with_one_audit_row() {
    // Small batches, so the runs interleave over several transactions.
    let unit = unit_at(start(), |s| s.retention.batch_size = 2).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(unit.withdrawn().await);
    }
    ids.push(unit.closed().await);
    unit.advance(Duration::days(731));

    let job = unit.app.retention.clone();
    let runs = (0..4).map(|_| {
        let job = job.clone();
        tokio::spawn(async move { job.tick().await.expect("retention runs") })
    });
    let mut redacted = Vec::new();
    for run in runs.collect::<Vec<_>>() {
        redacted.extend(run.await.expect("run finishes"));
    }
    assert_eq!(
        sorted(redacted),
        sorted(ids.clone()),
        "each once, all of them"
    );
    for id in &ids {
        assert_eq!(unit.redaction_rows(id).await.len(), 1, "{id}");
        assert_eq!(unit.detail(id).await["title"], MARKER);
    }
    assert!(unit.redact().await.is_empty());
}

#[tokio::test]
async fn the_redact_command_redacts_what_is_due_in_the_database() {
    // Served with a clock 800 days back: one request closes then, another
    // now (by the real clock the command uses).
    let long_ago = chrono::Utc::now().naive_utc() - Duration::days(800);
    let unit = unit_at(long_ago, |_| {}).await;
    let old = unit.closed().await;
    unit.advance(Duration::days(800));
    let recent = unit.closed().await;

    let url = unit.app.settings.database.url.expose().to_owned();
    let out = stdout(&run(&url, &["redact"], None));
    assert!(out.contains("1 request(s) redacted"), "{out}");
    assert!(out.contains("730 days"), "{out}");
    assert_eq!(unit.detail(&old).await["title"], MARKER);
    assert_eq!(unit.bodies(&old).await, [MARKER, MARKER]);
    assert_intact(&unit.detail(&recent).await);

    let again = stdout(&run(&url, &["redact"], None));
    assert!(again.contains("0 request(s) redacted"), "{again}");
    assert_eq!(unit.redaction_rows(&old).await.len(), 1);
}

#[tokio::test]
async fn an_admin_exports_a_request_whole_and_the_export_is_audited() {
    let unit = unit_at(start(), |_| {}).await;
    let id = unit.closed().await;
    let reply = unit.export(&id, Some(&unit.admin)).await.ok();
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let export = reply.body;
    assert_eq!(export["request"]["id"], id.as_str());
    assert_eq!(
        export["request"]["description"],
        submission()["description"]
    );
    assert_eq!(export["request"]["young_person"]["age"], 15);
    assert!(export["request"]["milestones"]["closed_at"].is_string());
    let bodies: Vec<&str> = export["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, [NOTE, REPLY], "internal notes too");
    let moves: Vec<(String, String)> = export["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["from"].as_str().unwrap().to_owned(),
                t["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            ("new", "triaged"),
            ("triaged", "assigned"),
            ("assigned", "resolved"),
            ("resolved", "closed")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let decisions = export["triage_decisions"].as_array().unwrap();
    assert_eq!(
        decisions.len(),
        2,
        "the rules' at submission, then the coordinator's"
    );
    assert_eq!(decisions[1]["actor_id"], unit.coordinator_id.as_str());
    assert!(export["sla_events"].is_array());
    assert!(export["request"]["sla"]["first_response_met"].is_boolean());
    let audit: Vec<&str> = export["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(audit.first(), Some(&"request.created"), "{audit:?}");
    assert!(audit.contains(&"message.created"), "{audit:?}");
    assert!(
        !audit.contains(&"request.exported"),
        "recorded after the read"
    );

    // The export is on the trail, once, by the admin.
    let exported: Vec<Value> = unit
        .audit_actions(&id)
        .await
        .into_iter()
        .filter(|(a, _)| a == "request.exported")
        .map(|(_, e)| e)
        .collect();
    assert_eq!(exported.len(), 1);
    assert!(exported[0]["actor_id"].is_string());

    // A redacted request exports with the marker.
    unit.advance(Duration::days(731));
    unit.redact().await;
    let redacted = unit.export(&id, Some(&unit.admin)).await.body;
    assert_eq!(redacted["request"]["title"], MARKER);
    assert!(redacted["request"]["redacted_at"].is_string());
    assert!(redacted["messages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["body"] == MARKER));
    assert!(redacted["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "request.redacted"));
}

#[tokio::test]
async fn only_admins_export_and_unknown_requests_are_404() {
    let unit = unit_at(start(), |_| {}).await;
    let id = unit.closed().await;
    for token in [&unit.practitioner, &unit.specialist, &unit.coordinator] {
        unit.export(&id, Some(token)).await.problem(403);
    }
    unit.export(&id, None).await.problem(401);
    // A coordinator's token claiming to be an admin's.
    let parts: Vec<&str> = unit.coordinator.split('.').collect();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("admin");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        engine.encode(claims.to_string()),
        parts[2]
    );
    unit.export(&id, Some(&forged)).await.problem(401);
    unit.export("no-such-request", Some(&unit.admin))
        .await
        .problem(404);
    let refused = unit.audit_actions(&id).await;
    assert!(refused.iter().all(|(a, _)| a != "request.exported"));
}

/// Rows in `table` of the app's database.
async fn count(app: &TestApp, table: &'static str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let db = nru_helpdesk::db::Db::connect(&app.settings.database).unwrap();
    db.read(move |conn| {
        use diesel::RunQueryDsl;
        let row: Count =
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(conn)?;
        Ok(row.n)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_job_forgets_sign_in_attempts_refresh_tokens_and_idempotency_keys_past_their_use() {
    let app = spawn_app_with(|s| {
        s.retention.interval_seconds = 7 * 24 * 3600;
        s.auth.login_window_seconds = 1;
        s.auth.refresh_token_ttl_seconds = 1;
        s.requests.idempotency_key_ttl_seconds = 3;
    })
    .await;
    let unit = unit_on(app).await;
    let app = &unit.app;
    app.fail_logins("someone@test.local", 2).await;
    let keyed = app
        .client
        .post(format!("{}/api/v1/requests", app.address))
        .bearer_auth(&unit.practitioner)
        .header("idempotency-key", "retention-test-key-1")
        .json(&submission())
        .send()
        .await
        .unwrap();
    assert_eq!(keyed.status(), StatusCode::CREATED);
    for table in ["login_attempts", "refresh_tokens", "idempotency_keys"] {
        assert!(count(app, table).await > 0, "{table} has rows to forget");
    }
    // Still within their windows: kept.
    app.retention.tick().await.unwrap();
    assert!(count(app, "idempotency_keys").await > 0);

    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    app.retention.tick().await.unwrap();
    for table in ["login_attempts", "refresh_tokens", "idempotency_keys"] {
        assert_eq!(count(app, table).await, 0, "{table}");
    }
    // The request itself stays.
    let mine = app.get("/api/v1/requests", Some(&unit.practitioner)).await;
    assert_eq!(mine.items().len(), 1);
}
