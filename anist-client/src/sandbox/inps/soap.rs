//! The server side of the INPS SOAP messages: the request envelope read
//! into a struct (quick-xml, by local names, with limits), the answer and
//! the GovWay SOAP fault written out.

use quick_xml::events::Event;
use quick_xml::Reader;

/// Largest request body read, bytes.
pub(crate) const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Deepest nesting accepted.
const MAX_DEPTH: usize = 16;
/// Most elements accepted.
const MAX_ELEMENTS: usize = 256;
/// Longest text of one element kept, characters (longer is kept clipped
/// at one more, so that length checks still fail).
const MAX_TEXT: usize = 1024;

/// An element: local name, text (trimmed), children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name).map(|c| c.text.clone())
    }
}

fn local(qname: &str) -> String {
    qname.rsplit(':').next().unwrap_or(qname).to_string()
}

fn tree(body: &[u8]) -> Result<Node, String> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "the body has {} bytes, more than the {MAX_REQUEST_BYTES} accepted",
            body.len()
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("the envelope is not well-formed XML: {e}"))?;
        match ev {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err("there is content after the Envelope".into());
            }
            Event::Start(e) | Event::Empty(e)
                if elements >= MAX_ELEMENTS || stack.len() >= MAX_DEPTH =>
            {
                let _ = e;
                return Err("the envelope has too many or too deeply nested elements".into());
            }
            Event::Start(e) => {
                elements += 1;
                stack.push(Node {
                    name: local(e.name().as_ref()),
                    ..Node::default()
                });
            }
            Event::Empty(e) => {
                elements += 1;
                let node = Node {
                    name: local(e.name().as_ref()),
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some(p) => p.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let mut node = stack.pop().ok_or("an end tag has no start tag")?;
                node.text = node.text.trim().to_string();
                match stack.last_mut() {
                    Some(p) => p.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                if let Some(top) = stack.last_mut() {
                    if top.text.len() <= MAX_TEXT {
                        top.text.push_str(&s);
                    }
                } else if !s.trim().is_empty() {
                    return Err("there is text outside the Envelope".into());
                }
            }
            Event::CData(t) => {
                if let Some(top) = stack.last_mut() {
                    if top.text.len() <= MAX_TEXT {
                        top.text.push_str(&t.into_inner());
                    }
                }
            }
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
                let ch = ch.ok_or("an entity reference is not valid")?;
                if let Some(top) = stack.last_mut() {
                    top.text.push(ch);
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE is not accepted".into()),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("the envelope ends before its elements are closed".into());
    }
    root.ok_or_else(|| "there is no Envelope".into())
}

/// The `Identity` SOAP header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) user_id: Option<String>,
    pub(crate) codice_ufficio: Option<String>,
}

/// Which `request` choice was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SearchKind {
    Cf,
    ProtDsu,
    ProtMittente,
}

/// The search fields, as sent (trimmed; `None` when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SearchFields {
    pub(crate) kind: SearchKind,
    pub(crate) codice_fiscale: Option<String>,
    pub(crate) data_validita: Option<String>,
    pub(crate) prestazione: Option<String>,
    pub(crate) protocollo_domanda: Option<String>,
    pub(crate) stato_domanda: Option<String>,
    pub(crate) protocollo_dsu: Option<String>,
    pub(crate) protocollo_mittente: Option<String>,
}

/// A request envelope, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SoapRequest {
    pub(crate) identity: Option<Identity>,
    /// Local name of the Body's element (the operation).
    pub(crate) operation: String,
    pub(crate) tipo_indicatore: Option<String>,
    pub(crate) search: Option<SearchFields>,
}

fn nonblank(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.is_empty())
}

/// Reads a request envelope. `Err` says what is wrong (for the fault's
/// `X-Sandbox-Reason`).
pub(crate) fn parse_request(body: &[u8]) -> Result<SoapRequest, String> {
    let root = tree(body)?;
    if root.name != "Envelope" {
        return Err(format!(
            "the root element is {}, not Envelope",
            clip(&root.name)
        ));
    }
    let identity = root
        .child("Header")
        .and_then(|h| h.child("Identity"))
        .map(|i| Identity {
            user_id: nonblank(i.text_of("UserId")),
            codice_ufficio: nonblank(i.text_of("CodiceUfficio")),
        });
    let body = root.child("Body").ok_or("the Envelope has no Body")?;
    let [op] = body.children.as_slice() else {
        return Err("the Body must hold exactly one element (the operation)".into());
    };
    let request = op
        .child("request")
        .ok_or_else(|| format!("{} has no request element", clip(&op.name)))?;
    let search = request.children.iter().find_map(|c| {
        let kind = match c.name.as_str() {
            "RicercaCF" => SearchKind::Cf,
            "RicercaProtDSU" => SearchKind::ProtDsu,
            "RicercaProtMittente" => SearchKind::ProtMittente,
            _ => return None,
        };
        let cf = match kind {
            SearchKind::Cf => c.text_of("CodiceFiscale"),
            _ => c.text_of("CodiceFiscaleBeneficiario"),
        };
        Some(SearchFields {
            kind,
            codice_fiscale: nonblank(cf),
            data_validita: nonblank(c.text_of("DataValidita")),
            prestazione: nonblank(c.text_of("PrestazioneDaErogare")),
            protocollo_domanda: nonblank(c.text_of("ProtocolloDomandaEnteErogatore")),
            stato_domanda: nonblank(c.text_of("StatodomandaPrestazione")),
            protocollo_dsu: nonblank(c.text_of("ProtocolloDSU")),
            protocollo_mittente: nonblank(c.text_of("ProtocolloMittente")),
        })
    });
    Ok(SoapRequest {
        identity,
        operation: op.name.clone(),
        tipo_indicatore: nonblank(request.text_of("TipoIndicatore")),
        search,
    })
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

/// Escapes element text.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

const ENVELOPE_OPEN: &str = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>"#;
const ENVELOPE_CLOSE: &str = "</soap:Body></soap:Envelope>";

/// The answer of `operation`: `IdRichiesta`, `Esito`, optional
/// `DescrizioneErrore`, and the base64 document in `XmlEsitoIndicatore` /
/// `XmlEsitoAttestazione` (`field`).
pub(crate) fn response(
    operation: &str,
    id_richiesta: &str,
    esito: &str,
    descrizione: Option<&str>,
    payload: Option<(&str, &str)>,
) -> String {
    let mut s = String::with_capacity(512);
    s.push_str(ENVELOPE_OPEN);
    s.push_str(&format!(
        r#"<ns1:{operation}Response xmlns:ns1="{ns}"><ns1:{operation}Result><ns1:IdRichiesta>{id}</ns1:IdRichiesta><ns1:Esito>{esito}</ns1:Esito>"#,
        ns = crate::isee::NAMESPACE,
        id = escape(id_richiesta),
    ));
    if let Some(d) = descrizione {
        s.push_str(&format!(
            "<ns1:DescrizioneErrore>{}</ns1:DescrizioneErrore>",
            escape(d)
        ));
    }
    if let Some((field, b64)) = payload {
        s.push_str(&format!("<ns1:{field}>{b64}</ns1:{field}>"));
    }
    s.push_str(&format!(
        "</ns1:{operation}Result></ns1:{operation}Response>"
    ));
    s.push_str(ENVELOPE_CLOSE);
    s
}

/// GovWay's SOAP 1.1 fault with the RFC 7807 problem in `detail`
/// (protocol reference §4.2): `SOAP-ENV:Client.<title>` for 4xx,
/// `SOAP-ENV:Server.<title>` otherwise.
pub(crate) fn fault(status: u16, title: &str, detail: &str, govway_id: &str) -> String {
    let side = if (400..500).contains(&status) {
        "Client"
    } else {
        "Server"
    };
    format!(
        concat!(
            r#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/><SOAP-ENV:Body>"#,
            r#"<SOAP-ENV:Fault><faultcode>SOAP-ENV:{side}.{title}</faultcode>"#,
            r#"<faultstring xml:lang="en-US">{detail}</faultstring>"#,
            r#"<faultactor>http://api.inps.it/modi/soap/integration/fault</faultactor>"#,
            r#"<detail><problem xmlns="urn:ietf:rfc:7807"><type>https://govway.org/handling-errors/{status}/{title}.html</type><title>{title}</title><status>{status}</status>"#,
            r#"<detail>{detail}</detail><govway_id>{id}</govway_id></problem></detail>"#,
            r#"</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
        ),
        side = side,
        title = escape(title),
        detail = escape(detail),
        status = status,
        id = escape(govway_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const REQ: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:con="http://inps.it/ConsultazioneISEE">
 <soapenv:Header><inps:Identity xmlns:inps="http://inps.it/"><UserId>90000000019</UserId><CodiceUfficio>001</CodiceUfficio></inps:Identity></soapenv:Header>
 <soapenv:Body><con:ConsultazioneIndicatore><con:request><con:TipoIndicatore>Ordinario</con:TipoIndicatore>
  <con:RicercaCF><con:CodiceFiscale>RSSMRA80A01H501U</con:CodiceFiscale><con:DataValidita>2026-11-23</con:DataValidita>
  <con:ProtocolloDomandaEnteErogatore>A &amp; B</con:ProtocolloDomandaEnteErogatore></con:RicercaCF>
 </con:request></con:ConsultazioneIndicatore></soapenv:Body></soapenv:Envelope>"#;

    #[test]
    fn reads_a_request() {
        let r = parse_request(REQ.as_bytes()).unwrap();
        assert_eq!(r.operation, "ConsultazioneIndicatore");
        assert_eq!(r.tipo_indicatore.as_deref(), Some("Ordinario"));
        let id = r.identity.unwrap();
        assert_eq!(id.user_id.as_deref(), Some("90000000019"));
        assert_eq!(id.codice_ufficio.as_deref(), Some("001"));
        let s = r.search.unwrap();
        assert_eq!(s.kind, SearchKind::Cf);
        assert_eq!(s.codice_fiscale.as_deref(), Some("RSSMRA80A01H501U"));
        assert_eq!(s.data_validita.as_deref(), Some("2026-11-23"));
        assert_eq!(s.protocollo_domanda.as_deref(), Some("A & B"));
        assert_eq!(s.prestazione, None);
    }

    #[test]
    fn refuses_malformed() {
        for bad in [
            "",
            "<a/>",
            "<Envelope><Body/></Envelope>",
            "<Envelope><Body><Op/></Body></Envelope>",
            "<Envelope><Body><Op><request/></Op><Op2/></Body></Envelope>",
            "<Envelope><Body><Op><request>",
            "<!DOCTYPE x><Envelope/>",
            "<Envelope/><x/>",
        ] {
            assert!(parse_request(bad.as_bytes()).is_err(), "{bad}");
        }
        let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
        assert!(parse_request(deep.as_bytes()).is_err());
        let big = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert!(parse_request(&big).is_err());
    }

    #[test]
    fn fault_shape() {
        let f = fault(400, "BadRequest", "x < y", "id-1");
        assert!(f.contains("<faultcode>SOAP-ENV:Client.BadRequest</faultcode>"));
        assert!(f.contains("<status>400</status>"));
        assert!(f.contains("<detail>x &lt; y</detail>"));
        assert!(f.contains("<govway_id>id-1</govway_id>"));
        assert!(fault(503, "APIUnavailable", "d", "i")
            .contains("<faultcode>SOAP-ENV:Server.APIUnavailable</faultcode>"));
    }

    proptest! {
        #[test]
        fn arbitrary_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_request(&body);
        }

        #[test]
        fn arbitrary_text_in_fields_is_read_back(v in "[ -~]{0,40}") {
            let req = REQ.replace("A &amp; B", &escape(&v));
            let r = parse_request(req.as_bytes()).unwrap();
            let got = r.search.unwrap().protocollo_domanda;
            let want = Some(v.trim().to_string()).filter(|s| !s.is_empty());
            prop_assert_eq!(got, want);
        }
    }
}
