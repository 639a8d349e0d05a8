//! The game half of the [`Session`]: the channel's handshake, then the TicTacToe
//! protocol on it through the library's [`Client`](crate::Client), the moves and the
//! result.

use std::time::Instant;

use glou_proto::ggz::{
    ClientMessage, Element, Item, SESSION_END, SESSION_START, ServerMessage, decode_server,
};

use super::{Action, Channel, Phase, Session};
use crate::board::Outcome;
use crate::client::{ClientEvent, parse_move, render};
use crate::protocol::MoveStatus;
use crate::terminal::lobby::{Error, encode, is_ok, launch};

/// Game bytes kept while the seat is not known yet (a real game sends a few dozen).
const MAX_EARLY_BYTES: usize = 64 * 1024;

impl Session {
    pub(super) fn on_channel_bytes(&mut self, now: Instant, bytes: &[u8]) {
        match &mut self.channel {
            Channel::Closed => return,
            Channel::Open { .. } => return self.on_game_bytes(now, bytes),
            Channel::Handshake { reader, .. } => reader.feed(bytes),
        }
        while self.phase != Phase::Done {
            let Channel::Handshake { reader, sent } = &mut self.channel else {
                return;
            };
            match reader.next() {
                Ok(None) => return,
                Ok(Some(Item::SessionStart)) => {}
                Ok(Some(Item::Element(e))) => {
                    let first = !std::mem::replace(sent, true);
                    self.on_channel_element(&e, first);
                }
                Ok(Some(Item::SessionEnd)) => {
                    let old =
                        std::mem::replace(&mut self.channel, Channel::Open { skip_newline: true });
                    let rest = match old {
                        Channel::Handshake { reader, .. } => reader.into_remaining(),
                        Channel::Closed | Channel::Open { .. } => Vec::new(),
                    };
                    self.print("game channel open".to_owned());
                    self.send_table_request(now);
                    self.on_game_bytes(now, &rest);
                }
                Err(e) => self.fail(Error::BadData(e.to_string())),
            }
        }
    }

    /// An element of the channel's handshake: `<CHANNEL>` goes out after the greeting
    /// (the `first` element), a refusal ends the session.
    fn on_channel_element(&mut self, e: &Element, first: bool) {
        if e.name == "RESULT" {
            let code = e.attr("CODE").unwrap_or_default();
            if !is_ok(code) {
                let action = e.attr("ACTION").unwrap_or_default();
                return self.fail(Error::Refused {
                    action: action.to_owned(),
                    code: code.to_owned(),
                });
            }
        }
        match decode_server(e) {
            ServerMessage::Greeting { .. } if first => {
                let mut text = SESSION_START.to_owned();
                ClientMessage::Channel {
                    id: Some(self.options.name.clone()),
                }
                .encode(&mut text);
                text.push_str(SESSION_END);
                self.actions
                    .push_back(Action::SendChannel(text.into_bytes()));
            }
            ServerMessage::ServerFull { .. } => self.fail(Error::ServerFull),
            ServerMessage::Greeting { .. }
            | ServerMessage::Result { .. }
            | ServerMessage::LoginNew { .. }
            | ServerMessage::Motd { .. }
            | ServerMessage::GameList(_)
            | ServerMessage::RoomList(_)
            | ServerMessage::PlayerList { .. }
            | ServerMessage::TableList { .. }
            | ServerMessage::Chat { .. }
            | ServerMessage::Ping { .. }
            | ServerMessage::Pong { .. }
            | ServerMessage::Join { .. }
            | ServerMessage::Leave { .. }
            | ServerMessage::Info(_)
            | ServerMessage::Rankings(_)
            | ServerMessage::Update(_)
            | ServerMessage::SessionEnd
            | ServerMessage::Unknown { .. } => {}
        }
    }

    /// `LAUNCH` or `JOIN`, with the channel open.
    pub(super) fn send_table_request(&mut self, now: Instant) {
        let message = match self.options.join {
            Some(table) => ClientMessage::Join {
                table: Some(i64::from(table)),
                spectator: false,
                seat: None,
            },
            None => launch(&self.options, self.game),
        };
        self.send(encode(&message));
        self.enter_phase(Phase::Table, now);
    }

    pub(super) fn on_game_bytes(&mut self, now: Instant, mut bytes: &[u8]) {
        if let Channel::Open { skip_newline } = &mut self.channel {
            if *skip_newline && !bytes.is_empty() {
                *skip_newline = false;
                bytes = bytes.strip_prefix(b"\n").unwrap_or(bytes);
            }
        }
        if bytes.is_empty() {
            return;
        }
        let Some(client) = &mut self.client else {
            if self.early.len() + bytes.len() > MAX_EARLY_BYTES {
                return self.fail(Error::BadData("game data before the seat".to_owned()));
            }
            return self.early.extend_from_slice(bytes);
        };
        let events = match client.feed(bytes) {
            Ok(events) => events,
            Err(e) => return self.fail(Error::BadData(e.to_string())),
        };
        if self.phase == Phase::Play && !self.to_move {
            self.deadline = Some(now + self.options.idle);
        }
        for event in events {
            if self.phase != Phase::Play {
                break;
            }
            self.on_game_event(now, event);
        }
    }

    fn on_game_event(&mut self, now: Instant, event: ClientEvent) {
        match event {
            ClientEvent::YourTurn => {
                self.print_board();
                self.print("your move".to_owned());
                self.to_move = true;
                self.play_next(now);
            }
            ClientEvent::MoveAccepted { cell } => self.print(format!("you played {cell}")),
            ClientEvent::MoveRejected { status } => {
                let cell = self.last_move.map_or("?".to_owned(), |c| c.to_string());
                self.print(format!("move {cell} refused: {}", refusal(status)));
            }
            ClientEvent::Moved { player, cell } => {
                let who = if Some(player) == self.seat {
                    "you"
                } else {
                    "opponent"
                };
                self.print(format!("{who} played {cell}"));
            }
            ClientEvent::Synced { .. } => self.print_board(),
            ClientEvent::GameOver(outcome) => {
                self.print_board();
                let result = match outcome {
                    Outcome::Tie => "tie",
                    Outcome::Win(p) if Some(p) == self.seat => "you win",
                    Outcome::Win(_) => "you lose",
                };
                self.print(format!("game over: {result}"));
                self.to_move = false;
                self.send(SESSION_END.to_owned());
                self.actions.push_back(Action::CloseChannel);
                self.channel = Channel::Closed;
                self.enter_phase(Phase::Logout, now);
            }
            ClientEvent::Seat(_) | ClientEvent::Players(_) | ClientEvent::Ignored(_) => {}
        }
    }

    /// Plays the next queued move if the server asked for one; a move that cannot be
    /// played is reported and the next one tried.
    pub(super) fn play_next(&mut self, now: Instant) {
        if !self.to_move || self.phase != Phase::Play {
            return;
        }
        let Some(client) = &mut self.client else {
            return;
        };
        let mut refused = false;
        while let Some(line) = self.moves.pop_front() {
            if line.trim().is_empty() {
                continue;
            }
            let cell = match parse_move(&line) {
                Ok(cell) => cell,
                Err(e) => {
                    self.actions
                        .push_back(Action::Print(format!("bad move {:?}: {e}", line.trim())));
                    refused = true;
                    continue;
                }
            };
            if client.board().get(cell).is_some() {
                self.actions
                    .push_back(Action::Print(format!("cell {cell} is taken")));
                refused = true;
                continue;
            }
            let mut packet = Vec::new();
            client.send_move(cell, &mut packet);
            self.actions.push_back(Action::SendChannel(packet));
            self.last_move = Some(cell);
            self.to_move = false;
            self.deadline = Some(now + self.options.idle);
            return;
        }
        if self.input_closed {
            return self.fail(Error::NoMovesLeft);
        }
        if refused {
            self.print("your move".to_owned());
        }
        // The player is thinking: no deadline.
        self.deadline = None;
    }

    fn print_board(&mut self) {
        if let Some(client) = &self.client {
            let board = render(client.board());
            self.print(board.trim_end().to_owned());
        }
    }
}

/// Why the server refused a move, in words.
fn refusal(status: MoveStatus) -> String {
    match status {
        MoveStatus::Ok => "accepted".to_owned(),
        MoveStatus::ErrState => "the game is not being played".to_owned(),
        MoveStatus::ErrTurn => "not your turn".to_owned(),
        MoveStatus::ErrBound => "no such cell".to_owned(),
        MoveStatus::ErrFull => "cell taken".to_owned(),
        MoveStatus::Unknown(code) => format!("status {code}"),
    }
}
