//! Realistic listings made up from a number, for benchmarks and load tools (`cargo
//! bench`, `glou bench registry`): a name, a map out of twelve, a few rules, up to 16
//! players of whom up to four are listed by name. Deterministic, so runs compare.

use crate::listing::{Listing, Player};

/// The `i`-th sample server of `game`.
pub fn listing(game: &str, i: u32) -> Listing {
    let players = i % 17;
    Listing {
        game: game.into(),
        kind: "server".into(),
        address: format!(
            "10.{}.{}.{}:{}",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            27960 + i % 4
        ),
        name: format!("Server {i} | Capture the flag all day"),
        map: format!("map{}", i % 12),
        players,
        max_players: 16,
        bots: i % 3,
        password: i.is_multiple_of(10),
        version: "1.36".into(),
        protocol: "71".into(),
        rules: vec![
            ("fraglimit".into(), "20".into()),
            ("g_gametype".into(), (i % 5).to_string()),
            ("sv_pure".into(), "1".into()),
        ],
        player_list: (0..players.min(4))
            .map(|p| Player {
                name: format!("player{i}x{p}"),
                score: i64::from(p),
                ping: 40,
            })
            .collect(),
    }
}
