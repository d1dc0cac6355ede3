//! # wt-s2n-quic: WebTransport over HTTP/3 on s2n-quic
//!
//! The same user-facing API as `wt-quinn` — [`Endpoint`], [`ConnectOptions`], the [`tls`]
//! helpers, and wt-session's [`Session`], [`SendStream`], [`RecvStream`], [`SessionRequest`],
//! [`Error`] — so that an application switches QUIC stacks by changing one import.
//!
//! * [`driver`]: the [`Endpoint`]: an s2n-quic server or client; each connection gets one tokio
//!   task that pairs it with a `wt_proto::Connection` shared with the application's handles.
//!   The task translates (streams, datagrams through s2n-quic's `unstable-provider-datagram`,
//!   resets, stop-sending, close); protocol decisions stay in the engine.
//! * [`tls`]: s2n-tls (s2n-quic's default provider) for servers and trusting clients, ALPN `h3`;
//!   pinned certificate hashes through s2n-quic's rustls provider; [`tls::self_signed`].
//!
//! What s2n-quic cannot do, and what the adapter does instead, is in the README's capability
//! table.

mod conn;
pub mod driver;
pub mod tls;
mod wake;

pub use driver::Endpoint;
pub use wt_proto;
pub use wt_session::ConnectOptions;
pub use wt_session::{
    CloseInfo, CloseKind, Error, RecvStream, SendStream, Session, SessionRequest,
};
