//! The five tracing levels, named as the metrics layer names them.

use std::fmt;
use std::str::FromStr;

use robustmq_log_metrics::LEVEL_NAMES;

/// A tracing level. Its name is the `level` label value of
/// `robustmq-log-metrics` ([`LEVEL_NAMES`]), the one list of the five names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// `error`
    Error,
    /// `warn`
    Warn,
    /// `info`
    Info,
    /// `debug`
    Debug,
    /// `trace`
    Trace,
}

impl Level {
    /// Every level, from most to least severe.
    pub const ALL: [Level; 5] = [
        Level::Error,
        Level::Warn,
        Level::Info,
        Level::Debug,
        Level::Trace,
    ];

    /// 0 for `error` up to 4 for `trace`: the position in [`LEVEL_NAMES`].
    fn rank(self) -> usize {
        match self {
            Level::Error => 0,
            Level::Warn => 1,
            Level::Info => 2,
            Level::Debug => 3,
            Level::Trace => 4,
        }
    }

    /// The level's name (`error` .. `trace`).
    pub fn as_str(self) -> &'static str {
        LEVEL_NAMES[self.rank()]
    }

    /// The level a name stands for, if it is one of [`LEVEL_NAMES`].
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// Whether this level is `other` or more severe (`warn` is at least `info`).
    pub fn is_at_least(self, other: Level) -> bool {
        self.rank() <= other.rank()
    }

    /// `error` or `warn`: the levels at which a call reports a problem.
    pub fn reports_problems(self) -> bool {
        self.is_at_least(Level::Warn)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::from_name(s).ok_or_else(|| {
            format!(
                "unknown level {s:?}: expected one of {}",
                LEVEL_NAMES.join(", ")
            )
        })
    }
}

impl serde::Serialize for Level {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Level {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_order_by_severity() {
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>(), Ok(l));
        }
        assert_eq!(
            Level::ALL.map(Level::as_str),
            ["error", "warn", "info", "debug", "trace"]
        );
        assert!(Level::Warn.is_at_least(Level::Info));
        assert!(!Level::Debug.is_at_least(Level::Info));
        assert!(Level::Error.reports_problems() && !Level::Info.reports_problems());
        let e = "WARN".parse::<Level>().unwrap_err();
        assert!(e.contains("\"WARN\"") && e.contains("error, warn"), "{e}");
    }
}
