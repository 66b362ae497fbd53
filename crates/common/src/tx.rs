//! Named transactions: every TransactWriteItems of the project is built here, each part with
//! a name, and a cancellation is reported by the name of the condition that failed (with the
//! item it saw, when the part asked for it), never by position.
//!
//! ```ignore
//! let tx = auth::account::writes_by(app, &me)          // the caller's live account, checked
//!     .check("job_open", job_key, Cond::new("#st = :p").name("#st", "status").value(":p", s("published")))
//!     .put_new("guard", &guard).returning_item()
//!     .put_new("application", &item)
//!     .emit(Actor::user(&me.user_id), DomainEvent::ApplicationSubmitted(a.event_ref()));
//! match tx.commit().await {
//!     Err(TxError::Condition { part: "guard", item }) => ...,
//!     other => other?,
//! }
//! ```
//!
//! A part may carry its own refusal ([`Tx::refuse_with`]): when its condition fails the
//! commit answers that error (the account check answers 401/403 this way). Any other failed
//! condition not handled by the caller maps to 409 `concurrent_change`.

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use serde::Serialize;

use crate::db::{self, Item};
use crate::error::{ApiError, ApiResult};
use crate::events::Envelope;
use crate::App;

/// DynamoDB's limit of parts per transaction.
pub const MAX_PARTS: usize = 100;

/// A condition or update expression with its placeholders.
#[derive(Clone, Debug, Default)]
pub struct Cond {
    expr: String,
    names: Vec<(String, String)>,
    values: Vec<(String, AttributeValue)>,
}

impl Cond {
    pub fn new(expr: impl Into<String>) -> Self {
        Cond {
            expr: expr.into(),
            ..Default::default()
        }
    }
    /// The item does not exist yet.
    pub fn absent() -> Self {
        Cond::new("attribute_not_exists(PK)")
    }
    /// The item exists.
    pub fn present() -> Self {
        Cond::new("attribute_exists(PK)")
    }
    /// `ADD <attribute> <delta>`: a counter kept in the same transaction as the writes.
    pub fn add(attribute: &str, delta: i64) -> Self {
        Cond::new("ADD #add :add")
            .name("#add", attribute)
            .value(":add", crate::db::n(delta))
    }
    /// The counter `attribute` is below `max` (or not counted yet).
    pub fn below(attribute: &str, max: i64) -> Self {
        Cond::new("attribute_not_exists(#lim) OR #lim < :lim")
            .name("#lim", attribute)
            .value(":lim", crate::db::n(max))
    }
    /// The same placeholders with another expression (an update built up piece by piece).
    pub fn expr(mut self, expr: impl Into<String>) -> Self {
        self.expr = expr.into();
        self
    }
    pub fn name(mut self, placeholder: &str, attribute: &str) -> Self {
        self.names.push((placeholder.into(), attribute.into()));
        self
    }
    pub fn value(mut self, placeholder: &str, v: AttributeValue) -> Self {
        self.values.push((placeholder.into(), v));
        self
    }
}

/// What a refusing part answers when its condition fails, given the item it saw.
pub type Refusal = Box<dyn Fn(Option<&Item>) -> ApiError + Send + Sync>;

enum Op {
    Check(Item, Cond),
    Put(Item, Option<Cond>),
    Update(Item, Cond, Option<Cond>),
    Delete(Item, Option<Cond>),
}

struct Part {
    name: &'static str,
    op: Op,
    return_item: bool,
    refusal: Option<Refusal>,
}

/// Why a transaction did not commit.
#[derive(Debug)]
pub enum TxError {
    /// The condition of the part named `part` failed; `item` is what it saw when the part
    /// asked for it ([`Tx::returning_item`]).
    Condition { part: &'static str, item: Option<Item> },
    /// Anything else (or a refusing part's own error).
    Api(ApiError),
}

impl From<TxError> for ApiError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Condition { part, .. } => {
                tracing::info!(part, "transaction condition failed");
                ApiError::conflict("concurrent_change", "something changed meanwhile; reload and retry")
            }
            TxError::Api(e) => e,
        }
    }
}

impl From<ApiError> for TxError {
    fn from(e: ApiError) -> Self {
        TxError::Api(e)
    }
}

/// A transaction being built; nothing is sent before [`Tx::commit`].
pub struct Tx<'a> {
    app: &'a App,
    parts: Vec<Part>,
    error: Option<ApiError>,
}

impl<'a> Tx<'a> {
    pub fn new(app: &'a App) -> Self {
        Tx {
            app,
            parts: Vec::new(),
            error: None,
        }
    }

    fn push(mut self, name: &'static str, op: Op) -> Self {
        self.parts.push(Part {
            name,
            op,
            return_item: false,
            refusal: None,
        });
        self
    }

    fn item_of<T: Serialize>(&mut self, value: &T) -> Item {
        match db::to_item(value) {
            Ok(i) => i,
            Err(e) => {
                self.error.get_or_insert(e);
                Item::new()
            }
        }
    }

    /// A condition on an item that is not written.
    pub fn check(self, name: &'static str, key: Item, cond: Cond) -> Self {
        self.push(name, Op::Check(key, cond))
    }
    /// Writes `value` whatever is there.
    pub fn put<T: Serialize>(mut self, name: &'static str, value: &T) -> Self {
        let item = self.item_of(value);
        self.push(name, Op::Put(item, None))
    }
    /// Writes `value`, which must not exist yet.
    pub fn put_new<T: Serialize>(self, name: &'static str, value: &T) -> Self {
        self.put_if(name, value, Cond::absent())
    }
    /// Writes `value` if `cond` holds for what is there.
    pub fn put_if<T: Serialize>(mut self, name: &'static str, value: &T, cond: Cond) -> Self {
        let item = self.item_of(value);
        self.push(name, Op::Put(item, Some(cond)))
    }
    /// Writes an item given as attributes, if `cond` (when given) holds.
    pub fn put_item(self, name: &'static str, item: Item, cond: Option<Cond>) -> Self {
        self.push(name, Op::Put(item, cond))
    }
    /// An update expression (`SET ...`, `ADD ...`) on `key`, if `cond` (when given) holds.
    pub fn update(self, name: &'static str, key: Item, update: Cond, cond: Option<Cond>) -> Self {
        self.push(name, Op::Update(key, update, cond))
    }
    pub fn delete(self, name: &'static str, key: Item, cond: Option<Cond>) -> Self {
        self.push(name, Op::Delete(key, cond))
    }
    /// The domain event of the change (transactional outbox), part `event`.
    fn event(self, event: &Envelope) -> Self {
        self.put_if("event", &crate::events::outbox_item_now(event), Cond::absent())
    }
    /// `event`, caused by `actor`, as the change's outbox entry (part `event`).
    pub fn emit(self, actor: crate::events::Actor, event: crate::events::DomainEvent) -> Self {
        self.event(&Envelope::of(actor, &event))
    }
    /// The audit entry of an admin action, part `audit`.
    pub fn audit(self, entry: &crate::audit::AuditEntry) -> Self {
        self.put("audit", &crate::audit::audit_item(entry))
    }
    /// The last part returns the item its condition saw when it fails.
    pub fn returning_item(mut self) -> Self {
        if let Some(p) = self.parts.last_mut() {
            p.return_item = true;
        }
        self
    }
    /// When the last part's condition fails, the commit answers `refusal(item seen)`.
    pub fn refuse_with(mut self, refusal: impl Fn(Option<&Item>) -> ApiError + Send + Sync + 'static) -> Self {
        if let Some(p) = self.parts.last_mut() {
            p.return_item = true;
            p.refusal = Some(Box::new(refusal));
        }
        self
    }

    /// Sends the transaction; a failed condition is reported by its part's name.
    pub async fn commit(self) -> Result<(), TxError> {
        if let Some(e) = self.error {
            return Err(TxError::Api(e));
        }
        if self.parts.len() > MAX_PARTS {
            return Err(TxError::Api(ApiError::internal(format!(
                "a transaction of {} parts",
                self.parts.len()
            ))));
        }
        let table = self.app.table();
        let mut names = Vec::with_capacity(self.parts.len());
        let mut refusals = Vec::with_capacity(self.parts.len());
        let mut items = Vec::with_capacity(self.parts.len());
        for p in self.parts {
            names.push(p.name);
            refusals.push(p.refusal);
            items.push(build(table, p.op, p.return_item).map_err(TxError::Api)?);
        }
        let e = match self
            .app
            .dynamo()
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        let (Some(codes), Some(seen)) = (db::cancellation_codes(&e), db::cancellation_items(&e)) else {
            return Err(TxError::Api(e.into()));
        };
        let failed: Vec<usize> = codes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.as_deref() == Some("ConditionalCheckFailed"))
            .map(|(i, _)| i)
            .collect();
        // A refusing part (the caller's account) speaks first: nothing else matters then.
        if let Some(refusal) = failed.iter().find_map(|&i| refusals[i].as_ref().map(|r| (i, r))) {
            let (i, refusal) = refusal;
            return Err(TxError::Api(refusal(seen.get(i).and_then(Option::as_ref))));
        }
        match failed.first() {
            Some(&i) => Err(TxError::Condition {
                part: names[i],
                item: seen.get(i).cloned().flatten(),
            }),
            None => Err(TxError::Api(e.into())),
        }
    }
}

type Names = Option<std::collections::HashMap<String, String>>;
type Values = Option<std::collections::HashMap<String, AttributeValue>>;

/// A condition's expression and the placeholders of it and of `update` (DynamoDB refuses
/// empty placeholder maps, so none is `None`).
fn placeholders(update: Option<&mut Cond>, cond: Option<Cond>) -> (Option<String>, Names, Values) {
    let mut names = Vec::new();
    let mut values = Vec::new();
    if let Some(u) = update {
        names.append(&mut u.names);
        values.append(&mut u.values);
    }
    let expr = cond.map(|c| {
        names.extend(c.names);
        values.extend(c.values);
        c.expr
    });
    let names = (!names.is_empty()).then(|| names.into_iter().collect());
    let values = (!values.is_empty()).then(|| values.into_iter().collect());
    (expr, names, values)
}

/// A part's builder with its table, condition, placeholders and return-on-failure: the four
/// part kinds share these setters (but no trait).
macro_rules! conditioned {
    ($builder:expr, $table:expr, $placeholders:expr, $rv:expr) => {{
        let (expr, names, values) = $placeholders;
        $builder
            .table_name($table)
            .set_condition_expression(expr)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .set_return_values_on_condition_check_failure($rv)
    }};
}

fn build(table: &str, op: Op, return_item: bool) -> ApiResult<TransactWriteItem> {
    let rv = return_item.then_some(ReturnValuesOnConditionCheckFailure::AllOld);
    let b = TransactWriteItem::builder();
    Ok(match op {
        Op::Check(key, c) => {
            let x = conditioned!(ConditionCheck::builder().set_key(Some(key)), table, placeholders(None, Some(c)), rv);
            b.condition_check(x.build().map_err(db::internal)?).build()
        }
        Op::Put(item, cond) => {
            let x = conditioned!(Put::builder().set_item(Some(item)), table, placeholders(None, cond), rv);
            b.put(x.build().map_err(db::internal)?).build()
        }
        Op::Update(key, mut u, cond) => {
            let p = placeholders(Some(&mut u), cond);
            let x = conditioned!(Update::builder().set_key(Some(key)).update_expression(u.expr), table, p, rv);
            b.update(x.build().map_err(db::internal)?).build()
        }
        Op::Delete(key, cond) => {
            let x = conditioned!(Delete::builder().set_key(Some(key)), table, placeholders(None, cond), rv);
            b.delete(x.build().map_err(db::internal)?).build()
        }
    })
}
