//! Who is calling: the session an `Authorization: Bearer <token>` header opens.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use glou_store::Session;

use super::App;
use super::error::ApiError;

/// A caller with a live session (401 otherwise).
pub struct Caller {
    pub session: Session,
    pub token: String,
}

/// A caller who may or may not have a session; a bad token is still refused.
pub struct MaybeCaller(pub Option<Caller>);

impl Caller {
    /// The caller's account: guests get 403.
    pub fn account(&self) -> Result<&glou_store::Account, ApiError> {
        self.session.account.as_ref().ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "guest",
                "guests have no account: register first",
            )
        })
    }
}

pub(super) fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The caller a token opens, or 401.
pub(super) async fn open(app: &App, token: &str) -> Result<Caller, ApiError> {
    match app.accounts.session(token).await {
        Ok(Some(session)) => Ok(Caller {
            session,
            token: token.to_owned(),
        }),
        Ok(None) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_token",
            "the session token is unknown, revoked or expired",
        )),
        Err(e) => Err(e.into()),
    }
}

impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let token = bearer(parts).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "expected an Authorization: Bearer <session token> header",
            )
        })?;
        open(app, token).await
    }
}

impl FromRequestParts<Arc<App>> for MaybeCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        match bearer(parts) {
            None => Ok(MaybeCaller(None)),
            Some(token) => open(app, token).await.map(|c| MaybeCaller(Some(c))),
        }
    }
}
