//! PATCH /me/profile: only the fields sent change, each checked by its rule
//! ([`crate::rules`]); personal fields are sealed; one transaction with the account (a new
//! name) and the `user.updated` event.

use common::api_doc::ErrorBody;
use common::db::s;
use common::error::Problems;
use common::events::{Actor, DomainEvent, UserUpdated};
use common::fields::Sealed;
use common::http::{authenticate, ok, parse_json, Request, Response};
use common::tx::{Cond, TxError};
use common::values::{website, Location, Salary};
use common::{ApiError, ApiResult, App};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::rules::{self, Education, Experience};
use crate::{context, load, Links, MyProfile, ProfileItem, Visibility};

/// PATCH body: only the fields sent change; `null` clears an optional field. Unknown fields
/// (also `role`, `email`, `id`) are refused with 422.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub full_name: Option<String>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub headline: Option<Option<String>>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    /// International form, e.g. `+49 30 1234567`.
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "common::values::nullable")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    #[serde(default, deserialize_with = "common::values::nullable_object")]
    #[schema(value_type = Option<Location>)]
    pub location: Option<Option<Location>>,
    pub skills: Option<Vec<String>>,
    #[serde(default, deserialize_with = "common::values::objects_opt")]
    pub education: Option<Vec<Education>>,
    #[serde(default, deserialize_with = "common::values::objects_opt")]
    pub experience: Option<Vec<Experience>>,
    #[serde(default, deserialize_with = "common::values::object_opt")]
    pub links: Option<Links>,
    pub visibility: Option<Visibility>,
    pub available_for_hire: Option<bool>,
    #[serde(default, deserialize_with = "common::values::nullable_object")]
    #[schema(value_type = Option<Salary>)]
    pub salary_expectation: Option<Option<Salary>>,
}

/// PATCH /me/profile
#[utoipa::path(patch, path = "/me/profile", tag = "profiles", request_body = ProfilePatch, security(("bearer" = [])),
    responses((status = 200, body = MyProfile), (status = 401, body = ErrorBody), (status = 409, description = "`concurrent_change`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn patch_mine(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    let body: ProfilePatch = parse_json(&req)?;
    let keys = app.field_keys()?;
    let checked = Checked::of(body)?;
    let (account, before, files) = load(app, &me.user_id).await?.ok_or_else(auth::account::gone)?;
    let seal = |field: &str, v: Option<String>| v.map(|v| keys.seal(&context(&me.user_id, field), &v));
    let new_name = checked.full_name.clone().flatten();
    let (mut after, mut changed) = checked.apply(&before, seal);
    if new_name.is_some() {
        changed.push("full_name");
    }
    if changed.is_empty() {
        return ok(&files.complete(app, before.mine(&keys, &account.full_name)?).await?);
    }
    let now = common::time::now_rfc3339();
    after.updated_at = Some(now.clone());
    after.version = before.version + 1;
    let name = new_name.clone().unwrap_or_else(|| account.full_name.clone());
    let tx = match &new_name {
        Some(n) => auth::account::writes_by_renaming(app, &me, &account, n, &now),
        None => auth::account::writes_by(app, &me),
    };
    let unchanged = match &before.updated_at {
        Some(prev) => Cond::new("updated_at = :prev").value(":prev", s(prev)),
        None => Cond::absent(),
    };
    // The event names what changed, never the personal values.
    let event = DomainEvent::UserUpdated(UserUpdated {
        user_id: me.user_id.clone(),
        changed: changed.iter().map(|c| c.to_string()).collect(),
        visibility: after.visibility,
        available_for_hire: after.available_for_hire,
    });
    match tx
        .put_if("profile", &after, unchanged)
        .emit(Actor::user(&me.user_id), event)
        .commit()
        .await
    {
        Err(TxError::Condition { part: "profile", .. }) => Err(ApiError::conflict(
            "concurrent_change",
            "the profile changed meanwhile; reload and retry",
        )),
        other => {
            other?;
            ok(&files.complete(app, after.mine(&keys, &name)?).await?)
        }
    }
}

/// A PATCH body's fields, each checked by its rule: `None` not sent, `Some(None)` sent but
/// invalid (the problem is recorded), `Some(Some(v))` the new value (`v` itself an `Option`
/// where the field may be cleared).
struct Checked {
    full_name: Option<Option<String>>,
    headline: Option<Option<Option<String>>>,
    bio: Option<Option<Option<String>>>,
    phone: Option<Option<Option<String>>>,
    address: Option<Option<Option<String>>>,
    location: Option<Option<Option<Location>>>,
    skills: Option<Option<Vec<String>>>,
    education: Option<Option<Vec<Education>>>,
    experience: Option<Option<Vec<Experience>>>,
    links: Option<Links>,
    visibility: Option<Visibility>,
    available_for_hire: Option<bool>,
    salary: Option<Option<Option<Salary>>>,
}

impl Checked {
    /// Every field by its rule; all problems at once (422).
    fn of(body: ProfilePatch) -> ApiResult<Checked> {
        let mut p = Problems::default();
        let full_name = body
            .full_name
            .as_deref()
            .map(|n| p.check("full_name", common::values::required_line(n, auth::rules::NAME_MAX)));
        let opt = |p: &mut Problems, field: &str, v: Option<Option<String>>, f: fn(&str) -> Result<Option<String>, &'static str>| {
            v.map(|v| p.check(field, f(v.as_deref().unwrap_or_default())))
        };
        let headline = opt(&mut p, "headline", body.headline, rules::headline);
        let bio = opt(&mut p, "bio", body.bio, rules::bio);
        let phone = opt(&mut p, "phone", body.phone, rules::phone);
        let address = opt(&mut p, "address", body.address, rules::address);
        let location = body.location.map(|l| match l {
            Some(l) => p.check("location", Location::parse(&l)).map(Some),
            None => Some(None),
        });
        let skills = body.skills.as_deref().map(|s| p.check("skills", rules::skills(s)));
        let education = body.education.as_deref().map(|e| p.check("education", rules::education(e)));
        let experience = body.experience.as_deref().map(|e| p.check("experience", rules::experience(e)));
        let links = body.links.map(|l| {
            let mut check = |field: &str, v: Option<String>| p.check(field, website(v.as_deref().unwrap_or_default())).flatten();
            Links {
                linkedin: check("links.linkedin", l.linkedin),
                github: check("links.github", l.github),
                website: check("links.website", l.website),
            }
        });
        let salary = body.salary_expectation.map(|s| match s {
            Some(s) => p.check("salary_expectation", Salary::parse(&s)).map(Some),
            None => Some(None),
        });
        p.into_result()?;
        Ok(Checked {
            full_name,
            headline,
            bio,
            phone,
            address,
            location,
            skills,
            education,
            experience,
            links,
            visibility: body.visibility,
            available_for_hire: body.available_for_hire,
            salary,
        })
    }

    /// `before` with the sent fields (the personal ones sealed by `seal`), and their names.
    fn apply(self, before: &ProfileItem, seal: impl Fn(&str, Option<String>) -> Option<Sealed>) -> (ProfileItem, Vec<&'static str>) {
        let mut after = before.clone();
        let mut changed: Vec<&'static str> = Vec::new();
        let mut mark = |name: &'static str| changed.push(name);
        if let Some(Some(v)) = self.headline {
            after.headline = v;
            mark("headline");
        }
        if let Some(Some(v)) = self.bio {
            after.bio = seal("bio", v);
            mark("bio");
        }
        if let Some(Some(v)) = self.phone {
            after.phone = seal("phone", v);
            mark("phone");
        }
        if let Some(Some(v)) = self.address {
            after.address = seal("address", v);
            mark("address");
        }
        if let Some(Some(v)) = self.location {
            after.location = v;
            mark("location");
        }
        if let Some(Some(v)) = self.skills {
            after.skills = v;
            mark("skills");
        }
        if let Some(Some(v)) = self.education {
            after.education = v;
            mark("education");
        }
        if let Some(Some(v)) = self.experience {
            after.experience = v;
            mark("experience");
        }
        if let Some(v) = self.links {
            after.links = v;
            mark("links");
        }
        if let Some(v) = self.visibility {
            after.visibility = v;
            mark("visibility");
        }
        if let Some(v) = self.available_for_hire {
            after.available_for_hire = v;
            mark("available_for_hire");
        }
        if let Some(Some(v)) = self.salary {
            after.salary_expectation = v;
            mark("salary_expectation");
        }
        (after, changed)
    }
}
