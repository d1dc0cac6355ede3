//! Engine configuration: the dialects to offer, feature switches and every limit on what a peer
//! can make the engine hold.

use std::time::Duration;

use crate::settings::Dialect;

/// Configuration of one [`Connection`](crate::Connection).
///
/// Every buffer, queue and map a peer can grow has its limit here; the documentation of each field
/// says what happens when it is exceeded.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The WebTransport dialects to advertise, in any order; the newest one both sides announce is
    /// used. Default: all four (draft-02, draft-07, draft-13/14, draft-15/16).
    pub dialects: Vec<Dialect>,
    /// WebTransport as a whole. Off: plain HTTP/3; no WebTransport settings are sent, and an
    /// extended CONNECT is malformed (H3_MESSAGE_ERROR), as RFC 9220 requires without
    /// ENABLE_CONNECT_PROTOCOL.
    pub webtransport: bool,
    /// WebTransport unidirectional streams. Off: local opens fail with
    /// [`StreamError::Disabled`](crate::StreamError::Disabled) and peer ones are refused with
    /// STOP_SENDING H3_STREAM_CREATION_ERROR.
    pub uni_streams: bool,
    /// WebTransport bidirectional streams. Off: local opens fail, and peer ones are refused with
    /// RESET_STREAM and STOP_SENDING H3_STREAM_CREATION_ERROR.
    pub bidi_streams: bool,
    /// HTTP datagrams: advertise SETTINGS_H3_DATAGRAM (0x33, and 0xffd277 when draft-02 is
    /// offered).
    pub datagrams: bool,
    /// Server: surface requests that are not WebTransport as
    /// [`Event::Request`](crate::Event::Request). Off: they are answered 404 at once.
    pub handle_requests: bool,
    /// The most WebTransport sessions open at once on the connection, in dialects that allow more
    /// than one (draft-02, draft-07). draft-13+ without flow control allows one. A server resets
    /// an excess CONNECT with H3_REQUEST_REJECTED.
    pub max_sessions: u64,
    /// Streams and datagrams that arrive for a session that is not established yet are held; at
    /// most this many streams in all (spec default 24). Over it, the new stream is refused with
    /// WT_BUFFERED_STREAM_REJECTED.
    pub max_buffered_streams: usize,
    /// The most bytes held per buffered stream; the transport reads no more than this
    /// ([`Connection::recv_budget`](crate::Connection::recv_budget)).
    pub max_buffered_stream_bytes: usize,
    /// The most datagrams held for sessions that are not established yet. Over it, the datagram is
    /// dropped and counted.
    pub max_buffered_datagrams: usize,
    /// The most received datagrams waiting for the application. Over it, the datagram is dropped
    /// and counted.
    pub max_queued_datagrams: usize,
    /// Server: the most request streams held before the client's SETTINGS arrive, and their bytes
    /// per stream. Over it the request is reset with H3_REQUEST_REJECTED.
    pub max_held_requests: usize,
    /// The bytes held per request stream before the client's SETTINGS arrive.
    pub max_held_request_bytes: usize,
    /// The largest field section accepted (and advertised as SETTINGS_MAX_FIELD_SECTION_SIZE).
    /// A larger HEADERS frame is H3_EXCESSIVE_LOAD.
    pub max_field_section_size: u64,
    /// The largest DATAGRAM capsule accepted on a CONNECT stream.
    pub max_datagram_capsule: usize,
    /// Bytes the engine queues per stream while the transport cannot take them; a write beyond
    /// it is accepted partially and a writable event follows.
    pub stream_send_buffer: usize,
    /// Bytes the engine holds per stream until the application reads them; the transport reads
    /// no more than this ([`Connection::recv_budget`](crate::Connection::recv_budget)).
    pub stream_recv_buffer: usize,
    /// The memory budget of the connection: bytes held for the application in all (unread
    /// stream data, accepted or held for a session not yet established; request bytes held
    /// before the peer's SETTINGS; datagrams held before their session or queued as events).
    /// At the budget [`recv_budget`](crate::Connection::recv_budget) is 0 for every stream, so
    /// QUIC flow control holds the peer, and received datagrams are dropped; reading resumes
    /// (`Action::ResumeReading`) as the application takes data.
    pub max_connection_buffer: usize,
    /// Bytes held per CONNECT stream before the server accepts the session (capsules may not be
    /// interpreted earlier). Over it the request is reset with H3_EXCESSIVE_LOAD.
    pub max_connect_stream_buffer: usize,
    /// Close a session after this long without stream, datagram or capsule activity (checked in
    /// [`Connection::handle_timeout`](crate::Connection::handle_timeout)). `None`: never.
    pub session_idle_timeout: Option<Duration>,
    /// Close a connection that had no session and no request for this long (H3_NO_ERROR,
    /// checked in [`Connection::handle_timeout`](crate::Connection::handle_timeout): it closes
    /// after one to two periods without use). `None`: never; the transport's own idle timeout
    /// and keep-alives then decide.
    pub connection_idle_timeout: Option<Duration>,
    /// Send a GREASE setting and a GREASE frame on the control stream (RFC 9114 §7.2.4.1, §7.2.8).
    pub grease: bool,
    /// Seed of the generator for GREASE values, so that runs are reproducible.
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            dialects: Dialect::ALL.to_vec(),
            webtransport: true,
            uni_streams: true,
            bidi_streams: true,
            datagrams: true,
            handle_requests: false,
            max_sessions: 16,
            max_buffered_streams: 24,
            max_buffered_stream_bytes: 64 * 1024,
            max_buffered_datagrams: 16,
            max_queued_datagrams: 256,
            max_held_requests: 16,
            max_held_request_bytes: 16 * 1024,
            max_field_section_size: 16 * 1024,
            max_datagram_capsule: 64 * 1024,
            stream_send_buffer: 1024 * 1024,
            stream_recv_buffer: 256 * 1024,
            max_connect_stream_buffer: 16 * 1024,
            max_connection_buffer: 16 * 1024 * 1024,
            session_idle_timeout: None,
            connection_idle_timeout: Some(Duration::from_secs(30)),
            grease: true,
            seed: 0,
        }
    }
}

impl Config {
    /// This configuration with the changes `f` makes. `Config` is `#[non_exhaustive]` (new limits
    /// come with new features), so outside this crate it is built from [`Config::default`] and
    /// changed field by field, for example `Config::default().with(|c| c.max_sessions = 4)`.
    pub fn with(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }

    /// Whether WebTransport is on, both in this configuration and in the build.
    pub fn webtransport_enabled(&self) -> bool {
        cfg!(feature = "webtransport") && self.webtransport && !self.dialects.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_webtransport_feature_gates_webtransport() {
        assert_eq!(
            Config::default().webtransport_enabled(),
            cfg!(feature = "webtransport")
        );
        let off = Config {
            webtransport: false,
            ..Config::default()
        };
        assert!(!off.webtransport_enabled());
    }
}
