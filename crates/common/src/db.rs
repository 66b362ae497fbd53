//! DynamoDB helpers for the single table: key attribute names, item (de)serialisation
//! through serde_dynamo, and reading what a failed condition or transaction means.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
/// Epoch seconds after which DynamoDB may delete the item (late: code checks expiry itself).
pub const TTL: &str = "ttl";

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

/// A domain value stored as one item: its table key, its entity name, the index keys it is
/// listed under, and the value's own attributes (flattened). Every keyed item of the table
/// is one of these, so the key attributes are spelled once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Keyed<T> {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    pub entity: String,
    #[serde(flatten)]
    pub index: IndexKeys,
    #[serde(flatten)]
    pub value: T,
}

/// The GSI key attributes of an item; absent ones keep it out of that (sparse) index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IndexKeys {
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    #[serde(rename = "GSI3PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi3pk: Option<String>,
    #[serde(rename = "GSI3SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi3sk: Option<String>,
    #[serde(rename = "GSI4PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi4pk: Option<String>,
    #[serde(rename = "GSI4SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi4sk: Option<String>,
    #[serde(rename = "GSI5PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi5pk: Option<String>,
    #[serde(rename = "GSI5SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi5sk: Option<String>,
}

impl<T> Keyed<T> {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, entity: &str, value: T) -> Self {
        Keyed {
            pk: pk.into(),
            sk: sk.into(),
            entity: entity.to_string(),
            index: IndexKeys::default(),
            value,
        }
    }

    /// Lists the item in index `GSI<n>` (1-5) under `pk`, sorted by `sk`.
    pub fn in_index(self, n: u8, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        self.in_index_if(true, n, pk, sk)
    }

    /// [`Keyed::in_index`] when `on` (sparse indexes: only items that belong there).
    pub fn in_index_if(mut self, on: bool, n: u8, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        if !on {
            return self;
        }
        let (p, s) = (Some(pk.into()), Some(sk.into()));
        let i = &mut self.index;
        match n {
            1 => (i.gsi1pk, i.gsi1sk) = (p, s),
            2 => (i.gsi2pk, i.gsi2sk) = (p, s),
            3 => (i.gsi3pk, i.gsi3sk) = (p, s),
            4 => (i.gsi4pk, i.gsi4sk) = (p, s),
            5 => (i.gsi5pk, i.gsi5sk) = (p, s),
            _ => debug_assert!(false, "the table has GSI1-GSI5"),
        }
        self
    }
}

pub fn to_item<T: Serialize>(value: &T) -> ApiResult<Item> {
    Ok(serde_dynamo::to_item(value)?)
}

/// Every item of one partition, page after page: of the table (`index` `None`: `PK`/`SK`) or
/// of an index (`GSI2`: `GSI2PK`/`GSI2SK`), optionally only sort keys starting with
/// `sort_prefix`. For partitions that stay small (a user's items, an application's history).
pub async fn query_all(app: &crate::App, index: Option<&str>, key: impl Into<String>, sort_prefix: Option<&str>) -> ApiResult<Vec<Item>> {
    let (pk, sk) = match index {
        Some(i) => (format!("{i}PK"), format!("{i}SK")),
        None => (PK.to_string(), SK.to_string()),
    };
    let key = key.into();
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let mut q = app
            .dynamo()
            .query()
            .table_name(app.table())
            .set_index_name(index.map(str::to_string))
            .expression_attribute_names("#pk", &pk)
            .expression_attribute_values(":pk", s(&key))
            .set_exclusive_start_key(start);
        q = match sort_prefix {
            Some(p) => q
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :sk)")
                .expression_attribute_names("#sk", &sk)
                .expression_attribute_values(":sk", s(p)),
            None => q.key_condition_expression("#pk = :pk"),
        };
        let page = q.send().await?;
        out.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(out);
        }
    }
}

/// Every item of a partition of the table (`index` `None`) or of an index whose sort key is
/// within `low..=high`, page after page (time windows over keys that start with a time:
/// deadlines, interviews, analytics days).
pub async fn query_between(app: &crate::App, index: Option<&str>, key: &str, low: &str, high: &str) -> ApiResult<Vec<Item>> {
    let (pk, sk) = match index {
        Some(i) => (format!("{i}PK"), format!("{i}SK")),
        None => (PK.to_string(), SK.to_string()),
    };
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = app
            .dynamo()
            .query()
            .table_name(app.table())
            .set_index_name(index.map(str::to_string))
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :low AND :high")
            .expression_attribute_names("#pk", pk.clone())
            .expression_attribute_names("#sk", sk.clone())
            .expression_attribute_values(":pk", s(key))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        out.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(out);
        }
    }
}

/// The table key (`PK`, `SK`) of an item.
pub fn key_of(item: &Item) -> Item {
    [PK, SK]
        .into_iter()
        .filter_map(|k| item.get(k).map(|v| (k.to_string(), v.clone())))
        .collect()
}

/// One attribute value (a map for a struct), for update expressions.
pub fn to_attr<T: Serialize>(value: &T) -> ApiResult<AttributeValue> {
    Ok(serde_dynamo::to_attribute_value(value)?)
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> ApiResult<T> {
    Ok(serde_dynamo::from_item(item)?)
}

/// One item by key, strongly consistent, deserialised into `T`; `None` when absent.
pub async fn get<T: DeserializeOwned>(app: &crate::App, pk: impl Into<String>, sk: impl Into<String>) -> ApiResult<Option<T>> {
    let out = app
        .dynamo()
        .get_item()
        .table_name(app.table())
        .set_key(Some(key(pk, sk)))
        .consistent_read(true)
        .send()
        .await?;
    out.item.map(from_item).transpose()
}

/// Several items in one consistent read (TransactGetItems, at most 100), in the order of
/// `keys`; `None` for missing ones.
pub async fn get_many(app: &crate::App, keys: Vec<Item>) -> ApiResult<Vec<Option<Item>>> {
    let mut req = app.dynamo().transact_get_items();
    for key in keys {
        let g = aws_sdk_dynamodb::types::Get::builder()
            .table_name(app.table())
            .set_key(Some(key))
            .build()
            .map_err(internal)?;
        req = req.transact_items(aws_sdk_dynamodb::types::TransactGetItem::builder().get(g).build());
    }
    let out = req.send().await?;
    Ok(out.responses.unwrap_or_default().into_iter().map(|r| r.item).collect())
}

/// Two items in one consistent read (TransactGetItems).
pub async fn get_pair<A: DeserializeOwned, B: DeserializeOwned>(app: &crate::App, a: Item, b: Item) -> ApiResult<(Option<A>, Option<B>)> {
    let mut items = get_many(app, vec![a, b]).await?.into_iter();
    let first = items.next().flatten().map(from_item).transpose()?;
    let second = items.next().flatten().map(from_item).transpose()?;
    Ok((first, second))
}

/// True when the error is a failed `ConditionExpression` of a single-item write.
pub fn is_condition_failed<E, R>(err: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    matches!(err, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

/// For a cancelled transaction, the cancellation code of each item in request order
/// (`None` for items that did not fail). `None` when the error is not a cancellation.
pub fn cancellation_codes(
    err: &SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Option<Vec<Option<String>>> {
    let SdkError::ServiceError(se) = err else { return None };
    match se.err() {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(tc) => Some(
            tc.cancellation_reasons()
                .iter()
                .map(|r| r.code().filter(|c| *c != "None").map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

/// For a cancelled transaction, the item each failed condition saw (when the write asked
/// for it with `ReturnValuesOnConditionCheckFailure::AllOld`), in request order.
pub fn cancellation_items(
    err: &SdkError<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Option<Vec<Option<Item>>> {
    let SdkError::ServiceError(se) = err else { return None };
    match se.err() {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(tc) => {
            Some(tc.cancellation_reasons().iter().map(|r| r.item().cloned()).collect())
        }
        _ => None,
    }
}

/// Up to 100 items by key (BatchGetItem, retrying unprocessed keys); missing ones are
/// left out, order is not kept.
pub async fn batch_get(app: &crate::App, keys: Vec<Item>) -> ApiResult<Vec<Item>> {
    let mut out = Vec::new();
    let mut pending = keys;
    for attempt in 0..8u32 {
        if pending.is_empty() {
            break;
        }
        let ka = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
            .set_keys(Some(pending))
            .build()
            .map_err(internal)?;
        let resp = app.dynamo().batch_get_item().request_items(app.table(), ka).send().await?;
        if let Some(mut r) = resp.responses {
            out.extend(r.remove(app.table()).unwrap_or_default());
        }
        pending = resp
            .unprocessed_keys
            .and_then(|mut u| u.remove(app.table()))
            .map(|k| k.keys)
            .unwrap_or_default();
        if !pending.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
        }
    }
    Ok(out)
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

/// Maps a transaction failure whose cause is not a meaningful condition to 500.
pub fn internal<E: std::fmt::Debug + std::fmt::Display + Send + Sync + 'static>(e: E) -> ApiError {
    ApiError::internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Thing {
        name: String,
        #[serde(default)]
        note: Option<String>,
    }

    #[test]
    fn keyed_items_round_trip_with_sparse_indexes() {
        let t = Thing {
            name: "x".into(),
            note: None,
        };
        let k = Keyed::new("P#1", "S", "thing", t.clone())
            .in_index(2, "G2", "s2")
            .in_index_if(false, 4, "G4", "s4");
        let item = to_item(&k).unwrap();
        assert_eq!(get_s(&item, "PK"), Some("P#1"));
        assert_eq!(get_s(&item, "GSI2PK"), Some("G2"));
        assert!(!item.contains_key("GSI4PK") && !item.contains_key("GSI1PK"));
        let back: Keyed<Thing> = from_item(item).unwrap();
        assert_eq!(back.value, t);
        assert_eq!(back.index.gsi2sk.as_deref(), Some("s2"));
    }
}
