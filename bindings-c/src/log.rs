//! The optional log callback, fed from `tracing` events of the library
//! (client created, job started / progress / finished: counts only,
//! never a codice fiscale, a name, a key or a token).

use std::ffi::{c_char, c_void, CString};
use std::fmt::Write as _;
use std::sync::RwLock;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

use crate::error::{guard, Failure};

/// Log level: errors.
pub const ANIST_LOG_ERROR: i32 = 1;
/// Log level: warnings.
pub const ANIST_LOG_WARN: i32 = 2;
/// Log level: information (client created, job started and finished).
pub const ANIST_LOG_INFO: i32 = 3;
/// Log level: debugging (job progress).
pub const ANIST_LOG_DEBUG: i32 = 4;
/// Log level: tracing.
pub const ANIST_LOG_TRACE: i32 = 5;

/// The log callback: `user_data` as given to [`anist_set_log_callback`],
/// the level (`ANIST_LOG_*`), the target (e.g. `anist`) and the message,
/// both NUL-terminated and valid only during the call. It may be called
/// from any thread, the library's own included: keep it short, make it
/// thread-safe, and never call `anist_client_free` / `anist_job_free` /
/// the blocking calls from it.
pub type AnistLogCallback = Option<
    extern "C" fn(
        user_data: *mut c_void,
        level: i32,
        target: *const c_char,
        message: *const c_char,
    ),
>;

#[derive(Clone, Copy)]
struct Sink {
    callback: extern "C" fn(*mut c_void, i32, *const c_char, *const c_char),
    user_data: usize,
    max_level: i32,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

fn level_value(level: &Level) -> i32 {
    match *level {
        Level::ERROR => ANIST_LOG_ERROR,
        Level::WARN => ANIST_LOG_WARN,
        Level::INFO => ANIST_LOG_INFO,
        Level::DEBUG => ANIST_LOG_DEBUG,
        Level::TRACE => ANIST_LOG_TRACE,
    }
}

fn sink() -> Option<Sink> {
    SINK.read().ok().and_then(|s| *s)
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

/// A minimal subscriber: events go to the C callback, spans are ignored.
struct CallbackSubscriber;

impl Subscriber for CallbackSubscriber {
    fn register_callsite(&self, _metadata: &'static Metadata<'static>) -> Interest {
        // Asked at every event: the callback can be set and removed.
        Interest::sometimes()
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        sink().is_some_and(|s| level_value(metadata.level()) <= s.max_level)
    }

    fn new_span(&self, _span: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let Some(s) = sink() else { return };
        let level = level_value(event.metadata().level());
        if level > s.max_level {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        let (Ok(target), Ok(message)) = (
            CString::new(event.metadata().target()),
            // Masks anything shaped like a codice fiscale or a token.
            CString::new(anist_client::redact::redact(&line.0).replace('\0', "")),
        ) else {
            return;
        };
        (s.callback)(
            s.user_data as *mut c_void,
            level,
            target.as_ptr(),
            message.as_ptr(),
        );
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

/// Sets (or, with a NULL `callback`, removes) the log callback: events up
/// to `max_level` (`ANIST_LOG_ERROR` … `ANIST_LOG_TRACE`) are passed to
/// it with `user_data`. Messages carry counts and codes, never personal
/// data. Without a callback the library logs nothing.
///
/// The library installs its event dispatcher as the process-wide default
/// on the first call; if the host already installed another `tracing`
/// dispatcher (a Rust host), the callback receives nothing and
/// [`crate::ANIST_ERR_OTHER`] is returned.
#[no_mangle]
pub extern "C" fn anist_set_log_callback(
    callback: AnistLogCallback,
    user_data: *mut c_void,
    max_level: i32,
) -> i32 {
    guard(|| {
        if !(ANIST_LOG_ERROR..=ANIST_LOG_TRACE).contains(&max_level) {
            return Err(Failure::invalid(
                "max_level",
                "it is ANIST_LOG_ERROR (1) … ANIST_LOG_TRACE (5)",
            ));
        }
        let installed = install();
        {
            let mut slot = SINK
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *slot = callback.map(|callback| Sink {
                callback,
                user_data: user_data as usize,
                max_level,
            });
        }
        if installed {
            Ok(())
        } else {
            Err(Failure::new(
                anist_core::ErrorKind::Local,
                "log_dispatcher_taken",
                "another tracing dispatcher is already installed in this process: the log callback receives nothing",
            ))
        }
    })
}

/// Installs the dispatcher once; whether ours is the global one.
fn install() -> bool {
    static RESULT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *RESULT.get_or_init(|| tracing::subscriber::set_global_default(CallbackSubscriber).is_ok())
}
