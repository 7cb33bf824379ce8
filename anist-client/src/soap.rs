//! SOAP 1.1 envelopes, whoever speaks them: the reader of untrusted bytes
//! every SOAP e-service's answers go through, and GovWay's SOAP faults
//! (which [`crate::call`] reads from any SOAP e-service's gateway). The
//! messages of each service are in its own module (INPS ISEE:
//! [`crate::isee::soap`]).
//!
//! The reader takes untrusted bytes:
//!
//! - at most [`MAX_SOAP_BYTES`] bytes, [`MAX_SOAP_DEPTH`] levels of nesting
//!   and [`MAX_SOAP_ELEMENTS`] elements;
//! - UTF-8 only (an optional BOM), as `text/xml; charset=utf-8` says;
//! - no DTD (a `<!DOCTYPE` is refused), and only the five predefined
//!   entities and character references are expanded;
//! - elements are matched by local name, whatever their prefix;
//! - errors never quote the input (no codice fiscale reaches a message).
//!
//! The codes of its errors are `isee_soap_*`: released with the INPS
//! services, kept stable.

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::Reader;

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV_NAMESPACE: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The `Content-Type` of the requests.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";
/// The largest envelope read, bytes (the base64 of the largest inner
/// document, [`anist_core::isee::MAX_XML_BYTES`], and room to spare).
pub const MAX_SOAP_BYTES: usize = 8 * 1024 * 1024;
/// The deepest nesting of elements read.
pub const MAX_SOAP_DEPTH: usize = 32;
/// The most elements an envelope may have.
pub const MAX_SOAP_ELEMENTS: usize = 10_000;
/// Why an envelope could not be read. Codes `isee_soap_*`; messages never
/// quote the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SoapError {
    /// The input is larger than [`MAX_SOAP_BYTES`].
    #[error("the SOAP message has {size} bytes, more than the {limit} accepted")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Nesting deeper than [`MAX_SOAP_DEPTH`] or more elements than
    /// [`MAX_SOAP_ELEMENTS`].
    #[error("the SOAP message is too deep or has too many elements (at byte {pos})")]
    Limit {
        /// 1-based byte position.
        pos: usize,
    },
    /// Not well-formed XML, not UTF-8, or a DTD.
    #[error("the SOAP message is not well-formed XML (at byte {pos}): {reason}")]
    Malformed {
        /// 1-based byte position.
        pos: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Not a SOAP envelope, or an element the message needs is missing.
    #[error("the SOAP message has no {element}")]
    Missing {
        /// The element (local name or path).
        element: &'static str,
    },
    /// A value that does not parse.
    #[error("the SOAP element {element} has a value that is not valid: {reason}")]
    BadValue {
        /// The element.
        element: &'static str,
        /// What is wrong (never the value).
        reason: String,
    },
    /// The body is a SOAP fault.
    #[error("the answer is a SOAP fault ({})", .0.code.as_deref().unwrap_or("no faultcode"))]
    Fault(Box<SoapFault>),
}

impl ErrorCode for SoapError {
    fn code(&self) -> &'static str {
        match self {
            SoapError::TooLarge { .. } | SoapError::Limit { .. } => "isee_soap_limit",
            SoapError::Malformed { .. } => "isee_soap_malformed",
            SoapError::Missing { .. } => "isee_soap_missing_element",
            SoapError::BadValue { .. } => "isee_soap_bad_value",
            SoapError::Fault(_) => "isee_soap_fault",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::UnexpectedAnswer
    }
}

#[doc(hidden)]
impl CodeSamples for SoapError {
    fn samples() -> Vec<Self> {
        vec![
            SoapError::TooLarge {
                size: MAX_SOAP_BYTES + 1,
                limit: MAX_SOAP_BYTES,
            },
            SoapError::Limit { pos: 1 },
            SoapError::Malformed {
                pos: 1,
                reason: "unexpected end of input",
            },
            SoapError::Missing {
                element: "Envelope",
            },
            SoapError::BadValue {
                element: "Esito",
                reason: "empty".into(),
            },
            SoapError::Fault(Box::new(SoapFault {
                code: Some("SOAP-ENV:Server.APIUnavailable".into()),
                ..SoapFault::default()
            })),
        ]
    }
}

impl SoapError {
    /// Every code [`ErrorCode::code`] may return.
    pub const CODES: &'static [&'static str] = &[
        "isee_soap_limit",
        "isee_soap_malformed",
        "isee_soap_missing_element",
        "isee_soap_bad_value",
        "isee_soap_fault",
    ];
}

pub(crate) fn text(out: &mut String, prefix: &str, name: &str, value: &str) {
    out.push('<');
    out.push_str(prefix);
    out.push_str(name);
    out.push('>');
    out.push_str(&escape(value));
    out.push_str("</");
    out.push_str(prefix);
    out.push_str(name);
    out.push('>');
}

/// A SOAP 1.1 fault with GovWay's RFC 7807 `problem` in `detail`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SoapFault {
    /// `faultcode` (`SOAP-ENV:Server.APIUnavailable`).
    pub code: Option<String>,
    /// `faultstring`.
    pub string: Option<String>,
    /// `detail/problem/type`.
    pub problem_type: Option<String>,
    /// `detail/problem/title` (`APIUnavailable`).
    pub problem_title: Option<String>,
    /// `detail/problem/status`.
    pub problem_status: Option<u16>,
    /// `detail/problem/detail`.
    pub problem_detail: Option<String>,
    /// `detail/problem/govway_id`.
    pub govway_id: Option<String>,
}

/// The envelope of `fault`, as GovWay writes it (§4.2).
pub fn write_fault(fault: &SoapFault) -> Vec<u8> {
    let mut o = String::with_capacity(512);
    o.push_str(r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV=""#);
    o.push_str(SOAP_ENV_NAMESPACE);
    o.push_str(r#""><SOAP-ENV:Header/><SOAP-ENV:Body><SOAP-ENV:Fault>"#);
    if let Some(c) = &fault.code {
        text(&mut o, "", "faultcode", c);
    }
    if let Some(s) = &fault.string {
        text(&mut o, "", "faultstring", s);
    }
    o.push_str(r#"<detail><problem xmlns="urn:ietf:rfc:7807">"#);
    if let Some(t) = &fault.problem_type {
        text(&mut o, "", "type", t);
    }
    if let Some(t) = &fault.problem_title {
        text(&mut o, "", "title", t);
    }
    if let Some(s) = fault.problem_status {
        text(&mut o, "", "status", &s.to_string());
    }
    if let Some(d) = &fault.problem_detail {
        text(&mut o, "", "detail", d);
    }
    if let Some(g) = &fault.govway_id {
        text(&mut o, "", "govway_id", g);
    }
    o.push_str("</problem></detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>");
    o.into_bytes()
}

/// An element: local name, its text (concatenated, unescaped) and children.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub(crate) fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.trim().to_string())
    }
}

pub(crate) fn local(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

pub(crate) fn build_tree(input: &[u8]) -> Result<Node, SoapError> {
    if input.len() > MAX_SOAP_BYTES {
        return Err(SoapError::TooLarge {
            size: input.len(),
            limit: MAX_SOAP_BYTES,
        });
    }
    let bom = if input.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let body = input.get(bom..).unwrap_or_default();
    let text = std::str::from_utf8(body).map_err(|e| SoapError::Malformed {
        pos: bom + e.valid_up_to() + 1,
        reason: "the message is not UTF-8",
    })?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    let pos = |p: u64| bom + usize::try_from(p).unwrap_or(usize::MAX - bom - 1) + 1;
    let malformed = |p: u64, reason: &'static str| SoapError::Malformed {
        pos: pos(p),
        reason,
    };
    loop {
        let before = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|_| malformed(reader.error_position(), "the XML cannot be read"))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(malformed(before, "there is content after the root element"));
            }
            Event::Start(_) | Event::Empty(_)
                if elements >= MAX_SOAP_ELEMENTS || stack.len() >= MAX_SOAP_DEPTH =>
            {
                return Err(SoapError::Limit { pos: pos(before) });
            }
            Event::Start(e) => {
                elements += 1;
                let qname = e.name();
                stack.push(Node {
                    name: local(qname.as_ref()).to_string(),
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                elements += 1;
                let qname = e.name();
                let node = Node {
                    name: local(qname.as_ref()).to_string(),
                    ..Node::default()
                };
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
            Event::Text(t) => match stack.last_mut() {
                Some(n) => n.text.push_str(&t.xml10_content()),
                None if t.xml10_content().trim().is_empty() => {}
                None => return Err(malformed(before, "there is text outside the root element")),
            },
            Event::CData(c) => match stack.last_mut() {
                Some(n) => n.text.push_str(&c.xml10_content()),
                None => return Err(malformed(before, "there is text outside the root element")),
            },
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten()
                } else {
                    match r.xml10_content().as_ref() {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        _ => None,
                    }
                };
                let Some(ch) = ch else {
                    return Err(malformed(
                        before,
                        "an entity or character reference is not valid",
                    ));
                };
                match stack.last_mut() {
                    Some(n) => n.text.push(ch),
                    None => {
                        return Err(malformed(before, "there is text outside the root element"))
                    }
                }
            }
            Event::DocType(_) => {
                return Err(malformed(before, "a DTD is not accepted in a SOAP message"));
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed(
            u64::try_from(text.len()).unwrap_or(u64::MAX),
            "the message ends before its elements are closed (truncated?)",
        ));
    }
    root.ok_or(SoapError::Missing {
        element: "root element",
    })
}

/// The first element of the `Body` of an envelope.
pub(crate) fn body_element(root: &Node) -> Result<&Node, SoapError> {
    if root.name != "Envelope" {
        return Err(SoapError::Missing {
            element: "Envelope",
        });
    }
    let body = root
        .child("Body")
        .ok_or(SoapError::Missing { element: "Body" })?;
    body.children.first().ok_or(SoapError::Missing {
        element: "Body content",
    })
}

pub(crate) fn fault_of(node: &Node) -> SoapFault {
    let problem = node.child("detail").and_then(|d| d.child("problem"));
    let p = |name: &str| {
        problem
            .and_then(|p| p.text_of(name))
            .filter(|t| !t.is_empty())
    };
    SoapFault {
        code: node.text_of("faultcode"),
        string: node.text_of("faultstring"),
        problem_type: p("type"),
        problem_title: p("title"),
        problem_status: p("status").and_then(|s| s.parse().ok()),
        problem_detail: p("detail"),
        govway_id: p("govway_id"),
    }
}

/// Reads a SOAP 1.1 fault; `None` when `input` is not an envelope whose
/// body is a `Fault`.
pub fn parse_fault(input: &[u8]) -> Option<SoapFault> {
    let root = build_tree(input).ok()?;
    let first = body_element(&root).ok()?;
    (first.name == "Fault").then(|| fault_of(first))
}
