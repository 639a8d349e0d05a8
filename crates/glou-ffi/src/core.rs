//! What a `glou_client` handle is, in safe Rust: a `glou_client::Client` driven by one
//! I/O thread of its own (a single-threaded Tokio runtime), and a queue of events the
//! game takes with `glou_poll` whenever it likes. Calls never wait for the network:
//! they start work on the I/O thread and return; what comes of it is queued. A socket
//! pair makes the queue visible to `select`/`epoll`: its reading end is readable
//! exactly while events wait.

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use glou_client::announce::{AnnounceEvent, Announcer, WITHDRAW_TIMEOUT};
use glou_client::api::lobby::{LobbyMessage, LobbyRequest};
use glou_client::api::{AnnounceRequest, MatchRequest};
use glou_client::live::{Change, Live, LiveEvent};
use glou_client::{Client, Error};
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

use crate::event::{Event, Held, glou_event, glou_event_kind as K};
use crate::{GLOU_ERR_STATE, GLOU_OK, code_of};

/// Events waiting beyond this hold back the live connection until the game polls.
const MAX_QUEUED: usize = 100_000;

/// The events waiting for the game.
#[derive(Debug)]
struct Queue {
    events: Mutex<VecDeque<Event>>,
    /// How many wait: read without the lock, so an empty poll costs one atomic load.
    len: AtomicUsize,
    wake_tx: UnixStream,
    wake_rx: UnixStream,
}

impl Queue {
    fn new() -> std::io::Result<Self> {
        let (wake_tx, wake_rx) = UnixStream::pair()?;
        wake_tx.set_nonblocking(true)?;
        wake_rx.set_nonblocking(true)?;
        Ok(Self {
            events: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
            wake_tx,
            wake_rx,
        })
    }

    fn push(&self, event: Event) {
        let mut events = lock(&self.events);
        if events.is_empty() {
            // One byte marks "not empty"; a full socket buffer already says so.
            let _ = (&self.wake_tx).write(&[1]);
        }
        events.push_back(event);
        self.len.store(events.len(), Ordering::Release);
    }

    fn pop(&self) -> Option<Event> {
        if self.len.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut events = lock(&self.events);
        let event = events.pop_front();
        if events.is_empty() {
            let mut sink = [0u8; 64];
            while matches!((&self.wake_rx).read(&mut sink), Ok(n) if n > 0) {}
        }
        self.len.store(events.len(), Ordering::Release);
        event
    }
}

/// What the I/O thread's tasks share with the handle.
#[derive(Debug)]
struct Shared {
    queue: Queue,
    /// Lobby requests of the live connection → the request numbers the game was given.
    lobby_requests: Mutex<HashMap<u64, u64>>,
}

impl Shared {
    fn push(&self, event: Event) {
        self.queue.push(event);
    }

    fn reply(&self, request: u64, result: Result<Event, Error>) {
        let event = match result {
            Ok(event) => Event {
                request,
                code: GLOU_OK,
                ..event
            },
            Err(e) => failure(K::GLOU_EVENT_REPLY, request, &e),
        };
        self.push(event);
    }
}

/// An event saying `e` went wrong.
fn failure(kind: K, request: u64, e: &Error) -> Event {
    Event {
        request,
        code: code_of(e),
        error: e.code().to_string(),
        message: e.to_string(),
        ..Event::new(kind)
    }
}

fn ok_reply() -> Event {
    Event::new(K::GLOU_EVENT_REPLY)
}

/// One `glou_client`.
#[derive(Debug)]
pub struct Core {
    client: Client,
    rt: Handle,
    shared: Arc<Shared>,
    next_request: AtomicU64,
    live: Mutex<Option<Live>>,
    /// The lobby login was sent on the live connection.
    in_lobby: AtomicBool,
    announcer: Mutex<Option<Announcer>>,
    /// What the game wants listed (set before or while announcing).
    listing: Mutex<AnnounceRequest>,
    /// The event last handed out, which the game may still be reading.
    held: Mutex<Held>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// A failed call, for the C side: a code and a message.
pub type Fail = (i32, String);

fn invalid(e: Error) -> Fail {
    (code_of(&e), e.to_string())
}

impl Core {
    pub fn new(urls: &str) -> Result<Self, Fail> {
        let client = Client::new(urls).map_err(invalid)?;
        let queue = Queue::new().map_err(|e| (GLOU_ERR_STATE, format!("socket pair: {e}")))?;
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("glou-io".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = handle_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(rt.handle().clone()));
                rt.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| (GLOU_ERR_STATE, format!("cannot start the I/O thread: {e}")))?;
        let rt = handle_rx
            .recv()
            .map_err(|_| (GLOU_ERR_STATE, "the I/O thread did not start".to_string()))?
            .map_err(|e| (GLOU_ERR_STATE, format!("cannot start a runtime: {e}")))?;
        Ok(Self {
            client,
            rt,
            shared: Arc::new(Shared {
                queue,
                lobby_requests: Mutex::new(HashMap::new()),
            }),
            next_request: AtomicU64::new(1),
            live: Mutex::new(None),
            in_lobby: AtomicBool::new(false),
            announcer: Mutex::new(None),
            listing: Mutex::new(AnnounceRequest::default()),
            held: Mutex::new(Held::default()),
            stop: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.shared.queue.wake_rx.as_raw_fd()
    }

    /// The next event into `out`; false if none waits.
    pub fn poll(&self, out: &mut glou_event) -> Result<bool, Fail> {
        if self.shared.queue.len.load(Ordering::Acquire) == 0 {
            return Ok(false);
        }
        let mut held = self.held.try_lock().map_err(|_| {
            (
                GLOU_ERR_STATE,
                "glou_poll is already running on another thread for this client".into(),
            )
        })?;
        match self.shared.queue.pop() {
            Some(event) => {
                held.fill(event, out);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn request_id(&self) -> u64 {
        self.next_request.fetch_add(1, Ordering::Relaxed)
    }

    /// Runs `work` on the I/O thread; its outcome becomes the request's events.
    fn request<F>(&self, work: impl FnOnce(Client, Arc<Shared>, u64) -> F) -> u64
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let id = self.request_id();
        self.rt
            .spawn(work(self.client.clone(), self.shared.clone(), id));
        id
    }

    // --- the listing ---

    pub fn query(&self, filter: &str) -> Result<u64, Fail> {
        glou_client::filter_json(filter).map_err(invalid)?;
        let filter = filter.to_string();
        Ok(self.request(|client, shared, id| async move {
            match client.servers(&filter).await {
                Ok(page) => {
                    for server in page.servers {
                        shared.push(Event {
                            request: id,
                            server: Some(server),
                            ..Event::new(K::GLOU_EVENT_SERVER)
                        });
                    }
                    shared.reply(id, Ok(ok_reply()));
                }
                Err(e) => shared.reply(id, Err(e)),
            }
        }))
    }

    pub fn subscribe(&self, tag: &str, filter: &str) -> Result<(), Fail> {
        // Refused before the live connection is opened for it.
        glou_client::filter_json(filter).map_err(invalid)?;
        self.with_live(|live| live.subscribe(tag, filter))
    }

    pub fn unsubscribe(&self, tag: &str) -> Result<(), Fail> {
        self.with_live(|live| live.unsubscribe(tag))
    }

    // --- accounts ---

    pub fn login(&self, name: &str, password: Option<&str>) -> u64 {
        let (name, password) = (name.to_string(), password.map(String::from));
        self.in_lobby.store(false, Ordering::Relaxed);
        let live = self.live_reconnect();
        self.request(|client, shared, id| async move {
            let session = match &password {
                Some(password) => client.login(&name, password).await,
                None => client.guest(&name).await,
            };
            let result = session.map(|s| Event {
                name: s.name,
                detail: s.player_type,
                ..ok_reply()
            });
            let ok = result.is_ok();
            shared.reply(id, result);
            if ok {
                live();
            }
        })
    }

    pub fn logout(&self) -> u64 {
        self.in_lobby.store(false, Ordering::Relaxed);
        let live = self.live_reconnect();
        self.request(|client, shared, id| async move {
            let result = client.logout().await.map(|()| ok_reply());
            shared.reply(id, result);
            live();
        })
    }

    /// Something that makes the live connection (if any) reconnect, to carry a new
    /// session: started from the I/O thread once the session is known.
    fn live_reconnect(&self) -> impl FnOnce() + Send + use<> {
        let live = lock(&self.live);
        let reconnect = live.as_ref().map(|live| live.reconnect_handle());
        drop(live);
        move || {
            if let Some(reconnect) = reconnect {
                reconnect();
            }
        }
    }

    pub fn friends(&self) -> u64 {
        self.request(|client, shared, id| async move {
            match client.friends().await {
                Ok(reply) => {
                    for f in &reply.friends {
                        let event = Event::presence(K::GLOU_EVENT_FRIEND, &f.name, &f.presence);
                        shared.push(Event {
                            request: id,
                            ..event
                        });
                    }
                    shared.reply(id, Ok(ok_reply()));
                }
                Err(e) => shared.reply(id, Err(e)),
            }
        })
    }

    pub fn rankings(&self, game: &str, offset: u32, limit: u32) -> u64 {
        let game = game.to_string();
        self.request(|client, shared, id| async move {
            match client.rankings(&game, offset, limit).await {
                Ok(reply) => {
                    for r in reply.rankings {
                        shared.push(Event {
                            request: id,
                            name: r.name.clone(),
                            stats: Some(glou_client::api::StatsDto {
                                game: reply.game.clone(),
                                wins: r.wins,
                                losses: r.losses,
                                ties: r.ties,
                                forfeits: r.forfeits,
                                rating: r.rating,
                                highscore: r.highscore,
                                matches: r.matches,
                                rank: Some(r.rank),
                            }),
                            ..Event::new(K::GLOU_EVENT_RANKING)
                        });
                    }
                    shared.reply(id, Ok(ok_reply()));
                }
                Err(e) => shared.reply(id, Err(e)),
            }
        })
    }

    pub fn player_stats(&self, name: &str) -> u64 {
        let name = name.to_string();
        self.request(|client, shared, id| async move {
            match client.profile(&name).await {
                Ok(profile) => {
                    for stats in profile.stats {
                        shared.push(Event {
                            request: id,
                            name: profile.name.clone(),
                            stats: Some(stats),
                            ..Event::new(K::GLOU_EVENT_STATS)
                        });
                    }
                    shared.reply(id, Ok(ok_reply()));
                }
                Err(e) => shared.reply(id, Err(e)),
            }
        })
    }

    pub fn report(&self, game: &str, report: MatchRequest) -> u64 {
        let game = game.to_string();
        self.request(|client, shared, id| async move {
            let result = client.report(&game, &report).await.map(|m| Event {
                json: serde_json::to_string(&m).unwrap_or_default(),
                ..ok_reply()
            });
            shared.reply(id, result);
        })
    }

    // --- the lobby ---

    /// Enters a lobby room, logging into the lobby with the session first if needed.
    pub fn enter(&self, room: u32) -> Result<u64, Fail> {
        if self.client.token().is_none() {
            return Err((
                GLOU_ERR_STATE,
                "log in first (glou_login or glou_login_guest, and wait for its reply)".into(),
            ));
        }
        if !self.in_lobby.swap(true, Ordering::Relaxed) {
            self.with_live(|live| live.lobby(LobbyRequest::LobbyLogin { guest: None }))?;
        }
        self.lobby(LobbyRequest::Enter { room })
    }

    /// Chats in the room, or privately to `to`.
    pub fn chat(&self, to: Option<&str>, text: &str) -> Result<u64, Fail> {
        if !self.in_lobby.load(Ordering::Relaxed) {
            return Err((
                GLOU_ERR_STATE,
                "enter a room first (glou_lobby_enter)".into(),
            ));
        }
        self.lobby(LobbyRequest::Chat {
            kind: to.map(|_| "private".to_string()),
            to: to.map(String::from),
            text: text.into(),
        })
    }

    fn lobby(&self, request: LobbyRequest) -> Result<u64, Fail> {
        let id = self.request_id();
        let mut map = lock(&self.shared.lobby_requests);
        let live_id = self.with_live(|live| live.lobby(request))?;
        map.insert(live_id, id);
        Ok(id)
    }

    /// Runs `f` on the live connection, opening it first if needed.
    fn with_live<T>(&self, f: impl FnOnce(&Live) -> Result<T, Error>) -> Result<T, Fail> {
        let mut live = lock(&self.live);
        if live.is_none() {
            let _rt = self.rt.enter();
            let (tx, rx) = mpsc::channel(1024);
            *live = Some(Live::start(&self.client, tx));
            self.rt.spawn(forward_live(rx, self.shared.clone()));
        }
        f(live.as_ref().expect("opened above")).map_err(invalid)
    }

    // --- announcing ---

    /// Starts keeping the listing (as set so far, with `game` and `port`) on every
    /// server.
    pub fn announce_start(&self, game: &str, port: u16) -> Result<(), Fail> {
        let mut announcer = lock(&self.announcer);
        if announcer.is_some() {
            return Err((
                GLOU_ERR_STATE,
                "already announcing (glou_announce_stop first)".into(),
            ));
        }
        let listing = {
            let mut listing = lock(&self.listing);
            listing.game = game.into();
            listing.port = Some(port);
            listing.clone()
        };
        let _rt = self.rt.enter();
        let (tx, rx) = mpsc::channel(64);
        *announcer = Some(Announcer::start(&self.client, listing, tx));
        self.rt.spawn(forward_announce(rx, self.shared.clone()));
        Ok(())
    }

    /// Changes the listing, before or while announcing.
    pub fn announce_update(&self, change: impl FnOnce(&mut AnnounceRequest)) {
        let announcer = lock(&self.announcer);
        let mut listing = lock(&self.listing);
        change(&mut listing);
        if let Some(announcer) = announcer.as_ref() {
            announcer.update(|l| *l = listing.clone());
        }
    }

    /// Withdraws the listing; `wait` blocks until done (at most [`WITHDRAW_TIMEOUT`]).
    pub fn announce_stop(&self, wait: bool) -> Result<(), Fail> {
        let Some(announcer) = lock(&self.announcer).take() else {
            return Err((GLOU_ERR_STATE, "not announcing".into()));
        };
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        self.rt.spawn(async move {
            announcer.withdraw().await;
            let _ = done_tx.send(());
        });
        if wait {
            let _ = done_rx.recv_timeout(WITHDRAW_TIMEOUT + Duration::from_millis(500));
        }
        Ok(())
    }

    /// Withdraws, closes the connections and ends the I/O thread.
    pub fn close(&self) {
        let _ = self.announce_stop(true);
        lock(&self.live).take();
        if let Some(stop) = lock(&self.stop).take() {
            let _ = stop.send(());
        }
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.close();
    }
}

/// Turns what the live connection reports into events.
async fn forward_live(mut rx: mpsc::Receiver<LiveEvent>, shared: Arc<Shared>) {
    while let Some(event) = rx.recv().await {
        while shared.queue.len.load(Ordering::Acquire) >= MAX_QUEUED {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if let Some(event) = live_event(&shared, event) {
            shared.push(event);
        }
    }
}

fn live_event(shared: &Shared, event: LiveEvent) -> Option<Event> {
    Some(match event {
        LiveEvent::Connected { url } => Event {
            url,
            ..Event::new(K::GLOU_EVENT_CONNECTED)
        },
        LiveEvent::Disconnected { error } => Event {
            message: error,
            ..Event::new(K::GLOU_EVENT_DISCONNECTED)
        },
        LiveEvent::Server {
            sub,
            change,
            server,
        } => {
            let kind = match change {
                Change::Added => K::GLOU_EVENT_SERVER_ADDED,
                Change::Updated => K::GLOU_EVENT_SERVER_UPDATED,
                Change::Removed => K::GLOU_EVENT_SERVER_REMOVED,
            };
            Event {
                sub,
                server: Some(server),
                ..Event::new(kind)
            }
        }
        LiveEvent::Synced { sub } => Event {
            sub,
            ..Event::new(K::GLOU_EVENT_SYNCED)
        },
        LiveEvent::Presence { name, presence } => {
            Event::presence(K::GLOU_EVENT_PRESENCE, &name, &presence)
        }
        LiveEvent::Session { .. } | LiveEvent::Friends { .. } => return None,
        LiveEvent::Refused { sub, error } => Event {
            sub: sub.unwrap_or_default(),
            code: crate::GLOU_ERR_SERVER,
            error: error.code.into_owned(),
            message: error.message,
            ..Event::new(K::GLOU_EVENT_REFUSED)
        },
        LiveEvent::Lobby { request, message } => {
            let request = request.and_then(|r| lock(&shared.lobby_requests).remove(&r));
            return lobby_event(request, message);
        }
    })
}

/// A lobby message as an event: the answer to one of the game's requests becomes its
/// reply; answers to the library's own requests (the lobby login) are not shown.
fn lobby_event(request: Option<u64>, message: LobbyMessage) -> Option<Event> {
    match (request, message) {
        (Some(id), LobbyMessage::Result { code, message, .. }) => Some(if code == "ok" {
            Event {
                request: id,
                ..ok_reply()
            }
        } else {
            Event {
                request: id,
                code: crate::GLOU_ERR_SERVER,
                message: message.unwrap_or_else(|| code.clone()),
                error: code,
                ..ok_reply()
            }
        }),
        (None, LobbyMessage::Result { .. } | LobbyMessage::LobbyWelcome { .. }) => None,
        (_, LobbyMessage::Chat { kind, from, text }) => Some(Event {
            name: from,
            text: text.unwrap_or_default(),
            detail: kind,
            ..Event::new(K::GLOU_EVENT_CHAT)
        }),
        (request, message) => {
            let value = serde_json::to_value(&message).unwrap_or_default();
            let detail = value["type"].as_str().unwrap_or_default().to_string();
            Some(Event {
                request: request.unwrap_or(0),
                detail,
                json: value.to_string(),
                ..Event::new(K::GLOU_EVENT_LOBBY)
            })
        }
    }
}

/// Turns what the announcer reports into events.
async fn forward_announce(mut rx: mpsc::Receiver<AnnounceEvent>, shared: Arc<Shared>) {
    while let Some(event) = rx.recv().await {
        shared.push(match event {
            AnnounceEvent::Listed { url, id } => Event {
                url,
                text: id,
                ..Event::new(K::GLOU_EVENT_ANNOUNCED)
            },
            AnnounceEvent::Failed { url, error } => Event {
                url,
                ..failure(K::GLOU_EVENT_ANNOUNCE_FAILED, 0, &error)
            },
            AnnounceEvent::Withdrawn { url } => Event {
                url,
                ..Event::new(K::GLOU_EVENT_WITHDRAWN)
            },
        });
    }
}

/// Locks, shrugging off a poisoned lock (panics are caught at the C boundary, and no
/// lock here guards an invariant a panic could break halfway).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
