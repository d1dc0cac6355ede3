#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! Structured Field Values (RFC 8941, with the RFC 9651 additions) as far as WebTransport needs them.
//!
//! Parsing and serialization are the `sfv` crate's, which implements the RFC 9651 §4 algorithms
//! in full (bare items of every type, parameters, inner lists, Dates and Display Strings), so
//! that parameters of any type are validated and skipped correctly. It is used through its
//! visitor interface: nothing is built but the protocol names.
//!
//! The WebTransport helpers ([`parse_protocol_list`], [`parse_protocol_item`]) implement the
//! `WT-Available-Protocols` / `WT-Protocol` rules of draft-ietf-webtrans-http3: members must be
//! sf-strings (d13 and later) or sf-tokens (d10–d12), parameters are ignored, and any other
//! member type (or a parse failure) makes the whole field ignored.

use sfv::visitor::{
    EntryVisitor, Ignored, InnerListVisitor, ItemVisitor, ListVisitor, Never, ParameterVisitor,
    parameter_visitor_with,
};
use sfv::{BareItemFromInput, ItemSerializer, ListSerializer, Parser, StringRef};
use thiserror::Error;

/// Why a value cannot be serialized as a structured field.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SerializeError {
    /// An sf-string may only hold printable ASCII (0x20..=0x7e).
    #[error("byte {byte:#04x} at offset {index} cannot appear in an sf-string")]
    NotPrintable {
        /// Offset of the first offending byte in the string.
        index: usize,
        /// The offending byte.
        byte: u8,
    },
}

/// Parses a `WT-Available-Protocols` value: a List (RFC 9651 §4.2.1) whose members are all
/// sf-strings or sf-tokens. An empty value is an empty list.
///
/// Several field lines must be joined with `", "` before calling this. Parameters are ignored.
/// Returns `None` (the field must be ignored as a whole) when the value does not parse, or when
/// any member is an inner list or an item of another type.
pub fn parse_protocol_list(input: &[u8]) -> Option<Vec<String>> {
    Parser::new(input)
        .parse_list_with_visitor(ProtocolList::default())
        .ok()
}

/// Parses a `WT-Protocol` value: an Item (RFC 9651 §4.2.3) that is an sf-string or an sf-token
/// (parameters ignored).
///
/// Returns `None` when the value is malformed or of another type.
pub fn parse_protocol_item(input: &[u8]) -> Option<String> {
    Parser::new(input)
        .parse_item_with_visitor(|bare: BareItemFromInput<'_>| {
            let protocol = protocol(bare)?;
            Ok::<_, NotAProtocol>(parameter_visitor_with(Ignored, |()| Ok(protocol)))
        })
        .ok()
}

/// Serializes `s` as an sf-string (RFC 9651 §4.1.6): quoted, with `"` and `\` escaped.
///
/// Fails if `s` holds anything but printable ASCII.
pub fn serialize_string(s: &str) -> Result<String, SerializeError> {
    Ok(ItemSerializer::new().bare_item(sf_string(s)?).finish())
}

/// Serializes a List of sf-strings (RFC 9651 §4.1.1), members separated by `", "`; an empty list
/// is an empty string.
///
/// Fails on the first string that holds anything but printable ASCII.
pub fn serialize_string_list<S: AsRef<str>>(items: &[S]) -> Result<String, SerializeError> {
    let mut list = ListSerializer::new();
    for s in items {
        list.bare_item(sf_string(s.as_ref())?);
    }
    Ok(list.finish().unwrap_or_default())
}

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks that `s` can be an sf-string (RFC 9651 §3.3.3: printable ASCII only).
fn sf_string(s: &str) -> Result<&StringRef, SerializeError> {
    StringRef::from_str(s).map_err(|err| {
        // sfv reports the offset of the first byte outside 0x20..=0x7e.
        let index = err.index().unwrap_or_default();
        SerializeError::NotPrintable {
            index,
            byte: s.as_bytes().get(index).copied().unwrap_or_default(),
        }
    })
}

/// A member that is neither an sf-string nor an sf-token: the whole field is ignored.
#[derive(Debug, Error)]
#[error("member is not an sf-string or an sf-token")]
struct NotAProtocol;

/// The protocol name of an sf-string or sf-token member (RFC 9651 §3.3.3, §3.3.4).
fn protocol(bare: BareItemFromInput<'_>) -> Result<String, NotAProtocol> {
    match bare {
        BareItemFromInput::String(s) => Ok(s.as_str().to_owned()),
        BareItemFromInput::Token(t) => Ok(t.as_str().to_owned()),
        _ => Err(NotAProtocol),
    }
}

/// Collects the members of a `WT-Available-Protocols` List; stops the parse at the first member
/// that is not an sf-string or an sf-token.
#[derive(Default)]
struct ProtocolList(Vec<String>);

impl<'de> ListVisitor<'de> for ProtocolList {
    type Out = Vec<String>;
    type Error = NotAProtocol;

    fn entry(&mut self) -> Result<impl EntryVisitor<'de>, NotAProtocol> {
        Ok(ProtocolMember(&mut self.0))
    }

    fn finish(self) -> Result<Vec<String>, NotAProtocol> {
        Ok(self.0)
    }
}

/// One List member (RFC 9651 §4.2.1.1): an item is pushed, an inner list is refused.
struct ProtocolMember<'a>(&'a mut Vec<String>);

impl<'de> EntryVisitor<'de> for ProtocolMember<'_> {
    type Error = NotAProtocol;

    fn item(self) -> Result<impl ItemVisitor<'de>, NotAProtocol> {
        Ok(self)
    }

    fn inner_list(self) -> Result<impl InnerListVisitor<'de>, NotAProtocol> {
        Err::<Never, _>(NotAProtocol)
    }
}

impl<'de> ItemVisitor<'de> for ProtocolMember<'_> {
    type Out = ();
    type Error = NotAProtocol;

    fn bare_item(
        self,
        bare: BareItemFromInput<'de>,
    ) -> Result<impl ParameterVisitor<'de, Out = ()>, NotAProtocol> {
        self.0.push(protocol(bare)?);
        // Parameters are still parsed (and must be valid), then dropped.
        Ok(Ignored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use sfv::{BareItem, Date, Decimal, Item, List, ListEntry, Token, integer};

    /// The whole RFC 9651 parse of an Item, for checking what the parser accepts.
    fn parse_item(input: &[u8]) -> Result<Item, String> {
        Parser::new(input).parse().map_err(|e| e.to_string())
    }

    /// The whole RFC 9651 parse of a List.
    fn parse_list(input: &[u8]) -> Result<List, String> {
        Parser::new(input).parse().map_err(|e| e.to_string())
    }

    fn item(bare: BareItem) -> Item {
        Item::new(bare)
    }

    fn s(v: &str) -> BareItem {
        BareItem::String(sfv::String::from_string(v.to_owned()).unwrap())
    }

    fn t(v: &str) -> BareItem {
        BareItem::Token(Token::from_string(v.to_owned()).unwrap())
    }

    fn int(v: i64) -> BareItem {
        BareItem::Integer(integer(v))
    }

    fn dec(thousandths: i64) -> BareItem {
        BareItem::Decimal(Decimal::from_integer_scaled_1000(integer(thousandths)))
    }

    #[test]
    fn bare_items_of_every_type() {
        let cases: &[(&str, BareItem)] = &[
            ("42", int(42)),
            ("-42", int(-42)),
            ("999999999999999", int(999_999_999_999_999)),
            ("4.5", dec(4500)),
            ("-0.001", dec(-1)),
            ("123456789012.123", dec(123_456_789_012_123)),
            (r#""hello world""#, s("hello world")),
            (r#""a\"b\\c""#, s(r#"a"b\c"#)),
            (r#""""#, s("")),
            ("foo123/456", t("foo123/456")),
            ("*foo:bar", t("*foo:bar")),
            (
                ":cHJldGVuZCB0aGlzIGlzIGJpbmFyeSBjb250ZW50Lg==:",
                BareItem::ByteSequence(b"pretend this is binary content.".to_vec()),
            ),
            ("::", BareItem::ByteSequence(Vec::new())),
            ("?1", BareItem::Boolean(true)),
            ("?0", BareItem::Boolean(false)),
            (
                "@1659578233",
                BareItem::Date(Date::from_unix_seconds(integer(1_659_578_233))),
            ),
            (
                r#"%"This is intended for display to %c3%bcsers.""#,
                BareItem::DisplayString("This is intended for display to \u{fc}sers.".into()),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_item(input.as_bytes()),
                Ok(item(want.clone())),
                "{input}"
            );
        }
    }

    #[test]
    fn invalid_items() {
        for input in [
            "",
            "1234567890123456",
            "1234567890123.1",
            "1.1234",
            "1.",
            "-",
            "--1",
            r#""unterminated"#,
            r#""bad \x escape""#,
            "\"tab\tinside\"",
            "\"\u{e9}\"",
            ":not base64!:",
            ":abc",
            "?2",
            "@1.5",
            "%\"%C3%BC\"",
            "%\"%ff\"",
            "a b",
            "1;",
            "1;Key=2",
            "(1 2)",
            "!",
        ] {
            assert!(parse_item(input.as_bytes()).is_err(), "{input:?}");
        }
    }

    #[test]
    fn parameters_parsed_and_overwritten() {
        let got = parse_item(br#""a";q=1;b;c=?0;q=0.5;z=:AA==:"#).unwrap();
        assert_eq!(got.bare_item, s("a"));
        let params: Vec<(String, BareItem)> = got
            .params
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
            .collect();
        assert_eq!(
            params,
            vec![
                ("q".to_owned(), dec(500)),
                ("b".to_owned(), BareItem::Boolean(true)),
                ("c".to_owned(), BareItem::Boolean(false)),
                ("z".to_owned(), BareItem::ByteSequence(vec![0])),
            ]
        );
    }

    #[test]
    fn lists_rfc8941_examples() {
        let got = parse_list(b"sugar, tea, rum").unwrap();
        assert_eq!(
            got,
            vec![
                ListEntry::Item(item(t("sugar"))),
                ListEntry::Item(item(t("tea"))),
                ListEntry::Item(item(t("rum"))),
            ]
        );
        let got = parse_list(br#"("foo" "bar"), ("baz"), ("bat" "one"), ()"#).unwrap();
        assert_eq!(got.len(), 4);
        assert!(matches!(&got[3], ListEntry::InnerList(l) if l.items.is_empty()));
        let got = parse_list(br#"("foo"; a=1;b=2);lvl=5, ("bar" "baz");lvl=1"#).unwrap();
        assert_eq!(got.len(), 2);
        let got = parse_list(b"abc;a=1;b=2; cde_456, (ghi;jk=4 l);q=\"9\";r=w").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(parse_list(b"").unwrap(), vec![]);
        assert_eq!(parse_list(b"   ").unwrap(), vec![]);
        // OWS around commas, tabs allowed there.
        assert_eq!(parse_list(b"1 ,\t2,3").unwrap().len(), 3);
        for bad in [
            &b"1,"[..],
            b"1,,2",
            b",1",
            b"1 2",
            b"(1",
            b"(1,2)",
            b"\t1",
            b"1 ;a",
        ] {
            assert!(
                parse_list(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn protocol_lists() {
        let ok = |v: &str| parse_protocol_list(v.as_bytes());
        assert_eq!(
            ok(r#""echo-v1", "other-v2""#),
            Some(vec!["echo-v1".to_owned(), "other-v2".to_owned()])
        );
        assert_eq!(
            ok("echo-v1, other"),
            Some(vec!["echo-v1".to_owned(), "other".to_owned()])
        );
        assert_eq!(ok(r#""a";q=1"#), Some(vec!["a".to_owned()]));
        assert_eq!(
            ok(r#""a";q=1;x="y", b;v=?1"#),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(ok(""), Some(vec![]));
        assert_eq!(
            ok(r#""with \"quote\" and \\""#),
            Some(vec![r#"with "quote" and \"#.to_owned()])
        );
        // Any other member type makes the whole field ignored.
        for bad in [
            r#""a", 1"#,
            r#""a", ("b")"#,
            r#""a", :AAA=:"#,
            r#""a", ?1"#,
            r#""a", 1.5"#,
            r#""a", @1"#,
            r#""a", %"b""#,
            r#""a","#,
            r#""a" "b""#,
            r#""unterminated"#,
            "\"non-ascii \u{e9}\"",
            "echo-v1;",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }

    #[test]
    fn protocol_items() {
        assert_eq!(parse_protocol_item(br#""echo-v1""#), Some("echo-v1".into()));
        assert_eq!(parse_protocol_item(b"echo-v1"), Some("echo-v1".into()));
        assert_eq!(parse_protocol_item(br#" "a";q=1 "#), Some("a".into()));
        assert_eq!(parse_protocol_item(b"1"), None);
        assert_eq!(parse_protocol_item(br#""a", "b""#), None);
        assert_eq!(parse_protocol_item(b""), None);
    }

    #[test]
    fn serialize() {
        assert_eq!(serialize_string("echo-v1").unwrap(), r#""echo-v1""#);
        assert_eq!(serialize_string(r#"a"b\c"#).unwrap(), r#""a\"b\\c""#);
        assert_eq!(
            serialize_string_list(&["echo-v1", "other-v2"]).unwrap(),
            r#""echo-v1", "other-v2""#
        );
        assert_eq!(serialize_string_list::<&str>(&[]).unwrap(), "");
        assert_eq!(
            serialize_string("a\u{7f}"),
            Err(SerializeError::NotPrintable {
                index: 1,
                byte: 0x7f
            })
        );
        assert!(serialize_string("caf\u{e9}").is_err());
        assert!(serialize_string_list(&["ok", "tab\t"]).is_err());
    }

    fn random_protocol(rng: &mut Rng) -> String {
        let len = rng.below(12);
        (0..len)
            .map(|_| {
                // Bias towards the characters that need escaping.
                match rng.below(8) {
                    0 => '"',
                    1 => '\\',
                    _ => char::from(u8::try_from(0x20 + rng.below(0x5f)).unwrap()),
                }
            })
            .collect()
    }

    #[test]
    fn random_protocol_lists_round_trip() {
        let mut rng = Rng::new(0x5f_1157);
        for _ in 0..5000 {
            let n = rng.below(6);
            let list: Vec<String> = (0..n).map(|_| random_protocol(&mut rng)).collect();
            let wire = serialize_string_list(&list).unwrap();
            assert_eq!(
                parse_protocol_list(wire.as_bytes()),
                Some(list.clone()),
                "{wire}"
            );
            if let Some(first) = list.first() {
                let one = serialize_string(first).unwrap();
                assert_eq!(parse_protocol_item(one.as_bytes()).as_ref(), Some(first));
            }
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = Rng::new(99);
        let alphabet = b" \t,;=()\"\\:?@%*-.0123456789abcAZ/\x7f\xc3";
        for _ in 0..20000 {
            let len = usize::try_from(rng.below(24)).unwrap();
            let input: Vec<u8> = (0..len)
                .map(|_| alphabet[usize::try_from(rng.below(alphabet.len() as u64)).unwrap()])
                .collect();
            let _ = parse_list(&input);
            let _ = parse_item(&input);
            let _ = parse_protocol_list(&input);
            let _ = parse_protocol_item(&input);
        }
    }
}
