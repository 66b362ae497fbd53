//! One-time codes mailed to an account (password reset, email verification): 8 random digits
//! stored only as an HMAC, single use, with a lifetime; a code is burned after 5 wrong
//! tries, at most one is issued a minute and a few a day per account and purpose, and wrong
//! tries are capped per day across codes.
//!
//! | item | PK | SK |
//! |---|---|---|
//! | the current code | `USER#<id>` | `PASSWORD_RESET` / `EMAIL_VERIFY` |
//! | the day's counts (codes issued, wrong tries) | `USER#<id>` | `CODES#<purpose>` |

use common::db::{self, n, s};
use common::tx::{Cond, Tx, TxError};
use common::{ApiError, ApiResult, App};
use serde::{Deserialize, Serialize};

use crate::store;

pub const DIGITS: usize = 8;
/// Wrong tries that burn one code.
pub const MAX_TRIES_PER_CODE: i64 = 5;
/// A new code at most once a minute.
pub const RESEND_SECS: i64 = 60;
/// Codes per account, purpose and UTC day.
pub const MAX_CODES_PER_DAY: i64 = 5;
/// Wrong tries per account, purpose and UTC day, across codes.
pub const MAX_WRONG_PER_DAY: i64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    PasswordReset,
    EmailVerification,
}

impl Purpose {
    fn sk(self) -> &'static str {
        match self {
            Purpose::PasswordReset => store::RESET_SK,
            Purpose::EmailVerification => "EMAIL_VERIFY",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Purpose::PasswordReset => "password-reset",
            Purpose::EmailVerification => "email-verification",
        }
    }
    fn day_sk(self) -> String {
        format!("CODES#{}", self.name())
    }
    /// How long a code works.
    pub fn lifetime_secs(self) -> i64 {
        match self {
            Purpose::PasswordReset => 15 * 60,
            Purpose::EmailVerification => 24 * 3600,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredCode {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    entity: String,
    code_mac: String,
    attempts: i64,
    created_at: i64,
    expires_at: i64,
    /// The request (event) that issued it: a retry of the same request may replace it.
    issued_for: String,
    ttl: i64,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct DayCounts {
    #[serde(default)]
    day: String,
    #[serde(default)]
    codes: i64,
    #[serde(default)]
    wrong: i64,
}

fn mac(app: &App, purpose: Purpose, user_id: &str, code: &str) -> ApiResult<String> {
    let key = app.tokens()?.derive_key(&format!("{}-code", purpose.name()));
    Ok(common::crypto::hex(&common::crypto::hmac_sha256(
        &key,
        format!("{user_id}:{code}").as_bytes(),
    )))
}

fn today(now: i64) -> String {
    common::time::rfc3339(now)[..10].to_string()
}

/// Seconds until the next UTC day.
fn until_tomorrow(now: i64) -> u64 {
    (86_400 - now.rem_euclid(86_400)).max(1) as u64
}

async fn day_counts(app: &App, user_id: &str, purpose: Purpose, now: i64) -> ApiResult<DayCounts> {
    let counts = db::get::<DayCounts>(app, store::user_pk(user_id), purpose.day_sk()).await?;
    Ok(counts.filter(|c| c.day == today(now)).unwrap_or_default())
}

/// Counts one more `field` (`codes` or `wrong`) for today in `tx`, below `max`: the day's
/// counter as it was read (`seen`) must be unchanged, so concurrent requests cannot pass
/// the cap together.
fn count_today<'a>(tx: Tx<'a>, user_id: &str, purpose: Purpose, seen: &DayCounts, field: &str, max: i64, now: i64) -> Tx<'a> {
    let key = db::key(store::user_pk(user_id), purpose.day_sk());
    let day = today(now);
    let ttl = n(now + 2 * 86_400);
    if seen.day == day {
        let set = Cond::new(format!("ADD {field} :one SET #ttl = :ttl"))
            .value(":one", n(1))
            .value(":ttl", ttl)
            .name("#ttl", db::TTL);
        let below = Cond::new(format!("#day = :day AND {field} = :seen AND {field} < :max"))
            .name("#day", "day")
            .value(":day", s(&day))
            .value(":seen", n(if field == "codes" { seen.codes } else { seen.wrong }))
            .value(":max", n(max));
        tx.update("day", key, set, Some(below))
    } else {
        let (codes, wrong) = if field == "codes" { (1, 0) } else { (0, 1) };
        let set = Cond::new("SET #day = :day, codes = :codes, wrong = :wrong, #ttl = :ttl, entity = :entity")
            .name("#day", "day")
            .name("#ttl", db::TTL)
            .value(":day", s(&day))
            .value(":codes", n(codes))
            .value(":wrong", n(wrong))
            .value(":ttl", ttl)
            .value(":entity", s("code_counts"));
        let new_day = Cond::new("attribute_not_exists(#day) OR #day <> :day")
            .name("#day", "day")
            .value(":day", s(&day));
        tx.update("day", key, set, Some(new_day))
    }
}

/// Issues a new code for `user_id` on behalf of request `request_id`: `None` when one was
/// issued less than a minute ago (by another request) or the day's codes are used up.
pub async fn issue(app: &App, user_id: &str, purpose: Purpose, request_id: &str) -> ApiResult<Option<String>> {
    let now = common::time::now_secs();
    let counts = day_counts(app, user_id, purpose, now).await?;
    if counts.codes >= MAX_CODES_PER_DAY {
        return Ok(None);
    }
    let code = common::crypto::random_digits(DIGITS);
    let stored = StoredCode {
        pk: store::user_pk(user_id),
        sk: purpose.sk().into(),
        entity: format!("{}_code", purpose.name()),
        code_mac: mac(app, purpose, user_id, &code)?,
        attempts: 0,
        created_at: now,
        expires_at: now + purpose.lifetime_secs(),
        issued_for: request_id.into(),
        ttl: now + purpose.lifetime_secs() + 3600,
    };
    let fresh = Cond::new("attribute_not_exists(PK) OR created_at < :recent OR issued_for = :req")
        .value(":recent", n(now - RESEND_SECS))
        .value(":req", s(request_id));
    let tx = Tx::new(app).put_item("code", db::to_item(&stored)?, Some(fresh));
    let tx = count_today(tx, user_id, purpose, &counts, "codes", MAX_CODES_PER_DAY, now);
    match tx.commit().await {
        Err(TxError::Condition { .. }) => Ok(None),
        other => {
            other?;
            Ok(Some(code))
        }
    }
}

/// Why a code did not work.
#[derive(Debug)]
pub enum Refused {
    /// Wrong, used, expired or burned.
    Invalid,
    /// Too many wrong tries today; retry after the seconds given.
    TooManyTries(u64),
}

/// A code that matched: [`Checked::consume`] deletes it in the caller's transaction (only if
/// it is still the same code) and gives the day's try back.
pub struct Checked {
    key: db::Item,
    day_key: db::Item,
    code_mac: String,
}

impl Checked {
    pub fn consume<'a>(&self, tx: Tx<'a>) -> Tx<'a> {
        let same = Cond::new("code_mac = :mac").value(":mac", s(&self.code_mac));
        tx.delete("code", self.key.clone(), Some(same))
            .update("day", self.day_key.clone(), Cond::add("wrong", -1), None)
    }
}

/// Checks `code` for `user_id`. Each check is claimed before the code is compared (one try
/// of the code, one of the day, in one transaction on the values just read), so parallel
/// guesses compare no more codes than the caps allow; the fifth wrong try burns the code.
pub async fn check(app: &App, user_id: &str, purpose: Purpose, code: &str) -> ApiResult<Result<Checked, Refused>> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Err(Refused::Invalid));
    }
    let now = common::time::now_secs();
    let counts = day_counts(app, user_id, purpose, now).await?;
    if counts.wrong >= MAX_WRONG_PER_DAY {
        return Ok(Err(Refused::TooManyTries(until_tomorrow(now))));
    }
    let key = db::key(store::user_pk(user_id), purpose.sk());
    let Some(stored) = db::get::<StoredCode>(app, store::user_pk(user_id), purpose.sk()).await? else {
        return Ok(Err(Refused::Invalid));
    };
    if stored.expires_at <= now || stored.attempts >= MAX_TRIES_PER_CODE {
        return Ok(Err(Refused::Invalid));
    }
    let tries = Cond::new("ADD attempts :one").value(":one", n(1));
    let same = Cond::new("code_mac = :mac AND attempts = :seen")
        .value(":mac", s(&stored.code_mac))
        .value(":seen", n(stored.attempts));
    let tx = Tx::new(app).update("code", key.clone(), tries, Some(same));
    let tx = count_today(tx, user_id, purpose, &counts, "wrong", MAX_WRONG_PER_DAY, now);
    match tx.commit().await {
        // Another check claimed first: this one is not compared.
        Err(TxError::Condition { .. }) => return Ok(Err(Refused::Invalid)),
        other => other?,
    }
    let given = mac(app, purpose, user_id, code)?;
    if common::crypto::constant_time_eq(given.as_bytes(), stored.code_mac.as_bytes()) {
        return Ok(Ok(Checked {
            key,
            day_key: db::key(store::user_pk(user_id), purpose.day_sk()),
            code_mac: stored.code_mac,
        }));
    }
    // The fifth wrong try burns the code: it stays (refused) until it expires, so a new one
    // still waits out the minute.
    Ok(Err(Refused::Invalid))
}

impl Refused {
    /// The reply: 400 `<code>` for an invalid code, 429 `too_many_attempts` past the day's cap.
    pub fn error(&self, code: &'static str, message: &'static str) -> ApiError {
        match self {
            Refused::Invalid => ApiError::bad_request(message).with_code(code),
            Refused::TooManyTries(wait) => {
                ApiError::too_many_requests(*wait, "too many wrong codes today; try again tomorrow").with_code("too_many_attempts")
            }
        }
    }
}
