//! What a GGZ session asks of the accounts and statistics: the three logins with
//! every error code ggzd answers (PROTOCOL-NOTES §2.3), standings for player lists,
//! rankings, and the admin requests that persist (gag, permissions).

use std::net::SocketAddr;
use std::str::FromStr;

use glou_core::account::{NameError, Perm, Perms, check_name, token_digest};
use glou_core::lobby::{Command, Login, PlayerId};
use glou_proto::ggz::ServerMessage;
use glou_proto::ggz::client::LoginType;
use glou_proto::ggz::server::{Ranking, ResultAction, ResultCode};
use glou_store::{Refusal, StoreError};
use tokio::sync::mpsc;
use tracing::warn;

use crate::accounts::AccountError;
use crate::lobby::{LobbyService, Out, Proto};

/// A player logged in over GGZ.
pub struct LoggedIn {
    pub id: PlayerId,
    pub name: String,
    /// The account, for a registered player.
    pub account: Option<i64>,
    /// The session opened by a password login, ended at logout.
    pub token: Option<String>,
    /// A `first` login's password, returned to the client.
    pub new_password: Option<String>,
}

/// The session token and the new password are kept out of logs.
impl std::fmt::Debug for LoggedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggedIn")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

fn refused(first: bool, code: ResultCode) -> ServerMessage {
    if first {
        ServerMessage::LoginNew {
            code,
            password: None,
        }
    } else {
        ServerMessage::Result {
            action: ResultAction::Login,
            code,
        }
    }
}

fn name_code(e: NameError) -> ResultCode {
    match e {
        NameError::TooLong => ResultCode::TooLong,
        NameError::Empty | NameError::BadCharacters | NameError::Reserved => {
            ResultCode::BadUsername
        }
    }
}

/// `<LOGIN>`: guest, first (registration) or normal. A failed login may be retried on
/// the same connection (ggzd refused every retry; see docs/protocol/ggz.md).
pub async fn login(
    lobby: &LobbyService,
    peer: SocketAddr,
    kind: Option<LoginType>,
    name: Option<String>,
    password: Option<String>,
    email: Option<String>,
) -> Result<(LoggedIn, mpsc::Receiver<Out>), ServerMessage> {
    let first = matches!(kind, Some(LoginType::First));
    let fail = |code| refused(first, code);
    let Some(name) = name else {
        return Err(fail(ResultCode::BadOptions));
    };
    check_name(&name).map_err(|e| fail(name_code(e)))?;
    let online = || lobby.find(&name).is_some();
    if !matches!(kind, None | Some(LoginType::Guest)) && online() {
        return Err(fail(ResultCode::AlreadyLoggedIn));
    }
    let store = &lobby.accounts.store;
    let settings = lobby.settings();
    let store_failed = |e: StoreError| {
        warn!(error = %e, "ggz login: the store failed");
        fail(ResultCode::Unknown)
    };
    let (perms, guest, gagged, account, token, new_password) = match kind {
        None | Some(LoginType::Guest) => {
            if !settings.guests || store.name_registered(&name).await.map_err(store_failed)? {
                return Err(fail(ResultCode::WrongLoginType));
            }
            // A browser guest holding the name counts as logged in.
            if online()
                || store
                    .guest_name_in_use(&name, lobby.hub.now())
                    .await
                    .map_err(store_failed)?
            {
                return Err(fail(ResultCode::AlreadyLoggedIn));
            }
            (Perms::GUEST, true, false, None, None, None)
        }
        Some(LoginType::Normal) => {
            let Some(password) = password else {
                return Err(fail(ResultCode::BadOptions));
            };
            match lobby.accounts.login(&name, &password, peer.ip()).await {
                Ok(login) => {
                    let a = login
                        .session
                        .account
                        .expect("a password login has an account");
                    let token = login.token.as_str().to_owned();
                    (a.perms, false, a.gagged, Some(a.id), Some(token), None)
                }
                Err(AccountError::BadCredentials) => {
                    let known = store.name_registered(&name).await.map_err(store_failed)?;
                    return Err(fail(if known {
                        ResultCode::UsrLookup
                    } else {
                        ResultCode::UserNotFound
                    }));
                }
                Err(AccountError::Banned(_)) => return Err(fail(ResultCode::NoPermission)),
                Err(e) => {
                    warn!(error = %e, "ggz login refused");
                    return Err(fail(ResultCode::UsrLookup));
                }
            }
        }
        Some(LoginType::First) => {
            if !settings.registration {
                return Err(fail(ResultCode::WrongLoginType));
            }
            let Some(password) = password.filter(|p| !p.is_empty()) else {
                return Err(fail(ResultCode::BadPassword));
            };
            let email = email.filter(|e| !e.is_empty());
            match lobby
                .accounts
                .register(
                    &name,
                    &password,
                    email.as_deref(),
                    Perms::REGISTERED,
                    peer.ip(),
                )
                .await
            {
                Ok(a) => (a.perms, false, a.gagged, Some(a.id), None, Some(password)),
                Err(AccountError::Name(e)) => return Err(fail(name_code(e))),
                Err(AccountError::Field(_)) => return Err(fail(ResultCode::BadPassword)),
                Err(AccountError::Store(StoreError::Refused(Refusal::NameTaken))) => {
                    return Err(fail(ResultCode::UsernameTaken));
                }
                Err(AccountError::TooManyRegistrations) => {
                    return Err(fail(ResultCode::NoPermission));
                }
                Err(e) => {
                    warn!(error = %e, "ggz registration failed");
                    return Err(fail(ResultCode::Unknown));
                }
            }
        }
        Some(LoginType::Unknown(_)) => return Err(fail(ResultCode::BadOptions)),
    };
    let login = Login {
        name: name.clone(),
        perms,
        guest,
        gagged,
        needs_channel: true,
    };
    match lobby.enter_lobby(login, Proto::Ggz, peer.ip()).await {
        Ok((id, rx)) => Ok((
            LoggedIn {
                id,
                name,
                account,
                token,
                new_password,
            },
            rx,
        )),
        Err(e) => {
            if let Some(t) = &token {
                let _ = lobby.accounts.logout(t).await;
            }
            Err(fail(super::translate::code(Err(e))))
        }
    }
}

/// Ends what the login opened.
pub async fn logged_out(lobby: &LobbyService, login: &LoggedIn) {
    if let Some(token) = &login.token
        && let Err(e) = lobby
            .accounts
            .store
            .revoke_session(&token_digest(token))
            .await
    {
        warn!(error = %e, "ending a ggz login session");
    }
}

/// `<RANKINGS/>` at a table: the top 10 of its game. Nothing when not at a table.
pub async fn rankings(lobby: &LobbyService, id: PlayerId) -> Option<Vec<Ranking>> {
    let (game, _, _) = lobby.read(|core| core.game_at(id))?;
    let game = &lobby.settings().games[game];
    let rows = lobby
        .accounts
        .store
        .rankings(&game.key, game.stats.rank_model()?, 0, 10)
        .await
        .map_err(|e| warn!(error = %e, "reading rankings"))
        .ok()?;
    Some(
        rows.into_iter()
            .map(|r| Ranking {
                position: u32::try_from(r.rank).unwrap_or(u32::MAX),
                player: r.stats.player,
                score: if game.stats.highscores {
                    r.stats.highscore
                } else if game.stats.ratings {
                    (r.stats.rating + 0.5) as i64
                } else {
                    r.stats.wins - r.stats.losses
                },
            })
            .collect(),
    )
}

/// `<ADMINPERM>`: grants or revokes one permission (needs `rooms_admin`); kept in the
/// account of a registered player, live for whoever is online.
pub async fn admin_perm(
    lobby: &LobbyService,
    id: PlayerId,
    player: Option<&str>,
    perm: Option<&str>,
    value: bool,
) -> ResultCode {
    let allowed = lobby
        .read(|core| core.perms(id))
        .is_some_and(|p| p.has(Perm::RoomsAdmin));
    if !allowed {
        return ResultCode::NoPermission;
    }
    let (Some(player), Some(perm)) = (player, perm.and_then(|p| Perm::from_str(p).ok())) else {
        return ResultCode::BadOptions;
    };
    let online = lobby.read(|core| core.find(player).and_then(|p| Some((p, core.perms(p)?))));
    let stored = match lobby.accounts.store.account(player).await {
        Ok(a) => a,
        Err(e) => {
            warn!(error = %e, "reading an account for ADMINPERM");
            return ResultCode::Unknown;
        }
    };
    if online.is_none() && stored.is_none() {
        return ResultCode::UsrLookup;
    }
    if let Some(a) = &stored
        && let Err(e) = lobby
            .accounts
            .store
            .set_perms(a.id, a.perms.with(perm, value))
            .await
    {
        warn!(error = %e, "storing permissions");
        return ResultCode::Unknown;
    }
    if let Some((target, perms)) = online {
        lobby
            .run(Command::SetPerms {
                player: target,
                perms: perms.with(perm, value),
            })
            .await;
    }
    ResultCode::Ok
}
