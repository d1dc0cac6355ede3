//! web-transport-quinn 0.13 (ring): `Server::new` and `Client::new` over quinn endpoints built
//! here, so that they get the same TLS (rustls with ring, ALPN h3, a pinned certificate hash)
//! and transport configuration as raw quinn. Its own builders would use quinn's default
//! `TransportConfig`, which has no room for a custom one.

use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use web_transport_quinn::{Request, Session};

use super::quinn::{client_endpoint, server_endpoint};
use crate::stack::{Client, Conn, RecvHalf, SendHalf, Server, ServerInfo};
use crate::workload::CHUNK;

pub(crate) struct Srv(web_transport_quinn::Server);

impl Server for Srv {
    type Incoming = Request;
    type Conn = Session;

    fn bind() -> Result<(Self, ServerInfo)> {
        let (endpoint, info) = server_endpoint()?;
        Ok((Srv(web_transport_quinn::Server::new(endpoint)), info))
    }

    async fn accept(&mut self) -> Option<Self::Incoming> {
        self.0.accept().await
    }

    async fn establish(incoming: Self::Incoming) -> Result<Self::Conn> {
        Ok(incoming.ok().await?)
    }
}

pub(crate) struct Cli {
    client: web_transport_quinn::Client,
    url: url::Url,
}

impl Client for Cli {
    type Conn = Session;

    fn new(server: &ServerInfo) -> Result<Self> {
        let (endpoint, config) = client_endpoint(server)?;
        Ok(Cli {
            client: web_transport_quinn::Client::new(endpoint, config),
            url: url::Url::parse(&server.url_ip())?,
        })
    }

    async fn connect(&self) -> Result<Self::Conn> {
        Ok(self.client.connect(self.url.clone()).await?)
    }
}

impl Conn for Session {
    type Send = web_transport_quinn::SendStream;
    type Recv = web_transport_quinn::RecvStream;

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
        Session::close(self, 0, b"");
    }
}

impl SendHalf for web_transport_quinn::SendStream {
    async fn write_chunk(&mut self, data: Bytes) -> Result<()> {
        Ok(web_transport_quinn::SendStream::write_chunk(self, data).await?)
    }

    fn finish(&mut self) -> Result<()> {
        web_transport_quinn::SendStream::finish(self).map_err(|e| anyhow!("{e:?}"))
    }
}

impl RecvHalf for web_transport_quinn::RecvStream {
    async fn read_some(&mut self) -> Result<Option<usize>> {
        Ok(self.read_chunk(CHUNK, true).await?.map(|c| c.bytes.len()))
    }

    async fn read_all(&mut self) -> Result<Vec<u8>> {
        self.read_to_end(CHUNK).await.context("read_to_end")
    }
}
