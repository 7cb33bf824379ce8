//! Small crate-internal helpers shared by the identifier types.

/// Views bytes that a constructor validated as ASCII as `&str`. Never fails
/// for such bytes; the empty fallback only avoids a panic path.
pub(crate) fn ascii_str(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// Implements `FromStr` and `TryFrom<&str>` for an identifier type by calling
/// its `parse(&str) -> Result<Self, Error>`.
macro_rules! impl_parse_traits {
    ($ty:ty, $err:ty) => {
        impl ::std::str::FromStr for $ty {
            type Err = $err;
            /// Same as `parse`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::parse(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = $err;
            /// Same as `parse`.
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                <$ty>::parse(s)
            }
        }
    };
}

/// Implements `Display` (the full value) by writing `as_str()`.
macro_rules! impl_display_as_str {
    ($($ty:ty),+ $(,)?) => {$(
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )+};
}

pub(crate) use impl_display_as_str;
pub(crate) use impl_parse_traits;
