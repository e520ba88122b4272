//! The Prometheus text format 0.0.4: an encoder of the walk.
//!
//! Hand-written rather than through metrics-exporter-prometheus: its label
//! escaping is lossy (an existing `\\` or `\"` is taken as already escaped,
//! see `labels::escape_label_value`), and it rendered the same series about
//! 40x slower in `benches/overhead.rs`.

use std::fmt::{self, Write};

use super::walk::{walk, Encoder, Sample};
use super::{Desc, Kind};
use crate::instance::Instance;
use crate::labels::escape_label_value;

/// `Content-Type` of [`LogMetricsHandle::render`](crate::LogMetricsHandle::render)'s output (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every family into a new `String`.
pub(crate) fn render(instance: &Instance) -> String {
    let series = instance.series.len() + instance.appenders.len();
    let mut out = String::with_capacity(256 + series * 120);
    // Writing into a `String` cannot fail.
    let _ = encode(&mut out, instance);
    out
}

/// Every family into `out`, then whatever the optional global recorder holds.
pub(crate) fn encode<W: Write>(out: &mut W, instance: &Instance) -> fmt::Result {
    walk(
        instance,
        &mut Text {
            out: &mut *out,
            digits: itoa::Buffer::new(),
        },
    )?;
    if let Some(extra) = &instance.extra_exposition {
        out.write_str(&extra())?;
    }
    Ok(())
}

/// The text encoder: a `# HELP` and a `# TYPE` line per family, then a
/// line per sample.
struct Text<'w, W> {
    out: &'w mut W,
    digits: itoa::Buffer,
}

impl<W: Write> Encoder for Text<'_, W> {
    type Error = fmt::Error;

    fn family<'a>(
        &mut self,
        desc: &Desc,
        samples: impl Iterator<Item = Sample<'a>>,
    ) -> fmt::Result {
        let out = &mut *self.out;
        let kind = match desc.kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        out.write_str("# HELP ")?;
        out.write_str(desc.name)?;
        out.write_char(' ')?;
        out.write_str(desc.help)?;
        out.write_str("\n# TYPE ")?;
        out.write_str(desc.name)?;
        out.write_char(' ')?;
        out.write_str(kind)?;
        out.write_char('\n')?;
        for sample in samples {
            out.write_str(desc.name)?;
            out.write_char('{')?;
            for (i, (key, value)) in sample.labels.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                out.write_str(key)?;
                out.write_str("=\"")?;
                escape_label_value(out, value)?;
                out.write_char('"')?;
            }
            out.write_str("} ")?;
            out.write_str(self.digits.format(sample.value))?;
            out.write_char('\n')?;
        }
        Ok(())
    }
}
