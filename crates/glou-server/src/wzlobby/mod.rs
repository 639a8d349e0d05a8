//! The `wzlobby` listener: the Warzone 2100 lobby protocol (4.x) over TCP. A host asks
//! for a game id (`gaId`), lists its game (`addg` + GAMESTRUCT, answered with status
//! 200 and the message of the day), sends bare GAMESTRUCTs when the game changes and
//! `keep` every 25 s; its game is removed as soon as the connection closes or stays
//! silent for `idle_timeout`. A client sends `list` and gets every `warzone2100`
//! listing as GAMESTRUCTs. One task per connection; what the peer sends is decoded by
//! `glou_proto::wzlobby`, which never holds more than one command.

mod translate;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use glou_core::{EntryId, Filter, Listing, Query, Sort, Source};
use glou_proto::wzlobby::{self, Command, Decoder, GameStruct, ListReply, Status};
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use crate::gate::Gate;
use crate::http::admission::is_public;
use crate::hub::Hub;
use crate::metrics::DropLabels;

/// Settings of the listener.
#[derive(Clone, Debug)]
pub struct WzConfig {
    /// Sent with status 200 when a game is listed, and with every list.
    pub motd: String,
    /// A connection silent for this long is closed (and its game removed).
    pub idle_timeout: Duration,
}

impl Default for WzConfig {
    fn default() -> Self {
        Self {
            motd: "Welcome to Glou, the open game lounge.".into(),
            idle_timeout: Duration::from_secs(90),
        }
    }
}

/// How long one reply may take to write before the peer is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

struct Lobby {
    hub: Arc<Hub>,
    /// Changed by a reload: the MOTD of the next answer, the timeout of the next read.
    config: watch::Receiver<WzConfig>,
    allow_private: bool,
    /// The next game id; ids are unique for the process.
    next_id: AtomicU32,
}

impl Lobby {
    fn dropped(&self, reason: &'static str) {
        self.hub
            .metrics
            .dropped
            .get_or_create(&DropLabels {
                listener: "wzlobby",
                reason,
            })
            .inc();
    }
}

/// Serves the listener until `stop` turns true.
pub async fn serve(
    listener: TcpListener,
    gate: Arc<Gate>,
    hub: Arc<Hub>,
    config: watch::Receiver<WzConfig>,
    allow_private: bool,
    stop: watch::Receiver<bool>,
) {
    if let Ok(addr) = listener.local_addr() {
        info!(listener = "wzlobby", %addr, "listening");
    }
    let lobby = Arc::new(Lobby {
        hub,
        config,
        allow_private,
        next_id: AtomicU32::new(rand::rng().random_range(1..1 << 24)),
    });
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    warn!(error = %e, "wzlobby: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = crate::stopped(stop.clone()) => return,
        };
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        let Ok(pass) = gate.admit(peer.ip()) else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (lobby, stop) = (lobby.clone(), stop.clone());
        tokio::spawn(async move {
            let mut session = Session {
                lobby: &lobby,
                peer,
                game_id: None,
                listed: None,
            };
            if let Err(e) = session.run(stream, stop).await {
                debug!(%peer, error = %e, "wzlobby connection closed");
            }
            session.unlist();
            drop(pass);
        });
    }
}

/// One connection: a host with its game, or a client asking for the list.
struct Session<'a> {
    lobby: &'a Lobby,
    peer: SocketAddr,
    game_id: Option<u32>,
    /// The game this connection listed, and its listing as last announced.
    listed: Option<(EntryId, Listing)>,
}

impl Session<'_> {
    async fn run(&mut self, mut stream: TcpStream, stop: watch::Receiver<bool>) -> io::Result<()> {
        let stopped = crate::stopped(stop);
        tokio::pin!(stopped);
        let mut decoder = Decoder::new();
        let mut buf: Vec<u8> = Vec::with_capacity(wzlobby::MAX_COMMAND_LEN);
        let mut chunk = [0u8; 1024];
        loop {
            loop {
                match decoder.decode(&buf) {
                    Ok(Some((command, used))) => {
                        buf.drain(..used);
                        if !self.on_command(command, &mut stream).await? {
                            return Ok(());
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        self.dropped("malformed");
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
                    }
                }
            }
            // Never more than one command's worth: the decoder decides within it.
            let room = wzlobby::MAX_COMMAND_LEN.saturating_sub(buf.len()).max(1);
            let want = room.min(chunk.len());
            tokio::select! {
                read = tokio::time::timeout(self.lobby.config.borrow().idle_timeout, stream.read(&mut chunk[..want])) => {
                    let n = match read {
                        Ok(read) => read?,
                        Err(_) => {
                            self.dropped("idle");
                            debug!(peer = %self.peer, "wzlobby: idle; closing");
                            return Ok(());
                        }
                    };
                    if n == 0 {
                        return Ok(());
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                () = &mut stopped => return Ok(()),
            }
        }
    }

    /// Handles one command; `false` ends the connection.
    async fn on_command(&mut self, command: Command, stream: &mut TcpStream) -> io::Result<bool> {
        match command {
            Command::GameId => {
                let id = self.game_id();
                write(stream, &wzlobby::game_id_reply(id)).await?;
                Ok(true)
            }
            Command::AddGame(game) => {
                let motd = self.lobby.config.borrow().motd.clone();
                self.list(game, stream, motd).await
            }
            // An update says nothing new to the host: an empty message.
            Command::Update(game) => self.list(game, stream, String::new()).await,
            Command::KeepAlive => {
                self.refresh();
                Ok(true)
            }
            Command::List => {
                write(stream, &self.games().encode()).await?;
                Ok(false)
            }
        }
    }

    fn game_id(&mut self) -> u32 {
        *self
            .game_id
            .get_or_insert_with(|| self.lobby.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Lists (or updates) the host's game and answers with a status; a refusal closes
    /// the connection.
    async fn list(
        &mut self,
        mut game: GameStruct,
        stream: &mut TcpStream,
        message: String,
    ) -> io::Result<bool> {
        let ip = self.peer.ip();
        if !self.lobby.allow_private && !is_public(ip) {
            self.dropped("private_address");
            let refusal = refused("games from private addresses are not listed here");
            write(stream, &refusal.encode()).await?;
            return Ok(false);
        }
        // Clients join with the id this lobby gave out, whatever the host wrote.
        game.game_id = self.game_id();
        let listing = translate::listing(&game, ip);
        let now = self.lobby.hub.now();
        let id = self
            .listed
            .as_ref()
            .map_or_else(|| EntryId(rand::rng().random()), |(id, _)| *id);
        let moved = self
            .listed
            .as_ref()
            .is_some_and(|(_, old)| old.address != listing.address);
        let announced = self.lobby.hub.mutate(|reg| {
            if moved {
                reg.remove(id);
            }
            reg.announce(listing.clone(), Source::Wz, ip, id, None, now)
        });
        match announced {
            Ok(announced) => {
                if announced.created {
                    info!(peer = %self.peer, address = %listing.address, "wzlobby: game listed");
                }
                self.listed = Some((announced.entry.id, listing));
                write(stream, &Status::ok(message).encode()).await?;
                Ok(true)
            }
            Err(e) => {
                debug!(peer = %self.peer, error = %e, "wzlobby: game refused");
                self.dropped("refused");
                write(stream, &refused(&e.to_string()).encode()).await?;
                Ok(false)
            }
        }
    }

    /// `keep`: the game is still there.
    fn refresh(&self) {
        if let Some((id, listing)) = &self.listed {
            let now = self.lobby.hub.now();
            let ip = self.peer.ip();
            let _ = self
                .lobby
                .hub
                .mutate(|reg| reg.announce(listing.clone(), Source::Wz, ip, *id, None, now));
        }
    }

    /// Removes the game this connection listed (if it is still this connection's).
    fn unlist(&mut self) {
        if let Some((id, listing)) = self.listed.take() {
            let removed = self.lobby.hub.mutate(|reg| {
                let ours = reg.get(id).is_some_and(|e| e.source == Source::Wz);
                ours && reg.remove(id)
            });
            if removed {
                info!(peer = %self.peer, address = %listing.address, "wzlobby: game removed");
            }
        }
    }

    /// The answer to `list`: every `warzone2100` listing a client can connect to.
    fn games(&self) -> ListReply {
        let filter = Filter {
            games: vec![translate::GAME.to_string()],
            ..Filter::default()
        };
        let query = Query::new(filter, Sort::Players, wzlobby::MAX_LIST_GAMES);
        let entries = self.lobby.hub.read(|reg| reg.query(&query).entries);
        let games = entries
            .iter()
            .filter_map(|e| translate::game_struct(&e.listing))
            .collect();
        ListReply::new(games, Status::ok(self.lobby.config.borrow().motd.clone()))
    }

    fn dropped(&self, reason: &'static str) {
        self.lobby.dropped(reason);
    }
}

/// The status of a game Glou does not list.
fn refused(reason: &str) -> Status {
    Status {
        code: wzlobby::STATUS_NOT_ACCEPTABLE,
        message: reason.to_string(),
    }
}

async fn write(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<()> {
    match tokio::time::timeout(WRITE_TIMEOUT, stream.write_all(bytes)).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the peer does not read its replies",
        )),
    }
}
