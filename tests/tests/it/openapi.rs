//! The OpenAPI document covers every route of template.yaml and is what /openapi.json serves.

use devstack::template::Template;
use integration_tests::*;
use reqwest::StatusCode;

#[test]
fn the_committed_document_is_up_to_date() {
    let committed = std::fs::read_to_string(devstack::default_template().with_file_name("docs").join("openapi.json")).unwrap();
    assert!(
        committed == devstack::openapi::to_json(),
        "docs/openapi.json is stale: run `make openapi` and commit it"
    );
}

#[test]
fn every_template_route_is_documented() {
    let doc: serde_json::Value = serde_json::from_str(&devstack::openapi::to_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let t = Template::load(&devstack::default_template()).unwrap();
    let mut missing = Vec::new();
    for (method, path, _) in t.http_routes().unwrap() {
        if path == "$default" {
            continue;
        }
        if doc["paths"][&path][method.to_lowercase()].is_null() {
            missing.push(format!("{method} {path}"));
        }
    }
    assert!(missing.is_empty(), "routes missing from the OpenAPI document: {missing:?}");
    // ... and nothing is documented that is not served.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            assert!(
                t.http_routes()
                    .unwrap()
                    .iter()
                    .any(|(m, p, _)| p == path && m.eq_ignore_ascii_case(method)),
                "{method} {path} is documented but not in template.yaml"
            );
        }
    }
}

#[test]
fn operation_ids_are_unique_and_named_after_the_handlers() {
    let doc: serde_json::Value = serde_json::from_str(&devstack::openapi::to_json()).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().expect("every operation has an id").to_string();
            assert!(ids.insert(id.clone()), "operationId {id} repeats (generated clients would collide)");
        }
    }
    assert!(
        ids.contains("jobsCreate") && ids.contains("applicationsInterviewsUpdate"),
        "{ids:?}"
    );
    assert_eq!(devstack::openapi::operation_id("auth-password-forgot"), "authPasswordForgot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_and_the_docs_page_are_served() {
    let s = TestStack::start_with(false, false).await;
    let r = s.get("/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["openapi"], "3.1.0");
    assert!(r.body["paths"]["/auth/register"]["post"].is_object());
    let r = s.http.get(format!("{}/docs", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("openapi.json"));
    s.shutdown().await;
}

/// Every object the document describes says what it holds (properties, or a map's value
/// type), so a generated client (the web app's) gets real types, never `Record<string, never>`:
/// no bare `{"type": "object"}`. Every request body and every 2xx answer with a body names
/// its schema.
#[test]
fn every_object_is_typed_and_every_body_declared() {
    fn is_object(s: &serde_json::Map<String, serde_json::Value>) -> bool {
        match &s.get("type") {
            Some(serde_json::Value::String(t)) => t == "object",
            Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => false,
        }
    }
    fn walk(v: &serde_json::Value, at: &str, bare: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                let says = ["properties", "additionalProperties", "anyOf", "oneOf", "allOf", "$ref"];
                if is_object(m) && !says.iter().any(|k| m.contains_key(*k)) {
                    bare.push(at.to_string());
                }
                if m.get("additionalProperties") == Some(&serde_json::Value::Bool(true)) {
                    bare.push(format!("{at} (additionalProperties: true)"));
                }
                for (k, v) in m {
                    walk(v, &format!("{at}/{k}"), bare);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), bare);
                }
            }
            _ => {}
        }
    }
    let doc: serde_json::Value = serde_json::from_str(&devstack::openapi::to_json()).unwrap();
    let mut bare = Vec::new();
    walk(&doc, "", &mut bare);
    assert!(bare.is_empty(), "objects without a type of their contents: {bare:#?}");

    let mut undeclared = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if let Some(body) = op.get("requestBody") {
                let media = body["content"]
                    .as_object()
                    .map(|c| c.values().collect::<Vec<_>>())
                    .unwrap_or_default();
                if media.is_empty() || media.iter().any(|m| m["schema"].is_null()) {
                    undeclared.push(format!("{method} {path} request"));
                }
            }
            for (status, reply) in op["responses"].as_object().unwrap() {
                if !status.starts_with('2') {
                    continue;
                }
                match reply["content"].as_object() {
                    Some(c) if c.values().all(|m| !m["schema"].is_null()) => {}
                    // No body at all is declared as none: 204, and the two 202s of the
                    // enumeration-safe mail routes.
                    None if status == "204" || status == "202" => {}
                    _ => undeclared.push(format!("{method} {path} {status}")),
                }
            }
        }
    }
    assert!(undeclared.is_empty(), "bodies without a schema: {undeclared:?}");
}

#[test]
fn the_committed_template_is_what_make_template_writes() {
    let path = devstack::default_template();
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == devstack::generate::template(&committed).unwrap(),
        "template.yaml's HTTP functions are stale: run `make template` and commit it"
    );
}
