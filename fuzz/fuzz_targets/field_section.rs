//! QPACK field sections (static-only): `decode_field_section` never panics and respects its size
//! limit; decoded field lines re-encode with `encode_field_section` and decode to the same lines.
#![no_main]

use arbitrary::Arbitrary;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use wt_proto::qpack::{decode_field_section, encode_field_section};

#[derive(Arbitrary, Debug)]
struct Input {
    /// `None` means no limit.
    max_size: Option<u16>,
    data: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let limit = input.max_size.map_or(u64::MAX, u64::from);
    let Ok(lines) = decode_field_section(&input.data, limit) else {
        return;
    };
    let size: u64 = lines.iter().map(|l| l.size()).sum();
    assert!(size <= limit);

    let mut wire = BytesMut::new();
    encode_field_section(&lines, &mut wire);
    let again = decode_field_section(&wire, u64::MAX).expect("re-encoded section decodes");
    assert_eq!(again, lines);
    // The encoding is a pure function of the lines.
    let mut wire2 = BytesMut::new();
    encode_field_section(&again, &mut wire2);
    assert_eq!(wire, wire2);
});
