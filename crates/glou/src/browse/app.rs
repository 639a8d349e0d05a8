//! The browser's state, with no terminal and no IO: the servers the live list holds,
//! filters, sort, selection and scrolling, the mode (list, text entry, games, details,
//! help), pings and installed games. Keys come in as crossterm `KeyEvent`s (plain data)
//! and go out as [`Action`]s for the loop in `mod.rs` to carry out.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use glou_client::api::ServerDto;
use glou_client::live::{Change, LiveEvent};

use super::config::Config;
use super::installed::Installed;
use super::ping::{Outcome, Proto};

/// Longest text filter typed.
const MAX_FILTER: usize = 64;

/// The live connection, as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conn {
    Connecting,
    Connected { url: String },
    Reconnecting { error: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Players,
    Name,
    Ping,
    Game,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Players => "players",
            SortKey::Name => "name",
            SortKey::Ping => "ping",
            SortKey::Game => "game",
        }
    }

    fn next(self) -> Self {
        match self {
            SortKey::Players => SortKey::Name,
            SortKey::Name => SortKey::Ping,
            SortKey::Ping => SortKey::Game,
            SortKey::Game => SortKey::Players,
        }
    }
}

/// A text filter being typed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `/`: text in the name.
    Text,
    /// `m`: text in the map.
    Map,
    /// `v`: text in the version.
    Version,
}

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Text => "search",
            Field::Map => "map",
            Field::Version => "version",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    List,
    Edit(Field),
    /// The games view; `cursor` 0 is "all games".
    Games {
        cursor: usize,
    },
    Details {
        scroll: u16,
    },
    Help,
}

/// What the loop must do after a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    /// Start the client of `game` on the server at `address`.
    Launch {
        game: String,
        address: String,
        name: String,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub game: Option<String>,
    pub text: String,
    pub map: String,
    pub version: String,
    pub hide_empty: bool,
    pub hide_full: bool,
    pub hide_password: bool,
}

/// A game of the games view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GameRow {
    pub game: String,
    pub servers: usize,
    pub players: u64,
    pub installed: Installed,
}

/// A ping as shown: unknown (never answered yet, or not pingable), a time, or lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ping {
    Ms(u32),
    Lost,
}

#[derive(Debug)]
pub struct App {
    pub config: Config,
    servers: HashMap<String, ServerDto<'static>>,
    /// Ids of the servers shown, filtered and sorted (rebuilt when `dirty`).
    view: Vec<String>,
    dirty: bool,
    pub filters: Filters,
    pub sort: SortKey,
    /// Reverse the sort's natural order.
    pub reversed: bool,
    pub installed_first: bool,
    selected: usize,
    selected_id: Option<String>,
    offset: usize,
    /// Rows the list shows (set by the renderer).
    page: usize,
    pub mode: Mode,
    pub conn: Conn,
    /// The list has been in step with the server at least once.
    pub synced: bool,
    /// A message for the status line (launch results, refusals).
    pub status: Option<String>,
    pings: HashMap<String, Ping>,
    installed: BTreeMap<String, Installed>,
}

impl App {
    pub fn new(config: Config) -> Self {
        App {
            config,
            servers: HashMap::new(),
            view: Vec::new(),
            dirty: false,
            filters: Filters::default(),
            sort: SortKey::Players,
            reversed: false,
            installed_first: false,
            selected: 0,
            selected_id: None,
            offset: 0,
            page: 10,
            mode: Mode::List,
            conn: Conn::Connecting,
            synced: false,
            status: None,
            pings: HashMap::new(),
            installed: BTreeMap::new(),
        }
    }

    // --- what comes in ---

    /// Applies what the live connection reports. Returns whether anything shown changed.
    pub fn on_live(&mut self, event: LiveEvent) -> bool {
        match event {
            LiveEvent::Connected { url } => self.conn = Conn::Connected { url },
            LiveEvent::Disconnected { error } => self.conn = Conn::Reconnecting { error },
            LiveEvent::Server { change, server, .. } => {
                match change {
                    Change::Added | Change::Updated => {
                        self.servers.insert(server.id.to_string(), server);
                    }
                    Change::Removed => {
                        self.servers.remove(server.id.as_ref());
                    }
                }
                self.dirty = true;
            }
            LiveEvent::Synced { .. } => self.synced = true,
            LiveEvent::Refused { error, .. } => {
                self.status = Some(format!("refused by the server: {}", error.message));
            }
            LiveEvent::Session { .. }
            | LiveEvent::Friends { .. }
            | LiveEvent::Presence { .. }
            | LiveEvent::Lobby { .. } => return false,
        }
        true
    }

    /// A ping's result for a server address.
    pub fn on_ping(&mut self, addr: SocketAddr, outcome: Outcome) {
        let ping = match outcome {
            Outcome::Rtt(d) => Ping::Ms(u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
            Outcome::Timeout => Ping::Lost,
        };
        self.pings.insert(addr.to_string(), ping);
        if self.sort == SortKey::Ping {
            self.dirty = true;
        }
    }

    pub fn on_installed(&mut self, installed: BTreeMap<String, Installed>) {
        self.installed = installed;
        self.dirty = true;
    }

    /// The rows the list can show (the renderer calls this with the list's height).
    pub fn set_page(&mut self, rows: usize) {
        self.page = rows.max(1);
        self.refresh();
        self.scroll_to_selection();
    }

    // --- what is shown ---

    /// Rebuilds the view if servers, filters or sort changed, keeping the selected
    /// server selected.
    pub fn refresh(&mut self) {
        if !self.dirty {
            return;
        }
        self.dirty = false;
        let mut view: Vec<&ServerDto<'static>> =
            self.servers.values().filter(|s| self.matches(s)).collect();
        view.sort_by(|a, b| self.compare(a, b));
        self.view = view.iter().map(|s| s.id.to_string()).collect();
        let found = self
            .selected_id
            .as_ref()
            .and_then(|id| self.view.iter().position(|v| v == id));
        self.selected = found.unwrap_or(self.selected.min(self.view.len().saturating_sub(1)));
        self.selected_id = self.view.get(self.selected).cloned();
        self.scroll_to_selection();
    }

    fn matches(&self, s: &ServerDto<'_>) -> bool {
        let f = &self.filters;
        f.game.as_ref().is_none_or(|g| s.game == *g)
            && contains(&s.name, &f.text)
            && contains(&s.map, &f.map)
            && contains(&s.version, &f.version)
            && !(f.hide_empty && s.players == 0)
            && !(f.hide_full && s.max_players > 0 && s.players >= s.max_players)
            && !(f.hide_password && s.password)
    }

    fn compare(&self, a: &ServerDto<'_>, b: &ServerDto<'_>) -> Ordering {
        let installed = if self.installed_first {
            self.installed(&a.game).cmp(&self.installed(&b.game))
        } else {
            Ordering::Equal
        };
        let natural = match self.sort {
            SortKey::Players => b.players.cmp(&a.players),
            SortKey::Name => cmp_folded(&a.name, &b.name),
            // Unknown pings last, whichever the direction.
            SortKey::Ping => {
                let ms = |s: &ServerDto<'_>| match self.ping(&s.address) {
                    Some(Ping::Ms(ms)) => ms,
                    _ => u32::MAX,
                };
                ms(a).cmp(&ms(b))
            }
            SortKey::Game => a.game.cmp(&b.game).then(b.players.cmp(&a.players)),
        };
        let natural = if self.reversed {
            natural.reverse()
        } else {
            natural
        };
        installed
            .then(natural)
            .then_with(|| cmp_folded(&a.name, &b.name))
            .then_with(|| a.address.cmp(&b.address))
            .then_with(|| a.id.cmp(&b.id))
    }

    /// The servers shown, in order.
    pub fn len(&self) -> usize {
        self.view.len()
    }

    /// All servers listed, shown or not.
    pub fn total(&self) -> usize {
        self.servers.len()
    }

    /// Players on the servers shown.
    pub fn players_shown(&self) -> u64 {
        self.view
            .iter()
            .filter_map(|id| self.servers.get(id))
            .map(|s| u64::from(s.players))
            .sum()
    }

    /// The rows on screen: `(index, server, selected)`.
    pub fn visible(&self) -> impl Iterator<Item = (usize, &ServerDto<'static>, bool)> {
        let end = (self.offset + self.page).min(self.view.len());
        (self.offset..end)
            .filter_map(move |i| Some((i, self.servers.get(&self.view[i])?, i == self.selected)))
    }

    pub fn selected(&self) -> Option<&ServerDto<'static>> {
        self.view
            .get(self.selected)
            .and_then(|id| self.servers.get(id))
    }

    pub fn ping(&self, address: &str) -> Option<Ping> {
        self.pings.get(address).copied()
    }

    pub fn installed(&self, game: &str) -> Installed {
        self.installed
            .get(game)
            .copied()
            .unwrap_or(Installed::Unknown)
    }

    /// Whether installed detection has run (before, nothing is marked).
    pub fn installed_known(&self) -> bool {
        !self.installed.is_empty()
    }

    /// The games view: every game listed, and every configured game found installed.
    pub fn games(&self) -> Vec<GameRow> {
        let mut games: BTreeMap<&str, GameRow> = BTreeMap::new();
        for s in self.servers.values() {
            let row = games.entry(&s.game).or_insert_with(|| GameRow {
                game: s.game.to_string(),
                servers: 0,
                players: 0,
                installed: self.installed(&s.game),
            });
            row.servers += 1;
            row.players += u64::from(s.players);
        }
        for (game, state) in &self.installed {
            if *state == Installed::Yes {
                games.entry(game).or_insert_with(|| GameRow {
                    game: game.clone(),
                    servers: 0,
                    players: 0,
                    installed: Installed::Yes,
                });
            }
        }
        let mut rows: Vec<GameRow> = games.into_values().collect();
        rows.sort_by(|a, b| {
            let installed = if self.installed_first {
                a.installed.cmp(&b.installed)
            } else {
                Ordering::Equal
            };
            installed
                .then(b.players.cmp(&a.players))
                .then(b.servers.cmp(&a.servers))
                .then_with(|| a.game.cmp(&b.game))
        });
        rows
    }

    /// What to ping: the selected server, then the rows on screen, when their game
    /// (or source) has a ping protocol and their address is a literal `IP:port`.
    pub fn ping_targets(&self) -> Vec<(SocketAddr, Proto)> {
        let mut out: Vec<(SocketAddr, Proto)> = Vec::new();
        let selected = self.selected().into_iter();
        let rows = self.visible().map(|(_, s, _)| s);
        for s in selected.chain(rows) {
            let Ok(addr) = s.address.parse::<SocketAddr>() else {
                continue;
            };
            if let Some(proto) = self.config.ping_proto(&s.game, &s.source)
                && !out.iter().any(|(a, _)| *a == addr)
            {
                out.push((addr, proto));
            }
        }
        out
    }

    fn scroll_to_selection(&mut self) {
        let len = self.view.len();
        self.offset = self.offset.min(len.saturating_sub(self.page));
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + self.page {
            self.offset = self.selected + 1 - self.page;
        }
    }
}

/// Case-insensitive "contains"; an empty needle matches everything.
fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || fold(haystack).contains(&fold(needle))
}

fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Compares ignoring case, allocating nothing (sorting 50,000 names stays quick).
fn cmp_folded(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

/// A ping for the list: milliseconds, or `-` when unknown or lost.
pub fn ping_label(ping: Option<Ping>) -> String {
    match ping {
        Some(Ping::Ms(ms)) => ms.to_string(),
        Some(Ping::Lost) | None => "-".into(),
    }
}

/// A ping for the details pane.
pub fn ping_detail(ping: Option<Ping>) -> String {
    match ping {
        Some(Ping::Ms(ms)) => format!("{ms} ms"),
        Some(Ping::Lost) => format!("no answer within {} s", super::ping::TIMEOUT.as_secs_f32()),
        None => "-".into(),
    }
}

mod keys;
#[cfg(test)]
mod tests;
