//! What the engine tells the application.

use bytes::Bytes;

use crate::Dir;
use crate::error::Code;
use crate::headers::{ConnectRequest, ConnectResponse};
use crate::id::{SessionId, StreamId};
use crate::settings::Dialect;

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseCause {
    /// We closed it ([`Connection::close_session`](crate::Connection::close_session)).
    Local,
    /// The peer sent WT_CLOSE_SESSION.
    Remote,
    /// The peer finished the CONNECT stream without a close capsule (code 0, empty reason).
    RemoteFin,
    /// The peer reset the CONNECT stream (or stopped it) with this code.
    Reset(Code),
    /// A protocol error on the CONNECT stream; the stream was reset with this code.
    ProtocolError(Code),
    /// The session saw no activity for the configured idle timeout.
    IdleTimeout,
    /// The server's GOAWAY excluded the session before it was processed.
    GoAway,
    /// The QUIC connection ended.
    ConnectionClosed,
    /// Client: the server's SETTINGS offer no WebTransport dialect we speak.
    Unsupported,
}

/// An application event, returned by [`Connection::poll_event`](crate::Connection::poll_event).
///
/// Servers get `SessionRequest` and `Request`; clients get `SessionEstablished` and
/// `SessionRejected`; both get the rest.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Event {
    /// The peer's SETTINGS arrived. `dialect` is the WebTransport dialect in use, if any.
    SettingsReceived {
        /// The negotiated dialect; `None` when WebTransport is unavailable on this connection.
        dialect: Option<Dialect>,
        /// Whether HTTP datagrams are enabled in both directions.
        datagrams: bool,
    },
    /// Server: a client asks for a WebTransport session. Answer with
    /// [`accept`](crate::Connection::accept) or [`reject`](crate::Connection::reject).
    SessionRequest {
        /// The new session.
        session: SessionId,
        /// The request: authority, path, origin, headers, offered protocols.
        request: ConnectRequest,
    },
    /// Server: an HTTP request that is not WebTransport (only with
    /// [`Config::handle_requests`](crate::Config::handle_requests)). Answer with
    /// [`respond`](crate::Connection::respond).
    Request {
        /// The request stream.
        stream: StreamId,
        /// The request head.
        request: http::Request<()>,
    },
    /// Client: the server accepted the session with a 2xx.
    SessionEstablished {
        /// The session.
        session: SessionId,
        /// Status, headers and the chosen protocol.
        response: ConnectResponse,
    },
    /// Client: the server rejected the session, or WebTransport is unavailable (status 0 with
    /// no headers when no response was received).
    SessionRejected {
        /// The session.
        session: SessionId,
        /// The response status.
        status: http::StatusCode,
        /// The response headers.
        headers: http::HeaderMap,
    },
    /// The peer asked to wind the session down (WT_DRAIN_SESSION or GOAWAY).
    SessionDraining {
        /// The session.
        session: SessionId,
    },
    /// The session ended; this is the last event about it.
    SessionClosed {
        /// The session.
        session: SessionId,
        /// The application error code (0 when none was given).
        code: u32,
        /// The reason (empty when none was given).
        reason: String,
        /// How it ended.
        cause: CloseCause,
    },
    /// The peer opened a stream in an established session.
    StreamOpened {
        /// The session.
        session: SessionId,
        /// The stream.
        stream: StreamId,
        /// Its direction.
        dir: Dir,
    },
    /// Data (or FIN) is ready to [`read`](crate::Connection::read) on a stream.
    StreamReadable {
        /// The stream.
        stream: StreamId,
    },
    /// A stream's send buffer has room again after a partial write.
    StreamWritable {
        /// The stream.
        stream: StreamId,
    },
    /// The peer reset its send side of a stream.
    StreamReset {
        /// The stream.
        stream: StreamId,
        /// The WebTransport application code, if the reset carried one.
        code: Option<u32>,
    },
    /// The peer asked us to stop sending on a stream; the engine reset it with the same code.
    StreamStopped {
        /// The stream.
        stream: StreamId,
        /// The WebTransport application code, if the request carried one.
        code: Option<u32>,
    },
    /// Stream credit arrived: opening streams in this direction may succeed again.
    StreamsAvailable {
        /// The direction.
        dir: Dir,
    },
    /// A datagram for a session.
    Datagram {
        /// The session.
        session: SessionId,
        /// The payload (without the Quarter Stream ID).
        data: Bytes,
    },
    /// The peer sent GOAWAY: no new sessions on this connection.
    GoAway {
        /// The id in the GOAWAY frame.
        id: u64,
    },
    /// The connection ended (by a protocol error on either side, or the transport).
    ConnectionClosed {
        /// The error code.
        code: Code,
        /// The reason.
        reason: String,
        /// Whether the engine itself closed it.
        local: bool,
    },
}
