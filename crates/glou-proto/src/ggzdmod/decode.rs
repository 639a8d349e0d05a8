//! The two incremental ggzdmod decoders: feed any chunks, take complete messages.
//! Total for any input: they never panic, and hold at most one incomplete message
//! (under 34 MB: 1024 report entries of 32 KiB strings) plus what was fed since the
//! last `next`; a length is checked against its limit, never used to reserve memory.
//!
//! Strings are read as libggz reads them, then decoded as UTF-8 with invalid bytes
//! replaced by U+FFFD (a game's Latin-1 log line should not end its table); a NUL
//! inside a string is kept.

use super::{
    ControlMessage, GameResult, GameState, LaunchFormat, LaunchSeat, MAX_ENTRIES, MAX_STRING,
    ReportEntry, SeatType, TableMessage, has_launch_name,
};

/// Why a stream is dead. Every variant is final: the decoder returns it again on
/// every later `next` and ignores further input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown opcode {0}")]
    UnknownOpcode(i32),
    /// The announced length, NUL included (a negative int reads as unsigned, as libggz).
    #[error("string of {0} bytes, expected at most {MAX_STRING}")]
    StringTooLong(usize),
    #[error("bad string, expected a length of at least 1 and a trailing NUL")]
    BadString,
    #[error("bad game state {0}, expected 0 to 3")]
    BadState(u8),
    #[error("bad count {0}, expected 0 to {MAX_ENTRIES}")]
    TooManyEntries(i32),
    #[error("byte {0:#04x} with a passed fd, expected 0x00")]
    BadDummyByte(u8),
}

/// The lobby's reader of a game program's stream ([`TableMessage`]s).
#[derive(Clone, Debug, Default)]
pub struct TableDecoder {
    stream: Stream,
}

/// A game program's reader of the lobby's stream ([`ControlMessage`]s). After a
/// message that [`carries_fd`](ControlMessage::carries_fd), it consumes the 0x00
/// byte sent with the fd before the next message; the caller pairs the fd it
/// received with that message.
#[derive(Clone, Debug)]
pub struct ControlDecoder {
    stream: Stream,
    format: LaunchFormat,
    fd_byte_owed: bool,
}

impl TableDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends input; ignored after an error.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.stream.feed(bytes);
    }

    /// The next complete message; `Ok(None)` when more bytes are needed.
    #[allow(
        clippy::should_implement_trait,
        reason = "a fallible stream, not an Iterator"
    )]
    pub fn next(&mut self) -> Result<Option<TableMessage>, DecodeError> {
        self.stream.next(table_message)
    }

    /// Bytes fed and not yet consumed (non-zero at end of stream: a truncated message).
    pub fn buffered(&self) -> usize {
        self.stream.buffered()
    }
}

impl ControlDecoder {
    pub fn new(format: LaunchFormat) -> Self {
        ControlDecoder {
            stream: Stream::default(),
            format,
            fd_byte_owed: false,
        }
    }

    /// Appends input; ignored after an error.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.stream.feed(bytes);
    }

    /// The next complete message; `Ok(None)` when more bytes are needed.
    #[allow(
        clippy::should_implement_trait,
        reason = "a fallible stream, not an Iterator"
    )]
    pub fn next(&mut self) -> Result<Option<ControlMessage>, DecodeError> {
        if self.fd_byte_owed {
            if self.stream.next(fd_byte)?.is_none() {
                return Ok(None);
            }
            self.fd_byte_owed = false;
        }
        let format = self.format;
        let message = self.stream.next(|c| control_message(c, format))?;
        self.fd_byte_owed = message.as_ref().is_some_and(ControlMessage::carries_fd);
        Ok(message)
    }

    /// Whether the last message's fd byte has not arrived yet.
    pub fn fd_byte_owed(&self) -> bool {
        self.fd_byte_owed
    }

    /// Bytes fed and not yet consumed (non-zero at end of stream: a truncated message).
    pub fn buffered(&self) -> usize {
        self.stream.buffered()
    }
}

/// Buffers above this size are given back once the message that needed them is done.
const KEEP_CAPACITY: usize = 64 * 1024;

/// The buffer shared by both decoders.
#[derive(Clone, Debug, Default)]
struct Stream {
    /// Input; `buf[pos..]` is not consumed yet.
    buf: Vec<u8>,
    pos: usize,
    /// Bytes after `pos` the last incomplete attempt needed: no new attempt before.
    want: usize,
    failed: Option<DecodeError>,
}

/// Why a parse stopped.
enum Stop {
    /// The message needs this many bytes from its start.
    Short(usize),
    Bad(DecodeError),
}

impl From<DecodeError> for Stop {
    fn from(e: DecodeError) -> Stop {
        Stop::Bad(e)
    }
}

impl Stream {
    fn feed(&mut self, bytes: &[u8]) {
        if self.failed.is_some() {
            return;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
            if self.buf.capacity() > KEEP_CAPACITY {
                self.buf.shrink_to(KEEP_CAPACITY.max(self.buf.len()));
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Parses one message at `pos`: first a dry run that only measures (O(fields),
    /// whatever the string sizes), then, once all of it is there, the real one.
    fn next<M>(
        &mut self,
        parse: impl Fn(&mut Cursor<'_>) -> Result<M, Stop>,
    ) -> Result<Option<M>, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.buffered() < self.want.max(1) {
            return Ok(None);
        }
        let input = &self.buf[self.pos..];
        let result = parse(&mut Cursor::new(input, true)).and_then(|_| {
            let mut cursor = Cursor::new(input, false);
            parse(&mut cursor).map(|m| (m, cursor.pos))
        });
        match result {
            Ok((message, len)) => {
                self.pos += len;
                self.want = 0;
                Ok(Some(message))
            }
            Err(Stop::Short(need)) => {
                self.want = need;
                Ok(None)
            }
            Err(Stop::Bad(e)) => {
                self.failed = Some(e.clone());
                self.buf = Vec::new();
                self.pos = 0;
                Err(e)
            }
        }
    }
}

/// A read position in the unconsumed input.
struct Cursor<'a> {
    input: &'a [u8],
    pos: usize,
    /// Measure only: strings come back empty.
    dry: bool,
}

impl<'a> Cursor<'a> {
    fn new(input: &'a [u8], dry: bool) -> Self {
        Cursor { input, pos: 0, dry }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self.pos.saturating_add(n);
        let bytes = self.input.get(self.pos..end).ok_or(Stop::Short(end))?;
        self.pos = end;
        Ok(bytes)
    }

    fn byte(&mut self) -> Result<u8, Stop> {
        Ok(self.take(1)?[0])
    }

    fn word(&mut self) -> Result<[u8; 4], Stop> {
        let mut be = [0; 4];
        be.copy_from_slice(self.take(4)?);
        Ok(be)
    }

    fn int(&mut self) -> Result<i32, Stop> {
        Ok(i32::from_be_bytes(self.word()?))
    }

    /// An entry count, 0 to [`MAX_ENTRIES`].
    fn count(&mut self) -> Result<i32, Stop> {
        let n = self.int()?;
        if !(0..=MAX_ENTRIES).contains(&n) {
            return Err(DecodeError::TooManyEntries(n).into());
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, Stop> {
        let len = u32::from_be_bytes(self.word()?) as usize;
        if len > MAX_STRING {
            return Err(DecodeError::StringTooLong(len).into());
        }
        let bytes = self.take(len)?;
        let Some((0, text)) = bytes.split_last() else {
            return Err(DecodeError::BadString.into());
        };
        if self.dry {
            return Ok(String::new());
        }
        Ok(String::from_utf8_lossy(text).into_owned())
    }
}

fn table_message(c: &mut Cursor<'_>) -> Result<TableMessage, Stop> {
    Ok(match c.int()? {
        0 => TableMessage::Log(c.string()?),
        1 => {
            let state = c.byte()?;
            TableMessage::State(GameState::from_u8(state).ok_or(DecodeError::BadState(state))?)
        }
        2 => TableMessage::NumSeats(c.int()?),
        3 => TableMessage::Boot(c.string()?),
        4 => TableMessage::Bot(c.int()?),
        5 => TableMessage::Open(c.int()?),
        6 => {
            let n = c.count()?;
            let mut entries = Vec::new();
            for _ in 0..n {
                entries.push(ReportEntry {
                    name: c.string()?,
                    seat_type: SeatType::from_i32(c.int()?),
                    team: c.int()?,
                    result: GameResult::from_i32(c.int()?),
                    score: c.int()?,
                });
            }
            TableMessage::Report(entries)
        }
        7 => TableMessage::Savegame(c.string()?),
        op => return Err(DecodeError::UnknownOpcode(op).into()),
    })
}

fn control_message(c: &mut Cursor<'_>, format: LaunchFormat) -> Result<ControlMessage, Stop> {
    Ok(match c.int()? {
        0 => {
            let game = c.string()?;
            let savegame = match format {
                LaunchFormat::Savegame => c.string()?,
                LaunchFormat::Legacy => String::new(),
            };
            let n = c.count()?;
            let spectators = c.int()?;
            let mut seats = Vec::new();
            for _ in 0..n {
                let seat_type = SeatType::from_i32(c.int()?);
                let name = if has_launch_name(seat_type) {
                    Some(c.string()?).filter(|s| !s.is_empty())
                } else {
                    None
                };
                seats.push(LaunchSeat { seat_type, name });
            }
            ControlMessage::Launch {
                game,
                savegame,
                seats,
                spectators,
            }
        }
        1 => ControlMessage::Seat {
            num: c.int()?,
            seat_type: SeatType::from_i32(c.int()?),
            name: c.string()?,
        },
        2 => ControlMessage::Spectator {
            num: c.int()?,
            name: c.string()?,
        },
        3 => ControlMessage::Reseat {
            old: c.int()?,
            was_spectator: c.int()? != 0,
            new: c.int()?,
            is_spectator: c.int()? != 0,
        },
        4 => ControlMessage::StateAck,
        op => return Err(DecodeError::UnknownOpcode(op).into()),
    })
}

/// The 0x00 byte that came with an fd.
fn fd_byte(c: &mut Cursor<'_>) -> Result<(), Stop> {
    match c.byte()? {
        0 => Ok(()),
        b => Err(DecodeError::BadDummyByte(b).into()),
    }
}
