//! The terminal client's conversation, sans-IO: what it sends to the lobby and on the
//! game channel, what it prints, and when it gives up, from what it receives and the
//! time it is told. This file has the lobby half (greeting to seat), `game.rs` the
//! channel and the game; the sockets, threads and stdin are the driver's (`cli.rs`).

mod game;

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use glou_proto::ggz::client::ListType;
use glou_proto::ggz::server::{
    GameInfo, LeaveReason, ResultAction, ResultCode, RoomInfo, SeatChange, TableInfo,
};
use glou_proto::ggz::{
    ClientMessage, Element, Item, PROTOCOL_VERSION, SESSION_END, SESSION_START, SeatType,
    ServerMessage, Update, XmlReader, decode_server,
};

use super::lobby::{Error, Options, choose_room, encode, is_ok, login, reader_limits};
use crate::board::Player;
use crate::client::Client;

/// `LAUNCH`/`JOIN` answered `no channel` right after the channel's `</SESSION>` (the
/// lobby may not have filed the channel yet) are sent again this often, this many times.
const NO_CHANNEL_RETRY: Duration = Duration::from_millis(200);
const NO_CHANNEL_RETRIES: u32 = 5;

/// What the driver tells the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Bytes from the lobby connection.
    Lobby(&'a [u8]),
    /// The lobby connection ended.
    LobbyClosed,
    /// Bytes from the game channel (its XML handshake, then the game).
    Channel(&'a [u8]),
    /// The game channel ended.
    ChannelClosed,
    /// A line the player typed (without its line end).
    Line(&'a str),
    /// No more lines will come.
    InputClosed,
}

/// What the session asks of the driver, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Write this to the lobby connection.
    SendLobby(String),
    /// Open the game channel: a second TCP connection to the same server.
    OpenChannel,
    /// Write these bytes to the game channel.
    SendChannel(Vec<u8>),
    /// Close the game channel.
    CloseChannel,
    /// Print this line (it may hold line ends: a board).
    Print(String),
    /// Stop: the program's outcome. Nothing follows.
    Exit(Result<(), Error>),
}

/// Where the conversation is: each step waits for one thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Greeting,
    Login,
    Games,
    Rooms,
    Enter,
    Channel,
    /// `LAUNCH` or `JOIN` sent: waiting for its `RESULT` and `<JOIN>`.
    Table,
    /// At the table, asked for the table list to learn the seat.
    Seat,
    Play,
    Logout,
    Done,
}

impl Phase {
    /// What a timeout in this phase was waiting for.
    fn waiting_for(self) -> &'static str {
        match self {
            Phase::Greeting => "the server's greeting",
            Phase::Login => "the login",
            Phase::Games => "the game list",
            Phase::Rooms => "the room list",
            Phase::Enter => "entering the room",
            Phase::Channel => "the game channel",
            Phase::Table => "the table",
            Phase::Seat => "the seat",
            Phase::Play => "the game",
            Phase::Logout | Phase::Done => "the logout",
        }
    }
}

/// The game channel.
#[derive(Debug)]
enum Channel {
    Closed,
    /// Reading the server's greeting, then (once `sent`) waiting for its `</SESSION>`.
    Handshake {
        reader: XmlReader,
        sent: bool,
    },
    /// Game bytes; the server's `</SESSION>` line end may still be due.
    Open {
        skip_newline: bool,
    },
}

/// One player's client; see the module documentation.
#[derive(Debug)]
pub struct Session {
    options: Options,
    phase: Phase,
    lobby: XmlReader,
    channel: Channel,
    games: Vec<GameInfo>,
    room: Option<RoomInfo>,
    game: u32,
    table: Option<u32>,
    /// Our seat at each table of the room, as the lobby's lists and updates tell.
    seats: HashMap<u32, u32>,
    asked_tables: bool,
    seat: Option<Player>,
    client: Option<Client>,
    /// Game bytes that came before the seat was known.
    early: Vec<u8>,
    /// Moves to play, as typed.
    moves: VecDeque<String>,
    input_closed: bool,
    /// The server asked for a move and none was sent yet.
    to_move: bool,
    last_move: Option<usize>,
    no_channel_retries: u32,
    retry_at: Option<Instant>,
    deadline: Option<Instant>,
    actions: VecDeque<Action>,
}

impl Session {
    /// A session about to read the lobby's greeting.
    pub fn new(options: Options, now: Instant) -> Session {
        let moves = options.moves.iter().cloned().collect();
        let deadline = Some(now + options.timeout);
        Session {
            options,
            phase: Phase::Greeting,
            lobby: XmlReader::new(reader_limits()),
            channel: Channel::Closed,
            games: Vec::new(),
            room: None,
            game: 0,
            table: None,
            seats: HashMap::new(),
            asked_tables: false,
            seat: None,
            client: None,
            early: Vec::new(),
            moves,
            input_closed: false,
            to_move: false,
            last_move: None,
            no_channel_retries: 0,
            retry_at: None,
            deadline,
            actions: VecDeque::new(),
        }
    }

    /// Follows one input.
    pub fn handle(&mut self, now: Instant, input: Input<'_>) {
        if self.phase == Phase::Done {
            return;
        }
        match input {
            Input::Lobby(bytes) => self.on_lobby_bytes(now, bytes),
            Input::LobbyClosed if self.phase == Phase::Logout => self.finish(),
            Input::LobbyClosed => self.fail(Error::LobbyLost),
            Input::Channel(bytes) => self.on_channel_bytes(now, bytes),
            // Closed by us after the game.
            Input::ChannelClosed if self.phase == Phase::Logout => {}
            Input::ChannelClosed => self.fail(Error::ChannelLost),
            Input::Line(line) => {
                self.moves.push_back(line.to_owned());
                self.play_next(now);
            }
            Input::InputClosed => {
                self.input_closed = true;
                self.play_next(now);
            }
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.deadline, self.retry_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Acts on what was due by `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Done {
            return;
        }
        if self.retry_at.is_some_and(|at| at <= now) {
            self.retry_at = None;
            self.send_table_request(now);
        }
        if self.deadline.is_some_and(|at| at <= now) {
            match self.phase {
                Phase::Logout => self.finish(),
                phase => self.fail(Error::Timeout(phase.waiting_for())),
            }
        }
    }

    /// The next thing for the driver to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Whether the session is over (its `Exit` was queued).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    fn on_lobby_bytes(&mut self, now: Instant, bytes: &[u8]) {
        self.lobby.feed(bytes);
        while self.phase != Phase::Done {
            match self.lobby.next() {
                Ok(None) => return,
                Ok(Some(Item::SessionStart)) => {}
                Ok(Some(Item::Element(e))) => self.on_element(now, &e),
                Ok(Some(Item::SessionEnd)) if self.phase == Phase::Logout => self.finish(),
                Ok(Some(Item::SessionEnd)) => self.fail(Error::SessionEnded),
                Err(e) => self.fail(Error::BadData(e.to_string())),
            }
        }
    }

    /// One top-level element of the lobby's stream.
    fn on_element(&mut self, now: Instant, e: &Element) {
        if e.name == "RESULT" {
            let code = e.attr("CODE").unwrap_or_default();
            if !is_ok(code) {
                return self.on_refusal(now, e.attr("ACTION").unwrap_or_default(), code);
            }
        }
        match decode_server(e) {
            ServerMessage::Greeting { id, name, .. } if self.phase == Phase::Greeting => {
                let version = e.attr("VERSION").unwrap_or_default();
                if version.trim() != PROTOCOL_VERSION.to_string() {
                    return self.fail(Error::Version(version.to_owned()));
                }
                self.print(format!("connected to {name} ({id})"));
                let mut text = SESSION_START.to_owned();
                login(&self.options, &mut text);
                self.send(text);
                self.enter_phase(Phase::Login, now);
            }
            ServerMessage::ServerFull { .. } => self.fail(Error::ServerFull),
            ServerMessage::Result { action, .. } => self.on_ok(now, action),
            ServerMessage::LoginNew { .. } => self.on_ok(now, ResultAction::Login),
            ServerMessage::Motd { text, .. } => {
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    self.print(format!("motd: {line}"));
                }
            }
            ServerMessage::GameList(games) if self.phase == Phase::Games => {
                self.games = games;
                self.send(encode(&ClientMessage::List {
                    kind: Some(ListType::Room),
                    full: true,
                }));
                self.enter_phase(Phase::Rooms, now);
            }
            ServerMessage::RoomList(rooms) if self.phase == Phase::Rooms => {
                match choose_room(&self.games, &rooms, self.options.room) {
                    Ok((room, game)) => {
                        self.send(encode(&ClientMessage::Enter {
                            room: Some(i64::from(room.id)),
                        }));
                        self.room = Some(room);
                        self.game = game;
                        self.enter_phase(Phase::Enter, now);
                    }
                    Err(e) => self.fail(e),
                }
            }
            ServerMessage::TableList { tables, .. } => {
                for table in &tables {
                    self.note_table(table);
                }
                if self.phase == Phase::Seat {
                    self.find_seat(now);
                }
            }
            ServerMessage::Chat { from, text, .. } => match text {
                Some(text) => self.print(format!("chat {from}: {text}")),
                None => self.print(format!("{from} beeps")),
            },
            ServerMessage::Ping { id } => self.send(encode(&ClientMessage::Pong { id })),
            ServerMessage::Join { table, spectator } if self.phase == Phase::Table => {
                if spectator {
                    return self.fail(Error::NotSeated(table));
                }
                self.table = Some(table);
                self.print(format!("at table {table}"));
                self.find_seat(now);
            }
            ServerMessage::Leave { reason, player } => self.on_leave(now, reason, player),
            ServerMessage::Update(update) => self.on_update(update),
            ServerMessage::Greeting { .. }
            | ServerMessage::GameList(_)
            | ServerMessage::RoomList(_)
            | ServerMessage::PlayerList { .. }
            | ServerMessage::Pong { .. }
            | ServerMessage::Join { .. }
            | ServerMessage::Info(_)
            | ServerMessage::Rankings(_)
            | ServerMessage::SessionEnd
            | ServerMessage::Unknown { .. } => {}
        }
    }

    /// Whether this phase waits for a `RESULT` with this `ACTION`.
    fn expects(&self, action: ResultAction) -> bool {
        match self.phase {
            Phase::Login => action == ResultAction::Login,
            Phase::Games | Phase::Rooms | Phase::Seat => action == ResultAction::List,
            Phase::Enter => action == ResultAction::Enter,
            Phase::Table => matches!(action, ResultAction::Launch | ResultAction::Join),
            Phase::Greeting | Phase::Channel | Phase::Play | Phase::Logout | Phase::Done => false,
        }
    }

    /// A `RESULT` with another `CODE` than ok: fatal when it answers what this phase
    /// sent (or is a protocol error), ignored otherwise (a chat, say).
    fn on_refusal(&mut self, now: Instant, action: &str, code: &str) {
        let known = ResultAction::parse(action);
        let expected = known.is_some_and(|a| self.expects(a));
        if expected
            && ResultCode::parse(code) == Some(ResultCode::NoChannel)
            && self.no_channel_retries < NO_CHANNEL_RETRIES
        {
            self.no_channel_retries += 1;
            self.retry_at = Some(now + NO_CHANNEL_RETRY);
        } else if expected || known == Some(ResultAction::Protocol) {
            self.fail(Error::Refused {
                action: action.to_owned(),
                code: code.to_owned(),
            });
        }
    }

    /// `<RESULT ACTION CODE='ok'>`: the next step, if it answers this phase.
    fn on_ok(&mut self, now: Instant, action: ResultAction) {
        if !self.expects(action) {
            return;
        }
        match action {
            ResultAction::Login => {
                self.print(format!("logged in as {}", self.options.name));
                self.send(encode(&ClientMessage::List {
                    kind: Some(ListType::Game),
                    full: false,
                }));
                self.enter_phase(Phase::Games, now);
            }
            ResultAction::Enter => {
                if let Some(room) = &self.room {
                    self.print(format!("entered room {} ({})", room.id, room.name));
                }
                self.channel = Channel::Handshake {
                    reader: XmlReader::new(reader_limits()),
                    sent: false,
                };
                self.actions.push_back(Action::OpenChannel);
                self.enter_phase(Phase::Channel, now);
            }
            ResultAction::Launch => self.print("table launched".to_owned()),
            // The list results are the lists, handled as such; `<JOIN>` follows a join.
            ResultAction::List
            | ResultAction::Join
            | ResultAction::Chat
            | ResultAction::Leave
            | ResultAction::Reseat
            | ResultAction::Update
            | ResultAction::Admin
            | ResultAction::Motd
            | ResultAction::Channel
            | ResultAction::Pong
            | ResultAction::Protocol => {}
        }
    }

    /// `<LEAVE REASON>`: we never ask to leave, so the table let us go.
    fn on_leave(&mut self, now: Instant, reason: LeaveReason, by: Option<String>) {
        if !matches!(self.phase, Phase::Table | Phase::Seat | Phase::Play) {
            return;
        }
        match reason {
            // The result is on its way on the channel (or the channel closes).
            LeaveReason::GameOver => self.deadline = Some(now + self.options.timeout),
            LeaveReason::Boot => self.fail(Error::Booted { by }),
            LeaveReason::GameError => self.fail(Error::LeftTable("game error")),
            LeaveReason::Normal => self.fail(Error::LeftTable("normal")),
        }
    }

    fn on_update(&mut self, update: Update) {
        match update {
            Update::TableAdd { table, .. } | Update::TableResize { table, .. } => {
                self.note_table(&table);
            }
            Update::TableSeat {
                change,
                table,
                seat,
                ..
            } => {
                let ours = seat.kind == SeatType::Player
                    && seat
                        .name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(&self.options.name));
                match change {
                    SeatChange::Join | SeatChange::Seat if ours => {
                        self.seats.insert(table, seat.num);
                    }
                    SeatChange::Leave if ours => {
                        self.seats.remove(&table);
                    }
                    SeatChange::Join if self.table == Some(table) => {
                        let who = seat.name.as_deref().unwrap_or("someone");
                        self.print(format!("{who} joined seat {}", seat.num));
                    }
                    SeatChange::Leave if self.table == Some(table) => {
                        let who = seat.name.as_deref().unwrap_or("someone");
                        self.print(format!("{who} left seat {}", seat.num));
                    }
                    SeatChange::Join | SeatChange::Seat | SeatChange::Leave => {}
                }
            }
            Update::TableDelete { table, .. } => {
                self.seats.remove(&table.id);
            }
            Update::PlayerAdd { .. }
            | Update::PlayerDelete { .. }
            | Update::PlayerLag { .. }
            | Update::PlayerStats { .. }
            | Update::PlayerPerms { .. }
            | Update::TableStatus { .. }
            | Update::TableSpectator { .. }
            | Update::TableDesc { .. }
            | Update::RoomPlayers { .. }
            | Update::RoomAdd(_)
            | Update::RoomDelete { .. }
            | Update::RoomClose { .. } => {}
        }
    }

    /// Remembers which seat of `table` is ours, if any.
    fn note_table(&mut self, table: &TableInfo) {
        let name = &self.options.name;
        let ours = table.seats.iter().find(|s| {
            s.kind == SeatType::Player
                && s.name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        });
        match ours {
            Some(seat) => self.seats.insert(table.id, seat.num),
            None => self.seats.remove(&table.id),
        };
    }

    /// At the table: our seat from what the lobby said, else from the table list.
    fn find_seat(&mut self, now: Instant) {
        let Some(table) = self.table else { return };
        let Some(&num) = self.seats.get(&table) else {
            if self.asked_tables {
                return self.fail(Error::NotSeated(table));
            }
            self.asked_tables = true;
            self.send(encode(&ClientMessage::List {
                kind: Some(ListType::Table),
                full: false,
            }));
            return self.enter_phase(Phase::Seat, now);
        };
        let Some(seat) = usize::try_from(num).ok().and_then(Player::from_index) else {
            return self.fail(Error::BadSeat(num));
        };
        self.seat = Some(seat);
        self.print(format!("seat {num} ({})", seat.symbol()));
        self.client = Some(Client::with_seat(seat));
        self.enter_phase(Phase::Play, now);
        let early = std::mem::take(&mut self.early);
        self.on_game_bytes(now, &early);
    }

    fn enter_phase(&mut self, phase: Phase, now: Instant) {
        self.phase = phase;
        let wait = if phase == Phase::Play {
            self.options.idle
        } else {
            self.options.timeout
        };
        self.deadline = Some(now + wait);
    }

    fn send(&mut self, text: String) {
        self.actions.push_back(Action::SendLobby(text));
    }

    fn print(&mut self, line: String) {
        self.actions.push_back(Action::Print(line));
    }

    /// Logged out after the game: done.
    fn finish(&mut self) {
        self.print("logged out".to_owned());
        self.actions.push_back(Action::Exit(Ok(())));
        self.stop();
    }

    /// Gives up, logging out politely if the lobby is still there.
    fn fail(&mut self, error: Error) {
        let polite = !matches!(self.phase, Phase::Greeting | Phase::Logout)
            && !matches!(
                error,
                Error::LobbyLost | Error::SessionEnded | Error::BadData(_)
            );
        if polite {
            self.send(SESSION_END.to_owned());
        }
        self.actions.push_back(Action::Exit(Err(error)));
        self.stop();
    }

    fn stop(&mut self) {
        self.phase = Phase::Done;
        self.deadline = None;
        self.retry_at = None;
        self.channel = Channel::Closed;
    }
}
