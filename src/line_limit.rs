//! [`LineLimit`]: a per-call-site line limit for any `tracing_subscriber`
//! fmt layer, as a per-layer filter (`.with_filter(limit)`).
//!
//! # The budget
//!
//! Each call site has a token bucket, kept as the generic cell rate
//! algorithm (GCRA) does: one atomic "theoretical arrival time". A line
//! costs one emission interval `T = interval / refill`; a line is allowed
//! while the arrival time is at most `T * (burst - 1)` ahead of now. So a
//! call site writes `burst` lines at once, then one every `T`, and after a
//! quiet `burst * T` it has its whole burst again. Taking a line is one
//! compare-and-swap loop on that word: lock-free, no lock, no allocation.
//!
//! "Now" is the latest time the limit read from its clock; the clock is read
//! again only when a line would not pass at that time, so a line is never
//! suppressed on a stale time and a call site within its budget does not
//! pay for a clock read. The price: a call site quiet since before that
//! reading is charged from it, so right after a quiet spell it may write up
//! to twice its burst at once (never more: the second burst reads the clock).
//!
//! # The call-site table
//!
//! The per-call-site state is found by the address of the event's
//! `&'static Metadata` (as the metrics layer's cache keys its entries): a
//! fixed array of bucket heads, each the index of the newest node of its
//! chain, and the nodes in a `boxcar::Vec`, which is append-only and read
//! without a lock. A known call site costs a hash, an atomic load of its
//! bucket's head and a walk of its chain (nodes are never removed and their
//! `next` never changes after they are published). A new call site is added
//! on its first event under a `try_lock`: if another thread is adding one
//! at that moment, the event is let through unlimited rather than wait, so
//! no logging thread ever blocks. Not `DashMap`, which the crate uses on its
//! slow paths: a lookup takes its shard's read lock, an atomic write to a
//! word every logging thread shares, and waits behind a writer. Memory is
//! one node per call site seen (at most [`MAX_LIMITED_CALLSITES`]; further
//! call sites share one budget) and the 4 KiB of bucket heads.
//!
//! # The summary line
//!
//! When a call site's next line passes after some were suppressed, and the
//! suppressed run is at least one refill interval old (so that a sustained
//! flood, which passes a line at every refill, gets one summary per interval
//! rather than one per passing line), the filter logs one event with `tracing`, from its own call sites (target
//! [`LINE_LIMIT_TARGET`], `event = "log_lines_suppressed"`, at the level of
//! the suppressed call site) saying how many lines were suppressed and over
//! how long. Why an event logged from inside `Filter::event_enabled`, and
//! not a line the filter writes itself: a `Filter` has no writer and does
//! not know the layer's format, and this way the summary goes through the
//! same fmt layer (text or JSON, same writer, same appender counters) and
//! through every other layer, so the metrics layer counts it as an event
//! like any other. It is logged before the line that lifted the limit.
//!
//! What makes this sound:
//! - Recursion: the summary's call sites are exempt from every limit (they
//!   are found by target when their node is made), and only a non-exempt
//!   call site starts a summary; a thread-local names the limit whose
//!   summary is being logged, and no summary starts while it is set.
//! - Other layers' filter state: `tracing_subscriber` keeps the per-layer
//!   filter results of the event being filtered in a thread-local bit map;
//!   `Filtered::event_enabled` reads that map before calling this filter
//!   and writes it back after, so the nested event's pass through the
//!   filters does not change the outer event's results.
//! - Other appenders: a summary is written only by the fmt layer whose
//!   limit logged it. Another appender's `LineLimit` keeps it from its own
//!   layer and counts it as suppressed there, since the metrics layer counts
//!   it as an event at that appender's levels: `lines + suppressed + dropped
//!   = events` holds for every appender.
//! - Delivery: tracing-core hands an event logged inside a dispatch to the
//!   subscriber only when that subscriber is the global default
//!   (`set_global_default`, `.init()`, as a broker installs it) and no
//!   scoped default (`with_default`) is active in the process; otherwise the
//!   summary is dropped before any layer sees it (the suppressed lines are
//!   still counted in `robustmq_log_appender_suppressed_lines_total`).
//!
//! A suppressed run is summarised when the call site's next line passes
//! once the run is an interval old: a call site that never logs again after
//! a flood leaves its last run unsummarised (and counted). Counts are exact; under contention the
//! duration of a run can be off by the time between two threads' events.

use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::time::{Duration, Instant};

use tracing_core::{Event, Interest, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};

use crate::appender::{AppenderMetrics, Counters};
use crate::config::LineLimitConfig;
use crate::error::Error;

/// Target of the summary lines a [`LineLimit`] logs; a target filter in
/// front of the limit must let it through at the levels it writes for the
/// summaries to be written.
pub const LINE_LIMIT_TARGET: &str = "robustmq_log_metrics::line_limit";

/// The `event` field of a summary line (and so its `event` label).
pub const LINES_SUPPRESSED_EVENT: &str = "log_lines_suppressed";

/// Most call sites a [`LineLimit`] keeps a budget for; the events of
/// further call sites share one budget. A program has a fixed set of
/// `tracing` call sites (a broker, a few thousand).
pub const MAX_LIMITED_CALLSITES: usize = 65_536;

/// log2 of the number of bucket heads: 1024 heads, 4 KiB.
const BUCKET_BITS: u32 = 10;
const BUCKETS: usize = 1 << BUCKET_BITS;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The id of the limit whose summary this thread is logging; 0 for none
    /// (ids start at 1).
    static SUMMARISING: Cell<u64> = const { Cell::new(0) };
}

/// A clock that moves only when told to, for tests of what a [`LineLimit`]
/// does over time (see [`LineLimitBuilder::manual_clock`]). Clones share
/// the time.
///
/// ```
/// use std::time::Duration;
/// let clock = robustmq_log_metrics::ManualClock::new();
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.elapsed(), Duration::from_millis(1500));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // `fetch_update` never fails with a closure that always returns `Some`.
        let _ = self
            .nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_add(by))
            });
    }

    /// The time since the clock was made.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

enum Clock {
    Monotonic(Instant),
    Manual(ManualClock),
}

impl Clock {
    /// Nanoseconds since the limit was built.
    #[inline]
    fn now(&self) -> u64 {
        match self {
            // `elapsed` saturates at zero; the `u64` holds 584 years.
            Clock::Monotonic(epoch) => {
                u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
            }
            Clock::Manual(clock) => clock.nanos.load(Ordering::Relaxed),
        }
    }
}

/// One call site's budget and its suppressed run.
#[derive(Default)]
struct Budget {
    /// The GCRA's theoretical arrival time, in ns since the limit was built.
    arrival: AtomicU64,
    /// Lines suppressed since the last summary.
    suppressed: AtomicU64,
    /// When the first of them was suppressed, plus one; 0 for none.
    since: AtomicU64,
}

impl Budget {
    /// Takes one line of the budget at `now`; `false` when there is none.
    #[inline]
    fn take(&self, now: u64, emission: u64, tolerance: u64) -> bool {
        // Relaxed: the word orders nothing else; each line is one successful
        // compare-and-swap, so no two events take the same slot.
        let mut arrival = self.arrival.load(Ordering::Relaxed);
        loop {
            let start = arrival.max(now);
            if start - now > tolerance {
                return false;
            }
            match self.arrival.compare_exchange_weak(
                arrival,
                start.saturating_add(emission),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(current) => arrival = current,
            }
        }
    }

    /// Counts one suppressed line of the current run.
    #[inline]
    fn suppress(&self, now: u64) {
        if self.suppressed.fetch_add(1, Ordering::Relaxed) == 0 {
            self.since.store(now.saturating_add(1), Ordering::Relaxed);
        }
    }

    /// Ends the current run: its line count and duration at `now`. `since`
    /// is taken before the count, so a line suppressed meanwhile either falls
    /// in this run (and does not restamp `since`) or starts the next one.
    fn end_run(&self, now: u64) -> (u64, Duration) {
        let since = self.since.swap(0, Ordering::Relaxed);
        let lines = self.suppressed.swap(0, Ordering::Relaxed);
        let over = match since {
            0 => 0,
            since => now.saturating_sub(since - 1),
        };
        (lines, Duration::from_nanos(over))
    }
}

/// A call site's entry in the table.
struct Node {
    /// The address of the call site's metadata.
    key: usize,
    /// The index plus one of the next node of the chain; 0 ends it.
    next: u32,
    /// `None` for the budget shared by call sites beyond the table.
    meta: Option<&'static Metadata<'static>>,
    /// A summary's own call site: never limited by the limit that logs it.
    summary: bool,
    budget: Budget,
}

impl Node {
    fn new(key: usize, next: u32, meta: Option<&'static Metadata<'static>>) -> Self {
        Self {
            key,
            next,
            meta,
            summary: meta.is_some_and(|m| m.target() == LINE_LIMIT_TARGET),
            budget: Budget::default(),
        }
    }
}

/// Call site -> node; see the module docs.
struct Callsites {
    heads: Box<[AtomicU32; BUCKETS]>,
    nodes: boxcar::Vec<Node>,
    /// Held while a node is added, so that a call site gets one node.
    adding: Mutex<()>,
    /// Nodes added so far; at most `MAX_LIMITED_CALLSITES`.
    len: AtomicUsize,
    /// Shared by the call sites beyond the table.
    beyond: Node,
}

impl Callsites {
    fn new() -> Self {
        Self {
            heads: Box::new([const { AtomicU32::new(0) }; BUCKETS]),
            nodes: boxcar::Vec::new(),
            adding: Mutex::new(()),
            len: AtomicUsize::new(0),
            beyond: Node::new(0, 0, None),
        }
    }

    #[inline]
    fn head(&self, key: usize) -> &AtomicU32 {
        // Fibonacci hashing of the address: its high bits pick the bucket.
        let hash = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - BUCKET_BITS);
        // The mask proves the index in range: no bounds check, no panic path.
        &self.heads[hash as usize & (BUCKETS - 1)]
    }

    /// The node of the chain starting at `index` whose key is `key`.
    #[inline]
    fn find_from(&self, mut index: u32, key: usize) -> Option<&Node> {
        while index != 0 {
            let node = self.nodes.get(index as usize - 1)?;
            if node.key == key {
                return Some(node);
            }
            index = node.next;
        }
        None
    }

    /// The call site's node, added on its first event; `None` when another
    /// thread is adding a node right now (the caller does not wait).
    #[inline]
    fn get(&self, meta: &'static Metadata<'static>) -> Option<&Node> {
        let key = meta as *const Metadata<'static> as usize;
        let head = self.head(key);
        // Acquire: pairs with the Release store that published the node.
        match self.find_from(head.load(Ordering::Acquire), key) {
            Some(node) => Some(node),
            None => self.add(head, key, meta),
        }
    }

    #[cold]
    #[inline(never)]
    fn add(&self, head: &AtomicU32, key: usize, meta: &'static Metadata<'static>) -> Option<&Node> {
        let _adding = match self.adding.try_lock() {
            Ok(guard) => guard,
            // Nothing panics while the lock is held; if something did, the
            // table is still consistent (a node is published last).
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        let first = head.load(Ordering::Acquire);
        // Added by another thread since the lookup.
        if let Some(node) = self.find_from(first, key) {
            return Some(node);
        }
        if self.len.load(Ordering::Relaxed) >= MAX_LIMITED_CALLSITES {
            return Some(&self.beyond);
        }
        let index = self.nodes.push(Node::new(key, first, Some(meta)));
        let Ok(link) = u32::try_from(index + 1) else {
            return Some(&self.beyond);
        };
        self.len.fetch_add(1, Ordering::Relaxed);
        // Release: a thread that loads this index sees the node's contents.
        head.store(link, Ordering::Release);
        self.nodes.get(index)
    }
}

/// What a [`LineLimit`] shares with its clones.
struct Shared {
    id: u64,
    /// ns per line of refill: `interval / refill`, at least 1.
    emission: u64,
    /// How far the arrival time may run ahead of now: `emission * (burst - 1)`.
    tolerance: u64,
    /// The refill interval in ns: a suppressed run is summarised once it is this old.
    interval: u64,
    config: LineLimitConfig,
    clock: Clock,
    callsites: Callsites,
    appender: Option<Arc<Counters>>,
    suppressed: AtomicU64,
    /// The latest time read from the clock (ns since the limit was built).
    /// A line is first tried at this time and the clock read only when it
    /// would not pass then: reading the clock is most of what a line through
    /// the limit costs (about 90 of 290 instructions), and an earlier time
    /// never suppresses a line that the current time would pass (the budget
    /// only grows with time). What it changes: a call site quiet since before
    /// that time is charged from then, not from now, so right after a quiet
    /// spell it may write up to twice its burst before the clock is read.
    read: AtomicU64,
}

/// A per-call-site line limit for a `tracing_subscriber` fmt layer: a
/// per-layer [`Filter`] that lets each call site write `burst` lines at
/// once (up to twice that right after a quiet spell, as the clock is read
/// only when a line would not pass) and `refill` more every `interval`,
/// suppresses the lines beyond,
/// and logs one summary line per suppressed run when the call site's next
/// line passes, at most one per interval (see the module documentation in
/// the source for the design).
///
/// Add it to the fmt layer only, so that the metrics layer still counts
/// every event; after the layer's level or target filter, so that only the
/// lines the appender would write take from the budget; and give it the
/// appender's counters, so that
/// `robustmq_log_appender_suppressed_lines_total{appender}` counts what it
/// suppressed and `lines + suppressed + dropped` equals the events at the
/// appender's levels:
///
/// ```
/// use robustmq_log_metrics::{LineLimit, LogMetrics};
/// use tracing_subscriber::filter::{FilterExt, LevelFilter};
/// use tracing_subscriber::{prelude::*, Layer};
///
/// let (metrics_layer, handle) = LogMetrics::builder().build()?;
/// let console = handle.appender("console")?;
/// let limit = LineLimit::builder().burst(10).refill(1).appender(&console).build()?;
/// let fmt = tracing_subscriber::fmt::layer()
///     .with_writer(console.make_writer(std::io::sink))
///     .with_filter(LevelFilter::INFO.and(limit.clone()));
/// let subscriber = tracing_subscriber::registry().with(metrics_layer).with(fmt);
/// tracing::subscriber::with_default(subscriber, || {
///     for _ in 0..100 {
///         tracing::warn!(event = "auth_failed", "bad password");
///     }
/// });
/// assert_eq!(handle.count("warn", "robustmq", "auth_failed"), Some(100));
/// assert_eq!((console.lines(), console.suppressed()), (10, 90));
/// assert_eq!(limit.suppressed(), 90);
/// # Ok::<(), robustmq_log_metrics::Error>(())
/// ```
///
/// Cheap to clone (an `Arc`); clones share the budgets.
#[derive(Clone)]
pub struct LineLimit {
    shared: Arc<Shared>,
}

impl fmt::Debug for LineLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineLimit")
            .field("config", &self.shared.config)
            .field("appender", &self.shared.appender.as_ref().map(|c| &*c.name))
            .field("suppressed", &self.suppressed())
            .finish_non_exhaustive()
    }
}

impl LineLimit {
    /// A builder with the defaults documented on each setter.
    pub fn builder() -> LineLimitBuilder {
        LineLimitBuilder::default()
    }

    /// A builder holding `config`, checked first (unknown keys included).
    pub fn from_config(config: &LineLimitConfig) -> Result<LineLimitBuilder, Error> {
        config.validate()?;
        Ok(LineLimitBuilder {
            config: config.clone(),
            ..LineLimitBuilder::default()
        })
    }

    /// Lines this limit (and its clones) suppressed so far, including other
    /// limits' summary lines it kept from its layer.
    pub fn suppressed(&self) -> u64 {
        self.shared.suppressed.load(Ordering::Relaxed)
    }

    /// The settings it was built with.
    pub fn config(&self) -> &LineLimitConfig {
        &self.shared.config
    }
}

impl Shared {
    /// Whether the event's line is written.
    #[inline]
    fn admit(&self, meta: &'static Metadata<'static>) -> bool {
        let Some(node) = self.callsites.get(meta) else {
            // Another thread is adding a call site: let this line through
            // rather than wait (it is written, so counted as a line).
            return true;
        };
        if node.summary {
            return self.admit_summary();
        }
        // The time last read first: see `read`.
        let seen = self.read.load(Ordering::Relaxed);
        if !node.budget.take(seen, self.emission, self.tolerance) {
            let now = self.now();
            if !node.budget.take(now, self.emission, self.tolerance) {
                node.budget.suppress(now);
                self.count_suppressed();
                return false;
            }
        }
        if node.budget.suppressed.load(Ordering::Relaxed) != 0 {
            self.summarise(node);
        }
        true
    }

    /// Reads the clock, and keeps the time in `read` for the next lines.
    #[inline(never)]
    fn now(&self) -> u64 {
        let now = self.clock.now();
        self.read.fetch_max(now, Ordering::Relaxed);
        now
    }

    /// A summary line: written by the layer whose limit logged it only.
    #[cold]
    #[inline(never)]
    fn admit_summary(&self) -> bool {
        if SUMMARISING.try_with(Cell::get).unwrap_or(0) == self.id {
            return true;
        }
        self.count_suppressed();
        false
    }

    #[inline]
    fn count_suppressed(&self) {
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        if let Some(appender) = &self.appender {
            appender.count_suppressed();
        }
    }

    /// Logs the summary of the node's suppressed run, once it has lasted an
    /// interval: under a sustained flood a line passes at every refill, and a
    /// summary before each would double what the flood writes; this way a
    /// call site writes at most one summary per interval.
    #[cold]
    #[inline(never)]
    fn summarise(&self, node: &Node) {
        // No summary from inside a summary (see the module docs); the run
        // stays pending for the call site's next line.
        if SUMMARISING.try_with(Cell::get).unwrap_or(u64::MAX) != 0 {
            return;
        }
        let now = self.now();
        let since = node.budget.since.load(Ordering::Relaxed);
        if since != 0 && now.saturating_sub(since - 1) < self.interval {
            return;
        }
        let (lines, over) = node.budget.end_run(now);
        if lines == 0 {
            return;
        }
        let level = node.meta.map_or(Level::WARN, |m| *m.level());
        let place = Place(node.meta);
        let _ = SUMMARISING.try_with(|s| s.set(self.id));
        log_summary(level, lines, over, &place);
        let _ = SUMMARISING.try_with(|s| s.set(0));
    }
}

/// A call site as a summary names it: `module::path:line`.
struct Place(Option<&'static Metadata<'static>>);

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(meta) => write!(
                f,
                "{}:{}",
                meta.module_path().unwrap_or(meta.target()),
                meta.line().unwrap_or(0)
            ),
            None => f.write_str("call sites beyond the line limit's table"),
        }
    }
}

/// One summary line at `level`: a call site per level, since a call site's
/// level is fixed.
fn log_summary(level: Level, lines: u64, over: Duration, place: &Place) {
    macro_rules! summary {
        ($level:expr) => {
            tracing::event!(
                target: "robustmq_log_metrics::line_limit",
                $level,
                event = "log_lines_suppressed",
                suppressed = lines,
                over_ms = u64::try_from(over.as_millis()).unwrap_or(u64::MAX),
                callsite = %place,
                "log line limit: {} lines of {} suppressed over {:.3} s",
                lines,
                place,
                over.as_secs_f64()
            )
        };
    }
    match level {
        Level::ERROR => summary!(Level::ERROR),
        Level::WARN => summary!(Level::WARN),
        Level::INFO => summary!(Level::INFO),
        Level::DEBUG => summary!(Level::DEBUG),
        _ => summary!(Level::TRACE),
    }
}

// `tracing::event!` needs a literal target: keep it equal to the constant.
const _: () = assert!(matches!(
    LINE_LIMIT_TARGET.as_bytes(),
    b"robustmq_log_metrics::line_limit"
));

impl<S: Subscriber> Filter<S> for LineLimit {
    /// Every span and event: the limit decides per event, in `event_enabled`.
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    /// `sometimes`, not `always`: the layer's filter then runs an `enabled`
    /// pass per event, which opens tracing-subscriber's per-event filter pass
    /// (its debug assertions expect one before a filter disables an event in
    /// `event_enabled`).
    fn callsite_enabled(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    /// Called once per dispatched event (after the filters before this one
    /// in an `and` chain enabled it): takes a line from the call site's budget.
    #[inline]
    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        self.shared.admit(event.metadata())
    }
}

/// Settings for a [`LineLimit`]: a [`LineLimitConfig`] that the setters
/// write, checked by [`build`](Self::build).
#[derive(Debug, Default)]
#[must_use]
pub struct LineLimitBuilder {
    config: LineLimitConfig,
    appender: Option<Arc<Counters>>,
    clock: Option<ManualClock>,
}

impl LineLimitBuilder {
    /// Lines a call site may write at once. Default: 200. Range: 1..=1000000.
    pub fn burst(mut self, lines: u32) -> Self {
        self.config.burst = lines;
        self
    }

    /// Lines a call site regains every [`interval`](Self::interval), up to
    /// the burst. Default: 20. Range: 1..=1000000.
    pub fn refill(mut self, lines: u32) -> Self {
        self.config.refill = lines;
        self
    }

    /// The refill's interval. Default: one second. Range: 1 ms..=1 hour.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.config.interval = interval;
        self
    }

    /// Counts the suppressed lines into this appender's
    /// `robustmq_log_appender_suppressed_lines_total`. Default: none (the
    /// limit counts them in [`LineLimit::suppressed`] only).
    pub fn appender(mut self, appender: &AppenderMetrics) -> Self {
        self.appender = Some(appender.counters.clone());
        self
    }

    /// Reads the time from `clock` instead of the monotonic clock, for
    /// tests. Default: the monotonic clock.
    pub fn manual_clock(mut self, clock: &ManualClock) -> Self {
        self.clock = Some(clock.clone());
        self
    }

    /// Checks the settings and returns the filter.
    pub fn build(self) -> Result<LineLimit, Error> {
        self.config.validate()?;
        let interval = u64::try_from(self.config.interval.as_nanos()).unwrap_or(u64::MAX);
        let emission = (interval / u64::from(self.config.refill)).max(1);
        let tolerance = emission.saturating_mul(u64::from(self.config.burst) - 1);
        Ok(LineLimit {
            shared: Arc::new(Shared {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                emission,
                tolerance,
                interval,
                config: self.config,
                clock: match self.clock {
                    Some(clock) => Clock::Manual(clock),
                    None => Clock::Monotonic(Instant::now()),
                },
                callsites: Callsites::new(),
                appender: self.appender,
                suppressed: AtomicU64::new(0),
                read: AtomicU64::new(0),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_a_burst_then_one_line_per_emission_interval() {
        let budget = Budget::default();
        // burst 3, one line per 10 ns.
        let (emission, tolerance) = (10, 20);
        let taken: Vec<bool> = (0..5)
            .map(|_| budget.take(100, emission, tolerance))
            .collect();
        assert_eq!(taken, [true, true, true, false, false]);
        assert!(!budget.take(109, emission, tolerance));
        assert!(budget.take(110, emission, tolerance));
        assert!(!budget.take(110, emission, tolerance));
        // Quiet for a whole burst's worth: the burst is back, no more.
        let taken: Vec<bool> = (0..4)
            .map(|_| budget.take(1_000, emission, tolerance))
            .collect();
        assert_eq!(taken, [true, true, true, false]);
    }

    #[test]
    fn a_run_is_counted_from_its_first_suppressed_line() {
        let budget = Budget::default();
        assert_eq!(budget.end_run(5), (0, Duration::ZERO));
        budget.suppress(1_000);
        budget.suppress(1_500);
        assert_eq!(budget.end_run(3_000), (2, Duration::from_nanos(2_000)));
        budget.suppress(4_000);
        assert_eq!(budget.end_run(4_000), (1, Duration::ZERO));
    }

    macro_rules! callsite {
        ($cs:ident, $meta:ident, $target:expr) => {
            static $cs: tracing_core::callsite::DefaultCallsite =
                tracing_core::callsite::DefaultCallsite::new(&$meta);
            static $meta: Metadata<'static> = tracing_core::metadata! {
                name: "test", target: $target, level: Level::INFO, fields: &[],
                callsite: &$cs, kind: tracing_core::metadata::Kind::EVENT,
            };
        };
    }

    #[test]
    fn the_table_keeps_one_node_per_callsite_and_a_shared_one_beyond() {
        callsite!(A, META_A, "app");
        callsite!(B, META_B, LINE_LIMIT_TARGET);
        callsite!(C, META_C, "app");
        let table = Callsites::new();
        let a: *const Node = table.get(&META_A).unwrap();
        assert!(std::ptr::eq(table.get(&META_A).unwrap(), a));
        assert!(table.get(&META_B).unwrap().summary);
        assert!(!table.get(&META_A).unwrap().summary);
        assert_eq!(table.nodes.count(), 2);
        // A thread adding a node makes a new call site pass, not wait.
        let adding = table.adding.lock().unwrap();
        assert!(table.get(&META_C).is_none());
        assert!(std::ptr::eq(table.get(&META_A).unwrap(), a));
        drop(adding);
        // Past the cap, new call sites share one node; known ones keep theirs.
        table.len.store(MAX_LIMITED_CALLSITES, Ordering::Relaxed);
        assert!(std::ptr::eq(table.get(&META_C).unwrap(), &table.beyond));
        assert!(std::ptr::eq(table.get(&META_A).unwrap(), a));
        assert_eq!(table.nodes.count(), 2);
    }
}
