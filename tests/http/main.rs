//! Tier `fast`, the HTTP endpoint without an outside program: arbitrary
//! server configurations from code and TOML, each served on a real loopback
//! socket or rejected naming its key; HTTPS with a real rustls client
//! (feature `tls`). The tiers are listed in tests/core/main.rs.
//!
//! ```text
//! cargo test --test http
//! cargo test --all-features --test http tls::
//! ```

mod server_config;
#[path = "../support/mod.rs"]
mod support;
mod tls;
