//! `CUSTOM_AUTH` and its `CUSTOM_CHALLENGE` answers (docs/triggers.md, "Custom authentication
//! challenges"; docs/api.md, "Sign-in flows";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-challenge.html>):
//! the pool's define, create and verify hooks run the sequence (`flows::custom_auth`); the
//! history and the private parameters stay sealed in the `Session`'s row, never with the client.
//! When the hooks are done, the account's checks, MFA and tokens are every other flow's.

use super::{
    Metadata, Params, Signing, after_check, challenge_answer, locked, param, record, session,
    unknown_user, wrong_password,
};
use crate::api::{ApiError, Ctx, secret_hash};
use crate::flows::credentials::{self, Keys};
use crate::flows::custom_auth::{self, CUSTOM_CHALLENGE, ChallengeResult, Next, Pending, Subject};
use crate::metrics::SignIn;
use crate::model::User;
use crate::model::client::ExistenceErrors;
use crate::secrets::{self, SecretDigest};
use crate::store::{self, api_sessions};
use serde_json::{Map, Value};

fn purpose(pool_id: &str, digest: &str) -> String {
    format!("custom-auth:{pool_id}:{digest}")
}

fn not_configured() -> ApiError {
    ApiError::invalid_parameter("Custom auth lambda trigger is not configured for the user pool.")
}

/// `InitiateAuth` / `AdminInitiateAuth` with `CUSTOM_AUTH`.
pub fn start(
    ctx: &mut Ctx,
    signing: &Signing,
    params: &Params,
    metadata: Option<&Metadata>,
) -> Result<Value, ApiError> {
    let username = param(params, "USERNAME")?;
    secret_hash::check(
        ctx.services,
        &signing.client,
        username,
        params.get("SECRET_HASH").map(String::as_str),
    )?;
    if !custom_auth::enabled(&signing.site) {
        return Err(not_configured());
    }
    let now = ctx.now;
    let site = signing.site.clone();
    let conn = ctx.conn()?;
    let user = store::users::find_for_sign_in(conn, &site.pool, username)?;
    // A name no user has: Cognito's error where the client tells, else the hooks run with
    // `userNotFound` (they may show a plausible challenge) and no answer ever succeeds.
    if user.is_none()
        && signing.client.settings.prevent_user_existence_errors == ExistenceErrors::Legacy
    {
        record(ctx, SignIn::WrongPassword);
        return Err(unknown_user(&signing.client));
    }
    let keys = Keys::new(&site, user.as_ref(), username, None);
    if keys.locked(conn, now)? {
        record(ctx, SignIn::Locked);
        return Err(locked());
    }
    // Pre authentication guards every sign-in of a known user, this flow's too.
    if let Some(user) = &user {
        let caller = signing.caller();
        crate::flows::lifecycle::pre_authentication(ctx.db, ctx.services, &site, user, caller)?;
    }
    // The account's refusals (disabled, unconfirmed, …) come only once the hooks are satisfied,
    // as a password flow's come after the right password: no answer tells an account's state
    // to someone who has not passed its challenges.
    let history = if params.contains_key("SRP_A") {
        vec![ChallengeResult::srp_a()]
    } else {
        Vec::new()
    };
    run(ctx, signing, user, username, history, metadata)
}

/// `RespondToAuthChallenge` / `AdminRespondToAuthChallenge` with `CUSTOM_CHALLENGE`.
pub fn respond(
    ctx: &mut Ctx,
    signing: &Signing,
    id: Option<&str>,
    responses: &Params,
    metadata: Option<&Metadata>,
) -> Result<Value, ApiError> {
    let id = id.filter(|s| s.len() >= 20).ok_or_else(session::expired)?;
    let given = param(responses, "USERNAME")?;
    let answer = param(responses, "ANSWER")?;
    let digest = SecretDigest::of(id);
    let (services, now) = (ctx.services, ctx.now);
    let site = signing.site.clone();
    let conn = ctx.conn()?;
    let row = api_sessions::find(conn, site.pool_id(), digest.as_str(), now)?
        .filter(|row| row.client_id == signing.client.id.as_str())
        .filter(|row| row.challenge == CUSTOM_CHALLENGE)
        .ok_or_else(session::expired)?;
    let user = match row.user_sub.as_deref() {
        None => None,
        Some(sub) => {
            let sub = uuid::Uuid::parse_str(sub).map_err(|_| session::expired())?;
            match store::users::get(conn, site.pool_id(), &sub) {
                Ok(user) => Some(user),
                Err(store::StoreError::NotFound) => return Err(session::expired()),
                Err(e) => return Err(e.into()),
            }
        }
    };
    let key = |s: &str| site.pool.settings.username_key(s);
    let names_user = key(given) == key(&row.username)
        || user
            .as_ref()
            .is_some_and(|u| key(given) == key(&u.username) || given == u.sub.to_string());
    if !names_user {
        return Err(session::expired());
    }
    secret_hash::check(
        services,
        &signing.client,
        given,
        responses.get("SECRET_HASH").map(String::as_str),
    )?;
    // Spent by this answer, right or wrong: the next step, if any, has a new session.
    let conn = ctx.conn()?;
    let row = api_sessions::take(conn, site.pool_id(), digest.as_str(), now)?
        .ok_or_else(session::expired)?;
    let pending: Pending = row
        .state
        .as_deref()
        .and_then(|s| {
            services
                .sealer
                .open(&purpose(site.pool_id(), digest.as_str()), s)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(session::expired)?;
    let keys = Keys::new(&site, user.as_ref(), &row.username, None);
    if keys.locked(conn, now)? {
        record(ctx, SignIn::Locked);
        return Err(locked());
    }
    let subject = Subject {
        user: user.as_ref(),
        typed: &row.username,
        client_id: signing.client.id.as_str(),
        client_metadata: metadata,
    };
    let history = custom_auth::verify(ctx.db, services, &site, &subject, pending, answer)?;
    run(ctx, signing, user, &row.username, history, metadata)
}

/// Asks the hooks what follows `history` and answers with it: a failure, the steps after a
/// first factor, or the next challenge with a new session.
fn run(
    ctx: &mut Ctx,
    signing: &Signing,
    user: Option<User>,
    typed: &str,
    history: Vec<ChallengeResult>,
    metadata: Option<&Metadata>,
) -> Result<Value, ApiError> {
    let (services, now) = (ctx.services, ctx.now);
    let site = signing.site.clone();
    let subject = Subject {
        user: user.as_ref(),
        typed,
        client_id: signing.client.id.as_str(),
        client_metadata: metadata,
    };
    let next = custom_auth::next(ctx.db, services, &site, &subject, history)?;
    let keys = Keys::new(&site, user.as_ref(), typed, None);
    match (next, user) {
        (Next::Issue, Some(user)) => {
            keys.passed(ctx.conn()?)?;
            let checked = credentials::after_first_factor(&site, user, now);
            after_check(ctx, signing, checked)
        }
        (Next::Challenge { public, pending }, user) => {
            let id = secrets::random_token(48);
            let digest = SecretDigest::of(&id);
            let state = serde_json::to_vec(&pending).unwrap_or_default();
            let sealed = services
                .sealer
                .seal(&purpose(site.pool_id(), digest.as_str()), &state);
            session::store(
                ctx,
                signing,
                user.as_ref(),
                typed,
                CUSTOM_CHALLENGE,
                &id,
                Some(sealed),
            )?;
            let mut params: Map<String, Value> = public
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect();
            let name = user.as_ref().map_or(typed, |u| u.username.as_str());
            params.insert("USERNAME".into(), name.into());
            Ok(challenge_answer(
                CUSTOM_CHALLENGE,
                &id,
                Value::Object(params),
            ))
        }
        (Next::Fail | Next::Issue, _) => {
            keys.failed(ctx.conn()?, now)?;
            record(ctx, SignIn::WrongPassword);
            Err(wrong_password())
        }
    }
}
