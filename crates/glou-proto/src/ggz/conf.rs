//! GGZ's INI files, as libggz `conf.c` reads them: game descriptions (`.dsc`) and rooms
//! (`.room`), plus the GGZ number list (`numberlist.c`) used for seat counts. Pure
//! parsing of text already read; finding, reading and watching the files is the server's.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest game name ggzd accepts (`MAX_GAME_NAME_LEN`), in characters.
pub const MAX_GAME_NAME_LEN: usize = 64;
/// `MaxPlayers` of a room that gives none (`DEFAULT_MAX_ROOM_USERS`).
pub const DEFAULT_MAX_ROOM_PLAYERS: u32 = 100;
/// `MaxTables` of a room that gives none (`DEFAULT_MAX_ROOM_TABLES`).
pub const DEFAULT_MAX_ROOM_TABLES: u32 = 50;

/// A parsed INI file: `[Section]` headers, then `Key = Value` (or `Key Value`) lines;
/// `#` starts a comment line. Sections and keys keep their spelling and file order and
/// are looked up ignoring ASCII case. A key repeated in a section replaces the earlier
/// value; a section repeated continues the earlier one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IniFile {
    sections: Vec<Section>,
}

/// A game description, a `.dsc` file (ggzd `parse_opt.c parse_game`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GameDescription {
    /// `[GameInfo] Name`: the game's identity, also its statistics key. Required.
    pub name: String,
    pub version: String,
    pub description: String,
    pub author: String,
    pub homepage: String,
    /// `[LaunchInfo] ExecutablePath`, split: the program (relative to the game directory
    /// unless absolute), then its arguments. Never empty.
    pub executable: Vec<String>,
    /// `[Protocol] Engine`, matched by clients against their game modules.
    pub engine: String,
    /// `[Protocol] Version`.
    pub engine_version: String,
    pub allow_leave: bool,
    pub kill_when_empty: bool,
    pub players_allowed: NumberList,
    pub bots_allowed: NumberList,
    pub allow_spectators: bool,
    pub allow_peers: bool,
    pub allow_restore: bool,
    /// `[Statistics] Records`: wins, losses, ties and forfeits.
    pub records: bool,
    pub ratings: bool,
    pub highscores: bool,
    /// `[NamedBots]`: (bot name, bot class), in file order.
    pub named_bots: Vec<(String, String)>,
    /// `Name[lang]`, by language as written (`de`, `en_AU`).
    pub name_translations: BTreeMap<String, String>,
    /// `Description[lang]`.
    pub description_translations: BTreeMap<String, String>,
}

/// A room, a `.room` file (ggzd `parse_opt.c parse_room`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomDescription {
    /// `[RoomInfo] Name`. Required.
    pub name: String,
    pub description: String,
    /// The `Name` of a game description; `None` for a chat-only room (`GameType = None`,
    /// or no `GameType`). Whether the game exists is for the caller to check.
    pub game_type: Option<String>,
    pub max_players: u32,
    /// 0 is valid: no tables (the entry room).
    pub max_tables: u32,
    /// Appended to the game's `ExecutablePath` for tables of this room.
    pub executable_args: Vec<String>,
    pub entry_restriction: EntryRestriction,
    pub name_translations: BTreeMap<String, String>,
    pub description_translations: BTreeMap<String, String>,
}

/// Who may enter a room (`EntryRestriction`, any case).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum EntryRestriction {
    #[default]
    None,
    /// Needs the `rooms_login` permission: registered players.
    Registered,
    /// Needs the `rooms_admin` permission.
    Admin,
}

/// A GGZ number list: values from 1 to 32 and at most one range `a..b` (a < b), written
/// `2`, `2 3 4`, `1..3`, `2..4 6` or empty. As in libggz, a value 0 is ignored (shipped
/// files have `BotsAllowed = 0`) and so is a range's start 0 (`0..3` is `1..3`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NumberList {
    /// Bit `n - 1` set: value `n` is in the list.
    values: u32,
    range: Option<(u32, u32)>,
}

/// Why a GGZ INI file or number list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfError {
    /// A line that is neither blank, a comment, a `[Section]` header nor a key.
    #[error("line {line}: {expected}")]
    Syntax { line: usize, expected: String },
    /// A required key is absent.
    #[error("[{section}] {key}: missing, expected {expected}")]
    Missing {
        section: &'static str,
        key: &'static str,
        expected: &'static str,
    },
    /// A value that does not fit its key.
    #[error("line {line}: [{section}] {key}: {reason}")]
    Value {
        line: usize,
        section: &'static str,
        key: &'static str,
        reason: String,
    },
    /// A malformed number list.
    #[error("number list {text:?}: {reason}")]
    NumberList { text: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Section {
    name: String,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    key: String,
    value: String,
    line: usize,
}

impl IniFile {
    /// Parses a whole file. Errors name the 1-based line.
    pub fn parse(text: &str) -> Result<Self, ConfError> {
        let mut ini = IniFile::default();
        let mut current: Option<usize> = None;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let syntax = |expected: String| ConfError::Syntax { line, expected };
            let trimmed = raw.trim_matches([' ', '\t', '\r']);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if let Some(header) = trimmed.strip_prefix('[') {
                let name = header.strip_suffix(']').ok_or_else(|| {
                    syntax("unterminated section header, expected `]` at its end".into())
                })?;
                let name = name.trim_matches([' ', '\t']);
                if name.is_empty() {
                    return Err(syntax("expected a section name between `[` and `]`".into()));
                }
                current = Some(match ini.section_index(name) {
                    Some(index) => index,
                    None => {
                        ini.sections.push(Section {
                            name: name.to_owned(),
                            entries: Vec::new(),
                        });
                        ini.sections.len() - 1
                    }
                });
                continue;
            }
            let (key, value) = match trimmed.split_once('=') {
                Some((key, value)) => (key, value),
                None => trimmed.split_once([' ', '\t']).ok_or_else(|| {
                    syntax(format!("expected `Key = Value`, got {}", show(trimmed)))
                })?,
            };
            let (key, value) = (
                key.trim_matches([' ', '\t']),
                value.trim_matches([' ', '\t']),
            );
            if key.is_empty() {
                return Err(syntax("expected a key before `=`".into()));
            }
            let Some(section) = current.and_then(|index| ini.sections.get_mut(index)) else {
                return Err(syntax(format!(
                    "key {} outside any section, expected a `[Section]` header first",
                    show(key)
                )));
            };
            let entry = Entry {
                key: key.to_owned(),
                value: value.to_owned(),
                line,
            };
            match section
                .entries
                .iter_mut()
                .find(|e| e.key.eq_ignore_ascii_case(key))
            {
                Some(old) => *old = entry,
                None => section.entries.push(entry),
            }
        }
        Ok(ini)
    }

    /// The value of `key` in `section` (`Name[de]` for a translation).
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        self.entry(section, key).map(|e| e.value.as_str())
    }

    /// The line `key` was read from, for the caller's own messages.
    pub fn line(&self, section: &str, key: &str) -> Option<usize> {
        self.entry(section, key).map(|e| e.line)
    }

    /// The value of `key` split on spaces and tabs; `\` escapes the next character (so
    /// `\ ` is a space within an item). Empty if the key is absent or blank.
    pub fn list(&self, section: &str, key: &str) -> Vec<String> {
        self.get(section, key).map(split_list).unwrap_or_default()
    }

    /// Every key of `section` with its value, as written and in file order, translated
    /// keys (`Name[de]`) included.
    pub fn keys(&self, section: &str) -> impl Iterator<Item = (&str, &str)> {
        let section = self
            .section_index(section)
            .and_then(|i| self.sections.get(i));
        let entries = section.map_or(&[][..], |s| s.entries.as_slice());
        entries.iter().map(|e| (e.key.as_str(), e.value.as_str()))
    }

    /// The section names, as written and in file order.
    pub fn sections(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }

    /// The translations of `key` in `section`: (language, value) of each `key[language]`.
    pub fn translations(&self, section: &str, key: &str) -> BTreeMap<String, String> {
        let split = |k: &str| {
            let (base, lang) = k.strip_suffix(']')?.split_once('[')?;
            base.eq_ignore_ascii_case(key).then(|| lang.to_owned())
        };
        let pairs = self.keys(section);
        pairs
            .filter_map(|(k, v)| Some((split(k)?, v.to_owned())))
            .collect()
    }

    fn section_index(&self, name: &str) -> Option<usize> {
        self.sections
            .iter()
            .position(|s| s.name.eq_ignore_ascii_case(name))
    }

    fn entry(&self, section: &str, key: &str) -> Option<&Entry> {
        let section = self.sections.get(self.section_index(section)?)?;
        section
            .entries
            .iter()
            .find(|e| e.key.eq_ignore_ascii_case(key))
    }

    /// A non-blank value, or `None`.
    fn value(&self, section: &str, key: &str) -> Option<&str> {
        self.get(section, key).filter(|v| !v.is_empty())
    }

    /// An integer; absent or blank gives `None`.
    fn int(&self, section: &'static str, key: &'static str) -> Result<Option<i64>, ConfError> {
        let Some(v) = self.value(section, key) else {
            return Ok(None);
        };
        let n = v.parse::<i64>();
        n.map(Some).map_err(|_| {
            self.bad(
                section,
                key,
                format!("expected an integer, got {}", show(v)),
            )
        })
    }

    /// `0` is false, any other integer true (libggz reads these with `atoi`).
    fn flag(
        &self,
        section: &'static str,
        key: &'static str,
        default: bool,
    ) -> Result<bool, ConfError> {
        let n = self.int(section, key).map_err(|_| {
            let v = self.get(section, key).unwrap_or_default();
            self.bad(section, key, format!("expected 0 or 1, got {}", show(v)))
        })?;
        Ok(n.map_or(default, |n| n != 0))
    }

    fn numbers(
        &self,
        section: &'static str,
        key: &'static str,
        default: &str,
    ) -> Result<NumberList, ConfError> {
        let text = self.get(section, key).unwrap_or(default);
        NumberList::parse(text).map_err(|e| self.bad(section, key, e.to_string()))
    }

    fn string(&self, section: &str, key: &str) -> String {
        self.get(section, key).unwrap_or_default().to_owned()
    }

    fn bad(&self, section: &'static str, key: &'static str, reason: String) -> ConfError {
        let line = self.line(section, key).unwrap_or(0);
        ConfError::Value {
            line,
            section,
            key,
            reason,
        }
    }
}

impl GameDescription {
    /// Parses a `.dsc` file; defaults as ggzd's: AllowLeave 0, KillWhenEmpty 1,
    /// PlayersAllowed `1`, BotsAllowed empty, everything else 0 or empty.
    pub fn parse(text: &str) -> Result<Self, ConfError> {
        let ini = IniFile::parse(text)?;
        let name = ini.value("GameInfo", "Name").ok_or(ConfError::Missing {
            section: "GameInfo",
            key: "Name",
            expected: "the game's name",
        })?;
        let length = name.chars().count();
        if length > MAX_GAME_NAME_LEN {
            let reason = format!("{length} characters, expected at most {MAX_GAME_NAME_LEN}");
            return Err(ini.bad("GameInfo", "Name", reason));
        }
        let executable = ini.list("LaunchInfo", "ExecutablePath");
        if executable.is_empty() {
            return Err(ConfError::Missing {
                section: "LaunchInfo",
                key: "ExecutablePath",
                expected: "the game server's program",
            });
        }
        let (table, stats) = ("TableOptions", "Statistics");
        Ok(GameDescription {
            name: name.to_owned(),
            version: ini.string("GameInfo", "Version"),
            description: ini.string("GameInfo", "Description"),
            author: ini.string("GameInfo", "Author"),
            homepage: ini.string("GameInfo", "Homepage"),
            executable,
            engine: ini.string("Protocol", "Engine"),
            engine_version: ini.string("Protocol", "Version"),
            allow_leave: ini.flag(table, "AllowLeave", false)?,
            kill_when_empty: ini.flag(table, "KillWhenEmpty", true)?,
            players_allowed: ini.numbers(table, "PlayersAllowed", "1")?,
            bots_allowed: ini.numbers(table, "BotsAllowed", "")?,
            allow_spectators: ini.flag(table, "AllowSpectators", false)?,
            allow_peers: ini.flag(table, "AllowPeers", false)?,
            allow_restore: ini.flag(table, "AllowRestore", false)?,
            records: ini.flag(stats, "Records", false)?,
            ratings: ini.flag(stats, "Ratings", false)?,
            highscores: ini.flag(stats, "Highscores", false)?,
            named_bots: ini
                .keys("NamedBots")
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            name_translations: ini.translations("GameInfo", "Name"),
            description_translations: ini.translations("GameInfo", "Description"),
        })
    }
}

impl RoomDescription {
    /// Parses a `.room` file; MaxPlayers 0 or absent is 100, MaxTables absent is 50.
    pub fn parse(text: &str) -> Result<Self, ConfError> {
        let ini = IniFile::parse(text)?;
        const S: &str = "RoomInfo";
        let name = ini.value(S, "Name").ok_or(ConfError::Missing {
            section: S,
            key: "Name",
            expected: "the room's name",
        })?;
        let count = |key: &'static str, default: u32, zero: u32| match ini.int(S, key)? {
            None => Ok(default),
            Some(0) => Ok(zero),
            Some(n) => u32::try_from(n).map_err(|_| {
                ini.bad(
                    S,
                    key,
                    format!("expected a count from 0 to {}, got {n}", u32::MAX),
                )
            }),
        };
        let entry_restriction = match ini.value(S, "EntryRestriction") {
            None => EntryRestriction::None,
            Some(v) if v.eq_ignore_ascii_case("none") => EntryRestriction::None,
            Some(v) if v.eq_ignore_ascii_case("registered") => EntryRestriction::Registered,
            Some(v) if v.eq_ignore_ascii_case("admin") => EntryRestriction::Admin,
            Some(v) => {
                let reason = format!("expected None, Registered or Admin, got {}", show(v));
                return Err(ini.bad(S, "EntryRestriction", reason));
            }
        };
        Ok(RoomDescription {
            name: name.to_owned(),
            description: ini.string(S, "Description"),
            game_type: ini
                .value(S, "GameType")
                .filter(|g| !g.eq_ignore_ascii_case("none"))
                .map(str::to_owned),
            max_players: count(
                "MaxPlayers",
                DEFAULT_MAX_ROOM_PLAYERS,
                DEFAULT_MAX_ROOM_PLAYERS,
            )?,
            max_tables: count("MaxTables", DEFAULT_MAX_ROOM_TABLES, 0)?,
            executable_args: ini.list(S, "ExecutableArgs"),
            entry_restriction,
            name_translations: ini.translations(S, "Name"),
            description_translations: ini.translations(S, "Description"),
        })
    }
}

impl NumberList {
    /// Parses a number list; see the type for the syntax.
    pub fn parse(s: &str) -> Result<Self, ConfError> {
        let fail = |reason: String| ConfError::NumberList {
            text: s.chars().take(80).collect(),
            reason,
        };
        let mut list = NumberList::default();
        for token in s.split_ascii_whitespace() {
            if let Some((lo, hi)) = token.split_once("..") {
                let (Ok(lo), Ok(hi)) = (lo.parse::<u32>(), hi.parse::<u32>()) else {
                    return Err(fail(format!(
                        "expected a range `a..b` of counts, got {}",
                        show(token)
                    )));
                };
                if lo >= hi {
                    return Err(fail(format!(
                        "expected a range's start below its end, got {token}"
                    )));
                }
                if list.range.is_some() {
                    return Err(fail("expected at most one range".into()));
                }
                match lo.max(1) {
                    lo if lo == hi => list.values |= 1 << (hi - 1), // `0..1`
                    lo => list.range = Some((lo, hi)),
                }
            } else {
                let n = token.parse::<u32>().ok().filter(|&n| n <= 32);
                let Some(n) = n else {
                    return Err(fail(format!(
                        "expected values from 1 to 32 or a range `a..b`, got {}",
                        show(token)
                    )));
                };
                let bit = match n {
                    0 => continue,
                    n => 1u32 << (n - 1),
                };
                if list.values & bit != 0 {
                    return Err(fail(format!("expected each value once, got {n} twice")));
                }
                list.values |= bit;
            }
        }
        Ok(list)
    }

    pub fn contains(&self, n: u32) -> bool {
        let in_range = self.range.is_some_and(|(lo, hi)| (lo..=hi).contains(&n));
        let in_values = (1..=32).contains(&n) && self.values & (1 << (n - 1)) != 0;
        in_range || in_values
    }

    /// The largest count in the list.
    pub fn max(&self) -> Option<u32> {
        let top = (self.values != 0).then(|| 32 - self.values.leading_zeros());
        top.max(self.range.map(|(_, hi)| hi))
    }

    /// The smallest count in the list.
    pub fn min(&self) -> Option<u32> {
        let bottom = (self.values != 0).then(|| self.values.trailing_zeros() + 1);
        let lo = self.range.map(|(lo, _)| lo);
        bottom.into_iter().chain(lo).min()
    }

    pub fn is_empty(&self) -> bool {
        self.values == 0 && self.range.is_none()
    }
}

/// As ggzd writes it on the wire: the values in increasing order, then the range.
impl fmt::Display for NumberList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for n in (1..=32).filter(|&n| self.values & (1 << (n - 1)) != 0) {
            write!(f, "{sep}{n}")?;
            sep = " ";
        }
        match self.range {
            Some((lo, hi)) => write!(f, "{sep}{lo}..{hi}"),
            None => Ok(()),
        }
    }
}

impl TryFrom<String> for NumberList {
    type Error = ConfError;

    fn try_from(s: String) -> Result<Self, ConfError> {
        NumberList::parse(&s)
    }
}

impl From<NumberList> for String {
    fn from(list: NumberList) -> String {
        list.to_string()
    }
}

/// Splits a list value on unescaped spaces and tabs, removing the escapes.
fn split_list(value: &str) -> Vec<String> {
    let (mut items, mut item, mut in_item) = (Vec::new(), String::new(), false);
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    item.push(next);
                    in_item = true;
                }
            }
            ' ' | '\t' => {
                if in_item {
                    items.push(std::mem::take(&mut item));
                    in_item = false;
                }
            }
            c => {
                item.push(c);
                in_item = true;
            }
        }
    }
    if in_item {
        items.push(item);
    }
    items
}

/// Quotes input for a message, cut to 40 characters.
fn show(text: &str) -> String {
    let mut cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As ggzd trunk ships `ggzd/game_servers/tictactoe/tictactoe.dsc`.
    const TICTACTOE_DSC: &str = "[GameInfo]
Author = Brent Hendricks
Description = Simple GGZ game module for playing Tic-Tac-Toe
Description[de] = Einfaches GGZ-Spielmodul für Tic-Tac-Toe
Homepage = http://www.ggzgamingzone.org/gameservers/tictactoe/
Name = TicTacToe
Name[en_AU] = RicRacRoo
Version = 0.0.10

[LaunchInfo]
ExecutablePath = ggzd.tictactoe
# Set ExecutableArgs in the room file

[Protocol]
Engine = TicTacToe
Version = dio/5+dev

[TableOptions]
AllowLeave = 1
BotsAllowed = 1
PlayersAllowed = 2
AllowSpectators = 1
AllowRestore = 1

[Statistics]
Records = 1

[NamedBots]
Alfred = easy
Tarantula = hard
";

    const ENTRY_ROOM: &str = "[RoomInfo]
Name = Entry Room
Name[de] = Eingangsbereich
Description = A place to meet and choose a game room
GameType = None
MaxPlayers = 100
MaxTables = 0
";

    const TICTACTOE_ROOM: &str = "[RoomInfo]
# This is the short name for the room
Name = Tic-Tac-Toe
Description = Example Tic-Tac-Toe Room
GameType = TicTacToe
#ExecutableArgs =

MaxPlayers = 150
MaxTables = 45
";

    #[test]
    fn tictactoe_dsc() {
        let g = GameDescription::parse(TICTACTOE_DSC).unwrap();
        assert_eq!(
            (g.name.as_str(), g.version.as_str(), g.author.as_str()),
            ("TicTacToe", "0.0.10", "Brent Hendricks")
        );
        assert_eq!(
            g.description,
            "Simple GGZ game module for playing Tic-Tac-Toe"
        );
        assert_eq!(
            g.homepage,
            "http://www.ggzgamingzone.org/gameservers/tictactoe/"
        );
        assert_eq!(g.executable, ["ggzd.tictactoe"]);
        assert_eq!(
            (g.engine.as_str(), g.engine_version.as_str()),
            ("TicTacToe", "dio/5+dev")
        );
        assert_eq!(
            (g.players_allowed.to_string(), g.bots_allowed.to_string()),
            ("2".into(), "1".into())
        );
        assert!(g.allow_leave && g.kill_when_empty && g.allow_spectators && g.allow_restore);
        assert!(!g.allow_peers && g.records && !g.ratings && !g.highscores);
        let bots = [
            ("Alfred".to_string(), "easy".to_string()),
            ("Tarantula".into(), "hard".into()),
        ];
        assert_eq!(g.named_bots, bots);
        assert_eq!(
            g.name_translations.get("en_AU").map(String::as_str),
            Some("RicRacRoo")
        );
        assert_eq!(g.description_translations.len(), 1);
    }

    #[test]
    fn game_defaults() {
        let g = GameDescription::parse("[GameInfo]\nName = X\n[LaunchInfo]\nExecutablePath = x\n")
            .unwrap();
        assert!(!g.allow_leave && g.kill_when_empty && !g.allow_spectators && !g.allow_peers);
        assert!(!g.allow_restore && !g.records && g.named_bots.is_empty());
        assert_eq!(
            (g.players_allowed.to_string(), g.bots_allowed.is_empty()),
            ("1".into(), true)
        );
        assert_eq!(g.version, "");
    }

    #[test]
    fn rooms() {
        let entry = RoomDescription::parse(ENTRY_ROOM).unwrap();
        assert_eq!(entry.name, "Entry Room");
        assert_eq!(entry.description, "A place to meet and choose a game room");
        assert_eq!(
            (entry.game_type, entry.max_players, entry.max_tables),
            (None, 100, 0)
        );
        assert_eq!(entry.entry_restriction, EntryRestriction::None);
        assert_eq!(
            entry.name_translations.get("de").map(String::as_str),
            Some("Eingangsbereich")
        );
        let ttt = RoomDescription::parse(TICTACTOE_ROOM).unwrap();
        assert_eq!(ttt.game_type.as_deref(), Some("TicTacToe"));
        assert_eq!(
            (ttt.max_players, ttt.max_tables, ttt.executable_args.len()),
            (150, 45, 0)
        );
        let other = "[roominfo]\nname x\nMaxPlayers = 0\nEntryRestriction = registered\n\
                     ExecutableArgs = --option=rated_game:0 --a\\ b\n";
        let other = RoomDescription::parse(other).unwrap();
        assert_eq!(
            (other.max_players, other.max_tables, other.game_type),
            (100, 50, None)
        );
        assert_eq!(other.entry_restriction, EntryRestriction::Registered);
        assert_eq!(other.executable_args, ["--option=rated_game:0", "--a b"]);
    }

    #[test]
    fn ini_syntax() {
        let text = "# comment\r\n\n  [ Sec ]  \r\nKey Value with  spaces\n\tOther=\t x = y \n\
                    List = a\\ b  c\\\\d \\\n   # indented comment\nkey = replaced\n[Two]\nA=1\n[sec]\nB=2\n";
        let ini = IniFile::parse(text).unwrap();
        assert_eq!(ini.get("SEC", "KEY"), Some("replaced"));
        assert_eq!(ini.line("sec", "key"), Some(8));
        assert_eq!(ini.get("sec", "other"), Some("x = y"));
        assert_eq!(ini.list("sec", "list"), ["a b", "c\\d"]);
        assert_eq!(ini.list("sec", "missing"), Vec::<String>::new());
        let keys: Vec<_> = ini.keys("sec").collect();
        assert_eq!(
            keys,
            [
                ("key", "replaced"),
                ("Other", "x = y"),
                ("List", "a\\ b  c\\\\d \\"),
                ("B", "2")
            ]
        );
        assert_eq!(ini.sections().collect::<Vec<_>>(), ["Sec", "Two"]);
        assert_eq!(ini.keys("none").count(), 0);
        assert_eq!(IniFile::parse("").unwrap(), IniFile::default());
    }

    #[test]
    fn errors_name_the_line() {
        let check = |text: &str, expect: &str| {
            let err = IniFile::parse(text).map(|_| ()).unwrap_err().to_string();
            assert_eq!(err, expect, "{text:?}");
        };
        check(
            "Name = x\n",
            "line 1: key \"Name\" outside any section, expected a `[Section]` header first",
        );
        check(
            "\n[GameInfo\n",
            "line 2: unterminated section header, expected `]` at its end",
        );
        check(
            "[]\n",
            "line 1: expected a section name between `[` and `]`",
        );
        check(
            "[A]\nalone\n",
            "line 2: expected `Key = Value`, got \"alone\"",
        );
        check("[A]\n = v\n", "line 2: expected a key before `=`");
        let game = |text: &str| GameDescription::parse(text).unwrap_err().to_string();
        let long = format!("[GameInfo]\n\nName = {}\n", "x".repeat(65));
        assert_eq!(
            game(&long),
            "line 3: [GameInfo] Name: 65 characters, expected at most 64"
        );
        assert_eq!(
            game("[GameInfo]\nName =\n"),
            "[GameInfo] Name: missing, expected the game's name"
        );
        let no_exec = "[GameInfo]\nName = X\n";
        assert_eq!(
            game(no_exec),
            "[LaunchInfo] ExecutablePath: missing, expected the game server's program"
        );
        let ok = "[GameInfo]\nName = X\n[LaunchInfo]\nExecutablePath = x\n[TableOptions]\n";
        assert_eq!(
            game(&format!("{ok}AllowLeave = yes\n")),
            "line 6: [TableOptions] AllowLeave: expected 0 or 1, got \"yes\""
        );
        assert_eq!(
            game(&format!("{ok}PlayersAllowed = 40\n")),
            "line 6: [TableOptions] PlayersAllowed: number list \"40\": expected values from 1 to 32 or a range `a..b`, got \"40\""
        );
        let room = |text: &str| RoomDescription::parse(text).unwrap_err().to_string();
        assert_eq!(
            room("[RoomInfo]\nName = R\nMaxTables = -1\n"),
            "line 3: [RoomInfo] MaxTables: expected a count from 0 to 4294967295, got -1"
        );
        assert_eq!(
            room("[RoomInfo]\nName = R\nEntryRestriction = vip\n"),
            "line 3: [RoomInfo] EntryRestriction: expected None, Registered or Admin, got \"vip\""
        );
        assert_eq!(
            room("[RoomInfo]\nMaxPlayers = x\n"),
            "[RoomInfo] Name: missing, expected the room's name"
        );
    }

    #[test]
    fn number_lists() {
        let check = |text: &str, shown: &str, max: Option<u32>, members: &[u32]| {
            let list = NumberList::parse(text).unwrap();
            assert_eq!(
                (list.to_string(), list.max()),
                (shown.to_string(), max),
                "{text:?}"
            );
            assert_eq!(list.is_empty(), shown.is_empty());
            let got: Vec<u32> = (0..=40).filter(|&n| list.contains(n)).collect();
            assert_eq!(got, members, "{text:?}");
        };
        check("2", "2", Some(2), &[2]);
        check(" 4 2  3 ", "2 3 4", Some(4), &[2, 3, 4]);
        check("1..3", "1..3", Some(3), &[1, 2, 3]);
        check("6 2..4", "6 2..4", Some(6), &[2, 3, 4, 6]);
        check("32 30..34", "32 30..34", Some(34), &[30, 31, 32, 33, 34]);
        check("", "", None, &[]);
        check("0", "", None, &[]);
        check("0 1 2 3", "1 2 3", Some(3), &[1, 2, 3]);
        check("0..2", "1..2", Some(2), &[1, 2]);
        check("0..1", "1", Some(1), &[1]);
        assert_eq!(NumberList::parse("3 1..5").unwrap().min(), Some(1));
        assert_eq!(NumberList::parse("2 7..9").unwrap().min(), Some(2));
        for bad in [
            "33",
            "-1",
            "x",
            "2 2",
            "3..3",
            "4..2",
            "1..2 5..6",
            "1..",
            "..4",
            "1..2..3",
            "1.5",
        ] {
            assert!(NumberList::parse(bad).is_err(), "{bad:?}");
        }
        let list = NumberList::parse("2..4 6").unwrap();
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(json, "\"6 2..4\"");
        assert_eq!(serde_json::from_str::<NumberList>(&json).unwrap(), list);
        assert!(serde_json::from_str::<NumberList>("\"99\"").is_err());
    }

    #[test]
    fn never_panics() {
        let pieces = [
            "[", "]", "=", " ", "\\", "\n", "#", "a", "é", "..", "0", "\r", "[x]",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let _ = GameDescription::parse(&format!(
                "[GameInfo]\nName=x\n[LaunchInfo]\nExecutablePath=x\n{text}"
            ));
            let _ = RoomDescription::parse(&text);
            let _ = NumberList::parse(&text);
        }
    }
}
