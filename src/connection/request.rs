//! Request streams: HEADERS and DATA on client-initiated bidirectional streams, the extended
//! CONNECT that creates a session, its response, and the capsules that follow on the CONNECT
//! stream until it ends.

use bytes::{Bytes, BytesMut};
use tracing::{debug, info};

use super::Connection;
use crate::capsule::Capsule;
use crate::error::{Code, InputError, ProtocolError};
use crate::event::{CloseCause, Event};
use crate::frame::{Frame, FrameEvent};
use crate::headers::{self, ConnectRequest, ConnectResponse, ProtocolToken};
use crate::id::{SessionId, Side, StreamId};
use crate::qpack::{self, FieldLine};
use crate::session::{Session, SessionState};
use crate::stream::{Recv, RequestRecv};

fn unexpected(reason: &'static str) -> ProtocolError {
    ProtocolError::new(Code::H3_FRAME_UNEXPECTED, reason)
}

/// What happens to a CONNECT stream after some of its DATA payload.
pub(super) enum ConnectFlow {
    /// Keep reading capsules.
    Continue,
    /// The receive side is finished (error, or the session is gone).
    Done,
    /// The peer's close capsule was read; `trailing` says whether bytes followed it in the same
    /// DATA frame (which is H3_MESSAGE_ERROR).
    AfterClose { trailing: bool },
}

/// What to do with a stream after its HEADERS were looked at.
enum HeadOutcome {
    /// Keep reading frames.
    Continue,
    /// The stream was answered or refused; drop its receive side.
    Done,
}

impl Connection {
    pub(super) fn on_request_data(
        &mut self,
        id: StreamId,
        mut req: Box<RequestRecv>,
        data: &mut Bytes,
        fin: bool,
    ) -> Result<Option<Recv>, InputError> {
        if let Some((held, held_fin)) = req.held.as_mut() {
            // Server before the client's SETTINGS: hold the bytes (bounded).
            if held.len().saturating_add(data.len()) > self.config.max_held_request_bytes {
                data.clear();
                return Err(InputError::stream(id, Code::H3_REQUEST_REJECTED));
            }
            held.extend_from_slice(data);
            data.clear();
            *held_fin |= fin;
            // At the limit the transport stops reading until the request is replayed.
            req.starved |= held.len() >= self.config.max_held_request_bytes;
            return Ok(Some(Recv::Request(req)));
        }
        while let Some(event) = req.frames.decode(data)? {
            match event {
                FrameEvent::Frame(Frame::WebTransportStream(session)) => {
                    return self.on_wt_bidi_signal(id, SessionId(StreamId(session)));
                }
                FrameEvent::Frame(Frame::Headers(block)) => {
                    if req.headers_seen {
                        if req.session.is_some() {
                            return Err(
                                unexpected("HEADERS on a CONNECT stream after the head").into()
                            );
                        }
                        if req.trailers_seen {
                            return Err(unexpected("HEADERS after trailers").into());
                        }
                        // Trailers of an ordinary message: ignored.
                        req.trailers_seen = true;
                        continue;
                    }
                    req.headers_seen = true;
                    if self.side == Side::Server
                        && self.goaway_sent.is_some_and(|goaway| id.0 >= goaway)
                    {
                        // RFC 9114 §5.2: a request the GOAWAY excluded is not processed.
                        debug!(stream = %id, "request after GOAWAY rejected");
                        return Err(InputError::stream(id, Code::H3_REQUEST_REJECTED));
                    }
                    let outcome = match self.side {
                        Side::Server => self.on_request_head(id, &mut req, &block)?,
                        Side::Client => self.on_response_head(id, &mut req, &block)?,
                    };
                    if let HeadOutcome::Done = outcome {
                        data.clear();
                        return Ok(None);
                    }
                }
                FrameEvent::HeadersTooLarge(len) => {
                    if req.session.is_some() && req.headers_seen {
                        return Err(unexpected("HEADERS on a CONNECT stream after the head").into());
                    }
                    debug!(stream = %id, len, "header section over the limit");
                    return Err(match req.session {
                        Some(session) => InputError::session(session, Code::H3_EXCESSIVE_LOAD),
                        None => InputError::stream(id, Code::H3_EXCESSIVE_LOAD),
                    });
                }
                FrameEvent::DataHeader(_) => {
                    if !req.headers_seen {
                        return Err(unexpected("DATA before HEADERS").into());
                    }
                    if req.trailers_seen {
                        return Err(unexpected("DATA after trailers").into());
                    }
                }
                FrameEvent::Data(chunk) => {
                    let Some(session) = req.session else { continue };
                    match self.on_connect_stream_data(session, chunk) {
                        ConnectFlow::Continue => {}
                        ConnectFlow::Done => {
                            data.clear();
                            return Ok(None);
                        }
                        ConnectFlow::AfterClose { trailing: false } => {
                            // The rest of `data` (if any) is checked in the new state.
                            return Ok(Some(Recv::AfterClose(req.frames)));
                        }
                        ConnectFlow::AfterClose { trailing: true } => {
                            data.clear();
                            self.data_after_close(id);
                            return Ok(None);
                        }
                    }
                }
                FrameEvent::Frame(Frame::PushPromise { .. }) => {
                    return Err(match self.side {
                        Side::Server => unexpected("PUSH_PROMISE from a client"),
                        Side::Client => ProtocolError::new(
                            Code::H3_ID_ERROR,
                            "PUSH_PROMISE without MAX_PUSH_ID",
                        ),
                    }
                    .into());
                }
                FrameEvent::Frame(
                    Frame::Settings(_)
                    | Frame::Goaway(_)
                    | Frame::MaxPushId(_)
                    | Frame::CancelPush(_),
                ) => return Err(unexpected("control frame on a request stream").into()),
                FrameEvent::Frame(Frame::ReservedHttp2(_)) => {
                    return Err(unexpected("HTTP/2 frame type").into());
                }
                FrameEvent::Frame(Frame::Unknown(_) | Frame::Data(_)) => {}
            }
        }
        if fin {
            req.frames.finish()?;
            return Ok(self.on_request_fin(id, &req));
        }
        Ok(Some(Recv::Request(req)))
    }

    /// Server: the client's SETTINGS arrived, so the request streams held until then are read
    /// now, in stream order, through the normal input path (their bytes were counted once).
    pub(super) fn replay_held_requests(&mut self) {
        let ids = self
            .streams
            .recv_ids(|r| matches!(r, Recv::Request(req) if req.held.is_some()));
        for id in ids {
            if self.closed {
                return;
            }
            let starved = matches!(self.streams.recv(id), Some(Recv::Request(r)) if r.starved);
            let Some((bytes, fin)) = self.streams.take_held(id) else {
                continue;
            };
            if starved {
                // Read like any request from here on: no budget limit.
                self.actions
                    .push_back(crate::action::Action::ResumeReading { stream: id });
            }
            if let Err(e) = self.on_stream_data(id, bytes, fin) {
                self.fail(e);
            }
        }
    }

    /// The peer finished a request stream.
    fn on_request_fin(&mut self, id: StreamId, req: &RequestRecv) -> Option<Recv> {
        if let Some(session) = req.session {
            if let Some(s) = self.sessions.get(session)
                && let Err(e) = s.capsules.finish()
            {
                self.abort_session(session, e.code);
                return None;
            }
            if let Some(state) = self.sessions.state(session) {
                debug!(%session, "CONNECT stream finished by peer");
                if self.streams.has_send(id) {
                    if self.side == Side::Server && state == SessionState::Requested {
                        // No response was sent: a bare FIN would be none (RFC 9114 §4.1).
                        self.reset_send(id, Code::H3_REQUEST_CANCELLED);
                    } else {
                        self.queue_write(id, Bytes::new(), true);
                    }
                }
                self.end_session(session, 0, String::new(), CloseCause::RemoteFin);
            }
            return None;
        }
        if !req.headers_seen && self.side == Side::Server {
            self.refuse(id, Code::H3_REQUEST_INCOMPLETE);
        }
        None
    }

    /// Decodes a field section: QPACK failures are connection errors, an oversized section a
    /// stream error (H3_EXCESSIVE_LOAD, RFC 9114 §4.2.2).
    fn decode_fields(&self, id: StreamId, block: &[u8]) -> Result<Vec<FieldLine>, InputError> {
        match qpack::decode_field_section(block, self.config.max_field_section_size) {
            Ok(fields) => Ok(fields),
            Err(qpack::Error::FieldSectionTooLarge { .. }) => {
                Err(InputError::stream(id, Code::H3_EXCESSIVE_LOAD))
            }
            Err(e) => {
                Err(ProtocolError::new(Code(e.code()), "field section cannot be decoded").into())
            }
        }
    }

    /// Server: the head of a request.
    fn on_request_head(
        &mut self,
        id: StreamId,
        req: &mut RequestRecv,
        block: &[u8],
    ) -> Result<HeadOutcome, InputError> {
        let fields = self.decode_fields(id, block)?;
        let request = match headers::decode_request(&fields) {
            Ok(r) => r,
            Err(e) => {
                debug!(stream = %id, error = %e, "malformed request");
                return Err(InputError::stream(id, Code::H3_MESSAGE_ERROR));
            }
        };
        let is_extended = request.extensions().get::<headers::Protocol>().is_some();
        if is_extended && !self.config.webtransport_enabled() {
            // Without ENABLE_CONNECT_PROTOCOL, `:protocol` makes the request malformed.
            return Err(InputError::stream(id, Code::H3_MESSAGE_ERROR));
        }
        let connect = match ConnectRequest::from_request(&request) {
            Ok(c) => c,
            Err(e) => {
                debug!(stream = %id, error = %e, "malformed WebTransport CONNECT");
                return Err(InputError::stream(id, Code::H3_MESSAGE_ERROR));
            }
        };
        let Some(connect) = connect else {
            return Ok(self.on_plain_request(id, request));
        };
        let Some(dialect) = self.dialect() else {
            self.respond_status(id, http::StatusCode::NOT_IMPLEMENTED);
            return Ok(HeadOutcome::Done);
        };
        let expected = if dialect.protocol_token() == ProtocolToken::WebTransportH3.as_str() {
            ProtocolToken::WebTransportH3
        } else {
            ProtocolToken::WebTransport
        };
        if connect.protocol != expected {
            self.respond_status(id, http::StatusCode::NOT_IMPLEMENTED);
            return Ok(HeadOutcome::Done);
        }
        if self.sessions.len() as u64 >= self.session_limit() {
            debug!(stream = %id, "session limit reached");
            self.stats.sessions_rejected = self.stats.sessions_rejected.saturating_add(1);
            return Err(InputError::stream(id, Code::H3_REQUEST_REJECTED));
        }
        let session = SessionId(id);
        let mut s = Session::new(
            session,
            SessionState::Requested,
            self.config.max_datagram_capsule,
        );
        s.request = Some(connect.clone());
        self.sessions.insert(s);
        self.adopt_early_streams(session);
        req.session = Some(session);
        self.streams.ensure_send(id);
        self.stats.sessions_created = self.stats.sessions_created.saturating_add(1);
        info!(%session, authority = %connect.authority, path = %connect.path, "session requested");
        self.events.push_back(Event::SessionRequest {
            session,
            request: connect,
        });
        Ok(HeadOutcome::Continue)
    }

    /// Server: a request that is not WebTransport.
    fn on_plain_request(&mut self, id: StreamId, request: http::Request<()>) -> HeadOutcome {
        self.refuse_early_streams(SessionId(id));
        if self.config.handle_requests {
            self.streams.ensure_send(id);
            self.events.push_back(Event::Request {
                stream: id,
                request,
            });
            // Keep reading (the body is discarded) until FIN.
            HeadOutcome::Continue
        } else {
            debug!(stream = %id, uri = %request.uri(), "no request handler: 404");
            self.respond_status(id, http::StatusCode::NOT_FOUND);
            HeadOutcome::Done
        }
    }

    /// Sends a response with only a status, then FIN, and stops reading the request.
    pub(super) fn respond_status(&mut self, id: StreamId, status: http::StatusCode) {
        let response = http::Response::builder()
            .status(status)
            .body(())
            .unwrap_or_default();
        self.write_head(id, &headers::encode_response(&response), true);
        self.actions.push_back(crate::action::Action::StopSending {
            stream: id,
            code: Code::H3_NO_ERROR,
        });
    }

    /// Writes a HEADERS frame.
    pub(super) fn write_head(&mut self, id: StreamId, fields: &[FieldLine], fin: bool) {
        let mut block = BytesMut::new();
        qpack::encode_field_section(fields, &mut block);
        let mut frame = BytesMut::new();
        Frame::Headers(block.freeze()).encode(&mut frame);
        self.queue_write(id, frame.freeze(), fin);
    }

    /// Client: the response to our CONNECT.
    fn on_response_head(
        &mut self,
        id: StreamId,
        req: &mut RequestRecv,
        block: &[u8],
    ) -> Result<HeadOutcome, InputError> {
        let Some(session) = req.session else {
            return Err(ProtocolError::new(
                Code::H3_STREAM_CREATION_ERROR,
                "server-initiated bidirectional stream is not WebTransport",
            )
            .into());
        };
        let fields = self.decode_fields(id, block).map_err(|e| match e {
            // An oversized response ends the session its CONNECT started.
            InputError::Stream { code, .. } => InputError::session(session, code),
            other => other,
        })?;
        let response = match ConnectResponse::decode(&fields) {
            Ok(r) => r,
            Err(e) => {
                debug!(%session, error = %e, "malformed response");
                return Err(InputError::session(session, Code::H3_MESSAGE_ERROR));
            }
        };
        if response.status.is_informational() {
            // Interim response: wait for the final one.
            req.headers_seen = false;
            return Ok(HeadOutcome::Continue);
        }
        let Some(s) = self.sessions.get_mut(session) else {
            return Ok(HeadOutcome::Done);
        };
        if response.is_accepted() {
            let mut response = response;
            let offered = s
                .request
                .as_ref()
                .map(|r| r.available_protocols.clone())
                .unwrap_or_default();
            if response
                .protocol
                .as_ref()
                .is_some_and(|p| !offered.contains(p))
            {
                // Not one we offered: ignored, as browsers do.
                response.protocol = None;
            }
            s.state = SessionState::Established;
            self.stats.sessions_accepted = self.stats.sessions_accepted.saturating_add(1);
            info!(%session, status = %response.status, "session established");
            self.events
                .push_back(Event::SessionEstablished { session, response });
            self.session_established(session);
            Ok(HeadOutcome::Continue)
        } else {
            info!(%session, status = %response.status, "session rejected");
            self.remove_session(session);
            self.stats.sessions_rejected = self.stats.sessions_rejected.saturating_add(1);
            self.events.push_back(Event::SessionRejected {
                session,
                status: response.status,
                headers: response.headers,
            });
            // Our request is over too: finish its send side.
            self.queue_write(id, Bytes::new(), true);
            self.actions.push_back(crate::action::Action::StopSending {
                stream: id,
                code: Code::H3_NO_ERROR,
            });
            Ok(HeadOutcome::Done)
        }
    }

    /// DATA payload on a CONNECT stream.
    fn on_connect_stream_data(&mut self, session: SessionId, mut chunk: Bytes) -> ConnectFlow {
        let Some(s) = self.sessions.get_mut(session) else {
            return ConnectFlow::Continue;
        };
        s.active = true;
        if self.side == Side::Server && s.state != SessionState::Established {
            // Capsules are not interpreted before the 2xx is sent.
            if s.early.len().saturating_add(chunk.len()) > self.config.max_connect_stream_buffer {
                self.abort_session(session, Code::H3_EXCESSIVE_LOAD);
                return ConnectFlow::Done;
            }
            s.early.extend_from_slice(&chunk);
            return ConnectFlow::Continue;
        }
        self.feed_capsules(session, &mut chunk)
    }

    /// Decodes and handles the capsules in `chunk`.
    pub(super) fn feed_capsules(&mut self, session: SessionId, chunk: &mut Bytes) -> ConnectFlow {
        loop {
            let Some(s) = self.sessions.get_mut(session) else {
                return ConnectFlow::Continue;
            };
            match s.capsules.decode(chunk) {
                Ok(Some(capsule)) => {
                    self.stats.capsules_received = self.stats.capsules_received.saturating_add(1);
                    if !self.on_capsule(session, capsule) {
                        return ConnectFlow::AfterClose {
                            trailing: !chunk.is_empty(),
                        };
                    }
                }
                Ok(None) => return ConnectFlow::Continue,
                Err(e) => {
                    debug!(%session, error = %e, "malformed capsule");
                    if e.code == Code::WT_FLOW_CONTROL_ERROR {
                        self.close_session_inner(
                            session,
                            e.code.0 as u32,
                            e.reason,
                            CloseCause::ProtocolError(e.code),
                        );
                    } else {
                        self.abort_session(session, e.code);
                    }
                    return ConnectFlow::Done;
                }
            }
        }
    }

    /// Handles one capsule. Returns `false` after the peer's close capsule.
    fn on_capsule(&mut self, session: SessionId, capsule: Capsule) -> bool {
        debug!(%session, ?capsule, "capsule");
        match capsule {
            Capsule::CloseSession { code, reason } => {
                info!(%session, code, %reason, "session closed by peer");
                let stream = session.stream();
                if self.streams.has_send(stream) {
                    self.queue_write(stream, Bytes::new(), true);
                }
                self.end_session(session, code, reason, CloseCause::Remote);
                // Reading goes on until FIN: anything more is H3_MESSAGE_ERROR.
                false
            }
            Capsule::DrainSession => {
                if let Some(s) = self.sessions.get_mut(session)
                    && !s.draining
                {
                    s.draining = true;
                    self.events.push_back(Event::SessionDraining { session });
                }
                true
            }
            Capsule::Datagram(data) => {
                if self.datagrams_enabled() {
                    self.deliver_datagram(session, data);
                }
                true
            }
            // Flow control is not enabled by this engine, so its capsules are ignored
            // (draft-ietf-webtrans-http3 §5.6.x); unknown and grease capsules are skipped.
            Capsule::MaxData(_)
            | Capsule::MaxStreams(..)
            | Capsule::DataBlocked(_)
            | Capsule::StreamsBlocked(..)
            | Capsule::Unknown { .. } => true,
        }
    }

    /// Frames on a CONNECT stream after the peer's close capsule: unknown frames and empty DATA
    /// frames are ignored, capsule data is H3_MESSAGE_ERROR, other known frames are
    /// H3_FRAME_UNEXPECTED.
    pub(super) fn on_after_close_data(
        &mut self,
        id: StreamId,
        mut frames: crate::frame::FrameDecoder,
        data: &mut Bytes,
        fin: bool,
    ) -> Result<Option<Recv>, InputError> {
        while let Some(event) = frames.decode(data)? {
            match event {
                FrameEvent::DataHeader(0) | FrameEvent::Frame(Frame::Unknown(_)) => {}
                FrameEvent::DataHeader(_) | FrameEvent::Data(_) => {
                    data.clear();
                    self.data_after_close(id);
                    return Ok(None);
                }
                FrameEvent::Frame(Frame::ReservedHttp2(_)) => {
                    return Err(unexpected("HTTP/2 frame type").into());
                }
                FrameEvent::Frame(_) | FrameEvent::HeadersTooLarge(_) => {
                    return Err(unexpected("frame after the close capsule").into());
                }
            }
        }
        if fin {
            frames.finish()?;
            return Ok(None);
        }
        Ok(Some(Recv::AfterClose(frames)))
    }

    /// Bytes followed the peer's close capsule: H3_MESSAGE_ERROR on the CONNECT stream.
    pub(super) fn data_after_close(&mut self, id: StreamId) {
        debug!(stream = %id, "data after the close capsule");
        self.abort_stream(id, Code::H3_MESSAGE_ERROR);
    }

    /// The session of a CONNECT stream, if `stream` is one.
    pub(super) fn session_of_connect_stream(&self, stream: StreamId) -> Option<SessionId> {
        let id = SessionId(stream);
        self.sessions.contains(id).then_some(id)
    }

    /// Client: sends the CONNECT of a pending session in the negotiated dialect.
    pub(super) fn send_connect(&mut self, session: SessionId) {
        let Some(dialect) = self.dialect() else {
            return;
        };
        let Some(s) = self.sessions.get_mut(session) else {
            return;
        };
        let Some(request) = s.request.as_mut() else {
            return;
        };
        request.protocol = if dialect.protocol_token() == ProtocolToken::WebTransportH3.as_str() {
            ProtocolToken::WebTransportH3
        } else {
            ProtocolToken::WebTransport
        };
        request.draft02 = dialect.uses_draft02_headers();
        let fields = request.encode();
        s.state = SessionState::Requested;
        match fields {
            Ok(fields) => {
                info!(%session, %dialect, "sending CONNECT");
                self.write_head(session.stream(), &fields, false);
            }
            Err(e) => {
                debug!(%session, error = %e, "CONNECT cannot be encoded");
                self.reset_send(session.stream(), Code::H3_REQUEST_CANCELLED);
                self.streams.remove_recv(session.stream());
                self.end_session(session, 0, e.to_string(), CloseCause::Local);
            }
        }
    }

    /// Ends a session: resets and stops every stream of it with WT_SESSION_GONE, drops its
    /// buffered datagrams, and reports one `SessionClosed`. The CONNECT stream itself is left to
    /// the caller.
    pub(super) fn end_session(
        &mut self,
        session: SessionId,
        code: u32,
        reason: String,
        cause: CloseCause,
    ) {
        if self.remove_session(session) {
            self.stats.sessions_closed = self.stats.sessions_closed.saturating_add(1);
            self.events.push_back(Event::SessionClosed {
                session,
                code,
                reason,
                cause,
            });
            self.connect_slot_freed();
        }
    }

    /// The one path by which a session ends: it is removed with everything it holds, except
    /// its CONNECT stream. Each of its streams is reset and stopped with WT_SESSION_GONE and
    /// its held datagrams are dropped. Returns whether the session existed.
    pub(super) fn remove_session(&mut self, session: SessionId) -> bool {
        let Some((s, dropped)) = self.sessions.remove(session) else {
            return false;
        };
        // The connection's idle period starts over once its last session is gone.
        self.used = true;
        self.stats.datagrams_dropped = self.stats.datagrams_dropped.saturating_add(dropped as u64);
        for stream in s.streams {
            let mut reset = false;
            if self.streams.has_send(stream) {
                self.reset_send(stream, Code::WT_SESSION_GONE);
                reset = true;
            }
            if let Some(state) = self.streams.recv(stream) {
                let finished = matches!(state, crate::stream::Recv::Wt(w) if w.buf.fin);
                self.stop_recv(stream, Code::WT_SESSION_GONE);
                reset |= !finished;
            }
            if reset {
                self.stats.streams_reset = self.stats.streams_reset.saturating_add(1);
            }
        }
        true
    }
}
