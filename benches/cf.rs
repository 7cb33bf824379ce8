//! Codice fiscale throughput over a generated 1M corpus (80% valid, 5%
//! omocodic, 15% invalid of several kinds), one thread.
//!
//! Run: `cargo bench --bench cf`. Figures are in `benches/README.md`.

use anist::cli::cf::{check_lines, CheckOptions};
use anist_core::cf::{CodiceFiscale, MostRecentNotFuture};
use anist_core::synthetic::mixed_corpus;
use chrono::NaiveDate;
use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use std::sync::OnceLock;

const N: usize = 1_000_000;

fn corpus() -> &'static [String] {
    static C: OnceLock<Vec<String>> = OnceLock::new();
    C.get_or_init(|| mixed_corpus(N, 2026))
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default()
}

fn main() {
    divan::main();
}

/// All four tiers: format, check character, date, place known.
#[divan::bench(sample_count = 20)]
fn strict_validation(b: Bencher) {
    let c = corpus();
    b.counter(ItemsCount::new(c.len())).bench(|| {
        c.iter()
            .filter(|s| CodiceFiscale::parse(black_box(s)).is_ok())
            .count()
    });
}

/// Strict validation plus the advisory "place existed at the birth date".
#[divan::bench(sample_count = 20)]
fn validation_with_place_at_date(b: Bencher) {
    let c = corpus();
    let policy = MostRecentNotFuture::new(today());
    b.counter(ItemsCount::new(c.len())).bench(|| {
        c.iter()
            .filter(|s| {
                CodiceFiscale::parse(black_box(s)).is_ok_and(|cf| cf.place_plausible(&policy))
            })
            .count()
    });
}

/// Parse and decode every field (sex, birth date with century, place code, omocodia).
#[divan::bench(sample_count = 20)]
fn decode(b: Bencher) {
    let c = corpus();
    let policy = MostRecentNotFuture::new(today());
    b.counter(ItemsCount::new(c.len())).bench(|| {
        let mut acc = 0u64;
        for s in c {
            if let Ok(cf) = CodiceFiscale::parse(black_box(s)) {
                let date = cf.birth_date(&policy);
                acc += u64::from(cf.sex() as u8)
                    + date.map_or(0, |d| d.to_epoch_days() as u64)
                    + u64::from(cf.belfiore_code().as_bytes()[1])
                    + u64::from(cf.omocodia_level());
            }
        }
        acc
    });
}

/// The `anist cf check` job on the corpus as a 1M-line file in memory.
#[divan::bench(sample_count = 10)]
fn cf_check_job(b: Bencher) {
    let c = corpus();
    let mut input = Vec::with_capacity(c.len() * 17);
    for s in c {
        input.extend_from_slice(s.as_bytes());
        input.push(b'\n');
    }
    let opts = CheckOptions::new(today());
    let mut out = Vec::with_capacity(c.len() * 80);
    b.counter(ItemsCount::new(c.len())).bench_local(|| {
        out.clear();
        check_lines(black_box(&input[..]), &mut out, &opts).map(|s| s.valid)
    });
}
