//! Errors of the JSON endpoints. Internal detail is logged, never sent.
//!
//! The error body is RFC 6749 §5.2's.

use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    description: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl ApiError {
    pub fn not_found(description: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            description: description.to_owned(),
        }
    }

    pub fn internal(detail: &str) -> Self {
        tracing::error!("internal error: {detail}");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "server_error",
            description: "the server could not complete the request".to_owned(),
        }
    }

    pub fn unavailable(detail: &str) -> Self {
        tracing::error!("database unavailable: {detail}");
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "temporarily_unavailable",
            description: "the server is temporarily unable to handle the request".to_owned(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::not_found("not found"),
            StoreError::Unavailable(detail) => Self::unavailable(&detail),
            other => Self::internal(&other.to_string()),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status)
            .insert_header(("Cache-Control", "no-store"))
            .json(ErrorBody {
                error: self.code,
                error_description: &self.description,
            })
    }
}
