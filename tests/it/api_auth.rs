//! Signing in through the JSON API over real HTTP (docs/api.md, "Sign-in flows"): each flow's
//! success path and Cognito's documented errors, SRP with the library's client half, the
//! new-password and TOTP challenges, refresh, SECRET_HASH, and tokens that verify against the
//! pool's JWKS.

use crate::api_support::{Api, assert_error};
use crate::on_both_backends_with;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use gatehouse::api::srp;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PUBLIC: &str = "authtestpublicclient000001";
const LEGACY: &str = "authtestlegacyclient000001";
const SRP_ONLY: &str = "authtestsrponlyclient00001";
const SECRET: &str = "authtestsecretclient000001";
const MFA_CLIENT: &str = "authtestmfaclient000000001";
const POOL: &str = "local_AuthTst01";
const MFA_POOL: &str = "local_AuthMfa01";
const PASSWORD: &str = "Correct-Horse-9";

const CONFIG: &str = r#"
[[api_credentials]]
access_key_id = "AKIAGATEHOUSETEST001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["*"]

[[pool]]
id = "local_AuthTst01"
name = "auth-test"
alias_attributes = ["email"]
required_attributes = ["email"]

[[pool.client]]
id = "authtestpublicclient000001"
name = "spa"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pool.client]]
id = "authtestlegacyclient000001"
name = "legacy"
explicit_auth_flows = ["USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"]
prevent_user_existence_errors = "LEGACY"
rotate_refresh_tokens = true

[[pool.client]]
id = "authtestsrponlyclient00001"
name = "default-flows"

[[pool.client]]
id = "authtestsecretclient000001"
name = "server"
secret = "env:TEST_API_SECRET"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH"]

[[pool.user]]
username = "Alice"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "alice@example.com", email_verified = "true" }

[[pool.user]]
username = "dora"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "dora@example.com" }
enabled = false

[[pool.user]]
username = "uma"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "uma@example.com" }
status = "UNCONFIRMED"

[[pool.user]]
username = "rita"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "rita@example.com" }
status = "RESET_REQUIRED"

[[pool.user]]
username = "fred"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "fred@example.com" }
status = "FORCE_CHANGE_PASSWORD"

[[pool]]
id = "local_AuthMfa01"
name = "auth-mfa"
mfa = "ON"

[[pool.client]]
id = "authtestmfaclient000000001"
name = "mfa"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH"]

[[pool.user]]
username = "mike"
password = "env:TEST_USER_PASSWORD"

[[pool]]
id = "local_AuthTst02"
name = "by-email"
username_attributes = ["email"]

[[pool.client]]
id = "authtestbyemailclient00001"
name = "by-email-spa"
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH"]
"#;

/// The harness: a server for `CONFIG`.
struct Auth;

impl Auth {
    async fn start(db: crate::support::TestDb) -> Api {
        Api::start_with(db, CONFIG)
    }
}

on_both_backends_with!(
    Auth;
    password_sign_in_issues_verifiable_tokens_and_refresh_works,
    password_sign_in_errors_follow_cognitos_order,
    flows_must_be_enabled_and_secret_hash_is_required,
    srp_signs_in_with_the_librarys_client,
    new_password_challenge_asks_for_missing_attributes,
    mfa_setup_then_software_token_mfa,
    an_unknown_email_gets_a_uuid_like_a_real_user,
);

fn password_auth(client: &str, username: &str, password: &str) -> Value {
    json!({
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client,
        "AuthParameters": { "USERNAME": username, "PASSWORD": password },
    })
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The token's claims, if it verifies against the pool's published keys.
async fn verify_with_jwks(api: &Api, pool: &str, token: &str) -> Value {
    let jwks: Value = api
        .http
        .get(format!("{}/{pool}/.well-known/jwks.json", api.root))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid published");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    // The issuer is the server's public URL and the pool (the test server's public URL is not
    // the address it listens on).
    let iss = claims(token)["iss"].as_str().unwrap().to_owned();
    assert!(iss.ends_with(&format!("/{pool}")), "{iss}");
    validation.set_issuer(&[iss]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("the token verifies against the JWKS")
        .claims
}

async fn password_sign_in_issues_verifiable_tokens_and_refresh_works(api: Api) {
    // By alias, in another case than stored.
    let (status, out) = api
        .call(
            "InitiateAuth",
            password_auth(PUBLIC, "alice@example.com", PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let result = &out["AuthenticationResult"];
    assert_eq!(result["TokenType"], "Bearer");
    assert_eq!(result["ExpiresIn"], 3600);
    let id = verify_with_jwks(&api, POOL, result["IdToken"].as_str().unwrap()).await;
    assert_eq!(id["cognito:username"], "Alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["aud"], PUBLIC);
    let access = verify_with_jwks(&api, POOL, result["AccessToken"].as_str().unwrap()).await;
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(access["client_id"], PUBLIC);
    let refresh = result["RefreshToken"].as_str().unwrap().to_owned();

    // The admin flow, under both names.
    for flow in ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"] {
        let (status, out) = api
            .admin(
                "AdminInitiateAuth",
                json!({
                    "UserPoolId": POOL, "ClientId": PUBLIC, "AuthFlow": flow,
                    "AuthParameters": { "USERNAME": "Alice", "PASSWORD": PASSWORD },
                }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{flow}: {out}");
        assert!(out["AuthenticationResult"]["AccessToken"].is_string());
    }
    // Unsigned, the admin action is refused.
    let unsigned = api
        .call(
            "AdminInitiateAuth",
            json!({
                "UserPoolId": POOL, "ClientId": PUBLIC, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": { "USERNAME": "Alice", "PASSWORD": PASSWORD },
            }),
        )
        .await;
    assert_ne!(unsigned.0, StatusCode::OK);

    // Refresh: new access and ID tokens, no new refresh token (no rotation).
    let (status, out) = api
        .call(
            "InitiateAuth",
            json!({
                "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": PUBLIC,
                "AuthParameters": { "REFRESH_TOKEN": refresh },
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let result = &out["AuthenticationResult"];
    assert!(result.get("RefreshToken").is_none(), "{out}");
    let id = verify_with_jwks(&api, POOL, result["IdToken"].as_str().unwrap()).await;
    assert_eq!(id["cognito:username"], "Alice");
    let bogus = api
        .call(
            "InitiateAuth",
            json!({
                "AuthFlow": "REFRESH_TOKEN", "ClientId": PUBLIC,
                "AuthParameters": { "REFRESH_TOKEN": "not-a-token" },
            }),
        )
        .await;
    assert_error(&bogus, "NotAuthorizedException");
    // Another client's refresh token is not this client's.
    let other = api
        .call(
            "InitiateAuth",
            json!({
                "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": SRP_ONLY,
                "AuthParameters": { "REFRESH_TOKEN": refresh },
            }),
        )
        .await;
    assert_error(&other, "NotAuthorizedException");

    // A rotating client hands out a new refresh token each time.
    let out = api
        .call("InitiateAuth", password_auth(LEGACY, "Alice", PASSWORD))
        .await
        .1;
    let first = out["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let _ = first;
    // (LEGACY does not allow REFRESH_TOKEN_AUTH: the flow must be enabled.)
    let refused = api
        .call(
            "InitiateAuth",
            json!({
                "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": LEGACY,
                "AuthParameters": { "REFRESH_TOKEN": first },
            }),
        )
        .await;
    assert_error(&refused, "InvalidParameterException");
}

async fn password_sign_in_errors_follow_cognitos_order(api: Api) {
    let message = |answer: &(StatusCode, Value)| answer.1["message"].as_str().unwrap().to_owned();
    let wrong = api
        .call(
            "InitiateAuth",
            password_auth(PUBLIC, "Alice", "Wrong-Horse-9"),
        )
        .await;
    assert_error(&wrong, "NotAuthorizedException");
    assert_eq!(message(&wrong), "Incorrect username or password.");
    let unknown = api
        .call("InitiateAuth", password_auth(PUBLIC, "nobody", PASSWORD))
        .await;
    assert_error(&unknown, "NotAuthorizedException");
    assert_eq!(message(&unknown), "Incorrect username or password.");
    let legacy = api
        .call("InitiateAuth", password_auth(LEGACY, "nobody", PASSWORD))
        .await;
    assert_error(&legacy, "UserNotFoundException");
    assert_eq!(message(&legacy), "User does not exist.");
    // The account's state is told only after the right password.
    let disabled = api
        .call("InitiateAuth", password_auth(PUBLIC, "dora", PASSWORD))
        .await;
    assert_error(&disabled, "NotAuthorizedException");
    assert_eq!(message(&disabled), "User is disabled.");
    let disabled_wrong = api
        .call(
            "InitiateAuth",
            password_auth(PUBLIC, "dora", "Wrong-Horse-9"),
        )
        .await;
    assert_eq!(message(&disabled_wrong), "Incorrect username or password.");
    assert_error(
        &api.call("InitiateAuth", password_auth(PUBLIC, "uma", PASSWORD))
            .await,
        "UserNotConfirmedException",
    );
    assert_error(
        &api.call("InitiateAuth", password_auth(PUBLIC, "rita", PASSWORD))
            .await,
        "PasswordResetRequiredException",
    );
    // Throttling: after five wrong passwords, even the right one is refused for a while.
    for _ in 0..5 {
        api.call(
            "InitiateAuth",
            password_auth(LEGACY, "Alice", "Wrong-Horse-9"),
        )
        .await;
    }
    let locked = api
        .call("InitiateAuth", password_auth(PUBLIC, "Alice", PASSWORD))
        .await;
    assert_error(&locked, "NotAuthorizedException");
    assert_eq!(message(&locked), "Password attempts exceeded");
    let missing = api
        .call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": PUBLIC,
                   "AuthParameters": {"USERNAME": "Alice"}}),
        )
        .await;
    assert_error(&missing, "InvalidParameterException");
}

async fn flows_must_be_enabled_and_secret_hash_is_required(api: Api) {
    // A client without explicit_auth_flows allows SRP and refresh only, as Cognito's default.
    let refused = api
        .call("InitiateAuth", password_auth(SRP_ONLY, "Alice", PASSWORD))
        .await;
    assert_error(&refused, "InvalidParameterException");
    assert_eq!(
        refused.1["message"],
        "USER_PASSWORD_AUTH flow not enabled for this client"
    );
    let admin = api
        .admin(
            "AdminInitiateAuth",
            json!({
                "UserPoolId": POOL, "ClientId": LEGACY, "AuthFlow": "ADMIN_NO_SRP_AUTH",
                "AuthParameters": { "USERNAME": "Alice", "PASSWORD": PASSWORD },
            }),
        )
        .await;
    assert_error(&admin, "InvalidParameterException");
    assert_error(
        &api.call(
            "InitiateAuth",
            json!({"AuthFlow": "NOPE", "ClientId": PUBLIC, "AuthParameters": {}}),
        )
        .await,
        "InvalidParameterException",
    );
    assert_error(
        &api.call(
            "InitiateAuth",
            password_auth("nosuchclient0000000000001", "Alice", PASSWORD),
        )
        .await,
        "ResourceNotFoundException",
    );
    // A confidential client without SECRET_HASH.
    let no_hash = api
        .call("InitiateAuth", password_auth(SECRET, "Alice", PASSWORD))
        .await;
    assert_error(&no_hash, "NotAuthorizedException");
    assert!(
        no_hash.1["message"]
            .as_str()
            .unwrap()
            .contains("configured for secret but secret was not received"),
        "{no_hash:?}"
    );
}

async fn srp_start(
    api: &Api,
    client: &str,
    username: &str,
) -> (Vec<u8>, String, (StatusCode, Value)) {
    let (a, srp_a) = srp::client::start();
    let answer = api
        .call(
            "InitiateAuth",
            json!({
                "AuthFlow": "USER_SRP_AUTH", "ClientId": client,
                "AuthParameters": { "USERNAME": username, "SRP_A": srp_a },
            }),
        )
        .await;
    (a, srp_a, answer)
}

/// Answers a `PASSWORD_VERIFIER` challenge as a client knowing `password` would.
async fn srp_answer(
    api: &Api,
    client: &str,
    a: &[u8],
    challenge: &Value,
    password: &str,
    block: Option<&str>,
) -> (StatusCode, Value) {
    let params = &challenge["ChallengeParameters"];
    let user_id = params["USER_ID_FOR_SRP"].as_str().unwrap();
    let secret_block = params["SECRET_BLOCK"].as_str().unwrap();
    let timestamp = srp::format_timestamp(gatehouse::store::now());
    let signature = srp::client::respond(
        POOL,
        user_id,
        password,
        a,
        params["SALT"].as_str().unwrap(),
        params["SRP_B"].as_str().unwrap(),
        secret_block,
        &timestamp,
    )
    .unwrap();
    api.call(
        "RespondToAuthChallenge",
        json!({
            "ClientId": client, "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeResponses": {
                "USERNAME": user_id,
                "PASSWORD_CLAIM_SECRET_BLOCK": block.unwrap_or(secret_block),
                "PASSWORD_CLAIM_SIGNATURE": signature,
                "TIMESTAMP": timestamp,
            },
        }),
    )
    .await
}

async fn srp_signs_in_with_the_librarys_client(api: Api) {
    // A user from before SRP verifiers existed has none until a password sign-in gives one.
    {
        let mut conn = api.db.store.conn().unwrap();
        let pool = gatehouse::store::pools::get(&mut conn, POOL).unwrap();
        let mut alice = gatehouse::store::users::find_by_username(&mut conn, &pool, "Alice")
            .unwrap()
            .unwrap();
        assert!(
            alice.srp_verifier.is_some(),
            "declared users get a verifier"
        );
        alice.srp_verifier = None;
        gatehouse::store::users::update(&mut conn, &pool, &alice).unwrap();
    }
    let (a, _, (status, challenge)) = srp_start(&api, SRP_ONLY, "alice@example.com").await;
    assert_eq!(status, StatusCode::OK, "{challenge}");
    let refused = srp_answer(&api, SRP_ONLY, &a, &challenge, PASSWORD, None).await;
    assert_error(&refused, "NotAuthorizedException");
    assert_eq!(
        api.call("InitiateAuth", password_auth(PUBLIC, "Alice", PASSWORD))
            .await
            .0,
        StatusCode::OK
    );

    let (a, _, (status, challenge)) = srp_start(&api, SRP_ONLY, "alice@example.com").await;
    assert_eq!(status, StatusCode::OK, "{challenge}");
    assert_eq!(challenge["ChallengeName"], "PASSWORD_VERIFIER");
    // The alias resolves to the stored username, case kept.
    assert_eq!(challenge["ChallengeParameters"]["USER_ID_FOR_SRP"], "Alice");
    let (status, out) = srp_answer(&api, SRP_ONLY, &a, &challenge, PASSWORD, None).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let id = verify_with_jwks(
        &api,
        POOL,
        out["AuthenticationResult"]["IdToken"].as_str().unwrap(),
    )
    .await;
    assert_eq!(id["cognito:username"], "Alice");
    // The secret block works once.
    let again = srp_answer(&api, SRP_ONLY, &a, &challenge, PASSWORD, None).await;
    assert_error(&again, "NotAuthorizedException");

    // A wrong password gives a wrong signature.
    let (a, _, (_, challenge)) = srp_start(&api, SRP_ONLY, "Alice").await;
    let wrong = srp_answer(&api, SRP_ONLY, &a, &challenge, "Wrong-Horse-9", None).await;
    assert_error(&wrong, "NotAuthorizedException");
    assert_eq!(wrong.1["message"], "Incorrect username or password.");
    // A tampered secret block finds nothing.
    let (a, _, (_, challenge)) = srp_start(&api, SRP_ONLY, "Alice").await;
    let tampered = srp_answer(
        &api,
        SRP_ONLY,
        &a,
        &challenge,
        PASSWORD,
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    .await;
    assert_error(&tampered, "NotAuthorizedException");

    // Unknown users: a plausible challenge that fails (ENABLED), or UserNotFound (LEGACY).
    let (a, _, (status, challenge)) = srp_start(&api, SRP_ONLY, "nobody").await;
    assert_eq!(status, StatusCode::OK, "{challenge}");
    let (_, _, (_, again)) = srp_start(&api, SRP_ONLY, "nobody").await;
    assert_eq!(
        challenge["ChallengeParameters"]["SALT"],
        again["ChallengeParameters"]["SALT"]
    );
    let decoy = srp_answer(&api, SRP_ONLY, &a, &challenge, PASSWORD, None).await;
    assert_error(&decoy, "NotAuthorizedException");
    let (_, _, legacy) = srp_start(&api, LEGACY, "nobody").await;
    assert_error(&legacy, "UserNotFoundException");
    // SRP_A = 0 is refused.
    let zero = api
        .call(
            "InitiateAuth",
            json!({"AuthFlow": "USER_SRP_AUTH", "ClientId": SRP_ONLY,
                   "AuthParameters": {"USERNAME": "Alice", "SRP_A": "0"}}),
        )
        .await;
    assert_error(&zero, "InvalidParameterException");
}

async fn new_password_challenge_asks_for_missing_attributes(api: Api) {
    // fred lacks nothing required; the pool requires email, which he has. Remove it by asking
    // with a user whose email is taken? Simpler: the required list is what he lacks.
    let (status, out) = api
        .call("InitiateAuth", password_auth(PUBLIC, "fred", PASSWORD))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let params = &out["ChallengeParameters"];
    assert_eq!(params["USER_ID_FOR_SRP"], "fred");
    let required: Vec<String> =
        serde_json::from_str(params["requiredAttributes"].as_str().unwrap()).unwrap();
    assert!(required.is_empty(), "{required:?}");
    let attributes: Value =
        serde_json::from_str(params["userAttributes"].as_str().unwrap()).unwrap();
    assert_eq!(attributes["email"], "fred@example.com");
    let session = out["Session"].as_str().unwrap().to_owned();
    assert!(session.len() >= 20);
    let respond = |session: &str, responses: Value| {
        json!({"ClientId": PUBLIC, "ChallengeName": "NEW_PASSWORD_REQUIRED",
               "Session": session, "ChallengeResponses": responses})
    };
    // A required attribute emptied is missing.
    let missing = api
        .call("RespondToAuthChallenge", respond(&session, json!({"USERNAME": "fred", "NEW_PASSWORD": "Brand-New-Pass-7", "userAttributes.email": ""})))
        .await;
    assert_error(&missing, "InvalidParameterException");
    let weak = api
        .call(
            "RespondToAuthChallenge",
            respond(
                &session,
                json!({"USERNAME": "fred", "NEW_PASSWORD": "short"}),
            ),
        )
        .await;
    assert_error(&weak, "InvalidPasswordException");
    assert!(
        weak.1["message"]
            .as_str()
            .unwrap()
            .starts_with("Password did not conform with policy: "),
        "{weak:?}"
    );
    // The challenge writes what UpdateUserAttributes may: never a verified flag.
    let flagged = api
        .call("RespondToAuthChallenge", respond(&session, json!({"USERNAME": "fred", "NEW_PASSWORD": "Brand-New-Pass-7", "userAttributes.email_verified": "true"})))
        .await;
    assert_error(&flagged, "NotAuthorizedException");
    let bad = api
        .call(
            "RespondToAuthChallenge",
            respond(
                "not-a-session-but-long-enough",
                json!({"USERNAME": "fred", "NEW_PASSWORD": "Brand-New-Pass-7"}),
            ),
        )
        .await;
    assert_error(&bad, "NotAuthorizedException");
    assert_eq!(
        bad.1["message"],
        "Invalid session for the user, session is expired."
    );
    let (status, done) = api
        .call("RespondToAuthChallenge", respond(&session, json!({"USERNAME": "fred", "NEW_PASSWORD": "Brand-New-Pass-7", "userAttributes.given_name": "Fred"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let id = claims(done["AuthenticationResult"]["IdToken"].as_str().unwrap());
    assert_eq!(id["given_name"], "Fred");
    // Reused session.
    let reused = api
        .call(
            "RespondToAuthChallenge",
            respond(
                &session,
                json!({"USERNAME": "fred", "NEW_PASSWORD": "Brand-New-Pass-8"}),
            ),
        )
        .await;
    assert_error(&reused, "NotAuthorizedException");
    // The new password works, the old one no longer.
    assert_eq!(
        api.call(
            "InitiateAuth",
            password_auth(PUBLIC, "fred", "Brand-New-Pass-7")
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_error(
        &api.call("InitiateAuth", password_auth(PUBLIC, "fred", PASSWORD))
            .await,
        "NotAuthorizedException",
    );
}

async fn mfa_setup_then_software_token_mfa(api: Api) {
    let mfa_auth = |password: &str| {
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": MFA_CLIENT,
               "AuthParameters": {"USERNAME": "mike", "PASSWORD": password}})
    };
    let (status, out) = api.call("InitiateAuth", mfa_auth(PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["ChallengeName"], "MFA_SETUP");
    assert_eq!(
        out["ChallengeParameters"]["MFAS_CAN_SETUP"],
        "[\"SOFTWARE_TOKEN_MFA\"]"
    );
    let session = out["Session"].as_str().unwrap();
    // Not answerable before an authenticator is verified.
    let early = api
        .call("RespondToAuthChallenge", json!({"ClientId": MFA_CLIENT, "ChallengeName": "MFA_SETUP", "Session": session, "ChallengeResponses": {"USERNAME": "mike"}}))
        .await;
    assert_error(&early, "NotAuthorizedException");
    let (status, associated) = api
        .call("AssociateSoftwareToken", json!({"Session": session}))
        .await;
    assert_eq!(status, StatusCode::OK, "{associated}");
    let secret = associated["SecretCode"].as_str().unwrap().to_owned();
    let session = associated["Session"].as_str().unwrap();
    let now = gatehouse::store::now();
    let wrong = api
        .call(
            "VerifySoftwareToken",
            json!({"Session": session, "UserCode": "000000"}),
        )
        .await;
    if gatehouse::totp::code_at(&secret, now).as_deref() != Some("000000") {
        assert_error(&wrong, "EnableSoftwareTokenMFAException");
    }
    let code = gatehouse::totp::code_at(&secret, now).unwrap();
    let (status, verified) = api
        .call(
            "VerifySoftwareToken",
            json!({"Session": session, "UserCode": code}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["Status"], "SUCCESS");
    let session = verified["Session"].as_str().unwrap();
    let (status, done) = api
        .call("RespondToAuthChallenge", json!({"ClientId": MFA_CLIENT, "ChallengeName": "MFA_SETUP", "Session": session, "ChallengeResponses": {"USERNAME": "mike"}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    verify_with_jwks(
        &api,
        MFA_POOL,
        done["AuthenticationResult"]["IdToken"].as_str().unwrap(),
    )
    .await;

    // Next sign-in: the code is asked for.
    let (_, out) = api.call("InitiateAuth", mfa_auth(PASSWORD)).await;
    assert_eq!(out["ChallengeName"], "SOFTWARE_TOKEN_MFA", "{out}");
    let session = out["Session"].as_str().unwrap();
    let answer = |code: &str| json!({"ClientId": MFA_CLIENT, "ChallengeName": "SOFTWARE_TOKEN_MFA", "Session": session, "ChallengeResponses": {"USERNAME": "mike", "SOFTWARE_TOKEN_MFA_CODE": code}});
    // The step used at set-up does not work twice: the next step's code does.
    let next = gatehouse::totp::code_at(&secret, now + 30).unwrap();
    let previous = gatehouse::totp::code_at(&secret, now).unwrap();
    if previous != next {
        assert_error(
            &api.call("RespondToAuthChallenge", answer(&previous)).await,
            "CodeMismatchException",
        );
    }
    let (status, done) = api.call("RespondToAuthChallenge", answer(&next)).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());
    // The session was spent.
    assert_error(
        &api.call("RespondToAuthChallenge", answer(&next)).await,
        "NotAuthorizedException",
    );
}

/// Where users sign in by email, a real user's `USER_ID_FOR_SRP` is their `sub`: an unknown
/// email gets a UUID too, the same one each time, and never the typed address.
async fn an_unknown_email_gets_a_uuid_like_a_real_user(api: Api) {
    const BY_EMAIL: &str = "authtestbyemailclient00001";
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (_, _, (status, challenge)) = srp_start(&api, BY_EMAIL, "nobody@example.com").await;
        assert_eq!(status, StatusCode::OK, "{challenge}");
        let id = challenge["ChallengeParameters"]["USER_ID_FOR_SRP"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        assert_eq!(challenge["ChallengeParameters"]["USERNAME"], id.as_str());
        ids.push(id);
    }
    assert_eq!(ids[0], ids[1]);
}
