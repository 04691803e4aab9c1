//! The import jobs' pre-signed URLs, served by this server in S3's stead (docs/api.md,
//! "Import jobs";
//! <https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-using-import-tool-uploading.html>):
//! `PUT /_import/{pool}/{job}` stores the CSV file (any `x-amz-*` or `Content-Type` header is
//! accepted, as S3 would), `GET /_import/{pool}/{job}/log` reads the rejected lines. A URL that
//! has expired or whose signature does not match is S3's `403 AccessDenied`.

use super::AppState;
use crate::flows::import_links::{self, DATE, Denied, EXPIRES, Grant, SIGNATURE};
use crate::flows::user_import::MAX_FILE_BYTES;
use crate::store::{self, import_jobs};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/_import/{pool}/{job}")
            .route(web::put().to(upload))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/_import/{pool}/{job}/log")
            .route(web::get().to(log))
            .default_service(web::to(method_not_allowed)),
    );
}

fn query(req: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

/// S3's error document.
fn s3_error(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    let id = uuid::Uuid::new_v4().simple().to_string();
    HttpResponse::build(status)
        .content_type("application/xml")
        .body(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{id}</RequestId></Error>"
        ))
}

fn denied(why: Denied) -> HttpResponse {
    let message = match why {
        Denied::Expired => "Request has expired",
        Denied::BadSignature => "The request signature does not match, or the job takes no upload.",
    };
    s3_error(
        actix_web::http::StatusCode::FORBIDDEN,
        "AccessDenied",
        message,
    )
}

fn internal(error: store::StoreError) -> HttpResponse {
    tracing::warn!(%error, "import URL request failed");
    s3_error(
        actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
        "InternalError",
        "We encountered an internal error. Please try again.",
    )
}

async fn method_not_allowed() -> HttpResponse {
    s3_error(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
}

/// Whether a PUT may store a file: the URL's signature and expiry, then a job still in
/// `Created` (one short read, before any of the body is read).
async fn upload_allowed(
    state: &AppState,
    pool: &str,
    job: &str,
    query: HashMap<String, String>,
    now: i64,
) -> Result<Result<(), Denied>, store::StoreError> {
    let (pool, job) = (pool.to_owned(), job.to_owned());
    state
        .store
        .run(move |conn| {
            // The signature covers the job's creation time: an unknown job has none to match.
            let Some(found) = import_jobs::get(conn, &pool, &job)? else {
                return Ok(Err(Denied::BadSignature));
            };
            let key = import_links::key(conn, now)?;
            let expires = query.get(EXPIRES).map(String::as_str);
            let given = query.get(SIGNATURE).map(String::as_str);
            let link = (expires, given);
            let grant = Grant::Upload;
            if let Err(why) =
                import_links::check(&key, grant, &pool, &job, found.created_at, link, now)
            {
                return Ok(Err(why));
            }
            // A started job keeps the file it started with.
            if found.status != import_jobs::CREATED {
                return Ok(Err(Denied::BadSignature));
            }
            Ok(Ok(()))
        })
        .await
}

fn too_large() -> HttpResponse {
    s3_error(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size (100 MB).",
    )
}

async fn upload(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    mut body: web::Payload,
) -> HttpResponse {
    let (pool, job) = path.into_inner();
    let now = store::now();
    match upload_allowed(&state, &pool, &job, query(&req), now).await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => return denied(why),
        Err(error) => return internal(error),
    }
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_FILE_BYTES as u64) {
        return too_large();
    }
    // Read as it arrives, with a running limit (a chunked body declares no length) and the
    // digest made on the way.
    let mut data = Vec::with_capacity(declared.unwrap_or(0) as usize);
    let mut digest = Sha256::new();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            return s3_error(
                actix_web::http::StatusCode::BAD_REQUEST,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header.",
            );
        };
        if data.len() + chunk.len() > MAX_FILE_BYTES {
            return too_large();
        }
        digest.update(&chunk);
        data.extend_from_slice(&chunk);
    }
    let digest = digest.finalize();
    let etag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let etag = format!("\"{etag}\"");
    let stored_etag = etag.clone();
    let outcome = state
        .store
        .run(move |conn| import_jobs::upload(conn, &pool, &job, &data, &stored_etag, now))
        .await;
    match outcome {
        Ok(true) => HttpResponse::Ok().insert_header(("ETag", etag)).finish(),
        // Started while the file was arriving.
        Ok(false) => denied(Denied::BadSignature),
        Err(error) => internal(error),
    }
}

async fn log(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    req: HttpRequest,
) -> HttpResponse {
    let (pool, job) = path.into_inner();
    let query = query(&req);
    let now = store::now();
    let outcome = state
        .store
        .run(move |conn| {
            let issued = query.get(DATE).and_then(|d| d.parse::<i64>().ok());
            let (Some(issued), Some(_)) = (issued, import_jobs::get(conn, &pool, &job)?) else {
                return Ok(Err(Denied::BadSignature));
            };
            let key = import_links::key(conn, now)?;
            let expires = query.get(EXPIRES).map(String::as_str);
            let given = query.get(SIGNATURE).map(String::as_str);
            if let Err(why) =
                import_links::check(&key, Grant::Log, &pool, &job, issued, (expires, given), now)
            {
                return Ok(Err(why));
            }
            Ok(Ok(import_jobs::rejections(conn, &job)?))
        })
        .await;
    match outcome {
        Ok(Ok(lines)) => {
            let text: String = lines
                .iter()
                .map(|(line, outcome, message)| {
                    format!("[{outcome}] Line Number {line} - {message}\n")
                })
                .collect();
            HttpResponse::Ok()
                .content_type("text/plain; charset=utf-8")
                .insert_header(("Cache-Control", "no-store"))
                .body(text)
        }
        Ok(Err(why)) => denied(why),
        Err(error) => internal(error),
    }
}
