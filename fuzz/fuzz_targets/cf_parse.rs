//! Any bytes given to the codice fiscale parsers give Ok or an error with a
//! known code, never a panic; whatever parses is stable under re-parsing.
#![no_main]

use anist_core::cf::{AnyCodiceFiscale, CodiceFiscale};
use anist_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match CodiceFiscale::parse_bytes(data) {
        Ok(cf) => {
            let again = CodiceFiscale::parse(cf.as_str()).expect("a parsed code re-parses");
            assert_eq!(again, cf);
            let canonical = cf.canonical();
            assert_eq!(CodiceFiscale::parse(canonical.as_str()).map(|c| c.canonical()), Ok(canonical));
        }
        Err(e) => assert!(e.code().starts_with("cf_")),
    }
    if let Err(e) = AnyCodiceFiscale::parse_bytes(data) {
        assert!(e.code().starts_with("cf_"));
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = CodiceFiscale::parse_formal(s);
    }
});
