//! Running a chapter's self-check on the learner's file, fast, in one pass:
//! the command asks, the [`cache`] answers if it can, else the check is
//! [`build`]t and the [`driver`] judges, the [`State`] remembers, and the
//! board reads what it remembered.
//!
//! The slow way is `cargo test -p chNN-slug`: cargo's own start-up, then the
//! chapter library (which includes the learner's file), the test binary and a
//! link. But a chapter's check takes the learner's functions as fn pointers
//! (`check::Answer`), so the compiled check doesn't depend on the learner's
//! code at all. The fast path builds every chapter library once, with the
//! reference answer in it (`--features solution`, see [`artifacts`]), and
//! then, per edit, asks `rustc` for one tiny [`driver`] linked against those
//! prebuilt libraries: one small compilation per edit, no cargo. Anything
//! the fast path can't handle falls back to `cargo test` ([`slow`]).

mod artifacts;
mod build;
pub mod cache;
mod cargo;
mod compiler_output;
mod driver;
mod slow;

use crate::state::{Outcome, Record, State};
use crate::workspace::Workspace;
use artifacts::Artifacts;
use build::Built;
use cache::Key;
use dialtone_kit::course::Chapter;
use std::sync::Mutex;

/// The way a check went, for `--verbose` and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// The file hasn't changed since its last verdict.
    Cached,
    /// A driver compiled against the prebuilt chapter libraries.
    Fast,
    /// `cargo test -p chNN-slug`.
    Cargo,
    /// The chapter has no self-check yet.
    NoCheck,
}

/// A check's record and the way it went.
pub struct Checked {
    pub record: Record,
    pub route: Route,
}

pub struct Checker<'w> {
    ws: &'w Workspace,
    artifacts: Mutex<Option<Artifacts>>,
    /// Called with a line to show while preparing (the first build is slow).
    note: fn(&str),
}

impl<'w> Checker<'w> {
    pub fn new(ws: &'w Workspace, note: fn(&str)) -> Self {
        Checker {
            ws,
            artifacts: Mutex::new(None),
            note,
        }
    }

    /// Checks chapter `ch` as its learner file is now: cached by content
    /// unless `fresh`.
    pub fn check(&self, ch: &Chapter, fresh: bool) -> Result<Checked, String> {
        let key = Key::now(self.ws, ch)?;
        let state = State::new(self.ws);
        if let Some(record) = state.cached(ch, &key).filter(|_| !fresh) {
            let route = Route::Cached;
            return Ok(Checked { record, route });
        }
        let (record, route) = if !self.ws.has_check(ch) {
            (Record::new(Outcome::NoCheck), Route::NoCheck)
        } else if let Some(record) = self.fast(ch, &key) {
            (record, Route::Fast)
        } else {
            (slow::check(self.ws, ch, self.note)?, Route::Cargo)
        };
        state.remember(ch, &key, &record);
        Ok(Checked { record, route })
    }

    /// The cached record for the learner file as it is now, if any.
    pub fn cached(&self, ch: &Chapter) -> Option<Record> {
        let key = Key::now(self.ws, ch).ok()?;
        State::new(self.ws).cached(ch, &key)
    }

    /// The fast path, or `None` when it can't be used (then cargo decides).
    fn fast(&self, ch: &Chapter, key: &Key) -> Option<Record> {
        if std::env::var_os("DIALTONE_SLOW").is_some() {
            return None;
        }
        for attempt in 0..2 {
            let arts = self.artifacts(attempt > 0)?;
            match build::driver(self.ws, &arts, ch, key) {
                Built::Program(binary) => return driver::judge(ch, &binary),
                Built::CompileError(text) => {
                    return Some(Record::new(Outcome::CompileError { text }))
                }
                // Libraries built by another toolchain or since removed:
                // rebuild them once and try again.
                Built::Stale => continue,
                Built::Unavailable => return None,
            }
        }
        None
    }

    fn artifacts(&self, rebuild: bool) -> Option<Artifacts> {
        let mut slot = self.artifacts.lock().unwrap_or_else(|p| p.into_inner());
        if rebuild || slot.is_none() {
            *slot = artifacts::prepare(self.ws, rebuild, self.note);
        }
        slot.clone()
    }
}

/// With `DIALTONE_TRACE` set, prints when each stage of a check ends (on
/// stderr, in ms since the operator started): for the benchmark and for
/// finding where time goes.
pub fn trace(stage: &str) {
    use std::sync::OnceLock;
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("DIALTONE_TRACE").is_some()) {
        eprintln!(
            "[trace {:>6.1} ms] {stage}",
            crate::process::since_start().as_secs_f64() * 1000.0
        );
    }
}
