//! Secrets out of the environment: key rings live in Secrets Manager, only the functions
//! that sign or seal may read them, and a rotation signs nobody out.

use aws_sdk_dynamodb::types::AttributeValue;
use devstack::template::{FunctionEvent, Template};
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

fn yaml(v: &serde_yaml::Value) -> String {
    serde_yaml::to_string(v).unwrap().trim().to_string()
}

#[test]
fn no_function_environment_holds_a_secret_and_only_signers_may_read_the_keys() {
    let path = devstack::default_template();
    let t = Template::load(&path).unwrap();
    let raw: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // A NoEcho parameter would be a secret passed through the stack into an environment.
    for (name, p) in raw["Parameters"].as_mapping().unwrap() {
        assert!(p.get("NoEcho").is_none(), "parameter {name:?} is a secret");
    }
    let secrets: Vec<&String> = t.of_kind("AWS::SecretsManager::Secret").map(|(id, _)| id).collect();
    assert_eq!(secrets, ["FieldKeys", "SigningKeys"]);
    let names_a_secret = |v: &serde_yaml::Value| secrets.iter().any(|s| yaml(v) == format!("!Ref {s}"));
    let sensitive = |k: &str| ["SECRET", "KEY", "PASSWORD", "TOKEN", "CREDENTIAL"].iter().any(|w| k.contains(w));
    for k in t.globals_env.keys() {
        assert!(!sensitive(k), "Globals hands {k} to every function");
    }
    let quiet = [
        "platform-health",
        "platform-openapi",
        "platform-docs",
        "platform-not-found",
        "platform-stream-relay",
        "search-indexer",
        "search-reindex",
        "files-check-upload",
        "jobs-expire",
        "live-disconnect",
    ];
    let mut signers = 0;
    for f in t.functions().unwrap() {
        for (k, v) in &f.env {
            if sensitive(k) {
                assert!(
                    names_a_secret(v),
                    "{}: {k} = {} is not a Secrets Manager secret",
                    f.logical_id,
                    yaml(v)
                );
            }
        }
        let policies = yaml(&t.resources[&f.logical_id].properties["Policies"]);
        let signs = f.env.contains_key("SIGNING_KEYS_SECRET");
        let seals = f.env.contains_key("FIELD_KEYS_SECRET");
        assert_eq!(
            signs,
            policies.contains("SigningKeysReadPolicy"),
            "{}: signing key secret and its read policy",
            f.logical_id
        );
        assert_eq!(
            seals,
            policies.contains("FieldKeysReadPolicy"),
            "{}: field key secret and its read policy",
            f.logical_id
        );
        // Every counted route needs the signing keys (the rate limiter hashes its callers
        // with a key derived from them); routes outside every budget read no keys.
        for e in &f.events {
            if let FunctionEvent::Http { method, path } = e {
                let route = if path == "$default" {
                    path.clone()
                } else {
                    format!("{method} {path}")
                };
                let unlimited = common::http::UNLIMITED.contains(&route.as_str());
                assert_eq!(signs, !unlimited, "{}: {route}", f.logical_id);
            }
        }
        if quiet.contains(&f.handler.as_str()) {
            assert!(!signs && !seals, "{} neither signs nor seals but may read keys", f.logical_id);
        }
        signers += signs as usize;
    }
    assert!(signers > 50, "{signers} functions read the signing keys");
    // Each read policy grants reading its own secret, nothing else.
    for (policy, secret) in [("SigningKeysReadPolicy", "SigningKeys"), ("FieldKeysReadPolicy", "FieldKeys")] {
        let statements = &t.resources[policy].properties["PolicyDocument"]["Statement"];
        assert_eq!(statements.as_sequence().unwrap().len(), 1);
        assert_eq!(yaml(&statements[0]["Action"]), "secretsmanager:GetSecretValue");
        assert_eq!(yaml(&statements[0]["Resource"]), format!("!Ref {secret}"));
    }
    // Losing the field keys loses the data sealed with them.
    assert_eq!(raw["Resources"]["FieldKeys"]["DeletionPolicy"].as_str(), Some("Retain"));
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// The key ids of the sealed fields of a user's profile item, as DynamoDB holds it.
async fn sealed_with(s: &TestStack, user_id: &str) -> Vec<(String, String)> {
    let out = aws_sdk_dynamodb::Client::new(s.sdk())
        .query()
        .table_name(s.running.app.table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{user_id}")))
        .send()
        .await
        .unwrap();
    let mut found = Vec::new();
    for item in out.items.unwrap_or_default() {
        for field in ["phone", "address", "bio"] {
            if let Some(AttributeValue::M(m)) = item.get(field) {
                if let Some(AttributeValue::S(k)) = m.get("kid") {
                    found.push((field.to_string(), k.clone()));
                }
            }
        }
    }
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_come_from_secrets_manager_and_rotate_without_signing_anyone_out() {
    let s = TestStack::start_with(false, false).await;
    // The rings CloudFormation would generate, in the stand-in's Secrets Manager.
    for which in ["signing", "field"] {
        let ring = s.ring(which).await;
        assert_eq!((ring.keys().len(), ring.current()), (1, "k1"), "{which}: {ring:?}");
        assert!(ring.keys()[0].1.len() >= 64);
    }
    assert_ne!(s.ring("signing").await.keys()[0].1, s.ring("field").await.keys()[0].1);
    let ada = s.seeker().await;
    assert_eq!(kid(&ada.token), "k1");
    let r = s
        .send("PATCH", "/me/profile", Some(json!({"phone": "+15555550100"})), Some(&ada.token))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(sealed_with(&s, &ada.id).await, [("phone".to_string(), "k1".to_string())]);

    // Both rings rotate, the new keys taking over at once; the functions fetch them.
    let client = s.running.app.secrets_manager();
    let settings = &s.running.app.settings;
    for secret in [&settings.signing_keys_secret, &settings.field_keys_secret] {
        let (_, after) = common::secrets::rotate(client, secret.as_deref().unwrap(), 0).await.unwrap();
        assert_eq!(after.next().map(|(id, _)| id), Some("k2"));
    }
    s.running.app.reload_secrets().await.unwrap();

    // Nobody is signed out; new sessions sign with the new key.
    assert_eq!(s.get("/auth/me", Some(&ada.token)).await.status, StatusCode::OK);
    let login = s.login(&ada.email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{login:?}");
    let fresh = token_of(&login.body);
    assert_eq!(kid(&fresh), "k2");
    assert_eq!(s.get("/auth/me", Some(&fresh)).await.status, StatusCode::OK);
    // Old values still open; new ones are sealed with the new key.
    let r = s
        .send("PATCH", "/me/profile", Some(json!({"address": "1 New Street"})), Some(&fresh))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["phone"], "+15555550100");
    assert_eq!(
        sealed_with(&s, &ada.id).await,
        [("address".to_string(), "k2".to_string()), ("phone".to_string(), "k1".to_string())]
    );

    // A rotation that takes over later: the new key is known at once but does not sign yet,
    // and another rotation waits for it.
    let signing = settings.signing_keys_secret.as_deref().unwrap();
    let (_, after) = common::secrets::rotate(client, signing, 900).await.unwrap();
    assert_eq!((after.current(), after.next().map(|(id, _)| id)), ("k2", Some("k3")));
    assert!(common::secrets::rotate(client, signing, 900).await.is_err());
    s.running.app.reload_secrets().await.unwrap();
    let login = s.login(&ada.email, PASSWORD).await;
    assert_eq!(kid(&token_of(&login.body)), "k2");
    s.shutdown().await;
}
