//! Drawing the [`App`] with ratatui: a title line with the counts, sort and filters;
//! the server list in fixed columns (narrow terminals drop address, map, then game);
//! the connection state; the key hints; and the games, details and help popups. Every
//! string from the network is made inert and cut to its column here (`text::fit`), so
//! columns stay where they are whatever a server calls itself.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::app::{self, App, Conn, Mode};
use super::installed::Installed;
use super::text::{cut, fit, width};

pub fn draw(frame: &mut Frame, app: &mut App) {
    let [top, list, status, hints] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    // One line of the list is its header.
    app.set_page(usize::from(list.height.saturating_sub(1)));
    draw_title(frame, top, app);
    draw_list(frame, list, app);
    draw_status(frame, status, app);
    draw_hints(frame, hints, app);
    match app.mode {
        Mode::List | Mode::Edit(_) => {}
        Mode::Games { cursor } => draw_games(frame, app, cursor),
        Mode::Details { scroll } => draw_details(frame, app, scroll),
        Mode::Help => draw_help(frame),
    }
}

/// Column widths for a terminal `width` columns wide (0 = column left out).
#[derive(Debug, PartialEq, Eq)]
struct Columns {
    name: usize,
    game: usize,
    map: usize,
    address: usize,
}

const FLAGS: usize = 2;
const PLAYERS: usize = 7;
const PING: usize = 5;

impl Columns {
    fn for_width(width: usize) -> Self {
        let mut c = Columns {
            name: 0,
            game: if width >= 56 { 12 } else { 0 },
            map: if width >= 72 { 14 } else { 0 },
            address: if width >= 92 { 21 } else { 0 },
        };
        let used: usize = [FLAGS, c.game, c.map, PLAYERS, PING, c.address]
            .iter()
            .filter(|w| **w > 0)
            .map(|w| w + 1)
            .sum();
        c.name = width.saturating_sub(used);
        c
    }

    /// One row: each cell cut or padded to its column, one space between columns.
    fn row(&self, cells: [&str; 7]) -> String {
        let [flags, name, game, map, players, ping, address] = cells;
        let mut out = String::new();
        let mut push = |s: &str, w: usize, right: bool| {
            if w == 0 {
                return;
            }
            let s = fit(s, w);
            let pad = " ".repeat(w - width(&s));
            if right {
                out.push_str(&pad);
                out.push_str(&s);
            } else {
                out.push_str(&s);
                out.push_str(&pad);
            }
            out.push(' ');
        };
        push(flags, FLAGS, false);
        push(name, self.name, false);
        push(game, self.game, false);
        push(map, self.map, false);
        push(players, PLAYERS, true);
        push(ping, PING, true);
        push(address, self.address, false);
        out
    }
}

fn draw_title(frame: &mut Frame, area: Rect, app: &App) {
    let arrow = if app.reversed { "↑" } else { "↓" };
    let mut parts = vec![
        format!(
            "Glou · {} of {} servers · {} players · sort {}{arrow}",
            app.len(),
            app.total(),
            app.players_shown(),
            app.sort.label()
        ),
        format!("game {}", app.filters.game.as_deref().unwrap_or("all")),
    ];
    let f = &app.filters;
    for (label, value) in [("/", &f.text), ("map ", &f.map), ("version ", &f.version)] {
        if !value.is_empty() {
            parts.push(format!("{label}{value}"));
        }
    }
    for (on, label) in [
        (f.hide_empty, "no empty"),
        (f.hide_full, "no full"),
        (f.hide_password, "no password"),
        (app.installed_first, "installed first"),
    ] {
        if on {
            parts.push(label.into());
        }
    }
    let line = fit(&parts.join(" · "), usize::from(area.width));
    let style = Style::new().add_modifier(Modifier::BOLD);
    frame.render_widget(Paragraph::new(line).style(style), area);
}

fn draw_list(frame: &mut Frame, area: Rect, app: &App) {
    let cols = Columns::for_width(usize::from(area.width));
    let header = cols.row(["", "Name", "Game", "Map", "Players", "Ping", "Address"]);
    let mut lines = vec![Line::styled(
        header,
        Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD),
    )];
    for (_, s, selected) in app.visible() {
        let installed = match app.installed(&s.game) {
            Installed::Yes => '✓',
            Installed::Unknown if app.installed_known() => '?',
            Installed::Unknown | Installed::No => ' ',
        };
        let password = if s.password { '*' } else { ' ' };
        let flags = format!("{installed}{password}");
        let players = if s.max_players > 0 {
            format!("{}/{}", s.players, s.max_players)
        } else {
            s.players.to_string()
        };
        let ping = app::ping_label(app.ping(&s.address));
        let row = cols.row([
            &flags, &s.name, &s.game, &s.map, &players, &ping, &s.address,
        ]);
        let style = if selected {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        lines.push(Line::styled(row, style));
    }
    if app.len() == 0 {
        let empty = match (&app.conn, app.synced, app.total()) {
            (_, _, n) if n > 0 => "no server matches the filters (c clears them)",
            (Conn::Connected { .. }, true, _) => "no server is listed",
            _ => "waiting for the list…",
        };
        lines.push(Line::raw(cut(empty, usize::from(area.width))));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

fn draw_status(frame: &mut Frame, area: Rect, app: &App) {
    let (state, color) = match &app.conn {
        Conn::Connecting => ("connecting…".to_string(), Color::Yellow),
        Conn::Connected { url } => (format!("connected to {url}"), Color::Green),
        Conn::Reconnecting { error } => (format!("reconnecting ({error})"), Color::Red),
    };
    let mut spans = vec![Span::styled(
        format!(
            "● {}",
            fit(&state, usize::from(area.width).saturating_sub(2))
        ),
        Style::new().fg(color),
    )];
    if let Some(status) = &app.status {
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(
            fit(status, usize::from(area.width)),
            Style::new().add_modifier(Modifier::BOLD),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_hints(frame: &mut Frame, area: Rect, app: &App) {
    let text = match app.mode {
        Mode::Edit(field) => {
            let f = &app.filters;
            let value = match field {
                app::Field::Text => &f.text,
                app::Field::Map => &f.map,
                app::Field::Version => &f.version,
            };
            format!(
                "{}: {}▏  Enter keep · Esc clear",
                field.label(),
                super::text::inert(value)
            )
        }
        Mode::Games { .. } => "↑↓ choose · Enter show this game · Esc back".into(),
        Mode::Details { .. } => "↑↓ scroll · Enter play · Esc back".into(),
        Mode::Help => "any key: back".into(),
        Mode::List => "? help · Enter play · d details · / search · g game · e/f/p hide empty/full/password · s sort · i installed first · q quit".into(),
    };
    let style = Style::new().fg(Color::DarkGray);
    let style = if matches!(app.mode, Mode::Edit(_)) {
        Style::new()
    } else {
        style
    };
    frame.render_widget(
        Paragraph::new(cut(&text, usize::from(area.width))).style(style),
        area,
    );
}

/// A centred popup of at most `w`×`h`, cleared, with a bordered block titled `title`;
/// returns the inside.
fn popup(frame: &mut Frame, title: &str, w: u16, h: u16) -> Rect {
    let area = frame.area();
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    frame.render_widget(Clear, rect);
    let title = fit(title, usize::from(rect.width.saturating_sub(4)));
    let block = Block::new()
        .borders(Borders::ALL)
        .title(format!(" {title} "));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

fn draw_games(frame: &mut Frame, app: &App, cursor: usize) {
    let games = app.games();
    let h = u16::try_from(games.len() + 3).unwrap_or(u16::MAX);
    let inner = popup(frame, "Games", 60, h);
    let w = usize::from(inner.width);
    let all = format!("  all games  ({} servers)", app.total());
    let mut lines = vec![all];
    for g in &games {
        let mark = match g.installed {
            Installed::Yes => "✓ ",
            _ => "  ",
        };
        let name = fit(&g.game, 24);
        let pad = " ".repeat(24 - width(&name));
        lines.push(format!(
            "{mark}{name}{pad} {:>5} servers {:>6} players",
            g.servers, g.players
        ));
    }
    // Keep the cursor on screen.
    let rows = usize::from(inner.height).max(1);
    let first = cursor.saturating_sub(rows - 1);
    let lines: Vec<Line> = lines
        .iter()
        .enumerate()
        .skip(first)
        .map(|(i, l)| {
            let style = if i == cursor {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Line::styled(cut(l, w), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

fn draw_details(frame: &mut Frame, app: &App, scroll: u16) {
    let Some(s) = app.selected() else {
        return;
    };
    let area = frame.area();
    let inner = popup(
        frame,
        &s.name,
        area.width.saturating_sub(4).max(20),
        area.height.saturating_sub(2),
    );
    let w = usize::from(inner.width);
    let mut lines: Vec<String> = Vec::new();
    let mut field = |label: &str, value: &str| lines.push(format!("{label:<10}{value}"));
    field("Name", &s.name);
    field("Game", &s.game);
    field("Address", &s.address);
    field("Map", &s.map);
    field(
        "Players",
        &format!("{}/{} ({} bots)", s.players, s.max_players, s.bots),
    );
    field("Password", if s.password { "yes" } else { "no" });
    field("Version", &s.version);
    field("Protocol", &s.protocol);
    let source = match &s.origin {
        Some(origin) => format!("{} (from community {origin})", s.source),
        None => s.source.to_string(),
    };
    field("Source", &source);
    field("Ping", &app::ping_detail(app.ping(&s.address)));
    let installed = match app.installed(&s.game) {
        Installed::Yes => "yes",
        Installed::No => "no",
        Installed::Unknown => "unknown",
    };
    field("Installed", installed);
    let launch = match app.config.argv(&s.game, &s.address, &s.name) {
        Ok(argv) => argv
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" "),
        Err(e) => e.to_string(),
    };
    field("Launch", &launch);
    field("Last seen", &s.last_seen);
    lines.push(String::new());
    lines.push(format!("Players ({})", s.player_list.len()));
    let name_w = w.saturating_sub(16).clamp(1, 32);
    for p in &s.player_list {
        let name = fit(&p.name, name_w);
        let pad = " ".repeat(name_w - width(&name));
        lines.push(format!("  {name}{pad} {:>6} {:>5}", p.score, p.ping));
    }
    lines.push(String::new());
    lines.push(format!("Rules ({})", s.rules.0.len()));
    for (k, v) in &s.rules.0 {
        let key = fit(k, 24);
        lines.push(format!("  {key} = {}", super::text::inert(v)));
    }
    // Everything is cut to the width here: nothing wraps, nothing spills.
    let lines: Vec<Line> = lines.iter().map(|l| Line::raw(fit(l, w))).collect();
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn draw_help(frame: &mut Frame) {
    const KEYS: [(&str, &str); 21] = [
        ("↑ ↓  j k", "move"),
        ("PgUp PgDn", "a page up or down"),
        ("Home End", "first or last server"),
        ("Enter", "play: start the game's client on this server"),
        ("d Space", "details: players, rules, source, launch command"),
        ("/", "search server names (Enter keep, Esc clear)"),
        ("m", "filter by map"),
        ("v", "filter by version"),
        ("g", "games: choose one game, or all"),
        ("e", "hide empty servers"),
        ("f", "hide full servers"),
        ("p", "hide password-protected servers"),
        ("c", "clear every filter"),
        ("s", "sort by players, name, ping, game"),
        ("r", "reverse the sort"),
        ("i", "installed games first"),
        ("?", "this help"),
        ("q Esc", "quit"),
        ("", ""),
        ("✓ / *", "game installed / password needed"),
        ("Ping", "milliseconds; - unknown or no answer"),
    ];
    let inner = popup(frame, "Keys", 64, KEYS.len() as u16 + 2);
    let w = usize::from(inner.width);
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, v)| Line::raw(cut(&format!("{k:<12}{v}"), w)))
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests;
