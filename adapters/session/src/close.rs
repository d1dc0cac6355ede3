//! How connections end, once for both adapters: the mapping from a QUIC stack's close to what
//! the engine and the application are told, and when a client closes a connection whose
//! sessions all ended.

use std::time::{Duration, Instant};

use wt_proto::Code;

use crate::error::Error;
use crate::shared::Inner;

/// How a QUIC connection ended, in terms every stack can express. An adapter translates its
/// stack's error into this; [`engine_close`](Self::engine_close) and [`error`](Self::error)
/// say what follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportClose {
    /// A CONNECTION_CLOSE of type 0x1d (RFC 9000 §19.19): an HTTP/3 error code, by the peer
    /// (`remote`) or by us.
    Application {
        /// The HTTP/3 error code.
        code: u64,
        /// The reason phrase.
        reason: String,
        /// Sent by the peer.
        remote: bool,
    },
    /// A CONNECTION_CLOSE of type 0x1c: a QUIC transport error code.
    Transport {
        /// The transport error code (0 is NO_ERROR).
        code: u64,
        /// The stack's description.
        reason: String,
    },
    /// The idle timeout or the handshake timeout expired.
    TimedOut,
    /// Anything else (a stateless reset, the endpoint closing, a local error), described.
    Other(String),
}

impl TransportClose {
    /// The code and reason the engine is given (`Connection::handle_connection_closed`): the
    /// HTTP/3 code of an application close, `H3_NO_ERROR` with a description otherwise.
    pub fn engine_close(&self) -> (Code, String) {
        match self {
            Self::Application { code, reason, .. } => (Code(*code), reason.clone()),
            Self::Transport { reason, .. } => (Code::H3_NO_ERROR, reason.clone()),
            Self::TimedOut => (Code::H3_NO_ERROR, "timed out".into()),
            Self::Other(text) => (Code::H3_NO_ERROR, text.clone()),
        }
    }

    /// The error the session layer reports for calls on the connection's sessions (set with
    /// [`Inner::set_transport_error`]).
    pub fn error(&self) -> Error {
        match self {
            Self::Application {
                code,
                reason,
                remote,
            } => {
                if Code(*code) == Code::H3_NO_ERROR {
                    let who = if *remote { "by the peer" } else { "locally" };
                    Error::ConnectionLost(format!("closed {who}: {reason}"))
                } else {
                    Error::ProtocolError {
                        code: *code,
                        reason: reason.clone(),
                    }
                }
            }
            Self::Transport { code: 0, reason } => {
                Error::ConnectionLost(format!("closed: {reason}"))
            }
            Self::Transport { code, reason } => Error::ProtocolError {
                code: *code,
                reason: reason.clone(),
            },
            Self::TimedOut => Error::TimedOut,
            Self::Other(text) => Error::ConnectionLost(text.clone()),
        }
    }
}

/// How long a client waits, after its last session ended, for the peer to acknowledge what it
/// sent on the CONNECT streams (the close capsule and FIN) before closing the QUIC connection.
pub const CLIENT_CLOSE_GRACE: Duration = Duration::from_secs(1);

/// A client connection's way to its end: once every session ended, the connection is closed
/// (H3_NO_ERROR) when the transport has nothing left to deliver, or after
/// [`CLIENT_CLOSE_GRACE`]. Servers never close on their own: the client does.
#[derive(Debug, Default)]
pub struct ClientClose {
    ended_at: Option<Instant>,
    closed: bool,
}

impl ClientClose {
    /// Whether to close the connection now. `delivered` says the transport has nothing left
    /// to send or acknowledge on the CONNECT streams. On `true`, the caller closes the engine
    /// (`engine.close(Code::H3_NO_ERROR, "")`) and executes its actions; later calls return
    /// `false`.
    pub fn due(&mut self, g: &Inner, now: Instant, delivered: bool) -> bool {
        if self.closed || !g.all_sessions_ended() {
            return false;
        }
        let ended = *self.ended_at.get_or_insert(now);
        if delivered || now.duration_since(ended) >= CLIENT_CLOSE_GRACE {
            self.closed = true;
            return true;
        }
        false
    }

    /// When [`due`](Self::due) turns true by the grace period alone, if it is waiting for it.
    pub fn deadline(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        self.ended_at
            .and_then(|e| e.checked_add(CLIENT_CLOSE_GRACE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_close_maps_by_code() {
        let clean = TransportClose::Application {
            code: Code::H3_NO_ERROR.0,
            reason: "bye".into(),
            remote: true,
        };
        assert_eq!(clean.engine_close(), (Code::H3_NO_ERROR, "bye".into()));
        assert!(matches!(clean.error(), Error::ConnectionLost(_)));
        let err = TransportClose::Application {
            code: 0x101,
            reason: "general".into(),
            remote: true,
        };
        assert_eq!(err.engine_close().0, Code(0x101));
        assert_eq!(
            err.error(),
            Error::ProtocolError {
                code: 0x101,
                reason: "general".into()
            }
        );
        assert_eq!(TransportClose::TimedOut.error(), Error::TimedOut);
        let t = TransportClose::Transport {
            code: 0xa,
            reason: "protocol violation".into(),
        };
        assert_eq!(t.engine_close().0, Code::H3_NO_ERROR);
        assert!(matches!(t.error(), Error::ProtocolError { code: 0xa, .. }));
    }
}
