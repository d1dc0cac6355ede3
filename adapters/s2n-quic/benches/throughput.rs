//! Throughput of one bidi stream over UDP loopback: raw s2n-quic streams against wt-s2n-quic
//! (engine + driver + wt-session), on the same tokio runtime, with the same transport limits,
//! sending the same bytes in 64 KiB chunks. Prints both rates and their ratio.
//!
//! ```text
//! cargo bench -p wt-s2n-quic --bench throughput            # 256 MiB per run, 3 runs
//! WT_BENCH_MIB=64 WT_BENCH_RUNS=5 cargo bench -p wt-s2n-quic --bench throughput
//! cargo test -p wt-s2n-quic --bench throughput             # smoke test: 2 MiB, one run
//! ```
//!
//! Without `--bench` in its arguments (which `cargo bench` passes and `cargo test
//! --all-targets` does not) this is a smoke test: 2 MiB, one run, no warm-up, still checking
//! that every byte arrived. `WT_BENCH_MIB` and `WT_BENCH_RUNS` apply in both modes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use s2n_quic::client::Connect;
use wt_s2n_quic::{Endpoint, tls};

const CHUNK: usize = 64 * 1024;

fn chunk() -> Bytes {
    Bytes::from((0..CHUNK).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
}

fn pems(c: &tls::SelfSigned) -> (String, String) {
    let cert = pem::encode(&pem::Pem::new("CERTIFICATE", c.cert.to_vec()));
    let key = pem::encode(&pem::Pem::new("PRIVATE KEY", c.key.secret_der().to_vec()));
    (cert, key)
}

/// Raw s2n-quic: the client sends `total` bytes on a bidi stream; the time until the server
/// has read them all.
async fn raw(total: usize) -> Duration {
    let c = tls::self_signed().unwrap();
    let (cert, key) = pems(&c);
    let server_tls = s2n_quic::provider::tls::default::Server::builder()
        .with_certificate(cert.as_str(), key.as_str())
        .unwrap()
        .with_application_protocols(["h3"].iter())
        .unwrap()
        .build()
        .unwrap();
    let mut server = s2n_quic::Server::builder()
        .with_tls(server_tls)
        .unwrap()
        .with_io("127.0.0.1:0")
        .unwrap()
        .with_limits(tls::limits())
        .unwrap()
        .start()
        .unwrap();
    let addr = server.local_addr().unwrap();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut conn = server.accept().await.unwrap();
        let mut stream = conn.accept_bidirectional_stream().await.unwrap().unwrap();
        let mut got = 0usize;
        while let Some(b) = stream.receive().await.unwrap() {
            got += b.len();
        }
        let _ = done_tx.send((got, Instant::now()));
        // Keep the connection until the client is done.
        let _ = conn.accept_bidirectional_stream().await;
    });
    let client_tls = s2n_quic::provider::tls::default::Client::builder()
        .with_certificate(cert.as_str())
        .unwrap()
        .with_application_protocols(["h3"].iter())
        .unwrap()
        .build()
        .unwrap();
    let client = s2n_quic::Client::builder()
        .with_tls(client_tls)
        .unwrap()
        .with_io("127.0.0.1:0")
        .unwrap()
        .with_limits(tls::limits())
        .unwrap()
        .start()
        .unwrap();
    let mut conn = client
        .connect(Connect::new(addr).with_server_name("localhost"))
        .await
        .unwrap();
    let mut stream = conn.open_bidirectional_stream().await.unwrap();
    let data = chunk();
    let start = Instant::now();
    let mut sent = 0;
    while sent < total {
        stream.send(data.clone()).await.unwrap();
        sent += CHUNK;
    }
    stream.finish().unwrap();
    let (got, end) = done_rx.await.unwrap();
    assert_eq!(got, sent);
    conn.close(0u32.into());
    end.duration_since(start)
}

/// wt-s2n-quic: the same over a WebTransport session's bidi stream.
async fn wt(total: usize) -> Duration {
    let c = tls::self_signed().unwrap();
    let sc = tls::server_config(vec![c.cert.clone()], c.key.clone_key()).unwrap();
    let server = Endpoint::server("127.0.0.1:0".parse().unwrap(), sc).unwrap();
    let addr: SocketAddr = server.local_addr();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let srv = server.clone();
    tokio::spawn(async move {
        let session = srv.accept().await.unwrap().accept().unwrap();
        let (_send, mut recv) = session.accept_bi().await.unwrap();
        let mut got = 0usize;
        while let Some(b) = recv.read_chunk(usize::MAX).await.unwrap() {
            got += b.len();
        }
        let _ = done_tx.send((got, Instant::now()));
        session.closed().await;
    });
    let cc = tls::client_config_trusting(std::slice::from_ref(&c.cert)).unwrap();
    let client = Endpoint::client("127.0.0.1:0".parse().unwrap(), cc).unwrap();
    let session = client
        .connect(&format!("https://localhost:{}/bench", addr.port()))
        .await
        .unwrap();
    let (mut send, _recv) = session.open_bi().await.unwrap();
    let data = chunk();
    let start = Instant::now();
    let mut sent = 0;
    while sent < total {
        send.write_chunk(data.clone()).await.unwrap();
        sent += CHUNK;
    }
    send.finish().unwrap();
    let (got, end) = done_rx.await.unwrap();
    assert_eq!(got, sent);
    session.close(0, "");
    end.duration_since(start)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs a smoke test instead.
    let full = std::env::args().any(|a| a == "--bench");
    let mib: usize = std::env::var("WT_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 256 } else { 2 });
    let runs: usize = std::env::var("WT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 3 } else { 1 })
        .max(1);
    if !full {
        println!("smoke test ({mib} MiB, {runs} run(s)); `cargo bench` measures at full size");
    }
    let total = mib << 20;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut raws = Vec::new();
        let mut wts = Vec::new();
        // Warm up once, then alternate so that both see the same machine state.
        if full {
            let _ = raw(total.min(16 << 20)).await;
            let _ = wt(total.min(16 << 20)).await;
        }
        for i in 0..runs {
            let r = total as f64 / 1e6 / raw(total).await.as_secs_f64();
            let w = total as f64 / 1e6 / wt(total).await.as_secs_f64();
            println!("run {i}: raw s2n-quic {r:.1} MB/s, wt-s2n-quic {w:.1} MB/s");
            raws.push(r);
            wts.push(w);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        // The machine is shared: the median of the per-run ratios (each pair ran back to back)
        // is steadier than the ratio of the medians.
        let mut ratios: Vec<f64> = wts.iter().zip(&raws).map(|(w, r)| w / r).collect();
        let (r, w) = (median(&mut raws), median(&mut wts));
        println!(
            "one bidi stream, {mib} MiB, median of {runs}: raw s2n-quic {r:.1} MB/s, wt-s2n-quic {w:.1} MB/s, ratio {:.3}, median per-run ratio {:.3}",
            w / r,
            median(&mut ratios)
        );
    });
}
