//! wtransport 0.7: its own endpoint and WebTransport sessions. Its TLS configuration is its
//! default (rustls with ring); the server takes the shared transport configuration through
//! `with_custom_transport`, the pinning client through `quic_config_mut()` (its
//! `with_server_certificate_hashes` path has no transport parameter).
//!
//! API notes: wtransport has no zero-copy write (`write_all` copies into quinn), and its
//! `SendStream::finish` waits for the peer's acknowledgement; the benchmark finishes through
//! the underlying quinn stream instead so that "finish" means the same for every stack.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use bytes::Bytes;
use wtransport::endpoint::IncomingSession;
use wtransport::endpoint::endpoint_side;
use wtransport::tls::{Certificate, CertificateChain, PrivateKey, Sha256Digest};
use wtransport::{ClientConfig, Endpoint, Identity, ServerConfig, VarInt};

use super::udp_socket;
use crate::stack::{Client, Conn, RecvHalf, SendHalf, Server, ServerInfo};
use crate::workload::CHUNK;

pub(crate) struct Srv(Endpoint<endpoint_side::Server>);

impl Server for Srv {
    type Incoming = IncomingSession;
    type Conn = WConn;

    fn bind() -> Result<(Self, ServerInfo)> {
        let cert = wt_quinn::tls::self_signed()?;
        let identity = Identity::new(
            CertificateChain::single(Certificate::from_der(cert.cert.to_vec())?),
            PrivateKey::from_der_pkcs8(cert.key.secret_der().to_vec()),
        );
        let config = ServerConfig::builder()
            .with_bind_socket(udp_socket()?)
            .with_custom_transport(identity, wt_quinn::tls::transport_config())
            .build();
        let endpoint = Endpoint::server(config)?;
        let info = ServerInfo {
            addr: endpoint.local_addr()?,
            cert: cert.cert.to_vec(),
            hash: cert.hash,
        };
        Ok((Srv(endpoint), info))
    }

    async fn accept(&mut self) -> Option<Self::Incoming> {
        Some(self.0.accept().await)
    }

    async fn establish(incoming: Self::Incoming) -> Result<Self::Conn> {
        let request = incoming.await?;
        Ok(WConn(request.accept().await?))
    }
}

pub(crate) struct Cli {
    endpoint: Endpoint<endpoint_side::Client>,
    url: String,
}

impl Client for Cli {
    type Conn = WConn;

    fn new(server: &ServerInfo) -> Result<Self> {
        let mut config = ClientConfig::builder()
            .with_bind_socket(udp_socket()?)
            .with_server_certificate_hashes([Sha256Digest::new(server.hash)])
            .build();
        config
            .quic_config_mut()
            .transport_config(Arc::new(wt_quinn::tls::transport_config()));
        Ok(Cli {
            endpoint: Endpoint::client(config)?,
            url: server.url_ip(),
        })
    }

    async fn connect(&self) -> Result<Self::Conn> {
        Ok(WConn(self.endpoint.connect(&self.url).await?))
    }
}

/// A wtransport session.
#[derive(Clone)]
pub(crate) struct WConn(wtransport::Connection);

/// A wtransport receive stream with its read buffer.
pub(crate) struct WRecv {
    stream: wtransport::RecvStream,
    buf: Box<[u8]>,
}

impl WRecv {
    fn new(stream: wtransport::RecvStream) -> Self {
        Self {
            stream,
            buf: vec![0; CHUNK].into_boxed_slice(),
        }
    }
}

impl Conn for WConn {
    type Send = wtransport::SendStream;
    type Recv = WRecv;

    async fn open_bi(&self) -> Result<(Self::Send, Self::Recv)> {
        let (s, r) = self.0.open_bi().await?.await?;
        Ok((s, WRecv::new(r)))
    }

    async fn open_uni(&self) -> Result<Self::Send> {
        Ok(self.0.open_uni().await?.await?)
    }

    async fn accept_bi(&self) -> Result<(Self::Send, Self::Recv)> {
        let (s, r) = self.0.accept_bi().await?;
        Ok((s, WRecv::new(r)))
    }

    async fn accept_uni(&self) -> Result<Self::Recv> {
        Ok(WRecv::new(self.0.accept_uni().await?))
    }

    fn send_datagram(&self, data: Bytes) -> bool {
        self.0.send_datagram(&data).is_ok()
    }

    async fn read_datagram(&self) -> Result<Bytes> {
        Ok(self.0.receive_datagram().await?.payload())
    }

    fn close(&self) {
        self.0.close(VarInt::from_u32(0), b"");
    }
}

impl SendHalf for wtransport::SendStream {
    async fn write_chunk(&mut self, data: Bytes) -> Result<()> {
        Ok(self.write_all(&data).await?)
    }

    fn finish(&mut self) -> Result<()> {
        self.quic_stream_mut().finish().map_err(|e| anyhow!("{e}"))
    }
}

impl RecvHalf for WRecv {
    async fn read_some(&mut self) -> Result<Option<usize>> {
        Ok(self.stream.read(&mut self.buf).await?)
    }

    async fn read_all(&mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(n) = self.stream.read(&mut self.buf).await? {
            out.extend_from_slice(&self.buf[..n]);
        }
        Ok(out)
    }
}
