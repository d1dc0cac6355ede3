//! The application's calls: sessions (connect, accept, reject, close, drain), plain responses,
//! GOAWAY, datagrams, and stream open/read/write/finish/reset/stop.

use bytes::{Bytes, BytesMut};
use tracing::{debug, info};

use super::Connection;
use crate::Dir;
use crate::capsule::Capsule;
use crate::error::{Code, SessionError, StreamError};
use crate::event::CloseCause;
use crate::frame::{self, Frame};
use crate::headers::{self, ConnectRequest, ConnectResponse};
use crate::id::{SessionId, Side, StreamId};
use crate::session::{Session, SessionState};
use crate::stream::{Recv, RequestRecv, SendStream};
use crate::stream_header::{UniStreamHeader, bidi_header};
use crate::varint;

impl Connection {
    /// Client: starts a WebTransport session. The id is returned at once; the CONNECT goes out
    /// as soon as the server's SETTINGS have arrived (in the negotiated dialect, which also
    /// decides `request.protocol` and `request.draft02`), and the outcome arrives as
    /// `SessionEstablished`, `SessionRejected` or `SessionClosed`.
    pub fn connect(&mut self, request: ConnectRequest) -> Result<SessionId, SessionError> {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return Err(SessionError::ConnectionClosed);
        }
        if self.side != Side::Client {
            return Err(SessionError::WrongRole);
        }
        if !self.config.webtransport_enabled()
            || (self.peer_settings.is_some() && self.negotiated.is_none())
        {
            return Err(SessionError::Unavailable);
        }
        if self.goaway_received.is_some() {
            return Err(SessionError::GoingAway);
        }
        let limit = if self.peer_settings.is_some() {
            self.session_limit()
        } else {
            self.config.max_sessions
        };
        if self.sessions.len() as u64 >= limit {
            return Err(SessionError::TooManySessions);
        }
        // Check that the request can be encoded before using a stream for it.
        request
            .encode()
            .map_err(|e| SessionError::Build(e.to_string()))?;
        let Some(stream) = self.open_local(Dir::Bi) else {
            return Err(SessionError::TooManySessions);
        };
        let session = SessionId(stream);
        let mut s = Session::new(
            session,
            SessionState::Pending,
            self.config.max_datagram_capsule,
        );
        s.request = Some(request);
        self.sessions.insert(s);
        self.streams.insert_send(stream, SendStream::new(None));
        self.streams.insert_recv(
            stream,
            Recv::Request(Box::new(RequestRecv::new(
                self.frame_decoder(false),
                None,
                Some(session),
            ))),
        );
        self.stats.sessions_created = self.stats.sessions_created.saturating_add(1);
        if self.peer_settings.is_some() {
            self.send_connect(session);
        } else {
            debug!(%session, "CONNECT waits for the server's SETTINGS");
        }
        Ok(session)
    }

    /// Server: accepts a requested session with `response` (a 2xx other than 204/205/206; its
    /// `protocol`, if any, must be one the client offered; `draft02` is set by the engine from
    /// the dialect). Streams and datagrams held for the session are released.
    pub fn accept(
        &mut self,
        session: SessionId,
        mut response: ConnectResponse,
    ) -> Result<(), SessionError> {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return Err(SessionError::ConnectionClosed);
        }
        if self.side != Side::Server {
            return Err(SessionError::WrongRole);
        }
        let dialect = self.dialect().ok_or(SessionError::Unavailable)?;
        let s = self
            .sessions
            .get_mut(session)
            .ok_or(SessionError::UnknownSession)?;
        if s.state != SessionState::Requested {
            return Err(SessionError::InvalidState);
        }
        if !response.is_accepted() {
            return Err(SessionError::InvalidStatus);
        }
        if let Some(p) = &response.protocol {
            let offered = s
                .request
                .as_ref()
                .is_some_and(|r| r.available_protocols.contains(p));
            if !offered {
                return Err(SessionError::ProtocolNotOffered);
            }
        }
        response.draft02 = dialect.uses_draft02_headers();
        let fields = response
            .encode()
            .map_err(|e| SessionError::Build(e.to_string()))?;
        s.state = SessionState::Established;
        let early = std::mem::take(&mut s.early).freeze();
        self.write_head(session.stream(), &fields, false);
        self.stats.sessions_accepted = self.stats.sessions_accepted.saturating_add(1);
        info!(%session, status = %response.status, "session accepted");
        self.session_established(session);
        // CONNECT-stream bytes that arrived before the 2xx are capsules now.
        let mut early = early;
        if !early.is_empty() {
            self.process_early_capsules(session, &mut early);
        }
        Ok(())
    }

    fn process_early_capsules(&mut self, session: SessionId, early: &mut Bytes) {
        use super::request::ConnectFlow;
        let stream = session.stream();
        match self.feed_capsules(session, early) {
            ConnectFlow::Continue | ConnectFlow::Done => {}
            ConnectFlow::AfterClose { trailing } => {
                if trailing {
                    self.streams.remove_recv(stream);
                    self.data_after_close(stream);
                } else if let Some(Recv::Request(req)) = self.streams.remove_recv(stream) {
                    self.streams
                        .insert_recv(stream, Recv::AfterClose(req.frames));
                }
            }
        }
    }

    /// Server: rejects a requested session with a non-2xx `status` and `headers`, then FIN.
    /// Streams and datagrams held for it are refused and dropped.
    pub fn reject(
        &mut self,
        session: SessionId,
        status: http::StatusCode,
        headers: http::HeaderMap,
    ) -> Result<(), SessionError> {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return Err(SessionError::ConnectionClosed);
        }
        if self.side != Side::Server {
            return Err(SessionError::WrongRole);
        }
        let s = self
            .sessions
            .get(session)
            .ok_or(SessionError::UnknownSession)?;
        if s.state != SessionState::Requested {
            return Err(SessionError::InvalidState);
        }
        if status.is_success() || status.is_informational() {
            return Err(SessionError::InvalidStatus);
        }
        let mut response = ConnectResponse::new(status);
        response.headers = headers;
        let fields = response
            .encode()
            .map_err(|e| SessionError::Build(e.to_string()))?;
        let stream = session.stream();
        self.write_head(stream, &fields, true);
        self.remove_session(session);
        self.stats.sessions_rejected = self.stats.sessions_rejected.saturating_add(1);
        info!(%session, %status, "session rejected");
        // The client may still send (capsules, FIN): read and drop until it ends.
        if self.streams.has_recv(stream) {
            self.streams.insert_recv(stream, Recv::Discard);
        }
        Ok(())
    }

    /// Server: answers an ordinary request (from [`Event::Request`](crate::Event::Request))
    /// with a response head and an optional body, then FIN.
    pub fn respond(
        &mut self,
        stream: StreamId,
        response: http::Response<()>,
        body: Option<Bytes>,
    ) -> Result<(), StreamError> {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return Err(StreamError::ConnectionClosed);
        }
        let pending = self
            .streams
            .send(stream)
            .is_some_and(|s| s.session.is_none() && !s.fin);
        if !pending || self.sessions.contains(SessionId(stream)) {
            return Err(StreamError::UnknownStream);
        }
        let fields = headers::encode_response(&response);
        let body = body.filter(|b| !b.is_empty());
        self.write_head(stream, &fields, body.is_none());
        if let Some(body) = body {
            self.queue_write(stream, frame::data_header(body.len()), false);
            self.queue_write(stream, body, true);
        }
        Ok(())
    }

    /// Closes a session with an application `code` and `reason` (cut to 1024 bytes at a
    /// character boundary): WT_CLOSE_SESSION, then FIN on the CONNECT stream. Its streams are
    /// reset and stopped with WT_SESSION_GONE, and `SessionClosed` follows. A client session
    /// still waiting for its response is cancelled instead.
    pub fn close_session(
        &mut self,
        session: SessionId,
        code: u32,
        reason: &str,
    ) -> Result<(), SessionError> {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return Err(SessionError::ConnectionClosed);
        }
        let s = self
            .sessions
            .get(session)
            .ok_or(SessionError::UnknownSession)?;
        if self.side == Side::Server && s.state == SessionState::Requested {
            return Err(SessionError::InvalidState);
        }
        self.close_session_inner(session, code, reason, CloseCause::Local);
        Ok(())
    }

    pub(super) fn close_session_inner(
        &mut self,
        session: SessionId,
        code: u32,
        reason: &str,
        cause: CloseCause,
    ) {
        let Some((state, send_closed)) = self
            .sessions
            .get(session)
            .map(|s| (s.state, s.connect_send_closed))
        else {
            return;
        };
        let stream = session.stream();
        let reason = crate::capsule::truncate_reason(reason).to_string();
        if state == SessionState::Established && !send_closed {
            let capsule = Capsule::CloseSession {
                code,
                reason: reason.clone(),
            }
            .to_bytes();
            self.queue_write(stream, frame::data_header(capsule.len()), false);
            self.queue_write(stream, capsule, true);
            self.stats.capsules_sent = self.stats.capsules_sent.saturating_add(1);
            // Wait for the peer's FIN, dropping whatever still comes.
            if self.streams.has_recv(stream) {
                self.streams.insert_recv(stream, Recv::Discard);
            }
        } else {
            // Ended first, so that nothing (a held CONNECT taking the freed slot) sees it live
            // while its stream is cancelled.
            info!(%session, code, %reason, "session cancelled locally");
            self.end_session(session, code, reason, cause);
            if self.streams.has_send(stream) {
                self.reset_send(stream, Code::H3_REQUEST_CANCELLED);
            }
            if self.streams.has_recv(stream) {
                self.stop_recv(stream, Code::H3_REQUEST_CANCELLED);
            }
            return;
        }
        info!(%session, code, %reason, "session closed locally");
        self.end_session(session, code, reason, cause);
    }

    /// Asks the peer to wind a session down (WT_DRAIN_SESSION; draft-07 and later).
    pub fn drain_session(&mut self, session: SessionId) -> Result<(), SessionError> {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return Err(SessionError::ConnectionClosed);
        }
        let s = self
            .sessions
            .get(session)
            .ok_or(SessionError::UnknownSession)?;
        if s.state != SessionState::Established || s.connect_send_closed {
            return Err(SessionError::InvalidState);
        }
        if !self.dialect().is_some_and(|d| d.has_drain()) {
            return Err(SessionError::NotInDialect);
        }
        self.send_drain(session);
        Ok(())
    }

    fn send_drain(&mut self, session: SessionId) {
        let capsule = Capsule::DrainSession.to_bytes();
        self.queue_write(session.stream(), frame::data_header(capsule.len()), false);
        self.queue_write(session.stream(), capsule, false);
        self.stats.capsules_sent = self.stats.capsules_sent.saturating_add(1);
    }

    /// Sends GOAWAY: a server refuses requests it has not seen yet (and tells established
    /// sessions to drain, in dialects with WT_DRAIN_SESSION); a client announces it will accept
    /// no pushes. Sending it again is a no-op.
    pub fn goaway(&mut self) {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed || self.goaway_sent.is_some() {
            return;
        }
        let id = match self.side {
            Side::Server => {
                StreamId::new(
                    Side::Client,
                    Dir::Bi,
                    self.streams.peer_next_unused(Dir::Bi),
                )
                .0
            }
            Side::Client => 0,
        };
        self.goaway_sent = Some(id);
        info!(id, "sending GOAWAY");
        self.queue_write(self.control, Frame::Goaway(id).to_bytes(), false);
        if self.side == Side::Server && self.dialect().is_some_and(|d| d.has_drain()) {
            let ids = self
                .sessions
                .ids(|s| s.state == SessionState::Established && !s.connect_send_closed);
            for id in ids {
                self.send_drain(id);
            }
        }
    }

    /// Closes the whole connection with an HTTP/3 `code` (H3_NO_ERROR for a clean shutdown).
    /// Every session ends with [`CloseCause::ConnectionClosed`].
    pub fn close(&mut self, code: Code, reason: &str) {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return;
        }
        self.teardown(CloseCause::ConnectionClosed);
        self.actions.clear();
        self.close_action = Some(crate::action::Action::CloseConnection {
            code,
            reason: reason.to_string(),
        });
    }

    /// Sends a datagram on an established session. Larger than
    /// [`max_datagram_payload`](Self::max_datagram_payload) is
    /// [`SessionError::DatagramTooLarge`]; a closed session or disabled datagrams are errors.
    pub fn send_datagram(&mut self, session: SessionId, data: Bytes) -> Result<(), SessionError> {
        // The per-datagram path enters no span (it costs more than the rest of this call).
        if self.closed {
            return Err(SessionError::ConnectionClosed);
        }
        if !self.datagrams_enabled() {
            return Err(SessionError::DatagramsDisabled);
        }
        let s = self
            .sessions
            .get(session)
            .ok_or(SessionError::UnknownSession)?;
        if !self.may_send_early(s.state) || s.connect_send_closed {
            return Err(SessionError::InvalidState);
        }
        if let Some(limit) = self.transport.max_datagram_size {
            // The Quarter Stream ID shares the DATAGRAM frame (RFC 9297 §2.1).
            let prefix = varint::encoded_len(session.quarter());
            if data.len().saturating_add(prefix) > limit {
                return Err(SessionError::DatagramTooLarge {
                    size: data.len(),
                    max: limit.saturating_sub(prefix),
                });
            }
        }
        self.touch(session);
        let mut out = BytesMut::with_capacity(data.len().saturating_add(8));
        varint::encode(session.quarter(), &mut out);
        out.extend_from_slice(&data);
        self.stats.datagrams_sent = self.stats.datagrams_sent.saturating_add(1);
        self.stats.bytes_out = self.stats.bytes_out.saturating_add(out.len() as u64);
        self.actions
            .push_back(crate::action::Action::SendDatagram { data: out.freeze() });
        Ok(())
    }

    /// Whether streams and datagrams may be sent in a session in `state`: once established, and
    /// for a client also while its CONNECT awaits the response (draft-ietf-webtrans-http3 §4.6;
    /// the server holds them until it accepts).
    fn may_send_early(&self, state: SessionState) -> bool {
        state == SessionState::Established
            || (self.side == Side::Client && state == SessionState::Requested)
    }

    /// Opens a unidirectional stream in an established session; its header is written first.
    pub fn open_uni(&mut self, session: SessionId) -> Result<StreamId, StreamError> {
        let span = self.span.clone();
        let _entered = span.enter();
        self.open_wt(session, Dir::Uni)
    }

    /// Opens a bidirectional stream in an established session; its header is written first.
    pub fn open_bi(&mut self, session: SessionId) -> Result<StreamId, StreamError> {
        let span = self.span.clone();
        let _entered = span.enter();
        self.open_wt(session, Dir::Bi)
    }

    fn open_wt(&mut self, session: SessionId, dir: Dir) -> Result<StreamId, StreamError> {
        if self.closed {
            return Err(StreamError::ConnectionClosed);
        }
        let enabled = match dir {
            Dir::Uni => self.config.uni_streams,
            Dir::Bi => self.config.bidi_streams,
        };
        if !enabled || !self.config.webtransport_enabled() {
            return Err(StreamError::Disabled);
        }
        if !self
            .sessions
            .get(session)
            .is_some_and(|s| self.may_send_early(s.state) && !s.connect_send_closed)
        {
            return Err(StreamError::SessionNotEstablished);
        }
        let id = self.open_local(dir).ok_or(StreamError::StreamsBlocked)?;
        let header = match dir {
            Dir::Uni => UniStreamHeader::WebTransport(session.stream().0).to_bytes(),
            Dir::Bi => bidi_header(session.stream().0),
        };
        let mut send = SendStream::new(Some(session));
        send.header_len = header.len() as u64;
        self.streams.insert_send(id, send);
        self.queue_write(id, header, false);
        if dir == Dir::Bi {
            self.streams.insert_recv(
                id,
                Recv::Wt(crate::stream::WtRecv {
                    session,
                    buffered: false,
                    buf: Default::default(),
                    starved: false,
                }),
            );
        }
        if let Some(s) = self.sessions.get_mut(session) {
            s.streams.insert(id);
            s.active = true;
        }
        self.stats.streams_opened = self.stats.streams_opened.saturating_add(1);
        debug!(%session, stream = %id, ?dir, "stream opened");
        Ok(id)
    }

    /// Writes application bytes to a WebTransport stream. Returns how many were accepted (a
    /// slice of `data`, never copied); when fewer than all, `StreamWritable` follows once there
    /// is room.
    pub fn write(&mut self, stream: StreamId, mut data: Bytes) -> Result<usize, StreamError> {
        if self.closed {
            return Err(StreamError::ConnectionClosed);
        }
        let limit = self.config.stream_send_buffer;
        let s = self
            .streams
            .send_mut(stream)
            .ok_or(StreamError::UnknownStream)?;
        let Some(session) = s.session else {
            return Err(StreamError::UnknownStream);
        };
        if s.fin {
            return Err(StreamError::Finished);
        }
        let room = limit.saturating_sub(s.queued);
        let n = data.len().min(room);
        if n < data.len() {
            s.want_writable = true;
        }
        if n > 0 {
            s.push(data.split_to(n));
        }
        self.touch(session);
        self.streams.schedule(stream);
        Ok(n)
    }

    /// Finishes the send side of a WebTransport stream after the bytes already written.
    pub fn finish(&mut self, stream: StreamId) -> Result<(), StreamError> {
        if self.closed {
            return Err(StreamError::ConnectionClosed);
        }
        let s = self
            .streams
            .send_mut(stream)
            .ok_or(StreamError::UnknownStream)?;
        if s.session.is_none() {
            return Err(StreamError::UnknownStream);
        }
        if s.fin {
            return Err(StreamError::Finished);
        }
        s.fin = true;
        self.streams.schedule(stream);
        Ok(())
    }

    /// Reads up to `max` bytes from a WebTransport stream, without copying. `Ok(None)` means
    /// the peer finished the stream and everything was read.
    pub fn read(&mut self, stream: StreamId, max: usize) -> Result<Option<Bytes>, StreamError> {
        if self.closed {
            return Err(StreamError::ConnectionClosed);
        }
        let Some(Recv::Wt(w)) = self.streams.recv_mut(stream) else {
            return Err(StreamError::UnknownStream);
        };
        if w.buffered {
            return Err(StreamError::Blocked);
        }
        let session = w.session;
        if let Some(chunk) = w.buf.take(max.max(1)) {
            if !w.buf.is_readable() {
                w.buf.signalled = false;
            }
            if w.starved && w.buf.len < self.config.stream_recv_buffer {
                w.starved = false;
                self.actions
                    .push_back(crate::action::Action::ResumeReading { stream });
            }
            self.streams.bytes_out(chunk.len());
            self.touch(session);
            return Ok(Some(chunk));
        }
        if w.buf.fin {
            self.streams.remove_recv(stream);
            self.stream_half_closed(stream);
            return Ok(None);
        }
        w.buf.signalled = false;
        Err(StreamError::Blocked)
    }

    /// Resets the send side of a WebTransport stream with an application `code`.
    pub fn reset(&mut self, stream: StreamId, code: u32) -> Result<(), StreamError> {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return Err(StreamError::ConnectionClosed);
        }
        let s = self
            .streams
            .send(stream)
            .ok_or(StreamError::UnknownStream)?;
        if s.session.is_none() {
            return Err(StreamError::UnknownStream);
        }
        self.stats.streams_reset = self.stats.streams_reset.saturating_add(1);
        self.reset_send(stream, Code::from_app(code));
        Ok(())
    }

    /// Stops reading a WebTransport stream, asking the peer to reset it with `code`.
    pub fn stop(&mut self, stream: StreamId, code: u32) -> Result<(), StreamError> {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return Err(StreamError::ConnectionClosed);
        }
        if !matches!(self.streams.recv(stream), Some(Recv::Wt(w)) if !w.buffered) {
            return Err(StreamError::UnknownStream);
        }
        self.stop_recv(stream, Code::from_app(code));
        Ok(())
    }

    /// The session a WebTransport stream belongs to.
    pub fn session_of(&self, stream: StreamId) -> Option<SessionId> {
        match self.streams.recv(stream) {
            Some(Recv::Wt(w)) => Some(w.session),
            _ => self.streams.send(stream).and_then(|s| s.session),
        }
    }
}
