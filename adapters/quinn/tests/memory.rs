//! A client whose application does not read while the server writes 256 MiB: QUIC flow control
//! holds the sender, so the process's peak memory stays bounded. Runs alone in its own test
//! binary so that its peak RSS (VmHWM) is its own.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn slow_reader_keeps_memory_bounded() {
    const TOTAL: usize = 256 << 20;
    const CHUNK: usize = 1 << 20;
    within(100, async {
        let (endpoint, addr, hash) = bare_server(Default::default());
        let baseline = status_kib("VmRSS:");
        let writer = tokio::spawn(async move {
            let session = endpoint.accept().await.unwrap().accept().unwrap();
            let mut send = session.open_uni().await.unwrap();
            // One 1 MiB buffer written 256 times: the sender itself holds no copies.
            let chunk = Bytes::from(pattern(CHUNK, 1));
            for _ in 0..TOTAL / CHUNK {
                send.write_chunk(chunk.clone()).await.unwrap();
            }
            send.finish().unwrap();
            session.closed().await;
            endpoint
        });
        let config = wt_quinn::tls::client_config_with_hashes(vec![hash]).unwrap();
        let client = wt_quinn::Endpoint::client("127.0.0.1:0".parse().unwrap(), config).unwrap();
        let session = client
            .connect(&format!("https://localhost:{}/bulk", addr.port()))
            .await
            .unwrap();
        let mut recv = session.accept_uni().await.unwrap();
        // The application does not read for a while; the server keeps trying to write.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let stalled = status_kib("VmHWM:");
        assert!(!writer.is_finished(), "the writer cannot finish while nobody reads");
        // Now read everything and check it.
        let mut expected = pattern(CHUNK, 1);
        expected.extend_from_within(..);
        let mut total = 0usize;
        while let Some(c) = recv.read_chunk(CHUNK).await.unwrap() {
            let at = total % CHUNK;
            assert!(c[..] == expected[at..at + c.len()], "bytes at {total} differ");
            total += c.len();
        }
        assert_eq!(total, TOTAL);
        let peak = status_kib("VmHWM:");
        println!(
            "slow reader: baseline RSS {} MiB, peak while stalled {} MiB, peak overall {} MiB, growth {} MiB",
            baseline / 1024,
            stalled / 1024,
            peak / 1024,
            peak.saturating_sub(baseline) / 1024
        );
        assert!(
            peak.saturating_sub(baseline) < 200 * 1024,
            "peak RSS grew by {} MiB",
            peak.saturating_sub(baseline) / 1024
        );
        session.close(0, "");
        writer.await.unwrap();
    })
    .await;
}
