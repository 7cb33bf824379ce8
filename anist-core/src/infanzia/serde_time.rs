//! Serde helpers for the chrono types of the form (the workspace's chrono
//! has no serde feature): dates as ISO `YYYY-MM-DD`, instants as RFC 3339
//! UTC (`2026-04-27T10:00:00Z`), Rome wall-clock times as
//! `YYYY-MM-DDTHH:MM`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

pub(crate) mod date {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&d.format("%Y-%m-%d").to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let s = String::deserialize(d)?;
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(D::Error::custom)
    }
}

pub(crate) mod opt_date {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::date::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.filter(|s| !s.trim().is_empty())
            .map(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(D::Error::custom))
            .transpose()
    }
}

pub(crate) mod instant {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(D::Error::custom)
    }
}

pub(crate) mod local {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format("%Y-%m-%dT%H:%M").to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M").map_err(D::Error::custom)
    }
}
