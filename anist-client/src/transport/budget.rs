//! One retry budget per call, spent by every layer below it.
//!
//! A call goes through layers that each ask again on their own failures:
//! a bulk job's row, the ISEE client (INPS's "database offline"), the
//! caller (a gateway's `429`), the token request. Without a shared budget
//! their attempts multiply (4 × 3 × 4 × 3 in the worst case). With it, the
//! outermost layer opens the budget ([`scoped`]: `n` attempts in all, so
//! `n − 1` retries) and every layer below asks it before each retry
//! ([`spend`]): the retries of one call, at every layer together, never
//! exceed the outermost layer's budget. Each layer still keeps its own
//! limit (a token request is never tried more than three times).
//!
//! The budget lives with the task (a tokio task-local): work spawned on
//! another task opens its own.
//!
//! ```
//! use anist_client::transport::budget;
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let retries = budget::scoped(3, async {
//!     // An inner layer with its own budget of 10 shares the outer one.
//!     budget::scoped(10, async {
//!         let mut n = 0;
//!         while budget::spend() {
//!             n += 1;
//!         }
//!         n
//!     })
//!     .await
//! })
//! .await;
//! assert_eq!(retries, 2);
//! // Outside any budget, a layer's own limit is the only one.
//! assert!(budget::spend());
//! # });
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

tokio::task_local! {
    static BUDGET: Budget;
}

/// The retries a call has left.
#[derive(Debug, Clone)]
struct Budget {
    retries_left: Arc<AtomicU32>,
}

impl Budget {
    fn take(&self) -> bool {
        self.retries_left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// Runs `fut` under a budget of `attempts` in all (the first included, at
/// least 1), unless the task already runs under one: then the outer
/// budget holds and `attempts` is ignored.
pub async fn scoped<F: Future>(attempts: u32, fut: F) -> F::Output {
    if BUDGET.try_with(|_| ()).is_ok() {
        fut.await
    } else {
        let budget = Budget {
            retries_left: Arc::new(AtomicU32::new(attempts.max(1) - 1)),
        };
        BUDGET.scope(budget, fut).await
    }
}

/// Whether one more retry may be made: spends one retry of the call's
/// budget, `false` when none is left. Outside any budget, `true` (the
/// layer's own limit applies).
pub fn spend() -> bool {
    BUDGET.try_with(Budget::take).unwrap_or(true)
}

/// The retries the call has left (`None`: no budget).
pub fn left() -> Option<u32> {
    BUDGET
        .try_with(|b| b.retries_left.load(Ordering::Acquire))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run<F: Future>(f: F) -> F::Output {
        #[allow(clippy::unwrap_used)]
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    proptest! {
        /// However the layers nest and whatever budgets they ask for, the
        /// retries of one call are the outermost budget's, never more.
        #[test]
        fn nested_layers_never_exceed_the_outer_budget(
            outer in 1u32..20,
            inner in prop::collection::vec((1u32..20, 0u32..30), 0..5),
        ) {
            let wanted: u32 = inner.iter().map(|(_, w)| w).sum::<u32>() + 5;
            let spent = run(scoped(outer, async {
                let mut spent = 0u32;
                for (budget, wants) in inner {
                    spent += scoped(budget, async move {
                        (0..wants).filter(|_| spend()).count() as u32
                    })
                    .await;
                }
                spent + (0..5).filter(|_| spend()).count() as u32
            }));
            // Every retry asked for is granted until the outer budget is
            // spent, none after.
            prop_assert_eq!(spent, wanted.min(outer - 1));
            prop_assert_eq!(run(async { left() }), None);
        }
    }

    #[test]
    fn a_budget_is_per_task() {
        run(async {
            scoped(2, async {
                assert_eq!(left(), Some(1));
                // A spawned task does not share it.
                let other = tokio::spawn(async { left() }).await;
                assert!(matches!(other, Ok(None)));
                assert!(spend());
                assert!(!spend());
                assert_eq!(left(), Some(0));
            })
            .await;
        });
    }
}
