//! The registry of 0–3 services: the five types, the authorisation act, and
//! the Comune's declarations.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::serde_time;
use super::InfanziaError;

/// The five types of 0–3 service in Piemonte (L.R. 18/2017 art. 18,
/// transitional list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceType {
    /// Asilo nido (25–75 posti).
    AsiloNido,
    /// Micro-nido (up to 24 posti).
    MicroNido,
    /// Sezione primavera (in a nido, micro-nido or scuola dell'infanzia).
    SezionePrimavera,
    /// Nido in famiglia (including the former Agri-TATA).
    NidoInFamiglia,
    /// Centro di custodia oraria (baby parking, spazio gioco).
    CentroCustodiaOraria,
}

impl ServiceType {
    /// Every type.
    pub const ALL: [ServiceType; 5] = [
        ServiceType::AsiloNido,
        ServiceType::MicroNido,
        ServiceType::SezionePrimavera,
        ServiceType::NidoInFamiglia,
        ServiceType::CentroCustodiaOraria,
    ];

    /// The stable code: `asilo_nido`, `micro_nido`, `sezione_primavera`,
    /// `nido_in_famiglia`, `centro_custodia_oraria`.
    pub fn code(self) -> &'static str {
        match self {
            ServiceType::AsiloNido => "asilo_nido",
            ServiceType::MicroNido => "micro_nido",
            ServiceType::SezionePrimavera => "sezione_primavera",
            ServiceType::NidoInFamiglia => "nido_in_famiglia",
            ServiceType::CentroCustodiaOraria => "centro_custodia_oraria",
        }
    }

    /// The Italian name, for people.
    pub fn label(self) -> &'static str {
        match self {
            ServiceType::AsiloNido => "Asilo nido",
            ServiceType::MicroNido => "Micro-nido",
            ServiceType::SezionePrimavera => "Sezione primavera",
            ServiceType::NidoInFamiglia => "Nido in famiglia",
            ServiceType::CentroCustodiaOraria => "Centro di custodia oraria",
        }
    }

    /// Reads a type as clerks write it: the code or the Italian name, any
    /// case, with blanks, `-` or `_` ("Micro nido", "MICRO-NIDO",
    /// "baby parking", "Agri-TATA").
    ///
    /// # Errors
    ///
    /// [`InfanziaError::ServiceType`] for anything else.
    pub fn parse(input: &str) -> Result<Self, InfanziaError> {
        let k: String = crate::csvio::fold_header(input)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let t = match k.as_str() {
            "asilonido" | "nido" | "nidodinfanzia" | "nidoinfanzia" => ServiceType::AsiloNido,
            "micronido" => ServiceType::MicroNido,
            "sezioneprimavera" | "primavera" => ServiceType::SezionePrimavera,
            "nidoinfamiglia" | "agritata" => ServiceType::NidoInFamiglia,
            "centrodicustodiaoraria" | "centrocustodiaoraria" | "babyparking" | "spaziogioco" => {
                ServiceType::CentroCustodiaOraria
            }
            _ => {
                return Err(InfanziaError::ServiceType {
                    found: input.chars().take(40).collect(),
                })
            }
        };
        Ok(t)
    }

    /// The capacity range of the type in posti, when the regional rules
    /// give one (asilo nido 25–75, micro-nido 1–24).
    pub fn capacity_range(self) -> Option<(u32, u32)> {
        match self {
            ServiceType::AsiloNido => Some((25, 75)),
            ServiceType::MicroNido => Some((1, 24)),
            _ => None,
        }
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The act (provvedimento) that authorised the service to operate: every
/// change to the registry must match the latest one, so its reference is
/// recorded with the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorisationAct {
    /// The reference of the act as written on it (e.g. "Det. n. 12/2024").
    pub reference: String,
    /// The date of the act (the authorisation date).
    #[serde(with = "serde_time::date")]
    pub date: NaiveDate,
}

/// One 0–3 service of the Comune's registry. Names, addresses and managers
/// are those of services and their operators (not of children).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// The service's identifier in the regional registry (or one the Comune
    /// gives to a service it adds).
    pub id: String,
    /// The type.
    pub kind: ServiceType,
    /// The name (denominazione).
    pub name: String,
    /// The address.
    pub address: String,
    /// The manager (ente gestore).
    pub manager: String,
    /// Authorised capacity, in posti.
    pub capacity: u32,
    /// The latest authorisation act (the registry data must match it).
    pub authorisation: AuthorisationAct,
    /// The date the service was first authorised, when a later act (a
    /// change of capacity, of manager…) replaced the first one; `None`:
    /// the latest act is the first.
    #[serde(default, with = "serde_time::opt_date")]
    pub first_authorisation: Option<NaiveDate>,
    /// When the service started operating, if known (else the
    /// authorisation date is taken).
    #[serde(default, with = "serde_time::opt_date")]
    pub activation: Option<NaiveDate>,
    /// Added by the Comune ("AGGIUNGI SERVIZIO"), not preloaded by the
    /// Region.
    #[serde(default)]
    pub added_by_comune: bool,
}

impl Service {
    /// The date the service was first authorised: `first_authorisation`,
    /// else the date of the (only) act.
    pub fn authorised_since(&self) -> NaiveDate {
        self.first_authorisation.unwrap_or(self.authorisation.date)
    }

    /// The day the service is both authorised and active: the later of
    /// [`authorised_since`](Self::authorised_since) and the activation
    /// date.
    pub fn operating_since(&self) -> NaiveDate {
        let since = self.authorised_since();
        match self.activation {
            Some(a) if a > since => a,
            _ => since,
        }
    }
}

/// What the Comune declares about a service instead of an average, as of
/// the survey's start date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "declaration", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Declaration {
    /// CESSATO: closed by a formal act of cessation.
    Cessato {
        /// The reference of the act of cessation (required).
        act: String,
    },
    /// SOSPESO: temporarily not active, with no act of cessation.
    Sospeso {
        /// An optional note.
        #[serde(default)]
        note: String,
    },
    /// NON RAGGIUNTO: authorised and active but not put forward for the
    /// funds (not interested in public funding, no written agreement with
    /// the Comune…).
    NonRaggiunto {
        /// Why (mandatory, non-empty: the form cannot be sent without it).
        reason: String,
    },
}

impl Declaration {
    /// A CESSATO declaration.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::CessationActMissing`] when `act` is blank.
    pub fn cessato(act: &str) -> Result<Self, InfanziaError> {
        let act = act.trim();
        if act.is_empty() {
            return Err(InfanziaError::CessationActMissing);
        }
        Ok(Declaration::Cessato {
            act: act.to_owned(),
        })
    }

    /// A SOSPESO declaration (the note may be empty).
    pub fn sospeso(note: &str) -> Self {
        Declaration::Sospeso {
            note: note.trim().to_owned(),
        }
    }

    /// A NON RAGGIUNTO declaration.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::ReasonMissing`] when `reason` is blank.
    pub fn non_raggiunto(reason: &str) -> Result<Self, InfanziaError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(InfanziaError::ReasonMissing);
        }
        Ok(Declaration::NonRaggiunto {
            reason: reason.to_owned(),
        })
    }

    /// The stable code: `CESSATO`, `SOSPESO`, `NON_RAGGIUNTO`.
    pub fn code(&self) -> &'static str {
        match self {
            Declaration::Cessato { .. } => "CESSATO",
            Declaration::Sospeso { .. } => "SOSPESO",
            Declaration::NonRaggiunto { .. } => "NON_RAGGIUNTO",
        }
    }

    /// The label on the form: `CESSATO`, `SOSPESO`, `NON RAGGIUNTO`.
    pub fn label(&self) -> &'static str {
        match self {
            Declaration::Cessato { .. } => "CESSATO",
            Declaration::Sospeso { .. } => "SOSPESO",
            Declaration::NonRaggiunto { .. } => "NON RAGGIUNTO",
        }
    }

    /// The act, note or reason that goes with it.
    pub fn detail(&self) -> &str {
        match self {
            Declaration::Cessato { act } => act,
            Declaration::Sospeso { note } => note,
            Declaration::NonRaggiunto { reason } => reason,
        }
    }

    /// Builds a declaration from its code (`CESSATO`, `SOSPESO`,
    /// `NON_RAGGIUNTO` or `NON RAGGIUNTO`, any case) and its detail.
    ///
    /// # Errors
    ///
    /// [`InfanziaError::DeclarationKind`], or the errors of the
    /// constructors.
    pub fn parse(kind: &str, detail: &str) -> Result<Self, InfanziaError> {
        let k: String = kind
            .trim()
            .to_ascii_uppercase()
            .chars()
            .filter(|c| c.is_ascii_alphabetic())
            .collect();
        match k.as_str() {
            "CESSATO" | "CESSAZIONE" => Self::cessato(detail),
            "SOSPESO" | "SOSPENSIONE" => Ok(Self::sospeso(detail)),
            "NONRAGGIUNTO" | "NONRAGGIUNGIMENTO" => Self::non_raggiunto(detail),
            _ => Err(InfanziaError::DeclarationKind {
                found: kind.chars().take(40).collect(),
            }),
        }
    }
}
