//! `openapi.yaml` at the repository root is generated from the code.
//! To update it: `UPDATE_OPENAPI=1 cargo test openapi`.

#[test]
fn checked_in_openapi_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
    let generated = nru_helpdesk::api::doc::openapi_yaml();
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(path, &generated).expect("write openapi.yaml");
        return;
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "openapi.yaml is out of step with the code; run `UPDATE_OPENAPI=1 cargo test openapi` and commit it"
    );
}

#[test]
fn every_operation_documents_its_errors_as_problems() {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&nru_helpdesk::api::doc::openapi_yaml()).unwrap();
    let paths = doc["paths"].as_mapping().unwrap();
    assert!(paths.len() >= 14);
    for (path, item) in paths {
        for (method, operation) in item.as_mapping().unwrap() {
            let responses = operation["responses"].as_mapping().unwrap();
            assert!(
                responses.contains_key("500"),
                "{path:?} {method:?} lacks 500"
            );
            if operation.get("security").is_some() {
                assert!(
                    responses.contains_key("401"),
                    "{path:?} {method:?} lacks 401"
                );
            }
            if operation.get("requestBody").is_some() {
                assert!(
                    responses.contains_key("422"),
                    "{path:?} {method:?} lacks 422"
                );
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_mapping());
}

#[test]
fn operation_ids_are_unique_and_every_webhook_event_is_described() {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&nru_helpdesk::api::doc::openapi_yaml()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (_, item) in doc["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            let id = operation["operationId"].as_str().unwrap().to_owned();
            assert!(ids.insert(id.clone()), "{id} ({method:?}) is not unique");
        }
    }
    for event in [
        "request.created",
        "request.status_changed",
        "message.created",
        "request.sla_breached",
    ] {
        let body = &doc["webhooks"][event]["post"]["requestBody"]["content"]["application/json"];
        assert_eq!(
            body["schema"]["$ref"].as_str(),
            Some("#/components/schemas/Payload"),
            "{event}"
        );
    }
    let flows = &doc["components"]["securitySchemes"]["client"]["flows"]["clientCredentials"];
    assert_eq!(flows["tokenUrl"].as_str(), Some("/api/v1/auth/token"));
}
