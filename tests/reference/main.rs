//! Tier `reference`: label semantics, the cardinality guard, the endpoint,
//! the router and the collector, each exposition read back by the reference
//! parser of the format, Python's `prometheus-client` (tests/support/
//! parse_exposition.py), and by `promtool check metrics`. The tiers are listed
//! in tests/core/main.rs.
//!
//! Needs `python3` with `prometheus-client` (pinned in .ci/install-tools) and
//! `promtool` (Debian `prometheus`): `bash .ci/install-tools` (as root)
//! installs them, and a test that finds one missing fails saying so.
//! `test = false` in dev/Cargo.toml: plain `cargo test` does not build it.
//!
//! `callsite_events`, `overflow` and `scrape` (tests/reference/) are binaries of
//! this tier of their own: each asserts the exact set of series of its
//! process.
//!
//! ```text
//! cargo test --all-features --test reference --test callsite_events --test overflow --test scrape
//! cargo test --all-features --test reference labels::
//! ```

mod appender_exposition;
mod bad_input;
mod concurrency;
mod endpoint;
mod filters;
// Sets the process-wide `metrics` recorder; no other module here uses `metrics`.
mod global_recorder;
mod label_limits;
mod labels;
mod prometheus_client;
mod router;
#[path = "../support/mod.rs"]
mod support;
