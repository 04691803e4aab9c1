//! `NEW_PASSWORD_REQUIRED` and `SELECT_MFA_TYPE` (docs/api.md, "Sign-in flows";
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_RespondToAuthChallenge.html>):
//! a user created with a temporary password chooses a new one, giving the required attributes
//! it lacks, with the hosted new-password page's policy and effects.

use super::{Params, Signing, challenge_answer, param, second_factor_after, session};
use crate::api::{ApiError, Ctx, secret_hash};
use crate::flows::pre_token::Source;
use crate::model::{User, UserStatus};
use crate::store::{self, StoreError};
use serde_json::{Map, Value, json};

/// The challenge, with the attributes the user has and the required ones missing, as JSON
/// strings (amazon-cognito-identity-js parses both).
pub fn ask_new_password(ctx: &mut Ctx, signing: &Signing, user: &User) -> Result<Value, ApiError> {
    let id = session::create(
        ctx,
        signing,
        Some(user),
        &user.username,
        session::NEW_PASSWORD,
    )?;
    let attributes: Map<String, Value> = user
        .attributes
        .iter()
        .filter(|(name, _)| *name != "sub")
        .map(|(name, value)| (name.to_owned(), Value::from(value)))
        .collect();
    let required: Vec<String> = missing(signing, user)
        .map(|name| format!("userAttributes.{name}"))
        .collect();
    let params = json!({
        "USER_ID_FOR_SRP": user.username,
        "requiredAttributes": serde_json::to_string(&required).unwrap_or_default(),
        "userAttributes": Value::Object(attributes).to_string(),
    });
    Ok(challenge_answer(session::NEW_PASSWORD, &id, params))
}

fn missing<'a>(signing: &'a Signing, user: &'a User) -> impl Iterator<Item = &'a String> {
    signing
        .site
        .pool
        .settings
        .required_attributes
        .iter()
        .filter(|name| user.attributes.get(name).is_none_or(str::is_empty))
}

pub fn new_password(
    ctx: &mut Ctx,
    signing: &Signing,
    id: Option<&str>,
    responses: &Params,
) -> Result<Value, ApiError> {
    let (row, mut user) = session::open(ctx, signing, id, &[session::NEW_PASSWORD])?;
    let given = responses.get("USERNAME").map(String::as_str);
    if !session::names_user(signing, &row, &user, given) {
        return Err(session::expired());
    }
    secret_hash::check(
        ctx.services,
        &signing.client,
        given.unwrap_or(&row.username),
        responses.get("SECRET_HASH").map(String::as_str),
    )?;
    // A session answers while the password is still temporary; an administrator may have set
    // or reset it since.
    if user.status != UserStatus::ForceChangePassword {
        return Err(session::expired());
    }
    let password = param(responses, "NEW_PASSWORD")?;
    crate::api::wire::check_length("NEW_PASSWORD", password, 1, 256)?;
    for (key, value) in responses {
        let Some(name) = key.strip_prefix("userAttributes.") else {
            continue;
        };
        // The same rule as UpdateUserAttributes: what the client may write, never a verified
        // flag, `sub` or an immutable attribute.
        crate::api::actions::account::check_writable(&signing.site, Some(&signing.client), name)?;
        if user.attributes.get(name) != Some(value.as_str()) {
            for (attribute, flag) in crate::model::attributes::VERIFIABLE {
                if *attribute == name {
                    user.attributes.remove(flag);
                }
            }
        }
        user.attributes
            .set(name.to_owned(), value.clone())
            .map_err(|_| {
                ApiError::invalid_parameter(format!(
                    "Invalid attributes given, {name} is not valid"
                ))
            })?;
    }
    if let Some(name) = missing(signing, &user).next() {
        return Err(ApiError::invalid_parameter(format!(
            "Invalid attributes given, {name} is missing"
        )));
    }
    let policy = crate::flows::validation::new_password(
        &signing.site.pool.settings,
        "NEW_PASSWORD",
        password,
        None,
    );
    if !policy.is_empty() {
        return Err(crate::api::actions::sign_up::policy_error(
            &signing.site.pool.settings.password_policy,
            password,
        )
        .unwrap_or_else(|| {
            ApiError::new(
                "InvalidPasswordException",
                "Password does not conform to policy",
            )
        }));
    }
    session::spend(ctx, &row)?;
    ctx.db.release();
    crate::flows::passwords::set(ctx.services, &mut user, password).map_err(ApiError::internal)?;
    let now = ctx.now;
    user.status = UserStatus::Confirmed;
    user.updated_at = now;
    let site = signing.site.clone();
    let conn = ctx.conn()?;
    let changed = store::write_transaction(conn, |conn| {
        store::users::update(conn, &site.pool, &user)?;
        crate::flows::recovery::signed_out_elsewhere(conn, &site, &user, None, now)
    });
    match changed {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                "AliasExistsException",
                "An account with the given email already exists.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    second_factor_after(ctx, signing, &user, Source::NewPasswordChallenge)
}

/// Gatehouse's one second factor is TOTP, so it never asks users to choose; a session for
/// this challenge can only be a stale or forged one.
pub fn select_mfa_type(
    ctx: &mut Ctx,
    signing: &Signing,
    id: Option<&str>,
    responses: &Params,
) -> Result<Value, ApiError> {
    let _ = responses;
    session::open(ctx, signing, id, &["SELECT_MFA_TYPE"])?;
    Err(session::expired())
}
