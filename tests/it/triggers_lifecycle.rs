//! The lifecycle triggers against a real hook service (docs/triggers.md, "Pre sign-up", "Post
//! confirmation", "Pre authentication", "Post authentication"): what each front door sends,
//! what the answer changes, and what a refusal leaves behind, on SQLite and PostgreSQL.

use crate::api_support::{Api, assert_error};
use crate::hook_support::{HookService, trigger_line};
use crate::hosted::{authorize_query, browser, input_value, location, param};
use crate::on_both_backends_with;
use crate::support::TestDb;
use reqwest::StatusCode;
use serde_json::{Value, json};

const POOL: &str = "local_Lifecycl1";
const CLIENT: &str = "lifecycleclient00000000001";
const PASSWORD: &str = "Correct-Horse-9";

fn config(hooks: &HookService) -> String {
    let mut triggers = String::new();
    for (name, path) in [
        ("pre_sign_up", "/pre-sign-up"),
        ("post_confirmation", "/post-confirmation"),
        ("pre_authentication", "/pre-authentication"),
        ("post_authentication", "/post-authentication"),
    ] {
        triggers.push_str(&trigger_line(name, &hooks.url(path), ""));
    }
    format!(
        r#"
[[api_credentials]]
access_key_id = "AKIAGATEHOUSETEST001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["*"]

[[pool]]
id = "{POOL}"
name = "lifecycle"
auto_verified_attributes = ["email"]
alias_attributes = ["email"]
custom_attributes = [{{ name = "blocked" }}]

[pool.triggers]
{triggers}
[[pool.client]]
id = "{CLIENT}"
name = "app"
prevent_user_existence_errors = "LEGACY"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pool.user]]
username = "alice"
password = "env:TEST_USER_PASSWORD"
attributes = {{ email = "alice@example.com", email_verified = "true" }}

[[pool.user]]
username = "blocked-bob"
password = "env:TEST_USER_PASSWORD"
attributes = {{ email = "bob@example.org", email_verified = "true" }}

[[pool.user]]
username = "mallory"
password = "env:TEST_USER_PASSWORD"
attributes = {{ email = "mallory@example.org", email_verified = "true", "custom:blocked" = "yes" }}

[[pool.user]]
username = "late-lou"
password = "env:TEST_USER_PASSWORD"
attributes = {{ email = "lou@example.org", email_verified = "true" }}
"#
    )
}

struct Lifecycle {
    api: Api,
    hooks: HookService,
}

impl Lifecycle {
    async fn start(db: TestDb) -> Self {
        let hooks = HookService::start(&["lifecycle"], &[]);
        let api = Api::start_with(db, &config(&hooks));
        Self { api, hooks }
    }

    /// The events of one trigger path about one user.
    fn events_for(&self, path: &str, user: &str) -> Vec<Value> {
        self.hooks
            .events(path)
            .into_iter()
            .filter(|e| e["userName"] == user)
            .collect()
    }

    async fn sign_up(&self, username: &str, email: &str, extra: Value) -> (StatusCode, Value) {
        let mut input = json!({
            "ClientId": CLIENT, "Username": username, "Password": PASSWORD,
            "UserAttributes": [{"Name": "email", "Value": email}],
        });
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        self.api.call("SignUp", input).await
    }

    async fn user(&self, username: &str) -> (StatusCode, Value) {
        let input = json!({"UserPoolId": POOL, "Username": username});
        self.api.admin("AdminGetUser", input).await
    }

    async fn password_auth(&self, username: &str, password: &str) -> (StatusCode, Value) {
        let input = json!({
            "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": CLIENT,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            "ClientMetadata": {"app": "web"},
        });
        self.api.call("InitiateAuth", input).await
    }

    fn page(&self, page: &str) -> String {
        format!(
            "{}/{POOL}/{page}?{}",
            self.api.root,
            authorize_query(CLIENT)
        )
    }

    /// GETs a page and posts its form with `fields` (and its CSRF token).
    async fn submit(
        &self,
        b: &reqwest::Client,
        url: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let html = b.get(url).send().await.unwrap().text().await.unwrap();
        let csrf = input_value(&html, "_csrf");
        let mut form = vec![("_csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        b.post(url).form(&form).send().await.unwrap()
    }

    fn absolute(&self, location: &str) -> String {
        match location.starts_with('/') {
            true => format!("{}{location}", self.api.root),
            false => location.to_owned(),
        }
    }
}

fn attribute(user: &Value, name: &str) -> Option<String> {
    user["UserAttributes"]
        .as_array()?
        .iter()
        .find(|a| a["Name"] == name)
        .map(|a| a["Value"].as_str().unwrap().to_owned())
}

/// Asserts the common envelope of an event.
fn assert_envelope(event: &Value, source: &str, user: &str, client: &str) {
    assert_eq!(event["triggerSource"], source, "{event}");
    assert_eq!(event["userPoolId"], POOL, "{event}");
    assert_eq!(event["userName"], user, "{event}");
    assert_eq!(event["callerContext"]["clientId"], client, "{event}");
    assert_eq!(event["version"], "1", "{event}");
}

async fn pre_sign_up_confirms_refuses_and_verifies_on_the_api(t: Lifecycle) {
    // example.com: confirmed and verified by the hook, no code sent, signs in at once.
    let extra = json!({
        "ValidationData": [{"Name": "invite", "Value": "friends"}],
        "ClientMetadata": {"campaign": "spring"},
    });
    let (status, out) = t.sign_up("carol", "carol@example.com", extra).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["UserConfirmed"], true, "{out}");
    assert!(out.get("CodeDeliveryDetails").is_none(), "{out}");
    let (_, carol) = t.user("carol").await;
    assert_eq!(carol["UserStatus"], "CONFIRMED");
    assert_eq!(attribute(&carol, "email_verified").as_deref(), Some("true"));
    let (status, signed) = t.password_auth("carol", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert!(signed["AuthenticationResult"]["IdToken"].is_string());
    assert!(t.api.emails().await.is_empty(), "no code was mailed");
    let events = t.events_for("/pre-sign-up", "carol");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_envelope(event, "PreSignUp_SignUp", "carol", CLIENT);
    assert_eq!(
        event["request"]["userAttributes"]["email"],
        "carol@example.com"
    );
    assert_eq!(event["request"]["validationData"]["invite"], "friends");
    assert_eq!(event["request"]["clientMetadata"]["campaign"], "spring");
    assert_eq!(event["response"]["autoConfirmUser"], false);
    // An auto-confirmed user was never confirmed by a code: no post confirmation.
    assert!(t.events_for("/post-confirmation", "carol").is_empty());

    // Another domain: created unconfirmed, a code goes out.
    let (status, out) = t.sign_up("dave", "dave@example.org", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["UserConfirmed"], false);
    assert_eq!(out["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
    assert_eq!(t.user("dave").await.1["UserStatus"], "UNCONFIRMED");

    // A refusal creates nothing and sends nothing.
    let refused = t.sign_up("refused-eve", "eve@example.com", json!({})).await;
    assert_error(&refused, "UserLambdaValidationException");
    assert_eq!(
        refused.1["message"],
        "PreSignUp failed with error Sign-ups are closed for refused-eve."
    );
    assert_error(&t.user("refused-eve").await, "UserNotFoundException");
    let denied = json!({"ValidationData": [{"Name": "deny", "Value": "yes"}]});
    assert_error(
        &t.sign_up("frida", "frida@example.com", denied).await,
        "UserLambdaValidationException",
    );
    assert_error(&t.user("frida").await, "UserNotFoundException");
    // Verifying a phone number the user does not have refuses the sign-up.
    let phone = json!({"ValidationData": [{"Name": "verify_phone", "Value": "yes"}]});
    let odd = t.sign_up("gus", "gus@example.com", phone).await;
    assert_error(&odd, "InvalidParameterException");
    assert_error(&t.user("gus").await, "UserNotFoundException");
    let emails = t.api.emails().await;
    assert_eq!(emails.len(), 1, "only dave's code: {emails:?}");
}

async fn admin_create_user_fires_its_own_pre_sign_up(t: Lifecycle) {
    let input = json!({
        "UserPoolId": POOL, "Username": "gina", "MessageAction": "SUPPRESS",
        "UserAttributes": [{"Name": "email", "Value": "gina@example.com"}],
        "ValidationData": [{"Name": "source", "Value": "import"}],
        "ClientMetadata": {"batch": "7"},
    });
    let (status, out) = t.api.admin("AdminCreateUser", input).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    // Verified by the hook, still waiting for its first password.
    assert_eq!(out["User"]["UserStatus"], "FORCE_CHANGE_PASSWORD");
    let (_, gina) = t.user("gina").await;
    assert_eq!(attribute(&gina, "email_verified").as_deref(), Some("true"));
    let events = t.events_for("/pre-sign-up", "gina");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_envelope(
        event,
        "PreSignUp_AdminCreateUser",
        "gina",
        "CLIENT_ID_NOT_APPLICABLE",
    );
    assert_eq!(event["request"]["validationData"]["source"], "import");
    assert_eq!(event["request"]["clientMetadata"]["batch"], "7");

    let refused = json!({
        "UserPoolId": POOL, "Username": "refused-hal", "MessageAction": "SUPPRESS",
        "UserAttributes": [{"Name": "email", "Value": "hal@example.org"}],
    });
    let answer = t.api.admin("AdminCreateUser", refused).await;
    assert_error(&answer, "UserLambdaValidationException");
    assert_error(&t.user("refused-hal").await, "UserNotFoundException");
}

async fn post_confirmation_follows_every_confirmation(t: Lifecycle) {
    t.sign_up("dave", "dave@example.org", json!({})).await;
    let code = t.api.last_code("dave@example.org").await;
    let confirm = json!({
        "ClientId": CLIENT, "Username": "dave", "ConfirmationCode": code,
        "ClientMetadata": {"step": "confirm"},
    });
    let (status, out) = t.api.call("ConfirmSignUp", confirm).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let events = t.events_for("/post-confirmation", "dave");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_envelope(event, "PostConfirmation_ConfirmSignUp", "dave", CLIENT);
    let attributes = &event["request"]["userAttributes"];
    assert_eq!(attributes["email"], "dave@example.org");
    assert_eq!(attributes["email_verified"], "true");
    assert_eq!(attributes["cognito:user_status"], "CONFIRMED");
    assert!(attributes["sub"].is_string());
    assert_eq!(event["request"]["clientMetadata"]["step"], "confirm");

    // The forgotten password's confirmation.
    let forgot = json!({"ClientId": CLIENT, "Username": "dave"});
    assert_eq!(t.api.call("ForgotPassword", forgot).await.0, StatusCode::OK);
    let code = t.api.last_code("dave@example.org").await;
    let reset = json!({
        "ClientId": CLIENT, "Username": "dave", "ConfirmationCode": code,
        "Password": "Fresh-Horse-10",
    });
    let (status, out) = t.api.call("ConfirmForgotPassword", reset).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let events = t.events_for("/post-confirmation", "dave");
    assert_eq!(events.len(), 2);
    assert_envelope(
        &events[1],
        "PostConfirmation_ConfirmForgotPassword",
        "dave",
        CLIENT,
    );

    // An administrator's confirmation has no client.
    t.sign_up("ivan", "ivan@example.org", json!({})).await;
    let admin = json!({"UserPoolId": POOL, "Username": "ivan"});
    let (status, out) = t.api.admin("AdminConfirmSignUp", admin).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let events = t.events_for("/post-confirmation", "ivan");
    assert_eq!(events.len(), 1);
    assert_envelope(
        &events[0],
        "PostConfirmation_ConfirmSignUp",
        "ivan",
        "CLIENT_ID_NOT_APPLICABLE",
    );

    // A failing hook is reported, and the confirmation stands.
    t.sign_up("grumpy-gil", "gil@example.org", json!({})).await;
    let code = t.api.last_code("gil@example.org").await;
    let confirm = json!({"ClientId": CLIENT, "Username": "grumpy-gil", "ConfirmationCode": code});
    let failed = t.api.call("ConfirmSignUp", confirm).await;
    assert_error(&failed, "UserLambdaValidationException");
    assert_eq!(
        failed.1["message"],
        "PostConfirmation failed with error Welcome mail bounced."
    );
    assert_eq!(t.user("grumpy-gil").await.1["UserStatus"], "CONFIRMED");
    let (status, _) = t.password_auth("grumpy-gil", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

async fn pre_and_post_authentication_on_every_api_flow(t: Lifecycle) {
    let (status, out) = t.password_auth("alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let pre = t.events_for("/pre-authentication", "alice");
    assert_eq!(pre.len(), 1);
    assert_envelope(&pre[0], "PreAuthentication_Authentication", "alice", CLIENT);
    assert_eq!(pre[0]["request"]["validationData"]["app"], "web");
    assert_eq!(
        pre[0]["request"]["userAttributes"]["email"],
        "alice@example.com"
    );
    let post = t.events_for("/post-authentication", "alice");
    assert_eq!(post.len(), 1);
    assert_envelope(
        &post[0],
        "PostAuthentication_Authentication",
        "alice",
        CLIENT,
    );
    assert_eq!(post[0]["request"]["newDeviceUsed"], false);
    assert_eq!(post[0]["request"]["clientMetadata"]["app"], "web");

    // A wrong password is asked about, but nothing signs in: no post authentication.
    let (status, _) = t.password_auth("alice", "Wrong-Horse-9").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(t.events_for("/pre-authentication", "alice").len(), 2);
    assert_eq!(t.events_for("/post-authentication", "alice").len(), 1);

    let admin = json!({
        "UserPoolId": POOL, "ClientId": CLIENT, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD},
    });
    let (status, out) = t.api.admin("AdminInitiateAuth", admin).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(t.events_for("/post-authentication", "alice").len(), 2);

    // Denied whatever the password, on every flow; the denial is not a wrong password.
    for password in [PASSWORD, "Wrong-Horse-9"] {
        let denied = t.password_auth("blocked-bob", password).await;
        assert_error(&denied, "UserLambdaValidationException");
        assert_eq!(
            denied.1["message"],
            "PreAuthentication failed with error Sign-in blocked for blocked-bob."
        );
    }
    let admin = json!({
        "UserPoolId": POOL, "ClientId": CLIENT, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "blocked-bob", "PASSWORD": PASSWORD},
    });
    assert_error(
        &t.api.admin("AdminInitiateAuth", admin).await,
        "UserLambdaValidationException",
    );
    let srp = srp_sign_in(&t, "blocked-bob").await;
    assert_error(&srp, "UserLambdaValidationException");
    assert!(
        t.events_for("/post-authentication", "blocked-bob")
            .is_empty()
    );
    // SRP passes for an allowed user, and its success is announced.
    let (status, out) = srp_sign_in(&t, "alice").await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(t.events_for("/post-authentication", "alice").len(), 3);

    // A failing post authentication hook fails the sign-in: no tokens.
    let late = t.password_auth("late-lou", PASSWORD).await;
    assert_error(&late, "UserLambdaValidationException");
    assert_eq!(
        late.1["message"],
        "PostAuthentication failed with error Audit log unavailable."
    );
    assert!(late.1.get("AuthenticationResult").is_none());
}

/// `USER_SRP_AUTH` then `PASSWORD_VERIFIER`, as the library's client answers it.
async fn srp_sign_in(t: &Lifecycle, username: &str) -> (StatusCode, Value) {
    use gatehouse::api::srp;
    let (a, srp_a) = srp::client::start();
    let start = json!({
        "AuthFlow": "USER_SRP_AUTH", "ClientId": CLIENT,
        "AuthParameters": {"USERNAME": username, "SRP_A": srp_a},
    });
    let (status, challenge) = t.api.call("InitiateAuth", start).await;
    assert_eq!(status, StatusCode::OK, "{challenge}");
    let params = &challenge["ChallengeParameters"];
    let user_id = params["USER_ID_FOR_SRP"].as_str().unwrap();
    let secret_block = params["SECRET_BLOCK"].as_str().unwrap();
    let timestamp = srp::format_timestamp(gatehouse::store::now());
    let signature = srp::client::respond(
        POOL,
        user_id,
        PASSWORD,
        &a,
        params["SALT"].as_str().unwrap(),
        params["SRP_B"].as_str().unwrap(),
        secret_block,
        &timestamp,
    )
    .unwrap();
    let answer = json!({
        "ClientId": CLIENT, "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeResponses": {
            "USERNAME": user_id, "PASSWORD_CLAIM_SECRET_BLOCK": secret_block,
            "PASSWORD_CLAIM_SIGNATURE": signature, "TIMESTAMP": timestamp,
        },
    });
    t.api.call("RespondToAuthChallenge", answer).await
}

async fn hosted_pages_fire_the_same_hooks(t: Lifecycle) {
    // Confirmed by the hook: straight from the sign-up form into the app, no code mailed.
    let b = browser();
    let fields = [
        ("username", "hank"),
        ("email", "hank@example.com"),
        ("password", PASSWORD),
    ];
    let signed_up = t.submit(&b, &t.page("signup"), &fields).await;
    assert_eq!(signed_up.status(), StatusCode::FOUND);
    let next = location(&signed_up);
    assert!(next.starts_with("http://localhost:3000/callback"), "{next}");
    assert!(param(&next, "code").is_some(), "{next}");
    assert!(t.api.emails().await.is_empty());
    let pre = t.events_for("/pre-sign-up", "hank");
    assert_eq!(pre.len(), 1);
    assert_envelope(&pre[0], "PreSignUp_SignUp", "hank", CLIENT);
    assert_eq!(t.events_for("/post-authentication", "hank").len(), 1);

    // Refused on the page: its message, and no user.
    let fields = [
        ("username", "refused-ivy"),
        ("email", "ivy@example.com"),
        ("password", PASSWORD),
    ];
    let refused = t.submit(&browser(), &t.page("signup"), &fields).await;
    assert_eq!(refused.status(), StatusCode::OK);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("PreSignUp failed with error Sign-ups are closed for refused-ivy."),
        "{html}"
    );
    assert_error(&t.user("refused-ivy").await, "UserNotFoundException");

    // Confirmed by code on the page: post confirmation, then on into the app.
    let b = browser();
    let fields = [
        ("username", "jack"),
        ("email", "jack@example.org"),
        ("password", PASSWORD),
    ];
    let signed_up = t.submit(&b, &t.page("signup"), &fields).await;
    let confirm = t.absolute(&location(&signed_up));
    assert!(confirm.contains("/confirm?"), "{confirm}");
    let code = t.api.last_code("jack@example.org").await;
    let fields = [("username", "jack"), ("code", code.as_str())];
    let confirmed = t.submit(&b, &confirm, &fields).await;
    assert_eq!(confirmed.status(), StatusCode::FOUND);
    assert!(location(&confirmed).starts_with("http://localhost:3000/callback"));
    let events = t.events_for("/post-confirmation", "jack");
    assert_eq!(events.len(), 1);
    assert_envelope(&events[0], "PostConfirmation_ConfirmSignUp", "jack", CLIENT);

    // Sign-in: denied by name or by attribute with the hook's message; allowed users pass.
    for who in ["blocked-bob", "mallory"] {
        let fields = [("username", who), ("password", PASSWORD)];
        let denied = t.submit(&browser(), &t.page("login"), &fields).await;
        assert_eq!(denied.status(), StatusCode::OK);
        let html = denied.text().await.unwrap();
        let said = format!("PreAuthentication failed with error Sign-in blocked for {who}.");
        assert!(html.contains(&said), "{html}");
        assert!(t.events_for("/post-authentication", who).is_empty());
    }
    let fields = [("username", "alice"), ("password", PASSWORD)];
    let signed_in = t.submit(&browser(), &t.page("login"), &fields).await;
    assert_eq!(signed_in.status(), StatusCode::FOUND);
    assert!(param(&location(&signed_in), "code").is_some());
    let pre = t.events_for("/pre-authentication", "alice");
    assert_eq!(pre.len(), 1);
    assert_envelope(&pre[0], "PreAuthentication_Authentication", "alice", CLIENT);
    let post = t.events_for("/post-authentication", "alice");
    assert_eq!(post.len(), 1);
    assert_envelope(
        &post[0],
        "PostAuthentication_Authentication",
        "alice",
        CLIENT,
    );

    // A failing post authentication hook keeps the browser on the sign-in page.
    let fields = [("username", "late-lou"), ("password", PASSWORD)];
    let late = t.submit(&browser(), &t.page("login"), &fields).await;
    assert_eq!(late.status(), StatusCode::OK);
    let html = late.text().await.unwrap();
    assert!(
        html.contains("PostAuthentication failed with error Audit log unavailable."),
        "{html}"
    );

    // The reset page's confirmation.
    let b = browser();
    let forgot = t
        .submit(&b, &t.page("forgotPassword"), &[("username", "alice")])
        .await;
    let reset = t.absolute(&location(&forgot));
    let code = t.api.last_code("alice@example.com").await;
    let fields = [
        ("username", "alice"),
        ("code", code.as_str()),
        ("password", "Fresh-Horse-10"),
        ("confirm_password", "Fresh-Horse-10"),
    ];
    let done = t.submit(&b, &reset, &fields).await;
    assert_eq!(done.status(), StatusCode::FOUND, "{reset}");
    let events = t.events_for("/post-confirmation", "alice");
    assert_eq!(events.len(), 1);
    assert_envelope(
        &events[0],
        "PostConfirmation_ConfirmForgotPassword",
        "alice",
        CLIENT,
    );
}

const FED_POOL: &str = "local_Lifecycl2";
const FED_CLIENT: &str = "lifecyclefedclient00000001";

/// A pool whose app signs in only through a stand-in OIDC provider (tests/it/upstream.rs).
struct Federated {
    _db: TestDb,
    hooks: HookService,
    base: String,
    http: reqwest::Client,
    issuer: String,
}

impl Federated {
    async fn start(db: TestDb) -> Self {
        let provider = crate::upstream::start_provider();
        // Its token endpoint answers at once.
        provider.release.add_permits(1_000);
        let issuer = provider.issuer.get().unwrap().clone();
        let hooks = HookService::start(&["lifecycle"], &[]);
        let pre_sign_up = trigger_line("pre_sign_up", &hooks.url("/pre-sign-up"), "");
        let config = format!(
            r#"
[[pool]]
id = "{FED_POOL}"
name = "federated"

[pool.triggers]
{pre_sign_up}
[[pool.client]]
id = "{FED_CLIENT}"
name = "web"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid"]
supported_identity_providers = ["Up"]

[[pool.user]]
username = "rita"
password = "Rita-Passw0rd!1"
attributes = {{ email = "refused.rita@example.com", email_verified = "true" }}

[[pool.identity_provider]]
name = "Up"
type = "OIDC"
link_by_verified_email = true
attribute_mapping = {{ username = "sub", email = "email", email_verified = "email_verified" }}
[pool.identity_provider.details]
client_id = "gatehouse"
client_secret = "upstream-secret"
authorize_scopes = "openid"
oidc_issuer = "{issuer}"
"#
        );
        let api = Api::start_with(db, &config);
        Self {
            base: format!("{}/{FED_POOL}", api.root),
            http: api.http.clone(),
            _db: api.db,
            hooks,
            issuer,
        }
    }

    /// A whole federated sign-in of upstream `subject`: where the browser ends up.
    async fn sign_in(&self, subject: &str) -> String {
        let response = self
            .http
            .get(format!("{}/oauth2/authorize", self.base))
            .query(&[
                ("response_type", "code"),
                ("client_id", FED_CLIENT),
                ("redirect_uri", "http://localhost:3000/callback"),
                ("scope", "openid"),
                ("state", "app-state"),
                ("identity_provider", "Up"),
            ])
            .send()
            .await
            .unwrap();
        let upstream = location(&response);
        assert!(upstream.starts_with(&self.issuer), "{upstream}");
        let cookie = response
            .cookies()
            .find(|c| c.name() == "gatehouse_federation")
            .expect("the binding cookie")
            .value()
            .to_owned();
        let (state, nonce) = (param(&upstream, "state"), param(&upstream, "nonce"));
        let back = self
            .http
            .get(format!("{}/oauth2/idpresponse", self.base))
            .query(&[
                ("code", format!("{subject}.{}", nonce.unwrap())),
                ("state", state.unwrap()),
            ])
            .header("cookie", format!("gatehouse_federation={cookie}"))
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), StatusCode::FOUND);
        location(&back)
    }

    fn users(&self) -> i64 {
        gatehouse::store::users::count(&mut self._db.store.conn().unwrap(), FED_POOL).unwrap()
    }
}

async fn a_first_federated_sign_in_is_a_sign_up(t: Federated) {
    let landed = t.sign_in("u-1").await;
    assert!(param(&landed, "code").is_some(), "{landed}");
    let events = t.hooks.events("/pre-sign-up");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["triggerSource"], "PreSignUp_ExternalProvider");
    assert_eq!(event["userPoolId"], FED_POOL);
    assert_eq!(event["userName"], "Up_u-1");
    assert_eq!(event["callerContext"]["clientId"], FED_CLIENT);
    // The second sign-in of the same identity is no sign-up.
    let again = t.sign_in("u-1").await;
    assert!(param(&again, "code").is_some(), "{again}");
    assert_eq!(t.hooks.events("/pre-sign-up").len(), 1);
    assert_eq!(t.users(), 2);
    // A refusal reaches the app as Cognito's, and creates no user.
    let refused = t.sign_in("refused-9").await;
    assert_eq!(param(&refused, "error").as_deref(), Some("invalid_request"));
    assert_eq!(
        param(&refused, "error_description").as_deref(),
        Some("PreSignUp failed with error Sign-ups are closed for Up_refused-9.")
    );
    assert_eq!(t.users(), 2);
}

async fn a_link_by_verified_email_is_no_sign_up(t: Federated) {
    // The identity's verified email is native rita's: linked to her, so the hook (which would
    // refuse this name) hears nothing and nobody is created.
    let landed = t.sign_in("refused.rita@example.com").await;
    assert!(param(&landed, "code").is_some(), "{landed}");
    assert!(t.hooks.events("/pre-sign-up").is_empty());
    assert_eq!(t.users(), 1);
}

on_both_backends_with!(
    Lifecycle;
    pre_sign_up_confirms_refuses_and_verifies_on_the_api,
    admin_create_user_fires_its_own_pre_sign_up,
    post_confirmation_follows_every_confirmation,
    pre_and_post_authentication_on_every_api_flow,
    hosted_pages_fire_the_same_hooks,
);

mod federated {
    use super::*;

    on_both_backends_with!(
        Federated;
        a_first_federated_sign_in_is_a_sign_up,
        a_link_by_verified_email_is_no_sign_up,
    );
}
