//! Error codes of HTTP/3 (RFC 9114 §8.1), QPACK (RFC 9204 §6), HTTP Datagrams (RFC 9297) and
//! WebTransport (draft-ietf-webtrans-http3), the mapping of 32-bit WebTransport application
//! error codes into the HTTP/3 error space, and the engine's error types.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use std::fmt;

/// An error code as carried in CONNECTION_CLOSE, RESET_STREAM or STOP_SENDING.
///
/// Known codes have associated constants and a [`name`](Code::name); any other value (grease,
/// application codes, codes from the future) is kept as it is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code(pub u64);

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $value:expr;)*) => {
        impl Code {
            $($(#[$doc])* pub const $name: Code = Code($value);)*

            /// The registered name of this code, if it is one the engine knows.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(Code::$name => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// No error; graceful shutdown.
    H3_NO_ERROR = 0x100;
    /// A protocol error without a more specific code.
    H3_GENERAL_PROTOCOL_ERROR = 0x101;
    /// An internal error in the HTTP stack.
    H3_INTERNAL_ERROR = 0x102;
    /// The peer created a stream that will not be accepted.
    H3_STREAM_CREATION_ERROR = 0x103;
    /// A stream required by the HTTP/3 connection was closed or reset.
    H3_CLOSED_CRITICAL_STREAM = 0x104;
    /// A frame not permitted in the current state or on the current stream.
    H3_FRAME_UNEXPECTED = 0x105;
    /// A frame that fails its layout requirements or has an invalid size.
    H3_FRAME_ERROR = 0x106;
    /// The peer is generating excessive load.
    H3_EXCESSIVE_LOAD = 0x107;
    /// A stream id or push id was used incorrectly.
    H3_ID_ERROR = 0x108;
    /// An error in the payload of a SETTINGS frame.
    H3_SETTINGS_ERROR = 0x109;
    /// No SETTINGS frame at the start of the control stream.
    H3_MISSING_SETTINGS = 0x10a;
    /// A server rejected a request without any application processing.
    H3_REQUEST_REJECTED = 0x10b;
    /// The request or its response is cancelled.
    H3_REQUEST_CANCELLED = 0x10c;
    /// The client's stream terminated without a fully formed request.
    H3_REQUEST_INCOMPLETE = 0x10d;
    /// A malformed HTTP message.
    H3_MESSAGE_ERROR = 0x10e;
    /// The TCP connection for a CONNECT request was reset or abnormally closed.
    H3_CONNECT_ERROR = 0x10f;
    /// The request should be retried over HTTP/1.1.
    H3_VERSION_FALLBACK = 0x110;
    /// An HTTP datagram could not be parsed or was not allowed (RFC 9297).
    H3_DATAGRAM_ERROR = 0x33;
    /// The decoder failed to interpret a field section.
    QPACK_DECOMPRESSION_FAILED = 0x200;
    /// The decoder failed to interpret an encoder instruction.
    QPACK_ENCODER_STREAM_ERROR = 0x201;
    /// The encoder failed to interpret a decoder instruction.
    QPACK_DECODER_STREAM_ERROR = 0x202;
    /// A stream for an unknown session overflowed the buffer and was refused.
    WT_BUFFERED_STREAM_REJECTED = 0x3994_bd84;
    /// The session this stream belonged to is gone.
    WT_SESSION_GONE = 0x170d_7b68;
    /// A session-level flow-control limit was violated (a session close code).
    WT_FLOW_CONTROL_ERROR = 0x045d_4487;
    /// WT-Protocol negotiation failed (a session close code).
    WT_ALPN_ERROR = 0x0817_b3dd;
    /// The peer lacks a required setting or transport parameter.
    WT_REQUIREMENTS_NOT_MET = 0x212c_0d48;
}

impl Code {
    /// Whether this is a reserved (grease) code point of the form `0x1f * N + 0x21`.
    pub fn is_grease(self) -> bool {
        is_reserved(self.0)
    }

    /// The WebTransport application code this HTTP/3 code carries, if it is in the range.
    pub fn to_app(self) -> Option<u32> {
        h3_to_app(self.0)
    }

    /// The HTTP/3 code that carries WebTransport application code `code`.
    pub fn from_app(code: u32) -> Self {
        Code(app_to_h3(code))
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self.to_app()) {
            (Some(name), _) => write!(f, "{name}"),
            (None, Some(app)) => write!(f, "WT_APPLICATION_ERROR({app})"),
            (None, None) => write!(f, "{:#x}", self.0),
        }
    }
}

impl From<Code> for u64 {
    fn from(c: Code) -> u64 {
        c.0
    }
}

/// Whether `v` is a reserved code point `0x1f * N + 0x21` (RFC 9114 §8.1, §7.2.8, §6.2.3).
pub fn is_reserved(v: u64) -> bool {
    v >= 0x21 && v.wrapping_sub(0x21).is_multiple_of(0x1f)
}

/// The first HTTP/3 code of the WebTransport application error range.
pub const WT_APP_FIRST: u64 = 0x52e4_a40f_a8db;
/// The last HTTP/3 code of the WebTransport application error range.
pub const WT_APP_LAST: u64 = 0x52e5_ac98_3162;

/// Maps a 32-bit WebTransport application error code to its HTTP/3 code, skipping the reserved
/// code points inside the range.
pub fn app_to_h3(n: u32) -> u64 {
    let n = u64::from(n);
    // Cannot overflow: the result is at most WT_APP_LAST.
    WT_APP_FIRST.wrapping_add(n).wrapping_add(n / 0x1e)
}

/// Maps an HTTP/3 code back to the WebTransport application code it carries.
///
/// Returns `None` outside the range and for reserved code points: such a reset carries no
/// application code.
pub fn h3_to_app(h: u64) -> Option<u32> {
    if !(WT_APP_FIRST..=WT_APP_LAST).contains(&h) || is_reserved(h) {
        return None;
    }
    // In range, so neither subtraction can wrap.
    let shifted = h.wrapping_sub(WT_APP_FIRST);
    u32::try_from(shifted.wrapping_sub(shifted / 0x1f)).ok()
}

/// A violation found in peer input, with what it ends: the connection (RFC 9114 §8), one
/// request or stream (aborted in both directions), or one WebTransport session (its CONNECT
/// stream aborted, draft-ietf-webtrans-http3 §6). The engine's input handlers return it, and
/// one function of the connection emits each kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// CONNECTION_CLOSE with this code.
    #[error("connection error {0}")]
    Connection(#[from] ProtocolError),
    /// RESET_STREAM and STOP_SENDING on `stream` with `code`.
    #[error("stream {stream} aborted with {code}")]
    Stream {
        /// The stream.
        stream: crate::StreamId,
        /// The code of both frames.
        code: Code,
    },
    /// The session ends; its CONNECT stream is aborted with `code`.
    #[error("session {session} ended with {code}")]
    Session {
        /// The session.
        session: crate::SessionId,
        /// The code on its CONNECT stream.
        code: Code,
    },
}

impl InputError {
    /// A stream error.
    pub fn stream(stream: crate::StreamId, code: Code) -> Self {
        Self::Stream { stream, code }
    }

    /// A session error.
    pub fn session(session: crate::SessionId, code: Code) -> Self {
        Self::Session { session, code }
    }
}

/// A protocol violation detected in peer input: the code to send and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {reason}")]
pub struct ProtocolError {
    /// The code to put on the wire.
    pub code: Code,
    /// A short, static explanation for logs and traces.
    pub reason: &'static str,
}

impl ProtocolError {
    /// A protocol error with the given code and reason.
    pub const fn new(code: Code, reason: &'static str) -> Self {
        Self { code, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn mapping_vectors() {
        assert_eq!(app_to_h3(0), 0x52e4_a40f_a8db);
        assert_eq!(app_to_h3(0x1d), 0x52e4_a40f_a8f8);
        assert_eq!(app_to_h3(0x1e), 0x52e4_a40f_a8fa);
        assert!(is_reserved(0x52e4_a40f_a8f9));
        assert_eq!(h3_to_app(0x52e4_a40f_a8f9), None);
        assert_eq!(app_to_h3(0xff), 0x52e4_a40f_a9e2);
        assert_eq!(app_to_h3(u32::MAX), WT_APP_LAST);
        // Reset codes captured from browsers.
        assert_eq!(h3_to_app(0x52e4_a40f_a8e2), Some(7));
        assert_eq!(h3_to_app(91_141_958_511_074), Some(255));
        for n in [0u32, 0x1d, 0x1e, 0xff, u32::MAX] {
            assert_eq!(h3_to_app(app_to_h3(n)), Some(n));
        }
        assert_eq!(h3_to_app(WT_APP_FIRST - 1), None);
        assert_eq!(h3_to_app(WT_APP_LAST + 1), None);
        assert_eq!(h3_to_app(0x100), None);
    }

    #[test]
    fn mapping_round_trip_generated() {
        let mut rng = Rng::new(2);
        for _ in 0..100_000 {
            let n = rng.next_u64() as u32;
            let h = app_to_h3(n);
            assert!(!is_reserved(h));
            assert_eq!(h3_to_app(h), Some(n));
        }
        // Every code in a window of the range is either reserved or maps back exactly.
        for h in WT_APP_FIRST..WT_APP_FIRST + 10_000 {
            match h3_to_app(h) {
                Some(n) => assert_eq!(app_to_h3(n), h),
                None => assert!(is_reserved(h)),
            }
        }
    }

    #[test]
    fn names() {
        assert_eq!(Code::H3_SETTINGS_ERROR.to_string(), "H3_SETTINGS_ERROR");
        assert_eq!(Code::from_app(7).to_string(), "WT_APPLICATION_ERROR(7)");
        assert_eq!(Code(0x21).to_string(), "0x21");
        assert!(Code(0x21).is_grease());
        assert_eq!(Code::WT_SESSION_GONE.0, 0x170d7b68);
    }
}

/// Why an application call about a stream failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// No such stream, or it is finished in that direction.
    #[error("unknown or closed stream")]
    UnknownStream,
    /// The stream has nothing to read right now; a readable event will follow.
    #[error("no data available yet")]
    Blocked,
    /// The stream direction is switched off in the configuration, or WebTransport is off.
    #[error("streams of this kind are disabled")]
    Disabled,
    /// The transport has no stream credit; a `StreamsAvailable` event will follow.
    #[error("no stream credit left")]
    StreamsBlocked,
    /// The session is unknown or not established.
    #[error("session not established")]
    SessionNotEstablished,
    /// The stream was already finished.
    #[error("stream already finished")]
    Finished,
    /// The connection is closed.
    #[error("connection closed")]
    ConnectionClosed,
}

/// Why an application call about a session failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// No such session (it may have closed already).
    #[error("unknown session")]
    UnknownSession,
    /// The call does not fit the session's state (for example accept twice).
    #[error("session is not in a state that allows this")]
    InvalidState,
    /// WebTransport is off, or the peer does not support it.
    #[error("WebTransport unavailable")]
    Unavailable,
    /// The role cannot do this (a client cannot accept, a server cannot connect).
    #[error("not available in this role")]
    WrongRole,
    /// The connection is going away (GOAWAY): no new sessions.
    #[error("connection is going away")]
    GoingAway,
    /// The session limit of the negotiated dialect is reached.
    #[error("too many sessions")]
    TooManySessions,
    /// The status is not allowed here (accept needs 2xx other than 204/205/206, reject a
    /// status outside 2xx).
    #[error("status not allowed here")]
    InvalidStatus,
    /// The chosen protocol was not offered by the client.
    #[error("protocol not offered by the client")]
    ProtocolNotOffered,
    /// The request or response could not be built.
    #[error("invalid message: {0}")]
    Build(String),
    /// The capsule does not exist in the negotiated dialect (DRAIN in draft-02).
    #[error("not supported in the negotiated dialect")]
    NotInDialect,
    /// Datagrams were not negotiated on this connection.
    #[error("datagrams not enabled")]
    DatagramsDisabled,
    /// The datagram is larger than the transport can send in this session now
    /// ([`Connection::max_datagram_payload`](crate::Connection::max_datagram_payload)).
    #[error("datagram of {size} bytes exceeds the limit of {max}")]
    DatagramTooLarge {
        /// The payload's size.
        size: usize,
        /// The largest payload the session can send now.
        max: usize,
    },
    /// The connection is closed.
    #[error("connection closed")]
    ConnectionClosed,
}
