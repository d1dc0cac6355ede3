//! QUIC stream ids as the engine sees them, and WebTransport session ids.
//!
//! Stream ids are the transport's own QUIC stream ids (RFC 9000 §2.1): the two low bits give the
//! initiator and the direction. A WebTransport session is named by the id of its CONNECT stream.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

use crate::Dir;

/// Which endpoint this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The endpoint that opened the QUIC connection.
    Client,
    /// The endpoint that accepted it.
    Server,
}

impl Side {
    /// The other side.
    pub fn peer(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Client => "client",
            Side::Server => "server",
        })
    }
}

/// A QUIC stream id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u64);

impl StreamId {
    /// The id of the `index`-th stream opened by `initiator` in direction `dir`.
    pub fn new(initiator: Side, dir: Dir, index: u64) -> Self {
        let low = match (initiator, dir) {
            (Side::Client, Dir::Bi) => 0,
            (Side::Server, Dir::Bi) => 1,
            (Side::Client, Dir::Uni) => 2,
            (Side::Server, Dir::Uni) => 3,
        };
        StreamId(index.saturating_mul(4).saturating_add(low))
    }

    /// The endpoint that opened the stream.
    pub fn initiator(self) -> Side {
        if self.0 & 1 == 0 {
            Side::Client
        } else {
            Side::Server
        }
    }

    /// The stream's direction.
    pub fn dir(self) -> Dir {
        if self.0 & 2 == 0 { Dir::Bi } else { Dir::Uni }
    }

    /// The stream's position among the streams of its initiator and direction.
    pub fn index(self) -> u64 {
        self.0 >> 2
    }

    /// Whether this id may name a WebTransport session: a client-initiated bidirectional stream.
    pub fn is_client_bidi(self) -> bool {
        self.0 & 3 == 0
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<StreamId> for u64 {
    fn from(id: StreamId) -> u64 {
        id.0
    }
}

/// A WebTransport session: the id of its CONNECT stream.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub StreamId);

impl SessionId {
    /// The CONNECT stream.
    pub fn stream(self) -> StreamId {
        self.0
    }

    /// The Quarter Stream ID that prefixes this session's datagrams (RFC 9297 §2.1).
    pub fn quarter(self) -> u64 {
        self.0.0 >> 2
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.0)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.0)
    }
}

/// A hasher for stream and session ids (one `u64` each): a multiplicative (Fibonacci) hash,
/// several times cheaper than SipHash on the per-packet path.
///
/// Peers cannot exploit it to build long collision chains: they can only use stream ids inside
/// the stream credit the transport grants, so the live keys of a map are few and nearly
/// consecutive, which this hash spreads evenly.
#[derive(Clone, Copy, Debug, Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(29);
    }
}

/// A map keyed by stream or session ids, with [`IdHasher`].
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A set of stream or session ids, with [`IdHasher`].
pub type IdSet<K> = std::collections::HashSet<K, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(StreamId::new(Side::Client, Dir::Bi, 0).0, 0);
        assert_eq!(StreamId::new(Side::Server, Dir::Uni, 2).0, 11);
        let s = StreamId(7);
        assert_eq!(
            (s.initiator(), s.dir(), s.index()),
            (Side::Server, Dir::Uni, 1)
        );
        assert!(StreamId(8).is_client_bidi() && !StreamId(9).is_client_bidi());
        assert_eq!(SessionId(StreamId(8)).quarter(), 2);
    }

    #[test]
    fn id_map_spreads_consecutive_ids() {
        use std::hash::BuildHasher;
        let b = BuildHasherDefault::<IdHasher>::default();
        let buckets: std::collections::HashSet<u64> = (0..1024u64)
            .map(|i| b.hash_one(StreamId(i * 4)) >> 57)
            .collect();
        // The top 7 bits (hashbrown's control byte) take many values, not a few.
        assert!(buckets.len() > 100, "{}", buckets.len());
        let mut m: IdMap<StreamId, u64> = IdMap::default();
        for i in 0..1000 {
            m.insert(StreamId(i), i);
        }
        assert_eq!(m.get(&StreamId(999)), Some(&999));
    }
}
