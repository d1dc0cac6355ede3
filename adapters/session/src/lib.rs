//! # wt-session: runtime-agnostic async WebTransport sessions
//!
//! The application-facing API shared by the transport adapters (`wt-quinn`, `wt-s2n-quic`): [`Session`], [`SendStream`]/[`RecvStream`] (tokio `AsyncWrite`/`AsyncRead`,
//! plus zero-copy chunk calls), [`SessionRequest`] and one [`Error`] type. It depends on no
//! QUIC stack and no runtime: a transport driver owns the QUIC side and talks to this crate
//! through [`Shared`] and [`Inner`] (see the [`shared`] module for the protocol).
//!
//! Every handle locks the connection's engine, calls it, drains its events into per-session and
//! per-stream queues ([`Inner::process_events`]) and wakes the driver, which executes the
//! engine's actions. Backpressure is the engine's: a write that the engine takes no byte of waits
//! for `StreamWritable`; a driver reads from QUIC no more than `recv_budget`, so QUIC flow
//! control holds a sender whose receiver does not read.
//!
//! Feature `demo` (off by default): the module `demo`, the demo server application (routes `/echo`,
//! `/open`, `/close`, `/report`) that `wt-server` and the adapters' tests run on either stack;
//! it needs tokio's `rt` and `time`. Feature `pinned` (off by default): the module `pinned`,
//! certificate pinning by SHA-256 for rustls clients, with the crypto provider left to the
//! adapter.

#[cfg(feature = "cert")]
pub mod cert;
pub mod close;
#[cfg(feature = "demo")]
pub mod demo;
#[cfg(feature = "endpoint")]
pub mod endpoint;
mod error;
pub mod open_ahead;
#[cfg(feature = "pinned")]
pub mod pinned;
mod request;
mod session;
pub mod shared;
mod stream;
pub mod target;

pub use close::{ClientClose, TransportClose};
#[cfg(feature = "endpoint")]
pub use endpoint::{Endpoint, RequestQueue, Transport};
pub use error::{CloseInfo, CloseKind, Error};
pub use open_ahead::OpenAhead;
pub use request::SessionRequest;
pub use session::Session;
pub use shared::{Inner, Shared, WakeDriver};
pub use stream::{RecvStream, SendStream};
pub use target::{ConnectOptions, Target};
pub use wt_proto;
