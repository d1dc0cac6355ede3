//! The endpoint façade both transport adapters share: accepting session requests (with one
//! bounded accept queue), connecting to a URL, closing. An adapter implements [`Transport`]
//! (open a QUIC connection, close everything) and hands incoming requests to a
//! [`RequestQueue`]; everything else lives here once.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::{info, warn};
use wt_proto::{ConnectRequest, SessionId};

use crate::error::Error;
use crate::request::SessionRequest;
use crate::session::Session;
use crate::shared::Shared;
use crate::target::{ConnectOptions, Target};

/// Pending session requests a server holds for [`Endpoint::accept`] by default; over it a new
/// request is answered 503 (RFC 9110 §15.6.4: the server is overloaded, the client may retry).
pub const ACCEPT_QUEUE: usize = 256;

/// A future a [`Transport`] returns from [`connect`](Transport::connect).
pub type ConnectFuture<'a> = Pin<Box<dyn Future<Output = Result<Arc<Shared>, Error>> + Send + 'a>>;

/// What a QUIC stack adapter provides to an [`Endpoint`] (the adapter contract).
///
/// The adapter runs its connections: for each it creates a [`Shared`] and drives it as the
/// [`shared`](crate::shared) module describes; a server hands each new session request to the
/// [`RequestQueue`] it created the endpoint with.
pub trait Transport: Send + Sync + 'static {
    /// Client: opens a QUIC connection to `addr`, verifying the server as `server_name`, and
    /// returns the connection's shared state (the CONNECT is sent by the caller).
    fn connect(&self, addr: SocketAddr, server_name: &str) -> ConnectFuture<'_>;

    /// Whether [`connect`](Self::connect) is available (a client endpoint).
    fn is_client(&self) -> bool;

    /// Closes every connection and stops accepting new ones. Called once the last
    /// [`Endpoint`] handle is dropped, or by [`Endpoint::close`].
    fn close(&self);
}

/// The server side of the accept queue: a driver offers each new session request.
#[derive(Clone, Debug)]
pub struct RequestQueue {
    tx: mpsc::Sender<SessionRequest>,
}

impl RequestQueue {
    /// Hands a request taken from [`Inner::take_request`](crate::Inner::take_request) to
    /// [`Endpoint::accept`]; when the queue is full (or nobody accepts any more) the request is
    /// answered 503 at once. Call it without holding the connection's lock.
    pub fn offer(&self, shared: &Arc<Shared>, id: SessionId, request: ConnectRequest) {
        let request = SessionRequest::new(shared.clone(), id, request);
        info!(session = %id, path = %request.path(), "session requested");
        if let Err(e) = self.tx.try_send(request) {
            warn!("accept queue full or closed: request refused with 503");
            let request = match e {
                mpsc::error::TrySendError::Full(r) | mpsc::error::TrySendError::Closed(r) => r,
            };
            let _ = request.reject(http::StatusCode::SERVICE_UNAVAILABLE);
        }
    }
}

/// The part only the user's handles hold: dropping the last one closes the transport.
struct Alive {
    transport: Arc<dyn Transport>,
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.transport.close();
    }
}

/// A WebTransport endpoint on one UDP socket, on whichever QUIC stack made it: a server yields
/// [`SessionRequest`]s from [`accept`](Self::accept); a client makes sessions with
/// [`connect`](Self::connect).
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

impl Endpoint {
    /// A server endpoint and the queue its transport offers requests to (at most `capacity`
    /// waiting for [`accept`](Self::accept); [`ACCEPT_QUEUE`] is the adapters' default).
    pub fn server(
        transport: Arc<dyn Transport>,
        local_addr: SocketAddr,
        capacity: usize,
    ) -> (Self, RequestQueue) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let endpoint = Self {
            alive: Arc::new(Alive { transport }),
            requests: Some(Arc::new(tokio::sync::Mutex::new(rx))),
            local_addr,
        };
        (endpoint, RequestQueue { tx })
    }

    /// A client endpoint.
    pub fn client(transport: Arc<dyn Transport>, local_addr: SocketAddr) -> Self {
        Self {
            alive: Arc::new(Alive { transport }),
            requests: None,
            local_addr,
        }
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
        let transport = &self.alive.transport;
        if !transport.is_client() {
            return Err(Error::Invalid("not a client endpoint".into()));
        }
        let timeout = options.timeout;
        let target = Target::parse(url, options)?;
        let connecting = self.connect_target(target);
        match timeout {
            Some(t) => tokio::time::timeout(t, connecting)
                .await
                .unwrap_or(Err(Error::TimedOut)),
            None => connecting.await,
        }
    }

    /// Resolves, connects and opens the session of `target`.
    async fn connect_target(&self, target: Target) -> Result<Session, Error> {
        let transport = &self.alive.transport;
        let host = target.host.clone();
        let want_v6 = self.local_addr.is_ipv6();
        let addr = tokio::net::lookup_host((host.as_str(), target.port))
            .await
            .map_err(|e| Error::ConnectionLost(format!("cannot resolve {host}: {e}")))?
            .find(|a| a.is_ipv6() == want_v6)
            .ok_or_else(|| Error::ConnectionLost(format!("no usable address for {host}")))?;
        let shared = transport.connect(addr, &host).await?;
        Session::connect(shared, target.request).await
    }

    /// Closes every connection and stops the transport (also done when the last handle drops).
    pub fn close(&self) {
        self.alive.transport.close();
    }
}

/// Declares an adapter's endpoint type: a newtype over [`Endpoint`] that derefs to it (so every
/// method of the shared endpoint is available), converts into it, and has
/// `into_inner()`. The adapter adds its stack's constructors in an `impl` of its own.
///
/// ```ignore
/// wt_session::adapter_endpoint! {
///     /// A WebTransport endpoint on my QUIC stack.
///     pub struct Endpoint;
/// }
/// ```
#[macro_export]
macro_rules! adapter_endpoint {
    ($(#[$meta:meta])* pub struct $name:ident;) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        pub struct $name($crate::Endpoint);

        impl ::std::ops::Deref for $name {
            type Target = $crate::Endpoint;

            fn deref(&self) -> &$crate::Endpoint {
                &self.0
            }
        }

        impl ::std::convert::From<$name> for $crate::Endpoint {
            fn from(e: $name) -> Self {
                e.0
            }
        }

        impl $name {
            /// The stack-independent endpoint.
            pub fn into_inner(self) -> $crate::Endpoint {
                self.0
            }
        }
    };
}
