//! The operator's side of the lobby: a new configuration applied to a lobby with
//! players in it, and admin actions from outside it.

use glou_core::Timestamp;
use glou_core::account::Perms;
use glou_core::lobby::{
    AdminAction, ChatKind, Counts, GameRules, LeaveReason, Lobby, LobbyConfig, LobbyError,
    LobbyEvent, Login, PlayerId, RoomRules, SeatKind, SeatSpec, TableSpec,
};

const T0: Timestamp = Timestamp::from_millis(1_000_000);

fn room(game: Option<usize>) -> RoomRules {
    RoomRules {
        game,
        max_players: 100,
        max_tables: 5,
        restriction: None,
        closed: false,
    }
}

fn config() -> LobbyConfig {
    LobbyConfig {
        games: vec![GameRules {
            key: "tictactoe".into(),
            players: Counts::of([2]),
            bots: Counts::of([1]),
            named_bots: vec![],
            spectators: true,
            allow_leave: true,
            kill_when_empty: true,
            module: false,
        }],
        rooms: vec![room(None), room(Some(0))],
        chat_len: 16,
        max_tables: 10,
        chat_burst: 3.0,
        chat_rate: 1.0,
    }
}

fn login(l: &mut Lobby, name: &str, room: u32) -> PlayerId {
    let p = l
        .login(
            Login {
                name: name.into(),
                perms: Perms::GUEST,
                guest: true,
                gagged: false,
                needs_channel: false,
            },
            T0,
        )
        .unwrap();
    l.enter(p, room, None);
    p
}

fn table(seats: [SeatKind; 2]) -> TableSpec {
    TableSpec {
        game: Some(0),
        desc: String::new(),
        seats: seats
            .into_iter()
            .map(|kind| SeatSpec { kind, name: None })
            .collect(),
    }
}

/// Drains and returns, per delivery, the event and its recipients.
fn deliveries(l: &mut Lobby) -> Vec<(LobbyEvent, Vec<PlayerId>)> {
    let all: Vec<_> = l.drain().collect();
    all.into_iter()
        .map(|d| {
            let mut to: Vec<PlayerId> = l.recipients(d.to).collect();
            to.sort();
            (d.event, to)
        })
        .collect()
}

#[test]
fn a_new_room_is_announced_to_everyone_and_can_be_entered() {
    let mut l = Lobby::new(config());
    let a = login(&mut l, "alice", 0);
    let b = login(&mut l, "bob", 1);
    l.drain().for_each(drop);

    let mut next = config();
    next.rooms.push(room(None));
    l.reconfigure(next).unwrap();

    assert_eq!(
        deliveries(&mut l),
        vec![(LobbyEvent::RoomAdded { room: 2 }, vec![a, b])]
    );
    assert_eq!(
        l.rooms().iter().map(|r| r.id).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    l.enter(a, 2, None);
    assert_eq!(l.room_of(a), Some(2));
}

#[test]
fn closing_a_room_ends_its_tables_and_moves_its_players_to_the_entry_room() {
    let mut l = Lobby::new(config());
    let a = login(&mut l, "alice", 1);
    let b = login(&mut l, "bob", 1);
    let c = login(&mut l, "carol", 0);
    l.launch(a, table([SeatKind::Open, SeatKind::Open]));
    assert_eq!(l.table_of(a), Some(1));
    l.drain().for_each(drop);

    let mut next = config();
    next.rooms[1].closed = true;
    l.reconfigure(next).unwrap();
    let heard = deliveries(&mut l);

    // The table ends first, as any table does: removed, then alice is told.
    let left = heard
        .iter()
        .position(|(e, to)| {
            matches!(
                e,
                LobbyEvent::Left {
                    reason: LeaveReason::GameOver,
                    ..
                }
            ) && to == &vec![a]
        })
        .expect("alice leaves her table");
    let removed = heard
        .iter()
        .position(|(e, _)| matches!(e, LobbyEvent::TableRemoved { room: 1, id: 1, .. }))
        .expect("the table is removed");
    // Both players arrive in the entry room, where carol sees them (and each mover the
    // other, as recipients are those of the lobby once the change is complete).
    let arrivals: Vec<_> = heard
        .iter()
        .filter_map(|(e, to)| match e {
            LobbyEvent::PlayerEntered {
                room: 0,
                from: Some(1),
                player,
            } => Some((player.name.clone(), to.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        arrivals,
        [("alice".into(), vec![b, c]), ("bob".into(), vec![a, c])]
    );
    // Everyone hears the room is gone; the movers as the room they were in.
    let gone: Vec<_> = heard
        .iter()
        .filter_map(|(e, to)| match e {
            LobbyEvent::RoomRemoved {
                room: 1,
                was_in,
                to: 0,
            } => Some((to[0], *was_in)),
            _ => None,
        })
        .collect();
    assert_eq!(gone, [(a, true), (b, true), (c, false)]);
    assert!(removed < left);

    assert_eq!((l.room_of(a), l.room_of(b)), (Some(0), Some(0)));
    assert_eq!(l.table_of(a), None);
    assert_eq!(l.table_counts(), (0, 0));
    assert_eq!(l.rooms().iter().map(|r| r.id).collect::<Vec<_>>(), [0]);
    assert_eq!(l.players(0).len(), 3);
    // Nobody can enter it any more; its id is not reused.
    l.enter(c, 1, None);
    assert_eq!(l.room_of(c), Some(0));
    assert!(deliveries(&mut l).iter().any(|(e, _)| matches!(
        e,
        LobbyEvent::Reply {
            outcome: Err(LobbyError::BadOptions),
            ..
        }
    )));
}

#[test]
fn an_impossible_configuration_changes_nothing() {
    let mut l = Lobby::new(config());
    let a = login(&mut l, "alice", 1);
    l.drain().for_each(drop);

    let mut fewer = config();
    fewer.rooms.pop();
    let mut entry_closed = config();
    entry_closed.rooms[0].closed = true;
    let mut unknown_game = config();
    unknown_game.rooms[1].game = Some(7);
    let mut no_games = config();
    no_games.games.clear();
    no_games.rooms[1].game = None;
    for bad in [fewer, entry_closed, unknown_game, no_games] {
        assert_eq!(l.reconfigure(bad), Err(LobbyError::BadOptions));
    }
    assert_eq!(deliveries(&mut l), vec![]);
    assert_eq!(l.room_of(a), Some(1));
    assert_eq!(l.config().rooms.len(), 2);
}

#[test]
fn new_limits_apply_at_once() {
    let mut l = Lobby::new(config());
    let a = login(&mut l, "alice", 0);
    l.drain().for_each(drop);
    let mut next = config();
    next.chat_len = 4;
    l.reconfigure(next).unwrap();
    l.chat(a, ChatKind::Normal, None, "abcdefgh", T0);
    let texts: Vec<_> = deliveries(&mut l)
        .into_iter()
        .filter_map(|(e, _)| match e {
            LobbyEvent::Chat { text, .. } => text,
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["abcd"]);
}

#[test]
fn an_operator_kicks_gags_announces_and_ends_tables() {
    let mut l = Lobby::new(config());
    let a = login(&mut l, "alice", 1);
    let b = login(&mut l, "bob", 0);
    l.launch(a, table([SeatKind::Open, SeatKind::Bot]));
    l.drain().for_each(drop);

    l.broadcast("ops", "maintenance at noon, be ready");
    assert_eq!(
        deliveries(&mut l),
        vec![(
            LobbyEvent::Chat {
                kind: ChatKind::Announce,
                from: "ops".into(),
                text: Some("maintenance at n".into()),
            },
            vec![a, b]
        )]
    );

    assert_eq!(l.close_table(1, 1), Ok(()));
    assert_eq!(l.table_of(a), None);
    assert_eq!(l.close_table(1, 1), Err(LobbyError::NoTable));
    l.drain().for_each(drop);

    l.operate("ops", AdminAction::Gag, "BOB", "").unwrap();
    assert!(l.gagged(b));
    assert_eq!(
        l.operate("ops", AdminAction::Kick, "nobody", ""),
        Err(LobbyError::UnknownPlayer)
    );
    l.operate("ops", AdminAction::Kick, "alice", "cheating")
        .unwrap();
    assert_eq!(
        deliveries(&mut l)[0],
        (
            LobbyEvent::Kicked {
                by: "ops".into(),
                reason: "cheating".into()
            },
            vec![a]
        )
    );
    assert_eq!(l.find("alice"), None);
    assert_eq!(l.online_players().len(), 1);
}
