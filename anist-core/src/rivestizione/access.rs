//! Who may do what: the roles of notice 002 and the one authorisation rule.
//!
//! | action | TOP | ADMIN | STANDARD |
//! |---|---|---|---|
//! | register a user | any ente, any role | own ente, STANDARD only | no |
//! | set a user's profile | anyone's | own ente's STANDARD users, within the ADMIN's own profile | no |
//! | submit a request | no | no | yes, within the own profile |
//! | approve / reject a request | yes | no | no |
//! | see a request's status | every request | own ente's | own only |
//! | download a request's files | no | no | own only |
//! | report (statistics) | everything | own ente | no |
//! | configure (approval, retention, Comuni) | yes | no | no |
//!
//! A disabled user may do nothing. Downloading is the requester's alone:
//! the files hold the subjects' personal data, and the monitoring roles
//! see the requests' state and figures, not the data.

use serde::{Deserialize, Serialize};

use super::profile::Profile;
use super::RivestizioneError;

/// A role of the rivestizione module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Anagrafe operator: registers and profiles users, approves, monitors
    /// and reports on everything (amministratore di primo livello).
    Top,
    /// Appointed by a TOP for one ente fruitore: registers and profiles
    /// that ente's users, monitors and reports on them (secondo livello).
    Admin,
    /// An office operator: submits requests.
    Standard,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 3] = [Role::Top, Role::Admin, Role::Standard];

    /// The stable name (`top`, `admin`, `standard`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Top => "top",
            Role::Admin => "admin",
            Role::Standard => "standard",
        }
    }

    /// Reads a name back (any case, blanks around).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s))
    }

    /// The clerk's word.
    pub fn label(self) -> &'static str {
        match self {
            Role::Top => "TOP (Anagrafe)",
            Role::Admin => "ADMIN (ente fruitore)",
            Role::Standard => "STANDARD",
        }
    }
}

/// What an authorisation is asked about: the acting user, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor<'a> {
    /// The user's id.
    pub user: &'a str,
    /// The user's role.
    pub role: Role,
    /// The ente (ufficio, organismo fruitore) the user belongs to.
    pub ente: &'a str,
    /// Whether the user is enabled.
    pub active: bool,
    /// The user's profile.
    pub profile: &'a Profile,
}

/// Whose data an action touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<'a> {
    /// Register a user of `ente` with `role`.
    RegisterUser {
        /// The new user's ente.
        ente: &'a str,
        /// The new user's role.
        role: Role,
    },
    /// Give `user` (of `ente`, with `role`) the `profile`; also enabling
    /// or disabling them.
    SetProfile {
        /// The user changed.
        user: &'a str,
        /// That user's ente.
        ente: &'a str,
        /// That user's role.
        role: Role,
        /// The new profile.
        profile: &'a Profile,
    },
    /// Submit a request asking `asked` (within the actor's profile).
    Submit {
        /// What the request asks.
        asked: &'a Profile,
    },
    /// Approve or reject a request.
    Decide,
    /// See a request's state and figures.
    View {
        /// Who submitted it.
        owner: &'a str,
        /// Their ente.
        ente: &'a str,
    },
    /// Download a request's response files.
    Download {
        /// Who submitted it.
        owner: &'a str,
    },
    /// Statistics and reports: of one ente, or of everything (`None`).
    Report {
        /// The ente reported on; `None`: every ente.
        ente: Option<&'a str>,
    },
    /// Change the installation's settings (approval policy, retention,
    /// enti and Comuni).
    Configure,
}

impl Action<'_> {
    /// The stable name, for errors and the audit trail.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::RegisterUser { .. } => "register_user",
            Action::SetProfile { .. } => "set_profile",
            Action::Submit { .. } => "submit",
            Action::Decide => "decide",
            Action::View { .. } => "view",
            Action::Download { .. } => "download",
            Action::Report { .. } => "report",
            Action::Configure => "configure",
        }
    }
}

/// Whether `actor` may do `action`: `Ok`, or the reason in the error
/// ([`RivestizioneError::Denied`], or [`RivestizioneError::ProfileExceeded`]
/// when a request or a granted profile asks more than allowed).
///
/// # Errors
/// As above; the message says what the user may do instead.
pub fn authorize(actor: &Actor<'_>, action: &Action<'_>) -> Result<(), RivestizioneError> {
    let deny = |reason: &'static str| {
        Err(RivestizioneError::Denied {
            action: action.as_str(),
            reason,
        })
    };
    if !actor.active {
        return deny("l'utente è disabilitato: chiedi all'Anagrafe di riabilitarlo");
    }
    match (actor.role, action) {
        (Role::Top, Action::RegisterUser { .. }) => Ok(()),
        (Role::Admin, Action::RegisterUser { ente, role }) => {
            if *ente != actor.ente {
                deny("un ADMIN registra solo gli utenti del proprio ente")
            } else if *role != Role::Standard {
                deny("un ADMIN registra solo utenti STANDARD: gli ADMIN li nomina l'Anagrafe (TOP)")
            } else {
                Ok(())
            }
        }
        (Role::Top, Action::SetProfile { .. }) => Ok(()),
        (
            Role::Admin,
            Action::SetProfile {
                ente,
                role,
                profile,
                ..
            },
        ) => {
            if *ente != actor.ente {
                deny("un ADMIN profila solo gli utenti del proprio ente")
            } else if *role != Role::Standard {
                deny("un ADMIN profila solo utenti STANDARD")
            } else {
                actor.profile.check_within(profile)
            }
        }
        (Role::Standard, Action::Submit { asked }) => actor.profile.check_within(asked),
        (_, Action::Submit { .. }) => {
            deny("le richieste le invia un utente STANDARD: TOP e ADMIN controllano")
        }
        (Role::Top, Action::Decide | Action::Configure) => Ok(()),
        (_, Action::Decide) => deny("convalida e rifiuto spettano all'Anagrafe (TOP)"),
        (_, Action::Configure) => deny("le impostazioni spettano all'Anagrafe (TOP)"),
        (Role::Top, Action::View { .. }) => Ok(()),
        (Role::Admin, Action::View { ente, .. }) if *ente == actor.ente => Ok(()),
        (Role::Admin, Action::View { .. }) => {
            deny("un ADMIN vede solo le richieste del proprio ente")
        }
        (Role::Standard, Action::View { owner, .. }) if *owner == actor.user => Ok(()),
        (Role::Standard, Action::View { .. }) => deny("ogni utente vede solo le proprie richieste"),
        (_, Action::Download { owner }) if *owner == actor.user => Ok(()),
        (_, Action::Download { .. }) => {
            deny("i file di risposta li scarica solo chi ha fatto la richiesta")
        }
        (Role::Top, Action::Report { .. }) => Ok(()),
        (Role::Admin, Action::Report { ente: Some(e) }) if *e == actor.ente => Ok(()),
        (Role::Admin, Action::Report { .. }) => {
            deny("un ADMIN fa i rendiconti solo del proprio ente")
        }
        (Role::Standard, Action::Report { .. }) => deny("i rendiconti spettano a TOP e ADMIN"),
        (_, Action::RegisterUser { .. } | Action::SetProfile { .. }) => {
            deny("registrazione e profilazione degli utenti spettano a TOP e ADMIN")
        }
    }
}
