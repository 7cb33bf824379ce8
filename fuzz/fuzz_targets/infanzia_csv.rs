//! Arbitrary bytes into the 0-3 survey's tolerant readers: the services
//! registry and the attendance registers (both shapes), then the form built
//! from them is checked, computed and exported.
//!
//! Asserts: no panic and termination; every error row has a line; the
//! registry's services reach the form; the check and the exports of any
//! form that was read do not fail.
#![no_main]

use anist_client::infanzia::{form_json, read_registers, read_registry, summary_text, write_form_csv};
use anist_core::infanzia::{Form, SurveyConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let registry = read_registry(data);
    let registers = read_registers(data);
    let Ok(registry) = registry else {
        return;
    };
    for e in &registry.errors {
        assert!(e.line > 0 || e.code.starts_with("csv_"));
    }
    let n = registry.services.len();
    let mut form = Form::new("Fuzz", SurveyConfig::piemonte_2026(), registry.services);
    assert_eq!(form.services.len(), n);
    if let Ok(r) = registers {
        let _ = r.apply(&mut form);
    }
    let _ = form.check();
    let _ = form_json(&form);
    let _ = summary_text(&form);
    write_form_csv(&form, Vec::new()).expect("writing to memory");
});
