//! Any bytes given as an ANPR massive download (gzip or plain) give
//! elements or an error with a known code, never a panic; the
//! reconciliation gives one outcome per identifier sent.
#![no_main]

use anist_core::anpr::massive::{leggi_download, riconcilia, MassiveError, TipoRicerca};
use anist_core::ErrorCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match leggi_download(data) {
        Ok(els) => {
            let sent = ["AA00000AA", "RSSMRA80A01H501U"];
            for tipo in [TipoRicerca::CodiceFiscale, TipoRicerca::IdAnpr] {
                assert_eq!(riconcilia(tipo, &sent, &els).len(), sent.len());
            }
        }
        Err(e) => {
            assert!(MassiveError::CODES.contains(&e.code()), "{e:?}");
            let _ = e.to_string();
        }
    }
});
