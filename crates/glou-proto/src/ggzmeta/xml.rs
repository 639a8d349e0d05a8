//! A small, bounded XML reader for whole documents: one metaserver request or one
//! `metaservconf.xml`. It keeps names as written (the GGZ stream reader in
//! `ggz::xml` upper-cases them, but here element names are entry types and attribute
//! names are option names, so case matters).
//!
//! A practical subset of XML 1.0: no DOCTYPE (so no entity definitions and no entity
//! expansion), only the five predefined entities and character references, CDATA,
//! comments and processing instructions skipped. Depth, attributes per element and
//! element count are limited; it never recurses and never panics.

/// A decoded element with its subtree.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Element {
    pub(super) name: String,
    /// Attributes in document order, values unescaped.
    pub(super) attrs: Vec<(String, String)>,
    /// The element's own text and CDATA, unescaped, with surrounding whitespace
    /// trimmed (as minidom does).
    pub(super) text: String,
    pub(super) children: Vec<Element>,
}

impl Element {
    /// The first attribute with this name (case-sensitive, as minidom's `MD_att`).
    pub(super) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How much one document may make the reader hold.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    /// Deepest nesting; the root element is at depth 1.
    pub(super) max_depth: usize,
    pub(super) max_attrs: usize,
    pub(super) max_elements: usize,
}

/// Why a document was refused, and the byte offset where that was noticed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {offset}")]
pub struct XmlError {
    pub what: &'static str,
    pub offset: usize,
}

/// Parses a whole document: an optional prolog, one root element, then only
/// whitespace, comments and processing instructions.
pub(super) fn parse(doc: &str, limits: Limits) -> Result<Element, XmlError> {
    Parser {
        s: doc.as_bytes(),
        doc,
        pos: 0,
        limits,
        elements: 0,
    }
    .document()
}

struct Parser<'a> {
    s: &'a [u8],
    doc: &'a str,
    pos: usize,
    limits: Limits,
    elements: usize,
}

impl Parser<'_> {
    fn err<T>(&self, what: &'static str) -> Result<T, XmlError> {
        Err(XmlError {
            what,
            offset: self.pos,
        })
    }

    fn rest(&self) -> &[u8] {
        &self.s[self.pos..]
    }

    fn document(mut self) -> Result<Element, XmlError> {
        if let Some(i) = self
            .s
            .iter()
            .position(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
        {
            self.pos = i;
            return self.err("a control character XML does not allow");
        }
        self.misc()?;
        if !self.rest().starts_with(b"<") {
            return self.err("expected the root element");
        }
        let root = self.element()?;
        self.misc()?;
        if self.pos < self.s.len() {
            return self.err("content after the root element");
        }
        Ok(root)
    }

    /// Skips whitespace, comments and processing instructions outside the root.
    fn misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_space();
            let rest = self.rest();
            if rest.starts_with(b"<?") {
                self.skip_past(b"?>", "unterminated processing instruction")?;
            } else if rest.starts_with(b"<!--") {
                self.skip_past(b"-->", "unterminated comment")?;
            } else if rest.starts_with(b"<!DOCTYPE") || rest.starts_with(b"<!doctype") {
                return self.err("DOCTYPE is not allowed");
            } else if rest.starts_with(b"<!") {
                return self.err("unexpected markup declaration");
            } else {
                return Ok(());
            }
        }
    }

    fn skip_space(&mut self) {
        while self.rest().first().is_some_and(|&b| is_space(b)) {
            self.pos += 1;
        }
    }

    /// Moves past the next `end`; returns the bytes before it.
    fn skip_past(&mut self, end: &[u8], what: &'static str) -> Result<(usize, usize), XmlError> {
        match self.rest().windows(end.len()).position(|w| w == end) {
            Some(i) => {
                let span = (self.pos, self.pos + i);
                self.pos += i + end.len();
                Ok(span)
            }
            None => self.err(what),
        }
    }

    /// The element starting at `pos` (which is at a `<` followed by a name).
    fn element(&mut self) -> Result<Element, XmlError> {
        let mut stack: Vec<Element> = Vec::new();
        loop {
            // At a start tag.
            if stack.len() == self.limits.max_depth {
                return self.err("elements nested too deep");
            }
            self.elements += 1;
            if self.elements > self.limits.max_elements {
                return self.err("too many elements");
            }
            let (element, self_closing) = self.start_tag()?;
            if self_closing {
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            } else {
                stack.push(element);
            }
            // Content until the next start tag, or the end of the root.
            loop {
                let rest: &[u8] = &self.s[self.pos..];
                let Some(top) = stack.last_mut() else {
                    return self.err("content without an open element");
                };
                if rest.starts_with(b"</") {
                    let start = self.pos;
                    self.pos += 2;
                    let name = self.name()?;
                    self.skip_space();
                    if self.rest().first() != Some(&b'>') {
                        return self.err("expected '>' in an end tag");
                    }
                    self.pos += 1;
                    let mut done = stack.pop().unwrap_or_default();
                    if done.name != name {
                        self.pos = start;
                        return self.err("end tag does not match the open element");
                    }
                    done.text = done
                        .text
                        .trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
                        .to_string();
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                } else if rest.starts_with(b"<!--") {
                    self.skip_past(b"-->", "unterminated comment")?;
                } else if rest.starts_with(b"<![CDATA[") {
                    self.pos += 9;
                    let (a, b) = self.skip_past(b"]]>", "unterminated CDATA section")?;
                    top.text.push_str(&self.doc[a..b]);
                } else if rest.starts_with(b"<?") {
                    self.skip_past(b"?>", "unterminated processing instruction")?;
                } else if rest.starts_with(b"<!") {
                    return self.err("unexpected markup declaration");
                } else if rest.starts_with(b"<") {
                    break;
                } else if rest.is_empty() {
                    return self.err("unclosed element");
                } else {
                    let end = rest
                        .iter()
                        .position(|&b| b == b'<')
                        .map_or(self.s.len(), |i| self.pos + i);
                    let raw = &self.doc[self.pos..end];
                    unescape_into(raw, &mut top.text).map_err(|what| XmlError {
                        what,
                        offset: self.pos,
                    })?;
                    self.pos = end;
                }
            }
        }
    }

    /// A start tag at `pos`; whether it was self-closing.
    fn start_tag(&mut self) -> Result<(Element, bool), XmlError> {
        self.pos += 1;
        let name = self.name()?;
        let mut element = Element {
            name,
            ..Element::default()
        };
        loop {
            let had_space = self.rest().first().is_some_and(|&b| is_space(b));
            self.skip_space();
            match self.rest().first() {
                Some(b'>') => {
                    self.pos += 1;
                    return Ok((element, false));
                }
                Some(b'/') if self.rest().get(1) == Some(&b'>') => {
                    self.pos += 2;
                    return Ok((element, true));
                }
                None => return self.err("unterminated start tag"),
                Some(_) if !had_space => return self.err("expected a space before an attribute"),
                Some(_) => {}
            }
            let name = self.name()?;
            self.skip_space();
            if self.rest().first() != Some(&b'=') {
                return self.err("expected '=' after an attribute name");
            }
            self.pos += 1;
            self.skip_space();
            let Some(&quote) = self.rest().first().filter(|&&q| q == b'"' || q == b'\'') else {
                return self.err("expected a quoted attribute value");
            };
            self.pos += 1;
            let Some(len) = self.rest().iter().position(|&b| b == quote) else {
                return self.err("unterminated attribute value");
            };
            let raw = &self.doc[self.pos..self.pos + len];
            if raw.contains('<') {
                return self.err("'<' in an attribute value");
            }
            let mut value = String::new();
            unescape_into(raw, &mut value).map_err(|what| XmlError {
                what,
                offset: self.pos,
            })?;
            self.pos += len + 1;
            if element.attrs.iter().any(|(n, _)| *n == name) {
                return self.err("duplicate attribute");
            }
            if element.attrs.len() == self.limits.max_attrs {
                return self.err("too many attributes");
            }
            element.attrs.push((name, value));
        }
    }

    fn name(&mut self) -> Result<String, XmlError> {
        let rest = self.rest();
        if !rest.first().is_some_and(|&b| is_name_start(b)) {
            return self.err("expected a name");
        }
        let len = rest.iter().take_while(|&&b| is_name_char(b)).count();
        let name = self.doc[self.pos..self.pos + len].to_string();
        self.pos += len;
        Ok(name)
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':' || b >= 0x80
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-' | b'.') || b >= 0x80
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Appends text or an attribute value with its entities and character references
/// resolved; any other `&` is an error.
fn unescape_into(raw: &str, out: &mut String) -> Result<(), &'static str> {
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        let Some(semi) = rest.find(';').filter(|&n| n <= 10) else {
            return Err("'&' that does not start an entity");
        };
        let c = match &rest[..semi] {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "apos" => '\'',
            "quot" => '"',
            r => {
                let code = match (r.strip_prefix("#x"), r.strip_prefix('#')) {
                    (Some(hex), _) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                        u32::from_str_radix(hex, 16).ok()
                    }
                    (None, Some(dec)) if dec.bytes().all(|b| b.is_ascii_digit()) => {
                        dec.parse().ok()
                    }
                    (None, None) => return Err("unknown entity (only the five XML ones)"),
                    _ => None,
                };
                code.and_then(char::from_u32)
                    .filter(|&c| is_xml_char(c))
                    .ok_or("bad character reference")?
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(())
}

/// Escapes text content: `&` and `<` (all that well-formedness needs; `>` and quotes
/// stay as the original writes them).
pub(super) fn escape_text(s: &str, out: &mut String) {
    escape(s, out, false);
}

/// Escapes a `"`-quoted attribute value: `&`, `<` and `"`.
pub(super) fn escape_attr(s: &str, out: &mut String) {
    escape(s, out, true);
}

fn escape(s: &str, out: &mut String, attr: bool) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' if attr => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}
