//! One GGZ connection: the greeting, then either a player's session (login, then
//! requests translated into lobby calls, with the lobby's messages written back in
//! order) or a CHANNEL connection handed to the lobby for the player's table. Lag is
//! measured with PING/PONG on the connection's own timer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use glou_core::lobby::{Command, PlayerId, ReseatAction, SeatKind, SeatSpec, TableEdit, TableSpec};
use glou_proto::ggz::client::{self, AdminAction, ListType};
use glou_proto::ggz::server::{GameAbout, GameInfo, ResultAction, ResultCode, SeatPlayerInfo};
use glou_proto::ggz::{
    ClientDecoder, ClientItem, ClientMessage, Limits, SESSION_END, SeatType, ServerMessage,
    XmlError,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, WriteHalf};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tracing::{debug, info};

use super::login::{self, LoggedIn};
use super::translate;
use crate::gate::Gate;
use crate::lobby::{LobbyService, Out};
use crate::tls::{Prefixed, Tls};

/// Time to log in (or name a channel) before the connection is closed.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(60);
/// The first lag measurement, after login.
const FIRST_PING: Duration = Duration::from_secs(5);
/// A write that takes longer than this means the client stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes written in one go when draining the lobby's queue.
const BATCH: usize = 64 * 1024;

/// The `ID` of the greeting: GGZ servers send `GGZ-<version>`.
fn server_id() -> String {
    format!("GGZ-glou-{}", env!("CARGO_PKG_VERSION"))
}

/// A logged-in player's side of the session (the lobby's queue to it is kept apart,
/// so that reading the socket and the queue can wait side by side).
struct Player {
    login: LoggedIn,
    ping: Ping,
}

/// The lag measurement: a PING is due at `due`, or one is out since `sent`.
struct Ping {
    due: Instant,
    sent: Option<Instant>,
    class: u8,
}

enum Next {
    Go,
    /// Close the connection (after writing what is queued).
    Close,
    /// The connection became the named player's game channel.
    Channel(PlayerId),
    /// The client sent `<TLS_START/>`: the TLS handshake comes next.
    StartTls,
}

/// Where a session writes: the socket's write half, or that of its TLS stream.
trait Sink: AsyncWrite + Unpin + Send {
    /// Writes what the socket takes at once, without waiting; `None` when this sink
    /// cannot (TLS encrypts first).
    fn try_write_now(&mut self, bytes: &[u8]) -> Option<std::io::Result<usize>>;
}

impl Sink for OwnedWriteHalf {
    fn try_write_now(&mut self, bytes: &[u8]) -> Option<std::io::Result<usize>> {
        Some(self.try_write(bytes))
    }
}

impl<S: AsyncRead + AsyncWrite + Send> Sink for WriteHalf<S> {
    fn try_write_now(&mut self, _: &[u8]) -> Option<std::io::Result<usize>> {
        None
    }
}

/// A session's state, kept across a switch to TLS.
struct Session {
    lobby: Arc<LobbyService>,
    peer: SocketAddr,
    decoder: ClientDecoder,
    player: Option<Player>,
    rx: Option<mpsc::Receiver<Out>>,
    channel: Option<PlayerId>,
    batch: Vec<u8>,
    login_deadline: Instant,
    /// `TLS_START` is accepted (offered, and not done yet).
    tls_offered: bool,
}

pub(super) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    lobby: Arc<LobbyService>,
    tls: Option<(Tls, Arc<Gate>)>,
    mut stop: watch::Receiver<bool>,
) {
    let settings = lobby.settings();
    let (mut rd, mut wr) = stream.into_split();
    let mut hello = String::new();
    if lobby.read(|core| core.online()) >= settings.max_clients {
        hello.push_str("<?xml version='1.0' encoding='UTF-8'?>\n");
        ServerMessage::ServerFull {
            id: server_id(),
            name: settings.server_name.clone(),
        }
        .encode(&mut hello);
        let _ = write(&mut wr, hello.as_bytes()).await;
        return;
    }
    ServerMessage::Greeting {
        id: server_id(),
        name: settings.server_name.clone(),
        tls: tls.is_some(),
        chat_len: u32::try_from(settings.core.chat_len).unwrap_or(u32::MAX),
    }
    .encode(&mut hello);
    if write(&mut wr, hello.as_bytes()).await.is_err() {
        return;
    }
    let mut session = Session {
        lobby,
        peer,
        decoder: ClientDecoder::new(Limits::default()),
        player: None,
        rx: None,
        channel: None,
        batch: Vec::new(),
        login_deadline: Instant::now() + LOGIN_TIMEOUT,
        tls_offered: tls.is_some(),
    };
    let ended = session.serve(&mut rd, &mut wr, &mut stop).await;
    match ended {
        Next::StartTls => {
            let Some((tls, gate)) = tls else { return };
            let Ok(stream) = rd.reunite(wr) else { return };
            // What came after `<TLS_START/>` is the client's first handshake bytes.
            let stream = Prefixed::new(session.decoder.take_unread(), stream);
            let timeout = gate.limits().handshake_timeout;
            let stream = match tokio::time::timeout(timeout, tls.acceptor().accept(stream)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    debug!(error = %e, "ggz: TLS handshake failed");
                    gate.refused("tls");
                    return;
                }
                Err(_) => {
                    gate.refused("handshake_timeout");
                    return;
                }
            };
            let (mut rd, mut wr) = tokio::io::split(stream);
            let ended = session.serve(&mut rd, &mut wr, &mut stop).await;
            if matches!(ended, Next::Channel(_)) {
                // A game channel is handed to the game's program as a plain socket.
                debug!("ggz: a game channel cannot run over TLS; closing");
            }
            session.finish(&mut wr).await;
        }
        Next::Channel(id) => {
            session.finish(&mut wr).await;
            let leftover = session.decoder.into_remaining();
            match rd.reunite(wr) {
                Ok(stream) => {
                    session
                        .lobby
                        .hold_channel(id, stream, leftover, SESSION_END.as_bytes())
                        .await;
                }
                Err(e) => debug!(error = %e, "reuniting a channel"),
            }
        }
        Next::Go | Next::Close => session.finish(&mut wr).await,
    }
}

impl Session {
    /// Reads requests and writes the lobby's messages until the connection ends,
    /// becomes a game channel, or switches to TLS.
    async fn serve<R, W>(
        &mut self,
        rd: &mut R,
        wr: &mut W,
        stop: &mut watch::Receiver<bool>,
    ) -> Next
    where
        R: AsyncRead + Unpin,
        W: Sink,
    {
        let mut buf = [0u8; 1024];
        let mut new_rx = None;
        // One timer and one stop watch for the whole session, not one per message: a
        // timer entry made and dropped at every delivery costs more than the delivery.
        let timer = tokio::time::sleep_until(self.login_deadline);
        let stop = stopped(stop);
        tokio::pin!(timer, stop);
        loop {
            let deadline = match &self.player {
                Some(p) => p.ping.deadline(&self.lobby),
                None => self.login_deadline,
            };
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
            let next = tokio::select! {
                read = rd.read(&mut buf) => match read {
                    Ok(0) | Err(_) => Next::Close,
                    Ok(n) => {
                        self.decoder.feed(&buf[..n]);
                        let mut s = Input {
                            lobby: &self.lobby,
                            peer: self.peer,
                            wr: &mut *wr,
                            player: &mut self.player,
                            rx: &mut new_rx,
                            channel: &mut self.channel,
                            tls_offered: self.tls_offered,
                        };
                        s.drain(&mut self.decoder).await
                    }
                },
                out = recv(&mut self.rx) => match out {
                    Some(out) => flush(&mut *wr, &mut self.rx, out, &mut self.batch).await,
                    // The lobby let go of this player (too slow, or kicked).
                    None => Next::Close,
                },
                () = &mut timer => match &mut self.player {
                    Some(p) => {
                        p.ping.tick(&self.lobby, p.login.id);
                        Next::Go
                    }
                    None => {
                        debug!("no login in time");
                        Next::Close
                    }
                },
                () = &mut stop => Next::Close,
            };
            if new_rx.is_some() {
                self.rx = new_rx.take();
            }
            match next {
                Next::Go => {}
                Next::StartTls => {
                    self.tls_offered = false;
                    return Next::StartTls;
                }
                other => return other,
            }
        }
    }

    /// Writes whatever the lobby queued before the end (the answer to a last
    /// request, the closing `</SESSION>`) and takes the player out of the lobby.
    async fn finish<W: Sink>(&mut self, wr: &mut W) {
        if let Some(rx) = &mut self.rx {
            while let Ok(out) = rx.try_recv() {
                if let Out::Text(t) | Out::Close(t) = out {
                    self.batch.extend_from_slice(t.as_bytes());
                }
            }
            if !self.batch.is_empty() {
                let _ = write(wr, &self.batch).await;
            }
        }
        if let Some(p) = self.player.take() {
            self.lobby.leave_lobby(p.login.id).await;
            login::logged_out(&self.lobby, &p.login).await;
            info!(player = %p.login.name, "ggz: logged out");
        }
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|&s| s).await;
}

/// The next message the lobby queued for this player (never, before login).
async fn recv(rx: &mut Option<mpsc::Receiver<Out>>) -> Option<Out> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Writes a queued message and whatever else is queued behind it, in one write.
async fn flush<W: Sink>(
    wr: &mut W,
    rx: &mut Option<mpsc::Receiver<Out>>,
    first: Out,
    batch: &mut Vec<u8>,
) -> Next {
    /// Appends a message; true if the connection closes after it.
    fn push(out: Out, batch: &mut Vec<u8>) -> bool {
        if let Out::Text(t) | Out::Close(t) = &out {
            batch.extend_from_slice(t.as_bytes());
        }
        matches!(out, Out::Close(_))
    }
    let mut close = push(first, batch);
    if let Some(rx) = rx {
        while batch.len() < BATCH && !close {
            match rx.try_recv() {
                Ok(out) => close = push(out, batch),
                Err(_) => break,
            }
        }
    }
    let written = write(wr, batch).await;
    batch.clear();
    if batch.capacity() > 4 * BATCH {
        *batch = Vec::new();
    }
    if written.is_err() || close {
        Next::Close
    } else {
        Next::Go
    }
}

/// Writes `bytes`, giving up after [`WRITE_TIMEOUT`]. Most writes fit the socket's
/// buffer at once and go out without arming the timeout.
async fn write<W: Sink>(wr: &mut W, mut bytes: &[u8]) -> std::io::Result<()> {
    match wr.try_write_now(bytes) {
        Some(Ok(n)) if n == bytes.len() => return Ok(()),
        Some(Ok(n)) => bytes = &bytes[n..],
        Some(Err(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Some(Err(e)) => return Err(e),
        None => {}
    }
    let all = async {
        wr.write_all(bytes).await?;
        wr.flush().await
    };
    match tokio::time::timeout(WRITE_TIMEOUT, all).await {
        Ok(result) => result,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the client stopped reading",
        )),
    }
}

/// What handling the input needs of the session.
struct Input<'a, W> {
    lobby: &'a Arc<LobbyService>,
    peer: SocketAddr,
    wr: &'a mut W,
    player: &'a mut Option<Player>,
    /// Where a login puts the lobby's queue to the new player.
    rx: &'a mut Option<mpsc::Receiver<Out>>,
    channel: &'a mut Option<PlayerId>,
    tls_offered: bool,
}

impl<W: Sink> Input<'_, W> {
    /// Handles every complete message the decoder holds.
    async fn drain(&mut self, decoder: &mut ClientDecoder) -> Next {
        loop {
            let item = match decoder.next() {
                Ok(Some(item)) => item,
                Ok(None) => return Next::Go,
                Err(e) => {
                    let code = match e {
                        XmlError::BadXml(_) => ResultCode::BadXml,
                        XmlError::TooLong => ResultCode::BadOptions,
                    };
                    debug!(error = %e, "ggz: closing on bad input");
                    self.reply(result(ResultAction::Protocol, code)).await;
                    return Next::Close;
                }
            };
            let next = match item {
                ClientItem::SessionStart => Next::Go,
                // A channel's `</SESSION>` is answered once the lobby holds it.
                ClientItem::SessionEnd => match self.channel {
                    Some(id) => Next::Channel(*id),
                    None => {
                        self.reply(SESSION_END.to_string()).await;
                        Next::Close
                    }
                },
                ClientItem::Message(msg) => match self.player {
                    Some(p) => {
                        on_message(self.lobby, p, msg).await;
                        Next::Go
                    }
                    None => self.before_login(msg).await,
                },
            };
            if !matches!(next, Next::Go) {
                return next;
            }
        }
    }

    /// Sends a reply: through the lobby's queue once logged in (so it keeps its place
    /// among the lobby's messages), straight to the socket before.
    async fn reply(&mut self, text: String) {
        match self.player {
            Some(p) => self.lobby.send(p.login.id, text),
            None => {
                let _ = write(self.wr, text.as_bytes()).await;
            }
        }
    }

    /// A message before login: LOGIN, CHANNEL, PING; the rest is refused.
    async fn before_login(&mut self, msg: ClientMessage) -> Next {
        let lobby = self.lobby;
        let refuse = |action| result(action, ResultCode::NotLoggedIn);
        let text = match msg {
            ClientMessage::Login {
                kind,
                name,
                password,
                email,
            } => match login::login(lobby, self.peer, kind, name, password, email).await {
                Ok((logged, rx)) => {
                    let id = logged.id;
                    info!(player = %logged.name, "ggz: logged in");
                    let answer = match &logged.new_password {
                        Some(pw) => ServerMessage::LoginNew {
                            code: ResultCode::Ok,
                            password: Some(pw.clone()),
                        },
                        None => ServerMessage::Result {
                            action: ResultAction::Login,
                            code: ResultCode::Ok,
                        },
                    };
                    lobby.send(id, encode(&answer));
                    lobby.send(id, motd(lobby));
                    *self.rx = Some(rx);
                    *self.player = Some(Player {
                        login: logged,
                        ping: Ping {
                            due: Instant::now() + FIRST_PING,
                            sent: None,
                            class: 1,
                        },
                    });
                    return Next::Go;
                }
                Err(answer) => encode(&answer),
            },
            ClientMessage::Channel { id } => {
                // The protocol carries no proof: the player must be logged in over GGZ
                // from the same address.
                match id.as_deref().and_then(|name| lobby.find(name)) {
                    Some((player_id, ip)) if ip == self.peer.ip() => {
                        *self.channel = Some(player_id);
                        return Next::Go;
                    }
                    _ => {
                        let text = result(ResultAction::Channel, ResultCode::UsrLookup);
                        let _ = write(self.wr, text.as_bytes()).await;
                        return Next::Close;
                    }
                }
            }
            ClientMessage::Ping { id } => encode(&ServerMessage::Pong { id }),
            ClientMessage::Language(_)
            | ClientMessage::Pong { .. }
            | ClientMessage::Unknown { .. }
            | ClientMessage::Motd
            | ClientMessage::Info { .. }
            | ClientMessage::Rankings => return Next::Go,
            ClientMessage::List { .. } => refuse(ResultAction::List),
            ClientMessage::Enter { .. } => refuse(ResultAction::Enter),
            ClientMessage::Chat { .. } => refuse(ResultAction::Chat),
            ClientMessage::Launch { .. } => refuse(ResultAction::Launch),
            ClientMessage::Join { .. } => refuse(ResultAction::Join),
            ClientMessage::Leave { .. } => refuse(ResultAction::Leave),
            ClientMessage::Reseat { .. } => refuse(ResultAction::Reseat),
            ClientMessage::Update { .. } => refuse(ResultAction::Update),
            ClientMessage::Admin { .. } | ClientMessage::AdminPerm { .. } => {
                refuse(ResultAction::Admin)
            }
            ClientMessage::TlsStart if self.tls_offered => return Next::StartTls,
            ClientMessage::TlsStart => result(ResultAction::Protocol, ResultCode::BadOptions),
        };
        self.reply(text).await;
        Next::Go
    }
}

fn result(action: ResultAction, code: ResultCode) -> String {
    encode(&ServerMessage::Result { action, code })
}

fn encode(m: &ServerMessage) -> String {
    let mut out = String::new();
    m.encode(&mut out);
    out
}

pub(super) fn motd(lobby: &LobbyService) -> String {
    encode(&ServerMessage::Motd {
        url: lobby.settings().web_motd.clone(),
        text: lobby.motd(),
    })
}

/// A request of a logged-in player.
async fn on_message(lobby: &Arc<LobbyService>, p: &mut Player, msg: ClientMessage) {
    let id = p.login.id;
    let send = |m: ServerMessage| lobby.send(id, encode(&m));
    let bad = |action| lobby.send(id, result(action, ResultCode::BadOptions));
    match msg {
        ClientMessage::Login { .. } => send(ServerMessage::Result {
            action: ResultAction::Login,
            code: ResultCode::AlreadyLoggedIn,
        }),
        ClientMessage::Language(_) | ClientMessage::Unknown { .. } => {}
        ClientMessage::List { kind, full } => list(lobby, id, kind, full),
        ClientMessage::Enter { room } => match room.and_then(|r| u32::try_from(r).ok()) {
            Some(room) => {
                let standing = lobby
                    .standing(&p.login.name, p.login.account.is_some(), room)
                    .await;
                lobby
                    .run(Command::Enter {
                        player: id,
                        room,
                        standing,
                    })
                    .await;
            }
            None => lobby.send(id, result(ResultAction::Enter, ResultCode::BadOptions)),
        },
        ClientMessage::Chat { kind, to, text } => {
            let now = lobby.hub.now();
            let kind = translate::chat_kind(kind.as_ref());
            lobby
                .run(Command::Chat {
                    player: id,
                    kind,
                    to,
                    text,
                    now,
                })
                .await;
        }
        ClientMessage::Ping { id: ping } => send(ServerMessage::Pong { id: ping }),
        ClientMessage::Pong { .. } => p.ping.pong(lobby, id),
        ClientMessage::Motd => lobby.send(id, motd(lobby)),
        ClientMessage::Launch { table } => match table.and_then(|t| table_spec(&t)) {
            Some(spec) => {
                lobby.run(Command::Launch { player: id, spec }).await;
            }
            None => bad(ResultAction::Launch),
        },
        ClientMessage::Join {
            table,
            spectator,
            seat,
        } => match table.and_then(|t| u32::try_from(t).ok()) {
            Some(table) => {
                let seat = seat.and_then(|s| u32::try_from(s).ok());
                lobby
                    .run(Command::Join {
                        player: id,
                        table,
                        spectator,
                        seat,
                    })
                    .await;
            }
            None => send(ServerMessage::Result {
                action: ResultAction::Join,
                code: ResultCode::NoTable,
            }),
        },
        ClientMessage::Leave { force, .. } => {
            lobby.run(Command::Leave { player: id, force }).await;
        }
        ClientMessage::Reseat { action, seat } => {
            let action = match action {
                Some(client::ReseatAction::Sit) => Some(ReseatAction::Sit),
                Some(client::ReseatAction::Stand) => Some(ReseatAction::Stand),
                Some(client::ReseatAction::Move) => Some(ReseatAction::Move),
                Some(client::ReseatAction::Unknown(_)) | None => None,
            };
            match action {
                Some(action) => {
                    let seat = seat.and_then(|s| u32::try_from(s).ok());
                    lobby
                        .run(Command::Reseat {
                            player: id,
                            action,
                            seat,
                        })
                        .await;
                }
                None => bad(ResultAction::Reseat),
            }
        }
        ClientMessage::Update {
            kind,
            action,
            table,
            ..
        } => match table_edit(kind.as_deref(), action.as_deref(), table) {
            Some((table, edit)) => {
                let edits = vec![edit];
                lobby
                    .run(Command::EditTable {
                        player: id,
                        table,
                        edits,
                    })
                    .await;
            }
            None => bad(ResultAction::Update),
        },
        ClientMessage::Admin {
            action,
            player,
            reason,
        } => {
            let action = match action {
                Some(AdminAction::Gag) => Some(glou_core::lobby::AdminAction::Gag),
                Some(AdminAction::Ungag) => Some(glou_core::lobby::AdminAction::Ungag),
                Some(AdminAction::Kick) => Some(glou_core::lobby::AdminAction::Kick),
                Some(AdminAction::Ban | AdminAction::Unknown(_)) | None => None,
            };
            match (action, player) {
                (Some(action), Some(target)) => {
                    lobby
                        .admin(id, action, &target, reason.as_deref().unwrap_or(""))
                        .await
                }
                _ => bad(ResultAction::Admin),
            }
        }
        ClientMessage::AdminPerm {
            player,
            perm,
            value,
        } => {
            let code =
                login::admin_perm(lobby, id, player.as_deref(), perm.as_deref(), value).await;
            send(ServerMessage::Result {
                action: ResultAction::Admin,
                code,
            });
        }
        ClientMessage::Info { seat } => {
            if let Some(info) = info(lobby, id, seat).await {
                send(ServerMessage::Info(info));
            }
        }
        ClientMessage::Rankings => {
            if let Some(rankings) = login::rankings(lobby, id).await {
                send(ServerMessage::Rankings(rankings));
            }
        }
        ClientMessage::Channel { .. } => bad(ResultAction::Channel),
        ClientMessage::TlsStart => bad(ResultAction::Protocol),
    }
}

/// `<LIST>`: the answer, or GGZ's errors (an unknown TYPE is a protocol error).
fn list(lobby: &LobbyService, id: PlayerId, kind: Option<ListType>, full: bool) {
    let settings = lobby.settings();
    let text = lobby.read(|core| {
        let in_room = |f: &dyn Fn(u32) -> ServerMessage| match core.room_of(id) {
            Some(room) => encode(&f(room)),
            None => result(ResultAction::List, ResultCode::NotInRoom),
        };
        match kind {
            None => result(ResultAction::List, ResultCode::BadOptions),
            Some(ListType::Unknown(_)) => result(ResultAction::Protocol, ResultCode::BadOptions),
            Some(ListType::Game) => encode(&ServerMessage::GameList(
                (0..)
                    .zip(&settings.games)
                    .filter(|(_, g)| !g.closed)
                    .map(|(gid, g)| GameInfo {
                        id: gid,
                        name: g.name.clone(),
                        version: g.version.clone(),
                        engine: g.engine.clone(),
                        engine_version: g.engine_version.clone(),
                        players: g.players.to_string(),
                        bots: g.bots.to_string(),
                        spectators: g.spectators,
                        peers: g.peers,
                        named_bots: g.named_bots.clone(),
                        about: full.then(|| GameAbout {
                            author: g.author.clone(),
                            url: g.homepage.clone(),
                            desc: g.description.clone(),
                        }),
                    })
                    .collect(),
            )),
            Some(ListType::Room) => encode(&ServerMessage::RoomList(
                core.rooms()
                    .into_iter()
                    .map(|r| translate::room_info(&settings, r.id, r.players, full))
                    .collect(),
            )),
            Some(ListType::Player) => in_room(&|room| ServerMessage::PlayerList {
                room: i32::try_from(room).unwrap_or(i32::MAX),
                players: core
                    .players(room)
                    .iter()
                    .map(translate::player_info)
                    .collect(),
            }),
            Some(ListType::Table) => in_room(&|room| ServerMessage::TableList {
                room: i32::try_from(room).unwrap_or(i32::MAX),
                tables: core
                    .tables(room)
                    .iter()
                    .map(translate::table_info)
                    .collect(),
            }),
        }
    });
    lobby.send(id, text);
}

/// A `<TABLE>` of `LAUNCH`: seats not listed are open; at most 32 seats.
fn table_spec(t: &client::TableSpec) -> Option<TableSpec> {
    let count = match t.seats {
        Some(n) => usize::try_from(n).ok()?,
        None => t.seat_list.len(),
    };
    if count > 32 {
        return None;
    }
    let mut seats = vec![
        SeatSpec {
            kind: SeatKind::Open,
            name: None,
        };
        count
    ];
    for s in &t.seat_list {
        let num = usize::try_from(s.num?).ok()?;
        *seats.get_mut(num)? = seat_spec(s)?;
    }
    Some(TableSpec {
        game: t.game.and_then(|g| usize::try_from(g).ok()),
        desc: t.desc.clone().unwrap_or_default(),
        seats,
    })
}

fn seat_spec(s: &client::SeatSpec) -> Option<SeatSpec> {
    let kind = match s.kind? {
        SeatType::Open => SeatKind::Open,
        SeatType::Bot => SeatKind::Bot,
        SeatType::Reserved => SeatKind::Reserved,
        SeatType::None | SeatType::Player | SeatType::Abandoned => return None,
    };
    Some(SeatSpec {
        kind,
        name: s.name.clone().filter(|n| !n.is_empty()),
    })
}

/// A client `<UPDATE TYPE='table' ACTION='desc|seat|boot'>`.
fn table_edit(
    kind: Option<&str>,
    action: Option<&str>,
    table: Option<client::TableSpec>,
) -> Option<(u32, TableEdit)> {
    if !kind?.eq_ignore_ascii_case("table") {
        return None;
    }
    let table = table?;
    let id = u32::try_from(table.id?).ok()?;
    let action = action?.to_ascii_lowercase();
    let edit = match action.as_str() {
        "desc" => TableEdit::Desc(table.desc.unwrap_or_default()),
        "seat" => {
            let s = table.seat_list.first()?;
            TableEdit::Seat {
                num: u32::try_from(s.num?).ok()?,
                seat: seat_spec(s)?,
            }
        }
        "boot" => TableEdit::Boot {
            name: table.seat_list.first()?.name.clone()?,
        },
        _ => return None,
    };
    Some((id, edit))
}

/// `<INFO>`: who sits at the player's table (or one seat of it).
/// `INFO`: each seated player's real name (from their account) and, when the game lets
/// players see each other's addresses (`peers`), their address.
async fn info(
    lobby: &LobbyService,
    id: PlayerId,
    seat: Option<i64>,
) -> Option<Vec<SeatPlayerInfo>> {
    let (game, seated) = lobby.read(|core| {
        let (game, room, table) = core.game_at(id)?;
        Some((game, core.seated(room, table)))
    })?;
    let peers = lobby.settings().games.get(game).is_some_and(|g| g.peers);
    let mut out = Vec::new();
    for (num, name) in seated {
        if seat.is_some_and(|s| i64::from(num) != s) {
            continue;
        }
        let realname = match lobby.accounts.store.account(&name).await {
            Ok(Some(account)) => account.real_name,
            _ => String::new(),
        };
        let host = match lobby.find(&name) {
            Some((_, ip)) if peers => ip.to_string(),
            _ => String::new(),
        };
        out.push(SeatPlayerInfo {
            seat: i32::try_from(num).unwrap_or(i32::MAX),
            realname,
            photo: String::new(),
            host,
        });
    }
    Some(out)
}

impl Ping {
    /// When the session must next look at the lag.
    fn deadline(&self, lobby: &LobbyService) -> Instant {
        match self.sent {
            None => self.due,
            Some(sent) => match lobby
                .settings()
                .lag_classes
                .get(usize::from(self.class) - 1)
            {
                Some(threshold) => sent + *threshold,
                None => sent + lobby.settings().ping_interval,
            },
        }
    }

    /// The deadline passed: send a PING, or raise the lag class of an unanswered one.
    fn tick(&mut self, lobby: &LobbyService, id: PlayerId) {
        match self.sent {
            None => {
                self.sent = Some(Instant::now());
                lobby.send(id, encode(&ServerMessage::Ping { id: None }));
            }
            // Already in the worst class: ask again later.
            Some(_) if self.class >= 5 => {
                self.sent = None;
                self.due = Instant::now() + lobby.settings().ping_interval;
            }
            Some(_) => {
                self.class += 1;
                let lag = self.class;
                lobby.post(Command::SetLag { player: id, lag });
            }
        }
    }

    /// The PONG came: the lag class from the round trip, the next PING later.
    fn pong(&mut self, lobby: &LobbyService, id: PlayerId) {
        let Some(sent) = self.sent.take() else { return };
        let rtt = sent.elapsed();
        let above = lobby
            .settings()
            .lag_classes
            .iter()
            .filter(|t| rtt >= **t)
            .count();
        self.class = 1 + u8::try_from(above).unwrap_or(4);
        let lag = self.class;
        lobby.post(Command::SetLag { player: id, lag });
        self.due = Instant::now() + lobby.settings().ping_interval;
    }
}
