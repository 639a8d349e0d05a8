//! Server list filters as the query string of `GET /api/v1/servers`
//! (`game=openarena&not_empty=1&rule.g_gametype=4`), checked before they travel, and
//! turned into the `filter` object of a WebSocket subscription.

use glou_proto::native::ServerQuery;
use serde_json::{Map, Value};

use crate::Error;

/// The `name=value` pairs of a query string, decoded as the server decodes them
/// (`application/x-www-form-urlencoded`: `+` is a space, bad escapes stay as written).
fn pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Checks a filter as the server will (unknown parameters, bad values).
pub(crate) fn check(query: &str) -> Result<(), Error> {
    ServerQuery::from_pairs(pairs(query))
        .map(drop)
        .map_err(|e| Error::Invalid(format!("filter: {e}")))
}

/// `query` with its `cursor` replaced by `cursor`.
pub(crate) fn with_cursor(query: &str, cursor: &str) -> String {
    let kept = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("cursor="));
    let mut out: Vec<String> = kept.map(String::from).collect();
    out.push(format!("cursor={cursor}"));
    out.join("&")
}

/// A filter query string as the `filter` object of a WebSocket subscription: repeated
/// parameters become arrays, every value stays a string (the server reads both alike).
pub fn filter_json(query: &str) -> Result<Map<String, Value>, Error> {
    check(query)?;
    let mut map = Map::new();
    for (name, value) in pairs(query) {
        match map.get_mut(&name) {
            None => {
                map.insert(name, Value::String(value));
            }
            Some(Value::Array(items)) => items.push(Value::String(value)),
            Some(first) => {
                let first = first.take();
                map.insert(name, Value::Array(vec![first, Value::String(value)]));
            }
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_query_string_becomes_the_same_filter_object() {
        let map =
            filter_json("game=oa&game=q3&not_empty=1&q=my+server%21&rule.g_gametype=4").unwrap();
        assert_eq!(
            Value::Object(map.clone()),
            json!({"game": ["oa", "q3"], "not_empty": "1", "q": "my server!", "rule.g_gametype": "4"})
        );
        let from_json = ServerQuery::from_json(&map).unwrap();
        let from_pairs = ServerQuery::from_pairs(pairs(
            "game=oa,q3&not_empty=1&q=my server!&rule.g_gametype=4",
        ))
        .unwrap();
        assert_eq!(from_json, from_pairs);
    }

    #[test]
    fn bad_filters_are_refused_before_they_travel() {
        for bad in ["colour=red", "not_empty=maybe", "limit=x", "rule.=1"] {
            let e = filter_json(bad).unwrap_err();
            assert!(matches!(e, Error::Invalid(_)), "{bad}: {e:?}");
        }
        assert!(filter_json("").unwrap().is_empty());
    }

    #[test]
    fn the_cursor_is_replaced() {
        assert_eq!(
            with_cursor("game=oa&cursor=p1.a", "p2.b"),
            "game=oa&cursor=p2.b"
        );
        assert_eq!(with_cursor("", "p2.b"), "cursor=p2.b");
    }
}
