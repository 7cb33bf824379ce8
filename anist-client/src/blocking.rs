//! The blocking facade: one tokio runtime for the whole process, built on
//! first use, that the CLI and the Python module run every call on.
//!
//! The runtime remembers the pid that built it: in a child made by
//! `fork()` (Python's `os.fork()`, a pre-forking server) the parent's
//! worker threads do not exist, so the child builds its own and the
//! parent's is leaked, never dropped (dropping it would wait for threads
//! that are not there).
//!
//! The C library keeps one runtime per client instead, shut down when the
//! client is freed: a host program (a Delphi GUI, a DLL unloaded at run
//! time) must get its threads back, which a process-wide runtime never
//! gives.
//!
//! ```
//! let rt = anist_client::blocking::runtime()?;
//! assert_eq!(rt.block_on(async { 1 + 1 }), 2);
//! # Ok::<(), anist_client::blocking::RuntimeError>(())
//! ```

use std::sync::{Arc, Mutex};

use tokio::runtime::Runtime;

/// The runtime could not start (the system refused the threads).
#[derive(Debug, thiserror::Error)]
#[error("the async runtime could not start: {0}")]
pub struct RuntimeError(String);

impl anist_core::ErrorCode for RuntimeError {
    fn code(&self) -> &'static str {
        "runtime_start"
    }

    fn kind(&self) -> anist_core::ErrorKind {
        anist_core::ErrorKind::Local
    }
}

#[doc(hidden)]
impl anist_core::CodeSamples for RuntimeError {
    fn samples() -> Vec<Self> {
        vec![RuntimeError("the system refused the threads".into())]
    }
}

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of this process, built on first use and again after a
/// fork.
///
/// # Errors
/// [`RuntimeError`] when its threads cannot start.
pub fn runtime() -> Result<Arc<Runtime>, RuntimeError> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, rt)) = slot.as_ref() {
        if *owner == pid {
            return Ok(Arc::clone(rt));
        }
    }
    if let Some((_, inherited)) = slot.take() {
        // Built by the parent: its threads are gone in this process.
        std::mem::forget(inherited);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("anist-worker")
        .enable_all()
        .build()
        .map_err(|e| RuntimeError(e.to_string()))?;
    let rt = Arc::new(rt);
    *slot = Some((pid, Arc::clone(&rt)));
    Ok(rt)
}

/// The pid that built the current runtime, if any (for fork tests).
pub fn runtime_pid() -> Option<u32> {
    let slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    slot.as_ref().map(|(pid, _)| *pid)
}

/// Runs `fut` to completion on the process's runtime.
///
/// # Errors
/// [`RuntimeError`] when the runtime cannot start.
pub fn block_on<F: std::future::Future>(fut: F) -> Result<F::Output, RuntimeError> {
    Ok(runtime()?.block_on(fut))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runtime_per_process() {
        let a = runtime().expect("runtime");
        let b = runtime().expect("runtime");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(runtime_pid(), Some(std::process::id()));
        assert_eq!(block_on(async { 40 + 2 }).expect("runs"), 42);
    }
}
