//! Cognito's error answers: `{"__type": "<Code>", "message": "…"}` with the code again in the
//! `x-amzn-ErrorType` header (../docs/api.md, "Errors"; the wire format of
//! <https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/CommonErrors.html>).

use crate::oauth::{ErrorCode, OAuthError};
use crate::store::StoreError;

pub const INVALID_PARAMETER: &str = "InvalidParameterException";
pub const NOT_AUTHORIZED: &str = "NotAuthorizedException";
pub const RESOURCE_NOT_FOUND: &str = "ResourceNotFoundException";
pub const USER_NOT_FOUND: &str = "UserNotFoundException";
pub const INTERNAL_ERROR: &str = "InternalErrorException";
pub const TOO_MANY_REQUESTS: &str = "TooManyRequestsException";
pub const UNKNOWN_OPERATION: &str = "UnknownOperationException";
pub const SERIALIZATION: &str = "SerializationException";

/// One failed API call: Cognito's exception name, a message safe to show, and (for server
/// faults) a detail that is logged but never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: &'static str,
    pub message: String,
    pub detail: Option<String>,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: None,
        }
    }

    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMETER, message)
    }

    pub fn not_authorized(message: impl Into<String>) -> Self {
        Self::new(NOT_AUTHORIZED, message)
    }

    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(RESOURCE_NOT_FOUND, message)
    }

    /// Cognito's wording for a user the pool does not have.
    pub fn user_not_found() -> Self {
        Self::new(USER_NOT_FOUND, "User does not exist.")
    }

    /// A server fault: the caller sees a generic message, the log gets `detail`.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self {
            code: INTERNAL_ERROR,
            message: "An internal error occurred.".into(),
            detail: Some(detail.to_string()),
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// 500 only for the server's own faults (`fault: true` in the service model); every
    /// caller mistake and every refusal is a 400.
    pub fn status(&self) -> u16 {
        match self.code {
            INTERNAL_ERROR => 500,
            "ServiceUnavailableException" => 503,
            _ => 400,
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_busy() || matches!(error, StoreError::Unavailable(_)) {
            return Self::new(TOO_MANY_REQUESTS, "Rate exceeded").with_detail(error.to_string());
        }
        Self::internal(error)
    }
}

/// Flows shared with the OAuth endpoints answer in OAuth's terms; the API reads them back as
/// Cognito's exceptions.
impl From<OAuthError> for ApiError {
    fn from(error: OAuthError) -> Self {
        let code = match error.code {
            ErrorCode::ServerError => {
                return Self::internal(error.detail.unwrap_or(error.description));
            }
            ErrorCode::TemporarilyUnavailable => TOO_MANY_REQUESTS,
            ErrorCode::InvalidRequest | ErrorCode::InvalidScope => INVALID_PARAMETER,
            _ => NOT_AUTHORIZED,
        };
        Self {
            code,
            message: error.description,
            detail: error.detail,
        }
    }
}

/// A hook's failure as Cognito reports a Lambda trigger's (docs/triggers.md, "Errors").
impl From<crate::hooks::HookError> for ApiError {
    fn from(error: crate::hooks::HookError) -> Self {
        Self::new(error.code(), error.message()).with_detail(error.to_string())
    }
}

/// A token grant's failure: its OAuth refusal or its pre token generation hook's.
impl From<crate::flows::pre_token::TokenError> for ApiError {
    fn from(error: crate::flows::pre_token::TokenError) -> Self {
        match error {
            crate::flows::pre_token::TokenError::OAuth(e) => e.into(),
            crate::flows::pre_token::TokenError::Hook(e) => e.into(),
        }
    }
}
