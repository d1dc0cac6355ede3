//! Transport input: stream data, resets, stop-sending and datagrams, routed by stream kind.

use bytes::Bytes;
use tracing::debug;

use super::Connection;
use crate::Dir;
use crate::error::{Code, InputError, ProtocolError};
use crate::event::{CloseCause, Event};
use crate::frame::FrameDecoder;
use crate::id::{SessionId, Side, StreamId};
use crate::qpack::{DecoderStreamReceiver, EncoderStreamReceiver};
use crate::session::SessionState;
use crate::stream::{Recv, RequestRecv};
use crate::stream_header::{UniHeaderReader, UniStreamHeader};
use crate::varint;

impl Connection {
    /// Bytes arrived on a stream, in order, with `fin` when they end it. An empty `data` with
    /// `fin` is a bare FIN. The first data on a peer stream opens it.
    pub fn handle_stream_data(&mut self, stream: StreamId, data: Bytes, fin: bool) {
        if self.closed {
            return;
        }
        self.stats.bytes_in = self.stats.bytes_in.saturating_add(data.len() as u64);
        if matches!(self.streams.recv(stream), Some(Recv::Wt(_))) {
            // The per-packet path of stream payload: no span, no routing.
            return self.on_wt_data(stream, data, fin);
        }
        let span = self.span.clone();
        let _entered = span.enter();
        if let Err(e) = self.on_stream_data(stream, data, fin) {
            self.fail(e);
        }
    }

    /// How many bytes the transport should read from `stream` now: the room left in the
    /// stream's buffer. A transport that reads no more than this keeps the engine's memory
    /// bounded and leaves QUIC flow control to hold the peer.
    ///
    /// The connection's budget ([`Config::max_connection_buffer`](crate::Config)) caps it too.
    /// A stream that gets 0 is told to read again with [`Action::ResumeReading`] once it has
    /// room, whichever limit it hit, so a transport that stops reading at 0 loses nothing.
    pub fn recv_budget(&mut self, stream: StreamId) -> usize {
        let own = match self.streams.recv(stream) {
            Some(Recv::Wt(w)) => {
                let limit = if w.buffered {
                    self.config.max_buffered_stream_bytes
                } else {
                    self.config.stream_recv_buffer
                };
                limit.saturating_sub(w.buf.len)
            }
            Some(Recv::Request(r)) => match &r.held {
                Some((held, _)) => self
                    .config
                    .max_held_request_bytes
                    .saturating_sub(held.len()),
                // Parsed as it comes, but its first bytes may open a WebTransport stream
                // whose payload is then held: the connection's budget bounds it.
                None => usize::MAX,
            },
            // A new stream, or one whose type is not known yet: it may be WebTransport.
            None | Some(Recv::UniHeader(_)) => usize::MAX,
            // Consumed as it arrives.
            Some(_) => return usize::MAX,
        };
        let room = self.connection_room();
        if own > 0 && room == 0 {
            self.streams.wait_for_room(stream);
        }
        own.min(room)
    }

    /// The peer reset its send side of `stream` with `code`.
    pub fn handle_stream_reset(&mut self, stream: StreamId, code: u64) {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return;
        }
        if let Err(e) = self.on_stream_reset(stream, Code(code)) {
            self.close_connection(e);
        }
    }

    /// The peer asked us to stop sending on `stream` with `code`. The engine answers with
    /// RESET_STREAM, as RFC 9000 §3.5 requires.
    pub fn handle_stop_sending(&mut self, stream: StreamId, code: u64) {
        let span = self.span.clone();
        let _entered = span.enter();
        if self.closed {
            return;
        }
        let code = Code(code);
        if stream.initiator() == self.side && stream.dir() == Dir::Uni && stream.index() < 3 {
            return self.close_connection(ProtocolError::new(
                Code::H3_CLOSED_CRITICAL_STREAM,
                "peer stopped one of our critical streams",
            ));
        }
        let Some(send) = self.streams.send(stream) else {
            return;
        };
        if let Some(session) = self.session_of_connect_stream(stream) {
            self.reset_send(stream, Code::WT_SESSION_GONE);
            if let Some(s) = self.sessions.get_mut(session)
                && s.state == SessionState::Established
                && self.streams.has_recv(stream)
            {
                // The peer's side of the CONNECT stream may still carry its WT_CLOSE_SESSION:
                // the session ends when that side ends (draft-ietf-webtrans-http3 §6).
                s.connect_send_closed = true;
                return;
            }
            self.stop_recv(stream, Code::WT_SESSION_GONE);
            return self.end_session(session, 0, String::new(), CloseCause::Reset(code));
        }
        let is_wt = send.session.is_some();
        self.reset_send(stream, code);
        if is_wt {
            self.stats.streams_reset = self.stats.streams_reset.saturating_add(1);
            self.events.push_back(Event::StreamStopped {
                stream,
                code: code.to_app(),
            });
        }
    }

    /// A QUIC DATAGRAM arrived.
    pub fn handle_datagram(&mut self, mut data: Bytes) {
        // The per-datagram path enters no span (it costs more than the rest of this call);
        // errors close the connection through `close_connection`, which enters it.
        if self.closed {
            return;
        }
        self.stats.bytes_in = self.stats.bytes_in.saturating_add(data.len() as u64);
        let error = |reason| ProtocolError::new(Code::H3_DATAGRAM_ERROR, reason);
        if !self.config.datagrams || !self.config.webtransport_enabled() {
            return self.close_connection(error("datagram received but not enabled"));
        }
        if self.peer_settings.is_some() && !self.datagrams_enabled() {
            return self.close_connection(error("datagram received but not negotiated"));
        }
        let Some(quarter) = varint::decode(&mut data) else {
            return self.close_connection(error("datagram too short for its quarter stream id"));
        };
        if quarter > (varint::MAX >> 2) {
            return self.close_connection(error("quarter stream id too large"));
        }
        let session = SessionId(StreamId(quarter << 2));
        tracing::trace!(%session, len = data.len(), "datagram received");
        self.on_datagram(session, data);
    }

    pub(super) fn on_stream_data(
        &mut self,
        id: StreamId,
        mut data: Bytes,
        fin: bool,
    ) -> Result<(), InputError> {
        match self.streams.recv(id) {
            // The hot path: payload of an established WebTransport stream, handled in place.
            Some(Recv::Wt(_)) => {
                self.on_wt_data(id, data, fin);
                return Ok(());
            }
            Some(_) => {}
            None => {
                if !self.open_peer_stream(id)? {
                    debug!(stream = %id, len = data.len(), "data on a closed stream ignored");
                    return Ok(());
                }
            }
        }
        // Each pass handles one state; a stream whose kind changes (a uni header completes, a
        // bidi stream turns out to be WebTransport) goes round again with the rest of the data.
        loop {
            let Some(state) = self.streams.remove_recv(id) else {
                return Ok(());
            };
            let before = std::mem::discriminant(&state);
            let next = match state {
                Recv::UniHeader(mut reader) => match reader.read(&mut data) {
                    Some(header) => self.on_uni_header(id, header)?,
                    None => {
                        if fin {
                            debug!(stream = %id, "uni stream ended before its type");
                            None
                        } else {
                            Some(Recv::UniHeader(reader))
                        }
                    }
                },
                Recv::Control { frames, settings } => {
                    self.on_control_data(id, frames, settings, &mut data, fin)?
                }
                Recv::QpackEncoder(mut rx) => {
                    rx.feed(&data).map_err(|e| qpack_error(&e))?;
                    data.clear();
                    critical_fin(fin)?;
                    Some(Recv::QpackEncoder(rx))
                }
                Recv::QpackDecoder(mut rx) => {
                    rx.feed(&data).map_err(|e| qpack_error(&e))?;
                    data.clear();
                    critical_fin(fin)?;
                    Some(Recv::QpackDecoder(rx))
                }
                Recv::Discard => {
                    data.clear();
                    if fin { None } else { Some(Recv::Discard) }
                }
                Recv::AfterClose(frames) => self.on_after_close_data(id, frames, &mut data, fin)?,
                Recv::Request(req) => self.on_request_data(id, req, &mut data, fin)?,
                Recv::Wt(w) => {
                    // A stream that just became WebTransport: its first payload and FIN.
                    self.streams.insert_recv(id, Recv::Wt(w));
                    self.on_wt_data(id, std::mem::take(&mut data), fin);
                    return Ok(());
                }
            };
            let Some(next) = next else {
                self.stream_half_closed(id);
                return Ok(());
            };
            let converted = std::mem::discriminant(&next) != before;
            self.streams.insert_recv(id, next);
            // Every state consumes all of `data` and handles `fin`, except when it turns into
            // another state: then the new state gets the rest (and the FIN) in another pass.
            if data.is_empty() && !(converted && fin) {
                return Ok(());
            }
        }
    }

    /// Creates the receive state of a new peer stream. Returns `false` for a stream that is
    /// closed already (its data is ignored).
    fn open_peer_stream(&mut self, id: StreamId) -> Result<bool, InputError> {
        if id.initiator() == self.side {
            // Our own stream: only bidi streams have a receive side, created when opened.
            return Ok(false);
        }
        let dir = id.dir();
        if !self.streams.mark_peer(id) {
            return Ok(false);
        }
        if dir == Dir::Bi {
            // A request or a session's stream: the connection is in use.
            self.used = true;
        }
        let state = match (dir, self.side) {
            (Dir::Uni, _) => Recv::UniHeader(UniHeaderReader::new()),
            (Dir::Bi, Side::Server) => {
                // After our GOAWAY, new *requests* are refused when their HEADERS arrive; a
                // new bidi stream may still be a WebTransport stream of a live session.
                let held = if self.peer_settings.is_none() {
                    if self.streams.held_requests() >= self.config.max_held_requests {
                        return Err(InputError::stream(id, Code::H3_REQUEST_REJECTED));
                    }
                    Some((bytes::BytesMut::new(), false))
                } else {
                    None
                };
                Recv::Request(Box::new(RequestRecv::new(
                    self.frame_decoder(true),
                    held,
                    None,
                )))
            }
            (Dir::Bi, Side::Client) => {
                // Server-initiated bidi streams exist only as WebTransport streams.
                Recv::Request(Box::new(RequestRecv::new(
                    self.frame_decoder(true),
                    None,
                    None,
                )))
            }
        };
        self.streams.insert_recv(id, state);
        Ok(true)
    }

    /// The buffer limit for frames parsed whole.
    pub(super) fn frame_limit(&self) -> usize {
        usize::try_from(self.config.max_field_section_size)
            .unwrap_or(usize::MAX)
            .max(1024)
    }

    /// A frame decoder; `signal` allows the WebTransport signal first (when WebTransport is
    /// on; without it 0x41 is an unknown frame type).
    pub(super) fn frame_decoder(&self, signal: bool) -> FrameDecoder {
        let frames = FrameDecoder::new(self.frame_limit(), signal);
        if self.config.webtransport_enabled() {
            frames
        } else {
            frames.without_webtransport()
        }
    }

    fn on_uni_header(
        &mut self,
        id: StreamId,
        header: UniStreamHeader,
    ) -> Result<Option<Recv>, InputError> {
        let creation = |reason| ProtocolError::new(Code::H3_STREAM_CREATION_ERROR, reason);
        debug!(stream = %id, ?header, "peer uni stream");
        Ok(match header {
            UniStreamHeader::Control => {
                if self.peer_control.replace(id).is_some() {
                    return Err(creation("second control stream").into());
                }
                Some(Recv::Control {
                    frames: self.frame_decoder(false),
                    settings: false,
                })
            }
            UniStreamHeader::QpackEncoder => {
                if self.peer_encoder.replace(id).is_some() {
                    return Err(creation("second QPACK encoder stream").into());
                }
                Some(Recv::QpackEncoder(EncoderStreamReceiver::new()))
            }
            UniStreamHeader::QpackDecoder => {
                if self.peer_decoder.replace(id).is_some() {
                    return Err(creation("second QPACK decoder stream").into());
                }
                Some(Recv::QpackDecoder(DecoderStreamReceiver::new()))
            }
            UniStreamHeader::Push(_) => {
                if self.side == Side::Server {
                    return Err(creation("client-initiated push stream").into());
                }
                return Err(ProtocolError::new(
                    Code::H3_ID_ERROR,
                    "push stream without MAX_PUSH_ID",
                )
                .into());
            }
            UniStreamHeader::WebTransport(session) if self.config.webtransport_enabled() => {
                self.on_wt_stream_header(id, Dir::Uni, SessionId(StreamId(session)))?
            }
            // Without WebTransport its stream type is an unknown one (RFC 9114 §6.2).
            UniStreamHeader::WebTransport(_) | UniStreamHeader::Unknown(_) => {
                self.abort_stream(id, Code::H3_STREAM_CREATION_ERROR);
                None
            }
        })
    }

    fn on_stream_reset(&mut self, id: StreamId, code: Code) -> Result<(), ProtocolError> {
        if [self.peer_control, self.peer_encoder, self.peer_decoder].contains(&Some(id)) {
            return Err(ProtocolError::new(
                Code::H3_CLOSED_CRITICAL_STREAM,
                "critical stream reset",
            ));
        }
        let Some(state) = self.streams.remove_recv(id) else {
            // Reset before the first byte: never associated with anything.
            let peer = id.initiator() != self.side;
            if peer && self.streams.mark_peer(id) {
                self.stats.streams_unassociated = self.stats.streams_unassociated.saturating_add(1);
            }
            return Ok(());
        };
        match state {
            Recv::UniHeader(_) => {
                self.stats.streams_unassociated = self.stats.streams_unassociated.saturating_add(1);
            }
            Recv::Wt(w) => {
                self.stats.streams_reset = self.stats.streams_reset.saturating_add(1);
                if !w.buffered {
                    self.events.push_back(Event::StreamReset {
                        stream: id,
                        code: code.to_app(),
                    });
                }
                self.touch(w.session);
                if w.buffered {
                    // Nothing of it was ever reported: forget it entirely, our send half
                    // included (the application never heard of the stream).
                    if self.streams.has_send(id) {
                        self.reset_send(id, Code::WT_BUFFERED_STREAM_REJECTED);
                    }
                    if let Some(s) = self.sessions.get_mut(w.session) {
                        s.streams.remove(&id);
                    }
                }
                self.stream_half_closed(id);
            }
            Recv::Request(req) => {
                if req.session.is_none() && !req.headers_seen {
                    // Reset before its first frame (or WebTransport header) was complete.
                    self.stats.streams_unassociated =
                        self.stats.streams_unassociated.saturating_add(1);
                }
                if let Some(session) = req.session {
                    if self.streams.has_send(id) {
                        self.reset_send(id, Code::WT_SESSION_GONE);
                    }
                    self.end_session(session, 0, String::new(), CloseCause::Reset(code));
                } else if self.streams.has_send(id) {
                    self.reset_send(id, Code::H3_REQUEST_CANCELLED);
                }
            }
            Recv::AfterClose(_) | Recv::Discard => {}
            Recv::Control { .. } | Recv::QpackEncoder(_) | Recv::QpackDecoder(_) => {
                return Err(ProtocolError::new(
                    Code::H3_CLOSED_CRITICAL_STREAM,
                    "critical stream reset",
                ));
            }
        }
        self.stream_half_closed(id);
        Ok(())
    }

    #[inline]
    pub(super) fn on_datagram(&mut self, session: SessionId, data: Bytes) {
        match self.sessions.state(session) {
            Some(SessionState::Established) if self.datagrams_enabled() => {
                self.deliver_datagram(session, data);
            }
            Some(_) => self.buffer_datagram(session, data),
            None if self.beyond_peer_limit(session) => {
                self.close_connection(ProtocolError::new(
                    Code::H3_ID_ERROR,
                    "datagram names a stream beyond the peer's stream limit",
                ));
            }
            None if self.session_may_appear(session) => self.buffer_datagram(session, data),
            None if self.is_plain_request(session.stream()) => {
                // RFC 9297 §2.1: a request without datagram semantics is aborted.
                debug!(%session, "datagram for a plain request: stream aborted");
                self.stats.datagrams_dropped = self.stats.datagrams_dropped.saturating_add(1);
                if self.streams.has_send(session.stream()) {
                    self.reset_send(session.stream(), Code::H3_DATAGRAM_ERROR);
                }
                self.stop_recv(session.stream(), Code::H3_DATAGRAM_ERROR);
            }
            None => {
                debug!(%session, "datagram for a closed session dropped");
                self.stats.datagrams_dropped = self.stats.datagrams_dropped.saturating_add(1);
            }
        }
    }

    /// Server: whether `session` names a client bidi stream the peer cannot have opened yet,
    /// given the stream limit the transport reported (RFC 9297 §2.1).
    fn beyond_peer_limit(&self, session: SessionId) -> bool {
        let stream = session.stream();
        let Some(limit) = self.transport.peer_bidi_streams else {
            return false;
        };
        self.side == Side::Server
            && stream.is_client_bidi()
            && stream.index() >= self.streams.peer_next_unused(Dir::Bi).saturating_add(limit)
    }

    /// Whether `stream` is a request stream whose head showed it is not a CONNECT.
    fn is_plain_request(&self, stream: StreamId) -> bool {
        matches!(self.streams.recv(stream), Some(Recv::Request(r)) if r.headers_seen && r.session.is_none())
    }

    #[inline]
    pub(super) fn deliver_datagram(&mut self, session: SessionId, data: Bytes) {
        if self.queued_datagrams >= self.config.max_queued_datagrams
            || data.len() > self.connection_room()
        {
            self.stats.datagrams_dropped = self.stats.datagrams_dropped.saturating_add(1);
            return;
        }
        self.queued_datagram_bytes = self.queued_datagram_bytes.saturating_add(data.len());
        self.touch(session);
        self.queued_datagrams = self.queued_datagrams.saturating_add(1);
        self.stats.datagrams_received = self.stats.datagrams_received.saturating_add(1);
        self.events.push_back(Event::Datagram { session, data });
    }

    fn buffer_datagram(&mut self, session: SessionId, data: Bytes) {
        let max = self.config.max_buffered_datagrams;
        if data.len() > self.connection_room() || !self.sessions.hold_datagram(session, data, max) {
            debug!(%session, "datagram buffer full, dropped");
            self.stats.datagrams_dropped = self.stats.datagrams_dropped.saturating_add(1);
        }
    }
}

fn qpack_error(e: &crate::qpack::Error) -> ProtocolError {
    let reason = match e {
        crate::qpack::Error::EncoderStream(r) | crate::qpack::Error::DecoderStream(r) => r,
        _ => "QPACK error",
    };
    ProtocolError::new(Code(e.code()), reason)
}

fn critical_fin(fin: bool) -> Result<(), ProtocolError> {
    if fin {
        Err(ProtocolError::new(
            Code::H3_CLOSED_CRITICAL_STREAM,
            "critical stream closed",
        ))
    } else {
        Ok(())
    }
}
