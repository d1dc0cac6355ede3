#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! The QPACK static table (RFC 9204 Appendix A) and the lookup used by the encoder.
//!
//! The table has 99 entries and is **0-based** (unlike HPACK's 1-based, 61-entry table).

/// The 99 entries of the RFC 9204 Appendix A static table, as `(name, value)`, 0-based.
pub const STATIC_TABLE: [(&str, &str); 99] = [
    (":authority", ""),                                    // 0
    (":path", "/"),                                        // 1
    ("age", "0"),                                          // 2
    ("content-disposition", ""),                           // 3
    ("content-length", "0"),                               // 4
    ("cookie", ""),                                        // 5
    ("date", ""),                                          // 6
    ("etag", ""),                                          // 7
    ("if-modified-since", ""),                             // 8
    ("if-none-match", ""),                                 // 9
    ("last-modified", ""),                                 // 10
    ("link", ""),                                          // 11
    ("location", ""),                                      // 12
    ("referer", ""),                                       // 13
    ("set-cookie", ""),                                    // 14
    (":method", "CONNECT"),                                // 15
    (":method", "DELETE"),                                 // 16
    (":method", "GET"),                                    // 17
    (":method", "HEAD"),                                   // 18
    (":method", "OPTIONS"),                                // 19
    (":method", "POST"),                                   // 20
    (":method", "PUT"),                                    // 21
    (":scheme", "http"),                                   // 22
    (":scheme", "https"),                                  // 23
    (":status", "103"),                                    // 24
    (":status", "200"),                                    // 25
    (":status", "304"),                                    // 26
    (":status", "404"),                                    // 27
    (":status", "503"),                                    // 28
    ("accept", "*/*"),                                     // 29
    ("accept", "application/dns-message"),                 // 30
    ("accept-encoding", "gzip, deflate, br"),              // 31
    ("accept-ranges", "bytes"),                            // 32
    ("access-control-allow-headers", "cache-control"),     // 33
    ("access-control-allow-headers", "content-type"),      // 34
    ("access-control-allow-origin", "*"),                  // 35
    ("cache-control", "max-age=0"),                        // 36
    ("cache-control", "max-age=2592000"),                  // 37
    ("cache-control", "max-age=604800"),                   // 38
    ("cache-control", "no-cache"),                         // 39
    ("cache-control", "no-store"),                         // 40
    ("cache-control", "public, max-age=31536000"),         // 41
    ("content-encoding", "br"),                            // 42
    ("content-encoding", "gzip"),                          // 43
    ("content-type", "application/dns-message"),           // 44
    ("content-type", "application/javascript"),            // 45
    ("content-type", "application/json"),                  // 46
    ("content-type", "application/x-www-form-urlencoded"), // 47
    ("content-type", "image/gif"),                         // 48
    ("content-type", "image/jpeg"),                        // 49
    ("content-type", "image/png"),                         // 50
    ("content-type", "text/css"),                          // 51
    ("content-type", "text/html; charset=utf-8"),          // 52
    ("content-type", "text/plain"),                        // 53
    ("content-type", "text/plain;charset=utf-8"),          // 54
    ("range", "bytes=0-"),                                 // 55
    ("strict-transport-security", "max-age=31536000"),     // 56
    (
        "strict-transport-security",
        "max-age=31536000; includesubdomains",
    ), // 57
    (
        "strict-transport-security",
        "max-age=31536000; includesubdomains; preload",
    ), // 58
    ("vary", "accept-encoding"),                           // 59
    ("vary", "origin"),                                    // 60
    ("x-content-type-options", "nosniff"),                 // 61
    ("x-xss-protection", "1; mode=block"),                 // 62
    (":status", "100"),                                    // 63
    (":status", "204"),                                    // 64
    (":status", "206"),                                    // 65
    (":status", "302"),                                    // 66
    (":status", "400"),                                    // 67
    (":status", "403"),                                    // 68
    (":status", "421"),                                    // 69
    (":status", "425"),                                    // 70
    (":status", "500"),                                    // 71
    ("accept-language", ""),                               // 72
    ("access-control-allow-credentials", "FALSE"),         // 73
    ("access-control-allow-credentials", "TRUE"),          // 74
    ("access-control-allow-headers", "*"),                 // 75
    ("access-control-allow-methods", "get"),               // 76
    ("access-control-allow-methods", "get, post, options"), // 77
    ("access-control-allow-methods", "options"),           // 78
    ("access-control-expose-headers", "content-length"),   // 79
    ("access-control-request-headers", "content-type"),    // 80
    ("access-control-request-method", "get"),              // 81
    ("access-control-request-method", "post"),             // 82
    ("alt-svc", "clear"),                                  // 83
    ("authorization", ""),                                 // 84
    (
        "content-security-policy",
        "script-src 'none'; object-src 'none'; base-uri 'none'",
    ), // 85
    ("early-data", "1"),                                   // 86
    ("expect-ct", ""),                                     // 87
    ("forwarded", ""),                                     // 88
    ("if-range", ""),                                      // 89
    ("origin", ""),                                        // 90
    ("purpose", "prefetch"),                               // 91
    ("server", ""),                                        // 92
    ("timing-allow-origin", "*"),                          // 93
    ("upgrade-insecure-requests", "1"),                    // 94
    ("user-agent", ""),                                    // 95
    ("x-forwarded-for", ""),                               // 96
    ("x-frame-options", "deny"),                           // 97
    ("x-frame-options", "sameorigin"),                     // 98
];

/// The number of entries in the static table (99).
pub const LEN: u64 = 99;

/// Returns the `(name, value)` of static entry `index`, or `None` if `index >= 99`.
pub fn get(index: u64) -> Option<(&'static [u8], &'static [u8])> {
    let index = usize::try_from(index).ok()?;
    STATIC_TABLE
        .get(index)
        .map(|(name, value)| (name.as_bytes(), value.as_bytes()))
}

/// The result of looking a field line up in the static table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaticMatch {
    /// Entry `index` has this exact name and value: send an indexed field line.
    Full(u64),
    /// Entry `index` has this name (the lowest such index) but not this value: send a literal
    /// with a static name reference.
    Name(u64),
}

/// Finds the best static entry for `(name, value)`: an exact match if there is one, else the
/// lowest-index entry with the same name, else `None`. Comparison is byte-exact (HTTP/3 field
/// names are lowercase).
pub fn find(name: &[u8], value: &[u8]) -> Option<StaticMatch> {
    let mut name_match = None;
    for (index, (entry_name, entry_value)) in (0u64..).zip(STATIC_TABLE.iter()) {
        if entry_name.as_bytes() != name {
            continue;
        }
        if entry_value.as_bytes() == value {
            return Some(StaticMatch::Full(index));
        }
        if name_match.is_none() {
            name_match = Some(StaticMatch::Name(index));
        }
    }
    name_match
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_shape() {
        assert_eq!(STATIC_TABLE.len(), 99);
        assert_eq!(LEN, 99);
        let expect: &[(u64, &str, &str)] = &[
            (0, ":authority", ""),
            (1, ":path", "/"),
            (15, ":method", "CONNECT"),
            (23, ":scheme", "https"),
            (25, ":status", "200"),
            (27, ":status", "404"),
            (29, "accept", "*/*"),
            (31, "accept-encoding", "gzip, deflate, br"),
            (39, "cache-control", "no-cache"),
            (67, ":status", "400"),
            (68, ":status", "403"),
            (71, ":status", "500"),
            (72, "accept-language", ""),
            (90, "origin", ""),
            (95, "user-agent", ""),
            (98, "x-frame-options", "sameorigin"),
        ];
        for &(index, name, value) in expect {
            assert_eq!(
                get(index),
                Some((name.as_bytes(), value.as_bytes())),
                "index {index}"
            );
        }
        assert_eq!(get(99), None);
        assert_eq!(get(u64::MAX), None);
    }

    #[test]
    fn names_are_lowercase_and_pairs_unique() {
        for (i, (name, value)) in STATIC_TABLE.iter().enumerate() {
            assert_eq!(name.to_ascii_lowercase(), *name);
            for (other_name, other_value) in STATIC_TABLE.iter().skip(i + 1) {
                assert!(!(name == other_name && value == other_value));
            }
        }
    }

    #[test]
    fn lookup() {
        assert_eq!(find(b":method", b"CONNECT"), Some(StaticMatch::Full(15)));
        assert_eq!(find(b":status", b"200"), Some(StaticMatch::Full(25)));
        assert_eq!(find(b":status", b"418"), Some(StaticMatch::Name(24)));
        assert_eq!(
            find(b":authority", b"example.com"),
            Some(StaticMatch::Name(0))
        );
        assert_eq!(find(b":authority", b""), Some(StaticMatch::Full(0)));
        assert_eq!(find(b":path", b"/echo"), Some(StaticMatch::Name(1)));
        assert_eq!(find(b"origin", b"https://a"), Some(StaticMatch::Name(90)));
        assert_eq!(
            find(b"x-frame-options", b"sameorigin"),
            Some(StaticMatch::Full(98))
        );
        assert_eq!(find(b":protocol", b"webtransport"), None);
        assert_eq!(find(b"Origin", b""), None);
        // Every entry finds itself.
        for (i, (name, value)) in (0u64..).zip(STATIC_TABLE.iter()) {
            assert_eq!(
                find(name.as_bytes(), value.as_bytes()),
                Some(StaticMatch::Full(i))
            );
        }
    }
}
