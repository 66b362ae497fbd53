//! Profiles through the local gateway: partial updates, privacy, field-level encryption.

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

/// A seeker's profile starts empty and private, fills in (normalised, the account renamed
/// with it), changes only what is sent, refuses what is not the seeker's to change, and
/// goes public without its private fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seekers_build_a_profile_and_choose_who_sees_it() {
    let s = TestStack::start_with(false, false).await;
    let me = s.seeker().await;
    let public = format!("/profiles/{}", me.id);

    step_a_new_profile_is_empty_and_private(&s, &me, &public).await;
    step_fill_it_in(&me).await;
    step_only_what_is_sent_changes(&me).await;
    step_never_role_email_or_id(&me).await;
    step_public_without_the_private_fields(&s, &me, &public).await;
    assert_eq!(s.get("/profiles/not-an-id", None).await.status, StatusCode::NOT_FOUND);
    s.shutdown().await;
}

async fn step_a_new_profile_is_empty_and_private(s: &TestStack, me: &User<'_>, public: &str) {
    let r = me.get("/me/profile").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["visibility"], "private");
    assert_eq!(r.body["full_name"], "Test Person");
    assert_eq!(s.get(public, None).await.status, StatusCode::NOT_FOUND);
}

async fn step_fill_it_in(me: &User<'_>) {
    let patch = json!({
        "full_name": "Ada Lovelace",
        "headline": "Backend engineer",
        "bio": "I like analytical engines.",
        "phone": "+44 20 7946 0958",
        "address": "12 St James's Square, London",
        // Kept to six decimals; 1e-300 is below what DynamoDB stores (it was a 500).
        "location": {"city": "London", "country": "gb", "lat": 51.50735091, "lon": -1e-300},
        "skills": ["Rust", " rust ", "DynamoDB"],
        "education": [{"school": "University of London", "degree": "BSc", "start": "2010-09", "end": "2013-06"}],
        "experience": [{"title": "Engineer", "company": "Analytical Engines Ltd", "start": "2014-01"}],
        "links": {"github": "https://github.com/ada"},
        "available_for_hire": true,
        "salary_expectation": {"min": 70000, "max": 90000, "currency": "gbp", "period": "year"}
    });
    let r = me.patch("/me/profile", patch).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["phone"], "+442079460958");
    assert_eq!(r.body["skills"], json!(["Rust", "DynamoDB"]));
    assert_eq!(r.body["location"]["country"], "GB");
    let coordinates = (r.body["location"]["lat"].as_f64(), r.body["location"]["lon"].as_f64());
    assert_eq!(coordinates, (Some(51.507351), Some(0.0)), "{r:?}");
    assert_eq!(r.body["salary_expectation"]["currency"], "GBP");
    assert_eq!(r.body["full_name"], "Ada Lovelace");
    assert_eq!(
        me.get("/auth/me").await.body["full_name"],
        "Ada Lovelace",
        "the account's name changed with it"
    );
}

/// Null clears.
async fn step_only_what_is_sent_changes(me: &User<'_>) {
    let r = me
        .patch("/me/profile", json!({"address": null, "headline": "Staff engineer"}))
        .await;
    assert!(r.body["address"].is_null());
    assert_eq!(r.body["headline"], "Staff engineer");
    assert_eq!(r.body["bio"], "I like analytical engines.");
}

/// Never role, email or id; never unknown fields; bad values are named.
async fn step_never_role_email_or_id(me: &User<'_>) {
    for forbidden in [
        json!({"role": "admin"}),
        json!({"email": "x@example.com"}),
        json!({"id": "x"}),
        json!({"user_id": "x"}),
    ] {
        let r = me.patch("/me/profile", forbidden.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{forbidden}: {r:?}");
    }
    let bad = json!({"phone": "call me", "links": {"linkedin": "nope"}, "salary_expectation": {"min": 9, "max": 1, "currency": "EUR", "period": "year"}});
    let r = me.patch("/me/profile", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for f in ["phone", "links.linkedin", "salary_expectation"] {
        assert!(r.body["details"][f].is_array(), "{f}: {r:?}");
    }
    assert_eq!(me.get("/auth/me").await.body["role"], "seeker");
}

async fn step_public_without_the_private_fields(s: &TestStack, me: &User<'_>, public: &str) {
    assert_eq!(s.get(public, None).await.status, StatusCode::NOT_FOUND, "still private");
    me.patch("/me/profile", json!({"visibility": "public"})).await;
    let r = s.get(public, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["headline"], "Staff engineer");
    assert_eq!(r.body["bio"], "I like analytical engines.");
    for private in ["phone", "address", "salary_expectation", "visibility"] {
        assert!(r.body.get(private).is_none(), "{private} is not public: {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phone_address_and_bio_are_never_stored_in_plaintext() {
    let s = TestStack::start_with(true, false).await;
    let (_, me) = s.register("seeker").await;
    let token = me["access_token"].as_str().unwrap();
    let id = me["user"]["id"].as_str().unwrap();
    let secrets = ["+15555550123", "742 Evergreen Terrace", "my secret biography"];
    let r = s
        .send(
            "PATCH",
            "/me/profile",
            Some(json!({"phone": secrets[0], "address": secrets[1], "bio": secrets[2]})),
            Some(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // Every item of this user's partition, raw, as DynamoDB holds it.
    let out = aws_sdk_dynamodb::Client::new(s.sdk())
        .query()
        .table_name(s.running.app.table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{id}")))
        .send()
        .await
        .unwrap();
    let raw = format!("{:?}", out.items.unwrap());
    for secret in secrets {
        assert!(!raw.contains(secret), "{secret} is stored in plaintext");
    }
    assert!(raw.contains("\"kid\""), "sealed values carry their key id");
    // And the event about the change names fields, not values.
    let sqs = aws_sdk_sqs::Client::new(s.sdk());
    let url = &s.running.stack.queue_urls["NotificationsQueue"];
    let msgs = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    for m in msgs.messages.unwrap_or_default() {
        for secret in secrets {
            assert!(!m.body().unwrap_or_default().contains(secret));
        }
    }
    // The owner still reads them.
    let r = s.get("/me/profile", Some(token)).await;
    assert_eq!(r.body["phone"], secrets[0]);
    assert_eq!(r.body["address"], secrets[1]);
    s.shutdown().await;
}
