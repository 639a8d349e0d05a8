//! A reader for freeciv's secfile (registry ini) text, following freeciv 3.0's
//! `utility/inputfile.c` (tokens), `registry_ini.c` (sections, entries, vectors,
//! tables) and `support.c:remove_escapes` (string escapes), quirks included. It
//! knows the value types the list needs (strings and integers) and skips the rest;
//! `*include` and `*file*` strings are errors.

use std::collections::HashMap;

use super::DecodeError;

/// Longest section, entry or column name the reader accepts.
const MAX_NAME_LEN: usize = 32;

/// C's `atoi`: leading blanks, a sign, digits up to the first other character; 0
/// when there are none. Saturates instead of overflowing.
pub(super) fn atoi(text: &str) -> i64 {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if negative { -n } else { n }
}

/// A value as freeciv types it: quoted text, an integer, or anything else (floats,
/// booleans, values it cannot read), which string and integer lookups skip.
#[derive(Debug)]
enum Value {
    Str(String),
    Int(i64),
    Other,
}

/// The entries of a secfile by `section.name`; a later entry replaces an earlier one
/// (the client loads with duplicates allowed).
#[derive(Debug, Default)]
pub(super) struct Secfile {
    entries: HashMap<String, Value>,
}

impl Secfile {
    pub(super) fn str(&self, key: &str) -> Option<&str> {
        match self.entries.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub(super) fn int(&self, key: &str) -> Option<i64> {
        match self.entries.get(key) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }
}

/// A table being read: `base = { "col", … }` then rows until `}`.
struct Table {
    base: String,
    columns: Vec<String>,
    row: usize,
}

pub(super) struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    /// 1-based line of `pos`, for errors.
    line: usize,
    section: Option<String>,
    file: Secfile,
}

impl<'a> Parser<'a> {
    pub(super) fn new(text: &'a str) -> Parser<'a> {
        Parser {
            text: text.as_bytes(),
            pos: 0,
            line: 1,
            section: None,
            file: Secfile::default(),
        }
    }

    fn error(&self, expected: &'static str) -> DecodeError {
        DecodeError::Syntax {
            line: self.line,
            expected,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    pub(super) fn parse(mut self) -> Result<Secfile, DecodeError> {
        if let Some(at) = self.text.iter().position(|&b| b == 0) {
            self.line += self.text[..at].iter().filter(|&&b| b == b'\n').count();
            return Err(self.error("text without NUL bytes"));
        }
        let mut table: Option<Table> = None;
        while self.pos < self.text.len() {
            if self.blank_line() {
                continue;
            }
            if self.peek() == Some(b'[') {
                if table.is_some() {
                    return Err(self.error("`}` before a new section"));
                }
                self.section = Some(self.section_name()?);
                self.end_of_line()?;
                continue;
            }
            if self.punct(b'}') {
                if table.take().is_none() {
                    return Err(self.error("an entry, not `}`"));
                }
                self.end_of_line()?;
                continue;
            }
            if let Some(t) = &mut table {
                let mut i = 0;
                loop {
                    self.blank_lines();
                    let value = self.value()?;
                    let name = match t.columns.get(i) {
                        Some(column) => format!("{}{}.{column}", t.base, t.row),
                        None => {
                            let extra = i + 1 - t.columns.len();
                            let last = t.columns.last().map_or("", String::as_str);
                            format!("{}{}.{last},{extra}", t.base, t.row)
                        }
                    };
                    self.insert(&name, value);
                    i += 1;
                    if !self.punct(b',') {
                        break;
                    }
                }
                self.end_of_line()?;
                t.row += 1;
                continue;
            }
            let name = self.entry_name()?;
            self.blank_lines();
            if self.punct(b'{') {
                let mut columns = Vec::new();
                loop {
                    self.blank_lines();
                    self.blanks();
                    if self.peek() != Some(b'"') {
                        return Err(self.error("a quoted column name"));
                    }
                    match self.value()? {
                        Value::Str(column) if column.len() <= MAX_NAME_LEN => columns.push(column),
                        _ => return Err(self.error("a column name of at most 32 bytes")),
                    }
                    if !self.punct(b',') {
                        break;
                    }
                }
                self.end_of_line()?;
                table = Some(Table {
                    base: name,
                    columns,
                    row: 0,
                });
                continue;
            }
            let mut i = 0;
            loop {
                self.blank_lines();
                let value = self.value()?;
                match i {
                    0 => self.insert(&name, value),
                    _ => self.insert(&format!("{name},{i}"), value),
                }
                i += 1;
                if !self.punct(b',') {
                    break;
                }
            }
            self.end_of_line()?;
        }
        if table.is_some() {
            return Err(self.error("`}` before the end"));
        }
        Ok(self.file)
    }

    /// Entries before any section are dropped, as freeciv drops them.
    fn insert(&mut self, name: &str, value: Value) {
        if let Some(section) = &self.section
            && !name.is_empty()
        {
            self.file.entries.insert(format!("{section}.{name}"), value);
        }
    }

    /// Skips spaces and tabs (not newlines).
    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')) {
            self.pos += 1;
        }
    }

    /// Consumes the rest of the line if it holds only blanks or a comment.
    fn blank_line(&mut self) -> bool {
        let start = self.pos;
        self.blanks();
        match self.peek() {
            Some(b'\n' | b';' | b'#') => {
                while let Some(b) = self.peek() {
                    self.pos += 1;
                    if b == b'\n' {
                        self.line += 1;
                        break;
                    }
                }
                true
            }
            None if self.pos > start => true,
            _ => {
                self.pos = start;
                false
            }
        }
    }

    /// Newlines are allowed after `=`, `{` and `,`.
    fn blank_lines(&mut self) {
        while self.pos < self.text.len() && self.blank_line() {}
    }

    fn end_of_line(&mut self) -> Result<(), DecodeError> {
        if self.pos >= self.text.len() || self.blank_line() {
            return Ok(());
        }
        Err(self.error("end of line"))
    }

    /// One punctuation character, after blanks.
    fn punct(&mut self, c: u8) -> bool {
        let start = self.pos;
        self.blanks();
        if self.peek() == Some(c) {
            self.pos += 1;
            return true;
        }
        self.pos = start;
        false
    }

    fn text_of(&self, start: usize, end: usize) -> String {
        String::from_utf8_lossy(&self.text[start..end]).into_owned()
    }

    /// `[name]`, at the start of a line.
    fn section_name(&mut self) -> Result<String, DecodeError> {
        let start = self.pos + 1;
        let end = self.text[start..]
            .iter()
            .position(|&b| b == b']' || b == b'\n')
            .map(|n| start + n)
            .filter(|&end| self.text[end] == b']')
            .ok_or_else(|| self.error("`]`"))?;
        if end - start > MAX_NAME_LEN {
            return Err(self.error("a section name of at most 32 bytes"));
        }
        self.pos = end + 1;
        Ok(self.text_of(start, end))
    }

    /// `name =`: the name ends at a blank or `=`; anything else before `=` is skipped,
    /// as freeciv does.
    fn entry_name(&mut self) -> Result<String, DecodeError> {
        self.blanks();
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(
                b,
                b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' | b'\n' | b'=' | b';' | b'#'
            ) {
                break;
            }
            self.pos += 1;
        }
        let end = self.pos;
        if !matches!(
            self.peek(),
            Some(b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' | b'=')
        ) {
            return Err(self.error("an entry name and `=`"));
        }
        while let Some(b) = self.peek() {
            if matches!(b, b'=' | b'\n' | b';' | b'#') {
                break;
            }
            self.pos += 1;
        }
        if self.peek() != Some(b'=') {
            return Err(self.error("`=` after the entry name"));
        }
        self.pos += 1;
        if end - start > MAX_NAME_LEN {
            return Err(self.error("an entry name of at most 32 bytes"));
        }
        Ok(self.text_of(start, end))
    }

    /// Whether the character after a number or word may follow a value.
    fn value_ends(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(b',' | b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' | b'\n' | b';' | b'#')
        )
    }

    /// One value: a number, a quoted (`"…"`, `$…$`, `'…'`) string, optionally in
    /// `_( )`, or a word (`TRUE`).
    fn value(&mut self) -> Result<Value, DecodeError> {
        self.blanks();
        let start = self.pos;
        match self.peek() {
            Some(b'-' | b'+' | b'0'..=b'9') => {
                self.pos += 1;
                self.digits();
                if self.peek() == Some(b'.') {
                    self.pos += 1;
                    self.digits();
                }
                if !self.value_ends() {
                    return Err(self.error("a value"));
                }
                let token = self.text_of(start, self.pos);
                Ok(token
                    .parse::<i32>()
                    .map_or(Value::Other, |n| Value::Int(n.into())))
            }
            Some(b'_') if self.text.get(self.pos + 1) == Some(&b'(') => {
                self.pos += 2;
                self.blanks();
                let value = self.string()?;
                if self.peek() == Some(b')') {
                    self.pos += 1;
                }
                Ok(value)
            }
            Some(b'"' | b'$' | b'\'') => self.string(),
            _ => {
                while self.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
                    self.pos += 1;
                }
                if self.pos == start || !self.value_ends() {
                    return Err(self.error("a value"));
                }
                Ok(Value::Other)
            }
        }
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A string to its unescaped closing delimiter, across lines if need be; a
    /// backslash hides the next character on its line.
    fn string(&mut self) -> Result<Value, DecodeError> {
        let Some(border @ (b'"' | b'$' | b'\'')) = self.peek() else {
            return Err(self.error("a string"));
        };
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.error("the end of a string")),
                Some(b) if b == border => break,
                Some(b'\\') if !matches!(self.text.get(self.pos + 1), None | Some(b'\n')) => {
                    self.pos += 2;
                }
                Some(b'\n') => {
                    self.line += 1;
                    self.pos += 1;
                }
                Some(_) => self.pos += 1,
            }
        }
        let raw = &self.text[start..self.pos];
        self.pos += 1;
        Ok(match border {
            b'"' => Value::Str(remove_escapes(raw, true)),
            b'$' => Value::Str(remove_escapes(raw, false)),
            _ => Value::Other,
        })
    }
}

/// freeciv's `remove_escapes`, quirks included: a backslash-newline pair is deleted;
/// in `"…"` strings a backslash is deleted and `\n` becomes a newline; the character
/// after a deleted backslash is then read afresh, so `\\` does not make a backslash.
fn remove_escapes(raw: &[u8], full_escapes: bool) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && raw.get(i + 1) == Some(&b'\n') {
            i += 2;
        } else if full_escapes && raw[i] == b'\\' {
            i += 1;
            if raw.get(i) == Some(&b'n') {
                out.push(b'\n');
                i += 1;
            }
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
