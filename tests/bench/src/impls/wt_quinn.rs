//! Our wt-quinn: `wt_quinn::Endpoint` with `wt_quinn::tls` (rustls with ring, ALPN h3, the
//! shared transport configuration, a pinned certificate hash). The `stack` traits for
//! wt-session's types, shared with wt-s2n-quic, are here too.

use anyhow::{Context, Result};
use bytes::Bytes;
use wt_quinn::{Endpoint, Session, SessionRequest};

use super::loopback_any;
use crate::stack::{Client, Conn, RecvHalf, SendHalf, Server, ServerInfo};
use crate::workload::CHUNK;

/// How one of our adapters makes its endpoints; the rest of [`Srv`] and [`Cli`] is written once
/// over the one `wt_session::Endpoint` type both adapters make.
pub(crate) trait WtStack: Send + 'static {
    /// A server endpoint on loopback and what its clients need.
    fn server() -> Result<(wt_session::Endpoint, ServerInfo)>;
    /// A client endpoint for `server` and the URL to connect to.
    fn client(server: &ServerInfo) -> Result<(wt_session::Endpoint, String)>;
}

/// wt-quinn: rustls with ring, the shared transport configuration, a pinned certificate hash.
pub(crate) struct Quinn;

impl WtStack for Quinn {
    fn server() -> Result<(wt_session::Endpoint, ServerInfo)> {
        let cert = wt_quinn::tls::self_signed()?;
        let config = wt_quinn::tls::server_config(vec![cert.cert.clone()], cert.key.clone_key())?;
        let endpoint = Endpoint::server(loopback_any(), config)?.into_inner();
        Ok(served(endpoint, &cert))
    }

    fn client(server: &ServerInfo) -> Result<(wt_session::Endpoint, String)> {
        let config = wt_quinn::tls::client_config_with_hashes(vec![server.hash])?;
        let endpoint = Endpoint::client(loopback_any(), config)?.into_inner();
        Ok((endpoint, server.url_ip()))
    }
}

/// A server endpoint with what its clients need to reach it and trust `cert`.
pub(crate) fn served(
    endpoint: wt_session::Endpoint,
    cert: &wt_session::cert::SelfSigned,
) -> (wt_session::Endpoint, ServerInfo) {
    let info = ServerInfo {
        addr: endpoint.local_addr(),
        cert: cert.cert.to_vec(),
        hash: cert.hash,
    };
    (endpoint, info)
}

/// A server of one of our adapters.
pub(crate) struct Srv<S: WtStack = Quinn>(wt_session::Endpoint, std::marker::PhantomData<S>);

impl<S: WtStack> Server for Srv<S> {
    type Incoming = SessionRequest;
    type Conn = Session;

    fn bind() -> Result<(Self, ServerInfo)> {
        let (endpoint, info) = S::server()?;
        Ok((Srv(endpoint, std::marker::PhantomData), info))
    }

    async fn accept(&mut self) -> Option<Self::Incoming> {
        self.0.accept().await
    }

    async fn establish(incoming: Self::Incoming) -> Result<Self::Conn> {
        Ok(incoming.accept()?)
    }
}

/// A client of one of our adapters.
pub(crate) struct Cli<S: WtStack = Quinn> {
    endpoint: wt_session::Endpoint,
    url: String,
    stack: std::marker::PhantomData<S>,
}

impl<S: WtStack> Client for Cli<S> {
    type Conn = Session;

    fn new(server: &ServerInfo) -> Result<Self> {
        let (endpoint, url) = S::client(server)?;
        Ok(Cli {
            endpoint,
            url,
            stack: std::marker::PhantomData,
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
