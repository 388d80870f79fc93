//! `openapi.yaml` at the repository root is generated from the code.
//! To update it: `UPDATE_OPENAPI=1 cargo test openapi`.

use serde_yaml::Value;

fn document() -> Value {
    serde_yaml::from_str(&nru_helpdesk::api::doc::openapi_yaml()).unwrap()
}

/// Every operation of the document, with its path and method.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            out.push((
                path.as_str().unwrap().to_owned(),
                method.as_str().unwrap().to_owned(),
                operation.clone(),
            ));
        }
    }
    out
}

/// Whether an operation declares a credential it cannot do without.
fn needs_authentication(operation: &Value) -> bool {
    let requirements = operation["security"].as_sequence().unwrap();
    !requirements.is_empty()
        && !requirements
            .iter()
            .any(|r| r.as_mapping().is_some_and(|m| m.is_empty()))
}

/// Every `$ref` in a part of the document.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner.as_str()) {
                    (Some("$ref"), Some(target)) => out.push(target.to_owned()),
                    _ => references(inner, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|i| references(i, out)),
        _ => {}
    }
}

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
            if needs_authentication(operation) {
                assert!(
                    responses.contains_key("401"),
                    "{path:?} {method:?} lacks 401"
                );
            }
            if operation["requestBody"]["content"]
                .get("application/json")
                .is_some()
            {
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

#[test]
fn every_operation_may_answer_429_with_retry_after_and_503_says_when_to_retry() {
    let doc = document();
    for status in ["TooManyRequests", "ServiceUnavailable"] {
        let header = &doc["components"]["responses"][status]["headers"]["Retry-After"];
        assert_eq!(
            header["schema"]["type"].as_str(),
            Some("integer"),
            "{status}"
        );
    }
    // Liveness, readiness and job health are outside the request budgets.
    let unlimited = ["/healthz", "/healthz/jobs", "/readyz"];
    for (path, method, operation) in operations(&doc) {
        let answer = &operation["responses"]["429"];
        if unlimited.contains(&path.as_str()) {
            assert!(answer.is_null(), "{method} {path} declares a 429");
            continue;
        }
        let declared = answer["$ref"].as_str() == Some("#/components/responses/TooManyRequests")
            || answer["headers"]["Retry-After"].is_mapping();
        assert!(declared, "{method} {path} lacks a 429 with Retry-After");
        assert_eq!(
            operation["responses"]["503"]["$ref"].as_str(),
            Some("#/components/responses/ServiceUnavailable"),
            "{method} {path}"
        );
        if !needs_authentication(&operation) {
            let own = operation["responses"]["401"]["$ref"].as_str();
            assert_ne!(
                own,
                Some("#/components/responses/Unauthorized"),
                "{method} {path} is public but declares the bearer 401"
            );
        }
    }
}

#[test]
fn pages_reference_their_item_schemas_and_every_schema_and_reference_is_used() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_mapping().unwrap();
    let mut pages = 0;
    for (name, schema) in schemas {
        let name = name.as_str().unwrap();
        if let Some(item) = name.strip_prefix("Page_") {
            pages += 1;
            assert_eq!(
                schema["properties"]["items"]["items"]["$ref"].as_str(),
                Some(format!("#/components/schemas/{item}").as_str()),
                "{name}"
            );
        }
    }
    assert!(pages >= 13);
    let mut found = Vec::new();
    references(&doc, &mut found);
    for target in &found {
        let (kind, name) = target
            .strip_prefix("#/components/")
            .and_then(|t| t.split_once('/'))
            .unwrap_or_else(|| panic!("{target} is not a component"));
        assert!(
            doc["components"][kind][name].is_mapping(),
            "{target} does not resolve"
        );
    }
    for name in schemas.keys().map(|k| k.as_str().unwrap()) {
        let target = format!("#/components/schemas/{name}");
        assert!(found.contains(&target), "{name} is never used");
    }
}

#[test]
fn operations_have_unique_meaningful_ids_summaries_and_descriptions() {
    let doc = document();
    let generic = [
        "post", "delete", "update", "events", "messages", "summary", "list", "read", "create",
        "remove",
    ];
    let mut seen = std::collections::HashSet::new();
    let webhooks: Vec<_> = doc["webhooks"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(event, item)| {
            let event = event.as_str().unwrap().to_owned();
            (event, "post".to_owned(), item["post"].clone())
        })
        .collect();
    for (path, method, operation) in operations(&doc).into_iter().chain(webhooks) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        assert!(seen.insert(id.clone()), "{id} is not unique");
        assert!(!generic.contains(&id.as_str()), "{id} says nothing");
        assert!(
            id.split('_').count() >= 2
                && id
                    .split('_')
                    .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase())),
            "{id} is not verb_noun"
        );
        let summary = operation["summary"].as_str().unwrap_or_default();
        let description = operation["description"].as_str().unwrap_or_default();
        assert!(!summary.is_empty(), "{method} {path} has no summary");
        assert!(
            description.len() > summary.len(),
            "{method} {path} has no description beyond its summary"
        );
    }
}

#[test]
fn public_operations_and_webhooks_declare_no_credentials_and_servers_are_named() {
    let doc = document();
    assert!(doc["servers"][0]["url"].is_string());
    let mut public: Vec<String> = operations(&doc)
        .into_iter()
        .filter(|(_, _, operation)| !needs_authentication(operation))
        .map(|(_, _, operation)| operation["operationId"].as_str().unwrap().to_owned())
        .collect();
    public.sort();
    assert_eq!(
        public,
        [
            "check_health",
            "check_jobs",
            "check_readiness",
            "get_openapi_document",
            "issue_client_token",
            "refresh_session",
            "sign_in",
            "sign_out",
        ]
    );
    for (_, _, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap();
        if id != "issue_client_token" && public.iter().any(|p| p == id) {
            assert_eq!(
                operation["security"].as_sequence().map(Vec::len),
                Some(0),
                "{id}"
            );
        }
    }
    // The token endpoint takes HTTP Basic, or the credentials in the form.
    let token = &doc["paths"]["/api/v1/auth/token"]["post"];
    assert_eq!(
        token["security"][0]["clientBasic"]
            .as_sequence()
            .map(Vec::len),
        Some(0)
    );
    let basic = &doc["components"]["securitySchemes"]["clientBasic"];
    assert_eq!(basic["scheme"].as_str(), Some("basic"));
    for (event, item) in doc["webhooks"].as_mapping().unwrap() {
        assert_eq!(
            item["post"]["security"].as_sequence().map(Vec::len),
            Some(0),
            "{event:?}"
        );
    }
}

#[test]
fn schemas_are_named_for_generated_clients_with_enums_and_uuids() {
    let doc = document();
    let schemas = &doc["components"]["schemas"];
    // openapi-generator's clients have a class of their own named ApiClient.
    assert!(schemas["ApiClient"].is_null());
    assert!(schemas["IntegrationClient"].is_mapping());
    for id in ["list_rota_shifts", "add_rota_shift", "remove_rota_shift"] {
        let (_, _, operation) = operations(&doc)
            .into_iter()
            .find(|(_, _, o)| o["operationId"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("no {id}"));
        assert_eq!(operation["tags"][0].as_str(), Some("rota"), "{id}");
    }
    let data = &schemas["PayloadData"]["allOf"][1]["properties"];
    assert_eq!(
        data["status"]["$ref"].as_str(),
        Some("#/components/schemas/Status")
    );
    assert!(serde_yaml::to_string(&data["priority"])
        .unwrap()
        .contains("#/components/schemas/Priority"));
    let detail = &schemas["Detail"]["properties"];
    for (field, target) in [
        ("from", "ReplyAuthor"),
        ("clock", "ClockKind"),
        ("previous_status", "Status"),
    ] {
        assert!(
            serde_yaml::to_string(&detail[field])
                .unwrap()
                .contains(&format!("#/components/schemas/{target}")),
            "Detail.{field}"
        );
    }
    let edit = &schemas["EditRequest"]["properties"];
    for field in ["title", "description"] {
        assert_eq!(edit[field]["type"].as_str(), Some("string"), "{field}");
    }
    for (name, schema) in schemas.as_mapping().unwrap() {
        let Some(properties) = schema["properties"].as_mapping() else {
            continue;
        };
        for (field, property) in properties {
            let field = field.as_str().unwrap();
            if (field == "id" || field.ends_with("_id")) && name.as_str() != Some("TokenForm") {
                assert_eq!(
                    property["format"].as_str(),
                    Some("uuid"),
                    "{name:?}.{field}"
                );
            }
        }
    }
    for (path, method, operation) in operations(&doc) {
        for parameter in operation["parameters"].as_sequence().into_iter().flatten() {
            let name = parameter["name"].as_str().unwrap();
            if parameter["in"].as_str() == Some("path") && name.ends_with("id") {
                assert_eq!(
                    parameter["schema"]["format"].as_str(),
                    Some("uuid"),
                    "{method} {path} {name}"
                );
            }
        }
    }
}
