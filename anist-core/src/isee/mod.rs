//! ISEE (Indicatore della Situazione Economica Equivalente) for local
//! authorities: exact money, the kinds of ISEE, the records INPS returns and
//! their XML, DSU validity, the `PrestazioneDaErogare` codes, who may use
//! which INPS e-service, and the bonus asilo nido bands.
//!
//! - Money: [`Euro`] (integer cents) and [`Scala`] (the scala di
//!   equivalenza, in ten-thousandths); never floating point.
//! - [`IseeKind`]: ordinario, corrente, minorenni, universitario,
//!   socio-sanitario (residenziale), ristretto, dottorato, others by name.
//! - [`parse_indicatore`] / [`parse_attestazione`] read the inner documents
//!   of the SOAP answers (namespace `http://inps.it/ISEERiforma`, UTF-8 or
//!   ISO-8859-1) into [`Indicatore`] / [`Attestazione`]; the `…_base64`
//!   variants take the base64 text of the SOAP field. Errors:
//!   [`IseeXmlError`].
//! - [`dsu_valid_until`], [`corrente_valid_until`],
//!   [`Attestazione::is_valid_on`], [`Indicatore::is_valid_on`]: validity
//!   (the DSU to 31 December, an ISEE corrente six months), with the date
//!   passed in.
//! - [`PrestazioneDaErogare`]: the 36 benefit codes `A1.01` … `Z9.99`.
//! - [`eligibility`] / [`check_eligibility`]: [`IpaCategory`] ×
//!   [`IseeService`] per INPS message 3269/2025.
//! - [`bonus_nido_max_annual`]: 3,000 / 2,500 / 1,500 € by ISEE minorenni;
//!   [`bonus_nido_applies`]: only for children under three.
//!
//! Personal data: `Debug` of every record masks codici fiscali and prints
//! names and ISEE values as `<redacted>`; error messages carry neither.
//!
//! ```
//! use anist_core::isee::{check_eligibility, parse_indicatore, IpaCategory, IseeService};
//! use chrono::NaiveDate;
//!
//! check_eligibility(IpaCategory::Comune, IseeService::IndicatoreResidenti)?;
//! let ind = parse_indicatore(br#"<Indicatore xmlns="http://inps.it/ISEERiforma"
//!     TipoIndicatore="Minorenne" ISEE="24999.99" DataPresentazione="2026-01-12"
//!     ProtocolloDSU="INPS-ISEE-2026-00000042K-00"/>"#)?;
//! let today = NaiveDate::from_ymd_opt(2026, 11, 23).ok_or("date")?;
//! assert!(ind.is_valid_on(today));
//! let bonus = anist_core::isee::bonus_nido_max_annual(Some(ind.isee()));
//! assert_eq!(bonus.to_string(), "3.000,00 €");
//! assert!(!format!("{ind:?}").contains("24999"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bonus;
mod eligibility;
mod kind;
mod money;
mod outcome;
mod prestazioni;
mod record;
mod write;
mod xml;

pub use bonus::{
    bonus_nido_applies, bonus_nido_for, bonus_nido_max_annual, BONUS_NIDO_FIRST_BAND_LIMIT,
    BONUS_NIDO_MAX_AGE, BONUS_NIDO_SECOND_BAND_LIMIT,
};
pub use eligibility::{
    check_eligibility, eligibility, Eligibility, EligibilityRule, IpaCategory, IseeService,
    NotEligible, Requirement, ServiceFamily,
};
pub use kind::IseeKind;
pub use money::{Euro, EuroError, MachineEuro, MachineScala, Scala, ScalaError};
pub use outcome::RowOutcome;
pub use prestazioni::{PrestazioneDaErogare, PrestazioneError, StatoDomanda};
pub use record::{
    corrente_valid_until, dsu_valid_until, Attestazione, Beneficiario, Calcolo, ComponenteNucleo,
    ComponenteNucleoRistretto, Corrente, Discordanza, Esito, Indicatore, IseeEntry, IseeValues,
    OmissioneDifformita, Rapporto, Ricerca, RicercaKind, Variazione,
};
pub use write::{entry_section, write_attestazione, write_indicatore, ISEE_NAMESPACE};
pub use xml::{
    decode_base64, parse_attestazione, parse_attestazione_base64, parse_indicatore,
    parse_indicatore_base64, IseeXmlError, MAX_DEPTH, MAX_ELEMENTS, MAX_XML_BYTES,
};
