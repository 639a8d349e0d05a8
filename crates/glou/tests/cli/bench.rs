//! `glou bench tables` against `glou serve` with no configuration: the built-in
//! TicTacToe room runs `glou module tictactoe` per table; two players launch tables
//! for two seconds, leaving them at once or playing them out against the bot, and
//! every table launched must be finished, with no failure anywhere.

use std::process::Output;

use crate::{glou, sigterm_and_wait, start_serve};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `glou bench tables --clients 2 --duration 2 EXTRA…` against a new server.
fn bench_tables(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let ggz = format!("127.0.0.1:{}", free_port());
    let (server, _) = start_serve(dir.path(), &["--ggz", &ggz, "--q3master", "off"]);
    let pid = server.id().to_string();
    let out: Output = glou()
        .args(["bench", "tables", "--target", &ggz, "--server-pid", &pid])
        .args(["--clients", "2", "--duration", "2"])
        .args(extra)
        .output()
        .unwrap();
    assert!(sigterm_and_wait(server).success());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

/// The `ok` and `errors` columns of the row of `phase`.
fn row(out: &str, phase: &str) -> (u64, u64) {
    let line = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(phase))
        .unwrap_or_else(|| panic!("no {phase} row in:\n{out}"));
    let mut cells = line.split_whitespace().skip(1).map(|c| c.parse().unwrap());
    (cells.next().unwrap(), cells.next().unwrap())
}

/// Checks the rows of a run whose tables end by `finish` (`leave` or `game`).
fn check(out: &str, finish: &str) {
    assert_eq!(row(out, "login"), (2, 0), "{out}");
    let (launched, failed) = row(out, "launch");
    assert!(launched > 0 && failed == 0, "{out}");
    let (finished, errors) = row(out, finish);
    assert!(finished > 0 && errors == 0, "{out}");
    // A table under way at the end is finished before the players log out.
    assert_eq!(finished, launched, "{out}");
    assert_eq!(row(out, "logout"), (2, 0), "{out}");
    assert!(out.contains("players_stopped=0"), "{out}");
}

#[test]
fn bench_tables_launches_and_leaves() {
    let out = bench_tables(&[]);
    check(&out, "leave");
}

#[test]
fn bench_tables_plays_against_the_bot() {
    let out = bench_tables(&["--play"]);
    check(&out, "game");
    // The bot plays perfectly: the bench never wins.
    assert!(out.contains("outcomes={"), "{out}");
    assert!(!out.contains("\"win\""), "{out}");
}

/// `glou bench ggzmeta` against `glou serve` with update rights in its configuration:
/// every phase runs, no reply is wrong, and the bench's entries are gone at the end.
#[test]
fn bench_ggzmeta_finds_no_wrong_reply() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("glou.toml");
    std::fs::write(
        &config,
        "[[ggzmeta.authorizations]]\nusername = \"bench\"\npassword = \"pw\"\ncreate = true\n",
    )
    .unwrap();
    let meta = format!("127.0.0.1:{}", free_port());
    let (server, _) = start_serve(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--ggzmeta",
            &meta,
            "--q3master",
            "off",
        ],
    );
    let out = glou()
        .args(["bench", "ggzmeta", "--target", &meta, "--entries", "50"])
        .args(["--username", "bench", "--password", "pw"])
        .args(["--connections", "2", "--duration", "1"])
        .output()
        .unwrap();
    assert!(sigterm_and_wait(server).success());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(row(&stdout, "update-add"), (50, 0), "{stdout}");
    for phase in [
        "query-persistent",
        "query-per-connection",
        "uri-query",
        "update-modify",
    ] {
        let (ok, errors) = row(&stdout, phase);
        assert!(ok > 0 && errors == 0, "{phase}: {stdout}");
    }
    assert_eq!(row(&stdout, "update-delete"), (50, 0), "{stdout}");
    assert!(stdout.contains("left_after=0"), "{stdout}");
}
