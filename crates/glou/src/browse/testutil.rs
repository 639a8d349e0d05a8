//! Servers and keys for the browser's tests.

use std::borrow::Cow;

use glou_client::api::{PlayerDto, Rules, ServerDto};
use glou_client::live::{Change, LiveEvent};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::App;
use super::config;

/// A listed server.
pub fn server(id: &str, game: &str, name: &str, players: u32, max: u32) -> ServerDto<'static> {
    ServerDto {
        id: Cow::Owned(id.into()),
        game: Cow::Owned(game.into()),
        kind: Cow::Borrowed("game"),
        address: Cow::Owned(format!(
            "127.0.0.1:{}",
            27000 + id.len() * 100 + players as usize
        )),
        name: Cow::Owned(name.into()),
        map: Cow::Borrowed("q3dm17"),
        players,
        max_players: max,
        version: Cow::Borrowed("0.8.8"),
        source: Cow::Borrowed("native"),
        ..ServerDto::default()
    }
}

pub fn player(name: &str, score: i64, ping: u32) -> PlayerDto<'static> {
    PlayerDto {
        name: Cow::Owned(name.into()),
        score,
        ping,
    }
}

pub fn rules(pairs: &[(&str, &str)]) -> Rules<'static> {
    Rules(
        pairs
            .iter()
            .map(|(k, v)| (Cow::Owned(k.to_string()), Cow::Owned(v.to_string())))
            .collect(),
    )
}

pub fn added(server: ServerDto<'static>) -> LiveEvent {
    LiveEvent::Server {
        sub: "browse".into(),
        change: Change::Added,
        server,
    }
}

pub fn removed(server: ServerDto<'static>) -> LiveEvent {
    LiveEvent::Server {
        sub: "browse".into(),
        change: Change::Removed,
        server,
    }
}

/// An app holding `servers`, connected and synced.
pub fn app_with(servers: Vec<ServerDto<'static>>) -> App {
    let mut app = App::new(config::parse("").unwrap());
    app.on_live(LiveEvent::Connected {
        url: "http://127.0.0.1:5680/".into(),
    });
    for s in servers {
        app.on_live(added(s));
    }
    app.on_live(LiveEvent::Synced {
        sub: "browse".into(),
    });
    app.set_page(10);
    app
}

pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

/// Types `text` as keys.
pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.on_key(ch(c));
    }
}
