//! Requests: [`Request::decode`] for the bytes of one `read()`, with the original's
//! framing quirks, and [`Request::encode`] in the form libmeta and the capture use.

use super::xml::{self, Element, Limits};
use super::{Class, Federate, Invalid, MAX_REQUEST, Mode, Query, Request, Update, atoi};

/// A request is at most 1023 bytes, so these only bound odd shapes of it.
const LIMITS: Limits = Limits {
    max_depth: 8,
    max_attrs: 32,
    max_elements: 64,
};

impl Request {
    /// Decodes the bytes of one `read()`. Total: anything unusable is
    /// [`Request::Invalid`], which the original answers with `"\n"`.
    ///
    /// As the original: the request ends at the first NUL (libmeta sends
    /// `strlen + 1` bytes); one trailing `\n` then one trailing `\r` are removed; it
    /// is XML if it is longer than 5 bytes and starts with `<`, else a URI.
    pub fn decode(read: &[u8]) -> Request {
        if read.len() > MAX_REQUEST {
            return Request::Invalid(Invalid::TooLong);
        }
        let mut bytes = read.split(|&b| b == 0).next().unwrap_or_default();
        bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Request::Invalid(Invalid::NotUtf8);
        };
        if text.len() > 5 && text.starts_with('<') {
            decode_xml(text)
        } else {
            decode_uri(text)
        }
    }

    /// The request as libmeta writes it (attributes in its order, `<?xml?>` prolog),
    /// ending in `\n` as the capture's client sends it. [`Request::Invalid`] is an
    /// empty line.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::new();
        match self {
            Request::Uri { class, kind } => {
                out.push_str("query://");
                out.push_str(class_str(class));
                out.push('/');
                out.push_str(kind);
            }
            Request::List => out.push_str("<list/>"),
            Request::Query(q) => query(&mut out, "query", q),
            Request::Subscribe(q) => query(&mut out, "subscribe", q),
            Request::Federate(f) => {
                out.push_str(PROLOG);
                out.push_str("<federate");
                attr(&mut out, "community", Some(&f.community));
                attr(&mut out, "username", Some(&f.username));
                attr(&mut out, "password", Some(&f.password));
                out.push_str("/>");
            }
            Request::Update(u) => {
                out.push_str(PROLOG);
                out.push_str("<update");
                attr(&mut out, "class", u.class.as_deref());
                attr(&mut out, "type", u.kind.as_deref());
                attr(&mut out, "username", u.username.as_deref());
                attr(&mut out, "password", u.password.as_deref());
                attr(&mut out, "mode", u.mode.as_ref().map(Mode::as_str));
                attr(&mut out, "uri", u.uri.as_deref());
                options(&mut out, "update", &u.options);
            }
            Request::Invalid(_) => {}
        }
        out.push('\n');
        out.into_bytes()
    }
}

impl Mode {
    /// The `mode=` value: `add`, `modify`, `delete`, or what was sent.
    pub fn as_str(&self) -> &str {
        match self {
            Mode::Add => "add",
            Mode::Modify => "modify",
            Mode::Delete => "delete",
            Mode::Unknown(s) => s,
        }
    }

    /// Case-sensitive, as the original's `strcmp`.
    pub fn parse(s: &str) -> Mode {
        match s {
            "add" => Mode::Add,
            "modify" => Mode::Modify,
            "delete" => Mode::Delete,
            other => Mode::Unknown(other.to_string()),
        }
    }
}

impl Update {
    /// The first attribute the original needs and the client left out, if any.
    pub fn missing_argument(&self) -> Option<&'static str> {
        [
            ("class", self.class.is_none()),
            ("type", self.kind.is_none()),
            ("username", self.username.is_none()),
            ("password", self.password.is_none()),
            ("uri", self.uri.is_none()),
            ("mode", self.mode.is_none()),
        ]
        .into_iter()
        .find_map(|(name, missing)| missing.then_some(name))
    }
}

impl Query {
    /// The query a URI request makes: no delta, no options.
    pub fn uri(class: Class, kind: &str) -> Query {
        Query {
            class,
            kind: kind.to_string(),
            delta: None,
            options: Vec::new(),
        }
    }
}

const PROLOG: &str = "<?xml version=\"1.0\"?>";

fn query(out: &mut String, root: &str, q: &Query) {
    out.push_str(PROLOG);
    out.push('<');
    out.push_str(root);
    attr(out, "class", Some(class_str(&q.class)));
    attr(out, "type", Some(&q.kind));
    attr(out, "delta", q.delta.map(|d| d.to_string()).as_deref());
    options(out, root, &q.options);
}

fn class_str(class: &Class) -> &str {
    match class {
        Class::Named(c) => c,
        Class::All => "*",
    }
}

fn class_of(s: &str) -> Class {
    if s == "*" {
        Class::All
    } else {
        Class::Named(s.to_string())
    }
}

fn attr(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        xml::escape_attr(value, out);
        out.push('"');
    }
}

/// The option children and the end of the root (self-closing without options).
fn options(out: &mut String, root: &str, options: &[(String, String)]) {
    if options.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for (name, value) in options {
        out.push_str("<option");
        attr(out, "name", Some(name));
        out.push('>');
        xml::escape_text(value, out);
        out.push_str("</option>");
    }
    out.push_str("</");
    out.push_str(root);
    out.push('>');
}

/// `query://CLASS/TYPE[/…]`, split like `strtok(s, ":/")`: empty pieces vanish.
fn decode_uri(text: &str) -> Request {
    let mut tokens = text.split([':', '/']).filter(|t| !t.is_empty());
    match (tokens.next(), tokens.next(), tokens.next()) {
        (Some("query"), Some(class), Some(kind)) => Request::Uri {
            class: class_of(class),
            kind: kind.to_string(),
        },
        _ => Request::Invalid(Invalid::NotAQuery),
    }
}

fn decode_xml(text: &str) -> Request {
    let root = match xml::parse(text, LIMITS) {
        Ok(root) => root,
        Err(e) => return Request::Invalid(Invalid::Xml(e)),
    };
    let owned = |name: &str| root.attr(name).map(str::to_string);
    match root.name.as_str() {
        "list" => Request::List,
        "query" => match query_of(&root) {
            Ok(q) => Request::Query(q),
            Err(missing) => Request::Invalid(Invalid::MissingAttribute(missing)),
        },
        "subscribe" => match query_of(&root) {
            Ok(q) => Request::Subscribe(q),
            Err(missing) => Request::Invalid(Invalid::MissingAttribute(missing)),
        },
        "federate" => match (
            root.attr("community"),
            root.attr("username"),
            root.attr("password"),
        ) {
            (Some(community), Some(username), Some(password)) => Request::Federate(Federate {
                community: community.to_string(),
                username: username.to_string(),
                password: password.to_string(),
            }),
            (None, ..) => Request::Invalid(Invalid::MissingAttribute("community")),
            (_, None, _) => Request::Invalid(Invalid::MissingAttribute("username")),
            (.., None) => Request::Invalid(Invalid::MissingAttribute("password")),
        },
        "update" => Request::Update(Update {
            class: owned("class"),
            kind: owned("type"),
            username: owned("username"),
            password: owned("password"),
            mode: root.attr("mode").map(Mode::parse),
            uri: owned("uri"),
            options: root
                .children
                .iter()
                .take_while(|c| !c.text.is_empty())
                .filter(|c| c.name == "option")
                .filter_map(named)
                .collect(),
        }),
        other => Request::Invalid(Invalid::UnknownRoot(other.to_string())),
    }
}

/// The query of a `<query>` or `<subscribe>`, or the attribute it lacks.
fn query_of(root: &Element) -> Result<Query, &'static str> {
    let class = root.attr("class").ok_or("class")?;
    let kind = root.attr("type").ok_or("type")?;
    Ok(Query {
        class: class_of(class),
        kind: kind.to_string(),
        delta: root.attr("delta").map(atoi),
        options: root.children.iter().filter_map(named).collect(),
    })
}

/// `(name attribute, text)` of an option child.
fn named(child: &Element) -> Option<(String, String)> {
    Some((child.attr("name")?.to_string(), child.text.clone()))
}
