//! The command line of `glou-tictactoe-client` and the blocking IO around a
//! [`Session`]: the lobby and channel sockets (one reader thread each), stdin (one
//! more), and one loop that hands their events and the session's timeouts to the
//! session and carries out its actions.

use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;

use super::lobby::{Error, Options};
use super::session::{Action, Input, Session};

/// The program's name in messages.
const NAME: &str = "glou-tictactoe-client";
/// The GGZ port, when `--server` names none.
const DEFAULT_PORT: u16 = 5688;

/// Play TicTacToe from a terminal on a GGZ lobby server (Glou or ggzd).
///
/// Logs in, enters a TicTacToe room, launches a table (or joins one) and plays it:
/// moves are cells 0-8 row by row (or "row col"), typed one per line, or given with
/// --moves. Prints one plain line per event; exits 0 when the game ended, 1 on a
/// refusal, a lost connection or a timeout.
#[derive(Clone, Debug, PartialEq, Eq, Parser)]
#[command(name = NAME, version)]
pub struct Args {
    /// The lobby's GGZ address, HOST:PORT (the port defaults to 5688).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5688")]
    pub server: String,
    /// The player's name.
    #[arg(long)]
    pub name: String,
    /// Log in to this registered account (otherwise as a guest).
    #[arg(long, env = "GLOU_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// The room to enter (its number); by default the first TicTacToe room.
    #[arg(long, value_name = "N")]
    pub room: Option<i32>,
    /// Join this table of the room instead of launching one.
    #[arg(long, value_name = "TABLE", conflicts_with = "bot")]
    pub join: Option<u32>,
    /// Launch with a bot in the second seat (otherwise it is open for another player).
    #[arg(long)]
    pub bot: bool,
    /// The launched table's description.
    #[arg(long, value_name = "TEXT", default_value = "TicTacToe from a terminal")]
    pub desc: String,
    /// Play these cells in order instead of reading stdin, e.g. "4,0,8"; a cell that is
    /// taken or refused is skipped for the next.
    #[arg(long, value_name = "CELLS")]
    pub moves: Option<Moves>,
    /// Seconds to wait for each answer of the server.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Seconds to wait during the game for an opponent, a move or the result.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub idle: u64,
}

/// `--moves`: cells 0-8, separated by commas or spaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moves(pub Vec<usize>);

impl FromStr for Moves {
    type Err = String;

    fn from_str(s: &str) -> Result<Moves, String> {
        let cells = s
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|c| !c.is_empty())
            .map(|c| match c.parse::<usize>() {
                Ok(cell) if cell <= 8 => Ok(cell),
                _ => Err(format!("expected cells 0-8, got {c:?}")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if cells.is_empty() {
            return Err("expected at least one cell".to_owned());
        }
        Ok(Moves(cells))
    }
}

impl Args {
    /// What the session is asked to do.
    pub fn options(&self) -> Options {
        Options {
            name: self.name.clone(),
            password: self.password.clone(),
            room: self.room,
            join: self.join,
            bot: self.bot,
            desc: self.desc.clone(),
            moves: self
                .moves
                .iter()
                .flat_map(|m| m.0.iter().map(usize::to_string))
                .collect(),
            timeout: Duration::from_secs(self.timeout.max(1)),
            idle: Duration::from_secs(self.idle.max(1)),
        }
    }
}

/// Runs the client with `args`, the command line after the program name, and returns
/// its exit status: 0 when the game was played to its end, 1 on any failure (said on
/// stderr), 2 for a bad command line.
pub fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    let args = match Args::try_parse_from(std::iter::once(NAME.to_owned()).chain(args)) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut out = io::stdout().lock();
    match run(&args, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = out.flush();
            eprintln!("{NAME}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the reader threads report.
enum Event {
    Lobby(Vec<u8>),
    LobbyClosed,
    Channel(Vec<u8>),
    ChannelClosed,
    Line(String),
    InputClosed,
}

/// The sockets and where their readers report.
struct Io {
    lobby: TcpStream,
    /// The lobby's address: the channel goes to the same.
    peer: SocketAddr,
    channel: Option<TcpStream>,
    events: mpsc::Sender<Event>,
    timeout: Duration,
}

/// Plays one game as `args` say, printing to `out`; reads stdin unless `--moves`.
pub fn run(args: &Args, out: &mut dyn Write) -> Result<(), Error> {
    let options = args.options();
    let timeout = options.timeout;
    let lobby = connect(&args.server, timeout)?;
    let peer = lobby
        .peer_addr()
        .map_err(|e| connect_error(&args.server, &e))?;
    let (events, rx) = mpsc::channel();
    read_socket(&lobby, &events, Event::Lobby, Event::LobbyClosed)
        .map_err(|e| connect_error(&args.server, &e))?;
    if args.moves.is_none() {
        read_stdin(events.clone());
    }
    let mut io = Io {
        lobby,
        peer,
        channel: None,
        events,
        timeout,
    };
    let mut session = Session::new(options, Instant::now());
    let result = loop {
        if let Some(result) = io.act(&mut session, out) {
            break result;
        }
        let event = match session.poll_timeout() {
            Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(event) => Some(event),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break Err(Error::LobbyLost),
            },
            None => match rx.recv() {
                Ok(event) => Some(event),
                Err(_) => break Err(Error::LobbyLost),
            },
        };
        let now = Instant::now();
        match &event {
            None => {}
            Some(Event::Lobby(bytes)) => session.handle(now, Input::Lobby(bytes)),
            Some(Event::LobbyClosed) => session.handle(now, Input::LobbyClosed),
            Some(Event::Channel(bytes)) => session.handle(now, Input::Channel(bytes)),
            Some(Event::ChannelClosed) => session.handle(now, Input::ChannelClosed),
            Some(Event::Line(line)) => session.handle(now, Input::Line(line)),
            Some(Event::InputClosed) => session.handle(now, Input::InputClosed),
        }
        // Also when events keep coming: they must not hold a deadline off.
        session.handle_timeout(now);
    };
    let _ = io.lobby.shutdown(Shutdown::Both);
    if let Some(channel) = io.channel {
        let _ = channel.shutdown(Shutdown::Both);
    }
    result
}

impl Io {
    /// Carries out the session's actions; `Some` with its outcome when it exits.
    fn act(&mut self, session: &mut Session, out: &mut dyn Write) -> Option<Result<(), Error>> {
        while let Some(action) = session.poll_action() {
            match action {
                Action::SendLobby(text) => {
                    if (&self.lobby).write_all(text.as_bytes()).is_err() {
                        session.handle(Instant::now(), Input::LobbyClosed);
                    }
                }
                Action::OpenChannel => {
                    let addr = self.peer.to_string();
                    let opened = connect(&addr, self.timeout).and_then(|stream| {
                        read_socket(&stream, &self.events, Event::Channel, Event::ChannelClosed)
                            .map_err(|e| connect_error(&addr, &e))?;
                        Ok(stream)
                    });
                    match opened {
                        Ok(stream) => self.channel = Some(stream),
                        Err(e) => return Some(Err(e)),
                    }
                }
                Action::SendChannel(bytes) => {
                    let written = match &self.channel {
                        Some(stream) => (&*stream).write_all(&bytes).is_ok(),
                        None => false,
                    };
                    if !written {
                        session.handle(Instant::now(), Input::ChannelClosed);
                    }
                }
                Action::CloseChannel => {
                    if let Some(stream) = self.channel.take() {
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                }
                Action::Print(line) => {
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
                Action::Exit(result) => return Some(result),
            }
        }
        None
    }
}

/// A TCP connection to `server` (`HOST[:PORT]`), each address tried for `timeout`;
/// writes time out after `timeout` too.
fn connect(server: &str, timeout: Duration) -> Result<TcpStream, Error> {
    let with_port;
    let server_port = match server.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => server,
        _ => {
            with_port = format!("{server}:{DEFAULT_PORT}");
            &with_port
        }
    };
    let addrs = server_port
        .to_socket_addrs()
        .map_err(|e| connect_error(server, &e))?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                stream
                    .set_write_timeout(Some(timeout))
                    .map_err(|e| connect_error(server, &e))?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(connect_error(server, &last))
}

fn connect_error(addr: &str, e: &io::Error) -> Error {
    Error::Connect {
        addr: addr.to_owned(),
        reason: e.to_string(),
    }
}

/// A thread that reads `stream` into events until it ends.
fn read_socket(
    stream: &TcpStream,
    events: &mpsc::Sender<Event>,
    data: fn(Vec<u8>) -> Event,
    closed: Event,
) -> io::Result<()> {
    let mut stream = stream.try_clone()?;
    let events = events.clone();
    thread::spawn(move || {
        let mut buf = vec![0u8; 8192];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if events.send(data(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = events.send(closed);
    });
    Ok(())
}

/// A thread that reads stdin line by line until it ends.
fn read_stdin(events: mpsc::Sender<Event>) {
    thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if events.send(Event::Line(line)).is_err() {
                return;
            }
        }
        let _ = events.send(Event::InputClosed);
    });
}
