//! Reading the inner XML documents of the INPS ISEE answers (namespace
//! `http://inps.it/ISEERiforma`): the `Indicatore` of the Indicatore services
//! and the `EsitoAttestazione` of the Attestazione services.
//!
//! - **Encoding.** A byte order mark decides (UTF-8, UTF-16); otherwise the
//!   XML declaration (`encoding="ISO-8859-1"`, `"UTF-8"`, any single-byte
//!   encoding), otherwise UTF-8. ISO-8859-1 is decoded as windows-1252, its
//!   superset, as browsers do. Bytes that are not valid in the encoding are
//!   an error (`isee_xml_encoding`), never replaced.
//! - **Names.** Elements and attributes are matched by local name: a prefix
//!   (`ns2:Attestazione`) and the namespace URI are ignored.
//! - **Forward compatible.** Unknown elements and attributes are skipped; an
//!   unknown `ISEE…` section of `Ordinario` that carries values becomes an
//!   [`IseeKind::Other`] entry. The whole document is kept, decoded, in
//!   `raw_xml`.
//! - **Strict on what it reads.** A value that is read and does not parse
//!   (amount, date, codice fiscale, DSU protocol, flag) is an error naming the
//!   element and the attribute (`isee_xml_bad_value`), never a silent `None`.
//! - **Limits.** At most [`MAX_XML_BYTES`] bytes, [`MAX_ELEMENTS`] elements
//!   and [`MAX_DEPTH`] levels of nesting (`isee_xml_limit`). No DTD is processed and only the five
//!   predefined entities and character references are expanded.
//!
//! Errors carry the 1-based byte position in the input of the element (or
//! of the malformed markup) and never a codice fiscale, a name or an amount.
//!
//! The SOAP fields `XmlEsitoIndicatore` / `XmlEsitoAttestazione` are
//! `xs:base64Binary`: [`parse_indicatore_base64`] and
//! [`parse_attestazione_base64`] take that text directly.

use std::borrow::Cow;

use chrono::NaiveDate;
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::kind::IseeKind;
use super::money::{Euro, Scala};
use super::record::{
    Attestazione, Beneficiario, Calcolo, ComponenteNucleo, ComponenteNucleoRistretto, Corrente,
    Discordanza, Indicatore, IseeEntry, IseeValues, OmissioneDifformita, Rapporto, Ricerca,
    RicercaKind, Variazione,
};
use crate::cf::{AnyCodiceFiscale, CodiceFiscale};
use crate::dsu::DsuProtocol;
use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// The largest document accepted, in bytes (4 MiB; real attestazioni are a
/// few kilobytes).
pub const MAX_XML_BYTES: usize = 4 * 1024 * 1024;

/// The most elements a document may have (real ones have a few dozen).
pub const MAX_ELEMENTS: usize = 100_000;

/// The deepest nesting of elements accepted (real documents use about 8).
pub const MAX_DEPTH: usize = 32;

/// Longest element or encoding name repeated in an error message.
const MAX_NAME_IN_ERROR: usize = 64;

/// Why an INPS ISEE document could not be read.
///
/// Codes: `isee_xml_limit`, `isee_xml_encoding`, `isee_xml_malformed`,
/// `isee_xml_wrong_root`, `isee_xml_missing_element`,
/// `isee_xml_missing_attribute`, `isee_xml_bad_value`, `isee_xml_duplicate`,
/// `isee_base64`. [`ErrorCode::position`] is the 1-based byte position in
/// the input (in the base64 text for `isee_base64`). Messages never contain
/// a codice fiscale, a name or an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IseeXmlError {
    /// The input is larger than [`MAX_XML_BYTES`].
    #[error("the document has {size} bytes, more than the {limit} accepted")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Elements are nested deeper than [`MAX_DEPTH`].
    #[error("elements are nested more than {limit} levels deep at byte {pos}")]
    TooDeep {
        /// Byte position of the element that goes too deep.
        pos: usize,
        /// The limit.
        limit: usize,
    },
    /// The document has more than [`MAX_ELEMENTS`] elements.
    #[error("the document has more than {limit} elements (at byte {pos})")]
    TooManyElements {
        /// Byte position of the first element over the limit.
        pos: usize,
        /// The limit.
        limit: usize,
    },
    /// The declared encoding is unknown or not supported.
    #[error(
        "the document declares the encoding {declared:?}, which is not supported \
         (use UTF-8 or ISO-8859-1)"
    )]
    UnsupportedEncoding {
        /// The label found in the XML declaration (clipped).
        declared: String,
    },
    /// The bytes are not valid in the document's encoding, or the byte order
    /// mark and the declaration disagree.
    #[error("encoding error{}: {reason}", at(.pos))]
    Encoding {
        /// Byte position of the first bad byte, when known.
        pos: Option<usize>,
        /// What is wrong.
        reason: &'static str,
    },
    /// The document is not well-formed XML (including truncated documents).
    #[error("the XML is not well-formed at byte {pos}: {reason}")]
    Malformed {
        /// Byte position where the problem was found.
        pos: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The root element is not the expected one.
    #[error("the root element is <{found}>, expected <{expected}>")]
    WrongRoot {
        /// The root element expected.
        expected: &'static str,
        /// The root element found (local name, clipped).
        found: String,
        /// Byte position of the root element.
        pos: usize,
    },
    /// A required element is missing.
    #[error("element <{element}> is missing in <{parent}> (at byte {pos})")]
    MissingElement {
        /// The missing element.
        element: &'static str,
        /// The element that should contain it.
        parent: String,
        /// Byte position of the parent.
        pos: usize,
    },
    /// A required attribute is missing or blank.
    #[error("attribute {attribute} of <{element}> at byte {pos} is missing")]
    MissingAttribute {
        /// The element.
        element: String,
        /// The missing attribute.
        attribute: &'static str,
        /// Byte position of the element.
        pos: usize,
    },
    /// An attribute that is read does not parse. The value itself is not
    /// repeated (it may be personal data).
    #[error(
        "attribute {attribute} of <{element}> at byte {pos} is not {expected}{}",
        cause_text(.cause)
    )]
    BadValue {
        /// The element.
        element: String,
        /// The attribute.
        attribute: &'static str,
        /// What it should be, in words.
        expected: &'static str,
        /// The code of the underlying error, when there is one (e.g.
        /// `euro_format`, `cf_check_char`, `dsu_format`).
        cause: Option<&'static str>,
        /// Byte position of the element.
        pos: usize,
    },
    /// An element that may appear once appears again.
    #[error("element <{element}> appears more than once in <{parent}> (again at byte {pos})")]
    Duplicate {
        /// The repeated element.
        element: String,
        /// Its parent.
        parent: String,
        /// Byte position of the second occurrence.
        pos: usize,
    },
    /// The base64 text is not valid base64.
    #[error("the base64 text is not valid at character {pos}: {reason}")]
    Base64 {
        /// 1-based character position in the base64 text.
        pos: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

fn at(pos: &Option<usize>) -> String {
    pos.map(|p| format!(" at byte {p}")).unwrap_or_default()
}

fn cause_text(cause: &Option<&'static str>) -> String {
    cause.map(|c| format!(" ({c})")).unwrap_or_default()
}

impl IseeXmlError {
    /// Every code [`ErrorCode::code`] can return for this type.
    pub const CODES: &'static [&'static str] = &[
        "isee_xml_limit",
        "isee_xml_encoding",
        "isee_xml_malformed",
        "isee_xml_wrong_root",
        "isee_xml_missing_element",
        "isee_xml_missing_attribute",
        "isee_xml_bad_value",
        "isee_xml_duplicate",
        "isee_base64",
    ];
}

impl ErrorCode for IseeXmlError {
    fn code(&self) -> &'static str {
        match self {
            IseeXmlError::TooLarge { .. }
            | IseeXmlError::TooDeep { .. }
            | IseeXmlError::TooManyElements { .. } => "isee_xml_limit",
            IseeXmlError::UnsupportedEncoding { .. } | IseeXmlError::Encoding { .. } => {
                "isee_xml_encoding"
            }
            IseeXmlError::Malformed { .. } => "isee_xml_malformed",
            IseeXmlError::WrongRoot { .. } => "isee_xml_wrong_root",
            IseeXmlError::MissingElement { .. } => "isee_xml_missing_element",
            IseeXmlError::MissingAttribute { .. } => "isee_xml_missing_attribute",
            IseeXmlError::BadValue { .. } => "isee_xml_bad_value",
            IseeXmlError::Duplicate { .. } => "isee_xml_duplicate",
            IseeXmlError::Base64 { .. } => "isee_base64",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::UnexpectedAnswer
    }

    fn position(&self) -> Option<usize> {
        match self {
            IseeXmlError::TooLarge { .. } | IseeXmlError::UnsupportedEncoding { .. } => None,
            IseeXmlError::Encoding { pos, .. } => *pos,
            IseeXmlError::TooDeep { pos, .. }
            | IseeXmlError::TooManyElements { pos, .. }
            | IseeXmlError::Malformed { pos, .. }
            | IseeXmlError::WrongRoot { pos, .. }
            | IseeXmlError::MissingElement { pos, .. }
            | IseeXmlError::MissingAttribute { pos, .. }
            | IseeXmlError::BadValue { pos, .. }
            | IseeXmlError::Duplicate { pos, .. }
            | IseeXmlError::Base64 { pos, .. } => Some(*pos),
        }
    }
}

#[doc(hidden)]
impl CodeSamples for IseeXmlError {
    fn samples() -> Vec<Self> {
        vec![
            IseeXmlError::TooLarge {
                size: MAX_XML_BYTES + 1,
                limit: MAX_XML_BYTES,
            },
            IseeXmlError::TooDeep {
                pos: 100,
                limit: MAX_DEPTH,
            },
            IseeXmlError::TooManyElements {
                pos: 100,
                limit: MAX_ELEMENTS,
            },
            IseeXmlError::UnsupportedEncoding {
                declared: "EBCDIC".to_owned(),
            },
            IseeXmlError::Encoding {
                pos: Some(3),
                reason: "invalid UTF-8",
            },
            IseeXmlError::Malformed {
                pos: 1,
                reason: "unexpected end of input",
            },
            IseeXmlError::WrongRoot {
                expected: "Attestazione",
                found: "Html".to_owned(),
                pos: 1,
            },
            IseeXmlError::MissingElement {
                element: "Indicatore",
                parent: "Attestazione".to_owned(),
                pos: 1,
            },
            IseeXmlError::MissingAttribute {
                element: "Attestazione".to_owned(),
                attribute: "ProtocolloDSU",
                pos: 1,
            },
            IseeXmlError::BadValue {
                element: "Attestazione".to_owned(),
                attribute: "ISEE",
                expected: "an amount",
                cause: Some("euro_format"),
                pos: 1,
            },
            IseeXmlError::Duplicate {
                element: "Indicatore".to_owned(),
                parent: "Attestazione".to_owned(),
                pos: 40,
            },
            IseeXmlError::Base64 {
                pos: 2,
                reason: "invalid character",
            },
        ]
    }
}

impl IseeXmlError {
    /// The element the error is about, when there is one (local name).
    pub fn element(&self) -> Option<&str> {
        match self {
            IseeXmlError::WrongRoot { found, .. } => Some(found),
            IseeXmlError::MissingElement { element, .. } => Some(element),
            IseeXmlError::MissingAttribute { element, .. }
            | IseeXmlError::BadValue { element, .. }
            | IseeXmlError::Duplicate { element, .. } => Some(element),
            _ => None,
        }
    }

    /// The attribute the error is about, when there is one.
    pub fn attribute(&self) -> Option<&'static str> {
        match self {
            IseeXmlError::MissingAttribute { attribute, .. }
            | IseeXmlError::BadValue { attribute, .. } => Some(attribute),
            _ => None,
        }
    }
}

/// Parses an attestazione document (`EsitoAttestazione`, or a bare
/// `Attestazione` root) from its bytes.
///
/// ```
/// use anist_core::isee::{parse_attestazione, IseeKind};
/// use anist_core::ErrorCode;
///
/// let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
/// <EsitoAttestazione xmlns="http://inps.it/ISEERiforma">
///   <Attestazione CodiceFiscaleDichiarante="RSSMRA80A01H501U"
///       NumeroProtocolloDSU="INPS-ISEE-2025-00000001A-00"
///       DataPresentazione="2025-01-20" DataValidita="2025-12-31">
///     <Ordinario>
///       <NucleoFamiliare>
///         <ComponenteNucleo RapportoConDichiarante="D" Cognome="ROSSI" Nome="MARIO"
///             CodiceFiscale="RSSMRA80A01H501U"/>
///       </NucleoFamiliare>
///       <ISEEOrdinario DataRilascio="2025-01-22">
///         <Valori ISE="15000.00" ScalaEquivalenza="1.00" ISEE="15000.00" ISR="12000.00" ISP="15000.00"/>
///       </ISEEOrdinario>
///     </Ordinario>
///   </Attestazione>
/// </EsitoAttestazione>"#;
/// let att = parse_attestazione(xml)?;
/// assert_eq!(att.isee().map(|v| v.cents()), Some(1_500_000));
/// assert_eq!(att.kinds(), vec![IseeKind::Ordinario]);
/// assert_eq!(att.household_size(), 1);
///
/// let err = parse_attestazione(&xml[..200]).unwrap_err();
/// assert_eq!(err.code(), "isee_xml_malformed");
/// # Ok::<(), anist_core::isee::IseeXmlError>(())
/// ```
///
/// # Errors
///
/// An [`IseeXmlError`]; see the module documentation.
pub fn parse_attestazione(input: &[u8]) -> Result<Attestazione, IseeXmlError> {
    let doc = Doc::read(input)?;
    doc.attestazione()
}

/// Parses an indicatore document (`Indicatore` root) from its bytes.
///
/// ```
/// use anist_core::isee::{parse_indicatore, IseeKind};
///
/// let xml = br#"<Indicatore xmlns="http://inps.it/ISEERiforma" TipoIndicatore="Ordinario" ISEE="10000"/>"#;
/// let ind = parse_indicatore(xml)?;
/// assert_eq!(ind.kind, Some(IseeKind::Ordinario));
/// assert_eq!(ind.isee().to_string(), "10.000,00 €");
/// # Ok::<(), anist_core::isee::IseeXmlError>(())
/// ```
///
/// # Errors
///
/// An [`IseeXmlError`]; see the module documentation.
pub fn parse_indicatore(input: &[u8]) -> Result<Indicatore, IseeXmlError> {
    let doc = Doc::read(input)?;
    doc.indicatore()
}

/// Parses an attestazione from the base64 text of the SOAP field
/// `XmlEsitoAttestazione`.
///
/// # Errors
///
/// [`IseeXmlError::Base64`] for bad base64, then as [`parse_attestazione`].
pub fn parse_attestazione_base64(text: &str) -> Result<Attestazione, IseeXmlError> {
    parse_attestazione(&decode_base64(text)?)
}

/// Parses an indicatore from the base64 text of the SOAP field
/// `XmlEsitoIndicatore`.
///
/// ```
/// use anist_core::isee::parse_indicatore_base64;
/// let b64 = "PEluZGljYXRvcmUgSVNFRT0iMTAwMDAiIHhtbG5zPSJodHRwOi8vaW5wcy5pdC9JU0VFUmlmb3JtYSIvPgo=";
/// assert_eq!(parse_indicatore_base64(b64)?.isee().cents(), 1_000_000);
/// # Ok::<(), anist_core::isee::IseeXmlError>(())
/// ```
///
/// # Errors
///
/// [`IseeXmlError::Base64`] for bad base64, then as [`parse_indicatore`].
pub fn parse_indicatore_base64(text: &str) -> Result<Indicatore, IseeXmlError> {
    parse_indicatore(&decode_base64(text)?)
}

/// Decodes standard base64 (RFC 4648 alphabet `A-Z a-z 0-9 + /`), ignoring
/// ASCII whitespace (line breaks of MIME-style wrapping); the `=` padding
/// may be present or omitted, but not misplaced.
///
/// ```
/// use anist_core::isee::decode_base64;
/// use anist_core::ErrorCode;
/// assert_eq!(decode_base64("PD94bWw/Pg==")?, b"<?xml?>");
/// assert_eq!(decode_base64("PD94\nbWw/Pg")?, b"<?xml?>");
/// assert_eq!(decode_base64("PD9*").unwrap_err().code(), "isee_base64");
/// # Ok::<(), anist_core::isee::IseeXmlError>(())
/// ```
///
/// # Errors
///
/// [`IseeXmlError::Base64`] at the first bad character;
/// [`IseeXmlError::TooLarge`] when the decoded size would exceed
/// [`MAX_XML_BYTES`].
pub fn decode_base64(text: &str) -> Result<Vec<u8>, IseeXmlError> {
    let estimate = text.len() / 4 * 3;
    if estimate > MAX_XML_BYTES + 3 {
        return Err(IseeXmlError::TooLarge {
            size: estimate,
            limit: MAX_XML_BYTES,
        });
    }
    let err = |pos: usize, reason: &'static str| IseeXmlError::Base64 { pos, reason };
    let mut out = Vec::with_capacity(estimate);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    let mut data = 0usize;
    let mut pads = 0usize;
    let mut last_pos = 0usize;
    for (i, ch) in text.chars().enumerate() {
        let pos = i + 1;
        if ch.is_ascii_whitespace() {
            continue;
        }
        last_pos = pos;
        if ch == '=' {
            pads += 1;
            if pads > 2 || data % 4 < 2 {
                return Err(err(pos, "misplaced '=' padding"));
            }
            continue;
        }
        if pads > 0 {
            return Err(err(pos, "data after the '=' padding"));
        }
        let v = match ch {
            'A'..='Z' => u32::from(ch) - u32::from('A'),
            'a'..='z' => u32::from(ch) - u32::from('a') + 26,
            '0'..='9' => u32::from(ch) - u32::from('0') + 52,
            '+' => 62,
            '/' => 63,
            _ => return Err(err(pos, "not a base64 character")),
        };
        data += 1;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    let rem = data % 4;
    if rem == 1 {
        return Err(err(
            last_pos.max(1),
            "the text ends with an incomplete group",
        ));
    }
    if pads > 0 && !(data + pads).is_multiple_of(4) {
        return Err(err(last_pos.max(1), "wrong amount of '=' padding"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Decoding the bytes to text
// ---------------------------------------------------------------------------

/// How to turn an offset in the decoded text back into a byte position of
/// the input.
#[derive(Debug, Clone, Copy)]
enum PosMap {
    Utf8 { bom: usize },
    SingleByte,
    Utf16 { bom: usize },
}

impl PosMap {
    /// 1-based byte position in the input of `offset` in `text`.
    fn input_pos(self, text: &str, offset: usize) -> usize {
        let mut o = offset.min(text.len());
        while o > 0 && !text.is_char_boundary(o) {
            o -= 1;
        }
        let prefix = text.get(..o).unwrap_or("");
        match self {
            PosMap::Utf8 { bom } => bom + o + 1,
            PosMap::SingleByte => prefix.chars().count() + 1,
            PosMap::Utf16 { bom } => bom + 2 * prefix.encode_utf16().count() + 1,
        }
    }
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_NAME_IN_ERROR).collect()
}

/// The `encoding` pseudo-attribute of an XML declaration at the start of
/// `bytes` (after optional ASCII blanks), if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let b = bytes.get(start..)?;
    if !b.starts_with(b"<?xml") {
        return None;
    }
    let next = *b.get(5)?;
    if !(next.is_ascii_whitespace() || next == b'?') {
        return None;
    }
    let window = b.get(..b.len().min(1024))?;
    let end = window.windows(2).position(|w| w == b"?>")?;
    let decl = window.get(5..end)?;
    let k = decl.windows(8).position(|w| w == b"encoding")?;
    let mut rest = decl.get(k + 8..)?;
    let skip_ws = |r: &[u8]| -> usize { r.iter().take_while(|c| c.is_ascii_whitespace()).count() };
    rest = rest.get(skip_ws(rest)..)?;
    rest = rest.strip_prefix(b"=")?;
    rest = rest.get(skip_ws(rest)..)?;
    let quote = *rest.first()?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let value = rest.get(1..)?;
    let close = value.iter().position(|&c| c == quote)?;
    Some(String::from_utf8_lossy(value.get(..close)?).into_owned())
}

fn is_utf16(e: &'static Encoding) -> bool {
    e == UTF_16LE || e == UTF_16BE
}

/// Decodes the document to UTF-8 text.
fn decode_document(input: &[u8]) -> Result<(Cow<'_, str>, PosMap), IseeXmlError> {
    if input.len() > MAX_XML_BYTES {
        return Err(IseeXmlError::TooLarge {
            size: input.len(),
            limit: MAX_XML_BYTES,
        });
    }
    if let Some((enc, bom)) = Encoding::for_bom(input) {
        let body = input.get(bom..).unwrap_or(&[]);
        let (text, map) = if enc == UTF_8 {
            let text = std::str::from_utf8(body).map_err(|e| IseeXmlError::Encoding {
                pos: Some(bom + e.valid_up_to() + 1),
                reason: "the bytes are not valid UTF-8",
            })?;
            (Cow::Borrowed(text), PosMap::Utf8 { bom })
        } else {
            let text = enc
                .decode_without_bom_handling_and_without_replacement(body)
                .ok_or(IseeXmlError::Encoding {
                    pos: None,
                    reason: "the bytes are not valid UTF-16",
                })?;
            (text, PosMap::Utf16 { bom })
        };
        if let Some(label) = declared_encoding(text.as_bytes()) {
            let declared = Encoding::for_label(label.trim().as_bytes());
            let agree = match declared {
                Some(d) => d == enc || (is_utf16(d) && is_utf16(enc)),
                None => false,
            };
            if !agree {
                return Err(IseeXmlError::Encoding {
                    pos: Some(1),
                    reason: "the byte order mark and the declared encoding disagree",
                });
            }
        }
        return Ok((text, map));
    }
    let enc = match declared_encoding(input) {
        None => UTF_8,
        Some(label) => Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            IseeXmlError::UnsupportedEncoding {
                declared: clip(&label),
            }
        })?,
    };
    if enc == UTF_8 {
        let text = std::str::from_utf8(input).map_err(|e| IseeXmlError::Encoding {
            pos: Some(e.valid_up_to() + 1),
            reason: "the bytes are not valid UTF-8",
        })?;
        Ok((Cow::Borrowed(text), PosMap::Utf8 { bom: 0 }))
    } else if enc.is_single_byte() {
        let text = enc
            .decode_without_bom_handling_and_without_replacement(input)
            .ok_or(IseeXmlError::Encoding {
                pos: None,
                reason: "the bytes are not valid in the declared encoding",
            })?;
        Ok((text, PosMap::SingleByte))
    } else {
        Err(IseeXmlError::UnsupportedEncoding {
            declared: clip(enc.name()),
        })
    }
}

// ---------------------------------------------------------------------------
// A small element tree
// ---------------------------------------------------------------------------

/// An element: local name, attributes by local name (unescaped), children,
/// and its offset in the decoded text. Text content is checked but not kept:
/// the INPS documents carry their data in attributes.
#[derive(Debug)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
    offset: usize,
}

fn local(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

fn malformed_reason(e: &quick_xml::Error) -> &'static str {
    use quick_xml::errors::{IllFormedError, SyntaxError};
    match e {
        quick_xml::Error::Syntax(s) => match s {
            SyntaxError::UnclosedTag
            | SyntaxError::UnclosedSingleQuotedAttributeValue
            | SyntaxError::UnclosedDoubleQuotedAttributeValue => {
                "the document ends inside a tag (truncated?)"
            }
            SyntaxError::UnclosedComment => "a comment is not closed",
            SyntaxError::UnclosedCData => "a CDATA section is not closed",
            SyntaxError::UnclosedPI | SyntaxError::UnclosedXmlDecl => {
                "a processing instruction or the XML declaration is not closed"
            }
            _ => "syntax error",
        },
        quick_xml::Error::IllFormed(i) => match i {
            IllFormedError::MissingEndTag(_) => {
                "the document ends before its elements are closed (truncated?)"
            }
            IllFormedError::UnmatchedEndTag(_) => "an end tag has no start tag",
            IllFormedError::MismatchedEndTag { .. } => "an end tag does not match its start tag",
            IllFormedError::UnclosedReference => "a '&' does not start an entity reference",
            _ => "the document is not well-formed",
        },
        quick_xml::Error::InvalidAttr(_) => "an attribute is malformed or repeated",
        quick_xml::Error::Escape(_) => "an entity or character reference is not valid",
        quick_xml::Error::Encoding(_) => "the text is not valid in its encoding",
        _ => "the document cannot be read",
    }
}

/// The decoded document and its root element.
struct Doc<'a> {
    text: Cow<'a, str>,
    map: PosMap,
    root: Node,
}

impl<'a> Doc<'a> {
    fn read(input: &'a [u8]) -> Result<Doc<'a>, IseeXmlError> {
        let (text, map) = decode_document(input)?;
        let root = build_tree(&text, map)?;
        Ok(Doc { text, map, root })
    }

    fn pos(&self, node: &Node) -> usize {
        self.map.input_pos(&self.text, node.offset)
    }
}

fn build_tree(text: &str, map: PosMap) -> Result<Node, IseeXmlError> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    let to_usize = |p: u64| usize::try_from(p).unwrap_or(usize::MAX);
    let malformed = |offset: usize, reason: &'static str| IseeXmlError::Malformed {
        pos: map.input_pos(text, offset),
        reason,
    };
    loop {
        let before = to_usize(reader.buffer_position());
        let event = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                return Err(malformed(
                    to_usize(reader.error_position()),
                    malformed_reason(&e),
                ))
            }
        };
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(malformed(before, "there is content after the root element"));
            }
            Event::Start(_) | Event::Empty(_) if elements >= MAX_ELEMENTS => {
                return Err(IseeXmlError::TooManyElements {
                    pos: map.input_pos(text, before),
                    limit: MAX_ELEMENTS,
                });
            }
            Event::Start(e) => {
                elements += 1;
                if stack.len() >= MAX_DEPTH {
                    return Err(IseeXmlError::TooDeep {
                        pos: map.input_pos(text, before),
                        limit: MAX_DEPTH,
                    });
                }
                stack.push(node_from(&e, before).map_err(|r| malformed(before, r))?);
            }
            Event::Empty(e) => {
                elements += 1;
                if stack.len() >= MAX_DEPTH {
                    return Err(IseeXmlError::TooDeep {
                        pos: map.input_pos(text, before),
                        limit: MAX_DEPTH,
                    });
                }
                let node = node_from(&e, before).map_err(|r| malformed(before, r))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| malformed(before, "an end tag has no start tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if stack.is_empty() && !t.xml10_content().trim().is_empty() {
                    return Err(malformed(before, "there is text outside the root element"));
                }
            }
            Event::CData(_) => {
                if stack.is_empty() {
                    return Err(malformed(before, "there is text outside the root element"));
                }
            }
            Event::GeneralRef(r) => {
                let valid = if r.is_char_ref() {
                    matches!(r.resolve_char_ref(), Ok(Some(_)))
                } else {
                    matches!(
                        r.xml10_content().as_ref(),
                        "lt" | "gt" | "amp" | "apos" | "quot"
                    )
                };
                if !valid {
                    return Err(malformed(
                        before,
                        "an entity or character reference is not valid",
                    ));
                }
                if stack.is_empty() {
                    return Err(malformed(before, "there is text outside the root element"));
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed(
            text.len(),
            "the document ends before its elements are closed (truncated?)",
        ));
    }
    root.ok_or_else(|| malformed(text.len(), "there is no root element"))
}

fn node_from(e: &BytesStart<'_>, offset: usize) -> Result<Node, &'static str> {
    let qname = e.name();
    let name = local(qname.as_ref()).to_string();
    let mut attrs: Vec<(String, String)> = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|_| "an attribute is malformed or repeated")?;
        let key = attr.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") {
            continue;
        }
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|_| "an entity or character reference in an attribute is not valid")?;
        // Kept in document order; lookups take the first of two attributes
        // with the same local name (`a:ISEE`, `b:ISEE`).
        attrs.push((local(key).to_string(), value.into_owned()));
    }
    Ok(Node {
        name,
        attrs,
        children: Vec::new(),
        offset,
    })
}

impl Node {
    /// The attribute, trimmed; `None` when absent or blank.
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn has_attr(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }

    fn children_named<'n>(&'n self, name: &'n str) -> impl Iterator<Item = &'n Node> + 'n {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

const EXPECT_AMOUNT: &str = "an amount (e.g. 12345.67)";
const EXPECT_DATE: &str = "a date YYYY-MM-DD";
const EXPECT_CF: &str = "a valid codice fiscale";
const EXPECT_DSU: &str = "a DSU protocol INPS-ISEE-YYYY-NNNNNNNNL-VV";
const EXPECT_SCALA: &str = "a scala di equivalenza (e.g. 2.46)";
const EXPECT_BOOL: &str = "a flag (true / false)";

fn euro(s: &str) -> Result<Euro, Option<&'static str>> {
    Euro::parse_decimal(s).map_err(|e| Some(e.code()))
}

fn scala(s: &str) -> Result<Scala, Option<&'static str>> {
    Scala::parse(s).map_err(|e| Some(e.code()))
}

fn dsu(s: &str) -> Result<DsuProtocol, Option<&'static str>> {
    DsuProtocol::parse(s).map_err(|e| Some(e.code()))
}

/// `YYYY-MM-DD`, optionally followed by a time (`T…`) or a time zone (`Z`,
/// `+01:00`) as `xs:date` / `xs:dateTime` allow.
fn date(s: &str) -> Result<NaiveDate, Option<&'static str>> {
    let head = s.get(..10).ok_or(None)?;
    let tail = s.get(10..).ok_or(None)?;
    let tail_ok = tail.is_empty()
        || tail == "Z"
        || tail.starts_with('T')
        || ((tail.starts_with('+') || tail.starts_with('-'))
            && tail.len() == 6
            && tail.as_bytes().get(3) == Some(&b':'));
    if !tail_ok {
        return Err(None);
    }
    NaiveDate::parse_from_str(head, "%Y-%m-%d").map_err(|_| None)
}

/// `xs:boolean` plus the Italian `S`/`N`/`SI`/`NO`.
fn flag(s: &str) -> Result<bool, Option<&'static str>> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "s" | "si" | "y" | "yes" => Ok(true),
        "false" | "0" | "n" | "no" => Ok(false),
        _ => Err(None),
    }
}

/// A 16-character code (formal checks: format, check character, date; the
/// place is not required to be in the compiled-in table, since INPS data
/// come from the Agenzia delle Entrate) or an 11-digit code.
fn cf(s: &str) -> Result<AnyCodiceFiscale, Option<&'static str>> {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.len() == 11 && compact.bytes().all(|b| b.is_ascii_digit()) {
        AnyCodiceFiscale::parse(&compact).map_err(|e| Some(e.code()))
    } else {
        CodiceFiscale::parse_formal(&compact)
            .map(AnyCodiceFiscale::Persona)
            .map_err(|e| Some(e.code()))
    }
}

impl Doc<'_> {
    fn missing_attr(&self, node: &Node, attribute: &'static str) -> IseeXmlError {
        IseeXmlError::MissingAttribute {
            element: clip(&node.name),
            attribute,
            pos: self.pos(node),
        }
    }

    /// An optional attribute parsed with `f`.
    fn opt<T>(
        &self,
        node: &Node,
        attribute: &'static str,
        expected: &'static str,
        f: impl Fn(&str) -> Result<T, Option<&'static str>>,
    ) -> Result<Option<T>, IseeXmlError> {
        match node.attr(attribute) {
            None => Ok(None),
            Some(v) => f(v).map(Some).map_err(|cause| IseeXmlError::BadValue {
                element: clip(&node.name),
                attribute,
                expected,
                cause,
                pos: self.pos(node),
            }),
        }
    }

    /// A required attribute parsed with `f`.
    fn req<T>(
        &self,
        node: &Node,
        attribute: &'static str,
        expected: &'static str,
        f: impl Fn(&str) -> Result<T, Option<&'static str>>,
    ) -> Result<T, IseeXmlError> {
        self.opt(node, attribute, expected, f)?
            .ok_or_else(|| self.missing_attr(node, attribute))
    }

    /// The only child with that name, if any.
    fn single<'n>(&self, node: &'n Node, name: &str) -> Result<Option<&'n Node>, IseeXmlError> {
        let mut it = node.children.iter().filter(|c| c.name == name);
        let first = it.next();
        if let Some(second) = it.next() {
            return Err(IseeXmlError::Duplicate {
                element: clip(name),
                parent: clip(&node.name),
                pos: self.pos(second),
            });
        }
        Ok(first)
    }

    /// The only child with that name, required.
    fn required<'n>(&self, node: &'n Node, name: &'static str) -> Result<&'n Node, IseeXmlError> {
        self.single(node, name)?
            .ok_or_else(|| IseeXmlError::MissingElement {
                element: name,
                parent: clip(&node.name),
                pos: self.pos(node),
            })
    }

    fn valori(&self, node: &Node) -> Result<IseeValues, IseeXmlError> {
        Ok(IseeValues {
            isee: self.req(node, "ISEE", EXPECT_AMOUNT, euro)?,
            ise: self.opt(node, "ISE", EXPECT_AMOUNT, euro)?,
            isr: self.opt(node, "ISR", EXPECT_AMOUNT, euro)?,
            isp: self.opt(node, "ISP", EXPECT_AMOUNT, euro)?,
            scala: self.opt(node, "ScalaEquivalenza", EXPECT_SCALA, scala)?,
        })
    }

    fn componente(&self, node: &Node) -> Result<ComponenteNucleo, IseeXmlError> {
        // The attestazione puts the code on the element; the dichiarazione on
        // FoglioComponenteNucleo.
        let codice_fiscale = match node.attr("CodiceFiscale") {
            Some(_) => self.req(node, "CodiceFiscale", EXPECT_CF, cf)?,
            None => match node.child("FoglioComponenteNucleo") {
                Some(f) => self.req(f, "CodiceFiscale", EXPECT_CF, cf)?,
                None => return Err(self.missing_attr(node, "CodiceFiscale")),
            },
        };
        Ok(ComponenteNucleo {
            codice_fiscale,
            surname: text(node, "Cognome"),
            name: text(node, "Nome"),
            relationship: text(node, "RapportoConDichiarante"),
            flag_assenza_reddito: self.opt(node, "FlagAssenzaReddito", EXPECT_BOOL, flag)?,
        })
    }

    fn household(&self, nucleo: &Node) -> Result<Vec<ComponenteNucleo>, IseeXmlError> {
        nucleo
            .children_named("ComponenteNucleo")
            .map(|n| self.componente(n))
            .collect()
    }

    fn ricerca(&self, node: &Node) -> Result<Option<Ricerca>, IseeXmlError> {
        let found = node.children.iter().find_map(|c| {
            let kind = match c.name.as_str() {
                "RicercaCF" => RicercaKind::CodiceFiscale,
                "RicercaProtDSU" => RicercaKind::ProtocolloDsu,
                "RicercaProtMittente" => RicercaKind::ProtocolloMittente,
                _ => return None,
            };
            Some((kind, c))
        });
        let Some((kind, n)) = found else {
            return Ok(None);
        };
        let codice_fiscale = match self.opt(n, "CodiceFiscale", EXPECT_CF, cf)? {
            Some(c) => Some(c),
            None => self.opt(n, "CodiceFiscaleBeneficiario", EXPECT_CF, cf)?,
        };
        Ok(Some(Ricerca {
            kind,
            codice_fiscale,
            data_validita: self.opt(n, "DataValidita", EXPECT_DATE, date)?,
            prestazione_da_erogare: text(n, "PrestazioneDaErogare"),
            protocollo_domanda: text(n, "ProtocolloDomandaEnteErogatore"),
            stato_domanda: text(n, "StatodomandaPrestazione"),
            protocollo_dsu: self.opt(n, "ProtocolloDSU", EXPECT_DSU, dsu)?,
            protocollo_mittente: text(n, "ProtocolloMittente"),
        }))
    }

    fn indicatore(&self) -> Result<Indicatore, IseeXmlError> {
        let root = &self.root;
        if root.name != "Indicatore" {
            return Err(IseeXmlError::WrongRoot {
                expected: "Indicatore",
                found: clip(&root.name),
                pos: self.pos(root),
            });
        }
        let ricerca = match self.ricerca(root)? {
            Some(r) => Some(r),
            None => match self.single(root, "Ricerca")? {
                Some(r) => self.ricerca(r)?,
                None => None,
            },
        };
        let household = match self.single(root, "NucleoFamiliare")? {
            Some(n) => self.household(n)?,
            None => Vec::new(),
        };
        Ok(Indicatore {
            kind: root.attr("TipoIndicatore").map(IseeKind::parse),
            values: self.valori(root)?,
            protocollo_dsu: self.opt(root, "ProtocolloDSU", EXPECT_DSU, dsu)?,
            presented_on: self.opt(root, "DataPresentazione", EXPECT_DATE, date)?,
            corrente_valid_until: self.opt(root, "DataScadenzaDSUCorrente", EXPECT_DATE, date)?,
            ricerca,
            household,
            raw_xml: self.text.to_string(),
        })
    }

    fn attestazione(&self) -> Result<Attestazione, IseeXmlError> {
        let root = &self.root;
        let att = match root.name.as_str() {
            "EsitoAttestazione" => self.required(root, "Attestazione")?,
            "Attestazione" => root,
            _ => {
                return Err(IseeXmlError::WrongRoot {
                    expected: "EsitoAttestazione",
                    found: clip(&root.name),
                    pos: self.pos(root),
                })
            }
        };
        let dichiarante = self.req(att, "CodiceFiscaleDichiarante", EXPECT_CF, cf)?;
        let protocollo_dsu = self.req(att, "NumeroProtocolloDSU", EXPECT_DSU, dsu)?;
        let presented_on = self.req(att, "DataPresentazione", EXPECT_DATE, date)?;
        let data_validita = self.opt(att, "DataValidita", EXPECT_DATE, date)?;
        let corrente_valid_until = self.opt(att, "DataScadenzaDSUCorrente", EXPECT_DATE, date)?;

        let ordinario = self.required(att, "Ordinario")?;
        let household = self.household(self.required(ordinario, "NucleoFamiliare")?)?;

        // ISEE corrente: `Corrente` set to anything but a "false" value, or
        // (without the flag) the data of the modulo sostitutivo.
        let modulo_presented_on = self.opt(
            ordinario,
            "DataPresentazioneModuloSostitutivo",
            EXPECT_DATE,
            date,
        )?;
        let modulo_protocol = text(ordinario, "ProtocolloDSUModuloSostitutivo");
        let is_corrente = match ordinario.attr("Corrente") {
            Some(v) => flag(v) != Ok(false),
            None => modulo_presented_on.is_some() || modulo_protocol.is_some(),
        };
        let corrente = is_corrente.then_some(Corrente {
            modulo_presented_on,
            modulo_protocol,
        });

        let mut entries = Vec::new();
        for child in &ordinario.children {
            if !child.name.starts_with("ISEE") {
                continue;
            }
            let kind = match IseeKind::parse(&child.name) {
                IseeKind::Ordinario if is_corrente => IseeKind::Corrente,
                IseeKind::Other(_) if !has_values(child, 0) => continue,
                k => k,
            };
            self.section(child, &kind, Calcolo::Proprio, false, 0, &mut entries)?;
        }

        let mut nucleo_ristretto = Vec::new();
        for ridotto in att.children_named("Ridotto") {
            for nr in ridotto.children_named("NucleoRistretto") {
                for c in nr.children_named("ComponenteNucleoRistretto") {
                    nucleo_ristretto.push(ComponenteNucleoRistretto {
                        codice_fiscale: self.req(c, "CodiceFiscale", EXPECT_CF, cf)?,
                        surname: text(c, "Cognome"),
                        name: text(c, "Nome"),
                        relationship: text(c, "RelazioneConBeneficiario"),
                    });
                }
            }
            for child in &ridotto.children {
                if !child.name.starts_with("ISEE") {
                    continue;
                }
                let kind = match child.name.as_str() {
                    "ISEERistretto" => IseeKind::Ristretto,
                    "ISEESocioSanResRistretto" => IseeKind::SocioSanitarioResidenziale,
                    other => match IseeKind::parse(other) {
                        IseeKind::Other(_) if !has_values(child, 0) => continue,
                        k => k,
                    },
                };
                self.section(child, &kind, Calcolo::Proprio, true, 0, &mut entries)?;
            }
        }

        if entries.is_empty() {
            return Err(IseeXmlError::MissingElement {
                element: "ISEEOrdinario",
                parent: clip(&ordinario.name),
                pos: self.pos(ordinario),
            });
        }
        // "Same as the ordinario": give those entries the household value.
        let headline = entries
            .iter()
            .find(|e| {
                e.beneficiary.is_none()
                    && !e.nucleo_ristretto
                    && matches!(e.kind, IseeKind::Ordinario | IseeKind::Corrente)
            })
            .and_then(|e| e.isee);
        for e in &mut entries {
            if e.calcolo == Calcolo::UgualeOrdinario && e.isee.is_none() {
                e.isee = headline;
            }
        }

        let mut omissioni_difformita = Vec::new();
        self.collect_omissioni(att, &mut omissioni_difformita)?;

        let variazione = match self.single(att, "Variazione")? {
            Some(v) => Some(self.variazione(v)?),
            None => None,
        };
        let ricerca = match root.name.as_str() {
            "EsitoAttestazione" => match self.single(root, "Ricerca")? {
                Some(r) => self.ricerca(r)?,
                None => None,
            },
            _ => None,
        };

        Ok(Attestazione {
            dichiarante,
            protocollo_dsu,
            protocollo_mittente: text(att, "ProtocolloMittente"),
            presented_on,
            data_validita,
            corrente_valid_until,
            corrente,
            household,
            nucleo_ristretto,
            entries,
            omissioni_difformita,
            variazione,
            ricerca,
            raw_xml: self.text.to_string(),
        })
    }

    /// Reads an indicator section: its own `Valori`, its beneficiaries
    /// (children with a `CodiceFiscale`), and nested `ISEE…` sub-sections.
    fn section(
        &self,
        node: &Node,
        kind: &IseeKind,
        calcolo: Calcolo,
        ristretto: bool,
        depth: usize,
        out: &mut Vec<IseeEntry>,
    ) -> Result<(), IseeXmlError> {
        let issued_on = self.opt(node, "DataRilascio", EXPECT_DATE, date)?;
        if let Some(v) = self.single(node, "Valori")? {
            let values = self.valori(v)?;
            out.push(IseeEntry {
                kind: kind.clone(),
                beneficiary: None,
                isee: Some(values.isee),
                values: Some(values),
                issued_on,
                calcolo: calcolo.clone(),
                nucleo_ristretto: ristretto,
                section: clip(&node.name),
            });
        }
        for child in &node.children {
            if child.name == "Valori" || child.name.starts_with("ModalitaCalcolo") {
                continue;
            }
            if child.has_attr("CodiceFiscale") {
                out.push(self.beneficiary_entry(child, kind, ristretto)?);
            } else if child.name.starts_with("ISEE") && depth < 4 {
                let c = calcolo_for(&child.name);
                self.section(child, kind, c, ristretto, depth + 1, out)?;
            }
        }
        Ok(())
    }

    /// A per-person indicator (`ComponenteMinorenne`, `StudenteUniversitario`,
    /// …).
    fn beneficiary_entry(
        &self,
        node: &Node,
        kind: &IseeKind,
        ristretto: bool,
    ) -> Result<IseeEntry, IseeXmlError> {
        let beneficiary = Beneficiario {
            codice_fiscale: self.req(node, "CodiceFiscale", EXPECT_CF, cf)?,
            surname: text(node, "Cognome"),
            name: text(node, "Nome"),
        };
        let isee_attr = self.opt(node, "ISEE", EXPECT_AMOUNT, euro)?;
        let mut issued_on = self.opt(node, "DataRilascio", EXPECT_DATE, date)?;
        let mut calcolo: Option<Calcolo> = None;
        let mut values: Option<IseeValues> = None;
        let mut section = clip(&node.name);
        for g in &node.children {
            if g.name == "Valori" {
                if values.is_none() {
                    values = Some(self.valori(g)?);
                }
                calcolo.get_or_insert(Calcolo::Proprio);
            } else if g.name.starts_with("ISEE") {
                calcolo.get_or_insert(calcolo_for(&g.name));
                if values.is_none() {
                    if let Some(v) = self.single(g, "Valori")? {
                        values = Some(self.valori(v)?);
                        issued_on = self
                            .opt(g, "DataRilascio", EXPECT_DATE, date)?
                            .or(issued_on);
                        section = clip(&g.name);
                    }
                }
            }
        }
        let calcolo = calcolo.unwrap_or(Calcolo::Proprio);
        let isee = if calcolo == Calcolo::NonCalcolabile {
            None
        } else {
            isee_attr.or(values.map(|v| v.isee))
        };
        Ok(IseeEntry {
            kind: kind.clone(),
            beneficiary: Some(beneficiary),
            isee,
            values,
            issued_on,
            calcolo,
            nucleo_ristretto: ristretto,
            section,
        })
    }

    fn collect_omissioni(
        &self,
        node: &Node,
        out: &mut Vec<OmissioneDifformita>,
    ) -> Result<(), IseeXmlError> {
        for child in &node.children {
            if child.name == "OmissioneDifformita"
                && (!child.attrs.is_empty()
                    || child.child("Rapporto").is_some()
                    || child.child("RedditoAE").is_some())
            {
                out.push(self.omissione(child)?);
            }
            // Depth is bounded by MAX_DEPTH.
            self.collect_omissioni(child, out)?;
        }
        Ok(())
    }

    fn omissione(&self, node: &Node) -> Result<OmissioneDifformita, IseeXmlError> {
        let rapporti = node
            .children_named("Rapporto")
            .map(|r| {
                Ok(Rapporto {
                    tipo: text(r, "TipoRapporto"),
                    identificativo: text(r, "Identificativo"),
                    codice_fiscale_operatore: text(r, "CodiceFiscale"),
                    operatore: text(r, "DescrizioneOperatoreFinanziario"),
                    data_inizio: self.opt(r, "DataInizio", EXPECT_DATE, date)?,
                    data_fine: self.opt(r, "DataFine", EXPECT_DATE, date)?,
                    saldo_31_12: self.opt(r, "Saldo3112", EXPECT_AMOUNT, euro)?,
                    valore: self.opt(r, "Valore", EXPECT_AMOUNT, euro)?,
                    consistenza_media: self.opt(r, "ConsistenzaMedia", EXPECT_AMOUNT, euro)?,
                })
            })
            .collect::<Result<Vec<_>, IseeXmlError>>()?;
        Ok(OmissioneDifformita {
            codice_fiscale: self.opt(node, "CodiceFiscale", EXPECT_CF, cf)?,
            tipo: text(node, "TipoOmissioneDifformita"),
            data_controllo_ae: self.opt(node, "DataControlloAE", EXPECT_DATE, date)?,
            rapporti,
            reddito_ae: node.child("RedditoAE").is_some(),
        })
    }

    fn variazione(&self, node: &Node) -> Result<Variazione, IseeXmlError> {
        let discordanze = node
            .children_named("DiscordanzeContestazione")
            .map(|d| Discordanza {
                codice: text(d, "CDDiscordanza"),
                tipologia: text(d, "TipologiaDiscordanza"),
                specifica: text(d, "SpecificaDiscordanza"),
            })
            .collect();
        // Some producers put the data of the change on the first
        // DiscordanzeContestazione instead of on Variazione.
        let holder = |attr: &str| -> &Node {
            if node.has_attr(attr) {
                return node;
            }
            node.children_named("DiscordanzeContestazione")
                .find(|d| d.has_attr(attr))
                .unwrap_or(node)
        };
        Ok(Variazione {
            tipo: text(holder("Tipovariazione"), "Tipovariazione"),
            data: self.opt(
                holder("DataVariazione"),
                "DataVariazione",
                EXPECT_DATE,
                date,
            )?,
            protocollo_dsu_variata: self.opt(
                holder("NumeroProtocolloDSUVariata"),
                "NumeroProtocolloDSUVariata",
                EXPECT_DSU,
                dsu,
            )?,
            discordanze,
        })
    }
}

/// The attribute as an owned string (trimmed; `None` when absent or blank).
fn text(node: &Node, attribute: &str) -> Option<String> {
    node.attr(attribute).map(str::to_string)
}

/// Whether a `Valori` element appears in the subtree (bounded depth).
fn has_values(node: &Node, depth: usize) -> bool {
    depth < 6
        && node
            .children
            .iter()
            .any(|c| c.name == "Valori" || has_values(c, depth + 1))
}

/// How a sub-section of a beneficiary was computed, from its name.
fn calcolo_for(name: &str) -> Calcolo {
    if name == "ISEEOrd" {
        Calcolo::UgualeOrdinario
    } else if name == "ISEENonCalcolabile" {
        Calcolo::NonCalcolabile
    } else if name.contains("StudAttratto") {
        Calcolo::StudenteAttratto
    } else if name.ends_with("Attr") {
        Calcolo::ComponenteAttratta
    } else if name.ends_with("Agg") || name.ends_with("Aggr") {
        Calcolo::ComponenteAggiuntiva
    } else {
        Calcolo::Proprio
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_encoding_sniffing() {
        assert_eq!(
            declared_encoding(br#"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#),
            Some("ISO-8859-1".into())
        );
        assert_eq!(
            declared_encoding(b"<?xml version='1.0' encoding = 'utf-8' ?><a/>"),
            Some("utf-8".into())
        );
        assert_eq!(declared_encoding(br#"<?xml version="1.0"?><a/>"#), None);
        assert_eq!(declared_encoding(b"<a/>"), None);
        assert_eq!(declared_encoding(b"<?xml-stylesheet href='x'?><a/>"), None);
        assert_eq!(declared_encoding(b"<?xml encoding=\"x"), None);
        assert_eq!(declared_encoding(b""), None);
    }

    #[test]
    fn positions_map_back_to_input_bytes() {
        let text = "aé<b";
        // 'é' is 2 bytes in UTF-8, 1 byte in Latin-1, 2 bytes in UTF-16.
        let off = text.find('<').unwrap();
        assert_eq!(PosMap::Utf8 { bom: 3 }.input_pos(text, off), 3 + 3 + 1);
        assert_eq!(PosMap::SingleByte.input_pos(text, off), 3);
        assert_eq!(PosMap::Utf16 { bom: 2 }.input_pos(text, off), 2 + 4 + 1);
        // Offsets inside a character or past the end are clamped.
        assert_eq!(PosMap::SingleByte.input_pos(text, 2), 2);
        assert_eq!(PosMap::Utf8 { bom: 0 }.input_pos(text, 99), text.len() + 1);
    }

    #[test]
    fn base64_round_trip_and_errors() {
        assert_eq!(decode_base64("").unwrap(), b"");
        assert_eq!(decode_base64("TQ==").unwrap(), b"M");
        assert_eq!(decode_base64("TWE=").unwrap(), b"Ma");
        assert_eq!(decode_base64("TWFu").unwrap(), b"Man");
        assert_eq!(decode_base64("TQ").unwrap(), b"M");
        assert_eq!(decode_base64(" T W\r\nFu ").unwrap(), b"Man");
        let e = decode_base64("TWFu*").unwrap_err();
        assert_eq!((e.code(), e.position()), ("isee_base64", Some(5)));
        assert_eq!(decode_base64("T").unwrap_err().code(), "isee_base64");
        assert_eq!(decode_base64("TQ=").unwrap_err().code(), "isee_base64");
        assert_eq!(decode_base64("TQ===").unwrap_err().code(), "isee_base64");
        assert_eq!(decode_base64("=TQ=").unwrap_err().position(), Some(1));
        assert_eq!(decode_base64("TQ==TQ==").unwrap_err().position(), Some(5));
        assert_eq!(decode_base64("TWFuè").unwrap_err().position(), Some(5));
    }

    #[test]
    fn flags_and_dates() {
        assert_eq!(flag("true"), Ok(true));
        assert_eq!(flag("S"), Ok(true));
        assert_eq!(flag("0"), Ok(false));
        assert_eq!(flag("NO"), Ok(false));
        assert_eq!(flag("forse"), Err(None));
        let d = NaiveDate::from_ymd_opt(2025, 1, 15).unwrap();
        assert_eq!(date("2025-01-15"), Ok(d));
        assert_eq!(date("2025-01-15Z"), Ok(d));
        assert_eq!(date("2025-01-15+01:00"), Ok(d));
        assert_eq!(date("2025-01-15T10:00:00"), Ok(d));
        assert_eq!(date("2025-02-30"), Err(None));
        assert_eq!(date("15/01/2025"), Err(None));
        assert_eq!(date("2025-01-15x"), Err(None));
        assert_eq!(date("2025-1-5"), Err(None));
        assert_eq!(date("2025-01-1é"), Err(None));
    }

    #[test]
    fn calcolo_names() {
        assert_eq!(calcolo_for("ISEEOrd"), Calcolo::UgualeOrdinario);
        assert_eq!(calcolo_for("ISEENonCalcolabile"), Calcolo::NonCalcolabile);
        assert_eq!(calcolo_for("ISEEMinAttr"), Calcolo::ComponenteAttratta);
        assert_eq!(calcolo_for("ISEEMinAgg"), Calcolo::ComponenteAggiuntiva);
        assert_eq!(
            calcolo_for("ISEEUniStudAttratto"),
            Calcolo::StudenteAttratto
        );
        assert_eq!(
            calcolo_for("ISEEUniStudAttrattoCompAttratta"),
            Calcolo::StudenteAttratto
        );
        assert_eq!(calcolo_for("ISEESocioSanRes"), Calcolo::Proprio);
    }
}
