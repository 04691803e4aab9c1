//! The front door of Cognito's JSON API (../docs/api.md): `POST /` with
//! `X-Amz-Target: AWSCognitoIdentityProviderService.<Action>`, on the public URL and at the root
//! of a pool's own domain, dispatched before any pool route. It establishes the caller (a
//! public action, or a SigV4 signature by a declared key), runs the action in `api` and writes
//! Cognito's answer: `application/x-amz-json-1.1`, `x-amzn-RequestId`, and errors as
//! `{"__type", "message"}` with `x-amzn-ErrorType`. CORS lets browser SDKs call it.

use super::AppState;
use crate::api::{self, ApiEnv, ApiError, Caller, Ctx, access, sigv4};
use crate::store::now;
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, guard, web};
use serde_json::Value;

/// Bodies the API reads: Cognito's largest input (a UI customization's image, base64) fits.
pub const API_BODY_LIMIT: usize = 256 * 1024;

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Registers `POST /` (for requests that carry `X-Amz-Target`) and its CORS preflight.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/")
            .guard(guard::Any(guard::Options()).or(guard::fn_guard(|ctx| {
                ctx.head().method == actix_web::http::Method::POST
                    && ctx.head().headers().contains_key("x-amz-target")
            })))
            .app_data(web::PayloadConfig::new(API_BODY_LIMIT))
            .route(web::post().to(call))
            .route(web::method(actix_web::http::Method::OPTIONS).to(preflight)),
    );
}

/// Whether a request is an API call (for answers made outside the handler, like 413).
pub fn is_api_call(req: &HttpRequest) -> bool {
    req.path() == "/" && req.headers().contains_key("x-amz-target")
}

fn allow_origin(req: &HttpRequest) -> String {
    req.headers()
        .get("origin")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("*")
        .to_owned()
}

/// The preflight of a browser SDK's call. The public actions carry no cookies, so any origin
/// may call them; the admin actions need a signature no browser page should hold.
async fn preflight(req: HttpRequest) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Access-Control-Allow-Origin", allow_origin(&req)))
        .insert_header(("Access-Control-Allow-Methods", "POST, OPTIONS"))
        .insert_header((
            "Access-Control-Allow-Headers",
            "content-type, x-amz-target, x-amz-user-agent, cache-control, authorization, \
             x-amz-date, x-amz-security-token, x-amz-content-sha256, amz-sdk-invocation-id, \
             amz-sdk-request, x-amz-api-version",
        ))
        .insert_header(("Access-Control-Max-Age", "86400"))
        .insert_header(("Vary", "Origin"))
        .finish()
}

/// The request id Cognito's answers carry.
fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn headers_of(req: &HttpRequest) -> Vec<(String, String)> {
    req.headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

/// The caller of `action`: public, or the declared key whose signature verifies and whose
/// `actions` allow it.
fn caller(
    state: &AppState,
    req: &HttpRequest,
    body: &[u8],
    action: &str,
) -> Result<Caller, ApiError> {
    if access::is_public(action) {
        return Ok(Caller::Public);
    }
    let headers = headers_of(req);
    let signed = sigv4::SignedRequest {
        method: req.method().as_str(),
        path: req.uri().path(),
        query: req.uri().query().unwrap_or(""),
        headers: &headers,
        body,
    };
    let key = sigv4::verify(&signed, &state.settings.api_credentials, now())?;
    if !key.allows_action(action) {
        let resource = format!(
            "arn:aws:cognito-idp:*:{}:userpool/*",
            state.settings.account_id
        );
        return Err(key.denied(action, &resource));
    }
    Ok(Caller::Signed(key))
}

/// The JSON input: an empty body is `{}`; anything but a JSON object is a
/// `SerializationException`.
fn parse_input(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(ApiError::new(
            api::error::SERIALIZATION,
            "Unable to parse the request body as a JSON object.",
        )),
    }
}

pub async fn call(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let id = request_id();
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let action = match api::action_of_target(target) {
        Some(action) if api::actions::exists(action) => action.to_owned(),
        _ => return error(&req, &id, "", &api::unknown_operation()),
    };
    let prepared = caller(&state, &req, &body, &action).and_then(|c| Ok((c, parse_input(&body)?)));
    let (caller, input) = match prepared {
        Ok(prepared) => prepared,
        Err(e) => return error(&req, &id, &action, &e),
    };
    if let Caller::Signed(key) = &caller {
        req.extensions_mut()
            .insert(super::LoggedClient(key.access_key_id.clone()));
    }
    let services = state.services.clone();
    let env = ApiEnv {
        public_url: state.settings.public_url.clone(),
        account_id: state.settings.account_id.clone(),
    };
    let name = action.clone();
    let outcome = state
        .store
        .run_leased(move |db| {
            let mut ctx = Ctx {
                db,
                services: &services,
                env: &env,
                action: &name,
                caller: &caller,
                now: now(),
            };
            api::handle(&mut ctx, input)
        })
        .await
        .unwrap_or_else(|e| Err(e.into()));
    match outcome {
        Ok(output) => HttpResponse::Ok()
            .content_type(CONTENT_TYPE)
            .insert_header(("x-amzn-RequestId", id))
            .insert_header(("Access-Control-Allow-Origin", allow_origin(&req)))
            .insert_header((
                "Access-Control-Expose-Headers",
                "x-amzn-RequestId, x-amzn-ErrorType",
            ))
            .insert_header(("Cache-Control", "no-store"))
            .body(output.to_string()),
        Err(e) => error(&req, &id, &action, &e),
    }
}

/// Cognito's error answer; a server fault's detail goes to the log, never to the caller.
pub fn error(req: &HttpRequest, id: &str, action: &str, e: &ApiError) -> HttpResponse {
    if let Some(detail) = &e.detail {
        if e.status() >= 500 {
            tracing::error!(action, code = e.code, %detail, "API call failed");
        } else {
            tracing::info!(action, code = e.code, %detail, "API call refused");
        }
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut body = serde_json::Map::new();
    body.insert("__type".into(), e.code.into());
    if !e.message.is_empty() {
        body.insert("message".into(), e.message.clone().into());
    }
    HttpResponse::build(status)
        .content_type(CONTENT_TYPE)
        .insert_header(("x-amzn-RequestId", id.to_owned()))
        .insert_header(("x-amzn-ErrorType", format!("{}:", e.code)))
        .insert_header(("Access-Control-Allow-Origin", allow_origin(req)))
        .insert_header((
            "Access-Control-Expose-Headers",
            "x-amzn-RequestId, x-amzn-ErrorType",
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(Value::Object(body).to_string())
}

/// 413 for an API call: Cognito's shape rather than OAuth's.
pub fn too_large(req: &HttpRequest) -> HttpResponse {
    let e = ApiError::new(
        api::error::SERIALIZATION,
        format!(
            "The request body is larger than {} KiB.",
            API_BODY_LIMIT / 1024
        ),
    );
    let mut response = error(req, &request_id(), "", &e);
    *response.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
    response
}
