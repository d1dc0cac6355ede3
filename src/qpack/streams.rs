#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! What a static-only endpoint does with the peer's QPACK encoder and decoder streams.
//!
//! We advertise `SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0`, and our own encoder never inserts into
//! the peer's table, so almost every instruction is a protocol violation:
//!
//! - Peer's encoder stream ([`EncoderStreamReceiver`]): `Set Dynamic Table Capacity 0` is
//!   accepted (Chromium sends it, `20`, on every connection). A larger capacity, any insert and
//!   any duplicate are QPACK_ENCODER_STREAM_ERROR.
//! - Peer's decoder stream ([`DecoderStreamReceiver`]): `Stream Cancellation` is ignored. A
//!   `Section Acknowledgment` (we never send a section with a nonzero Required Insert Count) and
//!   an `Insert Count Increment` (zero is always invalid, and anything else exceeds the zero
//!   entries we inserted) are QPACK_DECODER_STREAM_ERROR.
//!
//! The stream type byte is not part of the data fed here. Closing either stream is
//! H3_CLOSED_CRITICAL_STREAM, which the HTTP/3 layer handles.

use super::Error;
use super::instructions::{
    DecoderInstruction, DecoderInstructionDecoder, EncoderInstruction, EncoderInstructionDecoder,
};

/// Receives the peer's QPACK encoder stream for a decoder whose table capacity is 0.
///
/// String literals are limited to 0 bytes: any insert would be rejected anyway, so a peer cannot
/// make us buffer more than the instruction header before the error (an insert with a non-empty
/// string fails with a "string literal longer than the limit" reason, still
/// QPACK_ENCODER_STREAM_ERROR). After an error, every later call returns the same error.
#[derive(Clone, Debug)]
pub struct EncoderStreamReceiver {
    decoder: EncoderInstructionDecoder,
    failed: Option<Error>,
}

impl Default for EncoderStreamReceiver {
    fn default() -> Self {
        Self {
            decoder: EncoderInstructionDecoder::new(0),
            failed: None,
        }
    }
}

impl EncoderStreamReceiver {
    /// Creates a receiver for a zero-capacity table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Processes the next chunk of the peer's encoder stream (after the type byte).
    ///
    /// Returns [`Error::EncoderStream`] for a malformed instruction, a capacity above 0, or any
    /// insert or duplicate.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), Error> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.decoder.feed(data).and_then(|instructions| {
            instructions
                .iter()
                .try_for_each(|instruction| match instruction {
                    // We advertise SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0: only 0 is within it.
                    EncoderInstruction::SetCapacity(0) => Ok(()),
                    EncoderInstruction::SetCapacity(_) => Err(Error::EncoderStream(
                        "dynamic table capacity above our maximum of 0",
                    )),
                    EncoderInstruction::InsertWithNameRef { .. }
                    | EncoderInstruction::InsertWithLiteralName { .. } => Err(
                        Error::EncoderStream("insert into a dynamic table of capacity 0"),
                    ),
                    EncoderInstruction::Duplicate(_) => Err(Error::EncoderStream(
                        "duplicate of an entry in an empty dynamic table",
                    )),
                })
        });
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    /// The bytes held for an incomplete instruction (a FIN with this nonzero is a truncated
    /// instruction, although the stream's closure is an error in any case).
    pub fn buffered(&self) -> usize {
        self.decoder.buffered()
    }
}

/// Receives the peer's QPACK decoder stream for an encoder that never uses the dynamic table.
///
/// After an error, every later call returns the same error.
#[derive(Clone, Debug, Default)]
pub struct DecoderStreamReceiver {
    decoder: DecoderInstructionDecoder,
    failed: Option<Error>,
}

impl DecoderStreamReceiver {
    /// Creates a receiver.
    pub fn new() -> Self {
        Self::default()
    }

    /// Processes the next chunk of the peer's decoder stream (after the type byte).
    ///
    /// Stream Cancellations are ignored. Returns [`Error::DecoderStream`] for a malformed
    /// instruction, any Section Acknowledgment and any Insert Count Increment.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), Error> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.decoder.feed(data).and_then(|instructions| {
            instructions
                .iter()
                .try_for_each(|instruction| match instruction {
                    DecoderInstruction::StreamCancel(_) => Ok(()),
                    DecoderInstruction::SectionAck(_) => Err(Error::DecoderStream(
                        "Section Acknowledgment, but no field section used the dynamic table",
                    )),
                    DecoderInstruction::InsertCountIncrement(_) => Err(Error::DecoderStream(
                        "Insert Count Increment, but nothing was inserted",
                    )),
                })
        });
        if let Err(error) = &result {
            self.failed = Some(error.clone());
        }
        result
    }

    /// The bytes held for an incomplete instruction.
    pub fn buffered(&self) -> usize {
        self.decoder.buffered()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use bytes::Bytes;

    #[test]
    fn chromium_encoder_stream_accepted() {
        // Chromium: `02 20`; we get the bytes after the type byte.
        let mut receiver = EncoderStreamReceiver::new();
        assert_eq!(receiver.feed(&[0x20]), Ok(()));
        assert_eq!(receiver.buffered(), 0);
        // Firefox: `02` only, i.e. no data at all.
        let mut receiver = EncoderStreamReceiver::new();
        assert_eq!(receiver.feed(&[]), Ok(()));
        // Repeated capacity 0, and a non-minimal encoding of 0... is impossible (0 < 31), but a
        // chunk with several instructions works, one byte at a time too.
        let mut receiver = EncoderStreamReceiver::new();
        for _ in 0..10 {
            assert_eq!(receiver.feed(&[0x20]), Ok(()));
        }
        assert_eq!(receiver.feed(&[0x20, 0x20, 0x20]), Ok(()));
    }

    #[test]
    fn encoder_stream_rejections() {
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("capacity 1", vec![0x21]),
            ("capacity 65536", {
                let mut out = Vec::new();
                EncoderInstruction::SetCapacity(65536).encode(&mut out);
                out
            }),
            ("insert static name ref, empty value", vec![0xc0, 0x00]),
            ("insert static name ref, value", vec![0xc0, 0x01, b'a']),
            ("insert dynamic name ref", vec![0x80, 0x00]),
            ("insert literal name", vec![0x41, b'a', 0x00]),
            ("insert literal name, empty", vec![0x40, 0x00]),
            ("duplicate", vec![0x00]),
            ("duplicate 5", vec![0x05]),
            (
                "over-long integer",
                [0x3f].into_iter().chain([0xff; 11]).collect(),
            ),
        ];
        let mut out = Vec::new();
        EncoderInstruction::InsertWithLiteralName {
            name: Bytes::from_static(b"custom-key"),
            value: Bytes::from_static(b"custom-value"),
        }
        .encode(&mut out);
        cases.push(("insert with Huffman strings", out));
        for (name, bytes) in cases {
            let mut receiver = EncoderStreamReceiver::new();
            let err = receiver.feed(&bytes).unwrap_err();
            assert_eq!(err.code(), 0x201, "{name}");
            // Sticky.
            assert_eq!(receiver.feed(&[0x20]), Err(err.clone()), "{name}");
            // One byte at a time: the error comes at the latest with the last byte.
            let mut receiver = EncoderStreamReceiver::new();
            let mut result = Ok(());
            for b in &bytes {
                result = receiver.feed(std::slice::from_ref(b));
                if result.is_err() {
                    break;
                }
            }
            assert_eq!(result.unwrap_err().code(), 0x201, "{name}");
            assert!(receiver.buffered() <= 12, "{name}");
        }
        // Capacity 0 followed by an insert in the same chunk.
        let mut receiver = EncoderStreamReceiver::new();
        assert!(receiver.feed(&[0x20, 0xc0, 0x00]).is_err());
    }

    #[test]
    fn decoder_stream_policy() {
        // Stream Cancellation is ignored, byte by byte or in one go.
        let mut receiver = DecoderStreamReceiver::new();
        assert_eq!(receiver.feed(&[0x48, 0x40, 0x7f]), Ok(()));
        assert_eq!(receiver.buffered(), 1);
        assert_eq!(receiver.feed(&[0x81]), Ok(()));
        assert_eq!(receiver.feed(&[0x01]), Ok(()));
        assert_eq!(receiver.buffered(), 0);
        assert_eq!(receiver.feed(&[]), Ok(()));

        let cases: &[(&str, &[u8])] = &[
            ("section ack (browsers' `80`)", &[0x80]),
            ("section ack 4", &[0x84]),
            ("insert count increment 0", &[0x00]),
            ("insert count increment 1", &[0x01]),
            ("cancel then ack", &[0x48, 0x80]),
            ("malformed integer", &[0xff; 12]),
        ];
        for &(name, bytes) in cases {
            let mut receiver = DecoderStreamReceiver::new();
            let err = receiver.feed(bytes).unwrap_err();
            assert_eq!(err.code(), 0x202, "{name}");
            assert_eq!(receiver.feed(&[0x48]), Err(err), "{name}");
        }
    }

    #[test]
    fn random_cancellations_accepted() {
        let mut rng = Rng::new(3);
        let mut bytes = Vec::new();
        for _ in 0..2000 {
            let id = rng.next_u64() & ((1 << rng.below(63)) - 1);
            DecoderInstruction::StreamCancel(id).encode(&mut bytes);
        }
        let mut receiver = DecoderStreamReceiver::new();
        for chunk in bytes.chunks(7) {
            assert_eq!(receiver.feed(chunk), Ok(()));
        }
        assert_eq!(receiver.buffered(), 0);
    }
}
