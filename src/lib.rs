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

pub mod anpr_cmd;
pub mod anpr_doc_cmd;
pub mod anpr_massive_cmd;
pub mod caivano;
pub mod check;
pub mod config_cmd;
pub mod frequenza_cmd;
pub mod infanzia_cmd;
pub mod inspect;
pub mod isee_cmd;
pub mod keys;
pub mod logging;
pub mod paths;
pub mod sandbox_cmd;
pub mod sidi_cmd;
