//! Errors of the native API, each with its HTTP status and stable code, rendered as
//! `{"error": {"code", "message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use glou_core::{AnnounceError, UpdateError};
use glou_proto::native::ErrorBody;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such server")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(ErrorBody::new(self.code, self.message)),
        )
            .into_response()
    }
}

impl From<AnnounceError> for ApiError {
    fn from(e: AnnounceError) -> Self {
        let message = e.to_string();
        match e {
            AnnounceError::Invalid(_) => Self::bad_request("invalid_field", message),
            AnnounceError::Full(_) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "registry_full", message)
            }
            AnnounceError::TooManyForOwner(_) => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_servers", message)
            }
            AnnounceError::IdTaken => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "try_again", message)
            }
        }
    }
}

impl From<UpdateError> for ApiError {
    fn from(e: UpdateError) -> Self {
        let message = e.to_string();
        match e {
            UpdateError::NotFound => Self::not_found(),
            UpdateError::Forbidden => Self::new(StatusCode::FORBIDDEN, "wrong_secret", message),
            UpdateError::Invalid(_) => Self::bad_request("invalid_field", message),
        }
    }
}

impl From<glou_proto::native::QueryError> for ApiError {
    fn from(e: glou_proto::native::QueryError) -> Self {
        Self::bad_request("invalid_query", e.to_string())
    }
}
