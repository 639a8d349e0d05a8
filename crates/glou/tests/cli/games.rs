//! A game from a terminal against `glou serve` with no configuration: the built-in
//! TicTacToe room runs `glou module tictactoe` per table, and the shipped terminal
//! client (`glou-tictactoe-client`) plays it against the bot.

use std::path::PathBuf;
use std::process::Command;

use crate::{sigterm_and_wait, start_serve};

/// The terminal client, built beside `glou` by `cargo test --workspace`.
fn client() -> Command {
    let glou = PathBuf::from(env!("CARGO_BIN_EXE_glou"));
    let client = glou.with_file_name("glou-tictactoe-client");
    assert!(
        client.exists(),
        "{} is missing: run `cargo build -p glou-tictactoe` (`cargo test --workspace` builds it)",
        client.display()
    );
    Command::new(client)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_terminal_player_plays_the_built_in_tictactoe_against_the_bot() {
    let dir = tempfile::tempdir().unwrap();
    let ggz = format!("127.0.0.1:{}", free_port());
    let (server, _) = start_serve(dir.path(), &["--ggz", &ggz, "--q3master", "off"]);
    let out = client()
        .args(["--server", &ggz, "--name", "tess", "--bot"])
        .args([
            "--moves",
            "4,0,2,6,8,1,3,5,7",
            "--timeout",
            "20",
            "--idle",
            "20",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("seat 0 (X)"), "{stdout}");
    // The bot plays perfectly: a tie or a loss, never a win.
    assert!(
        stdout.contains("game over: tie") || stdout.contains("game over: you lose"),
        "{stdout}"
    );
    assert!(stdout.contains("logged out"), "{stdout}");
    // The game program ran under the server's data directory, and is gone.
    assert!(dir.path().join("games/tictactoe").is_dir());
    assert!(sigterm_and_wait(server).success());
}
