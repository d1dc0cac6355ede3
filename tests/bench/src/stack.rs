//! The small common surface the workloads are written against, implemented by every stack in
//! `impls`. Everything runs on `current_thread` runtimes inside a `LocalSet`, so nothing needs
//! to be `Send` and the traits use plain `async fn`.

use std::net::SocketAddr;

use anyhow::Result;
use bytes::Bytes;

/// What a client needs to reach a server.
#[derive(Clone, Debug)]
pub(crate) struct ServerInfo {
    /// The server's UDP address (127.0.0.1).
    pub addr: SocketAddr,
    /// The server's self-signed certificate (DER).
    pub cert: Vec<u8>,
    /// SHA-256 of `cert`, for clients that pin it.
    pub hash: [u8; 32],
}

impl ServerInfo {
    /// `https://127.0.0.1:PORT/bench`.
    pub fn url_ip(&self) -> String {
        format!("https://127.0.0.1:{}/bench", self.addr.port())
    }

    /// `https://localhost:PORT/bench` (for s2n-tls, which checks the name).
    pub fn url_localhost(&self) -> String {
        format!("https://localhost:{}/bench", self.addr.port())
    }
}

/// A server endpoint.
pub(crate) trait Server: Sized + 'static {
    /// An accepted connection (or session request) not yet established.
    type Incoming: 'static;
    /// An established session (a connection on the raw stacks).
    type Conn: Conn;
    /// Binds to 127.0.0.1 on an ephemeral port (inside the server's runtime).
    fn bind() -> Result<(Self, ServerInfo)>;
    /// The next incoming connection; `None` when the endpoint is done.
    async fn accept(&mut self) -> Option<Self::Incoming>;
    /// Finishes what the handshake and session setup still need (runs concurrently per
    /// connection).
    async fn establish(incoming: Self::Incoming) -> Result<Self::Conn>;
}

/// A client endpoint.
pub(crate) trait Client: Sized + 'static {
    /// An established session (a connection on the raw stacks).
    type Conn: Conn;
    /// Binds to 127.0.0.1 on an ephemeral port (inside the client's runtime).
    fn new(server: &ServerInfo) -> Result<Self>;
    /// A fresh connection with a session on it (a bare QUIC handshake on the raw stacks).
    async fn connect(&self) -> Result<Self::Conn>;
}

/// A session: streams and datagrams.
pub(crate) trait Conn: Clone + 'static {
    /// The send side of a stream.
    type Send: SendHalf;
    /// The receive side of a stream.
    type Recv: RecvHalf;
    async fn open_bi(&self) -> Result<(Self::Send, Self::Recv)>;
    async fn open_uni(&self) -> Result<Self::Send>;
    async fn accept_bi(&self) -> Result<(Self::Send, Self::Recv)>;
    async fn accept_uni(&self) -> Result<Self::Recv>;
    /// Sends a datagram without waiting; whether the send call accepted it.
    fn send_datagram(&self, data: Bytes) -> bool;
    async fn read_datagram(&self) -> Result<Bytes>;
    /// Closes the session (and its connection) with code 0.
    fn close(&self);
}

/// The send side of a stream.
pub(crate) trait SendHalf: 'static {
    /// Writes all of `data`.
    async fn write_chunk(&mut self, data: Bytes) -> Result<()>;
    /// Finishes the stream without waiting for acknowledgements.
    fn finish(&mut self) -> Result<()>;
}

/// The receive side of a stream.
pub(crate) trait RecvHalf: 'static {
    /// Reads up to [`CHUNK`](crate::workload::CHUNK) bytes and returns how many (`None` at the
    /// end of the stream). Stacks with a chunk API do not copy.
    async fn read_some(&mut self) -> Result<Option<usize>>;
    /// Reads the (short) rest of the stream.
    async fn read_all(&mut self) -> Result<Vec<u8>>;
}
