//! The lines of a GGZ server's stream, as `glou bench ggz` reads them: ggzd and Glou
//! both write one element per line, so a line is parsed alone, without an XML parser.
//! Tag and attribute names are matched in upper case, as both servers write them;
//! attribute values are kept raw (still escaped).

/// A line of the server's stream, as far as the bench cares (attribute values raw).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// `<SERVER ID=.. VERSION='10' STATUS='ok'>`.
    Server {
        version: Option<&'a str>,
        status: Option<&'a str>,
    },
    /// `<RESULT ACTION='chat' CODE='ok'/>`, or its open tag.
    Result {
        action: &'a str,
        code: &'a str,
    },
    /// `<PING/>` or `<PING ID='x'/>`.
    Ping {
        id: Option<&'a str>,
    },
    /// `<CHAT TYPE='normal' FROM='alice'>text</CHAT>`.
    Chat {
        from: &'a str,
        text: &'a str,
    },
    /// `<ROOM ID='1' ...>` of a room list.
    Room {
        id: u32,
    },
    EndList,
    EndSession,
    Other,
}

/// The answer to a server's `<PING>`.
pub(crate) fn pong(line: &Line<'_>) -> Option<String> {
    match line {
        Line::Ping { id: Some(id) } => Some(format!("<PONG ID='{id}'/>\n")),
        Line::Ping { id: None } => Some("<PONG/>\n".into()),
        _ => None,
    }
}

/// Parses one line of the server's stream.
pub(crate) fn parse(line: &str) -> Line<'_> {
    let Some(body) = line.trim().strip_prefix('<') else {
        return Line::Other;
    };
    // Skipping the first character keeps the `/` of an end tag in the name.
    let mut ends = body.char_indices().skip(1);
    let name_end = ends.find(|&(_, c)| matches!(c, ' ' | '>' | '/'));
    let name = &body[..name_end.map_or(body.len(), |(i, _)| i)];
    let tag_end = body.find('>').map_or(body.len(), |i| i + 1);
    let (tag, rest) = body.split_at(tag_end);
    match name {
        "SERVER" => Line::Server {
            version: attr(tag, "VERSION"),
            status: attr(tag, "STATUS"),
        },
        "RESULT" => match (attr(tag, "ACTION"), attr(tag, "CODE")) {
            (Some(action), Some(code)) => Line::Result { action, code },
            _ => Line::Other,
        },
        "PING" => Line::Ping {
            id: attr(tag, "ID"),
        },
        "CHAT" => Line::Chat {
            from: attr(tag, "FROM").unwrap_or_default(),
            text: rest.strip_suffix("</CHAT>").unwrap_or(rest),
        },
        "ROOM" => match attr(tag, "ID").and_then(|id| id.parse().ok()) {
            Some(id) => Line::Room { id },
            None => Line::Other,
        },
        "/LIST" => Line::EndList,
        "/SESSION" => Line::EndSession,
        _ => Line::Other,
    }
}

/// The raw value of attribute `name` in a start tag, quoted either way.
pub(crate) fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let after = &rest[at + name.len()..];
        if rest[..at].ends_with([' ', '\t']) {
            for quote in ['\'', '"'] {
                if let Some(value) = after.strip_prefix('=').and_then(|v| v.strip_prefix(quote)) {
                    return value.split(quote).next();
                }
            }
        }
        rest = after;
    }
    None
}

/// The send time (µs since the bench's epoch) and number of a chat the bench sent:
/// `T:<micros>:<number>`.
pub(super) fn parse_probe(text: &str) -> Option<(u64, u64)> {
    let (us, n) = text.strip_prefix("T:")?.split_once(':')?;
    Some((us.parse().ok()?, n.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_server_lines() {
        let check = |line: &str, expect: Line<'_>| assert_eq!(parse(line), expect, "{line:?}");
        check(
            "<SERVER ID='GGZ-snapshot-0.99.5+' NAME='Test GGZ Server' VERSION='10' \
             STATUS='ok' TLS_SUPPORT='no'>\n",
            Line::Server {
                version: Some("10"),
                status: Some("ok"),
            },
        );
        check(
            "<SERVER ID='GGZ-0.0.14.1' NAME='x' VERSION='10' STATUS='full'/>",
            Line::Server {
                version: Some("10"),
                status: Some("full"),
            },
        );
        let result = |action, code| Line::Result { action, code };
        check(
            "<RESULT ACTION='login' CODE='ok'/>\n",
            result("login", "ok"),
        );
        check("<RESULT ACTION='list' CODE='ok'>", result("list", "ok"));
        check(
            "<RESULT ACTION='chat' CODE='no permission'/>",
            result("chat", "no permission"),
        );
        check(
            "<RESULT CODE=\"room full\" ACTION=\"enter\"/>",
            result("enter", "room full"),
        );
        check("<RESULT ACTION='chat'/>", Line::Other);
        check("<PING/>\n", Line::Ping { id: None });
        check("<PING ID='42'/>", Line::Ping { id: Some("42") });
        check("<PONG/>", Line::Other);
        let chat = |from, text| Line::Chat { from, text };
        check(
            "<CHAT TYPE='normal' FROM='alice'>Hello &amp; welcome</CHAT>\n",
            chat("alice", "Hello &amp; welcome"),
        );
        check(
            "<CHAT TYPE='normal' FROM='b7_12'>T:99:3</CHAT>",
            chat("b7_12", "T:99:3"),
        );
        check("<CHAT TYPE='beep' FROM='bob'/>", chat("bob", ""));
        check(
            "<CHAT TYPE='normal' FROM='x'>FROM='y'</CHAT>",
            chat("x", "FROM='y'"),
        );
        check(
            "<ROOM ID='1' NAME='Tic-Tac-Toe' REFNAME='Tic-Tac-Toe' GAME='0' PLAYERS='0'>",
            Line::Room { id: 1 },
        );
        check("<ROOM ID='x'>", Line::Other);
        check("</LIST>", Line::EndList);
        check("</SESSION>\n", Line::EndSession);
        check("<SESSION>", Line::Other);
        check("<?xml version='1.0' encoding='UTF-8'?>", Line::Other);
        check("# Welcome to vm on port 5688.", Line::Other);
        for odd in [
            "",
            "<",
            "<>",
            "</",
            "<'",
            "<RESULT ACTION='",
            "<PING ID='é",
            "é<CHAT>",
        ] {
            let _ = parse(odd);
        }
    }

    #[test]
    fn answers_pings_and_reads_probes() {
        assert_eq!(pong(&parse("<PING/>")).as_deref(), Some("<PONG/>\n"));
        assert_eq!(
            pong(&parse("<PING ID='7'/>")).as_deref(),
            Some("<PONG ID='7'/>\n")
        );
        assert_eq!(pong(&parse("<RESULT ACTION='chat' CODE='ok'/>")), None);
        assert_eq!(parse_probe("T:123456:78"), Some((123_456, 78)));
        for bad in ["hello", "T:1", "T:x:1", "T:1:", "t:1:2"] {
            assert_eq!(parse_probe(bad), None, "{bad}");
        }
        assert_eq!(attr("<X A='1' BA='2'>", "A"), Some("1"));
        assert_eq!(attr("<X BA='2' A='1'>", "A"), Some("1"));
        assert_eq!(attr("<X BA='2'>", "A"), None);
    }
}
