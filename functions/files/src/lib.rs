//! Uploaded files (API.md, "Me, profiles, candidates"): resumes and avatars.
//!
//! 1. POST /me/resume or /me/avatar answers a presigned S3 PUT bound to the caller, the
//!    declared content type and size, for a key under `incoming/<kind>/<user>/<upload>`.
//! 2. The client uploads straight to S3.
//! 3. S3 triggers [`check::on_upload`], which reads the object's first bytes and size, then
//!    the whole file's structure ([`structure`]), and only then moves it to `files/...` and
//!    attaches it; a bad file is deleted and the reason is
//!    kept as the upload's status (shown on the profile).
//!
//! Item: `PK = USER#<id>`, `SK = FILE#<kind>`: the current file and the last upload's status.

mod check;
pub mod objects;
pub mod rules;
pub mod samples;
pub mod structure;

pub use objects::{copy, delete, delete_all};

use std::time::Duration;

use aws_lambda_events::event::s3::S3Event;
use aws_sdk_s3::presigning::PresigningConfig;
use common::api_doc::ErrorBody;
use common::db::{self, s};
use common::error::Problems;
use common::http::{authenticate, created, ok, parse_json, require_role, Request, Response};
use common::token::Role;
use common::tx::Cond;
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::rules::{FileType, Kind};

/// How long an upload URL works.
pub const UPLOAD_URL_SECS: u64 = 15 * 60;
/// How long a download URL works.
pub const DOWNLOAD_URL_SECS: u64 = 5 * 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UploadState {
    /// URL issued; waiting for the file.
    Pending,
    /// Checked and attached.
    Ready,
    /// Refused and deleted; `reason` says why.
    Rejected,
}

/// The latest upload of a kind and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UploadStatus {
    pub upload_id: String,
    pub state: UploadState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub at: String,
}

/// A validated, attached file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StoredFile {
    /// The type its content proved to be.
    pub content_type: String,
    pub size_bytes: u64,
    pub uploaded_at: String,
    #[serde(skip_serializing_if = "String::is_empty", default)]
    #[schema(ignore)]
    pub key: String,
}

/// What a profile shows about one kind of file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileState {
    #[serde(default)]
    pub current: Option<StoredFile>,
    #[serde(default)]
    pub last_upload: Option<UploadStatus>,
}

impl FileState {
    /// Without storage details, for clients.
    pub fn public(mut self) -> FileState {
        if let Some(c) = &mut self.current {
            c.key.clear();
        }
        self
    }
}

#[derive(Serialize, Deserialize)]
struct FileItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    #[serde(flatten)]
    state: FileState,
}

pub fn file_key(user_id: &str, kind: Kind) -> db::Item {
    db::key(auth::account::partition(user_id), format!("FILE#{}", kind.as_str()))
}

/// Reads a kind's state from its item (as read by a caller's batch).
pub fn state_of(item: Option<db::Item>) -> ApiResult<FileState> {
    Ok(item
        .map(db::from_item::<FileItem>)
        .transpose()?
        .map(|f| f.state)
        .unwrap_or_default())
}

pub async fn state(app: &App, user_id: &str, kind: Kind) -> ApiResult<FileState> {
    let out = app
        .dynamo()
        .get_item()
        .table_name(app.table())
        .set_key(Some(file_key(user_id, kind)))
        .consistent_read(true)
        .send()
        .await?;
    state_of(out.item)
}

/// A short-lived URL to read the object `key` (served as `content_type`, saved as `filename`);
/// with its expiry time.
pub async fn download_url(app: &App, key: &str, content_type: &str, filename: &str, secs: u64) -> ApiResult<(String, String)> {
    let presigned = app
        .s3()
        .get_object()
        .bucket(app.uploads_bucket()?)
        .key(key)
        .response_content_type(content_type)
        .response_content_disposition(format!("attachment; filename=\"{filename}\""))
        .presigned(PresigningConfig::expires_in(Duration::from_secs(secs)).map_err(db::internal)?)
        .await?;
    Ok((
        presigned.uri().to_string(),
        common::time::rfc3339(common::time::now_secs() + secs as i64),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequest {
    /// Resume: `application/pdf`, `application/msword`,
    /// `application/vnd.openxmlformats-officedocument.wordprocessingml.document`;
    /// avatar: `image/jpeg`, `image/png`, `image/webp`.
    pub content_type: String,
    #[serde(deserialize_with = "common::values::whole")]
    pub size_bytes: u64,
}

/// Where and how to upload.
#[derive(Serialize, ToSchema)]
pub struct UploadTicket {
    pub upload_id: String,
    pub upload_url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers the upload must carry exactly.
    pub headers: std::collections::BTreeMap<String, String>,
    pub max_bytes: u64,
    pub expires_at: String,
}

async fn issue(app: &App, req: &Request, kind: Kind) -> ApiResult<Response> {
    let roles: &[Role] = match kind {
        Kind::Resume => &[Role::Seeker],
        Kind::Avatar => &[Role::Seeker, Role::Employer, Role::Admin],
    };
    let me = require_role(app, req, roles).await?;
    let scope = me.user_id.clone();
    common::idempotency::once(app, req, &scope, ticket(app, req, kind, me)).await
}

/// A presigned upload of `kind` for `me`.
async fn ticket(app: &App, req: &Request, kind: Kind, me: common::token::Principal) -> ApiResult<Response> {
    let body: UploadRequest = parse_json(req)?;
    let mut p = Problems::default();
    let declared = FileType::from_content_type(&body.content_type).filter(|t| kind.allowed().contains(t));
    if declared.is_none() {
        p.add("content_type", &format!("must be {}", kind.describe_allowed()));
    }
    if body.size_bytes == 0 || body.size_bytes > kind.max_bytes() {
        p.add("size_bytes", &format!("must be from 1 byte to {} MB", kind.max_bytes() / 1_048_576));
    }
    p.into_result()?;
    let content_type = declared.map(FileType::content_type).unwrap_or_default();
    let upload_id = ulid::Ulid::new().to_string();
    let key = rules::incoming_key(kind, &me.user_id, &upload_id);
    let presigned = app
        .s3()
        .put_object()
        .bucket(app.uploads_bucket()?)
        .key(&key)
        .content_type(content_type)
        .content_length(body.size_bytes as i64)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(UPLOAD_URL_SECS)).map_err(db::internal)?)
        .await?;
    let now = common::time::now_rfc3339();
    let pending = UploadStatus {
        upload_id: upload_id.clone(),
        state: UploadState::Pending,
        reason: None,
        at: now,
    };
    let set = Cond::new("SET entity = :e, last_upload = :u")
        .value(":e", s("file"))
        .value(":u", db::to_attr(&pending)?);
    auth::account::writes_by(app, &me)
        .update("file", file_key(&me.user_id, kind), set, None)
        .commit()
        .await?;
    let mut headers = std::collections::BTreeMap::new();
    headers.insert("content-type".to_string(), content_type.to_string());
    created(&UploadTicket {
        upload_id,
        upload_url: presigned.uri().to_string(),
        method: "PUT".into(),
        headers,
        max_bytes: kind.max_bytes(),
        expires_at: common::time::rfc3339(common::time::now_secs() + UPLOAD_URL_SECS as i64),
    })
}

/// POST /me/resume
#[utoipa::path(post, path = "/me/resume", tag = "files", request_body = UploadRequest, security(("bearer" = [])), params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, description = "upload with a PUT to `upload_url` within 15 minutes; the file is attached once checked", body = UploadTicket),
        (status = 401, body = ErrorBody), (status = 403, description = "seekers only", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_resume(app: &'static App, req: Request) -> ApiResult<Response> {
    issue(app, &req, Kind::Resume).await
}

/// POST /me/avatar
#[utoipa::path(post, path = "/me/avatar", tag = "files", request_body = UploadRequest, security(("bearer" = [])), params(("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = UploadTicket), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_avatar(app: &'static App, req: Request) -> ApiResult<Response> {
    issue(app, &req, Kind::Avatar).await
}

#[derive(Serialize, ToSchema)]
pub struct Download {
    pub download_url: String,
    pub expires_at: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub uploaded_at: String,
}

/// GET /me/resume
#[utoipa::path(get, path = "/me/resume", tag = "files", security(("bearer" = [])),
    responses((status = 200, description = "a download URL valid for 5 minutes", body = Download), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, description = "no checked resume yet", body = ErrorBody)))]
pub async fn download_resume(app: &'static App, req: Request) -> ApiResult<Response> {
    let me = authenticate(app, &req).await?;
    if me.role != Role::Seeker {
        return Err(ApiError::forbidden("only seekers have a resume"));
    }
    let st = state(app, &me.user_id, Kind::Resume).await?;
    let Some(file) = st.current else {
        return Err(ApiError::not_found(match st.last_upload.map(|u| u.state) {
            Some(UploadState::Pending) => "the resume is still being checked",
            Some(UploadState::Rejected) => "the last resume upload was rejected; see the profile for why",
            _ => "no resume uploaded",
        }));
    };
    let ext = file.key.rsplit('.').next().unwrap_or("pdf");
    let (url, expires_at) = download_url(app, &file.key, &file.content_type, &format!("resume.{ext}"), DOWNLOAD_URL_SECS).await?;
    ok(&Download {
        download_url: url,
        expires_at,
        content_type: file.content_type,
        size_bytes: file.size_bytes,
        uploaded_at: file.uploaded_at,
    })
}

/// The S3-triggered function's handler.
pub fn handler(app: &'static App, event: S3Event) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>> {
    Box::pin(check::on_upload(app, event))
}

common::functions! {
    openapi(tags((name = "files", description = "Resume and avatar uploads through presigned S3 URLs, checked before they are attached")));
    http {
        "files-resume-upload" => upload_resume: table(&[Get, Put, Update, ConditionCheck]).uploads(&[(&[PutObject], "incoming/resume/*")]),
        "files-avatar-upload" => upload_avatar: table(&[Get, Put, Update, ConditionCheck]).uploads(&[(&[PutObject], "incoming/avatar/*")]),
        "files-resume-download" => download_resume: table(&[Get]).uploads(&[(&[GetObject], "files/resume/*")]),
    }
    other {
        // A structure check runs for at most 20 s (structure::CHECK_SECS) in at most 256 MiB of
        // decoder memory beside the file (10 MB at most).
        "files-check-upload" => S3(handler): table(&[Get, Update, ConditionCheck])
            .uploads(&[(&[GetObject, PutObject, DeleteObject], "*")])
            .timeout(60)
            .memory(1024)
            .description("Checks each upload's real type (magic bytes), size and whole structure (PDF, Word, image decode), then attaches or deletes it")
            .on(Uploaded("incoming/")),
    }
}
