//! One tokio task per s2n-quic connection: it translates between the connection's streams and
//! datagrams and the engine shared with the application's handles (wt-session's driver
//! interface). It holds no protocol logic.
//!
//! * Local streams: s2n-quic assigns stream ids when a stream is opened, asynchronously. The task
//!   opens up to [`OPEN_AHEAD`] streams per direction ahead of the engine, in order, and reports
//!   exactly that many as the engine's credit (`handle_max_streams`), so the engine's
//!   `Action::OpenStream` always names the next pre-opened stream (checked by id). Should the
//!   engine ever get ahead, its writes are parked in the engine (`handle_write_blocked`) until
//!   s2n-quic opens the stream.
//! * Reading: never more than `recv_budget` bytes are handed to the engine; the rest of an
//!   s2n-quic chunk waits in a one-chunk slot, and a stream whose budget is 0 is not polled
//!   until the engine says `ResumeReading`, so QUIC flow control holds the sender.
//! * Writing: a chunk s2n-quic cannot take goes back to the engine (`handle_write_blocked`);
//!   `poll_send_ready` tells when to call `handle_stream_writable`. No queue in between.

use std::collections::{BTreeSet, VecDeque};

use std::future::Future;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use wt_proto::id::IdMap;

use bytes::Bytes;
use s2n_quic::application::Error as AppError;
use s2n_quic::connection::{Handle, StreamAcceptor};
use s2n_quic::provider::datagram::default::{Receiver as DgReceiver, Sender as DgSender};
use s2n_quic::stream::Error as StreamError;
use s2n_quic::stream::{BidirectionalStream, PeerStream, ReceiveStream, SendStream as QSend};
use tracing::{debug, trace, warn};
use wt_proto::{Action, Code, Config, Connection, Dir, Side, StreamId, TransportParams};
use wt_session::{ClientClose, Error, Inner, OpenAhead, RequestQueue, Shared, TransportClose};

use crate::wake::{Key, WakeSet};

/// Local streams opened in s2n-quic ahead of the engine, per direction. Each costs s2n-quic
/// stream state on both ends (16 cost about 100 KiB per connection and doubled the time to set
/// up 1,000 sessions); 4 covers the three HTTP/3 uni streams and the first CONNECT at once.
pub(crate) const OPEN_AHEAD: u64 = 4;
/// The QUIC DATAGRAM payload the adapter reports as the limit: what fits in a minimum-size
/// (1200-byte) QUIC packet next to an ACK frame. s2n-quic's default datagram sender drops a
/// datagram that does not fit in the packet at hand, so this stays conservative.
pub(crate) const MAX_DATAGRAM: usize = 1100;
/// The HTTP/3 "no error" code: the code of a clean connection close.
const H3_NO_ERROR: u64 = 0x100;

/// What the endpoint keeps of a connection task: a way to close it.
pub(crate) struct ConnCtl {
    wakes: Arc<WakeSet>,
    closing: AtomicBool,
}

impl ConnCtl {
    /// Closes the connection (the endpoint is closing).
    pub(crate) fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.wakes.wake(Key::Close);
    }
}

fn di(dir: Dir) -> usize {
    match dir {
        Dir::Bi => 0,
        Dir::Uni => 1,
    }
}

fn app(code: Code) -> AppError {
    AppError::new(code.0).unwrap_or_else(|_| AppError::new(0).unwrap_or(AppError::UNKNOWN))
}

/// Hands the engine the peer streams below `id` (same direction) that it has not seen yet, as
/// empty input, then forgets `id`: the engine sees peer streams open in id order, as QUIC
/// implies, even when s2n-quic delivers a higher stream's data first.
fn introduce(g: &mut Inner, unintroduced: &mut BTreeSet<u64>, id: StreamId) {
    let lower: Vec<u64> = unintroduced.range(..id.index()).copied().collect();
    for index in lower {
        unintroduced.remove(&index);
        let earlier = StreamId(index.saturating_mul(4) | (id.0 & 3));
        trace!(%earlier, later = %id, "stream opened out of order");
        g.engine.handle_stream_data(earlier, Bytes::new(), false);
    }
    unintroduced.remove(&id.index());
}

/// The application code of a peer's RESET_STREAM or STOP_SENDING.
fn reset_code(e: &StreamError) -> Option<u64> {
    match e {
        StreamError::StreamReset { error, .. } => Some(u64::from(*error)),
        _ => None,
    }
}

/// How an s2n-quic connection ended (`None`: it did not say), in the stack-independent terms
/// of [`TransportClose`].
pub(crate) fn transport_close(e: Option<&s2n_quic::connection::Error>) -> TransportClose {
    use s2n_quic::connection::Error as E;
    let Some(e) = e else {
        return TransportClose::Other("connection closed".into());
    };
    match e {
        E::Application {
            error, initiator, ..
        } => TransportClose::Application {
            code: u64::from(*error),
            reason: String::new(),
            remote: initiator.is_remote(),
        },
        E::IdleTimerExpired { .. } | E::MaxHandshakeDurationExceeded { .. } => {
            TransportClose::TimedOut
        }
        E::Closed { .. } => TransportClose::Other(format!("closed: {e}")),
        E::Transport { code, .. } => TransportClose::Transport {
            code: code.as_u64(),
            reason: e.to_string(),
        },
        other => TransportClose::Other(other.to_string()),
    }
}

struct SendEntry {
    stream: QSend,
    waker: Waker,
    /// A chunk was handed back to the engine; waiting for `poll_send_ready`.
    blocked: bool,
}

struct RecvEntry {
    stream: ReceiveStream,
    waker: Waker,
    /// The part of an s2n-quic chunk over the engine's budget (at most one chunk).
    leftover: Option<Bytes>,
}

enum Opened {
    Bi(BidirectionalStream),
    Uni(QSend),
}

impl Opened {
    fn id(&self) -> u64 {
        match self {
            Opened::Bi(s) => s.id(),
            Opened::Uni(s) => s.id(),
        }
    }
}

/// Starts the task of one established connection; returns the engine state for the handles.
pub(crate) fn spawn(
    conn: s2n_quic::Connection,
    side: Side,
    config: Config,
    requests: Option<RequestQueue>,
) -> (Arc<Shared>, Arc<ConnCtl>) {
    let wakes = Arc::new(WakeSet::default());
    let ctl = Arc::new(ConnCtl {
        wakes: wakes.clone(),
        closing: AtomicBool::new(false),
    });
    let mut engine = Connection::new(side, config, Instant::now());
    // The datagram provider does not expose the peer's max_datagram_frame_size; s2n-quic
    // implements no RESET_STREAM_AT.
    engine.handle_transport_params(TransportParams::new(Some(MAX_DATAGRAM), false));
    let w = wakes.clone();
    let shared = Shared::new(engine, Arc::new(move || w.wake(Key::Engine)));
    let mut conn = conn;
    if let Err(e) = conn.keep_alive(true) {
        debug!(error = %e, "keep-alive not enabled");
    }
    let (handle, acceptor) = conn.split();
    let mut driver = ConnDriver {
        side,
        handle,
        acceptor,
        shared: shared.clone(),
        ctl: ctl.clone(),
        requests,
        send: IdMap::default(),
        recv: IdMap::default(),
        flushing: IdMap::default(),
        pool: [VecDeque::new(), VecDeque::new()],
        credit: OpenAhead::new(OPEN_AHEAD),
        pending_open: IdMap::default(),
        accept_waker: wakes.waker(Key::Accept),
        dg_waker: wakes.waker(Key::Datagram),
        open_wakers: [wakes.waker(Key::Open(0)), wakes.waker(Key::Open(1))],
        wakes,
        timer: Box::pin(tokio::time::sleep(Duration::from_secs(3600))),
        close: ClientClose::default(),
        closed: false,
        to_read: Vec::new(),
        unintroduced: [BTreeSet::new(), BTreeSet::new()],
        out_requests: Vec::new(),
    };
    tokio::spawn(async move {
        poll_fn(|cx| driver.poll(cx)).await;
        trace!(side = %driver.side, "connection task ends");
    });
    (shared, ctl)
}

struct ConnDriver {
    side: Side,
    handle: Handle,
    acceptor: StreamAcceptor,
    shared: Arc<Shared>,
    ctl: Arc<ConnCtl>,
    requests: Option<RequestQueue>,
    send: IdMap<StreamId, SendEntry>,
    recv: IdMap<StreamId, RecvEntry>,
    /// Client: finished send halves not yet acknowledged (the CONNECT stream's FIN among them).
    flushing: IdMap<StreamId, (QSend, Waker)>,
    /// Streams opened in s2n-quic that the engine has not asked for yet, in id order.
    pool: [VecDeque<Opened>; 2],
    /// Streams opened in s2n-quic ahead of the engine (its stream credit).
    credit: OpenAhead,
    /// Streams the engine opened beyond what s2n-quic had opened: a reset to apply on opening.
    pending_open: IdMap<StreamId, Option<Code>>,
    accept_waker: Waker,
    dg_waker: Waker,
    open_wakers: [Waker; 2],
    wakes: Arc<WakeSet>,
    timer: Pin<Box<tokio::time::Sleep>>,
    /// Client: closing once every session ended.
    close: ClientClose,
    closed: bool,
    to_read: Vec<StreamId>,
    /// Peer streams (by direction) accepted from s2n-quic whose first input the engine has not
    /// seen yet. The engine takes a peer stream below the highest it has seen for a closed
    /// one, so first input is handed over in id order (see `introduce`).
    unintroduced: [BTreeSet<u64>; 2],
    out_requests: Vec<(wt_proto::SessionId, wt_proto::ConnectRequest)>,
}

impl ConnDriver {
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let span = tracing::trace_span!("s2n", side = %self.side);
        let _entered = span.enter();
        let keys = self.wakes.begin(cx);
        let shared = self.shared.clone();
        let mut g = shared.lock();
        let now = Instant::now();

        if self.ctl.closing.load(Ordering::SeqCst) {
            debug!(side = %self.side, "endpoint closing: closing the connection");
            self.handle.close(app(Code(H3_NO_ERROR)));
            g.set_transport_error(Error::ConnectionLost("endpoint closed".into()));
            g.engine
                .handle_connection_closed(Code::H3_NO_ERROR, "endpoint closed");
            g.process_events();
            self.closed = true;
        }
        if !self.closed
            && let Some(end) = self.accept()
        {
            let end = end.or_else(|| self.close_reason());
            let close = transport_close(end.as_ref());
            let (code, reason) = close.engine_close();
            let err = close.error();
            debug!(side = %self.side, %code, %reason, "QUIC connection ended");
            // What the peer sent right before closing may still be buffered unread (Firefox
            // sends WT_CLOSE_SESSION and FIN on the CONNECT stream, then closes the connection
            // at once): the engine gets it before the connection's end, as on wt-quinn, so that
            // the session ends with the peer's code and reason.
            let mut ids: Vec<StreamId> = self.recv.keys().copied().collect();
            ids.sort_unstable();
            for id in ids {
                self.read_stream(&mut g, id);
            }
            g.process_events();
            g.set_transport_error(err);
            g.engine.handle_connection_closed(code, &reason);
            g.process_events();
            self.closed = true;
        }
        if self.closed {
            drop(g);
            self.teardown();
            return Poll::Ready(());
        }

        self.open_ahead(&mut g);
        self.recv_datagrams(&mut g);
        for key in keys {
            match key {
                Key::Recv(id) => self.to_read.push(id),
                Key::Send(id) => self.send_ready(&mut g, id),
                Key::Flush(id) => self.poll_flushing(id),
                _ => {}
            }
        }
        if g.engine.poll_timeout().is_some_and(|t| t <= now) {
            g.engine.handle_timeout(now);
        }
        // Reading feeds the engine, whose actions may open streams that must be read (their
        // receive halves register their wakers only when polled), and so on.
        for round in 0.. {
            let mut reads = std::mem::take(&mut self.to_read);
            reads.sort_unstable();
            reads.dedup();
            for id in reads {
                self.read_stream(&mut g, id);
            }
            let acted = self.flush_actions(&mut g);
            g.process_events();
            // Taking events may have given waiting streams room (`ResumeReading`).
            let more = g.engine.has_actions();
            if self.closed || (!acted && !more && self.to_read.is_empty()) {
                break;
            }
            if round >= 16 {
                // Yield to other tasks; come back at once.
                self.wakes.wake(Key::Engine);
                break;
            }
        }
        while let Some(r) = g.take_request() {
            self.out_requests.push(r);
        }
        let delivered = self.flushing.is_empty() && !self.send.values().any(|s| s.blocked);
        if !self.closed && self.side == Side::Client && self.close.due(&g, now, delivered) {
            debug!("client sessions ended: closing the connection");
            g.engine.close(Code::H3_NO_ERROR, "");
            self.flush_actions(&mut g);
            g.process_events();
        }
        let mut deadline = g.engine.poll_timeout();
        if let Some(t) = self.close.deadline()
            && !self.closed
        {
            deadline = Some(deadline.map_or(t, |d| d.min(t)));
        }
        drop(g);

        self.dispatch_requests();
        if self.closed {
            self.teardown();
            return Poll::Ready(());
        }
        if let Some(t) = deadline {
            self.timer.as_mut().reset(tokio::time::Instant::from_std(t));
            if self.timer.as_mut().poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    }

    /// Hands new session requests to the server's accept queue (outside the engine lock:
    /// rejecting one locks it).
    fn dispatch_requests(&mut self) {
        let Some(queue) = &self.requests else {
            self.out_requests.clear();
            return;
        };
        for (id, req) in self.out_requests.drain(..) {
            queue.offer(&self.shared, id, req);
        }
    }

    fn teardown(&mut self) {
        self.send.clear();
        self.recv.clear();
        self.flushing.clear();
        self.pool = [VecDeque::new(), VecDeque::new()];
    }

    /// Accepts peer streams. `Some` when the connection ended (with its error, if known).
    #[allow(clippy::option_option)]
    fn accept(&mut self) -> Option<Option<s2n_quic::connection::Error>> {
        loop {
            let mut cx = Context::from_waker(&self.accept_waker);
            match self.acceptor.poll_accept(&mut cx) {
                Poll::Ready(Ok(Some(PeerStream::Bidirectional(b)))) => {
                    let id = StreamId(b.id());
                    trace!(%id, "peer bidi stream");
                    self.unintroduced[0].insert(id.index());
                    self.install_bi(id, b);
                }
                Poll::Ready(Ok(Some(PeerStream::Receive(r)))) => {
                    let id = StreamId(r.id());
                    trace!(%id, "peer uni stream");
                    self.unintroduced[1].insert(id.index());
                    self.install_recv(id, r);
                }
                Poll::Ready(Ok(None)) => return Some(None),
                Poll::Ready(Err(e)) => return Some(Some(e)),
                Poll::Pending => return None,
            }
        }
    }

    /// The connection's close reason when stream accepting reported none (s2n-quic reports a
    /// clean close and an idle timeout alike there); the datagram receiver has it.
    fn close_reason(&mut self) -> Option<s2n_quic::connection::Error> {
        let mut cx = Context::from_waker(&self.dg_waker);
        let r = self
            .handle
            .datagram_mut(|r: &mut DgReceiver| r.poll_recv_datagram(&mut cx));
        match r {
            Ok(Poll::Ready(Err(
                s2n_quic::provider::datagram::default::DatagramError::ConnectionError {
                    error, ..
                },
            ))) => Some(error),
            _ => None,
        }
    }

    fn install_bi(&mut self, id: StreamId, b: BidirectionalStream) {
        let (r, s) = b.split();
        self.install_recv(id, r);
        self.install_send(id, s);
    }

    fn install_recv(&mut self, id: StreamId, r: ReceiveStream) {
        let waker = self.wakes.waker(Key::Recv(id));
        self.recv.insert(
            id,
            RecvEntry {
                stream: r,
                waker,
                leftover: None,
            },
        );
        self.to_read.push(id);
    }

    fn install_send(&mut self, id: StreamId, s: QSend) {
        let waker = self.wakes.waker(Key::Send(id));
        self.send.insert(
            id,
            SendEntry {
                stream: s,
                waker,
                blocked: false,
            },
        );
    }

    /// Opens s2n-quic streams ahead of the engine and gives the engine exactly that credit.
    fn open_ahead(&mut self, g: &mut Inner) {
        for (i, dir) in [(0, Dir::Bi), (1, Dir::Uni)] {
            let before = self.credit.credit(dir);
            while self.credit.wants(dir) {
                let mut cx = Context::from_waker(&self.open_wakers[i]);
                let r = match dir {
                    Dir::Bi => self
                        .handle
                        .poll_open_bidirectional_stream(&mut cx)
                        .map(|r| r.map(Opened::Bi)),
                    Dir::Uni => self
                        .handle
                        .poll_open_send_stream(&mut cx)
                        .map(|r| r.map(Opened::Uni)),
                };
                let stream = match r {
                    Poll::Ready(Ok(s)) => s,
                    Poll::Ready(Err(e)) => {
                        trace!(error = %e, "cannot open streams");
                        break;
                    }
                    Poll::Pending => {
                        trace!(
                            ?dir,
                            opened = self.credit.credit(dir),
                            used = self.credit.used_count(dir),
                            flushing = self.flushing.len(),
                            send = self.send.len(),
                            recv = self.recv.len(),
                            "no stream credit"
                        );
                        break;
                    }
                };
                let id = StreamId(stream.id());
                let expected = StreamId::new(self.side, dir, self.credit.credit(dir));
                if id != expected {
                    warn!(%id, %expected, "s2n-quic opened an unexpected stream id");
                    g.engine
                        .close(Code::H3_INTERNAL_ERROR, "stream ids diverged");
                    return;
                }
                self.credit.opened(dir);
                match self.pending_open.remove(&id) {
                    Some(reset) => {
                        trace!(%id, "late open");
                        self.install_opened(id, stream);
                        if let Some(code) = reset {
                            if let Some(mut e) = self.send.remove(&id) {
                                let _ = e.stream.reset(app(code));
                            }
                        } else {
                            g.engine.handle_stream_writable(id);
                        }
                    }
                    None => self.pool[i].push_back(stream),
                }
            }
            let credit = self.credit.credit(dir);
            if credit != before {
                trace!(?dir, credit, "stream credit");
                g.engine.handle_max_streams(dir, credit);
            }
        }
    }

    fn install_opened(&mut self, id: StreamId, stream: Opened) {
        match stream {
            Opened::Bi(b) => self.install_bi(id, b),
            Opened::Uni(s) => self.install_send(id, s),
        }
    }

    /// Moves received datagrams into the engine while the application's queues have room; the
    /// rest stay in s2n-quic's receive queue (which drops the oldest when full) until the
    /// application reads and wakes this task.
    fn recv_datagrams(&mut self, g: &mut Inner) {
        let room = g.datagram_room();
        for moved in 0.. {
            if moved >= room || g.engine.datagram_room() == 0 {
                g.hold_back_datagrams();
                return;
            }
            let mut cx = Context::from_waker(&self.dg_waker);
            let r = self
                .handle
                .datagram_mut(|r: &mut DgReceiver| r.poll_recv_datagram(&mut cx));
            match r {
                Ok(Poll::Ready(Ok(d))) => g.engine.handle_datagram(d),
                _ => return,
            }
        }
    }

    /// Reads what s2n-quic holds for `id`, no more than the engine's budget.
    fn read_stream(&mut self, g: &mut Inner, id: StreamId) {
        let Some(entry) = self.recv.get_mut(&id) else {
            return;
        };
        let RecvEntry {
            stream,
            waker,
            leftover,
        } = entry;
        let mut cx = Context::from_waker(waker);
        let mut done = false;
        let unintroduced = &mut self.unintroduced[di(id.dir())];
        let mut introduce = |g: &mut Inner| {
            if id.initiator() != self.side && unintroduced.contains(&id.index()) {
                introduce(g, unintroduced, id);
            }
        };
        loop {
            let budget = g.engine.recv_budget(id);
            if budget == 0 {
                // The engine says `ResumeReading` when there is room again.
                trace!(%id, "engine buffer full: reading paused");
                break;
            }
            let mut chunk = match leftover.take() {
                Some(c) => c,
                None => match stream.poll_receive(&mut cx) {
                    Poll::Ready(Ok(Some(c))) => {
                        introduce(g);
                        c
                    }
                    Poll::Ready(Ok(None)) => {
                        introduce(g);
                        trace!(%id, "FIN");
                        g.engine.handle_stream_data(id, Bytes::new(), true);
                        done = true;
                        break;
                    }
                    Poll::Ready(Err(e)) => {
                        introduce(g);
                        if let Some(code) = reset_code(&e) {
                            g.engine.handle_stream_reset(id, code);
                        } else {
                            trace!(%id, error = %e, "receive error");
                        }
                        done = true;
                        break;
                    }
                    Poll::Pending => {
                        trace!(%id, "receive pending");
                        break;
                    }
                },
            };
            trace!(%id, len = chunk.len(), budget, "stream data");
            if chunk.len() > budget {
                let head = chunk.split_to(budget);
                *leftover = Some(chunk);
                g.engine.handle_stream_data(id, head, false);
            } else {
                g.engine.handle_stream_data(id, chunk, false);
            }
        }
        if done {
            self.recv.remove(&id);
        }
    }

    /// A blocked send half may have room again.
    fn send_ready(&mut self, g: &mut Inner, id: StreamId) {
        let Some(e) = self.send.get_mut(&id) else {
            return;
        };
        if !e.blocked {
            return;
        }
        let mut cx = Context::from_waker(&e.waker);
        match e.stream.poll_send_ready(&mut cx) {
            Poll::Ready(Ok(_)) => {
                e.blocked = false;
                g.engine.handle_stream_writable(id);
            }
            Poll::Ready(Err(err)) => self.send_failed(g, id, &err),
            Poll::Pending => {}
        }
    }

    fn send_failed(&mut self, g: &mut Inner, id: StreamId, err: &StreamError) {
        self.send.remove(&id);
        match reset_code(err) {
            // s2n-quic answers the peer's STOP_SENDING with a reset and reports it here.
            Some(code) => g.engine.handle_stop_sending(id, code),
            None => trace!(%id, error = %err, "send error"),
        }
    }

    fn poll_flushing(&mut self, id: StreamId) {
        let Some((s, w)) = self.flushing.get_mut(&id) else {
            return;
        };
        let mut cx = Context::from_waker(w);
        if s.poll_flush(&mut cx).is_ready() {
            self.flushing.remove(&id);
        }
    }

    /// Executes the engine's pending actions. Returns whether there were any.
    fn flush_actions(&mut self, g: &mut Inner) -> bool {
        let mut any = false;
        let mut opened = false;
        while let Some(action) = g.engine.poll_action() {
            any = true;
            opened |= matches!(action, Action::OpenStream { .. });
            self.execute(g, action);
            if self.closed {
                break;
            }
        }
        if opened && !self.closed {
            self.open_ahead(g);
        }
        any
    }

    fn execute(&mut self, g: &mut Inner, action: Action) {
        match action {
            Action::OpenStream { stream } => {
                let i = di(stream.dir());
                if stream.index() != self.credit.used_count(stream.dir()) {
                    warn!(%stream, "engine stream ids diverged from s2n-quic's");
                    g.engine
                        .close(Code::H3_INTERNAL_ERROR, "stream ids diverged");
                    return;
                }
                // Beyond the credit, the stream waits in `pending_open` until s2n-quic opens it.
                let _ = self.credit.used(stream.dir());
                match self.pool[i].front() {
                    Some(s) if s.id() == stream.0 => {
                        if let Some(s) = self.pool[i].pop_front() {
                            self.install_opened(stream, s);
                        }
                    }
                    Some(s) => {
                        warn!(%stream, pooled = s.id(), "pre-opened stream mismatch");
                        g.engine
                            .close(Code::H3_INTERNAL_ERROR, "stream ids diverged");
                    }
                    None => {
                        debug!(%stream, "engine opened a stream s2n-quic has not opened yet");
                        self.pending_open.insert(stream, None);
                    }
                }
            }
            Action::Write { stream, data, fin } => self.write(g, stream, data, fin),
            Action::ResetStream { stream, code, .. } => {
                if let Some(mut e) = self.send.remove(&stream) {
                    let _ = e.stream.reset(app(code));
                } else if let Some(r) = self.pending_open.get_mut(&stream) {
                    *r = Some(code);
                }
            }
            Action::StopSending { stream, code } => {
                if let Some(mut e) = self.recv.remove(&stream) {
                    let _ = e.stream.stop_sending(app(code));
                }
            }
            // Read in the next round of the pass.
            Action::ResumeReading { stream } => self.to_read.push(stream),
            Action::SendDatagram { data } => {
                let r = self
                    .handle
                    .datagram_mut(|s: &mut DgSender| s.send_datagram_forced(data));
                match r {
                    Ok(Ok(None)) => {}
                    Ok(Ok(Some(_))) => trace!("datagram queue full: oldest dropped"),
                    Ok(Err(e)) => debug!(error = %e, "datagram dropped by the transport"),
                    Err(e) => debug!(error = %e, "datagram provider unavailable"),
                }
            }
            Action::CloseConnection { code, reason } => {
                debug!(%code, %reason, "closing the connection");
                self.handle.close(app(code));
                let close = TransportClose::Application {
                    code: code.0,
                    reason,
                    remote: false,
                };
                g.set_transport_error(close.error());
                self.closed = true;
            }
            other => warn!(?other, "an action this adapter does not know: ignored"),
        }
    }

    fn write(&mut self, g: &mut Inner, stream: StreamId, data: Bytes, fin: bool) {
        let Some(e) = self.send.get_mut(&stream) else {
            if self.pending_open.contains_key(&stream) {
                g.engine.handle_write_blocked(stream, data, fin);
            } else {
                trace!(%stream, "write on a closed stream dropped");
            }
            return;
        };
        trace!(%stream, len = data.len(), fin, "write");
        let mut data = data;
        if !data.is_empty() {
            let mut cx = Context::from_waker(&e.waker);
            match e.stream.poll_send(&mut data, &mut cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(err)) => {
                    self.send_failed(g, stream, &err);
                    return;
                }
                Poll::Pending => {
                    e.blocked = true;
                    g.engine.handle_write_blocked(stream, data, fin);
                    return;
                }
            }
        }
        if fin {
            let Some(mut e) = self.send.remove(&stream) else {
                return;
            };
            if let Err(err) = e.stream.finish() {
                trace!(%stream, error = %err, "finish failed");
                return;
            }
            if self.side == Side::Client && stream.is_client_bidi() {
                let waker = self.wakes.waker(Key::Flush(stream));
                self.flushing.insert(stream, (e.stream, waker));
                self.poll_flushing(stream);
            }
        }
    }
}
