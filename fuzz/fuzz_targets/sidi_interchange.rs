//! Arbitrary bytes into the SIDI interchange readers (JSON and CSV). The
//! first byte picks the reader; the rest is the file.
//!
//! Asserts: no panic; a snapshot read is compared with an empty local
//! database without panic, and what the writers write back reads back the
//! same.
#![no_main]

use anist_client::sidi::interchange::{read_csv, read_json, write_csv, write_json};
use anist_core::sidi::{self, LocalSchool};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, file)) = data.split_first() else {
        return;
    };
    let read = if which & 1 == 0 {
        read_json(file)
    } else {
        read_csv(file)
    };
    let Ok(read) = read else { return };
    let plan = sidi::diff(&LocalSchool::default(), &read.snapshot);
    let mut local = LocalSchool::default();
    sidi::apply(&mut local, &plan);
    assert!(sidi::changes(&local, &plan).0.is_empty());
    let mut json = Vec::new();
    write_json(&read.snapshot, &mut json).unwrap();
    assert_eq!(read_json(&json).unwrap().snapshot, read.snapshot);
    let mut csv = Vec::new();
    if write_csv(&read.snapshot, &mut csv).is_ok() {
        let _ = read_csv(&csv[..]);
    }
});
