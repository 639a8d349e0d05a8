//! Replies, byte for byte as the original writes them: one line, no whitespace
//! between elements, then `\n`. Values are escaped only as far as well-formedness
//! needs (see the module documentation of [`super`]).

use super::xml::{escape_attr, escape_text};
use super::{Change, Entry, HIDDEN_PREFIX, Status};

const HEADER_QUERY: &str = "<?xml version=\"1.0\"?><resultset referer=\"query\">";
const HEADER_LIST: &str = "<?xml version=\"1.0\"?><resultset referer=\"list\">";
const HEADER_SUBSCRIBE: &str = "<?xml version=\"1.0\"?><resultset referer=\"subscribe\">";
const HEADER_UPDATE: &str = "<?xml version=\"1.0\"?><resultset referer=\"update\">";
const FOOTER: &str = "</resultset>";

/// One reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `"\n"`: no result (unknown class, bad or unknown request).
    Empty,
    /// To a URI query: each entry's URI and `\n`, then `\n`. CR and LF inside a URI
    /// are left out so that one URI stays one line.
    Uris(Vec<&'a Entry>),
    /// To an XML query of a known class (or `*`): `<resultset referer="query">` with
    /// one `<result uri=…>` per entry, carrying `class=…` when `with_class` (for
    /// `class="*"`), and its visible options.
    Results {
        entries: Vec<&'a Entry>,
        with_class: bool,
    },
    /// The first answer to a `<subscribe>`: as [`Reply::Results`], with
    /// `referer="subscribe"`.
    Subscribed {
        entries: Vec<&'a Entry>,
        with_class: bool,
    },
    /// A subscription notification: one `<result … mode=…>` in a
    /// `<resultset referer="subscribe">` (a deleted entry as it was).
    Change {
        entry: &'a Entry,
        change: Change,
        with_class: bool,
    },
    /// To `<list/>`: `<class>…</class>` per class.
    List(Vec<&'a str>),
    /// To an `<update>`.
    Status(Status),
}

impl Reply<'_> {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        match self {
            Reply::Empty => {}
            Reply::Uris(entries) => {
                for entry in entries {
                    out.extend(entry.uri.chars().filter(|&c| c != '\n' && c != '\r'));
                    out.push('\n');
                }
            }
            Reply::Results {
                entries,
                with_class,
            } => {
                out.push_str(HEADER_QUERY);
                for entry in entries {
                    entry.encode_result(*with_class, None, &mut out);
                }
                out.push_str(FOOTER);
            }
            Reply::Subscribed {
                entries,
                with_class,
            } => {
                out.push_str(HEADER_SUBSCRIBE);
                for entry in entries {
                    entry.encode_result(*with_class, None, &mut out);
                }
                out.push_str(FOOTER);
            }
            Reply::Change {
                entry,
                change,
                with_class,
            } => {
                out.push_str(HEADER_SUBSCRIBE);
                entry.encode_result(*with_class, Some(*change), &mut out);
                out.push_str(FOOTER);
            }
            Reply::List(classes) => {
                out.push_str(HEADER_LIST);
                for class in classes {
                    out.push_str("<class>");
                    escape_text(class, &mut out);
                    out.push_str("</class>");
                }
                out.push_str(FOOTER);
            }
            Reply::Status(status) => {
                out.push_str(HEADER_UPDATE);
                out.push_str("<status>");
                out.push_str(status.as_str());
                out.push_str("</status>");
                out.push_str(FOOTER);
            }
        }
        out.push('\n');
        out.into_bytes()
    }
}

/// A reply to a query or a subscription (`referer` `query` or `subscribe`) from
/// results already encoded with [`Entry::encode_result`]: a server that keeps its
/// entries encoded answers by copying.
pub fn results_reply<'a>(subscribe: bool, results: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = String::from(if subscribe {
        HEADER_SUBSCRIBE
    } else {
        HEADER_QUERY
    });
    for r in results {
        out.push_str(r);
    }
    out.push_str(FOOTER);
    out.push('\n');
    out.into_bytes()
}

impl Entry {
    /// Appends `<result uri=… [class=…] [mode=…]>` with the visible options.
    pub fn encode_result(&self, with_class: bool, change: Option<Change>, out: &mut String) {
        out.push_str("<result uri=\"");
        escape_attr(&self.uri, out);
        out.push('"');
        if with_class {
            out.push_str(" class=\"");
            escape_attr(&self.class, out);
            out.push('"');
        }
        if let Some(change) = change {
            out.push_str(" mode=\"");
            out.push_str(change.as_str());
            out.push('"');
        }
        out.push('>');
        for (name, value) in &self.options {
            if name.starts_with(HIDDEN_PREFIX) {
                continue;
            }
            out.push_str("<option name=\"");
            escape_attr(name, out);
            out.push_str("\">");
            escape_text(value, out);
            out.push_str("</option>");
        }
        out.push_str("</result>");
    }
}
