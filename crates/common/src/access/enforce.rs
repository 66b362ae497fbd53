//! The local stack's check of declared access: [`DECLARED`] names the running function and
//! what its row declares; [`Enforce`], an interceptor on the stack's DynamoDB client,
//! refuses what it does not.

use super::{Access, Db};

/// The function a task serves and what it declared: set by the local stack around each
/// route's invocation; [`Enforce`] checks its DynamoDB calls against it. Outside such a task
/// (every Lambda, whose IAM role holds the policies) nothing is checked.
#[derive(Clone, Copy, Debug)]
pub struct Declared {
    pub name: &'static str,
    pub access: Access,
    /// A counted route also holds the shared policies: its rate-limit counter (UpdateItem of
    /// `RATE#` items) and the session gate (BatchGetItem of `USER#` items).
    pub counted: bool,
    /// A route that takes `Idempotency-Key` also holds the idempotency records' policy
    /// (GetItem, PutItem, UpdateItem and DeleteItem of `IDEMP#` items,
    /// [`crate::idempotency`]: the replay, the claim, the stored reply, the release after a
    /// failure).
    pub idempotent: bool,
}

tokio::task_local! {
    pub static DECLARED: Declared;
}

/// Refuses, as IAM would, a DynamoDB call the running function did not declare (see
/// [`DECLARED`]), and logs which action was missing from its row.
#[derive(Debug, Clone, Default)]
pub struct Enforce;

impl aws_smithy_runtime_api::client::interceptors::Intercept for Enforce {
    fn name(&self) -> &'static str {
        "DeclaredAccess"
    }

    fn read_before_execution(
        &self,
        context: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        let Ok(declared) = DECLARED.try_with(|d| *d) else {
            return Ok(());
        };
        match undeclared(&declared, context.input()) {
            None => Ok(()),
            Some(missing) => {
                tracing::error!(function = declared.name, missing = %missing, "a call its functions! row does not declare");
                Err(format!(
                    "{}: not authorized to perform {missing} (its functions! row does not declare it)",
                    declared.name
                )
                .into())
            }
        }
    }
}

/// What the call needs that `d` does not allow, if anything.
fn undeclared(d: &Declared, input: &aws_smithy_runtime_api::client::interceptors::context::Input) -> Option<String> {
    use aws_sdk_dynamodb::operation as op;
    let allows = |db: Db| d.access.table.contains(&db);
    let leading = |pk: Option<&aws_sdk_dynamodb::types::AttributeValue>, prefix: &str| {
        pk.and_then(|v| v.as_s().ok()).is_some_and(|s| s.starts_with(prefix))
    };
    let need = |db: Db| (!allows(db)).then(|| format!("dynamodb:{}", db.action()));
    let record = |pk: Option<&aws_sdk_dynamodb::types::AttributeValue>| d.idempotent && leading(pk, "IDEMP#");
    if let Some(i) = input.downcast_ref::<op::get_item::GetItemInput>() {
        return if record(i.key.as_ref().and_then(|k| k.get("PK"))) {
            None
        } else {
            need(Db::Get)
        };
    }
    if let Some(i) = input.downcast_ref::<op::query::QueryInput>() {
        if i.index_name.is_some() && !d.access.indexes {
            return Some(format!("dynamodb:Query on index {}", i.index_name.as_deref().unwrap_or_default()));
        }
        return need(Db::Query);
    }
    if let Some(i) = input.downcast_ref::<op::update_item::UpdateItemInput>() {
        let pk = i.key.as_ref().and_then(|k| k.get("PK"));
        let shared = (d.counted && leading(pk, "RATE#")) || record(pk);
        return if shared { None } else { need(Db::Update) };
    }
    if let Some(i) = input.downcast_ref::<op::batch_get_item::BatchGetItemInput>() {
        // The session gate: counted routes, and `$connect` (`.session_check()`).
        let gate = (d.counted || d.access.session_check)
            && i.request_items
                .iter()
                .flatten()
                .all(|(_, ka)| ka.keys.iter().all(|k| leading(k.get("PK"), "USER#")));
        return if gate { None } else { need(Db::BatchGet) };
    }
    if let Some(i) = input.downcast_ref::<op::put_item::PutItemInput>() {
        return if record(i.item.as_ref().and_then(|k| k.get("PK"))) {
            None
        } else {
            need(Db::Put)
        };
    }
    if let Some(i) = input.downcast_ref::<op::delete_item::DeleteItemInput>() {
        return if record(i.key.as_ref().and_then(|k| k.get("PK"))) {
            None
        } else {
            need(Db::Delete)
        };
    }
    if input.downcast_ref::<op::batch_write_item::BatchWriteItemInput>().is_some() {
        return need(Db::BatchWrite);
    }
    if input.downcast_ref::<op::transact_get_items::TransactGetItemsInput>().is_some() {
        return need(Db::Get);
    }
    if let Some(i) = input.downcast_ref::<op::transact_write_items::TransactWriteItemsInput>() {
        let mut missing: Vec<String> = Vec::new();
        for item in i.transact_items.iter().flatten() {
            let db = if item.put.is_some() {
                Db::Put
            } else if item.update.is_some() {
                Db::Update
            } else if item.delete.is_some() {
                Db::Delete
            } else {
                Db::ConditionCheck
            };
            if let Some(m) = need(db).filter(|m| !missing.contains(m)) {
                missing.push(m);
            }
        }
        return (!missing.is_empty()).then(|| format!("{} (in a transaction)", missing.join(", ")));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{table, NOTHING};
    use aws_sdk_dynamodb::operation as op;
    use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
    use aws_smithy_runtime_api::client::interceptors::context::Input;

    fn declared(access: Access, counted: bool) -> Declared {
        Declared {
            name: "test-fn",
            access,
            counted,
            idempotent: false,
        }
    }

    fn key(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
        [
            ("PK".to_string(), AttributeValue::S(pk.into())),
            ("SK".to_string(), AttributeValue::S("X".into())),
        ]
        .into()
    }

    #[test]
    fn a_call_is_checked_against_the_declared_actions() {
        let get = || {
            Input::erase(
                op::get_item::GetItemInput::builder()
                    .table_name("t")
                    .set_key(Some(key("JOB#1")))
                    .build()
                    .unwrap(),
            )
        };
        assert_eq!(undeclared(&declared(NOTHING, true), &get()).as_deref(), Some("dynamodb:GetItem"));
        assert_eq!(undeclared(&declared(table(&[Db::Get]), true), &get()), None);
        let query = |index: Option<&str>| {
            Input::erase(
                op::query::QueryInput::builder()
                    .table_name("t")
                    .set_index_name(index.map(str::to_string))
                    .build()
                    .unwrap(),
            )
        };
        assert_eq!(undeclared(&declared(table(&[Db::Query]), false), &query(None)), None);
        assert!(undeclared(&declared(table(&[Db::Query]), false), &query(Some("GSI1")))
            .unwrap()
            .contains("GSI1"));
        assert_eq!(
            undeclared(&declared(table(&[Db::Query]).indexes(), false), &query(Some("GSI1"))),
            None
        );
    }

    #[test]
    fn idempotent_routes_may_keep_their_records_only() {
        let get = |pk: &str| {
            Input::erase(
                op::get_item::GetItemInput::builder()
                    .table_name("t")
                    .set_key(Some(key(pk)))
                    .build()
                    .unwrap(),
            )
        };
        let put = |pk: &str| {
            Input::erase(
                op::put_item::PutItemInput::builder()
                    .table_name("t")
                    .set_item(Some(key(pk)))
                    .build()
                    .unwrap(),
            )
        };
        let idem = Declared {
            idempotent: true,
            ..declared(NOTHING, true)
        };
        assert_eq!(undeclared(&idem, &get("IDEMP#u#POST /jobs#k")), None);
        assert_eq!(undeclared(&idem, &put("IDEMP#u#POST /jobs#k")), None);
        assert_eq!(undeclared(&idem, &put("JOB#1")).as_deref(), Some("dynamodb:PutItem"));
        let delete = |pk: &str| {
            Input::erase(
                op::delete_item::DeleteItemInput::builder()
                    .table_name("t")
                    .set_key(Some(key(pk)))
                    .build()
                    .unwrap(),
            )
        };
        assert_eq!(undeclared(&idem, &delete("IDEMP#u#POST /jobs#k")), None);
        assert_eq!(undeclared(&idem, &delete("JOB#1")).as_deref(), Some("dynamodb:DeleteItem"));
        assert_eq!(
            undeclared(&declared(NOTHING, true), &get("IDEMP#u#POST /jobs#k")).as_deref(),
            Some("dynamodb:GetItem")
        );
    }

    #[test]
    fn a_transaction_needs_each_of_its_item_actions() {
        let put = Put::builder().table_name("t").set_item(Some(key("JOB#1"))).build().unwrap();
        let check = ConditionCheck::builder()
            .table_name("t")
            .set_key(Some(key("CO#1")))
            .condition_expression("attribute_exists(PK)")
            .build()
            .unwrap();
        let tx = || {
            Input::erase(
                op::transact_write_items::TransactWriteItemsInput::builder()
                    .transact_items(TransactWriteItem::builder().put(put.clone()).build())
                    .transact_items(TransactWriteItem::builder().condition_check(check.clone()).build())
                    .build()
                    .unwrap(),
            )
        };
        assert_eq!(
            undeclared(&declared(table(&[Db::Put]), true), &tx()).as_deref(),
            Some("dynamodb:ConditionCheckItem (in a transaction)")
        );
        assert_eq!(undeclared(&declared(table(&[Db::Put, Db::ConditionCheck]), true), &tx()), None);
    }

    #[test]
    fn the_shared_policies_cover_only_their_items_and_only_counted_routes() {
        let update = |pk: &str| {
            Input::erase(
                op::update_item::UpdateItemInput::builder()
                    .table_name("t")
                    .set_key(Some(key(pk)))
                    .build()
                    .unwrap(),
            )
        };
        assert_eq!(undeclared(&declared(NOTHING, true), &update("RATE#ip#1")), None);
        assert_eq!(
            undeclared(&declared(NOTHING, false), &update("RATE#ip#1")).as_deref(),
            Some("dynamodb:UpdateItem")
        );
        assert_eq!(
            undeclared(&declared(NOTHING, true), &update("JOB#1")).as_deref(),
            Some("dynamodb:UpdateItem")
        );
        let batch = |pk: &str| {
            let keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder().keys(key(pk)).build().unwrap();
            Input::erase(
                op::batch_get_item::BatchGetItemInput::builder()
                    .request_items("t", keys)
                    .build()
                    .unwrap(),
            )
        };
        assert_eq!(undeclared(&declared(NOTHING, true), &batch("USER#1")), None);
        assert_eq!(undeclared(&declared(NOTHING.session_check(), false), &batch("USER#1")), None);
        assert_eq!(
            undeclared(&declared(NOTHING, false), &batch("USER#1")).as_deref(),
            Some("dynamodb:BatchGetItem")
        );
        assert_eq!(
            undeclared(&declared(NOTHING, true), &batch("JOB#1")).as_deref(),
            Some("dynamodb:BatchGetItem")
        );
    }
}
