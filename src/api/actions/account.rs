//! The actions a signed-in user calls with an access token (scope
//! `aws.cognito.signin.user.admin`): `GetUser`, attribute updates and verification,
//! `ChangePassword`, `DeleteUser`, `GlobalSignOut`, `SetUserMFAPreference`, and `RevokeToken`
//! (docs/api.md, "Self-service actions";
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GetUser.html>).

use super::Action;
use super::sign_up::{
    LIMIT_EXCEEDED, alias_exists, code_refused, delivery, limit_exceeded, password_error,
};
use crate::api::token::{Authenticated, authenticate};
use crate::api::wire::{AttributeType, check_length, input};
use crate::api::{ApiError, Ctx};
use crate::flows::Site;
use crate::flows::accounts::{self, Sent, Verification};
use crate::flows::messages::{self, Caller, Message, Source};
use crate::model::AppClient;
use crate::model::attributes::{IDENTITIES, VERIFIABLE};
use crate::oauth::ErrorCode;
use crate::store::codes::PURPOSE_VERIFY_EMAIL;
use crate::store::{self, StoreError, mfa, throttle};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "GetUser" => get_user,
        "UpdateUserAttributes" => update_user_attributes,
        "DeleteUserAttributes" => delete_user_attributes,
        "GetUserAttributeVerificationCode" => get_user_attribute_verification_code,
        "VerifyUserAttribute" => verify_user_attribute,
        "ChangePassword" => change_password,
        "DeleteUser" => delete_user,
        "GlobalSignOut" => global_sign_out,
        "RevokeToken" => revoke_token,
        "SetUserMFAPreference" => set_user_mfa_preference,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TokenInput {
    access_token: String,
}

/// The token's client (for its read and write lists).
fn token_client(ctx: &mut Ctx, who: &Authenticated) -> Result<Option<AppClient>, ApiError> {
    let (services, now) = (ctx.services, ctx.now);
    let conn = ctx.conn()?;
    Ok(services
        .directory
        .client(conn, &who.site, &who.claims.client_id, now)?)
}

/// Whether a client's list (`None`: every attribute) names `attribute`; a verified flag goes
/// with its attribute.
fn listed(list: Option<&[String]>, attribute: &str) -> bool {
    let base = VERIFIABLE
        .iter()
        .find(|(_, flag)| *flag == attribute)
        .map_or(attribute, |(name, _)| *name);
    list.is_none_or(|l| l.iter().any(|a| a == attribute || a == base))
}

fn mfa_row(ctx: &mut Ctx, who: &Authenticated) -> Result<Option<mfa::MfaRow>, ApiError> {
    let sealer = ctx.services.sealer.clone();
    let conn = ctx.conn()?;
    Ok(mfa::find(
        conn,
        &sealer,
        who.site.pool_id(),
        &who.user.sub.to_string(),
    )?)
}

fn get_user(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let TokenInput { access_token } = input(body)?;
    let who = authenticate(ctx, &access_token)?;
    let client = token_client(ctx, &who)?;
    let readable = client
        .as_ref()
        .and_then(|c| c.settings.read_attributes.as_deref());
    let mut attributes = vec![json!({"Name": "sub", "Value": who.user.sub.to_string()})];
    attributes.extend(
        who.user
            .attributes
            .iter()
            .filter(|(name, _)| *name == IDENTITIES || listed(readable, name))
            .map(|(name, value)| json!({"Name": name, "Value": value})),
    );
    let totp = mfa_row(ctx, &who)?.is_some_and(|r| r.has_totp());
    let mut answer = json!({
        "Username": who.user.username,
        "UserAttributes": attributes,
    });
    if totp {
        answer["PreferredMfaSetting"] = json!("SOFTWARE_TOKEN_MFA");
        answer["UserMFASettingList"] = json!(["SOFTWARE_TOKEN_MFA"]);
    }
    Ok(answer)
}

fn unauthorized_attribute() -> ApiError {
    ApiError::not_authorized("A client attempted to write unauthorized attribute")
}

fn schema(message: String) -> ApiError {
    ApiError::invalid_parameter(format!(
        "Attributes did not conform to the schema: {message}"
    ))
}

/// Whether the token's client may write `name`, and the user may: never `sub`, a verified
/// flag or an immutable custom attribute.
/// Whether the client may write attribute `name` (shared with the new-password challenge).
pub(crate) fn check_writable(
    site: &Site,
    client: Option<&AppClient>,
    name: &str,
) -> Result<(), ApiError> {
    if name == "sub" || name == IDENTITIES || name.ends_with("_verified") {
        return Err(unauthorized_attribute());
    }
    if let Some(custom) = name.strip_prefix("custom:") {
        match site
            .pool
            .settings
            .custom_attributes
            .iter()
            .find(|c| c.name == custom)
        {
            None => {
                return Err(schema(format!(
                    "Type for attribute {{{name}}} could not be determined"
                )));
            }
            Some(c) if !c.mutable => {
                return Err(ApiError::invalid_parameter(format!(
                    "Cannot modify an immutable attribute {name}"
                )));
            }
            Some(_) => {}
        }
    }
    let writable = client.and_then(|c| c.settings.write_attributes.as_deref());
    if !listed(writable, name) {
        return Err(unauthorized_attribute());
    }
    Ok(())
}

fn save(ctx: &mut Ctx, site: &Site, user: &crate::model::User) -> Result<(), ApiError> {
    let conn = ctx.conn()?;
    match store::users::update(conn, &site.pool, user) {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict(_)) => Err(alias_exists()),
        Err(e) => Err(e.into()),
    }
}

fn send_verification(
    ctx: &mut Ctx,
    who: &Authenticated,
    (user, to): (&crate::model::User, &str),
    metadata: Option<BTreeMap<String, String>>,
) -> Result<Sent, ApiError> {
    let (services, now) = (ctx.services, ctx.now);
    let caller = Caller::new(&who.claims.client_id, metadata.as_ref());
    let source = Source::VerifyUserAttribute;
    Ok(accounts::send_email_verification(
        ctx.db,
        services,
        &who.site,
        (user, to),
        source,
        caller,
        now,
    )?)
}

/// A code already decided for (`messages::compose`), sent after the change was saved.
fn send_decided(
    ctx: &mut Ctx,
    site: &Site,
    (user, to): (&crate::model::User, &str),
    message: &Message,
) -> Result<Sent, ApiError> {
    let (services, now) = (ctx.services, ctx.now);
    Ok(accounts::send_composed(
        ctx.db,
        services,
        site,
        user,
        PURPOSE_VERIFY_EMAIL,
        to,
        message,
        now,
    )?)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    access_token: String,
    user_attributes: Vec<AttributeType>,
    client_metadata: Option<BTreeMap<String, String>>,
}

fn update_user_attributes(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let UpdateInput {
        access_token,
        user_attributes,
        client_metadata,
    } = input(body)?;
    let who = authenticate(ctx, &access_token)?;
    let client = token_client(ctx, &who)?;
    let site = &who.site;
    let mut user = who.user.clone();
    let mut new_email = None;
    for AttributeType { name, value } in &user_attributes {
        check_writable(site, client.as_ref(), name)?;
        let value = value.clone().unwrap_or_default();
        if name == "email" {
            if !crate::flows::signup::looks_like_email(&value) {
                return Err(ApiError::invalid_parameter("Invalid email address format."));
            }
            if user.attributes.get("email") != Some(value.as_str()) {
                new_email = Some(value);
            }
            continue;
        }
        if name == "phone_number" && user.attributes.get(name) != Some(value.as_str()) {
            user.attributes.remove("phone_number_verified");
        }
        user.attributes
            .set(name.clone(), value)
            .map_err(|e| schema(format!("{name}: {e}")))?;
    }
    let mut deliveries = Vec::new();
    if let Some(email) = new_email {
        // The old, verified address stays in force until the new one is verified.
        let pending = accounts::requires_verification_before_update(site, "email")
            && user.attributes.is_verified("email");
        if !pending {
            user.attributes
                .set("email", email.clone())
                .map_err(|e| schema(format!("email: {e}")))?;
            user.attributes
                .set("email_verified", "false")
                .map_err(|e| schema(format!("email_verified: {e}")))?;
        }
        user.updated_at = ctx.now;
        // The message is decided before the change is saved: a hook's refusal changes nothing.
        let message = if pending || accounts::verifies_email(site) {
            let caller = Caller::new(&who.claims.client_id, client_metadata.as_ref());
            let source = Source::UpdateUserAttribute;
            Some(messages::compose(
                ctx.db,
                ctx.services,
                site,
                source,
                &user,
                caller,
            )?)
        } else {
            None
        };
        save(ctx, site, &user)?;
        if let Some(message) = &message {
            match send_decided(ctx, site, (&user, &email), message)? {
                Sent::To(to) => deliveries.push(delivery(&to, "email")),
                Sent::TooSoon => return Err(limit_exceeded()),
                Sent::NoDestination => {}
                Sent::Refused(error) => return Err(error.into()),
            }
        }
    } else {
        user.updated_at = ctx.now;
        save(ctx, site, &user)?;
    }
    let mut answer = json!({});
    if !deliveries.is_empty() {
        answer["CodeDeliveryDetailsList"] = Value::Array(deliveries);
    }
    Ok(answer)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteAttributesInput {
    access_token: String,
    user_attribute_names: Vec<String>,
}

fn delete_user_attributes(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let DeleteAttributesInput {
        access_token,
        user_attribute_names,
    } = input(body)?;
    let who = authenticate(ctx, &access_token)?;
    let client = token_client(ctx, &who)?;
    let site = &who.site;
    let settings = &site.pool.settings;
    let mut user = who.user.clone();
    for name in &user_attribute_names {
        check_writable(site, client.as_ref(), name)?;
        if settings.required_attributes.contains(name)
            || settings.username_attributes.contains(name)
        {
            return Err(schema(format!("{name}: The attribute is required")));
        }
        user.attributes.remove(name);
        if let Some((_, flag)) = VERIFIABLE.iter().find(|(n, _)| n == name) {
            user.attributes.remove(flag);
        }
    }
    user.updated_at = ctx.now;
    save(ctx, site, &user)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttributeNameInput {
    access_token: String,
    attribute_name: String,
    client_metadata: Option<BTreeMap<String, String>>,
}

/// Only emails are verified here (no SMS is sent).
fn check_email_attribute(name: &str) -> Result<(), ApiError> {
    match name {
        "email" => Ok(()),
        "phone_number" => Err(ApiError::invalid_parameter(
            "Phone numbers cannot be verified: this server sends no SMS.",
        )),
        _ => Err(ApiError::invalid_parameter(format!(
            "Attribute {name} cannot be verified."
        ))),
    }
}

fn get_user_attribute_verification_code(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let AttributeNameInput {
        access_token,
        attribute_name,
        client_metadata,
    } = input(body)?;
    let who = authenticate(ctx, &access_token)?;
    check_email_attribute(&attribute_name)?;
    let now = ctx.now;
    let conn = ctx.conn()?;
    let pending = accounts::pending_email(conn, &who.site, &who.user, now)?;
    let Some(to) = pending.or_else(|| who.user.attributes.get("email").map(str::to_owned)) else {
        return Err(ApiError::invalid_parameter(
            "The user has no email to verify.",
        ));
    };
    match send_verification(ctx, &who, (&who.user, &to), client_metadata)? {
        Sent::To(to) => Ok(json!({ "CodeDeliveryDetails": delivery(&to, "email") })),
        Sent::TooSoon => Err(limit_exceeded()),
        Sent::Refused(error) => Err(error.into()),
        Sent::NoDestination => Err(ApiError::invalid_parameter(
            "The user has no email to verify.",
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifyInput {
    access_token: String,
    attribute_name: String,
    code: String,
}

fn verify_user_attribute(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let VerifyInput {
        access_token,
        attribute_name,
        code,
    } = input(body)?;
    check_length("Code", &code, 1, 2048)?;
    let who = authenticate(ctx, &access_token)?;
    check_email_attribute(&attribute_name)?;
    let now = ctx.now;
    let conn = ctx.conn()?;
    match accounts::verify_email(conn, &who.site, who.user, &code, now)? {
        Verification::Verified(_) => Ok(json!({})),
        Verification::Refused(why) => Err(code_refused(why)),
        Verification::AliasExists => Err(alias_exists()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangePasswordInput {
    access_token: String,
    previous_password: String,
    proposed_password: String,
}

fn change_password(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let ChangePasswordInput {
        access_token,
        previous_password,
        proposed_password,
    } = input(body)?;
    check_length("PreviousPassword", &previous_password, 1, 256)?;
    check_length("ProposedPassword", &proposed_password, 1, 256)?;
    let who = authenticate(ctx, &access_token)?;
    let site = &who.site;
    if let Some(error) = password_error(site, &proposed_password) {
        return Err(error);
    }
    let mut user = who.user.clone();
    // The same per-user throttle as the sign-in page: guesses here count there.
    let user_key = format!("user:{}:{}", site.pool_id(), user.sub);
    let now = ctx.now;
    let conn = ctx.conn()?;
    if throttle::locked_until(conn, std::slice::from_ref(&user_key), now)?.is_some() {
        return Err(ApiError::new(
            LIMIT_EXCEEDED,
            "Attempt limit exceeded, please try after some time.",
        ));
    }
    ctx.db.release();
    let right = match user.password_hash.as_deref() {
        Some(hash) => crate::secrets::verify_password(&previous_password, hash),
        None => {
            crate::secrets::burn_password_check(&previous_password);
            false
        }
    };
    if !right {
        let conn = ctx.conn()?;
        throttle::record_failure(conn, &user_key, throttle::FREE_FAILURES, now)?;
        return Err(ApiError::not_authorized("Incorrect username or password."));
    }
    crate::flows::passwords::set(ctx.services, &mut user, &proposed_password)
        .map_err(ApiError::internal)?;
    user.updated_at = now;
    let conn = ctx.conn()?;
    throttle::clear(conn, &user_key)?;
    // Cognito keeps the tokens of the session that changed the password. Only the password's
    // columns are written: the row read before argon2 may be stale.
    store::users::set_password(conn, site.pool_id(), &user, now)?;
    Ok(json!({}))
}

fn delete_user(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let TokenInput { access_token } = input(body)?;
    let who = authenticate(ctx, &access_token)?;
    let now = ctx.now;
    let conn = ctx.conn()?;
    store::users::delete(conn, who.site.pool_id(), &who.user.sub, now)?;
    tracing::info!(pool = who.site.pool_id(), user = %who.user.username, "user deleted themselves");
    Ok(json!({}))
}

fn global_sign_out(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let TokenInput { access_token } = input(body)?;
    let who = authenticate(ctx, &access_token)?;
    let now = ctx.now;
    let conn = ctx.conn()?;
    store::grants::revoke_user(
        conn,
        who.site.pool_id(),
        &who.user.sub.to_string(),
        None,
        now,
    )?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RevokeInput {
    token: String,
    client_id: String,
    client_secret: Option<String>,
}

fn revoke_token(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let RevokeInput {
        token,
        client_id,
        client_secret,
    } = input(body)?;
    check_length("ClientId", &client_id, 1, 128)?;
    let (site, _) = ctx.client_site(&client_id)?;
    // Access and ID tokens are JWTs; refresh tokens are opaque.
    if token.split('.').count() == 3 {
        return Err(ApiError::new(
            "UnsupportedTokenTypeException",
            "Unsupported token type.",
        ));
    }
    let mut params = crate::oauth::Params::default();
    params.insert("client_id", &client_id);
    if let Some(secret) = &client_secret {
        params.insert("client_secret", secret);
    }
    let (services, now) = (ctx.services, ctx.now);
    let conn = ctx.conn()?;
    let (_, client) =
        crate::flows::token::authenticate_client(conn, services, &site, None, &params)
            .map_err(|e| ApiError::new("UnauthorizedException", e.description))?;
    match crate::flows::revoke::revoke_refresh(conn, &site, &client, &token, now) {
        Ok(()) => Ok(json!({})),
        Err(e) if e.code == ErrorCode::UnauthorizedClient => Err(ApiError::new(
            "UnsupportedOperationException",
            "Token revocation is not enabled for this client.",
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MfaSettings {
    enabled: Option<bool>,
    preferred_mfa: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MfaPreferenceInput {
    access_token: String,
    software_token_mfa_settings: Option<MfaSettings>,
    #[serde(rename = "SMSMfaSettings")]
    sms_mfa_settings: Option<MfaSettings>,
    email_mfa_settings: Option<MfaSettings>,
}

fn set_user_mfa_preference(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let input: MfaPreferenceInput = input(body)?;
    let who = authenticate(ctx, &input.access_token)?;
    let wants = |s: &Option<MfaSettings>| {
        s.as_ref()
            .is_some_and(|s| s.enabled == Some(true) || s.preferred_mfa == Some(true))
    };
    if wants(&input.sms_mfa_settings) || wants(&input.email_mfa_settings) {
        return Err(ApiError::invalid_parameter(
            "Only software token MFA is available in this user pool.",
        ));
    }
    let Some(totp) = input.software_token_mfa_settings else {
        return Ok(json!({}));
    };
    let row = mfa_row(ctx, &who)?;
    let Some(mut row) = row.filter(|r| r.totp_secret.is_some()) else {
        if totp.enabled == Some(true) || totp.preferred_mfa == Some(true) {
            return Err(ApiError::invalid_parameter(
                "User has not verified software token mfa",
            ));
        }
        return Ok(json!({}));
    };
    match totp.enabled {
        Some(true) => {
            // An association never proven by a first code cannot be turned on here.
            if !row.totp_enabled && row.last_step == 0 {
                return Err(ApiError::invalid_parameter(
                    "User has not verified software token mfa",
                ));
            }
            row.totp_enabled = true;
            row.declined = false;
        }
        // Off: an OPTIONAL pool stops asking for it (the secret is kept).
        Some(false) => {
            row.totp_enabled = false;
            row.declined = true;
        }
        None => {}
    }
    row.updated_at = ctx.now;
    let sealer = ctx.services.sealer.clone();
    let conn = ctx.conn()?;
    mfa::save(conn, &sealer, &row)?;
    Ok(json!({}))
}
