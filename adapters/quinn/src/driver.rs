//! A tokio driver: one UDP socket (quinn-udp, with GSO and GRO), one quinn-proto endpoint and
//! its connections, each paired with an engine shared with the application's handles.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use quinn_proto::{ConnectionHandle, DatagramEvent, EndpointConfig};
use quinn_udp::{RecvMeta, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::{Notify, oneshot};
use tracing::{debug, trace};
use wt_proto::{Code, Config, Connection, Side};
use wt_session::endpoint::{ACCEPT_QUEUE, ConnectFuture, RequestQueue, Transport};
use wt_session::{ClientClose, Error, Shared};

use crate::conn::Translator;

/// Receive calls per loop turn before the connections get a turn.
const RECV_BURST: usize = 16;
/// The most UDP datagrams in one GSO transmit. A larger burst (quinn-udp allows 64 on
/// loopback) overflows the receiver's socket buffer: the losses collapse the congestion window
/// and the transfer crawls (measured: 30 MB/s with 64, 700+ MB/s with 10, quinn's own cap).
const MAX_TRANSMIT_SEGMENTS: usize = 10;

enum Cmd {
    Connect {
        addr: SocketAddr,
        server_name: String,
        reply: oneshot::Sender<Result<Arc<Shared>, Error>>,
    },
}

/// What the endpoint's handles share with the driver task: commands, wake-ups, closing.
struct EpShared {
    notify: Notify,
    cmds: Mutex<VecDeque<Cmd>>,
    closed: AtomicBool,
    /// Connections whose engine the application changed since the driver last looked.
    woken: Mutex<Vec<ConnectionHandle>>,
    is_client: bool,
}

impl Transport for EpShared {
    fn connect(&self, addr: SocketAddr, server_name: &str) -> ConnectFuture<'_> {
        let (reply, rx) = oneshot::channel();
        self.cmds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(Cmd::Connect {
                addr,
                server_name: server_name.to_owned(),
                reply,
            });
        self.notify.notify_one();
        Box::pin(async move {
            rx.await
                .map_err(|_| Error::ConnectionLost("endpoint closed".into()))?
        })
    }

    fn is_client(&self) -> bool {
        self.is_client
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

wt_session::adapter_endpoint! {
    /// A WebTransport endpoint on one UDP socket driven by quinn-proto: a
    /// [`wt_session::Endpoint`] (all its methods are available through `Deref`) made by the
    /// constructors here. [`into_inner`](Self::into_inner) gives the stack-independent endpoint.
    pub struct Endpoint;
}

impl Endpoint {
    /// A server on `addr` with the given quinn configuration (see
    /// [`tls::server_config`](crate::tls::server_config)) and the default engine configuration.
    /// Must be called inside a tokio runtime.
    pub fn server(addr: SocketAddr, tls: quinn_proto::ServerConfig) -> io::Result<Self> {
        Self::server_with_config(addr, tls, Config::default())
    }

    /// A server with an engine configuration (dialects, feature switches, limits).
    pub fn server_with_config(
        addr: SocketAddr,
        tls: quinn_proto::ServerConfig,
        config: Config,
    ) -> io::Result<Self> {
        Self::start(addr, Some(tls), None, config)
    }

    /// A client bound to `bind` (use port 0) with the given quinn configuration (see
    /// [`tls::client_config`](crate::tls::client_config) and
    /// [`tls::client_config_with_hashes`](crate::tls::client_config_with_hashes)).
    pub fn client(bind: SocketAddr, tls: quinn_proto::ClientConfig) -> io::Result<Self> {
        Self::client_with_config(bind, tls, Config::default())
    }

    /// A client with an engine configuration.
    pub fn client_with_config(
        bind: SocketAddr,
        tls: quinn_proto::ClientConfig,
        config: Config,
    ) -> io::Result<Self> {
        Self::start(bind, None, Some(tls), config)
    }

    fn start(
        addr: SocketAddr,
        server: Option<quinn_proto::ServerConfig>,
        client: Option<quinn_proto::ClientConfig>,
        config: Config,
    ) -> io::Result<Self> {
        let std_socket = std::net::UdpSocket::bind(addr)?;
        std_socket.set_nonblocking(true)?;
        let state = UdpSocketState::new((&std_socket).into())?;
        let _ = state.set_recv_buffer_size((&std_socket).into(), 4 << 20);
        let _ = state.set_send_buffer_size((&std_socket).into(), 4 << 20);
        let local_addr = std_socket.local_addr()?;
        let socket = UdpSocket::from_std(std_socket)?;
        let ep_shared = Arc::new(EpShared {
            notify: Notify::new(),
            cmds: Mutex::new(VecDeque::new()),
            closed: AtomicBool::new(false),
            woken: Mutex::new(Vec::new()),
            is_client: client.is_some(),
        });
        let endpoint = quinn_proto::Endpoint::new(
            Arc::new(EndpointConfig::default()),
            server.clone().map(Arc::new),
            true,
            None,
        );
        let (handle, requests) = if server.is_some() {
            let (e, q) = wt_session::Endpoint::server(ep_shared.clone(), local_addr, ACCEPT_QUEUE);
            (e, Some(q))
        } else {
            (
                wt_session::Endpoint::client(ep_shared.clone(), local_addr),
                None,
            )
        };
        let driver = Driver {
            ep: ep_shared,
            socket,
            state,
            endpoint,
            conns: ConnTable::default(),
            ready: Vec::new(),
            timers: BinaryHeap::new(),
            config,
            client,
            requests,
            local_addr,
        };
        tokio::spawn(driver.run());
        Ok(Self(handle))
    }
}

struct Conn {
    quic: quinn_proto::Connection,
    tr: Translator,
    shared: Arc<Shared>,
    side: Side,
    /// Client: closing once every session ended.
    close: ClientClose,
    /// Set while the application's wake-up for this connection is in `EpShared::woken`.
    woken: Arc<AtomicBool>,
    /// In `Driver::ready`.
    ready: bool,
    /// The deadline of this connection's entry in `Driver::timers` (older entries are stale).
    deadline: Option<Instant>,
    /// The engine's next deadline, as of the end of the last pass.
    engine_deadline: Option<Instant>,
}

/// The connections by handle. quinn-proto's handles are small slab indices that it reuses, so
/// a vector indexed by them finds a connection without hashing (once per received packet).
#[derive(Default)]
struct ConnTable {
    slots: Vec<Option<Conn>>,
    len: usize,
}

impl ConnTable {
    fn insert(&mut self, ch: ConnectionHandle, conn: Conn) {
        if self.slots.len() <= ch.0 {
            self.slots.resize_with(ch.0 + 1, || None);
        }
        if let Some(slot) = self.slots.get_mut(ch.0)
            && slot.replace(conn).is_none()
        {
            self.len += 1;
        }
    }

    fn get(&self, ch: &ConnectionHandle) -> Option<&Conn> {
        self.slots.get(ch.0)?.as_ref()
    }

    fn get_mut(&mut self, ch: &ConnectionHandle) -> Option<&mut Conn> {
        self.slots.get_mut(ch.0)?.as_mut()
    }

    fn remove(&mut self, ch: &ConnectionHandle) -> Option<Conn> {
        let conn = self.slots.get_mut(ch.0)?.take()?;
        self.len -= 1;
        Some(conn)
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn iter(&self) -> impl Iterator<Item = (ConnectionHandle, &Conn)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((ConnectionHandle(i), c.as_ref()?)))
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut Conn> {
        self.slots.iter_mut().filter_map(Option::as_mut)
    }

    fn keys(&self) -> impl Iterator<Item = ConnectionHandle> + '_ {
        self.iter().map(|(h, _)| h)
    }
}

struct Driver {
    ep: Arc<EpShared>,
    socket: UdpSocket,
    state: UdpSocketState,
    endpoint: quinn_proto::Endpoint,
    conns: ConnTable,
    /// Connections to drive in this pass: they had input, a wake-up or an expired timer. Work
    /// per pass is proportional to these, not to all connections.
    ready: Vec<ConnectionHandle>,
    /// Each connection's next deadline (lazily deleted: an entry counts only while it equals
    /// the connection's `deadline`).
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    config: Config,
    client: Option<quinn_proto::ClientConfig>,
    /// Server: where new session requests go.
    requests: Option<RequestQueue>,
    local_addr: SocketAddr,
}

impl Driver {
    /// A new connection's state, woken by the application through `EpShared::woken`.
    fn new_conn(
        &mut self,
        ch: ConnectionHandle,
        quic: quinn_proto::Connection,
        side: Side,
        now: Instant,
    ) -> Arc<Shared> {
        let ep = self.ep.clone();
        let engine = Connection::new(side, self.config.clone(), now);
        let woken = Arc::new(AtomicBool::new(false));
        let flag = woken.clone();
        let shared = Shared::new(
            engine,
            Arc::new(move || {
                if !flag.swap(true, Ordering::AcqRel) {
                    ep.woken.lock().unwrap_or_else(|e| e.into_inner()).push(ch);
                    ep.notify.notify_one();
                }
            }),
        );
        self.conns.insert(
            ch,
            Conn {
                quic,
                tr: Translator::new(),
                shared: shared.clone(),
                side,
                close: ClientClose::default(),
                woken,
                ready: false,
                deadline: None,
                engine_deadline: None,
            },
        );
        self.mark_ready(ch);
        shared
    }

    /// Queues a connection for the next pass (once).
    fn mark_ready(&mut self, ch: ConnectionHandle) {
        if let Some(c) = self.conns.get_mut(&ch)
            && !c.ready
        {
            c.ready = true;
            self.ready.push(ch);
        }
    }

    /// Moves the application's wake-ups and the expired timers into `ready`.
    fn collect_ready(&mut self, now: Instant) {
        let woken = std::mem::take(&mut *self.ep.woken.lock().unwrap_or_else(|e| e.into_inner()));
        for ch in woken {
            if let Some(c) = self.conns.get(&ch) {
                c.woken.store(false, Ordering::Release);
            }
            self.mark_ready(ch);
        }
        while let Some(Reverse((t, h))) = self.timers.peek().copied() {
            if t > now {
                break;
            }
            self.timers.pop();
            let ch = ConnectionHandle(h);
            if self.conns.get(&ch).is_some_and(|c| c.deadline == Some(t)) {
                if let Some(c) = self.conns.get_mut(&ch) {
                    c.deadline = None;
                }
                self.mark_ready(ch);
            }
        }
    }

    /// Records a connection's next deadline after it was driven.
    fn schedule(&mut self, ch: ConnectionHandle) {
        let Some(c) = self.conns.get_mut(&ch) else {
            return;
        };
        let mut t = c.quic.poll_timeout();
        let mut min = |x: Option<Instant>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t: Instant| t.min(x)));
            }
        };
        min(c.engine_deadline);
        min(c.close.deadline());
        if t != c.deadline {
            c.deadline = t;
            if let Some(t) = t {
                self.timers.push(Reverse((t, ch.0)));
            }
        }
        // Stale entries are dropped when they expire; rebuild before they outnumber the live
        // ones (a busy connection moves its deadline on every pass), so the heap stays
        // O(connections) and the rebuild is amortized O(1) per push.
        if self.timers.len() > 2 * self.conns.len() + 64 {
            self.timers = self
                .conns
                .iter()
                .filter_map(|(h, c)| c.deadline.map(|t| Reverse((t, h.0))))
                .collect();
        }
    }

    async fn run(mut self) {
        let gro = self.state.gro_segments().max(1);
        let slot = (64 * 1024).max(1500 * gro);
        let mut storage = vec![0u8; slot * quinn_udp::BATCH_SIZE];
        // The receive slots, made once: a receive call allocates nothing.
        let mut slices: Vec<IoSliceMut<'_>> =
            storage.chunks_mut(slot).map(IoSliceMut::new).collect();
        let mut resp = Vec::new();
        let mut tx_buf = Vec::new();
        let mut shutting_down_since: Option<Instant> = None;
        let mut timer = Box::pin(tokio::time::sleep(Duration::from_secs(3600)));
        let mut armed: Option<Instant> = None;
        loop {
            let now = Instant::now();
            if self.ep.closed.load(Ordering::SeqCst) && shutting_down_since.is_none() {
                debug!(addr = %self.local_addr, "endpoint closing");
                shutting_down_since = Some(now);
                for c in self.conns.values_mut() {
                    c.quic.close(
                        now,
                        quinn_proto::VarInt::from_u32(0x100),
                        "endpoint closed".into(),
                    );
                }
                self.endpoint.set_server_config(None);
            }
            if let Some(since) = shutting_down_since
                && (self.conns.is_empty() || now.duration_since(since) > Duration::from_secs(2))
            {
                for c in self.conns.values_mut() {
                    let mut g = c.shared.lock();
                    g.set_transport_error(Error::ConnectionLost("endpoint closed".into()));
                    g.engine
                        .handle_connection_closed(Code::H3_NO_ERROR, "endpoint closed");
                    g.process_events();
                }
                debug!(addr = %self.local_addr, "endpoint driver ends");
                return;
            }
            self.commands(now);
            let busy = self.receive(now, &mut slices, &mut resp).await;
            let now = Instant::now();
            if shutting_down_since.is_some() {
                let all: Vec<ConnectionHandle> = self.conns.keys().collect();
                for ch in all {
                    self.mark_ready(ch);
                }
            }
            self.collect_ready(now);
            let ready = std::mem::take(&mut self.ready);
            for &ch in &ready {
                if let Some(c) = self.conns.get_mut(&ch) {
                    c.ready = false;
                }
            }
            for ch in ready {
                if self.drive(ch, now, &mut tx_buf).await {
                    self.conns.remove(&ch);
                    trace!(?ch, "connection drained");
                } else {
                    self.schedule(ch);
                }
            }
            if busy || !self.ready.is_empty() {
                tokio::task::yield_now().await;
                continue;
            }
            // One timer for the driver's life, moved only when the earliest deadline moves.
            let deadline = self.timers.peek().map(|Reverse((t, _))| *t);
            if deadline != armed {
                armed = deadline;
                let at = deadline.unwrap_or_else(|| now + Duration::from_secs(3600));
                timer.as_mut().reset(tokio::time::Instant::from_std(at));
            }
            tokio::select! {
                _ = self.socket.readable() => {}
                _ = self.ep.notify.notified() => {}
                _ = timer.as_mut() => { armed = None; }
            }
        }
    }

    fn commands(&mut self, now: Instant) {
        loop {
            let cmd = self
                .ep
                .cmds
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front();
            let Some(cmd) = cmd else { return };
            match cmd {
                Cmd::Connect {
                    addr,
                    server_name,
                    reply,
                } => {
                    let Some(config) = self.client.clone() else {
                        let _ = reply.send(Err(Error::Invalid("not a client endpoint".into())));
                        continue;
                    };
                    match self.endpoint.connect(now, config, addr, &server_name) {
                        Ok((ch, quic)) => {
                            debug!(%addr, %server_name, "connecting");
                            let shared = self.new_conn(ch, quic, Side::Client, now);
                            let _ = reply.send(Ok(shared));
                        }
                        Err(e) => {
                            let _ = reply.send(Err(Error::ConnectionLost(e.to_string())));
                        }
                    }
                }
            }
        }
    }

    /// Reads what the socket has (a bounded burst); returns whether more may be waiting.
    async fn receive(
        &mut self,
        now: Instant,
        slices: &mut [IoSliceMut<'_>],
        resp: &mut Vec<u8>,
    ) -> bool {
        let mut metas = [RecvMeta::default(); quinn_udp::BATCH_SIZE];
        for _ in 0..RECV_BURST {
            let n = {
                let socket = &self.socket;
                let state = &self.state;
                match socket.try_io(Interest::READABLE, || {
                    state.recv(socket.into(), slices, &mut metas)
                }) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                    Err(e) => {
                        debug!(error = %e, "UDP receive error");
                        return false;
                    }
                }
            };
            for (meta, buf) in metas.iter().zip(slices.iter()).take(n) {
                let stride = meta.stride.max(1);
                // One copy per receive slot (a GRO batch); its datagrams are split off it.
                let mut data = BytesMut::from(&buf[..meta.len.min(buf.len())]);
                while !data.is_empty() {
                    let seg = data.split_to(stride.min(data.len()));
                    let ecn = meta
                        .ecn
                        .and_then(|e| quinn_proto::EcnCodepoint::from_bits(e as u8));
                    resp.clear();
                    match self
                        .endpoint
                        .handle(now, meta.addr, meta.dst_ip, ecn, seg, resp)
                    {
                        Some(DatagramEvent::ConnectionEvent(ch, ev)) => {
                            if let Some(c) = self.conns.get_mut(&ch) {
                                c.quic.handle_event(ev);
                                self.mark_ready(ch);
                            }
                        }
                        Some(DatagramEvent::NewConnection(incoming)) => {
                            if self.ep.closed.load(Ordering::SeqCst) {
                                self.endpoint.ignore(incoming);
                                continue;
                            }
                            match self.endpoint.accept(incoming, now, resp, None) {
                                Ok((ch, quic)) => {
                                    debug!(remote = %quic.remote_address(), "incoming connection");
                                    self.new_conn(ch, quic, Side::Server, now);
                                }
                                Err(e) => {
                                    debug!(error = %e.cause, "connection refused");
                                    if let Some(t) = e.response {
                                        let contents = resp[..t.size].to_vec();
                                        self.send(&t, &contents).await;
                                    }
                                }
                            }
                        }
                        Some(DatagramEvent::Response(t)) => {
                            let contents = resp[..t.size].to_vec();
                            self.send(&t, &contents).await;
                        }
                        None => {}
                    }
                }
            }
        }
        true
    }

    async fn send(&self, t: &quinn_proto::Transmit, contents: &[u8]) {
        send_on(&self.socket, &self.state, t, contents).await;
    }

    /// Runs one connection: timers, quinn events into the engine, engine actions into quinn,
    /// the session layer's queues, transmits. Returns whether the connection is gone.
    async fn drive(&mut self, ch: ConnectionHandle, now: Instant, tx_buf: &mut Vec<u8>) -> bool {
        let mut requests = Vec::new();
        let max_gso = self.state.max_gso_segments().min(MAX_TRANSMIT_SEGMENTS);
        let mut sent = 0usize;
        let drained = {
            let Some(c) = self.conns.get_mut(&ch) else {
                return true;
            };
            if c.quic.poll_timeout().is_some_and(|t| t <= now) {
                c.quic.handle_timeout(now);
            }
            while let Some(e) = c.quic.poll_endpoint_events() {
                if let Some(ce) = self.endpoint.handle_event(ch, e) {
                    c.quic.handle_event(ce);
                }
            }
            {
                let mut g = c.shared.lock();
                if g.engine.poll_timeout().is_some_and(|t| t <= now) {
                    g.engine.handle_timeout(now);
                }
                while let Some(ev) = c.quic.poll() {
                    c.tr.handle_event(&mut c.quic, &mut g.engine, ev);
                }
                if let Some(lost) = c.tr.lost() {
                    g.set_transport_error(lost.error());
                }
                c.tr.flush(&mut c.quic, &mut g.engine, now);
                g.datagrams_flushed();
                c.tr.report_transport(&mut c.quic, &mut g.engine);
                g.process_events();
                while c.tr.datagrams_pending() {
                    let room = g.datagram_room();
                    if c.tr.recv_datagrams(&mut c.quic, &mut g.engine, room) == 0 {
                        g.hold_back_datagrams();
                        break;
                    }
                    g.process_events();
                }
                if g.engine.has_actions() {
                    // Taking events may have given streams that waited for the connection's
                    // budget room again (`ResumeReading`).
                    c.tr.flush(&mut c.quic, &mut g.engine, now);
                    g.datagrams_flushed();
                    g.process_events();
                }
                while let Some((id, req)) = g.take_request() {
                    requests.push((id, req));
                }
                let delivered = c.tr.take_request_stream_finished();
                if c.side == Side::Client && c.close.due(&g, now, delivered) {
                    debug!("client sessions ended: closing the connection");
                    g.engine.close(Code::H3_NO_ERROR, "");
                    c.tr.flush(&mut c.quic, &mut g.engine, now);
                    g.datagrams_flushed();
                }
            }
            loop {
                tx_buf.clear();
                match c.quic.poll_transmit(now, max_gso, tx_buf) {
                    Some(t) => send_on(&self.socket, &self.state, &t, &tx_buf[..t.size]).await,
                    None => break,
                }
                sent += 1;
                if sent >= 64 {
                    break;
                }
            }
            // What left the datagram send buffer makes room for waiting senders.
            let space = c.quic.datagrams().send_buffer_space();
            let mut g = c.shared.lock();
            g.set_datagram_send_space(space);
            c.engine_deadline = g.engine.poll_timeout();
            drop(g);
            c.quic.is_drained()
        };
        if sent >= 64 {
            // Let the socket and other connections in; come back in the next pass.
            self.mark_ready(ch);
        }
        if !requests.is_empty()
            && let Some(queue) = &self.requests
            && let Some(c) = self.conns.get(&ch)
        {
            let shared = c.shared.clone();
            for (id, req) in requests {
                queue.offer(&shared, id, req);
            }
        }
        drained
    }
}

/// The unspecified address of the same family as `addr`, port 0 (to bind a client).
pub fn any_addr_for(addr: &SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

async fn send_on(
    socket: &UdpSocket,
    state: &UdpSocketState,
    t: &quinn_proto::Transmit,
    contents: &[u8],
) {
    let transmit = quinn_udp::Transmit {
        destination: t.destination,
        ecn: t
            .ecn
            .and_then(|e| quinn_udp::EcnCodepoint::from_bits(e as u8)),
        contents,
        segment_size: t.segment_size,
        src_ip: t.src_ip,
    };
    loop {
        match socket.try_io(Interest::WRITABLE, || {
            state.try_send(socket.into(), &transmit)
        }) {
            Ok(()) => return,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if socket.writable().await.is_err() {
                    return;
                }
            }
            Err(e) => {
                debug!(error = %e, dest = %t.destination, "UDP send error");
                return;
            }
        }
    }
}
