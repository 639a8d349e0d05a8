//! The table driven message by message, as the lobby and the players would.

use glou_proto::ggzdmod::{GameResult, ReportEntry};

use super::*;
use crate::client::{Client, ClientEvent, ClientState};
use crate::protocol::{MoveStatus, PlayerEntry};

const ALICE: ConnId = ConnId(1);
const BOB: ConnId = ConnId(2);
const EVE: ConnId = ConnId(3);

fn seat(seat_type: SeatType, name: Option<&str>) -> LaunchSeat {
    LaunchSeat {
        seat_type,
        name: name.map(str::to_owned),
    }
}

fn launch(dialect: Dialect, seats: Vec<LaunchSeat>) -> Table {
    let mut table = Table::new(Config {
        dialect,
        bot_classes: vec![("Alfred".into(), Difficulty::Easy)],
    });
    table.handle_control(
        ControlMessage::Launch {
            game: "tictactoe".into(),
            savegame: String::new(),
            seats,
            spectators: 0,
        },
        None,
    );
    table
}

fn drain(table: &mut Table) -> Vec<Output> {
    std::iter::from_fn(|| table.poll_output()).collect()
}

/// The control messages in `out`, logs included.
fn control(out: &[Output]) -> Vec<TableMessage> {
    out.iter()
        .filter_map(|o| match o {
            Output::Control(m) => Some(m.clone()),
            Output::Send { .. } | Output::Close { .. } => None,
        })
        .collect()
}

/// The control messages in `out` that are not logs.
fn requests(out: &[Output]) -> Vec<TableMessage> {
    control(out)
        .into_iter()
        .filter(|m| !matches!(m, TableMessage::Log(_)))
        .collect()
}

fn sent(out: &[Output], to: ConnId) -> Vec<ServerMessage> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send { conn, message } if *conn == to => Some(message.clone()),
            Output::Send { .. } | Output::Control(_) | Output::Close { .. } => None,
        })
        .collect()
}

fn closed(out: &[Output]) -> Vec<ConnId> {
    out.iter()
        .filter_map(|o| match o {
            Output::Close { conn } => Some(*conn),
            Output::Send { .. } | Output::Control(_) => None,
        })
        .collect()
}

fn log(line: &str) -> TableMessage {
    TableMessage::Log(line.into())
}

fn join(table: &mut Table, num: i32, name: &str, conn: ConnId) -> Vec<Output> {
    let message = ControlMessage::Seat {
        num,
        seat_type: SeatType::Player,
        name: name.into(),
    };
    table.handle_control(message, Some(conn));
    drain(table)
}

fn leave(table: &mut Table, num: i32) -> Vec<Output> {
    let message = ControlMessage::Seat {
        num,
        seat_type: SeatType::Open,
        name: String::new(),
    };
    table.handle_control(message, None);
    drain(table)
}

fn play(table: &mut Table, conn: ConnId, cell: i32) -> Vec<Output> {
    let mut bytes = Vec::new();
    ClientMessage::SndMove { cell }.encode(&mut bytes);
    table.handle_data(conn, &bytes);
    drain(table)
}

fn rsp(status: MoveStatus) -> ServerMessage {
    ServerMessage::RspMove { status }
}

fn entry(name: &str, seat_type: SeatType, team: i32, result: GameResult) -> ReportEntry {
    ReportEntry {
        name: name.into(),
        seat_type,
        team,
        result,
        score: 0,
    }
}

/// Two humans: alice (X, seat 0) and bob (O, seat 1), game started.
fn two_players() -> Table {
    let mut t = launch(
        Dialect::Trunk,
        vec![seat(SeatType::Open, None), seat(SeatType::Open, None)],
    );
    drain(&mut t);
    join(&mut t, 0, "alice", ALICE);
    join(&mut t, 1, "bob", BOB);
    t
}

#[test]
fn the_control_conversation_matches_the_capture() {
    // t5_ggzdmod.txt: launch with seat 0 open and seat 1 an unnamed bot, then alice sits.
    let mut t = launch(
        Dialect::Trunk,
        vec![seat(SeatType::Open, None), seat(SeatType::Bot, None)],
    );
    assert_eq!(
        control(&drain(&mut t)),
        [
            log("GGZDMOD: Connecting to GGZ server."),
            log("GGZDMOD: Seat 0 is open"),
            log("GGZDMOD: Seat 1 is a bot named AI"),
            log("GGZDMOD: Game setting state to 1"),
            TableMessage::State(GameState::Waiting),
        ]
    );
    t.handle_control(ControlMessage::StateAck, None);
    let out = join(&mut t, 0, "alice", ALICE);
    assert_eq!(
        control(&out),
        [
            // The original adds " on fd 4".
            log("Requesting move from player 0"),
            log("GGZDMOD: Game setting state to 2"),
            TableMessage::State(GameState::Playing),
            log("State change to 2"),
        ]
    );
    assert_eq!(sent(&out, ALICE), [ServerMessage::ReqMove]);
    assert_eq!(t.state(), GameState::Playing);
}

#[test]
fn a_full_game_against_the_hard_bot() {
    let mut t = launch(
        Dialect::Trunk,
        vec![seat(SeatType::Open, None), seat(SeatType::Bot, None)],
    );
    drain(&mut t);
    let mut client = Client::with_seat(Player::X);
    let mut out = join(&mut t, 0, "alice", ALICE);
    let mut moves = 0;
    while !t.is_done() {
        let mut events = Vec::new();
        for m in sent(&out, ALICE) {
            events.push(client.handle(m));
        }
        assert!(events.contains(&ClientEvent::YourTurn), "{events:?}");
        // A naive player: the first free cell.
        let cell = client.board().free_cells().next().unwrap();
        let mut bytes = Vec::new();
        client.send_move(cell, &mut bytes);
        t.handle_data(ALICE, &bytes);
        out = drain(&mut t);
        moves += 1;
        assert!(moves <= 5);
    }
    for m in sent(&out, ALICE) {
        client.handle(m);
    }
    assert_eq!(client.board(), t.board());
    assert_eq!(t.outcome(), Some(Outcome::Win(Player::O)));
    assert_eq!(client.outcome(), Some(Outcome::Win(Player::O)));
    assert_eq!(client.state(), ClientState::Done);
    assert_eq!(
        requests(&out),
        [
            TableMessage::Report(vec![
                entry("alice", SeatType::Player, 0, GameResult::Loss),
                entry("AI", SeatType::Bot, 1, GameResult::Win),
            ]),
            TableMessage::State(GameState::Done),
        ]
    );
    assert_eq!(
        sent(&out, ALICE).last(),
        Some(&ServerMessage::GameOver { winner: 1 })
    );
}

#[test]
fn two_players_to_a_win() {
    let mut t = two_players();
    assert_eq!(t.state(), GameState::Playing);
    for (conn, other, cell) in [
        (ALICE, BOB, 0),
        (BOB, ALICE, 3),
        (ALICE, BOB, 1),
        (BOB, ALICE, 4),
    ] {
        let out = play(&mut t, conn, cell);
        assert_eq!(sent(&out, conn), [rsp(MoveStatus::Ok)]);
        let player = if conn == ALICE { 0 } else { 1 };
        assert_eq!(
            sent(&out, other),
            [ServerMessage::Move { player, cell }, ServerMessage::ReqMove]
        );
    }
    let out = play(&mut t, ALICE, 2);
    assert_eq!(
        sent(&out, ALICE),
        [rsp(MoveStatus::Ok), ServerMessage::GameOver { winner: 0 }]
    );
    assert_eq!(
        sent(&out, BOB),
        [
            ServerMessage::Move { player: 0, cell: 2 },
            ServerMessage::GameOver { winner: 0 }
        ]
    );
    assert_eq!(
        requests(&out),
        [
            TableMessage::Report(vec![
                entry("alice", SeatType::Player, 0, GameResult::Win),
                entry("bob", SeatType::Player, 1, GameResult::Loss),
            ]),
            TableMessage::State(GameState::Done),
        ]
    );
    assert!(t.is_done());
    // After DONE a move is refused with the state error.
    assert_eq!(
        sent(&play(&mut t, BOB, 8), BOB),
        [rsp(MoveStatus::ErrState)]
    );
}

#[test]
fn a_tie_reports_tie_for_both() {
    let mut t = two_players();
    // X O X / X O O / O X X
    for (conn, cell) in [
        (ALICE, 0),
        (BOB, 1),
        (ALICE, 2),
        (BOB, 4),
        (ALICE, 3),
        (BOB, 5),
        (ALICE, 7),
        (BOB, 6),
    ] {
        assert_eq!(sent(&play(&mut t, conn, cell), conn), [rsp(MoveStatus::Ok)]);
    }
    let out = play(&mut t, ALICE, 8);
    assert_eq!(t.outcome(), Some(Outcome::Tie));
    assert_eq!(
        sent(&out, BOB).last(),
        Some(&ServerMessage::GameOver { winner: 2 })
    );
    assert_eq!(
        requests(&out)[0],
        TableMessage::Report(vec![
            entry("alice", SeatType::Player, 0, GameResult::Tie),
            entry("bob", SeatType::Player, 1, GameResult::Tie),
        ])
    );
}

#[test]
fn bad_moves_get_error_statuses() {
    let mut t = two_players();
    // Out of turn: just the error.
    assert_eq!(sent(&play(&mut t, BOB, 4), BOB), [rsp(MoveStatus::ErrTurn)]);
    // Out of bounds and occupied: the error, then the move is asked again.
    for cell in [-1, 9, i32::MAX] {
        assert_eq!(
            sent(&play(&mut t, ALICE, cell), ALICE),
            [rsp(MoveStatus::ErrBound), ServerMessage::ReqMove]
        );
    }
    play(&mut t, ALICE, 4);
    assert_eq!(
        sent(&play(&mut t, BOB, 4), BOB),
        [rsp(MoveStatus::ErrFull), ServerMessage::ReqMove]
    );
    assert_eq!(t.turn(), Some(Player::O));
    assert_eq!(t.board().move_count(), 1);
}

#[test]
fn moving_before_the_start_is_a_state_error() {
    let mut t = launch(
        Dialect::Trunk,
        vec![seat(SeatType::Open, None), seat(SeatType::Open, None)],
    );
    drain(&mut t);
    let out = join(&mut t, 0, "alice", ALICE);
    assert_eq!(requests(&out), []);
    assert_eq!(t.state(), GameState::Waiting);
    assert_eq!(
        sent(&play(&mut t, ALICE, 4), ALICE),
        [rsp(MoveStatus::ErrState)]
    );
    // A sync before the start: turn -1, empty board.
    let mut bytes = Vec::new();
    ClientMessage::ReqSync.encode(&mut bytes);
    t.handle_data(ALICE, &bytes);
    assert_eq!(
        sent(&drain(&mut t), ALICE),
        [ServerMessage::Sync {
            turn: -1,
            cells: [-1; 9]
        }]
    );
}

#[test]
fn garbage_drops_the_player_and_asks_to_boot_them() {
    for garbage in [
        vec![0, 0],                         // size below 2
        vec![0xff, 0xff],                   // over the packet limit
        vec![0, 7, 0, 0, 0, 0, 1],          // SND_MOVE cut short
        vec![0, 8, 0, 0, 0, 1, 0xaa, 0xbb], // REQ_SYNC with extra bytes
    ] {
        let mut t = two_players();
        t.handle_data(ALICE, &garbage);
        let out = drain(&mut t);
        assert_eq!(closed(&out), [ALICE], "{garbage:?}");
        assert_eq!(requests(&out), [TableMessage::Boot("alice".into())]);
        assert!(matches!(&control(&out)[0], TableMessage::Log(l) if l.contains("bad data")));
        // Later bytes from the dropped connection are ignored.
        assert_eq!(play(&mut t, ALICE, 4), []);
        assert_eq!(t.state(), GameState::Playing);
    }
}

#[test]
fn unknown_opcodes_are_logged_and_ignored() {
    let mut t = two_players();
    t.handle_data(ALICE, &[0, 6, 0, 0, 0, 9]);
    let out = drain(&mut t);
    assert_eq!(
        control(&out),
        [log("Unrecognized player opcode 9 from player 0")]
    );
    assert_eq!(sent(&play(&mut t, ALICE, 4), ALICE), [rsp(MoveStatus::Ok)]);
}

#[test]
fn a_player_who_leaves_and_one_who_rejoins() {
    let mut t = two_players();
    play(&mut t, ALICE, 0);
    let out = leave(&mut t, 1);
    assert_eq!(closed(&out), [BOB]);
    assert_eq!(requests(&out), [TableMessage::State(GameState::Waiting)]);
    // Another player takes seat 1: a sync of the game so far, then the move request.
    let out = join(&mut t, 1, "carol", EVE);
    assert_eq!(
        sent(&out, EVE),
        [
            ServerMessage::Sync {
                turn: 1,
                cells: [0, -1, -1, -1, -1, -1, -1, -1, -1]
            },
            ServerMessage::ReqMove
        ]
    );
    assert_eq!(requests(&out), [TableMessage::State(GameState::Playing)]);
    // Everyone leaves: DONE.
    leave(&mut t, 0);
    let out = leave(&mut t, 1);
    assert_eq!(requests(&out), [TableMessage::State(GameState::Done)]);
}

#[test]
fn a_disconnected_player_keeps_the_seat() {
    let mut t = two_players();
    t.handle_closed(BOB);
    let out = drain(&mut t);
    assert_eq!(closed(&out), [BOB]);
    assert_eq!(control(&out), [log("Player 1 disconnected")]);
    // Alice moves; nothing is sent to bob's closed connection.
    let out = play(&mut t, ALICE, 4);
    assert_eq!(sent(&out, BOB), []);
    assert_eq!(t.state(), GameState::Playing);
}

#[test]
fn protocol_5_sends_players_and_seat() {
    let mut t = launch(
        Dialect::V5,
        vec![
            seat(SeatType::Open, None),
            seat(SeatType::Bot, Some("Alfred")),
        ],
    );
    drain(&mut t);
    let out = join(&mut t, 0, "alice", ALICE);
    assert_eq!(
        sent(&out, ALICE),
        [
            ServerMessage::Players {
                seats: [
                    PlayerEntry {
                        seat_type: SeatType::Player,
                        name: Some("alice".into())
                    },
                    PlayerEntry {
                        seat_type: SeatType::Bot,
                        name: Some("Alfred".into())
                    },
                ]
            },
            ServerMessage::Seat { num: 0 },
            ServerMessage::ReqMove,
        ]
    );
}

#[test]
fn spectators_see_sync_moves_and_the_end() {
    let mut t = two_players();
    play(&mut t, ALICE, 4);
    t.handle_control(
        ControlMessage::Spectator {
            num: 0,
            name: "eve".into(),
        },
        Some(EVE),
    );
    let out = drain(&mut t);
    assert_eq!(
        sent(&out, EVE),
        [ServerMessage::Sync {
            turn: 1,
            cells: [-1, -1, -1, -1, 0, -1, -1, -1, -1]
        }]
    );
    // A spectator cannot move; the message is logged and ignored.
    assert_eq!(sent(&play(&mut t, EVE, 0), EVE), []);
    let out = play(&mut t, BOB, 0);
    assert_eq!(
        sent(&out, EVE),
        [ServerMessage::Move { player: 1, cell: 0 }]
    );
    let mut out = Vec::new();
    for (conn, cell) in [(ALICE, 3), (BOB, 1), (ALICE, 5)] {
        out = play(&mut t, conn, cell);
        let player = i32::from(conn == BOB);
        assert_eq!(sent(&out, EVE)[0], ServerMessage::Move { player, cell });
    }
    assert_eq!(sent(&out, EVE)[1], ServerMessage::GameOver { winner: 0 });
    assert_eq!(t.outcome(), Some(Outcome::Win(Player::X)));
    // The spectator leaving closes the connection.
    let mut t = two_players();
    t.handle_control(
        ControlMessage::Spectator {
            num: 0,
            name: "eve".into(),
        },
        Some(EVE),
    );
    drain(&mut t);
    t.handle_control(
        ControlMessage::Spectator {
            num: 0,
            name: String::new(),
        },
        None,
    );
    assert_eq!(closed(&drain(&mut t)), [EVE]);
}

#[test]
fn two_bots_play_at_once_to_a_tie() {
    let mut t = launch(
        Dialect::Trunk,
        vec![
            seat(SeatType::Bot, None),
            seat(SeatType::Bot, Some("Tarantula")),
        ],
    );
    let out = drain(&mut t);
    assert_eq!(t.outcome(), Some(Outcome::Tie));
    assert_eq!(
        requests(&out),
        [
            TableMessage::State(GameState::Waiting),
            TableMessage::State(GameState::Playing),
            TableMessage::Report(vec![
                entry("AI", SeatType::Bot, 0, GameResult::Tie),
                entry("Tarantula", SeatType::Bot, 1, GameResult::Tie),
            ]),
            TableMessage::State(GameState::Done),
        ]
    );
}

#[test]
fn a_launch_without_two_seats_ends_the_table() {
    let mut t = launch(
        Dialect::Trunk,
        vec![
            seat(SeatType::Open, None),
            seat(SeatType::Open, None),
            seat(SeatType::Open, None),
        ],
    );
    assert_eq!(
        requests(&drain(&mut t)),
        [TableMessage::State(GameState::Done)]
    );
    assert!(t.is_done());
}

#[test]
fn messages_for_missing_seats_close_the_fd() {
    let mut t = launch(
        Dialect::Trunk,
        vec![seat(SeatType::Open, None), seat(SeatType::Open, None)],
    );
    drain(&mut t);
    let out = join(&mut t, 2, "mallory", EVE);
    assert_eq!(closed(&out), [EVE]);
    assert_eq!(control(&out), [log("GGZDMOD: ERROR: no seat 2")]);
    let out = join(&mut t, -1, "mallory", EVE);
    assert_eq!(closed(&out), [EVE]);
}

#[test]
fn a_spectator_reseated_to_an_open_seat_starts_the_game() {
    let mut t = launch(
        Dialect::Trunk,
        vec![seat(SeatType::Open, None), seat(SeatType::Bot, None)],
    );
    drain(&mut t);
    t.handle_control(
        ControlMessage::Spectator {
            num: 3,
            name: "eve".into(),
        },
        Some(EVE),
    );
    drain(&mut t);
    t.handle_control(
        ControlMessage::Reseat {
            old: 3,
            was_spectator: true,
            new: 0,
            is_spectator: false,
        },
        None,
    );
    let out = drain(&mut t);
    assert_eq!(closed(&out), []);
    assert_eq!(sent(&out, EVE), [ServerMessage::ReqMove]);
    assert_eq!(t.state(), GameState::Playing);
    assert_eq!(sent(&play(&mut t, EVE, 4), EVE)[0], rsp(MoveStatus::Ok));
}
