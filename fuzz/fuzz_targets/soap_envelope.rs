//! Any bytes given to the INPS ISEE SOAP readers (answer, request, fault)
//! give a value or an error with a known code, never a panic; a request
//! that reads is written back and reads the same.
#![no_main]

use anist_client::call::GatewayProblem;
use anist_client::isee::soap::{
    parse_fault, parse_request, parse_response, write_request, SoapError,
};
use anist_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fn check<T: std::fmt::Debug>(r: Result<T, SoapError>) -> Option<T> {
    match r {
        Ok(v) => {
            let _ = format!("{v:?}");
            Some(v)
        }
        Err(e) => {
            assert!(SoapError::CODES.contains(&e.code()), "{e:?}");
            let _ = e.to_string();
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    check(parse_response(data));
    if let Some(req) = check(parse_request(data)) {
        let again = parse_request(&write_request(&req));
        assert_eq!(
            again.ok().map(|r| (r.search, r.domanda)),
            Some((req.search, req.domanda))
        );
    }
    let _ = parse_fault(data);
    let _ = GatewayProblem::parse(503, [("Content-Type", "text/xml")], data);
});
