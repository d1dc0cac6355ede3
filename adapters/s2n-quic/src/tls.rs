//! TLS configuration for s2n-quic: the server uses s2n-quic's default provider (s2n-tls), with
//! ALPN `h3`; clients use s2n-tls when they trust certificates ([`client_config_trusting`],
//! [`client_config_system_roots`]) and s2n-quic's rustls provider when they need what s2n-tls
//! cannot do: pinned certificate hashes like browsers' `serverCertificateHashes`
//! ([`client_config_with_hashes`]) and a caller-built `RootCertStore` ([`client_config`]).
//!
//! The function and type names are those of `wt_quinn::tls`, so that an application switches
//! stacks by changing one import.

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use s2n_quic::provider::limits::Limits;

/// The ALPN token of HTTP/3.
pub const ALPN_H3: &[u8] = b"h3";

pub use wt_session::cert::{SelfSigned, TlsError, load_pem};
pub use wt_session::pinned::{cert_hash, hex, parse_hash};

fn quic_err(e: impl std::fmt::Display) -> TlsError {
    TlsError::Quic(e.to_string())
}

/// The rustls provider s2n-quic's rustls integration uses (aws-lc-rs), restricted to the TLS 1.3
/// suites s2n-quic implements. Always passed explicitly: the process-wide default is ambiguous
/// when ring (wt-quinn) is in the same build.
fn provider() -> Arc<CryptoProvider> {
    let base = rustls::crypto::aws_lc_rs::default_provider();
    let suites = base
        .cipher_suites
        .iter()
        .copied()
        .filter(|s| {
            matches!(
                s.suite(),
                rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
                    | rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
                    | rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
            )
        })
        .collect();
    Arc::new(CryptoProvider {
        cipher_suites: suites,
        ..base
    })
}

/// A fresh ECDSA P-256 certificate for local use and `serverCertificateHashes`; see
/// [`wt_session::cert::self_signed`].
pub fn self_signed() -> Result<SelfSigned, TlsError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    wt_session::cert::self_signed(&key, key.serialize_der(), "wt-s2n-quic self-signed")
}

/// s2n-tls loads PEM only: DER certificates and keys are re-encoded.
fn chain_pem(chain: &[CertificateDer<'_>]) -> String {
    chain
        .iter()
        .map(|c| pem::encode(&pem::Pem::new("CERTIFICATE", c.as_ref().to_vec())))
        .collect()
}

fn key_pem(key: &PrivateKeyDer<'_>) -> Result<String, TlsError> {
    let tag = match key {
        PrivateKeyDer::Pkcs8(_) => "PRIVATE KEY",
        PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
        PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
        _ => return Err(TlsError::Pem("unsupported private key format".into())),
    };
    Ok(pem::encode(&pem::Pem::new(tag, key.secret_der().to_vec())))
}

/// The transport limits for WebTransport: room for many streams, generous flow-control
/// windows, a 30 s idle timeout (keep-alives are turned on per connection).
pub fn limits() -> Limits {
    let build = || -> Option<Limits> {
        Limits::new()
            .with_max_open_local_bidirectional_streams(1 << 16)
            .ok()?
            .with_max_open_remote_bidirectional_streams(256)
            .ok()?
            .with_max_open_local_unidirectional_streams(1 << 16)
            .ok()?
            .with_max_open_remote_unidirectional_streams(256)
            .ok()?
            .with_data_window(16 << 20)
            .ok()?
            .with_bidirectional_local_data_window(2 << 20)
            .ok()?
            .with_bidirectional_remote_data_window(2 << 20)
            .ok()?
            .with_unidirectional_data_window(2 << 20)
            .ok()?
            .with_max_send_buffer_size(2 << 20)
            .ok()?
            .with_max_idle_timeout(Duration::from_secs(30))
            .ok()
    };
    build().unwrap_or_default()
}

/// The same as [`limits`], under `wt_quinn::tls`'s name.
pub fn transport_config() -> Limits {
    limits()
}

/// A server configuration: s2n-tls (s2n-quic's default provider), TLS 1.3, ALPN h3.
pub struct ServerConfig {
    pub(crate) tls: s2n_quic::provider::tls::default::Server,
    pub(crate) limits: Limits,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig").finish_non_exhaustive()
    }
}

impl ServerConfig {
    /// Replaces the transport limits (streams, windows, idle timeout).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// A server configuration with this certificate chain and key: s2n-tls, ALPN h3, [`limits`].
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<ServerConfig, TlsError> {
    let cert = chain_pem(&chain);
    let key = key_pem(&key)?;
    let tls = s2n_quic::provider::tls::default::Server::builder()
        .with_certificate(cert.as_str(), key.as_str())
        .map_err(quic_err)?
        .with_application_protocols([ALPN_H3].iter())
        .map_err(quic_err)?
        .build()
        .map_err(quic_err)?;
    Ok(ServerConfig {
        tls,
        limits: limits(),
    })
}

/// Which TLS provider a client uses.
pub(crate) enum ClientTls {
    /// s2n-tls, s2n-quic's default provider.
    S2n(s2n_quic::provider::tls::default::Client),
    /// rustls through s2n-quic's rustls provider (custom certificate verification).
    Rustls(s2n_quic::provider::tls::rustls::Client),
}

/// A client configuration (see the constructors in this module).
pub struct ClientConfig {
    pub(crate) tls: ClientTls,
    pub(crate) limits: Limits,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let provider = match self.tls {
            ClientTls::S2n(_) => "s2n-tls",
            ClientTls::Rustls(_) => "rustls",
        };
        f.debug_struct("ClientConfig")
            .field("provider", &provider)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Replaces the transport limits (streams, windows, idle timeout).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The name of the TLS provider in use: `"s2n-tls"` or `"rustls"`.
    pub fn provider_name(&self) -> &'static str {
        match self.tls {
            ClientTls::S2n(_) => "s2n-tls",
            ClientTls::Rustls(_) => "rustls",
        }
    }
}

/// An s2n-tls client that trusts exactly these certificates (for example a self-signed server
/// certificate), not the system's roots.
pub fn client_config_trusting(certs: &[CertificateDer<'_>]) -> Result<ClientConfig, TlsError> {
    let mut b = s2n_quic::provider::tls::default::Client::builder()
        .with_empty_trust_store()
        .map_err(quic_err)?;
    for c in certs {
        b = b
            .with_certificate(chain_pem(std::slice::from_ref(c)).as_str())
            .map_err(quic_err)?;
    }
    let tls = b
        .with_application_protocols([ALPN_H3].iter())
        .map_err(quic_err)?
        .build()
        .map_err(quic_err)?;
    Ok(ClientConfig {
        tls: ClientTls::S2n(tls),
        limits: limits(),
    })
}

/// An s2n-tls client that verifies the server against the operating system's trust store.
pub fn client_config_system_roots() -> Result<ClientConfig, TlsError> {
    let tls = s2n_quic::provider::tls::default::Client::builder()
        .with_application_protocols([ALPN_H3].iter())
        .map_err(quic_err)?
        .build()
        .map_err(quic_err)?;
    Ok(ClientConfig {
        tls: ClientTls::S2n(tls),
        limits: limits(),
    })
}

fn rustls_client(mut tls: rustls::ClientConfig) -> ClientConfig {
    tls.alpn_protocols = vec![ALPN_H3.to_vec()];
    tls.max_fragment_size = None;
    ClientConfig {
        tls: ClientTls::Rustls(s2n_quic::provider::tls::rustls::Client::from(tls)),
        limits: limits(),
    }
}

/// A client that verifies the server's certificate against `roots` (as `wt_quinn`'s; it uses
/// s2n-quic's rustls provider, since s2n-tls cannot take a rustls root store).
pub fn client_config(roots: RootCertStore) -> Result<ClientConfig, TlsError> {
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(rustls_client(tls))
}

/// A client that accepts exactly the server certificates whose SHA-256 is one of `hashes`,
/// like the browsers' `serverCertificateHashes` (the handshake signature is still verified).
///
/// s2n-tls has no hook that replaces chain validation, so this uses s2n-quic's rustls provider
/// with a custom verifier (see the capability table in the README).
pub fn client_config_with_hashes(hashes: Vec<[u8; 32]>) -> Result<ClientConfig, TlsError> {
    let tls = wt_session::pinned::client_config(hashes, provider())?;
    Ok(rustls_client(tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip() {
        let c = self_signed().unwrap();
        assert_eq!(parse_hash(&c.hash_hex()), Some(c.hash));
        assert!(parse_hash("00").is_none());
        assert!(
            key_pem(&c.key)
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert!(
            chain_pem(std::slice::from_ref(&c.cert)).starts_with("-----BEGIN CERTIFICATE-----")
        );
    }
}
