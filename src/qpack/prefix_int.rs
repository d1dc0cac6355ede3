#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! HPACK prefix integers (RFC 7541 §5.1), as used by QPACK (RFC 9204 §4.1.1).
//!
//! An integer starts in the low `N` bits of a first byte whose high `8 - N` bits belong to the
//! surrounding representation. If the value fits below `2^N - 1` it is stored there; otherwise
//! the prefix is all ones and the rest follows in 7-bit groups, least significant first, with
//! the high bit of each byte meaning "more follows".
//!
//! QPACK values are bounded to 62 bits (RFC 9204 §4.1.1 lets an implementation set the limit);
//! [`decode`] rejects larger values and encodings with more continuation bytes than a 62-bit value
//! can need, so a peer cannot make the decoder loop or overflow.

use bytes::BufMut;

/// The largest value [`decode`] accepts: 2^62 - 1.
pub const MAX_VALUE: u64 = (1 << 62) - 1;

/// The most continuation bytes a value up to [`MAX_VALUE`] can need (62 bits / 7 bits per byte,
/// rounded up). Any more is rejected as over-long.
const MAX_CONTINUATION_BYTES: usize = 9;

/// Why a prefix integer could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PrefixIntError {
    /// The value is larger than 2^62 - 1.
    #[error("prefix integer exceeds 2^62 - 1")]
    TooLarge,
    /// The encoding has more continuation bytes than any value up to 2^62 - 1 needs (e.g. a run
    /// of `0x80` padding bytes).
    #[error("prefix integer encoding is over-long")]
    TooLong,
}

impl PrefixIntError {
    /// A short static description, for the `&'static str` of [`crate::qpack::Error`].
    pub fn as_str(&self) -> &'static str {
        match self {
            PrefixIntError::TooLarge => "prefix integer exceeds 2^62 - 1",
            PrefixIntError::TooLong => "prefix integer encoding is over-long",
        }
    }
}

/// The all-ones value of an `prefix_bits`-bit prefix; widths outside 1..=8 are treated as 8.
fn prefix_max(prefix_bits: u8) -> u8 {
    debug_assert!((1..=8).contains(&prefix_bits), "prefix width {prefix_bits}");
    u8::MAX
        .checked_shr(8u32.saturating_sub(u32::from(prefix_bits)))
        .unwrap_or(u8::MAX)
}

/// Appends `value` as an integer with an `prefix_bits`-bit prefix (1..=8). `flags` supplies the
/// high `8 - prefix_bits` bits of the first byte; any of its bits inside the prefix are ignored.
///
/// Values above [`MAX_VALUE`] are encoded faithfully, though [`decode`] would reject them.
pub fn encode(value: u64, prefix_bits: u8, flags: u8, out: &mut impl BufMut) {
    let max = prefix_max(prefix_bits);
    let flags = flags & !max;
    let Some(mut rest) = value.checked_sub(u64::from(max)) else {
        // value < max: it fits in the prefix.
        out.put_u8(flags | (value as u8 & max));
        return;
    };
    out.put_u8(flags | max);
    while rest >= 0x80 {
        out.put_u8((rest as u8 & 0x7f) | 0x80);
        rest = rest.checked_shr(7).unwrap_or(0);
    }
    out.put_u8(rest as u8);
}

/// The number of bytes [`encode`] produces for `value` with an `prefix_bits`-bit prefix.
pub fn encoded_len(value: u64, prefix_bits: u8) -> usize {
    let max = prefix_max(prefix_bits);
    let Some(mut rest) = value.checked_sub(u64::from(max)) else {
        return 1;
    };
    let mut len = 2usize;
    while rest >= 0x80 {
        len = len.saturating_add(1);
        rest = rest.checked_shr(7).unwrap_or(0);
    }
    len
}

/// Decodes an integer with an `prefix_bits`-bit prefix (1..=8) from the start of `buf`; the high
/// bits of the first byte are ignored (the caller reads them itself).
///
/// Returns `Ok(Some((value, bytes_consumed)))`, or `Ok(None)` if `buf` ends before the integer
/// does (call again with more bytes: at most 11 bytes are ever needed), or an error for a value
/// over 2^62 - 1 or an over-long encoding.
pub fn decode(buf: &[u8], prefix_bits: u8) -> Result<Option<(u64, usize)>, PrefixIntError> {
    let max = prefix_max(prefix_bits);
    let Some((&first, rest)) = buf.split_first() else {
        return Ok(None);
    };
    let prefix = first & max;
    if prefix < max {
        return Ok(Some((u64::from(prefix), 1)));
    }
    let mut value = u64::from(max);
    let mut shift = 0u32;
    for (count, &byte) in rest.iter().enumerate() {
        if count >= MAX_CONTINUATION_BYTES {
            return Err(PrefixIntError::TooLong);
        }
        // shift <= 56 here and the group is < 2^7, so this is < 2^63: no overflow.
        let group = u64::from(byte & 0x7f)
            .checked_shl(shift)
            .ok_or(PrefixIntError::TooLarge)?;
        value = value
            .checked_add(group)
            .filter(|v| *v <= MAX_VALUE)
            .ok_or(PrefixIntError::TooLarge)?;
        if byte & 0x80 == 0 {
            // count < 9, so count + 2 <= 10.
            return Ok(Some((value, count.saturating_add(2))));
        }
        shift = shift.saturating_add(7);
    }
    if rest.len() >= MAX_CONTINUATION_BYTES {
        // Nine continuation bytes all had the "more" bit set.
        return Err(PrefixIntError::TooLong);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn enc(value: u64, bits: u8, flags: u8) -> Vec<u8> {
        let mut out = Vec::new();
        encode(value, bits, flags, &mut out);
        assert_eq!(out.len(), encoded_len(value, bits));
        out
    }

    #[test]
    fn rfc7541_examples() {
        // C.1.1: 10 with a 5-bit prefix.
        assert_eq!(enc(10, 5, 0), [0x0a]);
        assert_eq!(decode(&[0x0a], 5), Ok(Some((10, 1))));
        // C.1.2: 1337 with a 5-bit prefix.
        assert_eq!(enc(1337, 5, 0), [0x1f, 0x9a, 0x0a]);
        assert_eq!(decode(&[0x1f, 0x9a, 0x0a], 5), Ok(Some((1337, 3))));
        // C.1.3: 42 at an octet boundary.
        assert_eq!(enc(42, 8, 0), [0x2a]);
        assert_eq!(decode(&[0x2a], 8), Ok(Some((42, 1))));
    }

    #[test]
    fn flags_and_boundaries() {
        assert_eq!(enc(0, 6, 0xc0), [0xc0]);
        assert_eq!(enc(62, 6, 0xc0), [0xfe]);
        assert_eq!(enc(63, 6, 0xc0), [0xff, 0x00]);
        assert_eq!(enc(64, 6, 0x40), [0x7f, 0x01]);
        assert_eq!(enc(127, 7, 0x80), [0xff, 0x00]);
        assert_eq!(enc(0, 1, 0xff), [0xfe]);
        assert_eq!(enc(1, 1, 0xfe), [0xff, 0x00]);
        assert_eq!(enc(2, 1, 0x00), [0x01, 0x01]);
        // Flag bits are ignored by the decoder.
        assert_eq!(decode(&[0xfe], 6), Ok(Some((62, 1))));
        assert_eq!(decode(&[0x7f, 0x01], 6), Ok(Some((64, 2))));
        // Trailing bytes are not consumed.
        assert_eq!(decode(&[0x05, 0xff], 4), Ok(Some((5, 1))));
    }

    #[test]
    fn incomplete() {
        assert_eq!(decode(&[], 5), Ok(None));
        assert_eq!(decode(&[0x1f], 5), Ok(None));
        assert_eq!(decode(&[0x1f, 0x9a], 5), Ok(None));
        let full = enc(MAX_VALUE, 3, 0);
        for cut in 0..full.len() {
            assert_eq!(decode(full.get(..cut).unwrap(), 3), Ok(None), "cut {cut}");
        }
        assert_eq!(decode(&full, 3), Ok(Some((MAX_VALUE, full.len()))));
    }

    #[test]
    fn limits() {
        for bits in 1..=8 {
            let max = enc(MAX_VALUE, bits, 0);
            assert_eq!(decode(&max, bits), Ok(Some((MAX_VALUE, max.len()))));
            assert!(max.len() <= 1 + MAX_CONTINUATION_BYTES);
            let over = enc(MAX_VALUE + 1, bits, 0);
            assert_eq!(decode(&over, bits), Err(PrefixIntError::TooLarge));
            let huge = enc(u64::MAX, bits, 0);
            assert!(decode(&huge, bits).is_err());
        }
        // Zero-valued padding groups: allowed up to 9 continuation bytes, rejected after.
        let mut padded = vec![0x1f];
        padded.extend([0x80; 8]);
        padded.push(0x00);
        assert_eq!(decode(&padded, 5), Ok(Some((31, 10))));
        let mut over_long = vec![0x1f];
        over_long.extend([0x80; 9]);
        assert_eq!(decode(&over_long, 5), Err(PrefixIntError::TooLong));
        over_long.push(0x00);
        assert_eq!(decode(&over_long, 5), Err(PrefixIntError::TooLong));
        let endless = vec![0xff; 1000];
        assert_eq!(decode(&endless, 8), Err(PrefixIntError::TooLarge));
        let mut endless_padding = vec![0xff; 1];
        endless_padding.extend([0x80; 1000]);
        assert_eq!(decode(&endless_padding, 8), Err(PrefixIntError::TooLong));
        // A ninth group that pushes the value past 62 bits.
        let mut big = vec![0xff];
        big.extend([0xff; 8]);
        big.push(0x7f);
        assert_eq!(decode(&big, 8), Err(PrefixIntError::TooLarge));
    }

    #[test]
    fn random_round_trip() {
        let mut rng = Rng::new(0x05ee_d1e7);
        for _ in 0..5000 {
            let bits = 1 + rng.below(8) as u8;
            let magnitude = rng.below(63) as u32;
            let value = rng.next_u64() & ((1u64 << magnitude) - 1) & MAX_VALUE;
            let flags = rng.next_u64() as u8;
            let mut bytes = enc(value, bits, flags);
            let mask = prefix_max(bits);
            assert_eq!(bytes[0] & !mask, flags & !mask);
            bytes.push(rng.next_u64() as u8);
            assert_eq!(decode(&bytes, bits), Ok(Some((value, bytes.len() - 1))));
        }
    }
}
