use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::world::{submission, unit, unit_on, year, Unit};

#[tokio::test]
async fn a_practitioner_submits_and_gets_a_reference_location_and_etag() {
    let u = unit().await;
    let reply = u
        .app
        .post("/api/v1/requests", Some(&u.practitioner), submission())
        .await
        .created();
    let id = reply.id();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/requests/{id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(reply.body["reference"], format!("NRU-{}-000001", year()));
    assert_eq!(reply.body["status"], "new");
    assert_eq!(
        reply.body["organisation"], "health",
        "defaulted from the profile"
    );
    assert_eq!(reply.body["region"], "wales");
    assert_eq!(
        reply.body["young_person"]["flags"],
        json!(["missing_from_home"])
    );
    assert_eq!(reply.body["requester_id"], json!(u.practitioner_id));
    let second = u.submit().await;
    assert_eq!(second["reference"], format!("NRU-{}-000002", year()));
}

#[tokio::test]
async fn each_bad_field_is_named_and_nothing_is_created() {
    let u = unit().await;
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(Mutation, &str)> = vec![
        (Box::new(|b| b["title"] = json!("ab")), "title"),
        (
            Box::new(|b| b["description"] = json!("            ")),
            "description",
        ),
        (Box::new(|b| b["category"] = json!("burglary")), "category"),
        (Box::new(|b| b["urgency"] = json!("whenever")), "urgency"),
        (Box::new(|b| b["region"] = json!("atlantis")), "region"),
        (
            Box::new(|b| b["young_person"]["age"] = json!(30)),
            "young_person.age",
        ),
        (
            Box::new(|b| b["young_person"]["age_band"] = json!("13_to_15")),
            "young_person.age_band",
        ),
        (
            Box::new(|b| b["young_person"] = json!({"gender": "female"})),
            "young_person.age",
        ),
        (
            Box::new(|b| b["young_person"]["flags"] = json!(["famous"])),
            "young_person.flags[0]",
        ),
        (
            Box::new(|b| b["young_person"]["name"] = json!("Jo")),
            "young_person.name",
        ),
        (
            Box::new(|b| b["contact"]["method"] = json!("pigeon")),
            "contact.method",
        ),
        (
            Box::new(|b| b["contact"]["times"] = json!("x".repeat(201))),
            "contact.times",
        ),
        (
            Box::new(|b| b["local_reference"] = json!("")),
            "local_reference",
        ),
        (Box::new(|b| b["priority"] = json!("P1")), "priority"),
        (
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("contact");
            }),
            "contact",
        ),
    ];
    for (mutate, field) in cases {
        let mut body = submission();
        mutate(&mut body);
        let reply = u
            .app
            .post("/api/v1/requests", Some(&u.practitioner), body)
            .await;
        reply.problem(422);
        assert_eq!(reply.fields(), [field], "{}", reply.body);
    }
    // Several wrong at once: each is named, choices and lengths alike.
    let mut body = submission();
    body["category"] = json!("not-a-category");
    body["urgency"] = json!("whenever");
    body["contact"]["method"] = json!("pigeon");
    body["title"] = json!("ab");
    let reply = u
        .app
        .post("/api/v1/requests", Some(&u.practitioner), body)
        .await;
    reply.problem(422);
    let mut named = reply.fields();
    named.sort();
    assert_eq!(
        named,
        ["category", "contact.method", "title", "urgency"],
        "{}",
        reply.body
    );
    let list = u.app.get("/api/v1/requests", Some(&u.practitioner)).await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn only_practitioners_submit() {
    let u = unit().await;
    for token in [&u.specialist, &u.coordinator, &u.admin] {
        u.app
            .post("/api/v1/requests", Some(token), submission())
            .await
            .problem(403);
    }
    u.app
        .post("/api/v1/requests", None, submission())
        .await
        .problem(401);
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_return_the_first_result() {
    let u = unit().await;
    let send = |body: Value| {
        u.app
            .client
            .post(format!("{}/api/v1/requests", u.app.address))
            .bearer_auth(&u.practitioner)
            .header("Idempotency-Key", "submit-42")
            .json(&body)
            .send()
    };
    let first = read(send(submission()).await.unwrap()).await.created();
    let again = read(send(submission()).await.unwrap()).await.created();
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));

    let mut changed = submission();
    changed["title"] = json!("A different title");
    let conflict = read(send(changed).await.unwrap()).await;
    conflict.problem(422);
    assert_eq!(conflict.fields(), ["Idempotency-Key"]);

    // Keys are per user: another practitioner's identical key is their own.
    let other = read(
        u.app
            .client
            .post(format!("{}/api/v1/requests", u.app.address))
            .bearer_auth(&u.other_practitioner)
            .header("Idempotency-Key", "submit-42")
            .json(&submission())
            .send()
            .await
            .unwrap(),
    )
    .await
    .created();
    assert_ne!(other.body["id"], first.body["id"]);

    let list = u.app.get("/api/v1/requests", Some(&u.practitioner)).await;
    assert_eq!(list.items().len(), 1);
}

#[tokio::test]
async fn concurrent_duplicate_submissions_create_one_request() {
    let u = unit().await;
    let mut calls = Vec::new();
    for _ in 0..12 {
        let request = u
            .app
            .client
            .post(format!("{}/api/v1/requests", u.app.address))
            .bearer_auth(&u.practitioner)
            .header("Idempotency-Key", "double-click")
            .json(&submission());
        calls.push(tokio::spawn(async move {
            read(request.send().await.unwrap()).await
        }));
    }
    let mut ids = HashSet::new();
    for call in calls {
        let reply = call.await.unwrap().created();
        ids.insert(reply.id());
    }
    assert_eq!(ids.len(), 1);
    let list = u.app.get("/api/v1/requests", Some(&u.practitioner)).await;
    assert_eq!(list.items().len(), 1);
}

#[tokio::test]
async fn references_stay_unique_under_concurrent_submissions() {
    let u = unit().await;
    let mut calls = Vec::new();
    for i in 0..20 {
        let token = if i % 2 == 0 {
            u.practitioner.clone()
        } else {
            u.other_practitioner.clone()
        };
        let request = u
            .app
            .client
            .post(format!("{}/api/v1/requests", u.app.address))
            .bearer_auth(token)
            .json(&submission());
        calls.push(tokio::spawn(async move {
            read(request.send().await.unwrap()).await
        }));
    }
    let mut references = HashSet::new();
    for call in calls {
        let reply = call.await.unwrap().created();
        references.insert(reply.string("reference"));
    }
    let expected: HashSet<String> = (1..=20).map(|n| format!("NRU-{}-{n:06}", year())).collect();
    assert_eq!(references, expected);
}

#[tokio::test]
async fn another_practitioner_learns_nothing_about_a_request() {
    let u = unit().await;
    let id = u.assigned().await;
    let kim = &u.other_practitioner;
    let not_found = u
        .app
        .get(&format!("/api/v1/requests/{id}"), Some(kim))
        .await;
    not_found.problem(404);
    let unknown = u
        .app
        .get(
            "/api/v1/requests/00000000-0000-7000-8000-000000000000",
            Some(kim),
        )
        .await;
    assert_eq!(
        not_found.body, unknown.body,
        "the same answer as for a request that does not exist"
    );
    u.app
        .get(&format!("/api/v1/requests/{id}/messages"), Some(kim))
        .await
        .problem(404);
    u.app
        .get(&format!("/api/v1/requests/{id}/timeline"), Some(kim))
        .await
        .problem(404);
    u.message(&id, kim, "reply", "hello").await.problem(404);
    for action in ["withdraw", "close", "reopen"] {
        u.act(&id, action, kim).await.problem(404);
    }
    let list = u.app.get("/api/v1/requests", Some(kim)).await;
    assert_eq!(list.body["items"], json!([]));
    // The outsider specialist (another team) sees nothing either; admins see no case content.
    u.app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.outsider))
        .await
        .problem(404);
    assert_eq!(
        u.app.get("/api/v1/requests", Some(&u.outsider)).await.body["items"],
        json!([])
    );
    u.app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.admin))
        .await
        .problem(403);
    u.app
        .get("/api/v1/requests", Some(&u.admin))
        .await
        .problem(403);
    u.app
        .get(&format!("/api/v1/requests/{id}"), None)
        .await
        .problem(401);
}

#[tokio::test]
async fn a_request_lives_from_submission_to_closure() {
    let u = unit().await;
    let submitted = u.submit().await;
    let id = submitted.id();
    // An untriaged request is in no team, so a specialist cannot even see it.
    u.app
        .post(
            &format!("/api/v1/requests/{id}/triage"),
            Some(&u.specialist),
            json!({"priority": "P2", "team_id": u.team}),
        )
        .await
        .problem(404);
    // A refused transition says from what.
    let early = u.act(&id, "resolve", &u.coordinator).await;
    early.problem(409);
    assert!(
        early.body["detail"].as_str().unwrap().contains("new"),
        "{}",
        early.body
    );
    let bad_assignee = u
        .app
        .post(
            &format!("/api/v1/requests/{id}/triage"),
            Some(&u.coordinator),
            json!({"priority": "P2", "team_id": "nope"}),
        )
        .await;
    bad_assignee.problem(422);
    assert_eq!(bad_assignee.fields(), ["team_id"]);
    let triaged = u
        .app
        .post(
            &format!("/api/v1/requests/{id}/triage"),
            Some(&u.coordinator),
            json!({"priority": "P2", "team_id": u.team}),
        )
        .await;
    assert_eq!(triaged.body["status"], "triaged");
    assert_eq!(triaged.body["priority"], "P2");
    let wrong = u
        .app
        .post(
            &format!("/api/v1/requests/{id}/assign"),
            Some(&u.coordinator),
            json!({"assignee_id": u.outsider_id}),
        )
        .await;
    wrong.problem(422);
    assert_eq!(wrong.fields(), ["assignee_id"]);
    let assigned = u
        .app
        .post(
            &format!("/api/v1/requests/{id}/assign"),
            Some(&u.coordinator),
            json!({"assignee_id": u.specialist_id}),
        )
        .await;
    assert_eq!(assigned.body["status"], "assigned");
    assert_eq!(assigned.body["assignee_id"], json!(u.specialist_id));
    // Only coordinators triage and assign, even for the assignee.
    u.app
        .post(
            &format!("/api/v1/requests/{id}/assign"),
            Some(&u.specialist),
            json!({"assignee_id": u.specialist_id}),
        )
        .await
        .problem(403);

    // The first staff reply is the first response.
    u.message(
        &id,
        &u.specialist,
        "reply",
        "Thank you; we can help. Please call us.",
    )
    .await
    .created();
    let detail = u
        .app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.practitioner))
        .await;
    assert!(detail.body["milestones"]["first_response_at"].is_string());

    // Asking for information pauses the clock; the requester's reply resumes it.
    let paused = u.act(&id, "request-information", &u.specialist).await;
    assert_eq!(paused.body["status"], "awaiting_requester");
    assert_eq!(paused.body["paused"], true);
    u.message(&id, &u.practitioner, "reply", "The school is St Example's.")
        .await
        .created();
    let resumed = u
        .app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.specialist))
        .await;
    assert_eq!(resumed.body["status"], "assigned");
    assert_eq!(resumed.body["paused"], false);

    // Another specialist in the team sees it but may not resolve it; the practitioner may not either.
    u.act(&id, "resolve", &u.practitioner).await.problem(403);
    let resolved = u.act(&id, "resolve", &u.specialist).await;
    assert_eq!(resolved.body["status"], "resolved");
    assert!(resolved.body["milestones"]["resolved_at"].is_string());
    u.message(&id, &u.practitioner, "reply", "one more thing")
        .await
        .problem(409);
    let reopened = u.act(&id, "reopen", &u.practitioner).await;
    assert_eq!(reopened.body["status"], "assigned");
    assert_eq!(
        u.act(&id, "resolve", &u.specialist).await.body["status"],
        "resolved"
    );
    let closed = u.act(&id, "close", &u.practitioner).await;
    assert_eq!(closed.body["status"], "closed");
    assert!(closed.body["milestones"]["closed_at"].is_string());
    u.act(&id, "reopen", &u.practitioner).await.problem(409);
    u.message(&id, &u.specialist, "internal_note", "late note")
        .await
        .problem(409);

    let timeline = u
        .app
        .get(
            &format!("/api/v1/requests/{id}/timeline?limit=100"),
            Some(&u.practitioner),
        )
        .await;
    let changes: Vec<(String, String)> = timeline
        .items()
        .iter()
        .filter(|i| i["kind"] == "status_change")
        .map(|i| {
            (
                i["status_change"]["from"].as_str().unwrap().to_owned(),
                i["status_change"]["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("new", "triaged"),
        ("triaged", "assigned"),
        ("assigned", "awaiting_requester"),
        ("awaiting_requester", "assigned"),
        ("assigned", "resolved"),
        ("resolved", "assigned"),
        ("assigned", "resolved"),
        ("resolved", "closed"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(changes, expected);
}

#[tokio::test]
async fn the_requester_may_withdraw_before_resolution_and_then_nothing_moves() {
    let u = unit().await;
    let id = u.submit().await.id();
    u.act(&id, "withdraw", &u.coordinator).await.problem(403);
    let withdrawn = u.act(&id, "withdraw", &u.practitioner).await;
    assert_eq!(withdrawn.body["status"], "withdrawn");
    assert!(withdrawn.body["milestones"]["withdrawn_at"].is_string());
    u.act(&id, "withdraw", &u.practitioner).await.problem(409);
    u.message(&id, &u.practitioner, "reply", "hello?")
        .await
        .problem(409);
}

#[tokio::test]
async fn internal_notes_never_reach_the_requester() {
    let u = unit().await;
    let id = u.assigned().await;
    u.message(
        &id,
        &u.specialist,
        "internal_note",
        "Family known to us; be careful.",
    )
    .await;
    u.message(&id, &u.specialist, "reply", "We are looking at this.")
        .await;
    u.message(&id, &u.practitioner, "internal_note", "trying")
        .await
        .problem(403);

    let mine = u
        .app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.practitioner))
        .await;
    assert_eq!(mine.body["message_count"], 1);
    let messages = u
        .app
        .get(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&u.practitioner),
        )
        .await;
    let kinds: Vec<&str> = messages.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reply"]);
    let timeline = u
        .app
        .get(
            &format!("/api/v1/requests/{id}/timeline"),
            Some(&u.practitioner),
        )
        .await;
    assert!(!timeline.body.to_string().contains("Family known"));

    let staff = u
        .app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.specialist))
        .await;
    assert_eq!(staff.body["message_count"], 2);
    let staff_messages = u
        .app
        .get(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&u.coordinator),
        )
        .await;
    assert_eq!(staff_messages.items().len(), 2);
}

#[tokio::test]
async fn stale_or_missing_if_match_is_refused_and_nothing_is_overwritten() {
    let u = unit().await;
    let id = u.submit().await.id();
    let path = format!("/api/v1/requests/{id}");
    let patch = |version: Option<&str>, body: Value| {
        let mut request = u
            .app
            .client
            .request(Method::PATCH, format!("{}{}", u.app.address, path))
            .bearer_auth(&u.practitioner)
            .json(&body);
        if let Some(v) = version {
            request = request.header("If-Match", v);
        }
        request.send()
    };
    read(patch(None, json!({"title": "New title"})).await.unwrap())
        .await
        .problem(428);
    let first = read(
        patch(
            Some("\"1\""),
            json!({"title": "Updated title", "young_person": {"age": 16}}),
        )
        .await
        .unwrap(),
    )
    .await
    .ok();
    assert_eq!(first.header("etag"), Some("\"2\""));
    assert_eq!(first.body["young_person"]["age"], 16);
    // A second editor still holding version 1 is refused.
    read(
        patch(Some("\"1\""), json!({"title": "Their title"}))
            .await
            .unwrap(),
    )
    .await
    .problem(412);
    read(
        patch(Some("nonsense"), json!({"title": "x title"}))
            .await
            .unwrap(),
    )
    .await
    .problem(400);
    let now = u.app.get(&path, Some(&u.practitioner)).await;
    assert_eq!(now.body["title"], "Updated title");

    // Actions honour If-Match too.
    let stale = u
        .app
        .client
        .post(format!("{}/api/v1/requests/{id}/withdraw", u.app.address))
        .bearer_auth(&u.practitioner)
        .header("If-Match", "\"1\"")
        .send()
        .await
        .unwrap();
    read(stale).await.problem(412);
    assert_eq!(
        u.app.get(&path, Some(&u.practitioner)).await.body["status"],
        "new"
    );

    // The audit names the changed fields but never copies the free text.
    let audit = u.audit_actions(&id).await;
    let (_, update) = audit
        .iter()
        .find(|(a, _)| a == "request.updated")
        .expect("update audited");
    assert_eq!(
        update["details"]["fields"],
        json!(["title", "young_person.age"])
    );
    assert_eq!(
        update["details"]["changes"]["young_person.age"],
        json!({"from": 15, "to": 16})
    );
    assert!(!update.to_string().contains("Updated title"));
    // Other practitioners and non-admin staff cannot edit it.
    let other = u
        .app
        .client
        .patch(format!("{}{}", u.app.address, path))
        .bearer_auth(&u.other_practitioner)
        .header("If-Match", "\"2\"")
        .json(&json!({"title": "Hijack"}))
        .send()
        .await
        .unwrap();
    read(other).await.problem(404);
}

#[tokio::test]
async fn a_null_title_or_description_is_refused_by_name_and_changes_nothing() {
    let u = unit().await;
    let submitted = u.submit().await;
    let id = submitted.id();
    let path = format!("/api/v1/requests/{id}");
    for (body, fields) in [
        (json!({"title": null}), vec!["title"]),
        (json!({"description": null}), vec!["description"]),
        (
            json!({"title": null, "local_reference": "REF-9"}),
            vec!["title"],
        ),
    ] {
        let reply = read(
            u.app
                .client
                .patch(format!("{}{}", u.app.address, path))
                .bearer_auth(&u.practitioner)
                .header("If-Match", "\"1\"")
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        reply.problem(422);
        assert_eq!(reply.fields(), fields, "{body}");
    }
    let now = u.app.get(&path, Some(&u.practitioner)).await;
    assert_eq!(now.header("etag"), Some("\"1\""));
    assert_eq!(now.body["title"], submitted["title"]);
    assert_eq!(now.body["description"], submitted["description"]);
    assert_eq!(now.body["local_reference"], submitted["local_reference"]);
}

#[tokio::test]
async fn staff_reads_are_audited_and_the_trail_is_for_coordinators_and_admins() {
    let u = unit().await;
    let id = u.assigned().await;
    u.app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.practitioner))
        .await;
    u.app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.specialist))
        .await;
    u.app
        .get(
            &format!("/api/v1/requests/{id}/messages"),
            Some(&u.coordinator),
        )
        .await;
    u.app
        .get(
            &format!("/api/v1/requests/{id}/timeline"),
            Some(&u.specialist),
        )
        .await;
    let audit = u.audit_actions(&id).await;
    let reads: Vec<(&str, &str)> = audit
        .iter()
        .filter(|(a, _)| a.ends_with(".read"))
        .map(|(a, e)| (a.as_str(), e["actor_id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reads,
        [
            ("request.read", u.specialist_id.as_str()),
            ("messages.read", u.coordinator_id.as_str()),
            ("timeline.read", u.specialist_id.as_str()),
        ],
        "staff reads only; the requester's own read is not audited"
    );
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert!(
        actions.starts_with(&[
            "request.created",
            "request.triage_skipped",
            "request.transition",
            "request.transition"
        ]),
        "{actions:?}"
    );

    u.app
        .get(
            &format!("/api/v1/requests/{id}/audit"),
            Some(&u.coordinator),
        )
        .await
        .ok();
    u.app
        .get(&format!("/api/v1/requests/{id}/audit"), Some(&u.specialist))
        .await
        .problem(403);
    u.app
        .get(
            &format!("/api/v1/requests/{id}/audit"),
            Some(&u.practitioner),
        )
        .await
        .problem(403);
    let all = u
        .app
        .get(
            &format!("/api/v1/audit?request_id={id}&action=request.read"),
            Some(&u.admin),
        )
        .await;
    assert_eq!(all.items().len(), 1);
    u.app
        .get("/api/v1/audit", Some(&u.coordinator))
        .await
        .problem(403);
    u.app.get("/api/v1/audit", None).await.problem(401);
}

/// `at` as the API writes a timestamp.
fn stamped(at: chrono::NaiveDateTime) -> Value {
    json!(at.and_utc())
}

#[tokio::test]
async fn audit_rows_and_accounts_are_stamped_by_the_service_clock() {
    // Long before the system clock's now, so a system-time stamp shows.
    let start = chrono::NaiveDate::from_ymd_opt(2024, 3, 1)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let u = unit_on(spawn_app_at(start, |_| {}).await).await;
    let id = u.submit().await.id();
    u.app.clock.advance(chrono::Duration::seconds(90));
    u.detail(&id).await;
    u.app.clock.advance(chrono::Duration::seconds(90));
    u.app
        .get("/api/v1/requests", Some(&u.coordinator))
        .await
        .ok();

    let trail = u
        .app
        .get(&format!("/api/v1/audit?request_id={id}"), Some(&u.admin))
        .await;
    let stamps: Vec<(&str, &Value)> = trail.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["action"].as_str().unwrap(), &row["at"]))
        .collect();
    let ninety = chrono::Duration::seconds(90);
    assert_eq!(
        stamps,
        [
            ("request.created", &stamped(start)),
            ("request.triage_skipped", &stamped(start)),
            ("request.read", &stamped(start + ninety)),
            ("requests.listed", &stamped(start + ninety + ninety)),
        ],
        "the submission, a read and a list page, each at the clock's time"
    );
    // Accounts and teams (stamped with the system time before) too.
    let specialist = u
        .app
        .get(
            &format!("/api/v1/users/{}", u.specialist_id),
            Some(&u.admin),
        )
        .await;
    assert_eq!(specialist.body["created_at"], stamped(start));
    assert_eq!(specialist.body["updated_at"], stamped(start));
    let team = u
        .app
        .get(&format!("/api/v1/teams/{}", u.team), Some(&u.admin))
        .await;
    assert_eq!(team.body["created_at"], stamped(start));
}

#[tokio::test]
async fn the_database_refuses_to_change_or_delete_audit_rows() {
    use diesel::{Connection, RunQueryDsl};
    let u = unit().await;
    u.submit().await;
    let url = u.app.settings.database.url.expose().to_owned();
    let outcome = |sql: &str| -> bool {
        match nru_helpdesk::db::DbTarget::parse(&url) {
            nru_helpdesk::db::DbTarget::Postgres(url) => {
                let mut conn = diesel::PgConnection::establish(&url).unwrap();
                diesel::sql_query(sql).execute(&mut conn).is_ok()
            }
            nru_helpdesk::db::DbTarget::Sqlite(path) => {
                let mut conn = diesel::SqliteConnection::establish(&path).unwrap();
                diesel::sql_query(sql).execute(&mut conn).is_ok()
            }
        }
    };
    assert!(!outcome("UPDATE audit_log SET action = 'tampered'"));
    assert!(!outcome("DELETE FROM audit_log"));
    assert!(outcome("SELECT 1"), "control: the connection itself works");
    let audit = u.app.get("/api/v1/audit", Some(&u.admin)).await;
    assert!(audit.items().iter().all(|e| e["action"] != "tampered"));
    assert!(!audit.items().is_empty());
}

#[tokio::test]
async fn specialists_see_their_team_and_exclusions_hide_a_request_everywhere() {
    let u = unit().await;
    let id = u.assigned().await;
    assert_eq!(
        u.app
            .get("/api/v1/requests", Some(&u.specialist))
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The coordinator excludes a teammate of the specialist (here: a second specialist in the team).
    let (teammate_id, teammate) = {
        let user = u
            .app
            .create_user(
                &u.admin,
                json!({"email": "lee@unit.test", "display_name": "Lee", "role": "specialist",
                                           "password": PASSWORD, "team_ids": [u.team]}),
            )
            .await;
        (user.id(), u.app.sign_in("lee@unit.test", PASSWORD).await.0)
    };
    u.app
        .get(&format!("/api/v1/requests/{id}"), Some(&teammate))
        .await
        .ok();
    let exclusions = format!("/api/v1/requests/{id}/exclusions");
    u.app
        .post(
            &exclusions,
            Some(&u.specialist),
            json!({"user_id": teammate_id}),
        )
        .await
        .problem(403);
    let holder = u
        .app
        .post(
            &exclusions,
            Some(&u.coordinator),
            json!({"user_id": u.specialist_id}),
        )
        .await;
    holder.problem(409);
    u.app
        .post(
            &exclusions,
            Some(&u.coordinator),
            json!({"user_id": teammate_id}),
        )
        .await
        .no_content();
    assert_eq!(
        u.app.get(&exclusions, Some(&u.coordinator)).await.body["user_ids"],
        json!([teammate_id])
    );

    u.app
        .get(&format!("/api/v1/requests/{id}"), Some(&teammate))
        .await
        .problem(404);
    u.app
        .get(&format!("/api/v1/requests/{id}/messages"), Some(&teammate))
        .await
        .problem(404);
    u.message(&id, &teammate, "internal_note", "hi")
        .await
        .problem(404);
    assert_eq!(
        u.app.get("/api/v1/requests", Some(&teammate)).await.body["items"],
        json!([])
    );
    u.app
        .post(
            &format!("/api/v1/requests/{id}/break-glass"),
            Some(&teammate),
            json!({"reason": "I need to see this one now"}),
        )
        .await
        .problem(404);
    u.act(&id, "unassign", &u.coordinator).await;
    let assign = u
        .app
        .post(
            &format!("/api/v1/requests/{id}/assign"),
            Some(&u.coordinator),
            json!({"assignee_id": teammate_id}),
        )
        .await;
    assign.problem(422);
    assert_eq!(assign.fields(), ["assignee_id"]);

    u.app
        .call(
            Method::DELETE,
            &format!("{exclusions}/{teammate_id}"),
            Some(&u.coordinator),
            None,
        )
        .await
        .no_content();
    u.app
        .get(&format!("/api/v1/requests/{id}"), Some(&teammate))
        .await
        .ok();
}

#[tokio::test]
async fn break_glass_opens_a_request_for_a_time_and_is_reported() {
    let u = unit().await;
    let id = u.assigned().await;
    let path = format!("/api/v1/requests/{id}/break-glass");
    u.app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.outsider))
        .await
        .problem(404);
    let short = u
        .app
        .post(&path, Some(&u.outsider), json!({"reason": "need"}))
        .await;
    short.problem(422);
    assert_eq!(short.fields(), ["reason"]);
    u.app
        .post(
            &path,
            Some(&u.specialist),
            json!({"reason": "I already hold this request"}),
        )
        .await
        .problem(409);
    u.app
        .post(
            &path,
            Some(&u.practitioner),
            json!({"reason": "Let me see it please"}),
        )
        .await
        .problem(403);
    u.app
        .post(
            &path,
            Some(&u.coordinator),
            json!({"reason": "Coordinators see all anyway"}),
        )
        .await
        .problem(403);

    let grant = u
        .app
        .post(
            &path,
            Some(&u.outsider),
            json!({"reason": "Covering the on-call rota tonight"}),
        )
        .await
        .created();
    assert_eq!(grant.body["user_id"], json!(u.outsider_id));
    u.app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.outsider))
        .await
        .ok();

    let audit = u.audit_actions(&id).await;
    assert!(audit
        .iter()
        .any(|(a, e)| a == "break_glass.granted" && e["actor_id"] == json!(u.outsider_id)));
    let (_, glass_read) = audit
        .iter()
        .rev()
        .find(|(a, e)| a == "request.read" && e["actor_id"] == json!(u.outsider_id))
        .expect("the read is audited");
    assert_eq!(glass_read["details"]["via_break_glass"], true);

    let review = u.app.get("/api/v1/break-glass", Some(&u.coordinator)).await;
    assert_eq!(
        review.body["items"][0]["reason"],
        "Covering the on-call rota tonight"
    );
    u.app
        .get("/api/v1/break-glass", Some(&u.specialist))
        .await
        .problem(403);
    u.app
        .get("/api/v1/break-glass", Some(&u.practitioner))
        .await
        .problem(403);
}

#[tokio::test]
async fn lists_filter_and_page_through_what_the_caller_may_see() {
    let u = unit().await;
    let first = u.assigned().await;
    for _ in 0..4 {
        u.submit().await;
    }
    let mine = u
        .app
        .get("/api/v1/requests?limit=2", Some(&u.practitioner))
        .await;
    assert_eq!(mine.items().len(), 2);
    let mut seen = HashSet::new();
    let mut cursor = None::<String>;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/requests?limit=2&sort=oldest&cursor={c}"),
            None => "/api/v1/requests?limit=2&sort=oldest".to_owned(),
        };
        let page = u.app.get(&path, Some(&u.coordinator)).await;
        for item in page.items() {
            assert!(seen.insert(item.id()));
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
    let oldest = u
        .app
        .get("/api/v1/requests?sort=oldest&limit=1", Some(&u.coordinator))
        .await;
    assert_eq!(oldest.body["items"][0]["id"], json!(first));
    let assigned = u
        .app
        .get("/api/v1/requests?status=assigned", Some(&u.coordinator))
        .await;
    assert_eq!(assigned.items().len(), 1);
    let by_assignee = u
        .app
        .get(
            &format!("/api/v1/requests?assignee_id={}", u.specialist_id),
            Some(&u.coordinator),
        )
        .await;
    assert_eq!(by_assignee.items().len(), 1);
    let p2 = u
        .app
        .get(
            "/api/v1/requests?priority=P2&category=child_criminal_exploitation&region=wales",
            Some(&u.coordinator),
        )
        .await;
    assert_eq!(p2.items().len(), 1);
    let reference = format!("NRU-{}-000003", year());
    let by_ref = u
        .app
        .get(
            &format!("/api/v1/requests?reference={reference}"),
            Some(&u.coordinator),
        )
        .await;
    assert_eq!(by_ref.body["items"][0]["reference"], json!(reference));
    let future = u
        .app
        .get(
            "/api/v1/requests?created_from=2999-01-01T00:00:00Z",
            Some(&u.coordinator),
        )
        .await;
    assert_eq!(future.body["items"], json!([]));
    let past = u
        .app
        .get(
            "/api/v1/requests?created_to=2999-01-01T00:00:00Z",
            Some(&u.coordinator),
        )
        .await;
    assert_eq!(past.items().len(), 5);
    // Untriaged requests have no team, so the specialist sees only the assigned one.
    assert_eq!(
        u.app
            .get("/api/v1/requests", Some(&u.specialist))
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let bad = u
        .app
        .get("/api/v1/requests?status=lost", Some(&u.coordinator))
        .await;
    bad.problem(400);
    assert_eq!(bad.fields(), ["status"]);
    // An id filter that is no id is refused by name, not an empty page.
    for (path, field, who) in [
        (
            "/api/v1/requests?assignee_id=nobody",
            "assignee_id",
            &u.coordinator,
        ),
        ("/api/v1/requests?team_id=1", "team_id", &u.coordinator),
        ("/api/v1/queue?team_id=duty", "team_id", &u.coordinator),
        ("/api/v1/audit?actor_id=x", "actor_id", &u.admin),
        ("/api/v1/users?team_id=x", "team_id", &u.admin),
    ] {
        let bad = u.app.get(path, Some(who)).await;
        bad.problem(400);
        assert_eq!(bad.fields(), [field], "{path}");
    }
}

#[tokio::test]
async fn an_idempotency_key_is_forgotten_after_its_time() {
    let u = {
        let app = spawn_app_with(|s| s.requests.idempotency_key_ttl_seconds = 1).await;
        let admin = app.admin_token().await;
        let (_, practitioner) = app
            .user_of_role(&admin, "practitioner", "pat@police.test")
            .await;
        (app, practitioner)
    };
    let (app, practitioner) = (&u.0, &u.1);
    let send = || {
        app.client
            .post(format!("{}/api/v1/requests", app.address))
            .bearer_auth(practitioner)
            .header("Idempotency-Key", "retry-me")
            .json(&submission())
            .send()
    };
    let first = read(send().await.unwrap()).await;
    let replay = read(send().await.unwrap()).await;
    assert_eq!(replay.body["id"], first.body["id"]);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let later = read(send().await.unwrap()).await.created();
    assert_ne!(
        later.body["id"], first.body["id"],
        "an expired key starts afresh"
    );
    assert!(later.header("idempotency-replayed").is_none());
}

/// Every request endpoint, with a body where it takes one. Break-glass comes
/// late: once an outsider has used it, they may see the request.
fn endpoints(id: &str) -> Vec<(Method, String, Option<Value>)> {
    let p = |s: &str| format!("/api/v1/requests/{id}{s}");
    vec![
        (Method::GET, p(""), None),
        (
            Method::PATCH,
            p(""),
            Some(json!({"title": "Another title"})),
        ),
        (Method::GET, p("/messages"), None),
        (
            Method::POST,
            p("/messages"),
            Some(json!({"kind": "reply", "body": "hello"})),
        ),
        (Method::GET, p("/timeline"), None),
        (Method::POST, p("/withdraw"), None),
        (Method::POST, p("/resolve"), None),
        (Method::POST, p("/reopen"), None),
        (Method::POST, p("/close"), None),
        (Method::POST, p("/request-information"), None),
        (
            Method::POST,
            p("/triage"),
            Some(json!({"priority": "P1", "team_id": "x"})),
        ),
        (
            Method::POST,
            p("/assign"),
            Some(json!({"assignee_id": "x"})),
        ),
        (Method::POST, p("/unassign"), None),
        (Method::GET, p("/triage"), None),
        (Method::POST, p("/claim"), None),
        (Method::POST, p("/release"), None),
        (Method::GET, p("/exclusions"), None),
        (
            Method::POST,
            p("/exclusions"),
            Some(json!({"user_id": "x"})),
        ),
        (Method::DELETE, p("/exclusions/x"), None),
        (
            Method::POST,
            p("/break-glass"),
            Some(json!({"reason": "a good enough reason"})),
        ),
        (Method::GET, p("/audit"), None),
    ]
}

#[tokio::test]
async fn every_request_endpoint_refuses_strangers_anonymous_callers_and_forged_tokens() {
    let u = unit().await;
    let id = u.assigned().await;
    let forged = format!("{}x", u.practitioner);
    for (method, path, body) in endpoints(&id) {
        u.app
            .call(method.clone(), &path, None, body.clone())
            .await
            .problem(401);
        u.app
            .call(method.clone(), &path, Some(&forged), body.clone())
            .await
            .problem(401);
        let stranger = u
            .app
            .call(
                method.clone(),
                &path,
                Some(&u.other_practitioner),
                body.clone(),
            )
            .await;
        assert!(
            matches!(stranger.status.as_u16(), 403 | 404),
            "{method} {path}: another practitioner got {}",
            stranger.status
        );
        if stranger.status == StatusCode::FORBIDDEN {
            // Refused by role alone: the same answer as for a request that does not exist.
            let unknown = path.replace(&id, "00000000-0000-7000-8000-000000000000");
            let other = u
                .app
                .call(
                    method.clone(),
                    &unknown,
                    Some(&u.other_practitioner),
                    body.clone(),
                )
                .await;
            assert_eq!(other.status, StatusCode::FORBIDDEN, "{method} {unknown}");
        }
        let outsider = u
            .app
            .call(method.clone(), &path, Some(&u.outsider), body.clone())
            .await;
        if !path.ends_with("/break-glass") {
            assert!(
                matches!(outsider.status.as_u16(), 403 | 404),
                "{method} {path}: outsider got {}",
                outsider.status
            );
        }
    }
    // Nothing changed hands.
    let now = u
        .app
        .get(&format!("/api/v1/requests/{id}"), Some(&u.coordinator))
        .await;
    assert_eq!(now.body["status"], "assigned");
    assert_eq!(now.body["title"], "Concern about county lines recruitment");
    assert_eq!(now.body["message_count"], 0);
}

#[tokio::test]
async fn admins_read_the_audit_trail_without_case_attributes() {
    let u = unit().await;
    let id = u.submit().await.id();
    let edit = u
        .app
        .client
        .patch(format!("{}/api/v1/requests/{id}", u.app.address))
        .bearer_auth(&u.practitioner)
        .header("If-Match", "\"1\"")
        .json(&json!({"young_person": {"age": 16}}))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), StatusCode::OK);
    let admin = u
        .app
        .get(&format!("/api/v1/audit?request_id={id}"), Some(&u.admin))
        .await;
    let text = admin.body.to_string();
    assert!(
        text.contains("request.updated") && text.contains("young_person.age"),
        "field names stay: {text}"
    );
    for attribute in [
        "child_criminal_exploitation",
        "\"high\"",
        "\"from\":15",
        "\"to\":16",
    ] {
        assert!(!text.contains(attribute), "admin saw {attribute}: {text}");
    }
    let coordinator = u
        .app
        .get(
            &format!("/api/v1/requests/{id}/audit"),
            Some(&u.coordinator),
        )
        .await;
    assert!(
        coordinator
            .body
            .to_string()
            .contains("child_criminal_exploitation"),
        "coordinators see case attributes"
    );
}

impl Unit {
    /// The trail rows of `action` by `actor_id` on request `id`.
    async fn rows_of(&self, id: &str, action: &str, actor_id: &str) -> Vec<Value> {
        self.audit_actions(id)
            .await
            .into_iter()
            .filter(|(a, e)| a == action && e["actor_id"] == actor_id)
            .map(|(_, e)| e)
            .collect()
    }
}

#[tokio::test]
async fn reading_a_requests_triage_history_is_on_its_trail() {
    let u = unit().await;
    let id = u.assigned().await;
    for token in [&u.coordinator, &u.specialist] {
        u.app
            .get(&format!("/api/v1/requests/{id}/triage"), Some(token))
            .await
            .ok();
    }
    assert_eq!(
        u.rows_of(&id, "triage.read", &u.coordinator_id).await.len(),
        1
    );
    assert_eq!(
        u.rows_of(&id, "triage.read", &u.specialist_id).await.len(),
        1
    );
}

#[tokio::test]
async fn an_edit_that_changes_nothing_is_on_the_trail_as_a_read_of_the_request() {
    let u = unit().await;
    let id = u.assigned().await;
    let path = format!("/api/v1/requests/{id}");
    let version = u.app.get(&path, Some(&u.practitioner)).await.body["version"].clone();
    let empty = u
        .app
        .client
        .patch(format!("{}{path}", u.app.address))
        .bearer_auth(&u.coordinator)
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let empty = read(empty).await.ok();
    assert_eq!(empty.body["description"], submission()["description"]);
    assert_eq!(empty.body["version"], version, "nothing changed");
    let reads = u.rows_of(&id, "request.read", &u.coordinator_id).await;
    assert_eq!(reads.len(), 1, "the coordinator was shown the request");
    assert!(u
        .rows_of(&id, "request.updated", &u.coordinator_id)
        .await
        .is_empty());
}

#[tokio::test]
async fn claiming_a_request_one_already_holds_is_on_the_trail_as_a_read() {
    let u = unit().await;
    let id = u.assigned().await;
    let again = u
        .app
        .post(
            &format!("/api/v1/requests/{id}/claim"),
            Some(&u.specialist),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(again.body["assignee_id"], u.specialist_id.as_str());
    assert_eq!(
        u.rows_of(&id, "request.read", &u.specialist_id).await.len(),
        1
    );
}

#[tokio::test]
async fn a_staff_list_page_is_one_trail_row_naming_every_request_it_showed() {
    let u = unit().await;
    let first = u.triaged("P3").await;
    let second = u.triaged("P3").await;
    for (path, token) in [
        ("/api/v1/requests", &u.coordinator),
        ("/api/v1/queue", &u.specialist),
        ("/api/v1/requests", &u.practitioner),
    ] {
        let page = u.app.get(path, Some(token)).await.ok();
        assert_eq!(page.items().len(), 2, "{path}");
    }
    for (action, actor_id) in [
        ("requests.listed", &u.coordinator_id),
        ("queue.listed", &u.specialist_id),
    ] {
        let on_first = u.rows_of(&first, action, actor_id).await;
        let on_second = u.rows_of(&second, action, actor_id).await;
        assert_eq!(on_first.len(), 1, "{action}");
        assert_eq!(on_first, on_second, "one row for the page");
        let ids = on_first[0]["details"]["request_ids"].as_array().unwrap();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&json!(first)) && ids.contains(&json!(second)));
    }
    let audit = u.audit_actions(&first).await;
    assert!(
        !audit
            .iter()
            .any(|(a, e)| a.ends_with(".listed") && e["actor_id"] == u.practitioner_id),
        "a requester's own list is not audited"
    );
    let for_admin = u
        .app
        .get("/api/v1/audit?action=queue.listed", Some(&u.admin))
        .await
        .ok();
    assert_eq!(
        for_admin.body["items"][0]["details"]["request_ids"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "admins see which requests a page showed: ids, not case content"
    );
}
