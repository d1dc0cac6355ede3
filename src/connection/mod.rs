//! The HTTP/3 connection: one per QUIC connection, in either role.
//!
//! Transport input enters through the `handle_*` methods, is routed by stream kind (control,
//! QPACK, request, WebTransport) to the sessions, and leaves as [`Action`]s for the transport
//! ([`poll_action`](Connection::poll_action)) and [`Event`]s for the application
//! ([`poll_event`](Connection::poll_event)). The application acts through the session and stream
//! calls in `app.rs`.

mod app;
mod control;
mod peer_streams;
mod recv;
mod request;
mod sessions;
mod streams;
mod wt;

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use tracing::{debug, warn};

use crate::Dir;
use crate::action::Action;
use crate::config::Config;
use crate::error::{Code, InputError, ProtocolError};
use crate::event::{CloseCause, Event};
use crate::frame::Frame;
use crate::id::{SessionId, Side, StreamId};
use crate::rng::Rng;
use crate::settings::{self, Dialect, Negotiated, Settings};
use crate::stats::Stats;
use crate::stream::{Recv, SendStream};
use crate::stream_header::UniStreamHeader;
use crate::transport::TransportParams;
use crate::varint;
use sessions::Sessions;
use streams::{HandedBack, Streams};

/// The number of live entries in each of the engine's maps and queues, for leak checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveEntries {
    /// Sessions.
    pub sessions: usize,
    /// Send sides of streams, not counting our control and QPACK streams.
    pub send_streams: usize,
    /// Receive sides of streams, not counting the peer's control and QPACK streams.
    pub recv_streams: usize,
    /// Our control and QPACK streams and the peer's (at most 6 for the connection's life).
    pub critical_streams: usize,
    /// Streams held for sessions that are not established.
    pub buffered_streams: usize,
    /// Datagrams held for sessions that are not established.
    pub buffered_datagrams: usize,
    /// Peer stream ids remembered because they arrived out of order.
    pub out_of_order_streams: usize,
    /// Actions not yet polled.
    pub actions: usize,
    /// Events not yet polled.
    pub events: usize,
}

/// A sans-IO HTTP/3 connection with WebTransport sessions.
///
/// See the crate documentation for the embedding loop.
#[derive(Debug)]
pub struct Connection {
    side: Side,
    config: Config,
    rng: Rng,
    now: Instant,
    local_settings: Settings,
    peer_settings: Option<Settings>,
    /// What the QUIC transport negotiated (reported by the adapter).
    transport: TransportParams,
    negotiated: Option<Negotiated>,
    /// The connection is closed; every input is ignored.
    closed: bool,
    /// When the connection's idle check is due (`Config::connection_idle_timeout`).
    idle_deadline: Option<Instant>,
    /// A session or request existed since the last idle check.
    used: bool,
    peer_control: Option<StreamId>,
    peer_encoder: Option<StreamId>,
    peer_decoder: Option<StreamId>,
    control: StreamId,
    /// Every stream's halves, the ready queue and the stream ids.
    streams: Streams,
    /// The sessions and the datagrams that came before theirs.
    sessions: Sessions,
    goaway_sent: Option<u64>,
    goaway_received: Option<u64>,
    max_push_id: Option<u64>,
    actions: VecDeque<Action>,
    close_action: Option<Action>,
    events: VecDeque<Event>,
    /// Datagram events not yet polled.
    queued_datagrams: usize,
    /// Their bytes.
    queued_datagram_bytes: usize,
    stats: Stats,
    /// The connection's tracing span; every entry point runs inside it.
    span: tracing::Span,
}

impl Connection {
    /// Creates the connection state for one QUIC connection whose handshake completed (ALPN
    /// `h3`), at time `now`. It immediately queues the opening of our control stream with
    /// SETTINGS and of the QPACK encoder and decoder streams.
    pub fn new(side: Side, config: Config, now: Instant) -> Self {
        let local_settings = local_settings(&config);
        let mut conn = Connection {
            side,
            rng: Rng::new(config.seed),
            config,
            now,
            local_settings,
            peer_settings: None,
            transport: TransportParams::default(),
            negotiated: None,
            closed: false,
            idle_deadline: None,
            used: false,
            peer_control: None,
            peer_encoder: None,
            peer_decoder: None,
            control: StreamId::new(side, Dir::Uni, 0),
            streams: Streams::new(side),
            sessions: Sessions::default(),
            goaway_sent: None,
            goaway_received: None,
            max_push_id: None,
            actions: VecDeque::new(),
            close_action: None,
            events: VecDeque::new(),
            queued_datagrams: 0,
            queued_datagram_bytes: 0,
            stats: Stats::default(),
            span: tracing::debug_span!("h3", side = %side),
        };
        conn.idle_deadline = conn
            .config
            .connection_idle_timeout
            .and_then(|t| now.checked_add(t));
        let span = conn.span.clone();
        let _entered = span.enter();
        conn.open_critical_streams();
        drop(_entered);
        conn
    }

    fn open_critical_streams(&mut self) {
        let mut control = BytesMut::new();
        UniStreamHeader::Control.encode(&mut control);
        let mut settings = self.local_settings.clone();
        if self.config.grease {
            let id = 0x1f_u64
                .saturating_mul(self.rng.below(1 << 20))
                .saturating_add(0x21);
            settings.set(id, self.rng.below(1 << 30));
        }
        Frame::Settings(settings).encode(&mut control);
        if self.config.grease {
            let ty = 0x1f_u64
                .saturating_mul(self.rng.below(1 << 20))
                .saturating_add(0x21);
            let len = self.rng.below(4) as usize;
            crate::frame::encode_header(ty, len as u64, &mut control);
            let mut payload = vec![0u8; len];
            self.rng.fill(&mut payload);
            control.put_slice(&payload);
        }
        let streams = [
            (control.freeze(), "control"),
            (UniStreamHeader::QpackEncoder.to_bytes(), "QPACK encoder"),
            (UniStreamHeader::QpackDecoder.to_bytes(), "QPACK decoder"),
        ];
        for (bytes, what) in streams {
            match self.open_local(Dir::Uni) {
                Some(id) => {
                    debug!(stream = %id, "opening {what} stream");
                    self.streams.insert_send(id, SendStream::new(None));
                    self.queue_write(id, bytes, false);
                }
                None => self.close_connection(ProtocolError::new(
                    Code::H3_STREAM_CREATION_ERROR,
                    "no credit for the critical streams",
                )),
            }
        }
    }

    /// Which side this is.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The settings we send.
    pub fn local_settings(&self) -> &Settings {
        &self.local_settings
    }

    /// The peer's settings, once received.
    pub fn peer_settings(&self) -> Option<&Settings> {
        self.peer_settings.as_ref()
    }

    /// The negotiated WebTransport dialect, once the peer's SETTINGS arrived.
    pub fn dialect(&self) -> Option<Dialect> {
        self.negotiated.map(|n| n.dialect)
    }

    /// Whether HTTP datagrams may be sent and received.
    pub fn datagrams_enabled(&self) -> bool {
        self.negotiated.is_some_and(|n| n.datagrams.is_some())
    }

    /// What the transport negotiated, as last reported.
    pub fn transport_params(&self) -> TransportParams {
        self.transport
    }

    /// The largest datagram payload `session` can send now: the transport's DATAGRAM limit
    /// minus the Quarter Stream ID (RFC 9297 §2.1). `None` when datagrams are not negotiated or
    /// the transport has not reported its limit.
    pub fn max_datagram_payload(&self, session: SessionId) -> Option<usize> {
        if !self.datagrams_enabled() {
            return None;
        }
        let max = self.transport.max_datagram_size?;
        Some(max.saturating_sub(varint::encoded_len(session.quarter())))
    }

    /// The transport reports what it negotiated (call it once the handshake is done, and again
    /// when the DATAGRAM size limit changes). A peer that sent H3_DATAGRAM=1 on a connection
    /// without the QUIC DATAGRAM extension is H3_SETTINGS_ERROR (RFC 9297 §2.1.1).
    pub fn handle_transport_params(&mut self, params: TransportParams) {
        self.transport = params;
        if !self.closed && self.peer_sent_h3_datagram() && !params.datagrams() {
            self.close_connection(ProtocolError::new(
                Code::H3_SETTINGS_ERROR,
                "H3_DATAGRAM without the QUIC DATAGRAM extension",
            ));
        }
    }

    /// Whether the peer's SETTINGS announced HTTP datagrams (RFC 9297 or draft-04).
    fn peer_sent_h3_datagram(&self) -> bool {
        self.peer_settings.as_ref().is_some_and(|s| {
            s.get(settings::id::H3_DATAGRAM) == Some(1)
                || s.get(settings::id::H3_DATAGRAM_DRAFT04) == Some(1)
        })
    }

    /// Whether the connection is closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// How many entries each internal map and queue holds (for leak checks).
    pub fn live_entries(&self) -> LiveEntries {
        let local_critical = (0..3u64)
            .filter(|i| {
                self.streams
                    .has_send(StreamId::new(self.side, Dir::Uni, *i))
            })
            .count();
        let peer_critical = [self.peer_control, self.peer_encoder, self.peer_decoder]
            .iter()
            .flatten()
            .filter(|id| self.streams.has_recv(**id))
            .count();
        let (send, recv) = self.streams.halves();
        LiveEntries {
            sessions: self.sessions.len(),
            send_streams: send.saturating_sub(local_critical),
            recv_streams: recv.saturating_sub(peer_critical),
            critical_streams: local_critical.saturating_add(peer_critical),
            buffered_streams: self.streams.buffered(),
            buffered_datagrams: self.sessions.held_datagrams(),
            out_of_order_streams: self.streams.out_of_order(),
            actions: self.actions.len().saturating_add(self.streams.ready_len()),
            events: self.events.len(),
        }
    }

    /// The number of live sessions (pending, requested or established).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The next action for the transport, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        if self.streams.any_waiting() {
            self.resume_waiting();
        }
        if let Some(a) = self.actions.pop_front() {
            self.streams.forget_last_fin();
            return Some(a);
        }
        if let Some(w) = self.streams.pop_write(self.config.stream_send_buffer) {
            self.stats.bytes_out = self.stats.bytes_out.saturating_add(w.data.len() as u64);
            if w.fin {
                self.stream_half_closed(w.stream);
            }
            if w.writable {
                self.events
                    .push_back(Event::StreamWritable { stream: w.stream });
            }
            return Some(Action::Write {
                stream: w.stream,
                data: w.data,
                fin: w.fin,
            });
        }
        self.close_action.take()
    }

    /// Bytes held for the application, counted against
    /// [`Config::max_connection_buffer`](crate::Config::max_connection_buffer).
    #[inline]
    pub fn buffered_bytes(&self) -> usize {
        self.streams
            .held_bytes()
            .saturating_add(self.queued_datagram_bytes)
            .saturating_add(self.sessions.held_datagram_bytes())
    }

    /// What is left of the connection's memory budget.
    #[inline]
    fn connection_room(&self) -> usize {
        self.config
            .max_connection_buffer
            .saturating_sub(self.buffered_bytes())
    }

    /// Tells the streams that waited for room to read again, if there is room (checked when
    /// the transport polls actions: room comes back as the application takes data).
    #[cold]
    #[inline(never)]
    fn resume_waiting(&mut self) {
        if self.connection_room() > 0 {
            for stream in self.streams.take_waiting() {
                self.actions.push_back(Action::ResumeReading { stream });
            }
        }
    }

    /// Whether [`poll_action`](Self::poll_action) has something: after an application call
    /// (a read may let a full stream resume, a write queue bytes), the transport's driver
    /// needs a wake-up only then.
    pub fn has_actions(&self) -> bool {
        !self.actions.is_empty()
            || self.streams.ready_len() > 0
            || self.close_action.is_some()
            || (self.streams.any_waiting() && self.connection_room() > 0)
    }

    /// How many more received datagrams the engine queues for the application before it
    /// drops them ([`Config::max_queued_datagrams`](crate::Config::max_queued_datagrams) minus
    /// the undrained `Event::Datagram`s). A transport should stop feeding datagrams at 0, leave
    /// the rest in its own receive buffer and continue once the events were polled, so that a
    /// burst is bounded by the transport's buffer and not cut at this one.
    pub fn datagram_room(&self) -> usize {
        self.config
            .max_queued_datagrams
            .saturating_sub(self.queued_datagrams)
    }

    /// The next application event.
    pub fn poll_event(&mut self) -> Option<Event> {
        let ev = self.events.pop_front()?;
        if let Event::Datagram { data, .. } = &ev {
            self.queued_datagrams = self.queued_datagrams.saturating_sub(1);
            self.queued_datagram_bytes = self.queued_datagram_bytes.saturating_sub(data.len());
        }
        Some(ev)
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        match (self.sessions.next_deadline(), self.idle_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances time: runs the session idle checks that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let span = self.span.clone();
        let _entered = span.enter();
        self.now = now;
        if self.closed {
            return;
        }
        self.check_connection_idle(now);
        if self.closed {
            return;
        }
        let Some(timeout) = self.config.session_idle_timeout else {
            return;
        };
        let due = self
            .sessions
            .ids(|s| s.idle_deadline.is_some_and(|d| d <= now));
        for id in due {
            let Some(s) = self.sessions.get_mut(id) else {
                continue;
            };
            if s.active {
                s.active = false;
                s.idle_deadline = now.checked_add(timeout);
            } else {
                debug!(session = %id, "idle timeout");
                self.close_session_inner(id, 0, "idle timeout", CloseCause::IdleTimeout);
            }
        }
    }

    /// Closes the connection if it had no session and no request for a whole idle period.
    fn check_connection_idle(&mut self, now: Instant) {
        let (Some(deadline), Some(timeout)) =
            (self.idle_deadline, self.config.connection_idle_timeout)
        else {
            return;
        };
        if deadline > now {
            return;
        }
        let requests = self
            .streams
            .count_recv(|id, r| id.is_client_bidi() && matches!(r, Recv::Request(_)));
        if std::mem::take(&mut self.used) || self.sessions.len() > 0 || requests > 0 {
            self.idle_deadline = now.checked_add(timeout);
            return;
        }
        debug!("no session or request for the idle timeout: closing");
        let reason = "idle connection";
        self.close(Code::H3_NO_ERROR, reason);
        self.events.push_back(Event::ConnectionClosed {
            code: Code::H3_NO_ERROR,
            reason: reason.into(),
            local: true,
        });
    }

    /// The transport's stream credit for local streams: the total number of streams of `dir`
    /// we may have opened (the peer's MAX_STREAMS). Until called, credit is unlimited.
    pub fn handle_max_streams(&mut self, dir: Dir, max: u64) {
        if self.streams.set_max_local(dir, max) {
            self.events.push_back(Event::StreamsAvailable { dir });
        }
    }

    /// The transport could not take all of the [`Action::Write`] just polled: `data` (and the
    /// FIN, if it was set) go back to the front of the stream's queue until
    /// [`handle_stream_writable`](Self::handle_stream_writable). Call it before polling the next
    /// action. A write on a stream the engine has reset since is dropped.
    pub fn handle_write_blocked(&mut self, stream: StreamId, data: Bytes, fin: bool) {
        match self.streams.write_blocked(stream, data, fin) {
            HandedBack::Queued => {}
            HandedBack::Restored(session) => {
                // The write carried the FIN that ended the send side: it is live again.
                if let Some(s) = session.and_then(|id| self.sessions.get_mut(id))
                    && s.streams.insert(stream)
                {
                    self.stats.streams_closed = self.stats.streams_closed.saturating_sub(1);
                }
            }
            HandedBack::Dropped => {
                debug!(%stream, "write handed back on a stream that is gone: dropped");
            }
        }
    }

    /// The transport can take more bytes on `stream`.
    pub fn handle_stream_writable(&mut self, stream: StreamId) {
        if let Some(s) = self.streams.send_mut(stream) {
            s.blocked = false;
        }
        self.streams.schedule(stream);
    }

    /// The QUIC connection ended (closed by either side, timed out, or lost). Every session ends
    /// with [`CloseCause::ConnectionClosed`] and all state is released.
    pub fn handle_connection_closed(&mut self, code: Code, reason: &str) {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return;
        }
        debug!(%code, reason, "connection closed by transport");
        self.teardown(CloseCause::ConnectionClosed);
        self.events.push_back(Event::ConnectionClosed {
            code,
            reason: reason.to_string(),
            local: false,
        });
    }

    // ---- internal helpers shared by the submodules ----

    /// Allocates the next local stream id of `dir` if there is credit, and asks the
    /// transport to open it.
    fn open_local(&mut self, dir: Dir) -> Option<StreamId> {
        let id = self.streams.open_local(dir)?;
        self.actions.push_back(Action::OpenStream { stream: id });
        Some(id)
    }

    /// Queues bytes the engine itself writes (headers, frames, capsules).
    fn queue_write(&mut self, id: StreamId, data: Bytes, fin: bool) {
        self.streams.queue_write(id, data, fin);
    }

    /// Resets the send side of a stream (dropping what is queued).
    fn reset_send(&mut self, id: StreamId, code: Code) {
        let mut reliable_size = 0;
        if let Some(mut s) = self.streams.remove_send(id) {
            reliable_size = s.header_len;
            // A WebTransport header not yet handed to the transport goes out first, so that
            // the reset can be attributed to its session (`reliable_size` covers it).
            let missing = usize::try_from(s.header_len.saturating_sub(s.sent)).unwrap_or(0);
            if missing > 0 && !s.blocked {
                let mut header = BytesMut::with_capacity(missing);
                while header.len() < missing {
                    let Some(mut chunk) = s.queue.pop_front() else {
                        break;
                    };
                    let want = missing.saturating_sub(header.len()).min(chunk.len());
                    header.extend_from_slice(&chunk.split_to(want));
                }
                self.stats.bytes_out = self.stats.bytes_out.saturating_add(header.len() as u64);
                self.actions.push_back(Action::Write {
                    stream: id,
                    data: header.freeze(),
                    fin: false,
                });
            }
        }
        self.actions.push_back(Action::ResetStream {
            stream: id,
            code,
            reliable_size,
        });
        self.stream_half_closed(id);
    }

    /// Ends what a violation in peer input ends: the connection, one stream (refused in both
    /// directions) or one session.
    fn fail(&mut self, e: InputError) {
        match e {
            InputError::Connection(e) => self.close_connection(e),
            InputError::Stream { stream, code } => self.refuse(stream, code),
            InputError::Session { session, code } => self.abort_session(session, code),
        }
    }

    /// Aborts a stream in both directions with `code`, always in this order: RESET_STREAM on
    /// our send half if it is open, then STOP_SENDING if the peer sends on it (RFC 9114 §8,
    /// RFC 9000 §3.5). The one place a stream error is emitted.
    fn abort_stream(&mut self, id: StreamId, code: Code) {
        if self.streams.has_send(id) {
            self.reset_send(id, code);
        }
        let peer_sends = id.dir() == Dir::Bi || id.initiator() != self.side;
        if peer_sends {
            self.stop_recv(id, code);
        }
    }

    /// Refuses a peer stream or request nothing was written on yet: both directions are
    /// aborted with `code` (a peer bidi stream's send half is open although we never wrote).
    fn refuse(&mut self, id: StreamId, code: Code) {
        if id.dir() == Dir::Bi {
            self.streams.ensure_send(id);
        }
        self.abort_stream(id, code);
    }

    /// Ends a session for a protocol error on its CONNECT stream, which is aborted with `code`
    /// (draft-ietf-webtrans-http3 §6). The one place a session error is emitted.
    fn abort_session(&mut self, session: SessionId, code: Code) {
        self.abort_stream(session.stream(), code);
        self.end_session(session, 0, String::new(), CloseCause::ProtocolError(code));
    }

    /// Stops reading a stream (dropping what is buffered).
    fn stop_recv(&mut self, id: StreamId, code: Code) {
        self.streams.remove_recv(id);
        self.actions
            .push_back(Action::StopSending { stream: id, code });
        self.stream_half_closed(id);
    }

    /// Removes a stream from its session once both of its halves are gone.
    fn stream_half_closed(&mut self, id: StreamId) {
        if !self.streams.is_gone(id) {
            return;
        }
        if id.is_client_bidi() {
            match self.side {
                Side::Client => self.connect_slot_freed(),
                Side::Server => self.refuse_early_streams(SessionId(id)),
            }
        }
        if let Some(s) = self.sessions.owner_of_mut(id) {
            s.streams.remove(&id);
            self.stats.streams_closed = self.stats.streams_closed.saturating_add(1);
        }
    }

    /// Closes the connection with a protocol error.
    fn close_connection(&mut self, e: ProtocolError) {
        if self.closed {
            return;
        }
        let span = self.span.clone();
        let _entered = span.enter();
        warn!(code = %e.code, reason = e.reason, side = %self.side, "connection error");
        self.teardown(CloseCause::ConnectionClosed);
        self.actions.clear();
        self.streams.clear_ready();
        self.close_action = Some(Action::CloseConnection {
            code: e.code,
            reason: e.reason.to_string(),
        });
        self.events.push_back(Event::ConnectionClosed {
            code: e.code,
            reason: e.reason.to_string(),
            local: true,
        });
    }

    /// Ends every session and drops all stream state.
    fn teardown(&mut self, cause: CloseCause) {
        self.closed = true;
        let (sessions, dropped) = self.sessions.drain();
        for s in sessions {
            self.stats.sessions_closed = self.stats.sessions_closed.saturating_add(1);
            self.events.push_back(Event::SessionClosed {
                session: s.id,
                code: 0,
                reason: String::new(),
                cause,
            });
        }
        self.streams.clear();
        self.stats.datagrams_dropped = self.stats.datagrams_dropped.saturating_add(dropped as u64);
    }

    /// Whether a session id that names no session could still become one: at a server, a
    /// request stream not seen yet or whose head has not arrived (held before SETTINGS, or
    /// delayed by loss). A client's sessions are its own, so an unknown id never appears there.
    fn session_may_appear(&self, id: SessionId) -> bool {
        let stream = id.stream();
        match self.side {
            Side::Server => {
                self.streams.peer_is_new(stream)
                    || matches!(self.streams.recv(stream), Some(Recv::Request(r)) if r.session.is_none() && !r.headers_seen)
            }
            Side::Client => false,
        }
    }

    /// Server: a new session takes the streams that named it before its CONNECT arrived.
    fn adopt_early_streams(&mut self, session: SessionId) {
        let early = self
            .streams
            .recv_ids(|r| matches!(r, Recv::Wt(w) if w.session == session && w.buffered));
        if let Some(s) = self.sessions.get_mut(session) {
            s.streams.extend(early);
        }
    }

    /// Server: `session` will never exist (its request stream was not a CONNECT, or ended
    /// without one): the streams buffered for it are refused with WT_SESSION_GONE and its held
    /// datagrams dropped.
    fn refuse_early_streams(&mut self, session: SessionId) {
        if self.sessions.contains(session) {
            return;
        }
        let early = self
            .streams
            .recv_ids(|r| matches!(r, Recv::Wt(w) if w.session == session));
        for id in early {
            debug!(stream = %id, %session, "stream for a session that never came: refused");
            if self.streams.has_send(id) {
                self.reset_send(id, Code::WT_SESSION_GONE);
            }
            self.stop_recv(id, Code::WT_SESSION_GONE);
            self.stats.streams_refused = self.stats.streams_refused.saturating_add(1);
        }
        let dropped = self.sessions.drop_datagrams_of(session);
        self.stats.datagrams_dropped = self.stats.datagrams_dropped.saturating_add(dropped as u64);
    }

    /// Marks activity on a session for the idle timer.
    fn touch(&mut self, id: SessionId) {
        if let Some(s) = self.sessions.get_mut(id) {
            s.active = true;
        }
    }

    /// The number of sessions the negotiated dialect allows at once: ours, and for a draft-07
    /// client also the server's SETTINGS_WEBTRANSPORT_MAX_SESSIONS (draft-07 §3.1).
    fn session_limit(&self) -> u64 {
        match self.dialect() {
            Some(Dialect::Draft02) => self.config.max_sessions,
            Some(Dialect::Draft07) => {
                let (id, _) = Dialect::Draft07.setting();
                let peer = match self.side {
                    Side::Client => self.peer_settings.as_ref().and_then(|s| s.get(id)),
                    Side::Server => None,
                };
                peer.map_or(self.config.max_sessions, |p| {
                    p.min(self.config.max_sessions)
                })
            }
            Some(_) => 1,
            None => 0,
        }
    }
}

/// The settings a configuration advertises (RFC 9220 §3, RFC 9297 §2.1.1 and each dialect's
/// draft-ietf-webtrans-http3 §3.1 or §9.2 setting): extended CONNECT (server), the datagram
/// settings, one announcement per dialect, static-only QPACK and the field section limit.
fn local_settings(config: &Config) -> Settings {
    let mut s = Settings::new();
    s.set(settings::id::QPACK_MAX_TABLE_CAPACITY, 0)
        .set(settings::id::QPACK_BLOCKED_STREAMS, 0)
        .set(
            settings::id::MAX_FIELD_SECTION_SIZE,
            config.max_field_section_size,
        );
    if !config.webtransport_enabled() {
        return s;
    }
    s.set(settings::id::ENABLE_CONNECT_PROTOCOL, 1);
    if config.datagrams {
        s.set(settings::id::H3_DATAGRAM, 1);
        if config.dialects.contains(&Dialect::Draft02) {
            s.set(settings::id::H3_DATAGRAM_DRAFT04, 1);
        }
    }
    for d in &config.dialects {
        let (id, value) = d.setting();
        let value = match d {
            Dialect::Draft07 => config.max_sessions.max(1),
            _ => value,
        };
        s.set(id, value);
    }
    s
}
