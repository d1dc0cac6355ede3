#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! The HPACK Huffman code (RFC 7541 Appendix B), used for QPACK string literals.
//!
//! The code is canonical: sorted by (length, symbol), consecutive codes of one length are
//! consecutive integers. The decoder exploits that with a bit accumulator and a per-length
//! limit table built at compile time (no tree, no allocation besides the output), checking for
//! each length `L` whether the next `L` bits are below the first code of length `L + 1`.
//!
//! Decoding rejects the EOS symbol inside a string, and padding that is 8 bits or longer or
//! not all ones (RFC 7541 §5.2).

use bytes::BufMut;

/// Why a Huffman-coded string could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HuffmanError {
    /// The EOS symbol (30 ones) appeared inside the string.
    #[error("Huffman EOS symbol inside a string")]
    Eos,
    /// The final padding was 8 bits or longer (or an incomplete code of 8+ bits).
    #[error("Huffman padding longer than 7 bits")]
    PaddingTooLong,
    /// The final padding bits were not all ones (an incomplete code).
    #[error("Huffman padding is not all ones")]
    InvalidPadding,
}

impl HuffmanError {
    /// A short static description, for the `&'static str` of [`crate::qpack::Error`].
    pub fn as_str(&self) -> &'static str {
        match self {
            HuffmanError::Eos => "Huffman EOS symbol inside a string",
            HuffmanError::PaddingTooLong => "Huffman padding longer than 7 bits",
            HuffmanError::InvalidPadding => "Huffman padding is not all ones",
        }
    }
}

/// The Huffman code of each symbol 0..=256 (256 is EOS): `(code aligned to the LSB, length in
/// bits)`, transcribed from RFC 7541 Appendix B.
const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13),
    (0x7fffd8, 23),
    (0xfffffe2, 28),
    (0xfffffe3, 28),
    (0xfffffe4, 28),
    (0xfffffe5, 28),
    (0xfffffe6, 28),
    (0xfffffe7, 28),
    (0xfffffe8, 28),
    (0xffffea, 24),
    (0x3ffffffc, 30),
    (0xfffffe9, 28),
    (0xfffffea, 28),
    (0x3ffffffd, 30),
    (0xfffffeb, 28),
    (0xfffffec, 28),
    (0xfffffed, 28),
    (0xfffffee, 28),
    (0xfffffef, 28),
    (0xffffff0, 28),
    (0xffffff1, 28),
    (0xffffff2, 28),
    (0x3ffffffe, 30),
    (0xffffff3, 28),
    (0xffffff4, 28),
    (0xffffff5, 28),
    (0xffffff6, 28),
    (0xffffff7, 28),
    (0xffffff8, 28),
    (0xffffff9, 28),
    (0xffffffa, 28),
    (0xffffffb, 28),
    (0x14, 6),
    (0x3f8, 10),
    (0x3f9, 10),
    (0xffa, 12),
    (0x1ff9, 13),
    (0x15, 6),
    (0xf8, 8),
    (0x7fa, 11),
    (0x3fa, 10),
    (0x3fb, 10),
    (0xf9, 8),
    (0x7fb, 11),
    (0xfa, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6),
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6),
    (0x1a, 6),
    (0x1b, 6),
    (0x1c, 6),
    (0x1d, 6),
    (0x1e, 6),
    (0x1f, 6),
    (0x5c, 7),
    (0xfb, 8),
    (0x7ffc, 15),
    (0x20, 6),
    (0xffb, 12),
    (0x3fc, 10),
    (0x1ffa, 13),
    (0x21, 6),
    (0x5d, 7),
    (0x5e, 7),
    (0x5f, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7),
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7),
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6a, 7),
    (0x6b, 7),
    (0x6c, 7),
    (0x6d, 7),
    (0x6e, 7),
    (0x6f, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7),
    (0xfc, 8),
    (0x73, 7),
    (0xfd, 8),
    (0x1ffb, 13),
    (0x7fff0, 19),
    (0x1ffc, 13),
    (0x3ffc, 14),
    (0x22, 6),
    (0x7ffd, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5),
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6),
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7),
    (0x28, 6),
    (0x29, 6),
    (0x2a, 6),
    (0x7, 5),
    (0x2b, 6),
    (0x76, 7),
    (0x2c, 6),
    (0x8, 5),
    (0x9, 5),
    (0x2d, 6),
    (0x77, 7),
    (0x78, 7),
    (0x79, 7),
    (0x7a, 7),
    (0x7b, 7),
    (0x7ffe, 15),
    (0x7fc, 11),
    (0x3ffd, 14),
    (0x1ffd, 13),
    (0xffffffc, 28),
    (0xfffe6, 20),
    (0x3fffd2, 22),
    (0xfffe7, 20),
    (0xfffe8, 20),
    (0x3fffd3, 22),
    (0x3fffd4, 22),
    (0x3fffd5, 22),
    (0x7fffd9, 23),
    (0x3fffd6, 22),
    (0x7fffda, 23),
    (0x7fffdb, 23),
    (0x7fffdc, 23),
    (0x7fffdd, 23),
    (0x7fffde, 23),
    (0xffffeb, 24),
    (0x7fffdf, 23),
    (0xffffec, 24),
    (0xffffed, 24),
    (0x3fffd7, 22),
    (0x7fffe0, 23),
    (0xffffee, 24),
    (0x7fffe1, 23),
    (0x7fffe2, 23),
    (0x7fffe3, 23),
    (0x7fffe4, 23),
    (0x1fffdc, 21),
    (0x3fffd8, 22),
    (0x7fffe5, 23),
    (0x3fffd9, 22),
    (0x7fffe6, 23),
    (0x7fffe7, 23),
    (0xffffef, 24),
    (0x3fffda, 22),
    (0x1fffdd, 21),
    (0xfffe9, 20),
    (0x3fffdb, 22),
    (0x3fffdc, 22),
    (0x7fffe8, 23),
    (0x7fffe9, 23),
    (0x1fffde, 21),
    (0x7fffea, 23),
    (0x3fffdd, 22),
    (0x3fffde, 22),
    (0xfffff0, 24),
    (0x1fffdf, 21),
    (0x3fffdf, 22),
    (0x7fffeb, 23),
    (0x7fffec, 23),
    (0x1fffe0, 21),
    (0x1fffe1, 21),
    (0x3fffe0, 22),
    (0x1fffe2, 21),
    (0x7fffed, 23),
    (0x3fffe1, 22),
    (0x7fffee, 23),
    (0x7fffef, 23),
    (0xfffea, 20),
    (0x3fffe2, 22),
    (0x3fffe3, 22),
    (0x3fffe4, 22),
    (0x7ffff0, 23),
    (0x3fffe5, 22),
    (0x3fffe6, 22),
    (0x7ffff1, 23),
    (0x3ffffe0, 26),
    (0x3ffffe1, 26),
    (0xfffeb, 20),
    (0x7fff1, 19),
    (0x3fffe7, 22),
    (0x7ffff2, 23),
    (0x3fffe8, 22),
    (0x1ffffec, 25),
    (0x3ffffe2, 26),
    (0x3ffffe3, 26),
    (0x3ffffe4, 26),
    (0x7ffffde, 27),
    (0x7ffffdf, 27),
    (0x3ffffe5, 26),
    (0xfffff1, 24),
    (0x1ffffed, 25),
    (0x7fff2, 19),
    (0x1fffe3, 21),
    (0x3ffffe6, 26),
    (0x7ffffe0, 27),
    (0x7ffffe1, 27),
    (0x3ffffe7, 26),
    (0x7ffffe2, 27),
    (0xfffff2, 24),
    (0x1fffe4, 21),
    (0x1fffe5, 21),
    (0x3ffffe8, 26),
    (0x3ffffe9, 26),
    (0xffffffd, 28),
    (0x7ffffe3, 27),
    (0x7ffffe4, 27),
    (0x7ffffe5, 27),
    (0xfffec, 20),
    (0xfffff3, 24),
    (0xfffed, 20),
    (0x1fffe6, 21),
    (0x3fffe9, 22),
    (0x1fffe7, 21),
    (0x1fffe8, 21),
    (0x7ffff3, 23),
    (0x3fffea, 22),
    (0x3fffeb, 22),
    (0x1ffffee, 25),
    (0x1ffffef, 25),
    (0xfffff4, 24),
    (0xfffff5, 24),
    (0x3ffffea, 26),
    (0x7ffff4, 23),
    (0x3ffffeb, 26),
    (0x7ffffe6, 27),
    (0x3ffffec, 26),
    (0x3ffffed, 26),
    (0x7ffffe7, 27),
    (0x7ffffe8, 27),
    (0x7ffffe9, 27),
    (0x7ffffea, 27),
    (0x7ffffeb, 27),
    (0xffffffe, 28),
    (0x7ffffec, 27),
    (0x7ffffed, 27),
    (0x7ffffee, 27),
    (0x7ffffef, 27),
    (0x7fffff0, 27),
    (0x3ffffee, 26),
    (0x3fffffff, 30),
];

/// The symbol number of EOS.
const EOS: u16 = 256;
/// The longest code length (EOS and a few control bytes).
const MAX_LEN: usize = 30;
/// The shortest code length.
const MIN_LEN: usize = 5;

/// Canonical decoding tables, indexed by code length `0..=MAX_LEN`.
struct Canonical {
    /// For each length `L`: the first code of length `L + 1` would start here, left-aligned in
    /// 32 bits, i.e. `(first[L] + count[L]) << (32 - L)`. A 32-bit window below `limit[L]`
    /// (and not below `limit[L - 1]`) starts with a code of length `L`.
    limit: [u64; MAX_LEN + 1],
    /// The first (smallest) code of each length.
    first: [u32; MAX_LEN + 1],
    /// Where the symbols of each length start in `symbols`.
    offset: [u16; MAX_LEN + 1],
    /// All symbols sorted by (code length, symbol), i.e. by code.
    symbols: [u16; 257],
}

/// Builds [`DECODE`] from [`CODES`] at compile time.
// Compile-time only: an out-of-bounds index or overflow here fails the build, so none of this
// is reachable from peer input.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn build() -> Canonical {
    let mut count = [0u16; MAX_LEN + 1];
    let mut i = 0;
    while i < 257 {
        count[CODES[i].1 as usize] += 1;
        i += 1;
    }
    let mut offset = [0u16; MAX_LEN + 1];
    let mut running = 0u16;
    let mut len = 0;
    while len <= MAX_LEN {
        offset[len] = running;
        running += count[len];
        len += 1;
    }
    let mut symbols = [0u16; 257];
    let mut next = offset;
    i = 0;
    while i < 257 {
        let len = CODES[i].1 as usize;
        symbols[next[len] as usize] = i as u16;
        next[len] += 1;
        i += 1;
    }
    let mut first = [0u32; MAX_LEN + 1];
    let mut limit = [0u64; MAX_LEN + 1];
    let mut code = 0u32;
    len = 1;
    while len <= MAX_LEN {
        code = (code + count[len - 1] as u32) << 1;
        first[len] = code;
        limit[len] = ((code + count[len] as u32) as u64) << (32 - len);
        len += 1;
    }
    Canonical {
        limit,
        first,
        offset,
        symbols,
    }
}

/// The canonical decoding tables.
const DECODE: Canonical = build();

/// The number of bytes [`encode`] produces for `src`.
pub fn encoded_len(src: &[u8]) -> usize {
    let bits = src.iter().fold(0u64, |bits, &b| {
        let len = CODES.get(usize::from(b)).map_or(0, |&(_, len)| len);
        bits.saturating_add(u64::from(len))
    });
    usize::try_from(bits.div_ceil(8)).unwrap_or(usize::MAX)
}

/// Appends the Huffman encoding of `src` to `out`, padded with the high bits of EOS (ones).
pub fn encode(src: &[u8], out: &mut impl BufMut) {
    // Holds at most 7 pending bits plus one code of at most 30 bits.
    let mut acc: u64 = 0;
    let mut nbits: u32 = 0;
    for &b in src {
        let Some(&(code, len)) = CODES.get(usize::from(b)) else {
            continue;
        };
        let len = u32::from(len);
        acc = acc.wrapping_shl(len) | u64::from(code);
        nbits = nbits.wrapping_add(len);
        while nbits >= 8 {
            nbits = nbits.wrapping_sub(8);
            out.put_u8(acc.wrapping_shr(nbits) as u8);
        }
    }
    if nbits > 0 {
        let pad = 8u32.wrapping_sub(nbits);
        out.put_u8((acc.wrapping_shl(pad) as u8) | (0xffu8.wrapping_shr(nbits)));
    }
}

/// Decodes a Huffman-coded string.
///
/// Errors: EOS inside the string, padding of 8 bits or more, padding that is not all ones.
pub fn decode(src: &[u8]) -> Result<Vec<u8>, HuffmanError> {
    // The shortest code is 5 bits, so the output is at most 8/5 of the input.
    let mut out = Vec::with_capacity(src.len().saturating_add(src.len() / 2));
    let mut input = src.iter();
    // The low `nbits` bits of `acc` are pending input, most significant first.
    let mut acc: u64 = 0;
    let mut nbits: u32 = 0;
    loop {
        while nbits <= 56 {
            let Some(&b) = input.next() else { break };
            acc = acc.wrapping_shl(8) | u64::from(b);
            nbits = nbits.wrapping_add(8);
        }
        if nbits == 0 {
            return Ok(out);
        }
        // The next 32 bits, left-aligned; past the end of input, filled with ones (as EOS).
        let window: u32 = if nbits >= 32 {
            acc.wrapping_shr(nbits.wrapping_sub(32)) as u32
        } else {
            let missing = 32u32.wrapping_sub(nbits);
            (acc.wrapping_shl(missing) as u32) | u32::MAX.wrapping_shr(nbits)
        };
        let mut decoded = None;
        for len in MIN_LEN..=MAX_LEN {
            let Some(&limit) = DECODE.limit.get(len) else {
                break;
            };
            if u64::from(window) < limit {
                decoded = Some(len);
                break;
            }
        }
        // The all-ones window only matches EOS (30 bits); `decoded` is always set.
        let len = decoded.unwrap_or(MAX_LEN);
        let len_bits = len as u32;
        if len_bits > nbits {
            // The remaining bits are not a whole code: they must be EOS padding.
            if nbits >= 8 {
                return Err(HuffmanError::PaddingTooLong);
            }
            let mask = (1u64 << nbits).wrapping_sub(1);
            if acc & mask != mask {
                return Err(HuffmanError::InvalidPadding);
            }
            if input.len() != 0 {
                // Unreachable: the accumulator is refilled before it runs this low.
                return Err(HuffmanError::PaddingTooLong);
            }
            return Ok(out);
        }
        let code = window.wrapping_shr(32u32.wrapping_sub(len_bits));
        let first = DECODE.first.get(len).copied().unwrap_or(0);
        let offset = DECODE.offset.get(len).copied().unwrap_or(0);
        let rank = code.wrapping_sub(first) as usize;
        let symbol = DECODE
            .symbols
            .get(usize::from(offset).wrapping_add(rank))
            .copied()
            .unwrap_or(EOS);
        if symbol == EOS {
            return Err(HuffmanError::Eos);
        }
        out.push(symbol as u8);
        nbits = nbits.wrapping_sub(len_bits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    use crate::test_util::hex;

    /// RFC 7541 Appendix C.4 (requests) and C.6 (responses) Huffman strings.
    const RFC_EXAMPLES: &[(&str, &str)] = &[
        ("www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"),
        ("no-cache", "a8eb 1064 9cbf"),
        ("custom-key", "25a8 49e9 5ba9 7d7f"),
        ("custom-value", "25a8 49e9 5bb8 e8b4 bf"),
        ("302", "6402"),
        ("private", "aec3 771a 4b"),
        (
            "Mon, 21 Oct 2013 20:13:21 GMT",
            "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff",
        ),
        (
            "https://www.example.com",
            "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3",
        ),
        ("307", "640e ff"),
        (
            "Mon, 21 Oct 2013 20:13:22 GMT",
            "d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff",
        ),
        ("gzip", "9bd9 ab"),
        (
            "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
            "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 \
             3160 65c0 03ed 4ee5 b106 3d50 07",
        ),
    ];

    #[test]
    fn rfc_examples() {
        for &(text, code) in RFC_EXAMPLES {
            let code = hex(code);
            let mut out = Vec::new();
            encode(text.as_bytes(), &mut out);
            assert_eq!(out, code, "encode {text:?}");
            assert_eq!(encoded_len(text.as_bytes()), code.len());
            assert_eq!(decode(&code).unwrap(), text.as_bytes(), "decode {text:?}");
        }
    }

    #[test]
    fn table_is_canonical() {
        // Codes sorted by (length, symbol) are consecutive integers, as the decoder assumes,
        // and the table is a complete prefix code (Kraft sum exactly 1).
        let mut order: Vec<usize> = (0..257).collect();
        order.sort_by_key(|&i| (CODES[i].1, i));
        let mut expected = 0u32;
        let mut prev_len = CODES[order[0]].1;
        for (k, &i) in order.iter().enumerate() {
            let (code, len) = CODES[i];
            if k > 0 {
                expected = (expected + 1) << (len - prev_len);
            }
            assert_eq!(code, expected, "symbol {i}");
            prev_len = len;
        }
        let kraft: u64 = CODES.iter().map(|&(_, len)| 1u64 << (30 - len)).sum();
        assert_eq!(kraft, 1 << 30);
        assert_eq!(CODES[256], (0x3fff_ffff, 30));
        assert_eq!(CODES[usize::from(b'0')], (0x0, 5));
        assert_eq!(CODES[usize::from(b'~')], (0x1ffd, 13));
    }

    #[test]
    fn every_single_byte() {
        for b in 0..=255u8 {
            let mut out = Vec::new();
            encode(&[b], &mut out);
            assert_eq!(decode(&out).unwrap(), [b]);
        }
        assert_eq!(decode(&[]).unwrap(), b"");
        let mut out = Vec::new();
        encode(b"", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn short_value_with_padding() {
        // Firefox's `1`: 5-bit code 00001 plus three padding ones.
        assert_eq!(decode(&[0x0f]).unwrap(), b"1");
    }

    #[test]
    fn rejects_bad_padding() {
        // "1" (00001) followed by padding 000: not all ones.
        assert_eq!(decode(&[0x08]), Err(HuffmanError::InvalidPadding));
        // A lone 0xff: 8 bits of padding.
        assert_eq!(decode(&[0xff]), Err(HuffmanError::PaddingTooLong));
        // Valid string followed by a whole byte of ones.
        assert_eq!(decode(&[0x0f, 0xff]), Err(HuffmanError::PaddingTooLong));
        // "www.example.com" with an extra 0xff.
        let mut code = hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff");
        code.push(0xff);
        assert_eq!(decode(&code), Err(HuffmanError::PaddingTooLong));
        // Last byte's padding flipped to zeros.
        // "307" is 6 + 5 + 6 = 17 bits, then 7 padding bits; clear the last padding bit.
        let mut code = hex("640e ff");
        code[2] = 0xfe;
        assert_eq!(decode(&code), Err(HuffmanError::InvalidPadding));
        // A 13-bit code cut after 8 bits, padded: '~' is 1111111111101.
        assert_eq!(decode(&[0xff, 0xe8]), Err(HuffmanError::InvalidPadding));
    }

    #[test]
    fn rejects_eos() {
        // EOS alone, padded to 32 bits.
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff]), Err(HuffmanError::Eos));
        // 'a' (00011) then EOS (30 ones) then one padding bit: 36 bits -> 5 bytes.
        // 00011111 11111111 11111111 11111111 11111111
        assert_eq!(
            decode(&[0x1f, 0xff, 0xff, 0xff, 0xff]),
            Err(HuffmanError::Eos)
        );
        // EOS followed by a valid symbol.
        let mut buf = Vec::new();
        let mut acc: u64 = 0x3fff_ffff; // EOS
        acc = (acc << 5) | 0x1; // '1'
        acc <<= 5; // pad to 40 bits with ones
        acc |= 0x1f;
        for i in (0..5).rev() {
            buf.push((acc >> (8 * i)) as u8);
        }
        assert_eq!(decode(&buf), Err(HuffmanError::Eos));
    }

    #[test]
    fn random_round_trip() {
        let mut rng = Rng::new(0x4855_4646);
        for round in 0..4000 {
            let len = rng.below(64) as usize;
            let data = if round % 2 == 0 {
                rng.bytes(len)
            } else {
                // Mostly header-like text, where the code is short.
                let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789-_./:;=, ";
                (0..len)
                    .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                    .collect()
            };
            let mut code = Vec::new();
            encode(&data, &mut code);
            assert_eq!(code.len(), encoded_len(&data));
            assert_eq!(decode(&code).unwrap(), data);
        }
    }

    #[test]
    fn random_garbage_never_panics() {
        let mut rng = Rng::new(99);
        for _ in 0..4000 {
            let len = rng.below(40) as usize;
            let data = rng.bytes(len);
            if let Ok(decoded) = decode(&data) {
                // Whatever decodes must re-encode to the same bytes (the code is canonical
                // and padding is forced to ones).
                let mut again = Vec::new();
                encode(&decoded, &mut again);
                assert_eq!(again, data);
            }
        }
    }
}
