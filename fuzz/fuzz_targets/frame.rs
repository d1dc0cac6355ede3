//! HTTP/3 frame decoder: arbitrary bytes, fed in fuzzer-chosen pieces, never panic; DATA payload
//! never exceeds its announced length; every complete frame other than DATA and skipped
//! unknown/reserved ones re-encodes with `Frame::encode` and decodes again to the same `Frame`.
#![no_main]

use arbitrary::Arbitrary;
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use wt_proto::frame::{Frame, FrameDecoder, FrameEvent};

#[derive(Arbitrary, Debug)]
struct Input {
    wt_signal_allowed: bool,
    max_payload: u16,
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

fn check_round_trip(frame: &Frame, max_payload: usize) {
    if matches!(frame, Frame::Unknown(_) | Frame::ReservedHttp2(_)) {
        return; // their payload is skipped, not kept
    }
    let mut wire = BytesMut::new();
    frame.encode(&mut wire);
    let mut wire = wire.freeze();
    let mut d = FrameDecoder::new(max_payload, true);
    let again = d.decode(&mut wire).expect("re-encoded frame decodes");
    assert_eq!(again, Some(FrameEvent::Frame(frame.clone())));
    assert!(wire.is_empty() && d.is_idle());
}

fuzz_target!(|input: Input| {
    let max_payload = usize::from(input.max_payload);
    let mut d = FrameDecoder::new(max_payload, input.wt_signal_allowed);
    let mut data_left = 0u64;
    for mut piece in pieces(&input.data, &input.splits) {
        loop {
            let event = match d.decode(&mut piece) {
                Ok(Some(event)) => event,
                Ok(None) => break,
                Err(_) => return,
            };
            match event {
                FrameEvent::HeadersTooLarge(len) => {
                    assert_eq!(data_left, 0);
                    assert!(len > max_payload as u64);
                }
                FrameEvent::DataHeader(len) => {
                    assert_eq!(data_left, 0);
                    data_left = len;
                }
                FrameEvent::Data(chunk) => {
                    assert!(!chunk.is_empty());
                    data_left = data_left
                        .checked_sub(chunk.len() as u64)
                        .expect("DATA payload longer than announced");
                }
                FrameEvent::Frame(frame) => {
                    assert_eq!(data_left, 0);
                    assert!(!matches!(frame, Frame::Data(_)));
                    check_round_trip(&frame, max_payload);
                }
            }
        }
    }
    let _ = d.finish();
});
