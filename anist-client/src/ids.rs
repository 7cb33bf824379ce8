//! PDND identifiers: client ids and purpose ids are UUIDs.
//!
//! They are held in their canonical lower-case hyphenated form, which is how
//! PDND shows and stores them; an upper-case id in a configuration file is
//! accepted and lower-cased, so that `sub`, `iss`, the `client_id` form field
//! and PDND's key lookup always agree.

use std::fmt;

use anist_core::{CodeSamples, ErrorCode, ErrorKind};

use crate::encoding::{random_fill, RandomError};

/// An identifier that is not a UUID in the hyphenated 8-4-4-4-12 form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The client id is not a UUID.
    #[error("a PDND client id is a UUID like c9b73ff4-e203-4580-911b-689514d350c2 (found {len} characters that are not one)")]
    ClientId {
        /// Length of the refused input, in characters.
        len: usize,
    },
    /// The purpose id is not a UUID.
    #[error("a PDND purpose id (finalità) is a UUID like ffe23164-4b19-4ac4-8ee3-2a259dc2b81e (found {len} characters that are not one)")]
    PurposeId {
        /// Length of the refused input, in characters.
        len: usize,
    },
}

impl ErrorCode for IdError {
    fn code(&self) -> &'static str {
        match self {
            IdError::ClientId { .. } => "client_id_format",
            IdError::PurposeId { .. } => "purpose_id_format",
        }
    }

    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

#[doc(hidden)]
impl CodeSamples for IdError {
    fn samples() -> Vec<Self> {
        vec![IdError::ClientId { len: 3 }, IdError::PurposeId { len: 3 }]
    }
}

/// True when `s` is a UUID in the hyphenated form (any hex case), the form
/// PDND's validators accept.
pub(crate) fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// True when `s` is a hyphenated UUID whose version nibble is 4 and whose
/// variant is RFC 4122.
pub(crate) fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    is_uuid(s) && b[14] == b'4' && matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B')
}

/// A fresh random (version 4) UUID, lower-case hyphenated.
pub(crate) fn new_uuid_v4() -> Result<String, RandomError> {
    let mut b = [0u8; 16];
    random_fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::encoding::hex_lower(&b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $variant:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Parses a hyphenated UUID (surrounding blanks ignored, hex
            /// lower-cased).
            ///
            /// # Errors
            #[doc = concat!("[`IdError::", stringify!($variant), "`] when the text is not a UUID.")]
            pub fn parse(text: &str) -> Result<Self, IdError> {
                let t = text.trim();
                if is_uuid(t) {
                    Ok(Self(t.to_ascii_lowercase()))
                } else {
                    Err(IdError::$variant { len: text.chars().count() })
                }
            }

            /// The canonical lower-case hyphenated form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }
    };
}

uuid_id!(
    /// The UUID of a PDND *client e-service* (the machine-to-machine client).
    ///
    /// It is `iss` and `sub` of the client assertion and the `client_id`
    /// form field of the token request.
    ///
    /// ```
    /// use anist_client::ids::ClientId;
    /// let id = ClientId::parse("C9B73FF4-E203-4580-911B-689514D350C2").unwrap();
    /// assert_eq!(id.as_str(), "c9b73ff4-e203-4580-911b-689514d350c2");
    /// ```
    ClientId,
    ClientId
);

uuid_id!(
    /// The UUID of a PDND purpose (*finalità*): the `purposeId` claim.
    PurposeId,
    PurposeId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let id = PurposeId::parse(" FFE23164-4B19-4AC4-8EE3-2A259DC2B81E ").unwrap();
        assert_eq!(id.to_string(), "ffe23164-4b19-4ac4-8ee3-2a259dc2b81e");
        assert_eq!(
            format!("{id:?}"),
            "PurposeId(ffe23164-4b19-4ac4-8ee3-2a259dc2b81e)"
        );
    }

    #[test]
    fn refuses_non_uuids() {
        for bad in [
            "",
            "c9b73ff4e2034580911b689514d350c2",
            "{c9b73ff4-e203-4580-911b-689514d350c2}",
            "c9b73ff4-e203-4580-911b-689514d350cg",
            "c9b73ff4-e203-4580-911b-689514d350c",
            "c9b73ff4-e2034-580-911b-689514d350c2",
        ] {
            let e = ClientId::parse(bad).unwrap_err();
            assert_eq!(e.code(), "client_id_format");
            assert_eq!(
                PurposeId::parse(bad).unwrap_err().code(),
                "purpose_id_format"
            );
        }
    }

    #[test]
    fn v4_generation() {
        let a = new_uuid_v4().unwrap();
        let b = new_uuid_v4().unwrap();
        assert_ne!(a, b);
        assert!(is_uuid_v4(&a), "{a}");
        assert!(!is_uuid_v4("c9b73ff4-e203-1580-911b-689514d350c2"));
        assert_eq!(a, a.to_ascii_lowercase());
    }
}
