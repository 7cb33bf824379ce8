//! ANIST attendance records (verifica and accertamento frequenze) and the
//! compulsory-education outcome of one minor.
//!
//! Wire field names are those of protocol.md §8 (observed in production);
//! the verification request/response and the school year field follow the
//! documented assumptions U8–U9 until the official OpenAPI is available.
//!
//! ```
//! use anist_core::attendance::{EsitoFrequenza, Frequenza};
//! let json = r#"{"frequentante":true,"codiceIstitutoPrincipale":"RMIC81500N",
//!   "codiceMeccanografico":"RMEE81501P","annoCorso":"3","esitoFrequenza":1}"#;
//! let f: Frequenza = serde_json::from_str(json).unwrap();
//! assert_eq!(f.esito_frequenza, Some(EsitoFrequenza::Frequentante));
//! assert_eq!(f.anno_corso, Some(3));
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::meccanografico::CodiceMeccanografico;
use crate::school::{ObligationStatus, SchoolYear};

/// The `esitoFrequenza` code of ANIST. Unknown codes are kept, not rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EsitoFrequenza {
    /// 1 — attending.
    Frequentante,
    /// 2 — not attending.
    NonFrequentante,
    /// 3 — attending, in another anno di corso than expected.
    FrequentanteAltroAnnoCorso,
    /// 4 — no longer attending (withdrawn, dropped out, transferred abroad…).
    NonPiuFrequentante,
    /// Any other code, kept as received.
    Unknown(i64),
}

impl EsitoFrequenza {
    /// From the wire code.
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => Self::Frequentante,
            2 => Self::NonFrequentante,
            3 => Self::FrequentanteAltroAnnoCorso,
            4 => Self::NonPiuFrequentante,
            other => Self::Unknown(other),
        }
    }

    /// The wire code.
    pub fn code(self) -> i64 {
        match self {
            Self::Frequentante => 1,
            Self::NonFrequentante => 2,
            Self::FrequentanteAltroAnnoCorso => 3,
            Self::NonPiuFrequentante => 4,
            Self::Unknown(c) => c,
        }
    }

    /// Whether the pupil attends school (codes 1 and 3).
    pub fn is_attending(self) -> bool {
        matches!(self, Self::Frequentante | Self::FrequentanteAltroAnnoCorso)
    }

    /// The Italian label used by the Portale Enti.
    pub fn label(self) -> &'static str {
        match self {
            Self::Frequentante => "Frequentante",
            Self::NonFrequentante => "Non Frequentante",
            Self::FrequentanteAltroAnnoCorso => "Frequentante su altro anno corso",
            Self::NonPiuFrequentante => "Non più Frequentante",
            Self::Unknown(_) => "Esito sconosciuto",
        }
    }
}

impl fmt::Display for EsitoFrequenza {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(c) => write!(f, "Esito sconosciuto ({c})"),
            other => f.write_str(other.label()),
        }
    }
}

/// An integer that the wire may send as a number or as a string of digits.
#[derive(Deserialize)]
#[serde(untagged)]
enum IntOrString {
    Int(i64),
    Str(String),
}

impl IntOrString {
    fn value(self) -> Option<i64> {
        match self {
            IntOrString::Int(i) => Some(i),
            IntOrString::Str(s) => s.trim().parse().ok(),
        }
    }
}

impl Serialize for EsitoFrequenza {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for EsitoFrequenza {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IntOrString::deserialize(d)?
            .value()
            .map(Self::from_code)
            .ok_or_else(|| serde::de::Error::custom("esitoFrequenza is not an integer"))
    }
}

fn de_anno_corso<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    match Option::<IntOrString>::deserialize(d)? {
        None => Ok(None),
        Some(v) => match v.value() {
            Some(n) => u8::try_from(n)
                .map(Some)
                .map_err(|_| serde::de::Error::custom("annoCorso out of range")),
            // An empty or non-numeric annoCorso is treated as absent.
            None => Ok(None),
        },
    }
}

/// The answer of the verification service (verifica frequenze): attending or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verifica {
    /// Whether the pupil attends.
    pub frequentante: bool,
    /// The detailed code, when the service sends it (assumption U8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esito_frequenza: Option<EsitoFrequenza>,
}

/// The detailed attendance record (accertamento frequenze). School names and
/// codes are not personal data; the record holds no codice fiscale.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Frequenza {
    /// Verdict, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequentante: Option<bool>,
    /// Codice meccanografico of the istituzione (sede di direttivo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_istituto_principale: Option<String>,
    /// Name of the istituzione.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deno_istituto_principale: Option<String>,
    /// Codice meccanografico of the plesso (punto di erogazione).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codice_meccanografico: Option<String>,
    /// Name of the plesso.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominazione_plesso: Option<String>,
    /// Percorso di studi (free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percorso_studi: Option<String>,
    /// Anno di corso (class year); sent as a number or a string.
    #[serde(
        default,
        deserialize_with = "de_anno_corso",
        skip_serializing_if = "Option::is_none"
    )]
    pub anno_corso: Option<u8>,
    /// The attendance code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esito_frequenza: Option<EsitoFrequenza>,
    /// The school year of the record (not observed on the wire yet: optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anno_scolastico: Option<SchoolYear>,
}

impl Frequenza {
    /// The istituto principale's code, if present and well formed.
    pub fn istituto(&self) -> Option<CodiceMeccanografico> {
        self.codice_istituto_principale
            .as_deref()
            .and_then(|c| CodiceMeccanografico::parse(c).ok())
    }

    /// The plesso's code, if present and well formed.
    pub fn plesso(&self) -> Option<CodiceMeccanografico> {
        self.codice_meccanografico
            .as_deref()
            .and_then(|c| CodiceMeccanografico::parse(c).ok())
    }

    /// Whether the record says the pupil attends: the esito when present,
    /// otherwise the `frequentante` flag.
    pub fn is_attending(&self) -> Option<bool> {
        self.esito_frequenza
            .map(EsitoFrequenza::is_attending)
            .or(self.frequentante)
    }
}

/// The last attendance status of a pupil in a given school year (current or
/// previous), as the "last status" services return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UltimoStato {
    /// The school year the status refers to.
    pub anno_scolastico: SchoolYear,
    /// The record.
    #[serde(flatten)]
    pub frequenza: Frequenza,
}

/// What a registry call gave for one pupil. "No data" is an answer, not an
/// error; a failed call is never taken for "not attending".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    /// The service was not asked (e.g. not needed).
    NotAsked,
    /// The service answered with data.
    Found(T),
    /// The service answered that it has no data for the pupil.
    NotFound,
    /// The call failed: stable error code and a message without personal data.
    Failed {
        /// Stable error code of the failure (e.g. `gateway_refused`, `timeout`).
        code: String,
        /// What happened.
        message: String,
    },
}

/// Why the Comune should look into a minor's situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckReason {
    /// ANIST says the minor does not attend.
    NotAttending,
    /// ANIST says the minor no longer attends (withdrawn or dropped out).
    NoLongerAttending,
    /// ANIST answered with an esito code this library does not know.
    UnknownEsito(i64),
    /// The verification and the detailed record disagree.
    Inconsistent,
}

impl CheckReason {
    /// A stable snake-case code.
    pub fn code(self) -> &'static str {
        match self {
            CheckReason::NotAttending => "not_attending",
            CheckReason::NoLongerAttending => "no_longer_attending",
            CheckReason::UnknownEsito(_) => "unknown_esito",
            CheckReason::Inconsistent => "inconsistent",
        }
    }
}

/// The compulsory-education outcome of one minor: what the bulk workflow reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplianceOutcome {
    /// ANIST says the minor attends school.
    Compliant {
        /// The detailed record, when it was asked for.
        record: Option<Frequenza>,
    },
    /// To be checked by the Comune. ANIST says the minor does not attend, but
    /// home schooling (istruzione parentale), non-paritaria schools, regional
    /// vocational training (IeFP) and schools abroad are not fully in ANIST:
    /// this is not a finding of non-compliance.
    ToBeChecked {
        /// Why.
        reason: CheckReason,
        /// The detailed record, when there is one.
        record: Option<Frequenza>,
    },
    /// ANIST has no data about the minor.
    NotInAnist,
    /// The minor is not subject to compulsory education this school year.
    NotObliged {
        /// Where the minor stands.
        status: ObligationStatus,
    },
    /// The codice fiscale is invalid: nothing was asked.
    InvalidCode {
        /// The stable `cf_*` error code.
        code: String,
    },
    /// A call failed or nothing was asked: the outcome is unknown.
    Error {
        /// Stable error code.
        code: String,
        /// What happened.
        message: String,
    },
}

impl ComplianceOutcome {
    /// A stable snake-case name: `compliant`, `to_be_checked`, `not_in_anist`,
    /// `not_obliged`, `invalid_code`, `error`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ComplianceOutcome::Compliant { .. } => "compliant",
            ComplianceOutcome::ToBeChecked { .. } => "to_be_checked",
            ComplianceOutcome::NotInAnist => "not_in_anist",
            ComplianceOutcome::NotObliged { .. } => "not_obliged",
            ComplianceOutcome::InvalidCode { .. } => "invalid_code",
            ComplianceOutcome::Error { .. } => "error",
        }
    }

    /// The Italian label a clerk reads (the CSV's `esito`): see
    /// [`outcome_label`].
    pub fn label(&self) -> &'static str {
        outcome_label(self.as_str())
    }

    /// The detailed record attached to the outcome, if any.
    pub fn record(&self) -> Option<&Frequenza> {
        match self {
            ComplianceOutcome::Compliant { record }
            | ComplianceOutcome::ToBeChecked { record, .. } => record.as_ref(),
            _ => None,
        }
    }
}

/// The Italian label of an outcome's stable code
/// ([`ComplianceOutcome::as_str`]): `compliant` → `in regola`,
/// `to_be_checked` → `da verificare`, `not_in_anist` → `non presente in
/// ANIST`, `not_obliged` → `non soggetto all'obbligo`, `invalid_code` →
/// `codice non valido`, `error` → `errore`. Another text is returned as
/// `errore` too (a code this version does not know).
///
/// ```
/// use anist_core::attendance::outcome_label;
/// assert_eq!(outcome_label("to_be_checked"), "da verificare");
/// assert_eq!(outcome_label("compliant"), "in regola");
/// ```
pub fn outcome_label(code: &str) -> &'static str {
    match code {
        "compliant" => "in regola",
        "to_be_checked" => "da verificare",
        "not_in_anist" => "non presente in ANIST",
        "not_obliged" => "non soggetto all'obbligo",
        "invalid_code" => "codice non valido",
        _ => "errore",
    }
}

/// The Italian label of a [`CheckReason::code`] (`not_attending` → `non
/// frequenta`, `no_longer_attending` → `non frequenta più`,
/// `unknown_esito` → `esito ANIST sconosciuto`, `inconsistent` →
/// `verifica e accertamento discordanti`); `None` for another code (an
/// error code, kept as it is).
pub fn check_reason_label(code: &str) -> Option<&'static str> {
    match code {
        "not_attending" => Some("non frequenta"),
        "no_longer_attending" => Some("non frequenta più"),
        "unknown_esito" => Some("esito ANIST sconosciuto"),
        "inconsistent" => Some("verifica e accertamento discordanti"),
        _ => None,
    }
}

/// `si` / `no`: a yes/no value in a clerk's CSV.
pub fn si_no(value: bool) -> &'static str {
    if value {
        "si"
    } else {
        "no"
    }
}

/// What is known about one minor, to decide the outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinorCheck {
    /// `Err(code)` when the codice fiscale is invalid (stable `cf_*` code).
    pub code_validity: Result<(), String>,
    /// The obligation status for the school year, when the birth date is
    /// known (`None` e.g. for an 11-digit provisional code without a birth
    /// date: the minor is then checked).
    pub obligation: Option<ObligationStatus>,
    /// The verification answer.
    pub verification: Lookup<Verifica>,
    /// The detailed record (accertamento), for the school year examined.
    pub record: Lookup<Frequenza>,
}

fn reason_of(esito: Option<EsitoFrequenza>) -> CheckReason {
    match esito {
        Some(EsitoFrequenza::NonPiuFrequentante) => CheckReason::NoLongerAttending,
        Some(EsitoFrequenza::Unknown(c)) => CheckReason::UnknownEsito(c),
        _ => CheckReason::NotAttending,
    }
}

/// Combines obligation status, verification and detailed record into the
/// outcome of one minor. Pure: the order of the rules is the documentation.
///
/// 1. an invalid code is `InvalidCode`; a minor outside the obligation is `NotObliged`;
/// 2. a failed call is `Error` (never "not attending"), unless the other
///    service already answered conclusively;
/// 3. a detailed record decides when present: attending (esito 1 or 3) is
///    `Compliant`; 2, 4 or an unknown code is `ToBeChecked`; a record that
///    says "attending" while the verification says "not attending" (or the
///    reverse) is `ToBeChecked` as `Inconsistent`;
/// 4. otherwise the verification decides: attending is `Compliant`, not
///    attending is `ToBeChecked`, no data is `NotInAnist`;
/// 5. nothing asked is `Error` with code `anist_not_checked`.
pub fn compliance_outcome(check: &MinorCheck) -> ComplianceOutcome {
    if let Err(code) = &check.code_validity {
        return ComplianceOutcome::InvalidCode { code: code.clone() };
    }
    if let Some(status) = check.obligation {
        if !status.is_compulsory() {
            return ComplianceOutcome::NotObliged { status };
        }
    }
    let verdict = match &check.verification {
        Lookup::Found(v) => Some(
            v.esito_frequenza
                .map_or(v.frequentante, EsitoFrequenza::is_attending),
        ),
        _ => None,
    };
    let conclusive = verdict.is_some()
        || matches!(check.verification, Lookup::NotFound)
        || matches!(check.record, Lookup::NotFound);
    match (&check.verification, &check.record) {
        (_, Lookup::Found(found)) => {
            let attending = found.is_attending();
            let reason = reason_of(found.esito_frequenza);
            let record = Some(found.clone());
            match (attending, verdict) {
                (Some(a), Some(v)) if a != v => ComplianceOutcome::ToBeChecked {
                    reason: CheckReason::Inconsistent,
                    record,
                },
                (Some(true), _) => ComplianceOutcome::Compliant { record },
                (Some(false), _) => ComplianceOutcome::ToBeChecked { reason, record },
                (None, Some(true)) => ComplianceOutcome::Compliant { record },
                (None, _) => ComplianceOutcome::ToBeChecked {
                    reason: CheckReason::NotAttending,
                    record,
                },
            }
        }
        (Lookup::Failed { code, message }, _) | (_, Lookup::Failed { code, message })
            if !conclusive =>
        {
            ComplianceOutcome::Error {
                code: code.clone(),
                message: message.clone(),
            }
        }
        (Lookup::Found(v), _) => {
            if verdict == Some(true) {
                ComplianceOutcome::Compliant { record: None }
            } else {
                ComplianceOutcome::ToBeChecked {
                    reason: reason_of(v.esito_frequenza),
                    record: None,
                }
            }
        }
        (Lookup::NotFound, _) | (_, Lookup::NotFound) => ComplianceOutcome::NotInAnist,
        _ => ComplianceOutcome::Error {
            code: String::from("anist_not_checked"),
            message: String::from("neither the verification nor the detailed record was asked"),
        },
    }
}

/// Where one pupil of a bulk check stands, from the answers collected so
/// far ([`decide_row`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowDecision {
    /// The verification says "not attending": ascertain both years.
    pub need_ascertain: bool,
    /// The outcome, once every needed answer is in.
    pub outcome: Option<ComplianceOutcome>,
    /// The record to show, and whether it is the previous year's.
    pub shown: Option<(Frequenza, bool)>,
    /// The checked year's record, when ascertained and found.
    pub current: Option<Frequenza>,
    /// The verification, when found.
    pub verifica: Option<Verifica>,
}

/// Whether a record names a school (istituto or plesso).
fn has_school(f: &Frequenza) -> bool {
    [&f.codice_istituto_principale, &f.codice_meccanografico]
        .into_iter()
        .any(|c| c.as_deref().is_some_and(|c| !c.trim().is_empty()))
}

/// The record shown beside an outcome: the checked year's when it says
/// the pupil attends or names a school (e.g. the school left, esito 4);
/// otherwise (no record, or "not attending" with no school) the previous
/// year's, when there is one, so that the clerk sees where the pupil was
/// last; otherwise the checked year's. The bool says "previous year's".
pub fn shown_record(
    cur: Option<&Frequenza>,
    prev: Option<&Frequenza>,
) -> Option<(Frequenza, bool)> {
    match (cur, prev) {
        (Some(c), _) if c.is_attending() == Some(true) || has_school(c) => Some((c.clone(), false)),
        (_, Some(p)) => Some((p.clone(), true)),
        (Some(c), None) => Some((c.clone(), false)),
        (None, None) => None,
    }
}

/// The bulk check's rule for one pupil (`None`: not answered yet):
/// verification first; the two ascertainments (checked year and previous
/// year) only when it says "not attending"; the checked year's record
/// decides with the verification ([`compliance_outcome`]); the record shown
/// is [`shown_record`]'s. The outcome is `None` until every needed answer
/// is in.
pub fn decide_row(
    verify: Option<Lookup<Verifica>>,
    cur: Option<Lookup<Frequenza>>,
    prev: Option<Lookup<Frequenza>>,
) -> RowDecision {
    let mut d = RowDecision {
        need_ascertain: false,
        outcome: None,
        shown: None,
        current: None,
        verifica: None,
    };
    let Some(verification) = verify else {
        return d;
    };
    if let Lookup::Found(v) = &verification {
        d.verifica = Some(v.clone());
        d.need_ascertain = !v
            .esito_frequenza
            .map_or(v.frequentante, EsitoFrequenza::is_attending);
    }
    let record = if d.need_ascertain {
        let (Some(cur), Some(prev)) = (cur, prev) else {
            return d;
        };
        let found = |l: &Lookup<Frequenza>| match l {
            Lookup::Found(f) => Some(f.clone()),
            _ => None,
        };
        d.current = found(&cur);
        d.shown = shown_record(d.current.as_ref(), found(&prev).as_ref());
        cur
    } else {
        Lookup::NotAsked
    };
    d.outcome = Some(compliance_outcome(&MinorCheck {
        code_validity: Ok(()),
        obligation: None,
        verification,
        record,
    }));
    d
}
