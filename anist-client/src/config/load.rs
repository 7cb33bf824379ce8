//! Reading and parsing `anist.toml`: [`Config::from_toml_str`],
//! [`Config::from_file`], [`Config::load`], and the way back
//! ([`Config::to_toml_string`]).

use std::path::Path;

use super::{process_env, Config, ConfigError};

/// Line and column (1-based) of byte `offset` in `text`, and the last
/// table header before it.
fn locate(text: &str, offset: usize) -> String {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let table = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .and_then(|l| l.split(']').next())
        .map(|l| l.trim_start_matches('['));
    match table {
        Some(t) => format!("line {line}, column {col}, in [{t}]"),
        None => format!("line {line}, column {col}"),
    }
}

impl Config {
    /// Parses TOML text (relative paths then resolve against the current
    /// directory).
    ///
    /// # Errors
    /// [`ConfigError::Parse`] naming the line and the field.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse_named(text, "the configuration")
    }

    fn parse_named(text: &str, file: &str) -> Result<Self, ConfigError> {
        toml::from_str::<Config>(text).map_err(|e| ConfigError::Parse {
            file: file.to_string(),
            location: e.span().map(|s| locate(text, s.start)),
            message: e.message().trim().to_string(),
        })
    }

    /// Reads and parses a file; relative paths in it resolve against its
    /// directory. Environment overrides are not applied ([`Self::load`]
    /// does).
    ///
    /// # Errors
    /// [`ConfigError::Read`], [`ConfigError::Parse`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            file: file.clone(),
            kind: e.kind(),
        })?;
        let mut config = Self::parse_named(&text, &file)?;
        config.origin = Some(path.to_path_buf());
        Ok(config)
    }

    /// [`Self::from_file`], then [`Self::apply_env`] with the process
    /// environment.
    ///
    /// # Errors
    /// As both.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let mut config = Self::from_file(path)?;
        config.apply_env(&process_env)?;
        Ok(config)
    }

    /// The configuration as TOML (reads back equal with
    /// [`Self::from_toml_str`]).
    ///
    /// # Errors
    /// [`ConfigError::Serialize`].
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Serialize {
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_names_line_and_table() {
        let text = "a = 1\n[services.x]\nurl = 2\n";
        let at = text.find("url").unwrap_or_default();
        assert_eq!(locate(text, at), "line 3, column 1, in [services.x]");
        assert_eq!(locate(text, 0), "line 1, column 1");
    }
}
