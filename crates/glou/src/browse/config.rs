//! `browse.toml`: which Glou server to show and, per game, how to start its client
//! (a launch template: an argv list with `{addr}`, `{host}`, `{port}`, `{name}`), which
//! Debian packages mean "installed", and which protocol pings its servers. The file
//! as written (`Raw*`, `deny_unknown_fields`) is validated once, over built-in
//! defaults for well-known games. Substitution is here too: it never goes through a
//! shell, and only a literal `IP:port` is substituted.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use super::ping::Proto;

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// The Glou server's HTTP URL(s); `--server` overrides it.
    server: Option<String>,
    /// Per game (the `game` of listed servers): what replaces the built-in settings.
    #[serde(default)]
    games: BTreeMap<String, RawGame>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGame {
    /// The client's argv, placeholders substituted in each element (no shell).
    launch: Option<Vec<String>>,
    /// Debian packages of which any one installed means the game is installed.
    packages: Option<Vec<String>>,
    /// How to ping its servers: `q3`, `tw07` or `none`.
    ping: Option<String>,
}

/// The validated configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub server: Option<String>,
    pub games: BTreeMap<String, GameConfig>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GameConfig {
    /// Empty: the game cannot be launched from here.
    pub launch: Vec<String>,
    pub packages: Vec<String>,
    pub ping: Option<Proto>,
}

/// Where a launch failed before anything ran.
#[derive(Debug, PartialEq, Eq)]
pub enum LaunchError {
    NoTemplate(String),
    BadAddress(String),
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::NoTemplate(game) => write!(
                f,
                "no launch template for {game:?} (add [games.{game}] launch = [...] to browse.toml)"
            ),
            LaunchError::BadAddress(addr) => {
                write!(f, "address {addr:?} is not IP:port; not launching")
            }
        }
    }
}

const PLACEHOLDERS: [&str; 4] = ["addr", "host", "port", "name"];

/// Built-in settings for well-known games (Debian's program and package names).
fn builtin() -> BTreeMap<String, GameConfig> {
    let game = |launch: &[&str], packages: &[&str], ping| GameConfig {
        launch: launch.iter().map(|s| s.to_string()).collect(),
        packages: packages.iter().map(|s| s.to_string()).collect(),
        ping,
    };
    [
        (
            "openarena",
            game(
                &["openarena", "+connect", "{addr}"],
                &["openarena"],
                Some(Proto::Q3),
            ),
        ),
        (
            "quake3",
            game(
                &["ioquake3", "+connect", "{addr}"],
                &["ioquake3", "quake3"],
                Some(Proto::Q3),
            ),
        ),
        (
            "xonotic",
            game(
                &["xonotic", "+connect", "{addr}"],
                &["xonotic"],
                Some(Proto::Q3),
            ),
        ),
        (
            "teeworlds",
            game(
                &["teeworlds", "connect {addr}"],
                &["teeworlds"],
                Some(Proto::Tw07),
            ),
        ),
        (
            "warzone2100",
            game(&["warzone2100", "--join={addr}"], &["warzone2100"], None),
        ),
        (
            "freeciv",
            game(
                &[
                    "freeciv-gtk3.22",
                    "--autoconnect",
                    "--server",
                    "{host}",
                    "--port",
                    "{port}",
                ],
                &[
                    "freeciv-client-gtk3",
                    "freeciv-client-qt",
                    "freeciv-client-sdl",
                ],
                None,
            ),
        ),
    ]
    .into_iter()
    .map(|(name, g)| (name.to_string(), g))
    .collect()
}

/// `$XDG_CONFIG_HOME/glou/browse.toml`, else `~/.config/glou/browse.toml`.
pub fn default_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(base.join("glou").join("browse.toml"))
}

/// Reads `path` (which must exist), or the default file if there is one, over the
/// built-in games.
pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
    let (path, required) = match path {
        Some(p) => (Some(p.to_path_buf()), true),
        None => (default_path(), false),
    };
    let text = match &path {
        Some(p) if required || p.exists() => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        _ => String::new(),
    };
    parse(&text).with_context(|| format!("in {}", path.unwrap_or_default().display()))
}

/// Validates the text of a configuration file over the built-in games.
pub fn parse(text: &str) -> anyhow::Result<Config> {
    let raw: RawConfig = toml::from_str(text)?;
    let mut games = builtin();
    for (name, g) in raw.games {
        let entry = games.entry(name.clone()).or_default();
        if let Some(launch) = g.launch {
            check_template(&launch).with_context(|| format!("games.{name}.launch"))?;
            entry.launch = launch;
        }
        if let Some(packages) = g.packages {
            if let Some(bad) = packages.iter().find(|p| !is_package_name(p)) {
                bail!("games.{name}.packages: expected Debian package names, got {bad:?}");
            }
            entry.packages = packages;
        }
        if let Some(ping) = g.ping {
            entry.ping = match ping.as_str() {
                "q3" => Some(Proto::Q3),
                "tw07" => Some(Proto::Tw07),
                "none" => None,
                other => bail!("games.{name}.ping: expected q3, tw07 or none, got {other:?}"),
            };
        }
    }
    Ok(Config {
        server: raw.server,
        games,
    })
}

fn check_template(launch: &[String]) -> anyhow::Result<()> {
    let Some(program) = launch.first() else {
        bail!("expected a program and its arguments, got an empty list");
    };
    if program.is_empty() || program.contains('{') {
        bail!("the program must be named literally, got {program:?}");
    }
    for arg in launch {
        for name in placeholders(arg) {
            if !PLACEHOLDERS.contains(&name) {
                bail!(
                    "unknown placeholder {{{name}}} in {arg:?}: expected {{addr}}, {{host}}, {{port}} or {{name}}"
                );
            }
        }
    }
    Ok(())
}

/// The `{word}` placeholders of an argument.
fn placeholders(arg: &str) -> impl Iterator<Item = &str> {
    arg.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .filter(|name| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn is_package_name(p: &str) -> bool {
    !p.is_empty()
        && p.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
}

impl Config {
    /// How to ping a server of `game` listed from `source`: the game's setting, else
    /// the protocol the source stands for.
    pub fn ping_proto(&self, game: &str, source: &str) -> Option<Proto> {
        if let Some(g) = self.games.get(game) {
            return g.ping;
        }
        match source {
            "q3" => Some(Proto::Q3),
            "tw07" => Some(Proto::Tw07),
            _ => None,
        }
    }

    /// The argv that joins server `name` at `address` of `game`. The address must be
    /// a literal `IP:port` (`[v6]:port`); each placeholder is replaced in one pass, so
    /// substituted text is never read again.
    pub fn argv(&self, game: &str, address: &str, name: &str) -> Result<Vec<String>, LaunchError> {
        let template = self
            .games
            .get(game)
            .map(|g| &g.launch)
            .filter(|l| !l.is_empty())
            .ok_or_else(|| LaunchError::NoTemplate(game.to_string()))?;
        let addr: SocketAddr = address
            .parse()
            .map_err(|_| LaunchError::BadAddress(address.to_string()))?;
        let values = [
            ("addr", addr.to_string()),
            ("host", addr.ip().to_string()),
            ("port", addr.port().to_string()),
            ("name", super::text::inert(name)),
        ];
        Ok(template
            .iter()
            .map(|arg| substitute(arg, &values))
            .collect())
    }
}

fn substitute(arg: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(arg.len());
    let mut rest = arg;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.split_once('}').and_then(|(key, tail)| {
            values
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (v, tail))
        });
        match value {
            Some((v, tail)) => {
                out.push_str(v);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(c: &Config, game: &str, addr: &str, name: &str) -> Result<Vec<String>, LaunchError> {
        c.argv(game, addr, name)
    }

    #[test]
    fn builtins_join_with_their_own_syntax() {
        let c = parse("").unwrap();
        assert_eq!(
            argv(&c, "openarena", "127.0.0.1:27960", "x").unwrap(),
            ["openarena", "+connect", "127.0.0.1:27960"]
        );
        assert_eq!(
            argv(&c, "teeworlds", "10.0.0.1:8303", "x").unwrap(),
            ["teeworlds", "connect 10.0.0.1:8303"]
        );
        assert_eq!(
            argv(&c, "freeciv", "[::1]:5556", "x").unwrap(),
            [
                "freeciv-gtk3.22",
                "--autoconnect",
                "--server",
                "::1",
                "--port",
                "5556"
            ]
        );
        assert_eq!(
            argv(&c, "warzone2100", "192.0.2.1:2100", "x").unwrap(),
            ["warzone2100", "--join=192.0.2.1:2100"]
        );
        assert_eq!(
            argv(&c, "nethack", "192.0.2.1:1", "x"),
            Err(LaunchError::NoTemplate("nethack".into()))
        );
    }

    #[test]
    fn hostile_addresses_and_names_are_never_interpreted() {
        let c = parse(
            r#"
            server = "http://127.0.0.1:5680"
            [games.openarena]
            launch = ["sh", "-c", "echo \"$0\" > /tmp/x", "{addr}", "{name}", "{}", "{"]
            [games.mygame]
            launch = ["mygame", "{host}:{port}"]
            packages = ["mygame-data"]
            ping = "tw07"
            "#,
        )
        .unwrap();
        assert_eq!(c.server.as_deref(), Some("http://127.0.0.1:5680"));
        for bad in [
            "127.0.0.1:1; rm -rf /",
            "$(reboot):1",
            "example.org:27960",
            "127.0.0.1",
        ] {
            assert_eq!(
                argv(&c, "openarena", bad, "x"),
                Err(LaunchError::BadAddress(bad.into()))
            );
        }
        let v = argv(&c, "openarena", "127.0.0.1:27960", "{addr}$(id)\x1b[2J").unwrap();
        assert_eq!(v[3], "127.0.0.1:27960");
        // The name is substituted once and made inert; its own braces stay literal.
        assert_eq!(v[4], "{addr}$(id)\u{fffd}[2J");
        assert_eq!(v[5], "{}");
        assert_eq!(v[6], "{");
        assert_eq!(argv(&c, "mygame", "1.2.3.4:5", "").unwrap()[1], "1.2.3.4:5");
        assert_eq!(c.games["mygame"].packages, ["mygame-data"]);
        assert_eq!(c.ping_proto("mygame", "native"), Some(Proto::Tw07));
        // The built-ins not mentioned stay.
        assert_eq!(c.games["teeworlds"].packages, ["teeworlds"]);
        assert_eq!(c.ping_proto("other", "q3"), Some(Proto::Q3));
        assert_eq!(c.ping_proto("other", "native"), None);
    }

    #[test]
    fn bad_files_are_refused_with_the_field() {
        for (text, expect) in [
            ("[games.x]\nlaunch = []", "games.x.launch"),
            ("[games.x]\nlaunch = [\"{addr}\"]", "games.x.launch"),
            (
                "[games.x]\nlaunch = [\"x\", \"{address}\"]",
                "unknown placeholder",
            ),
            ("[games.x]\npackages = [\"a b\"]", "games.x.packages"),
            ("[games.x]\nping = \"icmp\"", "games.x.ping"),
            ("[games.x]\nlanch = [\"x\"]", "unknown field"),
            ("colour = 1", "unknown field"),
        ] {
            let e = format!("{:#}", parse(text).unwrap_err());
            assert!(e.contains(expect), "{text}: {e}");
        }
        let e = load(Some(Path::new("/nonexistent/browse.toml"))).unwrap_err();
        assert!(format!("{e:#}").contains("reading /nonexistent/browse.toml"));
    }
}
