use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_creates_teams_and_names_are_unique_without_regard_to_case() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let reply = app
        .post(
            "/api/v1/teams",
            Some(&admin),
            json!({"name": "  Health  ", "description": "Health settings"}),
        )
        .await
        .created();
    let id = reply.id();
    assert_eq!(reply.body["name"], "Health");
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/v1/teams/{id}").as_str())
    );
    app.post("/api/v1/teams", Some(&admin), json!({"name": "HEALTH"}))
        .await
        .problem(409);
    let blank = app
        .post("/api/v1/teams", Some(&admin), json!({"name": " "}))
        .await;
    blank.problem(422);
    assert_eq!(blank.fields(), ["name"]);
    let long = app
        .post(
            "/api/v1/teams",
            Some(&admin),
            json!({"name": "x".repeat(101)}),
        )
        .await;
    long.problem(422);
    assert_eq!(long.fields(), ["name"]);
}

#[tokio::test]
async fn coordinators_may_read_teams_but_specialists_and_practitioners_may_not() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let team = app.create_team(&admin, "Education and communities").await;
    app.create_team(&admin, "Health").await;
    app.create_team(&admin, "Transitions").await;
    let (_, coordinator) = app
        .user_of_role(&admin, "coordinator", "c@test.local")
        .await;
    let (_, specialist) = app.user_of_role(&admin, "specialist", "s@test.local").await;
    let (_, practitioner) = app
        .user_of_role(&admin, "practitioner", "p@test.local")
        .await;

    let page = app
        .get("/api/v1/teams?limit=2", Some(&coordinator))
        .await
        .ok();
    assert_eq!(page.items().len(), 2);
    let cursor = page.string("next_cursor");
    let rest = app
        .get(
            &format!("/api/v1/teams?limit=2&cursor={cursor}"),
            Some(&coordinator),
        )
        .await;
    assert_eq!(rest.items().len(), 1);
    assert_eq!(rest.body["next_cursor"], json!(null));
    app.get(&format!("/api/v1/teams/{team}"), Some(&coordinator))
        .await
        .ok();

    for token in [&specialist, &practitioner] {
        app.get("/api/v1/teams", Some(token)).await.problem(403);
        app.get(&format!("/api/v1/teams/{team}"), Some(token))
            .await
            .problem(403);
    }
    app.get("/api/v1/teams", None).await.problem(401);
    app.get("/api/v1/teams/unknown", Some(&admin))
        .await
        .problem(404);
}
