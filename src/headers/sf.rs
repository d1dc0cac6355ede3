#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
//! Structured Field Values (RFC 8941, with the RFC 9651 additions) as far as WebTransport needs them.
//!
//! The parser implements the full RFC 8941 §4.2 algorithms for Lists and Items (bare items of every
//! type, parameters and inner lists), plus the RFC 9651 Date and Display String types, so that
//! parameters of any type can be skipped correctly. Serialization is only offered for what the
//! engine emits: sf-strings and lists of sf-strings.
//!
//! The WebTransport helpers ([`parse_protocol_list`], [`parse_protocol_item`]) implement the
//! `WT-Available-Protocols` / `WT-Protocol` rules of draft-ietf-webtrans-http3: members must be
//! sf-strings (d13 and later) or sf-tokens (d10–d12), parameters are ignored, and any other
//! member type (or a parse failure) makes the whole field ignored.

use thiserror::Error;

/// Longest integer part a Decimal may have (RFC 8941 §4.2.4).
const MAX_DECIMAL_INT_DIGITS: usize = 12;
/// Longest Integer (RFC 8941 §4.2.4).
const MAX_INTEGER_DIGITS: usize = 15;
/// Longest fractional part a Decimal may have (RFC 8941 §4.2.4).
const MAX_DECIMAL_FRAC_DIGITS: usize = 3;

/// A Decimal (RFC 8941 §3.3.2), stored exactly as a count of thousandths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The value multiplied by 1000 (`1.5` is `1500`, `-0.001` is `-1`).
    pub thousandths: i64,
}

/// A bare item (RFC 8941 §3.3, RFC 9651 §3.3.7/§3.3.8).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BareItem {
    /// An Integer (at most 15 digits).
    Integer(i64),
    /// A Decimal (at most 12 integer and 3 fractional digits).
    Decimal(Decimal),
    /// A String (printable ASCII, escapes removed).
    String(String),
    /// A Token.
    Token(String),
    /// A Byte Sequence (base64-decoded).
    ByteSequence(Vec<u8>),
    /// A Boolean (`?1` / `?0`).
    Boolean(bool),
    /// A Date (RFC 9651), seconds since the Unix epoch.
    Date(i64),
    /// A Display String (RFC 9651), percent-decoded UTF-8.
    DisplayString(String),
}

/// Parameters of an item or inner list, in order, with unique keys (a repeated key overwrites the
/// earlier value in place, as RFC 8941 §4.2.3.2 requires).
pub type Parameters = Vec<(String, BareItem)>;

/// An Item: a bare item and its parameters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Item {
    /// The value.
    pub bare: BareItem,
    /// Its parameters.
    pub params: Parameters,
}

/// An Inner List: items in parentheses, with parameters on the list itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InnerList {
    /// The items of the inner list.
    pub items: Vec<Item>,
    /// The parameters of the inner list.
    pub params: Parameters,
}

/// A member of a List.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ListMember {
    /// A plain item.
    Item(Item),
    /// An inner list.
    InnerList(InnerList),
}

/// Why a structured field could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ParseError {
    /// The input ended in the middle of a value.
    #[error("structured field ends unexpectedly")]
    UnexpectedEnd,
    /// A byte that the grammar does not allow at that position.
    #[error("unexpected byte {byte:#04x} at offset {offset} of a structured field")]
    UnexpectedByte {
        /// The offending byte.
        byte: u8,
        /// Its offset in the input.
        offset: usize,
    },
    /// An Integer or Decimal with too many digits (or a Decimal ending in `.`).
    #[error("number out of range in a structured field")]
    NumberOutOfRange,
    /// A Display String whose percent-decoded bytes are not UTF-8.
    #[error("display string is not valid UTF-8")]
    InvalidUtf8,
}

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

/// Parses a List field value (RFC 8941 §4.2.1). An empty value is an empty list.
///
/// Several field lines of the same List field must be joined with `", "` before calling this.
pub fn parse_list(input: &[u8]) -> Result<Vec<ListMember>, ParseError> {
    let mut p = Parser::new(input);
    p.skip_sp();
    let list = p.list()?;
    p.skip_sp();
    p.finish()?;
    Ok(list)
}

/// Parses an Item field value (RFC 8941 §4.2.3).
pub fn parse_item(input: &[u8]) -> Result<Item, ParseError> {
    let mut p = Parser::new(input);
    p.skip_sp();
    let item = p.item()?;
    p.skip_sp();
    p.finish()?;
    Ok(item)
}

/// Parses a `WT-Available-Protocols` value: a List whose members are all sf-strings or sf-tokens.
///
/// Parameters are ignored. Returns `None` (the field must be ignored as a whole) when the value
/// does not parse, or when any member is an inner list or an item of another type.
pub fn parse_protocol_list(input: &[u8]) -> Option<Vec<String>> {
    let members = parse_list(input).ok()?;
    members
        .into_iter()
        .map(|m| match m {
            ListMember::Item(item) => string_or_token(item.bare),
            ListMember::InnerList(_) => None,
        })
        .collect()
}

/// Parses a `WT-Protocol` value: an Item that is an sf-string or an sf-token (parameters ignored).
///
/// Returns `None` when the value is malformed or of another type.
pub fn parse_protocol_item(input: &[u8]) -> Option<String> {
    string_or_token(parse_item(input).ok()?.bare)
}

fn string_or_token(bare: BareItem) -> Option<String> {
    match bare {
        BareItem::String(s) | BareItem::Token(s) => Some(s),
        _ => None,
    }
}

/// Serializes `s` as an sf-string (RFC 8941 §4.1.6): quoted, with `"` and `\` escaped.
///
/// Fails if `s` holds anything but printable ASCII.
pub fn serialize_string(s: &str) -> Result<String, SerializeError> {
    let mut out = String::with_capacity(s.len().saturating_add(2));
    push_string(&mut out, s)?;
    Ok(out)
}

/// Serializes a List of sf-strings (RFC 8941 §4.1.1), members separated by `", "`.
///
/// Fails on the first string that holds anything but printable ASCII.
pub fn serialize_string_list<S: AsRef<str>>(items: &[S]) -> Result<String, SerializeError> {
    let mut out = String::new();
    for (i, s) in items.iter().enumerate() {
        if i != 0 {
            out.push_str(", ");
        }
        push_string(&mut out, s.as_ref())?;
    }
    Ok(out)
}

fn push_string(out: &mut String, s: &str) -> Result<(), SerializeError> {
    if let Some((index, &byte)) = s
        .as_bytes()
        .iter()
        .enumerate()
        .find(|(_, b)| !is_printable(**b))
    {
        return Err(SerializeError::NotPrintable { index, byte });
    }
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(())
}

fn is_printable(b: u8) -> bool {
    (0x20..=0x7e).contains(&b)
}

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.*".contains(&b)
}

fn base64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b.wrapping_sub(b'A')),
        b'a'..=b'z' => Some(b.wrapping_sub(b'a').wrapping_add(26)),
        b'0'..=b'9' => Some(b.wrapping_sub(b'0').wrapping_add(52)),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(b.wrapping_sub(b'a').wrapping_add(10)),
        _ => None,
    }
}

/// A cursor over the input. All reads go through `peek`/`bump`, so no indexing is needed.
struct Parser<'a> {
    len: usize,
    rest: &'a [u8],
}

impl<'a> Parser<'a> {
    fn new(input: &'a [u8]) -> Self {
        Self {
            len: input.len(),
            rest: input,
        }
    }

    fn offset(&self) -> usize {
        self.len.saturating_sub(self.rest.len())
    }

    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    /// The error for the current position: the byte found there, or the end of input.
    fn unexpected(&self) -> ParseError {
        match self.peek() {
            Some(byte) => ParseError::UnexpectedByte {
                byte,
                offset: self.offset(),
            },
            None => ParseError::UnexpectedEnd,
        }
    }

    fn expect(&mut self, want: u8) -> Result<(), ParseError> {
        if self.peek() == Some(want) {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn finish(&self) -> Result<(), ParseError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.bump();
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
    }

    fn list(&mut self) -> Result<Vec<ListMember>, ParseError> {
        let mut members = Vec::new();
        while !self.rest.is_empty() {
            members.push(self.item_or_inner_list()?);
            self.skip_ows();
            if self.rest.is_empty() {
                break;
            }
            self.expect(b',')?;
            self.skip_ows();
            if self.rest.is_empty() {
                // A trailing comma.
                return Err(ParseError::UnexpectedEnd);
            }
        }
        Ok(members)
    }

    fn item_or_inner_list(&mut self) -> Result<ListMember, ParseError> {
        if self.peek() == Some(b'(') {
            self.inner_list().map(ListMember::InnerList)
        } else {
            self.item().map(ListMember::Item)
        }
    }

    fn inner_list(&mut self) -> Result<InnerList, ParseError> {
        self.expect(b'(')?;
        let mut items = Vec::new();
        loop {
            self.skip_sp();
            if self.peek() == Some(b')') {
                self.bump();
                let params = self.parameters()?;
                return Ok(InnerList { items, params });
            }
            items.push(self.item()?);
            if !matches!(self.peek(), Some(b' ' | b')')) {
                return Err(self.unexpected());
            }
        }
    }

    fn item(&mut self) -> Result<Item, ParseError> {
        let bare = self.bare_item()?;
        let params = self.parameters()?;
        Ok(Item { bare, params })
    }

    fn parameters(&mut self) -> Result<Parameters, ParseError> {
        let mut params: Parameters = Vec::new();
        while self.peek() == Some(b';') {
            self.bump();
            self.skip_sp();
            let key = self.key()?;
            let value = if self.peek() == Some(b'=') {
                self.bump();
                self.bare_item()?
            } else {
                BareItem::Boolean(true)
            };
            match params.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => params.push((key, value)),
            }
        }
        Ok(params)
    }

    fn key(&mut self) -> Result<String, ParseError> {
        match self.peek() {
            Some(b) if b.is_ascii_lowercase() || b == b'*' => {}
            _ => return Err(self.unexpected()),
        }
        let mut key = String::new();
        while let Some(b) = self.peek().filter(|b| is_key_char(*b)) {
            self.bump();
            key.push(char::from(b));
        }
        Ok(key)
    }

    fn bare_item(&mut self) -> Result<BareItem, ParseError> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'"') => self.string().map(BareItem::String),
            Some(b) if b.is_ascii_alphabetic() || b == b'*' => Ok(BareItem::Token(self.token())),
            Some(b':') => self.byte_sequence().map(BareItem::ByteSequence),
            Some(b'?') => self.boolean().map(BareItem::Boolean),
            Some(b'@') => self.date().map(BareItem::Date),
            Some(b'%') => self.display_string().map(BareItem::DisplayString),
            _ => Err(self.unexpected()),
        }
    }

    fn number(&mut self) -> Result<BareItem, ParseError> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.bump();
        }
        if !self.peek().is_some_and(|b| b.is_ascii_digit()) {
            return Err(self.unexpected());
        }
        let mut int: i64 = 0;
        let mut int_digits: usize = 0;
        let mut frac: i64 = 0;
        let mut frac_digits: usize = 0;
        let mut is_decimal = false;
        while let Some(b) = self.peek() {
            if b.is_ascii_digit() {
                self.bump();
                let digit = i64::from(b.wrapping_sub(b'0'));
                if is_decimal {
                    frac_digits = frac_digits.saturating_add(1);
                    if frac_digits > MAX_DECIMAL_FRAC_DIGITS {
                        return Err(ParseError::NumberOutOfRange);
                    }
                    frac = push_digit(frac, digit)?;
                } else {
                    int_digits = int_digits.saturating_add(1);
                    if int_digits > MAX_INTEGER_DIGITS {
                        return Err(ParseError::NumberOutOfRange);
                    }
                    int = push_digit(int, digit)?;
                }
            } else if b == b'.' && !is_decimal {
                if int_digits > MAX_DECIMAL_INT_DIGITS {
                    return Err(ParseError::NumberOutOfRange);
                }
                self.bump();
                is_decimal = true;
            } else {
                break;
            }
        }
        let sign = |v: i64| {
            if negative {
                v.checked_neg().ok_or(ParseError::NumberOutOfRange)
            } else {
                Ok(v)
            }
        };
        if !is_decimal {
            return sign(int).map(BareItem::Integer);
        }
        let scale: i64 = match frac_digits {
            0 => return Err(ParseError::NumberOutOfRange),
            1 => 100,
            2 => 10,
            _ => 1,
        };
        let thousandths = int
            .checked_mul(1000)
            .and_then(|v| v.checked_add(frac.checked_mul(scale)?))
            .ok_or(ParseError::NumberOutOfRange)?;
        Ok(BareItem::Decimal(Decimal {
            thousandths: sign(thousandths)?,
        }))
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(ParseError::UnexpectedEnd);
            };
            match b {
                b'\\' => {
                    self.bump();
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => {
                            self.bump();
                            out.push(char::from(c));
                        }
                        _ => return Err(self.unexpected()),
                    }
                }
                b'"' => {
                    self.bump();
                    return Ok(out);
                }
                b if is_printable(b) => {
                    self.bump();
                    out.push(char::from(b));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn token(&mut self) -> String {
        let mut out = String::new();
        while let Some(b) = self
            .peek()
            .filter(|b| is_tchar(*b) || *b == b':' || *b == b'/')
        {
            self.bump();
            out.push(char::from(b));
        }
        out
    }

    fn byte_sequence(&mut self) -> Result<Vec<u8>, ParseError> {
        self.expect(b':')?;
        let mut out = Vec::new();
        let mut acc: u32 = 0;
        let mut bits: u32 = 0;
        let mut padding = false;
        loop {
            match self.peek() {
                None => return Err(ParseError::UnexpectedEnd),
                Some(b':') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'=') => {
                    self.bump();
                    padding = true;
                }
                Some(b) => match base64_value(b) {
                    Some(v) if !padding => {
                        self.bump();
                        acc = acc.wrapping_shl(6) | u32::from(v);
                        bits = bits.wrapping_add(6);
                        if bits >= 8 {
                            bits = bits.wrapping_sub(8);
                            let byte = acc.wrapping_shr(bits) & 0xff;
                            out.push(u8::try_from(byte).unwrap_or_default());
                        }
                    }
                    _ => return Err(self.unexpected()),
                },
            }
        }
    }

    fn boolean(&mut self) -> Result<bool, ParseError> {
        self.expect(b'?')?;
        match self.peek() {
            Some(b'1') => {
                self.bump();
                Ok(true)
            }
            Some(b'0') => {
                self.bump();
                Ok(false)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn date(&mut self) -> Result<i64, ParseError> {
        self.expect(b'@')?;
        let start = self.offset();
        match self.number()? {
            BareItem::Integer(v) => Ok(v),
            _ => Err(ParseError::UnexpectedByte {
                byte: b'.',
                offset: start,
            }),
        }
    }

    fn display_string(&mut self) -> Result<String, ParseError> {
        self.expect(b'%')?;
        self.expect(b'"')?;
        let mut bytes = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(ParseError::UnexpectedEnd);
            };
            match b {
                b'%' => {
                    self.bump();
                    let hi = self
                        .peek()
                        .and_then(hex_value)
                        .ok_or_else(|| self.unexpected())?;
                    self.bump();
                    let lo = self
                        .peek()
                        .and_then(hex_value)
                        .ok_or_else(|| self.unexpected())?;
                    self.bump();
                    bytes.push(hi.wrapping_shl(4) | lo);
                }
                b'"' => {
                    self.bump();
                    return String::from_utf8(bytes).map_err(|_| ParseError::InvalidUtf8);
                }
                b if is_printable(b) => {
                    self.bump();
                    bytes.push(b);
                }
                _ => return Err(self.unexpected()),
            }
        }
    }
}

fn push_digit(acc: i64, digit: i64) -> Result<i64, ParseError> {
    acc.checked_mul(10)
        .and_then(|v| v.checked_add(digit))
        .ok_or(ParseError::NumberOutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn item(bare: BareItem) -> Item {
        Item {
            bare,
            params: Vec::new(),
        }
    }

    fn s(v: &str) -> BareItem {
        BareItem::String(v.to_owned())
    }

    fn t(v: &str) -> BareItem {
        BareItem::Token(v.to_owned())
    }

    #[test]
    fn bare_items_of_every_type() {
        let cases: &[(&str, BareItem)] = &[
            ("42", BareItem::Integer(42)),
            ("-42", BareItem::Integer(-42)),
            ("999999999999999", BareItem::Integer(999_999_999_999_999)),
            ("4.5", BareItem::Decimal(Decimal { thousandths: 4500 })),
            ("-0.001", BareItem::Decimal(Decimal { thousandths: -1 })),
            (
                "123456789012.123",
                BareItem::Decimal(Decimal {
                    thousandths: 123_456_789_012_123,
                }),
            ),
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
            ("@1659578233", BareItem::Date(1_659_578_233)),
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
        assert_eq!(got.bare, s("a"));
        assert_eq!(
            got.params,
            vec![
                (
                    "q".to_owned(),
                    BareItem::Decimal(Decimal { thousandths: 500 })
                ),
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
                ListMember::Item(item(t("sugar"))),
                ListMember::Item(item(t("tea"))),
                ListMember::Item(item(t("rum"))),
            ]
        );
        let got = parse_list(br#"("foo" "bar"), ("baz"), ("bat" "one"), ()"#).unwrap();
        assert_eq!(got.len(), 4);
        assert!(matches!(&got[3], ListMember::InnerList(l) if l.items.is_empty()));
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
        }
    }
}
