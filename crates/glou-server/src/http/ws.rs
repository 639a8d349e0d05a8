//! `GET /api/v1/ws`: live subscriptions. One task per socket reads the client's
//! messages and the hub's events; a writer task drains a bounded queue to the socket.
//! A client that lets the queue fill, or falls too far behind the event stream, is
//! dropped: the server never waits for a slow reader.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use std::collections::HashMap;

use axum::extract::{ConnectInfo, Query as QueryString, State};
use glou_core::account::name_key;
use glou_core::player_hash;
use tokio::sync::broadcast;

use super::auth::MaybeCaller;
use super::lobby_ws;
use crate::lobby::Out;
use crate::presence::OnlineGuard;
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use glou_core::{ChangesError, Event, EventKind, Query};
use glou_proto::native::{
    ClientMessage, ErrorDetail, ServerMessage, ServerQuery, event_message, snapshot_message,
};
use tokio::sync::mpsc;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tracing::{debug, warn};

use super::convert;
use super::error::ApiError;
use super::{App, PeerAddr};
use crate::hub::Published;
use crate::metrics::ReasonLabels;

const MAX_MESSAGE: usize = 64 * 1024;
const KEEPALIVE: Duration = Duration::from_secs(30);

/// `?token=` of the WebSocket upgrade (browsers cannot set headers on it). No `Debug`:
/// the token stays out of logs.
#[derive(Default, serde::Deserialize)]
pub struct WsParams {
    token: Option<String>,
}

/// `GET /api/v1/ws`, with a session (`Authorization: Bearer` or `?token=`) for presence.
pub async fn upgrade(
    State(app): State<Arc<App>>,
    ConnectInfo(PeerAddr(peer)): ConnectInfo<PeerAddr>,
    MaybeCaller(caller): MaybeCaller,
    QueryString(params): QueryString<WsParams>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let session = match (caller, params.token) {
        (Some(c), _) => Some(c.session),
        (None, Some(token)) => Some(super::auth::open(&app, &token).await?.session),
        (None, None) => None,
    };
    Ok(upgrade_with(app, peer, session, ws))
}

fn upgrade_with(
    app: Arc<App>,
    peer: SocketAddr,
    session: Option<glou_store::Session>,
    ws: WebSocketUpgrade,
) -> Response {
    // Small buffers: a socket costs little while idle (tungstenite's defaults allocate
    // 128 KiB for reading up front); messages are written out as they are sent.
    ws.max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .on_upgrade(move |socket| async move {
            app.hub.metrics.ws_sessions.inc();
            let span = tracing::debug_span!("ws", proto = "native-ws", %peer);
            let run = session_task(socket, app.clone(), peer, session);
            let _ = tracing::Instrument::instrument(run, span).await;
            app.hub.metrics.ws_sessions.dec();
        })
}

struct Subscription {
    id: String,
    query: Query,
    /// Events up to this sequence number are already reflected in what was sent.
    after: u64,
}

/// Why a session ended early, sent to the client in the close frame.
struct Drop {
    code: u16,
    reason: &'static str,
}

/// The presence side of a socket opened with a session.
struct Follow {
    account: Option<i64>,
    own: u64,
    /// Friends by their player hash.
    friends: HashMap<u64, String>,
    changes: broadcast::Receiver<u64>,
    /// Keeps the player online while the socket lives.
    _online: OnlineGuard,
}

impl Follow {
    async fn start(
        app: &App,
        session: &glou_store::Session,
        out: &mpsc::Sender<Message>,
    ) -> Result<Self, Drop> {
        // Online first, then listening: the socket's own arrival is not news to it.
        let online = app.hub.presence.connect(&session.name);
        let mut follow = Follow {
            account: session.account.as_ref().map(|a| a.id),
            own: player_hash(&name_key(&session.name)),
            friends: HashMap::new(),
            changes: app.hub.presence.subscribe(),
            _online: online,
        };
        send(
            out,
            json(&ServerMessage::Session {
                name: session.name.clone(),
            }),
        )?;
        follow.reload(app, out).await?;
        Ok(follow)
    }

    /// Reads the friend list again and sends it with every friend's presence.
    async fn reload(&mut self, app: &App, out: &mpsc::Sender<Message>) -> Result<(), Drop> {
        let Some(id) = self.account else {
            return Ok(());
        };
        let names: Vec<String> = match app.accounts.store.friend_list(id).await {
            Ok(list) => list.friends.into_iter().map(|f| f.name).collect(),
            Err(e) => {
                warn!(error = %e, "reading a friend list for presence");
                return Ok(());
            }
        };
        self.friends = names
            .iter()
            .map(|n| (player_hash(&name_key(n)), n.clone()))
            .collect();
        send(out, json(&ServerMessage::Friends { names }))?;
        for name in self.friends.values() {
            send(out, presence_message(app, name))?;
        }
        Ok(())
    }

    async fn on_change(
        &mut self,
        app: &App,
        hash: u64,
        out: &mpsc::Sender<Message>,
    ) -> Result<(), Drop> {
        if hash == self.own {
            return self.reload(app, out).await;
        }
        match self.friends.get(&hash) {
            Some(name) => send(out, presence_message(app, name)),
            None => Ok(()),
        }
    }
}

fn presence_message(app: &App, name: &str) -> Message {
    let presence = app.hub.read(|reg| app.hub.presence.of(reg, name));
    json(&ServerMessage::Presence {
        name: name.to_owned(),
        presence,
    })
}

async fn session_task(
    socket: WebSocket,
    app: Arc<App>,
    peer: SocketAddr,
    session: Option<glou_store::Session>,
) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut queue) = mpsc::channel::<Message>(app.api.ws_queue);
    let writer = tokio::spawn(async move {
        while let Some(msg) = queue.recv().await {
            let closing = matches!(msg, Message::Close(_));
            if sink.send(msg).await.is_err() || closing {
                break;
            }
        }
    });
    let mut streams = Streams::new();
    let mut shutdown = app.hub.shutdown_signal();
    let mut subs: Vec<Subscription> = Vec::new();
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.reset();
    let mut follow = match &session {
        Some(session) => match Follow::start(&app, session, &out).await {
            Ok(f) => Some(f),
            Err(_) => return,
        },
        None => None,
    };

    let mut seat: Option<lobby_ws::Seat> = None;
    let dropped = loop {
        let result = tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
                    Err(e) => send(&out, error_message(None, "invalid_message", e.to_string())),
                    Ok(ClientMessage::Lobby(msg)) => {
                        match lobby_ws::handle(&app, msg, &mut seat, session.as_ref(), peer).await {
                            Some(m) => send(&out, m),
                            None => Ok(()),
                        }
                    }
                    Ok(msg) => on_client_message(&app, msg, &mut subs, &mut streams, &out),
                },
                Some(Ok(Message::Binary(bytes))) => match &seat {
                    Some(s) if app.lobby.game_input(s.id, bytes.to_vec()) => Ok(()),
                    _ => send(&out, error_message(None, "invalid_message", "binary messages go to the game of your table: sit at a table of a game with a program")),
                },
                Some(Ok(Message::Close(_))) | None => break None,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                Some(Err(e)) => {
                    debug!(error = %e, "websocket read failed");
                    break None;
                }
            },
            Some((id, event)) = streams.next(), if !streams.is_empty() => match event {
                Ok(published) => on_event(&app, &id, &published, &subs, &out),
                Err(BroadcastStreamRecvError::Lagged(_)) => Err(Drop { code: close_code::POLICY, reason: "too slow: fell behind the event stream" }),
            },
            change = async { follow.as_mut().expect("guarded").changes.recv().await }, if follow.is_some() => {
                let f = follow.as_mut().expect("guarded");
                match change {
                    Ok(hash) => f.on_change(&app, hash, &out).await,
                    // Missed some changes: send everything again.
                    Err(broadcast::error::RecvError::Lagged(_)) => f.reload(&app, &out).await,
                    Err(broadcast::error::RecvError::Closed) => Ok(()),
                }
            }
            lobby_out = async { seat.as_mut().expect("guarded").rx.recv().await }, if seat.is_some() => match lobby_out {
                Some(Out::Text(t)) => send(&out, Message::text(t.to_string())),
                Some(Out::Game(bytes)) => send(&out, Message::binary(bytes)),
                // Kicked: out of the lobby, the socket stays.
                Some(Out::Close(t)) => {
                    if let Some(s) = seat.take() {
                        app.lobby.leave_lobby(s.id).await;
                    }
                    send(&out, Message::text(t.to_string()))
                }
                None => {
                    seat = None;
                    Err(Drop { code: close_code::POLICY, reason: "too slow: the lobby queue filled up" })
                }
            },
            _ = keepalive.tick() => send(&out, Message::Ping(Default::default())),
            _ = shutdown.changed() => Err(Drop { code: close_code::AWAY, reason: "server shutting down" }),
        };
        if let Err(drop) = result {
            break Some(drop);
        }
    };
    if let Some(s) = seat {
        app.lobby.leave_lobby(s.id).await;
    }
    app.hub
        .metrics
        .ws_subscriptions
        .dec_by(i64::try_from(subs.len()).unwrap_or(0));
    if let Some(Drop { code, reason }) = dropped {
        if code == close_code::POLICY {
            warn!(%peer, reason, "dropping websocket client");
            app.hub
                .metrics
                .ws_dropped
                .get_or_create(&ReasonLabels { reason: "slow" })
                .inc();
        }
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        };
        // A full queue means the writer is stuck on a slow socket: stop it outright.
        if out.try_send(Message::Close(Some(frame))).is_err() {
            writer.abort();
        }
    }
    drop(out);
    let _ = tokio::time::timeout(Duration::from_secs(5), writer).await;
}

/// Queues a message; a full queue drops the client.
fn send(out: &mpsc::Sender<Message>, msg: Message) -> Result<(), Drop> {
    out.try_send(msg).map_err(|_| Drop {
        code: close_code::POLICY,
        reason: "too slow: outbound queue full",
    })
}

fn json(msg: &ServerMessage<'_>) -> Message {
    Message::text(serde_json::to_string(msg).expect("server messages encode"))
}

fn error_message(id: Option<String>, code: &'static str, message: impl Into<String>) -> Message {
    json(&ServerMessage::Error {
        id,
        error: ErrorDetail {
            code: code.into(),
            message: message.into(),
        },
    })
}

/// Each subscription listens to one event stream: its game's when it follows exactly
/// one game (most do, and then other games' changes never wake this session), all
/// events otherwise. One stream per subscription keeps its events in sequence order.
type Streams = StreamMap<String, BroadcastStream<Arc<Published>>>;

fn on_client_message(
    app: &App,
    msg: ClientMessage,
    subs: &mut Vec<Subscription>,
    streams: &mut Streams,
    out: &mpsc::Sender<Message>,
) -> Result<(), Drop> {
    match msg {
        ClientMessage::Subscribe { id, filter, since } => {
            let query = ServerQuery::from_json(&filter)
                .map_err(ApiError::from)
                .and_then(|q| convert::query(q, app.api.max_snapshot, app.api.max_snapshot));
            let query = match query {
                Ok(q) => q,
                Err(e) => return send(out, error_message(Some(id), e.code, e.message)),
            };
            let replacing = subs.iter().position(|s| s.id == id);
            if replacing.is_none() && subs.len() >= app.api.ws_max_subscriptions {
                let why = format!(
                    "at most {} subscriptions per connection",
                    app.api.ws_max_subscriptions
                );
                return send(out, error_message(Some(id), "too_many_subscriptions", why));
            }
            // Listen before reading: whatever is published meanwhile is in the stream
            // and skipped by sequence number.
            let game = match query.filter.games.as_slice() {
                [game] => Some(game.as_str()),
                _ => None,
            };
            streams.insert(id.clone(), BroadcastStream::new(app.hub.subscribe(game)));
            let (first, after) = start(app, &id, &query, since);
            let sub = Subscription { id, query, after };
            match replacing {
                Some(i) => subs[i] = sub,
                None => {
                    app.hub.metrics.ws_subscriptions.inc();
                    subs.push(sub);
                }
            }
            first.into_iter().try_for_each(|m| send(out, m))
        }
        ClientMessage::Unsubscribe { id } => {
            streams.remove(&id);
            if let Some(i) = subs.iter().position(|s| s.id == id) {
                subs.remove(i);
                app.hub.metrics.ws_subscriptions.dec();
            }
            send(out, json(&ServerMessage::Unsubscribed { id }))
        }
        ClientMessage::Ping {} => send(out, json(&ServerMessage::Pong {})),
        // The caller hands lobby requests to `lobby_ws` before this is reached.
        ClientMessage::Lobby(_) => Ok(()),
    }
}

/// The first messages of a subscription and the sequence number they reflect:
/// the missed changes when `since` can be resumed, a snapshot otherwise.
fn start(app: &App, id: &str, query: &Query, since: Option<u64>) -> (Vec<Message>, u64) {
    if let Some(since) = since {
        let resumed = app.hub.read(|reg| {
            reg.changes_since(since, usize::MAX)
                .map(|evs| (evs, reg.seq()))
        });
        match resumed {
            Ok((events, seq)) => {
                let mut msgs = vec![json(&ServerMessage::Resumed {
                    id: id.into(),
                    since,
                    seq,
                })];
                msgs.extend(
                    events
                        .iter()
                        .filter_map(|e| change_message(app, id, query, e, None)),
                );
                return (msgs, seq);
            }
            Err(ChangesError::OutOfWindow { .. }) => {}
        }
    }
    let (page, seq) = app.hub.read(|reg| (reg.query(query), reg.seq()));
    let complete = page.next.is_none();
    let rendered = app.hub.render.many(&page.entries);
    let text = snapshot_message(id, rendered.iter().map(|s| &**s), seq, complete);
    (vec![Message::text(text)], seq)
}

fn on_event(
    app: &App,
    id: &str,
    published: &Published,
    subs: &[Subscription],
    out: &mpsc::Sender<Message>,
) -> Result<(), Drop> {
    for sub in subs
        .iter()
        .filter(|s| s.id == id && published.event.seq > s.after)
    {
        if let Some(msg) =
            change_message(app, &sub.id, &sub.query, &published.event, Some(published))
        {
            send(out, msg)?;
        }
    }
    Ok(())
}

/// The message a subscriber with this query gets for an event, if any. A published
/// event carries its encoding for every subscriber; a replayed one is encoded here.
fn change_message(
    app: &App,
    id: &str,
    query: &Query,
    event: &Event,
    published: Option<&Published>,
) -> Option<Message> {
    let kind: EventKind = event.seen_through(|e| query.filter.matches(e))?;
    let owned;
    let server = match published {
        Some(p) => p.server_json(&app.hub.render),
        None => {
            owned = app.hub.render.json(event.entry());
            &owned
        }
    };
    Some(Message::text(event_message(
        kind.as_str(),
        id,
        server,
        event.seq,
    )))
}
