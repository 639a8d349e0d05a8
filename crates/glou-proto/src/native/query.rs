//! The list query, from a query string (`GET /api/v1/servers?game=oa&not_empty=1`) or
//! from the `filter` object of a WebSocket subscription; both name the same parameters.

use serde_json::{Map, Value};

/// A decoded list query. Booleans are `true`/`1`/empty for yes, `false`/`0` for no.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerQuery {
    /// `game` (repeatable, or comma-separated).
    pub games: Vec<String>,
    pub kind: Option<String>,
    /// `q`: text in the name.
    pub text: Option<String>,
    pub map: Option<String>,
    pub not_empty: bool,
    pub not_full: bool,
    pub no_password: bool,
    pub version: Option<String>,
    /// `rule.KEY=VALUE` (repeatable).
    pub rules: Vec<(String, String)>,
    /// A player of this name is on the server.
    pub player: Option<String>,
    pub source: Option<String>,
    /// `players` or `name`.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub order: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
    /// Only for the change feed.
    pub since: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("unknown parameter {0:?}")]
    Unknown(String),
    #[error("parameter {name}: expected {expected}, got {got:?}")]
    Invalid {
        name: String,
        expected: &'static str,
        got: String,
    },
}

const MAX_VALUE: usize = 256;
const MAX_PARAMS: usize = 64;

impl ServerQuery {
    /// Decodes `name=value` pairs (already percent-decoded).
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, QueryError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut q = ServerQuery::default();
        for (i, (name, value)) in pairs.into_iter().enumerate() {
            let (name, value) = (name.as_ref(), value.as_ref());
            if i >= MAX_PARAMS {
                return Err(invalid("query", "at most 64 parameters", ""));
            }
            if value.len() > MAX_VALUE {
                return Err(invalid(name, "at most 256 bytes", "…"));
            }
            q.set(name, value)?;
        }
        Ok(q)
    }

    /// Decodes a WebSocket `filter` object: strings, numbers and booleans as in the
    /// query string, arrays for repeated parameters, and `rules` as an object.
    pub fn from_json(filter: &Map<String, Value>) -> Result<Self, QueryError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, value) in filter {
            match (name.as_str(), value) {
                ("rules", Value::Object(rules)) => {
                    for (k, v) in rules {
                        pairs.push((format!("rule.{k}"), scalar(name, v)?));
                    }
                }
                (_, Value::Array(items)) => {
                    for v in items {
                        pairs.push((name.clone(), scalar(name, v)?));
                    }
                }
                (_, Value::Null) => {}
                (_, v) => pairs.push((name.clone(), scalar(name, v)?)),
            }
        }
        Self::from_pairs(pairs)
    }

    fn set(&mut self, name: &str, value: &str) -> Result<(), QueryError> {
        let text = || (!value.is_empty()).then(|| value.to_string());
        match name {
            "game" => self
                .games
                .extend(value.split(',').filter(|g| !g.is_empty()).map(String::from)),
            "kind" => self.kind = text(),
            "q" => self.text = text(),
            "map" => self.map = text(),
            "not_empty" => self.not_empty = flag(name, value)?,
            "not_full" => self.not_full = flag(name, value)?,
            "no_password" => self.no_password = flag(name, value)?,
            "version" => self.version = text(),
            "player" => self.player = text(),
            "source" => self.source = text(),
            "sort" => self.sort = text(),
            "order" => self.order = text(),
            "cursor" => self.cursor = text(),
            "limit" => self.limit = Some(number(name, value)?),
            "since" => self.since = Some(number(name, value)?),
            _ => match name.strip_prefix("rule.") {
                Some(key) if !key.is_empty() => self.rules.push((key.into(), value.into())),
                _ => return Err(QueryError::Unknown(name.into())),
            },
        }
        Ok(())
    }
}

fn invalid(name: &str, expected: &'static str, got: &str) -> QueryError {
    QueryError::Invalid {
        name: name.into(),
        expected,
        got: got.into(),
    }
}

fn flag(name: &str, value: &str) -> Result<bool, QueryError> {
    match value {
        "" | "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(invalid(name, "true or false", value)),
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, QueryError> {
    value
        .parse()
        .map_err(|_| invalid(name, "a non-negative integer", value))
}

fn scalar(name: &str, v: &Value) -> Result<String, QueryError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(invalid(name, "a string, number or boolean", &v.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_string_pairs() {
        let q = ServerQuery::from_pairs([
            ("game", "oa,tw"),
            ("game", "q3"),
            ("not_empty", ""),
            ("not_full", "false"),
            ("rule.g_gametype", "4"),
            ("limit", "50"),
            ("q", "arena"),
        ])
        .unwrap();
        assert_eq!(q.games, ["oa", "tw", "q3"]);
        assert!(q.not_empty && !q.not_full);
        assert_eq!(q.rules, [("g_gametype".to_string(), "4".to_string())]);
        assert_eq!((q.limit, q.text.as_deref()), (Some(50), Some("arena")));
    }

    #[test]
    fn bad_pairs_say_what_was_expected() {
        let err = |pairs: &[(&str, &str)]| {
            ServerQuery::from_pairs(pairs.iter().copied())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err(&[("gmae", "oa")]), "unknown parameter \"gmae\"");
        assert_eq!(
            err(&[("limit", "-1")]),
            "parameter limit: expected a non-negative integer, got \"-1\""
        );
        assert_eq!(
            err(&[("not_full", "maybe")]),
            "parameter not_full: expected true or false, got \"maybe\""
        );
        assert!(err(&[("q", &"x".repeat(300))]).contains("at most 256 bytes"));
    }

    #[test]
    fn json_filter_names_the_same_parameters() {
        let filter = serde_json::json!({
            "game": ["oa", "tw"], "not_empty": true, "limit": 10, "rules": {"mode": "ctf"}, "map": null
        });
        let q = ServerQuery::from_json(filter.as_object().unwrap()).unwrap();
        assert_eq!(q.games, ["oa", "tw"]);
        assert!(q.not_empty);
        assert_eq!(q.limit, Some(10));
        assert_eq!(q.rules, [("mode".to_string(), "ctf".to_string())]);
        let bad = serde_json::json!({"game": {"x": 1}});
        assert!(ServerQuery::from_json(bad.as_object().unwrap()).is_err());
    }
}
