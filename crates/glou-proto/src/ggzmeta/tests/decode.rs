//! Request decoding: the original's framing quirks, and bad or hostile input.

use super::*;

fn uri(class: &str, kind: &str) -> Request {
    Request::Uri {
        class: Class::Named(class.into()),
        kind: kind.into(),
    }
}

fn invalid(bytes: &[u8]) -> bool {
    matches!(Request::decode(bytes), Request::Invalid(_))
}

#[test]
fn framing_strips_one_newline_then_one_cr_and_stops_at_nul() {
    for input in [
        &b"query://ggz/connection"[..],
        b"query://ggz/connection\n",
        b"query://ggz/connection\r\n",
        b"query://ggz/connection\0",
        b"query://ggz/connection\n\0",
        b"query://ggz/connection\0garbage after the NUL",
    ] {
        assert_eq!(
            Request::decode(input),
            uri("ggz", "connection"),
            "{input:?}"
        );
    }
    // Only one of each, and \n before \r: what is left stays in the type.
    assert_eq!(
        Request::decode(b"query://ggz/connection\n\n"),
        uri("ggz", "connection\n")
    );
    assert_eq!(
        Request::decode(b"query://ggz/connection\n\r"),
        uri("ggz", "connection\n")
    );
    // libmeta's XML with its trailing NUL.
    assert_eq!(Request::decode(b"<list/>\0"), Request::List);
}

#[test]
fn uri_splits_like_strtok() {
    assert_eq!(Request::decode(b"query://ggz/meta/0.5"), uri("ggz", "meta"));
    assert_eq!(Request::decode(b"query:ggz:meta"), uri("ggz", "meta"));
    assert_eq!(Request::decode(b"query:///ggz//meta"), uri("ggz", "meta"));
    assert_eq!(
        Request::decode(b"query://*/connection"),
        Request::Uri {
            class: Class::All,
            kind: "connection".into()
        }
    );
    for bad in [
        &b""[..],
        b"\n",
        b"query://ggz",
        b"query://",
        b"help",
        b"QUERY://ggz/x",
    ] {
        assert_eq!(
            Request::decode(bad),
            Request::Invalid(Invalid::NotAQuery),
            "{bad:?}"
        );
    }
}

#[test]
fn xml_only_when_longer_than_five_bytes_and_starting_with_lt() {
    // Five bytes: taken as a URI, which it is not.
    assert_eq!(
        Request::decode(b"<a/> "),
        Request::Invalid(Invalid::NotAQuery)
    );
    assert_eq!(
        Request::decode(b" <list/>"),
        Request::Invalid(Invalid::NotAQuery)
    );
    assert_eq!(Request::decode(b"<list></list>"), Request::List);
}

#[test]
fn query_attributes_delta_and_options() {
    let req = br#"<query class="ggz" type="connection" delta=" 42xyz"><option name="protocol">10</option><opt name="a">b</opt><option>no name</option></query>"#;
    assert_eq!(
        Request::decode(req),
        Request::Query(Query {
            class: Class::Named("ggz".into()),
            kind: "connection".into(),
            delta: Some(42),
            options: vec![("protocol".into(), "10".into()), ("a".into(), "b".into())],
        })
    );
    let Request::Query(q) = Request::decode(br#"<query class="*" type="x" delta="soon"/>"#) else {
        panic!()
    };
    assert_eq!((q.class, q.delta), (Class::All, Some(0)));
    assert_eq!(
        Request::decode(br#"<query type="connection"/>"#),
        Request::Invalid(Invalid::MissingAttribute("class"))
    );
    assert_eq!(
        Request::decode(br#"<query class="ggz"/>"#),
        Request::Invalid(Invalid::MissingAttribute("type"))
    );
}

#[test]
fn update_keeps_missing_attributes_and_stops_at_an_empty_option() {
    let req = br#"<update class="ggz" mode="replace"><option name="a">1</option><x name="skipped">2</x><option name="b"/><option name="c">3</option></update>"#;
    let Request::Update(u) = Request::decode(req) else {
        panic!()
    };
    assert_eq!(u.mode, Some(Mode::Unknown("replace".into())));
    assert_eq!(u.missing_argument(), Some("type"));
    assert_eq!((u.username, u.uri), (None, None));
    assert_eq!(u.options, vec![("a".into(), "1".into())]);
    assert_eq!(
        Request::decode(
            &Request::Update(Update {
                class: None,
                kind: None,
                username: None,
                password: None,
                mode: None,
                uri: None,
                options: vec![],
            })
            .encode()
        ),
        Request::decode(b"<?xml version=\"1.0\"?><update/>")
    );
}

#[test]
fn names_are_case_sensitive_and_values_unescaped() {
    assert_eq!(
        Request::decode(b"<QUERY class='ggz' type='x'/>"),
        Request::Invalid(Invalid::UnknownRoot("QUERY".into()))
    );
    assert_eq!(
        Request::decode(b"<query CLASS='ggz' type='x'/>"),
        Request::Invalid(Invalid::MissingAttribute("class"))
    );
    let Request::Query(q) = Request::decode(
        b"<query class='a&amp;b' type=\"t\"><option name='n'>&lt;&#65;&#x42;&apos;<![CDATA[<&>]]></option></query>",
    ) else {
        panic!()
    };
    assert_eq!(q.class, Class::Named("a&b".into()));
    assert_eq!(q.options, vec![("n".into(), "<AB'<&>".into())]);
    // And back: escaped again, decoding to the same.
    assert_eq!(
        Request::decode(&Request::Query(q.clone()).encode()),
        Request::Query(q)
    );
}

#[test]
fn unknown_roots_and_bad_xml_are_invalid() {
    for bad in [
        &b"<help/>\n"[..],
        b"<query class='ggz' type='x'>",
        b"<query class='ggz' type='x'></update>",
        b"<query class='ggz' type='x'/><list/>",
        b"<query class='ggz' class='ggz' type='x'/>",
        b"<query class=ggz type='x'/>",
        b"<query class='a<b' type='x'/>",
        b"<query class='&nbsp;' type='x'/>",
        b"<query class='&#0;' type='x'/>",
        b"<query class='&#xD800;' type='x'/>",
        b"<query class='&' type='x'/>",
        b"<list>\x01</list>",
        b"<list>\xff</list>",
        b"<!-- only a comment -->",
        b"<list/ >",
        b"<list",
    ] {
        assert!(invalid(bad), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn doctype_entities_and_bombs_are_refused() {
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><query class="&lol2;" type="x"/>"#;
    let Request::Invalid(Invalid::Xml(e)) = Request::decode(bomb) else {
        panic!("{:?}", Request::decode(bomb))
    };
    assert_eq!(e.what, "DOCTYPE is not allowed");
    let external = br#"<!DOCTYPE q SYSTEM "file:///etc/passwd"><query class="ggz" type="x"/>"#;
    assert!(invalid(external));
    assert!(invalid(b"<query class='&lol;' type='x'/>"));
    // Deep nesting and many elements stay within limits.
    let deep = format!("<list>{}{}</list>", "<a>".repeat(300), "</a>".repeat(300));
    assert!(invalid(&deep.as_bytes()[..MAX_REQUEST.min(deep.len())]));
    let nested = format!("<list>{}{}</list>", "<a>".repeat(20), "</a>".repeat(20));
    assert!(invalid(nested.as_bytes()));
    let many = format!("<list>{}</list>", "<a/>".repeat(250));
    assert!(invalid(many.as_bytes()));
}

#[test]
fn over_long_requests_are_invalid() {
    let mut long = b"query://ggz/".to_vec();
    long.resize(MAX_REQUEST, b'x');
    assert!(matches!(Request::decode(&long), Request::Uri { .. }));
    long.push(b'x');
    assert_eq!(Request::decode(&long), Request::Invalid(Invalid::TooLong));
}

#[test]
fn decode_is_total_on_every_prefix_and_byte_flip() {
    let req = br#"<?xml version="1.0"?><update class="ggz" type="connection" username="josef" password="ggzrocks" mode="add" uri="ggz://127.0.0.1:5688"><option name="version">0.99.5</option></update>"#;
    for n in 0..=req.len() {
        round_trips(&req[..n]);
        let mut flipped = req.to_vec();
        if n < req.len() {
            for b in [0u8, b'<', b'>', b'&', b'"', b'/', 0xff] {
                flipped[n] = b;
                round_trips(&flipped);
            }
        }
    }
}

/// The fuzz target's property: a decoded request re-encodes to one that decodes the
/// same, where the encoding still fits one read.
fn round_trips(bytes: &[u8]) {
    let request = Request::decode(bytes);
    let encoded = request.encode();
    if !matches!(request, Request::Invalid(_)) && encoded.len() <= MAX_REQUEST {
        assert_eq!(Request::decode(&encoded), request, "{bytes:?}");
    }
}

#[test]
fn odd_values_round_trip() {
    for bytes in [
        &b"<query class='a b' type='&#13;&#10;x' delta='-99999999999999999999999'><o name='k'/></query>"[..],
        b"<update class='\'' type='\"' mode='&amp;' uri='&lt;'><option name='n'>&#9;v&#9;</option></update>",
        b"query://a\n/b\n\n",
    ] {
        round_trips(bytes);
    }
}

#[test]
fn subscribe_and_federate_are_glou_requests() {
    let sub = Request::decode(
        b"<subscribe class=\"ggz\" type=\"connection\"><option name=\"protocol\">10</option></subscribe>\n",
    );
    assert_eq!(
        sub,
        Request::Subscribe(Query {
            class: Class::Named("ggz".into()),
            kind: "connection".into(),
            delta: None,
            options: vec![("protocol".into(), "10".into())],
        })
    );
    assert_eq!(Request::decode(&sub.encode()), sub);
    assert_eq!(
        Request::decode(b"<subscribe class=\"*\"/>"),
        Request::Invalid(Invalid::MissingAttribute("type"))
    );
    let fed =
        Request::decode(b"<federate community=\"alpha\" username=\"alpha\" password=\"s&amp;\"/>");
    assert_eq!(
        fed,
        Request::Federate(Federate {
            community: "alpha".into(),
            username: "alpha".into(),
            password: "s&".into(),
        })
    );
    assert_eq!(Request::decode(&fed.encode()), fed);
    assert_eq!(
        Request::decode(b"<federate community=\"alpha\" password=\"x\"/>"),
        Request::Invalid(Invalid::MissingAttribute("username"))
    );
}
