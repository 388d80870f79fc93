//! Two replicas of the service, as behind a load balancer: separate
//! processes on one database and one SMTP server, started at the same
//! moment and driven at once.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;
use crate::smtp::SmtpServer;
use crate::world::submission;

const REQUESTS: usize = 20;

/// A replica: the service with both background workers ticking every
/// second, the one-minute SLA fixture and the SMTP server.
async fn replica(url: String, smtp_port: u16) -> ServerProcess {
    let smtp_port = smtp_port.to_string();
    let triage = fixture("triage-replicas.toml");
    let sla = fixture("sla-replicas.toml");
    let env = [
        ("APP__LOG__LEVEL", "warn"),
        ("APP__SERVER__WORKERS", "2"),
        ("APP__TRIAGE__RULES_FILE", triage.as_str()),
        ("APP__SLA__POLICIES_FILE", sla.as_str()),
        ("APP__SLA__MONITOR_INTERVAL_SECONDS", "1"),
        ("APP__EMAIL__TRANSPORT", "smtp"),
        ("APP__EMAIL__SMTP__HOST", "127.0.0.1"),
        ("APP__EMAIL__SMTP__PORT", smtp_port.as_str()),
        ("APP__EMAIL__SMTP__SECURITY", "none"),
        ("APP__EMAIL__WORKER_INTERVAL_SECONDS", "1"),
    ];
    ServerProcess::start(&url, &env).await
}

#[tokio::test]
async fn two_replicas_share_the_work_without_doubling_or_losing_any() {
    let (_db, url) = TestDb::create();
    let smtp = SmtpServer::start();
    // Both start on an empty database at once: one migrates and makes the
    // first admin while the other waits for the migration lock.
    let (a, b) = tokio::join!(
        replica(url.clone(), smtp.port),
        replica(url.clone(), smtp.port)
    );
    let admin = b.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let team = a
        .call(
            Method::POST,
            "/api/v1/teams",
            &admin,
            Some(json!({"name": "Duty"})),
        )
        .await
        .created();
    let team_id = team.id();
    let mut people = BTreeMap::new();
    for (email, role) in [
        ("s1@test.local", "specialist"),
        ("s2@test.local", "specialist"),
        ("p1@test.local", "practitioner"),
        ("p2@test.local", "practitioner"),
    ] {
        let mut body =
            json!({"email": email, "display_name": email, "role": role, "password": PASSWORD});
        if role == "specialist" {
            body["team_ids"] = json!([team_id]);
            body["max_open_requests"] = json!(REQUESTS);
        } else {
            body["organisation"] = json!("police");
            body["region"] = json!("london");
        }
        let made = b
            .call(Method::POST, "/api/v1/users", &admin, Some(body))
            .await
            .created();
        let id = made.id();
        people.insert(email, (id, a.sign_in(email, PASSWORD).await));
    }
    let replicas = [&a, &b];

    // Concurrent submissions through both: every reference is different.
    let started = Instant::now();
    let mut submissions = tokio::task::JoinSet::new();
    for n in 0..REQUESTS {
        let replica = replicas[n % 2];
        let (client, base) = (replica.client.clone(), replica.base.clone());
        let token = people[["p1@test.local", "p2@test.local"][n / 2 % 2]]
            .1
            .clone();
        submissions.spawn(async move {
            call_at(
                &client,
                &base,
                Method::POST,
                "/api/v1/requests",
                Some(&token),
                Some(submission()),
            )
            .await
        });
    }
    let mut references = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for reply in submissions.join_all().await {
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        assert_eq!(reply.body["status"], "triaged", "routed to the Duty queue");
        references.insert(reply.string("reference"));
        ids.insert(reply.id());
    }
    assert_eq!(references.len(), REQUESTS, "{references:?}");
    let numbers: BTreeSet<u64> = references
        .iter()
        .map(|r| r.rsplit('-').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        numbers,
        (1..=REQUESTS as u64).collect(),
        "references are gapless"
    );

    // Claim-next races: each specialist on both replicas at once.
    let mut claims = tokio::task::JoinSet::new();
    for email in ["s1@test.local", "s2@test.local"] {
        for replica in replicas {
            let (client, base) = (replica.client.clone(), replica.base.clone());
            let (user_id, token) = people[email].clone();
            claims.spawn(async move {
                let mut taken = Vec::new();
                loop {
                    let reply = call_at(
                        &client,
                        &base,
                        Method::POST,
                        "/api/v1/queue/claim-next",
                        Some(&token),
                        Some(json!({})),
                    )
                    .await;
                    match reply.status {
                        StatusCode::OK => {
                            assert_eq!(reply.body["assignee_id"].as_str(), Some(user_id.as_str()));
                            taken.push((reply.id(), user_id.clone()));
                        }
                        StatusCode::NO_CONTENT => return taken,
                        other => panic!("claim-next answered {other}: {}", reply.body),
                    }
                }
            });
        }
    }
    let mut owner = BTreeMap::new();
    for (id, user) in claims.join_all().await.into_iter().flatten() {
        assert!(
            owner.insert(id.clone(), user).is_none(),
            "{id} was claimed twice"
        );
    }
    assert_eq!(
        owner.keys().cloned().collect::<BTreeSet<_>>(),
        ids,
        "every request claimed once"
    );
    let token_of: BTreeMap<&String, &String> = people.values().map(|(id, t)| (id, t)).collect();
    for (id, user) in &owner {
        let seen = a
            .call(
                Method::GET,
                &format!("/api/v1/requests/{id}"),
                token_of[user],
                None,
            )
            .await
            .ok();
        assert_eq!(seen.body["assignee_id"].as_str(), Some(user.as_str()));
        assert_eq!(seen.body["status"], "assigned");
    }

    // Both monitors tick every second: each warning point (5, 10, 15 and 20
    // percent of a one-minute target) is recorded once per request.
    let last_warning = Duration::from_secs(12) + Duration::from_secs(4);
    if let Some(left) = last_warning.checked_sub(started.elapsed()) {
        tokio::time::sleep(left).await;
    }
    for id in &ids {
        let events = b
            .call(
                Method::GET,
                &format!("/api/v1/requests/{id}/sla-events"),
                token_of[&owner[id]],
                None,
            )
            .await
            .ok();
        let warnings: Vec<i64> = events
            .body
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["clock"] == "first_response" && e["kind"] == "warning")
            .map(|e| e["level"].as_i64().unwrap())
            .collect();
        assert_eq!(warnings, vec![5, 10, 15, 20], "{id}: {}", events.body);
    }

    // Both mailers drain the one outbox: every email reaches the SMTP
    // server exactly once.
    let deadline = Instant::now() + Duration::from_secs(60);
    let outbox = loop {
        let outbox = a.all("/api/v1/admin/outbox", &admin).await;
        if outbox.iter().all(|e| e["status"] == "sent") {
            break outbox;
        }
        assert!(Instant::now() < deadline, "outbox did not drain");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let warnings = outbox
        .iter()
        .filter(|e| e["event"] == "sla_warning")
        .count();
    assert_eq!(warnings, REQUESTS * 4, "one warning email per point");
    let expected: BTreeSet<String> = outbox
        .iter()
        .map(|e| format!("<{}@nru-helpdesk>", e["id"].as_str().unwrap()))
        .collect();
    let received = smtp.received();
    let message_ids: Vec<String> = received
        .iter()
        .map(|m| m.header("Message-ID").unwrap_or_default())
        .collect();
    assert_eq!(received.len(), outbox.len(), "no email sent twice or lost");
    assert_eq!(message_ids.into_iter().collect::<BTreeSet<_>>(), expected);
}
