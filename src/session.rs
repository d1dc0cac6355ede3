//! One WebTransport session: where it is in its life, the streams that belong to it, and the
//! capsule decoder of its CONNECT stream.

use std::collections::BTreeSet;
use std::time::Instant;

use bytes::BytesMut;

use crate::capsule::CapsuleDecoder;
use crate::headers::ConnectRequest;
use crate::id::{SessionId, StreamId};

/// Where a session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SessionState {
    /// Client: connect() was called before the server's SETTINGS; the CONNECT is not sent yet.
    Pending,
    /// Client: CONNECT sent, waiting for the response. Server: request surfaced, waiting for the
    /// application's accept or reject.
    Requested,
    /// 2xx sent (server) or received (client).
    Established,
}

/// One session.
#[derive(Debug)]
pub(crate) struct Session {
    /// Its id (the CONNECT stream).
    pub id: SessionId,
    /// Its state.
    pub state: SessionState,
    /// Streams of this session, established or buffered.
    pub streams: BTreeSet<StreamId>,
    /// Capsules on the CONNECT stream.
    pub capsules: CapsuleDecoder,
    /// Server: CONNECT-stream DATA received before the 2xx was sent, processed on accept.
    pub early: BytesMut,
    /// Client: the request to send (Pending) or sent (Requested), for protocol checks.
    pub request: Option<ConnectRequest>,
    /// A DRAIN capsule or GOAWAY was received.
    pub draining: bool,
    /// The peer stopped reading the CONNECT stream and our side of it was reset: nothing more
    /// is sent on it, nor datagrams (RFC 9297 §2.1); the session ends with the peer's side.
    pub connect_send_closed: bool,
    /// Activity since the last idle check.
    pub active: bool,
    /// When the idle check is due.
    pub idle_deadline: Option<Instant>,
}

impl Session {
    /// A new session.
    pub fn new(id: SessionId, state: SessionState, max_datagram_capsule: usize) -> Self {
        Self {
            id,
            state,
            streams: BTreeSet::new(),
            capsules: CapsuleDecoder::new(max_datagram_capsule),
            early: BytesMut::new(),
            request: None,
            draining: false,
            connect_send_closed: false,
            active: true,
            idle_deadline: None,
        }
    }
}
