//! glou-client against a real server: the announcer keeping a game server listed on
//! two servers (and announcing again when a server forgot it), live lists with
//! failover, sessions, friends and lobby chat over the live connection, typed errors,
//! the blocking client, and match reports with rankings and profiles.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use glou_client::announce::{AnnounceEvent, Announcer};
use glou_client::api::lobby::{LobbyMessage, LobbyRequest};
use glou_client::api::{AnnounceRequest, MatchRequest, ReportedPlayer, ServerDto};
use glou_client::live::{Change, Live, LiveEvent};
use glou_client::{Client, Error};
use glou_core::account::{Perm, Perms};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

use crate::harness::{TestServer, eventually, server};

/// How long any one wait may take.
const WAIT: Duration = Duration::from_secs(10);

/// The next event, within [`WAIT`].
async fn next<E>(rx: &mut mpsc::Receiver<E>) -> E {
    timeout(WAIT, rx.recv())
        .await
        .expect("an event within 10 s")
        .expect("the sender alive")
}

/// The first event `pick` accepts, skipping the others, within [`WAIT`].
async fn expect<E: Debug, T>(
    rx: &mut mpsc::Receiver<E>,
    what: &str,
    mut pick: impl FnMut(&E) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut skipped = Vec::new();
    loop {
        let event = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("the events ended before {what}; skipped {skipped:#?}"),
            Err(_) => panic!("no {what} within 10 s; skipped {skipped:#?}"),
        };
        if let Some(found) = pick(&event) {
            return found;
        }
        skipped.push(event);
    }
}

/// The next listing, as `(url, id)`; a failure fails the test.
async fn listed(rx: &mut mpsc::Receiver<AnnounceEvent>) -> (String, String) {
    expect(rx, "a listing", |e| match e {
        AnnounceEvent::Listed { url, id } => Some((url.clone(), id.clone())),
        AnnounceEvent::Failed { url, error } => panic!("{url} failed: {error:?}"),
        AnnounceEvent::Withdrawn { .. } => None,
    })
    .await
}

/// The subscription, change and server of a [`LiveEvent::Server`].
fn server_change(event: LiveEvent) -> (String, Change, ServerDto<'static>) {
    match event {
        LiveEvent::Server {
            sub,
            change,
            server,
        } => (sub, change, server),
        other => panic!("expected a server change, got {other:?}"),
    }
}

/// The answer to lobby request `request`.
async fn answer(rx: &mut mpsc::Receiver<LiveEvent>, request: u64) -> LobbyMessage {
    expect(
        rx,
        &format!("the answer to lobby request {request}"),
        |e| match e {
            LiveEvent::Lobby {
                request: Some(r),
                message,
            } if *r == request => Some(message.clone()),
            _ => None,
        },
    )
    .await
}

/// An address nothing listens on.
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A client of one server.
fn client_of(s: &TestServer) -> Client {
    Client::new(&s.url("")).unwrap()
}

/// A TCP relay to a server that keeps a copy of everything the client sends through
/// it, one byte string per connection.
struct Tap {
    addr: SocketAddr,
    sent: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Tap {
    async fn start(target: SocketAddr) -> Tap {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sent: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let log = sent.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let n = {
                        let mut log = log.lock().unwrap();
                        log.push(Vec::new());
                        log.len() - 1
                    };
                    let (mut from_client, mut to_client) = inbound.into_split();
                    let (mut from_server, mut to_server) = outbound.into_split();
                    let back = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                    });
                    let mut buf = vec![0; 16 * 1024];
                    while let Ok(k @ 1..) = from_client.read(&mut buf).await {
                        log.lock().unwrap()[n].extend_from_slice(&buf[..k]);
                        if to_server.write_all(&buf[..k]).await.is_err() {
                            break;
                        }
                    }
                    let _ = to_server.shutdown().await;
                    let _ = back.await;
                });
            }
        });
        Tap { addr, sent }
    }

    /// What the client sent, connection after connection.
    fn sent(&self) -> String {
        let sent = self.sent.lock().unwrap();
        let texts: Vec<_> = sent.iter().map(|c| String::from_utf8_lossy(c)).collect();
        texts.join("\n")
    }
}

#[tokio::test]
async fn announcer_lists_on_two_servers_and_sends_only_changes() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    // The first server is reached through a tap, to see what travels.
    let tap = Tap::start(a.addr).await;
    let client = Client::new(&format!("http://{} http://{}", tap.addr, b.addr)).unwrap();
    let urls: Vec<String> = client.bases().iter().map(|u| u.to_string()).collect();
    let game = "client-twin";
    let filter = format!("game={game}");
    let (tx, mut rx) = mpsc::channel(64);
    let listing = AnnounceRequest {
        game: game.into(),
        port: Some(27960),
        name: "Twin".into(),
        map: "dm1".into(),
        players: 1,
        max_players: 8,
        ..AnnounceRequest::default()
    };
    let announcer = Announcer::start(&client, listing, tx);
    let mut ids = std::collections::BTreeMap::new();
    while ids.len() < 2 {
        let (url, id) = listed(&mut rx).await;
        assert!(ids.insert(url, id).is_none(), "listed twice on one server");
    }
    let mut want: Vec<&String> = urls.iter().collect();
    want.sort();
    assert_eq!(ids.keys().collect::<Vec<_>>(), want);

    // Each server lists it, at the caller's own IP and the port given.
    let at = [client_of(&a), client_of(&b)];
    for (i, at) in at.iter().enumerate() {
        let page = at.servers(&filter).await.unwrap();
        let [s] = &page.servers[..] else {
            panic!("one entry on {}: {page:?}", urls[i]);
        };
        assert_eq!(s.id, ids[&urls[i]]);
        assert_eq!(
            (
                s.address.as_ref(),
                s.name.as_ref(),
                s.map.as_ref(),
                s.players,
                s.max_players,
                s.source.as_ref()
            ),
            ("127.0.0.1:27960", "Twin", "dm1", 1, 8, "native")
        );
    }

    announcer.update(|l| {
        l.players = 5;
        l.map = "q3dm17".into();
    });
    assert_eq!(announcer.listing().players, 5);
    for at in &at {
        eventually("the change on both servers", async || {
            let servers = at.servers(&filter).await.unwrap().servers;
            servers.len() == 1 && servers[0].players == 5 && servers[0].map == "q3dm17"
        })
        .await;
    }
    let sent = tap.sent();
    let id_a = &ids[&urls[0]];
    assert!(
        sent.contains(&format!("PUT /api/v1/servers/{id_a} ")),
        "{sent}"
    );
    assert!(
        sent.contains(r#"{"map":"q3dm17","players":5}"#),
        "only the changed fields travel: {sent}"
    );
    assert_eq!(
        sent.matches(r#""name":"Twin""#).count(),
        1,
        "the whole listing travels once, in the announcement: {sent}"
    );

    timeout(WAIT, announcer.withdraw()).await.unwrap();
    let mut withdrawn = Vec::new();
    while let Ok(event) = rx.try_recv() {
        match event {
            AnnounceEvent::Withdrawn { url } => withdrawn.push(url),
            other => panic!("after the withdrawal: {other:?}"),
        }
    }
    withdrawn.sort();
    assert_eq!(withdrawn.iter().collect::<Vec<_>>(), want);
    for at in &at {
        assert_eq!(at.servers(&filter).await.unwrap().servers, []);
    }
    assert!(
        tap.sent()
            .contains(&format!("DELETE /api/v1/servers/{id_a} "))
    );
}

#[tokio::test]
async fn announcer_reannounces_when_the_server_forgot_it() {
    let s = TestServer::start().await;
    let client = client_of(&s);
    let game = "client-phoenix";
    let filter = format!("game={game}");
    let (tx, mut rx) = mpsc::channel(64);
    let listing = AnnounceRequest {
        game: game.into(),
        port: Some(27961),
        name: "Phoenix".into(),
        players: 1,
        max_players: 8,
        ..AnnounceRequest::default()
    };
    let announcer = Announcer::start(&client, listing, tx);
    let (url, first) = listed(&mut rx).await;
    assert_eq!(url, client.bases()[0].to_string());
    let servers = client.servers(&filter).await.unwrap().servers;
    assert_eq!(
        servers.iter().map(|s| s.id.as_ref()).collect::<Vec<_>>(),
        [first.as_str()]
    );

    // The entry expires (the server's clock passes its timeout without a heartbeat):
    // the next update is answered 404, and the announcer announces again.
    s.advance(400);
    eventually("the entry to expire", async || {
        s.names(&filter).await.is_empty()
    })
    .await;
    announcer.update(|l| l.players = 3);
    let (_, second) = listed(&mut rx).await;
    let servers = client.servers(&filter).await.unwrap().servers;
    let [shown] = &servers[..] else {
        panic!("one entry: {servers:?}");
    };
    assert_eq!(shown.id, second);
    assert_eq!((shown.name.as_ref(), shown.players), ("Phoenix", 3));

    // Someone announces the same game and address: the entry gets a new secret, the
    // announcer's next update is answered 403, and it announces again.
    s.announce(json!({"game": game, "address": "127.0.0.1:27961", "name": "Usurper"}))
        .await;
    assert_eq!(s.names(&filter).await, ["Usurper"]);
    announcer.update(|l| l.players = 4);
    let (_, third) = listed(&mut rx).await;
    assert_eq!(third, second, "a replaced entry keeps its id");
    let servers = client.servers(&filter).await.unwrap().servers;
    assert_eq!(
        servers
            .iter()
            .map(|s| (s.name.as_ref(), s.players))
            .collect::<Vec<_>>(),
        [("Phoenix", 4)]
    );

    timeout(WAIT, announcer.withdraw()).await.unwrap();
    assert!(s.names(&filter).await.is_empty());
}

#[tokio::test]
async fn live_subscription_sees_added_updated_removed_and_synced() {
    let s = TestServer::start().await;
    let client = client_of(&s);
    let game = "client-live";
    let (tx, mut rx) = mpsc::channel(256);
    let live = Live::start(&client, tx);
    live.subscribe("t", &format!("game={game}")).unwrap();
    assert_eq!(
        next(&mut rx).await,
        LiveEvent::Connected {
            url: client.bases()[0].to_string()
        }
    );
    assert_eq!(next(&mut rx).await, LiveEvent::Synced { sub: "t".into() });

    s.announce(server("client-other", 1, "elsewhere", 2)).await;
    let (id, secret) = s.announce(server(game, 2, "watched", 1)).await;
    let (sub, change, shown) = server_change(next(&mut rx).await);
    assert_eq!(
        (sub.as_str(), change, shown.id.as_ref(), shown.name.as_ref()),
        ("t", Change::Added, id.as_str(), "watched")
    );
    let path = format!("/api/v1/servers/{id}");
    assert_eq!(s.put(&path, &secret, &json!({"players": 4})).await.0, 200);
    let (sub, change, shown) = server_change(next(&mut rx).await);
    assert_eq!(
        (sub.as_str(), change, shown.id.as_ref(), shown.players),
        ("t", Change::Updated, id.as_str(), 4)
    );
    assert_eq!(s.delete(&path, &secret).await.0, 204);
    let (sub, change, shown) = server_change(next(&mut rx).await);
    assert_eq!(
        (sub.as_str(), change, shown.id.as_ref()),
        ("t", Change::Removed, id.as_str())
    );

    // Unsubscribed, "t" hears nothing more; a new subscription has its own filter.
    live.unsubscribe("t").unwrap();
    live.subscribe("u", &format!("game={game}&not_empty=1"))
        .unwrap();
    assert_eq!(next(&mut rx).await, LiveEvent::Synced { sub: "u".into() });
    s.announce(server(game, 3, "empty", 0)).await;
    s.announce(server(game, 4, "busy", 2)).await;
    let (sub, change, shown) = server_change(next(&mut rx).await);
    assert_eq!(
        (sub.as_str(), change, shown.name.as_ref()),
        ("u", Change::Added, "busy")
    );

    // A filter the client cannot check is refused by the server, and said so.
    assert!(matches!(
        live.subscribe("bad", "colour=red"),
        Err(Error::Invalid(_))
    ));
    live.subscribe("big", "limit=100000000").unwrap();
    match next(&mut rx).await {
        LiveEvent::Refused {
            sub: Some(sub),
            error,
        } => assert_eq!(
            (sub.as_str(), error.code.as_ref()),
            ("big", "invalid_query")
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn live_reconnects_to_the_second_base_and_resyncs() {
    let s = TestServer::start().await;
    let game = "client-second";
    let filter = format!("game={game}");
    s.announce(server(game, 5, "there", 1)).await;
    let client = Client::new(&format!("http://{} http://{}", closed_port(), s.addr)).unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let live = Live::start(&client, tx);
    live.subscribe("s", &filter).unwrap();
    assert_eq!(
        next(&mut rx).await,
        LiveEvent::Connected {
            url: client.bases()[1].to_string()
        }
    );
    let (sub, change, shown) = server_change(next(&mut rx).await);
    assert_eq!(
        (sub.as_str(), change, shown.name.as_ref()),
        ("s", Change::Added, "there")
    );
    assert_eq!(next(&mut rx).await, LiveEvent::Synced { sub: "s".into() });
    s.announce(server(game, 6, "later", 0)).await;
    let (_, change, shown) = server_change(next(&mut rx).await);
    assert_eq!((change, shown.name.as_ref()), (Change::Added, "later"));
    // Calls fail over the same way.
    let names: Vec<String> = client
        .all_servers(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name.into_owned())
        .collect();
    assert_eq!(names, ["there", "later"]);
}

#[tokio::test]
async fn live_fails_over_when_its_server_stops_and_resyncs() {
    let a = TestServer::start().await;
    let b = TestServer::start().await;
    let game = "client-failover";
    a.announce(server(game, 7, "on-a", 1)).await;
    b.announce(server(game, 8, "on-b", 2)).await;
    let client = Client::new(&format!("http://{} http://{}", a.addr, b.addr)).unwrap();
    let urls: Vec<String> = client.bases().iter().map(|u| u.to_string()).collect();
    let (tx, mut rx) = mpsc::channel(256);
    let live = Live::start(&client, tx);
    live.subscribe("f", &format!("game={game}")).unwrap();
    assert_eq!(
        next(&mut rx).await,
        LiveEvent::Connected {
            url: urls[0].clone()
        }
    );
    let (_, change, shown) = server_change(next(&mut rx).await);
    assert_eq!((change, shown.name.as_ref()), (Change::Added, "on-a"));
    assert_eq!(next(&mut rx).await, LiveEvent::Synced { sub: "f".into() });

    // Both servers started at T0, so their sequence numbers coincide: a `since` from A
    // must not be resumed at B as if it were B's.
    let seq_a = client_of(&a).servers("").await.unwrap().seq;
    let seq_b = client_of(&b).servers("").await.unwrap().seq;
    a.stop().await;
    assert!(
        matches!(next(&mut rx).await, LiveEvent::Disconnected { .. }),
        "the loss is reported"
    );
    assert_eq!(
        next(&mut rx).await,
        LiveEvent::Connected {
            url: urls[1].clone()
        }
    );
    // The subscriber is brought in step with B's list: A's server goes, B's comes.
    let mut changes = Vec::new();
    loop {
        match next(&mut rx).await {
            LiveEvent::Synced { sub } if sub == "f" => break,
            event => {
                let (_, change, shown) = server_change(event);
                changes.push((change, shown.name.into_owned()));
            }
        }
    }
    changes.sort_by_key(|(_, name)| name.clone());
    assert_eq!(
        changes,
        [
            (Change::Removed, "on-a".to_string()),
            (Change::Added, "on-b".to_string())
        ],
        "after failing over, the subscriber holds B's list (A was at seq {seq_a}, B at \
         {seq_b}: a subscription resumed at B with A's seq misses B's entries)"
    );
    b.announce(server(game, 9, "later-on-b", 0)).await;
    let (_, change, shown) = server_change(next(&mut rx).await);
    assert_eq!((change, shown.name.as_ref()), (Change::Added, "later-on-b"));
}

#[tokio::test]
async fn login_friends_and_lobby_chat() {
    let s = TestServer::start().await;
    s.account("ann").await;
    s.account("ben").await;
    let ann = client_of(&s);
    let ben = client_of(&s);
    let session = ann.login("ANN", "pw-of-ann").await.unwrap();
    assert_eq!((session.name.as_str(), session.guest), ("ann", false));
    assert_eq!(ann.token(), session.token);

    // Friends, asked and accepted with the clients' sessions.
    let (st, r) = s
        .call(
            "POST",
            "/api/v1/friends/requests",
            ann.token().as_deref(),
            Some(&json!({"name": "ben"})),
        )
        .await;
    assert_eq!(st, 201, "{r}");
    ben.login("ben", "pw-of-ben").await.unwrap();
    let (st, r) = s
        .call(
            "POST",
            "/api/v1/friends/requests/ann/accept",
            ben.token().as_deref(),
            None,
        )
        .await;
    assert_eq!(st, 204, "{r}");
    let friends = ann.friends().await.unwrap();
    assert_eq!(friends.friends.len(), 1);
    assert_eq!(
        (
            friends.friends[0].name.as_str(),
            friends.friends[0].presence.status.as_str()
        ),
        ("ben", "offline")
    );

    // Ann's live connection carries her session: who she is, her friends, where they are.
    let (tx, mut ann_rx) = mpsc::channel(256);
    let ann_live = Live::start(&ann, tx);
    let url = ann.bases()[0].to_string();
    assert_eq!(
        next(&mut ann_rx).await,
        LiveEvent::Connected { url: url.clone() }
    );
    assert_eq!(
        next(&mut ann_rx).await,
        LiveEvent::Session { name: "ann".into() }
    );
    assert_eq!(
        next(&mut ann_rx).await,
        LiveEvent::Friends {
            names: vec!["ben".into()]
        }
    );
    match next(&mut ann_rx).await {
        LiveEvent::Presence { name, presence } => {
            assert_eq!(
                (name.as_str(), presence.status.as_str()),
                ("ben", "offline")
            );
        }
        other => panic!("expected ben's presence, got {other:?}"),
    }

    // Ben's connection opened without a session carries it after a reconnect.
    ben.set_token(None);
    let (tx, mut ben_rx) = mpsc::channel(256);
    let ben_live = Live::start(&ben, tx);
    assert_eq!(
        next(&mut ben_rx).await,
        LiveEvent::Connected { url: url.clone() }
    );
    ben.login("ben", "pw-of-ben").await.unwrap();
    ben_live.reconnect().unwrap();
    assert_eq!(
        expect(&mut ben_rx, "ben's session", |e| match e {
            LiveEvent::Session { name } => Some(name.clone()),
            _ => None,
        })
        .await,
        "ben"
    );
    expect(&mut ann_rx, "ben online", |e| match e {
        LiveEvent::Presence { name, presence } if name == "ben" && presence.online => Some(()),
        _ => None,
    })
    .await;
    assert!(ann.friends().await.unwrap().friends[0].presence.online);

    // Both enter the lobby as their session and the entry room; answers carry the
    // request numbers.
    for (live, rx, name) in [
        (&ann_live, &mut ann_rx, "ann"),
        (&ben_live, &mut ben_rx, "ben"),
    ] {
        let login = live
            .lobby(LobbyRequest::LobbyLogin { guest: None })
            .unwrap();
        match answer(rx, login).await {
            LobbyMessage::LobbyWelcome { name: welcomed, .. } => assert_eq!(welcomed, name),
            other => panic!("expected a welcome, got {other:?}"),
        }
        let enter = live.lobby(LobbyRequest::Enter { room: 0 }).unwrap();
        assert!(enter > login);
        assert_eq!(
            answer(rx, enter).await,
            LobbyMessage::Result {
                action: "enter".into(),
                code: "ok".into(),
                message: None
            }
        );
    }
    expect(&mut ann_rx, "ben entering the room", |e| match e {
        LiveEvent::Lobby {
            message: LobbyMessage::PlayerEntered { player, .. },
            ..
        } if player.name == "ben" => Some(()),
        _ => None,
    })
    .await;

    let said = ann_live
        .lobby(LobbyRequest::Chat {
            kind: None,
            to: None,
            text: "hello ben".into(),
        })
        .unwrap();
    assert_eq!(
        answer(&mut ann_rx, said).await,
        LobbyMessage::Result {
            action: "chat".into(),
            code: "ok".into(),
            message: None
        }
    );
    let heard = expect(&mut ben_rx, "ann's chat", |e| match e {
        LiveEvent::Lobby {
            request,
            message: message @ LobbyMessage::Chat { .. },
        } => Some((*request, message.clone())),
        _ => None,
    })
    .await;
    assert_eq!(
        heard,
        (
            None,
            LobbyMessage::Chat {
                kind: "normal".into(),
                from: "ann".into(),
                text: Some("hello ben".into())
            }
        )
    );
    let whisper = ben_live
        .lobby(LobbyRequest::Chat {
            kind: Some("private".into()),
            to: Some("ann".into()),
            text: "psst".into(),
        })
        .unwrap();
    assert!(matches!(
        answer(&mut ben_rx, whisper).await,
        LobbyMessage::Result { code, .. } if code == "ok"
    ));
    let heard = expect(&mut ann_rx, "ben's whisper", |e| match e {
        LiveEvent::Lobby {
            message: LobbyMessage::Chat { kind, from, text },
            ..
        } if kind == "private" => Some((from.clone(), text.clone())),
        _ => None,
    })
    .await;
    assert_eq!(heard, ("ben".to_string(), Some("psst".to_string())));

    // Logged out, the token is gone and works no more.
    let token = ann.token().unwrap();
    ann.logout().await.unwrap();
    assert_eq!(ann.token(), None);
    ann.set_token(Some(token));
    match ann.friends().await {
        Err(Error::Server { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (401, "bad_token"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn errors_are_typed() {
    let s = TestServer::start().await;
    s.account("cat").await;
    let game = "client-errors";
    s.announce(server(game, 10, "listed", 1)).await;
    let dead = closed_port();

    // A bad filter is refused before anything travels: a request would fail to connect.
    let nowhere = Client::new(&format!("http://{dead}")).unwrap();
    for bad in ["colour=red", "not_empty=maybe", "limit=lots"] {
        for result in [
            nowhere.servers(bad).await.map(drop),
            nowhere.all_servers(bad).await.map(drop),
        ] {
            assert!(
                matches!(result, Err(Error::Invalid(_))),
                "{bad}: {result:?}"
            );
        }
    }
    for bad in ["", "https://example.org", "127.0.0.1:5680", "http://h/?x=1"] {
        let e = Client::new(bad).unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{bad:?}: {e:?}");
    }

    // Nothing answers.
    let e = nowhere.games().await.unwrap_err();
    assert_eq!(e.code(), "network", "{e:?}");
    assert!(
        matches!(&e, Error::Network { url, .. } if *url == nowhere.bases()[0].to_string()),
        "{e:?}"
    );

    // The server refuses, with its status and code; the dead first base is skipped.
    let client = Client::new(&format!("http://{dead} http://{}", s.addr)).unwrap();
    match client.login("cat", "wrong").await {
        Err(Error::Server { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (401, "bad_credentials"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(client.token(), None);
    match client.friends().await {
        Err(e @ Error::Server { status: 401, .. }) => assert_eq!(e.code(), "unauthenticated"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    match client.profile("nobody").await {
        Err(e @ Error::Server { status: 404, .. }) => assert_eq!(e.code(), "unknown_player"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    match client
        .update_at(1, "0123456789abcdef", "secret", &Default::default())
        .await
    {
        Err(e @ Error::Server { status: 404, .. }) => assert_eq!(e.code(), "not_found"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let listed = client.servers(&format!("game={game}")).await.unwrap();
    assert_eq!(listed.servers.len(), 1);

    // The blocking client, from a thread outside any runtime.
    let urls = format!("http://{dead} http://{}", s.addr);
    let filter = format!("game={game}");
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let run = || -> Result<_, Error> {
            let client = glou_client::blocking::Client::new(&urls)?;
            let names: Vec<String> = client
                .all_servers(&filter)?
                .into_iter()
                .map(|s| s.name.into_owned())
                .collect();
            let refused = client.login("cat", "wrong").unwrap_err();
            let session = client.login("cat", "pw-of-cat")?;
            let friends = client.friends()?;
            Ok((names, refused, session.name, friends.friends.len()))
        };
        let _ = tx.send(run());
    });
    let (names, refused, name, friends) = timeout(WAIT, rx).await.unwrap().unwrap().unwrap();
    assert_eq!(names, ["listed"]);
    assert_eq!(refused.code(), "bad_credentials");
    assert_eq!((name.as_str(), friends), ("cat", 0));
}

#[tokio::test]
async fn reports_feed_rankings_and_profiles() {
    let s = TestServer::start().await;
    for name in ["referee", "hal", "ivy"] {
        s.account(name).await;
    }
    let client = client_of(&s);
    client.login("referee", "pw-of-referee").await.unwrap();
    let player = |name: &str, result: &str, score| ReportedPlayer {
        name: name.into(),
        result: result.into(),
        team: None,
        score,
        kind: None,
    };
    let report = MatchRequest {
        players: vec![player("hal", "win", 3), player("ivy", "loss", 1)],
    };
    match client.report("tictactoe", &report).await {
        Err(e @ Error::Server { status: 403, .. }) => assert_eq!(e.code(), "no_permission"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let store = s.store().await;
    let referee = store.account("referee").await.unwrap().unwrap();
    store
        .set_perms(
            referee.id,
            Perms::REGISTERED.with(Perm::ReportResults, true),
        )
        .await
        .unwrap();
    let played = client.report("tictactoe", &report).await.unwrap();
    assert_eq!(
        (played.game.as_str(), played.winner.as_str()),
        ("tictactoe", "hal")
    );
    let ratings: Vec<_> = played
        .players
        .iter()
        .map(|p| (p.name.as_str(), p.rating_after))
        .collect();
    assert_eq!(ratings, [("hal", Some(1515.0)), ("ivy", Some(1485.0))]);

    let rankings = client.rankings("tictactoe", 0, 10).await.unwrap();
    assert_eq!(rankings.model, "rating");
    let ranked: Vec<_> = rankings
        .rankings
        .iter()
        .map(|r| (r.rank, r.name.as_str(), r.wins, r.losses))
        .collect();
    assert_eq!(ranked, [(1, "hal", 1, 0), (2, "ivy", 0, 1)]);
    let second = client.rankings("tictactoe", 1, 1).await.unwrap();
    assert_eq!(
        second
            .rankings
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["ivy"]
    );

    let hal = client.profile("HAL").await.unwrap();
    assert_eq!(hal.name, "hal");
    let [stats] = &hal.stats[..] else {
        panic!("one game's statistics: {hal:?}");
    };
    assert_eq!(
        (
            stats.game.as_str(),
            stats.wins,
            stats.matches,
            stats.rating,
            stats.rank
        ),
        ("tictactoe", 1, 1, 1515.0, Some(1))
    );
    match client.rankings("no-such-game", 0, 10).await {
        Err(e @ Error::Server { status: 404, .. }) => assert_eq!(e.code(), "unknown_game"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
