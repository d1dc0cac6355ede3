#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! String literals (RFC 7541 §5.2, RFC 9204 §4.1.2): an H (Huffman) bit, a length as a prefix
//! integer, then that many bytes.
//!
//! In QPACK the length prefix is not always 7 bits: the H bit sits right above an `N`-bit
//! prefix, and the bits above it belong to the representation (e.g. `001N H namelen(3+)`).

use bytes::BufMut;

use super::huffman::{self, HuffmanError};
use super::prefix_int::{self, PrefixIntError};

/// Why a string literal could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StringError {
    /// The length integer was invalid.
    #[error(transparent)]
    Integer(#[from] PrefixIntError),
    /// The declared (or Huffman-decoded) length exceeds the caller's limit.
    #[error("string literal longer than the limit")]
    TooLong,
    /// The Huffman-coded bytes were invalid.
    #[error(transparent)]
    Huffman(#[from] HuffmanError),
}

impl StringError {
    /// A short static description, for the `&'static str` of [`crate::qpack::Error`].
    pub fn as_str(&self) -> &'static str {
        match self {
            StringError::Integer(e) => e.as_str(),
            StringError::TooLong => "string literal longer than the limit",
            StringError::Huffman(e) => e.as_str(),
        }
    }
}

/// The H bit for a string whose length has an `prefix_bits`-bit prefix (1..=7).
fn huffman_flag(prefix_bits: u8) -> u8 {
    1u8.checked_shl(u32::from(prefix_bits)).unwrap_or(0)
}

/// Appends `data` as a string literal whose length has an `prefix_bits`-bit prefix (1..=7):
/// Huffman-coded (H = 1) when that is strictly shorter, raw otherwise. `flags` supplies the
/// bits above the H bit in the first byte.
pub fn encode(data: &[u8], prefix_bits: u8, flags: u8, out: &mut impl BufMut) {
    let h = huffman_flag(prefix_bits);
    let flags = flags & !h;
    let huffman_len = huffman::encoded_len(data);
    if huffman_len < data.len() {
        prefix_int::encode(huffman_len as u64, prefix_bits, flags | h, out);
        huffman::encode(data, out);
    } else {
        prefix_int::encode(data.len() as u64, prefix_bits, flags, out);
        out.put_slice(data);
    }
}

/// The location of a string literal inside a buffer, parsed but not yet Huffman-decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawString {
    /// Whether the bytes are Huffman-coded.
    pub huffman: bool,
    /// Where the string bytes start (after the length).
    pub start: usize,
    /// The number of string bytes on the wire.
    pub len: usize,
}

impl RawString {
    /// Where this literal ends in the buffer it was parsed from.
    pub fn end(&self) -> usize {
        self.start.saturating_add(self.len)
    }
}

/// Parses the header of a string literal at the start of `buf` (length prefix `prefix_bits`,
/// H bit right above it) without touching the string bytes.
///
/// Returns `Ok(None)` if `buf` ends before the length integer does. The declared length is
/// checked against `max_len` here, before anything is buffered; whether `buf` holds all the
/// string bytes is for the caller to check with [`RawString::end`].
pub fn parse_header(
    buf: &[u8],
    prefix_bits: u8,
    max_len: usize,
) -> Result<Option<RawString>, StringError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let Some((len, start)) = prefix_int::decode(buf, prefix_bits)? else {
        return Ok(None);
    };
    let len = usize::try_from(len).map_err(|_| StringError::TooLong)?;
    if len > max_len {
        return Err(StringError::TooLong);
    }
    Ok(Some(RawString {
        huffman: first & huffman_flag(prefix_bits) != 0,
        start,
        len,
    }))
}

/// Returns the decoded bytes of `raw` (parsed from `buf`), Huffman-decoding if needed, or
/// `Ok(None)` if `buf` does not hold all of it yet. A Huffman-decoded result longer than
/// `max_len` is [`StringError::TooLong`].
pub fn decode_body(
    buf: &[u8],
    raw: &RawString,
    max_len: usize,
) -> Result<Option<Vec<u8>>, StringError> {
    let Some(bytes) = buf.get(raw.start..raw.end()) else {
        return Ok(None);
    };
    if !raw.huffman {
        return Ok(Some(bytes.to_vec()));
    }
    let decoded = huffman::decode(bytes)?;
    if decoded.len() > max_len {
        return Err(StringError::TooLong);
    }
    Ok(Some(decoded))
}

/// Decodes a whole string literal at the start of `buf`: `Ok(Some((bytes, consumed)))`, or
/// `Ok(None)` if `buf` ends first. Both the wire length and the decoded length are limited to
/// `max_len`.
pub fn decode(
    buf: &[u8],
    prefix_bits: u8,
    max_len: usize,
) -> Result<Option<(Vec<u8>, usize)>, StringError> {
    let Some(raw) = parse_header(buf, prefix_bits, max_len)? else {
        return Ok(None);
    };
    Ok(decode_body(buf, &raw, max_len)?.map(|bytes| (bytes, raw.end())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn picks_huffman_only_when_shorter() {
        let mut out = Vec::new();
        encode(b"www.example.com", 7, 0, &mut out);
        assert_eq!(out[0], 0x8c);
        assert_eq!(out.len(), 13);
        // "1" is one byte either way: raw.
        out.clear();
        encode(b"1", 7, 0, &mut out);
        assert_eq!(out, [0x01, b'1']);
        // Binary data whose Huffman form is longer: raw.
        out.clear();
        encode(&[0, 1, 2], 3, 0x20, &mut out);
        assert_eq!(out, [0x23, 0, 1, 2]);
        // Empty string.
        out.clear();
        encode(b"", 7, 0x80, &mut out);
        assert_eq!(out, [0x00]);
    }

    #[test]
    fn decode_cases() {
        assert_eq!(decode(&[0x81, 0x0f], 7, 10), Ok(Some((b"1".to_vec(), 2))));
        assert_eq!(
            decode(&[0x02, b'h', b'i', 0xff], 7, 10),
            Ok(Some((b"hi".to_vec(), 3)))
        );
        assert_eq!(decode(&[0x02, b'h'], 7, 10), Ok(None));
        assert_eq!(decode(&[], 7, 10), Ok(None));
        assert_eq!(decode(&[0x7f], 7, 10), Ok(None));
        assert_eq!(decode(&[0x05], 7, 4), Err(StringError::TooLong));
        // The H bit of a 3-bit prefix string is 0x08; higher bits are ignored.
        assert_eq!(decode(&[0x29, 0x0f], 3, 10), Ok(Some((b"1".to_vec(), 2))));
        assert_eq!(
            decode(&[0x81, 0xff], 7, 10),
            Err(StringError::Huffman(HuffmanError::PaddingTooLong))
        );
        // Huffman output above the limit, although the wire length is within it.
        let mut out = Vec::new();
        encode(b"0000000000", 7, 0, &mut out);
        assert!(out.len() < 10);
        assert_eq!(decode(&out, 7, 9), Err(StringError::TooLong));
        assert_eq!(
            decode(&out, 7, 10),
            Ok(Some((b"0000000000".to_vec(), out.len())))
        );
    }

    #[test]
    fn random_round_trip() {
        let mut rng = Rng::new(0x57);
        for _ in 0..2000 {
            let prefix = 1 + rng.below(7) as u8;
            let len = rng.below(300) as usize;
            let data = if rng.coin() {
                rng.bytes(len)
            } else {
                vec![b'a' + rng.below(26) as u8; len]
            };
            let mut out = Vec::new();
            encode(&data, prefix, 0, &mut out);
            assert_eq!(decode(&out, prefix, 300), Ok(Some((data, out.len()))));
        }
    }
}
