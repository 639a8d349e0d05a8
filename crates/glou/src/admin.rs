//! `glou user …` and `glou stats …`: the administrator's command line, what GGZ's
//! `ggzduedit` did. It opens the store the server uses (its data directory or its
//! PostgreSQL URL), also while the server runs. The rules are the core's and the SQL the
//! store's: this file parses, checks, calls and prints. It never prints a password or a
//! password hash.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};
use glou_core::Timestamp;
use glou_core::account::{self, Perm, Perms, PlayerType};
use glou_server::{Config, RawConfig};
use glou_store::{Account, Ban, GameStats, NewAccount, RankModel, Refusal, Store, StoreError};

/// Where the accounts are: the same three options as `glou serve`.
#[derive(Args, Debug)]
pub struct StoreArgs {
    /// The server's TOML configuration file (for its data directory, store and games).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Directory of the embedded database [default: ./glou-data].
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: postgres://USER@HOST/DB, or sqlite://PATH [default: SQLite in the data directory].
    #[arg(long, value_name = "URL", global = true)]
    store: Option<String>,
}

/// `glou user`: the accounts.
#[derive(Args, Debug)]
pub struct UserArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: UserCommand,
}

/// `glou stats`: the players' statistics.
#[derive(Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: StatsCommand,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Create an account (a normal player unless --admin or --perm say more).
    Add {
        name: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// E-mail address.
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// Make an admin: rooms_admin, chat_announce, edit_tables and edit_privmsg too.
        #[arg(long)]
        admin: bool,
        /// A permission to add (repeatable).
        #[arg(long, value_name = "PERM", value_parser = perm_parser())]
        perm: Vec<Perm>,
    },
    /// List accounts in name order: name, type, permissions, flags, creation date.
    List {
        /// Start after this name.
        #[arg(long, value_name = "NAME")]
        after: Option<String>,
        /// Most accounts to list [default: all].
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// Show an account (every field but the password) and its statistics.
    Show { name: String },
    /// Set a new password; the account's sessions end.
    Passwd {
        name: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Show permissions, or change them in order: +PERM, -PERM, `admin`, `normal`.
    ///
    /// PERM is one of join_table, launch_table, rooms_login, rooms_admin, chat_announce,
    /// chat_bot, no_stats, edit_tables, edit_privmsg, report_results. `admin` and `normal`
    /// set the presets (0x0000019f and 0x00000007). Options go before NAME, as a change
    /// may start with `-`.
    Perm {
        name: String,
        /// +PERM, -PERM, admin or normal.
        #[arg(value_name = "CHANGE", allow_hyphen_values = true, value_parser = parse_change)]
        changes: Vec<Change>,
    },
    /// Ban an account: its sessions end and it cannot log in.
    Ban {
        name: String,
        /// How long, e.g. 2h, 7days, 1month [default: for good].
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<humantime::Duration>,
        /// Why (kept with the ban).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
    },
    /// Lift a ban.
    Unban { name: String },
    /// Stop an account from chatting.
    Gag { name: String },
    /// Let an account chat again.
    Ungag { name: String },
    /// Delete an account with its sessions, avatar, statistics, friends and blocks.
    Delete {
        name: String,
        /// Really delete (matches it played stay in the history, under its name).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
enum StatsCommand {
    /// A player's statistics per game, with their rank.
    Show {
        name: String,
        /// Only this game.
        #[arg(long, value_name = "GAME")]
        game: Option<String>,
    },
    /// Delete a player's statistics (in every game without --game); the history stays.
    Reset {
        name: String,
        /// Only this game.
        #[arg(long, value_name = "GAME")]
        game: Option<String>,
    },
}

/// A new password: on the command line or on standard input.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct PasswordArgs {
    /// The password (other local users can see it in the process list).
    #[arg(long, value_name = "PW")]
    password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

/// Kept out of every output.
impl std::fmt::Debug for PasswordArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordArgs(…)")
    }
}

/// One change of `glou user perm`.
#[derive(Debug, Clone, Copy)]
enum Change {
    Add(Perm),
    Remove(Perm),
    Set(Perms),
}

pub async fn user(args: UserArgs) -> anyhow::Result<()> {
    let (config, store) = args.store.open().await?;
    let result = run_user(&store, &config, args.command, now()).await;
    store.close().await;
    quiet_on_closed_stdout(result)
}

pub async fn stats(args: StatsArgs) -> anyhow::Result<()> {
    let (config, store) = args.store.open().await?;
    let result = run_stats(&store, &config, args.command).await;
    store.close().await;
    quiet_on_closed_stdout(result)
}

impl StoreArgs {
    /// The configuration as `glou serve` would build it, and its store.
    async fn open(self) -> anyhow::Result<(Config, Store)> {
        let mut raw = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                RawConfig::from_toml(&text).with_context(|| format!("in {}", path.display()))?
            }
            None => RawConfig::default(),
        };
        if let Some(dir) = self.data_dir {
            raw.data_dir = Some(dir);
        }
        if let Some(url) = self.store {
            raw.store = Some(url);
        }
        let config = raw.validate().context("invalid configuration")?;
        let store =
            glou_server::open_store(&config)
                .await
                .with_context(|| match &config.store {
                    Some(_) => "opening the database at the store URL".to_string(),
                    None => format!("opening the database in {}", config.data_dir.display()),
                })?;
        Ok((config, store))
    }
}

async fn run_user(
    store: &Store,
    config: &Config,
    command: UserCommand,
    now: Timestamp,
) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            password,
            email,
            admin,
            perm,
        } => {
            let mut perms = if admin {
                Perms::ADMIN
            } else {
                Perms::REGISTERED
            };
            for p in perm {
                perms = perms.with(p, true);
            }
            add(store, &name, password, email.as_deref(), perms, now).await
        }
        UserCommand::List { after, limit } => list(store, after, limit, now).await,
        UserCommand::Show { name } => show(store, config, &name, now).await,
        UserCommand::Passwd { name, password } => {
            let account = find(store, &name).await?;
            let hash = hash(password.read()?).await?;
            store.set_password(account.id, &hash).await?;
            out(&format!(
                "changed the password of {}; its sessions are ended\n",
                account.name
            ))
        }
        UserCommand::Perm { name, changes } => {
            let account = find(store, &name).await?;
            let perms = changes.iter().fold(account.perms, |perms, c| match *c {
                Change::Add(p) => perms.with(p, true),
                Change::Remove(p) => perms.with(p, false),
                Change::Set(preset) => preset,
            });
            if perms != account.perms {
                store.set_perms(account.id, perms).await?;
            }
            out(&format!("{}: {}\n", account.name, perms_line(perms)))
        }
        UserCommand::Ban {
            name,
            duration,
            reason,
        } => {
            let account = find(store, &name).await?;
            let until = duration.map(|d| now.saturating_add(d.into()));
            store
                .set_ban(
                    account.id,
                    Some(&Ban {
                        until,
                        reason: reason.unwrap_or_default(),
                    }),
                )
                .await?;
            let how = match until {
                Some(until) => format!("until {}", date_time(until)),
                None => "for good".to_string(),
            };
            out(&format!(
                "banned {} {how}; its sessions are ended\n",
                account.name
            ))
        }
        UserCommand::Unban { name } => {
            let account = find(store, &name).await?;
            store.set_ban(account.id, None).await?;
            out(&format!("unbanned {}\n", account.name))
        }
        UserCommand::Gag { name } => gag(store, &name, true).await,
        UserCommand::Ungag { name } => gag(store, &name, false).await,
        UserCommand::Delete { name, yes } => {
            let account = find(store, &name).await?;
            if !yes {
                bail!(
                    "not deleting {:?} without --yes: its sessions, avatar, statistics, friends \
                     and blocks would go with it",
                    account.name
                );
            }
            store.delete_account(account.id).await?;
            out(&format!("deleted {}\n", account.name))
        }
    }
}

async fn run_stats(store: &Store, config: &Config, command: StatsCommand) -> anyhow::Result<()> {
    match command {
        StatsCommand::Show { name, game } => {
            let account = find(store, &name).await?;
            let mut stats = store.player_stats(&account.name).await?;
            stats.retain(|s| game.as_ref().is_none_or(|g| *g == s.game));
            if stats.is_empty() {
                let in_game = game.map(|g| format!(" in {g}")).unwrap_or_default();
                return out(&format!("{} has no statistics{in_game}\n", account.name));
            }
            out(&stats_table(store, config, &account.name, &stats, "").await?)
        }
        StatsCommand::Reset { name, game } => {
            let account = find(store, &name).await?;
            let rows = store.reset_stats(&account.name, game.as_deref()).await?;
            let in_game = game.map(|g| format!(" in {g}")).unwrap_or_default();
            let s = if rows == 1 { "" } else { "s" };
            out(&format!(
                "deleted {rows} statistics row{s} of {}{in_game}\n",
                account.name
            ))
        }
    }
}

async fn add(
    store: &Store,
    name: &str,
    password: PasswordArgs,
    email: Option<&str>,
    perms: Perms,
    now: Timestamp,
) -> anyhow::Result<()> {
    account::check_name(name).map_err(|e| anyhow!("cannot add {name:?}: {e}"))?;
    if let Some(email) = email {
        account::check_email(email).map_err(|e| anyhow!("cannot add {name:?}: {e}"))?;
    }
    let password = password.read()?;
    let taken = |holder: &str| {
        anyhow!(
            "cannot add {name:?}: the name is taken by {holder:?} (names are unique ignoring \
             case and look-alike letters)"
        )
    };
    // Name the holder, and spare the hashing, when the name is taken.
    if let Some(holder) = store.account(name).await? {
        return Err(taken(&holder.name));
    }
    let new = NewAccount {
        name,
        password_hash: hash(password).await?,
        email,
        perms,
    };
    let created = match store.create_account(&new, now).await {
        Err(StoreError::Refused(Refusal::NameTaken)) => return Err(taken("someone else")),
        other => other?,
    };
    let kind = PlayerType::of(created.perms, false).as_str();
    out(&format!("created {} ({kind})\n", created.name))
}

/// `glou user list`: pages through the accounts so that any number can be listed.
async fn list(
    store: &Store,
    after: Option<String>,
    limit: Option<u32>,
    now: Timestamp,
) -> anyhow::Result<()> {
    const PAGE: u32 = 500;
    let mut after_key = after.as_deref().map(account::name_key).unwrap_or_default();
    let mut left = limit.unwrap_or(u32::MAX);
    while left > 0 {
        let page = store.accounts(&after_key, left.min(PAGE)).await?;
        let mut text = String::new();
        for a in &page {
            let mut flags = Vec::new();
            if a.gagged {
                flags.push("gagged");
            }
            if a.banned_at(now).is_some() {
                flags.push("banned");
            }
            let flags = if flags.is_empty() {
                "-".to_string()
            } else {
                flags.join(",")
            };
            let created = date_time(a.created_at);
            text.push_str(&format!(
                "{:<16}  {:<6}  0x{:08x}  {flags:<13}  {}\n",
                a.name,
                player_type(a),
                a.perms.0,
                created.get(..10).unwrap_or(&created),
            ));
        }
        out(&text)?;
        let Some(last) = page.last() else { break };
        if page.len() < left.min(PAGE) as usize {
            break;
        }
        after_key = account::name_key(&last.name);
        left -= page.len() as u32;
    }
    Ok(())
}

/// `glou user show`.
async fn show(store: &Store, config: &Config, name: &str, now: Timestamp) -> anyhow::Result<()> {
    let a = find(store, name).await?;
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    let ban = match (&a.ban, a.banned_at(now)) {
        (_, Some(ban)) => {
            let until = match ban.until {
                Some(until) => format!("until {}", date_time(until)),
                None => "forever".to_string(),
            };
            match ban.reason.as_str() {
                "" => until,
                reason => format!("{until} (reason: {reason})"),
            }
        }
        (Some(Ban { until: Some(t), .. }), None) => format!("no (a ban ended {})", date_time(*t)),
        _ => "no".to_string(),
    };
    let fields = [
        ("name", a.name.clone()),
        ("id", a.id.to_string()),
        ("type", player_type(&a).to_string()),
        ("perms", perms_line(a.perms)),
        ("email", or_dash(a.email.as_deref().unwrap_or_default())),
        ("real name", or_dash(&a.real_name)),
        (
            "bio",
            or_dash(&a.bio).replace('\n', &format!("\n{:13}", "")),
        ),
        ("created", date_time(a.created_at)),
        (
            "last login",
            a.last_login.map_or("never".to_string(), date_time),
        ),
        (
            "avatar",
            if a.avatar.is_some() { "yes" } else { "no" }.into(),
        ),
        ("gagged", if a.gagged { "yes" } else { "no" }.into()),
        ("banned", ban),
    ];
    let mut text = String::new();
    for (label, value) in fields {
        text.push_str(&format!("{:<13}{value}\n", format!("{label}:")));
    }
    let stats = store.player_stats(&a.name).await?;
    if stats.is_empty() {
        text.push_str("statistics:  none\n");
    } else {
        text.push_str("statistics:\n");
        text.push_str(&stats_table(store, config, &a.name, &stats, "  ").await?);
    }
    out(&text)
}

async fn gag(store: &Store, name: &str, gagged: bool) -> anyhow::Result<()> {
    let account = find(store, name).await?;
    store.set_gagged(account.id, gagged).await?;
    let done = if gagged { "gagged" } else { "ungagged" };
    out(&format!("{done} {}\n", account.name))
}

/// A table of statistics, one game a line, each line starting with `indent`. Rating
/// is rounded as GGZ shows it; the rank goes by the game's model in the configuration
/// (by rating for a game it does not know).
async fn stats_table(
    store: &Store,
    config: &Config,
    name: &str,
    stats: &[GameStats],
    indent: &str,
) -> anyhow::Result<String> {
    let mut text = format!(
        "{indent}{:<16} {:>6} {:>6} {:>6} {:>8} {:>6} {:>9} {:>7} {:>6}  ranked by\n",
        "game", "wins", "losses", "ties", "forfeits", "rating", "highscore", "matches", "rank"
    );
    for s in stats {
        let model = config
            .games
            .get(&s.game)
            .and_then(|m| m.rank_model())
            .unwrap_or(RankModel::Rating);
        let rank = store.rank(name, &s.game, model).await?;
        let rank = rank.map_or("-".to_string(), |r| r.to_string());
        text.push_str(&format!(
            "{indent}{:<16} {:>6} {:>6} {:>6} {:>8} {:>6} {:>9} {:>7} {:>6}  {}\n",
            s.game,
            s.wins,
            s.losses,
            s.ties,
            s.forfeits,
            (s.rating + 0.5) as i64,
            s.highscore,
            s.matches,
            rank,
            model.as_str(),
        ));
    }
    Ok(text)
}

/// The account with `name`'s key, or `no player named "…"`.
async fn find(store: &Store, name: &str) -> anyhow::Result<Account> {
    store
        .account(name)
        .await?
        .ok_or_else(|| Refusal::UnknownPlayer(name.to_owned()).into())
}

impl PasswordArgs {
    /// The password, checked by the core's rules.
    fn read(self) -> anyhow::Result<String> {
        let password = match self.password {
            Some(password) => password,
            None => {
                let mut line = String::new();
                std::io::stdin()
                    .lock()
                    .read_line(&mut line)
                    .context("reading the password from standard input")?;
                let end = line.trim_end_matches(['\n', '\r']).len();
                line.truncate(end);
                line
            }
        };
        account::check_password(&password)?;
        Ok(password)
    }
}

/// Hashes off the async threads (argon2id takes tens of milliseconds).
async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || glou_server::accounts::hash_new_password(&password))
        .await
        .context("hashing the password")
}

fn perm_parser() -> impl TypedValueParser<Value = Perm> {
    PossibleValuesParser::new(Perm::ALL.map(Perm::as_str))
        .try_map(|s| s.parse::<Perm>().map_err(|()| "unknown permission"))
}

fn parse_change(s: &str) -> Result<Change, String> {
    let perm = |name: &str| {
        name.parse::<Perm>().map_err(|()| {
            let known: Vec<&str> = Perm::ALL.map(Perm::as_str).to_vec();
            format!(
                "unknown permission {name:?}, expected one of {}",
                known.join(", ")
            )
        })
    };
    match s {
        // A change may start with `-`, so options after it are taken for changes.
        _ if s.starts_with("--") => Err(format!(
            "{s:?} is not a change; put options before NAME: \
             glou user perm --data-dir DIR NAME -join_table"
        )),
        "admin" => Ok(Change::Set(Perms::ADMIN)),
        "normal" => Ok(Change::Set(Perms::REGISTERED)),
        _ => {
            if let Some(name) = s.strip_prefix('+') {
                perm(name).map(Change::Add)
            } else if let Some(name) = s.strip_prefix('-') {
                perm(name).map(Change::Remove)
            } else {
                Err(format!("expected +PERM, -PERM, admin or normal, got {s:?}"))
            }
        }
    }
}

fn player_type(a: &Account) -> &'static str {
    PlayerType::of(a.perms, false).as_str()
}

/// `admin 0x0000019f join_table, launch_table, …`
fn perms_line(perms: Perms) -> String {
    let kind = PlayerType::of(perms, false).as_str();
    format!("{kind} 0x{:08x} {}", perms.0, perms.names().join(", "))
}

/// RFC 3339 in UTC, to the second.
fn date_time(t: Timestamp) -> String {
    let formatted = UNIX_EPOCH
        .checked_add(Duration::from_millis(t.as_millis()))
        .map(|t| {
            let mut s = String::new();
            std::fmt::Write::write_fmt(
                &mut s,
                format_args!("{}", humantime::format_rfc3339_seconds(t)),
            )
            .map(|()| s)
        });
    match formatted {
        Some(Ok(s)) => s,
        // humantime stops at the year 9999.
        _ => "after 9999".to_string(),
    }
}

fn now() -> Timestamp {
    (glou_server::config::system_clock())()
}

/// Writes to standard output at once.
fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// A reader that stopped reading (`glou user list | head`) is not an error.
fn quiet_on_closed_stdout(result: anyhow::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// `glou import-ggz DIR`: GGZ's `.dsc` and `.room` files as Glou configuration.
pub fn import_ggz(dir: &std::path::Path) -> anyhow::Result<()> {
    #[derive(serde::Serialize)]
    struct Imported {
        games: std::collections::BTreeMap<String, glou_server::config::RawGame>,
        rooms: Vec<glou_server::RawRoom>,
    }
    let (games, rooms) = glou_server::config::lobby::import_ggz(dir)?;
    let imported = Imported {
        games: games.into_iter().collect(),
        rooms,
    };
    let text = toml::to_string(&imported).context("writing the configuration as TOML")?;
    println!(
        "# Imported from the GGZ configuration in {}: paste into glou.toml.\n# The first room is the entry room.\n",
        dir.display()
    );
    print!("{text}");
    Ok(())
}
