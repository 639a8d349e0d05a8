//! Checks for the lobby commands the nodes of a cluster send each other: JSON of
//! `glou_core::lobby::Command`, one per record, which every node applies to its copy of
//! the lobby. Each line of the input that decodes as a command is applied in turn to
//! two copies of a small lobby, one restored from the other's snapshot as a node that
//! starts is: neither panics, each command gives both the same outcome, deliveries
//! (and the same players for each) and orders, and both end in the same state.

use std::sync::OnceLock;

use glou_core::Timestamp;
use glou_core::account::{Perm, Perms};
use glou_core::lobby::{
    Command, Counts, Delivery, GameRules, Lobby, LobbyConfig, Login, Outcome, PlayerId, RoomRules,
    SeatKind, SeatSpec, TableOrder, TableSpec, TableStatus,
};

/// The longest command record a node reads (`cluster::lobby::MAX_RECORD` of glou-server).
const MAX_RECORD: usize = 64 * 1024;

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    // The seeded lobby's snapshot is the same every time (but for the order of its
    // maps): taken once.
    static SNAPSHOT: OnceLock<Vec<u8>> = OnceLock::new();
    let snapshot = SNAPSHOT.get_or_init(|| serde_json::to_vec(&seeded()).expect("encodes"));
    let mut a = seeded();
    let mut b: Lobby = serde_json::from_slice(snapshot).expect("a snapshot restores");
    let mut applied = false;
    for line in data.split(|&byte| byte == b'\n') {
        if line.len() > MAX_RECORD {
            continue;
        }
        let Ok(command) = serde_json::from_slice::<Command>(line) else {
            continue;
        };
        let first = apply(&mut a, command.clone());
        let second = apply(&mut b, command);
        assert_eq!(first, second, "{}", String::from_utf8_lossy(line));
        applied = true;
    }
    if applied {
        let state = |l: &Lobby| serde_json::to_value(l).expect("a lobby encodes");
        assert_eq!(state(&a), state(&b));
    }
}

/// What applying one command returned: its outcome, each delivery with its players
/// (sorted: their order is the server's business), and the orders for game programs.
type Applied = (Outcome, Vec<(Delivery, Vec<PlayerId>)>, Vec<TableOrder>);

fn apply(lobby: &mut Lobby, command: Command) -> Applied {
    let outcome = lobby.apply(command);
    let deliveries: Vec<Delivery> = lobby.drain().collect();
    let heard = deliveries
        .into_iter()
        .map(|d| {
            let mut to: Vec<PlayerId> = lobby.recipients(d.to).collect();
            to.sort_unstable();
            (d, to)
        })
        .collect();
    (outcome, heard, lobby.drain_orders().collect())
}

/// Two games (one run by the lobby, one by a game program), a chat room, a room for
/// each game, one restricted and one closed; four players (an admin, a registered
/// player, a guest, and a gagged player who needs a game channel), a table the lobby
/// runs (a player seated, one watching) and two of a game program (one still being
/// created, one waiting). Player ids are 1 to 4; the tables' serials 5, 6 and 7.
fn seeded() -> Lobby {
    let game = |key: &str, players: &[u32], module: bool| GameRules {
        key: key.into(),
        players: Counts::of(players.iter().copied()),
        bots: Counts::of([1, 2]),
        named_bots: vec!["Alfred".into()],
        spectators: true,
        allow_leave: !module,
        kill_when_empty: module,
        module,
    };
    let room = |game, restriction, closed| RoomRules {
        game,
        max_players: 4,
        max_tables: 2,
        restriction,
        closed,
    };
    let mut lobby = Lobby::new(LobbyConfig {
        games: vec![game("chess", &[2, 3], false), game("tictactoe", &[2], true)],
        rooms: vec![
            room(None, None, false),
            room(Some(0), None, false),
            room(Some(1), None, false),
            room(Some(1), Some(Perm::RoomsLogin), false),
            room(Some(0), None, true),
        ],
        chat_len: 16,
        max_tables: 4,
        chat_burst: 2.0,
        chat_rate: 0.5,
    });
    let login = |name: &str, perms, guest, gagged| Command::Login {
        login: Login {
            name: name.into(),
            perms,
            guest,
            gagged,
            needs_channel: gagged,
        },
        now: Timestamp::from_millis(1_000),
    };
    let p = PlayerId;
    let enter = |player, room| Command::Enter {
        player,
        room,
        standing: None,
    };
    let seat = |kind| SeatSpec { kind, name: None };
    let launch = |player, game, seats| Command::Launch {
        player,
        spec: TableSpec {
            game: Some(game),
            desc: "seeded".into(),
            seats,
        },
    };
    let setup = [
        login("ann", Perms::ADMIN, false, false),
        login("bob", Perms::REGISTERED, false, false),
        login("cy", Perms::GUEST, true, false),
        login("dee", Perms::REGISTERED, false, true),
        enter(p(1), 1),
        enter(p(2), 1),
        enter(p(3), 2),
        enter(p(4), 2),
        launch(p(1), 0, vec![seat(SeatKind::Open), seat(SeatKind::Open)]),
        Command::Join {
            player: p(2),
            table: 1,
            spectator: true,
            seat: None,
        },
        launch(p(3), 1, vec![seat(SeatKind::Bot), seat(SeatKind::Open)]),
        Command::SetChannel {
            player: p(4),
            open: true,
        },
        launch(p(4), 1, vec![seat(SeatKind::Open), seat(SeatKind::Open)]),
        Command::GameStatus {
            room: 2,
            table: 2,
            serial: 7,
            status: TableStatus::Waiting,
        },
    ];
    for command in setup {
        lobby.apply(command);
    }
    lobby.drain().for_each(drop);
    lobby.drain_orders().for_each(drop);
    lobby
}
