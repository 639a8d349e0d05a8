//! The Warzone 2100 lobby ("masterserver") protocol as the 4.x games speak it: one TCP
//! connection per peer, NUL-terminated four-letter commands from the peer, big-endian
//! binary replies from the lobby. A host sends `gaId` (answered by a game id), `addg` and
//! a GAMESTRUCT (answered by a [`Status`]), then a bare GAMESTRUCT whenever its game
//! changes (each answered by a [`Status`]) and `keep` every 25 s, and closes the
//! connection when its game starts or ends. A client sends `list` and reads a
//! [`ListReply`]. This module owns the byte formats; who is listed, for how long, and
//! what the lobby checks first, belong to the listener and the core.
//!
//! Captured from the real 4.3.3 game: `../shared/realpeers/README.md` §5. What was not
//! captured (updates, `list`, the reachability probe) follows `lib/netplay/netplay.cpp`.

/// `GAMESTRUCT_VERSION`, the first field of every GAMESTRUCT the 4.x games send.
pub const GAMESTRUCT_VERSION: u32 = 4;
/// Size of a GAMESTRUCT on the wire.
pub const GAMESTRUCT_LEN: usize = 814;
/// `sizeof(SESSIONDESC)`, which hosts put in `dwSize`; clients skip games whose `dwSize` is 0.
pub const SESSIONDESC_SIZE: i32 = 72;
/// Sizes of the fixed C string fields, NUL included (`netplay.h`).
pub const NAME_LEN: usize = 64;
pub const HOST_LEN: usize = 40;
pub const EXTRA_LEN: usize = 157;
pub const MAPNAME_LEN: usize = 40;
pub const HOSTNAME_LEN: usize = 40;
pub const VERSIONSTRING_LEN: usize = 64;
pub const MODLIST_LEN: usize = 255;
/// Most bytes [`Decoder::decode`] ever needs to decide: `addg\0` and a GAMESTRUCT, plus
/// the NUL owed by a bare `list`. When it answers `Ok(None)` it was given fewer.
pub const MAX_COMMAND_LEN: usize = WORD_LEN + 1 + GAMESTRUCT_LEN + 1;

/// Status codes a 4.x game knows: 200 is success; 400 is success with "an upgrade is
/// available"; any other code is an error whose message the game shows.
pub const STATUS_OK: u32 = 200;
pub const STATUS_UPGRADE: u32 = 400;
/// What wzlobbyserver-ng answers when it cannot reach the host's game port.
pub const STATUS_NOT_ACCEPTABLE: u32 = 406;
/// Longest message of the day Glou sends or reads (the game itself takes any length).
pub const MAX_MOTD: usize = 4096;
/// Most games in one list Glou sends or reads.
pub const MAX_LIST_GAMES: usize = 4096;
/// Games in the first batch of a list when there is a second one: older clients read only
/// the first batch and "earlier versions restricted this to no more than 11".
pub const LEGACY_LIST_MAX: usize = 11;
/// Flag of the list's response parameters: a 4.x client drops the first batch.
pub const IGNORE_FIRST_BATCH: u32 = 1;
/// What a lobby sends to a host's game port to see that it is reachable: netcode
/// version 0.0, which a 4.x host answers with [`probe_reply`] and closes.
pub const HOST_PROBE: [u8; 8] = [0; 8];

const WORD_LEN: usize = 4;
const PROBE_MAGIC: &[u8; 4] = b"WZLR";
const PROBE_VERSION: u32 = 1;

const _: () = assert!(
    4 + NAME_LEN
        + SESSIONDESC_SIZE as usize
        + 2 * HOST_LEN
        + EXTRA_LEN
        + 2
        + MAPNAME_LEN
        + HOSTNAME_LEN
        + VERSIONSTRING_LEN
        + MODLIST_LEN
        + 9 * 4
        == GAMESTRUCT_LEN
);
const _: () = assert!(8 + HOST_LEN + 6 * 4 == SESSIONDESC_SIZE as usize);

/// A GAMESTRUCT (version 4): a hosted game as hosts announce it and clients list it.
/// Field names are the C ones. Strings are decoded up to the first NUL, at most one byte
/// short of their field as the game reads them (`sstrcpy`), lossy UTF-8; they are encoded
/// cut at a NUL, truncated to fit at a character boundary, and NUL-padded.
/// `GAMESTRUCT_VERSION` is not a field: it is always [`GAMESTRUCT_VERSION`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GameStruct {
    /// `name[64]`: the game's name.
    pub name: String,
    pub desc: SessionDesc,
    /// `secondaryHosts[2][40]`: more addresses of the host (empty from 4.3.3 hosts).
    pub secondary_hosts: [String; 2],
    /// `extra[157]`: `"Extra"` from 4.x hosts.
    pub extra: String,
    /// `hostPort`: the host's game port.
    pub host_port: u16,
    /// `mapname[40]`.
    pub mapname: String,
    /// `hostname[40]`: the host player's name.
    pub hostname: String,
    /// `versionstring[64]`: e.g. `4.3.3`.
    pub versionstring: String,
    /// `modlist[255]`.
    pub modlist: String,
    /// Netcode version (`0x4000` / `0x4f` from 4.3.3); a client joins only an equal one.
    pub game_version_major: u32,
    pub game_version_minor: u32,
    /// 1 when the game has a password.
    pub private_game: u32,
    /// 1 when the map is a map-mod.
    pub pure_map: u32,
    /// `Mods`: 0 from 4.x hosts.
    pub mods: u32,
    /// The id the lobby gave the host in answer to `gaId`.
    pub game_id: u32,
    /// Bitmask of structure limits.
    pub limits: u32,
    /// The host's platform: `0x6c696e` "lin", `0x77696e` "win", `0x6d6163` "mac".
    pub future3: u32,
    /// Netcode version again, `major << 16 | minor`; clients compare it with their own to
    /// say "an upgrade is available".
    pub future4: u32,
}

/// `SESSIONDESC`, the first part of a GAMESTRUCT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionDesc {
    /// `dwSize`: [`SESSIONDESC_SIZE`] from hosts; clients skip games where it is 0.
    pub dw_size: i32,
    pub dw_flags: i32,
    /// `host[40]`: the host's address. Hosts send it empty; a client that reads it empty
    /// connects to the lobby's own address, so a lobby fills it in.
    pub host: String,
    pub dw_max_players: i32,
    pub dw_current_players: i32,
    /// `dwUserFlags[4]`: game type; spectators (`joined << 16 | slots`); unused; unused.
    pub dw_user_flags: [u32; 4],
}

impl Default for SessionDesc {
    fn default() -> Self {
        SessionDesc {
            dw_size: SESSIONDESC_SIZE,
            dw_flags: 0,
            host: String::new(),
            dw_max_players: 0,
            dw_current_players: 0,
            dw_user_flags: [0; 4],
        }
    }
}

/// What a host or client sends the lobby.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `gaId\0`: a host asks for a game id; answer [`game_id_reply`] within 10 s.
    GameId,
    /// `addg\0` + GAMESTRUCT: a host registers its game; answer a [`Status`] within 10 s.
    AddGame(GameStruct),
    /// A GAMESTRUCT alone, after `addg` on the same connection: the game changed (a
    /// player joined or left, the password was set…). Answer a [`Status`]: the host
    /// drops the connection when none comes within 2.5 s.
    Update(GameStruct),
    /// `keep\0`: the host is alive, every 25 s without updates. No answer.
    KeepAlive,
    /// `list\0`: a client asks for the games; answer a [`ListReply`].
    List,
}

/// A status ("lobby response"): the answer to `addg` and updates, and part of the
/// list. On the wire: code (u32), length (u32), the message's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: u32,
    /// The message of the day, or what went wrong. Encoded cut at a NUL and truncated
    /// to [`MAX_MOTD`] bytes; decoded up to the first NUL, as the game reads it.
    pub message: String,
}

/// The answer to `list`, as a 4.x client reads it (`NETenumerateGames`): a first batch
/// (count, GAMESTRUCTs), a [`Status`], then optionally the response parameters and a
/// second batch. Clients older than the second batch stop after the status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListReply {
    pub first_batch: Vec<GameStruct>,
    pub status: Status,
    pub second_batch: Option<SecondBatch>,
}

/// The 4.x extension of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecondBatch {
    /// Response parameters; [`IGNORE_FIRST_BATCH`] is the only flag.
    pub flags: u32,
    pub games: Vec<GameStruct>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("expected gaId, addg, keep, list or a gamestruct, got {0:?}")]
    UnknownCommand(String),
    #[error("expected a NUL after {0}")]
    MissingNul(&'static str),
    #[error("expected a {GAMESTRUCT_LEN}-byte gamestruct, got {0} bytes")]
    Size(usize),
    #[error("expected gamestruct version {GAMESTRUCT_VERSION}, got {0}")]
    Version(u32),
    #[error("{0} over the limit")]
    TooLong(&'static str),
    #[error("expected {0}, got the end of the stream")]
    Truncated(&'static str),
    #[error("expected a WZLR version 1 reply")]
    NotProbeReply,
}

impl GameStruct {
    /// Decodes exactly one GAMESTRUCT.
    pub fn decode(bytes: &[u8]) -> Result<GameStruct, DecodeError> {
        if bytes.len() != GAMESTRUCT_LEN {
            return Err(DecodeError::Size(bytes.len()));
        }
        let mut r = Reader(bytes);
        let version = r.u32();
        if version != GAMESTRUCT_VERSION {
            return Err(DecodeError::Version(version));
        }
        let name = r.cstr(NAME_LEN);
        let desc = SessionDesc {
            dw_size: r.i32(),
            dw_flags: r.i32(),
            host: r.cstr(HOST_LEN),
            dw_max_players: r.i32(),
            dw_current_players: r.i32(),
            dw_user_flags: [r.u32(), r.u32(), r.u32(), r.u32()],
        };
        Ok(GameStruct {
            name,
            desc,
            secondary_hosts: [r.cstr(HOST_LEN), r.cstr(HOST_LEN)],
            extra: r.cstr(EXTRA_LEN),
            host_port: r.u16(),
            mapname: r.cstr(MAPNAME_LEN),
            hostname: r.cstr(HOSTNAME_LEN),
            versionstring: r.cstr(VERSIONSTRING_LEN),
            modlist: r.cstr(MODLIST_LEN),
            game_version_major: r.u32(),
            game_version_minor: r.u32(),
            private_game: r.u32(),
            pure_map: r.u32(),
            mods: r.u32(),
            game_id: r.u32(),
            limits: r.u32(),
            future3: r.u32(),
            future4: r.u32(),
        })
    }

    /// The [`GAMESTRUCT_LEN`] bytes of this GAMESTRUCT.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(GAMESTRUCT_LEN);
        self.encode_into(&mut out);
        out
    }

    /// Appends the [`GAMESTRUCT_LEN`] bytes of this GAMESTRUCT.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let d = &self.desc;
        out.extend_from_slice(&GAMESTRUCT_VERSION.to_be_bytes());
        put_cstr(out, &self.name, NAME_LEN);
        out.extend_from_slice(&d.dw_size.to_be_bytes());
        out.extend_from_slice(&d.dw_flags.to_be_bytes());
        put_cstr(out, &d.host, HOST_LEN);
        out.extend_from_slice(&d.dw_max_players.to_be_bytes());
        out.extend_from_slice(&d.dw_current_players.to_be_bytes());
        for flag in d.dw_user_flags {
            out.extend_from_slice(&flag.to_be_bytes());
        }
        for host in &self.secondary_hosts {
            put_cstr(out, host, HOST_LEN);
        }
        put_cstr(out, &self.extra, EXTRA_LEN);
        out.extend_from_slice(&self.host_port.to_be_bytes());
        put_cstr(out, &self.mapname, MAPNAME_LEN);
        put_cstr(out, &self.hostname, HOSTNAME_LEN);
        put_cstr(out, &self.versionstring, VERSIONSTRING_LEN);
        put_cstr(out, &self.modlist, MODLIST_LEN);
        for n in [
            self.game_version_major,
            self.game_version_minor,
            self.private_game,
            self.pure_map,
            self.mods,
            self.game_id,
            self.limits,
            self.future3,
            self.future4,
        ] {
            out.extend_from_slice(&n.to_be_bytes());
        }
    }
}

impl Command {
    /// The bytes a host or client sends (for load tools and tests).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Command::GameId => b"gaId\0".to_vec(),
            Command::AddGame(game) => {
                let mut out = b"addg\0".to_vec();
                game.encode_into(&mut out);
                out
            }
            Command::Update(game) => game.encode(),
            Command::KeepAlive => b"keep\0".to_vec(),
            Command::List => b"list\0".to_vec(),
        }
    }
}

/// The incremental decoder of what a peer sends the lobby. Hand it the bytes received
/// and not consumed yet; it never needs more than [`MAX_COMMAND_LEN`] of them.
///
/// It is strict where the game is exact (`gaId`, `addg` and `keep` end with a NUL; a
/// GAMESTRUCT is version 4), so anything else fails within its first few bytes. One
/// leniency: `list` is complete after its four letters (third-party list readers send
/// no NUL); a NUL right after it, in this input or the next, belongs to it. The
/// commands decoded never depend on how the bytes were split.
#[derive(Clone, Debug, Default)]
pub struct Decoder {
    /// A `list` ended the last input: a NUL at the start of this one belongs to it.
    nul_owed: bool,
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    /// The next command and how many bytes of `buf` it took; `Ok(None)` when `buf`
    /// holds only the start of one. An error means the peer does not speak the
    /// protocol: close the connection.
    pub fn decode(&mut self, buf: &[u8]) -> Result<Option<(Command, usize)>, DecodeError> {
        let skip = usize::from(self.nul_owed && buf.first() == Some(&0));
        let rest = &buf[skip..];
        let Some(&first) = rest.first() else {
            return Ok(None);
        };
        let mut owe_nul = false;
        let decoded = if first == 0 {
            gamestruct_prefix(rest)?.map(|game| (Command::Update(game), GAMESTRUCT_LEN))
        } else {
            let head = &rest[..rest.len().min(WORD_LEN)];
            let found = WORDS.iter().find(|(w, _)| w.as_bytes().starts_with(head));
            let Some(&(name, word)) = found else {
                // Up to the first byte no word has there, however much was received.
                let known = WORDS
                    .iter()
                    .map(|(w, _)| w.bytes().zip(head).take_while(|(a, b)| a == *b).count())
                    .max()
                    .unwrap_or(0);
                let seen = &head[..head.len().min(known + 1)];
                return Err(DecodeError::UnknownCommand(seen.escape_ascii().to_string()));
            };
            if rest.len() < WORD_LEN {
                return Ok(None);
            }
            let nul = rest.get(WORD_LEN).copied();
            let len = WORD_LEN + 1;
            match (word, nul) {
                (Word::List, Some(0)) => Some((Command::List, len)),
                (Word::List, other) => {
                    owe_nul = other.is_none();
                    Some((Command::List, WORD_LEN))
                }
                (_, None) => return Ok(None),
                (_, Some(1..)) => return Err(DecodeError::MissingNul(name)),
                (Word::GaId, Some(0)) => Some((Command::GameId, len)),
                (Word::Keep, Some(0)) => Some((Command::KeepAlive, len)),
                (Word::Addg, Some(0)) => gamestruct_prefix(&rest[len..])?
                    .map(|game| (Command::AddGame(game), len + GAMESTRUCT_LEN)),
            }
        };
        Ok(decoded.map(|(command, len)| {
            self.nul_owed = owe_nul;
            (command, skip + len)
        }))
    }
}

/// A GAMESTRUCT at the start of `buf`, `None` if incomplete; its version is checked as
/// soon as its 4 bytes are in.
fn gamestruct_prefix(buf: &[u8]) -> Result<Option<GameStruct>, DecodeError> {
    let Some(version) = buf.first_chunk::<4>() else {
        return Ok(None);
    };
    let version = u32::from_be_bytes(*version);
    if version != GAMESTRUCT_VERSION {
        return Err(DecodeError::Version(version));
    }
    match buf.get(..GAMESTRUCT_LEN) {
        Some(bytes) => GameStruct::decode(bytes).map(Some),
        None => Ok(None),
    }
}

/// The answer to `gaId`: the game id, big-endian.
pub fn game_id_reply(game_id: u32) -> [u8; 4] {
    game_id.to_be_bytes()
}

/// Reads the answer to `gaId` (for load tools and tests): the id and 4, or `None`.
pub fn decode_game_id(buf: &[u8]) -> Option<(u32, usize)> {
    buf.first_chunk::<4>().map(|b| (u32::from_be_bytes(*b), 4))
}

impl Status {
    /// Success, with a message of the day.
    pub fn ok(message: impl Into<String>) -> Status {
        Status {
            code: STATUS_OK,
            message: message.into(),
        }
    }

    /// Whether the game takes it as success (200, or 400 "upgrade available").
    pub fn is_success(&self) -> bool {
        self.code == STATUS_OK || self.code == STATUS_UPGRADE
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let message = truncate(cut_at_nul(&self.message), MAX_MOTD);
        out.extend_from_slice(&self.code.to_be_bytes());
        out.extend_from_slice(&(message.len() as u32).to_be_bytes());
        out.extend_from_slice(message.as_bytes());
    }

    /// A status at the start of `buf` and its length; `Ok(None)` if incomplete.
    pub fn decode(buf: &[u8]) -> Result<Option<(Status, usize)>, DecodeError> {
        let (Some(code), Some(len)) = (be_u32(buf, 0), be_u32(buf, 4)) else {
            return Ok(None);
        };
        let len = len as usize;
        if len > MAX_MOTD {
            return Err(DecodeError::TooLong("message of the day"));
        }
        let Some(message) = buf.get(8..8 + len) else {
            return Ok(None);
        };
        let end = message.iter().position(|&b| b == 0).unwrap_or(len);
        // Cut to fit, as a GAMESTRUCT's strings are (see `cstr`).
        let message = truncate(&String::from_utf8_lossy(&message[..end]), MAX_MOTD).to_owned();
        Ok(Some((Status { code, message }, 8 + len)))
    }
}

impl ListReply {
    /// The list as Glou sends it, read in full by 4.x clients and in part by older ones:
    /// up to [`LEGACY_LIST_MAX`] games in one batch (then an empty second batch), or
    /// the first [`LEGACY_LIST_MAX`] games, then all of them in a second batch that
    /// replaces the first. Games beyond [`MAX_LIST_GAMES`] are left out.
    pub fn new(mut games: Vec<GameStruct>, status: Status) -> ListReply {
        games.truncate(MAX_LIST_GAMES);
        if games.len() <= LEGACY_LIST_MAX {
            ListReply {
                first_batch: games,
                status,
                second_batch: Some(SecondBatch {
                    flags: 0,
                    games: Vec::new(),
                }),
            }
        } else {
            ListReply {
                first_batch: games[..LEGACY_LIST_MAX].to_vec(),
                status,
                second_batch: Some(SecondBatch {
                    flags: IGNORE_FIRST_BATCH,
                    games,
                }),
            }
        }
    }

    /// The games a 4.x client lists: the first batch unless the second replaces it,
    /// then the second, leaving out games whose `dwSize` is 0.
    pub fn games(&self) -> impl Iterator<Item = &GameStruct> {
        let first: &[GameStruct] = match &self.second_batch {
            Some(second) if second.flags & IGNORE_FIRST_BATCH != 0 => &[],
            _ => &self.first_batch,
        };
        let second = self.second_batch.as_ref().map_or(&[][..], |s| &s.games);
        first.iter().chain(second).filter(|g| g.desc.dw_size != 0)
    }

    pub fn encode(&self) -> Vec<u8> {
        let games =
            self.first_batch.len() + self.second_batch.as_ref().map_or(0, |s| s.games.len());
        let mut out = Vec::with_capacity(16 + games * GAMESTRUCT_LEN);
        put_games(&mut out, &self.first_batch);
        self.status.encode_into(&mut out);
        if let Some(second) = &self.second_batch {
            out.extend_from_slice(&second.flags.to_be_bytes());
            put_games(&mut out, &second.games);
        }
        out
    }

    /// Reads a list (for load tools and tests). A lobby without the second batch
    /// sends nothing after the status, so the reply is complete there only once the
    /// connection has closed: pass `closed` then (the game waits 2.5 s instead).
    /// Incomplete input is `Ok(None)`, or [`DecodeError::Truncated`] when `closed`.
    pub fn decode(buf: &[u8], closed: bool) -> Result<Option<(ListReply, usize)>, DecodeError> {
        let incomplete = |what| {
            if closed {
                Err(DecodeError::Truncated(what))
            } else {
                Ok(None)
            }
        };
        let mut pos = 0;
        let Some(first_batch) = games_at(buf, &mut pos)? else {
            return incomplete("a game list");
        };
        let Some((status, len)) = Status::decode(&buf[pos..])? else {
            return incomplete("a lobby status");
        };
        pos += len;
        let Some(flags) = be_u32(buf, pos) else {
            if !closed {
                return Ok(None);
            }
            let reply = ListReply {
                first_batch,
                status,
                second_batch: None,
            };
            return Ok(Some((reply, pos)));
        };
        pos += 4;
        let Some(games) = games_at(buf, &mut pos)? else {
            return incomplete("the second game list");
        };
        let reply = ListReply {
            first_batch,
            status,
            second_batch: Some(SecondBatch { flags, games }),
        };
        Ok(Some((reply, pos)))
    }
}

/// What a 4.x host answers [`HOST_PROBE`] with: `WZLR`, version 1, its game id.
pub fn probe_reply(game_id: u32) -> [u8; 12] {
    let mut out = [0; 12];
    out[..4].copy_from_slice(PROBE_MAGIC);
    out[4..8].copy_from_slice(&PROBE_VERSION.to_be_bytes());
    out[8..].copy_from_slice(&game_id.to_be_bytes());
    out
}

/// Reads a host's answer to [`HOST_PROBE`]: its game id and 12, `Ok(None)` if
/// incomplete.
pub fn decode_probe_reply(buf: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let head = &buf[..buf.len().min(4)];
    if !PROBE_MAGIC.starts_with(head) {
        return Err(DecodeError::NotProbeReply);
    }
    let (Some(version), Some(game_id)) = (be_u32(buf, 4), be_u32(buf, 8)) else {
        return Ok(None);
    };
    if version != PROBE_VERSION {
        return Err(DecodeError::NotProbeReply);
    }
    Ok(Some((game_id, 12)))
}

/// The command words, all [`WORD_LEN`] bytes and followed by a NUL on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Word {
    GaId,
    Addg,
    Keep,
    List,
}

const WORDS: [(&str, Word); 4] = [
    ("gaId", Word::GaId),
    ("addg", Word::Addg),
    ("keep", Word::Keep),
    ("list", Word::List),
];

/// Reads fields in order from a slice known to be long enough.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        match self.0.split_first_chunk::<N>() {
            Some((head, rest)) => {
                self.0 = rest;
                *head
            }
            None => {
                self.0 = &[];
                [0; N]
            }
        }
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take())
    }

    fn i32(&mut self) -> i32 {
        i32::from_be_bytes(self.take())
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take())
    }

    /// A C string field of `len` bytes: up to the first NUL, at most `len - 1` bytes.
    /// Bytes that are not UTF-8 become U+FFFD, which is longer: the text is cut again
    /// to fit the field, so that what is decoded encodes back to itself.
    fn cstr(&mut self, len: usize) -> String {
        let (field, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        let max = field.len().saturating_sub(1);
        let end = field.iter().position(|&b| b == 0).unwrap_or(max).min(max);
        truncate(&String::from_utf8_lossy(&field[..end]), max).to_owned()
    }
}

fn be_u32(buf: &[u8], at: usize) -> Option<u32> {
    buf.get(at..)?
        .first_chunk::<4>()
        .map(|b| u32::from_be_bytes(*b))
}

fn cut_at_nul(s: &str) -> &str {
    s.split('\0').next().unwrap_or_default()
}

/// `s` cut to at most `max` bytes, at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A C string field of `len` bytes: at most `len - 1` bytes of `s`, then NULs.
fn put_cstr(out: &mut Vec<u8>, s: &str, len: usize) {
    let s = truncate(cut_at_nul(s), len - 1);
    out.extend_from_slice(s.as_bytes());
    out.resize(out.len() + len - s.len(), 0);
}

/// A game list: count, then the GAMESTRUCTs.
fn put_games(out: &mut Vec<u8>, games: &[GameStruct]) {
    out.extend_from_slice(&(games.len() as u32).to_be_bytes());
    for game in games {
        game.encode_into(out);
    }
}

/// A game list at `buf[*pos..]`, advancing `pos`; `Ok(None)` if incomplete.
fn games_at(buf: &[u8], pos: &mut usize) -> Result<Option<Vec<GameStruct>>, DecodeError> {
    let Some(count) = be_u32(buf, *pos) else {
        return Ok(None);
    };
    let count = count as usize;
    if count > MAX_LIST_GAMES {
        return Err(DecodeError::TooLong("game list"));
    }
    let start = *pos + 4;
    let Some(bytes) = buf.get(start..start + count * GAMESTRUCT_LEN) else {
        return Ok(None);
    };
    let games = bytes
        .chunks_exact(GAMESTRUCT_LEN)
        .map(GameStruct::decode)
        .collect::<Result<Vec<_>, _>>()?;
    *pos = start + bytes.len();
    Ok(Some(games))
}

#[cfg(test)]
mod tests;
