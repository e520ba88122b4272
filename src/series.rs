//! Counter storage: the series table, each series' per-thread counter cells,
//! and how long they live.
//!
//! A series is never removed: it lives in an append-only [`boxcar::Vec`] owned
//! by the instance, so a [`SeriesId`] is an index that stays valid as long as
//! the instance, and a scrape walks the table without taking a lock that
//! logging takes.
//!
//! A series' count is the sum of its cells plus one shared atomic for events
//! counted without a thread cache. A cell has one writer at a time: the thread
//! that claimed it increments with a plain load and store (no locked
//! instruction, no cache line shared with another writer). When that thread
//! exits it releases the cell; the next thread to need a cell of this series
//! claims it and continues its count, so the number of cells is bounded by
//! the threads alive at once, not by the threads ever started.

use std::sync::Arc;

#[cfg(loom)]
use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Index of a series in its [`SeriesTable`].
pub(crate) type SeriesId = usize;

/// Which family a series belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// `robustmq_log_events_total{level,service,event}`
    Events,
    /// `robustmq_log_label_overflow_total{service}`
    Overflow,
}

/// One thread's share of one series' count.
///
/// Aligned to a cache line so that two threads' cells never share one (false
/// sharing tripled the per-thread cost of two threads logging different
/// callsites in `benches/overhead.rs`).
#[repr(align(64))]
#[derive(Debug)]
pub(crate) struct Cell {
    count: AtomicU64,
    claimed: AtomicBool,
}

impl Cell {
    /// A cell no series lists, so what it counts is never read: the
    /// placeholder in a callsite's memo before its first count.
    pub(crate) fn unlisted() -> Self {
        Self::claimed()
    }

    fn claimed() -> Self {
        Self {
            count: AtomicU64::new(0),
            claimed: AtomicBool::new(true),
        }
    }

    /// Adds one. Only the thread that claimed the cell calls this.
    #[inline]
    pub(crate) fn increment(&self) {
        // One writer: load + store is exact and avoids a locked instruction.
        // Relaxed is enough for readers, who only need some recent value.
        self.count.store(
            self.count.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// Gives the cell back, so that another thread can continue its count.
    pub(crate) fn release(&self) {
        // Release pairs with the Acquire in `try_claim`: the next owner's
        // first load sees this owner's last store.
        self.claimed.store(false, Ordering::Release);
    }

    fn try_claim(&self) -> bool {
        self.claimed
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn value(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// One exposed series: its labels (not yet escaped) and its count.
#[derive(Debug)]
pub(crate) struct Series {
    pub(crate) family: Family,
    /// Index into [`LEVEL_NAMES`](crate::labels::LEVEL_NAMES); `None` for the overflow family.
    pub(crate) level: Option<usize>,
    pub(crate) service: Arc<str>,
    /// `None` for the overflow family.
    pub(crate) event: Option<Box<str>>,
    /// Events counted without a thread cell: re-entrant events, events logged
    /// during thread exit, and values a cap has dropped (caching those would
    /// let a flood of new values grow every thread's cache).
    uncached: AtomicU64,
    cells: boxcar::Vec<Arc<Cell>>,
    /// Milliseconds after the instance's epoch, plus one, when a scrape first
    /// showed this series; 0 = never shown. Read and written by the exposition.
    pub(crate) first_shown: AtomicU64,
}

impl Series {
    /// The exact count so far.
    pub(crate) fn total(&self) -> u64 {
        self.cells
            .iter()
            .fold(self.uncached.load(Ordering::Relaxed), |sum, (_, c)| {
                sum.wrapping_add(c.value())
            })
    }

    /// Adds `n` without a cell (a locked add on a shared line: the slow path).
    pub(crate) fn add_uncached(&self, n: u64) {
        self.uncached.fetch_add(n, Ordering::Relaxed);
    }

    /// Claims a released cell, continuing its count, or adds a new one.
    pub(crate) fn claim_cell(&self) -> Arc<Cell> {
        for (_, cell) in self.cells.iter() {
            if cell.try_claim() {
                return cell.clone();
            }
        }
        let cell = Arc::new(Cell::claimed());
        self.cells.push(cell.clone());
        cell
    }

    /// How many cells this series has, claimed or released.
    #[cfg(test)]
    pub(crate) fn cell_count(&self) -> usize {
        self.cells.count()
    }
}

/// Every series of one instance, oldest first.
#[derive(Debug, Default)]
pub(crate) struct SeriesTable {
    series: boxcar::Vec<Series>,
}

impl SeriesTable {
    /// Appends a series at 0 and returns its id.
    pub(crate) fn add(
        &self,
        family: Family,
        level: Option<usize>,
        service: Arc<str>,
        event: Option<&str>,
    ) -> SeriesId {
        self.series.push(Series {
            family,
            level,
            service,
            event: event.map(Into::into),
            uncached: AtomicU64::new(0),
            cells: boxcar::Vec::new(),
            first_shown: AtomicU64::new(0),
        })
    }

    /// The series with this id. Ids come from [`add`](Self::add), so this is
    /// `None` only for an id of another table.
    pub(crate) fn get(&self, id: SeriesId) -> Option<&Series> {
        self.series.get(id)
    }

    /// Every series, oldest first, without taking a lock.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Series> {
        self.series.iter().map(|(_, s)| s)
    }

    /// How many series exist.
    pub(crate) fn len(&self) -> usize {
        self.series.count()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn released_cells_are_claimed_again_with_their_count() {
        let table = SeriesTable::default();
        let id = table.add(Family::Events, Some(0), "svc".into(), Some("e"));
        let s = table.get(id).unwrap();
        let a = s.claim_cell();
        a.increment();
        a.increment();
        // A second claimer while the first holds its cell gets a new one.
        let b = s.claim_cell();
        b.increment();
        assert_eq!(s.cell_count(), 2);
        a.release();
        let c = s.claim_cell();
        assert!(Arc::ptr_eq(&a, &c), "the released cell is reused");
        c.increment();
        s.add_uncached(10);
        assert_eq!(s.cell_count(), 2);
        assert_eq!(s.total(), 14);
    }
}

/// The claim / release / hand-over protocol under every interleaving loom
/// explores: counts are never lost, and a cell never has two owners.
/// Run with `RUSTFLAGS="--cfg loom" cargo test --release --lib loom`.
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use loom::sync::Mutex;

    /// A series' cell list, as in `Series`, with loom's mutex standing in
    /// for boxcar's append (boxcar is loom-tested by its authors).
    struct Cells(Mutex<Vec<Arc<Cell>>>);

    impl Cells {
        fn claim(&self) -> Arc<Cell> {
            let mut list = self.0.lock().unwrap();
            for cell in list.iter() {
                if cell.try_claim() {
                    return cell.clone();
                }
            }
            let cell = Arc::new(Cell::claimed());
            list.push(cell.clone());
            cell
        }
        fn total(&self) -> u64 {
            self.0.lock().unwrap().iter().map(|c| c.value()).sum()
        }
    }

    #[test]
    fn loom_hand_over_keeps_every_count() {
        loom::model(|| {
            let cells = Arc::new(Cells(Mutex::new(Vec::new())));
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let cells = cells.clone();
                    loom::thread::spawn(move || {
                        // A thread's life: claim, count, release at exit.
                        let cell = cells.claim();
                        cell.increment();
                        cell.increment();
                        cell.release();
                    })
                })
                .collect();
            // A scraper reading while the workers run sees at most the final total.
            let seen = cells.total();
            assert!(seen <= 4);
            for w in workers {
                w.join().unwrap();
            }
            assert_eq!(cells.total(), 4);
            // Released cells are reused: one more thread adds no cell.
            let n = cells.0.lock().unwrap().len();
            let cell = cells.claim();
            cell.increment();
            assert_eq!(cells.0.lock().unwrap().len(), n);
            assert_eq!(cells.total(), 5);
        });
    }
}
