//! Our wt-quinn: `wt_quinn::Endpoint` with `wt_quinn::tls` (rustls with ring, ALPN h3, the
//! shared transport configuration, a pinned certificate hash). The `stack` traits for
//! wt-session's types, shared with wt-s2n-quic, are here too.

use anyhow::{Context, Result};
use bytes::Bytes;
use wt_quinn::{Endpoint, Session, SessionRequest};

use super::loopback_any;
use crate::stack::{Client, Conn, RecvHalf, SendHalf, Server, ServerInfo};
use crate::workload::CHUNK;

pub(crate) struct Srv(Endpoint);

impl Server for Srv {
    type Incoming = SessionRequest;
    type Conn = Session;

    fn bind() -> Result<(Self, ServerInfo)> {
        let cert = wt_quinn::tls::self_signed()?;
        let config = wt_quinn::tls::server_config(vec![cert.cert.clone()], cert.key.clone_key())?;
        let endpoint = Endpoint::server(loopback_any(), config)?;
        let info = ServerInfo {
            addr: endpoint.local_addr(),
            cert: cert.cert.to_vec(),
            hash: cert.hash,
        };
        Ok((Srv(endpoint), info))
    }

    async fn accept(&mut self) -> Option<Self::Incoming> {
        self.0.accept().await
    }

    async fn establish(incoming: Self::Incoming) -> Result<Self::Conn> {
        Ok(incoming.accept()?)
    }
}

pub(crate) struct Cli {
    endpoint: Endpoint,
    url: String,
}

impl Client for Cli {
    type Conn = Session;

    fn new(server: &ServerInfo) -> Result<Self> {
        let config = wt_quinn::tls::client_config_with_hashes(vec![server.hash])?;
        Ok(Cli {
            endpoint: Endpoint::client(loopback_any(), config)?,
            url: server.url_ip(),
        })
    }

    async fn connect(&self) -> Result<Self::Conn> {
        Ok(self.endpoint.connect(&self.url).await?)
    }
}

impl Conn for Session {
    type Send = wt_session::SendStream;
    type Recv = wt_session::RecvStream;

    async fn open_bi(&self) -> Result<(Self::Send, Self::Recv)> {
        Ok(Session::open_bi(self).await?)
    }

    async fn open_uni(&self) -> Result<Self::Send> {
        Ok(Session::open_uni(self).await?)
    }

    async fn accept_bi(&self) -> Result<(Self::Send, Self::Recv)> {
        Ok(Session::accept_bi(self).await?)
    }

    async fn accept_uni(&self) -> Result<Self::Recv> {
        Ok(Session::accept_uni(self).await?)
    }

    fn send_datagram(&self, data: Bytes) -> bool {
        Session::send_datagram(self, data).is_ok()
    }

    async fn read_datagram(&self) -> Result<Bytes> {
        Ok(Session::read_datagram(self).await?)
    }

    fn close(&self) {
        Session::close(self, 0, "");
    }
}

impl SendHalf for wt_session::SendStream {
    async fn write_chunk(&mut self, data: Bytes) -> Result<()> {
        Ok(wt_session::SendStream::write_chunk(self, data).await?)
    }

    fn finish(&mut self) -> Result<()> {
        Ok(wt_session::SendStream::finish(self)?)
    }
}

impl RecvHalf for wt_session::RecvStream {
    async fn read_some(&mut self) -> Result<Option<usize>> {
        Ok(self.read_chunk(CHUNK).await?.map(|c| c.len()))
    }

    async fn read_all(&mut self) -> Result<Vec<u8>> {
        self.read_to_end(CHUNK).await.context("read_to_end")
    }
}
