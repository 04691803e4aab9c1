//! `OAuthError` at the HTTP layer: the answer of every JSON endpoint (RFC 6749 §5.2's body,
//! status from the code), and the one place an error's internal detail is logged.
//!
//! The detail travels in the response's extensions to `log_request` (src/http/mod.rs), which
//! logs it once with the request's method, path and pool.

use super::respond;
use crate::oauth::OAuthError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

/// An error's internal detail, carried by the response that answered it.
#[derive(Debug, Clone)]
pub struct ErrorDetail {
    pub code: &'static str,
    pub detail: String,
}

/// Hands the error's detail, if any, to the request log.
pub fn attach_detail(response: &mut HttpResponse, error: &OAuthError) {
    if let Some(detail) = &error.detail {
        response.extensions_mut().insert(ErrorDetail {
            code: error.code.as_str(),
            detail: detail.clone(),
        });
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        respond::oauth_error(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn the_response_keeps_the_detail_out_of_the_body() {
        let error = OAuthError::server_error().with_detail("disk I/O error at /var/lib/db");
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let logged = response.extensions().get::<ErrorDetail>().cloned();
        assert_eq!(
            logged.map(|d| d.detail).as_deref(),
            Some("disk I/O error at /var/lib/db")
        );
        let body = response.into_body().try_into_bytes().unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("server_error"), "{body}");
        assert!(!body.contains("/var/lib/db"), "{body}");
    }
}
