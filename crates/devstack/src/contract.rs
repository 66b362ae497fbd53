//! What every operation shares, stated in the OpenAPI document once instead of on each
//! handler: the statuses the common layers answer with (common::http: malformed or missing
//! bodies, sizes, tokens, rate limits), the security of each route, the constraints of the
//! shared query parameters, and links from each create to what operates on what it created.
//! schemathesis (scripts/contract.sh, part of `make test`) checks the result against the
//! running platform.

use serde_json::{json, Map, Value};

mod query;
use query::{constrain_parameters, SLUG};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn error(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}})
}

/// Adds `status` unless the handler documented it (its description is more precise).
fn add_status(op: &mut Map<String, Value>, status: &str, description: &str) {
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    if let Some(r) = responses.as_object_mut() {
        r.entry(status.to_string()).or_insert_with(|| error(description));
        if r.get(status).and_then(|v| v.get("description")).and_then(Value::as_str) == Some("") {
            r[status]["description"] = json!(description);
        }
    }
}

fn params(op: &Map<String, Value>, place: &str) -> Vec<String> {
    op.get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter(|p| p["in"] == place)
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn bearer_only(op: &Map<String, Value>) -> bool {
    op.get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty() && s.iter().all(|r| r.get("bearer").is_some()))
}

/// The statuses common::http answers with for every route of a kind, and each route's
/// security stated (anonymous routes take a token if there is one: it is what their rate
/// budget counts).
fn complete_responses(path: &str, method: &str, op: &mut Map<String, Value>) {
    let route = format!("{} {path}", method.to_uppercase());
    let counted = !common::http::UNLIMITED.contains(&route.as_str());
    if bearer_only(op) {
        add_status(op, "401", "`missing_token`, `invalid_token`, `token_expired`: sign in again");
        add_status(op, "403", "`forbidden` (role), `account_suspended`");
    } else if counted {
        op.insert("security".into(), json!([{}, {"bearer": []}]));
    } else {
        op.insert("security".into(), json!([{}]));
    }
    if op.contains_key("requestBody") {
        add_status(op, "400", "`bad_request`: the body is missing, not JSON or not an object");
        add_status(op, "413", "`payload_too_large`: the body is over 64 KiB");
        add_status(op, "415", "`unsupported_media_type`: a body that is not `application/json`");
        add_status(op, "422", "`validation_failed`: `details` names each invalid field");
    }
    if !params(op, "query").is_empty() || !params(op, "header").is_empty() {
        add_status(
            op,
            "400",
            "a query parameter or header is invalid (`invalid_limit`, `invalid_cursor`, `invalid_filter`, ...)",
        );
    }
    let filters_as_fields = ["/search/", "/candidates", "/analytics/", "/admin/analytics"];
    if !params(op, "query").is_empty() && filters_as_fields.iter().any(|p| path.starts_with(p)) {
        add_status(
            op,
            "422",
            "`invalid_filter` / `validation_failed`: `details` names each invalid parameter",
        );
    }
    if !params(op, "path").is_empty() {
        add_status(op, "404", "`not_found`: no such resource (or not yours to see)");
    }
    if counted {
        add_status(
            op,
            "429",
            "`rate_limited`: over this caller's budget; retry after `Retry-After` seconds",
        );
        op["responses"]["429"]["headers"] = json!({
            "Retry-After": {"description": "seconds until the budget allows this caller again", "schema": {"type": "integer", "minimum": 0}}
        });
    }
}

/// Links from each creating POST to the operations on what it created, so stateful clients
/// and tests can chain them: `P/{id}` and its sub-resources (`P/{id}/...`), where `P` is the
/// POST's path, the resource's own root for nested creations (`/applications/{id}/interviews`
/// creates under `/interviews/{id}`), and its analytics (`/analytics/jobs/{id}`).
fn links(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object().cloned() else { return };
    for (path, item) in &paths {
        let Some(post) = item.get("post") else { continue };
        let status = if post["responses"].get("201").is_some() { "201" } else { "200" };
        if post["responses"][status].get("content").is_none() {
            continue;
        }
        let own_root = path.rsplit('/').next().map(|last| format!("/{last}")).filter(|r| r != path);
        let roots: Vec<String> = std::iter::once(path.clone()).chain(own_root).collect();
        let roots: Vec<String> = roots.iter().flat_map(|r| [r.clone(), format!("/analytics{r}")]).collect();
        let mut out = Map::new();
        for (other, other_item) in &paths {
            let Some((param, rest)) = roots.iter().find_map(|r| {
                let inner = other.strip_prefix(r.as_str())?.strip_prefix("/{")?;
                let (param, rest) = inner.split_once('}')?;
                (!rest.contains('{') && (rest.is_empty() || rest.starts_with('/'))).then_some((param, rest))
            }) else {
                continue;
            };
            let source = if param == "slug" {
                "$response.body#/slug"
            } else {
                "$response.body#/id"
            };
            for method in ["get", "patch", "delete", "post"] {
                if method == "post" && rest.is_empty() {
                    continue;
                }
                if let Some(id) = other_item.get(method).and_then(|o| o["operationId"].as_str()) {
                    out.insert(id.to_string(), json!({"operationId": id, "parameters": {param: source}}));
                }
            }
        }
        if !out.is_empty() {
            doc["paths"][path]["post"]["responses"][status]["links"] = Value::Object(out);
        }
    }
}

/// Applies the above to the serialised document.
pub fn complete(doc: &mut Value) {
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            for method in METHODS {
                if let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) {
                    complete_responses(path, method, op);
                    constrain_parameters(path, op);
                }
            }
        }
    }
    links(doc);
    constrain_schemas(doc);
    object_rules(doc);
}

/// Text as common::values reads it: no control characters but newline and tab.
const TEXT: &str = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*$";
/// Required text: also something besides whitespace.
const REQUIRED_TEXT: &str = r"^[^\x00-\x08\x0B-\x1F\x7F-\x9F]*[^\s\x00-\x08\x0B-\x1F\x7F-\x9F][^\x00-\x08\x0B-\x1F\x7F-\x9F]*$";
/// A single-line text as common::values::breaks_line reads it: no line or paragraph break, no
/// control, bidi-override or zero-width character.
const LINE_CHARS: &str = r"\x00-\x1F\x7F-\x9F\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u2069\uFEFF";

/// auth::rules::Email (surrounding whitespace is ignored; stored lower-case).
const EMAIL: &str = r"^\s*[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@([A-Za-z0-9-]+\.)+[A-Za-z0-9-]+\s*$";
/// common::values::website: an absolute http(s) URL to a public host name; a path of RFC
/// 3986 characters and percent-escapes.
const URL: &str = r"^\s*https?://([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(/([A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)?\s*$";
/// profiles::rules months: `YYYY-MM`, years 1900 to 2100.
const MONTH: &str = r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])$";
const ULID: &str = r"^\s*[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}\s*$";

fn text(max: usize) -> Value {
    json!({"maxLength": max, "pattern": TEXT})
}
fn required_text(max: usize) -> Value {
    json!({"minLength": 1, "maxLength": max, "pattern": REQUIRED_TEXT})
}
fn line(max: usize) -> Value {
    json!({"maxLength": max, "pattern": format!("^[^{LINE_CHARS}]*$")})
}
fn required_line(max: usize) -> Value {
    json!({"minLength": 1, "maxLength": max, "pattern": format!(r"^[^{LINE_CHARS}]*[^\s{LINE_CHARS}][^{LINE_CHARS}]*$")})
}
fn skills(items: usize, max: usize) -> Value {
    let mut item = required_line(max);
    item["type"] = json!("string");
    json!({"maxItems": items, "items": item})
}
fn email() -> Value {
    json!({"maxLength": auth::rules::EMAIL_MAX, "pattern": EMAIL})
}
fn password() -> Value {
    json!({"$ref": "#/components/schemas/NewPassword"})
}

/// auth::rules::Password: 8 to 128 characters, not only spaces, not one of the commonly used
/// passwords it refuses (compared in lower case).
fn new_password_schema() -> Value {
    let common: Vec<&str> = include_str!("../../../functions/auth/data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    json!({"type": "string", "minLength": auth::rules::PASSWORD_MIN, "maxLength": auth::rules::PASSWORD_MAX, "pattern": r"\S",
           "not": {"enum": common},
           "description": "8 to 128 characters, not only spaces, not a commonly used password (compared in any case)"})
}
/// A link that may be cleared with an empty string (or only spaces).
fn url_or_empty() -> Value {
    json!({"maxLength": common::values::URL_MAX, "pattern": format!("({})|(^\\s*$)", URL)})
}

/// The constraints each request field's parser enforces, by property and the schemas that
/// share the rule (merged into the generated schema; a `null` where the type allows it stays
/// allowed).
fn field_rules() -> Vec<(&'static [&'static str], &'static str, Value)> {
    use common::values::{LAT_MAX, LON_MAX};
    use jobs::rules as job;
    use profiles::rules as profile;
    vec![
        // (forgot and resend answer 202 to any string: no address is told apart from another.)
        (&["RegisterBody", "ResetBody", "VerifyBody", "Invite"], "email", email()),
        (&["RegisterBody"], "password", password()),
        (&["RegisterBody", "ProfilePatch"], "full_name", required_line(auth::rules::NAME_MAX)),
        (&["RegisterBody"], "role", json!({"enum": ["seeker", "employer"]})),
        (&["LoginBody"], "email", json!({"maxLength": 1024})),
        (&["LoginBody"], "password", json!({"maxLength": 1024})),
        (&["ChangeBody", "ResetBody"], "new_password", password()),
        (
            &["ResetBody", "VerifyBody"],
            "code",
            json!({"pattern": r"^\s*[0-9]{8}\s*$", "description": "the 8 digits from the email"}),
        ),
        (
            &["CreateCategory", "UpdateCategory"],
            "name",
            required_line(categories::rules::NAME_MAX),
        ),
        (
            &["CreateCategory", "UpdateCategory"],
            "description",
            text(categories::rules::DESCRIPTION_MAX),
        ),
        (
            &["CreateCompany", "UpdateCompany"],
            "name",
            required_line(companies::rules::NAME_MAX),
        ),
        (
            &["CreateCompany", "UpdateCompany"],
            "description",
            text(companies::rules::DESCRIPTION_MAX),
        ),
        (
            &["CreateCompany", "UpdateCompany"],
            "industry",
            line(companies::rules::INDUSTRY_MAX),
        ),
        (&["CreateCompany", "UpdateCompany", "Links"], "website", url_or_empty()),
        (&["CreateCompany", "UpdateCompany"], "logo", url_or_empty()),
        (&["Location"], "city", required_line(common::values::CITY_MAX)),
        (&["Location"], "region", line(common::values::REGION_MAX)),
        (&["Location"], "country", json!({"pattern": r"^\s*[A-Za-z]{2}\s*$"})),
        (&["Location"], "lat", json!({"minimum": -LAT_MAX, "maximum": LAT_MAX})),
        (&["Location"], "lon", json!({"minimum": -LON_MAX, "maximum": LON_MAX})),
        (&["Salary"], "currency", json!({"pattern": r"^\s*[A-Za-z]{3}\s*$"})),
        (&["Salary"], "min", json!({"minimum": 0, "maximum": common::values::SALARY_MAX})),
        (&["Salary"], "max", json!({"minimum": 0, "maximum": common::values::SALARY_MAX})),
        (&["CreateJob", "UpdateJob"], "title", required_line(job::TITLE_MAX)),
        (&["CreateJob", "UpdateJob"], "description", required_text(job::DESCRIPTION_MAX)),
        (&["CreateJob", "UpdateJob"], "requirements", text(job::SECTION_MAX)),
        (&["CreateJob", "UpdateJob"], "responsibilities", text(job::SECTION_MAX)),
        (&["CreateJob", "UpdateJob"], "benefits", text(job::SECTION_MAX)),
        (&["CreateJob", "UpdateJob"], "skills", skills(job::SKILLS_MAX, job::SKILL_MAX)),
        (&["CreateJob", "EventIn"], "company_id", json!({"pattern": ULID})),
        // The form of a slug; one that names no active category is a 422 on `category`.
        (
            &["CreateJob", "UpdateJob"],
            "category",
            json!({"pattern": format!(r"^\s*{SLUG}\s*$")}),
        ),
        // In the future and within a year (422 otherwise): a relative bound no schema states.
        (&["CreateJob", "UpdateJob"], "application_deadline", json!({"format": "date-time"})),
        (&["CreateReport"], "details", text(jobs::moderation::DETAILS_MAX)),
        (&["ModerateJob"], "reason", required_text(jobs::moderation::MODERATION_REASON_MAX)),
        (&["UpdateUser"], "reason", text(admin::REASON_MAX)),
        (&["Apply"], "cover_letter", text(applications::rules::COVER_LETTER_MAX)),
        (&["MoveApplication"], "note", text(applications::rules::NOTE_MAX)),
        (
            &["ScheduleInterview", "UpdateInterview"],
            "duration_minutes",
            json!({"minimum": applications::rules::DURATION_MIN, "maximum": applications::rules::DURATION_MAX}),
        ),
        (
            &["ScheduleInterview", "UpdateInterview"],
            "scheduled_at",
            json!({"format": "date-time"}),
        ),
        (
            &["ScheduleInterview", "UpdateInterview"],
            "location",
            text(applications::rules::LOCATION_MAX),
        ),
        (&["ScheduleInterview", "UpdateInterview"], "meeting_url", url_or_empty()),
        (
            &["RegisterDevice"],
            "token",
            json!({"minLength": 1, "maxLength": notifications::devices::TOKEN_MAX, "pattern": r"^\s*\S+\s*$"}),
        ),
        (&["CreateSavedSearch"], "name", required_line(search::saved::NAME_MAX)),
        (&["ClickBody", "EventIn"], "job_id", json!({"pattern": ULID})),
        (
            &["ClickBody", "EventIn"],
            "position",
            json!({"minimum": 1, "maximum": analytics::ingest::POSITION_MAX}),
        ),
        (
            &["ClickBody"],
            "search_id",
            json!({"pattern": r"^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}\.[0-9A-Fa-f]{16}$"}),
        ),
        (
            &["EventsBody"],
            "events",
            json!({"minItems": 1, "maxItems": analytics::ingest::MAX_EVENTS}),
        ),
        (
            &["EventsBody"],
            "session_id",
            json!({"pattern": format!(r"^\s*[A-Za-z0-9_-]{{1,{}}}\s*$", analytics::ingest::SESSION_ID_MAX)}),
        ),
        (&["EventIn"], "occurred_at", json!({"format": "date-time"})),
        (&["ProfilePatch"], "headline", line(profile::HEADLINE_MAX)),
        (&["ProfilePatch"], "bio", text(profile::BIO_MAX)),
        (&["ProfilePatch"], "address", text(profile::ADDRESS_MAX)),
        (
            &["ProfilePatch"],
            "phone",
            json!({"pattern": format!(r"^\s*(\+[ ().-]*([0-9][ ().-]*){{{},{}}})?\s*$", profile::PHONE_DIGITS.start(), profile::PHONE_DIGITS.end()),
                   "description": format!("International form, e.g. `+49 30 1234567`: + and {} to {} digits (spaces, dots, dashes and brackets between are ignored)", profile::PHONE_DIGITS.start(), profile::PHONE_DIGITS.end())}),
        ),
        (&["ProfilePatch"], "skills", skills(profile::MAX_SKILLS, profile::SKILL_MAX)),
        (&["ProfilePatch"], "education", json!({"maxItems": profile::MAX_EDUCATION})),
        (&["ProfilePatch"], "experience", json!({"maxItems": profile::MAX_EXPERIENCE})),
        (&["Education"], "school", required_line(profile::ENTRY_LINE_MAX)),
        (&["Education"], "degree", line(profile::ENTRY_LINE_MAX)),
        (&["Education"], "field", line(profile::ENTRY_LINE_MAX)),
        (&["Education", "Experience"], "start", json!({"pattern": MONTH})),
        (&["Education", "Experience"], "end", json!({"pattern": MONTH})),
        (&["Experience"], "title", required_line(profile::ENTRY_LINE_MAX)),
        (&["Experience"], "company", required_line(profile::ENTRY_LINE_MAX)),
        (&["Experience"], "description", text(profile::ENTRY_TEXT_MAX)),
        (&["Links"], "linkedin", url_or_empty()),
        (&["Links"], "github", url_or_empty()),
    ]
}

/// Rules between fields of one object, as JSON Schema states them.
fn object_rules(doc: &mut Value) {
    let s = &mut doc["components"]["schemas"];
    s["CreateReport"]["if"] = json!({"properties": {"reason": {"const": "other"}}, "required": ["reason"]});
    s["CreateReport"]["then"] = json!({"required": ["details"], "properties": {"details": {"type": "string", "pattern": r"\S"}}});
    // Both coordinates or neither (`null` is neither).
    // A new job starts as a draft or published (closing is for jobs that exist).
    s["CreateJob"]["properties"]["status"] = json!({"oneOf": [{"type": "null"},
        {"type": "string", "enum": ["draft", "published"], "description": "`published` (the default) or `draft`."}]});
    s["Location"]["allOf"] = json!([
        {"if": {"properties": {"lat": {"type": "number"}}, "required": ["lat"]}, "then": {"properties": {"lon": {"type": "number"}}, "required": ["lon"]}},
        {"if": {"properties": {"lon": {"type": "number"}}, "required": ["lon"]}, "then": {"properties": {"lat": {"type": "number"}}, "required": ["lat"]}}
    ]);
    // Security notices are always emailed (stated with `not`, which generators skip: an
    // `allOf` of Channels and `const: true` breaks some of them).
    s["Preferences"]["properties"]["kinds"]["not"] = json!({
        "required": ["account_security"],
        "properties": {"account_security": {"required": ["email"], "properties": {"email": {"const": false}}}}
    });
    s["ScheduleInterview"]["allOf"] = json!([
        {"if": {"properties": {"kind": {"const": "video"}}, "required": ["kind"]},
         "then": {"required": ["meeting_url"], "properties": {"meeting_url": {"type": "string", "pattern": URL}}}},
        {"if": {"properties": {"kind": {"const": "onsite"}}, "required": ["kind"]},
         "then": {"required": ["location"], "properties": {"location": {"type": "string", "pattern": r"\S"}}}}
    ]);
    s["EventIn"]["allOf"] = json!([
        {"if": {"properties": {"type": {"enum": ["job_view", "job_impression", "apply_click", "search_click"]}}, "required": ["type"]},
         "then": {"required": ["job_id"], "properties": {"job_id": {"type": "string"}}}},
        {"if": {"properties": {"type": {"const": "company_view"}}, "required": ["type"]},
         "then": {"required": ["company_id"], "properties": {"company_id": {"type": "string"}}}},
        {"if": {"properties": {"type": {"const": "search_click"}}, "required": ["type"]},
         "then": {"required": ["search_id", "position"],
                  "properties": {"search_id": {"type": "string", "pattern": r"^[0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}\.[0-9A-Fa-f]{16}$"},
                                 "position": {"type": "integer"}}}}
    ]);
    // PATCH /admin/users/{id} and /admin/jobs/{id} change something: at least one of their
    // changes is given (not null); a job's status change says why.
    s["UpdateUser"]["anyOf"] = json!([
        {"required": ["status"], "properties": {"status": {"type": "string"}}},
        {"required": ["role"], "properties": {"role": {"type": "string"}}}
    ]);
    s["ModerateJob"]["anyOf"] = json!([
        {"required": ["status"], "properties": {"status": {"type": "string"}}},
        {"required": ["featured"], "properties": {"featured": {"type": "boolean"}}}
    ]);
    s["ModerateJob"]["if"] = json!({"properties": {"status": {"type": "string"}}, "required": ["status"]});
    s["ModerateJob"]["then"] = json!({"required": ["reason"], "properties": {"reason": {"type": "string"}}});
    // A saved search's query holds GET /search/jobs parameters, by name (as sent and as read).
    for name in ["CreateSavedSearch", "SavedSearch"] {
        s[name]["properties"]["query"]["propertyNames"] = json!({"enum": search::params::NAMES});
        s[name]["properties"]["query"]["additionalProperties"] = json!({
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}, {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}}],
            "description": "as in GET /search/jobs; a list for the comma-separated ones"
        });
    }
    // The two uploads share a body shape, not their rules: each route gets its own schema.
    for (name, path, types, max) in [
        (
            "AvatarUpload",
            "/me/avatar",
            ["image/jpeg", "image/png", "image/webp"],
            files::rules::Kind::Avatar.max_bytes(),
        ),
        (
            "ResumeUpload",
            "/me/resume",
            [
                "application/pdf",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ],
            files::rules::Kind::Resume.max_bytes(),
        ),
    ] {
        let s = &mut doc["components"]["schemas"];
        let mut schema = s["UploadRequest"].clone();
        schema["properties"]["content_type"]["enum"] = json!(types);
        schema["properties"]["size_bytes"]["minimum"] = json!(1);
        schema["properties"]["size_bytes"]["maximum"] = json!(max);
        s[name] = schema;
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"] =
            json!({"$ref": format!("#/components/schemas/{name}")});
    }
}

/// Merges [`field_rules`] into the component schemas. A property typed `[T, "null"]` keeps
/// `null` (the rules apply to the value).
fn constrain_schemas(doc: &mut Value) {
    doc["components"]["schemas"]["NewPassword"] = new_password_schema();
    for (schema, property, rules) in field_rules()
        .into_iter()
        .flat_map(|(schemas, p, r)| schemas.iter().map(move |s| (*s, p, r.clone())))
    {
        let target = &mut doc["components"]["schemas"][schema]["properties"][property];
        assert!(target.is_object(), "{schema}.{property} is not in the document");
        if rules.get("$ref").is_some() {
            // A shared schema in place of the generated one (keeping the description).
            let description = target.get("description").cloned();
            *target = rules;
            if let Some(d) = description {
                target["description"] = d;
            }
            continue;
        }
        if let (Some(t), Some(r)) = (target.as_object_mut(), rules.as_object()) {
            for (k, v) in r {
                t.insert(k.clone(), v.clone());
            }
        }
    }
}
