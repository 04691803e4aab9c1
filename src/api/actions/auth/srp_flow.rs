//! `USER_SRP_AUTH` and its `PASSWORD_VERIFIER` challenge (docs/api.md, "Sign-in flows";
//! ../docs/api.md follows Cognito's `InitiateAuth` reference,
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_InitiateAuth.html>).
//! `SECRET_BLOCK` is a random value whose digest keys the stored state (the user, `A`, `B` and
//! the sealed `b`): clients answer without `Session`, and each block works once. Unknown users,
//! and users without a verifier yet, get a plausible challenge that fails at the claim.

use super::{Params, Signing, after_check, locked, param, record, session, unknown_user};
use crate::api::{ApiError, Ctx, secret_hash, srp};
use crate::flows::credentials::{self, Keys};
use crate::flows::passwords;
use crate::metrics::SignIn;
use crate::model::client::ExistenceErrors;
use crate::secrets::SecretDigest;
use crate::store::{self, api_sessions};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What the server remembers between the two halves.
#[derive(Serialize, Deserialize)]
struct State {
    /// Server secret `b`, base64.
    b: String,
    /// `B`, base64.
    big_b: String,
    srp_a: String,
}

fn purpose(pool_id: &str, digest: &str) -> String {
    format!("srp-state:{pool_id}:{digest}")
}

const DECOY_SECRET: &str = "srp_decoy";

pub fn start(ctx: &mut Ctx, signing: &Signing, params: &Params) -> Result<Value, ApiError> {
    let username = param(params, "USERNAME")?;
    let srp_a = param(params, "SRP_A")?;
    secret_hash::check(
        ctx.services,
        &signing.client,
        username,
        params.get("SECRET_HASH").map(String::as_str),
    )?;
    srp::check_a(srp_a).map_err(|_| ApiError::invalid_parameter("Invalid SRP_A"))?;
    let (services, now) = (ctx.services, ctx.now);
    let site = signing.site.clone();
    let conn = ctx.conn()?;
    let user = store::users::find_for_sign_in(conn, &site.pool, username)?;
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
    let verifier = user.as_ref().and_then(|u| passwords::verifier(services, u));
    if let Some(user) = &user
        && verifier.is_none()
    {
        tracing::info!(pool = site.pool_id(), user = %user.sub, "USER_SRP_AUTH for a user without an SRP verifier: refused; a password sign-in gives the user one");
    }
    let (salt, ephemeral, user, decoy_id) = match (verifier, user) {
        (Some(verifier), Some(user)) => (
            srp::salt_param(&verifier),
            srp::server_start(&verifier),
            Some(user),
            None,
        ),
        _ => {
            let key = store::instance::secret(conn, DECOY_SECRET, now, || {
                crate::secrets::random_token(32)
            })?;
            let (salt, ephemeral) = srp::decoy(key.as_bytes(), site.pool_id(), username);
            // Where users sign in by email or phone, a real USER_ID_FOR_SRP is a UUID (the
            // username is the `sub`): a decoy's must look the same, and stay the same.
            let decoy_id = (!site.pool.settings.username_attributes.is_empty())
                .then(|| decoy_uuid(key.as_bytes(), site.pool_id(), username));
            (salt, ephemeral, None, decoy_id)
        }
    };
    let mut block = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut block);
    let secret_block = B64.encode(block);
    let digest = SecretDigest::of(&secret_block);
    let state = State {
        b: B64.encode(&ephemeral.b),
        big_b: B64.encode(&ephemeral.big_b),
        srp_a: srp_a.to_owned(),
    };
    let sealed = services.sealer.seal(
        &purpose(site.pool_id(), digest.as_str()),
        serde_json::to_string(&state).unwrap_or_default().as_bytes(),
    );
    let user_id = match (&user, decoy_id) {
        (Some(user), _) => user.username.clone(),
        (None, Some(decoy)) => decoy,
        (None, None) => username.to_owned(),
    };
    session::store(
        ctx,
        signing,
        user.as_ref(),
        username,
        session::PASSWORD_VERIFIER,
        &secret_block,
        Some(sealed),
    )?;
    Ok(json!({
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": {
            "SALT": salt,
            "SRP_B": srp::b_param(&ephemeral),
            "SECRET_BLOCK": secret_block,
            "USER_ID_FOR_SRP": user_id,
            "USERNAME": user_id,
        },
    }))
}

/// A UUID stable for one pool and name, from the decoy key: what an unknown name's
/// `USER_ID_FOR_SRP` reads in pools whose usernames are `sub`s.
fn decoy_uuid(key: &[u8], pool_id: &str, username: &str) -> String {
    let mac = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key),
        format!("decoy-id:{pool_id}:{}", username.to_lowercase()).as_bytes(),
    );
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&mac.as_ref()[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

pub fn verify(ctx: &mut Ctx, signing: &Signing, responses: &Params) -> Result<Value, ApiError> {
    let secret_block = param(responses, "PASSWORD_CLAIM_SECRET_BLOCK")?;
    let signature = param(responses, "PASSWORD_CLAIM_SIGNATURE")?;
    let timestamp = param(responses, "TIMESTAMP")?;
    let (services, now) = (ctx.services, ctx.now);
    let site = signing.site.clone();
    let digest = SecretDigest::of(secret_block);
    let conn = ctx.conn()?;
    // Spent by any answer, right or wrong.
    let row = api_sessions::take(conn, site.pool_id(), digest.as_str(), now)?
        .filter(|row| row.challenge == session::PASSWORD_VERIFIER)
        .filter(|row| row.client_id == signing.client.id.as_str())
        .ok_or_else(session::expired)?;
    let given = responses.get("USERNAME").map(String::as_str);
    secret_hash::check(
        services,
        &signing.client,
        given.unwrap_or(&row.username),
        responses.get("SECRET_HASH").map(String::as_str),
    )?;
    let sub = row
        .user_sub
        .as_deref()
        .and_then(|s| uuid::Uuid::parse_str(s).ok());
    let user = match sub {
        Some(sub) => match store::users::get(conn, site.pool_id(), &sub) {
            Ok(user) => Some(user),
            Err(store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let Some(user) = user else {
        // A decoy's failure counts like a real user's, so a lock never tells names apart.
        let keys = Keys::new(&site, None, &row.username, None);
        let conn = ctx.conn()?;
        if keys.locked(conn, now)? {
            record(ctx, SignIn::Locked);
            return Err(locked());
        }
        keys.failed(conn, now)?;
        record(ctx, SignIn::WrongPassword);
        return Err(super::wrong_password());
    };
    if !session::names_user(signing, &row, &user, given) {
        return Err(session::expired());
    }
    let keys = Keys::new(&site, Some(&user), &row.username, None);
    if keys.locked(conn, now)? {
        record(ctx, SignIn::Locked);
        return Err(locked());
    }
    let state: Option<State> = row
        .state
        .as_deref()
        .and_then(|s| {
            services
                .sealer
                .open(&purpose(site.pool_id(), digest.as_str()), s)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let verifier = passwords::verifier(services, &user);
    let proved = match (&state, &verifier) {
        (Some(state), Some(verifier)) => {
            let b = B64.decode(&state.b).unwrap_or_default();
            let big_b = B64.decode(&state.big_b).unwrap_or_default();
            let claim = srp::Claim {
                pool_id: site.pool_id(),
                user_id_for_srp: &user.username,
                verifier,
                b: &b,
                big_b: &big_b,
                srp_a: &state.srp_a,
                secret_block,
                timestamp,
                signature,
            };
            srp::verify_claim(&claim, now)
                .map_err(|e| tracing::info!(user = %user.sub, error = %e, "SRP claim refused"))
                .is_ok()
        }
        _ => false,
    };
    // Pre authentication is asked here, at the verifier step (the user is known and the proof
    // checked, not yet acted on), as the password flows ask it after argon2.
    let caller = signing.caller();
    crate::flows::lifecycle::pre_authentication(ctx.db, services, &site, &user, caller)?;
    let conn = ctx.conn()?;
    if !proved {
        keys.failed(conn, now)?;
        record(ctx, SignIn::WrongPassword);
        return Err(super::wrong_password());
    }
    keys.passed(conn)?;
    let checked = credentials::after_first_factor(&site, user, now);
    after_check(ctx, signing, checked)
}
