//! The `listings` table: a mirror of the registry, written in batches of
//! [`PersistOp`]s and read back whole at start-up.

use std::collections::HashSet;
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

/// The listings' columns, in the order of [`UpsertRow`]'s fields.
const COLUMNS: [&str; 21] = [
    "id",
    "game",
    "kind",
    "address",
    "name",
    "map",
    "players",
    "max_players",
    "bots",
    "password",
    "version",
    "protocol",
    "rules",
    "player_list",
    "source",
    "owner",
    "secret",
    "first_seen",
    "last_seen",
    "expires_at",
    "origin",
];

impl Store {
    /// Applies a batch of registry changes in one transaction, in order. Runs of
    /// heartbeats (time-only changes) and runs of upserts go in one statement each
    /// (a JSON array of rows); a run ends at a delete, at the other kind of change,
    /// or when an entry comes back in it, so the order of the batch is kept.
    pub async fn save_listings(&self, ops: &[PersistOp]) -> Result<(), StoreError> {
        if ops.is_empty() {
            return Ok(());
        }
        with_pool!(self, pool, d => {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            let mut run = Run::default();
            macro_rules! flush {
                () => {
                    if let Some((sql, rows)) = run.take(d) {
                        sqlx::query(sql).bind(rows).execute(&mut *tx).await?;
                    }
                };
            }
            for op in ops {
                let full = match op {
                    PersistOp::Touch { id, last_seen, expires_at } => {
                        if !run.may_touch(*id) {
                            flush!();
                        }
                        run.touch(*id, *last_seen, *expires_at)
                    }
                    PersistOp::Upsert(e) => {
                        if !run.may_upsert(e.id) {
                            flush!();
                        }
                        run.upsert(e)
                    }
                    PersistOp::Delete(id) => {
                        flush!();
                        sqlx::query("DELETE FROM listings WHERE id = $1")
                            .bind(db_id(*id))
                            .execute(&mut *tx)
                            .await?;
                        false
                    }
                };
                if full {
                    flush!();
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
/// Rows per statement: heartbeats are small, whole listings up to a few KiB.
const TOUCH_BATCH: usize = 10_000;
const UPSERT_BATCH: usize = 1_000;

/// A run of changes of one kind, each entry once, on its way to one statement.
#[derive(Default)]
struct Run {
    ids: HashSet<EntryId>,
    /// `(id, last_seen, expires_at)` of heartbeats.
    touches: Vec<(i64, i64, Option<i64>)>,
    upserts: Vec<UpsertRow>,
}

/// A whole listing as a row of the upsert statement's JSON array.
#[derive(Serialize)]
struct UpsertRow {
    id: i64,
    game: String,
    kind: String,
    address: String,
    name: String,
    map: String,
    players: u32,
    max_players: u32,
    bots: u32,
    password: bool,
    version: String,
    protocol: String,
    /// The `rules` and `player_list` columns' JSON text.
    rules: String,
    player_list: String,
    source: &'static str,
    owner: String,
    /// Hexadecimal: JSON has no bytes.
    secret: Option<String>,
    first_seen: i64,
    last_seen: i64,
    expires_at: Option<i64>,
    origin: Option<String>,
}

impl Run {
    fn may_touch(&self, id: EntryId) -> bool {
        self.upserts.is_empty() && !self.ids.contains(&id)
    }

    fn may_upsert(&self, id: EntryId) -> bool {
        self.touches.is_empty() && !self.ids.contains(&id)
    }

    /// Adds a heartbeat; whether the run is full.
    fn touch(&mut self, id: EntryId, last_seen: Timestamp, expires_at: Option<Timestamp>) -> bool {
        self.ids.insert(id);
        self.touches
            .push((db_id(id), ms(last_seen), expires_at.map(ms)));
        self.touches.len() >= TOUCH_BATCH
    }

    /// Adds a whole entry; whether the run is full.
    fn upsert(&mut self, e: &Entry) -> bool {
        self.ids.insert(e.id);
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
        self.upserts.push(UpsertRow {
            id: db_id(e.id),
            game: l.game.clone(),
            kind: l.kind.clone(),
            address: l.address.clone(),
            name: l.name.clone(),
            map: l.map.clone(),
            players: l.players,
            max_players: l.max_players,
            bots: l.bots,
            password: l.password,
            version: l.version.clone(),
            protocol: l.protocol.clone(),
            rules: serde_json::to_string(&l.rules).expect("strings encode"),
            player_list: serde_json::to_string(&players).expect("players encode"),
            source: e.source.as_str(),
            owner: e.owner.to_string(),
            secret: e.secret.map(|s| hex(&s.0)),
            first_seen: ms(e.first_seen),
            last_seen: ms(e.last_seen),
            expires_at: e.expires_at.map(ms),
            origin: e.origin.as_deref().map(str::to_owned),
        });
        self.upserts.len() >= UPSERT_BATCH
    }

    /// The statement and its JSON array for what the run holds, and an empty run.
    fn take(&mut self, d: Dialect) -> Option<(&'static str, String)> {
        self.ids.clear();
        if !self.touches.is_empty() {
            let rows = serde_json::to_string(&self.touches).expect("numbers encode");
            self.touches.clear();
            return Some((touch_sql(d), rows));
        }
        if !self.upserts.is_empty() {
            let rows = serde_json::to_string(&self.upserts).expect("rows encode");
            self.upserts.clear();
            return Some((upsert_sql(d), rows));
        }
        None
    }
}

/// Inserts or replaces the listings of a JSON array of [`UpsertRow`]s, in order.
fn upsert_sql(d: Dialect) -> &'static str {
    static SQLITE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static POSTGRES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let build = |value: &dyn Fn(&str) -> String, from: &str| {
        let values: Vec<String> = COLUMNS.iter().map(|c| value(c)).collect();
        let updates: Vec<String> = COLUMNS[1..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        // SQLite needs the WHERE to read ON CONFLICT as an upsert, not a join.
        format!(
            "INSERT INTO listings ({}) SELECT {} FROM {from} WHERE true \
             ON CONFLICT (id) DO UPDATE SET {}",
            COLUMNS.join(", "),
            values.join(", "),
            updates.join(", ")
        )
    };
    match d {
        Dialect::Sqlite => SQLITE.get_or_init(|| {
            build(
                &|c| match c {
                    "secret" => "unhex(json_extract(t.value, '$.secret'))".into(),
                    c => format!("json_extract(t.value, '$.{c}')"),
                },
                "json_each($1) AS t",
            )
        }),
        Dialect::Postgres => POSTGRES.get_or_init(|| {
            build(
                &|c| match c {
                    "secret" => "decode(t.v->>'secret', 'hex')".into(),
                    "password" => "(t.v->>'password')::boolean".into(),
                    "id" | "players" | "max_players" | "bots" | "first_seen" | "last_seen"
                    | "expires_at" => format!("(t.v->>'{c}')::bigint"),
                    c => format!("t.v->>'{c}'"),
                },
                "jsonb_array_elements($1::jsonb) AS t(v)",
            )
        }),
    }
}

/// Bytes as lowercase hexadecimal.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

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
