//! Errors of the session API, and how a session ended.

use wt_proto::Code;

/// Why a session, stream or datagram call failed.
///
/// Session-level variants tell apart how the session ended: closed by the peer, closed by us,
/// rejected, connection lost, a protocol error, a timeout. Stream-level variants are the peer's
/// reset and stop-sending.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The peer closed the session (WT_CLOSE_SESSION, or a bare FIN with code 0).
    #[error("session closed by the peer: code {code}, reason {reason:?}")]
    ClosedByPeer {
        /// The application error code.
        code: u32,
        /// The reason.
        reason: String,
    },
    /// We closed the session.
    #[error("session closed locally: code {code}, reason {reason:?}")]
    LocallyClosed {
        /// The application error code.
        code: u32,
        /// The reason.
        reason: String,
    },
    /// The server answered the CONNECT with a non-2xx status (0: no response, or WebTransport
    /// unavailable on the connection).
    #[error("session rejected with status {status}")]
    Rejected {
        /// The status.
        status: u16,
    },
    /// The QUIC connection (or the CONNECT stream) ended without a session close.
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// A protocol error ended the connection or the session.
    #[error("protocol error {code}: {reason}")]
    ProtocolError {
        /// The HTTP/3 (or QUIC) error code.
        code: u64,
        /// The reason.
        reason: String,
    },
    /// The connection or the session idled out, or the handshake timed out.
    #[error("timed out")]
    TimedOut,
    /// The peer reset the stream with this application code (0 when it carried none).
    #[error("stream reset by the peer with code {0}")]
    Reset(u32),
    /// The peer asked us to stop sending with this application code (0 when it carried none).
    #[error("stream stopped by the peer with code {0}")]
    Stopped(u32),
    /// The stream was already finished, reset or stopped locally.
    #[error("stream closed")]
    ClosedStream,
    /// The datagram is larger than [`Session::max_datagram_size`](crate::Session::max_datagram_size).
    #[error("datagram too large ({size} > {max})")]
    DatagramTooLarge {
        /// Its size.
        size: usize,
        /// The current limit.
        max: usize,
    },
    /// The feature (datagrams, uni or bidi streams, WebTransport) is not available on this
    /// connection or is switched off.
    #[error("not available: {0}")]
    Unavailable(String),
    /// The call is invalid in this state (for example accepting a request twice).
    #[error("invalid call: {0}")]
    Invalid(String),
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        let kind = match e {
            Error::Reset(_) | Error::Stopped(_) => std::io::ErrorKind::ConnectionReset,
            Error::TimedOut => std::io::ErrorKind::TimedOut,
            Error::ClosedStream => std::io::ErrorKind::BrokenPipe,
            Error::ConnectionLost(_)
            | Error::ClosedByPeer { .. }
            | Error::LocallyClosed { .. }
            | Error::Rejected { .. } => std::io::ErrorKind::NotConnected,
            _ => std::io::ErrorKind::Other,
        };
        std::io::Error::new(kind, e)
    }
}

/// How a session ended, as reported by [`Session::closed`](crate::Session::closed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseInfo {
    /// The application close code (0 when none was given).
    pub code: u32,
    /// The reason (empty when none was given).
    pub reason: String,
    /// What ended it.
    pub kind: CloseKind,
}

/// What ended a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloseKind {
    /// We closed it.
    Local,
    /// The peer closed it with WT_CLOSE_SESSION.
    Remote,
    /// The peer finished the CONNECT stream without a close capsule.
    RemoteFin,
    /// The peer reset (or stopped) the CONNECT stream with this HTTP/3 code.
    Reset(u64),
    /// A protocol error on the CONNECT stream; it was reset with this code.
    ProtocolError(u64),
    /// The session idle timeout fired.
    IdleTimeout,
    /// The server's GOAWAY excluded the session.
    GoAway,
    /// The server rejected the session with this status (0: no response).
    Rejected(u16),
    /// The connection ended; the error says how.
    Connection(Error),
}

impl CloseInfo {
    /// The error that calls on the session (and its streams) return from now on.
    pub fn error(&self) -> Error {
        match &self.kind {
            CloseKind::Local => Error::LocallyClosed {
                code: self.code,
                reason: self.reason.clone(),
            },
            CloseKind::Remote | CloseKind::RemoteFin => Error::ClosedByPeer {
                code: self.code,
                reason: self.reason.clone(),
            },
            CloseKind::Reset(code) => {
                Error::ConnectionLost(format!("CONNECT stream reset with {}", Code(*code)))
            }
            CloseKind::ProtocolError(code) => Error::ProtocolError {
                code: *code,
                reason: "protocol error on the CONNECT stream".into(),
            },
            CloseKind::IdleTimeout => Error::TimedOut,
            CloseKind::GoAway => Error::ConnectionLost("GOAWAY".into()),
            CloseKind::Rejected(status) => Error::Rejected { status: *status },
            CloseKind::Connection(e) => e.clone(),
        }
    }
}
