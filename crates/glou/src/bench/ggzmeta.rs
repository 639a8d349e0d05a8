//! `glou bench ggzmeta`: load any GGZ metaserver (Glou's ggzmeta listener or the original
//! ggzmetaserv 0.5) over loopback TCP. Phases: `update-add` (publish `--entries`
//! entries), `query-persistent`, `query-per-connection`, `uri-query`, `update-modify` and
//! `update-delete` (every entry of the run, then a query that must list none of them).
//! Requests are `glou_proto::ggzmeta::Request::encode`; replies are framed and checked
//! here, as any server's bytes. Pacing and printing are `pool.rs` and `stats.rs`. It
//! sends no `<list/>`, no `delta` and no option filter.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail, ensure};
use clap::value_parser;
use glou_proto::ggzmeta::{Class, MAX_REQUEST, Mode, Query, Request, Update};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::lock;
use super::pool::{self, Pool};
use super::procstat::{CpuProbe, TICKS_PER_SEC};
use super::stats::{Recorder, print_header};

/// Flags of `glou bench ggzmeta`.
#[derive(clap::Args, Debug)]
pub(crate) struct GgzmetaArgs {
    /// TCP address of the metaserver under test: HOST:PORT, HOST a loopback IP or localhost
    ///
    /// Updates need a server that accepts them: Glou with a `[[ggzmeta.authorizations]]`
    /// entry (`update = true`, `create = true`); ggzmetaserv in daemon mode (`-d`) with an
    /// `<authorization … update="1" create="1"/>` in its configuration.
    #[arg(long, default_value = "127.0.0.1:15689", value_parser = parse_target)]
    target: SocketAddr,
    /// Class the entries are published to and queried from
    #[arg(long, default_value = "benchclass", value_parser = parse_name)]
    class: String,
    /// Type of the entries (`type=`)
    #[arg(
        long = "type",
        value_name = "TYPE",
        default_value = "connection",
        value_parser = parse_name
    )]
    kind: String,
    /// Entries to publish before the query phases
    #[arg(long, default_value_t = 1_000, value_parser = value_parser!(u64).range(1..=50_000))]
    entries: u64,
    /// User name of the updates; without it (and --password) the bench publishes nothing
    /// and queries whatever the class holds
    #[arg(long, requires = "password")]
    username: Option<String>,
    /// Password of the updates
    #[arg(long, requires = "username")]
    password: Option<String>,
    /// Concurrent clients, each with one request in flight
    #[arg(long, default_value_t = 8, value_parser = value_parser!(u64).range(1..=1_024))]
    connections: u64,
    /// Seconds of each timed phase: the queries and update-modify
    #[arg(long, default_value_t = 5, value_parser = value_parser!(u64).range(1..=600))]
    duration: u64,
    /// PID of the server, to print its CPU time per operation and its resident size
    #[arg(long)]
    server_pid: Option<u32>,
    /// Also print one JSON object per phase (the lines starting with `{`)
    #[arg(long)]
    json: bool,
}

/// Bound of every connect and every request-and-reply.
const OP_TIMEOUT: Duration = Duration::from_secs(10);
/// A longer reply is an error (1,000 entries take about 170 KB).
const MAX_REPLY: usize = 16 << 20;
/// Spare room of a connection's read buffer before each read.
const READ_CHUNK: usize = 64 * 1024;
/// The counted phases (update-add, update-delete) stop after this long.
const COUNTED_MAX: Duration = Duration::from_secs(300);
const TAG_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// How a reply ends: an XML reply is one line, a URI reply ends with an empty line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyKind {
    Xml,
    Uris,
}

/// What one query reply lists: entries in all, and entries of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counts {
    results: u64,
    ours: u64,
}

/// What every query reply must list: at least `min_results` entries, and of this run
/// every accepted entry (`min_ours`) and none but those tried (`max_ours`: adds whose
/// reply was lost or unreadable may or may not have been done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Expect {
    min_results: u64,
    min_ours: u64,
    max_ours: u64,
}

/// One client connection and its read buffer.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// What every phase shares.
#[derive(Debug)]
struct Bench {
    args: GgzmetaArgs,
    /// `bench://127.0.0.1:PORT/TAG-`: entry `i` of this run is this URI and `i`.
    prefix: String,
    /// `<query class= type=/>` and `query://CLASS/TYPE`, encoded once.
    xml_query: Vec<u8>,
    uri_query: Vec<u8>,
    /// Idle persistent connections: an operation takes one (or opens one) and gives it
    /// back when its exchange completed; a connection out of step is dropped.
    idle: Mutex<Vec<Conn>>,
    /// Entries accepted by `update-add`, as they come.
    accepted: Mutex<Vec<u64>>,
    /// Entries whose `update-add` got no readable status: perhaps added.
    unsure: Mutex<Vec<u64>>,
    /// The accepted entries, sorted, once `update-add` is over.
    published: OnceLock<Vec<u64>>,
    /// The accepted and unsure entries, sorted: what `update-delete` deletes.
    to_delete: OnceLock<Vec<u64>>,
    expect: OnceLock<Expect>,
    /// Statuses of the current update phase.
    statuses: Mutex<BTreeMap<String, u64>>,
    /// Bytes of the correct replies of the current query phase.
    bytes: AtomicU64,
}

pub(crate) async fn run(args: GgzmetaArgs) -> anyhow::Result<()> {
    let b = Arc::new(Bench::new(args)?);
    let a = &b.args;
    let before = b
        .exchange(&b.xml_query, ReplyKind::Xml, true, |r| {
            b.counts(ReplyKind::Xml, r)
        })
        .await
        .with_context(|| {
            format!(
                "querying {}/{} on {}: is a GGZ metaserver listening there?",
                a.class, a.kind, a.target
            )
        })?;
    println!(
        "bench ggzmeta: target {} class {} type {} entries {} connections {} duration {}s \
         uris {}N, {} entries listed before (CPU time from /proc at {TICKS_PER_SEC} ticks/s)",
        a.target, a.class, a.kind, a.entries, a.connections, a.duration, b.prefix, before.results,
    );
    for _ in 0..a.connections {
        let conn = Conn::connect(a.target).await?;
        lock(&b.idle).push(conn);
    }
    print_header();
    let updates = a.username.is_some();
    let expect = if updates {
        let (accepted, unsure) = b.publish().await?;
        Expect {
            min_results: accepted,
            min_ours: accepted,
            max_ours: accepted + unsure,
        }
    } else {
        println!(
            "{:10} no --username/--password: no update phases; every query must list the {} \
             entries listed before",
            "", before.results
        );
        Expect {
            min_results: before.results,
            min_ours: 0,
            max_ours: 0,
        }
    };
    let _ = b.expect.set(expect);
    b.queries("query-persistent", query_persistent).await;
    b.queries("query-per-connection", query_per_connection)
        .await;
    b.queries("uri-query", uri_query).await;
    if updates {
        b.modify().await;
        b.delete().await;
    }
    lock(&b.idle).clear();
    Ok(())
}

/// `HOST:PORT` with HOST a loopback IP (IPv6 in brackets) or `localhost` (127.0.0.1).
fn parse_target(s: &str) -> Result<SocketAddr, String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("expected HOST:PORT, got {s:?}"))?;
    let port: u16 = match port.parse() {
        Ok(0) | Err(_) => return Err(format!("expected a port from 1 to 65535, got {port:?}")),
        Ok(port) => port,
    };
    let ip = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<IpAddr>()
            .map_err(|_| format!("expected an IPv6 address in brackets, got {host:?}"))?
    } else {
        host.parse::<IpAddr>()
            .ok()
            .filter(IpAddr::is_ipv4)
            .ok_or_else(|| {
                format!("expected an IP (IPv6 in brackets) or localhost, got {host:?}")
            })?
    };
    if !ip.is_loopback() {
        return Err(format!("the bench only loads loopback addresses, got {ip}"));
    }
    Ok(SocketAddr::new(ip, port))
}

/// A class or type: safe in `query://CLASS/TYPE` and unescaped in XML.
fn parse_name(s: &str) -> Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    match !s.is_empty() && s.len() <= 64 && s.chars().all(ok) {
        true => Ok(s.to_string()),
        false => Err(format!(
            "expected 1 to 64 ASCII letters, digits, `-`, `_` or `.`, got {s:?}"
        )),
    }
}

/// Where the reply that starts `buf` ends, if it is complete (`Ok(None)`: read more);
/// `from` is how much of `buf` was already scanned. The empty reply is `\n`; an XML
/// reply is one line ending in `</resultset>`; a URI reply is lines ending in an empty
/// one.
fn reply_end(kind: ReplyKind, buf: &[u8], from: usize) -> anyhow::Result<Option<usize>> {
    match (buf.first(), kind) {
        (None, _) => return Ok(None),
        (Some(b'\n'), _) => return Ok(Some(1)),
        (Some(b'<'), ReplyKind::Xml) | (Some(_), ReplyKind::Uris) => {}
        (Some(_), ReplyKind::Xml) => bail!("expected an XML reply (`<…`) or an empty line"),
    }
    match kind {
        ReplyKind::Xml => {
            let Some(i) = buf[from..].iter().position(|&c| c == b'\n') else {
                return Ok(None);
            };
            let end = from + i;
            ensure!(
                buf[..end].ends_with(b"</resultset>"),
                "expected the XML line to end with `</resultset>`"
            );
            Ok(Some(end + 1))
        }
        ReplyKind::Uris => {
            ensure!(buf[0] != b'<', "expected URIs, got XML");
            let start = from.saturating_sub(1);
            let found = buf[start..].windows(2).position(|w| w == b"\n\n");
            Ok(found.map(|i| start + i + 2))
        }
    }
}

/// Counts the `<result>`s of an XML query reply (`<resultset referer="query">`, or the
/// empty reply), and those whose URI starts with `prefix`.
fn count_results(reply: &[u8], prefix: &str) -> anyhow::Result<Counts> {
    let line = one_line(reply)?;
    if line.is_empty() {
        return Ok(Counts {
            results: 0,
            ours: 0,
        });
    }
    let body = strip_prolog(line)
        .strip_prefix("<resultset referer=\"query\">")
        .and_then(|b| b.strip_suffix("</resultset>"))
        .context("expected <resultset referer=\"query\">…</resultset>")?;
    // memchr's SIMD search: the bench shares the machine with the server, and a
    // 1,000-entry reply is 170 KB to scan twice.
    let count = |needle: &str| memchr::memmem::find_iter(body.as_bytes(), needle).count() as u64;
    Ok(Counts {
        results: count("<result "),
        ours: count(&format!("<result uri=\"{prefix}")),
    })
}

/// Counts the URIs of a URI query reply (one per line, then an empty line), and those
/// starting with `prefix`.
fn count_uris(reply: &[u8], prefix: &str) -> anyhow::Result<Counts> {
    let text = std::str::from_utf8(reply).context("expected UTF-8")?;
    let mut counts = Counts {
        results: 0,
        ours: 0,
    };
    if text == "\n" {
        return Ok(counts);
    }
    let lines = text
        .strip_suffix("\n\n")
        .context("expected the reply to end with an empty line")?;
    for uri in lines.split('\n') {
        ensure!(
            !uri.is_empty(),
            "expected one URI per line, got an empty line"
        );
        ensure!(!uri.starts_with('<'), "expected URIs, got XML");
        counts.results += 1;
        counts.ours += u64::from(uri.starts_with(prefix));
    }
    Ok(counts)
}

/// The status of an update reply: `<resultset referer="update"><status>S</status>…`.
fn update_status(reply: &[u8]) -> anyhow::Result<&str> {
    let line = one_line(reply)?;
    ensure!(!line.is_empty(), "expected a status, got the empty reply");
    strip_prolog(line)
        .strip_prefix("<resultset referer=\"update\"><status>")
        .and_then(|b| b.strip_suffix("</status></resultset>"))
        .context("expected <resultset referer=\"update\"><status>…</status></resultset>")
}

/// The reply as one line, without its `\n`.
fn one_line(reply: &[u8]) -> anyhow::Result<&str> {
    let text = std::str::from_utf8(reply).context("expected UTF-8")?;
    let line = text
        .strip_suffix('\n')
        .context("expected a final newline")?;
    ensure!(!line.contains('\n'), "expected one line");
    Ok(line)
}

/// Without a leading `<?xml …?>`.
fn strip_prolog(line: &str) -> &str {
    match line.strip_prefix("<?xml") {
        Some(rest) => rest.find("?>").map_or(line, |i| &rest[i + 2..]),
        None => line,
    }
}

/// The start of a reply, for error messages.
fn snippet(reply: &[u8]) -> String {
    let end = reply.len().min(120);
    let more = if reply.len() > end { "…" } else { "" };
    format!("{:?}{more}", String::from_utf8_lossy(&reply[..end]))
}

impl Expect {
    fn check(&self, got: Counts) -> anyhow::Result<()> {
        let ours = self.min_ours..=self.max_ours;
        ensure!(
            ours.contains(&got.ours) && got.results >= self.min_results,
            "wrong reply: {} entries, {} of this run (expected at least {}, {} to {} of this run)",
            got.results,
            got.ours,
            self.min_results,
            self.min_ours,
            self.max_ours
        );
        Ok(())
    }
}

impl Conn {
    async fn connect(target: SocketAddr) -> anyhow::Result<Conn> {
        let stream = timeout(OP_TIMEOUT, TcpStream::connect(target))
            .await
            .map_err(|_| anyhow!("connecting to {target}: no answer within {OP_TIMEOUT:?}"))?
            .with_context(|| format!("connecting to {target}"))?;
        // The original may hold back the end of a big reply for an ACK (Nagle).
        stream.set_nodelay(true).context("setting TCP_NODELAY")?;
        Ok(Conn {
            stream,
            buf: Vec::new(),
        })
    }

    /// Sends `request` in one write (the original takes each read as one request) and
    /// reads its whole reply, within [`OP_TIMEOUT`]. Bytes after the reply are an error.
    async fn exchange(&mut self, request: &[u8], kind: ReplyKind) -> anyhow::Result<&[u8]> {
        let (stream, buf) = (&mut self.stream, &mut self.buf);
        buf.clear();
        let exchange = async {
            stream
                .write_all(request)
                .await
                .context("sending a request")?;
            let mut scanned = 0;
            loop {
                if buf.capacity() - buf.len() < READ_CHUNK / 4 {
                    buf.reserve(READ_CHUNK);
                }
                let n = stream.read_buf(buf).await.context("reading a reply")?;
                ensure!(
                    n > 0,
                    "closed by the server after {} reply bytes",
                    buf.len()
                );
                match reply_end(kind, buf, scanned) {
                    Ok(Some(end)) if end == buf.len() => return Ok(()),
                    Ok(Some(end)) => bail!("{} bytes after the reply", buf.len() - end),
                    Ok(None) => ensure!(buf.len() <= MAX_REPLY, "reply over {MAX_REPLY} bytes"),
                    Err(e) => bail!("malformed reply: {e}: {}", snippet(buf)),
                }
                scanned = buf.len();
            }
        };
        match timeout(OP_TIMEOUT, exchange).await {
            Ok(done) => done?,
            Err(_) => bail!(
                "no complete reply within {OP_TIMEOUT:?} ({} bytes: {})",
                self.buf.len(),
                snippet(&self.buf)
            ),
        }
        Ok(&self.buf)
    }
}

impl Bench {
    fn new(args: GgzmetaArgs) -> anyhow::Result<Bench> {
        let tag: String = (0..6)
            .map(|_| char::from(TAG_CHARS[rand::random_range(0..TAG_CHARS.len())]))
            .collect();
        let class = Class::Named(args.class.clone());
        let query = Query::uri(class.clone(), &args.kind);
        let b = Bench {
            prefix: format!("bench://127.0.0.1:{}/{tag}-", args.target.port()),
            xml_query: Request::Query(query).encode(),
            uri_query: Request::Uri {
                class,
                kind: args.kind.clone(),
            }
            .encode(),
            idle: Mutex::default(),
            accepted: Mutex::default(),
            unsure: Mutex::default(),
            published: OnceLock::new(),
            to_delete: OnceLock::new(),
            expect: OnceLock::new(),
            statuses: Mutex::default(),
            bytes: AtomicU64::new(0),
            args,
        };
        let longest = b.update_request(Mode::Modify, b.args.entries - 1).encode();
        ensure!(
            longest.len() <= MAX_REQUEST,
            "an update would take {} bytes, over the {MAX_REQUEST} the original reads at \
             once: shorten --username, --password, --class or --type",
            longest.len()
        );
        Ok(b)
    }

    /// `uri=` of entry `i`.
    fn uri(&self, i: u64) -> String {
        format!("{}{i}", self.prefix)
    }

    /// `<update … mode= uri=>` for entry `i`; modify turns its preference around.
    fn update_request(&self, mode: Mode, i: u64) -> Request {
        let preference = match mode {
            Mode::Modify => 100 - i % 100,
            Mode::Add | Mode::Delete | Mode::Unknown(_) => i % 100,
        };
        let options = [
            ("version", "0.5".to_string()),
            ("preference", preference.to_string()),
            ("name", format!("Glou bench {i}")),
        ];
        let a = &self.args;
        Request::Update(Update {
            class: Some(a.class.clone()),
            kind: Some(a.kind.clone()),
            username: a.username.clone(),
            password: a.password.clone(),
            mode: Some(mode),
            uri: Some(self.uri(i)),
            options: options.map(|(k, v)| (k.to_string(), v)).to_vec(),
        })
    }

    fn counts(&self, kind: ReplyKind, reply: &[u8]) -> anyhow::Result<Counts> {
        let counts = match kind {
            ReplyKind::Xml => count_results(reply, &self.prefix),
            ReplyKind::Uris => count_uris(reply, &self.prefix),
        };
        counts.with_context(|| format!("wrong reply {}", snippet(reply)))
    }

    /// Sends `request` and reads its reply on an idle connection (given back afterwards)
    /// or, when `fresh`, on a new one closed afterwards; `check` judges the reply.
    async fn exchange<T>(
        &self,
        request: &[u8],
        kind: ReplyKind,
        fresh: bool,
        check: impl FnOnce(&[u8]) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let idle = if fresh { None } else { lock(&self.idle).pop() };
        let mut conn = match idle {
            Some(conn) => conn,
            None => Conn::connect(self.args.target).await?,
        };
        let checked = check(conn.exchange(request, kind).await?);
        if !fresh {
            lock(&self.idle).push(conn);
        }
        checked
    }

    /// One update of entry `i`: `Ok(Ok(()))` if accepted, `Ok(Err(_))` naming the status
    /// when refused, `Err` when no status could be read.
    async fn update(&self, mode: Mode, i: u64) -> anyhow::Result<anyhow::Result<()>> {
        let request = self.update_request(mode.clone(), i).encode();
        let status = self
            .exchange(&request, ReplyKind::Xml, false, |r| {
                let status = update_status(r).with_context(|| format!("reply {}", snippet(r)));
                status.map(str::to_string)
            })
            .await?;
        *lock(&self.statuses).entry(status.clone()).or_default() += 1;
        Ok(match status == "accepted" {
            true => Ok(()),
            false => Err(anyhow!(
                "{} {}: status {status}",
                mode.as_str(),
                self.uri(i)
            )),
        })
    }

    /// One query, checked against [`Expect`]; returns the entries listed.
    async fn query(&self, kind: ReplyKind, fresh: bool) -> anyhow::Result<u64> {
        let expect = *self
            .expect
            .get()
            .context("queried before the expectation was set")?;
        let request = match kind {
            ReplyKind::Xml => &self.xml_query,
            ReplyKind::Uris => &self.uri_query,
        };
        let (counts, bytes) = self
            .exchange(request, kind, fresh, |r| {
                Ok((self.counts(kind, r)?, r.len()))
            })
            .await?;
        expect.check(counts)?;
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        Ok(counts.results)
    }

    fn pool(&self, count: Option<u64>, run_for: Duration) -> Pool {
        Pool {
            concurrency: self.args.connections as usize,
            rate: 0,
            count,
            deadline: Instant::now() + run_for,
        }
    }

    fn duration(&self) -> Duration {
        Duration::from_secs(self.args.duration)
    }

    fn probe(&self) -> CpuProbe {
        CpuProbe::start(self.args.server_pid)
    }

    fn report(&self, probe: &CpuProbe, phase: &'static str, rec: Recorder, extra: Value) {
        super::stats::report(probe, phase, rec, extra, self.args.json);
    }

    fn take_statuses(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *lock(&self.statuses))
    }

    /// `update-add`: every entry once; returns how many were accepted, and how many got
    /// no readable status.
    async fn publish(self: &Arc<Self>) -> anyhow::Result<(u64, u64)> {
        let probe = self.probe();
        let rec = pool::run(self.pool(Some(self.args.entries), COUNTED_MAX), self, add).await;
        let mut published = std::mem::take(&mut *lock(&self.accepted));
        let unsure = std::mem::take(&mut *lock(&self.unsure));
        published.sort_unstable();
        let mut to_delete = [published.as_slice(), &unsure].concat();
        to_delete.sort_unstable();
        let (n, unsure) = (published.len() as u64, unsure.len() as u64);
        let first_error = rec.first_error.clone().unwrap_or_default();
        let extra = json!({ "published": n, "unsure": unsure, "statuses": self.take_statuses() });
        self.report(&probe, "update-add", rec, extra);
        let _ = self.published.set(published);
        let _ = self.to_delete.set(to_delete);
        ensure!(
            n > 0,
            "no entry was accepted ({first_error}): --username and --password need the right \
             to create class {:?} (Glou: a [[ggzmeta.authorizations]] with update and create; \
             ggzmetaserv: daemon mode -d and an <authorization … create=\"1\"/>)",
            self.args.class
        );
        Ok((n, unsure))
    }

    /// A query phase: `op` at full speed on `--connections` clients for `--duration`.
    async fn queries<F, Fut>(self: &Arc<Self>, phase: &'static str, op: F)
    where
        F: Fn(Arc<Self>, u64) -> Fut + Copy + Send + 'static,
        Fut: Future<Output = anyhow::Result<u64>> + Send + 'static,
    {
        self.bytes.store(0, Ordering::Relaxed);
        let probe = self.probe();
        let rec = pool::run(self.pool(None, self.duration()), self, op).await;
        let per_reply = |n: u64| (n as f64 / rec.ok().max(1) as f64 * 10.0).round() / 10.0;
        let expect = self.expect.get();
        let extra = json!({
            "entries_per_reply": per_reply(rec.items),
            "bytes_per_reply": per_reply(self.bytes.load(Ordering::Relaxed)),
            "expected_min": expect.map(|e| e.min_results),
            "expected_ours": expect.map(|e| match e.min_ours == e.max_ours {
                true => json!(e.min_ours),
                false => json!([e.min_ours, e.max_ours]),
            }),
        });
        self.report(&probe, phase, rec, extra);
    }

    /// `update-modify`: the published entries in turn, at full speed for `--duration`.
    async fn modify(self: &Arc<Self>) {
        let probe = self.probe();
        let rec = pool::run(self.pool(None, self.duration()), self, modify).await;
        let extra = json!({ "statuses": self.take_statuses() });
        self.report(&probe, "update-modify", rec, extra);
    }

    /// `update-delete`: every entry accepted or unsure once, then one query that must
    /// list none of this run's entries (an error otherwise).
    async fn delete(self: &Arc<Self>) {
        let probe = self.probe();
        let count = self.to_delete.get().map_or(0, |p| p.len() as u64);
        let mut rec = pool::run(self.pool(Some(count), COUNTED_MAX), self, delete).await;
        let mut extra = json!({ "statuses": self.take_statuses() });
        let kind = ReplyKind::Xml;
        let after = self.exchange(&self.xml_query, kind, true, |r| self.counts(kind, r));
        match after.await {
            Ok(counts) => {
                extra["left_after"] = counts.ours.into();
                if counts.ours > 0 {
                    let e = anyhow!("{} entries of this run still listed", counts.ours);
                    rec.error(&e.context("the query after the deletes"));
                }
            }
            Err(e) => rec.error(&e.context("the query after the deletes")),
        }
        self.report(&probe, "update-delete", rec, extra);
    }
}

/// `<update mode="add">` of entry `n`.
async fn add(b: Arc<Bench>, n: u64) -> anyhow::Result<u64> {
    match b.update(Mode::Add, n).await {
        Ok(Ok(())) => lock(&b.accepted).push(n),
        Ok(Err(refused)) => return Err(refused),
        Err(e) => {
            lock(&b.unsure).push(n);
            return Err(e);
        }
    }
    Ok(1)
}

/// `<update mode="modify">` of the `n`th published entry, round and round.
async fn modify(b: Arc<Bench>, n: u64) -> anyhow::Result<u64> {
    let published = b.published.get().context("nothing published")?;
    ensure!(!published.is_empty(), "nothing published");
    let i = published[(n % published.len() as u64) as usize];
    b.update(Mode::Modify, i).await?.map(|()| 1)
}

/// `<update mode="delete">` of the `n`th entry to delete.
async fn delete(b: Arc<Bench>, n: u64) -> anyhow::Result<u64> {
    let to_delete = b.to_delete.get().context("nothing published")?;
    let i = *to_delete.get(n as usize).context("no such entry")?;
    b.update(Mode::Delete, i).await?.map(|()| 1)
}

/// `<query class= type=/>` on a persistent connection.
async fn query_persistent(b: Arc<Bench>, _n: u64) -> anyhow::Result<u64> {
    b.query(ReplyKind::Xml, false).await
}

/// `<query class= type=/>` on a connection of its own.
async fn query_per_connection(b: Arc<Bench>, _n: u64) -> anyhow::Result<u64> {
    b.query(ReplyKind::Xml, true).await
}

/// `query://CLASS/TYPE` on a persistent connection.
async fn uri_query(b: Arc<Bench>, _n: u64) -> anyhow::Result<u64> {
    b.query(ReplyKind::Uris, false).await
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// The reply of the capture (t4) to `<query class="ggz" type="connection"/>`, options cut.
    const T4_QUERY: &str = concat!(
        "<?xml version=\"1.0\"?><resultset referer=\"query\">",
        "<result uri=\"ggz://live.ggzgamingzone.org:5688\">",
        "<option name=\"version\">0.0.13</option></result>",
        "<result uri=\"ggz://ggz.openladders.net:5688\">",
        "<option name=\"name\">OpenLadders.net</option></result></resultset>\n",
    );
    const ACCEPTED: &str = concat!(
        "<?xml version=\"1.0\"?><resultset referer=\"update\">",
        "<status>accepted</status></resultset>\n",
    );

    /// Feeds `chunks` one read at a time; the outcome after the last one.
    fn frame(kind: ReplyKind, chunks: &[&str]) -> Result<Option<usize>, String> {
        let (mut buf, mut scanned, mut end) = (Vec::new(), 0, Ok(None));
        for chunk in chunks {
            assert_eq!(end, Ok(None), "complete before {chunk:?}");
            buf.extend_from_slice(chunk.as_bytes());
            end = reply_end(kind, &buf, scanned).map_err(|e| e.to_string());
            scanned = buf.len();
        }
        end
    }

    #[test]
    fn replies_end_where_the_protocol_says() {
        use ReplyKind::{Uris, Xml};
        assert_eq!(frame(Xml, &["\n"]), Ok(Some(1)));
        assert_eq!(frame(Xml, &[""]), Ok(None));
        assert_eq!(frame(Xml, &[T4_QUERY]), Ok(Some(T4_QUERY.len())));
        let (head, tail) = T4_QUERY.split_at(100);
        assert_eq!(frame(Xml, &[head, tail]), Ok(Some(T4_QUERY.len())));
        assert_eq!(frame(Xml, &[head, "</resultset>", "\n"]), Ok(Some(113)));
        let trailing = format!("{ACCEPTED}x");
        assert_eq!(frame(Xml, &[&trailing]), Ok(Some(ACCEPTED.len())));
        assert!(frame(Xml, &["<a>\n"]).is_err());
        assert!(frame(Xml, &["ggz://x\n\n"]).is_err());
        let uris = "ggz://live.ggzgamingzone.org:5688\nggz://ggz.openladders.net:5688\n\n";
        assert_eq!(frame(Uris, &["\n"]), Ok(Some(1)));
        assert_eq!(frame(Uris, &[uris]), Ok(Some(uris.len())));
        assert_eq!(frame(Uris, &["a\n", "b\n", "\n"]), Ok(Some(5)));
        assert_eq!(frame(Uris, &["a\n", "\nb"]), Ok(Some(3)));
        assert_eq!(frame(Uris, &["a\nb", "\n"]), Ok(None));
        assert!(frame(Uris, &["<?xml"]).is_err());
    }

    #[test]
    fn counts_results_and_ours() {
        let counts = |results, ours| Counts { results, ours };
        let prefix = "bench://127.0.0.1:15689/abc-";
        let check = |reply: &str| count_results(reply.as_bytes(), prefix).ok();
        assert_eq!(check(T4_QUERY), Some(counts(2, 0)));
        assert_eq!(check("\n"), Some(counts(0, 0)));
        let ours = "<resultset referer=\"query\"><result uri=\"bench://127.0.0.1:15689/abc-0\">\
            </result><result uri=\"bench://127.0.0.1:15689/abd-1\"></result>\
            <result uri=\"bench://127.0.0.1:15689/abc-12\" class=\"x\"></result></resultset>\n";
        assert_eq!(check(ours), Some(counts(3, 2)));
        let empty = "<?xml version=\"1.0\"?><resultset referer=\"query\"></resultset>\n";
        assert_eq!(check(empty), Some(counts(0, 0)));
        for wrong in [
            ACCEPTED,
            "<resultset referer=\"list\"></resultset>\n",
            "x",
            "\n\n",
        ] {
            assert_eq!(check(wrong), None, "{wrong:?}");
        }

        let check = |reply: &str| count_uris(reply.as_bytes(), prefix).ok();
        assert_eq!(check("ggz://a:5688\nggz://b:5688\n\n"), Some(counts(2, 0)));
        assert_eq!(check("\n"), Some(counts(0, 0)));
        let ours = "bench://127.0.0.1:15689/abc-0\nx\nbench://127.0.0.1:15689/abc-1\n\n";
        assert_eq!(check(ours), Some(counts(3, 2)));
        for wrong in ["a\n\nb\n\n", "a\n", "", T4_QUERY, "<x/>\n\n"] {
            assert_eq!(check(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn replies_list_every_accepted_entry() {
        let expect = Expect {
            min_results: 3,
            min_ours: 3,
            max_ours: 4,
        };
        let check = |results, ours| expect.check(Counts { results, ours }).is_ok();
        assert!(check(3, 3) && check(5, 3) && check(4, 4));
        assert!(!check(2, 2) && !check(5, 2) && !check(5, 5));
    }

    #[test]
    fn reads_update_statuses() {
        assert_eq!(update_status(ACCEPTED.as_bytes()).ok(), Some("accepted"));
        let rejected = "<resultset referer=\"update\"><status>rejected</status></resultset>\n";
        assert_eq!(update_status(rejected.as_bytes()).ok(), Some("rejected"));
        for wrong in [
            "\n",
            T4_QUERY,
            ACCEPTED.trim_end(),
            "<resultset referer=\"update\">\n",
        ] {
            assert!(update_status(wrong.as_bytes()).is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn only_loopback_targets() {
        let ok = |s: &str| parse_target(s).map(|a| a.to_string());
        assert_eq!(ok("127.0.0.1:15689").as_deref(), Ok("127.0.0.1:15689"));
        assert_eq!(ok("localhost:15689").as_deref(), Ok("127.0.0.1:15689"));
        assert_eq!(ok("LOCALHOST:7").as_deref(), Ok("127.0.0.1:7"));
        assert_eq!(ok("127.1.2.3:1").as_deref(), Ok("127.1.2.3:1"));
        assert_eq!(ok("[::1]:15689").as_deref(), Ok("[::1]:15689"));
        for bad in [
            "10.0.0.1:15689",
            "0.0.0.0:15689",
            "[::]:15689",
            "example.com:15689",
            "127.0.0.1:0",
            "127.0.0.1:70000",
            "127.0.0.1",
            "::1:15689",
            "ggzmeta://127.0.0.1:15689",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
        assert!(parse_name("benchclass").is_ok() && parse_name("a-b_c.1").is_ok());
        for bad in ["", "a/b", "a:b", "a b", "<x>", "é"] {
            assert!(parse_name(bad).is_err(), "{bad:?}");
        }
    }

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: GgzmetaArgs,
    }

    #[test]
    fn requests_look_like_libmeta() {
        let parse = |flags: &[&str]| Cli::try_parse_from([&["bench"], flags].concat());
        assert!(
            parse(&["--username", "u"]).is_err(),
            "a user name needs a password"
        );
        let cli = parse(&["--username", "u", "--password", "p", "--entries", "2"]).unwrap();
        let b = Bench::new(cli.args).unwrap();
        let tag = b.prefix.strip_prefix("bench://127.0.0.1:15689/").unwrap();
        assert_eq!(tag.len(), 7, "{tag}");
        let add = String::from_utf8(b.update_request(Mode::Add, 1).encode()).unwrap();
        let expected = format!(
            "<?xml version=\"1.0\"?><update class=\"benchclass\" type=\"connection\" \
             username=\"u\" password=\"p\" mode=\"add\" uri=\"{}1\"><option \
             name=\"version\">0.5</option><option name=\"preference\">1</option><option \
             name=\"name\">Glou bench 1</option></update>\n",
            b.prefix
        );
        assert_eq!(add, expected);
        assert_eq!(
            b.xml_query,
            b"<?xml version=\"1.0\"?><query class=\"benchclass\" type=\"connection\"/>\n"
        );
        assert_eq!(b.uri_query, b"query://benchclass/connection\n");
        let long = "x".repeat(900);
        let cli = parse(&["--username", &long, "--password", "p"]).unwrap();
        assert!(
            Bench::new(cli.args).is_err(),
            "over one read of the original"
        );
    }
}
