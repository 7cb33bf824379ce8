//! What the `anist anpr` commands (`cerca`, `documento`, `massiva`) share:
//! where the calls go, and how the screen text shows a subject's data
//! (masked unless `--show-data`).

use std::fmt::Write as _;
use std::path::PathBuf;

use anist_client::audit::{AuditError, AuditLog};
use chrono::NaiveDate;

/// The arguments every `anist anpr` command shares: where the calls go
/// (the in-process sandbox, or PDND / ANPR with a configuration), the audit
/// trail every lookup is recorded in and the store of the operation ids.
#[derive(clap::Args, Debug, Clone)]
pub struct AnprTarget {
    /// The audit database every call is recorded in (its secret is
    /// `<audit>.key`).
    #[arg(long, default_value = "anist-audit.sqlite")]
    pub audit: PathBuf,
    /// The store of the ANPR operation ids (idOperazioneClient /
    /// idOperazioneComune), shared by every run and process of the ente.
    #[arg(long, default_value = "anist-anpr-ids.sqlite")]
    pub ids: PathBuf,
    /// The configuration file: call PDND and ANPR (the `[anpr_soap]`
    /// section for `documento`).
    #[arg(long, conflicts_with = "seed")]
    pub config: Option<PathBuf>,
    /// Seed of the in-process sandbox (the default without --config).
    #[arg(long)]
    pub seed: Option<u64>,
}

impl AnprTarget {
    /// Opens the audit trail (its secret `<audit>.key`, created on first
    /// use).
    ///
    /// # Errors
    /// [`AuditError`] when it cannot be opened.
    pub fn open_audit(&self) -> Result<AuditLog, AuditError> {
        AuditLog::open_beside(&self.audit)
    }
}

/// `s`, or its first two characters and `***` unless `show`.
pub(crate) fn mask(s: &str, show: bool) -> String {
    if show {
        return s.to_string();
    }
    let head: String = s.chars().take(2).collect();
    format!("{head}***")
}

/// An ANPR date (`YYYY-MM-DD`) as `dd/mm/yyyy`, or `**/**/yyyy` unless `show`.
pub(crate) fn date_it(s: &str, show: bool) -> String {
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) if show => d.format("%d/%m/%Y").to_string(),
        Ok(d) => d.format("**/**/%Y").to_string(),
        Err(_) => mask(s, show),
    }
}

const W: usize = 22;

/// One `label: value` line of the screen text.
pub(crate) fn line(out: &mut String, label: &str, value: &str) {
    let _ = writeln!(out, "  {label:<W$}{value}");
}
