//! Tolerant CSV throughput over a generated 1M-row file, one thread.
//!
//! The file is what Italian Excel saves: Windows-1252, `;`, CRLF, columns
//! `Cognome;Nome;Codice Fiscale;Data di nascita;Comune di nascita`, with
//! accented names in 1252 and some invalid codes and dates
//! (`anist_core::csvio::synthetic::write_people(1_000_000, seed 2026)`), held
//! in memory so that the disk is not measured.
//!
//! Run: `cargo bench --bench csv`. Figures are in `benches/README.md`.

use std::sync::OnceLock;

use anist::cli::csv::{inspect, InspectOptions};
use anist_core::cf::CodiceFiscale;
use anist_core::csvio::synthetic::write_people;
use anist_core::csvio::{
    parse_date_it, CsvReader, CsvWriter, Encoding, Field, ReadOutcome, Row, Unmappable,
    WriterOptions,
};
use divan::counter::{BytesCount, ItemsCount};
use divan::{black_box, Bencher};

const N: u64 = 1_000_000;

fn options(encoding: Encoding) -> WriterOptions {
    WriterOptions::excel()
        .encoding(encoding)
        .unmappable(Unmappable::Substitute)
}

fn generate(encoding: Encoding) -> Vec<u8> {
    let mut w = CsvWriter::new(Vec::with_capacity(80 << 20), options(encoding));
    let _ = write_people(&mut w, N, 2026);
    w.into_inner().unwrap_or_default()
}

/// The file as Italian Excel writes it: Windows-1252.
fn file_1252() -> &'static [u8] {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| generate(Encoding::Windows1252))
}

/// The same people in UTF-8 with BOM.
fn file_utf8() -> &'static [u8] {
    static F: OnceLock<Vec<u8>> = OnceLock::new();
    F.get_or_init(|| generate(Encoding::Utf8))
}

fn main() {
    divan::main();
}

/// Read, decode and validate every row: `CodiceFiscale::parse` on the code
/// column and `parse_date_it` on the birth-date column.
fn validate(data: &[u8]) -> (u64, u64) {
    let Ok(mut reader) = CsvReader::new(data) else {
        return (0, 0);
    };
    let cf = reader.headers().index(Field::CodiceFiscale).unwrap_or(0);
    let born = reader.headers().index(Field::BirthDate).unwrap_or(0);
    let mut row = Row::new();
    let (mut valid_cf, mut valid_dates) = (0, 0);
    while let Ok(outcome) = reader.read_row(&mut row) {
        match outcome {
            ReadOutcome::Row => {
                valid_cf += u64::from(CodiceFiscale::parse(row.get(cf).unwrap_or("")).is_ok());
                valid_dates += u64::from(parse_date_it(row.get(born).unwrap_or("")).is_ok());
            }
            ReadOutcome::Bad(_) => {}
            ReadOutcome::End => break,
        }
    }
    (valid_cf, valid_dates)
}

/// The target: ≥ 1 M rows/s on one thread.
#[divan::bench(sample_count = 10)]
fn read_decode_validate_1252(b: Bencher) {
    let data = file_1252();
    b.counter(ItemsCount::new(N))
        .bench(|| validate(black_box(data)));
}

/// The same in UTF-8 with BOM.
#[divan::bench(sample_count = 10)]
fn read_decode_validate_utf8(b: Bencher) {
    let data = file_utf8();
    b.counter(ItemsCount::new(N))
        .bench(|| validate(black_box(data)));
}

/// Reading and decoding alone (Windows-1252), no validation.
#[divan::bench(sample_count = 10)]
fn read_decode_1252(b: Bencher) {
    let data = file_1252();
    b.counter(BytesCount::new(data.len())).bench(|| {
        let Ok(mut reader) = CsvReader::new(black_box(data)) else {
            return 0;
        };
        let mut row = Row::new();
        let mut fields = 0;
        while let Ok(ReadOutcome::Row) = reader.read_row(&mut row) {
            fields += row.len();
        }
        fields
    });
}

/// The whole `anist csv inspect` job (code and date checks by error code,
/// header mapping, counts) on the Windows-1252 file.
#[divan::bench(sample_count = 10)]
fn inspect_job_1252(b: Bencher) {
    let data = file_1252();
    let opts = InspectOptions::new();
    b.counter(ItemsCount::new(N))
        .bench(|| inspect(black_box(data), &opts).map(|r| r.rows));
}

/// Writing 1M rows (100,000 rows of the file, ten times), Italian-Excel
/// profile in Windows-1252.
#[divan::bench(sample_count = 10)]
fn write_excel_1252(b: Bencher) {
    let rows: Vec<Vec<String>> = CsvReader::new(file_1252())
        .map(|mut r| {
            r.rows()
                .take(100_000)
                .filter_map(Result::ok)
                .map(|row| row.to_vec())
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::with_capacity(80 << 20);
    b.counter(ItemsCount::new(N)).bench_local(|| {
        out.clear();
        let mut w = CsvWriter::new(&mut out, options(Encoding::Windows1252));
        for _ in 0..10 {
            for row in &rows {
                if w.write_row(row).is_err() {
                    break;
                }
            }
        }
        w.into_inner().map(|_| ())
    });
}
