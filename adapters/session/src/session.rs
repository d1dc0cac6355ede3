//! A WebTransport session handle.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use wt_proto::{ConnectRequest, Dir, SessionError, SessionId, StreamError, StreamId};

use crate::error::{CloseInfo, Error};
use crate::shared::{Inner, Phase, SessState, Shared, StrState};
use crate::stream::{RecvStream, SendStream};

/// A WebTransport session (names follow the W3C WebTransport API and quinn).
///
/// Cloning gives another handle to the same session. When the last handle is dropped, an open
/// session is closed with code 0.
#[derive(Clone, Debug)]
pub struct Session {
    inner: Arc<Handle>,
}

#[derive(Debug)]
struct Handle {
    shared: Arc<Shared>,
    id: SessionId,
    protocol: Option<String>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let mut g = self.shared.lock();
        let open = match g.sessions.get_mut(&self.id) {
            Some(s) => {
                s.handles = s.handles.saturating_sub(1);
                !matches!(s.phase, Phase::Closed(_))
            }
            None => false,
        };
        if open {
            let _ = g.engine.close_session(self.id, 0, "");
            g.process_events();
        }
        g.release_session(self.id);
        drop(g);
        self.shared.wake_driver();
    }
}

pub(crate) fn map_session_error(g: &Inner, session: SessionId, e: SessionError) -> Error {
    match e {
        SessionError::DatagramsDisabled => Error::Unavailable("datagrams".into()),
        SessionError::DatagramTooLarge { size, max } => Error::DatagramTooLarge { size, max },
        SessionError::Unavailable => Error::Unavailable("WebTransport".into()),
        SessionError::ConnectionClosed | SessionError::UnknownSession => g
            .session_error(session)
            .unwrap_or_else(|| Error::ConnectionLost("connection closed".into())),
        other => g
            .session_error(session)
            .unwrap_or_else(|| Error::Invalid(other.to_string())),
    }
}

pub(crate) fn map_stream_error(g: &Inner, session: SessionId, e: StreamError) -> Error {
    match e {
        StreamError::Disabled => Error::Unavailable("streams of this kind".into()),
        _ => g
            .session_error(session)
            .unwrap_or_else(|| Error::Invalid(e.to_string())),
    }
}

impl Session {
    /// Wraps an established (or, server side, just accepted) session.
    pub(crate) fn from_parts(shared: Arc<Shared>, id: SessionId, protocol: Option<String>) -> Self {
        Self {
            inner: Arc::new(Handle {
                shared,
                id,
                protocol,
            }),
        }
    }

    /// Client: sends the extended CONNECT on this connection and waits for the response.
    pub async fn connect(shared: Arc<Shared>, request: ConnectRequest) -> Result<Session, Error> {
        let id = {
            let mut g = shared.lock();
            let id = g.engine.connect(request).map_err(|e| match e {
                SessionError::ConnectionClosed => g
                    .connection_error()
                    .cloned()
                    .unwrap_or_else(|| Error::ConnectionLost("connection closed".into())),
                SessionError::Unavailable => Error::Rejected { status: 0 },
                other => Error::Invalid(other.to_string()),
            })?;
            g.note_session();
            let mut s = SessState::new();
            s.handles = 1;
            g.sessions.insert(id, s);
            g.process_events();
            id
        };
        shared.wake_driver();
        // The handle exists from here on, so that dropping this future cancels the session.
        let session = Session::from_parts(shared.clone(), id, None);
        let protocol = poll_fn(|cx| {
            let mut g = shared.lock();
            let Some(s) = g.sessions.get_mut(&id) else {
                return Poll::Ready(Err(Error::ConnectionLost("session vanished".into())));
            };
            match &s.phase {
                Phase::Pending => {
                    crate::shared::push_waker(&mut s.wakers, cx);
                    Poll::Pending
                }
                Phase::Established => Poll::Ready(Ok(s.protocol.clone())),
                // Established and closed at once (like /close): the session is handed out and
                // `closed()` tells how it ended.
                Phase::Closed(_) if s.established => Poll::Ready(Ok(s.protocol.clone())),
                Phase::Closed(info) => Poll::Ready(Err(info.error())),
            }
        })
        .await?;
        let mut session = session;
        if let Some(h) = Arc::get_mut(&mut session.inner) {
            h.protocol = protocol;
        }
        Ok(session)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.shared.lock()
    }

    /// The session id (the CONNECT stream id).
    pub fn id(&self) -> SessionId {
        self.inner.id
    }

    /// The application protocol chosen by the server (`WT-Protocol`), if any.
    pub fn protocol(&self) -> Option<&str> {
        self.inner.protocol.as_deref()
    }

    /// The largest datagram payload [`send_datagram`](Self::send_datagram) takes now (0 when
    /// datagrams are unavailable).
    pub fn max_datagram_size(&self) -> usize {
        let g = self.lock();
        g.engine.max_datagram_payload(self.inner.id).unwrap_or(0)
    }

    /// Sends an unreliable datagram. Returns at once: when the transport's datagram send buffer
    /// is full, the transport drops its oldest queued datagram to make room. Use
    /// [`send_datagram_wait`](Self::send_datagram_wait) to wait for room instead.
    pub fn send_datagram(&self, data: Bytes) -> Result<(), Error> {
        match self.try_send_datagram(None, &data) {
            Poll::Ready(r) => r,
            Poll::Pending => Ok(()),
        }
    }

    /// Sends an unreliable datagram once the transport's datagram send buffer has room for it
    /// (on a transport that does not report that room, this is
    /// [`send_datagram`](Self::send_datagram)). Nothing is dropped to make room; the datagram
    /// can still be lost on the way.
    pub async fn send_datagram_wait(&self, data: Bytes) -> Result<(), Error> {
        poll_fn(|cx| self.try_send_datagram(Some(cx), &data)).await
    }

    /// Sends `data` now, or with a context registers for room and returns `Pending` when the
    /// transport has no room for it.
    fn try_send_datagram(
        &self,
        cx: Option<&mut std::task::Context<'_>>,
        data: &Bytes,
    ) -> Poll<Result<(), Error>> {
        let mut g = self.lock();
        if let Some(e) = g.session_error(self.inner.id) {
            return Poll::Ready(Err(e));
        }
        // What the datagram occupies in the transport's send buffer, Quarter Stream ID included.
        let prefix = wt_proto::varint::encoded_len(self.inner.id.quarter());
        let size = data.len().saturating_add(prefix);
        if let Some(cx) = cx
            && !g.datagram_send_room(size)
        {
            crate::shared::push_waker(&mut g.datagram_wakers, cx);
            return Poll::Pending;
        }
        let r = g.engine.send_datagram(self.inner.id, data.clone());
        let r = r.map_err(|e| map_session_error(&g, self.inner.id, e));
        if r.is_ok() {
            g.datagram_queued(size);
        }
        g.process_events();
        drop(g);
        self.inner.shared.wake_driver();
        Poll::Ready(r)
    }

    /// Receives the next datagram. While the connection's queues hold the engine's
    /// `max_queued_datagrams`, further datagrams wait in the transport's receive buffer, which
    /// drops its oldest when full.
    pub async fn read_datagram(&self) -> Result<Bytes, Error> {
        poll_fn(|cx| {
            let mut g = self.lock();
            let id = self.inner.id;
            let closed = g.session_error(id);
            let Some(s) = g.sessions.get_mut(&id) else {
                return Poll::Ready(Err(closed.unwrap_or(Error::ClosedStream)));
            };
            if let Some(d) = s.datagrams.pop_front() {
                if g.datagram_taken() {
                    drop(g);
                    self.inner.shared.wake_driver();
                }
                return Poll::Ready(Ok(d));
            }
            if let Some(e) = closed {
                return Poll::Ready(Err(e));
            }
            crate::shared::push_waker(&mut s.wakers, cx);
            Poll::Pending
        })
        .await
    }

    async fn open(&self, dir: Dir) -> Result<StreamId, Error> {
        let id = self.inner.id;
        let stream = poll_fn(|cx| {
            let mut g = self.lock();
            if let Some(e) = g.session_error(id) {
                return Poll::Ready(Err(e));
            }
            let r = match dir {
                Dir::Uni => g.engine.open_uni(id),
                Dir::Bi => g.engine.open_bi(id),
            };
            match r {
                Ok(stream) => {
                    let st = StrState {
                        session: Some(id),
                        send_handle: true,
                        recv_handle: dir == Dir::Bi,
                        ..StrState::default()
                    };
                    g.streams.insert(stream, st);
                    if let Some(s) = g.sessions.get_mut(&id) {
                        s.streams.insert(stream);
                    }
                    g.process_events();
                    Poll::Ready(Ok(stream))
                }
                Err(StreamError::StreamsBlocked) => {
                    crate::shared::push_waker(&mut g.open_wakers, cx);
                    Poll::Pending
                }
                Err(e) => Poll::Ready(Err(map_stream_error(&g, id, e))),
            }
        })
        .await?;
        self.inner.shared.wake_driver();
        Ok(stream)
    }

    /// Opens a unidirectional stream (waiting for stream credit if needed).
    pub async fn open_uni(&self) -> Result<SendStream, Error> {
        let stream = self.open(Dir::Uni).await?;
        Ok(SendStream::new(
            self.inner.shared.clone(),
            stream,
            self.inner.id,
        ))
    }

    /// Opens a bidirectional stream (waiting for stream credit if needed).
    pub async fn open_bi(&self) -> Result<(SendStream, RecvStream), Error> {
        let stream = self.open(Dir::Bi).await?;
        let shared = &self.inner.shared;
        Ok((
            SendStream::new(shared.clone(), stream, self.inner.id),
            RecvStream::new(shared.clone(), stream, self.inner.id),
        ))
    }

    async fn accept(&self, dir: Dir) -> Result<StreamId, Error> {
        let id = self.inner.id;
        poll_fn(|cx| {
            let mut g = self.lock();
            let closed = g.session_error(id);
            let Some(s) = g.sessions.get_mut(&id) else {
                return Poll::Ready(Err(closed.unwrap_or(Error::ClosedStream)));
            };
            let i = match dir {
                Dir::Bi => 0,
                Dir::Uni => 1,
            };
            if let Some(stream) = s.accept.get_mut(i).and_then(|q| q.pop_front()) {
                if let Some(st) = g.streams.get_mut(&stream) {
                    st.unaccepted = false;
                    st.recv_handle = true;
                    st.send_handle = dir == Dir::Bi;
                }
                return Poll::Ready(Ok(stream));
            }
            if let Some(e) = closed {
                return Poll::Ready(Err(e));
            }
            crate::shared::push_waker(&mut s.wakers, cx);
            Poll::Pending
        })
        .await
    }

    /// Waits for the peer's next unidirectional stream.
    pub async fn accept_uni(&self) -> Result<RecvStream, Error> {
        let stream = self.accept(Dir::Uni).await?;
        Ok(RecvStream::new(
            self.inner.shared.clone(),
            stream,
            self.inner.id,
        ))
    }

    /// Waits for the peer's next bidirectional stream.
    pub async fn accept_bi(&self) -> Result<(SendStream, RecvStream), Error> {
        let stream = self.accept(Dir::Bi).await?;
        let shared = &self.inner.shared;
        Ok((
            SendStream::new(shared.clone(), stream, self.inner.id),
            RecvStream::new(shared.clone(), stream, self.inner.id),
        ))
    }

    /// Closes the session with an application `code` and `reason` (WT_CLOSE_SESSION). Its
    /// streams are reset; [`closed`](Self::closed) resolves with [`CloseKind::Local`](crate::CloseKind::Local).
    pub fn close(&self, code: u32, reason: &str) {
        let mut g = self.lock();
        let _ = g.engine.close_session(self.inner.id, code, reason);
        g.process_events();
        drop(g);
        self.inner.shared.wake_driver();
    }

    /// How the session ended, if it did.
    pub fn close_info(&self) -> Option<CloseInfo> {
        let g = self.lock();
        match g.sessions.get(&self.inner.id).map(|s| &s.phase) {
            Some(Phase::Closed(info)) => Some(info.clone()),
            _ => None,
        }
    }

    /// Waits until the session ends and tells how: the code and reason of a close (either
    /// side's), or why it ended otherwise.
    pub async fn closed(&self) -> CloseInfo {
        poll_fn(|cx| {
            let mut g = self.lock();
            match g.sessions.get_mut(&self.inner.id) {
                Some(s) => match &s.phase {
                    Phase::Closed(info) => Poll::Ready(info.clone()),
                    _ => {
                        crate::shared::push_waker(&mut s.wakers, cx);
                        Poll::Pending
                    }
                },
                None => Poll::Ready(CloseInfo {
                    code: 0,
                    reason: String::new(),
                    kind: crate::CloseKind::Connection(
                        g.connection_error()
                            .cloned()
                            .unwrap_or_else(|| Error::ConnectionLost("gone".into())),
                    ),
                }),
            }
        })
        .await
    }

    /// Asks the peer to wind the session down (WT_DRAIN_SESSION; draft-07 and later). Streams
    /// and datagrams keep working.
    pub fn drain(&self) -> Result<(), Error> {
        let mut g = self.lock();
        let result = g.engine.drain_session(self.inner.id);
        g.process_events();
        let result = result.map_err(|e| map_session_error(&g, self.inner.id, e));
        drop(g);
        self.inner.shared.wake_driver();
        result
    }

    /// Sends HTTP/3 GOAWAY on the QUIC connection that carries this session: a server then
    /// refuses new sessions on it and tells established ones to drain; a client announces that it
    /// opens no more. Existing sessions go on.
    pub fn goaway(&self) {
        let mut g = self.lock();
        g.engine.goaway();
        g.process_events();
        drop(g);
        self.inner.shared.wake_driver();
    }

    /// Whether the peer asked to wind the session down (WT_DRAIN_SESSION, or its GOAWAY).
    pub fn is_draining(&self) -> bool {
        let g = self.lock();
        g.sessions.get(&self.inner.id).is_some_and(|s| s.draining)
    }

    /// Waits until the peer asks to wind the session down (`true`), or the session ends
    /// without that (`false`).
    pub async fn draining(&self) -> bool {
        poll_fn(|cx| {
            let mut g = self.lock();
            match g.sessions.get_mut(&self.inner.id) {
                Some(s) if s.draining => Poll::Ready(true),
                Some(s) if matches!(s.phase, Phase::Closed(_)) => Poll::Ready(false),
                Some(s) => {
                    crate::shared::push_waker(&mut s.wakers, cx);
                    Poll::Pending
                }
                None => Poll::Ready(false),
            }
        })
        .await
    }

    /// Datagrams dropped because the receive queue was full.
    pub fn datagrams_dropped(&self) -> u64 {
        let g = self.lock();
        g.sessions
            .get(&self.inner.id)
            .map_or(0, |s| s.datagrams_dropped)
    }
}
