//! Raw quinn: `quinn::Endpoint` with QUIC streams and datagrams, no HTTP/3. The baseline of
//! the quinn-based stacks. Its TLS and transport configurations are wt-quinn's
//! (`wt_quinn::tls::{server_config, client_config_with_hashes}`: rustls with ring, ALPN h3,
//! `transport_config()`), which are plain quinn configurations.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use quinn::{Endpoint, EndpointConfig, TokioRuntime};

use super::udp_socket;
use crate::stack::{Client, Conn, RecvHalf, SendHalf, Server, ServerInfo};
use crate::workload::CHUNK;

/// A quinn server endpoint with wt-quinn's TLS and transport configuration.
pub(crate) fn server_endpoint() -> Result<(Endpoint, ServerInfo)> {
    let cert = wt_quinn::tls::self_signed()?;
    let config = wt_quinn::tls::server_config(vec![cert.cert.clone()], cert.key.clone_key())?;
    let endpoint = Endpoint::new(
        EndpointConfig::default(),
        Some(config),
        udp_socket()?,
        Arc::new(TokioRuntime),
    )?;
    let info = ServerInfo {
        addr: endpoint.local_addr()?,
        cert: cert.cert.to_vec(),
        hash: cert.hash,
    };
    Ok((endpoint, info))
}

/// A quinn client endpoint whose default configuration pins the server's certificate, with
/// wt-quinn's transport configuration.
pub(crate) fn client_endpoint(server: &ServerInfo) -> Result<(Endpoint, quinn::ClientConfig)> {
    let config = wt_quinn::tls::client_config_with_hashes(vec![server.hash])?;
    let mut endpoint = Endpoint::new(
        EndpointConfig::default(),
        None,
        udp_socket()?,
        Arc::new(TokioRuntime),
    )?;
    endpoint.set_default_client_config(config.clone());
    Ok((endpoint, config))
}

pub(crate) struct Srv(Endpoint);

impl Server for Srv {
    type Incoming = quinn::Incoming;
    type Conn = QConn;

    fn bind() -> Result<(Self, ServerInfo)> {
        let (endpoint, info) = server_endpoint()?;
        Ok((Srv(endpoint), info))
    }

    async fn accept(&mut self) -> Option<Self::Incoming> {
        self.0.accept().await
    }

    async fn establish(incoming: Self::Incoming) -> Result<Self::Conn> {
        Ok(QConn(incoming.await?))
    }
}

pub(crate) struct Cli {
    endpoint: Endpoint,
    server: ServerInfo,
}

impl Client for Cli {
    type Conn = QConn;

    fn new(server: &ServerInfo) -> Result<Self> {
        let (endpoint, _) = client_endpoint(server)?;
        Ok(Cli {
            endpoint,
            server: server.clone(),
        })
    }

    async fn connect(&self) -> Result<Self::Conn> {
        let conn = self
            .endpoint
            .connect(self.server.addr, "localhost")?
            .await?;
        Ok(QConn(conn))
    }
}

/// A raw QUIC connection.
#[derive(Clone)]
pub(crate) struct QConn(quinn::Connection);

impl Conn for QConn {
    type Send = quinn::SendStream;
    type Recv = quinn::RecvStream;

    async fn open_bi(&self) -> Result<(Self::Send, Self::Recv)> {
        Ok(self.0.open_bi().await?)
    }

    async fn open_uni(&self) -> Result<Self::Send> {
        Ok(self.0.open_uni().await?)
    }

    async fn accept_bi(&self) -> Result<(Self::Send, Self::Recv)> {
        Ok(self.0.accept_bi().await?)
    }

    async fn accept_uni(&self) -> Result<Self::Recv> {
        Ok(self.0.accept_uni().await?)
    }

    fn send_datagram(&self, data: Bytes) -> bool {
        self.0.send_datagram(data).is_ok()
    }

    async fn read_datagram(&self) -> Result<Bytes> {
        Ok(self.0.read_datagram().await?)
    }

    fn close(&self) {
        self.0.close(0u32.into(), b"");
    }
}

impl SendHalf for quinn::SendStream {
    async fn write_chunk(&mut self, data: Bytes) -> Result<()> {
        Ok(quinn::SendStream::write_chunk(self, data).await?)
    }

    fn finish(&mut self) -> Result<()> {
        quinn::SendStream::finish(self).map_err(|e| anyhow!("{e}"))
    }
}

impl RecvHalf for quinn::RecvStream {
    async fn read_some(&mut self) -> Result<Option<usize>> {
        Ok(self.read_chunk(CHUNK, true).await?.map(|c| c.bytes.len()))
    }

    async fn read_all(&mut self) -> Result<Vec<u8>> {
        self.read_to_end(CHUNK).await.context("read_to_end")
    }
}
