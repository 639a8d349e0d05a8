//! `glou browse`: a terminal game browser. The live list comes from the native
//! WebSocket through `glou-client`'s `Live` (which reconnects and diffs by itself);
//! `app` holds the state and turns keys into actions; `ui` draws it with ratatui;
//! `config` reads `browse.toml` and builds launch commands; `installed` finds the games
//! on this machine; `ping` measures latency over each game's own protocol; `text`
//! makes untrusted strings inert. This file is the loop that ties them to the
//! terminal, and the launching of a client.
//!
//! The loop runs on a blocking thread: it polls the terminal for keys (50 ms at most),
//! then takes whatever the live connection, the pinger and the installed check sent,
//! and redraws when something changed. A launched client gets the terminal: the
//! browser leaves raw mode and the alternate screen, waits for the client to exit
//! (still reading the live list meanwhile, but not the keyboard), then comes back.

mod app;
mod config;
mod installed;
mod ping;
#[cfg(test)]
mod testutil;
mod text;
mod ui;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use glou_client::Client;
use glou_client::live::{Live, LiveEvent};
use ratatui::DefaultTerminal;
use ratatui::crossterm::cursor;
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use ratatui::crossterm::terminal::{EnterAlternateScreen, enable_raw_mode};
use tokio::sync::mpsc;

use app::{Action, App};

#[derive(Args, Debug)]
pub struct BrowseArgs {
    /// The Glou server's HTTP URL (several, separated by spaces or commas, fail over).
    /// Default: `server` in the config file, else http://127.0.0.1:5680.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// The config file (launch templates, packages). Default:
    /// $XDG_CONFIG_HOME/glou/browse.toml or ~/.config/glou/browse.toml, if present.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

const DEFAULT_SERVER: &str = "http://127.0.0.1:5680";
/// Longest wait for a key before looking at the other sources.
const TICK: Duration = Duration::from_millis(50);
/// Live events applied between two draws, at most (a 50,000-server snapshot is drawn
/// while it arrives rather than after).
const EVENTS_PER_DRAW: usize = 5000;

pub async fn run(args: BrowseArgs) -> anyhow::Result<()> {
    let config = config::load(args.config.as_deref())?;
    let server = args
        .server
        .clone()
        .or_else(|| config.server.clone())
        .unwrap_or_else(|| DEFAULT_SERVER.into());
    let client = Client::new(&server).with_context(|| format!("server URL {server:?}"))?;
    anyhow::ensure!(
        std::io::IsTerminal::is_terminal(&std::io::stdout()),
        "glou browse draws on a terminal: stdout is not one"
    );
    let (live_tx, live_rx) = mpsc::channel(4096);
    let live = Live::start(&client, live_tx);
    live.subscribe("browse", "")?;
    let pinger = ping::spawn(
        SocketAddr::from(([0, 0, 0, 0], 0)),
        Some(SocketAddr::from(([0u16; 8], 0))),
    )
    .await
    .context("binding the ping socket")?;
    let (installed_tx, installed_rx) = mpsc::unbounded_channel();
    let detect_config = config.clone();
    tokio::task::spawn_blocking(move || {
        let _ = installed_tx.send(installed::detect(&detect_config));
    });
    let sources = Sources {
        live: live_rx,
        pings: pinger.results,
        want: pinger.want,
        installed: installed_rx,
    };
    let app = App::new(config);
    let result = tokio::task::spawn_blocking(move || ui_loop(app, sources)).await;
    drop(live);
    result.context("the browser's thread")?
}

/// What the loop reads besides the keyboard.
struct Sources {
    live: mpsc::Receiver<LiveEvent>,
    pings: mpsc::UnboundedReceiver<(SocketAddr, ping::Outcome)>,
    want: mpsc::UnboundedSender<Vec<(SocketAddr, ping::Proto)>>,
    installed: mpsc::UnboundedReceiver<std::collections::BTreeMap<String, installed::Installed>>,
}

fn ui_loop(mut app: App, mut sources: Sources) -> anyhow::Result<()> {
    let mut terminal = ratatui::try_init().context("setting up the terminal")?;
    let result = ui_loop_in(&mut terminal, &mut app, &mut sources);
    ratatui::restore();
    result
}

fn ui_loop_in(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    sources: &mut Sources,
) -> anyhow::Result<()> {
    let mut dirty = true;
    let mut wanted = Vec::new();
    loop {
        if dirty {
            terminal.draw(|frame| ui::draw(frame, app))?;
            dirty = false;
            let targets = app.ping_targets();
            if targets != wanted {
                let _ = sources.want.send(targets.clone());
                wanted = targets;
            }
        }
        if event::poll(TICK)? {
            match event::read()? {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    dirty = true;
                    match app.on_key(key) {
                        Action::None => {}
                        Action::Quit => return Ok(()),
                        Action::Launch {
                            game,
                            address,
                            name,
                        } => {
                            // Nothing pinged while a game plays.
                            let _ = sources.want.send(Vec::new());
                            wanted.clear();
                            app.status =
                                Some(launch(terminal, app, sources, &game, &address, &name));
                            terminal.clear()?;
                        }
                    }
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
        dirty |= drain(app, sources);
    }
}

/// Applies what arrived from the live list, the pinger and the installed check.
fn drain(app: &mut App, sources: &mut Sources) -> bool {
    let mut changed = false;
    for _ in 0..EVENTS_PER_DRAW {
        match sources.live.try_recv() {
            Ok(event) => changed |= app.on_live(event),
            Err(_) => break,
        }
    }
    while let Ok((addr, outcome)) = sources.pings.try_recv() {
        app.on_ping(addr, outcome);
        changed = true;
    }
    if let Ok(installed) = sources.installed.try_recv() {
        app.on_installed(installed);
        changed = true;
    }
    changed
}

/// Starts the client of `game` on `address` with the terminal handed over, waits for
/// it, takes the terminal back; returns what to say in the status line.
fn launch(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    sources: &mut Sources,
    game: &str,
    address: &str,
    name: &str,
) -> String {
    let argv = match app.config.argv(game, address, name) {
        Ok(argv) => argv,
        Err(e) => return e.to_string(),
    };
    let path = std::env::var_os("PATH");
    let Some(program) = installed::find_program(&argv[0], path.as_deref()) else {
        let packages = app
            .config
            .games
            .get(game)
            .map(|g| g.packages.join(", "))
            .filter(|p| !p.is_empty())
            .map(|p| format!(" (Debian: apt install {p})"))
            .unwrap_or_default();
        return format!(
            "cannot launch {game}: {} is not installed{packages}",
            argv[0]
        );
    };
    let handed_over = ratatui::try_restore()
        .and_then(|()| ratatui::crossterm::execute!(std::io::stdout(), cursor::Show));
    if let Err(e) = handed_over {
        return format!("cannot hand the terminal over: {e}");
    }
    let spawned = Command::new(&program)
        .args(&argv[1..])
        .stdin(Stdio::inherit())
        .spawn();
    let message = match spawned {
        Ok(child) => wait(child, app, sources, game),
        Err(e) => format!("cannot launch {game}: {}: {e}", argv[0]),
    };
    let back = enable_raw_mode()
        .and_then(|()| ratatui::crossterm::execute!(std::io::stdout(), EnterAlternateScreen))
        .and_then(|()| terminal.clear());
    match back {
        Ok(()) => message,
        Err(e) => format!("{message}; the terminal may need a reset: {e}"),
    }
}

/// Waits for a launched client, applying the live list meanwhile (the server drops a
/// connection that stops reading). The keyboard is the client's until it exits.
fn wait(mut child: Child, app: &mut App, sources: &mut Sources, game: &str) -> String {
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return format!("{game} exited"),
            Ok(Some(status)) => return format!("{game} exited: {status}"),
            Ok(None) => {}
            Err(e) => return format!("waiting for {game}: {e}"),
        }
        drain(app, sources);
        std::thread::sleep(Duration::from_millis(100));
    }
}
