//! From a Teeworlds 0.7 server's info (`inf3`) to a listing: the translation between
//! the wire and the core, nothing else.

use std::net::SocketAddr;

use glou_core::{Listing, Player};
use glou_proto::tw07::{self, ServerInfo};

use crate::text::clean;

/// The Glou game of every Teeworlds 0.7 listing.
pub const GAME: &str = "teeworlds";
/// Longest name, map or version, and rule value, a listing takes (`ListingLimits`).
const MAX_TEXT: usize = 128;
const MAX_RULE: usize = 256;

/// The listing of a server reachable at `addr`, with what its info says (a server
/// just checked and not yet asked has only its address).
pub fn listing(addr: SocketAddr, info: Option<&ServerInfo>) -> Listing {
    let Some(info) = info else {
        return Listing {
            game: GAME.into(),
            kind: "server".into(),
            address: addr.to_string(),
            protocol: "0.7".into(),
            ..Listing::default()
        };
    };
    let is_bot = |c: &&tw07::ClientInfo| c.player_flags & tw07::PLAYER_FLAG_BOT != 0;
    let bots = info.clients.iter().filter(is_bot).count();
    let humans = info.clients.len() - bots;
    let spectators = info
        .clients
        .iter()
        .filter(|c| c.player_flags & tw07::PLAYER_FLAG_SPECTATOR != 0)
        .count();
    let mut rules = vec![
        ("gametype".to_string(), clean(&info.gametype, MAX_RULE)),
        ("skill".to_string(), info.skill.to_string()),
        ("player_slots".to_string(), info.max_players.to_string()),
        ("spectators".to_string(), spectators.to_string()),
    ];
    if !info.hostname.is_empty() {
        rules.push(("hostname".to_string(), clean(&info.hostname, MAX_RULE)));
    }
    Listing {
        game: GAME.into(),
        kind: "server".into(),
        address: addr.to_string(),
        name: clean(
            if info.name.is_empty() {
                &info.hostname
            } else {
                &info.name
            },
            MAX_TEXT,
        ),
        map: clean(&info.map, MAX_TEXT),
        players: count(humans),
        max_players: u32::try_from(info.max_clients).unwrap_or(0).min(4096),
        bots: count(bots),
        password: info.flags & tw07::SERVER_FLAG_PASSWORD != 0,
        version: clean(&info.version, MAX_TEXT),
        protocol: "0.7".into(),
        rules,
        player_list: info
            .clients
            .iter()
            .map(|c| Player {
                name: clean(&c.name, MAX_TEXT),
                score: i64::from(c.score),
                ping: 0,
            })
            .collect(),
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX).min(4096)
}

#[cfg(test)]
mod tests {
    use super::*;
    use glou_proto::tw07::ClientInfo;

    #[test]
    fn the_info_of_a_real_server_fills_the_listing() {
        // What the real 0.7.5 server answered (realpeers README §3), with two clients.
        let info = ServerInfo {
            token: 1,
            version: "0.7.5".into(),
            name: "GlouTestTW".into(),
            map: "dm1".into(),
            gametype: "DM".into(),
            skill: 1,
            num_players: 2,
            max_players: 8,
            max_clients: 8,
            clients: vec![
                ClientInfo {
                    name: "alice".into(),
                    score: 7,
                    ..ClientInfo::default()
                },
                ClientInfo {
                    name: "bot".into(),
                    player_flags: tw07::PLAYER_FLAG_BOT,
                    ..ClientInfo::default()
                },
            ],
            ..ServerInfo::default()
        };
        let l = listing("192.0.2.1:8303".parse().unwrap(), Some(&info));
        assert_eq!(
            (l.game.as_str(), l.address.as_str()),
            ("teeworlds", "192.0.2.1:8303")
        );
        assert_eq!((l.name.as_str(), l.map.as_str()), ("GlouTestTW", "dm1"));
        assert_eq!((l.players, l.bots, l.max_players), (1, 1, 8));
        assert_eq!(l.version, "0.7.5");
        assert!(l.rules.contains(&("gametype".into(), "DM".into())));
        assert_eq!(l.player_list[0].name, "alice");
        assert_eq!(l.player_list[0].score, 7);
    }

    #[test]
    fn a_server_not_yet_asked_is_its_address() {
        let l = listing("192.0.2.1:8303".parse().unwrap(), None);
        assert_eq!(l.address, "192.0.2.1:8303");
        assert!(l.name.is_empty());
    }

    #[test]
    fn long_text_is_cut_to_what_a_listing_takes() {
        let info = ServerInfo {
            name: "n".repeat(256),
            map: "m".repeat(256),
            gametype: "g".repeat(256),
            clients: vec![ClientInfo {
                name: "c".repeat(256),
                ..ClientInfo::default()
            }],
            ..ServerInfo::default()
        };
        let l = listing("192.0.2.1:8303".parse().unwrap(), Some(&info));
        assert_eq!(l.name.len(), 128);
        glou_core::ListingLimits::default().check(&l).unwrap();
    }
}
