//! ANPR (*Anagrafe Nazionale della Popolazione Residente*): the ID ANPR and
//! the pure side of the E002 e-services over PDND.
//!
//! - [`IdAnpr`]: the 9-character national identifier;
//! - [`e002`]: the wire types of `POST …/anpr-service-e002`
//!   (`RichiestaE002`, `RispostaE002OK`, `RispostaKO`), field names exactly
//!   as in the public OpenAPI files;
//! - [`dati`]: ANPR's *Tabella 16 — dati richiesti*;
//! - [`soap3002`]: the Comune's SOAP channel, service 3002, search by
//!   identity document (not over PDND);
//! - [`esito`]: the interpretation of an answer (found subjects, "not found"
//!   as an outcome, warnings, ANPR's error codes as distinct errors);
//! - [`massive`]: the massive e-services' request and download, and the
//!   reconciliation of what was sent with what came back.
//!
//! No I/O here: the client (`anist_client::anpr`) sends and receives the
//! bytes.

pub mod dati;
pub mod e002;
pub mod esito;
mod id;
pub mod massive;
pub mod soap3002;

pub use id::{luhn36_check_char, AnprError, IdAnpr, ID_ANPR_LEN};

/// Masks a personal value for `Debug`: its first two characters, then `***`.
pub(crate) fn mask(value: &str) -> String {
    let head: String = value.chars().take(2).collect();
    format!("{head}***")
}
