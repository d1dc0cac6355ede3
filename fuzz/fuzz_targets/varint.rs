//! QUIC varints: whatever `peek` decodes re-encodes in shortest form and decodes to the same
//! value; `decode` agrees with `peek`; the incremental `VarIntReader`, fed one byte at a time,
//! yields the same sequence of values as repeated `peek`. Also checks that the unidirectional
//! stream header reader gives the same result fed whole or byte by byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wt_proto::stream_header::UniHeaderReader;
use wt_proto::varint::{self, VarIntReader};

fuzz_target!(|data: &[u8]| {
    // Single value at the start of the input.
    if let Some((v, len)) = varint::peek(data) {
        assert!(v <= varint::MAX);
        assert_eq!(len, varint::len_from_first_byte(data[0]));
        let enc = varint::to_vec(v);
        assert_eq!(enc.len(), varint::encoded_len(v));
        assert!(enc.len() <= len, "shortest form is never longer");
        assert_eq!(varint::peek(&enc), Some((v, enc.len())));
        let mut s = data;
        assert_eq!(varint::decode(&mut s), Some(v));
        assert_eq!(s.len(), data.len() - len);
    } else {
        let mut s = data;
        assert_eq!(varint::decode(&mut s), None);
        assert_eq!(s.len(), data.len(), "a truncated varint consumes nothing");
    }

    // The whole input as a sequence of varints: peek vs byte-by-byte VarIntReader.
    let mut expected = Vec::new();
    let mut rest = data;
    while let Some((v, len)) = varint::peek(rest) {
        expected.push(v);
        rest = &rest[len..];
    }
    let mut reader = VarIntReader::new();
    let mut got = Vec::new();
    for &b in data {
        if let Some(v) = reader.read(&mut &[b][..]) {
            got.push(v);
        }
    }
    assert_eq!(got, expected);
    assert_eq!(reader.is_partial(), !rest.is_empty());

    // Unidirectional stream header: whole vs one byte at a time, then re-encoding.
    let mut whole = data;
    let a = UniHeaderReader::new().read(&mut whole);
    let mut r = UniHeaderReader::new();
    let mut b = None;
    let mut used = 0;
    for &byte in data {
        used += 1;
        b = r.read(&mut &[byte][..]);
        if b.is_some() {
            break;
        }
    }
    assert_eq!(a, b);
    if let Some(h) = a {
        assert_eq!(whole.len(), data.len() - used);
        let enc = h.to_bytes();
        assert_eq!(UniHeaderReader::new().read(&mut &enc[..]), Some(h));
    }
});
