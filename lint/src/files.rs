//! Which files to read, which crate each belongs to, and reading them in
//! parallel on threads with a parser-sized stack.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use walkdir::WalkDir;

use crate::source::PARSER_STACK_BYTES;

/// `.rs` files under `root` (or `root` itself), skipping build output
/// (`target`), `node_modules`, hidden folders and symlinks; sorted by path.
pub fn rust_files(root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || !(e.file_type().is_dir()
                    && e.file_name().to_str().is_some_and(|n| {
                        n == "target" || n == "node_modules" || n.starts_with('.')
                    }))
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "rs"))
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

/// Remembers, per folder, the package that a `Cargo.toml` there names.
#[derive(Debug, Default)]
pub struct CrateNames {
    by_dir: HashMap<PathBuf, Option<String>>,
}

#[derive(serde::Deserialize)]
struct Manifest {
    package: Option<Package>,
}

#[derive(serde::Deserialize)]
struct Package {
    name: String,
}

impl CrateNames {
    /// The package a file belongs to: the nearest folder above it with a
    /// `Cargo.toml` that has a `[package]` (a workspace-only manifest is passed
    /// over); `(no crate)` when there is none.
    pub fn of(&mut self, file: &Path) -> String {
        let mut dir = file.parent();
        while let Some(d) = dir {
            let name = self
                .by_dir
                .entry(d.to_owned())
                .or_insert_with(|| {
                    let text = std::fs::read_to_string(d.join("Cargo.toml")).ok()?;
                    let m: Manifest = toml::from_str(&text).ok()?;
                    m.package.map(|p| p.name)
                })
                .clone();
            if let Some(n) = name {
                return n;
            }
            dir = d.parent();
        }
        "(no crate)".to_owned()
    }
}

/// One-off form of [`CrateNames::of`].
pub fn crate_of(file: &Path) -> String {
    CrateNames::default().of(file)
}

/// Applies `f` to every file on worker threads whose stacks are
/// [`PARSER_STACK_BYTES`] deep; results come back in the files' order. A panic
/// in `f` becomes an `Err` with its message for that file alone.
pub fn map_files<T: Send>(
    files: &[PathBuf],
    f: impl Fn(&Path) -> T + Sync,
) -> Vec<Result<T, String>> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        .min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<T, String>>>> =
        files.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            std::thread::Builder::new()
                .name("robustmq-log-lint-worker".into())
                .stack_size(PARSER_STACK_BYTES)
                .spawn_scoped(s, || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let r = catch_unwind(AssertUnwindSafe(|| f(file))).map_err(|p| {
                        p.downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| p.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "panic".to_owned())
                    });
                    // The span table of a thread that panicked mid-parse is stale.
                    proc_macro2::extra::invalidate_current_thread_spans();
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                })
                .expect("spawn a lint worker thread");
        }
    });
    slots
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| Err("not processed".to_owned()))
        })
        .collect()
}
