//! DPoP in the sandbox (RFC 9449; protocol reference §2.8): the proof the
//! token endpoint validates (step 1 of §2.4, its `jti` at step 8), the
//! `cnf.jkt` of the voucher it then issues, and the front's checks of a
//! DPoP voucher (proof, `ath`, `cnf.jkt` binding, `jti` replay).
//!
//! Proofs may be RS256 (a 2048-bit or larger RSA key) or ES256 (P-256), as
//! PDND accepts. The `jwk` must hold only `kty`, `n`, `e` or `kty`, `crv`,
//! `x`, `y`; the header only `typ`, `alg`, `jwk`; the payload only `jti`,
//! `htm`, `htu`, `iat` (plus `ath` at an e-service). `iat` may be at most
//! 10 s ahead and 60 s old. The front answers every DPoP failure with 401
//! `TokenAuthenticationFailed` (GovWay's own wording is not public: an
//! assumption).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::{Map, Value};

use super::gateway::GwRefusal;
use super::lock;
use crate::encoding::{b64url, b64url_decode, sha256};
use crate::jws::decode_unverified;
use crate::keys::PublicKey;

/// `iat` may be this far ahead of now, seconds (`DPOP_IAT_TOLERANCE_SECONDS`).
pub(super) const IAT_TOLERANCE: i64 = 10;
/// A proof lives this long after its `iat`, seconds (`DPOP_DURATION_SECONDS`).
pub(super) const PROOF_LIFETIME: i64 = 60;

/// A valid proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Proof {
    /// RFC 7638 thumbprint of its `jwk`.
    pub(super) jkt: String,
    pub(super) jti: String,
    pub(super) iat: i64,
}

/// Why a proof is refused: PDND's error name and the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ProofError {
    pub(super) code: &'static str,
    pub(super) detail: String,
}

fn invalid(detail: impl Into<String>) -> ProofError {
    ProofError {
        code: "dpopProofValidationFailed",
        detail: detail.into(),
    }
}

fn exactly(m: &Map<String, Value>, names: &[&str]) -> bool {
    m.len() == names.len() && names.iter().all(|n| m.contains_key(*n))
}

fn b64_member(jwk: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    jwk.get(name)
        .and_then(Value::as_str)
        .and_then(b64url_decode)
}

/// Checks a proof for a request `htm` `htu` at `now`; `ath` is the
/// expected access-token hash at an e-service (`None` at the token
/// endpoint, where the claim must be absent).
pub(super) fn verify(
    proof: &str,
    htm: &str,
    htu: &str,
    now: i64,
    ath: Option<&str>,
) -> Result<Proof, ProofError> {
    if proof.contains(',') {
        return Err(invalid("several DPoP proofs in one header"));
    }
    let Ok(jws) = decode_unverified(proof) else {
        return Err(invalid("the DPoP proof is not a compact JWS"));
    };
    let h = &jws.header;
    if !exactly(h, &["typ", "alg", "jwk"]) {
        return Err(invalid(
            "the DPoP proof header must have exactly typ, alg and jwk",
        ));
    }
    if h.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(invalid("the DPoP proof typ is not dpop+jwt"));
    }
    let Some(Value::Object(jwk)) = h.get("jwk") else {
        return Err(invalid("the DPoP proof jwk is not an object"));
    };
    let alg = h.get("alg").and_then(Value::as_str).unwrap_or_default();
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    let (jkt, verified) = match (alg, kty) {
        ("RS256", "RSA") => {
            if !exactly(jwk, &["kty", "n", "e"]) {
                return Err(invalid("an RSA jwk must have exactly kty, n and e"));
            }
            let Ok(key) = PublicKey::from_jwk(&Value::Object(jwk.clone()).to_string()) else {
                return Err(invalid("the DPoP proof jwk is not a usable RSA key"));
            };
            let ok = key.verify_rs256(jws.signing_input.as_bytes(), &jws.signature);
            (key.kid().as_str().to_string(), ok)
        }
        ("ES256", "EC") => {
            if !exactly(jwk, &["kty", "crv", "x", "y"])
                || jwk.get("crv").and_then(Value::as_str) != Some("P-256")
            {
                return Err(invalid(
                    "an EC jwk must have exactly kty, crv (P-256), x and y",
                ));
            }
            let (Some(x), Some(y)) = (b64_member(jwk, "x"), b64_member(jwk, "y")) else {
                return Err(invalid("the DPoP proof jwk x and y are not base64url"));
            };
            if x.len() != 32 || y.len() != 32 {
                return Err(invalid("the DPoP proof jwk is not a P-256 point"));
            }
            let mut point = vec![4u8];
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let ok = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
                .verify(jws.signing_input.as_bytes(), &jws.signature)
                .is_ok();
            // RFC 7638: the required members in lexicographic order.
            let canonical = format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                b64url(&x),
                b64url(&y)
            );
            (b64url(&sha256(canonical.as_bytes())), ok)
        }
        _ => {
            return Err(invalid(
                "the DPoP proof alg must be RS256 with an RSA jwk or ES256 with an EC jwk",
            ))
        }
    };
    let p = &jws.payload;
    let claims: &[&str] = if ath.is_some() {
        &["jti", "htm", "htu", "iat", "ath"]
    } else {
        &["jti", "htm", "htu", "iat"]
    };
    if !exactly(p, claims) {
        return Err(invalid(format!(
            "the DPoP proof claims must be exactly {}",
            claims.join(", ")
        )));
    }
    if p.get("htm").and_then(Value::as_str) != Some(htm) {
        return Err(invalid(format!("the DPoP proof htm is not {htm}")));
    }
    if p.get("htu").and_then(Value::as_str) != Some(htu) {
        return Err(invalid(format!("the DPoP proof htu is not {htu}")));
    }
    let Some(iat) = p.get("iat").and_then(Value::as_i64) else {
        return Err(invalid("the DPoP proof iat is not a number"));
    };
    if iat > now.saturating_add(IAT_TOLERANCE) {
        return Err(invalid(format!(
            "the DPoP proof iat is more than {IAT_TOLERANCE} s in the future"
        )));
    }
    if now > iat.saturating_add(PROOF_LIFETIME) {
        return Err(invalid(format!(
            "the DPoP proof is older than {PROOF_LIFETIME} s"
        )));
    }
    let jti = match p.get("jti").and_then(Value::as_str) {
        Some(j) if !j.is_empty() => j.to_string(),
        _ => return Err(invalid("the DPoP proof jti is not a non-empty string")),
    };
    if let Some(expected) = ath {
        if p.get("ath").and_then(Value::as_str) != Some(expected) {
            return Err(invalid(
                "the DPoP proof ath is not the SHA-256 of the voucher",
            ));
        }
    }
    if !verified {
        return Err(ProofError {
            code: "dpopProofSignatureValidationFailed",
            detail: "the DPoP proof signature does not verify with its jwk".into(),
        });
    }
    Ok(Proof { jkt, jti, iat })
}

/// The proof `jti`s seen, each kept for the proof's lifetime.
#[derive(Default)]
pub(super) struct JtiCache {
    seen: Mutex<HashMap<String, i64>>,
}

impl JtiCache {
    /// Records the proof's `jti`; false if it was already used.
    pub(super) fn fresh(&self, proof: &Proof, now: i64) -> bool {
        let mut seen = lock(&self.seen);
        seen.retain(|_, until| *until >= now);
        let until = proof
            .iat
            .saturating_add(PROOF_LIFETIME + IAT_TOLERANCE)
            .max(now);
        seen.insert(proof.jti.clone(), until).is_none()
    }
}

fn refused(reason: impl Into<String>) -> GwRefusal {
    GwRefusal {
        status: 401,
        title: "TokenAuthenticationFailed",
        detail: "Invalid token",
        reason: reason.into(),
    }
}

/// The front's DPoP checks, after the voucher itself was verified: a
/// voucher with `cnf.jkt` must come as `Authorization: DPoP` with one
/// valid proof for this request (`htm`, `htu`, `ath`) by the key of
/// `cnf.jkt`, never seen before; a voucher without `cnf` must not come as
/// DPoP.
pub(super) fn front(
    headers: &[(String, String)],
    htm: &str,
    htu: &str,
    now: i64,
    jtis: &JtiCache,
) -> Result<(), GwRefusal> {
    let header = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    let auth = header("authorization").first().copied().unwrap_or_default();
    let (scheme, token) = auth.trim().split_once(' ').unwrap_or((auth.trim(), ""));
    let token = token.trim();
    let is_dpop = scheme.eq_ignore_ascii_case("dpop");
    let cnf = decode_unverified(token).ok().and_then(|j| {
        j.payload
            .get("cnf")
            .and_then(|c| c.get("jkt"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let Some(jkt) = cnf else {
        return if is_dpop {
            Err(refused(
                "Authorization: DPoP with a voucher that is not DPoP-bound (no cnf.jkt): send it as Bearer",
            ))
        } else {
            Ok(())
        };
    };
    if !is_dpop {
        return Err(refused(
            "a DPoP-bound voucher (cnf.jkt) must be sent as Authorization: DPoP with a DPoP proof",
        ));
    }
    let proofs = header("dpop");
    let proof = match proofs.as_slice() {
        [] => return Err(refused("no DPoP proof header with a DPoP voucher")),
        [one] => *one,
        _ => return Err(refused("several DPoP proof headers")),
    };
    let ath = b64url(&sha256(token.as_bytes()));
    let p = verify(proof, htm, htu, now, Some(&ath))
        .map_err(|e| refused(format!("{}: {}", e.code, e.detail)))?;
    if p.jkt != jkt {
        return Err(refused(
            "the DPoP proof key is not the one the voucher is bound to (cnf.jkt)",
        ));
    }
    if !jtis.fresh(&p, now) {
        return Err(refused("the DPoP proof jti was already used"));
    }
    Ok(())
}
