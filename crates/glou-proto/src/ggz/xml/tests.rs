//! Reader tests: well-formedness, limits, memory, and that input split anywhere reads
//! the same as input fed whole.

use super::*;

const HEAD: &str = "<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n";

/// Everything the reader yields for `input` fed in `chunk`-byte pieces.
fn read_chunked(input: &[u8], chunk: usize) -> (Vec<Item>, Option<XmlError>) {
    let mut reader = XmlReader::new(Limits::default());
    let mut items = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        reader.feed(piece);
        loop {
            match reader.next() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(e) => return (items, Some(e)),
            }
        }
    }
    (items, None)
}

/// Reads `input` whole, byte by byte and in 7-byte pieces; all three must agree.
fn read(input: &str) -> (Vec<Item>, Option<XmlError>) {
    let whole = read_chunked(input.as_bytes(), usize::MAX);
    assert_eq!(read_chunked(input.as_bytes(), 1), whole, "byte by byte");
    assert_eq!(read_chunked(input.as_bytes(), 7), whole, "7-byte chunks");
    whole
}

/// The elements of a session body, which must read without error.
fn elements(body: &str) -> Vec<Element> {
    let (items, err) = read(&format!("{HEAD}{body}"));
    assert_eq!(err, None, "{body}");
    assert_eq!(items.first(), Some(&Item::SessionStart));
    items
        .into_iter()
        .filter_map(|i| match i {
            Item::Element(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// The error a session body ends in.
fn error(body: &str) -> XmlError {
    let (_, err) = read(&format!("{HEAD}{body}"));
    err.unwrap_or_else(|| panic!("no error for {body:?}"))
}

fn bad_xml(body: &str) {
    assert!(
        matches!(error(body), XmlError::BadXml(_)),
        "{body:?} should be bad xml"
    );
}

#[test]
fn a_ggzcore_session() {
    let input = format!(
        "{HEAD}<LANGUAGE>C.UTF-8</LANGUAGE>\n<LOGIN TYPE='guest'>\n<NAME>erin</NAME>\n</LOGIN>\n\
         <PONG/>\n</SESSION>\n"
    );
    let (items, err) = read(&input);
    assert_eq!(err, None);
    let name = |e: &Element| e.name.clone();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0], Item::SessionStart);
    let Item::Element(login) = &items[2] else {
        panic!()
    };
    assert_eq!(name(login), "LOGIN");
    assert_eq!(login.attr("type"), Some("guest"));
    assert_eq!(login.child("name").map(|n| n.text.as_str()), Some("erin"));
    assert_eq!(login.text, "\n\n");
    assert_eq!(items[4], Item::SessionEnd);
}

#[test]
fn tags_and_attribute_names_are_case_insensitive() {
    let e = elements("<chat Type=\"normal\" to='bob'>hi</CHAT>");
    assert_eq!(e[0].name, "CHAT");
    assert_eq!(
        e[0].attrs,
        [
            ("TYPE".into(), "normal".into()),
            ("TO".into(), "bob".into())
        ]
    );
    assert_eq!(e[0].attr("tYpE"), Some("normal"));
    bad_xml("<A></B>");
    bad_xml("<A><B></A></B>");
}

#[test]
fn entities_and_character_references() {
    let e = elements("<C A='&lt;&amp;&gt;'>&amp;&lt;&gt;&apos;&quot;&#65;&#x42;&#x1F600;</C>");
    assert_eq!(e[0].text, "&<>'\"AB\u{1F600}");
    assert_eq!(e[0].attr("A"), Some("<&>"));
    for body in [
        "<C>&nbsp;</C>",
        "<C>a & b</C>",
        "<C>&#0;</C>",
        "<C>&#xD800;</C>",
        "<C>&#x110000;</C>",
        "<C>&#X41;</C>",
        "<C>&#-1;</C>",
        "<C>&#;</C>",
        "<C A='&bogus;'/>",
    ] {
        bad_xml(body);
    }
}

#[test]
fn cdata_comments_and_processing_instructions() {
    let e = elements(
        "<!-- hello --><?pi x?><MOTD><![CDATA[\n<b> & ]] ]>\n]]><!-- c -->tail<?p?></MOTD>",
    );
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].text, "\n<b> & ]] ]>\ntail");
    bad_xml("<!DOCTYPE x>");
    bad_xml("<!-x-->");
}

#[test]
fn attribute_syntax() {
    let e = elements("<A B = 'x' C=\"it's\"\tD='say \"hi\"'/>");
    assert_eq!(e[0].attr("B"), Some("x"));
    assert_eq!(e[0].attr("C"), Some("it's"));
    assert_eq!(e[0].attr("D"), Some("say \"hi\""));
    for body in [
        "<A B='1'C='2'/>",
        "<A B/>",
        "<A B=1/>",
        "<A B='<'/>",
        "<A B='1' B='2'/>",
        "<A / >",
        "<1A/>",
        "< A/>",
        "</ A>",
    ] {
        bad_xml(body);
    }
}

#[test]
fn not_xml_fails_before_any_closing_bracket() {
    // t2 connection D: ggzd (expat) answers `bad xml` to this unterminated line.
    let (items, err) = read(&format!("{HEAD}<LIST TYPE='room'/>\n<this is not xml\n"));
    assert_eq!(items.len(), 2);
    assert!(matches!(err, Some(XmlError::BadXml(_))), "{err:?}");
}

#[test]
fn structure_outside_elements() {
    // Text directly under SESSION is ignored; before it, it is an error.
    let e = elements("junk\n<PING/> more junk <PONG/>");
    assert_eq!(e.len(), 2);
    let (_, err) = read("hello <SESSION>");
    assert!(matches!(err, Some(XmlError::BadXml(_))));
    let (_, err) = read("<CHAT>hi</CHAT>");
    assert!(
        matches!(err, Some(XmlError::BadXml(_))),
        "root must be SESSION"
    );
    let (_, err) = read("</SESSION>");
    assert!(matches!(err, Some(XmlError::BadXml(_))));
    let (items, err) = read("<session/>");
    assert_eq!(
        (items, err),
        (vec![Item::SessionStart, Item::SessionEnd], None)
    );
    // A second SESSION inside the first is just an element.
    let e = elements("<SESSION><PING/></SESSION>");
    assert_eq!(e[0].name, "SESSION");
    assert_eq!(e[0].children[0].name, "PING");
}

#[test]
fn invalid_text() {
    bad_xml("<C>\u{1}</C>");
    let mut input = format!("{HEAD}<C>").into_bytes();
    input.extend_from_slice(b"\xff\xfe</C>");
    let (_, err) = read_chunked(&input, 1);
    assert_eq!(err, Some(XmlError::BadXml("invalid UTF-8".into())));
}

#[test]
fn depth_and_attribute_limits() {
    // SESSION is depth 1, so 7 nested elements fit in 8.
    let ok = "<A><A><A><A><A><A><A/></A></A></A></A></A></A>";
    assert_eq!(elements(ok).len(), 1);
    bad_xml("<A><A><A><A><A><A><A><A/></A></A></A></A></A></A></A>");
    let attrs = |n: usize| (0..n).map(|i| format!(" A{i}='{i}'")).collect::<String>();
    assert_eq!(elements(&format!("<X{}/>", attrs(32))).len(), 1);
    bad_xml(&format!("<X{}/>", attrs(33)));
}

#[test]
fn text_without_a_tag_is_bounded() {
    // ggzd's rule: more than MAX_CHAT_LEN bytes without a tag.
    let mut reader = XmlReader::new(Limits::default());
    reader.feed(HEAD.trim_end().as_bytes());
    assert_eq!(reader.next(), Ok(Some(Item::SessionStart)));
    for i in 0..600 {
        reader.feed(b"x");
        let result = reader.next();
        if i < 512 {
            assert_eq!(result, Ok(None), "byte {i}");
        } else {
            assert_eq!(result, Err(XmlError::TooLong), "byte {i}");
            break;
        }
    }
    assert_eq!(reader.next(), Err(XmlError::TooLong), "errors are final");
    assert_eq!(error(&"y".repeat(600)), XmlError::TooLong);
    assert_eq!(
        error(&format!("<!--{}-->", "z".repeat(600))),
        XmlError::TooLong
    );
}

#[test]
fn a_huge_attribute_is_refused_without_buffering_it() {
    let mut reader = XmlReader::new(Limits::default());
    reader.feed(HEAD.as_bytes());
    assert_eq!(reader.next(), Ok(Some(Item::SessionStart)));
    reader.feed(b"<CHAT TYPE='");
    let chunk = [b'a'; 4096];
    let mut fed = 0;
    let err = loop {
        reader.feed(&chunk);
        fed += chunk.len();
        assert!(reader.buf.capacity() <= 2 * Limits::default().max_element_bytes + chunk.len());
        match reader.next() {
            Ok(None) => assert!(fed < 1 << 20),
            other => break other,
        }
    };
    assert_eq!(err, Err(XmlError::TooLong));
    assert!(fed <= 20 * 1024, "noticed after {fed} bytes");
    // Also when the whole megabyte arrives at once: the scan stops at the limit.
    let mut reader = XmlReader::new(Limits::default());
    let mut input = format!("{HEAD}<CHAT TYPE='").into_bytes();
    input.resize(1 << 20, b'a');
    reader.feed(&input);
    assert_eq!(reader.next(), Ok(Some(Item::SessionStart)));
    assert_eq!(reader.next(), Err(XmlError::TooLong));
    assert_eq!(reader.buf.capacity(), 0, "dropped on error");
}

#[test]
fn element_size_limit_counts_the_decoded_tree() {
    assert_eq!(elements(&format!("<C>{}</C>", "x".repeat(15_000))).len(), 1);
    assert_eq!(
        error(&format!("<C>{}</C>", "x".repeat(17_000))),
        XmlError::TooLong
    );
    // 2,000 empty children are 8 KiB of input but far more as a tree.
    assert_eq!(
        error(&format!("<C>{}</C>", "<a/>".repeat(2_000))),
        XmlError::TooLong
    );
}

#[test]
fn an_idle_reader_is_small() {
    assert!(size_of::<XmlReader>() <= 160, "{}", size_of::<XmlReader>());
    let mut reader = XmlReader::new(Limits::default());
    reader.feed(format!("{HEAD}<C>{}</C>\n", "x".repeat(12_000)).as_bytes());
    assert_eq!(reader.next(), Ok(Some(Item::SessionStart)));
    assert!(matches!(reader.next(), Ok(Some(Item::Element(_)))));
    assert!(reader.buf.capacity() <= KEEP_CAPACITY);
    assert_eq!(reader.next(), Ok(None));
    assert!(reader.stack.capacity() <= 4);
}

#[test]
fn byte_at_a_time_is_linear() {
    // 15 KiB of attribute and text fed one byte at a time: quadratic rescans
    // would take seconds here.
    let body = format!("<C A='{}'>{}</C>", "v".repeat(7_000), "t".repeat(7_000));
    let start = std::time::Instant::now();
    for _ in 0..20 {
        let mut reader = XmlReader::new(Limits::default());
        reader.feed(HEAD.as_bytes());
        assert_eq!(reader.next(), Ok(Some(Item::SessionStart)));
        for &b in body.as_bytes() {
            reader.feed(&[b]);
            while let Some(_item) = reader.next().unwrap() {}
        }
    }
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
}

#[test]
fn session_end_keeps_the_rest() {
    let mut input = format!("{HEAD}<CHANNEL ID='alice' />\n</SESSION>").into_bytes();
    input.extend_from_slice(b"\x00\x06\x00\x00\x00\x04<not xml>");
    for chunk in [1, 3, usize::MAX] {
        let mut reader = XmlReader::new(Limits::default());
        let mut items = Vec::new();
        for piece in input.chunks(chunk) {
            reader.feed(piece);
            while let Some(item) = reader.next().unwrap() {
                items.push(item);
            }
        }
        assert_eq!(items.len(), 3);
        assert_eq!(items[2], Item::SessionEnd);
        reader.feed(b"more");
        assert_eq!(reader.next(), Ok(None));
        assert_eq!(
            reader.into_remaining(),
            b"\x00\x06\x00\x00\x00\x04<not xml>more"
        );
    }
}
