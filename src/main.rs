//! The `anist` command-line tool.
fn main() {}
