//! Accounts and sessions: registration, login (or a guest session), who am I, logout,
//! password change.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use glou_core::account::{Perms, Token, name_key};
use glou_proto::native::{PasswordRequest, RegisterRequest, SessionReply, SessionRequest};
use glou_store::Session;

use super::auth::Caller;
use super::error::ApiError;
use super::servers::decode_body;
use super::{App, PeerAddr, json};
use crate::accounts::{perms_of, type_of};

/// `POST /api/v1/accounts`
pub async fn register(
    State(app): State<Arc<App>>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: RegisterRequest = decode_body(body)?;
    let account = app
        .accounts
        .register(
            &req.name,
            &req.password,
            req.email.as_deref(),
            Perms::REGISTERED,
            peer.ip(),
        )
        .await?;
    tracing::info!(name = %account.name, "account registered");
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({
            "name": account.name,
            "created_at": account.created_at.as_millis(),
        }),
    ))
}

/// `POST /api/v1/sessions`
pub async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: SessionRequest = decode_body(body)?;
    let login = match req {
        SessionRequest::Login { name, password } => {
            app.accounts.login(&name, &password, peer.ip()).await
        }
        SessionRequest::Guest { guest } => app.accounts.guest(&guest).await,
    }?;
    Ok(json(
        StatusCode::OK,
        &session_reply(&login.session, Some(&login.token)),
    ))
}

/// `GET /api/v1/sessions/current`
pub async fn current(caller: Caller) -> Response {
    json(StatusCode::OK, &session_reply(&caller.session, None))
}

/// `DELETE /api/v1/sessions/current`
pub async fn logout(State(app): State<Arc<App>>, caller: Caller) -> Result<Response, ApiError> {
    app.accounts.logout(&caller.token).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /api/v1/accounts/{name}/password`: ends every session of the account.
pub async fn password(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let account = own_account(&caller, &name)?;
    let req: PasswordRequest = decode_body(body)?;
    app.accounts
        .change_password(account, &req.old_password, &req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The caller's account if it is the one named, else 403.
pub fn own_account<'c>(
    caller: &'c Caller,
    name: &str,
) -> Result<&'c glou_store::Account, ApiError> {
    let account = caller.account()?;
    if name_key(&account.name) == name_key(name) {
        Ok(account)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_yours",
            "only the player themselves may change this",
        ))
    }
}

fn session_reply(session: &Session, token: Option<&Token>) -> SessionReply {
    SessionReply {
        token: token.map(|t| t.as_str().to_owned()),
        name: session.name.clone(),
        guest: session.account.is_none(),
        player_type: type_of(session).as_str().into(),
        perms: perms_of(session)
            .names()
            .into_iter()
            .map(String::from)
            .collect(),
        expires_at: session.expires_at.as_millis(),
    }
}
