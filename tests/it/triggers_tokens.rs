//! Pre token generation against a real hook service (docs/triggers.md, "Pre token generation"):
//! V1 edits the ID token and the groups, V2 both tokens and the scopes, V3 also machine tokens;
//! every path that issues tokens fires it, and a refusing hook leaves no tokens.

use crate::api_support::{Api, assert_error};
use crate::hook_support::{HookService, trigger_line};
use crate::hosted::{browser, claims, input_value, location, param};
use crate::on_both_backends_with;
use reqwest::StatusCode;
use serde_json::{Value, json};

const V1: &str = "local_TokensV10";
const V2: &str = "local_TokensV20";
const V3: &str = "local_TokensV30";
const REFUSING: &str = "local_TokensNo0";
const BAD: &str = "local_TokensBad";
const CALLBACK: &str = "https://app.example.com/callback";
const PASSWORD: &str = "Correct-Horse-9";
const MACHINE_SECRET: &str = "test-admin-secret-0123456789abcdef";
const STAFF_ROLE: &str = "arn:aws:iam::123456789012:role/staff";
const HOOKED_ROLE: &str = "arn:aws:iam::123456789012:role/hooked";

/// Each pool's web client (hosted code flow and API sign-in).
fn web(pool: &str) -> String {
    format!("tokenswebclient{}00000001", pool[12..].to_lowercase())
}

/// Each pool's machine client (`client_credentials`).
fn machine(pool: &str) -> String {
    format!("tokensmachine00{}00000001", pool[12..].to_lowercase())
}

/// One pool per hook: its web client (hosted code flow and API sign-in), its machine client,
/// Alice in two groups and Fred, who must choose a new password.
fn pool(id: &str, hook: &str) -> String {
    let (web, machine) = (web(id), machine(id));
    format!(
        r#"
[[pool]]
id = "{id}"
name = "{id}"

[pool.triggers]
{hook}
[[pool.resource_server]]
identifier = "https://api.example.com"
name = "API"
scopes = [{{ name = "read", description = "Read" }}, {{ name = "extra", description = "Extra" }}]

[[pool.client]]
id = "{web}"
name = "web"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "aws.cognito.signin.user.admin"]
require_pkce = false
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pool.client]]
id = "{machine}"
name = "machine"
secret = "env:TEST_API_SECRET"
allowed_oauth_flows = ["client_credentials"]
allowed_oauth_scopes = ["https://api.example.com/read"]

[[pool.group]]
name = "staff"
precedence = 1
role_arn = "{STAFF_ROLE}"

[[pool.group]]
name = "readers"
precedence = 2

[[pool.user]]
username = "alice"
password = "env:TEST_USER_PASSWORD"
attributes = {{ email = "alice@example.com", email_verified = "true" }}
groups = ["staff", "readers"]

[[pool.user]]
username = "fred"
password = "env:TEST_USER_PASSWORD"
attributes = {{ email = "fred@example.com" }}
status = "FORCE_CHANGE_PASSWORD"
"#
    )
}

/// The harness: the hook service, and a server whose pools call it.
struct Tokens {
    api: Api,
    hooks: HookService,
}

impl Tokens {
    async fn start(db: crate::support::TestDb) -> Tokens {
        let hooks = HookService::start(&["basics", "tokens"], &[]);
        let line = |path: &str, version: &str| {
            trigger_line("pre_token_generation", &hooks.url(path), version)
        };
        let config = [
            pool(V1, &line("/v1", "")),
            pool(V2, &line("/v2", ", version = \"V2_0\"")),
            pool(V3, &line("/v2", ", version = \"V3_0\"")),
            pool(REFUSING, &line("/refuse", "")),
            pool(BAD, &line("/bad-type", "")),
        ]
        .concat();
        Tokens {
            api: Api::start_with(db, &config),
            hooks,
        }
    }

    async fn sign_in(&self, pool: &str) -> (StatusCode, Value) {
        let input = json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": web(pool),
            "AuthParameters": { "USERNAME": "alice", "PASSWORD": PASSWORD },
            "ClientMetadata": { "app": "tokens" },
        });
        self.api.call("InitiateAuth", input).await
    }

    async fn token_endpoint(&self, pool: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .api
            .http
            .post(format!("{}/{pool}/oauth2/token", self.api.root))
            .form(form)
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// Alice signs in on the hosted page; the authorization code comes back.
    async fn hosted_code(&self, pool: &str) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("response_type", "code"),
                ("client_id", web(pool).as_str()),
                ("redirect_uri", CALLBACK),
                ("scope", "openid email"),
                ("state", "st"),
            ])
            .finish();
        let url = format!("{}/{pool}/login?{query}", self.api.root);
        let b = browser();
        let html = b.get(&url).send().await.unwrap().text().await.unwrap();
        let csrf = input_value(&html, "_csrf");
        let form = [
            ("_csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ];
        let response = b.post(&url).form(&form).send().await.unwrap();
        let to = location(&response);
        assert!(to.starts_with(CALLBACK), "{to}");
        param(&to, "code").unwrap()
    }

    async fn redeem(&self, pool: &str, code: &str) -> (StatusCode, Value) {
        let client = web(pool);
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", client.as_str()),
            ("code", code),
            ("redirect_uri", CALLBACK),
        ];
        self.token_endpoint(pool, &form).await
    }

    async fn machine_token(&self, pool: &str) -> Value {
        let response = self
            .api
            .http
            .post(format!("{}/{pool}/oauth2/token", self.api.root))
            .basic_auth(machine(pool), Some(MACHINE_SECRET))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        claims(body["access_token"].as_str().unwrap())
    }

    /// The events the hook at `path` received with this trigger source.
    fn events(&self, path: &str, source: &str) -> Vec<Value> {
        self.hooks
            .events(path)
            .into_iter()
            .filter(|e| e["triggerSource"] == source)
            .collect()
    }
}

fn token(result: &Value, name: &str) -> Value {
    claims(
        result[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} in {result}")),
    )
}

/// What no hook may change, whatever it answered.
fn assert_protected(id: &Value, access: &Value, pool: &str, client: &str) {
    let issuer = id["iss"].as_str().unwrap();
    assert!(issuer.ends_with(pool), "{issuer}");
    assert_eq!(access["iss"], issuer);
    assert_eq!(id["sub"], access["sub"]);
    assert_ne!(id["sub"], "not-the-user");
    assert_eq!(id["aud"], client);
    assert_eq!(id["token_use"], "id");
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["client_id"], client);
}

async fn v1_edits_the_id_token_and_overrides_groups(t: Tokens) {
    let (status, out) = t.sign_in(V1).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let result = &out["AuthenticationResult"];
    let (id, access) = (token(result, "IdToken"), token(result, "AccessToken"));
    assert_protected(&id, &access, V1, &web(V1));
    assert_eq!(id["tier"], "gold");
    assert_eq!(id["source"], "TokenGeneration_Authentication");
    assert!(id.get("email").is_none(), "{id}");
    assert_eq!(id["cognito:groups"], json!(["hooked", "editors"]));
    assert_eq!(id["cognito:roles"], json!([HOOKED_ROLE]));
    assert_eq!(id["cognito:preferred_role"], HOOKED_ROLE);
    // V1 leaves the access token's claims alone; its groups follow the override, as Cognito's.
    assert!(access.get("tier").is_none() && access.get("source").is_none());
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(access["cognito:groups"], json!(["hooked", "editors"]));
    assert!(access.get("cognito:roles").is_none());

    let events = t.events("/v1", "TokenGeneration_Authentication");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["version"], "1");
    assert_eq!(event["userName"], "alice");
    assert_eq!(event["callerContext"]["clientId"], web(V1));
    let request = &event["request"];
    assert_eq!(request["userAttributes"]["email"], "alice@example.com");
    assert_eq!(request["userAttributes"]["sub"], id["sub"]);
    let groups = &request["groupConfiguration"];
    assert_eq!(groups["groupsToOverride"], json!(["staff", "readers"]));
    assert_eq!(groups["iamRolesToOverride"], json!([STAFF_ROLE]));
    assert_eq!(groups["preferredRole"], STAFF_ROLE);
    assert!(request.get("scopes").is_none(), "V1 events carry no scopes");
    assert_eq!(request["clientMetadata"], json!({"app": "tokens"}));

    // REFRESH_TOKEN_AUTH fires again, with its own source.
    let refresh = result["RefreshToken"].as_str().unwrap();
    let (status, out) = t
        .api
        .call(
            "InitiateAuth",
            json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": web(V1),
                   "AuthParameters": {"REFRESH_TOKEN": refresh},
                   "ClientMetadata": {"app": "refresh"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let id = token(&out["AuthenticationResult"], "IdToken");
    assert_eq!(id["source"], "TokenGeneration_RefreshTokens");
    assert_eq!(id["tier"], "gold");
    let refreshed = t.events("/v1", "TokenGeneration_RefreshTokens");
    assert_eq!(refreshed.len(), 1);
    assert_eq!(
        refreshed[0]["request"]["clientMetadata"],
        json!({"app": "refresh"})
    );
}

async fn v2_edits_both_tokens_and_scopes_on_the_hosted_flow(t: Tokens) {
    let code = t.hosted_code(V2).await;
    // The hook runs when the code is redeemed, where the tokens are made.
    assert!(t.hooks.events("/v2").is_empty());
    let (status, out) = t.redeem(V2, &code).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (id, access) = (token(&out, "id_token"), token(&out, "access_token"));
    assert_protected(&id, &access, V2, &web(V2));
    assert_eq!(id["plan"], "pro");
    assert_eq!(id["flags"], json!({"beta": true, "limits": [1, 2]}));
    assert_eq!(id["source"], "TokenGeneration_HostedAuth");
    assert!(id.get("email").is_none(), "{id}");
    assert_eq!(id["cognito:groups"], json!(["staff", "readers"]));
    assert_eq!(access["plan"], "pro");
    assert_eq!(access["seats"], 7);
    assert!(access.get("dropped").is_none(), "{access}");
    assert_eq!(access["source"], "TokenGeneration_HostedAuth");
    assert_eq!(access["scope"], "openid https://api.example.com/extra");

    let events = t.events("/v2", "TokenGeneration_HostedAuth");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["version"], "2");
    assert_eq!(events[0]["request"]["scopes"], json!(["openid", "email"]));
    assert_eq!(
        events[0]["request"]["groupConfiguration"]["groupsToOverride"],
        json!(["staff", "readers"])
    );

    // userInfo releases what the token's scopes allow: `email` was suppressed.
    let info: Value = t
        .api
        .http
        .get(format!("{}/{V2}/oauth2/userInfo", t.api.root))
        .bearer_auth(out["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["sub"], id["sub"]);
    assert!(info.get("email").is_none(), "{info}");

    // The refresh grant at /oauth2/token fires and applies again.
    let refresh = out["refresh_token"].as_str().unwrap();
    let client = web(V2);
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", client.as_str()),
        ("refresh_token", refresh),
    ];
    let (status, again) = t.token_endpoint(V2, &form).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let access = token(&again, "access_token");
    assert_eq!(access["source"], "TokenGeneration_RefreshTokens");
    assert_eq!(access["scope"], "openid https://api.example.com/extra");
    assert_eq!(token(&again, "id_token")["plan"], "pro");
}

async fn the_new_password_challenge_has_its_own_source(t: Tokens) {
    let input = json!({
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": web(V2),
        "AuthParameters": { "USERNAME": "fred", "PASSWORD": PASSWORD },
    });
    let (status, out) = t.api.call("InitiateAuth", input).await;
    assert_eq!(
        out["ChallengeName"], "NEW_PASSWORD_REQUIRED",
        "{status} {out}"
    );
    let answer = json!({
        "ClientId": web(V2), "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": out["Session"],
        "ChallengeResponses": {"USERNAME": "fred", "NEW_PASSWORD": "Brand-New-Pass-7"},
    });
    let (status, out) = t.api.call("RespondToAuthChallenge", answer).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let access = token(&out["AuthenticationResult"], "AccessToken");
    assert_eq!(access["source"], "TokenGeneration_NewPasswordChallenge");
    assert_eq!(access["username"], "fred");
    let events = t.events("/v2", "TokenGeneration_NewPasswordChallenge");
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["request"]["scopes"],
        json!(["aws.cognito.signin.user.admin"])
    );
}

async fn v3_customizes_machine_tokens_and_v2_does_not(t: Tokens) {
    let access = t.machine_token(V3).await;
    assert_eq!(access["sub"], machine(V3));
    assert_eq!(access["client_id"], machine(V3));
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["plan"], "pro");
    assert_eq!(access["source"], "TokenGeneration_ClientCredentials");
    assert_eq!(
        access["scope"],
        "https://api.example.com/read https://api.example.com/extra"
    );
    let events = t.events("/v2", "TokenGeneration_ClientCredentials");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["version"], "3");
    assert_eq!(events[0]["userPoolId"], V3);
    assert_eq!(events[0]["callerContext"]["clientId"], machine(V3));
    assert_eq!(
        events[0]["request"]["scopes"],
        json!(["https://api.example.com/read"])
    );

    // A V2 hook never hears of machine tokens.
    let plain = t.machine_token(V2).await;
    assert!(plain.get("plan").is_none(), "{plain}");
    assert_eq!(plain["scope"], "https://api.example.com/read");
    assert_eq!(
        t.events("/v2", "TokenGeneration_ClientCredentials").len(),
        1
    );
}

async fn a_failing_hook_leaves_no_tokens(t: Tokens) {
    let refused = t.sign_in(REFUSING).await;
    assert_error(&refused, "UserLambdaValidationException");
    assert_eq!(
        refused.1["message"],
        "PreTokenGeneration failed with error Refused by the test hook."
    );
    assert!(refused.1.get("AuthenticationResult").is_none());
    let broken = t.sign_in(BAD).await;
    assert_error(&broken, "InvalidLambdaResponseException");

    // At the token endpoint: the code is spent and nothing it created can be used.
    let code = t.hosted_code(REFUSING).await;
    let (status, out) = t.redeem(REFUSING, &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert_eq!(out["error"], "invalid_grant");
    assert_eq!(
        out["error_description"],
        "PreTokenGeneration failed with error Refused by the test hook."
    );
    assert!(out.get("access_token").is_none());
    let (status, again) = t.redeem(REFUSING, &code).await;
    assert_eq!(
        (status, &again["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_grant"))
    );

    let code = t.hosted_code(BAD).await;
    let (status, out) = t.redeem(BAD, &code).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{out}");
    assert_eq!(out["error"], "server_error");
    assert!(out.get("access_token").is_none());
}

on_both_backends_with!(
    Tokens;
    v1_edits_the_id_token_and_overrides_groups,
    v2_edits_both_tokens_and_scopes_on_the_hosted_flow,
    the_new_password_challenge_has_its_own_source,
    v3_customizes_machine_tokens_and_v2_does_not,
    a_failing_hook_leaves_no_tokens,
);
