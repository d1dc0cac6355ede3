#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! The WebTransport extended CONNECT request and its response (draft-ietf-webtrans-http3, every
//! wire profile from draft-02 to draft-16; RFC 9220; RFC 9297 §3.2).
//!
//! * [`ConnectRequest`] recognises a WebTransport CONNECT among decoded requests
//!   ([`ConnectRequest::from_request`]) and builds one ([`ConnectRequest::to_request`]).
//! * [`ConnectResponse`] does the same for the server's answer.
//!
//! Header fields used:
//!
//! | field | direction | meaning |
//! |---|---|---|
//! | `sec-webtransport-http3-draft02: 1` | request | draft-02 client |
//! | `sec-webtransport-http3-draft: draft02` | response | draft-02 server |
//! | `origin` | request | the page origin (browsers always send it) |
//! | `wt-available-protocols` | request | sf-List of sf-Strings (sf-Tokens accepted) |
//! | `wt-protocol` | response | sf-String (sf-Token accepted) |

use http::header::{CONTENT_LENGTH, CONTENT_TYPE, ORIGIN, TRANSFER_ENCODING};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri, Version,
};
use thiserror::Error;

use super::message::{
    MessageError, Protocol, decode_request, decode_response, encode_request, encode_response,
    is_valid_value,
};
use super::sf::{SerializeError, parse_protocol_item, parse_protocol_list, serialize_string};
use crate::qpack::FieldLine;

/// Request field that marks a draft-02 client (value `1`).
pub const SEC_WEBTRANSPORT_HTTP3_DRAFT02: &str = "sec-webtransport-http3-draft02";
/// Response field that marks a draft-02 server (value `draft02`).
pub const SEC_WEBTRANSPORT_HTTP3_DRAFT: &str = "sec-webtransport-http3-draft";
/// Request field listing the application protocols the client offers.
pub const WT_AVAILABLE_PROTOCOLS: &str = "wt-available-protocols";
/// Response field naming the application protocol the server chose.
pub const WT_PROTOCOL: &str = "wt-protocol";

/// The `:protocol` token of a WebTransport extended CONNECT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolToken {
    /// `webtransport`: draft-02 through draft-14 (what browsers send today).
    WebTransport,
    /// `webtransport-h3`: draft-15 and draft-16.
    WebTransportH3,
}

impl ProtocolToken {
    /// The token as sent in `:protocol`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WebTransport => "webtransport",
            Self::WebTransportH3 => "webtransport-h3",
        }
    }

    /// Recognises a `:protocol` value (exact, case-sensitive match); `None` for any other token.
    pub fn from_protocol(value: &str) -> Option<Self> {
        match value {
            "webtransport" => Some(Self::WebTransport),
            "webtransport-h3" => Some(Self::WebTransportH3),
            _ => None,
        }
    }
}

impl std::fmt::Display for ProtocolToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request or response could not be built from local values. These are errors of the
/// caller, never of the peer.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BuildError {
    /// The authority is not a valid `host[:port]` (or holds userinfo).
    #[error("invalid authority {authority:?}")]
    InvalidAuthority {
        /// The rejected authority.
        authority: String,
    },
    /// The path is not an origin-form path starting with `/`.
    #[error("invalid path {path:?}")]
    InvalidPath {
        /// The rejected path.
        path: String,
    },
    /// The origin is not a valid field value.
    #[error("invalid origin {origin:?}")]
    InvalidOrigin {
        /// The rejected origin.
        origin: String,
    },
    /// An application protocol cannot be written as an sf-string (it must be printable ASCII).
    #[error("protocol {protocol:?} cannot be serialized: {source}")]
    UnserializableProtocol {
        /// The rejected protocol.
        protocol: String,
        /// Why.
        source: SerializeError,
    },
    /// A field value could not be represented (should not happen for serialized fields).
    #[error("invalid value for field {name}")]
    InvalidFieldValue {
        /// The field name.
        name: &'static str,
    },
    /// The header map is full.
    #[error("too many header fields")]
    TooManyFields,
}

/// A WebTransport extended CONNECT request, with the WebTransport-specific fields pulled out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    /// `:authority` (`host[:port]`).
    pub authority: String,
    /// `:path` (path plus query).
    pub path: String,
    /// The `origin` field, if any.
    pub origin: Option<String>,
    /// The `:protocol` token.
    pub protocol: ProtocolToken,
    /// `sec-webtransport-http3-draft02: 1` is present (a draft-02 client).
    pub draft02: bool,
    /// The application protocols of `wt-available-protocols`, in order; empty when the field is
    /// absent or malformed (a malformed field is ignored as a whole).
    pub available_protocols: Vec<String>,
    /// Every other regular field (not `origin`, `wt-available-protocols`, or a
    /// `sec-webtransport-http3-draft02: 1` that set [`ConnectRequest::draft02`]).
    pub headers: HeaderMap,
}

impl ConnectRequest {
    /// A request for `https://{authority}{path}` with no origin, no draft-02 marker, no protocols
    /// and no other fields.
    pub fn new(
        protocol: ProtocolToken,
        authority: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Self {
            authority: authority.into(),
            path: path.into(),
            origin: None,
            protocol,
            draft02: false,
            available_protocols: Vec::new(),
            headers: HeaderMap::new(),
        }
    }

    /// Recognises a WebTransport extended CONNECT in a decoded request.
    ///
    /// Returns `Ok(None)` if the method is not CONNECT, or `:protocol` is absent or is neither
    /// `webtransport` nor `webtransport-h3` (the caller may answer 501). Returns an error if it is
    /// a malformed WebTransport CONNECT: `:scheme` other than `https`, a missing authority or
    /// path, `content-length`/`content-type`/`transfer-encoding` present (RFC 9297 §3.2), or
    /// several or non-ASCII `origin` fields.
    ///
    /// A `sec-webtransport-http3-draft02` field sets [`ConnectRequest::draft02`] only when all
    /// its values are exactly `1`; otherwise it is left in [`ConnectRequest::headers`].
    pub fn from_request(request: &Request<()>) -> Result<Option<Self>, MessageError> {
        if request.method() != Method::CONNECT {
            return Ok(None);
        }
        let Some(protocol) = request
            .extensions()
            .get::<Protocol>()
            .and_then(|p| ProtocolToken::from_protocol(p.as_str()))
        else {
            return Ok(None);
        };
        let uri = request.uri();
        if uri.scheme() != Some(&Scheme::HTTPS) {
            return Err(MessageError::WebTransportSchemeNotHttps {
                scheme: uri.scheme_str().unwrap_or_default().to_owned(),
            });
        }
        let authority = uri
            .authority()
            .ok_or(MessageError::MissingPseudo { name: ":authority" })?;
        let path = uri
            .path_and_query()
            .ok_or(MessageError::MissingPseudo { name: ":path" })?;
        if path.as_str().is_empty() {
            return Err(MessageError::EmptyPath);
        }

        let mut headers = request.headers().clone();
        for (name, label) in [
            (CONTENT_LENGTH, "content-length"),
            (CONTENT_TYPE, "content-type"),
            (TRANSFER_ENCODING, "transfer-encoding"),
        ] {
            if headers.contains_key(name) {
                return Err(MessageError::ForbiddenWebTransportField { name: label });
            }
        }

        let origin = {
            let mut values = headers.get_all(ORIGIN).iter();
            match (values.next(), values.next()) {
                (None, _) => None,
                (Some(_), Some(_)) => {
                    return Err(MessageError::InvalidWebTransportField {
                        name: "origin",
                        reason: "repeated",
                    });
                }
                (Some(value), None) => Some(
                    value
                        .to_str()
                        .map_err(|_| MessageError::InvalidWebTransportField {
                            name: "origin",
                            reason: "not visible ASCII",
                        })?
                        .to_owned(),
                ),
            }
        };
        headers.remove(ORIGIN);

        let draft02 = all_values_equal(&headers, SEC_WEBTRANSPORT_HTTP3_DRAFT02, "1");
        if draft02 {
            headers.remove(SEC_WEBTRANSPORT_HTTP3_DRAFT02);
        }

        let available_protocols = joined(&headers, WT_AVAILABLE_PROTOCOLS)
            .and_then(|value| parse_protocol_list(&value))
            .unwrap_or_default();
        headers.remove(WT_AVAILABLE_PROTOCOLS);

        Ok(Some(Self {
            authority: authority.as_str().to_owned(),
            path: path.as_str().to_owned(),
            origin,
            protocol,
            draft02,
            available_protocols,
            headers,
        }))
    }

    /// Decodes a request field section and recognises a WebTransport CONNECT in it: the RFC 9114
    /// rules of [`decode_request`], then [`ConnectRequest::from_request`].
    pub fn decode(fields: &[FieldLine]) -> Result<Option<Self>, MessageError> {
        Self::from_request(&decode_request(fields)?)
    }

    /// Builds the extended CONNECT request: `https://{authority}{path}`, `:protocol` in the
    /// extensions, then [`ConnectRequest::headers`] followed by `sec-webtransport-http3-draft02: 1`
    /// (when `draft02`), `origin` (when set) and `wt-available-protocols` as a list of sf-strings
    /// (when the list is non-empty). These three replace any field of the same name in `headers`.
    ///
    /// Fails if the authority, path or origin are invalid, or a protocol is not printable ASCII.
    pub fn to_request(&self) -> Result<Request<()>, BuildError> {
        let bad_authority = || BuildError::InvalidAuthority {
            authority: self.authority.clone(),
        };
        if self.authority.is_empty() || self.authority.contains('@') {
            return Err(bad_authority());
        }
        let authority =
            Authority::try_from(self.authority.as_str()).map_err(|_| bad_authority())?;
        if authority.as_str() != self.authority {
            return Err(bad_authority());
        }
        let bad_path = || BuildError::InvalidPath {
            path: self.path.clone(),
        };
        if !self.path.starts_with('/') {
            return Err(bad_path());
        }
        let path = PathAndQuery::try_from(self.path.as_str()).map_err(|_| bad_path())?;
        if path.as_str() != self.path {
            return Err(bad_path());
        }
        let uri = Uri::builder()
            .scheme(Scheme::HTTPS)
            .authority(authority)
            .path_and_query(path)
            .build()
            .map_err(|_| bad_path())?;

        let mut headers = self.headers.clone();
        if self.draft02 {
            set(
                &mut headers,
                SEC_WEBTRANSPORT_HTTP3_DRAFT02,
                HeaderValue::from_static("1"),
            )?;
        }
        if let Some(origin) = &self.origin {
            let bad_origin = || BuildError::InvalidOrigin {
                origin: origin.clone(),
            };
            if !is_valid_value(origin.as_bytes()) {
                return Err(bad_origin());
            }
            let value = HeaderValue::from_str(origin).map_err(|_| bad_origin())?;
            set(&mut headers, ORIGIN.as_str(), value)?;
        }
        if !self.available_protocols.is_empty() {
            let mut list = String::new();
            for protocol in &self.available_protocols {
                let item = serialize_string(protocol).map_err(|source| {
                    BuildError::UnserializableProtocol {
                        protocol: protocol.clone(),
                        source,
                    }
                })?;
                if !list.is_empty() {
                    list.push_str(", ");
                }
                list.push_str(&item);
            }
            set(
                &mut headers,
                WT_AVAILABLE_PROTOCOLS,
                sf_value(WT_AVAILABLE_PROTOCOLS, list)?,
            )?;
        }

        let mut request = Request::new(());
        *request.method_mut() = Method::CONNECT;
        *request.uri_mut() = uri;
        *request.version_mut() = Version::HTTP_3;
        *request.headers_mut() = headers;
        request
            .extensions_mut()
            .insert(Protocol(self.protocol.as_str().to_owned()));
        Ok(request)
    }

    /// Builds the request ([`ConnectRequest::to_request`]) and encodes it as a field section:
    /// `:method, :scheme, :authority, :path, :protocol`, then the regular fields.
    pub fn encode(&self) -> Result<Vec<FieldLine>, BuildError> {
        Ok(encode_request(&self.to_request()?))
    }
}

/// The server's answer to a WebTransport CONNECT, with the WebTransport-specific fields pulled out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectResponse {
    /// `:status`. 2xx (except 204/205/206) establishes the session; see
    /// [`ConnectResponse::is_accepted`].
    pub status: StatusCode,
    /// The application protocol of `wt-protocol`, if present and well-formed.
    pub protocol: Option<String>,
    /// `sec-webtransport-http3-draft: draft02` is present (a draft-02 server).
    pub draft02: bool,
    /// Every other regular field (not `wt-protocol`, nor a `sec-webtransport-http3-draft:
    /// draft02` that set [`ConnectResponse::draft02`]).
    pub headers: HeaderMap,
}

impl ConnectResponse {
    /// A response with this status and no other field.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            protocol: None,
            draft02: false,
            headers: HeaderMap::new(),
        }
    }

    /// Whether the status establishes the session: 2xx other than 204, 205 and 206 (which
    /// RFC 9297 rules out for the Capsule Protocol).
    pub fn is_accepted(&self) -> bool {
        self.status.is_success() && !matches!(self.status.as_u16(), 204..=206)
    }

    /// Reads a decoded response. Never fails: a missing, malformed or non-string/token
    /// `wt-protocol` leaves [`ConnectResponse::protocol`] as `None` (as quiche and neqo do). The
    /// `wt-protocol` field is always removed from [`ConnectResponse::headers`];
    /// `sec-webtransport-http3-draft` is removed when all its values are `draft02`.
    pub fn from_response(response: &Response<()>) -> Self {
        let mut headers = response.headers().clone();
        let draft02 = all_values_equal(&headers, SEC_WEBTRANSPORT_HTTP3_DRAFT, "draft02");
        if draft02 {
            headers.remove(SEC_WEBTRANSPORT_HTTP3_DRAFT);
        }
        let protocol = joined(&headers, WT_PROTOCOL).and_then(|value| parse_protocol_item(&value));
        headers.remove(WT_PROTOCOL);
        Self {
            status: response.status(),
            protocol,
            draft02,
            headers,
        }
    }

    /// Decodes a response field section ([`decode_response`]) and reads it
    /// ([`ConnectResponse::from_response`]).
    pub fn decode(fields: &[FieldLine]) -> Result<Self, MessageError> {
        Ok(Self::from_response(&decode_response(fields)?))
    }

    /// Builds the response: `:status`, [`ConnectResponse::headers`], then
    /// `sec-webtransport-http3-draft: draft02` (when `draft02`) and `wt-protocol` as an sf-string
    /// (when set). These two replace any field of the same name in `headers`.
    ///
    /// Fails if the protocol is not printable ASCII.
    pub fn to_response(&self) -> Result<Response<()>, BuildError> {
        let mut headers = self.headers.clone();
        if self.draft02 {
            set(
                &mut headers,
                SEC_WEBTRANSPORT_HTTP3_DRAFT,
                HeaderValue::from_static("draft02"),
            )?;
        }
        if let Some(protocol) = &self.protocol {
            let item = serialize_string(protocol).map_err(|source| {
                BuildError::UnserializableProtocol {
                    protocol: protocol.clone(),
                    source,
                }
            })?;
            set(&mut headers, WT_PROTOCOL, sf_value(WT_PROTOCOL, item)?)?;
        }
        let mut response = Response::new(());
        *response.status_mut() = self.status;
        *response.version_mut() = Version::HTTP_3;
        *response.headers_mut() = headers;
        Ok(response)
    }

    /// Builds the response ([`ConnectResponse::to_response`]) and encodes it as a field section.
    pub fn encode(&self) -> Result<Vec<FieldLine>, BuildError> {
        Ok(encode_response(&self.to_response()?))
    }
}

/// True when `name` is present and every one of its values equals `want` exactly.
fn all_values_equal(headers: &HeaderMap, name: &str, want: &str) -> bool {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek().is_some() && values.all(|v| v.as_bytes() == want.as_bytes())
}

/// All field lines of `name` combined with `", "` (RFC 9110 §5.3), or `None` if absent.
fn joined(headers: &HeaderMap, name: &str) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    for value in headers.get_all(name) {
        match &mut out {
            None => out = Some(value.as_bytes().to_vec()),
            Some(buf) => {
                buf.extend_from_slice(b", ");
                buf.extend_from_slice(value.as_bytes());
            }
        }
    }
    out
}

/// A serialized structured field as a header value (always printable ASCII, so this only fails
/// if that invariant is broken).
fn sf_value(name: &'static str, text: String) -> Result<HeaderValue, BuildError> {
    HeaderValue::try_from(text).map_err(|_| BuildError::InvalidFieldValue { name })
}

fn set(headers: &mut HeaderMap, name: &'static str, value: HeaderValue) -> Result<(), BuildError> {
    headers
        .try_insert(HeaderName::from_static(name), value)
        .map(|_| ())
        .map_err(|_| BuildError::TooManyFields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use bytes::Bytes;

    fn f(name: &str, value: &str) -> FieldLine {
        FieldLine {
            name: Bytes::copy_from_slice(name.as_bytes()),
            value: Bytes::copy_from_slice(value.as_bytes()),
        }
    }

    fn lines(pairs: &[(&str, &str)]) -> Vec<FieldLine> {
        pairs.iter().map(|(n, v)| f(n, v)).collect()
    }

    /// Chromium 156, `connect_ready`.
    const CHROMIUM_CONNECT_READY: &[(&str, &str)] = &[
        (":scheme", "https"),
        (":method", "CONNECT"),
        (":authority", "127.0.0.1:4471"),
        (":path", "/echo"),
        (":protocol", "webtransport"),
        ("sec-webtransport-http3-draft02", "1"),
        ("origin", "http://localhost:36069"),
    ];

    /// Chromium 156, `protocol_negotiation`.
    const CHROMIUM_PROTOCOLS: &[(&str, &str)] = &[
        (":scheme", "https"),
        (":method", "CONNECT"),
        (":authority", "127.0.0.1:4471"),
        (":path", "/echo"),
        (":protocol", "webtransport"),
        ("sec-webtransport-http3-draft02", "1"),
        ("origin", "http://localhost:45039"),
        ("wt-available-protocols", "\"echo-v1\", \"other-v2\""),
    ];

    /// Chromium 156, `client_close_observed_by_server`.
    const CHROMIUM_CLIENT_CLOSE: &[(&str, &str)] = &[
        (":scheme", "https"),
        (":method", "CONNECT"),
        (":authority", "127.0.0.1:4471"),
        (":path", "/echo?id=crgrqfwq9"),
        (":protocol", "webtransport"),
        ("sec-webtransport-http3-draft02", "1"),
        ("origin", "http://localhost:46677"),
    ];

    /// Chromium 156, `server_close_code_reason`.
    const CHROMIUM_SERVER_CLOSE: &[(&str, &str)] = &[
        (":scheme", "https"),
        (":method", "CONNECT"),
        (":authority", "127.0.0.1:4471"),
        (":path", "/close"),
        (":protocol", "webtransport"),
        ("sec-webtransport-http3-draft02", "1"),
        ("origin", "http://localhost:46375"),
    ];

    const FIREFOX_UA: &str =
        "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0";

    fn firefox(path: &'static str, origin: &'static str) -> Vec<(&'static str, &'static str)> {
        vec![
            (":method", "CONNECT"),
            (":scheme", "https"),
            (":authority", "127.0.0.1:4472"),
            (":path", path),
            (":protocol", "webtransport"),
            ("user-agent", FIREFOX_UA),
            ("accept", "*/*"),
            ("accept-language", "en-US,en;q=0.9"),
            ("accept-encoding", "gzip, deflate, br, zstd"),
            ("sec-webtransport-http3-draft02", "1"),
            ("origin", origin),
            ("sec-fetch-dest", "webtransport"),
            ("sec-fetch-mode", "no-cors"),
            ("sec-fetch-site", "cross-site"),
            ("priority", "u=4"),
            ("pragma", "no-cache"),
            ("cache-control", "no-cache"),
        ]
    }

    fn decode_wt(fields: &[FieldLine]) -> ConnectRequest {
        ConnectRequest::decode(fields)
            .unwrap()
            .expect("a WebTransport CONNECT")
    }

    #[test]
    fn chromium_vectors() {
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str, &'a [&'a str]);
        let cases: [Case<'_>; 4] = [
            (
                CHROMIUM_CONNECT_READY,
                "/echo",
                "http://localhost:36069",
                &[],
            ),
            (
                CHROMIUM_PROTOCOLS,
                "/echo",
                "http://localhost:45039",
                &["echo-v1", "other-v2"],
            ),
            (
                CHROMIUM_CLIENT_CLOSE,
                "/echo?id=crgrqfwq9",
                "http://localhost:46677",
                &[],
            ),
            (
                CHROMIUM_SERVER_CLOSE,
                "/close",
                "http://localhost:46375",
                &[],
            ),
        ];
        for (pairs, path, origin, protocols) in cases {
            let req = decode_wt(&lines(pairs));
            assert_eq!(req.authority, "127.0.0.1:4471");
            assert_eq!(req.path, path);
            assert_eq!(req.origin.as_deref(), Some(origin));
            assert_eq!(req.protocol, ProtocolToken::WebTransport);
            assert!(req.draft02);
            assert_eq!(req.available_protocols, protocols);
            assert!(req.headers.is_empty(), "{:?}", req.headers);
        }
    }

    #[test]
    fn firefox_vectors() {
        for (path, origin) in [
            ("/echo", "http://localhost:32829"),
            ("/echo?id=ctftu6j5t", "http://localhost:39071"),
            ("/close", "http://localhost:45101"),
        ] {
            let req = decode_wt(&lines(&firefox(path, origin)));
            assert_eq!(req.authority, "127.0.0.1:4472");
            assert_eq!(req.path, path);
            assert_eq!(req.origin.as_deref(), Some(origin));
            assert_eq!(req.protocol, ProtocolToken::WebTransport);
            assert!(req.draft02);
            assert!(req.available_protocols.is_empty());
            assert_eq!(req.headers.len(), 10);
            assert_eq!(req.headers["user-agent"], FIREFOX_UA);
            assert_eq!(req.headers["priority"], "u=4");
            assert!(!req.headers.contains_key(SEC_WEBTRANSPORT_HTTP3_DRAFT02));
            assert!(!req.headers.contains_key("origin"));
        }
    }

    #[test]
    fn vector_rebuild_matches_chromium_set() {
        let req = decode_wt(&lines(CHROMIUM_PROTOCOLS));
        let mut got = req.encode().unwrap();
        let mut want = lines(CHROMIUM_PROTOCOLS);
        // Our order puts :method first; compare the pseudo-headers as a set, the rest in order.
        assert_eq!(got[0], f(":method", "CONNECT"));
        assert_eq!(got[4], f(":protocol", "webtransport"));
        got.sort_by(|a, b| a.name.cmp(&b.name));
        want.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(got, want);
    }

    #[test]
    fn minimal_response_decodes() {
        let resp = ConnectResponse::decode(&[
            f(":status", "200"),
            f("sec-webtransport-http3-draft", "draft02"),
        ])
        .unwrap();
        assert_eq!(resp.status, StatusCode::OK);
        assert!(resp.draft02);
        assert_eq!(resp.protocol, None);
        assert!(resp.headers.is_empty());
        assert!(resp.is_accepted());

        let resp = ConnectResponse::decode(&[
            f(":status", "200"),
            f("sec-webtransport-http3-draft", "draft02"),
            f("wt-protocol", "\"echo-v1\""),
        ])
        .unwrap();
        assert_eq!(resp.protocol.as_deref(), Some("echo-v1"));
    }

    #[test]
    fn response_protocol_forms() {
        let read = |value: &str| {
            ConnectResponse::decode(&[f(":status", "200"), f("wt-protocol", value)])
                .unwrap()
                .protocol
        };
        assert_eq!(read("echo-v1").as_deref(), Some("echo-v1"));
        assert_eq!(read("\"echo-v1\";q=1").as_deref(), Some("echo-v1"));
        assert_eq!(read("\"a\\\"b\"").as_deref(), Some("a\"b"));
        for bad in ["\"echo", "1", "?1", "(\"a\")", "\"a\", \"b\"", ":AA==:", ""] {
            assert_eq!(read(bad), None, "{bad:?}");
        }
        // Two field lines make an invalid item.
        let resp = ConnectResponse::decode(&[
            f(":status", "200"),
            f("wt-protocol", "\"a\""),
            f("wt-protocol", "\"b\""),
        ])
        .unwrap();
        assert_eq!(resp.protocol, None);
        assert!(!resp.headers.contains_key(WT_PROTOCOL));
    }

    #[test]
    fn response_build() {
        let mut resp = ConnectResponse::new(StatusCode::OK);
        resp.draft02 = true;
        resp.protocol = Some("echo-v1".into());
        assert_eq!(
            resp.encode().unwrap(),
            vec![
                f(":status", "200"),
                f("sec-webtransport-http3-draft", "draft02"),
                f("wt-protocol", "\"echo-v1\""),
            ]
        );
        resp.protocol = Some("bad\u{1}".into());
        assert!(matches!(
            resp.to_response(),
            Err(BuildError::UnserializableProtocol { .. })
        ));
        assert!(!ConnectResponse::new(StatusCode::NOT_FOUND).is_accepted());
        assert!(!ConnectResponse::new(StatusCode::NO_CONTENT).is_accepted());
        assert!(ConnectResponse::new(StatusCode::ACCEPTED).is_accepted());
    }

    #[test]
    fn non_webtransport_requests_are_none() {
        let get = lines(&[
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", "a.example"),
            (":path", "/"),
        ]);
        assert_eq!(ConnectRequest::decode(&get).unwrap(), None);
        let plain = lines(&[(":method", "CONNECT"), (":authority", "a.example:443")]);
        assert_eq!(ConnectRequest::decode(&plain).unwrap(), None);
        let mut ws = lines(CHROMIUM_CONNECT_READY);
        ws[4] = f(":protocol", "websocket");
        assert_eq!(ConnectRequest::decode(&ws).unwrap(), None);
        ws[4] = f(":protocol", "WebTransport");
        assert_eq!(ConnectRequest::decode(&ws).unwrap(), None);
    }

    #[test]
    fn webtransport_h3_token() {
        let fields = lines(&[
            (":method", "CONNECT"),
            (":scheme", "https"),
            (":authority", "wt.example"),
            (":path", "/session"),
            (":protocol", "webtransport-h3"),
            ("wt-available-protocols", "echo-v1, other"),
        ]);
        let req = decode_wt(&fields);
        assert_eq!(req.protocol, ProtocolToken::WebTransportH3);
        assert!(!req.draft02);
        assert_eq!(req.origin, None);
        assert_eq!(req.available_protocols, ["echo-v1", "other"]);
        assert_eq!(ProtocolToken::WebTransportH3.as_str(), "webtransport-h3");
        assert_eq!(ProtocolToken::WebTransport.to_string(), "webtransport");
    }

    #[test]
    fn content_length_on_wt_connect() {
        let fields = [
            lines(CHROMIUM_CONNECT_READY),
            vec![f("content-length", "0")],
        ]
        .concat();
        let err = ConnectRequest::decode(&fields).unwrap_err();
        assert_eq!(
            err,
            MessageError::ForbiddenWebTransportField {
                name: "content-length"
            }
        );
        assert_eq!(err.code(), 0x10e);
        let fields = [
            lines(CHROMIUM_CONNECT_READY),
            vec![f("content-type", "x/y")],
        ]
        .concat();
        assert_eq!(
            ConnectRequest::decode(&fields).unwrap_err(),
            MessageError::ForbiddenWebTransportField {
                name: "content-type"
            }
        );
    }

    #[test]
    fn wt_scheme_must_be_https() {
        let mut fields = lines(CHROMIUM_CONNECT_READY);
        fields[0] = f(":scheme", "http");
        assert_eq!(
            ConnectRequest::decode(&fields).unwrap_err(),
            MessageError::WebTransportSchemeNotHttps {
                scheme: "http".into()
            }
        );
    }

    #[test]
    fn wt_missing_pseudo_headers() {
        for name in [":scheme", ":authority", ":path"] {
            let fields: Vec<FieldLine> = lines(CHROMIUM_CONNECT_READY)
                .into_iter()
                .filter(|l| l.name != name.as_bytes())
                .collect();
            assert!(matches!(
                ConnectRequest::decode(&fields).unwrap_err(),
                MessageError::MissingPseudo { .. }
            ));
        }
    }

    #[test]
    fn repeated_or_bad_origin() {
        let fields = [lines(CHROMIUM_CONNECT_READY), vec![f("origin", "http://b")]].concat();
        assert!(matches!(
            ConnectRequest::decode(&fields).unwrap_err(),
            MessageError::InvalidWebTransportField { name: "origin", .. }
        ));
        let mut fields = lines(CHROMIUM_CONNECT_READY);
        fields[6] = FieldLine {
            name: Bytes::from_static(b"origin"),
            value: Bytes::from_static(b"http://\xc3\xa9"),
        };
        assert!(matches!(
            ConnectRequest::decode(&fields).unwrap_err(),
            MessageError::InvalidWebTransportField { name: "origin", .. }
        ));
        // Firefox's `null` origin is a plain string.
        let mut fields = lines(CHROMIUM_CONNECT_READY);
        fields[6] = f("origin", "null");
        assert_eq!(decode_wt(&fields).origin.as_deref(), Some("null"));
    }

    #[test]
    fn draft02_marker_with_other_value_is_kept() {
        let mut fields = lines(CHROMIUM_CONNECT_READY);
        fields[5] = f("sec-webtransport-http3-draft02", "2");
        let req = decode_wt(&fields);
        assert!(!req.draft02);
        assert_eq!(req.headers[SEC_WEBTRANSPORT_HTTP3_DRAFT02], "2");
    }

    #[test]
    fn malformed_available_protocols_ignored() {
        for bad in ["\"a\", 1", "(\"a\")", "\"a\",", "\"a", "?1"] {
            let fields = [
                lines(CHROMIUM_CONNECT_READY),
                vec![f("wt-available-protocols", bad)],
            ]
            .concat();
            let req = decode_wt(&fields);
            assert!(req.available_protocols.is_empty(), "{bad:?}");
            assert!(!req.headers.contains_key(WT_AVAILABLE_PROTOCOLS));
        }
        // Several field lines are one list.
        let fields = [
            lines(CHROMIUM_CONNECT_READY),
            vec![
                f("wt-available-protocols", "\"a\";q=1"),
                f("wt-available-protocols", "b"),
            ],
        ]
        .concat();
        assert_eq!(decode_wt(&fields).available_protocols, ["a", "b"]);
    }

    #[test]
    fn build_request() {
        let mut req = ConnectRequest::new(ProtocolToken::WebTransport, "127.0.0.1:4471", "/echo");
        req.draft02 = true;
        req.origin = Some("http://localhost:36069".into());
        req.available_protocols = vec!["echo-v1".into(), "other-v2".into()];
        assert_eq!(
            req.encode().unwrap(),
            lines(&[
                (":method", "CONNECT"),
                (":scheme", "https"),
                (":authority", "127.0.0.1:4471"),
                (":path", "/echo"),
                (":protocol", "webtransport"),
                ("sec-webtransport-http3-draft02", "1"),
                ("origin", "http://localhost:36069"),
                ("wt-available-protocols", "\"echo-v1\", \"other-v2\""),
            ])
        );
        let plain = ConnectRequest::new(ProtocolToken::WebTransportH3, "h", "/");
        assert_eq!(plain.encode().unwrap().len(), 5);

        let mut bad = plain.clone();
        bad.available_protocols = vec!["ok".into(), "caf\u{e9}".into()];
        assert_eq!(
            bad.to_request().unwrap_err(),
            BuildError::UnserializableProtocol {
                protocol: "caf\u{e9}".into(),
                source: SerializeError::NotPrintable {
                    index: 3,
                    byte: 0xc3
                }
            }
        );
        let mut bad = plain.clone();
        bad.path = "echo".into();
        assert!(matches!(
            bad.to_request(),
            Err(BuildError::InvalidPath { .. })
        ));
        bad.path = "/a#b".into();
        assert!(matches!(
            bad.to_request(),
            Err(BuildError::InvalidPath { .. })
        ));
        let mut bad = plain.clone();
        bad.authority = "u@h".into();
        assert!(matches!(
            bad.to_request(),
            Err(BuildError::InvalidAuthority { .. })
        ));
        bad.authority = String::new();
        assert!(matches!(
            bad.to_request(),
            Err(BuildError::InvalidAuthority { .. })
        ));
        let mut bad = plain;
        bad.origin = Some("a\nb".into());
        assert!(matches!(
            bad.to_request(),
            Err(BuildError::InvalidOrigin { .. })
        ));
    }

    fn text(rng: &mut Rng, alphabet: &[u8], min: u64, max: u64) -> String {
        let len = min + rng.below(max - min + 1);
        (0..len)
            .map(|_| {
                char::from(alphabet[usize::try_from(rng.below(alphabet.len() as u64)).unwrap()])
            })
            .collect()
    }

    fn printable(rng: &mut Rng, max: u64) -> String {
        let len = rng.below(max + 1);
        (0..len)
            .map(|_| char::from(u8::try_from(0x20 + rng.below(0x5f)).unwrap()))
            .collect()
    }

    fn extra_headers(rng: &mut Rng) -> HeaderMap {
        let mut map = HeaderMap::new();
        for _ in 0..rng.below(5) {
            let name = format!(
                "x-{}",
                text(rng, b"abcdefghijklmnopqrstuvwxyz0123456789-", 1, 10)
            );
            let value = text(rng, b"abcXYZ019 ,;=\"/", 0, 16);
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
        map
    }

    #[test]
    fn random_connect_requests_round_trip() {
        let mut rng = Rng::new(0xc0ec7);
        for _ in 0..4000 {
            let protocol = if rng.coin() {
                ProtocolToken::WebTransport
            } else {
                ProtocolToken::WebTransportH3
            };
            let mut authority = text(&mut rng, b"abcdefghijklmnopqrstuvwxyz0123456789.-", 1, 20);
            if rng.coin() {
                authority = format!("{authority}:{}", rng.below(65536));
            }
            let path = format!(
                "/{}",
                text(
                    &mut rng,
                    b"abcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%",
                    0,
                    30
                )
            );
            let mut req = ConnectRequest::new(protocol, authority, path);
            req.draft02 = rng.coin();
            if rng.coin() {
                req.origin = Some(format!(
                    "https://{}",
                    text(&mut rng, b"abcdef.:0123", 1, 20)
                ));
            }
            req.available_protocols = (0..rng.below(5)).map(|_| printable(&mut rng, 12)).collect();
            req.headers = extra_headers(&mut rng);
            let fields = req.encode().unwrap();
            let back = ConnectRequest::decode(&fields)
                .unwrap_or_else(|e| panic!("{e}: {fields:?}"))
                .unwrap();
            assert_eq!(back, req);
        }
    }

    #[test]
    fn random_connect_responses_round_trip() {
        let mut rng = Rng::new(0x2e5);
        for _ in 0..4000 {
            let status =
                StatusCode::from_u16(u16::try_from(100 + rng.below(500)).unwrap()).unwrap();
            let mut resp = ConnectResponse::new(status);
            resp.draft02 = rng.coin();
            if rng.coin() {
                resp.protocol = Some(printable(&mut rng, 16));
            }
            resp.headers = extra_headers(&mut rng);
            let back = ConnectResponse::decode(&resp.encode().unwrap()).unwrap();
            assert_eq!(back, resp);
        }
    }
}
