//! The sans-IO pairing of a `quinn_proto::Connection` with a `wt_proto::Connection`.
//!
//! [`Translator`] holds the little state the translation needs (stream credit, datagrams pending)
//! and moves things both ways: quinn events and stream data into the engine's `handle_*` calls,
//! and the engine's [`Action`]s into quinn calls. It holds no protocol logic.
//! [`Http3Connection`] owns both connections and a translator, for custom event loops; the
//! tokio driver uses a [`Translator`] directly because its engine lives in a shared lock.

use std::time::Instant;
use wt_session::{OpenAhead, TransportClose};

use bytes::{Bytes, BytesMut};
use quinn_proto::{
    ConnectionError, ConnectionEvent, ConnectionHandle, Dir as QDir, EndpointEvent, Event,
    ReadError, StreamEvent, Transmit, VarInt, WriteError,
};
use tracing::{debug, trace, warn};
use wt_proto::{Action, Code, Config, Connection, Dir, Side, StreamId, TransportParams};

/// How many local streams per direction are opened in quinn ahead of the engine, so that the
/// engine's credit ([`Connection::handle_max_streams`]) is exactly what quinn can open.
const OPEN_AHEAD: u64 = 32;

fn qdir(dir: Dir) -> QDir {
    match dir {
        Dir::Bi => QDir::Bi,
        Dir::Uni => QDir::Uni,
    }
}

/// The engine's id of a quinn stream (both are the QUIC stream id).
pub fn to_engine(id: quinn_proto::StreamId) -> StreamId {
    StreamId(u64::from(id))
}

/// The quinn id of an engine stream.
pub fn to_quinn(id: StreamId) -> quinn_proto::StreamId {
    quinn_proto::StreamId::from(VarInt::from_u64(id.0).unwrap_or(VarInt::MAX))
}

fn varint(code: Code) -> VarInt {
    VarInt::from_u64(code.0).unwrap_or(VarInt::MAX)
}

/// How a quinn connection ended, in the stack-independent terms of [`TransportClose`].
pub fn transport_close(e: &ConnectionError) -> TransportClose {
    match e {
        ConnectionError::ApplicationClosed(c) => TransportClose::Application {
            code: c.error_code.into_inner(),
            reason: String::from_utf8_lossy(&c.reason).into_owned(),
            remote: true,
        },
        ConnectionError::LocallyClosed => TransportClose::Other("closed locally".into()),
        ConnectionError::TimedOut => TransportClose::TimedOut,
        ConnectionError::ConnectionClosed(c) => TransportClose::Transport {
            code: u64::from(c.error_code),
            reason: c.to_string(),
        },
        ConnectionError::TransportError(t) => TransportClose::Transport {
            code: u64::from(t.code),
            reason: t.to_string(),
        },
        other => TransportClose::Other(other.to_string()),
    }
}

/// Translation state between one quinn connection and one engine.
#[derive(Debug)]
pub struct Translator {
    connected: bool,
    /// quinn streams opened ahead of the engine (its stream credit).
    credit: OpenAhead,
    lost: Option<TransportClose>,
    /// A client-initiated bidi stream's send side (a request or CONNECT stream, on a client)
    /// was fully acknowledged since the last `take_request_stream_finished`.
    request_stream_finished: bool,
    /// quinn may hold received datagrams not yet moved into the engine.
    datagrams_pending: bool,
}

impl Default for Translator {
    fn default() -> Self {
        Self::new()
    }
}

impl Translator {
    /// A translator for a new connection (before its handshake completed).
    pub fn new() -> Self {
        Self {
            connected: false,
            credit: OpenAhead::new(OPEN_AHEAD),
            lost: None,
            request_stream_finished: false,
            datagrams_pending: false,
        }
    }

    /// Whether the handshake completed (actions are executed only from then on).
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// How the connection ended, once it did.
    pub fn lost(&self) -> Option<&TransportClose> {
        self.lost.as_ref()
    }

    /// Whether a client-initiated bidi stream's send side was fully acknowledged since the
    /// last call (a client's CONNECT stream delivered its close: the connection may close).
    pub fn take_request_stream_finished(&mut self) -> bool {
        std::mem::take(&mut self.request_stream_finished)
    }

    /// Feeds one quinn application event into the engine.
    pub fn handle_event(
        &mut self,
        quic: &mut quinn_proto::Connection,
        engine: &mut Connection,
        event: Event,
    ) {
        match event {
            Event::HandshakeDataReady if quic.side().is_server() => {
                // A server has the client's transport parameters and its own 1-RTT keys once
                // it sent its handshake flight: its control stream and SETTINGS go out as
                // 0.5-RTT data (RFC 9001 §4.1.1; the client can use them as soon as its
                // handshake completes, and its CONNECT waits for them). Nothing the client
                // sends is read before the handshake completes.
                debug!("QUIC handshake data ready: server streams open as 0.5-RTT");
                self.start(quic, engine);
            }
            Event::HandshakeDataReady => {}
            Event::Connected => {
                debug!(side = %engine.side(), "QUIC connected");
                self.start(quic, engine);
            }
            Event::ConnectionLost { reason } => {
                debug!(%reason, "QUIC connection lost");
                let close = transport_close(&reason);
                let (code, text) = close.engine_close();
                engine.handle_connection_closed(code, &text);
                self.lost = Some(close);
            }
            Event::Stream(StreamEvent::Opened { dir }) => {
                while let Some(id) = quic.streams().accept(dir) {
                    self.read_stream(quic, engine, to_engine(id));
                }
            }
            Event::Stream(StreamEvent::Readable { id }) => {
                self.read_stream(quic, engine, to_engine(id));
            }
            Event::Stream(StreamEvent::Writable { id }) => {
                engine.handle_stream_writable(to_engine(id));
            }
            Event::Stream(StreamEvent::Finished { id }) => {
                self.request_stream_finished |= to_engine(id).is_client_bidi();
            }
            Event::Stream(StreamEvent::Stopped { id, error_code }) => {
                engine.handle_stop_sending(to_engine(id), error_code.into_inner());
            }
            Event::Stream(StreamEvent::Available { dir }) => {
                let dir = match dir {
                    QDir::Bi => Dir::Bi,
                    QDir::Uni => Dir::Uni,
                };
                self.refill(quic, engine, dir);
            }
            Event::DatagramReceived => {
                // Moved by `recv_datagrams`, as far as the application has room for them.
                self.datagrams_pending = true;
            }
            Event::DatagramsUnblocked => {}
        }
    }

    /// Moves up to `room` received datagrams from quinn into the engine, and no more than the
    /// engine has room for ([`Connection::datagram_room`]); the rest wait in quinn's receive
    /// buffer (which drops the oldest when full: the one place a received datagram is
    /// dropped). Returns how many were moved. Call it again after polling the engine's events
    /// while [`datagrams_pending`](Self::datagrams_pending).
    pub fn recv_datagrams(
        &mut self,
        quic: &mut quinn_proto::Connection,
        engine: &mut Connection,
        room: usize,
    ) -> usize {
        let mut moved = 0;
        while self.datagrams_pending {
            if moved >= room || engine.datagram_room() == 0 {
                break;
            }
            match quic.datagrams().recv() {
                Some(d) => {
                    engine.handle_datagram(d);
                    moved += 1;
                }
                None => self.datagrams_pending = false,
            }
        }
        moved
    }

    /// Whether quinn may still hold received datagrams the engine had no room for.
    pub fn datagrams_pending(&self) -> bool {
        self.datagrams_pending
    }

    /// From here on, streams are opened and the engine's actions executed.
    fn start(&mut self, quic: &mut quinn_proto::Connection, engine: &mut Connection) {
        if self.connected {
            return;
        }
        self.connected = true;
        self.report_transport(quic, engine);
        self.refill(quic, engine, Dir::Bi);
        self.refill(quic, engine, Dir::Uni);
    }

    /// Tells the engine what the handshake negotiated, and again whenever the DATAGRAM size
    /// limit changes (path MTU). Nothing before the peer's transport parameters are known.
    pub fn report_transport(&self, quic: &mut quinn_proto::Connection, engine: &mut Connection) {
        if !self.connected {
            return;
        }
        // quinn-proto implements no RESET_STREAM_AT.
        let params = TransportParams::new(quic.datagrams().max_size(), false);
        if engine.transport_params() != params {
            engine.handle_transport_params(params);
        }
    }

    /// Opens quinn streams ahead of the engine and gives the engine exactly that credit.
    fn refill(&mut self, quic: &mut quinn_proto::Connection, engine: &mut Connection, dir: Dir) {
        if !self.connected {
            return;
        }
        while self.credit.wants(dir) {
            match quic.streams().open(qdir(dir)) {
                Some(id) => {
                    let index = self.credit.opened(dir);
                    debug_assert_eq!(id.index(), index);
                }
                None => break,
            }
        }
        engine.handle_max_streams(dir, self.credit.credit(dir));
    }

    /// Reads what quinn holds for `stream`, no more than the engine's budget.
    fn read_stream(
        &mut self,
        quic: &mut quinn_proto::Connection,
        engine: &mut Connection,
        stream: StreamId,
    ) {
        let mut recv = quic.recv_stream(to_quinn(stream));
        let Ok(mut chunks) = recv.read(true) else {
            return;
        };
        loop {
            let budget = engine.recv_budget(stream);
            if budget == 0 {
                // The engine says `ResumeReading` when there is room again.
                trace!(%stream, "engine buffer full: reading paused");
                break;
            }
            match chunks.next(budget) {
                Ok(Some(chunk)) => engine.handle_stream_data(stream, chunk.bytes, false),
                Ok(None) => {
                    engine.handle_stream_data(stream, Bytes::new(), true);
                    break;
                }
                Err(ReadError::Blocked) => break,
                Err(ReadError::Reset(code)) => {
                    engine.handle_stream_reset(stream, code.into_inner());
                    break;
                }
            }
        }
        let _ = chunks.finalize();
    }

    /// Executes the engine's pending actions on quinn. Does nothing before the handshake.
    pub fn flush(
        &mut self,
        quic: &mut quinn_proto::Connection,
        engine: &mut Connection,
        now: Instant,
    ) {
        if !self.connected || self.lost.is_some() {
            return;
        }
        while let Some(action) = engine.poll_action() {
            self.execute(quic, engine, action, now);
        }
    }

    fn execute(
        &mut self,
        quic: &mut quinn_proto::Connection,
        engine: &mut Connection,
        action: Action,
        now: Instant,
    ) {
        match action {
            Action::OpenStream { stream } => {
                let dir = stream.dir();
                debug_assert_eq!(
                    stream.index(),
                    self.credit.used_count(dir),
                    "stream ids diverged"
                );
                if !self.credit.used(dir) {
                    // Only possible if the engine exceeded its credit.
                    warn!(%stream, "no QUIC stream credit for an engine stream");
                    engine.close(Code::H3_INTERNAL_ERROR, "no stream credit");
                    return;
                }
                self.refill(quic, engine, dir);
            }
            Action::Write { stream, data, fin } => {
                let qid = to_quinn(stream);
                let mut bufs = [data];
                loop {
                    if bufs[0].is_empty() {
                        if fin {
                            let _ = quic.send_stream(qid).finish();
                        }
                        break;
                    }
                    match quic.send_stream(qid).write_chunks(&mut bufs) {
                        Ok(_) => continue,
                        Err(WriteError::Blocked) => {
                            let [rest] = bufs;
                            engine.handle_write_blocked(stream, rest, fin);
                            break;
                        }
                        Err(WriteError::Stopped(code)) => {
                            engine.handle_stop_sending(stream, code.into_inner());
                            break;
                        }
                        Err(WriteError::ClosedStream) => {
                            trace!(%stream, "write on a closed stream dropped");
                            break;
                        }
                    }
                }
            }
            Action::ResetStream { stream, code, .. } => {
                let _ = quic.send_stream(to_quinn(stream)).reset(varint(code));
            }
            Action::StopSending { stream, code } => {
                let _ = quic.recv_stream(to_quinn(stream)).stop(varint(code));
            }
            Action::ResumeReading { stream } => self.read_stream(quic, engine, stream),
            Action::SendDatagram { data } => {
                if let Err(e) = quic.datagrams().send(data, true) {
                    debug!(error = %e, "datagram dropped by the transport");
                }
            }
            Action::CloseConnection { code, reason } => {
                quic.close(now, varint(code), Bytes::from(reason.into_bytes()));
            }
            other => warn!(?other, "an action this adapter does not know: ignored"),
        }
    }
}

/// A quinn-proto connection paired with a WebTransport engine, for custom event loops.
///
/// Drive it like a `quinn_proto::Connection`: feed datagrams through the endpoint and
/// [`handle_event`](Self::handle_event), call [`handle_timeout`](Self::handle_timeout) at
/// [`poll_timeout`](Self::poll_timeout), send what [`poll_transmit`](Self::poll_transmit) gives,
/// and pass [`poll_endpoint_events`](Self::poll_endpoint_events) to the endpoint. Use the engine
/// ([`engine`](Self::engine)) for the application: poll its events and call it; the pairing
/// executes its actions on the next `poll_transmit`.
#[derive(Debug)]
pub struct Http3Connection {
    /// The QUIC connection.
    pub quic: quinn_proto::Connection,
    /// The WebTransport engine.
    pub engine: Connection,
    /// The translation state.
    pub translator: Translator,
    handle: ConnectionHandle,
}

impl Http3Connection {
    /// Pairs a new quinn connection (from `Endpoint::connect` or `Endpoint::accept`) with an
    /// engine in the same role.
    pub fn new(
        handle: ConnectionHandle,
        quic: quinn_proto::Connection,
        config: Config,
        now: Instant,
    ) -> Self {
        let side = if quic.side().is_client() {
            Side::Client
        } else {
            Side::Server
        };
        Self {
            quic,
            engine: Connection::new(side, config, now),
            translator: Translator::new(),
            handle,
        }
    }

    /// The endpoint's handle of this connection.
    pub fn handle(&self) -> ConnectionHandle {
        self.handle
    }

    /// The engine.
    pub fn engine(&mut self) -> &mut Connection {
        &mut self.engine
    }

    /// Input from the endpoint for this connection.
    pub fn handle_event(&mut self, event: ConnectionEvent) {
        self.quic.handle_event(event);
        self.pump();
    }

    /// Timers: call at [`poll_timeout`](Self::poll_timeout).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.quic.handle_timeout(now);
        self.engine.handle_timeout(now);
        self.pump();
    }

    /// The earliest of the QUIC and engine timers.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        match (self.quic.poll_timeout(), self.engine.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Events for the endpoint.
    pub fn poll_endpoint_events(&mut self) -> Option<EndpointEvent> {
        self.quic.poll_endpoint_events()
    }

    /// Executes the engine's actions, then returns the next UDP datagram(s) to send.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        max_datagrams: usize,
        buf: &mut Vec<u8>,
    ) -> Option<Transmit> {
        self.pump();
        self.translator.flush(&mut self.quic, &mut self.engine, now);
        self.quic.poll_transmit(now, max_datagrams, buf)
    }

    /// Moves quinn's events into the engine.
    fn pump(&mut self) {
        while let Some(ev) = self.quic.poll() {
            self.translator
                .handle_event(&mut self.quic, &mut self.engine, ev);
        }
        self.translator
            .recv_datagrams(&mut self.quic, &mut self.engine, usize::MAX);
    }

    /// Whether the QUIC connection is fully closed and can be dropped.
    pub fn is_drained(&self) -> bool {
        self.quic.is_drained()
    }
}

/// Splits a received GRO buffer into the datagrams it holds.
pub fn split_gro(buf: &[u8], len: usize, stride: usize) -> impl Iterator<Item = BytesMut> + '_ {
    let stride = stride.max(1);
    buf[..len.min(buf.len())].chunks(stride).map(BytesMut::from)
}
