//! Test harness: demo servers and clients on either stack over UDP loopback, so that one suite
//! runs for s2n-quic↔s2n-quic, quinn↔quinn and both cross-stack pairings.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use wt_session::wt_proto::Config;
use wt_session::{ConnectOptions, Error, Session};

/// A QUIC stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    Quinn,
    S2n,
}

/// A server endpoint (either stack: the adapters make one type).
pub type ServerEp = wt_session::Endpoint;

/// A client endpoint on either stack, with the helpers the suite uses.
#[derive(Clone, Debug)]
pub struct ClientEp(pub wt_session::Endpoint);

impl ClientEp {
    pub async fn connect(&self, url: &str) -> Result<Session, Error> {
        self.0.connect(url).await
    }

    pub async fn connect_with(&self, url: &str, protocols: &[&str]) -> Result<Session, Error> {
        let o = ConnectOptions {
            protocols: protocols.iter().map(|p| p.to_string()).collect(),
            ..Default::default()
        };
        self.0.connect_with(url, o).await
    }

    pub fn close(&self) {
        self.0.close()
    }
}

pub struct Server {
    pub endpoint: ServerEp,
    pub addr: SocketAddr,
    pub hash: [u8; 32],
    pub cert: Vec<u8>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// A client on `stack` that pins the server certificate's hash.
    pub fn client(&self, stack: Stack) -> ClientEp {
        let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
        match stack {
            Stack::Quinn => {
                let c = wt_quinn::tls::client_config_with_hashes(vec![self.hash]).unwrap();
                ClientEp(wt_quinn::Endpoint::client(bind, c).unwrap().into_inner())
            }
            Stack::S2n => {
                let c = wt_s2n_quic::tls::client_config_with_hashes(vec![self.hash]).unwrap();
                ClientEp(wt_s2n_quic::Endpoint::client(bind, c).unwrap().into_inner())
            }
        }
    }
}

/// A server endpoint on `stack` without an application (the test accepts requests itself).
pub fn bare_server(stack: Stack, config: Config) -> Server {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let (endpoint, hash, cert) = match stack {
        Stack::Quinn => {
            let c = wt_quinn::tls::self_signed().unwrap();
            let sc = wt_quinn::tls::server_config(vec![c.cert.clone()], c.key.clone_key()).unwrap();
            let e = wt_quinn::Endpoint::server_with_config(bind, sc, config).unwrap();
            (e.into_inner(), c.hash, c.cert.to_vec())
        }
        Stack::S2n => {
            let c = wt_s2n_quic::tls::self_signed().unwrap();
            let sc =
                wt_s2n_quic::tls::server_config(vec![c.cert.clone()], c.key.clone_key()).unwrap();
            let e = wt_s2n_quic::Endpoint::server_with_config(bind, sc, config).unwrap();
            (e.into_inner(), c.hash, c.cert.to_vec())
        }
    };
    let addr = endpoint.local_addr();
    Server {
        endpoint,
        addr,
        hash,
        cert,
    }
}

/// The demo server (the routes of `wt-server`, from `wt_session::demo`, which only uses the
/// stack-independent session API) on `stack`.
pub fn demo_server(stack: Stack) -> Server {
    demo_server_with(stack, Config::default())
}

pub fn demo_server_with(stack: Stack, config: Config) -> Server {
    let server = bare_server(stack, config);
    let ep = server.endpoint.clone();
    tokio::spawn(async move {
        let registry = Arc::new(wt_session::demo::Registry::default());
        while let Some(request) = ep.accept().await {
            tokio::spawn(wt_session::demo::handle(request, registry.clone()));
        }
    });
    server
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
