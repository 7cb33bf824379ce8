//! Small encoding helpers shared by the modules: base64 (standard and URL-safe
//! without padding), lower-case hex, SHA-256 and randomness.

use aws_lc_rs::digest;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

/// base64url without padding (JWS, JWK, thumbprints).
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `None` on any other alphabet or padding.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Standard base64 with padding (the RFC 3230 `Digest` header).
pub(crate) fn b64std(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Lower-case hexadecimal.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// Fills `dest` from the operating system's secure generator.
pub(crate) fn random_fill(dest: &mut [u8]) -> Result<(), RandomError> {
    aws_lc_rs::rand::fill(dest).map_err(|_| RandomError)
}

/// The system's secure random generator failed (practically never happens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RandomError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_sha256_known_vector() {
        // FIPS 180-2 "abc".
        assert_eq!(
            hex_lower(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn base64_variants() {
        assert_eq!(b64std(&[0xfb, 0xff]), "+/8=");
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(b64url_decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(b64url_decode("-_8="), None);
        assert_eq!(b64url_decode("+/8"), None);
    }
}
