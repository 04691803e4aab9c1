//! Administrators' user actions (../docs/api.md, "Admin actions";
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html>
//! and its siblings): create, read, delete, enable and disable users, set and reset their
//! passwords, confirm them and sign them out everywhere. Users are named by username or alias.

use super::Action;
use crate::api::wire::{AttributeType, check_length, input, timestamp};
use crate::api::{ApiError, Ctx};
use crate::flows::lifecycle::{self, Caller, ConfirmSource, SignUpSource};
use crate::flows::messages::{self, Source};
use crate::flows::{Site, passwords, recovery, signup, validation};
use crate::model::attributes::Attributes;
use crate::model::pool::{PASSWORD_SYMBOLS, PasswordPolicy};
use crate::model::{User, UserStatus};
use crate::store::{self, StoreError, codes::PURPOSE_RESET};
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "AdminCreateUser" => admin_create_user,
        "AdminGetUser" => admin_get_user,
        "AdminDeleteUser" => admin_delete_user,
        "AdminDisableUser" => admin_disable_user,
        "AdminEnableUser" => admin_enable_user,
        "AdminSetUserPassword" => admin_set_user_password,
        "AdminResetUserPassword" => admin_reset_user_password,
        "AdminConfirmSignUp" => admin_confirm_sign_up,
        "AdminUserGlobalSignOut" => admin_user_global_sign_out,
        _ => return None,
    })
}

pub const USERNAME_EXISTS: &str = "UsernameExistsException";
pub const INVALID_PASSWORD: &str = "InvalidPasswordException";
pub const ALIAS_EXISTS: &str = "AliasExistsException";
pub const UNSUPPORTED_USER_STATE: &str = "UnsupportedUserStateException";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct UserInput {
    pub user_pool_id: String,
    pub username: String,
    /// For the hooks of the actions that take it (`AdminResetUserPassword`, `AdminConfirmSignUp`).
    #[serde(default)]
    pub client_metadata: Option<BTreeMap<String, String>>,
}

/// The pool and the user an input names (username first, then the pool's aliases).
pub(super) fn site_and_user(
    ctx: &mut Ctx,
    pool_id: &str,
    username: &str,
) -> Result<(Site, User), ApiError> {
    let site = ctx.site(pool_id)?;
    let user = locate(ctx, &site, username)?;
    Ok((site, user))
}

/// The user `username` designates; Cognito's `UserNotFoundException` otherwise.
pub(super) fn locate(ctx: &mut Ctx, site: &Site, username: &str) -> Result<User, ApiError> {
    check_length("Username", username, 1, 128)?;
    let conn = ctx.conn()?;
    store::users::find_for_sign_in(conn, &site.pool, username)?.ok_or_else(ApiError::user_not_found)
}

/// The user's attributes as `[{Name, Value}]`, `sub` first; `only` limits them by name.
pub(super) fn attributes_json(user: &User, only: Option<&[String]>) -> Value {
    let wanted = |name: &str| only.is_none_or(|names| names.iter().any(|n| n == name));
    let sub = user.sub.to_string();
    let all = std::iter::once(("sub", sub.as_str())).chain(user.attributes.iter());
    Value::Array(
        all.filter(|(name, _)| wanted(name))
            .map(|(name, value)| json!({"Name": name, "Value": value}))
            .collect(),
    )
}

/// Cognito's `UserType`.
pub(super) fn user_type(user: &User, only: Option<&[String]>) -> Value {
    json!({
        "Username": user.username,
        "Attributes": attributes_json(user, only),
        "UserCreateDate": timestamp(user.created_at),
        "UserLastModifiedDate": timestamp(user.updated_at),
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    })
}

/// Cognito's `InvalidPasswordException` for a password the policy refuses.
pub(super) fn check_password(policy: &PasswordPolicy, password: &str) -> Result<(), ApiError> {
    match super::sign_up::policy_error(policy, password) {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

/// A temporary password the policy accepts: one character of each class, then random ones.
fn generate_password(policy: &PasswordPolicy) -> String {
    let mut rng = rand::rngs::OsRng;
    let classes: [&str; 4] = [
        "abcdefghijkmnopqrstuvwxyz",
        "ABCDEFGHJKLMNPQRSTUVWXYZ",
        "23456789",
        PASSWORD_SYMBOLS,
    ];
    let pick = |rng: &mut rand::rngs::OsRng, set: &str| {
        let chars: Vec<char> = set.chars().collect();
        chars[rng.gen_range(0..chars.len())]
    };
    let mut password: Vec<char> = classes.iter().map(|set| pick(&mut rng, set)).collect();
    let all: String = classes[..3].concat();
    let length = (policy.minimum_length as usize).max(12);
    while password.len() < length {
        password.push(pick(&mut rng, &all));
    }
    // Shuffle so the classes are not always in the same places.
    for i in (1..password.len()).rev() {
        password.swap(i, rng.gen_range(0..=i));
    }
    password.into_iter().collect()
}

/// Checks and sets `[{Name, Value}]` on `attributes` under the pool's schema.
pub(super) fn apply_attributes(
    site: &Site,
    attributes: &mut Attributes,
    given: &[AttributeType],
    existing: bool,
) -> Result<(), ApiError> {
    let settings = &site.pool.settings;
    for attribute in given {
        let name = attribute.name.as_str();
        let value = attribute.value.as_deref().unwrap_or_default();
        if validation::schema_problem(settings, name).is_some() || name == "identities" {
            return Err(ApiError::invalid_parameter(format!(
                "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
            )));
        }
        if existing && !validation::is_mutable(settings, name) && attributes.get(name).is_some()
            || name == "sub"
        {
            return Err(ApiError::invalid_parameter(format!(
                "Cannot modify an immutable attribute: {name}"
            )));
        }
        signup::check_attribute(attributes, name, value)
            .map_err(|_| ApiError::invalid_parameter(format!("Invalid {name} value: {value:?}")))?;
    }
    Ok(())
}

/// The aliases `user` would take from other users: moved to it under `ForceAliasCreation`
/// (`flows::aliases`), `AliasExistsException` otherwise.
pub(super) fn claim_aliases(
    ctx: &mut Ctx,
    site: &Site,
    user: &User,
    force: bool,
) -> Result<(), ApiError> {
    let now = ctx.now;
    let conn = ctx.conn()?;
    match crate::flows::aliases::claim(conn, site, user, force, now)? {
        None => Ok(()),
        Some(kind) => {
            let what = if kind == "phone_number" {
                "phone number"
            } else {
                kind.as_str()
            };
            Err(ApiError::new(
                ALIAS_EXISTS,
                format!("An account with the given {what} already exists."),
            ))
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateInput {
    user_pool_id: String,
    username: String,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
    temporary_password: Option<String>,
    #[serde(default)]
    force_alias_creation: bool,
    message_action: Option<String>,
    #[serde(default)]
    desired_delivery_mediums: Vec<String>,
    #[serde(default)]
    validation_data: Option<Vec<AttributeType>>,
    client_metadata: Option<BTreeMap<String, String>>,
}

fn admin_create_user(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: CreateInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    check_length("Username", &given.username, 1, 128)?;
    for medium in &given.desired_delivery_mediums {
        match medium.as_str() {
            "EMAIL" => {}
            "SMS" => {
                return Err(ApiError::invalid_parameter(
                    "SMS delivery is not available: this server sends email only.",
                ));
            }
            other => {
                return Err(ApiError::invalid_parameter(format!(
                    "Invalid DesiredDeliveryMediums value: {other}"
                )));
            }
        }
    }
    let resend = match given.message_action.as_deref() {
        None => false,
        Some("SUPPRESS") => false,
        Some("RESEND") => true,
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "Invalid MessageAction value: {other}"
            )));
        }
    };
    let invite = given.message_action.as_deref() != Some("SUPPRESS");
    let policy = site.pool.settings.password_policy.clone();
    let password = match &given.temporary_password {
        Some(password) => {
            crate::api::wire::check_length("TemporaryPassword", password, 1, 256)?;
            check_password(&policy, password)?;
            password.clone()
        }
        None => generate_password(&policy),
    };
    let mut user = if resend {
        let user = locate(ctx, &site, &given.username)?;
        if user.status != UserStatus::ForceChangePassword {
            return Err(ApiError::new(
                UNSUPPORTED_USER_STATE,
                format!(
                    "Resend not possible. {} status is not FORCE_CHANGE_PASSWORD",
                    user.username
                ),
            ));
        }
        user
    } else {
        let mut user = new_user(ctx, &site, &given)?;
        // Only the verification flags apply: an administrator's user is confirmed already
        // (FORCE_CHANGE_PASSWORD), so `autoConfirmUser` changes nothing.
        let validation_data =
            super::sign_up::name_values(given.validation_data.as_deref().unwrap_or_default());
        let caller = Caller::default().with_metadata(given.client_metadata.as_ref());
        lifecycle::pre_sign_up(
            ctx.db,
            ctx.services,
            &site,
            SignUpSource::AdminCreateUser,
            &user.username,
            &user.attributes,
            Some(&validation_data),
            caller,
        )
        .map_err(super::sign_up::sign_up_stopped)?
        .verify(&mut user.attributes);
        user
    };
    ctx.db.release();
    passwords::set(ctx.services, &mut user, &password).map_err(ApiError::internal)?;
    user.updated_at = ctx.now;
    // The invitation is decided before the user is saved: a hook's refusal creates nothing.
    let invitation = match invite && user.attributes.get("email").is_some() {
        true => Some(messages::compose(
            ctx.db,
            ctx.services,
            &site,
            Source::AdminCreateUser,
            &user,
            Caller::default().with_metadata(given.client_metadata.as_ref()),
        )?),
        false => None,
    };
    if !resend {
        claim_aliases(ctx, &site, &user, given.force_alias_creation)?;
    }
    let (sealer, now) = (&ctx.services.sealer, ctx.now);
    let conn = ctx.conn()?;
    let saved = store::write_transaction(conn, |conn| {
        if resend {
            store::users::update(conn, &site.pool, &user)?;
        } else {
            store::users::create(conn, &site.pool, &user)?;
        }
        if let Some(invitation) = &invitation {
            let pool = &site.pool;
            crate::provision::queue_invitation(
                conn, sealer, pool, &user, &password, invitation, now,
            )?;
        }
        Ok(())
    });
    match saved {
        Ok(()) => {}
        Err(StoreError::Conflict(what)) if what.starts_with("username") => {
            return Err(ApiError::new(
                USERNAME_EXISTS,
                "User account already exists",
            ));
        }
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                ALIAS_EXISTS,
                "An account with the given email already exists.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    if invitation.is_some() {
        ctx.services.mail.wake();
    }
    Ok(json!({ "User": user_type(&user, None) }))
}

/// A new user from `AdminCreateUser`'s input: the username rules, the attributes, the pool's
/// required attributes; a pool that signs in by email or phone takes the username as that
/// attribute and keeps the `sub` as username, as Cognito does.
fn new_user(ctx: &mut Ctx, site: &Site, given: &CreateInput) -> Result<User, ApiError> {
    let settings = &site.pool.settings;
    let sub = uuid::Uuid::new_v4();
    let mut attributes = Attributes::new();
    apply_attributes(site, &mut attributes, &given.user_attributes, false)?;
    let username = if settings.username_attributes.is_empty() {
        let providers: Vec<String> = {
            let (services, conn) = (ctx.services, ctx.db.conn()?);
            crate::flows::identity_providers(conn, services, site)?
                .iter()
                .map(|p| p.name.clone())
                .collect()
        };
        if let Some(text) = signup::username_error(settings, &providers, &given.username) {
            let message = match text.key {
                "error.username_like_alias" => {
                    "Username cannot be of email format, since user pool is configured for email alias."
                }
                _ => "Invalid username: it is empty, too long, has spaces, or names a provider.",
            };
            return Err(ApiError::invalid_parameter(message));
        }
        given.username.clone()
    } else {
        let name = &given.username;
        let kind = if name.contains('@') {
            "email"
        } else if signup::looks_like_phone(name) {
            "phone_number"
        } else {
            ""
        };
        if kind.is_empty() || !settings.username_attributes.iter().any(|a| a == kind) {
            return Err(ApiError::invalid_parameter(
                "Username should be either an email or a phone number.",
            ));
        }
        signup::check_attribute(&mut attributes, kind, name)
            .map_err(|_| ApiError::invalid_parameter(format!("Invalid {kind} value: {name:?}")))?;
        sub.to_string()
    };
    let conn = ctx.conn()?;
    if store::users::find_by_username(conn, &site.pool, &username)?.is_some()
        || (!settings.username_attributes.is_empty()
            && store::users::find_for_sign_in(conn, &site.pool, &given.username)?.is_some())
    {
        return Err(ApiError::new(
            USERNAME_EXISTS,
            "User account already exists",
        ));
    }
    if let Some(missing) = settings
        .required_attributes
        .iter()
        .find(|name| attributes.get(name).is_none())
    {
        return Err(ApiError::invalid_parameter(format!(
            "Attributes did not conform to the schema: {missing}: The attribute {missing} is required"
        )));
    }
    Ok(User {
        sub,
        pool_id: site.pool.id.clone(),
        username,
        status: UserStatus::ForceChangePassword,
        enabled: true,
        password_hash: None,
        attributes,
        created_at: ctx.now,
        updated_at: ctx.now,
        srp_verifier: None,
    })
}

/// `SOFTWARE_TOKEN_MFA` when the user has a verified authenticator that is on.
pub(super) fn mfa_settings(
    ctx: &mut Ctx,
    site: &Site,
    user: &User,
) -> Result<Vec<&'static str>, ApiError> {
    let sealer = ctx.services.sealer.clone();
    let conn = ctx.conn()?;
    let row = store::mfa::find(conn, &sealer, site.pool_id(), &user.sub.to_string())?;
    Ok(if row.is_some_and(|r| r.has_totp()) {
        vec!["SOFTWARE_TOKEN_MFA"]
    } else {
        Vec::new()
    })
}

fn admin_get_user(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let UserInput {
        user_pool_id,
        username,
        ..
    } = input(body)?;
    let (site, user) = site_and_user(ctx, &user_pool_id, &username)?;
    let mfa = mfa_settings(ctx, &site, &user)?;
    let mut answer = json!({
        "Username": user.username,
        "UserAttributes": attributes_json(&user, None),
        "UserCreateDate": timestamp(user.created_at),
        "UserLastModifiedDate": timestamp(user.updated_at),
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
        "UserMFASettingList": mfa,
    });
    if let Some(preferred) = mfa.first() {
        answer["PreferredMfaSetting"] = json!(preferred);
    }
    Ok(answer)
}

fn admin_delete_user(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let UserInput {
        user_pool_id,
        username,
        ..
    } = input(body)?;
    let (site, user) = site_and_user(ctx, &user_pool_id, &username)?;
    let now = ctx.now;
    let conn = ctx.conn()?;
    if !store::users::delete(conn, site.pool_id(), &user.sub, now)? {
        return Err(ApiError::user_not_found());
    }
    Ok(json!({}))
}

fn set_enabled(ctx: &mut Ctx, body: Value, enabled: bool) -> Result<Value, ApiError> {
    let UserInput {
        user_pool_id,
        username,
        ..
    } = input(body)?;
    let (site, mut user) = site_and_user(ctx, &user_pool_id, &username)?;
    user.enabled = enabled;
    user.updated_at = ctx.now;
    let now = ctx.now;
    let conn = ctx.conn()?;
    store::write_transaction(conn, |conn| {
        store::users::update(conn, &site.pool, &user)?;
        if !enabled {
            // Its tokens die with it: refresh tokens and the access tokens of their families.
            store::grants::revoke_user(conn, site.pool_id(), &user.sub.to_string(), None, now)?;
        }
        Ok::<_, StoreError>(())
    })?;
    Ok(json!({}))
}

fn admin_disable_user(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    set_enabled(ctx, body, false)
}

fn admin_enable_user(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    set_enabled(ctx, body, true)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetPasswordInput {
    user_pool_id: String,
    username: String,
    password: String,
    #[serde(default)]
    permanent: bool,
}

fn admin_set_user_password(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: SetPasswordInput = input(body)?;
    check_length("Password", &given.password, 1, 256)?;
    let (site, mut user) = site_and_user(ctx, &given.user_pool_id, &given.username)?;
    check_password(&site.pool.settings.password_policy, &given.password)?;
    ctx.db.release();
    passwords::set(ctx.services, &mut user, &given.password).map_err(ApiError::internal)?;
    user.status = if given.permanent {
        UserStatus::Confirmed
    } else {
        UserStatus::ForceChangePassword
    };
    user.updated_at = ctx.now;
    let conn = ctx.conn()?;
    store::users::update(conn, &site.pool, &user)?;
    Ok(json!({}))
}

fn admin_reset_user_password(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let UserInput {
        user_pool_id,
        username,
        client_metadata,
    } = input(body)?;
    let (site, mut user) = site_and_user(ctx, &user_pool_id, &username)?;
    let Some(email) = recovery::reset_destination(&user).map(str::to_owned) else {
        return Err(ApiError::invalid_parameter(
            "Cannot reset password for the user as there is no registered/verified email or phone_number",
        ));
    };
    user.status = UserStatus::ResetRequired;
    user.updated_at = ctx.now;
    let message = messages::compose(
        ctx.db,
        ctx.services,
        &site,
        Source::ForgotPassword,
        &user,
        Caller::default().with_metadata(client_metadata.as_ref()),
    )?;
    let (services, now) = (ctx.services, ctx.now);
    let conn = ctx.conn()?;
    store::write_transaction(conn, |conn| {
        store::users::update(conn, &site.pool, &user)?;
        let purpose = PURPOSE_RESET;
        crate::flows::codes::send(conn, services, &site, &user, purpose, &email, &message, now)
    })?;
    ctx.services.mail.wake();
    Ok(json!({}))
}

fn admin_confirm_sign_up(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let UserInput {
        user_pool_id,
        username,
        client_metadata,
    } = input(body)?;
    let (site, mut user) = site_and_user(ctx, &user_pool_id, &username)?;
    if user.status != UserStatus::Unconfirmed {
        return Err(ApiError::not_authorized(format!(
            "User cannot be confirmed. Current status is {}",
            user.status
        )));
    }
    user.status = UserStatus::Confirmed;
    user.updated_at = ctx.now;
    let conn = ctx.conn()?;
    store::users::update(conn, &site.pool, &user)?;
    // The confirmation stands if the hook fails; the caller hears of it, as from Cognito.
    let caller = Caller::default().with_metadata(client_metadata.as_ref());
    let source = ConfirmSource::SignUp;
    lifecycle::post_confirmation(ctx.db, ctx.services, &site, source, &user, caller)?;
    Ok(json!({}))
}

fn admin_user_global_sign_out(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let UserInput {
        user_pool_id,
        username,
        ..
    } = input(body)?;
    let (site, user) = site_and_user(ctx, &user_pool_id, &username)?;
    let now = ctx.now;
    let conn = ctx.conn()?;
    store::grants::revoke_user(conn, site.pool_id(), &user.sub.to_string(), None, now)?;
    Ok(json!({}))
}
