//! HTTP/3 header sections: request/response decoding and the WebTransport CONNECT readers never
//! panic on arbitrary field lines; a decoded request (or response) re-encodes and decodes to the
//! same method, URI, `:protocol` and headers (status and headers); a decoded WebTransport CONNECT
//! that re-encodes decodes to the same `ConnectRequest`; `sf::parse_protocol_list` never panics.
#![no_main]

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use wt_proto::headers::{self, ConnectRequest, ConnectResponse, Protocol, sf};
use wt_proto::qpack::FieldLine;

/// Names and values that steer the fuzzer towards valid messages.
const NAMES: &[&str] = &[
    ":method",
    ":scheme",
    ":authority",
    ":path",
    ":protocol",
    ":status",
    "host",
    "origin",
    "te",
    "content-length",
    "sec-webtransport-http3-draft02",
    "sec-webtransport-http3-draft",
    "wt-available-protocols",
    "wt-protocol",
    "connection",
];
const VALUES: &[&str] = &[
    "CONNECT",
    "GET",
    "OPTIONS",
    "https",
    "http",
    "example.com",
    "example.com:443",
    "/",
    "/wt?x=1",
    "*",
    "webtransport",
    "webtransport-h3",
    "200",
    "404",
    "1",
    "draft02",
    "trailers",
    "https://example.com",
    "\"a\", b, \"c\"",
];

#[derive(Arbitrary, Debug)]
enum Part {
    Known(u8),
    Raw(Vec<u8>),
}

impl Part {
    fn bytes(&self, table: &[&'static str]) -> Bytes {
        match self {
            Part::Known(i) => Bytes::from_static(table[usize::from(*i) % table.len()].as_bytes()),
            Part::Raw(b) => Bytes::copy_from_slice(b),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Input {
    fields: Vec<(Part, Part)>,
    sf: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let fields: Vec<FieldLine> = input
        .fields
        .iter()
        .map(|(n, v)| FieldLine::new(n.bytes(NAMES), v.bytes(VALUES)))
        .collect();

    if let Ok(req) = headers::decode_request(&fields) {
        let again = headers::decode_request(&headers::encode_request(&req))
            .expect("re-encoded request decodes");
        assert_eq!(again.method(), req.method());
        assert_eq!(again.uri(), req.uri());
        assert_eq!(again.headers(), req.headers());
        assert_eq!(
            again.extensions().get::<Protocol>(),
            req.extensions().get::<Protocol>()
        );
    }
    if let Ok(resp) = headers::decode_response(&fields) {
        let again = headers::decode_response(&headers::encode_response(&resp))
            .expect("re-encoded response decodes");
        assert_eq!(again.status(), resp.status());
        assert_eq!(again.headers(), resp.headers());
    }
    if let Ok(Some(connect)) = ConnectRequest::decode(&fields) {
        if let Ok(lines) = connect.encode() {
            let again = ConnectRequest::decode(&lines).expect("re-encoded CONNECT decodes");
            assert_eq!(again, Some(connect));
        }
    }
    let _ = ConnectResponse::decode(&fields);

    let _ = sf::parse_protocol_list(&input.sf);
});
