//! The one walk over the families: for each, in exposition order, its
//! description and its samples (the first-sample policy applied, the labels
//! assembled), handed to an [`Encoder`] that writes them in its format.

use super::appenders::{self, APPENDER_FAMILIES};
use super::{held, limits, now_ms, Desc, FAMILIES, LIMIT};
use crate::instance::Instance;
use crate::labels::LEVEL_NAMES;
use crate::series::Series;

/// A format: writes each family that [`walk`] hands it.
pub(crate) trait Encoder {
    /// What writing can fail with.
    type Error;

    /// Writes one family: its description, then each of its samples. A
    /// family may have no sample.
    fn family<'a>(
        &mut self,
        desc: &Desc,
        samples: impl Iterator<Item = Sample<'a>>,
    ) -> Result<(), Self::Error>;
}

/// One sample as a scrape shows it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample<'a> {
    pub(crate) labels: Labels<'a>,
    pub(crate) value: u64,
}

/// The labels of one sample in exposition order: the global labels, then
/// the family's own (`level`, `service` and `event` where a series has them;
/// the caps' `kind`; an appender's `appender`). Values are not escaped.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Labels<'a> {
    global: &'a [(String, String)],
    own: [Option<(&'static str, &'a str)>; 3],
}

impl<'a> Labels<'a> {
    fn of_series(instance: &'a Instance, series: &'a Series) -> Self {
        let level = series
            .level
            .and_then(|l| LEVEL_NAMES.get(l))
            .map(|l| ("level", *l));
        let event = series.event.as_deref().map(|e| ("event", e));
        Self {
            global: &instance.global_labels,
            own: [level, Some(("service", &*series.service)), event],
        }
    }

    /// A family with one label of its own: `name="value"`.
    fn with(instance: &'a Instance, name: &'static str, value: &'a str) -> Self {
        Self {
            global: &instance.global_labels,
            own: [Some((name, value)), None, None],
        }
    }

    /// `(name, value)` pairs, in exposition order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        let global = self.global.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        global.chain(self.own.into_iter().flatten())
    }
}

/// Hands every family to `encoder`: both counter families, the caps, then
/// the appender families when an appender is registered.
pub(crate) fn walk<E: Encoder>(instance: &Instance, encoder: &mut E) -> Result<(), E::Error> {
    let now_ms = now_ms(instance);
    let hold_ms = instance.first_sample_hold_ms;
    for (family, desc) in &FAMILIES {
        let samples = instance
            .series
            .iter()
            .filter(|series| series.family == *family)
            .map(|series| Sample {
                labels: Labels::of_series(instance, series),
                value: if held(&series.first_shown, now_ms, hold_ms) {
                    0
                } else {
                    series.total()
                },
            });
        encoder.family(desc, samples)?;
    }
    let caps = limits(instance).into_iter().map(|(kind, value)| Sample {
        labels: Labels::with(instance, "kind", kind),
        value,
    });
    encoder.family(&LIMIT, caps)?;
    let appenders = appenders::snapshot(instance, now_ms);
    if appenders.is_empty() {
        return Ok(());
    }
    for (measure, desc) in &APPENDER_FAMILIES {
        let samples = appenders.iter().map(|appender| Sample {
            labels: Labels::with(instance, "appender", appender.name),
            value: appender.value(*measure),
        });
        encoder.family(desc, samples)?;
    }
    Ok(())
}
