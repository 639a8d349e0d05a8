//! The lobby core, without sockets: who hears what, in which order.

use glou_core::Timestamp;
use glou_core::account::{Perm, Perms};
use glou_core::lobby::{
    Action, AdminAction, Audience, ChatKind, Counts, Delivery, GameRules, LeaveReason, Lobby,
    LobbyConfig, LobbyError, LobbyEvent, Login, PlayerId, ReseatAction, RoomRules, SeatChange,
    SeatKind, SeatSpec, SeatView, TableEdit, TableOrder, TableSpec, TableStatus,
};

const T0: Timestamp = Timestamp::from_millis(1_000_000);

fn tictactoe() -> GameRules {
    GameRules {
        key: "tictactoe".into(),
        players: Counts::of([2]),
        bots: Counts::of([1]),
        named_bots: vec!["Alfred".into()],
        spectators: true,
        allow_leave: true,
        kill_when_empty: true,
        module: false,
    }
}

/// The lobby of [`lobby`], with TicTacToe run by a game program.
fn module_lobby() -> Lobby {
    let mut config = lobby().config().clone();
    config.games[0].module = true;
    Lobby::new(config)
}

/// Logs in `name` and puts them in the game room, draining what that produced.
fn in_game_room(l: &mut Lobby, name: &str) -> PlayerId {
    let p = guest(l, name);
    l.enter(p, 1, None);
    l.drain().for_each(drop);
    p
}

fn lobby() -> Lobby {
    let room = |game, max_players| RoomRules {
        game,
        max_players,
        max_tables: 2,
        restriction: None,
        closed: false,
    };
    Lobby::new(LobbyConfig {
        games: vec![tictactoe()],
        rooms: vec![
            room(None, 100),
            room(Some(0), 100),
            room(None, 1),
            RoomRules {
                restriction: Some(Perm::RoomsLogin),
                ..room(None, 100)
            },
        ],
        chat_len: 8,
        max_tables: 10,
        chat_burst: 3.0,
        chat_rate: 1.0,
    })
}

fn guest(lobby: &mut Lobby, name: &str) -> PlayerId {
    lobby
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
        .unwrap()
}

/// The events each player received, in order, since the last call.
fn heard(lobby: &mut Lobby, who: PlayerId) -> Vec<LobbyEvent> {
    let all: Vec<Delivery> = lobby.drain().collect();
    let mut mine = Vec::new();
    for d in all {
        if lobby.recipients(d.to).any(|p| p == who) {
            mine.push(d.event);
        }
    }
    mine
}

/// Drains and returns, per delivery, the event and its recipients.
fn deliveries(lobby: &mut Lobby) -> Vec<(LobbyEvent, Vec<PlayerId>)> {
    let all: Vec<Delivery> = lobby.drain().collect();
    all.into_iter()
        .map(|d| {
            let mut to: Vec<PlayerId> = lobby.recipients(d.to).collect();
            to.sort();
            (d.event, to)
        })
        .collect()
}

fn ok(action: Action) -> LobbyEvent {
    LobbyEvent::Reply {
        action,
        outcome: Ok(()),
    }
}

fn err(action: Action, e: LobbyError) -> LobbyEvent {
    LobbyEvent::Reply {
        action,
        outcome: Err(e),
    }
}

fn seats(kinds: &[SeatKind]) -> TableSpec {
    TableSpec {
        game: Some(0),
        desc: "Fun with ggz".into(),
        seats: kinds
            .iter()
            .map(|&kind| SeatSpec { kind, name: None })
            .collect(),
    }
}

#[test]
fn the_same_name_cannot_log_in_twice() {
    let mut l = lobby();
    guest(&mut l, "alice");
    let again = l.login(
        Login {
            name: "ALICE".into(),
            perms: Perms::GUEST,
            guest: true,
            gagged: false,
            needs_channel: false,
        },
        T0,
    );
    assert_eq!(again, Err(LobbyError::AlreadyLoggedIn));
}

#[test]
fn entering_tells_both_rooms_but_never_the_mover() {
    let mut l = lobby();
    let (a, b) = (guest(&mut l, "alice"), guest(&mut l, "bob"));
    l.enter(a, 0, None);
    l.enter(b, 0, None);
    l.drain().for_each(drop);
    l.enter(b, 1, None);
    let d = deliveries(&mut l);
    assert_eq!(d[0], (ok(Action::Enter), vec![b]));
    assert!(
        matches!(&d[1], (LobbyEvent::PlayerLeft { room: 0, to: Some(1), name }, to) if name == "bob" && to == &vec![a])
    );
    assert!(
        matches!(&d[2], (LobbyEvent::PlayerEntered { room: 1, from: Some(0), player }, to) if player.name == "bob" && to.is_empty())
    );
    assert_eq!(l.players(1).len(), 1);
    assert_eq!(l.players(0)[0].name, "alice");
}

#[test]
fn rooms_refuse_bad_indexes_full_rooms_and_restricted_entry() {
    let mut l = lobby();
    let (a, b) = (guest(&mut l, "alice"), guest(&mut l, "bob"));
    l.enter(a, 7, None);
    l.enter(a, 2, None);
    l.enter(b, 2, None);
    l.enter(b, 3, None);
    let replies: Vec<_> = deliveries(&mut l)
        .into_iter()
        .filter(|(e, _)| matches!(e, LobbyEvent::Reply { .. }))
        .map(|(e, _)| e)
        .collect();
    assert_eq!(
        replies,
        [
            err(Action::Enter, LobbyError::BadOptions),
            ok(Action::Enter),
            err(Action::Enter, LobbyError::RoomFull),
            err(Action::Enter, LobbyError::NoPermission),
        ]
    );
}

#[test]
fn chat_kinds_reach_the_right_players() {
    let mut l = lobby();
    let (a, b, c) = (
        guest(&mut l, "alice"),
        guest(&mut l, "bob"),
        guest(&mut l, "carol"),
    );
    l.enter(a, 1, None);
    l.enter(b, 1, None);
    l.enter(c, 0, None);
    l.drain().for_each(drop);

    l.chat(a, ChatKind::Normal, None, "hi room", T0);
    let d = deliveries(&mut l);
    assert_eq!(d[0], (ok(Action::Chat), vec![a]));
    assert_eq!(d[1].1, vec![a, b], "room chat is echoed to the sender");

    l.chat(a, ChatKind::Private, Some("CAROL"), "psst", T0);
    let d = deliveries(&mut l);
    assert_eq!(d[1].1, vec![c], "private chat is not echoed");

    l.chat(a, ChatKind::Beep, Some("nobody"), "", T0);
    assert_eq!(
        deliveries(&mut l),
        [(err(Action::Chat, LobbyError::UnknownPlayer), vec![a])]
    );

    l.chat(a, ChatKind::Announce, None, "hear ye", T10);
    assert_eq!(
        deliveries(&mut l),
        [(err(Action::Chat, LobbyError::NoPermission), vec![a])]
    );
    l.chat(a, ChatKind::Table, None, "gl", T10);
    assert_eq!(
        deliveries(&mut l),
        [(err(Action::Chat, LobbyError::NoTable), vec![a])]
    );
}

const T10: Timestamp = Timestamp::from_millis(1_010_000);

#[test]
fn long_chat_is_cut_and_beeps_carry_no_text() {
    let mut l = lobby();
    let a = guest(&mut l, "alice");
    l.enter(a, 0, None);
    l.drain().for_each(drop);
    l.chat(a, ChatKind::Normal, None, "ééééééééééé", T0);
    l.chat(a, ChatKind::Beep, Some("alice"), "ignored", T0);
    let d = heard(&mut l, a);
    assert!(matches!(&d[1], LobbyEvent::Chat { text: Some(t), .. } if t == "éééééééé"));
    assert!(matches!(
        &d[3],
        LobbyEvent::Chat {
            kind: ChatKind::Beep,
            text: None,
            ..
        }
    ));
}

#[test]
fn a_flood_is_refused_and_a_gag_keeps_chat_to_oneself() {
    let mut l = lobby();
    let (a, b) = (guest(&mut l, "alice"), guest(&mut l, "bob"));
    l.enter(a, 0, None);
    l.enter(b, 0, None);
    l.drain().for_each(drop);
    for _ in 0..4 {
        l.chat(a, ChatKind::Normal, None, "spam", T0);
    }
    let replies: Vec<_> = heard(&mut l, a)
        .into_iter()
        .filter(|e| matches!(e, LobbyEvent::Reply { .. }))
        .collect();
    assert_eq!(replies[3], err(Action::Chat, LobbyError::Flood));
    // A second later one more message is allowed.
    l.chat(
        a,
        ChatKind::Normal,
        None,
        "again",
        T0.saturating_add(std::time::Duration::from_secs(1)),
    );
    assert_eq!(heard(&mut l, a)[0], ok(Action::Chat));

    let mut admin_perms = Perms::ADMIN;
    admin_perms = admin_perms.with(Perm::RoomsAdmin, true);
    let boss = l
        .login(
            Login {
                name: "boss".into(),
                perms: admin_perms,
                guest: false,
                gagged: false,
                needs_channel: false,
            },
            T0,
        )
        .unwrap();
    l.admin(b, AdminAction::Gag, "alice", "");
    assert_eq!(
        heard(&mut l, b),
        [err(Action::Admin, LobbyError::NoPermission)]
    );
    l.admin(boss, AdminAction::Gag, "alice", "");
    l.drain().for_each(drop);
    l.chat(a, ChatKind::Normal, None, "shh", T10);
    let d = deliveries(&mut l);
    assert_eq!(d[1].1, vec![a], "a gagged player only hears themselves");
    l.admin(boss, AdminAction::Kick, "bob", "bye");
    let d = deliveries(&mut l);
    assert!(matches!(&d[0], (LobbyEvent::Kicked { by, .. }, to) if by == "boss" && to == &vec![b]));
    assert_eq!(l.find("bob"), None);
}

#[test]
fn launch_follows_ggzd_order_and_the_table_plays_when_full() {
    let mut l = lobby();
    let (a, b) = (guest(&mut l, "alice"), guest(&mut l, "dave"));
    l.enter(a, 1, None);
    l.enter(b, 1, None);
    l.drain().for_each(drop);
    l.launch(a, seats(&[SeatKind::Open, SeatKind::Bot]));
    let d = heard(&mut l, a);
    let kinds: Vec<&str> = d
        .iter()
        .map(|e| match e {
            LobbyEvent::TableAdded { table, .. } => {
                assert_eq!((table.id, table.status), (1, TableStatus::Waiting));
                "add"
            }
            LobbyEvent::Reply {
                action: Action::Launch,
                outcome: Ok(()),
            } => "ok",
            LobbyEvent::Seat {
                change: SeatChange::Join,
                seat,
                ..
            } => {
                assert_eq!(
                    (seat.num, seat.kind, seat.name.as_deref()),
                    (0, SeatKind::Player, Some("alice"))
                );
                "join"
            }
            LobbyEvent::Joined {
                table: 1,
                spectator: false,
            } => "JOIN",
            LobbyEvent::TableStatus {
                status: TableStatus::Playing,
                ..
            } => "playing",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["add", "ok", "join", "JOIN", "playing"]);
    assert_eq!(l.table_of(a), Some(1));
    assert_eq!(l.players(1)[0].table, Some(1));

    // The table is full: a second player may only watch.
    l.join(b, 1, false, None);
    assert_eq!(heard(&mut l, b), [err(Action::Join, LobbyError::TableFull)]);
    l.join(b, 0, true, None);
    assert_eq!(heard(&mut l, b), [err(Action::Join, LobbyError::NoTable)]);
    l.join(b, 1, true, None);
    let d = heard(&mut l, b);
    assert_eq!(d[0], ok(Action::Join));
    assert!(
        matches!(&d[1], LobbyEvent::Spectator { change: SeatChange::Join, spectators: 1, num: 0, name, .. } if name == "dave")
    );
    assert_eq!(
        d[2],
        LobbyEvent::Joined {
            table: 1,
            spectator: true
        }
    );

    // Table chat reaches the table only.
    l.chat(b, ChatKind::Table, None, "gl hf", T0);
    let d = deliveries(&mut l);
    assert_eq!(d[1].1, vec![a, b]);

    // The last player leaves: leave, done, removed, then the reply; the spectator is
    // told the game is over.
    l.leave(a, true);
    let d = deliveries(&mut l);
    let seq: Vec<String> = d
        .iter()
        .map(|(e, to)| match e {
            LobbyEvent::Seat {
                change: SeatChange::Leave,
                ..
            } => "leave".into(),
            LobbyEvent::TableStatus {
                status: TableStatus::Done,
                ..
            } => "done".into(),
            LobbyEvent::TableRemoved { id: 1, .. } => "removed".into(),
            LobbyEvent::Left {
                reason: LeaveReason::GameOver,
                ..
            } => format!("gameover{to:?}"),
            LobbyEvent::Reply {
                action: Action::Leave,
                outcome: Ok(()),
            } => "ok".into(),
            LobbyEvent::Left {
                reason: LeaveReason::Normal,
                ..
            } => "LEAVE".into(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        seq,
        [
            "leave",
            "done",
            "removed",
            format!("gameover{:?}", [b]).as_str(),
            "ok",
            "LEAVE"
        ]
    );
    assert!(l.tables(1).is_empty());
    assert_eq!((l.table_of(a), l.table_of(b)), (None, None));
}

#[test]
fn launch_checks_the_room_the_seats_and_the_channel() {
    let mut l = lobby();
    let a = guest(&mut l, "alice");
    let ch = l
        .login(
            Login {
                name: "ggzclient".into(),
                perms: Perms::GUEST,
                guest: true,
                gagged: false,
                needs_channel: true,
            },
            T0,
        )
        .unwrap();
    l.launch(a, seats(&[SeatKind::Open, SeatKind::Bot]));
    l.enter(a, 0, None);
    l.launch(a, seats(&[SeatKind::Open, SeatKind::Bot]));
    l.enter(a, 1, None);
    l.launch(a, seats(&[SeatKind::Open, SeatKind::Open, SeatKind::Open]));
    l.launch(a, seats(&[SeatKind::Bot, SeatKind::Bot]));
    l.launch(
        a,
        TableSpec {
            seats: vec![
                SeatSpec {
                    kind: SeatKind::Open,
                    name: None,
                },
                SeatSpec {
                    kind: SeatKind::Bot,
                    name: Some("Nobody".into()),
                },
            ],
            ..seats(&[])
        },
    );
    let replies: Vec<_> = heard(&mut l, a)
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                LobbyEvent::Reply {
                    action: Action::Launch,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(
        replies,
        [
            err(Action::Launch, LobbyError::NotInRoom),
            err(Action::Launch, LobbyError::NotInRoom),
            err(Action::Launch, LobbyError::BadOptions),
            err(Action::Launch, LobbyError::BadOptions),
            err(Action::Launch, LobbyError::BadOptions),
        ]
    );
    l.enter(ch, 1, None);
    l.launch(ch, seats(&[SeatKind::Open, SeatKind::Open]));
    assert_eq!(
        heard(&mut l, ch)[1],
        err(Action::Launch, LobbyError::NoChannel)
    );
    l.set_channel(ch, true);
    l.launch(ch, seats(&[SeatKind::Open, SeatKind::Open]));
    assert!(heard(&mut l, ch).contains(&ok(Action::Launch)));
}

#[test]
fn table_ids_are_the_lowest_free_from_one_and_limits_hold() {
    let mut l = lobby();
    let ps: Vec<PlayerId> = ["a", "b", "c"].iter().map(|n| guest(&mut l, n)).collect();
    for p in &ps {
        l.enter(*p, 1, None);
        l.launch(*p, seats(&[SeatKind::Open, SeatKind::Open]));
    }
    assert_eq!(
        l.tables(1).iter().map(|t| t.id).collect::<Vec<_>>(),
        [1, 2],
        "max_tables is 2 per room"
    );
    assert_eq!(
        l.table_counts(),
        (2, 2),
        "two tables, each with a seat open"
    );
    assert!(heard(&mut l, ps[2]).contains(&err(Action::Launch, LobbyError::RoomFull)));
    l.leave(ps[0], false);
    l.launch(ps[2], seats(&[SeatKind::Open, SeatKind::Open]));
    assert_eq!(l.table_of(ps[2]), Some(1));
}

#[test]
fn reserved_seats_wait_for_their_player_and_owners_edit_tables() {
    let mut l = lobby();
    let (a, b, c) = (
        guest(&mut l, "alice"),
        guest(&mut l, "bob"),
        guest(&mut l, "carol"),
    );
    for p in [a, b, c] {
        l.enter(p, 1, None);
    }
    l.launch(
        a,
        TableSpec {
            seats: vec![
                SeatSpec {
                    kind: SeatKind::Open,
                    name: None,
                },
                SeatSpec {
                    kind: SeatKind::Reserved,
                    name: Some("bob".into()),
                },
            ],
            ..seats(&[])
        },
    );
    l.drain().for_each(drop);
    l.join(c, 1, false, None);
    assert_eq!(heard(&mut l, c), [err(Action::Join, LobbyError::TableFull)]);
    l.join(c, 1, false, Some(1));
    assert_eq!(
        heard(&mut l, c),
        [err(Action::Join, LobbyError::SeatAssignFailed)]
    );
    // Only the owner edits.
    l.edit_table(c, 1, TableEdit::Desc("mine".into()));
    assert_eq!(
        heard(&mut l, c),
        [err(Action::Update, LobbyError::NoPermission)]
    );
    l.edit_table(a, 1, TableEdit::Desc("new desc".into()));
    assert!(
        matches!(&heard(&mut l, c)[0], LobbyEvent::TableDesc { desc, .. } if desc == "new desc")
    );
    l.join(b, 1, false, None);
    let d = heard(&mut l, b);
    assert!(matches!(&d[1], LobbyEvent::Seat { seat, .. } if seat.num == 1));
    assert!(d.iter().any(|e| matches!(
        e,
        LobbyEvent::TableStatus {
            status: TableStatus::Playing,
            ..
        }
    )));
    // Boot bob: he is told by whom; the seat opens and the table waits again.
    l.edit_table(a, 1, TableEdit::Boot { name: "bob".into() });
    let d = heard(&mut l, b);
    assert!(d.contains(&LobbyEvent::Left {
        reason: LeaveReason::Boot,
        by: Some("alice".into())
    }));
    assert_eq!(l.table(1, 1).unwrap().status, TableStatus::Waiting);
    // Make seat 1 a bot: the table plays.
    l.edit_table(
        a,
        1,
        TableEdit::Seat {
            num: 1,
            seat: SeatSpec {
                kind: SeatKind::Bot,
                name: None,
            },
        },
    );
    assert_eq!(l.table(1, 1).unwrap().status, TableStatus::Playing);
    // A seated player cannot be replaced.
    l.edit_table(
        a,
        1,
        TableEdit::Seat {
            num: 0,
            seat: SeatSpec {
                kind: SeatKind::Open,
                name: None,
            },
        },
    );
    assert_eq!(
        heard(&mut l, a).last().unwrap(),
        &err(Action::Update, LobbyError::SeatAssignFailed)
    );
}

#[test]
fn reseat_moves_between_seats_and_spectating_without_ending_the_table() {
    let mut l = lobby();
    let a = guest(&mut l, "alice");
    l.enter(a, 1, None);
    l.launch(a, seats(&[SeatKind::Open, SeatKind::Open]));
    l.reseat(a, ReseatAction::Move, Some(1));
    assert_eq!(
        l.table(1, 1).unwrap().seats[1].name.as_deref(),
        Some("alice")
    );
    l.reseat(a, ReseatAction::Stand, None);
    // Standing up leaves no seated human: the table ends.
    assert!(l.table(1, 1).is_none());
    l.drain().for_each(drop);
    l.reseat(a, ReseatAction::Sit, None);
    assert_eq!(heard(&mut l, a), [err(Action::Reseat, LobbyError::NoTable)]);
}

#[test]
fn a_game_that_forbids_leaving_ends_on_a_forced_leave() {
    let mut l = lobby();
    let mut rules = tictactoe();
    rules.allow_leave = false;
    let mut config = l.config().clone();
    config.games = vec![rules];
    l = Lobby::new(config);
    let (a, b) = (guest(&mut l, "alice"), guest(&mut l, "bob"));
    l.enter(a, 1, None);
    l.enter(b, 1, None);
    l.launch(a, seats(&[SeatKind::Open, SeatKind::Open]));
    l.join(b, 1, false, None);
    l.drain().for_each(drop);
    l.leave(a, false);
    assert_eq!(
        heard(&mut l, a),
        [err(Action::Leave, LobbyError::LeaveForbidden)]
    );
    l.leave(a, true);
    let d = heard(&mut l, b);
    assert!(d.contains(&LobbyEvent::Left {
        reason: LeaveReason::GameOver,
        by: None
    }));
    assert!(l.tables(1).is_empty());
}

#[test]
fn logout_leaves_the_table_and_the_room_and_counts_are_announced_once() {
    let mut l = lobby();
    let (a, b) = (guest(&mut l, "alice"), guest(&mut l, "bob"));
    l.enter(a, 1, None);
    l.enter(b, 1, None);
    l.launch(a, seats(&[SeatKind::Open, SeatKind::Open]));
    l.room_counts();
    l.drain().for_each(drop);
    l.room_counts();
    assert_eq!(l.drain().count(), 0, "nothing changed");
    l.logout(a);
    let d = heard(&mut l, b);
    assert!(
        matches!(d.last(), Some(LobbyEvent::PlayerLeft { to: None, name, .. }) if name == "alice")
    );
    assert!(l.tables(1).is_empty());
    l.room_counts();
    let d = deliveries(&mut l);
    assert_eq!(
        d,
        [(
            LobbyEvent::RoomCount {
                room: 1,
                players: 1
            },
            vec![b]
        )]
    );
    assert!(matches!(
        l.recipients(Audience::Everyone).collect::<Vec<_>>().as_slice(),
        [p] if *p == b
    ));
}

#[test]
fn lag_and_perms_changes_reach_the_room() {
    let mut l = lobby();
    let (a, b) = (guest(&mut l, "alice"), guest(&mut l, "bob"));
    l.enter(a, 0, None);
    l.enter(b, 0, None);
    l.drain().for_each(drop);
    l.set_lag(a, 3);
    l.set_lag(a, 3);
    let d = deliveries(&mut l);
    assert_eq!(d.len(), 1, "an unchanged lag is not news");
    assert_eq!(d[0].1, vec![a, b]);
    l.set_perms(b, Perms::GUEST.with(Perm::ChatAnnounce, true));
    l.chat(b, ChatKind::Announce, None, "hello all", T0);
    let d = deliveries(&mut l);
    assert!(matches!(&d[0].0, LobbyEvent::Perms { name, .. } if name == "bob"));
    assert!(
        matches!(&d[2], (LobbyEvent::Chat { kind: ChatKind::Announce, .. }, to) if to == &vec![a, b])
    );
}

#[test]
fn a_module_table_appears_when_its_game_waits_and_ends_when_it_is_done() {
    let mut l = module_lobby();
    let alice = in_game_room(&mut l, "alice");
    let bob = in_game_room(&mut l, "bob");
    l.launch(alice, seats(&[SeatKind::Open, SeatKind::Bot]));
    // Nothing is told until the game program waits for players.
    assert!(deliveries(&mut l).is_empty());
    assert!(l.tables(1).is_empty());
    let open = |num| SeatView {
        num,
        kind: SeatKind::Open,
        name: None,
    };
    let bot = SeatView {
        num: 1,
        kind: SeatKind::Bot,
        name: None,
    };
    let start: Vec<TableOrder> = l.drain_orders().collect();
    let serial = match start[..] {
        [TableOrder::Start { serial, .. }] => serial,
        _ => panic!("{start:?}"),
    };
    assert_eq!(
        start,
        [TableOrder::Start {
            room: 1,
            table: 1,
            serial,
            game: 0,
            seats: vec![open(0), bot.clone()],
        }]
    );
    // A report for another table that had this id is ignored.
    l.game_status(1, 1, serial + 1000, TableStatus::Waiting);
    assert!(l.tables(1).is_empty());
    // A second launch while the first is being created is refused.
    l.launch(alice, seats(&[SeatKind::Open, SeatKind::Bot]));
    assert_eq!(
        heard(&mut l, alice),
        [err(Action::Launch, LobbyError::LaunchFailed)]
    );

    l.game_status(1, 1, serial, TableStatus::Waiting);
    let to_alice = heard(&mut l, alice);
    assert!(matches!(
        to_alice[0],
        LobbyEvent::TableAdded { room: 1, .. }
    ));
    assert_eq!(to_alice[1], ok(Action::Launch));
    let alice_seat = SeatView {
        num: 0,
        kind: SeatKind::Player,
        name: Some("alice".into()),
    };
    assert_eq!(
        l.drain_orders().collect::<Vec<_>>(),
        [TableOrder::Seat {
            room: 1,
            table: 1,
            seat: alice_seat,
            player: Some(alice),
        }]
    );
    // The lobby does not settle a module's table: the game says when it plays.
    assert_eq!(l.table(1, 1).unwrap().status, TableStatus::Waiting);
    l.game_status(1, 1, serial, TableStatus::Playing);
    let status = |status| LobbyEvent::TableStatus {
        room: 1,
        id: 1,
        status,
        seats: 2,
    };
    assert_eq!(heard(&mut l, bob), [status(TableStatus::Playing)]);

    l.game_status(1, 1, serial, TableStatus::Done);
    let all = deliveries(&mut l);
    assert_eq!(all[0], (status(TableStatus::Done), vec![alice, bob]));
    assert!(matches!(all[1].0, LobbyEvent::TableRemoved { id: 1, .. }));
    assert_eq!(
        all[2],
        (
            LobbyEvent::Left {
                reason: LeaveReason::GameOver,
                by: None
            },
            vec![alice]
        )
    );
    assert_eq!(
        l.drain_orders().collect::<Vec<_>>(),
        [TableOrder::Stop { room: 1, table: 1 }]
    );
    assert_eq!(l.table_of(alice), None);
}

#[test]
fn a_failing_module_ends_its_table_with_a_game_error() {
    let mut l = module_lobby();
    let alice = in_game_room(&mut l, "alice");
    // Failing before it waits: the launch fails, nobody else hears of the table.
    l.launch(alice, seats(&[SeatKind::Open, SeatKind::Bot]));
    let serial = started(&mut l);
    l.game_failed(1, 1, serial);
    assert_eq!(
        deliveries(&mut l),
        [(err(Action::Launch, LobbyError::LaunchFailed), vec![alice])]
    );
    assert_eq!(l.table_counts().0, 0);

    // Failing mid-game: everyone at the table hears of a game error.
    let bob = in_game_room(&mut l, "bob");
    l.launch(alice, seats(&[SeatKind::Open, SeatKind::Open]));
    let serial = started(&mut l);
    l.game_status(1, 1, serial, TableStatus::Waiting);
    l.join(bob, 1, false, None);
    l.drain().for_each(drop);
    l.drain_orders().for_each(drop);
    l.game_failed(1, 1, serial);
    let left = LobbyEvent::Left {
        reason: LeaveReason::GameError,
        by: None,
    };
    let all = deliveries(&mut l);
    assert_eq!(all[2..], [(left.clone(), vec![alice]), (left, vec![bob])]);
    assert_eq!(
        l.drain_orders().collect::<Vec<_>>(),
        [TableOrder::Stop { room: 1, table: 1 }]
    );
}

#[test]
fn a_module_hears_of_seats_spectators_and_reseats_and_may_change_seats() {
    let mut l = module_lobby();
    let alice = in_game_room(&mut l, "alice");
    let bob = in_game_room(&mut l, "bob");
    l.launch(alice, seats(&[SeatKind::Open, SeatKind::Open]));
    let serial = started(&mut l);
    l.game_status(1, 1, serial, TableStatus::Waiting);
    l.join(bob, 1, true, None);
    l.drain_orders().for_each(drop);
    l.drain().for_each(drop);

    l.reseat(bob, ReseatAction::Sit, None);
    assert_eq!(
        l.drain_orders().collect::<Vec<_>>(),
        [TableOrder::Reseat {
            room: 1,
            table: 1,
            old: 0,
            was_spectator: true,
            new: 1,
            is_spectator: false,
        }]
    );
    l.leave(bob, false);
    assert_eq!(
        l.drain_orders().collect::<Vec<_>>(),
        [TableOrder::Seat {
            room: 1,
            table: 1,
            seat: SeatView {
                num: 1,
                kind: SeatKind::Open,
                name: None
            },
            player: None,
        }]
    );
    l.drain().for_each(drop);

    // The program's own requests: a bot in seat 1, a third seat, a boot.
    assert!(l.game_seat(1, 1, serial, 1, true));
    assert!(l.game_seat_count(1, 1, serial, 3));
    assert!(!l.game_seat_count(1, 1, serial, 0));
    assert!(!l.game_seat(1, 1, serial, 0, false), "alice sits there");
    let names = l.seat_names(1, 1);
    assert_eq!(names[1], (1, SeatKind::Bot, None));
    assert_eq!(names[2], (2, SeatKind::Open, None));
    assert!(l.game_boot(1, 1, serial, "alice"));
    assert!(!l.game_boot(1, 1, serial, "bob"));
    assert!(heard(&mut l, alice).contains(&LobbyEvent::Left {
        reason: LeaveReason::Boot,
        by: None
    }));
}

/// The serial of the table whose program the lobby last ordered started.
fn started(l: &mut Lobby) -> u64 {
    let orders: Vec<TableOrder> = l.drain_orders().collect();
    orders
        .iter()
        .rev()
        .find_map(|o| match o {
            TableOrder::Start { serial, .. } => Some(*serial),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no start in {orders:?}"))
}
