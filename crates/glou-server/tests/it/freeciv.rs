//! `/metaserver.php` with freeciv-server's requests rebuilt byte for byte as libcurl
//! sends them (multipart/form-data): a pregame report listed, a metamessage update, a
//! client's list request answered in freeciv's format, the goodbye, and bodies that are
//! not a report.

use glou_proto::freeciv::{
    self, ListRequest, Player, PlayerKind, Report, State, content_type, curl_boundary,
};

use crate::harness::{TestServer, eventually};

const CAPABILITY: &str =
    "+Freeciv-3.0-network year32 plrculture32 pingfix researchclr cityculture32";

/// What freeciv-server 3.0.6 reported in the captured pregame (realpeers README §4).
fn pregame(port: u16) -> Report {
    Report {
        host: "glou-freeciv.local".into(),
        port,
        state: State::Pregame,
        ruleset: "Civ2Civ3 ruleset".into(),
        version: "3.0.6".into(),
        patches: "none".into(),
        capability: CAPABILITY.into(),
        message: "-".into(),
        players: (1..=6)
            .map(|i| Player {
                user: "Unassigned".into(),
                kind: PlayerKind::Ai,
                leader: format!("AI*{i}"),
                nation: "none".into(),
                flag: "none".into(),
                host: String::new(),
            })
            .collect(),
        available: Some(6),
        humans: Some(0),
        settings: [
            ("timeout", "0"),
            ("endturn", "5000"),
            ("minplayers", "1"),
            ("maxplayers", "150"),
            ("aifill", "6"),
            ("turn", "0"),
            ("year", "Calendar not set up"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..Report::default()
    }
}

/// POSTs form fields as freeciv does; returns the status and the body.
async fn post(s: &TestServer, body: Vec<u8>) -> (u16, String) {
    let boundary = curl_boundary(0x8cb8_d67e_524d_9801);
    let r = s
        .http
        .post(s.url("/metaserver.php"))
        .header("content-type", content_type(&boundary))
        .header("user-agent", "Freeciv/3.0.6")
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn report(s: &TestServer, r: &Report) -> (u16, String) {
    post(s, r.to_multipart(&curl_boundary(0x8cb8_d67e_524d_9801))).await
}

async fn client_list(s: &TestServer) -> Vec<freeciv::ListedServer> {
    let request = ListRequest {
        client_cap: Some(CAPABILITY.into()),
        all: false,
    };
    let fields: Vec<(String, String)> = request.to_fields();
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = freeciv::multipart_body(&curl_boundary(1), &fields);
    let r = s
        .http
        .post(s.url("/metaserver.php"))
        .header("content-type", content_type(&curl_boundary(1)))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    freeciv::decode_list(&r.text().await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_freeciv_server_is_listed_updated_and_says_goodbye() {
    let s = TestServer::start().await;
    assert_eq!(report(&s, &pregame(5556)).await.0, 200);

    let (_, body) = s.get("/api/v1/servers?game=freeciv").await;
    let listed = &body["servers"][0];
    assert_eq!(listed["address"], "127.0.0.1:5556");
    // No metamessage: the reported host names it.
    assert_eq!(listed["name"], "glou-freeciv.local");
    assert_eq!(listed["version"], "3.0.6");
    assert_eq!(
        (listed["players"].clone(), listed["bots"].clone()),
        (0.into(), 6.into())
    );
    assert_eq!(listed["max_players"], 150);
    assert_eq!(listed["rules"]["state"], "Pregame");
    assert_eq!(listed["rules"]["ruleset"], "Civ2Civ3 ruleset");
    assert_eq!(listed["rules"]["year"], "Calendar not set up");
    // The name does not resolve to the caller: shown, but not believed.
    assert_eq!(listed["rules"]["glou_verified"], "no");
    assert_eq!(listed["source"], "freeciv");

    // A client's list, in freeciv's format, at the caller's address.
    let list = client_list(&s).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].host, "127.0.0.1");
    assert_eq!(list[0].port, 5556);
    assert_eq!(list[0].players.len(), 6);
    assert_eq!(list[0].players[0].leader, "AI*1");
    assert_eq!(list[0].state, State::Pregame);

    // `metamessage` on the console: a new report with the message.
    let mut update = pregame(5556);
    update.message = "Glou test game".into();
    assert_eq!(report(&s, &update).await.0, 200);
    let (_, body) = s.get("/api/v1/servers?game=freeciv").await;
    assert_eq!(body["servers"][0]["name"], "Glou test game");
    assert_eq!(body["servers"].as_array().unwrap().len(), 1);

    // `quit`: the goodbye carries host, port, state, ruleset and bye=1.
    let bye = Report {
        host: "glou-freeciv.local".into(),
        port: 5556,
        state: State::GameEnded,
        ruleset: "Civ2Civ3 ruleset".into(),
        bye: true,
        ..Report::default()
    };
    assert_eq!(report(&s, &bye).await.0, 200);
    eventually("the server is gone", async || {
        s.get("/api/v1/servers?game=freeciv").await.1["servers"]
            .as_array()
            .unwrap()
            .is_empty()
    })
    .await;
    assert!(client_list(&s).await.is_empty());
}

#[tokio::test]
async fn a_client_sees_only_servers_it_can_play_with() {
    let s = TestServer::start().await;
    let mut old = pregame(5557);
    old.capability = "+Freeciv-2.6-network".into();
    assert_eq!(report(&s, &pregame(5556)).await.0, 200);
    assert_eq!(report(&s, &old).await.0, 200);
    let ports: Vec<u16> = client_list(&s).await.iter().map(|s| s.port).collect();
    assert_eq!(ports, [5556]);
    // A browser's GET: everything.
    let text = s
        .http
        .get(s.url("/metaserver.php"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(freeciv::decode_list(&text).unwrap().len(), 2);
}

#[tokio::test]
async fn bodies_that_are_not_reports_are_refused_and_lose_nothing() {
    let s = TestServer::start().await;
    assert_eq!(report(&s, &pregame(5556)).await.0, 200);

    // A multipart body cut short, one that is not multipart, a report without a port,
    // player arrays of different lengths.
    let full = pregame(5560).to_multipart(&curl_boundary(0x8cb8_d67e_524d_9801));
    let (status, _) = post(&s, full[..full.len() / 2].to_vec()).await;
    assert_eq!(status, 400);
    let r = s
        .http
        .post(s.url("/metaserver.php"))
        .header("content-type", "text/plain")
        .body("host=x&port=5561")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let no_port = freeciv::multipart_body(
        &curl_boundary(0x8cb8_d67e_524d_9801),
        &[("host", "x"), ("port", "http")],
    );
    let (status, text) = post(&s, no_port).await;
    assert_eq!(status, 400);
    assert!(text.contains("port"), "{text}");
    let mut fields = pregame(5562).to_fields();
    fields.retain(|(k, _)| k != "plh[]");
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, text) = post(
        &s,
        freeciv::multipart_body(&curl_boundary(0x8cb8_d67e_524d_9801), &fields),
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("plh[]"), "{text}");

    let (_, body) = s.get("/api/v1/servers?game=freeciv").await;
    let addresses: Vec<&str> = body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses, ["127.0.0.1:5556"]);
}
