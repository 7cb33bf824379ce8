//! The `anist` command, one module per command (`anist anpr` is
//! [`anpr`], `anist anpr documento` [`anpr_documento`], `anist cf` [`cf`],
//! `anist csv` [`csv`], …), with the helpers they share ([`logging`],
//! [`paths`]).
//!
//! Not a public API: the binary and the crate's own tests use these
//! modules, and their items may change in any release. Programs embed
//! anist through [`anist_client`] and [`anist_core`] (re-exported as
//! `anist::client` and `anist::core`).

pub mod anpr;
pub mod anpr_common;
pub mod anpr_documento;
pub mod anpr_massiva;
pub mod caivano;
pub mod cf;
pub mod config;
pub mod csv;
pub mod frequenza;
pub mod infanzia;
pub mod isee;
pub mod keys;
pub mod logging;
pub mod paths;
pub mod rivestizione;
pub mod sandbox;
pub mod shared;
pub mod sidi;
