//! The Teeworlds 0.7 master protocol: UDP datagrams of the 0.7 network layer (a 7-byte
//! control header or a 9-byte connectionless header, both carrying 32-bit tokens that
//! stop address spoofing), and the master-server payloads inside the connectionless
//! ones: `cou2`/`siz2` count, `bea2` heartbeat, `fw??`/`fw!!`/`fwok`/`fwer` firewall
//! check, `req2`/`lis2` list, and the game server's own `gie3`/`inf3` info query.
//!
//! This module decodes and encodes datagrams; it leaves the tokens themselves (how
//! they are derived, rotated and checked), the checker socket, expiry and retries to
//! the listener. Connected-mode (game) packets, Huffman compression and the 0.5/0.6
//! protocol are out of scope: they are refused as [`DecodeError::UnexpectedFlags`]
//! or [`DecodeError::WrongVersion`].
//!
//! Captured from the real Teeworlds 0.7.5 server: `../shared/realpeers/README.md` §3;
//! layout from teeworlds 0.7.5 `src/engine/shared/network.h` and `src/mastersrv/`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

/// The port every 0.7 server and client uses for masters (`MASTERSERVER_PORT`; fixed,
/// only the host is configurable).
pub const MASTER_PORT: u16 = 8283;
/// `NET_MAX_PACKETSIZE`: no datagram is longer, in either direction.
pub const MAX_PACKET: usize = 1400;
/// Header of a control packet: flags/ack, ack, chunk count, token.
pub const CONTROL_HEADER: usize = 7;
/// Header of a connectionless packet: flags/version, token, response token.
pub const CONNLESS_HEADER: usize = 9;
/// Longest connectionless payload.
pub const MAX_PAYLOAD: usize = MAX_PACKET - CONNLESS_HEADER;
/// `NET_TOKENREQUEST_DATASIZE`: a token request is answered only if its data (control
/// byte, token and padding) is at least this long, so that a forged request cannot
/// make a peer send more than it received.
pub const TOKEN_REQUEST_MIN_DATA: usize = 512;
/// Length of the token request [`token_request`] sends, as the real peers do.
pub const TOKEN_REQUEST_LEN: usize = CONTROL_HEADER + 1 + TOKEN_REQUEST_MIN_DATA;
/// `MAX_SERVERS_PER_PACKET` of the real master: entries per `lis2` datagram.
pub const MAX_LIST_ENTRIES: usize = 75;
/// `MAX_CLIENTS`: most clients an `inf3` may list.
pub const MAX_CLIENTS: usize = 64;
/// Longest string of an `inf3`, in bytes. The 0.7.5 server sends at most 128
/// (hostname); this leaves room for forks without letting a string run away.
pub const MAX_STRING: usize = 256;
/// Every master payload starts with this, then a 4-byte tag.
pub const OOB: &[u8; 4] = b"\xff\xff\xff\xff";

/// `inf3` server flag: a password is needed to join.
pub const SERVER_FLAG_PASSWORD: i32 = 1;
/// `inf3` server flag: scores are times (race modes).
pub const SERVER_FLAG_TIMESCORE: i32 = 2;
/// `inf3` client flag: a spectator (the 0.7.5 server sends 1 for every non-player).
pub const PLAYER_FLAG_SPECTATOR: i32 = 1;
/// `inf3` client flag: a bot (never set by the 0.7.5 server itself).
pub const PLAYER_FLAG_BOT: i32 = 2;

/// A 32-bit token of the 0.7 network layer. A peer gives each IP address its own
/// token and drops connectionless packets that do not carry it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u32);

impl Token {
    /// `NET_TOKEN_NONE`: "I do not know your token yet". Never a real token.
    pub const NONE: Token = Token(0xffff_ffff);
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({:08x})", self.0)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// A decoded datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    /// Control `TOKEN` (5) addressed to [`Token::NONE`] and padded to at least
    /// [`TOKEN_REQUEST_MIN_DATA`] data bytes: a peer asks for our token. Answer with
    /// [`token_reply`]`(response_token, our token for its IP)`. Unpadded requests are
    /// refused ([`DecodeError::UnpaddedTokenRequest`]), as the real peers ignore them.
    TokenRequest {
        /// The requester's own token.
        response_token: Token,
    },
    /// Control `TOKEN` addressed to a token: the answer to a token request of ours.
    TokenReply {
        /// The token we sent in our request (check it).
        token: Token,
        /// The answering peer's token: address it with this from now on.
        response_token: Token,
    },
    /// Any other control message (keep-alive 0, connect 1, accept 2, close 4…):
    /// nothing a master serves.
    OtherControl { token: Token, ctrl: u8 },
    /// A connectionless packet (`0x21`).
    Connless {
        /// The receiver's token, as the sender knows it (check it).
        token: Token,
        /// The sender's own token: address replies with the latest one received.
        response_token: Token,
        message: Message,
    },
}

/// A master-server payload: [`OOB`], a 4-byte tag, a body. Names are those of
/// teeworlds `mastersrv.h` (`SERVERBROWSE_*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// `cou2`: a server (choosing its master) or a client asks how many are listed.
    GetCount,
    /// `siz2` + count (u16 BE): the master's answer.
    Count(u16),
    /// `bea2` + port (u16 BE): a game server's heartbeat, every 15 s; `port` is the
    /// game port it advertises (`sv_port` or `sv_external_port`).
    Heartbeat { port: u16 },
    /// `fw??`: the master's checker socket asks the game server to answer.
    FwCheck,
    /// `fw!!`: the game server's answer to `fw??`.
    FwResponse,
    /// `fwok`: the master tells the game server it is listed.
    FwOk,
    /// `fwer`: the master tells the game server it could not be reached.
    FwError,
    /// `req2`: a client asks for the list.
    GetList,
    /// `lis2` + entries of a 16-byte IP (IPv4 as `::ffff:a.b.c.d`) and a u16 BE port.
    /// Decoded mapped addresses are IPv4 again.
    List(Vec<SocketAddr>),
    /// `gie3` + varint token: a request for a game server's info. Never send token
    /// -1: the 0.7.5 server then packs its answer into an uninitialised buffer.
    GetInfo { token: i32 },
    /// `inf3`: a game server's info.
    Info(ServerInfo),
    /// Any other tag (`gie3`'s 0.6 cousins, `vers`…).
    Unknown { tag: [u8; 4], body: Vec<u8> },
}

/// An `inf3` body, in wire order. Strings are NUL-terminated on the wire (invalid
/// UTF-8 is replaced); integers are varints. The client count on the wire is
/// `clients.len()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// The `gie3` token this answers.
    pub token: i32,
    /// Game version, e.g. `0.7.5`.
    pub version: String,
    /// `sv_name`.
    pub name: String,
    /// `sv_hostname` (often empty).
    pub hostname: String,
    pub map: String,
    /// e.g. `DM`, `CTF`.
    pub gametype: String,
    /// [`SERVER_FLAG_PASSWORD`], [`SERVER_FLAG_TIMESCORE`].
    pub flags: i32,
    /// `sv_skill_level`: 0 casual, 1 normal, 2 competitive.
    pub skill: i32,
    /// Clients in the game (not spectating).
    pub num_players: i32,
    /// `sv_player_slots`.
    pub max_players: i32,
    /// `sv_max_clients` (players and spectators).
    pub max_clients: i32,
    pub clients: Vec<ClientInfo>,
}

/// One client of an `inf3`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub name: String,
    pub clan: String,
    /// ISO 3166-1 numeric code; -1 = none.
    pub country: i32,
    pub score: i32,
    /// [`PLAYER_FLAG_SPECTATOR`], [`PLAYER_FLAG_BOT`].
    pub player_flags: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("datagram of {0} bytes: expected a header of 7 (control) or 9 (connectionless)")]
    TooShort(usize),
    #[error("datagram over {MAX_PACKET} bytes")]
    TooLong,
    #[error("first byte {0:#04x}: expected a control (0x04) or connectionless (0x21) packet")]
    UnexpectedFlags(u8),
    #[error("connectionless packet of version {0}: expected version 1 (Teeworlds 0.7)")]
    WrongVersion(u8),
    #[error("token request with {0} data bytes: expected at least {TOKEN_REQUEST_MIN_DATA}")]
    UnpaddedTokenRequest(usize),
    #[error("malformed {0}")]
    Malformed(&'static str),
}

const FLAG_CONTROL: u8 = 1;
const FLAG_CONNLESS: u8 = 8;
const VERSION: u8 = 1;
const CTRL_TOKEN: u8 = 5;
const LIST_ENTRY: usize = 18;

/// Decodes one datagram: the network header and, for a connectionless packet, its
/// payload ([`decode_payload`]).
pub fn decode(datagram: &[u8]) -> Result<Packet, DecodeError> {
    if datagram.len() > MAX_PACKET {
        return Err(DecodeError::TooLong);
    }
    if datagram.len() < CONTROL_HEADER {
        return Err(DecodeError::TooShort(datagram.len()));
    }
    let first = datagram[0];
    match first >> 2 {
        FLAG_CONNLESS => {
            if first & 3 != VERSION {
                return Err(DecodeError::WrongVersion(first & 3));
            }
            if datagram.len() < CONNLESS_HEADER {
                return Err(DecodeError::TooShort(datagram.len()));
            }
            Ok(Packet::Connless {
                token: token_at(datagram, 1)?,
                response_token: token_at(datagram, 5)?,
                message: decode_payload(&datagram[CONNLESS_HEADER..])?,
            })
        }
        FLAG_CONTROL => decode_control(datagram),
        _ => Err(DecodeError::UnexpectedFlags(first)),
    }
}

fn decode_control(datagram: &[u8]) -> Result<Packet, DecodeError> {
    // The low bits of the first byte, the second and the third are the ack and the
    // chunk count of connected mode; a token message leaves them at 0.
    if datagram[0] != FLAG_CONTROL << 2 || datagram[1] != 0 || datagram[2] != 0 {
        return Err(DecodeError::Malformed("control header: expected 04 00 00"));
    }
    let token = token_at(datagram, 3)?;
    let data = &datagram[CONTROL_HEADER..];
    let Some((&ctrl, extra)) = data.split_first() else {
        return Err(DecodeError::Malformed("control packet without a message"));
    };
    if ctrl != CTRL_TOKEN {
        return Ok(Packet::OtherControl { token, ctrl });
    }
    let response_token = token_at(extra, 0)
        .map_err(|_| DecodeError::Malformed("token message without the sender's token"))?;
    if token != Token::NONE {
        return Ok(Packet::TokenReply {
            token,
            response_token,
        });
    }
    if data.len() < TOKEN_REQUEST_MIN_DATA {
        return Err(DecodeError::UnpaddedTokenRequest(data.len()));
    }
    Ok(Packet::TokenRequest { response_token })
}

fn token_at(bytes: &[u8], at: usize) -> Result<Token, DecodeError> {
    let b: [u8; 4] = bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .ok_or(DecodeError::Malformed("truncated token"))?;
    Ok(Token(u32::from_be_bytes(b)))
}

/// Decodes a connectionless payload. Fixed-size messages must have their exact size
/// (the real peers compare sizes); `gie3` and `inf3` ignore bytes after their last
/// field, as the real peers do.
pub fn decode_payload(payload: &[u8]) -> Result<Message, DecodeError> {
    if payload.len() > MAX_PAYLOAD {
        return Err(DecodeError::TooLong);
    }
    let (Some(b"\xff\xff\xff\xff"), Some(tag)) = (payload.get(..4), payload.get(4..8)) else {
        return Err(DecodeError::Malformed(
            "connectionless payload: expected \\xff\\xff\\xff\\xff and a 4-byte tag",
        ));
    };
    let body = &payload[8..];
    let empty = |m: Message, what| {
        if body.is_empty() {
            Ok(m)
        } else {
            Err(DecodeError::Malformed(what))
        }
    };
    let u16_body = |what| match body {
        [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
        _ => Err(DecodeError::Malformed(what)),
    };
    match tag {
        b"cou2" => empty(Message::GetCount, "cou2: expected no body"),
        b"siz2" => Ok(Message::Count(u16_body("siz2: expected a 2-byte count")?)),
        b"bea2" => Ok(Message::Heartbeat {
            port: u16_body("bea2: expected a 2-byte port")?,
        }),
        b"fw??" => empty(Message::FwCheck, "fw??: expected no body"),
        b"fw!!" => empty(Message::FwResponse, "fw!!: expected no body"),
        b"fwok" => empty(Message::FwOk, "fwok: expected no body"),
        b"fwer" => empty(Message::FwError, "fwer: expected no body"),
        b"req2" => empty(Message::GetList, "req2: expected no body"),
        b"lis2" => decode_list(body).map(Message::List),
        b"gie3" => {
            let mut r = Reader {
                bytes: body,
                pos: 0,
            };
            Ok(Message::GetInfo {
                token: r.int("gie3: truncated token")?,
            })
        }
        b"inf3" => decode_info(body).map(Message::Info),
        _ => Ok(Message::Unknown {
            tag: [tag[0], tag[1], tag[2], tag[3]],
            body: body.to_vec(),
        }),
    }
}

fn decode_list(body: &[u8]) -> Result<Vec<SocketAddr>, DecodeError> {
    if !body.len().is_multiple_of(LIST_ENTRY) {
        return Err(DecodeError::Malformed(
            "lis2: expected entries of 18 bytes (16-byte IP, 2-byte port)",
        ));
    }
    let mut out = Vec::with_capacity(body.len() / LIST_ENTRY);
    for entry in body.chunks_exact(LIST_ENTRY) {
        let mut ip = [0; 16];
        ip.copy_from_slice(&entry[..16]);
        let ip = Ipv6Addr::from(ip);
        let ip = match ip.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(ip),
        };
        out.push(SocketAddr::new(
            ip,
            u16::from_be_bytes([entry[16], entry[17]]),
        ));
    }
    Ok(out)
}

fn decode_info(body: &[u8]) -> Result<ServerInfo, DecodeError> {
    let mut r = Reader {
        bytes: body,
        pos: 0,
    };
    let mut info = ServerInfo {
        token: r.int("inf3: truncated token")?,
        version: r.string("inf3: version without NUL")?,
        name: r.string("inf3: name without NUL")?,
        hostname: r.string("inf3: hostname without NUL")?,
        map: r.string("inf3: map without NUL")?,
        gametype: r.string("inf3: game type without NUL")?,
        flags: r.int("inf3: truncated flags")?,
        skill: r.int("inf3: truncated skill level")?,
        num_players: r.int("inf3: truncated player count")?,
        max_players: r.int("inf3: truncated player slots")?,
        ..ServerInfo::default()
    };
    let num_clients = r.int("inf3: truncated client count")?;
    info.max_clients = r.int("inf3: truncated client slots")?;
    let num_clients = usize::try_from(num_clients)
        .ok()
        .filter(|&n| n <= MAX_CLIENTS)
        .ok_or(DecodeError::Malformed("inf3: client count not in 0..=64"))?;
    info.clients.reserve(num_clients);
    for _ in 0..num_clients {
        info.clients.push(ClientInfo {
            name: r.string("inf3: client name without NUL")?,
            clan: r.string("inf3: client clan without NUL")?,
            country: r.int("inf3: truncated client country")?,
            score: r.int("inf3: truncated client score")?,
            player_flags: r.int("inf3: truncated client flags")?,
        });
    }
    Ok(info)
}

/// A cursor over a body of varints and NUL-terminated strings (teeworlds `CUnpacker`).
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    /// A varint (teeworlds `CVariableInt`): the first byte holds an extension bit,
    /// the sign bit and 6 bits; each further byte an extension bit and 7 bits, at most
    /// 4 of them. A negative value is sent as its complement.
    fn int(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        let mut next = || {
            let b = self.bytes.get(self.pos).copied();
            self.pos += 1;
            b.ok_or(DecodeError::Malformed(what))
        };
        let first = next()?;
        let mut value = u32::from(first & 0x3f);
        let mut byte = first;
        let mut shift = 6;
        while byte & 0x80 != 0 && shift <= 27 {
            byte = next()?;
            // Bits past 32 (only in a 5-byte varint) are dropped, as the engine does.
            value |= u32::from(byte & 0x7f) << shift;
            shift += 7;
        }
        let value = value as i32;
        Ok(if first & 0x40 != 0 { !value } else { value })
    }

    /// A NUL-terminated string of at most [`MAX_STRING`] bytes; `what` names it when
    /// its NUL is missing.
    fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let window = &rest[..rest.len().min(MAX_STRING + 1)];
        let Some(len) = window.iter().position(|&b| b == 0) else {
            return Err(DecodeError::Malformed(if rest.len() > MAX_STRING {
                "inf3: string over 256 bytes"
            } else {
                what
            }));
        };
        self.pos += len + 1;
        Ok(String::from_utf8_lossy(&rest[..len]).into_owned())
    }
}

fn put_int(out: &mut Vec<u8>, value: i32) {
    let sign = if value < 0 { 0x40 } else { 0 };
    // The complement of a negative value, then 6 bits, then groups of 7.
    let mut rest = (value ^ (value >> 31)) as u32;
    let mut byte = sign | (rest & 0x3f) as u8;
    rest >>= 6;
    while rest != 0 {
        out.push(byte | 0x80);
        byte = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(byte);
}

/// Writes `s` up to its first NUL, cut to [`MAX_STRING`] bytes on a character
/// boundary, then a NUL.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let s = s.split('\0').next().unwrap_or_default();
    let mut end = s.len().min(MAX_STRING);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    out.extend_from_slice(&s.as_bytes()[..end]);
    out.push(0);
}

impl Message {
    /// The connectionless payload. Every payload fits [`MAX_PAYLOAD`] except a
    /// [`Message::List`] of more than 76 entries (split lists with [`list_payloads`]);
    /// an [`Message::Info`] leaves out the clients that would not fit.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = OOB.to_vec();
        match self {
            Message::GetCount => out.extend_from_slice(b"cou2"),
            Message::Count(n) => {
                out.extend_from_slice(b"siz2");
                out.extend_from_slice(&n.to_be_bytes());
            }
            Message::Heartbeat { port } => {
                out.extend_from_slice(b"bea2");
                out.extend_from_slice(&port.to_be_bytes());
            }
            Message::FwCheck => out.extend_from_slice(b"fw??"),
            Message::FwResponse => out.extend_from_slice(b"fw!!"),
            Message::FwOk => out.extend_from_slice(b"fwok"),
            Message::FwError => out.extend_from_slice(b"fwer"),
            Message::GetList => out.extend_from_slice(b"req2"),
            Message::List(servers) => {
                out.extend_from_slice(b"lis2");
                for addr in servers {
                    let ip = match addr.ip() {
                        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                        IpAddr::V6(v6) => v6,
                    };
                    out.extend_from_slice(&ip.octets());
                    out.extend_from_slice(&addr.port().to_be_bytes());
                }
            }
            Message::GetInfo { token } => {
                out.extend_from_slice(b"gie3");
                put_int(&mut out, *token);
            }
            Message::Info(info) => encode_info(&mut out, info),
            Message::Unknown { tag, body } => {
                out.extend_from_slice(tag);
                out.extend_from_slice(body);
            }
        }
        out
    }
}

fn encode_info(out: &mut Vec<u8>, info: &ServerInfo) {
    out.extend_from_slice(b"inf3");
    put_int(out, info.token);
    for s in [
        &info.version,
        &info.name,
        &info.hostname,
        &info.map,
        &info.gametype,
    ] {
        put_str(out, s);
    }
    for n in [info.flags, info.skill, info.num_players, info.max_players] {
        put_int(out, n);
    }
    // The two counts take at most 10 bytes; the header at most 1,328 (five strings of
    // 257), so some room is always left for clients.
    let budget = MAX_PAYLOAD.saturating_sub(out.len() + 10);
    let mut clients = Vec::new();
    let mut count = 0;
    for c in info.clients.iter().take(MAX_CLIENTS) {
        let mut one = Vec::new();
        put_str(&mut one, &c.name);
        put_str(&mut one, &c.clan);
        put_int(&mut one, c.country);
        put_int(&mut one, c.score);
        put_int(&mut one, c.player_flags);
        if clients.len() + one.len() > budget {
            break;
        }
        clients.extend_from_slice(&one);
        count += 1;
    }
    put_int(out, count);
    put_int(out, info.max_clients);
    out.extend_from_slice(&clients);
}

impl ServerInfo {
    /// Whether the counts hold together the way the 0.7.5 client requires before it
    /// shows a server: 0 ≤ players ≤ clients ≤ client slots ≤ 64, players ≤ player
    /// slots ≤ client slots.
    pub fn is_plausible(&self) -> bool {
        let clients = i32::try_from(self.clients.len()).unwrap_or(i32::MAX);
        (0..=MAX_CLIENTS as i32).contains(&self.max_clients)
            && clients <= self.max_clients
            && (0..=clients).contains(&self.num_players)
            && (self.num_players..=self.max_clients).contains(&self.max_players)
    }
}

impl Packet {
    /// The datagram (the inverse of [`decode`]; an [`Packet::OtherControl`] is sent
    /// without the bytes after its control byte).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Packet::TokenRequest { response_token } => token_request(*response_token),
            Packet::TokenReply {
                token,
                response_token,
            } => token_reply(*token, *response_token),
            Packet::OtherControl { token, ctrl } => {
                let mut out = control_header(*token);
                out.push(*ctrl);
                out
            }
            Packet::Connless {
                token,
                response_token,
                message,
            } => connless(*token, *response_token, &message.encode()),
        }
    }
}

fn control_header(token: Token) -> Vec<u8> {
    let mut out = Vec::with_capacity(TOKEN_REQUEST_LEN);
    out.extend_from_slice(&[FLAG_CONTROL << 2, 0, 0]);
    out.extend_from_slice(&token.0.to_be_bytes());
    out
}

/// A token request (520 bytes): control `TOKEN` to [`Token::NONE`] carrying `own`,
/// zero-padded so that the peer answers it.
pub fn token_request(own: Token) -> Vec<u8> {
    let mut out = control_header(Token::NONE);
    out.push(CTRL_TOKEN);
    out.extend_from_slice(&own.0.to_be_bytes());
    out.resize(TOKEN_REQUEST_LEN, 0);
    out
}

/// The answer to a token request (12 bytes): control `TOKEN` addressed to the
/// requester's token `peer`, carrying our token for its IP, `own`.
pub fn token_reply(peer: Token, own: Token) -> Vec<u8> {
    let mut out = control_header(peer);
    out.push(CTRL_TOKEN);
    out.extend_from_slice(&own.0.to_be_bytes());
    out
}

/// A connectionless datagram: `0x21`, the receiver's token `peer` (the latest
/// response token it sent), our token for its IP `own`, the payload. Peers drop
/// datagrams over [`MAX_PACKET`]: keep `payload` within [`MAX_PAYLOAD`].
pub fn connless(peer: Token, own: Token, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(CONNLESS_HEADER + payload.len());
    out.push(FLAG_CONNLESS << 2 | VERSION);
    out.extend_from_slice(&peer.0.to_be_bytes());
    out.extend_from_slice(&own.0.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The `lis2` payloads answering a `req2`: [`MAX_LIST_ENTRIES`] servers each, IPv4
/// as `::ffff:a.b.c.d`. An empty list gives one empty `lis2` (the real master sends
/// nothing then; the 0.7 client reads it as no entries).
pub fn list_payloads(servers: &[SocketAddr]) -> Vec<Vec<u8>> {
    if servers.is_empty() {
        return vec![Message::List(Vec::new()).encode()];
    }
    servers
        .chunks(MAX_LIST_ENTRIES)
        .map(|chunk| Message::List(chunk.to_vec()).encode())
        .collect()
}

#[cfg(test)]
mod tests;
