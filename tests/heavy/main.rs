//! Tier `heavy`: load and resource bounds, each measured on this process
//! (descriptors, resident memory, the callsite registry): 3,000 idle
//! connections, slow readers of a multi-megabyte exposition, a
//! 1,000,000-value cardinality attack, 10,000 run-time callsites. No outside
//! program; minutes of CPU. The tiers are listed in tests/core/main.rs.
//!
//! Each test holds [`alone`] for its whole run: what one measures of the
//! process, another would move. `test = false` in dev/Cargo.toml: plain `cargo
//! test` does not build it.
//!
//! ```text
//! cargo test --all-features --test heavy
//! ```

use std::sync::{Mutex, MutexGuard};

mod cardinality_attack;
mod connection_limit;
mod dynamic_callsites;
mod slow_readers;
#[path = "../support/mod.rs"]
mod support;

/// Runs the tests of this binary one at a time (a failed one does not stop
/// the others: a poisoned lock is taken over).
fn alone() -> MutexGuard<'static, ()> {
    static ALONE: Mutex<()> = Mutex::new(());
    ALONE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
