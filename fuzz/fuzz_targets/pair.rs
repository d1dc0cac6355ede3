//! Stateful fuzzing of a client and a server engine joined by a fuzzed in-memory QUIC transport.
//!
//! Input: 36 setup bytes (17 configuration bytes per engine, client first, see [`CfgBytes`];
//! then one transport byte per engine, see [`transport_params`]), then steps of 5 bytes each
//! (`tag a b c d`, see [`Op`]). A step is an application call on either side (ids picked from
//! the ones that exist, `sel % len`), or a transport event: deliver part of one stream's pending
//! bytes (any stream, so streams arrive out of order with respect to each other but in order
//! within one stream), let a RESET_STREAM overtake the data before it, deliver a STOP_SENDING,
//! deliver / drop / reorder datagrams, deliver CONNECTION_CLOSE, lose the connection, advance
//! the virtual clock, grant stream credit, limit and reopen a stream's send window (partial
//! writes handed back with `handle_write_blocked`), change the DATAGRAM size limit. Every action
//! an engine emits is executed the way a QUIC stack would (in order per stream; nothing after a
//! reset, after STOP_SENDING, or after the connection closed; `recv_budget` respected). At the
//! end the harness unblocks and delivers everything, closes every session, checks that nothing
//! is left, closes the connection and checks that both engines hold nothing.
//!
//! Invariants checked after every step (a violation panics with `invariant violated: NAME`):
//! - no panic in the engine;
//! - `live_entries()` within the `Config` limits (`buffered-streams`, `buffered-datagrams`,
//!   `sessions`, `critical-streams`), at most `max_queued_datagrams` `Datagram` events between
//!   two complete drains (`queued-datagrams`);
//! - every byte either engine wrote decodes with `trace::WireDecoder` (`wire`);
//! - actions are valid QUIC (`quic-*`): streams opened in order within credit, no write after
//!   FIN or reset (`quic-write-after-end`, `-connect` on a CONNECT stream), no write or reset on
//!   the peer's uni streams, no STOP_SENDING on our own uni streams, no DATAGRAM over the
//!   reported limit;
//! - events: nothing about a session after its `SessionClosed`/`SessionRejected` (or reject),
//!   one `StreamOpened` per stream, nothing after `ConnectionClosed` (`event-*`);
//! - a closed engine, once its actions and events are drained, reports all-zero
//!   `live_entries()` (`closed-not-empty-FIELD`);
//! - after the final quiescence (everything delivered and read, every session closed), no
//!   session, stream, buffer, action or event is left (`quiescent-leak-FIELD-SIDE`).
//!
//! Environment: `WT_FUZZ_TRACE=1` prints every step, action and event (to reproduce a crash);
//! `WT_FUZZ_SKIP=name,name` turns named invariants off (to fuzz past a known finding);
//! `WT_FUZZ_WRITE_SEEDS=dir` writes the seed corpus into `dir` and exits.
#![no_main]

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wt_proto::trace::WireDecoder;
use wt_proto::{
    Action, Code, Config, ConnectRequest, ConnectResponse, Connection, Dialect, Dir, Event,
    LiveEntries, ProtocolToken, SessionId, Side, StreamId, TransportParams,
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
    client: CfgBytes,
    server: CfgBytes,
    /// What each side's transport negotiated ([`transport_params`]).
    client_transport: u8,
    server_transport: u8,
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

// Application calls (`a & 1`: 0 client, 1 server, where a side is chosen).
const T_CONNECT: u8 = 0; // client: variant a
const T_ACCEPT: u8 = 1; // server: sel a, variant b
const T_REJECT: u8 = 2; // server: sel a, variant b
const T_CLOSE_SESSION: u8 = 3; // side a, sel b, code c, reason d
const T_DRAIN: u8 = 4; // side a, sel b
const T_GOAWAY: u8 = 5; // side a
const T_CLOSE: u8 = 6; // side a, code b
const T_SEND_DATAGRAM: u8 = 7; // side a, sel b, len c
const T_OPEN_UNI: u8 = 8; // side a, sel b
const T_OPEN_BI: u8 = 9; // side a, sel b
const T_WRITE: u8 = 10; // side a, sel b, len c|d<<8
const T_FINISH: u8 = 11; // side a, sel b
const T_READ: u8 = 12; // side a, sel b, max c|d<<8
const T_RESET: u8 = 13; // side a, sel b, code c
const T_STOP: u8 = 14; // side a, sel b, code c
// Transport events (`a & 1`: the sending side).
const T_DELIVER_STREAM: u8 = 15; // from a, sel b (pending stream), len c|d<<8 (0: all)
const T_RESET_OVERTAKES: u8 = 16; // from a, sel b
const T_DELIVER_STOP: u8 = 17; // from a, sel b
const T_DELIVER_DATAGRAM: u8 = 18; // from a, sel b
const T_DROP_DATAGRAM: u8 = 19; // from a, sel b
const T_DELIVER_CLOSE: u8 = 20; // from a
const T_DELIVER_ALL: u8 = 21;
const T_ADVANCE: u8 = 22; // ms b|c<<8
const T_ADVANCE_TO_TIMEOUT: u8 = 23;
const T_TRANSPORT_CLOSE: u8 = 24;
const T_CREDIT: u8 = 25; // side a, dir b, n c
const T_WINDOW: u8 = 26; // side a, sel b, n c
const T_WRITABLE: u8 = 27; // side a, sel b, n c (255: unlimited)
const T_DATAGRAM_LIMIT: u8 = 28; // side a, size b|c<<8 (mod 2048)
const T_COUNT: u8 = 29;

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
    "DeliverStream",
    "ResetOvertakes",
    "DeliverStop",
    "DeliverDatagram",
    "DropDatagram",
    "DeliverClose",
    "DeliverAll",
    "Advance",
    "AdvanceToTimeout",
    "TransportClose",
    "Credit",
    "Window",
    "Writable",
    "DatagramLimit",
];

const MAX_STEPS: usize = 400;

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
// The transport

/// Bytes and signals one side sent on one stream that the other side has not received.
#[derive(Debug, Default)]
struct InStream {
    data: VecDeque<Bytes>,
    fin: bool,
    reset: Option<u64>,
}

/// What one side sent that is still in flight.
#[derive(Debug, Default)]
struct Flight {
    streams: BTreeMap<StreamId, InStream>,
    datagrams: Vec<Bytes>,
    stops: Vec<(StreamId, u64)>,
    close: Option<(Code, String)>,
}

impl Flight {
    fn clear_all(&mut self) {
        self.streams.clear();
        self.datagrams.clear();
        self.stops.clear();
    }
}

/// One engine, what its application knows, and its half of the transport.
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
    /// Transport send window per stream (absent: unlimited).
    window: HashMap<StreamId, usize>,
    blocked: BTreeSet<StreamId>,
    /// Streams this side wrote on recently (for window steps).
    written: Vec<StreamId>,
    /// Streams whose send side ended (FIN taken or reset): no write may follow.
    send_done: HashSet<StreamId>,
    /// Streams this side sent STOP_SENDING for: the transport drops their incoming data.
    recv_stopped: HashSet<StreamId>,
    /// The DATAGRAM size limit the transport reported (`None`: not reported, or no limit).
    datagram_limit: Option<usize>,
    reset_stream_at: bool,
    out: Flight,
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
            window: HashMap::new(),
            blocked: BTreeSet::new(),
            written: Vec::new(),
            send_done: HashSet::new(),
            recv_stopped: HashSet::new(),
            datagram_limit: None,
            reset_stream_at: false,
            out: Flight::default(),
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

    fn note_written(&mut self, id: StreamId) {
        if !self.written.contains(&id) {
            self.written.push(id);
            if self.written.len() > 32 {
                self.written.remove(0);
            }
        }
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

struct Harness {
    ends: [End; 2],
    epoch: Instant,
    now: Instant,
    wire: WireDecoder,
}

fn ix(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

impl Harness {
    fn new(setup: &Setup) -> Self {
        let epoch = Instant::now();
        Self {
            ends: [
                End::new(Side::Client, &setup.client, setup.client_transport, epoch),
                End::new(Side::Server, &setup.server, setup.server_transport, epoch),
            ],
            epoch,
            now: epoch,
            wire: WireDecoder::new(),
        }
    }

    fn end(&mut self, side: Side) -> &mut End {
        &mut self.ends[ix(side)]
    }

    /// (`from`, the other side, the wire decoder).
    fn split(&mut self, from: Side) -> (&mut End, &mut End, &mut WireDecoder) {
        let [c, s] = &mut self.ends;
        match from {
            Side::Client => (c, s, &mut self.wire),
            Side::Server => (s, c, &mut self.wire),
        }
    }

    /// Moves `side`'s actions into the transport, as a QUIC stack executes them.
    fn pump(&mut self, side: Side) -> bool {
        let (me, peer, wire) = self.split(side);
        let mut moved = false;
        while let Some(action) = me.conn.poll_action() {
            moved = true;
            trace!("{side} action: {}", describe_action(&action));
            match action {
                Action::OpenStream { stream } => {
                    let d = di(stream.dir());
                    if stream.initiator() != side || stream.index() != me.opened[d] {
                        fail(
                            "quic-open-order",
                            format!("{side}: opened {stream}, expected index {}", me.opened[d]),
                        );
                    }
                    if me.credit[d].is_some_and(|c| stream.index() >= c) {
                        fail(
                            "quic-open-credit",
                            format!("{side}: opened {stream} beyond credit {:?}", me.credit[d]),
                        );
                    }
                    me.opened[d] = me.opened[d].max(stream.index() + 1);
                }
                Action::Write {
                    stream,
                    mut data,
                    fin,
                } => {
                    check_local_send(side, me, stream, "write");
                    if me.send_done.contains(&stream) {
                        let name = if me.all_sessions.contains(&SessionId(stream)) {
                            "quic-write-after-end-connect"
                        } else {
                            "quic-write-after-end"
                        };
                        fail(
                            name,
                            format!("{side}: write on {stream} after its FIN or reset"),
                        );
                    }
                    let mut fin_now = fin;
                    if let Some(w) = me.window.get_mut(&stream)
                        && data.len() > *w
                    {
                        let rest = data.split_off(*w);
                        *w = 0;
                        trace!(
                            "{side}: transport hands back {} bytes of {stream}",
                            rest.len()
                        );
                        me.conn.handle_write_blocked(stream, rest, fin);
                        me.blocked.insert(stream);
                        fin_now = false;
                    } else if let Some(w) = me.window.get_mut(&stream) {
                        *w -= data.len();
                    }
                    me.note_written(stream);
                    if data.is_empty() && !fin_now {
                        continue;
                    }
                    wire.write(side, stream, &data, fin_now);
                    if fin_now {
                        me.send_done.insert(stream);
                    }
                    if !peer.recv_stopped.contains(&stream) {
                        let st = me.out.streams.entry(stream).or_default();
                        if !data.is_empty() {
                            st.data.push_back(data);
                        }
                        st.fin |= fin_now;
                    }
                }
                Action::ResetStream { stream, code, .. } => {
                    check_local_send(side, me, stream, "reset");
                    me.send_done.insert(stream);
                    if !peer.recv_stopped.contains(&stream) {
                        me.out.streams.entry(stream).or_default().reset = Some(code.0);
                    }
                }
                Action::StopSending { stream, code } => {
                    if stream.initiator() == side && stream.dir() == Dir::Uni {
                        fail(
                            "quic-stop-own-uni",
                            format!("{side}: STOP_SENDING on its own uni stream {stream}"),
                        );
                    }
                    me.recv_stopped.insert(stream);
                    peer.out.streams.remove(&stream);
                    me.out.stops.push((stream, code.0));
                }
                Action::SendDatagram { data } => {
                    if me.datagram_limit.is_some_and(|max| data.len() > max) {
                        fail(
                            "quic-datagram-too-large",
                            format!(
                                "{side}: DATAGRAM of {} bytes over the reported limit {:?}",
                                data.len(),
                                me.datagram_limit
                            ),
                        );
                    }
                    wire.datagram(side, &data);
                    me.out.datagrams.push(data);
                    if me.out.datagrams.len() > 64 {
                        // The network's buffer is finite too.
                        me.out.datagrams.remove(0);
                    }
                }
                Action::CloseConnection { code, reason } => {
                    me.out.close = Some((code, reason));
                }
                other => trace!("{side}: action not executed: {other:?}"),
            }
        }
        moved
    }

    /// Pumps both sides and drains both sides' events.
    fn settle_queues(&mut self) -> bool {
        let mut moved = false;
        for side in [Side::Client, Side::Server] {
            moved |= self.pump(side);
            let e = self.end(side);
            let before = e.counts.values().sum::<u32>();
            e.drain_events();
            moved |= e.counts.values().sum::<u32>() != before;
        }
        moved
    }

    /// Delivers one piece (at most `max` bytes, and what `recv_budget` allows) of `id`'s pending
    /// bytes from `from`, or its FIN or reset once the bytes are through.
    fn deliver_stream(&mut self, from: Side, id: StreamId, max: usize) -> bool {
        let (src, dst, _) = self.split(from);
        if dst.conn.is_closed() {
            return src.out.streams.remove(&id).is_some();
        }
        let Some(st) = src.out.streams.get_mut(&id) else {
            return false;
        };
        if let Some(front) = st.data.front_mut() {
            let budget = dst.conn.recv_budget(id);
            let n = front.len().min(max).min(budget);
            if n == 0 {
                return false;
            }
            let piece = front.split_to(n);
            if front.is_empty() {
                st.data.pop_front();
            }
            let fin = st.fin && st.data.is_empty();
            if fin {
                src.out.streams.remove(&id);
            }
            trace!(
                "deliver {from} -> {} stream {id}: {n} bytes fin={fin}",
                dst.side
            );
            dst.conn.handle_stream_data(id, piece, fin);
            return true;
        }
        let st = src.out.streams.remove(&id).unwrap_or_default();
        if st.fin {
            trace!("deliver {from} -> {} stream {id}: FIN", dst.side);
            dst.conn.handle_stream_data(id, Bytes::new(), true);
            true
        } else if let Some(code) = st.reset {
            trace!("deliver {from} -> {} RESET_STREAM {id} {code:#x}", dst.side);
            dst.conn.handle_stream_reset(id, code);
            true
        } else {
            false
        }
    }

    fn reset_overtakes(&mut self, from: Side, id: StreamId) {
        let (src, dst, _) = self.split(from);
        if src.out.streams.get(&id).is_some_and(|s| s.reset.is_some()) {
            let st = src.out.streams.remove(&id).unwrap_or_default();
            if !dst.conn.is_closed()
                && let Some(code) = st.reset
            {
                trace!(
                    "deliver {from} -> {} RESET_STREAM {id} {code:#x} (overtaking)",
                    dst.side
                );
                dst.conn.handle_stream_reset(id, code);
            }
        }
    }

    fn deliver_stop(&mut self, from: Side, sel: usize) -> bool {
        let (src, dst, _) = self.split(from);
        if src.out.stops.is_empty() {
            return false;
        }
        let (id, code) = src.out.stops.remove(sel % src.out.stops.len());
        if !dst.conn.is_closed() {
            trace!("deliver {from} -> {} STOP_SENDING {id} {code:#x}", dst.side);
            dst.conn.handle_stop_sending(id, code);
        }
        true
    }

    fn deliver_datagram(&mut self, from: Side, sel: usize) -> bool {
        let (src, dst, _) = self.split(from);
        if src.out.datagrams.is_empty() {
            return false;
        }
        let data = src.out.datagrams.remove(sel % src.out.datagrams.len());
        if !dst.conn.is_closed() {
            trace!(
                "deliver {from} -> {} DATAGRAM {} bytes",
                dst.side,
                data.len()
            );
            dst.conn.handle_datagram(data);
        }
        true
    }

    fn deliver_close(&mut self, from: Side) -> bool {
        let (src, dst, _) = self.split(from);
        let Some((code, reason)) = src.out.close.take() else {
            return false;
        };
        src.out.clear_all();
        dst.out.clear_all();
        if !dst.conn.is_closed() {
            trace!("deliver {from} -> {} CONNECTION_CLOSE {code}", dst.side);
            dst.conn.handle_connection_closed(code, &reason);
        }
        true
    }

    fn transport_close(&mut self) {
        for e in &mut self.ends {
            e.out.clear_all();
            e.out.close = None;
            if !e.conn.is_closed() {
                trace!("{}: transport closed", e.side);
                e.conn
                    .handle_connection_closed(Code::H3_NO_ERROR, "transport gone");
            }
        }
    }

    /// Delivers everything that can be delivered, until nothing moves.
    fn deliver_all(&mut self) {
        for _ in 0..500 {
            let mut moved = self.settle_queues();
            for from in [Side::Client, Side::Server] {
                let ids: Vec<StreamId> = self.end(from).out.streams.keys().copied().collect();
                for id in ids {
                    while self.deliver_stream(from, id, usize::MAX) {
                        moved = true;
                    }
                }
                while self.deliver_stop(from, 0) {
                    moved = true;
                }
                loop {
                    let to = from.peer();
                    if self.end(to).conn.datagram_room() == 0 && !self.end(to).conn.is_closed() {
                        break;
                    }
                    if !self.deliver_datagram(from, 0) {
                        break;
                    }
                    moved = true;
                }
            }
            moved |= self.settle_queues();
            if !moved {
                for from in [Side::Client, Side::Server] {
                    moved |= self.deliver_close(from);
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn advance(&mut self, to: Instant) {
        self.now = to.max(self.now);
        let ms = self.now.saturating_duration_since(self.epoch).as_millis();
        trace!("-- time +{ms}ms");
        for e in &mut self.ends {
            if !e.conn.is_closed() {
                e.conn.handle_timeout(self.now);
            }
        }
    }

    fn step(&mut self, op: Op) {
        let tag = op.tag % T_COUNT;
        trace!(
            "== {} a={} b={} c={} d={}",
            NAMES[usize::from(tag)],
            op.a,
            op.b,
            op.c,
            op.d
        );
        let op = Op { tag, ..op };
        let side = side_of(op.a);
        match tag {
            T_CONNECT => self.end(Side::Client).app(Op { b: op.a, ..op }),
            T_ACCEPT | T_REJECT => self.end(Side::Server).app(Op {
                b: op.a,
                c: op.b,
                ..op
            }),
            T_CLOSE_SESSION..=T_STOP => self.end(side).app(op),
            T_DELIVER_STREAM => {
                let ids: Vec<StreamId> = self.end(side).out.streams.keys().copied().collect();
                if let Some(id) = pick(&ids, op.b) {
                    let len = match u16_of(op.c, op.d) {
                        0 => usize::MAX,
                        n => n,
                    };
                    self.deliver_stream(side, id, len);
                }
            }
            T_RESET_OVERTAKES => {
                let ids: Vec<StreamId> = self.end(side).out.streams.keys().copied().collect();
                if let Some(id) = pick(&ids, op.b) {
                    self.reset_overtakes(side, id);
                }
            }
            T_DELIVER_STOP => {
                self.deliver_stop(side, usize::from(op.b));
            }
            T_DELIVER_DATAGRAM => {
                self.deliver_datagram(side, usize::from(op.b));
            }
            T_DROP_DATAGRAM => {
                let e = self.end(side);
                if !e.out.datagrams.is_empty() {
                    let i = usize::from(op.b) % e.out.datagrams.len();
                    e.out.datagrams.remove(i);
                }
            }
            T_DELIVER_CLOSE => {
                self.deliver_close(side);
            }
            T_DELIVER_ALL => self.deliver_all(),
            T_ADVANCE => {
                let to = self
                    .now
                    .checked_add(Duration::from_millis(u16_of(op.b, op.c) as u64))
                    .unwrap_or(self.now);
                self.advance(to);
            }
            T_ADVANCE_TO_TIMEOUT => {
                let next = self.ends.iter().filter_map(|e| e.conn.poll_timeout()).min();
                if let Some(t) = next {
                    self.advance(t);
                }
            }
            T_TRANSPORT_CLOSE => self.transport_close(),
            T_DATAGRAM_LIMIT => self
                .end(side)
                .datagram_limit_changed(u16_of(op.b, op.c) % 2048),
            T_CREDIT => {
                let e = self.end(side);
                let dir = if op.b & 1 == 0 { Dir::Bi } else { Dir::Uni };
                let d = di(dir);
                if let Some(cur) = e.credit[d]
                    && !e.conn.is_closed()
                {
                    let max = cur.max(e.opened[d] + u64::from(op.c % 8));
                    e.credit[d] = Some(max);
                    trace!("{side}: MAX_STREAMS {dir:?} {max}");
                    e.conn.handle_max_streams(dir, max);
                }
            }
            T_WINDOW => {
                let e = self.end(side);
                if let Some(id) = pick(&e.written, op.b) {
                    e.window.insert(id, usize::from(op.c) * 4);
                }
            }
            T_WRITABLE => {
                let e = self.end(side);
                let blocked: Vec<StreamId> = e.blocked.iter().copied().collect();
                let id = pick(&blocked, op.b).or_else(|| pick(&e.written, op.b));
                if let Some(id) = id {
                    if op.c == 255 {
                        e.window.remove(&id);
                    } else if let Some(w) = e.window.get_mut(&id) {
                        *w += usize::from(op.c) * 16;
                    }
                    e.blocked.remove(&id);
                    if !e.conn.is_closed() {
                        trace!("{side}: stream {id} writable");
                        e.conn.handle_stream_writable(id);
                    }
                }
            }
            _ => {}
        }
        self.settle_queues();
        self.check();
    }

    fn check(&mut self) {
        for e in &self.ends {
            e.check_bounds();
            e.check_closed_empty();
        }
        if !self.wire.errors().is_empty() {
            fail("wire", format!("{:?}", self.wire.errors()));
        }
    }

    /// Reads every stream of `side` until it has nothing more.
    fn read_all(&mut self, side: Side) -> bool {
        let e = self.end(side);
        let mut moved = false;
        let ids: Vec<StreamId> = e.all_streams.iter().copied().collect();
        for id in ids {
            for _ in 0..10_000 {
                match e.conn.read(id, 64 * 1024) {
                    Ok(Some(_)) => moved = true,
                    Ok(None) => {
                        moved = true;
                        break;
                    }
                    Err(_) => break,
                }
            }
        }
        moved
    }

    /// Delivers and reads everything until nothing moves.
    fn settle(&mut self) {
        for _ in 0..100 {
            self.deliver_all();
            let a = self.read_all(Side::Client);
            let b = self.read_all(Side::Server);
            if !(a | b) {
                break;
            }
        }
        self.deliver_all();
    }

    /// The end of every run: unblock everything, deliver everything, close every session,
    /// check for leftovers, close the connection and check that both engines are empty.
    fn finish(&mut self) {
        trace!("== finish");
        for e in &mut self.ends {
            e.window.clear();
            let blocked = std::mem::take(&mut e.blocked);
            if !e.conn.is_closed() {
                for id in blocked {
                    e.conn.handle_stream_writable(id);
                }
            }
        }
        self.settle();
        if self.ends.iter().all(|e| !e.conn.is_closed()) {
            for e in &mut self.ends {
                let ids: Vec<SessionId> = e.all_sessions.iter().copied().collect();
                for id in ids {
                    if e.ended.contains(&id) {
                        continue;
                    }
                    let r = e.conn.close_session(id, 0, "");
                    trace!("{}: close_session {id} -> {r:?}", e.side);
                    if r.is_err()
                        && e.side == Side::Server
                        && e.conn
                            .reject(id, http::StatusCode::NOT_FOUND, http::HeaderMap::new())
                            .is_ok()
                    {
                        e.session_over(id);
                    }
                }
            }
            self.settle();
            self.check();
            if self.ends.iter().all(|e| !e.conn.is_closed()) {
                for e in &self.ends {
                    let l = e.conn.live_entries();
                    let left = LiveEntries {
                        critical_streams: 0,
                        out_of_order_streams: 0,
                        ..l
                    };
                    if left != LiveEntries::default() {
                        // Named by what leaked, so that one known leak can be skipped alone.
                        let what = [
                            ("sessions", left.sessions),
                            ("send_streams", left.send_streams),
                            ("recv_streams", left.recv_streams),
                            ("buffered_streams", left.buffered_streams),
                            ("buffered_datagrams", left.buffered_datagrams),
                            ("actions", left.actions),
                            ("events", left.events),
                        ];
                        for (field, n) in what {
                            if n > 0 {
                                fail(
                                    &format!("quiescent-leak-{field}-{}", e.side),
                                    format!(
                                        "after every session closed and everything delivered and read: {l:?}"
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }
        // Close the connection from the client (a no-op if it is closed already).
        self.end(Side::Client).conn.close(Code::H3_NO_ERROR, "done");
        self.deliver_all();
        self.transport_close();
        self.settle_queues();
        self.check();
        for e in &self.ends {
            if !e.conn.is_closed() {
                fail("closed", format!("{} not closed at the end", e.side));
            }
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
        let Ok(op) = Op::arbitrary(&mut u) else { break };
        h.step(op);
        steps += 1;
    }
    h.finish();
    Some(h)
}

// ---------------------------------------------------------------------------------------------
// Seeds

struct SeedBuilder(Vec<u8>);

impl SeedBuilder {
    fn new(client: CfgBytes, server: CfgBytes) -> Self {
        Self::with_transport(client, server, 0xff)
    }
    fn with_transport(client: CfgBytes, server: CfgBytes, transport: u8) -> Self {
        let mut v = client.to_bytes().to_vec();
        v.extend_from_slice(&server.to_bytes());
        v.extend_from_slice(&[transport, transport]);
        Self(v)
    }
    fn op(mut self, tag: u8, a: u8, b: u8, c: u8, d: u8) -> Self {
        self.0.extend_from_slice(&[tag, a, b, c, d]);
        self
    }
    fn all(self) -> Self {
        self.op(T_DELIVER_ALL, 0, 0, 0, 0)
    }
    /// Client connects, server accepts (session index 0 on both sides).
    fn session(self) -> Self {
        self.all()
            .op(T_CONNECT, 0, 0, 0, 0)
            .all()
            .op(T_ACCEPT, 0, 0, 0, 0)
            .all()
    }
}

const C: u8 = 0;
const S: u8 = 1;

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
    let idle = CfgBytes {
        flags: 64,
        idle_timeout: 4,
        ..roomy
    };
    let credit = CfgBytes {
        credit_bi: 1,
        credit_uni: 1,
        ..roomy
    };
    vec![
        ("handshake", SeedBuilder::new(roomy, roomy).all().0),
        ("session", SeedBuilder::new(roomy, roomy).session().0),
        (
            "streams_and_datagrams",
            SeedBuilder::with_transport(roomy, roomy, 0x80 | 74)
                .session()
                .op(T_OPEN_UNI, C, 0, 0, 0)
                .op(T_WRITE, C, 0, 100, 0)
                .op(T_FINISH, C, 0, 0, 0)
                .op(T_OPEN_BI, C, 0, 0, 0)
                .op(T_WRITE, C, 1, 50, 0)
                .op(T_SEND_DATAGRAM, C, 0, 20, 0)
                .all()
                .op(T_READ, S, 0, 0, 1)
                .op(T_READ, S, 0, 0, 1)
                .op(T_READ, S, 1, 0, 1)
                .op(T_WRITE, S, 1, 50, 0)
                .op(T_FINISH, S, 1, 0, 0)
                .op(T_OPEN_BI, S, 0, 0, 0)
                .op(T_WRITE, S, 2, 10, 0)
                .op(T_SEND_DATAGRAM, S, 0, 30, 0)
                .all()
                .op(T_READ, C, 1, 0, 1)
                .op(T_READ, C, 2, 0, 1)
                .op(T_RESET, C, 1, 7, 0)
                .op(T_STOP, C, 2, 9, 0)
                .all()
                .op(T_CLOSE_SESSION, C, 0, 42, 1)
                .all()
                .0,
        ),
        (
            "partial_delivery",
            SeedBuilder::new(roomy, roomy)
                .op(T_CONNECT, 0, 0, 0, 0)
                // Server SETTINGS first, byte by byte-ish, then the client's streams.
                .op(T_DELIVER_STREAM, S, 0, 3, 0)
                .op(T_DELIVER_STREAM, S, 0, 3, 0)
                .op(T_DELIVER_STREAM, S, 0, 0, 0)
                .op(T_DELIVER_STREAM, C, 3, 5, 0)
                .op(T_DELIVER_STREAM, C, 0, 1, 0)
                .op(T_DELIVER_STREAM, C, 1, 0, 0)
                .op(T_DELIVER_STREAM, C, 1, 0, 0)
                .op(T_DELIVER_STREAM, C, 0, 0, 0)
                .all()
                .op(T_ACCEPT, 0, 0, 0, 0)
                .op(T_OPEN_UNI, S, 0, 0, 0)
                .op(T_WRITE, S, 0, 200, 0)
                .op(T_OPEN_UNI, S, 0, 0, 0)
                .op(T_WRITE, S, 1, 20, 0)
                .op(T_FINISH, S, 1, 0, 0)
                // The second stream and the response overtake the first stream.
                .op(T_DELIVER_STREAM, S, 3, 1, 0)
                .op(T_DELIVER_STREAM, S, 3, 0, 0)
                .op(T_DELIVER_STREAM, S, 0, 0, 0)
                .op(T_DELIVER_STREAM, S, 0, 2, 0)
                .all()
                .op(T_READ, C, 0, 0, 1)
                .op(T_READ, C, 1, 0, 1)
                .0,
        ),
        (
            "buffered_before_accept",
            SeedBuilder::new(tight, tight)
                .all()
                .op(T_CONNECT, 0, 0, 0, 0)
                .op(T_OPEN_UNI, C, 0, 0, 0)
                .op(T_WRITE, C, 0, 30, 0)
                .op(T_OPEN_BI, C, 0, 0, 0)
                .op(T_OPEN_UNI, C, 0, 0, 0)
                .op(T_SEND_DATAGRAM, C, 0, 5, 0)
                .op(T_SEND_DATAGRAM, C, 0, 6, 0)
                .op(T_SEND_DATAGRAM, C, 0, 7, 0)
                .all()
                .op(T_ACCEPT, 0, 0, 0, 0)
                .all()
                .op(T_CONNECT, 0, 0, 0, 0)
                .op(T_CONNECT, 0, 0, 0, 0)
                .all()
                .op(T_REJECT, 1, 0, 0, 0)
                .all()
                .0,
        ),
        (
            "drain_goaway_d07",
            SeedBuilder::new(d07, d07)
                .session()
                .op(T_CONNECT, 1, 0, 0, 0)
                .all()
                .op(T_ACCEPT, 1, 0, 0, 0)
                .op(T_DRAIN, S, 0, 0, 0)
                .op(T_GOAWAY, S, 0, 0, 0)
                .all()
                .op(T_GOAWAY, C, 0, 0, 0)
                .op(T_CONNECT, 0, 0, 0, 0)
                .all()
                .op(T_CLOSE_SESSION, S, 0, 255, 2)
                .all()
                .0,
        ),
        (
            "draft02_protocols",
            SeedBuilder::new(d02, d02)
                .all()
                .op(T_CONNECT, 12, 0, 0, 0)
                .all()
                .op(T_ACCEPT, 0, 5, 0, 0)
                .all()
                .op(T_OPEN_BI, C, 0, 0, 0)
                .op(T_WRITE, C, 0, 10, 0)
                .all()
                .op(T_STOP, S, 0, 3, 0)
                .op(T_RESET, S, 0, 4, 0)
                .all()
                .0,
        ),
        (
            "idle_timeout",
            SeedBuilder::new(idle, idle)
                .session()
                .op(T_ADVANCE, 0, 100, 0, 0)
                .op(T_SEND_DATAGRAM, C, 0, 1, 0)
                .all()
                .op(T_ADVANCE_TO_TIMEOUT, 0, 0, 0, 0)
                .op(T_ADVANCE_TO_TIMEOUT, 0, 0, 0, 0)
                .op(T_ADVANCE_TO_TIMEOUT, 0, 0, 0, 0)
                .all()
                .0,
        ),
        (
            "write_window_and_credit",
            SeedBuilder::new(credit, credit)
                .session()
                .op(T_OPEN_UNI, C, 0, 0, 0)
                .op(T_WINDOW, C, 0, 2, 0)
                .op(T_OPEN_UNI, C, 0, 0, 0)
                .op(T_CREDIT, C, 1, 2, 0)
                .op(T_OPEN_UNI, C, 0, 0, 0)
                .op(T_WRITE, C, 0, 0, 1)
                .op(T_WINDOW, C, 1, 3, 0)
                .op(T_WRITE, C, 1, 0, 1)
                .all()
                .op(T_WRITABLE, C, 0, 4, 0)
                .all()
                .op(T_WRITABLE, C, 0, 255, 0)
                .op(T_FINISH, C, 1, 0, 0)
                .all()
                .0,
        ),
        (
            "resets_and_losses",
            SeedBuilder::with_transport(roomy, roomy, 0x81)
                .session()
                .op(T_SEND_DATAGRAM, C, 0, 100, 0)
                .op(T_DATAGRAM_LIMIT, C, 0, 1, 0)
                .op(T_SEND_DATAGRAM, C, 0, 100, 0)
                .op(T_OPEN_BI, C, 0, 0, 0)
                .op(T_WRITE, C, 0, 0, 2)
                .op(T_RESET, C, 0, 5, 0)
                .op(T_RESET_OVERTAKES, C, 0, 0, 0)
                .op(T_SEND_DATAGRAM, S, 0, 9, 0)
                .op(T_SEND_DATAGRAM, S, 0, 10, 0)
                .op(T_DROP_DATAGRAM, S, 0, 0, 0)
                .op(T_DELIVER_DATAGRAM, S, 0, 0, 0)
                .all()
                .op(T_CLOSE, S, 1, 0, 0)
                .op(T_DELIVER_CLOSE, S, 0, 0, 0)
                .0,
        ),
    ]
}

fn write_seeds(dir: &str) {
    std::fs::create_dir_all(dir).expect("seed directory");
    for (name, bytes) in seeds() {
        let h = run(&bytes).expect("seed decodes");
        eprintln!(
            "seed {name}: {} bytes; client {:?}; server {:?}",
            bytes.len(),
            h.ends[0].counts,
            h.ends[1].counts
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
