//! What the QUIC transport negotiated that the HTTP/3 layer depends on: the peer's DATAGRAM
//! support and size limit (RFC 9221 §3, RFC 9297 §2.1.1), and whether RESET_STREAM_AT is
//! available (draft-ietf-quic-reliable-stream-reset; the WebTransport dialects from draft-13 on
//! rely on it). The engine cannot see the transport parameters itself: the adapter reports
//! them with [`Connection::handle_transport_params`](crate::Connection::handle_transport_params).

/// The transport's capabilities, as the adapter learned them from the QUIC handshake.
///
/// `Default` is "unknown": until the adapter reports them the engine assumes DATAGRAM frames of
/// any size and no RESET_STREAM_AT.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportParams {
    /// Whether the adapter reported anything at all.
    pub known: bool,
    /// The largest QUIC DATAGRAM payload the transport can send now (bounded by the peer's
    /// `max_datagram_frame_size` and the path MTU); `None` when the QUIC DATAGRAM extension was
    /// not negotiated in both directions.
    pub max_datagram_size: Option<usize>,
    /// Both sides sent the `reset_stream_at` transport parameter.
    pub reset_stream_at: bool,
    /// How many bidirectional streams the transport lets the peer have open at once (our
    /// `initial_max_streams_bidi`, RFC 9000 §18.2), if the adapter knows it: a session id at
    /// or beyond the streams seen plus this many cannot exist yet, and a datagram naming one
    /// is H3_ID_ERROR (RFC 9297 §2.1).
    pub peer_bidi_streams: Option<u64>,
}

impl TransportParams {
    /// Capabilities as reported by an adapter: the transport's current DATAGRAM payload limit
    /// (`None` without the extension) and RESET_STREAM_AT support.
    pub fn new(max_datagram_size: Option<usize>, reset_stream_at: bool) -> Self {
        Self {
            known: true,
            max_datagram_size,
            reset_stream_at,
            peer_bidi_streams: None,
        }
    }

    /// Whether QUIC DATAGRAM frames can be used (assumed while unknown).
    pub fn datagrams(&self) -> bool {
        !self.known || self.max_datagram_size.is_some()
    }
}
