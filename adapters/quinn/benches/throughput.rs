//! Throughput of one bidi stream: raw quinn-proto against wt-quinn's sans-IO pairing
//! ([`Http3Connection`]), on the same single-threaded driver loop, sending the same bytes. Prints
//! both rates and their ratio, for two wires:
//!
//! - `udp`: quinn-udp sockets on loopback (GSO/GRO). Loopback loss and congestion control set
//!   the pace, so both sides usually run at the same rate.
//! - `memory`: the same loop hands the packets straight to the other endpoint, without loss, so
//!   the run is CPU-bound and the ratio shows what the HTTP/3 and WebTransport layer costs.
//!
//! ```text
//! cargo bench -p wt-quinn --bench throughput            # 256 MiB per run, both wires
//! WT_BENCH_MIB=64 WT_BENCH_WIRE=memory cargo bench -p wt-quinn --bench throughput
//! cargo test -p wt-quinn --bench throughput             # smoke test: 2 MiB, one run
//! ```
//!
//! Without `--bench` in its arguments (which `cargo bench` passes and `cargo test
//! --all-targets` does not) this is a smoke test: 2 MiB, one run per wire, no warm-up, still
//! checking that every byte arrived. `WT_BENCH_MIB` and `WT_BENCH_RUNS` apply in both modes.

use std::collections::{HashMap, VecDeque};
use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use quinn_proto::{
    ConnectionHandle, DatagramEvent, Dir, Endpoint, EndpointConfig, Event, ReadError, StreamEvent,
    StreamId as QStreamId,
};
use quinn_udp::{RecvMeta, UdpSocketState};
use wt_quinn::wt_proto::{self, ConnectRequest, ConnectResponse, ProtocolToken, StreamId};
use wt_quinn::{Http3Connection, tls};

const CHUNK: usize = 64 * 1024;

enum Conn {
    Raw(Box<quinn_proto::Connection>),
    Wt(Box<Http3Connection>),
}

impl Conn {
    fn quic(&mut self) -> &mut quinn_proto::Connection {
        match self {
            Conn::Raw(c) => c,
            Conn::Wt(c) => &mut c.quic,
        }
    }
}

/// A UDP datagram on the in-memory wire: the peer address (source or destination) and bytes.
type Packet = (SocketAddr, Vec<u8>);

struct Peer {
    sock: UdpSocket,
    state: UdpSocketState,
    ep: Endpoint,
    conns: HashMap<ConnectionHandle, Conn>,
    wt: bool,
    buf: Vec<u8>,
    /// In-memory wire: packets for this peer (source, bytes) and packets it sent (destination,
    /// bytes). `None` means the UDP socket is used.
    memory: Option<(VecDeque<Packet>, Vec<Packet>)>,
}

impl Peer {
    fn new(server: Option<quinn_proto::ServerConfig>, wt: bool, memory: bool) -> Peer {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_nonblocking(true).unwrap();
        let state = UdpSocketState::new((&sock).into()).unwrap();
        let _ = state.set_recv_buffer_size((&sock).into(), 4 << 20);
        let _ = state.set_send_buffer_size((&sock).into(), 4 << 20);
        let ep = Endpoint::new(
            Arc::new(EndpointConfig::default()),
            server.map(Arc::new),
            true,
            None,
        );
        Peer {
            sock,
            state,
            ep,
            conns: HashMap::new(),
            wt,
            buf: Vec::new(),
            memory: memory.then(Default::default),
        }
    }

    fn wrap(&self, ch: ConnectionHandle, quic: quinn_proto::Connection, now: Instant) -> Conn {
        if self.wt {
            Conn::Wt(Box::new(Http3Connection::new(
                ch,
                quic,
                wt_proto::Config::default(),
                now,
            )))
        } else {
            Conn::Raw(Box::new(quic))
        }
    }

    fn recv(&mut self, now: Instant, storage: &mut [u8]) {
        if let Some((inbox, _)) = self.memory.as_mut() {
            let packets: Vec<Packet> = inbox.drain(..).collect();
            for (src, data) in packets {
                self.handle(now, src, None, BytesMut::from(&data[..]));
            }
            return;
        }
        let slot = storage.len() / quinn_udp::BATCH_SIZE;
        let mut metas = [RecvMeta::default(); quinn_udp::BATCH_SIZE];
        loop {
            let n = {
                let mut slices: Vec<IoSliceMut<'_>> =
                    storage.chunks_mut(slot).map(IoSliceMut::new).collect();
                match self
                    .state
                    .recv((&self.sock).into(), &mut slices, &mut metas)
                {
                    Ok(n) => n,
                    Err(_) => return,
                }
            };
            for (meta, buf) in metas.iter().zip(storage.chunks(slot)).take(n) {
                for seg in buf[..meta.len].chunks(meta.stride.max(1)) {
                    self.handle(now, meta.addr, meta.dst_ip, BytesMut::from(seg));
                }
            }
        }
    }

    /// Feeds one received UDP datagram to the endpoint.
    fn handle(
        &mut self,
        now: Instant,
        src: SocketAddr,
        dst_ip: Option<std::net::IpAddr>,
        data: BytesMut,
    ) {
        let mut resp = Vec::new();
        match self.ep.handle(now, src, dst_ip, None, data, &mut resp) {
            Some(DatagramEvent::ConnectionEvent(ch, ev)) => {
                if let Some(c) = self.conns.get_mut(&ch) {
                    match c {
                        Conn::Raw(q) => q.handle_event(ev),
                        Conn::Wt(h) => h.handle_event(ev),
                    }
                }
            }
            Some(DatagramEvent::NewConnection(inc)) => {
                let (ch, quic) = self.ep.accept(inc, now, &mut resp, None).unwrap();
                let c = self.wrap(ch, quic, now);
                self.conns.insert(ch, c);
            }
            Some(DatagramEvent::Response(t)) => self.send(&t, &resp[..t.size]),
            None => {}
        }
    }

    fn send(&mut self, t: &quinn_proto::Transmit, contents: &[u8]) {
        if let Some((_, outbox)) = self.memory.as_mut() {
            for seg in contents.chunks(t.segment_size.unwrap_or(contents.len()).max(1)) {
                outbox.push((t.destination, seg.to_vec()));
            }
            return;
        }
        let tx = quinn_udp::Transmit {
            destination: t.destination,
            ecn: None,
            contents,
            segment_size: t.segment_size,
            src_ip: t.src_ip,
        };
        while let Err(e) = self.state.try_send((&self.sock).into(), &tx) {
            if e.kind() != std::io::ErrorKind::WouldBlock {
                return;
            }
            std::thread::yield_now();
        }
    }

    fn drive(&mut self, now: Instant) {
        let max = self.state.max_gso_segments();
        let handles: Vec<ConnectionHandle> = self.conns.keys().copied().collect();
        for ch in handles {
            let mut c = self.conns.remove(&ch).unwrap();
            if c.quic().poll_timeout().is_some_and(|t| t <= now) {
                match &mut c {
                    Conn::Raw(q) => q.handle_timeout(now),
                    Conn::Wt(h) => h.handle_timeout(now),
                }
            }
            while let Some(e) = c.quic().poll_endpoint_events() {
                if let Some(ce) = self.ep.handle_event(ch, e) {
                    match &mut c {
                        Conn::Raw(q) => q.handle_event(ce),
                        Conn::Wt(h) => h.handle_event(ce),
                    }
                }
            }
            // A bounded burst per turn, so that the peer's socket is drained in between (an
            // unbounded burst overflows the loopback receive buffer and measures loss recovery).
            for _ in 0..8 {
                self.buf.clear();
                let t = match &mut c {
                    Conn::Raw(q) => q.poll_transmit(now, max, &mut self.buf),
                    Conn::Wt(h) => h.poll_transmit(now, max, &mut self.buf),
                };
                match t {
                    Some(t) => {
                        let buf = std::mem::take(&mut self.buf);
                        self.send(&t, &buf[..t.size]);
                        self.buf = buf;
                    }
                    None => break,
                }
            }
            self.conns.insert(ch, c);
        }
    }
}

/// The sending application.
#[derive(Default)]
struct Sender {
    stream: Option<u64>,
    sent: usize,
    finished: bool,
    session_requested: bool,
}

/// The receiving application.
#[derive(Default)]
struct Receiver {
    received: usize,
    done: bool,
}

/// Moves the packets `from` sent into `to`'s inbox (in-memory wire only).
fn carry(from: &mut Peer, to: &mut Peer) {
    let src = from.sock.local_addr().unwrap();
    let (Some((_, outbox)), Some((inbox, _))) = (from.memory.as_mut(), to.memory.as_mut()) else {
        return;
    };
    inbox.extend(outbox.drain(..).map(|(_, data)| (src, data)));
}

fn run(wt: bool, memory: bool, total: usize) -> Duration {
    let cert = tls::self_signed().unwrap();
    let server_cfg = tls::server_config(vec![cert.cert.clone()], cert.key.clone_key()).unwrap();
    let client_cfg = tls::client_config_with_hashes(vec![cert.hash]).unwrap();
    let mut server = Peer::new(Some(server_cfg), wt, memory);
    let mut client = Peer::new(None, wt, memory);
    let now = Instant::now();
    let server_addr = server.sock.local_addr().unwrap();
    let (ch, quic) = client
        .ep
        .connect(now, client_cfg, server_addr, "localhost")
        .unwrap();
    let c = client.wrap(ch, quic, now);
    client.conns.insert(ch, c);
    let data: Bytes = (0..CHUNK * 16).map(|i| (i % 251) as u8).collect();
    let slot = (64 * 1024).max(1500 * client.state.gro_segments().max(server.state.gro_segments()));
    let mut storage = vec![0u8; slot * quinn_udp::BATCH_SIZE];
    let mut tx = Sender::default();
    let mut rx = Receiver::default();
    let mut start = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    while !rx.done {
        assert!(Instant::now() < deadline, "benchmark stalled");
        let now = Instant::now();
        client.recv(now, &mut storage);
        server.recv(now, &mut storage);
        if let Some(c) = client.conns.values_mut().next() {
            sender_step(c, &mut tx, &data, total, &mut start);
        }
        if let Some(c) = server.conns.values_mut().next() {
            receiver_step(c, &mut rx, total);
        }
        client.drive(now);
        server.drive(now);
        carry(&mut client, &mut server);
        carry(&mut server, &mut client);
    }
    let elapsed = start.map_or(Duration::ZERO, |s: Instant| s.elapsed());
    if std::env::var_os("WT_BENCH_STATS").is_some()
        && let Some(c) = client.conns.values_mut().next()
    {
        let st = c.quic().stats();
        eprintln!(
            "wt={wt}: rtt {:?} cwnd {} lost {} sent packets {} congestion events {}",
            st.path.rtt,
            st.path.cwnd,
            st.path.lost_packets,
            st.path.sent_packets,
            st.path.congestion_events
        );
    }
    elapsed
}

fn sender_step(
    c: &mut Conn,
    tx: &mut Sender,
    data: &Bytes,
    total: usize,
    start: &mut Option<Instant>,
) {
    match c {
        Conn::Raw(q) => {
            while let Some(ev) = q.poll() {
                if let Event::Connected = ev {
                    tx.stream = q.streams().open(Dir::Bi).map(u64::from);
                }
            }
            let Some(id) = tx.stream else { return };
            let id = QStreamId::from(quinn_proto::VarInt::from_u64(id).unwrap());
            start.get_or_insert_with(Instant::now);
            while tx.sent < total {
                let off = tx.sent % data.len();
                let len = CHUNK.min(total - tx.sent).min(data.len() - off);
                let mut chunk = [data.slice(off..off + len)];
                match q.send_stream(id).write_chunks(&mut chunk) {
                    Ok(w) if w.bytes > 0 => tx.sent += w.bytes,
                    _ => break,
                }
            }
            if tx.sent == total && !tx.finished {
                tx.finished = q.send_stream(id).finish().is_ok();
            }
        }
        Conn::Wt(h) => {
            if !tx.session_requested && h.translator.is_connected() {
                tx.session_requested = true;
                h.engine
                    .connect(ConnectRequest::new(
                        ProtocolToken::WebTransport,
                        "localhost",
                        "/bench",
                    ))
                    .unwrap();
            }
            while let Some(ev) = h.engine.poll_event() {
                if let wt_proto::Event::SessionEstablished { session, .. } = ev {
                    tx.stream = h.engine.open_bi(session).ok().map(|s| s.0);
                }
            }
            let Some(id) = tx.stream else { return };
            let id = StreamId(id);
            start.get_or_insert_with(Instant::now);
            while tx.sent < total {
                let off = tx.sent % data.len();
                let len = CHUNK.min(total - tx.sent).min(data.len() - off);
                match h.engine.write(id, data.slice(off..off + len)) {
                    Ok(n) if n > 0 => tx.sent += n,
                    _ => break,
                }
            }
            if tx.sent == total && !tx.finished {
                tx.finished = h.engine.finish(id).is_ok();
            }
        }
    }
}

fn receiver_step(c: &mut Conn, rx: &mut Receiver, total: usize) {
    match c {
        Conn::Raw(q) => {
            let mut readable = Vec::new();
            while let Some(ev) = q.poll() {
                match ev {
                    Event::Stream(StreamEvent::Opened { dir }) => {
                        while let Some(id) = q.streams().accept(dir) {
                            readable.push(id);
                        }
                    }
                    Event::Stream(StreamEvent::Readable { id }) => readable.push(id),
                    _ => {}
                }
            }
            for id in readable {
                let mut s = q.recv_stream(id);
                let Ok(mut chunks) = s.read(true) else {
                    continue;
                };
                loop {
                    match chunks.next(usize::MAX) {
                        Ok(Some(c)) => rx.received += c.bytes.len(),
                        Ok(None) => {
                            rx.done = true;
                            break;
                        }
                        Err(ReadError::Blocked) | Err(ReadError::Reset(_)) => break,
                    }
                }
                let _ = chunks.finalize();
            }
        }
        Conn::Wt(h) => {
            let mut readable = Vec::new();
            while let Some(ev) = h.engine.poll_event() {
                match ev {
                    wt_proto::Event::SessionRequest { session, .. } => {
                        h.engine
                            .accept(session, ConnectResponse::new(http::StatusCode::OK))
                            .unwrap();
                    }
                    wt_proto::Event::StreamReadable { stream } => readable.push(stream),
                    _ => {}
                }
            }
            for id in readable {
                loop {
                    match h.engine.read(id, usize::MAX) {
                        Ok(Some(b)) => rx.received += b.len(),
                        Ok(None) => {
                            rx.done = true;
                            break;
                        }
                        Err(_) => break,
                    }
                }
            }
        }
    }
    if rx.done {
        assert_eq!(rx.received, total, "received byte count");
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs a smoke test instead.
    let full = std::env::args().any(|a| a == "--bench");
    let mib: usize = std::env::var("WT_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 256 } else { 2 });
    let runs: usize = std::env::var("WT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 3 } else { 1 })
        .max(1);
    if !full {
        println!("smoke test ({mib} MiB, {runs} run(s)); `cargo bench` measures at full size");
    }
    let wires = match std::env::var("WT_BENCH_WIRE").as_deref() {
        Ok("udp") => vec![false],
        Ok("memory") => vec![true],
        _ => vec![false, true],
    };
    let total = mib << 20;
    for memory in wires {
        let wire = if memory { "in memory" } else { "UDP loopback" };
        let mut raws = Vec::new();
        let mut wts = Vec::new();
        // WT_BENCH_ONLY=raw|wt runs one side only (for profiling or counting instructions with
        // valgrind); the ratio is then meaningless.
        let only = std::env::var("WT_BENCH_ONLY").unwrap_or_default();
        // Warm up once, then alternate so that both see the same machine state.
        if only.is_empty() && full {
            let _ = run(false, memory, total.min(16 << 20));
        }
        let rate = |wt: bool| {
            let skip = (only == "raw" && wt) || (only == "wt" && !wt);
            if skip {
                f64::NAN
            } else {
                total as f64 / 1e6 / run(wt, memory, total).as_secs_f64()
            }
        };
        for i in 0..runs {
            let raw = rate(false);
            let wt = rate(true);
            println!("{wire}, run {i}: raw quinn-proto {raw:.1} MB/s, wt-quinn {wt:.1} MB/s");
            raws.push(raw);
            wts.push(wt);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let (raw, wt) = (median(&mut raws), median(&mut wts));
        println!(
            "{wire}, one bidi stream, {mib} MiB, median of {runs}: raw quinn-proto {raw:.1} MB/s, wt-quinn {wt:.1} MB/s, ratio {:.3}",
            wt / raw
        );
    }
}
