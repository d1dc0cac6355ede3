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

pub mod capsule;
pub mod error;
pub mod frame;
pub mod headers;
pub mod qpack;
pub mod rng;
pub mod settings;
pub mod stream_header;
pub mod varint;

/// The direction of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// Bidirectional.
    Bi,
    /// Unidirectional.
    Uni,
}
