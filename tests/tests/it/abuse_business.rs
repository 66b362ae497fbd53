//! Business-flow abuse: only admins feature jobs.

use integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_feature_jobs() {
    let s = TestStack::start_with(false, false).await;
    let (admin, owner) = (s.admin().await, s.employer().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Shiny Inc").await;
    let r = owner
        .post(
            "/jobs",
            job_body(&company, &category, json!({"title": "Look at me", "featured": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    assert!(r.body["details"]["featured"].is_array(), "{r:?}");
    // The field is not the owner's to send at all, whatever its value (like `id`): the
    // answer does not depend on the job's state, so it is the same for every client.
    let r = owner
        .post(
            "/jobs",
            job_body(&company, &category, json!({"title": "Plain job", "featured": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
    let job = owner.post_job(&company, &category, json!({"title": "Plain job"})).await;
    for featured in [true, false] {
        let r = owner
            .patch(
                &format!("/jobs/{job}"),
                json!({"featured": featured, "title": "Plain job, renamed"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{r:?}");
        assert!(r.body["details"]["featured"].is_array(), "{r:?}");
    }
    let r = owner.get(&format!("/jobs/{job}")).await;
    assert_eq!(r.body["title"], "Plain job", "no partial write: {r:?}");
    assert!(s.get("/jobs/featured", None).await.body["items"].as_array().unwrap().is_empty());

    // The admin features it (no reason needed); it is listed and the decision is audited.
    let r = admin.patch(&format!("/admin/jobs/{job}"), json!({"featured": true})).await;
    assert_eq!((r.status, &r.body["featured"]), (StatusCode::OK, &json!(true)), "{r:?}");
    let featured = s.get("/jobs/featured", None).await;
    assert_eq!(ids(featured.body["items"].as_array().unwrap()), vec![job.clone()]);
    let audit = admin.get(&format!("/admin/audit?entity_type=job&entity_id={job}")).await;
    assert!(audit.body.to_string().contains("\"featured\":true"), "{audit:?}");
    // The owner still cannot undo it; nobody but admins reaches the admin route.
    let r = owner.patch(&format!("/jobs/{job}"), json!({"featured": false})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = owner.patch(&format!("/admin/jobs/{job}"), json!({"featured": false})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // An empty decision and a status without a reason are refused.
    assert_eq!(
        admin.patch(&format!("/admin/jobs/{job}"), json!({})).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = admin.patch(&format!("/admin/jobs/{job}"), json!({"status": "suspended"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["details"]["reason"].is_array(), "{r:?}");
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_removals_keep_one_owner_and_invitations_ask_first() {
    let s = TestStack::start().await;
    let (ada, bob) = (s.employer().await, s.employer().await);
    let company = ada.create_company("Two Owners Ltd").await;
    let members = format!("/companies/{company}/members");
    let r = ada.post(&members, json!({"email": bob.email, "role": "owner"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
    // Bob is told by email (an existing employer); an unknown address gets nothing.
    let ghost = format!("{}@example.com", unique("ghost"));
    ada.post(&members, json!({"email": ghost})).await;
    wait_for_email(&bob.email, "Join Two Owners Ltd", std::time::Duration::from_secs(15)).await;
    let invitation = bob.get("/me/invitations").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = bob.post(&format!("/me/invitations/{invitation}/accept"), json!({})).await;
    assert_eq!((r.status, &r.body["role"]), (StatusCode::OK, &json!("owner")), "{r:?}");
    assert!(emails_to(&ghost).await.is_empty());

    // Both owners leave at once: one may, the other is the last owner.
    let (ada_leaves, bob_leaves) = (format!("{members}/{}", ada.id), format!("{members}/{}", bob.id));
    let (a, b) = tokio::join!(ada.delete(&ada_leaves), bob.delete(&bob_leaves));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [204, 409], "{a:?} {b:?}");
    let left = if a.status == StatusCode::NO_CONTENT { &bob } else { &ada };
    let team = left.get(&members).await;
    let roles: Vec<&str> = team.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["owner"]);

    // An owner erased with the account lowers the count too: a second owner invited and
    // erased leaves the first as the last owner again.
    let carol = s.employer().await;
    left.post(&members, json!({"email": carol.email, "role": "owner"})).await;
    let id = carol.get("/me/invitations").await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        carol.post(&format!("/me/invitations/{id}/accept"), json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(carol.delete("/me").await.status, StatusCode::NO_CONTENT);
    let r = left.delete(&format!("{members}/{}", left.id)).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::CONFLICT, Some("last_owner")),
        "{r:?}"
    );
    s.shutdown().await;
}

/// Each quota is stated once (common::quota): the template passes every one to the
/// functions, and its parameter's default is the code's.
#[test]
fn the_template_states_every_quota_with_the_codes_default() {
    let t = devstack::template::Template::load(&devstack::default_template()).unwrap();
    for (var, default) in common::quota::Quotas::default().vars() {
        let reference = t.globals_env.get(var).map(|v| serde_yaml::to_string(v).unwrap());
        let param = reference
            .as_deref()
            .and_then(|r| r.trim().strip_prefix("!Ref "))
            .unwrap_or_else(|| panic!("{var} is not in the functions' environment: {reference:?}"));
        assert_eq!(
            t.parameters[param.trim()].as_deref(),
            Some(default.to_string().as_str()),
            "{var} ({param})"
        );
    }
    let in_template = t.globals_env.keys().filter(|k| k.starts_with("QUOTA_")).count();
    assert_eq!(
        in_template,
        common::quota::Quotas::default().vars().len(),
        "a QUOTA_ variable the code does not read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_hold_and_name_their_limit() {
    let s = TestStack::start_with_params(&[
        ("QuotaCompaniesPerEmployer", "1"),
        ("QuotaOpenJobsPerCompany", "2"),
        ("QuotaInterviewsPerApplication", "1"),
        ("QuotaReportsPerDay", "1"),
        ("QuotaSavedSearches", "1"),
        ("QuotaDevices", "1"),
        ("QuotaApplicationsPerDay", "1"),
        ("QuotaInvitationsPerDay", "3"),
    ])
    .await;
    let (admin, owner, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let quota = |r: &Reply, name: &str, limit: i64| {
        assert_eq!(r.body["error"], "quota_exceeded", "{r:?}");
        assert_eq!(
            (r.body["details"]["quota"].as_str(), r.body["details"]["limit"].as_i64()),
            (Some(name), Some(limit)),
            "{r:?}"
        );
    };
    // Companies per employer.
    let company = owner.create_company("Only One").await;
    let r = owner.post("/companies", json!({"name": "Second"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    quota(&r, "companies_per_employer", 1);
    // Open jobs per company: drafts do not count, publishing one does.
    let category = admin.create_category().await;
    let jobs: Vec<String> =
        futures::future::join_all((0..2).map(|i| owner.post_job(&company, &category, json!({"title": format!("Job {i}")})))).await;
    let r = owner.post("/jobs", job_body(&company, &category, json!({"title": "Third"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    quota(&r, "open_jobs_per_company", 2);
    let draft = owner
        .post("/jobs", job_body(&company, &category, json!({"title": "Draft", "status": "draft"})))
        .await;
    assert_eq!(draft.status, StatusCode::CREATED, "{draft:?}");
    let r = owner
        .patch(
            &format!("/jobs/{}", draft.body["id"].as_str().unwrap()),
            json!({"status": "published"}),
        )
        .await;
    quota(&r, "open_jobs_per_company", 2);
    assert_eq!(
        owner.delete(&format!("/jobs/{}", jobs[1])).await.status,
        StatusCode::NO_CONTENT,
        "closed"
    );
    let r = owner
        .patch(
            &format!("/jobs/{}", draft.body["id"].as_str().unwrap()),
            json!({"status": "published"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "room again: {r:?}");
    // Interviews per application.
    let application = seeker.apply(&jobs[0]).await;
    owner.move_application(&application, "reviewed").await;
    owner.move_application(&application, "shortlisted").await;
    let interview = |days: i64| json!({"scheduled_at": common::time::rfc3339(common::time::now_secs() + days * 86400), "duration_minutes": 30, "kind": "phone"});
    let path = format!("/applications/{application}/interviews");
    assert_eq!(owner.post(&path, interview(1)).await.status, StatusCode::CREATED);
    let r = owner.post(&path, interview(2)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    quota(&r, "interviews_per_application", 1);
    // Reports per day: 429, renewing tomorrow.
    assert_eq!(
        seeker
            .post(&format!("/jobs/{}/reports", jobs[0]), json!({"reason": "spam"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let other = draft.body["id"].as_str().unwrap();
    let r = seeker.post(&format!("/jobs/{other}/reports"), json!({"reason": "spam"})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    quota(&r, "reports_per_day", 1);
    assert!(r.headers.get("retry-after").is_some());
    // Saved searches and devices keep their own codes, with the limit in details.
    let saved = json!({"name": "One", "query": {"q": "rust"}});
    assert_eq!(seeker.post("/me/saved-searches", saved.clone()).await.status, StatusCode::CREATED);
    let r = seeker
        .post("/me/saved-searches", json!({"name": "Two", "query": {"q": "go"}}))
        .await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::CONFLICT, Some("too_many_saved_searches"))
    );
    assert_eq!(r.body["details"]["limit"], 1);
    assert_eq!(
        seeker
            .post("/me/devices", json!({"platform": "web", "token": unique("t")}))
            .await
            .status,
        StatusCode::CREATED
    );
    let r = seeker.post("/me/devices", json!({"platform": "web", "token": unique("t")})).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::CONFLICT, Some("too_many_devices"))
    );
    assert_eq!(r.body["details"]["limit"], 1);
    // Applications per seeker per day: the second one is 429 until tomorrow.
    let r = seeker.post(&format!("/jobs/{other}/applications"), json!({})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
    quota(&r, "applications_per_day", 1);
    assert!(r.headers.get("retry-after").is_some());
    // Invitations: one pending per company and address, and three a day per company.
    let carol = s.employer().await;
    let members = format!("/companies/{company}/members");
    let invite = |email: &str| owner.post(&members, json!({"email": email}));
    assert_eq!(invite(&carol.email).await.status, StatusCode::ACCEPTED);
    let r = invite(&carol.email.to_uppercase()).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (StatusCode::CONFLICT, Some("already_invited")),
        "{r:?}"
    );
    assert_eq!(invite("someone@example.com").await.status, StatusCode::ACCEPTED);
    let pending = carol.get("/me/invitations").await;
    let id = pending.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(pending.body["items"].as_array().unwrap().len(), 1, "{pending:?}");
    let declined = carol.post(&format!("/me/invitations/{id}/decline"), json!({})).await;
    assert_eq!(declined.status, StatusCode::NO_CONTENT);
    assert_eq!(
        invite(&carol.email).await.status,
        StatusCode::ACCEPTED,
        "answered: may be invited again"
    );
    let r = invite("another@example.com").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{r:?}");
    quota(&r, "invitations_per_day", 3);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_hide_internal_actors_and_admin_reads_are_on_the_record() {
    let s = TestStack::start_with(false, false).await;
    let (admin, owner, seeker) = (s.admin().await, s.employer().await, s.seeker().await);
    let category = admin.create_category().await;
    let company = owner.create_company("Quiet Actors").await;
    let job = owner.post_job(&company, &category, json!({"title": "Lighthouse keeper"})).await;
    let public_company = s.get(&format!("/companies/{company}"), None).await.body;
    assert!(public_company.get("owner_id").is_none(), "{public_company}");
    let public_job = s.get(&format!("/jobs/{job}"), None).await.body;
    assert!(public_job.get("posted_by").is_none(), "{public_job}");
    // The applicant's history says "company", not which employee.
    let application = seeker.apply(&job).await;
    owner.move_application(&application, "reviewed").await;
    let history = seeker.get(&format!("/applications/{application}/history")).await.body;
    let moves = history["items"].as_array().unwrap();
    assert_eq!(moves[1]["by"], "company");
    assert!(moves[1].get("actor_id").is_none(), "{history}");
    assert!(!history.to_string().contains(&owner.id));
    // A suspension tells the company why, not which admin.
    let r = admin
        .patch(
            &format!("/admin/jobs/{job}"),
            json!({"status": "suspended", "reason": "misleading title"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let seen = owner.get(&format!("/jobs/{job}")).await.body;
    assert_eq!(seen["moderation"]["reason"], "misleading title");
    assert!(!seen.to_string().contains(&admin.id), "{seen}");

    // Admin reads of private data and admin creation are audited.
    assert_eq!(admin.get("/admin/users?role=seeker").await.status, StatusCode::OK);
    assert_eq!(admin.get(&format!("/applications/{application}")).await.status, StatusCode::OK);
    let by_admin = admin.get(&format!("/admin/audit?actor_id={}&limit=50", admin.id)).await.body;
    let actions: Vec<&str> = by_admin["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"users.read_by_admin") && actions.contains(&"application.read_by_admin"),
        "{actions:?}"
    );
    let created = admin
        .get(&format!("/admin/audit?entity_type=user&entity_id={}", admin.id))
        .await
        .body;
    assert!(created.to_string().contains("user.admin_created"), "{created}");

    // Links people write cannot hide their host or point inside a network.
    for website in [
        "https://bank.example@evil.example",
        "http://169.254.169.254/",
        "https://intranet.corp",
        "http://[::1]/",
    ] {
        let r = owner.patch(&format!("/companies/{company}"), json!({"website": website})).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{website}: {r:?}");
    }
    s.shutdown().await;
}
