//! `CUSTOM_AUTH` driven by a real hook service (docs/triggers.md, "Custom authentication
//! challenges"): three questions asked by the define / create / verify hooks in
//! tests/hooks/challenge.py, over real HTTP, on both backends.

use crate::api_support::{Api, assert_error};
use crate::hook_support::{HookService, trigger_line};
use crate::on_both_backends_with;
use serde_json::{Value, json};

const POOL: &str = "local_Challeng1";
const PUBLIC: &str = "challengepublicclient00001";
const LEGACY: &str = "challengelegacyclient00001";
const NO_CUSTOM: &str = "challengenocustomclient001";
const MAYBE_CLIENT: &str = "challengemaybeclient000001";
const REFUSE_CLIENT: &str = "challengerefuseclient00001";
const PLAIN_CLIENT: &str = "challengeplainclient000001";
const MFA_CLIENT: &str = "challengemfaclient00000001";
const GUARDED_CLIENT: &str = "challengeguardedclient0001";
const ANSWERS: [&str; 3] = ["5", "Blue", "8"];

struct Challenge {
    api: Api,
    hooks: HookService,
}

fn challenge_triggers(hooks: &HookService, define: &str) -> String {
    let mut out = String::from("[pool.triggers]\n");
    out += &trigger_line("define_auth_challenge", &hooks.url(define), "");
    out += &trigger_line("create_auth_challenge", &hooks.url("/challenge/create"), "");
    out += &trigger_line(
        "verify_auth_challenge_response",
        &hooks.url("/challenge/verify"),
        "",
    );
    out
}

impl Challenge {
    async fn start(db: crate::support::TestDb) -> Challenge {
        let hooks = HookService::start(&["challenge", "lifecycle"], &[]);
        let config = format!(
            r#"
[[api_credentials]]
access_key_id = "AKIAGATEHOUSETEST001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["*"]

[[pool]]
id = "{POOL}"
name = "challenge"
{main}
[[pool.client]]
id = "{PUBLIC}"
name = "spa"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pool.client]]
id = "{LEGACY}"
name = "legacy"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH"]
prevent_user_existence_errors = "LEGACY"

[[pool.client]]
id = "{NO_CUSTOM}"
name = "password-only"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH"]

[[pool.user]]
username = "carol"
password = "env:TEST_USER_PASSWORD"
attributes = {{ email = "carol@example.com", email_verified = "true" }}

[[pool.user]]
username = "dora"
password = "env:TEST_USER_PASSWORD"
enabled = false

[[pool]]
id = "local_Challeng2"
name = "maybe"
{maybe}
[[pool.client]]
id = "{MAYBE_CLIENT}"
name = "maybe"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH"]

[[pool.user]]
username = "carol"
password = "env:TEST_USER_PASSWORD"

[[pool]]
id = "local_Challeng3"
name = "refuse"
{refuse}
[[pool.client]]
id = "{REFUSE_CLIENT}"
name = "refuse"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH"]

[[pool.user]]
username = "carol"
password = "env:TEST_USER_PASSWORD"

[[pool]]
id = "local_Challeng5"
name = "mfa"
mfa = "ON"
{mfa}
[[pool.client]]
id = "{MFA_CLIENT}"
name = "mfa"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH"]

[[pool.user]]
username = "carol"
password = "env:TEST_USER_PASSWORD"

[[pool]]
id = "local_Challeng6"
name = "guarded"
{guarded}
[[pool.client]]
id = "{GUARDED_CLIENT}"
name = "guarded"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH"]

[[pool.user]]
username = "carol"
password = "env:TEST_USER_PASSWORD"

[[pool.user]]
username = "blocked-bob"
password = "env:TEST_USER_PASSWORD"

[[pool]]
id = "local_Challeng4"
name = "no-hooks"

[[pool.client]]
id = "{PLAIN_CLIENT}"
name = "plain"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH"]

[[pool.user]]
username = "carol"
password = "env:TEST_USER_PASSWORD"
"#,
            main = challenge_triggers(&hooks, "/challenge/define"),
            maybe = challenge_triggers(&hooks, "/challenge/define-maybe"),
            refuse = challenge_triggers(&hooks, "/challenge/define-refuse"),
            mfa = challenge_triggers(&hooks, "/challenge/define"),
            guarded = challenge_triggers(&hooks, "/challenge/define")
                + &trigger_line("pre_authentication", &hooks.url("/pre-authentication"), "")
                + &trigger_line(
                    "post_authentication",
                    &hooks.url("/post-authentication"),
                    ""
                ),
        );
        let api = Api::start_with(db, &config);
        Challenge { api, hooks }
    }
}

on_both_backends_with!(
    Challenge;
    three_right_answers_issue_tokens,
    a_wrong_answer_in_round_two_fails,
    a_spent_session_is_refused,
    the_client_must_allow_custom_auth,
    admin_custom_auth_works_signed,
    a_refusing_or_invalid_define_hook_is_cognitos_error,
    unknown_and_disabled_users,
    the_pools_mfa_follows_the_challenges,
    amazon_cognito_identity_js_answers_custom_challenges,
    an_srp_a_start_is_the_first_history_entry,
    pre_and_post_authentication_guard_the_custom_flow,
);

fn initiate(client: &str, username: &str) -> Value {
    json!({
        "AuthFlow": "CUSTOM_AUTH",
        "ClientId": client,
        "AuthParameters": { "USERNAME": username },
        "ClientMetadata": { "app": "quiz" },
    })
}

fn answer(client: &str, session: &Value, username: &str, text: &str) -> Value {
    json!({
        "ChallengeName": "CUSTOM_CHALLENGE",
        "ClientId": client,
        "Session": session,
        "ChallengeResponses": { "USERNAME": username, "ANSWER": text },
        "ClientMetadata": { "app": "quiz" },
    })
}

/// No answer may carry what only the verify hook should see.
fn assert_private_kept(out: &Value) {
    let text = out.to_string();
    for secret in [
        "secretNote",
        "private-",
        "privateChallengeParameters",
        "QUESTION_",
    ] {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
}

async fn three_right_answers_issue_tokens(t: Challenge) {
    let api = &t.api;
    let (status, mut out) = api.call("InitiateAuth", initiate(PUBLIC, "carol")).await;
    assert!(status.is_success(), "{out}");
    for (round, text) in ANSWERS.iter().enumerate() {
        assert_eq!(out["ChallengeName"], "CUSTOM_CHALLENGE", "{out}");
        let params = &out["ChallengeParameters"];
        assert_eq!(params["round"], (round + 1).to_string(), "{out}");
        assert_eq!(params["USERNAME"], "carol");
        assert!(params["question"].as_str().unwrap().ends_with('?'));
        assert_private_kept(&out);
        let session = out["Session"].clone();
        assert!(session.as_str().unwrap().len() >= 20);
        let (status, next) = api
            .call(
                "RespondToAuthChallenge",
                answer(PUBLIC, &session, "carol", text),
            )
            .await;
        assert!(status.is_success(), "{next}");
        out = next;
    }
    assert_private_kept(&out);
    let result = &out["AuthenticationResult"];
    assert!(result["IdToken"].is_string(), "{out}");
    assert!(result["RefreshToken"].is_string(), "{out}");
    let (status, me) = api
        .call("GetUser", json!({"AccessToken": result["AccessToken"]}))
        .await;
    assert!(status.is_success(), "{me}");
    assert_eq!(me["Username"], "carol");

    // The hooks saw Cognito's events: four defines, three creates, three verifies.
    let defines = t.hooks.events("/challenge/define");
    let creates = t.hooks.events("/challenge/create");
    let verifies = t.hooks.events("/challenge/verify");
    assert_eq!(
        (defines.len(), creates.len(), verifies.len()),
        (4, 3, 3),
        "{defines:?}"
    );
    let last = &defines[3];
    assert_eq!(last["triggerSource"], "DefineAuthChallenge_Authentication");
    assert_eq!(last["userName"], "carol");
    assert_eq!(last["callerContext"]["clientId"], PUBLIC);
    assert_eq!(last["request"]["userNotFound"], false);
    assert_eq!(last["request"]["clientMetadata"]["app"], "quiz");
    assert_eq!(
        last["request"]["userAttributes"]["email"],
        "carol@example.com"
    );
    let session = last["request"]["session"].as_array().unwrap();
    assert_eq!(session.len(), 3);
    assert_eq!(session[1]["challengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(session[1]["challengeResult"], true);
    assert_eq!(session[1]["challengeMetadata"], "QUESTION_2");
    assert_eq!(creates[0]["request"]["challengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(creates[0]["request"]["session"], json!([]));
    assert_eq!(
        creates[0]["triggerSource"],
        "CreateAuthChallenge_Authentication"
    );
    let verify = &verifies[1];
    assert_eq!(
        verify["triggerSource"],
        "VerifyAuthChallengeResponse_Authentication"
    );
    assert_eq!(verify["request"]["challengeAnswer"], "Blue");
    assert_eq!(
        verify["request"]["privateChallengeParameters"]["answer"],
        "blue"
    );
    assert_eq!(verify["request"]["clientMetadata"]["app"], "quiz");
}

async fn a_wrong_answer_in_round_two_fails(t: Challenge) {
    let api = &t.api;
    let (_, out) = api.call("InitiateAuth", initiate(PUBLIC, "carol")).await;
    let (status, out) = api
        .call(
            "RespondToAuthChallenge",
            answer(PUBLIC, &out["Session"], "carol", "5"),
        )
        .await;
    assert!(status.is_success(), "{out}");
    assert_eq!(out["ChallengeParameters"]["round"], "2");
    let failed = api
        .call(
            "RespondToAuthChallenge",
            answer(PUBLIC, &out["Session"], "carol", "green"),
        )
        .await;
    assert_error(&failed, "NotAuthorizedException");
    assert_eq!(failed.1["message"], "Incorrect username or password.");
    let defines = t.hooks.events("/challenge/define");
    let history = defines.last().unwrap()["request"]["session"].clone();
    assert_eq!(history[1]["challengeResult"], false, "{history}");
}

async fn a_spent_session_is_refused(t: Challenge) {
    let api = &t.api;
    let (_, out) = api.call("InitiateAuth", initiate(PUBLIC, "carol")).await;
    let first = out["Session"].clone();
    // A caller's mistake (no ANSWER) does not spend the session.
    let (_, missing) = api
        .call(
            "RespondToAuthChallenge",
            json!({
                "ChallengeName": "CUSTOM_CHALLENGE", "ClientId": PUBLIC, "Session": first,
                "ChallengeResponses": { "USERNAME": "carol" },
            }),
        )
        .await;
    assert_eq!(missing["__type"], "InvalidParameterException", "{missing}");
    let (status, next) = api
        .call(
            "RespondToAuthChallenge",
            answer(PUBLIC, &first, "carol", "5"),
        )
        .await;
    assert!(status.is_success(), "{next}");
    let replay = api
        .call(
            "RespondToAuthChallenge",
            answer(PUBLIC, &first, "carol", "5"),
        )
        .await;
    assert_error(&replay, "NotAuthorizedException");
    assert!(
        replay.1["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid session for the user"),
        "{replay:?}"
    );
    // Another name, another client or a made-up session: the same refusal.
    let other_user = api
        .call(
            "RespondToAuthChallenge",
            answer(PUBLIC, &next["Session"], "dora", "blue"),
        )
        .await;
    assert_error(&other_user, "NotAuthorizedException");
    let other_client = api
        .call(
            "RespondToAuthChallenge",
            answer(LEGACY, &next["Session"], "carol", "blue"),
        )
        .await;
    assert_error(&other_client, "NotAuthorizedException");
    let forged = api
        .call(
            "RespondToAuthChallenge",
            answer(PUBLIC, &json!("x".repeat(64)), "carol", "blue"),
        )
        .await;
    assert_error(&forged, "NotAuthorizedException");
    // The live session still works after those refusals.
    let (status, third) = api
        .call(
            "RespondToAuthChallenge",
            answer(PUBLIC, &next["Session"], "carol", "blue"),
        )
        .await;
    assert!(status.is_success(), "{third}");
    assert_eq!(third["ChallengeParameters"]["round"], "3");
}

async fn the_client_must_allow_custom_auth(t: Challenge) {
    let api = &t.api;
    let refused = api.call("InitiateAuth", initiate(NO_CUSTOM, "carol")).await;
    assert_error(&refused, "InvalidParameterException");
    assert_eq!(
        refused.1["message"],
        "CUSTOM_AUTH flow not enabled for this client"
    );
    // A pool without the hooks cannot run the flow.
    let plain = api
        .call("InitiateAuth", initiate(PLAIN_CLIENT, "carol"))
        .await;
    assert_error(&plain, "InvalidParameterException");
    assert_eq!(
        plain.1["message"],
        "Custom auth lambda trigger is not configured for the user pool."
    );
    assert!(t.hooks.calls().is_empty());
}

async fn admin_custom_auth_works_signed(t: Challenge) {
    let api = &t.api;
    let mut input = initiate(PUBLIC, "carol");
    input["UserPoolId"] = POOL.into();
    let unsigned = api.call("AdminInitiateAuth", input.clone()).await;
    assert!(!unsigned.0.is_success(), "{unsigned:?}");
    let (status, mut out) = api.admin("AdminInitiateAuth", input).await;
    assert!(status.is_success(), "{out}");
    for text in ANSWERS {
        let mut reply = answer(PUBLIC, &out["Session"], "carol", text);
        reply["UserPoolId"] = POOL.into();
        let (status, next) = api.admin("AdminRespondToAuthChallenge", reply).await;
        assert!(status.is_success(), "{next}");
        out = next;
    }
    let access = &out["AuthenticationResult"]["AccessToken"];
    let (status, me) = api.call("GetUser", json!({"AccessToken": access})).await;
    assert!(status.is_success(), "{me}");
}

async fn a_refusing_or_invalid_define_hook_is_cognitos_error(t: Challenge) {
    let api = &t.api;
    let maybe = api
        .call("InitiateAuth", initiate(MAYBE_CLIENT, "carol"))
        .await;
    assert_error(&maybe, "InvalidLambdaResponseException");
    let refused = api
        .call("InitiateAuth", initiate(REFUSE_CLIENT, "carol"))
        .await;
    assert_error(&refused, "UserLambdaValidationException");
    assert_eq!(
        refused.1["message"],
        "DefineAuthChallenge failed with error No custom sign-in today."
    );
    assert!(t.hooks.events("/challenge/create").is_empty());
}

async fn unknown_and_disabled_users(t: Challenge) {
    let api = &t.api;
    // Where the client hides which names exist, the hooks run with userNotFound and every
    // answer ends in the wrong-password error.
    let (status, mut out) = api.call("InitiateAuth", initiate(PUBLIC, "nobody")).await;
    assert!(status.is_success(), "{out}");
    for text in ANSWERS {
        assert_eq!(out["ChallengeName"], "CUSTOM_CHALLENGE", "{out}");
        assert_eq!(out["ChallengeParameters"]["USERNAME"], "nobody");
        let reply = api
            .call(
                "RespondToAuthChallenge",
                answer(PUBLIC, &out["Session"], "nobody", text),
            )
            .await;
        out = reply.1;
    }
    assert_eq!(out["__type"], "NotAuthorizedException", "{out}");
    assert_eq!(out["message"], "Incorrect username or password.");
    let defines = t.hooks.events("/challenge/define");
    assert!(defines.iter().all(|e| e["request"]["userNotFound"] == true));
    assert!(defines.iter().all(|e| e["userName"] == "nobody"));
    // A client with legacy errors tells, without calling a hook.
    let calls = t.hooks.calls().len();
    let legacy = api.call("InitiateAuth", initiate(LEGACY, "nobody")).await;
    assert_error(&legacy, "UserNotFoundException");
    assert_eq!(t.hooks.calls().len(), calls);
    // A disabled account is told only to whoever passed its challenges, as a password flow
    // tells it only after the right password.
    let (status, mut out) = api.call("InitiateAuth", initiate(PUBLIC, "dora")).await;
    assert!(status.is_success(), "{out}");
    for text in ANSWERS {
        let reply = api
            .call(
                "RespondToAuthChallenge",
                answer(PUBLIC, &out["Session"], "dora", text),
            )
            .await;
        out = reply.1;
    }
    assert_eq!(out["__type"], "NotAuthorizedException", "{out}");
    assert_eq!(out["message"], "User is disabled.");
}

async fn the_pools_mfa_follows_the_challenges(t: Challenge) {
    let api = &t.api;
    let (_, mut out) = api
        .call("InitiateAuth", initiate(MFA_CLIENT, "carol"))
        .await;
    for text in ANSWERS {
        let reply = api
            .call(
                "RespondToAuthChallenge",
                answer(MFA_CLIENT, &out["Session"], "carol", text),
            )
            .await;
        assert!(reply.0.is_success(), "{reply:?}");
        out = reply.1;
    }
    // `mfa = "ON"` and no authenticator yet: set one up before any token.
    assert_eq!(out["ChallengeName"], "MFA_SETUP", "{out}");
    assert!(out.get("AuthenticationResult").is_none());
    let (status, associated) = api
        .call("AssociateSoftwareToken", json!({"Session": out["Session"]}))
        .await;
    assert!(status.is_success(), "{associated}");
}

/// amazon-cognito-identity-js's `initiateAuth` (`CUSTOM_AUTH`) with its `customChallenge`
/// callback (tests/api-clients/identity_js_custom.mjs).
async fn amazon_cognito_identity_js_answers_custom_challenges(t: Challenge) {
    let root = crate::binary::npm_packages("tests/api-clients");
    let endpoint = format!("{}/", t.api.root);
    let output = actix_web::rt::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(root.join("identity_js_custom.mjs"))
            .env("GATEHOUSE_ENDPOINT", endpoint)
            .env("GATEHOUSE_POOL_ID", POOL)
            .env("GATEHOUSE_PUBLIC_CLIENT_ID", PUBLIC)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(" 0 failed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let defines = t.hooks.events("/challenge/define");
    // Four defines for the sign-in, three for the one that failed in round 2.
    assert_eq!(defines.len(), 4 + 3, "{defines:?}");
    assert!(
        defines
            .iter()
            .all(|e| e["request"]["clientMetadata"]["app"] == "identity-js")
    );
}

/// `SRP_A` (with `CHALLENGE_NAME: SRP_A`, as the libraries send it) opens the history; the
/// hooks decide what it means.
async fn an_srp_a_start_is_the_first_history_entry(t: Challenge) {
    let api = &t.api;
    let mut input = initiate(PUBLIC, "carol");
    input["AuthParameters"]["SRP_A"] = "ab".repeat(192).into();
    input["AuthParameters"]["CHALLENGE_NAME"] = "SRP_A".into();
    let (status, out) = api.call("InitiateAuth", input).await;
    assert!(status.is_success(), "{out}");
    assert_eq!(out["ChallengeParameters"]["round"], "1", "{out}");
    let defines = t.hooks.events("/challenge/define");
    assert_eq!(
        defines[0]["request"]["session"],
        json!([{"challengeName": "SRP_A", "challengeResult": true, "challengeMetadata": null}])
    );
}

async fn pre_and_post_authentication_guard_the_custom_flow(t: Challenge) {
    let api = &t.api;
    // The pre authentication hook's denial holds for CUSTOM_AUTH too; define is never asked.
    let denied = api
        .call("InitiateAuth", initiate(GUARDED_CLIENT, "blocked-bob"))
        .await;
    assert_error(&denied, "UserLambdaValidationException");
    assert_eq!(
        denied.1["message"],
        "PreAuthentication failed with error Sign-in blocked for blocked-bob."
    );
    assert!(t.hooks.events("/challenge/define").is_empty());

    let (status, mut out) = api
        .call("InitiateAuth", initiate(GUARDED_CLIENT, "carol"))
        .await;
    assert!(status.is_success(), "{out}");
    for text in ANSWERS {
        let reply = api
            .call(
                "RespondToAuthChallenge",
                answer(GUARDED_CLIENT, &out["Session"], "carol", text),
            )
            .await;
        out = reply.1;
    }
    assert!(out["AuthenticationResult"]["IdToken"].is_string(), "{out}");
    let pre = t.hooks.events("/pre-authentication");
    assert_eq!(pre.len(), 2, "{pre:?}");
    assert_eq!(pre[1]["userName"], "carol");
    assert_eq!(pre[1]["triggerSource"], "PreAuthentication_Authentication");
    assert_eq!(pre[1]["request"]["validationData"]["app"], "quiz");
    let post = t.hooks.events("/post-authentication");
    assert_eq!(post.len(), 1, "{post:?}");
    assert_eq!(post[0]["userName"], "carol");
}
