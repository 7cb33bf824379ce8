//! Any bytes given to the INPS ISEE document parsers give a record or an
//! error with a known code, never a panic; the base64 entry points likewise.
#![no_main]

use anist_core::isee::{
    parse_attestazione, parse_attestazione_base64, parse_indicatore, parse_indicatore_base64,
    IseeXmlError,
};
use anist_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fn check<T: std::fmt::Debug>(r: Result<T, IseeXmlError>) {
    match r {
        Ok(v) => {
            // Debug of a record must not panic either.
            let _ = format!("{v:?}");
        }
        Err(e) => {
            assert!(IseeXmlError::CODES.contains(&e.code()), "{e:?}");
            let _ = e.to_string();
            let _ = e.position();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(parse_attestazione(data));
    check(parse_indicatore(data));
    if let Ok(text) = std::str::from_utf8(data) {
        check(parse_attestazione_base64(text));
        check(parse_indicatore_base64(text));
    }
});
