//! # wt-tools: the demo programs on either QUIC stack
//!
//! Two binaries, `wt-server` (the [`wt_session::demo`] routes on HTTP/3 plus a demo page over
//! plain HTTP) and `wt-client` (an echo check in every mode), each taking
//! `--backend quinn|s2n-quic`. This library is the little they share: the [`Backend`] choice and
//! the constructors [`server`] and [`client`], which make the one [`Endpoint`] type of
//! `wt-session` on either stack.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use wt_session::wt_proto::Config;

/// The QUIC stack under the WebTransport engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// quinn-proto with a quinn-udp socket (`wt-quinn`).
    #[default]
    #[value(name = "quinn")]
    Quinn,
    /// s2n-quic (`wt-s2n-quic`).
    #[value(name = "s2n-quic")]
    S2nQuic,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Quinn => "quinn",
            Backend::S2nQuic => "s2n-quic",
        })
    }
}

/// A boxed error from either adapter's TLS helpers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A certificate and key with the certificate's SHA-256.
pub struct Identity {
    /// The certificate chain (DER), leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key.
    pub key: PrivateKeyDer<'static>,
    /// SHA-256 of the leaf certificate.
    pub hash: [u8; 32],
}

impl Backend {
    /// A fresh self-signed certificate made by this backend's `tls::self_signed` (valid for
    /// 10 days, so browsers accept it with `serverCertificateHashes`).
    pub fn self_signed(self) -> Result<Identity, BoxError> {
        let (cert, key, hash) = match self {
            Backend::Quinn => {
                let s = wt_quinn::tls::self_signed()?;
                (s.cert, s.key, s.hash)
            }
            Backend::S2nQuic => {
                let s = wt_s2n_quic::tls::self_signed()?;
                (s.cert, s.key, s.hash)
            }
        };
        Ok(Identity {
            chain: vec![cert],
            key,
            hash,
        })
    }

    /// A PEM certificate chain and key read by this backend's `tls::load_pem`.
    pub fn load_pem(
        self,
        cert: &std::path::Path,
        key: &std::path::Path,
    ) -> Result<Identity, BoxError> {
        let (chain, key, hash): (_, _, fn(&CertificateDer<'_>) -> [u8; 32]) = match self {
            Backend::Quinn => {
                let (c, k) = wt_quinn::tls::load_pem(cert, key)?;
                (c, k, wt_quinn::tls::cert_hash)
            }
            Backend::S2nQuic => {
                let (c, k) = wt_s2n_quic::tls::load_pem(cert, key)?;
                (c, k, wt_s2n_quic::tls::cert_hash)
            }
        };
        let hash = chain.first().map(hash).unwrap_or_default();
        Ok(Identity { chain, key, hash })
    }
}

pub use wt_quinn::tls::{hex, parse_hash};

/// How a client verifies the server.
pub enum Trust {
    /// Exactly the certificates with these SHA-256 hashes (like `serverCertificateHashes`).
    Hashes(Vec<[u8; 32]>),
    /// Chain validation against these roots.
    Roots(RootCertStore),
}

/// Why a client endpoint could not be made.
#[derive(Debug)]
pub enum ClientError {
    /// The TLS configuration was refused.
    Tls(BoxError),
    /// The UDP socket could not be bound.
    Bind(std::io::Error),
}

/// The endpoint both adapters make: one type, whichever stack runs it.
pub use wt_session::Endpoint;

/// A server on `addr` on `backend`'s stack with this identity and engine configuration. Must be
/// called inside a tokio runtime.
pub fn server(
    backend: Backend,
    addr: SocketAddr,
    identity: Identity,
    config: Config,
) -> Result<Endpoint, BoxError> {
    let Identity { chain, key, .. } = identity;
    Ok(match backend {
        Backend::Quinn => wt_quinn::Endpoint::server_with_config(
            addr,
            wt_quinn::tls::server_config(chain, key)?,
            config,
        )?
        .into_inner(),
        Backend::S2nQuic => wt_s2n_quic::Endpoint::server_with_config(
            addr,
            wt_s2n_quic::tls::server_config(chain, key)?,
            config,
        )?
        .into_inner(),
    })
}

/// A client bound to `bind` on `backend`'s stack that verifies servers as `trust` says. Must
/// be called inside a tokio runtime.
pub fn client(backend: Backend, bind: SocketAddr, trust: Trust) -> Result<Endpoint, ClientError> {
    match backend {
        Backend::Quinn => {
            let config = match trust {
                Trust::Hashes(h) => wt_quinn::tls::client_config_with_hashes(h),
                Trust::Roots(r) => wt_quinn::tls::client_config(r),
            }
            .map_err(|e| ClientError::Tls(e.into()))?;
            wt_quinn::Endpoint::client(bind, config)
                .map(wt_quinn::Endpoint::into_inner)
                .map_err(ClientError::Bind)
        }
        Backend::S2nQuic => {
            let config = match trust {
                Trust::Hashes(h) => wt_s2n_quic::tls::client_config_with_hashes(h),
                Trust::Roots(r) => wt_s2n_quic::tls::client_config(r),
            }
            .map_err(|e| ClientError::Tls(e.into()))?;
            wt_s2n_quic::Endpoint::client(bind, config)
                .map(wt_s2n_quic::Endpoint::into_inner)
                .map_err(ClientError::Bind)
        }
    }
}

/// Serves the demo routes ([`wt_session::demo::handle`]) on `endpoint` until it closes.
pub async fn serve_demo(endpoint: Endpoint) {
    let registry = Arc::new(wt_session::demo::Registry::default());
    while let Some(request) = endpoint.accept().await {
        tokio::spawn(wt_session::demo::handle(request, registry.clone()));
    }
}
