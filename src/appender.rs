//! Appender counters: what leaves the process through a log writer, per
//! appender name. The writer wrappers count on the write path (relaxed
//! atomics, no lock, no allocation); the exposition reads the counters and,
//! at scrape time, each appender's source of dropped lines.
//!
//! # What a line is
//!
//! A *line* is one `write_all` (or one `write_fmt`) call on the wrapped
//! writer. `tracing_subscriber::fmt` formats each event into a buffer and
//! hands it over with exactly one `write_all` on a writer it gets from
//! `make_writer()` for that event; `tracing_appender::non_blocking` either
//! queues that whole buffer or drops it (and counts it in its
//! `ErrorCounter`), and its worker thread writes each queued buffer with
//! exactly one `write_all`. So wherever the wrapper sits, one event at the
//! appender's levels is one line. Bytes handed over with a plain `write`
//! (or `write_vectored`) call count as bytes, not as a line.
//!
//! A line counts as written when every byte of it was accepted by the
//! wrapped writer. When the wrapped writer fails (an error other than
//! `Interrupted`, which is retried as `write_all` does, or a write of 0
//! bytes), the line counts as dropped, and the bytes the writer accepted
//! before failing still count as bytes. So `lines + dropped` is the number
//! of lines the formatter produced, and `bytes` is exactly what the wrapped
//! writer accepted.

use std::fmt;
use std::io::{self, IoSlice, Write};
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

use crate::error::Error;

/// Most appenders one instance counts; [`LogMetricsHandle::appender`](crate::LogMetricsHandle::appender)
/// refuses a new name beyond it. A broker has a handful (console, a rolling
/// file, maybe a second file for a subsystem).
pub const MAX_APPENDERS: usize = 16;
/// Longest appender name, in bytes.
pub const MAX_APPENDER_NAME_LEN: usize = 64;
// `Error::InvalidAppenderName`'s reason spells the limit out.
const _: () = assert!(MAX_APPENDER_NAME_LEN == 64);

/// Reads the number of lines an appender dropped, at scrape time.
type DroppedSource = Box<dyn Fn() -> u64 + Send + Sync>;

/// The counters one writer updates for every line. Aligned to a cache line
/// of their own, so that the scrape's mutex and the `Arc`'s reference count
/// never share a line with them.
#[repr(align(64))]
#[derive(Debug, Default)]
struct Hot {
    lines: AtomicU64,
    bytes: AtomicU64,
    failed: AtomicU64,
}

/// What the scrape keeps about an appender's dropped-lines source.
#[derive(Default)]
struct Dropped {
    source: Option<DroppedSource>,
    /// The last value of the sources replaced so far.
    base: u64,
    /// The largest value shown so far: a source that goes down (a new
    /// `ErrorCounter` after a re-initialisation) never makes the counter go down.
    shown: u64,
}

/// One appender's counters.
pub(crate) struct Counters {
    pub(crate) name: Box<str>,
    hot: Hot,
    /// Lines a [`LineLimit`](crate::LineLimit) kept from this appender:
    /// written by the logging threads, not the writer, so outside `hot`.
    suppressed: AtomicU64,
    dropped: Mutex<Dropped>,
    /// The first-sample policy's stamp, as for a series (see `exposition`).
    pub(crate) first_shown: AtomicU64,
}

impl fmt::Debug for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Counters")
            .field("name", &self.name)
            .field("lines", &self.lines())
            .field("bytes", &self.bytes())
            .finish_non_exhaustive()
    }
}

impl Counters {
    fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            hot: Hot::default(),
            suppressed: AtomicU64::new(0),
            dropped: Mutex::new(Dropped::default()),
            first_shown: AtomicU64::new(0),
        }
    }

    pub(crate) fn lines(&self) -> u64 {
        self.hot.lines.load(Ordering::Relaxed)
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.hot.bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn suppressed(&self) -> u64 {
        self.suppressed.load(Ordering::Relaxed)
    }

    /// Counts one line a line limit kept from this appender.
    #[inline]
    pub(crate) fn count_suppressed(&self) {
        self.suppressed.fetch_add(1, Ordering::Relaxed);
    }

    /// Lines the source reports dropped plus lines whose write failed. Calls
    /// the source: scrape time only.
    pub(crate) fn dropped(&self) -> u64 {
        let mut d = self.dropped.lock().unwrap_or_else(PoisonError::into_inner);
        let now = d.source.as_ref().map_or(0, |source| source());
        let value = d.base.saturating_add(now).max(d.shown);
        d.shown = value;
        value.saturating_add(self.hot.failed.load(Ordering::Relaxed))
    }

    fn set_source(&self, source: DroppedSource) {
        let mut d = self.dropped.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = d.source.take() {
            d.base = d.base.saturating_add(old());
        }
        d.source = Some(source);
    }

    /// Counts one `write_all` whose outcome is `result` after `written` bytes.
    #[inline]
    fn count_line(&self, written: u64, result: &io::Result<()>) {
        // Relaxed: a scrape needs some recent value of each counter, not an
        // order between them; the counts are exact because each is one
        // atomic add.
        self.hot.bytes.fetch_add(written, Ordering::Relaxed);
        let counter = if result.is_ok() {
            &self.hot.lines
        } else {
            &self.hot.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    fn count_bytes(&self, written: usize) {
        self.hot.bytes.fetch_add(written as u64, Ordering::Relaxed);
    }
}

/// Every appender of one instance, in registration order. Scrapes walk it
/// without a lock; registration (rare) takes one so that the same name twice
/// finds the first one's counters.
#[derive(Debug, Default)]
pub(crate) struct AppenderTable {
    appenders: boxcar::Vec<Arc<Counters>>,
    register: Mutex<()>,
}

impl AppenderTable {
    /// The counters of `name`, made on its first registration.
    pub(crate) fn register(&self, name: &str) -> Result<AppenderMetrics, Error> {
        let bad = |reason: &'static str| {
            Err(Error::InvalidAppenderName {
                name: name.to_owned(),
                reason,
            })
        };
        if name.is_empty() {
            return bad("it is empty");
        }
        if name.len() > MAX_APPENDER_NAME_LEN {
            return bad("it is longer than 64 bytes");
        }
        let _guard = self.register.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, counters)) = self.appenders.iter().find(|(_, c)| &*c.name == name) {
            return Ok(AppenderMetrics {
                counters: counters.clone(),
            });
        }
        if self.appenders.count() >= MAX_APPENDERS {
            return Err(Error::TooManyAppenders {
                name: name.to_owned(),
                max: MAX_APPENDERS,
            });
        }
        let counters = Arc::new(Counters::new(name));
        self.appenders.push(counters.clone());
        Ok(AppenderMetrics { counters })
    }

    /// Every appender, oldest first, without taking a lock.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Counters> {
        self.appenders.iter().map(|(_, c)| &**c)
    }

    /// How many appenders are registered.
    pub(crate) fn len(&self) -> usize {
        self.appenders.count()
    }
}

/// The counters of one appender, from
/// [`LogMetricsHandle::appender`](crate::LogMetricsHandle::appender): wrap
/// the appender's writer with [`writer`](Self::writer) or
/// [`make_writer`](Self::make_writer), and give it the appender's
/// dropped-lines counter with [`count_dropped`](Self::count_dropped).
///
/// Feeds, with the instance's global labels and `appender="<name>"`:
///
/// - `robustmq_log_appender_lines_total`: lines the wrapped writer accepted;
/// - `robustmq_log_appender_bytes_total`: bytes the wrapped writer accepted;
/// - `robustmq_log_appender_dropped_lines_total`: lines lost, read from the
///   [`count_dropped`](Self::count_dropped) source at scrape time, plus lines
///   whose write failed;
/// - `robustmq_log_appender_suppressed_lines_total`: lines that a
///   [`LineLimit`](crate::LineLimit) built with
///   [`LineLimitBuilder::appender`](crate::LineLimitBuilder::appender) kept
///   from the appender's fmt layer.
///
/// A line is one `write_all` call, which `tracing_subscriber::fmt` makes
/// once per event and `tracing_appender::non_blocking`'s worker once per
/// queued line. With a `non_blocking` appender, wrap the writer *inside* it,
/// so that lines count what reached the sink and drops what did not:
///
/// ```
/// use tracing_subscriber::prelude::*;
/// # let (layer, handle) = robustmq_log_metrics::LogMetrics::builder().build()?;
/// let console = handle.appender("console")?;
/// let (writer, _guard) = tracing_appender::non_blocking(console.writer(std::io::stderr()));
/// let dropped = writer.error_counter();
/// console.count_dropped(move || dropped.dropped_lines() as u64);
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer().with_writer(writer))
///     .with(layer);
/// # drop(subscriber);
/// # Ok::<(), robustmq_log_metrics::Error>(())
/// ```
///
/// Then, once the queue has drained, `lines + suppressed + dropped` equals
/// the events at the appender's levels, exactly, and `bytes` is what the sink accepted
/// (`tests/live/appender_exactness.rs` checks both over HTTP). Wrapping `non_blocking`
/// itself (`console.make_writer(writer)`) would count every line handed to
/// the queue, dropped or not, as written.
///
/// Cheap to clone (an `Arc`); clones and every `appender(name)` call with the
/// same name share the counters.
#[derive(Clone)]
pub struct AppenderMetrics {
    pub(crate) counters: Arc<Counters>,
}

impl fmt::Debug for AppenderMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppenderMetrics")
            .field("name", &self.counters.name)
            .field("lines", &self.lines())
            .field("bytes", &self.bytes())
            .finish_non_exhaustive()
    }
}

impl AppenderMetrics {
    /// The appender's name, its `appender` label value.
    pub fn name(&self) -> &str {
        &self.counters.name
    }

    /// Wraps an `io::Write` (a sink: stderr, a file, a
    /// `tracing_appender::rolling::RollingFileAppender`), for instance the
    /// one given to `tracing_appender::non_blocking`. Every clone of the
    /// returned writer counts into this appender.
    pub fn writer<W: Write>(&self, inner: W) -> CountingWriter<'static, W> {
        CountingWriter {
            inner,
            counters: Shared::Owned(self.counters.clone()),
        }
    }

    /// Wraps a [`MakeWriter`] for `fmt::layer().with_writer(..)`: a writer
    /// the formatter writes to directly (a blocking console or file). The
    /// writers it makes borrow the counters: no reference count per line.
    pub fn make_writer<M>(&self, inner: M) -> CountingMakeWriter<M>
    where
        M: for<'a> MakeWriter<'a>,
    {
        CountingMakeWriter {
            inner,
            counters: self.counters.clone(),
        }
    }

    /// Sets where `robustmq_log_appender_dropped_lines_total` reads the
    /// lines the appender dropped, called at each scrape (never on the write
    /// path). For `tracing_appender::non_blocking`:
    /// `let c = writer.error_counter(); appender.count_dropped(move || c.dropped_lines() as u64)`.
    ///
    /// One source per appender: a later call replaces the earlier one and
    /// keeps its last value, so the family never goes down when logging is
    /// set up again with a fresh counter. Lines whose write failed are added
    /// whatever the source.
    pub fn count_dropped<F>(&self, source: F)
    where
        F: Fn() -> u64 + Send + Sync + 'static,
    {
        self.counters.set_source(Box::new(source));
    }

    /// Lines written so far (what `robustmq_log_appender_lines_total` shows
    /// from its second scrape on).
    pub fn lines(&self) -> u64 {
        self.counters.lines()
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.counters.bytes()
    }

    /// Lines a [`LineLimit`](crate::LineLimit) kept from this appender so far.
    pub fn suppressed(&self) -> u64 {
        self.counters.suppressed()
    }

    /// Lines dropped so far: the source's count plus failed writes. Calls the
    /// source.
    pub fn dropped(&self) -> u64 {
        self.counters.dropped()
    }
}

/// Owned by a writer that outlives its maker, borrowed by one made per line.
#[derive(Debug)]
enum Shared<'a> {
    Owned(Arc<Counters>),
    Borrowed(&'a Counters),
}

impl Deref for Shared<'_> {
    type Target = Counters;

    #[inline]
    fn deref(&self) -> &Counters {
        match self {
            Shared::Owned(c) => c,
            Shared::Borrowed(c) => c,
        }
    }
}

/// An `io::Write` that counts the lines and bytes it hands to `W` into an
/// appender's counters; made by [`AppenderMetrics::writer`] (`'static`) or,
/// per line, by [`CountingMakeWriter`]. See [`AppenderMetrics`] for what a
/// line is.
#[derive(Debug)]
pub struct CountingWriter<'a, W> {
    inner: W,
    counters: Shared<'a>,
}

impl<W> CountingWriter<'_, W> {
    /// The wrapped writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }
}

impl<W: Write> CountingWriter<'_, W> {
    /// `write_all` of std (retry on `Interrupted`, a 0-byte write is an
    /// error), with the accepted bytes counted: returns them and the outcome.
    #[inline]
    fn write_bytes(&mut self, mut buf: &[u8]) -> (u64, io::Result<()>) {
        let mut written = 0u64;
        while !buf.is_empty() {
            match self.inner.write(buf) {
                Ok(0) => return (written, Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => {
                    written += n as u64;
                    // `get`, not indexing: a writer claiming more than it was
                    // given must not make the logging thread panic.
                    buf = buf.get(n..).unwrap_or_default();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (written, Err(e)),
            }
        }
        (written, Ok(()))
    }
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.counters.count_bytes(n);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let n = self.inner.write_vectored(bufs)?;
        self.counters.count_bytes(n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// One line: see [`AppenderMetrics`].
    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let (written, result) = self.write_bytes(buf);
        self.counters.count_line(written, &result);
        result
    }

    /// One line, however many pieces the format string has.
    fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        struct Pieces<'w, 'a, W> {
            writer: &'w mut CountingWriter<'a, W>,
            written: u64,
            error: Option<io::Error>,
        }
        impl<W: Write> fmt::Write for Pieces<'_, '_, W> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                let (written, result) = self.writer.write_bytes(s.as_bytes());
                self.written += written;
                result.map_err(|e| {
                    self.error = Some(e);
                    fmt::Error
                })
            }
        }
        let mut pieces = Pieces {
            writer: self,
            written: 0,
            error: None,
        };
        let result = match fmt::write(&mut pieces, args) {
            Ok(()) => Ok(()),
            // A `Display` impl that failed on its own, as std reports it.
            Err(fmt::Error) => Err(pieces
                .error
                .take()
                .unwrap_or_else(|| io::ErrorKind::Other.into())),
        };
        let written = pieces.written;
        self.counters.count_line(written, &result);
        result
    }
}

/// A [`MakeWriter`] whose writers count into an appender; made by
/// [`AppenderMetrics::make_writer`]. Keeps `make_writer_for` of the wrapped
/// maker, so level-dependent makers (`with_max_level`, `or_else`) still work.
#[derive(Clone)]
pub struct CountingMakeWriter<M> {
    inner: M,
    counters: Arc<Counters>,
}

impl<M> fmt::Debug for CountingMakeWriter<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountingMakeWriter")
            .field("appender", &self.counters.name)
            .finish_non_exhaustive()
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for CountingMakeWriter<M> {
    type Writer = CountingWriter<'a, M::Writer>;

    #[inline]
    fn make_writer(&'a self) -> Self::Writer {
        CountingWriter {
            inner: self.inner.make_writer(),
            counters: Shared::Borrowed(&self.counters),
        }
    }

    #[inline]
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        CountingWriter {
            inner: self.inner.make_writer_for(meta),
            counters: Shared::Borrowed(&self.counters),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn appender(name: &str) -> (AppenderTable, AppenderMetrics) {
        let table = AppenderTable::default();
        let metrics = table.register(name).unwrap();
        (table, metrics)
    }

    /// Accepts at most `chunk` bytes per write, fails after `fail_after`
    /// bytes, and returns `Interrupted` once before every write.
    struct Flaky {
        got: Vec<u8>,
        chunk: usize,
        fail_after: usize,
        interrupt: bool,
    }

    impl Write for Flaky {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.interrupt {
                self.interrupt = false;
                return Err(io::ErrorKind::Interrupted.into());
            }
            self.interrupt = true;
            let room = self.fail_after.saturating_sub(self.got.len());
            if room == 0 {
                return Err(io::ErrorKind::StorageFull.into());
            }
            let n = buf.len().min(self.chunk).min(room);
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_is_one_write_all_and_bytes_are_what_the_writer_accepted() {
        let (_table, m) = appender("file");
        let mut w = m.writer(Flaky {
            got: Vec::new(),
            chunk: 3,
            fail_after: 20,
            interrupt: true,
        });
        w.write_all(b"0123456789\n").unwrap();
        assert_eq!((m.lines(), m.bytes(), m.dropped()), (1, 11, 0));
        // 9 of these 11 bytes fit before the writer fails: a dropped line,
        // whose accepted bytes still count.
        let err = w.write_all(b"abcdefghij\n").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!((m.lines(), m.bytes(), m.dropped()), (1, 20, 1));
        assert_eq!(w.get_ref().got.len(), 20);
    }

    #[test]
    fn write_fmt_is_one_line_and_plain_writes_are_bytes_only() {
        let (_table, m) = appender("console");
        let mut w = m.writer(Vec::new());
        // Five pieces (three arguments, two literals, a newline): one line.
        let two = String::from("two");
        writeln!(w, "{} {} {}", 1, two, 3.5).unwrap();
        assert_eq!((m.lines(), m.bytes()), (1, 10));
        assert_eq!(w.write(b"abc").unwrap(), 3);
        let n = w
            .write_vectored(&[IoSlice::new(b"de"), IoSlice::new(b"f")])
            .unwrap();
        w.flush().unwrap();
        assert_eq!((m.lines(), m.bytes()), (1, 13 + n as u64));
        assert_eq!(w.get_ref().as_slice(), &b"1 two 3.5\nabcdef"[..13 + n]);
    }

    #[test]
    fn a_zero_byte_write_is_an_error_and_a_drop() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Ok(0)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let (_table, m) = appender("full");
        let err = m.writer(Full).write_all(b"x\n").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        assert_eq!((m.lines(), m.bytes(), m.dropped()), (0, 0, 1));
    }

    #[test]
    fn make_writer_counts_into_the_same_appender() {
        let (table, m) = appender("console");
        let make = m.make_writer(std::io::sink);
        for _ in 0..3 {
            make.make_writer().write_all(b"line\n").unwrap();
        }
        let again = table.register("console").unwrap();
        assert_eq!((again.lines(), again.bytes()), (3, 15));
        assert!(format!("{make:?}").contains("console"));
    }

    #[test]
    fn dropped_source_is_read_at_scrape_and_never_goes_down() {
        let (_table, m) = appender("file");
        assert_eq!(m.dropped(), 0);
        let first = Arc::new(AtomicU64::new(5));
        let f = first.clone();
        m.count_dropped(move || f.load(Ordering::Relaxed));
        assert_eq!(m.dropped(), 5);
        first.store(7, Ordering::Relaxed);
        assert_eq!(m.dropped(), 7);
        // Logging set up again: a fresh counter starts at 0, the family goes on at 7.
        let second = Arc::new(AtomicU64::new(0));
        let s = second.clone();
        m.count_dropped(move || s.load(Ordering::Relaxed));
        assert_eq!(m.dropped(), 7);
        second.store(2, Ordering::Relaxed);
        assert_eq!(m.dropped(), 9);
    }

    #[test]
    fn names_are_bounded_and_the_same_name_is_the_same_appender() {
        let table = AppenderTable::default();
        let a = table.register("server").unwrap();
        let b = table.register("server").unwrap();
        a.writer(Vec::new()).write_all(b"x").unwrap();
        assert_eq!(b.lines(), 1);
        for (name, reason) in [("", "empty"), (&"x".repeat(65)[..], "64 bytes")] {
            match table.register(name) {
                Err(Error::InvalidAppenderName { name: n, reason: r }) => {
                    assert_eq!(n, name);
                    assert!(r.contains(reason), "{r}");
                }
                other => panic!("{name:?}: {other:?}"),
            }
        }
        assert!(table.register(&"é".repeat(32)).is_ok());
        for i in 2..MAX_APPENDERS {
            table.register(&format!("a{i}")).unwrap();
        }
        match table.register("one-too-many") {
            Err(e @ Error::TooManyAppenders { .. }) => {
                assert!(e.to_string().contains("\"one-too-many\""), "{e}");
            }
            other => panic!("{other:?}"),
        }
        // An existing name is still found when the table is full.
        assert!(table.register("server").is_ok());
        assert_eq!(table.iter().count(), MAX_APPENDERS);
    }
}
