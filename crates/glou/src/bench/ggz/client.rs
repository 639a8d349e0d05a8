//! One simulated player of `glou bench ggz`: a small client of the raw GGZ XML protocol
//! that logs in as a guest, enters its room, answers `<PING>`s, sends and times chats,
//! and logs out. Lines are parsed by `line.rs`; `glou_proto::ggz` is not used, so that
//! the bench loads the original ggzd the same way as Glou.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::{sleep_until, timeout_at};

use super::Shared;
use super::line::{Line, parse, parse_probe, pong};

/// What the bench asks of the clients that are in their rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Control {
    Wait,
    /// Senders `0..senders` (by rank) chat in turn, `--chat-rate` in total, until `end`.
    Chat {
        start: Instant,
        end: Instant,
        senders: u32,
    },
    Logout,
}

/// How client `client` got in (or why not), reported once.
#[derive(Debug)]
pub(super) struct Entered {
    pub(super) client: u32,
    pub(super) outcome: Result<Times, String>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Times {
    /// Connect to `RESULT login ok`.
    pub(super) login: Duration,
    /// Connect to `RESULT enter ok`.
    pub(super) enter: Duration,
}

pub(crate) const HEADER: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n";
/// Read buffer of each connection: small, as 20,000 of them share the bench's memory.
const READ_BUFFER: usize = 1024;
/// A longer line ends the connection.
const MAX_LINE: usize = 64 * 1024;
/// From connecting to being in the room.
pub(crate) const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);
pub(super) const LOGOUT_TIMEOUT: Duration = Duration::from_secs(5);
/// Clients per IPv4 source address (127.0.0.1, 127.0.0.2…): the kernel's ephemeral
/// ports (32768 to 60999 by default) run out near 28,000 per address.
const CLIENTS_PER_ADDRESS: u32 = 25_000;

/// One connection: a 1 KiB read buffer and the current line.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) reader: BufReader<OwnedReadHalf>,
    pub(crate) writer: OwnedWriteHalf,
    pub(crate) line: Vec<u8>,
    /// `line` holds a whole line, to be cleared before the next read.
    complete: bool,
}

/// Simulated player `i`, from its login to its logout; returns the logout time in µs
/// (`None` if it never got in).
pub(super) async fn run(
    sh: Arc<Shared>,
    i: u32,
    gate: Arc<Semaphore>,
    done: mpsc::UnboundedSender<Entered>,
    mut control: watch::Receiver<Control>,
) -> Option<Result<u64, String>> {
    let room = i as usize % sh.rooms.len();
    let permit = gate.acquire_owned().await.ok()?;
    let entered = enter(&sh, i, sh.rooms[room]).await;
    drop(permit);
    let outcome = entered.as_ref().map(|(_, times)| *times);
    if entered.is_ok() {
        sh.members[room].fetch_add(1, Ordering::Relaxed);
    }
    let outcome = outcome.map_err(|(_, e)| e.clone());
    let _ = done.send(Entered { client: i, outcome });
    drop(done);
    let mut conn = match entered {
        Ok((conn, _)) => conn,
        Err((conn, _)) => {
            let _ = logout(&mut conn?).await;
            return None;
        }
    };
    match session(&sh, i, room, &mut conn, &mut control).await {
        Ok(()) => Some(logout(&mut conn).await),
        Err(e) => {
            sh.members[room].fetch_sub(1, Ordering::Relaxed);
            sh.disconnected.fetch_add(1, Ordering::Relaxed);
            sh.count(e);
            None
        }
    }
}

/// The rooms a server lists (`<LIST TYPE='room'/>`), asked as guest `name`.
pub(super) async fn list_rooms(target: SocketAddr, name: &str) -> Result<Vec<u32>, String> {
    let deadline = Instant::now() + LOGIN_TIMEOUT;
    let mut conn = Conn::connect(target, 0, deadline).await?;
    conn.hello(name, deadline).await?;
    conn.send("<LIST TYPE='room' FULL='false'/>\n").await?;
    let code = conn.expect(deadline, "list result", result("list")).await?;
    if code != "ok" {
        return Err(format!("list: {code}"));
    }
    let mut rooms = Vec::new();
    let room = |l: &Line<'_>| match l {
        Line::Room { id } => Some(Some(*id)),
        Line::EndList => Some(None),
        _ => None,
    };
    while let Some(id) = conn.expect(deadline, "room list", room).await? {
        rooms.push(id);
    }
    let _ = logout(&mut conn).await;
    Ok(rooms)
}

/// Connects, logs in as a guest and enters `room`, within [`LOGIN_TIMEOUT`]; on a
/// refusal, the connection (if any) is returned to log out.
async fn enter(sh: &Shared, i: u32, room: u32) -> Result<(Conn, Times), (Option<Conn>, String)> {
    let started = Instant::now();
    let deadline = started + LOGIN_TIMEOUT;
    let target = sh.targets[i as usize % sh.targets.len()];
    let mut conn = Conn::connect(target, i, deadline)
        .await
        .map_err(|e| (None, e))?;
    let hello = conn.hello(&sh.name(i), deadline).await;
    let login = started.elapsed();
    let entered = match hello {
        Ok(()) => conn.enter(room, deadline).await,
        Err(e) => Err(e),
    };
    match entered {
        Ok(()) => Ok((
            conn,
            Times {
                login,
                enter: started.elapsed(),
            },
        )),
        Err(e) => Err((Some(conn), e)),
    }
}

/// In the room until told to log out: answers pings, times chats, sends its own.
async fn session(
    sh: &Shared,
    i: u32,
    room: usize,
    conn: &mut Conn,
    control: &mut watch::Receiver<Control>,
) -> Result<(), String> {
    let mut plan: Option<Plan> = None;
    let mut changed = true; // act on the value current at the start
    // One timer for the session, moved when the plan changes: a timer made at every
    // line read would cost the bench more than reading the line.
    let timer = sleep_until(Instant::now().into());
    tokio::pin!(timer);
    loop {
        if std::mem::take(&mut changed) {
            match *control.borrow_and_update() {
                Control::Wait => {}
                Control::Chat {
                    start,
                    end,
                    senders,
                } => {
                    // Ranks are given once every player has reported its login.
                    let rank = u64::from(sh.ranks[i as usize].load(Ordering::Relaxed));
                    let stride = u64::from(senders);
                    let first = Plan {
                        start,
                        end,
                        stride,
                        n: rank,
                    };
                    plan = (rank < stride && sh.rate > 0).then_some(first);
                    plan = plan.filter(|p| p.due(sh.rate) < end);
                }
                Control::Logout => return Ok(()),
            }
        }
        if let Some(p) = plan {
            let due = tokio::time::Instant::from(p.due(sh.rate));
            if timer.deadline() != due {
                timer.as_mut().reset(due);
            }
        }
        tokio::select! {
            read = conn.read() => {
                if !read? {
                    return Err("closed by the server".into());
                }
                conn.react(sh, i, room).await?;
            }
            () = &mut timer, if plan.is_some() => {
                let Some(p) = plan else { continue };
                let us = sh.epoch.elapsed().as_micros();
                conn.send(&format!("<CHAT TYPE='normal'>T:{us}:{}</CHAT>\n", p.n)).await?;
                sh.sent.fetch_add(1, Ordering::Relaxed);
                let size = sh.members[room].load(Ordering::Relaxed);
                sh.expected.fetch_add(size, Ordering::Relaxed);
                let next = Plan { n: p.n + p.stride, ..p };
                plan = Some(next).filter(|p| p.due(sh.rate) < p.end);
            }
            gone = control.changed() => match gone {
                Ok(()) => changed = true,
                Err(_) => return Ok(()),
            },
        }
    }
}

/// The chats one sender still has to send: number `n`, then every `stride`th.
#[derive(Debug, Clone, Copy)]
struct Plan {
    start: Instant,
    end: Instant,
    stride: u64,
    n: u64,
}

impl Plan {
    /// When chat `n` is due: chats are numbered across senders, `rate` a second.
    fn due(&self, rate: u64) -> Instant {
        self.start + Duration::from_secs_f64(self.n as f64 / rate.max(1) as f64)
    }
}

/// `</SESSION>`, timed to the server's `</SESSION>` (or the end of the stream), then
/// lines until the server closes: the side that closes first keeps the TIME_WAIT, and
/// a client's would hold back one of its ephemeral ports from the next run.
pub(crate) async fn logout(conn: &mut Conn) -> Result<u64, String> {
    let t0 = Instant::now();
    conn.send("</SESSION>\n").await?;
    let deadline = t0 + LOGOUT_TIMEOUT;
    let mut took = None;
    loop {
        match timeout_at(deadline.into(), conn.read()).await {
            Err(_) if took.is_some() => break,
            Err(_) => return Err(format!("no </SESSION> within {LOGOUT_TIMEOUT:?}")),
            Ok(Err(e)) => return Err(e),
            Ok(Ok(true)) if took.is_some() || conn.parse() != Line::EndSession => {}
            Ok(Ok(open)) => {
                took = Some(t0.elapsed().as_micros() as u64);
                if !open {
                    break;
                }
            }
        }
    }
    Ok(took.unwrap_or_default())
}

/// Matches the `RESULT` of `action`, giving its code.
pub(crate) fn result(action: &'static str) -> impl Fn(&Line<'_>) -> Option<String> {
    move |line| match line {
        Line::Result { action: a, code } if *a == action => Some(code.to_string()),
        _ => None,
    }
}

impl Conn {
    /// Connects client `i`. Past the first [`CLIENTS_PER_ADDRESS`], IPv4 clients bind
    /// other loopback addresses (binding costs the kernel a port search, so the first
    /// ones do not).
    pub(crate) async fn connect(
        target: SocketAddr,
        i: u32,
        deadline: Instant,
    ) -> Result<Self, String> {
        let socket = match (target, i / CLIENTS_PER_ADDRESS) {
            (SocketAddr::V4(_), 0) => TcpSocket::new_v4(),
            (SocketAddr::V4(_), n) => TcpSocket::new_v4().and_then(|s| {
                let ip = Ipv4Addr::from(u32::from(Ipv4Addr::LOCALHOST) + n);
                s.bind(SocketAddr::from((ip, 0)))?;
                Ok(s)
            }),
            (SocketAddr::V6(_), _) => TcpSocket::new_v6(),
        };
        let socket = socket.map_err(|e| format!("socket: {e}"))?;
        let stream = match timeout_at(deadline.into(), socket.connect(target)).await {
            Err(_) => return Err("connect: timed out".into()),
            Ok(connected) => connected.map_err(|e| format!("connect: {e}"))?,
        };
        let _ = stream.set_nodelay(true);
        let (reader, writer) = stream.into_split();
        Ok(Conn {
            reader: BufReader::with_capacity(READ_BUFFER, reader),
            writer,
            line: Vec::with_capacity(128),
            complete: false,
        })
    }

    /// The greeting (protocol 10, status ok), then a guest login as `name`.
    pub(crate) async fn hello(&mut self, name: &str, deadline: Instant) -> Result<(), String> {
        let server = |l: &Line<'_>| match l {
            Line::Server { version, status } => {
                Some((version.map(str::to_owned), status.map(str::to_owned)))
            }
            _ => None,
        };
        let (version, status) = self.expect(deadline, "greeting", server).await?;
        if version.as_deref() != Some("10") {
            return Err(format!("greeting: VERSION {version:?}, expected \"10\""));
        }
        if status.as_deref().is_some_and(|s| s != "ok") {
            return Err("greeting: server full".into());
        }
        let login = format!("{HEADER}<LOGIN TYPE='guest'>\n<NAME>{name}</NAME>\n</LOGIN>\n");
        self.send(&login).await?;
        match self
            .expect(deadline, "login result", result("login"))
            .await?
        {
            code if code == "ok" => Ok(()),
            code => Err(format!("login: {code}")),
        }
    }

    /// `<ENTER ROOM='room'/>` and its result.
    pub(crate) async fn enter(&mut self, room: u32, deadline: Instant) -> Result<(), String> {
        self.send(&format!("<ENTER ROOM='{room}'/>\n")).await?;
        match self
            .expect(deadline, "enter result", result("enter"))
            .await?
        {
            code if code == "ok" => Ok(()),
            code => Err(format!("enter: {code}")),
        }
    }

    /// Reads lines until `want` accepts one, answering pings; fails at the deadline.
    pub(crate) async fn expect<T>(
        &mut self,
        deadline: Instant,
        what: &str,
        want: impl Fn(&Line<'_>) -> Option<T>,
    ) -> Result<T, String> {
        loop {
            match timeout_at(deadline.into(), self.read()).await {
                Err(_) => return Err(format!("no {what} within {LOGIN_TIMEOUT:?}")),
                Ok(Err(e)) => return Err(e),
                Ok(Ok(false)) => return Err(format!("closed before the {what}")),
                Ok(Ok(true)) => {}
            }
            if let Some(found) = want(&self.parse()) {
                return Ok(found);
            }
            if let Some(pong) = pong(&self.parse()) {
                self.send(&pong).await?;
            }
        }
    }

    /// Reads the next line; `false` at the end of the stream. Cancel-safe: a line cut
    /// short by another `select!` branch is completed by the next call.
    pub(crate) async fn read(&mut self) -> Result<bool, String> {
        if std::mem::take(&mut self.complete) {
            self.line.clear();
        }
        let n = self.reader.read_until(b'\n', &mut self.line).await;
        let n = n.map_err(|e| format!("read: {e}"))?;
        if self.line.len() > MAX_LINE {
            return Err(format!("a line over {MAX_LINE} bytes"));
        }
        self.complete = true;
        Ok(n > 0)
    }

    fn parse(&self) -> Line<'_> {
        parse(std::str::from_utf8(&self.line).unwrap_or_default())
    }

    /// To a line in the room: a pong for a ping, the latency of our chats.
    async fn react(&mut self, sh: &Shared, i: u32, room: usize) -> Result<(), String> {
        let reply = match self.parse() {
            Line::Chat { from, text } if from.starts_with(&sh.base) => {
                if let Some((sent_us, _)) = parse_probe(text) {
                    let now_us = sh.epoch.elapsed().as_micros() as u64;
                    sh.delivered(i, now_us.saturating_sub(sent_us));
                }
                None
            }
            Line::Result { action, code } if action == "chat" && code != "ok" => {
                let size = sh.members[room].load(Ordering::Relaxed);
                sh.expected.fetch_sub(size, Ordering::Relaxed);
                sh.refused.fetch_add(1, Ordering::Relaxed);
                sh.count(format!("chat: {code}"));
                None
            }
            Line::EndSession => return Err("closed by the server (</SESSION>)".into()),
            line => pong(&line),
        };
        match reply {
            Some(pong) => self.send(&pong).await,
            None => Ok(()),
        }
    }

    pub(crate) async fn send(&mut self, text: &str) -> Result<(), String> {
        let sent = self.writer.write_all(text.as_bytes()).await;
        sent.map_err(|e| format!("write: {e}"))
    }
}
