//! The endpoint: an s2n-quic server or client (s2n-quic runs its own endpoint task and UDP
//! socket) whose connections each get a task pairing them with an engine (see `conn`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use s2n_quic::client::Connect;
use tokio::sync::Notify;
use tracing::debug;
use wt_proto::{Config, Side};
use wt_session::Error;
use wt_session::endpoint::{ACCEPT_QUEUE, ConnectFuture, RequestQueue, Transport};

use crate::conn::{self, ConnCtl};
use crate::tls::{ClientConfig, ClientTls, ServerConfig};

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

    fn shut_down(&self) {
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

impl Transport for EpShared {
    fn connect(&self, addr: SocketAddr, server_name: &str) -> ConnectFuture<'_> {
        let server_name = server_name.to_owned();
        Box::pin(async move {
            let Some(client) = self.client.as_ref() else {
                return Err(Error::Invalid("not a client endpoint".into()));
            };
            if self.closed.load(Ordering::SeqCst) {
                return Err(Error::ConnectionLost("endpoint closed".into()));
            }
            debug!(%addr, %server_name, "connecting");
            let conn = client
                .connect(Connect::new(addr).with_server_name(server_name.as_str()))
                .await
                .map_err(|e| conn::transport_close(Some(&e)).error())?;
            let (shared, ctl) = conn::spawn(conn, Side::Client, self.config.clone(), None);
            self.register(&ctl);
            Ok(shared)
        })
    }

    fn is_client(&self) -> bool {
        self.client.is_some()
    }

    fn close(&self) {
        self.shut_down();
    }
}

wt_session::adapter_endpoint! {
    /// A WebTransport endpoint on s2n-quic: a [`wt_session::Endpoint`] (all its methods are
    /// available through `Deref`) made by the constructors here. [`into_inner`](Self::into_inner)
    /// gives the stack-independent endpoint.
    pub struct Endpoint;
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
        let (handle, queue) = wt_session::Endpoint::server(ep.clone(), local_addr, ACCEPT_QUEUE);
        tokio::spawn(accept_loop(server, ep, queue));
        Ok(Self(handle))
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
        Ok(Self(wt_session::Endpoint::client(ep, local_addr)))
    }
}

async fn accept_loop(mut server: s2n_quic::Server, ep: Arc<EpShared>, queue: RequestQueue) {
    loop {
        if ep.closed.load(Ordering::SeqCst) {
            break;
        }
        tokio::select! {
            c = server.accept() => match c {
                Some(conn) => {
                    let (_, ctl) = conn::spawn(conn, Side::Server, ep.config.clone(), Some(queue.clone()));
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
