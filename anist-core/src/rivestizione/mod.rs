//! The rules of the ANPR *rivestizione* workflow (notice 002), pure: who
//! may do what ([`authorize`]), what a user may obtain ([`Profile`]), how a
//! request moves ([`transition`], [`Approval`]), and whom it asks about
//! ([`SubjectId`], [`read_subjects`]). The store, the worker and the
//! surfaces are anist-client's.
//!
//! ```
//! use anist_core::anpr::dati::DatoRichiesto;
//! use anist_core::rivestizione::{authorize, transition, Action, Actor, Event, Profile, Role, Scope, State};
//!
//! let mine = Profile::new([DatoRichiesto::Generalita, DatoRichiesto::Residenza], Scope::Convenzionati);
//! let clerk = Actor { user: "u1", role: Role::Standard, ente: "polizia-locale", active: true, profile: &mine };
//! let asked = Profile::new([DatoRichiesto::Residenza], Scope::Convenzionati);
//! assert!(authorize(&clerk, &Action::Submit { asked: &asked }).is_ok());
//! let more = Profile::new([DatoRichiesto::Residenza], Scope::Italia);
//! assert!(authorize(&clerk, &Action::Submit { asked: &more }).is_err());
//! assert!(authorize(&clerk, &Action::Decide).is_err());
//!
//! assert_eq!(transition(State::AwaitingApproval, Event::SilentAssent)?, State::Approved);
//! assert!(transition(State::AwaitingApproval, Event::Start).is_err());
//! # Ok::<(), anist_core::rivestizione::RivestizioneError>(())
//! ```

mod access;
mod profile;
mod request;
mod subjects;

pub use access::{authorize, Action, Actor, Role};
pub use profile::{Profile, Scope};
pub use request::{transition, Approval, Event, State};
pub use subjects::{read_subjects, BadRow, SubjectFile, SubjectId, SubjectKind, SubjectRow};

use crate::error::{CodeSamples, ErrorCode, ErrorKind};

/// The longest `motivoRichiesta` (the reference of the practice ANPR
/// requires: protocol, file, report number…).
pub const MOTIVO_MAX_CHARS: usize = 200;

/// Checks a request's `motivoRichiesta`: required, at most
/// [`MOTIVO_MAX_CHARS`] characters, no control characters. Returns it
/// trimmed.
///
/// # Errors
/// [`RivestizioneError::Motivo`].
pub fn check_motivo(motivo: &str) -> Result<&str, RivestizioneError> {
    let m = motivo.trim();
    if m.is_empty() || m.chars().count() > MOTIVO_MAX_CHARS || m.chars().any(char::is_control) {
        Err(RivestizioneError::Motivo)
    } else {
        Ok(m)
    }
}

/// Why a rivestizione action or input is refused. Messages in Italian say
/// what to do; codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RivestizioneError {
    /// The user's role or ente does not allow the action.
    #[error("operazione non consentita ({action}): {reason}")]
    Denied {
        /// The action's stable name.
        action: &'static str,
        /// Why, in Italian.
        reason: &'static str,
    },
    /// A request, or a granted profile, asks more than the profile allows.
    #[error("il profilo non consente {what}: chiedi solo i dati del tuo profilo, o chiedi all'Anagrafe di estenderlo")]
    ProfileExceeded {
        /// The data set or scope beyond the profile, in Italian.
        what: String,
    },
    /// The request cannot move that way from its state.
    #[error("la richiesta è nello stato {state}: l'operazione {event} non è possibile ora")]
    State {
        /// The current state's stable name.
        state: &'static str,
        /// The event's stable name.
        event: &'static str,
    },
    /// A subject's identifier is not valid for its kind.
    #[error("{} non valido ({code}): {message}", read_as.label())]
    Subject {
        /// The kind it was read as.
        read_as: SubjectKind,
        /// The identifier's own stable code (`cf_*`, `anpr_*`, `doc_*`).
        code: &'static str,
        /// That code's kind.
        code_kind: ErrorKind,
        /// The identifier's own message.
        message: String,
    },
    /// The kind column names no known kind.
    #[error(
        "tipo di identificativo {given:?} sconosciuto: scrivi CF, ID_ANPR, CI, PS o PASSAPORTO"
    )]
    SubjectKind {
        /// What the row says (at most 40 characters).
        given: String,
    },
    /// A data set that is not a row of Tabella 16.
    #[error("{given:?} non è un dato della Tabella 16 di ANPR: scrivi un codice 1-30 o un nome come residenza")]
    Dato {
        /// What was given (at most 40 characters).
        given: String,
    },
    /// The request file has none of the layout's columns.
    #[error("il file non ha le colonne \"tipo\" e \"identificativo\", né una colonna \"codice_fiscale\" o \"id_anpr\": usa il tracciato documentato")]
    Columns,
    /// The request file cannot be read.
    #[error("il file della richiesta non si può leggere ({code}): {message}")]
    File {
        /// The reader's code (`csv_*`).
        code: &'static str,
        /// That code's kind.
        code_kind: ErrorKind,
        /// What went wrong.
        message: String,
    },
    /// The `motivoRichiesta` is missing or not usable.
    #[error("indica il motivo della richiesta (numero di protocollo, fascicolo, verbale…), al massimo 200 caratteri")]
    Motivo,
    /// A request without any valid subject.
    #[error("la richiesta non ha nessun soggetto valido: correggi le righe segnalate")]
    Empty,
}

impl ErrorCode for RivestizioneError {
    fn code(&self) -> &'static str {
        match self {
            RivestizioneError::Denied { .. } => "rivestizione_denied",
            RivestizioneError::ProfileExceeded { .. } => "rivestizione_profile",
            RivestizioneError::State { .. } => "rivestizione_state",
            RivestizioneError::Subject { code, .. } | RivestizioneError::File { code, .. } => code,
            RivestizioneError::SubjectKind { .. } => "rivestizione_subject_kind",
            RivestizioneError::Dato { .. } => "rivestizione_dato",
            RivestizioneError::Columns => "rivestizione_file_columns",
            RivestizioneError::Motivo => "rivestizione_motivo",
            RivestizioneError::Empty => "rivestizione_empty",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            RivestizioneError::Denied { .. } | RivestizioneError::ProfileExceeded { .. } => {
                ErrorKind::Denied
            }
            RivestizioneError::State { .. } => ErrorKind::Rivestizione,
            // The identifier's and the reader's own kinds, as their codes.
            RivestizioneError::Subject { code_kind, .. }
            | RivestizioneError::File { code_kind, .. } => *code_kind,
            RivestizioneError::SubjectKind { .. }
            | RivestizioneError::Dato { .. }
            | RivestizioneError::Columns
            | RivestizioneError::Motivo
            | RivestizioneError::Empty => ErrorKind::InvalidArgument,
        }
    }
}

#[doc(hidden)]
impl CodeSamples for RivestizioneError {
    fn samples() -> Vec<Self> {
        vec![
            RivestizioneError::Denied {
                action: "decide",
                reason: "x",
            },
            RivestizioneError::ProfileExceeded {
                what: "residenza".into(),
            },
            RivestizioneError::State {
                state: "rejected",
                event: "approve",
            },
            RivestizioneError::SubjectKind { given: "X".into() },
            RivestizioneError::Dato { given: "99".into() },
            RivestizioneError::Subject {
                read_as: SubjectKind::Passaporto,
                code: "doc_length",
                code_kind: ErrorKind::InvalidArgument,
                message: "x".into(),
            },
            RivestizioneError::Columns,
            RivestizioneError::File {
                code: "csv_empty",
                code_kind: ErrorKind::InvalidArgument,
                message: "x".into(),
            },
            RivestizioneError::Motivo,
            RivestizioneError::Empty,
        ]
    }
}

#[cfg(test)]
mod tests;
