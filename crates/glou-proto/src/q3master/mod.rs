//! The Quake 3 / dpmaster master protocol: connectionless ("out-of-band") UDP
//! datagrams, `\xff\xff\xff\xff` then a text command. Game servers send `heartbeat`
//! and answer the master's `getinfo` with `infoResponse`; clients ask `getservers` /
//! `getserversExt` and get binary address lists. Text is Latin-1 on the wire.
//!
//! Captured from the real OpenArena server and qstat: `../shared/realpeers/README.md`.

use std::net::{IpAddr, SocketAddr};

/// The marker of a connectionless datagram.
pub const OOB: &[u8; 4] = b"\xff\xff\xff\xff";
/// What ends every response datagram (qstat drops the last entry of one without it).
pub const EOT: &[u8; 7] = b"\\EOT\0\0\0";
/// Largest response datagram Glou sends.
pub const MAX_RESPONSE: usize = 1400;
/// Largest datagram Glou reads; anything longer is not a Q3 master message.
pub const MAX_DATAGRAM: usize = 8192;
/// Most key/value pairs in an info string.
pub const MAX_INFO_PAIRS: usize = 128;

/// A decoded datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// `heartbeat <tag>`: a game server asks to be (re)checked.
    Heartbeat { tag: String },
    /// `infoResponse\n\k\v…`: a game server's answer to `getinfo`.
    InfoResponse { info: Info },
    /// `statusResponse\n\k\v…\n<score> <ping> "<name>"…`: the answer to `getstatus`.
    StatusResponse {
        info: Info,
        players: Vec<StatusPlayer>,
    },
    /// `getservers` or `getserversExt`: a client asks for the list.
    GetServers(GetServers),
    /// Any other command (a master ignores `getinfo`, `getstatus`…).
    Unknown { command: String },
}

/// An info string: `\key\value` pairs, in wire order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Info(pub Vec<(String, String)>);

impl Info {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

/// One player line of a `statusResponse`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusPlayer {
    pub score: i64,
    pub ping: u32,
    pub name: String,
}

/// A list request, with dpmaster's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct GetServers {
    /// `getserversExt` (may list IPv6 servers) rather than `getservers`.
    pub extended: bool,
    /// Absent in Quake 3's own request (which means `Quake3Arena`).
    pub gamename: Option<String>,
    pub protocol: u32,
    /// Include servers with no client.
    pub empty: bool,
    /// Include full servers.
    pub full: bool,
    pub gametype: Option<u32>,
    /// Address families asked for (both when neither is named).
    pub ipv4: bool,
    pub ipv6: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not a connectionless datagram")]
    NotOutOfBand,
    #[error("datagram over {MAX_DATAGRAM} bytes")]
    TooLong,
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// Decodes one datagram.
pub fn decode(datagram: &[u8]) -> Result<Message, DecodeError> {
    if datagram.len() > MAX_DATAGRAM {
        return Err(DecodeError::TooLong);
    }
    let body = datagram
        .strip_prefix(OOB)
        .ok_or(DecodeError::NotOutOfBand)?;
    let (line, rest) = match body.iter().position(|&b| b == b'\n') {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let command_end = line
        .iter()
        .position(|&b| b == b' ' || b == b'\\')
        .unwrap_or(line.len());
    let (command, args) = line.split_at(command_end);
    match command {
        b"heartbeat" => Ok(Message::Heartbeat {
            tag: latin1(args).trim().to_string(),
        }),
        b"infoResponse" => Ok(Message::InfoResponse {
            info: info(rest.unwrap_or(args))?,
        }),
        b"statusResponse" => {
            let rest = rest.unwrap_or_default();
            let (info_part, players_part) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, &[][..]),
            };
            Ok(Message::StatusResponse {
                info: info(info_part)?,
                players: players(players_part)?,
            })
        }
        b"getservers" => Ok(Message::GetServers(get_servers(false, &latin1(args))?)),
        b"getserversExt" => Ok(Message::GetServers(get_servers(true, &latin1(args))?)),
        _ => Ok(Message::Unknown {
            command: latin1(command),
        }),
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn info(bytes: &[u8]) -> Result<Info, DecodeError> {
    let text = latin1(bytes);
    let text = text.trim_end_matches(['\n', '\0']);
    let text = text.strip_prefix('\\').unwrap_or(text);
    if text.is_empty() {
        return Ok(Info::default());
    }
    let parts: Vec<&str> = text.split('\\').collect();
    if parts.len() / 2 > MAX_INFO_PAIRS {
        return Err(DecodeError::Malformed("info string: too many keys"));
    }
    // A trailing key without a value is dropped, as the engines do.
    let pairs = parts
        .chunks_exact(2)
        .map(|kv| (kv[0].to_string(), kv[1].to_string()))
        .collect();
    Ok(Info(pairs))
}

fn players(bytes: &[u8]) -> Result<Vec<StatusPlayer>, DecodeError> {
    let text = latin1(bytes);
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut it = line.splitn(3, ' ');
        let bad = || DecodeError::Malformed("status player line");
        let score = it.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let ping = it.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let name = it
            .next()
            .ok_or_else(bad)?
            .trim()
            .trim_matches('"')
            .to_string();
        out.push(StatusPlayer { score, ping, name });
        if out.len() > 256 {
            return Err(DecodeError::Malformed("status: too many players"));
        }
    }
    Ok(out)
}

fn get_servers(extended: bool, args: &str) -> Result<GetServers, DecodeError> {
    let mut words = args.split_whitespace().peekable();
    let mut q = GetServers {
        extended,
        ..GetServers::default()
    };
    let starts_with_number = words
        .peek()
        .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()));
    if extended || !starts_with_number {
        let name = words
            .next()
            .ok_or(DecodeError::Malformed("getservers: missing game name"))?;
        if name.len() > 64 {
            return Err(DecodeError::Malformed("getservers: game name too long"));
        }
        q.gamename = Some(name.to_string());
    }
    q.protocol = words
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or(DecodeError::Malformed("getservers: missing protocol"))?;
    for word in words {
        match word {
            "empty" => q.empty = true,
            "full" => q.full = true,
            "ipv4" => q.ipv4 = true,
            "ipv6" => q.ipv6 = true,
            // Quake 3's own gametype names.
            "ffa" => q.gametype = Some(0),
            "tourney" => q.gametype = Some(1),
            "team" => q.gametype = Some(3),
            "ctf" => q.gametype = Some(4),
            other => {
                if let Some(n) = other.strip_prefix("gametype=").and_then(|n| n.parse().ok()) {
                    q.gametype = Some(n);
                }
                // dpmaster ignores filters it does not know; so does Glou.
            }
        }
    }
    if !q.ipv4 && !q.ipv6 {
        q.ipv4 = true;
        q.ipv6 = extended;
    }
    Ok(q)
}

/// `getinfo <challenge>`, sent to a game server that sent a heartbeat.
pub fn getinfo(challenge: &str) -> Vec<u8> {
    [&OOB[..], b"getinfo ", challenge.as_bytes()].concat()
}

/// `getstatus <challenge>`, to read a game server's player list.
pub fn getstatus(challenge: &str) -> Vec<u8> {
    [&OOB[..], b"getstatus ", challenge.as_bytes()].concat()
}

/// `heartbeat <tag>\n`, as a game server sends it (for load tools and tests).
pub fn heartbeat(tag: &str) -> Vec<u8> {
    [&OOB[..], b"heartbeat ", tag.as_bytes(), b"\n"].concat()
}

/// `infoResponse\n\k\v…` (for load tools and tests).
pub fn info_response(info: &Info) -> Vec<u8> {
    let mut out = [&OOB[..], b"infoResponse\n"].concat();
    for (k, v) in &info.0 {
        out.push(b'\\');
        out.extend(k.chars().map(|c| u8::try_from(c).unwrap_or(b'?')));
        out.push(b'\\');
        out.extend(v.chars().map(|c| u8::try_from(c).unwrap_or(b'?')));
    }
    out
}

/// The response to a list request, split into datagrams of at most
/// [`MAX_RESPONSE`] bytes, each ending with [`EOT`]. IPv6 servers are listed only
/// in answers to `getserversExt`.
pub fn servers_response(extended: bool, servers: &[SocketAddr]) -> Vec<Vec<u8>> {
    let header: &[u8] = if extended {
        b"getserversExtResponse"
    } else {
        b"getserversResponse"
    };
    let mut datagrams = Vec::new();
    let mut current = [&OOB[..], header].concat();
    let start = current.len();
    for addr in servers {
        let len = match addr.ip() {
            IpAddr::V4(_) => 7,
            IpAddr::V6(_) if extended => 19,
            IpAddr::V6(_) => continue,
        };
        if current.len() + len + EOT.len() > MAX_RESPONSE {
            current.extend_from_slice(EOT);
            datagrams.push(std::mem::replace(&mut current, [&OOB[..], header].concat()));
        }
        match addr.ip() {
            IpAddr::V4(ip) => {
                current.push(b'\\');
                current.extend_from_slice(&ip.octets());
            }
            IpAddr::V6(ip) => {
                current.push(b'/');
                current.extend_from_slice(&ip.octets());
            }
        }
        current.extend_from_slice(&addr.port().to_be_bytes());
    }
    if current.len() > start || datagrams.is_empty() {
        current.extend_from_slice(EOT);
        datagrams.push(current);
    }
    datagrams
}

/// A `getservers` request (for load tools and tests).
pub fn get_servers_request(q: &GetServers) -> Vec<u8> {
    let mut text = String::from(if q.extended {
        "getserversExt"
    } else {
        "getservers"
    });
    if let Some(name) = &q.gamename {
        text.push(' ');
        text.push_str(name);
    }
    text.push_str(&format!(" {}", q.protocol));
    for (on, word) in [(q.empty, "empty"), (q.full, "full")] {
        if on {
            text.push(' ');
            text.push_str(word);
        }
    }
    if let Some(g) = q.gametype {
        text.push_str(&format!(" gametype={g}"));
    }
    [&OOB[..], text.as_bytes()].concat()
}

/// Parses the entries of a response datagram (for load tools and tests): binary
/// addresses, never split on `\` since an address byte may be one.
pub fn parse_servers_response(datagram: &[u8]) -> Option<Vec<SocketAddr>> {
    let body = datagram.strip_prefix(OOB)?;
    let mut rest = body
        .strip_prefix(&b"getserversExtResponse"[..])
        .or_else(|| body.strip_prefix(&b"getserversResponse"[..]))?;
    let mut out = Vec::new();
    loop {
        if rest.starts_with(EOT) || rest.is_empty() {
            return Some(out);
        }
        match rest[0] {
            b'\\' if rest.len() >= 7 => {
                let ip: [u8; 4] = rest[1..5].try_into().ok()?;
                out.push(SocketAddr::new(
                    IpAddr::from(ip),
                    u16::from_be_bytes([rest[5], rest[6]]),
                ));
                rest = &rest[7..];
            }
            b'/' if rest.len() >= 19 => {
                let ip: [u8; 16] = rest[1..17].try_into().ok()?;
                out.push(SocketAddr::new(
                    IpAddr::from(ip),
                    u16::from_be_bytes([rest[17], rest[18]]),
                ));
                rest = &rest[19..];
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests;
