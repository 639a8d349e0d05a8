//! Line-per-element XML writing shared by the client and server encoders: GGZ peers
//! write one element per line with single-quoted, escaped attributes.

use super::escape_into;

/// Line-per-element writing shared by the client and server encoders.
pub(super) struct Writer<'a>(pub(super) &'a mut String);

impl Writer<'_> {
    /// `<TAG`
    pub(super) fn open(&mut self, tag: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        self
    }

    /// ` NAME='value'`, escaped.
    pub(super) fn attr(&mut self, name: &str, value: &str) -> &mut Self {
        self.0.push(' ');
        self.0.push_str(name);
        self.0.push_str("='");
        escape_into(self.0, value);
        self.0.push('\'');
        self
    }

    pub(super) fn int(&mut self, name: &str, value: impl std::fmt::Display) -> &mut Self {
        use std::fmt::Write as _;
        let _ = write!(self.0, " {name}='{value}'");
        self
    }

    pub(super) fn opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.attr(name, value);
        }
        self
    }

    pub(super) fn opt_int(&mut self, name: &str, value: Option<i64>) -> &mut Self {
        if let Some(value) = value {
            self.int(name, value);
        }
        self
    }

    /// `/>` and the line end.
    pub(super) fn end_empty(&mut self) {
        self.0.push_str("/>\n");
    }

    /// `>` and the line end.
    pub(super) fn end_open(&mut self) {
        self.0.push_str(">\n");
    }

    /// `>text</TAG>` and the line end, or `/>` when the text is empty.
    pub(super) fn end_text(&mut self, tag: &str, text: &str) {
        if text.is_empty() {
            return self.end_empty();
        }
        self.0.push('>');
        escape_into(self.0, text);
        self.close(tag);
    }

    /// `<TAG>text</TAG>` and the line end.
    pub(super) fn text_line(&mut self, tag: &str, text: &str) {
        self.open(tag).0.push('>');
        escape_into(self.0, text);
        self.close(tag);
    }

    /// `</TAG>` and the line end.
    pub(super) fn close(&mut self, tag: &str) {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push_str(">\n");
    }
}
