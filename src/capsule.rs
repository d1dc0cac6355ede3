//! Capsules (RFC 9297 §3.2) and the WebTransport capsules (draft-ietf-webtrans-http3 §5–§6).
//!
//! On a WebTransport CONNECT stream the capsules travel inside DATA frames, and one capsule may be
//! split across any number of them: [`CapsuleDecoder`] is fed the DATA payload pieces in order and
//! reassembles each capsule. Unknown and grease capsules are skipped without buffering their value.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::Dir;
use crate::error::{Code, ProtocolError};
use crate::varint::{self, VarIntReader};

/// Capsule type codepoints.
pub mod ty {
    /// DATAGRAM (RFC 9297).
    pub const DATAGRAM: u64 = 0x00;
    /// CLOSE_WEBTRANSPORT_SESSION / WT_CLOSE_SESSION.
    pub const CLOSE_SESSION: u64 = 0x2843;
    /// DRAIN_WEBTRANSPORT_SESSION / WT_DRAIN_SESSION.
    pub const DRAIN_SESSION: u64 = 0x78ae;
    /// WT_MAX_DATA.
    pub const MAX_DATA: u64 = 0x190b_4d3d;
    /// WT_MAX_STREAMS for bidirectional streams.
    pub const MAX_STREAMS_BIDI: u64 = 0x190b_4d3f;
    /// WT_MAX_STREAMS for unidirectional streams.
    pub const MAX_STREAMS_UNI: u64 = 0x190b_4d40;
    /// WT_DATA_BLOCKED.
    pub const DATA_BLOCKED: u64 = 0x190b_4d41;
    /// WT_STREAMS_BLOCKED for bidirectional streams.
    pub const STREAMS_BLOCKED_BIDI: u64 = 0x190b_4d43;
    /// WT_STREAMS_BLOCKED for unidirectional streams.
    pub const STREAMS_BLOCKED_UNI: u64 = 0x190b_4d44;

    /// Whether `t` is a reserved (grease) capsule type `0x29 * N + 0x17` (RFC 9297 §5.4).
    pub fn is_grease(t: u64) -> bool {
        t >= 0x17 && t.wrapping_sub(0x17).is_multiple_of(0x29)
    }
}

/// The longest close reason, in bytes.
pub const MAX_REASON_LEN: usize = 1024;

/// The largest stream count a WT_MAX_STREAMS capsule may carry (2^60).
pub const MAX_STREAMS_LIMIT: u64 = 1 << 60;

/// A capsule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Capsule {
    /// An HTTP datagram carried in a capsule.
    Datagram(Bytes),
    /// WT_CLOSE_SESSION: an application error code and a UTF-8 reason.
    CloseSession {
        /// The application error code.
        code: u32,
        /// The reason, at most [`MAX_REASON_LEN`] bytes on the wire.
        reason: String,
    },
    /// WT_DRAIN_SESSION.
    DrainSession,
    /// WT_MAX_DATA.
    MaxData(u64),
    /// WT_MAX_STREAMS for one direction.
    MaxStreams(Dir, u64),
    /// WT_DATA_BLOCKED.
    DataBlocked(u64),
    /// WT_STREAMS_BLOCKED for one direction.
    StreamsBlocked(Dir, u64),
    /// An unknown or grease capsule, skipped: its type and length.
    Unknown {
        /// The capsule type.
        capsule_type: u64,
        /// The length of the skipped value.
        len: u64,
    },
}

/// Cuts `reason` to at most [`MAX_REASON_LEN`] bytes at a character boundary.
pub fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= MAX_REASON_LEN {
        return reason;
    }
    let mut end = MAX_REASON_LEN;
    while !reason.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    reason.get(..end).unwrap_or_default()
}

impl Capsule {
    /// The capsule type codepoint.
    pub fn capsule_type(&self) -> u64 {
        match self {
            Capsule::Datagram(_) => ty::DATAGRAM,
            Capsule::CloseSession { .. } => ty::CLOSE_SESSION,
            Capsule::DrainSession => ty::DRAIN_SESSION,
            Capsule::MaxData(_) => ty::MAX_DATA,
            Capsule::MaxStreams(Dir::Bi, _) => ty::MAX_STREAMS_BIDI,
            Capsule::MaxStreams(Dir::Uni, _) => ty::MAX_STREAMS_UNI,
            Capsule::DataBlocked(_) => ty::DATA_BLOCKED,
            Capsule::StreamsBlocked(Dir::Bi, _) => ty::STREAMS_BLOCKED_BIDI,
            Capsule::StreamsBlocked(Dir::Uni, _) => ty::STREAMS_BLOCKED_UNI,
            Capsule::Unknown { capsule_type, .. } => *capsule_type,
        }
    }

    /// Writes the capsule. A close reason longer than [`MAX_REASON_LEN`] bytes is cut at a
    /// character boundary; an `Unknown` capsule is written with `len` zero bytes.
    pub fn encode<B: BufMut + ?Sized>(&self, out: &mut B) {
        varint::encode(self.capsule_type(), out);
        match self {
            Capsule::Datagram(p) => {
                varint::encode(p.len() as u64, out);
                out.put_slice(p);
            }
            Capsule::CloseSession { code, reason } => {
                let reason = truncate_reason(reason);
                varint::encode(reason.len().saturating_add(4) as u64, out);
                out.put_u32(*code);
                out.put_slice(reason.as_bytes());
            }
            Capsule::DrainSession => varint::encode(0, out),
            Capsule::MaxData(v)
            | Capsule::MaxStreams(_, v)
            | Capsule::DataBlocked(v)
            | Capsule::StreamsBlocked(_, v) => {
                varint::encode(varint::encoded_len(*v) as u64, out);
                varint::encode(*v, out);
            }
            Capsule::Unknown { len, .. } => {
                varint::encode(*len, out);
                out.put_bytes(0, usize::try_from(*len).unwrap_or(0));
            }
        }
    }

    /// The capsule as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode(&mut out);
        out.freeze()
    }
}

#[derive(Clone, Debug)]
enum State {
    Type,
    Length(u64),
    Value {
        capsule_type: u64,
        len: usize,
        buf: BytesMut,
    },
    Skip {
        capsule_type: u64,
        len: u64,
        remaining: u64,
    },
}

/// An incremental capsule decoder for the data stream of one CONNECT request.
#[derive(Clone, Debug)]
pub struct CapsuleDecoder {
    state: State,
    varint: VarIntReader,
    max_datagram: usize,
}

fn malformed(reason: &'static str) -> ProtocolError {
    ProtocolError::new(Code::H3_MESSAGE_ERROR, reason)
}

impl CapsuleDecoder {
    /// A decoder that accepts DATAGRAM capsules of at most `max_datagram` bytes (a larger one is
    /// H3_MESSAGE_ERROR rather than an unbounded buffer).
    pub fn new(max_datagram: usize) -> Self {
        Self {
            state: State::Type,
            varint: VarIntReader::new(),
            max_datagram,
        }
    }

    /// Whether the decoder sits between capsules, so that a FIN here is clean.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Type) && !self.varint.is_partial()
    }

    /// Checks that the data stream may end here: a capsule truncated by FIN is malformed.
    pub fn finish(&self) -> Result<(), ProtocolError> {
        if self.is_idle() {
            Ok(())
        } else {
            Err(malformed("capsule truncated at end of stream"))
        }
    }

    /// Decodes the next capsule from `input`, consuming what it used. `Ok(None)` means more
    /// input is needed.
    ///
    /// Errors: H3_MESSAGE_ERROR for a malformed capsule (a close reason over 1024 bytes or not
    /// UTF-8, a value that does not match its length, an oversized DATAGRAM capsule), and
    /// WT_FLOW_CONTROL_ERROR for a WT_MAX_STREAMS above 2^60.
    pub fn decode(&mut self, input: &mut Bytes) -> Result<Option<Capsule>, ProtocolError> {
        loop {
            match &mut self.state {
                State::Type => {
                    let Some(t) = self.varint.read(input) else {
                        return Ok(None);
                    };
                    self.state = State::Length(t);
                }
                State::Length(t) => {
                    let t = *t;
                    let Some(len) = self.varint.read(input) else {
                        return Ok(None);
                    };
                    let limit = match t {
                        ty::DATAGRAM => Some(self.max_datagram),
                        ty::CLOSE_SESSION => Some(MAX_REASON_LEN.saturating_add(4)),
                        ty::DRAIN_SESSION => Some(0),
                        ty::MAX_DATA
                        | ty::MAX_STREAMS_BIDI
                        | ty::MAX_STREAMS_UNI
                        | ty::DATA_BLOCKED
                        | ty::STREAMS_BLOCKED_BIDI
                        | ty::STREAMS_BLOCKED_UNI => Some(8),
                        _ => None,
                    };
                    match limit {
                        None => {
                            self.state = State::Skip {
                                capsule_type: t,
                                len,
                                remaining: len,
                            };
                        }
                        Some(limit) => {
                            let len = usize::try_from(len).unwrap_or(usize::MAX);
                            if len > limit {
                                return Err(malformed("capsule value longer than allowed"));
                            }
                            self.state = State::Value {
                                capsule_type: t,
                                len,
                                buf: BytesMut::with_capacity(len),
                            };
                        }
                    }
                }
                State::Skip {
                    capsule_type,
                    len,
                    remaining,
                } => {
                    let n = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    input.advance(n);
                    *remaining = remaining.saturating_sub(n as u64);
                    if *remaining > 0 {
                        return Ok(None);
                    }
                    let c = Capsule::Unknown {
                        capsule_type: *capsule_type,
                        len: *len,
                    };
                    self.state = State::Type;
                    return Ok(Some(c));
                }
                State::Value {
                    capsule_type,
                    len,
                    buf,
                } => {
                    let want = len.saturating_sub(buf.len()).min(input.len());
                    buf.extend_from_slice(&input.split_to(want));
                    if buf.len() < *len {
                        return Ok(None);
                    }
                    let t = *capsule_type;
                    let value = std::mem::take(buf).freeze();
                    self.state = State::Type;
                    return parse_value(t, value).map(Some);
                }
            }
        }
    }
}

fn parse_value(t: u64, mut value: Bytes) -> Result<Capsule, ProtocolError> {
    let single = |v: &mut Bytes| match varint::decode(v) {
        Some(x) if v.is_empty() => Ok(x),
        _ => Err(malformed("capsule value is not exactly one varint")),
    };
    Ok(match t {
        ty::DATAGRAM => Capsule::Datagram(value),
        ty::CLOSE_SESSION => {
            if value.len() < 4 {
                return Err(malformed("close capsule shorter than its error code"));
            }
            let code = value.get_u32();
            let reason = String::from_utf8(value.to_vec())
                .map_err(|_| malformed("close reason is not UTF-8"))?;
            Capsule::CloseSession { code, reason }
        }
        ty::DRAIN_SESSION => Capsule::DrainSession,
        ty::MAX_DATA => Capsule::MaxData(single(&mut value)?),
        ty::DATA_BLOCKED => Capsule::DataBlocked(single(&mut value)?),
        ty::MAX_STREAMS_BIDI | ty::MAX_STREAMS_UNI => {
            let v = single(&mut value)?;
            if v > MAX_STREAMS_LIMIT {
                return Err(ProtocolError::new(
                    Code::WT_FLOW_CONTROL_ERROR,
                    "WT_MAX_STREAMS above 2^60",
                ));
            }
            let dir = if t == ty::MAX_STREAMS_BIDI {
                Dir::Bi
            } else {
                Dir::Uni
            };
            Capsule::MaxStreams(dir, v)
        }
        ty::STREAMS_BLOCKED_BIDI => Capsule::StreamsBlocked(Dir::Bi, single(&mut value)?),
        ty::STREAMS_BLOCKED_UNI => Capsule::StreamsBlocked(Dir::Uni, single(&mut value)?),
        other => Capsule::Unknown {
            capsule_type: other,
            len: value.len() as u64,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn decode_all(input: &[u8], step: usize) -> Result<Vec<Capsule>, ProtocolError> {
        let mut d = CapsuleDecoder::new(2048);
        let mut out = Vec::new();
        for piece in input.chunks(step.max(1)) {
            let mut b = Bytes::copy_from_slice(piece);
            while let Some(c) = d.decode(&mut b)? {
                out.push(c);
            }
            assert!(b.is_empty());
        }
        d.finish()?;
        Ok(out)
    }

    #[test]
    fn spec_close_example() {
        // draft-ietf-webtrans-http3 §6 (WT_CLOSE_SESSION): DATA frame `00 0a` carrying `68 43 07 00 00 00 00 62 79 65`.
        let c = Capsule::CloseSession {
            code: 0,
            reason: "bye".into(),
        };
        assert_eq!(
            &c.to_bytes()[..],
            &[0x68, 0x43, 0x07, 0, 0, 0, 0, 0x62, 0x79, 0x65]
        );
        for step in 1..5 {
            assert_eq!(decode_all(&c.to_bytes(), step).unwrap(), vec![c.clone()]);
        }
        assert_eq!(
            &Capsule::DrainSession.to_bytes()[..],
            &[0x80, 0x00, 0x78, 0xae, 0x00]
        );
    }

    #[test]
    fn chromium_grease_capsule_skipped() {
        // A Chromium-style grease capsule (8-byte type 0x29*N+0x17) followed by a close.
        let grease = 0x29 * 0x1234_5678u64 + 0x17;
        assert!(ty::is_grease(grease));
        let mut wire = BytesMut::new();
        varint::encode(grease, &mut wire);
        varint::encode(40, &mut wire);
        wire.put_bytes(0xee, 40);
        Capsule::CloseSession {
            code: 7,
            reason: "client-bye".into(),
        }
        .encode(&mut wire);
        let got = decode_all(&wire, 3).unwrap();
        assert_eq!(
            got[0],
            Capsule::Unknown {
                capsule_type: grease,
                len: 40
            }
        );
        assert_eq!(
            got[1],
            Capsule::CloseSession {
                code: 7,
                reason: "client-bye".into()
            }
        );
    }

    #[test]
    fn reason_truncation() {
        let long = "é".repeat(600); // 1200 bytes, 2-byte characters
        let c = Capsule::CloseSession {
            code: 1,
            reason: long.clone(),
        };
        let got = decode_all(&c.to_bytes(), 64).unwrap();
        let Capsule::CloseSession { reason, .. } = &got[0] else {
            panic!()
        };
        assert_eq!(reason.len(), 1024);
        assert!(long.starts_with(reason.as_str()));
        let odd = format!("a{}", "é".repeat(600)); // the boundary falls inside a character
        assert_eq!(truncate_reason(&odd).len(), 1023);
    }

    #[test]
    fn malformed_capsules() {
        let code = |b: &[u8]| decode_all(b, 1).unwrap_err().code;
        // Reason over 1024 bytes.
        let mut b = BytesMut::new();
        varint::encode(ty::CLOSE_SESSION, &mut b);
        varint::encode(1029, &mut b);
        b.put_bytes(b'a', 1029);
        assert_eq!(code(&b), Code::H3_MESSAGE_ERROR);
        // Reason that is not UTF-8.
        assert_eq!(
            code(&[0x68, 0x43, 0x05, 0, 0, 0, 1, 0xff]),
            Code::H3_MESSAGE_ERROR
        );
        // Close shorter than its code.
        assert_eq!(code(&[0x68, 0x43, 0x02, 0, 0]), Code::H3_MESSAGE_ERROR);
        // Drain with a value.
        assert_eq!(
            code(&[0x80, 0, 0x78, 0xae, 0x01, 0x00]),
            Code::H3_MESSAGE_ERROR
        );
        // MAX_DATA value longer than its varint.
        assert_eq!(
            code(&[0x99, 0x0b, 0x4d, 0x3d, 0x02, 0x01, 0x00]),
            Code::H3_MESSAGE_ERROR
        );
        // Truncated at FIN.
        assert_eq!(code(&[0x68, 0x43, 0x07, 0, 0]), Code::H3_MESSAGE_ERROR);
        assert_eq!(code(&[0x68]), Code::H3_MESSAGE_ERROR);
        // MAX_STREAMS above 2^60.
        let c = Capsule::MaxStreams(Dir::Bi, MAX_STREAMS_LIMIT + 1).to_bytes();
        assert_eq!(code(&c), Code::WT_FLOW_CONTROL_ERROR);
        // Oversized DATAGRAM capsule.
        let c = Capsule::Datagram(vec![0; 4096].into()).to_bytes();
        assert_eq!(code(&c), Code::H3_MESSAGE_ERROR);
    }

    fn random_capsule(rng: &mut Rng) -> Capsule {
        let v = rng.next_u64() & varint::MAX;
        let dir = if rng.coin() { Dir::Bi } else { Dir::Uni };
        match rng.below(9) {
            0 => Capsule::Datagram(
                {
                    let n = rng.below(2048) as usize;
                    rng.bytes(n)
                }
                .into(),
            ),
            1 => {
                let reason: String = (0..rng.below(300))
                    .map(|_| char::from_u32(rng.below(0x3000) as u32).unwrap_or('x'))
                    .collect();
                Capsule::CloseSession {
                    code: rng.next_u64() as u32,
                    reason: truncate_reason(&reason).into(),
                }
            }
            2 => Capsule::DrainSession,
            3 => Capsule::MaxData(v),
            4 => Capsule::MaxStreams(dir, v % (MAX_STREAMS_LIMIT + 1)),
            5 => Capsule::DataBlocked(v),
            6 => Capsule::StreamsBlocked(dir, v),
            _ => Capsule::Unknown {
                capsule_type: 0x29 * rng.below(1 << 40) + 0x17,
                len: rng.below(100),
            },
        }
    }

    #[test]
    fn round_trip_generated() {
        let mut rng = Rng::new(6);
        for _ in 0..3_000 {
            let caps: Vec<Capsule> = (0..rng.below(5) + 1)
                .map(|_| random_capsule(&mut rng))
                .collect();
            let mut wire = BytesMut::new();
            for c in &caps {
                c.encode(&mut wire);
            }
            let step = rng.below(40) as usize + 1;
            assert_eq!(decode_all(&wire, step).unwrap(), caps);
        }
    }
}
