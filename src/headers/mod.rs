#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! HTTP/3 header sections for WebTransport: message rules, structured fields and the extended
//! CONNECT handshake.
//!
//! * [`message`]: RFC 9114 request/response validation and the mapping between QPACK field lines
//!   ([`crate::qpack::FieldLine`]) and `http` types ([`decode_request`], [`encode_request`],
//!   [`decode_response`], [`encode_response`]). Violations are [`MessageError`]s, all of which
//!   are stream errors of type H3_MESSAGE_ERROR (0x10e).
//! * [`sf`]: Structured Field Values (RFC 8941/9651) parsing, and the `WT-Available-Protocols` /
//!   `WT-Protocol` rules.
//! * [`connect`]: the WebTransport extended CONNECT request ([`ConnectRequest`]) and its response
//!   ([`ConnectResponse`]) for every draft profile (draft-02 headers, `webtransport` and
//!   `webtransport-h3` tokens, protocol negotiation).
//!
//! Nothing in this module panics on peer input.

pub mod connect;
pub mod message;
pub mod sf;

pub use connect::{BuildError, ConnectRequest, ConnectResponse, ProtocolToken};
pub use message::{
    H3_MESSAGE_ERROR, MessageError, MessageKind, Protocol, decode_request, decode_response,
    encode_request, encode_response,
};
