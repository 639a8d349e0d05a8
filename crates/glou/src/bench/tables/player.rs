//! One simulated player of `glou bench tables`: it logs in and enters the room, then
//! launches and finishes tables until the end of the phase. Each table gets a new game
//! channel (a second connection, used up by one table); games are followed with
//! `glou_tictactoe::Client`. Failures are counted in [`Shared`]; a player whose lobby
//! connection broke, or is in a state it cannot know, stops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use glou_tictactoe::{Client, ClientEvent, MoveStatus, Outcome, Player};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{sleep_until, timeout_at};

use super::{Shared, Stage};
use crate::bench::ggz::client::{Conn, HEADER, LOGIN_TIMEOUT, logout};
use crate::bench::ggz::line::{Line, attr, parse, pong};
use crate::bench::lock;

/// A refused launch or a failed channel is followed by this pause, so that a server
/// refusing everything is not asked again in a tight loop.
const FAILURE_PAUSE: Duration = Duration::from_millis(100);
/// A longer channel handshake ends the channel.
const MAX_HANDSHAKE: usize = 64 * 1024;
/// Read size of a game channel: a TicTacToe packet is at most a few dozen bytes.
const READ_CHUNK: usize = 1024;
const LEAVE: &str = "<LEAVE FORCE='true' SPECTATOR='false'/>\n";

/// Connects player `i`, logs in as guest `name` and enters `room`; returns the lobby
/// connection and how long that took.
pub(super) async fn login(
    target: SocketAddr,
    i: u32,
    name: &str,
    room: u32,
) -> Result<(Conn, Duration), String> {
    let started = Instant::now();
    let deadline = started + LOGIN_TIMEOUT;
    let mut conn = Conn::connect(target, i, deadline).await?;
    let entered = async {
        conn.hello(name, deadline).await?;
        conn.enter(room, deadline).await
    }
    .await;
    match entered {
        Ok(()) => Ok((conn, started.elapsed())),
        Err(e) => {
            let _ = logout(&mut conn).await;
            Err(e)
        }
    }
}

/// Player `i`, from its first table to the end of the phase: its lobby connection back
/// if it is still sound, to log out.
pub(super) async fn tables(sh: Arc<Shared>, i: u32, mut lobby: Conn) -> Option<Conn> {
    loop {
        let due = match sh.rate {
            0 => Instant::now(),
            rate => {
                let n = sh.next.fetch_add(1, Ordering::Relaxed);
                sh.start + Duration::from_secs_f64(n as f64 / rate as f64)
            }
        };
        if due >= sh.end || Instant::now() >= sh.end {
            return Some(lobby);
        }
        let played = match idle(&mut lobby, due).await {
            Ok(()) => table(&sh, i, &mut lobby).await,
            Err(e) => Err((Stage::Launch, e)),
        };
        if let Err((stage, e)) = played {
            sh.fail(stage, e);
            sh.stopped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
    }
}

/// One table: a channel, the launch, the finish, the channel closed by the server.
/// Failures after which the player can go on are counted here; the others are
/// returned, to stop the player.
async fn table(sh: &Shared, i: u32, lobby: &mut Conn) -> Result<(), (Stage, String)> {
    let launch = |e| (Stage::Launch, e);
    let mut channel = match Channel::open(sh, i).await {
        Ok(channel) => channel,
        Err(e) => {
            sh.fail(Stage::Launch, format!("channel: {e}"));
            return idle(lobby, Instant::now() + FAILURE_PAUSE)
                .await
                .map_err(launch);
        }
    };
    lobby.send(&launch_request(sh.game)).await.map_err(launch)?;
    let sent = Instant::now();
    let answer = wait(lobby, sent + sh.timeout, |line, _| match line {
        Line::Result {
            action: "launch",
            code,
        } => Some(code.to_string()),
        _ => None,
    });
    let code = answer
        .await
        .map_err(launch)?
        .ok_or_else(|| launch(format!("no result within {}s", sh.timeout.as_secs())))?;
    if code != "ok" {
        sh.fail(Stage::Launch, code);
        drop(channel);
        return idle(lobby, Instant::now() + FAILURE_PAUSE)
            .await
            .map_err(launch);
    }
    lock(&sh.launch).record_us(micros(sent.elapsed()));

    let finish = |e| (Stage::Finish, e);
    let took = if sh.play {
        match play(sh, lobby, &mut channel).await {
            Ok(took) => took,
            Err((e, at_table)) => {
                sh.fail(Stage::Finish, e);
                if at_table {
                    let left = leave(sh, lobby).await;
                    left.map_err(|e| finish(format!("leaving after that: {e}")))?;
                }
                return Ok(());
            }
        }
    } else {
        leave(sh, lobby).await.map_err(finish)?
    };
    let ended = Instant::now();
    match channel.closed(sh.timeout).await {
        Ok(()) => {
            lock(&sh.finish).record_us(micros(took));
            lock(&sh.closed).record_us(micros(ended.elapsed()));
        }
        Err(e) => sh.fail(Stage::Finish, format!("channel: {e}")),
    }
    Ok(())
}

/// `<LAUNCH>` of a TicTacToe table: seat 0 open (the launcher sits there), a bot in 1.
fn launch_request(game: u32) -> String {
    format!(
        "<LAUNCH>\n<TABLE GAME='{game}' SEATS='2'>\n<DESC>bench</DESC>\n\
         <SEAT NUM='0' TYPE='open'/>\n<SEAT NUM='1' TYPE='bot'/>\n</TABLE>\n</LAUNCH>\n"
    )
}

/// Leaves the table at once: sends `<LEAVE FORCE='true'>` and waits for both its
/// `RESULT` and the lobby's `<LEAVE>`. Returns the time that took.
async fn leave(sh: &Shared, lobby: &mut Conn) -> Result<Duration, String> {
    lobby.send(LEAVE).await?;
    let sent = Instant::now();
    let (mut answered, mut left) = (false, false);
    while !(answered && left) {
        let seen = wait(lobby, sent + sh.timeout, |line, text| match line {
            Line::Result {
                action: "leave",
                code,
            } => Some(Err(code.to_string())),
            _ => leave_reason(text).map(|_| Ok(())),
        });
        match seen.await? {
            Some(Ok(())) => left = true,
            Some(Err(code)) if code == "ok" => answered = true,
            Some(Err(code)) => return Err(format!("leave: {code}")),
            None if answered => {
                return Err(format!(
                    "leave: no <LEAVE> within {}s",
                    sh.timeout.as_secs()
                ));
            }
            None => {
                return Err(format!("leave: no result within {}s", sh.timeout.as_secs()));
            }
        }
    }
    Ok(sent.elapsed())
}

/// Plays the game to its end against the bot, each move in the first free cell, until
/// the game is over on the channel and the lobby said `<LEAVE>`. Returns the time from
/// the launch; on failure, why and whether the player may still be at the table.
async fn play(
    sh: &Shared,
    lobby: &mut Conn,
    channel: &mut Channel,
) -> Result<Duration, (String, bool)> {
    let started = Instant::now();
    // The launcher sits in the first open seat: 0, X.
    let mut client = Client::with_seat(Player::X);
    let (mut over, mut left) = (None, false);
    // Cells played or refused (taken, in the server's view): never tried again.
    let mut tried = [false; 9];
    let timer = sleep_until((started + sh.timeout).into());
    tokio::pin!(timer);
    loop {
        if let (Some(outcome), true) = (over, left) {
            let result = match outcome {
                Outcome::Tie => "tie",
                Outcome::Win(p) if client.seat() == Some(p) => "win",
                Outcome::Win(_) => "loss",
            };
            *lock(&sh.outcomes).entry(result).or_default() += 1;
            return Ok(started.elapsed());
        }
        let at_table = !left;
        tokio::select! {
            read = lobby.read() => {
                let reason = lobby_line(lobby, read).await.map_err(|e| (e, at_table))?;
                match reason {
                    Some(_) if over.is_some() => left = true,
                    Some(r) if r == "gameover" => left = true,
                    Some(r) => return Err((format!("game: left the table ({r}) before the end"), false)),
                    None => {}
                }
            }
            bytes = channel.next(), if !channel.eof => {
                let bytes = bytes.map_err(|e| (format!("game: {e}"), at_table))?;
                let Some(bytes) = bytes else {
                    if over.is_none() {
                        return Err(("game: channel closed before the end".into(), at_table));
                    }
                    continue;
                };
                timer.as_mut().reset((Instant::now() + sh.timeout).into());
                let events = client.feed(&bytes);
                let events = events.map_err(|e| (format!("game: bad data: {e}"), at_table))?;
                for event in events {
                    match event {
                        ClientEvent::YourTurn => {
                            let free = |c: &usize| client.board().get(*c).is_none() && !tried[*c];
                            let Some(cell) = (0..9).find(free) else {
                                return Err(("game: asked to move, no free cell".into(), at_table));
                            };
                            let mut packet = Vec::new();
                            client.send_move(cell, &mut packet);
                            tried[cell] = true;
                            channel.send(&packet).await.map_err(|e| (format!("game: {e}"), at_table))?;
                        }
                        ClientEvent::MoveRejected { status: MoveStatus::ErrBound | MoveStatus::ErrFull } => {}
                        ClientEvent::MoveRejected { status } => {
                            return Err((format!("game: move refused ({status:?})"), at_table));
                        }
                        ClientEvent::GameOver(outcome) => over = Some(outcome),
                        ClientEvent::Seat(_)
                        | ClientEvent::Players(_)
                        | ClientEvent::MoveAccepted { .. }
                        | ClientEvent::Moved { .. }
                        | ClientEvent::Synced { .. }
                        | ClientEvent::Ignored(_) => {}
                    }
                }
            }
            () = &mut timer => {
                let what = if over.is_some() { "<LEAVE>" } else { "game over" };
                return Err((format!("game: no {what} within {}s", sh.timeout.as_secs()), at_table));
            }
        }
    }
}

/// Follows a lobby line read in `select!`: answers a ping, gives the reason of a
/// `<LEAVE>`; an error if the lobby connection ended.
async fn lobby_line(
    lobby: &mut Conn,
    read: Result<bool, String>,
) -> Result<Option<String>, String> {
    if !read.map_err(|e| format!("lobby: {e}"))? {
        return Err("lobby: closed by the server".into());
    }
    let (reply, reason, end) = {
        let text = std::str::from_utf8(&lobby.line).unwrap_or_default();
        let line = parse(text);
        let reason = leave_reason(text).map(str::to_owned);
        (pong(&line), reason, line == Line::EndSession)
    };
    if end {
        return Err("lobby: closed by the server (</SESSION>)".into());
    }
    if let Some(reply) = reply {
        lobby.send(&reply).await?;
    }
    Ok(reason)
}

/// Reads the lobby until `deadline`, answering pings.
async fn idle(lobby: &mut Conn, deadline: Instant) -> Result<(), String> {
    if deadline <= Instant::now() {
        return Ok(());
    }
    wait(lobby, deadline, |_, _| None::<()>).await.map(|_| ())
}

/// Reads lines until `want` accepts one (parsed, and its text), answering pings;
/// `None` at the deadline.
async fn wait<T>(
    conn: &mut Conn,
    deadline: Instant,
    want: impl Fn(&Line<'_>, &str) -> Option<T>,
) -> Result<Option<T>, String> {
    loop {
        let read = match timeout_at(deadline.into(), conn.read()).await {
            Err(_) => return Ok(None),
            Ok(read) => read,
        };
        if !read.map_err(|e| format!("lobby: {e}"))? {
            return Err("lobby: closed by the server".into());
        }
        let reply = {
            let text = std::str::from_utf8(&conn.line).unwrap_or_default();
            let line = parse(text);
            if let Some(found) = want(&line, text) {
                return Ok(Some(found));
            }
            if line == Line::EndSession {
                return Err("lobby: closed by the server (</SESSION>)".into());
            }
            pong(&line)
        };
        if let Some(reply) = reply {
            conn.send(&reply).await?;
        }
    }
}

/// The raw `REASON` of a `<LEAVE>` line (the server's, not a table update's).
fn leave_reason(text: &str) -> Option<&str> {
    let rest = text.trim().strip_prefix("<LEAVE")?;
    rest.starts_with([' ', '/', '>'])
        .then(|| attr(rest, "REASON").unwrap_or_default())
}

/// A game channel, its handshake done: then only game bytes.
#[derive(Debug)]
struct Channel {
    conn: Conn,
    /// Game bytes read with the end of the handshake.
    early: Vec<u8>,
    /// The line end after the server's `</SESSION>` is still due.
    skip_newline: bool,
    /// The server closed it.
    eof: bool,
}

impl Channel {
    /// Connects as player `i`, names the channel after the server's greeting, and
    /// reads up to the server's `</SESSION>`, within the timeout.
    async fn open(sh: &Shared, i: u32) -> Result<Channel, String> {
        let deadline = Instant::now() + sh.timeout;
        let late = |what: &str| format!("no {what} within {}s", sh.timeout.as_secs());
        let mut conn = Conn::connect(sh.target, i, deadline).await?;
        let greeting = wait(&mut conn, deadline, |line, _| match line {
            Line::Server { status, .. } => Some(status.map(str::to_owned)),
            _ => None,
        });
        match greeting.await? {
            None => return Err(late("greeting")),
            Some(Some(status)) if status != "ok" => return Err(format!("server {status}")),
            Some(_) => {}
        }
        let name = sh.name(i);
        let request = format!("{HEADER}<CHANNEL ID='{name}'/>\n</SESSION>\n");
        conn.send(&request).await?;
        let (mut seen, mut buf) = (Vec::new(), [0; READ_CHUNK]);
        loop {
            if let Some(at) = seen.windows(10).position(|w| w == b"</SESSION>") {
                let mut early = seen.split_off(at + 10);
                let skip_newline = early.is_empty();
                if early.first() == Some(&b'\n') {
                    early.remove(0);
                }
                return Ok(Channel {
                    conn,
                    early,
                    skip_newline,
                    eof: false,
                });
            }
            let n = match timeout_at(deadline.into(), conn.reader.read(&mut buf)).await {
                Err(_) => return Err(late("</SESSION>")),
                Ok(read) => read.map_err(|e| format!("read: {e}"))?,
            };
            if n == 0 {
                return Err(refusal(&seen));
            }
            seen.extend_from_slice(&buf[..n]);
            if seen.len() > MAX_HANDSHAKE {
                return Err(format!("no </SESSION> in {MAX_HANDSHAKE} bytes"));
            }
        }
    }

    /// The next game bytes; `None` once the server closed the channel. Cancel-safe.
    async fn next(&mut self) -> Result<Option<Vec<u8>>, String> {
        if !self.early.is_empty() {
            return Ok(Some(std::mem::take(&mut self.early)));
        }
        loop {
            let mut buf = vec![0; READ_CHUNK];
            let n = self.conn.reader.read(&mut buf).await;
            let n = n.map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                self.eof = true;
                return Ok(None);
            }
            buf.truncate(n);
            if std::mem::take(&mut self.skip_newline) && buf[0] == b'\n' {
                buf.remove(0);
            }
            if !buf.is_empty() {
                return Ok(Some(buf));
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        let sent = self.conn.writer.write_all(bytes).await;
        sent.map_err(|e| format!("write: {e}"))
    }

    /// Waits up to `timeout` for the server to close the channel, skipping the game
    /// bytes still due.
    async fn closed(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while !self.eof {
            match timeout_at(deadline.into(), self.next()).await {
                Err(_) => {
                    let secs = timeout.as_secs();
                    return Err(format!("still open {secs}s after the table ended"));
                }
                Ok(next) => next?,
            };
        }
        Ok(())
    }
}

/// Why the server closed a channel before its `</SESSION>`: the code of its `RESULT`.
fn refusal(seen: &[u8]) -> String {
    let text = String::from_utf8_lossy(seen);
    let code = text.lines().find_map(|l| match parse(l) {
        Line::Result { action, code } => Some(format!("{action} {code}")),
        _ => None,
    });
    code.unwrap_or_else(|| "closed before </SESSION>".into())
}

fn micros(d: Duration) -> u64 {
    d.as_micros() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_leave_lines() {
        assert_eq!(
            leave_reason("<LEAVE REASON='gameover'/>\n"),
            Some("gameover")
        );
        assert_eq!(leave_reason("<LEAVE REASON=\"normal\"/>"), Some("normal"));
        assert_eq!(leave_reason("<LEAVE/>"), Some(""));
        assert_eq!(leave_reason("<LEAVEX REASON='x'/>"), None);
        assert_eq!(
            leave_reason("<UPDATE TYPE='table' ACTION='leave' ROOM='1'>"),
            None
        );
        assert_eq!(
            refusal(b"<SESSION>\n<RESULT ACTION='channel' CODE='usr lookup'/>\n"),
            "channel usr lookup"
        );
        assert_eq!(refusal(b"<SESSION>\n"), "closed before </SESSION>");
        assert!(launch_request(3).contains("<TABLE GAME='3' SEATS='2'>"));
    }
}
