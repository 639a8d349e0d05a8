//! From a Q3 info string to a listing, and from a list request to the entries it
//! selects: the translation between the wire and the core, nothing else.

use std::net::SocketAddr;

use glou_core::{Entry, Listing, ListingPatch, Player};
use glou_proto::q3master::{self, GetServers, Info};

use crate::text::clean;

/// Which Glou game a `(gamename, protocol)` pair is: a configured name, else the
/// game name made into an identifier (`Xonotic` → `xonotic`).
#[derive(Clone, Debug, Default)]
pub struct GameNames {
    /// `(gamename, protocol or any, game)`, matched in order, case ignored.
    pub mappings: Vec<(String, Option<u32>, String)>,
}

impl GameNames {
    pub fn with_defaults(mut configured: Vec<(String, Option<u32>, String)>) -> Self {
        configured.extend([
            ("Quake3Arena".into(), Some(71), "openarena".into()),
            ("Quake3Arena".into(), None, "quake3".into()),
            ("OpenArena".into(), None, "openarena".into()),
        ]);
        Self {
            mappings: configured,
        }
    }

    pub fn game(&self, gamename: &str, protocol: u32) -> String {
        let configured = self.mappings.iter().find(|(name, proto, _)| {
            name.eq_ignore_ascii_case(gamename) && proto.is_none_or(|p| p == protocol)
        });
        if let Some((_, _, game)) = configured {
            return game.clone();
        }
        let ident: String = gamename
            .chars()
            .filter_map(|c| {
                let c = c.to_ascii_lowercase();
                (c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)).then_some(c)
            })
            .take(32)
            .collect();
        if ident.is_empty() { "q3".into() } else { ident }
    }
}

/// The game name a server or a request stands for when it names none.
pub const DEFAULT_GAMENAME: &str = "Quake3Arena";

/// Info keys that become listing fields rather than rules.
const FIELDS: [&str; 6] = [
    "challenge",
    "hostname",
    "mapname",
    "clients",
    "sv_maxclients",
    "g_humanplayers",
];

/// The listing of a server at `addr` from its `infoResponse`.
pub fn listing(info: &Info, addr: SocketAddr, names: &GameNames) -> Listing {
    let number = |key: &str| info.get(key).and_then(|v| v.trim().parse::<u32>().ok());
    let protocol = number("protocol").unwrap_or(0);
    let gamename = info.get("gamename").unwrap_or(DEFAULT_GAMENAME);
    let clients = number("clients").unwrap_or(0);
    let humans = number("g_humanplayers").unwrap_or(clients).min(clients);
    let mut rules: Vec<(String, String)> = info
        .0
        .iter()
        .filter(|(k, _)| !FIELDS.iter().any(|f| f.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (clean(k, 64), clean(v, 256)))
        .filter(|(k, _)| !k.is_empty())
        .take(60)
        .collect();
    if info.get("gamename").is_none() {
        rules.push(("gamename".into(), DEFAULT_GAMENAME.into()));
    }
    Listing {
        game: names.game(gamename, protocol),
        kind: "server".into(),
        address: addr.to_string(),
        name: clean(&strip_colors(info.get("hostname").unwrap_or("")), 128),
        map: clean(info.get("mapname").unwrap_or(""), 128),
        players: humans.min(4096),
        max_players: number("sv_maxclients").unwrap_or(0).min(4096),
        bots: (clients - humans).min(4096),
        password: info.get("g_needpass").is_some_and(|v| v.trim() == "1"),
        version: clean(info.get("version").unwrap_or(""), 128),
        protocol: protocol.to_string(),
        rules,
        player_list: Vec::new(),
    }
}

/// A list request prepared for matching many entries.
pub struct Selector<'a> {
    q: &'a GetServers,
    protocol: String,
    gametype: Option<String>,
    gamename: &'a str,
}

impl<'a> Selector<'a> {
    pub fn new(q: &'a GetServers) -> Self {
        Self {
            q,
            protocol: q.protocol.to_string(),
            gametype: q.gametype.map(|g| g.to_string()),
            gamename: q.gamename.as_deref().unwrap_or(DEFAULT_GAMENAME),
        }
    }

    /// Whether a listed entry answers the request, with dpmaster's rules: the protocol
    /// and game name must match; empty and full servers only when asked for.
    pub fn selects(&self, e: &Entry) -> bool {
        let l = &e.listing;
        let clients = l.players + l.bots;
        l.protocol == self.protocol
            && e.rule("gamename")
                .unwrap_or(DEFAULT_GAMENAME)
                .eq_ignore_ascii_case(self.gamename)
            && (self.q.empty || clients > 0)
            && (self.q.full || l.max_players == 0 || clients < l.max_players)
            && self
                .gametype
                .as_deref()
                .is_none_or(|g| e.rule("gametype") == Some(g))
    }
}

/// The rule that flags a server whose counts disagree with its status.
pub const COUNTS_RULE: &str = "glou_counts";

/// The player list from a status answer, and whether the counts the server
/// announced (`clients`) agree with the players it lists: `glou_counts` is
/// `checked` or `disagree`.
pub fn status_patch(entry: &Entry, players: &[q3master::StatusPlayer]) -> ListingPatch {
    let list: Vec<Player> = players
        .iter()
        .take(256)
        .map(|p| Player {
            name: clean(&strip_colors(&p.name), 128),
            score: p.score,
            ping: p.ping,
        })
        .collect();
    let l = &entry.listing;
    let verdict = if list.len() == (l.players + l.bots) as usize {
        "checked"
    } else {
        "disagree"
    };
    let mut rules: Vec<(String, String)> = l
        .rules
        .iter()
        .filter(|(k, _)| k != COUNTS_RULE)
        .cloned()
        .collect();
    rules.push((COUNTS_RULE.into(), verdict.into()));
    ListingPatch {
        player_list: Some(list),
        rules: Some(rules),
        ..ListingPatch::default()
    }
}

/// Quake 3 colour codes (`^1Red`) out of a name.
fn strip_colors(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' && chars.peek().is_some_and(|n| n.is_ascii_alphanumeric()) {
            chars.next();
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(pairs: &[(&str, &str)]) -> Info {
        Info(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn openarena_info_becomes_a_listing() {
        let i = info(&[
            ("voip", "opus"),
            ("g_needpass", "0"),
            ("pure", "1"),
            ("gametype", "0"),
            ("sv_maxclients", "8"),
            ("g_humanplayers", "1"),
            ("clients", "3"),
            ("mapname", "oa_dm1"),
            ("hostname", "^1Glou ^7OA"),
            ("protocol", "71"),
            ("gamename", "Quake3Arena"),
            ("challenge", "xyz"),
        ]);
        let l = listing(
            &i,
            "127.0.0.1:27960".parse().unwrap(),
            &GameNames::with_defaults(vec![]),
        );
        assert_eq!(
            (l.game.as_str(), l.name.as_str(), l.map.as_str()),
            ("openarena", "Glou OA", "oa_dm1")
        );
        assert_eq!(
            (l.players, l.bots, l.max_players, l.password),
            (1, 2, 8, false)
        );
        assert_eq!(
            (l.address.as_str(), l.protocol.as_str()),
            ("127.0.0.1:27960", "71")
        );
        let keys: Vec<&str> = l.rules.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "voip",
                "g_needpass",
                "pure",
                "gametype",
                "protocol",
                "gamename"
            ]
        );
    }

    #[test]
    fn game_names() {
        let names = GameNames::with_defaults(vec![("Xonotic".into(), None, "xon".into())]);
        assert_eq!(names.game("Quake3Arena", 68), "quake3");
        assert_eq!(names.game("quake3arena", 71), "openarena");
        assert_eq!(names.game("XONOTIC", 3), "xon");
        assert_eq!(names.game("Urban Terror 4.3", 68), "urbanterror4.3");
        assert_eq!(names.game("!!!", 1), "q3");
    }

    #[test]
    fn hostile_values_are_cleaned_not_fatal() {
        let long = "x".repeat(1000);
        let i = info(&[
            ("hostname", "bad\u{1}name"),
            ("clients", "-5"),
            ("sv_maxclients", "99999999"),
            ("k", &long),
        ]);
        let l = listing(&i, "198.51.100.1:1".parse().unwrap(), &GameNames::default());
        assert_eq!(l.name, "badname");
        assert_eq!((l.players, l.max_players), (0, 4096));
        assert_eq!(l.rules[0].1.len(), 256);
        glou_core::ListingLimits::default().check(&l).unwrap();
    }
}
