//! Rendering on ratatui's TestBackend: the list, hostile names keeping their columns,
//! details, help, the games view, typed filters and narrow terminals.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use unicode_width::UnicodeWidthStr;

use super::*;
use crate::browse::app::App;
use crate::browse::testutil::{app_with, ch, player, rules, server, typed};

/// Draws `app` on a `w`×`h` test terminal; returns its lines as shown (a wide
/// character once, not followed by the blank cell it covers).
fn render(app: &mut App, w: u16, h: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|frame| draw(frame, app)).unwrap();
    let buf = terminal.backend().buffer().clone();
    (0..h)
        .map(|y| {
            let mut line = String::new();
            let mut x = 0;
            while x < w {
                let symbol = buf[(x, y)].symbol();
                line.push_str(symbol);
                x += u16::try_from(symbol.width().max(1)).unwrap();
            }
            line
        })
        .collect()
}

fn three() -> Vec<glou_client::api::ServerDto<'static>> {
    vec![
        server("a", "openarena", "Alpha Arena", 3, 16),
        server("b", "openarena", "Bravo Base", 4, 8),
        server("c", "teeworlds", "Charlie CTF", 0, 8),
    ]
}

fn find<'a>(lines: &'a [String], needle: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not shown in:\n{}", lines.join("\n")))
}

/// The display column where `needle` starts in `line`.
fn column(line: &str, needle: &str) -> usize {
    line[..line.find(needle).unwrap()].width()
}

#[test]
fn the_list_shows_names_counts_and_the_connection() {
    let mut app = app_with(three());
    let lines = render(&mut app, 100, 12);
    assert!(
        lines[0].contains("3 of 3 servers · 7 players · sort players↓ · game all"),
        "{}",
        lines[0]
    );
    for header in ["Name", "Game", "Map", "Players", "Ping", "Address"] {
        assert!(lines[1].contains(header), "{}", lines[1]);
    }
    // Most players first; counts right-aligned in their column; unknown pings as `-`.
    assert!(
        lines[2].contains("Bravo Base") && lines[2].contains("4/8"),
        "{}",
        lines[2]
    );
    assert!(lines[3].contains("Alpha Arena") && lines[3].contains("3/16"));
    assert!(lines[4].contains("Charlie CTF") && lines[4].contains("teeworlds"));
    let players = column(&lines[1], "Players") + "Players".len();
    assert_eq!(column(&lines[2], "4/8") + 3, players);
    assert_eq!(column(&lines[3], "3/16") + 4, players);
    assert!(lines[3].contains(" - "), "{}", lines[3]);
    assert!(find(&lines, "●").contains("connected to http://127.0.0.1:5680/"));
    assert!(lines[11].contains("? help"), "{}", lines[11]);

    app.on_live(glou_client::live::LiveEvent::Disconnected {
        error: "connection refused".into(),
    });
    let lines = render(&mut app, 100, 12);
    assert!(find(&lines, "●").contains("reconnecting (connection refused)"));
}

#[test]
fn hostile_names_render_inert_and_keep_the_columns() {
    let mut evil = server("e", "openarena", "", 2, 8);
    evil.name = format!(
        "\x1b[2J\x1b]0;pwned\x07evil\u{202e}txt.exe\r\n{}",
        "W".repeat(10_000)
    )
    .into();
    evil.map = "\u{2067}map\u{0008}".into();
    let mut wide = server(
        "w",
        "openarena",
        "名前名前名前名前名前名前名前名前名前名前名前",
        1,
        8,
    );
    wide.address = "127.0.0.1:1".into();
    let mut app = app_with(vec![evil, wide, server("n", "openarena", "Normal", 0, 8)]);
    for (w, h) in [(100, 10), (60, 8), (40, 6)] {
        let lines = render(&mut app, w, h);
        for line in &lines {
            assert!(line.width() <= usize::from(w), "{w}: {line:?}");
            for bad in [
                '\x1b', '\x07', '\r', '\n', '\u{202e}', '\u{2067}', '\u{0008}',
            ] {
                assert!(!line.contains(bad), "{bad:?} in {line:?}");
            }
        }
        let evil_line = find(&lines, "evil");
        assert!(evil_line.contains("\u{fffd}[2J"), "{evil_line}");
        assert!(evil_line.contains('…'), "cut: {evil_line}");
        if w >= 60 {
            // Each row's player count ends in the header's Players column.
            let players = column(&lines[1], "Players") + "Players".len();
            assert_eq!(column(evil_line, "2/8") + 3, players, "{w}");
            assert_eq!(column(find(&lines, "名前"), "1/8") + 3, players, "{w}");
            assert_eq!(column(find(&lines, "Normal"), "0/8") + 3, players, "{w}");
        }
    }
}

#[test]
fn narrow_terminals_drop_columns_and_nothing_breaks_when_tiny() {
    let mut app = app_with(three());
    let wide = render(&mut app, 120, 8);
    assert!(wide[1].contains("Address") && wide[2].contains("127.0.0.1:"));
    let narrow = render(&mut app, 60, 8);
    assert!(!narrow[1].contains("Address") && !narrow[1].contains("Map"));
    assert!(narrow[1].contains("Game") && narrow[2].contains("Bravo Base"));
    for (w, h) in [(1, 1), (5, 3), (20, 4), (30, 30)] {
        render(&mut app, w, h);
    }
    assert_eq!(Columns::for_width(100).name, 100 - 3 - 13 - 15 - 8 - 6 - 22);
    assert_eq!(Columns::for_width(3).name, 0);
}

#[test]
fn details_show_players_rules_source_and_launch() {
    let mut s = server("a", "openarena", "Alpha Arena", 2, 16);
    s.address = "127.0.0.1:27960".into();
    s.source = "peer".into();
    s.origin = Some("friends.example".into());
    s.player_list = vec![
        player("Sarge", 12, 48),
        player("\u{202e}Hostile\x1b[31m", -3, 999),
    ];
    s.rules = rules(&[("g_gametype", "4"), ("sv_hostname", "x\x1by")]);
    let mut app = app_with(vec![s]);
    app.on_key(ch('d'));
    let lines = render(&mut app, 80, 40);
    let screen = lines.join("\n");
    for expect in [
        "Alpha Arena",
        "Address   127.0.0.1:27960",
        "Map       q3dm17",
        "Players   2/16 (0 bots)",
        "Source    peer (from community friends.example)",
        "Ping      -",
        "Launch    \"openarena\" \"+connect\" \"127.0.0.1:27960\"",
        "Players (2)",
        "Sarge",
        "Hostile\u{fffd}[31m",
        "Rules (2)",
        "g_gametype",
        "sv_hostname",
        "x\u{fffd}y",
    ] {
        assert!(screen.contains(expect), "{expect:?} not in:\n{screen}");
    }
    let sarge = find(&lines, "Sarge");
    assert!(sarge.contains("12") && sarge.contains("48"), "{sarge}");
    assert!(!screen.contains('\u{202e}') && !screen.contains('\x1b'));
}

#[test]
fn help_games_and_typed_filters_are_drawn() {
    let mut app = app_with(three());
    app.on_key(ch('?'));
    let screen = render(&mut app, 80, 30).join("\n");
    for expect in [
        "Keys",
        "hide empty servers",
        "installed games first",
        "quit",
    ] {
        assert!(screen.contains(expect), "{expect:?} not in:\n{screen}");
    }
    app.on_key(ch('x'));
    app.on_key(ch('g'));
    let lines = render(&mut app, 80, 20);
    assert!(find(&lines, "all games").contains("(3 servers)"));
    let oa = find(&lines, "2 servers");
    assert!(oa.contains("openarena") && oa.contains("7 players"), "{oa}");
    app.on_key(ratatui::crossterm::event::KeyEvent::from(
        ratatui::crossterm::event::KeyCode::Esc,
    ));
    app.on_key(ch('/'));
    typed(&mut app, "charlie");
    let lines = render(&mut app, 80, 10);
    assert!(
        lines[0].contains("1 of 3 servers") && lines[0].contains("/charlie"),
        "{}",
        lines[0]
    );
    assert!(lines[9].starts_with("search: charlie"), "{}", lines[9]);
    assert!(find(&lines, "Charlie CTF").contains("0/8"));
    assert!(!lines.join("").contains("Bravo"));
}
