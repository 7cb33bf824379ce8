//! The CLI's logging switch: `-v` (info), `-vv` (debug), `-vvv` (trace)
//! for anist's own events (`anist::call`, `anist::voucher`; other targets
//! at warnings), or the `RUST_LOG` environment variable (`debug`, `anist::call=debug`,
//! `warn,anist::voucher=trace`: comma-separated `[target=]level`
//! directives, the longest matching target prefix wins). Lines go to
//! standard error as `LEVEL target: message key=value…`.
//!
//! Every line passes through [`anist_client::redact::redact`]: a codice
//! fiscale is masked (`RSSMRA**A01H501*`), a token or key replaced by
//! `[redatto]`, whatever an event carries.
//!
//! A small subscriber of the `tracing` facade, like the C bindings' log
//! callback: the library's events are few and flat (no spans), so the
//! `tracing-subscriber` crate and its filter engine are not needed.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// A filter: the default level and per-target levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    default: Option<Level>,
    targets: Vec<(String, Option<Level>)>,
}

fn parse_level(s: &str) -> Option<Option<Level>> {
    match s.trim().to_ascii_lowercase().as_str() {
        "off" => Some(None),
        "error" => Some(Some(Level::ERROR)),
        "warn" | "warning" => Some(Some(Level::WARN)),
        "info" => Some(Some(Level::INFO)),
        "debug" => Some(Some(Level::DEBUG)),
        "trace" => Some(Some(Level::TRACE)),
        _ => None,
    }
}

impl Filter {
    /// The filter of `-v` repeated `verbose` times (0: nothing; 1 info, 2
    /// debug, 3 or more trace), refined by `rust_log` when set.
    pub fn new(verbose: u8, rust_log: Option<&str>) -> Self {
        let level = match verbose {
            0 => None,
            1 => Some(Level::INFO),
            2 => Some(Level::DEBUG),
            _ => Some(Level::TRACE),
        };
        // -v opens anist's own events; the HTTP stack's stay at warnings
        // unless RUST_LOG names them.
        let mut filter = Filter {
            default: level.map(|_| Level::WARN),
            targets: level
                .map(|l| vec![(String::from("anist"), Some(l))])
                .unwrap_or_default(),
        };
        for directive in rust_log.unwrap_or("").split(',') {
            let directive = directive.trim();
            if directive.is_empty() {
                continue;
            }
            match directive.split_once('=') {
                Some((target, level)) => {
                    if let Some(level) = parse_level(level) {
                        filter.targets.push((target.trim().to_string(), level));
                    }
                }
                None => match parse_level(directive) {
                    Some(level) => filter.default = level.max(filter.default),
                    // A bare target means every level of it.
                    None => filter
                        .targets
                        .push((directive.to_string(), Some(Level::TRACE))),
                },
            }
        }
        filter
    }

    /// Whether nothing at all is logged.
    pub fn is_off(&self) -> bool {
        self.default.is_none() && self.targets.iter().all(|(_, l)| l.is_none())
    }

    /// Whether an event of `target` at `level` is written.
    pub fn enabled(&self, target: &str, level: &Level) -> bool {
        let max = self
            .targets
            .iter()
            .filter(|(t, _)| {
                target == t
                    || (target.starts_with(t.as_str()) && target[t.len()..].starts_with("::"))
            })
            .max_by_key(|(t, _)| t.len())
            .map_or(self.default, |(_, l)| *l);
        // tracing orders levels by verbosity: TRACE > DEBUG > … > ERROR.
        max.is_some_and(|m| *level <= m)
    }
}

/// Renders an event as `message key=value …`.
#[derive(Default)]
struct Line(String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

/// The subscriber: redacted lines on standard error; spans are ignored.
struct StderrSubscriber(Filter);

impl Subscriber for StderrSubscriber {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata.target(), metadata.level())
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        if !self.0.enabled(meta.target(), meta.level()) {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        let text = format!("{:>5} {}: {}", meta.level(), meta.target(), line.0);
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}",
            anist_client::redact::redact(&text)
        );
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// Installs the subscriber for `verbose` and `RUST_LOG` (read from the
/// environment), unless the filter lets nothing through.
pub fn init(verbose: u8) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = Filter::new(verbose, rust_log.as_deref());
    if filter.is_off() {
        return;
    }
    let _ = tracing::subscriber::set_global_default(StderrSubscriber(filter));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_from_v_and_rust_log() {
        let f = Filter::new(0, None);
        assert!(f.is_off());
        let f = Filter::new(1, None);
        assert!(f.enabled("anist::call", &Level::INFO));
        assert!(!f.enabled("anist::call", &Level::DEBUG));
        assert!(!f.enabled("hyper_util::pool", &Level::INFO));
        assert!(f.enabled("hyper_util::pool", &Level::WARN));
        let f = Filter::new(0, Some("warn,anist::call=debug"));
        assert!(f.enabled("anist::call", &Level::DEBUG));
        assert!(!f.enabled("anist::voucher", &Level::INFO));
        assert!(f.enabled("anist::voucher", &Level::WARN));
        assert!(!f.enabled("anist::callx", &Level::DEBUG));
        let f = Filter::new(3, Some("hyper=off"));
        assert!(!f.enabled("hyper::proto", &Level::ERROR));
        assert!(f.enabled("anist", &Level::TRACE));
        let f = Filter::new(0, Some("debug"));
        assert!(f.enabled("hyper_util::pool", &Level::DEBUG));
    }
}
