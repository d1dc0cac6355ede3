//! Raw s2n-quic: QUIC streams, and datagrams through s2n-quic's default datagram provider
//! (`unstable-provider-datagram`), no HTTP/3. The baseline of wt-s2n-quic, with its limits,
//! its datagram queue sizes and s2n-tls on both sides (the client trusts exactly the server's
//! certificate).

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::Poll;

use anyhow::{Result, anyhow};
use bytes::Bytes;
use s2n_quic::client::Connect;
use s2n_quic::connection::{BidirectionalStreamAcceptor, Handle, ReceiveStreamAcceptor};
use s2n_quic::provider::datagram::default::{Endpoint as Datagrams, Receiver, Sender};
use s2n_quic::stream::{ReceiveStream, SendStream};

use super::loopback_any;
use crate::stack::{Client, Conn, RecvHalf, SendHalf, Server, ServerInfo};

/// Datagrams queued per connection and direction (wt-s2n-quic's value).
const DATAGRAM_QUEUE: usize = 1024;
const ALPN: &[u8] = b"h3";

fn datagrams() -> Result<Datagrams> {
    Ok(Datagrams::builder()
        .with_send_capacity(DATAGRAM_QUEUE)?
        .with_recv_capacity(DATAGRAM_QUEUE)?
        .build()?)
}

fn pem(tag: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(tag, der.to_vec()))
}

pub(crate) struct Srv(s2n_quic::Server);

impl Server for Srv {
    type Incoming = s2n_quic::Connection;
    type Conn = SConn;

    fn bind() -> Result<(Self, ServerInfo)> {
        let cert = wt_s2n_quic::tls::self_signed()?;
        let tls = s2n_quic::provider::tls::default::Server::builder()
            .with_certificate(
                pem("CERTIFICATE", &cert.cert).as_str(),
                pem("PRIVATE KEY", cert.key.secret_der()).as_str(),
            )?
            .with_application_protocols([ALPN].iter())?
            .build()?;
        let server = s2n_quic::Server::builder()
            .with_tls(tls)?
            .with_io(loopback_any())?
            .with_limits(wt_s2n_quic::tls::limits())?
            .with_datagram(datagrams()?)?
            .start()?;
        let info = ServerInfo {
            addr: server.local_addr()?,
            cert: cert.cert.to_vec(),
            hash: cert.hash,
        };
        Ok((Srv(server), info))
    }

    async fn accept(&mut self) -> Option<Self::Incoming> {
        self.0.accept().await
    }

    async fn establish(incoming: Self::Incoming) -> Result<Self::Conn> {
        Ok(SConn::new(incoming))
    }
}

pub(crate) struct Cli {
    client: s2n_quic::Client,
    server: ServerInfo,
}

impl Client for Cli {
    type Conn = SConn;

    fn new(server: &ServerInfo) -> Result<Self> {
        let tls = s2n_quic::provider::tls::default::Client::builder()
            .with_empty_trust_store()?
            .with_certificate(pem("CERTIFICATE", &server.cert).as_str())?
            .with_application_protocols([ALPN].iter())?
            .build()?;
        let client = s2n_quic::Client::builder()
            .with_tls(tls)?
            .with_io(loopback_any())?
            .with_limits(wt_s2n_quic::tls::limits())?
            .with_datagram(datagrams()?)?
            .start()?;
        Ok(Cli {
            client,
            server: server.clone(),
        })
    }

    async fn connect(&self) -> Result<Self::Conn> {
        let connect = Connect::new(self.server.addr).with_server_name("localhost");
        Ok(SConn::new(self.client.connect(connect).await?))
    }
}

/// A raw s2n-quic connection: its handle and its two stream acceptors.
#[derive(Clone)]
pub(crate) struct SConn {
    handle: Handle,
    bidi: Rc<RefCell<Option<BidirectionalStreamAcceptor>>>,
    uni: Rc<RefCell<Option<ReceiveStreamAcceptor>>>,
}

impl SConn {
    fn new(conn: s2n_quic::Connection) -> Self {
        let (handle, acceptor) = conn.split();
        let (bidi, uni) = acceptor.split();
        Self {
            handle,
            bidi: Rc::new(RefCell::new(Some(bidi))),
            uni: Rc::new(RefCell::new(Some(uni))),
        }
    }
}

impl Conn for SConn {
    type Send = SendStream;
    type Recv = ReceiveStream;

    async fn open_bi(&self) -> Result<(Self::Send, Self::Recv)> {
        let stream = self.handle.clone().open_bidirectional_stream().await?;
        let (recv, send) = stream.split();
        Ok((send, recv))
    }

    async fn open_uni(&self) -> Result<Self::Send> {
        Ok(self.handle.clone().open_send_stream().await?)
    }

    async fn accept_bi(&self) -> Result<(Self::Send, Self::Recv)> {
        // One accepting task per connection: the acceptor is taken out while it waits.
        let mut acceptor = self
            .bidi
            .borrow_mut()
            .take()
            .ok_or_else(|| anyhow!("concurrent accept_bi"))?;
        let r = acceptor.accept_bidirectional_stream().await;
        *self.bidi.borrow_mut() = Some(acceptor);
        let (recv, send) = r?.ok_or_else(|| anyhow!("connection closed"))?.split();
        Ok((send, recv))
    }

    async fn accept_uni(&self) -> Result<Self::Recv> {
        let mut acceptor = self
            .uni
            .borrow_mut()
            .take()
            .ok_or_else(|| anyhow!("concurrent accept_uni"))?;
        let r = acceptor.accept_receive_stream().await;
        *self.uni.borrow_mut() = Some(acceptor);
        r?.ok_or_else(|| anyhow!("connection closed"))
    }

    fn send_datagram(&self, data: Bytes) -> bool {
        matches!(
            self.handle
                .datagram_mut(|s: &mut Sender| s.send_datagram_forced(data)),
            Ok(Ok(_))
        )
    }

    async fn read_datagram(&self) -> Result<Bytes> {
        poll_fn(|cx| {
            match self
                .handle
                .datagram_mut(|r: &mut Receiver| r.poll_recv_datagram(cx))
            {
                Ok(Poll::Ready(Ok(d))) => Poll::Ready(Ok(d)),
                Ok(Poll::Ready(Err(e))) => Poll::Ready(Err(anyhow!("{e}"))),
                Ok(Poll::Pending) => Poll::Pending,
                Err(e) => Poll::Ready(Err(anyhow!("{e}"))),
            }
        })
        .await
    }

    fn close(&self) {
        self.handle.close(s2n_quic::application::Error::UNKNOWN);
    }
}

impl SendHalf for SendStream {
    async fn write_chunk(&mut self, data: Bytes) -> Result<()> {
        Ok(self.send(data).await?)
    }

    fn finish(&mut self) -> Result<()> {
        Ok(SendStream::finish(self)?)
    }
}

impl RecvHalf for ReceiveStream {
    async fn read_some(&mut self) -> Result<Option<usize>> {
        Ok(self.receive().await?.map(|c| c.len()))
    }

    async fn read_all(&mut self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(chunk) = self.receive().await? {
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}
