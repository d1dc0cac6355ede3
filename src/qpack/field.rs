#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! Encoded field sections (RFC 9204 §4.5) in static-only mode.
//!
//! A field section (the payload of a HEADERS frame) is a prefix — Required Insert Count
//! (8-bit prefix integer), then the S bit and Delta Base (7-bit prefix) — followed by field line
//! representations:
//!
//! | pattern | representation | here |
//! |---|---|---|
//! | `1T idx(6+)` | indexed field line | static (T=1) only |
//! | `0001 idx(4+)` | indexed, post-base index | rejected |
//! | `01NT idx(4+)`, `H len(7+)` value | literal with name reference | static (T=1) only |
//! | `0000N idx(3+)`, `H len(7+)` value | literal with post-base name reference | rejected |
//! | `001N H len(3+)` name, `H len(7+)` value | literal with literal name | accepted |
//!
//! With a dynamic table capacity of 0, every dynamic reference, a nonzero Required Insert Count
//! and a negative Base are QPACK_DECOMPRESSION_FAILED. The decoder does not validate field names
//! or values (uppercase, forbidden characters, pseudo-header order): that is the HTTP layer's job
//! (H3_MESSAGE_ERROR). The N (never-indexed) bit is parsed and dropped.

use bytes::{BufMut, Bytes, BytesMut};

use super::static_table::{self, StaticMatch};
use super::{Error, FieldLine, prefix_int, string};

/// Reads a prefix integer inside a field section; running out of input is an error.
fn read_int(buf: &[u8], prefix_bits: u8) -> Result<(u64, usize), Error> {
    match prefix_int::decode(buf, prefix_bits) {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(Error::DecompressionFailed(
            "truncated integer in field section",
        )),
        Err(e) => Err(Error::DecompressionFailed(e.as_str())),
    }
}

/// Reads a string literal inside a field section; its length is checked against the remaining
/// input before the bytes are used.
fn read_string(buf: &[u8], prefix_bits: u8) -> Result<(Bytes, usize), Error> {
    let raw = match string::parse_header(buf, prefix_bits, usize::MAX) {
        Ok(Some(raw)) => raw,
        Ok(None) => {
            return Err(Error::DecompressionFailed(
                "truncated string length in field section",
            ));
        }
        Err(e) => return Err(Error::DecompressionFailed(e.as_str())),
    };
    match string::decode_body(buf, &raw, usize::MAX) {
        Ok(Some(bytes)) => Ok((Bytes::from(bytes), raw.end())),
        Ok(None) => Err(Error::DecompressionFailed(
            "string literal longer than the rest of the field section",
        )),
        Err(e) => Err(Error::DecompressionFailed(e.as_str())),
    }
}

/// Looks up a static table index from a field line.
fn static_entry(index: u64) -> Result<(&'static [u8], &'static [u8]), Error> {
    static_table::get(index).ok_or(Error::DecompressionFailed(
        "static table index out of range (>= 99)",
    ))
}

/// Returns the rest of `buf` after `n` bytes (`n` always comes from a successful parse of `buf`).
fn skip(buf: &[u8], n: usize) -> Result<&[u8], Error> {
    buf.get(n..)
        .ok_or(Error::DecompressionFailed("truncated field section"))
}

/// Decodes one field line from the start of `buf`, returning it and the bytes it used.
fn decode_line(buf: &[u8]) -> Result<(FieldLine, usize), Error> {
    let Some(&first) = buf.first() else {
        return Err(Error::DecompressionFailed("truncated field section"));
    };
    if first & 0x80 != 0 {
        // Indexed field line: 1 T index(6+).
        if first & 0x40 == 0 {
            return Err(Error::DecompressionFailed(
                "indexed field line references the dynamic table",
            ));
        }
        let (index, used) = read_int(buf, 6)?;
        let (name, value) = static_entry(index)?;
        let line = FieldLine::new(Bytes::from_static(name), Bytes::from_static(value));
        return Ok((line, used));
    }
    if first & 0x40 != 0 {
        // Literal with name reference: 01 N T index(4+), then the value.
        if first & 0x10 == 0 {
            return Err(Error::DecompressionFailed(
                "literal field line references a dynamic table name",
            ));
        }
        let (index, used) = read_int(buf, 4)?;
        let (name, _) = static_entry(index)?;
        let (value, value_used) = read_string(skip(buf, used)?, 7)?;
        let line = FieldLine::new(Bytes::from_static(name), value);
        return Ok((line, used.saturating_add(value_used)));
    }
    if first & 0x20 != 0 {
        // Literal with literal name: 001 N H namelen(3+), name, then the value.
        let (name, name_used) = read_string(buf, 3)?;
        let (value, value_used) = read_string(skip(buf, name_used)?, 7)?;
        let line = FieldLine::new(name, value);
        return Ok((line, name_used.saturating_add(value_used)));
    }
    if first & 0x10 != 0 {
        // 0001 index(4+): indexed field line with post-base index.
        return Err(Error::DecompressionFailed(
            "indexed field line with post-base index (dynamic table)",
        ));
    }
    // 0000 N index(3+): literal with post-base name reference.
    Err(Error::DecompressionFailed(
        "literal field line with post-base name reference (dynamic table)",
    ))
}

/// Decodes a whole encoded field section (a HEADERS frame payload) in static-only mode.
///
/// `max_size` bounds the decoded size as computed by RFC 9114 §4.2.2 (the sum over lines of name
/// length + value length + 32, see [`FieldLine::size`]); pass our advertised
/// `SETTINGS_MAX_FIELD_SECTION_SIZE`, or `u64::MAX` for no limit. Exceeding it stops decoding
/// with [`Error::FieldSectionTooLarge`].
///
/// Every other failure is [`Error::DecompressionFailed`]: a nonzero Required Insert Count (our
/// table capacity is 0), a negative Base, any dynamic or post-base reference, a static index
/// >= 99, invalid integers or Huffman strings, and truncation anywhere.
pub fn decode_field_section(buf: &[u8], max_size: u64) -> Result<Vec<FieldLine>, Error> {
    let (required_insert_count, used) = read_int(buf, 8)?;
    if required_insert_count != 0 {
        return Err(Error::DecompressionFailed(
            "nonzero Required Insert Count with a dynamic table capacity of 0",
        ));
    }
    let rest = skip(buf, used)?;
    let Some(&base_byte) = rest.first() else {
        return Err(Error::DecompressionFailed("truncated field section prefix"));
    };
    let (_delta_base, used) = read_int(rest, 7)?;
    if base_byte & 0x80 != 0 {
        // S = 1: Base = Required Insert Count - Delta Base - 1, negative when RIC <= Delta Base
        // (always, since RIC is 0). RFC 9204 §4.5.1.2 makes this invalid.
        return Err(Error::DecompressionFailed(
            "negative Base in field section prefix",
        ));
    }
    let mut rest = skip(rest, used)?;
    let mut lines = Vec::new();
    let mut size = 0u64;
    while !rest.is_empty() {
        let (line, used) = decode_line(rest)?;
        size = size
            .checked_add(line.size())
            .filter(|total| *total <= max_size)
            .ok_or(Error::FieldSectionTooLarge { limit: max_size })?;
        lines.push(line);
        rest = skip(rest, used)?;
    }
    Ok(lines)
}

/// Appends the static-only encoding of `fields` to `out`: the prefix `00 00` (Required Insert
/// Count 0, Base 0), then for each line, in order:
///
/// - an exact static table match: indexed field line (`1 1 index(6+)`);
/// - a static name match: literal with static name reference (`0 1 0 1 index(4+)`), value;
/// - otherwise: literal with literal name (`0 0 1 0 H len(3+)`), name, value.
///
/// Strings are Huffman-coded only when that is strictly shorter. The N bit is always 0. The
/// output is a pure function of `fields`. Names are written as given: HTTP/3 requires them in
/// lowercase, which is the caller's responsibility.
pub fn encode_field_section(fields: &[FieldLine], out: &mut BytesMut) {
    out.put_u8(0x00);
    out.put_u8(0x00);
    for field in fields {
        match static_table::find(&field.name, &field.value) {
            Some(StaticMatch::Full(index)) => prefix_int::encode(index, 6, 0xc0, out),
            Some(StaticMatch::Name(index)) => {
                prefix_int::encode(index, 4, 0x50, out);
                string::encode(&field.value, 7, 0x00, out);
            }
            None => {
                string::encode(&field.name, 3, 0x20, out);
                string::encode(&field.value, 7, 0x00, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    use crate::test_util::hex;

    /// Reads a QUIC variable-length integer (RFC 9000 §16): the two high bits of the first byte
    /// give its length, 1, 2, 4 or 8 bytes.
    fn quic_varint(buf: &[u8]) -> (u64, usize) {
        let len = 1usize << (buf[0] >> 6);
        let mut value = u64::from(buf[0] & 0x3f);
        for &b in &buf[1..len] {
            value = (value << 8) | u64::from(b);
        }
        (value, len)
    }

    /// Returns the payload of the HEADERS frame at the start of a request stream.
    fn headers_payload(stream: &[u8]) -> &[u8] {
        let (frame_type, type_len) = quic_varint(stream);
        assert_eq!(frame_type, 0x01, "first frame is HEADERS");
        let (len, len_len) = quic_varint(&stream[type_len..]);
        let start = type_len + len_len;
        &stream[start..start + len as usize]
    }

    fn lines(pairs: &[(&str, &str)]) -> Vec<FieldLine> {
        pairs
            .iter()
            .map(|&(n, v)| FieldLine::new(n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect()
    }

    /// CONNECT streams as captured from Chromium 156 and Firefox ESR 153: the stream
    /// bytes from offset 0 (HEADERS frame first), and the expected field lines.
    /// (label, stream hex, expected (name, value) lines).
    type ConnectVector = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );

    const BROWSER_CONNECTS: &[ConnectVector] = &[
        (
            "chromium: CONNECT stream, whole (/echo; session closed by the page with code 0)",
            concat!(
                "0140550000d7cf508a089d5c0b8170dc69a743518460a49cff2f00b95d8749c87a3f89f058d360ea",
                "4567b13f2f0e4148b782c69b07522b3d895a74a6b65692c1ca900b01315f4b909d29aee30c50720e",
                "89ce84dc65c038ff0031c4e72c22bc3721fc28a370af449b071d42d818eba7c40ac64ce00b5566c8",
                "6c11bafcb2d00239df9389d84d217db5f7d331000768430400000000",
            ),
            &[
                (":scheme", "https"),
                (":method", "CONNECT"),
                (":authority", "127.0.0.1:4471"),
                (":path", "/echo"),
                (":protocol", "webtransport"),
                ("sec-webtransport-http3-draft02", "1"),
                ("origin", "http://localhost:36069"),
            ],
        ),
        (
            "chromium: CONNECT stream with wt-available-protocols (protocols: ['echo-v1','other-v2'])",
            concat!(
                "01407a0000d7cf508a089d5c0b8170dc69a743518460a49cff2f00b95d8749c87a3f89f058d360ea",
                "4567b13f2f0e4148b782c69b07522b3d895a74a6b65692c1ca900b01315f4b909d29aee30c50720e",
                "89ce84dc69b032ff2f09f09587dc66a071d055abb0e9390f423f92fe4a49ceb770ff3f4a7f274ce5",
                "b16ee2fe7f000dcec462baa944cfd004f64ddd2e000768430400000000",
            ),
            &[
                (":scheme", "https"),
                (":method", "CONNECT"),
                (":authority", "127.0.0.1:4471"),
                (":path", "/echo"),
                (":protocol", "webtransport"),
                ("sec-webtransport-http3-draft02", "1"),
                ("origin", "http://localhost:45039"),
                ("wt-available-protocols", "\"echo-v1\", \"other-v2\""),
            ],
        ),
        (
            "chromium: CONNECT stream ending in the client close capsule (code 7, 'client-bye')",
            concat!(
                "01405f0000d7cf508a089d5c0b8170dc69a743518e60a49cffe1a480964d67697c767f2f00b95d87",
                "49c87a3f89f058d360ea4567b13f2f0e4148b782c69b07522b3d895a74a6b65692c1ca900b01315f",
                "4b909d29aee30c50720e89ce84dc69c71d77000bc686bc1d67da36b502e50c001168430e00000007",
                "636c69656e742d627965",
            ),
            &[
                (":scheme", "https"),
                (":method", "CONNECT"),
                (":authority", "127.0.0.1:4471"),
                (":path", "/echo?id=crgrqfwq9"),
                (":protocol", "webtransport"),
                ("sec-webtransport-http3-draft02", "1"),
                ("origin", "http://localhost:46677"),
            ],
        ),
        (
            "chromium: CONNECT stream when the server closes the session (/close)",
            concat!(
                "0140550000d7cf508a089d5c0b8170dc69a743518460941d052f00b95d8749c87a3f89f058d360ea",
                "4567b13f2f0e4148b782c69b07522b3d895a74a6b65692c1ca900b01315f4b909d29aee30c50720e",
                "89ce84dc69c65d6f002bca87aec0418c9d94220890dce549f0f82467d284362b474ae81bc052ec71",
                "65036fa2bbad61590307127309",
            ),
            &[
                (":scheme", "https"),
                (":method", "CONNECT"),
                (":authority", "127.0.0.1:4471"),
                (":path", "/close"),
                (":protocol", "webtransport"),
                ("sec-webtransport-http3-draft02", "1"),
                ("origin", "http://localhost:46375"),
            ],
        ),
        (
            "firefox: CONNECT stream, whole (/echo; session closed by the page with code 0)",
            concat!(
                "0141060000cfd7508a089d5c0b8170dc69a745518460a49cff2f00b95d8749c87a3f89f058d360ea",
                "4567b13f5f50b5d07f66a281b0dae053fafc087ed4ce6aadf2a7979c89c6bed4b3bdc0b6cae0fed4",
                "c452753b02004000802a61358594fe580b6cae0fdd5f398b2d4b70ddf45abefb4005df5f10929bd9",
                "abfa5242cb40d25fa523b3e94f684c9f2f0e4148b782c69b07522b3d895a74a6b65692c1ca900b81",
                "0f5f4b909d29aee30c50720e89ce84dc644f09ff2f034148b4a549275a42a13f89f058d360ea4567",
                "b13f2f034148b4a549275a93c85f85a8eb10f6232f034148b4a549275906497f872587421641925f",
                "2eaec31ec327d783b606bf2daec1cd48ff86a8eb10649cbfe7000768430400000000",
            ),
            &[
                (":method", "CONNECT"),
                (":scheme", "https"),
                (":authority", "127.0.0.1:4472"),
                (":path", "/echo"),
                (":protocol", "webtransport"),
                (
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0",
                ),
                ("accept", "*/*"),
                ("accept-language", "en-US,en;q=0.9"),
                ("accept-encoding", "gzip, deflate, br, zstd"),
                ("sec-webtransport-http3-draft02", "1"),
                ("origin", "http://localhost:32829"),
                ("sec-fetch-dest", "webtransport"),
                ("sec-fetch-mode", "no-cors"),
                ("sec-fetch-site", "cross-site"),
                ("priority", "u=4"),
                ("pragma", "no-cache"),
                ("cache-control", "no-cache"),
            ],
        ),
        (
            "firefox: CONNECT stream ending in the client close capsule (code 7, 'client-bye')",
            concat!(
                "0141100000cfd7508a089d5c0b8170dc69a745518e60a49cffe1a480899536b9d1b4ff2f00b95d87",
                "49c87a3f89f058d360ea4567b13f5f50b5d07f66a281b0dae053fafc087ed4ce6aadf2a7979c89c6",
                "bed4b3bdc0b6cae0fed4c452753b02004000802a61358594fe580b6cae0fdd5f398b2d4b70ddf45a",
                "befb4005df5f10929bd9abfa5242cb40d25fa523b3e94f684c9f2f0e4148b782c69b07522b3d895a",
                "74a6b65692c1ca900b810f5f4b909d29aee30c50720e89ce84dc65f03a1f2f034148b4a549275a42",
                "a13f89f058d360ea4567b13f2f034148b4a549275a93c85f85a8eb10f6232f034148b4a549275906",
                "497f872587421641925f2eaec31ec327d783b606bf2daec1cd48ff86a8eb10649cbfe7001168430e",
                "00000007636c69656e742d627965",
            ),
            &[
                (":method", "CONNECT"),
                (":scheme", "https"),
                (":authority", "127.0.0.1:4472"),
                (":path", "/echo?id=ctftu6j5t"),
                (":protocol", "webtransport"),
                (
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0",
                ),
                ("accept", "*/*"),
                ("accept-language", "en-US,en;q=0.9"),
                ("accept-encoding", "gzip, deflate, br, zstd"),
                ("sec-webtransport-http3-draft02", "1"),
                ("origin", "http://localhost:39071"),
                ("sec-fetch-dest", "webtransport"),
                ("sec-fetch-mode", "no-cors"),
                ("sec-fetch-site", "cross-site"),
                ("priority", "u=4"),
                ("pragma", "no-cache"),
                ("cache-control", "no-cache"),
            ],
        ),
        (
            "firefox: CONNECT stream when the server closes the session (/close)",
            concat!(
                "0141060000cfd7508a089d5c0b8170dc69a745518460941d052f00b95d8749c87a3f89f058d360ea",
                "4567b13f5f50b5d07f66a281b0dae053fafc087ed4ce6aadf2a7979c89c6bed4b3bdc0b6cae0fed4",
                "c452753b02004000802a61358594fe580b6cae0fdd5f398b2d4b70ddf45abefb4005df5f10929bd9",
                "abfa5242cb40d25fa523b3e94f684c9f2f0e4148b782c69b07522b3d895a74a6b65692c1ca900b81",
                "0f5f4b909d29aee30c50720e89ce84dc69b0803f2f034148b4a549275a42a13f89f058d360ea4567",
                "b13f2f034148b4a549275a93c85f85a8eb10f6232f034148b4a549275906497f872587421641925f",
                "2eaec31ec327d783b606bf2daec1cd48ff86a8eb10649cbfe7",
            ),
            &[
                (":method", "CONNECT"),
                (":scheme", "https"),
                (":authority", "127.0.0.1:4472"),
                (":path", "/close"),
                (":protocol", "webtransport"),
                (
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0",
                ),
                ("accept", "*/*"),
                ("accept-language", "en-US,en;q=0.9"),
                ("accept-encoding", "gzip, deflate, br, zstd"),
                ("sec-webtransport-http3-draft02", "1"),
                ("origin", "http://localhost:45101"),
                ("sec-fetch-dest", "webtransport"),
                ("sec-fetch-mode", "no-cors"),
                ("sec-fetch-site", "cross-site"),
                ("priority", "u=4"),
                ("pragma", "no-cache"),
                ("cache-control", "no-cache"),
            ],
        ),
    ];

    #[test]
    fn browser_connect_requests() {
        for &(name, stream, expected) in BROWSER_CONNECTS {
            let stream = hex(stream);
            let payload = headers_payload(&stream);
            assert_eq!(&payload[..2], [0, 0], "{name}: static-only prefix");
            let decoded =
                decode_field_section(payload, u64::MAX).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(decoded, lines(expected), "{name}");
            // Our own encoding of the same lines decodes back to them.
            let mut out = BytesMut::new();
            encode_field_section(&decoded, &mut out);
            assert_eq!(
                decode_field_section(&out, u64::MAX).unwrap(),
                decoded,
                "{name}"
            );
        }
    }

    #[test]
    fn spec_minimal_2xx() {
        let mut payload = vec![0x00, 0x00, 0xd9, 0x27, 0x15];
        payload.extend_from_slice(b"sec-webtransport-http3-draft");
        payload.push(0x07);
        payload.extend_from_slice(b"draft02");
        assert_eq!(payload.len(), 0x29);
        assert_eq!(
            decode_field_section(&payload, u64::MAX).unwrap(),
            lines(&[
                (":status", "200"),
                ("sec-webtransport-http3-draft", "draft02")
            ])
        );
        let mut out = BytesMut::new();
        encode_field_section(&lines(&[(":status", "200")]), &mut out);
        assert_eq!(&out[..], [0x00, 0x00, 0xd9]);
        // Our encoder Huffman-codes the literal, which is shorter; it decodes the same.
        out.clear();
        encode_field_section(&decode_field_section(&payload, u64::MAX).unwrap(), &mut out);
        assert!(out.len() < payload.len());
        assert_eq!(
            decode_field_section(&out, u64::MAX).unwrap(),
            decode_field_section(&payload, u64::MAX).unwrap()
        );
    }

    #[test]
    fn encoder_choices() {
        let mut out = BytesMut::new();
        encode_field_section(
            &lines(&[
                (":method", "CONNECT"),
                (":scheme", "https"),
                (":path", "1"),
                ("origin", "1"),
                (":protocol", "1"),
            ]),
            &mut out,
        );
        assert_eq!(
            &out[..],
            [
                0x00, 0x00, // prefix
                0xcf, // :method CONNECT (15)
                0xd7, // :scheme https (23)
                0x51, 0x01, b'1', // :path name ref (1), raw "1"
                0x5f, 0x4b, 0x01, b'1', // origin name ref (90 = 15 + 75)
                0x2f, 0x00, // literal name, H = 1, length 7 (= 7 + 0)
                0xb9, 0x5d, 0x87, 0x49, 0xc8, 0x7a, 0x3f, // Huffman ":protocol"
                0x01, b'1', // raw "1"
            ]
        );
        // Deterministic.
        let mut again = BytesMut::new();
        encode_field_section(
            &lines(&[
                (":method", "CONNECT"),
                (":scheme", "https"),
                (":path", "1"),
                ("origin", "1"),
                (":protocol", "1"),
            ]),
            &mut again,
        );
        assert_eq!(out, again);
        // Empty section.
        out.clear();
        encode_field_section(&[], &mut out);
        assert_eq!(&out[..], [0, 0]);
        assert_eq!(decode_field_section(&out, 0).unwrap(), vec![]);
    }

    #[test]
    fn each_representation() {
        // Indexed static: c0 = :authority "".
        assert_eq!(
            decode_field_section(&[0, 0, 0xc0], u64::MAX).unwrap(),
            lines(&[(":authority", "")])
        );
        // Indexed static with a multi-byte index: 98 = 63 + 35.
        assert_eq!(
            decode_field_section(&[0, 0, 0xff, 35], u64::MAX).unwrap(),
            lines(&[("x-frame-options", "sameorigin")])
        );
        // Literal with static name ref, N = 1 and raw value (RFC 9204 B.1).
        let b1 = hex("0000 510b 2f69 6e64 6578 2e68 746d 6c");
        assert_eq!(
            decode_field_section(&b1, u64::MAX).unwrap(),
            lines(&[(":path", "/index.html")])
        );
        assert_eq!(
            decode_field_section(&[0, 0, 0x71, 0x81, 0x0f], u64::MAX).unwrap(),
            lines(&[(":path", "1")])
        );
        // Literal with literal name, N = 1, raw name and Huffman value.
        assert_eq!(
            decode_field_section(&[0, 0, 0x32, b'a', b'b', 0x81, 0x0f], u64::MAX).unwrap(),
            lines(&[("ab", "1")])
        );
        // Literal name with an empty value, and a name longer than the 3-bit prefix.
        let mut buf = vec![0, 0, 0x27, 0x03];
        buf.extend_from_slice(b"0123456789");
        buf.push(0x00);
        assert_eq!(
            decode_field_section(&buf, u64::MAX).unwrap(),
            lines(&[("0123456789", "")])
        );
        // Nonzero Delta Base with S = 0 is allowed (Base is unused without dynamic references).
        assert_eq!(
            decode_field_section(&[0, 0x05, 0xd9], u64::MAX).unwrap(),
            lines(&[(":status", "200")])
        );
    }

    #[test]
    fn dynamic_references_rejected() {
        let cases: &[(&str, &[u8])] = &[
            ("required insert count", &[0x01, 0x00]),
            ("RFC 9204 B.2 field section", &[0x03, 0x81, 0x10, 0x11]),
            ("negative base", &[0x00, 0x80, 0xd9]),
            ("indexed dynamic (T=0)", &[0x00, 0x00, 0x80]),
            ("indexed post-base", &[0x00, 0x00, 0x10]),
            (
                "literal dynamic name ref (T=0)",
                &[0x00, 0x00, 0x40, 0x01, b'a'],
            ),
            (
                "literal post-base name ref",
                &[0x00, 0x00, 0x00, 0x01, b'a'],
            ),
            (
                "literal post-base name ref, N=1",
                &[0x00, 0x00, 0x08, 0x01, b'a'],
            ),
        ];
        for &(name, buf) in cases {
            let err = decode_field_section(buf, u64::MAX).unwrap_err();
            assert!(
                matches!(err, Error::DecompressionFailed(_)),
                "{name}: {err:?}"
            );
            assert_eq!(err.code(), 0x200);
        }
    }

    #[test]
    fn malformed_rejected() {
        let cases: &[(&str, &[u8])] = &[
            ("empty", &[]),
            ("prefix cut", &[0x00]),
            ("static index 99", &[0x00, 0x00, 0xff, 0x24]),
            ("name ref index 99", &[0x00, 0x00, 0x5f, 0x54, 0x00]),
            ("truncated index", &[0x00, 0x00, 0xff]),
            ("truncated value length", &[0x00, 0x00, 0x51]),
            ("value longer than input", &[0x00, 0x00, 0x51, 0x05, b'a']),
            (
                "huge value length",
                &[0x00, 0x00, 0x51, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f],
            ),
            ("name longer than input", &[0x00, 0x00, 0x25, b'a']),
            ("missing value after name", &[0x00, 0x00, 0x21, b'a']),
            ("bad Huffman padding", &[0x00, 0x00, 0x51, 0x81, 0x08]),
            (
                "Huffman EOS",
                &[0x00, 0x00, 0x51, 0x84, 0xff, 0xff, 0xff, 0xff],
            ),
            (
                "overlong integer",
                &[
                    0x00, 0x00, 0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                    0x00,
                ],
            ),
            (
                "RIC too large",
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
            ),
        ];
        for &(name, buf) in cases {
            let err = decode_field_section(buf, u64::MAX).unwrap_err();
            assert!(
                matches!(err, Error::DecompressionFailed(_)),
                "{name}: {err:?}"
            );
        }
    }

    #[test]
    fn size_limit() {
        // :status 200 counts 7 + 3 + 32 = 42.
        assert!(decode_field_section(&[0, 0, 0xd9], 42).is_ok());
        assert_eq!(
            decode_field_section(&[0, 0, 0xd9], 41),
            Err(Error::FieldSectionTooLarge { limit: 41 })
        );
        assert_eq!(
            decode_field_section(&[0, 0, 0xd9, 0xd9], 83),
            Err(Error::FieldSectionTooLarge { limit: 83 })
        );
        assert_eq!(
            decode_field_section(&[0, 0, 0xd9, 0xd9], 84).unwrap().len(),
            2
        );
        assert_eq!(decode_field_section(&[0, 0], 0).unwrap(), vec![]);
    }

    #[test]
    fn truncations_of_valid_sections_never_panic() {
        let stream = hex(BROWSER_CONNECTS[4].1);
        let payload = headers_payload(&stream);
        for cut in 0..payload.len() {
            // A cut may land on a line boundary (then it decodes to fewer lines).
            if let Ok(decoded) = decode_field_section(&payload[..cut], u64::MAX) {
                assert!(decoded.len() < 17);
            }
        }
    }

    fn random_string(rng: &mut Rng) -> Vec<u8> {
        let len = rng.below(40) as usize;
        match rng.below(3) {
            0 => rng.bytes(len),
            1 => (0..len)
                .map(|_| b"abcdefghijklmnopqrstuvwxyz-0123456789"[rng.below(37) as usize])
                .collect(),
            _ => vec![b'1'; len],
        }
    }

    #[test]
    fn random_round_trip() {
        let mut rng = Rng::new(0xf1e1d);
        for _ in 0..3000 {
            let count = rng.below(12) as usize;
            let mut fields = Vec::with_capacity(count);
            for _ in 0..count {
                let entry = static_table::STATIC_TABLE[rng.below(99) as usize];
                let (name, value) = match rng.below(4) {
                    0 => (entry.0.as_bytes().to_vec(), entry.1.as_bytes().to_vec()),
                    1 => (entry.0.as_bytes().to_vec(), random_string(&mut rng)),
                    _ => (random_string(&mut rng), random_string(&mut rng)),
                };
                fields.push(FieldLine::new(name, value));
            }
            let mut out = BytesMut::new();
            encode_field_section(&fields, &mut out);
            assert_eq!(&out[..2], [0, 0]);
            assert_eq!(decode_field_section(&out, u64::MAX).unwrap(), fields);
            let size: u64 = fields.iter().map(FieldLine::size).sum();
            assert!(decode_field_section(&out, size).is_ok());
            if size > 0 {
                assert_eq!(
                    decode_field_section(&out, size - 1),
                    Err(Error::FieldSectionTooLarge { limit: size - 1 })
                );
            }
        }
    }

    #[test]
    fn random_garbage_never_panics() {
        let mut rng = Rng::new(1234);
        for _ in 0..5000 {
            let len = rng.below(48) as usize;
            let mut buf = rng.bytes(len);
            if rng.coin() && buf.len() >= 2 {
                buf[0] = 0;
                buf[1] = 0;
            }
            let _ = decode_field_section(&buf, rng.below(2000));
        }
    }
}
