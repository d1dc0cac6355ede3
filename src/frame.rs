//! HTTP/3 frames (RFC 9114 §7.2): an encoder, and an incremental decoder that takes input in
//! pieces of any size (down to one byte), hands out DATA payload as zero-copy slices, buffers only
//! the payload of the small frames it must parse (up to a limit), and skips unknown and grease
//! frames without buffering them.
//!
//! The decoder checks layout only (lengths, truncation, the WebTransport stream signal position);
//! whether a frame is allowed on a given stream is the connection's business.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::error::{Code, ProtocolError};
use crate::settings::Settings;
use crate::varint::{self, VarIntReader};

/// Frame type codepoints.
pub mod ty {
    /// DATA.
    pub const DATA: u64 = 0x00;
    /// HEADERS.
    pub const HEADERS: u64 = 0x01;
    /// CANCEL_PUSH.
    pub const CANCEL_PUSH: u64 = 0x03;
    /// SETTINGS.
    pub const SETTINGS: u64 = 0x04;
    /// PUSH_PROMISE.
    pub const PUSH_PROMISE: u64 = 0x05;
    /// GOAWAY.
    pub const GOAWAY: u64 = 0x07;
    /// MAX_PUSH_ID.
    pub const MAX_PUSH_ID: u64 = 0x0d;
    /// WEBTRANSPORT_STREAM / WT_STREAM: not a real frame, the signal that starts a WebTransport
    /// bidirectional stream (type, then the session id, then raw bytes until FIN).
    pub const WEBTRANSPORT_STREAM: u64 = 0x41;

    /// Whether `t` is an HTTP/2 frame type reserved in HTTP/3 (PRIORITY, PING, WINDOW_UPDATE,
    /// CONTINUATION): receiving one is H3_FRAME_UNEXPECTED.
    pub fn is_reserved_http2(t: u64) -> bool {
        matches!(t, 0x02 | 0x06 | 0x08 | 0x09)
    }
}

/// A decoded (or to-be-encoded) HTTP/3 frame, except the payload of DATA frames, which the
/// decoder reports as [`FrameEvent::Data`] slices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// DATA with its whole payload (used when encoding; the decoder streams DATA instead).
    Data(Bytes),
    /// HEADERS carrying an encoded field section.
    Headers(Bytes),
    /// CANCEL_PUSH with a push id.
    CancelPush(u64),
    /// SETTINGS.
    Settings(Settings),
    /// PUSH_PROMISE, decoded so that it can be rejected.
    PushPromise {
        /// The promised push id.
        push_id: u64,
        /// The encoded field section of the promised request.
        field_section: Bytes,
    },
    /// GOAWAY with a stream id (from a server) or push id (from a client).
    Goaway(u64),
    /// MAX_PUSH_ID.
    MaxPushId(u64),
    /// A frame type reserved from HTTP/2; its payload was skipped.
    ReservedHttp2(u64),
    /// An unknown or grease frame type; its payload was skipped.
    Unknown(u64),
    /// The WebTransport bidirectional stream signal with its session id. Everything after it on
    /// the stream is raw WebTransport payload.
    WebTransportStream(u64),
}

impl Frame {
    /// Writes the whole frame.
    pub fn encode<B: BufMut + ?Sized>(&self, out: &mut B) {
        match self {
            Frame::Data(p) => {
                encode_header(ty::DATA, p.len() as u64, out);
                out.put_slice(p);
            }
            Frame::Headers(p) => {
                encode_header(ty::HEADERS, p.len() as u64, out);
                out.put_slice(p);
            }
            Frame::Settings(s) => {
                encode_header(ty::SETTINGS, s.encoded_len() as u64, out);
                s.encode(out);
            }
            Frame::CancelPush(v) => encode_varint_frame(ty::CANCEL_PUSH, *v, out),
            Frame::Goaway(v) => encode_varint_frame(ty::GOAWAY, *v, out),
            Frame::MaxPushId(v) => encode_varint_frame(ty::MAX_PUSH_ID, *v, out),
            Frame::PushPromise {
                push_id,
                field_section,
            } => {
                let len = varint::encoded_len(*push_id).saturating_add(field_section.len());
                encode_header(ty::PUSH_PROMISE, len as u64, out);
                varint::encode(*push_id, out);
                out.put_slice(field_section);
            }
            Frame::ReservedHttp2(t) | Frame::Unknown(t) => encode_header(*t, 0, out),
            Frame::WebTransportStream(id) => {
                varint::encode(ty::WEBTRANSPORT_STREAM, out);
                varint::encode(*id, out);
            }
        }
    }

    /// The whole frame as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.freeze()
    }
}

/// Writes a frame header: type and payload length.
pub fn encode_header<B: BufMut + ?Sized>(frame_type: u64, len: u64, out: &mut B) {
    varint::encode(frame_type, out);
    varint::encode(len, out);
}

/// The header of a DATA frame with a payload of `len` bytes; the payload itself is sent as its
/// own `Bytes`, so it is never copied.
pub fn data_header(len: usize) -> Bytes {
    let mut out = BytesMut::with_capacity(9);
    encode_header(ty::DATA, len as u64, &mut out);
    out.freeze()
}

fn encode_varint_frame<B: BufMut + ?Sized>(t: u64, v: u64, out: &mut B) {
    encode_header(t, varint::encoded_len(v) as u64, out);
    varint::encode(v, out);
}

/// What the decoder produced from the input so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameEvent {
    /// A complete frame other than DATA.
    Frame(Frame),
    /// The header of a DATA frame with this payload length; the payload follows as `Data`.
    DataHeader(u64),
    /// A piece of DATA payload, sliced from the input without copying.
    Data(Bytes),
    /// A HEADERS frame with this payload length, over the decoder's limit: its payload is
    /// skipped, and the receiver fails that message rather than the connection (RFC 9114
    /// §4.2.2).
    HeadersTooLarge(u64),
}

#[derive(Clone, Debug)]
enum State {
    /// Reading the type varint.
    Type,
    /// Reading the length varint of a frame of type `0`.
    Length(u64),
    /// Reading the session id that follows the WebTransport stream signal.
    SessionId,
    /// Buffering the payload of a frame that must be parsed whole.
    Payload {
        frame_type: u64,
        len: usize,
        buf: BytesMut,
    },
    /// Passing DATA payload through.
    Data { remaining: u64 },
    /// Skipping the payload of an unknown frame.
    Skip { remaining: u64 },
    /// The WebTransport signal was read; the decoder is done.
    Done,
}

/// An incremental HTTP/3 frame decoder for one stream.
#[derive(Clone, Debug)]
pub struct FrameDecoder {
    state: State,
    varint: VarIntReader,
    max_payload: usize,
    wt_signal_allowed: bool,
    /// Whether 0x41 is the WebTransport stream signal (else an unknown frame type).
    wt_known: bool,
}

impl FrameDecoder {
    /// A decoder that buffers at most `max_payload` bytes for any frame it parses whole
    /// (HEADERS, SETTINGS, PUSH_PROMISE, ...). `wt_signal_allowed` says whether the
    /// WebTransport stream signal may appear as the first frame (bidirectional streams only).
    pub fn new(max_payload: usize, wt_signal_allowed: bool) -> Self {
        Self {
            state: State::Type,
            varint: VarIntReader::new(),
            max_payload,
            wt_signal_allowed,
            wt_known: true,
        }
    }

    /// A decoder for a connection without WebTransport: 0x41 is an unknown frame type there,
    /// skipped like any other (RFC 9114 §9).
    pub fn without_webtransport(mut self) -> Self {
        self.wt_known = false;
        self.wt_signal_allowed = false;
        self
    }

    /// Whether the decoder sits between frames, so that a FIN here is clean.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Type | State::Done) && !self.varint.is_partial()
    }

    /// Checks that the stream may end here: a FIN inside a frame is H3_FRAME_ERROR.
    pub fn finish(&self) -> Result<(), ProtocolError> {
        if self.is_idle() {
            Ok(())
        } else {
            Err(ProtocolError::new(
                Code::H3_FRAME_ERROR,
                "stream ended inside a frame",
            ))
        }
    }

    /// Decodes the next event from `input`, consuming what it used.
    ///
    /// Returns `Ok(None)` when `input` is exhausted before another event is complete. After a
    /// [`Frame::WebTransportStream`] the decoder consumes nothing more: the rest of the stream is
    /// raw payload for the caller.
    pub fn decode(&mut self, input: &mut Bytes) -> Result<Option<FrameEvent>, ProtocolError> {
        loop {
            match &mut self.state {
                State::Done => return Ok(None),
                State::Type => {
                    let Some(t) = self.varint.read(input) else {
                        return Ok(None);
                    };
                    let first = std::mem::replace(&mut self.wt_signal_allowed, false);
                    if t == ty::WEBTRANSPORT_STREAM && self.wt_known {
                        if !first {
                            return Err(ProtocolError::new(
                                Code::H3_FRAME_ERROR,
                                "WEBTRANSPORT_STREAM signal not at the start of a bidi stream",
                            ));
                        }
                        self.state = State::SessionId;
                    } else {
                        self.state = State::Length(t);
                    }
                }
                State::SessionId => {
                    let Some(id) = self.varint.read(input) else {
                        return Ok(None);
                    };
                    self.state = State::Done;
                    return Ok(Some(FrameEvent::Frame(Frame::WebTransportStream(id))));
                }
                State::Length(t) => {
                    let t = *t;
                    let Some(len) = self.varint.read(input) else {
                        return Ok(None);
                    };
                    if let Some(event) = self.start_payload(t, len)? {
                        return Ok(Some(event));
                    }
                }
                State::Data { remaining } => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    let chunk = input.split_to(n);
                    *remaining = remaining.saturating_sub(n as u64);
                    if *remaining == 0 {
                        self.state = State::Type;
                    }
                    return Ok(Some(FrameEvent::Data(chunk)));
                }
                State::Skip { remaining } => {
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    input.advance(n);
                    *remaining = remaining.saturating_sub(n as u64);
                    if *remaining > 0 {
                        return Ok(None);
                    }
                    self.state = State::Type;
                }
                State::Payload {
                    frame_type,
                    len,
                    buf,
                } => {
                    let want = len.saturating_sub(buf.len()).min(input.len());
                    buf.extend_from_slice(&input.split_to(want));
                    if buf.len() < *len {
                        return Ok(None);
                    }
                    let frame_type = *frame_type;
                    let payload = std::mem::take(buf).freeze();
                    self.state = State::Type;
                    return parse_payload(frame_type, payload).map(|f| Some(FrameEvent::Frame(f)));
                }
            }
        }
    }

    /// Sets up the payload state for a frame; returns an event if the header alone makes one.
    fn start_payload(&mut self, t: u64, len: u64) -> Result<Option<FrameEvent>, ProtocolError> {
        match t {
            ty::DATA => {
                self.state = if len == 0 {
                    State::Type
                } else {
                    State::Data { remaining: len }
                };
                Ok(Some(FrameEvent::DataHeader(len)))
            }
            ty::HEADERS
            | ty::SETTINGS
            | ty::PUSH_PROMISE
            | ty::CANCEL_PUSH
            | ty::GOAWAY
            | ty::MAX_PUSH_ID => {
                let single_varint = matches!(t, ty::CANCEL_PUSH | ty::GOAWAY | ty::MAX_PUSH_ID);
                if single_varint && !(1..=8).contains(&len) {
                    return Err(ProtocolError::new(
                        Code::H3_FRAME_ERROR,
                        "frame length does not match its single varint field",
                    ));
                }
                if t == ty::HEADERS && usize::try_from(len).map_or(true, |l| l > self.max_payload) {
                    self.state = State::Skip { remaining: len };
                    return Ok(Some(FrameEvent::HeadersTooLarge(len)));
                }
                let len = usize::try_from(len).unwrap_or(usize::MAX);
                if len > self.max_payload {
                    return Err(ProtocolError::new(
                        Code::H3_EXCESSIVE_LOAD,
                        "frame payload exceeds the configured limit",
                    ));
                }
                if len == 0 {
                    self.state = State::Type;
                    return parse_payload(t, Bytes::new()).map(|f| Some(FrameEvent::Frame(f)));
                }
                self.state = State::Payload {
                    frame_type: t,
                    len,
                    buf: BytesMut::with_capacity(len.min(4096)),
                };
                Ok(None)
            }
            _ => {
                self.state = if len == 0 {
                    State::Type
                } else {
                    State::Skip { remaining: len }
                };
                let frame = if ty::is_reserved_http2(t) {
                    Frame::ReservedHttp2(t)
                } else {
                    Frame::Unknown(t)
                };
                Ok(Some(FrameEvent::Frame(frame)))
            }
        }
    }
}

fn parse_payload(t: u64, payload: Bytes) -> Result<Frame, ProtocolError> {
    let single = |p: &Bytes| {
        let mut s: &[u8] = p.as_ref();
        match varint::decode(&mut s) {
            Some(v) if s.is_empty() => Ok(v),
            _ => Err(ProtocolError::new(
                Code::H3_FRAME_ERROR,
                "frame payload is not exactly one varint",
            )),
        }
    };
    Ok(match t {
        ty::HEADERS => Frame::Headers(payload),
        ty::SETTINGS => Frame::Settings(Settings::decode(&payload)?),
        ty::CANCEL_PUSH => Frame::CancelPush(single(&payload)?),
        ty::GOAWAY => Frame::Goaway(single(&payload)?),
        ty::MAX_PUSH_ID => Frame::MaxPushId(single(&payload)?),
        ty::PUSH_PROMISE => {
            let mut p = payload;
            let mut reader = VarIntReader::new();
            let Some(push_id) = reader.read(&mut p) else {
                return Err(ProtocolError::new(
                    Code::H3_FRAME_ERROR,
                    "truncated PUSH_PROMISE",
                ));
            };
            Frame::PushPromise {
                push_id,
                field_section: p,
            }
        }
        other => Frame::Unknown(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn hex(s: &str) -> Bytes {
        crate::test_util::hex(s).into()
    }

    /// Decodes `input` fed in pieces of `step` bytes, collecting every event; DATA chunks are
    /// merged into one `Frame::Data` per frame.
    fn decode_all(input: &[u8], step: usize, wt: bool) -> Result<Vec<Frame>, ProtocolError> {
        let mut d = FrameDecoder::new(1 << 16, wt);
        let mut out = Vec::new();
        let mut data: Option<(u64, Vec<u8>)> = None;
        for piece in input.chunks(step.max(1)) {
            let mut b = Bytes::copy_from_slice(piece);
            while let Some(ev) = d.decode(&mut b)? {
                match ev {
                    FrameEvent::DataHeader(len) => {
                        data = Some((len, Vec::new()));
                        if len == 0 {
                            out.push(Frame::Data(Bytes::new()));
                            data = None;
                        }
                    }
                    FrameEvent::Data(chunk) => {
                        let (len, buf) = data.as_mut().unwrap();
                        buf.extend_from_slice(&chunk);
                        if buf.len() as u64 == *len {
                            out.push(Frame::Data(std::mem::take(buf).into()));
                            data = None;
                        }
                    }
                    FrameEvent::Frame(f) => out.push(f),
                    FrameEvent::HeadersTooLarge(_) => {
                        return Err(ProtocolError::new(Code::H3_EXCESSIVE_LOAD, "headers"));
                    }
                }
            }
        }
        d.finish()?;
        Ok(out)
    }

    #[test]
    fn oversized_headers_are_skipped_not_an_error() {
        // HEADERS of 5 bytes over a limit of 4, then a GOAWAY, fed byte by byte.
        let mut d = FrameDecoder::new(4, false);
        let mut events = Vec::new();
        for b in hex("0105aabbccddee 070104".replace(' ', "").as_str()) {
            let mut piece = Bytes::copy_from_slice(&[b]);
            while let Some(ev) = d.decode(&mut piece).unwrap() {
                events.push(ev);
            }
        }
        assert_eq!(
            events,
            vec![
                FrameEvent::HeadersTooLarge(5),
                FrameEvent::Frame(Frame::Goaway(4))
            ]
        );
        // Other frames parsed whole stay a connection error over the limit.
        let mut d = FrameDecoder::new(4, false);
        let e = d.decode(&mut hex("0405aabbccddee")).unwrap_err();
        assert_eq!(e.code, Code::H3_EXCESSIVE_LOAD);
    }

    #[test]
    fn chromium_control_stream() {
        // Chromium 156's control stream (a capture) after its type byte: SETTINGS then a
        // GREASE frame with an 8-byte type.
        let b = hex(
            "042901800100000680004000074064330180ffd27701ab60374201c00000146dba16acc0000000648ac002c000000959aeb69401a1",
        );
        for step in [1, 2, 3, 7, 100] {
            let frames = decode_all(&b, step, false).unwrap();
            assert_eq!(frames.len(), 2);
            let Frame::Settings(s) = &frames[0] else {
                panic!()
            };
            assert_eq!(s.get(0x2b60_3742), Some(1));
            assert_eq!(frames[1], Frame::Unknown(0x9_59ae_b694));
        }
    }

    #[test]
    fn webtransport_signal() {
        let frames = decode_all(&hex("404100"), 1, true).unwrap();
        assert_eq!(frames, vec![Frame::WebTransportStream(0)]);
        // The rest of the stream is left to the caller.
        let mut d = FrameDecoder::new(100, true);
        let mut b = hex("4041 04 aabb".replace(' ', "").as_str());
        assert_eq!(
            d.decode(&mut b).unwrap(),
            Some(FrameEvent::Frame(Frame::WebTransportStream(4)))
        );
        assert_eq!(&b[..], &[0xaa, 0xbb]);
        assert_eq!(d.decode(&mut b).unwrap(), None);
        // Not allowed after another frame, nor on streams that do not allow it.
        let e = decode_all(&hex("0000404100"), 1, true).unwrap_err();
        assert_eq!(e.code, Code::H3_FRAME_ERROR);
        let e = decode_all(&hex("404100"), 1, false).unwrap_err();
        assert_eq!(e.code, Code::H3_FRAME_ERROR);
    }

    #[test]
    fn errors() {
        let code = |h: &str| decode_all(&hex(h), 1, false).unwrap_err().code;
        // Truncated frame at FIN.
        assert_eq!(code("0105aabb"), Code::H3_FRAME_ERROR);
        assert_eq!(code("0003aa"), Code::H3_FRAME_ERROR);
        assert_eq!(code("40"), Code::H3_FRAME_ERROR);
        assert_eq!(code("21"), Code::H3_FRAME_ERROR);
        // GOAWAY payload longer or shorter than its varint.
        assert_eq!(code("07020400"), Code::H3_FRAME_ERROR);
        assert_eq!(code("070140"), Code::H3_FRAME_ERROR);
        assert_eq!(code("0700"), Code::H3_FRAME_ERROR);
        // Over the payload limit.
        assert_eq!(code("0180ffffff"), Code::H3_EXCESSIVE_LOAD);
        // Bad SETTINGS inside a well-formed frame.
        assert_eq!(code("04020200"), Code::H3_SETTINGS_ERROR);
        // PUSH_PROMISE without its push id.
        assert_eq!(code("050140"), Code::H3_FRAME_ERROR);
    }

    #[test]
    fn skips_unknown_without_buffering() {
        // A grease frame announcing 2^40 bytes: decoding its header must not allocate; the
        // payload is skipped as it arrives.
        let mut d = FrameDecoder::new(16, false);
        let mut b = hex("21c00000010000000000");
        assert_eq!(
            d.decode(&mut b).unwrap(),
            Some(FrameEvent::Frame(Frame::Unknown(0x21)))
        );
        let mut chunk = Bytes::from(vec![0u8; 1 << 16]);
        assert_eq!(d.decode(&mut chunk).unwrap(), None);
        assert!(chunk.is_empty());
        assert!(d.finish().is_err());
        let frames = decode_all(
            &hex("0200 0600 0800 0901ff".replace(' ', "").as_str()),
            1,
            false,
        )
        .unwrap();
        assert_eq!(
            frames,
            vec![
                Frame::ReservedHttp2(2),
                Frame::ReservedHttp2(6),
                Frame::ReservedHttp2(8),
                Frame::ReservedHttp2(9)
            ]
        );
    }

    fn random_frame(rng: &mut Rng) -> Frame {
        let v = rng.next_u64() & varint::MAX;
        match rng.below(9) {
            0 => Frame::Data(
                {
                    let n = rng.below(300) as usize;
                    rng.bytes(n)
                }
                .into(),
            ),
            1 => Frame::Headers(
                {
                    let n = rng.below(300) as usize;
                    rng.bytes(n)
                }
                .into(),
            ),
            2 => Frame::CancelPush(v),
            3 => {
                let mut s = Settings::new();
                for _ in 0..rng.below(5) {
                    s.set(0x21 + 0x1f * rng.below(1000), rng.below(1 << 20));
                }
                Frame::Settings(s)
            }
            4 => Frame::PushPromise {
                push_id: v,
                field_section: rng.bytes(20).into(),
            },
            5 => Frame::Goaway(v),
            6 => Frame::MaxPushId(v),
            7 => Frame::ReservedHttp2([2, 6, 8, 9][rng.below(4) as usize]),
            _ => Frame::Unknown(0x21 + 0x1f * rng.below(1 << 30)),
        }
    }

    #[test]
    fn round_trip_generated() {
        let mut rng = Rng::new(4);
        for _ in 0..2_000 {
            let frames: Vec<Frame> = (0..rng.below(6) + 1)
                .map(|_| random_frame(&mut rng))
                .collect();
            let mut wire = BytesMut::new();
            for f in &frames {
                f.encode(&mut wire);
            }
            let step = rng.below(16) as usize + 1;
            assert_eq!(decode_all(&wire, step, false).unwrap(), frames);
        }
    }
}
