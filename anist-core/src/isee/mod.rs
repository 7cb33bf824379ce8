//! ISEE (Indicatore della Situazione Economica Equivalente) for local
//! authorities.
//!
//! - Money: [`Euro`] (integer cents) and [`Scala`] (the scala di
//!   equivalenza, in ten-thousandths); never floating point.
//! - [`IseeKind`]: ordinario, corrente, minorenni, universitario,
//!   socio-sanitario (residenziale), ristretto, dottorato, others by name.
//! - [`PrestazioneDaErogare`]: the 36 benefit codes `A1.01` … `Z9.99`.
//! - [`eligibility`] / [`check_eligibility`]: [`IpaCategory`] ×
//!   [`IseeService`] per INPS message 3269/2025.
//! - [`bonus_nido_max_annual`]: 3,000 / 2,500 / 1,500 € by ISEE minorenni.

mod bonus;
mod eligibility;
mod kind;
mod money;
mod prestazioni;

pub use bonus::{bonus_nido_max_annual, BONUS_NIDO_FIRST_BAND_LIMIT, BONUS_NIDO_SECOND_BAND_LIMIT};
pub use eligibility::{
    check_eligibility, eligibility, Eligibility, EligibilityRule, IpaCategory, IseeService,
    NotEligible, Requirement, ServiceFamily,
};
pub use kind::IseeKind;
pub use money::{Euro, EuroError, MachineEuro, MachineScala, Scala, ScalaError};
pub use prestazioni::{PrestazioneDaErogare, PrestazioneError, StatoDomanda};
