//! SETTINGS payloads: `Settings::decode` never panics; a decoded value encodes to exactly
//! `encoded_len` bytes that decode to an equal value; `negotiate` on two decoded settings (both
//! ways round) never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wt_proto::settings::{self, Settings};

fn decode_checked(payload: &[u8]) -> Option<Settings> {
    let s = Settings::decode(payload).ok()?;
    let mut wire = Vec::new();
    s.encode(&mut wire);
    assert_eq!(wire.len(), s.encoded_len());
    assert!(wire.len() <= payload.len(), "shortest-form encoding");
    let again = Settings::decode(&wire).expect("re-encoded settings decode");
    assert_eq!(again, s);
    assert_eq!(again.len(), s.len());
    Some(s)
}

fuzz_target!(|input: (Vec<u8>, Vec<u8>)| {
    let a = decode_checked(&input.0);
    let b = decode_checked(&input.1);
    if let (Some(a), Some(b)) = (a, b) {
        let _ = settings::negotiate(&a, &b);
        let _ = settings::negotiate(&b, &a);
        let _ = settings::negotiate(&a, &a);
    }
});
