//! Runs the built `glou-tictactoe` for real: the test is the lobby (ggzdmod on the
//! child's fd 3, players' sockets passed with `SCM_RIGHTS`) and the players (the
//! library's client side on the other ends of those sockets).

use std::collections::VecDeque;
use std::io::{IoSlice, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt, FdMapping};
use glou_proto::ggzdmod::{
    ControlMessage, GameResult, GameState, LaunchFormat, LaunchSeat, ReportEntry, SeatType,
    TableDecoder, TableMessage,
};
use glou_tictactoe::{Client, ClientEvent, MoveStatus, Outcome, Player};
use rustix::net::{
    AddressFamily, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};

/// Long enough for a loaded CI machine; a passing test never waits for it.
const TIMEOUT: Duration = Duration::from_secs(20);

fn socketpair() -> (OwnedFd, OwnedFd) {
    rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .unwrap()
}

fn stream(fd: OwnedFd) -> UnixStream {
    let stream = UnixStream::from(fd);
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// The test's lobby: the game process and our end of its fd 3.
struct Lobby {
    child: Child,
    control: UnixStream,
    decoder: TableDecoder,
}

impl Lobby {
    fn spawn(args: &[&str]) -> Lobby {
        let (ours, theirs) = socketpair();
        let mut command = Command::new(env!("CARGO_BIN_EXE_glou-tictactoe"));
        command
            .args(args)
            .env("GGZMODE", "true")
            .env("GGZSOCKET", "3")
            .stdin(Stdio::null())
            .fd_mappings(vec![FdMapping {
                parent_fd: theirs,
                child_fd: 3,
            }])
            .unwrap();
        let child = command.spawn().unwrap();
        // The command holds our copy of the child's end; drop it so EOF is seen.
        drop(command);
        Lobby {
            child,
            control: stream(ours),
            decoder: TableDecoder::new(),
        }
    }

    fn send(&mut self, message: ControlMessage) {
        let mut bytes = Vec::new();
        message.encode(LaunchFormat::Savegame, &mut bytes);
        self.control.write_all(&bytes).unwrap();
    }

    /// The one 0x00 byte with the fd, as libggz's `ggz_write_fd`.
    fn send_fd(&mut self, fd: &OwnedFd) {
        let fds = [fd.as_fd()];
        let mut space = [std::mem::MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut ancillary = SendAncillaryBuffer::new(&mut space);
        assert!(ancillary.push(SendAncillaryMessage::ScmRights(&fds)));
        let sent = rustix::net::sendmsg(
            &self.control,
            &[IoSlice::new(&[0])],
            &mut ancillary,
            SendFlags::empty(),
        )
        .unwrap();
        assert_eq!(sent, 1);
    }

    fn launch(&mut self, seats: Vec<LaunchSeat>) {
        self.send(ControlMessage::Launch {
            game: "tictactoe".into(),
            savegame: String::new(),
            seats,
            spectators: 0,
        });
    }

    /// Seats a player; returns the player's end of the game connection.
    fn seat_player(&mut self, num: i32, name: &str) -> UnixStream {
        let (player, game) = socketpair();
        self.send(ControlMessage::Seat {
            num,
            seat_type: SeatType::Player,
            name: name.into(),
        });
        self.send_fd(&game);
        stream(player)
    }

    /// Seats a player whose game connection is TCP, as in a real lobby.
    fn seat_tcp_player(&mut self, num: i32, name: &str) -> TcpStream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let player = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (game, _) = listener.accept().unwrap();
        self.send(ControlMessage::Seat {
            num,
            seat_type: SeatType::Player,
            name: name.into(),
        });
        self.send_fd(&OwnedFd::from(game));
        player.set_read_timeout(Some(TIMEOUT)).unwrap();
        player
    }

    fn recv(&mut self) -> TableMessage {
        let mut buf = [0u8; 4096];
        loop {
            if let Some(message) = self.decoder.next().unwrap() {
                return message;
            }
            let n = self
                .control
                .read(&mut buf)
                .expect("a message from the game");
            assert!(n > 0, "the game closed fd 3");
            self.decoder.feed(&buf[..n]);
        }
    }

    /// Messages up to and including the first for which `last` holds.
    fn recv_until(&mut self, last: impl Fn(&TableMessage) -> bool) -> Vec<TableMessage> {
        let mut messages = Vec::new();
        loop {
            let message = self.recv();
            let done = last(&message);
            messages.push(message);
            if done {
                return messages;
            }
        }
    }

    fn recv_state(&mut self, state: GameState) -> Vec<TableMessage> {
        self.recv_until(|m| *m == TableMessage::State(state))
    }

    /// Waits for the process to exit after the game closed fd 3.
    fn wait(mut self) -> ExitStatus {
        let mut buf = [0u8; 64];
        assert_eq!(self.control.read(&mut buf).unwrap(), 0, "fd 3 closed");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the game did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Lobby {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A player: its socket, its view of the game, events read but not yet looked at.
struct Seat<S> {
    stream: S,
    client: Client,
    unread: VecDeque<ClientEvent>,
}

impl<S: Read + Write> Seat<S> {
    fn new(stream: S, client: Client) -> Seat<S> {
        Seat {
            stream,
            client,
            unread: VecDeque::new(),
        }
    }

    /// The next `n` events, reading as needed.
    fn events(&mut self, n: usize) -> Vec<ClientEvent> {
        let mut buf = [0u8; 256];
        while self.unread.len() < n {
            let read = self.stream.read(&mut buf).expect("a packet from the game");
            assert!(read > 0, "the game closed the connection");
            self.unread.extend(self.client.feed(&buf[..read]).unwrap());
        }
        self.unread.drain(..n).collect()
    }

    fn play(&mut self, cell: usize) {
        let mut bytes = Vec::new();
        self.client.send_move(cell, &mut bytes);
        self.stream.write_all(&bytes).unwrap();
    }
}

fn open() -> LaunchSeat {
    LaunchSeat {
        seat_type: SeatType::Open,
        name: None,
    }
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

fn report(messages: &[TableMessage]) -> Vec<ReportEntry> {
    messages
        .iter()
        .find_map(|m| match m {
            TableMessage::Report(entries) => Some(entries.clone()),
            TableMessage::Log(_)
            | TableMessage::State(_)
            | TableMessage::NumSeats(_)
            | TableMessage::Boot(_)
            | TableMessage::Bot(_)
            | TableMessage::Open(_)
            | TableMessage::Savegame(_) => None,
        })
        .expect("a game report")
}

#[test]
fn two_players_one_over_tcp_play_to_a_win() {
    let mut lobby = Lobby::spawn(&[]);
    assert_eq!(
        lobby.recv(),
        TableMessage::Log("GGZDMOD: Connecting to GGZ server.".into())
    );
    lobby.launch(vec![open(), open()]);
    lobby.recv_state(GameState::Waiting);
    lobby.send(ControlMessage::StateAck);
    let mut alice = Seat::new(lobby.seat_player(0, "alice"), Client::with_seat(Player::X));
    let mut bob = Seat::new(
        lobby.seat_tcp_player(1, "bob"),
        Client::with_seat(Player::O),
    );
    lobby.recv_state(GameState::Playing);
    lobby.send(ControlMessage::StateAck);
    assert_eq!(alice.events(1), [ClientEvent::YourTurn]);

    // Out of turn: an error status, and the game goes on.
    bob.play(4);
    assert_eq!(
        bob.events(1),
        [ClientEvent::MoveRejected {
            status: MoveStatus::ErrTurn
        }]
    );

    for (alice_cell, bob_cell) in [(0, 3), (1, 4)] {
        alice.play(alice_cell);
        assert_eq!(
            alice.events(1),
            [ClientEvent::MoveAccepted { cell: alice_cell }]
        );
        assert_eq!(
            bob.events(2),
            [
                ClientEvent::Moved {
                    player: Player::X,
                    cell: alice_cell
                },
                ClientEvent::YourTurn
            ]
        );
        bob.play(bob_cell);
        assert_eq!(
            bob.events(1),
            [ClientEvent::MoveAccepted { cell: bob_cell }]
        );
        assert_eq!(
            alice.events(2),
            [
                ClientEvent::Moved {
                    player: Player::O,
                    cell: bob_cell
                },
                ClientEvent::YourTurn
            ]
        );
    }
    alice.play(2);
    let win = ClientEvent::GameOver(Outcome::Win(Player::X));
    assert_eq!(
        alice.events(2),
        [ClientEvent::MoveAccepted { cell: 2 }, win.clone()]
    );
    assert_eq!(
        bob.events(2),
        [
            ClientEvent::Moved {
                player: Player::X,
                cell: 2
            },
            win
        ]
    );
    assert_eq!(alice.client.board(), bob.client.board());

    let end = lobby.recv_state(GameState::Done);
    assert_eq!(
        report(&end),
        [
            entry("alice", SeatType::Player, 0, GameResult::Win),
            entry("bob", SeatType::Player, 1, GameResult::Loss),
        ]
    );
    let status = lobby.wait();
    assert!(status.success(), "{status}");
}

#[test]
fn a_player_against_the_bot_seat() {
    let mut lobby = Lobby::spawn(&["--protocol", "dio/5+dev"]);
    lobby.launch(vec![
        open(),
        LaunchSeat {
            seat_type: SeatType::Bot,
            name: None,
        },
    ]);
    // The conversation of the capture (t5_ggzdmod.txt).
    assert_eq!(
        lobby.recv_state(GameState::Waiting),
        [
            TableMessage::Log("GGZDMOD: Connecting to GGZ server.".into()),
            TableMessage::Log("GGZDMOD: Seat 0 is open".into()),
            TableMessage::Log("GGZDMOD: Seat 1 is a bot named AI".into()),
            TableMessage::Log("GGZDMOD: Game setting state to 1".into()),
            TableMessage::State(GameState::Waiting),
        ]
    );
    lobby.send(ControlMessage::StateAck);
    let mut alice = lobby.seat_player(0, "alice");
    // The first bytes alice gets are the capture's REQ_MOVE.
    let mut first = [0u8; 6];
    alice.read_exact(&mut first).unwrap();
    assert_eq!(first, [0x00, 0x06, 0x00, 0x00, 0x00, 0x04]);
    let mut alice = Seat::new(alice, Client::with_seat(Player::X));
    let mut moves = 0;
    loop {
        // A naive player: the first free cell.
        let cell = alice.client.board().free_cells().next().unwrap();
        alice.play(cell);
        moves += 1;
        let events = alice.events(2);
        assert_eq!(events[0], ClientEvent::MoveAccepted { cell });
        match &events[1] {
            ClientEvent::Moved { player, .. } => assert_eq!(*player, Player::O),
            other => panic!("expected the bot's move, got {other:?}"),
        }
        let next = alice.events(1);
        if let [ClientEvent::GameOver(outcome)] = next.as_slice() {
            assert_eq!(*outcome, Outcome::Win(Player::O));
            break;
        }
        assert_eq!(next, [ClientEvent::YourTurn]);
        assert!(moves < 5);
    }
    let end = lobby.recv_state(GameState::Done);
    assert_eq!(
        report(&end),
        [
            entry("alice", SeatType::Player, 0, GameResult::Loss),
            entry("AI", SeatType::Bot, 1, GameResult::Win),
        ]
    );
    assert!(lobby.wait().success());
}

#[test]
fn garbage_from_a_player_boots_them_and_eof_on_fd_3_ends_the_game() {
    let mut lobby = Lobby::spawn(&[]);
    lobby.launch(vec![open(), open()]);
    let mut alice = lobby.seat_player(0, "alice");
    let _bob = lobby.seat_player(1, "bob");
    lobby.recv_state(GameState::Playing);
    alice.write_all(&[0x00, 0x00, 0xde, 0xad]).unwrap();
    let messages = lobby.recv_until(|m| matches!(m, TableMessage::Boot(_)));
    assert_eq!(messages.last(), Some(&TableMessage::Boot("alice".into())));
    // The game closed alice's connection (after the REQ_MOVE it had sent).
    let mut rest = Vec::new();
    alice.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, [0, 6, 0, 0, 0, 4]);
    // The lobby boots her: the seat is open again and the game waits.
    lobby.send(ControlMessage::Seat {
        num: 0,
        seat_type: SeatType::Open,
        name: String::new(),
    });
    lobby.recv_state(GameState::Waiting);
    // The lobby goes away: the game exits cleanly.
    lobby.control.shutdown(std::net::Shutdown::Write).unwrap();
    assert!(lobby.wait().success());
}

#[test]
fn sigint_ends_the_game_cleanly() {
    let mut lobby = Lobby::spawn(&[]);
    lobby.launch(vec![open(), open()]);
    lobby.recv_state(GameState::Waiting);
    let pid = rustix::process::Pid::from_child(&lobby.child);
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    assert!(lobby.wait().success());
}

#[test]
fn protocol_5_tells_players_their_seat() {
    let mut lobby = Lobby::spawn(&["--protocol", "5", "--bot", "Alfred=easy"]);
    lobby.launch(vec![
        open(),
        LaunchSeat {
            seat_type: SeatType::Bot,
            name: Some("Alfred".into()),
        },
    ]);
    let mut alice = Seat::new(lobby.seat_player(0, "alice"), Client::new());
    let events = alice.events(3);
    assert!(matches!(events[0], ClientEvent::Players(_)), "{events:?}");
    assert_eq!(
        events[1..],
        [ClientEvent::Seat(Player::X), ClientEvent::YourTurn]
    );
    assert_eq!(alice.client.seat(), Some(Player::X));
}

#[test]
fn refuses_to_run_outside_ggz() {
    let output = Command::new(env!("CARGO_BIN_EXE_glou-tictactoe"))
        .env_remove("GGZMODE")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("GGZMODE"));
    let output = Command::new(env!("CARGO_BIN_EXE_glou-tictactoe"))
        .arg("--frobnicate")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
