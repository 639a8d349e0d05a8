//! The table: one TicTacToe game driven by ggzdmod control messages and by the
//! players' packets, as `ggzd.tictactoe` plays it. Sans-IO: the caller feeds control
//! messages (pairing each fd-carrying one with a connection id it chose), player bytes
//! and closed connections, then drains [`Output`]s. No sockets, no clock.

use std::collections::{BTreeMap, HashMap, VecDeque};

use glou_proto::ggzdmod::{ControlMessage, GameState, LaunchSeat, SeatType, TableMessage};

use crate::board::{Board, Difficulty, Outcome, Player};
use crate::protocol::{ClientMessage, Dialect, MAX_CLIENT_PACKET, PacketDecoder, ServerMessage};

/// The name ggzdmod gives a bot that has none.
pub const BOT_NAME: &str = "AI";

/// How the table behaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Which game-protocol messages to send.
    pub dialect: Dialect,
    /// Bot classes by bot name, like the `.dsc` `[NamedBots]` (`Alfred = easy`); any
    /// other bot plays [`Difficulty::Hard`], as the original's default.
    pub bot_classes: Vec<(String, Difficulty)>,
}

/// A player's or spectator's connection, named by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// What the table asks its caller to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Write this to the lobby (fd 3).
    Control(TableMessage),
    /// Write this packet to a connection.
    Send {
        conn: ConnId,
        message: ServerMessage,
    },
    /// Close a connection once what was sent to it is written; the table forgot it.
    Close { conn: ConnId },
}

/// One TicTacToe table.
#[derive(Debug)]
pub struct Table {
    config: Config,
    state: GameState,
    /// Empty until the launch; then exactly 2.
    seats: Vec<Seat>,
    spectators: BTreeMap<i32, Spectator>,
    peers: HashMap<ConnId, Peer>,
    board: Board,
    /// `None` until the game starts.
    turn: Option<Player>,
    outcome: Option<Outcome>,
    out: VecDeque<Output>,
}

#[derive(Clone, Debug)]
struct Seat {
    seat_type: SeatType,
    name: Option<String>,
    conn: Option<ConnId>,
}

#[derive(Clone, Debug)]
struct Spectator {
    name: String,
    conn: Option<ConnId>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Seat(usize),
    Spectator(i32),
}

#[derive(Debug)]
struct Peer {
    role: Role,
    decoder: PacketDecoder,
}

impl Table {
    /// A table in state CREATED. Its first output is the log line ggzdmod sends on
    /// connecting ("GGZDMOD: Connecting to GGZ server.").
    pub fn new(config: Config) -> Table {
        let mut table = Table {
            config,
            state: GameState::Created,
            seats: Vec::new(),
            spectators: BTreeMap::new(),
            peers: HashMap::new(),
            board: Board::new(),
            turn: None,
            outcome: None,
            out: VecDeque::new(),
        };
        table.log("GGZDMOD: Connecting to GGZ server.".into());
        table
    }

    pub fn state(&self) -> GameState {
        self.state
    }

    /// DONE: the caller flushes the outputs and exits.
    pub fn is_done(&self) -> bool {
        self.state == GameState::Done
    }

    pub fn board(&self) -> &Board {
        &self.board
    }

    /// Whose move it is (`None` before the start).
    pub fn turn(&self) -> Option<Player> {
        self.turn
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The next thing to do, oldest first.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// A message from the lobby. `conn` is the connection made from the fd that came
    /// with it, for a message that [`carries_fd`](ControlMessage::carries_fd).
    pub fn handle_control(&mut self, message: ControlMessage, conn: Option<ConnId>) {
        let conn = match (message.carries_fd(), conn) {
            (true, conn) => conn,
            (false, Some(conn)) => {
                self.out.push_back(Output::Close { conn });
                None
            }
            (false, None) => None,
        };
        match message {
            ControlMessage::Launch {
                game,
                savegame,
                seats,
                spectators,
            } => self.launch(&game, &savegame, seats, spectators),
            ControlMessage::Seat {
                num,
                seat_type,
                name,
            } => self.seat(num, seat_type, name, conn),
            ControlMessage::Spectator { num, name } => self.spectator(num, name, conn),
            ControlMessage::Reseat {
                old,
                was_spectator,
                new,
                is_spectator,
            } => self.reseat(old, was_spectator, new, is_spectator),
            ControlMessage::StateAck => {}
        }
    }

    /// Bytes from a player's or spectator's connection.
    pub fn handle_data(&mut self, conn: ConnId, bytes: &[u8]) {
        let Some(peer) = self.peers.get_mut(&conn) else {
            return;
        };
        peer.decoder.feed(bytes);
        loop {
            let Some(peer) = self.peers.get_mut(&conn) else {
                return;
            };
            let role = peer.role;
            let packet = match peer.decoder.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return,
                Err(e) => return self.bad_peer(conn, &e),
            };
            match ClientMessage::decode(&packet) {
                Ok(message) => self.client_message(role, conn, message),
                Err(e) => return self.bad_peer(conn, &e),
            }
        }
    }

    /// A connection reached end of file or failed. The seat stays taken until the
    /// lobby says otherwise (ggzd tells the table when a player leaves).
    pub fn handle_closed(&mut self, conn: ConnId) {
        let Some(peer) = self.peers.remove(&conn) else {
            return;
        };
        let who = self.forget_conn(peer.role);
        self.log(format!("{who} disconnected"));
        self.out.push_back(Output::Close { conn });
    }

    /// `MSG_GAME_LAUNCH`
    fn launch(&mut self, game: &str, savegame: &str, seats: Vec<LaunchSeat>, spectators: i32) {
        if self.state != GameState::Created {
            self.log(format!("GGZDMOD: ERROR: second launch of {game} ignored"));
            return;
        }
        if seats.len() != 2 || spectators < 0 {
            self.log(format!(
                "GGZDMOD: ERROR: {} seats, {spectators} spectators sent upon launch.",
                seats.len()
            ));
            self.log("TicTacToe needs exactly 2 seats".into());
            return self.set_state(GameState::Done);
        }
        if !savegame.is_empty() {
            self.log(format!("Game restoration from {savegame} is not supported"));
        }
        for (num, seat) in seats.into_iter().enumerate() {
            let (seat_type, name) = match seat.seat_type {
                SeatType::Open => {
                    self.log(format!("GGZDMOD: Seat {num} is open"));
                    (SeatType::Open, None)
                }
                SeatType::Bot => {
                    let name = seat.name.filter(|n| !n.is_empty());
                    let name = name.unwrap_or_else(|| BOT_NAME.into());
                    self.log(format!("GGZDMOD: Seat {num} is a bot named {name}"));
                    (SeatType::Bot, Some(name))
                }
                SeatType::Reserved => {
                    let name = seat.name.unwrap_or_default();
                    self.log(format!("GGZDMOD: Seat {num} reserved for {name}"));
                    (SeatType::Reserved, Some(name))
                }
                other @ (SeatType::None
                | SeatType::Player
                | SeatType::Abandoned
                | SeatType::Unknown(_)) => {
                    let code = other.as_i32();
                    self.log(format!("GGZDMOD: Unknown seat type {code}"));
                    (SeatType::Open, None)
                }
            };
            self.seats.push(Seat {
                seat_type,
                name,
                conn: None,
            });
        }
        self.set_state(GameState::Waiting);
        // Two bots: nobody will join, so play now (the original would wait forever).
        if self.seats_full() {
            self.set_state(GameState::Playing);
        }
    }

    /// `MSG_GAME_SEAT`: a player joins or leaves, or a bot or reservation changes.
    fn seat(&mut self, num: i32, seat_type: SeatType, name: String, conn: Option<ConnId>) {
        let Some(index) = self.seat_index(num) else {
            self.log(format!("GGZDMOD: ERROR: no seat {num}"));
            return self.close_unused(conn);
        };
        if self.state == GameState::Done {
            return self.close_unused(conn);
        }
        let name = match (seat_type, name.is_empty()) {
            (SeatType::Bot, true) => Some(BOT_NAME.to_owned()),
            (_, true) => None,
            (_, false) => Some(name),
        };
        if seat_type == SeatType::Player && conn.is_none() {
            self.log(format!(
                "GGZDMOD: ERROR: player at seat {num} has no connection"
            ));
        }
        let conn = if seat_type == SeatType::Player {
            conn
        } else {
            self.close_unused(conn);
            None
        };
        let old = std::mem::replace(
            &mut self.seats[index],
            Seat {
                seat_type,
                name,
                conn,
            },
        );
        if let Some(old_conn) = old.conn {
            self.peers.remove(&old_conn);
            self.out.push_back(Output::Close { conn: old_conn });
        }
        if let Some(conn) = conn {
            self.add_peer(conn, Role::Seat(index));
        }
        self.seat_changed(index);
    }

    /// `MSG_GAME_SPECTATOR_SEAT`: a spectator joins (name) or leaves ("").
    fn spectator(&mut self, num: i32, name: String, conn: Option<ConnId>) {
        if matches!(self.state, GameState::Created | GameState::Done) {
            return self.close_unused(conn);
        }
        if let Some(old) = self.spectators.remove(&num)
            && let Some(old_conn) = old.conn
        {
            self.peers.remove(&old_conn);
            self.out.push_back(Output::Close { conn: old_conn });
        }
        if name.is_empty() {
            self.close_unused(conn);
            return;
        }
        self.spectators.insert(num, Spectator { name, conn });
        if let Some(conn) = conn {
            self.add_peer(conn, Role::Spectator(num));
            self.spectator_joined(conn);
        }
    }

    /// `MSG_GAME_RESEAT`: someone moves between seats and spectator places, keeping
    /// their connection. A seat left during play becomes ABANDONED, as in ggzdmod.
    fn reseat(&mut self, old: i32, was_spectator: bool, new: i32, is_spectator: bool) {
        if self.state == GameState::Done {
            return;
        }
        if !is_spectator && self.seat_index(new).is_none() {
            self.log(format!("GGZDMOD: ERROR: reseat to missing seat {new}"));
            return;
        }
        let (name, conn) = if was_spectator {
            match self.spectators.remove(&old) {
                Some(s) => (Some(s.name), s.conn),
                None => {
                    self.log(format!("GGZDMOD: ERROR: reseat from empty spectator {old}"));
                    return;
                }
            }
        } else {
            let Some(index) = self.seat_index(old) else {
                self.log(format!("GGZDMOD: ERROR: reseat from missing seat {old}"));
                return;
            };
            let abandon = self.state == GameState::Playing;
            let seat = &mut self.seats[index];
            let name = seat.name.take();
            let conn = seat.conn.take();
            seat.seat_type = if abandon {
                seat.name.clone_from(&name);
                SeatType::Abandoned
            } else {
                SeatType::Open
            };
            (name, conn)
        };
        if let Some(conn) = conn {
            self.peers.remove(&conn);
        }
        let name = name.unwrap_or_default();
        if is_spectator {
            self.spectator(new, name, conn);
        } else {
            self.seat(new, SeatType::Player, name, conn);
        }
        if !was_spectator && let Some(index) = self.seat_index(old) {
            self.seat_changed(index);
        }
    }

    /// After any change of seat `index` (ggzdmod's JOIN, LEAVE and SEAT events).
    fn seat_changed(&mut self, index: usize) {
        let new_state = if self.seats_full() {
            GameState::Playing
        } else if self.seats_empty() {
            GameState::Done
        } else {
            GameState::Waiting
        };
        let joined = self.seats[index].clone();
        if self.config.dialect == Dialect::V5 {
            self.send_players();
            if joined.seat_type == SeatType::Player
                && let Some(conn) = joined.conn
            {
                self.log(format!("Sending player {index}'s seat num"));
                self.send(conn, ServerMessage::Seat { num: index as i32 });
            }
        }
        if joined.seat_type == SeatType::Player
            && self.turn.is_some()
            && let Some(conn) = joined.conn
        {
            self.send_sync(conn);
        }
        self.set_state(new_state);
        self.log(format!("State change to {}", new_state.as_u8()));
    }

    fn spectator_joined(&mut self, conn: ConnId) {
        if self.config.dialect == Dialect::V5 {
            let message = self.players_message();
            self.send(conn, message);
        }
        self.send_sync(conn);
    }

    /// Unlinks a role from its connection; returns who it was, for the log.
    fn forget_conn(&mut self, role: Role) -> String {
        match role {
            Role::Seat(index) => {
                self.seats[index].conn = None;
                format!("Player {index}")
            }
            Role::Spectator(num) => {
                if let Some(s) = self.spectators.get_mut(&num) {
                    s.conn = None;
                }
                format!("Spectator {num}")
            }
        }
    }

    fn add_peer(&mut self, conn: ConnId, role: Role) {
        let peer = Peer {
            role,
            decoder: PacketDecoder::new(MAX_CLIENT_PACKET),
        };
        self.peers.insert(conn, peer);
    }

    fn close_unused(&mut self, conn: Option<ConnId>) {
        if let Some(conn) = conn {
            self.peers.remove(&conn);
            self.out.push_back(Output::Close { conn });
        }
    }

    fn seat_index(&self, num: i32) -> Option<usize> {
        usize::try_from(num).ok().filter(|&i| i < self.seats.len())
    }

    fn seats_full(&self) -> bool {
        !self.seats.is_empty()
            && self
                .seats
                .iter()
                .all(|s| matches!(s.seat_type, SeatType::Player | SeatType::Bot))
    }

    fn seats_empty(&self) -> bool {
        !self.seats.iter().any(|s| s.seat_type == SeatType::Player) && self.spectators.is_empty()
    }

    fn spectator_conns(&self) -> Vec<ConnId> {
        self.spectators.values().filter_map(|s| s.conn).collect()
    }

    fn difficulty(&self, name: Option<&str>) -> Difficulty {
        self.config
            .bot_classes
            .iter()
            .find(|(n, _)| Some(n.as_str()) == name)
            .map_or(Difficulty::Hard, |(_, d)| *d)
    }

    fn send(&mut self, conn: ConnId, message: ServerMessage) {
        self.out.push_back(Output::Send { conn, message });
    }

    fn log(&mut self, line: String) {
        self.out.push_back(Output::Control(TableMessage::Log(line)));
    }
}

mod play;
#[cfg(test)]
mod tests;
