//! An in-memory client/server pair for tests and snapshot traces.
//!
//! [`Pair`] wires a client [`Connection`] to a server [`Connection`] through a perfect,
//! in-order transport, runs both until nothing moves, and records a readable trace of every
//! action each engine takes (decoded with the crate's own codecs) and every event it reports:
//!
//! ```
//! use wt_proto::pair::Pair;
//! use wt_proto::{ConnectRequest, ConnectResponse, Event, ProtocolToken};
//!
//! let mut pair = Pair::new();
//! pair.run();
//! let session = pair
//!     .client
//!     .connect(ConnectRequest::new(ProtocolToken::WebTransport, "example.com", "/echo"))
//!     .unwrap();
//! pair.run();
//! let request = pair.server_events().into_iter().find_map(|e| match e {
//!     Event::SessionRequest { session, .. } => Some(session),
//!     _ => None,
//! });
//! pair.server.accept(request.unwrap(), ConnectResponse::new(http::StatusCode::OK)).unwrap();
//! pair.run();
//! assert!(pair.wire_errors().is_empty());
//! let trace = pair.take_trace();
//! assert!(trace.contains("SessionEstablished"));
//! // In a test: insta::assert_snapshot!(trace);
//! # let _ = session;
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::action::Action;
use crate::config::Config;
use crate::connection::Connection;
use crate::event::Event;
use crate::id::Side;
use crate::trace::{self, WireDecoder};

/// Two engines connected in memory.
#[derive(Debug)]
pub struct Pair {
    /// The client engine.
    pub client: Connection,
    /// The server engine.
    pub server: Connection,
    now: Instant,
    epoch: Instant,
    trace: Vec<String>,
    wire: WireDecoder,
    client_events: VecDeque<Event>,
    server_events: VecDeque<Event>,
    /// Deliver stream writes in pieces of at most this many bytes (1 exercises every
    /// incremental decoder byte by byte). `None`: as written.
    pub chunk_size: Option<usize>,
    /// Record payload writes on WebTransport streams in the trace (off for bulk transfers).
    pub trace_payload: bool,
}

impl Default for Pair {
    fn default() -> Self {
        Self::new()
    }
}

impl Pair {
    /// A pair with default configurations (the client's seed differs from the server's).
    pub fn new() -> Self {
        let client = Config {
            seed: 1,
            ..Config::default()
        };
        let server = Config {
            seed: 2,
            ..Config::default()
        };
        Self::with_configs(client, server)
    }

    /// A pair with the given configurations. The only clock read is here: the pair's virtual
    /// time starts at `Instant::now()` and then moves only with [`advance`](Self::advance); the
    /// trace never shows absolute times.
    pub fn with_configs(client: Config, server: Config) -> Self {
        let epoch = Instant::now();
        Self {
            client: Connection::new(Side::Client, client, epoch),
            server: Connection::new(Side::Server, server, epoch),
            now: epoch,
            epoch,
            trace: Vec::new(),
            wire: WireDecoder::new(),
            client_events: VecDeque::new(),
            server_events: VecDeque::new(),
            chunk_size: None,
            trace_payload: true,
        }
    }

    /// The pair's current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Moves virtual time forward and runs both engines' timers, then [`run`](Self::run)s.
    pub fn advance(&mut self, by: Duration) {
        self.now = self.now.checked_add(by).unwrap_or(self.now);
        let ms = self.now.saturating_duration_since(self.epoch).as_millis();
        self.trace.push(format!("-- time +{ms}ms"));
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.run();
    }

    /// Delivers everything both engines want to send, over and over, until neither has
    /// anything left; events are collected (and traced) along the way.
    pub fn run(&mut self) {
        loop {
            let mut moved = false;
            while let Some(a) = self.client.poll_action() {
                self.deliver(Side::Client, a);
                moved = true;
            }
            while let Some(a) = self.server.poll_action() {
                self.deliver(Side::Server, a);
                moved = true;
            }
            while let Some(e) = self.client.poll_event() {
                self.trace
                    .push(format!("client event: {}", trace::event(&e)));
                self.client_events.push_back(e);
                moved = true;
            }
            while let Some(e) = self.server.poll_event() {
                self.trace
                    .push(format!("server event: {}", trace::event(&e)));
                self.server_events.push_back(e);
                moved = true;
            }
            if !moved {
                break;
            }
        }
    }

    /// Takes the client's collected events.
    pub fn client_events(&mut self) -> Vec<Event> {
        self.client_events.drain(..).collect()
    }

    /// Takes the server's collected events.
    pub fn server_events(&mut self) -> Vec<Event> {
        self.server_events.drain(..).collect()
    }

    /// Adds a comment line to the trace (to mark the steps of a scenario).
    pub fn note(&mut self, text: &str) {
        self.trace.push(format!("-- {text}"));
    }

    /// The trace so far, one line per action or event.
    pub fn trace(&self) -> String {
        self.trace.join("\n")
    }

    /// Takes the trace so far, leaving it empty.
    pub fn take_trace(&mut self) -> String {
        let t = self.trace.join("\n");
        self.trace.clear();
        t
    }

    /// Bytes either engine wrote that the crate's own codecs could not decode.
    pub fn wire_errors(&self) -> &[String] {
        self.wire.errors()
    }

    fn peer(&mut self, from: Side) -> &mut Connection {
        match from {
            Side::Client => &mut self.server,
            Side::Server => &mut self.client,
        }
    }

    fn deliver(&mut self, from: Side, action: Action) {
        let to = from.peer();
        match action {
            Action::OpenStream { stream } => {
                self.trace.push(format!("{from}: open stream {stream}"));
            }
            Action::Write { stream, data, fin } => {
                let text = self.wire.write(from, stream, &data, fin);
                let quiet = !self.trace_payload
                    && !text.is_empty()
                    && !text.contains("HEADERS")
                    && !text.contains("WT_")
                    && !text.contains("SETTINGS");
                if !quiet && !text.is_empty() {
                    self.trace
                        .push(format!("{from} -> {to} stream {stream}: {text}"));
                }
                match self.chunk_size {
                    Some(n) if n > 0 && data.len() > n => {
                        let mut rest = data;
                        while !rest.is_empty() {
                            let piece = rest.split_to(n.min(rest.len()));
                            let last = rest.is_empty();
                            self.peer(from)
                                .handle_stream_data(stream, piece, fin && last);
                        }
                    }
                    _ => self.peer(from).handle_stream_data(stream, data, fin),
                }
            }
            Action::ResetStream { stream, code, .. } => {
                self.trace.push(format!(
                    "{from} -> {to} RESET_STREAM {stream} {}",
                    trace::code(code)
                ));
                self.peer(from).handle_stream_reset(stream, code.0);
            }
            Action::StopSending { stream, code } => {
                self.trace.push(format!(
                    "{from} -> {to} STOP_SENDING {stream} {}",
                    trace::code(code)
                ));
                self.peer(from).handle_stop_sending(stream, code.0);
            }
            Action::SendDatagram { data } => {
                let text = self.wire.datagram(from, &data);
                self.trace.push(format!("{from} -> {to} DATAGRAM {text}"));
                self.peer(from).handle_datagram(data);
            }
            Action::CloseConnection { code, reason } => {
                self.trace.push(format!(
                    "{from} -> {to} CONNECTION_CLOSE {} {reason:?}",
                    trace::code(code)
                ));
                self.peer(from).handle_connection_closed(code, &reason);
            }
            // The pair delivers everything at once, whatever the budget: nothing to resume.
            Action::ResumeReading { .. } => {}
        }
    }

    /// Injects raw bytes into the server as if the client had written them on `stream`.
    pub fn inject_to_server(&mut self, stream: crate::StreamId, data: Bytes, fin: bool) {
        self.trace.push(format!(
            "client -> server (injected) stream {stream}: {}",
            trace::payload(&data)
        ));
        self.server.handle_stream_data(stream, data, fin);
    }

    /// Injects raw bytes into the client as if the server had written them on `stream`.
    pub fn inject_to_client(&mut self, stream: crate::StreamId, data: Bytes, fin: bool) {
        self.trace.push(format!(
            "server -> client (injected) stream {stream}: {}",
            trace::payload(&data)
        ));
        self.client.handle_stream_data(stream, data, fin);
    }
}
