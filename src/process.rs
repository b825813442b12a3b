//! The operator's own process: Ctrl-C and a closed terminal handled on one
//! thread, and private scratch folders for the programs it runs. Running a
//! program under a time limit is `dialtone_kit::child`, shared with the test
//! suites.

use dialtone_kit::child;
use nix::sys::signal::Signal;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

/// Scratch folders in use, for Ctrl-C to remove.
static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Time since the operator started (for `check::trace`).
pub fn since_start() -> Duration {
    START.get_or_init(std::time::Instant::now).elapsed()
}
static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Kills every running child group and removes scratch folders: Ctrl-C's
/// clean-up, also used by watch's `q`.
pub fn abort_all() {
    child::abort_all();
    for dir in lock(&SCRATCH).drain(..) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A private temporary folder for one check run: the child's working folder
/// and `TMPDIR`, so any socket file or scratch file it leaves is removed with it.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> std::io::Result<Scratch> {
        use std::sync::atomic::AtomicU32;
        static N: AtomicU32 = AtomicU32::new(0);
        // Short and under the system temp folder: Unix socket paths are
        // limited to about 100 bytes.
        let dir = std::env::temp_dir().join(format!(
            "dialtone-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        lock(&SCRATCH).push(dir.clone());
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
        lock(&SCRATCH).retain(|d| *d != self.0);
    }
}

/// Blocks Ctrl-C, `kill` and a closed terminal in every thread and handles
/// them on one thread: kill the running checks, tidy up, leave. State files
/// are written atomically, so leaving at any moment keeps progress intact.
/// Call first thing in `main`, before any thread starts: threads inherit the
/// mask, and so would children (the standard library does not reset it),
/// which is why `kit::child::run` starts them from a thread that has
/// unblocked these signals.
pub fn handle_interrupts(on_exit: fn()) {
    since_start();
    use nix::sys::signal::SigSet;
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    if set.thread_block().is_err() {
        return;
    }
    thread::spawn(move || {
        if let Ok(sig) = set.wait() {
            abort_all();
            on_exit();
            std::process::exit(128 + sig as i32);
        }
    });
}
