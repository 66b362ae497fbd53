//! Emails with one-time codes: the welcome email (with the address-verification code and a
//! link), a password reset code, a new verification code. Each is sent once per event: the
//! sent marker is checked before a code is issued, and a retry of the same event replaces
//! the code it issued before (so the code mailed is always the one that works).

use auth::codes::Purpose;
use common::events::UserRegistered;
use common::token::Role;
use common::App;
use serde_json::json;

use crate::dispatch::failed;
use crate::email;

/// The link that verifies `email` with `code` (GET /auth/email/verify).
fn verify_link(app: &App, email: &str, code: &str) -> String {
    let mut url = format!("{}/auth/email/verify?", app.settings.public_url.trim_end_matches('/'));
    url.push_str(&form_urlencoded(&[("email", email), ("code", code)]));
    url
}

fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    let enc = |v: &str| {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&")
}

/// The welcome email of a new account, with its verification code.
pub async fn welcome(app: &App, event_id: &str, u: &UserRegistered) -> Result<(), String> {
    if email::already_sent(app, &u.user_id, event_id).await.map_err(failed)? {
        return Ok(());
    }
    let code = auth::codes::issue(app, &u.user_id, Purpose::EmailVerification, event_id)
        .await
        .map_err(failed)?;
    let next_step = if u.role == Role::Employer {
        "Verify your email address, then create your company page and post your first job."
    } else {
        "Complete your profile and start applying to jobs."
    };
    let context = json!({
        "name": u.full_name, "next_step": next_step, "code": code,
        "verify_url": code.as_deref().map(|c| verify_link(app, &u.email, c)),
        "reason": "You get this email because an account was created with this address.",
    });
    let mail = common::mail::render("welcome", &u.email, "Welcome to the job platform", &context)?;
    email::send_and_record(app, &u.user_id, event_id, &mail).await
}

/// An invitation to join a company, mailed when the address belongs to an active employer
/// (an address without an account gets nothing: the platform does not mail strangers; an
/// account made later finds the invitation in GET /me/invitations).
pub async fn invitation(app: &App, event_id: &str, i: &common::events::MemberInvited) -> Result<(), String> {
    let Some(account) = auth::store::account_by_email(app, &i.email).await.map_err(failed)? else {
        return Ok(());
    };
    if account.role != Role::Employer || account.status != auth::store::AccountStatus::Active {
        return Ok(());
    }
    if email::already_sent(app, &account.id, event_id).await.map_err(failed)? {
        return Ok(());
    }
    let role = if i.role == common::vocab::MemberRole::Owner {
        "an owner"
    } else {
        "a member"
    };
    let context = json!({"name": account.full_name, "company_name": i.company_name, "role": role,
        "reason": "You get this email because an owner of this company invited your address."});
    let subject = format!("Join {} on the job platform", i.company_name);
    let mail = common::mail::render("invitation", &account.email, &subject, &context)?;
    email::send_and_record(app, &account.id, event_id, &mail).await
}

/// A code for `purpose` mailed to the account of `address`, if there is one (and, for a
/// verification, it is not verified yet).
pub async fn requested(app: &App, event_id: &str, address: &str, purpose: Purpose) -> Result<(), String> {
    let Some(account) = auth::store::account_by_email(app, address).await.map_err(failed)? else {
        return Ok(());
    };
    if purpose == Purpose::EmailVerification && account.email_verified {
        return Ok(());
    }
    if email::already_sent(app, &account.id, event_id).await.map_err(failed)? {
        return Ok(());
    }
    let Some(code) = auth::codes::issue(app, &account.id, purpose, event_id).await.map_err(failed)? else {
        return Ok(());
    };
    let minutes = purpose.lifetime_secs() / 60;
    let mail = match purpose {
        Purpose::PasswordReset => {
            let context = json!({"code": code, "minutes": minutes,
                "reason": "You get this email because a password reset was asked for your account."});
            common::mail::render("reset_code", &account.email, "Your password reset code", &context)?
        }
        Purpose::EmailVerification => {
            let context = json!({"name": account.full_name, "code": code, "hours": minutes / 60,
                "verify_url": verify_link(app, &account.email, &code),
                "reason": "You get this email because a verification code was asked for this address."});
            common::mail::render("verify_code", &account.email, "Your verification code", &context)?
        }
    };
    email::send_and_record(app, &account.id, event_id, &mail).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_encode_the_address() {
        assert_eq!(
            form_urlencoded(&[("email", "a+b@example.com"), ("code", "12345678")]),
            "email=a%2Bb%40example.com&code=12345678"
        );
    }
}
