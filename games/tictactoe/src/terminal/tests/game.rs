//! The game half of the session: the channel's game data, moves and results.

use super::*;

#[test]
fn plays_scripted_moves_skipping_taken_and_refused_cells() {
    let mut t = Test::seated(moves(&["0", "5", "3", "x", "1", "2"]));
    let a = t.channel(&game(&[GameMessage::ReqMove]));
    assert_eq!(channel_sent(&a), snd_move(0));
    let a = t.channel(&game(&[
        GameMessage::RspMove {
            status: MoveStatus::Ok,
        },
        GameMessage::Move { player: 1, cell: 3 },
        GameMessage::ReqMove,
    ]));
    assert_eq!(printed(&a)[..2], ["you played 0", "opponent played 3"]);
    assert_eq!(channel_sent(&a), snd_move(5));
    // Refused by the server (it knows better): the server asks again, the next
    // moves are tried; 3 is taken, "x" is no move.
    let a = t.channel(&game(&[
        GameMessage::RspMove {
            status: MoveStatus::ErrFull,
        },
        GameMessage::ReqMove,
    ]));
    let lines = printed(&a);
    assert_eq!(lines[0], "move 5 refused: cell taken");
    assert_eq!(
        lines[3..],
        [
            "cell 3 is taken",
            "bad move \"x\": expected a cell 0-8 or \"row col\" with row and col 0-2"
        ]
    );
    assert_eq!(channel_sent(&a), snd_move(1));
    t.channel(&game(&[
        GameMessage::RspMove {
            status: MoveStatus::Ok,
        },
        GameMessage::Move { player: 1, cell: 4 },
    ]));
    // A PING in the middle of the game.
    assert_eq!(sent(&t.lobby("<PING/>\n")), "<PONG/>\n");
    let a = t.channel(&game(&[GameMessage::ReqMove]));
    assert_eq!(channel_sent(&a), snd_move(2));
    let a = t.channel(&game(&[
        GameMessage::RspMove {
            status: MoveStatus::Ok,
        },
        GameMessage::GameOver { winner: 0 },
    ]));
    assert_eq!(
        printed(&a),
        [
            "you played 2",
            " X | X | X\n---+---+---\n O | O | 5\n---+---+---\n 6 | 7 | 8",
            "game over: you win"
        ]
    );
    assert_eq!(sent(&a), "</SESSION>\n");
    assert_eq!(a.last(), Some(&Action::CloseChannel));
    // The lobby's goodbye.
    let a = t.lobby("<LEAVE REASON='gameover'/>\n</SESSION>\n");
    assert_eq!(printed(&a), ["logged out"]);
    assert_eq!(exit(&a), Some(&Ok(())));
    assert!(t.session.is_done());
    assert_eq!(t.lobby("<PING/>\n"), []);
}

#[test]
fn the_outcome_is_told_from_the_players_side() {
    for (winner, line) in [
        (0, "game over: you lose"),
        (1, "game over: you win"),
        (2, "game over: tie"),
    ] {
        let mut t = Test::at_table(options());
        // Seat 1 this time, from the update.
        let a = t.lobby(&LAUNCHED.replace("NUM='0' TYPE='player'", "NUM='1' TYPE='player'"));
        assert!(printed(&a).contains(&"seat 1 (O)"), "{a:?}");
        let a = t.channel(&game(&[GameMessage::GameOver { winner }]));
        assert_eq!(printed(&a).last(), Some(&line));
        // No goodbye from the lobby: the logout ends anyway.
        let a = t.wait(Duration::from_secs(31));
        assert_eq!(exit(&a), Some(&Ok(())));
    }
}

#[test]
fn joins_a_table_and_learns_the_seat_from_the_table_list() {
    let o = Options {
        join: Some(2),
        bot: false,
        moves: vec!["4".into()],
        ..options()
    };
    let mut t = Test::at_table(o);
    // The game starts before the lobby told the seat: kept for later.
    assert_eq!(
        t.channel(&game(&[
            GameMessage::Move { player: 0, cell: 0 },
            GameMessage::ReqMove
        ])),
        []
    );
    let a = t.lobby("<RESULT ACTION='join' CODE='ok'/>\n<JOIN TABLE='2' SPECTATOR='false'/>\n");
    assert_eq!(printed(&a), ["at table 2"]);
    assert_eq!(sent(&a), "<LIST TYPE='table'/>\n");
    let a = t.lobby(
        "<RESULT ACTION='list' CODE='ok'>
<LIST TYPE='table' ROOM='1'>
<TABLE ID='2' GAME='0' STATUS='2' SEATS='2'>
<DESC>x</DESC>
<SEAT NUM='0' TYPE='player'>bob</SEAT>
<SEAT NUM='1' TYPE='player'>Alice</SEAT>
</TABLE>
</LIST>
</RESULT>
",
    );
    assert_eq!(printed(&a)[..2], ["seat 1 (O)", "opponent played 0"]);
    assert_eq!(channel_sent(&a), snd_move(4));
}

#[test]
fn the_join_request_is_the_ggzcore_form() {
    let o = Options {
        join: Some(2),
        ..options()
    };
    let mut t = Test::in_room(o);
    t.channel(GREETING.as_bytes());
    let a = t.channel(b"</SESSION>");
    assert_eq!(sent(&a), "<JOIN TABLE='2' SPECTATOR='false'/>\n");
    // The channel's line end arrives apart from the </SESSION>: not game data.
    assert_eq!(t.channel(b"\n"), []);
    t.lobby("<RESULT ACTION='join' CODE='ok'/>\n");
    t.lobby(
        "<UPDATE TYPE='table' ACTION='join' ROOM='1'>\n<TABLE ID='2' SEATS='2'>\n\
         <SEAT NUM='1' TYPE='player'>alice</SEAT>\n</TABLE>\n</UPDATE>\n",
    );
    let a = t.lobby("<JOIN TABLE='2' SPECTATOR='false'/>\n");
    assert_eq!(printed(&a), ["at table 2", "seat 1 (O)"]);
    // The opponent comes and goes.
    let seat0 = |action| {
        format!(
            "<UPDATE TYPE='table' ACTION='{action}' ROOM='1'>\n<TABLE ID='2' SEATS='2'>\n\
             <SEAT NUM='0' TYPE='player'>bob</SEAT>\n</TABLE>\n</UPDATE>\n"
        )
    };
    assert_eq!(printed(&t.lobby(&seat0("join"))), ["bob joined seat 0"]);
    assert_eq!(printed(&t.lobby(&seat0("leave"))), ["bob left seat 0"]);
}

#[test]
fn typed_moves_are_checked_and_the_player_may_think() {
    let mut t = Test::seated(options());
    let a = t.channel(&game(&[GameMessage::ReqMove]));
    assert_eq!(printed(&a).last(), Some(&"your move"));
    assert_eq!(t.session.poll_timeout(), None, "no deadline while thinking");
    let a = t.input(Input::Line("9"));
    assert_eq!(
        printed(&a),
        ["bad move \"9\": cell 9 is outside 0-8", "your move"]
    );
    let a = t.input(Input::Line(" 1 1 "));
    assert_eq!(channel_sent(&a), snd_move(4));
    assert_eq!(
        t.session.poll_timeout(),
        Some(t.now + Duration::from_secs(600))
    );
    // Typed ahead: played when asked.
    t.input(Input::Line("0"));
    t.channel(&game(&[GameMessage::RspMove {
        status: MoveStatus::Ok,
    }]));
    let a = t.channel(&game(&[
        GameMessage::Move { player: 1, cell: 8 },
        GameMessage::ReqMove,
    ]));
    assert_eq!(channel_sent(&a), snd_move(0));
    t.input(Input::InputClosed);
    let a = t.channel(&game(&[
        GameMessage::RspMove {
            status: MoveStatus::Ok,
        },
        GameMessage::Move { player: 1, cell: 2 },
        GameMessage::ReqMove,
    ]));
    assert_eq!(exit(&a), Some(&Err(Error::NoMovesLeft)));
    assert_eq!(sent(&a), "</SESSION>\n", "a polite logout");
}

#[test]
fn lost_connections_end_the_session() {
    let mut t = Test::seated(options());
    let a = t.input(Input::ChannelClosed);
    assert_eq!(exit(&a), Some(&Err(Error::ChannelLost)));
    let mut t = Test::seated(options());
    let a = t.input(Input::LobbyClosed);
    assert_eq!(exit(&a), Some(&Err(Error::LobbyLost)));
    assert_eq!(sent(&a), "", "nobody to say goodbye to");
    let mut t = Test::seated(options());
    let a = t.lobby("</SESSION>\n");
    assert_eq!(exit(&a), Some(&Err(Error::SessionEnded)));
    let mut t = Test::seated(options());
    let a = t.lobby("<CHAT TYPE='normal' FROM='bob'>hi</CHAT>\n<oops>\n</SESSION>\n");
    assert_eq!(printed(&a), ["chat bob: hi"]);
    assert!(matches!(exit(&a), Some(Err(Error::BadData(_)))), "{a:?}");
    let mut t = Test::seated(options());
    let a = t.channel(&[0, 1]);
    assert!(matches!(exit(&a), Some(Err(Error::BadData(_)))), "{a:?}");
}
