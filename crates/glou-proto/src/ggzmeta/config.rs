//! The original's `metaservconf.xml` (also the shape of its `-C` cache file): entry
//! lists per class, authorizations and peers, read into typed values with errors
//! that say what was expected; and [`authorize`], the original's rule for updates.
//! Turning this into Glou's own configuration is the listener's business.

use subtle::ConstantTimeEq;

use super::xml::{self, Element, Limits};
use super::{Entry, Status};

/// The largest config file accepted.
pub const MAX_CONFIG_BYTES: usize = 4 << 20;

const LIMITS: Limits = Limits {
    max_depth: 8,
    max_attrs: 256,
    max_elements: 100_000,
};

/// A parsed `metaservconf.xml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Every `<entrylist class=…>`, in file order, empty ones included: the answer
    /// to `<list/>`, and what makes a class known (a known class with no match
    /// answers an empty `<resultset>`, an unknown one `"\n"`).
    pub classes: Vec<String>,
    /// Every entry, in file order.
    pub entries: Vec<Entry>,
    pub authorizations: Vec<Authorization>,
    pub peers: Vec<Peer>,
}

/// `<authorization username= password= realm= update="1" create="1"/>`. Its `Debug`
/// leaves the password out.
#[derive(Clone, PartialEq, Eq)]
pub struct Authorization {
    pub username: String,
    pub password: String,
    /// A class name, or `*` for every class.
    pub realm: String,
    /// May publish into existing classes: the `update` attribute is `"1"`, or there
    /// is no `update` attribute and `create` is `"1"` (create implies update, but an
    /// explicit `update="0"` wins, as in the original).
    pub update: bool,
    /// May create a class that does not exist yet: `create="1"`.
    pub create: bool,
}

impl std::fmt::Debug for Authorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorization")
            .field("username", &self.username)
            .field("password", &"***")
            .field("realm", &self.realm)
            .field("update", &self.update)
            .field("create", &self.create)
            .finish()
    }
}

/// `<peer username= password=>URI</peer>`: notified after every add and delete. Its
/// `Debug` leaves the password out.
#[derive(Clone, PartialEq, Eq)]
pub struct Peer {
    pub username: String,
    pub password: String,
    pub uri: String,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("username", &self.username)
            .field("password", &"***")
            .field("uri", &self.uri)
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("config file over {MAX_CONFIG_BYTES} bytes")]
    TooLarge,
    #[error("config file is not UTF-8")]
    NotUtf8,
    #[error("bad xml at line {line}, column {column}: {what}")]
    Xml {
        line: usize,
        column: usize,
        what: &'static str,
    },
    #[error("expected <metaserver> as the root element, found <{0}>")]
    Root(String),
    #[error("unexpected <{element}> in <{parent}>, expected {expected}")]
    Unexpected {
        element: String,
        parent: &'static str,
        expected: &'static str,
    },
    #[error("<{element}> without the {attribute} attribute")]
    MissingAttribute {
        element: &'static str,
        attribute: &'static str,
    },
    #[error("unknown attribute {attribute} on <{element}>")]
    UnknownAttribute {
        element: &'static str,
        attribute: String,
    },
    #[error("class {0} has more than one <entrylist>")]
    DuplicateClass(String),
    #[error("more than one <configuration>")]
    DuplicateConfiguration,
    #[error("<{kind}> in class {class} has no uri, expected the uri as its text")]
    MissingUri { class: String, kind: String },
    #[error("<{kind}> in class {class} has child elements, expected only a uri as text")]
    NestedEntry { class: String, kind: String },
}

impl Config {
    /// Parses a whole config file.
    pub fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ConfigError::NotUtf8)?;
        let root = xml::parse(text, LIMITS).map_err(|e| {
            let before = &bytes[..e.offset.min(bytes.len())];
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            ConfigError::Xml {
                line: before.iter().filter(|&&b| b == b'\n').count() + 1,
                column: before.len() - line_start + 1,
                what: e.what,
            }
        })?;
        if root.name != "metaserver" {
            return Err(ConfigError::Root(root.name));
        }
        let mut config = Config::default();
        let mut seen_configuration = false;
        for child in &root.children {
            match child.name.as_str() {
                "entrylist" => config.entrylist(child)?,
                "configuration" if seen_configuration => {
                    return Err(ConfigError::DuplicateConfiguration);
                }
                "configuration" => {
                    seen_configuration = true;
                    config.configuration(child)?;
                }
                other => {
                    return Err(ConfigError::Unexpected {
                        element: other.to_string(),
                        parent: "metaserver",
                        expected: "<entrylist> or <configuration>",
                    });
                }
            }
        }
        Ok(config)
    }

    fn entrylist(&mut self, list: &Element) -> Result<(), ConfigError> {
        let [class] = attrs(list, "entrylist", ["class"])?;
        let class = class.to_string();
        if self.classes.contains(&class) {
            return Err(ConfigError::DuplicateClass(class));
        }
        for entry in &list.children {
            let kind = entry.name.clone();
            if !entry.children.is_empty() {
                return Err(ConfigError::NestedEntry { class, kind });
            }
            if entry.text.is_empty() {
                return Err(ConfigError::MissingUri { class, kind });
            }
            self.entries.push(Entry {
                class: class.clone(),
                kind,
                uri: entry.text.clone(),
                options: entry.attrs.clone(),
            });
        }
        self.classes.push(class);
        Ok(())
    }

    fn configuration(&mut self, conf: &Element) -> Result<(), ConfigError> {
        for child in &conf.children {
            match child.name.as_str() {
                "authorization" => {
                    let names = ["username", "password", "realm"];
                    let [username, password, realm] = attrs(child, "authorization", names)?;
                    let flag = |name| child.attr(name).map(|v| v == "1");
                    self.authorizations.push(Authorization {
                        username: username.to_string(),
                        password: password.to_string(),
                        realm: realm.to_string(),
                        update: flag("update").or(flag("create")).unwrap_or(false),
                        create: flag("create").unwrap_or(false),
                    });
                }
                "peer" => {
                    let [username, password] = attrs(child, "peer", ["username", "password"])?;
                    if child.text.is_empty() {
                        return Err(ConfigError::MissingAttribute {
                            element: "peer",
                            attribute: "uri (its text)",
                        });
                    }
                    self.peers.push(Peer {
                        username: username.to_string(),
                        password: password.to_string(),
                        uri: child.text.clone(),
                    });
                }
                other => {
                    return Err(ConfigError::Unexpected {
                        element: other.to_string(),
                        parent: "configuration",
                        expected: "<authorization> or <peer>",
                    });
                }
            }
        }
        Ok(())
    }
}

/// The values of the required attributes, in the order asked; optional ones
/// (`update`, `create` on an authorization) are allowed besides.
fn attrs<'a, const N: usize>(
    e: &'a Element,
    element: &'static str,
    required: [&'static str; N],
) -> Result<[&'a str; N], ConfigError> {
    let optional: &[&str] = if element == "authorization" {
        &["update", "create"]
    } else {
        &[]
    };
    if let Some((name, _)) = e
        .attrs
        .iter()
        .find(|(n, _)| !required.contains(&n.as_str()) && !optional.contains(&n.as_str()))
    {
        return Err(ConfigError::UnknownAttribute {
            element,
            attribute: name.clone(),
        });
    }
    let mut values = [""; N];
    for (value, attribute) in values.iter_mut().zip(required) {
        *value = e
            .attr(attribute)
            .ok_or(ConfigError::MissingAttribute { element, attribute })?;
    }
    Ok(values)
}

/// Whether `username`/`password` may publish into `class`: [`Status::Rejected`]
/// without the update right for that class (realm equal or `*`), checked first, as
/// the original does, even when the class does not exist; then, when `creating` (the
/// class does not exist yet), [`Status::Wrong`] without the create right; else
/// [`Status::Accepted`].
///
/// The listener answers `readonly` (not a daemon) and `wrong` (missing arguments)
/// between `Rejected` and this `Wrong`, as the original does.
///
/// One deliberate difference: the original's loop overwrites the requested realm
/// with `*` once it meets any `realm="*"` authorization, so a wildcard entry for
/// another user shadows later class-specific ones. Glou checks each entry on its own,
/// and compares passwords in constant time.
pub fn authorize(
    authorizations: &[Authorization],
    username: &str,
    password: &str,
    class: &str,
    creating: bool,
) -> Status {
    let allowed = |right: fn(&Authorization) -> bool| {
        authorizations.iter().any(|a| {
            a.username == username
                && bool::from(a.password.as_bytes().ct_eq(password.as_bytes()))
                && (a.realm == "*" || a.realm == class)
                && right(a)
        })
    };
    if !allowed(|a| a.update) {
        Status::Rejected
    } else if creating && !allowed(|a| a.create) {
        Status::Wrong
    } else {
        Status::Accepted
    }
}
