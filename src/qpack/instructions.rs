#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! Encoder-stream and decoder-stream instructions (RFC 9204 §4.3 and §4.4), with incremental
//! decoders.
//!
//! The decoders accept arbitrary chunks (down to one byte at a time) and return whole
//! instructions. Between calls they keep only the bytes of the one instruction in progress; its
//! size is bounded because every integer is at most 11 bytes (see [`super::prefix_int`]) and
//! every string literal is checked against a maximum length as soon as its length is known,
//! before its bytes are buffered.
//!
//! These types only handle the syntax; what a static-only endpoint does with the instructions
//! is in [`super::streams`]. The stream type byte (0x02 or 0x03) is not part of the data given
//! to these decoders.

use bytes::{BufMut, Bytes, BytesMut};

use super::string::{self, RawString};
use super::{Error, prefix_int};

/// An instruction on an encoder stream (RFC 9204 §4.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncoderInstruction {
    /// Set Dynamic Table Capacity: `001 capacity(5+)`.
    SetCapacity(u64),
    /// Insert with Name Reference: `1 T index(6+)`, then the value (`H len(7+)`). `is_static` is
    /// the T bit; `index` is a static index, or a relative dynamic index when `is_static` is false.
    InsertWithNameRef {
        /// Whether the name comes from the static table (T = 1).
        is_static: bool,
        /// The static or relative dynamic index of the name.
        index: u64,
        /// The field value (Huffman-decoded).
        value: Bytes,
    },
    /// Insert with Literal Name: `01 H namelen(5+)` name, then `H len(7+)` value.
    InsertWithLiteralName {
        /// The field name (Huffman-decoded).
        name: Bytes,
        /// The field value (Huffman-decoded).
        value: Bytes,
    },
    /// Duplicate: `000 relative_index(5+)`.
    Duplicate(u64),
}

impl EncoderInstruction {
    /// Appends the wire form of this instruction to `out`. Strings are Huffman-coded when that is
    /// strictly shorter.
    pub fn encode(&self, out: &mut impl BufMut) {
        match self {
            EncoderInstruction::SetCapacity(capacity) => {
                prefix_int::encode(*capacity, 5, 0x20, out)
            }
            EncoderInstruction::InsertWithNameRef {
                is_static,
                index,
                value,
            } => {
                let flags = if *is_static { 0xc0 } else { 0x80 };
                prefix_int::encode(*index, 6, flags, out);
                string::encode(value, 7, 0x00, out);
            }
            EncoderInstruction::InsertWithLiteralName { name, value } => {
                string::encode(name, 5, 0x40, out);
                string::encode(value, 7, 0x00, out);
            }
            EncoderInstruction::Duplicate(index) => prefix_int::encode(*index, 5, 0x00, out),
        }
    }
}

/// An instruction on a decoder stream (RFC 9204 §4.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecoderInstruction {
    /// Section Acknowledgment: `1 stream_id(7+)`.
    SectionAck(u64),
    /// Stream Cancellation: `01 stream_id(6+)`.
    StreamCancel(u64),
    /// Insert Count Increment: `00 increment(6+)`.
    InsertCountIncrement(u64),
}

impl DecoderInstruction {
    /// Appends the wire form of this instruction to `out`.
    pub fn encode(&self, out: &mut impl BufMut) {
        match self {
            DecoderInstruction::SectionAck(id) => prefix_int::encode(*id, 7, 0x80, out),
            DecoderInstruction::StreamCancel(id) => prefix_int::encode(*id, 6, 0x40, out),
            DecoderInstruction::InsertCountIncrement(n) => prefix_int::encode(*n, 6, 0x00, out),
        }
    }
}

/// The outcome of trying to parse one instruction from the start of a buffer: the instruction
/// and the bytes it used, or `None` if the buffer ends first.
type Parsed<T> = Result<Option<(T, usize)>, &'static str>;

/// Reads a prefix integer; `None` if incomplete.
fn int(buf: &[u8], prefix_bits: u8) -> Result<Option<(u64, usize)>, &'static str> {
    prefix_int::decode(buf, prefix_bits).map_err(|e| e.as_str())
}

/// Reads a string literal's header (length checked against `max_len`); `None` if incomplete.
fn string_header(
    buf: &[u8],
    prefix_bits: u8,
    max_len: usize,
) -> Result<Option<RawString>, &'static str> {
    string::parse_header(buf, prefix_bits, max_len).map_err(|e| e.as_str())
}

/// Decodes the bytes of a string literal whose header was parsed from `buf`; `None` if incomplete.
fn string_body(buf: &[u8], raw: &RawString, max_len: usize) -> Result<Option<Bytes>, &'static str> {
    string::decode_body(buf, raw, max_len)
        .map(|body| body.map(Bytes::from))
        .map_err(|e| e.as_str())
}

/// Parses one encoder instruction from the start of `buf`.
fn parse_encoder_instruction(buf: &[u8], max_string_len: usize) -> Parsed<EncoderInstruction> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first & 0x80 != 0 {
        let Some((index, used)) = int(buf, 6)? else {
            return Ok(None);
        };
        let rest = buf.get(used..).unwrap_or_default();
        let Some(raw) = string_header(rest, 7, max_string_len)? else {
            return Ok(None);
        };
        let Some(value) = string_body(rest, &raw, max_string_len)? else {
            return Ok(None);
        };
        let instruction = EncoderInstruction::InsertWithNameRef {
            is_static: first & 0x40 != 0,
            index,
            value,
        };
        return Ok(Some((instruction, used.saturating_add(raw.end()))));
    }
    if first & 0x40 != 0 {
        let Some(name_raw) = string_header(buf, 5, max_string_len)? else {
            return Ok(None);
        };
        let Some(rest) = buf.get(name_raw.end()..) else {
            // The name is not complete yet (its length was already checked).
            return Ok(None);
        };
        let Some(value_raw) = string_header(rest, 7, max_string_len)? else {
            return Ok(None);
        };
        let Some(value) = string_body(rest, &value_raw, max_string_len)? else {
            return Ok(None);
        };
        let Some(name) = string_body(buf, &name_raw, max_string_len)? else {
            return Ok(None);
        };
        let instruction = EncoderInstruction::InsertWithLiteralName { name, value };
        return Ok(Some((
            instruction,
            name_raw.end().saturating_add(value_raw.end()),
        )));
    }
    let Some((value, used)) = int(buf, 5)? else {
        return Ok(None);
    };
    let instruction = if first & 0x20 != 0 {
        EncoderInstruction::SetCapacity(value)
    } else {
        EncoderInstruction::Duplicate(value)
    };
    Ok(Some((instruction, used)))
}

/// Parses one decoder instruction from the start of `buf`.
fn parse_decoder_instruction(buf: &[u8]) -> Parsed<DecoderInstruction> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let parsed = if first & 0x80 != 0 {
        int(buf, 7)?.map(|(id, used)| (DecoderInstruction::SectionAck(id), used))
    } else if first & 0x40 != 0 {
        int(buf, 6)?.map(|(id, used)| (DecoderInstruction::StreamCancel(id), used))
    } else {
        int(buf, 6)?.map(|(n, used)| (DecoderInstruction::InsertCountIncrement(n), used))
    };
    Ok(parsed)
}

/// Appends `data` to the partial instruction in `pending`, parses every complete instruction,
/// and leaves only the bytes of the next, incomplete one in `pending`.
fn feed_chunks<T>(
    pending: &mut BytesMut,
    data: &[u8],
    parse: impl Fn(&[u8]) -> Parsed<T>,
) -> Result<Vec<T>, &'static str> {
    let joined;
    let input: &[u8] = if pending.is_empty() {
        data
    } else {
        pending.extend_from_slice(data);
        joined = pending.split();
        &joined
    };
    let mut instructions = Vec::new();
    let mut rest = input;
    while let Some((instruction, used)) = parse(rest)? {
        instructions.push(instruction);
        rest = rest.get(used..).unwrap_or_default();
    }
    pending.clear();
    pending.extend_from_slice(rest);
    Ok(instructions)
}

/// Incremental decoder for an encoder stream (the peer's, as seen by our QPACK decoder).
///
/// Errors are [`Error::EncoderStream`] (QPACK_ENCODER_STREAM_ERROR); after one, the stream is
/// unusable and the connection should be closed.
#[derive(Clone, Debug)]
pub struct EncoderInstructionDecoder {
    pending: BytesMut,
    max_string_len: usize,
}

impl EncoderInstructionDecoder {
    /// Creates a decoder that rejects any name or value longer than `max_string_len` bytes, both
    /// as declared on the wire and after Huffman decoding. Buffered data is thus bounded by about
    /// `2 * max_string_len + 22` bytes.
    pub fn new(max_string_len: usize) -> Self {
        Self {
            pending: BytesMut::new(),
            max_string_len,
        }
    }

    /// Feeds the next chunk of stream data and returns the instructions it completed, in order.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<EncoderInstruction>, Error> {
        let max = self.max_string_len;
        feed_chunks(&mut self.pending, data, |buf| {
            parse_encoder_instruction(buf, max)
        })
        .map_err(Error::EncoderStream)
    }

    /// The number of bytes held for an incomplete instruction (0 at an instruction boundary;
    /// a stream that ends with this nonzero was truncated).
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }
}

/// Incremental decoder for a decoder stream (the peer's, as seen by our QPACK encoder).
///
/// Errors are [`Error::DecoderStream`] (QPACK_DECODER_STREAM_ERROR).
#[derive(Clone, Debug, Default)]
pub struct DecoderInstructionDecoder {
    pending: BytesMut,
}

impl DecoderInstructionDecoder {
    /// Creates a decoder. Decoder instructions hold only integers, so at most 10 bytes are ever
    /// buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk of stream data and returns the instructions it completed, in order.
    pub fn feed(&mut self, data: &[u8]) -> Result<Vec<DecoderInstruction>, Error> {
        feed_chunks(&mut self.pending, data, parse_decoder_instruction)
            .map_err(Error::DecoderStream)
    }

    /// The number of bytes held for an incomplete instruction.
    pub fn buffered(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    use crate::test_util::hex;

    fn encode_all<T>(items: &[T], encode: impl Fn(&T, &mut Vec<u8>)) -> Vec<u8> {
        let mut out = Vec::new();
        for item in items {
            encode(item, &mut out);
        }
        out
    }

    #[test]
    fn rfc9204_appendix_b_encoder_instructions() {
        let bytes = hex(
            "3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468 \
             4a637573746f6d2d6b65790c637573746f6d2d76616c7565 02 810d637573746f6d2d76616c756532",
        );
        let expected = vec![
            EncoderInstruction::SetCapacity(220),
            EncoderInstruction::InsertWithNameRef {
                is_static: true,
                index: 0,
                value: Bytes::from_static(b"www.example.com"),
            },
            EncoderInstruction::InsertWithNameRef {
                is_static: true,
                index: 1,
                value: Bytes::from_static(b"/sample/path"),
            },
            EncoderInstruction::InsertWithLiteralName {
                name: Bytes::from_static(b"custom-key"),
                value: Bytes::from_static(b"custom-value"),
            },
            EncoderInstruction::Duplicate(2),
            EncoderInstruction::InsertWithNameRef {
                is_static: false,
                index: 1,
                value: Bytes::from_static(b"custom-value2"),
            },
        ];
        let mut decoder = EncoderInstructionDecoder::new(100);
        assert_eq!(decoder.feed(&bytes).unwrap(), expected);
        assert_eq!(decoder.buffered(), 0);
        // Byte by byte.
        let mut decoder = EncoderInstructionDecoder::new(100);
        let mut got = Vec::new();
        for b in &bytes {
            got.extend(decoder.feed(std::slice::from_ref(b)).unwrap());
        }
        assert_eq!(got, expected);
        // Our encoder Huffman-codes these strings, so only the decoded form round-trips.
        let ours = encode_all(&expected, |i, out| i.encode(out));
        assert!(ours.len() < bytes.len());
        assert_eq!(
            EncoderInstructionDecoder::new(100).feed(&ours).unwrap(),
            expected
        );
        // Instructions without strings encode exactly as in the RFC.
        let mut out = Vec::new();
        EncoderInstruction::SetCapacity(220).encode(&mut out);
        EncoderInstruction::Duplicate(2).encode(&mut out);
        assert_eq!(out, [0x3f, 0xbd, 0x01, 0x02]);
    }

    #[test]
    fn rfc9204_appendix_b_decoder_instructions() {
        let expected = [
            DecoderInstruction::SectionAck(4),
            DecoderInstruction::InsertCountIncrement(1),
            DecoderInstruction::StreamCancel(8),
        ];
        let bytes = [0x84, 0x01, 0x48];
        assert_eq!(encode_all(&expected, |i, out| i.encode(out)), bytes);
        let mut decoder = DecoderInstructionDecoder::new();
        assert_eq!(decoder.feed(&bytes).unwrap(), expected);
        // Browsers' decoder stream in the dynamic-table capture: `80` after the type byte.
        assert_eq!(
            DecoderInstructionDecoder::new().feed(&[0x80]).unwrap(),
            [DecoderInstruction::SectionAck(0)]
        );
    }

    #[test]
    fn chromium_encoder_stream() {
        // Chromium's encoder stream is `02 20`; the type byte is not ours to parse.
        let mut decoder = EncoderInstructionDecoder::new(0);
        assert_eq!(
            decoder.feed(&[0x20]).unwrap(),
            [EncoderInstruction::SetCapacity(0)]
        );
        assert_eq!(decoder.feed(&[]).unwrap(), []);
    }

    #[test]
    fn partial_instructions_are_buffered() {
        let mut decoder = EncoderInstructionDecoder::new(100);
        assert_eq!(decoder.feed(&[0x3f]).unwrap(), []);
        assert_eq!(decoder.buffered(), 1);
        assert_eq!(decoder.feed(&[0xbd]).unwrap(), []);
        assert_eq!(
            decoder.feed(&[0x01, 0x20, 0x4a]).unwrap(),
            [
                EncoderInstruction::SetCapacity(220),
                EncoderInstruction::SetCapacity(0)
            ]
        );
        assert_eq!(decoder.buffered(), 1);
    }

    #[test]
    fn string_limits() {
        // A 5-byte value with a limit of 4 fails as soon as the length is known.
        let mut decoder = EncoderInstructionDecoder::new(4);
        assert!(matches!(
            decoder.feed(&[0xc0, 0x05]),
            Err(Error::EncoderStream(_))
        ));
        // A huge declared name length fails without waiting for the bytes.
        let mut decoder = EncoderInstructionDecoder::new(1 << 20);
        let err = decoder.feed(&[0x5f, 0xff, 0xff, 0xff, 0x7f]).unwrap_err();
        assert_eq!(err.code(), 0x201);
        // A Huffman value that decodes to more than the limit: "0000" is 20 bits -> 3 bytes.
        let mut decoder = EncoderInstructionDecoder::new(3);
        let mut out = Vec::new();
        EncoderInstruction::InsertWithNameRef {
            is_static: true,
            index: 0,
            value: Bytes::from_static(b"0000"),
        }
        .encode(&mut out);
        assert_eq!(out, [0xc0, 0x83, 0x00, 0x00, 0x0f]);
        assert!(decoder.feed(&out).is_err());
        // Within the limit, the bytes held never exceed the instruction in progress.
        let mut decoder = EncoderInstructionDecoder::new(8);
        for b in [0x48, b'a', b'b', b'c', b'd', b'e', b'f', b'g', b'h', 0x01] {
            assert_eq!(decoder.feed(&[b]).unwrap(), []);
        }
        assert_eq!(decoder.buffered(), 10);
        assert_eq!(
            decoder.feed(b"x").unwrap(),
            [EncoderInstruction::InsertWithLiteralName {
                name: Bytes::from_static(b"abcdefgh"),
                value: Bytes::from_static(b"x"),
            }]
        );
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn malformed() {
        let mut decoder = EncoderInstructionDecoder::new(100);
        assert!(decoder.feed(&[0xc0, 0x81, 0xff]).is_err()); // bad Huffman padding
        let mut decoder = EncoderInstructionDecoder::new(100);
        let over_long: Vec<u8> = [0x3f].into_iter().chain([0xff; 11]).collect();
        assert!(decoder.feed(&over_long).is_err()); // over-long integer
        let mut decoder = DecoderInstructionDecoder::new();
        let err = decoder.feed(&[0xff; 12]).unwrap_err();
        assert_eq!(err.code(), 0x202);
        // Over-long integers are caught even when fed one byte at a time.
        let mut decoder = DecoderInstructionDecoder::new();
        let mut result = Ok(Vec::new());
        for _ in 0..12 {
            result = decoder.feed(&[0xff]);
            if result.is_err() {
                break;
            }
        }
        assert!(result.is_err());
    }

    fn random_bytes(rng: &mut Rng, max: u64) -> Bytes {
        let len = rng.below(max) as usize;
        if rng.coin() {
            Bytes::from(rng.bytes(len))
        } else {
            Bytes::from(vec![b'a' + rng.below(26) as u8; len])
        }
    }

    fn random_int(rng: &mut Rng) -> u64 {
        let bits = rng.below(63) as u32;
        rng.next_u64() & ((1u64 << bits) - 1)
    }

    /// Feeds `bytes` in random chunks (often single bytes) and collects the output.
    fn feed_randomly<T>(
        rng: &mut Rng,
        bytes: &[u8],
        mut feed: impl FnMut(&[u8]) -> Result<Vec<T>, Error>,
    ) -> Vec<T> {
        let mut got = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = if rng.coin() {
                1
            } else {
                1 + rng.below(40) as usize
            }
            .min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            got.extend(feed(chunk).unwrap());
            rest = tail;
        }
        got
    }

    #[test]
    fn random_encoder_round_trip() {
        let mut rng = Rng::new(0xe4c0de);
        for _ in 0..600 {
            let count = 1 + rng.below(12) as usize;
            let instructions: Vec<EncoderInstruction> = (0..count)
                .map(|_| match rng.below(4) {
                    0 => EncoderInstruction::SetCapacity(random_int(&mut rng)),
                    1 => EncoderInstruction::InsertWithNameRef {
                        is_static: rng.coin(),
                        index: random_int(&mut rng),
                        value: random_bytes(&mut rng, 100),
                    },
                    2 => EncoderInstruction::InsertWithLiteralName {
                        name: random_bytes(&mut rng, 100),
                        value: random_bytes(&mut rng, 100),
                    },
                    _ => EncoderInstruction::Duplicate(random_int(&mut rng)),
                })
                .collect();
            let bytes = encode_all(&instructions, |i, out| i.encode(out));
            let mut decoder = EncoderInstructionDecoder::new(100);
            let got = feed_randomly(&mut rng, &bytes, |chunk| {
                let out = decoder.feed(chunk);
                assert!(decoder.buffered() <= 2 * 100 + 22);
                out
            });
            assert_eq!(got, instructions);
            assert_eq!(decoder.buffered(), 0);
        }
    }

    #[test]
    fn random_decoder_round_trip() {
        let mut rng = Rng::new(0xdec0de);
        for _ in 0..300 {
            let count = 1 + rng.below(20) as usize;
            let instructions: Vec<DecoderInstruction> = (0..count)
                .map(|_| match rng.below(3) {
                    0 => DecoderInstruction::SectionAck(random_int(&mut rng)),
                    1 => DecoderInstruction::StreamCancel(random_int(&mut rng)),
                    _ => DecoderInstruction::InsertCountIncrement(random_int(&mut rng)),
                })
                .collect();
            let bytes = encode_all(&instructions, |i, out| i.encode(out));
            let mut decoder = DecoderInstructionDecoder::new();
            let got = feed_randomly(&mut rng, &bytes, |chunk| decoder.feed(chunk));
            assert_eq!(got, instructions);
            assert_eq!(decoder.buffered(), 0);
        }
    }

    #[test]
    fn random_garbage_never_panics() {
        let mut rng = Rng::new(77);
        for _ in 0..2000 {
            let len = rng.below(64) as usize;
            let bytes = rng.bytes(len);
            let mut encoder_side = EncoderInstructionDecoder::new(16);
            let mut decoder_side = DecoderInstructionDecoder::new();
            for chunk in bytes.chunks(1 + rng.below(8) as usize) {
                if encoder_side.feed(chunk).is_err() {
                    break;
                }
                assert!(encoder_side.buffered() <= 2 * 16 + 22);
            }
            for chunk in bytes.chunks(1 + rng.below(8) as usize) {
                if decoder_side.feed(chunk).is_err() {
                    break;
                }
                assert!(decoder_side.buffered() <= 10);
            }
        }
    }
}
