//! Players and games: profiles, avatars, statistics with ranks, match history,
//! rankings, and match reports from trusted reporters.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use glou_core::account::{Perm, PlayerType, check_bio, check_email, check_real_name, name_key};
use glou_core::rating::Outcome;
use glou_proto::native::{
    MatchDto, MatchRequest, MatchesReply, ProfileReply, ProfileUpdate, RankedDto, RankingsReply,
    SeatDto, StatsDto,
};
use glou_store::{
    Account, AccountUpdate, MatchPlayer, MatchRecord, MatchReport, PlayerKind, RankModel, Refusal,
    StatsModel,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::accounts::own_account;
use super::auth::{Caller, MaybeCaller};
use super::error::ApiError;
use super::servers::decode_body;
use super::{App, json};
use crate::avatar::{self, AvatarLimits};

/// `?offset=&limit=&before=` of the paged lists.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    offset: Option<u32>,
    limit: Option<u32>,
    before: Option<i64>,
}

fn paging(
    q: Result<Query<Paging>, QueryRejection>,
    max: u32,
) -> Result<(u32, u32, Option<i64>), ApiError> {
    let Query(p) = q.map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
    Ok((
        p.offset.unwrap_or(0),
        p.limit.unwrap_or(50).clamp(1, max),
        p.before,
    ))
}

async fn account_named(app: &App, name: &str) -> Result<Account, ApiError> {
    app.accounts
        .store
        .account(name)
        .await?
        .ok_or_else(|| Refusal::UnknownPlayer(name.to_owned()).into())
}

fn model_of(app: &App, game: &str) -> Result<StatsModel, ApiError> {
    app.games.get(game).copied().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_game",
            format!("no game named {game:?} keeps statistics here"),
        )
    })
}

/// `GET /api/v1/players/{name}`
pub async fn profile(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    MaybeCaller(caller): MaybeCaller,
) -> Result<Response, ApiError> {
    let account = account_named(&app, &name).await?;
    let viewer = caller.as_ref().map(|c| name_key(&c.session.name));
    let own = viewer.as_deref() == Some(name_key(&account.name).as_str());
    let friend = match (&caller, own) {
        (Some(c), false) => match &c.session.account {
            Some(me) => app
                .accounts
                .store
                .friend_list(me.id)
                .await?
                .friends
                .iter()
                .any(|f| name_key(&f.name) == name_key(&account.name)),
            None => false,
        },
        _ => false,
    };
    let mut stats = Vec::new();
    for s in app.accounts.store.player_stats(&account.name).await? {
        let rank = match app.games.get(&s.game).and_then(|m| m.rank_model()) {
            Some(model) => {
                app.accounts
                    .store
                    .rank(&account.name, &s.game, model)
                    .await?
            }
            None => None,
        };
        stats.push(StatsDto {
            game: s.game,
            wins: s.wins,
            losses: s.losses,
            ties: s.ties,
            forfeits: s.forfeits,
            rating: s.rating,
            highscore: s.highscore,
            matches: s.matches,
            rank,
        });
    }
    let presence =
        (own || friend).then(|| app.hub.read(|reg| app.hub.presence.of(reg, &account.name)));
    Ok(json(
        StatusCode::OK,
        &ProfileReply {
            name: account.name.clone(),
            player_type: PlayerType::of(account.perms, false).as_str().into(),
            real_name: account.real_name.clone(),
            bio: account.bio.clone(),
            avatar: account.avatar.as_ref().map(|_| avatar_url(&account.name)),
            created_at: account.created_at.as_millis(),
            email: if own { account.email.clone() } else { None },
            stats,
            presence,
        },
    ))
}

fn avatar_url(name: &str) -> String {
    let mut url = String::from("/api/v1/players/");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            url.push(char::from(b));
        } else {
            url.push_str(&format!("%{b:02X}"));
        }
    }
    url.push_str("/avatar");
    url
}

/// `PATCH /api/v1/players/{name}`
pub async fn update_profile(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let account = own_account(&caller, &name)?;
    let req: ProfileUpdate = decode_body(body)?;
    let bad = |e: glou_core::account::FieldError| ApiError::bad_request(e.code(), e.to_string());
    if let Some(Some(email)) = &req.email {
        check_email(email).map_err(bad)?;
    }
    if let Some(real_name) = &req.real_name {
        check_real_name(real_name).map_err(bad)?;
    }
    if let Some(bio) = &req.bio {
        check_bio(bio).map_err(bad)?;
    }
    app.accounts
        .store
        .update_account(
            account.id,
            &AccountUpdate {
                email: req.email,
                real_name: req.real_name,
                bio: req.bio,
            },
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /api/v1/players/{name}/avatar`: the body is a PNG, JPEG, WebP or GIF image,
/// stored re-encoded as a PNG of at most 256×256.
pub async fn put_avatar(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let account = own_account(&caller, &name)?;
    let body = body.map_err(|e| ApiError::new(e.status(), "body_rejected", e.body_text()))?;
    let limits = AvatarLimits {
        max_upload_bytes: app.accounts.config().avatar_max_bytes,
        ..AvatarLimits::default()
    };
    let normalized = tokio::task::spawn_blocking(move || avatar::normalize(&body, &limits))
        .await
        .map_err(|_| ApiError::bad_request("unreadable_image", "the image could not be decoded"))?
        .map_err(|e| {
            let status = match e {
                avatar::AvatarError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            ApiError::new(status, e.code(), e.to_string())
        })?;
    let digest = Sha256::digest(&normalized.png);
    let etag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    app.accounts
        .store
        .set_avatar(account.id, &normalized.png, &etag, app.accounts.now())
        .await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "avatar": avatar_url(&account.name),
            "width": normalized.width,
            "height": normalized.height,
        }),
    ))
}

/// `DELETE /api/v1/players/{name}/avatar`
pub async fn delete_avatar(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let account = own_account(&caller, &name)?;
    if app.accounts.store.delete_avatar(account.id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_avatar",
            "the player has no avatar",
        ))
    }
}

/// `GET /api/v1/players/{name}/avatar`: the PNG, with an entity tag.
pub async fn get_avatar(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (png, etag) = app.accounts.store.avatar(&name).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_avatar",
            "the player has no avatar",
        )
    })?;
    let etag = format!("\"{etag}\"");
    let cache = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "public, max-age=300".to_string()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        StatusCode::OK,
        cache,
        [(header::CONTENT_TYPE, "image/png".to_string())],
        png,
    )
        .into_response())
}

/// `GET /api/v1/players/{name}/matches?before=ID&limit=N`
pub async fn matches(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    q: Result<Query<Paging>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (_, limit, before) = paging(q, 100)?;
    let account = account_named(&app, &name).await?;
    let matches = app
        .accounts
        .store
        .matches_of(&account.name, before, limit)
        .await?;
    Ok(json(
        StatusCode::OK,
        &MatchesReply {
            matches: matches.iter().map(match_dto).collect(),
        },
    ))
}

/// `GET /api/v1/games/{game}/rankings?offset=N&limit=N`
pub async fn rankings(
    State(app): State<Arc<App>>,
    Path(game): Path<String>,
    q: Result<Query<Paging>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (offset, limit, _) = paging(q, 500)?;
    let model = model_of(&app, &game)?
        .rank_model()
        .unwrap_or(RankModel::Rating);
    let rows = app
        .accounts
        .store
        .rankings(&game, model, offset, limit)
        .await?;
    Ok(json(
        StatusCode::OK,
        &RankingsReply {
            game,
            model: model.as_str().into(),
            rankings: rows
                .into_iter()
                .map(|r| RankedDto {
                    rank: r.rank,
                    name: r.stats.player,
                    wins: r.stats.wins,
                    losses: r.stats.losses,
                    ties: r.stats.ties,
                    forfeits: r.stats.forfeits,
                    rating: r.stats.rating,
                    highscore: r.stats.highscore,
                    matches: r.stats.matches,
                })
                .collect(),
        },
    ))
}

/// Most seats in one reported match (rating costs grow with the square).
const MAX_SEATS: usize = 64;

/// `POST /api/v1/games/{game}/matches`: for players with `report_results` or admins.
pub async fn report(
    State(app): State<Arc<App>>,
    Path(game): Path<String>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let account = caller.account()?;
    if !(account.perms.has(Perm::ReportResults)
        || PlayerType::of(account.perms, false) == PlayerType::Admin)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "no_permission",
            "reporting results needs the report_results permission",
        ));
    }
    let model = model_of(&app, &game)?;
    let req: MatchRequest = decode_body(body)?;
    if req.players.len() > MAX_SEATS {
        return Err(ApiError::bad_request(
            "too_many_players",
            format!("at most {MAX_SEATS} players a match"),
        ));
    }
    let mut players = Vec::with_capacity(req.players.len());
    for p in req.players {
        let outcome: Outcome = p.result.parse().map_err(|()| {
            ApiError::bad_request(
                "invalid_field",
                format!(
                    "result: expected win, loss, tie, forfeit or none; got {:?}",
                    p.result
                ),
            )
        })?;
        let kind = match p.kind.as_deref() {
            None | Some("registered") => PlayerKind::Registered,
            Some("guest") => PlayerKind::Guest,
            Some("bot") => PlayerKind::Bot,
            Some(other) => {
                return Err(ApiError::bad_request(
                    "invalid_field",
                    format!("kind: expected registered, guest or bot; got {other:?}"),
                ));
            }
        };
        if p.name.chars().count() > glou_core::account::MAX_NAME_CHARS
            || p.name.is_empty() && kind != PlayerKind::Bot
        {
            return Err(ApiError::bad_request(
                "invalid_field",
                format!("name: expected 1 to 16 characters, got {:?}", p.name),
            ));
        }
        if p.team.is_some_and(|t| t > 1_000) {
            return Err(ApiError::bad_request(
                "invalid_field",
                "team: expected at most 1000",
            ));
        }
        players.push(MatchPlayer {
            name: p.name,
            kind,
            team: p.team,
            outcome,
            score: p.score,
        });
    }
    let record = app
        .accounts
        .store
        .report_match(&MatchReport { game, players }, model, app.accounts.now())
        .await?;
    Ok(json(StatusCode::CREATED, &match_dto(&record)))
}

fn match_dto(m: &MatchRecord) -> MatchDto {
    MatchDto {
        id: m.id,
        game: m.game.clone(),
        played_at: m.played_at.as_millis(),
        winner: m.winner.clone(),
        players: m
            .players
            .iter()
            .map(|s| SeatDto {
                seat: s.seat,
                name: s.player.name.clone(),
                kind: s.player.kind.as_str().into(),
                team: s.player.team,
                result: s.player.outcome.as_str().into(),
                score: s.player.score,
                rating_before: s.rating_before,
                rating_after: s.rating_after,
            })
            .collect(),
    }
}
