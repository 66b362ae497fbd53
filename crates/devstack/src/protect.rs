//! What keeps data recoverable, made real in the stand-in as the template asks: a table's
//! deletion protection and point-in-time recovery, a bucket's versioning.

use aws_config::SdkConfig;
use serde_yaml::Value;

fn enabled(v: Option<&Value>, key: &str) -> bool {
    v.and_then(|v| v.get(key)).and_then(Value::as_bool).unwrap_or(false)
}

/// `DeletionProtectionEnabled` and `PointInTimeRecoverySpecification` of a table.
pub async fn table(sdk: &SdkConfig, name: &str, p: &Value) -> Result<(), String> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    if p.get("DeletionProtectionEnabled").and_then(Value::as_bool) == Some(true) {
        ddb.update_table()
            .table_name(name)
            .deletion_protection_enabled(true)
            .send()
            .await
            .map_err(|e| format!("update_table {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(e)))?;
    }
    if enabled(p.get("PointInTimeRecoverySpecification"), "PointInTimeRecoveryEnabled") {
        let spec = aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(true)
            .build()
            .map_err(|e| e.to_string())?;
        ddb.update_continuous_backups()
            .table_name(name)
            .point_in_time_recovery_specification(spec)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "update_continuous_backups {name}: {}",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e)
                )
            })?;
    }
    Ok(())
}

/// `VersioningConfiguration` of a bucket.
pub async fn bucket(sdk: &SdkConfig, name: &str, p: &Value) -> Result<(), String> {
    let status = p
        .get("VersioningConfiguration")
        .and_then(|v| v.get("Status"))
        .and_then(Value::as_str);
    if status == Some("Enabled") {
        let conf = aws_sdk_s3::types::VersioningConfiguration::builder()
            .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
            .build();
        crate::provision::s3_client(sdk)
            .put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(conf)
            .send()
            .await
            .map_err(|e| format!("put_bucket_versioning {name}: {}", aws_sdk_s3::error::DisplayErrorContext(e)))?;
    }
    Ok(())
}
