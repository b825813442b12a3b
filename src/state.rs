//! The operator's memory, under `.dialtone/` at the workspace root: verdicts
//! cached by content hash, how many hints each chapter has shown, the starter
//! files and the backups `reset` keeps.
//!
//! Every file is written whole to a temporary name and renamed into place, so
//! Ctrl-C (or a crash) at any moment leaves either the old or the new version,
//! never half of one. The cache is only a cache: if it's lost, the next check
//! rebuilds it.

use crate::check::cache::Key;
use crate::workspace::{hash_bytes, Workspace};
use dialtone_kit::check;
use dialtone_kit::course::Chapter;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// What one run of a self-check came to: the check's own verdict, or what
/// kept it from giving one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Outcome {
    /// The check ran to its end and gave its verdict.
    Judged { verdict: check::Verdict },
    /// The learner's file doesn't compile; the compiler's words.
    CompileError { text: String },
    /// The check ran past its hard limit and was stopped.
    Stopped { secs: u64 },
    /// The check's process died before it could give a verdict.
    Crashed { how: String },
    /// The slow path's verdict: `cargo test`'s own report.
    Report { passed: bool, text: String },
    /// The chapter has no self-check yet (it is still being written).
    NoCheck,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        match self {
            Outcome::Judged { verdict } => verdict.passed(),
            Outcome::Report { passed, .. } => *passed,
            _ => false,
        }
    }

    /// The check's failure, when it gave one.
    pub fn failure(&self) -> Option<&check::Details> {
        match self {
            Outcome::Judged { verdict } => verdict.failure(),
            _ => None,
        }
    }
}

/// What one check run recorded: its outcome and what the learner's code
/// printed on the way.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub outcome: Outcome,
    /// The learner's own prints, capped (see `kit::child::OUTPUT_CAP`).
    #[serde(default)]
    pub output: String,
}

impl Record {
    pub fn new(outcome: Outcome) -> Record {
        Record::with_output(outcome, String::new())
    }

    pub fn with_output(outcome: Outcome, output: String) -> Record {
        Record { outcome, output }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    learner_hash: String,
    check_hash: String,
    verdict: Record,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    #[serde(default)]
    chapter: BTreeMap<String, Entry>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Hints {
    /// Chapter id -> how many hints have been shown.
    #[serde(default)]
    shown: BTreeMap<String, usize>,
}

/// One process's read-modify-write of a state file at a time (verify checks
/// chapters in parallel threads).
static STATE_LOCK: Mutex<()> = Mutex::new(());

pub struct State<'w> {
    ws: &'w Workspace,
}

impl<'w> State<'w> {
    pub fn new(ws: &'w Workspace) -> Self {
        State { ws }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.ws.state_dir().join(name)
    }

    /// The cached record for exactly this learner file and check code.
    pub fn cached(&self, ch: &Chapter, key: &Key) -> Option<Record> {
        let progress: Progress = read_toml(&self.path("progress.toml"));
        progress
            .chapter
            .get(&ch.id())
            .filter(|e| e.learner_hash == key.learner_hash && e.check_hash == key.check_hash)
            .map(|e| e.verdict.clone())
    }

    /// Whether any record was kept for `ch`, whatever file it was for (the
    /// board says "edited since" when it was for another).
    pub fn checked_before(&self, ch: &Chapter) -> bool {
        let progress: Progress = read_toml(&self.path("progress.toml"));
        progress.chapter.contains_key(&ch.id())
    }

    pub fn remember(&self, ch: &Chapter, key: &Key, record: &Record) {
        let _guard = STATE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.path("progress.toml");
        let mut progress: Progress = read_toml(&path);
        progress.chapter.insert(
            ch.id(),
            Entry {
                learner_hash: key.learner_hash.clone(),
                check_hash: key.check_hash.clone(),
                verdict: record.clone(),
            },
        );
        // A cache that can't be written only costs a recompile next time.
        let _ = write_toml(&path, &progress);
    }

    /// How many of the chapter's hints were shown so far.
    pub fn hints_shown(&self, ch: &Chapter) -> usize {
        let hints: Hints = read_toml(&self.path("hints.toml"));
        hints.shown.get(&ch.id()).copied().unwrap_or(0)
    }

    pub fn set_hints_shown(&self, ch: &Chapter, n: usize) -> std::io::Result<()> {
        let _guard = STATE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.path("hints.toml");
        let mut hints: Hints = read_toml(&path);
        hints.shown.insert(ch.id(), n);
        write_toml(&path, &hints)
    }

    pub fn starter_path(&self, ch: &Chapter) -> PathBuf {
        self.path("starters").join(format!("{}.rs", ch.id()))
    }

    pub fn backup_path(&self, ch: &Chapter) -> PathBuf {
        self.path("backups").join(format!("{}.rs", ch.id()))
    }

    /// Remembers that `ch` was the last chapter reset, for `reset --undo`
    /// without a chapter number.
    pub fn set_last_reset(&self, ch: &Chapter) -> std::io::Result<()> {
        write_atomic(&self.path("backups/last"), ch.number.to_string().as_bytes())
    }

    /// The chapter the last reset was of, if its backup is still there.
    pub fn last_reset(&self) -> Option<u32> {
        let n = fs::read_to_string(self.path("backups/last")).ok()?;
        n.trim().parse().ok()
    }

    /// Keeps a copy of each learner file while it is still the starter (every
    /// task still a `todo!()`), so `reset` can bring it back and the board can
    /// tell "not started" from "started" without git. The copy is tied to the
    /// chapter's own code: when a new version of the chapter arrives (a `git
    /// pull` that replaces a stub), its new starter is kept instead.
    pub fn capture_starters(&self) {
        for ch in &self.ws.course.chapters {
            let keep = self.starter_path(ch);
            let key_path = keep.with_extension("key");
            let key = self.ws.check_fingerprint(ch);
            if keep.exists() && fs::read_to_string(&key_path).is_ok_and(|k| k == key) {
                continue;
            }
            let Some(text) = self.ws.read_learner(ch) else {
                continue;
            };
            if looks_untouched(ch, &text) && write_atomic(&keep, &text).is_ok() {
                let _ = write_atomic(&key_path, key.as_bytes());
            }
        }
    }

    /// The starter's content, if the operator has seen it.
    pub fn starter(&self, ch: &Chapter) -> Option<Vec<u8>> {
        fs::read(self.starter_path(ch)).ok()
    }

    pub fn starter_hash(&self, ch: &Chapter) -> Option<String> {
        self.starter(ch).map(|s| hash_bytes(&s))
    }
}

/// A learner file that still has a `todo!()` for every task.
pub fn looks_untouched(ch: &Chapter, text: &[u8]) -> bool {
    let text = String::from_utf8_lossy(text);
    ch.tasks
        .iter()
        .all(|t| text.contains(&format!("todo!(\"{}\")", t.function)) || text.contains("todo!()"))
}

fn read_toml<T: Default + for<'de> Deserialize<'de>>(path: &Path) -> T {
    // A missing or damaged state file (an old format, a hand edit) means "no
    // memory yet": the operator rebuilds it rather than refusing to work.
    fs::read_to_string(path)
        .ok()
        .and_then(|s| toml::from_str(&s).ok())
        .unwrap_or_default()
}

fn write_toml<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let text = toml::to_string(value).map_err(std::io::Error::other)?;
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `path` so that a reader (or a Ctrl-C) sees the old file or
/// the new one, never a half-written one: write a temporary sibling, then
/// rename it over the target (rename is atomic on one filesystem). Caches skip
/// the flush to disk: losing one to a power cut only costs a recompile.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, false)
}

/// Like [`write_atomic`], and flushed to disk before the rename: for the
/// learner's own files and their backups, which are not a cache.
pub fn write_durable(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_replacing(path, bytes, true)
}

fn write_replacing(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
