//! QPACK encoder/decoder stream instructions: the incremental decoders never panic on arbitrary
//! chunks; feeding the chunks one by one gives the same instructions as feeding them joined;
//! every decoded instruction round-trips through `encode` + decode; the static-only stream
//! receivers accept exactly what their rules allow (only `SetCapacity(0)` on the encoder
//! stream, only `StreamCancel` on the decoder stream) and stay failed after an error.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wt_proto::qpack::instructions::{
    DecoderInstruction, DecoderInstructionDecoder, EncoderInstruction, EncoderInstructionDecoder,
};
use wt_proto::qpack::{DecoderStreamReceiver, EncoderStreamReceiver, Error};

#[derive(Arbitrary, Debug)]
struct Input {
    max_string_len: u16,
    encoder_stream: Vec<Vec<u8>>,
    decoder_stream: Vec<Vec<u8>>,
}

/// Feeds `chunks` to `feed` until an error; returns everything decoded and whether it failed.
fn feed_all<T>(
    chunks: &[Vec<u8>],
    mut feed: impl FnMut(&[u8]) -> Result<Vec<T>, Error>,
) -> (Vec<T>, bool) {
    let mut out = Vec::new();
    for chunk in chunks {
        match feed(chunk) {
            Ok(v) => out.extend(v),
            Err(_) => return (out, true),
        }
    }
    (out, false)
}

fn encoder_side(chunks: &[Vec<u8>], max: usize) {
    let mut d = EncoderInstructionDecoder::new(max);
    let (instructions, failed) = feed_all(chunks, |c| d.feed(c));
    // The same bytes in one piece.
    let mut whole = EncoderInstructionDecoder::new(max);
    match whole.feed(&chunks.concat()) {
        Ok(v) => {
            assert!(!failed, "chunked failed, joined did not");
            assert_eq!(v, instructions);
            assert_eq!(whole.buffered(), d.buffered());
        }
        Err(_) => assert!(failed, "joined failed, chunked did not"),
    }
    for i in &instructions {
        let mut wire = Vec::new();
        i.encode(&mut wire);
        let mut fresh = EncoderInstructionDecoder::new(max);
        assert_eq!(
            fresh.feed(&wire).expect("re-encoded instruction decodes"),
            vec![i.clone()]
        );
        assert_eq!(fresh.buffered(), 0);
    }

    // The receiver (string limit 0) against the plain decoder with the same limit.
    let mut r = EncoderStreamReceiver::new();
    let mut reference = EncoderInstructionDecoder::new(0);
    let mut failed = false;
    for chunk in chunks {
        let expect_ok = !failed
            && reference
                .feed(chunk)
                .is_ok_and(|v| v.iter().all(|i| *i == EncoderInstruction::SetCapacity(0)));
        let got = r.feed(chunk);
        assert_eq!(got.is_ok(), expect_ok);
        if let Err(e) = got {
            assert_eq!(e.code(), Error::QPACK_ENCODER_STREAM_ERROR);
            failed = true;
        }
    }
    if failed {
        assert!(r.feed(&[0x20]).is_err(), "a failed receiver stays failed");
    }
}

fn decoder_side(chunks: &[Vec<u8>]) {
    let mut d = DecoderInstructionDecoder::new();
    let (instructions, failed) = feed_all(chunks, |c| d.feed(c));
    let mut whole = DecoderInstructionDecoder::new();
    match whole.feed(&chunks.concat()) {
        Ok(v) => {
            assert!(!failed, "chunked failed, joined did not");
            assert_eq!(v, instructions);
            assert_eq!(whole.buffered(), d.buffered());
        }
        Err(_) => assert!(failed, "joined failed, chunked did not"),
    }
    for i in &instructions {
        let mut wire = Vec::new();
        i.encode(&mut wire);
        let mut fresh = DecoderInstructionDecoder::new();
        assert_eq!(
            fresh.feed(&wire).expect("re-encoded instruction decodes"),
            vec![*i]
        );
        assert_eq!(fresh.buffered(), 0);
    }

    let mut r = DecoderStreamReceiver::new();
    let mut reference = DecoderInstructionDecoder::new();
    let mut failed = false;
    for chunk in chunks {
        let expect_ok = !failed
            && reference.feed(chunk).is_ok_and(|v| {
                v.iter()
                    .all(|i| matches!(i, DecoderInstruction::StreamCancel(_)))
            });
        let got = r.feed(chunk);
        assert_eq!(got.is_ok(), expect_ok);
        if let Err(e) = got {
            assert_eq!(e.code(), Error::QPACK_DECODER_STREAM_ERROR);
            failed = true;
        }
    }
    if failed {
        assert!(r.feed(&[0x40]).is_err(), "a failed receiver stays failed");
    }
}

fuzz_target!(|input: Input| {
    encoder_side(&input.encoder_stream, usize::from(input.max_string_len));
    decoder_side(&input.decoder_stream);
});
