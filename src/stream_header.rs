//! The headers that open HTTP/3 unidirectional streams (RFC 9114 §6.2, RFC 9204 §4.2) and
//! WebTransport streams (draft-ietf-webtrans-http3 §4): the stream type, and for push and
//! WebTransport streams the id that follows it. Parsed incrementally, one byte at a time if need
//! be.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::frame::ty::WEBTRANSPORT_STREAM;
use crate::varint::{self, VarIntReader};

/// Unidirectional stream type codepoints.
pub mod uni_ty {
    /// The control stream.
    pub const CONTROL: u64 = 0x00;
    /// A push stream (followed by a push id).
    pub const PUSH: u64 = 0x01;
    /// The QPACK encoder stream.
    pub const QPACK_ENCODER: u64 = 0x02;
    /// The QPACK decoder stream.
    pub const QPACK_DECODER: u64 = 0x03;
    /// A WebTransport unidirectional stream (followed by a session id).
    pub const WEBTRANSPORT: u64 = 0x54;
}

/// The header of a unidirectional stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UniStreamHeader {
    /// The HTTP/3 control stream.
    Control,
    /// A push stream with its push id.
    Push(u64),
    /// The QPACK encoder stream.
    QpackEncoder,
    /// The QPACK decoder stream.
    QpackDecoder,
    /// A WebTransport stream of the session with this id.
    WebTransport(u64),
    /// An unknown or grease stream type, to be ignored.
    Unknown(u64),
}

impl UniStreamHeader {
    /// Writes the header.
    pub fn encode<B: BufMut + ?Sized>(&self, out: &mut B) {
        match *self {
            UniStreamHeader::Control => varint::encode(uni_ty::CONTROL, out),
            UniStreamHeader::QpackEncoder => varint::encode(uni_ty::QPACK_ENCODER, out),
            UniStreamHeader::QpackDecoder => varint::encode(uni_ty::QPACK_DECODER, out),
            UniStreamHeader::Push(id) => {
                varint::encode(uni_ty::PUSH, out);
                varint::encode(id, out);
            }
            UniStreamHeader::WebTransport(id) => {
                varint::encode(uni_ty::WEBTRANSPORT, out);
                varint::encode(id, out);
            }
            UniStreamHeader::Unknown(t) => varint::encode(t, out),
        }
    }

    /// The header as bytes.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(16);
        self.encode(&mut out);
        out.freeze()
    }
}

/// The header of a WebTransport bidirectional stream: the signal 0x41 and the session id.
pub fn bidi_header(session_id: u64) -> Bytes {
    let mut out = BytesMut::with_capacity(10);
    varint::encode(WEBTRANSPORT_STREAM, &mut out);
    varint::encode(session_id, &mut out);
    out.freeze()
}

/// An incremental reader of a unidirectional stream header. It keeps at most one partial varint.
#[derive(Clone, Debug, Default)]
pub struct UniHeaderReader {
    stream_type: Option<u64>,
    varint: VarIntReader,
}

impl UniHeaderReader {
    /// A reader at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether part of a header has been read (a FIN now ends the stream before its header).
    pub fn is_partial(&self) -> bool {
        self.stream_type.is_some() || self.varint.is_partial()
    }

    /// Consumes header bytes from `input`; returns the header once complete. The bytes after the
    /// header stay in `input`.
    pub fn read<B: Buf + ?Sized>(&mut self, input: &mut B) -> Option<UniStreamHeader> {
        let t = match self.stream_type {
            Some(t) => t,
            None => {
                let t = self.varint.read(input)?;
                match t {
                    uni_ty::CONTROL => return Some(UniStreamHeader::Control),
                    uni_ty::QPACK_ENCODER => return Some(UniStreamHeader::QpackEncoder),
                    uni_ty::QPACK_DECODER => return Some(UniStreamHeader::QpackDecoder),
                    uni_ty::PUSH | uni_ty::WEBTRANSPORT => {}
                    other => return Some(UniStreamHeader::Unknown(other)),
                }
                self.stream_type = Some(t);
                t
            }
        };
        let id = self.varint.read(input)?;
        self.stream_type = None;
        Some(if t == uni_ty::PUSH {
            UniStreamHeader::Push(id)
        } else {
            UniStreamHeader::WebTransport(id)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn browser_headers() {
        // Chromium's WebTransport uni stream header `40 54 00` and bidi header `40 41 00`.
        let mut r = UniHeaderReader::new();
        let mut b: &[u8] = &[0x40, 0x54, 0x00, 0x07];
        assert_eq!(r.read(&mut b), Some(UniStreamHeader::WebTransport(0)));
        assert_eq!(b, &[0x07]);
        assert_eq!(&bidi_header(0)[..], &[0x40, 0x41, 0x00]);
        assert_eq!(
            &UniStreamHeader::WebTransport(0).to_bytes()[..],
            &[0x40, 0x54, 0x00]
        );
        // Non-minimal type encoding is accepted.
        let mut b: &[u8] = &[0x80, 0, 0, 0x54, 0x04];
        assert_eq!(
            UniHeaderReader::new().read(&mut b),
            Some(UniStreamHeader::WebTransport(4))
        );
        let mut b: &[u8] = &[0x21];
        assert_eq!(
            UniHeaderReader::new().read(&mut b),
            Some(UniStreamHeader::Unknown(0x21))
        );
    }

    #[test]
    fn round_trip_byte_at_a_time() {
        let mut rng = Rng::new(5);
        for _ in 0..5_000 {
            let id = rng.next_u64() & varint::MAX;
            let h = match rng.below(6) {
                0 => UniStreamHeader::Control,
                1 => UniStreamHeader::Push(id),
                2 => UniStreamHeader::QpackEncoder,
                3 => UniStreamHeader::QpackDecoder,
                4 => UniStreamHeader::WebTransport(id),
                _ => UniStreamHeader::Unknown(0x21 + 0x1f * rng.below(1 << 40)),
            };
            let bytes = h.to_bytes();
            let mut r = UniHeaderReader::new();
            let mut got = None;
            for (i, b) in bytes.iter().enumerate() {
                got = r.read(&mut &[*b][..]);
                assert_eq!(got.is_some(), i + 1 == bytes.len());
            }
            assert_eq!(got, Some(h));
            assert!(!r.is_partial());
        }
    }
}
