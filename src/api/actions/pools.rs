//! The read side of pools (../docs/api.md, "Pools and clients"): what the configuration file
//! declares, in Cognito's shapes
//! (<https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GetUserPoolMfaConfig.html>).
//! Pools and clients are written in the file, not through the API.

use super::Action;
use crate::api::wire::input;
use crate::api::{ApiError, Ctx};
use crate::model::pool::MfaConfiguration;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "GetUserPoolMfaConfig" => get_user_pool_mfa_config,
        _ => return None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolInput {
    user_pool_id: String,
}

/// Cognito's `MfaConfiguration` value.
pub fn mfa_name(mode: MfaConfiguration) -> &'static str {
    match mode {
        MfaConfiguration::Off => "OFF",
        MfaConfiguration::Optional => "OPTIONAL",
        MfaConfiguration::On => "ON",
    }
}

fn get_user_pool_mfa_config(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let PoolInput { user_pool_id } = input(body)?;
    let site = ctx.site(&user_pool_id)?;
    let mode = site.pool.settings.mfa_configuration;
    Ok(json!({
        "MfaConfiguration": mfa_name(mode),
        // TOTP is the one second factor; it is on whenever MFA is.
        "SoftwareTokenMfaConfiguration": { "Enabled": mode != MfaConfiguration::Off },
    }))
}
