//! anist: Italian school, welfare and population registries over PDND.
//!
//! This facade re-exports the workspace crates so that one dependency gives
//! the whole toolkit, and holds the jobs the `anist` command line runs, so
//! that they can be embedded and benchmarked without the CLI.
//!
//! ```
//! use anist::core::cf::CodiceFiscale;
//! assert!(CodiceFiscale::is_valid("RSSMRA80A01H501U"));
//! ```

// The README's Rust examples are compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use anist_client as client;
pub use anist_core as core;

#[doc(hidden)]
pub mod cli;
