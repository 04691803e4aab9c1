//! Seed 000's pool-to-pool migration end to end (docs/migrating.md, "From another Gatehouse";
//! docs/triggers.md, "User migration"): an old pool with users, a new pool whose
//! `user_migration` hook is a real web service running examples/hooks/migrate_from_cognito.py,
//! which signs the user in to the old pool with boto3 (`AdminInitiateAuth` `ADMIN_NO_SRP_AUTH`,
//! `GetUser`) and verifies each request's signature with the published Standard Webhooks library.

use crate::api_support::{ADMIN_KEY, ADMIN_SECRET, Api, assert_error};
use crate::hook_support::{HookService, trigger_line};
use crate::hosted::{CALLBACK, authorize_query, browser, input_value, location, param};
use crate::on_both_backends_with;
use crate::support::{TestDb, free_port};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

const OLD: &str = "local_OldPool01";
const OLD_CLIENT: &str = "oldpoolserverclient0000001";
const NEW: &str = "local_NewPool01";
const NEW_CLIENT: &str = "newpoolclient0000000000001";
const STRICT: &str = "local_NewPool02";
const STRICT_CLIENT: &str = "newpoolstrictclient0000001";
const DOWN: &str = "local_NewPool03";
const DOWN_CLIENT: &str = "newpooldownclient000000001";
const SLOW: &str = "local_NewPool04";
const SLOW_CLIENT: &str = "newpoolslowclient000000001";
const OPTIONS: &str = "local_NewPool05";
const OPTIONS_CLIENT: &str = "newpooloptionsclient000001";
const GUARDED: &str = "local_NewPool06";
const GUARDED_CLIENT: &str = "newpoolguardedclient000001";
const ECHO: &str = "local_NewPool07";
const ECHO_CLIENT: &str = "newpoolechoclient000000001";

const OLIVIA_PASSWORD: &str = "Olivia-Old-Passw0rd!";
const OSCAR_PASSWORD: &str = "Oscar-Old-Passw0rd!";
const OTTO_PASSWORD: &str = "Otto-Old-Passw0rd!";
const WRONG_PASSWORD: &str = "Not-Olivias-Passw0rd!";

fn client(id: &str, flows: &str) -> String {
    format!(
        r#"
[[pool.client]]
id = "{id}"
name = "{id}"
prevent_user_existence_errors = "LEGACY"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]
explicit_auth_flows = [{flows}]
"#
    )
}

/// A new pool: `settings` are its own lines (`required_attributes = …`), `hook` its trigger.
fn new_pool(id: &str, client_id: &str, settings: &str, hook: &str) -> String {
    let flows = r#""ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH""#;
    format!(
        "\n[[pool]]\nid = \"{id}\"\nname = \"{id}\"\nauto_verified_attributes = [\"email\"]\n\
         {settings}\n{}\n[pool.triggers]\n{hook}",
        client(client_id, flows)
    )
}

fn config(hooks: &HookService) -> String {
    let closed = format!("http://127.0.0.1:{}/migrate", free_port());
    let mut config = format!(
        r#"
[[api_credentials]]
access_key_id = "{ADMIN_KEY}"
secret_access_key = "env:TEST_API_SECRET"
pools = ["*"]

[[pool]]
id = "{OLD}"
name = "old"
required_attributes = ["email"]
{}
[[pool.user]]
username = "olivia"
password = "{OLIVIA_PASSWORD}"
attributes = {{ email = "olivia@old.example", email_verified = "true" }}

[[pool.user]]
username = "oscar"
password = "{OSCAR_PASSWORD}"
attributes = {{ email = "oscar@old.example", email_verified = "true" }}

[[pool.user]]
username = "otto"
password = "{OTTO_PASSWORD}"
attributes = {{ email = "otto@old.example", email_verified = "true" }}

[[pool.user]]
username = "petra"
password = "Petra-Old-Passw0rd!"
attributes = {{ email = "petra@old.example", email_verified = "true" }}
"#,
        client(OLD_CLIENT, r#""ALLOW_ADMIN_USER_PASSWORD_AUTH""#)
    );
    let migrate = hooks.url("/migrate");
    config += &new_pool(
        NEW,
        NEW_CLIENT,
        r#"required_attributes = ["email"]"#,
        &trigger_line("user_migration", &migrate, ""),
    );
    // The seed's case: the new pool requires an attribute the old one did not.
    config += &new_pool(
        STRICT,
        STRICT_CLIENT,
        r#"required_attributes = ["email", "given_name"]"#,
        &trigger_line("user_migration", &migrate, ""),
    );
    config += &new_pool(
        DOWN,
        DOWN_CLIENT,
        r#"required_attributes = ["email"]"#,
        &trigger_line("user_migration", &closed, ", timeout_ms = 500"),
    );
    config += &new_pool(
        SLOW,
        SLOW_CLIENT,
        r#"required_attributes = ["email"]"#,
        &trigger_line("user_migration", &hooks.url("/slow"), ", timeout_ms = 300"),
    );
    let options = trigger_line("user_migration", &hooks.url("/options"), "");
    let aliased = "required_attributes = [\"email\"]\nalias_attributes = [\"email\"]";
    config += &new_pool(OPTIONS, OPTIONS_CLIENT, aliased, &options);
    let guarded = options.clone()
        + &trigger_line("pre_authentication", &hooks.url("/pre-authentication"), "");
    config += &new_pool(GUARDED, GUARDED_CLIENT, "", &guarded);
    let echo = trigger_line("user_migration", &hooks.url("/echo-422"), "");
    config += &new_pool(ECHO, ECHO_CLIENT, "", &echo);
    config
}

/// Every log line the test process writes, so a test can look for passwords in them.
fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || Capture(sink.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buffer
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

struct Migration {
    api: Api,
    hooks: HookService,
    _endpoint: tempfile::TempDir,
}

impl Migration {
    async fn start(db: TestDb) -> Migration {
        logs();
        let endpoint = tempfile::tempdir().unwrap();
        let endpoint_file = endpoint.path().join("endpoint");
        let hooks = HookService::start(
            &["basics", "migration", "lifecycle"],
            &[
                ("MIGRATION_ENDPOINT_FILE", endpoint_file.to_str().unwrap()),
                ("OLD_POOL_ID", OLD),
                ("OLD_CLIENT_ID", OLD_CLIENT),
                ("AWS_ACCESS_KEY_ID", ADMIN_KEY),
                ("AWS_SECRET_ACCESS_KEY", ADMIN_SECRET),
                ("AWS_CONFIG_FILE", "/dev/null"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
        );
        let api = Api::start_with(db, &config(&hooks));
        std::fs::write(&endpoint_file, format!("{}/", api.root)).unwrap();
        Migration {
            api,
            hooks,
            _endpoint: endpoint,
        }
    }

    async fn password_sign_in(
        &self,
        client: &str,
        username: &str,
        password: &str,
    ) -> (StatusCode, Value) {
        self.sign_in_with(client, username, password, json!({"app": "test"}))
            .await
    }

    async fn sign_in_with(
        &self,
        client: &str,
        username: &str,
        password: &str,
        metadata: Value,
    ) -> (StatusCode, Value) {
        let input = json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            "ClientMetadata": metadata,
        });
        self.api.call("InitiateAuth", input).await
    }

    async fn user(&self, pool: &str, username: &str) -> (StatusCode, Value) {
        let input = json!({"UserPoolId": pool, "Username": username});
        self.api.admin("AdminGetUser", input).await
    }

    fn migrations(&self) -> Vec<Value> {
        self.hooks.events("/migrate")
    }

    fn user_count(&self, pool: &str) -> i64 {
        gatehouse::store::users::count(&mut self.api.db.store.conn().unwrap(), pool).unwrap()
    }

    /// The hosted /login form, posted for real; the answer is not followed.
    async fn hosted_sign_in(
        &self,
        pool: &str,
        client: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let b = browser();
        let url = format!("{}/{pool}/login?{}", self.api.root, authorize_query(client));
        let html = b.get(&url).send().await.unwrap().text().await.unwrap();
        let csrf = input_value(&html, "_csrf");
        let form = [
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ];
        b.post(&url).form(&form).send().await.unwrap()
    }
}

fn attributes(user: &Value) -> Value {
    let pairs = user["UserAttributes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    Value::Object(
        pairs
            .into_iter()
            .map(|a| (a["Name"].as_str().unwrap().to_owned(), a["Value"].clone()))
            .collect(),
    )
}

async fn old_users_migrate_on_their_first_sign_in_hosted_or_by_api(t: Migration) {
    // The hosted page: a real form post, then the app gets its code.
    let page = t
        .hosted_sign_in(NEW, NEW_CLIENT, "olivia", OLIVIA_PASSWORD)
        .await;
    assert_eq!(page.status(), StatusCode::FOUND);
    let next = location(&page);
    assert!(next.starts_with(CALLBACK), "{next}");
    assert!(param(&next, "code").is_some(), "{next}");
    let events = t.migrations();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["triggerSource"], "UserMigration_Authentication");
    assert_eq!(event["userName"], "olivia");
    assert_eq!(event["userPoolId"], NEW);
    assert_eq!(event["callerContext"]["clientId"], NEW_CLIENT);
    assert_eq!(event["request"]["password"], OLIVIA_PASSWORD);
    let (status, olivia) = t.user(NEW, "olivia").await;
    assert_eq!(status, StatusCode::OK, "{olivia}");
    assert_eq!(olivia["UserStatus"], "CONFIRMED");
    let olivia = attributes(&olivia);
    assert_eq!(olivia["email"], "olivia@old.example");
    assert_eq!(olivia["email_verified"], "true");

    // The API: USER_PASSWORD_AUTH, with ClientMetadata as the hook's validationData.
    let (status, answer) = t
        .password_sign_in(NEW_CLIENT, "oscar", OSCAR_PASSWORD)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["AuthenticationResult"]["AccessToken"].is_string());
    let events = t.migrations();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["userName"], "oscar");
    assert_eq!(events[1]["request"]["validationData"]["app"], "test");
    assert_eq!(t.user(NEW, "oscar").await.1["UserStatus"], "CONFIRMED");
    // SUPPRESS: no welcome email.
    assert!(t.api.emails().await.is_empty());

    // Migrated once: the next sign-ins are the new pool's own, with the same password.
    let (status, again) = t
        .password_sign_in(NEW_CLIENT, "olivia", OLIVIA_PASSWORD)
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let page = t
        .hosted_sign_in(NEW, NEW_CLIENT, "oscar", OSCAR_PASSWORD)
        .await;
    assert!(location(&page).starts_with(CALLBACK));
    // SRP never reaches the hook: the password never reaches the server.
    let srp = json!({
        "AuthFlow": "USER_SRP_AUTH",
        "ClientId": NEW_CLIENT,
        "AuthParameters": {"USERNAME": "petra", "SRP_A": "0a1b2c3d"},
    });
    t.api.call("InitiateAuth", srp).await;
    assert_eq!(t.migrations().len(), 2, "no further hook calls");
    assert_eq!(t.user_count(NEW), 2);

    // The hook's request is never logged with the password in it.
    let logged = logged();
    assert!(logged.contains("user migrated"), "logs are captured");
    for password in [OLIVIA_PASSWORD, OSCAR_PASSWORD] {
        assert!(!logged.contains(password), "a log line holds a password");
    }
}

async fn a_wrong_password_or_a_missing_attribute_creates_nobody(t: Migration) {
    let refused = t
        .password_sign_in(NEW_CLIENT, "olivia", WRONG_PASSWORD)
        .await;
    assert_error(&refused, "UserNotFoundException");
    assert_eq!(
        refused.1["message"],
        format!("Exception migrating user in app client {NEW_CLIENT}")
    );
    let page = t
        .hosted_sign_in(NEW, NEW_CLIENT, "olivia", WRONG_PASSWORD)
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Incorrect username or password.")
    );
    assert_eq!(t.migrations().len(), 2, "the hook was asked each time");
    assert_error(&t.user(NEW, "olivia").await, "UserNotFoundException");

    // The new pool requires given_name; the hook copies only the email.
    let (status, answer) = t
        .password_sign_in(STRICT_CLIENT, "otto", OTTO_PASSWORD)
        .await;
    assert_error(&(status, answer.clone()), "UserNotFoundException");
    let page = t
        .hosted_sign_in(STRICT, STRICT_CLIENT, "otto", OTTO_PASSWORD)
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("could not complete"));
    assert_eq!(t.user_count(STRICT), 0);
    assert_eq!(t.user_count(NEW), 0);
    assert_eq!(t.migrations().len(), 4);
    assert!(!logged().contains(WRONG_PASSWORD));
    assert!(!logged().contains(OTTO_PASSWORD));
}

async fn forgot_password_migrates_then_the_code_resets_it(t: Migration) {
    let input = json!({"ClientId": NEW_CLIENT, "Username": "petra", "ClientMetadata": {"k": "v"}});
    let (status, answer) = t.api.call("ForgotPassword", input).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
    let events = t.migrations();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["triggerSource"], "UserMigration_ForgotPassword");
    assert!(events[0]["request"].get("password").is_none());
    assert_eq!(events[0]["request"]["clientMetadata"]["k"], "v");
    assert_eq!(t.user(NEW, "petra").await.1["UserStatus"], "RESET_REQUIRED");

    let code = t.api.last_code("petra@old.example").await;
    let confirm = json!({
        "ClientId": NEW_CLIENT, "Username": "petra",
        "ConfirmationCode": code, "Password": "Petra-New-Passw0rd!",
    });
    let (status, answer) = t.api.call("ConfirmForgotPassword", confirm).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = t
        .password_sign_in(NEW_CLIENT, "petra", "Petra-New-Passw0rd!")
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["AuthenticationResult"]["IdToken"].is_string());
    assert_eq!(t.user(NEW, "petra").await.1["UserStatus"], "CONFIRMED");

    // Unknown to the old pool too: nothing created, the unknown user's answer.
    let input = json!({"ClientId": NEW_CLIENT, "Username": "nobody"});
    assert_error(
        &t.api.call("ForgotPassword", input).await,
        "UserNotFoundException",
    );
    assert_eq!(t.migrations().len(), 2);
    assert_eq!(t.user_count(NEW), 1);
}

async fn a_hook_that_is_down_or_slow_fails_cleanly(t: Migration) {
    for client in [DOWN_CLIENT, SLOW_CLIENT] {
        let answer = t.password_sign_in(client, "olivia", OLIVIA_PASSWORD).await;
        assert_error(&answer, "UnexpectedLambdaException");
    }
    let page = t
        .hosted_sign_in(DOWN, DOWN_CLIENT, "olivia", OLIVIA_PASSWORD)
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("could not complete"));
    let input = json!({"ClientId": SLOW_CLIENT, "Username": "olivia"});
    assert_error(
        &t.api.call("ForgotPassword", input).await,
        "UnexpectedLambdaException",
    );
    // Three attempts per call, each given up after timeout_ms.
    let slow = t
        .hooks
        .calls()
        .iter()
        .filter(|c| c["path"] == "/slow")
        .count();
    assert_eq!(slow, 6);
    assert_eq!(t.user_count(DOWN), 0);
    assert_eq!(t.user_count(SLOW), 0);
}

async fn the_answer_sets_status_welcome_and_aliases(t: Migration) {
    const PASSWORD: &str = "Any-Old-Passw0rd!";
    let shared = "shared@new.example";
    // No messageAction: the welcome email.
    let (status, answer) = t
        .sign_in_with(OPTIONS_CLIENT, "first", PASSWORD, json!({"email": shared}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let emails = t.api.emails().await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(emails[0]["to"], shared);
    assert_eq!(emails[0]["subject"], "Your account has moved");

    // The email is first's alias: taken unless forceAliasCreation.
    let taken = json!({"email": shared, "action": "SUPPRESS"});
    let refused = t
        .sign_in_with(OPTIONS_CLIENT, "second", PASSWORD, taken)
        .await;
    assert_error(&refused, "UserNotFoundException");
    assert_eq!(t.user_count(OPTIONS), 1);
    let forced = json!({"email": shared, "action": "SUPPRESS", "force": "true"});
    let (status, answer) = t
        .sign_in_with(OPTIONS_CLIENT, "second", PASSWORD, forced)
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let first = attributes(&t.user(OPTIONS, "first").await.1);
    assert_eq!(first["email_verified"], "false", "the alias moved");
    let (_, by_alias) = t.user(OPTIONS, shared).await;
    assert_eq!(by_alias["Username"], "second");

    // RESET_REQUIRED: created, and this sign-in asks for the reset.
    let reset =
        json!({"email": "third@new.example", "status": "RESET_REQUIRED", "action": "SUPPRESS"});
    let answer = t
        .sign_in_with(OPTIONS_CLIENT, "third", PASSWORD, reset)
        .await;
    assert_error(&answer, "PasswordResetRequiredException");
    assert_eq!(
        t.user(OPTIONS, "third").await.1["UserStatus"],
        "RESET_REQUIRED"
    );

    // RESET_REQUIRED needs a verified email for the code, else nobody could ever sign in.
    let unverified = json!({"email": "stuck@new.example", "verified": "false",
        "status": "RESET_REQUIRED", "action": "SUPPRESS"});
    let answer = t
        .sign_in_with(OPTIONS_CLIENT, "stuck", PASSWORD, unverified.clone())
        .await;
    assert_error(&answer, "UserNotFoundException");
    let forgot =
        json!({"ClientId": OPTIONS_CLIENT, "Username": "stuck", "ClientMetadata": unverified});
    assert_error(
        &t.api.call("ForgotPassword", forgot).await,
        "UserNotFoundException",
    );
    assert_error(&t.user(OPTIONS, "stuck").await, "UserNotFoundException");

    // A status Cognito does not know: nothing created.
    let odd = json!({"email": "fourth@new.example", "status": "LOCKED"});
    let answer = t
        .sign_in_with(OPTIONS_CLIENT, "fourth", PASSWORD, odd)
        .await;
    assert_error(&answer, "UserNotFoundException");
    assert_eq!(t.user_count(OPTIONS), 3);
    assert_eq!(t.api.emails().await.len(), 1, "SUPPRESS sends nothing");
}

on_both_backends_with!(Migration;
    the_answer_sets_status_welcome_and_aliases,
    old_users_migrate_on_their_first_sign_in_hosted_or_by_api,
    a_wrong_password_or_a_missing_attribute_creates_nobody,
    forgot_password_migrates_then_the_code_resets_it,
    a_hook_that_is_down_or_slow_fails_cleanly,
    pre_authentication_guards_the_first_sign_in_too,
    an_error_body_that_echoes_the_request_is_never_logged,
);

async fn pre_authentication_guards_the_first_sign_in_too(t: Migration) {
    const PASSWORD: &str = "Blocked-Old-Passw0rd!";
    let choice = json!({"email": "ben@new.example", "action": "SUPPRESS"});
    for _ in 0..2 {
        let denied = t
            .sign_in_with(GUARDED_CLIENT, "blocked-ben", PASSWORD, choice.clone())
            .await;
        assert_error(&denied, "UserLambdaValidationException");
        assert_eq!(
            denied.1["message"],
            "PreAuthentication failed with error Sign-in blocked for blocked-ben."
        );
    }
    // The migration stands (once); pre authentication was asked at both sign-ins.
    assert_eq!(t.hooks.events("/options").len(), 1);
    assert_eq!(
        t.user(GUARDED, "blocked-ben").await.1["UserStatus"],
        "CONFIRMED"
    );
    let pre = t.hooks.events("/pre-authentication");
    assert_eq!(pre.len(), 2, "{pre:?}");
    assert_eq!(
        pre[0]["request"]["userAttributes"]["email"],
        "ben@new.example"
    );
}

async fn an_error_body_that_echoes_the_request_is_never_logged(t: Migration) {
    // Users type their password in the name field too.
    const TYPED: &str = "Typed-As-Name-Passw0rd";
    const PASSWORD: &str = "Echoed-Old-Passw0rd!";
    let refused = t.password_sign_in(ECHO_CLIENT, TYPED, PASSWORD).await;
    assert_error(&refused, "UserNotFoundException");
    assert!(!refused.1.to_string().contains(PASSWORD));
    let events = t.hooks.events("/echo-422");
    assert_eq!(events.len(), 1, "the hook was asked and answered 422");
    let logged = logged();
    for secret in [PASSWORD, TYPED] {
        assert!(!logged.contains(secret), "a log line holds {secret}");
    }
    assert!(
        logged.contains("HTTP 422"),
        "the refusal is logged by its status"
    );
    assert_eq!(t.user_count(ECHO), 0);
}
