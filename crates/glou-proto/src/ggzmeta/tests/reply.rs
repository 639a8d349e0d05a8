//! Reply encoding and the entry filter: options, delta, `class="*"`, escaping.

use super::*;

fn entry(class: &str, kind: &str, uri: &str, options: &[(&str, &str)]) -> Entry {
    Entry {
        class: class.into(),
        kind: kind.into(),
        uri: uri.into(),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn query(class: Class, kind: &str, delta: Option<i64>, options: &[(&str, &str)]) -> Query {
    Query {
        class,
        kind: kind.into(),
        delta,
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn ggz() -> Class {
    Class::Named("ggz".into())
}

#[test]
fn an_entry_is_dropped_only_if_it_has_the_option_with_another_value() {
    let e = entry(
        "ggz",
        "connection",
        "ggz://a",
        &[("protocol", "10"), ("speed", "0")],
    );
    assert!(matches(&e, &query(ggz(), "connection", None, &[])));
    assert!(matches(
        &e,
        &query(ggz(), "connection", None, &[("protocol", "10")])
    ));
    assert!(matches(
        &e,
        &query(ggz(), "connection", None, &[("absent", "x")])
    ));
    assert!(!matches(
        &e,
        &query(ggz(), "connection", None, &[("protocol", "9")])
    ));
    assert!(!matches(
        &e,
        &query(
            ggz(),
            "connection",
            None,
            &[("protocol", "10"), ("speed", "1")]
        )
    ));
    assert!(!matches(&e, &query(ggz(), "meta", None, &[])));
    assert!(!matches(
        &e,
        &query(Class::Named("chess".into()), "connection", None, &[])
    ));
    assert!(matches(&e, &query(Class::All, "connection", None, &[])));
    // Values compare exactly, as strcmp.
    assert!(!matches(
        &e,
        &query(ggz(), "connection", None, &[("protocol", "10 ")])
    ));
}

#[test]
fn delta_skips_only_stamped_entries_published_before_it() {
    let shipped = entry("ggz", "connection", "ggz://config", &[]);
    let published = Entry::published("ggz", "connection", "ggz://new", &[], 1000);
    assert_eq!(published.stamp(), Some(1000 + STAMP_TOLERANCE_SECS));
    assert_eq!(shipped.stamp(), None);
    for (delta, keeps_published) in [(None, true), (Some(8200), true), (Some(8201), false)] {
        let q = query(ggz(), "connection", delta, &[]);
        assert!(matches(&shipped, &q));
        assert_eq!(matches(&published, &q), keeps_published, "{delta:?}");
    }
    // The hidden stamp is an option like any other for the filter, never in replies.
    let q = query(ggz(), "connection", None, &[(STAMP, "0")]);
    assert!(!matches(&published, &q));
    let reply = Reply::Results {
        entries: vec![&published],
        with_class: false,
    };
    assert_eq!(
        reply.encode(),
        b"<?xml version=\"1.0\"?><resultset referer=\"query\"><result uri=\"ggz://new\"></result></resultset>\n"
    );
}

#[test]
fn class_star_adds_the_class_to_each_result() {
    let a = entry("ggz", "connection", "ggz://a", &[("k", "v")]);
    let b = entry("chess", "connection", "ggz://b", &[]);
    let reply = Reply::Results {
        entries: vec![&a, &b],
        with_class: true,
    };
    assert_eq!(
        String::from_utf8(reply.encode()).unwrap(),
        "<?xml version=\"1.0\"?><resultset referer=\"query\"><result uri=\"ggz://a\" class=\"ggz\"><option name=\"k\">v</option></result><result uri=\"ggz://b\" class=\"chess\"></result></resultset>\n"
    );
}

#[test]
fn empty_list_status_and_uri_replies() {
    assert_eq!(Reply::Empty.encode(), EMPTY_REPLY);
    assert_eq!(Reply::Uris(vec![]).encode(), EMPTY_REPLY);
    assert_eq!(
        Reply::Results {
            entries: vec![],
            with_class: false
        }
        .encode(),
        b"<?xml version=\"1.0\"?><resultset referer=\"query\"></resultset>\n"
    );
    assert_eq!(
        Reply::List(vec!["ggz", "chess"]).encode(),
        b"<?xml version=\"1.0\"?><resultset referer=\"list\"><class>ggz</class><class>chess</class></resultset>\n"
    );
    for (status, word) in [
        (Status::Accepted, "accepted"),
        (Status::Rejected, "rejected"),
        (Status::Wrong, "wrong"),
        (Status::Readonly, "readonly"),
    ] {
        assert_eq!(
            String::from_utf8(Reply::Status(status).encode()).unwrap(),
            format!(
                "<?xml version=\"1.0\"?><resultset referer=\"update\"><status>{word}</status></resultset>\n"
            )
        );
    }
    let a = entry("ggz", "connection", "ggz://a:1", &[]);
    let sneaky = entry("ggz", "connection", "ggz://b\r\nggz://evil", &[]);
    assert_eq!(
        Reply::Uris(vec![&a, &sneaky]).encode(),
        b"ggz://a:1\nggz://bggz://evil\n\n"
    );
}

#[test]
fn values_are_escaped_only_where_xml_needs_it() {
    // What the original writes as is (quotes, apostrophes, '>') stays as is ...
    let plain = entry(
        "ggz",
        "connection",
        "ggz://x:5688/#Bob's>room",
        &[("name", "Bob's \"best\" > all")],
    );
    assert_eq!(
        String::from_utf8(
            Reply::Results {
                entries: vec![&plain],
                with_class: false
            }
            .encode()
        )
        .unwrap(),
        "<?xml version=\"1.0\"?><resultset referer=\"query\"><result uri=\"ggz://x:5688/#Bob's>room\"><option name=\"name\">Bob's \"best\" > all</option></result></resultset>\n"
    );
    // ... while '&', '<', and '"' in attributes are escaped so the reply stays
    // well-formed (the original would write them raw).
    let odd = entry(
        "a&b",
        "connection",
        "ggz://x/?a=1&b=\"2\"",
        &[("k<\"", "<&>")],
    );
    let bytes = Reply::Results {
        entries: vec![&odd],
        with_class: true,
    }
    .encode();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        "<?xml version=\"1.0\"?><resultset referer=\"query\"><result uri=\"ggz://x/?a=1&amp;b=&quot;2&quot;\" class=\"a&amp;b\"><option name=\"k&lt;&quot;\">&lt;&amp;></option></result></resultset>\n"
    );
    assert_eq!(
        Reply::List(vec!["<&>"]).encode(),
        b"<?xml version=\"1.0\"?><resultset referer=\"list\"><class>&lt;&amp;></class></resultset>\n"
    );
    // It parses back to the same values.
    let text = String::from_utf8(bytes).unwrap();
    let limits = xml::Limits {
        max_depth: 8,
        max_attrs: 8,
        max_elements: 8,
    };
    let root = xml::parse(text.trim_end(), limits).unwrap();
    let result = &root.children[0];
    assert_eq!(result.attr("uri"), Some(odd.uri.as_str()));
    assert_eq!(result.attr("class"), Some("a&b"));
    assert_eq!(result.children[0].attr("name"), Some("k<\""));
    assert_eq!(result.children[0].text, "<&>");
}

#[test]
fn subscriptions_answer_like_queries_then_one_line_per_change() {
    let e = Entry::published(
        "ggz",
        "connection",
        "ggz://a:5688",
        &[("name".into(), "A".into())],
        100,
    );
    assert_eq!(
        Reply::Subscribed {
            entries: vec![&e],
            with_class: false
        }
        .encode(),
        b"<?xml version=\"1.0\"?><resultset referer=\"subscribe\"><result uri=\"ggz://a:5688\"><option name=\"name\">A</option></result></resultset>\n"
    );
    assert_eq!(
        Reply::Change {
            entry: &e,
            change: Change::Delete,
            with_class: true
        }
        .encode(),
        b"<?xml version=\"1.0\"?><resultset referer=\"subscribe\"><result uri=\"ggz://a:5688\" class=\"ggz\" mode=\"delete\"><option name=\"name\">A</option></result></resultset>\n"
    );
    // Results encoded once and copied make the same bytes as the reply.
    let mut one = String::new();
    e.encode_result(false, None, &mut one);
    assert_eq!(
        results_reply(false, [one.as_str(), one.as_str()]),
        Reply::Results {
            entries: vec![&e, &e],
            with_class: false
        }
        .encode()
    );
}
