//! Shared helpers: an in-process demo server and clients over UDP loopback.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use wt_quinn::{Endpoint, tls};

pub struct Server {
    pub endpoint: Endpoint,
    pub addr: SocketAddr,
    pub hash: [u8; 32],
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    pub fn client(&self) -> Endpoint {
        let config = tls::client_config_with_hashes(vec![self.hash]).unwrap();
        Endpoint::client("127.0.0.1:0".parse().unwrap(), config).unwrap()
    }
}

/// Starts the demo server (the routes of `wt-server`) on an ephemeral loopback port.
pub fn demo_server() -> Server {
    demo_server_with(wt_quinn::wt_proto::Config::default())
}

pub fn demo_server_with(config: wt_quinn::wt_proto::Config) -> Server {
    let (endpoint, addr, hash) = bare_server(config);
    let ep = endpoint.clone();
    tokio::spawn(async move {
        let registry = Arc::new(wt_session::demo::Registry::default());
        while let Some(request) = ep.accept().await {
            tokio::spawn(wt_session::demo::handle(request, registry.clone()));
        }
    });
    Server {
        endpoint,
        addr,
        hash,
    }
}

/// A server endpoint without an application (the test accepts requests itself).
pub fn bare_server(config: wt_quinn::wt_proto::Config) -> (Endpoint, SocketAddr, [u8; 32]) {
    let cert = tls::self_signed().unwrap();
    let server_config = tls::server_config(vec![cert.cert.clone()], cert.key.clone_key()).unwrap();
    let endpoint =
        Endpoint::server_with_config("127.0.0.1:0".parse().unwrap(), server_config, config)
            .unwrap();
    let addr = endpoint.local_addr();
    (endpoint, addr, cert.hash)
}

/// Runs a future with a deadline, failing the test when it passes.
pub async fn within<T>(secs: u64, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .expect("test step timed out")
}

pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2654435761)
                .wrapping_add(seed as u32) as u8
                ^ ((i >> 8) as u8)
        })
        .collect()
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
