//! TLS and QUIC configuration: rustls with the ring provider (always passed explicitly, never
//! the process-wide default), ALPN `h3`, certificate hashes like browsers'
//! `serverCertificateHashes`, and a self-signed certificate helper.

use std::sync::Arc;
use std::time::Duration;

use quinn_proto::crypto::rustls::{QuicClientConfig, QuicServerConfig};
use quinn_proto::{IdleTimeout, TransportConfig, VarInt};
use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The ALPN token of HTTP/3.
pub const ALPN_H3: &[u8] = b"h3";

pub use wt_session::cert::{SelfSigned, TlsError, load_pem};
pub use wt_session::pinned::{cert_hash, hex, parse_hash};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A fresh ECDSA P-256 certificate for local use and `serverCertificateHashes`; see
/// [`wt_session::cert::self_signed`].
pub fn self_signed() -> Result<SelfSigned, TlsError> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    wt_session::cert::self_signed(&key, key.serialize_der(), "wt-quinn self-signed")
}

/// The transport settings for WebTransport: datagrams on, room for many streams, a 30 s idle
/// timeout and keep-alives.
pub fn transport_config() -> TransportConfig {
    let mut t = TransportConfig::default();
    t.datagram_receive_buffer_size(Some(1 << 20))
        .datagram_send_buffer_size(1 << 20)
        .max_concurrent_bidi_streams(VarInt::from_u32(256))
        .max_concurrent_uni_streams(VarInt::from_u32(256))
        .stream_receive_window(VarInt::from_u32(4 << 20))
        .receive_window(VarInt::from_u32(16 << 20))
        .send_window(16 << 20)
        .keep_alive_interval(Some(Duration::from_secs(5)));
    if let Ok(idle) = IdleTimeout::try_from(Duration::from_secs(30)) {
        t.max_idle_timeout(Some(idle));
    }
    t
}

/// A quinn server configuration: TLS 1.3 with ring, ALPN h3, and [`transport_config`].
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<quinn_proto::ServerConfig, TlsError> {
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    tls.alpn_protocols = vec![ALPN_H3.to_vec()];
    // QuicServerConfig requires 0 or u32::MAX.
    tls.max_early_data_size = u32::MAX;
    let quic = QuicServerConfig::try_from(tls).map_err(|e| TlsError::Quic(e.to_string()))?;
    let mut config = quinn_proto::ServerConfig::with_crypto(Arc::new(quic));
    config.transport_config(Arc::new(transport_config()));
    Ok(config)
}

fn client_from(tls: rustls::ClientConfig) -> Result<quinn_proto::ClientConfig, TlsError> {
    let mut tls = tls;
    tls.alpn_protocols = vec![ALPN_H3.to_vec()];
    let quic = QuicClientConfig::try_from(tls).map_err(|e| TlsError::Quic(e.to_string()))?;
    let mut config = quinn_proto::ClientConfig::new(Arc::new(quic));
    config.transport_config(Arc::new(transport_config()));
    Ok(config)
}

/// A quinn client configuration that verifies the server's certificate against `roots` (for
/// example the webpki roots, or the system's, loaded by the caller).
pub fn client_config(roots: RootCertStore) -> Result<quinn_proto::ClientConfig, TlsError> {
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(roots)
        .with_no_client_auth();
    client_from(tls)
}

/// A quinn client configuration that accepts exactly the server certificates whose SHA-256 is
/// one of `hashes`, like the browsers' `serverCertificateHashes` (the handshake signature is
/// still verified).
pub fn client_config_with_hashes(
    hashes: Vec<[u8; 32]>,
) -> Result<quinn_proto::ClientConfig, TlsError> {
    let tls = wt_session::pinned::client_config(hashes, provider())?;
    client_from(tls)
}
