//! Which configured games are installed: the launch program found on `PATH` (or in
//! `/usr/games`, where Debian puts games and where `PATH` often does not look), or one
//! of the game's Debian packages installed according to `dpkg-query`. Without
//! `dpkg-query` a game whose program is not found is "unknown", not "missing".

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::config::Config;

/// What Glou knows about a game being installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Installed {
    Yes,
    Unknown,
    No,
}

/// Directories searched after `PATH`.
const GAME_DIRS: [&str; 2] = ["/usr/local/games", "/usr/games"];

/// `program` as a path to run: itself when it names a path, else the first executable
/// file of that name on `path` (`PATH`'s value) or in the games directories.
pub fn find_program(program: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return is_executable(&p).then_some(p);
    }
    let dirs = path
        .map(|p| std::env::split_paths(p).collect::<Vec<_>>())
        .unwrap_or_default();
    dirs.into_iter()
        .chain(GAME_DIRS.iter().map(PathBuf::from))
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether a Debian package is installed: `Some(true/false)`, `None` when dpkg-query
/// cannot be run.
pub fn package_installed(package: &str) -> Option<bool> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "--", package])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    // Exit status 1 with nothing on stdout: dpkg has never heard of it.
    Some(out.status.success() && is_installed_status(&String::from_utf8_lossy(&out.stdout)))
}

/// `${Status}` of an installed package: "install ok installed" (also with `hold`).
fn is_installed_status(status: &str) -> bool {
    let words: Vec<&str> = status.split_whitespace().collect();
    matches!(words.as_slice(), [_, "ok", "installed"])
}

/// Every configured game's state, with `is_package` answering for packages (so tests
/// need no dpkg).
pub fn detect_with(
    config: &Config,
    path: Option<&OsStr>,
    mut is_package: impl FnMut(&str) -> Option<bool>,
) -> BTreeMap<String, Installed> {
    let mut out = BTreeMap::new();
    for (game, g) in &config.games {
        let program = g.launch.first().and_then(|p| find_program(p, path));
        let state = if program.is_some() {
            Installed::Yes
        } else {
            let mut state = Installed::No;
            for p in &g.packages {
                match is_package(p) {
                    Some(true) => {
                        state = Installed::Yes;
                        break;
                    }
                    Some(false) => {}
                    None => state = Installed::Unknown,
                }
            }
            state
        };
        out.insert(game.clone(), state);
    }
    out
}

/// Every configured game's state, asking dpkg-query (blocking: run it off the UI).
pub fn detect(config: &Config) -> BTreeMap<String, Installed> {
    let path = std::env::var_os("PATH");
    detect_with(config, path.as_deref(), package_installed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_on_path_and_packages_count() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("mygame");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let plain = dir.path().join("notexec");
        std::fs::write(&plain, "").unwrap();
        let path = std::env::join_paths(["/nonexistent", dir.path().to_str().unwrap()]).unwrap();
        assert_eq!(find_program("mygame", Some(&path)), Some(exe.clone()));
        assert_eq!(find_program("notexec", Some(&path)), None);
        assert_eq!(find_program(exe.to_str().unwrap(), None), Some(exe));
        assert_eq!(find_program("glou-no-such-program", Some(&path)), None);

        let config = super::super::config::parse(
            r#"
            [games.mygame]
            launch = ["mygame"]
            [games.pkg]
            launch = ["glou-no-such-program"]
            packages = ["a", "b"]
            [games.nodpkg]
            launch = ["glou-no-such-program"]
            packages = ["c"]
            "#,
        )
        .unwrap();
        let found = detect_with(&config, Some(&path), |p| match p {
            "a" => Some(false),
            "b" => Some(true),
            _ => None,
        });
        assert_eq!(found["mygame"], Installed::Yes);
        assert_eq!(found["pkg"], Installed::Yes);
        assert_eq!(found["nodpkg"], Installed::Unknown);
        let none = detect_with(&config, Some(&path), |_| Some(false));
        assert_eq!(none["pkg"], Installed::No);
    }

    #[test]
    fn dpkg_status_words() {
        assert!(is_installed_status("install ok installed"));
        assert!(is_installed_status("hold ok installed"));
        assert!(!is_installed_status("deinstall ok config-files"));
        assert!(!is_installed_status("unknown ok not-installed"));
        assert!(!is_installed_status(""));
    }
}
