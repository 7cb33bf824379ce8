//! What the sandbox accepts as the operator's SPID/CIE assertion on the
//! Operatori services (assumption U13: base64 in the HTTP header
//! `INPS-Identity-Assertion`), so that any bytes no longer pass.
//!
//! Well-formed is one of the two things an identity provider issues for a
//! login (protocol reference §7.5, §11):
//!
//! - a SAML 2.0 assertion (SPID, CIE via SAML): XML whose root is
//!   `saml:Assertion` (namespace `urn:oasis:names:tc:SAML:2.0:assertion`)
//!   or a `samlp:Response` (`urn:oasis:names:tc:SAML:2.0:protocol`)
//!   holding one, with a non-empty `Issuer`, a `Subject/NameID`, an XML
//!   signature (`ds:Signature`, `http://www.w3.org/2000/09/xmldsig#`) and
//!   an `AuthnStatement/AuthnContext/AuthnContextClassRef` at SPID level 2
//!   or 3 (`https://www.spid.gov.it/SpidL2`, `…/SpidL3`);
//! - an OpenID Connect id_token (SPID/CIE OIDC): a compact JWS of three
//!   base64url parts, its header a JSON object with an `alg` other than
//!   `none`, its payload a JSON object with `iss`, `sub` (strings) and
//!   `exp` (a number), and, when present, `acr` at SPID level 2 or 3.
//!
//! The sandbox checks the form only: it neither verifies the signature
//! (it has no identity provider's keys) nor the validity window. A
//! malformed assertion is refused as INPS's GovWay front refuses an
//! unauthenticated call: a `403` SOAP fault `AuthorizationDenied`.

use base64::Engine as _;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use serde_json::{Map, Value};

use crate::isee::Loa;

/// Namespace of a SAML 2.0 assertion.
pub const SAML_ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// Namespace of a SAML 2.0 protocol message (`Response`).
pub const SAML_PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// Namespace of the XML signature.
pub const XMLDSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Largest assertion read, bytes (decoded).
pub const MAX_ASSERTION_BYTES: usize = 64 * 1024;
const MAX_DEPTH: usize = 32;
const MAX_ELEMENTS: usize = 1024;

/// Why the sandbox refuses an operator's assertion (the `reason` of the
/// fault, in English as GovWay's), or `None` when it is well-formed (see
/// the [module documentation](self)). `header` is the header's value:
/// base64 of the assertion.
pub fn assertion_problem(header: &str) -> Option<&'static str> {
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return Some("the operator's assertion is not base64");
    };
    if bytes.len() > MAX_ASSERTION_BYTES {
        return Some("the operator's assertion is too large");
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'<') {
        return saml_problem(&bytes);
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) if text.trim().split('.').count() == 3 => jwt_problem(text.trim()),
        _ => Some("the operator's assertion is neither a SAML assertion nor an OIDC id_token"),
    }
}

/// Whether an `AuthnContextClassRef` / `acr` value is SPID level 2 or 3.
fn level_ok(value: &str) -> bool {
    Loa::parse(value).is_some_and(Loa::is_enough_for_operatori)
}

fn saml_problem(bytes: &[u8]) -> Option<&'static str> {
    const MALFORMED: &str = "the operator's SAML assertion is not well-formed XML";
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Some("the operator's SAML assertion is not UTF-8");
    };
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<(bool, String)> = Vec::new();
    let (mut elements, mut root_ok, mut seen_root) = (0usize, false, false);
    let (mut assertion, mut issuer, mut name_id, mut signature) = (false, false, false, false);
    let mut class: Option<String> = None;
    loop {
        let Ok((ns, event)) = reader.read_resolved_event() else {
            return Some(MALFORMED);
        };
        let ns_is = |want: &str| matches!(&ns, ResolveResult::Bound(n) if n.as_ref() == want);
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                elements += 1;
                if elements > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Some("the operator's SAML assertion is too large");
                }
                let local = e.local_name().as_ref().to_string();
                let in_saml = ns_is(SAML_ASSERTION_NS);
                if !seen_root {
                    seen_root = true;
                    root_ok = (in_saml && local == "Assertion")
                        || (ns_is(SAML_PROTOCOL_NS) && local == "Response");
                } else if stack.is_empty() {
                    return Some(MALFORMED);
                }
                assertion |= in_saml && local == "Assertion";
                signature |= ns_is(XMLDSIG_NS) && local == "Signature";
                if matches!(event, Event::Start(_)) {
                    stack.push((in_saml, local));
                }
            }
            // The pop happens whatever the guard says.
            Event::End(_) if stack.pop().is_none() => return Some(MALFORMED),
            Event::Text(ref t) => {
                let value = t.xml10_content();
                let value = value.trim();
                if value.is_empty() {
                    continue;
                }
                match stack.last() {
                    Some((true, name)) if name == "Issuer" => issuer = true,
                    Some((true, name)) if name == "NameID" => name_id = true,
                    Some((true, name)) if name == "AuthnContextClassRef" => {
                        class = Some(value.to_string());
                    }
                    None => return Some(MALFORMED),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() || !seen_root {
        return Some(MALFORMED);
    }
    if !root_ok || !assertion {
        return Some("the operator's assertion is XML but not a SAML 2.0 Assertion or Response");
    }
    if !issuer || !name_id {
        return Some("the operator's SAML assertion has no Issuer or no Subject/NameID");
    }
    if !signature {
        return Some("the operator's SAML assertion is not signed (no ds:Signature)");
    }
    match class.as_deref() {
        None => Some("the operator's SAML assertion has no AuthnContextClassRef"),
        Some(c) if !level_ok(c) => {
            Some("the operator's login is below SPID level 2 (AuthnContextClassRef)")
        }
        Some(_) => None,
    }
}

fn json_part(part: &str) -> Option<Map<String, Value>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

fn jwt_problem(text: &str) -> Option<&'static str> {
    const MALFORMED: &str =
        "the operator's id_token is not a compact JWS with JSON header and payload";
    let mut parts = text.split('.');
    let (Some(h), Some(p), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        return Some(MALFORMED);
    };
    let (Some(header), Some(payload)) = (json_part(h), json_part(p)) else {
        return Some(MALFORMED);
    };
    if sig.is_empty()
        || base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .is_err()
    {
        return Some("the operator's id_token is not signed");
    }
    match header.get("alg").and_then(Value::as_str) {
        Some(alg) if !alg.eq_ignore_ascii_case("none") => {}
        _ => return Some("the operator's id_token is not signed (alg)"),
    }
    let text_claim = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    if !text_claim("iss") || !text_claim("sub") || !payload.get("exp").is_some_and(Value::is_number)
    {
        return Some("the operator's id_token lacks iss, sub or exp");
    }
    match payload.get("acr") {
        None => None,
        Some(Value::String(acr)) if level_ok(acr) => None,
        Some(_) => Some("the operator's login is below SPID level 2 (acr)"),
    }
}

/// A synthetic SAML 2.0 assertion the sandbox accepts: SPID level 2,
/// issued by a sandbox identity provider for `subject` (a synthetic codice
/// fiscale), with a placeholder signature (never verified).
pub fn synthetic_saml_assertion(subject: &str) -> String {
    format!(
        concat!(
            r#"<saml:Assertion xmlns:saml="{saml}" xmlns:ds="{ds}" ID="_sandbox-assertion" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">"#,
            r#"<saml:Issuer>https://idp.sandbox.invalid</saml:Issuer>"#,
            r#"<ds:Signature><ds:SignedInfo/><ds:SignatureValue>c2FuZGJveA==</ds:SignatureValue></ds:Signature>"#,
            r#"<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient">TINIT-{subject}</saml:NameID></saml:Subject>"#,
            r#"<saml:AuthnStatement AuthnInstant="2026-01-01T00:00:00Z"><saml:AuthnContext>"#,
            r#"<saml:AuthnContextClassRef>https://www.spid.gov.it/SpidL2</saml:AuthnContextClassRef>"#,
            r#"</saml:AuthnContext></saml:AuthnStatement></saml:Assertion>"#
        ),
        saml = SAML_ASSERTION_NS,
        ds = XMLDSIG_NS,
        subject = subject,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn b64url(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn the_synthetic_assertion_passes() {
        assert_eq!(
            assertion_problem(&b64(&synthetic_saml_assertion("RSSMRA80A01H501U"))),
            None
        );
    }

    #[test]
    fn malformed_saml_is_refused() {
        let good = synthetic_saml_assertion("RSSMRA80A01H501U");
        for bad in [
            String::from("<saml:Assertion/>"),
            String::from("<saml>synthetic</saml>"),
            good.replace("</saml:Assertion>", ""),
            good.replace(SAML_ASSERTION_NS, "urn:other"),
            good.replace("SpidL2", "SpidL1"),
            good.replace("ds:Signature>", "ds:Sig>"),
            good.replace("https://idp.sandbox.invalid", ""),
            format!("{good}<x/>"),
        ] {
            assert!(assertion_problem(&b64(&bad)).is_some(), "{bad}");
        }
        assert!(assertion_problem("not base64!").is_some());
        assert!(assertion_problem(&b64("just text")).is_some());
        assert!(assertion_problem("").is_some());
    }

    #[test]
    fn oidc_id_token() {
        let h = b64url(r#"{"alg":"RS256","kid":"k"}"#);
        let p = b64url(
            r#"{"iss":"https://op.sandbox.invalid","sub":"x","exp":1900000000,"acr":"https://www.spid.gov.it/SpidL2"}"#,
        );
        let s = b64url("signature");
        assert_eq!(assertion_problem(&b64(&format!("{h}.{p}.{s}"))), None);
        let none = b64url(r#"{"alg":"none"}"#);
        assert!(assertion_problem(&b64(&format!("{none}.{p}.{s}"))).is_some());
        assert!(assertion_problem(&b64(&format!("{h}.{p}."))).is_some());
        let low = b64url(r#"{"iss":"i","sub":"x","exp":1,"acr":"https://www.spid.gov.it/SpidL1"}"#);
        assert!(assertion_problem(&b64(&format!("{h}.{low}.{s}"))).is_some());
        let no_sub = b64url(r#"{"iss":"i","exp":1}"#);
        assert!(assertion_problem(&b64(&format!("{h}.{no_sub}.{s}"))).is_some());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = assertion_problem(&base64::engine::general_purpose::STANDARD.encode(&bytes));
        }
    }
}
