//! Checks for the GGZ XML stream reader and the message codecs: any bytes, split into any
//! chunks, read the same as when fed whole and never panic; every decoded client
//! message re-encodes to XML that decodes to the same message; every decoded server
//! message re-encodes to well-formed XML.

use glou_proto::ggz::{
    ClientMessage, Element, Item, Limits, SESSION_START, ServerMessage, XmlError, XmlReader,
    decode_server,
};

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let limits = if seed & 0x80 == 0 {
        Limits::default()
    } else {
        Limits {
            max_element_bytes: 256,
            max_depth: 3,
            max_attrs: 2,
            max_bytes_without_tag: 16,
        }
    };
    let whole = read(limits, input, &mut |_| input.len().max(1));
    let mut state = u32::from(seed) | 0x100;
    let chunked = read(limits, input, &mut |left| {
        // xorshift32: chunk sizes from 1 to 64 bytes.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state as usize % 64 + 1).min(left)
    });
    assert_eq!(whole, chunked);
    for item in &whole.0 {
        if let Item::Element(e) = item {
            check_client(e);
            check_server(e);
        }
    }
}

type Outcome = (Vec<Item>, Option<XmlError>, Vec<u8>);

/// Feeds `input` in pieces of `next_len(bytes left)` and drains the reader after each.
fn read(limits: Limits, input: &[u8], next_len: &mut dyn FnMut(usize) -> usize) -> Outcome {
    let mut reader = XmlReader::new(limits);
    let mut items = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at(next_len(rest.len()).clamp(1, rest.len()));
        rest = tail;
        reader.feed(piece);
        loop {
            match reader.next() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(e) => return (items, Some(e), Vec::new()),
            }
        }
    }
    (items, None, reader.into_remaining())
}

/// The elements of a stream our own encoder wrote; it must be well-formed.
fn reread(xml: &str) -> Vec<Element> {
    let input = if xml.starts_with("<?xml") || xml.starts_with("<SESSION>") {
        xml.to_string()
    } else {
        format!("{SESSION_START}{xml}")
    };
    let limits = Limits {
        max_element_bytes: usize::MAX,
        max_bytes_without_tag: usize::MAX,
        ..Limits::default()
    };
    let mut reader = XmlReader::new(limits);
    reader.feed(input.as_bytes());
    let mut elements = Vec::new();
    loop {
        match reader.next() {
            Ok(Some(Item::Element(e))) => elements.push(e),
            Ok(Some(_)) => {}
            Ok(None) => return elements,
            Err(e) => panic!("{e}: {input}"),
        }
    }
}

fn check_client(e: &Element) {
    let message = ClientMessage::decode(e);
    let mut xml = String::new();
    message.encode(&mut xml);
    let back = reread(&xml);
    assert_eq!(back.len(), 1, "{xml}");
    assert_eq!(ClientMessage::decode(&back[0]), message, "{xml}");
}

fn check_server(e: &Element) {
    let message = decode_server(e);
    let mut xml = String::new();
    message.encode(&mut xml);
    let back = reread(&xml);
    let expected = usize::from(!matches!(message, ServerMessage::SessionEnd));
    assert_eq!(back.len(), expected, "{xml}");
}
