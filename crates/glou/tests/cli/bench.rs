//! `glou bench tables` against `glou serve` with no configuration: the built-in
//! TicTacToe room runs `glou module tictactoe` per table; two players launch tables
//! for two seconds, leaving them at once or playing them out against the bot, and
//! every table launched must be finished, with no failure anywhere. `glou bench
//! ggzmeta`, `tw07` and `wz` against `glou serve` with the limits they need: every
//! phase runs, every simulated server is registered and listed, no list is wrong.

use std::io::{BufRead, BufReader};
use std::process::{Child, Output, Stdio};

use crate::{glou, sigterm_and_wait, start_serve};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A load generator opens connections from one address faster than `[limits]` lets
/// a stranger (docs/benchmarks.md).
const BENCH_LIMITS: &str = "[limits]\nmax_connections_per_address = 1000000\n\
                            connections_per_second = 1000000\nconnection_burst = 1000000\n";

/// Runs `glou bench tables --clients 2 --duration 2 EXTRA…` against a new server.
fn bench_tables(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let ggz = format!("127.0.0.1:{}", free_port());
    // Every table opens a game channel: a connection a launch.
    let config = dir.path().join("glou.toml");
    std::fs::write(&config, BENCH_LIMITS).unwrap();
    let config = config.to_str().unwrap();
    let (server, _) = start_serve(
        dir.path(),
        &["--config", config, "--ggz", &ggz, "--q3master", "off"],
    );
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
        format!(
            "{BENCH_LIMITS}[[ggzmeta.authorizations]]\nusername = \"bench\"\npassword = \"pw\"\ncreate = true\n"
        ),
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

/// Starts `glou serve --allow-private` on port 0 in `dir` with `config` (a TOML text)
/// and only the `listener` protocol on (besides HTTP); returns it with that listener's
/// address, read from its ready line (`glou listening on LISTENER udp://ADDR`).
fn serve_one(dir: &std::path::Path, config: &str, listener: &str) -> (Child, String) {
    let path = dir.join("glou.toml");
    std::fs::write(&path, format!("{BENCH_LIMITS}{config}")).unwrap();
    let mut args = vec!["--allow-private".to_string(), "--config".into()];
    args.push(path.to_str().unwrap().into());
    for other in ["ggz", "ggzmeta", "q3master", "tw07master", "wzlobby"] {
        let at = if other == listener {
            "127.0.0.1:0"
        } else {
            "off"
        };
        args.extend([format!("--{other}"), at.into()]);
    }
    let mut child = glou()
        .args(["serve", "--http", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let prefix = format!("glou listening on {listener} ");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("no {listener} ready line"))
            .unwrap();
        if let Some(url) = line.strip_prefix(&prefix) {
            break url.split_once("://").unwrap().1.to_string();
        }
    };
    (child, addr)
}

/// The value of `name=` in the extra-fields lines of a bench's output.
fn field<'a>(out: &'a str, name: &str) -> &'a str {
    let prefix = format!("{name}=");
    out.split_whitespace()
        .find_map(|word| word.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name}= in:\n{out}"))
}

/// Runs `glou bench MODE --target ADDR ARGS…` and returns its stdout, which must
/// report success.
fn bench_against(server: Child, mode: &str, target: &str, args: &[&str]) -> String {
    let pid = server.id().to_string();
    let out = glou()
        .args(["bench", mode, "--target", target, "--server-pid", &pid])
        .args(args)
        .output()
        .unwrap();
    assert!(sigterm_and_wait(server).success());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

/// `glou bench tw07` against Glou's tw07master with its per-IP limits raised: 20
/// servers register (token, `bea2`, `fw!!`, `fwok`, `inf3`), heartbeat for a second,
/// and every list holds all of them.
#[test]
fn bench_tw07_registers_and_lists_every_server() {
    let dir = tempfile::tempdir().unwrap();
    let config = "[tw07master]\nheartbeat_rate = 1000000\nresponse_rate = 1000000\n";
    let (server, master) = serve_one(dir.path(), config, "tw07master");
    let out = bench_against(
        server,
        "tw07",
        &master,
        &[
            "--servers",
            "20",
            "--addresses",
            "20",
            "--duration",
            "1",
            "--concurrency",
            "4",
            "--queries-concurrency",
            "2",
        ],
    );
    assert_eq!(row(&out, "register"), (20, 0), "{out}");
    assert_eq!(field(&out, "registered"), "20", "{out}");
    // Glou asks each server it lists for its info.
    assert_ne!(field(&out, "infos_answered"), "0", "{out}");
    let (beats, errors) = row(&out, "heartbeat");
    assert!(beats > 0 && errors == 0, "{out}");
    let (lists, errors) = row(&out, "list");
    assert!(lists > 0 && errors == 0, "{out}");
    let expect = [
        ("expected", "20"),
        ("servers_per_list", "20.0"),
        ("wrong", "0"),
    ];
    for (name, value) in expect.into_iter().chain([("incomplete", "0")]) {
        assert_eq!(field(&out, name), value, "{name}: {out}");
    }
}

/// `glou bench wz` against Glou's wzlobby: 20 hosts on 4 addresses register, update
/// their games for a second, every list holds all 20 games as last updated, and once
/// the hosts close, a list holds none.
#[test]
fn bench_wz_registers_updates_lists_and_removes_every_game() {
    let dir = tempfile::tempdir().unwrap();
    let (server, lobby) = serve_one(dir.path(), "", "wzlobby");
    let out = bench_against(
        server,
        "wz",
        &lobby,
        &[
            "--hosts",
            "20",
            "--addresses",
            "4",
            "--duration",
            "1",
            "--concurrency",
            "4",
            "--queries-concurrency",
            "2",
        ],
    );
    assert_eq!(row(&out, "register"), (20, 0), "{out}");
    assert_eq!(field(&out, "registered"), "20", "{out}");
    let (updates, errors) = row(&out, "update");
    assert!(updates > 0 && errors == 0, "{out}");
    assert_ne!(field(&out, "keeps"), "0", "{out}");
    let (lists, errors) = row(&out, "list");
    assert!(lists > 0 && errors == 0, "{out}");
    let expect = [
        ("expected", "20"),
        ("games_per_list", "20.0"),
        ("wrong", "0"),
    ];
    for (name, value) in expect.into_iter().chain([("incomplete", "0")]) {
        assert_eq!(field(&out, name), value, "{name}: {out}");
    }
    assert_eq!(row(&out, "close"), (1, 0), "{out}");
    assert_eq!(field(&out, "closed"), "20", "{out}");
    assert_eq!(field(&out, "left_after"), "0", "{out}");
}
