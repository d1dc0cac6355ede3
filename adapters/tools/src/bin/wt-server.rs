//! The demo WebTransport server: the routes of `wt_session::demo` on HTTP/3, and a demo page over
//! plain HTTP on localhost that connects back with the certificate hash.
//!
//! ```text
//! cargo run -p wt-tools --bin wt-server -- [--backend quinn|s2n-quic]
//! ```
//!
//! Environment switches (value `0`, `false` or `off` turns one off), mapped to the engine's
//! `Config`: `H3_WEBTRANSPORT` → `webtransport`, `H3_WT_STREAMS` → `uni_streams`,
//! `H3_WT_BIDI` → `bidi_streams`.

use std::net::SocketAddr;
use std::path::PathBuf;

use bytes::Bytes;
use clap::Parser;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use wt_session::wt_proto::Config;
use wt_tools::Backend;

#[derive(Parser, Debug)]
#[command(about = "WebTransport demo server (echo, open, close, report)")]
struct Args {
    /// The QUIC stack.
    #[arg(long, value_enum, default_value_t = Backend::Quinn)]
    backend: Backend,
    /// UDP address for HTTP/3.
    #[arg(long, default_value = "127.0.0.1:4433")]
    addr: SocketAddr,
    /// PEM certificate chain (default: a fresh self-signed certificate valid for 10 days).
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key.
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// TCP address of the demo page (plain HTTP).
    #[arg(long, default_value = "127.0.0.1:8080")]
    http_addr: SocketAddr,
}

fn switch(name: &str) -> bool {
    match std::env::var(name) {
        Ok(v) => !matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "0" | "false" | "off" | "no"
        ),
        Err(_) => true,
    }
}

#[tokio::main]
async fn main() -> Result<(), wt_tools::BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let identity = match (&args.cert, &args.key) {
        (Some(c), Some(k)) => args.backend.load_pem(c, k)?,
        _ => args.backend.self_signed()?,
    };
    let hash = identity.hash;
    let config = Config::default().with(|c| {
        c.webtransport = switch("H3_WEBTRANSPORT");
        c.uni_streams = switch("H3_WT_STREAMS");
        c.bidi_streams = switch("H3_WT_BIDI");
    });
    let endpoint = wt_tools::server(args.backend, args.addr, identity, config.clone())?;
    let wt_addr = endpoint.local_addr();
    let listener = tokio::net::TcpListener::bind(args.http_addr).await?;
    let http_addr = listener.local_addr()?;
    let hash_hex = wt_tools::hex(&hash);
    println!("WebTransport server on https://{wt_addr} (UDP)");
    println!(
        "switches: webtransport={} uni_streams={} bidi_streams={}",
        config.webtransport, config.uni_streams, config.bidi_streams
    );
    println!("certificate SHA-256: {hash_hex}");
    println!("demo page: http://{http_addr}/");
    let page = Bytes::from(page(&wt_addr, &hash_hex));
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let page = page.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let page = page.clone();
                    async move {
                        if req.uri().path() == "/" || req.uri().path() == "/index.html" {
                            Response::builder()
                                .header("content-type", "text/html; charset=utf-8")
                                .header("cache-control", "no-store")
                                .body(Full::new(page))
                        } else {
                            Response::builder()
                                .status(StatusCode::NOT_FOUND)
                                .body(Full::new(Bytes::from_static(b"not found\n")))
                        }
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    tokio::select! {
        _ = wt_tools::serve_demo(endpoint) => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

fn page(wt_addr: &SocketAddr, hash_hex: &str) -> String {
    let host = if wt_addr.ip().is_unspecified() {
        String::new()
    } else if wt_addr.is_ipv6() {
        format!("[{}]", wt_addr.ip())
    } else {
        wt_addr.ip().to_string()
    };
    include_str!("demo.html")
        .replace("{{HOST}}", &host)
        .replace("{{PORT}}", &wt_addr.port().to_string())
        .replace("{{HASH}}", hash_hex)
}
