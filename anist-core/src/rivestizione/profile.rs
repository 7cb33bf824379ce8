//! A user's profile: the data sets of ANPR's Tabella 16 they may obtain,
//! and whose residents they may ask about.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::RivestizioneError;
use crate::anpr::dati::DatoRichiesto;

/// Whose residents a user may ask about (the Anagrafe's choice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Residents of the user's own Comune and of the convenzionati only.
    Convenzionati,
    /// Residents of all Italy (ANPR's `ricercaNazionale`).
    Italia,
}

impl Scope {
    /// The stable name (`convenzionati`, `italia`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Convenzionati => "convenzionati",
            Scope::Italia => "italia",
        }
    }

    /// Reads a name back (any case, blanks around).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "convenzionati" | "comuni" | "locale" => Some(Scope::Convenzionati),
            "italia" | "nazionale" | "tutta_italia" => Some(Scope::Italia),
            _ => None,
        }
    }

    /// The clerk's words.
    pub fn label(self) -> &'static str {
        match self {
            Scope::Convenzionati => "residenti dei Comuni convenzionati",
            Scope::Italia => "residenti in tutta Italia",
        }
    }
}

/// The data sets a user may obtain and the residents they may ask about.
/// A request asks a profile too: never more than its user's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Profile {
    /// The data sets (Tabella 16 rows). `SchedaCompleta` includes every
    /// other set.
    pub data: BTreeSet<DatoRichiesto>,
    /// Whose residents.
    pub scope: Scope,
}

impl Profile {
    /// A profile of `data` and `scope`.
    pub fn new(data: impl IntoIterator<Item = DatoRichiesto>, scope: Scope) -> Self {
        Self {
            data: data.into_iter().collect(),
            scope,
        }
    }

    /// The empty profile (a user registered and not yet profiled: may
    /// obtain nothing).
    pub fn none() -> Self {
        Self::new([], Scope::Convenzionati)
    }

    /// Whether the profile grants `dato`.
    pub fn grants(&self, dato: DatoRichiesto) -> bool {
        self.data.contains(&dato) || self.data.contains(&DatoRichiesto::SchedaCompleta)
    }

    /// `Ok` when `other` asks nothing this profile does not grant.
    ///
    /// # Errors
    /// [`RivestizioneError::ProfileExceeded`] naming the first data set, or
    /// the scope, beyond this profile.
    pub fn check_within(&self, other: &Profile) -> Result<(), RivestizioneError> {
        if let Some(d) = other.data.iter().find(|d| !self.grants(**d)) {
            return Err(RivestizioneError::ProfileExceeded {
                what: d.label().to_owned(),
            });
        }
        if other.scope > self.scope {
            return Err(RivestizioneError::ProfileExceeded {
                what: other.scope.label().to_owned(),
            });
        }
        Ok(())
    }

    /// Parses a list of data sets (Tabella 16 codes or names, separated by
    /// `,` `;` or blanks), e.g. `generalita, residenza` or `2 10`.
    ///
    /// # Errors
    /// [`RivestizioneError::Dato`] with the text that is not a row.
    pub fn parse_data(text: &str) -> Result<BTreeSet<DatoRichiesto>, RivestizioneError> {
        text.split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<DatoRichiesto>()
                    .map_err(|_| RivestizioneError::Dato {
                        given: s.chars().take(40).collect(),
                    })
            })
            .collect()
    }
}
