//! Statistics per (player, game) — records, ratings, highscores — the match history,
//! and rankings. A match report updates all of it in one transaction.

use glou_core::Timestamp;
use glou_core::account::{Perm, Perms, name_key};
use glou_core::rating::{self, INITIAL_RATING, Outcome, Rated};

use crate::accounts::{ms, time};
use crate::row::Get;
use crate::{Refusal, Store, StoreError, with_pool};

/// Which statistics a game keeps (GGZ's `.dsc` `StatsRecords`, `StatsRatings`,
/// `StatsHighscores`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatsModel {
    pub records: bool,
    pub ratings: bool,
    pub highscores: bool,
}

/// How a game's players are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankModel {
    Highscore,
    Rating,
    WinsLosses,
}

impl StatsModel {
    /// By highscore if the game keeps them, else by rating, else by wins − losses.
    pub fn rank_model(self) -> Option<RankModel> {
        if self.highscores {
            Some(RankModel::Highscore)
        } else if self.ratings {
            Some(RankModel::Rating)
        } else if self.records {
            Some(RankModel::WinsLosses)
        } else {
            None
        }
    }
}

impl RankModel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Highscore => "highscore",
            Self::Rating => "rating",
            Self::WinsLosses => "wins_losses",
        }
    }

    /// The SQL value rows (of table `alias`) are ranked by, highest first.
    fn key(self, alias: &str) -> String {
        match self {
            Self::Highscore => format!("{alias}.highscore"),
            Self::Rating => format!("{alias}.rating"),
            Self::WinsLosses => format!("({alias}.wins - {alias}.losses)"),
        }
    }
}

/// One player of a reported match.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchPlayer {
    pub name: String,
    pub kind: PlayerKind,
    /// `None`: a team of its own.
    pub team: Option<u32>,
    pub outcome: Outcome,
    pub score: i64,
}

/// Who sat in a seat: only registered players and bots keep statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayerKind {
    Registered,
    Guest,
    Bot,
}

impl PlayerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Guest => "guest",
            Self::Bot => "bot",
        }
    }

    fn parse(s: &str) -> PlayerKind {
        match s {
            "guest" => Self::Guest,
            "bot" => Self::Bot,
            _ => Self::Registered,
        }
    }
}

/// A finished match, as a game reports it; players in seat order.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchReport {
    pub game: String,
    pub players: Vec<MatchPlayer>,
}

/// A match in the history.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRecord {
    pub id: i64,
    pub game: String,
    pub played_at: Timestamp,
    /// The single winner's name, or empty.
    pub winner: String,
    pub players: Vec<SeatRecord>,
}

/// One seat of a match in the history.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatRecord {
    pub seat: u32,
    pub player: MatchPlayer,
    /// Set when the game keeps ratings and the player's statistics are kept.
    pub rating_before: Option<f64>,
    pub rating_after: Option<f64>,
}

/// A player's statistics for one game.
#[derive(Debug, Clone, PartialEq)]
pub struct GameStats {
    pub game: String,
    pub player: String,
    pub wins: i64,
    pub losses: i64,
    pub ties: i64,
    pub forfeits: i64,
    pub rating: f64,
    pub highscore: i64,
    pub matches: i64,
}

/// A row of a game's rankings.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    pub rank: i64,
    pub stats: GameStats,
}

const STATS_COLUMNS: &str =
    "game, player, wins, losses, ties, forfeits, rating, highscore, matches";

/// A player of a report, resolved against the accounts.
struct Seat {
    key: String,
    account: Option<i64>,
    /// Whether statistics are kept for this seat.
    kept: bool,
}

impl Store {
    /// Records a match: the history row, and each kept player's records, rating and
    /// highscore as `model` says — all in one transaction, or nothing. Refuses reports
    /// naming unknown players or a player twice.
    pub async fn report_match(
        &self,
        report: &MatchReport,
        model: StatsModel,
        now: Timestamp,
    ) -> Result<MatchRecord, StoreError> {
        if report.players.is_empty() {
            return Err(Refusal::EmptyReport.into());
        }
        let keys: Vec<String> = report
            .players
            .iter()
            .enumerate()
            .map(|(seat, p)| seat_key(seat, p))
            .collect();
        let mut distinct = std::collections::HashSet::new();
        for (key, p) in keys.iter().zip(&report.players) {
            if !distinct.insert(key) {
                return Err(Refusal::DuplicatePlayer(p.name.clone()).into());
            }
        }
        let winners: Vec<&MatchPlayer> = report
            .players
            .iter()
            .filter(|p| p.outcome == Outcome::Win)
            .collect();
        let winner = match winners[..] {
            [one] => one.name.clone(),
            _ => String::new(),
        };
        with_pool!(self, pool, d => {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            // Resolve every seat first: an unknown player refuses the whole report.
            let mut seats = Vec::with_capacity(report.players.len());
            for (key, p) in keys.into_iter().zip(&report.players) {
                let seat = match p.kind {
                    PlayerKind::Registered => {
                        let row = sqlx::query("SELECT id, perms FROM accounts WHERE name_key = $1")
                            .bind(&key)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| Refusal::UnknownPlayer(p.name.clone()))?;
                        let perms = Perms(u32::try_from(row.int("perms")?).unwrap_or_default());
                        Seat {
                            key,
                            account: Some(row.int("id")?),
                            kept: !perms.has(Perm::NoStats),
                        }
                    }
                    PlayerKind::Guest => Seat { key, account: None, kept: false },
                    PlayerKind::Bot => Seat { key, account: None, kept: true },
                };
                seats.push(seat);
            }
            // Lock (creating) the kept players' rows and read their ratings.
            let mut before = Vec::with_capacity(seats.len());
            for (seat, p) in seats.iter().zip(&report.players) {
                if !seat.kept {
                    before.push(f64::from(INITIAL_RATING));
                    continue;
                }
                sqlx::query(
                    "INSERT INTO stats (game, player_key, player, account_id, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (game, player_key) DO NOTHING",
                )
                .bind(&report.game)
                .bind(&seat.key)
                .bind(&p.name)
                .bind(seat.account)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
                let sql = format!(
                    "SELECT rating FROM stats WHERE game = $1 AND player_key = $2{}",
                    d.for_update()
                );
                let rating: f64 = sqlx::query_scalar(&sql)
                    .bind(&report.game)
                    .bind(&seat.key)
                    .fetch_one(&mut *tx)
                    .await?;
                before.push(rating);
            }
            let after: Vec<f64> = if model.ratings {
                let rated: Vec<Rated> = report
                    .players
                    .iter()
                    .zip(&before)
                    .map(|(p, r)| Rated { rating: *r as f32, team: p.team, outcome: p.outcome })
                    .collect();
                rating::rate(&rated).into_iter().map(f64::from).collect()
            } else {
                before.clone()
            };
            for ((seat, p), rating) in seats.iter().zip(&report.players).zip(&after) {
                if !seat.kept {
                    continue;
                }
                let (w, l, t, f) = if model.records {
                    match p.outcome {
                        Outcome::Win => (1, 0, 0, 0),
                        Outcome::Loss => (0, 1, 0, 0),
                        Outcome::Tie => (0, 0, 1, 0),
                        Outcome::Forfeit => (0, 0, 0, 1),
                        Outcome::None => (0, 0, 0, 0),
                    }
                } else {
                    (0, 0, 0, 0)
                };
                sqlx::query(
                    "UPDATE stats SET player = $1, wins = wins + $2, losses = losses + $3, \
                     ties = ties + $4, forfeits = forfeits + $5, rating = $6, \
                     highscore = CASE WHEN $7 AND $8 > highscore THEN $8 ELSE highscore END, \
                     matches = matches + 1, updated_at = $9 WHERE game = $10 AND player_key = $11",
                )
                .bind(&p.name)
                .bind(w as i64)
                .bind(l as i64)
                .bind(t as i64)
                .bind(f as i64)
                .bind(*rating)
                .bind(model.highscores)
                .bind(p.score)
                .bind(ms(now))
                .bind(&report.game)
                .bind(&seat.key)
                .execute(&mut *tx)
                .await?;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO matches (game, played_at, winner) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(&report.game)
            .bind(ms(now))
            .bind(&winner)
            .fetch_one(&mut *tx)
            .await?;
            let mut players = Vec::with_capacity(seats.len());
            for (i, ((seat, p), (b, a))) in
                seats.iter().zip(&report.players).zip(before.iter().zip(&after)).enumerate()
            {
                let rated = (model.ratings && seat.kept).then_some((*b, *a));
                sqlx::query(
                    "INSERT INTO match_players (match_id, seat, player, player_key, kind, team, \
                     outcome, score, rating_before, rating_after) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(id)
                .bind(i as i64)
                .bind(&p.name)
                .bind(&seat.key)
                .bind(p.kind.as_str())
                .bind(p.team.map(i64::from))
                .bind(p.outcome.as_str())
                .bind(p.score)
                .bind(rated.map(|r| r.0))
                .bind(rated.map(|r| r.1))
                .execute(&mut *tx)
                .await?;
                players.push(SeatRecord {
                    seat: u32::try_from(i).unwrap_or(u32::MAX),
                    player: p.clone(),
                    rating_before: rated.map(|r| r.0),
                    rating_after: rated.map(|r| r.1),
                });
            }
            tx.commit().await?;
            Ok(MatchRecord { id, game: report.game.clone(), played_at: now, winner, players })
        })
    }

    /// A player's statistics in every game they played (registered players only).
    pub async fn player_stats(&self, name: &str) -> Result<Vec<GameStats>, StoreError> {
        let sql = format!(
            "SELECT {STATS_COLUMNS} FROM stats WHERE player_key = $1 AND account_id IS NOT NULL \
             ORDER BY game"
        );
        let key = name_key(name);
        with_pool!(self, pool, _d => {
            let rows = sqlx::query(&sql).bind(&key).fetch_all(pool).await?;
            rows.iter().map(stats_from).collect()
        })
    }

    /// A player's rank in a game (1 is best), or `None` if they have no statistics.
    pub async fn rank(
        &self,
        name: &str,
        game: &str,
        model: RankModel,
    ) -> Result<Option<i64>, StoreError> {
        let (o, s) = (model.key("o"), model.key("s"));
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM stats o WHERE o.game = s.game AND \
             ({o} > {s} OR ({o} = {s} AND o.player_key < s.player_key))) + 1 \
             FROM stats s WHERE s.game = $1 AND s.player_key = $2"
        );
        let key = name_key(name);
        with_pool!(self, pool, _d => {
            Ok(sqlx::query_scalar::<_, i64>(&sql)
                .bind(game)
                .bind(&key)
                .fetch_optional(pool)
                .await?)
        })
    }

    /// A game's rankings, best first; ties are broken by name key.
    pub async fn rankings(
        &self,
        game: &str,
        model: RankModel,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<Ranked>, StoreError> {
        let sql = format!(
            "SELECT {STATS_COLUMNS}, ROW_NUMBER() OVER (ORDER BY {} DESC, player_key) AS rank \
             FROM stats t WHERE game = $1 ORDER BY rank LIMIT $2 OFFSET $3",
            model.key("t")
        );
        with_pool!(self, pool, _d => {
            let rows = sqlx::query(&sql)
                .bind(game)
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| Ok(Ranked { rank: r.int("rank")?, stats: stats_from(r)? }))
                .collect()
        })
    }

    /// Deletes a player's statistics, in one game or all; how many rows. Their history
    /// stays.
    pub async fn reset_stats(&self, name: &str, game: Option<&str>) -> Result<u64, StoreError> {
        let key = name_key(name);
        let done = with_pool!(self, pool, _d => {
            sqlx::query("DELETE FROM stats WHERE player_key = $1 AND ($2 IS NULL OR game = $2)")
                .bind(&key)
                .bind(game)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done)
    }

    /// Deletes every player's statistics in one game; how many rows. The game's match
    /// history stays.
    pub async fn clear_game_stats(&self, game: &str) -> Result<u64, StoreError> {
        let done = with_pool!(self, pool, _d => {
            sqlx::query("DELETE FROM stats WHERE game = $1")
                .bind(game)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done)
    }

    /// A player's latest matches, newest first; with `before`, those older than that
    /// match id.
    pub async fn matches_of(
        &self,
        name: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<MatchRecord>, StoreError> {
        let key = name_key(name);
        with_pool!(self, pool, _d => {
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT match_id FROM match_players WHERE player_key = $1 \
                 AND ($2 IS NULL OR match_id < $2) ORDER BY match_id DESC LIMIT $3",
            )
            .bind(&key)
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let m = sqlx::query("SELECT id, game, played_at, winner FROM matches WHERE id = $1")
                    .bind(id)
                    .fetch_one(pool)
                    .await?;
                let seats = sqlx::query(
                    "SELECT seat, player, kind, team, outcome, score, rating_before, rating_after \
                     FROM match_players WHERE match_id = $1 ORDER BY seat",
                )
                .bind(id)
                .fetch_all(pool)
                .await?;
                out.push(MatchRecord {
                    id,
                    game: m.text("game")?,
                    played_at: time(m.int("played_at")?),
                    winner: m.text("winner")?,
                    players: seats.iter().map(seat_from).collect::<Result<_, _>>()?,
                });
            }
            Ok(out)
        })
    }
}

/// A savegame a game program reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Savegame {
    pub game: String,
    pub room: u32,
    pub table: u32,
    /// The table's launcher.
    pub owner: String,
    /// Where the program wrote it.
    pub path: String,
    pub saved_at: Timestamp,
}

impl Store {
    /// Keeps a savegame; its id.
    pub async fn add_savegame(&self, s: &Savegame) -> Result<i64, StoreError> {
        let id = with_pool!(self, pool, _d => {
            sqlx::query_scalar(
                "INSERT INTO savegames (game, room, table_id, owner, path, saved_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(&s.game)
            .bind(i64::from(s.room))
            .bind(i64::from(s.table))
            .bind(&s.owner)
            .bind(&s.path)
            .bind(ms(s.saved_at))
            .fetch_one(pool)
            .await?
        });
        Ok(id)
    }

    /// A game's latest savegames, newest first.
    pub async fn savegames(&self, game: &str, limit: u32) -> Result<Vec<Savegame>, StoreError> {
        let rows = with_pool!(self, pool, _d => {
            sqlx::query(
                "SELECT game, room, table_id, owner, path, saved_at FROM savegames \
                 WHERE game = $1 ORDER BY saved_at DESC, id DESC LIMIT $2",
            )
            .bind(game)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Savegame {
                    game: r.text("game")?,
                    room: u32::try_from(r.int("room")?).unwrap_or_default(),
                    table: u32::try_from(r.int("table_id")?).unwrap_or_default(),
                    owner: r.text("owner")?,
                    path: r.text("path")?,
                    saved_at: time(r.int("saved_at")?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?
        });
        Ok(rows)
    }
}

/// The key a seat's statistics are kept under: the name's key; for a bot, GGZ's
/// `SEAT|AI` when it is the anonymous "AI", else its name's key and `|AI` (a name no
/// account can have).
fn seat_key(seat: usize, p: &MatchPlayer) -> String {
    match p.kind {
        PlayerKind::Bot if p.name == "AI" || p.name.is_empty() => format!("{seat}|AI"),
        PlayerKind::Bot => format!("{}|AI", name_key(&p.name)),
        PlayerKind::Registered | PlayerKind::Guest => name_key(&p.name),
    }
}

fn stats_from(row: &impl Get) -> Result<GameStats, StoreError> {
    Ok(GameStats {
        game: row.text("game")?,
        player: row.text("player")?,
        wins: row.int("wins")?,
        losses: row.int("losses")?,
        ties: row.int("ties")?,
        forfeits: row.int("forfeits")?,
        rating: row.real("rating")?,
        highscore: row.int("highscore")?,
        matches: row.int("matches")?,
    })
}

fn seat_from(row: &impl Get) -> Result<SeatRecord, StoreError> {
    Ok(SeatRecord {
        seat: u32::try_from(row.int("seat")?).unwrap_or_default(),
        player: MatchPlayer {
            name: row.text("player")?,
            kind: PlayerKind::parse(&row.text("kind")?),
            team: row.opt_int("team")?.and_then(|t| u32::try_from(t).ok()),
            outcome: row.text("outcome")?.parse().unwrap_or(Outcome::None),
            score: row.int("score")?,
        },
        rating_before: row.opt_real("rating_before")?,
        rating_after: row.opt_real("rating_after")?,
    })
}
