//! The whole client, sockets and threads, against a scripted GGZ lobby on a loopback
//! port: it answers as ggzd did in t1 and t3, checks what the client sends, and runs a
//! real [`Table`] (the perfect bot in seat 1) on the game channel.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use glou_proto::ggz::client::ListType;
use glou_proto::ggz::{ClientDecoder, ClientItem, ClientMessage};
use glou_proto::ggzdmod::{ControlMessage, LaunchSeat, SeatType};

use super::{Args, Error, GAMES, GREETING, LAUNCHED, ROOMS, refused, run};
use crate::{Config, ConnId, Output, Table};

/// Long enough for a loaded machine; a passing test never waits for it.
const TIMEOUT: Duration = Duration::from_secs(20);
const ALICE: ConnId = ConnId(1);

#[test]
fn plays_a_whole_game_over_sockets() {
    let lobby = FakeLobby::start(Script::Play);
    let args = <Args as clap::Parser>::try_parse_from([
        "glou-tictactoe-client",
        "--server",
        &lobby.addr(),
        "--name",
        "alice",
        "--bot",
        "--moves",
        "4,0,2,6,8,1,3,5,7",
        "--timeout",
        "20",
    ])
    .unwrap();
    let mut out = Vec::new();
    let result = run(&args, &mut out);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(result, Ok(()), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    for want in [
        "logged in as alice",
        "entered room 1 (Tic-Tac-Toe)",
        "game channel open",
        "at table 1",
        "seat 0 (X)",
        "your move",
        "you played 4",
        "logged out",
    ] {
        assert!(lines.contains(&want), "{want:?} in {out}");
    }
    assert!(
        lines.iter().any(|l| l.starts_with("opponent played ")),
        "{out}"
    );
    // The perfect bot never loses.
    assert!(
        lines.contains(&"game over: tie") || lines.contains(&"game over: you lose"),
        "{out}"
    );
    lobby.join();
}

#[test]
fn a_refused_login_over_sockets_is_an_error() {
    let lobby = FakeLobby::start(Script::RefuseLogin);
    let args = <Args as clap::Parser>::try_parse_from([
        "glou-tictactoe-client",
        "--server",
        &lobby.addr(),
        "--name",
        "alice",
        "--moves",
        "4",
    ])
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(run(&args, &mut out), Err(refused("login", "usr lookup")));
    lobby.join();
}

#[test]
fn nothing_listening_is_an_error() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let args = <Args as clap::Parser>::try_parse_from([
        "glou-tictactoe-client",
        "--server",
        &addr,
        "--name",
        "alice",
        "--moves",
        "4",
    ])
    .unwrap();
    let result = run(&args, &mut Vec::new());
    assert!(
        matches!(&result, Err(Error::Connect { addr: a, .. }) if *a == addr),
        "{result:?}"
    );
}

/// What the lobby does.
#[derive(Clone, Copy, Debug)]
pub enum Script {
    /// Everything up to a game against the bot, then the logout.
    Play,
    /// `usr lookup` to the login.
    RefuseLogin,
}

/// The lobby's thread and address.
pub struct FakeLobby {
    addr: String,
    thread: JoinHandle<()>,
}

impl FakeLobby {
    pub fn start(script: Script) -> FakeLobby {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let thread = thread::spawn(move || serve(&listener, script));
        FakeLobby { addr, thread }
    }

    pub fn addr(&self) -> String {
        self.addr.clone()
    }

    /// Waits for the script's end; its failed checks fail the test.
    pub fn join(self) {
        self.thread.join().unwrap();
    }
}

/// One XML connection from the client.
struct Conn {
    stream: TcpStream,
    decoder: ClientDecoder,
}

impl Conn {
    fn accept(listener: &TcpListener) -> Conn {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut conn = Conn {
            stream,
            decoder: ClientDecoder::default(),
        };
        conn.send(GREETING);
        conn
    }

    fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).unwrap();
    }

    /// The next item, `PONG`s skipped.
    fn next(&mut self) -> ClientItem {
        let mut buf = [0u8; 4096];
        loop {
            match self.decoder.next().unwrap() {
                Some(ClientItem::Message(ClientMessage::Pong { .. })) => {}
                Some(item) => return item,
                None => {
                    let n = self.stream.read(&mut buf).unwrap();
                    assert!(n > 0, "the client closed the connection");
                    self.decoder.feed(&buf[..n]);
                }
            }
        }
    }

    fn expect(&mut self, want: ClientMessage) {
        assert_eq!(self.next(), ClientItem::Message(want));
    }
}

fn serve(listener: &TcpListener, script: Script) {
    let mut lobby = Conn::accept(listener);
    assert_eq!(lobby.next(), ClientItem::SessionStart);
    assert!(matches!(
        lobby.next(),
        ClientItem::Message(ClientMessage::Login { name: Some(name), .. }) if name == "alice"
    ));
    if let Script::RefuseLogin = script {
        lobby.send("<RESULT ACTION='login' CODE='usr lookup'/>\n");
        assert_eq!(lobby.next(), ClientItem::SessionEnd);
        lobby.send("</SESSION>\n");
        return;
    }
    lobby.send("<RESULT ACTION='login' CODE='ok'/>\n<PING/>\n");
    lobby.expect(ClientMessage::List {
        kind: Some(ListType::Game),
        full: false,
    });
    lobby.send(GAMES);
    lobby.expect(ClientMessage::List {
        kind: Some(ListType::Room),
        full: true,
    });
    lobby.send(ROOMS);
    lobby.expect(ClientMessage::Enter { room: Some(1) });
    lobby.send("<RESULT ACTION='enter' CODE='ok'/>\n");

    let mut channel = Conn::accept(listener);
    assert_eq!(channel.next(), ClientItem::SessionStart);
    channel.expect(ClientMessage::Channel {
        id: Some("alice".into()),
    });
    assert_eq!(channel.next(), ClientItem::SessionEnd);
    channel.send("</SESSION>\n");
    // What follows the client's `</SESSION>` is its line end, not game data.
    let leftover = channel.decoder.into_remaining();
    assert!(leftover.iter().all(u8::is_ascii_whitespace), "{leftover:?}");

    assert!(matches!(
        lobby.next(),
        ClientItem::Message(ClientMessage::Launch { table: Some(_) })
    ));
    lobby.send(LAUNCHED);
    play(&mut channel.stream);
    lobby.send("<LEAVE REASON='gameover'/>\n");
    assert_eq!(lobby.next(), ClientItem::SessionEnd);
    lobby.send("</SESSION>\n");
}

/// Runs the table with alice in seat 0 on `stream` until the game is over.
fn play(stream: &mut TcpStream) {
    let mut table = Table::new(Config::default());
    let seat = |seat_type| LaunchSeat {
        seat_type,
        name: None,
    };
    table.handle_control(
        ControlMessage::Launch {
            game: "tictactoe".into(),
            savegame: String::new(),
            seats: vec![seat(SeatType::Open), seat(SeatType::Bot)],
            spectators: 0,
        },
        None,
    );
    table.handle_control(
        ControlMessage::Seat {
            num: 0,
            seat_type: SeatType::Player,
            name: "alice".into(),
        },
        Some(ALICE),
    );
    let mut buf = [0u8; 4096];
    loop {
        while let Some(output) = table.poll_output() {
            if let Output::Send { message, .. } = output {
                let mut bytes = Vec::new();
                message.encode(&mut bytes);
                stream.write_all(&bytes).unwrap();
            }
        }
        if table.outcome().is_some() {
            return;
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the channel closed before the end of the game");
        table.handle_data(ALICE, &buf[..n]);
    }
}
