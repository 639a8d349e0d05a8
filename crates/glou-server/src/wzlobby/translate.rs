//! From a Warzone 2100 GAMESTRUCT to a listing and back: the translation between the
//! wire and the core, nothing else. A listing carries everything a client's join
//! screen needs, so any `warzone2100` listing (a federated one too) can be sent to
//! clients as a GAMESTRUCT.

use std::net::{IpAddr, SocketAddr};

use glou_core::Listing;
use glou_proto::wzlobby::{GameStruct, SessionDesc};

use crate::text::clean;

/// The Glou game of every Warzone 2100 listing.
pub const GAME: &str = "warzone2100";
/// Longest name, map or version, and rule value, a listing takes (`ListingLimits`).
const MAX_TEXT: usize = 128;
const MAX_RULE: usize = 256;

/// Rules a GAMESTRUCT fills (besides the listing's own fields).
const HOST: &str = "host";
const MODS: &str = "mods";
const GAME_TYPE: &str = "game_type";
const SPECTATORS: &str = "spectators";
const LIMITS: &str = "limits";
const PLATFORM: &str = "platform";
const PURE_MAP: &str = "pure_map";
const GAME_ID: &str = "game_id";

/// The listing of the game a host at `ip` announced.
pub fn listing(game: &GameStruct, ip: IpAddr) -> Listing {
    let d = &game.desc;
    let mut rules = vec![
        (GAME_TYPE.to_string(), d.dw_user_flags[0].to_string()),
        (SPECTATORS.to_string(), d.dw_user_flags[1].to_string()),
        (LIMITS.to_string(), game.limits.to_string()),
        (PURE_MAP.to_string(), game.pure_map.to_string()),
        (GAME_ID.to_string(), game.game_id.to_string()),
    ];
    for (key, value) in [
        (HOST, &game.hostname),
        (MODS, &game.modlist),
        (PLATFORM, &platform(game.future3)),
    ] {
        if !value.is_empty() {
            rules.push((key.to_string(), clean(value, MAX_RULE)));
        }
    }
    Listing {
        game: GAME.into(),
        kind: "server".into(),
        address: SocketAddr::new(ip, game.host_port).to_string(),
        name: clean(&game.name, MAX_TEXT),
        map: clean(&game.mapname, MAX_TEXT),
        players: count(d.dw_current_players),
        max_players: count(d.dw_max_players),
        bots: 0,
        password: game.private_game != 0,
        version: clean(&game.versionstring, MAX_TEXT),
        protocol: format!("{}.{}", game.game_version_major, game.game_version_minor),
        rules,
        player_list: Vec::new(),
    }
}

/// The GAMESTRUCT a client is sent for a listing; `None` when its address is not an
/// IP and port (a client could not connect to it).
pub fn game_struct(l: &Listing) -> Option<GameStruct> {
    let addr: SocketAddr = l.address.parse().ok()?;
    let rule = |key: &str| {
        l.rules
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let number = |key: &str| rule(key).and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
    let (major, minor) = l
        .protocol
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .unwrap_or((0, 0));
    let slots = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
    Some(GameStruct {
        name: l.name.clone(),
        desc: SessionDesc {
            host: addr.ip().to_string(),
            dw_max_players: slots(l.max_players),
            dw_current_players: slots(l.players + l.bots),
            dw_user_flags: [number(GAME_TYPE), number(SPECTATORS), 0, 0],
            ..SessionDesc::default()
        },
        extra: "Extra".into(),
        host_port: addr.port(),
        mapname: l.map.clone(),
        hostname: rule(HOST).unwrap_or("").to_string(),
        versionstring: l.version.clone(),
        modlist: rule(MODS).unwrap_or("").to_string(),
        game_version_major: major,
        game_version_minor: minor,
        private_game: u32::from(l.password),
        pure_map: number(PURE_MAP),
        game_id: number(GAME_ID),
        limits: number(LIMITS),
        future3: rule(PLATFORM).map_or(0, platform_code),
        future4: (major << 16) | (minor & 0xffff),
        ..GameStruct::default()
    })
}

/// A player count from the wire (negative counts are nonsense: 0).
fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0).min(4096)
}

/// `future3` as text: the host's platform in three letters (`0x6c696e` is `lin`).
fn platform(code: u32) -> String {
    let text: String = code
        .to_be_bytes()
        .iter()
        .filter(|&&b| b != 0)
        .map(|&b| char::from(b))
        .collect();
    if text.chars().all(|c| c.is_ascii_alphanumeric()) {
        text
    } else {
        String::new()
    }
}

fn platform_code(text: &str) -> u32 {
    text.bytes()
        .take(4)
        .fold(0, |code, b| (code << 8) | u32::from(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosted() -> GameStruct {
        GameStruct {
            name: "Glou WZ".into(),
            desc: SessionDesc {
                dw_max_players: 4,
                dw_current_players: 2,
                dw_user_flags: [14, 0, 0, 0],
                ..SessionDesc::default()
            },
            extra: "Extra".into(),
            host_port: 2100,
            mapname: "Sk-Rush".into(),
            hostname: "Player".into(),
            versionstring: "4.3.3".into(),
            game_version_major: 0x4000,
            game_version_minor: 0x4f,
            game_id: 1001,
            future3: 0x006c_696e,
            future4: 0x4000_004f,
            ..GameStruct::default()
        }
    }

    #[test]
    fn a_hosted_game_becomes_a_listing_at_the_hosts_address() {
        let l = listing(&hosted(), "192.0.2.7".parse().unwrap());
        assert_eq!(l.game, "warzone2100");
        assert_eq!(l.address, "192.0.2.7:2100");
        assert_eq!((l.name.as_str(), l.map.as_str()), ("Glou WZ", "Sk-Rush"));
        assert_eq!((l.players, l.max_players), (2, 4));
        assert_eq!(l.version, "4.3.3");
        assert_eq!(l.protocol, "16384.79");
        assert!(l.rules.contains(&("host".into(), "Player".into())));
        assert!(l.rules.contains(&("platform".into(), "lin".into())));
    }

    #[test]
    fn a_listing_goes_back_to_the_game_struct_a_client_joins_with() {
        let game = hosted();
        let back = game_struct(&listing(&game, "192.0.2.7".parse().unwrap())).unwrap();
        // What the host left empty, the lobby fills in: where to connect.
        assert_eq!(back.desc.host, "192.0.2.7");
        assert_eq!(
            GameStruct {
                desc: SessionDesc {
                    host: String::new(),
                    ..back.desc.clone()
                },
                ..back
            },
            game
        );
    }

    #[test]
    fn hostile_numbers_and_text_are_tamed() {
        let mut game = hosted();
        game.desc.dw_current_players = -5;
        game.desc.dw_max_players = i32::MAX;
        game.name = "evil\nname\u{7}".into();
        game.future3 = 0x0a0b_0c0d;
        let l = listing(&game, "192.0.2.7".parse().unwrap());
        assert_eq!((l.players, l.max_players), (0, 4096));
        assert_eq!(l.name, "evilname");
        assert!(!l.rules.iter().any(|(k, _)| k == "platform"));
        assert!(
            game_struct(&Listing {
                address: "ggz://host/#room".into(),
                ..l
            })
            .is_none()
        );
    }
}
