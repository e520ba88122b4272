//! Tier `fast`, the counting core: configuration and the layer's settings,
//! zero allocations per event, and the stress cases that guard the counting
//! core. No server, no outside program.
//!
//! Plain `cargo test` (with or without `--all-features`) is the fast tier: this
//! binary, `http`, `golden`, `soundness` and `overflow_warning` (each of these
//! three alone in its process: see its header), the unit and doc tests,
//! and the lint crate's tests; it needs nothing but cargo. The other tiers are
//! `test = false` in dev/Cargo.toml, so plain `cargo test` never builds them:
//! `reference` (tests/reference/main.rs), `live` (tests/live/main.rs) and
//! `heavy` (tests/heavy/main.rs). `scripts/test-all.sh` runs every tier.
//!
//! ```text
//! cargo test --test core               # this binary
//! cargo test --test core stress::      # one module
//! ```

// The counting global allocator of `alloc` counts only the measuring thread's
// allocations, so the other modules may run beside it.
mod alloc;
mod config;
mod layer_config;
mod line_limit;
mod stress;
#[path = "../support/mod.rs"]
mod support;
