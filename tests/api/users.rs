use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

fn practitioner(email: &str) -> serde_json::Value {
    json!({
        "email": email, "display_name": "Pat", "role": "practitioner", "password": PASSWORD,
        "organisation": "police", "region": "london"
    })
}

#[tokio::test]
async fn admin_creates_reads_and_updates_a_specialist_profile() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let team = app.create_team(&admin, "Crime and justice").await;
    let reply = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({
                "email": "Sam.Specialist@Test.Local", "display_name": "Sam", "role": "specialist",
                "password": PASSWORD, "skills": ["health", "crime_and_justice", "health"],
                "team_ids": [team], "available": true, "max_open_requests": 8
            }),
        )
        .await
        .created();
    let id = reply.id();
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/users/{id}").as_str())
    );
    assert_eq!(reply.body["email"], "sam.specialist@test.local");
    assert_eq!(reply.body["skills"], json!(["crime_and_justice", "health"]));
    assert_eq!(reply.body["team_ids"], json!([team]));
    assert!(reply.body.get("password").is_none() && reply.body.get("password_hash").is_none());

    let read = app
        .get(&format!("/api/v1/users/{id}"), Some(&admin))
        .await
        .ok();
    assert_eq!(read.body, reply.body);

    let updated = app
        .patch(
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            json!({"display_name": "Samantha", "skills": ["education_and_communities"], "max_open_requests": null}),
        )
        .await.ok();
    assert_eq!(updated.body["display_name"], "Samantha");
    assert_eq!(updated.body["skills"], json!(["education_and_communities"]));
    assert_eq!(updated.body["max_open_requests"], json!(null));
    assert_eq!(
        updated.body["team_ids"],
        json!([team]),
        "fields not sent stay as they were"
    );
    assert_eq!(updated.body["available"], true);

    let team_view = app
        .get(&format!("/api/v1/teams/{team}"), Some(&admin))
        .await;
    assert_eq!(team_view.body["member_ids"], json!([id]));
}

#[tokio::test]
async fn every_admin_endpoint_refuses_other_roles_and_anonymous_callers() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (target, _) = app
        .user_of_role(&admin, "practitioner", "p1@test.local")
        .await;
    let mut callers = vec![];
    for role in ["practitioner", "specialist", "coordinator"] {
        callers.push(
            app.user_of_role(&admin, role, &format!("{role}-caller@test.local"))
                .await
                .1,
        );
    }
    let endpoints = [
        (Method::GET, "/api/v1/users".to_owned(), None),
        (
            Method::POST,
            "/api/v1/users".to_owned(),
            Some(practitioner("new@test.local")),
        ),
        (Method::GET, format!("/api/v1/users/{target}"), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{target}"),
            Some(json!({"display_name": "X"})),
        ),
        (
            Method::POST,
            format!("/api/v1/users/{target}/disable"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/users/{target}/enable"),
            Some(json!({})),
        ),
        (
            Method::PUT,
            format!("/api/v1/users/{target}/password"),
            Some(json!({"password": "yet-another-password"})),
        ),
        (
            Method::POST,
            "/api/v1/teams".to_owned(),
            Some(json!({"name": "Sneaky"})),
        ),
    ];
    for (method, path, body) in &endpoints {
        for token in &callers {
            app.call(method.clone(), path, Some(token), body.clone())
                .await
                .problem(403);
        }
        app.call(method.clone(), path, None, body.clone())
            .await
            .problem(401);
    }
    // Nothing was changed by the refused calls.
    let target_now = app
        .get(&format!("/api/v1/users/{target}"), Some(&admin))
        .await;
    assert_eq!(target_now.body["display_name"], "Test practitioner");
    assert_eq!(target_now.body["active"], true);
    app.login("p1@test.local", PASSWORD).await;
    let all = app.get("/api/v1/users?limit=100", Some(&admin)).await;
    assert_eq!(all.items().len(), 5);
}

#[tokio::test]
async fn invalid_fields_are_each_named_and_nothing_is_created() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let reply = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({"email": "not-an-email", "display_name": "   ", "role": "practitioner", "password": PASSWORD,
                   "organisation": "police", "region": "london"}),
        )
        .await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["display_name", "email"]);

    let reply = app.post("/api/v1/users", Some(&admin), json!({"email": "a@test.local", "display_name": "A", "role": "wizard", "password": PASSWORD})).await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["role"]);

    let short = practitioner("short@test.local");
    let mut short = short.clone();
    short["password"] = json!("too-short");
    let reply = app.post("/api/v1/users", Some(&admin), short).await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["password"]);

    let reply = app.post("/api/v1/users", Some(&admin), json!({"email": "p@test.local", "display_name": "P", "role": "practitioner", "password": PASSWORD})).await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["organisation", "region"]);

    let mut staff_fields = practitioner("p2@test.local");
    staff_fields["skills"] = json!(["health"]);
    let reply = app.post("/api/v1/users", Some(&admin), staff_fields).await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["skills"]);

    let mut unknown = practitioner("p3@test.local");
    unknown["is_admin"] = json!(true);
    let reply = app.post("/api/v1/users", Some(&admin), unknown).await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["is_admin"]);

    let reply = app
        .post("/api/v1/users", Some(&admin), json!({"email": "s@test.local", "display_name": "S", "role": "specialist", "password": PASSWORD, "team_ids": ["no-such-team"]}))
        .await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["team_ids"]);

    let reply = app
        .post("/api/v1/users", Some(&admin), json!({"email": "s@test.local", "display_name": "S", "role": "specialist", "password": PASSWORD, "max_open_requests": 0}))
        .await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["max_open_requests"]);

    let all = app.get("/api/v1/users", Some(&admin)).await;
    assert_eq!(all.items().len(), 1, "only the admin exists");
}

#[tokio::test]
async fn emails_are_unique_without_regard_to_case() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.create_user(&admin, practitioner("dup@test.local"))
        .await;
    let reply = app
        .post(
            "/api/v1/users",
            Some(&admin),
            practitioner("DUP@Test.Local"),
        )
        .await;
    reply.problem(409);
}

#[tokio::test]
async fn pages_walk_every_user_once_and_filters_narrow_the_list() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let team = app.create_team(&admin, "Health").await;
    for i in 0..5 {
        app.create_user(&admin, practitioner(&format!("p{i}@test.local")))
            .await;
    }
    for i in 0..2 {
        app.create_user(
            &admin,
            json!({"email": format!("s{i}@test.local"), "display_name": "S", "role": "specialist", "password": PASSWORD, "team_ids": [team]}),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/users?limit=3&cursor={c}"),
            None => "/api/v1/users?limit=3".to_owned(),
        };
        let page = app.get(&path, Some(&admin)).await.ok();
        pages += 1;
        for item in page.items() {
            seen.push(item.id());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 8);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), 8, "no user appears twice");

    let specialists = app.get("/api/v1/users?role=specialist", Some(&admin)).await;
    assert_eq!(specialists.items().len(), 2);
    let members = app
        .get(&format!("/api/v1/users?team_id={team}"), Some(&admin))
        .await;
    assert_eq!(members.items().len(), 2);
    let first = seen[1].clone();
    app.post(
        &format!("/api/v1/users/{first}/disable"),
        Some(&admin),
        json!({}),
    )
    .await;
    let inactive = app.get("/api/v1/users?active=false", Some(&admin)).await;
    assert_eq!(inactive.body["items"][0]["id"], json!(first));
    assert_eq!(inactive.items().len(), 1);
}

#[tokio::test]
async fn bad_list_parameters_are_named() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("cursor=forged", "cursor"),
        ("role=wizard", "role"),
        ("active=maybe", "active"),
        ("colour=blue", "colour"),
    ] {
        let reply = app
            .get(&format!("/api/v1/users?{query}"), Some(&admin))
            .await;
        reply.problem(400);
        assert_eq!(reply.fields(), [field], "for {query}");
    }
}

#[tokio::test]
async fn admins_cannot_lock_themselves_out() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let me = app.get("/api/v1/me", Some(&admin)).await.id();
    app.post(
        &format!("/api/v1/users/{me}/disable"),
        Some(&admin),
        json!({}),
    )
    .await
    .problem(409);
    app.patch(
        &format!("/api/v1/users/{me}"),
        Some(&admin),
        json!({"role": "coordinator"}),
    )
    .await
    .problem(409);
    assert_eq!(
        app.get("/api/v1/me", Some(&admin)).await.body["role"],
        "admin"
    );
}

#[tokio::test]
async fn a_role_change_must_leave_a_valid_profile() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, _) = app
        .user_of_role(&admin, "practitioner", "p@test.local")
        .await;
    let path = format!("/api/v1/users/{id}");
    let reply = app
        .patch(&path, Some(&admin), json!({"role": "specialist"}))
        .await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["organisation", "region"]);
    let reply = app
        .patch(
            &path,
            Some(&admin),
            json!({"role": "specialist", "organisation": null, "region": null, "available": true}),
        )
        .await
        .ok();
    assert_eq!(reply.body["role"], "specialist");
    assert_eq!(reply.body["organisation"], json!(null));
}

#[tokio::test]
async fn unknown_user_ids_are_not_found() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    app.get("/api/v1/users/does-not-exist", Some(&admin))
        .await
        .problem(404);
    app.patch(
        "/api/v1/users/does-not-exist",
        Some(&admin),
        json!({"display_name": "X"}),
    )
    .await
    .problem(404);
    app.post(
        "/api/v1/users/does-not-exist/disable",
        Some(&admin),
        json!({}),
    )
    .await
    .problem(404);
    app.put(
        "/api/v1/users/does-not-exist/password",
        Some(&admin),
        json!({"password": "a-brand-new-password"}),
    )
    .await
    .problem(404);
}

#[tokio::test]
async fn admin_password_reset_ends_the_users_sessions() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (id, token) = app.user_of_role(&admin, "specialist", "s@test.local").await;
    app.put(
        &format!("/api/v1/users/{id}/password"),
        Some(&admin),
        json!({"password": "a-brand-new-password"}),
    )
    .await
    .no_content();
    app.get("/api/v1/me", Some(&token)).await.problem(401);
    app.sign_in("s@test.local", "a-brand-new-password").await;
}

#[tokio::test]
async fn specialists_set_their_own_availability_and_practitioners_cannot() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (_, specialist) = app.user_of_role(&admin, "specialist", "s@test.local").await;
    let (_, practitioner) = app
        .user_of_role(&admin, "practitioner", "p@test.local")
        .await;
    let reply = app
        .put(
            "/api/v1/me/availability",
            Some(&specialist),
            json!({"available": true}),
        )
        .await
        .ok();
    assert_eq!(reply.body["available"], true);
    assert_eq!(
        app.get("/api/v1/me", Some(&specialist)).await.body["available"],
        true
    );
    app.put(
        "/api/v1/me/availability",
        Some(&practitioner),
        json!({"available": true}),
    )
    .await
    .problem(403);
    app.put("/api/v1/me/availability", None, json!({"available": true}))
        .await
        .problem(401);
    let reply = app
        .put(
            "/api/v1/me/availability",
            Some(&specialist),
            json!({"available": "yes"}),
        )
        .await;
    reply.problem(422);
    assert_eq!(reply.fields(), ["available"]);
}
