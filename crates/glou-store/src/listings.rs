//! The `listings` table: a mirror of the registry, written in batches of
//! [`PersistOp`]s and read back whole at start-up.

use std::net::IpAddr;
use std::sync::Arc;

use glou_core::{Entry, EntryId, Listing, PersistOp, Player, SecretDigest, Source, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// How a player is kept in the `player_list` JSON column.
#[derive(Serialize, Deserialize)]
struct StoredPlayer {
    name: String,
    score: i64,
    ping: u32,
}

const UPSERT: &str = "INSERT INTO listings (id, game, kind, address, name, map, players, max_players, \
    bots, password, version, protocol, rules, player_list, source, owner, secret, first_seen, \
    last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
    ON CONFLICT (id) DO UPDATE SET game = excluded.game, kind = excluded.kind, \
    address = excluded.address, name = excluded.name, map = excluded.map, \
    players = excluded.players, max_players = excluded.max_players, bots = excluded.bots, \
    password = excluded.password, version = excluded.version, protocol = excluded.protocol, \
    rules = excluded.rules, player_list = excluded.player_list, source = excluded.source, \
    owner = excluded.owner, secret = excluded.secret, first_seen = excluded.first_seen, \
    last_seen = excluded.last_seen, expires_at = excluded.expires_at";

impl Store {
    /// Applies a batch of registry changes in one transaction, in order. Runs of
    /// heartbeats (time-only changes) go in one statement each.
    pub async fn save_listings(&self, ops: &[PersistOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let mut touches: Vec<(i64, i64, Option<i64>)> = Vec::new();
        for op in ops {
            match op {
                PersistOp::Touch {
                    id,
                    last_seen,
                    expires_at,
                } => {
                    touches.push((db_id(*id), millis(*last_seen), expires_at.map(millis)));
                    if touches.len() == TOUCH_BATCH {
                        touch(&mut tx, &mut touches).await?;
                    }
                }
                PersistOp::Upsert(e) => {
                    touch(&mut tx, &mut touches).await?;
                    upsert(&mut tx, e).await?;
                }
                PersistOp::Delete(id) => {
                    touch(&mut tx, &mut touches).await?;
                    sqlx::query("DELETE FROM listings WHERE id = ?")
                        .bind(db_id(*id))
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        touch(&mut tx, &mut touches).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every listing still live at `now`; expired rows are deleted, and rows that
    /// cannot be read back are skipped with a warning.
    pub async fn load_listings(&self, now: Timestamp) -> Result<Vec<Entry>, StoreError> {
        sqlx::query("DELETE FROM listings WHERE expires_at <= ?")
            .bind(millis(now))
            .execute(&self.pool)
            .await?;
        let rows = sqlx::query("SELECT * FROM listings")
            .fetch_all(&self.pool)
            .await?;
        let mut entries = Vec::with_capacity(rows.len());
        for row in &rows {
            match entry_from_row(row) {
                Ok(e) => entries.push(e),
                Err(why) => {
                    let id: i64 = row.try_get("id").unwrap_or_default();
                    tracing::warn!(id, %why, "skipping an unreadable stored listing");
                }
            }
        }
        Ok(entries)
    }
}

/// Heartbeats written per statement.
const TOUCH_BATCH: usize = 10_000;

/// Writes and empties a run of `(id, last_seen, expires_at)`.
async fn touch(
    tx: &mut sqlx::SqliteConnection,
    touches: &mut Vec<(i64, i64, Option<i64>)>,
) -> Result<(), sqlx::Error> {
    if touches.is_empty() {
        return Ok(());
    }
    let rows = serde_json::to_string(&touches).expect("numbers encode");
    sqlx::query(
        "UPDATE listings SET last_seen = json_extract(t.value, '$[1]'), \
         expires_at = json_extract(t.value, '$[2]') \
         FROM json_each(?) AS t WHERE listings.id = json_extract(t.value, '$[0]')",
    )
    .bind(rows)
    .execute(&mut *tx)
    .await?;
    touches.clear();
    Ok(())
}

async fn upsert(tx: &mut sqlx::SqliteConnection, e: &Arc<Entry>) -> Result<(), sqlx::Error> {
    let l = &e.listing;
    let players: Vec<StoredPlayer> = l
        .player_list
        .iter()
        .map(|p| StoredPlayer {
            name: p.name.clone(),
            score: p.score,
            ping: p.ping,
        })
        .collect();
    sqlx::query(UPSERT)
        .bind(db_id(e.id))
        .bind(&l.game)
        .bind(&l.kind)
        .bind(&l.address)
        .bind(&l.name)
        .bind(&l.map)
        .bind(l.players)
        .bind(l.max_players)
        .bind(l.bots)
        .bind(l.password)
        .bind(&l.version)
        .bind(&l.protocol)
        .bind(serde_json::to_string(&l.rules).expect("strings encode"))
        .bind(serde_json::to_string(&players).expect("players encode"))
        .bind(e.source.as_str())
        .bind(e.owner.to_string())
        .bind(e.secret.map(|s| s.0.to_vec()))
        .bind(millis(e.first_seen))
        .bind(millis(e.last_seen))
        .bind(e.expires_at.map(millis))
        .execute(tx)
        .await?;
    Ok(())
}

fn entry_from_row(row: &SqliteRow) -> Result<Entry, String> {
    let text = |col: &str| {
        row.try_get::<String, _>(col)
            .map_err(|e| format!("{col}: {e}"))
    };
    let count = |col: &str| {
        row.try_get::<u32, _>(col)
            .map_err(|e| format!("{col}: {e}"))
    };
    let time = |col: &str| {
        row.try_get::<Option<i64>, _>(col)
            .map_err(|e| format!("{col}: {e}"))
            .map(|t| t.map(|t| Timestamp::from_millis(t.max(0).unsigned_abs())))
    };
    let rules: Vec<(String, String)> =
        serde_json::from_str(&text("rules")?).map_err(|e| format!("rules: {e}"))?;
    let players: Vec<StoredPlayer> =
        serde_json::from_str(&text("player_list")?).map_err(|e| format!("player_list: {e}"))?;
    let secret = match row
        .try_get::<Option<Vec<u8>>, _>("secret")
        .map_err(|e| e.to_string())?
    {
        None => None,
        Some(bytes) => Some(SecretDigest(
            bytes.try_into().map_err(|_| "secret: not 32 bytes")?,
        )),
    };
    let source: Source = text("source")?.parse().map_err(|()| "source: unknown")?;
    let owner: IpAddr = text("owner")?.parse().map_err(|e| format!("owner: {e}"))?;
    Ok(Entry {
        id: EntryId(
            row.try_get::<i64, _>("id")
                .map_err(|e| e.to_string())?
                .cast_unsigned(),
        ),
        listing: Listing {
            game: text("game")?,
            kind: text("kind")?,
            address: text("address")?,
            name: text("name")?,
            map: text("map")?,
            players: count("players")?,
            max_players: count("max_players")?,
            bots: count("bots")?,
            password: row
                .try_get("password")
                .map_err(|e| format!("password: {e}"))?,
            version: text("version")?,
            protocol: text("protocol")?,
            rules,
            player_list: players
                .into_iter()
                .map(|p| Player {
                    name: p.name,
                    score: p.score,
                    ping: p.ping,
                })
                .collect(),
        },
        source,
        owner,
        secret,
        first_seen: time("first_seen")?.ok_or("first_seen: missing")?,
        last_seen: time("last_seen")?.ok_or("last_seen: missing")?,
        expires_at: time("expires_at")?,
        revision: 0,
    })
}

fn db_id(id: EntryId) -> i64 {
    id.0.cast_signed()
}

fn millis(t: Timestamp) -> i64 {
    i64::try_from(t.as_millis()).unwrap_or(i64::MAX)
}
