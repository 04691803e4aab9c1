//! The unsigned self-service actions over real HTTP (docs/api.md, "Self-service actions"):
//! sign-up, its confirmation and resend, the password reset; the access-token actions are in
//! `api_self_account`.

use crate::api_support::{Api, assert_error};
use crate::on_both_backends_with;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const PUBLIC: &str = "selfpublicclient0000000001";
pub const LEGACY: &str = "selflegacyclient0000000001";
pub const CONFIDENTIAL: &str = "selfconfidentialclient0001";
pub const CLIENT_SECRET: &str = "self-confidential-secret-0123456789";
pub const POOL: &str = "local_SelfServ1";
pub const CALLBACK: &str = "https://app.example.com/callback";

pub const CONFIG: &str = r#"
[[pool]]
id = "local_SelfServ1"
name = "self-service"
auto_verified_attributes = ["email"]
alias_attributes = ["email"]
required_attributes = ["given_name"]
attributes_require_verification_before_update = ["email"]
custom_attributes = [{ name = "tier" }]

[[pool.client]]
id = "selfpublicclient0000000001"
name = "spa"
callback_urls = ["https://app.example.com/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "aws.cognito.signin.user.admin"]
require_pkce = false
write_attributes = ["email", "given_name", "family_name", "custom:tier"]

[[pool.client]]
id = "selflegacyclient0000000001"
name = "legacy"
callback_urls = ["https://app.example.com/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "aws.cognito.signin.user.admin"]
require_pkce = false
prevent_user_existence_errors = "LEGACY"
enable_token_revocation = false

[[pool.client]]
id = "selfconfidentialclient0001"
name = "backend"
secret = "self-confidential-secret-0123456789"
callback_urls = ["https://app.example.com/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "aws.cognito.signin.user.admin"]

[[pool.user]]
username = "alice"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "alice@example.com", email_verified = "true", given_name = "Alice" }

[[pool.user]]
username = "bob"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "bob@example.com", given_name = "Bob" }

[[pool]]
id = "local_SelfServ2"
name = "closed"
allow_admin_create_user_only = true

[[pool.client]]
id = "selfclosedclient0000000001"
name = "closed"
"#;

pub const PASSWORD: &str = "Correct-Horse-9";

/// The harness: a server for `CONFIG`.
pub struct SelfApi;

impl SelfApi {
    pub async fn start(db: crate::support::TestDb) -> Api {
        Api::start_with(db, CONFIG)
    }
}

on_both_backends_with!(
    SelfApi;
    sign_up_sends_a_code_and_confirm_sign_up_confirms,
    sign_up_refuses_what_cognito_refuses,
    a_taken_name_is_hidden_or_told_as_the_client_says,
    resend_confirmation_code_follows_the_users_state,
    forgot_password_and_confirm_forgot_password_reset_the_password,
);

fn sign_up_input(client: &str, username: &str, email: &str) -> Value {
    json!({
        "ClientId": client,
        "Username": username,
        "Password": PASSWORD,
        "UserAttributes": [
            {"Name": "email", "Value": email},
            {"Name": "given_name", "Value": "Nina"},
        ],
    })
}

async fn sign_up_sends_a_code_and_confirm_sign_up_confirms(api: Api) {
    let (status, answer) = api
        .call("SignUp", sign_up_input(PUBLIC, "nina", "nina@example.com"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["UserConfirmed"], false);
    assert_eq!(answer["UserSub"].as_str().unwrap().len(), 36);
    assert_eq!(
        answer["CodeDeliveryDetails"],
        json!({"Destination": "n***@e***.com", "DeliveryMedium": "EMAIL", "AttributeName": "email"})
    );
    let code = api.last_code("nina@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let confirm =
        |code: &str| json!({"ClientId": PUBLIC, "Username": "nina", "ConfirmationCode": code});
    let mismatch = api.call("ConfirmSignUp", confirm(wrong)).await;
    assert_error(&mismatch, "CodeMismatchException");
    assert_eq!(
        mismatch.1["message"],
        "Invalid verification code provided, please try again."
    );
    let (status, answer) = api.call("ConfirmSignUp", confirm(&code)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let again = api.call("ConfirmSignUp", confirm(&code)).await;
    assert_error(&again, "NotAuthorizedException");
    assert_eq!(
        again.1["message"],
        "User cannot be confirmed. Current status is CONFIRMED"
    );
    // Confirmed, with the email verified: the reset code goes to it.
    let (status, answer) = api
        .call(
            "ForgotPassword",
            json!({"ClientId": PUBLIC, "Username": "nina"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn sign_up_refuses_what_cognito_refuses(api: Api) {
    let mut weak = sign_up_input(PUBLIC, "weak", "weak@example.com");
    weak["Password"] = json!("Sh0rt!");
    let answer = api.call("SignUp", weak).await;
    assert_error(&answer, "InvalidPasswordException");
    assert_eq!(
        answer.1["message"],
        "Password did not conform with policy: Password not long enough"
    );
    let mut lower = sign_up_input(PUBLIC, "lower", "lower@example.com");
    lower["Password"] = json!("correct-horse-9");
    let answer = api.call("SignUp", lower).await;
    assert_eq!(
        answer.1["message"],
        "Password did not conform with policy: Password must have uppercase characters"
    );
    let missing = json!({
        "ClientId": PUBLIC, "Username": "nogiven", "Password": PASSWORD,
        "UserAttributes": [{"Name": "email", "Value": "nogiven@example.com"}],
    });
    let answer = api.call("SignUp", missing).await;
    assert_error(&answer, "InvalidParameterException");
    assert!(answer.1["message"].as_str().unwrap().contains("given_name"));
    let answer = api
        .call(
            "SignUp",
            sign_up_input(PUBLIC, "x@example.com", "x@example.com"),
        )
        .await;
    assert_error(&answer, "InvalidParameterException");
    let answer = api
        .call("SignUp", json!({"ClientId": PUBLIC, "Username": "nopass"}))
        .await;
    assert_error(&answer, "InvalidParameterException");
    let answer = api
        .call(
            "SignUp",
            sign_up_input("selfclosedclient0000000001", "zed", "zed@example.com"),
        )
        .await;
    assert_error(&answer, "NotAuthorizedException");
    assert_eq!(
        answer.1["message"],
        "SignUp is not permitted for this user pool"
    );
    let answer = api
        .call(
            "SignUp",
            sign_up_input(CONFIDENTIAL, "sec", "sec@example.com"),
        )
        .await;
    assert_error(&answer, "NotAuthorizedException");
    let answer = api
        .call(
            "SignUp",
            sign_up_input("nosuchclient", "n", "n@example.com"),
        )
        .await;
    assert_error(&answer, "ResourceNotFoundException");
}

async fn a_taken_name_is_hidden_or_told_as_the_client_says(api: Api) {
    let (status, answer) = api
        .call(
            "SignUp",
            sign_up_input(PUBLIC, "alice", "other@example.com"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["UserConfirmed"], false);
    assert_eq!(
        answer["CodeDeliveryDetails"]["Destination"],
        "o***@e***.com"
    );
    // Alice is told, with no code.
    let emails = api.emails().await;
    let to_alice: Vec<_> = emails
        .iter()
        .filter(|e| e["to"] == "alice@example.com")
        .collect();
    assert_eq!(to_alice.len(), 1, "{emails:?}");
    assert!(
        emails.iter().all(|e| e["to"] != "other@example.com"),
        "{emails:?}"
    );
    let answer = api
        .call(
            "SignUp",
            sign_up_input(LEGACY, "alice", "other@example.com"),
        )
        .await;
    assert_error(&answer, "UsernameExistsException");
    assert_eq!(answer.1["message"], "User already exists");
}

async fn resend_confirmation_code_follows_the_users_state(api: Api) {
    let resend = |client: &str, username: &str| json!({"ClientId": client, "Username": username});
    let answer = api
        .call("ResendConfirmationCode", resend(PUBLIC, "alice"))
        .await;
    assert_error(&answer, "InvalidParameterException");
    assert_eq!(answer.1["message"], "User is already confirmed.");
    api.call("SignUp", sign_up_input(PUBLIC, "rita", "rita@example.com"))
        .await;
    let first = api.last_code("rita@example.com").await;
    // The first code is too recent for another.
    let answer = api
        .call("ResendConfirmationCode", resend(PUBLIC, "rita"))
        .await;
    assert_error(&answer, "LimitExceededException");
    let unknown = api
        .call("ResendConfirmationCode", resend(PUBLIC, "nobody"))
        .await;
    assert_eq!(unknown.0, StatusCode::OK, "{unknown:?}");
    assert!(unknown.1["CodeDeliveryDetails"]["Destination"].is_string());
    let unknown = api
        .call("ResendConfirmationCode", resend(LEGACY, "nobody"))
        .await;
    assert_error(&unknown, "UserNotFoundException");
    // The code still works.
    let (status, answer) = api
        .call(
            "ConfirmSignUp",
            json!({"ClientId": PUBLIC, "Username": "rita", "ConfirmationCode": first}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn forgot_password_and_confirm_forgot_password_reset_the_password(api: Api) {
    let forgot = |client: &str, username: &str| json!({"ClientId": client, "Username": username});
    let (status, answer) = api.call("ForgotPassword", forgot(PUBLIC, "alice")).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["CodeDeliveryDetails"]["Destination"],
        "a***@e***.com"
    );
    let code = api.last_code("alice@example.com").await;
    let again = api.call("ForgotPassword", forgot(PUBLIC, "alice")).await;
    assert_error(&again, "LimitExceededException");
    assert_eq!(
        again.1["message"],
        "Attempt limit exceeded, please try after some time."
    );
    // Bob's email is not verified.
    let bob = api.call("ForgotPassword", forgot(PUBLIC, "bob")).await;
    assert_error(&bob, "InvalidParameterException");
    assert_eq!(
        bob.1["message"],
        "Cannot reset password for the user as there is no registered/verified email or phone_number"
    );
    // Nobody: a plausible answer and no email.
    let before = api.emails().await.len();
    let (status, answer) = api
        .call("ForgotPassword", forgot(PUBLIC, "nobody@example.com"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["CodeDeliveryDetails"]["Destination"],
        "n***@e***.com"
    );
    assert_eq!(api.emails().await.len(), before);
    assert_error(
        &api.call("ForgotPassword", forgot(LEGACY, "nobody")).await,
        "UserNotFoundException",
    );
    let confirm = |code: &str, password: &str| json!({"ClientId": PUBLIC, "Username": "alice", "ConfirmationCode": code, "Password": password});
    assert_error(
        &api.call("ConfirmForgotPassword", confirm(&code, "weak"))
            .await,
        "InvalidPasswordException",
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_error(
        &api.call("ConfirmForgotPassword", confirm(wrong, "New-Passw0rd!"))
            .await,
        "CodeMismatchException",
    );
    let (status, answer) = api
        .call("ConfirmForgotPassword", confirm(&code, "New-Passw0rd!"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // Used: the code is gone.
    assert_error(
        &api.call("ConfirmForgotPassword", confirm(&code, "New-Passw0rd!"))
            .await,
        "ExpiredCodeException",
    );
    let user = gatehouse::store::users::find_by_username(
        &mut api.db.store.conn().unwrap(),
        &gatehouse::store::pools::get(&mut api.db.store.conn().unwrap(), POOL).unwrap(),
        "alice",
    )
    .unwrap()
    .unwrap();
    assert!(gatehouse::secrets::verify_password(
        "New-Passw0rd!",
        user.password_hash.as_deref().unwrap()
    ));
}
