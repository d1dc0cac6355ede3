//! # wt-proto: a sans-IO WebTransport over HTTP/3 engine
//!
//! [`Connection`] is the HTTP/3 connection of one QUIC connection, in either role, with its
//! WebTransport sessions (draft-ietf-webtrans-http3 draft-02, -07, -13/14 and -15/16, chosen per
//! connection from both sides' SETTINGS). It performs no I/O: the embedder feeds it what the QUIC
//! stack reported, executes the [`Action`]s it returns, and handles the [`Event`]s it reports.
//! Time comes in through [`Connection::handle_timeout`]; GREASE values come from
//! [`Config::seed`].
//!
//! ## The embedding loop
//!
//! This loop wires two engines back to back; a real embedder puts a QUIC stack in the middle
//! (see the `wt-quinn` adapter), and [`pair::Pair`] packages exactly this for tests.
//!
//! ```
//! use std::time::Instant;
//! use bytes::Bytes;
//! use wt_proto::{Action, Config, Connection, ConnectRequest, ConnectResponse, Event, ProtocolToken, Side};
//!
//! /// Executes `from`'s actions on `to`, standing in for QUIC.
//! fn transport(from: &mut Connection, to: &mut Connection) -> bool {
//!     let mut moved = false;
//!     while let Some(action) = from.poll_action() {
//!         moved = true;
//!         match action {
//!             Action::OpenStream { .. } => {}
//!             Action::Write { stream, data, fin } => to.handle_stream_data(stream, data, fin),
//!             Action::ResetStream { stream, code, .. } => to.handle_stream_reset(stream, code.0),
//!             Action::StopSending { stream, code } => to.handle_stop_sending(stream, code.0),
//!             Action::SendDatagram { data } => to.handle_datagram(data),
//!             Action::CloseConnection { code, reason } => to.handle_connection_closed(code, &reason),
//!             // `Action` is non-exhaustive: later features may add actions.
//!             other => unimplemented!("{other:?}"),
//!         }
//!     }
//!     moved
//! }
//!
//! let now = Instant::now();
//! let mut client = Connection::new(Side::Client, Config::default(), now);
//! let mut server = Connection::new(Side::Server, Config::default(), now);
//! let session = client
//!     .connect(ConnectRequest::new(ProtocolToken::WebTransport, "example.com", "/echo"))
//!     .unwrap();
//! let mut echoed = None;
//! while transport(&mut client, &mut server) | transport(&mut server, &mut client) {
//!     while let Some(event) = server.poll_event() {
//!         match event {
//!             Event::SessionRequest { session, .. } => {
//!                 server.accept(session, ConnectResponse::new(http::StatusCode::OK)).unwrap();
//!             }
//!             Event::Datagram { session, data } => server.send_datagram(session, data).unwrap(),
//!             _ => {}
//!         }
//!     }
//!     while let Some(event) = client.poll_event() {
//!         match event {
//!             Event::SessionEstablished { session, .. } => {
//!                 client.send_datagram(session, Bytes::from_static(b"ping")).unwrap();
//!             }
//!             Event::Datagram { data, .. } => echoed = Some(data),
//!             _ => {}
//!         }
//!     }
//! }
//! assert_eq!(echoed.as_deref(), Some(&b"ping"[..]));
//! # let _ = session;
//! ```
//!
//! ## Modules
//!
//! The wire codecs ([`varint`], [`frame`], [`stream_header`], [`settings`], [`qpack`],
//! [`headers`], [`capsule`], [`error`]) are usable on their own; every decoder is incremental,
//! bounded and panic-free on peer input. [`trace`] and [`pair`] serve snapshot testing.
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
#[cfg(test)]
mod test_util;
pub mod trace;
pub mod transport;
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
pub use error::{Code, InputError, ProtocolError, SessionError, StreamError};
pub use event::{CloseCause, Event};
pub use headers::{ConnectRequest, ConnectResponse, ProtocolToken};
pub use id::{SessionId, Side, StreamId};
pub use settings::Dialect;
pub use stats::Stats;
pub use transport::TransportParams;
