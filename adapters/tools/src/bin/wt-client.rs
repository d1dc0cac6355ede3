//! A WebTransport client that checks the demo server's echo: datagrams, uni and bidi streams.
//!
//! ```text
//! cargo run -p wt-tools --bin wt-client -- --url https://127.0.0.1:4433/echo --cert-hash HEX \
//!     [--backend quinn|s2n-quic]
//! ```
//!
//! Prints per mode what was sent, what came back and the throughput; exits 1 on any mismatch,
//! 2 when it cannot connect.

use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use wt_session::Session;
use wt_tools::{Backend, ClientError, Trust};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    Datagram,
    Uni,
    Bidi,
    All,
}

#[derive(Parser, Debug)]
#[command(about = "WebTransport echo client")]
struct Args {
    /// The QUIC stack.
    #[arg(long, value_enum, default_value_t = Backend::Quinn)]
    backend: Backend,
    /// The session URL.
    #[arg(long, default_value = "https://127.0.0.1:4433/echo")]
    url: String,
    /// What to exercise.
    #[arg(long, value_enum, default_value = "all")]
    mode: Mode,
    /// Bytes per datagram or stream (datagrams are capped at the session's limit).
    #[arg(long, default_value_t = 1000)]
    payload: usize,
    /// How many datagrams or streams per mode.
    #[arg(long, default_value_t = 10)]
    count: usize,
    /// Accept only the server certificate with this SHA-256 (hex); without it, the system's
    /// root certificates are used.
    #[arg(long)]
    cert_hash: Option<String>,
}

fn pattern(len: usize, seed: u64) -> Bytes {
    (0..len)
        .map(|i| {
            ((i as u64)
                .wrapping_mul(31)
                .wrapping_add(seed.wrapping_mul(7))
                % 251) as u8
        })
        .collect()
}

fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for path in [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ] {
        if let Ok(iter) = CertificateDer::pem_file_iter(path) {
            for cert in iter.flatten() {
                let _ = roots.add(cert);
            }
            break;
        }
    }
    roots
}

fn mbps(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9)
}

async fn datagrams(session: &Session, payload: usize, count: usize) -> Result<bool, String> {
    let size = payload.min(session.max_datagram_size()).max(8);
    let start = Instant::now();
    let mut ok = 0;
    let mut bytes = 0;
    for i in 0..count {
        let mut data = pattern(size, i as u64).to_vec();
        data[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let data = Bytes::from(data);
        let mut matched = false;
        for _attempt in 0..5 {
            session
                .send_datagram(data.clone())
                .map_err(|e| e.to_string())?;
            match tokio::time::timeout(Duration::from_millis(500), async {
                loop {
                    let d = session.read_datagram().await?;
                    if d.len() >= 8 && d[..8] == data[..8] {
                        return Ok::<_, wt_session::Error>(d);
                    }
                }
            })
            .await
            {
                Ok(Ok(d)) => {
                    matched = d == data;
                    if !matched {
                        println!("datagram {i}: echo differs");
                    }
                    break;
                }
                Ok(Err(e)) => return Err(e.to_string()),
                Err(_) => continue,
            }
        }
        if matched {
            ok += 1;
            bytes += size;
        }
    }
    let t = start.elapsed();
    println!(
        "datagram: sent {count} x {size} bytes, {ok} echoed back intact, {:.2} MB/s round trip",
        mbps(bytes, t)
    );
    Ok(ok == count)
}

async fn uni(session: &Session, payload: usize, count: usize) -> Result<bool, String> {
    let start = Instant::now();
    let mut ok = 0;
    for i in 0..count {
        let data = pattern(payload, 1000 + i as u64);
        let mut send = session.open_uni().await.map_err(|e| e.to_string())?;
        // Write while reading the echo: the server echoes as it reads, so a client that reads
        // only after writing everything would stall both sides once flow control fills up.
        let writer = {
            let data = data.clone();
            tokio::spawn(async move {
                send.write_chunk(data).await?;
                send.finish()
            })
        };
        let mut recv = session.accept_uni().await.map_err(|e| e.to_string())?;
        let back = recv
            .read_to_end(payload + 1)
            .await
            .map_err(|e| e.to_string())?;
        writer
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if back == data {
            ok += 1;
        } else {
            println!(
                "uni stream {i}: sent {} bytes, got {} different bytes",
                data.len(),
                back.len()
            );
        }
    }
    let t = start.elapsed();
    println!(
        "uni: sent {count} streams x {payload} bytes, {ok} echoed back intact, {:.2} MB/s round trip",
        mbps(payload * count, t)
    );
    Ok(ok == count)
}

async fn bidi(session: &Session, payload: usize, count: usize) -> Result<bool, String> {
    let start = Instant::now();
    let mut ok = 0;
    for i in 0..count {
        let data = pattern(payload, 2000 + i as u64);
        let (mut send, mut recv) = session.open_bi().await.map_err(|e| e.to_string())?;
        let writer = {
            let data = data.clone();
            tokio::spawn(async move {
                send.write_chunk(data).await?;
                send.finish()
            })
        };
        let back = recv
            .read_to_end(payload + 1)
            .await
            .map_err(|e| e.to_string())?;
        writer
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        if back == data {
            ok += 1;
        } else {
            println!(
                "bidi stream {i}: sent {} bytes, got {} different bytes",
                data.len(),
                back.len()
            );
        }
    }
    let t = start.elapsed();
    println!(
        "bidi: sent {count} streams x {payload} bytes, {ok} echoed back intact, {:.2} MB/s round trip",
        mbps(payload * count, t)
    );
    Ok(ok == count)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = Args::parse();
    let trust = match &args.cert_hash {
        Some(h) => match wt_tools::parse_hash(h) {
            Some(hash) => Trust::Hashes(vec![hash]),
            None => {
                eprintln!("--cert-hash must be 64 hex digits");
                std::process::exit(2);
            }
        },
        None => Trust::Roots(system_roots()),
    };
    let bind = "0.0.0.0:0".parse().expect("address");
    let endpoint = wt_tools::client(args.backend, bind, trust).unwrap_or_else(|e| {
        match e {
            ClientError::Tls(e) => eprintln!("TLS configuration: {e}"),
            ClientError::Bind(e) => eprintln!("cannot bind: {e}"),
        }
        std::process::exit(2);
    });
    let session =
        match tokio::time::timeout(Duration::from_secs(10), endpoint.connect(&args.url)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                eprintln!("connect {}: {e}", args.url);
                std::process::exit(2);
            }
            Err(_) => {
                eprintln!("connect {}: timed out", args.url);
                std::process::exit(2);
            }
        };
    println!(
        "connected to {} (session {}, protocol {:?}, max datagram {})",
        args.url,
        session.id(),
        session.protocol(),
        session.max_datagram_size()
    );
    let modes: &[Mode] = match args.mode {
        Mode::All => &[Mode::Datagram, Mode::Uni, Mode::Bidi],
        Mode::Datagram => &[Mode::Datagram],
        Mode::Uni => &[Mode::Uni],
        Mode::Bidi => &[Mode::Bidi],
    };
    let mut all_ok = true;
    for mode in modes {
        let r = tokio::time::timeout(Duration::from_secs(120), async {
            match mode {
                Mode::Datagram => datagrams(&session, args.payload, args.count).await,
                Mode::Uni => uni(&session, args.payload, args.count).await,
                _ => bidi(&session, args.payload, args.count).await,
            }
        })
        .await;
        match r {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => all_ok = false,
            Ok(Err(e)) => {
                println!("{mode:?}: error: {e}");
                all_ok = false;
            }
            Err(_) => {
                println!("{mode:?}: timed out");
                all_ok = false;
            }
        }
    }
    session.close(0, "done");
    let _ = tokio::time::timeout(Duration::from_secs(1), session.closed()).await;
    drop(session);
    tokio::time::sleep(Duration::from_millis(50)).await;
    if all_ok {
        println!("result: OK");
    } else {
        println!("result: MISMATCH");
        std::process::exit(1);
    }
}
