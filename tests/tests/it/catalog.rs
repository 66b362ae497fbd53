//! Companies and categories through the local gateway.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Employers (only they) create companies and own them (membership both ways); owners
/// change only what they send; nobody else changes anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn employers_create_and_own_companies() {
    let s = TestStack::start_with(false, false).await;
    let (owner, other, seeker) = (s.employer().await, s.employer().await, s.seeker().await);
    let id = step_only_employers_create_companies(&s, &owner, &seeker).await;
    step_the_owner_is_a_member_both_ways(&s, &owner, &other, &id).await;
    step_owners_change_only_what_they_send(&owner, &id).await;
    let r = other.patch(&format!("/companies/{id}"), json!({"name": "Mine now"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "another employer cannot change it");
    assert_eq!(s.get(&format!("/companies/{id}"), None).await.body["name"], "Acme Robotics");
    assert_eq!(s.get("/companies/not-an-id", None).await.status, StatusCode::NOT_FOUND);
    let nobody = s.get("/companies/01JABCDEFGHJKMNPQRSTVWXYZ0", None).await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    s.shutdown().await;
}

async fn step_only_employers_create_companies(s: &TestStack, owner: &User<'_>, seeker: &User<'_>) -> String {
    let body = json!({
        "name": "  Acme Robotics ", "description": "We build robots.", "website": "https://acme.example",
        "logo": "https://cdn.acme.example/logo.png", "location": {"city": "Berlin", "country": "de"}, "size": "51-200", "industry": "Robotics"
    });
    let r = seeker.post("/companies", body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "seekers do not create companies");
    assert_eq!(s.post("/companies", body.clone(), None).await.status, StatusCode::UNAUTHORIZED);
    let r = owner.post("/companies", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let company = r.body;
    let id = company["id"].as_str().unwrap().to_string();
    assert_eq!(company["name"], "Acme Robotics");
    assert_eq!(company["location"], json!({"city": "Berlin", "country": "DE"}));
    assert!(company.get("owner_id").is_none(), "no internal actor ids in public replies");
    assert_eq!(company["logo"], "https://cdn.acme.example/logo.png");
    assert_eq!(s.get(&format!("/companies/{id}"), None).await.body, company);
    id
}

async fn step_the_owner_is_a_member_both_ways(s: &TestStack, owner: &User<'_>, other: &User<'_>, id: &str) {
    let role = companies::membership(s.running.app, &owner.id, id).await.unwrap();
    assert_eq!(role, Some(companies::MemberRole::Owner));
    assert_eq!(companies::membership(s.running.app, &other.id, id).await.unwrap(), None);
}

/// Null clears; unknown fields and bad values are refused.
async fn step_owners_change_only_what_they_send(owner: &User<'_>, id: &str) {
    let path = format!("/companies/{id}");
    let r = owner.patch(&path, json!({"industry": "Automation", "website": null})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["industry"], "Automation");
    assert!(r.body["website"].is_null());
    assert_eq!(r.body["name"], "Acme Robotics");
    assert_eq!(r.body["size"], "51-200");
    let r = owner.patch(&path, json!({"owner_id": "someone"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = owner.patch(&path, json!({"website": "not a url"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["details"]["website"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_company_list_pages_to_the_end_newest_first() {
    let s = TestStack::start_with(false, false).await;
    // Two employers: each creates at most 5 (the quota).
    let (_, first) = s.register("employer").await;
    let (_, second) = s.register("employer").await;
    for e in [&first, &second] {
        s.mark_verified(e["user"]["id"].as_str().unwrap()).await;
    }
    let mut created = Vec::new();
    for i in 0..7 {
        let employer = if i % 2 == 0 { &first } else { &second };
        let r = s
            .post("/companies", json!({"name": format!("Company {i}")}), Some(&token_of(employer)))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        created.push(r.body["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/companies?limit=3&cursor={c}"),
            None => "/companies?limit=3".to_string(),
        };
        let r = s.get(&url, None).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        seen.extend(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len(), "no duplicates");
    created.reverse();
    assert_eq!(seen, created, "every company, newest first, no gaps");

    // Cursors are tamper-proof and bound to their list.
    let r = s.get("/companies?limit=2", None).await;
    let c = r.body["next_cursor"].as_str().unwrap().to_string();
    let mut altered = c.clone().into_bytes();
    altered[5] = if altered[5] == b'A' { b'B' } else { b'A' };
    let r = s
        .get(&format!("/companies?cursor={}", String::from_utf8(altered).unwrap()), None)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body["error"], "invalid_cursor");
    assert_eq!(
        s.get(&format!("/categories?cursor={c}"), None).await.status,
        StatusCode::BAD_REQUEST,
        "a foreign cursor"
    );
    assert_eq!(s.get("/companies?limit=500", None).await.status, StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

/// Admins (only they) create categories (slug from the name, unique), rename, deactivate
/// and reactivate them; the public list follows; every change is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_categories_and_every_change_is_audited() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let employer = s.employer().await;
    let name = format!("Data Science {}", unique(""));
    let slug = step_only_admins_create_categories(&admin, &employer, &name).await;
    step_rename_deactivate_reactivate(&s, &admin, &slug).await;
    assert_eq!(s.get("/categories/no-such-category", None).await.status, StatusCode::NOT_FOUND);
    step_every_change_is_audited(&s, &slug, &name).await;
    s.shutdown().await;
}

async fn listed(s: &TestStack, slug: &str) -> bool {
    let r = s.get("/categories?limit=100", None).await;
    r.body["items"].as_array().unwrap().iter().any(|c| c["slug"] == slug)
}

/// The same slug again is 409, also from a differently written name.
async fn step_only_admins_create_categories(admin: &User<'_>, employer: &User<'_>, name: &str) -> String {
    let body = json!({"name": name, "description": "Numbers"});
    assert_eq!(employer.post("/categories", body.clone()).await.status, StatusCode::FORBIDDEN);
    let r = admin.post("/categories", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{r:?}");
    let slug = r.body["slug"].as_str().unwrap().to_string();
    assert!(slug.starts_with("data-science-"), "{slug}");
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["open_job_count"], 0);
    let r = admin.post("/categories", json!({"name": name.to_uppercase()})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["error"], "slug_taken");
    assert!(listed(admin.stack, &slug).await);
    slug
}

async fn step_rename_deactivate_reactivate(s: &TestStack, admin: &User<'_>, slug: &str) {
    let path = format!("/categories/{slug}");
    let r = admin.patch(&path, json!({"description": null, "name": "Data & AI"})).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body["name"], "Data & AI");
    assert_eq!(r.body["slug"], slug, "the slug never changes");
    assert!(r.body["description"].is_null());
    assert_eq!(admin.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert!(!listed(s, slug).await, "deactivated categories leave the list");
    assert_eq!(s.get(&path, None).await.body["active"], false);
    assert_eq!(admin.patch(&path, json!({"active": true})).await.body["active"], true);
    assert!(listed(s, slug).await);
}

/// Four admin actions on the category, with actor and before/after.
async fn step_every_change_is_audited(s: &TestStack, slug: &str, name: &str) {
    let out = aws_sdk_dynamodb::Client::new(s.sdk())
        .query()
        .table_name(s.running.app.table())
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("AUDIT#category#{slug}")))
        .send()
        .await
        .unwrap();
    let entries: Vec<common::audit::AuditEntry> = out
        .items
        .unwrap()
        .into_iter()
        .map(|i| serde_dynamo::from_item(i).unwrap())
        .collect();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["category.created", "category.updated", "category.deactivated", "category.updated"]
    );
    assert!(entries[0].before.is_none() && entries[0].after.is_some());
    assert_eq!(entries[1].before.as_ref().unwrap()["name"], name);
    assert_eq!(entries[1].after.as_ref().unwrap()["name"], "Data & AI");
    assert!(entries.iter().all(|e| e.actor_role == common::token::Role::Admin));
}

/// An owner invites an employer colleague by email (the same reply for seekers and unknown
/// addresses; malformed ones refused; members do not invite); the colleague accepts, posts
/// and edits the company's jobs until removed; the last owner stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_invite_colleagues_who_accept_then_post_and_edit_jobs() {
    let s = TestStack::start_with(false, false).await;
    let admin = s.admin().await;
    let (owner, colleague, outsider) = (s.employer().await, s.employer().await, s.employer().await);
    let seeker = s.seeker().await;
    let company = owner.create_company("Team Co").await;
    let job = job_body(&company, &admin.create_category().await, json!({"title": "SRE"}));
    let members = format!("/companies/{company}/members");
    assert_eq!(
        colleague.post("/jobs", job.clone()).await.status,
        StatusCode::FORBIDDEN,
        "not a member yet"
    );

    step_invitations_need_consent(&s, &owner, &colleague, &outsider, &seeker, &company).await;
    step_members_see_the_team(&colleague, &outsider, &members).await;
    let job_path = format!("/jobs/{}", id_of(&colleague.post("/jobs", job.clone()).await));
    assert_eq!(owner.patch(&job_path, json!({"title": "Senior SRE"})).await.status, StatusCode::OK);
    step_removal_ends_the_colleagues_rights(&owner, &colleague, &members, &job_path, job).await;
    s.shutdown().await;
}

async fn invitation_ids(u: &User<'_>) -> Vec<String> {
    let r = u.get("/me/invitations").await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    ids(r.body["items"].as_array().unwrap())
}

async fn step_invitations_need_consent(
    s: &TestStack,
    owner: &User<'_>,
    colleague: &User<'_>,
    outsider: &User<'_>,
    seeker: &User<'_>,
    company: &str,
) {
    let members = format!("/companies/{company}/members");
    // The same reply whatever the address holds; nobody joins yet.
    let mut replies = Vec::new();
    for email in [seeker.email.as_str(), "nobody@example.com", &colleague.email.to_uppercase()] {
        let r = owner.post(&members, json!({ "email": email })).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{email}: {r:?}");
        replies.push(r.body.as_object().unwrap().keys().cloned().collect::<Vec<_>>());
    }
    assert!(replies.windows(2).all(|w| w[0] == w[1]), "{replies:?}");
    let r = owner.post(&members, json!({"email": "not-an-email"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(owner.get(&members).await.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        outsider.post(&members, json!({"email": outsider.email})).await.status,
        StatusCode::NOT_FOUND
    );
    // A seeker invited by address neither lists nor answers company invitations (only
    // employers join companies); the colleague accepts once.
    assert_eq!(seeker.get("/me/invitations").await.status, StatusCode::FORBIDDEN);
    let r = seeker
        .post(&format!("/me/invitations/{}/accept", ulid::Ulid::new()), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mine = invitation_ids(colleague).await;
    assert_eq!(mine.len(), 1);
    assert!(
        outsider
            .post(&format!("/me/invitations/{}/accept", mine[0]), json!({}))
            .await
            .status
            .is_client_error(),
        "not the invitee's"
    );
    let r = colleague.post(&format!("/me/invitations/{}/accept", mine[0]), json!({})).await;
    assert_eq!((r.status, &r.body["role"]), (StatusCode::OK, &json!("member")), "{r:?}");
    let r = colleague.post(&format!("/me/invitations/{}/accept", mine[0]), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "used");
    // Invited again while a member: accepting is a conflict. Members do not invite.
    owner.post(&members, json!({"email": colleague.email})).await;
    let again = invitation_ids(colleague).await;
    let r = colleague.post(&format!("/me/invitations/{}/accept", again[0]), json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let third = s.employer().await;
    let r = colleague.post(&members, json!({"email": third.email})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "members do not invite");
    // Declined and expired invitations are gone.
    owner.post(&members, json!({"email": third.email})).await;
    let theirs = invitation_ids(&third).await;
    let r = third.post(&format!("/me/invitations/{}/decline", theirs[0]), json!({})).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(invitation_ids(&third).await.is_empty());
    owner.post(&members, json!({"email": third.email})).await;
    let late = invitation_ids(&third).await;
    let app = s.running.app;
    app.dynamo()
        .update_item()
        .table_name(app.table())
        .set_key(Some(common::db::key(
            format!("INVITES#{}", third.email),
            format!("INVITE#{}", late[0]),
        )))
        .update_expression("SET expires_at_secs = :past")
        .expression_attribute_values(":past", common::db::n(common::time::now_secs() - 1))
        .send()
        .await
        .unwrap();
    assert!(invitation_ids(&third).await.is_empty(), "expired");
    let r = third.post(&format!("/me/invitations/{}/accept", late[0]), json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn step_members_see_the_team(colleague: &User<'_>, outsider: &User<'_>, members: &str) {
    let listed = colleague.get(members).await;
    assert_eq!(listed.status, StatusCode::OK);
    let roles: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["owner", "member"]);
    assert_eq!(outsider.get(members).await.status, StatusCode::NOT_FOUND);
}

async fn step_removal_ends_the_colleagues_rights(owner: &User<'_>, colleague: &User<'_>, members: &str, job_path: &str, job: Value) {
    let r = owner.delete(&format!("{members}/{}", owner.id)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the last owner stays");
    assert_eq!(
        colleague.delete(&format!("{members}/{}", owner.id)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        owner.delete(&format!("{members}/{}", colleague.id)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        colleague.patch(job_path, json!({"title": "Mine"})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(colleague.post("/jobs", job).await.status, StatusCode::FORBIDDEN);
}
