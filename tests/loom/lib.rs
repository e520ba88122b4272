//! Compiles `src/series.rs` alone, so that its loom model runs without the
//! rest of the crate. See Cargo.toml for the command.
#![allow(dead_code)]

/// Stand-in for the crate's label module, for the doc links in series.rs.
mod labels {
    pub(crate) const LEVEL_NAMES: [&str; 5] = ["error", "warn", "info", "debug", "trace"];
}

#[path = "../../src/series.rs"]
mod series;
