//! Live operations: what an operator changes in a running server. A reload re-reads
//! the configuration (SIGHUP or the admin API) and applies what can change live; the
//! admin API's actions (rooms, game types, players, tables, accounts, statistics, the
//! log filter) go through here and are written to the audit log; the housekeeping
//! (inactive accounts, statistics cleared on a schedule) runs here too.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use glou_core::Timestamp;
use glou_core::lobby::{AdminAction, Command, LobbyError};
use glou_store::{NewAudit, Store, StoreError};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::accounts::Accounts;
use crate::config::{self, Config, ConfigError};
use crate::hub::Hub;
use crate::lobby::LobbyService;

/// Reads the configuration again, as the server was started (its file, then the
/// command line over it).
pub type ConfigSource = Arc<dyn Fn() -> Result<Config, ConfigError> + Send + Sync>;
/// Replaces the log filter (`info`, `glou_server=debug`, …); only the binary can.
pub type LogFilter = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// What the program running the server gives it for live operations.
#[derive(Default)]
pub struct Hooks {
    pub config: Option<ConfigSource>,
    pub log_filter: Option<LogFilter>,
    /// Each message asks for a reload (the binary sends one per SIGHUP).
    pub reloads: Option<tokio::sync::mpsc::Receiver<()>>,
    /// Called once everything serves and the admin token is written (the binary
    /// prints its `glou listening on …` lines then).
    pub ready: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("config", &self.config.is_some())
            .field("log_filter", &self.log_filter.is_some())
            .field("reloads", &self.reloads.is_some())
            .field("ready", &self.ready.is_some())
            .finish()
    }
}

/// What a reload did.
#[derive(Debug, Default, Serialize)]
pub struct ReloadReport {
    /// What changed, one line each.
    pub applied: Vec<String>,
    /// Settings that differ in the file but only take effect after a restart; the
    /// running values stay.
    pub restart_needed: Vec<String>,
}

/// Why an operation failed: a stable code and a sentence.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct OpsError {
    pub code: &'static str,
    pub message: String,
}

impl OpsError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl From<ConfigError> for OpsError {
    fn from(e: ConfigError) -> Self {
        Self::new("bad_config", e.to_string())
    }
}

impl From<StoreError> for OpsError {
    fn from(e: StoreError) -> Self {
        warn!(error = %e, "store failure in an admin operation");
        Self::new("store_failed", "the database failed; nothing was changed")
    }
}

impl From<LobbyError> for OpsError {
    fn from(e: LobbyError) -> Self {
        let code = match e {
            LobbyError::UnknownPlayer => "not_online",
            LobbyError::NoTable => "no_table",
            _ => "refused",
        };
        Self::new(code, e.to_string())
    }
}

/// The operator's side of a running server.
pub struct Ops {
    pub lobby: Arc<LobbyService>,
    pub accounts: Arc<Accounts>,
    pub hub: Arc<Hub>,
    store: Store,
    source: Option<ConfigSource>,
    log_filter: Option<LogFilter>,
    /// The digest of the local admin token (see [`Ops::write_admin_token`]).
    admin_token: Mutex<Option<[u8; 32]>>,
    /// The configuration in force: what a reload compares the file with.
    running: Mutex<Config>,
    /// One reload or edit at a time.
    edits: tokio::sync::Mutex<()>,
    /// The listeners' gates and TLS, for new limits and certificates.
    front: crate::gate::Front,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops").finish_non_exhaustive()
    }
}

/// What the housekeeping did in one pass.
#[derive(Debug, Default, Serialize)]
pub struct Swept {
    pub accounts_removed: Vec<String>,
    /// Games whose statistics were cleared, with the rows removed.
    pub stats_cleared: BTreeMap<String, u64>,
    /// Audit log entries removed for their age.
    pub audit_entries_removed: u64,
}

impl Ops {
    pub fn new(
        config: Config,
        hooks: &Hooks,
        lobby: Arc<LobbyService>,
        accounts: Arc<Accounts>,
        hub: Arc<Hub>,
        store: Store,
        front: crate::gate::Front,
    ) -> Arc<Self> {
        Arc::new(Self {
            lobby,
            accounts,
            hub,
            store,
            source: hooks.config.clone(),
            log_filter: hooks.log_filter.clone(),
            admin_token: Mutex::new(None),
            running: Mutex::new(config),
            edits: tokio::sync::Mutex::new(()),
            front,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Draws a new local admin token and writes it to `DATA_DIR/admin.token`, readable
    /// by the server's user only: whoever can read that file may use the admin API
    /// (that is how `glou admin` on the server's machine finds it). Each start draws a
    /// new one. The file is replaced whole (written aside, then renamed), so a reader
    /// never sees half a token.
    pub fn write_admin_token(&self, data_dir: &std::path::Path) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let token = crate::accounts::new_token();
        let token = token.as_str();
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(ADMIN_TOKEN_FILE);
        let aside = data_dir.join(format!("{ADMIN_TOKEN_FILE}.new"));
        let _ = std::fs::remove_file(&aside);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&aside)?;
        file.write_all(token.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&aside, &path)?;
        *self.admin_token.lock() = Some(glou_core::account::token_digest(token));
        Ok(())
    }

    /// Whether `token` is the local admin token.
    pub fn is_admin_token(&self, token: &str) -> bool {
        let digest = glou_core::account::token_digest(token);
        self.admin_token
            .lock()
            .is_some_and(|expected| glou_core::account::secret_eq(&expected, &digest))
    }

    /// Reads the configuration again and applies it (see [`Ops::apply`]).
    pub async fn reload(&self, actor: &str) -> Result<ReloadReport, OpsError> {
        let _one = self.edits.lock().await;
        let Some(source) = self.source.clone() else {
            return Err(OpsError::new(
                "no_config_file",
                "this server was not started from a configuration it can read again",
            ));
        };
        let result = tokio::task::spawn_blocking(move || source())
            .await
            .map_err(|e| OpsError::new("internal", e.to_string()))
            .and_then(|r| r.map_err(OpsError::from))
            .and_then(|next| self.apply(next));
        let (detail, outcome) = match &result {
            Ok(report) => (
                serde_json::to_string(report).unwrap_or_default(),
                "ok".to_string(),
            ),
            Err(e) => (e.message.clone(), e.code.to_string()),
        };
        self.audit(actor, "config.reload", "", &detail, &outcome)
            .await;
        match &result {
            Ok(report) => info!(
                applied = ?report.applied,
                restart_needed = ?report.restart_needed,
                "configuration reloaded"
            ),
            Err(e) => warn!(reason = %e, "configuration refused; the running one stays"),
        }
        result
    }

    /// Applies a new configuration: the lobby (rooms, game types, MOTD, chat and table
    /// limits), the accounts' limits, the registry's limits and timeouts, the
    /// connection limits, the TLS certificate, the game masters' settings, the
    /// metaserver's authorizations, the federation's peers, the housekeeping and the
    /// log filter change at once; what only a restart can change
    /// is reported and left as it is. If the lobby refuses the new configuration (the
    /// entry room replaced), nothing is applied.
    fn apply(&self, next: Config) -> Result<ReloadReport, OpsError> {
        let mut running = self.running.lock();
        let mut report = ReloadReport {
            restart_needed: restart_needed(&running, &next),
            ..ReloadReport::default()
        };
        // The lobby is the one part that can still refuse (the file, its log filter
        // included, was validated whole): it goes first, so a refusal changes nothing.
        report
            .applied
            .extend(self.lobby.reconfigure(next.lobby.clone())?);
        running.lobby = self.lobby.settings().as_ref().clone();
        if format!("{:?}", running.accounts) != format!("{:?}", next.accounts) {
            self.accounts.reconfigure(next.accounts.clone());
            running.accounts = next.accounts.clone();
            report.applied.push("account limits changed".into());
        }
        let limits = |c: &Config| {
            (
                c.registry.max_entries,
                c.registry.max_per_owner,
                c.registry.timeouts,
            )
        };
        if limits(&running) != limits(&next) {
            let (max_entries, max_per_owner, timeouts) = limits(&next);
            self.hub
                .mutate(|reg| reg.set_limits(max_entries, max_per_owner, timeouts));
            running.registry.max_entries = max_entries;
            running.registry.max_per_owner = max_per_owner;
            running.registry.timeouts = timeouts;
            report.applied.push("registry limits changed".into());
        }
        if running.log_filter != next.log_filter {
            if let (Some(set), Some(filter)) = (&self.log_filter, &next.log_filter) {
                match set(filter) {
                    Ok(()) => report.applied.push(format!("log filter set to {filter:?}")),
                    Err(e) => warn!(error = %e, "the log filter could not be replaced"),
                }
            }
            running.log_filter = next.log_filter.clone();
        }
        if running.limits != next.limits {
            for gate in &self.front.gates {
                gate.set_limits(next.limits.clone());
            }
            running.limits = next.limits.clone();
            report.applied.push("connection limits changed".into());
        }
        if let (Some(tls), Some(now), Some(new)) = (&self.front.tls, &running.tls, &next.tls)
            && (now.http, now.ggz) == (new.http, new.ggz)
        {
            // The files are read again at every reload: a renewed certificate under
            // the same name is a change too.
            if !now.same_certificate(new) || now.cert_path != new.cert_path {
                tls.replace(new.key.clone());
                report.applied.push(format!(
                    "TLS certificate replaced from {}",
                    new.cert_path.display()
                ));
            }
            running.tls = next.tls.clone();
        }
        let dbg = |v: &dyn std::fmt::Debug| format!("{v:?}");
        if dbg(&running.q3) != dbg(&next.q3) {
            self.front.q3.send_replace(next.q3.clone());
            running.q3 = next.q3.clone();
            report.applied.push("q3master settings changed".into());
        }
        if dbg(&running.tw07) != dbg(&next.tw07) {
            self.front.tw07.send_replace(next.tw07.clone());
            running.tw07 = next.tw07.clone();
            report.applied.push("tw07master rates changed".into());
        }
        if dbg(&running.wz) != dbg(&next.wz) {
            self.front.wz.send_replace(next.wz.clone());
            running.wz = next.wz.clone();
            report.applied.push("wzlobby settings changed".into());
        }
        // Compared whole: their `Debug` leaves the passwords out.
        if running.meta != next.meta {
            crate::ggzmeta::list_permanent(&self.hub, &next.meta);
            self.front.meta.send_replace(Arc::new(next.meta.clone()));
            running.meta = next.meta.clone();
            report.applied.push(
                "ggzmeta settings changed (authorizations, configuration file, idle timeout)"
                    .into(),
            );
        }
        // The community's name changes only at a restart (see restart_needed).
        let federation = crate::federation::FederationConfig {
            community: running.federation.community.clone(),
            ..next.federation.clone()
        };
        let changes = crate::federation::changes(&running.federation, &federation);
        if !changes.is_empty() {
            self.front.federation.send_replace(federation.clone());
            running.federation = federation;
            report.applied.extend(changes);
        }
        if running.housekeeping != next.housekeeping {
            running.housekeeping = next.housekeeping.clone();
            report.applied.push("housekeeping changed".into());
        }
        Ok(report)
    }

    /// Replaces the lobby's configuration by an edited copy of it (an admin API edit
    /// of rooms or game types; the ids are already right).
    pub async fn edit_lobby(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        edit: impl FnOnce(&mut config::Lobby) -> Result<(), OpsError>,
    ) -> Result<Vec<String>, OpsError> {
        let _one = self.edits.lock().await;
        let result = (|| {
            let mut next = self.lobby.settings().as_ref().clone();
            edit(&mut next)?;
            let next = next.with_core_rules();
            let changes = self.lobby.replace(next)?;
            self.running.lock().lobby = self.lobby.settings().as_ref().clone();
            Ok(changes)
        })();
        self.finish(actor, action, target, "", result).await
    }

    /// Kick, gag or ungag a player online.
    pub async fn admin_player(
        &self,
        actor: &str,
        action: AdminAction,
        target: &str,
        reason: &str,
    ) -> Result<(), OpsError> {
        let name = match action {
            AdminAction::Kick => "player.kick",
            AdminAction::Gag => "player.gag",
            AdminAction::Ungag => "player.ungag",
        };
        let operate = Command::Operate {
            by: actor.to_owned(),
            action,
            target: target.to_owned(),
            reason: reason.to_owned(),
        };
        let result = self.lobby.run(operate).await.done().map_err(OpsError::from);
        self.finish(actor, name, target, reason, result).await
    }

    /// An announcement to everyone online.
    pub async fn announce(&self, actor: &str, text: &str) -> Result<(), OpsError> {
        let result = if text.trim().is_empty() {
            Err(OpsError::new("bad_request", "the announcement is empty"))
        } else {
            let broadcast = Command::Broadcast {
                from: actor.to_owned(),
                text: text.to_owned(),
            };
            self.lobby
                .run(broadcast)
                .await
                .done()
                .map_err(OpsError::from)
        };
        self.finish(actor, "lobby.announce", "", text, result).await
    }

    /// Ends a table now.
    pub async fn end_table(&self, actor: &str, room: u32, table: u32) -> Result<(), OpsError> {
        let result = self
            .lobby
            .run(Command::CloseTable { room, table })
            .await
            .done()
            .map_err(OpsError::from);
        let target = format!("room {room} table {table}");
        self.finish(actor, "table.end", &target, "", result).await
    }

    /// Bans an account (for `seconds`, or for good): its sessions end and it leaves
    /// the lobby.
    pub async fn ban(
        &self,
        actor: &str,
        name: &str,
        seconds: Option<u64>,
        reason: &str,
    ) -> Result<(), OpsError> {
        let result = async {
            let account = self.account(name).await?;
            let ban = glou_store::Ban {
                until: seconds.map(|s| self.hub.now().saturating_add(Duration::from_secs(s))),
                reason: reason.to_owned(),
            };
            self.store.set_ban(account.id, Some(&ban)).await?;
            self.store.revoke_sessions(account.id).await?;
            self.logout_everywhere(&account.name, "banned").await;
            Ok(())
        }
        .await;
        let detail = match seconds {
            Some(s) => format!("for {s} s: {reason}"),
            None => format!("for good: {reason}"),
        };
        self.finish(actor, "account.ban", name, &detail, result)
            .await
    }

    /// Removes an account with its sessions, avatar, statistics and friends; it leaves
    /// the lobby.
    pub async fn remove_account(&self, actor: &str, name: &str) -> Result<(), OpsError> {
        let result = async {
            let account = self.account(name).await?;
            self.store.delete_account(account.id).await?;
            self.logout_everywhere(&account.name, "account removed")
                .await;
            Ok(())
        }
        .await;
        self.finish(actor, "account.remove", name, "", result).await
    }

    async fn account(&self, name: &str) -> Result<glou_store::Account, OpsError> {
        self.store
            .account(name)
            .await?
            .ok_or_else(|| OpsError::new("no_account", format!("no account {name:?}")))
    }

    /// Sets the log filter until the next reload or restart.
    pub async fn set_log_filter(&self, actor: &str, filter: &str) -> Result<(), OpsError> {
        let result = match &self.log_filter {
            Some(set) => set(filter).map_err(|e| OpsError::new("bad_request", e)),
            None => Err(OpsError::new(
                "unsupported",
                "this server's logging cannot be changed while it runs",
            )),
        };
        if result.is_ok() {
            info!(filter, "log filter changed");
        }
        self.finish(actor, "log.filter", filter, "", result).await
    }

    /// Records an operation in the audit log, with its outcome, and returns it.
    pub async fn finish<T>(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
        result: Result<T, OpsError>,
    ) -> Result<T, OpsError> {
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.code,
        };
        self.audit(actor, action, target, detail, outcome).await;
        result
    }

    async fn audit(&self, actor: &str, action: &str, target: &str, detail: &str, outcome: &str) {
        let entry = NewAudit {
            at: self.hub.now(),
            actor,
            action,
            target,
            detail,
            outcome,
        };
        if let Err(e) = self.store.record_audit(&entry).await {
            warn!(error = %e, action, "writing the audit log failed");
        }
        self.hub
            .metrics
            .admin_actions
            .get_or_create(&crate::metrics::AdminLabels {
                action: action.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The accounts the housekeeping would remove now (none if it removes none).
    pub async fn inactive(&self, limit: u32) -> Result<Vec<glou_store::Account>, OpsError> {
        let Some(before) = self.inactive_before() else {
            return Ok(Vec::new());
        };
        Ok(self.store.inactive_accounts(before, limit).await?)
    }

    fn inactive_before(&self) -> Option<Timestamp> {
        let after = self.running.lock().housekeeping.remove_inactive_after?;
        Some(self.hub.now().saturating_sub(after))
    }

    /// One pass of the housekeeping: inactive accounts removed (and logged out), and
    /// each game's statistics cleared when its period has passed since the last
    /// clearing (the first period starts when the schedule is first seen).
    pub async fn housekeep(&self) -> Result<Swept, OpsError> {
        let mut swept = Swept::default();
        if let Some(before) = self.inactive_before() {
            loop {
                let names = self.store.delete_inactive(before, 500).await?;
                for name in &names {
                    self.logout_everywhere(name, "account removed").await;
                    self.audit("system", "account.remove_inactive", name, "", "ok")
                        .await;
                }
                let done = names.len() < 500;
                self.hub
                    .metrics
                    .housekept_accounts
                    .inc_by(names.len() as u64);
                swept.accounts_removed.extend(names);
                if done {
                    break;
                }
            }
        }
        let schedule = self.running.lock().housekeeping.clear_stats.clone();
        let now = self.hub.now();
        for (game, every) in schedule {
            let since = match self.store.last_audit("stats.clear", &game).await? {
                Some(at) => at,
                None => match self.store.last_audit("stats.schedule", &game).await? {
                    Some(at) => at,
                    None => {
                        let detail = format!("every {}", humantime::format_duration(every));
                        self.audit("system", "stats.schedule", &game, &detail, "ok")
                            .await;
                        continue;
                    }
                },
            };
            if now.since(since) >= every {
                let rows = self.store.clear_game_stats(&game).await?;
                self.audit(
                    "system",
                    "stats.clear",
                    &game,
                    &format!("{rows} rows"),
                    "ok",
                )
                .await;
                self.hub.metrics.housekept_stats.inc();
                info!(game, rows, "statistics cleared on schedule");
                swept.stats_cleared.insert(game, rows);
            }
        }
        swept.audit_entries_removed = self.prune_audit(now).await?;
        if !swept.accounts_removed.is_empty() {
            info!(
                removed = swept.accounts_removed.len(),
                "inactive accounts removed"
            );
        }
        Ok(swept)
    }

    /// Removes the audit log's entries older than `housekeeping.keep_audit`, but not
    /// the marks the statistics' schedules count from.
    async fn prune_audit(&self, now: Timestamp) -> Result<u64, OpsError> {
        const BATCH: u32 = 5000;
        let keep = self.running.lock().housekeeping.keep_audit;
        let before = now.saturating_sub(keep);
        let mut removed = 0;
        loop {
            let n = self
                .store
                .prune_audit(before, &["stats.clear", "stats.schedule"], BATCH)
                .await?;
            removed += n;
            self.hub.metrics.housekept_audit.inc_by(n);
            if n < u64::from(BATCH) {
                break;
            }
        }
        if removed > 0 {
            info!(removed, "old audit log entries removed");
        }
        Ok(removed)
    }

    /// Throws an account out of the lobby, if it is online.
    async fn logout_everywhere(&self, name: &str, reason: &str) {
        if self.lobby.find(name).is_some() {
            let kick = Command::Operate {
                by: "server".into(),
                action: AdminAction::Kick,
                target: name.to_owned(),
                reason: reason.to_owned(),
            };
            self.lobby.run(kick).await;
        }
    }

    /// The housekeeping's settings in force.
    pub fn housekeeping(&self) -> config::Housekeeping {
        self.running.lock().housekeeping.clone()
    }

    fn housekeeping_interval(&self) -> Duration {
        self.running.lock().housekeeping.interval
    }
}

/// The file in the data directory that holds the local admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

/// Runs the housekeeping every `housekeeping.interval` until `stop`.
pub async fn housekeeping_loop(ops: Arc<Ops>, mut stop: watch::Receiver<bool>) {
    loop {
        let every = ops.housekeeping_interval();
        tokio::select! {
            () = tokio::time::sleep(every) => {
                if let Err(e) = ops.housekeep().await {
                    warn!(error = %e, "housekeeping failed; will retry");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// The settings that differ but only apply at a restart.
fn restart_needed(running: &Config, next: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |name: &str, same: bool| {
        if !same {
            out.push(name.to_owned());
        }
    };
    let dbg = |v: &dyn std::fmt::Debug| format!("{v:?}");
    check("listen.http", running.http == next.http);
    check("listen.q3master", running.q3master == next.q3master);
    check("listen.ggz", running.ggz == next.ggz);
    check("listen.ggzmeta", running.ggzmeta == next.ggzmeta);
    check("listen.tw07master", running.tw07master == next.tw07master);
    check("listen.wzlobby", running.wzlobby == next.wzlobby);
    check("data_dir", running.data_dir == next.data_dir);
    check("store", running.store == next.store);
    check("cluster", running.cluster == next.cluster);
    check("web_dir", running.web_dir == next.web_dir);
    check("trusted", running.trusted == next.trusted);
    let tls_use = |c: &Config| c.tls.as_ref().map(|t| (t.http, t.ggz));
    check(
        "tls (turned on or off for a listener)",
        tls_use(running) == tls_use(next),
    );
    check("allow_private", running.allow_private == next.allow_private);
    check("api", dbg(&running.api) == dbg(&next.api));
    check(
        "federation.community",
        running.federation.community == next.federation.community,
    );
    check(
        "games (statistics models and catalog)",
        running.games == next.games && dbg(&running.catalog) == dbg(&next.catalog),
    );
    let (a, b) = (&running.lobby, &next.lobby);
    check(
        "lobby.room_update_interval",
        a.room_update_interval == b.room_update_interval,
    );
    check(
        "lobby.metaservers and lobby.public_host",
        a.metaservers == b.metaservers && a.public_host == b.public_host,
    );
    // The upload route's body limit is set when the router is built.
    check(
        "accounts.avatar_max_bytes (raised)",
        next.accounts.avatar_max_bytes <= running.accounts.avatar_max_bytes,
    );
    check(
        "registry (other than max_entries, max_per_address, timeouts)",
        running.registry.change_window == next.registry.change_window
            && running.expire_interval == next.expire_interval
            && running.persist_interval == next.persist_interval,
    );
    out
}
