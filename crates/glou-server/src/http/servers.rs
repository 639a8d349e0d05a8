//! The listing routes: announce, heartbeat, withdraw, query, one server, games, and
//! the change feed.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use glou_core::{AnnounceError, EntryId, SecretDigest, Source};
use glou_proto::native::{
    self, AnnounceReply, AnnounceRequest, ChangeDto, ChangesReply, GameDto, GamesReply,
    ServerQuery, UpdateRequest, servers_reply_json,
};
use rand::Rng;
use sha2::{Digest, Sha256};

use super::admission::Admission;
use super::convert::{self, server_dto};
use super::error::ApiError;
use super::{App, PeerAddr, json, json_bytes};
use crate::metrics::ReasonLabels;

type Pairs = Vec<(String, String)>;

/// `POST /api/v1/servers`
pub async fn announce(
    State(app): State<Arc<App>>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    app.check_writable()?;
    let req: AnnounceRequest = decode_body(body)?;
    let admission = Admission {
        trusted: &app.trusted,
        allow_private: app.allow_private,
    };
    let admitted = admission
        .admit(req.address.as_deref(), req.port, peer.ip())
        .inspect_err(|e| refused(&app, e.code))?;
    let listing = convert::listing(req, admitted.address);
    let secret = format!("{:032x}", rand::rng().random::<u128>());
    let digest = digest(&secret);
    let now = app.hub.now();
    let mut attempt = 0;
    let announced = loop {
        let id = EntryId(rand::rng().random());
        let result = app.hub.mutate(|reg| {
            reg.announce(
                listing.clone(),
                Source::Native,
                admitted.owner,
                id,
                Some(digest),
                now,
            )
        });
        match result {
            Err(AnnounceError::IdTaken) if attempt < 3 => attempt += 1,
            other => break other,
        }
    };
    let announced = announced
        .map_err(ApiError::from)
        .inspect_err(|e| refused(&app, e.code))?;
    saved(&app).await?;
    let status = if announced.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let reply = AnnounceReply {
        server: server_dto(&announced.entry),
        secret,
        heartbeat_interval: app.heartbeat_interval.as_secs(),
    };
    Ok(json(status, &reply))
}

/// `PUT /api/v1/servers/{id}`: a heartbeat, with the fields that changed.
pub async fn update(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    app.check_writable()?;
    let id = parse_id(&id)?;
    let secret = bearer(&headers)?;
    let req: UpdateRequest = match body {
        Ok(b) if b.iter().all(u8::is_ascii_whitespace) => UpdateRequest::default(),
        other => decode_body(other)?,
    };
    let now = app.hub.now();
    let (before, entry) = app.hub.mutate(|reg| {
        let before = reg.get(id).map(|e| e.revision);
        reg.update(id, &secret, convert::patch(req), now)
            .map(|entry| (before, entry))
    })?;
    // A heartbeat that changed something answers once it is saved; a plain one only
    // extends the lease, which the next heartbeat extends again, and does not wait.
    if before != Some(entry.revision) {
        saved(&app).await?;
    }
    Ok(json_bytes(
        StatusCode::OK,
        app.hub.render.json(&entry).as_bytes().to_vec(),
    ))
}

/// `DELETE /api/v1/servers/{id}`
pub async fn withdraw(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    app.check_writable()?;
    let id = parse_id(&id)?;
    let secret = bearer(&headers)?;
    app.hub.mutate(|reg| reg.withdraw(id, &secret))?;
    saved(&app).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How long a change may wait for the store before the request fails.
const SAVE_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Answers only once the change is in the store: an acknowledged announcement
/// survives a crash. A store that does not take it in time is a 503; the change
/// stays in the listing and is written when the store is back.
async fn saved(app: &App) -> Result<(), ApiError> {
    if app.hub.saved(SAVE_LIMIT).await {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_error",
            "the change is listed but not yet saved: the store is not answering",
        ))
    }
}

/// `GET /api/v1/servers`
pub async fn list(
    State(app): State<Arc<App>>,
    pairs: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = ServerQuery::from_pairs(query_pairs(pairs)?)?;
    let query = convert::query(q, 100, app.api.max_page)?;
    let (page, seq) = app.hub.read(|reg| (reg.query(&query), reg.seq()));
    let rendered = app.hub.render.many(&page.entries);
    let next = page.next.as_ref().map(convert::encode_cursor);
    let body = servers_reply_json(rendered.iter().map(|s| &**s), next.as_deref(), seq);
    Ok(json_bytes(StatusCode::OK, body))
}

/// `GET /api/v1/servers/{id}`
pub async fn get_one(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let entry = app
        .hub
        .read(|reg| reg.get(id).cloned())
        .ok_or_else(ApiError::not_found)?;
    Ok(json_bytes(
        StatusCode::OK,
        app.hub.render.json(&entry).as_bytes().to_vec(),
    ))
}

/// `GET /api/v1/games`
pub async fn games(State(app): State<Arc<App>>) -> Response {
    let games = app.hub.read(|reg| reg.games());
    let games = games
        .into_iter()
        .map(|g| {
            let presentation = app.catalog.get(&g.game);
            GameDto {
                name: presentation.map(|p| p.name.clone()),
                connect_url: presentation.and_then(|p| p.connect_url.clone()),
                game: g.game,
                servers: g.servers,
                players: g.players,
                bots: g.bots,
            }
        })
        .collect();
    json(StatusCode::OK, &GamesReply { games })
}

/// `GET /api/v1/servers/changes?since=SEQ`: what changed after `since`, seen
/// through the query's filter.
pub async fn changes(
    State(app): State<Arc<App>>,
    pairs: Result<Query<Pairs>, QueryRejection>,
) -> Result<Response, ApiError> {
    let q = ServerQuery::from_pairs(query_pairs(pairs)?)?;
    let since = q
        .since
        .ok_or_else(|| ApiError::bad_request("invalid_query", "since: required"))?;
    let query = convert::query(q, 1000, app.api.max_page)?;
    let limit = query.limit;
    let (events, latest) = app
        .hub
        .read(|reg| (reg.changes_since(since, limit), reg.seq()));
    let events =
        events.map_err(|e| ApiError::new(StatusCode::GONE, "since_too_old", e.to_string()))?;
    let complete = events.len() < limit;
    let seq = if complete {
        latest
    } else {
        events.last().map_or(since, |e| e.seq)
    };
    let changes = events
        .iter()
        .filter_map(|e| {
            let kind = e.seen_through(|x| query.filter.matches(x))?;
            Some(ChangeDto {
                kind: kind.as_str().into(),
                server: server_dto(e.entry()),
                seq: e.seq,
            })
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &ChangesReply {
            changes,
            seq,
            complete,
        },
    ))
}

fn refused(app: &App, reason: &'static str) {
    app.hub
        .metrics
        .announcements_refused
        .get_or_create(&ReasonLabels { reason })
        .inc();
}

pub(crate) fn decode_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(|e| ApiError::new(e.status(), "body_rejected", e.body_text()))?;
    native::decode(&body).map_err(|e| ApiError::bad_request("invalid_body", e.to_string()))
}

fn query_pairs(pairs: Result<Query<Pairs>, QueryRejection>) -> Result<Pairs, ApiError> {
    pairs
        .map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
}

fn parse_id(id: &str) -> Result<EntryId, ApiError> {
    if id.len() != 16 {
        return Err(ApiError::not_found());
    }
    id.parse().map_err(|_| ApiError::not_found())
}

/// The digest of the `Authorization: Bearer` secret.
fn bearer(headers: &HeaderMap) -> Result<SecretDigest, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match value.and_then(|v| v.strip_prefix("Bearer ")) {
        Some(secret) => Ok(digest(secret.trim())),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_secret",
            "expected the header Authorization: Bearer <secret>",
        )),
    }
}

fn digest(secret: &str) -> SecretDigest {
    SecretDigest(Sha256::digest(secret.as_bytes()).into())
}
