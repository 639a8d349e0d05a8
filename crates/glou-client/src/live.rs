//! The WebSocket (`/api/v1/ws`): live server lists, friends' presence and the lobby over
//! one connection that keeps itself up. When it drops, it reconnects (to the next base
//! URL if the first is gone, backing off up to 30 s), resumes every subscription where
//! it left off, and logs back into the lobby and the room it was in. A fresh snapshot
//! after a reconnect is compared with what the subscriber already has, so the
//! subscriber only ever sees additions, updates and removals.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use glou_proto::native::ClientMessage;
use glou_proto::native::PresenceDto;
use glou_proto::native::lobby::{LobbyMessage, LobbyRequest};
use glou_proto::native::{ErrorDetail, ServerDto};
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tracing::debug;

use crate::{Client, Error, filter};

/// The server pings every 30 s: silence for this long means the connection is dead.
const SILENCE: Duration = Duration::from_secs(75);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Lobby requests made while disconnected, sent once connected.
const MAX_QUEUED: usize = 256;

/// How a listed server changed for a subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    Updated,
    Removed,
}

/// What the live connection reports.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveEvent {
    /// Connected (again) to the server at `url`.
    Connected { url: String },
    /// The connection is lost or cannot be made; it is being retried.
    Disconnected { error: String },
    /// A server of subscription `sub` appeared, changed or went.
    Server {
        sub: String,
        change: Change,
        server: ServerDto<'static>,
    },
    /// Subscription `sub` is in step with the server (after its first list, and after
    /// catching up on a reconnect).
    Synced { sub: String },
    /// The connection carries the session of `name`.
    Session { name: String },
    /// The player's friends (at the start and whenever the list changes).
    Friends { names: Vec<String> },
    /// Where a friend is now.
    Presence { name: String, presence: PresenceDto },
    /// A lobby message; `request` is the [`Live::lobby`] request it answers, if any.
    Lobby {
        request: Option<u64>,
        message: LobbyMessage,
    },
    /// The server refused a subscription (`sub`) or a message.
    Refused {
        sub: Option<String>,
        error: ErrorDetail,
    },
}

#[derive(Debug)]
enum Cmd {
    Subscribe {
        tag: String,
        filter: Map<String, Value>,
    },
    Unsubscribe {
        tag: String,
    },
    Lobby {
        id: u64,
        request: LobbyRequest,
    },
    Reconnect,
}

/// The handle of a live connection; dropping it closes the connection.
#[derive(Debug)]
pub struct Live {
    cmds: mpsc::UnboundedSender<Cmd>,
    next_request: Arc<AtomicU64>,
}

impl Live {
    /// Opens the connection (with the client's session, if it has one) in a task of the
    /// current Tokio runtime; what it reports goes to `events`. A full `events` holds
    /// the connection back (and the server drops a connection that stops reading, so
    /// keep reading).
    pub fn start(client: &Client, events: mpsc::Sender<LiveEvent>) -> Live {
        let (cmds, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(client.clone(), rx, events));
        Live {
            cmds,
            next_request: Arc::new(AtomicU64::new(1)),
        }
    }

    /// Starts (or replaces) subscription `tag` to the servers `filter` matches (the
    /// query string of `GET /api/v1/servers`).
    pub fn subscribe(&self, tag: &str, filter: &str) -> Result<(), Error> {
        let filter = filter::filter_json(filter)?;
        self.send(Cmd::Subscribe {
            tag: tag.into(),
            filter,
        })
    }

    pub fn unsubscribe(&self, tag: &str) -> Result<(), Error> {
        self.send(Cmd::Unsubscribe { tag: tag.into() })
    }

    /// Sends a lobby request; the answer comes as a [`LiveEvent::Lobby`] carrying the
    /// returned request number.
    pub fn lobby(&self, request: LobbyRequest) -> Result<u64, Error> {
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        self.send(Cmd::Lobby { id, request })?;
        Ok(id)
    }

    /// Reconnects, to carry a new session (after a login or a logout).
    pub fn reconnect(&self) -> Result<(), Error> {
        self.send(Cmd::Reconnect)
    }

    /// Something that makes the connection reconnect when called, from any thread or
    /// task (a no-op once the connection is gone).
    pub fn reconnect_handle(&self) -> impl FnOnce() + Send + use<> {
        let cmds = self.cmds.clone();
        move || {
            let _ = cmds.send(Cmd::Reconnect);
        }
    }

    fn send(&self, cmd: Cmd) -> Result<(), Error> {
        self.cmds
            .send(cmd)
            .map_err(|_| Error::State("the live connection has stopped".into()))
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One subscription, as this client keeps it across reconnects.
struct Sub {
    filter: Map<String, Value>,
    /// The last change seen: resume from here.
    seq: Option<u64>,
    /// What the subscriber has been told is listed.
    servers: HashMap<String, ServerDto<'static>>,
    /// After `resumed`: the seq at which the subscription is in step again.
    catching_up: Option<u64>,
}

/// What the connection keeps across reconnects.
#[derive(Default)]
struct State {
    subs: HashMap<String, Sub>,
    /// The server the subscriptions' sequence numbers come from.
    server: Option<String>,
    /// The lobby login that was welcomed, and the room entered: restored on reconnect.
    lobby: Option<LobbyRequest>,
    room: Option<u32>,
    /// Requests sent and not yet answered, in order: the answer they wait for, the
    /// request number (none for this module's own), the room of an `enter`.
    pending: VecDeque<Pending>,
    /// Lobby requests made while disconnected.
    queued: VecDeque<(u64, LobbyRequest)>,
}

struct Pending {
    key: &'static str,
    request: Option<u64>,
    lobby: Option<LobbyRequest>,
}

/// Why a connection ended.
enum End {
    Closed,
    Lost(String),
    Reconnect,
}

async fn run(
    client: Client,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    events: mpsc::Sender<LiveEvent>,
) {
    let mut st = State::default();
    let mut backoff = FIRST_BACKOFF;
    let mut reported = false;
    loop {
        let connecting = connect(&client);
        tokio::pin!(connecting);
        let attempt = loop {
            tokio::select! {
                attempt = &mut connecting => break attempt,
                end = idle(&mut st, &mut cmds, &events) => if let End::Closed = end { return },
            }
        };
        let (mut ws, url) = match attempt {
            Ok(ok) => ok,
            Err(error) => {
                if !reported
                    && events
                        .send(LiveEvent::Disconnected { error })
                        .await
                        .is_err()
                {
                    return;
                }
                reported = true;
                let wait = sleep(backoff);
                tokio::pin!(wait);
                loop {
                    tokio::select! {
                        () = &mut wait => break,
                        end = idle(&mut st, &mut cmds, &events) => if let End::Closed = end { return },
                    }
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        backoff = FIRST_BACKOFF;
        reported = false;
        if events
            .send(LiveEvent::Connected { url: url.clone() })
            .await
            .is_err()
        {
            return;
        }
        let end = serve(&mut ws, &url, &mut st, &mut cmds, &events).await;
        // Whatever waited for an answer will not get one.
        for p in std::mem::take(&mut st.pending) {
            if let Some(request) = p.request {
                let message = LobbyMessage::Result {
                    action: p.key.into(),
                    code: "disconnected".into(),
                    message: Some("the connection was lost before the answer".into()),
                };
                let _ = events
                    .send(LiveEvent::Lobby {
                        request: Some(request),
                        message,
                    })
                    .await;
            }
        }
        match end {
            End::Closed => {
                let _ = ws.close(None).await;
                return;
            }
            End::Reconnect => {
                let _ = ws.close(None).await;
            }
            End::Lost(error) => {
                reported = true;
                if events
                    .send(LiveEvent::Disconnected { error })
                    .await
                    .is_err()
                {
                    return;
                }
                sleep(FIRST_BACKOFF).await;
            }
        }
    }
}

/// Takes commands while there is no connection: subscriptions are kept for the next
/// one, lobby requests queued.
async fn idle(
    st: &mut State,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    events: &mpsc::Sender<LiveEvent>,
) -> End {
    let Some(cmd) = cmds.recv().await else {
        return End::Closed;
    };
    match cmd {
        Cmd::Subscribe { tag, filter } => {
            st.subs.insert(tag, new_sub(filter));
        }
        Cmd::Unsubscribe { tag } => {
            st.subs.remove(&tag);
        }
        Cmd::Lobby { id, request } => {
            if st.queued.len() >= MAX_QUEUED {
                let message = LobbyMessage::Result {
                    action: request.action().into(),
                    code: "disconnected".into(),
                    message: Some("not connected, and too many requests waiting".into()),
                };
                let _ = events
                    .send(LiveEvent::Lobby {
                        request: Some(id),
                        message,
                    })
                    .await;
            } else {
                st.queued.push_back((id, request));
            }
        }
        Cmd::Reconnect => return End::Reconnect,
    }
    End::Reconnect
}

fn new_sub(filter: Map<String, Value>) -> Sub {
    Sub {
        filter,
        seq: None,
        servers: HashMap::new(),
        catching_up: None,
    }
}

/// Opens the socket on the first base that answers.
async fn connect(client: &Client) -> Result<(Socket, String), String> {
    let mut errors = Vec::new();
    for base in client.rotation().collect::<Vec<_>>() {
        let http = &client.bases()[base];
        let mut url = http.join("api/v1/ws").map_err(|e| e.to_string())?;
        url.set_scheme("ws")
            .map_err(|()| "not a ws URL".to_string())?;
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| e.to_string())?;
        if let Some(token) = client.token() {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| "the session token is not a header value".to_string())?;
            request.headers_mut().insert("authorization", value);
        }
        let attempt =
            tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(request));
        match attempt.await {
            Ok(Ok((ws, _))) => {
                client.prefer(base);
                return Ok((ws, http.to_string()));
            }
            Ok(Err(e)) => errors.push(format!("{http}: {e}")),
            Err(_) => errors.push(format!("{http}: timed out")),
        }
    }
    Err(errors.join("; "))
}

/// Runs one connection: restores the subscriptions and the lobby, then carries
/// messages both ways until it ends.
async fn serve(
    ws: &mut Socket,
    url: &str,
    st: &mut State,
    cmds: &mut mpsc::UnboundedReceiver<Cmd>,
    events: &mpsc::Sender<LiveEvent>,
) -> End {
    // Sequence numbers belong to one server: on another, start from a snapshot (which
    // `decode` compares with what the subscriber has).
    let same_server = st.server.as_deref() == Some(url);
    st.server = Some(url.to_string());
    let mut restore = Vec::new();
    for (tag, sub) in &mut st.subs {
        sub.catching_up = None;
        restore.push(ClientMessage::Subscribe {
            id: tag.clone(),
            filter: sub.filter.clone(),
            since: sub.seq.filter(|_| same_server),
        });
    }
    if let Some(login) = st.lobby.take() {
        st.pending.push_back(Pending {
            key: "lobby_login",
            request: None,
            lobby: Some(login.clone()),
        });
        restore.push(ClientMessage::Lobby(login));
        if let Some(room) = st.room.take() {
            let enter = LobbyRequest::Enter { room };
            st.pending.push_back(Pending {
                key: "enter",
                request: None,
                lobby: Some(enter.clone()),
            });
            restore.push(ClientMessage::Lobby(enter));
        }
    }
    for message in restore {
        if let Err(e) = write(ws, &message).await {
            return End::Lost(e);
        }
    }
    while let Some((id, request)) = st.queued.pop_front() {
        if let Err(e) = send_lobby(ws, st, Some(id), request).await {
            return End::Lost(e);
        }
    }
    let mut last_read = Instant::now();
    loop {
        tokio::select! {
            read = ws.next() => {
                last_read = Instant::now();
                match read {
                    Some(Ok(Message::Text(text))) => {
                        if let Err(e) = handle(st, text.as_str(), events).await {
                            return e;
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        let why = frame.map_or_else(String::new, |f| format!(": {} {}", u16::from(f.code), f.reason));
                        return End::Lost(format!("closed by the server{why}"));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return End::Lost(e.to_string()),
                    None => return End::Lost("closed by the server".into()),
                }
            }
            cmd = cmds.recv() => {
                let sent = match cmd {
                    None => return End::Closed,
                    Some(Cmd::Reconnect) => return End::Reconnect,
                    Some(Cmd::Subscribe { tag, filter }) => {
                        let message = ClientMessage::Subscribe { id: tag.clone(), filter: filter.clone(), since: None };
                        st.subs.insert(tag, new_sub(filter));
                        write(ws, &message).await
                    }
                    Some(Cmd::Unsubscribe { tag }) => {
                        st.subs.remove(&tag);
                        write(ws, &ClientMessage::Unsubscribe { id: tag }).await
                    }
                    Some(Cmd::Lobby { id, request }) => send_lobby(ws, st, Some(id), request).await,
                };
                if let Err(e) = sent {
                    return End::Lost(e);
                }
            }
            () = sleep_until(last_read + SILENCE) => {
                return End::Lost(format!("nothing heard for {} s", SILENCE.as_secs()));
            }
        }
    }
}

async fn send_lobby(
    ws: &mut Socket,
    st: &mut State,
    request: Option<u64>,
    lobby: LobbyRequest,
) -> Result<(), String> {
    st.pending.push_back(Pending {
        key: lobby.action(),
        request,
        lobby: Some(lobby.clone()),
    });
    write(ws, &ClientMessage::Lobby(lobby)).await
}

async fn write(ws: &mut Socket, message: &ClientMessage) -> Result<(), String> {
    let text = serde_json::to_string(message).map_err(|e| e.to_string())?;
    ws.send(Message::text(text))
        .await
        .map_err(|e| e.to_string())
}

/// A change of a subscription, as the server sends it.
#[derive(Deserialize)]
struct ChangeMessage {
    id: String,
    server: ServerDto<'static>,
    seq: u64,
}

#[derive(Deserialize)]
struct SnapshotMessage {
    id: String,
    servers: Vec<ServerDto<'static>>,
    seq: u64,
}

#[derive(Deserialize)]
struct ResumedMessage {
    id: String,
    seq: u64,
}

#[derive(Deserialize)]
struct ErrorMessage {
    #[serde(default)]
    id: Option<String>,
    error: ErrorDetail,
}

/// Handles one message from the server.
async fn handle(st: &mut State, text: &str, events: &mpsc::Sender<LiveEvent>) -> Result<(), End> {
    let out = decode(st, text).map_err(|e| End::Lost(format!("a message not understood: {e}")))?;
    for event in out {
        if events.send(event).await.is_err() {
            return Err(End::Closed);
        }
    }
    Ok(())
}

/// What one message from the server means for the subscriber.
fn decode(st: &mut State, text: &str) -> Result<Vec<LiveEvent>, serde_json::Error> {
    let value: Value = serde_json::from_str(text)?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut out = Vec::new();
    match kind.as_str() {
        "snapshot" => {
            let m: SnapshotMessage = serde_json::from_value(value)?;
            if let Some(sub) = st.subs.get_mut(&m.id) {
                sub.seq = Some(m.seq);
                sub.catching_up = None;
                let mut old = std::mem::take(&mut sub.servers);
                for server in m.servers {
                    let change = match old.remove(server.id.as_ref()) {
                        None => Some(Change::Added),
                        Some(before) => (before != server).then_some(Change::Updated),
                    };
                    if let Some(change) = change {
                        out.push(server_event(&m.id, change, server.clone()));
                    }
                    sub.servers.insert(server.id.to_string(), server);
                }
                for (_, server) in old {
                    out.push(server_event(&m.id, Change::Removed, server));
                }
                out.push(LiveEvent::Synced { sub: m.id });
            }
        }
        "added" | "updated" | "removed" => {
            let m: ChangeMessage = serde_json::from_value(value)?;
            if let Some(sub) = st.subs.get_mut(&m.id) {
                sub.seq = Some(m.seq);
                let change = if kind == "removed" {
                    sub.servers.remove(m.server.id.as_ref());
                    Change::Removed
                } else {
                    let known = sub
                        .servers
                        .insert(m.server.id.to_string(), m.server.clone())
                        .is_some();
                    if known {
                        Change::Updated
                    } else {
                        Change::Added
                    }
                };
                out.push(server_event(&m.id, change, m.server));
                if sub.catching_up.is_some_and(|to| m.seq >= to) {
                    sub.catching_up = None;
                    out.push(LiveEvent::Synced { sub: m.id });
                }
            }
        }
        "resumed" => {
            let m: ResumedMessage = serde_json::from_value(value)?;
            if let Some(sub) = st.subs.get_mut(&m.id) {
                if sub.seq.is_some_and(|seen| seen >= m.seq) {
                    out.push(LiveEvent::Synced { sub: m.id });
                } else {
                    sub.catching_up = Some(m.seq);
                }
            }
        }
        "unsubscribed" | "pong" => {}
        "session" => out.push(LiveEvent::Session {
            name: string_field(&value, "name"),
        }),
        "friends" => {
            let names = value.get("names").cloned().unwrap_or_default();
            out.push(LiveEvent::Friends {
                names: serde_json::from_value(names)?,
            });
        }
        "presence" => {
            let presence = value.get("presence").cloned().unwrap_or_default();
            out.push(LiveEvent::Presence {
                name: string_field(&value, "name"),
                presence: serde_json::from_value(presence)?,
            });
        }
        "error" => {
            let m: ErrorMessage = serde_json::from_value(value)?;
            if let Some(tag) = &m.id {
                st.subs.remove(tag);
            }
            out.push(LiveEvent::Refused {
                sub: m.id,
                error: m.error,
            });
        }
        _ => match serde_json::from_value::<LobbyMessage>(value) {
            Ok(message) => out.push(lobby_event(st, message)),
            Err(e) => debug!(error = %e, "a message of a kind this client does not know"),
        },
    }
    Ok(out)
}

/// A lobby message, matched with the request it answers; what this module's own
/// requests get is noted (the lobby and room to restore) and not passed on.
fn lobby_event(st: &mut State, message: LobbyMessage) -> LiveEvent {
    let key = match &message {
        LobbyMessage::Result { action, .. } => answer_key_of_action(action),
        LobbyMessage::LobbyWelcome { .. } => Some("lobby_login"),
        LobbyMessage::Motd { .. } => Some("motd"),
        LobbyMessage::Games { .. } => Some("games"),
        LobbyMessage::Rooms { .. } => Some("rooms"),
        LobbyMessage::Players { .. } => Some("players"),
        LobbyMessage::Tables { .. } => Some("tables"),
        _ => None,
    };
    let position = key.and_then(|key| st.pending.iter().position(|p| p.key == key));
    let Some(pending) = position.and_then(|i| st.pending.remove(i)) else {
        return LiveEvent::Lobby {
            request: None,
            message,
        };
    };
    let ok = match &message {
        LobbyMessage::Result { code, .. } => code == "ok",
        _ => true,
    };
    if ok {
        match &pending.lobby {
            Some(login @ LobbyRequest::LobbyLogin { .. }) => st.lobby = Some(login.clone()),
            Some(LobbyRequest::LobbyLogout {}) => (st.lobby, st.room) = (None, None),
            Some(LobbyRequest::Enter { room }) => st.room = Some(*room),
            _ => {}
        }
    }
    LiveEvent::Lobby {
        request: pending.request,
        message,
    }
}

fn server_event(sub: &str, change: Change, server: ServerDto<'static>) -> LiveEvent {
    LiveEvent::Server {
        sub: sub.into(),
        change,
        server,
    }
}

fn string_field(value: &Value, name: &str) -> String {
    value
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Requests are answered by a `result` named after their action, or by the message of
/// the same name (`lobby_welcome` for `lobby_login`).
fn answer_key_of_action(action: &str) -> Option<&'static str> {
    LobbyRequest::ACTIONS.into_iter().find(|a| *a == action)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn server(id: &str, players: u32) -> Value {
        json!({"id": id, "game": "oa", "kind": "server", "address": "192.0.2.1:27960",
               "name": id, "map": "dm1", "players": players, "max_players": 8, "bots": 0,
               "password": false, "version": "", "protocol": "", "rules": {},
               "player_list": [], "source": "native", "first_seen": "", "last_seen": ""})
    }

    fn feed(st: &mut State, message: Value) -> Vec<String> {
        decode(st, &message.to_string())
            .unwrap()
            .into_iter()
            .map(|e| match e {
                LiveEvent::Server { change, server, .. } => format!("{change:?} {}", server.id),
                LiveEvent::Synced { sub } => format!("synced {sub}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_fresh_snapshot_after_a_reconnect_reads_as_changes() {
        let mut st = State::default();
        st.subs.insert("s".into(), new_sub(Map::new()));
        let first = json!({"type": "snapshot", "id": "s", "servers": [server("a", 1), server("b", 2)], "seq": 5, "complete": true});
        assert_eq!(feed(&mut st, first), ["Added a", "Added b", "synced s"]);
        let change = json!({"type": "updated", "id": "s", "server": server("a", 3), "seq": 6});
        assert_eq!(feed(&mut st, change), ["Updated a"]);
        assert_eq!(st.subs["s"].seq, Some(6));
        // Reconnected, and the changes since 6 were no longer kept: a new snapshot.
        let again = json!({"type": "snapshot", "id": "s", "servers": [server("a", 3), server("c", 0)], "seq": 9, "complete": true});
        assert_eq!(feed(&mut st, again), ["Added c", "Removed b", "synced s"]);
    }

    #[test]
    fn a_resumed_subscription_is_synced_once_caught_up() {
        let mut st = State::default();
        st.subs.insert("s".into(), new_sub(Map::new()));
        st.subs.get_mut("s").unwrap().seq = Some(4);
        assert!(
            feed(
                &mut st,
                json!({"type": "resumed", "id": "s", "since": 4, "seq": 6})
            )
            .is_empty()
        );
        let added = json!({"type": "added", "id": "s", "server": server("a", 1), "seq": 5});
        assert_eq!(feed(&mut st, added), ["Added a"]);
        let removed = json!({"type": "removed", "id": "s", "server": server("a", 1), "seq": 6});
        assert_eq!(feed(&mut st, removed), ["Removed a", "synced s"]);
        // Nothing changed meanwhile: in step at once.
        assert_eq!(
            feed(
                &mut st,
                json!({"type": "resumed", "id": "s", "since": 6, "seq": 6})
            ),
            ["synced s"]
        );
    }

    #[test]
    fn lobby_answers_find_their_requests_and_the_room_is_remembered() {
        let mut st = State::default();
        for (id, request) in [
            (
                1,
                LobbyRequest::LobbyLogin {
                    guest: Some("g".into()),
                },
            ),
            (2, LobbyRequest::Enter { room: 3 }),
            (
                3,
                LobbyRequest::Chat {
                    kind: None,
                    to: None,
                    text: "hi".into(),
                },
            ),
        ] {
            st.pending.push_back(Pending {
                key: request.action(),
                request: Some(id),
                lobby: Some(request),
            });
        }
        let welcome = json!({"type": "lobby_welcome", "name": "g", "motd": ""});
        let chat = json!({"type": "chat", "kind": "normal", "from": "x", "text": "hey"});
        let enter = json!({"type": "result", "action": "enter", "code": "ok"});
        let said =
            json!({"type": "result", "action": "chat", "code": "too_fast", "message": "slow down"});
        let requests: Vec<Option<u64>> = [welcome, chat, enter, said]
            .into_iter()
            .flat_map(|m| decode(&mut st, &m.to_string()).unwrap())
            .map(|e| match e {
                LiveEvent::Lobby { request, .. } => request,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(requests, [Some(1), None, Some(2), Some(3)]);
        assert_eq!(st.room, Some(3));
        assert!(matches!(st.lobby, Some(LobbyRequest::LobbyLogin { .. })));
        assert!(st.pending.is_empty());
    }

    #[test]
    fn a_refused_subscription_is_forgotten() {
        let mut st = State::default();
        st.subs.insert("s".into(), new_sub(Map::new()));
        let refused = json!({"type": "error", "id": "s", "error": {"code": "invalid_query", "message": "no"}});
        let out = decode(&mut st, &refused.to_string()).unwrap();
        assert!(matches!(&out[..], [LiveEvent::Refused { sub: Some(s), .. }] if s == "s"));
        assert!(st.subs.is_empty());
    }
}
