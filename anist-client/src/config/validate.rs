//! The rules that both the session ([`Config::session`]) and the offline
//! checks ([`Config::check`]) apply, written once with their messages.

use crate::ids::ClientId;
use crate::voucher::http::transport_allowed;

#[cfg(doc)]
use super::{Config, ConfigError};

/// `client_id` as a [`ClientId`] (rule `client_id_uuid`), or why it is
/// not one: the reason of the session's [`ConfigError::Invalid`] for
/// `client_id` and the detail of the failed check.
pub(super) fn client_id(text: &str) -> Result<ClientId, String> {
    ClientId::parse(text).map_err(|e| e.to_string())
}

/// `url` if the HTTP clients accept it (rules `url_https` and
/// `service_url_https`): `https://`, plain `http://` only to 127.0.0.1 or
/// localhost.
pub(super) fn transport(url: &str) -> Result<(), NotHttps<'_>> {
    if transport_allowed(url) {
        Ok(())
    } else {
        Err(NotHttps { url })
    }
}

/// A URL [`transport`] refuses, with what the session and the check say
/// of it.
#[derive(Debug, Clone, Copy)]
pub(super) struct NotHttps<'a> {
    url: &'a str,
}

impl NotHttps<'_> {
    /// The reason of the session's [`ConfigError::Invalid`] (the field is
    /// the caller's).
    pub(super) fn reason(&self) -> &'static str {
        "must be https:// (plain http:// only to 127.0.0.1 or localhost)"
    }

    /// The detail of the failed check.
    pub(super) fn detail(&self) -> String {
        format!("{} is not https://", self.url)
    }

    /// The fix of the failed check.
    pub(super) fn fix(&self) -> &'static str {
        "Use the https:// URL (plain http:// is accepted only to 127.0.0.1 or localhost, i.e. the sandbox)."
    }
}
