//! A GGZ connection's way out. Whoever delivers to the player appends the bytes in
//! the lobby's order (under the lobby lock) and, once the lock is released, writes
//! what is pending straight to the socket without waiting; the connection's own task
//! only finishes a write the socket would not take at once. A chat to a room thus
//! costs one `send` per player and no task wake-up.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Unsent bytes a player may have before they count as not keeping up.
pub const MAX_PENDING: usize = 256 * 1024;
/// A write that takes longer than this means the client stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// A buffer grown larger than this is given back once empty.
const KEEP_CAPACITY: usize = 16 * 1024;

pub struct Outbox {
    stream: Arc<TcpStream>,
    state: Mutex<State>,
    /// Tells the connection's task there is a write to finish or an end to make.
    wake: Notify,
}

#[derive(Default)]
struct State {
    pending: Vec<u8>,
    /// The connection's task is writing; others only append.
    writing: bool,
    /// Close once everything pending is written.
    close: bool,
    failed: bool,
}

/// Why the connection ends.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// Everything was written and a close was asked for.
    Closed,
    /// The socket failed, or the client stopped reading.
    Failed,
}

impl Outbox {
    pub fn new(stream: Arc<TcpStream>) -> Arc<Self> {
        Arc::new(Self {
            stream,
            state: Mutex::new(State::default()),
            wake: Notify::new(),
        })
    }

    /// Appends bytes to send, in order; false if the client has too much unsent.
    pub fn append(&self, bytes: &[u8]) -> bool {
        let mut st = self.state.lock();
        if !st.failed {
            st.pending.extend_from_slice(bytes);
        }
        st.pending.len() <= MAX_PENDING
    }

    /// Ends the connection at once, dropping what is pending (a client that does not
    /// keep up).
    pub fn abort(&self) {
        let mut st = self.state.lock();
        st.failed = true;
        st.pending = Vec::new();
        drop(st);
        self.wake.notify_one();
    }

    /// Closes the connection once what is pending is written.
    pub fn close_after(&self) {
        self.state.lock().close = true;
        self.wake.notify_one();
    }

    /// Writes what is pending as far as the socket takes it now; the connection's task
    /// is woken for the rest.
    pub fn flush(&self) {
        let mut st = self.state.lock();
        if st.writing || st.failed || st.pending.is_empty() {
            return;
        }
        match self.stream.try_write(&st.pending) {
            Ok(n) => {
                st.pending.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => st.failed = true,
        }
        if st.pending.is_empty() && st.pending.capacity() > KEEP_CAPACITY {
            st.pending = Vec::new();
        }
        if !st.pending.is_empty() || st.failed || st.close {
            self.wake.notify_one();
        }
    }

    /// Appends and flushes: a message of the connection's own.
    pub fn send(&self, bytes: &[u8]) {
        self.append(bytes);
        self.flush();
    }

    /// For the connection's task: waits until it has work.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// For the connection's task: writes everything pending, waiting for the socket
    /// (at most [`WRITE_TIMEOUT`] per write). `Err` when the connection must end.
    pub async fn finish(&self) -> Result<(), Ended> {
        loop {
            let chunk = {
                let mut st = self.state.lock();
                if st.failed {
                    return Err(Ended::Failed);
                }
                if st.pending.is_empty() {
                    st.writing = false;
                    return if st.close { Err(Ended::Closed) } else { Ok(()) };
                }
                st.writing = true;
                std::mem::take(&mut st.pending)
            };
            let written = tokio::time::timeout(WRITE_TIMEOUT, self.write_all(&chunk)).await;
            if !matches!(written, Ok(Ok(()))) {
                let mut st = self.state.lock();
                st.failed = true;
                st.writing = false;
                return Err(Ended::Failed);
            }
        }
    }

    async fn write_all(&self, mut bytes: &[u8]) -> io::Result<()> {
        while !bytes.is_empty() {
            self.stream.writable().await?;
            match self.stream.try_write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
