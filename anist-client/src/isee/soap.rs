//! The SOAP 1.1 messages of the INPS ISEE services (protocol reference
//! §4.2, §7.2, §7.3): writing the request, reading the answer
//! (`<Operation>Response/<Operation>Result`). The envelope reader with its
//! limits and GovWay's SOAP faults are [`crate::soap`]'s (re-exported
//! here); errors never quote the input.
//!
//! The writers escape every text value. The request writer and reader are
//! inverse of each other, and so are the answer and fault writers and
//! readers (the sandbox and the tests use the writers of answers).

use std::fmt;

use anist_core::cf::AnyCodiceFiscale;
use anist_core::dsu::DsuProtocol;
use anist_core::isee::{Esito, PrestazioneDaErogare, StatoDomanda};
use anist_core::ErrorCode;
use chrono::NaiveDate;
use quick_xml::escape::escape;

use super::{Domanda, Search, IDENTITY_NAMESPACE, NAMESPACE};
use crate::soap::{body_element, build_tree, fault_of, text, Node};
pub use crate::soap::{
    parse_fault, write_fault, SoapError, SoapFault, CONTENT_TYPE, MAX_SOAP_BYTES, MAX_SOAP_DEPTH,
    MAX_SOAP_ELEMENTS, SOAP_ENV_NAMESPACE,
};

/// Longest `ProtocolloDomandaEnteErogatore`, characters.
pub const MAX_PROTOCOLLO_DOMANDA: usize = 256;

/// A SOAP header element besides `Identity` (e.g. the operator's assertion,
/// [`super::client::SoapHeaderCarrier`]): `<p:name xmlns:p="namespace">text</p:name>`.
#[derive(Clone, PartialEq, Eq)]
pub struct HeaderElement {
    /// The namespace URI.
    pub namespace: String,
    /// The local name.
    pub name: String,
    /// The text (escaped when written).
    pub text: String,
}

impl fmt::Debug for HeaderElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderElement")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field(
                "text",
                &format_args!("<{} chars>", self.text.chars().count()),
            )
            .finish()
    }
}

/// One request, as written by [`write_request`] and read by
/// [`parse_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The operation (`ConsultazioneIndicatoreResidenti`…): the body
    /// element's name.
    pub operation: String,
    /// `Identity/UserId`.
    pub user_id: String,
    /// `Identity/CodiceUfficio`.
    pub codice_ufficio: String,
    /// `TipoIndicatore` (Indicatore operations only).
    pub tipo_indicatore: Option<String>,
    /// The search.
    pub search: Search,
    /// The optional business fields.
    pub domanda: Domanda,
    /// Other header elements.
    pub headers: Vec<HeaderElement>,
}

fn write_domanda(out: &mut String, d: &Domanda) {
    if let Some(p) = d.prestazione {
        text(out, "con:", "PrestazioneDaErogare", p.code());
    }
    if let Some(p) = &d.protocollo_domanda {
        text(out, "con:", "ProtocolloDomandaEnteErogatore", p);
    }
    if let Some(s) = d.stato {
        text(out, "con:", "StatodomandaPrestazione", s.as_str());
    }
}

/// The envelope of `request`: SOAP 1.1, the `inps:Identity` header (then
/// the other header elements), and the body
/// `con:<Operation>/con:request` with `TipoIndicatore` first (when given)
/// and the search element in the order of the XSD.
pub fn write_request(request: &Request) -> Vec<u8> {
    let mut o = String::with_capacity(1024);
    o.push_str(r#"<?xml version="1.0" encoding="utf-8"?>"#);
    o.push_str(r#"<soapenv:Envelope xmlns:soapenv=""#);
    o.push_str(SOAP_ENV_NAMESPACE);
    o.push_str(r#""><soapenv:Header><inps:Identity xmlns:inps=""#);
    o.push_str(IDENTITY_NAMESPACE);
    o.push_str(r#"">"#);
    text(&mut o, "", "UserId", &request.user_id);
    text(&mut o, "", "CodiceUfficio", &request.codice_ufficio);
    o.push_str("</inps:Identity>");
    for h in &request.headers {
        o.push_str("<h:");
        o.push_str(&escape(&h.name));
        o.push_str(r#" xmlns:h=""#);
        o.push_str(&escape(&h.namespace));
        o.push_str(r#"">"#);
        o.push_str(&escape(&h.text));
        o.push_str("</h:");
        o.push_str(&escape(&h.name));
        o.push('>');
    }
    o.push_str("</soapenv:Header><soapenv:Body><con:");
    let op = escape(&request.operation);
    o.push_str(&op);
    o.push_str(r#" xmlns:con=""#);
    o.push_str(NAMESPACE);
    o.push_str(r#""><con:request>"#);
    if let Some(t) = &request.tipo_indicatore {
        text(&mut o, "con:", "TipoIndicatore", t);
    }
    match &request.search {
        Search::CodiceFiscale {
            codice_fiscale,
            data_validita,
        } => {
            o.push_str("<con:RicercaCF>");
            text(&mut o, "con:", "CodiceFiscale", codice_fiscale.as_str());
            if let Some(d) = data_validita {
                text(
                    &mut o,
                    "con:",
                    "DataValidita",
                    &d.format("%Y-%m-%d").to_string(),
                );
            }
            write_domanda(&mut o, &request.domanda);
            o.push_str("</con:RicercaCF>");
        }
        Search::ProtocolloDsu {
            protocollo_dsu,
            beneficiario,
        } => {
            o.push_str("<con:RicercaProtDSU>");
            text(&mut o, "con:", "ProtocolloDSU", &protocollo_dsu.to_string());
            text(
                &mut o,
                "con:",
                "CodiceFiscaleBeneficiario",
                beneficiario.as_str(),
            );
            write_domanda(&mut o, &request.domanda);
            o.push_str("</con:RicercaProtDSU>");
        }
        Search::ProtocolloMittente {
            protocollo_mittente,
            beneficiario,
        } => {
            o.push_str("<con:RicercaProtMittente>");
            text(&mut o, "con:", "ProtocolloMittente", protocollo_mittente);
            text(
                &mut o,
                "con:",
                "CodiceFiscaleBeneficiario",
                beneficiario.as_str(),
            );
            write_domanda(&mut o, &request.domanda);
            o.push_str("</con:RicercaProtMittente>");
        }
    }
    o.push_str("</con:request></con:");
    o.push_str(&op);
    o.push_str("></soapenv:Body></soapenv:Envelope>");
    o.into_bytes()
}

/// The inner document of an `OK` answer, as base64 text.
#[derive(Clone, PartialEq, Eq)]
pub enum XmlEsito {
    /// `XmlEsitoIndicatore`.
    Indicatore(String),
    /// `XmlEsitoAttestazione`.
    Attestazione(String),
}

impl fmt::Debug for XmlEsito {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XmlEsito::Indicatore(t) => write!(f, "Indicatore(<{} base64 chars>)", t.len()),
            XmlEsito::Attestazione(t) => write!(f, "Attestazione(<{} base64 chars>)", t.len()),
        }
    }
}

/// The `<Operation>Result` of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The operation, from the name of the `…Response` element.
    pub operation: String,
    /// `IdRichiesta`.
    pub id_richiesta: Option<String>,
    /// `Esito`.
    pub esito: Esito,
    /// `DescrizioneErrore`.
    pub descrizione: Option<String>,
    /// `XmlEsitoIndicatore` / `XmlEsitoAttestazione`.
    pub xml_esito: Option<XmlEsito>,
}

/// The envelope of `answer` (prefix `ns1`, as INPS writes it).
pub fn write_response(answer: &Answer) -> Vec<u8> {
    let op = escape(&answer.operation);
    let mut o = String::with_capacity(512);
    o.push_str(r#"<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s=""#);
    o.push_str(SOAP_ENV_NAMESPACE);
    o.push_str(r#""><s:Body><ns1:"#);
    o.push_str(&op);
    o.push_str(r#"Response xmlns:ns1=""#);
    o.push_str(NAMESPACE);
    o.push_str(r#""><ns1:"#);
    o.push_str(&op);
    o.push_str("Result>");
    if let Some(id) = &answer.id_richiesta {
        text(&mut o, "ns1:", "IdRichiesta", id);
    }
    text(&mut o, "ns1:", "Esito", answer.esito.as_str());
    if let Some(d) = &answer.descrizione {
        text(&mut o, "ns1:", "DescrizioneErrore", d);
    }
    match &answer.xml_esito {
        Some(XmlEsito::Indicatore(t)) => text(&mut o, "ns1:", "XmlEsitoIndicatore", t),
        Some(XmlEsito::Attestazione(t)) => text(&mut o, "ns1:", "XmlEsitoAttestazione", t),
        None => {}
    }
    o.push_str("</ns1:");
    o.push_str(&op);
    o.push_str("Result></ns1:");
    o.push_str(&op);
    o.push_str("Response></s:Body></s:Envelope>");
    o.into_bytes()
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/// Reads an answer: the `<Operation>Response/<Operation>Result` of the body
/// (any prefix).
///
/// # Errors
/// [`SoapError`]: limits, malformed XML, a DTD, a missing element
/// (`Envelope`, `Body`, the `…Result`, `Esito`), or
/// [`SoapError::Fault`] when the body is a fault.
pub fn parse_response(input: &[u8]) -> Result<Answer, SoapError> {
    let root = build_tree(input)?;
    let first = body_element(&root)?;
    if first.name == "Fault" {
        return Err(SoapError::Fault(Box::new(fault_of(first))));
    }
    let operation = first
        .name
        .strip_suffix("Response")
        .filter(|o| !o.is_empty())
        .ok_or(SoapError::Missing {
            element: "<Operation>Response",
        })?;
    let result = first
        .children
        .iter()
        .find(|c| c.name.ends_with("Result"))
        .ok_or(SoapError::Missing {
            element: "<Operation>Result",
        })?;
    let esito = result
        .text_of("Esito")
        .ok_or(SoapError::Missing { element: "Esito" })?;
    let non_empty = |name: &str| result.text_of(name).filter(|t| !t.is_empty());
    let xml_esito = match (
        non_empty("XmlEsitoIndicatore"),
        non_empty("XmlEsitoAttestazione"),
    ) {
        (Some(t), _) => Some(XmlEsito::Indicatore(t)),
        (None, Some(t)) => Some(XmlEsito::Attestazione(t)),
        (None, None) => None,
    };
    Ok(Answer {
        operation: operation.to_string(),
        id_richiesta: non_empty("IdRichiesta"),
        esito: Esito::parse(&esito),
        descrizione: non_empty("DescrizioneErrore"),
        xml_esito,
    })
}

fn required(node: &Node, name: &'static str) -> Result<String, SoapError> {
    node.text_of(name)
        .ok_or(SoapError::Missing { element: name })
}

fn cf(node: &Node, name: &'static str) -> Result<AnyCodiceFiscale, SoapError> {
    AnyCodiceFiscale::parse(&required(node, name)?).map_err(|e| SoapError::BadValue {
        element: name,
        reason: e.code().to_string(),
    })
}

fn domanda_of(node: &Node) -> Result<Domanda, SoapError> {
    let prestazione = match node.text_of("PrestazioneDaErogare") {
        Some(t) => Some(
            PrestazioneDaErogare::parse(&t).map_err(|e| SoapError::BadValue {
                element: "PrestazioneDaErogare",
                reason: e.code().to_string(),
            })?,
        ),
        None => None,
    };
    let stato = match node.text_of("StatodomandaPrestazione") {
        Some(t) => Some(StatoDomanda::parse(&t).ok_or(SoapError::BadValue {
            element: "StatodomandaPrestazione",
            reason: "neither `Da Erogare` nor `Erogata`".into(),
        })?),
        None => None,
    };
    let protocollo_domanda = node
        .child("ProtocolloDomandaEnteErogatore")
        .map(|n| n.text.clone());
    if protocollo_domanda
        .as_ref()
        .is_some_and(|p| p.chars().count() > MAX_PROTOCOLLO_DOMANDA)
    {
        return Err(SoapError::BadValue {
            element: "ProtocolloDomandaEnteErogatore",
            reason: format!("longer than {MAX_PROTOCOLLO_DOMANDA} characters"),
        });
    }
    Ok(Domanda {
        prestazione,
        protocollo_domanda,
        stato,
    })
}

/// Reads a request (what [`write_request`] writes; the sandbox's INPS
/// backend and the tests use it).
///
/// # Errors
/// [`SoapError`]: limits, malformed XML, a DTD, a missing element, a value
/// that does not parse (codice fiscale, date, DSU protocol, prestazione,
/// stato).
pub fn parse_request(input: &[u8]) -> Result<Request, SoapError> {
    let root = build_tree(input)?;
    let op = body_element(&root)?;
    let header = root.child("Header");
    let identity = header.and_then(|h| h.child("Identity"));
    let headers = header
        .map(|h| {
            h.children
                .iter()
                .filter(|c| c.name != "Identity")
                .map(|c| HeaderElement {
                    namespace: String::new(),
                    name: c.name.clone(),
                    text: c.text.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let req = op
        .child("request")
        .ok_or(SoapError::Missing { element: "request" })?;
    let search_node = req
        .children
        .iter()
        .find(|c| {
            matches!(
                c.name.as_str(),
                "RicercaCF" | "RicercaProtDSU" | "RicercaProtMittente"
            )
        })
        .ok_or(SoapError::Missing {
            element: "RicercaCF, RicercaProtDSU or RicercaProtMittente",
        })?;
    let search = match search_node.name.as_str() {
        "RicercaCF" => Search::CodiceFiscale {
            codice_fiscale: cf(search_node, "CodiceFiscale")?,
            data_validita: match search_node.text_of("DataValidita") {
                Some(t) => Some(NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| {
                    SoapError::BadValue {
                        element: "DataValidita",
                        reason: "not a YYYY-MM-DD date".into(),
                    }
                })?),
                None => None,
            },
        },
        "RicercaProtDSU" => Search::ProtocolloDsu {
            protocollo_dsu: DsuProtocol::parse(&required(search_node, "ProtocolloDSU")?).map_err(
                |e| SoapError::BadValue {
                    element: "ProtocolloDSU",
                    reason: e.code().to_string(),
                },
            )?,
            beneficiario: cf(search_node, "CodiceFiscaleBeneficiario")?,
        },
        _ => Search::ProtocolloMittente {
            protocollo_mittente: search_node
                .child("ProtocolloMittente")
                .map(|n| n.text.clone())
                .ok_or(SoapError::Missing {
                    element: "ProtocolloMittente",
                })?,
            beneficiario: cf(search_node, "CodiceFiscaleBeneficiario")?,
        },
    };
    Ok(Request {
        operation: op.name.clone(),
        user_id: identity
            .and_then(|i| i.child("UserId"))
            .map(|n| n.text.clone())
            .unwrap_or_default(),
        codice_ufficio: identity
            .and_then(|i| i.child("CodiceUfficio"))
            .map(|n| n.text.clone())
            .unwrap_or_default(),
        tipo_indicatore: req.text_of("TipoIndicatore"),
        search,
        domanda: domanda_of(search_node)?,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anist_core::synthetic::SyntheticPeople;
    use proptest::prelude::*;

    fn people(seed: u64) -> SyntheticPeople {
        SyntheticPeople::new(
            seed,
            NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2020, 12, 31).unwrap(),
        )
    }

    fn any_cf(seed: u64) -> AnyCodiceFiscale {
        AnyCodiceFiscale::Persona(people(seed).next_person().codice_fiscale)
    }

    #[test]
    fn request_shape_and_escaping() {
        let cf = any_cf(1);
        let req = Request {
            operation: "ConsultazioneIndicatore".into(),
            user_id: "0123<&>".into(),
            codice_ufficio: "001".into(),
            tipo_indicatore: Some("Ordinario".into()),
            search: Search::CodiceFiscale {
                codice_fiscale: cf,
                data_validita: NaiveDate::from_ymd_opt(2026, 11, 23),
            },
            domanda: Domanda {
                prestazione: PrestazioneDaErogare::parse("A1.01").ok(),
                protocollo_domanda: Some("P<1>&\"'".into()),
                stato: Some(StatoDomanda::DaErogare),
            },
            headers: vec![],
        };
        let bytes = write_request(&req);
        let s = String::from_utf8(bytes.clone()).unwrap();
        assert!(s.contains("<UserId>0123&lt;&amp;&gt;</UserId>"), "{s}");
        let order = [
            "<con:TipoIndicatore>Ordinario",
            "<con:RicercaCF>",
            "<con:CodiceFiscale>",
            "<con:DataValidita>2026-11-23",
            "<con:PrestazioneDaErogare>A1.01",
            "<con:ProtocolloDomandaEnteErogatore>",
            "<con:StatodomandaPrestazione>Da Erogare",
        ];
        let mut at = 0;
        for o in order {
            let i = s[at..]
                .find(o)
                .unwrap_or_else(|| panic!("{o} after {at} in {s}"));
            at += i;
        }
        assert_eq!(parse_request(&bytes).unwrap(), req);
    }

    #[test]
    fn response_fault_and_limits() {
        let a = Answer {
            operation: "ConsultazioneAttestazioneResidenti".into(),
            id_richiesta: Some("42".into()),
            esito: Esito::Ok,
            descrizione: None,
            xml_esito: Some(XmlEsito::Attestazione("PD94bWw/Pg==".into())),
        };
        assert_eq!(parse_response(&write_response(&a)).unwrap(), a);
        let f = SoapFault {
            code: Some("SOAP-ENV:Server.APIUnavailable".into()),
            string: Some("The API Implementation is temporary unavailable".into()),
            problem_title: Some("APIUnavailable".into()),
            problem_status: Some(503),
            govway_id: Some("gw-1".into()),
            ..SoapFault::default()
        };
        let bytes = write_fault(&f);
        assert_eq!(parse_fault(&bytes), Some(f.clone()));
        assert_eq!(
            parse_response(&bytes).unwrap_err(),
            SoapError::Fault(Box::new(f))
        );
        assert_eq!(parse_fault(b""), None);
        assert_eq!(parse_fault(&write_response(&a)), None);
        let dtd = br#"<!DOCTYPE x [<!ENTITY a "b">]><s:Envelope xmlns:s="x"><s:Body><a>&a;</a></s:Body></s:Envelope>"#;
        assert_eq!(
            parse_response(dtd).unwrap_err().code(),
            "isee_soap_malformed"
        );
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert_eq!(
            parse_response(deep.as_bytes()).unwrap_err().code(),
            "isee_soap_limit"
        );
        let big = vec![b' '; MAX_SOAP_BYTES + 1];
        assert_eq!(parse_response(&big).unwrap_err().code(), "isee_soap_limit");
        let no_esito = br#"<Envelope><Body><XResponse><XResult/></XResponse></Body></Envelope>"#;
        assert_eq!(
            parse_response(no_esito).unwrap_err(),
            SoapError::Missing { element: "Esito" }
        );
    }

    fn arb_domanda() -> impl Strategy<Value = Domanda> {
        (
            proptest::option::of(0usize..36),
            proptest::option::of("\\PC{0,40}"),
            proptest::option::of(any::<bool>()),
        )
            .prop_map(|(p, protocollo, stato)| Domanda {
                prestazione: p.and_then(|i| PrestazioneDaErogare::all().nth(i)),
                protocollo_domanda: protocollo,
                stato: stato.map(|b| {
                    if b {
                        StatoDomanda::DaErogare
                    } else {
                        StatoDomanda::Erogata
                    }
                }),
            })
    }

    fn arb_search() -> impl Strategy<Value = Search> {
        (
            any::<u64>(),
            0u8..3,
            "\\PC{0,30}",
            proptest::option::of(0i64..20_000),
            2015u16..2030,
            0u32..99_999_999,
        )
            .prop_map(|(seed, kind, text, days, year, prog)| {
                let cf = any_cf(seed);
                match kind {
                    0 => Search::CodiceFiscale {
                        codice_fiscale: cf,
                        data_validita: days.and_then(|d| {
                            NaiveDate::from_ymd_opt(2000, 1, 1)
                                .and_then(|b| b.checked_add_signed(chrono::Duration::days(d)))
                        }),
                    },
                    1 => Search::ProtocolloDsu {
                        protocollo_dsu: DsuProtocol::parse(&format!(
                            "INPS-ISEE-{year:04}-{prog:08}A-00"
                        ))
                        .unwrap(),
                        beneficiario: cf,
                    },
                    _ => Search::ProtocolloMittente {
                        protocollo_mittente: text,
                        beneficiario: cf,
                    },
                }
            })
    }

    proptest! {
        #[test]
        fn requests_round_trip(
            op in "[A-Za-z]{1,40}",
            user in "\\PC{0,30}",
            ufficio in "\\PC{0,10}",
            tipo in proptest::option::of("[A-Za-z]{1,20}"),
            search in arb_search(),
            domanda in arb_domanda(),
            extra in proptest::option::of("[A-Za-z0-9+/=]{0,60}"),
        ) {
            let req = Request {
                operation: op,
                user_id: user,
                codice_ufficio: ufficio,
                tipo_indicatore: tipo,
                search,
                domanda,
                headers: extra
                    .map(|t| vec![HeaderElement { namespace: String::new(), name: "Assertion".into(), text: t }])
                    .unwrap_or_default(),
            };
            let bytes = write_request(&req);
            prop_assert_eq!(parse_request(&bytes).unwrap(), req);
        }

        #[test]
        fn responses_round_trip(
            op in "[A-Za-z]{1,40}",
            id in proptest::option::of("[A-Za-z0-9-]{1,20}"),
            esito in "[A-Z_]{1,25}",
            descr in proptest::option::of("\\PC{1,60}"),
            xml in proptest::option::of(("[A-Za-z0-9+/]{1,80}", any::<bool>())),
        ) {
            let descr = descr.filter(|d| !d.trim().is_empty()).map(|d| d.trim().to_string());
            let a = Answer {
                operation: op,
                id_richiesta: id,
                esito: Esito::parse(&esito),
                descrizione: descr,
                xml_esito: xml.map(|(t, ind)| if ind { XmlEsito::Indicatore(t) } else { XmlEsito::Attestazione(t) }),
            };
            prop_assert_eq!(parse_response(&write_response(&a)).unwrap(), a);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            for r in [parse_response(&bytes).err(), parse_request(&bytes).err()].into_iter().flatten() {
                prop_assert!(SoapError::CODES.contains(&r.code()));
                let _ = r.to_string();
            }
            let _ = parse_fault(&bytes);
        }

        #[test]
        fn mutated_envelopes_never_panic(cut in 0usize..600, flip in 0usize..600, byte in any::<u8>()) {
            let mut b = write_response(&Answer {
                operation: "ConsultazioneIndicatore".into(),
                id_richiesta: Some("1".into()),
                esito: Esito::Ok,
                descrizione: Some("d".into()),
                xml_esito: Some(XmlEsito::Indicatore("QUJD".into())),
            });
            if let Some(x) = b.get_mut(flip) { *x = byte; }
            b.truncate(cut);
            let _ = parse_response(&b);
            let _ = parse_fault(&b);
        }
    }
}
