//! The error vocabulary shared by every identifier type.
//!
//! Each error enum in `anist-core` implements [`ErrorCode`]: a stable,
//! snake-case `code()` that never changes once released (the Python
//! exceptions and the C status codes are renderings of it), and the 1-based
//! character position the error applies to, when there is one.

/// A stable machine-readable code and an optional position for an error.
pub trait ErrorCode: std::error::Error {
    /// The stable code, e.g. `cf_check_char`. Never changes once released.
    fn code(&self) -> &'static str;

    /// The 1-based position (in the normalised input) the error applies to,
    /// if it applies to one character.
    fn position(&self) -> Option<usize> {
        None
    }
}
