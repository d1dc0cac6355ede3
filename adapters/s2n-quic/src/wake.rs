//! Keyed wakers: one task drives a whole connection, and every s2n-quic object it polls gets a
//! waker that records *what* became ready, so a wake-up polls only that object.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

use wt_proto::StreamId;

/// What woke the connection task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// The application changed the engine (wt-session's driver callback).
    Engine,
    /// The endpoint is closing.
    Close,
    /// A peer stream may be accepted, or the connection ended.
    Accept,
    /// A datagram arrived.
    Datagram,
    /// A local stream (0: bidi, 1: uni) may be opened.
    Open(usize),
    /// A receive half has data, a FIN or a reset.
    Recv(StreamId),
    /// A blocked send half has room (or was stopped).
    Send(StreamId),
    /// A finished send half was acknowledged.
    Flush(StreamId),
}

#[derive(Default)]
struct State {
    ready: HashSet<Key>,
    task: Option<Waker>,
}

/// The ready set of one connection task.
#[derive(Default)]
pub(crate) struct WakeSet(Mutex<State>);

impl WakeSet {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `key` ready and wakes the task.
    pub(crate) fn wake(&self, key: Key) {
        let task = {
            let mut s = self.state();
            s.ready.insert(key);
            s.task.take()
        };
        if let Some(t) = task {
            t.wake();
        }
    }

    /// Registers the task's waker and takes the keys that became ready.
    pub(crate) fn begin(&self, cx: &Context<'_>) -> HashSet<Key> {
        let mut s = self.state();
        s.task = Some(cx.waker().clone());
        std::mem::take(&mut s.ready)
    }

    /// A waker that marks `key`.
    pub(crate) fn waker(self: &Arc<Self>, key: Key) -> Waker {
        Waker::from(Arc::new(KeyWaker {
            set: self.clone(),
            key,
        }))
    }
}

struct KeyWaker {
    set: Arc<WakeSet>,
    key: Key,
}

impl Wake for KeyWaker {
    fn wake(self: Arc<Self>) {
        self.set.wake(self.key);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.set.wake(self.key);
    }
}
