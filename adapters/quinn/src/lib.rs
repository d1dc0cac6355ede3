//! # wt-quinn: WebTransport over HTTP/3 on quinn-proto
//!
//! * [`conn`]: the sans-IO pairing of a `quinn_proto::Connection` with a `wt_proto::Connection`
//!   ([`Http3Connection`], [`Translator`]), usable from any event loop. It translates; protocol
//!   decisions stay in the engine.
//! * [`driver`]: a tokio driver with a quinn-udp socket (GSO/GRO) running an [`Endpoint`] and
//!   its connections for the async API of [`wt_session`] ([`Session`], [`SendStream`],
//!   [`RecvStream`], [`SessionRequest`]).
//! * [`tls`]: rustls with ring (never the process-wide provider), ALPN `h3`, pinned certificate
//!   hashes like browsers' `serverCertificateHashes`, and [`tls::self_signed`].

pub mod conn;
pub mod driver;
pub mod tls;

pub use conn::{Http3Connection, Translator};
pub use driver::Endpoint;
pub use wt_proto;
pub use wt_session::ConnectOptions;
pub use wt_session::{
    CloseInfo, CloseKind, Error, RecvStream, SendStream, Session, SessionRequest,
};
