//! The state shared by a transport driver and the application's handles: the engine, per-session
//! and per-stream queues, and the wakers of the tasks waiting on them.
//!
//! # The driver's side (the interface transport adapters implement against)
//!
//! 1. Create a [`Shared`] per QUIC connection with [`Shared::new`], giving it a callback that
//!    wakes the driver.
//! 2. Whenever transport input arrives: [`Shared::lock`], feed it into [`Inner::engine`] (reading
//!    no more than [`wt_proto::Connection::recv_budget`] from each stream), execute
//!    `engine.poll_action()`, then call [`Inner::process_events`], which drains
//!    `engine.poll_event()` into the queues below and wakes the tasks concerned. Take new server
//!    requests with [`Inner::take_request`].
//! 3. Whenever the callback fires (an application call changed the engine), lock and do the
//!    same: execute actions (among them `ResumeReading`, after a read gave a full stream room).
//! 4. Tell the session layer why the transport ended with [`Inner::set_transport_error`]
//!    before calling `engine.handle_connection_closed`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;

use bytes::Bytes;
use tracing::debug;
use wt_proto::id::{IdMap, IdSet};
use wt_proto::{CloseCause, Code, ConnectRequest, Connection, Dir, Event, SessionId, StreamId};

use crate::error::{CloseInfo, CloseKind, Error};

/// The most peer streams per session and direction waiting for `accept_*`; over it a new stream
/// is refused (STOP_SENDING, and RESET_STREAM for bidi) with application code 0.
pub const MAX_ACCEPT_BACKLOG: usize = 1024;

/// The callback that wakes the transport driver.
pub type WakeDriver = Arc<dyn Fn() + Send + Sync>;

/// One QUIC connection's engine and application state, shared by the driver and the handles.
pub struct Shared {
    inner: Mutex<Inner>,
    wake: WakeDriver,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// Wraps an engine. `wake` is called (possibly with the lock held) whenever the application
    /// changed the engine so that the driver should execute its actions.
    pub fn new(engine: Connection, wake: WakeDriver) -> Arc<Self> {
        let datagram_limit = engine.config().max_queued_datagrams.max(1);
        Arc::new(Self {
            inner: Mutex::new(Inner {
                engine,
                sessions: IdMap::default(),
                streams: IdMap::default(),
                requests: VecDeque::new(),
                open_wakers: Vec::new(),
                conn_error: None,
                transport_error: None,
                datagram_limit,
                had_session: false,
                datagram_space: None,
                datagram_unflushed: 0,
                datagrams_queued: 0,
                datagrams_held_back: false,
                datagram_wakers: Vec::new(),
            }),
            wake,
        })
    }

    /// Locks the state.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the driver.
    pub fn wake_driver(&self) {
        (self.wake)();
    }
}

pub(crate) enum Phase {
    /// Client: waiting for the response. Server: requested, not answered.
    Pending,
    Established,
    Closed(CloseInfo),
}

pub(crate) struct SessState {
    pub phase: Phase,
    pub protocol: Option<String>,
    pub response_headers: http::HeaderMap,
    pub datagrams: VecDeque<Bytes>,
    pub datagrams_dropped: u64,
    pub accept: [VecDeque<StreamId>; 2],
    pub streams: IdSet<StreamId>,
    pub wakers: Vec<Waker>,
    /// Live `Session` handles (0 before the request is accepted or the connect completes).
    pub handles: usize,
    /// The session was established (it may have closed since).
    pub established: bool,
    /// The peer asked to wind the session down (WT_DRAIN_SESSION, or GOAWAY).
    pub draining: bool,
}

impl SessState {
    pub(crate) fn new() -> Self {
        Self {
            phase: Phase::Pending,
            protocol: None,
            response_headers: http::HeaderMap::new(),
            datagrams: VecDeque::new(),
            datagrams_dropped: 0,
            accept: [VecDeque::new(), VecDeque::new()],
            streams: IdSet::default(),
            wakers: Vec::new(),
            handles: 0,
            draining: false,
            established: false,
        }
    }

    fn wake_all(&mut self) {
        for w in self.wakers.drain(..) {
            w.wake();
        }
    }
}

#[derive(Default)]
pub(crate) struct StrState {
    pub session: Option<SessionId>,
    pub read_waker: Option<Waker>,
    pub write_waker: Option<Waker>,
    /// The peer reset our receive side (application code, 0 when none).
    pub reset: Option<u32>,
    /// The peer stopped our send side (application code, 0 when none).
    pub stopped: Option<u32>,
    /// The FIN was read.
    pub fin_read: bool,
    /// Handles alive: send, recv.
    pub send_handle: bool,
    pub recv_handle: bool,
    /// Not yet handed to the application (in an accept queue).
    pub unaccepted: bool,
}

impl StrState {
    fn wake(&mut self) {
        if let Some(w) = self.read_waker.take() {
            w.wake();
        }
        if let Some(w) = self.write_waker.take() {
            w.wake();
        }
    }
}

/// The locked state: the engine and the session layer's queues.
pub struct Inner {
    /// The engine. A driver feeds it and executes its actions; the handles call it.
    pub engine: Connection,
    pub(crate) sessions: IdMap<SessionId, SessState>,
    pub(crate) streams: IdMap<StreamId, StrState>,
    requests: VecDeque<(SessionId, ConnectRequest)>,
    pub(crate) open_wakers: Vec<Waker>,
    conn_error: Option<Error>,
    transport_error: Option<Error>,
    pub(crate) datagram_limit: usize,
    had_session: bool,
    /// Bytes the transport's datagram send buffer had room for when the driver last looked
    /// (`None`: the transport does not say, and waiting sends do not wait).
    datagram_space: Option<usize>,
    /// Bytes of datagrams (with their prefix) the application queued in the engine since the
    /// driver last executed the engine's actions.
    datagram_unflushed: usize,
    /// Tasks waiting in `Session::send_datagram_wait`.
    pub(crate) datagram_wakers: Vec<Waker>,
    /// Received datagrams in all sessions' queues (at most `datagram_limit`).
    datagrams_queued: usize,
    /// The driver left received datagrams in the transport for lack of room here: wake it
    /// when the application makes room.
    datagrams_held_back: bool,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("sessions", &self.sessions.len())
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

/// Adds the task's waker unless it is there already.
pub(crate) fn push_waker(wakers: &mut Vec<Waker>, cx: &std::task::Context<'_>) {
    if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
        wakers.push(cx.waker().clone());
    }
}

fn di(dir: Dir) -> usize {
    match dir {
        Dir::Bi => 0,
        Dir::Uni => 1,
    }
}

impl Inner {
    /// Drains the engine's events into the session and stream queues and wakes the tasks
    /// waiting on them. Call it after every batch of input (and it is called after every
    /// application call).
    pub fn process_events(&mut self) {
        let mut events = Vec::new();
        while let Some(e) = self.engine.poll_event() {
            events.push(e);
        }
        if events.is_empty() {
            return;
        }
        // A connection-level close names the cause of the session closes that precede it.
        for e in &events {
            if let Event::ConnectionClosed {
                code,
                reason,
                local,
            } = e
            {
                let err = self.transport_error.clone().unwrap_or_else(|| {
                    if *local || *code != Code::H3_NO_ERROR {
                        Error::ProtocolError {
                            code: code.0,
                            reason: reason.clone(),
                        }
                    } else {
                        Error::ConnectionLost(format!("connection closed: {reason}"))
                    }
                });
                self.conn_error = Some(err);
            }
        }
        for e in events {
            self.on_event(e);
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::SettingsReceived { .. } | Event::GoAway { .. } | Event::Request { .. } => {}
            Event::SessionRequest { session, request } => {
                self.had_session = true;
                self.sessions.insert(session, SessState::new());
                self.requests.push_back((session, request));
            }
            Event::SessionEstablished { session, response } => {
                if let Some(s) = self.sessions.get_mut(&session) {
                    s.phase = Phase::Established;
                    s.established = true;
                    s.protocol = response.protocol;
                    s.response_headers = response.headers;
                    s.wake_all();
                }
            }
            Event::SessionRejected {
                session, status, ..
            } => {
                let info = CloseInfo {
                    code: 0,
                    reason: String::new(),
                    kind: CloseKind::Rejected(status.as_u16()),
                };
                self.end_session(session, info);
            }
            Event::SessionDraining { session } => {
                if let Some(s) = self.sessions.get_mut(&session) {
                    s.draining = true;
                    s.wake_all();
                }
            }
            Event::SessionClosed {
                session,
                code,
                reason,
                cause,
            } => {
                let kind = match cause {
                    CloseCause::Local => CloseKind::Local,
                    CloseCause::Remote => CloseKind::Remote,
                    CloseCause::RemoteFin => CloseKind::RemoteFin,
                    CloseCause::Reset(c) => CloseKind::Reset(c.0),
                    CloseCause::ProtocolError(c) => CloseKind::ProtocolError(c.0),
                    CloseCause::IdleTimeout => CloseKind::IdleTimeout,
                    CloseCause::GoAway => CloseKind::GoAway,
                    CloseCause::Unsupported => CloseKind::Rejected(0),
                    CloseCause::ConnectionClosed => CloseKind::Connection(
                        self.conn_error
                            .clone()
                            .or_else(|| self.transport_error.clone())
                            .unwrap_or_else(|| Error::ConnectionLost("connection closed".into())),
                    ),
                    // A cause added to the engine later: the code tells the rest.
                    _ => CloseKind::ProtocolError(0),
                };
                self.end_session(session, CloseInfo { code, reason, kind });
            }
            Event::StreamOpened {
                session,
                stream,
                dir,
            } => {
                let Some(s) = self.sessions.get_mut(&session) else {
                    return;
                };
                let queue = &mut s.accept[di(dir)];
                if queue.len() >= MAX_ACCEPT_BACKLOG {
                    debug!(%stream, "accept backlog full: stream refused");
                    let _ = self.engine.stop(stream, 0);
                    let _ = self.engine.reset(stream, 0);
                    return;
                }
                queue.push_back(stream);
                s.streams.insert(stream);
                s.wake_all();
                self.streams.insert(
                    stream,
                    StrState {
                        session: Some(session),
                        unaccepted: true,
                        ..StrState::default()
                    },
                );
            }
            Event::StreamReadable { stream } | Event::StreamWritable { stream } => {
                if let Some(st) = self.streams.get_mut(&stream) {
                    st.wake();
                }
            }
            Event::StreamReset { stream, code } => {
                if let Some(st) = self.streams.get_mut(&stream) {
                    st.reset = Some(code.unwrap_or(0));
                    st.wake();
                }
            }
            Event::StreamStopped { stream, code } => {
                if let Some(st) = self.streams.get_mut(&stream) {
                    st.stopped = Some(code.unwrap_or(0));
                    st.wake();
                }
            }
            Event::StreamsAvailable { .. } => {
                for w in self.open_wakers.drain(..) {
                    w.wake();
                }
            }
            Event::Datagram { session, data } => {
                let full = self.datagrams_queued >= self.datagram_limit;
                if let Some(s) = self.sessions.get_mut(&session) {
                    // A driver that respects `datagram_room` never gets here when full; the
                    // datagrams an established session releases at once may. The engine's
                    // policy applies: a datagram that finds the queue full is dropped.
                    if full {
                        s.datagrams_dropped = s.datagrams_dropped.saturating_add(1);
                    } else {
                        s.datagrams.push_back(data);
                        self.datagrams_queued = self.datagrams_queued.saturating_add(1);
                        s.wake_all();
                    }
                }
            }
            Event::ConnectionClosed { .. } => {
                for w in self
                    .open_wakers
                    .drain(..)
                    .chain(self.datagram_wakers.drain(..))
                {
                    w.wake();
                }
                for st in self.streams.values_mut() {
                    st.wake();
                }
            }
            // Events added to the engine later concern no task here yet.
            _ => {}
        }
    }

    fn end_session(&mut self, session: SessionId, info: CloseInfo) {
        debug!(%session, ?info, "session ended");
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        if matches!(s.phase, Phase::Closed(_)) {
            return;
        }
        s.phase = Phase::Closed(info);
        s.wake_all();
        // Streams never handed out are dropped; the others learn it on their next call.
        let unaccepted: Vec<StreamId> = s.accept.iter_mut().flat_map(|q| q.drain(..)).collect();
        for id in unaccepted {
            s.streams.remove(&id);
            self.streams.remove(&id);
        }
        for id in s.streams.iter() {
            if let Some(st) = self.streams.get_mut(id) {
                st.wake();
            }
        }
        for w in self
            .open_wakers
            .drain(..)
            .chain(self.datagram_wakers.drain(..))
        {
            w.wake();
        }
    }

    /// Server: the next session request seen by [`process_events`](Self::process_events);
    /// wrap it with [`SessionRequest::new`](crate::SessionRequest::new).
    pub fn take_request(&mut self) -> Option<(SessionId, ConnectRequest)> {
        self.requests.pop_front()
    }

    /// Records why the transport ended (timeout, loss, the peer's application close). Call it
    /// before `engine.handle_connection_closed`.
    pub fn set_transport_error(&mut self, error: Error) {
        if self.transport_error.is_none() {
            self.transport_error = Some(error);
        }
    }

    /// The driver executed the engine's actions: the datagrams queued so far are in the
    /// transport's send buffer now. Call it after draining `engine.poll_action()`.
    pub fn datagrams_flushed(&mut self) {
        self.datagram_unflushed = 0;
    }

    /// The room the transport's datagram send buffer has now, in bytes (quinn-proto's
    /// `send_buffer_space`). Call it after the transport sent what it could; tasks waiting to
    /// send a datagram are woken when there is room.
    pub fn set_datagram_send_space(&mut self, bytes: usize) {
        self.datagram_space = Some(bytes);
        if !self.datagram_wakers.is_empty() && bytes > self.datagram_unflushed {
            for w in self.datagram_wakers.drain(..) {
                w.wake();
            }
        }
    }

    /// How many more received datagrams the application's queues take (a per-connection
    /// budget of the engine's `max_queued_datagrams`). A driver moves no more than this (and
    /// [`Connection::datagram_room`]) from the transport into the engine before
    /// [`process_events`](Self::process_events), and calls
    /// [`hold_back_datagrams`](Self::hold_back_datagrams) when it left some in the transport:
    /// the transport's receive buffer is then the one place where datagrams are dropped.
    pub fn datagram_room(&self) -> usize {
        self.datagram_limit.saturating_sub(self.datagrams_queued)
    }

    /// The driver left received datagrams in the transport for lack of
    /// [`datagram_room`](Self::datagram_room); the driver is woken when the application
    /// reads one.
    pub fn hold_back_datagrams(&mut self) {
        self.datagrams_held_back = true;
    }

    /// The application took a received datagram from a queue; returns whether the driver
    /// should be woken to move more.
    pub(crate) fn datagram_taken(&mut self) -> bool {
        self.datagrams_queued = self.datagrams_queued.saturating_sub(1);
        std::mem::take(&mut self.datagrams_held_back)
    }

    /// Whether a datagram of `size` bytes (prefix included) fits in the transport's buffer.
    pub(crate) fn datagram_send_room(&self, size: usize) -> bool {
        self.datagram_space
            .is_none_or(|space| space.saturating_sub(self.datagram_unflushed) >= size)
    }

    /// The application queued a datagram of `size` bytes in the engine.
    pub(crate) fn datagram_queued(&mut self, size: usize) {
        self.datagram_unflushed = self.datagram_unflushed.saturating_add(size);
    }

    /// Whether no session is alive or pending (and at least one existed): a client driver may
    /// close the connection.
    pub fn all_sessions_ended(&self) -> bool {
        self.had_session
            && self
                .sessions
                .values()
                .all(|s| matches!(s.phase, Phase::Closed(_)))
    }

    /// Why the connection ended, once it did.
    pub fn connection_error(&self) -> Option<&Error> {
        self.conn_error.as_ref()
    }

    pub(crate) fn note_session(&mut self) {
        self.had_session = true;
    }

    /// The error for calls on `session` now: its close info, or the connection's end.
    pub(crate) fn session_error(&self, session: SessionId) -> Option<Error> {
        match self.sessions.get(&session).map(|s| &s.phase) {
            Some(Phase::Closed(info)) => Some(info.error()),
            Some(_) => None,
            None => Some(
                self.conn_error
                    .clone()
                    .unwrap_or_else(|| Error::Invalid("unknown session".into())),
            ),
        }
    }

    /// Forgets a stream once neither handle needs it.
    pub(crate) fn release_stream(&mut self, id: StreamId) {
        let remove = self
            .streams
            .get(&id)
            .is_some_and(|s| !s.send_handle && !s.recv_handle && !s.unaccepted);
        if remove
            && let Some(st) = self.streams.remove(&id)
            && let Some(session) = st.session
            && let Some(s) = self.sessions.get_mut(&session)
        {
            s.streams.remove(&id);
            self.release_session(session);
        }
    }

    /// Forgets a session once no handle needs it.
    pub(crate) fn release_session(&mut self, id: SessionId) {
        if let Some(s) = self.sessions.get(&id)
            && matches!(s.phase, Phase::Closed(_))
            && s.streams.is_empty()
            && s.handles == 0
            && let Some(s) = self.sessions.remove(&id)
        {
            self.datagrams_queued = self.datagrams_queued.saturating_sub(s.datagrams.len());
        }
    }
}
