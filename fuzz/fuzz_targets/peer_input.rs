//! Stateful fuzzing of one engine fed arbitrary peer input.
//!
//! Input: one byte for the engine's role (bit 0: 0 client, 1 server), 17 configuration bytes
//! ([`CfgBytes`]), one transport byte ([`transport_params`]), then steps of 5 bytes (`tag a b c
//! d`, see [`Op`]); `Data`, `Datagram`, `Frame` and `Capsule` steps are followed by a 2-byte
//! little-endian length and that many payload bytes. The peer's side of the transport is the
//! fuzzer: arbitrary bytes (with or without FIN) on the peer's bidi and uni streams (indices
//! 0..32) and on our bidi streams that exist, the same with valid framing around a fuzzed
//! payload (a frame, a capsule in a DATA frame, a stream header), RESET_STREAM on those,
//! STOP_SENDING on our streams and the peer's bidi streams, datagrams, stream credit, DATAGRAM
//! limit changes, the clock, the loss of the connection; the application makes the same calls
//! as in the `pair` target. What QUIC itself guarantees is kept: bytes on a stream arrive in
//! order, nothing arrives after a FIN or a reset, or after the engine stopped the stream, or on
//! our uni streams; `recv_budget` is respected. The engine's actions are checked and dropped
//! (nobody answers).
//!
//! Invariants (a violation panics with `invariant violated: NAME`; names as in `pair`): no
//! panic; `live_entries()` within the `Config` limits; every byte the engine writes decodes with
//! `trace::WireDecoder` (the fuzzer's own bytes go through the same decoder, for context, but
//! their errors are ignored); the engine's actions are valid QUIC; the event rules; a closed
//! engine, once drained, holds nothing (checked after every step, and at the end after closing
//! it). Environment variables as in the `pair` target (`WT_FUZZ_TRACE`, `WT_FUZZ_SKIP`,
//! `WT_FUZZ_WRITE_SEEDS`).
#![no_main]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wt_proto::trace::WireDecoder;
use wt_proto::{
    Action, Code, Config, ConnectRequest, ConnectResponse, Connection, Dialect, Dir, Event,
    ProtocolToken, SessionId, Side, StreamId, TransportParams,
};

// ---------------------------------------------------------------------------------------------
// Input

/// The configuration of one engine, one byte per field.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct CfgBytes {
    /// Bit 0..3: draft-02, -07, -13, -15 (0: all four).
    dialects: u8,
    /// Bit 0: WebTransport off, 1: uni streams off, 2: bidi streams off, 3: datagrams off,
    /// 4: handle_requests, 5: GREASE off, 6: idle timeout on.
    flags: u8,
    max_sessions: u8,
    max_buffered_streams: u8,
    max_buffered_stream_bytes: u8,
    max_buffered_datagrams: u8,
    max_queued_datagrams: u8,
    max_held_requests: u8,
    max_held_request_bytes: u8,
    max_field_section_size: u8,
    max_datagram_capsule: u8,
    stream_send_buffer: u8,
    stream_recv_buffer: u8,
    max_connect_stream_buffer: u8,
    idle_timeout: u8,
    /// Initial bidi / uni stream credit beyond what is open (0xff: unlimited).
    credit_bi: u8,
    credit_uni: u8,
}

impl CfgBytes {
    /// Generous limits (used by the seeds).
    const ROOMY: CfgBytes = CfgBytes {
        dialects: 0,
        flags: 0,
        max_sessions: 4,
        max_buffered_streams: 4,
        max_buffered_stream_bytes: 0xff,
        max_buffered_datagrams: 4,
        max_queued_datagrams: 8,
        max_held_requests: 4,
        max_held_request_bytes: 0xff,
        max_field_section_size: 0xff,
        max_datagram_capsule: 0xff,
        stream_send_buffer: 0xff,
        stream_recv_buffer: 0xff,
        max_connect_stream_buffer: 0xff,
        idle_timeout: 0,
        credit_bi: 0xff,
        credit_uni: 0xff,
    };

    fn to_bytes(self) -> [u8; 17] {
        [
            self.dialects,
            self.flags,
            self.max_sessions,
            self.max_buffered_streams,
            self.max_buffered_stream_bytes,
            self.max_buffered_datagrams,
            self.max_queued_datagrams,
            self.max_held_requests,
            self.max_held_request_bytes,
            self.max_field_section_size,
            self.max_datagram_capsule,
            self.stream_send_buffer,
            self.stream_recv_buffer,
            self.max_connect_stream_buffer,
            self.idle_timeout,
            self.credit_bi,
            self.credit_uni,
        ]
    }

    fn config(&self, seed: u64) -> Config {
        let size = |v: u8, unit: usize, default: usize| {
            if v == 0xff {
                default
            } else {
                usize::from(v) * unit
            }
        };
        let mut dialects: Vec<Dialect> = Dialect::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| self.dialects & (1 << i) != 0)
            .map(|(_, d)| *d)
            .collect();
        if dialects.is_empty() {
            dialects = Dialect::ALL.to_vec();
        }
        // `Config` is non-exhaustive: start from the defaults and set every limit.
        let mut c = Config::default();
        c.dialects = dialects;
        c.webtransport = self.flags & 1 == 0;
        c.uni_streams = self.flags & 2 == 0;
        c.bidi_streams = self.flags & 4 == 0;
        c.datagrams = self.flags & 8 == 0;
        c.handle_requests = self.flags & 16 != 0;
        c.max_sessions = u64::from(self.max_sessions % 5);
        c.max_buffered_streams = usize::from(self.max_buffered_streams % 5);
        c.max_buffered_stream_bytes = size(self.max_buffered_stream_bytes, 8, 64 * 1024);
        c.max_buffered_datagrams = usize::from(self.max_buffered_datagrams % 5);
        c.max_queued_datagrams = usize::from(self.max_queued_datagrams % 9);
        c.max_held_requests = usize::from(self.max_held_requests % 5);
        c.max_held_request_bytes = size(self.max_held_request_bytes, 8, 16 * 1024);
        c.max_field_section_size = size(self.max_field_section_size, 16, 16 * 1024) as u64;
        c.max_datagram_capsule = size(self.max_datagram_capsule, 8, 64 * 1024);
        c.stream_send_buffer = size(self.stream_send_buffer, 8, 1024 * 1024);
        c.stream_recv_buffer = size(self.stream_recv_buffer, 8, 256 * 1024);
        c.max_connect_stream_buffer = size(self.max_connect_stream_buffer, 8, 16 * 1024);
        c.session_idle_timeout = (self.flags & 64 != 0)
            .then(|| Duration::from_millis(u64::from(self.idle_timeout) * 50 + 1));
        c.grease = self.flags & 32 == 0;
        c.seed = seed;
        c
    }

    fn credit(&self) -> [Option<u64>; 2] {
        let c = |v: u8| (v != 0xff).then_some(u64::from(v % 8));
        [c(self.credit_bi), c(self.credit_uni)]
    }
}
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Setup {
    /// Bit 0: the engine is the client (0) or the server (1).
    role: u8,
    cfg: CfgBytes,
    /// What the transport negotiated ([`transport_params`]).
    transport: u8,
}

/// One step: `tag % T_COUNT` says what, `a b c d` its operands.
#[derive(Arbitrary, Debug, Clone, Copy)]
struct Op {
    tag: u8,
    a: u8,
    b: u8,
    c: u8,
    d: u8,
}

// Application calls (the engine's side; `b` selects the session or stream).
const T_CONNECT: u8 = 0; // variant b
const T_ACCEPT: u8 = 1; // sel b, variant c
const T_REJECT: u8 = 2; // sel b, variant c
const T_CLOSE_SESSION: u8 = 3; // sel b, code c, reason d
const T_DRAIN: u8 = 4; // sel b
const T_GOAWAY: u8 = 5;
const T_CLOSE: u8 = 6; // code b c
const T_SEND_DATAGRAM: u8 = 7; // sel b, len c
const T_OPEN_UNI: u8 = 8; // sel b
const T_OPEN_BI: u8 = 9; // sel b
const T_WRITE: u8 = 10; // sel b, len c|d<<8
const T_FINISH: u8 = 11; // sel b
const T_READ: u8 = 12; // sel b, max c|d<<8
const T_RESET: u8 = 13; // sel b, code c
const T_STOP: u8 = 14; // sel b, code c
// Peer input.
const T_DATA: u8 = 15; // kind a (0 peer bidi, 1 peer uni, 2 our bidi), index b, fin c&1; payload
const T_PEER_RESET: u8 = 16; // kind a (as for data), index b, code c d
const T_PEER_STOP: u8 = 17; // kind a (0 our uni, 1 our bidi, 2 peer bidi), index b, code c d
const T_DATAGRAM: u8 = 18; // payload
const T_ADVANCE: u8 = 19; // ms b|c<<8
const T_ADVANCE_TO_TIMEOUT: u8 = 20;
const T_TRANSPORT_CLOSE: u8 = 21;
const T_CREDIT: u8 = 22; // dir b, n c
// Peer input with valid framing around fuzzed payloads (kinds as for data; fin d&1).
const T_FRAME: u8 = 23; // kind a, index b, frame type c; payload
const T_CAPSULE: u8 = 24; // kind a, index b, capsule type c; payload (in one DATA frame)
const T_STREAM_HEADER: u8 = 25; // kind a, index b, stream type c, session/push id d
const T_DATAGRAM_LIMIT: u8 = 26; // size b|c<<8 (mod 2048)
const T_COUNT: u8 = 27;

const NAMES: [&str; T_COUNT as usize] = [
    "Connect",
    "Accept",
    "Reject",
    "CloseSession",
    "Drain",
    "Goaway",
    "Close",
    "SendDatagram",
    "OpenUni",
    "OpenBi",
    "Write",
    "Finish",
    "Read",
    "Reset",
    "Stop",
    "Data",
    "PeerReset",
    "PeerStop",
    "Datagram",
    "Advance",
    "AdvanceToTimeout",
    "TransportClose",
    "Credit",
    "Frame",
    "Capsule",
    "StreamHeader",
    "DatagramLimit",
];

const MAX_STEPS: usize = 400;
/// Peer-initiated stream indices the fuzzer uses (the stream credit the transport grants).
const PEER_STREAMS: u64 = 32;

// ---------------------------------------------------------------------------------------------
// Invariant reporting

fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some()
}

fn tracing_on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| env_flag("WT_FUZZ_TRACE"))
}

fn skipped(name: &str) -> bool {
    static SKIP: OnceLock<Vec<String>> = OnceLock::new();
    SKIP.get_or_init(|| {
        std::env::var("WT_FUZZ_SKIP")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    })
    .iter()
    .any(|s| s == name)
}

fn fail(name: &str, detail: String) {
    if !skipped(name) {
        panic!("invariant violated: {name}: {detail}");
    }
}

macro_rules! trace {
    ($($t:tt)*) => {
        if tracing_on() {
            eprintln!($($t)*);
        }
    };
}

fn side_of(v: u8) -> Side {
    if v & 1 == 0 {
        Side::Client
    } else {
        Side::Server
    }
}

fn di(dir: Dir) -> usize {
    match dir {
        Dir::Bi => 0,
        Dir::Uni => 1,
    }
}

fn pick<T: Copy>(list: &[T], sel: u8) -> Option<T> {
    if list.is_empty() {
        None
    } else {
        list.get(usize::from(sel) % list.len()).copied()
    }
}

fn u16_of(lo: u8, hi: u8) -> usize {
    usize::from(lo) | usize::from(hi) << 8
}

/// What the transport negotiated: 0xff never reported, 0xfe no DATAGRAM extension, else a
/// DATAGRAM limit of 16..2048 bytes and (bit 7) RESET_STREAM_AT.
fn transport_params(t: u8) -> Option<TransportParams> {
    match t {
        0xff => None,
        0xfe => Some(TransportParams::new(None, false)),
        t => Some(TransportParams::new(
            Some(16 + usize::from(t & 0x7f) * 16),
            t & 0x80 != 0,
        )),
    }
}

fn app_code(c: u8) -> u32 {
    match c {
        255 => u32::MAX,
        254 => 0x1234_5678,
        c => u32::from(c),
    }
}

fn pattern(len: usize, salt: u8) -> Bytes {
    Bytes::from(
        (0..len)
            .map(|i| (i as u8).wrapping_add(salt))
            .collect::<Vec<u8>>(),
    )
}
// ---------------------------------------------------------------------------------------------
// The engine and what its application knows

struct End {
    side: Side,
    conn: Connection,
    cfg: Config,
    credit: [Option<u64>; 2],
    opened: [u64; 2],
    /// Sessions not known to be over, in order of appearance (at most 16).
    sessions: Vec<SessionId>,
    all_sessions: BTreeSet<SessionId>,
    ended: HashSet<SessionId>,
    /// Streams of live sessions, in order of appearance (at most 32).
    streams: Vec<StreamId>,
    all_streams: BTreeSet<StreamId>,
    stream_session: HashMap<StreamId, SessionId>,
    opened_events: HashSet<StreamId>,
    conn_closed_event: bool,
    /// Streams whose send side ended (FIN taken or reset): no write may follow.
    send_done: HashSet<StreamId>,
    /// Streams the engine sent STOP_SENDING for: the transport delivers nothing more on them.
    recv_stopped: HashSet<StreamId>,
    /// The DATAGRAM size limit the transport reported (`None`: not reported, or no limit).
    datagram_limit: Option<usize>,
    reset_stream_at: bool,
    counts: BTreeMap<&'static str, u32>,
}

impl End {
    fn new(side: Side, bytes: &CfgBytes, transport: u8, now: Instant) -> Self {
        let seed = match side {
            Side::Client => 1,
            Side::Server => 2,
        };
        let cfg = bytes.config(seed);
        let mut conn = Connection::new(side, cfg.clone(), now);
        let mut credit = [None; 2];
        for (i, dir) in [Dir::Bi, Dir::Uni].into_iter().enumerate() {
            if let Some(extra) = bytes.credit()[i] {
                // The three critical uni streams are opened in `new`.
                let base = if dir == Dir::Uni { 3 } else { 0 };
                credit[i] = Some(base + extra);
                conn.handle_max_streams(dir, base + extra);
            }
        }
        let mut end = Self {
            side,
            conn,
            cfg,
            credit,
            opened: [0; 2],
            sessions: Vec::new(),
            all_sessions: BTreeSet::new(),
            ended: HashSet::new(),
            streams: Vec::new(),
            all_streams: BTreeSet::new(),
            stream_session: HashMap::new(),
            opened_events: HashSet::new(),
            conn_closed_event: false,
            send_done: HashSet::new(),
            recv_stopped: HashSet::new(),
            datagram_limit: None,
            reset_stream_at: false,
            counts: BTreeMap::new(),
        };
        // The transport reports what the handshake negotiated once connected.
        if let Some(params) = transport_params(transport) {
            end.datagram_limit = params.max_datagram_size;
            end.reset_stream_at = params.reset_stream_at;
            end.conn.handle_transport_params(params);
        }
        end
    }

    /// The transport's DATAGRAM limit changed (path MTU): reported again, if it was known.
    fn datagram_limit_changed(&mut self, size: usize) {
        if self.datagram_limit.is_some() && !self.conn.is_closed() {
            trace!("{}: DATAGRAM limit {size}", self.side);
            self.datagram_limit = Some(size);
            self.conn
                .handle_transport_params(TransportParams::new(Some(size), self.reset_stream_at));
        }
    }

    fn add_session(&mut self, id: SessionId) {
        self.all_sessions.insert(id);
        if !self.sessions.contains(&id) {
            self.sessions.push(id);
            if self.sessions.len() > 16 {
                self.sessions.remove(0);
            }
        }
    }

    fn add_stream(&mut self, id: StreamId, session: SessionId) {
        self.all_streams.insert(id);
        self.stream_session.insert(id, session);
        if !self.streams.contains(&id) {
            self.streams.push(id);
            if self.streams.len() > 32 {
                self.streams.remove(0);
            }
        }
    }

    fn session_over(&mut self, id: SessionId) {
        self.ended.insert(id);
        self.sessions.retain(|s| *s != id);
        let map = &self.stream_session;
        self.streams.retain(|s| map.get(s) != Some(&id));
    }

    fn session(&self, sel: u8) -> SessionId {
        pick(&self.sessions, sel).unwrap_or(SessionId(StreamId(u64::from(sel))))
    }

    fn stream(&self, sel: u8) -> StreamId {
        pick(&self.streams, sel).unwrap_or(StreamId(u64::from(sel)))
    }

    fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }

    /// An application call.
    fn app(&mut self, op: Op) {
        let Op { tag, a: _, b, c, d } = op;
        let side = self.side;
        match tag {
            T_CONNECT => {
                let v = b;
                let mut req = ConnectRequest::new(
                    ProtocolToken::WebTransport,
                    "example.com",
                    match v % 4 {
                        0 => "/echo",
                        1 => "/",
                        2 => "/a/b?c=d",
                        _ => "",
                    },
                );
                if v & 4 != 0 {
                    req.available_protocols = vec!["a".into(), "b".into()];
                }
                if v & 8 != 0 {
                    req.origin = Some("https://example.com".into());
                }
                let r = self.conn.connect(req);
                trace!("{side}: connect -> {r:?}");
                if let Ok(id) = r {
                    self.add_session(id);
                }
            }
            T_ACCEPT => {
                let id = self.session(b);
                let mut resp = ConnectResponse::new(
                    http::StatusCode::from_u16([200, 200, 299, 204, 404][usize::from(c % 5)])
                        .unwrap_or(http::StatusCode::OK),
                );
                resp.protocol = match (c / 5) % 3 {
                    0 => None,
                    1 => Some("a".into()),
                    _ => Some("zz".into()),
                };
                let r = self.conn.accept(id, resp);
                trace!("{side}: accept {id} -> {r:?}");
            }
            T_REJECT => {
                let id = self.session(b);
                let status =
                    http::StatusCode::from_u16([404, 429, 500, 200, 101][usize::from(c % 5)])
                        .unwrap_or(http::StatusCode::NOT_FOUND);
                let mut headers = http::HeaderMap::new();
                if c & 8 != 0 {
                    headers.insert("x-reason", http::HeaderValue::from_static("full"));
                }
                let r = self.conn.reject(id, status, headers);
                trace!("{side}: reject {id} -> {r:?}");
                if r.is_ok() {
                    // A reject reports no event: the application knows it is over.
                    self.session_over(id);
                }
            }
            T_CLOSE_SESSION => {
                let id = self.session(b);
                let reason = match d % 3 {
                    0 => String::new(),
                    1 => "bye".to_string(),
                    _ => "\u{e9}".repeat(700),
                };
                let r = self.conn.close_session(id, app_code(c), &reason);
                trace!("{side}: close_session {id} -> {r:?}");
            }
            T_DRAIN => {
                let id = self.session(b);
                let r = self.conn.drain_session(id);
                trace!("{side}: drain_session {id} -> {r:?}");
            }
            T_GOAWAY => {
                trace!("{side}: goaway");
                self.conn.goaway();
            }
            T_CLOSE => {
                let code = match b % 4 {
                    0 => Code::H3_NO_ERROR,
                    1 => Code::H3_INTERNAL_ERROR,
                    2 => Code::H3_REQUEST_REJECTED,
                    _ => Code(u64::from(c)),
                };
                trace!("{side}: close {code}");
                self.conn.close(code, "fuzz");
            }
            T_SEND_DATAGRAM => {
                let id = self.session(b);
                let r = self.conn.send_datagram(id, pattern(usize::from(c), 0x40));
                trace!("{side}: send_datagram {id} -> {r:?}");
            }
            T_OPEN_UNI | T_OPEN_BI => {
                let id = self.session(b);
                let r = if tag == T_OPEN_UNI {
                    self.conn.open_uni(id)
                } else {
                    self.conn.open_bi(id)
                };
                trace!("{side}: open {} {id} -> {r:?}", NAMES[usize::from(tag)]);
                if let Ok(s) = r {
                    self.add_stream(s, id);
                }
            }
            T_WRITE => {
                let id = self.stream(b);
                let len = u16_of(c, d) % 4096;
                let r = self.conn.write(id, pattern(len, c));
                trace!("{side}: write {id} {len} -> {r:?}");
            }
            T_FINISH => {
                let id = self.stream(b);
                let r = self.conn.finish(id);
                trace!("{side}: finish {id} -> {r:?}");
            }
            T_READ => {
                let id = self.stream(b);
                let r = self.conn.read(id, u16_of(c, d) % 4096);
                trace!(
                    "{side}: read {id} -> {:?}",
                    r.as_ref().map(|o| o.as_ref().map(Bytes::len))
                );
            }
            T_RESET => {
                let id = self.stream(b);
                let r = self.conn.reset(id, app_code(c));
                trace!("{side}: reset {id} -> {r:?}");
            }
            T_STOP => {
                let id = self.stream(b);
                let r = self.conn.stop(id, app_code(c));
                trace!("{side}: stop {id} -> {r:?}");
            }
            _ => {}
        }
    }

    /// Polls every event, checking the event invariants.
    fn drain_events(&mut self) {
        let mut datagrams = 0usize;
        while let Some(ev) = self.conn.poll_event() {
            let side = self.side;
            trace!("{side} event: {}", wt_proto::trace::event(&ev));
            if self.conn_closed_event {
                fail("event-after-close", format!("{side}: {ev:?}"));
            }
            let about = match &ev {
                Event::SessionRequest { session, .. }
                | Event::SessionEstablished { session, .. }
                | Event::SessionRejected { session, .. }
                | Event::SessionDraining { session }
                | Event::SessionClosed { session, .. }
                | Event::Datagram { session, .. }
                | Event::StreamOpened { session, .. } => Some(*session),
                _ => None,
            };
            if let Some(s) = about
                && self.ended.contains(&s)
            {
                fail("event-after-session-end", format!("{side}: {ev:?}"));
            }
            match ev {
                Event::SessionRequest { session, .. } => {
                    self.count("SessionRequest");
                    self.add_session(session);
                }
                Event::SessionEstablished { session, .. } => {
                    self.count("SessionEstablished");
                    self.add_session(session);
                }
                Event::SessionRejected { session, .. } => {
                    self.count("SessionRejected");
                    self.session_over(session);
                }
                Event::SessionClosed { session, .. } => {
                    self.count("SessionClosed");
                    self.session_over(session);
                }
                Event::StreamOpened {
                    session, stream, ..
                } => {
                    self.count("StreamOpened");
                    if !self.opened_events.insert(stream) {
                        fail("event-stream-opened-twice", format!("{side}: {stream}"));
                    }
                    self.add_stream(stream, session);
                }
                Event::Datagram { .. } => {
                    self.count("Datagram");
                    datagrams += 1;
                }
                Event::ConnectionClosed { .. } => {
                    self.count("ConnectionClosed");
                    self.conn_closed_event = true;
                }
                Event::StreamReadable { .. } => self.count("StreamReadable"),
                Event::StreamReset { .. } => self.count("StreamReset"),
                Event::StreamStopped { .. } => self.count("StreamStopped"),
                Event::SessionDraining { .. } => self.count("SessionDraining"),
                Event::GoAway { .. } => self.count("GoAway"),
                _ => {}
            }
        }
        if datagrams > self.cfg.max_queued_datagrams {
            fail(
                "queued-datagrams",
                format!(
                    "{}: {datagrams} Datagram events > max_queued_datagrams {}",
                    self.side, self.cfg.max_queued_datagrams
                ),
            );
        }
    }

    /// `live_entries()` within the configured limits.
    fn check_bounds(&self) {
        let l = self.conn.live_entries();
        let c = &self.cfg;
        let side = self.side;
        if l.buffered_streams > c.max_buffered_streams {
            fail(
                "buffered-streams",
                format!(
                    "{side}: {} > {}",
                    l.buffered_streams, c.max_buffered_streams
                ),
            );
        }
        if l.buffered_datagrams > c.max_buffered_datagrams {
            fail(
                "buffered-datagrams",
                format!(
                    "{side}: {} > {}",
                    l.buffered_datagrams, c.max_buffered_datagrams
                ),
            );
        }
        if l.critical_streams > 6 {
            fail(
                "critical-streams",
                format!("{side}: {}", l.critical_streams),
            );
        }
        let limit = match self.conn.dialect() {
            Some(Dialect::Draft02 | Dialect::Draft07) => c.max_sessions,
            Some(_) => 1,
            None => 0,
        };
        let bound = match side {
            // Sessions exist only once the dialect is known.
            Side::Server => limit,
            // connect() checks max_sessions before the SETTINGS, the dialect's limit after.
            Side::Client => limit.max(c.max_sessions),
        };
        if l.sessions as u64 > bound {
            fail(
                "sessions",
                format!(
                    "{side}: {} sessions > {bound} ({:?})",
                    l.sessions,
                    self.conn.dialect()
                ),
            );
        }
    }

    /// A closed engine whose actions and events were drained holds nothing.
    fn check_closed_empty(&self) {
        if self.conn.is_closed() {
            let l = self.conn.live_entries();
            // Named by field, so that one known leftover can be skipped alone.
            let fields = [
                ("sessions", l.sessions),
                ("send_streams", l.send_streams),
                ("recv_streams", l.recv_streams),
                ("critical_streams", l.critical_streams),
                ("buffered_streams", l.buffered_streams),
                ("buffered_datagrams", l.buffered_datagrams),
                ("out_of_order_streams", l.out_of_order_streams),
                ("actions", l.actions),
                ("events", l.events),
            ];
            for (field, n) in fields {
                if n > 0 {
                    fail(
                        &format!("closed-not-empty-{field}"),
                        format!("{}: {l:?}", self.side),
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The harness

/// One decoded step.
#[derive(Debug, Clone)]
struct Step {
    op: Op,
    payload: Bytes,
}

fn read_step(u: &mut Unstructured<'_>) -> Option<Step> {
    let op = Op::arbitrary(u).ok()?;
    let tag = op.tag % T_COUNT;
    let payload = if has_payload(tag) {
        let lo = u8::arbitrary(u).ok()?;
        let hi = u8::arbitrary(u).ok()?;
        let n = u16_of(lo, hi).min(u.len());
        Bytes::copy_from_slice(u.bytes(n).ok()?)
    } else {
        Bytes::new()
    };
    Some(Step {
        op: Op { tag, ..op },
        payload,
    })
}

fn has_payload(tag: u8) -> bool {
    matches!(tag, T_DATA | T_DATAGRAM | T_FRAME | T_CAPSULE)
}

/// The bytes of a `Frame`, `Capsule` or `StreamHeader` step.
fn framed(op: Op, payload: &[u8], dir: Dir) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    let put = |v: u64, out: &mut bytes::BytesMut| wt_proto::varint::encode(v, out);
    match op.tag {
        T_FRAME => {
            let types = [
                0x00, 0x01, 0x03, 0x04, 0x05, 0x07, 0x0d, 0x41, 0x21, 0x02, 0x1234,
            ];
            let ty = types[usize::from(op.c) % types.len()];
            put(ty, &mut out);
            if ty == 0x41 {
                // The WebTransport signal has a session id, not a length.
                put(u64::from(op.c / 11) * 4, &mut out);
            } else {
                put(payload.len() as u64, &mut out);
            }
            out.extend_from_slice(payload);
        }
        T_CAPSULE => {
            let types = [
                0x00,
                0x2843,
                0x78ae,
                0x190b_4d3d,
                0x190b_4d3f,
                0x190b_4d40,
                0x190b_4d41,
                0x190b_4d43,
                0x190b_4d44,
                0x17,
                0x29 * 3 + 0x17,
            ];
            let ty = types[usize::from(op.c) % types.len()];
            let mut capsule = bytes::BytesMut::new();
            put(ty, &mut capsule);
            put(payload.len() as u64, &mut capsule);
            capsule.extend_from_slice(payload);
            put(0x00, &mut out);
            put(capsule.len() as u64, &mut out);
            out.extend_from_slice(&capsule);
        }
        _ => match dir {
            Dir::Uni => {
                let types = [0x00, 0x02, 0x03, 0x54, 0x01, 0x21];
                let ty = types[usize::from(op.c) % types.len()];
                put(ty, &mut out);
                match ty {
                    0x54 => put(u64::from(op.d) * 4, &mut out),
                    0x01 => put(u64::from(op.d), &mut out),
                    _ => {}
                }
            }
            Dir::Bi => {
                put(0x41, &mut out);
                put(u64::from(op.d) * 4, &mut out);
            }
        },
    }
    out.to_vec()
}

fn peer_code(c: u8, d: u8) -> u64 {
    match c % 8 {
        0 => 0,
        1 => Code::H3_NO_ERROR.0,
        2 => Code::H3_REQUEST_CANCELLED.0,
        3 => Code::WT_SESSION_GONE.0,
        4 => Code::WT_BUFFERED_STREAM_REJECTED.0,
        5 => Code::H3_REQUEST_REJECTED.0,
        6 => Code::from_app(u32::from(d)).0,
        _ => u64::from(d) << 54 | u64::from(c),
    }
}

struct Harness {
    e: End,
    epoch: Instant,
    now: Instant,
    wire: WireDecoder,
    /// Streams the peer finished or reset: QUIC delivers nothing more on them.
    peer_done: HashSet<StreamId>,
    /// The engine's actions, kept when recording seeds.
    tap: Option<Vec<Action>>,
}

impl Harness {
    fn new(setup: &Setup) -> Self {
        let epoch = Instant::now();
        Self {
            e: End::new(side_of(setup.role), &setup.cfg, setup.transport, epoch),
            epoch,
            now: epoch,
            wire: WireDecoder::new(),
            peer_done: HashSet::new(),
            tap: None,
        }
    }

    fn side(&self) -> Side {
        self.e.side
    }

    /// The stream a data or reset step names, if QUIC could deliver it.
    fn peer_sendable(&self, kind: u8, index: u8) -> Option<StreamId> {
        let peer = self.side().peer();
        let id = match kind % 3 {
            0 => StreamId::new(peer, Dir::Bi, u64::from(index) % PEER_STREAMS),
            1 => StreamId::new(peer, Dir::Uni, u64::from(index) % PEER_STREAMS),
            _ => {
                let opened = self.e.opened[0];
                if opened == 0 {
                    return None;
                }
                StreamId::new(self.side(), Dir::Bi, u64::from(index) % opened)
            }
        };
        (!self.peer_done.contains(&id) && !self.e.recv_stopped.contains(&id)).then_some(id)
    }

    /// The stream a STOP_SENDING step names, if QUIC could deliver it.
    fn peer_stoppable(&self, kind: u8, index: u8) -> Option<StreamId> {
        let me = self.side();
        let ours = |dir: Dir, opened: u64| {
            (opened > 0).then(|| StreamId::new(me, dir, u64::from(index) % opened))
        };
        match kind % 3 {
            0 => ours(Dir::Uni, self.e.opened[1]),
            1 => ours(Dir::Bi, self.e.opened[0]),
            _ => Some(StreamId::new(
                me.peer(),
                Dir::Bi,
                u64::from(index) % PEER_STREAMS,
            )),
        }
    }

    /// Takes the engine's actions, checking each, as a QUIC stack executes them.
    fn pump(&mut self) {
        let side = self.side();
        let e = &mut self.e;
        while let Some(action) = e.conn.poll_action() {
            trace!("{side} action: {}", describe_action(&action));
            match &action {
                Action::OpenStream { stream } => {
                    let d = di(stream.dir());
                    if stream.initiator() != side || stream.index() != e.opened[d] {
                        fail(
                            "quic-open-order",
                            format!("{side}: opened {stream}, expected index {}", e.opened[d]),
                        );
                    }
                    if e.credit[d].is_some_and(|c| stream.index() >= c) {
                        fail(
                            "quic-open-credit",
                            format!("{side}: opened {stream} beyond credit {:?}", e.credit[d]),
                        );
                    }
                    e.opened[d] = e.opened[d].max(stream.index() + 1);
                }
                Action::Write { stream, data, fin } => {
                    check_local_send(side, e, *stream, "write");
                    if e.send_done.contains(stream) {
                        let name = if e.all_sessions.contains(&SessionId(*stream)) {
                            "quic-write-after-end-connect"
                        } else {
                            "quic-write-after-end"
                        };
                        fail(
                            name,
                            format!("{side}: write on {stream} after its FIN or reset"),
                        );
                    }
                    if !data.is_empty() || *fin {
                        self.wire.write(side, *stream, data, *fin);
                    }
                    if *fin {
                        e.send_done.insert(*stream);
                    }
                }
                Action::ResetStream { stream, .. } => {
                    check_local_send(side, e, *stream, "reset");
                    e.send_done.insert(*stream);
                }
                Action::StopSending { stream, .. } => {
                    if stream.initiator() == side && stream.dir() == Dir::Uni {
                        fail(
                            "quic-stop-own-uni",
                            format!("{side}: STOP_SENDING on its own uni stream {stream}"),
                        );
                    }
                    e.recv_stopped.insert(*stream);
                }
                Action::SendDatagram { data } => {
                    if e.datagram_limit.is_some_and(|max| data.len() > max) {
                        fail(
                            "quic-datagram-too-large",
                            format!(
                                "{side}: DATAGRAM of {} bytes over the reported limit {:?}",
                                data.len(),
                                e.datagram_limit
                            ),
                        );
                    }
                    self.wire.datagram(side, data);
                }
                Action::CloseConnection { .. } => {}
                other => trace!("{side}: action not checked: {other:?}"),
            }
            if let Some(tap) = self.tap.as_mut() {
                tap.push(action);
            }
        }
    }

    fn settle_queues(&mut self) {
        self.pump();
        self.e.drain_events();
    }

    fn advance(&mut self, to: Instant) {
        self.now = to.max(self.now);
        let ms = self.now.saturating_duration_since(self.epoch).as_millis();
        trace!("-- time +{ms}ms");
        if !self.e.conn.is_closed() {
            self.e.conn.handle_timeout(self.now);
        }
    }

    fn step(&mut self, step: &Step) {
        let op = step.op;
        let tag = op.tag;
        trace!(
            "== {} a={} b={} c={} d={} payload={}",
            NAMES[usize::from(tag)],
            op.a,
            op.b,
            op.c,
            op.d,
            step.payload.len()
        );
        let open = !self.e.conn.is_closed();
        let peer = self.side().peer();
        match tag {
            T_CONNECT..=T_STOP => self.e.app(op),
            T_DATA | T_FRAME | T_CAPSULE | T_STREAM_HEADER => {
                if let Some(id) = self.peer_sendable(op.a, op.b)
                    && open
                {
                    let budget = self.e.conn.recv_budget(id);
                    let (mut data, mut fin) = if tag == T_DATA {
                        (step.payload.clone(), op.c & 1 == 1)
                    } else {
                        let bytes = framed(op, &step.payload, id.dir());
                        (Bytes::from(bytes), op.d & 1 == 1 && tag != T_STREAM_HEADER)
                    };
                    if data.len() > budget {
                        data.truncate(budget);
                        fin = false;
                    }
                    if !data.is_empty() || fin {
                        trace!(
                            "peer -> {} stream {id}: {} bytes fin={fin}",
                            self.side(),
                            data.len()
                        );
                        self.wire.write(peer, id, &data, fin);
                        if fin {
                            self.peer_done.insert(id);
                        }
                        self.e.conn.handle_stream_data(id, data, fin);
                    }
                }
            }
            T_PEER_RESET => {
                if let Some(id) = self.peer_sendable(op.a, op.b)
                    && open
                {
                    let code = peer_code(op.c, op.d);
                    trace!("peer -> {} RESET_STREAM {id} {code:#x}", self.side());
                    self.peer_done.insert(id);
                    self.e.conn.handle_stream_reset(id, code);
                }
            }
            T_PEER_STOP => {
                if let Some(id) = self.peer_stoppable(op.a, op.b)
                    && open
                {
                    let code = peer_code(op.c, op.d);
                    trace!("peer -> {} STOP_SENDING {id} {code:#x}", self.side());
                    self.e.conn.handle_stop_sending(id, code);
                }
            }
            T_DATAGRAM => {
                if open {
                    trace!(
                        "peer -> {} DATAGRAM {} bytes",
                        self.side(),
                        step.payload.len()
                    );
                    self.e.conn.handle_datagram(step.payload.clone());
                }
            }
            T_ADVANCE => {
                let to = self
                    .now
                    .checked_add(Duration::from_millis(u16_of(op.b, op.c) as u64))
                    .unwrap_or(self.now);
                self.advance(to);
            }
            T_ADVANCE_TO_TIMEOUT => {
                if let Some(t) = self.e.conn.poll_timeout() {
                    self.advance(t);
                }
            }
            T_TRANSPORT_CLOSE => {
                if open {
                    trace!("{}: transport closed", self.side());
                    self.e
                        .conn
                        .handle_connection_closed(Code::H3_NO_ERROR, "transport gone");
                }
            }
            T_DATAGRAM_LIMIT => self.e.datagram_limit_changed(u16_of(op.b, op.c) % 2048),
            T_CREDIT => {
                let e = &mut self.e;
                let dir = if op.b & 1 == 0 { Dir::Bi } else { Dir::Uni };
                let d = di(dir);
                if let Some(cur) = e.credit[d]
                    && open
                {
                    let max = cur.max(e.opened[d] + u64::from(op.c % 8));
                    e.credit[d] = Some(max);
                    trace!("{}: MAX_STREAMS {dir:?} {max}", e.side);
                    e.conn.handle_max_streams(dir, max);
                }
            }
            _ => {}
        }
        self.settle_queues();
        self.check();
    }

    fn check(&self) {
        self.e.check_bounds();
        self.e.check_closed_empty();
        let mine = format!("{} ", self.side());
        let errors: Vec<&String> = self
            .wire
            .errors()
            .iter()
            .filter(|e| e.starts_with(&mine))
            .collect();
        if !errors.is_empty() {
            fail("wire", format!("{errors:?}"));
        }
    }

    /// The end of every run: the application closes the connection; the engine must then
    /// hold nothing.
    fn finish(&mut self) {
        trace!("== finish");
        self.e.conn.close(Code::H3_NO_ERROR, "done");
        self.settle_queues();
        self.check();
        if !self.e.conn.is_closed() {
            fail(
                "closed",
                format!("{} not closed after close()", self.side()),
            );
        }
    }
}

/// Writes and resets only on streams that exist and that this side may send on.
fn check_local_send(side: Side, me: &End, stream: StreamId, what: &str) {
    if stream.initiator() == side {
        if stream.index() >= me.opened[di(stream.dir())] {
            fail(
                "quic-unopened-stream",
                format!("{side}: {what} on {stream} before OpenStream"),
            );
        }
    } else if stream.dir() == Dir::Uni {
        fail(
            "quic-peer-uni",
            format!("{side}: {what} on the peer's uni stream {stream}"),
        );
    }
}

fn describe_action(a: &Action) -> String {
    match a {
        Action::Write { stream, data, fin } => {
            format!("Write {stream} {} bytes fin={fin}", data.len())
        }
        Action::SendDatagram { data } => format!("SendDatagram {} bytes", data.len()),
        other => format!("{other:?}"),
    }
}

fn run(data: &[u8]) -> Option<Harness> {
    let mut u = Unstructured::new(data);
    let setup = Setup::arbitrary(&mut u).ok()?;
    trace!("setup: {setup:?}");
    let mut h = Harness::new(&setup);
    h.settle_queues();
    h.check();
    let mut steps = 0;
    while !u.is_empty() && steps < MAX_STEPS {
        let Some(step) = read_step(&mut u) else { break };
        h.step(&step);
        steps += 1;
    }
    h.finish();
    Some(h)
}

// ---------------------------------------------------------------------------------------------
// Seeds: a real peer engine plays the other side; what it sends is recorded as peer steps.

struct Recorder {
    h: Harness,
    peer: Connection,
    bytes: Vec<u8>,
    /// Cut the peer's writes into pieces of at most this many bytes.
    chunk: usize,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// A code as peer step operands (approximately, for codes outside the table).
fn code_operands(code: Code) -> (u8, u8) {
    let table = [
        (1, Code::H3_NO_ERROR),
        (2, Code::H3_REQUEST_CANCELLED),
        (3, Code::WT_SESSION_GONE),
        (4, Code::WT_BUFFERED_STREAM_REJECTED),
        (5, Code::H3_REQUEST_REJECTED),
    ];
    if let Some((c, _)) = table.iter().find(|(_, k)| *k == code) {
        return (*c, 0);
    }
    match code.to_app() {
        Some(app) if app < 256 => (6, app as u8),
        _ => (1, 0),
    }
}

impl Recorder {
    fn new(role: Side, cfg: CfgBytes, peer_cfg: Config) -> Self {
        let setup = Setup {
            role: match role {
                Side::Client => 0,
                Side::Server => 1,
            },
            cfg,
            // A 1200-byte DATAGRAM limit and RESET_STREAM_AT, as quinn reports them.
            transport: 0x80 | 74,
        };
        let mut bytes = vec![setup.role];
        bytes.extend_from_slice(&cfg.to_bytes());
        bytes.push(setup.transport);
        let mut h = Harness::new(&setup);
        h.tap = Some(Vec::new());
        h.settle_queues();
        let peer = Connection::new(role.peer(), peer_cfg, h.epoch);
        Self {
            h,
            peer,
            bytes,
            chunk: 4096,
        }
    }

    fn step(&mut self, tag: u8, a: u8, b: u8, c: u8, d: u8, payload: &[u8]) {
        self.bytes.extend_from_slice(&[tag, a, b, c, d]);
        if has_payload(tag) {
            let n = u16::try_from(payload.len()).expect("short payload");
            self.bytes.extend_from_slice(&n.to_le_bytes());
            self.bytes.extend_from_slice(payload);
        }
        let step = Step {
            op: Op { tag, a, b, c, d },
            payload: Bytes::copy_from_slice(payload),
        };
        self.h.step(&step);
    }

    /// An application call on the engine.
    fn app(&mut self, tag: u8, b: u8, c: u8, d: u8) {
        self.step(tag, 0, b, c, d, &[]);
    }

    /// Peer bytes on a stream named as the engine sees it.
    fn data(&mut self, stream: StreamId, data: &[u8], fin: bool) {
        let (kind, index) = self.kind(stream);
        let pieces: Vec<&[u8]> = if data.is_empty() {
            vec![data]
        } else {
            data.chunks(self.chunk.max(1)).collect()
        };
        let n = pieces.len();
        for (i, piece) in pieces.into_iter().enumerate() {
            let last = fin && i + 1 == n;
            self.step(T_DATA, kind, index, u8::from(last), 0, piece);
        }
    }

    fn kind(&self, stream: StreamId) -> (u8, u8) {
        let me = self.h.side();
        let index = u8::try_from(stream.index()).expect("small stream index");
        if stream.initiator() == me {
            (2, index)
        } else {
            assert!(stream.index() < PEER_STREAMS);
            (if stream.dir() == Dir::Bi { 0 } else { 1 }, index)
        }
    }

    fn record(&mut self, action: Action) {
        let me = self.h.side();
        match action {
            Action::Write { stream, data, fin } => self.data(stream, &data, fin),
            Action::ResetStream { stream, code, .. } => {
                let (kind, index) = self.kind(stream);
                let (c, d) = code_operands(code);
                self.step(T_PEER_RESET, kind, index, c, d, &[]);
            }
            Action::StopSending { stream, code } => {
                let index = u8::try_from(stream.index()).expect("small stream index");
                let kind = match (stream.initiator() == me, stream.dir()) {
                    (true, Dir::Uni) => 0,
                    (true, Dir::Bi) => 1,
                    (false, _) => 2,
                };
                let (c, d) = code_operands(code);
                self.step(T_PEER_STOP, kind, index, c, d, &[]);
            }
            Action::SendDatagram { data } => self.step(T_DATAGRAM, 0, 0, 0, 0, &data),
            Action::CloseConnection { .. } => self.step(T_TRANSPORT_CLOSE, 0, 0, 0, 0, &[]),
            _ => {}
        }
    }

    /// Exchanges until nothing moves: the engine's actions go to the real peer, the peer's
    /// become recorded steps.
    fn flush(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        for _ in 0..100 {
            let mut moved = false;
            let tapped = self.h.tap.replace(Vec::new()).unwrap_or_default();
            for action in tapped {
                moved = true;
                let p = &mut self.peer;
                match action {
                    Action::Write { stream, data, fin } => p.handle_stream_data(stream, data, fin),
                    Action::ResetStream { stream, code, .. } => {
                        p.handle_stream_reset(stream, code.0)
                    }
                    Action::StopSending { stream, code } => p.handle_stop_sending(stream, code.0),
                    Action::SendDatagram { data } => p.handle_datagram(data),
                    Action::CloseConnection { code, reason } => {
                        p.handle_connection_closed(code, &reason)
                    }
                    _ => {}
                }
            }
            let mut out = Vec::new();
            while let Some(a) = self.peer.poll_action() {
                out.push(a);
            }
            for a in out {
                moved = true;
                self.record(a);
            }
            while let Some(e) = self.peer.poll_event() {
                events.push(e);
            }
            if !moved {
                break;
            }
        }
        events
    }

    fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

fn session_request(events: &[Event]) -> Option<SessionId> {
    events.iter().find_map(|e| match e {
        Event::SessionRequest { session, .. } => Some(*session),
        _ => None,
    })
}

fn peer_config(dialects: &[Dialect]) -> Config {
    let mut c = Config::default();
    c.dialects = dialects.to_vec();
    c.seed = 7;
    c
}

/// The engine is the server; a real client engine connects, opens streams, sends datagrams.
fn server_seed(cfg: CfgBytes, peer_dialects: &[Dialect], chunk: usize) -> Vec<u8> {
    let mut r = Recorder::new(Side::Server, cfg, peer_config(peer_dialects));
    r.chunk = chunk;
    r.flush();
    let session = r
        .peer
        .connect(ConnectRequest::new(
            ProtocolToken::WebTransport,
            "example.com",
            "/echo",
        ))
        .expect("connect");
    r.flush();
    r.app(T_ACCEPT, 0, 0, 0);
    r.flush();
    let uni = r.peer.open_uni(session).expect("uni");
    let bi = r.peer.open_bi(session).expect("bi");
    let _ = r.peer.write(uni, Bytes::from_static(b"hello uni"));
    let _ = r.peer.finish(uni);
    let _ = r.peer.write(bi, Bytes::from_static(b"hello bidi"));
    let _ = r.peer.send_datagram(session, Bytes::from_static(b"ping"));
    r.flush();
    // The engine reads both streams, answers on the bidi one and opens its own.
    r.app(T_READ, 0, 0, 1);
    r.app(T_READ, 0, 0, 1);
    r.app(T_READ, 1, 0, 1);
    r.app(T_WRITE, 1, 20, 0);
    r.app(T_FINISH, 1, 0, 0);
    r.app(T_OPEN_UNI, 0, 0, 0);
    r.app(T_WRITE, 2, 30, 0);
    r.app(T_SEND_DATAGRAM, 0, 8, 0);
    r.flush();
    let _ = r.peer.close_session(session, 7, "bye");
    r.flush();
    r.finish()
}

/// The engine is the client; a real server engine accepts, opens streams, sends datagrams.
fn client_seed(cfg: CfgBytes, peer_dialects: &[Dialect], accept: bool) -> Vec<u8> {
    let mut r = Recorder::new(Side::Client, cfg, peer_config(peer_dialects));
    r.flush();
    r.app(T_CONNECT, 4, 0, 0);
    let events = r.flush();
    let session = session_request(&events).expect("session request");
    if !accept {
        let _ = r
            .peer
            .reject(session, http::StatusCode::NOT_FOUND, http::HeaderMap::new());
        r.flush();
        return r.finish();
    }
    let mut response = ConnectResponse::new(http::StatusCode::OK);
    response.protocol = Some("a".into());
    r.peer.accept(session, response).expect("accept");
    r.flush();
    let uni = r.peer.open_uni(session).expect("uni");
    let bi = r.peer.open_bi(session).expect("bi");
    let _ = r.peer.write(uni, Bytes::from_static(b"from the server"));
    let _ = r.peer.finish(uni);
    let _ = r.peer.write(bi, Bytes::from_static(b"bidi"));
    let _ = r.peer.send_datagram(session, Bytes::from_static(b"pong"));
    r.flush();
    r.app(T_READ, 0, 0, 1);
    r.app(T_READ, 1, 0, 1);
    r.app(T_WRITE, 1, 5, 0);
    r.app(T_OPEN_BI, 0, 0, 0);
    r.app(T_WRITE, 2, 9, 0);
    r.app(T_DRAIN, 0, 0, 0);
    r.flush();
    r.peer.goaway();
    let _ = r.peer.drain_session(session);
    r.flush();
    r.app(T_CLOSE_SESSION, 0, 3, 1);
    r.flush();
    r.finish()
}

// Client bytes captured from browsers (/work/shared/vectors): control streams, QPACK encoder
// streams, CONNECT streams (HEADERS, then the rest), WebTransport streams, a datagram.
const CHROMIUM_CONTROL: &str = "00042901800100000680004000074064330180ffd27701ab60374201c00000146dba16acc0000000648ac002c000000959aeb69401a1";
const CHROMIUM_CONNECT: &str = "0140550000d7cf508a089d5c0b8170dc69a743518460a49cff2f00b95d8749c87a3f89f058d360ea4567b13f2f0e4148b782c69b07522b3d895a74a6b65692c1ca900b01315f4b909d29aee30c50720e89ce84dc65c038ff0031c4e72c22bc3721fc28a370af449b071d42d818eba7c40ac64ce00b5566c86c11bafcb2d00239df9389d84d217db5f7d331000768430400000000";
const CHROMIUM_CONNECT_HEAD: usize = 88;
const FIREFOX_CONTROL: &str =
    "00041501800100000714ab6037420180ffd2770133010801dab9cc466950777b0463adfe1d";
const FIREFOX_CONNECT: &str = "0141060000cfd7508a089d5c0b8170dc69a745518460a49cff2f00b95d8749c87a3f89f058d360ea4567b13f5f50b5d07f66a281b0dae053fafc087ed4ce6aadf2a7979c89c6bed4b3bdc0b6cae0fed4c452753b02004000802a61358594fe580b6cae0fdd5f398b2d4b70ddf45abefb4005df5f10929bd9abfa5242cb40d25fa523b3e94f684c9f2f0e4148b782c69b07522b3d895a74a6b65692c1ca900b810f5f4b909d29aee30c50720e89ce84dc644f09ff2f034148b4a549275a42a13f89f058d360ea4567b13f2f034148b4a549275a93c85f85a8eb10f6232f034148b4a549275906497f872587421641925f2eaec31ec327d783b606bf2daec1cd48ff86a8eb10649cbfe7000768430400000000";
const FIREFOX_CONNECT_HEAD: usize = 265;
const WT_UNI: &str = "405400000000030100000302000003030000030400000305000003060000030700000308000003090000030a0000030b0000030c0000030d0000030e0000030f000003";
const WT_BIDI: &str = "404100000000040100000402000004030000040400000405000004060000040700000408000004090000040a0000040b0000040c0000040d0000040e0000040f000004";
const DATAGRAM: &str = "0064672d7065786b68772d302d78787878787878";

/// A browser's client bytes replayed into a server engine, with the engine accepting.
fn browser_seed(chromium: bool) -> Vec<u8> {
    let mut r = Recorder::new(Side::Server, CfgBytes::ROOMY, peer_config(&Dialect::ALL));
    let client_uni = |i| StreamId::new(Side::Client, Dir::Uni, i);
    let client_bi = |i| StreamId::new(Side::Client, Dir::Bi, i);
    let (control, connect, head) = if chromium {
        (CHROMIUM_CONTROL, CHROMIUM_CONNECT, CHROMIUM_CONNECT_HEAD)
    } else {
        (FIREFOX_CONTROL, FIREFOX_CONNECT, FIREFOX_CONNECT_HEAD)
    };
    r.data(client_uni(0), &hex(control), false);
    if chromium {
        r.data(client_uni(2), &hex("0220"), false);
    } else {
        r.data(client_uni(1), &hex("02"), false);
        r.data(client_uni(2), &hex("03"), false);
    }
    let connect = hex(connect);
    r.data(client_bi(0), &connect[..head], false);
    r.app(T_ACCEPT, 0, 0, 0);
    r.data(client_uni(3), &hex(WT_UNI), true);
    r.data(client_bi(1), &hex(WT_BIDI), false);
    r.data(client_bi(2), &hex("40410078"), false);
    r.step(T_PEER_RESET, 0, 2, 6, 7, &[]);
    r.step(T_DATAGRAM, 0, 0, 0, 0, &hex(DATAGRAM));
    r.app(T_READ, 0, 0, 1);
    r.app(T_READ, 1, 0, 1);
    r.app(T_WRITE, 1, 64, 0);
    // Structured steps: a WebTransport uni stream header for session 0, capsules and a GREASE
    // frame on the CONNECT stream.
    r.step(T_STREAM_HEADER, 1, 4, 3, 0, &[]);
    r.step(T_DATA, 1, 4, 1, 0, b"abc");
    r.step(T_CAPSULE, 0, 0, 0, 0, b"\x00dgram");
    r.step(T_CAPSULE, 0, 0, 2, 0, &[]);
    r.step(T_FRAME, 0, 0, 8, 0, b"xx");
    r.data(client_bi(0), &connect[head..], true);
    r.finish()
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let roomy = CfgBytes::ROOMY;
    let tight = CfgBytes {
        max_sessions: 2,
        max_buffered_streams: 2,
        max_buffered_stream_bytes: 8,
        max_buffered_datagrams: 2,
        max_queued_datagrams: 2,
        stream_send_buffer: 16,
        stream_recv_buffer: 16,
        max_connect_stream_buffer: 8,
        ..roomy
    };
    let d02 = CfgBytes {
        dialects: 1,
        ..roomy
    };
    let d07 = CfgBytes {
        dialects: 2,
        ..roomy
    };
    vec![
        ("server_session", server_seed(roomy, &Dialect::ALL, 4096)),
        ("server_bytewise", server_seed(roomy, &Dialect::ALL, 1)),
        ("server_tight", server_seed(tight, &Dialect::ALL, 7)),
        (
            "server_draft02",
            server_seed(d02, &[Dialect::Draft02], 4096),
        ),
        ("server_draft07", server_seed(d07, &[Dialect::Draft07], 3)),
        ("client_session", client_seed(roomy, &Dialect::ALL, true)),
        (
            "client_draft07",
            client_seed(d07, &[Dialect::Draft07], true),
        ),
        ("client_rejected", client_seed(roomy, &Dialect::ALL, false)),
        ("chromium", browser_seed(true)),
        ("firefox", browser_seed(false)),
    ]
}

fn write_seeds(dir: &str) {
    std::fs::create_dir_all(dir).expect("seed directory");
    for (name, bytes) in seeds() {
        let h = run(&bytes).expect("seed decodes");
        eprintln!(
            "seed {name}: {} bytes; {} {:?}",
            bytes.len(),
            h.e.side,
            h.e.counts
        );
        std::fs::write(format!("{dir}/seed-{name}"), &bytes).expect("write seed");
    }
}

fuzz_target!(
    init: {
        if let Ok(dir) = std::env::var("WT_FUZZ_WRITE_SEEDS") {
            write_seeds(&dir);
            std::process::exit(0);
        }
    },
    |data: &[u8]| {
        run(data);
    }
);
