//! Translation between the core's types and the native DTOs: entries to JSON, queries
//! to core queries, cursors to opaque tokens.

use std::borrow::Cow;
use std::time::{Duration, UNIX_EPOCH};

use glou_core::{
    Cursor, Entry, EntryId, Filter, Listing, ListingPatch, Player, Query, Sort, Timestamp,
};
use glou_proto::native::{
    AnnounceRequest, PlayerDto, Rules, ServerDto, ServerQuery, UpdateRequest,
};

use super::error::ApiError;

pub fn rfc3339(t: Timestamp) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(t.as_millis())).to_string()
}

/// The DTO of an entry, borrowing its strings.
pub fn server_dto(e: &Entry) -> ServerDto<'_> {
    let l = &e.listing;
    ServerDto {
        id: Cow::Owned(e.id.to_string()),
        game: Cow::Borrowed(&l.game),
        kind: Cow::Borrowed(&l.kind),
        address: Cow::Borrowed(&l.address),
        name: Cow::Borrowed(&l.name),
        map: Cow::Borrowed(&l.map),
        players: l.players,
        max_players: l.max_players,
        bots: l.bots,
        password: l.password,
        version: Cow::Borrowed(&l.version),
        protocol: Cow::Borrowed(&l.protocol),
        rules: Rules(
            l.rules
                .iter()
                .map(|(k, v)| (Cow::Borrowed(k.as_str()), Cow::Borrowed(v.as_str())))
                .collect(),
        ),
        player_list: l
            .player_list
            .iter()
            .map(|p| PlayerDto {
                name: Cow::Borrowed(&p.name),
                score: p.score,
                ping: p.ping,
            })
            .collect(),
        source: Cow::Borrowed(e.source.as_str()),
        first_seen: Cow::Owned(rfc3339(e.first_seen)),
        last_seen: Cow::Owned(rfc3339(e.last_seen)),
        expires_at: e.expires_at.map(|t| Cow::Owned(rfc3339(t))),
        origin: e.origin.as_deref().map(Cow::Borrowed),
    }
}

pub fn server_json(e: &Entry) -> String {
    serde_json::to_string(&server_dto(e)).expect("a server entry encodes")
}

fn players(list: Vec<PlayerDto<'_>>) -> Vec<Player> {
    list.into_iter()
        .map(|p| Player {
            name: p.name.into_owned(),
            score: p.score,
            ping: p.ping,
        })
        .collect()
}

/// A listing as the native API announces it, with its address: what crosses a
/// federation link or the cluster.
pub fn announce_request(l: &Listing) -> AnnounceRequest {
    AnnounceRequest {
        game: l.game.clone(),
        kind: Some(l.kind.clone()),
        address: Some(l.address.clone()),
        port: None,
        name: l.name.clone(),
        map: l.map.clone(),
        players: l.players,
        max_players: l.max_players,
        bots: l.bots,
        password: l.password,
        version: l.version.clone(),
        protocol: l.protocol.clone(),
        rules: l.rules.iter().cloned().collect(),
        player_list: l
            .player_list
            .iter()
            .map(|p| PlayerDto {
                name: p.name.clone().into(),
                score: p.score,
                ping: p.ping,
            })
            .collect(),
    }
}

/// The listing of an announcement, at an address already checked.
pub fn listing(req: AnnounceRequest, address: String) -> Listing {
    Listing {
        game: req.game,
        kind: req.kind.unwrap_or_else(|| "server".into()),
        address,
        name: req.name,
        map: req.map,
        players: req.players,
        max_players: req.max_players,
        bots: req.bots,
        password: req.password,
        version: req.version,
        protocol: req.protocol,
        rules: req.rules.into_iter().collect(),
        player_list: players(req.player_list),
    }
}

pub fn patch(req: UpdateRequest) -> ListingPatch {
    ListingPatch {
        kind: req.kind,
        name: req.name,
        map: req.map,
        players: req.players,
        max_players: req.max_players,
        bots: req.bots,
        password: req.password,
        version: req.version,
        protocol: req.protocol,
        rules: req.rules.map(|r| r.into_iter().collect()),
        player_list: req.player_list.map(players),
    }
}

/// A core query from the wire query, with the page size bounded by `max_limit`.
pub fn query(q: ServerQuery, default_limit: usize, max_limit: usize) -> Result<Query, ApiError> {
    let sort = match q.sort.as_deref() {
        None | Some("players") => Sort::Players,
        Some("name") => Sort::Name,
        Some(other) => {
            return Err(bad_query(format!(
                "sort: expected players or name, got {other:?}"
            )));
        }
    };
    let limit = q.limit.unwrap_or(default_limit);
    if limit > max_limit {
        return Err(bad_query(format!(
            "limit: at most {max_limit}, got {limit}"
        )));
    }
    let source = match q.source.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse()
                .map_err(|()| bad_query(format!("source: unknown source {s:?}")))?,
        ),
    };
    let filter = Filter {
        games: q.games,
        kind: q.kind,
        text: q.text,
        map: q.map,
        not_empty: q.not_empty,
        not_full: q.not_full,
        no_password: q.no_password,
        version: q.version,
        rules: q.rules,
        player: q.player,
        source,
    };
    let mut query = Query::new(filter, sort, limit);
    match q.order.as_deref() {
        None => {}
        Some("asc") => query.descending = false,
        Some("desc") => query.descending = true,
        Some(other) => {
            return Err(bad_query(format!(
                "order: expected asc or desc, got {other:?}"
            )));
        }
    }
    if let Some(token) = q.cursor {
        let cursor = decode_cursor(&token)
            .ok_or_else(|| bad_query("cursor: not a cursor from this server"))?;
        let matches_sort = matches!(
            (&cursor, sort),
            (Cursor::Players(..), Sort::Players) | (Cursor::Name(..), Sort::Name)
        );
        if !matches_sort {
            return Err(bad_query("cursor: it belongs to a list in another order"));
        }
        query.after = Some(cursor);
    }
    Ok(query)
}

fn bad_query(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("invalid_query", message)
}

/// `p<players>.<id>` or `n<id>.<hex of the name key>`: opaque to clients, URL-safe.
pub fn encode_cursor(c: &Cursor) -> String {
    match c {
        Cursor::Players(p, id) => format!("p{p}.{id}"),
        Cursor::Name(name, id) => {
            let hex: String = name.bytes().map(|b| format!("{b:02x}")).collect();
            format!("n{id}.{hex}")
        }
    }
}

pub fn decode_cursor(token: &str) -> Option<Cursor> {
    let (kind, rest) = token.split_at_checked(1)?;
    let (a, b) = rest.split_once('.')?;
    match kind {
        "p" => Some(Cursor::Players(a.parse().ok()?, b.parse::<EntryId>().ok()?)),
        "n" => {
            if b.len() % 2 != 0 || b.len() > 2048 {
                return None;
            }
            let bytes: Option<Vec<u8>> = (0..b.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(b.get(i..i + 2)?, 16).ok())
                .collect();
            Some(Cursor::Name(
                String::from_utf8(bytes?).ok()?,
                a.parse::<EntryId>().ok()?,
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        for c in [
            Cursor::Players(7, EntryId(u64::MAX)),
            Cursor::Name("é &=?.x".into(), EntryId(3)),
        ] {
            assert_eq!(decode_cursor(&encode_cursor(&c)), Some(c));
        }
        for junk in ["", "p", "p1", "px.0", "n0.f", "n0.zz", "q1.2", "n0.ff", "é"] {
            assert_eq!(decode_cursor(junk), None, "{junk:?}");
        }
    }
}
