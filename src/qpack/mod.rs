#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! QPACK (RFC 9204) in static-only mode.
//!
//! This endpoint advertises `SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0` and
//! `SETTINGS_QPACK_BLOCKED_STREAMS = 0`, so neither side may ever use a dynamic table:
//!
//! - [`decode_field_section`] parses every field line representation of RFC 9204 §4.5 and
//!   rejects any reference to the dynamic table with [`Error::DecompressionFailed`].
//! - [`encode_field_section`] only emits the `00 00` prefix, static references and literals.
//! - [`EncoderStreamReceiver`] consumes the peer's encoder stream (only `Set Dynamic Table
//!   Capacity 0` is acceptable) and [`DecoderStreamReceiver`] consumes the peer's decoder stream
//!   (only `Stream Cancellation` is acceptable, because our encoder never inserts).
//!
//! The building blocks are public too: [`static_table`], [`prefix_int`] (RFC 7541 §5.1),
//! [`huffman`] (RFC 7541 Appendix B), [`string`] (string literals) and [`instructions`]
//! (encoder and decoder stream instructions with incremental decoders).
//!
//! Nothing in this module panics on peer input: every integer is bounded to 62 bits, every length
//! is checked against the input before use, and all arithmetic is checked.

use bytes::Bytes;

pub mod field;
pub mod huffman;
pub mod instructions;
pub mod prefix_int;
pub mod static_table;
pub mod streams;
pub mod string;

pub use field::{decode_field_section, encode_field_section};
pub use huffman::HuffmanError;
pub use instructions::{
    DecoderInstruction, DecoderInstructionDecoder, EncoderInstruction, EncoderInstructionDecoder,
};
pub use prefix_int::PrefixIntError;
pub use static_table::{STATIC_TABLE, StaticMatch};
pub use streams::{DecoderStreamReceiver, EncoderStreamReceiver};
pub use string::StringError;

/// The per-line overhead that RFC 9114 §4.2.2 adds to each field line when computing the size of
/// a field section (the same 32 octets as the HPACK/QPACK entry size).
pub const FIELD_LINE_OVERHEAD: u64 = 32;

/// One field line of a field section: a name and a value, as raw bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldLine {
    /// The field name (lowercase on the wire in HTTP/3).
    pub name: Bytes,
    /// The field value.
    pub value: Bytes,
}

impl FieldLine {
    /// Creates a field line from anything convertible into [`Bytes`] (`&'static str`,
    /// `&'static [u8]`, `Vec<u8>`, `String`, `Bytes`).
    pub fn new(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }

    /// The size of this line as counted against `SETTINGS_MAX_FIELD_SECTION_SIZE`
    /// (RFC 9114 §4.2.2): name length + value length + 32, saturating at `u64::MAX`.
    pub fn size(&self) -> u64 {
        let name = u64::try_from(self.name.len()).unwrap_or(u64::MAX);
        let value = u64::try_from(self.value.len()).unwrap_or(u64::MAX);
        name.saturating_add(value)
            .saturating_add(FIELD_LINE_OVERHEAD)
    }
}

/// A QPACK error, carrying the HTTP/3 error code to close the connection with.
///
/// The `&'static str` payloads describe what was wrong, for logs; they are not sent on the wire.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A field section could not be decoded: malformed, truncated, or it referenced the dynamic
    /// table, which has capacity 0 here. Connection error QPACK_DECOMPRESSION_FAILED (0x200).
    #[error("QPACK decompression failed: {0}")]
    DecompressionFailed(&'static str),
    /// The decoded field section is larger than the `max_size` the caller allowed (RFC 9114
    /// §4.2.2 size: name + value + 32 per line). Decoding stops as soon as the limit is crossed.
    ///
    /// This is a local limit rather than a protocol violation, so it is a separate variant: a
    /// server may prefer to answer 431 or reset just the request stream. [`Error::code`] maps it
    /// to QPACK_DECOMPRESSION_FAILED (0x200) for callers that treat it as a connection error.
    #[error("field section exceeds the size limit of {limit} bytes")]
    FieldSectionTooLarge {
        /// The limit that was exceeded.
        limit: u64,
    },
    /// The peer's encoder stream was malformed or asked for something a zero-capacity table
    /// cannot do. Connection error QPACK_ENCODER_STREAM_ERROR (0x201).
    #[error("QPACK encoder stream error: {0}")]
    EncoderStream(&'static str),
    /// The peer's decoder stream was malformed or acknowledged something we never sent.
    /// Connection error QPACK_DECODER_STREAM_ERROR (0x202).
    #[error("QPACK decoder stream error: {0}")]
    DecoderStream(&'static str),
}

impl Error {
    /// QPACK_DECOMPRESSION_FAILED (RFC 9204 §6).
    pub const QPACK_DECOMPRESSION_FAILED: u64 = 0x200;
    /// QPACK_ENCODER_STREAM_ERROR (RFC 9204 §6).
    pub const QPACK_ENCODER_STREAM_ERROR: u64 = 0x201;
    /// QPACK_DECODER_STREAM_ERROR (RFC 9204 §6).
    pub const QPACK_DECODER_STREAM_ERROR: u64 = 0x202;

    /// The HTTP/3 application error code for this error: 0x200, 0x201 or 0x202.
    pub fn code(&self) -> u64 {
        match self {
            Error::DecompressionFailed(_) | Error::FieldSectionTooLarge { .. } => {
                Self::QPACK_DECOMPRESSION_FAILED
            }
            Error::EncoderStream(_) => Self::QPACK_ENCODER_STREAM_ERROR,
            Error::DecoderStream(_) => Self::QPACK_DECODER_STREAM_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes() {
        assert_eq!(Error::DecompressionFailed("x").code(), 0x200);
        assert_eq!(Error::FieldSectionTooLarge { limit: 1 }.code(), 0x200);
        assert_eq!(Error::EncoderStream("x").code(), 0x201);
        assert_eq!(Error::DecoderStream("x").code(), 0x202);
    }

    #[test]
    fn field_line_size() {
        let line = FieldLine::new(":status", "200");
        assert_eq!(line.size(), 7 + 3 + 32);
        assert_eq!(FieldLine::new(Bytes::new(), Vec::new()).size(), 32);
    }
}
