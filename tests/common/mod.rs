//! Helpers shared by the engine-level test files (`errors.rs`, `defects.rs`): well-known
//! stream ids, collecting and delivering what an engine did, feeding bytes whole or byte by
//! byte, pairs in known states, and wire builders for hostile input.

#![allow(dead_code, unused_imports)]

pub use std::time::Instant;

pub use bytes::{BufMut, Bytes, BytesMut};
pub use wt_proto::capsule::{self, Capsule};
pub use wt_proto::frame::{self, Frame};
pub use wt_proto::pair::Pair;
pub use wt_proto::qpack::instructions::{DecoderInstruction, EncoderInstruction};
pub use wt_proto::qpack::{self, FieldLine};
pub use wt_proto::settings::{self, Settings};
pub use wt_proto::stream_header::{self, UniStreamHeader};
pub use wt_proto::varint;
pub use wt_proto::{
    Action, CloseCause, Code, Config, ConnectRequest, ConnectResponse, Connection, Dialect, Event,
    ProtocolToken, SessionId, Side, StreamId,
};

// ---------------------------------------------------------------------------------------------
// Stream ids
// ---------------------------------------------------------------------------------------------

/// The client's control, QPACK encoder and QPACK decoder streams (client uni 0, 1, 2).
pub const CLIENT_CONTROL: StreamId = StreamId(2);
pub const CLIENT_ENCODER: StreamId = StreamId(6);
pub const CLIENT_DECODER: StreamId = StreamId(10);
/// The server's control, QPACK encoder and QPACK decoder streams (server uni 0, 1, 2).
pub const SERVER_CONTROL: StreamId = StreamId(3);
pub const SERVER_ENCODER: StreamId = StreamId(7);
pub const SERVER_DECODER: StreamId = StreamId(11);
/// Client uni streams nobody has used yet.
pub const CLIENT_UNI_A: StreamId = StreamId(14);
pub const CLIENT_UNI_B: StreamId = StreamId(18);
pub const CLIENT_UNI_C: StreamId = StreamId(22);
/// A server uni stream nobody has used yet.
pub const SERVER_UNI_A: StreamId = StreamId(15);
/// The first client and server bidi streams.
pub const BIDI_0: StreamId = StreamId(0);
pub const SERVER_BIDI_0: StreamId = StreamId(1);

// ---------------------------------------------------------------------------------------------
// Collecting what an engine did
// ---------------------------------------------------------------------------------------------

/// Everything one engine produced after some input.
#[derive(Debug)]
pub struct Outcome {
    pub actions: Vec<Action>,
    pub events: Vec<Event>,
    pub closed: bool,
}

impl Outcome {
    /// The code of the connection close the engine asked for, if any.
    pub fn conn_error(&self) -> Option<Code> {
        self.actions.iter().find_map(|a| match a {
            Action::CloseConnection { code, .. } => Some(*code),
            _ => None,
        })
    }

    /// The codes of every RESET_STREAM on `stream`.
    pub fn resets(&self, stream: StreamId) -> Vec<Code> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::ResetStream {
                    stream: s, code, ..
                } if *s == stream => Some(*code),
                _ => None,
            })
            .collect()
    }

    /// The codes of every STOP_SENDING on `stream`.
    pub fn stops(&self, stream: StreamId) -> Vec<Code> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::StopSending { stream: s, code } if *s == stream => Some(*code),
                _ => None,
            })
            .collect()
    }

    /// The `SessionClosed` events of `session`: (code, reason, cause).
    pub fn session_closed(&self, session: SessionId) -> Vec<(u32, String, CloseCause)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::SessionClosed {
                    session: s,
                    code,
                    reason,
                    cause,
                } if *s == session => Some((*code, reason.clone(), *cause)),
                _ => None,
            })
            .collect()
    }

    pub fn has_session_request(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, Event::SessionRequest { .. }))
    }
}

/// Drains every pending action and event of `conn`.
pub fn collect(conn: &mut Connection) -> Outcome {
    let mut actions = Vec::new();
    while let Some(a) = conn.poll_action() {
        actions.push(a);
    }
    let mut events = Vec::new();
    while let Some(e) = conn.poll_event() {
        events.push(e);
    }
    Outcome {
        actions,
        events,
        closed: conn.is_closed(),
    }
}

/// Hands `actions` of one engine to the other one, as the transport would.
pub fn deliver(to: &mut Connection, actions: &[Action]) {
    for a in actions.iter().cloned() {
        match a {
            Action::OpenStream { .. } => {}
            Action::Write { stream, data, fin } => to.handle_stream_data(stream, data, fin),
            Action::ResetStream { stream, code, .. } => to.handle_stream_reset(stream, code.0),
            Action::StopSending { stream, code } => to.handle_stop_sending(stream, code.0),
            Action::SendDatagram { data } => to.handle_datagram(data),
            Action::CloseConnection { code, reason } => to.handle_connection_closed(code, &reason),
            other => panic!("an action the tests do not know: {other:?}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Feeding input
// ---------------------------------------------------------------------------------------------

/// How input is cut before it reaches the engine.
#[derive(Clone, Copy, Debug)]
pub enum Feed {
    /// One call with everything.
    Whole,
    /// One call per byte (the FIN with the last one).
    Bytewise,
}

pub const FEEDS: [Feed; 2] = [Feed::Whole, Feed::Bytewise];

pub fn feed(conn: &mut Connection, stream: StreamId, data: &[u8], fin: bool, how: Feed) {
    match how {
        Feed::Whole => conn.handle_stream_data(stream, Bytes::copy_from_slice(data), fin),
        Feed::Bytewise => {
            if data.is_empty() {
                conn.handle_stream_data(stream, Bytes::new(), fin);
            }
            for (i, b) in data.iter().enumerate() {
                let last = i + 1 == data.len();
                conn.handle_stream_data(stream, Bytes::copy_from_slice(&[*b]), fin && last);
            }
        }
    }
}

pub fn engine(pair: &mut Pair, side: Side) -> &mut Connection {
    match side {
        Side::Client => &mut pair.client,
        Side::Server => &mut pair.server,
    }
}

#[track_caller]
pub fn assert_conn_error(out: &Outcome, code: Code, context: &str) {
    assert_eq!(
        out.conn_error(),
        Some(code),
        "{context}: expected connection error {code}; actions {:?}",
        out.actions
    );
    assert!(out.closed, "{context}: engine not closed");
    assert!(
        matches!(out.actions.last(), Some(Action::CloseConnection { .. })),
        "{context}: CONNECTION_CLOSE must be the last action: {:?}",
        out.actions
    );
    assert!(
        out.events.iter().any(|e| matches!(
            e,
            Event::ConnectionClosed { code: c, local: true, .. } if *c == code
        )),
        "{context}: no local ConnectionClosed({code}) event: {:?}",
        out.events
    );
}

#[track_caller]
pub fn assert_open(out: &Outcome, context: &str) {
    assert_eq!(
        out.conn_error(),
        None,
        "{context}: unexpected connection error; actions {:?}",
        out.actions
    );
    assert!(!out.closed, "{context}: engine closed");
    assert!(
        !out.events
            .iter()
            .any(|e| matches!(e, Event::ConnectionClosed { .. })),
        "{context}: unexpected ConnectionClosed: {:?}",
        out.events
    );
}

/// Builds the state with `setup`, then delivers `data` (and `fin`) on `stream` to `side`, whole
/// and byte by byte; both must close the connection with `code`.
#[track_caller]
pub fn expect_conn_error(
    setup: impl Fn() -> Pair,
    side: Side,
    stream: StreamId,
    data: &[u8],
    fin: bool,
    code: Code,
) {
    for how in FEEDS {
        let mut pair = setup();
        let conn = engine(&mut pair, side);
        feed(conn, stream, data, fin, how);
        let out = collect(conn);
        let context = format!("{side} stream {stream} {how:?} {}", hex(data));
        assert_conn_error(&out, code, &context);
        // The engine ignores everything after closing.
        feed(conn, stream, &[0x00, 0x01], true, Feed::Whole);
        conn.handle_datagram(Bytes::from_static(&[0x00]));
        let after = collect(conn);
        assert!(
            after.actions.is_empty() && after.events.is_empty(),
            "{context}: output after close: {after:?}"
        );
    }
}

/// Like [`expect_conn_error`], but the connection must stay open; returns both outcomes.
#[track_caller]
pub fn expect_no_conn_error(
    setup: impl Fn() -> Pair,
    side: Side,
    stream: StreamId,
    data: &[u8],
    fin: bool,
) -> Vec<(Pair, Outcome)> {
    FEEDS
        .iter()
        .map(|&how| {
            let mut pair = setup();
            let conn = engine(&mut pair, side);
            feed(conn, stream, data, fin, how);
            let out = collect(conn);
            assert_open(
                &out,
                &format!("{side} stream {stream} {how:?} {}", hex(data)),
            );
            (pair, out)
        })
        .collect()
}

pub fn hex(data: &[u8]) -> String {
    let mut s: String = data.iter().take(48).map(|b| format!("{b:02x}")).collect();
    if data.len() > 48 {
        s.push_str(&format!("..({} bytes)", data.len()));
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Pairs in known states
// ---------------------------------------------------------------------------------------------

pub fn configs(base: Config) -> (Config, Config) {
    (base.clone().with(|c| c.seed = 1), base.with(|c| c.seed = 2))
}

/// A pair whose engines have queued their critical streams, but nothing was delivered: each side
/// is waiting for the peer's control stream.
pub fn fresh() -> Pair {
    let mut pair = Pair::new();
    while pair.client.poll_action().is_some() {}
    while pair.server.poll_action().is_some() {}
    pair
}

/// A default pair with the SETTINGS exchanged and all events taken.
pub fn settled() -> Pair {
    settled_with(Config::default())
}

pub fn settled_with(config: Config) -> Pair {
    let (c, s) = configs(config);
    settled_with_configs(c, s)
}

pub fn settled_with_configs(client: Config, server: Config) -> Pair {
    let mut pair = Pair::with_configs(client, server);
    pair.run();
    pair.client_events();
    pair.server_events();
    assert!(!pair.client.is_closed() && !pair.server.is_closed());
    pair
}

/// Two sessions may share a connection in draft-02.
pub fn draft02() -> Config {
    Config::default().with(|c| c.dialects = vec![Dialect::Draft02])
}

/// Establishes a session through the engines and returns its id.
pub fn establish(pair: &mut Pair, path: &str) -> SessionId {
    let session = pair
        .client
        .connect(ConnectRequest::new(
            ProtocolToken::WebTransport,
            "example.com",
            path,
        ))
        .expect("connect");
    pair.run();
    let requested = pair.server_events().into_iter().find_map(|e| match e {
        Event::SessionRequest { session, .. } => Some(session),
        _ => None,
    });
    assert_eq!(requested, Some(session), "server saw the CONNECT");
    pair.server
        .accept(session, ConnectResponse::new(http::StatusCode::OK))
        .expect("accept");
    pair.run();
    let established = pair
        .client_events()
        .into_iter()
        .any(|e| matches!(e, Event::SessionEstablished { session: s, .. } if s == session));
    assert!(established, "client saw the 2xx");
    session
}

/// A default pair with one established session on stream 0.
pub fn one_session() -> Pair {
    let mut pair = settled();
    assert_eq!(establish(&mut pair, "/one"), SessionId(BIDI_0));
    pair
}

/// A default pair whose client sent a CONNECT on stream 0 that the server has not answered.
pub fn requested() -> Pair {
    let mut pair = settled();
    pair.client
        .connect(ConnectRequest::new(
            ProtocolToken::WebTransport,
            "example.com",
            "/pending",
        ))
        .expect("connect");
    pair.run();
    pair.client_events();
    pair.server_events();
    pair
}

/// Two established draft-02 sessions (streams 0 and 4) and a client bidi stream (8) opened on
/// the second one before anything goes wrong.
pub struct Two {
    pub pair: Pair,
    pub a: SessionId,
    pub b: SessionId,
    pub b_stream: StreamId,
}

pub fn two_sessions() -> Two {
    let mut pair = settled_with(draft02());
    assert_eq!(pair.client.dialect(), Some(Dialect::Draft02));
    let a = establish(&mut pair, "/a");
    let b = establish(&mut pair, "/b");
    let b_stream = pair.client.open_bi(b).expect("open_bi");
    pair.run();
    let opened = pair.server_events().into_iter().any(|e| {
        matches!(e, Event::StreamOpened { session, stream, .. } if session == b && stream == b_stream)
    });
    assert!(opened, "server saw the stream on session b");
    pair.client_events();
    Two {
        pair,
        a,
        b,
        b_stream,
    }
}

/// Reads a stream to its end.
pub fn read_to_end(conn: &mut Connection, stream: StreamId) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        match conn.read(stream, usize::MAX) {
            Ok(Some(chunk)) => out.extend_from_slice(&chunk),
            Ok(None) => return out,
            Err(e) => panic!("read {stream}: {e:?} after {out:?}"),
        }
    }
}

/// Session `s` still works: a datagram round trip, an echo on the client stream opened before
/// the fault, and an echo on a server stream opened after it. Neither side closed.
pub fn assert_session_works(pair: &mut Pair, s: SessionId, client_stream: StreamId) {
    assert!(!pair.client.is_closed() && !pair.server.is_closed());
    pair.client_events();
    pair.server_events();

    // Datagram round trip.
    pair.client
        .send_datagram(s, Bytes::from_static(b"dgram"))
        .expect("client datagram");
    pair.run();
    let got = pair.server_events().into_iter().find_map(|e| match e {
        Event::Datagram { session, data } if session == s => Some(data),
        _ => None,
    });
    assert_eq!(
        got.as_deref(),
        Some(&b"dgram"[..]),
        "server got the datagram"
    );
    pair.server
        .send_datagram(s, Bytes::from_static(b"dgram"))
        .expect("server datagram");
    pair.run();
    let got = pair.client_events().into_iter().find_map(|e| match e {
        Event::Datagram { session, data } if session == s => Some(data),
        _ => None,
    });
    assert_eq!(got.as_deref(), Some(&b"dgram"[..]), "client got the echo");

    // Echo on the client stream.
    pair.client
        .write(client_stream, Bytes::from_static(b"ping"))
        .expect("client write");
    pair.client.finish(client_stream).expect("client finish");
    pair.run();
    assert_eq!(read_to_end(&mut pair.server, client_stream), b"ping");
    pair.server
        .write(client_stream, Bytes::from_static(b"ping"))
        .expect("server write");
    pair.server.finish(client_stream).expect("server finish");
    pair.run();
    assert_eq!(read_to_end(&mut pair.client, client_stream), b"ping");

    // Echo on a new server-initiated stream.
    let st = pair.server.open_bi(s).expect("server open_bi");
    pair.server
        .write(st, Bytes::from_static(b"pong"))
        .expect("server write");
    pair.server.finish(st).expect("server finish");
    pair.run();
    let opened = pair.client_events().into_iter().any(
        |e| matches!(e, Event::StreamOpened { session, stream, .. } if session == s && stream == st),
    );
    assert!(opened, "client saw the server stream");
    assert_eq!(read_to_end(&mut pair.client, st), b"pong");
    pair.client
        .write(st, Bytes::from_static(b"pong"))
        .expect("client write");
    pair.client.finish(st).expect("client finish");
    pair.run();
    assert_eq!(read_to_end(&mut pair.server, st), b"pong");

    assert!(!pair.client.is_closed() && !pair.server.is_closed());
    let closed = pair
        .client_events()
        .into_iter()
        .chain(pair.server_events())
        .any(|e| {
            matches!(e, Event::ConnectionClosed { .. })
                || matches!(e, Event::SessionClosed { session, .. } if session == s)
        });
    assert!(!closed, "session {s} or the connection ended");
}

// ---------------------------------------------------------------------------------------------
// Wire builders
// ---------------------------------------------------------------------------------------------

pub fn frame(f: Frame) -> Vec<u8> {
    f.to_bytes().to_vec()
}

/// A frame header with an arbitrary type and length, followed by `payload`.
pub fn raw_frame(frame_type: u64, len: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::encode_header(frame_type, len, &mut out);
    out.extend_from_slice(payload);
    out
}

pub fn data_frame(payload: &[u8]) -> Vec<u8> {
    frame(Frame::Data(Bytes::copy_from_slice(payload)))
}

pub fn settings_frame(s: &Settings) -> Vec<u8> {
    frame(Frame::Settings(s.clone()))
}

/// A SETTINGS frame from raw (id, value) pairs, duplicates allowed.
pub fn raw_settings(pairs: &[(u64, u64)]) -> Vec<u8> {
    let mut payload = Vec::new();
    for &(k, v) in pairs {
        varint::encode(k, &mut payload);
        varint::encode(v, &mut payload);
    }
    raw_frame(frame::ty::SETTINGS, payload.len() as u64, &payload)
}

/// The settings a default client sends.
pub fn client_settings() -> Settings {
    Connection::new(Side::Client, Config::default(), Instant::now())
        .local_settings()
        .clone()
}

/// The settings a default server sends.
pub fn server_settings() -> Settings {
    Connection::new(Side::Server, Config::default(), Instant::now())
        .local_settings()
        .clone()
}

/// A control stream: type byte, then SETTINGS.
pub fn control_stream(s: &Settings) -> Vec<u8> {
    let mut out = UniStreamHeader::Control.to_bytes().to_vec();
    out.extend(settings_frame(s));
    out
}

pub fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

pub fn varint_bytes(v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint::encode(v, &mut out);
    out
}

/// A HEADERS frame carrying the static-only encoding of `fields`.
pub fn headers_frame(fields: &[FieldLine]) -> Vec<u8> {
    let mut block = BytesMut::new();
    qpack::encode_field_section(fields, &mut block);
    frame(Frame::Headers(block.freeze()))
}

/// A HEADERS frame with a hand-made field section.
pub fn raw_headers(block: &[u8]) -> Vec<u8> {
    frame(Frame::Headers(Bytes::copy_from_slice(block)))
}

/// An extended CONNECT for WebTransport with `:protocol` = `protocol`.
pub fn connect_fields(protocol: &'static str) -> Vec<FieldLine> {
    vec![
        FieldLine::new(":method", "CONNECT"),
        FieldLine::new(":scheme", "https"),
        FieldLine::new(":authority", "example.com"),
        FieldLine::new(":path", "/x"),
        FieldLine::new(":protocol", protocol),
    ]
}

/// The CONNECT a default server (draft-15 negotiated) accepts.
pub fn default_connect() -> Vec<u8> {
    headers_frame(&connect_fields("webtransport-h3"))
}

/// Three malformed requests (RFC 9114 §4.1.2, §4.2, §4.3.1; RFC 9220 §3), for `protocol`.
pub fn malformed_requests(protocol: &'static str) -> Vec<(&'static str, Vec<FieldLine>)> {
    let mut uppercase = connect_fields(protocol);
    uppercase.push(FieldLine::new("X-Upper", "1"));
    let mut no_path = connect_fields(protocol);
    no_path.retain(|f| f.name.as_ref() != b":path");
    let mut content_length = connect_fields(protocol);
    content_length.push(FieldLine::new("content-length", "0"));
    vec![
        ("uppercase header name", uppercase),
        ("missing :path on extended CONNECT", no_path),
        ("content-length on a WebTransport CONNECT", content_length),
    ]
}

/// A WT_CLOSE_SESSION capsule with an arbitrary reason (the encoder would cut or refuse it).
pub fn raw_close_capsule(code: u32, reason: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    varint::encode(capsule::ty::CLOSE_SESSION, &mut out);
    varint::encode(reason.len() as u64 + 4, &mut out);
    out.put_u32(code);
    out.extend_from_slice(reason);
    out
}

pub fn close_capsule(code: u32, reason: &str) -> Vec<u8> {
    Capsule::CloseSession {
        code,
        reason: reason.into(),
    }
    .to_bytes()
    .to_vec()
}
