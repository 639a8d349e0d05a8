//! `glou admin …` against a running `glou serve`, and SIGHUP: the configuration file
//! changed under a running server, reloaded, refused when broken.

use std::process::Output;
use std::time::{Duration, Instant};

use crate::{glou, sigterm_and_wait, start_serve};

const ROOMS: &str =
    "[[rooms]]\nname = \"Entry Room\"\n\n[[rooms]]\nname = \"Tic-Tac-Toe\"\ngame = \"tictactoe\"\n";

fn admin(url: &str, dir: &std::path::Path, args: &[&str]) -> Output {
    glou()
        .args(["admin", "--url", url, "--data-dir"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "glou admin failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `glou admin ARGS` until its output contains `want` (at most 10 s).
fn until(url: &str, dir: &std::path::Path, args: &[&str], want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = admin(url, dir, args);
        if o.status.success() && String::from_utf8_lossy(&o.stdout).contains(want) {
            return stdout(&o);
        }
        assert!(
            Instant::now() < deadline,
            "glou admin {args:?} never showed {want:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sighup_reloads_the_file_and_a_broken_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("glou.toml");
    std::fs::write(&file, ROOMS).unwrap();
    let (child, url) = start_serve(
        dir.path(),
        &["--config", file.to_str().unwrap(), "--q3master", "off"],
    );
    let rooms = until(&url, dir.path(), &["rooms"], "Tic-Tac-Toe");
    assert!(!rooms.contains("Lounge"), "{rooms}");

    std::fs::write(&file, format!("{ROOMS}\n[[rooms]]\nname = \"Lounge\"\n")).unwrap();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    until(&url, dir.path(), &["rooms"], "Lounge");
    let audit = stdout(&admin(&url, dir.path(), &["audit", "--limit", "1"]));
    assert!(
        audit.contains("signal") && audit.contains("config.reload"),
        "{audit}"
    );

    // A broken file: refused with the reason, and the running rooms stay.
    std::fs::write(
        &file,
        format!("{ROOMS}\n[[rooms]]\nname = \"Bad\"\ngame = \"chess\"\n"),
    )
    .unwrap();
    let refused = admin(&url, dir.path(), &["reload"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("422") && err.contains("chess"), "{err}");
    let rooms = stdout(&admin(&url, dir.path(), &["rooms"]));
    assert!(
        rooms.contains("Lounge") && !rooms.contains("Bad"),
        "{rooms}"
    );

    // A listener address changed in the file needs a restart: reported, left alone.
    std::fs::write(
        &file,
        format!("{ROOMS}\n[listen]\nhttp = \"127.0.0.1:1\"\n"),
    )
    .unwrap();
    let report = stdout(&admin(&url, dir.path(), &["reload"]));
    assert!(report.contains("room \"Lounge\" removed"), "{report}");
    assert!(
        !report.contains("listen.http"),
        "the --http flag keeps overriding the file: {report}"
    );
    assert!(sigterm_and_wait(child).success());
}

#[test]
fn glou_admin_operates_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let (child, url) = start_serve(dir.path(), &["--q3master", "off"]);
    until(&url, dir.path(), &["rooms"], "Entry Room");

    let added = stdout(&admin(
        &url,
        dir.path(),
        &[
            "room-add",
            "Quiet Corner",
            "--description",
            "No shouting",
            "--max-players",
            "8",
        ],
    ));
    assert!(added.contains("room \"Quiet Corner\" added"), "{added}");
    let rooms = stdout(&admin(&url, dir.path(), &["rooms"]));
    assert!(
        rooms.contains("Quiet Corner") && rooms.contains("0/8"),
        "{rooms}"
    );

    let entry = admin(&url, dir.path(), &["room-remove", "0"]);
    assert!(!entry.status.success());
    assert!(String::from_utf8_lossy(&entry.stderr).contains("entry room"));

    stdout(&admin(&url, dir.path(), &["log", "glou_server=debug,info"]));
    let bad = admin(&url, dir.path(), &["log", "glou=what=ever"]);
    assert!(!bad.status.success());

    stdout(&admin(
        &url,
        dir.path(),
        &["announce", "Maintenance at noon"],
    ));
    let games = stdout(&admin(&url, dir.path(), &["games"]));
    assert!(games.contains("tictactoe"), "{games}");
    let json = stdout(&admin(&url, dir.path(), &["--json", "players"]));
    assert_eq!(json.trim(), "[]");

    let denied = glou()
        .args(["admin", "--url", &url, "--token", "wrong", "rooms"])
        .output()
        .unwrap();
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("401"));

    let audit = stdout(&admin(&url, dir.path(), &["audit"]));
    for action in ["room.add", "room.remove", "log.filter", "lobby.announce"] {
        assert!(audit.contains(action), "{action} missing from {audit}");
    }
    assert!(sigterm_and_wait(child).success());
}
