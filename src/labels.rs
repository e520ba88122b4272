//! Label values: level names, escaping for the text format, length limits, name checks.

use std::fmt;

use crate::error::Error;

/// The `level` label's values, from most to least severe (the order of
/// `tracing::Level`). `robustmq-log-lint` names levels with these too.
pub const LEVEL_NAMES: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// `event` value of an event that has no event field.
pub const UNSTRUCTURED: &str = "unstructured";
/// `event` (or `service`) value that stands for values dropped by the cardinality guard.
pub const OVERFLOW: &str = "overflow";
/// Label values the layer gives a meaning of its own: an event or service
/// value equal to one of these is counted in that reserved series, and the
/// lint rejects them as event names.
pub const RESERVED_VALUES: [&str; 2] = [UNSTRUCTURED, OVERFLOW];
/// Labels the crate sets itself (`appender` on the appender families);
/// global labels may not reuse them.
pub(crate) const RESERVED_LABELS: [&str; 4] = ["level", "service", "event", "appender"];

/// Index into [`LEVEL_NAMES`].
pub(crate) fn level_index(level: &tracing::Level) -> usize {
    match *level {
        tracing::Level::ERROR => 0,
        tracing::Level::WARN => 1,
        tracing::Level::INFO => 2,
        tracing::Level::DEBUG => 3,
        tracing::Level::TRACE => 4,
    }
}

/// Longest prefix of `s` that is at most `max` bytes and ends on a char boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Writes `value` escaped for a label value in the Prometheus text format
/// (and OpenMetrics): `\` -> `\\`, `"` -> `\"`, newline -> `\n`. Every other
/// character, control characters and any Unicode included, is written as is,
/// which both formats allow. Unlike metrics-exporter-prometheus 0.18, which
/// treats an existing `\\` or `\"` as already escaped, this is a bijection, so
/// a parser gives back exactly the logged value.
pub(crate) fn escape_label_value<W: fmt::Write + ?Sized>(out: &mut W, value: &str) -> fmt::Result {
    // The three are ASCII, and no byte of a multi-byte UTF-8 character is
    // ASCII: scanning bytes finds them, and the runs between are whole chars.
    let mut run = 0;
    for (i, byte) in value.bytes().enumerate() {
        let escaped = match byte {
            b'\\' => "\\\\",
            b'"' => "\\\"",
            b'\n' => "\\n",
            _ => continue,
        };
        out.write_str(&value[run..i])?;
        out.write_str(escaped)?;
        run = i + 1;
    }
    out.write_str(&value[run..])
}

/// Checks a label name against the Prometheus data model.
pub(crate) fn validate_label_name(name: &str) -> Result<(), Error> {
    let bad = |reason| {
        Err(Error::InvalidLabelName {
            name: name.to_owned(),
            reason,
        })
    };
    let mut chars = name.chars();
    match chars.next() {
        None => return bad("it is empty"),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            return bad("it must start with a letter or '_'")
        }
        _ => {}
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return bad("it may contain only ASCII letters, digits and '_'");
    }
    if name.starts_with("__") {
        return bad("names starting with \"__\" are reserved by Prometheus");
    }
    if RESERVED_LABELS.contains(&name) {
        return Err(Error::ReservedLabelName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// A `fmt::Write` that keeps at most `max` bytes, cutting at a char boundary,
/// so a huge `Debug` value costs at most `max` bytes and never allocates past it.
pub(crate) struct Capped<'a> {
    pub(crate) out: &'a mut String,
    pub(crate) max: usize,
}

impl fmt::Write for Capped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.max.saturating_sub(self.out.len());
        if room == 0 {
            // Err stops the Debug impl early instead of formatting a 1 MB value into nothing.
            return Err(fmt::Error);
        }
        let piece = truncate(s, room);
        self.out.push_str(piece);
        if piece.len() < s.len() {
            return Err(fmt::Error);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_table() {
        let cases = [
            ("plain", "plain"),
            ("", ""),
            ("\"", "\\\""),
            ("\\", "\\\\"),
            ("\\\\", "\\\\\\\\"),
            ("\\\"", "\\\\\\\""),
            ("a\nb", "a\\nb"),
            ("tab\there", "tab\there"),
            ("ünï©ødé 日本", "ünï©ødé 日本"),
            ("\\n", "\\\\n"),
        ];
        for (input, want) in cases {
            let mut out = String::new();
            escape_label_value(&mut out, input).expect("a String takes any text");
            assert_eq!(out, want, "escaping {input:?}");
        }
    }

    #[test]
    fn truncate_cuts_at_char_boundary() {
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("abc", 2), "ab");
        // "é" is 2 bytes: a cut inside it drops it whole.
        assert_eq!(truncate("aé", 2), "a");
        assert_eq!(truncate("日本", 4), "日");
        assert_eq!(truncate("", 0), "");
    }

    #[test]
    fn label_names() {
        assert!(validate_label_name("node_id").is_ok());
        assert!(validate_label_name("_x1").is_ok());
        for bad in ["", "1x", "a-b", "__x", "ü", "a b"] {
            assert!(
                matches!(
                    validate_label_name(bad),
                    Err(Error::InvalidLabelName { .. })
                ),
                "{bad:?} should be rejected"
            );
        }
        assert!(matches!(
            validate_label_name("level"),
            Err(Error::ReservedLabelName { .. })
        ));
    }

    #[test]
    fn capped_writer_stops_at_limit() {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = write!(
            Capped {
                out: &mut s,
                max: 5
            },
            "{:?}",
            "日本語"
        );
        // Debug adds a quote: `"` (1 byte) + `日` (3 bytes) fit in 5, `本` does not.
        assert_eq!(s, "\"日");
        let mut s = String::new();
        let _ = write!(
            Capped {
                out: &mut s,
                max: 64
            },
            "{:?}",
            42u64
        );
        assert_eq!(s, "42");
    }
}
