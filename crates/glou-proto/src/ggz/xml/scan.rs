//! The lexical layer of the GGZ XML reader: finds where the token at the front of
//! the buffer ends (resumably, so input arriving a byte at a time costs O(n)), parses
//! a complete start tag, and unescapes text. It knows nothing of depth or limits.

use super::XmlError;

/// A complete token at the front of the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Token {
    Text,
    Start { self_closing: bool },
    End,
    Comment,
    Cdata,
    Pi,
}

/// How far the scanner got into an incomplete token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum State {
    #[default]
    Begin,
    Text,
    Lt,
    Bang,
    Comment,
    Cdata,
    Pi,
    EndStart,
    EndName,
    EndAfterName,
    Name,
    BeforeAttr,
    AttrName,
    AfterAttrName,
    BeforeValue,
    Value(u8),
    AfterValue,
    Slash,
}

/// A resumable scan of the token that starts at the front of the buffer.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Scanner {
    pub(super) state: State,
    /// Bytes of the token already examined.
    off: usize,
}

const COMMENT_OPEN: &[u8] = b"<!--";
const CDATA_OPEN: &[u8] = b"<![CDATA[";

impl Scanner {
    /// Scans `window` (the buffer from the token's first byte). `Ok(Some((token,
    /// len)))` when the token is complete, `Ok(None)` when more bytes are needed.
    pub(super) fn scan(&mut self, w: &[u8]) -> Result<Option<(Token, usize)>, XmlError> {
        while self.off < w.len() {
            let done = match self.state {
                State::Text => match w[self.off..].iter().position(|&b| b == b'<') {
                    Some(i) => Some((Token::Text, self.off + i)),
                    None => {
                        self.off = w.len();
                        None
                    }
                },
                State::Bang => {
                    for (open, state) in
                        [(COMMENT_OPEN, State::Comment), (CDATA_OPEN, State::Cdata)]
                    {
                        let n = w.len().min(open.len());
                        if w[..n] == open[..n] {
                            if n < open.len() {
                                return Ok(None);
                            }
                            self.state = state;
                            self.off = n;
                            break;
                        }
                    }
                    if self.state == State::Bang {
                        return Err(bad("expected '<!--' or '<![CDATA[' after '<!'"));
                    }
                    None
                }
                State::Comment => return Ok(self.until(w, b"-->", Token::Comment)),
                State::Cdata => return Ok(self.until(w, b"]]>", Token::Cdata)),
                State::Pi => return Ok(self.until(w, b"?>", Token::Pi)),
                State::Value(quote) => {
                    match w[self.off..].iter().position(|&b| b == quote || b == b'<') {
                        Some(i) if w[self.off + i] == b'<' => {
                            return Err(bad("'<' in an attribute value"));
                        }
                        Some(i) => {
                            self.state = State::AfterValue;
                            self.off += i + 1;
                        }
                        None => self.off = w.len(),
                    }
                    None
                }
                State::Name | State::AttrName | State::EndName if is_name_char(w[self.off]) => {
                    // A run of name characters changes nothing: skip it at once.
                    self.off += w[self.off..]
                        .iter()
                        .take_while(|&&b| is_name_char(b))
                        .count();
                    None
                }
                _ => {
                    let b = w[self.off];
                    self.off += 1;
                    self.step(b)?.map(|token| (token, self.off))
                }
            };
            if let Some(done) = done {
                *self = Scanner::default();
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    /// Searches for `end`; the token is complete just after it.
    fn until(&mut self, w: &[u8], end: &[u8], token: Token) -> Option<(Token, usize)> {
        match w[self.off..].windows(end.len()).position(|x| x == end) {
            Some(i) => {
                let len = self.off + i + end.len();
                *self = Scanner::default();
                Some((token, len))
            }
            None => {
                self.off = self.off.max(w.len().saturating_sub(end.len() - 1));
                None
            }
        }
    }

    /// One byte of a tag (or the first byte of a token).
    fn step(&mut self, b: u8) -> Result<Option<Token>, XmlError> {
        let ws = is_space(b);
        self.state = match self.state {
            State::Begin if b == b'<' => State::Lt,
            State::Begin => {
                // Text: let the fast path look for '<' from here on.
                self.off -= 1;
                State::Text
            }
            State::Lt => match b {
                b'/' => State::EndStart,
                b'?' => State::Pi,
                b'!' => {
                    self.off -= 2;
                    State::Bang
                }
                _ if is_name_start(b) => State::Name,
                _ => return Err(bad("expected a tag name after '<'")),
            },
            State::EndStart if is_name_start(b) => State::EndName,
            State::EndStart => return Err(bad("expected a tag name after '</'")),
            State::EndName | State::EndAfterName if b == b'>' => return Ok(Some(Token::End)),
            State::EndName if is_name_char(b) => State::EndName,
            State::EndName | State::EndAfterName if ws => State::EndAfterName,
            State::EndName | State::EndAfterName => return Err(bad("expected '>' in an end tag")),
            State::Name | State::BeforeAttr | State::AfterValue if b == b'>' => {
                return Ok(Some(Token::Start {
                    self_closing: false,
                }));
            }
            State::Name | State::BeforeAttr | State::AfterValue if b == b'/' => State::Slash,
            State::Name | State::BeforeAttr | State::AfterValue if ws => State::BeforeAttr,
            State::Name if is_name_char(b) => State::Name,
            State::Name => return Err(bad("bad character in a tag name")),
            State::BeforeAttr if is_name_start(b) => State::AttrName,
            State::BeforeAttr => return Err(bad("expected an attribute name")),
            State::AfterValue => return Err(bad("expected a space between attributes")),
            State::AttrName if is_name_char(b) => State::AttrName,
            State::AttrName | State::AfterAttrName if b == b'=' => State::BeforeValue,
            State::AttrName | State::AfterAttrName if ws => State::AfterAttrName,
            State::AttrName | State::AfterAttrName => {
                return Err(bad("expected '=' after an attribute name"));
            }
            State::BeforeValue if ws => State::BeforeValue,
            State::BeforeValue if b == b'\'' || b == b'"' => State::Value(b),
            State::BeforeValue => return Err(bad("expected a quoted attribute value")),
            State::Slash if b == b'>' => {
                return Ok(Some(Token::Start { self_closing: true }));
            }
            State::Slash => return Err(bad("expected '>' after '/'")),
            // Handled by `scan` before reaching here.
            State::Text
            | State::Bang
            | State::Comment
            | State::Cdata
            | State::Pi
            | State::Value(_) => self.state,
        };
        Ok(None)
    }
}

pub(super) fn bad(what: &str) -> XmlError {
    XmlError::BadXml(what.to_string())
}

pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

fn is_name_char(b: u8) -> bool {
    NAME_CHARS[usize::from(b)]
}

const NAME_CHARS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'-' | b'.') || c >= 0x80;
        b += 1;
    }
    table
};

/// The upper-cased name of a complete start or end tag (`<NAME…` / `</NAME…`), and
/// where the name ends.
pub(super) fn tag_name(tag: &[u8]) -> Result<(String, usize), XmlError> {
    let start = if tag.get(1) == Some(&b'/') { 2 } else { 1 };
    let len = tag
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| is_name_char(b))
        .count();
    let name = utf8(&tag[start..start + len])?.to_ascii_uppercase();
    Ok((name, start + len))
}

/// The attributes of a complete, already scanned start tag, from `from` (just after
/// the name): names upper-cased, values unescaped.
pub(super) fn attributes(
    tag: &[u8],
    from: usize,
    max_attrs: usize,
) -> Result<Vec<(String, String)>, XmlError> {
    let mut attrs: Vec<(String, String)> = Vec::new();
    let mut i = from;
    let skip_space = |mut i: usize| {
        while tag.get(i).is_some_and(|&b| is_space(b)) {
            i += 1;
        }
        i
    };
    loop {
        i = skip_space(i);
        match tag.get(i) {
            None | Some(b'/' | b'>') => return Ok(attrs),
            Some(_) => {}
        }
        let name_len = tag[i..].iter().take_while(|&&b| is_name_char(b)).count();
        let name = utf8(&tag[i..i + name_len])?.to_ascii_uppercase();
        i = skip_space(i + name_len);
        if tag.get(i) != Some(&b'=') {
            return Err(bad("expected '=' after an attribute name"));
        }
        i = skip_space(i + 1);
        let Some(&quote) = tag.get(i).filter(|&&q| q == b'\'' || q == b'"') else {
            return Err(bad("expected a quoted attribute value"));
        };
        let Some(len) = tag[i + 1..].iter().position(|&b| b == quote) else {
            return Err(bad("unterminated attribute value"));
        };
        let mut value = String::new();
        unescape_into(&tag[i + 1..i + 1 + len], &mut value)?;
        i += len + 2;
        if attrs.iter().any(|(n, _)| *n == name) {
            return Err(bad("duplicate attribute"));
        }
        if attrs.len() == max_attrs {
            return Err(bad("too many attributes"));
        }
        attrs.push((name, value));
    }
}

/// Checked UTF-8 made of characters XML allows.
pub(super) fn utf8(bytes: &[u8]) -> Result<&str, XmlError> {
    let s = std::str::from_utf8(bytes).map_err(|_| bad("invalid UTF-8"))?;
    let controls = bytes
        .iter()
        .any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'));
    if controls || (!s.is_ascii() && s.contains(['\u{fffe}', '\u{ffff}'])) {
        return Err(bad("a character XML does not allow"));
    }
    Ok(s)
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{fffd}' | '\u{10000}'..)
}

/// Appends text or an attribute value with its entities and character references
/// resolved.
pub(super) fn unescape_into(raw: &[u8], out: &mut String) -> Result<(), XmlError> {
    let mut rest = utf8(raw)?;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        let Some(semi) = rest.find(';').filter(|&n| n <= 10) else {
            return Err(bad("'&' that does not start an entity"));
        };
        let c = match &rest[..semi] {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            "quot" => '"',
            r => {
                let code = match (r.strip_prefix("#x"), r.strip_prefix('#')) {
                    (Some(hex), _) if !hex.starts_with(['+', '-']) => {
                        u32::from_str_radix(hex, 16).ok()
                    }
                    (None, Some(dec)) if !dec.starts_with(['+', '-']) => dec.parse().ok(),
                    _ => return Err(bad("unknown entity")),
                };
                code.and_then(char::from_u32)
                    .filter(|&c| is_xml_char(c))
                    .ok_or_else(|| bad("bad character reference"))?
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(())
}
