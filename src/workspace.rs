//! The learner's workspace: where it is, what course it holds, and the
//! fingerprints that let the operator skip work whose result can't have changed.
//!
//! The course is read from the workspace's own `course.toml` at run time (not
//! the copy compiled into the operator), so a chapter added to the file shows
//! up without rebuilding the tool, and `--root` can point at any copy.

use dialtone_kit::course::{Chapter, Course};
use std::fs;
use std::path::{Path, PathBuf};

pub struct Workspace {
    pub root: PathBuf,
    pub course: Course,
    shared: std::sync::OnceLock<String>,
    /// Where the operator's state lives: `.dialtone/` in the workspace,
    /// unless a command asked for a folder of its own ([`Self::keep_state_in`]).
    state: PathBuf,
}

impl Workspace {
    /// Finds the workspace: `--root`, else `DIALTONE_ROOT`, else the nearest
    /// folder above the current one holding `course.toml`, else the one this
    /// operator was built from.
    pub fn find(root: Option<PathBuf>) -> Result<Workspace, String> {
        let root = match root.or_else(|| std::env::var_os("DIALTONE_ROOT").map(PathBuf::from)) {
            Some(r) => r,
            None => std::env::current_dir()
                .ok()
                .and_then(|cwd| {
                    cwd.ancestors()
                        .find(|d| d.join("course.toml").is_file() && d.join("Cargo.toml").is_file())
                        .map(Path::to_path_buf)
                })
                .unwrap_or_else(dialtone_kit::course::workspace_root),
        };
        let root = root
            .canonicalize()
            .map_err(|e| format!("can't open the workspace {}: {e}", root.display()))?;
        let toml_path = root.join("course.toml");
        let text = fs::read_to_string(&toml_path).map_err(|e| {
            format!(
                "{} has no readable course.toml ({e}); pass the course folder with --root",
                root.display()
            )
        })?;
        let course = Course::parse(&text)?;
        Ok(Workspace {
            state: root.join(".dialtone"),
            root,
            course,
            shared: std::sync::OnceLock::new(),
        })
    }

    pub fn chapter(&self, number: u32) -> Option<&Chapter> {
        self.course.chapter(number)
    }

    /// Where the operator keeps its private state (progress, hints, backups,
    /// the compiled checks).
    pub fn state_dir(&self) -> PathBuf {
        self.state.clone()
    }

    /// Keeps this run's state in `dir` instead of the workspace's
    /// `.dialtone/`: a teacher's `verify` of a student's copy must leave that
    /// copy as it found it.
    pub fn keep_state_in(&mut self, dir: PathBuf) {
        self.state = dir;
    }

    pub fn learner_file(&self, ch: &Chapter) -> PathBuf {
        self.root.join(ch.learner_path())
    }

    pub fn read_learner(&self, ch: &Chapter) -> Option<Vec<u8>> {
        fs::read(self.learner_file(ch)).ok()
    }

    /// Whether the chapter's crate has a self-check yet (chapters being
    /// written start as stubs without one).
    pub fn has_check(&self, ch: &Chapter) -> bool {
        let dir = self.root.join(ch.dir());
        dir.join("src/check.rs").is_file()
            || fs::read_to_string(dir.join("src/lib.rs")).is_ok_and(|s| s.contains("mod check"))
    }

    /// A hash of everything a chapter's verdict depends on besides the
    /// learner's file: the chapter's own code, the kit, the course metadata
    /// and the locked dependency versions.
    pub fn check_fingerprint(&self, ch: &Chapter) -> String {
        let mut h = Hasher::new();
        let learner = self.learner_file(ch);
        let chapter_dir = self.root.join(ch.dir());
        hash_tree(&mut h, &chapter_dir.join("src"), Some(&learner));
        hash_file(&mut h, &chapter_dir.join("Cargo.toml"));
        // The shared files once per run, not once per chapter.
        let shared = self.shared.get_or_init(|| {
            let mut s = Hasher::new();
            self.hash_shared(&mut s);
            s.hex()
        });
        h.write(shared.as_bytes());
        h.hex()
    }

    /// The files every chapter's compiled check depends on.
    pub fn hash_shared(&self, h: &mut Hasher) {
        hash_tree(h, &self.root.join("kit/src"), None);
        for f in ["kit/Cargo.toml", "course.toml", "Cargo.lock", "Cargo.toml"] {
            hash_file(h, &self.root.join(f));
        }
    }

    /// `path` relative to the workspace root, as a learner would type it.
    pub fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }
}

/// Hashes every file under `dir` in name order, skipping `except`.
pub fn hash_tree(h: &mut Hasher, dir: &Path, except: Option<&Path>) {
    let Ok(entries) = fs::read_dir(dir) else {
        h.write(b"<no dir>");
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if Some(p.as_path()) == except {
            continue;
        }
        if p.is_dir() {
            hash_tree(h, &p, except);
        } else {
            h.write(
                p.file_name()
                    .map(|n| n.as_encoded_bytes())
                    .unwrap_or_default(),
            );
            hash_file(h, &p);
        }
    }
}

pub fn hash_file(h: &mut Hasher, path: &Path) {
    match fs::read(path) {
        Ok(bytes) => {
            h.write(&(bytes.len() as u64).to_le_bytes());
            h.write(&bytes);
        }
        Err(_) => h.write(b"<missing>"),
    }
}

/// FNV-1a, 128 bits: stable across Rust versions and runs (unlike std's
/// `DefaultHasher`), which a cache on disk needs, and plenty against accidental
/// collisions between two versions of one small file.
pub struct Hasher(u128);

impl Hasher {
    pub fn new() -> Self {
        Hasher(0x6c62272e07bb014262b821756295c58d)
    }
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(0x0000000001000000000000000000013B);
        }
    }
    pub fn hex(&self) -> String {
        format!("{:032x}", self.0)
    }
}

impl Default for Hasher {
    fn default() -> Self {
        Self::new()
    }
}

pub fn hash_bytes(bytes: &[u8]) -> String {
    let mut h = Hasher::new();
    h.write(bytes);
    h.hex()
}
