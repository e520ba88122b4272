//! Limits on unstructured calls: one for the whole tree (`--max-unstructured`)
//! and one per crate (a baseline file, lowered as crates migrate).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::check::CheckReport;

/// A baseline file: `[unstructured]` crate = N.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    /// Crate name -> the most unstructured calls it may have; a crate not
    /// listed may have none.
    pub unstructured: BTreeMap<String, usize>,
}

/// One crate against its baseline limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaselineResult {
    /// The crate.
    #[serde(rename = "crate")]
    pub krate: String,
    /// Its unstructured calls.
    pub unstructured: usize,
    /// Its limit.
    pub limit: usize,
    /// `unstructured <= limit`.
    pub ok: bool,
}

/// The whole tree against `--max-unstructured`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ratchet {
    /// Unstructured calls in all crates.
    pub unstructured: usize,
    /// The limit.
    pub limit: usize,
    /// `unstructured <= limit`.
    pub ok: bool,
}

impl Ratchet {
    /// The report's unstructured calls against `limit`.
    pub fn of(report: &CheckReport, limit: usize) -> Self {
        let unstructured = report.summary.unstructured;
        Ratchet {
            unstructured,
            limit,
            ok: unstructured <= limit,
        }
    }
}

impl Baseline {
    /// Today's counts, as a baseline to lower from.
    pub fn of(report: &CheckReport) -> Self {
        Baseline {
            unstructured: report
                .by_crate
                .iter()
                .map(|(k, t)| (k.clone(), t.unstructured))
                .collect(),
        }
    }

    /// Every crate of the report or the baseline against its limit.
    pub fn evaluate(&self, report: &CheckReport) -> Vec<BaselineResult> {
        let names: BTreeSet<&String> = report
            .by_crate
            .keys()
            .chain(self.unstructured.keys())
            .collect();
        names
            .into_iter()
            .map(|k| {
                let n = report.by_crate.get(k).map_or(0, |t| t.unstructured);
                let limit = self.unstructured.get(k).copied().unwrap_or(0);
                BaselineResult {
                    krate: k.clone(),
                    unstructured: n,
                    limit,
                    ok: n <= limit,
                }
            })
            .collect()
    }
}
