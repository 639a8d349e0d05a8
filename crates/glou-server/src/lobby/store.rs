//! The lobby's reads and writes of stored data: players' standings for player lists,
//! and admin actions that outlive the session (a gag is kept in the account).

use glou_core::account::Perm;
use glou_core::lobby::{AdminAction, Command, PlayerId, RoomId, Standing};
use glou_core::rating::Outcome;
use glou_proto::ggzdmod::{GameResult, ReportEntry, SeatType};
use glou_store::{MatchPlayer, MatchReport, PlayerKind};
use tracing::{info, warn};

use super::LobbyService;

impl LobbyService {
    /// A registered player's statistics in the game of a room, as player lists show them.
    pub async fn standing(&self, name: &str, registered: bool, room: u32) -> Option<Standing> {
        if !registered {
            return None;
        }
        let (lobby, settings) = (self, self.settings());
        let game = &settings.games[settings.rooms.get(room as usize)?.game?];
        let model = game.stats;
        if !(model.records || model.ratings || model.highscores) {
            return None;
        }
        let all = match lobby.accounts.store.player_stats(name).await {
            Ok(all) => all,
            Err(e) => {
                warn!(error = %e, "reading statistics for a player list");
                return None;
            }
        };
        let s = all.into_iter().find(|s| s.game == game.key);
        Some(Standing {
            records: model.records.then(|| {
                s.as_ref()
                    .map_or([0; 4], |s| [s.wins, s.losses, s.ties, s.forfeits])
            }),
            rating: model.ratings.then(|| {
                let r = s
                    .as_ref()
                    .map_or(f64::from(glou_core::rating::INITIAL_RATING), |s| s.rating);
                (r + 0.5) as i64
            }),
            highscore: model
                .highscores
                .then(|| s.as_ref().map_or(0, |s| s.highscore)),
        })
    }

    /// A game program's report: the match in the history, each kept player's records,
    /// rating and highscore as the game's statistics say, then the room hears the new
    /// standings (GGZ's `UPDATE player stats`).
    pub(super) async fn record_match(&self, room: RoomId, game: usize, entries: &[ReportEntry]) {
        let g = &self.settings().games[game];
        let mut players = Vec::with_capacity(entries.len());
        for e in entries {
            let kind = if e.seat_type == SeatType::Bot {
                PlayerKind::Bot
            } else {
                match self.read(|core| core.is_guest(&e.name)) {
                    Some(true) => PlayerKind::Guest,
                    Some(false) => PlayerKind::Registered,
                    // Gone meanwhile: registered if the name has an account.
                    None => match self.accounts.store.account(&e.name).await {
                        Ok(Some(_)) => PlayerKind::Registered,
                        _ => PlayerKind::Guest,
                    },
                }
            };
            players.push(MatchPlayer {
                name: e.name.clone(),
                kind,
                team: u32::try_from(e.team).ok(),
                outcome: match e.result {
                    GameResult::Win => Outcome::Win,
                    GameResult::Loss => Outcome::Loss,
                    GameResult::Tie => Outcome::Tie,
                    GameResult::Forfeit => Outcome::Forfeit,
                    GameResult::NoResult | GameResult::Unknown(_) => Outcome::None,
                },
                score: i64::from(e.score),
            });
        }
        let report = MatchReport {
            game: g.key.clone(),
            players,
        };
        match self
            .accounts
            .store
            .report_match(&report, g.stats, self.hub.now())
            .await
        {
            Ok(record) => info!(id = record.id, winner = %record.winner, "match recorded"),
            Err(e) => {
                warn!(error = %e, "recording a match");
                return;
            }
        }
        for p in report
            .players
            .iter()
            .filter(|p| p.kind == PlayerKind::Registered)
        {
            let Some(id) = self.read(|core| {
                core.find(&p.name)
                    .filter(|id| core.room_of(*id) == Some(room))
            }) else {
                continue;
            };
            let standing = self.standing(&p.name, true, room).await;
            self.run(Command::SetStanding {
                player: id,
                standing,
            })
            .await;
        }
    }

    /// `<ADMIN>`: gag, ungag, kick. A gag of a registered player is kept in their account.
    pub async fn admin(&self, id: PlayerId, action: AdminAction, target: &str, reason: &str) {
        let lobby = self;
        let allowed = lobby
            .read(|core| core.perms(id))
            .is_some_and(|p| p.has(Perm::RoomsAdmin));
        if allowed && matches!(action, AdminAction::Gag | AdminAction::Ungag) {
            match lobby.accounts.store.account(target).await {
                Ok(Some(a)) => {
                    if let Err(e) = lobby
                        .accounts
                        .store
                        .set_gagged(a.id, action == AdminAction::Gag)
                        .await
                    {
                        warn!(error = %e, "storing a gag");
                    }
                }
                Ok(None) => {}
                Err(e) => warn!(error = %e, "storing a gag"),
            }
        }
        lobby
            .run(Command::Admin {
                player: id,
                action,
                target: target.to_owned(),
                reason: reason.to_owned(),
            })
            .await;
    }
}
