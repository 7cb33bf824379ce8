//! The E002 codecs, one per e-service: the exact request bytes and the
//! interpretation of the answer ([`anist_core::anpr::esito::interpreta`]).
//! All share `POST <url>/anpr-service-e002` and the same envelope; they
//! differ by `casoUso` and by the blocks of the answer.

use anist_core::anpr::e002::{
    CasoUso, CriteriRicerca, DatiRichiesta, IdOperazioneClient, RichiestaE002,
};
use anist_core::anpr::esito::{interpreta, E002Error, Esito};

/// The operation, relative to the e-service URL.
pub const PATH: &str = "anpr-service-e002";
/// The health operation (`GET`, no `Agid-JWT-Signature`).
pub const STATUS_PATH: &str = "status";

/// The exact request body of `richiesta`.
pub fn encode(richiesta: &RichiestaE002) -> Vec<u8> {
    // Serialising plain strings into JSON cannot fail.
    serde_json::to_vec(richiesta).unwrap_or_default()
}

/// Builds a request for `caso`.
pub fn request(
    caso: CasoUso,
    id: IdOperazioneClient,
    criteri: CriteriRicerca,
    data: chrono::NaiveDate,
    motivo: &str,
) -> Result<RichiestaE002, E002Error> {
    Ok(RichiestaE002::new(
        id,
        criteri,
        DatiRichiesta::new(data, motivo, caso)?,
    ))
}

/// Reads an answer.
///
/// # Errors
/// [`E002Error`] for ANPR's errors and unreadable answers.
pub fn decode(status: u16, body: &[u8]) -> Result<Esito, E002Error> {
    interpreta(status, body)
}

macro_rules! service_codec {
    ($name:ident, $caso:ident, $doc:literal) => {
        #[doc = $doc]
        pub mod $name {
            use super::*;

            /// Its `casoUso`.
            pub const CASO_USO: CasoUso = CasoUso::$caso;

            /// The request for `criteri` on `data` for `motivo`.
            ///
            /// # Errors
            /// [`E002Error::MotivoMissing`] for a blank `motivo`.
            pub fn request(
                id: IdOperazioneClient,
                criteri: CriteriRicerca,
                data: chrono::NaiveDate,
                motivo: &str,
            ) -> Result<RichiestaE002, E002Error> {
                super::request(CASO_USO, id, criteri, data, motivo)
            }

            /// Reads its answer.
            ///
            /// # Errors
            /// As [`super::decode`].
            pub fn decode(status: u16, body: &[u8]) -> Result<Esito, E002Error> {
                super::decode(status, body)
            }
        }
    };
}

service_codec!(
    c030,
    C030,
    "C030 — codice fiscale → ID ANPR (`identificativi.idANPR` only)."
);
service_codec!(
    c015,
    C015,
    "C015 — accertamento generalità (`generalita`, `identificativi`)."
);
service_codec!(c020, C020, "C020 — accertamento residenza (`residenza[]`).");
service_codec!(
    c021,
    C021,
    "C021 — stato di famiglia (one `datiSoggetto` per member, with `legameSoggetto`)."
);
