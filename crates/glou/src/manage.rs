//! `glou admin …`: the admin API of a *running* server (`/api/v1/admin/...`). The
//! token is `--token`, `GLOU_ADMIN_TOKEN`, or the server's `DATA_DIR/admin.token`
//! (readable by the server's user: run this as that user on the server's machine).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use glou_proto::native::admin::{
    AdminGame, AdminPlayer, AdminRoom, AdminTable, AuditDto, ChangedDto, HousekeepingDto,
    ReloadDto, SweptDto,
};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

#[derive(Args)]
pub struct AdminArgs {
    /// The server's HTTP listener.
    #[arg(
        long,
        value_name = "URL",
        default_value = "http://127.0.0.1:5680",
        global = true
    )]
    url: String,
    /// The admin token, or an admin's session token [default: GLOU_ADMIN_TOKEN, else
    /// DATA_DIR/admin.token].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "GLOU_ADMIN_TOKEN",
        global = true,
        hide_env_values = true
    )]
    token: Option<String>,
    /// The server's data directory, where it writes admin.token.
    #[arg(long, value_name = "DIR", default_value = "glou-data", global = true)]
    data_dir: PathBuf,
    /// Print the server's JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

/// The token is kept out of every output.
impl std::fmt::Debug for AdminArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminArgs")
            .field("url", &self.url)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("data_dir", &self.data_dir)
            .field("json", &self.json)
            .field("command", &self.command)
            .finish()
    }
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Read the configuration file again and apply it (as SIGHUP does).
    Reload,
    /// The lobby's game types.
    Games,
    /// Add a game type from a TOML file holding its `[games.KEY]` fields.
    GameAdd { key: String, file: PathBuf },
    /// Replace a game type's fields from a TOML file (running tables keep theirs).
    GameEdit { key: String, file: PathBuf },
    /// Remove a game type (no open room may play it).
    GameRemove { key: String },
    /// The rooms, with players and tables.
    Rooms,
    /// Open a room.
    RoomAdd(RoomFields),
    /// Change a room (by id): every field is replaced.
    RoomEdit {
        id: u32,
        #[command(flatten)]
        fields: RoomFields,
    },
    /// Close a room (by id): its players go to the entry room, its tables end.
    RoomRemove { id: u32 },
    /// The tables, with their seats and game programs.
    Tables,
    /// End a table now.
    TableEnd { room: u32, id: u32 },
    /// The players connected to the lobby.
    Players,
    /// Throw a player out of the lobby.
    Kick {
        name: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Stop a player's chat reaching others.
    Gag { name: String },
    /// Let a player chat again.
    Ungag { name: String },
    /// Ban an account: it is logged out and cannot log in.
    Ban {
        name: String,
        /// How long, e.g. 2h, 7days [default: for good].
        #[arg(long = "for", value_name = "DURATION")]
        duration: Option<humantime::Duration>,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Remove an account with its sessions, avatar, statistics and friends.
    RemoveUser {
        name: String,
        #[arg(long)]
        yes: bool,
    },
    /// Clear every player's statistics of a game.
    ClearStats {
        game: String,
        #[arg(long)]
        yes: bool,
    },
    /// A message to everyone online.
    Announce { text: String },
    /// Change the log filter (as RUST_LOG) until the next reload or restart.
    Log { filter: String },
    /// The audit log, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Entries older than this id.
        #[arg(long)]
        before: Option<i64>,
    },
    /// The housekeeping's settings and what it would remove now (a dry run).
    Housekeeping,
    /// Run one housekeeping pass now.
    HousekeepingRun,
}

/// A room's fields, as in `[[rooms]]`.
#[derive(Args, Debug)]
struct RoomFields {
    name: String,
    #[arg(long)]
    description: Option<String>,
    /// The game type's key (none: a chat room).
    #[arg(long)]
    game: Option<String>,
    #[arg(long)]
    max_players: Option<u32>,
    #[arg(long)]
    max_tables: Option<u32>,
    /// none, registered or admin.
    #[arg(long)]
    restriction: Option<String>,
}

impl RoomFields {
    fn to_json(&self) -> Value {
        let mut v = json!({ "name": self.name });
        let fields = [
            ("description", self.description.clone().map(Value::from)),
            ("game", self.game.clone().map(Value::from)),
            ("max_players", self.max_players.map(Value::from)),
            ("max_tables", self.max_tables.map(Value::from)),
            ("restriction", self.restriction.clone().map(Value::from)),
        ];
        for (k, value) in fields {
            if let Some(value) = value {
                v[k] = value;
            }
        }
        v
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    raw: bool,
}

impl Api {
    /// Calls the API; the body as `T`, after printing it if `--json`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Option<T>> {
        let url = format!("{}/api/v1/admin{path}", self.base);
        let mut req = self.http.request(method, &url).bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.with_context(|| format!("asking {url}"))?;
        let status = response.status();
        let text = response.text().await.context("reading the reply")?;
        if !status.is_success() {
            let message = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(String::from))
                .unwrap_or(text);
            bail!("{status}: {message}");
        }
        if text.is_empty() {
            return Ok(None);
        }
        if self.raw {
            println!("{text}");
            return Ok(None);
        }
        serde_json::from_str(&text)
            .map(Some)
            .with_context(|| format!("{url}: unexpected reply"))
    }

    async fn act(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<()> {
        self.call::<Value>(method, path, body).await.map(drop)
    }
}

pub async fn run(args: AdminArgs) -> anyhow::Result<()> {
    let token = match args.token {
        Some(t) => t,
        None => {
            let path = args.data_dir.join("admin.token");
            std::fs::read_to_string(&path)
                .with_context(|| {
                    format!(
                        "reading {} (give --token, or --data-dir of the running server)",
                        path.display()
                    )
                })?
                .trim()
                .to_owned()
        }
    };
    let api = Api {
        http: reqwest::Client::new(),
        base: args.url.trim_end_matches('/').to_owned(),
        token,
        raw: args.json,
    };
    use AdminCommand as C;
    match args.command {
        C::Reload => {
            if let Some(r) = api.call::<ReloadDto>(Method::POST, "/reload", None).await? {
                print_reload(&r);
            }
        }
        C::Games => {
            if let Some(games) = api
                .call::<Vec<AdminGame>>(Method::GET, "/games", None)
                .await?
            {
                println!(
                    "{:>3} {:<16} {:<20} {:<8} {:<6} {:>5}  program",
                    "id", "key", "name", "players", "bots", "rooms"
                );
                for g in games {
                    println!(
                        "{:>3} {:<16} {:<20} {:<8} {:<6} {:>5}  {}",
                        g.id,
                        g.key,
                        g.name,
                        g.players,
                        g.bots,
                        g.rooms,
                        g.executable.join(" ")
                    );
                }
            }
        }
        C::GameAdd { key, file } => {
            let body = game_file(&file)?;
            changed(
                api.call(Method::POST, &format!("/games/{key}"), Some(body))
                    .await?,
            );
        }
        C::GameEdit { key, file } => {
            let body = game_file(&file)?;
            changed(
                api.call(Method::PUT, &format!("/games/{key}"), Some(body))
                    .await?,
            );
        }
        C::GameRemove { key } => {
            changed(
                api.call(Method::DELETE, &format!("/games/{key}"), None)
                    .await?,
            );
        }
        C::Rooms => {
            if let Some(rooms) = api
                .call::<Vec<AdminRoom>>(Method::GET, "/rooms", None)
                .await?
            {
                println!(
                    "{:>3} {:<24} {:<14} {:>9} {:>8} {:<10}",
                    "id", "name", "game", "players", "tables", "entry"
                );
                for r in rooms {
                    println!(
                        "{:>3} {:<24} {:<14} {:>4}/{:<4} {:>3}/{:<4} {:<10}",
                        r.id,
                        r.name,
                        r.game.unwrap_or_else(|| "-".into()),
                        r.players,
                        r.max_players,
                        r.tables,
                        r.max_tables,
                        r.restriction.unwrap_or_else(|| "anyone".into())
                    );
                }
            }
        }
        C::RoomAdd(fields) => {
            changed(
                api.call(Method::POST, "/rooms", Some(fields.to_json()))
                    .await?,
            );
        }
        C::RoomEdit { id, fields } => {
            changed(
                api.call(Method::PUT, &format!("/rooms/{id}"), Some(fields.to_json()))
                    .await?,
            );
        }
        C::RoomRemove { id } => {
            changed(
                api.call(Method::DELETE, &format!("/rooms/{id}"), None)
                    .await?,
            );
        }
        C::Tables => {
            if let Some(tables) = api
                .call::<Vec<AdminTable>>(Method::GET, "/tables", None)
                .await?
            {
                println!(
                    "{:>4} {:>5} {:<14} {:<8} {:>8}  seats",
                    "room", "table", "game", "status", "pid"
                );
                for t in tables {
                    let seats: Vec<String> = t
                        .seats
                        .iter()
                        .map(|s| match &s.name {
                            Some(n) => format!("{}:{n}", s.kind),
                            None => s.kind.clone(),
                        })
                        .collect();
                    println!(
                        "{:>4} {:>5} {:<14} {:<8} {:>8}  {}",
                        t.room,
                        t.id,
                        t.game,
                        t.status,
                        t.pid.map_or_else(|| "-".into(), |p| p.to_string()),
                        seats.join(", ")
                    );
                }
            }
        }
        C::TableEnd { room, id } => {
            api.act(Method::DELETE, &format!("/tables/{room}/{id}"), None)
                .await?;
            println!("table {id} of room {room} ended");
        }
        C::Players => {
            if let Some(players) = api
                .call::<Vec<AdminPlayer>>(Method::GET, "/players", None)
                .await?
            {
                println!(
                    "{:<17} {:<7} {:<5} {:<40} {:>4} {:>5} {:>3}",
                    "name", "type", "proto", "address", "room", "table", "lag"
                );
                for p in players {
                    let dash = |v: Option<u32>| v.map_or_else(|| "-".into(), |v| v.to_string());
                    let address = match (p.address, p.node) {
                        (Some(address), _) => address,
                        (None, Some(node)) => format!("(node {node})"),
                        (None, None) => "-".into(),
                    };
                    println!(
                        "{:<17} {:<7} {:<5} {:<40} {:>4} {:>5} {:>3}",
                        p.name,
                        p.kind,
                        p.protocol.as_deref().unwrap_or("-"),
                        address,
                        dash(p.room),
                        dash(p.table),
                        p.lag
                    );
                }
            }
        }
        C::Kick { name, reason } => {
            api.act(
                Method::POST,
                &format!("/players/{name}/kick"),
                Some(json!({ "reason": reason })),
            )
            .await?;
            println!("{name} kicked");
        }
        C::Gag { name } => {
            api.act(Method::POST, &format!("/players/{name}/gag"), None)
                .await?;
            println!("{name} gagged");
        }
        C::Ungag { name } => {
            api.act(Method::POST, &format!("/players/{name}/ungag"), None)
                .await?;
            println!("{name} may chat again");
        }
        C::Ban {
            name,
            duration,
            reason,
        } => {
            let seconds = duration.map(|d| d.as_secs());
            api.act(
                Method::POST,
                &format!("/accounts/{name}/ban"),
                Some(json!({ "reason": reason, "seconds": seconds })),
            )
            .await?;
            println!("{name} banned");
        }
        C::RemoveUser { name, yes } => {
            if !yes {
                bail!("this deletes {name}'s account, statistics and friends: add --yes");
            }
            api.act(Method::DELETE, &format!("/accounts/{name}"), None)
                .await?;
            println!("{name} removed");
        }
        C::ClearStats { game, yes } => {
            if !yes {
                bail!("this clears every player's statistics of {game}: add --yes");
            }
            if let Some(v) = api
                .call::<Value>(Method::DELETE, &format!("/games/{game}/stats"), None)
                .await?
            {
                println!("{} statistics rows of {game} cleared", v["cleared"]);
            }
        }
        C::Announce { text } => {
            api.act(Method::POST, "/announce", Some(json!({ "text": text })))
                .await?;
            println!("announced");
        }
        C::Log { filter } => {
            api.act(Method::PUT, "/log", Some(json!({ "filter": filter })))
                .await?;
            println!("log filter is now {filter:?}");
        }
        C::Audit { limit, before } => {
            let mut path = format!("/audit?limit={limit}");
            if let Some(b) = before {
                path.push_str(&format!("&before={b}"));
            }
            if let Some(entries) = api.call::<Vec<AuditDto>>(Method::GET, &path, None).await? {
                for e in entries {
                    println!(
                        "{:>6} {} {:<14} {:<24} {:<20} {:<12} {}",
                        e.id, e.at, e.actor, e.action, e.target, e.outcome, e.detail
                    );
                }
            }
        }
        C::Housekeeping => {
            if let Some(h) = api
                .call::<HousekeepingDto>(Method::GET, "/housekeeping", None)
                .await?
            {
                match h.remove_inactive_after_days {
                    Some(d) => println!("accounts inactive for {d} days are removed"),
                    None => println!("inactive accounts are kept"),
                }
                for (game, d) in &h.clear_stats_days {
                    println!("statistics of {game} are cleared every {d} days");
                }
                println!(
                    "audit log entries older than {} days are removed",
                    h.keep_audit_days
                );
                println!("a pass now would remove {} accounts:", h.inactive.len());
                for a in h.inactive {
                    println!("  {:<17} last seen {}", a.name, a.last_seen);
                }
            }
        }
        C::HousekeepingRun => {
            if let Some(s) = api
                .call::<SweptDto>(Method::POST, "/housekeeping/run", None)
                .await?
            {
                println!(
                    "{} accounts removed: {}",
                    s.accounts_removed.len(),
                    s.accounts_removed.join(", ")
                );
                for (game, rows) in s.stats_cleared {
                    println!("statistics of {game} cleared ({rows} rows)");
                }
                println!("{} old audit log entries removed", s.audit_entries_removed);
            }
        }
    }
    Ok(())
}

/// A `[games.KEY]` table's fields from a TOML file, as JSON.
fn game_file(file: &PathBuf) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let value: toml::Value =
        toml::from_str(&text).with_context(|| format!("in {}", file.display()))?;
    serde_json::to_value(value).context("converting the TOML")
}

fn changed(reply: Option<ChangedDto>) {
    if let Some(c) = reply {
        if c.changed.is_empty() {
            println!("nothing changed");
        }
        for line in c.changed {
            println!("{line}");
        }
    }
}

fn print_reload(r: &ReloadDto) {
    if r.applied.is_empty() {
        println!("reloaded: nothing changed");
    }
    for line in &r.applied {
        println!("applied: {line}");
    }
    for line in &r.restart_needed {
        println!("needs a restart (the running value stays): {line}");
    }
}
