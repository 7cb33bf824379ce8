//! The blocking bridge over the process's one runtime
//! ([`anist_client::blocking`]: built lazily, again in a child made by
//! `os.fork()`).
//!
//! [`block_on`] releases the GIL while the future runs and wakes up every
//! [`TICK`] to re-acquire it and run `Python::check_signals`, so that
//! Ctrl-C interrupts a long call (the future is dropped, i.e. cancelled).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors;

/// How often a blocked call looks for signals.
pub const TICK: Duration = Duration::from_millis(100);

/// The runtime of this process ([`anist_client::blocking::runtime`]):
/// built on first use and after a fork.
pub fn runtime() -> PyResult<Arc<Runtime>> {
    anist_client::blocking::runtime().map_err(|e| errors::error(&e))
}

/// The pid that built the current runtime, if any (for tests).
pub fn runtime_pid() -> Option<u32> {
    anist_client::blocking::runtime_pid()
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
