//! A stable, human-readable rendering of what crosses the engine's boundary, for snapshot tests.
//!
//! [`WireDecoder`] decodes every byte an engine writes with the crate's own codecs (frames,
//! QPACK, capsules, stream headers) and renders it as text, so a trace shows `HEADERS [:status:
//! 200]` instead of hex, and any byte that does not decode is reported as a wire error.

use std::collections::HashMap;
use std::fmt::Write as _;

use bytes::Bytes;

use crate::capsule::{Capsule, CapsuleDecoder};
use crate::error::Code;
use crate::event::Event;
use crate::frame::{Frame, FrameDecoder, FrameEvent};
use crate::id::{Side, StreamId};
use crate::qpack;
use crate::stream_header::{UniHeaderReader, UniStreamHeader};
use crate::varint;

/// Renders bytes as a short quoted string when printable, else as a length.
pub fn payload(data: &[u8]) -> String {
    if data.is_empty() {
        return "0 bytes".into();
    }
    let printable = data.iter().all(|b| (0x20..0x7f).contains(b));
    if printable && data.len() <= 64 {
        format!("{:?}", String::from_utf8_lossy(data))
    } else if printable {
        format!(
            "{} bytes {:?}...",
            data.len(),
            String::from_utf8_lossy(data.get(..32).unwrap_or(data))
        )
    } else {
        format!("{} bytes", data.len())
    }
}

/// Renders an application event on one line.
pub fn event(ev: &Event) -> String {
    match ev {
        Event::SessionRequest { session, request } => format!(
            "SessionRequest {{ session: {session}, authority: {:?}, path: {:?}, origin: {:?}, protocol: {}, draft02: {}, protocols: {:?}, headers: {} }}",
            request.authority,
            request.path,
            request.origin,
            request.protocol.as_str(),
            request.draft02,
            request.available_protocols,
            headers(&request.headers),
        ),
        Event::Request { stream, request } => format!(
            "Request {{ stream: {stream}, method: {}, uri: {}, headers: {} }}",
            request.method(),
            request.uri(),
            headers(request.headers())
        ),
        Event::SessionEstablished { session, response } => format!(
            "SessionEstablished {{ session: {session}, status: {}, protocol: {:?}, headers: {} }}",
            response.status.as_u16(),
            response.protocol,
            headers(&response.headers)
        ),
        Event::SessionRejected {
            session,
            status,
            headers: h,
        } => format!(
            "SessionRejected {{ session: {session}, status: {}, headers: {} }}",
            status.as_u16(),
            headers(h)
        ),
        Event::Datagram { session, data } => {
            format!("Datagram {{ session: {session}, data: {} }}", payload(data))
        }
        other => format!("{other:?}"),
    }
}

fn headers(h: &http::HeaderMap) -> String {
    let items: Vec<String> = h
        .iter()
        .map(|(k, v)| format!("{}: {}", k, String::from_utf8_lossy(v.as_bytes())))
        .collect();
    format!("[{}]", items.join(", "))
}

fn fields(f: &[qpack::FieldLine]) -> String {
    let items: Vec<String> = f
        .iter()
        .map(|l| {
            format!(
                "{}: {}",
                String::from_utf8_lossy(&l.name),
                String::from_utf8_lossy(&l.value)
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

#[derive(Debug)]
enum Kind {
    UniHeader(UniHeaderReader),
    Frames {
        decoder: FrameDecoder,
        capsules: Option<CapsuleDecoder>,
    },
    Raw,
    QpackInstructions,
}

/// The state shared by both directions of one stream.
#[derive(Debug, Default)]
struct StreamInfo {
    /// The stream is a WebTransport bidi stream (raw payload in the answering direction).
    wt_bidi: bool,
    /// The stream carries an extended CONNECT (DATA frames hold capsules).
    connect: bool,
}

/// Decodes the bytes both engines write, stream by stream, and renders them.
#[derive(Debug, Default)]
pub struct WireDecoder {
    states: HashMap<(Side, StreamId), Kind>,
    info: HashMap<StreamId, StreamInfo>,
    errors: Vec<String>,
}

impl WireDecoder {
    /// A decoder that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes that failed to decode so far, one line each.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Decodes `data` written by `writer` on `stream` and renders it.
    pub fn write(&mut self, writer: Side, stream: StreamId, data: &Bytes, fin: bool) -> String {
        let mut out = Vec::new();
        let mut input = data.clone();
        let key = (writer, stream);
        if !self.states.contains_key(&key) {
            let kind = self.initial_kind(writer, stream);
            self.states.insert(key, kind);
        }
        loop {
            let Some(kind) = self.states.remove(&key) else {
                break;
            };
            let next = match kind {
                Kind::UniHeader(mut r) => match r.read(&mut input) {
                    Some(h) => {
                        out.push(format!("{h:?}"));
                        match h {
                            UniStreamHeader::Control => Kind::Frames {
                                decoder: FrameDecoder::new(1 << 20, false),
                                capsules: None,
                            },
                            UniStreamHeader::QpackEncoder | UniStreamHeader::QpackDecoder => {
                                Kind::QpackInstructions
                            }
                            _ => Kind::Raw,
                        }
                    }
                    None => Kind::UniHeader(r),
                },
                Kind::Frames {
                    mut decoder,
                    mut capsules,
                } => {
                    let mut became_raw = false;
                    loop {
                        match decoder.decode(&mut input) {
                            Ok(Some(ev)) => match ev {
                                FrameEvent::Frame(Frame::WebTransportStream(s)) => {
                                    out.push(format!("WT_STREAM session={s}"));
                                    self.info.entry(stream).or_default().wt_bidi = true;
                                    became_raw = true;
                                    break;
                                }
                                FrameEvent::Frame(Frame::Headers(block)) => {
                                    match qpack::decode_field_section(&block, 1 << 20) {
                                        Ok(f) => {
                                            let is_connect =
                                                f.iter().any(|l| &l.name[..] == b":protocol");
                                            if is_connect {
                                                self.info.entry(stream).or_default().connect = true;
                                            }
                                            out.push(format!("HEADERS {}", fields(&f)));
                                        }
                                        Err(e) => {
                                            self.error(writer, stream, &format!("QPACK: {e}"))
                                        }
                                    }
                                }
                                FrameEvent::Frame(Frame::Settings(s)) => {
                                    out.push(format!("SETTINGS {s:?}"))
                                }
                                FrameEvent::Frame(Frame::Unknown(t))
                                    if crate::error::is_reserved(t) =>
                                {
                                    out.push("GREASE frame".into())
                                }
                                FrameEvent::Frame(f) => out.push(format!("{f:?}")),
                                FrameEvent::HeadersTooLarge(len) => {
                                    out.push(format!("HEADERS len={len} (over the limit)"))
                                }
                                FrameEvent::DataHeader(len) => {
                                    if self.info.get(&stream).is_some_and(|i| i.connect) {
                                        capsules
                                            .get_or_insert_with(|| CapsuleDecoder::new(1 << 20));
                                    } else {
                                        out.push(format!("DATA len={len}"));
                                    }
                                }
                                FrameEvent::Data(mut chunk) => match capsules.as_mut() {
                                    Some(c) => loop {
                                        match c.decode(&mut chunk) {
                                            Ok(Some(cap)) => out.push(capsule(&cap)),
                                            Ok(None) => break,
                                            Err(e) => {
                                                self.error(
                                                    writer,
                                                    stream,
                                                    &format!("capsule: {e}"),
                                                );
                                                break;
                                            }
                                        }
                                    },
                                    None => out.push(format!("body {}", payload(&chunk))),
                                },
                            },
                            Ok(None) => break,
                            Err(e) => {
                                self.error(writer, stream, &format!("frame: {e}"));
                                input.clear();
                                break;
                            }
                        }
                    }
                    if became_raw {
                        Kind::Raw
                    } else {
                        if fin && let Err(e) = decoder.finish() {
                            self.error(writer, stream, &format!("frame: {e}"));
                        }
                        Kind::Frames { decoder, capsules }
                    }
                }
                Kind::Raw => {
                    if !input.is_empty() {
                        out.push(payload(&input));
                        input.clear();
                    }
                    Kind::Raw
                }
                Kind::QpackInstructions => {
                    if !input.is_empty() {
                        out.push(format!("QPACK instructions {}", payload(&input)));
                        input.clear();
                    }
                    Kind::QpackInstructions
                }
            };
            self.states.insert(key, next);
            if input.is_empty() {
                break;
            }
        }
        if fin {
            out.push("FIN".into());
            self.states.remove(&key);
        }
        out.join(" | ")
    }

    fn initial_kind(&mut self, writer: Side, stream: StreamId) -> Kind {
        if stream.dir() == crate::Dir::Uni {
            return Kind::UniHeader(UniHeaderReader::new());
        }
        let opener = stream.initiator() == writer;
        if !opener && self.info.get(&stream).is_some_and(|i| i.wt_bidi) {
            return Kind::Raw;
        }
        Kind::Frames {
            decoder: FrameDecoder::new(1 << 20, opener),
            capsules: None,
        }
    }

    fn error(&mut self, writer: Side, stream: StreamId, what: &str) {
        self.errors
            .push(format!("{writer} stream {stream}: {what}"));
    }

    /// Decodes and renders a datagram payload.
    pub fn datagram(&mut self, writer: Side, data: &Bytes) -> String {
        let mut d = data.clone();
        match varint::decode(&mut d) {
            Some(q) => format!("session={} {}", q.saturating_mul(4), payload(&d)),
            None => {
                self.errors
                    .push(format!("{writer} datagram: no quarter stream id"));
                "malformed".into()
            }
        }
    }
}

/// Renders a capsule.
pub fn capsule(c: &Capsule) -> String {
    match c {
        Capsule::CloseSession { code, reason } => {
            format!("WT_CLOSE_SESSION code={code} reason={reason:?}")
        }
        Capsule::DrainSession => "WT_DRAIN_SESSION".into(),
        Capsule::Datagram(d) => format!("DATAGRAM capsule {}", payload(d)),
        Capsule::Unknown { capsule_type, len } => {
            if crate::capsule::ty::is_grease(*capsule_type) {
                format!("GREASE capsule len={len}")
            } else {
                format!("unknown capsule {capsule_type:#x} len={len}")
            }
        }
        other => format!("{other:?}"),
    }
}

/// Renders an error code with its name and, for application codes, the mapped value.
pub fn code(c: Code) -> String {
    let mut s = String::new();
    let _ = write!(s, "{c}");
    s
}
