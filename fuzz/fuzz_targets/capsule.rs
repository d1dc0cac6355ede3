//! Capsule decoder: arbitrary bytes, fed in fuzzer-chosen pieces, never panic; every decoded
//! capsule other than `Unknown` re-encodes and decodes again to the same value.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wt_proto::capsule::{Capsule, CapsuleDecoder};

#[derive(Arbitrary, Debug)]
struct Input {
    max_datagram: u16,
    splits: Vec<u8>,
    data: Vec<u8>,
}

/// Cuts `data` into pieces of the given sizes, the rest as a last piece.
fn pieces(data: &[u8], splits: &[u8]) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut rest = data;
    for &n in splits {
        let (a, b) = rest.split_at((n as usize).min(rest.len()));
        out.push(Bytes::copy_from_slice(a));
        rest = b;
    }
    out.push(Bytes::copy_from_slice(rest));
    out
}

fuzz_target!(|input: Input| {
    let max_datagram = usize::from(input.max_datagram);
    let mut d = CapsuleDecoder::new(max_datagram);
    for mut piece in pieces(&input.data, &input.splits) {
        loop {
            let capsule = match d.decode(&mut piece) {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(_) => return,
            };
            if matches!(capsule, Capsule::Unknown { .. }) {
                continue; // its value is skipped, not kept
            }
            let mut wire = capsule.to_bytes();
            let mut fresh = CapsuleDecoder::new(max_datagram);
            let again = fresh.decode(&mut wire).expect("re-encoded capsule decodes");
            assert_eq!(again, Some(capsule));
            assert!(wire.is_empty() && fresh.is_idle());
        }
        assert!(piece.is_empty(), "the decoder consumes every piece");
    }
    let _ = d.finish();
});
