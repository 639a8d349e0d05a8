//! A guest of the lobby over one node's WebSocket, for the cluster lobby tests: what
//! it is sent waits in queues until a step asks for it, and it plays TicTacToe with
//! its socket's binary messages.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use glou_tictactoe::{Client, ClientEvent, Outcome, Player};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::cluster_lobby::{PATIENCE, Place};

/// A guest in the lobby over one node's WebSocket. What arrives waits in two queues —
/// JSON messages and game bytes — until a step asks for it, so a step that waits for
/// one message loses none of the others.
pub(crate) struct Lobbyist {
    pub(crate) name: String,
    pub(crate) ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub(crate) texts: VecDeque<Value>,
    pub(crate) bytes: VecDeque<Vec<u8>>,
    pub(crate) closed: bool,
}

impl Lobbyist {
    /// Opens `GET /api/v1/ws` on the node, without a session.
    pub(crate) async fn connect(place: &Place, name: &str) -> Self {
        let url = format!("{}/api/v1/ws", place.url.replacen("http://", "ws://", 1));
        let (ws, _) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(url))
            .await
            .expect("the WebSocket opens within 15 s")
            .expect("the WebSocket opens");
        Self {
            name: name.to_owned(),
            ws,
            texts: VecDeque::new(),
            bytes: VecDeque::new(),
            closed: false,
        }
    }

    /// Connects and logs into the lobby as a guest.
    pub(crate) async fn login(place: &Place, name: &str) -> Self {
        let mut p = Self::connect(place, name).await;
        if let Err(refused) = p.try_login().await {
            panic!("guest {name} could not log in: {refused}");
        }
        p
    }

    /// `lobby_login` as a guest: `lobby_welcome`, or the refusing `result`.
    pub(crate) async fn try_login(&mut self) -> Result<(), Value> {
        let name = self.name.clone();
        self.send(json!({"type": "lobby_login", "guest": name}))
            .await;
        let m = self
            .until("the answer to lobby_login", |m| {
                m["type"] == "lobby_welcome"
                    || (m["type"] == "result" && m["action"] == "lobby_login")
            })
            .await;
        if m["type"] == "lobby_welcome" {
            assert_eq!(m["name"], name.as_str(), "the welcome names the guest");
            Ok(())
        } else {
            Err(m)
        }
    }

    pub(crate) async fn send(&mut self, m: Value) {
        let sent = self.ws.send(Message::text(m.to_string())).await;
        assert!(
            sent.is_ok(),
            "{}: sending {m} failed: the socket is closed",
            self.name
        );
    }

    /// The first message, queued or to come within 15 s, that `wanted` accepts.
    pub(crate) async fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        match self.until_or_closed(wanted).await {
            Ok(m) => m,
            Err(end) => panic!(
                "{}: waiting for {what}, {end}; unclaimed: {:#?}",
                self.name, self.texts
            ),
        }
    }

    /// Like [`Self::until`]; `Err` says how it ended without it (closed, timed out).
    pub(crate) async fn until_or_closed(
        &mut self,
        wanted: impl Fn(&Value) -> bool,
    ) -> Result<Value, String> {
        if let Some(i) = self.texts.iter().position(&wanted) {
            return Ok(self.texts.remove(i).expect("found"));
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let seen = self.texts.len();
            self.read(deadline).await?;
            if self.texts.len() > seen && wanted(self.texts.back().expect("read")) {
                return Ok(self.texts.pop_back().expect("read"));
            }
        }
    }

    /// Reads one message into its queue.
    pub(crate) async fn read(&mut self, deadline: Instant) -> Result<(), String> {
        if self.closed {
            return Err("the socket is closed".into());
        }
        let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
            Err(_) => return Err("nothing within 15 s".into()),
            Ok(None) | Ok(Some(Err(_))) => {
                self.closed = true;
                return Err("the socket closed".into());
            }
            Ok(Some(Ok(msg))) => msg,
        };
        match msg {
            Message::Text(text) => {
                let m = serde_json::from_str(text.as_str())
                    .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {text}", self.name));
                self.texts.push_back(m);
            }
            Message::Binary(bytes) => self.bytes.push_back(bytes.to_vec()),
            Message::Close(frame) => {
                self.closed = true;
                return Err(format!("the server closed the socket: {frame:?}"));
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
        Ok(())
    }

    /// The next game bytes, queued or to come within 15 s.
    pub(crate) async fn next_bytes(&mut self) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(b) = self.bytes.pop_front() {
                return b;
            }
            if let Err(end) = self.read(deadline).await {
                panic!("{}: waiting for the game's bytes, {end}", self.name);
            }
        }
    }

    /// Sends `request` and returns the answer of type `reply`; a refusing `result`
    /// fails the test. Answers of that type still queued are stale: dropped first.
    pub(crate) async fn ask(&mut self, request: Value, reply: &str) -> Value {
        self.texts.retain(|m| m["type"] != reply);
        let action = request["type"].clone();
        self.send(request).await;
        let m = self
            .until(reply, |m| {
                m["type"] == reply || (m["type"] == "result" && m["action"] == action)
            })
            .await;
        assert_eq!(m["type"], reply, "{}: refused: {m}", self.name);
        m
    }

    /// Waits for the `result` of `action` and checks it is `ok`.
    pub(crate) async fn expect_ok(&mut self, action: &str) {
        let m = self
            .until(&format!("the result of {action}"), |m| {
                m["type"] == "result" && m["action"] == action
            })
            .await;
        assert_eq!(m["code"], "ok", "{}: {action}: {m}", self.name);
    }

    /// Says `text` in the room: `Ok` with its echo (the chat as the room hears it), or
    /// `Err` with the refusing `result`.
    pub(crate) async fn chat(&mut self, text: &str) -> Result<Value, Value> {
        self.texts
            .retain(|m| !(m["type"] == "result" && m["action"] == "chat"));
        self.send(json!({"type": "chat", "text": text})).await;
        let answer = self
            .until(&format!("the answer to the chat {text:?}"), |m| {
                m["type"] == "result" && m["action"] == "chat"
            })
            .await;
        if answer["code"] != "ok" {
            return Err(answer);
        }
        let name = self.name.clone();
        Ok(self
            .until(&format!("the echo of the chat {text:?}"), |m| {
                m["type"] == "chat" && m["from"] == name.as_str() && m["text"] == text
            })
            .await)
    }

    /// The id of the entry room (the first listed).
    pub(crate) async fn entry_room(&mut self) -> u64 {
        let rooms = self.ask(json!({"type": "rooms"}), "rooms").await;
        rooms["rooms"][0]["id"].as_u64().expect("an entry room")
    }

    /// The id of the built-in TicTacToe room and of its game.
    pub(crate) async fn tictactoe_room(&mut self) -> (u64, u64) {
        let rooms = self.ask(json!({"type": "rooms"}), "rooms").await;
        let room = rooms["rooms"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == "TicTacToe" && r["game"].is_u64())
            .unwrap_or_else(|| panic!("no TicTacToe room among {rooms}"));
        (room["id"].as_u64().unwrap(), room["game"].as_u64().unwrap())
    }

    /// Enters `room`; returns the players it lists on arrival.
    pub(crate) async fn enter(&mut self, room: u64) -> BTreeSet<String> {
        self.texts.retain(|m| m["type"] != "players");
        self.send(json!({"type": "enter", "room": room})).await;
        self.expect_ok("enter").await;
        let list = self
            .until("the room's players after enter", |m| {
                m["type"] == "players" && m["room"] == room
            })
            .await;
        player_names(&list)
    }

    /// The players of the room, asked now.
    pub(crate) async fn players(&mut self) -> BTreeSet<String> {
        player_names(&self.ask(json!({"type": "players"}), "players").await)
    }

    /// Asks for the room's players until they are exactly `want` (at most 15 s).
    pub(crate) async fn wait_players(&mut self, want: &[&str]) {
        let want = names(want);
        let deadline = Instant::now() + PATIENCE;
        loop {
            let got = self.players().await;
            if got == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: the room's players are {got:?}; expected {want:?}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Asks for the room's tables until `table` seats exactly `want` (at most 15 s);
    /// returns its seats' names in seat order ("" for an empty seat).
    pub(crate) async fn wait_seats(&mut self, table: u64, want: &[&str]) -> Vec<String> {
        let want = names(want);
        let deadline = Instant::now() + PATIENCE;
        loop {
            let tables = self.ask(json!({"type": "tables"}), "tables").await;
            let seats: Vec<String> = tables["tables"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| t["id"] == table)
                .flat_map(|t| t["seats"].as_array().cloned().unwrap_or_default())
                .map(|s| s["name"].as_str().unwrap_or_default().to_owned())
                .collect();
            let seated: BTreeSet<String> =
                seats.iter().filter(|n| !n.is_empty()).cloned().collect();
            if seated == want {
                return seats;
            }
            assert!(
                Instant::now() < deadline,
                "{}: table {table} seats {seated:?}; expected {want:?} ({tables})",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Plays TicTacToe from `seat` through binary messages, `moves` in order whenever
    /// asked, until the game is over.
    pub(crate) async fn play(&mut self, seat: Player, moves: &[usize]) -> Outcome {
        let mut client = Client::with_seat(seat);
        let mut moves = moves.iter();
        loop {
            let bytes = self.next_bytes().await;
            let events = client
                .feed(&bytes)
                .unwrap_or_else(|e| panic!("{}: the game's bytes: {e}", self.name));
            for event in events {
                match event {
                    ClientEvent::YourTurn => {
                        let cell = *moves.next().unwrap_or_else(|| {
                            panic!("{}: asked for one move too many", self.name)
                        });
                        let mut out = Vec::new();
                        client.send_move(cell, &mut out);
                        let sent = self.ws.send(Message::binary(out)).await;
                        assert!(sent.is_ok(), "{}: the socket closed mid-game", self.name);
                    }
                    ClientEvent::GameOver(outcome) => return outcome,
                    _ => {}
                }
            }
        }
    }

    /// Whether the lobby has let this socket go: `players` is refused `not_in_lobby`
    /// (the socket stays, as documented), or the socket is closed.
    pub(crate) async fn out_of_lobby(&mut self) -> bool {
        let answer = |m: &Value| {
            m["type"] == "players" || (m["type"] == "result" && m["action"] == "players")
        };
        self.texts.retain(|m| !answer(m));
        if self.closed
            || self
                .ws
                .send(Message::text(json!({"type": "players"}).to_string()))
                .await
                .is_err()
        {
            return true;
        }
        match self.until_or_closed(answer).await {
            Ok(m) => m["type"] == "result" && m["code"] == "not_in_lobby",
            Err(_) => self.closed,
        }
    }
}

/// The moves of a game X wins on the top row while O plays the middle one.
pub(crate) fn top_row_for_x(seat: Player) -> &'static [usize] {
    match seat {
        Player::X => &[0, 1, 2],
        Player::O => &[3, 4],
    }
}

pub(crate) fn player_names(list: &Value) -> BTreeSet<String> {
    list["players"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(String::from))
        .collect()
}

pub(crate) fn names(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}
