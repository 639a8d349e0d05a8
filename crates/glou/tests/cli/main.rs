//! The `glou` binary as a user runs it, in one test binary: `serve` (the server's
//! life cycle and configuration) `admin` (`glou user …` and `glou stats …`) and `ops` (`glou admin …` and SIGHUP).

mod admin;
mod bench;
mod cluster;
mod cluster_lobby;
mod crash;
mod federation;
mod games;
mod lobbyist;
mod ops;
mod serve;

use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn glou() -> Command {
    Command::new(env!("CARGO_BIN_EXE_glou"))
}

/// Starts `glou serve --http 127.0.0.1:0 --data-dir DIR ARGS…` (the GGZ, ggzmeta,
/// tw07master and wzlobby listeners on port 0 too, unless ARGS place them) and returns it with its base URL,
/// read from its ready line.
pub fn start_serve(dir: &std::path::Path, args: &[&str]) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = glou()
        .args(["serve", "--http", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(
            ["--ggz", "--ggzmeta", "--tw07master", "--wzlobby"]
                .iter()
                .filter(|f| !args.contains(f))
                .flat_map(|f| [*f, "127.0.0.1:0"]),
        )
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("glou listening on ")
        .unwrap_or_else(|| panic!("ready line: {line:?}"));
    (child, url.to_string())
}

/// Sends SIGTERM to a running `glou` and waits (at most 15 s) for it to exit.
pub fn sigterm_and_wait(mut child: Child) -> ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "glou did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
