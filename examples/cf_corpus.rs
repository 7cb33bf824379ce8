//! Writes a synthetic benchmark corpus of codici fiscali, one per line, to
//! standard output: 80% valid, 5% omocodic, 15% invalid of several kinds.
//!
//! Run: `cargo run --release --example cf_corpus -- 1000000 > /tmp/cf-1m.txt`
//! (optional second argument: the seed, default 2026).
#![allow(clippy::print_stderr)]

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use anist::core::synthetic::mixed_corpus;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let n = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(2026);
    let mut out = BufWriter::new(io::stdout().lock());
    for code in mixed_corpus(n, seed) {
        if writeln!(out, "{code}").is_err() {
            eprintln!("cannot write to standard output");
            return ExitCode::FAILURE;
        }
    }
    if out.flush().is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
