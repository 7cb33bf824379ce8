//! Pure domain logic for anist: Italian identifiers and the reference data
//! behind them. No network, no async, no global mutable state; time is always
//! passed in by the caller.
//!

pub mod anpr;
pub mod attendance;
#[doc(hidden)]
pub mod catalogue;
pub mod cf;
pub mod csvio;
pub mod documents;
pub mod dsu;
pub mod error;
pub mod infanzia;
pub mod isee;
pub mod meccanografico;
pub mod place;
pub mod rivestizione;
pub mod school;
pub mod sidi;
pub mod synthetic;
mod text;

pub use error::{CodeSamples, ErrorCode, ErrorKind, Sent};
