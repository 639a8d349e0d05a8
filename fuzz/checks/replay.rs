//! Replays the inputs kept under `fuzz/regressions/TARGET/` (those that once crashed a
//! fuzz target, and hand-made hostile ones) through the target's own checks, for the
//! `fuzz_regressions` tests of glou-proto and glou-core.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// Runs `check` on every file of `fuzz/regressions/<target>/`; panics naming the files
/// it panicked on, or if there are none (an empty directory must not pass).
pub fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no inputs in {}", dir.display());
    let failed: Vec<_> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).unwrap();
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target} failed on {failed:?}");
}
