//! The HTTP/3 SETTINGS frame payload (RFC 9114 §7.2.4) with every identifier the engine knows,
//! and the WebTransport dialect negotiated from the two endpoints' settings.
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

use std::fmt;

use bytes::{Buf, BufMut};

use crate::error::{Code, ProtocolError};
use crate::varint;

/// Setting identifiers (RFC 9114 §7.2.4.1, RFC 9204 §5, RFC 9220 §5, RFC 9297 §5, and the
/// WebTransport drafts' IANA sections).
pub mod id {
    /// SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204).
    pub const QPACK_MAX_TABLE_CAPACITY: u64 = 0x01;
    /// SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114).
    pub const MAX_FIELD_SECTION_SIZE: u64 = 0x06;
    /// SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204).
    pub const QPACK_BLOCKED_STREAMS: u64 = 0x07;
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220).
    pub const ENABLE_CONNECT_PROTOCOL: u64 = 0x08;
    /// SETTINGS_H3_DATAGRAM (RFC 9297).
    pub const H3_DATAGRAM: u64 = 0x33;
    /// SETTINGS_H3_DATAGRAM of draft-ietf-masque-h3-datagram-04..08, used with draft-02.
    pub const H3_DATAGRAM_DRAFT04: u64 = 0xff_d277;
    /// SETTINGS_ENABLE_WEBTRANSPORT (WebTransport draft-02/03).
    pub const ENABLE_WEBTRANSPORT: u64 = 0x2b60_3742;
    /// SETTINGS_WEBTRANSPORT_MAX_SESSIONS (draft-07 to draft-12).
    pub const WEBTRANSPORT_MAX_SESSIONS_DRAFT07: u64 = 0xc671_706a;
    /// SETTINGS_WT_MAX_SESSIONS (draft-13/14).
    pub const WT_MAX_SESSIONS: u64 = 0x14e9_cd29;
    /// SETTINGS_WT_ENABLED (draft-15/16).
    pub const WT_ENABLED: u64 = 0x2c7c_f000;
    /// SETTINGS_WT_INITIAL_MAX_DATA (draft-12+).
    pub const WT_INITIAL_MAX_DATA: u64 = 0x2b61;
    /// SETTINGS_WT_INITIAL_MAX_STREAMS_UNI (draft-12+).
    pub const WT_INITIAL_MAX_STREAMS_UNI: u64 = 0x2b64;
    /// SETTINGS_WT_INITIAL_MAX_STREAMS_BIDI (draft-12+).
    pub const WT_INITIAL_MAX_STREAMS_BIDI: u64 = 0x2b65;

    /// Whether `id` is an HTTP/2 setting with no HTTP/3 meaning (RFC 9114 §7.2.4.1): receiving
    /// one is H3_SETTINGS_ERROR.
    pub fn is_reserved_http2(id: u64) -> bool {
        matches!(id, 0x02..=0x05)
    }
}

/// The identifiers whose value must be 0 or 1.
const BOOLEAN_IDS: [u64; 5] = [
    id::ENABLE_CONNECT_PROTOCOL,
    id::H3_DATAGRAM,
    id::H3_DATAGRAM_DRAFT04,
    id::ENABLE_WEBTRANSPORT,
    id::WT_ENABLED,
];

/// The order in which known settings are written (ECP and the RFC 9297 datagram
/// setting first, so that order-sensitive peers see them before anything that could clear them).
const WRITE_ORDER: [u64; 13] = [
    id::ENABLE_CONNECT_PROTOCOL,
    id::H3_DATAGRAM,
    id::H3_DATAGRAM_DRAFT04,
    id::ENABLE_WEBTRANSPORT,
    id::WEBTRANSPORT_MAX_SESSIONS_DRAFT07,
    id::WT_MAX_SESSIONS,
    id::WT_ENABLED,
    id::WT_INITIAL_MAX_DATA,
    id::WT_INITIAL_MAX_STREAMS_UNI,
    id::WT_INITIAL_MAX_STREAMS_BIDI,
    id::QPACK_MAX_TABLE_CAPACITY,
    id::QPACK_BLOCKED_STREAMS,
    id::MAX_FIELD_SECTION_SIZE,
];

/// The most settings a peer may send in one frame before we call it excessive.
pub const MAX_ENTRIES: usize = 64;

/// A set of HTTP/3 settings: identifier/value pairs, each identifier at most once.
///
/// Known identifiers are read with the typed getters; unknown ones (grease, extensions) are kept
/// so that they can be sent and traced. Encoding writes known identifiers in a fixed order, then
/// the others in insertion order, so the bytes are deterministic.
#[derive(Clone, Default)]
pub struct Settings {
    entries: Vec<(u64, u64)>,
}

impl Settings {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `id` to `value`, replacing an earlier value.
    pub fn set(&mut self, id: u64, value: u64) -> &mut Self {
        match self.entries.iter_mut().find(|(k, _)| *k == id) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((id, value)),
        }
        self
    }

    /// The value of `id`, if present.
    pub fn get(&self, id: u64) -> Option<u64> {
        self.entries.iter().find(|(k, _)| *k == id).map(|(_, v)| *v)
    }

    /// Whether `id` is present with value 1.
    pub fn is_one(&self, id: u64) -> bool {
        self.get(id) == Some(1)
    }

    /// Whether `id` is present with a nonzero value.
    pub fn is_nonzero(&self, id: u64) -> bool {
        self.get(id).is_some_and(|v| v > 0)
    }

    /// The identifier/value pairs in write order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let known = WRITE_ORDER
            .iter()
            .filter_map(|&k| self.get(k).map(|v| (k, v)));
        let other = self
            .entries
            .iter()
            .copied()
            .filter(|(k, _)| !WRITE_ORDER.contains(k));
        known.chain(other)
    }

    /// The number of identifiers present.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no identifier is present.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        self.iter()
            .map(|(k, v)| varint::encoded_len(k).saturating_add(varint::encoded_len(v)))
            .fold(0usize, usize::saturating_add)
    }

    /// Writes the SETTINGS frame payload (without the frame header).
    pub fn encode<B: BufMut + ?Sized>(&self, out: &mut B) {
        for (k, v) in self.iter() {
            varint::encode(k, out);
            varint::encode(v, out);
        }
    }

    /// Parses a complete SETTINGS frame payload.
    ///
    /// Errors: a payload that ends inside a pair (H3_FRAME_ERROR); a duplicate identifier, an
    /// HTTP/2-only identifier (0x02–0x05), a value other than 0 or 1 for a boolean setting (all
    /// H3_SETTINGS_ERROR); more than [`MAX_ENTRIES`] pairs (H3_EXCESSIVE_LOAD).
    pub fn decode(mut payload: &[u8]) -> Result<Self, ProtocolError> {
        let err = |reason| ProtocolError::new(Code::H3_SETTINGS_ERROR, reason);
        // A payload that ends inside a pair is shorter than its fields (RFC 9114 §7.1).
        let truncated = |reason| ProtocolError::new(Code::H3_FRAME_ERROR, reason);
        let mut s = Settings::new();
        while !payload.is_empty() {
            let k =
                varint::decode(&mut payload).ok_or(truncated("truncated setting identifier"))?;
            let v = varint::decode(&mut payload).ok_or(truncated("truncated setting value"))?;
            if id::is_reserved_http2(k) {
                return Err(err("HTTP/2 setting identifier"));
            }
            if s.get(k).is_some() {
                return Err(err("duplicate setting identifier"));
            }
            if BOOLEAN_IDS.contains(&k) && v > 1 {
                return Err(err("boolean setting above 1"));
            }
            if s.entries.len() >= MAX_ENTRIES {
                return Err(ProtocolError::new(
                    Code::H3_EXCESSIVE_LOAD,
                    "too many settings",
                ));
            }
            s.entries.push((k, v));
        }
        Ok(s)
    }

    /// Parses from a [`Buf`]; a convenience over [`decode`](Self::decode).
    pub fn decode_buf<B: Buf>(mut payload: B) -> Result<Self, ProtocolError> {
        let bytes = payload.copy_to_bytes(payload.remaining());
        Self::decode(&bytes)
    }
}

impl PartialEq for Settings {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Settings {}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.iter() {
            m.entry(&format_args!("{}", name(k)), &v);
        }
        m.finish()
    }
}

/// A readable name for a setting identifier (hex for unknown ones).
pub fn name(k: u64) -> String {
    let s = match k {
        id::QPACK_MAX_TABLE_CAPACITY => "QPACK_MAX_TABLE_CAPACITY",
        id::MAX_FIELD_SECTION_SIZE => "MAX_FIELD_SECTION_SIZE",
        id::QPACK_BLOCKED_STREAMS => "QPACK_BLOCKED_STREAMS",
        id::ENABLE_CONNECT_PROTOCOL => "ENABLE_CONNECT_PROTOCOL",
        id::H3_DATAGRAM => "H3_DATAGRAM",
        id::H3_DATAGRAM_DRAFT04 => "H3_DATAGRAM_DRAFT04",
        id::ENABLE_WEBTRANSPORT => "ENABLE_WEBTRANSPORT",
        id::WEBTRANSPORT_MAX_SESSIONS_DRAFT07 => "WEBTRANSPORT_MAX_SESSIONS",
        id::WT_MAX_SESSIONS => "WT_MAX_SESSIONS",
        id::WT_ENABLED => "WT_ENABLED",
        id::WT_INITIAL_MAX_DATA => "WT_INITIAL_MAX_DATA",
        id::WT_INITIAL_MAX_STREAMS_UNI => "WT_INITIAL_MAX_STREAMS_UNI",
        id::WT_INITIAL_MAX_STREAMS_BIDI => "WT_INITIAL_MAX_STREAMS_BIDI",
        k if crate::error::is_reserved(k) => return format!("GREASE({k:#x})"),
        k => return format!("{k:#x}"),
    };
    s.to_string()
}

/// A WebTransport wire dialect: the draft-ietf-webtrans-http3 revisions whose settings and
/// codes differ on the wire (draft-02, -07, -13/14, -15/16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// draft-02/03: ENABLE_WEBTRANSPORT, `:protocol webtransport`, the draft02 headers.
    Draft02,
    /// draft-07 to draft-12: WEBTRANSPORT_MAX_SESSIONS, RFC H3 datagrams.
    Draft07,
    /// draft-13/14: WT_MAX_SESSIONS, WT-Available-Protocols as strings.
    Draft13,
    /// draft-15/16: WT_ENABLED, `:protocol webtransport-h3`.
    Draft15,
}

impl Dialect {
    /// All dialects, oldest first.
    pub const ALL: [Dialect; 4] = [
        Dialect::Draft02,
        Dialect::Draft07,
        Dialect::Draft13,
        Dialect::Draft15,
    ];

    /// The setting that announces this dialect, and the value we send for it.
    pub fn setting(self) -> (u64, u64) {
        match self {
            Dialect::Draft02 => (id::ENABLE_WEBTRANSPORT, 1),
            Dialect::Draft07 => (id::WEBTRANSPORT_MAX_SESSIONS_DRAFT07, 1),
            Dialect::Draft13 => (id::WT_MAX_SESSIONS, 1),
            Dialect::Draft15 => (id::WT_ENABLED, 1),
        }
    }

    /// The `:protocol` token of the extended CONNECT in this dialect.
    pub fn protocol_token(self) -> &'static str {
        match self {
            Dialect::Draft15 => "webtransport-h3",
            _ => "webtransport",
        }
    }

    /// Whether this dialect uses the draft-02 version headers
    /// (`sec-webtransport-http3-draft02: 1` / `sec-webtransport-http3-draft: draft02`).
    pub fn uses_draft02_headers(self) -> bool {
        self == Dialect::Draft02
    }

    /// Whether the DRAIN_WEBTRANSPORT_SESSION capsule exists in this dialect.
    pub fn has_drain(self) -> bool {
        self >= Dialect::Draft07
    }

    /// Whether this dialect's announcement is present in `s` with a usable value.
    fn announced_by(self, s: &Settings) -> bool {
        match self {
            Dialect::Draft02 => s.is_one(id::ENABLE_WEBTRANSPORT),
            Dialect::Draft07 => s.is_nonzero(id::WEBTRANSPORT_MAX_SESSIONS_DRAFT07),
            Dialect::Draft13 => s.is_nonzero(id::WT_MAX_SESSIONS),
            Dialect::Draft15 => s.is_one(id::WT_ENABLED),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Draft02 => "draft-02",
            Dialect::Draft07 => "draft-07",
            Dialect::Draft13 => "draft-13",
            Dialect::Draft15 => "draft-15",
        })
    }
}

/// Which SETTINGS identifier enabled HTTP datagrams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatagramSetting {
    /// RFC 9297 `SETTINGS_H3_DATAGRAM` (0x33).
    Rfc9297,
    /// `0xffd277` from draft-ietf-masque-h3-datagram-04, accepted with draft-02 only.
    Draft04,
}

/// The result of [`negotiate`]: the dialect and whether HTTP datagrams may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// The highest dialect both sides announced with all of its requirements met.
    pub dialect: Dialect,
    /// The datagram setting both sides sent with value 1, if any. Datagrams may only be sent
    /// when this is `Some` (RFC 9297 §2.1.1).
    pub datagrams: Option<DatagramSetting>,
}

/// Picks the WebTransport dialect from the server's and the client's settings: the highest
/// version both sides sent, with each dialect's requirements (draft-ietf-webtrans-http3 §3.1):
///
/// - draft-15/16: WT_ENABLED=1 from both, ENABLE_CONNECT_PROTOCOL=1 from the server,
///   H3_DATAGRAM (0x33)=1 from both;
/// - draft-13/14: WT_MAX_SESSIONS>0 from both, ECP=1 from the server, 0x33=1 from both;
/// - draft-07: WEBTRANSPORT_MAX_SESSIONS>0 from both, ECP=1 from the server, 0x33=1 from both;
/// - draft-02: ENABLE_WEBTRANSPORT=1 from both (it implies extended CONNECT); datagrams with
///   0x33 or 0xffd277 when both sent the same one with value 1.
///
/// Returns `None` when no dialect is shared: WebTransport is unavailable on the connection.
pub fn negotiate(server: &Settings, client: &Settings) -> Option<Negotiated> {
    let rfc_dgram = server.is_one(id::H3_DATAGRAM) && client.is_one(id::H3_DATAGRAM);
    let draft04_dgram =
        server.is_one(id::H3_DATAGRAM_DRAFT04) && client.is_one(id::H3_DATAGRAM_DRAFT04);
    let ecp = server.is_one(id::ENABLE_CONNECT_PROTOCOL);
    Dialect::ALL
        .iter()
        .rev()
        .copied()
        .filter(|d| d.announced_by(server) && d.announced_by(client))
        .find_map(|dialect| match dialect {
            Dialect::Draft02 => Some(Negotiated {
                dialect,
                datagrams: if rfc_dgram {
                    Some(DatagramSetting::Rfc9297)
                } else if draft04_dgram {
                    Some(DatagramSetting::Draft04)
                } else {
                    None
                },
            }),
            _ if ecp && rfc_dgram => Some(Negotiated {
                dialect,
                datagrams: Some(DatagramSetting::Rfc9297),
            }),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    use crate::test_util::hex;

    #[test]
    fn spec_server_settings_bytes() {
        // The server SETTINGS a browser accepts: `08 01 | 33 01 | 80ffd277 01 | ab603742 01 | ac7cf000 01`.
        let mut s = Settings::new();
        s.set(id::WT_ENABLED, 1)
            .set(id::ENABLE_WEBTRANSPORT, 1)
            .set(id::H3_DATAGRAM_DRAFT04, 1)
            .set(id::H3_DATAGRAM, 1)
            .set(id::ENABLE_CONNECT_PROTOCOL, 1);
        let mut out = Vec::new();
        s.encode(&mut out);
        assert_eq!(out, hex("0801330180ffd27701ab60374201ac7cf00001"));
        assert_eq!(out.len(), s.encoded_len());
        assert_eq!(Settings::decode(&out).unwrap(), s);
    }

    #[test]
    fn browser_settings_decode() {
        // Chromium 156 control stream SETTINGS payload (after `00 04 29`), GREASE included.
        let chromium = hex(
            "01800100000680004000074064330180ffd27701ab60374201c00000146dba16acc0000000648ac002",
        );
        let s = Settings::decode(&chromium).unwrap();
        assert_eq!(s.get(id::QPACK_MAX_TABLE_CAPACITY), Some(65536));
        assert_eq!(s.get(id::MAX_FIELD_SECTION_SIZE), Some(16384));
        assert_eq!(s.get(id::QPACK_BLOCKED_STREAMS), Some(100));
        assert!(s.is_one(id::H3_DATAGRAM) && s.is_one(id::H3_DATAGRAM_DRAFT04));
        assert!(s.is_one(id::ENABLE_WEBTRANSPORT));
        assert_eq!(s.get(0x14_6dba_16ac), Some(1_686_814_722));
        assert_eq!(s.len(), 7);
        // Firefox ESR 153: 0x1=65536, 0x7=20, 0x2b603742=1, 0xffd277=1, 0x33=1, 0x8=1.
        // (a capture published in picoquic issue #2157).
        let firefox = hex("01800100000714ab6037420180ffd2770133010801");
        let s = Settings::decode(&firefox).unwrap();
        assert!(s.is_one(id::ENABLE_CONNECT_PROTOCOL));
        assert_eq!(s.get(id::QPACK_BLOCKED_STREAMS), Some(20));
    }

    #[test]
    fn rejects() {
        let code = |b: &[u8]| Settings::decode(b).unwrap_err().code;
        assert_eq!(code(&[0x02, 0x00]), Code::H3_SETTINGS_ERROR);
        assert_eq!(code(&[0x05, 0x00]), Code::H3_SETTINGS_ERROR);
        assert_eq!(code(&[0x06, 0x01, 0x06, 0x02]), Code::H3_SETTINGS_ERROR);
        assert_eq!(code(&[0x08, 0x02]), Code::H3_SETTINGS_ERROR);
        assert_eq!(code(&[0x33, 0x02]), Code::H3_SETTINGS_ERROR);
        assert_eq!(
            code(&[0xab, 0x60, 0x37, 0x42, 0x02]),
            Code::H3_SETTINGS_ERROR
        );
        assert_eq!(code(&[0x06]), Code::H3_FRAME_ERROR);
        assert_eq!(code(&[0x46]), Code::H3_FRAME_ERROR);
        let mut many = Vec::new();
        for i in 0..=MAX_ENTRIES as u64 {
            varint::encode(0x100 + i, &mut many);
            varint::encode(0, &mut many);
        }
        assert_eq!(code(&many), Code::H3_EXCESSIVE_LOAD);
        // Unknown, grease and 0x00 are accepted.
        assert!(Settings::decode(&[0x21, 0x05, 0x00, 0x00, 0x40, 0x99, 0x07]).is_ok());
    }

    fn with(pairs: &[(u64, u64)]) -> Settings {
        let mut s = Settings::new();
        for &(k, v) in pairs {
            s.set(k, v);
        }
        s
    }

    #[test]
    fn dialect_negotiation() {
        let all_server = with(&[
            (id::ENABLE_CONNECT_PROTOCOL, 1),
            (id::H3_DATAGRAM, 1),
            (id::H3_DATAGRAM_DRAFT04, 1),
            (id::ENABLE_WEBTRANSPORT, 1),
            (id::WEBTRANSPORT_MAX_SESSIONS_DRAFT07, 1),
            (id::WT_MAX_SESSIONS, 1),
            (id::WT_ENABLED, 1),
        ]);
        let chrome = with(&[
            (id::H3_DATAGRAM, 1),
            (id::H3_DATAGRAM_DRAFT04, 1),
            (id::ENABLE_WEBTRANSPORT, 1),
        ]);
        let n = negotiate(&all_server, &chrome).unwrap();
        assert_eq!(n.dialect, Dialect::Draft02);
        assert_eq!(n.datagrams, Some(DatagramSetting::Rfc9297));

        let chrome07 = with(&[
            (id::H3_DATAGRAM, 1),
            (id::ENABLE_WEBTRANSPORT, 1),
            (id::WEBTRANSPORT_MAX_SESSIONS_DRAFT07, 16),
        ]);
        assert_eq!(
            negotiate(&all_server, &chrome07).unwrap().dialect,
            Dialect::Draft07
        );

        let d13 = with(&[(id::H3_DATAGRAM, 1), (id::WT_MAX_SESSIONS, 4)]);
        assert_eq!(
            negotiate(&all_server, &d13).unwrap().dialect,
            Dialect::Draft13
        );

        let d15 = with(&[
            (id::H3_DATAGRAM, 1),
            (id::WT_ENABLED, 1),
            (id::ENABLE_WEBTRANSPORT, 1),
        ]);
        assert_eq!(
            negotiate(&all_server, &d15).unwrap().dialect,
            Dialect::Draft15
        );

        // draft-07+ without RFC datagrams falls back to draft-02 with the draft-04 setting.
        let old = with(&[
            (id::H3_DATAGRAM_DRAFT04, 1),
            (id::ENABLE_WEBTRANSPORT, 1),
            (id::WT_ENABLED, 1),
        ]);
        let n = negotiate(&all_server, &old).unwrap();
        assert_eq!(n.dialect, Dialect::Draft02);
        assert_eq!(n.datagrams, Some(DatagramSetting::Draft04));

        // draft-02 without datagrams (Firefox accepts this).
        let bare = with(&[(id::ENABLE_WEBTRANSPORT, 1)]);
        assert_eq!(
            negotiate(&bare, &bare),
            Some(Negotiated {
                dialect: Dialect::Draft02,
                datagrams: None
            })
        );

        // The server did not send ECP: only draft-02 is possible.
        let no_ecp = with(&[(id::H3_DATAGRAM, 1), (id::WT_ENABLED, 1)]);
        assert_eq!(negotiate(&no_ecp, &d15), None);

        // Nothing shared.
        assert_eq!(negotiate(&all_server, &Settings::new()), None);
        assert_eq!(negotiate(&Settings::new(), &chrome), None);
    }

    #[test]
    fn round_trip_generated() {
        let mut rng = Rng::new(3);
        for _ in 0..5_000 {
            let mut s = Settings::new();
            for _ in 0..rng.below(12) {
                let k = match rng.below(4) {
                    0 => WRITE_ORDER[rng.below(WRITE_ORDER.len() as u64) as usize],
                    1 => 0x1f * rng.below(1 << 32) + 0x21,
                    _ => 0x06 + rng.below(1 << 40),
                };
                let v = if BOOLEAN_IDS.contains(&k) {
                    rng.below(2)
                } else {
                    rng.next_u64() & varint::MAX
                };
                s.set(k, v);
            }
            let mut out = Vec::new();
            s.encode(&mut out);
            assert_eq!(out.len(), s.encoded_len());
            let d = Settings::decode(&out).unwrap();
            assert_eq!(d.iter().collect::<Vec<_>>(), s.iter().collect::<Vec<_>>());
        }
    }
}
