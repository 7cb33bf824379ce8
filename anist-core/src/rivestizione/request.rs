//! A request's life: the states of notice 002 and the one transition rule,
//! with the Anagrafe's approval policy (explicit, or silent assent after a
//! delay).
//!
//! ```text
//! submit ──▶ awaiting_approval ──approve / silent assent──▶ approved ──start──▶ processing ──complete──▶ done ──purge──▶ expired
//!                   │                                                               │
//!                   └──reject──▶ rejected                                           └──fail──▶ failed
//! ```
//!
//! Nothing reaches ANPR before `approved`; `rejected`, `failed` and
//! `expired` are final; a crashed worker finds its request `processing`
//! and resumes it (`start` again is allowed there).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::RivestizioneError;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Recorded; waiting for the Anagrafe's approval (explicit, or silent
    /// assent when its delay passes).
    AwaitingApproval,
    /// Approved: the worker will process it.
    Approved,
    /// The worker is asking ANPR.
    Processing,
    /// Every subject has its outcome; the files can be downloaded.
    Done,
    /// The Anagrafe rejected it (with a reason).
    Rejected,
    /// It could not be processed (with a code).
    Failed,
    /// Done, and its files were purged after the retention time.
    Expired,
}

impl State {
    /// Every state.
    pub const ALL: [State; 7] = [
        State::AwaitingApproval,
        State::Approved,
        State::Processing,
        State::Done,
        State::Rejected,
        State::Failed,
        State::Expired,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::AwaitingApproval => "awaiting_approval",
            State::Approved => "approved",
            State::Processing => "processing",
            State::Done => "done",
            State::Rejected => "rejected",
            State::Failed => "failed",
            State::Expired => "expired",
        }
    }

    /// Reads a stable name back.
    pub fn parse(s: &str) -> Option<Self> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// The clerk's words.
    pub fn label(self) -> &'static str {
        match self {
            State::AwaitingApproval => "in attesa di convalida",
            State::Approved => "convalidata",
            State::Processing => "in elaborazione",
            State::Done => "completata",
            State::Rejected => "rifiutata",
            State::Failed => "non riuscita",
            State::Expired => "scaduta (file eliminati)",
        }
    }

    /// Whether nothing more can happen to the request.
    pub fn is_final(self) -> bool {
        matches!(self, State::Rejected | State::Failed | State::Expired)
    }
}

/// What happens to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A TOP approves it.
    Approve,
    /// The silent-assent delay passed.
    SilentAssent,
    /// A TOP rejects it.
    Reject,
    /// The worker takes it (or takes it again after a crash).
    Start,
    /// Every subject has its outcome.
    Complete,
    /// It cannot be processed.
    Fail,
    /// Its files are purged after the retention time.
    Purge,
}

impl Event {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Approve => "approve",
            Event::SilentAssent => "silent_assent",
            Event::Reject => "reject",
            Event::Start => "start",
            Event::Complete => "complete",
            Event::Fail => "fail",
            Event::Purge => "purge",
        }
    }
}

/// The one transition rule.
///
/// # Errors
/// [`RivestizioneError::State`] when `event` cannot happen in `from`
/// (e.g. approving a rejected request, starting one not approved).
pub fn transition(from: State, event: Event) -> Result<State, RivestizioneError> {
    use Event as E;
    use State as S;
    let to = match (from, event) {
        (S::AwaitingApproval, E::Approve | E::SilentAssent) => S::Approved,
        (S::AwaitingApproval, E::Reject) => S::Rejected,
        (S::Approved | S::Processing, E::Start) => S::Processing,
        (S::Approved | S::Processing, E::Fail) => S::Failed,
        (S::Processing, E::Complete) => S::Done,
        (S::Done, E::Purge) => S::Expired,
        _ => {
            return Err(RivestizioneError::State {
                state: from.as_str(),
                event: event.as_str(),
            })
        }
    };
    Ok(to)
}

/// How the Anagrafe approves requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// A TOP user approves (or rejects) each request.
    Manual,
    /// Approved automatically when the delay passes without a decision
    /// (silenzio assenso); a TOP may still decide before.
    SilentAssent {
        /// The delay, in seconds.
        after_seconds: u64,
    },
}

impl Approval {
    /// Silent assent after `delay`.
    pub fn silent_assent(delay: Duration) -> Self {
        Approval::SilentAssent {
            after_seconds: delay.as_secs(),
        }
    }

    /// When a request submitted at `submitted` is approved by silent
    /// assent (`None`: never, under manual approval).
    pub fn assent_at(self, submitted: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Approval::Manual => None,
            Approval::SilentAssent { after_seconds } => {
                let delay = chrono::Duration::seconds(i64::try_from(after_seconds).ok()?);
                submitted.checked_add_signed(delay)
            }
        }
    }

    /// Whether a request submitted at `submitted` and still awaiting
    /// approval at `now` is approved by silent assent.
    pub fn assents(self, submitted: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.assent_at(submitted).is_some_and(|at| now >= at)
    }
}
