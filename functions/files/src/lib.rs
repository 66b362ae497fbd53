//! Uploaded files (API.md, "Me, profiles, candidates"): resumes and avatars.
//!
//! 1. POST /me/resume or /me/avatar answers a presigned S3 PUT bound to the caller, the
//!    declared content type and size, for a key under `incoming/<kind>/<user>/<upload>`.
//! 2. The client uploads straight to S3.
//! 3. S3 triggers [`on_upload`], which reads the object's first bytes and size, and only
//!    then moves it to `files/...` and attaches it; a bad file is deleted and the reason is
//!    kept as the upload's status (shown on the profile).
//!
//! Item: `PK = USER#<id>`, `SK = FILE#<kind>`: the current file and the last upload's status.

pub mod objects;
pub mod rules;

pub use objects::{copy, delete, delete_all};

use std::time::Duration;

use aws_lambda_events::event::s3::S3Event;
use aws_sdk_s3::presigning::PresigningConfig;
use common::api_doc::ErrorBody;
use common::db::{self, s};
use common::error::Problems;
use common::http::{authenticate, created, ok, parse_json, require_role, Request, Response};
use common::token::Role;
use common::tx::{Cond, Tx, TxError};
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

/// `%XX` and `+` of an S3 event key.
fn decode_key(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The S3-triggered check of every new object under `incoming/`.
pub async fn on_upload(app: &App, event: S3Event) -> Result<(), String> {
    for record in event.records {
        let (Some(bucket), Some(raw_key)) = (record.s3.bucket.name.clone(), record.s3.object.key.clone()) else {
            continue;
        };
        let key = decode_key(&raw_key);
        let Some((kind, user_id, upload_id)) = rules::parse_incoming(&key) else {
            tracing::warn!(%key, "object outside the upload layout; left alone");
            continue;
        };
        check(app, &bucket, &key, kind, &user_id, &upload_id)
            .await
            .map_err(|e| format!("{key}: {}: {:?}", e.message, e.source))?;
    }
    Ok(())
}

async fn check(app: &App, bucket: &str, key: &str, kind: Kind, user_id: &str, upload_id: &str) -> ApiResult<()> {
    let s3 = app.s3();
    let head = match s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range(format!("bytes=0-{}", rules::SNIFF_BYTES - 1))
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => return Ok(()), // handled already
        Err(e) => return Err(e.into()),
    };
    let size = head
        .content_range()
        .and_then(|r| r.rsplit('/').next())
        .and_then(|n| n.parse::<u64>().ok())
        .or(head.content_length().map(|n| n as u64))
        .unwrap_or(0);
    let bytes = head.body.collect().await.map_err(db::internal)?.into_bytes();
    let now = common::time::now_rfc3339();
    let verdict = rules::judge(kind, size, &bytes);
    let (current, status) = match &verdict {
        Ok(t) => {
            let stored = rules::stored_key(kind, user_id, upload_id, *t);
            s3.copy_object()
                .bucket(bucket)
                .copy_source(format!("{bucket}/{key}"))
                .key(&stored)
                .content_type(t.content_type())
                .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
                .send()
                .await?;
            let file = StoredFile {
                content_type: t.content_type().to_string(),
                size_bytes: size,
                uploaded_at: now.clone(),
                key: stored,
            };
            let status = UploadStatus {
                upload_id: upload_id.to_string(),
                state: UploadState::Ready,
                reason: None,
                at: now,
            };
            (Some(file), status)
        }
        Err(reason) => {
            tracing::info!(%key, %reason, "upload rejected");
            let status = UploadStatus {
                upload_id: upload_id.to_string(),
                state: UploadState::Rejected,
                reason: Some(reason.clone()),
                at: now,
            };
            (None, status)
        }
    };
    let before = state(app, user_id, kind).await?;
    let mut set = Cond::new("SET entity = :e, last_upload = :u")
        .value(":e", s("file"))
        .value(":u", db::to_attr(&status)?);
    if let Some(f) = &current {
        set = set
            .expr("SET entity = :e, last_upload = :u, #current = :f")
            .name("#current", "current")
            .value(":f", db::to_attr(f)?);
    }
    let tx = Tx::new(app)
        .check("account", auth::account::key(user_id), Cond::present())
        .update("file", file_key(user_id, kind), set, None);
    let attached = match tx.commit().await {
        Ok(()) => true,
        // The account is gone (erased meanwhile): keep nothing of it.
        Err(TxError::Condition { part: "account", .. }) => false,
        Err(e) => return Err(e.into()),
    };
    // The incoming object goes either way; the replaced (or orphaned) file too.
    let mut remove = vec![key.to_string()];
    match (&current, attached) {
        (Some(_), true) => remove.extend(before.current.map(|c| c.key)),
        (Some(f), false) => remove.push(f.key.clone()),
        _ => {}
    }
    for k in remove {
        objects::purge(s3, bucket, &k, true).await?;
    }
    Ok(())
}

/// The S3-triggered function's handler.
pub fn handler(app: &'static App, event: S3Event) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>> {
    Box::pin(on_upload(app, event))
}

common::functions! {
    openapi(tags((name = "files", description = "Resume and avatar uploads through presigned S3 URLs, checked before they are attached")));
    http {
        "files-resume-upload" => upload_resume,
        "files-avatar-upload" => upload_avatar,
        "files-resume-download" => download_resume,
    }
    other {
        "files-check-upload" => common::runtime::Kind::S3(handler),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_are_decoded() {
        assert_eq!(decode_key("incoming/resume/A/B"), "incoming/resume/A/B");
        assert_eq!(decode_key("a+b%2Fc"), "a b/c");
        assert_eq!(decode_key("100%"), "100%");
        assert_eq!(decode_key("%zz"), "%zz");
    }
}
