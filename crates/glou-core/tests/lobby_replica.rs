//! The lobby as a replicated state machine: lobbies that apply the same commands in
//! the same order end the same, and a lobby restored from another's snapshot goes on
//! as the original does — what several servers holding one lobby rely on.

use glou_core::Timestamp;
use glou_core::account::{Perm, Perms};
use glou_core::lobby::{
    AdminAction, ChatKind, Command, Counts, Delivery, GameRules, Lobby, LobbyConfig, LobbyError,
    LobbyEvent, Login, Outcome, PlayerId, RoomRules, SeatKind, SeatSpec, TableOrder, TableSpec,
    TableStatus,
};

fn config() -> LobbyConfig {
    let room = |game| RoomRules {
        game,
        max_players: 50,
        max_tables: 5,
        restriction: None,
        closed: false,
    };
    LobbyConfig {
        games: vec![GameRules {
            key: "tictactoe".into(),
            players: Counts::of([2]),
            bots: Counts::of([1]),
            named_bots: vec![],
            spectators: true,
            allow_leave: true,
            kill_when_empty: true,
            module: true,
        }],
        rooms: vec![room(None), room(Some(0))],
        chat_len: 100,
        max_tables: 10,
        chat_burst: 2.0,
        chat_rate: 0.5,
    }
}

fn login(name: &str, admin: bool, ms: u64) -> Command {
    let perms = if admin {
        Perms::GUEST.with(Perm::RoomsAdmin, true)
    } else {
        Perms::GUEST
    };
    Command::Login {
        login: Login {
            name: name.into(),
            perms,
            guest: !admin,
            gagged: false,
            needs_channel: false,
        },
        now: Timestamp::from_millis(ms),
    }
}

fn chat(player: u64, text: &str, ms: u64) -> Command {
    Command::Chat {
        player: PlayerId(player),
        kind: ChatKind::Normal,
        to: None,
        text: text.into(),
        now: Timestamp::from_millis(ms),
    }
}

/// A session of four players: logins, rooms, a table run by a game program, chat
/// (with a flood), a kick.
fn history() -> Vec<Command> {
    let p = PlayerId;
    let mut h = vec![
        login("ann", true, 1_000),
        login("bob", false, 1_010),
        login("cy", false, 1_020),
        login("ann", false, 1_030), // refused: online already
        Command::Enter {
            player: p(1),
            room: 1,
            standing: None,
        },
        Command::Enter {
            player: p(2),
            room: 1,
            standing: None,
        },
        Command::Enter {
            player: p(3),
            room: 0,
            standing: None,
        },
        Command::Launch {
            player: p(2),
            spec: TableSpec {
                game: Some(0),
                desc: "a game".into(),
                seats: vec![
                    SeatSpec {
                        kind: SeatKind::Open,
                        name: None,
                    },
                    SeatSpec {
                        kind: SeatKind::Open,
                        name: None,
                    },
                ],
            },
        },
        Command::GameStatus {
            room: 1,
            table: 1,
            serial: 4, // player ids and table serials share one counter
            status: TableStatus::Waiting,
        },
        Command::Join {
            player: p(1),
            table: 1,
            spectator: false,
            seat: None,
        },
        Command::GameStatus {
            room: 1,
            table: 1,
            serial: 4, // player ids and table serials share one counter
            status: TableStatus::Playing,
        },
    ];
    // Cy's burst: two messages pass, the rest are a flood until time refills.
    h.extend((0..4).map(|i| chat(3, &format!("hello {i}"), 2_000 + i)));
    h.push(chat(3, "later", 6_000));
    h.push(login("dee", false, 6_100));
    h.push(Command::Admin {
        player: p(1),
        action: AdminAction::Kick,
        target: "cy".into(),
        reason: "enough".into(),
    });
    h.push(Command::Leave {
        player: p(2),
        force: false,
    });
    h.push(Command::Logout { player: p(1) });
    h
}

/// The lobby as a node of a cluster writes it for others to start from.
fn snapshot(lobby: &Lobby) -> Vec<u8> {
    serde_json::to_vec(lobby).unwrap()
}

fn restore(bytes: &[u8]) -> Result<Lobby, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// What each player hears, and what game programs are told, per command.
type Heard = Vec<(Vec<(PlayerId, LobbyEvent)>, Vec<TableOrder>, Outcome)>;

fn run(lobby: &mut Lobby, commands: &[Command]) -> Heard {
    commands
        .iter()
        .map(|c| {
            let outcome = lobby.apply(c.clone());
            let deliveries: Vec<Delivery> = lobby.drain().collect();
            let mut heard: Vec<(PlayerId, LobbyEvent)> = Vec::new();
            for d in deliveries {
                for p in lobby.recipients(d.to) {
                    heard.push((p, d.event.clone()));
                }
            }
            // The order among receivers of one delivery is the server's business.
            heard.sort_by_key(|(p, _)| *p);
            let orders = lobby.drain_orders().collect();
            (heard, orders, outcome)
        })
        .collect()
}

fn state(lobby: &Lobby) -> String {
    let rooms = lobby.rooms();
    let views: Vec<_> = rooms
        .iter()
        .map(|r| (lobby.players(r.id), lobby.tables(r.id)))
        .collect();
    format!("{rooms:?} {views:?} {:?}", lobby.all_tables())
}

#[test]
fn the_same_commands_give_the_same_lobby() {
    let h = history();
    let (mut a, mut b) = (Lobby::new(config()), Lobby::new(config()));
    let heard = run(&mut a, &h);
    assert_eq!(heard, run(&mut b, &h));
    assert_eq!(state(&a), state(&b));

    // The history did what it says, so the comparison above compares something.
    assert_eq!(heard[3].2, Outcome::Login(Err(LobbyError::AlreadyLoggedIn)));
    let floods = heard
        .iter()
        .flat_map(|(heard, _, _)| heard)
        .filter(|(_, e)| {
            matches!(
                e,
                LobbyEvent::Reply {
                    outcome: Err(LobbyError::Flood),
                    ..
                }
            )
        })
        .count();
    assert_eq!(floods, 2);
    assert!(heard.iter().any(|(_, orders, _)| {
        orders.iter().any(|o| {
            matches!(
                o,
                TableOrder::Seat {
                    player: Some(PlayerId(1)),
                    ..
                }
            )
        })
    }));
    assert_eq!(a.find("cy"), None, "kicked");
    assert_eq!(a.find("dee"), Some(PlayerId(5)));
}

#[test]
fn a_lobby_restored_from_a_snapshot_goes_on_as_the_original() {
    let h = history();
    for cut in [0, 5, 9, 12, h.len()] {
        let mut original = Lobby::new(config());
        run(&mut original, &h[..cut]);
        let mut copy = restore(&snapshot(&original)).unwrap();
        assert_eq!(
            state(&copy),
            state(&original),
            "restored after {cut} commands"
        );
        assert_eq!(
            run(&mut copy, &h[cut..]),
            run(&mut original, &h[cut..]),
            "after {cut} commands"
        );
        assert_eq!(state(&copy), state(&original));
        // Ids go on from where they were.
        let next = |l: &mut Lobby| l.apply(login("zed", false, 9_000));
        assert_eq!(next(&mut copy), next(&mut original));
    }
}

#[test]
fn a_snapshot_that_is_not_one_is_refused() {
    assert!(restore(b"{\"config\":").is_err());
    assert!(restore(b"[]").is_err());
}
