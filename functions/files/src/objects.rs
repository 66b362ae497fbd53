//! Objects in the uploads bucket: copies, and deletions that remove every version (the
//! bucket is versioned against accidents; what the platform deletes on purpose is gone).

use common::{ApiResult, App};

use crate::rules::Kind;

/// Deletes every version of `key` (or, with `exact` false, of every key under the prefix
/// `key`) and their delete markers: the bucket is versioned against accidents, but what
/// the platform deletes on purpose (a replaced file, an erased account's) is gone for good.
/// Returns how many keys had a current version.
pub(crate) async fn purge(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, exact: bool) -> ApiResult<usize> {
    let mut current = 0;
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(key)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await?;
        let versions = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id(), v.is_latest() == Some(true)));
        let markers = page.delete_markers().iter().map(|m| (m.key(), m.version_id(), false));
        for (k, version, latest) in versions.chain(markers) {
            let Some(k) = k.filter(|k| !exact || *k == key) else {
                continue;
            };
            s3.delete_object()
                .bucket(bucket)
                .key(k)
                .set_version_id(version.map(str::to_string))
                .send()
                .await?;
            current += latest as usize;
        }
        if page.is_truncated() != Some(true) {
            return Ok(current);
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
    }
}

/// Copies a stored file to `to` (e.g. the snapshot sent with an application).
pub async fn copy(app: &App, from: &str, to: &str, content_type: &str) -> ApiResult<()> {
    let bucket = app.uploads_bucket()?;
    app.s3()
        .copy_object()
        .bucket(bucket)
        .copy_source(format!("{bucket}/{from}"))
        .key(to)
        .content_type(content_type)
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .send()
        .await?;
    Ok(())
}

/// Deletes one object (no error when it is gone already).
pub async fn delete(app: &App, key: &str) -> ApiResult<()> {
    purge(app.s3(), app.uploads_bucket()?, key, true).await?;
    Ok(())
}

/// Deletes every stored and incoming object of a user (account erasure).
pub async fn delete_all(app: &App, user_id: &str) -> ApiResult<usize> {
    let s3 = app.s3();
    let bucket = app.uploads_bucket()?;
    let mut deleted = 0;
    for kind in [Kind::Resume, Kind::Avatar] {
        for prefix in [
            format!("files/{}/{user_id}/", kind.as_str()),
            format!("incoming/{}/{user_id}/", kind.as_str()),
        ] {
            deleted += purge(s3, bucket, &prefix, false).await?;
        }
    }
    Ok(deleted)
}
