//! The session driven input by input with the server's lines from the captures (t1,
//! t3): the lobby steps here, the game in `game.rs`, and the whole client (sockets and
//! threads) against a scripted lobby in `sockets.rs`.

use std::time::{Duration, Instant};

use glou_proto::ggz::server::{GameInfo, RoomInfo};

use super::*;
use crate::protocol::{MoveStatus, ServerMessage as GameMessage};

mod game;
mod sockets;

const GREETING: &str = "<?xml version='1.0' encoding='UTF-8'?>
<SESSION>
<SERVER ID='GGZ-snapshot-0.99.5+' NAME='Test GGZ Server' VERSION='10' STATUS='ok' TLS_SUPPORT='no'>
<OPTIONS CHATLEN='512'/>
</SERVER>
";
const HEADER: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n";
const LOGIN_OK: &str = "<RESULT ACTION='login' CODE='ok'/>
<MOTD PRIORITY='normal' URL='(null)'><![CDATA[
# Welcome to vm on port 5688.
]]></MOTD>
";
/// t1, `<LIST TYPE='game' FULL='false'/>` (as ggzd answers it: no ABOUT, no DESC).
const GAMES: &str = "<RESULT ACTION='list' CODE='ok'>
<LIST TYPE='game'>
<GAME ID='0' NAME='TicTacToe' VERSION='0.0.10'>
<PROTOCOL ENGINE='TicTacToe' VERSION='dio/5+dev'/>
<ALLOW PLAYERS='2' BOTS='1' SPECTATORS='true' PEERS='false'/>
<BOT NAME='Alfred' CLASS='easy'/>
</GAME>
</LIST>
</RESULT>
";
/// t1, `<LIST TYPE='room' FULL='true'/>`.
const ROOMS: &str = "<RESULT ACTION='list' CODE='ok'>
<LIST TYPE='room'>
<ROOM ID='0' NAME='Entry Room' REFNAME='Entry Room' GAME='-1' PLAYERS='0'>
<DESC>A place to meet and choose a game room</DESC>
</ROOM>
<ROOM ID='1' NAME='Tic-Tac-Toe' REFNAME='Tic-Tac-Toe' GAME='0' PLAYERS='0'>
<DESC>Example Tic-Tac-Toe Room</DESC>
</ROOM>
</LIST>
</RESULT>
";
/// t3: what the launcher receives after its `LAUNCH`.
const LAUNCHED: &str = "<UPDATE TYPE='table' ACTION='add' ROOM='1'>
<TABLE ID='1' GAME='0' STATUS='1' SEATS='2'>
<DESC>Fun with ggz</DESC>
<SEAT NUM='0' TYPE='open'/>
<SEAT NUM='1' TYPE='bot'/>
</TABLE>
</UPDATE>
<RESULT ACTION='launch' CODE='ok'/>
<UPDATE TYPE='table' ACTION='join' ROOM='1'>
<TABLE ID='1' SEATS='2'>
<SEAT NUM='0' TYPE='player'>alice</SEAT>
</TABLE>
</UPDATE>
<JOIN TABLE='1' SPECTATOR='false'/>
<UPDATE TYPE='table' ACTION='status' ROOM='1'>
<TABLE ID='1' STATUS='2' SEATS='2'/>
</UPDATE>
";
/// t3: ggz-txt's launch, seat 1 a bot.
const LAUNCH: &str = "<LAUNCH>
<TABLE GAME='0' SEATS='2'>
<DESC>Fun with ggz</DESC>
<SEAT NUM='0' TYPE='open'/>
<SEAT NUM='1' TYPE='bot'/>
</TABLE>
</LAUNCH>
";

fn options() -> Options {
    Options {
        name: "alice".into(),
        password: None,
        room: None,
        join: None,
        bot: true,
        desc: "Fun with ggz".into(),
        moves: Vec::new(),
        timeout: Duration::from_secs(30),
        idle: Duration::from_secs(600),
    }
}

fn moves(cells: &[&str]) -> Options {
    Options {
        moves: cells.iter().map(|c| c.to_string()).collect(),
        ..options()
    }
}

fn game(messages: &[GameMessage]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        m.encode(&mut out);
    }
    out
}

fn snd_move(cell: i32) -> Vec<u8> {
    let mut out = Vec::new();
    crate::ClientMessage::SndMove { cell }.encode(&mut out);
    out
}

/// A session and its clock; every step returns the actions it caused.
struct Test {
    session: Session,
    now: Instant,
}

impl Test {
    fn new(options: Options) -> Test {
        let now = Instant::now();
        Test {
            session: Session::new(options, now),
            now,
        }
    }

    fn input(&mut self, input: Input<'_>) -> Vec<Action> {
        self.session.handle(self.now, input);
        self.drain()
    }

    fn lobby(&mut self, text: &str) -> Vec<Action> {
        self.input(Input::Lobby(text.as_bytes()))
    }

    fn channel(&mut self, bytes: &[u8]) -> Vec<Action> {
        self.input(Input::Channel(bytes))
    }

    fn wait(&mut self, time: Duration) -> Vec<Action> {
        self.now += time;
        self.session.handle_timeout(self.now);
        self.drain()
    }

    fn drain(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.session.poll_action()).collect()
    }

    /// Logged in, in room 1, the channel being opened.
    fn in_room(options: Options) -> Test {
        let mut t = Test::new(options);
        t.lobby(GREETING);
        t.lobby(LOGIN_OK);
        t.lobby(GAMES);
        t.lobby(ROOMS);
        assert_eq!(
            t.lobby("<RESULT ACTION='enter' CODE='ok'/>\n"),
            [
                Action::Print("entered room 1 (Tic-Tac-Toe)".into()),
                Action::OpenChannel
            ]
        );
        t
    }

    /// The channel open and the table request sent.
    fn at_table(options: Options) -> Test {
        let mut t = Test::in_room(options);
        t.channel(GREETING.as_bytes());
        t.channel(b"</SESSION>\n");
        t
    }

    /// Launched (the t3 way) and seated at seat 0.
    fn seated(options: Options) -> Test {
        let mut t = Test::at_table(options);
        t.lobby(LAUNCHED);
        t
    }
}

fn sent(actions: &[Action]) -> String {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendLobby(text) => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn printed(actions: &[Action]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Print(line) => Some(line.as_str()),
            _ => None,
        })
        .collect()
}

fn channel_sent(actions: &[Action]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendChannel(bytes) => Some(bytes.as_slice()),
            _ => None,
        })
        .flatten()
        .copied()
        .collect()
}

fn exit(actions: &[Action]) -> Option<&Result<(), Error>> {
    actions.iter().find_map(|a| match a {
        Action::Exit(result) => Some(result),
        _ => None,
    })
}

fn refused(action: &str, code: &str) -> Error {
    Error::Refused {
        action: action.into(),
        code: code.into(),
    }
}

#[test]
fn logs_in_finds_the_room_and_opens_the_channel_as_ggzcore_does() {
    let mut t = Test::new(options());
    let a = t.lobby(GREETING);
    assert_eq!(
        printed(&a),
        ["connected to Test GGZ Server (GGZ-snapshot-0.99.5+)"]
    );
    assert_eq!(
        sent(&a),
        format!("{HEADER}<LOGIN TYPE='guest'>\n<NAME>alice</NAME>\n</LOGIN>\n")
    );
    let a = t.lobby(LOGIN_OK);
    assert_eq!(
        printed(&a),
        ["logged in as alice", "motd: # Welcome to vm on port 5688."]
    );
    assert_eq!(sent(&a), "<LIST TYPE='game' FULL='false'/>\n");
    assert_eq!(sent(&t.lobby(GAMES)), "<LIST TYPE='room' FULL='true'/>\n");
    assert_eq!(sent(&t.lobby(ROOMS)), "<ENTER ROOM='1'/>\n");
    let a = t.lobby("<RESULT ACTION='enter' CODE='ok'/>\n");
    assert_eq!(a.last(), Some(&Action::OpenChannel));

    // The channel: the greeting, then CHANNEL in the t3 form, then the server's
    // </SESSION> with the game's first packet right behind it.
    let a = t.channel(&GREETING.as_bytes()[..40]);
    assert_eq!(a, []);
    let a = t.channel(&GREETING.as_bytes()[40..]);
    assert_eq!(
        a,
        [Action::SendChannel(
            format!("{HEADER}<CHANNEL ID='alice' />\n</SESSION>\n").into_bytes()
        )]
    );
    let mut end = b"</SESSION>\n".to_vec();
    end.extend(game(&[GameMessage::ReqMove]));
    let a = t.channel(&end);
    assert_eq!(printed(&a), ["game channel open"]);
    assert_eq!(sent(&a), LAUNCH);
    // The REQ_MOVE waits for the seat.
    let a = t.lobby(LAUNCHED);
    assert_eq!(
        printed(&a)[..3],
        ["table launched", "at table 1", "seat 0 (X)"]
    );
    assert_eq!(
        printed(&a)[3..],
        [
            " 0 | 1 | 2\n---+---+---\n 3 | 4 | 5\n---+---+---\n 6 | 7 | 8",
            "your move"
        ]
    );
    assert_eq!(exit(&a), None);
}

#[test]
fn a_registered_player_sends_the_password_and_an_open_seat() {
    let o = Options {
        password: Some("s3cret&".into()),
        bot: false,
        ..options()
    };
    let mut t = Test::new(o.clone());
    assert_eq!(
        sent(&t.lobby(GREETING)),
        format!(
            "{HEADER}<LOGIN TYPE='normal'>\n<NAME>alice</NAME>\n\
             <PASSWORD>s3cret&amp;</PASSWORD>\n</LOGIN>\n"
        )
    );
    let mut text = String::new();
    launch(&o, 3).encode(&mut text);
    assert_eq!(
        text,
        LAUNCH.replace("'bot'", "'open'").replace("'0' S", "'3' S")
    );
}

#[test]
fn pings_are_answered_from_the_start() {
    let mut t = Test::new(options());
    assert_eq!(
        sent(&t.lobby("<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<PING ID='x'/>\n")),
        "<PONG ID='x'/>\n"
    );
    assert!(sent(&t.lobby(&GREETING[HEADER.len()..])).contains("<LOGIN"));
    assert_eq!(sent(&t.lobby("<PING/>\n")), "<PONG/>\n");
}

#[test]
fn refusals_end_the_session() {
    type Setup = fn() -> Test;
    let greeted: Setup = || {
        let mut t = Test::new(options());
        t.lobby(GREETING);
        t
    };
    let listed: Setup = || {
        let mut t = Test::new(options());
        t.lobby(GREETING);
        t.lobby(LOGIN_OK);
        t
    };
    let entering: Setup = || {
        let mut t = Test::new(options());
        t.lobby(GREETING);
        t.lobby(LOGIN_OK);
        t.lobby(GAMES);
        t.lobby(ROOMS);
        t
    };
    let at_table: Setup = || Test::at_table(options());
    let seated: Setup = || Test::seated(options());
    let cases: [(Setup, &str, Error); 8] = [
        (
            greeted,
            "<RESULT ACTION='login' CODE='usr lookup'/>",
            refused("login", "usr lookup"),
        ),
        (
            greeted,
            "<RESULT ACTION='login' CODE='already logged in'>\n</RESULT>",
            refused("login", "already logged in"),
        ),
        (
            listed,
            "<RESULT ACTION='list' CODE='not logged in'/>",
            refused("list", "not logged in"),
        ),
        (
            entering,
            "<RESULT ACTION='enter' CODE='room full'/>",
            refused("enter", "room full"),
        ),
        (
            at_table,
            "<RESULT ACTION='launch' CODE='launch fail'/>",
            refused("launch", "launch fail"),
        ),
        (
            at_table,
            "<RESULT ACTION='launch' CODE='something new'/>",
            refused("launch", "something new"),
        ),
        (
            seated,
            "<RESULT ACTION='protocol' CODE='bad xml'/>",
            refused("protocol", "bad xml"),
        ),
        (
            seated,
            "<LEAVE REASON='boot' PLAYER='bob'/>",
            Error::Booted {
                by: Some("bob".into()),
            },
        ),
    ];
    for (setup, line, error) in cases {
        let mut t = setup();
        let a = t.lobby(&format!("{line}\n"));
        assert_eq!(exit(&a), Some(&Err(error)), "{line}");
        assert_eq!(sent(&a), "</SESSION>\n", "{line}");
    }
    // Someone else's refusal (a chat) is not ours.
    let mut t = Test::seated(options());
    assert_eq!(
        t.lobby("<RESULT ACTION='chat' CODE='no permission'/>\n"),
        []
    );
    // The server is full; a server of another protocol version.
    let mut t = Test::new(options());
    let a = t.lobby("<SESSION>\n<SERVER ID='GGZ-x' NAME='n' VERSION='10' STATUS='full'/>\n");
    assert_eq!(exit(&a), Some(&Err(Error::ServerFull)));
    let mut t = Test::new(options());
    let a = t.lobby(&GREETING.replace("'10'", "'11'"));
    assert_eq!(exit(&a), Some(&Err(Error::Version("11".into()))));
    // The channel refused.
    let mut t = Test::in_room(options());
    t.channel(GREETING.as_bytes());
    let a = t.channel(b"<RESULT ACTION='channel' CODE='usr lookup'/>\n");
    assert_eq!(exit(&a), Some(&Err(refused("channel", "usr lookup"))));
}

#[test]
fn no_channel_right_after_the_handshake_is_tried_again() {
    let mut t = Test::at_table(options());
    for _ in 0..5 {
        assert_eq!(t.lobby("<RESULT ACTION='launch' CODE='no channel'/>\n"), []);
        assert_eq!(t.wait(Duration::from_millis(100)), []);
        assert_eq!(sent(&t.wait(Duration::from_millis(100))), LAUNCH);
    }
    let a = t.lobby("<RESULT ACTION='launch' CODE='no channel'/>\n");
    assert_eq!(exit(&a), Some(&Err(refused("launch", "no channel"))));
}

#[test]
fn every_wait_has_a_deadline() {
    let steps: [(&[&str], &str); 5] = [
        (&[], "the server's greeting"),
        (&[GREETING], "the login"),
        (&[GREETING, LOGIN_OK], "the game list"),
        (&[GREETING, LOGIN_OK, GAMES], "the room list"),
        (&[GREETING, LOGIN_OK, GAMES, ROOMS], "entering the room"),
    ];
    for (lines, what) in steps {
        let mut t = Test::new(options());
        for line in lines {
            t.lobby(line);
        }
        assert_eq!(t.wait(Duration::from_secs(29)), []);
        let a = t.wait(Duration::from_secs(1));
        assert_eq!(exit(&a), Some(&Err(Error::Timeout(what))));
    }
    let mut t = Test::in_room(options());
    let a = t.wait(Duration::from_secs(30));
    assert_eq!(exit(&a), Some(&Err(Error::Timeout("the game channel"))));
    let mut t = Test::at_table(options());
    let a = t.wait(Duration::from_secs(30));
    assert_eq!(exit(&a), Some(&Err(Error::Timeout("the table"))));
    // In the game: the idle time, counted from the last game data.
    let mut t = Test::seated(options());
    assert_eq!(t.wait(Duration::from_secs(599)), []);
    t.channel(&game(&[GameMessage::Move { player: 1, cell: 0 }]));
    assert_eq!(t.wait(Duration::from_secs(599)), []);
    let a = t.wait(Duration::from_secs(1));
    assert_eq!(exit(&a), Some(&Err(Error::Timeout("the game"))));
    // After the lobby said the game is over, the result is due soon.
    let mut t = Test::seated(options());
    t.lobby("<LEAVE REASON='gameover'/>\n");
    let a = t.wait(Duration::from_secs(30));
    assert_eq!(exit(&a), Some(&Err(Error::Timeout("the game"))));
}

#[test]
fn rooms_are_chosen_by_game_engine() {
    let games = [
        GameInfo {
            id: 0,
            name: "Chess".into(),
            engine: "Chess".into(),
            ..GameInfo::default()
        },
        GameInfo {
            id: 1,
            name: "Tic-Tac-Toe deluxe".into(),
            engine: "TicTacToe".into(),
            ..GameInfo::default()
        },
    ];
    let room = |id, game| RoomInfo {
        id,
        name: format!("room {id}"),
        game,
        ..RoomInfo::default()
    };
    let rooms = [room(0, -1), room(1, 0), room(2, 1), room(3, 1)];
    assert_eq!(choose_room(&games, &rooms, None), Ok((room(2, 1), 1)));
    assert_eq!(choose_room(&games, &rooms, Some(3)), Ok((room(3, 1), 1)));
    assert_eq!(
        choose_room(&games, &rooms, Some(1)),
        Err(Error::NotTicTacToe {
            room: 1,
            game: "Chess".into()
        })
    );
    assert_eq!(
        choose_room(&games, &rooms, Some(0)),
        Err(Error::NotTicTacToe {
            room: 0,
            game: "none".into()
        })
    );
    assert_eq!(
        choose_room(&games, &rooms, Some(7)),
        Err(Error::NoSuchRoom(7))
    );
    assert_eq!(
        choose_room(&games[..1], &rooms, None),
        Err(Error::NoTicTacToeRoom)
    );
    // No engine sent: the name decides.
    let old = GameInfo {
        name: "TicTacToe".into(),
        ..GameInfo::default()
    };
    assert!(is_tictactoe(&old));
}

#[test]
fn the_command_line() {
    let parse = |line: &str| {
        let args = std::iter::once("glou-tictactoe-client").chain(line.split_whitespace());
        <Args as clap::Parser>::try_parse_from(args)
    };
    let args = parse("--name alice").unwrap();
    assert_eq!(args.server, "127.0.0.1:5688");
    assert_eq!(
        Options {
            password: args.password.clone(),
            ..args.options()
        },
        Options {
            bot: false,
            desc: "TicTacToe from a terminal".into(),
            password: args.password.clone(),
            ..options()
        }
    );
    let args =
        parse("--server h:1 --name bob --room 2 --bot --moves 4,0,8 --timeout 5 --idle 9").unwrap();
    let o = args.options();
    assert_eq!((o.room, o.bot, o.join), (Some(2), true, None));
    assert_eq!(o.moves, ["4", "0", "8"]);
    assert_eq!(
        (o.timeout, o.idle),
        (Duration::from_secs(5), Duration::from_secs(9))
    );
    assert_eq!(parse("--name b --join 3").unwrap().options().join, Some(3));
    for bad in [
        "",
        "--name a --moves 9",
        "--name a --moves x",
        "--name a --moves ,",
        "--name a --join 1 --bot",
        "--name a --room x",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
    assert_eq!("4 0,8".parse(), Ok(Moves(vec![4, 0, 8])));
}
