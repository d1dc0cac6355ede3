//! Per-stream state: the send queue that gives the application partial writes and writable
//! events, the receive buffer of WebTransport streams, and what the receive side of each kind of
//! stream is parsing.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::frame::FrameDecoder;
use crate::id::SessionId;
use crate::qpack::{DecoderStreamReceiver, EncoderStreamReceiver};
use crate::stream_header::UniHeaderReader;

/// The send side of a stream: bytes accepted from the application (or the engine itself) that
/// the transport has not taken yet.
#[derive(Debug, Default)]
pub(crate) struct SendStream {
    /// The WebTransport session this stream belongs to, if it is a WebTransport stream.
    pub session: Option<SessionId>,
    /// Chunks waiting for the transport, in order.
    pub queue: VecDeque<Bytes>,
    /// Total bytes in `queue`.
    pub queued: usize,
    /// The application finished the stream; FIN follows the queued bytes.
    pub fin: bool,
    /// The transport handed bytes back: wait for `handle_stream_writable`.
    pub blocked: bool,
    /// A write was cut short: tell the application when there is room again.
    pub want_writable: bool,
    /// The stream is in the ready list.
    pub scheduled: bool,
    /// Length of the WebTransport stream header written first (0 for other streams).
    pub header_len: u64,
    /// Bytes handed to the transport so far.
    pub sent: u64,
}

impl SendStream {
    /// A send side for a stream of `session` (or of the HTTP/3 layer).
    pub fn new(session: Option<SessionId>) -> Self {
        Self {
            session,
            ..Self::default()
        }
    }

    /// Appends a chunk.
    pub fn push(&mut self, data: Bytes) {
        if !data.is_empty() {
            self.queued = self.queued.saturating_add(data.len());
            self.queue.push_back(data);
        }
    }

    /// Whether anything (bytes or FIN) is waiting.
    pub fn has_pending(&self) -> bool {
        !self.queue.is_empty() || self.fin
    }
}

/// The receive buffer of a WebTransport stream.
#[derive(Debug, Default)]
pub(crate) struct RecvBuffer {
    /// Payload not yet read by the application.
    pub chunks: VecDeque<Bytes>,
    /// Total bytes in `chunks`.
    pub len: usize,
    /// The peer finished the stream.
    pub fin: bool,
    /// A readable event is outstanding (cleared when the application reads).
    pub signalled: bool,
}

impl RecvBuffer {
    /// Appends payload.
    pub fn push(&mut self, data: Bytes) {
        if !data.is_empty() {
            self.len = self.len.saturating_add(data.len());
            self.chunks.push_back(data);
        }
    }

    /// Whether there is something for the application to read (bytes or FIN).
    pub fn is_readable(&self) -> bool {
        !self.chunks.is_empty() || self.fin
    }

    /// Takes up to `max` bytes from the front without copying.
    pub fn take(&mut self, max: usize) -> Option<Bytes> {
        let front = self.chunks.front_mut()?;
        let chunk = if front.len() <= max {
            self.chunks.pop_front()?
        } else {
            front.split_to(max)
        };
        self.len = self.len.saturating_sub(chunk.len());
        Some(chunk)
    }
}

/// A WebTransport data stream's receive side.
#[derive(Debug)]
pub(crate) struct WtRecv {
    /// The session named in the stream header.
    pub session: SessionId,
    /// Held because the session is not established yet (not yet reported to the application).
    pub buffered: bool,
    /// The received payload.
    pub buf: RecvBuffer,
    /// The buffer reached its limit: the transport stopped reading, and is told to resume
    /// once there is room.
    pub starved: bool,
}

/// An HTTP request stream (a client-initiated bidirectional stream at the server, or our own
/// request stream at the client), or a peer bidirectional stream whose first frame has not been
/// read yet.
#[derive(Debug)]
pub(crate) struct RequestRecv {
    /// The frame decoder (which also recognises the WebTransport stream signal).
    pub frames: FrameDecoder,
    /// Server, before the client's SETTINGS: the raw bytes held, and whether FIN came.
    pub held: Option<(BytesMut, bool)>,
    /// HEADERS were received (request or response head).
    pub headers_seen: bool,
    /// Trailers (a second HEADERS) were received on an ordinary request.
    pub trailers_seen: bool,
    /// The WebTransport session carried by this stream, once known.
    pub session: Option<SessionId>,
    /// The held bytes reached their limit: the transport stopped reading, and is told to
    /// resume once the request is read.
    pub starved: bool,
}

impl RequestRecv {
    /// A request stream before its first frame, reading frames with `frames`, holding its bytes
    /// in `held` before the peer's SETTINGS, of `session` when it is our own CONNECT stream.
    pub fn new(
        frames: FrameDecoder,
        held: Option<(BytesMut, bool)>,
        session: Option<SessionId>,
    ) -> Self {
        Self {
            frames,
            held,
            headers_seen: false,
            trailers_seen: false,
            session,
            starved: false,
        }
    }
}

/// What the receive side of a stream is doing.
#[derive(Debug)]
pub(crate) enum Recv {
    /// A peer unidirectional stream whose type is not complete yet.
    UniHeader(UniHeaderReader),
    /// The peer's control stream.
    Control {
        /// Frames on it.
        frames: FrameDecoder,
        /// SETTINGS was the first frame.
        settings: bool,
    },
    /// The peer's QPACK encoder stream.
    QpackEncoder(EncoderStreamReceiver),
    /// The peer's QPACK decoder stream.
    QpackDecoder(DecoderStreamReceiver),
    /// A stream whose bytes are read and dropped (unknown type, stopped, after a close capsule
    /// that we answered).
    Discard,
    /// The CONNECT stream after the peer's close capsule, still parsing frames: any further
    /// capsule data is H3_MESSAGE_ERROR; unknown frames are ignored.
    AfterClose(FrameDecoder),
    /// An HTTP request stream.
    Request(Box<RequestRecv>),
    /// A WebTransport data stream.
    Wt(WtRecv),
}
