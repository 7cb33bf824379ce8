//! Writes a synthetic municipal-style CSV of people to standard output:
//! `Cognome;Nome;Codice Fiscale;Data di nascita;Comune di nascita`, as
//! Italian Excel saves "CSV (delimitato dal separatore di elenco)":
//! Windows-1252, `;`, CRLF. Accented names (`Nicolò`, `Zoë`, `Nuñez`) are in
//! 1252; about 7% of the codes and 1% of the dates are invalid on purpose
//! (see `anist_core::csvio::synthetic::write_people`). Never real people.
//!
//! Run: `cargo run --release --example csv_corpus -- 1000000 > /tmp/people-1m.csv`
//! (optional second argument: the seed, default 2026; third: `utf8` for
//! UTF-8 with BOM instead of Windows-1252). The counts written go to
//! standard error.
#![allow(clippy::print_stderr)]

use std::io::{self, BufWriter};
use std::process::ExitCode;

use anist::core::csvio::synthetic::write_people;
use anist::core::csvio::{CsvWriter, Encoding, Unmappable, WriterOptions};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let rows = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed = args.next().and_then(|a| a.parse().ok()).unwrap_or(2026);
    let encoding = match args.next().as_deref() {
        Some("utf8") => Encoding::Utf8,
        _ => Encoding::Windows1252,
    };
    let opts = WriterOptions::excel()
        .encoding(encoding)
        .unmappable(Unmappable::Substitute);
    let out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut w = CsvWriter::new(out, opts);
    let summary = match write_people(&mut w, rows, seed) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot write: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = w.into_inner().and_then(|mut o| {
        io::Write::flush(&mut o)?;
        Ok(())
    }) {
        eprintln!("cannot write: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "{} rows: {} invalid codici fiscali, {} empty, {} birth dates that do not exist",
        summary.rows, summary.invalid_cf, summary.empty_cf, summary.invalid_dates
    );
    ExitCode::SUCCESS
}
