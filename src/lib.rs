//! anist: Italian school, welfare and population registries over PDND.
//!
//! This facade re-exports the workspace crates so that one dependency gives
//! the whole toolkit.

pub use anist_core as core;
