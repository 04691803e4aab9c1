//! OAuth 2.0 errors (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1; OIDC Core §3.1.2.6): the code, a
//! description safe to show the client, and an internal detail that is logged, never sent.
//! The HTTP status follows from the code.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    /// `invalid_request` for a body over the size limit: 413 rather than 400.
    RequestTooLarge,
    /// `invalid_client` where the client sent no HTTP Basic credentials: 400.
    InvalidClient,
    /// `invalid_client` after HTTP Basic: 401 with `WWW-Authenticate: Basic` (RFC 6749 §5.2).
    InvalidClientBasic,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    LoginRequired,
    InvalidToken,
    UnsupportedTokenType,
    InsufficientScope,
    /// No such user pool or endpoint (the JSON endpoints outside the protocol's own codes).
    NotFound,
}

impl ErrorCode {
    /// The `error` value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest | Self::RequestTooLarge => "invalid_request",
            Self::InvalidClient | Self::InvalidClientBasic => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::LoginRequired => "login_required",
            Self::InvalidToken => "invalid_token",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::InsufficientScope => "insufficient_scope",
            Self::NotFound => "not_found",
        }
    }

    /// The HTTP status of the JSON answer (RFC 6749 §5.2, RFC 6750 §3.1).
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidClientBasic | Self::InvalidToken => 401,
            Self::InsufficientScope => 403,
            Self::NotFound => 404,
            Self::RequestTooLarge => 413,
            Self::ServerError => 500,
            Self::TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    /// Safe to show the client.
    pub description: String,
    /// What went wrong inside: logged once by the HTTP layer with the request, never sent.
    pub detail: Option<String>,
}

/// The error body of RFC 6749 §5.2. It has no room for the detail.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub error: &'static str,
    pub error_description: &'a str,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            detail: None,
        }
    }

    /// Records what went wrong inside, for the log.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// What the client is sent.
    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            error: self.code.as_str(),
            error_description: &self.description,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    /// `invalid_client` when the client did not authenticate with HTTP Basic.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    /// `invalid_client` when the client tried HTTP Basic.
    pub fn invalid_client_basic(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClientBasic, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidScope, description)
    }

    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, description)
    }

    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidToken, description)
    }

    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, description)
    }

    pub fn server_error() -> Self {
        Self::new(
            ErrorCode::ServerError,
            "the server could not complete the request",
        )
    }

    pub fn temporarily_unavailable(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::TemporarilyUnavailable, description)
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.description)
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_never_carries_the_detail() {
        let error = OAuthError::server_error().with_detail("connection refused at 10.0.0.7:5432");
        let body = serde_json::to_string(&error.body()).unwrap();
        assert_eq!(
            body,
            r#"{"error":"server_error","error_description":"the server could not complete the request"}"#
        );
        assert!(!body.contains("10.0.0.7"), "{body}");
        assert!(!error.to_string().contains("10.0.0.7"));
    }

    #[test]
    fn the_status_follows_from_the_code() {
        let cases = [
            (OAuthError::invalid_client("x"), "invalid_client", 400),
            (OAuthError::invalid_client_basic("x"), "invalid_client", 401),
            (OAuthError::invalid_token("x"), "invalid_token", 401),
            (OAuthError::not_found("x"), "not_found", 404),
            (
                OAuthError::new(ErrorCode::RequestTooLarge, "x"),
                "invalid_request",
                413,
            ),
            (OAuthError::server_error(), "server_error", 500),
            (
                OAuthError::temporarily_unavailable("x"),
                "temporarily_unavailable",
                503,
            ),
        ];
        for (error, code, status) in cases {
            assert_eq!((error.code.as_str(), error.status()), (code, status));
        }
    }
}
