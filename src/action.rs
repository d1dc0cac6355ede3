//! What the engine asks the QUIC transport to do.

use bytes::Bytes;

use crate::error::Code;
use crate::id::StreamId;

/// One instruction for the transport, returned by
/// [`Connection::poll_action`](crate::Connection::poll_action) in the order it must be executed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Open the local stream with this id. The engine assigns ids in order per direction, exactly
    /// as QUIC does, so a transport that opens streams one after another gets the same ids. It
    /// never exceeds the credit given with
    /// [`Connection::handle_max_streams`](crate::Connection::handle_max_streams).
    OpenStream {
        /// The stream to open.
        stream: StreamId,
    },
    /// Write bytes (possibly none) to a stream, then FIN if `fin`. If the transport cannot take
    /// all of it, it hands the rest back with
    /// [`Connection::handle_write_blocked`](crate::Connection::handle_write_blocked).
    Write {
        /// The stream.
        stream: StreamId,
        /// The bytes; a slice of what the application wrote, never a copy.
        data: Bytes,
        /// Finish the stream after these bytes.
        fin: bool,
    },
    /// Reset the send side of a stream.
    ResetStream {
        /// The stream.
        stream: StreamId,
        /// The error code.
        code: Code,
        /// For WebTransport streams, the length of the stream header: a transport that supports
        /// RESET_STREAM_AT should deliver at least these bytes reliably; others send a plain
        /// RESET_STREAM.
        reliable_size: u64,
    },
    /// Ask the peer to stop sending on a stream (and stop reading it).
    StopSending {
        /// The stream.
        stream: StreamId,
        /// The error code.
        code: Code,
    },
    /// Read `stream` again. Its receive budget
    /// ([`Connection::recv_budget`](crate::Connection::recv_budget)) reached 0 and has room
    /// now; a transport that stopped reading at 0 waits for this one signal (it comes once per
    /// time the budget ran out).
    ResumeReading {
        /// The stream.
        stream: StreamId,
    },
    /// Send a QUIC DATAGRAM with this payload (Quarter Stream ID included).
    SendDatagram {
        /// The complete DATAGRAM frame payload.
        data: Bytes,
    },
    /// Close the QUIC connection with an application error code. Nothing follows it.
    CloseConnection {
        /// The HTTP/3 error code.
        code: Code,
        /// A reason phrase for CONNECTION_CLOSE.
        reason: String,
    },
}
