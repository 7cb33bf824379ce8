//! `libanist`: the C ABI of anist, for C, Delphi and Free Pascal.
//!
//! Conventions (rustls-ffi is the model; see the README "C" section):
//!
//! - every function that can fail returns an `int32_t` status: [`ANIST_OK`]
//!   (0) or one of the `ANIST_ERR_*` families, mapped from the same stable
//!   error codes as the Rust crates and the Python package;
//! - results go through out-params, written only on success;
//! - strings returned by the library are freed with [`anist_string_free`];
//! - [`anist_last_error_message`] and [`anist_last_error_code`] describe the
//!   last failure of the calling thread;
//! - a NULL argument gives [`ANIST_ERR_NULL_ARGUMENT`], never a crash; a
//!   panic gives [`ANIST_ERR_PANIC`] and never crosses the boundary; the
//!   library never prints;
//! - no two names differ only by case (Pascal is case-insensitive);
//! - long jobs are start / poll / cancel / result / free.
//!
//! Thin: every function converts types and errors and calls `anist_core`
//! or `anist_client`.

mod anpr;
mod anpr_job;
mod client;
mod error;
mod ids;
mod infanzia;
mod isee;
mod isee_job;
mod job;
mod log;
mod rivestizione;
mod sidi;
mod strings;

pub use anpr::*;
pub use anpr_job::*;
pub use client::*;
pub use error::*;
pub use ids::*;
pub use infanzia::*;
pub use isee::*;
pub use isee_job::*;
pub use job::*;
pub use log::*;
pub use rivestizione::*;
pub use sidi::*;
pub use strings::*;

/// Major version of the C ABI (a change here breaks programs built
/// against an older header; it is the SONAME's number).
pub const ANIST_VERSION_MAJOR: u32 = 0;
/// Minor version of the C ABI (additions only).
pub const ANIST_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const ANIST_VERSION_PATCH: u32 = 0;

/// The version of the library actually loaded, as
/// `major * 10000 + minor * 100 + patch`: compare it with the
/// `ANIST_VERSION_*` defines of the header the program was built with.
/// Cannot fail.
#[no_mangle]
pub extern "C" fn anist_get_abi_version() -> u32 {
    ANIST_VERSION_MAJOR * 10_000 + ANIST_VERSION_MINOR * 100 + ANIST_VERSION_PATCH
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_defines_follow_the_package_version() {
        assert_eq!(
            ANIST_VERSION_MAJOR.to_string(),
            env!("CARGO_PKG_VERSION_MAJOR")
        );
        assert_eq!(
            ANIST_VERSION_MINOR.to_string(),
            env!("CARGO_PKG_VERSION_MINOR")
        );
        assert_eq!(
            ANIST_VERSION_PATCH.to_string(),
            env!("CARGO_PKG_VERSION_PATCH")
        );
        assert_eq!(anist_get_abi_version(), 100);
    }
}
