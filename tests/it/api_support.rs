//! A client of the Cognito JSON API for the integration tests: unsigned calls for the public
//! actions, SigV4-signed calls (with the library's own signer) for the admin ones, over real
//! HTTP to a server started on a free port.
#![allow(dead_code)] // Shared by every API test module; not each uses every helper.

use crate::support::{TestDb, spawn_server_with};
use gatehouse::api::sigv4;
use gatehouse::mail::MailSettings;
use gatehouse::provision;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const ADMIN_KEY: &str = "AKIAGATEHOUSETEST001";
pub const ADMIN_SECRET: &str = "test-admin-secret-0123456789abcdef";

/// A pool with a public client that allows every flow, a confidential client, a user and an
/// admin key: what most API tests start from.
pub const API_CONFIG: &str = r#"
[[api_credentials]]
access_key_id = "AKIAGATEHOUSETEST001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["*"]

[[api_credentials]]
access_key_id = "AKIAGATEHOUSEREAD001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["local_ApiTest01"]
actions = ["cognito-idp:List*", "cognito-idp:Describe*", "cognito-idp:Get*"]

[[pool]]
id = "local_ApiTest01"
name = "api-test"
auto_verified_attributes = ["email"]
alias_attributes = ["email"]

[[pool.client]]
id = "apitestpublicclient0000001"
name = "spa"
callback_urls = ["https://app.example.com/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "aws.cognito.signin.user.admin"]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pool.user]]
username = "alice"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "alice@example.com", email_verified = "true" }

[[pool]]
id = "local_ApiTest02"
name = "other"
mfa = "ON"
"#;

pub fn test_env(name: &str) -> Option<String> {
    match name {
        "TEST_API_SECRET" => Some(ADMIN_SECRET.to_owned()),
        "TEST_USER_PASSWORD" => Some("Correct-Horse-9".to_owned()),
        "TEST_HOOK_SECRET" => Some(crate::hook_support::HOOK_SECRET.to_owned()),
        _ => None,
    }
}

pub struct Api {
    pub db: TestDb,
    pub root: String,
    pub http: reqwest::Client,
    pub outbox: PathBuf,
    _dir: tempfile::TempDir,
}

impl Api {
    pub async fn start(db: TestDb) -> Api {
        Self::start_with(db, API_CONFIG)
    }

    /// A server for `config`, whose `env:` values `test_env` resolves.
    pub fn start_with(db: TestDb, config: &str) -> Api {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("outbox.jsonl");
        let declaration =
            gatehouse::config::parse(config, Path::new("t.toml"), Path::new("."), &test_env)
                .unwrap_or_else(|e| panic!("test config is valid:\n{e}"));
        provision::apply(&mut db.store.conn().unwrap(), &declaration).unwrap();
        let mail = MailSettings::Outbox(outbox.clone());
        let server = spawn_server_with(db.store.clone(), |settings| {
            settings.mail = mail;
            settings.api_credentials = declaration.api_credentials.clone();
        });
        Api {
            db,
            root: server.base,
            http: server.client,
            outbox,
            _dir: dir,
        }
    }

    fn host(&self) -> String {
        self.root.trim_start_matches("http://").to_owned()
    }

    /// An unsigned call (the public actions).
    pub async fn call(&self, action: &str, input: Value) -> (StatusCode, Value) {
        self.send(action, input.to_string().into_bytes(), Vec::new())
            .await
    }

    /// A call signed with the test's admin key.
    pub async fn admin(&self, action: &str, input: Value) -> (StatusCode, Value) {
        self.signed(ADMIN_KEY, ADMIN_SECRET, action, input).await
    }

    /// A call signed with any key and secret.
    pub async fn signed(
        &self,
        key: &str,
        secret: &str,
        action: &str,
        input: Value,
    ) -> (StatusCode, Value) {
        self.signed_at(key, secret, action, input, gatehouse::store::now())
            .await
    }

    /// A call signed at another time (for the clock-skew window).
    pub async fn signed_at(
        &self,
        key: &str,
        secret: &str,
        action: &str,
        input: Value,
        at: i64,
    ) -> (StatusCode, Value) {
        let body = input.to_string().into_bytes();
        let headers = vec![
            ("host".to_owned(), self.host()),
            (
                "content-type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            (
                "x-amz-target".to_owned(),
                format!("AWSCognitoIdentityProviderService.{action}"),
            ),
        ];
        let request = sigv4::SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &body,
        };
        let added = sigv4::sign(key, secret, "local", &request, at);
        self.send(action, body, added).await
    }

    async fn send(
        &self,
        action: &str,
        body: Vec<u8>,
        extra: Vec<(String, String)>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .post(format!("{}/", self.root))
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "x-amz-target",
                format!("AWSCognitoIdentityProviderService.{action}"),
            )
            .body(body);
        for (name, value) in extra {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("API answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{action}: not JSON ({status}): {text}"));
        (status, value)
    }

    /// Every email delivered so far.
    pub async fn emails(&self) -> Vec<Value> {
        crate::support::wait_for_mail(&self.db.store).await;
        std::fs::read_to_string(&self.outbox)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The six-digit code in the last email to `to`.
    pub async fn last_code(&self, to: &str) -> String {
        let emails = self.emails().await;
        let email = emails
            .iter()
            .rev()
            .find(|e| e["to"].as_str() == Some(to) || e["to"][0].as_str() == Some(to))
            .unwrap_or_else(|| panic!("no email to {to} in {emails:?}"));
        let body = email["body"].as_str().unwrap_or_default();
        body.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {body}"))
            .to_owned()
    }
}

/// Asserts a Cognito error: status 400 and `__type`.
pub fn assert_error(answer: &(StatusCode, Value), code: &str) {
    assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{answer:?}");
    assert_eq!(answer.1["__type"], code, "{answer:?}");
}
