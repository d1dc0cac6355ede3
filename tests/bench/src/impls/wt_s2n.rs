//! Our wt-s2n-quic: `wt_s2n_quic::Endpoint` with `wt_s2n_quic::tls`: s2n-tls on both sides
//! (the client trusts exactly the server's certificate, as raw s2n-quic's does) and the shared
//! s2n limits. The session type is wt-session's, whose `stack` traits are in `wt_quinn`.

use anyhow::Result;
use quinn::rustls::pki_types::CertificateDer;
use wt_s2n_quic::{Endpoint, Session, SessionRequest};

use super::loopback_any;
use crate::stack::{Client, Server, ServerInfo};

pub(crate) struct Srv(Endpoint);

impl Server for Srv {
    type Incoming = SessionRequest;
    type Conn = Session;

    fn bind() -> Result<(Self, ServerInfo)> {
        let cert = wt_s2n_quic::tls::self_signed()?;
        let config =
            wt_s2n_quic::tls::server_config(vec![cert.cert.clone()], cert.key.clone_key())?;
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
        let cert = CertificateDer::from(server.cert.clone());
        let config = wt_s2n_quic::tls::client_config_trusting(&[cert])?;
        Ok(Cli {
            endpoint: Endpoint::client(loopback_any(), config)?,
            url: server.url_localhost(),
        })
    }

    async fn connect(&self) -> Result<Self::Conn> {
        Ok(self.endpoint.connect(&self.url).await?)
    }
}
