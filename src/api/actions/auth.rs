//! Signing in through the JSON API (docs/api.md, "Sign-in flows"): `InitiateAuth`,
//! `AdminInitiateAuth` and the challenges answered with `RespondToAuthChallenge` /
//! `AdminRespondToAuthChallenge`
//! (<https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html>).
//! The password check, throttling and refusals are the hosted page's (`flows::credentials`), the
//! steps after it `flows::sign_in`'s, the tokens `flows::token`'s.

mod challenges;
mod custom;
mod mfa;
mod session;
mod srp_flow;

use super::Action;
use crate::api::token::ADMIN_SCOPE;
use crate::api::wire::input;
use crate::api::{ApiError, Ctx, secret_hash};
use crate::flows::Site;
use crate::flows::credentials::{self, FirstFactor};
use crate::flows::lifecycle::{self, Caller};
use crate::flows::migration;
use crate::flows::pre_token::Source;
use crate::flows::sign_in::{self, Challenge, Refusal, Step};
use crate::metrics::SignIn;
use crate::model::client::{AuthFlow, ExistenceErrors};
use crate::model::pool::MfaConfiguration;
use crate::model::{AppClient, User};
use crate::store::mfa as mfa_store;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

pub fn find(name: &str) -> Option<Action> {
    Some(match name {
        "InitiateAuth" => initiate_auth,
        "AdminInitiateAuth" => admin_initiate_auth,
        "RespondToAuthChallenge" => respond_to_auth_challenge,
        "AdminRespondToAuthChallenge" => admin_respond_to_auth_challenge,
        "AssociateSoftwareToken" => mfa::associate_software_token,
        "VerifySoftwareToken" => mfa::verify_software_token,
        _ => return None,
    })
}

type Params = HashMap<String, String>;
/// `ClientMetadata`, passed to the hooks a sign-in calls.
type Metadata = BTreeMap<String, String>;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InitiateInput {
    auth_flow: String,
    client_id: String,
    #[serde(default)]
    auth_parameters: Params,
    #[serde(default)]
    client_metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminInitiateInput {
    user_pool_id: String,
    auth_flow: String,
    client_id: String,
    #[serde(default)]
    auth_parameters: Params,
    #[serde(default)]
    client_metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RespondInput {
    client_id: String,
    challenge_name: String,
    session: Option<String>,
    #[serde(default)]
    challenge_responses: Params,
    #[serde(default)]
    client_metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminRespondInput {
    user_pool_id: String,
    client_id: String,
    challenge_name: String,
    session: Option<String>,
    #[serde(default)]
    challenge_responses: Params,
    #[serde(default)]
    client_metadata: Option<Metadata>,
}

/// Where a sign-in happens: the pool, the client, and the request's `ClientMetadata` (for the
/// hooks).
pub struct Signing {
    pub site: Site,
    pub client: AppClient,
    pub metadata: Option<Metadata>,
}

impl Signing {
    /// Who signs in, as the lifecycle hooks see it.
    pub fn caller(&self) -> Caller<'_> {
        Caller::client(self.client.id.as_str()).with_metadata(self.metadata.as_ref())
    }
}

/// A required member of `AuthParameters` / `ChallengeResponses`.
pub fn param<'a>(params: &'a Params, name: &str) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter(format!("Missing required parameter {name}")))
}

fn initiate_auth(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let i: InitiateInput = input(body)?;
    let (site, client) = ctx.client_site(&i.client_id)?;
    let metadata = i.client_metadata;
    initiate(
        ctx,
        Signing {
            site,
            client,
            metadata,
        },
        &i.auth_flow,
        &i.auth_parameters,
        false,
    )
}

fn admin_initiate_auth(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let i: AdminInitiateInput = input(body)?;
    let mut signing = admin_signing(ctx, &i.user_pool_id, &i.client_id)?;
    signing.metadata = i.client_metadata;
    initiate(ctx, signing, &i.auth_flow, &i.auth_parameters, true)
}

fn admin_signing(ctx: &mut Ctx, pool_id: &str, client_id: &str) -> Result<Signing, ApiError> {
    ctx.site(pool_id)?;
    let (site, client) = ctx.client_site(client_id)?;
    if site.pool_id() != pool_id {
        return Err(ApiError::resource_not_found(format!(
            "User pool client {client_id} does not exist."
        )));
    }
    Ok(Signing {
        site,
        client,
        metadata: None,
    })
}

fn respond_to_auth_challenge(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let i: RespondInput = input(body)?;
    let (site, client) = ctx.client_site(&i.client_id)?;
    let signing = Signing {
        site,
        client,
        metadata: i.client_metadata,
    };
    respond(
        ctx,
        &signing,
        &i.challenge_name,
        i.session.as_deref(),
        &i.challenge_responses,
    )
}

fn admin_respond_to_auth_challenge(ctx: &mut Ctx, body: Value) -> Result<Value, ApiError> {
    let i: AdminRespondInput = input(body)?;
    let mut signing = admin_signing(ctx, &i.user_pool_id, &i.client_id)?;
    signing.metadata = i.client_metadata;
    respond(
        ctx,
        &signing,
        &i.challenge_name,
        i.session.as_deref(),
        &i.challenge_responses,
    )
}

/// The flows each action knows, and the client setting that allows each.
fn flow_of(name: &str, admin: bool) -> Result<AuthFlow, ApiError> {
    Ok(match name {
        "USER_PASSWORD_AUTH" if !admin => AuthFlow::UserPassword,
        "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" if admin => AuthFlow::AdminUserPassword,
        "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => AuthFlow::RefreshToken,
        "USER_SRP_AUTH" => AuthFlow::UserSrp,
        "CUSTOM_AUTH" => AuthFlow::CustomAuth,
        "USER_AUTH" => AuthFlow::UserAuth,
        _ => {
            return Err(ApiError::invalid_parameter(
                "Initiate Auth method not supported.",
            ));
        }
    })
}

fn initiate(
    ctx: &mut Ctx,
    signing: Signing,
    flow_name: &str,
    params: &Params,
    admin: bool,
) -> Result<Value, ApiError> {
    let flow = flow_of(flow_name, admin)?;
    if !signing.client.settings.explicit_auth_flows.contains(&flow) {
        return Err(ApiError::invalid_parameter(format!(
            "{flow_name} flow not enabled for this client"
        )));
    }
    match flow {
        AuthFlow::UserPassword | AuthFlow::AdminUserPassword => password(ctx, &signing, params),
        AuthFlow::RefreshToken => refresh(ctx, &signing, params),
        AuthFlow::UserSrp => srp_flow::start(ctx, &signing, params),
        AuthFlow::CustomAuth => custom::start(ctx, &signing, params, signing.metadata.as_ref()),
        AuthFlow::UserAuth => Err(ApiError::invalid_parameter(format!(
            "{flow_name} is not supported by this server."
        ))),
    }
}

fn respond(
    ctx: &mut Ctx,
    signing: &Signing,
    name: &str,
    session: Option<&str>,
    responses: &Params,
) -> Result<Value, ApiError> {
    match name {
        "PASSWORD_VERIFIER" => srp_flow::verify(ctx, signing, responses),
        "NEW_PASSWORD_REQUIRED" => challenges::new_password(ctx, signing, session, responses),
        "SOFTWARE_TOKEN_MFA" => mfa::answer_code(ctx, signing, session, responses),
        "MFA_SETUP" => mfa::answer_setup(ctx, signing, session, responses),
        "SELECT_MFA_TYPE" => challenges::select_mfa_type(ctx, signing, session, responses),
        "CUSTOM_CHALLENGE" => {
            custom::respond(ctx, signing, session, responses, signing.metadata.as_ref())
        }
        _ => Err(ApiError::invalid_parameter(format!(
            "The challenge {name} is not supported by this server."
        ))),
    }
}

pub fn record(ctx: &Ctx, result: SignIn) {
    ctx.services.metrics.sign_in(result);
}

/// Cognito's answer for a name no user has, as the client's `PreventUserExistenceErrors` asks.
pub fn unknown_user(client: &AppClient) -> ApiError {
    match client.settings.prevent_user_existence_errors {
        ExistenceErrors::Enabled => wrong_password(),
        ExistenceErrors::Legacy => ApiError::user_not_found(),
    }
}

/// A migration that created nobody, as Cognito answers it: the unknown user's error (which
/// under `PreventUserExistenceErrors` is the wrong password's), with Cognito's "Exception
/// migrating user in app client …"; a hook that did not answer is `UnexpectedLambdaException`.
pub fn migration_failed(client: &AppClient, failure: migration::Failure) -> ApiError {
    match (failure, client.settings.prevent_user_existence_errors) {
        (migration::Failure::Unreachable(error), _) => error.into(),
        (_, ExistenceErrors::Enabled) => wrong_password(),
        (failure, ExistenceErrors::Legacy) => ApiError::new(
            crate::api::error::USER_NOT_FOUND,
            format!(
                "Exception migrating user in app client {}",
                client.id.as_str()
            ),
        )
        .with_detail(format!("{failure:?}")),
    }
}

pub fn wrong_password() -> ApiError {
    ApiError::not_authorized("Incorrect username or password.")
}

pub fn locked() -> ApiError {
    ApiError::not_authorized("Password attempts exceeded")
}

/// Cognito's exception for a right password on an account that may not sign in.
pub fn refusal(ctx: &Ctx, refusal: Refusal) -> ApiError {
    let (result, error) = match refusal {
        Refusal::Disabled => (
            SignIn::Disabled,
            ApiError::not_authorized("User is disabled."),
        ),
        Refusal::NotConfirmed => (
            SignIn::Unconfirmed,
            ApiError::new("UserNotConfirmedException", "User is not confirmed."),
        ),
        Refusal::ResetRequired => (
            SignIn::ResetRequired,
            ApiError::new(
                "PasswordResetRequiredException",
                "Password reset required for the user",
            ),
        ),
        Refusal::TemporaryPasswordExpired => (
            SignIn::TemporaryPasswordExpired,
            ApiError::not_authorized(
                "Temporary password has expired and must be reset by an administrator.",
            ),
        ),
    };
    record(ctx, result);
    error
}

fn password(ctx: &mut Ctx, signing: &Signing, params: &Params) -> Result<Value, ApiError> {
    let username = param(params, "USERNAME")?;
    let password = param(params, "PASSWORD")?;
    secret_hash::check(
        ctx.services,
        &signing.client,
        username,
        params.get("SECRET_HASH").map(String::as_str),
    )?;
    let (services, now) = (ctx.services, ctx.now);
    let checked = credentials::check_password(
        ctx.db,
        services,
        &signing.site,
        signing.caller(),
        username,
        password,
        None,
        now,
    )?;
    after_check(ctx, signing, checked)
}

/// The answer to a finished first factor (a password or an SRP proof).
pub fn after_check(
    ctx: &mut Ctx,
    signing: &Signing,
    checked: FirstFactor,
) -> Result<Value, ApiError> {
    match checked {
        FirstFactor::Locked => {
            record(ctx, SignIn::Locked);
            Err(locked())
        }
        FirstFactor::UnknownUser => {
            record(ctx, SignIn::WrongPassword);
            Err(unknown_user(&signing.client))
        }
        FirstFactor::WrongPassword => {
            record(ctx, SignIn::WrongPassword);
            Err(wrong_password())
        }
        FirstFactor::Refused(r) => Err(refusal(ctx, r)),
        FirstFactor::MigrationFailed(failure) => {
            record(ctx, SignIn::WrongPassword);
            Err(migration_failed(&signing.client, failure))
        }
        FirstFactor::Denied(error) => Err(error.into()),
        FirstFactor::Passed { user, challenge } => next_step(ctx, signing, &user, challenge),
    }
}

/// After the first factor: the new-password challenge, or the second factor, or tokens.
pub fn next_step(
    ctx: &mut Ctx,
    signing: &Signing,
    user: &User,
    challenge: Option<Challenge>,
) -> Result<Value, ApiError> {
    if challenge == Some(Challenge::NewPasswordRequired) {
        record(ctx, SignIn::NewPasswordRequired);
        return challenges::ask_new_password(ctx, signing, user);
    }
    second_factor(ctx, signing, user)
}

/// The pool's second factor for this user, or tokens. An `OPTIONAL` pool asks only users who
/// set up an authenticator, as Cognito's API does.
pub fn second_factor(ctx: &mut Ctx, signing: &Signing, user: &User) -> Result<Value, ApiError> {
    second_factor_after(ctx, signing, user, Source::Authentication)
}

/// `second_factor`, saying for the pre token generation hook which step came last.
pub fn second_factor_after(
    ctx: &mut Ctx,
    signing: &Signing,
    user: &User,
    source: Source,
) -> Result<Value, ApiError> {
    let mode = signing.site.pool.settings.mfa_configuration;
    let row = if mode == MfaConfiguration::Off {
        None
    } else {
        let pool_id = signing.site.pool_id().to_owned();
        let sealer = ctx.services.sealer.clone();
        mfa_store::find(ctx.conn()?, &sealer, &pool_id, &user.sub.to_string())?
    };
    let has_totp = row.as_ref().is_some_and(mfa_store::MfaRow::has_totp);
    let declined = row.as_ref().is_some_and(|r| r.declined);
    match sign_in::second_factor(mode, has_totp, declined) {
        Step::Challenge(Challenge::SoftwareTokenMfa) => {
            record(ctx, SignIn::MfaRequired);
            let id = session::create(ctx, signing, Some(user), &user.username, session::MFA)?;
            Ok(challenge_answer(session::MFA, &id, json!({})))
        }
        Step::Challenge(Challenge::MfaSetup { optional: false }) => {
            record(ctx, SignIn::MfaSetupRequired);
            let id = session::create(ctx, signing, Some(user), &user.username, session::SETUP)?;
            let params = json!({ "MFAS_CAN_SETUP": "[\"SOFTWARE_TOKEN_MFA\"]" });
            Ok(challenge_answer(session::SETUP, &id, params))
        }
        _ => tokens_after(ctx, signing, user, source),
    }
}

pub fn challenge_answer(name: &str, session: &str, params: Value) -> Value {
    json!({ "ChallengeName": name, "Session": session, "ChallengeParameters": params })
}

/// Every factor is in: the hosted UI's tokens, with the scope Cognito's API sign-ins carry.
pub fn tokens(ctx: &mut Ctx, signing: &Signing, user: &User) -> Result<Value, ApiError> {
    tokens_after(ctx, signing, user, Source::Authentication)
}

/// `tokens`, with the pre token generation hook's `triggerSource`.
pub fn tokens_after(
    ctx: &mut Ctx,
    signing: &Signing,
    user: &User,
    source: Source,
) -> Result<Value, ApiError> {
    let (services, now) = (ctx.services, ctx.now);
    // A failing post authentication hook fails the sign-in, as in Cognito.
    lifecycle::post_authentication(ctx.db, services, &signing.site, user, signing.caller())?;
    let sign_in = crate::flows::token::SignIn {
        source,
        client_metadata: signing.metadata.as_ref(),
    };
    let issued = crate::flows::token::sign_in_tokens(
        ctx.db,
        services,
        &signing.site,
        &signing.client,
        user,
        &[ADMIN_SCOPE.to_owned()],
        &sign_in,
        now,
    )?;
    record(ctx, SignIn::Success);
    Ok(json!({
        "ChallengeParameters": {},
        "AuthenticationResult": result(issued),
    }))
}

fn result(issued: crate::flows::token::TokenResponse) -> Value {
    let mut out = json!({
        "AccessToken": issued.access_token,
        "ExpiresIn": issued.expires_in,
        "TokenType": "Bearer",
    });
    if let Some(id) = issued.id_token {
        out["IdToken"] = id.into();
    }
    if let Some(refresh) = issued.refresh_token {
        out["RefreshToken"] = refresh.into();
    }
    out
}

/// `REFRESH_TOKEN_AUTH`: the refresh grant of `/oauth2/token`; a new refresh token only when
/// the client rotates them.
fn refresh(ctx: &mut Ctx, signing: &Signing, params: &Params) -> Result<Value, ApiError> {
    let token = param(params, "REFRESH_TOKEN")?;
    let invalid = || ApiError::not_authorized("Invalid Refresh Token");
    let (services, now) = (ctx.services, ctx.now);
    let pool_id = signing.site.pool_id().to_owned();
    let conn = ctx.conn()?;
    // SECRET_HASH is computed with the token's user's username.
    let digest = crate::secrets::SecretDigest::of(token);
    let row = crate::store::grants::find_refresh(conn, &pool_id, digest.as_str())?;
    let username = match row.and_then(|r| uuid::Uuid::parse_str(&r.user_sub).ok()) {
        Some(sub) => match crate::store::users::get(conn, &pool_id, &sub) {
            Ok(user) => user.username,
            Err(crate::store::StoreError::NotFound) => return Err(invalid()),
            Err(e) => return Err(e.into()),
        },
        None => return Err(invalid()),
    };
    secret_hash::check(
        services,
        &signing.client,
        &username,
        params.get("SECRET_HASH").map(String::as_str),
    )?;
    let issued = crate::flows::token::refresh(
        ctx.db,
        services,
        &signing.site,
        &signing.client,
        token,
        None,
        signing.metadata.as_ref(),
        now,
    )
    .map_err(|e| match ApiError::from(e) {
        e if e.code == crate::api::error::NOT_AUTHORIZED => invalid().with_detail(e.message),
        e => e,
    })?;
    services
        .metrics
        .token_issued(crate::metrics::Grant::RefreshToken);
    Ok(json!({
        "ChallengeParameters": {},
        "AuthenticationResult": result(issued),
    }))
}
