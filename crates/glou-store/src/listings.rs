//! The `listings` table: a mirror of the registry, written in batches of
//! [`PersistOp`]s and read back whole at start-up.

use std::net::IpAddr;

use crate::accounts::{ms, time};
use crate::row::Get;
use crate::{Dialect, Store, StoreError, with_pool};
use glou_core::{Entry, EntryId, Listing, PersistOp, Player, SecretDigest, Source, Timestamp};
use serde::{Deserialize, Serialize};

/// How a player is kept in the `player_list` JSON column.
#[derive(Serialize, Deserialize)]
struct StoredPlayer {
    name: String,
    score: i64,
    ping: u32,
}

const UPSERT: &str = "INSERT INTO listings (id, game, kind, address, name, map, players, max_players, \
    bots, password, version, protocol, rules, player_list, source, owner, secret, first_seen, \
    last_seen, expires_at, origin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
    $15, $16, $17, $18, $19, $20, $21) \
    ON CONFLICT (id) DO UPDATE SET game = excluded.game, kind = excluded.kind, \
    address = excluded.address, name = excluded.name, map = excluded.map, \
    players = excluded.players, max_players = excluded.max_players, bots = excluded.bots, \
    password = excluded.password, version = excluded.version, protocol = excluded.protocol, \
    rules = excluded.rules, player_list = excluded.player_list, source = excluded.source, \
    owner = excluded.owner, secret = excluded.secret, first_seen = excluded.first_seen, \
    last_seen = excluded.last_seen, expires_at = excluded.expires_at, origin = excluded.origin";

impl Store {
    /// Applies a batch of registry changes in one transaction, in order. Runs of
    /// heartbeats (time-only changes) go in one statement each.
    pub async fn save_listings(&self, ops: &[PersistOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        with_pool!(self, pool, d => {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            // `(id, last_seen, expires_at)` of a run of heartbeats, written as one JSON
            // array by one statement.
            let mut touches: Vec<(i64, i64, Option<i64>)> = Vec::new();
            macro_rules! flush {
                () => {
                    if !touches.is_empty() {
                        let rows = serde_json::to_string(&touches).expect("numbers encode");
                        sqlx::query(touch_sql(d)).bind(rows).execute(&mut *tx).await?;
                        touches.clear();
                    }
                };
            }
            for op in ops {
                match op {
                    PersistOp::Touch { id, last_seen, expires_at } => {
                        touches.push((db_id(*id), ms(*last_seen), expires_at.map(ms)));
                        if touches.len() == TOUCH_BATCH {
                            flush!();
                        }
                    }
                    PersistOp::Upsert(e) => {
                        flush!();
                        let l = &e.listing;
                        let players: Vec<StoredPlayer> = l
                            .player_list
                            .iter()
                            .map(|p| StoredPlayer { name: p.name.clone(), score: p.score, ping: p.ping })
                            .collect();
                        sqlx::query(UPSERT)
                            .bind(db_id(e.id))
                            .bind(&l.game)
                            .bind(&l.kind)
                            .bind(&l.address)
                            .bind(&l.name)
                            .bind(&l.map)
                            .bind(i64::from(l.players))
                            .bind(i64::from(l.max_players))
                            .bind(i64::from(l.bots))
                            .bind(l.password)
                            .bind(&l.version)
                            .bind(&l.protocol)
                            .bind(serde_json::to_string(&l.rules).expect("strings encode"))
                            .bind(serde_json::to_string(&players).expect("players encode"))
                            .bind(e.source.as_str())
                            .bind(e.owner.to_string())
                            .bind(e.secret.map(|s| s.0.to_vec()))
                            .bind(ms(e.first_seen))
                            .bind(ms(e.last_seen))
                            .bind(e.expires_at.map(ms))
                            .bind(e.origin.as_deref())
                            .execute(&mut *tx)
                            .await?;
                    }
                    PersistOp::Delete(id) => {
                        flush!();
                        sqlx::query("DELETE FROM listings WHERE id = $1")
                            .bind(db_id(*id))
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            flush!();
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every listing still live at `now`; expired rows are deleted, and rows that
    /// cannot be read back are skipped with a warning.
    pub async fn load_listings(&self, now: Timestamp) -> Result<Vec<Entry>, StoreError> {
        with_pool!(self, pool, _d => {
            sqlx::query("DELETE FROM listings WHERE expires_at <= $1")
                .bind(ms(now))
                .execute(pool)
                .await?;
            let rows = sqlx::query("SELECT * FROM listings").fetch_all(pool).await?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in &rows {
                match entry_from_row(row) {
                    Ok(e) => entries.push(e),
                    Err(why) => {
                        let id = row.int("id").unwrap_or_default();
                        tracing::warn!(id, %why, "skipping an unreadable stored listing");
                    }
                }
            }
            Ok(entries)
        })
    }
}

/// Heartbeats written per statement.
const TOUCH_BATCH: usize = 10_000;

/// Sets `last_seen` and `expires_at` from a JSON array of `[id, last_seen, expires_at]`.
fn touch_sql(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => {
            "UPDATE listings SET last_seen = json_extract(t.value, '$[1]'), \
             expires_at = json_extract(t.value, '$[2]') \
             FROM json_each($1) AS t WHERE listings.id = json_extract(t.value, '$[0]')"
        }
        Dialect::Postgres => {
            "UPDATE listings SET last_seen = (t.value->>1)::bigint, \
             expires_at = (t.value->>2)::bigint \
             FROM jsonb_array_elements($1::jsonb) AS t(value) \
             WHERE listings.id = (t.value->>0)::bigint"
        }
    }
}

fn entry_from_row(row: &impl Get) -> Result<Entry, String> {
    let text = |col: &str| row.text(col).map_err(|e| format!("{col}: {e}"));
    let count = |col: &str| {
        row.int(col)
            .map_err(|e| e.to_string())
            .and_then(|n| u32::try_from(n).map_err(|e| e.to_string()))
            .map_err(|e| format!("{col}: {e}"))
    };
    let time = |col: &str| {
        row.opt_int(col)
            .map_err(|e| format!("{col}: {e}"))
            .map(|t| t.map(time))
    };
    let rules: Vec<(String, String)> =
        serde_json::from_str(&text("rules")?).map_err(|e| format!("rules: {e}"))?;
    let players: Vec<StoredPlayer> =
        serde_json::from_str(&text("player_list")?).map_err(|e| format!("player_list: {e}"))?;
    let secret = match row.opt_bytes("secret").map_err(|e| e.to_string())? {
        None => None,
        Some(bytes) => Some(SecretDigest(
            bytes.try_into().map_err(|_| "secret: not 32 bytes")?,
        )),
    };
    let source: Source = text("source")?.parse().map_err(|()| "source: unknown")?;
    let owner: IpAddr = text("owner")?.parse().map_err(|e| format!("owner: {e}"))?;
    Ok(Entry {
        id: EntryId(row.int("id").map_err(|e| e.to_string())?.cast_unsigned()),
        listing: Listing {
            game: text("game")?,
            kind: text("kind")?,
            address: text("address")?,
            name: text("name")?,
            map: text("map")?,
            players: count("players")?,
            max_players: count("max_players")?,
            bots: count("bots")?,
            password: row.flag("password").map_err(|e| format!("password: {e}"))?,
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
        origin: row
            .opt_text("origin")
            .map_err(|e| format!("origin: {e}"))?
            .map(Into::into),
        revision: 0,
    })
}

fn db_id(id: EntryId) -> i64 {
    id.0.cast_signed()
}
