//! Email through a real SMTP server on loopback: each event's message to
//! the right people, once; no case text in any of them; nothing lost while
//! the server is down; two workers on one database send each email once;
//! preferences; the admin outbox.

use std::collections::HashMap;

use chrono::Duration;
use nru_helpdesk::clock::Clock;
use nru_helpdesk::config::{EmailTransport, SmtpSecurity};
use nru_helpdesk::startup::Application;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::smtp::{Received, SmtpServer};
use crate::world::{monday_1500, send_to, submission, unit_on, year, Unit};

/// Words put in every free-text field; no email may contain any of them.
const CASE_WORDS: [&str; 4] = ["Zanzibarite", "Quixotrel", "Plumbagoid", "Vortexian"];

async fn mail_unit(smtp: &SmtpServer) -> Unit {
    let app = spawn_app_at(monday_1500(), |s| send_to(s, smtp)).await;
    unit_on(app).await
}

fn case_submission(urgency: &str) -> Value {
    let mut body = submission();
    body["title"] = json!(format!("{} concern", CASE_WORDS[0]));
    body["description"] = json!(format!("{} seen near the station", CASE_WORDS[1]));
    body["local_reference"] = json!(CASE_WORDS[2]);
    body["urgency"] = json!(urgency);
    body
}

impl Unit {
    async fn deliver(&self) -> usize {
        self.app.mailer.deliver_due().await.expect("outbox pass")
    }

    async fn email_of(&self, token: &str) -> String {
        let me = self.app.get("/api/v1/me", Some(token)).await;
        me.string("email")
    }
}

/// (recipient address, event) → how many arrived.
fn tally(received: &[Received]) -> HashMap<(String, String), usize> {
    let mut counts = HashMap::new();
    for email in received {
        let to = email.to();
        let address = to
            .split('<')
            .nth(1)
            .map_or(to.clone(), |a| a.trim_end_matches('>').to_owned());
        *counts.entry((address, email.event())).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn every_event_emails_the_right_people_once_and_no_email_carries_case_text() {
    let smtp = SmtpServer::start();
    let unit = mail_unit(&smtp).await;
    let (duty_id, _) = unit
        .app
        .user_of_role(&unit.admin, "coordinator", "dee@unit.test")
        .await;
    unit.app
        .post(
            "/api/v1/rota",
            Some(&unit.coordinator),
            json!({"user_id": duty_id, "duty": "duty_coordinator",
                   "starts_at": "2026-11-30T08:00:00Z", "ends_at": "2026-12-04T20:00:00Z"}),
        )
        .await
        .created();

    // A P2 request through its whole life.
    let created = unit
        .app
        .post(
            "/api/v1/requests",
            Some(&unit.practitioner),
            case_submission("high"),
        )
        .await
        .created();
    let id = created.id();
    let reference = created.string("reference");
    for (path, body) in [
        ("triage", json!({"priority": "P2", "team_id": unit.team})),
        ("assign", json!({"assignee_id": unit.specialist_id})),
    ] {
        unit.app
            .post(
                &format!("/api/v1/requests/{id}/{path}"),
                Some(&unit.coordinator),
                body,
            )
            .await
            .ok();
    }
    unit.message(&id, &unit.specialist, "internal_note", CASE_WORDS[3])
        .await
        .created();
    unit.message(&id, &unit.specialist, "reply", CASE_WORDS[3])
        .await;
    unit.act(&id, "request-information", &unit.specialist).await;
    unit.message(&id, &unit.practitioner, "reply", CASE_WORDS[3])
        .await;
    // Office hours: 50% of the 600-minute resolution target by Tuesday, the
    // deadline missed by Wednesday.
    unit.app.clock.advance(Duration::hours(43));
    unit.app.monitor.tick().await.unwrap();
    unit.act(&id, "resolve", &unit.specialist).await;

    // An immediate-risk request: coordinators on duty hear at once; not
    // acknowledged, it escalates.
    let urgent = unit
        .app
        .post(
            "/api/v1/requests",
            Some(&unit.practitioner),
            case_submission("immediate_risk"),
        )
        .await;
    let urgent_id = urgent.id();
    unit.app
        .post(
            &format!("/api/v1/requests/{urgent_id}/triage"),
            Some(&unit.coordinator),
            json!({"priority": "P1", "team_id": unit.team}),
        )
        .await;
    unit.app.clock.advance(Duration::minutes(16));
    unit.app.monitor.tick().await.unwrap();

    let queued = unit.outbox("pending").await.len();
    assert!(queued > 0);

    assert_eq!(unit.deliver().await, queued, "every pending email sent");
    assert_eq!(unit.deliver().await, 0, "nothing is sent twice");
    let received = smtp.received();
    assert_eq!(received.len(), queued);

    let practitioner = unit.email_of(&unit.practitioner).await;
    let specialist = unit.email_of(&unit.specialist).await;
    let counts = tally(&received);
    let count = |to: &str, event: &str| {
        counts
            .get(&(to.to_owned(), event.to_owned()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(count(&practitioner, "request_received"), 2);
    assert_eq!(count(&specialist, "request_assigned"), 1);
    assert_eq!(
        count(&practitioner, "reply_posted"),
        1,
        "the specialist's reply"
    );
    assert_eq!(
        count(&specialist, "reply_posted"),
        1,
        "the practitioner's reply"
    );
    assert_eq!(count(&practitioner, "information_requested"), 1);
    assert_eq!(count(&practitioner, "request_resolved"), 1);
    assert!(count(&specialist, "sla_warning") >= 1);
    // Both the next response (due Monday 17:00) and resolution (Tuesday 17:00) were missed.
    assert_eq!(count("dee@unit.test", "sla_breach"), 2);
    assert_eq!(count(&specialist, "sla_breach"), 2);
    assert_eq!(
        count("cat@unit.test", "sla_breach"),
        0,
        "only coordinators on duty"
    );
    assert_eq!(count("dee@unit.test", "immediate_risk"), 1);
    assert_eq!(
        count("cat@unit.test", "immediate_risk"),
        0,
        "only coordinators on duty"
    );
    assert!(count("dee@unit.test", "escalation") >= 1);
    assert!(
        !received.iter().any(|e| e.to().contains("ash@unit.test")),
        "nobody outside the request"
    );

    for email in &received {
        let text = email.text();
        for word in CASE_WORDS {
            assert!(
                !text.contains(word),
                "case text in {}: {text}",
                email.event()
            );
        }
        assert!(email.header("Subject").unwrap().contains("NRU-2026-"));
        assert!(text.contains("https://helpdesk.test/requests/"));
        assert!(text.contains("multipart/alternative"));
    }
    let resolved = received
        .iter()
        .find(|e| e.event() == "request_resolved")
        .unwrap();
    assert!(resolved.header("Subject").unwrap().contains(&reference));
    assert!(resolved.text().contains(&id));
}

#[tokio::test]
async fn mail_sent_while_the_server_is_down_arrives_once_when_it_is_back() {
    let mut smtp = SmtpServer::start();
    let unit = mail_unit(&smtp).await;
    smtp.stop();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let reply = unit
            .app
            .post("/api/v1/requests", Some(&unit.practitioner), submission())
            .await;
        ids.push(reply.id());
    }
    assert_eq!(unit.deliver().await, 0, "the server is down");
    let waiting = unit.outbox("pending").await;
    assert_eq!(waiting.len(), 3);
    for email in &waiting {
        assert_eq!(email["attempts"], 1);
        assert!(email["last_error"].is_string());
    }
    assert_eq!(unit.deliver().await, 0, "not again before the back-off");

    smtp.resume();
    unit.app.clock.advance(Duration::minutes(2));
    assert_eq!(unit.deliver().await, 3);
    unit.app.clock.advance(Duration::hours(2));
    assert_eq!(unit.deliver().await, 0);
    let received = smtp.received();
    assert_eq!(received.len(), 3, "each exactly once");
    let mut message_ids: Vec<_> = received
        .iter()
        .map(|e| e.header("Message-ID").unwrap())
        .collect();
    message_ids.sort();
    message_ids.dedup();
    assert_eq!(message_ids.len(), 3);
    assert_eq!(unit.outbox("sent").await.len(), 3);
}

#[tokio::test]
async fn after_the_last_attempt_an_email_is_dead_until_an_admin_retries_it() {
    let mut smtp = SmtpServer::start();
    let app = spawn_app_at(monday_1500(), |s| {
        send_to(s, &smtp);
        s.email.max_attempts = 2;
    })
    .await;
    let unit = unit_on(app).await;
    smtp.stop();
    unit.app
        .post("/api/v1/requests", Some(&unit.practitioner), submission())
        .await;
    unit.deliver().await;
    unit.app.clock.advance(Duration::hours(1));
    unit.deliver().await;
    let dead = unit.outbox("dead").await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["attempts"], 2);
    let email_id = dead[0].id();

    let path = format!("/api/v1/admin/outbox/{email_id}/retry");
    for token in [&unit.coordinator, &unit.practitioner] {
        unit.app
            .post(&path, Some(token), json!({}))
            .await
            .problem(403);
    }
    unit.app.post(&path, None, json!({})).await.problem(401);
    unit.app
        .get("/api/v1/admin/outbox", Some(&unit.coordinator))
        .await
        .problem(403);
    unit.app
        .post(
            "/api/v1/admin/outbox/no-such-email/retry",
            Some(&unit.admin),
            json!({}),
        )
        .await
        .problem(404);

    smtp.resume();
    let retried = unit
        .app
        .post(&path, Some(&unit.admin), json!({}))
        .await
        .ok();
    assert_eq!(retried.body["status"], "pending");
    assert_eq!(retried.body["attempts"], 0);
    unit.app
        .post(&path, Some(&unit.admin), json!({}))
        .await
        .problem(409);
    assert_eq!(unit.deliver().await, 1);
    assert_eq!(smtp.received().len(), 1);
}

#[tokio::test]
async fn two_workers_on_one_database_send_each_email_exactly_once() {
    let smtp = SmtpServer::start();
    let unit = mail_unit(&smtp).await;
    for _ in 0..12 {
        unit.app
            .post("/api/v1/requests", Some(&unit.practitioner), submission())
            .await
            .created();
    }
    // A second replica on the same database, with a worker of its own.
    let mut settings = unit.app.settings.clone();
    settings.email.batch_size = 3;
    let other = Application::build_with_clock(settings, unit.app.clock.clone())
        .expect("second replica builds")
        .mailer();
    let mut sent = 0;
    for _ in 0..10 {
        let (a, b) = tokio::join!(other.deliver_due(), unit.app.mailer.deliver_due());
        sent += a.unwrap() + b.unwrap();
    }
    assert_eq!(sent, 12);
    let received = smtp.received();
    assert_eq!(received.len(), 12);
    let mut message_ids: Vec<_> = received
        .iter()
        .map(|e| e.header("Message-ID").unwrap())
        .collect();
    message_ids.sort();
    message_ids.dedup();
    assert_eq!(message_ids.len(), 12, "no email twice");
}

#[tokio::test]
async fn people_switch_routine_emails_off_but_never_safety_critical_ones() {
    let smtp = SmtpServer::start();
    let unit = mail_unit(&smtp).await;
    let path = "/api/v1/me/notification-preferences";
    let initial = unit.app.get(path, Some(&unit.specialist)).await.ok();
    assert!(initial.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["enabled"] == true));

    let refused = unit
        .app
        .put(
            path,
            Some(&unit.specialist),
            json!({"events": {"sla_breach": false}}),
        )
        .await;
    assert_eq!(
        refused.problem(422)["errors"][0]["field"],
        "events.sla_breach"
    );
    unit.app
        .put(
            path,
            Some(&unit.specialist),
            json!({"events": {"no_such_event": false}}),
        )
        .await
        .problem(422);
    unit.app
        .put(path, None, json!({"events": {"request_assigned": false}}))
        .await
        .problem(401);

    let set = unit
        .app
        .put(
            path,
            Some(&unit.specialist),
            json!({"events": {"request_assigned": false}}),
        )
        .await
        .ok();
    let assigned = set.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "request_assigned")
        .unwrap()
        .clone();
    assert_eq!(assigned["enabled"], false);

    unit.assigned().await;
    unit.deliver().await;
    let suppressed = unit.outbox("suppressed").await;
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["event"], "request_assigned");
    assert!(smtp
        .received()
        .iter()
        .all(|e| e.event() != "request_assigned"));
}

#[tokio::test]
async fn an_unsafe_smtp_setting_stops_start_up_naming_it() {
    let (_db, url) = TestDb::create();
    let mut settings = test_settings(&url);
    settings.email.transport = EmailTransport::Smtp;
    settings.email.smtp.host = "mail.example.org".into();
    settings.email.smtp.security = SmtpSecurity::None;
    let error = Application::build_with_clock(settings, Clock::System)
        .err()
        .expect("start-up refused")
        .to_string();
    assert!(error.contains("email.smtp.security"), "{error}");
}

#[tokio::test]
async fn a_worker_that_dies_mid_send_leaves_its_emails_to_another_after_the_lease() {
    let smtp = SmtpServer::start();
    let unit = mail_unit(&smtp).await;
    for _ in 0..2 {
        unit.app
            .post("/api/v1/requests", Some(&unit.practitioner), submission())
            .await;
    }
    // A worker leases both emails and dies before sending them.
    let db = nru_helpdesk::db::Db::connect(&unit.app.settings.database).unwrap();
    let now = unit.app.clock.now();
    let lease = Duration::seconds(unit.app.settings.email.lease_seconds);
    let leased = db
        .write(move |conn| {
            Ok(nru_helpdesk::store::outbox::claim(
                conn,
                "crashed-worker",
                now,
                now + lease,
                100,
            )?)
        })
        .await
        .unwrap();
    assert_eq!(leased.len(), 2);
    assert_eq!(unit.deliver().await, 0, "still leased by the dead worker");
    unit.app.clock.advance(lease + Duration::seconds(1));
    assert_eq!(unit.deliver().await, 2, "taken over once the lease ran out");
    assert_eq!(smtp.received().len(), 2);
}

#[tokio::test]
async fn the_file_transport_writes_each_email_as_an_eml_file() {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path().join("mail");
    let app = spawn_app_with(|s| s.email.file_dir = dir.display().to_string()).await;
    let unit = unit_on(app).await;
    let created = unit
        .app
        .post("/api/v1/requests", Some(&unit.practitioner), submission())
        .await;
    let reference = created.string("reference");
    assert_eq!(unit.deliver().await, 1);
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.contains(&reference), "{text}");
    assert!(text.contains("pat@police.test"));
}

#[tokio::test]
async fn metrics_show_the_outbox_backlog_and_delivery_time() {
    let mut smtp = SmtpServer::start();
    let unit = mail_unit(&smtp).await;
    smtp.stop();
    unit.app
        .post("/api/v1/requests", Some(&unit.practitioner), submission())
        .await;
    unit.deliver().await;
    let metrics = unit.app.get("/metrics", None).await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains("nru_outbox_emails{status=\"pending\"} 1"),
        "{text}"
    );
    smtp.resume();
    unit.app.clock.advance(Duration::minutes(5));
    assert_eq!(unit.deliver().await, 1);
    let metrics = unit.app.get("/metrics", None).await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains("nru_outbox_emails{status=\"sent\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("nru_email_delivery_seconds_count 1"),
        "{text}"
    );
}

#[tokio::test]
async fn a_request_assigned_on_submission_carries_its_reference_in_every_email_and_its_trail() {
    let smtp = SmtpServer::start();
    let rules = tempfile::tempdir().unwrap();
    let path = rules.path().join("triage.toml");
    std::fs::write(
        &path,
        "[default]\npriority = \"P3\"\nteam = \"Crime and justice\"\n\n\
         [teams.\"Crime and justice\"]\nassignment = \"least_loaded\"\n",
    )
    .unwrap();
    let app = spawn_app_with(|s| {
        send_to(s, &smtp);
        s.triage.rules_file = path.display().to_string();
    })
    .await;
    let unit = unit_on(app).await;
    let created = unit
        .app
        .post(
            "/api/v1/requests",
            Some(&unit.practitioner),
            case_submission("standard"),
        )
        .await
        .created();
    assert_eq!(created.body["assignee_id"], json!(unit.specialist_id));
    let id = created.id();
    let reference = created.string("reference");
    assert_eq!(reference, format!("NRU-{}-000001", year()));

    assert_eq!(unit.deliver().await, 2);
    let mut events: Vec<(String, String)> = smtp
        .received()
        .iter()
        .map(|e| (e.event(), e.header("Subject").unwrap_or_default()))
        .collect();
    events.sort();
    assert_eq!(
        events.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(),
        ["request_assigned", "request_received"]
    );
    for (event, subject) in &events {
        assert!(subject.contains(&reference), "{event}: {subject}");
    }

    let trail = unit.audit_actions(&id).await;
    assert_eq!(trail[0].0, "request.created", "{trail:?}");
    assert_eq!(trail[0].1["details"]["reference"], json!(reference));
}
