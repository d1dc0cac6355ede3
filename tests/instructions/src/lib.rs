//! Engine microbenchmarks counted in instructions.
//!
//! Each [`Op`] sets up some `wt-proto` state (for the engine ops, a client/server
//! [`Pair`] with an established WebTransport session) and then performs one operation a given
//! number of times, with no I/O. The `wt-instructions` binary runs an op under callgrind at two
//! iteration counts and divides the difference of the two instruction totals by the difference
//! of the counts, which cancels the setup and the process start-up: what is left is the cost of
//! one operation, a deterministic number that CI compares with [`budgets`].
//!
//! See `tests/instructions/README.md` for what each op measures and how to update the budgets.

#![warn(missing_docs)]

use std::fmt;
use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use wt_proto::capsule::{Capsule, CapsuleDecoder};
use wt_proto::pair::Pair;
use wt_proto::qpack::{self, FieldLine};
use wt_proto::{
    Action, ConnectRequest, ConnectResponse, Event, ProtocolToken, SessionId, StreamId,
};

pub mod budgets;

/// The payload size of the datagram ops.
pub const DATAGRAM_PAYLOAD: usize = 1000;

/// The chunk size of the stream ops.
pub const STREAM_CHUNK: usize = 16 * 1024;

/// The HEADERS frame payload (a QPACK field section) of the WebTransport CONNECT request that
/// Chromium 156 sent in the `connect_ready` case of `chromium-156.json`, the shared browser
/// wire vectors: bytes 3..88 of its CONNECT stream. Seven field lines: `:scheme: https`,
/// `:method: CONNECT`, `:authority: 127.0.0.1:4471`, `:path: /echo`,
/// `:protocol: webtransport`, `sec-webtransport-http3-draft02: 1` and
/// `origin: http://localhost:36069`, mostly Huffman-coded.
pub const CHROMIUM_CONNECT_FIELD_SECTION: &str = "\
0000d7cf508a089d5c0b8170dc69a743518460a49cff2f00b95d8749c87a3f89f058d360ea4567b13f2f0e41\
48b782c69b07522b3d895a74a6b65692c1ca900b01315f4b909d29aee30c50720e89ce84dc65c038ff";

/// The WT_CLOSE_SESSION capsule (code 7, reason `client-bye`) that Chromium 156 sent in the
/// `client_close_observed_by_server` case of the shared browser wire vectors.
pub const CHROMIUM_CLOSE_CAPSULE: &str = "68430e00000007636c69656e742d627965";

/// Why an op could not run: its setup failed, or the engine did not do what the op expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError(pub String);

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OpError {}

fn fail<T>(what: impl Into<String>) -> Result<T, OpError> {
    Err(OpError(what.into()))
}

/// One microbenchmark.
#[derive(Clone, Copy)]
pub struct Op {
    /// Its name on the command line and in the budgets file.
    pub name: &'static str,
    /// What one iteration does.
    pub description: &'static str,
    body: fn(u64) -> Result<u64, OpError>,
}

impl fmt::Debug for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Op").field("name", &self.name).finish()
    }
}

impl Op {
    /// Sets the op's state up, then performs the op `iterations` times. Returns a checksum of
    /// what the iterations produced (byte counts), so that nothing can be optimised away.
    pub fn run(&self, iterations: u64) -> Result<u64, OpError> {
        (self.body)(iterations)
    }
}

/// Every op, in the order of the report.
pub const OPS: &[Op] = &[
    Op {
        name: "datagram_in",
        description: "server: handle_datagram of a 1000-byte payload behind its quarter stream id, \
                      then poll_event takes the Datagram event",
        body: datagram_in,
    },
    Op {
        name: "datagram_out",
        description: "server: send_datagram of 1000 bytes on the session, then poll_action takes \
                      the SendDatagram action",
        body: datagram_out,
    },
    Op {
        name: "stream_chunk_in",
        description: "server: handle_stream_data of a 16 KiB chunk on an open WebTransport bidi \
                      stream, poll_event (StreamReadable), then read takes the chunk",
        body: stream_chunk_in,
    },
    Op {
        name: "stream_chunk_out",
        description: "client: write of a 16 KiB chunk on an open WebTransport bidi stream, then \
                      poll_action takes the Write action",
        body: stream_chunk_out,
    },
    Op {
        name: "connect_parse",
        description: "qpack::decode_field_section of Chromium's CONNECT field section, then \
                      ConnectRequest::decode",
        body: connect_parse,
    },
    Op {
        name: "qpack_encode",
        description: "qpack::encode_field_section of the response an accept sends (200, \
                      draft02, wt-protocol) into a new buffer, as the engine does",
        body: qpack_encode,
    },
    Op {
        name: "qpack_decode",
        description: "qpack::decode_field_section of Chromium's CONNECT field section (QPACK only)",
        body: qpack_decode,
    },
    Op {
        name: "capsule_parse",
        description: "CapsuleDecoder::decode of Chromium's WT_CLOSE_SESSION capsule (code 7, \
                      reason client-bye)",
        body: capsule_parse,
    },
];

/// The op called `name`.
pub fn find(name: &str) -> Option<&'static Op> {
    OPS.iter().find(|op| op.name == name)
}

/// Decodes a lower-case hex string (the embedded vectors).
pub fn hex(text: &str) -> Result<Vec<u8>, OpError> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return fail("odd number of hex digits");
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| OpError(format!("not a hex byte: {pair:?}")))
        })
        .collect()
}

/// A pair of engines with an established WebTransport session (default configurations, so
/// the newest dialect), everything delivered and every event taken.
pub fn established() -> Result<(Pair, SessionId), OpError> {
    let mut pair = Pair::new();
    pair.trace_payload = false;
    pair.run();
    let session = pair
        .client
        .connect(ConnectRequest::new(
            ProtocolToken::WebTransport,
            "example.com",
            "/bench",
        ))
        .map_err(|e| OpError(format!("connect: {e}")))?;
    pair.run();
    let Some(requested) = pair.server_events().into_iter().find_map(|e| match e {
        Event::SessionRequest { session, .. } => Some(session),
        _ => None,
    }) else {
        return fail("the server saw no SessionRequest");
    };
    pair.server
        .accept(requested, ConnectResponse::new(StatusCode::OK))
        .map_err(|e| OpError(format!("accept: {e}")))?;
    pair.run();
    if !pair
        .client_events()
        .iter()
        .any(|e| matches!(e, Event::SessionEstablished { .. }))
    {
        return fail("the client saw no SessionEstablished");
    }
    pair.server_events();
    if !pair.wire_errors().is_empty() {
        return fail(format!("wire errors: {:?}", pair.wire_errors()));
    }
    pair.take_trace();
    Ok((pair, session))
}

/// A shared (reference-counted) buffer of `len` bytes, as a QUIC stack would hand one over.
fn payload(len: usize) -> Bytes {
    let bytes = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<u8>>());
    // The first clone turns the vector into a shared buffer; later clones only count.
    let shared = bytes.clone();
    drop(bytes);
    shared
}

fn datagram_in(iterations: u64) -> Result<u64, OpError> {
    let (mut pair, session) = established()?;
    // The QUIC DATAGRAM payload: the quarter stream id, then the HTTP datagram payload.
    let mut frame = BytesMut::new();
    wt_proto::varint::encode(session.quarter(), &mut frame);
    frame.extend_from_slice(&payload(DATAGRAM_PAYLOAD));
    let frame = frame.freeze();
    // Shared, like a buffer from the QUIC stack (the first clone makes it so).
    let frame = frame.clone();
    let server = &mut pair.server;
    let mut sum = 0u64;
    for _ in 0..iterations {
        server.handle_datagram(frame.clone());
        match server.poll_event() {
            Some(Event::Datagram { data, .. }) => sum += data.len() as u64,
            other => {
                return fail(format!(
                    "datagram_in: expected a Datagram event, got {other:?}"
                ));
            }
        }
    }
    Ok(black_box(sum))
}

fn datagram_out(iterations: u64) -> Result<u64, OpError> {
    let (mut pair, session) = established()?;
    let data = payload(DATAGRAM_PAYLOAD);
    let server = &mut pair.server;
    let mut sum = 0u64;
    for _ in 0..iterations {
        server
            .send_datagram(session, data.clone())
            .map_err(|e| OpError(format!("send_datagram: {e}")))?;
        match server.poll_action() {
            Some(Action::SendDatagram { data }) => sum += data.len() as u64,
            other => {
                return fail(format!(
                    "datagram_out: expected a SendDatagram action, got {other:?}"
                ));
            }
        }
    }
    Ok(black_box(sum))
}

/// A bidirectional stream the client opened in `session`, its header delivered, so that the
/// server holds it as an open WebTransport stream.
fn open_client_bidi(pair: &mut Pair, session: SessionId) -> Result<StreamId, OpError> {
    let stream = pair
        .client
        .open_bi(session)
        .map_err(|e| OpError(format!("open_bi: {e}")))?;
    pair.run();
    if !pair
        .server_events()
        .iter()
        .any(|e| matches!(e, Event::StreamOpened { stream: s, .. } if *s == stream))
    {
        return fail("the server saw no StreamOpened");
    }
    pair.client_events();
    pair.take_trace();
    Ok(stream)
}

fn stream_chunk_in(iterations: u64) -> Result<u64, OpError> {
    let (mut pair, session) = established()?;
    let stream = open_client_bidi(&mut pair, session)?;
    let chunk = payload(STREAM_CHUNK);
    let server = &mut pair.server;
    let mut sum = 0u64;
    for _ in 0..iterations {
        server.handle_stream_data(stream, chunk.clone(), false);
        match server.poll_event() {
            Some(Event::StreamReadable { stream: s }) if s == stream => {}
            other => {
                return fail(format!(
                    "stream_chunk_in: expected StreamReadable, got {other:?}"
                ));
            }
        }
        match server.read(stream, usize::MAX) {
            Ok(Some(data)) => sum += data.len() as u64,
            other => return fail(format!("stream_chunk_in: read gave {other:?}")),
        }
    }
    Ok(black_box(sum))
}

fn stream_chunk_out(iterations: u64) -> Result<u64, OpError> {
    let (mut pair, session) = established()?;
    let stream = open_client_bidi(&mut pair, session)?;
    let chunk = payload(STREAM_CHUNK);
    let client = &mut pair.client;
    let mut sum = 0u64;
    for _ in 0..iterations {
        match client.write(stream, chunk.clone()) {
            Ok(n) if n == STREAM_CHUNK => {}
            other => return fail(format!("stream_chunk_out: write gave {other:?}")),
        }
        match client.poll_action() {
            Some(Action::Write {
                data, fin: false, ..
            }) => sum += data.len() as u64,
            other => {
                return fail(format!(
                    "stream_chunk_out: expected a Write action, got {other:?}"
                ));
            }
        }
    }
    Ok(black_box(sum))
}

fn connect_parse(iterations: u64) -> Result<u64, OpError> {
    let section = hex(CHROMIUM_CONNECT_FIELD_SECTION)?;
    let mut sum = 0u64;
    for _ in 0..iterations {
        let fields = qpack::decode_field_section(black_box(&section), 16 * 1024)
            .map_err(|e| OpError(format!("connect_parse: {e}")))?;
        match ConnectRequest::decode(&fields) {
            Ok(Some(request)) => sum += request.path.len() as u64,
            other => return fail(format!("connect_parse: {other:?}")),
        }
    }
    Ok(black_box(sum))
}

/// The field lines of the response a draft-02 server sends when it accepts a session that
/// offered `echo-v1`.
pub fn typical_response() -> Result<Vec<FieldLine>, OpError> {
    let mut response = ConnectResponse::new(StatusCode::OK);
    response.draft02 = true;
    response.protocol = Some("echo-v1".to_string());
    response
        .encode()
        .map_err(|e| OpError(format!("response: {e}")))
}

fn qpack_encode(iterations: u64) -> Result<u64, OpError> {
    let fields = typical_response()?;
    let mut sum = 0u64;
    for _ in 0..iterations {
        let mut block = BytesMut::new();
        qpack::encode_field_section(black_box(&fields), &mut block);
        sum += black_box(block.freeze()).len() as u64;
    }
    Ok(black_box(sum))
}

fn qpack_decode(iterations: u64) -> Result<u64, OpError> {
    let section = hex(CHROMIUM_CONNECT_FIELD_SECTION)?;
    let mut sum = 0u64;
    for _ in 0..iterations {
        let fields = qpack::decode_field_section(black_box(&section), 16 * 1024)
            .map_err(|e| OpError(format!("qpack_decode: {e}")))?;
        sum += black_box(fields).len() as u64;
    }
    Ok(black_box(sum))
}

fn capsule_parse(iterations: u64) -> Result<u64, OpError> {
    let capsule = Bytes::from(hex(CHROMIUM_CLOSE_CAPSULE)?);
    let mut decoder = CapsuleDecoder::new(64 * 1024);
    let mut sum = 0u64;
    for _ in 0..iterations {
        let mut input = capsule.clone();
        match decoder.decode(black_box(&mut input)) {
            Ok(Some(Capsule::CloseSession { code, reason })) if input.is_empty() => {
                sum += u64::from(code) + reason.len() as u64;
            }
            other => return fail(format!("capsule_parse: {other:?}")),
        }
    }
    Ok(black_box(sum))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every op runs natively for a few iterations and produces what it should.
    #[test]
    fn every_op_runs() {
        for op in OPS {
            let one = op.run(1).unwrap_or_else(|e| panic!("{}: {e}", op.name));
            let three = op.run(3).unwrap_or_else(|e| panic!("{}: {e}", op.name));
            assert!(one > 0, "{}", op.name);
            assert_eq!(three, 3 * one, "{}", op.name);
        }
    }

    #[test]
    fn names_are_unique() {
        for (i, op) in OPS.iter().enumerate() {
            assert!(OPS.iter().skip(i + 1).all(|o| o.name != op.name));
            assert_eq!(find(op.name).map(|o| o.name), Some(op.name));
        }
        assert!(find("nope").is_none());
    }

    /// The embedded vectors decode to what the capture says.
    #[test]
    fn vectors() {
        let section = hex(CHROMIUM_CONNECT_FIELD_SECTION).unwrap();
        assert_eq!(section.len(), 85);
        let fields = qpack::decode_field_section(&section, u64::MAX).unwrap();
        assert_eq!(fields.len(), 7);
        let request = ConnectRequest::decode(&fields).unwrap().unwrap();
        assert_eq!(request.authority, "127.0.0.1:4471");
        assert_eq!(request.path, "/echo");
        assert_eq!(request.origin.as_deref(), Some("http://localhost:36069"));
        assert!(request.draft02);

        let ours = Capsule::CloseSession {
            code: 7,
            reason: "client-bye".to_string(),
        }
        .to_bytes();
        assert_eq!(
            ours.as_ref(),
            hex(CHROMIUM_CLOSE_CAPSULE).unwrap().as_slice()
        );
        assert!(hex("abc").is_err());
        assert!(hex("zz").is_err());
    }

    /// The committed budgets name every op, and only ops.
    #[test]
    fn budgets_cover_every_op() {
        let text = std::fs::read_to_string(budgets::default_path()).unwrap();
        let budgets = budgets::parse(&text).unwrap();
        for op in OPS {
            assert!(budgets.get(op.name).is_some(), "no budget for {}", op.name);
        }
        for b in &budgets.entries {
            assert!(find(&b.op).is_some(), "budget for unknown op {}", b.op);
        }
    }
}
