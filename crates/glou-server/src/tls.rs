//! TLS for the `http` listener (HTTPS and secure WebSockets) and the `ggz` listener
//! (GGZ's `TLS_START` upgrade), with rustls. The certificate chain and its key are read
//! from PEM files when the configuration is read, so a reload with a broken or
//! mismatched pair is refused whole; a good pair replaces the one in use for the next
//! handshake, without a restart and without touching connections already open.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::RwLock;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::TlsAcceptor;

/// `[tls]`, read and checked: the files and the pair they hold.
#[derive(Clone)]
pub struct TlsSettings {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// Serve HTTPS on the `http` listener.
    pub http: bool,
    /// Offer `TLS_START` on the `ggz` listener.
    pub ggz: bool,
    pub key: Arc<CertifiedKey>,
}

impl fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key itself.
        f.debug_struct("TlsSettings")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .field("http", &self.http)
            .field("ggz", &self.ggz)
            .finish_non_exhaustive()
    }
}

impl TlsSettings {
    /// Whether both hold the same certificate chain (a reload compares them).
    pub fn same_certificate(&self, other: &TlsSettings) -> bool {
        self.key.cert == other.key.cert
    }
}

/// Reads a PEM certificate chain (leaf first) and the PEM private key that goes with
/// it; errors name the file and what is wrong with it.
pub fn load_pair(cert_path: &Path, key_path: &Path) -> Result<Arc<CertifiedKey>, String> {
    let chain = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", cert_path.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in it", cert_path.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| format!("{}: {e}", key_path.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let pair = CertifiedKey::from_der(chain, key, &provider)
        .map_err(|e| format!("{} and {}: {e}", cert_path.display(), key_path.display()))?;
    Ok(Arc::new(pair))
}

/// The certificate in use, replaced in place by a reload.
#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().clone())
    }
}

/// The server side of TLS for the listeners that use it.
#[derive(Clone)]
pub struct Tls {
    current: Arc<Current>,
    acceptor: TlsAcceptor,
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    /// `alpn`: the application protocols offered (`http/1.1` for the http listener).
    pub fn new(key: Arc<CertifiedKey>, alpn: &[&[u8]]) -> Self {
        let current = Arc::new(Current(RwLock::new(key)));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Self {
            current,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }

    /// Uses `key` for the handshakes from now on.
    pub fn replace(&self, key: Arc<CertifiedKey>) {
        *self.current.0.write() = key;
    }

    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

/// A stream that first gives back bytes already read from it: what a GGZ client sent
/// after `<TLS_START/>` in the same packet is the start of its TLS handshake. The
/// line break the client ends `<TLS_START/>` with (XML whitespace, never the start of
/// a TLS record) is skipped, whether it came in that packet or the next.
#[derive(Debug)]
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    /// Nothing but whitespace seen yet.
    skipping: bool,
    inner: S,
}

impl<S> Prefixed<S> {
    pub fn new(prefix: Vec<u8>, inner: S) -> Self {
        let start = prefix
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(prefix.len());
        Self {
            skipping: start == prefix.len(),
            prefix,
            at: start,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.prefix.len() {
            let n = buf.remaining().min(this.prefix.len() - this.at);
            buf.put_slice(&this.prefix[this.at..this.at + n]);
            this.at += n;
            if this.at == this.prefix.len() {
                this.prefix = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        loop {
            let before = buf.filled().len();
            std::task::ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
            if !this.skipping || buf.filled().len() == before {
                return Poll::Ready(Ok(()));
            }
            let fresh = &mut buf.filled_mut()[before..];
            match fresh.iter().position(|b| !b.is_ascii_whitespace()) {
                None => buf.set_filled(before),
                Some(k) => {
                    let len = fresh.len();
                    fresh.copy_within(k.., 0);
                    buf.set_filled(before + len - k);
                    this.skipping = false;
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate for `localhost` and its key, as PEM files in `dir`.
    fn write_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let (c, k) = (
            dir.join(format!("{name}.crt")),
            dir.join(format!("{name}.key")),
        );
        std::fs::write(&c, cert.cert.pem()).unwrap();
        std::fs::write(&k, cert.key_pair.serialize_pem()).unwrap();
        (c, k)
    }

    #[tokio::test]
    async fn the_prefix_comes_first_and_the_whitespace_before_the_handshake_is_skipped() {
        use tokio::io::AsyncReadExt;
        let mut out = Vec::new();
        let inner: &[u8] = b"more";
        let mut p = Prefixed::new(b"\n\x16\x03".to_vec(), inner);
        p.read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"\x16\x03more");
        // The line break came apart from the handshake.
        out.clear();
        let inner: &[u8] = b" \r\n\x16\x03\x01";
        Prefixed::new(b"\n".to_vec(), inner)
            .read_to_end(&mut out)
            .await
            .unwrap();
        assert_eq!(out, b"\x16\x03\x01");
    }

    #[test]
    fn a_pair_loads_and_a_mismatched_or_broken_one_is_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let (c1, k1) = write_pair(dir.path(), "one");
        let (_, k2) = write_pair(dir.path(), "two");
        assert!(load_pair(&c1, &k1).is_ok());
        let mismatch = load_pair(&c1, &k2).unwrap_err();
        assert!(
            mismatch.contains("one.crt") && mismatch.contains("two.key"),
            "{mismatch}"
        );
        std::fs::write(dir.path().join("junk.crt"), "not pem").unwrap();
        let junk = load_pair(&dir.path().join("junk.crt"), &k1).unwrap_err();
        assert!(
            junk.contains("junk.crt") && junk.contains("no certificate"),
            "{junk}"
        );
        let missing = load_pair(&dir.path().join("nope.crt"), &k1).unwrap_err();
        assert!(missing.contains("nope.crt"), "{missing}");
    }
}
