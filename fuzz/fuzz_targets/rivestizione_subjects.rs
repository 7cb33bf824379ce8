//! Any bytes given as a rivestizione request file give subjects and bad
//! rows, or an error with a stable code, never a panic; every subject
//! re-parses to itself, appears once, and never shows in `Debug`.
#![no_main]

use std::collections::HashSet;

use anist_core::rivestizione::{read_subjects, SubjectId};
use anist_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match read_subjects(data) {
        Ok(file) => {
            let mut seen = HashSet::new();
            for s in &file.subjects {
                assert!(seen.insert(s.id), "a subject twice");
                assert_eq!(SubjectId::parse(s.id.kind(), s.id.value()), Ok(s.id));
                let shown = format!("{:?}", s.id);
                assert!(!shown.contains(s.id.value()) || s.id.value().len() < 4, "{shown}");
            }
            for b in &file.bad {
                assert!(!b.code.is_empty());
            }
        }
        Err(e) => {
            assert!(
                e.code().starts_with("csv_") || e.code().starts_with("rivestizione_"),
                "{e:?}"
            );
            let _ = e.to_string();
        }
    }
});
