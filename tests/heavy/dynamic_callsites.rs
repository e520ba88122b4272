//! 10,000 callsites made at run time (as tracing-log makes them) count
//! exactly. In the heavy tier, not beside the stress tests of the core: every
//! `Dispatch` built later in the same process re-registers every callsite,
//! which would slow them down by 10,000 registrations per instance.

use robustmq_log_metrics::{LogMetrics, LogMetricsHandle};
use tracing::Dispatch;
use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{FieldSet, Value};
use tracing_core::metadata::Kind;
use tracing_core::{Event, Interest, Level, Metadata};
use tracing_subscriber::prelude::*;

fn new_dispatch() -> (Dispatch, LogMetricsHandle) {
    let (layer, handle) = LogMetrics::builder().build().unwrap();
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        handle,
    )
}

/// A callsite made at run time, as tracing-log and dynamic loggers do.
struct DynamicCallsite {
    meta: std::sync::OnceLock<&'static Metadata<'static>>,
}

impl Callsite for DynamicCallsite {
    fn set_interest(&self, _: Interest) {}
    fn metadata(&self) -> &Metadata<'_> {
        self.meta.get().expect("metadata set before use")
    }
}

fn dynamic_callsite(i: usize) -> &'static Metadata<'static> {
    let callsite: &'static DynamicCallsite = Box::leak(Box::new(DynamicCallsite {
        meta: std::sync::OnceLock::new(),
    }));
    let name: &'static str = Box::leak(format!("dynamic {i}").into_boxed_str());
    let meta: &'static Metadata<'static> = Box::leak(Box::new(Metadata::new(
        name,
        "stress::dynamic",
        Level::INFO,
        Some(file!()),
        Some(i as u32),
        Some("stress::dynamic"),
        FieldSet::new(&["event"], Identifier(callsite)),
        Kind::EVENT,
    )));
    let _ = callsite.meta.set(meta);
    tracing_core::callsite::register(callsite);
    meta
}

#[test]
fn ten_thousand_dynamic_callsites_count_exactly() {
    let _alone = crate::alone();
    let (d, h) = new_dispatch();
    let callsites: Vec<_> = (0..10_000).map(dynamic_callsite).collect();
    for round in 0..2 {
        for (i, meta) in callsites.iter().enumerate() {
            let fields = meta.fields();
            let field = fields.field("event").expect("event field");
            let name = if i % 2 == 0 { "even_site" } else { "odd_site" };
            let value: &dyn Value = &name;
            let values = [(&field, Some(value))];
            let values = fields.value_set(&values);
            d.event(&Event::new(meta, &values));
        }
        assert_eq!(
            h.count("info", "robustmq", "even_site"),
            Some(5_000 * (round + 1))
        );
    }
    assert_eq!(h.count("info", "robustmq", "odd_site"), Some(10_000));
}
