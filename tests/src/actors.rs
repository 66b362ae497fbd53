//! Typed actors for tests that read as stories: `let employer = stack.employer().await;`,
//! `let job = employer.post_job(&company, &category, json!({})).await;`,
//! `seeker.apply(&job).await`. Each actor is a real account of the stack with its token.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{unique, Reply, TestStack, PASSWORD};

/// A signed-in account of a test stack.
pub struct User<'s> {
    pub stack: &'s TestStack,
    pub id: String,
    pub email: String,
    pub token: String,
}

/// The access token of a register or login reply.
pub fn token_of(body: &Value) -> String {
    body["access_token"].as_str().expect("an access token").to_string()
}

/// The `id` (or a category's `slug`) of a successful creating reply.
pub fn id_of(r: &Reply) -> String {
    assert!(r.status.is_success(), "{r:?}");
    r.body["id"].as_str().or(r.body["slug"].as_str()).expect("an id").to_string()
}

/// A job body with every required field, for `company` in `category`; `extra` overrides.
pub fn job_body(company: &str, category: &str, extra: Value) -> Value {
    let mut body = json!({
        "company_id": company, "title": "Backend engineer", "description": "Build things.",
        "location": {"city": "Berlin", "country": "DE"}, "workplace": "remote", "employment_type": "full_time",
        "experience_level": "mid", "category": category
    });
    for (k, v) in extra.as_object().expect("extra is an object") {
        body[k] = v.clone();
    }
    body
}

impl TestStack {
    async fn registered(&self, role: &str) -> User<'_> {
        let (email, body) = self.register(role).await;
        User {
            stack: self,
            id: body["user"]["id"].as_str().expect("a user id").to_string(),
            email,
            token: token_of(&body),
        }
    }
    /// A new job seeker.
    pub async fn seeker(&self) -> User<'_> {
        self.registered("seeker").await
    }
    /// A new employer, its address verified (the verification itself is tested through the
    /// API in abuse_accounts).
    pub async fn employer(&self) -> User<'_> {
        let u = self.registered("employer").await;
        self.mark_verified(&u.id).await;
        u
    }
    /// Marks an account's address verified, as POST /auth/email/verify would (test setup).
    pub async fn mark_verified(&self, user_id: &str) {
        auth::admin::vouch_for_email(self.running.app, user_id).await.expect("verified");
    }
    /// A new admin (made as the create-admin command makes them), signed in.
    pub async fn admin(&self) -> User<'_> {
        let email = format!("{}@example.com", unique("admin"));
        let id = auth::admin::create_admin(self.running.app, &email, PASSWORD, "Admin")
            .await
            .expect("admin created");
        let r = self.login(&email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        User {
            stack: self,
            id,
            email,
            token: token_of(&r.body),
        }
    }
}

impl User<'_> {
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.stack.send(method, path, body, Some(&self.token)).await
    }
    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send("PATCH", path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None).await
    }

    /// (employer) A company they own; its id.
    pub async fn create_company(&self, name: &str) -> String {
        id_of(&self.post("/companies", json!({ "name": name })).await)
    }
    /// (admin) A category with a unique name; its slug.
    pub async fn create_category(&self) -> String {
        id_of(
            &self
                .post("/categories", json!({ "name": format!("Category {}", unique("")) }))
                .await,
        )
    }
    /// (employer) A job of `company` in `category` (`extra` overrides fields); its id.
    pub async fn post_job(&self, company: &str, category: &str, extra: Value) -> String {
        id_of(&self.post("/jobs", job_body(company, category, extra)).await)
    }
    /// (seeker) Applies to `job` with `body`.
    pub async fn apply_with(&self, job: &str, body: Value) -> Reply {
        self.post(&format!("/jobs/{job}/applications"), body).await
    }
    /// (seeker) Applies to `job`; the application's id.
    pub async fn apply(&self, job: &str) -> String {
        id_of(&self.apply_with(job, json!({})).await)
    }
    /// (owner) Invites `member` to `company`, and `member` accepts.
    pub async fn add_member(&self, company: &str, member: &User<'_>) {
        let r = self
            .post(&format!("/companies/{company}/members"), json!({"email": member.email}))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
        let invitations = member.get("/me/invitations").await;
        let id = invitations.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["company_id"] == company)
            .expect("the invitation")["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = member.post(&format!("/me/invitations/{id}/accept"), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
    }
    /// (employer) Moves an application to `to`.
    pub async fn move_application(&self, application: &str, to: &str) -> Reply {
        self.patch(&format!("/applications/{application}/status"), json!({ "status": to }))
            .await
    }
}

/// The ids of a list's items.
pub fn ids(items: &[Value]) -> Vec<String> {
    items.iter().map(|j| j["id"].as_str().unwrap().to_string()).collect()
}

/// A category's open-job count as anyone reads it.
pub async fn open_count(s: &TestStack, slug: &str) -> i64 {
    s.get(&format!("/categories/{slug}"), None).await.body["open_job_count"]
        .as_i64()
        .unwrap()
}
