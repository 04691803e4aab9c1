//! The message triggers against a real hook service (docs/triggers.md, "Custom message" and
//! "Custom email and SMS senders"): `custom_message` writes the sign-up, forgot-password and
//! invitation emails around the placeholders and the server puts the code in; a message
//! without the code fails the operation with nothing created; `custom_email_sender` gets the
//! code instead of the mailer, through the outbox, retried when the hook is down.

use crate::api_support::{Api, assert_error};
use crate::hook_support::{HookService, trigger_line};
use crate::hosted;
use crate::on_both_backends_with;
use crate::support::TestDb;
use diesel::prelude::*;
use gatehouse::store::{mail_outbox, schema};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CUSTOM: &str = "local_MsgCustom";
const REFUSE: &str = "local_MsgRefuse";
const SENDER: &str = "local_MsgSender";
const FLAKY: &str = "local_MsgFlaky1";
const PASSWORD: &str = "Correct-Horse-9";

fn client_of(pool: &str) -> String {
    format!("{:0<26}", pool.to_lowercase().replace('_', ""))
}

fn pool(id: &str, trigger: &str, url: &str) -> String {
    format!(
        r#"
[[pool]]
id = "{id}"
name = "{id}"
auto_verified_attributes = ["email"]
alias_attributes = ["email"]

[pool.triggers]
{line}
[[pool.client]]
id = "{client}"
name = "app"
callback_urls = ["{callback}"]
allowed_oauth_flows = ["code"]
require_pkce = false
allowed_oauth_scopes = ["openid", "email"]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pool.user]]
username = "alice"
password = "env:TEST_USER_PASSWORD"
attributes = {{ email = "alice@{id}.example.com", email_verified = "true" }}
"#,
        line = trigger_line(trigger, url, ""),
        client = client_of(id),
        callback = crate::hosted::CALLBACK,
    )
}

struct Messages {
    api: Api,
    hooks: HookService,
}

impl Messages {
    async fn start(db: TestDb) -> Messages {
        let hooks = HookService::start(&["basics", "messages"], &[]);
        let config = format!(
            r#"
[[api_credentials]]
access_key_id = "AKIAGATEHOUSETEST001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["*"]
{}{}{}{}"#,
            pool(CUSTOM, "custom_message", &hooks.url("/custom-message")),
            pool(REFUSE, "custom_message", &hooks.url("/no-placeholder")),
            pool(SENDER, "custom_email_sender", &hooks.url("/email-sender")),
            pool(FLAKY, "custom_email_sender", &hooks.url("/flaky-sender")),
        );
        Messages {
            api: Api::start_with(db, &config),
            hooks,
        }
    }
}

fn sign_up(pool: &str, username: &str, email: &str) -> Value {
    json!({
        "ClientId": client_of(pool),
        "Username": username,
        "Password": PASSWORD,
        "UserAttributes": [
            {"Name": "email", "Value": email},
            {"Name": "name", "Value": "Jane"},
        ],
        "ClientMetadata": {"campaign": "spring"},
    })
}

fn confirm(pool: &str, username: &str, code: &str) -> Value {
    json!({"ClientId": client_of(pool), "Username": username, "ConfirmationCode": code})
}

/// The six-digit code in a text.
fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned()
}

fn only_email_to<'a>(emails: &'a [Value], to: &str) -> &'a Value {
    let to_them: Vec<&Value> = emails.iter().filter(|e| e["to"] == to).collect();
    assert_eq!(to_them.len(), 1, "{emails:?}");
    to_them[0]
}

async fn custom_message_writes_the_sign_up_email(t: Messages) {
    let (status, answer) = t
        .api
        .call("SignUp", sign_up(CUSTOM, "jane", "jane@example.com"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let emails = t.api.emails().await;
    let email = only_email_to(&emails, "jane@example.com");
    assert_eq!(email["subject"], "Welcome to the test pool");
    let body = email["body"].as_str().unwrap();
    let code = code_in(body);
    assert_eq!(
        body,
        format!("Hello Jane, confirm with {code} (from the hook).")
    );
    // The hook saw the placeholder, never the code.
    let events = t.hooks.events("/custom-message");
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["triggerSource"], "CustomMessage_SignUp");
    assert_eq!(event["userPoolId"], CUSTOM);
    assert_eq!(event["callerContext"]["clientId"], client_of(CUSTOM));
    assert_eq!(event["request"]["codeParameter"], "{####}");
    assert_eq!(event["request"]["linkParameter"], "{##Click Here##}");
    assert_eq!(event["request"]["usernameParameter"], Value::Null);
    assert_eq!(event["request"]["clientMetadata"]["campaign"], "spring");
    assert_eq!(
        event["request"]["userAttributes"]["email"],
        "jane@example.com"
    );
    assert!(!event.to_string().contains(&code), "{event}");
    // The code the server put in confirms the account.
    let (status, answer) = t
        .api
        .call("ConfirmSignUp", confirm(CUSTOM, "jane", &code))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn custom_message_writes_the_forgot_password_email(t: Messages) {
    let client = client_of(CUSTOM);
    let to = format!("alice@{CUSTOM}.example.com");
    let (status, answer) = t
        .api
        .call(
            "ForgotPassword",
            json!({"ClientId": client, "Username": "alice"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let emails = t.api.emails().await;
    let email = only_email_to(&emails, &to);
    assert_eq!(email["subject"], "Reset, from the hook");
    assert_eq!(email["html"], true);
    let code = code_in(email["body"].as_str().unwrap());
    assert_eq!(
        email["body"],
        format!("<p>Your reset code is <b>{code}</b>.</p>")
    );
    let event = &t.hooks.events("/custom-message")[0];
    assert_eq!(event["triggerSource"], "CustomMessage_ForgotPassword");
    let (status, answer) = t
        .api
        .call(
            "ConfirmForgotPassword",
            json!({"ClientId": client, "Username": "alice", "ConfirmationCode": code,
                   "Password": "New-Horse-Battery-7"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn custom_message_writes_the_invitation(t: Messages) {
    let temporary = "Temp-Pass-4821!";
    let (status, answer) = t
        .api
        .admin(
            "AdminCreateUser",
            json!({"UserPoolId": CUSTOM, "Username": "bob", "TemporaryPassword": temporary,
                   "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}],
                   "ClientMetadata": {"campaign": "autumn"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let emails = t.api.emails().await;
    let email = only_email_to(&emails, "bob@example.com");
    assert_eq!(email["subject"], "You are invited");
    assert_eq!(
        email["body"],
        format!("Sign in as bob with {temporary}. Metadata: autumn")
    );
    let event = &t.hooks.events("/custom-message")[0];
    assert_eq!(event["triggerSource"], "CustomMessage_AdminCreateUser");
    assert_eq!(event["request"]["usernameParameter"], "{username}");
    assert_eq!(
        event["callerContext"]["clientId"],
        "CLIENT_ID_NOT_APPLICABLE"
    );
    assert!(!event.to_string().contains(temporary));
    // The password in the invitation is the one that signs in.
    let (status, answer) = t
        .api
        .call(
            "InitiateAuth",
            json!({"ClientId": client_of(CUSTOM), "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "bob", "PASSWORD": temporary}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["ChallengeName"], "NEW_PASSWORD_REQUIRED");
}

async fn a_message_without_the_code_is_refused_with_nothing_created(t: Messages) {
    let refused = t
        .api
        .call("SignUp", sign_up(REFUSE, "ron", "ron@example.com"))
        .await;
    assert_error(&refused, "InvalidLambdaResponseException");
    // No user, no code, no email: the same sign-up meets the same refusal, not a taken name.
    let missing = t
        .api
        .admin(
            "AdminGetUser",
            json!({"UserPoolId": REFUSE, "Username": "ron"}),
        )
        .await;
    assert_error(&missing, "UserNotFoundException");
    let again = t
        .api
        .call("SignUp", sign_up(REFUSE, "ron", "ron@example.com"))
        .await;
    assert_error(&again, "InvalidLambdaResponseException");
    let invited = t
        .api
        .admin(
            "AdminCreateUser",
            json!({"UserPoolId": REFUSE, "Username": "rita",
                   "UserAttributes": [{"Name": "email", "Value": "rita@example.com"}]}),
        )
        .await;
    assert_error(&invited, "InvalidLambdaResponseException");
    let missing = t
        .api
        .admin(
            "AdminGetUser",
            json!({"UserPoolId": REFUSE, "Username": "rita"}),
        )
        .await;
    assert_error(&missing, "UserNotFoundException");
    let reset = t
        .api
        .call(
            "ForgotPassword",
            json!({"ClientId": client_of(REFUSE), "Username": "alice"}),
        )
        .await;
    assert_error(&reset, "InvalidLambdaResponseException");
    assert!(t.api.emails().await.is_empty());
    let codes: i64 = schema::user_codes::table
        .count()
        .get_result(&mut t.api.db.store.conn().unwrap())
        .unwrap();
    assert_eq!(codes, 0);
    assert_eq!(t.hooks.events("/no-placeholder").len(), 4);
}

async fn custom_email_sender_gets_the_code_instead_of_the_mailer(t: Messages) {
    let (status, answer) = t
        .api
        .call("SignUp", sign_up(SENDER, "sam", "sam@example.com"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["CodeDeliveryDetails"]["DeliveryMedium"], "EMAIL");
    // Delivered through the outbox: nothing reached the mailer.
    assert!(t.api.emails().await.is_empty());
    let events = t.hooks.events("/email-sender");
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["triggerSource"], "CustomEmailSender_SignUp");
    assert_eq!(event["request"]["type"], "customEmailSenderRequestV1");
    assert_eq!(
        event["request"]["userAttributes"]["email"],
        "sam@example.com"
    );
    assert_eq!(event["request"]["clientMetadata"]["campaign"], "spring");
    assert_eq!(event["callerContext"]["clientId"], client_of(SENDER));
    let code = event["request"]["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    let (status, answer) = t
        .api
        .call("ConfirmSignUp", confirm(SENDER, "sam", &code))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn a_sender_hook_that_is_down_is_retried_and_the_sign_up_stands(t: Messages) {
    let (status, answer) = t
        .api
        .call("SignUp", sign_up(FLAKY, "fay", "fay@example.com"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // At rest the code is sealed: the queued event carries none.
    let queued: Vec<String> = schema::mail_outbox::table
        .select(schema::mail_outbox::message)
        .load(&mut t.api.db.store.conn().unwrap())
        .unwrap();
    assert_eq!(queued.len(), 1);
    // Twice refused (503), delivered at the third attempt, one and two seconds later.
    crate::support::wait_for_mail(&t.api.db.store).await;
    let events = t.hooks.events("/flaky-sender");
    assert_eq!(events.len(), 3, "{events:?}");
    let code = events[2]["request"]["code"].as_str().unwrap().to_owned();
    assert!(events.iter().all(|e| e["request"]["code"] == code));
    assert!(queued[0].contains("sealed_code"), "{}", queued[0]);
    assert!(!queued[0].contains(&code), "{}", queued[0]);
    let rows = mail_outbox::deliveries(&mut t.api.db.store.conn().unwrap()).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].status.as_str(), rows[0].attempts),
        (mail_outbox::SENT, 3)
    );
    assert!(t.api.emails().await.is_empty());
    let (status, answer) = t
        .api
        .call("ConfirmSignUp", confirm(FLAKY, "fay", &code))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

/// The hosted sign-up page of `pool`, submitted with `username`.
async fn hosted_sign_up(
    t: &Messages,
    b: &reqwest::Client,
    pool: &str,
    username: &str,
) -> reqwest::Response {
    let url = format!(
        "{}/{pool}/signup?{}",
        t.api.root,
        hosted::authorize_query(&client_of(pool))
    );
    let html = page(b, &url).await;
    let csrf = hosted::input_value(&html, "_csrf");
    let email = format!("{username}@example.com");
    b.post(&url)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("email", email.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
}

async fn user_status(t: &Messages, pool: &str, username: &str) -> (StatusCode, Value) {
    t.api
        .admin(
            "AdminGetUser",
            json!({"UserPoolId": pool, "Username": username}),
        )
        .await
}

async fn the_hosted_sign_up_sends_the_hooks_message(t: Messages) {
    let b = hosted::browser();
    let response = hosted_sign_up(&t, &b, CUSTOM, "hank").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let next = hosted::location(&response);
    assert!(next.contains("/confirm?"), "{next}");
    let emails = t.api.emails().await;
    let email = only_email_to(&emails, "hank@example.com");
    assert_eq!(email["subject"], "Welcome to the test pool");
    let code = code_in(email["body"].as_str().unwrap());
    assert_eq!(
        email["body"],
        format!("Hello hank, confirm with {code} (from the hook).")
    );
    let event = &t.hooks.events("/custom-message")[0];
    assert_eq!(event["callerContext"]["clientId"], client_of(CUSTOM));
    let confirm = format!("{}{next}", t.api.root);
    let html = page(&b, &confirm).await;
    let csrf = hosted::input_value(&html, "_csrf");
    b.post(&confirm)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "hank"),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap();
    let (status, user) = user_status(&t, CUSTOM, "hank").await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["UserStatus"], "CONFIRMED");
}

async fn the_hosted_sign_up_page_reports_a_refused_message(t: Messages) {
    let b = hosted::browser();
    let response = hosted_sign_up(&t, &b, REFUSE, "hugo").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("We could not complete this request. Please try again later."),
        "{html}"
    );
    let missing = user_status(&t, REFUSE, "hugo").await;
    assert_error(&missing, "UserNotFoundException");
    assert!(t.api.emails().await.is_empty());
}

async fn page(b: &reqwest::Client, url: &str) -> String {
    b.get(url).send().await.unwrap().text().await.unwrap()
}

on_both_backends_with!(Messages;
    the_hosted_sign_up_sends_the_hooks_message,
    the_hosted_sign_up_page_reports_a_refused_message,
    custom_message_writes_the_sign_up_email,
    custom_message_writes_the_forgot_password_email,
    custom_message_writes_the_invitation,
    a_message_without_the_code_is_refused_with_nothing_created,
    custom_email_sender_gets_the_code_instead_of_the_mailer,
    a_sender_hook_that_is_down_is_retried_and_the_sign_up_stands,
);
