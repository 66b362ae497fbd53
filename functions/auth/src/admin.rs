//! Creating admin accounts. Admins cannot register; an operator runs the `create-admin`
//! command (crates/devstack) against the local stack or, with AWS credentials and
//! TABLE_NAME, against the deployed table.

use common::events::Actor;
use common::token::Role;
use common::{ApiResult, App};

use crate::rules::{Email, FullName, Password, Problems};
use crate::store::{self, Account};

/// Creates an admin; returns the new user id. Same rules as registration.
pub async fn create_admin(app: &App, email: &str, password: &str, full_name: &str) -> ApiResult<String> {
    let mut p = Problems::default();
    let email = p.check("email", Email::parse(email));
    let password = p.check("password", Password::parse(password));
    let name = p.check("full_name", FullName::parse(full_name));
    let (Some(email), Some(password), Some(name)) = (email, password, name) else {
        return Err(p.into_error());
    };
    let hash = crate::passwords::hash(password.expose().to_string()).await?;
    let mut account = Account::new(
        ulid::Ulid::new().to_string(),
        email.as_str().to_string(),
        Role::Admin,
        name.as_str().to_string(),
        hash,
    );
    // The operator vouches for the address.
    account.email_verified = true;
    store::create_account(app, &account, None, Actor::System).await?;
    // On the record: who has admin rights, since when (the operator's command, no session).
    let operator = common::token::Principal {
        user_id: "operator".into(),
        role: Role::Admin,
        session_id: String::new(),
    };
    let entry = common::audit::AuditEntry::new(
        &operator,
        "user.admin_created",
        "user",
        &account.id,
        None::<&()>,
        Some(&serde_json::json!({"email": account.email, "full_name": account.full_name})),
    );
    common::audit::record(app, &entry).await?;
    Ok(account.id)
}

/// Marks an account's address verified without a mailed code: an operator vouches for it
/// (demo data; admin accounts are created verified).
pub async fn vouch_for_email(app: &App, user_id: &str) -> ApiResult<()> {
    app.dynamo()
        .update_item()
        .table_name(app.table())
        .set_key(Some(common::db::key(store::user_pk(user_id), store::ACCOUNT_SK)))
        .update_expression("SET email_verified = :t")
        .condition_expression("attribute_exists(PK)")
        .expression_attribute_values(":t", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .send()
        .await?;
    Ok(())
}
