//! The connection's WebTransport sessions and the datagrams that arrived before their session
//! was established (draft-ietf-webtrans-http3 §4.6 lets them precede it; the buffer is bounded
//! by `Config::max_buffered_datagrams`).
//!
//! The map is private: a session enters with [`Sessions::insert`] and leaves only through
//! [`Sessions::remove`] (called by `Connection::end_session`, the one path by which a session
//! ends) or [`Sessions::drain`] (the connection ended).

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;

use crate::id::{IdMap, SessionId};
use crate::session::{Session, SessionState};

/// The sessions of one connection.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    map: IdMap<SessionId, Session>,
    /// Datagrams held for sessions that are not established (or whose SETTINGS are pending).
    early_datagrams: VecDeque<(SessionId, Bytes)>,
    /// Their bytes.
    early_bytes: usize,
}

impl Sessions {
    /// The session `id`.
    #[inline]
    pub fn get(&self, id: SessionId) -> Option<&Session> {
        self.map.get(&id)
    }

    /// The session `id`, to change it.
    #[inline]
    pub fn get_mut(&mut self, id: SessionId) -> Option<&mut Session> {
        self.map.get_mut(&id)
    }

    /// Whether the session `id` exists.
    #[inline]
    pub fn contains(&self, id: SessionId) -> bool {
        self.map.contains_key(&id)
    }

    /// The state of session `id`.
    #[inline]
    pub fn state(&self, id: SessionId) -> Option<SessionState> {
        self.map.get(&id).map(|s| s.state)
    }

    /// The number of live sessions (pending, requested or established).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Adds a session.
    pub fn insert(&mut self, session: Session) {
        self.map.insert(session.id, session);
    }

    /// Removes a session and drops the datagrams held for it; returns it with the number of
    /// datagrams dropped. Only `Connection::end_session` calls this.
    pub fn remove(&mut self, id: SessionId) -> Option<(Session, usize)> {
        let session = self.map.remove(&id)?;
        Some((session, self.drop_datagrams_of(id)))
    }

    /// Removes every session (in id order) and every held datagram; returns the sessions and
    /// the number of datagrams dropped.
    pub fn drain(&mut self) -> (Vec<Session>, usize) {
        let mut sessions: Vec<Session> = self.map.drain().map(|(_, s)| s).collect();
        sessions.sort_by_key(|s| s.id);
        let dropped = self.early_datagrams.len();
        self.early_datagrams.clear();
        self.early_bytes = 0;
        (sessions, dropped)
    }

    /// The sessions that match `f`, in id order.
    pub fn ids(&self, f: impl Fn(&Session) -> bool) -> Vec<SessionId> {
        let mut ids: Vec<SessionId> = self.map.values().filter(|s| f(s)).map(|s| s.id).collect();
        ids.sort();
        ids
    }

    /// Whether any session matches `f`.
    pub fn any(&self, f: impl Fn(&Session) -> bool) -> bool {
        self.map.values().any(f)
    }

    /// The session that holds stream `id`, if any.
    pub fn owner_of_mut(&mut self, id: crate::StreamId) -> Option<&mut Session> {
        self.map.values_mut().find(|s| s.streams.contains(&id))
    }

    /// The earliest idle deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.map.values().filter_map(|s| s.idle_deadline).min()
    }

    // ---- datagrams before their session ----

    /// Holds a datagram for `session`; returns `false` (and drops it) when `max` are held.
    pub fn hold_datagram(&mut self, session: SessionId, data: Bytes, max: usize) -> bool {
        if self.early_datagrams.len() >= max {
            return false;
        }
        self.early_bytes = self.early_bytes.saturating_add(data.len());
        self.early_datagrams.push_back((session, data));
        true
    }

    /// Takes the datagrams held for `session`, oldest first.
    pub fn take_datagrams_of(&mut self, session: SessionId) -> Vec<Bytes> {
        let (held, others): (Vec<_>, Vec<_>) = self
            .early_datagrams
            .drain(..)
            .partition(|(s, _)| *s == session);
        self.early_datagrams = others.into();
        let held: Vec<Bytes> = held.into_iter().map(|(_, d)| d).collect();
        let bytes: usize = held.iter().map(Bytes::len).sum();
        self.early_bytes = self.early_bytes.saturating_sub(bytes);
        held
    }

    /// Takes every held datagram, oldest first.
    pub fn take_all_datagrams(&mut self) -> Vec<(SessionId, Bytes)> {
        self.early_bytes = 0;
        self.early_datagrams.drain(..).collect()
    }

    /// Drops the datagrams held for `session`; returns how many.
    pub fn drop_datagrams_of(&mut self, session: SessionId) -> usize {
        let before = self.early_datagrams.len();
        let mut bytes = 0usize;
        self.early_datagrams.retain(|(s, d)| {
            let keep = *s != session;
            if !keep {
                bytes = bytes.saturating_add(d.len());
            }
            keep
        });
        self.early_bytes = self.early_bytes.saturating_sub(bytes);
        before.saturating_sub(self.early_datagrams.len())
    }

    /// The number of held datagrams.
    pub fn held_datagrams(&self) -> usize {
        self.early_datagrams.len()
    }

    /// The bytes of held datagrams.
    #[inline]
    pub fn held_datagram_bytes(&self) -> usize {
        self.early_bytes
    }
}
