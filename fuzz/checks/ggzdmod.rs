//! Checks for both ggzdmod decoders: any bytes, split into any chunks, decode the same as
//! when fed whole and never panic; every decoded message re-encodes to bytes that
//! decode to the same message, with nothing left over.

use glou_proto::ggzdmod::{ControlDecoder, ControlMessage, LaunchFormat, TableDecoder};

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let format = if seed & 0x80 == 0 {
        LaunchFormat::Savegame
    } else {
        LaunchFormat::Legacy
    };
    let mut state = u32::from(seed) | 0x100;
    let mut chunks = |left: usize| {
        // xorshift32: chunk sizes from 1 to 64 bytes.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state as usize % 64 + 1).min(left)
    };

    let whole = read(input, &mut |left| left, &mut Table(TableDecoder::new()));
    let chunked = read(input, &mut chunks, &mut Table(TableDecoder::new()));
    assert_eq!(whole, chunked);
    for m in &whole.0 {
        let mut bytes = Vec::new();
        m.encode(&mut bytes);
        let again = read(&bytes, &mut |left| left, &mut Table(TableDecoder::new()));
        assert_eq!(again, (vec![m.clone()], None, 0));
    }

    let new = || Control(ControlDecoder::new(format));
    let whole = read(input, &mut |left| left, &mut new());
    let chunked = read(input, &mut chunks, &mut new());
    assert_eq!(whole, chunked);
    for m in &whole.0 {
        let mut bytes = Vec::new();
        m.encode(format, &mut bytes);
        if m.carries_fd() {
            bytes.push(0);
        }
        let again = read(&bytes, &mut |left| left, &mut new());
        assert_eq!(again, (vec![m.clone()], None, 0));
    }
}

/// Messages, the error if any, and the bytes left over.
type Outcome<M> = (Vec<M>, Option<String>, usize);

trait Decoder {
    type Message;
    fn feed(&mut self, bytes: &[u8]);
    fn next(&mut self) -> Result<Option<Self::Message>, String>;
    fn buffered(&self) -> usize;
}

struct Table(TableDecoder);
struct Control(ControlDecoder);

impl Decoder for Table {
    type Message = glou_proto::ggzdmod::TableMessage;
    fn feed(&mut self, bytes: &[u8]) {
        self.0.feed(bytes);
    }
    fn next(&mut self) -> Result<Option<Self::Message>, String> {
        self.0.next().map_err(|e| e.to_string())
    }
    fn buffered(&self) -> usize {
        self.0.buffered()
    }
}

impl Decoder for Control {
    type Message = ControlMessage;
    fn feed(&mut self, bytes: &[u8]) {
        self.0.feed(bytes);
    }
    fn next(&mut self) -> Result<Option<Self::Message>, String> {
        self.0.next().map_err(|e| e.to_string())
    }
    fn buffered(&self) -> usize {
        self.0.buffered()
    }
}

/// Feeds `input` in pieces of `next_len(bytes left)` and drains the decoder after each.
fn read<D: Decoder>(
    input: &[u8],
    next_len: &mut dyn FnMut(usize) -> usize,
    decoder: &mut D,
) -> Outcome<D::Message> {
    let mut messages = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at(next_len(rest.len()).clamp(1, rest.len()));
        rest = tail;
        decoder.feed(piece);
        loop {
            match decoder.next() {
                Ok(Some(m)) => messages.push(m),
                Ok(None) => break,
                Err(e) => return (messages, Some(e), 0),
            }
        }
    }
    (messages, None, decoder.buffered())
}
