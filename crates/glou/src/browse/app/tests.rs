//! The browser's state without a terminal: live events, filters, sorting, navigation,
//! the games view, and the actions keys turn into.

use std::time::Duration;

use glou_client::live::LiveEvent;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::browse::installed::Installed;
use crate::browse::ping::{Outcome, Proto};
use crate::browse::testutil::{added, app_with, ch, key, removed, server, typed};

fn names(app: &App) -> Vec<String> {
    app.visible().map(|(_, s, _)| s.name.to_string()).collect()
}

fn selected_name(app: &App) -> String {
    app.selected()
        .map(|s| s.name.to_string())
        .unwrap_or_default()
}

fn three() -> Vec<ServerDto<'static>> {
    let mut locked = server("c", "teeworlds", "Charlie CTF", 0, 8);
    locked.password = true;
    locked.map = "ctf5".into();
    locked.version = "0.7.5".into();
    vec![
        server("a", "openarena", "Alpha Arena", 3, 16),
        server("b", "openarena", "bravo full", 4, 4),
        locked,
    ]
}

#[test]
fn live_events_add_update_and_remove_servers() {
    let mut app = App::new(crate::browse::config::parse("").unwrap());
    assert_eq!(app.conn, Conn::Connecting);
    assert!(app.on_live(LiveEvent::Connected { url: "u".into() }));
    for s in three() {
        app.on_live(added(s));
    }
    app.refresh();
    assert_eq!(names(&app), ["bravo full", "Alpha Arena", "Charlie CTF"]);
    // An update moves a server; the selection follows it.
    let mut b = server("a", "openarena", "Alpha Arena", 9, 16);
    b.map = "dm6".into();
    app.on_live(LiveEvent::Server {
        sub: "browse".into(),
        change: glou_client::live::Change::Updated,
        server: b,
    });
    app.refresh();
    assert_eq!(names(&app), ["Alpha Arena", "bravo full", "Charlie CTF"]);
    assert_eq!(
        selected_name(&app),
        "bravo full",
        "the selection follows its server"
    );
    app.on_live(added(server("z", "openarena", "Zulu", 50, 64)));
    app.refresh();
    assert_eq!(selected_name(&app), "bravo full", "selection kept by id");
    app.on_live(removed(server("b", "", "", 0, 0)));
    app.refresh();
    assert_eq!(names(&app), ["Zulu", "Alpha Arena", "Charlie CTF"]);
    assert_eq!(app.total(), 3);
    assert_eq!(app.players_shown(), 59);
    app.on_live(LiveEvent::Disconnected {
        error: "connection refused".into(),
    });
    assert_eq!(
        app.conn,
        Conn::Reconnecting {
            error: "connection refused".into()
        }
    );
    // Lobby and presence events do not concern the browser.
    assert!(!app.on_live(LiveEvent::Friends { names: vec![] }));
}

#[test]
fn filters_narrow_the_list() {
    let mut app = app_with(three());
    app.on_key(ch('e'));
    assert_eq!(names(&app), ["bravo full", "Alpha Arena"]);
    app.on_key(ch('f'));
    assert_eq!(names(&app), ["Alpha Arena"]);
    app.on_key(ch('e'));
    app.on_key(ch('f'));
    app.on_key(ch('p'));
    assert_eq!(names(&app), ["bravo full", "Alpha Arena"]);
    app.on_key(ch('p'));
    // Text: typed after `/`, case-insensitive, live while typing.
    app.on_key(ch('/'));
    assert_eq!(app.mode, Mode::Edit(Field::Text));
    typed(&mut app, "ARE");
    assert_eq!(names(&app), ["Alpha Arena"]);
    app.on_key(key(KeyCode::Backspace));
    app.on_key(key(KeyCode::Backspace));
    assert_eq!(app.filters.text, "A");
    assert_eq!(names(&app), ["bravo full", "Alpha Arena", "Charlie CTF"]);
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::List);
    // Keys typed in the list are commands again, not text.
    app.on_key(ch('/'));
    app.on_key(key(KeyCode::Esc));
    assert_eq!(app.filters.text, "", "Esc clears the field");
    assert_eq!(app.mode, Mode::List);
    // Map and version.
    app.on_key(ch('m'));
    typed(&mut app, "ctf");
    app.on_key(key(KeyCode::Enter));
    assert_eq!(names(&app), ["Charlie CTF"]);
    app.on_key(ch('c'));
    app.on_key(ch('v'));
    typed(&mut app, "0.8");
    app.on_key(key(KeyCode::Enter));
    assert_eq!(names(&app), ["bravo full", "Alpha Arena"]);
    app.on_key(ch('c'));
    assert_eq!(app.filters, Filters::default());
    assert_eq!(app.len(), 3);
}

#[test]
fn the_games_view_chooses_a_game() {
    let mut app = app_with(three());
    app.on_key(ch('g'));
    assert_eq!(app.mode, Mode::Games { cursor: 0 });
    let games = app.games();
    assert_eq!(games[0].game, "openarena");
    assert_eq!((games[0].servers, games[0].players), (2, 7));
    assert_eq!(games[1].game, "teeworlds");
    app.on_key(key(KeyCode::Down));
    app.on_key(key(KeyCode::Down));
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.filters.game.as_deref(), Some("teeworlds"));
    assert_eq!(names(&app), ["Charlie CTF"]);
    // Back to all games: the cursor starts on the chosen game.
    app.on_key(ch('g'));
    assert_eq!(app.mode, Mode::Games { cursor: 2 });
    app.on_key(key(KeyCode::Home));
    app.on_key(key(KeyCode::Enter));
    assert_eq!(app.filters.game, None);
    assert_eq!(app.len(), 3);
    // Esc leaves the filter as it was.
    app.on_key(ch('g'));
    app.on_key(key(KeyCode::Down));
    app.on_key(key(KeyCode::Esc));
    assert_eq!(app.filters.game, None);
    assert_eq!(app.mode, Mode::List);
}

#[test]
fn sorting_by_players_name_ping_and_installed_first() {
    let mut app = app_with(three());
    assert_eq!(app.sort, SortKey::Players);
    app.on_key(ch('s'));
    assert_eq!(app.sort, SortKey::Name);
    assert_eq!(names(&app), ["Alpha Arena", "bravo full", "Charlie CTF"]);
    app.on_key(ch('r'));
    assert_eq!(names(&app), ["Charlie CTF", "bravo full", "Alpha Arena"]);
    app.on_key(ch('s'));
    assert_eq!(app.sort, SortKey::Ping);
    let addr = |name: &str| {
        app.visible()
            .find(|(_, s, _)| s.name == name)
            .map(|(_, s, _)| s.address.parse().unwrap())
            .unwrap()
    };
    let (a, b) = (addr("Alpha Arena"), addr("bravo full"));
    app.on_ping(a, Outcome::Rtt(Duration::from_millis(80)));
    app.on_ping(b, Outcome::Rtt(Duration::from_millis(12)));
    app.refresh();
    // Unknown pings last.
    assert_eq!(names(&app), ["bravo full", "Alpha Arena", "Charlie CTF"]);
    assert_eq!(app.ping(&b.to_string()), Some(Ping::Ms(12)));
    app.on_ping(b, Outcome::Timeout);
    app.refresh();
    assert_eq!(names(&app), ["Alpha Arena", "bravo full", "Charlie CTF"]);
    assert_eq!(ping_label(app.ping(&b.to_string())), "-");
    app.on_key(ch('s'));
    app.on_key(ch('s'));
    assert_eq!(app.sort, SortKey::Players);
    app.on_installed(
        [("teeworlds".to_string(), Installed::Yes)]
            .into_iter()
            .collect(),
    );
    app.on_key(ch('i'));
    assert!(app.installed_first);
    assert_eq!(names(&app), ["Charlie CTF", "bravo full", "Alpha Arena"]);
    assert_eq!(app.games()[0].game, "teeworlds");
    app.on_key(ch('i'));
    assert_eq!(names(&app), ["bravo full", "Alpha Arena", "Charlie CTF"]);
}

#[test]
fn navigation_scrolls_by_row_page_and_end() {
    let servers = (0..25)
        .map(|i| {
            server(
                &format!("id{i:02}"),
                "openarena",
                &format!("s{i:02}"),
                30 - i,
                32,
            )
        })
        .collect();
    let mut app = app_with(servers);
    app.set_page(10);
    assert_eq!(selected_name(&app), "s00");
    app.on_key(ch('j'));
    app.on_key(key(KeyCode::Down));
    assert_eq!(selected_name(&app), "s02");
    app.on_key(ch('k'));
    assert_eq!(selected_name(&app), "s01");
    app.on_key(key(KeyCode::PageDown));
    assert_eq!(selected_name(&app), "s11");
    assert_eq!(names(&app).first().map(String::as_str), Some("s02"));
    assert_eq!(names(&app).len(), 10);
    app.on_key(key(KeyCode::End));
    assert_eq!(selected_name(&app), "s24");
    assert_eq!(names(&app).last().map(String::as_str), Some("s24"));
    app.on_key(key(KeyCode::PageUp));
    assert_eq!(selected_name(&app), "s14");
    app.on_key(key(KeyCode::Home));
    assert_eq!(selected_name(&app), "s00");
    app.on_key(key(KeyCode::Up));
    assert_eq!(selected_name(&app), "s00");
    // A taller terminal shows more; a shorter one keeps the selection on screen.
    app.on_key(key(KeyCode::End));
    app.set_page(3);
    assert_eq!(names(&app), ["s22", "s23", "s24"]);
    app.set_page(40);
    assert_eq!(names(&app).len(), 25);
}

#[test]
fn enter_launches_the_selected_server_and_keys_open_popups() {
    let mut app = app_with(three());
    assert_eq!(
        app.on_key(key(KeyCode::Enter)),
        Action::Launch {
            game: "openarena".into(),
            address: "127.0.0.1:27104".into(),
            name: "bravo full".into(),
        }
    );
    app.on_key(ch('d'));
    assert_eq!(app.mode, Mode::Details { scroll: 0 });
    app.on_key(ch('j'));
    assert_eq!(app.mode, Mode::Details { scroll: 1 });
    assert!(matches!(
        app.on_key(key(KeyCode::Enter)),
        Action::Launch { .. }
    ));
    assert_eq!(app.mode, Mode::List);
    app.on_key(ch('?'));
    assert_eq!(app.mode, Mode::Help);
    assert_eq!(app.on_key(ch('q')), Action::None, "q closes the help first");
    assert_eq!(app.mode, Mode::List);
    assert_eq!(app.on_key(ch('q')), Action::Quit);
    assert_eq!(app.on_key(key(KeyCode::Esc)), Action::Quit);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    app.on_key(ch('/'));
    assert_eq!(app.on_key(ctrl_c), Action::Quit);
    // Nothing listed: Enter does nothing.
    let mut empty = app_with(vec![]);
    assert_eq!(empty.on_key(key(KeyCode::Enter)), Action::None);
    empty.on_key(ch('d'));
    assert_eq!(empty.mode, Mode::List);
}

#[test]
fn ping_targets_are_the_selected_and_visible_pingable_servers() {
    let mut servers = three();
    let mut odd = server("h", "openarena", "hostname address", 1, 2);
    odd.address = "example.org:27960".into();
    let mut civ = server("fc", "freeciv", "civ", 1, 2);
    civ.address = "127.0.0.1:5556".into();
    let mut q3 = server("q", "unknowngame", "via q3 master", 1, 2);
    q3.source = "q3".into();
    q3.address = "127.0.0.1:27999".into();
    servers.extend([odd, civ, q3]);
    let mut app = app_with(servers);
    app.on_key(key(KeyCode::End));
    let targets = app.ping_targets();
    // The selected one first; no hostnames; no game without a ping protocol.
    assert_eq!(
        targets[0],
        (
            app.selected().unwrap().address.parse().unwrap(),
            Proto::Tw07
        )
    );
    assert_eq!(targets.len(), 4);
    assert!(targets.contains(&("127.0.0.1:27999".parse().unwrap(), Proto::Q3)));
    assert!(!targets.iter().any(|(a, _)| a.port() == 5556));
    app.set_page(1);
    assert_eq!(app.ping_targets().len(), 1);
}
