//! What a client connects to: an `https://` URL and the options of its session request, turned
//! into the host to resolve and the extended CONNECT to send. Shared by the adapters, which only
//! resolve the host and open the QUIC connection.

use http::HeaderMap;
use wt_proto::{ConnectRequest, ProtocolToken};

use crate::Error;

/// Options of a client session request.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Application protocols to offer (`WT-Available-Protocols`).
    pub protocols: Vec<String>,
    /// An `origin` to send.
    pub origin: Option<String>,
    /// More request header fields.
    pub headers: HeaderMap,
    /// How long resolving the host, the QUIC handshake, the server's SETTINGS and its response
    /// may take together before `connect` fails with [`Error::TimedOut`](crate::Error::TimedOut)
    /// (default 10 s; `None`: no limit).
    pub timeout: Option<std::time::Duration>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            protocols: Vec::new(),
            origin: None,
            headers: HeaderMap::new(),
            timeout: Some(std::time::Duration::from_secs(10)),
        }
    }
}

/// A parsed session URL.
#[derive(Clone, Debug)]
pub struct Target {
    /// The host to resolve and to name in TLS (without IPv6 brackets).
    pub host: String,
    /// The UDP port (443 when the URL has none).
    pub port: u16,
    /// The request to send; the engine sets the `:protocol` token and draft-02 header of the
    /// negotiated dialect.
    pub request: ConnectRequest,
}

impl Target {
    /// Parses an `https://host[:port]/path?query` URL.
    pub fn parse(url: &str, options: ConnectOptions) -> Result<Self, Error> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| Error::Invalid(format!("bad URL {url:?}: {e}")))?;
        if uri.scheme_str() != Some("https") {
            return Err(Error::Invalid(format!("not an https URL: {url}")));
        }
        let host = uri
            .host()
            .ok_or_else(|| Error::Invalid(format!("no host in {url}")))?;
        let port = uri.port_u16().unwrap_or(443);
        let authority = uri
            .authority()
            .map_or_else(|| format!("{host}:{port}"), |a| a.as_str().to_string());
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".into(), |p| p.as_str().to_string());
        let mut request = ConnectRequest::new(ProtocolToken::WebTransport, authority, path);
        request.available_protocols = options.protocols;
        request.origin = options.origin;
        request.headers = options.headers;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(Self {
            host,
            port,
            request,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("https://[::1]:4433/echo?id=7", ConnectOptions::default()).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 4433));
        assert_eq!(
            (t.request.authority.as_str(), t.request.path.as_str()),
            ("[::1]:4433", "/echo?id=7")
        );
        let t = Target::parse("https://example.com", ConnectOptions::default()).unwrap();
        assert_eq!((t.port, t.request.path.as_str()), (443, "/"));
        assert!(Target::parse("http://example.com/", ConnectOptions::default()).is_err());
        assert!(Target::parse("not a url", ConnectOptions::default()).is_err());
    }
}
