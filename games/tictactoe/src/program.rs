//! The `glou-tictactoe` program: the TicTacToe game server process a GGZ lobby launches
//! (the `ExecutablePath` of `tictactoe.dsc`, or `glou module tictactoe`). It speaks
//! ggzdmod on fd `GGZSOCKET` (3), takes the players' sockets the lobby passes over it,
//! and runs a [`Table`]. The game is in the rest of the library; this module is only the
//! IO: one task per player connection with a bounded outbound queue, the control socket
//! in the main loop. [`main`] is the whole program, so any binary can be it.

use std::collections::{HashMap, VecDeque};
use std::io::{self, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::process::ExitCode;
use std::time::Duration;

use glou_proto::ggzdmod::{ControlDecoder, ControlMessage, LaunchFormat};
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SocketType,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UnixStream};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::protocol::Dialect;
use crate::{Config, ConnId, Difficulty, Output, Table};

const USAGE: &str = "\
usage: glou-tictactoe [--protocol dio/5+dev|5] [--launch-format savegame|legacy]
                      [--bot NAME=easy|hard]...
Started by a GGZ lobby with GGZMODE=true and the ggzdmod socket on fd GGZSOCKET (3).
  --protocol       game protocol: dio/5+dev (GGZ trunk, default) or 5 (GGZ 0.0.14,
                   also sends MSG_SEAT and MSG_PLAYERS)
  --launch-format  MSG_GAME_LAUNCH with the savegame string (trunk, default) or
                   without it (legacy, GGZ 0.0.14)
  --bot            a named bot's class, as [NamedBots] in the .dsc; others play hard";

/// Packets queued for one player before the player counts as gone.
const OUTBOUND_QUEUE: usize = 64;
/// Most fds one `recvmsg` on the control socket takes.
const MAX_FDS_PER_READ: usize = 16;
/// How long queued packets may take to reach the players at exit.
const EXIT_FLUSH: Duration = Duration::from_secs(2);

/// Runs the game server program with `args`, the command line after the program name,
/// and returns its exit status: what `glou-tictactoe` does, for any binary that wants to
/// be it (`glou module tictactoe ARGS`).
///
/// Call it from a process started as a lobby starts game programs (`GGZMODE=true`, the
/// ggzdmod socket on fd `GGZSOCKET`), before anything else in the process takes that fd,
/// and outside any tokio runtime: it builds its own and returns when the table is done.
pub fn main(args: impl IntoIterator<Item = String>) -> ExitCode {
    let (config, format) = match parse_args(args.into_iter()) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("glou-tictactoe: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if std::env::var("GGZMODE").as_deref() != Ok("true") {
        eprintln!("glou-tictactoe: GGZMODE is not \"true\"; a GGZ lobby starts this program");
        return ExitCode::FAILURE;
    }
    if tokio::runtime::Handle::try_current().is_ok() {
        eprintln!("glou-tictactoe: started inside a tokio runtime; it runs its own");
        return ExitCode::FAILURE;
    }
    // As ggzdmod: GGZSOCKET if it is a number, else 3.
    let fd = std::env::var("GGZSOCKET")
        .ok()
        .and_then(|s| s.trim().parse::<RawFd>().ok())
        .unwrap_or(3);
    let Some(control) = take_control_fd(fd) else {
        eprintln!("glou-tictactoe: couldn't connect to GGZ: fd {fd} is not an open socket");
        return ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("glou-tictactoe: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(control, config, format)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("glou-tictactoe: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `Ok(None)` for `--help`.
fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> Result<Option<(Config, LaunchFormat)>, String> {
    let mut config = Config::default();
    let mut format = LaunchFormat::Savegame;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--protocol" => {
                config.dialect = match value()?.as_str() {
                    "dio/5+dev" | "5+dev" | "trunk" => Dialect::Trunk,
                    "5" => Dialect::V5,
                    other => return Err(format!("unknown protocol {other:?}")),
                }
            }
            "--launch-format" => {
                format = match value()?.as_str() {
                    "savegame" => LaunchFormat::Savegame,
                    "legacy" => LaunchFormat::Legacy,
                    other => return Err(format!("unknown launch format {other:?}")),
                }
            }
            "--bot" => {
                let spec = value()?;
                let (name, class) = spec
                    .split_once('=')
                    .ok_or(format!("expected NAME=easy|hard, got {spec:?}"))?;
                let difficulty = match class {
                    "easy" => Difficulty::Easy,
                    "hard" => Difficulty::Hard,
                    other => return Err(format!("unknown bot class {other:?}")),
                };
                config.bot_classes.push((name.to_owned(), difficulty));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some((config, format)))
}

/// The lobby's end of the ggzdmod socket pair, if `fd` is an open socket.
fn take_control_fd(fd: RawFd) -> Option<OwnedFd> {
    if fd < 3 {
        return None;
    }
    let meta = std::fs::metadata(format!("/dev/fd/{fd}")).ok()?;
    if !meta.file_type().is_socket() {
        return None;
    }
    #[allow(
        unsafe_code,
        reason = "the one fd inherited by convention, not by handle"
    )]
    // SAFETY: the ggzdmod convention gives this process `fd` open (checked just above),
    // and `main` is called, as documented, before anything else in the process takes
    // it, so this becomes its only owner.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    Some(owned)
}

/// What a player connection's task reports.
enum Event {
    Data(ConnId, Vec<u8>),
    Closed(ConnId),
}

/// The lobby side: the control socket, its decoder and the fds passed on it.
struct Control {
    stream: UnixStream,
    decoder: ControlDecoder,
    fds: VecDeque<OwnedFd>,
    /// A message that carries an fd, waiting for the fd to arrive.
    pending: Option<ControlMessage>,
}

/// The player side: one task per connection.
struct Players {
    queues: HashMap<ConnId, mpsc::Sender<Vec<u8>>>,
    tasks: JoinSet<()>,
    events_tx: mpsc::Sender<Event>,
    next_id: u64,
}

async fn run(control: OwnedFd, config: Config, format: LaunchFormat) -> io::Result<()> {
    let stream = std::os::unix::net::UnixStream::from(control);
    stream.set_nonblocking(true)?;
    let mut control = Control {
        stream: UnixStream::from_std(stream)?,
        decoder: ControlDecoder::new(format),
        fds: VecDeque::new(),
        pending: None,
    };
    let (events_tx, mut events) = mpsc::channel(OUTBOUND_QUEUE);
    let mut players = Players {
        queues: HashMap::new(),
        tasks: JoinSet::new(),
        events_tx,
        next_id: 0,
    };
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut table = Table::new(config);
    let result = loop {
        if let Err(e) = flush(&mut table, &mut control, &mut players).await {
            break Err(e);
        }
        if table.is_done() {
            break Ok(());
        }
        tokio::select! {
            read = control.read() => match read {
                Ok(0) => break Ok(()),
                Ok(_) => {
                    if let Err(e) = control.dispatch(&mut table, &mut players) {
                        break Err(e);
                    }
                }
                Err(e) => break Err(e),
            },
            Some(event) = events.recv() => match event {
                Event::Data(conn, bytes) => table.handle_data(conn, &bytes),
                Event::Closed(conn) => table.handle_closed(conn),
            },
            _ = interrupt.recv() => break Ok(()),
            _ = terminate.recv() => break Ok(()),
        }
    };
    // Let the players' tasks write what is queued (the game over), then stop.
    drop(events);
    players.queues.clear();
    let _ = tokio::time::timeout(EXIT_FLUSH, async {
        while players.tasks.join_next().await.is_some() {}
    })
    .await;
    result
}

/// Carries out the table's outputs.
async fn flush(table: &mut Table, control: &mut Control, players: &mut Players) -> io::Result<()> {
    let mut bytes = Vec::new();
    while let Some(output) = table.poll_output() {
        match output {
            Output::Control(message) => message.encode(&mut bytes),
            Output::Send { conn, message } => {
                let Some(queue) = players.queues.get(&conn) else {
                    continue;
                };
                let mut packet = Vec::new();
                message.encode(&mut packet);
                if queue.try_send(packet).is_err() {
                    // Too slow or gone: the table forgets it like a closed connection.
                    players.queues.remove(&conn);
                    table.handle_closed(conn);
                }
            }
            Output::Close { conn } => {
                players.queues.remove(&conn);
            }
        }
    }
    if !bytes.is_empty() {
        control.stream.write_all(&bytes).await?;
    }
    Ok(())
}

impl Control {
    /// One `recvmsg`: bytes to the decoder, fds to the queue. 0 at end of file.
    async fn read(&mut self) -> io::Result<usize> {
        let mut buf = [0u8; 4096];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS_PER_READ))];
        loop {
            self.stream.readable().await?;
            let mut ancillary = RecvAncillaryBuffer::new(&mut space);
            let received = self.stream.try_io(tokio::io::Interest::READABLE, || {
                let mut iov = [IoSliceMut::new(&mut buf)];
                Ok(rustix::net::recvmsg(
                    &self.stream,
                    &mut iov,
                    &mut ancillary,
                    RecvFlags::CMSG_CLOEXEC,
                )?)
            });
            let received = match received {
                Ok(received) => received,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            };
            for message in ancillary.drain() {
                if let RecvAncillaryMessage::ScmRights(fds) = message {
                    self.fds.extend(fds);
                }
            }
            if received.flags.contains(ReturnFlags::CTRUNC) {
                return Err(io::Error::other("more fds passed at once than expected"));
            }
            self.decoder.feed(&buf[..received.bytes]);
            return Ok(received.bytes);
        }
    }

    /// Hands every complete message to the table, each fd-carrying one with its fd.
    fn dispatch(&mut self, table: &mut Table, players: &mut Players) -> io::Result<()> {
        loop {
            let message = match self.pending.take() {
                Some(message) => message,
                None => match self.decoder.next() {
                    Ok(Some(message)) => message,
                    Ok(None) => return Ok(()),
                    Err(e) => {
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                },
            };
            let conn = if message.carries_fd() {
                let Some(fd) = self.fds.pop_front() else {
                    self.pending = Some(message);
                    return Ok(());
                };
                players.add(fd)
            } else {
                None
            };
            table.handle_control(message, conn);
        }
    }
}

impl Players {
    /// Starts the task of a passed fd; `None` if it is not a stream socket.
    fn add(&mut self, fd: OwnedFd) -> Option<ConnId> {
        let socket = Socket::from_fd(fd).ok()?;
        let conn = ConnId(self.next_id);
        self.next_id += 1;
        let (queue, outbound) = mpsc::channel(OUTBOUND_QUEUE);
        self.queues.insert(conn, queue);
        self.tasks
            .spawn(connection(conn, socket, outbound, self.events_tx.clone()));
        Some(conn)
    }
}

/// One player's connection: reads to the table, writes what it is sent, ends when
/// the table drops its queue (after writing what was queued).
async fn connection(
    conn: ConnId,
    socket: Socket,
    mut outbound: mpsc::Receiver<Vec<u8>>,
    events: mpsc::Sender<Event>,
) {
    let mut buf = vec![0u8; 4096];
    let mut reading = true;
    loop {
        tokio::select! {
            read = socket.read(&mut buf), if reading => {
                let event = match read {
                    Ok(n) if n > 0 => Event::Data(conn, buf[..n].to_vec()),
                    Ok(_) | Err(_) => {
                        reading = false;
                        Event::Closed(conn)
                    }
                };
                if events.send(event).await.is_err() {
                    reading = false;
                }
            }
            packet = outbound.recv() => match packet {
                Some(packet) => {
                    if socket.write_all(&packet).await.is_err() {
                        if reading {
                            let _ = events.send(Event::Closed(conn)).await;
                        }
                        return;
                    }
                }
                None => return,
            },
        }
    }
}

/// A player's socket as the lobby passed it: the client's TCP connection in a real
/// lobby, a Unix socket in tests.
enum Socket {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Socket {
    fn from_fd(fd: OwnedFd) -> io::Result<Socket> {
        if rustix::net::sockopt::socket_type(&fd)? != SocketType::STREAM {
            return Err(io::Error::other("not a stream socket"));
        }
        let domain = rustix::net::sockopt::socket_domain(&fd)?;
        if domain == AddressFamily::UNIX {
            let stream = std::os::unix::net::UnixStream::from(fd);
            stream.set_nonblocking(true)?;
            Ok(Socket::Unix(UnixStream::from_std(stream)?))
        } else if domain == AddressFamily::INET || domain == AddressFamily::INET6 {
            let stream = std::net::TcpStream::from(fd);
            stream.set_nonblocking(true)?;
            Ok(Socket::Tcp(TcpStream::from_std(stream)?))
        } else {
            Err(io::Error::other("not a Unix or TCP socket"))
        }
    }

    async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let read = match self {
                Socket::Unix(s) => {
                    s.readable().await?;
                    s.try_read(buf)
                }
                Socket::Tcp(s) => {
                    s.readable().await?;
                    s.try_read(buf)
                }
            };
            match read {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                read => return read,
            }
        }
    }

    async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            let written = match self {
                Socket::Unix(s) => {
                    s.writable().await?;
                    s.try_write(bytes)
                }
                Socket::Tcp(s) => {
                    s.writable().await?;
                    s.try_write(bytes)
                }
            };
            match written {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<(Config, LaunchFormat)>, String> {
        parse_args(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn the_command_line() {
        assert_eq!(
            parse(""),
            Ok(Some((Config::default(), LaunchFormat::Savegame)))
        );
        let config = Config {
            dialect: Dialect::V5,
            bot_classes: vec![
                ("Alfred".into(), Difficulty::Easy),
                ("Tarantula".into(), Difficulty::Hard),
            ],
        };
        assert_eq!(
            parse("--protocol 5 --launch-format legacy --bot Alfred=easy --bot Tarantula=hard"),
            Ok(Some((config, LaunchFormat::Legacy)))
        );
        assert_eq!(parse("--bot x=easy --help"), Ok(None));
        for bad in [
            "--protocol",
            "--protocol 4",
            "--launch-format new",
            "--bot Alfred",
            "--bot Alfred=medium",
            "--verbose",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
