//! `glou bench accounts`: load the accounts side of the native API over loopback HTTP.
//! Phases: registrations, logins, friend requests and accepts then friend-list reads,
//! and match reports (with `--reporter`). Errors are counted by HTTP status and API
//! code. Pacing and printing are `pool.rs` and `stats.rs`; it does not touch avatars,
//! profiles, rankings or WebSockets.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use clap::value_parser;
use glou_core::account::HASH_PARAMS;
use glou_proto::native::{
    ErrorBody, FriendRequest, FriendRequestReply, FriendsReply, RegisterRequest, SessionReply,
    SessionRequest,
};
use reqwest::header::AUTHORIZATION;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Target;
use super::listing::MAX_COUNTED_PHASE;
use super::lock;
use super::pool::{self, Pool};
use super::procstat::{CpuProbe, TICKS_PER_SEC};
use super::stats::{Recorder, print_header};

/// Flags of `glou bench accounts`. `--target` says how to run the server for it.
#[derive(clap::Args, Debug)]
pub(crate) struct AccountsArgs {
    /// Base URL of the server under test; loopback hosts only (127.0.0.0/8, [::1], localhost)
    ///
    /// Run the server with `--trusted 127.0.0.1/32`: trusted addresses are exempt from the
    /// per-address limits on registrations and failed logins, which otherwise answer 429.
    #[arg(long, default_value = "http://127.0.0.1:5680")]
    target: String,
    /// Accounts to register, named `b`, a random 4-character run tag, their number: bk3x9417
    #[arg(long, default_value_t = 2_000, value_parser = value_parser!(u64).range(2..=100_000))]
    accounts: u64,
    /// Parallel HTTP requests, each on its own keep-alive connection
    #[arg(long, default_value_t = 64, value_parser = value_parser!(u64).range(1..=4_096))]
    concurrency: u64,
    /// Seconds of each timed phase: logins, friend-list reads and match reports
    #[arg(long, default_value_t = 10, value_parser = value_parser!(u64).range(1..=600))]
    duration: u64,
    /// An account with the report_results permission, as NAME:PASSWORD, for the match
    /// report phase (`glou user add NAME --password PW --perm report_results`)
    #[arg(long, value_name = "NAME:PASSWORD")]
    reporter: Option<String>,
    /// PID of the server, to print its CPU time per operation and its resident size
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also print one JSON object per phase (the lines starting with `{`)
    #[arg(long)]
    json: bool,
}

/// Friend requests each account sends, to the accounts after it.
const FRIENDS: usize = 5;
/// The game the match reports are for; every Glou server keeps its statistics.
const GAME: &str = "tictactoe";
const RUN_TAG_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const HINT_429: &str = "429: the server's per-address limits are in force; run it with \
                        `--trusted 127.0.0.1/32` for benchmarks (trusted addresses are exempt)";

/// A registered account that holds a session.
#[derive(Debug)]
struct Member {
    name: String,
    /// `Bearer <token>`.
    auth: String,
}

/// What every phase shares; the phases fill the `OnceLock`s in turn.
#[derive(Debug)]
struct Bench {
    args: AccountsArgs,
    target: Target,
    client: reqwest::Client,
    run: String,
    password: String,
    /// Account numbers registered, written by the register phase.
    registered: Mutex<Vec<u64>>,
    /// The names registered, once the register phase is over.
    names: OnceLock<Vec<String>>,
    /// One session per name of `names`, written by the login phases.
    tokens: Mutex<Vec<Option<String>>>,
    members: OnceLock<Vec<Member>>,
    /// Requests to accept, as (receiver, sender) indexes into `members`.
    pending: Mutex<Vec<(usize, usize)>>,
    /// Pairs befriended at once (each had asked the other), lower index first: their
    /// first request needs no accept.
    mutual: Mutex<HashSet<(usize, usize)>>,
    accepts: OnceLock<Vec<(usize, usize)>>,
    /// `Bearer <token>` of the reporter.
    reporter: OnceLock<String>,
    /// Errors of the current phase by `STATUS code` (or `transport`, `timeout`…).
    errors: Mutex<BTreeMap<String, u64>>,
    hinted_429: AtomicBool,
}

pub(crate) async fn run(args: AccountsArgs) -> anyhow::Result<()> {
    let target = Target::parse(&args.target)?;
    let reporter = match &args.reporter {
        Some(r) => Some(
            r.split_once(':')
                .map(|(n, p)| (n.to_owned(), p.to_owned()))
                .context("reporter: expected NAME:PASSWORD")?,
        ),
        None => None,
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency as usize + 16)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let run: String = (0..4)
        .map(|_| char::from(RUN_TAG_CHARS[rand::random_range(0..RUN_TAG_CHARS.len())]))
        .collect();
    let b = Arc::new(Bench {
        password: format!("bench-{run}-pw"),
        run,
        args,
        target,
        client,
        registered: Mutex::default(),
        names: OnceLock::new(),
        tokens: Mutex::default(),
        members: OnceLock::new(),
        pending: Mutex::default(),
        mutual: Mutex::default(),
        accepts: OnceLock::new(),
        reporter: OnceLock::new(),
        errors: Mutex::default(),
        hinted_429: AtomicBool::new(false),
    });
    println!(
        "bench accounts: target {} accounts {} run {} duration {}s concurrency {} \
         (CPU time from /proc at {TICKS_PER_SEC} ticks/s)",
        b.target.http, b.args.accounts, b.run, b.args.duration, b.args.concurrency
    );
    println!("password hashing on the server: {HASH_PARAMS}");
    print_header();

    let probe = b.probe();
    let rec = pool::run(b.pool(Some(b.args.accounts)), &b, register).await;
    let mut numbers = std::mem::take(&mut *lock(&b.registered));
    numbers.sort_unstable();
    let names: Vec<String> = numbers.iter().map(|&i| b.name(i)).collect();
    *lock(&b.tokens) = vec![None; names.len()];
    let _ = b.names.set(names);
    b.report(
        &probe,
        "register",
        rec,
        json!({ "accounts": b.names().len() }),
    );
    ensure!(
        b.names().len() >= 2,
        "fewer than two accounts could be registered; stopping"
    );

    let probe = b.probe();
    let rec = pool::run(b.pool(None), &b, login).await;
    let missing = b.missing_tokens();
    let logged_in = b.names().len() - missing.len();
    let extra = json!({ "hash": HASH_PARAMS, "accounts_logged_in": logged_in });
    b.report(&probe, "login", rec, extra);
    if !missing.is_empty() {
        // Not every account logged in within the timed phase: log the others in, once each.
        let probe = b.probe();
        let count = missing.len() as u64;
        let missing = Arc::new((b.clone(), missing));
        let rec = pool::run(b.pool(Some(count)), &missing, |ctx, i| {
            let (b, missing) = &*ctx;
            login(b.clone(), missing[i as usize] as u64)
        })
        .await;
        b.report(&probe, "login-rest", rec, Value::Null);
    }
    let members = b.take_members();
    let sessions = members.len();
    let _ = b.members.set(members);
    ensure!(
        sessions >= 2,
        "fewer than two accounts could log in; stopping"
    );

    let fan = FRIENDS.min(sessions - 1);
    let probe = b.probe();
    let rec = pool::run(b.pool(Some((sessions * fan) as u64)), &b, befriend).await;
    let mutual = std::mem::take(&mut *lock(&b.mutual));
    let mut accepts = std::mem::take(&mut *lock(&b.pending));
    accepts.retain(|&(to, from)| !mutual.contains(&(to.min(from), to.max(from))));
    let extra = json!({ "per_account": fan, "to_accept": accepts.len() });
    let _ = b.accepts.set(accepts);
    b.report(&probe, "befriend", rec, extra);
    let probe = b.probe();
    let count = b.accepts.get().map_or(0, Vec::len) as u64;
    let rec = pool::run(b.pool(Some(count)), &b, accept).await;
    b.report(&probe, "accept", rec, Value::Null);
    let probe = b.probe();
    let rec = pool::run(b.pool(None), &b, friend_list).await;
    let per_reply = rec.items as f64 / rec.ok().max(1) as f64;
    let extra = json!({ "friends_per_reply": (per_reply * 10.0).round() / 10.0 });
    b.report(&probe, "friends", rec, extra);

    let Some((name, password)) = reporter else {
        println!(
            "report: skipped; pass --reporter NAME:PASSWORD, an account created with \
             `glou user add NAME --password PW --perm report_results`"
        );
        return Ok(());
    };
    let (auth, may_report) = b
        .log_in(&name, &password)
        .await
        .with_context(|| format!("logging in as the reporter {name:?}"))?;
    ensure!(
        may_report,
        "the reporter {name:?} lacks the report_results permission: \
         `glou user perm {name} +report_results`"
    );
    let _ = b.reporter.set(auth);
    let probe = b.probe();
    let rec = pool::run(b.pool(None), &b, report).await;
    b.report(&probe, "report", rec, json!({ "game": GAME }));
    Ok(())
}

impl Bench {
    fn name(&self, i: u64) -> String {
        format!("b{}{i}", self.run)
    }

    fn names(&self) -> &[String] {
        self.names.get().map_or(&[], Vec::as_slice)
    }

    fn members(&self) -> &[Member] {
        self.members.get().map_or(&[], Vec::as_slice)
    }

    /// Indexes into `names` of the accounts without a session yet.
    fn missing_tokens(&self) -> Vec<usize> {
        let tokens = lock(&self.tokens);
        (0..tokens.len()).filter(|&i| tokens[i].is_none()).collect()
    }

    fn take_members(&self) -> Vec<Member> {
        let tokens = std::mem::take(&mut *lock(&self.tokens));
        let names = self.names().iter().cloned();
        names
            .zip(tokens)
            .filter_map(|(name, auth)| Some(Member { name, auth: auth? }))
            .collect()
    }

    fn probe(&self) -> CpuProbe {
        CpuProbe::start(self.args.server_pid)
    }

    /// Prints a phase with its errors by status and code, and the hint for 429s.
    fn report(&self, probe: &CpuProbe, phase: &'static str, rec: Recorder, extra: Value) {
        let errors = std::mem::take(&mut *lock(&self.errors));
        let limited = errors.keys().any(|k| k.starts_with("429"));
        let mut extra = match extra {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        if !errors.is_empty() {
            extra.insert("errors".into(), json!(errors));
        }
        super::stats::report(probe, phase, rec, Value::Object(extra), self.args.json);
        if limited && !self.hinted_429.swap(true, Ordering::Relaxed) {
            println!("{:10} {HINT_429}", "");
        }
    }

    /// A pool of `--concurrency` workers: `count` operations (stopping after ten
    /// minutes all the same), or as many as fit in `--duration`.
    fn pool(&self, count: Option<u64>) -> Pool {
        let run_for = match count {
            Some(_) => MAX_COUNTED_PHASE,
            None => Duration::from_secs(self.args.duration),
        };
        Pool {
            concurrency: self.args.concurrency as usize,
            rate: 0,
            count,
            deadline: Instant::now() + run_for,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/{path}", self.target.http)
    }

    fn count_error(&self, key: String) {
        *lock(&self.errors).entry(key).or_default() += 1;
    }

    /// Sends a request and reads the whole reply (so the connection is reused); a
    /// status not in `ok` fails and is counted by status and API error code.
    async fn send(&self, req: reqwest::RequestBuilder, ok: &[u16]) -> anyhow::Result<Vec<u8>> {
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => {
                let kind = match (e.is_timeout(), e.is_connect()) {
                    (true, _) => "timeout",
                    (false, true) => "connect",
                    (false, false) => "transport",
                };
                self.count_error(kind.into());
                return Err(anyhow::Error::new(e).context("request failed"));
            }
        };
        let status = resp.status();
        let body = match resp.bytes().await {
            Ok(body) => body,
            Err(e) => {
                self.count_error("transport".into());
                return Err(anyhow::Error::new(e).context("reading the reply failed"));
            }
        };
        if ok.contains(&status.as_u16()) {
            return Ok(body.to_vec());
        }
        let code = serde_json::from_slice::<ErrorBody>(&body)
            .map_or_else(|_| "-".into(), |e| e.error.code.into_owned());
        self.count_error(format!("{} {code}", status.as_u16()));
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        bail!("status {status}: {text}")
    }

    /// [`Bench::send`], then decodes the reply (a reply that does not decode counts too).
    async fn call<T: DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
        ok: &[u16],
    ) -> anyhow::Result<T> {
        let body = self.send(req, ok).await?;
        serde_json::from_slice(&body).map_err(|e| {
            self.count_error("bad_reply".into());
            anyhow::Error::new(e).context("decoding the reply")
        })
    }

    /// `POST /api/v1/sessions`: `Bearer <token>`, and whether the session may report.
    async fn log_in(&self, name: &str, password: &str) -> anyhow::Result<(String, bool)> {
        let req = SessionRequest::Login {
            name: name.to_owned(),
            password: password.to_owned(),
        };
        let reply: SessionReply = self
            .call(self.client.post(self.url("sessions")).json(&req), &[200])
            .await?;
        let token = reply.token.context("the login reply has no token")?;
        let reports =
            reply.player_type == "admin" || reply.perms.iter().any(|p| p == "report_results");
        Ok((format!("Bearer {token}"), reports))
    }
}

/// `POST /api/v1/accounts` for account number `i`.
async fn register(b: Arc<Bench>, i: u64) -> anyhow::Result<u64> {
    let req = RegisterRequest {
        name: b.name(i),
        password: b.password.clone(),
        email: None,
    };
    b.send(b.client.post(b.url("accounts")).json(&req), &[201])
        .await?;
    lock(&b.registered).push(i);
    Ok(1)
}

/// `POST /api/v1/sessions` for the `i`th registered name (cycling), keeping its token.
async fn login(b: Arc<Bench>, i: u64) -> anyhow::Result<u64> {
    let names = b.names();
    let k = (i % names.len() as u64) as usize;
    let (auth, _) = b.log_in(&names[k], &b.password).await?;
    lock(&b.tokens)[k] = Some(auth);
    Ok(1)
}

/// `POST /api/v1/friends/requests`: member `i / fan` asks the `i % fan + 1`th after it.
async fn befriend(b: Arc<Bench>, i: u64) -> anyhow::Result<u64> {
    let members = b.members();
    let fan = FRIENDS.min(members.len() - 1);
    let from = i as usize / fan;
    let to = (from + 1 + i as usize % fan) % members.len();
    let req = FriendRequest {
        name: members[to].name.clone(),
    };
    let url = b.url("friends/requests");
    let http = b
        .client
        .post(url)
        .header(AUTHORIZATION, &members[from].auth);
    let reply: FriendRequestReply = b.call(http.json(&req), &[201]).await?;
    // `friends`: the other had asked first, and neither request needs an accept.
    if reply.status == "friends" {
        lock(&b.mutual).insert((from.min(to), from.max(to)));
    } else {
        lock(&b.pending).push((to, from));
    }
    Ok(1)
}

/// `POST /api/v1/friends/requests/{from}/accept` by the receiver of request `i`.
async fn accept(b: Arc<Bench>, i: u64) -> anyhow::Result<u64> {
    let (to, from) = b.accepts.get().context("no requests to accept")?[i as usize];
    let members = b.members();
    let url = b.url(&format!("friends/requests/{}/accept", members[from].name));
    let http = b.client.post(url).header(AUTHORIZATION, &members[to].auth);
    b.send(http, &[204]).await?;
    Ok(1)
}

/// `GET /api/v1/friends` as a random member; counts the friends listed.
async fn friend_list(b: Arc<Bench>, _: u64) -> anyhow::Result<u64> {
    let members = b.members();
    let me = &members[rand::random_range(0..members.len())];
    let http = b
        .client
        .get(b.url("friends"))
        .header(AUTHORIZATION, &me.auth);
    let reply: FriendsReply = b.call(http, &[200]).await?;
    Ok(reply.friends.len() as u64)
}

/// `POST /api/v1/games/tictactoe/matches`: a win and a loss for two random members.
async fn report(b: Arc<Bench>, _: u64) -> anyhow::Result<u64> {
    let members = b.members();
    let n = members.len();
    let winner = rand::random_range(0..n);
    let loser = (winner + 1 + rand::random_range(0..n - 1)) % n;
    let body = json!({ "players": [
        { "name": members[winner].name, "result": "win", "score": 3 },
        { "name": members[loser].name, "result": "loss", "score": 1 },
    ]});
    let auth = b.reporter.get().context("no reporter session")?;
    let url = b.url(&format!("games/{GAME}/matches"));
    b.send(
        b.client.post(url).header(AUTHORIZATION, auth).json(&body),
        &[201],
    )
    .await?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_longest_name_is_valid() {
        let name = format!("b{}{}", "z9z9", 100_000 - 1);
        assert_eq!(glou_core::account::check_name(&name), Ok(()));
    }
}
