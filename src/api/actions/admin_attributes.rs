//! Administrators' changes to a user's attributes and MFA preference (../docs/api.md, "Admin
//! actions";
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminUpdateUserAttributes.html>,
//! `AdminDeleteUserAttributes`, `AdminSetUserMFAPreference`).

use super::Action;
use super::admin_users::{apply_attributes, claim_aliases, site_and_user};
use crate::api::wire::{AttributeType, input};
use crate::api::{ApiError, Ctx};
use crate::flows::messages::{self, Caller, Source};
use crate::flows::{codes, validation};
use crate::store::{self, StoreError, codes::PURPOSE_VERIFY_EMAIL, mfa::MfaRow};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "AdminUpdateUserAttributes" => admin_update_user_attributes,
        "AdminDeleteUserAttributes" => admin_delete_user_attributes,
        "AdminSetUserMFAPreference" => admin_set_user_mfa_preference,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    user_pool_id: String,
    username: String,
    user_attributes: Vec<AttributeType>,
    client_metadata: Option<BTreeMap<String, String>>,
}

fn admin_update_user_attributes(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: UpdateInput = input(body)?;
    let (site, mut user) = site_and_user(ctx, &given.user_pool_id, &given.username)?;
    let before = user.attributes.clone();
    apply_attributes(&site, &mut user.attributes, &given.user_attributes, true)?;
    let named = |name: &str| given.user_attributes.iter().any(|a| a.name == name);
    // A new address is unverified unless this same call says otherwise; with auto-verification
    // a code goes to it.
    let mut send_code = None;
    for (attribute, flag) in crate::model::attributes::VERIFIABLE {
        let changed = user.attributes.get(attribute) != before.get(attribute);
        if changed && !named(flag) {
            user.attributes
                .set(*flag, "false")
                .map_err(ApiError::internal)?;
            let verifies = site
                .pool
                .settings
                .auto_verified_attributes
                .iter()
                .any(|a| a == attribute);
            if *attribute == "email" && verifies {
                send_code = user.attributes.get("email").map(str::to_owned);
            }
        }
    }
    user.updated_at = ctx.now;
    // The message is decided before anything is saved: a hook's refusal changes nothing.
    let message = match &send_code {
        Some(_) => Some(messages::compose(
            ctx.db,
            ctx.services,
            &site,
            Source::UpdateUserAttribute,
            &user,
            Caller::default().with_metadata(given.client_metadata.as_ref()),
        )?),
        None => None,
    };
    claim_aliases(ctx, &site, &user, false)?;
    let (services, now) = (ctx.services, ctx.now);
    let conn = ctx.conn()?;
    let saved = store::write_transaction(conn, |conn| {
        store::users::update(conn, &site.pool, &user)?;
        if let (Some(email), Some(message)) = (&send_code, &message) {
            let purpose = PURPOSE_VERIFY_EMAIL;
            codes::send(conn, services, &site, &user, purpose, email, message, now)?;
        }
        Ok(())
    });
    match saved {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                super::admin_users::ALIAS_EXISTS,
                "An account with the given email already exists.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    if send_code.is_some() {
        ctx.services.mail.wake();
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteInput {
    user_pool_id: String,
    username: String,
    user_attribute_names: Vec<String>,
}

fn admin_delete_user_attributes(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: DeleteInput = input(body)?;
    let (site, mut user) = site_and_user(ctx, &given.user_pool_id, &given.username)?;
    let settings = &site.pool.settings;
    for name in &given.user_attribute_names {
        if settings.required_attributes.iter().any(|r| r == name) {
            return Err(ApiError::invalid_parameter(format!(
                "Cannot delete a required attribute: {name}"
            )));
        }
        if !validation::is_mutable(settings, name) {
            return Err(ApiError::invalid_parameter(format!(
                "Cannot modify an immutable attribute: {name}"
            )));
        }
        if settings.username_attributes.iter().any(|a| a == name) {
            return Err(ApiError::invalid_parameter(format!(
                "Cannot delete the attribute the user signs in with: {name}"
            )));
        }
    }
    for name in &given.user_attribute_names {
        user.attributes.remove(name);
        // Without the address its verified flag means nothing.
        if let Some((_, flag)) = crate::model::attributes::VERIFIABLE
            .iter()
            .find(|(attribute, _)| attribute == name)
        {
            user.attributes.remove(flag);
        }
    }
    user.updated_at = ctx.now;
    let conn = ctx.conn()?;
    store::users::update(conn, &site.pool, &user)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MfaSettings {
    enabled: Option<bool>,
    preferred_mfa: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MfaInput {
    user_pool_id: String,
    username: String,
    software_token_mfa_settings: Option<MfaSettings>,
    #[serde(rename = "SMSMfaSettings")]
    sms_mfa_settings: Option<MfaSettings>,
    email_mfa_settings: Option<MfaSettings>,
}

fn admin_set_user_mfa_preference(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: MfaInput = input(body)?;
    let (site, user) = site_and_user(ctx, &given.user_pool_id, &given.username)?;
    let wants = |s: &Option<MfaSettings>| {
        s.as_ref()
            .is_some_and(|s| s.enabled == Some(true) || s.preferred_mfa == Some(true))
    };
    if wants(&given.sms_mfa_settings) || wants(&given.email_mfa_settings) {
        return Err(ApiError::invalid_parameter(
            "Only software token MFA is available in this user pool.",
        ));
    }
    let Some(totp) = given.software_token_mfa_settings else {
        return Ok(json!({}));
    };
    let enable = totp.enabled.unwrap_or(false) || totp.preferred_mfa.unwrap_or(false);
    let sub = user.sub.to_string();
    let now = ctx.now;
    let sealer = ctx.services.sealer.clone();
    let conn = ctx.conn()?;
    let row = store::mfa::find(conn, &sealer, site.pool_id(), &sub)?;
    // Verified once: a code was accepted (`last_step`), so the authenticator works.
    let verified = row
        .as_ref()
        .is_some_and(|r| r.totp_secret.is_some() && (r.totp_enabled || r.last_step > 0));
    if enable && !verified {
        return Err(ApiError::invalid_parameter(
            "User has not verified software token mfa",
        ));
    }
    let mut row = row.unwrap_or_else(|| MfaRow::empty(site.pool_id(), &sub, now));
    if totp.enabled.is_none() && totp.preferred_mfa.is_none() {
        return Ok(json!({}));
    }
    row.totp_enabled = enable;
    // Turned off by an administrator: an OPTIONAL pool no longer asks this user to set one up.
    row.declined = !enable;
    row.updated_at = now;
    store::mfa::save(conn, &sealer, &row)?;
    Ok(json!({}))
}
