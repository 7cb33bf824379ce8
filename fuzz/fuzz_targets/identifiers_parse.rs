//! The other identifier parsers on arbitrary UTF-8: never a panic.
#![no_main]

use anist_core::anpr::IdAnpr;
use anist_core::documents::{DocumentKind, DocumentNumber};
use anist_core::dsu::DsuProtocol;
use anist_core::meccanografico::CodiceMeccanografico;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(id) = IdAnpr::parse(&s) {
        let _ = id.probable_check_ok();
    }
    if let Ok(m) = CodiceMeccanografico::parse(&s) {
        let _ = (m.check_status(), m.school_kind(), m.role());
    }
    for kind in DocumentKind::ALL {
        let _ = DocumentNumber::parse(kind, &s);
    }
    let _ = DocumentNumber::classify(&s);
    let _ = DsuProtocol::parse(&s);
});
