//! Response times: deadlines under the policy's calendar, paused clocks,
//! monitor events (once each), acknowledgement and escalation of P1
//! requests, reports checked against hand calculations, and metrics. The
//! service's clock is a manual one the tests move: nothing here sleeps.

use chrono::{Duration, NaiveDate};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::world::{monday_1500, unit_on, Unit};

/// `day` of the week starting Monday 30 November 2026 (0 = Monday), at `h:m` UTC.
fn at(day: u64, h: u32, m: u32) -> String {
    let date = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap() + chrono::Days::new(day);
    format!("{}T{h:02}:{m:02}:00Z", date.format("%Y-%m-%d"))
}

async fn walk_unit() -> Unit {
    let app = spawn_app_at(monday_1500(), |s| {
        s.sla.policies_file = fixture("sla-walk.toml");
        // The tests tick the monitor themselves.
        s.sla.monitor_interval_seconds = 24 * 3600;
    })
    .await;
    unit_on(app).await
}

impl Unit {
    /// Moves the service's clock to `day` / `h:m` (see [`at`]).
    fn set_time(&self, day: u64, h: u32, m: u32) {
        let target = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap() + chrono::Days::new(day);
        let target = target.and_hms_opt(h, m, 0).unwrap();
        let now = self.app.clock.now();
        assert!(target >= now, "time only moves forward");
        self.app.clock.advance(target - now);
    }

    /// Runs the monitor once; returns `clock:kind:level` of what it recorded.
    async fn tick(&self) -> Vec<String> {
        self.app
            .monitor
            .tick()
            .await
            .expect("monitor tick")
            .into_iter()
            .map(|e| format!("{}:{}:{}", e.clock, e.kind, e.level))
            .collect()
    }

    async fn events(&self, id: &str) -> Vec<Value> {
        self.app
            .get(
                &format!("/api/v1/requests/{id}/sla-events"),
                Some(&self.coordinator),
            )
            .await
            .ok()
            .body
            .as_array()
            .unwrap()
            .clone()
    }

    async fn ids_with_sla(&self, state: &str) -> Vec<String> {
        self.app
            .get(
                &format!("/api/v1/requests?sla={state}"),
                Some(&self.coordinator),
            )
            .await
            .ok()
            .items()
            .iter()
            .map(|r| r.id())
            .collect()
    }
}

fn group<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == key)
        .unwrap_or_else(|| panic!("no group {key} in {report}"))
}

#[tokio::test]
async fn a_request_walks_through_warning_pause_resume_reply_and_a_missed_resolution() {
    let unit = walk_unit().await;
    // Monday 15:00: submitted, triaged P2 (office hours 09:00-17:00) and assigned.
    let id = unit.assigned().await;
    let sla = unit.detail(&id).await["sla"].clone();
    assert_eq!(sla["priority"], "P2");
    assert_eq!(sla["state"], "ok");
    assert_eq!(
        sla["first_response_due_at"],
        at(0, 17, 0),
        "120 office minutes"
    );
    assert_eq!(
        sla["resolution_due_at"],
        at(1, 17, 0),
        "600 office minutes: 2 on Monday, 8 on Tuesday"
    );
    assert_eq!(unit.detail(&id).await["due_at"], at(0, 17, 0));
    assert!(unit.tick().await.is_empty(), "nothing is due yet");

    // 16:10: half the first-response target used at 16:00.
    unit.set_time(0, 16, 10);
    assert_eq!(unit.tick().await, ["first_response:warning:50"]);
    assert_eq!(unit.detail(&id).await["sla"]["state"], "at_risk");
    assert_eq!(unit.ids_with_sla("at_risk").await, vec![id.clone()]);
    assert!(unit.ids_with_sla("breached").await.is_empty());

    // 16:20: the specialist asks the requester for more; the clocks stop.
    unit.set_time(0, 16, 20);
    unit.act(&id, "request-information", &unit.specialist)
        .await
        .ok();
    let detail = unit.detail(&id).await;
    assert_eq!(
        detail["due_at"],
        Value::Null,
        "no running deadline while paused"
    );
    assert_eq!(detail["sla"]["first_response_due_at"], Value::Null);
    unit.set_time(1, 9, 30);
    assert!(
        unit.tick().await.is_empty(),
        "a paused clock passes no points"
    );

    // Tuesday 10:00: the requester answers; 40 of 120 minutes are left.
    unit.set_time(1, 10, 0);
    unit.message(
        &id,
        &unit.practitioner,
        "reply",
        "Here is what you asked for.",
    )
    .await
    .created();
    let sla = unit.detail(&id).await["sla"].clone();
    assert_eq!(sla["first_response_due_at"], at(1, 10, 40));
    assert_eq!(
        sla["resolution_due_at"],
        at(2, 10, 40),
        "80 minutes used on Monday, 420 on Tuesday, 100 on Wednesday"
    );

    // 10:20: 80% (96 minutes) was used at 10:16. Two monitors at once
    // record it once.
    unit.set_time(1, 10, 20);
    let (a, b) = tokio::join!(unit.tick(), unit.tick());
    let mut both = [a, b].concat();
    both.sort();
    assert_eq!(both, ["first_response:warning:80"]);

    // 10:30: the first reply, after 110 counted minutes: in time.
    unit.set_time(1, 10, 30);
    unit.message(&id, &unit.specialist, "reply", "Our advice follows.")
        .await
        .created();
    let sla = unit.detail(&id).await["sla"].clone();
    assert_eq!(sla["first_response_met"], true);
    assert_eq!(sla["state"], "ok", "the warned clock has stopped");

    // Tuesday 17:00: half (13:40) and 80% (16:40) of the resolution target.
    unit.set_time(1, 17, 0);
    let mut recorded = unit.tick().await;
    recorded.sort();
    assert_eq!(recorded, ["resolution:warning:50", "resolution:warning:80"]);

    // Wednesday 11:00: the resolution deadline passed at 10:40.
    unit.set_time(2, 11, 0);
    assert_eq!(unit.tick().await, ["resolution:breach:100"]);
    assert!(unit.tick().await.is_empty(), "each point is recorded once");
    let sla = unit.detail(&id).await["sla"].clone();
    assert_eq!(sla["state"], "breached");
    assert_eq!(sla["breached_at"], at(2, 10, 40));
    assert_eq!(unit.ids_with_sla("breached").await, vec![id.clone()]);

    // 11:30: resolved, late.
    unit.set_time(2, 11, 30);
    unit.act(&id, "resolve", &unit.specialist).await.ok();
    assert_eq!(unit.detail(&id).await["sla"]["resolution_met"], false);

    let events = unit.events(&id).await;
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                format!("{}:{}", e["clock"].as_str().unwrap(), e["level"]),
                e["crossed_at"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("first_response:50".to_owned(), at(0, 16, 0)),
            ("first_response:80".to_owned(), at(1, 10, 16)),
            ("resolution:50".to_owned(), at(1, 13, 40)),
            ("resolution:80".to_owned(), at(1, 16, 40)),
            ("resolution:100".to_owned(), at(2, 10, 40)),
        ]
    );

    // The figures by hand: first response after 110 counted minutes (6,600 s)
    // and 19 h 30 min on the wall (70,200 s); resolution after 650 counted
    // minutes (39,000 s) and 44 h 30 min on the wall (160,200 s).
    let report = unit.report("from=2026-11-30&to=2026-11-30").await;
    let p2 = group(&report, "P2");
    assert_eq!(p2["requests"], 1);
    assert_eq!(p2["first_response"]["count"], 1);
    assert_eq!(p2["first_response"]["business"]["median_seconds"], 6600.0);
    assert_eq!(p2["first_response"]["wall_clock"]["p90_seconds"], 70200.0);
    assert_eq!(p2["first_response"]["within_target_share"], 1.0);
    assert_eq!(p2["resolution"]["business"]["median_seconds"], 39000.0);
    assert_eq!(p2["resolution"]["wall_clock"]["median_seconds"], 160200.0);
    assert_eq!(p2["resolution"]["within_target"], 0);
    assert_eq!(p2["breached"], 1);
    assert_eq!(report["total"]["requests"], 1);

    let breaches = unit
        .app
        .get(
            "/api/v1/reports/sla-breaches?from=2026-11-30&to=2026-12-06",
            Some(&unit.coordinator),
        )
        .await
        .ok();
    let items = breaches.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["request_id"], id);
    assert_eq!(items[0]["clock"], "resolution");
    assert_eq!(items[0]["crossed_at"], at(2, 10, 40));
}

#[tokio::test]
async fn report_percentiles_match_a_hand_calculation_in_json_and_csv() {
    let unit = walk_unit().await;
    // Four P3 requests (24x7, first response within 60 minutes), answered
    // after 10, 20, 40 and 80 minutes.
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(unit.triaged("P3").await);
    }
    for (id, minute) in ids.iter().zip([10, 20, 40, 80]) {
        unit.set_time(0, 15 + minute / 60, minute % 60);
        unit.message(id, &unit.coordinator, "reply", "Advice.")
            .await
            .created();
    }
    // Sorted 600, 1200, 2400, 4800 s: the median lies halfway between 1200
    // and 2400; the 90th percentile at rank 2.7, 70% of the way from 2400 to 4800.
    let report = unit
        .report("from=2026-11-30&to=2026-11-30&group_by=priority")
        .await;
    let p3 = group(&report, "P3");
    assert_eq!(p3["requests"], 4);
    assert_eq!(p3["first_response"]["business"]["median_seconds"], 1800.0);
    assert_eq!(p3["first_response"]["business"]["p90_seconds"], 4080.0);
    assert_eq!(p3["first_response"]["within_target"], 3);
    assert_eq!(p3["first_response"]["within_target_share"], 0.75);
    assert_eq!(p3["breached"], 1, "the 80-minute answer missed its target");
    assert_eq!(p3["resolution"]["count"], 0);

    let by_team = unit
        .report("from=2026-11-30&to=2026-11-30&group_by=team")
        .await;
    let team = group(&by_team, &unit.team);
    assert_eq!(team["label"], "Crime and justice");
    assert_eq!(team["requests"], 4);

    let none = unit.report("from=2026-12-01&to=2026-12-31").await;
    assert_eq!(none["total"]["requests"], 0);
    assert_eq!(
        none["total"]["first_response"]["business"]["median_seconds"],
        Value::Null
    );

    let csv = unit
        .app
        .client
        .get(format!(
            "{}/api/v1/reports/response-times?from=2026-11-30&to=2026-11-30",
            unit.app.address
        ))
        .bearer_auth(&unit.coordinator)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let p3_row: Vec<&str> = lines.next().expect("a P3 row").split(',').collect();
    let column = |name: &str| {
        let i = header.iter().position(|h| *h == name).unwrap();
        p3_row[i]
    };
    assert_eq!(column("group"), "P3");
    assert_eq!(column("first_response_business_median_seconds"), "1800");
    assert_eq!(column("first_response_business_p90_seconds"), "4080");
    assert_eq!(column("first_response_within_target_share"), "0.75");
    assert_eq!(column("breached"), "1");
    assert!(lines.next().unwrap().contains(",total,"));

    let breaches = unit
        .app
        .client
        .get(format!(
            "{}/api/v1/reports/sla-breaches?from=2026-11-30&to=2026-11-30",
            unit.app.address
        ))
        .bearer_auth(&unit.coordinator)
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows: Vec<&str> = breaches.lines().collect();
    assert_eq!(rows.len(), 2, "{breaches}");
    assert!(rows[1].contains(",first_response,"));
    assert!(rows[1].contains(&at(0, 16, 0)));
}

#[tokio::test]
async fn a_requester_message_after_the_first_response_starts_a_next_response_clock() {
    let unit = walk_unit().await;
    let id = unit.triaged("P3").await;
    unit.set_time(0, 15, 10);
    unit.message(&id, &unit.coordinator, "reply", "First advice.")
        .await;
    unit.set_time(0, 15, 30);
    unit.message(&id, &unit.practitioner, "reply", "A follow-up question.")
        .await;
    let detail = unit.detail(&id).await;
    assert_eq!(detail["sla"]["next_response_due_at"], at(0, 17, 30));
    assert_eq!(detail["due_at"], at(0, 17, 30), "sooner than resolution");
    unit.set_time(0, 16, 31);
    assert_eq!(unit.tick().await, ["next_response:warning:50"]);
    unit.set_time(0, 16, 40);
    unit.message(&id, &unit.coordinator, "reply", "More advice.")
        .await;
    let detail = unit.detail(&id).await;
    assert_eq!(detail["sla"]["next_response_due_at"], Value::Null);
    assert_eq!(detail["due_at"], at(0, 23, 0), "resolution: 480 minutes");
    assert_eq!(detail["sla"]["state"], "ok");
}

#[tokio::test]
async fn the_queue_puts_the_earliest_deadline_first_whatever_the_priority() {
    let unit = walk_unit().await;
    // Monday 15:00: P2 is due at 17:00 (office hours), P3 at 16:00 (24x7).
    let p2 = unit.triaged("P2").await;
    let p3 = unit.triaged("P3").await;
    let queue = unit
        .app
        .get(
            &format!("/api/v1/queue?team_id={}", unit.team),
            Some(&unit.coordinator),
        )
        .await
        .ok();
    let order: Vec<&str> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [p3.as_str(), p2.as_str()]);
    assert_eq!(queue.body["items"][0]["due_at"], at(0, 16, 0));
    assert_eq!(queue.body["items"][0]["sla_state"], "ok");
}

#[tokio::test]
async fn an_unacknowledged_p1_escalates_step_by_step_until_a_coordinator_on_duty_acknowledges() {
    let unit = walk_unit().await;
    let (duty_id, duty) = unit
        .app
        .user_of_role(&unit.admin, "coordinator", "dee@unit.test")
        .await;
    unit.app
        .post(
            "/api/v1/rota",
            Some(&unit.coordinator),
            json!({"user_id": duty_id, "duty": "duty_coordinator",
                   "starts_at": at(0, 9, 0), "ends_at": at(0, 21, 0)}),
        )
        .await
        .created();

    let id = unit.triaged("P1").await;
    let ack = unit.detail(&id).await["sla"]["acknowledgement"].clone();
    assert_eq!(ack["due_at"], at(0, 15, 15));
    assert_eq!(ack["escalation_level"], 0);
    let other = unit.triaged("P2").await;

    unit.set_time(0, 15, 16);
    let recorded = unit.tick().await;
    assert!(recorded.contains(&"acknowledgement:escalation:1".to_owned()));
    unit.set_time(0, 15, 26);
    let recorded = unit.tick().await;
    assert!(recorded.contains(&"acknowledgement:escalation:2".to_owned()));
    assert_eq!(
        unit.detail(&id).await["sla"]["acknowledgement"]["escalation_level"],
        2
    );

    let path = format!("/api/v1/requests/{id}/acknowledge");
    // Not on duty, not the assignee, not staff, not signed in.
    unit.app
        .post(&path, Some(&unit.coordinator), json!({}))
        .await
        .problem(403);
    unit.app
        .post(&path, Some(&unit.practitioner), json!({}))
        .await
        .problem(403);
    unit.app
        .post(&path, Some(&unit.outsider), json!({}))
        .await
        .problem(404);
    unit.app.post(&path, None, json!({})).await.problem(401);

    unit.set_time(0, 15, 27);
    let done = unit.app.post(&path, Some(&duty), json!({})).await.ok();
    let ack = &done.body["sla"]["acknowledgement"];
    assert_eq!(ack["acknowledged_by"], duty_id);
    assert_eq!(ack["seconds"], 27 * 60);
    unit.app
        .post(&path, Some(&duty), json!({}))
        .await
        .problem(409);
    unit.app
        .post(
            &format!("/api/v1/requests/{other}/acknowledge"),
            Some(&duty),
            json!({}),
        )
        .await
        .problem(409);

    unit.set_time(0, 15, 45);
    let recorded = unit.tick().await;
    assert!(
        !recorded.iter().any(|e| e.starts_with("acknowledgement")),
        "no third step after acknowledgement: {recorded:?}"
    );
    let escalations: Vec<(Value, Value)> = unit
        .events(&id)
        .await
        .iter()
        .filter(|e| e["kind"] == "escalation")
        .map(|e| (e["level"].clone(), e["target"].clone()))
        .collect();
    assert_eq!(
        escalations,
        [
            (json!(1), json!("on_call_specialist")),
            (json!(2), json!("duty_coordinator"))
        ]
    );
    let report = unit.report("from=2026-11-30&to=2026-11-30").await;
    let p1 = group(&report, "P1");
    assert_eq!(p1["acknowledgement"]["count"], 1);
    assert_eq!(p1["acknowledgement"]["time"]["median_seconds"], 1620.0);
}

#[tokio::test]
async fn the_assignee_may_acknowledge_their_p1_request() {
    let unit = walk_unit().await;
    let id = unit.triaged("P1").await;
    unit.app
        .post(
            &format!("/api/v1/requests/{id}/assign"),
            Some(&unit.coordinator),
            json!({"assignee_id": unit.specialist_id}),
        )
        .await
        .ok();
    unit.app.clock.advance(Duration::minutes(3));
    let done = unit
        .app
        .post(
            &format!("/api/v1/requests/{id}/acknowledge"),
            Some(&unit.specialist),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(done.body["sla"]["acknowledgement"]["seconds"], 180);
    unit.set_time(0, 16, 0);
    assert!(!unit
        .tick()
        .await
        .iter()
        .any(|e| e.starts_with("acknowledgement")));
}

#[tokio::test]
async fn coordinators_keep_the_rota_and_bad_shifts_are_refused_by_field() {
    let unit = walk_unit().await;
    let shift = |user: &str, duty: &str, from: String, to: String| json!({"user_id": user, "duty": duty, "starts_at": from, "ends_at": to});
    let good = shift(
        &unit.specialist_id,
        "on_call_specialist",
        at(0, 9, 0),
        at(0, 17, 0),
    );
    let created = unit
        .app
        .post("/api/v1/rota", Some(&unit.coordinator), good.clone())
        .await
        .created();
    let shift_id = created.id();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/rota/{shift_id}").as_str())
    );

    for (token, status) in [
        (Some(unit.specialist.as_str()), 403),
        (Some(unit.practitioner.as_str()), 403),
        (Some(unit.admin.as_str()), 403),
        (None, 401),
    ] {
        unit.app
            .post("/api/v1/rota", token, good.clone())
            .await
            .problem(status);
    }
    let wrong_role = unit
        .app
        .post(
            "/api/v1/rota",
            Some(&unit.coordinator),
            shift(
                &unit.specialist_id,
                "duty_coordinator",
                at(0, 9, 0),
                at(0, 17, 0),
            ),
        )
        .await;
    assert_eq!(wrong_role.problem(422)["errors"][0]["field"], "user_id");
    let backwards = unit
        .app
        .post(
            "/api/v1/rota",
            Some(&unit.coordinator),
            shift(
                &unit.specialist_id,
                "on_call_specialist",
                at(0, 17, 0),
                at(0, 9, 0),
            ),
        )
        .await;
    assert_eq!(backwards.problem(422)["errors"][0]["field"], "ends_at");
    let nobody = unit
        .app
        .post(
            "/api/v1/rota",
            Some(&unit.coordinator),
            shift("no-such-user", "unit_lead", at(0, 9, 0), at(0, 17, 0)),
        )
        .await;
    assert_eq!(nobody.problem(422)["errors"][0]["field"], "user_id");

    let listed = unit
        .app
        .get("/api/v1/rota", Some(&unit.specialist))
        .await
        .ok();
    assert_eq!(listed.body["items"][0]["id"], shift_id);
    let later = unit
        .app
        .get(
            &format!("/api/v1/rota?from={}", at(1, 0, 0)),
            Some(&unit.specialist),
        )
        .await;
    assert_eq!(later.items().len(), 0);
    unit.app
        .get("/api/v1/rota", Some(&unit.practitioner))
        .await
        .problem(403);

    let path = format!("/api/v1/rota/{shift_id}");
    unit.app
        .call(reqwest::Method::DELETE, &path, Some(&unit.specialist), None)
        .await
        .problem(403);
    unit.app
        .call(
            reqwest::Method::DELETE,
            &path,
            Some(&unit.coordinator),
            None,
        )
        .await
        .no_content();
    unit.app
        .call(
            reqwest::Method::DELETE,
            &path,
            Some(&unit.coordinator),
            None,
        )
        .await
        .problem(404);
}

#[tokio::test]
async fn concurrent_reports_wait_their_turn_and_all_give_the_same_figures() {
    let unit = walk_unit().await;
    let path = "/api/v1/reports/response-times?from=2026-11-01&to=2026-11-30&group_by=team";
    let expected = unit.app.get(path, Some(&unit.coordinator)).await.ok();
    // Twelve at once against two turns (sla.reports_at_once): all answer.
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let request = unit
                .app
                .client
                .get(format!("{}{path}", unit.app.address))
                .bearer_auth(&unit.coordinator);
            tokio::spawn(async move { read(request.send().await.unwrap()).await })
        })
        .collect();
    for call in calls {
        let reply = call.await.unwrap().ok();
        assert_eq!(reply.body, expected.body);
    }
}

#[tokio::test]
async fn reports_are_for_coordinators_and_admins_over_a_bounded_range() {
    let unit = walk_unit().await;
    let path = "/api/v1/reports/response-times?from=2026-11-01&to=2026-11-30";
    unit.app.get(path, Some(&unit.admin)).await.ok();
    for token in [&unit.specialist, &unit.practitioner] {
        unit.app.get(path, Some(token)).await.problem(403);
    }
    unit.app.get(path, None).await.problem(401);
    unit.app.get(path, Some("not-a-token")).await.problem(401);
    unit.app
        .get(
            "/api/v1/reports/sla-breaches?from=2026-11-01&to=2026-11-30",
            Some(&unit.specialist),
        )
        .await
        .problem(403);

    let backwards = unit
        .app
        .get(
            "/api/v1/reports/response-times?from=2026-11-30&to=2026-11-01",
            Some(&unit.coordinator),
        )
        .await;
    assert_eq!(backwards.problem(400)["errors"][0]["field"], "to");
    let too_long = unit
        .app
        .get(
            "/api/v1/reports/response-times?from=2024-01-01&to=2026-01-01",
            Some(&unit.coordinator),
        )
        .await;
    assert_eq!(too_long.problem(400)["errors"][0]["field"], "to");
    let bad_group = unit
        .app
        .get(
            "/api/v1/reports/response-times?from=2026-11-01&to=2026-11-30&group_by=colour",
            Some(&unit.coordinator),
        )
        .await;
    assert_eq!(bad_group.problem(400)["errors"][0]["field"], "group_by");
    unit.app
        .get(
            "/api/v1/reports/response-times?to=2026-11-30",
            Some(&unit.coordinator),
        )
        .await
        .problem(400);
}

#[tokio::test]
async fn sla_events_are_for_staff_who_may_see_the_request() {
    let unit = walk_unit().await;
    let id = unit.triaged("P3").await;
    let path = format!("/api/v1/requests/{id}/sla-events");
    unit.app.get(&path, Some(&unit.specialist)).await.ok();
    unit.app.get(&path, Some(&unit.outsider)).await.problem(404);
    unit.app
        .get(&path, Some(&unit.practitioner))
        .await
        .problem(403);
    unit.app.get(&path, None).await.problem(401);
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_show_the_unit_state() {
    let unit = walk_unit().await;
    unit.assigned().await;
    let metrics = unit.app.get("/metrics", None).await.ok();
    let text = metrics.body.as_str().unwrap();
    assert!(
        text.contains("nru_http_requests_total{endpoint=\"/api/v1/requests\",method=\"POST\",status=\"201\"} 1"),
        "{text}"
    );
    assert!(text.contains("nru_http_requests_duration_seconds_bucket"));
    assert!(text.contains("nru_open_requests{priority=\"P2\",status=\"assigned\"} 1"));
    assert!(text.contains("nru_open_requests_by_sla_state{state=\"ok\"} 1"));
    assert!(text.contains("nru_db_pool_connections"));
    assert!(
        !text.contains("/api/v1/requests/0"),
        "ids never become labels"
    );
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let app =
        spawn_app_with(|s| s.metrics.token = nru_helpdesk::config::Secret::new("scrape-secret"))
            .await;
    app.get("/metrics", None).await.problem(401);
    app.get("/metrics", Some("wrong")).await.problem(401);
    app.get("/metrics", Some("scrape-secret")).await.ok();
}

#[tokio::test]
async fn re_triage_recomputes_deadlines_from_the_original_submission() {
    let unit = walk_unit().await;
    // Monday 15:00 at P3 (24x7, first response within 60 minutes).
    let id = unit.triaged("P3").await;
    assert_eq!(
        unit.detail(&id).await["sla"]["first_response_due_at"],
        at(0, 16, 0)
    );
    // 15:40 at P2 (120 office minutes): due from 15:00, not from now.
    unit.set_time(0, 15, 40);
    let retriage = unit
        .app
        .post(
            &format!("/api/v1/requests/{id}/triage"),
            Some(&unit.coordinator),
            json!({"priority": "P2", "team_id": unit.team, "reason": "less urgent than it read"}),
        )
        .await
        .ok();
    let sla = &retriage.body["sla"];
    assert_eq!(sla["priority"], "P2");
    assert_eq!(sla["first_response_due_at"], at(0, 17, 0));
    assert_eq!(sla["resolution_due_at"], at(1, 17, 0));
    assert_eq!(retriage.body["due_at"], at(0, 17, 0));
    // The 50% point of the new target (16:00) has not come; the old one's
    // (15:30) is not recorded for a policy that no longer applies.
    assert!(unit.tick().await.is_empty());
}

#[tokio::test]
async fn a_broken_policy_file_stops_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sla.toml");
    let text = std::fs::read_to_string(fixture("sla-walk.toml")).unwrap();
    std::fs::write(
        &path,
        text.replace("calendar = \"office\"", "calendar = \"ofice\""),
    )
    .unwrap();
    let (_db, url) = TestDb::create();
    let mut settings = test_settings(&url);
    settings.sla.policies_file = path.display().to_string();
    let error = nru_helpdesk::startup::Application::build(settings)
        .err()
        .expect("start-up refused")
        .to_string();
    assert!(
        error.contains("sla.policies_file") && error.contains("ofice"),
        "{error}"
    );
}

impl Unit {
    /// A report as `token` reads it, in JSON or (with `csv`) as CSV text.
    async fn report_as(&self, path: &str, token: &str, csv: bool) -> String {
        let mut request = self
            .app
            .client
            .get(format!("{}/api/v1/reports/{path}", self.app.address))
            .bearer_auth(token);
        if csv {
            request = request.header("Accept", "text/csv");
        }
        let reply = request.send().await.unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        reply.text().await.unwrap()
    }

    /// Requests in the team's queue summary as `token` reads it.
    async fn summary_count(&self, token: &str) -> i64 {
        let reply = self
            .app
            .get("/api/v1/queue/summary", Some(token))
            .await
            .ok();
        let team = reply
            .body
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["team_id"] == self.team.as_str())
            .unwrap()
            .clone();
        team["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["count"].as_i64().unwrap())
            .sum()
    }
}

/// The CSV cell under `column` in each data row.
fn csv_column(text: &str, column: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let i = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column} in {text}"));
    reader.records().map(|r| r.unwrap()[i].to_owned()).collect()
}

#[tokio::test]
async fn an_excluded_coordinator_finds_no_trace_of_the_request_in_reports_or_the_queue_summary() {
    let unit = walk_unit().await;
    let kit = unit
        .app
        .create_user(
            &unit.admin,
            json!({"email": "kit@unit.test", "display_name": "Kit", "role": "coordinator",
                   "password": PASSWORD, "team_ids": [unit.team], "available": true}),
        )
        .await;
    let (kit_token, _) = unit.app.sign_in("kit@unit.test", PASSWORD).await;
    let hidden = unit.triaged("P1").await;
    let shown = unit.triaged("P1").await;
    unit.app
        .post(
            &format!("/api/v1/requests/{hidden}/exclusions"),
            Some(&unit.coordinator),
            json!({"user_id": kit["id"]}),
        )
        .await
        .no_content();
    let hidden_ref = unit.detail(&hidden).await["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    unit.set_time(0, 16, 0);
    unit.tick().await;
    unit.app
        .get(&format!("/api/v1/requests/{hidden}"), Some(&kit_token))
        .await
        .status_is(404);

    let breaches = "sla-breaches?from=2026-11-30&to=2026-11-30";
    let ids = |json: &str| -> Vec<String> {
        let page: Value = serde_json::from_str(json).unwrap();
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["request_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let everyone = ids(&unit.report_as(breaches, &unit.coordinator, false).await);
    assert!(everyone.contains(&hidden) && everyone.contains(&shown));
    let json = unit.report_as(breaches, &kit_token, false).await;
    assert!(ids(&json).iter().all(|id| *id == shown), "{json}");
    assert!(!json.contains(&hidden_ref), "{json}");
    let csv = unit.report_as(breaches, &kit_token, true).await;
    assert!(csv_column(&csv, "request_id").iter().all(|id| *id == shown));
    assert!(
        !csv.contains(&hidden) && !csv.contains(&hidden_ref),
        "{csv}"
    );

    let times = "response-times?from=2026-11-30&to=2026-11-30";
    let total =
        |json: String| serde_json::from_str::<Value>(&json).unwrap()["total"]["requests"].clone();
    assert_eq!(
        total(unit.report_as(times, &unit.coordinator, false).await),
        2
    );
    assert_eq!(total(unit.report_as(times, &kit_token, false).await), 1);
    let csv = unit.report_as(times, &kit_token, true).await;
    assert_eq!(csv_column(&csv, "requests"), ["1", "1"], "P1 and total");

    assert_eq!(unit.summary_count(&unit.coordinator).await, 2);
    assert_eq!(unit.summary_count(&kit_token).await, 1);
}

#[tokio::test]
async fn admins_read_breaches_as_references_and_figures_without_category_or_region() {
    let unit = walk_unit().await;
    let id = unit.triaged("P1").await;
    unit.set_time(0, 16, 0);
    unit.tick().await;
    let breaches = "sla-breaches?from=2026-11-30&to=2026-11-30";

    let staff: Value =
        serde_json::from_str(&unit.report_as(breaches, &unit.coordinator, false).await).unwrap();
    assert_eq!(staff["items"][0]["category"], "child_criminal_exploitation");
    assert!(staff["items"][0]["region"].is_string());

    let admin: Value =
        serde_json::from_str(&unit.report_as(breaches, &unit.admin, false).await).unwrap();
    let item = &admin["items"][0];
    assert_eq!(item["request_id"], id.as_str());
    assert!(item["reference"].as_str().unwrap().starts_with("NRU-"));
    assert_eq!(item["category"], Value::Null);
    assert_eq!(item["region"], Value::Null);

    let csv = unit.report_as(breaches, &unit.admin, true).await;
    assert_eq!(csv_column(&csv, "request_id")[0], id);
    assert!(csv_column(&csv, "reference")[0].starts_with("NRU-"));
    assert!(
        csv_column(&csv, "category").iter().all(String::is_empty),
        "{csv}"
    );
    assert!(
        csv_column(&csv, "region").iter().all(String::is_empty),
        "{csv}"
    );
}
