//! Codec tests against the real freeciv-server 3.0.6's POSTs
//! (`../shared/realpeers/logs/final/freeciv-http.log`, and run 1 in
//! `logs/freeciv-metaserver-capture-run1.log`) and against freeciv 3.0's list reader.

use super::*;

/// The fields of the first pregame POST, in order (freeciv-http.log, 10:42:04).
const PREGAME: &[(&str, &str)] = &[
    ("host", "glou-freeciv.local"),
    ("port", "5556"),
    ("state", "Pregame"),
    ("ruleset", "Civ2Civ3 ruleset"),
    ("version", "3.0.6"),
    ("patches", "none"),
    (
        "capability",
        "+Freeciv-3.0-network year32 plrculture32 pingfix researchclr cityculture32",
    ),
    ("serverid", ""),
    ("message", "-"),
    ("plu[]", "Unassigned"),
    ("plt[]", "A.I."),
    ("pll[]", "AI*1"),
    ("pln[]", "none"),
    ("plf[]", "none"),
    ("plh[]", ""),
    ("plu[]", "Unassigned"),
    ("plt[]", "A.I."),
    ("pll[]", "AI*2"),
    ("pln[]", "none"),
    ("plf[]", "none"),
    ("plh[]", ""),
    ("plu[]", "Unassigned"),
    ("plt[]", "A.I."),
    ("pll[]", "AI*3"),
    ("pln[]", "none"),
    ("plf[]", "none"),
    ("plh[]", ""),
    ("plu[]", "Unassigned"),
    ("plt[]", "A.I."),
    ("pll[]", "AI*4"),
    ("pln[]", "none"),
    ("plf[]", "none"),
    ("plh[]", ""),
    ("plu[]", "Unassigned"),
    ("plt[]", "A.I."),
    ("pll[]", "AI*5"),
    ("pln[]", "none"),
    ("plf[]", "none"),
    ("plh[]", ""),
    ("plu[]", "Unassigned"),
    ("plt[]", "A.I."),
    ("pll[]", "AI*6"),
    ("pln[]", "none"),
    ("plf[]", "none"),
    ("plh[]", ""),
    ("available", "6"),
    ("humans", "0"),
    ("vn[]", "timeout"),
    ("vv[]", "0"),
    ("vn[]", "endturn"),
    ("vv[]", "5000"),
    ("vn[]", "minplayers"),
    ("vv[]", "1"),
    ("vn[]", "maxplayers"),
    ("vv[]", "150"),
    ("vn[]", "aifill"),
    ("vv[]", "6"),
    ("vn[]", "allowtake"),
    ("vv[]", "HAhadOo"),
    ("vn[]", "generator"),
    ("vv[]", "FRACTAL"),
    ("vn[]", "tilesperplayer"),
    ("vv[]", "100"),
    ("vn[]", "turn"),
    ("vv[]", "0"),
    ("vn[]", "year"),
    ("vv[]", "Calendar not set up"),
];
/// Its first 128 bytes, from the capture's hex dump (boundary `…8cb8d67e524d9801`).
const PREGAME_HEXDUMP: &str = "2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 38 63 62 38 64 36 37 65 35 32 34 64 39 38 30 31 0d 0a 43 6f 6e 74 65 6e 74 2d 44 69 73 70 6f 73 69 74 69 6f 6e 3a 20 66 6f 72 6d 2d 64 61 74 61 3b 20 6e 61 6d 65 3d 22 68 6f 73 74 22 0d 0a 0d 0a 67 6c 6f 75 2d 66 72 65 65 63 69 76 2e 6c 6f 63 61 6c 0d 0a 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d 2d";
/// Its first 700 bytes as httpcap.py printed them.
const PREGAME_FIRST_700: &str = r#"--------------------------8cb8d67e524d9801\x0d\nContent-Disposition: form-data; name="host"\x0d\n\x0d\nglou-freeciv.local\x0d\n--------------------------8cb8d67e524d9801\x0d\nContent-Disposition: form-data; name="port"\x0d\n\x0d\n5556\x0d\n--------------------------8cb8d67e524d9801\x0d\nContent-Disposition: form-data; name="state"\x0d\n\x0d\nPregame\x0d\n--------------------------8cb8d67e524d9801\x0d\nContent-Disposition: form-data; name="ruleset"\x0d\n\x0d\nCiv2Civ3 ruleset\x0d\n--------------------------8cb8d67e524d9801\x0d\nContent-Disposition: form-data; name="version"\x0d\n\x0d\n3.0.6\x0d\n--------------------------8cb8d67e524d9801\x0d\nContent-Disposition: form-data; name="patches"\x0d\n\x0d\nnone\x0d\n--------------------------8cb8d67e524d9801\x0d\nContent-Disposition: form-data; na"#;
/// The metamessage update's first 700 bytes (10:42:14, boundary `…7983932db431561f`).
const UPDATE_FIRST_700: &str = r#"--------------------------7983932db431561f\x0d\nContent-Disposition: form-data; name="host"\x0d\n\x0d\nglou-freeciv.local\x0d\n--------------------------7983932db431561f\x0d\nContent-Disposition: form-data; name="port"\x0d\n\x0d\n5556\x0d\n--------------------------7983932db431561f\x0d\nContent-Disposition: form-data; name="state"\x0d\n\x0d\nPregame\x0d\n--------------------------7983932db431561f\x0d\nContent-Disposition: form-data; name="ruleset"\x0d\n\x0d\nCiv2Civ3 ruleset\x0d\n--------------------------7983932db431561f\x0d\nContent-Disposition: form-data; name="version"\x0d\n\x0d\n3.0.6\x0d\n--------------------------7983932db431561f\x0d\nContent-Disposition: form-data; name="patches"\x0d\n\x0d\nnone\x0d\n--------------------------7983932db431561f\x0d\nContent-Disposition: form-data; na"#;
/// Run 1's first POST (`--identity glou-fc.local`), first 2048 bytes.
const RUN1_FIRST_2048: &str = r#"--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="host"\x0d\n\x0d\nglou-fc.local\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="port"\x0d\n\x0d\n5556\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="state"\x0d\n\x0d\nPregame\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="ruleset"\x0d\n\x0d\nCiv2Civ3 ruleset\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="version"\x0d\n\x0d\n3.0.6\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="patches"\x0d\n\x0d\nnone\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="capability"\x0d\n\x0d\n+Freeciv-3.0-network year32 plrculture32 pingfix researchclr cityculture32\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="serverid"\x0d\n\x0d\n\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="message"\x0d\n\x0d\n-\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="plu[]"\x0d\n\x0d\nUnassigned\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="plt[]"\x0d\n\x0d\nA.I.\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="pll[]"\x0d\n\x0d\nAI*1\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="pln[]"\x0d\n\x0d\nnone\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="plf[]"\x0d\n\x0d\nnone\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="plh[]"\x0d\n\x0d\n\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="plu[]"\x0d\n\x0d\nUnassigned\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="plt[]"\x0d\n\x0d\nA.I.\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="pll[]"\x0d\n\x0d\nAI*2\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; name="pln[]"\x0d\n\x0d\nnone\x0d\n--------------------------0782a2e8d75a877f\x0d\nContent-Disposition: form-data; "#;
/// The goodbye after `quit`, whole (10:42:22, 563 bytes).
const BYE_BODY: &str = r#"--------------------------1b1a8954f97cce4a\x0d\nContent-Disposition: form-data; name="host"\x0d\n\x0d\nglou-freeciv.local\x0d\n--------------------------1b1a8954f97cce4a\x0d\nContent-Disposition: form-data; name="port"\x0d\n\x0d\n5556\x0d\n--------------------------1b1a8954f97cce4a\x0d\nContent-Disposition: form-data; name="state"\x0d\n\x0d\nGame Ended\x0d\n--------------------------1b1a8954f97cce4a\x0d\nContent-Disposition: form-data; name="ruleset"\x0d\n\x0d\nCiv2Civ3 ruleset\x0d\n--------------------------1b1a8954f97cce4a\x0d\nContent-Disposition: form-data; name="bye"\x0d\n\x0d\n1\x0d\n--------------------------1b1a8954f97cce4a--\x0d\n"#;
/// Run 1's goodbye, whole (558 bytes).
const BYE_BODY_RUN1: &str = r#"--------------------------6ea1d36edd607d7c\x0d\nContent-Disposition: form-data; name="host"\x0d\n\x0d\nglou-fc.local\x0d\n--------------------------6ea1d36edd607d7c\x0d\nContent-Disposition: form-data; name="port"\x0d\n\x0d\n5556\x0d\n--------------------------6ea1d36edd607d7c\x0d\nContent-Disposition: form-data; name="state"\x0d\n\x0d\nGame Ended\x0d\n--------------------------6ea1d36edd607d7c\x0d\nContent-Disposition: form-data; name="ruleset"\x0d\n\x0d\nCiv2Civ3 ruleset\x0d\n--------------------------6ea1d36edd607d7c\x0d\nContent-Disposition: form-data; name="bye"\x0d\n\x0d\n1\x0d\n--------------------------6ea1d36edd607d7c--\x0d\n"#;

/// What libcurl puts before its 16 hex digits.
const CURL: &str = "------------------------";

fn owned(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

/// `fields` with the first `name` set to `value`.
fn with(mut fields: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    let field = fields.iter_mut().find(|(n, _)| n == name).unwrap();
    field.1 = value.to_string();
    fields
}

fn without(fields: &[(String, String)], name: &str) -> Vec<(String, String)> {
    fields.iter().filter(|(n, _)| n != name).cloned().collect()
}

/// Bytes from a hex dump (spaces ignored).
fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Undoes httpcap.py's escaping: `\\`, `\n`, `\xNN`.
fn unesc(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (b'\\', Some(b'\\')) => (out.push(b'\\'), i += 2).1,
            (b'\\', Some(b'n')) => (out.push(b'\n'), i += 2).1,
            (b'\\', Some(b'x')) => (out.extend(hex(&s[i + 2..i + 4])), i += 4).1,
            (c, _) => (out.push(c), i += 1).1,
        }
    }
    out
}

fn report(fields: &[(String, String)]) -> Report {
    Report::from_fields(fields).unwrap()
}

fn error(fields: &[(String, String)]) -> String {
    Report::from_fields(fields).unwrap_err().to_string()
}

#[test]
fn pregame_post_from_freeciv_3_0_6() {
    let fields = owned(PREGAME);
    assert_eq!(fields.len(), 67);
    let r = report(&fields);
    assert_eq!(r.host, "glou-freeciv.local");
    assert_eq!(r.port, 5556);
    assert_eq!(r.state, State::Pregame);
    assert_eq!(r.ruleset, "Civ2Civ3 ruleset");
    assert_eq!(r.version, "3.0.6");
    assert_eq!(r.patches, "none");
    assert_eq!(
        r.capability,
        "+Freeciv-3.0-network year32 plrculture32 pingfix researchclr cityculture32"
    );
    assert_eq!((r.serverid.as_str(), r.message.as_str()), ("", "-"));
    assert!(!r.bye && !r.dropplrs);
    assert_eq!(r.server_type, None);
    assert_eq!(r.players.len(), 6);
    for (i, p) in r.players.iter().enumerate() {
        let expect = Player {
            user: "Unassigned".into(),
            kind: PlayerKind::Ai,
            leader: format!("AI*{}", i + 1),
            nation: "none".into(),
            flag: "none".into(),
            host: String::new(),
        };
        assert_eq!(p, &expect);
    }
    assert_eq!((r.available, r.humans), (Some(6), Some(0)));
    let settings: Vec<(&str, &str)> = refs(&r.settings);
    assert_eq!(
        settings,
        [
            ("timeout", "0"),
            ("endturn", "5000"),
            ("minplayers", "1"),
            ("maxplayers", "150"),
            ("aifill", "6"),
            ("allowtake", "HAhadOo"),
            ("generator", "FRACTAL"),
            ("tilesperplayer", "100"),
            ("turn", "0"),
            ("year", "Calendar not set up"),
        ]
    );
    assert_eq!(r.setting("year"), Some("Calendar not set up"));
    assert_eq!(r.max_players(), Some(150));
    assert_eq!(r.to_fields(), fields, "encodes back field for field");
    assert_eq!(decode(&fields), Ok(Message::Report(r)));
}

#[test]
fn pregame_body_rebuilt_byte_for_byte() {
    let boundary = format!("{CURL}8cb8d67e524d9801");
    assert_eq!(curl_boundary(0x8cb8_d67e_524d_9801), boundary);
    assert_eq!(
        content_type(&boundary),
        "multipart/form-data; boundary=------------------------8cb8d67e524d9801"
    );
    let body = multipart_body(&boundary, PREGAME);
    assert_eq!(body.len(), 6757, "the captured Content-Length");
    assert_eq!(body[..128], hex(PREGAME_HEXDUMP)[..]);
    assert_eq!(body[..700], unesc(PREGAME_FIRST_700)[..]);
    assert!(body.ends_with(b"8cb8d67e524d9801--\r\n"));
    assert_eq!(report(&owned(PREGAME)).to_multipart(&boundary), body);

    // Run 1 (`--identity glou-fc.local`): the first POST and two 180 s refreshes.
    let run1 = with(owned(PREGAME), "host", "glou-fc.local");
    for b in ["0782a2e8d75a877f", "928cf0ab18fd7d23", "c79e110fe7d54deb"] {
        assert_eq!(
            multipart_body(&format!("{CURL}{b}"), &refs(&run1)).len(),
            6752
        );
    }
    let first = multipart_body(&format!("{CURL}0782a2e8d75a877f"), &refs(&run1));
    assert_eq!(first[..2048], unesc(RUN1_FIRST_2048)[..]);
}

#[test]
fn metamessage_updates() {
    let update = with(owned(PREGAME), "message", "Glou harness test");
    assert_eq!(report(&update).message, "Glou harness test");
    let body = multipart_body(&format!("{CURL}7983932db431561f"), &refs(&update));
    assert_eq!(body.len(), 6773);
    assert_eq!(body[..700], unesc(UPDATE_FIRST_700)[..]);

    // Run 1: `metamessage Hello from Glou test`, then `set maxplayers 64` 7 s later.
    let hello = with(owned(PREGAME), "host", "glou-fc.local");
    let hello = with(hello, "message", "Hello from Glou test");
    let body = multipart_body(&format!("{CURL}494dbd87cec917c7"), &refs(&hello));
    assert_eq!(body.len(), 6771);
    let mut smaller = hello.clone();
    let at = smaller
        .iter()
        .position(|f| f == &("vn[]".into(), "maxplayers".into()));
    smaller[at.unwrap() + 1].1 = "64".into();
    let body = multipart_body(&format!("{CURL}7a185e89d3538c2a"), &refs(&smaller));
    assert_eq!(body.len(), 6770);
    assert_eq!(report(&smaller).max_players(), Some(64));
}

#[test]
fn goodbye() {
    let bye = [
        ("host", "glou-freeciv.local"),
        ("port", "5556"),
        ("state", "Game Ended"),
        ("ruleset", "Civ2Civ3 ruleset"),
        ("bye", "1"),
    ];
    let r = report(&owned(&bye));
    assert!(r.bye);
    assert_eq!(r.state, State::GameEnded);
    assert_eq!(r.ruleset, "Civ2Civ3 ruleset");
    assert!(r.players.is_empty() && r.settings.is_empty() && r.version.is_empty());
    assert_eq!((r.available, r.humans), (None, None));
    assert_eq!(r.to_fields(), owned(&bye));
    let body = multipart_body(&format!("{CURL}1b1a8954f97cce4a"), &bye);
    assert_eq!(body.len(), 563);
    assert_eq!(body, unesc(BYE_BODY), "byte for byte");

    let run1 = with(owned(&bye), "host", "glou-fc.local");
    let body = multipart_body(&format!("{CURL}6ea1d36edd607d7c"), &refs(&run1));
    assert_eq!(body, unesc(BYE_BODY_RUN1));
    assert_eq!(body.len(), 558);
}

#[test]
fn a_server_without_players_sends_dropplrs() {
    let mut fields = owned(&PREGAME[..9]);
    fields.push(("dropplrs".into(), "1".into()));
    fields.extend(owned(&PREGAME[47..]));
    let r = report(&fields);
    assert!(r.dropplrs && r.players.is_empty());
    assert_eq!((r.available, r.humans), (None, None));
    assert_eq!(r.settings.len(), 10);
    assert_eq!(r.to_fields(), fields);
}

#[test]
fn player_kinds_and_states() {
    for (text, kind) in [
        ("Human", PlayerKind::Human),
        ("A.I.", PlayerKind::Ai),
        ("Barbarian", PlayerKind::Barbarian),
        ("Dead", PlayerKind::Dead),
        ("-", PlayerKind::Other("-".into())),
    ] {
        assert_eq!(PlayerKind::from_wire(text), kind);
        assert_eq!(kind.as_str(), text);
    }
    for (text, state) in [
        ("Pregame", State::Pregame),
        ("Running", State::Running),
        ("Game Ended", State::GameEnded),
        ("Paused", State::Other("Paused".into())),
        ("", State::Unknown),
    ] {
        assert_eq!(State::from_wire(text), state);
        assert_eq!(state.as_str(), text);
    }
    let r = report(&without(&owned(PREGAME), "state"));
    assert_eq!(r.state, State::Unknown);
    assert_eq!(report(&r.to_fields()), r);
}

#[test]
fn hostile_field_lists() {
    let base = owned(PREGAME);
    assert_eq!(error(&[]), "missing field `host`");
    assert_eq!(error(&without(&base, "host")), "missing field `host`");
    assert_eq!(error(&without(&base, "port")), "missing field `port`");
    for port in [
        "",
        "abc",
        "5556 ",
        "-1",
        "+5556",
        "0",
        "80",
        "1023",
        "65536",
        "99999999999",
    ] {
        assert_eq!(
            error(&with(base.clone(), "port", port)),
            "field `port`: expected a port number from 1024 to 65535",
            "{port:?}"
        );
    }
    assert_eq!(report(&with(base.clone(), "port", "1024")).port, 1024);
    assert_eq!(report(&with(base.clone(), "port", "65535")).port, 65535);
    for host in ["", "two words", "tab\there", "line\n"] {
        assert_eq!(
            error(&with(base.clone(), "host", host)),
            "field `host`: expected a host name or address"
        );
    }

    // Player and setting arrays must line up.
    let mut short = base.clone();
    let last_plh = short.iter().rposition(|(n, _)| n == "plh[]").unwrap();
    short.remove(last_plh);
    assert_eq!(
        error(&short),
        "`plh[]` given 5 times, expected 6 like `plu[]`"
    );
    let mut extra = base.clone();
    extra.push(("plt[]".into(), "Human".into()));
    assert_eq!(
        error(&extra),
        "`plt[]` given 7 times, expected 6 like `plu[]`"
    );
    let mut no_vv = base.clone();
    no_vv.pop();
    assert_eq!(
        error(&no_vv),
        "`vv[]` given 9 times, expected 10 like `vn[]`"
    );

    // Single fields once; counts are counts.
    let mut twice = base.clone();
    twice.push(("host".into(), "evil.example".into()));
    assert_eq!(error(&twice), "field `host` given twice");
    assert_eq!(
        error(&with(base.clone(), "available", "lots")),
        "field `available`: expected a number from 0 to 512"
    );
    assert_eq!(
        error(&with(base.clone(), "humans", "513")),
        "field `humans`: expected a number from 0 to 512"
    );

    // Bounds.
    let mut crowd = owned(&PREGAME[..9]);
    for _ in 0..=MAX_PLAYERS {
        crowd.extend(owned(&PREGAME[9..15]));
    }
    assert_eq!(error(&crowd), "too many players (at most 512)");
    crowd.truncate(9 + 6 * MAX_PLAYERS);
    assert_eq!(report(&crowd).players.len(), MAX_PLAYERS);
    let mut settings = owned(&PREGAME[..9]);
    for i in 0..=MAX_SETTINGS {
        settings.push(("vn[]".into(), format!("s{i}")));
        settings.push(("vv[]".into(), "1".into()));
    }
    assert_eq!(error(&settings), "too many settings (at most 256)");
    let mut many = base.clone();
    many.resize(MAX_FIELDS + 1, ("x".into(), String::new()));
    assert_eq!(error(&many), "too many fields (at most 4096)");
    let long = "m".repeat(MAX_FIELD_LEN + 1);
    assert_eq!(
        error(&with(base.clone(), "message", &long)),
        "field `message` over 4096 bytes"
    );
    assert_eq!(
        report(&with(base.clone(), "message", &long[1..]))
            .message
            .len(),
        4096
    );
    let mut long_name = base.clone();
    long_name.push((long.clone(), String::new()));
    assert!(error(&long_name).ends_with("over 4096 bytes"));
    assert_eq!(
        error(&with(base.clone(), "message", "a\0b")),
        "field `message`: expected text without NUL bytes"
    );

    // Unknown fields are ignored, wherever they are.
    let mut unknown = base.clone();
    unknown.insert(3, ("plrs".into(), "6".into()));
    unknown.push(("x-glou".into(), "1".into()));
    assert_eq!(report(&unknown), report(&base));
}

#[test]
fn requests_are_told_apart_like_the_reference_metaserver() {
    let cap = "+Freeciv-3.0-network year32 plrculture32 pingfix researchclr cityculture32";
    let client = owned(&[("client_cap", cap)]);
    let request = ListRequest {
        client_cap: Some(cap.into()),
        all: false,
    };
    assert_eq!(decode(&client), Ok(Message::ListRequest(request.clone())));
    assert_eq!(request.to_fields(), client);
    let all = decode(&owned(&[("client", "all")]));
    assert_eq!(
        all,
        Ok(Message::ListRequest(ListRequest {
            client_cap: None,
            all: true
        }))
    );
    assert_eq!(decode(&[]), Ok(Message::Unknown));
    assert_eq!(decode(&owned(&[("rss", "1")])), Ok(Message::Unknown));
    // `port` makes a report whatever else is there.
    let both = owned(&[("client_cap", cap), ("port", "5556")]);
    assert_eq!(decode(&both), Err(DecodeError::Missing("host")));
    let huge = owned(&[("client_cap", &"c".repeat(MAX_FIELD_LEN + 1))]);
    assert_eq!(
        decode(&huge).unwrap_err().to_string(),
        "field `client_cap` over 4096 bytes"
    );
}

#[test]
fn capability_filter() {
    let server = "+Freeciv-3.0-network year32 plrculture32 pingfix researchclr cityculture32";
    assert!(compatible(server, server));
    assert!(compatible(server, "+Freeciv-3.0-network"));
    assert!(compatible("Freeciv-3.0-network", "+Freeciv-3.0-network"));
    assert!(!compatible(server, "+Freeciv-2.6-network year32"));
    assert!(!compatible("+Freeciv-3.0-network +newthing", server));
    assert!(!compatible(server, "+Freeciv-3.0-network +newthing"));
    let request = ListRequest {
        client_cap: Some(server.into()),
        all: false,
    };
    assert!(request.wants(server));
    assert!(!request.wants("+Freeciv-2.6-network"));
    let all = ListRequest {
        client_cap: None,
        all: true,
    };
    assert!(all.wants("+Freeciv-2.6-network"));
    assert!(!ListRequest::default().wants(server));
}

fn listed_pregame() -> ListedServer {
    ListedServer::from(&report(&owned(PREGAME)))
}

#[test]
fn list_as_freeciv_3_0_reads_it() {
    let mut s = listed_pregame();
    s.players.truncate(2);
    s.settings.truncate(2);
    let text = encode_list(std::slice::from_ref(&s));
    let expect = r#"[main]
nservers = 1

[server0]
host = "glou-freeciv.local"
port = "5556"
version = "3.0.6"
patches = "none"
capability = "+Freeciv-3.0-network year32 plrculture32 pingfix researchclr cityculture32"
state = "Pregame"
ruleset = "Civ2Civ3 ruleset"
message = "-"
serverid = ""
available = "6"
humans = "0"
nplayers = "2"
player = { "name", "user", "nation", "type", "host", "flag"
 "AI*1", "Unassigned", "none", "A.I.", "", "none"
 "AI*2", "Unassigned", "none", "A.I.", "", "none"
}
vars = { "name", "value"
 "timeout", "0"
 "endturn", "5000"
}
"#;
    assert_eq!(text, expect);
    assert_eq!(decode_list(&text), Ok(vec![s]));
}

#[test]
fn lists_round_trip() {
    assert_eq!(encode_list(&[]), "[main]\nnservers = 0\n");
    assert_eq!(decode_list(&encode_list(&[])), Ok(vec![]));
    let full = listed_pregame();
    let quiet = ListedServer {
        host: "192.0.2.7".into(),
        port: 65535,
        version: "3.0.6".into(),
        patches: "none".into(),
        capability: "+Freeciv-3.0-network".into(),
        state: State::Running,
        ruleset: "classic".into(),
        message: "Bienvenue, été ☀".into(),
        serverid: "glou-1".into(),
        available: 0,
        humans: None,
        players: vec![],
        settings: vec![],
    };
    let mut human = full.clone();
    human.players[0].kind = PlayerKind::Human;
    human.players[0].user = "alice".into();
    human.players[0].host = "198.51.100.9".into();
    human.players[1].kind = PlayerKind::Other("-".into());
    human.state = State::GameEnded;
    let list = vec![full, quiet, human];
    assert_eq!(decode_list(&encode_list(&list)), Ok(list));
}

/// The message as `encode_list` writes it, and as freeciv's reader gives it back.
fn message_through_list(message: &str) -> (String, String) {
    let mut s = listed_pregame();
    s.message = message.into();
    let text = encode_list(&[s]);
    let start = text.find("message = ").unwrap() + "message = ".len();
    let end = text.find("\nserverid = ").unwrap();
    let back = decode_list(&text).unwrap().remove(0).message;
    (text[start..end].to_string(), back)
}

#[test]
fn strings_survive_freeciv_escaping() {
    let (written, back) = message_through_list("He said \"hi\"\nthen left");
    assert_eq!(written, r#""He said \"hi\"\nthen left""#);
    assert_eq!(back, "He said \"hi\"\nthen left");
    // freeciv's reader drops every backslash of a "…" string: raw $…$ keeps them.
    assert_eq!(message_through_list(r"C:\games").0, r"$C:\games$");
    assert_eq!(message_through_list("a\\").0, "$a\\\\\n$");
    for text in [
        "",
        "plain",
        "quote \" inside",
        "new\nline",
        "\n\n",
        "\"",
        "back\\slash",
        "\\",
        "\\\\",
        "tail\\",
        "\\\n",
        "\\\\\n",
        "price \\$5",
        "\\\\$",
        "\\$\\",
        "$ alone",
        "\\n is not a newline here",
        "tab\tand\rcr",
        "ünïcødé ☀",
        "; not # a comment",
        "[server9]",
        "x = \"y\"",
        "}",
    ] {
        assert_eq!(message_through_list(text).1, text, "{text:?}");
    }
    // A backslash together with a `$` no backslash hides cannot be written: the
    // backslashes become `/`. NUL cannot be written either.
    assert_eq!(message_through_list(r"\o/ 5$").1, "/o/ 5$");
    assert_eq!(message_through_list("a\0b").1, "ab");
}

/// The shape of the reference metaserver's answer (freeciv/freeciv-metaserver,
/// metaserver.php): version sections first, quoted numbers, a four-column player
/// table, rows ending in a space, `[main]` last, a stray `\r`.
const REFERENCE_LIST: &str = "[versions]
latest_stable=\"3.1.0\"
stable=\"3.1.0\"
[version_comments]
[server0]
host = \"fc.example.org\"
port = \"5556\"
version = \"3.0.6\"
patches = \"none\"
capability = \"+Freeciv-3.0-network year32\"
state = \"Running\"
ruleset = \"civ2civ3\"
message = \"Welcome\"
type = \"\"
available = \"0\"
humans = \"-1\"
serverid = \"\"
nplayers = \"2\"
player = { \"name\", \"user\", \"nation\", \"type\"
 \"Caesar\", \"alice\", \"Romans\", \"Human\"
 \"Hammurabi\", \"Unassigned\", \"Babylonians\", \"A.I.\"
}
vars = { \"name\", \"value\"
 \"turn\", \"12\"
 }

[main]
nservers = 1
\r
";

#[test]
fn reads_the_reference_metaservers_list() {
    let list = decode_list(REFERENCE_LIST).unwrap();
    let player = |leader: &str, user: &str, nation: &str, kind| Player {
        user: user.into(),
        kind,
        leader: leader.into(),
        nation: nation.into(),
        flag: String::new(),
        host: String::new(),
    };
    let expect = ListedServer {
        host: "fc.example.org".into(),
        port: 5556,
        version: "3.0.6".into(),
        patches: "none".into(),
        capability: "+Freeciv-3.0-network year32".into(),
        state: State::Running,
        ruleset: "civ2civ3".into(),
        message: "Welcome".into(),
        serverid: String::new(),
        available: 0,
        humans: None,
        players: vec![
            player("Caesar", "alice", "Romans", PlayerKind::Human),
            player("Hammurabi", "Unassigned", "Babylonians", PlayerKind::Ai),
        ],
        settings: vec![("turn".into(), "12".into())],
    };
    assert_eq!(list, vec![expect]);
}

fn one_server(body: &str) -> Result<ListedServer, DecodeError> {
    decode_list(&format!("[main]\nnservers = 1\n[server0]\n{body}\n")).map(|mut l| l.remove(0))
}

#[test]
fn reads_like_freeciv() {
    // In "…", `\\` gives no backslash (remove_escapes), `\"` a quote, `\n` a newline.
    let s = one_server(r#"message = "a\\b \"q\" x\ny""#).unwrap();
    assert_eq!(s.message, "ab \"q\" x\ny");
    assert_eq!(
        one_server(r"message = $C:\dir$").unwrap().message,
        r"C:\dir"
    );
    // The client reads numbers as strings: an unquoted port is 0 to it.
    assert_eq!(one_server("port = 5556").unwrap().port, 0);
    assert_eq!(one_server("port = \"5556\"").unwrap().port, 5556);
    assert_eq!(one_server("port = \" 5556x\"").unwrap().port, 5556, "atoi");
    // Comments, gettext marks, multi-line strings, a value on the line after `=`.
    let s = one_server(
        "; comment\n# another\n\nmessage = _(\"two\nlines\")\nhost =\n  \"h\" ; note\nversion=\"3.0.6\"",
    )
    .unwrap();
    assert_eq!(s.message, "two\nlines");
    assert_eq!((s.host.as_str(), s.version.as_str()), ("h", "3.0.6"));
    // Later entries replace earlier ones, and sections with one name merge.
    let s = one_server("host = \"a\"\n[main]\n[server0]\nhost = \"b\"").unwrap();
    assert_eq!(s.host, "b");
    // Players are read by `nplayers`, whatever the table holds.
    let s = one_server("nplayers = \"1\"\nplayer = { \"name\"\n \"Solo\"\n \"Extra\"\n}").unwrap();
    assert_eq!(s.players.len(), 1);
    assert_eq!(s.players[0].leader, "Solo");
    assert_eq!(s.players[0].kind, PlayerKind::Other(String::new()));
    // `nservers` must be an integer; missing servers read as empty ones.
    let quoted = "[main]\nnservers = \"1\"\n[server0]\nhost = \"h\"\n";
    assert_eq!(decode_list(quoted), Ok(vec![]));
    let two = decode_list("[main]\nnservers = 2\n").unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(
        (two[1].host.as_str(), two[1].port, two[1].humans),
        ("", 0, None)
    );
    assert_eq!(decode_list("[main]\nnservers = -3\n"), Ok(vec![]));
    assert_eq!(decode_list(""), Ok(vec![]));
    // Values freeciv cannot read as text or integer are skipped.
    let s = one_server("host = TRUE\nversion = 3.0\nmessage = 'single'\nserverid = -").unwrap();
    assert_eq!(
        (s.host, s.version, s.message, s.serverid),
        Default::default()
    );
}

#[test]
fn malformed_lists() {
    for (text, message) in [
        (
            "[main]\nx = \"open",
            "list line 2: expected the end of a string",
        ),
        ("[main\n", "list line 1: expected `]`"),
        (
            "[main]\nnservers 1\n",
            "list line 2: expected `=` after the entry name",
        ),
        (
            "[main]\nnservers\n",
            "list line 2: expected an entry name and `=`",
        ),
        (
            "[main]\nt = { \"a\"\n \"x\"\n[s]\n",
            "list line 4: expected `}` before a new section",
        ),
        ("[main]\n}\n", "list line 2: expected an entry, not `}`"),
        (
            "[main]\nt = { \"a\"\n \"x\"\n",
            "list line 4: expected `}` before the end",
        ),
        (
            "[main]\nt = { a\n}\n",
            "list line 2: expected a quoted column name",
        ),
        ("[main]\nx = @\n", "list line 2: expected a value"),
        ("[main]\nx =\n", "list line 3: expected a value"),
        ("[main]\nx = 5 6\n", "list line 2: expected end of line"),
        ("[main]\nx = 5x\n", "list line 2: expected a value"),
        (
            "[main]\n\nx = \"a\0\"\n",
            "list line 3: expected text without NUL bytes",
        ),
        ("[main]\nx = *file*\n", "list line 2: expected a value"),
    ] {
        assert_eq!(
            decode_list(text).unwrap_err().to_string(),
            message,
            "{text:?}"
        );
    }
    let long = format!("[main]\n;{}", "x".repeat(MAX_LIST_BYTES));
    assert_eq!(decode_list(&long), Err(DecodeError::ListTooLong));
    assert_eq!(
        decode_list("[main]\nnservers = 1025\n")
            .unwrap_err()
            .to_string(),
        "too many servers in the list (at most 1024)"
    );
    assert_eq!(
        one_server("nplayers = \"513\"").unwrap_err().to_string(),
        "too many players in a server (at most 512)"
    );
    assert_eq!(
        one_server("port = \"70000\"").unwrap_err().to_string(),
        "field `server0.port`: expected a port number"
    );
    let mut crowded = String::from("[main]\nnservers = 1000\n");
    for i in 0..200 {
        crowded.push_str(&format!("[server{i}]\nnplayers = \"512\"\n"));
    }
    assert_eq!(
        decode_list(&crowded).unwrap_err().to_string(),
        "too many players in the list (at most 65536)"
    );
}

#[test]
fn tricky_strings_round_trip() {
    // Deterministic xorshift over the characters freeciv's reader treats specially.
    let alphabet = [
        'a', '\\', '$', '"', '\'', '\n', '\r', ' ', ';', '#', '{', '}', ',', '=', 'n', 'é',
    ];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..3000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 12) as usize;
        let text: String = (0..len)
            .map(|i| alphabet[((state >> (4 * i)) & 15) as usize])
            .collect();
        let chars: Vec<char> = text.chars().collect();
        let writable = !text.contains('\\')
            || chars
                .iter()
                .enumerate()
                .all(|(i, &c)| c != '$' || (i > 0 && chars[i - 1] == '\\'));
        let expect = if writable {
            text.clone()
        } else {
            text.replace('\\', "/")
        };
        assert_eq!(message_through_list(&text).1, expect, "{text:?}");
    }
}
