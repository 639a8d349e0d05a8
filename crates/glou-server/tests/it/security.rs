//! The listeners under hostile peers: slow and idle connections hold no more than one
//! address's share and are cut after the handshake timeout, an address that opens
//! connections too fast is turned away, and TLS (HTTPS, GGZ's `TLS_START`) with a
//! certificate that a reload replaces.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glou_server::gate::Limits;
use glou_server::ops::Hooks;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::harness::{TestServer, eventually};

/// Connects to `to` from `from` (any address of 127/8 is this machine's).
async fn connect_from(from: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// Whether the server closed `stream` within `within` (reads nothing more, or resets).
async fn closed_within(stream: &mut (impl AsyncRead + Unpin), within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

fn count(metrics: &str, listener: &str, reason: &str) -> u64 {
    let needle =
        format!("glou_connections_refused_total{{listener=\"{listener}\",reason=\"{reason}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&needle))
        .map_or(0, |v| v.trim().parse().unwrap())
}

fn tight(limits: &mut Limits) {
    limits.max_per_address = 4;
    limits.handshake_timeout = Duration::from_millis(800);
}

#[tokio::test]
async fn idle_http_and_ggz_peers_hold_only_their_share_and_are_cut_in_time() {
    let s = TestServer::start_with(|c| tight(&mut c.limits)).await;
    let me = Ipv4Addr::LOCALHOST;
    for (listener, addr) in [("http", s.addr), ("ggz", s.ggz.unwrap())] {
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(connect_from(me, addr).await);
        }
        // A fifth from the same address is closed at once...
        let mut fifth = connect_from(me, addr).await;
        assert!(
            closed_within(&mut fifth, Duration::from_millis(500)).await,
            "{listener}: a fifth connection from one address was kept"
        );
        // ...while another address is served.
        let mut other = connect_from(Ipv4Addr::new(127, 0, 0, 2), addr).await;
        if listener == "http" {
            other
                .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                .await
                .unwrap();
        }
        let mut first = [0u8; 12];
        other.read_exact(&mut first).await.unwrap();
        let expected: &[u8] = if listener == "http" {
            b"HTTP/1.1 200"
        } else {
            b"<?xml versio"
        };
        assert_eq!(&first, expected, "{listener}");
        drop(other);
        if listener == "http" {
            // An HTTP connection that sends no request within the handshake timeout is
            // closed; so is one that dribbles its headers.
            let started = Instant::now();
            held[1]
                .write_all(b"GET /healthz HTTP/1.1\r\nx-slow: ")
                .await
                .unwrap();
            for conn in &mut held {
                assert!(
                    closed_within(conn, Duration::from_secs(5)).await,
                    "http: kept"
                );
            }
            let took = started.elapsed();
            assert!(took >= Duration::from_millis(700), "closed after {took:?}");
        }
        drop(held);
        // Once they are gone the address has its share again.
        eventually("the address gets its share back", async || {
            let mut c = connect_from(me, addr).await;
            !closed_within(&mut c, Duration::from_millis(100)).await
        })
        .await;
    }
    let metrics = s.metrics().await;
    assert!(count(&metrics, "http", "address_full") >= 1, "{metrics}");
    assert!(count(&metrics, "ggz", "address_full") >= 1, "{metrics}");
}

#[tokio::test]
async fn websockets_keep_their_place_after_the_upgrade() {
    let s = TestServer::start_with(|c| tight(&mut c.limits)).await;
    let mut sockets = Vec::new();
    for _ in 0..4 {
        sockets.push(s.ws().await);
    }
    let url = format!("ws://{}/api/v1/ws", s.addr);
    assert!(
        tokio_tungstenite::connect_async(&url).await.is_err(),
        "a fifth WebSocket from one address was let in"
    );
    drop(sockets);
    eventually("the WebSockets' places are given back", async || {
        tokio_tungstenite::connect_async(&url).await.is_ok()
    })
    .await;
}

#[tokio::test]
async fn an_address_opening_connections_too_fast_is_turned_away() {
    let s = TestServer::start_with(|c| {
        c.limits.connect_rate = 0.01;
        c.limits.connect_burst = 3.0;
    })
    .await;
    let ggz = s.ggz.unwrap();
    for _ in 0..3 {
        let mut c = TcpStream::connect(ggz).await.unwrap();
        assert!(!closed_within(&mut c, Duration::from_millis(200)).await);
    }
    let mut c = TcpStream::connect(ggz).await.unwrap();
    assert!(closed_within(&mut c, Duration::from_millis(500)).await);
    let mut other = connect_from(Ipv4Addr::new(127, 0, 0, 3), ggz).await;
    assert!(!closed_within(&mut other, Duration::from_millis(200)).await);
    assert_eq!(count(&s.metrics().await, "ggz", "too_fast"), 1);
}

/// A self-signed certificate for `localhost`, as `NAME.crt` and `NAME.key` in `dir`.
fn write_pair(dir: &Path, name: &str) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join(format!("{name}.crt")), cert.cert.pem()).unwrap();
    std::fs::write(
        dir.join(format!("{name}.key")),
        cert.key_pair.serialize_pem(),
    )
    .unwrap();
}

/// A TLS client that trusts only the certificate in `cert`.
async fn tls_connect(
    cert: &Path,
    stream: TcpStream,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(cert).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from("localhost").unwrap();
    connector.connect(name, stream).await
}

/// `GET /healthz` on an open connection; the status line.
async fn healthz(stream: &mut (impl AsyncRead + AsyncWrite + Unpin)) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn https_serves_the_certificate_of_the_file_and_a_reload_replaces_it() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let d = dir.path();
    write_pair(d, "one");
    write_pair(d, "two");
    let config = format!(
        "[tls]\ncert = {:?}\nkey = {:?}\n",
        d.join("live.crt"),
        d.join("live.key")
    );
    std::fs::copy(d.join("one.crt"), d.join("live.crt")).unwrap();
    std::fs::copy(d.join("one.key"), d.join("live.key")).unwrap();
    std::fs::write(d.join("glou.toml"), config).unwrap();
    let (reload, reloads) = tokio::sync::mpsc::channel(1);
    let hooks = Hooks {
        reloads: Some(reloads),
        ..Hooks::default()
    };
    let s = TestServer::start_from_file(dir.clone(), hooks).await;
    let tcp = || TcpStream::connect(s.addr);

    let mut kept = tls_connect(&d.join("one.crt"), tcp().await.unwrap())
        .await
        .unwrap();
    assert_eq!(healthz(&mut kept).await, "HTTP/1.1 200 OK");
    assert!(
        tls_connect(&d.join("two.crt"), tcp().await.unwrap())
            .await
            .is_err()
    );
    // Plain HTTP on the HTTPS port gets nowhere.
    let mut plain = tcp().await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        !matches!(plain.read(&mut buf).await, Ok(n) if n > 0 && buf.starts_with(b"HTTP/1.1 200"))
    );

    // A renewed certificate under the same file names: a reload (SIGHUP) takes it.
    std::fs::copy(d.join("two.crt"), d.join("live.crt")).unwrap();
    std::fs::copy(d.join("two.key"), d.join("live.key")).unwrap();
    reload.send(()).await.unwrap();
    eventually("new handshakes use the new certificate", async || {
        tls_connect(&d.join("two.crt"), tcp().await.unwrap())
            .await
            .is_ok()
    })
    .await;
    assert!(
        tls_connect(&d.join("one.crt"), tcp().await.unwrap())
            .await
            .is_err()
    );
    // The connection made before the reload goes on.
    assert_eq!(healthz(&mut kept).await, "HTTP/1.1 200 OK");

    // A key that does not match its certificate is refused whole: the running one stays.
    std::fs::copy(d.join("one.key"), d.join("live.key")).unwrap();
    reload.send(()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut after = tls_connect(&d.join("two.crt"), tcp().await.unwrap())
        .await
        .unwrap();
    assert_eq!(healthz(&mut after).await, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn a_ggz_client_switches_to_tls_and_logs_in_over_it() {
    let dir = tempfile::tempdir().unwrap();
    write_pair(dir.path(), "ggz");
    let key = glou_server::tls::load_pair(&dir.path().join("ggz.crt"), &dir.path().join("ggz.key"))
        .unwrap();
    let s = TestServer::start_with(|c| {
        c.tls = Some(glou_server::tls::TlsSettings {
            cert_path: dir.path().join("ggz.crt"),
            key_path: dir.path().join("ggz.key"),
            http: false,
            ggz: true,
            key,
        });
    })
    .await;
    let mut tcp = TcpStream::connect(s.ggz.unwrap()).await.unwrap();
    let greeting = read_until(&mut tcp, "</SERVER>").await;
    assert!(greeting.contains("TLS_SUPPORT='yes'"), "{greeting}");
    tcp.write_all(b"<?xml version='1.0' encoding='UTF-8'?>\n<SESSION>\n<TLS_START/>\n")
        .await
        .unwrap();
    let mut tls = tls_connect(&dir.path().join("ggz.crt"), tcp).await.unwrap();
    tls.write_all(b"<LOGIN TYPE='guest'><NAME>secret-agent</NAME></LOGIN>\n")
        .await
        .unwrap();
    let answer = read_until(&mut tls, "<MOTD").await;
    assert!(
        answer.contains("<RESULT ACTION='login' CODE='ok'"),
        "{answer}"
    );
    // The HTTP listener stays plain (tls.http = false).
    assert_eq!(s.get("/healthz").await.0, 200);
}

async fn read_until(stream: &mut (impl AsyncRead + Unpin), end: &str) -> String {
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&text).contains(end) {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&text));
        text.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(text).unwrap()
}
