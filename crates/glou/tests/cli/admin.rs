//! `glou user …` and `glou stats …` on a temporary data directory: what each command
//! prints, refuses and changes in the store — also beside a running server, and on
//! PostgreSQL when `GLOU_TEST_POSTGRES_URL` is set.

use std::io::Write;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use glou_core::Timestamp;
use glou_core::account::{Token, token_digest, verify_password};
use glou_core::rating::Outcome;
use glou_store::{MatchPlayer, MatchReport, PlayerKind, SessionOwner, StatsModel, Store};

use crate::{glou, sigterm_and_wait, start_serve};

/// A data directory and the admin commands run on it.
struct Lounge {
    dir: tempfile::TempDir,
}

impl Lounge {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs `glou GROUP --data-dir DIR REST…`, with `stdin` on standard input. The
    /// option goes before the arguments, as `glou user perm NAME -PERM` needs.
    fn run_with(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = glou()
            .arg(args[0])
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(&args[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A command that exits before reading closes the pipe: not the test's concern.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, "")
    }

    /// Standard output of a command that must succeed.
    fn ok(&self, args: &[&str]) -> String {
        check_ok(args, self.run(args))
    }

    fn ok_with(&self, args: &[&str], stdin: &str) -> String {
        check_ok(args, self.run_with(args, stdin))
    }

    /// Standard error of a command that must fail.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
        stderr
    }

    async fn store(&self) -> Store {
        Store::open_dir(self.dir.path()).await.unwrap()
    }
}

fn check_ok(args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn now() -> Timestamp {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    Timestamp::from_millis(u64::try_from(since.as_millis()).unwrap())
}

/// Stops a server when a test ends, even by a panic.
struct Running(Option<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn add_list_show() {
    let l = Lounge::new();
    let out = l.ok(&[
        "user",
        "add",
        "alice",
        "--password",
        "first secret",
        "--email",
        "alice@example.org",
    ]);
    assert_eq!(out, "created alice (normal)\n");
    let out = l.ok_with(
        &["user", "add", "Root2", "--password-stdin", "--admin"],
        "root secret\n",
    );
    assert_eq!(out, "created Root2 (admin)\n");
    let out = l.ok(&[
        "user",
        "add",
        "bot1",
        "--password",
        "b",
        "--perm",
        "chat_bot",
        "--perm",
        "no_stats",
    ]);
    assert_eq!(out, "created bot1 (bot)\n");

    let list = l.ok(&["user", "list"]);
    let rows: Vec<Vec<&str>> = list
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{list}");
    assert_eq!(rows[0][..4], ["alice", "normal", "0x00000007", "-"]);
    assert_eq!(rows[1][..4], ["bot1", "bot", "0x00000067", "-"]);
    assert_eq!(rows[2][..4], ["Root2", "admin", "0x0000019f", "-"]);
    let created = rows[0][4];
    assert!(
        created.len() == 10 && created.starts_with("20"),
        "{created}"
    );
    let page = l.ok(&["user", "list", "--after", "alice", "--limit", "1"]);
    assert!(
        page.starts_with("bot1 ") && page.lines().count() == 1,
        "{page}"
    );

    // Looked up as names are compared: ignoring case and look-alikes.
    let show = l.ok(&["user", "show", "ALlCE"]);
    for line in [
        "name:        alice\n",
        "type:        normal\n",
        "perms:       normal 0x00000007 join_table, launch_table, rooms_login\n",
        "email:       alice@example.org\n",
        "last login:  never\n",
        "gagged:      no\n",
        "banned:      no\n",
        "statistics:  none\n",
    ] {
        assert!(show.contains(line), "{line:?} not in\n{show}");
    }
    assert!(show.contains(&format!("created:     {created}T")), "{show}");
    assert!(
        !show.contains("secret") && !show.contains("argon2"),
        "{show}"
    );
}

#[test]
fn add_without_options_uses_the_default_data_directory() {
    let cwd = tempfile::tempdir().unwrap();
    let out = glou()
        .args(["user", "add", "alice", "--password", "pw"])
        .current_dir(cwd.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(cwd.path().join("glou-data/glou.db").exists());
}

#[test]
fn mistakes_are_refused() {
    let l = Lounge::new();
    l.ok(&["user", "add", "alice", "--password", "pw"]);
    for (args, message) in [
        (&["Al1ce"][..], "the name is taken by \"alice\""),
        // Cyrillic а for Latin a.
        (&["\u{430}lice"], "the name is taken by \"alice\""),
        (&["ADMIN"], "the name is reserved"),
        (&["a b "], "surrounding space"),
        (&["seventeen chars!!"], "over 16 characters"),
        (&["dave", "--email", "nowhere"], "e-mail address"),
    ] {
        let mut add = vec!["user", "add", "--password", "pw"];
        add.extend(args);
        let err = l.fails(&add);
        assert!(err.contains(message), "{args:?}: {err}");
    }
    let err = l.fails(&["user", "add", "dave", "--password", ""]);
    assert!(err.contains("the password is empty"), "{err}");
    l.fails(&["user", "add", "dave"]);
    l.fails(&["user", "add", "dave", "--password", "x", "--password-stdin"]);
    let err = l.fails(&["user", "add", "dave", "--password", "x", "--perm", "fly"]);
    assert!(err.contains("join_table"), "{err}");
    assert_eq!(l.ok(&["user", "list"]).lines().count(), 1);

    let unknown: [&[&str]; 11] = [
        &["user", "show", "nobody1"],
        &["user", "passwd", "nobody1", "--password", "x"],
        &["user", "perm", "nobody1"],
        &["user", "ban", "nobody1"],
        &["user", "unban", "nobody1"],
        &["user", "gag", "nobody1"],
        &["user", "ungag", "nobody1"],
        &["user", "delete", "nobody1", "--yes"],
        &["stats", "show", "nobody1"],
        &["stats", "reset", "nobody1"],
        &["stats", "reset", "nobody1", "--game", "chess"],
    ];
    for args in unknown {
        let out = l.run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("no player named \"nobody1\""),
            "{args:?}: {err}"
        );
    }

    let err = l.fails(&["user", "delete", "alice"]);
    assert!(err.contains("without --yes"), "{err}");
    l.ok(&["user", "show", "alice"]);
}

#[test]
fn permissions() {
    let l = Lounge::new();
    l.ok(&["user", "add", "alice", "--password", "pw"]);
    let perm = |changes: &[&str]| {
        let mut args = vec!["user", "perm", "alice"];
        args.extend(changes);
        l.ok(&args)
    };
    assert_eq!(
        perm(&[]),
        "alice: normal 0x00000007 join_table, launch_table, rooms_login\n"
    );
    assert_eq!(
        perm(&["+chat_announce", "-join_table"]),
        "alice: normal 0x00000016 launch_table, rooms_login, chat_announce\n"
    );
    assert_eq!(
        perm(&["admin"]),
        "alice: admin 0x0000019f join_table, launch_table, rooms_login, rooms_admin, \
         chat_announce, edit_tables, edit_privmsg\n"
    );
    assert_eq!(
        perm(&["normal", "+edit_tables"]),
        "alice: host 0x00000087 join_table, launch_table, rooms_login, edit_tables\n"
    );

    let err = l.fails(&["user", "perm", "alice", "+nonsense"]);
    assert!(err.contains("unknown permission \"nonsense\""), "{err}");
    for p in glou_core::account::Perm::ALL {
        assert!(err.contains(p.as_str()), "{p:?} not listed: {err}");
    }
    l.fails(&["user", "perm", "alice", "rooms_admin"]);
    // A change may start with `-`, so an option after it cannot be told from one.
    let err = l.fails(&["user", "perm", "alice", "-join_table", "--log", "info"]);
    assert!(err.contains("put options before NAME"), "{err}");
    assert!(perm(&[]).starts_with("alice: host 0x00000087"));
    assert!(l.ok(&["user", "list"]).contains(" host "));
}

#[tokio::test]
async fn passwd_ban_gag_delete() {
    let l = Lounge::new();
    l.ok(&["user", "add", "alice", "--password", "old secret"]);
    let store = l.store().await;
    let id = store.account("alice").await.unwrap().unwrap().id;
    let session = |token: &Token| {
        let store = store.clone();
        let digest = token_digest(token.as_str());
        async move {
            store
                .create_session(
                    &digest,
                    &SessionOwner::Account(id),
                    now(),
                    now().saturating_add(Duration::from_secs(86_400)),
                )
                .await
                .unwrap();
            digest
        }
    };
    let live = |digest: [u8; 32]| {
        let store = store.clone();
        async move { store.session(&digest, now()).await.unwrap().is_some() }
    };

    let digest = session(&Token::from_random(rand::random())).await;
    assert!(live(digest).await);
    let out = l.ok_with(
        &["user", "passwd", "alice", "--password-stdin"],
        "new secret\r\n",
    );
    assert_eq!(
        out,
        "changed the password of alice; its sessions are ended\n"
    );
    let hash = store.account("alice").await.unwrap().unwrap().password_hash;
    assert!(verify_password("new secret", &hash));
    assert!(!verify_password("old secret", &hash));
    assert!(!live(digest).await, "the session outlived the password");

    let digest = session(&Token::from_random(rand::random())).await;
    let out = l.ok(&["user", "ban", "alice", "--for", "1h", "--reason", "spam"]);
    assert!(out.starts_with("banned alice until 20"), "{out}");
    assert!(!live(digest).await, "the session outlived the ban");
    let ban = store.account("alice").await.unwrap().unwrap().ban.unwrap();
    let left = ban.until.unwrap().since(now());
    assert!(left > Duration::from_secs(3500) && left <= Duration::from_secs(3600));
    let show = l.ok(&["user", "show", "alice"]);
    assert!(show.contains("banned:      until 20"), "{show}");
    assert!(show.contains("(reason: spam)\n"), "{show}");
    assert!(l.ok(&["user", "list"]).contains(" banned "));
    assert_eq!(l.ok(&["user", "unban", "alice"]), "unbanned alice\n");
    assert!(
        l.ok(&["user", "show", "alice"])
            .contains("banned:      no\n")
    );
    assert_eq!(
        l.ok(&["user", "ban", "alice"]),
        "banned alice for good; its sessions are ended\n"
    );
    assert!(
        l.ok(&["user", "show", "alice"])
            .contains("banned:      forever\n")
    );
    l.ok(&["user", "unban", "alice"]);

    assert_eq!(l.ok(&["user", "gag", "alice"]), "gagged alice\n");
    assert!(l.ok(&["user", "list"]).contains(" gagged "));
    assert!(
        l.ok(&["user", "show", "alice"])
            .contains("gagged:      yes\n")
    );
    assert_eq!(l.ok(&["user", "ungag", "alice"]), "ungagged alice\n");
    assert!(
        l.ok(&["user", "show", "alice"])
            .contains("gagged:      no\n")
    );

    assert_eq!(
        l.ok(&["user", "delete", "alice", "--yes"]),
        "deleted alice\n"
    );
    assert_eq!(l.run(&["user", "show", "alice"]).status.code(), Some(1));
    assert!(store.account("alice").await.unwrap().is_none());
    assert_eq!(l.ok(&["user", "list"]), "");
}

#[tokio::test]
async fn stats_show_and_reset() {
    let l = Lounge::new();
    l.ok(&["user", "add", "alice", "--password", "pw"]);
    l.ok(&["user", "add", "bob", "--password", "pw"]);
    let store = l.store().await;
    let player = |name: &str, outcome, score| MatchPlayer {
        name: name.to_string(),
        kind: PlayerKind::Registered,
        team: None,
        outcome,
        score,
    };
    let all = StatsModel {
        records: true,
        ratings: true,
        highscores: true,
    };
    let report = |game: &str, players| MatchReport {
        game: game.to_string(),
        players,
    };
    let chess = vec![
        player("alice", Outcome::Win, 0),
        player("bob", Outcome::Loss, 0),
    ];
    store
        .report_match(&report("chess", chess), all, now())
        .await
        .unwrap();
    // In tetris alice has the highscore and bob the rating.
    let tetris = vec![
        player("alice", Outcome::Loss, 100),
        player("bob", Outcome::Win, 50),
    ];
    store
        .report_match(&report("tetris", tetris), all, now())
        .await
        .unwrap();
    let rating = |game: &str| {
        let store = store.clone();
        let game = game.to_string();
        async move {
            let stats = store.player_stats("alice").await.unwrap();
            let s = stats.into_iter().find(|s| s.game == game).unwrap();
            ((s.rating + 0.5) as i64).to_string()
        }
    };
    let (chess_rating, tetris_rating) = (rating("chess").await, rating("tetris").await);
    let rows = |out: &str| -> Vec<Vec<String>> {
        out.lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect())
            .collect()
    };

    let out = l.ok(&["stats", "show", "alice"]);
    let table = rows(&out);
    assert_eq!(table.len(), 3, "{out}");
    assert_eq!(table[0][0], "game");
    assert_eq!(
        table[1],
        [
            "chess",
            "1",
            "0",
            "0",
            "0",
            &chess_rating,
            "0",
            "1",
            "1",
            "rating"
        ]
    );
    // tetris is not in the (default) configuration: ranked by rating.
    assert_eq!(
        table[2],
        [
            "tetris",
            "0",
            "1",
            "0",
            "0",
            &tetris_rating,
            "100",
            "1",
            "2",
            "rating"
        ]
    );
    // The configuration says tetris keeps highscores: ranked by them.
    let config = l.dir.path().join("glou.toml");
    let toml = format!(
        "data_dir = {:?}\n[games.tetris]\nratings = true\nhighscores = true\n",
        l.dir.path().display().to_string()
    );
    std::fs::write(&config, toml).unwrap();
    let out = glou()
        .args(["stats", "show", "alice", "--game", "tetris", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let out = check_ok(&["stats", "show", "--config"], out);
    let table = rows(&out);
    assert_eq!(table.len(), 2, "{out}");
    assert_eq!(table[1][8..], ["1", "highscore"]);

    let show = l.ok(&["user", "show", "alice"]);
    assert!(show.contains("statistics:\n  game "), "{show}");
    assert!(show.contains("\n  chess "), "{show}");

    assert_eq!(
        l.ok(&["stats", "reset", "alice", "--game", "chess"]),
        "deleted 1 statistics row of alice in chess\n"
    );
    assert_eq!(
        l.ok(&["stats", "show", "alice", "--game", "chess"]),
        "alice has no statistics in chess\n"
    );
    assert_eq!(
        l.ok(&["stats", "reset", "alice"]),
        "deleted 1 statistics row of alice\n"
    );
    assert_eq!(
        l.ok(&["stats", "show", "alice"]),
        "alice has no statistics\n"
    );
    assert!(
        l.ok(&["user", "show", "alice"])
            .contains("statistics:  none\n")
    );
    assert_eq!(rows(&l.ok(&["stats", "show", "bob"])).len(), 3);
}

/// The server and the command line share the database: SQLite's write-ahead log and
/// busy timeout let both write.
#[test]
fn works_beside_a_running_server() {
    let l = Lounge::new();
    let (child, _) = start_serve(l.dir.path(), &["--q3master", "off"]);
    let mut server = Running(Some(child));

    // Options after the arguments, as people type them.
    let out = glou()
        .args(["user", "add", "carol", "--password", "pw", "--data-dir"])
        .arg(l.dir.path())
        .output()
        .unwrap();
    assert_eq!(check_ok(&["user", "add"], out), "created carol (normal)\n");
    l.ok(&["user", "gag", "carol"]);
    assert!(
        l.ok(&["user", "show", "carol"])
            .contains("gagged:      yes\n")
    );

    let status = sigterm_and_wait(server.0.take().unwrap());
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(l.ok(&["user", "list"]).starts_with("carol "));
}

#[test]
fn on_postgres() {
    let Ok(url) = std::env::var("GLOU_TEST_POSTGRES_URL") else {
        eprintln!("GLOU_TEST_POSTGRES_URL is not set: skipping glou user on PostgreSQL");
        return;
    };
    // The tables are shared with other runs: a name of this run's own, removed after.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("cli{}x{}", std::process::id(), nanos % 1000);
    let run = |args: &[&str]| {
        let out = glou().args(args).args(["--store", &url]).output().unwrap();
        check_ok(args, out)
    };
    struct Remove<'a>(&'a dyn Fn());
    impl Drop for Remove<'_> {
        fn drop(&mut self) {
            (self.0)();
        }
    }
    let remove = || {
        let _ = glou()
            .args(["user", "delete", &name, "--yes", "--store", &url])
            .output();
    };
    let _remove = Remove(&remove);
    assert_eq!(
        run(&["user", "add", &name, "--password", "pw"]),
        format!("created {name} (normal)\n")
    );
    let show = run(&["user", "show", &name]);
    assert!(show.contains(&format!("name:        {name}\n")), "{show}");
    assert_eq!(
        run(&["user", "delete", &name, "--yes"]),
        format!("deleted {name}\n")
    );
}
