//! QUIC variable-length integers (RFC 9000 §16).
//!
//! The two most significant bits of the first byte give the encoded length (1, 2, 4 or 8
//! bytes); the remaining bits hold the value in network byte order. Encoders here always use the
//! shortest form; decoders accept any form, including non-minimal ones, as RFC 9000 requires.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use bytes::{Buf, BufMut};

/// The largest value a varint can carry: 2^62 - 1.
pub const MAX: u64 = (1 << 62) - 1;

/// The number of bytes the shortest encoding of `v` takes (values above [`MAX`] count as 8).
pub fn encoded_len(v: u64) -> usize {
    if v < 1 << 6 {
        1
    } else if v < 1 << 14 {
        2
    } else if v < 1 << 30 {
        4
    } else {
        8
    }
}

/// The encoded length announced by a varint's first byte.
pub fn len_from_first_byte(b: u8) -> usize {
    1 << (b >> 6)
}

/// Writes `v` in its shortest encoding.
///
/// Values above [`MAX`] cannot be represented; they are a caller bug and are clamped to [`MAX`]
/// (with a debug assertion) rather than panicking in release builds.
pub fn encode<B: BufMut + ?Sized>(v: u64, out: &mut B) {
    debug_assert!(v <= MAX, "varint out of range: {v}");
    let v = v.min(MAX);
    match encoded_len(v) {
        1 => out.put_u8(v as u8),
        2 => out.put_u16(0x4000 | v as u16),
        4 => out.put_u32(0x8000_0000 | v as u32),
        _ => out.put_u64(0xc000_0000_0000_0000 | v),
    }
}

/// Encodes `v` into a fresh vector (a convenience for tests and small headers).
pub fn to_vec(v: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    encode(v, &mut out);
    out
}

/// Reads a varint from the start of `buf` without consuming anything.
///
/// Returns the value and the number of bytes it took, or `None` if `buf` is too short.
pub fn peek(buf: &[u8]) -> Option<(u64, usize)> {
    let (&first, rest) = buf.split_first()?;
    let len = len_from_first_byte(first);
    let mut v = u64::from(first & 0x3f);
    for &b in rest.get(..len.checked_sub(1)?)? {
        v = (v << 8) | u64::from(b);
    }
    Some((v, len))
}

/// Reads a varint from `buf`, consuming it only if it is complete.
pub fn decode<B: Buf + ?Sized>(buf: &mut B) -> Option<u64> {
    let first = *buf.chunk().first()?;
    if buf.remaining() < len_from_first_byte(first) {
        return None;
    }
    VarIntReader::new().read(buf)
}

/// An incremental varint reader for input that may arrive one byte at a time.
///
/// It keeps at most the 8 bytes of the varint in progress.
#[derive(Clone, Debug, Default)]
pub struct VarIntReader {
    value: u64,
    have: u8,
    need: u8,
}

impl VarIntReader {
    /// A reader waiting for the first byte.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether some, but not all, bytes of a varint have been read.
    pub fn is_partial(&self) -> bool {
        self.have > 0
    }

    /// Consumes bytes from `buf` until a varint is complete; returns it and resets.
    ///
    /// Returns `None` when `buf` ran out first; call again with more input.
    pub fn read<B: Buf + ?Sized>(&mut self, buf: &mut B) -> Option<u64> {
        while buf.has_remaining() {
            let b = buf.get_u8();
            if self.have == 0 {
                self.need = len_from_first_byte(b) as u8;
                self.value = u64::from(b & 0x3f);
            } else {
                self.value = (self.value << 8) | u64::from(b);
            }
            self.have = self.have.saturating_add(1);
            if self.have >= self.need {
                let v = self.value;
                *self = Self::default();
                return Some(v);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn rfc9000_examples() {
        // RFC 9000 Appendix A.1.
        let cases: &[(&[u8], u64)] = &[
            (
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
                151_288_809_941_952_652,
            ),
            (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            (&[0x7b, 0xbd], 15_293),
            (&[0x25], 37),
            (&[0x40, 0x25], 37), // non-minimal, accepted
        ];
        for (bytes, v) in cases {
            assert_eq!(peek(bytes), Some((*v, bytes.len())));
            let mut b = *bytes;
            assert_eq!(decode(&mut b), Some(*v));
            assert!(b.is_empty());
        }
        assert_eq!(to_vec(37), vec![0x25]);
        assert_eq!(to_vec(15_293), vec![0x7b, 0xbd]);
        assert_eq!(to_vec(0x41), vec![0x40, 0x41]);
        assert_eq!(to_vec(0x54), vec![0x40, 0x54]);
        assert_eq!(to_vec(0x2b603742), vec![0xab, 0x60, 0x37, 0x42]);
    }

    #[test]
    fn truncated_consumes_nothing() {
        let mut b: &[u8] = &[0x9d, 0x7f];
        assert_eq!(decode(&mut b), None);
        assert_eq!(b.len(), 2);
        assert_eq!(peek(&[]), None);
    }

    #[test]
    fn straddling_chunks() {
        let a: &[u8] = &[0x9d, 0x7f];
        let c: &[u8] = &[0x3e, 0x7d, 0x01];
        let mut chain = a.chain(c);
        assert_eq!(decode(&mut chain), Some(494_878_333));
        assert_eq!(chain.remaining(), 1);
    }

    #[test]
    fn round_trip_generated() {
        let mut rng = Rng::new(1);
        for _ in 0..20_000 {
            let bits = rng.below(63);
            let v = rng.next_u64() & ((1u64 << bits) - 1) & MAX;
            let enc = to_vec(v);
            assert_eq!(enc.len(), encoded_len(v));
            assert_eq!(peek(&enc), Some((v, enc.len())));
            // One byte at a time through the incremental reader.
            let mut r = VarIntReader::new();
            let mut out = None;
            for (i, b) in enc.iter().enumerate() {
                let got = r.read(&mut &[*b][..]);
                if i + 1 < enc.len() {
                    assert!(got.is_none() && r.is_partial());
                } else {
                    out = got;
                }
            }
            assert_eq!(out, Some(v));
        }
        assert_eq!(to_vec(MAX), vec![0xff; 8]);
    }
}
