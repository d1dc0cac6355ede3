//! The endpoint: an s2n-quic server or client (s2n-quic runs its own endpoint task and UDP
//! socket) whose connections each get a task pairing them with an engine (see `conn`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use s2n_quic::client::Connect;
use tokio::sync::{Notify, mpsc};
use tracing::debug;
use wt_proto::{Config, Side};
use wt_session::{ConnectOptions, Error, Session, SessionRequest};

use crate::conn::{self, ConnCtl};
use crate::tls::{ClientConfig, ClientTls, ServerConfig};

/// Pending session requests the server holds for `accept()`; over it they are answered 503.
const ACCEPT_QUEUE: usize = 256;
/// Datagrams s2n-quic queues per connection and direction.
const DATAGRAM_QUEUE: usize = 1024;
/// The largest DATAGRAM frame header: the type byte and an 8-byte length varint.
const DATAGRAM_FRAME_HEADER_BOUND: u64 = 1 + 8;

struct EpShared {
    closed: AtomicBool,
    notify: Notify,
    conns: Mutex<Vec<Weak<ConnCtl>>>,
    config: Config,
    client: Option<s2n_quic::Client>,
}

impl EpShared {
    fn register(&self, ctl: &Arc<ConnCtl>) {
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        conns.retain(|c| c.strong_count() > 0);
        conns.push(Arc::downgrade(ctl));
        if self.closed.load(Ordering::SeqCst) {
            ctl.close();
        }
    }

    fn close(&self) {
        if self.closed.swap(true, Ordering::SeqCst) {
            return;
        }
        self.notify.notify_one();
        let conns = std::mem::take(&mut *self.conns.lock().unwrap_or_else(|e| e.into_inner()));
        for c in conns.iter().filter_map(Weak::upgrade) {
            c.close();
        }
    }
}

/// The part only the user's handles hold: dropping the last one shuts the endpoint down.
struct Alive {
    ep: Arc<EpShared>,
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.ep.close();
    }
}

/// A WebTransport endpoint on one UDP socket: a server yields [`SessionRequest`]s from
/// [`accept`](Self::accept); a client makes sessions with [`connect`](Self::connect).
///
/// Cloning gives another handle. When the last handle is dropped (or [`close`](Self::close) is
/// called) every connection is closed.
#[derive(Clone)]
pub struct Endpoint {
    alive: Arc<Alive>,
    requests: Option<Arc<tokio::sync::Mutex<mpsc::Receiver<SessionRequest>>>>,
    local_addr: SocketAddr,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

fn datagrams() -> io::Result<Datagrams> {
    s2n_quic::provider::datagram::default::Endpoint::builder()
        .with_send_capacity(DATAGRAM_QUEUE)
        .map_err(io_err)?
        .with_recv_capacity(DATAGRAM_QUEUE)
        .map_err(io_err)?
        .build()
        .map(Datagrams)
        .map_err(io_err)
}

/// s2n-quic's default datagram endpoint, except for the `max_datagram_frame_size` transport
/// parameter. The default advertises 65535, so a peer that discovered a larger path MTU
/// (wt-quinn on loopback: about 1400 bytes) sends datagrams larger than this side can send (the
/// adapter's limit is [`conn::MAX_DATAGRAM`]), and an application's echo of them is refused.
/// This advertises the frame size of a `MAX_DATAGRAM`-byte payload behind the largest frame
/// header (type byte and an 8-byte length varint, as quinn counts it): a quinn peer's limit is
/// then exactly `MAX_DATAGRAM` in both directions (it sends nothing this side cannot send back,
/// and it can send back what this side sends). A peer that counts the exact header may send up
/// to 8 bytes more than `MAX_DATAGRAM`.
struct Datagrams(s2n_quic::provider::datagram::default::Endpoint);

impl s2n_quic::provider::datagram::Endpoint for Datagrams {
    type Sender = s2n_quic::provider::datagram::default::Sender;
    type Receiver = s2n_quic::provider::datagram::default::Receiver;

    fn create_connection(
        &mut self,
        info: &s2n_quic::provider::datagram::ConnectionInfo,
    ) -> (Self::Sender, Self::Receiver) {
        self.0.create_connection(info)
    }

    fn max_datagram_frame_size(&self, _: &s2n_quic::provider::datagram::PreConnectionInfo) -> u64 {
        conn::MAX_DATAGRAM as u64 + DATAGRAM_FRAME_HEADER_BOUND
    }
}

fn start_client<T>(
    tls: T,
    bind: SocketAddr,
    limits: s2n_quic::provider::limits::Limits,
) -> io::Result<s2n_quic::Client>
where
    T: s2n_quic::provider::tls::Provider + 'static,
{
    s2n_quic::Client::builder()
        .with_tls(tls)
        .map_err(io_err)?
        .with_io(bind)
        .map_err(io_err)?
        .with_limits(limits)
        .map_err(io_err)?
        .with_datagram(datagrams()?)
        .map_err(io_err)?
        .start()
        .map_err(io_err)
}

impl Endpoint {
    /// A server on `addr` with the given TLS configuration (see
    /// [`tls::server_config`](crate::tls::server_config)) and the default engine configuration.
    /// Must be called inside a tokio runtime.
    pub fn server(addr: SocketAddr, tls: ServerConfig) -> io::Result<Self> {
        Self::server_with_config(addr, tls, Config::default())
    }

    /// A server with an engine configuration (dialects, feature switches, limits).
    pub fn server_with_config(
        addr: SocketAddr,
        tls: ServerConfig,
        config: Config,
    ) -> io::Result<Self> {
        let server = s2n_quic::Server::builder()
            .with_tls(tls.tls)
            .map_err(io_err)?
            .with_io(addr)
            .map_err(io_err)?
            .with_limits(tls.limits)
            .map_err(io_err)?
            .with_datagram(datagrams()?)
            .map_err(io_err)?
            .start()
            .map_err(io_err)?;
        let local_addr = server.local_addr()?;
        let ep = Arc::new(EpShared {
            closed: AtomicBool::new(false),
            notify: Notify::new(),
            conns: Mutex::new(Vec::new()),
            config,
            client: None,
        });
        let (tx, rx) = mpsc::channel(ACCEPT_QUEUE);
        tokio::spawn(accept_loop(server, ep.clone(), tx));
        Ok(Self {
            alive: Arc::new(Alive { ep }),
            requests: Some(Arc::new(tokio::sync::Mutex::new(rx))),
            local_addr,
        })
    }

    /// A client bound to `bind` (use port 0) with the given TLS configuration (see
    /// [`tls::client_config_with_hashes`](crate::tls::client_config_with_hashes),
    /// [`tls::client_config_trusting`](crate::tls::client_config_trusting) and
    /// [`tls::client_config`](crate::tls::client_config)).
    pub fn client(bind: SocketAddr, tls: ClientConfig) -> io::Result<Self> {
        Self::client_with_config(bind, tls, Config::default())
    }

    /// A client with an engine configuration.
    pub fn client_with_config(
        bind: SocketAddr,
        tls: ClientConfig,
        config: Config,
    ) -> io::Result<Self> {
        let client = match tls.tls {
            ClientTls::S2n(t) => start_client(t, bind, tls.limits)?,
            ClientTls::Rustls(t) => start_client(t, bind, tls.limits)?,
        };
        let local_addr = client.local_addr()?;
        let ep = Arc::new(EpShared {
            closed: AtomicBool::new(false),
            notify: Notify::new(),
            conns: Mutex::new(Vec::new()),
            config,
            client: Some(client),
        });
        Ok(Self {
            alive: Arc::new(Alive { ep }),
            requests: None,
            local_addr,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Server: the next session request; `None` once the endpoint is closed (or on a client).
    pub async fn accept(&self) -> Option<SessionRequest> {
        let rx = self.requests.as_ref()?;
        rx.lock().await.recv().await
    }

    /// Client: connects to an `https://host[:port]/path` URL and opens a session.
    pub async fn connect(&self, url: &str) -> Result<Session, Error> {
        self.connect_with(url, ConnectOptions::default()).await
    }

    /// Client: [`connect`](Self::connect) with offered protocols, an origin or more headers.
    pub async fn connect_with(&self, url: &str, options: ConnectOptions) -> Result<Session, Error> {
        let ep = &self.alive.ep;
        let Some(client) = ep.client.as_ref() else {
            return Err(Error::Invalid("not a client endpoint".into()));
        };
        if ep.closed.load(Ordering::SeqCst) {
            return Err(Error::ConnectionLost("endpoint closed".into()));
        }
        let target = wt_session::Target::parse(url, options)?;
        let bare = target.host.clone();
        let port = target.port;
        let want_v6 = self.local_addr.is_ipv6();
        let addr = tokio::net::lookup_host((bare.as_str(), port))
            .await
            .map_err(|e| Error::ConnectionLost(format!("cannot resolve {bare}: {e}")))?
            .find(|a| a.is_ipv6() == want_v6)
            .ok_or_else(|| Error::ConnectionLost(format!("no usable address for {bare}")))?;
        debug!(%addr, server_name = %bare, "connecting");
        let conn = client
            .connect(Connect::new(addr).with_server_name(bare.as_str()))
            .await
            .map_err(|e| conn::close_info(Some(&e)).2)?;
        let (shared, ctl) = conn::spawn(conn, Side::Client, ep.config.clone(), None);
        ep.register(&ctl);
        Session::connect(shared, target.request).await
    }

    /// Closes every connection and stops accepting (also done when the last handle drops).
    pub fn close(&self) {
        self.alive.ep.close();
    }
}

async fn accept_loop(
    mut server: s2n_quic::Server,
    ep: Arc<EpShared>,
    tx: mpsc::Sender<SessionRequest>,
) {
    loop {
        if ep.closed.load(Ordering::SeqCst) {
            break;
        }
        tokio::select! {
            c = server.accept() => match c {
                Some(conn) => {
                    let (_, ctl) = conn::spawn(conn, Side::Server, ep.config.clone(), Some(tx.clone()));
                    ep.register(&ctl);
                }
                None => break,
            },
            _ = ep.notify.notified() => {}
        }
    }
    debug!("server accept loop ends");
}

/// The unspecified address of the same family as `addr`, port 0 (to bind a client).
pub fn any_addr_for(addr: &SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}
