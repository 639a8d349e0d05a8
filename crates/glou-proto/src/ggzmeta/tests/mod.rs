//! Metaserver codec tests. `capture` replays every request of the real ggzmetaserv
//! 0.5 capture (`../shared/reference/ggz/t4_meta.txt`, copied here as a literal and
//! also read from disk when present) through decode → a small model of the
//! original's behaviour → encode, comparing replies byte for byte.

mod config;
mod decode;
mod reply;

use super::*;

/// The config the capture's server ran with (the original's shipped
/// `metaservconf.xml`, in its own layout: tabs, URIs on their own lines).
const SHIPPED_CONF: &str = "<?xml version=\"1.0\"?>
<metaserver>
\t<entrylist class=\"ggz\">
\t\t<connection version=\"0.0.13\" preference=\"100\" location=\"lorraine/france\" speed=\"1000\" protocol=\"10\" name=\"GGZ Community\">
\t\tggz://live.ggzgamingzone.org:5688
\t\t</connection>
\t\t<connection version=\"0.0.13\" preference=\"100\" location=\"atlanta/usa\" speed=\"1000\" protocol=\"10\" name=\"OpenLadders.net\">
\t\tggz://ggz.openladders.net:5688
\t\t</connection>
\t\t<meta version=\"0.5\" preference=\"100\">
\t\tggzmeta://live.ggzgamingzone.org:15689
\t\t</meta>
\t</entrylist>
\t<configuration>
\t\t<authorization username=\"josef\" password=\"ggzrocks\" realm=\"ggz\" update=\"1\" create=\"1\"/>
\t</configuration>
</metaserver>
";

/// When the capture's M2 session ran: its published entry is stamped
/// `NOW + 7200`, between the two `delta` values it then asked with.
const NOW: i64 = 1_795_250_400;

const CAPTURE: &str = r#"
[M1] C: 'query://ggz/connection\n'
[M1] S: 'ggz://live.ggzgamingzone.org:5688\nggz://ggz.openladders.net:5688\n\n'
[M1] C: 'query://ggz/meta\n'
[M1] S: 'ggzmeta://live.ggzgamingzone.org:15689\n\n'
[M1] C: 'query://nonexistent/connection\n'
[M1] S: '\n'
[M1] C: '<?xml version="1.0"?><query class="ggz" type="connection"/>\n'
[M1] S: '<?xml version="1.0"?><resultset referer="query"><result uri="ggz://live.ggzgamingzone.org:5688"><option name="version">0.0.13</option><option name="preference">100</option><option name="location">lorraine/france</option><option name="speed">1000</option><option name="protocol">10</option><option name="name">GGZ Community</option></result><result uri="ggz://ggz.openladders.net:5688"><option name="version">0.0.13</option><option name="preference">100</option><option name="location">atlanta/usa</option><option name="speed">1000</option><option name="protocol">10</option><option name="name">OpenLadders.net</option></result></resultset>\n'
[M1] C: '<?xml version="1.0"?><query class="ggz" type="connection"><option name="protocol">10</option><option name="name">OpenLadders.net</option></query>\n'
[M1] S: '<?xml version="1.0"?><resultset referer="query"><result uri="ggz://ggz.openladders.net:5688"><option name="version">0.0.13</option><option name="preference">100</option><option name="location">atlanta/usa</option><option name="speed">1000</option><option name="protocol">10</option><option name="name">OpenLadders.net</option></result></resultset>\n'
[M1] C: '<list/>\n'
[M1] S: '<?xml version="1.0"?><resultset referer="list"><class>ggz</class></resultset>\n'
[M1] C: '<query class="*" type="connection"/>\n'
[M1] S: '<?xml version="1.0"?><resultset referer="query"><result uri="ggz://live.ggzgamingzone.org:5688" class="ggz"><option name="version">0.0.13</option><option name="preference">100</option><option name="location">lorraine/france</option><option name="speed">1000</option><option name="protocol">10</option><option name="name">GGZ Community</option></result><result uri="ggz://ggz.openladders.net:5688" class="ggz"><option name="version">0.0.13</option><option name="preference">100</option><option name="location">atlanta/usa</option><option name="speed">1000</option><option name="protocol">10</option><option name="name">OpenLadders.net</option></result></resultset>\n'
[M2] C: '<?xml version="1.0"?><update class="ggz" type="connection" username="josef" password="ggzrocks" mode="add" uri="ggz://127.0.0.1:5688"><option name="version">0.99.5</option><option name="preference">50</option><option name="protocol">10</option></update>\n'
[M2] S: '<?xml version="1.0"?><resultset referer="update"><status>accepted</status></resultset>\n'
[M2] C: '<?xml version="1.0"?><update class="ggz" type="connection" username="josef" password="bad" mode="add" uri="ggz://x:5688"><option name="version">1</option></update>\n'
[M2] S: '<?xml version="1.0"?><resultset referer="update"><status>rejected</status></resultset>\n'
[M2] C: '<?xml version="1.0"?><update class="tictactoe" type="gameroom" username="josef" password="ggzrocks" mode="add" uri="ggz://127.0.0.1:5688/#Tic-Tac-Toe"><option name="version">0.0.10</option></update>\n'
[M2] S: '<?xml version="1.0"?><resultset referer="update"><status>rejected</status></resultset>\n'
[M2] C: '<query class="ggz" type="connection" delta="1795257358"/>\n'
[M2] S: '<?xml version="1.0"?><resultset referer="query"><result uri="ggz://live.ggzgamingzone.org:5688"><option name="version">0.0.13</option><option name="preference">100</option><option name="location">lorraine/france</option><option name="speed">1000</option><option name="protocol">10</option><option name="name">GGZ Community</option></result><result uri="ggz://ggz.openladders.net:5688"><option name="version">0.0.13</option><option name="preference">100</option><option name="location">atlanta/usa</option><option name="speed">1000</option><option name="protocol">10</option><option name="name">OpenLadders.net</option></result><result uri="ggz://127.0.0.1:5688"><option name="version">0.99.5</option><option name="preference">50</option><option name="protocol">10</option></result></resultset>\n'
[M2] C: '<query class="ggz" type="connection" delta="1795357358"/>\n'
[M2] S: '<?xml version="1.0"?><resultset referer="query"><result uri="ggz://live.ggzgamingzone.org:5688"><option name="version">0.0.13</option><option name="preference">100</option><option name="location">lorraine/france</option><option name="speed">1000</option><option name="protocol">10</option><option name="name">GGZ Community</option></result><result uri="ggz://ggz.openladders.net:5688"><option name="version">0.0.13</option><option name="preference">100</option><option name="location">atlanta/usa</option><option name="speed">1000</option><option name="protocol">10</option><option name="name">OpenLadders.net</option></result></resultset>\n'
[M2] C: '<?xml version="1.0"?><update class="ggz" type="connection" username="josef" password="ggzrocks" mode="delete" uri="ggz://127.0.0.1:5688"><option name="x">y</option></update>\n'
[M2] S: '<?xml version="1.0"?><resultset referer="update"><status>accepted</status></resultset>\n'
[M2] C: 'query://ggz/connection\n'
[M2] S: 'ggz://live.ggzgamingzone.org:5688\nggz://ggz.openladders.net:5688\n\n'
"#;

/// A tiny model of ggzmetaserv 0.5 built from this module's types: the listener's
/// job, reduced to what the capture exercises.
struct Model {
    config: Config,
    daemon: bool,
    now: i64,
}

impl Model {
    fn new(daemon: bool) -> Model {
        Model {
            config: Config::parse(SHIPPED_CONF.as_bytes()).unwrap(),
            daemon,
            now: NOW,
        }
    }

    fn known(&self, class: &Class) -> bool {
        match class {
            Class::Named(c) => self.config.classes.contains(c),
            Class::All => true,
        }
    }

    fn found(&self, query: &Query) -> Vec<&Entry> {
        let entries = self.config.entries.iter();
        entries.filter(|e| matches(e, query)).collect()
    }

    fn answer(&mut self, request: &Request) -> Vec<u8> {
        match request {
            Request::Uri { class, kind } if self.known(class) => {
                let query = Query::uri(class.clone(), kind);
                Reply::Uris(self.found(&query)).encode()
            }
            Request::Query(query) if self.known(&query.class) => Reply::Results {
                entries: self.found(query),
                with_class: query.class == Class::All,
            }
            .encode(),
            Request::Uri { .. }
            | Request::Query(_)
            | Request::Invalid(_)
            | Request::Subscribe(_)
            | Request::Federate(_) => Reply::Empty.encode(),
            Request::List => {
                Reply::List(self.config.classes.iter().map(String::as_str).collect()).encode()
            }
            Request::Update(update) => Reply::Status(self.update(update)).encode(),
        }
    }

    fn update(&mut self, u: &Update) -> Status {
        let (Some(username), Some(password), Some(class)) = (&u.username, &u.password, &u.class)
        else {
            return Status::Rejected;
        };
        let creating = !self.config.classes.contains(class);
        let auth = authorize(
            &self.config.authorizations,
            username,
            password,
            class,
            creating,
        );
        if auth == Status::Rejected {
            return auth;
        }
        if !self.daemon {
            return Status::Readonly;
        }
        let (Some(kind), Some(uri), Some(mode), None) =
            (&u.kind, &u.uri, &u.mode, u.missing_argument())
        else {
            return Status::Wrong;
        };
        if auth != Status::Accepted {
            return auth;
        }
        if creating {
            self.config.classes.push(class.clone());
        }
        let entries = &mut self.config.entries;
        match mode {
            Mode::Add => entries.push(Entry::published(class, kind, uri, &u.options, self.now)),
            Mode::Modify => {}
            Mode::Delete => {
                let same = |e: &Entry| e.class == *class && e.kind == *kind && e.uri == *uri;
                if let Some(i) = entries.iter().position(same) {
                    entries.remove(i);
                }
            }
            Mode::Unknown(_) => return Status::Wrong,
        }
        Status::Accepted
    }
}

/// A capture line's quoted bytes: `'…'` with `\n`, `\r`, `\0`, `\\`, `\'` escapes.
fn unquote(s: &str) -> Vec<u8> {
    let s = s.trim().trim_start_matches('\'').trim_end_matches('\'');
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let c = match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n') => '\n',
                Some('r') => '\r',
                Some('0') => '\0',
                Some(other) => other,
                None => '\\',
            },
            (c, false) => c,
        };
        let mut buf = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    out
}

/// `(session, request, reply)` of every exchange in a capture.
fn exchanges(capture: &str) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut pending: Option<(String, Vec<u8>)> = None;
    for line in capture.lines() {
        let Some((session, rest)) = line.strip_prefix('[').and_then(|l| l.split_once("] ")) else {
            continue;
        };
        if let Some(c) = rest.strip_prefix("C: ") {
            pending = Some((session.to_string(), unquote(c)));
        } else if let Some(s) = rest.strip_prefix("S: ") {
            let (session, request) = pending.take().expect("a reply follows a request");
            out.push((session, request, unquote(s)));
        }
    }
    out
}

fn replay(capture: &str) -> usize {
    let mut sessions: Vec<(String, Model)> = Vec::new();
    let all = exchanges(capture);
    for (session, request, reply) in &all {
        let i = match sessions.iter().position(|(s, _)| s == session) {
            Some(i) => i,
            None => {
                // M2 is the daemon (-d) the updates went to.
                sessions.push((session.clone(), Model::new(session == "M2")));
                sessions.len() - 1
            }
        };
        let decoded = Request::decode(request);
        assert!(
            !matches!(decoded, Request::Invalid(_)),
            "{session}: {decoded:?}"
        );
        let answer = sessions[i].1.answer(&decoded);
        assert_eq!(
            String::from_utf8_lossy(&answer),
            String::from_utf8_lossy(reply),
            "{session}: reply to {}",
            String::from_utf8_lossy(request)
        );
        // Requests re-encode to something that decodes the same; those written with
        // the prolog, as libmeta does, come back byte for byte.
        let encoded = decoded.encode();
        assert_eq!(Request::decode(&encoded), decoded);
        if request.starts_with(b"<?xml") {
            assert_eq!(encoded, *request);
        }
    }
    all.len()
}

#[test]
fn capture_replays_byte_for_byte() {
    assert_eq!(replay(CAPTURE), 14);
}

#[test]
fn capture_file_on_disk_replays_too() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/ggz/t4_meta.txt");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            assert_eq!(text.trim(), CAPTURE.trim());
            assert_eq!(replay(&text), 14);
        }
        Err(e) => eprintln!("skipping the check of {}: {e}", path.display()),
    }
}

#[test]
fn capture_requests_decode_as_expected() {
    let all = exchanges(CAPTURE);
    assert_eq!(
        Request::decode(&all[0].1),
        Request::Uri {
            class: Class::Named("ggz".into()),
            kind: "connection".into()
        }
    );
    assert_eq!(Request::decode(&all[5].1), Request::List);
    let Request::Query(star) = Request::decode(&all[6].1) else {
        panic!()
    };
    assert_eq!(star.class, Class::All);
    let Request::Update(u) = Request::decode(&all[7].1) else {
        panic!()
    };
    assert_eq!(u.mode, Some(Mode::Add));
    assert_eq!(u.uri.as_deref(), Some("ggz://127.0.0.1:5688"));
    assert_eq!(u.options.len(), 3);
    let Request::Query(delta) = Request::decode(&all[10].1) else {
        panic!()
    };
    assert_eq!(delta.delta, Some(1_795_257_358));
}
