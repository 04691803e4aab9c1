//! The unsigned account actions that name a client: `SignUp`, `ConfirmSignUp`,
//! `ResendConfirmationCode`, `ForgotPassword`, `ConfirmForgotPassword` (docs/api.md,
//! "Self-service actions";
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_SignUp.html>).
//! The rules are the hosted pages' (`flows::accounts`); only the answers are Cognito's.

use super::Action;
use crate::api::wire::{AttributeType, check_length, input};
use crate::api::{ApiError, Ctx, secret_hash};
use crate::flows::Site;
use crate::flows::accounts::{self, Confirmation, Registered, Reset, Sent};
use crate::flows::codes::Refusal;
use crate::flows::hosted::mask_destination;
use crate::flows::lifecycle::{Caller, SignUpStop};
use crate::model::attributes::Attributes;
use crate::model::client::ExistenceErrors;
use crate::model::pool::PasswordRule;
use crate::model::{AppClient, User, UserStatus};
use crate::store;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "SignUp" => sign_up,
        "ConfirmSignUp" => confirm_sign_up,
        "ResendConfirmationCode" => resend_confirmation_code,
        "ForgotPassword" => forgot_password,
        "ConfirmForgotPassword" => confirm_forgot_password,
        _ => return None,
    })
}

pub const LIMIT_EXCEEDED: &str = "LimitExceededException";

/// Cognito's answer to a code asked for too often.
pub fn limit_exceeded() -> ApiError {
    ApiError::new(
        LIMIT_EXCEEDED,
        "Attempt limit exceeded, please try after some time.",
    )
}

/// Cognito's exception for a refused code.
pub fn code_refused(why: Refusal) -> ApiError {
    match why {
        Refusal::Mismatch => ApiError::new(
            "CodeMismatchException",
            "Invalid verification code provided, please try again.",
        ),
        Refusal::Expired => ApiError::new(
            "ExpiredCodeException",
            "Invalid code provided, please request a code again.",
        ),
        Refusal::TooManyAttempts => ApiError::new(
            "TooManyFailedAttemptsException",
            "Too many failed attempts.",
        ),
    }
}

/// `InvalidPasswordException` for a password the pool's policy refuses, naming the first rule
/// it breaks as Cognito does.
pub fn password_error(site: &Site, password: &str) -> Option<ApiError> {
    policy_error(&site.pool.settings.password_policy, password)
}

/// `password_error` for a policy: the one place the API words a refused password.
pub fn policy_error(
    policy: &crate::model::pool::PasswordPolicy,
    password: &str,
) -> Option<ApiError> {
    let rule = *policy.violations(password).first()?;
    let what = match rule {
        PasswordRule::MinimumLength(_) => "Password not long enough",
        PasswordRule::MaximumLength => "Password is too long",
        PasswordRule::Lowercase => "Password must have lowercase characters",
        PasswordRule::Uppercase => "Password must have uppercase characters",
        PasswordRule::Number => "Password must have numeric characters",
        PasswordRule::Symbol => "Password must have symbol characters",
    };
    Some(ApiError::new(
        "InvalidPasswordException",
        format!("Password did not conform with policy: {what}"),
    ))
}

/// `CodeDeliveryDetails` for an email.
pub fn delivery(to: &str, attribute: &str) -> Value {
    json!({
        "Destination": mask_destination(to),
        "DeliveryMedium": "EMAIL",
        "AttributeName": attribute,
    })
}

fn disabled() -> ApiError {
    ApiError::not_authorized("User is disabled.")
}

/// The client named by `ClientId`, its `SecretHash` checked.
fn client(
    ctx: &mut Ctx,
    client_id: &str,
    username: &str,
    secret_hash: Option<&str>,
) -> Result<(Site, AppClient), ApiError> {
    check_length("ClientId", client_id, 1, 128)?;
    check_length("Username", username, 1, 128)?;
    let (site, client) = ctx.client_site(client_id)?;
    secret_hash::check(ctx.services, &client, username, secret_hash)?;
    Ok((site, client))
}

fn hides_existence(client: &AppClient) -> bool {
    client.settings.prevent_user_existence_errors == ExistenceErrors::Enabled
}

/// Where a code would have gone, for an answer that must not reveal that no account exists.
fn plausible_delivery(username: &str) -> Value {
    let shown = if username.contains('@') {
        username.to_owned()
    } else {
        format!("{}@example.com", username.chars().next().unwrap_or('u'))
    };
    delivery(&shown, "email")
}

/// The user a public action names, or Cognito's `UserNotFoundException` (`None` when the
/// client hides whether accounts exist: the caller answers as if one did).
fn named_user(
    ctx: &mut Ctx,
    site: &Site,
    client: &AppClient,
    username: &str,
) -> Result<Option<User>, ApiError> {
    let conn = ctx.conn()?;
    match store::users::find_for_sign_in(conn, &site.pool, username)? {
        Some(user) => Ok(Some(user)),
        None if hides_existence(client) => Ok(None),
        None => Err(ApiError::user_not_found()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SignUpInput {
    client_id: String,
    username: String,
    password: String,
    secret_hash: Option<String>,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
    #[serde(default)]
    validation_data: Option<Vec<AttributeType>>,
    client_metadata: Option<BTreeMap<String, String>>,
}

/// `[{Name, Value}]` as the map triggers receive.
pub fn name_values(given: &[AttributeType]) -> BTreeMap<String, String> {
    given
        .iter()
        .map(|a| (a.name.clone(), a.value.clone().unwrap_or_default()))
        .collect()
}

/// Cognito's answer to a creation its pre sign-up hook stopped.
pub fn sign_up_stopped(stop: SignUpStop) -> ApiError {
    match stop {
        SignUpStop::Hook(error) => error.into(),
        SignUpStop::NothingToVerify(attribute) => ApiError::invalid_parameter(format!(
            "The pre sign-up hook asked to verify {attribute}, but the user has no {attribute}."
        )),
    }
}

/// The attributes of a sign-up, checked as Cognito checks them.
fn sign_up_attributes(
    site: &Site,
    client: &AppClient,
    username: &str,
    given: &[AttributeType],
) -> Result<(String, Attributes), ApiError> {
    let settings = &site.pool.settings;
    let schema = |message: String| {
        ApiError::invalid_parameter(format!(
            "Attributes did not conform to the schema: {message}"
        ))
    };
    let mut attributes = Attributes::new();
    for AttributeType { name, value } in given {
        let value = value.clone().unwrap_or_default();
        if let Some(custom) = name.strip_prefix("custom:")
            && !settings.custom_attributes.iter().any(|c| c.name == custom)
        {
            return Err(schema(format!(
                "Type for attribute {{{name}}} could not be determined"
            )));
        }
        if let Some(allowed) = &client.settings.write_attributes
            && !allowed.iter().any(|a| a == name)
            && !name.ends_with("_verified")
        {
            return Err(ApiError::not_authorized(
                "A client attempted to write unauthorized attribute",
            ));
        }
        if name == "email" && !crate::flows::signup::looks_like_email(&value) {
            return Err(ApiError::invalid_parameter("Invalid email address format."));
        }
        attributes
            .set(name.clone(), value)
            .map_err(|e| schema(format!("{name}: {e}")))?;
    }
    let providers: Vec<String> = Vec::new();
    let username = match settings.username_attributes.first() {
        None => {
            if let Some(text) = crate::flows::signup::username_error(settings, &providers, username)
            {
                let message = match text.key {
                    "error.username_like_alias" => {
                        "Username cannot be of email format, since user pool is configured for email alias."
                    }
                    _ => "Username is invalid.",
                };
                return Err(ApiError::invalid_parameter(message));
            }
            username.to_owned()
        }
        // The username is the email (or phone number) itself.
        Some(_) => {
            let kind = if crate::flows::signup::looks_like_email(username) {
                "email"
            } else if crate::flows::signup::looks_like_phone(username) {
                "phone_number"
            } else {
                ""
            };
            if !settings.username_attributes.iter().any(|a| a == kind) {
                let what = if settings.username_attributes.iter().any(|a| a == "email") {
                    "email"
                } else {
                    "phone number"
                };
                return Err(ApiError::invalid_parameter(format!(
                    "Username should be an {what}."
                )));
            }
            attributes
                .set(kind, username)
                .map_err(|e| schema(format!("{kind}: {e}")))?;
            String::new()
        }
    };
    for required in &settings.required_attributes {
        if attributes.get(required).is_none_or(str::is_empty) {
            return Err(schema(format!("{required}: The attribute is required")));
        }
    }
    Ok((username, attributes))
}

fn sign_up(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let input: SignUpInput = input(body)?;
    let (site, client) = client(
        ctx,
        &input.client_id,
        &input.username,
        input.secret_hash.as_deref(),
    )?;
    check_length("Password", &input.password, 1, 256)?;
    if site.pool.settings.allow_admin_create_user_only {
        return Err(ApiError::not_authorized(
            "SignUp is not permitted for this user pool",
        ));
    }
    let (username, attributes) =
        sign_up_attributes(&site, &client, &input.username, &input.user_attributes)?;
    if let Some(error) = password_error(&site, &input.password) {
        return Err(error);
    }
    let typed_email = attributes.get("email").map(str::to_owned);
    let hidden = hides_existence(&client);
    let validation_data = name_values(input.validation_data.as_deref().unwrap_or_default());
    let registration = accounts::Registration {
        username,
        attributes,
        password: &input.password,
        hide_existing: hidden,
        validation_data: Some(&validation_data),
        caller: Caller::client(&input.client_id).with_metadata(input.client_metadata.as_ref()),
    };
    let now = ctx.now;
    let mut confirmed = false;
    let (sub, code_to) = match accounts::register(ctx.db, ctx.services, &site, registration, now)? {
        Registered::Created { user, code_to } => {
            confirmed = user.status == UserStatus::Confirmed;
            (user.sub, code_to)
        }
        Registered::Stopped(stop) => return Err(sign_up_stopped(stop)),
        // The hosted page's answer to a taken name: as for a new account (the owner is told).
        Registered::Taken if hidden => (
            uuid::Uuid::new_v4(),
            typed_email.filter(|_| accounts::verifies_email(&site)),
        ),
        Registered::Taken => {
            return Err(ApiError::new(
                "UsernameExistsException",
                "User already exists",
            ));
        }
        Registered::Refused(error) => return Err(error.into()),
    };
    let mut answer = json!({ "UserConfirmed": confirmed, "UserSub": sub.to_string() });
    if let Some(to) = code_to {
        answer["CodeDeliveryDetails"] = delivery(&to, "email");
    }
    Ok(answer)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfirmSignUpInput {
    client_id: String,
    username: String,
    confirmation_code: String,
    secret_hash: Option<String>,
    client_metadata: Option<BTreeMap<String, String>>,
}

fn confirm_sign_up(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let input: ConfirmSignUpInput = input(body)?;
    let (site, client) = client(
        ctx,
        &input.client_id,
        &input.username,
        input.secret_hash.as_deref(),
    )?;
    check_length("ConfirmationCode", &input.confirmation_code, 1, 2048)?;
    named_user(ctx, &site, &client, &input.username)?;
    let now = ctx.now;
    let caller = Caller::client(&input.client_id).with_metadata(input.client_metadata.as_ref());
    match accounts::confirm_sign_up(
        ctx.db,
        ctx.services,
        &site,
        &input.username,
        &input.confirmation_code,
        caller,
        now,
    )? {
        Confirmation::Confirmed(_) => Ok(json!({})),
        // Confirmed all the same; the caller hears of the hook's failure, as from Cognito.
        Confirmation::HookFailed(_, error) => Err(error.into()),
        Confirmation::Refused(why) => Err(code_refused(why)),
        Confirmation::NotPending(UserStatus::Unconfirmed) => Err(disabled()),
        Confirmation::NotPending(status) => Err(ApiError::not_authorized(format!(
            "User cannot be confirmed. Current status is {status}"
        ))),
        Confirmation::AliasExists => Err(alias_exists()),
    }
}

/// Cognito's answer when an email is another user's alias.
pub fn alias_exists() -> ApiError {
    ApiError::new(
        "AliasExistsException",
        "An account with the given email already exists.",
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserInput {
    client_id: String,
    username: String,
    secret_hash: Option<String>,
    client_metadata: Option<BTreeMap<String, String>>,
}

fn resend_confirmation_code(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let input: UserInput = input(body)?;
    let (site, client) = client(
        ctx,
        &input.client_id,
        &input.username,
        input.secret_hash.as_deref(),
    )?;
    let Some(user) = named_user(ctx, &site, &client, &input.username)? else {
        return Ok(json!({ "CodeDeliveryDetails": plausible_delivery(&input.username) }));
    };
    if !user.enabled {
        return Err(disabled());
    }
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::invalid_parameter("User is already confirmed."));
    }
    let (services, now) = (ctx.services, ctx.now);
    let caller = Caller::new(&input.client_id, input.client_metadata.as_ref());
    match accounts::resend_sign_up_code(ctx.db, services, &site, &user, caller, now)? {
        Sent::To(to) => Ok(json!({ "CodeDeliveryDetails": delivery(&to, "email") })),
        Sent::TooSoon => Err(limit_exceeded()),
        Sent::Refused(error) => Err(error.into()),
        Sent::NoDestination => Err(ApiError::invalid_parameter(
            "Cannot resend codes. Auto verification not turned on.",
        )),
    }
}

fn forgot_password(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let input: UserInput = input(body)?;
    let (site, client) = client(
        ctx,
        &input.client_id,
        &input.username,
        input.secret_hash.as_deref(),
    )?;
    // Nothing is sent for an unknown user; the answer looks like a real one.
    let Some(user) = user_to_reset(ctx, &site, &client, &input)? else {
        return Ok(json!({ "CodeDeliveryDetails": plausible_delivery(&input.username) }));
    };
    if !user.enabled {
        return Err(disabled());
    }
    if !user.attributes.is_verified("email") {
        return Err(ApiError::invalid_parameter(
            "Cannot reset password for the user as there is no registered/verified email or phone_number",
        ));
    }
    if !accounts::recoverable(&user) {
        return Err(ApiError::not_authorized(
            "User password cannot be reset in the current state.",
        ));
    }
    let (services, now) = (ctx.services, ctx.now);
    let caller = Caller::new(&input.client_id, input.client_metadata.as_ref());
    match accounts::start_reset(ctx.db, services, &site, &user, caller, now)? {
        Sent::To(to) => Ok(json!({ "CodeDeliveryDetails": delivery(&to, "email") })),
        Sent::TooSoon => Err(limit_exceeded()),
        Sent::Refused(error) => Err(error.into()),
        Sent::NoDestination => Err(ApiError::not_authorized(
            "User password cannot be reset in the current state.",
        )),
    }
}

/// The user `ForgotPassword` names, migrated first by the pool's hook when it has one and the
/// name is unknown (docs/triggers.md, "User migration").
fn user_to_reset(
    ctx: &mut Ctx,
    site: &Site,
    client: &AppClient,
    input: &UserInput,
) -> Result<Option<User>, ApiError> {
    use crate::flows::migration::{self, Caller, Failure, Migrated};
    let conn = ctx.conn()?;
    let known = store::users::find_for_sign_in(conn, &site.pool, &input.username)?;
    if known.is_some() || !migration::applies(site) {
        return named_user(ctx, site, client, &input.username);
    }
    let caller = Caller::new(client.id.as_str(), input.client_metadata.as_ref());
    let (services, now) = (ctx.services, ctx.now);
    match migration::forgot_password(ctx.db, services, site, caller, &input.username, now)? {
        Migrated::Created(user) => Ok(Some(*user)),
        Migrated::Failed(Failure::Unreachable(error)) => Err(error.into()),
        Migrated::Failed(_) if hides_existence(client) => Ok(None),
        Migrated::Failed(failure) => Err(super::auth::migration_failed(client, failure)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfirmForgotPasswordInput {
    client_id: String,
    username: String,
    confirmation_code: String,
    password: String,
    secret_hash: Option<String>,
    client_metadata: Option<BTreeMap<String, String>>,
}

fn confirm_forgot_password(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let input: ConfirmForgotPasswordInput = input(body)?;
    let (site, client) = client(
        ctx,
        &input.client_id,
        &input.username,
        input.secret_hash.as_deref(),
    )?;
    check_length("ConfirmationCode", &input.confirmation_code, 1, 2048)?;
    check_length("Password", &input.password, 1, 256)?;
    if let Some(error) = password_error(&site, &input.password) {
        return Err(error);
    }
    named_user(ctx, &site, &client, &input.username)?;
    let now = ctx.now;
    match accounts::finish_reset(
        ctx.db,
        ctx.services,
        &site,
        &input.username,
        &input.confirmation_code,
        &input.password,
        Caller::client(&input.client_id).with_metadata(input.client_metadata.as_ref()),
        now,
    )? {
        Reset::Done(_) => Ok(json!({})),
        Reset::HookFailed(_, error) => Err(error.into()),
        Reset::Refused(why) => Err(code_refused(why)),
    }
}
