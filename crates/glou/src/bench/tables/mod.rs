//! `glou bench tables`: load any GGZ server (Glou or ggzd) with TicTacToe tables, each
//! run by a real game program. Players log in as guests and enter the TicTacToe room
//! (`login`), then each loops: open a game channel, `LAUNCH` a table with a bot, and
//! finish it, either by leaving at once (`leave`) or by playing the game to its end
//! (`game`, `--play`); then they log out (`logout`). The players are `player.rs`; the
//! GGZ connection and line parser are `glou bench ggz`'s; printing is `stats.rs`.

mod player;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use clap::value_parser;
use glou_tictactoe::terminal::ENGINE;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::ggz::client::{Conn, LOGIN_TIMEOUT, logout, result};
use super::ggz::line::{Line, attr};
use super::ggz::{MAX_NAME_LEN, check_target, name, name_base};
use super::lock;
use super::procstat::{CpuProbe, TICKS_PER_SEC, open_file_limits};
use super::stats::{Recorder, print_header};

/// Flags of `glou bench tables`.
#[derive(clap::Args, Debug)]
pub(crate) struct TablesArgs {
    /// TCP address of the GGZ server under test; loopback only
    #[arg(long, default_value = "127.0.0.1:5688")]
    target: SocketAddr,
    /// Simulated players, each launching and finishing one table after another
    ///
    /// Each table is a game program on the server: Glou runs at most
    /// `lobby.max_game_processes` (200) and a room `max_tables` (50) at once.
    #[arg(long, default_value_t = 20, value_parser = value_parser!(u32).range(1..=5_000))]
    clients: u32,
    /// Table launches per second in total, across all players (0: as fast as they can)
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Seconds during which tables are launched; the tables under way then are finished
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=600))]
    duration: u64,
    /// Play each game to its end against the table's bot instead of leaving at once
    #[arg(long)]
    play: bool,
    /// The room to launch tables in (its game must be TicTacToe); by default the first
    /// TicTacToe room the server lists
    #[arg(long)]
    room: Option<u32>,
    /// Seconds to wait for each answer: the channel, the launch, the leave, the game
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=300))]
    timeout: u64,
    /// Start of the players' names: PREFIX, the PID modulo 1000, `_`, the player's number
    #[arg(long, default_value = "t")]
    name_prefix: String,
    /// PID of the server, to print its CPU time per table and its resident size
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also print one JSON object per phase (the lines starting with `{`)
    #[arg(long)]
    json: bool,
}

/// Logins in flight at once.
const LOGIN_CONCURRENCY: usize = 64;

/// What the players share during the table phase.
#[derive(Debug)]
pub(super) struct Shared {
    target: SocketAddr,
    base: String,
    game: u32,
    play: bool,
    rate: u64,
    /// The longest wait for each answer.
    timeout: Duration,
    /// Launches are due from then (at `rate`), and none starts at or after `end`.
    start: Instant,
    end: Instant,
    /// Launch numbers, for pacing.
    next: AtomicU64,
    /// `LAUNCH` sent to `RESULT launch ok`; errors are failed launches.
    launch: Mutex<Recorder>,
    /// Leave sent to `<LEAVE>`, or launched to game over; errors are tables not finished.
    finish: Mutex<Recorder>,
    /// Table over (by the lobby) to the game channel closed by the server.
    closed: Mutex<Recorder>,
    /// Failures by stage and kind (`launch: room full`, `game: …`).
    failures: Mutex<BTreeMap<String, u64>>,
    /// Games played to their end, by result for us.
    outcomes: Mutex<BTreeMap<&'static str, u64>>,
    /// Players that stopped before the end: their lobby connection broke.
    stopped: AtomicU64,
}

/// Which figure a failure counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Launch,
    Finish,
}

pub(crate) async fn run(args: TablesArgs) -> anyhow::Result<()> {
    check_target(args.target)?;
    let base = name_base(&args.name_prefix, std::process::id())?;
    let last = name(&base, args.clients - 1);
    ensure!(
        last.len() <= MAX_NAME_LEN,
        "names would be up to {last:?}, over GGZ's {MAX_NAME_LEN} characters: shorten --name-prefix"
    );
    // A lobby connection and a game channel per player.
    let need = 2 * u64::from(args.clients) + 32;
    if let Some((Some(soft), _)) = open_file_limits() {
        ensure!(
            soft >= need,
            "open-file limit {soft} is below the {need} sockets needed: lower --clients"
        );
    }
    let (room, game) = find_room(args.target, &format!("{base}x"), args.room)
        .await
        .with_context(|| format!("finding a {ENGINE} room on {} as a guest", args.target))?;
    let rate = match args.rate {
        0 => "unpaced".to_string(),
        r => format!("{r}/s"),
    };
    println!(
        "bench tables: target {} clients {} (names {base}0…) room {room} (game {game}) \
         rate {rate} duration {}s {} timeout {}s (CPU time from /proc at {TICKS_PER_SEC} \
         ticks/s)",
        args.target,
        args.clients,
        args.duration,
        if args.play { "play" } else { "leave" },
        args.timeout,
    );
    print_header();
    let lobbies = login(&args, &base, room).await;
    ensure!(
        !lobbies.is_empty(),
        "no player got into room {room}; see the failures above"
    );

    let start = Instant::now();
    let sh = Arc::new(Shared {
        target: args.target,
        base,
        game,
        play: args.play,
        rate: args.rate,
        timeout: Duration::from_secs(args.timeout),
        start,
        end: start + Duration::from_secs(args.duration),
        next: AtomicU64::new(0),
        launch: Mutex::new(Recorder::new()),
        finish: Mutex::new(Recorder::new()),
        closed: Mutex::new(Recorder::new()),
        failures: Mutex::default(),
        outcomes: Mutex::default(),
        stopped: AtomicU64::new(0),
    });
    let lobbies = tables(&sh, &args, lobbies).await;

    let probe = CpuProbe::start(args.server_pid);
    let mut players = JoinSet::new();
    for mut lobby in lobbies {
        players.spawn(async move { logout(&mut lobby).await });
    }
    let mut rec = Recorder::new();
    while let Some(joined) = players.join_next().await {
        match joined {
            Ok(Ok(us)) => rec.record_us(us),
            Ok(Err(e)) => rec.error(&anyhow!("logout: {e}")),
            Err(e) => rec.error(&anyhow::Error::new(e).context("player task failed")),
        }
    }
    super::stats::report(&probe, "logout", rec, Value::Null, args.json);
    Ok(())
}

/// The login phase: every player connects, logs in as a guest and enters `room`.
/// Returns the numbers and lobby connections of those that got in: a player's number
/// names it, and its game channels.
async fn login(a: &TablesArgs, base: &str, room: u32) -> Vec<(u32, Conn)> {
    let probe = CpuProbe::start(a.server_pid);
    let gate = Arc::new(Semaphore::new(LOGIN_CONCURRENCY));
    let mut logins = JoinSet::new();
    for i in 0..a.clients {
        let (gate, player) = (gate.clone(), name(base, i));
        let target = a.target;
        logins.spawn(async move {
            let _permit = gate.acquire_owned().await;
            player::login(target, i, &player, room)
                .await
                .map(|(conn, took)| (i, conn, took))
        });
    }
    let (mut rec, mut failures) = (Recorder::new(), BTreeMap::<String, u64>::new());
    let mut lobbies = Vec::new();
    while let Some(joined) = logins.join_next().await {
        let outcome = joined.unwrap_or_else(|e| Err(format!("login task failed: {e}")));
        match outcome {
            Ok((i, conn, took)) => {
                rec.record_us(took.as_micros() as u64);
                lobbies.push((i, conn));
            }
            Err(kind) => {
                rec.error(&anyhow!("{kind}"));
                *failures.entry(kind).or_default() += 1;
            }
        }
    }
    let extra = match failures.is_empty() {
        true => Value::Null,
        false => json!({ "failures": failures }),
    };
    super::stats::report(&probe, "login", rec, extra, a.json);
    lobbies
}

/// The table phase: every player launches and finishes tables until `--duration` is
/// over, then finishes the one under way. Returns the lobby connections still up.
async fn tables(sh: &Arc<Shared>, a: &TablesArgs, lobbies: Vec<(u32, Conn)>) -> Vec<Conn> {
    let probe = CpuProbe::start(a.server_pid);
    let programs_before = a.server_pid.and_then(children_ticks);
    let mut players = JoinSet::new();
    for (i, lobby) in lobbies {
        players.spawn(player::tables(sh.clone(), i, lobby));
    }
    // A table under way at the end may take the channel, the launch, its finish and
    // the channel's close, each up to the timeout.
    let deadline = sh.end + 4 * sh.timeout + Duration::from_secs(2);
    let mut lobbies = Vec::new();
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline.into(), players.join_next()).await
    {
        match joined {
            Ok(Some(lobby)) => lobbies.push(lobby),
            Ok(None) => {}
            Err(e) => sh.fail(Stage::Finish, format!("player task failed: {e}")),
        }
    }
    for _ in 0..players.len() {
        let waited = deadline.saturating_duration_since(sh.end).as_secs();
        sh.fail(
            Stage::Finish,
            format!("player still busy {waited}s after the end"),
        );
        sh.stopped.fetch_add(1, Ordering::Relaxed);
    }
    players.abort_all();

    let failures = std::mem::take(&mut *lock(&sh.failures));
    let of = |stage: &str| -> BTreeMap<&String, &u64> {
        failures
            .iter()
            .filter(|(k, _)| k.starts_with(stage))
            .collect()
    };
    let launch = std::mem::replace(&mut *lock(&sh.launch), Recorder::new());
    let finish = std::mem::replace(&mut *lock(&sh.finish), Recorder::new());
    let closed = std::mem::replace(&mut *lock(&sh.closed), Recorder::new());
    let mut extra = json!({});
    if !of("launch:").is_empty() {
        extra["failures"] = json!(of("launch:"));
    }
    super::stats::report(&probe, "launch", launch, extra, a.json);

    let finished = finish.ok();
    let programs_us = programs_before
        .zip(a.server_pid.and_then(children_ticks))
        .and_then(|(before, after)| after.checked_sub(before))
        .filter(|_| finished > 0)
        .map(|ticks| (ticks * 1_000_000 / TICKS_PER_SEC) as f64 / finished as f64);
    let q = |p| (closed.ok() > 0).then(|| closed.latency_us.value_at_quantile(p));
    let mut extra = json!({
        "programs_cpu_us_per_table": programs_us.map(|us| us.round()),
        "channel_closed_p50_us": q(0.5), "channel_closed_p99_us": q(0.99),
        "players_stopped": sh.stopped.load(Ordering::Relaxed),
    });
    if sh.play {
        extra["outcomes"] = json!(*lock(&sh.outcomes));
    }
    if !of("finish:").is_empty() {
        extra["failures"] = json!(of("finish:"));
    }
    if let Value::Object(figures) = &mut extra {
        figures.retain(|_, v| !v.is_null());
    }
    let phase = if sh.play { "game" } else { "leave" };
    super::stats::report(&probe, phase, finish, extra, a.json);
    lobbies
}

impl Shared {
    fn name(&self, i: u32) -> String {
        name(&self.base, i)
    }

    /// Counts a failure of `stage`: in its figure's errors and by kind.
    fn fail(&self, stage: Stage, kind: String) {
        let (rec, key) = match stage {
            Stage::Launch => (&self.launch, format!("launch: {kind}")),
            Stage::Finish => (&self.finish, format!("finish: {kind}")),
        };
        lock(rec).error(&anyhow!("{key}"));
        *lock(&self.failures).entry(key).or_default() += 1;
    }
}

/// The TicTacToe room to play in (`wanted`, or the first) and its game id, from the
/// game and room lists, asked as guest `name`.
async fn find_room(
    target: SocketAddr,
    name: &str,
    wanted: Option<u32>,
) -> anyhow::Result<(u32, u32)> {
    let deadline = Instant::now() + LOGIN_TIMEOUT;
    let mut conn = Conn::connect(target, 0, deadline)
        .await
        .map_err(|e| anyhow!(e))?;
    let listed = async {
        conn.hello(name, deadline).await?;
        let games = list(&mut conn, deadline, "game", "GAME").await?;
        let rooms = list(&mut conn, deadline, "room", "ROOM").await?;
        Ok::<_, String>((games, rooms))
    }
    .await;
    let _ = logout(&mut conn).await;
    let (games, rooms) = listed.map_err(|e| anyhow!(e))?;
    choose_room(&games, &rooms, wanted)
}

/// One entry of a list: its `ID` and raw attributes (`NAME`, `GAME`; `ENGINE` from the
/// game's `<PROTOCOL>`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Entry {
    id: i64,
    attrs: BTreeMap<&'static str, String>,
}

/// `<LIST TYPE='kind' FULL='true'/>`: the `TAG` entries, up to `</LIST>`.
async fn list(
    conn: &mut Conn,
    deadline: Instant,
    kind: &str,
    tag: &str,
) -> Result<Vec<Entry>, String> {
    conn.send(&format!("<LIST TYPE='{kind}' FULL='true'/>\n"))
        .await?;
    let what = format!("{kind} list");
    match conn.expect(deadline, &what, result("list")).await? {
        code if code == "ok" => {}
        code => return Err(format!("list {kind}: {code}")),
    }
    let mut entries: Vec<Entry> = Vec::new();
    let line = |l: &Line<'_>| Some(matches!(l, Line::EndList));
    loop {
        if conn.expect(deadline, &what, line).await? {
            return Ok(entries);
        }
        let text = String::from_utf8_lossy(&conn.line);
        if let Some(t) = element(&text, tag) {
            let Some(id) = attr(t, "ID").and_then(|id| id.trim().parse().ok()) else {
                continue;
            };
            let mut entry = Entry {
                id,
                ..Entry::default()
            };
            for key in ["NAME", "GAME"] {
                if let Some(v) = attr(t, key) {
                    entry.attrs.insert(key, v.to_owned());
                }
            }
            entries.push(entry);
        } else if let (Some(t), Some(last)) = (element(&text, "PROTOCOL"), entries.last_mut())
            && let Some(engine) = attr(t, "ENGINE")
        {
            last.attrs.insert("ENGINE", engine.to_owned());
        }
    }
}

/// The start tag of a line holding element `name`, if it does.
fn element<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.trim().strip_prefix('<')?.strip_prefix(name)?;
    rest.starts_with([' ', '\t', '/', '>']).then_some(rest)
}

/// `wanted` if it is a TicTacToe room, else the first TicTacToe room; with its game.
fn choose_room(
    games: &[Entry],
    rooms: &[Entry],
    wanted: Option<u32>,
) -> anyhow::Result<(u32, u32)> {
    let tictactoe = |g: &Entry| match g.attrs.get("ENGINE").map(String::as_str) {
        None | Some("") => g
            .attrs
            .get("NAME")
            .is_some_and(|n| n.eq_ignore_ascii_case(ENGINE)),
        Some(engine) => engine.eq_ignore_ascii_case(ENGINE),
    };
    let game_of = |r: &Entry| {
        let id: i64 = r.attrs.get("GAME")?.trim().parse().ok()?;
        games.iter().find(|g| g.id == id)
    };
    let room = match wanted {
        Some(id) => {
            let Some(room) = rooms.iter().find(|r| r.id == i64::from(id)) else {
                bail!(
                    "no room {id}; the server lists {:?}",
                    rooms.iter().map(|r| r.id).collect::<Vec<_>>()
                );
            };
            match game_of(room) {
                Some(g) if tictactoe(g) => room,
                game => bail!(
                    "room {id} does not play {ENGINE}: its game is {}",
                    game.and_then(|g| g.attrs.get("NAME").cloned())
                        .unwrap_or_else(|| "none".into())
                ),
            }
        }
        None => rooms
            .iter()
            .find(|r| game_of(r).is_some_and(tictactoe))
            .with_context(|| format!("no {ENGINE} room among {} rooms", rooms.len()))?,
    };
    let game = game_of(room).map_or(0, |g| g.id);
    Ok((u32::try_from(room.id)?, u32::try_from(game)?))
}

/// `cutime + cstime` of `/proc/{pid}/stat`: the CPU time of the children the server
/// reaped (its game programs), in clock ticks.
fn children_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(13); // field 16 is cutime
    let cutime: u64 = fields.next()?.parse().ok()?;
    let cstime: u64 = fields.next()?.parse().ok()?;
    Some(cutime + cstime)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, attrs: &[(&'static str, &str)]) -> Entry {
        Entry {
            id,
            attrs: attrs.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    #[test]
    fn chooses_a_tictactoe_room() {
        let games = [
            entry(0, &[("NAME", "Chess"), ("ENGINE", "Chess")]),
            entry(1, &[("NAME", "TicTacToe"), ("ENGINE", "TicTacToe")]),
            entry(2, &[("NAME", "tictactoe")]),
        ];
        let rooms = [
            entry(0, &[("GAME", "-1")]),
            entry(1, &[("GAME", "0")]),
            entry(2, &[("GAME", "1")]),
            entry(3, &[("GAME", "2")]),
        ];
        assert_eq!(choose_room(&games, &rooms, None).unwrap(), (2, 1));
        assert_eq!(choose_room(&games, &rooms, Some(3)).unwrap(), (3, 2));
        for bad in [0, 1, 9] {
            assert!(choose_room(&games, &rooms, Some(bad)).is_err(), "{bad}");
        }
        assert!(choose_room(&games[..1], &rooms, None).is_err());
    }

    #[test]
    fn reads_list_lines() {
        let game = "<GAME ID='0' NAME='TicTacToe' VERSION='0.0.10'>\n";
        assert_eq!(
            element(game, "GAME").and_then(|t| attr(t, "NAME")),
            Some("TicTacToe")
        );
        assert_eq!(element(game, "GAM"), None);
        assert_eq!(
            element("<PROTOCOL ENGINE='TicTacToe'/>", "PROTOCOL").and_then(|t| attr(t, "ENGINE")),
            Some("TicTacToe")
        );
        assert_eq!(element("</GAME>", "GAME"), None);
        assert!(children_ticks(std::process::id()).is_some());
    }
}
