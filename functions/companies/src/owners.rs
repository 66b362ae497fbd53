//! How many owners a company has: `COMPANY#<id>` / `OWNERS` (`count`), changed in the same
//! transactions as the memberships. Removing an owner needs `count > 1` at commit time, so
//! "a company keeps at least one owner" holds under concurrent removals (a count read before
//! the transaction would let two removals pass together).

use common::db;
use common::tx::{Cond, Tx};

const SK: &str = "OWNERS";

fn key(company_id: &str) -> db::Item {
    db::key(crate::company_pk(company_id), SK)
}

/// The count of a new company: its creator (part `owners`).
pub fn first<'a>(tx: Tx<'a>, company_id: &str) -> Tx<'a> {
    tx.update(
        "owners",
        key(company_id),
        Cond::new("SET #count = :one, entity = :e")
            .name("#count", "count")
            .value(":one", db::n(1))
            .value(":e", db::s("company_owners")),
        Some(Cond::absent()),
    )
}

/// An erased account's ownership ends: both membership items and one owner less, in one
/// transaction, without the "another owner remains" guard (erasure is not refused; a
/// company whose last owner is erased has none until an admin acts). Nothing happens when
/// the membership is gone already (a retried erasure).
pub async fn erase_owner(app: &common::App, company_id: &str, user_id: &str) -> common::ApiResult<()> {
    let tx = Tx::new(app)
        .delete(
            "member",
            db::key(crate::company_pk(company_id), format!("MEMBER#{user_id}")),
            Some(Cond::present()),
        )
        .delete(
            "membership",
            db::key(auth::account::partition(user_id), crate::company_pk(company_id)),
            None,
        )
        .update(
            "owners",
            key(company_id),
            Cond::new("ADD #count :d").name("#count", "count").value(":d", db::n(-1)),
            None,
        );
    match tx.commit().await {
        Err(common::tx::TxError::Condition { part: "member", .. }) => Ok(()),
        other => Ok(other?),
    }
}

/// One owner more or less (part `owners`); one less only while another owner remains.
pub fn count<'a>(tx: Tx<'a>, company_id: &str, delta: i64) -> Tx<'a> {
    let change = Cond::new("ADD #count :d").name("#count", "count").value(":d", db::n(delta));
    let guard = (delta < 0).then(|| Cond::new("#count > :one").name("#count", "count").value(":one", db::n(1)));
    tx.update("owners", key(company_id), change, guard)
}
