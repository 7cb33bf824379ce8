//! Any bytes given to the ANPR 3002 answer and request readers give a value
//! or an error with a known code, never a panic; a parsed answer's outcome
//! and a parsed request's validation never panic either.
#![no_main]

use anist_core::anpr::soap3002::{parse_richiesta, parse_risposta};
use anist_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

const CODES: [&str; 6] = [
    "anpr_soap_ehr41",
    "anpr_soap_ehr67",
    "anpr_soap_ehr68",
    "anpr_soap_invalid_field",
    "anpr_soap_error",
    "anpr_soap_xml",
];

fuzz_target!(|data: &[u8]| {
    match parse_risposta(data) {
        Ok(r) => {
            let _ = format!("{r:?}");
            if let Err(e) = r.esito() {
                assert!(CODES.contains(&e.code()), "{e:?}");
            }
        }
        Err(e) => {
            assert!(CODES.contains(&e.code()), "{e:?}");
            let _ = e.to_string();
        }
    }
    if let Ok((_, r)) = parse_richiesta(data) {
        if let Err(e) = r.validate() {
            assert!(CODES.contains(&e.code()), "{e:?}");
        }
    }
});
