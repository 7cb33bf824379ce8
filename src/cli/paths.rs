//! Where the command line puts its own files when no path is given.
//!
//! On Linux and macOS the defaults are relative to the working directory
//! (`./anist-demo/`, `./anist-sandbox/`, `./anist.toml`), as a shell user
//! expects. On Windows a program started from the Start menu or a shortcut
//! runs in a folder it should not write to (`C:\Windows\System32`, the
//! install folder), so the defaults go under the user's own application
//! data folder, `%APPDATA%\anist\` (private to the Windows account: see the
//! README, "Windows"). `%APPDATA%` unset (a service account without a
//! profile) falls back to the Unix defaults.
//!
//! The functions take the platform and an environment lookup, so that the
//! Windows rules are unit-tested on Linux too; the CLI passes
//! [`Platform::CURRENT`] and the process environment
//! ([`anist_client::config::process_env`]).
//!
//! ```
//! use anist::cli::paths::{demo_dir, Platform};
//! use std::path::PathBuf;
//!
//! let env = |name: &str| (name == "APPDATA").then(|| String::from(r"C:\Users\ada\AppData\Roaming"));
//! assert_eq!(demo_dir(Platform::Unix, &env), PathBuf::from("anist-demo"));
//! assert!(demo_dir(Platform::Windows, &env).ends_with("anist/demo"));
//! ```

use std::path::{Path, PathBuf};

/// The family of rules the defaults follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Platform {
    /// Linux, macOS, the BSDs: relative to the working directory.
    Unix,
    /// Windows: under `%APPDATA%\anist\`.
    Windows,
}

impl Platform {
    /// The platform this program was built for.
    pub const CURRENT: Platform = if cfg!(windows) {
        Platform::Windows
    } else {
        Platform::Unix
    };
}

/// The environment variable of the per-user application data folder on
/// Windows (`C:\Users\<name>\AppData\Roaming`).
pub const APPDATA_ENV: &str = "APPDATA";

/// The folder of anist under `%APPDATA%` (Windows only).
pub const APP_FOLDER: &str = "anist";

/// `%APPDATA%\anist` on Windows when `APPDATA` is set to a non-blank
/// value; `None` elsewhere.
pub fn app_data_dir(
    platform: Platform,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Option<PathBuf> {
    match platform {
        Platform::Windows => lookup(APPDATA_ENV)
            .filter(|v| !v.trim().is_empty())
            .map(|v| Path::new(&v).join(APP_FOLDER)),
        Platform::Unix => None,
    }
}

/// The default of `anist demo --dir`: `./anist-demo`, on Windows
/// `%APPDATA%\anist\demo`.
pub fn demo_dir(platform: Platform, lookup: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    app_data_dir(platform, lookup).map_or_else(|| PathBuf::from("anist-demo"), |d| d.join("demo"))
}

/// The default of `anist sandbox --dir`: `./anist-sandbox`, on Windows
/// `%APPDATA%\anist\sandbox`.
pub fn sandbox_dir(platform: Platform, lookup: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    app_data_dir(platform, lookup)
        .map_or_else(|| PathBuf::from("anist-sandbox"), |d| d.join("sandbox"))
}

/// The configuration file when neither `--config` nor `ANIST_CONFIG` names
/// one: `./anist.toml`; on Windows `.\anist.toml` when the working
/// directory has one (`exists` tells), else `%APPDATA%\anist\anist.toml`.
pub fn default_config_file(
    platform: Platform,
    lookup: &dyn Fn(&str) -> Option<String>,
    exists: &dyn Fn(&Path) -> bool,
) -> PathBuf {
    let local = PathBuf::from(anist_client::config::DEFAULT_CONFIG_FILE);
    if exists(&local) {
        return local;
    }
    app_data_dir(platform, lookup)
        .map_or(local, |d| d.join(anist_client::config::DEFAULT_CONFIG_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROAMING: &str = r"C:\Users\ada\AppData\Roaming";

    fn windows_env(name: &str) -> Option<String> {
        (name == APPDATA_ENV).then(|| ROAMING.to_string())
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn blank_env(_: &str) -> Option<String> {
        Some("  ".to_string())
    }

    #[test]
    fn unix_defaults_are_relative_to_the_working_directory() {
        // APPDATA set (say, under Wine's environment) changes nothing on Unix.
        assert_eq!(
            demo_dir(Platform::Unix, &windows_env),
            PathBuf::from("anist-demo")
        );
        assert_eq!(
            sandbox_dir(Platform::Unix, &windows_env),
            PathBuf::from("anist-sandbox")
        );
        assert_eq!(
            default_config_file(Platform::Unix, &windows_env, &|_| false),
            PathBuf::from("anist.toml")
        );
        assert_eq!(app_data_dir(Platform::Unix, &windows_env), None);
    }

    #[test]
    fn windows_defaults_go_under_appdata() {
        let base = Path::new(ROAMING).join("anist");
        assert_eq!(
            app_data_dir(Platform::Windows, &windows_env),
            Some(base.clone())
        );
        assert_eq!(demo_dir(Platform::Windows, &windows_env), base.join("demo"));
        assert_eq!(
            sandbox_dir(Platform::Windows, &windows_env),
            base.join("sandbox")
        );
        assert_eq!(
            default_config_file(Platform::Windows, &windows_env, &|_| false),
            base.join("anist.toml")
        );
    }

    #[test]
    fn a_local_configuration_wins_on_windows() {
        let here = |p: &Path| p == Path::new("anist.toml");
        assert_eq!(
            default_config_file(Platform::Windows, &windows_env, &here),
            PathBuf::from("anist.toml")
        );
    }

    #[test]
    fn windows_without_appdata_falls_back_to_the_working_directory() {
        for env in [no_env as fn(&str) -> Option<String>, blank_env] {
            assert_eq!(app_data_dir(Platform::Windows, &env), None);
            assert_eq!(
                demo_dir(Platform::Windows, &env),
                PathBuf::from("anist-demo")
            );
            assert_eq!(
                sandbox_dir(Platform::Windows, &env),
                PathBuf::from("anist-sandbox")
            );
            assert_eq!(
                default_config_file(Platform::Windows, &env, &|_| false),
                PathBuf::from("anist.toml")
            );
        }
    }

    #[test]
    fn the_current_platform_matches_the_build() {
        assert_eq!(Platform::CURRENT == Platform::Windows, cfg!(windows));
    }
}
