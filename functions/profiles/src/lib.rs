//! Profiles (API.md, "Me, profiles, candidates"): personal and professional details,
//! skills, education, experience, links, privacy, availability, salary expectation.
//!
//! Item: `PK = USER#<id>`, `SK = PROFILE`, beside the account (`SK = ACCOUNT`, which keeps
//! `full_name`). Phone, address and bio are sealed with AES-256-GCM (`common::fields`),
//! bound to the user and field, with the key id beside each value: the table never holds
//! them in plaintext. Profiles are private until their owner makes them public.

pub mod patch;
pub mod rules;

use auth::account::Summary;
use common::api_doc::ErrorBody;
use common::db;
use common::fields::{FieldKeys, Sealed};
use common::http::{authenticate, ok, Request, Response};
use common::values::{Location, Salary};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rules::{Education, Experience};
pub use common::vocab::Visibility;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Links {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkedin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
}

/// The stored profile (personal fields sealed).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct ProfileItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    user_id: String,
    #[serde(default)]
    headline: Option<String>,
    #[serde(default)]
    bio: Option<Sealed>,
    #[serde(default)]
    phone: Option<Sealed>,
    #[serde(default)]
    address: Option<Sealed>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    skills: Vec<String>,
    #[serde(default)]
    education: Vec<Education>,
    #[serde(default)]
    experience: Vec<Experience>,
    #[serde(default)]
    links: Links,
    #[serde(default)]
    visibility: Visibility,
    #[serde(default)]
    available_for_hire: bool,
    #[serde(default)]
    salary_expectation: Option<Salary>,
    #[serde(default)]
    updated_at: Option<String>,
    /// Counts the profile's writes: search orders its copies by it.
    #[serde(default)]
    version: u64,
}

/// The caller's own profile.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct MyProfile {
    pub user_id: String,
    pub full_name: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    /// Never shown to others.
    pub phone: Option<String>,
    /// Never shown to others.
    pub address: Option<String>,
    pub location: Option<Location>,
    pub skills: Vec<String>,
    pub education: Vec<Education>,
    pub experience: Vec<Experience>,
    pub links: Links,
    /// `private` (default) or `public`.
    pub visibility: Visibility,
    pub available_for_hire: bool,
    /// Never shown to others.
    pub salary_expectation: Option<Salary>,
    pub updated_at: Option<String>,
    /// The attached resume and the outcome of the last upload (a rejected one says why).
    pub resume: files::FileState,
    pub avatar: files::FileState,
    /// A short-lived URL of the avatar image.
    pub avatar_url: Option<String>,
}

/// What anyone may see of a public profile.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct PublicProfile {
    pub user_id: String,
    pub full_name: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub location: Option<Location>,
    pub skills: Vec<String>,
    pub education: Vec<Education>,
    pub experience: Vec<Experience>,
    pub links: Links,
    pub available_for_hire: bool,
    /// A short-lived URL of the avatar image.
    pub avatar_url: Option<String>,
}

fn context(user_id: &str, field: &str) -> String {
    format!("user:{user_id}:{field}")
}

fn open(keys: &FieldKeys, user_id: &str, field: &str, v: &Option<Sealed>) -> ApiResult<Option<String>> {
    v.as_ref().map(|s| keys.open(&context(user_id, field), s)).transpose()
}

impl ProfileItem {
    fn empty(user_id: &str) -> Self {
        ProfileItem {
            pk: auth::account::partition(user_id),
            sk: "PROFILE".into(),
            entity: "profile".into(),
            user_id: user_id.into(),
            ..Default::default()
        }
    }
    fn mine(&self, keys: &FieldKeys, full_name: &str) -> ApiResult<MyProfile> {
        let u = &self.user_id;
        Ok(MyProfile {
            user_id: u.clone(),
            full_name: full_name.to_string(),
            headline: self.headline.clone(),
            bio: open(keys, u, "bio", &self.bio)?,
            phone: open(keys, u, "phone", &self.phone)?,
            address: open(keys, u, "address", &self.address)?,
            location: self.location.clone(),
            skills: self.skills.clone(),
            education: self.education.clone(),
            experience: self.experience.clone(),
            links: self.links.clone(),
            visibility: self.visibility,
            available_for_hire: self.available_for_hire,
            salary_expectation: self.salary_expectation.clone(),
            updated_at: self.updated_at.clone(),
            resume: files::FileState::default(),
            avatar: files::FileState::default(),
            avatar_url: None,
        })
    }
    fn public(&self, keys: &FieldKeys, full_name: &str) -> ApiResult<PublicProfile> {
        Ok(PublicProfile {
            user_id: self.user_id.clone(),
            full_name: full_name.to_string(),
            headline: self.headline.clone(),
            bio: open(keys, &self.user_id, "bio", &self.bio)?,
            location: self.location.clone(),
            skills: self.skills.clone(),
            education: self.education.clone(),
            experience: self.experience.clone(),
            links: self.links.clone(),
            available_for_hire: self.available_for_hire,
            avatar_url: None,
        })
    }
}

/// The files a profile shows.
#[derive(Default)]
struct Files {
    resume: files::FileState,
    avatar: files::FileState,
}

impl Files {
    /// Adds the file states and an avatar URL (valid for an hour) to the caller's view.
    async fn complete(self, app: &App, mut mine: MyProfile) -> ApiResult<MyProfile> {
        mine.avatar_url = avatar_url(app, &self.avatar).await?;
        mine.resume = self.resume.public();
        mine.avatar = self.avatar.public();
        Ok(mine)
    }
}

async fn avatar_url(app: &App, avatar: &files::FileState) -> ApiResult<Option<String>> {
    match &avatar.current {
        Some(f) => Ok(Some(files::download_url(app, &f.key, &f.content_type, "avatar", 3600).await?.0)),
        None => Ok(None),
    }
}

/// The account's name and status, the profile and its files, in one consistent read.
async fn load(app: &App, user_id: &str) -> ApiResult<Option<(Summary, ProfileItem, Files)>> {
    let keys = vec![
        auth::account::key(user_id),
        db::key(auth::account::partition(user_id), "PROFILE"),
        files::file_key(user_id, files::rules::Kind::Resume),
        files::file_key(user_id, files::rules::Kind::Avatar),
    ];
    let mut items = db::get_many(app, keys).await?.into_iter();
    let account = items.next().flatten().map(db::from_item::<Summary>).transpose()?;
    let profile = items.next().flatten().map(db::from_item::<ProfileItem>).transpose()?;
    let files = Files {
        resume: files::state_of(items.next().flatten())?,
        avatar: files::state_of(items.next().flatten())?,
    };
    Ok(account.map(|a| (a, profile.unwrap_or_else(|| ProfileItem::empty(user_id)), files)))
}

/// GET /me/profile
#[utoipa::path(get, path = "/me/profile", tag = "profiles", security(("bearer" = [])),
    responses((status = 200, body = MyProfile), (status = 401, body = ErrorBody)))]
pub async fn get_mine(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let keys = app.field_keys()?;
    let (account, profile, files) = load(app, &me.user_id).await?.ok_or_else(auth::account::gone)?;
    ok(&files.complete(app, profile.mine(&keys, &account.full_name)?).await?)
}

/// The caller's profile as GET /me/profile shows it and the attached resume (for the data
/// export); `None` when the account does not exist.
pub async fn export(app: &App, user_id: &str) -> ApiResult<Option<(MyProfile, Option<files::StoredFile>)>> {
    let keys = app.field_keys()?;
    let Some((account, profile, files)) = load(app, user_id).await? else {
        return Ok(None);
    };
    let resume = files.resume.current.clone();
    Ok(Some((files.complete(app, profile.mine(&keys, &account.full_name)?).await?, resume)))
}

/// What search may know of a seeker: never phone, address, bio, salary wish or email.
#[derive(Clone, Debug, PartialEq)]
pub struct Searchable {
    pub user_id: String,
    pub full_name: String,
    pub headline: Option<String>,
    pub skills: Vec<String>,
    pub experience: Vec<Experience>,
    pub location: Option<Location>,
    /// Public, available for hire, and an active seeker account: a candidate.
    pub listed: bool,
    /// Grows with every write of the profile or of the account's state.
    pub version: u64,
}

/// The seeker as search sees them; `None` when the account is gone.
pub async fn searchable(app: &App, user_id: &str) -> ApiResult<Option<Searchable>> {
    let (account, profile) = db::get_pair::<auth::account::Versioned, ProfileItem>(
        app,
        auth::account::key(user_id),
        db::key(auth::account::partition(user_id), "PROFILE"),
    )
    .await?;
    let Some(account) = account else { return Ok(None) };
    let profile = profile.unwrap_or_else(|| ProfileItem::empty(user_id));
    let listed = account.summary.is_active()
        && account.summary.role == common::token::Role::Seeker
        && profile.visibility == Visibility::Public
        && profile.available_for_hire;
    let experience = profile
        .experience
        .into_iter()
        .map(|e| Experience { description: None, ..e })
        .collect();
    Ok(Some(Searchable {
        user_id: user_id.to_string(),
        full_name: account.summary.full_name,
        headline: profile.headline,
        skills: profile.skills,
        experience,
        location: profile.location,
        listed,
        version: profile.version + account.session_version,
    }))
}

/// GET /profiles/{user_id}: public profiles; private ones are 404 except to members of
/// companies the seeker applied to.
#[utoipa::path(get, path = "/profiles/{user_id}", tag = "profiles", params(("user_id" = String, Path)),
    responses((status = 200, body = PublicProfile), (status = 404, description = "no such profile, or it is private (and the caller's company got no application from them)", body = ErrorBody)))]
pub async fn get_public(app: &'static App, req: Request) -> ApiResult<Response> {
    let id = common::http::id_param(&req, "user_id", "profile")?;
    let not_found = || ApiError::not_found("no such profile");
    let keys = app.field_keys()?;
    let (account, profile, files) = load(app, &id).await?.ok_or_else(not_found)?;
    if !account.is_active() {
        return Err(not_found());
    }
    if profile.visibility != Visibility::Public && !opened_to_caller(app, &req, &id).await? {
        return Err(not_found());
    }
    let mut public = profile.public(&keys, &account.full_name)?;
    public.avatar_url = avatar_url(app, &files.avatar).await?;
    ok(&public)
}

/// A private profile opens to the members of companies the seeker applied to.
async fn opened_to_caller(app: &App, req: &Request, seeker_id: &str) -> ApiResult<bool> {
    let Ok(caller) = authenticate(app, req).await else {
        return Ok(false);
    };
    if caller.role != common::token::Role::Employer {
        return Ok(false);
    }
    let companies = companies::memberships(app, &caller.user_id).await?;
    applications::applied_to_any(app, seeker_id, &companies).await
}

common::functions! {
    openapi(tags((name = "profiles", description = "Profiles, privacy, personal data encrypted per field")));
    http {
        "profiles-me-get" => get_mine: table(&[Get]).field_keys().uploads(&[(&[GetObject], "files/avatar/*")]),
        "profiles-me-patch" => patch::patch_mine: table(&[Get, Put, Update, ConditionCheck]).field_keys().uploads(&[(&[GetObject], "files/avatar/*")]),
        "profiles-public" => get_public: table(&[Get, Query]).indexes().field_keys().uploads(&[(&[GetObject], "files/avatar/*")]),
    }
}
