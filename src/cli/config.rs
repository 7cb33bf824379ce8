//! The `anist config` jobs: find the configuration file, check it offline
//! ([`anist_client::config::Config::check`]) and render the report the CLI
//! prints.
//!
//! ```no_run
//! use anist::cli::config::{check_file, config_path, exit_code, render};
//! use anist::client::config::process_env;
//!
//! let path = config_path(None, &process_env);
//! let report = check_file(&path, &process_env, 1_764_000_000).unwrap();
//! let _text = render(&path, &report);
//! assert_eq!(exit_code(&report), 0);
//! ```

use std::path::{Path, PathBuf};

use anist_client::config::{Config, ConfigError, Report};

/// The variable naming the configuration file when `--config` is not given.
pub const CONFIG_ENV: &str = "ANIST_CONFIG";

/// The configuration file: `--config`, else `ANIST_CONFIG`, else
/// `./anist.toml` (on Windows, when the working directory has none,
/// `%APPDATA%\anist\anist.toml`: [`crate::cli::paths::default_config_file`]).
pub fn config_path(arg: Option<PathBuf>, lookup: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    arg.or_else(|| {
        lookup(CONFIG_ENV)
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| {
        crate::cli::paths::default_config_file(crate::cli::paths::Platform::CURRENT, lookup, &|p| {
            p.exists()
        })
    })
}

/// Reads `path`, applies the environment overrides and runs every offline
/// check at Unix time `now`. A file that is not valid TOML for the schema,
/// or an unusable override, is a report with one failed check
/// (`config_parse`, `config_env`), not an error.
///
/// # Errors
/// [`ConfigError::Read`] when the file cannot be read.
pub fn check_file(
    path: &Path,
    lookup: &dyn Fn(&str) -> Option<String>,
    now: i64,
) -> Result<Report, ConfigError> {
    let mut config = match Config::from_file(path) {
        Ok(c) => c,
        Err(e @ ConfigError::Read { .. }) => return Err(e),
        Err(e) => return Ok(Report::from_error(&e)),
    };
    if let Err(e) = config.apply_env(lookup) {
        return Ok(Report::from_error(&e));
    }
    Ok(config.check_with_env(now, lookup))
}

/// The text the CLI prints: the file checked, one line per check (`ok`,
/// `warn` or `fail`, the rule, the field and what was found; the fix under
/// each `fail` and `warn`) and a summary. Never a key, a password, a token
/// or the operator's id.
pub fn render(path: &Path, report: &Report) -> String {
    format!("checking {} (offline)\n{report}\n", path.display())
}

/// 0 when every check passed (warnings allowed), 1 otherwise.
pub fn exit_code(report: &Report) -> u8 {
    u8::from(!report.passed())
}
