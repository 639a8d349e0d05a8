//! The game itself: players' messages, moves, bots, game over and state changes.

use glou_proto::ggzdmod::{GameResult, GameState, ReportEntry, SeatType, TableMessage};

use super::{BOT_NAME, ConnId, Output, Role, Table};
use crate::board::{MoveError, Outcome, Player};
use crate::protocol::{ClientMessage, DecodeError, MoveStatus, PlayerEntry, ServerMessage};

impl Table {
    pub(super) fn client_message(&mut self, role: Role, conn: ConnId, message: ClientMessage) {
        match (role, message) {
            (Role::Seat(index), ClientMessage::SndMove { cell }) => {
                self.player_move(index, conn, cell)
            }
            (Role::Seat(_) | Role::Spectator(_), ClientMessage::ReqSync) => self.send_sync(conn),
            (Role::Seat(index), ClientMessage::Unknown { opcode }) => {
                self.log(format!(
                    "Unrecognized player opcode {opcode} from player {index}"
                ));
            }
            (
                Role::Spectator(num),
                ClientMessage::SndMove { .. } | ClientMessage::Unknown { .. },
            ) => {
                let opcode = message.opcode();
                self.log(format!(
                    "Unrecognized spectator opcode {opcode} from spectator {num}"
                ));
            }
        }
    }

    /// `SND_MOVE`: answered with `RSP_MOVE`; a bad cell is asked for again.
    pub(super) fn player_move(&mut self, index: usize, conn: ConnId, cell: i32) {
        self.log(format!("Handling move for player {index}: {cell}"));
        let status = if self.state != GameState::Playing {
            MoveStatus::ErrState
        } else if self.turn.map(Player::index) != Some(index) {
            MoveStatus::ErrTurn
        } else {
            match self.board.check(cell) {
                Ok(_) => MoveStatus::Ok,
                Err(MoveError::OutOfBounds(_)) => MoveStatus::ErrBound,
                Err(MoveError::Occupied(_)) => MoveStatus::ErrFull,
            }
        };
        self.log(format!("Send back result: {}", status.code()));
        self.send(conn, ServerMessage::RspMove { status });
        match status {
            MoveStatus::Ok => {
                if let Some(outcome) = self.do_move(cell).or_else(|| self.advance()) {
                    self.finish(outcome);
                }
            }
            MoveStatus::ErrBound | MoveStatus::ErrFull => self.req_move(index),
            MoveStatus::ErrState | MoveStatus::ErrTurn | MoveStatus::Unknown(_) => {}
        }
    }

    /// Plays bots until a human must move (asked with `REQ_MOVE`) or the game ends.
    pub(super) fn advance(&mut self) -> Option<Outcome> {
        loop {
            if self.state != GameState::Playing {
                return None;
            }
            let turn = self.turn?;
            let seat = &self.seats[turn.index()];
            match seat.seat_type {
                SeatType::Bot => {
                    let difficulty = self.difficulty(seat.name.as_deref());
                    let cell = self.board.bot_move(turn, difficulty)?;
                    if let Some(outcome) = self.do_move(cell as i32) {
                        return Some(outcome);
                    }
                }
                SeatType::Player => {
                    self.req_move(turn.index());
                    return None;
                }
                SeatType::None
                | SeatType::Open
                | SeatType::Reserved
                | SeatType::Abandoned
                | SeatType::Unknown(_) => return None,
            }
        }
    }

    /// Puts the current player's mark on a checked cell and tells the others.
    pub(super) fn do_move(&mut self, cell: i32) -> Option<Outcome> {
        let player = self.turn?;
        let index = player.index();
        self.log(format!("Player {index} in square {cell}"));
        if self.board.play(cell, player).is_err() {
            return None;
        }
        let message = ServerMessage::Move {
            player: index as i32,
            cell,
        };
        let opponent = player.other().index();
        if let Some(conn) = self.seats[opponent].conn {
            self.log(format!(
                "Sending player {index}'s move to player {opponent}"
            ));
            self.send(conn, message.clone());
        }
        for conn in self.spectator_conns() {
            self.send(conn, message.clone());
        }
        match self.board.outcome() {
            Some(outcome) => {
                self.outcome = Some(outcome);
                Some(outcome)
            }
            None => {
                self.turn = Some(player.other());
                None
            }
        }
    }

    /// Game over: `MSG_GAME_REPORT` to the lobby, `MSG_GAMEOVER` to everyone, DONE.
    pub(super) fn finish(&mut self, outcome: Outcome) {
        let mut report = Vec::new();
        for (index, seat) in self.seats.iter().enumerate() {
            let usable = match seat.seat_type {
                SeatType::Player | SeatType::Bot | SeatType::Abandoned => true,
                SeatType::None | SeatType::Open | SeatType::Reserved | SeatType::Unknown(_) => {
                    false
                }
            };
            if !usable {
                continue;
            }
            let result = match outcome {
                Outcome::Win(p) if p.index() == index => GameResult::Win,
                Outcome::Win(_) => GameResult::Loss,
                Outcome::Tie => GameResult::Tie,
            };
            let name = match (&seat.name, seat.seat_type) {
                (Some(name), _) => name.clone(),
                (None, SeatType::Bot) => BOT_NAME.to_owned(),
                (None, _) => String::new(),
            };
            report.push(ReportEntry {
                name,
                seat_type: seat.seat_type,
                team: report.len() as i32,
                result,
                score: 0,
            });
        }
        self.out
            .push_back(Output::Control(TableMessage::Report(report)));
        let message = ServerMessage::game_over(outcome);
        for index in 0..self.seats.len() {
            if let Some(conn) = self.seats[index].conn {
                self.log(format!("Sending game-over to player {index}"));
                self.send(conn, message.clone());
            }
        }
        for conn in self.spectator_conns() {
            self.send(conn, message.clone());
        }
        self.set_state(GameState::Done);
    }

    /// Like ggzdmod's `set_state`: the game reacts first, then the lobby is told.
    pub(super) fn set_state(&mut self, state: GameState) {
        if state == self.state {
            return;
        }
        self.state = state;
        let mut finished = None;
        if state == GameState::Playing {
            self.turn.get_or_insert(Player::X);
            finished = self.advance();
        }
        self.log(format!("GGZDMOD: Game setting state to {}", state.as_u8()));
        self.out
            .push_back(Output::Control(TableMessage::State(state)));
        if let Some(outcome) = finished {
            self.finish(outcome);
        }
    }

    pub(super) fn req_move(&mut self, index: usize) {
        self.log(format!("Requesting move from player {index}"));
        if let Some(conn) = self.seats[index].conn {
            self.send(conn, ServerMessage::ReqMove);
        }
    }

    pub(super) fn send_sync(&mut self, conn: ConnId) {
        self.log("Handling sync".into());
        let message = ServerMessage::sync(&self.board, self.turn);
        self.send(conn, message);
    }

    /// `MSG_PLAYERS` to every seated player (protocol 5).
    pub(super) fn send_players(&mut self) {
        let message = self.players_message();
        for index in 0..self.seats.len() {
            if let Some(conn) = self.seats[index].conn {
                self.log(format!("Sending playerlist to player {index}"));
                self.send(conn, message.clone());
            }
        }
    }

    pub(super) fn players_message(&self) -> ServerMessage {
        let entry = |index: usize| match self.seats.get(index) {
            Some(seat) => PlayerEntry {
                seat_type: seat.seat_type,
                name: match seat.seat_type {
                    SeatType::Open => None,
                    SeatType::None
                    | SeatType::Bot
                    | SeatType::Player
                    | SeatType::Reserved
                    | SeatType::Abandoned
                    | SeatType::Unknown(_) => Some(seat.name.clone().unwrap_or_default()),
                },
            },
            None => PlayerEntry {
                seat_type: SeatType::Open,
                name: None,
            },
        };
        ServerMessage::Players {
            seats: [entry(0), entry(1)],
        }
    }

    /// Drops a connection that sent something undecodable; asks the lobby to boot
    /// its owner, which is how the player leaves the table.
    pub(super) fn bad_peer(&mut self, conn: ConnId, error: &DecodeError) {
        let Some(peer) = self.peers.remove(&conn) else {
            return;
        };
        let who = self.forget_conn(peer.role);
        self.log(format!(
            "{who} sent bad data ({error}); dropping the connection"
        ));
        self.out.push_back(Output::Close { conn });
        let name = match peer.role {
            Role::Seat(index) => self.seats[index].name.clone(),
            Role::Spectator(num) => self.spectators.get(&num).map(|s| s.name.clone()),
        };
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            self.out
                .push_back(Output::Control(TableMessage::Boot(name)));
        }
    }
}
