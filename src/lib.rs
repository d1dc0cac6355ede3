//! # wt-proto: a sans-IO WebTransport over HTTP/3 engine
//!
//! (crate docs are written with the engine; see README.md)
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]
#![warn(missing_docs)]

pub mod action;
pub mod capsule;
pub mod config;
mod connection;
pub mod error;
pub mod event;
pub mod frame;
pub mod headers;
pub mod id;
pub mod pair;
pub mod qpack;
pub mod rng;
mod session;
pub mod settings;
pub mod stats;
mod stream;
pub mod stream_header;
pub mod trace;
pub mod varint;

/// The direction of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// Bidirectional.
    Bi,
    /// Unidirectional.
    Uni,
}

pub use action::Action;
pub use config::Config;
pub use connection::{Connection, LiveEntries};
pub use error::{Code, ProtocolError, SessionError, StreamError};
pub use event::{CloseCause, Event};
pub use headers::{ConnectRequest, ConnectResponse, ProtocolToken};
pub use id::{SessionId, Side, StreamId};
pub use settings::Dialect;
pub use stats::Stats;
