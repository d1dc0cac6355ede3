//! Our wt-s2n-quic: `wt_s2n_quic::Endpoint` with `wt_s2n_quic::tls`: s2n-tls on both sides
//! (the client trusts exactly the server's certificate, as raw s2n-quic's does) and the shared
//! s2n limits. The session type is wt-session's, whose `stack` traits are in `wt_quinn`.

use anyhow::Result;
use quinn::rustls::pki_types::CertificateDer;
use wt_s2n_quic::Endpoint;

use super::loopback_any;
use super::wt_quinn::WtStack;
use crate::stack::ServerInfo;

/// wt-s2n-quic: s2n-tls on both sides, the client trusting exactly the server's certificate.
pub(crate) struct S2n;

impl WtStack for S2n {
    fn server() -> Result<(wt_session::Endpoint, ServerInfo)> {
        let cert = wt_s2n_quic::tls::self_signed()?;
        let config =
            wt_s2n_quic::tls::server_config(vec![cert.cert.clone()], cert.key.clone_key())?;
        let endpoint = Endpoint::server(loopback_any(), config)?.into_inner();
        Ok(super::wt_quinn::served(endpoint, &cert))
    }

    fn client(server: &ServerInfo) -> Result<(wt_session::Endpoint, String)> {
        let cert = CertificateDer::from(server.cert.clone());
        let config = wt_s2n_quic::tls::client_config_trusting(&[cert])?;
        let endpoint = Endpoint::client(loopback_any(), config)?.into_inner();
        Ok((endpoint, server.url_localhost()))
    }
}

/// A wt-s2n-quic server.
pub(crate) type Srv = super::wt_quinn::Srv<S2n>;
/// A wt-s2n-quic client.
pub(crate) type Cli = super::wt_quinn::Cli<S2n>;
