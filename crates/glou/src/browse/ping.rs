//! Pinging listed servers over their own protocol, sans-IO: the [`Pinger`] decides what
//! to send and when (only the addresses it is given, at most [`RATE`] pings a second,
//! each one again after [`INTERVAL`], given up after [`TIMEOUT`]) and reads the
//! answers; `now` is always passed in. Quake 3 (`getinfo` → `infoResponse`) and
//! Teeworlds 0.7 (token request → token reply, then `gie3` → `inf3`; the round trip
//! of the info request is the ping) use glou-proto's codecs. [`spawn`] runs it on
//! a UDP socket.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use glou_proto::{q3master, tw07};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// The protocol a server is pinged with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Q3,
    Tw07,
}

/// Pings started per second, at most.
pub const RATE: f64 = 20.0;
/// How long an answer may take.
pub const TIMEOUT: Duration = Duration::from_secs(2);
/// How often a wanted server is pinged again.
pub const INTERVAL: Duration = Duration::from_secs(10);
/// Most addresses wanted at once (a screenful and then some).
pub const MAX_WANTED: usize = 200;

/// The result of one ping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Rtt(Duration),
    Timeout,
}

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub to: SocketAddr,
    pub bytes: Vec<u8>,
}

#[derive(Debug)]
enum Stage {
    /// Waiting for Teeworlds' token reply to our token request.
    Token { since: Instant },
    /// Waiting for the info answer sent at `sent`, which carries `challenge`.
    Info { sent: Instant, challenge: u32 },
    /// Done at `at`: due again after [`INTERVAL`].
    Done { at: Instant },
}

#[derive(Debug)]
struct Probe {
    proto: Proto,
    stage: Stage,
}

/// The ping state of every wanted address.
#[derive(Debug)]
pub struct Pinger {
    /// Our Teeworlds token (the same for every server).
    own: tw07::Token,
    /// Challenges are drawn from this (a counter from a random start).
    next_challenge: u32,
    wanted: Vec<(SocketAddr, Proto)>,
    probes: HashMap<SocketAddr, Probe>,
    /// Token bucket for [`RATE`].
    tokens: f64,
    refilled: Option<Instant>,
}

impl Pinger {
    /// `seed` gives the Teeworlds token and the first challenge (pass something random).
    pub fn new(seed: u64) -> Self {
        let own = (seed >> 32) as u32;
        Pinger {
            own: tw07::Token(if own == tw07::Token::NONE.0 { 1 } else { own }),
            next_challenge: seed as u32,
            wanted: Vec::new(),
            probes: HashMap::new(),
            tokens: RATE,
            refilled: None,
        }
    }

    /// The addresses to keep pinging, most wanted first (at most [`MAX_WANTED`]);
    /// others are forgotten.
    pub fn want(&mut self, targets: impl IntoIterator<Item = (SocketAddr, Proto)>) {
        self.wanted = targets.into_iter().take(MAX_WANTED).collect();
        let wanted = &self.wanted;
        self.probes.retain(|addr, p| {
            wanted
                .iter()
                .any(|(a, proto)| a == addr && *proto == p.proto)
        });
    }

    /// The next datagram to send now, if any is due and the rate allows it.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if let Some(then) = self.refilled {
            let earned = now.saturating_duration_since(then).as_secs_f64() * RATE;
            self.tokens = (self.tokens + earned).min(RATE);
        }
        self.refilled = Some(now);
        if self.tokens < 1.0 {
            return None;
        }
        let due = self.wanted.iter().copied().find(|(addr, _)| {
            match self.probes.get(addr).map(|p| &p.stage) {
                None => true,
                Some(Stage::Done { at }) => now.saturating_duration_since(*at) >= INTERVAL,
                Some(_) => false,
            }
        })?;
        self.tokens -= 1.0;
        let (to, proto) = due;
        let (stage, bytes) = match proto {
            Proto::Q3 => {
                let challenge = self.challenge();
                let bytes = q3master::getinfo(&challenge.to_string());
                (
                    Stage::Info {
                        sent: now,
                        challenge,
                    },
                    bytes,
                )
            }
            Proto::Tw07 => (Stage::Token { since: now }, tw07::token_request(self.own)),
        };
        self.probes.insert(to, Probe { proto, stage });
        Some(Transmit { to, bytes })
    }

    /// Pings that timed out by `now`.
    pub fn poll_timeouts(&mut self, now: Instant) -> Vec<(SocketAddr, Outcome)> {
        let mut out = Vec::new();
        for (addr, probe) in &mut self.probes {
            let started = match probe.stage {
                Stage::Token { since } => since,
                Stage::Info { sent, .. } => sent,
                Stage::Done { .. } => continue,
            };
            if now.saturating_duration_since(started) >= TIMEOUT {
                probe.stage = Stage::Done { at: now };
                out.push((*addr, Outcome::Timeout));
            }
        }
        out
    }

    /// When something is next due (a timeout or a ping again), for sleeping.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.probes
            .values()
            .map(|p| match p.stage {
                Stage::Token { since } => since + TIMEOUT,
                Stage::Info { sent, .. } => sent + TIMEOUT,
                Stage::Done { at } => at + INTERVAL,
            })
            .min()
    }

    /// A datagram from `from`: a ping's result, and for Teeworlds' token reply the info
    /// request to send next. Anything not awaited from that address is ignored.
    pub fn handle(
        &mut self,
        from: SocketAddr,
        datagram: &[u8],
        now: Instant,
    ) -> (Option<Outcome>, Option<Transmit>) {
        let Some(probe) = self.probes.get_mut(&from) else {
            return (None, None);
        };
        match (probe.proto, &probe.stage) {
            (Proto::Q3, Stage::Info { sent, challenge }) => {
                let Ok(q3master::Message::InfoResponse { info }) = q3master::decode(datagram)
                else {
                    return (None, None);
                };
                // Servers echo the challenge; one that leaves it out is believed.
                if info
                    .get("challenge")
                    .is_some_and(|c| c != challenge.to_string())
                {
                    return (None, None);
                }
                let rtt = now.saturating_duration_since(*sent);
                probe.stage = Stage::Done { at: now };
                (Some(Outcome::Rtt(rtt)), None)
            }
            (Proto::Tw07, Stage::Token { .. }) => {
                let Ok(tw07::Packet::TokenReply {
                    token,
                    response_token,
                }) = tw07::decode(datagram)
                else {
                    return (None, None);
                };
                if token != self.own {
                    return (None, None);
                }
                // Never -1 (see glou-proto): a positive i32.
                let challenge = self.next_challenge & 0x7fff_ffff;
                self.next_challenge = self.next_challenge.wrapping_add(1);
                probe.stage = Stage::Info {
                    sent: now,
                    challenge,
                };
                let payload = tw07::Message::GetInfo {
                    token: challenge as i32,
                }
                .encode();
                let bytes = tw07::connless(response_token, self.own, &payload);
                (None, Some(Transmit { to: from, bytes }))
            }
            (Proto::Tw07, Stage::Info { sent, challenge }) => {
                let Ok(tw07::Packet::Connless {
                    token,
                    message: tw07::Message::Info(info),
                    ..
                }) = tw07::decode(datagram)
                else {
                    return (None, None);
                };
                if token != self.own || info.token != *challenge as i32 {
                    return (None, None);
                }
                let rtt = now.saturating_duration_since(*sent);
                probe.stage = Stage::Done { at: now };
                (Some(Outcome::Rtt(rtt)), None)
            }
            _ => (None, None),
        }
    }

    fn challenge(&mut self) -> u32 {
        self.next_challenge = self.next_challenge.wrapping_add(1);
        self.next_challenge
    }
}

/// The running pinger: send it the wanted addresses, read results.
#[derive(Debug)]
pub struct Handle {
    pub want: mpsc::UnboundedSender<Vec<(SocketAddr, Proto)>>,
    pub results: mpsc::UnboundedReceiver<(SocketAddr, Outcome)>,
}

/// Runs a [`Pinger`] on UDP sockets bound to `v4` (and `v6`, for IPv6 servers, when it
/// can be bound) in a task of the current runtime, until the handle is dropped.
pub async fn spawn(v4: SocketAddr, v6: Option<SocketAddr>) -> std::io::Result<Handle> {
    let sock4 = UdpSocket::bind(v4).await?;
    let sock6 = match v6 {
        Some(a) => UdpSocket::bind(a).await.ok(),
        None => None,
    };
    let (want_tx, mut want_rx) = mpsc::unbounded_channel::<Vec<(SocketAddr, Proto)>>();
    let (res_tx, res_rx) = mpsc::unbounded_channel();
    let seed = rand::random::<u64>();
    tokio::spawn(async move {
        let mut pinger = Pinger::new(seed);
        let mut buf4 = vec![0u8; q3master::MAX_DATAGRAM];
        let mut buf6 = vec![0u8; q3master::MAX_DATAGRAM];
        loop {
            let now = Instant::now();
            for result in pinger.poll_timeouts(now) {
                let _ = res_tx.send(result);
            }
            while let Some(t) = pinger.poll_transmit(now) {
                send(&sock4, sock6.as_ref(), &t).await;
            }
            // Wake for the rate limit at most every 50 ms, else at the next deadline.
            let wake = pinger
                .next_deadline()
                .unwrap_or(now + INTERVAL)
                .min(now + Duration::from_millis(50));
            let recv6 = async {
                match &sock6 {
                    Some(s) => s.recv_from(&mut buf6).await.map(|(n, a)| (n, a, true)),
                    None => std::future::pending().await,
                }
            };
            let received = tokio::select! {
                w = want_rx.recv() => match w {
                    Some(w) => { pinger.want(w); None }
                    None => return,
                },
                r = sock4.recv_from(&mut buf4) => r.ok().map(|(n, a)| (n, a, false)),
                r = recv6 => r.ok(),
                _ = tokio::time::sleep_until(wake.into()) => None,
            };
            if let Some((n, from, v6)) = received {
                let bytes = if v6 { &buf6[..n] } else { &buf4[..n] };
                let (outcome, reply) = pinger.handle(from, bytes, Instant::now());
                if let Some(o) = outcome {
                    let _ = res_tx.send((from, o));
                }
                if let Some(t) = reply {
                    send(&sock4, sock6.as_ref(), &t).await;
                }
            }
        }
    });
    Ok(Handle {
        want: want_tx,
        results: res_rx,
    })
}

async fn send(sock4: &UdpSocket, sock6: Option<&UdpSocket>, t: &Transmit) {
    let sock = match (t.to, sock6) {
        (SocketAddr::V6(_), Some(s)) => s,
        (SocketAddr::V6(_), None) => return,
        (SocketAddr::V4(_), _) => sock4,
    };
    let _ = sock.send_to(&t.bytes, t.to).await;
}

#[cfg(test)]
mod tests;
