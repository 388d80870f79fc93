//! Another agency's system end to end: an admin creates its API client; it
//! gets a token (client credentials), registers a webhook, submits for one
//! of its practitioners, receives signed webhooks on a real HTTP receiver on
//! loopback and fetches details through the API. Plus every refusal: other
//! organisations' requests, revoked and rotated clients, missing scopes,
//! wrong secrets (throttled), unsafe webhook addresses and redirects.

use std::collections::HashSet;

use chrono::{Duration, NaiveDate};
use nru_helpdesk::config::Settings;
use nru_helpdesk::domain::webhook_signature as signature;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::receiver::{Received, Receiver};
use crate::world::{submission, unit_on, Unit};

/// Words put in every free-text field; no webhook may carry any of them.
const CASE_WORDS: [&str; 3] = ["Zanzibarite", "Quixotrel", "Plumbagoid"];
const ALL_SCOPES: [&str; 3] = ["requests:write", "requests:read", "webhooks:manage"];
const ALL_EVENTS: [&str; 4] = [
    "request.created",
    "request.status_changed",
    "message.created",
    "request.sla_breached",
];

fn reach_loopback(settings: &mut Settings) {
    settings.webhooks.allow_http_loopback = true;
    settings.webhooks.allowed_private_networks = vec!["127.0.0.0/8".into()];
}

async fn agency_unit() -> Unit {
    unit_on(spawn_app_with(reach_loopback).await).await
}

fn case_submission(on_behalf_of: &str) -> Value {
    let mut body = submission();
    body["title"] = json!(format!("{} concern", CASE_WORDS[0]));
    body["description"] = json!(format!("{} seen near the station", CASE_WORDS[1]));
    body["local_reference"] = json!(CASE_WORDS[2]);
    body["on_behalf_of"] = json!(on_behalf_of);
    body
}

impl TestApp {
    async fn practitioner_of(&self, admin: &str, email: &str, organisation: &str) -> String {
        self.create_user(
            admin,
            json!({"email": email, "display_name": email, "role": "practitioner", "password": PASSWORD,
                   "organisation": organisation, "region": "london"}),
        )
        .await;
        let (token, _) = self.sign_in(email, PASSWORD).await;
        token
    }

    /// Registers a webhook for every event; returns (id, signing secret).
    async fn webhook(&self, token: &str, url: &str) -> (String, String) {
        let reply = self
            .post(
                "/api/v1/webhooks",
                Some(token),
                json!({"url": url, "events": ALL_EVENTS}),
            )
            .await
            .created();
        (reply.body["webhook"].id(), reply.string("secret"))
    }

    async fn deliver_webhooks(&self) -> usize {
        self.dispatcher.deliver_due().await.expect("webhook pass")
    }
}

/// Checks a delivery as a receiver would: signature over timestamp and
/// body, fresh, headers agreeing with the body, and no case text.
fn assert_genuine(delivery: &Received, secret: &str, now: i64) -> Value {
    let verified = signature::verify(
        secret,
        delivery.header("x-nru-timestamp"),
        &delivery.body,
        delivery.header("x-nru-signature"),
        now,
        300,
    );
    assert_eq!(verified, Ok(()), "{delivery:?}");
    let text = String::from_utf8_lossy(&delivery.body);
    for word in CASE_WORDS {
        assert!(!text.contains(word), "case text in a webhook: {text}");
    }
    let body = delivery.json();
    assert_eq!(
        delivery.header("x-nru-event"),
        body["type"].as_str().unwrap()
    );
    assert_eq!(delivery.header("content-type"), "application/json");
    assert!(!delivery.header("x-nru-delivery").is_empty());
    body
}

#[tokio::test]
async fn an_agency_system_submits_follows_by_signed_webhooks_and_fetches_details() {
    let mut receiver = Receiver::start().await;
    let unit = agency_unit().await;
    let app = &unit.app;
    let police = app
        .practitioner_of(&unit.admin, "pc.jones@police.test", "police")
        .await;
    let (client_id, secret) = app.api_client(&unit.admin, "police", &ALL_SCOPES).await;

    // Client credentials in the body, and the same with HTTP Basic.
    let token = app.client_token(&client_id, &secret).await;
    let basic = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "requests:read"),
            ],
            Some((&client_id, &secret)),
        )
        .await
        .ok();
    assert_eq!(basic.body["token_type"], "Bearer");
    assert_eq!(basic.body["scope"], "requests:read");
    assert_eq!(basic.header("cache-control"), Some("no-store"));

    let (webhook_id, signing_secret) = app.webhook(&token, &receiver.url("/nru")).await;

    let created = app
        .post(
            "/api/v1/client/requests",
            Some(&token),
            case_submission("PC.Jones@police.test"),
        )
        .await
        .created();
    let id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/client/requests/{id}").as_str())
    );
    assert_eq!(created.body["organisation"], "police");
    // The practitioner sees it as their own.
    let own = app.get("/api/v1/requests", Some(&police)).await;
    assert_eq!(own.body["items"][0]["id"], json!(id));

    // The unit works it: triage, assignment, a note, a reply, resolution.
    for (path, body) in [
        ("triage", json!({"priority": "P2", "team_id": unit.team})),
        ("assign", json!({"assignee_id": unit.specialist_id})),
    ] {
        app.post(
            &format!("/api/v1/requests/{id}/{path}"),
            Some(&unit.coordinator),
            body,
        )
        .await
        .ok();
    }
    for kind in ["internal_note", "reply"] {
        app.post(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&unit.specialist),
            json!({"kind": kind, "body": format!("{} advice", CASE_WORDS[0])}),
        )
        .await
        .created();
    }
    app.post(
        &format!("/api/v1/requests/{id}/resolve"),
        Some(&unit.specialist),
        json!({}),
    )
    .await
    .ok();

    let delivered = app.deliver_webhooks().await;
    assert_eq!(app.deliver_webhooks().await, 0, "nothing is sent twice");
    let received = receiver.received();
    assert_eq!(received.len(), delivered);
    let now = chrono::Utc::now().timestamp();
    let bodies: Vec<Value> = received
        .iter()
        .map(|d| assert_genuine(d, &signing_secret, now))
        .collect();
    assert!(received.iter().all(|d| d.path == "/nru"));
    let events: Vec<(&str, &str)> = bodies
        .iter()
        .map(|b| {
            (
                b["type"].as_str().unwrap(),
                b["data"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("request.created", "new"),
            ("request.status_changed", "triaged"),
            ("request.status_changed", "assigned"),
            ("message.created", "assigned"),
            ("request.status_changed", "resolved"),
        ],
        "each event once, in order; the internal note is not announced"
    );
    let event_ids: HashSet<&str> = bodies.iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(event_ids.len(), bodies.len());
    assert!(bodies.iter().all(|b| b["data"]["request_id"] == json!(id)
        && b["data"]["reference"] == created.body["reference"]));
    assert_eq!(bodies[1]["data"]["previous_status"], "new");
    assert_eq!(bodies[3]["data"]["from"], "unit");

    // Details come through the API, under the client's own authorization.
    let detail = app
        .get(&format!("/api/v1/client/requests/{id}"), Some(&token))
        .await
        .ok();
    assert_eq!(detail.body["title"], format!("{} concern", CASE_WORDS[0]));
    assert_eq!(detail.body["status"], "resolved");
    let message_id = bodies[3]["data"]["message_id"].as_str().unwrap();
    let messages = app
        .get(
            &format!("/api/v1/client/requests/{id}/messages"),
            Some(&token),
        )
        .await
        .ok();
    let items = messages.items();
    assert_eq!(items.len(), 1, "replies only: {items:?}");
    assert_eq!(items[0]["id"], message_id);
    let listed = app.get("/api/v1/client/requests", Some(&token)).await;
    assert_eq!(listed.items().len(), 1);

    // The delivery log, and a redelivery of the first event.
    let log = app
        .get(
            &format!("/api/v1/webhooks/{webhook_id}/deliveries"),
            Some(&token),
        )
        .await
        .ok();
    let log = log.items();
    assert_eq!(log.len(), 5);
    assert!(log
        .iter()
        .all(|d| d["status"] == "delivered" && d["response_status"] == 200 && d["attempts"] == 1));
    let first = log.last().unwrap();
    app.post(
        &format!(
            "/api/v1/webhooks/{webhook_id}/deliveries/{}/redeliver",
            first["id"].as_str().unwrap()
        ),
        Some(&token),
        json!({}),
    )
    .await
    .status_is(202);
    assert_eq!(app.deliver_webhooks().await, 1);
    let received = receiver.received();
    let repeat = received.last().unwrap();
    assert_eq!(
        assert_genuine(repeat, &signing_secret, now)["id"],
        first["event_id"]
    );
    assert_ne!(
        repeat.header("x-nru-delivery"),
        received[0].header("x-nru-delivery")
    );
    receiver.stop();
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_each_event_once_when_it_is_back() {
    let mut receiver = Receiver::start().await;
    receiver.stop();
    let start = NaiveDate::from_ymd_opt(2026, 11, 30)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    let unit = unit_on(spawn_app_at(start, reach_loopback).await).await;
    let app = &unit.app;
    app.practitioner_of(&unit.admin, "pc.jones@police.test", "police")
        .await;
    let (client_id, secret) = app.api_client(&unit.admin, "police", &ALL_SCOPES).await;
    let token = app.client_token(&client_id, &secret).await;
    let (webhook_id, signing_secret) = app.webhook(&token, &receiver.url("/hook")).await;
    let created = app
        .post(
            "/api/v1/client/requests",
            Some(&token),
            case_submission("pc.jones@police.test"),
        )
        .await
        .created();

    assert_eq!(app.deliver_webhooks().await, 0, "the receiver is down");
    let log = app
        .get(
            &format!("/api/v1/webhooks/{webhook_id}/deliveries"),
            Some(&token),
        )
        .await;
    let delivery = &log.body["items"][0];
    assert_eq!(delivery["status"], "pending");
    assert_eq!(delivery["attempts"], 1);
    assert!(delivery["last_error"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    assert_eq!(
        app.deliver_webhooks().await,
        0,
        "not retried before its back-off"
    );
    app.clock.advance(Duration::seconds(20));
    let metrics = app.get("/metrics", None).await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains("nru_webhook_deliveries{status=\"pending\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("nru_webhook_oldest_pending_age_seconds 20"),
        "{text}"
    );

    receiver.resume().await;
    app.clock.advance(Duration::minutes(2));
    assert_eq!(app.deliver_webhooks().await, 1);
    let sent_at = app.clock.now().and_utc().timestamp();
    let metrics = app.get("/metrics", None).await;
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains("nru_webhook_deliveries{status=\"delivered\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("nru_webhook_oldest_pending_age_seconds 0"),
        "{text}"
    );
    app.clock.advance(Duration::minutes(60));
    assert_eq!(app.deliver_webhooks().await, 0);
    let received = receiver.received();
    assert_eq!(received.len(), 1, "delivered once");
    let body = assert_genuine(&received[0], &signing_secret, sent_at);
    assert_eq!(body["type"], "request.created");
    assert_eq!(body["data"]["request_id"], created.body["id"]);
}

#[tokio::test]
async fn another_organisations_events_and_requests_stay_with_it() {
    let police_hooks = Receiver::start().await;
    let school_hooks = Receiver::start().await;
    let unit = agency_unit().await;
    let app = &unit.app;
    let pc_jones = app
        .practitioner_of(&unit.admin, "pc.jones@police.test", "police")
        .await;
    app.practitioner_of(&unit.admin, "head@school.test", "education")
        .await;
    let (police_id, police_secret) = app.api_client(&unit.admin, "police", &ALL_SCOPES).await;
    let (school_id, school_secret) = app.api_client(&unit.admin, "education", &ALL_SCOPES).await;
    let police = app.client_token(&police_id, &police_secret).await;
    let school = app.client_token(&school_id, &school_secret).await;
    app.webhook(&police, &police_hooks.url("/")).await;
    app.webhook(&school, &school_hooks.url("/")).await;

    let mine = app
        .post(
            "/api/v1/client/requests",
            Some(&police),
            case_submission("pc.jones@police.test"),
        )
        .await
        .created();
    let theirs = app
        .post(
            "/api/v1/client/requests",
            Some(&school),
            case_submission("head@school.test"),
        )
        .await
        .created();
    let (mine, theirs) = (mine.body["id"].clone(), theirs.body["id"].clone());

    // Submitting for another organisation's practitioner, or for nobody,
    // gets one answer.
    for email in ["head@school.test", "nobody@police.test"] {
        let refused = app
            .post(
                "/api/v1/client/requests",
                Some(&police),
                case_submission(email),
            )
            .await;
        refused.problem(422);
        assert_eq!(refused.fields(), ["on_behalf_of"]);
    }
    let mut wrong_org = case_submission("pc.jones@police.test");
    wrong_org["organisation"] = json!("health");
    let refused = app
        .post("/api/v1/client/requests", Some(&police), wrong_org)
        .await;
    refused.problem(422);
    assert_eq!(refused.fields(), ["organisation"]);
    // A person cannot submit on someone's behalf.
    let by_person = app
        .post(
            "/api/v1/requests",
            Some(&unit.practitioner),
            case_submission("pc.jones@police.test"),
        )
        .await;
    by_person.problem(422);
    assert_eq!(by_person.fields(), ["on_behalf_of"]);

    // The other organisation's request, and a request the client's own
    // practitioner made in person, are not the client's.
    let in_person = app
        .post("/api/v1/requests", Some(&pc_jones), submission())
        .await
        .created();
    for other in [
        theirs.as_str().unwrap(),
        in_person.body["id"].as_str().unwrap(),
    ] {
        for path in [
            format!("/api/v1/client/requests/{other}"),
            format!("/api/v1/client/requests/{other}/messages"),
        ] {
            app.get(&path, Some(&police)).await.problem(404);
        }
    }
    let listed = app.get("/api/v1/client/requests", Some(&police)).await;
    let ids: Vec<&Value> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&mine]);

    assert_eq!(app.deliver_webhooks().await, 2);
    let only = |receiver: &Receiver, id: &Value| {
        let received = receiver.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].json()["data"]["request_id"], *id);
    };
    only(&police_hooks, &mine);
    only(&school_hooks, &theirs);
    // Another client's webhook and its log are not found either.
    let school_list = app.get("/api/v1/webhooks", Some(&school)).await;
    let school_hook = school_list.body["items"][0]["id"].as_str().unwrap();
    app.get(&format!("/api/v1/webhooks/{school_hook}"), Some(&police))
        .await
        .problem(404);
    app.get(
        &format!("/api/v1/webhooks/{school_hook}/deliveries"),
        Some(&police),
    )
    .await
    .problem(404);
}

/// Asserts a token-endpoint error as OAuth 2.0 libraries read it: the
/// RFC 6749 §5.2 `error` code and `error_description` beside the problem.
fn assert_oauth_error(reply: &Reply, status: u16, code: &str) {
    reply.problem(status);
    assert_eq!(reply.body["error"], code, "{}", reply.body);
    assert!(
        reply.body["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty() && d.is_ascii() && !d.contains(['"', '\\'])),
        "{}",
        reply.body
    );
    assert!(reply.body.get("access_token").is_none());
}

#[tokio::test]
async fn token_errors_carry_oauth_error_members_and_unknown_parameters_are_ignored() {
    let unit = agency_unit().await;
    let app = &unit.app;
    let (id, secret) = app
        .api_client(&unit.admin, "police", &["requests:read"])
        .await;

    // RFC 6749 §3.2: parameters the server does not know are ignored.
    let extra = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("audience", "https://nru.example"),
                ("resource", "anything"),
            ],
            None,
        )
        .await
        .ok();
    assert!(extra.body["access_token"].is_string());

    let wrong = app
        .token_form(
            &[("grant_type", "client_credentials")],
            Some((&id, "not-the-secret")),
        )
        .await;
    assert_oauth_error(&wrong, 401, "invalid_client");
    assert!(wrong
        .header("www-authenticate")
        .is_some_and(|v| v.starts_with("Basic")));
    let unknown = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "no-such-client"),
                ("client_secret", "x"),
            ],
            None,
        )
        .await;
    assert_oauth_error(&unknown, 401, "invalid_client");

    let grant = app
        .token_form(&[("grant_type", "password")], Some((&id, &secret)))
        .await;
    assert_oauth_error(&grant, 400, "unsupported_grant_type");
    assert_eq!(grant.fields(), ["grant_type"]);
    let scope = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("scope", "requests:write"),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(&scope, 400, "invalid_scope");
    assert_eq!(scope.fields(), ["scope"]);

    // A missing or malformed parameter is a 400 `invalid_request` naming it.
    let missing = app
        .token_form(&[("client_id", &id), ("client_secret", &secret)], None)
        .await;
    assert_oauth_error(&missing, 400, "invalid_request");
    assert_eq!(missing.fields(), ["grant_type"]);
    let long = "x".repeat(65);
    let too_long = app
        .token_form(&[("grant_type", &long)], Some((&id, &secret)))
        .await;
    assert_oauth_error(&too_long, 400, "invalid_request");
    assert_eq!(too_long.fields(), ["grant_type"]);
    let twice = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
            Some((&id, &secret)),
        )
        .await;
    assert_oauth_error(&twice, 400, "invalid_request");
    let json_body = app
        .post(
            "/api/v1/auth/token",
            None,
            json!({"grant_type": "client_credentials"}),
        )
        .await;
    assert_oauth_error(&json_body, 415, "invalid_request");

    // Other endpoints' problems stay plain RFC 9457.
    let other = app.get("/api/v1/client/requests", None).await;
    other.problem(401);
    assert!(other.body.get("error").is_none());
}

#[tokio::test]
async fn tokens_stop_at_revocation_rotation_missing_scopes_and_wrong_secrets() {
    let unit = unit_on(
        spawn_app_with(|s| {
            reach_loopback(s);
            s.auth.login_max_failures_per_account = 3;
        })
        .await,
    )
    .await;
    let app = &unit.app;
    let (id, secret) = app.api_client(&unit.admin, "police", &ALL_SCOPES).await;
    let token = app.client_token(&id, &secret).await;
    let list = "/api/v1/client/requests";
    app.get(list, Some(&token)).await.ok();

    // No token, a person's token, a tampered one; and a client token on a
    // person's endpoint.
    app.get(list, None).await.problem(401);
    app.get(list, Some(&unit.practitioner)).await.problem(401);
    let mut tampered = token.clone();
    let at = tampered.len() - 10;
    let swapped = if &tampered[at..=at] == "A" { "B" } else { "A" };
    tampered.replace_range(at..=at, swapped);
    app.get(list, Some(&tampered)).await.problem(401);
    app.get("/api/v1/requests", Some(&token)).await.problem(401);
    app.get("/api/v1/admin/api-clients", Some(&token))
        .await
        .problem(401);

    // Scopes: a read-only client writes nothing and manages no webhooks; a
    // token cannot ask for a scope its client lacks.
    let (reader_id, reader_secret) = app
        .api_client(&unit.admin, "police", &["requests:read"])
        .await;
    let reader = app.client_token(&reader_id, &reader_secret).await;
    app.post(list, Some(&reader), case_submission("x@police.test"))
        .await
        .problem(403);
    app.get("/api/v1/webhooks", Some(&reader))
        .await
        .problem(403);
    let narrowed = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("scope", "requests:read"),
            ],
            None,
        )
        .await;
    let narrowed = narrowed.string("access_token");
    app.get("/api/v1/webhooks", Some(&narrowed))
        .await
        .problem(403);
    let beyond = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &reader_id),
                ("client_secret", &reader_secret),
                ("scope", "webhooks:manage"),
            ],
            None,
        )
        .await;
    beyond.problem(400);
    assert_eq!(beyond.fields(), ["scope"]);
    let grant = app
        .token_form(&[("grant_type", "password"), ("client_id", &id)], None)
        .await;
    grant.problem(400);
    assert_eq!(grant.fields(), ["grant_type"]);
    let json_body = app
        .post(
            "/api/v1/auth/token",
            None,
            json!({"grant_type": "client_credentials"}),
        )
        .await;
    json_body.problem(415);

    // Rotation: the old token and the old secret stop; the new secret works.
    let rotated = app
        .post(
            &format!("/api/v1/admin/api-clients/{id}/rotate-secret"),
            Some(&unit.admin),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(rotated.body["client"]["secret_version"], 2);
    let new_secret = rotated.string("client_secret");
    app.get(list, Some(&token)).await.problem(401);
    let fresh = app.client_token(&id, &new_secret).await;
    app.get(list, Some(&fresh)).await.ok();

    // Wrong secrets: refused alike, then throttled with Retry-After.
    for wrong in [secret.as_str(), "not-the-secret", ""] {
        app.token_form(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", wrong),
            ],
            None,
        )
        .await
        .problem(401);
    }
    let throttled = app
        .token_form(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &new_secret),
            ],
            None,
        )
        .await;
    throttled.problem(429);
    assert!(throttled
        .header("retry-after")
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|s| s > 0));

    // Revocation: tokens stop at once, and no new one is issued.
    let revoked = app
        .post(
            &format!("/api/v1/admin/api-clients/{reader_id}/revoke"),
            Some(&unit.admin),
            json!({}),
        )
        .await
        .ok();
    assert!(revoked.body["revoked_at"].is_string());
    app.get(list, Some(&reader)).await.problem(401);
    app.token_form(
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &reader_id),
            ("client_secret", &reader_secret),
        ],
        None,
    )
    .await
    .problem(401);
    app.post(
        &format!("/api/v1/admin/api-clients/{reader_id}/revoke"),
        Some(&unit.admin),
        json!({}),
    )
    .await
    .problem(409);

    // Only admins manage clients.
    let clients = "/api/v1/admin/api-clients";
    app.get(clients, None).await.problem(401);
    for person in [&unit.coordinator, &unit.practitioner, &unit.specialist] {
        app.get(clients, Some(person)).await.problem(403);
        app.post(
            clients,
            Some(person),
            json!({"name": "x", "organisation": "police", "scopes": ["requests:read"]}),
        )
        .await
        .problem(403);
    }
    let listed = app.get(clients, Some(&unit.admin)).await;
    assert_eq!(listed.items().len(), 2);
    assert!(
        !listed.body.to_string().contains(&new_secret),
        "secrets are never shown again"
    );
    app.get(
        "/api/v1/admin/api-clients/00000000-0000-7000-8000-000000000000",
        Some(&unit.admin),
    )
    .await
    .problem(404);
    let bad = app
        .post(
            clients,
            Some(&unit.admin),
            json!({"name": " ", "organisation": "police", "scopes": ["admin"]}),
        )
        .await;
    bad.problem(422);
}

#[tokio::test]
async fn webhooks_never_reach_private_addresses_or_follow_redirects() {
    let unit = unit_on(spawn_app_with(|s| s.webhooks.allow_http_loopback = true).await).await;
    let app = &unit.app;
    let (id, secret) = app.api_client(&unit.admin, "police", &ALL_SCOPES).await;
    let token = app.client_token(&id, &secret).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        // IPv4 inside IPv6, and special-purpose IPv6 blocks.
        "https://[::127.0.0.1]/hook",
        "https://[::ffff:0:127.0.0.1]/hook",
        "https://[::7f00:1]/hook",
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
        "https://[100::1]/hook",
        "http://hooks.example.org/plain",
        "ftp://hooks.example.org/",
        "https://user:pw@hooks.example.org/",
        "not a url",
    ] {
        let refused = app
            .post(
                "/api/v1/webhooks",
                Some(&token),
                json!({"url": url, "events": ["request.created"]}),
            )
            .await;
        refused.problem(422);
        assert_eq!(refused.fields(), ["url"], "{url}");
    }
    let unknown_event = app
        .post(
            "/api/v1/webhooks",
            Some(&token),
            json!({"url": "https://hooks.example.org/", "events": ["request.deleted"]}),
        )
        .await;
    unknown_event.problem(422);

    // With loopback allowed, a receiver that redirects is not followed.
    let redirected_to = Receiver::start().await;
    let redirecting = Receiver::start().await;
    redirecting.answer_with(307, Some(&redirected_to.url("/elsewhere")));
    let unit = agency_unit().await;
    let app = &unit.app;
    app.practitioner_of(&unit.admin, "pc.jones@police.test", "police")
        .await;
    let (id, secret) = app.api_client(&unit.admin, "police", &ALL_SCOPES).await;
    let token = app.client_token(&id, &secret).await;
    let (webhook_id, _) = app.webhook(&token, &redirecting.url("/hook")).await;
    app.post(
        "/api/v1/client/requests",
        Some(&token),
        case_submission("pc.jones@police.test"),
    )
    .await
    .created();
    assert_eq!(app.deliver_webhooks().await, 0);
    assert_eq!(redirecting.received().len(), 1);
    assert!(redirected_to.received().is_empty(), "redirect followed");
    let log = app
        .get(
            &format!("/api/v1/webhooks/{webhook_id}/deliveries"),
            Some(&token),
        )
        .await;
    assert_eq!(log.body["items"][0]["status"], "pending");
    assert_eq!(log.body["items"][0]["response_status"], 307);

    // Deleting a webhook stops what was still waiting.
    app.call(
        reqwest::Method::DELETE,
        &format!("/api/v1/webhooks/{webhook_id}"),
        Some(&token),
        None,
    )
    .await
    .no_content();
    app.get(&format!("/api/v1/webhooks/{webhook_id}"), Some(&token))
        .await
        .problem(404);
}

#[tokio::test]
async fn the_running_service_sends_webhooks_by_itself() {
    let receiver = Receiver::start().await;
    let unit = unit_on(
        spawn_app_with(|s| {
            reach_loopback(s);
            s.webhooks.worker_interval_seconds = 1;
        })
        .await,
    )
    .await;
    let app = &unit.app;
    app.practitioner_of(&unit.admin, "pc.jones@police.test", "police")
        .await;
    let (client_id, secret) = app.api_client(&unit.admin, "police", &ALL_SCOPES).await;
    let token = app.client_token(&client_id, &secret).await;
    let (_, signing_secret) = app.webhook(&token, &receiver.url("/nru")).await;
    let created = app
        .post(
            "/api/v1/client/requests",
            Some(&token),
            case_submission("pc.jones@police.test"),
        )
        .await
        .created();

    // Nobody calls the dispatcher here: the service's own worker sends it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while receiver.received().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "no webhook arrived from the running service"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let received = receiver.received();
    let body = assert_genuine(
        &received[0],
        &signing_secret,
        chrono::Utc::now().timestamp(),
    );
    assert_eq!(body["type"], "request.created");
    assert_eq!(body["data"]["request_id"], created.body["id"]);
}
