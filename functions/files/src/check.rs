//! The S3-triggered check of an upload: its first bytes and size ([`rules::judge`]), then its
//! whole structure ([`structure::verify`], bounded in time); then the file is attached, or
//! refused with the reason kept as the upload's status.

use aws_lambda_events::event::s3::S3Event;
use common::db::{self, s};
use common::tx::{Cond, Tx, TxError};
use common::{ApiResult, App};

use crate::rules::{self, FileType, Kind};
use crate::{file_key, objects, state, structure, StoredFile, UploadState, UploadStatus};

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

/// The whole object (at most the kind's size: it was checked), then its structure.
async fn whole(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, kind: Kind, t: FileType) -> ApiResult<Result<FileType, String>> {
    let o = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range(format!("bytes=0-{}", kind.max_bytes()))
        .send()
        .await?;
    let bytes = o.body.collect().await.map_err(db::internal)?.into_bytes();
    if bytes.len() as u64 > kind.max_bytes() {
        return Ok(rules::judge(kind, bytes.len() as u64, &bytes));
    }
    Ok(checked(t, bytes.to_vec()).await)
}

/// [`structure::verify`] on a blocking thread, for at most [`structure::CHECK_SECS`].
async fn checked(t: FileType, bytes: Vec<u8>) -> Result<FileType, String> {
    let work = tokio::task::spawn_blocking(move || structure::verify(t, &bytes));
    match tokio::time::timeout(std::time::Duration::from_secs(structure::CHECK_SECS), work).await {
        Ok(Ok(verdict)) => verdict.map(|()| t),
        Ok(Err(panicked)) => {
            tracing::error!(error = %panicked, "a structure check failed");
            Err(format!("the file could not be read as {}", t.name()))
        }
        Err(_) => Err(format!("the file took longer than {} seconds to check", structure::CHECK_SECS)),
    }
}

async fn check(app: &App, bucket: &str, key: &str, kind: Kind, user_id: &str, upload_id: &str) -> ApiResult<()> {
    let s3 = app.s3();
    let Some((size, verdict)) = verdict(s3, bucket, key, kind).await? else {
        return Ok(()); // handled already
    };
    let (current, status) = outcome(s3, bucket, key, (kind, user_id, upload_id), size, verdict).await?;
    let before = state(app, user_id, kind).await?;
    let attached = record(app, user_id, kind, &status, current.as_ref()).await?;
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

/// The object's real size and what it is (or why it is refused); `None` when it is gone
/// (a redelivered event, handled already).
async fn verdict(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, kind: Kind) -> ApiResult<Option<(u64, Result<FileType, String>)>> {
    let head = match s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range(format!("bytes=0-{}", rules::SNIFF_BYTES - 1))
        .send()
        .await
    {
        Ok(o) => o,
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let size = head
        .content_range()
        .and_then(|r| r.rsplit('/').next())
        .and_then(|n| n.parse::<u64>().ok())
        .or(head.content_length().map(|n| n as u64))
        .unwrap_or(0);
    let bytes = head.body.collect().await.map_err(db::internal)?.into_bytes();
    let verdict = match rules::judge(kind, size, &bytes) {
        Ok(t) if size > bytes.len() as u64 => whole(s3, bucket, key, kind, t).await?,
        Ok(t) => checked(t, bytes.to_vec()).await,
        Err(why) => Err(why),
    };
    Ok(Some((size, verdict)))
}

/// A good file is copied to its place (`files/...`, with its real type); either way the
/// upload's status says what happened.
async fn outcome(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    (kind, user_id, upload_id): (Kind, &str, &str),
    size: u64,
    verdict: Result<FileType, String>,
) -> ApiResult<(Option<StoredFile>, UploadStatus)> {
    let now = common::time::now_rfc3339();
    let status = |state, reason| UploadStatus {
        upload_id: upload_id.to_string(),
        state,
        reason,
        at: now.clone(),
    };
    match verdict {
        Ok(t) => {
            let stored = rules::stored_key(kind, user_id, upload_id, t);
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
            Ok((Some(file), status(UploadState::Ready, None)))
        }
        Err(reason) => {
            tracing::info!(%key, %reason, "upload rejected");
            Ok((None, status(UploadState::Rejected, Some(reason))))
        }
    }
}

/// Records the status (and the new current file) if the account still exists; whether it
/// did (an erased account keeps nothing).
async fn record(app: &App, user_id: &str, kind: Kind, status: &UploadStatus, current: Option<&StoredFile>) -> ApiResult<bool> {
    let mut set = Cond::new("SET entity = :e, last_upload = :u")
        .value(":e", s("file"))
        .value(":u", db::to_attr(status)?);
    if let Some(f) = current {
        set = set
            .expr("SET entity = :e, last_upload = :u, #current = :f")
            .name("#current", "current")
            .value(":f", db::to_attr(f)?);
    }
    let tx = Tx::new(app)
        .check("account", auth::account::key(user_id), Cond::present())
        .update("file", file_key(user_id, kind), set, None);
    match tx.commit().await {
        Ok(()) => Ok(true),
        Err(TxError::Condition { part: "account", .. }) => Ok(false),
        Err(e) => Err(e.into()),
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
