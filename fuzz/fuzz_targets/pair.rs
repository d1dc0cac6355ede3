//! Stateful fuzzing of a client and a server engine joined by a fuzzed in-memory QUIC transport.
//!
//! Input: 36 setup bytes (17 configuration bytes per engine, client first, see
//! [`CfgBytes`](common::CfgBytes); then one transport byte per engine, see
//! [`transport_params`](common::transport_params)), then steps of 5 bytes each (`tag a b c d`,
//! see [`Op`](common::Op)). A step is an application call on either side (ids picked from the
//! ones that exist, `sel % len`), or a transport event: deliver part of one stream's pending
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
//!
//! What this target shares with `peer_input` (the configuration, the application calls, the
//! engine-side checks, the run loop) is in `common/mod.rs`.
#![no_main]

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::Instant;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wt_proto::trace::WireDecoder;
use wt_proto::{Action, Code, LiveEntries, SessionId, Side, StreamId};

use common::*;

// ---------------------------------------------------------------------------------------------
// Input

#[derive(Arbitrary, Debug, Clone, Copy)]
struct Setup {
    client: CfgBytes,
    server: CfgBytes,
    /// What each side's transport negotiated ([`transport_params`]).
    client_transport: u8,
    server_transport: u8,
}

// Application calls (`T_CONNECT..=T_STOP` from `common`): `a & 1` chooses the side (0 client,
// 1 server) and `b c d` are the operands of `End::app`, except Connect (the client's, variant a)
// and Accept and Reject (the server's, sel a, variant b).
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

/// The names of the transport events, from `T_DELIVER_STREAM` on.
const NAMES: [&str; (T_COUNT - T_DELIVER_STREAM) as usize] = [
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

/// Removes and returns `list[sel % len]`, if there is any.
fn take<T>(list: &mut Vec<T>, sel: usize) -> Option<T> {
    (!list.is_empty()).then(|| list.remove(sel % list.len()))
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

/// One side's half of the transport, kept beside its engine (`End::net`).
#[derive(Default)]
struct Net {
    /// Transport send window per stream (absent: unlimited).
    window: HashMap<StreamId, usize>,
    blocked: BTreeSet<StreamId>,
    /// Streams this side wrote on recently (for window steps).
    written: Vec<StreamId>,
    out: Flight,
}

struct Harness {
    ends: [End<Net>; 2],
    clock: Clock,
    wire: WireDecoder,
}

fn ix(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

impl Harness {
    fn end(&mut self, side: Side) -> &mut End<Net> {
        &mut self.ends[ix(side)]
    }

    /// The ids of the streams `side` has bytes or signals in flight on.
    fn pending(&mut self, side: Side) -> Vec<StreamId> {
        self.end(side).net.out.streams.keys().copied().collect()
    }

    /// (`from`, the other side, the wire decoder).
    fn split(&mut self, from: Side) -> (&mut End<Net>, &mut End<Net>, &mut WireDecoder) {
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
            me.check_action(&action);
            let out = &mut me.net.out;
            match action {
                Action::OpenStream { .. } => {}
                Action::Write {
                    stream,
                    mut data,
                    fin,
                } => {
                    let mut fin_now = fin;
                    if let Some(w) = me.net.window.get_mut(&stream)
                        && data.len() > *w
                    {
                        let rest = data.split_off(*w);
                        *w = 0;
                        trace!(
                            "{side}: transport hands back {} bytes of {stream}",
                            rest.len()
                        );
                        me.conn.handle_write_blocked(stream, rest, fin);
                        me.net.blocked.insert(stream);
                        fin_now = false;
                    } else if let Some(w) = me.net.window.get_mut(&stream) {
                        *w -= data.len();
                    }
                    push_bounded(&mut me.net.written, stream, 32);
                    if data.is_empty() && !fin_now {
                        continue;
                    }
                    wire.write(side, stream, &data, fin_now);
                    if fin_now {
                        me.send_done.insert(stream);
                    }
                    if !peer.recv_stopped.contains(&stream) {
                        let st = out.streams.entry(stream).or_default();
                        if !data.is_empty() {
                            st.data.push_back(data);
                        }
                        st.fin |= fin_now;
                    }
                }
                Action::ResetStream { stream, code, .. } => {
                    if !peer.recv_stopped.contains(&stream) {
                        out.streams.entry(stream).or_default().reset = Some(code.0);
                    }
                }
                Action::StopSending { stream, code } => {
                    peer.net.out.streams.remove(&stream);
                    out.stops.push((stream, code.0));
                }
                Action::SendDatagram { data } => {
                    wire.datagram(side, &data);
                    out.datagrams.push(data);
                    if out.datagrams.len() > 64 {
                        // The network's buffer is finite too.
                        out.datagrams.remove(0);
                    }
                }
                Action::CloseConnection { code, reason } => {
                    out.close = Some((code, reason));
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
        let out = &mut src.net.out;
        if dst.conn.is_closed() {
            return out.streams.remove(&id).is_some();
        }
        let Some(st) = out.streams.get_mut(&id) else {
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
                out.streams.remove(&id);
            }
            trace!(
                "deliver {from} -> {} stream {id}: {n} bytes fin={fin}",
                dst.side
            );
            dst.conn.handle_stream_data(id, piece, fin);
            return true;
        }
        let st = out.streams.remove(&id).unwrap_or_default();
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
        let out = &mut src.net.out;
        if out.streams.get(&id).is_some_and(|s| s.reset.is_some()) {
            let st = out.streams.remove(&id).unwrap_or_default();
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
        let Some((id, code)) = take(&mut src.net.out.stops, sel) else {
            return false;
        };
        if !dst.conn.is_closed() {
            trace!("deliver {from} -> {} STOP_SENDING {id} {code:#x}", dst.side);
            dst.conn.handle_stop_sending(id, code);
        }
        true
    }

    fn deliver_datagram(&mut self, from: Side, sel: usize) -> bool {
        let (src, dst, _) = self.split(from);
        let Some(data) = take(&mut src.net.out.datagrams, sel) else {
            return false;
        };
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
        let Some((code, reason)) = src.net.out.close.take() else {
            return false;
        };
        src.net.out.clear_all();
        dst.net.out.clear_all();
        if !dst.conn.is_closed() {
            trace!("deliver {from} -> {} CONNECTION_CLOSE {code}", dst.side);
            dst.conn.handle_connection_closed(code, &reason);
        }
        true
    }

    fn transport_close(&mut self) {
        for e in &mut self.ends {
            e.net.out.clear_all();
            e.net.out.close = None;
            e.transport_closed();
        }
    }

    /// Delivers everything that can be delivered, until nothing moves.
    fn deliver_all(&mut self) {
        for _ in 0..500 {
            let mut moved = self.settle_queues();
            for from in [Side::Client, Side::Server] {
                for id in self.pending(from) {
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
        let now = self.clock.advance(to);
        for e in &mut self.ends {
            e.timeout(now);
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

    /// Closes every session not known to be over (a server rejects what it cannot close).
    fn close_sessions(&mut self) {
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
    }

    /// After every session closed and everything was delivered and read, neither engine holds
    /// anything but its critical streams and the out-of-order stream ids it remembers.
    fn check_quiescent(&self) {
        for e in &self.ends {
            let l = e.conn.live_entries();
            let left = LiveEntries {
                critical_streams: 0,
                out_of_order_streams: 0,
                ..l
            };
            // Named by what leaked, so that one known leak can be skipped alone.
            for (field, n) in live_fields(&left) {
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

impl Target for Harness {
    type Setup = Setup;
    type Step = Op;

    fn new(setup: &Setup) -> Self {
        let clock = Clock::new();
        Self {
            ends: [
                End::new(
                    Side::Client,
                    &setup.client,
                    setup.client_transport,
                    clock.now,
                ),
                End::new(
                    Side::Server,
                    &setup.server,
                    setup.server_transport,
                    clock.now,
                ),
            ],
            clock,
            wire: WireDecoder::new(),
        }
    }

    fn read_step(u: &mut Unstructured<'_>) -> Option<Op> {
        Op::arbitrary(u).ok()
    }

    fn execute(&mut self, op: &Op) {
        let op = Op {
            tag: op.tag % T_COUNT,
            ..*op
        };
        trace!("== {}", op.describe(&NAMES));
        let side = side_of(op.a);
        match op.tag {
            T_CONNECT => self.end(Side::Client).app(Op { b: op.a, ..op }),
            T_ACCEPT | T_REJECT => self.end(Side::Server).app(Op {
                b: op.a,
                c: op.b,
                ..op
            }),
            T_CLOSE_SESSION..=T_STOP => self.end(side).app(op),
            T_DELIVER_STREAM => {
                if let Some(id) = pick(&self.pending(side), op.b) {
                    let len = match u16_of(op.c, op.d) {
                        0 => usize::MAX,
                        n => n,
                    };
                    self.deliver_stream(side, id, len);
                }
            }
            T_RESET_OVERTAKES => {
                if let Some(id) = pick(&self.pending(side), op.b) {
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
                take(&mut self.end(side).net.out.datagrams, usize::from(op.b));
            }
            T_DELIVER_CLOSE => {
                self.deliver_close(side);
            }
            T_DELIVER_ALL => self.deliver_all(),
            T_ADVANCE => self.advance(self.clock.after_ms(op.b, op.c)),
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
            T_CREDIT => self.end(side).grant_credit(op.b, op.c),
            T_WINDOW => {
                let e = self.end(side);
                if let Some(id) = pick(&e.net.written, op.b) {
                    e.net.window.insert(id, usize::from(op.c) * 4);
                }
            }
            T_WRITABLE => {
                let e = self.end(side);
                let net = &mut e.net;
                let blocked: Vec<StreamId> = net.blocked.iter().copied().collect();
                let id = pick(&blocked, op.b).or_else(|| pick(&net.written, op.b));
                if let Some(id) = id {
                    if op.c == 255 {
                        net.window.remove(&id);
                    } else if let Some(w) = net.window.get_mut(&id) {
                        *w += usize::from(op.c) * 16;
                    }
                    net.blocked.remove(&id);
                    if !e.conn.is_closed() {
                        trace!("{side}: stream {id} writable");
                        e.conn.handle_stream_writable(id);
                    }
                }
            }
            _ => {}
        }
    }

    fn drain(&mut self) {
        self.settle_queues();
    }

    fn check(&self) {
        for e in &self.ends {
            e.check_bounds();
            e.check_closed_empty();
        }
        if !self.wire.errors().is_empty() {
            fail("wire", format!("{:?}", self.wire.errors()));
        }
    }

    /// Unblocks everything, delivers everything, closes every session, checks for leftovers,
    /// closes the connection and checks that both engines are empty.
    fn finish(&mut self) {
        for e in &mut self.ends {
            e.net.window.clear();
            let blocked = std::mem::take(&mut e.net.blocked);
            if !e.conn.is_closed() {
                for id in blocked {
                    e.conn.handle_stream_writable(id);
                }
            }
        }
        self.settle();
        let open = |h: &Self| h.ends.iter().all(|e| !e.conn.is_closed());
        if open(self) {
            self.close_sessions();
            self.settle();
            self.check();
            if open(self) {
                self.check_quiescent();
            }
        }
        // Close the connection from the client (a no-op if it is closed already).
        self.end(Side::Client).conn.close(Code::H3_NO_ERROR, "done");
        self.deliver_all();
        self.transport_close();
        self.settle_and_check();
        for e in &self.ends {
            if !e.conn.is_closed() {
                fail("closed", format!("{} not closed at the end", e.side));
            }
        }
    }

    fn summary(&self) -> String {
        format!(
            "client {:?}; server {:?}",
            self.ends[0].counts, self.ends[1].counts
        )
    }

    fn seeds() -> Vec<(&'static str, Vec<u8>)> {
        seeds()
    }
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
    let (tight, d02, d07) = (CfgBytes::TIGHT, CfgBytes::DRAFT02, CfgBytes::DRAFT07);
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

fuzz_target!(
    init: write_seeds_if_asked::<Harness>(),
    |data: &[u8]| {
        run::<Harness>(data);
    }
);
