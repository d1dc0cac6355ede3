//! WebTransport data streams from the peer: association with a session by the id in their
//! header, buffering (bounded) while the session is not established, and their payload.

use bytes::Bytes;
use tracing::debug;

use super::Connection;
use crate::Dir;
use crate::action::Action;
use crate::error::{Code, InputError, ProtocolError};
use crate::event::Event;
use crate::id::{SessionId, StreamId};
use crate::session::SessionState;
use crate::stream::{Recv, RecvBuffer, SendStream, WtRecv};

impl Connection {
    /// A client-initiated bidirectional stream (or a server-initiated one at the client) began
    /// with the WebTransport signal.
    pub(super) fn on_wt_bidi_signal(
        &mut self,
        id: StreamId,
        session: SessionId,
    ) -> Result<Option<Recv>, InputError> {
        self.on_wt_stream_header(id, Dir::Bi, session)
    }

    /// A peer WebTransport stream named `session` in its header.
    pub(super) fn on_wt_stream_header(
        &mut self,
        id: StreamId,
        dir: Dir,
        session: SessionId,
    ) -> Result<Option<Recv>, InputError> {
        if !session.stream().is_client_bidi() {
            return Err(ProtocolError::new(
                Code::H3_ID_ERROR,
                "WebTransport stream names an invalid session id",
            )
            .into());
        }
        let enabled = match dir {
            Dir::Uni => self.config.uni_streams,
            Dir::Bi => self.config.bidi_streams,
        };
        let wt_possible = self.config.webtransport_enabled()
            && (self.peer_settings.is_none() || self.negotiated.is_some());
        if !enabled || !wt_possible {
            debug!(stream = %id, ?dir, "WebTransport stream refused: disabled");
            return Err(InputError::stream(id, Code::H3_STREAM_CREATION_ERROR));
        }
        let state = self.sessions.state(session);
        let buffered = match state {
            Some(SessionState::Established) => false,
            Some(_) => true,
            None if self.session_may_appear(session) => true,
            None => {
                debug!(stream = %id, %session, "stream for a closed session");
                self.stats.streams_reset = self.stats.streams_reset.saturating_add(1);
                return Err(InputError::stream(id, Code::WT_SESSION_GONE));
            }
        };
        if buffered && self.streams.buffered() >= self.config.max_buffered_streams {
            debug!(stream = %id, %session, "stream buffer full: refused");
            self.stats.streams_refused = self.stats.streams_refused.saturating_add(1);
            return Err(InputError::stream(id, Code::WT_BUFFERED_STREAM_REJECTED));
        }
        if let Some(s) = self.sessions.get_mut(session) {
            s.streams.insert(id);
            s.active = true;
        }
        if dir == Dir::Bi {
            self.streams.insert_send(id, SendStream::new(Some(session)));
        }
        self.stats.streams_opened = self.stats.streams_opened.saturating_add(1);
        if !buffered {
            self.events.push_back(Event::StreamOpened {
                session,
                stream: id,
                dir,
            });
        }
        Ok(Some(Recv::Wt(WtRecv {
            session,
            buffered,
            buf: RecvBuffer::default(),
            starved: false,
        })))
    }

    /// Payload of a WebTransport stream whose receive state is in the map: handled in place,
    /// the hot path of every stream byte.
    pub(super) fn on_wt_data(&mut self, id: StreamId, data: Bytes, fin: bool) {
        let Some(w) = self.streams.wt_mut(id) else {
            return;
        };
        let was_readable = w.buf.is_readable();
        let len = data.len();
        w.buf.push(data);
        w.buf.fin |= fin;
        let limit = if w.buffered {
            self.config.max_buffered_stream_bytes
        } else {
            self.config.stream_recv_buffer
        };
        if w.buf.len >= limit {
            // The transport stops reading here (`recv_budget` is 0) until `ResumeReading`.
            w.starved = true;
        }
        let buffered = w.buffered;
        let session = w.session;
        let signal = !buffered && !was_readable && w.buf.is_readable() && !w.buf.signalled;
        if signal {
            w.buf.signalled = true;
        }
        self.streams.bytes_in(len);
        if buffered {
            return;
        }
        if signal {
            self.events.push_back(Event::StreamReadable { stream: id });
        }
        self.touch(session);
    }

    /// A session became established: its buffered streams and datagrams are released to the
    /// application, and the idle timer starts.
    pub(super) fn session_established(&mut self, session: SessionId) {
        let timeout = self.config.session_idle_timeout;
        let now = self.now;
        let Some(s) = self.sessions.get_mut(session) else {
            return;
        };
        s.idle_deadline = timeout.and_then(|t| now.checked_add(t));
        s.active = false;
        let streams: Vec<StreamId> = s.streams.iter().copied().collect();
        for id in streams {
            let Some(w) = self.streams.release_buffered(id) else {
                continue;
            };
            let readable = w.buf.is_readable();
            if readable {
                w.buf.signalled = true;
            }
            // Its limit grew from the held streams' to the established ones'.
            if w.starved && w.buf.len < self.config.stream_recv_buffer {
                w.starved = false;
                self.actions.push_back(Action::ResumeReading { stream: id });
            }
            self.events.push_back(Event::StreamOpened {
                session,
                stream: id,
                dir: id.dir(),
            });
            if readable {
                self.events.push_back(Event::StreamReadable { stream: id });
            }
        }
        for data in self.sessions.take_datagrams_of(session) {
            if self.datagrams_enabled() {
                self.deliver_datagram(session, data);
            } else {
                self.stats.datagrams_dropped = self.stats.datagrams_dropped.saturating_add(1);
            }
        }
    }
}
