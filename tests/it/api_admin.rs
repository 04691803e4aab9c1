//! The administrators' user actions over real HTTP (docs/api.md, "Admin actions"): creating,
//! reading, changing and deleting users, their passwords, attributes, MFA and sign-out.

use crate::api_support::{Api, assert_error};
use crate::hosted::{CALLBACK, authorize_query, input_value, location, param};
use crate::on_both_backends_with;
use crate::support::TestDb;
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const POOL: &str = "local_Admin0001";
pub const CLIENT: &str = "admintestclient00000000001";

pub const CONFIG: &str = r#"
[[api_credentials]]
access_key_id = "AKIAGATEHOUSETEST001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["*"]

[[api_credentials]]
access_key_id = "AKIAGATEHOUSEREAD001"
secret_access_key = "env:TEST_API_SECRET"
pools = ["local_Admin0002"]
actions = ["cognito-idp:*"]

[[pool]]
id = "local_Admin0001"
name = "admin-test"
auto_verified_attributes = ["email"]
alias_attributes = ["email"]
custom_attributes = [{ name = "tier" }, { name = "badge", mutable = false }]

[[pool.client]]
id = "admintestclient00000000001"
name = "web"
callback_urls = ["http://localhost:3000/callback"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "aws.cognito.signin.user.admin"]
require_pkce = false

[[pool.group]]
name = "staff"
description = "Declared in the file"
precedence = 1

[[pool.user]]
username = "alice"
password = "env:TEST_USER_PASSWORD"
attributes = { email = "alice@example.com", email_verified = "true", given_name = "Alice" }
groups = ["staff"]

[[pool]]
id = "local_Admin0002"
name = "other"
"#;

pub const PASSWORD: &str = "Correct-Horse-9";

/// The harness: an API server for `CONFIG`.
pub struct AdminApi;

impl AdminApi {
    pub async fn start(db: TestDb) -> Api {
        Api::start_with(db, CONFIG)
    }
}

on_both_backends_with!(
    AdminApi;
    a_created_user_is_invited_and_can_be_read_back,
    creation_checks_names_passwords_aliases_and_mediums,
    resend_renews_the_temporary_password,
    passwords_are_set_and_reset,
    confirmation_and_deletion,
    a_disabled_user_loses_its_tokens,
    attributes_are_updated_and_deleted,
    mfa_preference_needs_an_authenticator,
);

pub async fn ok(api: &Api, action: &str, input: Value) -> Value {
    let answer = api.admin(action, input).await;
    assert_eq!(answer.0, StatusCode::OK, "{action}: {answer:?}");
    answer.1
}

pub fn attribute<'a>(list: &'a Value, name: &str) -> Option<&'a str> {
    list.as_array()?
        .iter()
        .find(|a| a["Name"] == name)
        .and_then(|a| a["Value"].as_str())
}

async fn a_created_user_is_invited_and_can_be_read_back(api: Api) {
    let created = ok(
        &api,
        "AdminCreateUser",
        json!({"UserPoolId": POOL, "Username": "bob", "TemporaryPassword": "Temp-Passw0rd!",
               "UserAttributes": [{"Name": "email", "Value": "bob@example.com"},
                                  {"Name": "email_verified", "Value": "true"}]}),
    )
    .await;
    let user = &created["User"];
    assert_eq!(user["Username"], "bob");
    assert_eq!(user["UserStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(user["Enabled"], true);
    assert!(user["UserCreateDate"].is_number(), "{user}");
    assert_eq!(attribute(&user["Attributes"], "sub").unwrap().len(), 36);
    let emails = api.emails().await;
    let invitation = emails
        .iter()
        .find(|e| e["to"] == "bob@example.com")
        .unwrap();
    let body = invitation["body"].as_str().unwrap();
    assert!(
        body.contains("bob") && body.contains("Temp-Passw0rd!"),
        "{body}"
    );

    // By its verified email alias, too.
    let got = ok(
        &api,
        "AdminGetUser",
        json!({"UserPoolId": POOL, "Username": "BOB@example.com"}),
    )
    .await;
    assert_eq!(got["Username"], "bob");
    assert_eq!(
        attribute(&got["UserAttributes"], "email"),
        Some("bob@example.com")
    );
    assert_eq!(got["UserMFASettingList"], json!([]));
    let missing = api
        .admin(
            "AdminGetUser",
            json!({"UserPoolId": POOL, "Username": "nobody"}),
        )
        .await;
    assert_error(&missing, "UserNotFoundException");
    assert_eq!(missing.1["message"], "User does not exist.");

    // SUPPRESS sends nothing; a generated password meets the policy.
    ok(
        &api,
        "AdminCreateUser",
        json!({"UserPoolId": POOL, "Username": "quiet", "MessageAction": "SUPPRESS",
               "UserAttributes": [{"Name": "email", "Value": "quiet@example.com"}]}),
    )
    .await;
    let invited = ok(
        &api,
        "AdminCreateUser",
        json!({"UserPoolId": POOL, "Username": "loud",
               "UserAttributes": [{"Name": "email", "Value": "loud@example.com"}]}),
    )
    .await;
    assert_eq!(invited["User"]["UserStatus"], "FORCE_CHANGE_PASSWORD");
    let emails = api.emails().await;
    assert!(!emails.iter().any(|e| e["to"] == "quiet@example.com"));
    let loud = emails
        .iter()
        .find(|e| e["to"] == "loud@example.com")
        .unwrap();
    let body = loud["body"].as_str().unwrap();
    let password = body.rsplit(' ').next().unwrap().trim_end_matches('.');
    assert!(password.len() >= 12, "{body}");
}

async fn creation_checks_names_passwords_aliases_and_mediums(api: Api) {
    let create = |username: &str, extra: Value| {
        let mut input =
            json!({"UserPoolId": POOL, "Username": username, "MessageAction": "SUPPRESS"});
        for (k, v) in extra.as_object().unwrap() {
            input[k] = v.clone();
        }
        input
    };
    let taken = api
        .admin("AdminCreateUser", create("ALICE", json!({})))
        .await;
    assert_error(&taken, "UsernameExistsException");
    assert_eq!(taken.1["message"], "User account already exists");
    let weak = api
        .admin(
            "AdminCreateUser",
            create("carol", json!({"TemporaryPassword": "short"})),
        )
        .await;
    assert_error(&weak, "InvalidPasswordException");
    assert_eq!(
        weak.1["message"],
        "Password did not conform with policy: Password not long enough"
    );
    let like_email = api
        .admin("AdminCreateUser", create("c@example.com", json!({})))
        .await;
    assert_error(&like_email, "InvalidParameterException");
    let sms = api
        .admin(
            "AdminCreateUser",
            create("carol", json!({"DesiredDeliveryMediums": ["SMS"]})),
        )
        .await;
    assert_error(&sms, "InvalidParameterException");
    let unknown = api
        .admin(
            "AdminCreateUser",
            create(
                "carol",
                json!({"UserAttributes": [{"Name": "custom:nope", "Value": "1"}]}),
            ),
        )
        .await;
    assert_error(&unknown, "InvalidParameterException");
    let sub = api
        .admin(
            "AdminCreateUser",
            create(
                "carol",
                json!({"UserAttributes": [{"Name": "sub", "Value": "x"}]}),
            ),
        )
        .await;
    assert_error(&sub, "InvalidParameterException");
    // Alice's verified email is her alias: taken, unless forced.
    let alias = json!({"UserAttributes": [{"Name": "email", "Value": "alice@example.com"},
                                          {"Name": "email_verified", "Value": "true"}]});
    let clash = api
        .admin("AdminCreateUser", create("carol", alias.clone()))
        .await;
    assert_error(&clash, "AliasExistsException");
    let mut forced = alias.clone();
    forced["ForceAliasCreation"] = json!(true);
    ok(&api, "AdminCreateUser", create("carol", forced)).await;
    let by_alias = ok(
        &api,
        "AdminGetUser",
        json!({"UserPoolId": POOL, "Username": "alice@example.com"}),
    )
    .await;
    assert_eq!(by_alias["Username"], "carol");
    let alice = ok(
        &api,
        "AdminGetUser",
        json!({"UserPoolId": POOL, "Username": "alice"}),
    )
    .await;
    assert_eq!(
        attribute(&alice["UserAttributes"], "email_verified"),
        Some("false")
    );
    // A key limited to another pool may not touch this one.
    let denied = api
        .signed(
            "AKIAGATEHOUSEREAD001",
            crate::api_support::ADMIN_SECRET,
            "AdminGetUser",
            json!({"UserPoolId": POOL, "Username": "alice"}),
        )
        .await;
    assert_error(&denied, "AccessDeniedException");
    let nowhere = api
        .admin(
            "AdminGetUser",
            json!({"UserPoolId": "local_Nope", "Username": "alice"}),
        )
        .await;
    assert_error(&nowhere, "ResourceNotFoundException");
}

async fn resend_renews_the_temporary_password(api: Api) {
    let first = json!({"UserPoolId": POOL, "Username": "dan", "TemporaryPassword": "First-Passw0rd!",
                       "UserAttributes": [{"Name": "email", "Value": "dan@example.com"}]});
    ok(&api, "AdminCreateUser", first).await;
    ok(
        &api,
        "AdminCreateUser",
        json!({"UserPoolId": POOL, "Username": "dan", "MessageAction": "RESEND",
               "TemporaryPassword": "Second-Passw0rd!"}),
    )
    .await;
    let emails = api.emails().await;
    let to_dan: Vec<_> = emails
        .iter()
        .filter(|e| e["to"] == "dan@example.com")
        .collect();
    assert_eq!(to_dan.len(), 2);
    assert!(
        to_dan[1]["body"]
            .as_str()
            .unwrap()
            .contains("Second-Passw0rd!")
    );
    let confirmed = api
        .admin(
            "AdminCreateUser",
            json!({"UserPoolId": POOL, "Username": "alice", "MessageAction": "RESEND"}),
        )
        .await;
    assert_error(&confirmed, "UnsupportedUserStateException");
    let nobody = api
        .admin(
            "AdminCreateUser",
            json!({"UserPoolId": POOL, "Username": "ghost", "MessageAction": "RESEND"}),
        )
        .await;
    assert_error(&nobody, "UserNotFoundException");
}

async fn passwords_are_set_and_reset(api: Api) {
    let set = |password: &str, permanent: bool| json!({"UserPoolId": POOL, "Username": "alice", "Password": password, "Permanent": permanent});
    assert_error(
        &api.admin("AdminSetUserPassword", set("nouppercase1!", true))
            .await,
        "InvalidPasswordException",
    );
    ok(
        &api,
        "AdminSetUserPassword",
        set("Temporary-Passw0rd", false),
    )
    .await;
    let status = |v: &Value| v["UserStatus"].as_str().unwrap().to_owned();
    let get = json!({"UserPoolId": POOL, "Username": "alice"});
    assert_eq!(
        status(&ok(&api, "AdminGetUser", get.clone()).await),
        "FORCE_CHANGE_PASSWORD"
    );
    ok(
        &api,
        "AdminSetUserPassword",
        set("Permanent-Passw0rd", true),
    )
    .await;
    assert_eq!(
        status(&ok(&api, "AdminGetUser", get.clone()).await),
        "CONFIRMED"
    );

    ok(&api, "AdminResetUserPassword", get.clone()).await;
    assert_eq!(
        status(&ok(&api, "AdminGetUser", get.clone()).await),
        "RESET_REQUIRED"
    );
    let code = api.last_code("alice@example.com").await;
    assert_eq!(code.len(), 6);
    // No verified address: nowhere to send a code.
    ok(
        &api,
        "AdminCreateUser",
        json!({"UserPoolId": POOL, "Username": "erin", "MessageAction": "SUPPRESS"}),
    )
    .await;
    let nowhere = api
        .admin(
            "AdminResetUserPassword",
            json!({"UserPoolId": POOL, "Username": "erin"}),
        )
        .await;
    assert_error(&nowhere, "InvalidParameterException");
    assert_eq!(
        nowhere.1["message"],
        "Cannot reset password for the user as there is no registered/verified email or phone_number"
    );
}

async fn confirmation_and_deletion(api: Api) {
    let alice = json!({"UserPoolId": POOL, "Username": "alice"});
    let already = api.admin("AdminConfirmSignUp", alice.clone()).await;
    assert_error(&already, "NotAuthorizedException");
    assert_eq!(
        already.1["message"],
        "User cannot be confirmed. Current status is CONFIRMED"
    );
    // A self-registered user waits for confirmation.
    {
        let mut conn = api.db.store.conn().unwrap();
        let pool = gatehouse::store::pools::get(&mut conn, POOL).unwrap();
        let user = gatehouse::model::User {
            sub: uuid::Uuid::new_v4(),
            pool_id: pool.id.clone(),
            username: "frank".into(),
            status: gatehouse::model::UserStatus::Unconfirmed,
            enabled: true,
            password_hash: None,
            attributes: gatehouse::model::Attributes::new(),
            created_at: 1,
            updated_at: 1,
            srp_verifier: None,
        };
        gatehouse::store::users::create(&mut conn, &pool, &user).unwrap();
    }
    let frank = json!({"UserPoolId": POOL, "Username": "frank"});
    ok(&api, "AdminConfirmSignUp", frank.clone()).await;
    let got = ok(&api, "AdminGetUser", frank).await;
    assert_eq!(got["UserStatus"], "CONFIRMED");
    ok(&api, "AdminDeleteUser", alice.clone()).await;
    assert_error(
        &api.admin("AdminGetUser", alice.clone()).await,
        "UserNotFoundException",
    );
    assert_error(
        &api.admin("AdminDeleteUser", alice).await,
        "UserNotFoundException",
    );
}

/// Alice's tokens, from a hosted sign-in.
pub async fn alice_tokens(api: &Api) -> Value {
    let b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let url = format!("{}/{POOL}/login?{}", api.root, authorize_query(CLIENT));
    let html = b.get(&url).send().await.unwrap().text().await.unwrap();
    let csrf = input_value(&html, "_csrf");
    let signed_in = b
        .post(&url)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let done = location(&signed_in);
    assert!(done.starts_with(CALLBACK), "{done}");
    let response = reqwest::Client::new()
        .post(format!("{}/{POOL}/oauth2/token", api.root))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", &param(&done, "code").unwrap()),
            ("redirect_uri", CALLBACK),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

pub async fn user_info(api: &Api, access_token: &str) -> StatusCode {
    api.http
        .get(format!("{}/{POOL}/oauth2/userInfo", api.root))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn a_disabled_user_loses_its_tokens(api: Api) {
    let tokens = alice_tokens(&api).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(user_info(&api, access).await, StatusCode::OK);
    let alice = json!({"UserPoolId": POOL, "Username": "alice"});
    ok(&api, "AdminDisableUser", alice.clone()).await;
    assert_eq!(user_info(&api, access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        ok(&api, "AdminGetUser", alice.clone()).await["Enabled"],
        false
    );
    ok(&api, "AdminEnableUser", alice.clone()).await;
    assert_eq!(
        ok(&api, "AdminGetUser", alice.clone()).await["Enabled"],
        true
    );
    // The old token stays dead; a new one works until a global sign-out.
    assert_eq!(user_info(&api, access).await, StatusCode::UNAUTHORIZED);
    let fresh = alice_tokens(&api).await;
    let access = fresh["access_token"].as_str().unwrap();
    assert_eq!(user_info(&api, access).await, StatusCode::OK);
    ok(&api, "AdminUserGlobalSignOut", alice).await;
    assert_eq!(user_info(&api, access).await, StatusCode::UNAUTHORIZED);
}

async fn attributes_are_updated_and_deleted(api: Api) {
    let alice = json!({"UserPoolId": POOL, "Username": "alice"});
    let update = |attributes: Value| json!({"UserPoolId": POOL, "Username": "alice", "UserAttributes": attributes});
    ok(
        &api,
        "AdminUpdateUserAttributes",
        update(json!([{"Name": "email", "Value": "alice@new.example.com"},
                      {"Name": "custom:tier", "Value": "gold"},
                      {"Name": "custom:badge", "Value": "b1"}])),
    )
    .await;
    let got = ok(&api, "AdminGetUser", alice.clone()).await;
    let attributes = &got["UserAttributes"];
    assert_eq!(
        attribute(attributes, "email"),
        Some("alice@new.example.com")
    );
    assert_eq!(attribute(attributes, "email_verified"), Some("false"));
    assert_eq!(attribute(attributes, "custom:tier"), Some("gold"));
    assert_eq!(api.last_code("alice@new.example.com").await.len(), 6);
    // Verified in the same call: no code, verified.
    ok(
        &api,
        "AdminUpdateUserAttributes",
        update(
            json!([{"Name": "email", "Value": "alice@third.example.com"},
                      {"Name": "email_verified", "Value": "true"}]),
        ),
    )
    .await;
    let got = ok(
        &api,
        "AdminGetUser",
        json!({"UserPoolId": POOL, "Username": "alice@third.example.com"}),
    )
    .await;
    assert_eq!(
        attribute(&got["UserAttributes"], "email_verified"),
        Some("true")
    );
    let immutable = api
        .admin(
            "AdminUpdateUserAttributes",
            update(json!([{"Name": "custom:badge", "Value": "b2"}])),
        )
        .await;
    assert_error(&immutable, "InvalidParameterException");
    let bad = api
        .admin(
            "AdminUpdateUserAttributes",
            update(json!([{"Name": "email", "Value": "nope"}])),
        )
        .await;
    assert_error(&bad, "InvalidParameterException");

    ok(
        &api,
        "AdminDeleteUserAttributes",
        json!({"UserPoolId": POOL, "Username": "alice", "UserAttributeNames": ["given_name", "custom:tier"]}),
    )
    .await;
    let got = ok(&api, "AdminGetUser", alice.clone()).await;
    assert_eq!(attribute(&got["UserAttributes"], "given_name"), None);
    assert_eq!(attribute(&got["UserAttributes"], "custom:tier"), None);
    let sub = api
        .admin(
            "AdminDeleteUserAttributes",
            json!({"UserPoolId": POOL, "Username": "alice", "UserAttributeNames": ["sub"]}),
        )
        .await;
    assert_error(&sub, "InvalidParameterException");
}

async fn mfa_preference_needs_an_authenticator(api: Api) {
    let prefer = json!({"UserPoolId": POOL, "Username": "alice",
                        "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}});
    let refused = api.admin("AdminSetUserMFAPreference", prefer.clone()).await;
    assert_error(&refused, "InvalidParameterException");
    let sms = api
        .admin(
            "AdminSetUserMFAPreference",
            json!({"UserPoolId": POOL, "Username": "alice", "SMSMfaSettings": {"Enabled": true}}),
        )
        .await;
    assert_error(&sms, "InvalidParameterException");
    // A verified authenticator (as the hosted set-up leaves it) can be turned off and on.
    {
        let mut conn = api.db.store.conn().unwrap();
        let pool = gatehouse::store::pools::get(&mut conn, POOL).unwrap();
        let alice = gatehouse::store::users::find_by_username(&mut conn, &pool, "alice")
            .unwrap()
            .unwrap();
        let mut row = gatehouse::store::mfa::MfaRow::empty(POOL, &alice.sub.to_string(), 1);
        row.totp_secret = Some("JBSWY3DPEHPK3PXP".into());
        row.totp_enabled = true;
        row.last_step = 5;
        let sealer = gatehouse::sealing::Sealer::process_ephemeral();
        gatehouse::store::mfa::save(&mut conn, &sealer, &row).unwrap();
    }
    let get = json!({"UserPoolId": POOL, "Username": "alice"});
    let got = ok(&api, "AdminGetUser", get.clone()).await;
    assert_eq!(got["UserMFASettingList"], json!(["SOFTWARE_TOKEN_MFA"]));
    assert_eq!(got["PreferredMfaSetting"], "SOFTWARE_TOKEN_MFA");
    ok(
        &api,
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": POOL, "Username": "alice", "SoftwareTokenMfaSettings": {"Enabled": false}}),
    )
    .await;
    assert_eq!(
        ok(&api, "AdminGetUser", get.clone()).await["UserMFASettingList"],
        json!([])
    );
    ok(&api, "AdminSetUserMFAPreference", prefer).await;
    assert_eq!(
        ok(&api, "AdminGetUser", get).await["UserMFASettingList"],
        json!(["SOFTWARE_TOKEN_MFA"])
    );
}
