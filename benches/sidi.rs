//! SIDI synchronisation: the comparison (`anist_core::sidi::diff`) of a
//! 1,500-pupil sandbox school against its drifted local database, and the
//! change set of the automatic apply. One thread.
//!
//! Run: `cargo bench --bench sidi`. Figures are in `benches/README.md`.

use std::sync::OnceLock;

use anist_client::sidi::sandbox::{self, SandboxSchool};
use anist_core::sidi;
use divan::counter::ItemsCount;
use divan::{black_box, Bencher};

const PUPILS: usize = 1_500;

fn school() -> &'static SandboxSchool {
    static S: OnceLock<SandboxSchool> = OnceLock::new();
    S.get_or_init(|| sandbox::generate(2026, PUPILS, 2026))
}

fn main() {
    divan::main();
}

/// The whole comparison: sedi, classi, code tables, 1,500 pupils.
#[divan::bench(sample_count = 20)]
fn diff_1500_pupils(b: Bencher) {
    let s = school();
    b.counter(ItemsCount::new(s.sidi.alunni.len()))
        .bench(|| sidi::diff(black_box(&s.local), black_box(&s.sidi)));
}

/// The writes of the automatic apply of that plan.
#[divan::bench(sample_count = 20)]
fn apply_changes_1500_pupils(b: Bencher) {
    let s = school();
    let plan = sidi::diff(&s.local, &s.sidi);
    b.counter(ItemsCount::new(plan.actions.len()))
        .bench(|| sidi::changes(black_box(&s.local), black_box(&plan)));
}
