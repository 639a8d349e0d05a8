//! Checks for the lines of a federation link (`glou_proto::federation`): any bytes
//! decode to a message, a welcome or an error, never a panic; what decodes encodes to
//! one line (a newline at its end and nowhere else) that decodes to the same value.
//! The round trip holds by design: both types derive serde over plain strings,
//! numbers, options and maps, with unknown fields refused.

use glou_proto::federation::{MAX_LINE, Message, Welcome};

/// Panics if `data` breaks a property above.
pub fn run(data: &[u8]) {
    if let Ok(message) = Message::decode(data)
        && let Some(line) = one_line(&message.encode())
    {
        assert_eq!(
            Message::decode(line).expect("our own line decodes"),
            message
        );
    }
    if let Ok(welcome) = Welcome::decode(data)
        && let Some(line) = one_line(&welcome.encode())
    {
        assert_eq!(
            Welcome::decode(line).expect("our own line decodes"),
            welcome
        );
    }
}

/// An encoded line without its newline, or `None` when it is over the limit (defaults
/// are written out, so a line just under it may encode over it).
fn one_line(encoded: &[u8]) -> Option<&[u8]> {
    let line = encoded
        .strip_suffix(b"\n")
        .expect("a line ends with a newline");
    assert!(!line.contains(&b'\n'), "one line: {line:?}");
    (line.len() <= MAX_LINE).then_some(line)
}
