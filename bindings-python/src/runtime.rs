//! The shared tokio runtime and the blocking bridge.
//!
//! One multi-thread runtime serves every client of the process. It is built
//! lazily and remembers the pid that built it: in a child made by
//! `os.fork()` the parent's worker threads do not exist, so the child builds
//! its own (the parent's is leaked, never dropped: dropping it would wait
//! for threads that are not there).
//!
//! [`block_on`] releases the GIL while the future runs and wakes up every
//! [`TICK`] to re-acquire it and run `Python::check_signals`, so that
//! Ctrl-C interrupts a long call (the future is dropped, i.e. cancelled).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors;

/// How often a blocked call looks for signals.
pub const TICK: Duration = Duration::from_millis(100);

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// The runtime of this process, built on first use and after a fork.
pub fn runtime() -> PyResult<Arc<Runtime>> {
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
        .worker_threads(2)
        .thread_name("anist-worker")
        .enable_all()
        .build()
        .map_err(|e| {
            errors::generic(
                format!("the async runtime could not start: {e}"),
                "runtime_start",
            )
        })?;
    let rt = Arc::new(rt);
    *slot = Some((pid, Arc::clone(&rt)));
    Ok(rt)
}

/// The pid that built the current runtime, if any (for tests).
pub fn runtime_pid() -> Option<u32> {
    let slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    slot.as_ref().map(|(pid, _)| *pid)
}

/// Runs `fut` to completion on the shared runtime with the GIL released,
/// checking for signals (and calling `on_tick`) every [`TICK`]. An error
/// from either drops the future and is returned.
pub fn block_on_with<F>(
    py: Python<'_>,
    fut: F,
    mut on_tick: impl FnMut(Python<'_>) -> PyResult<()>,
) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = runtime()?;
    let mut fut = std::pin::pin!(fut);
    loop {
        // The timer is made inside the runtime's context.
        let step =
            py.detach(|| rt.block_on(async { tokio::time::timeout(TICK, fut.as_mut()).await }));
        match step {
            Ok(out) => return Ok(out),
            Err(_) => {
                py.check_signals()?;
                on_tick(py)?;
            }
        }
    }
}

/// [`block_on_with`] without a tick hook.
pub fn block_on<F>(py: Python<'_>, fut: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    block_on_with(py, fut, |_| Ok(()))
}
