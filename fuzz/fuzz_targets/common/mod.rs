//! What the stateful fuzz targets `pair` and `peer_input` share (each includes it with
//! `mod common;`): the configuration bytes of one engine ([`CfgBytes`]) and of its transport
//! ([`transport_params`]), the 5-byte step ([`Op`]) and the application calls
//! (`T_CONNECT..=T_STOP`, the same tags in both targets), invariant reporting ([`fail`],
//! `WT_FUZZ_SKIP`; [`trace!`], `WT_FUZZ_TRACE`), one engine and what its application knows
//! ([`End`]: the application calls, the event rules, the `live_entries()` bounds, the closed
//! engine, the QUIC checks on its actions), the virtual clock ([`Clock`]), and the run loop
//! ([`run`]) with the seed writer ([`write_seeds_if_asked`], `WT_FUZZ_WRITE_SEEDS`) over a
//! target's harness ([`Target`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::{Debug, Display};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use wt_proto::{
    Action, Code, Config, ConnectRequest, ConnectResponse, Connection, Dialect, Dir, Event,
    LiveEntries, ProtocolToken, SessionId, Side, StreamId, TransportParams,
};

// ---------------------------------------------------------------------------------------------
// Invariant reporting

/// Whether `WT_FUZZ_TRACE` is set (read once).
pub fn tracing_on() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("WT_FUZZ_TRACE").is_some())
}

/// Whether invariant `name` is listed in `WT_FUZZ_SKIP` (comma-separated, read once).
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

/// Invariant `name` is broken: panics with `invariant violated: NAME: detail`, unless skipped.
pub fn fail(name: &str, detail: String) {
    if !skipped(name) {
        panic!("invariant violated: {name}: {detail}");
    }
}

/// `eprintln!` when `WT_FUZZ_TRACE` is set.
macro_rules! trace {
    ($($t:tt)*) => {
        if $crate::common::tracing_on() {
            eprintln!($($t)*);
        }
    };
}
pub(crate) use trace;

// ---------------------------------------------------------------------------------------------
// Input

/// The configuration of one engine, one byte per field.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct CfgBytes {
    /// Bit 0..3: draft-02, -07, -13, -15 (0: all four).
    pub dialects: u8,
    /// Bit 0: WebTransport off, 1: uni streams off, 2: bidi streams off, 3: datagrams off,
    /// 4: handle_requests, 5: GREASE off, 6: idle timeout on.
    pub flags: u8,
    pub max_sessions: u8,
    pub max_buffered_streams: u8,
    pub max_buffered_stream_bytes: u8,
    pub max_buffered_datagrams: u8,
    pub max_queued_datagrams: u8,
    pub max_held_requests: u8,
    pub max_held_request_bytes: u8,
    pub max_field_section_size: u8,
    pub max_datagram_capsule: u8,
    pub stream_send_buffer: u8,
    pub stream_recv_buffer: u8,
    pub max_connect_stream_buffer: u8,
    pub idle_timeout: u8,
    /// Initial bidi / uni stream credit beyond what is open (0xff: unlimited).
    pub credit_bi: u8,
    pub credit_uni: u8,
}

impl CfgBytes {
    /// Generous limits (used by the seeds).
    pub const ROOMY: CfgBytes = CfgBytes {
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

    /// Small buffers and few sessions (used by the seeds).
    pub const TIGHT: CfgBytes = CfgBytes {
        max_sessions: 2,
        max_buffered_streams: 2,
        max_buffered_stream_bytes: 8,
        max_buffered_datagrams: 2,
        max_queued_datagrams: 2,
        stream_send_buffer: 16,
        stream_recv_buffer: 16,
        max_connect_stream_buffer: 8,
        ..Self::ROOMY
    };

    /// [`Self::ROOMY`] speaking draft-02 only (used by the seeds).
    pub const DRAFT02: CfgBytes = CfgBytes {
        dialects: 1,
        ..Self::ROOMY
    };

    /// [`Self::ROOMY`] speaking draft-07 only (used by the seeds).
    pub const DRAFT07: CfgBytes = CfgBytes {
        dialects: 2,
        ..Self::ROOMY
    };

    /// The 17 bytes that decode to `self`.
    pub fn to_bytes(self) -> [u8; 17] {
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

/// What the transport negotiated: 0xff never reported, 0xfe no DATAGRAM extension, else a
/// DATAGRAM limit of 16..2048 bytes and (bit 7) RESET_STREAM_AT.
pub fn transport_params(t: u8) -> Option<TransportParams> {
    match t {
        0xff => None,
        0xfe => Some(TransportParams::new(None, false)),
        t => Some(TransportParams::new(
            Some(16 + usize::from(t & 0x7f) * 16),
            t & 0x80 != 0,
        )),
    }
}

/// One step: `tag % T_COUNT` says what, `a b c d` its operands.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct Op {
    pub tag: u8,
    pub a: u8,
    pub b: u8,
    pub c: u8,
    pub d: u8,
}

impl Op {
    /// `Name a=.. b=.. c=.. d=..`, for the trace; `more` names the target's tags after `T_STOP`.
    pub fn describe(&self, more: &[&str]) -> String {
        let i = usize::from(self.tag);
        let name = APP_NAMES
            .get(i)
            .unwrap_or_else(|| &more[i - APP_NAMES.len()]);
        let Op { a, b, c, d, .. } = self;
        format!("{name} a={a} b={b} c={c} d={d}")
    }
}

// Application calls, the operands as `End::app` takes them (`b` selects the session or stream;
// each target says which step bytes become these).
pub const T_CONNECT: u8 = 0; // variant b
pub const T_ACCEPT: u8 = 1; // sel b, variant c
pub const T_REJECT: u8 = 2; // sel b, variant c
pub const T_CLOSE_SESSION: u8 = 3; // sel b, code c, reason d
pub const T_DRAIN: u8 = 4; // sel b
pub const T_GOAWAY: u8 = 5;
pub const T_CLOSE: u8 = 6; // code b c
pub const T_SEND_DATAGRAM: u8 = 7; // sel b, len c
pub const T_OPEN_UNI: u8 = 8; // sel b
pub const T_OPEN_BI: u8 = 9; // sel b
pub const T_WRITE: u8 = 10; // sel b, len c|d<<8
pub const T_FINISH: u8 = 11; // sel b
pub const T_READ: u8 = 12; // sel b, max c|d<<8
pub const T_RESET: u8 = 13; // sel b, code c
pub const T_STOP: u8 = 14; // sel b, code c

/// The names of the application calls, by tag.
const APP_NAMES: [&str; T_STOP as usize + 1] = [
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
];

/// Steps a run takes at most.
const MAX_STEPS: usize = 400;

/// The side bit 0 of `v` names: 0 the client, 1 the server.
pub fn side_of(v: u8) -> Side {
    if v & 1 == 0 {
        Side::Client
    } else {
        Side::Server
    }
}

/// The index of `dir` in `[bidi, uni]` arrays.
fn di(dir: Dir) -> usize {
    match dir {
        Dir::Bi => 0,
        Dir::Uni => 1,
    }
}

/// `list[sel % len]`, if there is any.
pub fn pick<T: Copy>(list: &[T], sel: u8) -> Option<T> {
    if list.is_empty() {
        None
    } else {
        list.get(usize::from(sel) % list.len()).copied()
    }
}

/// `lo | hi << 8`.
pub fn u16_of(lo: u8, hi: u8) -> usize {
    usize::from(lo) | usize::from(hi) << 8
}

/// Appends `item` if it is not in `list`, dropping the oldest entry beyond `max`.
pub fn push_bounded<T: PartialEq>(list: &mut Vec<T>, item: T, max: usize) {
    if !list.contains(&item) {
        list.push(item);
        if list.len() > max {
            list.remove(0);
        }
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

/// `live_entries()` named by field, so that one known leftover can be skipped alone.
pub fn live_fields(l: &LiveEntries) -> [(&'static str, usize); 9] {
    [
        ("sessions", l.sessions),
        ("send_streams", l.send_streams),
        ("recv_streams", l.recv_streams),
        ("critical_streams", l.critical_streams),
        ("buffered_streams", l.buffered_streams),
        ("buffered_datagrams", l.buffered_datagrams),
        ("out_of_order_streams", l.out_of_order_streams),
        ("actions", l.actions),
        ("events", l.events),
    ]
}

// ---------------------------------------------------------------------------------------------
// The engine and what its application knows

/// One engine and what its application knows; `net` is what a target keeps beside it (its half
/// of the transport).
pub struct End<N> {
    pub side: Side,
    pub conn: Connection,
    cfg: Config,
    credit: [Option<u64>; 2],
    pub opened: [u64; 2],
    /// Sessions not known to be over, in order of appearance (at most 16).
    sessions: Vec<SessionId>,
    pub all_sessions: BTreeSet<SessionId>,
    pub ended: HashSet<SessionId>,
    /// Streams of live sessions, in order of appearance (at most 32).
    streams: Vec<StreamId>,
    pub all_streams: BTreeSet<StreamId>,
    stream_session: HashMap<StreamId, SessionId>,
    opened_events: HashSet<StreamId>,
    conn_closed_event: bool,
    /// Streams whose send side ended (FIN taken or reset): no write may follow.
    pub send_done: HashSet<StreamId>,
    /// Streams this side sent STOP_SENDING for: the transport delivers nothing more on them.
    pub recv_stopped: HashSet<StreamId>,
    /// The DATAGRAM size limit the transport reported (`None`: not reported, or no limit).
    datagram_limit: Option<usize>,
    reset_stream_at: bool,
    pub counts: BTreeMap<&'static str, u32>,
    pub net: N,
}

impl<N: Default> End<N> {
    pub fn new(side: Side, bytes: &CfgBytes, transport: u8, now: Instant) -> Self {
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
            net: N::default(),
        };
        // The transport reports what the handshake negotiated once connected.
        if let Some(params) = transport_params(transport) {
            end.datagram_limit = params.max_datagram_size;
            end.reset_stream_at = params.reset_stream_at;
            end.conn.handle_transport_params(params);
        }
        end
    }
}

impl<N> End<N> {
    /// The transport's DATAGRAM limit changed (path MTU): reported again, if it was known.
    pub fn datagram_limit_changed(&mut self, size: usize) {
        if self.datagram_limit.is_some() && !self.conn.is_closed() {
            trace!("{}: DATAGRAM limit {size}", self.side);
            self.datagram_limit = Some(size);
            self.conn
                .handle_transport_params(TransportParams::new(Some(size), self.reset_stream_at));
        }
    }

    /// The peer grants stream credit (MAX_STREAMS) for direction `dir & 1` (0 bidi), up to `n % 8`
    /// beyond what is open, where the credit is limited at all.
    pub fn grant_credit(&mut self, dir: u8, n: u8) {
        let dir = if dir & 1 == 0 { Dir::Bi } else { Dir::Uni };
        let d = di(dir);
        if let Some(cur) = self.credit[d]
            && !self.conn.is_closed()
        {
            let max = cur.max(self.opened[d] + u64::from(n % 8));
            self.credit[d] = Some(max);
            trace!("{}: MAX_STREAMS {dir:?} {max}", self.side);
            self.conn.handle_max_streams(dir, max);
        }
    }

    /// The clock moved to `now`.
    pub fn timeout(&mut self, now: Instant) {
        if !self.conn.is_closed() {
            self.conn.handle_timeout(now);
        }
    }

    /// The connection is gone (the transport closed it).
    pub fn transport_closed(&mut self) {
        if !self.conn.is_closed() {
            trace!("{}: transport closed", self.side);
            self.conn
                .handle_connection_closed(Code::H3_NO_ERROR, "transport gone");
        }
    }

    fn add_session(&mut self, id: SessionId) {
        self.all_sessions.insert(id);
        push_bounded(&mut self.sessions, id, 16);
    }

    fn add_stream(&mut self, id: StreamId, session: SessionId) {
        self.all_streams.insert(id);
        self.stream_session.insert(id, session);
        push_bounded(&mut self.streams, id, 32);
    }

    pub fn session_over(&mut self, id: SessionId) {
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

    /// An application call (`op.tag` in `T_CONNECT..=T_STOP`; `op.a` is not used).
    pub fn app(&mut self, op: Op) {
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
                said(side, "accept", id, &self.conn.accept(id, resp));
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
                said(side, "reject", id, &r);
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
                said(side, "close_session", id, &r);
            }
            T_DRAIN => {
                let id = self.session(b);
                said(side, "drain_session", id, &self.conn.drain_session(id));
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
                said(side, "send_datagram", id, &r);
            }
            T_OPEN_UNI | T_OPEN_BI => {
                let id = self.session(b);
                let r = if tag == T_OPEN_UNI {
                    self.conn.open_uni(id)
                } else {
                    self.conn.open_bi(id)
                };
                trace!("{side}: open {} {id} -> {r:?}", APP_NAMES[usize::from(tag)]);
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
                said(side, "finish", id, &self.conn.finish(id));
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
                said(side, "reset", id, &self.conn.reset(id, app_code(c)));
            }
            T_STOP => {
                let id = self.stream(b);
                said(side, "stop", id, &self.conn.stop(id, app_code(c)));
            }
            _ => {}
        }
    }

    /// Polls every event, checking the event invariants.
    pub fn drain_events(&mut self) {
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
            if let Some(name) = counted(&ev) {
                *self.counts.entry(name).or_default() += 1;
            }
            match ev {
                Event::SessionRequest { session, .. }
                | Event::SessionEstablished { session, .. } => self.add_session(session),
                Event::SessionRejected { session, .. } | Event::SessionClosed { session, .. } => {
                    self.session_over(session)
                }
                Event::StreamOpened {
                    session, stream, ..
                } => {
                    if !self.opened_events.insert(stream) {
                        fail("event-stream-opened-twice", format!("{side}: {stream}"));
                    }
                    self.add_stream(stream, session);
                }
                Event::Datagram { .. } => datagrams += 1,
                Event::ConnectionClosed { .. } => self.conn_closed_event = true,
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
    pub fn check_bounds(&self) {
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
    pub fn check_closed_empty(&self) {
        if self.conn.is_closed() {
            let l = self.conn.live_entries();
            for (field, n) in live_fields(&l) {
                if n > 0 {
                    fail(
                        &format!("closed-not-empty-{field}"),
                        format!("{}: {l:?}", self.side),
                    );
                }
            }
        }
    }

    /// Traces one of the engine's actions and checks it the way a QUIC stack takes it
    /// (`quic-*`), noting what it does to this side's streams: streams opened, send sides
    /// ended by a reset, receive sides stopped. A write's FIN is the caller's to note
    /// (`send_done`), once it is through.
    pub fn check_action(&mut self, action: &Action) {
        let side = self.side;
        trace!("{side} action: {}", describe_action(action));
        match action {
            Action::OpenStream { stream } => {
                let d = di(stream.dir());
                if stream.initiator() != side || stream.index() != self.opened[d] {
                    fail(
                        "quic-open-order",
                        format!("{side}: opened {stream}, expected index {}", self.opened[d]),
                    );
                }
                if self.credit[d].is_some_and(|c| stream.index() >= c) {
                    fail(
                        "quic-open-credit",
                        format!("{side}: opened {stream} beyond credit {:?}", self.credit[d]),
                    );
                }
                self.opened[d] = self.opened[d].max(stream.index() + 1);
            }
            Action::Write { stream, .. } => {
                self.check_local_send(*stream, "write");
                if self.send_done.contains(stream) {
                    let name = if self.all_sessions.contains(&SessionId(*stream)) {
                        "quic-write-after-end-connect"
                    } else {
                        "quic-write-after-end"
                    };
                    fail(
                        name,
                        format!("{side}: write on {stream} after its FIN or reset"),
                    );
                }
            }
            Action::ResetStream { stream, .. } => {
                self.check_local_send(*stream, "reset");
                self.send_done.insert(*stream);
            }
            Action::StopSending { stream, .. } => {
                if stream.initiator() == side && stream.dir() == Dir::Uni {
                    fail(
                        "quic-stop-own-uni",
                        format!("{side}: STOP_SENDING on its own uni stream {stream}"),
                    );
                }
                self.recv_stopped.insert(*stream);
            }
            Action::SendDatagram { data } => {
                if self.datagram_limit.is_some_and(|max| data.len() > max) {
                    fail(
                        "quic-datagram-too-large",
                        format!(
                            "{side}: DATAGRAM of {} bytes over the reported limit {:?}",
                            data.len(),
                            self.datagram_limit
                        ),
                    );
                }
            }
            _ => {}
        }
    }

    /// Writes and resets only on streams that exist and that this side may send on.
    fn check_local_send(&self, stream: StreamId, what: &str) {
        let side = self.side;
        if stream.initiator() == side {
            if stream.index() >= self.opened[di(stream.dir())] {
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
}

/// The name `End::counts` counts an event under (`None`: not counted).
fn counted(ev: &Event) -> Option<&'static str> {
    Some(match ev {
        Event::SessionRequest { .. } => "SessionRequest",
        Event::SessionEstablished { .. } => "SessionEstablished",
        Event::SessionRejected { .. } => "SessionRejected",
        Event::SessionClosed { .. } => "SessionClosed",
        Event::StreamOpened { .. } => "StreamOpened",
        Event::Datagram { .. } => "Datagram",
        Event::ConnectionClosed { .. } => "ConnectionClosed",
        Event::StreamReadable { .. } => "StreamReadable",
        Event::StreamReset { .. } => "StreamReset",
        Event::StreamStopped { .. } => "StreamStopped",
        Event::SessionDraining { .. } => "SessionDraining",
        Event::GoAway { .. } => "GoAway",
        _ => return None,
    })
}

/// Traces what application call `call` on `id` returned (`SIDE: CALL ID -> RESULT`).
fn said(side: Side, call: &str, id: impl Display, r: &impl Debug) {
    trace!("{side}: {call} {id} -> {r:?}");
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

// ---------------------------------------------------------------------------------------------
// The clock and the run

/// The virtual clock of a run.
pub struct Clock {
    pub epoch: Instant,
    pub now: Instant,
}

impl Clock {
    pub fn new() -> Self {
        let epoch = Instant::now();
        Self { epoch, now: epoch }
    }

    /// `lo | hi << 8` milliseconds from now (an `Advance` step).
    pub fn after_ms(&self, lo: u8, hi: u8) -> Instant {
        self.now
            .checked_add(Duration::from_millis(u16_of(lo, hi) as u64))
            .unwrap_or(self.now)
    }

    /// Moves to `to` (never back) and returns the new time.
    pub fn advance(&mut self, to: Instant) -> Instant {
        self.now = to.max(self.now);
        let ms = self.now.saturating_duration_since(self.epoch).as_millis();
        trace!("-- time +{ms}ms");
        self.now
    }
}

/// A target's harness, as [`run`] drives it.
pub trait Target: Sized {
    /// The setup bytes at the start of the input.
    type Setup: for<'a> Arbitrary<'a> + Debug;
    /// One step.
    type Step;
    fn new(setup: &Self::Setup) -> Self;
    /// The next step of the input (`None`: the input ends).
    fn read_step(u: &mut Unstructured<'_>) -> Option<Self::Step>;
    /// Executes one step, leaving what the engines queue.
    fn execute(&mut self, step: &Self::Step);
    /// Takes the engines' queued actions (into the transport) and events.
    fn drain(&mut self);
    /// The invariants that hold after every step.
    fn check(&self);
    /// The end of every run.
    fn finish(&mut self);
    /// What a run did, for the seed log.
    fn summary(&self) -> String;
    /// The seed corpus: (name, input).
    fn seeds() -> Vec<(&'static str, Vec<u8>)>;

    /// One step: executes it, then drains and checks.
    fn step(&mut self, step: &Self::Step) {
        self.execute(step);
        self.settle_and_check();
    }

    /// Drains the queues and checks the invariants (after the setup and after every step).
    fn settle_and_check(&mut self) {
        self.drain();
        self.check();
    }
}

/// One run: the setup, at most `MAX_STEPS` steps, the end (`None`: no complete setup).
pub fn run<H: Target>(data: &[u8]) -> Option<H> {
    let mut u = Unstructured::new(data);
    let setup = H::Setup::arbitrary(&mut u).ok()?;
    trace!("setup: {setup:?}");
    let mut h = H::new(&setup);
    h.settle_and_check();
    let mut steps = 0;
    while !u.is_empty() && steps < MAX_STEPS {
        let Some(step) = H::read_step(&mut u) else {
            break;
        };
        h.step(&step);
        steps += 1;
    }
    trace!("== finish");
    h.finish();
    Some(h)
}

/// With `WT_FUZZ_WRITE_SEEDS=dir`: runs every seed, writes it to `dir/seed-NAME` and exits.
pub fn write_seeds_if_asked<H: Target>() {
    let Ok(dir) = std::env::var("WT_FUZZ_WRITE_SEEDS") else {
        return;
    };
    std::fs::create_dir_all(&dir).expect("seed directory");
    for (name, bytes) in H::seeds() {
        let h = run::<H>(&bytes).expect("seed decodes");
        eprintln!("seed {name}: {} bytes; {}", bytes.len(), h.summary());
        std::fs::write(format!("{dir}/seed-{name}"), &bytes).expect("write seed");
    }
    std::process::exit(0);
}
