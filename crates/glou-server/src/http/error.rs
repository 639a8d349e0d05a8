//! Errors of the native API, each with its HTTP status and stable code, rendered as
//! `{"error": {"code", "message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use glou_core::{AnnounceError, UpdateError};
use glou_proto::native::ErrorBody;
use glou_store::{Refusal, StoreError};

use crate::accounts::AccountError;

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

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Refused(r) => r.into(),
            e => {
                tracing::error!(error = %e, "the store failed");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_error",
                    "the database is unavailable; try again",
                )
            }
        }
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        let status = match r {
            Refusal::NameTaken | Refusal::AlreadyFriends | Refusal::AlreadyRequested => {
                StatusCode::CONFLICT
            }
            Refusal::UnknownPlayer(_)
            | Refusal::NoAccount
            | Refusal::NoRequest
            | Refusal::NotFriends => StatusCode::NOT_FOUND,
            Refusal::Blocked => StatusCode::FORBIDDEN,
            Refusal::SelfRelation | Refusal::DuplicatePlayer(_) | Refusal::EmptyReport => {
                StatusCode::BAD_REQUEST
            }
        };
        Self::new(status, r.code(), r.to_string())
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        let status = match &e {
            AccountError::Name(_) | AccountError::Field(_) => StatusCode::BAD_REQUEST,
            AccountError::BadCredentials => StatusCode::UNAUTHORIZED,
            AccountError::Banned(_) => StatusCode::FORBIDDEN,
            AccountError::TooManyAttempts | AccountError::TooManyRegistrations => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AccountError::Registered | AccountError::NameInUse => StatusCode::CONFLICT,
            AccountError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        match e {
            AccountError::Store(e) => e.into(),
            e => Self::new(status, e.code(), e.to_string()),
        }
    }
}

impl From<glou_proto::native::QueryError> for ApiError {
    fn from(e: glou_proto::native::QueryError) -> Self {
        Self::bad_request("invalid_query", e.to_string())
    }
}
