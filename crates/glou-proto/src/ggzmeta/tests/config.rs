//! `metaservconf.xml` parsing and the authorisation rule.

use super::*;

/// PROTOCOL-NOTES §4.5's example.
const NOTES_EXAMPLE: &str = r#"<?xml version="1.0"?>
<metaserver>
  <entrylist class="ggz">
    <connection version="0.0.13" preference="100" location="lorraine/france" speed="1000" protocol="10" name="GGZ Community">
      ggz://live.ggzgamingzone.org:5688
    </connection>
    <meta version="0.5" preference="100">ggzmeta://live.ggzgamingzone.org:15689</meta>
  </entrylist>
  <configuration>
    <authorization username="josef" password="ggzrocks" realm="ggz" update="1" create="1"/>
    <peer username="node02" password="ggzrocks">ggzmeta://other:15689</peer>
  </configuration>
</metaserver>
"#;

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn auth(realm: &str, update: bool, create: bool) -> Authorization {
    Authorization {
        username: "josef".into(),
        password: "ggzrocks".into(),
        realm: realm.into(),
        update,
        create,
    }
}

#[test]
fn the_notes_example() {
    let config = Config::parse(NOTES_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(
        config,
        Config {
            classes: vec!["ggz".into()],
            entries: vec![
                Entry {
                    class: "ggz".into(),
                    kind: "connection".into(),
                    uri: "ggz://live.ggzgamingzone.org:5688".into(),
                    options: pairs(&[
                        ("version", "0.0.13"),
                        ("preference", "100"),
                        ("location", "lorraine/france"),
                        ("speed", "1000"),
                        ("protocol", "10"),
                        ("name", "GGZ Community"),
                    ]),
                },
                Entry {
                    class: "ggz".into(),
                    kind: "meta".into(),
                    uri: "ggzmeta://live.ggzgamingzone.org:15689".into(),
                    options: pairs(&[("version", "0.5"), ("preference", "100")]),
                },
            ],
            authorizations: vec![auth("ggz", true, true)],
            peers: vec![Peer {
                username: "node02".into(),
                password: "ggzrocks".into(),
                uri: "ggzmeta://other:15689".into(),
            }],
        }
    );
}

#[test]
fn shipped_config_and_empty_classes() {
    let config = Config::parse(SHIPPED_CONF.as_bytes()).unwrap();
    assert_eq!(config.entries.len(), 3);
    assert_eq!(config.entries[1].uri, "ggz://ggz.openladders.net:5688");
    let empty = Config::parse(b"<metaserver><entrylist class='chess'/></metaserver>").unwrap();
    assert_eq!(empty.classes, vec!["chess".to_string()]);
    assert!(empty.entries.is_empty());
    // A cache file keeps the stamps of published entries.
    let cached = Config::parse(
        br#"<metaserver><entrylist class="ggz"><connection version="1" ggzmeta:update="99">ggz://x</connection></entrylist></metaserver>"#,
    )
    .unwrap();
    assert_eq!(cached.entries[0].stamp(), Some(99));
}

#[test]
fn authorization_flags_follow_the_original() {
    let parse = |attrs: &str| {
        let text = format!(
            "<metaserver><configuration><authorization username='u' password='p' realm='r' {attrs}/></configuration></metaserver>"
        );
        let a = &Config::parse(text.as_bytes()).unwrap().authorizations[0];
        (a.update, a.create)
    };
    assert_eq!(parse("update='1'"), (true, false));
    assert_eq!(parse("create='1'"), (true, true));
    assert_eq!(parse("update='0' create='1'"), (false, true));
    assert_eq!(parse("update='1' create='0'"), (true, false));
    assert_eq!(parse("update='yes'"), (false, false));
    assert_eq!(parse(""), (false, false));
}

#[test]
fn config_errors_say_what_was_expected() {
    let err = |text: &str| Config::parse(text.as_bytes()).unwrap_err().to_string();
    assert_eq!(
        err("<metaserv/>"),
        "expected <metaserver> as the root element, found <metaserv>"
    );
    assert_eq!(
        err("<metaserver><entrylist/></metaserver>"),
        "<entrylist> without the class attribute"
    );
    assert_eq!(
        err("<metaserver><entrylist class='a'/><entrylist class='a'/></metaserver>"),
        "class a has more than one <entrylist>"
    );
    assert_eq!(
        err(
            "<metaserver><entrylist class='a'><connection>  </connection></entrylist></metaserver>"
        ),
        "<connection> in class a has no uri, expected the uri as its text"
    );
    assert_eq!(
        err("<metaserver><entrylist class='a'><c>x<d/></c></entrylist></metaserver>"),
        "<c> in class a has child elements, expected only a uri as text"
    );
    assert_eq!(
        err(
            "<metaserver><configuration><authorization username='u' password='p'/></configuration></metaserver>"
        ),
        "<authorization> without the realm attribute"
    );
    assert_eq!(
        err(
            "<metaserver><configuration><authorization username='u' password='p' realm='*' relm='x'/></configuration></metaserver>"
        ),
        "unknown attribute relm on <authorization>"
    );
    assert_eq!(
        err(
            "<metaserver><configuration><peer username='u' password='p'/></configuration></metaserver>"
        ),
        "<peer> without the uri (its text) attribute"
    );
    assert_eq!(
        err("<metaserver><configuration><admin/></configuration></metaserver>"),
        "unexpected <admin> in <configuration>, expected <authorization> or <peer>"
    );
    assert_eq!(
        err("<metaserver><configuration/><configuration/></metaserver>"),
        "more than one <configuration>"
    );
    assert_eq!(
        err("<metaserver><cache/></metaserver>"),
        "unexpected <cache> in <metaserver>, expected <entrylist> or <configuration>"
    );
    assert_eq!(
        err("<?xml version=\"1.0\"?>\n<metaserver>\n  <entrylist class='a'>\n</metaserver>"),
        "bad xml at line 4, column 1: end tag does not match the open element"
    );
    assert_eq!(
        err("<!DOCTYPE m [<!ENTITY a 'b'>]><metaserver/>"),
        "bad xml at line 1, column 1: DOCTYPE is not allowed"
    );
    assert_eq!(
        Config::parse(b"<metaserver>\xff</metaserver>"),
        Err(ConfigError::NotUtf8)
    );
    assert_eq!(
        Config::parse(&vec![b' '; MAX_CONFIG_BYTES + 1]),
        Err(ConfigError::TooLarge)
    );
}

#[test]
fn authorize_checks_rejected_first_then_create() {
    let auths = [auth("ggz", true, true)];
    let check = |user, pass, class, creating| authorize(&auths, user, pass, class, creating);
    assert_eq!(check("josef", "ggzrocks", "ggz", false), Status::Accepted);
    assert_eq!(check("josef", "bad", "ggz", false), Status::Rejected);
    assert_eq!(check("other", "ggzrocks", "ggz", false), Status::Rejected);
    // t4: creating "tictactoe" with a realm="ggz" account is rejected, not wrong.
    assert_eq!(
        check("josef", "ggzrocks", "tictactoe", true),
        Status::Rejected
    );

    let star = [auth("*", true, true)];
    assert_eq!(
        authorize(&star, "josef", "ggzrocks", "tictactoe", true),
        Status::Accepted
    );
    // update="0" create="1": the explicit update="0" wins, even for creating.
    let no_update = [auth("*", false, true)];
    assert_eq!(
        authorize(&no_update, "josef", "ggzrocks", "ggz", false),
        Status::Rejected
    );
    assert_eq!(
        authorize(&no_update, "josef", "ggzrocks", "new", true),
        Status::Rejected
    );
    let star_update = [auth("*", true, false)];
    assert_eq!(
        authorize(&star_update, "josef", "ggzrocks", "any", false),
        Status::Accepted
    );
    assert_eq!(
        authorize(&star_update, "josef", "ggzrocks", "new", true),
        Status::Wrong
    );
    // Rights from two entries add up.
    let split = [auth("*", true, false), auth("chess", false, true)];
    assert_eq!(
        authorize(&split, "josef", "ggzrocks", "chess", true),
        Status::Accepted
    );
    assert_eq!(
        authorize(&[], "josef", "ggzrocks", "ggz", false),
        Status::Rejected
    );
}

#[test]
fn model_updates_beyond_the_capture() {
    let request = |s: &str| Request::decode(s.as_bytes());
    let add = r#"<update class="ggz" type="gameroom" username="josef" password="ggzrocks" mode="add" uri="ggz://h:5688/#Chess"><option name="version">1</option></update>"#;
    let mut inetd = Model::new(false);
    assert_eq!(
        inetd.answer(&request(add)),
        Reply::Status(Status::Readonly).encode()
    );
    let mut daemon = Model::new(true);
    assert_eq!(
        daemon.answer(&request(add)),
        Reply::Status(Status::Accepted).encode()
    );
    assert_eq!(
        daemon.answer(&request(add)),
        Reply::Status(Status::Accepted).encode()
    );
    assert_eq!(
        daemon.answer(&request("query://ggz/gameroom")),
        b"ggz://h:5688/#Chess\nggz://h:5688/#Chess\n\n"
    );
    let modify = add.replace("\"add\"", "\"modify\"");
    assert_eq!(
        daemon.answer(&request(&modify)),
        Reply::Status(Status::Accepted).encode()
    );
    let bogus = add.replace("\"add\"", "\"replace\"");
    assert_eq!(
        daemon.answer(&request(&bogus)),
        Reply::Status(Status::Wrong).encode()
    );
    let no_uri = add.replace(" uri=\"ggz://h:5688/#Chess\"", "");
    assert_eq!(
        daemon.answer(&request(&no_uri)),
        Reply::Status(Status::Wrong).encode()
    );
    let delete = add.replace("\"add\"", "\"delete\"");
    assert_eq!(
        daemon.answer(&request(&delete)),
        Reply::Status(Status::Accepted).encode()
    );
    assert_eq!(
        daemon.answer(&request("query://ggz/gameroom")),
        b"ggz://h:5688/#Chess\n\n"
    );
    assert_eq!(
        daemon.answer(&request("query://chess/gameroom")),
        EMPTY_REPLY
    );
    assert_eq!(
        daemon.answer(&request("<query class=\"chess\" type=\"gameroom\"/>")),
        EMPTY_REPLY
    );
}
