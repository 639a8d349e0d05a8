//! Keeps a game server listed on every base URL of a client at once (a server may be
//! listed by its own community and a global one). The game changes what it wants listed
//! whenever it likes; each server is sent only the fields that changed since what it last
//! acknowledged, at most once a second, and a plain heartbeat when nothing changed. An
//! entry the server forgot (it restarted, or the entry expired) is announced again; an
//! unreachable server is retried with backoff while the others carry on.

use std::time::Duration;

use glou_proto::native::{AnnounceRequest, UpdateRequest};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until};

use crate::{Client, Error};

/// Changes made within this time travel together.
pub const MIN_UPDATE_INTERVAL: Duration = Duration::from_secs(1);
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long a withdrawal may take at most.
pub const WITHDRAW_TIMEOUT: Duration = Duration::from_secs(2);

/// What happened to the listing on one server.
#[derive(Clone, Debug, PartialEq)]
pub enum AnnounceEvent {
    /// Listed on `url` as entry `id`.
    Listed { url: String, id: String },
    /// `url` refused or could not be reached; it is retried.
    Failed { url: String, error: Error },
    /// Withdrawn from `url`.
    Withdrawn { url: String },
}

/// A game server being kept listed. Dropping it stops the heartbeats without
/// withdrawing (the entries expire); call [`Announcer::withdraw`] to remove them.
#[derive(Debug)]
pub struct Announcer {
    desired: watch::Sender<AnnounceRequest>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Announcer {
    /// Starts announcing `listing` (its `game`, and an `address` or a `port`) to every
    /// base of `client`, in tasks of the current Tokio runtime.
    pub fn start(
        client: &Client,
        listing: AnnounceRequest,
        events: mpsc::Sender<AnnounceEvent>,
    ) -> Announcer {
        let (desired, _) = watch::channel(listing);
        let (stop, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for base in 0..client.bases().len() {
            let keeper = Keeper {
                client: client.clone(),
                base,
                url: client.bases()[base].to_string(),
                desired: desired.subscribe(),
                stop: stop.subscribe(),
                events: events.clone(),
            };
            tasks.spawn(keeper.run());
        }
        Announcer {
            desired,
            stop,
            tasks,
        }
    }

    /// Changes what is listed; the servers hear of it within a second.
    pub fn update(&self, change: impl FnOnce(&mut AnnounceRequest)) {
        self.desired.send_modify(change);
    }

    /// What is to be listed now.
    pub fn listing(&self) -> AnnounceRequest {
        self.desired.borrow().clone()
    }

    /// Removes the listing from every server (waiting at most [`WITHDRAW_TIMEOUT`]).
    pub async fn withdraw(mut self) {
        let _ = self.stop.send(true);
        let all = async { while self.tasks.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(WITHDRAW_TIMEOUT, all).await;
    }
}

/// One server's copy of the listing.
struct Keeper {
    client: Client,
    base: usize,
    url: String,
    desired: watch::Receiver<AnnounceRequest>,
    stop: watch::Receiver<bool>,
    events: mpsc::Sender<AnnounceEvent>,
}

/// A listing the server acknowledged.
struct Listed {
    id: String,
    secret: String,
    heartbeat: Duration,
    sent: AnnounceRequest,
    last_contact: Instant,
}

impl Keeper {
    async fn run(mut self) {
        let mut listed: Option<Listed> = None;
        let mut backoff = FIRST_BACKOFF;
        loop {
            if *self.stop.borrow() {
                break;
            }
            let Some(entry) = listed.as_mut() else {
                let want = self.desired.borrow_and_update().clone();
                match self.client.announce_at(self.base, &want).await {
                    Ok(reply) => {
                        backoff = FIRST_BACKOFF;
                        let id = reply.server.id.to_string();
                        self.report(AnnounceEvent::Listed {
                            url: self.url.clone(),
                            id: id.clone(),
                        })
                        .await;
                        listed = Some(Listed {
                            id,
                            secret: reply.secret,
                            heartbeat: Duration::from_secs(reply.heartbeat_interval.max(1)),
                            sent: want,
                            last_contact: Instant::now(),
                        });
                    }
                    Err(error) => {
                        self.failed(error).await;
                        if self.pause(&mut backoff).await {
                            break;
                        }
                    }
                }
                continue;
            };
            let due = entry.last_contact + entry.heartbeat;
            tokio::select! {
                changed = self.desired.changed() => {
                    if changed.is_err() {
                        return; // the announcer is gone without a withdrawal
                    }
                    // Let the rest of the game's changes of this moment join this one.
                    let earliest = entry.last_contact + MIN_UPDATE_INTERVAL;
                    tokio::select! {
                        () = sleep_until(earliest) => {}
                        _ = self.stop.changed() => continue,
                    }
                }
                () = sleep_until(due) => {}
                _ = self.stop.changed() => continue,
            }
            let want = self.desired.borrow_and_update().clone();
            let Some(patch) = diff(&entry.sent, &want) else {
                // The game or address changed: a new entry replaces the old one.
                let _ = self
                    .client
                    .withdraw_at(self.base, &entry.id, &entry.secret)
                    .await;
                listed = None;
                continue;
            };
            match self
                .client
                .update_at(self.base, &entry.id, &entry.secret, &patch)
                .await
            {
                Ok(_) => {
                    backoff = FIRST_BACKOFF;
                    entry.sent = want;
                    entry.last_contact = Instant::now();
                }
                Err(Error::Server { status, .. }) if status == 404 || status == 403 => {
                    // Forgotten (a restart, an expiry) or replaced: announce afresh.
                    listed = None;
                }
                Err(error) => {
                    self.failed(error).await;
                    if self.pause(&mut backoff).await {
                        break;
                    }
                }
            }
        }
        if let Some(entry) = listed {
            let gone = self
                .client
                .withdraw_at(self.base, &entry.id, &entry.secret)
                .await;
            if gone.is_ok() {
                self.report(AnnounceEvent::Withdrawn {
                    url: self.url.clone(),
                })
                .await;
            }
        }
    }

    async fn report(&self, event: AnnounceEvent) {
        let _ = self.events.send(event).await;
    }

    async fn failed(&self, error: Error) {
        self.report(AnnounceEvent::Failed {
            url: self.url.clone(),
            error,
        })
        .await;
    }

    /// Waits before a retry; true if told to stop meanwhile.
    async fn pause(&mut self, backoff: &mut Duration) -> bool {
        let wait = *backoff;
        *backoff = (*backoff * 2).min(MAX_BACKOFF);
        tokio::select! {
            () = sleep(wait) => false,
            _ = self.stop.changed() => true,
        }
    }
}

/// The fields of `want` that differ from `sent`, or `None` if the game or address
/// changed (they cannot be updated).
fn diff(sent: &AnnounceRequest, want: &AnnounceRequest) -> Option<UpdateRequest> {
    if (&sent.game, &sent.address, sent.port) != (&want.game, &want.address, want.port) {
        return None;
    }
    fn changed<T: PartialEq + Clone>(a: &T, b: &T) -> Option<T> {
        (a != b).then(|| b.clone())
    }
    Some(UpdateRequest {
        kind: changed(&sent.kind, &want.kind).flatten(),
        name: changed(&sent.name, &want.name),
        map: changed(&sent.map, &want.map),
        players: changed(&sent.players, &want.players),
        max_players: changed(&sent.max_players, &want.max_players),
        bots: changed(&sent.bots, &want.bots),
        password: changed(&sent.password, &want.password),
        version: changed(&sent.version, &want.version),
        protocol: changed(&sent.protocol, &want.protocol),
        rules: changed(&sent.rules, &want.rules),
        player_list: changed(&sent.player_list, &want.player_list),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_travel() {
        let sent = AnnounceRequest {
            game: "oa".into(),
            port: Some(27960),
            name: "A".into(),
            players: 1,
            ..AnnounceRequest::default()
        };
        let mut want = sent.clone();
        assert_eq!(diff(&sent, &want), Some(UpdateRequest::default()));
        want.players = 2;
        want.rules.insert("mode".into(), "ctf".into());
        let patch = diff(&sent, &want).unwrap();
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            serde_json::json!({"players": 2, "rules": {"mode": "ctf"}})
        );
        want.port = Some(27961);
        assert_eq!(diff(&sent, &want), None);
    }
}
