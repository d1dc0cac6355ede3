//! Certificates for both adapters: a self-signed certificate browsers accept with
//! `serverCertificateHashes`, PEM loading, and the error type of the adapters' TLS helpers. The
//! key pair comes from the adapter, so this module chooses no crypto backend.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::pinned::{cert_hash, hex};

/// Why a TLS configuration could not be built (the error of both adapters' `tls` helpers).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rustls refused the configuration.
    #[error("rustls: {0}")]
    Rustls(#[from] rustls::Error),
    /// The certificate could not be generated.
    #[error("certificate generation: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// The QUIC stack refused the TLS configuration.
    #[error("QUIC TLS: {0}")]
    Quic(String),
    /// A PEM file could not be read or written.
    #[error("PEM: {0}")]
    Pem(String),
}

/// A self-signed certificate and its key.
#[derive(Debug)]
pub struct SelfSigned {
    /// The certificate (DER).
    pub cert: CertificateDer<'static>,
    /// The private key (PKCS#8 DER).
    pub key: PrivateKeyDer<'static>,
    /// SHA-256 of the certificate's DER, as `serverCertificateHashes` wants it.
    pub hash: [u8; 32],
}

impl SelfSigned {
    /// The SHA-256 hash in lowercase hex.
    pub fn hash_hex(&self) -> String {
        hex(&self.hash)
    }
}

/// Makes a self-signed certificate for `localhost`, `127.0.0.1` and `::1`, named `common_name`,
/// valid from an hour ago for 10 days, signed with `key` (from the adapter's crypto backend,
/// whose PKCS#8 DER is `key_der`; use ECDSA P-256): browsers accept `serverCertificateHashes` only for certificates valid less
/// than 14 days, with an ECDSA key (W3C WebTransport, "verify a certificate hash").
pub fn self_signed(
    key: &impl rcgen::SigningKey,
    key_der: Vec<u8>,
    common_name: &str,
) -> Result<SelfSigned, TlsError> {
    let mut params = rcgen::CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])?;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(10);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    let cert = params.self_signed(key)?.der().clone();
    let hash = cert_hash(&cert);
    Ok(SelfSigned {
        cert,
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)),
        hash,
    })
}

/// Reads a PEM certificate chain and private key.
pub fn load_pem(
    cert_path: &std::path::Path,
    key_path: &std::path::Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let certs = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| TlsError::Pem(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(e.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| TlsError::Pem(e.to_string()))?;
    Ok((certs, key))
}
