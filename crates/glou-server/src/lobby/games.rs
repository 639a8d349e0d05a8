//! Game programs: one process per table of a game with an executable, spoken to in
//! GGZ's ggzdmod protocol over a socket pair on the program's fd 3. The lobby core
//! orders (start, seats, stop); a task per table carries the orders to the program,
//! passes the players' game connections to it, and reports back what the program says
//! (its status, seat requests, results). A program that fails to start, dies, hangs
//! before waiting for players, or speaks nonsense ends its table with a game error.

use std::collections::HashMap;
use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use command_fds::{CommandFdExt, FdMapping};
use glou_core::lobby::{Command, RoomId, SeatKind, SeatView, TableId, TableStatus};
use glou_proto::ggzdmod::{
    ControlMessage, GameResult, GameState, LaunchSeat, ReportEntry, SeatType, TableDecoder,
    TableMessage,
};
use glou_store::Savegame;
use parking_lot::Mutex;
use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
use rustix::process::Pid;
use tokio::io::Interest;
use tokio::net::UnixStream;
use tokio::process::Child;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{Instrument, debug, info, info_span, warn};

use super::LobbyService;

/// Time a program has to exit after SIGINT before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(5);
/// Log lines a program may write in a burst, then per second.
const LOG_BURST: f64 = 50.0;
const LOG_RATE: f64 = 10.0;
/// Longest log line kept (longer ones are cut).
const LOG_LINE: usize = 1024;
/// Bot names a report may use for an unnamed bot (GGZ's "AI").
const UNNAMED_BOT: &str = "AI";
/// Largest score a report may give (more is taken for a broken program).
const MAX_SCORE: i32 = 1_000_000_000;

/// What the lobby tells a table's task.
#[derive(Debug)]
pub(super) enum Order {
    Seat {
        num: u32,
        kind: SeatKind,
        name: Option<String>,
        socket: Option<OwnedFd>,
    },
    Spectator {
        num: u32,
        name: Option<String>,
        socket: Option<OwnedFd>,
    },
    Reseat {
        old: u32,
        was_spectator: bool,
        new: u32,
        is_spectator: bool,
    },
    Stop,
}

/// The running game programs of this node.
#[derive(Default)]
pub(super) struct Games {
    tables: Mutex<HashMap<(RoomId, TableId), mpsc::UnboundedSender<Order>>>,
    running: Arc<AtomicUsize>,
    /// The process id of each table's program, while it runs (for operators).
    pids: Mutex<HashMap<(RoomId, u64), u32>>,
}

impl Games {
    /// Hands an order to a table's task (dropped if the task is gone).
    pub(super) fn order(&self, room: RoomId, table: TableId, order: Order) {
        let stop = matches!(order, Order::Stop);
        let mut tables = self.tables.lock();
        if let Some(tx) = tables.get(&(room, table)) {
            let _ = tx.send(order);
        }
        if stop {
            tables.remove(&(room, table));
        }
    }

    /// Programs running now.
    pub(super) fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// The process id of the program of a table (by its serial), if it runs.
    pub(super) fn pid(&self, room: RoomId, serial: u64) -> Option<u32> {
        self.pids.lock().get(&(room, serial)).copied()
    }
}

/// A table, told apart from later tables with its id by its serial.
#[derive(Clone, Copy, Debug)]
pub(super) struct At {
    pub(super) room: RoomId,
    pub(super) table: TableId,
    pub(super) serial: u64,
}

/// How a table's program ended.
enum End {
    /// It reported that the game is done.
    Done,
    /// The lobby ended the table.
    Stopped,
    Failed(String),
}

impl LobbyService {
    /// Starts the program of a new table; false if this node runs too many already.
    pub(super) fn start_game(self: &Arc<Self>, at: At, game: usize, seats: Vec<SeatView>) -> bool {
        let At { room, table, .. } = at;
        if self.games.running() >= self.settings().max_game_processes {
            warn!(
                room,
                table,
                limit = self.settings().max_game_processes,
                "table not launched: too many game programs"
            );
            return false;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let mine = tx.clone();
        self.games.tables.lock().insert((room, table), tx);
        let running = Arc::clone(&self.games.running);
        running.fetch_add(1, Ordering::Relaxed);
        self.hub.metrics.game_programs.inc();
        let span = info_span!("table", room, table, game = %self.settings().games[game].key);
        let lobby = Arc::clone(self);
        tokio::spawn(
            async move {
                let end = lobby.run_game(at, game, seats, rx).await;
                match end {
                    End::Done => debug!("game over"),
                    End::Stopped => debug!("table ended by the lobby"),
                    End::Failed(why) => {
                        warn!(reason = %why, "game program failed; the table ends");
                        lobby.hub.metrics.game_failures.inc();
                        lobby
                            .run(Command::GameFailed {
                                room,
                                table,
                                serial: at.serial,
                            })
                            .await;
                    }
                }
                // Unless a new table took the id meanwhile.
                let mut tables = lobby.games.tables.lock();
                if tables
                    .get(&(room, table))
                    .is_some_and(|tx| tx.same_channel(&mine))
                {
                    tables.remove(&(room, table));
                }
                drop(tables);
                lobby.games.pids.lock().remove(&(room, at.serial));
                running.fetch_sub(1, Ordering::Relaxed);
                lobby.hub.metrics.game_programs.dec();
            }
            .instrument(span),
        );
        true
    }

    async fn run_game(
        &self,
        at: At,
        game: usize,
        seats: Vec<SeatView>,
        mut orders: mpsc::UnboundedReceiver<Order>,
    ) -> End {
        let settings = self.settings();
        let g = &settings.games[game];
        let (mut child, sock) = match self.spawn(game, at.room) {
            Ok(started) => started,
            Err(e) => return End::Failed(e),
        };
        let group = child.id().and_then(|id| Pid::from_raw(id as i32));
        if let Some(pid) = child.id() {
            self.games.pids.lock().insert((at.room, at.serial), pid);
        }
        let mut run = Run {
            sock,
            format: g.launch_format,
            played: seats
                .iter()
                .filter(|s| s.kind == SeatKind::Bot)
                .map(|s| s.name.clone().unwrap_or_else(|| UNNAMED_BOT.into()))
                .collect(),
            log: LogBudget::new(),
        };
        let launch = ControlMessage::Launch {
            game: g.key.clone(),
            savegame: String::new(),
            seats: seats
                .iter()
                .map(|s| LaunchSeat {
                    seat_type: seat_type(s.kind),
                    name: s.name.clone(),
                })
                .collect(),
            spectators: 0,
        };
        let end = match run.send(&launch, None).await {
            Ok(()) => {
                self.drive(at, game, &mut run, &mut child, &mut orders)
                    .await
            }
            Err(e) => End::Failed(format!("writing to the program: {e}")),
        };
        // Reaped in the background, so the lobby hears of the end at once.
        tokio::spawn(stop_process(child, group).in_current_span());
        end
    }

    /// Starts the program with its end of a socket pair on fd 3.
    fn spawn(&self, game: usize, room: RoomId) -> Result<(Child, UnixStream), String> {
        let settings = self.settings();
        let g = &settings.games[game];
        let (program, args) = g
            .executable
            .split_first()
            .ok_or("the game has no executable")?;
        let program = settings.game_dir.join(program);
        let dir = self.game_work_dir(&g.key);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("creating the working directory {}: {e}", dir.display()))?;
        let (ours, theirs) =
            std::os::unix::net::UnixStream::pair().map_err(|e| format!("socket pair: {e}"))?;
        let mut cmd = tokio::process::Command::new(&program);
        cmd.args(args)
            .args(&settings.rooms[room as usize].executable_args)
            .current_dir(&dir)
            .env("GGZMODE", "true")
            .env("GGZSOCKET", "3")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that whatever it starts is stopped with it.
            .process_group(0)
            .kill_on_drop(true);
        cmd.fd_mappings(vec![FdMapping {
            parent_fd: theirs.into(),
            child_fd: 3,
        }])
        .map_err(|e| format!("fd 3: {e}"))?;
        let child = cmd
            .spawn()
            .map_err(|e| format!("starting {}: {e}", program.display()))?;
        // The command holds our copy of the program's end until it is dropped.
        drop(cmd);
        info!(program = %program.display(), pid = child.id(), "game program started");
        ours.set_nonblocking(true)
            .map_err(|e| format!("socket pair: {e}"))?;
        let sock = UnixStream::from_std(ours).map_err(|e| format!("socket pair: {e}"))?;
        Ok((child, sock))
    }

    fn game_work_dir(&self, key: &str) -> PathBuf {
        self.game_data.join(key)
    }

    /// Carries orders and the program's messages until the table ends.
    async fn drive(
        &self,
        at: At,
        game: usize,
        run: &mut Run,
        child: &mut Child,
        orders: &mut mpsc::UnboundedReceiver<Order>,
    ) -> End {
        let mut decoder = TableDecoder::new();
        let mut buf = vec![0u8; 4096];
        let start_by = Instant::now() + self.settings().game_start_timeout;
        let mut waiting = false;
        loop {
            let read = tokio::select! {
                ready = run.sock.readable() => match ready {
                    Ok(()) => run.sock.try_read(&mut buf),
                    Err(e) => Err(e),
                },
                order = orders.recv() => match order {
                    None | Some(Order::Stop) => return End::Stopped,
                    Some(order) => match run.carry(order).await {
                        Ok(()) => continue,
                        // A program may end as its last player leaves, while the lobby's
                        // stop is on its way: that is no failure.
                        Err(_) if stop_queued(orders) => return End::Stopped,
                        Err(e) => return End::Failed(format!("writing to the program: {e}")),
                    },
                },
                status = child.wait() => {
                    // What it wrote before it ended still counts (a game over, say).
                    while let Ok(n @ 1..) = run.sock.try_read(&mut buf) {
                        decoder.feed(&buf[..n]);
                    }
                    if let Some(end) = self.take_in(at, game, run, &mut decoder, &mut waiting).await {
                        return end;
                    }
                    let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                    return End::Failed(format!("the program ended ({status}) before the game did"));
                }
                () = tokio::time::sleep_until(start_by), if !waiting => {
                    return End::Failed(format!(
                        "the program did not wait for players within {:?}",
                        self.settings().game_start_timeout
                    ));
                }
            };
            match read {
                Ok(0) => return End::Failed("the program closed its socket".into()),
                Ok(n) => decoder.feed(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return End::Failed(format!("reading from the program: {e}")),
            }
            if let Some(end) = self
                .take_in(at, game, run, &mut decoder, &mut waiting)
                .await
            {
                return end;
            }
        }
    }

    /// Acts on every whole message the decoder holds; `Some` when the table ends.
    async fn take_in(
        &self,
        at: At,
        game: usize,
        run: &mut Run,
        decoder: &mut TableDecoder,
        waiting: &mut bool,
    ) -> Option<End> {
        loop {
            let msg = match decoder.next() {
                Ok(Some(msg)) => msg,
                Ok(None) => return None,
                Err(e) => return Some(End::Failed(format!("the program sent garbage: {e}"))),
            };
            match self.heard(at, game, run, msg).await {
                Ok(Some(TableStatus::Done)) => return Some(End::Done),
                Ok(Some(status)) => *waiting |= status != TableStatus::Created,
                Ok(None) => {}
                Err(e) => return Some(End::Failed(e)),
            }
        }
    }

    /// Acts on one message of the program; returns the new status if it reported one.
    async fn heard(
        &self,
        at: At,
        game: usize,
        run: &mut Run,
        msg: TableMessage,
    ) -> Result<Option<TableStatus>, String> {
        let At {
            room,
            table,
            serial,
        } = at;
        match msg {
            TableMessage::Log(line) => run.log.line(&line),
            TableMessage::State(state) => {
                let status = match state {
                    GameState::Created => TableStatus::Created,
                    GameState::Waiting => TableStatus::Waiting,
                    GameState::Playing => TableStatus::Playing,
                    GameState::Done => TableStatus::Done,
                };
                // A program may exit as soon as it reported the end.
                let acked = run.send(&ControlMessage::StateAck, None).await;
                if let Err(e) = acked
                    && status != TableStatus::Done
                {
                    return Err(format!("writing to the program: {e}"));
                }
                debug!(?status, "game status");
                self.run(Command::GameStatus {
                    room,
                    table,
                    serial,
                    status,
                })
                .await;
                return Ok(Some(status));
            }
            TableMessage::NumSeats(n) => {
                let done = match u32::try_from(n) {
                    Ok(count) => self
                        .run(Command::GameSeatCount {
                            room,
                            table,
                            serial,
                            count,
                        })
                        .await
                        .accepted(),
                    Err(_) => false,
                };
                if !done {
                    debug!(seats = n, "seat count request refused");
                }
            }
            TableMessage::Boot(name) => {
                let boot = Command::GameBoot {
                    room,
                    table,
                    serial,
                    name: name.clone(),
                };
                if !self.run(boot).await.accepted() {
                    debug!(player = %name, "boot request for a player not at the table");
                }
            }
            TableMessage::Bot(seat) | TableMessage::Open(seat) => {
                let bot = matches!(msg, TableMessage::Bot(_));
                let done = match u32::try_from(seat) {
                    Ok(num) => self
                        .run(Command::GameSeat {
                            room,
                            table,
                            serial,
                            num,
                            bot,
                        })
                        .await
                        .accepted(),
                    Err(_) => false,
                };
                if !done {
                    debug!(seat, bot, "seat request refused");
                }
            }
            TableMessage::Report(entries) => {
                check_report(&entries, &run.played)?;
                self.record_match(room, game, &entries).await;
            }
            TableMessage::Savegame(path) => {
                let save = Savegame {
                    game: self.settings().games[game].key.clone(),
                    room,
                    table,
                    owner: self
                        .read(|core| core.table_owner(room, table))
                        .unwrap_or_default(),
                    path,
                    saved_at: self.hub.now(),
                };
                match self.accounts.store.add_savegame(&save).await {
                    Ok(id) => info!(id, savegame = %save.path, "game saved"),
                    Err(e) => warn!(error = %e, "storing a savegame"),
                }
            }
        }
        Ok(None)
    }
}

/// A running table's socket and what it remembers.
struct Run {
    sock: UnixStream,
    format: glou_proto::ggzdmod::LaunchFormat,
    /// Everyone who sat at the table (players and bots), for checking reports.
    played: Vec<String>,
    log: LogBudget,
}

impl Run {
    /// Writes a message, then the fd it carries (with its one byte).
    async fn send(&self, msg: &ControlMessage, fd: Option<BorrowedFd<'_>>) -> io::Result<()> {
        let mut bytes = Vec::new();
        msg.encode(self.format, &mut bytes);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            self.sock.writable().await?;
            match self.sock.try_write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(fd) = fd {
            loop {
                self.sock.writable().await?;
                match self
                    .sock
                    .try_io(Interest::WRITABLE, || send_fd(self.sock.as_fd(), fd))
                {
                    Ok(()) => break,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Tells the program of a lobby order.
    async fn carry(&mut self, order: Order) -> io::Result<()> {
        match order {
            Order::Seat {
                num,
                kind,
                name,
                socket,
            } => {
                if let Some(name) = name.as_ref().filter(|_| kind != SeatKind::Open) {
                    remember(&mut self.played, name);
                }
                let msg = ControlMessage::Seat {
                    num: num as i32,
                    seat_type: seat_type(kind),
                    name: name.unwrap_or_default(),
                };
                // The program expects a connection exactly with a player's seat.
                match (msg.carries_fd(), socket) {
                    (true, Some(fd)) => self.send(&msg, Some(fd.as_fd())).await,
                    (true, None) => Err(io::Error::other("a player's seat without a connection")),
                    (false, _) => self.send(&msg, None).await,
                }
            }
            Order::Spectator { num, name, socket } => {
                let msg = ControlMessage::Spectator {
                    num: num as i32,
                    name: name.unwrap_or_default(),
                };
                match (msg.carries_fd(), socket) {
                    (true, Some(fd)) => self.send(&msg, Some(fd.as_fd())).await,
                    (true, None) => Err(io::Error::other("a spectator without a connection")),
                    (false, _) => self.send(&msg, None).await,
                }
            }
            Order::Reseat {
                old,
                was_spectator,
                new,
                is_spectator,
            } => {
                let msg = ControlMessage::Reseat {
                    old: old as i32,
                    was_spectator,
                    new: new as i32,
                    is_spectator,
                };
                self.send(&msg, None).await
            }
            Order::Stop => Ok(()),
        }
    }
}

/// Whether the lobby already ordered the table stopped (the orders before it are moot).
fn stop_queued(orders: &mut mpsc::UnboundedReceiver<Order>) -> bool {
    while let Ok(order) = orders.try_recv() {
        if matches!(order, Order::Stop) {
            return true;
        }
    }
    false
}

fn remember(played: &mut Vec<String>, name: &str) {
    if !played.iter().any(|p| p == name) {
        played.push(name.to_string());
    }
}

/// One byte with the fd attached (SCM_RIGHTS), as ggzdmod expects.
fn send_fd(sock: BorrowedFd<'_>, fd: BorrowedFd<'_>) -> io::Result<()> {
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut ancillary = SendAncillaryBuffer::new(&mut space);
    let fds = [fd];
    if !ancillary.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(io::Error::other("no room for the fd"));
    }
    let sent = rustix::net::sendmsg(
        sock,
        &[IoSlice::new(&[0])],
        &mut ancillary,
        SendFlags::NOSIGNAL,
    )?;
    if sent == 1 {
        Ok(())
    } else {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

fn seat_type(kind: SeatKind) -> SeatType {
    match kind {
        SeatKind::Open => SeatType::Open,
        SeatKind::Bot => SeatType::Bot,
        SeatKind::Player => SeatType::Player,
        SeatKind::Reserved => SeatType::Reserved,
        SeatKind::Abandoned => SeatType::Abandoned,
    }
}

/// A report must name only who played, each once, with believable scores.
fn check_report(entries: &[ReportEntry], played: &[String]) -> Result<(), String> {
    if entries.is_empty() {
        return Err("the program reported a game without players".into());
    }
    for (i, e) in entries.iter().enumerate() {
        if !played.iter().any(|p| p == &e.name) {
            return Err(format!(
                "the program reported {:?}, who did not play at this table",
                e.name
            ));
        }
        if entries[..i].iter().any(|o| o.name == e.name) {
            return Err(format!("the program reported {:?} twice", e.name));
        }
        if e.score.unsigned_abs() > MAX_SCORE as u32 {
            return Err(format!("the program reported a score of {}", e.score));
        }
        if matches!(e.result, GameResult::Unknown(_)) {
            return Err(format!(
                "the program reported an unknown result for {:?}",
                e.name
            ));
        }
    }
    Ok(())
}

/// A token bucket for a program's log lines: a flood is dropped and said once.
struct LogBudget {
    tokens: f64,
    at: Instant,
    dropped: u64,
}

impl LogBudget {
    fn new() -> Self {
        Self {
            tokens: LOG_BURST,
            at: Instant::now(),
            dropped: 0,
        }
    }

    fn line(&mut self, line: &str) {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * LOG_RATE).min(LOG_BURST);
        self.at = now;
        if self.tokens < 1.0 {
            if self.dropped == 0 {
                warn!("the game program floods its log; lines are dropped");
            }
            self.dropped += 1;
            return;
        }
        self.tokens -= 1.0;
        if self.dropped > 0 {
            info!(dropped = self.dropped, "log lines dropped");
            self.dropped = 0;
        }
        let cut = line
            .char_indices()
            .nth(LOG_LINE)
            .map_or(line, |(i, _)| &line[..i]);
        info!(target: "glou::game", "{cut}");
    }
}

/// SIGINT to the program's process group (ggzd signalled the program alone), then
/// SIGKILL to what is left of the group after a grace time; the program is reaped.
async fn stop_process(mut child: Child, group: Option<Pid>) {
    let Some(group) = group.map(Group) else {
        return;
    };
    let _ = rustix::process::kill_process_group(group.0, rustix::process::Signal::INT);
    if tokio::time::timeout(EXIT_GRACE, child.wait())
        .await
        .is_err()
    {
        warn!("the game program ignored SIGINT; killing it");
    }
    drop(group);
    let _ = child.wait().await;
}

/// A program's process group, killed when dropped: whatever the program started goes
/// with it, even when the server shuts down meanwhile. The group's id stays reserved
/// while any member lives, so this reaches no other process.
struct Group(Pid);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = rustix::process::kill_process_group(self.0, rustix::process::Signal::KILL);
    }
}
