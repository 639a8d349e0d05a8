//! The lobby's reads and writes of stored data: players' standings for player lists,
//! and admin actions that outlive the session (a gag is kept in the account).

use glou_core::account::Perm;
use glou_core::lobby::{AdminAction, PlayerId, Standing};
use tracing::warn;

use super::LobbyService;

impl LobbyService {
    /// A registered player's statistics in the game of a room, as player lists show them.
    pub async fn standing(&self, name: &str, registered: bool, room: u32) -> Option<Standing> {
        if !registered {
            return None;
        }
        let (lobby, settings) = (self, &self.settings);
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
        lobby.with(|core| core.admin(id, action, target, reason));
    }
}
