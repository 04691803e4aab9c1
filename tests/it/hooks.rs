//! The webhook transport against a real hook service (docs/triggers.md, "Requests"): requests
//! verify with the published Standard Webhooks library, and each way a hook can fail becomes
//! Cognito's error for it.

use crate::hook_support::{HOOK_SECRET, HookService};
use gatehouse::hooks::{Event, Failure, Hooks};
use gatehouse::model::triggers::{EventVersion, HookTarget, TriggerKind};
use gatehouse::sealing::Sealer;
use serde_json::json;

const POOL: &str = "local_HookTest1";

fn target(sealer: &Sealer, url: String, timeout_ms: u64) -> HookTarget {
    HookTarget {
        url,
        sealed_secret: sealer.seal_str(
            &gatehouse::hooks::secret_purpose(POOL, TriggerKind::PreSignUp),
            HOOK_SECRET,
        ),
        clear_secret: None,
        version: EventVersion::V1,
        timeout_ms,
    }
}

fn invoke(
    service: &HookService,
    path: &str,
    timeout_ms: u64,
) -> Result<serde_json::Map<String, serde_json::Value>, gatehouse::hooks::HookError> {
    let sealer = Sealer::ephemeral();
    let event = Event::new("PreSignUp_SignUp", POOL, "jane", Some("client1"))
        .request("validationData", json!({"k": "v"}))
        .response("autoConfirmUser", false);
    let hooks = Hooks::default();
    let target = target(&sealer, service.url(path), timeout_ms);
    hooks.invoke(
        &sealer,
        POOL,
        TriggerKind::PreSignUp,
        &target,
        &event.to_json(),
    )
}

#[test]
fn a_signed_event_reaches_the_hook_and_its_response_comes_back() {
    let service = HookService::start(&["basics"], &[]);
    let response = invoke(&service, "/echo", 5_000).unwrap();
    assert_eq!(response["autoConfirmUser"], false);
    let calls = service.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["trigger"], "PreSignUp");
    let event = &calls[0]["event"];
    assert_eq!(event["triggerSource"], "PreSignUp_SignUp");
    assert_eq!(event["userPoolId"], POOL);
    assert_eq!(event["region"], "local");
    assert_eq!(event["callerContext"]["clientId"], "client1");
    assert_eq!(event["request"]["validationData"]["k"], "v");
}

#[test]
fn a_request_signed_with_another_secret_fails_verification() {
    let other = "whsec_c2VjcmV0LXRoYXQtaXMtbm90LXRoZS1ob29rcy0wMQ==";
    let service = HookService::start_with_secret(&["basics"], &[], other);
    let error = invoke(&service, "/echo", 5_000).unwrap_err();
    assert_eq!(error.code(), "UserLambdaValidationException");
    assert!(
        service.calls()[0]["error"]
            .as_str()
            .unwrap()
            .contains("signature")
    );
}

#[test]
fn each_failure_is_cognitos_error() {
    let service = HookService::start(&["basics"], &[]);
    let refused = invoke(&service, "/refuse", 5_000).unwrap_err();
    assert_eq!(refused.code(), "UserLambdaValidationException");
    assert_eq!(
        refused.message(),
        "PreSignUp failed with error Refused by the test hook."
    );
    let odd = invoke(&service, "/not-an-event", 5_000).unwrap_err();
    assert_eq!(odd.code(), "InvalidLambdaResponseException");
    assert!(matches!(odd.failure, Failure::InvalidResponse(_)));

    // Too slow: three attempts, each given the hook's timeout, then UnexpectedLambdaException.
    let slow = invoke(&service, "/slow", 300).unwrap_err();
    assert_eq!(slow.code(), "UnexpectedLambdaException");
    let attempts = service
        .calls()
        .iter()
        .filter(|c| c["path"] == "/slow")
        .count();
    assert_eq!(attempts, 3);
}

#[test]
fn a_hook_that_is_down_is_unexpected() {
    let port = crate::binary::free_port();
    let sealer = Sealer::ephemeral();
    let target = target(&sealer, format!("http://127.0.0.1:{port}/gone"), 1_000);
    let event = Event::new("PreSignUp_SignUp", POOL, "jane", None);
    let error = Hooks::default()
        .invoke(
            &sealer,
            POOL,
            TriggerKind::PreSignUp,
            &target,
            &event.to_json(),
        )
        .unwrap_err();
    assert_eq!(error.code(), "UnexpectedLambdaException");
}

#[test]
fn the_file_refuses_unknown_triggers_bad_urls_and_weak_secrets() {
    let config = r#"
[[pool]]
id = "local_HookTest1"
name = "hooks"
[pool.triggers]
pre_sign_in = { url = "https://hooks.example.com/x", secret = "env:TEST_HOOK_SECRET" }
post_confirmation = { url = "ftp://hooks.example.com/x", secret = "env:TEST_HOOK_SECRET" }
pre_authentication = { url = "https://hooks.example.com/x", secret = "whsec_c2hvcnQ=" }
user_migration = { url = "https://hooks.example.com/x", secret = "env:TEST_HOOK_SECRET", version = "V2_0" }
pre_token_generation = { url = "https://hooks.example.com/x", secret = "env:TEST_HOOK_SECRET", version = "V9_0" }
define_auth_challenge = { url = "https://hooks.example.com/x", secret = "env:TEST_HOOK_SECRET" }
"#;
    let error = gatehouse::config::parse(
        config,
        std::path::Path::new("t.toml"),
        std::path::Path::new("."),
        &crate::api_support::test_env,
    )
    .unwrap_err()
    .to_string();
    for expected in [
        "pool[0].triggers.pre_sign_in",
        "pool[0].triggers.post_confirmation.url",
        "pool[0].triggers.pre_authentication.secret",
        "pool[0].triggers.user_migration.version",
        "pool[0].triggers.pre_token_generation.version",
        "are declared together",
    ] {
        assert!(
            error.contains(expected),
            "{expected} missing from:\n{error}"
        );
    }
}

fn hooks_config() -> String {
    let config = format!(
        r#"
[[api_credentials]]
access_key_id = "AKIAGATEHOUSETEST001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["*"]

[[pool]]
id = "local_HookTest1"
name = "hooks"
[pool.triggers]
{}{}"#,
        crate::hook_support::trigger_line("pre_sign_up", "https://hooks.example.com/pre", ""),
        crate::hook_support::trigger_line(
            "pre_token_generation",
            "https://hooks.example.com/token",
            r#", version = "V2_0""#
        ),
    );
    config
}

struct Declared;

impl Declared {
    async fn start(db: crate::support::TestDb) -> crate::api_support::Api {
        crate::api_support::Api::start_with(db, &hooks_config())
    }
}

async fn describe_user_pool_shows_lambda_config(api: crate::api_support::Api) {
    let (status, answer) = api
        .admin("DescribeUserPool", json!({"UserPoolId": POOL}))
        .await;
    assert_eq!(status, 200, "{answer}");
    let lambda = &answer["UserPool"]["LambdaConfig"];
    assert_eq!(lambda["PreSignUp"], "https://hooks.example.com/pre");
    assert_eq!(
        lambda["PreTokenGenerationConfig"],
        json!({"LambdaVersion": "V2_0", "LambdaArn": "https://hooks.example.com/token"})
    );
    // The secret is sealed at rest: nothing of it is in the pool's stored settings.
    let pool = gatehouse::store::pools::get(&mut api.db.store.conn().unwrap(), POOL).unwrap();
    let stored = serde_json::to_string(&pool.settings).unwrap();
    assert!(
        !stored.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        "{stored}"
    );
    assert!(
        !pool.settings.triggers[&TriggerKind::PreSignUp]
            .sealed_secret
            .is_empty()
    );
}

crate::on_both_backends_with!(Declared; describe_user_pool_shows_lambda_config);
