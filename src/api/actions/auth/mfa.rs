//! TOTP through the API (RFC 6238; docs/api.md, "Sign-in flows";
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AssociateSoftwareToken.html>):
//! `AssociateSoftwareToken` and `VerifySoftwareToken` with an access token or with the `Session`
//! of an `MFA_SETUP` challenge, and the `SOFTWARE_TOKEN_MFA` / `MFA_SETUP` answers. The secret,
//! the one-use time steps and the throttle are the hosted pages' (`store::mfa`,
//! `flows::credentials`).

use super::{Params, Signing, param, record, session, tokens};
use crate::api::wire::input;
use crate::api::{ApiError, Ctx, secret_hash, token};
use crate::flows::{Site, credentials};
use crate::metrics::SignIn;
use crate::model::User;
use crate::store::mfa::{self, MfaRow};
use crate::totp;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssociateInput {
    access_token: Option<String>,
    session: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyInput {
    access_token: Option<String>,
    session: Option<String>,
    user_code: String,
}

/// Whose authenticator a call is about: a signed-in user, or a sign-in in `MFA_SETUP`.
#[allow(clippy::large_enum_variant)] // One per call, never stored.
enum Holder {
    Token(Site, User),
    Setup(
        Box<Signing>,
        crate::store::api_sessions::AuthSessionRow,
        User,
    ),
}

impl Holder {
    fn parts(&self) -> (&Site, &User) {
        match self {
            Holder::Token(site, user) => (site, user),
            Holder::Setup(signing, _, user) => (&signing.site, user),
        }
    }
}

fn holder(
    ctx: &mut Ctx,
    access_token: Option<&str>,
    id: Option<&str>,
    challenges: &[&str],
) -> Result<Holder, ApiError> {
    if let Some(access_token) = access_token {
        let found = token::authenticate(ctx, access_token)?;
        return Ok(Holder::Token(found.site, found.user));
    }
    let id = id.filter(|s| s.len() >= 20).ok_or_else(session::expired)?;
    // The session names its pool and client: found by its digest alone.
    let digest = crate::secrets::SecretDigest::of(id);
    let now = ctx.now;
    let row = crate::store::api_sessions::find_any(ctx.conn()?, digest.as_str(), now)?
        .ok_or_else(session::expired)?;
    let (site, client) = ctx.client_site(&row.client_id)?;
    let signing = Signing {
        site,
        client,
        metadata: None,
    };
    let (row, user) = session::open(ctx, &signing, Some(id), challenges)?;
    Ok(Holder::Setup(Box::new(signing), row, user))
}

pub fn associate_software_token(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let i: AssociateInput = input(body)?;
    let held = holder(
        ctx,
        i.access_token.as_deref(),
        i.session.as_deref(),
        &[session::SETUP],
    )?;
    let (site, user) = held.parts();
    if site.pool.settings.mfa_configuration == crate::model::pool::MfaConfiguration::Off {
        return Err(ApiError::new(
            "SoftwareTokenMFANotFoundException",
            "Software Token MFA is not enabled for the user pool.",
        ));
    }
    let (pool_id, sub, now) = (site.pool_id().to_owned(), user.sub.to_string(), ctx.now);
    let sealer = ctx.services.sealer.clone();
    let conn = ctx.conn()?;
    let mut row = mfa::find(conn, &sealer, &pool_id, &sub)?
        .unwrap_or_else(|| MfaRow::empty(&pool_id, &sub, now));
    // An authenticator set up meanwhile (elsewhere) is not replaced by a half-finished sign-in.
    if matches!(held, Holder::Setup(..)) && row.has_totp() {
        return Err(session::expired());
    }
    let secret = totp::new_secret();
    row.totp_secret = Some(secret.clone());
    row.totp_enabled = false;
    row.updated_at = now;
    mfa::save(conn, &sealer, &row)?;
    let mut out = json!({ "SecretCode": secret });
    if let Holder::Setup(signing, old, user) = &held {
        session::spend(ctx, old)?;
        let next = session::create(ctx, signing, Some(user), &old.username, session::SETUP)?;
        out["Session"] = next.into();
    }
    Ok(out)
}

pub fn verify_software_token(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let i: VerifyInput = input(body)?;
    let held = holder(
        ctx,
        i.access_token.as_deref(),
        i.session.as_deref(),
        &[session::SETUP],
    )?;
    let (site, user) = held.parts();
    let (site, sub, now) = (site.clone(), user.sub.to_string(), ctx.now);
    let sealer = ctx.services.sealer.clone();
    let conn = ctx.conn()?;
    let mut row = mfa::find(conn, &sealer, site.pool_id(), &sub)?
        .filter(|r| r.totp_secret.is_some())
        .ok_or_else(|| {
            ApiError::new(
                "SoftwareTokenMFANotFoundException",
                "Software token TOTP not associated with user.",
            )
        })?;
    if credentials::totp_locked(conn, &site, &sub, now)? {
        return Err(ApiError::new(
            "TooManyFailedAttemptsException",
            "Too many failed attempts.",
        ));
    }
    let secret = row.totp_secret.clone().unwrap_or_default();
    let Some(step) = totp::accepted_step(&secret, &i.user_code, now, row.last_step) else {
        credentials::totp_miss(conn, &site, &sub, now)?;
        return Err(ApiError::new(
            "EnableSoftwareTokenMFAException",
            "Code mismatch and fail enable Software Token MFA",
        ));
    };
    credentials::totp_passed(conn, &site, &sub)?;
    row.totp_enabled = true;
    row.last_step = step;
    row.failures = 0;
    row.declined = false;
    row.updated_at = now;
    mfa::save(conn, &sealer, &row)?;
    let mut out = json!({ "Status": "SUCCESS" });
    if let Holder::Setup(signing, old, user) = &held {
        session::spend(ctx, old)?;
        let next = session::create(
            ctx,
            signing,
            Some(user),
            &old.username,
            session::SETUP_VERIFIED,
        )?;
        out["Session"] = next.into();
    }
    Ok(out)
}

/// `MFA_SETUP` answered after `VerifySoftwareToken(Session)`: tokens.
pub fn answer_setup(
    ctx: &mut Ctx,
    signing: &Signing,
    id: Option<&str>,
    responses: &Params,
) -> Result<Value, ApiError> {
    let (row, user) = session::open(ctx, signing, id, &[session::SETUP_VERIFIED])?;
    check_answer(ctx, signing, &row, &user, responses)?;
    session::spend(ctx, &row)?;
    tokens(ctx, signing, &user)
}

/// `SOFTWARE_TOKEN_MFA`: the authenticator's current code, once per time step.
pub fn answer_code(
    ctx: &mut Ctx,
    signing: &Signing,
    id: Option<&str>,
    responses: &Params,
) -> Result<Value, ApiError> {
    let (row, user) = session::open(ctx, signing, id, &[session::MFA])?;
    check_answer(ctx, signing, &row, &user, responses)?;
    let code = param(responses, "SOFTWARE_TOKEN_MFA_CODE")?;
    let (site, sub, now) = (&signing.site, user.sub.to_string(), ctx.now);
    let sealer = ctx.services.sealer.clone();
    let conn = ctx.conn()?;
    let Some(mfa_row) = mfa::find(conn, &sealer, site.pool_id(), &sub)?.filter(MfaRow::has_totp)
    else {
        return Err(session::expired());
    };
    if credentials::totp_locked(conn, site, &sub, now)? {
        crate::store::api_sessions::take(conn, &row.pool_id, &row.id_digest, now)?;
        record(ctx, SignIn::Locked);
        return Err(super::locked());
    }
    let secret = mfa_row.totp_secret.as_deref().unwrap_or_default();
    let accepted = totp::accepted_step(secret, code, now, mfa_row.last_step)
        .map(|step| mfa::accept_step(conn, site.pool_id(), &sub, step, now))
        .transpose()?
        .unwrap_or(false);
    if !accepted {
        credentials::totp_miss(conn, site, &sub, now)?;
        record(ctx, SignIn::WrongMfaCode);
        return Err(ApiError::new(
            "CodeMismatchException",
            "Invalid code received for user",
        ));
    }
    credentials::totp_passed(conn, site, &sub)?;
    session::spend(ctx, &row)?;
    tokens(ctx, signing, &user)
}

/// The answer's `USERNAME` names the session's user, and its `SECRET_HASH` is right.
fn check_answer(
    ctx: &Ctx,
    signing: &Signing,
    row: &crate::store::api_sessions::AuthSessionRow,
    user: &User,
    responses: &Params,
) -> Result<(), ApiError> {
    let given = responses.get("USERNAME").map(String::as_str);
    if !session::names_user(signing, row, user, given) {
        return Err(session::expired());
    }
    secret_hash::check(
        ctx.services,
        &signing.client,
        given.unwrap_or(&row.username),
        responses.get("SECRET_HASH").map(String::as_str),
    )
}
