//! The consumer's writes and the dashboards' reads.
//!
//! A group of units is one transaction: a dedupe record per unit (`attribute_not_exists`)
//! and one update per item its deltas touch (`ADD` for counters; items with a sketch are
//! read, merged and written back under their version). A redelivered unit finds its record
//! and is not counted again; a concurrent writer of the same item makes the version check
//! fail and the group is read and tried again. A viewer's last counted view of a job
//! (crate::views) is written on condition that it is what the batch read.

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use common::db::{self, n, s, Item};
use common::tx::{Cond, Tx, TxError};
use common::{ApiResult, App};

use crate::aggregate::{Deltas, JobMeta, Key, Lookup};
use crate::model::{self, field, Counters};
use crate::sketch::Sketch;
use crate::views;

/// How long a unit's dedupe record is kept (SQS retention is at most 14 days).
const DONE_RETENTION_SECS: i64 = 15 * 24 * 3600;

/// The units of `ids` already counted.
pub async fn done(app: &App, ids: &[String]) -> ApiResult<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(100) {
        let keys = chunk.iter().map(|id| db::key(model::done_pk(id), model::DONE_SK)).collect();
        for item in db::batch_get(app, keys).await? {
            if let Some(pk) = db::get_s(&item, db::PK).and_then(|p| p.strip_prefix("AN#DONE#")) {
                out.insert(pk.to_string());
            }
        }
    }
    Ok(out)
}

/// The company and category of `jobs`, and which of `companies` exist.
pub async fn lookup(app: &App, jobs: HashSet<String>, companies: HashSet<String>) -> ApiResult<Lookup> {
    let mut out = Lookup::default();
    let jobs: Vec<String> = jobs.into_iter().collect();
    for chunk in jobs.chunks(100) {
        for item in db::batch_get(app, chunk.iter().map(|j| jobs::store::key(j)).collect()).await? {
            let (Some(id), Some(company), Some(category)) =
                (db::get_s(&item, "id"), db::get_s(&item, "company_id"), db::get_s(&item, "category"))
            else {
                continue;
            };
            out.jobs.insert(
                id.to_string(),
                JobMeta {
                    company_id: company.to_string(),
                    category: category.to_string(),
                },
            );
        }
    }
    let companies: Vec<String> = companies.into_iter().collect();
    for chunk in companies.chunks(100) {
        for item in db::batch_get(app, chunk.iter().map(|c| companies::key(c)).collect()).await? {
            if let Some(id) = db::get_s(&item, "id") {
                out.companies.insert(id.to_string());
            }
        }
    }
    Ok(out)
}

/// The last counted views of `pairs` (crate::views), as stored.
pub async fn seen(app: &App, pairs: HashSet<views::Pair>) -> ApiResult<HashMap<views::Pair, i64>> {
    let pairs: Vec<views::Pair> = pairs.into_iter().collect();
    let mut out = HashMap::new();
    for chunk in pairs.chunks(100) {
        let keys = chunk.iter().map(|(j, v)| db::key(views::seen_pk(j, v), views::SEEN_SK)).collect();
        let by_pk: HashMap<String, &views::Pair> = chunk.iter().map(|p| (views::seen_pk(&p.0, &p.1), p)).collect();
        for item in db::batch_get(app, keys).await? {
            let pair = db::get_s(&item, db::PK).and_then(|pk| by_pk.get(pk));
            if let (Some(pair), Some(at)) = (pair, db::get_n(&item, views::AT)) {
                out.insert((*pair).clone(), at);
            }
        }
    }
    Ok(out)
}

/// Why a group did not commit.
pub enum Refused {
    /// A unit was counted meanwhile (a concurrent redelivery): look again and retry.
    AlreadyDone,
    /// An item changed meanwhile (another batch merged its sketch): retry.
    Conflict,
    /// Anything else (a transaction conflict, throttling): retry, then give up.
    Failed(String),
}

/// Writes `deltas` with the dedupe records of `units` in one transaction.
pub async fn apply(app: &App, units: &[String], deltas: &Deltas) -> Result<(), Refused> {
    let sketched: Vec<Item> = deltas
        .iter()
        .filter(|(_, d)| !d.sketch.is_empty())
        .map(|((pk, sk), _)| db::key(pk.clone(), sk.clone()))
        .collect();
    let mut current: HashMap<Key, Item> = HashMap::new();
    for item in db::batch_get(app, sketched).await.map_err(|e| Refused::Failed(e.to_string()))? {
        if let (Some(pk), Some(sk)) = (db::get_s(&item, db::PK), db::get_s(&item, db::SK)) {
            current.insert((pk.to_string(), sk.to_string()), item);
        }
    }
    let now = common::time::now_secs();
    let mut tx = Tx::new(app);
    for id in units {
        let mut marker = db::key(model::done_pk(id), model::DONE_SK);
        marker.insert(db::TTL.into(), n(now + DONE_RETENTION_SECS));
        tx = tx.put_item("unit", marker, Some(Cond::absent()));
    }
    for ((pk, sk), delta) in deltas {
        let mut sets = Vec::new();
        let mut adds = Vec::new();
        let mut u = Cond::default();
        for (i, (counter, by)) in delta.counters.iter().enumerate() {
            adds.push(format!("#c{i} :c{i}"));
            u = u.name(&format!("#c{i}"), counter).value(&format!(":c{i}"), n(*by));
        }
        for (i, (attr, text)) in delta.text.iter().enumerate() {
            sets.push(format!("#t{i} = :t{i}"));
            u = u.name(&format!("#t{i}"), attr).value(&format!(":t{i}"), s(text));
        }
        let mut cond = None;
        if let Some(mark) = delta.mark {
            sets.push("#at = :at, #exp = :exp".into());
            u = u
                .name("#at", views::AT)
                .name("#exp", db::TTL)
                .value(":at", n(mark.at))
                .value(":exp", n(mark.at + views::KEEP_SECS));
            cond = Some(match mark.was {
                Some(was) => Cond::new("#at = :was").name("#at", views::AT).value(":was", n(was)),
                None => Cond::absent(),
            });
        }
        if !delta.sketch.is_empty() {
            let seen = current.get(&(pk.clone(), sk.clone()));
            let mut sketch = seen.and_then(stored_sketch).unwrap_or_default();
            for id in &delta.sketch {
                sketch.insert(id);
            }
            let version = seen.and_then(|i| db::get_n(i, field::VERSION));
            sets.push("#sk = :sk, #ver = :ver".into());
            u = u
                .name("#sk", field::SKETCH)
                .name("#ver", field::VERSION)
                .value(":sk", AttributeValue::B(sketch.to_bytes().into()))
                .value(":ver", n(version.unwrap_or(0) + 1));
            cond = Some(match version {
                Some(v) => Cond::new("#ver = :was").name("#ver", field::VERSION).value(":was", n(v)),
                None => Cond::absent(),
            });
        }
        let mut expr = String::new();
        if !sets.is_empty() {
            expr.push_str(&format!("SET {}", sets.join(", ")));
        }
        if !adds.is_empty() {
            expr.push_str(&format!(" ADD {}", adds.join(", ")));
        }
        tx = tx.update("counter", db::key(pk.clone(), sk.clone()), u.expr(expr.trim().to_string()), cond);
    }
    match tx.commit().await {
        Ok(()) => Ok(()),
        Err(TxError::Condition { part: "unit", .. }) => Err(Refused::AlreadyDone),
        Err(TxError::Condition { .. }) => Err(Refused::Conflict),
        Err(TxError::Api(e)) => Err(Refused::Failed(e.to_string())),
    }
}

fn stored_sketch(item: &Item) -> Option<Sketch> {
    item.get(field::SKETCH)
        .and_then(|v| v.as_b().ok())
        .and_then(|b| Sketch::from_bytes(b.as_ref()))
}

/// A day's merged shards: counters and the sketch.
#[derive(Default)]
pub struct Day {
    pub counters: Counters,
    pub sketch: Sketch,
}

impl Day {
    pub fn get(&self, counter: &str) -> u64 {
        self.counters.get(counter).copied().unwrap_or(0).max(0) as u64
    }
    pub fn merge(&mut self, other: &Day) {
        for (k, v) in &other.counters {
            *self.counters.entry(k.clone()).or_default() += v;
        }
        self.sketch.merge(&other.sketch);
    }
}

/// The days of `pk` from `from` to `to` (inclusive), shards merged: one Query.
pub async fn days(app: &App, pk: &str, from: &str, to: &str) -> ApiResult<BTreeMap<String, Day>> {
    let items = db::query_between(app, None, pk, &format!("D#{from}"), &format!("D#{to}#~")).await?;
    let mut out: BTreeMap<String, Day> = BTreeMap::new();
    for item in items {
        let Some(date) = db::get_s(&item, db::SK).and_then(|sk| sk.get(2..12)) else {
            continue;
        };
        let day = out.entry(date.to_string()).or_default();
        for (k, v) in &item {
            if let (Ok(num), false) = (v.as_n(), k == field::VERSION || k == db::TTL) {
                *day.counters.entry(k.clone()).or_default() += num.parse::<i64>().unwrap_or(0);
            }
        }
        if let Some(s) = stored_sketch(&item) {
            day.sketch.merge(&s);
        }
    }
    Ok(out)
}
