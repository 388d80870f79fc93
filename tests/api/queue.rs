use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::world::{desk, staff, Desk, RULES};

#[tokio::test]
async fn new_requests_are_triaged_by_the_first_matching_rule_with_the_reason_recorded() {
    let d = desk().await;
    let urgent = d.submit("trafficking", "immediate_risk").await;
    assert_eq!(urgent["status"], "triaged");
    assert_eq!(urgent["priority"], "P1");
    assert_eq!(urgent["team_id"], json!(d.duty));
    assert_eq!(urgent["immediate_risk"], true);
    let other = d.submit("other", "standard").await;
    assert_eq!(other["priority"], "P3");
    assert_eq!(other["immediate_risk"], false);

    let id = urgent["id"].as_str().unwrap();
    let audit = d
        .app
        .get(
            &format!("/api/v1/requests/{id}/audit"),
            Some(&d.coordinator),
        )
        .await;
    let triaged = audit
        .items()
        .iter()
        .find(|e| e["action"] == "request.transition" && e["details"]["action"] == "triage")
        .expect("the triage is audited")
        .clone();
    assert_eq!(triaged["details"]["rule"], "immediate risk");
    assert_eq!(
        triaged["details"]["reason"],
        "rule \"immediate risk\": urgency is immediate_risk"
    );
    assert_eq!(triaged["actor_id"], json!(null), "decided by the rules");
    let for_admin = d
        .app
        .get(&format!("/api/v1/requests/{id}/audit"), Some(&d.admin))
        .await;
    assert!(
        for_admin.body.to_string().contains("immediate risk"),
        "admins see the rule's name"
    );
    assert!(
        !for_admin.body.to_string().contains("urgency is"),
        "but not the reason, which describes the case"
    );

    // Re-triage by a coordinator keeps the history.
    let retriage = d
        .app
        .post(
            &format!("/api/v1/requests/{id}/triage"),
            Some(&d.coordinator),
            json!({"priority": "P2", "team_id": d.crime, "category": "modern_slavery",
                   "reason": "not immediate after a call with the officer"}),
        )
        .await
        .ok();
    assert_eq!(retriage.body["priority"], "P2");
    assert_eq!(retriage.body["category"], "modern_slavery");
    assert_eq!(retriage.body["team_id"], json!(d.crime));
    let history = d
        .app
        .get(
            &format!("/api/v1/requests/{id}/triage"),
            Some(&d.coordinator),
        )
        .await
        .ok();
    let decisions = history.body.as_array().unwrap();
    assert_eq!(decisions.len(), 2);
    assert_eq!(decisions[0]["rule"], "immediate risk");
    assert_eq!(
        decisions[0]["reason"],
        "rule \"immediate risk\": urgency is immediate_risk"
    );
    assert_eq!(decisions[0]["actor_id"], json!(null));
    assert_eq!(
        decisions[1]["reason"],
        "not immediate after a call with the officer"
    );
    assert_eq!(decisions[1]["priority"], "P2");
    d.app
        .get(
            &format!("/api/v1/requests/{id}/triage"),
            Some(&d.practitioner),
        )
        .await
        .problem(403);
    d.app
        .get(&format!("/api/v1/requests/{id}/triage"), Some(&d.admin))
        .await
        .problem(403);
    d.app
        .get(&format!("/api/v1/requests/{id}/triage"), None)
        .await
        .problem(401);
    let audit = d
        .app
        .get(&format!("/api/v1/requests/{id}/audit"), Some(&d.admin))
        .await;
    let triages = audit
        .items()
        .iter()
        .filter(|e| e["details"]["action"] == "triage")
        .count();
    assert_eq!(triages, 2);
}

#[tokio::test]
async fn least_loaded_teams_assign_at_once_to_the_fitting_specialist_with_least_work() {
    let d = desk().await;
    let (busy_id, _) = d.specialist("busy@unit.test", &d.crime).await;
    let (free_id, _) = d.specialist("free@unit.test", &d.crime).await;
    // Unskilled and unavailable people are passed over.
    staff(
        &d.app,
        &d.admin,
        "unskilled@unit.test",
        "specialist",
        &[&d.crime],
        &["health"],
        None,
        true,
    )
    .await;
    staff(
        &d.app,
        &d.admin,
        "away@unit.test",
        "specialist",
        &[&d.crime],
        &["crime_and_justice"],
        None,
        false,
    )
    .await;
    let first = d.submit("child_criminal_exploitation", "high").await;
    let second = d.submit("child_criminal_exploitation", "high").await;
    let third = d.submit("child_criminal_exploitation", "high").await;
    let holders: Vec<&str> = [&first, &second, &third]
        .iter()
        .map(|r| r["assignee_id"].as_str().unwrap())
        .collect();
    assert!(
        holders.iter().all(|h| *h == busy_id || *h == free_id),
        "{holders:?}"
    );
    assert_ne!(
        holders[0], holders[1],
        "the second goes to whoever had none"
    );
    assert_eq!(first["status"], "assigned");
    // Duty is manual: its requests wait in the queue.
    assert_eq!(
        d.submit("other", "standard").await["assignee_id"],
        json!(null)
    );
}

#[tokio::test]
async fn the_queue_shows_a_specialists_teams_by_priority_then_age() {
    let d = desk().await;
    let (_, sam) = d.specialist("sam@unit.test", &d.duty).await;
    let p3 = d.submit("other", "standard").await;
    let p1 = d.submit("other", "immediate_risk").await;
    let p3_later = d.submit("modern_slavery", "high").await;
    let crime = d.submit("child_criminal_exploitation", "high").await;
    let queue = d.app.get("/api/v1/queue", Some(&sam)).await.ok();
    let ids: Vec<&str> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            p1["id"].as_str().unwrap(),
            p3["id"].as_str().unwrap(),
            p3_later["id"].as_str().unwrap()
        ]
    );
    assert!(
        !ids.contains(&crime["id"].as_str().unwrap()),
        "other teams' work is not shown"
    );
    assert_eq!(queue.body["items"][0]["immediate_risk"], true);

    // Pages follow the same order.
    let first = d.app.get("/api/v1/queue?limit=2", Some(&sam)).await;
    let cursor = first.string("next_cursor");
    let rest = d
        .app
        .get(
            &format!("/api/v1/queue?limit=2&cursor={cursor}"),
            Some(&sam),
        )
        .await;
    assert_eq!(rest.body["items"][0]["id"], p3_later["id"]);
    assert_eq!(rest.body["next_cursor"], json!(null));

    let only_p1 = d.app.get("/api/v1/queue?priority=P1", Some(&sam)).await;
    assert_eq!(only_p1.items().len(), 1);
    assert_eq!(only_p1.body["items"][0]["id"], p1["id"]);

    // Coordinators look at any team's queue and at the summary.
    d.app
        .get("/api/v1/queue", Some(&d.coordinator))
        .await
        .problem(400);
    let duty = d
        .app
        .get(
            &format!("/api/v1/queue?team_id={}", d.duty),
            Some(&d.coordinator),
        )
        .await;
    assert_eq!(duty.items().len(), 3);
    let summary = d
        .app
        .get("/api/v1/queue/summary", Some(&d.coordinator))
        .await;
    let duty_summary = summary
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["team_id"] == json!(d.duty))
        .unwrap()
        .clone();
    let waiting: i64 = duty_summary["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_i64().unwrap())
        .sum();
    assert_eq!(waiting, 3);
    assert!(duty_summary["oldest_unassigned_seconds"].as_i64().unwrap() >= 0);

    // Refused: practitioners, admins, anonymous callers, another team's queue.
    d.app
        .get("/api/v1/queue", Some(&d.practitioner))
        .await
        .problem(403);
    d.app
        .get("/api/v1/queue", Some(&d.admin))
        .await
        .problem(403);
    d.app.get("/api/v1/queue", None).await.problem(401);
    d.app
        .get(&format!("/api/v1/queue?team_id={}", d.crime), Some(&sam))
        .await
        .problem(403);
    d.app
        .get("/api/v1/queue/summary", Some(&sam))
        .await
        .problem(403);
}

#[tokio::test]
async fn a_queue_over_two_teams_merges_waiting_and_held_work_in_order_page_by_page() {
    let d = desk().await;
    let (sam_id, sam) = staff(
        &d.app,
        &d.admin,
        "sam@unit.test",
        "specialist",
        &[&d.duty, &d.crime],
        &["crime_and_justice"],
        None,
        true,
    )
    .await;
    let (kim_id, _) = d.specialist("kim@unit.test", &d.duty).await;
    let p3 = d.submit("other", "standard").await;
    // Crime hands out work at once: Sam holds it.
    let held = d.submit("child_criminal_exploitation", "high").await;
    assert_eq!(held["assignee_id"], json!(sam_id));
    let p1 = d.submit("other", "immediate_risk").await;
    // Kim holds one of Duty's: it is in nobody else's queue.
    let kims = d.submit("other", "standard").await;
    d.app
        .post(
            &format!("/api/v1/requests/{}/assign", kims["id"].as_str().unwrap()),
            Some(&d.coordinator),
            json!({"assignee_id": kim_id}),
        )
        .await
        .ok();

    let whole = d.app.get("/api/v1/queue", Some(&sam)).await;
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.id())
            .collect()
    };
    let expected: Vec<String> = [&p1, &held, &p3].iter().map(|r| r.id()).collect();
    assert_eq!(ids(&whole.body), expected, "earliest deadline first");

    let mut walked = Vec::new();
    let mut path = "/api/v1/queue?limit=1".to_owned();
    loop {
        let page = d.app.get(&path, Some(&sam)).await.ok();
        walked.extend(ids(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/queue?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, expected, "one at a time: no gaps, no repeats");
}

#[tokio::test]
async fn claim_release_and_claim_next_hand_work_to_one_person() {
    let d = desk().await;
    let (sam_id, sam) = d.specialist("sam@unit.test", &d.duty).await;
    let (_, lee) = d.specialist("lee@unit.test", &d.duty).await;
    let (_, outsider) = d.specialist("ash@unit.test", &d.crime).await;
    let older = d.submit("other", "standard").await;
    let urgent = d.submit("other", "immediate_risk").await;
    let id = older["id"].as_str().unwrap();

    d.app
        .post(
            &format!("/api/v1/requests/{id}/claim"),
            Some(&outsider),
            json!({}),
        )
        .await
        .problem(404);
    d.app
        .post(
            &format!("/api/v1/requests/{id}/claim"),
            Some(&d.practitioner),
            json!({}),
        )
        .await
        .problem(403);
    let claimed = d
        .app
        .post(
            &format!("/api/v1/requests/{id}/claim"),
            Some(&sam),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(claimed.body["assignee_id"], json!(sam_id));
    d.app
        .post(
            &format!("/api/v1/requests/{id}/claim"),
            Some(&lee),
            json!({}),
        )
        .await
        .problem(409);
    d.app
        .post(
            &format!("/api/v1/requests/{id}/release"),
            Some(&lee),
            json!({}),
        )
        .await
        .problem(403);
    let released = d
        .app
        .post(
            &format!("/api/v1/requests/{id}/release"),
            Some(&sam),
            json!({}),
        )
        .await;
    assert_eq!(released.body["status"], "triaged");
    assert_eq!(released.body["assignee_id"], json!(null));

    // claim-next takes the top of the queue: the P1 before the older P3.
    let next = d
        .app
        .post("/api/v1/queue/claim-next", Some(&lee), json!({}))
        .await
        .ok();
    assert_eq!(next.body["id"], urgent["id"]);
    let then = d
        .app
        .post("/api/v1/queue/claim-next", Some(&lee), json!({}))
        .await;
    assert_eq!(then.body["id"], older["id"]);
    d.app
        .post("/api/v1/queue/claim-next", Some(&lee), json!({}))
        .await
        .no_content();
    d.app
        .post("/api/v1/queue/claim-next", Some(&d.coordinator), json!({}))
        .await
        .problem(403);
    d.app
        .post("/api/v1/queue/claim-next", None, json!({}))
        .await
        .problem(401);
}

#[tokio::test]
async fn claim_next_respects_the_load_limit_and_exclusions() {
    let d = desk().await;
    let (_, capped) = staff(
        &d.app,
        &d.admin,
        "capped@unit.test",
        "specialist",
        &[&d.duty],
        &[],
        Some(1),
        true,
    )
    .await;
    let (excluded_id, excluded) = d.specialist("excluded@unit.test", &d.duty).await;
    let first = d.submit("other", "standard").await;
    d.submit("other", "standard").await;
    let id = first["id"].as_str().unwrap();
    d.app
        .post(
            &format!("/api/v1/requests/{id}/exclusions"),
            Some(&d.coordinator),
            json!({"user_id": excluded_id}),
        )
        .await;
    let taken = d
        .app
        .post("/api/v1/queue/claim-next", Some(&excluded), json!({}))
        .await;
    assert_ne!(
        taken.body["id"], first["id"],
        "an excluded person never gets the request"
    );
    assert_eq!(
        d.app
            .post("/api/v1/queue/claim-next", Some(&capped), json!({}))
            .await
            .body["id"],
        first["id"]
    );
    d.app
        .post("/api/v1/queue/claim-next", Some(&capped), json!({}))
        .await
        .problem(409);
}

/// Many specialists ask at once: each request goes to exactly one of them.
#[tokio::test]
async fn concurrent_claim_next_gives_each_request_to_exactly_one_specialist() {
    const REQUESTS: usize = 12;
    const CALLERS: usize = 24;
    let d = desk().await;
    let mut tokens = Vec::new();
    for i in 0..CALLERS {
        tokens.push(d.specialist(&format!("s{i}@unit.test"), &d.duty).await.1);
    }
    for round in 0..3 {
        for _ in 0..REQUESTS {
            d.submit("other", "standard").await;
        }
        let mut calls = Vec::new();
        for token in &tokens {
            let request = d
                .app
                .client
                .post(format!("{}/api/v1/queue/claim-next", d.app.address))
                .bearer_auth(token);
            calls.push(tokio::spawn(async move {
                read(request.send().await.unwrap()).await
            }));
        }
        let mut taken = Vec::new();
        let mut empty = 0;
        for call in calls {
            let reply = call.await.unwrap();
            match reply.status {
                StatusCode::OK => taken.push((reply.id(), reply.body["assignee_id"].clone())),
                StatusCode::NO_CONTENT => empty += 1,
                other => panic!("round {round}: unexpected {other}: {}", reply.body),
            }
        }
        assert_eq!(
            taken.len(),
            REQUESTS,
            "round {round}: every request was taken"
        );
        assert_eq!(empty, CALLERS - REQUESTS, "round {round}");
        let distinct: HashSet<&String> = taken.iter().map(|(id, _)| id).collect();
        assert_eq!(
            distinct.len(),
            REQUESTS,
            "round {round}: no request went to two people"
        );
        let holders: HashSet<String> = taken.iter().map(|(_, who)| who.to_string()).collect();
        assert_eq!(holders.len(), REQUESTS, "round {round}: no one got two");
        // Each caller keeps what it took; release everything for the next round.
        for (id, _) in &taken {
            d.app
                .post(
                    &format!("/api/v1/requests/{id}/release"),
                    Some(&d.coordinator),
                    json!({}),
                )
                .await
                .ok();
            d.app
                .post(
                    &format!("/api/v1/requests/{id}/triage"),
                    Some(&d.coordinator),
                    json!({"priority": "P4", "team_id": d.crime}),
                )
                .await;
        }
    }
}

impl Desk {
    fn claim_request(&self, token: &str, path: &str) -> reqwest::RequestBuilder {
        self.app
            .client
            .post(format!("{}{path}", self.app.address))
            .bearer_auth(token)
    }

    /// A specialist of Duty who may hold at most `limit` open requests.
    async fn capped(&self, email: &str, limit: i32) -> String {
        staff(
            &self.app,
            &self.admin,
            email,
            "specialist",
            &[&self.duty],
            &[],
            Some(limit),
            true,
        )
        .await
        .1
    }

    /// Puts the requests that `replies` took back in the queue.
    async fn release_taken(&self, replies: &[Reply]) {
        for reply in replies.iter().filter(|r| r.status == StatusCode::OK) {
            let id = reply.id();
            self.app
                .post(
                    &format!("/api/v1/requests/{id}/release"),
                    Some(&self.coordinator),
                    json!({}),
                )
                .await
                .ok();
        }
    }
}

fn statuses(replies: &[Reply]) -> Vec<u16> {
    replies.iter().map(|r| r.status.as_u16()).collect()
}

/// With a limit of two, ten claims at once on ten requests leave exactly
/// two held, round after round.
#[tokio::test]
async fn concurrent_claims_of_distinct_requests_stop_at_the_load_limit() {
    let d = desk().await;
    let capped = d.capped("capped@unit.test", 2).await;
    let mut ids = Vec::new();
    for _ in 0..10 {
        ids.push(d.submit("other", "standard").await.id());
    }
    for round in 0..5 {
        let claims = ids
            .iter()
            .map(|id| d.claim_request(&capped, &format!("/api/v1/requests/{id}/claim")))
            .collect();
        let replies = at_once(claims).await;
        assert_eq!(
            (count(&replies, 200), count(&replies, 409)),
            (2, 8),
            "round {round}: {:?}",
            statuses(&replies)
        );
        d.release_taken(&replies).await;
    }
}

/// A specialist who may hold two, in a least-loaded team and a manual one:
/// while a coordinator releases five requests of the least-loaded team (each
/// handed on to the least loaded, never back to its holder), the specialist
/// claims five from the manual team. However the two interleave, they end
/// up holding exactly two, and nobody gets an error.
#[tokio::test]
async fn handing_on_released_work_while_claiming_keeps_the_load_limit() {
    for round in 0..5 {
        let d = desk().await;
        let (holder_id, _) = d.specialist("holder@unit.test", &d.crime).await;
        let mut held = Vec::new();
        for _ in 0..5 {
            let request = d.submit("child_criminal_exploitation", "high").await;
            assert_eq!(request["assignee_id"], json!(holder_id));
            held.push(request.id());
        }
        let (capped_id, capped) = staff(
            &d.app,
            &d.admin,
            "capped@unit.test",
            "specialist",
            &[&d.crime, &d.duty],
            &["crime_and_justice"],
            Some(2),
            true,
        )
        .await;
        let mut waiting = Vec::new();
        for _ in 0..5 {
            let request = d.submit("other", "standard").await;
            waiting.push(request.id());
        }
        let releases = held.iter().map(|id| {
            d.claim_request(&d.coordinator, &format!("/api/v1/requests/{id}/release"))
                .json(&json!({}))
        });
        let claims = waiting
            .iter()
            .map(|id| d.claim_request(&capped, &format!("/api/v1/requests/{id}/claim")));
        let replies = at_once(releases.zip(claims).flat_map(|(a, b)| [a, b]).collect()).await;
        assert!(
            replies
                .iter()
                .all(|r| r.status == StatusCode::OK || r.status == StatusCode::CONFLICT),
            "round {round}: {:?}",
            statuses(&replies)
        );
        let holding = d
            .app
            .get(
                &format!("/api/v1/requests?assignee_id={capped_id}&limit=100"),
                Some(&d.coordinator),
            )
            .await;
        let open = holding.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|r| r["status"] == "assigned")
            .count();
        assert_eq!(open, 2, "round {round}: the limit is 2");
    }
}

#[tokio::test]
async fn concurrent_claim_next_calls_stop_at_the_load_limit() {
    let d = desk().await;
    let capped = d.capped("capped@unit.test", 2).await;
    for _ in 0..10 {
        d.submit("other", "standard").await;
    }
    for round in 0..5 {
        let claims = (0..10)
            .map(|_| d.claim_request(&capped, "/api/v1/queue/claim-next"))
            .collect();
        let replies = at_once(claims).await;
        assert_eq!(
            (count(&replies, 200), count(&replies, 409)),
            (2, 8),
            "round {round}: {:?}",
            statuses(&replies)
        );
        d.release_taken(&replies).await;
    }
}

/// Many specialists claim one request at once: one gets it, and every
/// other is told it is taken (409), never 412, which needs an If-Match.
#[tokio::test]
async fn losers_of_a_claim_race_get_409_not_412() {
    let d = desk().await;
    let mut tokens = Vec::new();
    for i in 0..10 {
        tokens.push(d.specialist(&format!("s{i}@unit.test"), &d.duty).await.1);
    }
    for round in 0..5 {
        let id = d.submit("other", "standard").await.id();
        let claims = tokens
            .iter()
            .map(|token| d.claim_request(token, &format!("/api/v1/requests/{id}/claim")))
            .collect();
        let replies = at_once(claims).await;
        assert_eq!(
            (count(&replies, 200), count(&replies, 409)),
            (1, 9),
            "round {round}: {:?}",
            statuses(&replies)
        );
        for lost in replies.iter().filter(|r| r.status == StatusCode::CONFLICT) {
            assert_eq!(
                lost.body["detail"], "someone else holds this request",
                "round {round}"
            );
        }
    }
}

#[tokio::test]
async fn becoming_available_picks_up_waiting_work_in_a_least_loaded_team() {
    let d = desk().await;
    let (_, sam) = staff(
        &d.app,
        &d.admin,
        "sam@unit.test",
        "specialist",
        &[&d.crime],
        &["crime_and_justice"],
        None,
        false,
    )
    .await;
    let waiting = d.submit("child_criminal_exploitation", "high").await;
    assert_eq!(waiting["assignee_id"], json!(null), "no one was available");
    let me = d
        .app
        .put(
            "/api/v1/me/availability",
            Some(&sam),
            json!({"available": true}),
        )
        .await
        .ok();
    let id = waiting["id"].as_str().unwrap();
    let now = d
        .app
        .get(&format!("/api/v1/requests/{id}"), Some(&sam))
        .await;
    assert_eq!(now.body["assignee_id"], me.body["id"]);
    // Releasing in a least-loaded team hands it to someone else, never straight back.
    let (lee_id, _) = d.specialist("lee@unit.test", &d.crime).await;
    let released = d
        .app
        .post(
            &format!("/api/v1/requests/{id}/release"),
            Some(&sam),
            json!({}),
        )
        .await;
    assert_eq!(released.body["assignee_id"], json!(lee_id));
}

#[tokio::test]
async fn a_broken_rules_file_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("triage.toml");
    std::fs::write(
        &path,
        RULES.replace("priority = \"P1\"", "priority = \"urgent\""),
    )
    .unwrap();
    let (_db, url) = TestDb::create();
    let mut settings = test_settings(&url);
    settings.triage.rules_file = path.display().to_string();
    let error = nru_helpdesk::startup::Application::build(settings)
        .err()
        .expect("start-up refused")
        .to_string();
    assert!(
        error.contains("triage.rules_file") && error.contains("urgent"),
        "{error}"
    );
}

#[tokio::test]
async fn an_excluded_coordinator_sees_the_request_in_no_queue_and_no_grant_list() {
    let d = desk().await;
    let (other_id, other) = staff(
        &d.app,
        &d.admin,
        "kit@unit.test",
        "coordinator",
        &[&d.duty],
        &[],
        None,
        true,
    )
    .await;
    let (_, outsider) = d.specialist("ash@unit.test", &d.crime).await;
    let request = d.submit("other", "standard").await;
    let id = request["id"].as_str().unwrap();
    d.app
        .post(
            &format!("/api/v1/requests/{id}/break-glass"),
            Some(&outsider),
            json!({"reason": "covering the duty desk tonight"}),
        )
        .await
        .created();
    let queue = format!("/api/v1/queue?team_id={}", d.duty);
    assert_eq!(d.app.get(&queue, Some(&other)).await.items().len(), 1);
    assert_eq!(
        d.app
            .get("/api/v1/break-glass", Some(&other))
            .await
            .items()
            .len(),
        1
    );
    d.app
        .post(
            &format!("/api/v1/requests/{id}/exclusions"),
            Some(&d.coordinator),
            json!({"user_id": other_id}),
        )
        .await
        .no_content();
    assert_eq!(
        d.app.get(&queue, Some(&other)).await.body["items"],
        json!([])
    );
    assert_eq!(
        d.app.get("/api/v1/break-glass", Some(&other)).await.body["items"],
        json!([])
    );
    assert_eq!(
        d.app.get(&queue, Some(&d.coordinator)).await.items().len(),
        1
    );
}
