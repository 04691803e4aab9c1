//! The read side of pools (../docs/api.md, "Pools and clients"): what the configuration file
//! declares, in Cognito's shapes
//! (<https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GetUserPoolMfaConfig.html>).
//! Pools and clients are written in the file, not through the API; a client's secret is kept
//! only as a digest, so `DescribeUserPoolClient` cannot return it.

use super::Action;
use crate::api::wire::{check_length, input, page_size, page_token, read_page_token, timestamp};
use crate::api::{ApiError, Caller, Ctx};
use crate::flows::Site;
use crate::model::AppClient;
use crate::model::client::OAuthFlow;
use crate::model::pool::MfaConfiguration;
use crate::store;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "GetUserPoolMfaConfig" => get_user_pool_mfa_config,
        "DescribeUserPool" => describe_user_pool,
        "ListUserPools" => list_user_pools,
        "DescribeUserPoolClient" => describe_user_pool_client,
        "ListUserPoolClients" => list_user_pool_clients,
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

/// The pool's `SchemaAttributes`: the standard attributes (required ones flagged) and the
/// declared custom ones.
fn schema(site: &Site) -> Vec<Value> {
    let settings = &site.pool.settings;
    let mut attributes = vec![json!({
        "Name": "sub", "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
        "Mutable": false, "Required": true,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"},
    })];
    for name in crate::model::attributes::STANDARD_ATTRIBUTES {
        let kind = match *name {
            "email_verified" | "phone_number_verified" => "Boolean",
            "updated_at" => "Number",
            _ => "String",
        };
        attributes.push(json!({
            "Name": name, "AttributeDataType": kind, "DeveloperOnlyAttribute": false,
            "Mutable": true, "Required": settings.required_attributes.iter().any(|r| r == name),
        }));
    }
    for custom in &settings.custom_attributes {
        let mut value = json!({
            "Name": format!("custom:{}", custom.name),
            "AttributeDataType": format!("{:?}", custom.attribute_data_type),
            "DeveloperOnlyAttribute": false, "Mutable": custom.mutable, "Required": false,
        });
        let (min, max) = (custom.min_length, custom.max_length);
        if min.is_some() || max.is_some() {
            let key = match custom.attribute_data_type {
                crate::model::pool::CustomAttributeType::String => "StringAttributeConstraints",
                crate::model::pool::CustomAttributeType::Number => "NumberAttributeConstraints",
            };
            let (lo, hi) = match custom.attribute_data_type {
                crate::model::pool::CustomAttributeType::String => ("MinLength", "MaxLength"),
                crate::model::pool::CustomAttributeType::Number => ("MinValue", "MaxValue"),
            };
            let mut constraints = json!({});
            if let Some(min) = min {
                constraints[lo] = json!(min.to_string());
            }
            if let Some(max) = max {
                constraints[hi] = json!(max.to_string());
            }
            value[key] = constraints;
        }
        attributes.push(value);
    }
    attributes
}

/// Cognito's `UserPoolType` for what the file declares.
fn pool_type(ctx: &mut Ctx, site: &Site) -> Result<Value, ApiError> {
    let pool = &site.pool;
    let settings = &pool.settings;
    let policy = &settings.password_policy;
    let conn = ctx.conn()?;
    let (created, updated) = store::pools::dates(conn, pool.id.as_str())?;
    let users = store::users::count(conn, pool.id.as_str())?;
    let messages = &settings.messages;
    let mut value = json!({
        "Id": pool.id.as_str(),
        "Name": pool.name,
        "Arn": ctx.pool_arn(pool.id.as_str()),
        "Policies": {"PasswordPolicy": {
            "MinimumLength": policy.minimum_length,
            "RequireUppercase": policy.require_uppercase,
            "RequireLowercase": policy.require_lowercase,
            "RequireNumbers": policy.require_numbers,
            "RequireSymbols": policy.require_symbols,
            "TemporaryPasswordValidityDays": policy.temporary_password_validity_days,
        }},
        "DeletionProtection": "ACTIVE",
        "LambdaConfig": lambda_config(settings),
        "SchemaAttributes": schema(site),
        "AutoVerifiedAttributes": settings.auto_verified_attributes,
        "MfaConfiguration": mfa_name(settings.mfa_configuration),
        "EstimatedNumberOfUsers": users,
        "EmailConfiguration": {"EmailSendingAccount": "DEVELOPER", "From": messages.email_from},
        "VerificationMessageTemplate": {
            "EmailMessage": messages.verification_message,
            "EmailSubject": messages.verification_subject,
            "DefaultEmailOption": "CONFIRM_WITH_CODE",
        },
        "AdminCreateUserConfig": {
            "AllowAdminCreateUserOnly": settings.allow_admin_create_user_only,
            "InviteMessageTemplate": {
                "EmailMessage": messages.invitation_message,
                "EmailSubject": messages.invitation_subject,
            },
        },
        "UsernameConfiguration": {"CaseSensitive": settings.username_case_sensitive},
        "AccountRecoverySetting": {"RecoveryMechanisms": [
            {"Priority": 1, "Name": "verified_email"},
        ]},
        "UserPoolTier": "ESSENTIALS",
        "CreationDate": timestamp(created),
        "LastModifiedDate": timestamp(updated),
    });
    if !settings.alias_attributes.is_empty() {
        value["AliasAttributes"] = json!(settings.alias_attributes);
    }
    if !settings.username_attributes.is_empty() {
        value["UsernameAttributes"] = json!(settings.username_attributes);
    }
    if let Some(domain) = &pool.domain {
        value["CustomDomain"] = json!(domain);
    }
    if let Some(reply_to) = &messages.reply_to {
        value["EmailConfiguration"]["ReplyToEmailAddress"] = json!(reply_to);
    }
    Ok(value)
}

/// Cognito's `LambdaConfig` with each hook's URL where an ARN would be (docs/triggers.md).
fn lambda_config(settings: &crate::model::PoolSettings) -> Value {
    use crate::model::triggers::TriggerKind;
    let mut config = serde_json::Map::new();
    for (kind, hook) in &settings.triggers {
        let entry = match kind {
            TriggerKind::PreTokenGeneration => {
                config.insert("PreTokenGeneration".into(), hook.url.clone().into());
                (
                    "PreTokenGenerationConfig",
                    json!({
                        "LambdaVersion": format!("V{}_0", hook.version.event_field()),
                        "LambdaArn": hook.url,
                    }),
                )
            }
            TriggerKind::CustomEmailSender | TriggerKind::CustomSmsSender => (
                kind.lambda_name(),
                json!({"LambdaVersion": "V1_0", "LambdaArn": hook.url}),
            ),
            _ => (kind.lambda_name(), hook.url.clone().into()),
        };
        config.insert(entry.0.into(), entry.1);
    }
    Value::Object(config)
}

fn describe_user_pool(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let PoolInput { user_pool_id } = input(body)?;
    let site = ctx.site(&user_pool_id)?;
    Ok(json!({ "UserPool": pool_type(ctx, &site)? }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPoolsInput {
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn list_user_pools(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: ListPoolsInput = input(body)?;
    let Some(max) = given.max_results else {
        return Err(ApiError::invalid_parameter(
            "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null",
        ));
    };
    if max == 0 {
        return Err(ApiError::invalid_parameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
        ));
    }
    let limit = page_size("MaxResults", Some(max), 60, 60)?;
    let after: Option<String> = given
        .next_token
        .as_deref()
        .map(read_page_token)
        .transpose()?;
    let caller = ctx.caller.clone();
    let conn = ctx.conn()?;
    // Pools are few (the file lists them): read them all, keep those the key may see.
    let mut pools: Vec<_> = store::pools::list(conn)?
        .into_iter()
        .filter(|p| match &caller {
            Caller::Signed(key) => key.allows_pool(p.id.as_str()),
            Caller::Public => false,
        })
        .filter(|p| after.as_deref().is_none_or(|a| p.id.as_str() > a))
        .collect();
    pools.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let more = pools.len() > limit;
    pools.truncate(limit);
    let mut listed = Vec::new();
    for pool in &pools {
        let (created, updated) = store::pools::dates(conn, pool.id.as_str())?;
        listed.push(json!({
            "Id": pool.id.as_str(),
            "Name": pool.name,
            "LambdaConfig": lambda_config(&pool.settings),
            "CreationDate": timestamp(created),
            "LastModifiedDate": timestamp(updated),
        }));
    }
    let mut answer = json!({ "UserPools": listed });
    if more && let Some(last) = pools.last() {
        answer["NextToken"] = json!(page_token(&last.id.as_str()));
    }
    Ok(answer)
}

/// Cognito's `UserPoolClientType`.
fn client_type(client: &AppClient) -> Value {
    let s = &client.settings;
    let flows: Vec<&str> = s
        .allowed_oauth_flows
        .iter()
        .map(|f| match f {
            OAuthFlow::Code => "code",
            OAuthFlow::Implicit => "implicit",
            OAuthFlow::ClientCredentials => "client_credentials",
        })
        .collect();
    let (refresh, unit) = match s.refresh_token_validity_minutes {
        Some(minutes) => (i64::from(minutes), "minutes"),
        None => (i64::from(s.refresh_token_validity_days), "days"),
    };
    let mut value = json!({
        "UserPoolId": client.pool_id.as_str(),
        "ClientName": client.name,
        "ClientId": client.id.as_str(),
        "RefreshTokenValidity": refresh,
        "AccessTokenValidity": s.access_token_validity_minutes,
        "IdTokenValidity": s.id_token_validity_minutes,
        "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": unit},
        "ExplicitAuthFlows": s.explicit_auth_flows.iter().map(|f| f.name()).collect::<Vec<_>>(),
        "SupportedIdentityProviders": s.supported_identity_providers,
        "CallbackURLs": s.callback_urls,
        "LogoutURLs": s.logout_urls,
        "AllowedOAuthFlows": flows,
        "AllowedOAuthScopes": s.allowed_oauth_scopes,
        "AllowedOAuthFlowsUserPoolClient": !flows.is_empty(),
        "PreventUserExistenceErrors": match s.prevent_user_existence_errors {
            crate::model::client::ExistenceErrors::Enabled => "ENABLED",
            crate::model::client::ExistenceErrors::Legacy => "LEGACY",
        },
        "EnableTokenRevocation": s.enable_token_revocation,
        "EnablePropagateAdditionalUserContextData": false,
        "AuthSessionValidity": s.auth_session_validity_minutes,
    });
    if let Some(uri) = &s.default_redirect_uri {
        value["DefaultRedirectURI"] = json!(uri);
    }
    if let Some(read) = &s.read_attributes {
        value["ReadAttributes"] = json!(read);
    }
    if let Some(write) = &s.write_attributes {
        value["WriteAttributes"] = json!(write);
    }
    value
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientInput {
    user_pool_id: String,
    client_id: String,
}

fn describe_user_pool_client(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: ClientInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    check_length("ClientId", &given.client_id, 1, 128)?;
    let conn = ctx.conn()?;
    let client = match store::clients::get(conn, site.pool_id(), &given.client_id) {
        Ok(client) => client,
        Err(store::StoreError::NotFound) => {
            return Err(ApiError::resource_not_found(format!(
                "User pool client {} does not exist.",
                given.client_id
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let mut described = client_type(&client);
    // Cognito returns a confidential client's secret to an administrator; the server holds it
    // sealed (docs/api.md, "Encryption").
    if let Some(sealed) = &client.sealed_secret {
        let purpose = crate::sealing::purpose::client_secret(client.id.as_str());
        let secret = ctx
            .services
            .sealer
            .open_string(&purpose, sealed)
            .map_err(|e| {
                ApiError::internal(format!("client {}: sealed secret: {e}", client.id.as_str()))
            })?;
        described["ClientSecret"] = Value::from(secret);
    }
    Ok(json!({ "UserPoolClient": described }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListClientsInput {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

fn list_user_pool_clients(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let given: ListClientsInput = input(body)?;
    let site = ctx.site(&given.user_pool_id)?;
    let limit = page_size("MaxResults", given.max_results, 60, 60)?;
    let after: Option<String> = given
        .next_token
        .as_deref()
        .map(read_page_token)
        .transpose()?;
    let conn = ctx.conn()?;
    let mut clients: Vec<AppClient> = store::clients::list(conn, site.pool_id())?
        .into_iter()
        .filter(|c| after.as_deref().is_none_or(|a| c.id.as_str() > a))
        .collect();
    clients.sort_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
    let more = clients.len() > limit;
    clients.truncate(limit);
    let listed: Vec<Value> = clients
        .iter()
        .map(|c| json!({"ClientId": c.id.as_str(), "UserPoolId": c.pool_id.as_str(), "ClientName": c.name}))
        .collect();
    let mut answer = json!({ "UserPoolClients": listed });
    if more && let Some(last) = clients.last() {
        answer["NextToken"] = json!(page_token(&last.id.as_str()));
    }
    Ok(answer)
}
