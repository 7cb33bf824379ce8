//! Compact JWS (RFC 7515): signing with RS256, and splitting/decoding without
//! verification (for the pre-flight diagnosis and for reading a voucher's own
//! `exp`).

use std::fmt;

use anist_core::{CodeSamples, ErrorCode, ErrorKind};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::encoding::{b64url, b64url_decode};
use crate::keys::{KeyError, PrivateKey};

/// A signed token in compact serialization (`header.payload.signature`):
/// a client assertion, a voucher, an `Agid-JWT-Signature` or an
/// `Agid-JWT-TrackingEvidence`.
///
/// It is a bearer credential: `Debug` shows only its length, and there is no
/// `Display`; [`CompactJws::as_str`] gives the text to put on the wire.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CompactJws(String);

impl CompactJws {
    /// Wraps a compact JWS received from elsewhere (e.g. a voucher). The text
    /// is not checked; use [`decode_unverified`] to look inside.
    pub fn from_string(text: String) -> Self {
        Self(text)
    }

    /// The compact serialization, to send.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The compact serialization, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for CompactJws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompactJws(<redacted, {} bytes>)", self.0.len())
    }
}

/// Signs `header` and `payload` (serialized as compact JSON) with RS256.
pub(crate) fn sign_rs256(
    header: &impl Serialize,
    payload: &impl Serialize,
    key: &PrivateKey,
) -> Result<CompactJws, KeyError> {
    let h = serde_json::to_vec(header).map_err(|_| KeyError::Crypto {
        during: "serializing a JWS header",
    })?;
    let p = serde_json::to_vec(payload).map_err(|_| KeyError::Crypto {
        during: "serializing a JWS payload",
    })?;
    let mut out = String::with_capacity((h.len() + p.len()) * 4 / 3 + 350);
    out.push_str(&b64url(&h));
    out.push('.');
    out.push_str(&b64url(&p));
    let sig = key.sign_rs256(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64url(&sig));
    Ok(CompactJws(out))
}

/// The part of a compact JWS a [`JwsFormatError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsPart {
    /// The first part, the protected header.
    Header,
    /// The second part, the payload (claims).
    Payload,
    /// The third part, the signature.
    Signature,
}

impl fmt::Display for JwsPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JwsPart::Header => "header",
            JwsPart::Payload => "payload",
            JwsPart::Signature => "signature",
        })
    }
}

/// Why a text is not a compact JWS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsFormatError {
    /// Not three dot-separated parts.
    #[error("a compact JWS has three parts separated by dots, found {parts}")]
    Parts {
        /// How many parts were found.
        parts: usize,
    },
    /// A part is not base64url without padding.
    #[error("the JWS {part} is not base64url without padding")]
    Base64 {
        /// Which part.
        part: JwsPart,
    },
    /// The header or payload is not a JSON object.
    #[error("the JWS {part} is not a JSON object")]
    Json {
        /// Which part.
        part: JwsPart,
    },
}

impl ErrorCode for JwsFormatError {
    fn code(&self) -> &'static str {
        match self {
            JwsFormatError::Parts { .. } => "jws_parts",
            JwsFormatError::Base64 { .. } => "jws_base64",
            JwsFormatError::Json { .. } => "jws_json",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::UnexpectedAnswer
    }
}

#[doc(hidden)]
impl CodeSamples for JwsFormatError {
    fn samples() -> Vec<Self> {
        vec![
            JwsFormatError::Parts { parts: 2 },
            JwsFormatError::Base64 {
                part: JwsPart::Signature,
            },
            JwsFormatError::Json {
                part: JwsPart::Header,
            },
        ]
    }
}

/// A compact JWS split and decoded, not verified.
#[derive(Clone)]
pub struct DecodedJws {
    /// The protected header members.
    pub header: Map<String, Value>,
    /// The payload claims.
    pub payload: Map<String, Value>,
    /// `base64url(header) "." base64url(payload)`: the signed bytes.
    pub signing_input: String,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

impl fmt::Debug for DecodedJws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
        f.debug_struct("DecodedJws")
            .field("header_members", &names(&self.header))
            .field("payload_claims", &names(&self.payload))
            .finish_non_exhaustive()
    }
}

/// Splits a compact JWS and decodes its header and payload, without
/// verifying the signature. Surrounding ASCII whitespace is ignored.
///
/// # Errors
/// [`JwsFormatError`] when the text is not three base64url parts whose first
/// two are JSON objects.
///
/// ```
/// use anist_client::jws::decode_unverified;
/// // {"alg":"none"} . {"exp":1}
/// let d = decode_unverified("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.").unwrap();
/// assert_eq!(d.payload["exp"], 1);
/// ```
pub fn decode_unverified(compact: &str) -> Result<DecodedJws, JwsFormatError> {
    let compact = compact.trim_matches(|c: char| c.is_ascii_whitespace());
    let parts: Vec<&str> = compact.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(JwsFormatError::Parts { parts: parts.len() });
    };
    let object = |text: &str, part: JwsPart| -> Result<Map<String, Value>, JwsFormatError> {
        let bytes = b64url_decode(text).ok_or(JwsFormatError::Base64 { part })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(JwsFormatError::Json { part }),
        }
    };
    let header = object(h, JwsPart::Header)?;
    let payload = object(p, JwsPart::Payload)?;
    let signature = b64url_decode(s).ok_or(JwsFormatError::Base64 {
        part: JwsPart::Signature,
    })?;
    Ok(DecodedJws {
        header,
        payload,
        signing_input: format!("{h}.{p}"),
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::RsaBits;
    use proptest::prelude::*;

    #[test]
    fn sign_then_decode_and_verify() {
        let key = PrivateKey::generate(RsaBits::Rsa2048).unwrap();
        let jws = sign_rs256(
            &serde_json::json!({"alg": "RS256"}),
            &serde_json::json!({"a": 1}),
            &key,
        )
        .unwrap();
        let d = decode_unverified(jws.as_str()).unwrap();
        assert_eq!(d.header["alg"], "RS256");
        assert_eq!(d.payload["a"], 1);
        assert_eq!(d.signature.len(), 256);
        assert!(key
            .public_key()
            .verify_rs256(d.signing_input.as_bytes(), &d.signature));
        assert!(!key.public_key().verify_rs256(b"other", &d.signature));
        let dbg = format!("{jws:?} {d:?}");
        assert!(!dbg.contains(jws.as_str().split('.').next().unwrap()));
    }

    #[test]
    fn format_errors() {
        assert_eq!(
            decode_unverified("a.b").unwrap_err(),
            JwsFormatError::Parts { parts: 2 }
        );
        assert_eq!(
            decode_unverified("a.b.c.d.e").unwrap_err().code(),
            "jws_parts"
        );
        assert_eq!(
            decode_unverified("e30=.e30.").unwrap_err(),
            JwsFormatError::Base64 {
                part: JwsPart::Header
            }
        );
        // "[]" is JSON but not an object.
        assert_eq!(
            decode_unverified("e30.W10.").unwrap_err(),
            JwsFormatError::Json {
                part: JwsPart::Payload
            }
        );
        assert_eq!(
            decode_unverified("e30.e30.!!").unwrap_err(),
            JwsFormatError::Base64 {
                part: JwsPart::Signature
            }
        );
        assert!(decode_unverified(" e30.e30.\n").is_ok());
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = decode_unverified(&s);
        }

        #[test]
        fn dotted_base64_never_panics(parts in proptest::collection::vec("[A-Za-z0-9_=-]{0,40}", 0..5)) {
            let _ = decode_unverified(&parts.join("."));
        }

        #[test]
        fn json_objects_round_trip(k in "[a-z]{1,8}", v in any::<i64>()) {
            let h = b64url(br#"{"alg":"RS256"}"#);
            let p = b64url(serde_json::json!({ k.clone(): v }).to_string().as_bytes());
            let d = decode_unverified(&format!("{h}.{p}.")).unwrap();
            prop_assert_eq!(d.payload[&k].as_i64(), Some(v));
        }
    }
}
