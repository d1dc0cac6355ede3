//! The connection's streams: the send and receive halves of every stream (HTTP/3's own and
//! WebTransport's), the ready queue of send halves with bytes for the transport, local stream
//! ids and the transport's credit for them (RFC 9000 §2.1, §4.6), and which peer stream ids
//! were seen. A stream is gone when both of its halves are.
//!
//! The maps are private: every insertion and removal goes through this type, which keeps the
//! count of WebTransport streams held for sessions that are not established.

use std::collections::VecDeque;

use bytes::Bytes;

use super::peer_streams::PeerStreams;
use crate::Dir;
use crate::id::{IdMap, SessionId, Side, StreamId};
use crate::stream::{Recv, SendStream, WtRecv};

/// Index of a direction in per-direction arrays.
fn di(dir: Dir) -> usize {
    match dir {
        Dir::Bi => 0,
        Dir::Uni => 1,
    }
}

/// A write taken from a send half for the transport.
pub(super) struct Popped {
    /// The stream.
    pub stream: StreamId,
    /// The bytes.
    pub data: Bytes,
    /// The FIN goes with them: the send half is gone.
    pub fin: bool,
    /// The application waits for room, and there is room now.
    pub writable: bool,
}

/// What became of a write the transport handed back.
pub(super) enum HandedBack {
    /// Back at the front of its send half's queue.
    Queued,
    /// The send half had ended with that write's FIN: it is live again (of this session).
    Restored(Option<SessionId>),
    /// The stream was reset since: the bytes are dropped.
    Dropped,
}

/// Every stream's halves, the ready queue and the stream ids of both sides.
#[derive(Debug)]
pub(super) struct Streams {
    side: Side,
    send: IdMap<StreamId, SendStream>,
    recv: IdMap<StreamId, Recv>,
    /// Send halves with bytes or a FIN for the transport, in the order they became ready.
    ready: VecDeque<StreamId>,
    /// Next index and credit (absolute stream count) for local streams, per direction.
    next_local: [u64; 2],
    max_local: [u64; 2],
    /// An open failed for lack of credit: report it when the credit grows.
    local_blocked: [bool; 2],
    /// The peer streams seen so far, per direction.
    peer: [PeerStreams; 2],
    /// WebTransport receive halves held for sessions that are not established.
    buffered: usize,
    /// Server: request streams held until the client's SETTINGS arrive.
    held_requests: usize,
    /// Bytes held in receive halves for the application (WebTransport payload, held requests).
    held_bytes: usize,
    /// Streams that got no budget because the connection's budget was spent: each is told to
    /// resume once there is room.
    waiting: Vec<StreamId>,
    /// The send half whose FIN the last popped write carried, until the next pop.
    last_fin: Option<(StreamId, SendStream)>,
}

impl Streams {
    /// No streams yet; unlimited local credit until the transport reports it.
    pub fn new(side: Side) -> Self {
        Self {
            side,
            send: IdMap::default(),
            recv: IdMap::default(),
            ready: VecDeque::new(),
            next_local: [0; 2],
            max_local: [u64::MAX >> 2; 2],
            local_blocked: [false; 2],
            peer: Default::default(),
            buffered: 0,
            held_requests: 0,
            held_bytes: 0,
            waiting: Vec::new(),
            last_fin: None,
        }
    }

    // ---- send halves ----

    /// The send half of `id`.
    #[inline]
    pub fn send(&self, id: StreamId) -> Option<&SendStream> {
        self.send.get(&id)
    }

    /// The send half of `id`, to change its queue or flags.
    #[inline]
    pub fn send_mut(&mut self, id: StreamId) -> Option<&mut SendStream> {
        self.send.get_mut(&id)
    }

    /// Whether `id` has a send half.
    #[inline]
    pub fn has_send(&self, id: StreamId) -> bool {
        self.send.contains_key(&id)
    }

    /// Creates (or replaces) the send half of `id`.
    pub fn insert_send(&mut self, id: StreamId, send: SendStream) {
        self.send.insert(id, send);
    }

    /// Removes the send half of `id`.
    pub fn remove_send(&mut self, id: StreamId) -> Option<SendStream> {
        self.send.remove(&id)
    }

    /// Makes sure `id` has a send half (a request that will be answered).
    pub fn ensure_send(&mut self, id: StreamId) {
        self.send.entry(id).or_insert_with(|| SendStream::new(None));
    }

    /// Queues bytes (and a FIN) the engine itself writes on `id`, creating its send half if
    /// needed (control streams, requests and responses).
    #[inline]
    pub fn queue_write(&mut self, id: StreamId, data: Bytes, fin: bool) {
        let s = self.send.entry(id).or_insert_with(|| SendStream::new(None));
        s.push(data);
        s.fin |= fin;
        self.schedule(id);
    }

    /// Puts a send half with pending bytes in the ready queue.
    #[inline]
    pub fn schedule(&mut self, id: StreamId) {
        if let Some(s) = self.send.get_mut(&id)
            && !s.scheduled
            && !s.blocked
            && s.has_pending()
        {
            s.scheduled = true;
            self.ready.push_back(id);
        }
    }

    /// Takes the next chunk for the transport. A send half whose FIN goes out is removed (and
    /// kept until the next pop, see [`write_blocked`](Self::write_blocked)).
    #[inline]
    pub fn pop_write(&mut self, buffer_limit: usize) -> Option<Popped> {
        self.last_fin = None;
        while let Some(id) = self.ready.pop_front() {
            let Some(s) = self.send.get_mut(&id) else {
                continue;
            };
            s.scheduled = false;
            if s.blocked || !s.has_pending() {
                continue;
            }
            let data = s.queue.pop_front().unwrap_or_default();
            s.queued = s.queued.saturating_sub(data.len());
            s.sent = s.sent.saturating_add(data.len() as u64);
            let fin = s.fin && s.queue.is_empty();
            if !s.queue.is_empty() {
                s.scheduled = true;
                self.ready.push_back(id);
            }
            let writable = s.want_writable && s.queued <= buffer_limit / 2 && !fin;
            if writable {
                s.want_writable = false;
            }
            if fin && let Some(done) = self.send.remove(&id) {
                self.last_fin = Some((id, done));
            }
            return Some(Popped {
                stream: id,
                data,
                fin,
                writable,
            });
        }
        None
    }

    /// Forgets the send half kept after the last popped FIN.
    #[inline]
    pub fn forget_last_fin(&mut self) {
        self.last_fin = None;
    }

    /// The transport handed back the end of the last popped write (and its FIN): it waits at
    /// the front of the queue until the stream is writable again.
    pub fn write_blocked(&mut self, id: StreamId, data: Bytes, fin: bool) -> HandedBack {
        let mut outcome = HandedBack::Queued;
        if !self.send.contains_key(&id) {
            let Some((_, done)) = self.last_fin.take_if(|(s, _)| *s == id) else {
                return HandedBack::Dropped;
            };
            outcome = HandedBack::Restored(done.session);
            self.send.insert(id, done);
        }
        let Some(s) = self.send.get_mut(&id) else {
            return HandedBack::Dropped;
        };
        s.sent = s.sent.saturating_sub(data.len() as u64);
        s.queued = s.queued.saturating_add(data.len());
        if !data.is_empty() {
            s.queue.push_front(data);
        }
        s.fin |= fin;
        s.blocked = true;
        outcome
    }

    // ---- receive halves ----

    /// The receive half of `id`.
    #[inline]
    pub fn recv(&self, id: StreamId) -> Option<&Recv> {
        self.recv.get(&id)
    }

    /// The receive half of `id`, to feed it. Whether a WebTransport half is held for its
    /// session changes only through [`release_buffered`](Self::release_buffered).
    #[inline]
    pub fn recv_mut(&mut self, id: StreamId) -> Option<&mut Recv> {
        self.recv.get_mut(&id)
    }

    /// The WebTransport receive half of `id`.
    #[inline]
    pub fn wt_mut(&mut self, id: StreamId) -> Option<&mut WtRecv> {
        match self.recv.get_mut(&id) {
            Some(Recv::Wt(w)) => Some(w),
            _ => None,
        }
    }

    /// Whether `id` has a receive half.
    #[inline]
    pub fn has_recv(&self, id: StreamId) -> bool {
        self.recv.contains_key(&id)
    }

    /// Creates (or replaces) the receive half of `id`.
    pub fn insert_recv(&mut self, id: StreamId, recv: Recv) {
        self.count(&recv, true);
        if let Some(old) = self.recv.insert(id, recv) {
            self.count(&old, false);
        }
    }

    /// Removes the receive half of `id`.
    pub fn remove_recv(&mut self, id: StreamId) -> Option<Recv> {
        let recv = self.recv.remove(&id)?;
        self.count(&recv, false);
        Some(recv)
    }

    /// Keeps the counts of held halves as `recv` enters or leaves the map.
    fn count(&mut self, recv: &Recv, enters: bool) {
        let bytes = match recv {
            Recv::Wt(w) => w.buf.len,
            Recv::Request(r) => r.held.as_ref().map_or(0, |(b, _)| b.len()),
            _ => 0,
        };
        self.held_bytes = if enters {
            self.held_bytes.saturating_add(bytes)
        } else {
            self.held_bytes.saturating_sub(bytes)
        };
        let counter = match recv {
            Recv::Wt(w) if w.buffered => &mut self.buffered,
            Recv::Request(r) if r.held.is_some() => &mut self.held_requests,
            _ => return,
        };
        *counter = if enters {
            counter.saturating_add(1)
        } else {
            counter.saturating_sub(1)
        };
    }

    /// Bytes held in receive halves for the application.
    #[inline]
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Payload of `n` bytes entered a receive half in place.
    #[inline]
    pub fn bytes_in(&mut self, n: usize) {
        self.held_bytes = self.held_bytes.saturating_add(n);
    }

    /// The application took `n` bytes from a receive half in place.
    #[inline]
    pub fn bytes_out(&mut self, n: usize) {
        self.held_bytes = self.held_bytes.saturating_sub(n);
    }

    /// `id` got no budget because the connection's was spent.
    pub fn wait_for_room(&mut self, id: StreamId) {
        if !self.waiting.contains(&id) {
            self.waiting.push(id);
        }
    }

    /// The streams waiting for room (taken: they ask again when told to resume).
    pub fn take_waiting(&mut self) -> Vec<StreamId> {
        std::mem::take(&mut self.waiting)
    }

    /// Whether a stream waits for room.
    #[inline]
    pub fn any_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Server: request streams held until the client's SETTINGS arrive.
    pub fn held_requests(&self) -> usize {
        self.held_requests
    }

    /// Server: takes the bytes (and FIN) held on request stream `id` before the SETTINGS;
    /// from here on it is read like any request.
    pub fn take_held(&mut self, id: StreamId) -> Option<(Bytes, bool)> {
        let Some(Recv::Request(r)) = self.recv.get_mut(&id) else {
            return None;
        };
        let (bytes, fin) = r.held.take()?;
        self.held_requests = self.held_requests.saturating_sub(1);
        self.held_bytes = self.held_bytes.saturating_sub(bytes.len());
        Some((bytes.freeze(), fin))
    }

    /// A held WebTransport stream is handed to its established session.
    pub fn release_buffered(&mut self, id: StreamId) -> Option<&mut WtRecv> {
        let w = match self.recv.get_mut(&id) {
            Some(Recv::Wt(w)) if w.buffered => w,
            _ => return None,
        };
        w.buffered = false;
        self.buffered = self.buffered.saturating_sub(1);
        Some(w)
    }

    /// WebTransport receive halves held for sessions that are not established.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// The streams whose receive half matches `f`, in id order.
    pub fn recv_ids(&self, f: impl Fn(&Recv) -> bool) -> Vec<StreamId> {
        let mut ids: Vec<StreamId> = self
            .recv
            .iter()
            .filter(|(_, r)| f(r))
            .map(|(id, _)| *id)
            .collect();
        ids.sort();
        ids
    }

    /// How many receive halves match `f`.
    pub fn count_recv(&self, f: impl Fn(StreamId, &Recv) -> bool) -> usize {
        self.recv.iter().filter(|(id, r)| f(**id, r)).count()
    }

    /// Whether neither half of `id` is left.
    #[inline]
    pub fn is_gone(&self, id: StreamId) -> bool {
        !self.send.contains_key(&id) && !self.recv.contains_key(&id)
    }

    /// The number of send and receive halves.
    pub fn halves(&self) -> (usize, usize) {
        (self.send.len(), self.recv.len())
    }

    /// Entries in the ready queue.
    pub fn ready_len(&self) -> usize {
        self.ready.len()
    }

    /// Drops every stream (the connection ended).
    pub fn clear(&mut self) {
        self.send.clear();
        self.recv.clear();
        self.ready.clear();
        self.buffered = 0;
        self.held_requests = 0;
        self.held_bytes = 0;
        self.waiting.clear();
        self.last_fin = None;
        self.peer = Default::default();
    }

    /// Drops the ready queue (the connection closes: nothing more is written).
    pub fn clear_ready(&mut self) {
        self.ready.clear();
    }

    // ---- stream ids ----

    /// Allocates the next local stream id of `dir` if the transport's credit allows it.
    pub fn open_local(&mut self, dir: Dir) -> Option<StreamId> {
        let i = di(dir);
        let next = *self.next_local.get(i)?;
        if next >= *self.max_local.get(i)? {
            if let Some(b) = self.local_blocked.get_mut(i) {
                *b = true;
            }
            return None;
        }
        *self.next_local.get_mut(i)? = next.saturating_add(1);
        Some(StreamId::new(self.side, dir, next))
    }

    /// The transport's credit for local streams of `dir` (a total count). Returns whether an
    /// open that failed for lack of credit can succeed now.
    pub fn set_max_local(&mut self, dir: Dir, max: u64) -> bool {
        let i = di(dir);
        if let Some(m) = self.max_local.get_mut(i) {
            *m = max;
        }
        let blocked = self.local_blocked.get(i).copied().unwrap_or(false);
        let available = self.next_local.get(i).is_some_and(|&n| n < max);
        if blocked && available {
            if let Some(b) = self.local_blocked.get_mut(i) {
                *b = false;
            }
            return true;
        }
        false
    }

    /// Whether the peer stream `id` was not seen yet.
    pub fn peer_is_new(&self, id: StreamId) -> bool {
        self.peer
            .get(di(id.dir()))
            .is_some_and(|p| p.is_new(id.index()))
    }

    /// Marks the peer stream `id` as seen; returns whether it was new.
    pub fn mark_peer(&mut self, id: StreamId) -> bool {
        let Some(p) = self.peer.get_mut(di(id.dir())) else {
            return false;
        };
        let new = p.is_new(id.index());
        p.mark(id.index());
        new
    }

    /// One more than the highest peer stream index of `dir` seen.
    pub fn peer_next_unused(&self, dir: Dir) -> u64 {
        self.peer.get(di(dir)).map_or(0, |p| p.next_unused())
    }

    /// Peer stream ids remembered because they arrived out of order.
    pub fn out_of_order(&self) -> usize {
        self.peer.iter().map(|p| p.out_of_order()).sum()
    }
}
