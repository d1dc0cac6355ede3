//! The peer's control stream: SETTINGS first and once, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH, and
//! the frames that are not allowed there (RFC 9114 §6.2.1, §7.2, §8.1).

use bytes::Bytes;
use tracing::{debug, info};

use super::Connection;
use crate::error::{Code, ProtocolError};
use crate::event::{CloseCause, Event};
use crate::frame::{Frame, FrameDecoder, FrameEvent};
use crate::id::{Side, StreamId};
use crate::session::SessionState;
use crate::settings::{self, Settings};
use crate::stream::Recv;

fn unexpected(reason: &'static str) -> ProtocolError {
    ProtocolError::new(Code::H3_FRAME_UNEXPECTED, reason)
}

impl Connection {
    pub(super) fn on_control_data(
        &mut self,
        id: StreamId,
        mut frames: FrameDecoder,
        mut settings_seen: bool,
        data: &mut Bytes,
        fin: bool,
    ) -> Result<Option<Recv>, ProtocolError> {
        while let Some(event) = frames.decode(data)? {
            let frame = match event {
                FrameEvent::Frame(f) => f,
                FrameEvent::DataHeader(_) | FrameEvent::Data(_) => {
                    return Err(unexpected("DATA on the control stream"));
                }
                FrameEvent::HeadersTooLarge(_) => {
                    return Err(unexpected("request frame on the control stream"));
                }
            };
            if !settings_seen {
                let Frame::Settings(s) = frame else {
                    return Err(ProtocolError::new(
                        Code::H3_MISSING_SETTINGS,
                        "first control frame is not SETTINGS",
                    ));
                };
                settings_seen = true;
                self.on_settings(s)?;
                if self.closed {
                    return Ok(None);
                }
                continue;
            }
            self.on_control_frame(frame)?;
            if self.closed {
                return Ok(None);
            }
        }
        if fin {
            return Err(ProtocolError::new(
                Code::H3_CLOSED_CRITICAL_STREAM,
                "control stream closed",
            ));
        }
        debug_assert!(data.is_empty());
        let _ = id;
        Ok(Some(Recv::Control {
            frames,
            settings: settings_seen,
        }))
    }

    fn on_control_frame(&mut self, frame: Frame) -> Result<(), ProtocolError> {
        match frame {
            Frame::Settings(_) => Err(unexpected("second SETTINGS frame")),
            Frame::Data(_) | Frame::Headers(_) | Frame::PushPromise { .. } => {
                Err(unexpected("request frame on the control stream"))
            }
            Frame::ReservedHttp2(_) => Err(unexpected("HTTP/2 frame type")),
            Frame::WebTransportStream(_) => Err(unexpected("WebTransport signal on control")),
            Frame::Unknown(_) => Ok(()),
            // We never promise pushes: at a server every push id is one no PUSH_PROMISE
            // mentioned, and a client never sends MAX_PUSH_ID, so every id exceeds it
            // (RFC 9114 §7.2.3: H3_ID_ERROR either way).
            Frame::CancelPush(_) => Err(ProtocolError::new(
                Code::H3_ID_ERROR,
                "CANCEL_PUSH for a push that was never promised",
            )),
            Frame::MaxPushId(v) => {
                if self.side == Side::Client {
                    return Err(unexpected("MAX_PUSH_ID received by a client"));
                }
                if self.max_push_id.is_some_and(|m| v < m) {
                    return Err(ProtocolError::new(
                        Code::H3_ID_ERROR,
                        "MAX_PUSH_ID decreased",
                    ));
                }
                self.max_push_id = Some(v);
                Ok(())
            }
            Frame::Goaway(v) => self.on_goaway(v),
        }
    }

    fn on_goaway(&mut self, v: u64) -> Result<(), ProtocolError> {
        if self.side == Side::Client && !StreamId(v).is_client_bidi() {
            return Err(ProtocolError::new(
                Code::H3_ID_ERROR,
                "GOAWAY id is not a client bidirectional stream",
            ));
        }
        if self.goaway_received.is_some_and(|prev| v > prev) {
            return Err(ProtocolError::new(Code::H3_ID_ERROR, "GOAWAY id increased"));
        }
        info!(id = v, "GOAWAY received");
        self.goaway_received = Some(v);
        self.events.push_back(Event::GoAway { id: v });
        for sid in self.sessions.ids(|_| true) {
            if self.side == Side::Client && sid.stream().0 >= v {
                // The server will not process this one.
                if self.streams.has_send(sid.stream()) {
                    self.reset_send(sid.stream(), Code::H3_REQUEST_CANCELLED);
                }
                if self.streams.has_recv(sid.stream()) {
                    self.stop_recv(sid.stream(), Code::H3_REQUEST_CANCELLED);
                }
                self.end_session(sid, 0, String::new(), CloseCause::GoAway);
            } else if let Some(s) = self.sessions.get_mut(sid)
                && !s.draining
            {
                s.draining = true;
                self.events
                    .push_back(Event::SessionDraining { session: sid });
            }
        }
        Ok(())
    }

    /// Applies the peer's SETTINGS: negotiates the dialect and releases what waited for it.
    fn on_settings(&mut self, peer: Settings) -> Result<(), ProtocolError> {
        debug!(side = %self.side, settings = ?peer, "peer SETTINGS");
        let (server, client) = match self.side {
            Side::Server => (&self.local_settings, &peer),
            Side::Client => (&peer, &self.local_settings),
        };
        self.negotiated = if self.config.webtransport_enabled() {
            settings::negotiate(server, client)
                .filter(|n| self.config.dialects.contains(&n.dialect))
        } else {
            None
        };
        if !self.config.datagrams
            && let Some(n) = self.negotiated.as_mut()
        {
            n.datagrams = None;
        }
        self.peer_settings = Some(peer);
        if self.peer_sent_h3_datagram() && !self.transport.datagrams() {
            return Err(ProtocolError::new(
                Code::H3_SETTINGS_ERROR,
                "H3_DATAGRAM without the QUIC DATAGRAM extension",
            ));
        }
        info!(side = %self.side, dialect = ?self.dialect(), datagrams = self.datagrams_enabled(), "settings exchanged");
        self.events.push_back(Event::SettingsReceived {
            dialect: self.dialect(),
            datagrams: self.datagrams_enabled(),
        });
        match self.side {
            Side::Server => self.replay_held_requests(),
            Side::Client => self.send_pending_connects(),
        }
        // Datagrams that arrived before the SETTINGS: re-route them.
        for (sid, data) in self.sessions.take_all_datagrams() {
            if self.datagrams_enabled() {
                self.on_datagram(sid, data);
            } else {
                self.stats.datagrams_dropped = self.stats.datagrams_dropped.saturating_add(1);
            }
        }
        Ok(())
    }

    /// Client: sends the CONNECTs that waited for the server's SETTINGS, or for a session to
    /// end while the server's session limit was reached.
    pub(super) fn send_pending_connects(&mut self) {
        let ids = self.sessions.ids(|s| s.state == SessionState::Pending);
        let mut live = self
            .connect_streams_in_use()
            .saturating_sub(ids.len() as u64);
        for id in ids {
            if !self.streams.has_send(id.stream()) {
                // Being cancelled: its stream is gone already.
                continue;
            }
            if self.dialect().is_some() {
                if live >= self.session_limit() {
                    debug!(session = %id, "CONNECT waits for a session to end");
                    continue;
                }
                live = live.saturating_add(1);
            }
            if self.dialect().is_none() {
                self.end_session(
                    id,
                    0,
                    "WebTransport not supported by the peer".into(),
                    CloseCause::Unsupported,
                );
                // Nothing was written on the stream: cancel our side, read nothing.
                self.streams.remove_recv(id.stream());
                self.reset_send(id.stream(), Code::H3_REQUEST_CANCELLED);
            } else {
                self.send_connect(id);
            }
        }
    }

    /// Client: the CONNECT streams still open for reading, pending ones included. A session
    /// counts against the server's limit until its CONNECT stream is over, since the server
    /// sees it end only then.
    fn connect_streams_in_use(&self) -> u64 {
        self.streams.count_recv(|id, r| {
            id.is_client_bidi()
                && matches!(r, Recv::Request(_) | Recv::Discard | Recv::AfterClose(_))
        }) as u64
    }

    /// Client: a session ended or a CONNECT stream closed; a held CONNECT may go out now.
    pub(super) fn connect_slot_freed(&mut self) {
        let pending = self.sessions.any(|s| s.state == SessionState::Pending);
        if self.side == Side::Client && self.peer_settings.is_some() && pending {
            self.send_pending_connects();
        }
    }
}
