//! The access-token actions over real HTTP (docs/api.md, "Self-service actions"), with tokens
//! from the hosted UI and /oauth2/token carrying scope `aws.cognito.signin.user.admin`.

use crate::api_self_service::{
    CALLBACK, CLIENT_SECRET, CONFIDENTIAL, LEGACY, PASSWORD, POOL, PUBLIC, SelfApi,
};
use crate::api_support::{Api, assert_error};
use crate::hosted::{browser, input_value, location, param};
use crate::on_both_backends_with;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends_with!(
    SelfApi;
    get_user_answers_the_tokens_user,
    attribute_updates_are_checked_and_a_new_email_waits_for_its_code,
    delete_user_attributes_and_delete_user,
    change_password_checks_the_previous_one,
    global_sign_out_ends_every_token_everywhere,
    revoke_token_revokes_a_refresh_tokens_family,
    mfa_preference_needs_an_authenticator,
);

/// Tokens for `username` through the hosted sign-in page and /oauth2/token.
async fn tokens(api: &Api, client: &str, username: &str, password: &str) -> Value {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", CALLBACK),
            ("scope", "openid aws.cognito.signin.user.admin"),
            ("state", "st"),
        ])
        .finish();
    let login = format!("{}/{POOL}/login?{query}", api.root);
    let b = browser();
    let html = b.get(&login).send().await.unwrap().text().await.unwrap();
    let csrf = input_value(&html, "_csrf");
    let response = b
        .post(&login)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let to = location(&response);
    let code = param(&to, "code").unwrap_or_else(|| panic!("a code in {to:?}"));
    let mut request = reqwest::Client::new()
        .post(format!("{}/{POOL}/oauth2/token", api.root))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
        ]);
    if client == CONFIDENTIAL {
        request = request.basic_auth(CONFIDENTIAL, Some(CLIENT_SECRET));
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn access(api: &Api, username: &str) -> String {
    tokens(api, PUBLIC, username, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn attribute(answer: &Value, name: &str) -> Option<String> {
    answer["UserAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["Name"] == name)
        .map(|a| a["Value"].as_str().unwrap().to_owned())
}

async fn get_user(api: &Api, token: &str) -> (StatusCode, Value) {
    api.call("GetUser", json!({"AccessToken": token})).await
}

async fn get_user_answers_the_tokens_user(api: Api) {
    let token = access(&api, "alice").await;
    let (status, answer) = get_user(&api, &token).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["Username"], "alice");
    assert_eq!(attribute(&answer, "email").unwrap(), "alice@example.com");
    assert_eq!(attribute(&answer, "email_verified").unwrap(), "true");
    assert_eq!(attribute(&answer, "sub").unwrap().len(), 36);
    assert!(answer.get("UserMFASettingList").is_none());
    let bad = get_user(&api, "not.a.token").await;
    assert_error(&bad, "NotAuthorizedException");
    assert_eq!(bad.1["message"], "Invalid Access Token");
}

async fn attribute_updates_are_checked_and_a_new_email_waits_for_its_code(api: Api) {
    let token = access(&api, "alice").await;
    let update = |attributes: Value| json!({"AccessToken": token, "UserAttributes": attributes});
    assert_error(
        &api.call(
            "UpdateUserAttributes",
            update(json!([{"Name": "nickname", "Value": "al"}])),
        )
        .await,
        "NotAuthorizedException",
    );
    assert_error(
        &api.call(
            "UpdateUserAttributes",
            update(json!([{"Name": "email_verified", "Value": "true"}])),
        )
        .await,
        "NotAuthorizedException",
    );
    assert_error(
        &api.call(
            "UpdateUserAttributes",
            update(json!([{"Name": "custom:nope", "Value": "x"}])),
        )
        .await,
        "InvalidParameterException",
    );
    let (status, answer) = api
        .call(
            "UpdateUserAttributes",
            update(json!([
                {"Name": "family_name", "Value": "Liddell"},
                {"Name": "email", "Value": "alice@new.example"},
            ])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        answer["CodeDeliveryDetailsList"][0]["Destination"],
        "a***@n***.example"
    );
    // The old address stays in force until the new one is verified.
    let (_, user) = get_user(&api, &token).await;
    assert_eq!(attribute(&user, "email").unwrap(), "alice@example.com");
    assert_eq!(attribute(&user, "email_verified").unwrap(), "true");
    assert_eq!(attribute(&user, "family_name").unwrap(), "Liddell");
    tokens(&api, PUBLIC, "alice@example.com", PASSWORD).await;
    let code = api.last_code("alice@new.example").await;
    let verify = |code: &str| json!({"AccessToken": token, "AttributeName": "email", "Code": code});
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_error(
        &api.call("VerifyUserAttribute", verify(wrong)).await,
        "CodeMismatchException",
    );
    assert_error(
        &api.call(
            "GetUserAttributeVerificationCode",
            json!({"AccessToken": token, "AttributeName": "email"}),
        )
        .await,
        "LimitExceededException",
    );
    let (status, answer) = api.call("VerifyUserAttribute", verify(&code)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, user) = get_user(&api, &token).await;
    assert_eq!(attribute(&user, "email").unwrap(), "alice@new.example");
    assert_eq!(attribute(&user, "email_verified").unwrap(), "true");
    tokens(&api, PUBLIC, "alice@new.example", PASSWORD).await;
    assert_error(
        &api.call("VerifyUserAttribute", verify(&code)).await,
        "ExpiredCodeException",
    );
}

async fn delete_user_attributes_and_delete_user(api: Api) {
    let token = access(&api, "bob").await;
    let delete = |names: Value| json!({"AccessToken": token, "UserAttributeNames": names});
    assert_error(
        &api.call("DeleteUserAttributes", delete(json!(["given_name"])))
            .await,
        "InvalidParameterException",
    );
    assert_error(
        &api.call("DeleteUserAttributes", delete(json!(["sub"])))
            .await,
        "NotAuthorizedException",
    );
    let (status, answer) = api
        .call("DeleteUserAttributes", delete(json!(["email"])))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, user) = get_user(&api, &token).await;
    assert!(attribute(&user, "email").is_none(), "{user}");
    let (status, answer) = api.call("DeleteUser", json!({"AccessToken": token})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_error(&get_user(&api, &token).await, "NotAuthorizedException");
    let conn = &mut api.db.store.conn().unwrap();
    let pool = gatehouse::store::pools::get(conn, POOL).unwrap();
    assert!(
        gatehouse::store::users::find_by_username(conn, &pool, "bob")
            .unwrap()
            .is_none()
    );
}

async fn change_password_checks_the_previous_one(api: Api) {
    let token = access(&api, "alice").await;
    let change = |previous: &str, proposed: &str| json!({"AccessToken": token, "PreviousPassword": previous, "ProposedPassword": proposed});
    let weak = api.call("ChangePassword", change(PASSWORD, "short")).await;
    assert_error(&weak, "InvalidPasswordException");
    assert_eq!(
        weak.1["message"],
        "Password did not conform with policy: Password not long enough"
    );
    let wrong = api
        .call("ChangePassword", change("Wrong-Horse-9", "New-Passw0rd!"))
        .await;
    assert_error(&wrong, "NotAuthorizedException");
    assert_eq!(wrong.1["message"], "Incorrect username or password.");
    let (status, answer) = api
        .call("ChangePassword", change(PASSWORD, "New-Passw0rd!"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    // The token that changed it still works; the new password signs in.
    assert_eq!(get_user(&api, &token).await.0, StatusCode::OK);
    tokens(&api, PUBLIC, "alice", "New-Passw0rd!").await;
    // Wrong guesses are throttled like sign-in.
    let mut last = None;
    for _ in 0..8 {
        last = Some(
            api.call("ChangePassword", change("Wrong-Horse-9", "Other-Passw0rd!"))
                .await,
        );
    }
    assert_error(&last.unwrap(), "LimitExceededException");
}

async fn global_sign_out_ends_every_token_everywhere(api: Api) {
    let web = tokens(&api, CONFIDENTIAL, "alice", PASSWORD).await;
    let token = access(&api, "alice").await;
    let other = web["access_token"].as_str().unwrap();
    let (status, answer) = api
        .call("GlobalSignOut", json!({"AccessToken": token}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for t in [token.as_str(), other] {
        let refused = get_user(&api, t).await;
        assert_error(&refused, "NotAuthorizedException");
        assert_eq!(refused.1["message"], "Access Token has been revoked");
        let info = reqwest::Client::new()
            .get(format!("{}/{POOL}/oauth2/userInfo", api.root))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
        let introspection: Value = reqwest::Client::new()
            .post(format!("{}/{POOL}/oauth2/introspect", api.root))
            .basic_auth(CONFIDENTIAL, Some(CLIENT_SECRET))
            .form(&[("token", t)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(introspection["active"], false, "{introspection}");
    }
    let refresh = reqwest::Client::new()
        .post(format!("{}/{POOL}/oauth2/token", api.root))
        .basic_auth(CONFIDENTIAL, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", web["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), StatusCode::BAD_REQUEST);
}

async fn revoke_token_revokes_a_refresh_tokens_family(api: Api) {
    let mine = tokens(&api, PUBLIC, "alice", PASSWORD).await;
    let access = mine["access_token"].as_str().unwrap();
    let refresh = mine["refresh_token"].as_str().unwrap();
    let revoke = |token: &str, client: &str| json!({"Token": token, "ClientId": client});
    assert_error(
        &api.call("RevokeToken", revoke(access, PUBLIC)).await,
        "UnsupportedTokenTypeException",
    );
    assert_error(
        &api.call("RevokeToken", revoke(refresh, LEGACY)).await,
        "UnsupportedOperationException",
    );
    assert_error(
        &api.call("RevokeToken", revoke(refresh, CONFIDENTIAL)).await,
        "UnauthorizedException",
    );
    let (status, answer) = api.call("RevokeToken", revoke(refresh, PUBLIC)).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let refused = get_user(&api, access).await;
    assert_eq!(refused.1["message"], "Access Token has been revoked");
    // A confidential client sends its secret.
    let theirs = tokens(&api, CONFIDENTIAL, "alice", PASSWORD).await;
    let mut input = revoke(theirs["refresh_token"].as_str().unwrap(), CONFIDENTIAL);
    input["ClientSecret"] = json!(CLIENT_SECRET);
    let (status, answer) = api.call("RevokeToken", input).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_error(
        &get_user(&api, theirs["access_token"].as_str().unwrap()).await,
        "NotAuthorizedException",
    );
}

async fn mfa_preference_needs_an_authenticator(api: Api) {
    let token = access(&api, "alice").await;
    let answer = api
        .call(
            "SetUserMFAPreference",
            json!({"AccessToken": token, "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
        )
        .await;
    assert_error(&answer, "InvalidParameterException");
    let (status, answer) = api
        .call(
            "SetUserMFAPreference",
            json!({"AccessToken": token, "SoftwareTokenMfaSettings": {"Enabled": false}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}
