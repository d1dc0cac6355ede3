//! Stateful fuzzing of one engine fed arbitrary peer input.
//!
//! Input: one byte for the engine's role (bit 0: 0 client, 1 server), 17 configuration bytes
//! ([`CfgBytes`](common::CfgBytes)), one transport byte
//! ([`transport_params`](common::transport_params)), then steps of 5 bytes (`tag a b c d`, see
//! [`Op`](common::Op)); `Data`, `Datagram`, `Frame` and `Capsule` steps are followed by a 2-byte
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
//!
//! What this target shares with `pair` (the configuration, the application calls, the
//! engine-side checks, the run loop) is in `common/mod.rs`.
#![no_main]

mod common;

use std::collections::HashSet;
use std::time::Instant;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wt_proto::trace::WireDecoder;
use wt_proto::{
    Action, Code, Config, ConnectRequest, ConnectResponse, Connection, Dialect, Dir, Event,
    ProtocolToken, SessionId, Side, StreamId,
};

use common::*;

// ---------------------------------------------------------------------------------------------
// Input

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Setup {
    /// Bit 0: the engine is the client (0) or the server (1).
    role: u8,
    cfg: CfgBytes,
    /// What the transport negotiated ([`transport_params`]).
    transport: u8,
}

// Application calls (`T_CONNECT..=T_STOP` from `common`): the engine's, `b c d` the operands of
// `End::app`, `a` unused.
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

/// The names of the peer input steps, from `T_DATA` on.
const NAMES: [&str; (T_COUNT - T_DATA) as usize] = [
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

/// Peer-initiated stream indices the fuzzer uses (the stream credit the transport grants).
const PEER_STREAMS: u64 = 32;

/// One decoded step.
#[derive(Debug, Clone)]
struct Step {
    op: Op,
    payload: Bytes,
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

// ---------------------------------------------------------------------------------------------
// The harness

/// The peer's half of the transport, kept beside the engine (`End::net`).
#[derive(Default)]
struct Net {
    /// Streams the peer finished or reset: QUIC delivers nothing more on them.
    peer_done: HashSet<StreamId>,
}

struct Harness {
    e: End<Net>,
    clock: Clock,
    wire: WireDecoder,
    /// The engine's actions, kept when recording seeds.
    tap: Option<Vec<Action>>,
}

impl Harness {
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
        (!self.e.net.peer_done.contains(&id) && !self.e.recv_stopped.contains(&id)).then_some(id)
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
            e.check_action(&action);
            match &action {
                Action::Write { stream, data, fin } => {
                    if !data.is_empty() || *fin {
                        self.wire.write(side, *stream, data, *fin);
                    }
                    if *fin {
                        e.send_done.insert(*stream);
                    }
                }
                Action::SendDatagram { data } => {
                    self.wire.datagram(side, data);
                }
                Action::OpenStream { .. }
                | Action::ResetStream { .. }
                | Action::StopSending { .. }
                | Action::CloseConnection { .. } => {}
                other => trace!("{side}: action not checked: {other:?}"),
            }
            if let Some(tap) = self.tap.as_mut() {
                tap.push(action);
            }
        }
    }

    fn advance(&mut self, to: Instant) {
        let now = self.clock.advance(to);
        self.e.timeout(now);
    }

    /// Peer bytes on a stream (a `Data`, `Frame`, `Capsule` or `StreamHeader` step), within
    /// what QUIC delivers.
    fn peer_data(&mut self, op: Op, payload: &Bytes) {
        let tag = op.tag;
        let Some(id) = self.peer_sendable(op.a, op.b) else {
            return;
        };
        let budget = self.e.conn.recv_budget(id);
        let (mut data, mut fin) = if tag == T_DATA {
            (payload.clone(), op.c & 1 == 1)
        } else {
            let bytes = framed(op, payload, id.dir());
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
            self.wire.write(self.side().peer(), id, &data, fin);
            if fin {
                self.e.net.peer_done.insert(id);
            }
            self.e.conn.handle_stream_data(id, data, fin);
        }
    }
}

impl Target for Harness {
    type Setup = Setup;
    type Step = Step;

    fn new(setup: &Setup) -> Self {
        let clock = Clock::new();
        Self {
            e: End::new(side_of(setup.role), &setup.cfg, setup.transport, clock.now),
            clock,
            wire: WireDecoder::new(),
            tap: None,
        }
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

    fn execute(&mut self, step: &Step) {
        let op = step.op;
        trace!("== {} payload={}", op.describe(&NAMES), step.payload.len());
        let open = !self.e.conn.is_closed();
        match op.tag {
            T_CONNECT..=T_STOP => self.e.app(op),
            T_DATA | T_FRAME | T_CAPSULE | T_STREAM_HEADER => {
                if open {
                    self.peer_data(op, &step.payload);
                }
            }
            T_PEER_RESET => {
                if let Some(id) = self.peer_sendable(op.a, op.b)
                    && open
                {
                    let code = peer_code(op.c, op.d);
                    trace!("peer -> {} RESET_STREAM {id} {code:#x}", self.side());
                    self.e.net.peer_done.insert(id);
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
            T_ADVANCE => self.advance(self.clock.after_ms(op.b, op.c)),
            T_ADVANCE_TO_TIMEOUT => {
                if let Some(t) = self.e.conn.poll_timeout() {
                    self.advance(t);
                }
            }
            T_TRANSPORT_CLOSE => self.e.transport_closed(),
            T_DATAGRAM_LIMIT => self.e.datagram_limit_changed(u16_of(op.b, op.c) % 2048),
            T_CREDIT => self.e.grant_credit(op.b, op.c),
            _ => {}
        }
    }

    fn drain(&mut self) {
        self.pump();
        self.e.drain_events();
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

    /// The application closes the connection; the engine must then hold nothing.
    fn finish(&mut self) {
        self.e.conn.close(Code::H3_NO_ERROR, "done");
        self.settle_and_check();
        if !self.e.conn.is_closed() {
            fail(
                "closed",
                format!("{} not closed after close()", self.side()),
            );
        }
    }

    fn summary(&self) -> String {
        format!("{} {:?}", self.e.side, self.e.counts)
    }

    fn seeds() -> Vec<(&'static str, Vec<u8>)> {
        seeds()
    }
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
        h.drain();
        let peer = Connection::new(role.peer(), peer_cfg, h.clock.epoch);
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

    /// The real peer opens a uni stream with `uni` and FIN on it and a bidi stream with `bi` in
    /// `session`, and sends `datagram` in it; the engine takes it all.
    fn peer_streams(&mut self, session: SessionId, uni: &[u8], bi: &[u8], datagram: &[u8]) {
        let uni_id = self.peer.open_uni(session).expect("uni");
        let bi_id = self.peer.open_bi(session).expect("bi");
        let _ = self.peer.write(uni_id, Bytes::copy_from_slice(uni));
        let _ = self.peer.finish(uni_id);
        let _ = self.peer.write(bi_id, Bytes::copy_from_slice(bi));
        let _ = self
            .peer
            .send_datagram(session, Bytes::copy_from_slice(datagram));
        self.flush();
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
    r.peer_streams(session, b"hello uni", b"hello bidi", b"ping");
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
    r.peer_streams(session, b"from the server", b"bidi", b"pong");
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
    let (tight, d02, d07) = (CfgBytes::TIGHT, CfgBytes::DRAFT02, CfgBytes::DRAFT07);
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

fuzz_target!(
    init: write_seeds_if_asked::<Harness>(),
    |data: &[u8]| {
        run::<Harness>(data);
    }
);
