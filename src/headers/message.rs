#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! HTTP/3 request and response field sections (RFC 9114 §4.1.2, §4.2, §4.3; RFC 8441/9220).
//!
//! [`decode_request`] and [`decode_response`] turn a decoded QPACK field section into `http`
//! types and reject every malformed message with a [`MessageError`] (H3_MESSAGE_ERROR).
//! [`encode_request`] and [`encode_response`] do the reverse.
//!
//! # Pseudo-header order on encode
//!
//! Pseudo-header fields always come first, in this order:
//! * ordinary request: `:method, :scheme, :authority, :path`;
//! * extended CONNECT (a [`Protocol`] in the extensions): `:method, :scheme, :authority, :path,
//!   :protocol`;
//! * plain CONNECT: `:method, :authority`;
//! * response: `:status`.
//!
//! # How requests are represented
//!
//! The request URI holds `:scheme`, `:authority` and `:path` (for a plain CONNECT only the
//! authority, as an authority-form URI). When a request has no `:authority` but a `host` field,
//! the URI's authority is taken from `host` (and `host` stays in the header map). `:protocol` is
//! carried as a [`Protocol`] in the request extensions. The version is set to HTTP/3.

use bytes::Bytes;
use http::uri::{Authority, Parts, PathAndQuery, Scheme};
use http::{
    HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri, Version,
};
use thiserror::Error;

use super::sf::is_tchar;
use crate::qpack::FieldLine;

/// The HTTP/3 error code for a malformed request or response (RFC 9114 §8.1).
pub const H3_MESSAGE_ERROR: u64 = 0x10e;

/// Longest excerpt of peer bytes kept in an error payload.
const EXCERPT_LEN: usize = 64;

/// The `:protocol` pseudo-header of an extended CONNECT request (RFC 8441 §4, RFC 9220), stored
/// in the extensions of an [`http::Request`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Protocol(pub String);

impl Protocol {
    /// The protocol token, e.g. `webtransport`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a field section is a request or a response header section.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A request header section.
    Request,
    /// A response header section.
    Response,
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Request => "request",
            Self::Response => "response",
        })
    }
}

/// A malformed request or response (RFC 9114 §4.1.2). Every variant is a stream error of type
/// H3_MESSAGE_ERROR; see [`MessageError::code`].
///
/// Payloads that come from the peer are escaped and cut to 64 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum MessageError {
    /// A field name holds an uppercase character (RFC 9114 §4.2).
    #[error("field name {name:?} contains uppercase characters")]
    UppercaseName {
        /// The field name.
        name: String,
    },
    /// A field name is empty or holds a character that is not a `tchar` (RFC 9110 §5.1).
    #[error("invalid field name {name:?}")]
    InvalidName {
        /// The field name.
        name: String,
    },
    /// A field value holds a character not allowed by `field-content` (RFC 9110 §5.5): a control
    /// character, or leading/trailing whitespace (RFC 9114 §10.3).
    #[error("invalid value for field {name:?}")]
    InvalidValue {
        /// The field name.
        name: String,
    },
    /// A pseudo-header field follows a regular field (RFC 9114 §4.3).
    #[error("pseudo-header {name} after a regular field")]
    PseudoAfterRegular {
        /// The pseudo-header name.
        name: String,
    },
    /// A pseudo-header field that HTTP/3 does not define (RFC 9114 §4.3).
    #[error("unknown pseudo-header {name:?}")]
    UnknownPseudo {
        /// The pseudo-header name.
        name: String,
    },
    /// A pseudo-header field appears twice (RFC 9114 §4.3).
    #[error("duplicate pseudo-header {name}")]
    DuplicatePseudo {
        /// The pseudo-header name.
        name: &'static str,
    },
    /// A response pseudo-header in a request, or a request pseudo-header in a response
    /// (RFC 9114 §4.3).
    #[error("pseudo-header {name} not allowed in a {kind}")]
    MisplacedPseudo {
        /// The pseudo-header name.
        name: &'static str,
        /// The kind of message it appeared in.
        kind: MessageKind,
    },
    /// A mandatory pseudo-header is missing (RFC 9114 §4.3.1/§4.3.2, RFC 9220). For `:authority`
    /// on an ordinary request this means neither `:authority` nor `host` was present.
    #[error("missing pseudo-header {name}")]
    MissingPseudo {
        /// The pseudo-header name.
        name: &'static str,
    },
    /// `:path` is empty (RFC 9114 §4.3.1).
    #[error("empty :path")]
    EmptyPath,
    /// A plain CONNECT request carries `:scheme` or `:path` (RFC 9114 §4.4).
    #[error("plain CONNECT request must not carry {name}")]
    PseudoInPlainConnect {
        /// The pseudo-header name.
        name: &'static str,
    },
    /// `:protocol` on a request whose method is not CONNECT (RFC 8441 §4).
    #[error(":protocol with method {method}")]
    ProtocolWithoutConnect {
        /// The request method.
        method: String,
    },
    /// A pseudo-header value has an invalid syntax.
    #[error("invalid {name} value {value:?}: {reason}")]
    InvalidPseudoValue {
        /// The pseudo-header name.
        name: &'static str,
        /// The value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `host` and `:authority` are both present and differ (RFC 9114 §4.3.1).
    #[error("host {host:?} differs from :authority {authority:?}")]
    AuthorityMismatch {
        /// The `:authority` value.
        authority: String,
        /// The `host` value.
        host: String,
    },
    /// A connection-specific field (RFC 9114 §4.2).
    #[error("connection-specific field {name}")]
    ConnectionSpecificField {
        /// The field name.
        name: String,
    },
    /// `te` with a value other than `trailers` (RFC 9114 §4.2).
    #[error("te field with value {value:?} (only \"trailers\" is allowed)")]
    InvalidTe {
        /// The value.
        value: String,
    },
    /// `:status` is not three digits in 100..=599 (RFC 9114 §4.3.2, RFC 9110 §15).
    #[error("invalid :status {value:?}")]
    InvalidStatus {
        /// The value.
        value: String,
    },
    /// The field section holds more fields than a header map can store.
    #[error("too many fields in the field section")]
    TooManyFields,
    /// A field that must not appear on a request using the Capsule Protocol, such as
    /// `content-length` or `content-type` on a WebTransport CONNECT (RFC 9297 §3.2).
    #[error("field {name} not allowed on a WebTransport CONNECT")]
    ForbiddenWebTransportField {
        /// The field name.
        name: &'static str,
    },
    /// A WebTransport CONNECT whose `:scheme` is not `https`.
    #[error("WebTransport CONNECT with scheme {scheme:?}")]
    WebTransportSchemeNotHttps {
        /// The scheme found (empty if none).
        scheme: String,
    },
    /// A WebTransport-specific field that cannot be interpreted (for example several `origin`
    /// fields, or an `origin` that is not ASCII).
    #[error("invalid {name} field on a WebTransport CONNECT: {reason}")]
    InvalidWebTransportField {
        /// The field name.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl MessageError {
    /// The HTTP/3 error code to reset the stream with: always H3_MESSAGE_ERROR (0x10e).
    pub fn code(&self) -> u64 {
        H3_MESSAGE_ERROR
    }
}

/// Escapes and truncates peer bytes for an error payload.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let cut = bytes.get(..EXCERPT_LEN).unwrap_or(bytes);
    cut.escape_ascii().to_string()
}

/// The pseudo-header fields HTTP/3 defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pseudo {
    Method,
    Scheme,
    Authority,
    Path,
    Protocol,
    Status,
}

impl Pseudo {
    fn from_name(name: &[u8]) -> Option<Self> {
        Some(match name {
            b":method" => Self::Method,
            b":scheme" => Self::Scheme,
            b":authority" => Self::Authority,
            b":path" => Self::Path,
            b":protocol" => Self::Protocol,
            b":status" => Self::Status,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Method => ":method",
            Self::Scheme => ":scheme",
            Self::Authority => ":authority",
            Self::Path => ":path",
            Self::Protocol => ":protocol",
            Self::Status => ":status",
        }
    }

    fn kind(self) -> MessageKind {
        match self {
            Self::Status => MessageKind::Response,
            _ => MessageKind::Request,
        }
    }
}

/// Pseudo-header values found in a field section.
#[derive(Default)]
struct PseudoValues<'a> {
    method: Option<&'a [u8]>,
    scheme: Option<&'a [u8]>,
    authority: Option<&'a [u8]>,
    path: Option<&'a [u8]>,
    protocol: Option<&'a [u8]>,
    status: Option<&'a [u8]>,
}

impl<'a> PseudoValues<'a> {
    fn slot(&mut self, p: Pseudo) -> &mut Option<&'a [u8]> {
        match p {
            Pseudo::Method => &mut self.method,
            Pseudo::Scheme => &mut self.scheme,
            Pseudo::Authority => &mut self.authority,
            Pseudo::Path => &mut self.path,
            Pseudo::Protocol => &mut self.protocol,
            Pseudo::Status => &mut self.status,
        }
    }
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `field-content` of RFC 9110 §5.5 (an empty value is allowed): visible ASCII, obs-text, and
/// inner spaces or tabs.
pub(crate) fn is_valid_value(value: &[u8]) -> bool {
    if value.first().is_some_and(|b| is_ows(*b)) || value.last().is_some_and(|b| is_ows(*b)) {
        return false;
    }
    value
        .iter()
        .all(|&b| b == b'\t' || (0x20..=0x7e).contains(&b) || b >= 0x80)
}

/// Connection-specific fields that HTTP/3 forbids (RFC 9114 §4.2). `te` is handled separately.
const CONNECTION_SPECIFIC: [&str; 5] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

fn check_connection_specific(name: &[u8], value: &[u8]) -> Result<(), MessageError> {
    if CONNECTION_SPECIFIC.iter().any(|c| c.as_bytes() == name) {
        return Err(MessageError::ConnectionSpecificField {
            name: excerpt(name),
        });
    }
    if name == b"te" && !value.eq_ignore_ascii_case(b"trailers") {
        return Err(MessageError::InvalidTe {
            value: excerpt(value),
        });
    }
    Ok(())
}

/// Whether `encode_*` must leave this field out (it would make the message malformed).
fn is_forbidden_on_encode(name: &HeaderName, value: &HeaderValue) -> bool {
    check_connection_specific(name.as_str().as_bytes(), value.as_bytes()).is_err()
}

/// Splits a field section into its pseudo-header values and a map of the regular fields,
/// enforcing the rules common to requests and responses.
fn split(
    fields: &[FieldLine],
    kind: MessageKind,
) -> Result<(PseudoValues<'_>, HeaderMap), MessageError> {
    let mut pseudo = PseudoValues::default();
    let mut headers = HeaderMap::new();
    let mut seen_regular = false;
    for field in fields {
        let name = field.name.as_ref();
        let value = field.value.as_ref();
        if name.iter().any(u8::is_ascii_uppercase) {
            return Err(MessageError::UppercaseName {
                name: excerpt(name),
            });
        }
        if name.first() == Some(&b':') {
            if seen_regular {
                return Err(MessageError::PseudoAfterRegular {
                    name: excerpt(name),
                });
            }
            let p = Pseudo::from_name(name).ok_or_else(|| MessageError::UnknownPseudo {
                name: excerpt(name),
            })?;
            if p.kind() != kind {
                return Err(MessageError::MisplacedPseudo {
                    name: p.name(),
                    kind,
                });
            }
            if !is_valid_value(value) {
                return Err(MessageError::InvalidValue {
                    name: p.name().to_owned(),
                });
            }
            let slot = pseudo.slot(p);
            if slot.is_some() {
                return Err(MessageError::DuplicatePseudo { name: p.name() });
            }
            *slot = Some(value);
        } else {
            seen_regular = true;
            if name.is_empty() || !name.iter().all(|b| is_tchar(*b)) {
                return Err(MessageError::InvalidName {
                    name: excerpt(name),
                });
            }
            if !is_valid_value(value) {
                return Err(MessageError::InvalidValue {
                    name: excerpt(name),
                });
            }
            check_connection_specific(name, value)?;
            let header_name =
                HeaderName::from_bytes(name).map_err(|_| MessageError::InvalidName {
                    name: excerpt(name),
                })?;
            let header_value =
                HeaderValue::from_bytes(value).map_err(|_| MessageError::InvalidValue {
                    name: excerpt(name),
                })?;
            headers
                .try_append(header_name, header_value)
                .map_err(|_| MessageError::TooManyFields)?;
        }
    }
    Ok((pseudo, headers))
}

fn invalid(name: &'static str, value: &[u8], reason: &'static str) -> MessageError {
    MessageError::InvalidPseudoValue {
        name,
        value: excerpt(value),
        reason,
    }
}

fn parse_authority(name: &'static str, value: &[u8]) -> Result<Authority, MessageError> {
    if value.is_empty() {
        return Err(invalid(name, value, "empty authority"));
    }
    if value.contains(&b'@') {
        return Err(invalid(name, value, "authority must not contain userinfo"));
    }
    let authority =
        Authority::try_from(value).map_err(|_| invalid(name, value, "not a valid authority"))?;
    if authority.as_str().as_bytes() != value {
        return Err(invalid(name, value, "not a valid authority"));
    }
    Ok(authority)
}

fn parse_path(value: &[u8], method: &Method) -> Result<PathAndQuery, MessageError> {
    const NAME: &str = ":path";
    if value.is_empty() {
        return Err(MessageError::EmptyPath);
    }
    let asterisk = value == b"*";
    if asterisk && method != Method::OPTIONS {
        return Err(invalid(NAME, value, "\"*\" is only allowed with OPTIONS"));
    }
    if !asterisk && value.first() != Some(&b'/') {
        return Err(invalid(NAME, value, "must start with \"/\""));
    }
    let path =
        PathAndQuery::try_from(value).map_err(|_| invalid(NAME, value, "not a valid path"))?;
    // PathAndQuery silently drops a fragment; a :path must not have one.
    if path.as_str().as_bytes() != value {
        return Err(invalid(NAME, value, "not a valid path"));
    }
    Ok(path)
}

/// Checks every `host` field against the authority (RFC 9114 §4.3.1).
fn check_host(headers: &HeaderMap, authority: &Authority) -> Result<(), MessageError> {
    for host in headers.get_all(http::header::HOST) {
        if !host
            .as_bytes()
            .eq_ignore_ascii_case(authority.as_str().as_bytes())
        {
            return Err(MessageError::AuthorityMismatch {
                authority: authority.as_str().to_owned(),
                host: excerpt(host.as_bytes()),
            });
        }
    }
    Ok(())
}

/// Decodes a request header section (RFC 9114 §4.1.2, §4.2, §4.3.1, §4.4; RFC 9220).
///
/// Rules enforced, each with its own [`MessageError`] variant: lowercase names; valid name and
/// value bytes; pseudo-headers first, known, not repeated and request-only; no
/// connection-specific fields and `te` only as `trailers`; required pseudo-headers (ordinary
/// request: `:method`, `:scheme`, non-empty `:path`, and `:authority` or `host`; plain CONNECT:
/// `:method` and `:authority` only; extended CONNECT: `:method` = CONNECT plus `:scheme`,
/// `:authority` and `:path`); `host` equal to `:authority` when both are present; no userinfo in
/// the authority. `:protocol` must be a token.
///
/// WebTransport-specific rules live in [`super::connect::ConnectRequest::from_request`].
pub fn decode_request(fields: &[FieldLine]) -> Result<Request<()>, MessageError> {
    let (pseudo, headers) = split(fields, MessageKind::Request)?;

    let method_bytes = pseudo
        .method
        .ok_or(MessageError::MissingPseudo { name: ":method" })?;
    let method = Method::from_bytes(method_bytes)
        .map_err(|_| invalid(":method", method_bytes, "not a token"))?;

    let protocol = match pseudo.protocol {
        Some(value) => {
            if method != Method::CONNECT {
                return Err(MessageError::ProtocolWithoutConnect {
                    method: method.as_str().to_owned(),
                });
            }
            if value.is_empty() || !value.iter().all(|b| is_tchar(*b)) {
                return Err(invalid(":protocol", value, "not a token"));
            }
            // A token is ASCII, so this conversion cannot fail.
            let text = std::str::from_utf8(value)
                .map_err(|_| invalid(":protocol", value, "not a token"))?;
            Some(Protocol(text.to_owned()))
        }
        None => None,
    };

    let mut parts = Parts::default();
    if method == Method::CONNECT && protocol.is_none() {
        if pseudo.scheme.is_some() {
            return Err(MessageError::PseudoInPlainConnect { name: ":scheme" });
        }
        if pseudo.path.is_some() {
            return Err(MessageError::PseudoInPlainConnect { name: ":path" });
        }
        let value = pseudo
            .authority
            .ok_or(MessageError::MissingPseudo { name: ":authority" })?;
        let authority = parse_authority(":authority", value)?;
        check_host(&headers, &authority)?;
        parts.authority = Some(authority);
    } else {
        let scheme_bytes = pseudo
            .scheme
            .ok_or(MessageError::MissingPseudo { name: ":scheme" })?;
        let scheme = Scheme::try_from(scheme_bytes)
            .map_err(|_| invalid(":scheme", scheme_bytes, "not a valid scheme"))?;
        let authority = match pseudo.authority {
            Some(value) => parse_authority(":authority", value)?,
            None if protocol.is_some() => {
                return Err(MessageError::MissingPseudo { name: ":authority" });
            }
            None => {
                let host = headers
                    .get(http::header::HOST)
                    .ok_or(MessageError::MissingPseudo { name: ":authority" })?;
                parse_authority("host", host.as_bytes())?
            }
        };
        check_host(&headers, &authority)?;
        let path_bytes = pseudo
            .path
            .ok_or(MessageError::MissingPseudo { name: ":path" })?;
        let path = parse_path(path_bytes, &method)?;
        parts.scheme = Some(scheme);
        parts.authority = Some(authority);
        parts.path_and_query = Some(path);
    }
    let uri = Uri::from_parts(parts).map_err(|_| {
        invalid(
            ":path",
            pseudo.path.unwrap_or_default(),
            "does not form a URI",
        )
    })?;

    let mut request = Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_3;
    *request.headers_mut() = headers;
    if let Some(protocol) = protocol {
        request.extensions_mut().insert(protocol);
    }
    Ok(request)
}

/// Decodes a response header section (RFC 9114 §4.1.2, §4.2, §4.3.2).
///
/// `:status` is required, must be exactly three digits and lie in 100..=599; request
/// pseudo-headers are rejected; the common field rules of [`decode_request`] apply.
pub fn decode_response(fields: &[FieldLine]) -> Result<Response<()>, MessageError> {
    let (pseudo, headers) = split(fields, MessageKind::Response)?;
    let value = pseudo
        .status
        .ok_or(MessageError::MissingPseudo { name: ":status" })?;
    let bad_status = || MessageError::InvalidStatus {
        value: excerpt(value),
    };
    let first = match value {
        [first, rest @ ..] if rest.len() == 2 && value.iter().all(u8::is_ascii_digit) => *first,
        _ => return Err(bad_status()),
    };
    if !(b'1'..=b'5').contains(&first) {
        return Err(bad_status());
    }
    let status = StatusCode::from_bytes(value).map_err(|_| bad_status())?;
    let mut response = Response::new(());
    *response.status_mut() = status;
    *response.version_mut() = Version::HTTP_3;
    *response.headers_mut() = headers;
    Ok(response)
}

fn line(name: &'static str, value: &str) -> FieldLine {
    FieldLine {
        name: Bytes::from_static(name.as_bytes()),
        value: Bytes::copy_from_slice(value.as_bytes()),
    }
}

fn push_regular(out: &mut Vec<FieldLine>, headers: &HeaderMap) {
    for (name, value) in headers {
        if is_forbidden_on_encode(name, value) {
            continue;
        }
        out.push(FieldLine {
            name: Bytes::copy_from_slice(name.as_str().as_bytes()),
            value: Bytes::copy_from_slice(value.as_bytes()),
        });
    }
}

/// Encodes a request as a field section: pseudo-headers first (see the module documentation for
/// the order), then the regular fields with lowercase names.
///
/// Parts the URI lacks are left out (give an absolute URI, or an authority for a plain CONNECT).
/// Connection-specific fields and a `te` other than `trailers` are dropped, since HTTP/3 forbids
/// them. Header values are copied as they are; one with leading or trailing whitespace would
/// be rejected by a strict peer.
pub fn encode_request(request: &Request<()>) -> Vec<FieldLine> {
    let mut out = Vec::with_capacity(request.headers().len().saturating_add(5));
    let method = request.method();
    let protocol = request.extensions().get::<Protocol>();
    let plain_connect = method == Method::CONNECT && protocol.is_none();
    let uri = request.uri();
    out.push(line(":method", method.as_str()));
    if let Some(scheme) = uri.scheme_str().filter(|_| !plain_connect) {
        out.push(line(":scheme", scheme));
    }
    if let Some(authority) = uri.authority() {
        out.push(line(":authority", authority.as_str()));
    }
    if let Some(path) = uri.path_and_query().filter(|_| !plain_connect) {
        out.push(line(":path", path.as_str()));
    }
    if let Some(protocol) = protocol {
        out.push(line(":protocol", protocol.as_str()));
    }
    push_regular(&mut out, request.headers());
    out
}

/// Encodes a response as a field section: `:status`, then the regular fields with lowercase
/// names (connection-specific fields dropped, as in [`encode_request`]).
pub fn encode_response(response: &Response<()>) -> Vec<FieldLine> {
    let mut out = Vec::with_capacity(response.headers().len().saturating_add(1));
    out.push(line(":status", response.status().as_str()));
    push_regular(&mut out, response.headers());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn f(name: &str, value: &str) -> FieldLine {
        FieldLine {
            name: Bytes::copy_from_slice(name.as_bytes()),
            value: Bytes::copy_from_slice(value.as_bytes()),
        }
    }

    fn get() -> Vec<FieldLine> {
        vec![
            f(":method", "GET"),
            f(":scheme", "https"),
            f(":authority", "example.com"),
            f(":path", "/index.html?x=1"),
            f("accept", "*/*"),
        ]
    }

    fn ext_connect() -> Vec<FieldLine> {
        vec![
            f(":method", "CONNECT"),
            f(":scheme", "https"),
            f(":authority", "example.com:443"),
            f(":path", "/wt"),
            f(":protocol", "webtransport"),
        ]
    }

    fn with(mut base: Vec<FieldLine>, extra: FieldLine) -> Vec<FieldLine> {
        base.push(extra);
        base
    }

    fn without(base: Vec<FieldLine>, name: &str) -> Vec<FieldLine> {
        base.into_iter()
            .filter(|l| l.name != name.as_bytes())
            .collect()
    }

    fn req_err(fields: &[FieldLine]) -> MessageError {
        let err = decode_request(fields).unwrap_err();
        assert_eq!(err.code(), 0x10e);
        err
    }

    #[test]
    fn ordinary_request_decodes() {
        let req = decode_request(&get()).unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(req.uri(), "https://example.com/index.html?x=1");
        assert_eq!(req.headers()["accept"], "*/*");
        assert_eq!(req.version(), Version::HTTP_3);
        assert!(req.extensions().get::<Protocol>().is_none());
    }

    #[test]
    fn host_instead_of_authority() {
        let fields = with(without(get(), ":authority"), f("host", "example.org:8443"));
        let req = decode_request(&fields).unwrap();
        assert_eq!(req.uri().authority().unwrap(), "example.org:8443");
        let fields = with(get(), f("host", "EXAMPLE.com"));
        assert!(decode_request(&fields).is_ok());
        let fields = with(get(), f("host", "other.com"));
        assert!(matches!(
            req_err(&fields),
            MessageError::AuthorityMismatch { .. }
        ));
    }

    #[test]
    fn extended_connect_decodes() {
        let req = decode_request(&ext_connect()).unwrap();
        assert_eq!(req.method(), Method::CONNECT);
        assert_eq!(req.uri(), "https://example.com:443/wt");
        assert_eq!(
            req.extensions().get::<Protocol>(),
            Some(&Protocol("webtransport".into()))
        );
    }

    #[test]
    fn plain_connect() {
        let fields = vec![
            f(":method", "CONNECT"),
            f(":authority", "proxy.example:443"),
        ];
        let req = decode_request(&fields).unwrap();
        assert_eq!(req.uri().authority().unwrap(), "proxy.example:443");
        assert!(req.uri().scheme().is_none());
        assert_eq!(encode_request(&req), fields);
        assert_eq!(
            req_err(&with(fields.clone(), f(":scheme", "https"))),
            MessageError::PseudoInPlainConnect { name: ":scheme" }
        );
        assert_eq!(
            req_err(&with(fields, f(":path", "/"))),
            MessageError::PseudoInPlainConnect { name: ":path" }
        );
        assert_eq!(
            req_err(&[f(":method", "CONNECT")]),
            MessageError::MissingPseudo { name: ":authority" }
        );
    }

    #[test]
    fn uppercase_name() {
        let err = req_err(&with(get(), f("Accept-Language", "en")));
        assert_eq!(
            err,
            MessageError::UppercaseName {
                name: "Accept-Language".into()
            }
        );
        assert!(matches!(
            req_err(&[f(":Method", "GET")]),
            MessageError::UppercaseName { .. }
        ));
    }

    #[test]
    fn pseudo_after_regular() {
        let mut fields = get();
        fields.swap(3, 4);
        assert_eq!(
            req_err(&fields),
            MessageError::PseudoAfterRegular {
                name: ":path".into()
            }
        );
    }

    #[test]
    fn duplicate_pseudo() {
        let mut fields = get();
        fields.insert(1, f(":method", "GET"));
        assert_eq!(
            req_err(&fields),
            MessageError::DuplicatePseudo { name: ":method" }
        );
    }

    #[test]
    fn unknown_pseudo() {
        let mut fields = get();
        fields.insert(0, f(":foo", "bar"));
        assert_eq!(
            req_err(&fields),
            MessageError::UnknownPseudo {
                name: ":foo".into()
            }
        );
        assert!(matches!(
            req_err(&[f(":", "x")]),
            MessageError::UnknownPseudo { .. }
        ));
    }

    #[test]
    fn misplaced_pseudo() {
        let mut fields = get();
        fields.insert(0, f(":status", "200"));
        assert_eq!(
            req_err(&fields),
            MessageError::MisplacedPseudo {
                name: ":status",
                kind: MessageKind::Request
            }
        );
        let err = decode_response(&[f(":status", "200"), f(":path", "/")]).unwrap_err();
        assert_eq!(
            err,
            MessageError::MisplacedPseudo {
                name: ":path",
                kind: MessageKind::Response
            }
        );
    }

    #[test]
    fn missing_pseudo_on_ordinary_request() {
        for (name, want) in [
            (":method", ":method"),
            (":scheme", ":scheme"),
            (":path", ":path"),
            (":authority", ":authority"),
        ] {
            assert_eq!(
                req_err(&without(get(), name)),
                MessageError::MissingPseudo { name: want }
            );
        }
    }

    #[test]
    fn empty_or_bad_path() {
        let mut fields = get();
        fields[3] = f(":path", "");
        assert_eq!(req_err(&fields), MessageError::EmptyPath);
        fields[3] = f(":path", "index.html");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidPseudoValue { name: ":path", .. }
        ));
        fields[3] = f(":path", "/a#frag");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidPseudoValue { name: ":path", .. }
        ));
        fields[3] = f(":path", "*");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidPseudoValue { name: ":path", .. }
        ));
        fields[0] = f(":method", "OPTIONS");
        assert!(decode_request(&fields).is_ok());
    }

    #[test]
    fn extended_connect_missing_pseudo() {
        for name in [":scheme", ":authority", ":path"] {
            assert_eq!(
                req_err(&without(ext_connect(), name)),
                MessageError::MissingPseudo {
                    name: match name {
                        ":scheme" => ":scheme",
                        ":authority" => ":authority",
                        _ => ":path",
                    }
                }
            );
        }
        // A host field does not stand in for :authority on an extended CONNECT.
        let fields = with(
            without(ext_connect(), ":authority"),
            f("host", "example.com"),
        );
        assert_eq!(
            req_err(&fields),
            MessageError::MissingPseudo { name: ":authority" }
        );
    }

    #[test]
    fn protocol_with_get() {
        let mut fields = get();
        fields.insert(4, f(":protocol", "webtransport"));
        assert_eq!(
            req_err(&fields),
            MessageError::ProtocolWithoutConnect {
                method: "GET".into()
            }
        );
    }

    #[test]
    fn protocol_must_be_token() {
        let mut fields = ext_connect();
        fields[4] = f(":protocol", "web transport");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidPseudoValue {
                name: ":protocol",
                ..
            }
        ));
        fields[4] = f(":protocol", "");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidPseudoValue {
                name: ":protocol",
                ..
            }
        ));
    }

    #[test]
    fn connection_specific_fields() {
        for name in [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
        ] {
            assert_eq!(
                req_err(&with(get(), f(name, "x"))),
                MessageError::ConnectionSpecificField { name: name.into() }
            );
        }
    }

    #[test]
    fn te_only_trailers() {
        assert_eq!(
            req_err(&with(get(), f("te", "gzip"))),
            MessageError::InvalidTe {
                value: "gzip".into()
            }
        );
        assert!(decode_request(&with(get(), f("te", "trailers"))).is_ok());
    }

    #[test]
    fn invalid_name_and_value_bytes() {
        for name in ["", "bad name", "bad:name", "caf\u{e9}", "a\0b"] {
            assert!(
                matches!(
                    req_err(&with(get(), f(name, "x"))),
                    MessageError::InvalidName { .. }
                ),
                "{name:?}"
            );
        }
        for value in ["a\nb", "a\rb", "a\0b", " lead", "trail\t", "del\u{7f}"] {
            assert!(
                matches!(
                    req_err(&with(get(), f("x-v", value))),
                    MessageError::InvalidValue { .. }
                ),
                "{value:?}"
            );
        }
        let mut fields = get();
        fields[3] = f(":path", "/a\nb");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidValue { .. }
        ));
        // Inner whitespace, empty values and obs-text are fine.
        let ok = with(get(), f("x-v", "a \tb"));
        assert!(decode_request(&with(ok, f("x-empty", ""))).is_ok());
        let obs = FieldLine {
            name: Bytes::from_static(b"x-obs"),
            value: Bytes::from_static(b"\xc3\xa9"),
        };
        assert!(decode_request(&with(get(), obs)).is_ok());
    }

    #[test]
    fn invalid_pseudo_values() {
        let mut fields = get();
        fields[0] = f(":method", "G T");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidPseudoValue {
                name: ":method",
                ..
            }
        ));
        let mut fields = get();
        fields[2] = f(":authority", "user@example.com");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidPseudoValue {
                name: ":authority",
                ..
            }
        ));
        fields[2] = f(":authority", "");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidPseudoValue {
                name: ":authority",
                ..
            }
        ));
        let mut fields = get();
        fields[1] = f(":scheme", "ht tp");
        assert!(matches!(
            req_err(&fields),
            MessageError::InvalidPseudoValue {
                name: ":scheme",
                ..
            }
        ));
    }

    #[test]
    fn responses() {
        let resp = decode_response(&[f(":status", "200"), f("server", "x")]).unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["server"], "x");
        for bad in ["20", "2000", "099", "600", "999", "abc", "", "+20", "2 0"] {
            assert!(
                matches!(
                    decode_response(&[f(":status", bad)]).unwrap_err(),
                    MessageError::InvalidStatus { .. } | MessageError::InvalidValue { .. }
                ),
                "{bad:?}"
            );
        }
        for good in ["100", "101", "204", "301", "404", "599"] {
            assert!(decode_response(&[f(":status", good)]).is_ok(), "{good}");
        }
        assert_eq!(
            decode_response(&[f("server", "x")]).unwrap_err(),
            MessageError::MissingPseudo { name: ":status" }
        );
        assert_eq!(
            decode_response(&[f(":status", "200"), f(":status", "200")]).unwrap_err(),
            MessageError::DuplicatePseudo { name: ":status" }
        );
        assert_eq!(
            decode_response(&[f("server", "x"), f(":status", "200")]).unwrap_err(),
            MessageError::PseudoAfterRegular {
                name: ":status".into()
            }
        );
        assert!(matches!(
            decode_response(&[f(":status", "200"), f("connection", "close")]).unwrap_err(),
            MessageError::ConnectionSpecificField { .. }
        ));
        assert!(matches!(
            decode_response(&[f(":status", "200"), f("Server", "x")]).unwrap_err(),
            MessageError::UppercaseName { .. }
        ));
    }

    #[test]
    fn encode_order_and_filtering() {
        let mut req = decode_request(&ext_connect()).unwrap();
        req.headers_mut()
            .insert("connection", HeaderValue::from_static("close"));
        req.headers_mut()
            .insert("te", HeaderValue::from_static("gzip"));
        req.headers_mut()
            .insert("origin", HeaderValue::from_static("https://a.example"));
        let mut want = ext_connect();
        want.push(f("origin", "https://a.example"));
        assert_eq!(encode_request(&req), want);
        let resp = Response::builder()
            .status(404)
            .header("Content-Type", "text/plain")
            .body(())
            .unwrap();
        assert_eq!(
            encode_response(&resp),
            vec![f(":status", "404"), f("content-type", "text/plain")]
        );
    }

    #[test]
    fn too_many_fields_is_an_error_not_a_panic() {
        let mut fields = get();
        // The limit is on distinct names (2^15 in the http crate).
        fields.extend((0..40_000).map(|i| f(&format!("x-{i}"), "b")));
        let result = decode_request(&fields);
        assert!(
            matches!(result, Err(MessageError::TooManyFields)),
            "expected TooManyFields"
        );
    }

    #[test]
    fn long_payloads_are_cut() {
        let long = "A".repeat(1000);
        match req_err(&with(get(), f(&long, "x"))) {
            MessageError::UppercaseName { name } => assert_eq!(name.len(), 64),
            other => panic!("{other:?}"),
        }
    }

    fn pick<'a>(rng: &mut Rng, items: &[&'a str]) -> &'a str {
        items[usize::try_from(rng.below(items.len() as u64)).unwrap()]
    }

    fn random_text(rng: &mut Rng, alphabet: &[u8], min: u64, max: u64) -> String {
        let len = min + rng.below(max - min + 1);
        (0..len)
            .map(|_| {
                char::from(alphabet[usize::try_from(rng.below(alphabet.len() as u64)).unwrap()])
            })
            .collect()
    }

    fn random_headers(rng: &mut Rng) -> HeaderMap {
        let mut map = HeaderMap::new();
        for _ in 0..rng.below(8) {
            let name = format!(
                "x-{}",
                random_text(rng, b"abcdefghijklmnopqrstuvwxyz0123456789-_.!~", 1, 12)
            );
            let mut value = random_text(rng, b"abcXYZ019 \t,;=\"'/?()*-", 0, 20).into_bytes();
            if rng.below(5) == 0 {
                value.extend_from_slice(&[0xc3, 0xa9, 0xff]);
            }
            let trimmed: Vec<u8> = value.trim_ascii().to_vec();
            let value = HeaderValue::from_bytes(&trimmed).unwrap();
            map.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), value);
        }
        map
    }

    fn random_request(rng: &mut Rng) -> Request<()> {
        let method = pick(
            rng,
            &[
                "GET", "POST", "PUT", "DELETE", "OPTIONS", "CONNECT", "PATCH", "FOO-BAR",
            ],
        );
        let host = random_text(rng, b"abcdefghijklmnopqrstuvwxyz0123456789.-", 1, 20);
        let authority = if rng.coin() {
            format!("{host}:{}", rng.below(65536))
        } else {
            host
        };
        let mut path = format!(
            "/{}",
            random_text(
                rng,
                b"abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-._~!$&'()*+,;=:@/%",
                0,
                30
            )
        );
        if rng.coin() {
            path.push('?');
            path.push_str(&random_text(rng, b"abc123=&/?%+", 0, 20));
        }
        let scheme = pick(rng, &["https", "http"]);
        let protocol = method == "CONNECT" && rng.below(4) != 0;
        let mut builder = Request::builder().method(method).version(Version::HTTP_3);
        builder = if method == "CONNECT" && !protocol {
            let mut parts = Parts::default();
            parts.authority = Some(Authority::try_from(authority.as_str()).unwrap());
            builder.uri(Uri::from_parts(parts).unwrap())
        } else {
            builder.uri(format!("{scheme}://{authority}{path}"))
        };
        if protocol {
            builder = builder.extension(Protocol(
                pick(
                    rng,
                    &[
                        "webtransport",
                        "webtransport-h3",
                        "websocket",
                        "connect-udp",
                    ],
                )
                .into(),
            ));
        }
        let mut req = builder.body(()).unwrap();
        *req.headers_mut() = random_headers(rng);
        if method == "OPTIONS" && rng.below(4) == 0 {
            *req.uri_mut() = Uri::builder()
                .scheme(scheme)
                .authority(req.uri().authority().unwrap().clone())
                .path_and_query("*")
                .build()
                .unwrap();
        }
        req
    }

    #[test]
    fn random_requests_round_trip() {
        let mut rng = Rng::new(0x4833);
        for _ in 0..5000 {
            let req = random_request(&mut rng);
            let fields = encode_request(&req);
            assert!(
                fields
                    .iter()
                    .all(|l| !l.name.iter().any(u8::is_ascii_uppercase))
            );
            let back = decode_request(&fields).unwrap_or_else(|e| panic!("{e}: {fields:?}"));
            assert_eq!(back.method(), req.method());
            assert_eq!(back.uri(), req.uri());
            assert_eq!(back.headers(), req.headers());
            assert_eq!(back.version(), Version::HTTP_3);
            assert_eq!(
                back.extensions().get::<Protocol>(),
                req.extensions().get::<Protocol>()
            );
            assert_eq!(encode_request(&back), fields);
        }
    }

    #[test]
    fn random_responses_round_trip() {
        let mut rng = Rng::new(0x5200);
        for _ in 0..5000 {
            let status =
                StatusCode::from_u16(u16::try_from(100 + rng.below(500)).unwrap()).unwrap();
            let mut resp = Response::new(());
            *resp.status_mut() = status;
            *resp.headers_mut() = random_headers(&mut rng);
            let fields = encode_response(&resp);
            let back = decode_response(&fields).unwrap();
            assert_eq!(back.status(), status);
            assert_eq!(back.headers(), resp.headers());
            assert_eq!(encode_response(&back), fields);
        }
    }

    #[test]
    fn random_field_sections_never_panic() {
        let mut rng = Rng::new(7);
        let names = [
            ":method",
            ":scheme",
            ":authority",
            ":path",
            ":protocol",
            ":status",
            ":x",
            "host",
            "te",
            "x-a",
            "Upper",
            "content-length",
            "",
        ];
        let values = [
            "GET",
            "CONNECT",
            "https",
            "a.example",
            "/",
            "*",
            "",
            "200",
            "trailers",
            " x",
            "webtransport",
            "a@b",
            "/#",
            "99",
        ];
        for _ in 0..20000 {
            let n = rng.below(8);
            let fields: Vec<FieldLine> = (0..n)
                .map(|_| {
                    let mut value = pick(&mut rng, &values).as_bytes().to_vec();
                    if rng.below(10) == 0 {
                        value.push(u8::try_from(rng.below(256)).unwrap());
                    }
                    FieldLine {
                        name: Bytes::copy_from_slice(pick(&mut rng, &names).as_bytes()),
                        value: Bytes::from(value),
                    }
                })
                .collect();
            if let Ok(req) = decode_request(&fields) {
                // Whatever decodes must survive a round trip.
                let again = decode_request(&encode_request(&req)).unwrap();
                assert_eq!(again.uri(), req.uri());
            }
            let _ = decode_response(&fields);
        }
    }
}
