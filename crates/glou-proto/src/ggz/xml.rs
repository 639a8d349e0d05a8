//! An incremental, bounded reader for one direction of a GGZ session: `<?xml …?>`,
//! `<SESSION>`, then top-level elements, each handed out whole when its end tag
//! arrives, then `</SESSION>`. Total for any input: it never panics, never holds more
//! than one element's worth of bytes (plus what was fed since the last [`next`]), and
//! decides "too long" as soon as the limit is passed.
//!
//! A practical subset of XML 1.0, as GGZ peers write it: no DOCTYPE, no entities
//! beyond the five predefined ones and character references, no line-ending or
//! attribute-value normalisation (text arrives as sent).
//!
//! [`next`]: XmlReader::next

mod scan;

use scan::{Scanner, Token, bad, is_space};

/// Limits on what one peer may make the reader hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest top-level element: its bytes as read, plus the fixed size of each
    /// decoded element and attribute (so the decoded tree stays proportionate too).
    pub max_element_bytes: usize,
    /// Deepest nesting, counting `<SESSION>` as 1 (a top-level element is at 2).
    pub max_depth: usize,
    /// Most attributes on one element.
    pub max_attrs: usize,
    /// Most bytes outside any element (text, comments, processing instructions
    /// directly under `<SESSION>` or before it) between two tags: ggzd's
    /// `MAX_CHAT_LEN` rule against a peer that never sends a tag.
    pub max_bytes_without_tag: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_element_bytes: 16 * 1024,
            max_depth: 8,
            max_attrs: 32,
            max_bytes_without_tag: super::MAX_CHAT_LEN,
        }
    }
}

/// A decoded element with its subtree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// The tag name, ASCII upper-cased.
    pub name: String,
    /// Attributes in document order: names ASCII upper-cased, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// This element's own text and CDATA, concatenated and unescaped (children's
    /// text is in the children).
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The value of an attribute, name compared case-insensitively.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first child with this name (case-insensitive).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The last child with this name: ggzd keeps the last of repeated `<NAME>`,
    /// `<TABLE>`, `<DESC>` … children.
    pub fn last_child(&self, name: &str) -> Option<&Element> {
        self.children
            .iter()
            .rev()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// What the reader hands out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// `<SESSION>` was opened.
    SessionStart,
    /// A complete top-level element.
    Element(Element),
    /// `</SESSION>`: the reader stops here and keeps the rest for `into_remaining`.
    SessionEnd,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed (ggzd answers `CODE='bad xml'`).
    #[error("bad xml: {0}")]
    BadXml(String),
    /// Over a size limit (ggzd answers `CODE='bad options'`).
    #[error("xml over the size limit")]
    TooLong,
}

/// Buffers above this size are given back once the element that needed them is done.
const KEEP_CAPACITY: usize = 4096;
/// What one decoded element and one attribute cost against `max_element_bytes`.
const ELEMENT_COST: usize = size_of::<Element>();
const ATTR_COST: usize = size_of::<(String, String)>();

#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    /// Before `<SESSION>`.
    Prolog,
    InSession,
    /// `<SESSION/>` was read: `SessionEnd` is owed.
    EndOwed,
    Done,
    Failed(XmlError),
}

/// The reader; see the module documentation.
#[derive(Clone, Debug)]
pub struct XmlReader {
    limits: Limits,
    phase: Phase,
    /// Input; `buf[pos..]` is not consumed yet.
    buf: Vec<u8>,
    pos: usize,
    scanner: Scanner,
    /// Open elements of the current top-level element (`stack[0]` is that element).
    stack: Vec<Element>,
    /// Cost of the current top-level element so far.
    element_cost: usize,
    /// Bytes outside elements since the last tag.
    untagged: usize,
}

impl XmlReader {
    pub fn new(limits: Limits) -> Self {
        XmlReader {
            limits,
            phase: Phase::Prolog,
            buf: Vec::new(),
            pos: 0,
            scanner: Scanner::default(),
            stack: Vec::new(),
            element_cost: 0,
            untagged: 0,
        }
    }

    /// Appends input. Call [`next`](Self::next) until it returns `Ok(None)` before
    /// feeding more: the reader only bounds what it has looked at. After
    /// `SessionEnd` the bytes are kept, unbounded, for `into_remaining`: stop reading
    /// the socket then. After an error they are dropped.
    pub fn feed(&mut self, bytes: &[u8]) {
        if matches!(self.phase, Phase::Failed(_)) {
            return;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next item; `Ok(None)` when more bytes are needed (and forever after
    /// `SessionEnd`). An error is final: every later call returns it again.
    #[allow(
        clippy::should_implement_trait,
        reason = "a fallible stream, not an Iterator"
    )]
    pub fn next(&mut self) -> Result<Option<Item>, XmlError> {
        match self.step() {
            Err(e) => {
                self.phase = Phase::Failed(e.clone());
                self.buf = Vec::new();
                self.pos = 0;
                self.stack = Vec::new();
                Err(e)
            }
            Ok(item) => {
                if matches!(item, Some(Item::Element(_))) && self.buf.capacity() > KEEP_CAPACITY {
                    self.buf.drain(..self.pos);
                    self.pos = 0;
                    self.buf.shrink_to(KEEP_CAPACITY.max(self.buf.len()));
                }
                Ok(item)
            }
        }
    }

    /// The bytes after `</SESSION>` (all unread input if the session did not end):
    /// on a CHANNEL connection they belong to the game.
    pub fn into_remaining(mut self) -> Vec<u8> {
        self.buf.split_off(self.pos.min(self.buf.len()))
    }

    /// Takes out the bytes not read yet; the reader goes on with what it is fed next.
    /// Called after an element was returned, it cuts the stream there: after
    /// `<TLS_START/>` the rest is the start of the client's TLS handshake.
    pub fn take_unread(&mut self) -> Vec<u8> {
        let rest = self.buf.split_off(self.pos.min(self.buf.len()));
        self.buf.clear();
        self.pos = 0;
        self.scanner = Scanner::default();
        rest
    }

    fn step(&mut self) -> Result<Option<Item>, XmlError> {
        loop {
            match &self.phase {
                Phase::Failed(e) => return Err(e.clone()),
                Phase::Done => return Ok(None),
                Phase::EndOwed => {
                    self.phase = Phase::Done;
                    return Ok(Some(Item::SessionEnd));
                }
                Phase::Prolog | Phase::InSession => {}
            }
            let allowance = self.allowance();
            let end = self
                .buf
                .len()
                .min(self.pos.saturating_add(allowance).saturating_add(1));
            let Some((token, len)) = self.scanner.scan(&self.buf[self.pos..end])? else {
                if end - self.pos > allowance {
                    return Err(XmlError::TooLong);
                }
                return Ok(None);
            };
            let start = self.pos;
            self.pos += len;
            if let Some(item) = self.token(token, start, len)? {
                return Ok(Some(item));
            }
        }
    }

    /// How many bytes the token at `pos` may take.
    fn allowance(&self) -> usize {
        let in_element = !self.stack.is_empty();
        let rest = &self.buf[self.pos..];
        let tag = match rest {
            [b'<', b'!' | b'?', ..] => false,
            [b'<', ..] => true,
            _ => false,
        };
        if in_element || tag {
            self.limits
                .max_element_bytes
                .saturating_sub(self.element_cost)
        } else {
            self.limits
                .max_bytes_without_tag
                .saturating_sub(self.untagged)
        }
    }

    /// Handles the complete token `buf[start..start + len]`.
    fn token(&mut self, token: Token, start: usize, len: usize) -> Result<Option<Item>, XmlError> {
        if !self.stack.is_empty() || matches!(token, Token::Start { .. }) {
            self.element_cost += len;
        } else if !matches!(token, Token::End) {
            self.untagged += len;
        }
        self.check_limits()?;
        let raw = &self.buf[start..start + len];
        match token {
            Token::Comment => {
                scan::utf8(&raw[4..len - 3])?;
            }
            Token::Pi => {
                scan::utf8(&raw[2..len - 2])?;
            }
            Token::Text | Token::Cdata => {
                let cdata = token == Token::Cdata;
                let body = if cdata { &raw[9..len - 3] } else { raw };
                match self.stack.last_mut() {
                    Some(top) if cdata => top.text.push_str(scan::utf8(body)?),
                    Some(top) => scan::unescape_into(body, &mut top.text)?,
                    None if cdata && self.phase == Phase::Prolog => {
                        return Err(bad("CDATA before <SESSION>"));
                    }
                    None if cdata => {
                        scan::utf8(body)?;
                    }
                    None if body.iter().all(|&b| is_space(b)) => {}
                    None if self.phase == Phase::Prolog => {
                        return Err(bad("text before <SESSION>"));
                    }
                    None => scan::unescape_into(body, &mut String::new())?,
                }
            }
            Token::Start { self_closing } => {
                self.untagged = 0;
                let (name, name_end) = scan::tag_name(raw)?;
                let attrs = scan::attributes(raw, name_end, self.limits.max_attrs)?;
                if self.phase == Phase::Prolog {
                    if name != "SESSION" {
                        return Err(bad("expected <SESSION>"));
                    }
                    self.element_cost = 0;
                    self.phase = if self_closing {
                        Phase::EndOwed
                    } else {
                        Phase::InSession
                    };
                    return Ok(Some(Item::SessionStart));
                }
                if self.stack.len() + 2 > self.limits.max_depth {
                    return Err(bad("elements nested too deep"));
                }
                self.element_cost += ELEMENT_COST + ATTR_COST * attrs.len();
                self.check_limits()?;
                self.stack.push(Element {
                    name,
                    attrs,
                    ..Element::default()
                });
                if self_closing {
                    return Ok(self.close());
                }
            }
            Token::End => {
                self.untagged = 0;
                let (name, _) = scan::tag_name(raw)?;
                match self.stack.last() {
                    Some(top) if top.name == name => return Ok(self.close()),
                    Some(_) => return Err(bad("end tag does not match the open element")),
                    None if self.phase == Phase::InSession && name == "SESSION" => {
                        self.phase = Phase::Done;
                        return Ok(Some(Item::SessionEnd));
                    }
                    None => return Err(bad("end tag without an open element")),
                }
            }
        }
        Ok(None)
    }

    fn check_limits(&self) -> Result<(), XmlError> {
        if self.element_cost > self.limits.max_element_bytes
            || self.untagged > self.limits.max_bytes_without_tag
        {
            return Err(XmlError::TooLong);
        }
        Ok(())
    }

    /// Closes the innermost open element; returns it if it was top-level.
    fn close(&mut self) -> Option<Item> {
        let element = self.stack.pop()?;
        match self.stack.last_mut() {
            Some(parent) => {
                parent.children.push(element);
                None
            }
            None => {
                self.element_cost = 0;
                Some(Item::Element(element))
            }
        }
    }
}

#[cfg(test)]
mod tests;
