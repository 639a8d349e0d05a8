//! Friends and blocks of the calling player, with each friend's presence.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use glou_proto::native::{FriendDto, FriendRequest, FriendRequestReply, FriendsReply, RelatedDto};
use glou_store::{FriendRequestOutcome, Related};

use super::auth::Caller;
use super::error::ApiError;
use super::servers::decode_body;
use super::{App, json};

fn related(r: &[Related]) -> Vec<RelatedDto> {
    r.iter()
        .map(|r| RelatedDto {
            name: r.name.clone(),
            since: r.since.as_millis(),
        })
        .collect()
}

/// `GET /api/v1/friends`
pub async fn list(State(app): State<Arc<App>>, caller: Caller) -> Result<Response, ApiError> {
    let me = caller.account()?;
    let list = app.accounts.store.friend_list(me.id).await?;
    let friends = app.hub.read(|reg| {
        list.friends
            .iter()
            .map(|f| FriendDto {
                name: f.name.clone(),
                since: f.since.as_millis(),
                presence: app.hub.presence.of(reg, &f.name),
            })
            .collect()
    });
    Ok(json(
        StatusCode::OK,
        &FriendsReply {
            friends,
            incoming: related(&list.incoming),
            outgoing: related(&list.outgoing),
            blocked: related(&list.blocked),
        },
    ))
}

/// `POST /api/v1/friends/requests`
pub async fn request(
    State(app): State<Arc<App>>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let me = caller.account()?;
    let req: FriendRequest = decode_body(body)?;
    let outcome = app
        .accounts
        .store
        .request_friend(me.id, &req.name, app.accounts.now())
        .await?;
    let status = match outcome {
        FriendRequestOutcome::Requested => "requested",
        FriendRequestOutcome::Befriended => {
            app.friendship_changed(&me.name, &req.name);
            "friends"
        }
    };
    Ok(json(
        StatusCode::CREATED,
        &FriendRequestReply {
            status: status.into(),
        },
    ))
}

/// `POST /api/v1/friends/requests/{name}/accept`
pub async fn accept(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let me = caller.account()?;
    app.accounts
        .store
        .accept_friend(me.id, &name, app.accounts.now())
        .await?;
    app.friendship_changed(&me.name, &name);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v1/friends/requests/{name}/decline`
pub async fn decline(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let me = caller.account()?;
    app.accounts
        .store
        .drop_friend_request(me.id, &name, true)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v1/friends/requests/{name}`: withdraws the caller's request.
pub async fn cancel(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let me = caller.account()?;
    app.accounts
        .store
        .drop_friend_request(me.id, &name, false)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v1/friends/{name}`
pub async fn remove(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let me = caller.account()?;
    app.accounts.store.remove_friend(me.id, &name).await?;
    app.friendship_changed(&me.name, &name);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /api/v1/blocks/{name}`
pub async fn block(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let me = caller.account()?;
    app.accounts
        .store
        .block(me.id, &name, app.accounts.now())
        .await?;
    app.friendship_changed(&me.name, &name);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v1/blocks/{name}`
pub async fn unblock(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let me = caller.account()?;
    if app.accounts.store.unblock(me.id, &name).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_blocked",
            "this player is not blocked",
        ))
    }
}
