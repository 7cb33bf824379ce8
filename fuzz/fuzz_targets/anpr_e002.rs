//! Any bytes given as an ANPR E002 answer (with any status) give an
//! outcome or an error with a known code, never a panic.
#![no_main]

use anist_core::anpr::esito::{interpreta, E002Error};
use anist_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for status in [200u16, 400, 404, 500] {
        match interpreta(status, data) {
            Ok(esito) => {
                let _ = format!("{esito:?}");
            }
            Err(e) => {
                assert!(E002Error::CODES.contains(&e.code()), "{e:?}");
                let _ = e.to_string();
            }
        }
    }
});
